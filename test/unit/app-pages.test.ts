// Where the IPv4 still is, page by page, and an app judged over repeated runs (issue 18): the
// window cut at the catalogue's page steps, each page's bytes by path and its hosts over IPv4 or
// NAT64 ranked by bytes, from small captures through the real analyzer; the multi-run verdict
// rule as appRunsVerdict decides it; page steps in a catalogue checked like every other field.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IncrementalAnalyzer, type CaptureAnalysis } from '../../lib/analysis/index.js';
import { pageShares, pageSpans, type PathBytes } from '../../lib/checks/app-pages.js';
import { appRunsVerdict, appVerdict, DEFAULT_POLICY, type AppVerdict } from '../../lib/checks/app-verdict.js';
import { DataFileError } from '../../lib/config/schema.js';
import { LAUNCH_PAGE, loadCatalogue, marksPages } from '../../lib/harness/catalogue.js';
import { labCatalogue } from '../../lib/lab/record.js';
import { loadApps, loadWorld } from '../../lib/lab/world.js';
import { validateResults } from '../../lib/report/results.js';
import { HandsetCapture, IFINDEX } from '../support/scenario.js';

const HS = '2001:db8:1::100';
const DNS = '2001:db8:1::53';
const CLAT6 = '2001:db8:1::464';
const root = join(import.meta.dirname, '../..');

function analyze(capture: HandsetCapture): CaptureAnalysis {
  const a = new IncrementalAnalyzer({ nat64Prefixes: ['64:ff9b::/96'], clatAddresses: [CLAT6] });
  a.push(capture.pcap());
  return a.finish();
}

const appFlows = (analysis: CaptureAnalysis) => new Set(analysis.flows.filter((f) => f.serverPort !== 53).map((f) => f.id));

/**
 * An app on an IPv6-only APN: Home (from launch) loads its API over native IPv6 and its images
 * from an IPv4-only host through NAT64; Article (marked at 2 s) loads over IPv6, reaches an IPv4
 * literal through the CLAT and the image host again; the dwell after Back is Article's still.
 */
const newsWindow = () =>
  new HandsetCapture()
    .dns(0.05, HS, DNS, 3000, 1, 'api.news.test', 'AAAA', ['2001:db8:2::10'])
    .tcp(0.1, HS, 4000, '2001:db8:2::10', 443, { responseBytes: 40000 })
    .dns(0.05, HS, DNS, 3001, 2, 'img.news.test', 'AAAA', ['64:ff9b::6440:14'])
    .tcp(0.2, HS, 4001, '64:ff9b::6440:14', 443, { responseBytes: 12000 })
    .tcp(2.1, HS, 4002, '2001:db8:2::10', 443, { responseBytes: 8000 })
    .tcp(2.2, '192.0.0.4', 4003, '100.64.0.30', 443, { responseBytes: 3000, ifIndex: IFINDEX.clat })
    .tcp(2.2001, CLAT6, 4003, '64:ff9b::6440:1e', 443, { responseBytes: 3000, twice: true })
    .tcp(2.3, HS, 4004, '64:ff9b::6440:14', 443, { responseBytes: 6000 });

