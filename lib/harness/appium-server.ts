/**
 * The local Appium servers a run starts: one per port its plan names with `appium.start`, on
 * loopback, with `--allow-insecure adb_shell` only for the drivers whose adb work needs
 * `mobile: shell`. `v6lab certify` starts them while WebdriverIO's launcher loads (each takes
 * seconds); wdio.conf.ts starts them itself when run on a plan directly. Stopped by their pid,
 * and killed when the process that started them exits, however it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { CertifyPlan } from './plan.js';

/**
 * Where Appium keeps its drivers and plugins: $APPIUM_HOME, else `.appium` under the working
 * directory (the user's project, never inside the installed package; in a checkout run from its
 * root, the checkout's `.appium`). Always given to Appium explicitly: left to itself, Appium makes
 * the nearest package.json that lists appium its home and installs into the user's project.
 */
export function appiumHome(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  return resolve(cwd, env.APPIUM_HOME || '.appium');
}

/** The drivers whose adb work needs `mobile: shell` get it; nothing else is allowed. */
const SHELL_DRIVERS = new Set(['uiautomator2', 'v6labvirtual']);
/** How long a server may take to answer /status. */
const START_TIMEOUT_MS = 60_000;

const started: ChildProcess[] = [];
// A process that dies before it stops its servers (an uncaught error, a full disk) must not leave
// them listening: 'exit' runs then too, and kill(2) is synchronous.
process.once('exit', () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** The local servers `plan` asks for: port, and whether its drivers need adb_shell. */
export function localAppiumServers(plan: CertifyPlan): Map<number, boolean> {
  const local = new Map<number, boolean>();
  for (const device of plan.devices.filter((d) => d.appium.start)) {
    const port = Number(new URL(device.appium.url).port);
    const driver = String(device.appium.capabilities['appium:automationName'] ?? '').toLowerCase();
    local.set(port, (local.get(port) ?? false) || SHELL_DRIVERS.has(driver));
  }
  return local;
}

/** Starts Appium on 127.0.0.1:port and resolves once /status answers; rejects on exit or after 60 s. */
export async function startAppiumServer(
  root: string,
  port: number,
  allowShell: boolean,
  env: NodeJS.ProcessEnv = process.env,
  output: number | 'inherit' = 'inherit',
): Promise<ChildProcess> {
  const args = [join(root, 'node_modules/appium/index.js'), '--address', '127.0.0.1', '--port', String(port), '--log-no-colors', '--log-level', 'warn'];
  if (allowShell) args.push('--allow-insecure', '*:adb_shell');
  const child = spawn(process.execPath, args, {
    env: { ...env, APPIUM_HOME: appiumHome(env) },
    stdio: ['ignore', output, output],
  });
  started.push(child);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`appium exited with code ${child.exitCode} before listening on 127.0.0.1:${port}`);
    if (await answers(port)) return child;
    if (Date.now() > deadline) throw new Error(`appium did not answer on 127.0.0.1:${port} within ${START_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const answers = (port: number): Promise<boolean> =>
  fetch(`http://127.0.0.1:${port}/status`).then(
    (r) => r.ok,
    () => false,
  );

/** Waits until the local server on `port` (started by another process) answers; rejects after 60 s. */
export async function awaitAppiumServer(port: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(port))) {
    if (Date.now() > deadline) throw new Error(`the Appium server on 127.0.0.1:${port} did not answer within ${START_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts every local server of `plan` at once; on a failure stops those that started, and rejects. */
export async function startAppiumServers(
  root: string,
  plan: CertifyPlan,
  env: NodeJS.ProcessEnv = process.env,
  output: number | 'inherit' = 'inherit',
): Promise<ChildProcess[]> {
  const starting = [...localAppiumServers(plan)].map(([port, shell]) => startAppiumServer(root, port, shell, env, output));
  const outcomes = await Promise.allSettled(starting);
  const failed = outcomes.find((o) => o.status === 'rejected');
  const children = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  if (failed) {
    await Promise.all(started.map(stopAppiumServer));
    throw failed.reason;
  }
  return children;
}

/** SIGTERM, then SIGKILL after 10 s; resolves when it has exited. */
export async function stopAppiumServer(child: ChildProcess): Promise<void> {
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
