// Real clients judged by certify (issue 20): the example apps of devices/lab/apps-real, each a
// real program (curl, Python's urllib, Node's fetch two ways, wget -4, Chromium headless) run by
// an emulated app under its uid, in a world of a dual-stack host, an IPv4-only host and a host
// whose IPv6 is blackholed. `v6lab certify --suite apps` judges each on the IPv6-only APN (DNS64,
// NAT64, CLAT) and on the dual-stack one, and each gets the verdict its program's documented
// behaviour predicts (EXPECTED below, each with the documentation it comes from; the same table
// is in devices/lab/apps-real/README.md). An app whose program moves nothing is inconclusive, and
// the harness shows the app's own log (logcat by its uid: the program's exit status and stderr).
// Root and namespaces needed: skips with the reason elsewhere, fails in CI (CI=true).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResults } from '../../lib/report/results.js';
import { projectRoot, v6lab } from '../support/cli.js';
import { labSession } from '../support/lab-session.js';

const SERIAL = 'emulator-5554';
const REAL = join(projectRoot, 'devices/lab/apps-real');
const SILENT = 'com.real.silent';

type Network = 'ipv6' | 'ipv4v6';
type Path = 'native-v6' | 'nat64' | 'clat' | 'native-v4';
interface Expected {
  verdict: 'pass' | 'warn' | 'fail';
  /** Each reason as `CODE host` (a reason about the whole app: `CODE`). */
  reasons: string[];
  /** The path each host was reached on (its flows that carried a request). */
  paths: Record<string, Path[]>;
}

const BOTH = 'both.real.test';
const V4 = 'v4.real.test';
const HOLE = 'hole.real.test';

/**
 * What a Happy Eyeballs client (RFC 8305) does here: IPv6 first for the dual-stack host; the
 * IPv4-only host through its DNS64 AAAA (NAT64) on the IPv6-only APN, over IPv4 on the dual-stack
 * one; the blackholed host's IPv6 attempt unanswered and IPv4 started within a fraction of a
 * second (through the CLAT on the IPv6-only APN): IPV6_FAILED without SLOW_FALLBACK. A third of
 * the bytes on native IPv6: LOW_IPV6_SHARE.
 */
const happyEyeballs = (network: Network): Expected => ({
  verdict: 'warn',
  reasons: [`IPV6_FAILED ${HOLE}`, 'LOW_IPV6_SHARE', `SERVER_NO_IPV6 ${V4}`],
  paths: {
    [BOTH]: ['native-v6'],
    [HOLE]: [network === 'ipv6' ? 'clat' : 'native-v4'],
    [V4]: [network === 'ipv6' ? 'nat64' : 'native-v4'],
  },
});