describe('app pages: where the IPv4 still is, per page (issue 18)', () => {
  it('names the launch screen by a first page step, else "launch"; no page steps, no pages', () => {
    assert.deepEqual(pageSpans([], 10, LAUNCH_PAGE), []);
    assert.deepEqual(
      pageSpans(
        [
          { page: 'Home', at: null },
          { page: 'Article', at: 12 },
        ],
        10,
        LAUNCH_PAGE,
      ),
      [
        { page: 'Home', start: 10 },
        { page: 'Article', start: 12 },
      ],
    );
    assert.deepEqual(pageSpans([{ page: 'Article', at: 12 }], 10, LAUNCH_PAGE), [
      { page: 'launch', start: 10 },
      { page: 'Article', start: 12 },
    ]);
  });

  it('cuts the window at the page steps: bytes by path per page, adding up to the whole verdict', () => {
    const analysis = analyze(newsWindow());
    const flows = appFlows(analysis);
    const spans = pageSpans(
      [
        { page: 'Home', at: null },
        { page: 'Article', at: 2 },
      ],
      0,
      LAUNCH_PAGE,
    );
    const pages = pageShares(analysis, flows, spans, 1);
    assert.deepEqual(
      pages.map((p) => p.page),
      ['Home', 'Article'],
    );
    const [home, article] = pages;
    assert.equal(home!.bytes.clat, 0);
    assert.equal(home!.bytes['native-v4'], 0);
    assert.ok(home!.bytes['native-v6'] > home!.bytes.nat64 && home!.bytes.nat64 > 0, JSON.stringify(home));
    assert.ok(article!.bytes.clat > 0 && article!.bytes.nat64 > 0 && article!.bytes['native-v6'] > 0, JSON.stringify(article));
    // The share is native IPv6's, as the app check's nativeV6ByteShare.
    const total = (b: PathBytes) => b['native-v6'] + b.nat64 + b.clat + b['native-v4'];
    assert.equal(home!.ipv6Share, home!.bytes['native-v6'] / total(home!.bytes));
    // The pages add up to the window the app was judged on, path by path.
    const whole = appVerdict(analysis, flows).metrics.bytesByPath;
    for (const path of ['native-v6', 'nat64', 'clat', 'native-v4'] as const) assert.equal(home!.bytes[path] + article!.bytes[path], whole[path], path);
    assert.ok(pages.every((p) => p.run === 1));
  });

  it('ranks the hosts reached over IPv4 or NAT64 by bytes, with their share of the page; an unnamed one by its IPv4 address', () => {
    const analysis = analyze(newsWindow());
    const spans = pageSpans(
      [
        { page: 'Home', at: null },
        { page: 'Article', at: 2 },
      ],
      0,
      LAUNCH_PAGE,
    );
    const [home, article] = pageShares(analysis, appFlows(analysis), spans, 2);
    assert.deepEqual(
      home!.ipv4Hosts.map((h) => [h.host, h.path]),
      [['img.news.test', 'nat64']],
    );
    assert.equal(home!.ipv4Hosts[0]!.bytes, home!.bytes.nat64);
    assert.equal(home!.ipv4Hosts[0]!.share, home!.bytes.nat64 / (home!.bytes['native-v6'] + home!.bytes.nat64));
    // The image host moved more than the literal: it comes first; the literal is named by the
    // IPv4 address it embeds, the CLAT socket counted once.
    assert.deepEqual(
      article!.ipv4Hosts.map((h) => [h.host, h.path]),
      [
        ['img.news.test', 'nat64'],
        ['100.64.0.30', 'clat'],
      ],
    );
    assert.ok(article!.ipv4Hosts[0]!.bytes > article!.ipv4Hosts[1]!.bytes);
    assert.equal(article!.ipv4Hosts[1]!.bytes, article!.bytes.clat);
    assert.ok(article!.ipv4Hosts.every((h) => h.share > 0 && h.share < 1));
    assert.ok(home!.run === 2 && article!.run === 2);
  });

  it('counts a flow whole on the page where it began, and sums a page visited twice into one row', () => {
    const analysis = analyze(
      new HandsetCapture()
        // Begins on Home, runs on past Article's mark: Home's.
        .tcp(0.1, HS, 4000, '2001:db8:2::10', 443, { responseBytes: 40000 })
        .tcp(3.5, HS, 4001, '2001:db8:2::10', 443, { responseBytes: 1000 })
        .tcp(5.5, '10.0.0.2', 4002, '100.64.0.50', 443, { responseBytes: 1000 }),
    );
    const flows = appFlows(analysis);
    const spans = pageSpans(
      [
        { page: 'Home', at: null },
        { page: 'Article', at: 0.15 },
        { page: 'Home', at: 5 },
      ],
      0,
      LAUNCH_PAGE,
    );
    const pages = pageShares(analysis, flows, spans, 1);
    assert.deepEqual(
      pages.map((p) => p.page),
      ['Home', 'Article'],
    );
    const byId = (port: number) => analysis.flows.find((f) => f.clientPort === port)!.bytes;
    assert.equal(pages[0]!.bytes['native-v6'], byId(4000));
    assert.equal(pages[0]!.bytes['native-v4'], byId(4002));
    assert.equal(pages[1]!.bytes['native-v6'], byId(4001));
    assert.deepEqual(pages[0]!.ipv4Hosts, [{ host: '100.64.0.50', path: 'native-v4', bytes: byId(4002), share: byId(4002) / (byId(4000) + byId(4002)) }]);
  });

  it('a page that moved nothing has no share (null), never 0% or 100%', () => {
    const analysis = analyze(new HandsetCapture().tcp(0.1, HS, 4000, '2001:db8:2::10', 443, { responseBytes: 1000 }));
    const pages = pageShares(analysis, appFlows(analysis), pageSpans([{ page: 'Settings', at: 3 }], 0, LAUNCH_PAGE), 1);
    assert.deepEqual(
      pages.map((p) => [p.page, p.ipv6Share]),
      [
        ['launch', 1],
        ['Settings', null],
      ],
    );
  });

  it('its figures are what results.json accepts as CheckResult.pages', () => {
    const analysis = analyze(newsWindow());
    const pages = pageShares(analysis, appFlows(analysis), pageSpans([{ page: 'Home', at: null }], 0, LAUNCH_PAGE), 1);
    const doc = {
      run: { id: 'r', started: '2026-12-03T10:00:00.000Z', finished: null, tool: { name: 'v6lab', version: '0' } },
      devices: [],
      results: [
        {
          device: 's',
          check: 'apps.ipv6-first',
          app: 'com.example.news',
          network: 'ipv6',
          status: 'passed',
          verdict: 'warn',
          reasons: [],
          metrics: {},
          evidence: [],
          requirement: [],
          pages,
        },
      ],
    };
    assert.doesNotThrow(() => validateResults(doc, 'results.json'));
  });
});

