// Faults injected while two handsets are certified (issue 6): an app killed by the system in its
// window (a crash), and one handset's Appium server killed. Each: the check in flight is broken
// with a reason that names the fault, the run goes on with the other checks and the other device,
// results.json stays valid, and both devices are left as they were found. Root and namespaces
// needed: skips with the reason elsewhere, fails in CI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHandsetState } from '../../lib/lab/android/state.js';
import type { RunResults } from '../../lib/report/results.js';
import { v6lab } from '../support/cli.js';
import { labSession } from '../support/lab-session.js';

const A = 'emulator-5554';
const B = 'emulator-5556';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('faults during a run: an app crash, an Appium server killed (issue 6)', function () {
  this.timeout(400_000);
  const lab = labSession('the fault tests', ['compliant', 'compliant']);

  it('each fault breaks the check in flight, named; the rest runs; both devices come back as found', async () => {
    const { cli, env, work } = lab;
    const shell = async (serial: string, args: string[]) => (await cli.run(['-s', serial, 'shell', ...args])).stdout.toString();
    const state = async (serial: string) => [await shell(serial, ['su', '-c', 'content query --uri content://telephony/carriers']), await shell(serial, ['settings', 'get', 'global', 'private_dns_mode'])];
    const found = { [A]: await state(A), [B]: await state(B) };
    const out = join(work, 'run');
    const catalogue = join(work, 'three.json');
    writeFileSync(catalogue, JSON.stringify({ name: 'three', apps: ['com.example.maps', 'com.example.news', 'com.example.chat'].map((p) => ({ package: p, label: p, dwellMs: 2500 })) }));
    const running = v6lab(['certify', '--devices', `${A},${B}`, '--suite', 'apps', '--apps', catalogue, '--out', out, '--quiet'], env, 300_000);
    const results = () => (existsSync(join(out, 'results.json')) ? (JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults).results : []);

    // An app crash: Maps, the first app on A, killed by the system (SIGKILL) in its window.
    let crashed = false;
    let appiumKilled = false;
    const deadline = Date.now() + 200_000;
    while ((!crashed || !appiumKilled) && Date.now() < deadline) {
      if (!crashed) {
        // The lab knows the app's process at once (its handset state): killed as the system kills an app.
        const running = readHandsetState(join(lab.stateDir, 'handsets', 'hs0')).running['com.example.maps'];
        // Once it has run a second (launched and in front: a crash during launch is relaunched by activateApp).
        if (running !== undefined && Date.now() - Date.parse(running.startedAt) > 1000) {
          process.kill(running.pid, 'SIGKILL');
          crashed = true;
        }
      }
      // Appium of B killed once B has a result: its later checks have no session to run in.
      if (!appiumKilled && results().some((r) => r.device === B)) {
        const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as { devices: { serial: string; appium: { url: string } }[] };
        const port = new URL(plan.devices.find((d) => d.serial === B)!.appium.url).port;
        // LISTEN 0 511 127.0.0.1:4724 0.0.0.0:* users:(("node",pid=123,fd=20))
        const line = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' }).split('\n').find((l) => l.includes(`127.0.0.1:${port} `));
        const pid = Number(/pid=(\d+)/.exec(line ?? '')?.[1]);
        assert.ok(pid > 0, `Appium of ${B} on ${port}: ${line}`);
        process.kill(pid, 'SIGKILL');
        appiumKilled = true;
      }
      await sleep(50);
    }
    assert.ok(crashed && appiumKilled, `faults injected: crash ${crashed}, Appium killed ${appiumKilled}`);
    const run = await running;
    assert.equal(run.code, 1, run.stderr.slice(-2000));
    const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    assert.notEqual(doc.run.finished, null);
    const of = (serial: string) => doc.results.filter((r) => r.device === serial);
    // A: the crashed app's check broken as a crash, its five other checks judged.
    const maps = of(A).find((r) => r.app === 'com.example.maps' && r.network === 'ipv6')!;
    assert.deepEqual([maps.status, maps.reasons[0]!.code], ['broken', 'APP_CRASHED'], JSON.stringify(maps));
    assert.match(maps.reasons[0]!.detail, /com\.example\.maps was not running at the end of its window/);
    assert.equal(of(A).length, 6);
    assert.ok(of(A).filter((r) => r !== maps).every((r) => r.status === 'passed'), JSON.stringify(of(A)));
    // B: every check after its Appium died is broken, naming Appium; none is judged on nothing.
    const broken = of(B).filter((r) => r.status === 'broken');
    assert.ok(broken.length >= 1, JSON.stringify(of(B)));
    assert.ok(broken.every((r) => r.reasons[0]!.code === 'APPIUM_ERROR' && /ECONNREFUSED|connect/i.test(r.reasons[0]!.detail)), JSON.stringify(broken));
    assert.ok(of(B).every((r) => r.status === 'broken' || r.status === 'passed'));
    // Both left as found (B restored by certify itself: its worker's session was gone).
    assert.deepEqual(await state(A), found[A]);
    assert.deepEqual(await state(B), found[B]);
  });
});
