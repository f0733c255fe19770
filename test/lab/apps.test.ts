// Emulated apps on virtual handsets (issue 3): launched with `am start` and `monkey` over the real
// adb, their traffic captured with tcpdump streamed through adbkit and analysed, each mode on the
// path it predicts, their sockets owned by their own uid, `am force-stop` ending them. Root and
// namespaces needed: skips with the reason elsewhere, fails in CI (CI=true).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IncrementalAnalyzer, type CaptureAnalysis } from '../../lib/analysis/index.js';
import type { AppLogEntry } from '../../lib/lab/android/app.js';
import { readHandsetState } from '../../lib/lab/android/state.js';
import { bringLabDown, bringLabUp, DEFAULT_APPS, DEFAULT_PROFILE, DEFAULT_WORLD, LabInputError, readRegistry } from '../../lib/lab/lab.js';
import { processesInNamespaces } from '../../lib/lab/network/down.js';
import type { ApnType } from '../../lib/lab/network/index.js';
import { isRunning } from '../../lib/lab/network/process.js';
import { AdbCli, findAdb, freePort } from '../support/adb-cli.js';
import { appLogEntries, until } from '../support/app-log.js';
import { requireLab } from '../support/lab-env.js';
import { v6lab } from '../support/cli.js';
import { CaptureStateError, DeviceUnavailableError, openAppCapture, PackageNotInstalledError } from '../../lib/api/index.js';

const requireHere = createRequire(import.meta.url);
// adbkit under tsx: the default import is the class, under node the module (see adbd tests).
const adbkit = requireHere('@devicefarmer/adbkit') as typeof import('@devicefarmer/adbkit');
/** The lab's processes run the sources under tsx, found by absolute URL from any directory. */
const runner = [process.execPath, '--import', pathToFileURL(requireHere.resolve('tsx')).href];
const SERIAL = 'emulator-5554';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function logOf(stateDir: string, pkg: string): AppLogEntry[] {
  return appLogEntries(join(stateDir, 'handsets/hs0'), pkg);
}

/**
 * Owners of the sockets listed in /proc/net/tcp6 and tcp, by remote port.
 *   sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
 *    0: 0000000000000000FFFF00000100007F:9C40 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 ...
 * The header names `tx_queue rx_queue` and `tr tm->when` as two words each, the rows as one.
 */
function socketOwners(text: string): { uid: number; remotePort: number; state: string }[] {
  const rows: { uid: number; remotePort: number; state: string }[] = [];
  let uidColumn = -1;
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] === 'sl') {
      uidColumn = words.indexOf('uid') - 2;
      continue;
    }
    if (uidColumn < 0 || !/^\d+:$/.test(words[0] ?? '')) continue;
    const remote = words[2]?.split(':')[1];
    const uid = Number(words[uidColumn]);
    if (remote === undefined || !Number.isInteger(uid)) continue;
    rows.push({ uid, remotePort: parseInt(remote, 16), state: words[3] ?? '' });
  }
  return rows;
}

async function labUpWhenFree(stateDir: string, apn: ApnType): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await bringLabUp({ stateDir, handsets: 1, apn, world: DEFAULT_WORLD, apps: DEFAULT_APPS, profiles: [DEFAULT_PROFILE], runner });
      return;
    } catch (error) {
      // Another lab (a test running beside this one) holds the emulator port: wait for it.
      if (!(error instanceof LabInputError && /is taken/.test(error.message)) || Date.now() > deadline) throw error;
      await sleep(1000);
    }
  }
}