/** A run's verdict as appVerdict gives it, from a small capture. */
function run(kind: 'v6' | 'half' | 'nothing' | 'literal'): AppVerdict {
  const c = new HandsetCapture();
  if (kind === 'v6' || kind === 'half')
    c.dns(0, HS, DNS, 3000, 1, 'api.news.test', 'AAAA', ['2001:db8:2::10']).tcp(0.1, HS, 4000, '2001:db8:2::10', 443, { responseBytes: 20000 });
  if (kind === 'half')
    c.dns(0, HS, DNS, 3001, 2, 'img.news.test', 'AAAA', ['64:ff9b::6440:14']).tcp(0.2, HS, 4001, '64:ff9b::6440:14', 443, { responseBytes: 20000 });
  if (kind === 'literal')
    c.tcp(0, '192.0.0.4', 4000, '100.64.0.30', 443, { responseBytes: 2000, ifIndex: IFINDEX.clat }).tcp(0.0001, CLAT6, 4000, '64:ff9b::6440:1e', 443, {
      responseBytes: 2000,
      twice: true,
    });
  const analysis = analyze(c);
  return appVerdict(analysis, appFlows(analysis));
}

describe('an app judged over repeated runs (--app-runs, issue 18)', () => {
  const codes = (v: { reasons: { code: string }[] }) => v.reasons.map((r) => r.code).sort();

  it('judges the share on the mean of the runs: one low run among good ones does not warn, a low mean does', () => {
    const one = run('half');
    assert.ok(
      one.reasons.some((r) => r.code === 'LOW_IPV6_SHARE'),
      'the half run alone is low',
    );
    const mostly = appRunsVerdict([run('v6'), one, run('v6')]);
    assert.ok(mostly.ipv6ShareMean! > DEFAULT_POLICY.minNativeIpv6Share, String(mostly.ipv6ShareMean));
    assert.ok(!codes(mostly).includes('LOW_IPV6_SHARE'), JSON.stringify(mostly.reasons));
    assert.equal(mostly.ipv6ShareMean, (1 + one.metrics.nativeV6ByteShare! + 1) / 3);
    const low = appRunsVerdict([one, one, run('v6')], DEFAULT_POLICY);
    assert.ok(low.ipv6ShareMean! < DEFAULT_POLICY.minNativeIpv6Share);
    const reason = low.reasons.find((r) => r.code === 'LOW_IPV6_SHARE')!;
    assert.match(reason.detail, /on average over 3 runs/);
    assert.equal(low.verdict, 'warn');
  });

  it('a run that fails fails the check; each finding is said once however many runs showed it', () => {
    const v = appRunsVerdict([run('v6'), run('literal'), run('literal')]);
    assert.equal(v.verdict, 'fail');
    assert.equal(v.reasons.filter((r) => r.code === 'IPV4_LITERAL').length, 1);
  });

  it('a run that saw nothing of the app makes the check inconclusive, naming the run: missing evidence is never a pass', () => {
    const v = appRunsVerdict([run('v6'), run('nothing')]);
    assert.equal(v.verdict, 'inconclusive');
    assert.match(v.reasons.find((r) => r.code === 'NO_TRAFFIC')!.detail, /run 2 of 2/);
    // The mean is of the runs that moved bytes.
    assert.equal(v.ipv6ShareMean, 1);
    assert.equal(appRunsVerdict([run('nothing'), run('nothing')]).ipv6ShareMean, null);
    // A failure is still a failure beside a silent run.
    assert.equal(appRunsVerdict([run('literal'), run('nothing')]).verdict, 'fail');
  });

  it('every run passing passes', () => {
    const v = appRunsVerdict([run('v6'), run('v6')]);
    assert.deepEqual([v.verdict, v.reasons, v.ipv6ShareMean], ['pass', [], 1]);
  });
});

