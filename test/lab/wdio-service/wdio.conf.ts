// A WebdriverIO project of the kind app vendors already have, with v6lab added as a service and
// its matchers (issue 17): run by test/lab/appium.test.ts against a lab handset through the
// Appium server and adb server that test started, which it names in the environment:
//   V6LAB_WDIO_APPIUM_PORT  the Appium server on 127.0.0.1
//   V6LAB_WDIO_SERIAL       the handset's adb serial (appium:udid)
//   V6LAB_WDIO_ADB_PORT     the adb server both Appium and v6lab reach the handset through
//   V6LAB_WDIO_OUT          where the Allure results and v6lab's evidence go
//   V6LAB_WDIO_HANDSET_DIR  the handset's directory in the lab's state (the spec reads its apps' logs)
// A user's own config imports `v6lab/wdio`; this one imports the sources, as the repo's tests do.
import { join } from 'node:path';
import V6labService from '../../../lib/wdio/service.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set: this config is run by test/lab/appium.test.ts`);
  return value;
}

const out = required('V6LAB_WDIO_OUT');
required('V6LAB_WDIO_HANDSET_DIR');

export const config: WebdriverIO.Config = {
  runner: 'local',
  specs: [join(import.meta.dirname, 'apps.spec.ts')],
  framework: 'mocha',
  mochaOpts: { ui: 'bdd', timeout: 60_000 },
  reporters: ['spec', ['allure', { outputDir: join(out, 'allure-results'), disableWebdriverStepsReporting: true, disableWebdriverScreenshotsReporting: true }]],
  logLevel: 'warn',
  autoXvfb: false,
  maxInstances: 1,
  hostname: '127.0.0.1',
  port: Number(required('V6LAB_WDIO_APPIUM_PORT')),
  connectionRetryCount: 0,
  capabilities: [
    {
      platformName: 'Android',
      'appium:automationName': 'V6labVirtual',
      'appium:udid': required('V6LAB_WDIO_SERIAL'),
      // The same adb server for Appium and for v6lab (the service reads appium:adbPort).
      'appium:adbPort': Number(required('V6LAB_WDIO_ADB_PORT')),
    },
  ],
  services: [[V6labService, { capture: { methods: ['device'] }, evidenceDir: join(out, 'evidence') }]],
};