const EXPECTED: Record<string, (network: Network) => Expected> = {
  // curl(1), --happy-eyeballs-timeout-ms: "attempts to connect to both IPv4 and IPv6 addresses
  // for dual-stack hosts, giving IPv6 a head-start of the specified number of milliseconds"
  // (default 200).
  'com.real.curl': happyEyeballs,
  // Node.js 20, net.connect: autoSelectFamily defaults to true (v20.0.0), with
  // autoSelectFamilyAttemptTimeout 250 ms; dns.lookup keeps the resolver's order (verbatim, v17).
  // fetch (undici) connects through net.connect.
  'com.real.node': happyEyeballs,
  // Chromium, net/socket/transport_connect_job.cc: IPv6 first, an IPv4 attempt 300 ms later
  // (kIPv6FallbackTime) if IPv6 has not connected.
  'com.real.chromium': happyEyeballs,
  // Python, socket.create_connection (what urllib's HTTPConnection calls): "try to connect to all
  // possible addresses in turn until a connection succeeds", in getaddrinfo's order (IPv6 first by
  // RFC 6724's precedence in glibc), each attempt bounded by urlopen's timeout, 3 s here. So the
  // blackholed host falls back to IPv4 3 s late: SLOW_FALLBACK besides IPV6_FAILED.
  'com.real.python': (network) => ({
    ...happyEyeballs(network),
    reasons: [`IPV6_FAILED ${HOLE}`, 'LOW_IPV6_SHARE', `SERVER_NO_IPV6 ${V4}`, `SLOW_FALLBACK ${HOLE}`],
  }),
  // The same with urlopen's timeout left out: "the global default timeout setting will be used",
  // none, so an attempt waits for the kernel's SYN retries (tcp_syn_retries 6: about two minutes),
  // longer than the window. The blackholed host's IPv6 attempt is the last thing it does here: no
  // IPv4 attempt, SLOW_FALLBACK "never". Force-stop ends the waiting program with its app.
  'com.real.python.notimeout': (network) => {
    const { [HOLE]: _, ...paths } = happyEyeballs(network).paths;
    return {
      verdict: 'warn',
      reasons: [`IPV6_FAILED ${HOLE}`, 'LOW_IPV6_SHARE', `SERVER_NO_IPV6 ${V4}`, `SLOW_FALLBACK ${HOLE}`],
      paths,
    };
  },
  // Node.js, --dns-result-order=ipv4first ("sets the default value of order in dns.lookup() to
  // ipv4first") and --no-network-family-autoselection (no Happy Eyeballs): the first address, an
  // IPv4 one, whenever the name has one. IPV4_FIRST wherever an AAAA answer had come: every host
  // on the IPv6-only APN (DNS64 answers AAAA for the IPv4-only one too), the two with AAAA records
  // on the dual-stack APN. Nothing on native IPv6.
  'com.real.node.ipv4first': (network) => ({
    verdict: 'fail',
    reasons: [`IPV4_FIRST ${BOTH}`, `IPV4_FIRST ${HOLE}`, ...(network === 'ipv6' ? [`IPV4_FIRST ${V4}`] : []), 'LOW_IPV6_SHARE', `SERVER_NO_IPV6 ${V4}`].sort(),
    paths: Object.fromEntries([BOTH, HOLE, V4].map((h) => [h, [network === 'ipv6' ? 'clat' : 'native-v4']])),
  }),
  // wget(1), -4 / --inet4-only: "Wget will only connect to IPv4 hosts"; it resolves with
  // getaddrinfo(AF_INET), which asks A only: NO_AAAA_QUERY for every host. It asked no AAAA, so
  // nothing is known of the servers' records: no SERVER_NO_IPV6 (a rule this app corrected).
  'com.real.wget.ipv4': (network) => ({
    verdict: 'fail',
    reasons: ['LOW_IPV6_SHARE', `NO_AAAA_QUERY ${BOTH}`, `NO_AAAA_QUERY ${HOLE}`, `NO_AAAA_QUERY ${V4}`],
    paths: Object.fromEntries([BOTH, HOLE, V4].map((h) => [h, [network === 'ipv6' ? 'clat' : 'native-v4']])),
  }),
};

