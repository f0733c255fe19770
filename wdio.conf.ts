// WebdriverIO configuration for `v6lab certify`, which writes the run plan and runs
//   V6LAB_PLAN=reports/<run>/plan.json npx wdio run wdio.conf.ts
// One capability per device of the plan, each in its own worker (the os, apn and apps specs
// grouped, in that order, in one session), each talking to the Appium server its profile names.
// Local Appium servers the plan asks for (`appium.start`) are started on loopback by `v6lab
// certify` while this launcher and its workers load (V6LAB_APPIUM_STARTED=1: each session waits
// for its server), or here when run
// on a plan directly, and stopped by their pid; a remote one (another host, a Selenium Grid 4 hub, a device farm) is
// only connected to. The specs are the same for every device.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { readPlan, type CertifyPlan, type DevicePlan } from './lib/harness/plan.js';
import { Certification } from './lib/harness/certification.js';
import { awaitAppiumServer, startAppiumServers, stopAppiumServer } from './lib/harness/appium-server.js';

const root = import.meta.dirname;
const planFile = process.env.V6LAB_PLAN;
const plan: CertifyPlan | null = planFile === undefined ? null : readPlan(planFile);
/** `v6lab certify` starts the plan's local Appium servers itself, while this launcher loads. */
const serversManaged = process.env.V6LAB_APPIUM_STARTED === '1';
let appiumServers: ChildProcess[] = [];

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

export const config: WebdriverIO.Config = {
  runner: 'local',
  // One group: a device's suites run in one worker and one session, os first (it reads the
  // device as delivered), then apn, then apps.
  specs: [(plan?.suites ?? ['os', 'apn', 'apps']).map((suite) => `./specs/${suite}.spec.ts`)],
  framework: 'mocha',
  mochaOpts: { ui: 'bdd', timeout: 30 * 60_000 },
  reporters: [
    'spec',
    ...(plan === null
      ? []
      : [
          ['allure', { outputDir: join(plan.runDir, 'allure-results'), disableWebdriverStepsReporting: true, disableWebdriverScreenshotsReporting: true }] as [
            string,
            WebdriverIO.ReporterOption,
          ],
        ]),
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
    if (plan === null || serversManaged) return;
    appiumServers = await startAppiumServers(root, plan);
  },
  // In the worker, before its session: a server certify started may still be booting while the
  // worker loaded (both take seconds); the session waits for it.
  async beforeSession(_config, capabilities) {
    const caps = capabilities as WebdriverIO.Capabilities & { hostname?: string; port?: number };
    if (serversManaged && caps.hostname === '127.0.0.1' && typeof caps.port === 'number') await awaitAppiumServer(caps.port);
  },
  // In the worker, after its specs: the device goes back to how it was found, even on failure.
  async after() {
    await Certification.closeWorker();
  },
  async onComplete() {
    await Promise.all(appiumServers.map(stopAppiumServer));
  },
};
