// WebdriverIO configuration. For now one virtual (or real) handset named by V6LAB_SERIAL, driven
// through the project's Appium driver (drivers/v6lab-virtual, installed into .appium/ by
// scripts/appium-setup.js); the Appium server is started here and stopped by its pid. Without
// V6LAB_SERIAL there is no capability and `wdio` stops at once ("Missing capabilities").
// Profiles will build the capability list later (issue 4).
//
//   V6LAB_SERIAL=emulator-5554 ANDROID_ADB_SERVER_PORT=5037 npx wdio run wdio.conf.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = import.meta.dirname;
const serial = process.env.V6LAB_SERIAL;
/** The adb server the driver asks for the handset. @default ANDROID_ADB_SERVER_PORT, else 5037 */
const adbPort = Number(process.env.ANDROID_ADB_SERVER_PORT ?? 5037);
/** Where the Appium server this run starts listens. @default 4723 */
const appiumPort = Number(process.env.V6LAB_APPIUM_PORT ?? 4723);
let appium: ChildProcess | null = null;

/** Starts Appium and resolves once /status answers; rejects once, on exit or after 30 s. */
async function startAppium(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(root, 'node_modules/appium/index.js'), '--address', '127.0.0.1', '--port', String(appiumPort), '--allow-insecure', '*:adb_shell', '--log-no-colors', '--log-level', 'warn'], {
    env: { ...process.env, APPIUM_HOME: process.env.APPIUM_HOME ?? join(root, '.appium') },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`appium exited with code ${child.exitCode} before listening on port ${appiumPort}`);
    const ok = await fetch(`http://127.0.0.1:${appiumPort}/status`).then((r) => r.ok, () => false);
    if (ok) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`appium did not answer on port ${appiumPort} within 30 s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const config: WebdriverIO.Config = {
  runner: 'local',
  specs: ['./specs/**/*.spec.ts'],
  framework: 'mocha',
  mochaOpts: { ui: 'bdd', timeout: 120_000 },
  reporters: ['spec'],
  logLevel: 'warn',
  autoXvfb: false,
  maxInstances: 4,
  hostname: '127.0.0.1',
  port: appiumPort,
  capabilities: serial === undefined ? [] : [{
    platformName: 'Android',
    'appium:automationName': 'V6labVirtual',
    'appium:udid': serial,
    'appium:adbPort': adbPort,
  }],
  async onPrepare() {
    if (serial !== undefined) appium = await startAppium();
  },
  async onComplete() {
    const child = appium;
    if (child === null || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  },
};
