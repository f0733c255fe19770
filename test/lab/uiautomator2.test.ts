// Real phones are driven by Appium's UiAutomator2 driver, which the project's own set-up installs
// from npm alone (scripts/appium-setup.js --uiautomator2, what `v6lab certify` runs for a profile
// that uses it). Shown here: it installs into an APPIUM_HOME, and an Appium server with it loads
// the driver and answers a session for a phone that is not plugged in with the driver's own error.
// Needs the npm registry and adb (CI has both): skips with the reason elsewhere, fails in CI.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AdbCli, findAdb, freePort } from '../support/adb-cli.js';
import { projectRoot } from '../support/cli.js';
import { inCi } from '../support/lab-env.js';

const run = promisify(execFile);

describe('UiAutomator2 for real phones: installed from npm by the set-up', function () {
  this.timeout(300_000);
  const home = mkdtempSync(join(tmpdir(), 'v6lab-appium-home-'));
  const env = { ...process.env, APPIUM_HOME: home };

  // The driver's npm install is 74 MiB: not left in /tmp after each run.
  after(() => rmSync(home, { recursive: true, force: true }));

  before(async function () {
    const reachable = await run('npm', ['view', 'appium-uiautomator2-driver', 'version'], { timeout: 30_000 }).then(
      () => true,
      () => false,
    );
    if (!reachable || findAdb() === null) {
      const reason = !reachable ? 'the npm registry is unreachable' : 'adb is not installed';
      if (inCi) throw new Error(`the UiAutomator2 test cannot run in CI: ${reason}`);
      console.warn(`    skipping the UiAutomator2 test: ${reason}`);
      this.skip();
    }
  });

  it("installs, and Appium loads it and refuses a session for an absent phone with the driver's own words", async () => {
    await run(process.execPath, [join(projectRoot, 'scripts/appium-setup.js'), '--uiautomator2'], { cwd: projectRoot, env, timeout: 240_000 });
    const { stdout } = await run(process.execPath, [join(projectRoot, 'node_modules/appium/index.js'), 'driver', 'list', '--installed', '--json'], {
      cwd: projectRoot,
      env,
    });
    const drivers = JSON.parse(stdout) as Record<string, { version: string; automationName: string }>;
    assert.equal(drivers.uiautomator2?.automationName, 'UiAutomator2');
    assert.ok(drivers['v6lab-virtual']);

    const cli = new AdbCli(findAdb()!, await freePort(), home);
    await cli.run(['start-server']);
    const port = await freePort();
    const server = spawn(
      process.execPath,
      [join(projectRoot, 'node_modules/appium/index.js'), '--address', '127.0.0.1', '--port', String(port), '--log-level', 'error'],
      { env: { ...env, ANDROID_ADB_SERVER_PORT: String(cli.serverPort), ANDROID_HOME: home }, stdio: 'ignore' },
    );
    try {
      const deadline = Date.now() + 60_000;
      while (
        !(await fetch(`http://127.0.0.1:${port}/status`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (Date.now() > deadline) throw new Error('appium did not start');
        await new Promise((r) => setTimeout(r, 250));
      }
      const response = await fetch(`http://127.0.0.1:${port}/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          capabilities: { alwaysMatch: { platformName: 'Android', 'appium:automationName': 'UiAutomator2', 'appium:udid': 'nosuch-phone' } },
        }),
      });
      const body = (await response.json()) as { value: { message: string } };
      assert.equal(response.ok, false);
      // The driver was found and ran: the refusal is about the phone (or the SDK it needs), not an unknown automationName.
      assert.doesNotMatch(body.value.message, /Could not find a driver for automationName/);
      assert.match(body.value.message, /nosuch-phone|ANDROID_HOME|adb|Android SDK|device/i);
    } finally {
      server.kill('SIGTERM');
      await cli.run(['kill-server']).catch(() => undefined);
    }
  });
});