describe('page steps in an app catalogue', () => {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-pages-'));
  let n = 0;
  const file = (content: unknown) => {
    const path = join(dir, `c${n++}.json`);
    writeFileSync(path, JSON.stringify(content));
    return path;
  };
  const withFlow = (flow: unknown[]) => ({ name: 'c', apps: [{ package: 'a.b', label: 'x', flow }] });

  it('loads page steps among the others; marksPages says whether an app has any', () => {
    const catalogue = loadCatalogue(file(withFlow([{ page: 'Home' }, { wait: 500 }, { page: '发现 Discover' }, { tap: '~Discover' }])));
    assert.deepEqual(catalogue.apps[0]!.flow[2], { page: '发现 Discover' });
    assert.equal(marksPages(catalogue.apps[0]!), true);
    assert.equal(marksPages({ flow: [{ wait: 1 }] }), false);
  });

  const bad: [string, unknown, RegExp][] = [
    ['an empty page name', '', /page name|empty/],
    ['a page name with a space at its end', 'Home ', /page name/],
    ['a page name with a newline', 'Ho\nme', /page name/],
    ['a page name that is not text', 3, /page name/],
    ['a page name too long', 'x'.repeat(81), /longer than 80/],
  ];
  for (const [what, name, problem] of bad) {
    it(`rejects ${what}, naming the file and the field`, () => {
      const path = file(withFlow([{ wait: 1 }, { page: name }]));
      assert.throws(
        () => loadCatalogue(path),
        (e: unknown) => e instanceof DataFileError && e.file === path && e.field === 'apps[0].flow[1].page' && problem.test(e.problem),
      );
    });
  }

  it('rejects a page step with another field beside it', () => {
    const path = file(withFlow([{ page: 'Home', tap: '~x' }]));
    assert.throws(
      () => loadCatalogue(path),
      (e: unknown) => e instanceof DataFileError && e.file === path && /apps\[0\]\.flow\[0\]/.test(e.field),
    );
  });

  it("the lab's catalogue marks a page for each screen of an app with links, the start page from launch", () => {
    const apps = loadApps(join(root, 'devices/lab/apps'), loadWorld(join(root, 'devices/lab/world.json')));
    const catalogue = loadCatalogue(file(labCatalogue(Object.fromEntries(apps.map((a) => [a.package, a.file])))));
    const news = catalogue.apps.find((a) => a.package === 'com.example.news')!;
    assert.deepEqual(
      news.flow.flatMap((s) => ('page' in s ? [s.page] : [])),
      ['home', 'article'],
    );
    assert.deepEqual(news.flow[0], { page: 'home' });
    // Each link's page is marked before its tap, so the page's loads are its own.
    const article = news.flow.findIndex((s) => 'page' in s && s.page === 'article');
    assert.deepEqual(news.flow[article + 1], { tap: '~article' });
    assert.equal(marksPages(catalogue.apps.find((a) => a.package === 'com.example.maps')!), false);
  });
});
