// A virtual handset's `logcat` (lib/lab/android/logcat.ts): the apps' own logs printed as
// Android's logcat -v threadtime prints them (AOSP logprint.cpp), selected by uid, pid and time as
// the harness asks for an inconclusive app check's log; and force-stop's descendant walk.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { entriesOfAppLog, formatThreadtime, parseLogcatArgs, parseLogcatTime, selectEntries } from '../../lib/lab/android/logcat.js';
import { initialHandsetState, writeHandsetState } from '../../lib/lab/android/state.js';
import { runToolbox } from '../../lib/lab/android/toolbox.js';
import { processDescendants } from '../../lib/lab/network/process.js';
import { loadProfile } from '../../lib/lab/world.js';

const root = resolve(import.meta.dirname, '../..');
const compliant = loadProfile(join(root, 'devices/lab/handsets/compliant.json'));

const line = (entry: object) => JSON.stringify(entry);
/** An app log as ./app.ts writes it: a launch, then a real program's run. */
const appLog = (pkg: string, pid: number, uid: number, at: string, run: object) =>
  [
    line({ t: at, event: 'start', package: pkg, pid, uid, nameservers: [], page: 'home' }),
    line({ t: at, event: 'page', page: 'home' }),
    line({ t: at, event: 'run', page: 'home', repetition: 1, ...run }),
    '',
  ].join('\n');

