// WebdriverIO configuration for `v6lab certify`, which writes the run plan and runs
//   V6LAB_PLAN=reports/<run>/plan.json npx wdio run wdio.conf.ts
// One capability per device of the plan, each in its own worker (the os, apn and apps specs
// grouped, in that order, in one session), each talking to the Appium server its profile names.
// Local Appium servers the plan asks for (`appium.start`) are started here on loopback and
// stopped by their pid; a remote one (another host, a Selenium Grid 4 hub, a device farm) is
// only connected to. The specs are the same for every device.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { readPlan, type CertifyPlan, type DevicePlan } from './lib/harness/plan.js';
import { Certification } from './lib/harness/certification.js';

const root = import.meta.dirname;
const planFile = process.env.V6LAB_PLAN;
const plan: CertifyPlan | null = planFile === undefined ? null : readPlan(planFile);
const appiumServers: ChildProcess[] = [];
// A launcher that dies before onComplete (an uncaught error: its log's disk full) must not leave
// its Appium servers listening: 'exit' runs then too, and kill(2) is synchronous.
process.once('exit', () => {
  for (const child of appiumServers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** The drivers whose adb work needs `mobile: shell` get it; nothing else is allowed. */
const SHELL_DRIVERS = new Set(['uiautomator2', 'v6labvirtual']);

function capability(device: DevicePlan): WebdriverIO.Capabilities {
  const url = new URL(device.appium.url);
  return {
    platformName: 'Android',
    'appium:udid': device.serial,
    'appium:adbPort': plan!.adbPort,
    'appium:newCommandTimeout': 600,
    ...device.appium.capabilities,
    // Where this device's Appium server is (WebdriverIO reads connection options per capability).
    protocol: url.protocol.replace(':', ''),
    hostname: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    path: url.pathname,
  } as WebdriverIO.Capabilities;
}

/** Starts Appium on 127.0.0.1:port and resolves once /status answers; rejects on exit or after 60 s. */
async function startAppium(port: number, allowShell: boolean): Promise<ChildProcess> {
  const args = [join(root, 'node_modules/appium/index.js'), '--address', '127.0.0.1', '--port', String(port), '--log-no-colors', '--log-level', 'warn'];
  if (allowShell) args.push('--allow-insecure', '*:adb_shell');
  const child = spawn(process.execPath, args, {
    env: { ...process.env, APPIUM_HOME: process.env.APPIUM_HOME ?? join(root, '.appium') },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  appiumServers.push(child);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`appium exited with code ${child.exitCode} before listening on 127.0.0.1:${port}`);
    const ok = await fetch(`http://127.0.0.1:${port}/status`).then((r) => r.ok, () => false);
    if (ok) return child;
    if (Date.now() > deadline) throw new Error(`appium did not answer on 127.0.0.1:${port} within 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export const config: WebdriverIO.Config = {
  runner: 'local',
  // One group: a device's suites run in one worker and one session, os first (it reads the
  // device as delivered), then apn, then apps.
  specs: [(plan?.suites ?? ['os', 'apn', 'apps']).map((suite) => `./specs/${suite}.spec.ts`)],
  framework: 'mocha',
  mochaOpts: { ui: 'bdd', timeout: 30 * 60_000 },
  reporters: [
    'spec',
    ...(plan === null ? [] : [['allure', { outputDir: join(plan.runDir, 'allure-results'), disableWebdriverStepsReporting: true, disableWebdriverScreenshotsReporting: true }] as [string, WebdriverIO.ReporterOption]]),
  ],
  logLevel: 'warn',
  autoXvfb: false,
  // Every device at once: the work is mostly waiting on apps.
  maxInstances: Math.max(1, plan?.devices.length ?? 1),
  maxInstancesPerCapability: 1,
  capabilities: plan === null ? [] : plan.devices.map(capability),
  waitforTimeout: 10_000,
  connectionRetryCount: 1,
  async onPrepare() {
    if (plan === null) return;
    const local = new Map<number, boolean>();
    for (const device of plan.devices.filter((d) => d.appium.start)) {
      const port = Number(new URL(device.appium.url).port);
      const driver = String(device.appium.capabilities['appium:automationName'] ?? '').toLowerCase();
      local.set(port, (local.get(port) ?? false) || SHELL_DRIVERS.has(driver));
    }
    try {
      await Promise.all([...local].map(([port, shell]) => startAppium(port, shell)));
    } catch (error) {
      await Promise.all(appiumServers.map(stop));
      throw error;
    }
  },
  // In the worker, after its specs: the device goes back to how it was found, even on failure.
  async after() {
    await Certification.closeWorker();
  },
  async onComplete() {
    await Promise.all(appiumServers.map(stop));
  },
};