describe('lab: emulated apps launched over adb, their traffic on the paths their modes predict', function () {
  this.timeout(60_000);
  const work = mkdtempSync(join(tmpdir(), 'v6lab-apps-'));
  // The handsets' shell user (uid 2000) must reach the state directory.
  chmodSync(work, 0o755);
  let cli: AdbCli;
  let client: ReturnType<typeof adbkit.Adb.createClient>;

  before(async function () {
    await requireLab(
      this,
      'the lab tests',
      ['ip', 'tayga', 'radvd', 'unbound', 'tcpdump', 'openssl', 'nft', 'setpriv', 'dnsmasq', 'busybox', 'adb'],
      'iproute2 tayga radvd unbound tcpdump openssl curl nftables util-linux dnsmasq-base busybox adb',
    );
  });

  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  const shell = async (command: string) => {
    const r = await cli.run(['-s', SERIAL, 'shell', command]);
    return { code: r.code, out: r.stdout.toString(), err: r.stderr };
  };

  /**
   * Brings a one-handset lab up on `apn`, then a private adb server, which finds the handset by
   * scanning the emulator ports when it starts (as it finds a running emulator).
   */
  async function up(stateDir: string, apn: ApnType): Promise<void> {
    await labUpWhenFree(stateDir, apn);
    const home = join(stateDir, '..', `adb-${apn}`);
    mkdirSync(home);
    cli = new AdbCli(findAdb()!, await freePort(), home);
    assert.equal((await cli.run(['start-server'])).code, 0);
    client = adbkit.Adb.createClient({ port: cli.serverPort });
    await until(
      'the adb server to find the handset',
      async () => (/emulator-5554\s+device/.test((await cli.run(['devices'])).stdout.toString()) ? true : null),
      15_000,
    );
  }

  async function down(stateDir: string): Promise<void> {
    await cli?.run(['kill-server']).catch(() => undefined);
    if (process.getuid?.() === 0) await bringLabDown(stateDir);
  }

  /** Captures with tcpdump as root (su), streamed over adbkit, while `run` runs. */
  async function capture(run: () => Promise<void>): Promise<CaptureAnalysis> {
    const nat64Prefix = /Nat64Prefix: (\S+)/.exec((await shell('dumpsys connectivity')).out)?.[1];
    const device = client.getDevice(SERIAL);
    const stream = await device.shell("su -c 'tcpdump -i any -U --immediate-mode -B 16384 -s 65535 -w - 2>/dev/null'");
    const analysis = new IncrementalAnalyzer({ source: `${SERIAL} tcpdump`, nat64Prefixes: nat64Prefix ? [nat64Prefix] : [] });
    stream.on('data', (chunk: Buffer) => analysis.push(chunk));
    try {
      await sleep(800);
      await run();
      await sleep(800);
    } finally {
      stream.destroy();
    }
    return analysis.report();
  }

  const loaded = (stateDir: string, pkg: string) =>
    until(`${pkg} to load its start page`, () => logOf(stateDir, pkg).find((e) => e.event === 'loaded') ?? null, 20_000);
  const describeFlows = (a: CaptureAnalysis) => JSON.stringify(a.flows.map((f) => [f.family, f.server, f.serverPort, f.path, f.hostname]));

  describe('on an IPv6-only attach (DNS64, NAT64, CLAT)', () => {
    const stateDir = join(work, 'v6');
    let analysis: CaptureAnalysis;
    let newsUid: number;

    before(async () => {
      await up(stateDir, 'ipv6');
      newsUid = Number(/(?:userId|appId)=(\d+)/.exec((await shell('dumpsys package com.example.news')).out)?.[1]);
      assert.ok(newsUid >= 10100);
    });
    after(() => down(stateDir));

    it('am start launches News under its own uid; its sockets show that uid in /proc/net/tcp6; monkey and the launcher intent start the others', async () => {
      let owners: { uid: number; remotePort: number; state: string }[] = [];
      analysis = await capture(async () => {
        const started = await shell('am start -W -n com.example.news/.MainActivity');
        assert.equal(started.code, 0, started.err);
        assert.match(started.out, /^Starting: Intent \{ cmp=com\.example\.news\/\.MainActivity \}\nStatus: ok\nLaunchState: COLD\n/);
        // The connections it keeps open (a client's pool) are its own, as on a phone.
        owners = await until('a socket of News in /proc/net/tcp6', async () => {
          const rows = socketOwners((await shell('cat /proc/net/tcp6 /proc/net/tcp')).out).filter((r) => r.uid === newsUid);
          return rows.length > 0 ? rows : null;
        });
        const monkey = await shell('monkey -p com.example.legacy -c android.intent.category.LAUNCHER 1');
        assert.equal(monkey.code, 0, monkey.err);
        assert.match(monkey.out, /^Events injected: 1$/m);
        const game = await shell('am start -a android.intent.action.MAIN -c android.intent.category.LAUNCHER com.example.game');
        assert.equal(game.code, 0, game.err);
        for (const pkg of ['com.example.news', 'com.example.legacy', 'com.example.game']) {
          const page = await loaded(stateDir, pkg);
          assert.equal(page.ok, true, `${pkg}: ${JSON.stringify(logOf(stateDir, pkg).filter((e) => e.event === 'request'))}`);
        }
      });
      assert.ok(
        owners.some((r) => r.remotePort === 443),
        JSON.stringify(owners),
      );
      // The pid is the handset's own (its container's PID namespace): its /proc is asked.
      const pid = readHandsetState(join(stateDir, 'handsets/hs0')).running['com.example.news']!.pid;
      assert.match((await shell(`cat /proc/${pid}/status`)).out, new RegExp(`^Uid:\\s+${newsUid}\\s`, 'm'));
    });

    it('happy-eyeballs: a dual-stack host over native IPv6, an IPv4-only host over NAT64', () => {
      const api = analysis.flows.filter((f) => f.hostname === 'api.news.test' && f.serverPort === 443);
      assert.ok(api.length > 0 && api.every((f) => f.path === 'native-v6'), describeFlows(analysis));
      const img = analysis.flows.filter((f) => f.hostname === 'img.news.test' && f.serverPort === 443);
      assert.ok(img.length > 0 && img.every((f) => f.path === 'nat64'), describeFlows(analysis));
      assert.equal(analysis.hostnames.find((h) => h.name === 'api.news.test')?.firstAttemptFamily, 6);
    });

    it('ipv4-only: A only, no AAAA asked, an IPv4 socket through the CLAT', () => {
      const legacy = analysis.hostnames.find((h) => h.name === 'legacy.shop.test');
      assert.ok(legacy, JSON.stringify(analysis.hostnames.map((h) => h.name)));
      assert.deepEqual(legacy.queried, ['A']);
      const flows = analysis.flows.filter((f) => f.hostname === 'legacy.shop.test' && f.serverPort === 443);
      assert.ok(flows.length > 0 && flows.every((f) => f.path === 'clat'), describeFlows(analysis));
    });

    it('ipv4-literal: the compiled-in IPv4 address, no DNS, through the CLAT', () => {
      const lab = JSON.parse(readFileSync(join(stateDir, 'lab.json'), 'utf8')) as { world: { hosts: { name: string; ipv4: string | null }[] } };
      const literal = lab.world.hosts.find((h) => h.name === 'game.test')!.ipv4!;
      assert.ok(
        analysis.flows.some((f) => f.family === 4 && f.server === literal && f.serverPort === 443 && f.path === 'clat'),
        describeFlows(analysis),
      );
      const attempts = logOf(stateDir, 'com.example.game').filter((e) => e.event === 'attempt' && e.mode === 'ipv4-literal');
      assert.deepEqual(
        attempts.map((a) => [a.family, a.address, a.outcome]),
        [[4, literal, 'connected']],
      );
      assert.equal(logOf(stateDir, 'com.example.game').filter((e) => e.event === 'dns' && e.mode === 'ipv4-literal').length, 0);
    });

    it('am start again brings News to the front; am force-stop kills it; monkey -p starts a new process', async () => {
      const dir = join(stateDir, 'handsets/hs0');
      const first = readHandsetState(dir).running['com.example.news']!.pid;
      assert.equal((await shell('pidof com.example.news')).out.trim(), String(first), 'pidof finds the app by its process name');
      const again = await shell('am start -n com.example.news/.MainActivity');
      assert.equal(again.code, 0);
      assert.match(again.err, /Warning: Activity not started, its current task has been brought to the front/);
      assert.equal(readHandsetState(dir).running['com.example.news']!.pid, first);
      const stop = await shell('am force-stop com.example.news');
      assert.deepEqual([stop.code, stop.out, stop.err], [0, '', '']);
      assert.notEqual((await shell(`test -d /proc/${first}`)).code, 0, 'the process is gone');
      assert.equal((await shell('pidof com.example.news')).code, 1);
      const missing = await shell('am start -n com.nope/.MainActivity');
      assert.equal(missing.code, 1);
      assert.match(missing.err, /^Error type 3\nError: Activity class \{com\.nope\/com\.nope\.MainActivity\} does not exist\.$/m);
      const monkey = await shell('monkey -p com.example.news -c android.intent.category.LAUNCHER 1');
      assert.equal(monkey.code, 0, monkey.err);
      const second = readHandsetState(dir).running['com.example.news']!.pid;
      assert.notEqual(second, first);
      assert.equal((await shell(`test -d /proc/${second}`)).code, 0, 'the new process runs');
    });

    it('a VIEW intent opens the built-in browser under its own uid: getaddrinfo through DNS64, an IPv4-only host over NAT64', async () => {
      const browser = 'com.android.browser';
      assert.match((await shell('pm list packages')).out, /^package:com\.android\.browser$/m);
      const browserUid = Number(/(?:userId|appId)=(\d+)/.exec((await shell(`dumpsys package ${browser}`)).out)?.[1]);
      assert.equal(browserUid, 10099);
      let owners: { uid: number; remotePort: number; state: string }[] = [];
      const browsed = await capture(async () => {
        const started = await shell('am start -W -a android.intent.action.VIEW -d https://img.news.test/index.html');
        assert.equal(started.code, 0, started.err);
        assert.match(
          started.out,
          /^Starting: Intent \{ act=android\.intent\.action\.VIEW dat=https:\/\/img\.news\.test\/\.\.\. \}\nStatus: ok\nLaunchState: COLD\nActivity: com\.android\.browser\/\.MainActivity\n/,
        );
        const page = await loaded(stateDir, browser);
        assert.equal(page.ok, true, JSON.stringify(logOf(stateDir, browser)));
        owners = await until('a socket of the browser in /proc/net/tcp6', async () => {
          const rows = socketOwners((await shell('cat /proc/net/tcp6 /proc/net/tcp')).out).filter((r) => r.uid === browserUid);
          return rows.length > 0 ? rows : null;
        });
      });
      assert.ok(
        owners.some((r) => r.remotePort === 443),
        JSON.stringify(owners),
      );
      const log = logOf(stateDir, browser);
      // One getaddrinfo, answered with DNS64's synthesized AAAA; one connection to port 443.
      assert.deepEqual(
        log.filter((e) => e.event === 'dns').map((e) => e.query),
        ['getaddrinfo'],
      );
      const connected = log.filter((e) => e.event === 'attempt' && e.outcome === 'connected');
      assert.equal(connected.length, 1, JSON.stringify(log));
      assert.match(String(connected[0]!.address), /^64:ff9b::/);
      assert.deepEqual(
        log.filter((e) => e.event === 'request').map((e) => [e.host, e.port, e.mode, e.ok, e.bytes]),
        [['img.news.test', 443, 'system', true, 20000]],
      );
      assert.ok(
        browsed.flows.some((f) => f.server === connected[0]!.address && f.serverPort === 443 && f.path === 'nat64'),
        describeFlows(browsed),
      );
      const pid = readHandsetState(join(stateDir, 'handsets/hs0')).running[browser]!.pid;
      assert.match((await shell(`cat /proc/${pid}/status`)).out, new RegExp(`^Uid:\\s+${browserUid}\\s`, 'm'));
      const refused = await shell('am start -a android.intent.action.VIEW -d ftp://img.news.test/a');
      assert.equal(refused.code, 1);
      assert.equal(
        refused.err,
        'Error: Activity not started, unable to resolve Intent { act=android.intent.action.VIEW dat=ftp://img.news.test/... flg=0x10000000 }\n',
      );
    });

    it('the programmatic API captures around its own steps: News warns (SERVER_NO_IPV6) by its uid, Legacy fails (NO_AAAA_QUERY), and analyze --app reads the uid from the device', async () => {
      const evidenceDir = join(work, 'api-evidence');
      await assert.rejects(
        openAppCapture({ serial: 'emulator-5999', adb: { port: cli.serverPort } }),
        (e: unknown) => e instanceof DeviceUnavailableError && /emulator-5999/.test(e.message),
      );
      const capture = await openAppCapture({ serial: SERIAL, adb: { port: cli.serverPort }, evidenceDir, methods: ['device'] });
      try {
        const facts = await capture.observeNetwork();
        assert.equal(facts.defaultNetwork?.type, 'MOBILE');
        assert.equal(facts.defaultNetwork?.nat64Prefix, '64:ff9b::/96');
        assert.ok(facts.defaultNetwork?.clat?.interface?.startsWith('v4-'), JSON.stringify(facts));
        assert.ok((facts.defaultNetwork?.ipv6Addresses.length ?? 0) > 0, JSON.stringify(facts));
        await assert.rejects(capture.startCapture('com.nope'), (e: unknown) => e instanceof PackageNotInstalledError && e.pkg === 'com.nope');
        await assert.rejects(capture.stopCapture(), CaptureStateError);
        // The caller's own steps: a cold start, the start page, the app stopped (as certify's window).
        const run = (pkg: string) => async () => {
          await shell(`am force-stop ${pkg}`);
          const before = logOf(stateDir, pkg).filter((e) => e.event === 'loaded').length;
          assert.equal((await shell(`monkey -p ${pkg} -c android.intent.category.LAUNCHER 1`)).code, 0);
          await until(
            `${pkg} to load its start page again`,
            () => (logOf(stateDir, pkg).filter((e) => e.event === 'loaded').length > before ? true : null),
            20_000,
          );
          await sleep(500);
          await shell(`am force-stop ${pkg}`);
        };
        const news = await capture.judgeApp('com.example.news', run('com.example.news'));
        assert.equal(news.verdict, 'warn', JSON.stringify(news.reasons));
        assert.deepEqual(news.app, { package: 'com.example.news', uid: newsUid });
        assert.ok(news.metrics.attribution === 'uid' || news.metrics.attribution === 'mixed', news.metrics.attribution);
        assert.ok(
          news.reasons.some((r) => r.code === 'SERVER_NO_IPV6' && r.hostnames.includes('img.news.test')),
          JSON.stringify(news.reasons),
        );
        assert.equal(news.evidence.captureMethod, 'device');
        const saved = JSON.parse(readFileSync(news.evidence.analysis!, 'utf8')) as { judgement: { verdict: string } };
        assert.equal(saved.judgement.verdict, 'warn');
        const legacy = await capture.judgeApp('com.example.legacy', run('com.example.legacy'), { policy: { minIpv6Share: 0 } });
        assert.equal(legacy.verdict, 'fail', JSON.stringify(legacy.reasons));
        assert.ok(
          legacy.reasons.some((r) => r.code === 'NO_AAAA_QUERY' && r.hostnames.includes('legacy.shop.test')),
          JSON.stringify(legacy.reasons),
        );
        assert.equal(legacy.policy.minIpv6Share, 0);
        assert.notEqual(legacy.evidence.pcap, news.evidence.pcap);
        assert.equal(news.appLog, undefined, 'a judged window reads no log');
        // Steps that never start the app: nothing either way, and the app's own log over the
        // window is read (logcat by its uid) and kept beside the pcap.
        const idle = await capture.judgeApp('com.example.news', async () => {
          await sleep(300);
        });
        assert.deepEqual([idle.verdict, idle.reasons.map((r) => r.code)], ['inconclusive', ['NO_TRAFFIC']]);
        assert.deepEqual(idle.appLog?.command.slice(0, 5), ['logcat', '-d', '-v', 'threadtime', `--uid=${newsUid}`]);
        assert.equal(idle.appLog?.error, null, JSON.stringify(idle.appLog));
        assert.ok(idle.appLog?.file?.startsWith(evidenceDir) && existsSync(idle.appLog.file), JSON.stringify(idle.appLog));

        // The CLI on the API's own evidence: the uid read from the device, the whole capture by window.
        const env = { ANDROID_ADB_SERVER_PORT: String(cli.serverPort) };
        const fails = await v6lab(['analyze', legacy.evidence.pcap!, '--app', 'com.example.legacy', '--device', SERIAL, '--json'], env);
        assert.equal(fails.code, 1, fails.stderr);
        assert.deepEqual(JSON.parse(fails.stdout).judgement.app, { package: 'com.example.legacy', uid: null });
        const missing = await v6lab(['analyze', legacy.evidence.pcap!, '--app', 'com.nope', '--device', SERIAL], env);
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /emulator-5554: com\.nope is not installed/);
      } finally {
        await capture.close();
        // The apps this test stopped run again, as the handset had them (lab down counts them).
        for (const pkg of ['com.example.news', 'com.example.legacy']) await shell(`monkey -p ${pkg} -c android.intent.category.LAUNCHER 1`);
      }
    });

    it('lab down stops every app with the handset', async () => {
      assert.ok(Object.keys(readHandsetState(join(stateDir, 'handsets/hs0')).running).length >= 3);
      // The apps as the host numbers them: every process in the handset's network namespace.
      const namespace = readRegistry(stateDir)[0]!.namespace;
      const inHandset = await processesInNamespaces([namespace]);
      assert.ok(inHandset.length >= 3, JSON.stringify(inHandset));
      await bringLabDown(stateDir);
      // A process that exited may linger as a zombie: by PID and start time, as the lab itself
      // tells a live process from a dead one.
      for (const proc of inHandset) assert.equal(await isRunning(proc), false, `${proc.name} (pid ${proc.pid}) still runs`);
    });
  });

  describe('on a dual-stack attach', () => {
    const stateDir = join(work, 'v4v6');

    before(async () => {
      await up(stateDir, 'ipv4v6');
    });
    after(() => down(stateDir));

    it('ipv4-first: the first attempt is native IPv4; happy-eyeballs still prefers IPv6', async () => {
      const analysis = await capture(async () => {
        for (const pkg of ['com.example.shop', 'com.example.news']) {
          const started = await shell(`am start -n ${pkg}/.MainActivity`);
          assert.equal(started.code, 0, started.err);
        }
        for (const pkg of ['com.example.shop', 'com.example.news']) assert.equal((await loaded(stateDir, pkg)).ok, true);
      });
      const pay = analysis.hostnames.find((h) => h.name === 'pay.shop.test');
      assert.equal(pay?.firstAttemptFamily, 4, describeFlows(analysis));
      assert.ok(
        analysis.flows.filter((f) => f.hostname === 'pay.shop.test').every((f) => f.path === 'native-v4'),
        describeFlows(analysis),
      );
      const firstAttempt = logOf(stateDir, 'com.example.shop').find((e) => e.event === 'attempt');
      assert.equal(firstAttempt?.family, 4);
      assert.ok(
        analysis.flows.some((f) => f.hostname === 'api.news.test' && f.path === 'native-v6'),
        describeFlows(analysis),
      );
      assert.ok(
        analysis.flows.some((f) => f.hostname === 'img.news.test' && f.path === 'native-v4'),
        describeFlows(analysis),
      );
    });
  });
});