describe('virtual handset: logcat', () => {
  it('prints a launch as ActivityManager does and a real program under the app, in -v threadtime', () => {
    const text = appLog('com.real.curl', 4425, 10105, '2026-12-03T20:09:56.740Z', {
      run: ['curl', '-sS', 'http://x.test/'],
      ok: false,
      exitCode: 6,
      signal: null,
      timedOut: false,
      ms: 25,
      error: null,
      stdout: '',
      stderr: 'curl: (6) Could not resolve host: x.test\n',
      stdoutBytes: 0,
      stderrBytes: 41,
    });
    const lines = entriesOfAppLog(text, 'com.real.curl').map((e) => formatThreadtime(e, 'Asia/Shanghai'));
    assert.deepEqual(lines, [
      '12-04 04:09:56.740   600   600 I ActivityManager: Start proc 4425:com.real.curl/u0a105 for top-activity {com.real.curl/com.real.curl.MainActivity}',
      '12-04 04:09:56.740  4425  4425 W RealProgram: curl -sS http://x.test/: exited 6 after 25 ms',
      '12-04 04:09:56.740  4425  4425 W RealProgram: stderr: curl: (6) Could not resolve host: x.test',
    ]);
    // A short tag is padded to 8 (`%-8s`), as logcat lines up its columns.
    assert.equal(
      formatThreadtime({ ts: 0.5, pid: 1, tid: 2, uid: 0, priority: 'E', tag: 'abc', message: 'm' }, 'UTC'),
      '01-01 00:00:00.500     1     2 E abc     : m',
    );
  });

  it('says how a run ended: past its limit, by a signal, not run at all; and output it did not keep', () => {
    const base = { ok: false, exitCode: null, signal: null, timedOut: false, ms: 100, error: null, stdout: '', stderr: '', stdoutBytes: 0, stderrBytes: 0 };
    const said = (run: object) =>
      entriesOfAppLog(appLog('p', 9, 10001, '2026-01-01T00:00:00.000Z', { run: ['prog'], ...base, ...run }), 'p')
        .slice(1)
        .map((e) => `${e.priority} ${e.message}`);
    assert.deepEqual(said({ timedOut: true, signal: 'SIGKILL' }), ['W prog: killed past its time limit after 100 ms']);
    assert.deepEqual(said({ signal: 'SIGSEGV' }), ['W prog: ended by SIGSEGV after 100 ms']);
    assert.deepEqual(said({ error: 'spawn prog ENOENT' }), ['W prog: did not run: spawn prog ENOENT']);
    assert.deepEqual(said({ ok: true, exitCode: 0, stdout: 'a\nb\n', stdoutBytes: 20_000 }), [
      'I prog: exited 0 after 100 ms',
      'I stdout: a',
      'I stdout: b',
      'I stdout: (19996 more bytes not kept)',
    ]);
  });

  it('skips what is not an entry: a torn line, a missing time, a run before any start', () => {
    const text = [
      line({ t: '2026-01-01T00:00:00.000Z', event: 'run', run: ['early'], ok: true, exitCode: 0 }),
      '{"t":"2026-01-01T00:00:01.000Z","event":"st',
      line({ event: 'start', pid: 5, uid: 10005 }),
      line({ t: 'yesterday', event: 'start', pid: 5, uid: 10005 }),
      line({ t: '2026-01-01T00:00:02.000Z', event: 'start', pid: '5', uid: 10005 }),
    ].join('\n');
    assert.deepEqual(entriesOfAppLog(text, 'p'), []);
  });

  it('takes the options the harness and people use, and says which it does not', () => {
    const parsed = parseLogcatArgs(['-d', '-v', 'threadtime', '--uid=10105,10106', '-T', '1796328595.879'], 'UTC');
    assert.ok(!('error' in parsed));
    assert.deepEqual([parsed.dump, [...parsed.options.uids!], parsed.options.since], [true, [10105, 10106], 1796328595.879]);
    const tail = parseLogcatArgs(['-t', '5', '--pid', '42', '-b', 'main'], 'UTC');
    assert.ok(!('error' in tail));
    assert.deepEqual([tail.dump, tail.options.tail, tail.options.pid], [true, 5, 42]);
    for (const [args, problem] of [
      [['-v', 'brief'], /-v brief: this handset prints -v threadtime only/],
      [['-b', 'radio'], /this handset keeps the main buffer only/],
      [['--uid=shell'], /expected numeric uids/],
      [['-T', 'noon'], /-T noon: expected a count/],
      [['-c'], /-c: not an option this handset's logcat takes/],
    ] as const) {
      const r = parseLogcatArgs(args, 'UTC');
      assert.ok('error' in r, String(args));
      assert.match(r.error, problem);
    }
  });

  it("reads -T's wall-clock forms in the device's time zone", () => {
    const epoch = Date.UTC(2026, 11, 3, 20, 9, 56, 740) / 1000;
    assert.equal(parseLogcatTime('2026-12-04 04:09:56.740', 'Asia/Shanghai'), epoch);
    assert.equal(parseLogcatTime('12-03 20:09:56.740', 'UTC', Date.UTC(2026, 0, 1)), epoch);
    assert.equal(parseLogcatTime('13-03 20:09:56', 'UTC'), null);
  });

  it('selects by uid, pid and time, oldest first, and the last N', () => {
    const e = (ts: number, uid: number, pid: number) => ({ ts, uid, pid, tid: pid, priority: 'I' as const, tag: 't', message: `${ts}` });
    const entries = [e(3, 10001, 7), e(1, 10001, 7), e(2, 10002, 8), e(4, 10001, 9)];
    const pick = (o: Partial<Parameters<typeof selectEntries>[1]>) =>
      selectEntries(entries, { uids: null, pid: null, since: null, tail: null, ...o }).map((x) => x.ts);
    assert.deepEqual(pick({}), [1, 2, 3, 4]);
    assert.deepEqual(pick({ uids: new Set([10001]) }), [1, 3, 4]);
    assert.deepEqual(pick({ uids: new Set([10001]), since: 2 }), [3, 4]);
    assert.deepEqual(pick({ pid: 7, tail: 1 }), [3]);
  });

  it("`logcat -d --uid=UID -T TIME` on a handset prints only that app's lines of that window, across its apps' logs", () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-logcat-'));
    writeHandsetState(dir, initialHandsetState('emulator-5554', compliant, []));
    mkdirSync(join(dir, 'apps'));
    const run = { run: ['ls', '/x'], ok: false, exitCode: 2, signal: null, timedOut: false, ms: 3, error: null, stdout: '', stderr: 'no /x\n' };
    writeFileSync(
      join(dir, 'apps/com.a.log'),
      appLog('com.a', 100, 10100, '2026-12-03T20:00:00.000Z', run) + appLog('com.a', 200, 10100, '2026-12-03T20:05:00.000Z', run),
    );
    writeFileSync(join(dir, 'apps/com.b.log'), appLog('com.b', 300, 10200, '2026-12-03T20:06:00.000Z', run));
    writeFileSync(join(dir, 'apps/com.a.logcat'), 'a process console, not a log of entries\n');
    const since = (Date.UTC(2026, 11, 3, 20, 4) / 1000).toFixed(3);
    const r = runToolbox(dir, 'logcat', ['-d', '-v', 'threadtime', '--uid=10100', '-T', since]);
    assert.equal(r.code, 0, r.stderr);
    // The handset's zone is the profile's persist.sys.timezone (Asia/Shanghai): 20:05 UTC is 04:05.
    assert.deepEqual(r.stdout.trim().split('\n'), [
      '12-04 04:05:00.000   200   200 W RealProgram: ls /x: exited 2 after 3 ms',
      '12-04 04:05:00.000   200   200 W RealProgram: stderr: no /x',
    ]);
    const all = runToolbox(dir, 'logcat', ['-d']).stdout.trim().split('\n');
    assert.equal(all.length, 9);
    assert.deepEqual(
      all.filter((l) => l.includes('ActivityManager')).map((l) => l.split(': ')[1]!.split(' ')[2]),
      ['100:com.a/u0a100', '200:com.a/u0a100', '300:com.b/u0a200'],
    );
    const refused = runToolbox(dir, 'logcat', ['-v', 'long']);
    assert.deepEqual([refused.code, refused.stderr], [1, 'logcat: -v long: this handset prints -v threadtime only\n']);
  });

  it('finds every descendant of a process, in groups of their own too, as force-stop needs before the app dies', async () => {
    // sh -> (setsid sleep: a group of its own) and sleep; each still running.
    const parent = spawn('sh', ['-c', 'setsid sleep 30 & sleep 30 & wait'], { stdio: 'ignore' });
    try {
      let found: Awaited<ReturnType<typeof processDescendants>> = [];
      for (let i = 0; i < 100 && found.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 20));
        found = await processDescendants(parent.pid!);
      }
      assert.equal(found.length, 2, JSON.stringify(found));
      assert.equal(found.filter((d) => d.processGroup === d.pid).length, 1, 'the setsid one leads its own group');
      assert.ok(found.every((d) => d.startTime !== ''));
      assert.deepEqual(await processDescendants(999_999_999), []);
    } finally {
      for (const d of await processDescendants(parent.pid!)) process.kill(d.pid, 'SIGKILL');
      parent.kill('SIGKILL');
    }
  });
});
