// Faults injected while handsets are certified (issue 6), on the virtual lab:
// - in one run of two handsets: an app killed by the system in its window (a crash), the
//   handset's cable pulled mid-capture (`v6lab lab unplug`), the adb server killed mid-capture
//   (adbkit starts it again), and the other handset's Appium server killed;
// - a command and a pull cut by a cable pull, at the device layer;
// - the run directory's disk filling during a capture (a private tmpfs in a mount namespace).
// Each: the check in flight is broken with a reason that names the fault (and run again once the
// device is back when the transport broke it), the run goes on with the other checks and devices, results.json stays valid, nothing half-written is left, and the
// devices are left as they were found. Root and namespaces needed: skips with the reason
// elsewhere, fails in CI.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { faultCode } from '../../lib/harness/certification.js';
import { readHandsetState } from '../../lib/lab/android/state.js';
import { AdbkitBackend, adbClient } from '../../lib/device/adb.js';
import type { RunResults } from '../../lib/report/results.js';
import { projectRoot, v6lab } from '../support/cli.js';
import { labSession } from '../support/lab-session.js';

const A = 'emulator-5554';
const B = 'emulator-5556';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('faults during a run: a crash, a cable pulled, the adb server and Appium killed, a full disk (issue 6)', function () {
  this.timeout(400_000);
  const lab = labSession('the fault tests', ['compliant', 'compliant']);

  const shellOf = (serial: string) => async (args: string[]) => (await lab.cli.run(['-s', serial, 'shell', ...args])).stdout.toString();
  /** What a run must leave as found: the APN table and Private DNS. */
  const stateOf = async (serial: string) => {
    const shell = shellOf(serial);
    return [await shell(['su', '-c', 'content query --uri content://telephony/carriers']), await shell(['settings', 'get', 'global', 'private_dns_mode'])];
  };
  const catalogueOf = (name: string, packages: string[], dwellMs: number) => {
    const file = join(lab.work, `${name}.json`);
    writeFileSync(file, JSON.stringify({ name, apps: packages.map((p) => ({ package: p, label: p, dwellMs })) }));
    return file;
  };
  /** Whether the lab app `pkg` has run on handset `index` for over a second (launched and in front). */
  const runningAwhile = (index: number, pkg: string): { pid: number } | null => {
    const running = readHandsetState(join(lab.stateDir, 'handsets', `hs${index}`)).running[pkg];
    return running !== undefined && Date.now() - Date.parse(running.startedAt) > 1000 ? running : null;
  };
  /** The pid of the process listening on 127.0.0.1:port (ss: users:(("node",pid=123,fd=20))). */
  const listener = (port: number | string): number => {
    const line = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.includes(`127.0.0.1:${port} `));
    return Number(/pid=(\d+)/.exec(line ?? '')?.[1]);
  };

  it('each fault breaks the check in flight, named; the rest runs; both devices come back as found', async () => {
    const { env, work } = lab;
    const found = { [A]: await stateOf(A), [B]: await stateOf(B) };
    const out = join(work, 'run');
    const catalogue = catalogueOf('three', ['com.example.maps', 'com.example.news', 'com.example.chat'], 2500);
    const running = v6lab(['certify', '--devices', `${A},${B}`, '--suite', 'apps', '--apps', catalogue, '--out', out, '--quiet'], env, 300_000);
    const results = () => (existsSync(join(out, 'results.json')) ? (JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults).results : []);
    const resultOn = (serial: string, pkg: string, network: string) => results().some((r) => r.device === serial && r.app === pkg && r.network === network);

    // On A, in its app order (maps, news, chat on the IPv6-only APN, then on the dual-stack one):
    // maps killed by the system (SIGKILL) in its window; news's cable pulled for 3 s; maps on the
    // dual-stack APN loses its adb server (kill -9). On B, its Appium server killed after one result.
    const faults = { crash: false, unplug: false, adbServer: false, appium: false };
    let crashedPid = 0;
    const deadline = Date.now() + 200_000;
    while (!Object.values(faults).every(Boolean) && Date.now() < deadline) {
      const maps = runningAwhile(0, 'com.example.maps');
      if (!faults.crash && maps) {
        // Its pid is the handset's own (the handset is a container): killed there, by its root,
        // as Android's low-memory killer would.
        const killed = await lab.cli.run(['-s', A, 'shell', 'su', '-c', `kill -9 ${maps.pid}`]);
        assert.equal(killed.code, 0, killed.stderr);
        crashedPid = maps.pid;
        faults.crash = true;
      }
      if (faults.crash && !faults.unplug && runningAwhile(0, 'com.example.news') && !resultOn(A, 'com.example.news', 'ipv6')) {
        const unplug = await v6lab(['lab', 'unplug', A, '--for', '3000'], env);
        assert.equal(unplug.code, 0, unplug.stderr);
        faults.unplug = true;
      }
      // Maps's second launch (the killed one may linger in the handset's record), in its window.
      if (faults.unplug && !faults.adbServer && maps && maps.pid !== crashedPid && resultOn(A, 'com.example.chat', 'ipv6')) {
        const pid = listener(env.ANDROID_ADB_SERVER_PORT!);
        assert.ok(pid > 0, 'the adb server listens');
        process.kill(pid, 'SIGKILL');
        faults.adbServer = true;
      }
      if (!faults.appium && results().some((r) => r.device === B)) {
        const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as { devices: { serial: string; appium: { url: string } }[] };
        const pid = listener(new URL(plan.devices.find((d) => d.serial === B)!.appium.url).port);
        assert.ok(pid > 0, `Appium of ${B}`);
        process.kill(pid, 'SIGKILL');
        faults.appium = true;
      }
      await sleep(50);
    }
    assert.deepEqual(faults, { crash: true, unplug: true, adbServer: true, appium: true }, 'every fault injected');
    const run = await running;
    // Nothing failed, but the crash and Appium's death left checks broken: incomplete, not pass.
    assert.equal(run.code, 4, run.stderr.slice(-2000));
    const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    assert.notEqual(doc.run.finished, null);
    const of = (serial: string) => doc.results.filter((r) => r.device === serial);
    // A: the crash broke its check, named; the cable pull and the adb server kill broke theirs,
    // named, and each was run again once the device was back (the broken attempt kept); the rest
    // judged (and passed).
    const outcome = (pkg: string, network: string) => {
      const r = of(A).find((x) => x.app === pkg && x.network === network)!;
      const retried = r.brokenAttempts?.map((a) => ` after ${a.reasons[0]!.code}`).join('') ?? '';
      return `${r.status === 'broken' ? `broken ${r.reasons[0]!.code}` : r.status}${retried}`;
    };
    assert.deepEqual(
      [
        outcome('com.example.maps', 'ipv6'),
        outcome('com.example.news', 'ipv6'),
        outcome('com.example.chat', 'ipv6'),
        outcome('com.example.maps', 'ipv4v6'),
        outcome('com.example.news', 'ipv4v6'),
        outcome('com.example.chat', 'ipv4v6'),
      ],
      ['broken APP_CRASHED', 'passed after DEVICE_DISCONNECTED', 'passed', 'passed after ADB_SERVER_DOWN', 'passed', 'passed'],
      JSON.stringify(of(A).map((r) => [r.app, r.network, r.status, r.reasons[0]?.detail, r.brokenAttempts])),
    );
    const reason = (pkg: string, network: string) => of(A).find((x) => x.app === pkg && x.network === network)!.reasons[0]!.detail;
    const firstAttempt = (pkg: string, network: string) => of(A).find((x) => x.app === pkg && x.network === network)!.brokenAttempts![0]!.reasons[0]!.detail;
    assert.match(reason('com.example.maps', 'ipv6'), /com\.example\.maps was not running at the end of its window/);
    assert.match(firstAttempt('com.example.news', 'ipv6'), new RegExp(`${A} (went offline|dropped off adb)`));
    assert.match(firstAttempt('com.example.maps', 'ipv4v6'), new RegExp(`the adb server on port ${env.ANDROID_ADB_SERVER_PORT} went away`));
    // The retried checks' evidence is the second attempt's, whole.
    for (const pkg of ['com.example.news', 'com.example.maps']) {
      const r = of(A).find((x) => x.app === pkg && x.brokenAttempts)!;
      assert.ok(r.evidence.length === 2 && r.evidence.every((e) => existsSync(join(out, e))), JSON.stringify(r.evidence));
    }
    // B: every check after its Appium died is broken, naming Appium; none is judged on nothing.
    const broken = of(B).filter((r) => r.status === 'broken');
    assert.ok(broken.length >= 1, JSON.stringify(of(B)));
    assert.ok(
      broken.every((r) => ['APPIUM_ERROR', 'ADB_SERVER_DOWN'].includes(r.reasons[0]!.code)),
      JSON.stringify(broken),
    );
    assert.ok(of(B).every((r) => r.status === 'broken' || r.status === 'passed'));
    // Both left as found (B restored by certify itself: its worker's session was gone).
    assert.deepEqual(await stateOf(A), found[A]);
    assert.deepEqual(await stateOf(B), found[B]);
  });

  it('a command or a pull cut by a cable pull is an error naming the drop, never short output; the device is usable again after', async () => {
    const { env } = lab;
    const device = new AdbkitBackend(adbClient(Number(env.ANDROID_ADB_SERVER_PORT)), B, Number(env.ANDROID_ADB_SERVER_PORT));
    await device.runOk(['dd', 'if=/dev/zero', 'of=data/local/tmp/big.bin', 'bs=1048576', 'count=200']);
    const unplug = (afterMs: number) =>
      sleep(afterMs)
        .then(() => v6lab(['lab', 'unplug', B, '--for', '1500'], env))
        .then((r) => assert.equal(r.code, 0, r.stderr));
    const back = async () => {
      const until = Date.now() + 20_000;
      while (
        !(await device.ensureAvailable().then(
          () => true,
          () => false,
        ))
      ) {
        assert.ok(Date.now() < until, `${B} came back`);
        await sleep(200);
      }
    };
    const [command] = await Promise.all([
      device.run(['sleep', '4']).then(
        () => null,
        (e: Error) => e,
      ),
      unplug(300),
    ]);
    assert.ok(command !== null && command.name === 'TruncatedOutputError', String(command));
    assert.equal(faultCode(command), 'DEVICE_DISCONNECTED');
    await back();
    const [pull] = await Promise.all([
      device.pull('/data/local/tmp/big.bin').then(
        (d) => `${d.length} bytes`,
        (e: Error) => e,
      ),
      unplug(20),
    ]);
    assert.ok(pull instanceof Error, `the pull returned ${String(pull)}`);
    assert.match(pull.message, /pull \/data\/local\/tmp\/big\.bin` exited 1: pull ended after \d+ of 209715200 bytes: the connection dropped/);
    assert.equal(faultCode(pull), 'DEVICE_DISCONNECTED');
    await back();
    assert.equal((await device.pull('/data/local/tmp/big.bin')).length, 209715200);
    await device.runOk(['rm', 'data/local/tmp/big.bin']);
  });

  it('a disk that fills during a capture breaks that check, removes the cut pcap, keeps results.json whole; a resume with no room exits 3 in one line', async () => {
    const { env, work } = lab;
    const foundA = await stateOf(A);
    const mount = join(work, 'small-disk');
    mkdirSync(mount);
    const out = join(mount, 'run');
    const catalogue = catalogueOf('one', ['com.example.maps'], 1500);
    // A private mount namespace: the tmpfs is seen by this run only and goes with it.
    const pcap = join(out, 'devices', A, 'ipv6', 'com.example.maps.pcap');
    const sh = [
      'mount -t tmpfs -o size=8m v6lab-small-disk "$1" || exit 9',
      'node "$2" certify --devices "$3" --suite apps --apps "$4" --out "$5" --quiet >/dev/null 2>"$1/../first.err" &',
      'run=$!',
      // The disk fills while Maps's capture is being written on the IPv6-only APN (once it holds
      // 12 KiB: removing the cut pcap then frees the pages results.json needs) ...
      'i=0; while [ "$(stat -c %s "$6" 2>/dev/null || echo 0)" -lt 12288 ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done',
      'head -c 100000000 /dev/zero > "$1/filler" 2>/dev/null',
      // ... and has room again once that check has its result.
      'i=0; while ! grep -q \'"check"\' "$5/results.json" 2>/dev/null && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done',
      'rm "$1/filler"',
      'wait $run; echo "first $?"',
      'find "$1" -type f | sort',
      'cp "$5/results.json" "$1/../first.json"',
      // A resume with no room at all, then with room.
      'head -c 100000000 /dev/zero > "$1/filler" 2>/dev/null',
      'node "$2" certify --resume "$5" >/dev/null 2>"$1/../resume.err"; echo "no room $?"',
      'cmp -s "$5/results.json" "$1/../first.json" && echo "results.json unchanged"',
      'rm "$1/filler"',
      'node "$2" certify --resume "$5" >/dev/null 2>&1; echo "room $?"',
      'cp "$5/results.json" "$1/../resumed.json"',
    ].join('\n');
    const r = spawnSync(
      'unshare',
      ['-m', '--propagation', 'private', '--', 'sh', '-c', sh, 'sh', mount, join(projectRoot, 'bin/v6lab.js'), A, catalogue, out, pcap],
      { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 250_000 },
    );
    const lines = r.stdout.trim().split('\n');
    // One check broke on the full disk and none failed: incomplete.
    assert.equal(lines[0], 'first 4', r.stdout + r.stderr);
    // Maps on the IPv6-only APN broke naming the full disk; on the dual-stack one, with room, it passed.
    const first = JSON.parse(readFileSync(join(work, 'first.json'), 'utf8')) as RunResults;
    assert.notEqual(first.run.finished, null);
    assert.deepEqual(
      first.results.map((x) => [x.network, x.status, x.reasons[0]?.code ?? null]),
      [
        ['ipv6', 'broken', 'STORAGE_FULL'],
        ['ipv4v6', 'passed', null],
      ],
      JSON.stringify(first.results),
    );
    // Whether the pcap or its analysis was being written when the disk filled, neither is left.
    assert.match(first.results[0]!.reasons[0]!.detail, /ENOSPC: no space left on device/);
    assert.match(first.results[0]!.reasons[0]!.detail, /ipv6\/com\.example\.maps\.(pcap|analysis\.json)\b/);
    // The broken check's evidence is gone; the judged one's is there.
    const files = lines.filter((l) => l.startsWith(mount));
    assert.ok(!files.some((f) => f.startsWith(join(out, 'devices', A, 'ipv6', 'com.example.maps.'))), `the cut evidence was removed: ${files.join(' ')}`);
    assert.ok(files.includes(join(out, 'devices', A, 'ipv4v6', 'com.example.maps.pcap')), files.join(' '));
    // No room at all: exit 3, one line naming the file, results.json unchanged.
    assert.equal(
      lines.find((l) => l.startsWith('no room ')),
      'no room 3',
      r.stdout,
    );
    assert.ok(lines.includes('results.json unchanged'), r.stdout);
    const err = readFileSync(join(work, 'resume.err'), 'utf8')
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('dbug') && !/driver is installed/.test(l));
    assert.equal(err.length, 1, err.join('\n'));
    assert.match(err[0]!, /^v6lab: cannot write .*small-disk\/run\/.*no space left on .*\(ENOSPC\).*--resume/);
    // With room, the resume ran the broken check again, and only that one.
    assert.equal(
      lines.find((l) => l.startsWith('room ')),
      'room 0',
      r.stdout,
    );
    const resumed = JSON.parse(readFileSync(join(work, 'resumed.json'), 'utf8')) as RunResults;
    assert.deepEqual(
      resumed.results.map((x) => [x.network, x.status]),
      [
        ['ipv6', 'passed'],
        ['ipv4v6', 'passed'],
      ],
    );
    assert.deepEqual(resumed.results[1], first.results[1]);
    assert.equal(existsSync(join(mount, 'run')), false, 'the tmpfs went with its namespace');
    // Whatever died on the full disk, no Appium server it started is left listening.
    assert.ok(Number.isNaN(listener(4723)), 'no Appium left on 127.0.0.1:4723');
    assert.deepEqual(await stateOf(A), foundA);
  });
});