describe('lab: real clients judged by certify on both APNs (issue 20)', function () {
  this.timeout(420_000);
  const lab = labSession('the real-client lab tests', ['compliant'], 1, {
    // The clients themselves (lab up would refuse an app whose program is missing).
    tools: { programs: ['curl', 'wget', 'python3', 'node', 'chromium'], packages: 'curl wget python3-minimal nodejs chromium' },
    beforeUp: (work) => {
      // The shipped examples, and one app whose program moves nothing.
      const apps = join(work, 'apps');
      mkdirSync(apps);
      for (const f of readdirSync(join(REAL, 'apps'))) copyFileSync(join(REAL, 'apps', f), join(apps, f));
      writeFileSync(
        join(apps, 'silent.json'),
        JSON.stringify({ package: SILENT, label: 'silent', start: 'home', pages: { home: { requests: [{ run: ['ls', '/nonexistent-v6lab'] }] } } }),
      );
      const catalogue = JSON.parse(readFileSync(join(REAL, 'catalogue.json'), 'utf8')) as { apps: object[] };
      catalogue.apps.push({ package: SILENT, label: 'silent', dwellMs: 1500 });
      writeFileSync(join(work, 'catalogue.json'), JSON.stringify(catalogue));
    },
    upArgs: (work) => ['--world', join(REAL, 'world.json'), '--apps', join(work, 'apps')],
  });
  let results: RunResults;
  let console: string;
  const out = () => join(lab.work, 'out');

  before(async () => {
    const run = await v6lab(
      ['certify', '--devices', SERIAL, '--suite', 'apps', '--apps', join(lab.work, 'catalogue.json'), '--out', out(), '--lang', 'en'],
      lab.env,
      400_000,
    );
    // Apps fail (IPV4_FIRST, NO_AAAA_QUERY): exit 1, never a harness error.
    assert.equal(run.code, 1, run.stderr.slice(-3000));
    results = JSON.parse(readFileSync(join(out(), 'results.json'), 'utf8')) as RunResults;
    console = run.stdout;
  });

  for (const network of ['ipv6', 'ipv4v6'] as const) {
    for (const [pkg, expect] of Object.entries(EXPECTED)) {
      it(`${pkg} on the ${network === 'ipv6' ? 'IPv6-only' : 'dual-stack'} APN gets the verdict its documented behaviour predicts`, () => {
        const r = results.results.find((x) => x.app === pkg && x.network === network);
        assert.ok(r, `${pkg} ${network}: no result`);
        const want = expect(network);
        const reasons = r.reasons
          .map((x) => {
            const host = x.messages?.[0]?.args?.host;
            return typeof host === 'string' ? `${x.code} ${host}` : x.code;
          })
          .sort();
        assert.deepEqual([r.verdict, reasons], [want.verdict, [...want.reasons].sort()], JSON.stringify(r.reasons));
        // Each host on the path the program's behaviour takes, from the check's own evidence: the
        // flows that carried a request (a Happy Eyeballs loser, connected and closed unused, did not).
        const analysisFile = r.evidence.find((e) => e.endsWith('.analysis.json'))!;
        const doc = JSON.parse(readFileSync(join(out(), analysisFile), 'utf8')) as {
          attribution: { flows: number[] };
          analysis: { flows: { id: number; hostname: string | null; path: Path; clientPayloadBytes: number; application: string | null }[] };
        };
        const mine = new Set(doc.attribution.flows);
        const paths: Record<string, Set<Path>> = {};
        for (const f of doc.analysis.flows) {
          if (!mine.has(f.id) || f.application === 'dns' || f.clientPayloadBytes === 0 || f.hostname === null) continue;
          (paths[f.hostname] ??= new Set()).add(f.path);
        }
        assert.deepEqual(
          Object.fromEntries(Object.entries(paths).map(([h, p]) => [h, [...p].sort()])),
          want.paths,
          `${pkg} ${network}: the paths its requests took`,
        );
      });
    }

    it(`an app whose program moved nothing is inconclusive on the ${network} APN, and its own log says why`, () => {
      const r = results.results.find((x) => x.app === SILENT && x.network === network)!;
      assert.deepEqual([r.status, r.verdict, r.reasons.map((x) => x.code)], ['failed', 'inconclusive', ['NO_TRAFFIC']]);
      const [appLog] = r.appLogs ?? [];
      assert.ok(appLog && appLog.error === null && appLog.file !== null, JSON.stringify(r.appLogs));
      assert.deepEqual(appLog.command.slice(0, 4), ['logcat', '-d', '-v', 'threadtime']);
      // logcat -v threadtime: `MM-DD hh:mm:ss.mmm  PID  TID P TAG     : message` (AOSP logprint.cpp).
      assert.match(appLog.tail.join('\n'), /^\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +\d+ +\d+ W RealProgram: ls \/nonexistent-v6lab: exited 2 after \d+ ms$/m);
      assert.match(appLog.tail.join('\n'), /W RealProgram: stderr: ls: cannot access '\/nonexistent-v6lab': No such file or directory/);
      // Only this window's lines: the other network's run is not in it.
      assert.equal(appLog.tail.filter((l) => l.includes('exited 2')).length, 1, appLog.tail.join('\n'));
      assert.ok(r.evidence.includes(appLog.file), 'the whole log is evidence');
      assert.match(readFileSync(join(out(), appLog.file), 'utf8'), /RealProgram: stderr: ls: cannot access/);
      // Shown where a person looks: the console summary, the report, junit.xml.
      assert.match(
        console,
        new RegExp(`the app's log \\(logcat -d -v threadtime --uid=\\d+ -T [0-9.]+\\), last 2 of 2 lines, whole in ${appLog.file.replaceAll('.', '\\.')}`),
      );
      assert.match(console, /\n {6}.* W RealProgram: stderr: ls: cannot access/);
      assert.match(readFileSync(join(out(), 'index.html'), 'utf8'), /RealProgram: stderr: ls: cannot access &#39;\/nonexistent-v6lab&#39;/);
      assert.match(readFileSync(join(out(), 'junit.xml'), 'utf8'), /W RealProgram: ls \/nonexistent-v6lab: exited 2/);
    });
  }

  it("leaves no process of an app behind: force-stop took the programs' process groups too", async () => {
    const ps = await lab.cli.run(['-s', SERIAL, 'shell', 'ps -A -o uid=,args=']);
    const appProcesses = ps.stdout
      .toString()
      .split('\n')
      .filter((l) => Number(l.trim().split(/\s+/)[0]) >= 10_000);
    assert.deepEqual(appProcesses, []);
  });
});
