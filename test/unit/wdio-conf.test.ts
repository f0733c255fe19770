// wdio.conf.ts builds one capability per device of the run plan, each pointed at its own Appium
// server (a local one the run starts, a remote one, a Selenium Grid hub), and groups the suites
// so a device's os, apn and apps specs run in order in one session.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePlan, type CertifyPlan, type DevicePlan } from '../../lib/harness/plan.js';

const device = (serial: string, url: string, automationName: string, start: boolean): DevicePlan => ({
  serial,
  profile: serial,
  profileSource: 'test',
  virtual: false,
  appium: { url, capabilities: { 'appium:automationName': automationName, 'appium:noReset': true }, start },
  capture: ['device'],
  gatewayCapture: null,
  emulatorCapture: null,
  networks: { ipv6: { apn: 'ipv6.test' }, ipv4v6: null },
  apnSwitch: 'content',
  resolverProbeUrl: null,
  ipv4OnlyProbeUrl: null,
  backgroundHosts: [],
  catalogue: null,
});

describe('wdio.conf.ts: capabilities from the run plan', () => {
  it('one capability per device, each with its own server, and the suites grouped in order', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'v6lab-wdio-'));
    const plan: CertifyPlan = {
      runDir,
      suites: ['os', 'apps'],
      catalogue: 'c.json',
      dwellMs: 5000,
      clearAppData: false,
      adbPort: 5099,
      devices: [
        device('emulator-5554', 'http://127.0.0.1:4723', 'V6labVirtual', true),
        device('R58M12ABCDE', 'https://grid.example:4444/wd/hub', 'UiAutomator2', false),
      ],
    };
    process.env.V6LAB_PLAN = writePlan(plan);
    try {
      const { config } = await import('../../wdio.conf.js');
      const caps = config.capabilities as Record<string, unknown>[];
      assert.equal(caps.length, 2);
      assert.deepEqual(
        [caps[0]!['appium:udid'], caps[0]!['appium:automationName'], caps[0]!.hostname, caps[0]!.port, caps[0]!['appium:adbPort']],
        ['emulator-5554', 'V6labVirtual', '127.0.0.1', 4723, 5099],
      );
      assert.deepEqual(
        [caps[1]!['appium:automationName'], caps[1]!.protocol, caps[1]!.hostname, caps[1]!.port, caps[1]!.path, caps[1]!['appium:noReset']],
        ['UiAutomator2', 'https', 'grid.example', 4444, '/wd/hub', true],
      );
      assert.deepEqual(config.specs, [['./specs/os.spec.ts', './specs/apps.spec.ts']]);
      assert.equal(config.maxInstances, 2);
      assert.equal(config.maxInstancesPerCapability, 1);
      const allure = (config.reporters as unknown[]).find((r) => Array.isArray(r) && r[0] === 'allure') as [string, { outputDir: string }];
      assert.equal(allure[1].outputDir, join(runDir, 'allure-results'));
    } finally {
      delete process.env.V6LAB_PLAN;
    }
  });
});
