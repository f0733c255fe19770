// The reports of a run: the self-contained HTML certification report, JUnit (checked against the
// JUnit schema CI systems read, with xmllint), and the comparison of two runs. The run here is
// built with ResultsWriter and evidence files shaped as certify writes them; the report of a real
// run in a real browser is test/lab/certify.test.ts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { exitCodeOf, summary } from '../../lib/cli/certify.js';
import { EXIT } from '../../lib/cli/errors.js';
import { writePlan } from '../../lib/harness/plan.js';
import { externalLoads } from '../../lib/report/allure.js';
import { writeAllureResults, type AllureResult } from '../../lib/report/allure-results.js';
import { compareRuns } from '../../lib/report/compare.js';
import { CSS, renderHtmlReport } from '../../lib/report/html.js';
import { renderJunit } from '../../lib/report/junit.js';
import { readResults, ResultsWriter, type CheckResult, type RunResults } from '../../lib/report/results.js';
import { readRun } from '../../lib/report/run.js';
import { judgeRun } from '../../lib/report/verdict.js';
import { inCi, onPath } from '../support/lab-env.js';
import { v6lab } from '../support/cli.js';

const run = promisify(execFile);

const result = (over: Partial<CheckResult>): CheckResult => ({
  device: 'emulator-5554',
  check: 'os.apn-protocol',
  app: null,
  network: 'ipv4v6',
  status: 'passed',
  verdict: null,
  reasons: [],
  metrics: {},
  evidence: [],
  requirement: ['MIIT-3', 'RFC7849'],
  ...over,
});

/** A run of two devices: OS checks, and two apps with analysis evidence. */
function makeRun(newsMode: 'pass' | 'fail' = 'pass'): string {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-report-'));
  const writer = ResultsWriter.start(dir, '0.1.0', [
    { serial: 'emulator-5554', model: 'Ref <b>phone</b>', android: '14', virtual: true, profile: 'compliant' },
    { serial: 'emulator-5556', model: 'Legacy', android: '9', virtual: true, profile: 'noncompliant' },
  ]);
  mkdirSync(join(dir, 'devices/emulator-5554/ipv6'), { recursive: true });
  writeFileSync(
    join(dir, 'devices/emulator-5554/ipv4v6-apn.json'),
    JSON.stringify({ check: 'os.apn-protocol', evidence: { apn: 'ipv6.v6lab.test', protocol: 'IPV4V6' } }),
  );
  writer.add(result({ evidence: ['devices/emulator-5554/ipv4v6-apn.json'] }));
  writer.add(
    result({
      device: 'emulator-5556',
      status: 'failed',
      reasons: [{ code: 'APN_PROTOCOL_NOT_IPV4V6', detail: 'the default APN internet has protocol unset <script>alert(1)</script>' }],
    }),
  );
  const analysis = (bytes: Record<string, number>) => ({
    app: { window: { start: 100, end: 104 } },
    attribution: { method: 'uid', flows: [1, 2] },
    verdict: { metrics: { bytesByPath: bytes } },
    analysis: {
      flows: [
        { id: 0, hostname: 'time.test' },
        { id: 1, hostname: 'api.news.test' },
        { id: 2, hostname: 'img.news.test' },
      ],
      hostnames: [
        {
          name: 'api.news.test',
          firstAttemptFamily: 6,
          firstIpv6AttemptTs: 100.4,
          firstIpv4AttemptTs: 100.65,
          fallbackDelayMs: 250,
          ipv6Failed: true,
          nativeAaaa: ['2001:db8::1'],
        },
        {
          name: 'img.news.test',
          firstAttemptFamily: 4,
          firstIpv6AttemptTs: null,
          firstIpv4AttemptTs: 100.5,
          fallbackDelayMs: null,
          ipv6Failed: false,
          nativeAaaa: [],
        },
        {
          name: 'time.test',
          firstAttemptFamily: 4,
          firstIpv6AttemptTs: null,
          firstIpv4AttemptTs: 100.1,
          fallbackDelayMs: null,
          ipv6Failed: false,
          nativeAaaa: [],
        },
      ],
    },
  });
  for (const [app, verdict, bytes] of [
    ['com.example.news', newsMode, { 'native-v6': 3000, nat64: 1000, clat: 0, 'native-v4': 0 }],
    ['com.example.game', 'fail', { 'native-v6': 100, nat64: 0, clat: 900, 'native-v4': 0 }],
  ] as const) {
    const file = `devices/emulator-5554/ipv6/${app}.analysis.json`;
    writeFileSync(join(dir, file), JSON.stringify(analysis(bytes)));
    // The news app's pcap is missing: it is named as not available, never linked.
    if (app === 'com.example.game') writeFileSync(join(dir, `devices/emulator-5554/ipv6/${app}.pcap`), '');
    writer.add(
      result({
        check: 'apps.ipv6-first',
        app,
        network: 'ipv6',
        status: verdict === 'fail' ? 'failed' : 'passed',
        verdict,
        reasons:
          verdict === 'fail'
            ? [{ code: app === 'com.example.news' ? 'IPV4_FIRST' : 'IPV4_LITERAL', detail: 'connects to IPv4 address 100.64.1.9 that no DNS answer gave' }]
            : [],
        metrics: { nativeV6ByteShare: 0.75, checkMs: 4200 },
        evidence: [`devices/emulator-5554/ipv6/${app}.pcap`, file],
        requirement: ['MIIT-2', 'RFC8305'],
      }),
    );
  }
  writer.add(
    result({
      device: 'emulator-5556',
      check: 'apps.ipv6-first',
      app: 'com.example.news',
      network: 'ipv6',
      status: 'skipped',
      reasons: [{ code: 'NETWORK_UNAVAILABLE', detail: 'did not attach' }],
    }),
  );
  writer.add(
    result({
      check: 'apn.clat',
      network: 'ipv6',
      brokenAttempts: [{ reasons: [{ code: 'ADB_SERVER_DOWN', detail: 'the adb server on port 5037 went away' }] }],
    }),
  );
  writer.add(
    result({
      device: 'emulator-5556',
      check: 'apn.clat',
      network: 'ipv6',
      status: 'broken',
      reasons: [{ code: 'DEVICE_DISCONNECTED', detail: "device 'emulator-5556' not found" }],
    }),
  );
  writer.finish();
  return dir;
}

describe('the HTML certification report', () => {
  const dir = makeRun();
  const html = renderHtmlReport(readRun(dir));

  it('is one file that loads nothing from the network', () => {
    assert.deepEqual(externalLoads(html), []);
    assert.doesNotMatch(html, /https?:\/\//, 'no URL at all');
    assert.doesNotMatch(html, /<link\b|<script\b[^>]*\bsrc=/);
  });

  it("says each device's verdict in words and symbols, with its counts, escaping what it prints", () => {
    assert.match(html, /Ref &lt;b&gt;phone&lt;\/b&gt;/);
    assert.doesNotMatch(html, /<script>alert/);
    assert.match(html, /class="badge fail"><span aria-hidden="true">✗<\/span> fail/);
    assert.match(html, /0 passed, 1 failed, 1 broken, 1 skipped/);
  });

  it('has the requirements table with evidence, the app matrix, a fleet view, and the charts with their tables', () => {
    assert.match(html, /<tr class="pass" id="item-emulator-5554-os.apn-protocol-ipv4v6" data-check="os.apn-protocol">/);
    assert.match(html, /<a href="#req-MIIT-3">MIIT-3<\/a>/, "a check's requirement links to its anchor");
    assert.match(html, /<tbody id="req-MIIT-3" class="requirement">/);
    assert.match(html, /&quot;protocol&quot;: &quot;IPV4V6&quot;/, 'the evidence JSON, expandable');
    assert.match(html, /<td class="fail" data-app="com.example.game" data-device="emulator-5554" data-network="ipv6">/);
    assert.match(html, /<td class="skipped" data-app="com.example.news" data-device="emulator-5556"/);
    assert.match(html, /Fleet: checks by model/);
    assert.match(html, /data-chart="paths"/);
    assert.match(html, /data-chart="timeline"/);
    assert.match(html, /<th scope="row">api.news.test<\/th><td>IPv6<\/td><td>400 ms \(failed\)<\/td><td>650 ms<\/td><td>250 ms<\/td><td>yes<\/td>/);
    assert.doesNotMatch(html, /<th scope="row">time.test<\/th>/, "a hostname of a flow that is not the app's is not in its timeline");
    assert.match(html, /<a href="\.\/devices\/emulator-5554\/ipv6\/com.example.game.pcap" type="application\/vnd.tcpdump.pcap" download>/);
    assert.match(html, /devices\/emulator-5554\/ipv6\/com.example.news.pcap: not available \(missing\)/);
  });

  it('says when a check was run again after a transport fault, and why', () => {
    assert.match(html, /<li class="retried">run again after <code>ADB_SERVER_DOWN<\/code> the adb server on port 5037 went away<\/li>/);
  });
});

describe("the report's colours", () => {
  /** WCAG 2 relative luminance and contrast ratio. */
  const luminance = (hex: string) => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  };
  const contrast = (a: string, b: string) => {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x! + 0.05) / (y! + 0.05);
  };

  it('every verdict colour reads at 4.5:1 or better on its badge and on white (WCAG AA)', () => {
    const vars = Object.fromEntries([...CSS.matchAll(/--([a-z0-9-]+): (#[0-9a-f]{6})/g)].map((m) => [m[1]!, m[2]!]));
    for (const v of ['pass', 'warn', 'fail', 'incomplete', 'muted']) {
      assert.ok(contrast(vars[v]!, '#ffffff') >= 4.5, `${v} on white: ${contrast(vars[v]!, '#ffffff').toFixed(2)}`);
      if (vars[`${v}-bg`]) assert.ok(contrast(vars[v]!, vars[`${v}-bg`]!) >= 4.5, `${v} on its badge: ${contrast(vars[v]!, vars[`${v}-bg`]!).toFixed(2)}`);
    }
    assert.ok(contrast(vars.muted!, '#f0f0f0') >= 4.5, 'skipped and inconclusive badges');
  });
});

describe('comparing two runs', () => {
  it('marks exactly the app whose verdict changed, as a regression, and the way back as a fix', () => {
    const before = readResults(makeRun('pass'));
    const after = readResults(makeRun('fail'));
    const changes = compareRuns(after, before);
    assert.deepEqual(
      changes.map((c) => [c.change, c.app, c.network]),
      [['regressed', 'com.example.news', 'ipv6']],
    );
    assert.deepEqual(
      compareRuns(before, after).map((c) => [c.change, c.app]),
      [['fixed', 'com.example.news']],
    );
    const html = renderHtmlReport(readRun(makeRun('fail')), { compare: { dir: '/old', changes } });
    assert.match(html, /1 regressed, 0 fixed, 0 changed, 0 new, 0 gone/);
    assert.match(html, /<tr class="change-regressed" data-change="regressed" data-app="com.example.news">/);
  });
});

describe('junit.xml', () => {
  it('validates against the JUnit schema CI systems read, with failures, errors and skips counted', async function () {
    const xml = renderJunit(readResults(makeRun()));
    assert.match(xml, /<testsuites name="v6lab [^"]+" tests="7" failures="2" errors="1" skipped="1">/);
    assert.match(xml, /<system-out>requirement: MIIT-3, RFC7849\nrun again after ADB_SERVER_DOWN: the adb server on port 5037 went away<\/system-out>/);
    assert.match(xml, /<failure message="APN_PROTOCOL_NOT_IPV4V6: the default APN internet has protocol unset &lt;script&gt;/);
    if (!(await onPath('xmllint'))) {
      if (inCi) throw new Error('xmllint is missing (Debian: libxml2-utils)');
      console.warn('    skipping the schema check: xmllint is missing (Debian: libxml2-utils)');
      this.skip();
    }
    const file = join(mkdtempSync(join(tmpdir(), 'v6lab-junit-')), 'junit.xml');
    writeFileSync(file, xml);
    const { stderr } = await run('xmllint', ['--noout', '--schema', resolve(import.meta.dirname, '../fixtures/junit/junit.xsd'), file]);
    assert.match(stderr, /validates/);
    // The schema is strict enough to fail: a testcase without a name does not validate.
    writeFileSync(file, xml.replace(/<testcase classname="([^"]*)" name="[^"]*"/, '<testcase classname="$1"'));
    await assert.rejects(run('xmllint', ['--noout', '--schema', resolve(import.meta.dirname, '../fixtures/junit/junit.xsd'), file]));
  });
});

describe('v6lab report --merge: several runs, one fleet report', () => {
  /** A later run: a third handset, and the first one's news app checked again (now failing). */
  function laterRun(): string {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-report-later-'));
    const writer = ResultsWriter.start(
      dir,
      '0.1.0',
      [
        { serial: 'emulator-5554', model: 'Ref <b>phone</b>', android: '14', virtual: true, profile: 'compliant' },
        { serial: 'R58M123', model: 'Galaxy A54', android: '14', virtual: false, profile: 'devices/a54.json' },
      ],
      new Date(Date.now() + 3_600_000),
    );
    mkdirSync(join(dir, 'devices/R58M123'), { recursive: true });
    writeFileSync(
      join(dir, 'devices/R58M123/facts.json'),
      JSON.stringify({ model: 'Galaxy A54', manufacturer: 'samsung', android: '14', buildType: 'user', root: null, defaultNetwork: null }),
    );
    writer.add(
      result({
        check: 'apps.ipv6-first',
        app: 'com.example.news',
        network: 'ipv6',
        status: 'failed',
        verdict: 'fail',
        reasons: [{ code: 'IPV4_FIRST', detail: 'api.news.test: IPv4 first' }],
        requirement: ['MIIT-2'],
      }),
    );
    writer.add(result({ device: 'R58M123', check: 'os.apn-protocol' }));
    writer.finish();
    return dir;
  }

  it('holds every device of every run, the later result where two runs checked the same thing, with evidence links that resolve', async () => {
    const [first, later] = [makeRun(), laterRun()];
    const merged = join(mkdtempSync(join(tmpdir(), 'v6lab-merged-')), 'fleet');
    const r = await v6lab(['report', merged, '--merge', later, first, '--no-allure']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('/').pop()),
      ['results.json', 'index.html', 'junit.xml'],
    );
    const doc = readResults(merged);
    const [a, b] = [readResults(first), readResults(later)];
    assert.deepEqual(
      doc.run.merged!.map((m) => m.id),
      [a.run.id, b.run.id],
      'in order of their start',
    );
    assert.deepEqual(doc.devices.map((d) => d.serial).sort(), ['R58M123', 'emulator-5554', 'emulator-5556']);
    assert.equal(doc.results.length, a.results.length + 1, 'one new check; the news app on 5554 counted once');
    const news = doc.results.filter((x) => x.device === 'emulator-5554' && x.app === 'com.example.news');
    assert.deepEqual(
      news.map((x) => [x.verdict, x.run]),
      [['fail', b.run.id]],
    );
    const game = doc.results.find((x) => x.app === 'com.example.game')!;
    assert.equal(game.run, a.run.id);
    for (const file of doc.results.flatMap((x) => x.evidence).filter((e) => e.endsWith('.json')))
      assert.ok(existsSync(join(merged, file)), `${file} resolves from the merge`);
    const html = readFileSync(join(merged, 'index.html'), 'utf8');
    assert.match(html, /A merge of 2 runs/);
    assert.match(html, /Galaxy A54/);
    assert.match(html, /Fleet: checks by model/);
    assert.match(html, /<td class="fail" data-app="com.example.news" data-device="emulator-5554" data-network="ipv6">/);
    // Merging again into the same directory rebuilds it.
    assert.equal((await v6lab(['report', merged, '--merge', first, '--no-allure'])).code, 0);
    assert.equal(readResults(merged).devices.length, 2);
  });

  it('refuses, naming the file, a run given twice, a merge as an input, or a run directory as the output; writes nothing', async () => {
    const [first, later] = [makeRun(), laterRun()];
    const out = mkdtempSync(join(tmpdir(), 'v6lab-merged-'));
    const merged = join(out, 'fleet');
    const refusals: [string[], RegExp][] = [
      [[merged, '--merge', first, first], /is run .* which .* already is/],
      [[first, '--merge', later], /holds a run of its own/],
      [[merged, '--merge', merged, first], /results\.json/],
      [[merged, '--merge', join(out, 'nothing-here')], /no results\.json: is this a v6lab run directory\?/],
    ];
    for (const [args, why] of refusals) {
      const r = await v6lab(['report', ...args, '--no-allure']);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, why);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.deepEqual(readdirSync(out), [], 'nothing written');
    assert.equal(readResults(first).run.merged, undefined, 'the run refused as an output is untouched');
    assert.ok(!existsSync(join(first, 'devices/R58M123')));
    // A merge is not an input.
    assert.equal((await v6lab(['report', merged, '--merge', first, later, '--no-allure'])).code, 0);
    const r = await v6lab(['report', join(out, 'again'), '--merge', merged, '--no-allure']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is itself a merge/);
  });
});

/** A results.json as another process (or tool) wrote it: the document only, no evidence unless given. */
function craftRun(
  results: Partial<CheckResult>[],
  run: Partial<RunResults['run']> = {},
  devices: RunResults['devices'] = [{ serial: 'emulator-5554', model: 'Ref', android: '14', virtual: true, profile: 'compliant' }],
): string {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-crafted-'));
  const doc: RunResults = {
    run: {
      id: `crafted-${Math.random().toString(16).slice(2)}`,
      started: '2026-12-01T08:00:00.000Z',
      finished: '2026-12-01T08:05:00.000Z',
      tool: { name: 'v6lab', version: '0.1.0' },
      ...run,
    },
    devices,
    results: results.map(result),
  };
  writeFileSync(join(dir, 'results.json'), JSON.stringify(doc, null, 2));
  return dir;
}

const notInstalled = (app: string): Partial<CheckResult> => ({
  check: 'apps.ipv6-first',
  app,
  network: 'ipv6',
  status: 'skipped',
  reasons: [{ code: 'NOT_INSTALLED', detail: `${app} is not installed` }],
});

describe('the overall verdict (lib/report/verdict.ts)', () => {
  const doc = (results: Partial<CheckResult>[], run: Partial<RunResults['run']> = {}): RunResults => readResults(craftRun(results, run));

  it('is pass only when every check passed', () => {
    assert.equal(judgeRun(doc([{}, { check: 'os.ipv6-enabled', verdict: 'warn' }])).verdict, 'pass');
  });

  it('is incomplete, not pass, when every check was skipped, listing each with its reason', () => {
    const judged = judgeRun(
      doc([
        notInstalled('com.a'),
        { check: 'apn.clat', network: 'ipv6', status: 'skipped', reasons: [{ code: 'NETWORK_UNAVAILABLE', detail: 'no IPv6-only APN' }] },
      ]),
    );
    assert.equal(judged.verdict, 'incomplete');
    assert.deepEqual(
      judged.missing.map((m) => [m.check, m.app, m.network, m.status, m.reasons[0]!.code]),
      [
        ['apps.ipv6-first', 'com.a', 'ipv6', 'skipped', 'NOT_INSTALLED'],
        ['apn.clat', null, 'ipv6', 'skipped', 'NETWORK_UNAVAILABLE'],
      ],
    );
    assert.equal(judged.devices[0]!.verdict, 'incomplete');
  });

  it('is fail when a check failed, whatever else is missing; incomplete when nothing failed but a check broke', () => {
    assert.equal(judgeRun(doc([{ status: 'failed' }, notInstalled('com.a'), { check: 'apn.clat', status: 'broken' }])).verdict, 'fail');
    const broken = judgeRun(doc([{}, { check: 'apn.clat', status: 'broken', reasons: [{ code: 'CAPTURE_FAILED', detail: 'tcpdump exited 1' }] }]));
    assert.equal(broken.verdict, 'incomplete');
    assert.deepEqual(
      broken.missing.map((m) => [m.status, m.reasons[0]!.code]),
      [['broken', 'CAPTURE_FAILED']],
    );
  });

  it('is could-not-run when there is no result, or every result broke; a device with no result is never a pass', () => {
    assert.equal(judgeRun(doc([])).verdict, 'not-run');
    assert.equal(judgeRun(doc([{ status: 'broken' }, { check: 'apn.clat', status: 'broken' }])).verdict, 'not-run');
    const dir = craftRun([{}], {}, [
      { serial: 'emulator-5554', model: 'Ref', android: '14', virtual: true, profile: 'compliant' },
      { serial: 'R58M', model: 'A54', android: '14', virtual: false, profile: 'a54' },
    ]);
    const judged = judgeRun(readResults(dir));
    assert.equal(judged.verdict, 'incomplete');
    assert.deepEqual(
      judged.devices.map((d) => [d.device, d.verdict]),
      [
        ['emulator-5554', 'pass'],
        ['R58M', 'not-run'],
      ],
    );
    assert.deepEqual(
      judged.missing.map((m) => [m.device, m.reasons[0]!.code]),
      [['R58M', 'NO_RESULTS']],
    );
  });

  it('accepts skips whose every reason is allowed, and lists each; accepted skips alone prove nothing', () => {
    const judged = judgeRun(doc([{}, notInstalled('com.a'), notInstalled('com.b')]), { allowSkip: ['NOT_INSTALLED'] });
    assert.equal(judged.verdict, 'pass');
    assert.deepEqual(
      judged.accepted.map((a) => a.app),
      ['com.a', 'com.b'],
    );
    // The run's own list (certify --allow-skip) counts as well.
    assert.equal(judgeRun(doc([{}, notInstalled('com.a')], { allowSkip: ['NOT_INSTALLED'] })).verdict, 'pass');
    // A skip with another reason beside an allowed one is not accepted.
    const mixed = judgeRun(
      doc([
        {},
        {
          ...notInstalled('com.a'),
          reasons: [
            { code: 'NOT_INSTALLED', detail: 'x' },
            { code: 'NETWORK_UNAVAILABLE', detail: 'y' },
          ],
        },
      ]),
      { allowSkip: ['NOT_INSTALLED'] },
    );
    assert.equal(mixed.verdict, 'incomplete');
    const nothing = judgeRun(doc([notInstalled('com.a')]), { allowSkip: ['NOT_INSTALLED'] });
    assert.equal(nothing.verdict, 'incomplete');
    assert.deepEqual(
      nothing.missing.map((m) => m.reasons[0]!.code),
      ['NOTHING_CHECKED'],
    );
  });

  it('lists a check the run selected that has no result as never run', () => {
    const judged = judgeRun(doc([{}]), {
      expected: [
        { device: 'emulator-5554', check: 'os.apn-protocol', app: null, network: 'ipv4v6' },
        { device: 'emulator-5554', check: 'apn.clat', app: null, network: 'ipv6' },
      ],
    });
    assert.equal(judged.verdict, 'incomplete');
    assert.deepEqual(
      judged.missing.map((m) => [m.check, m.status, m.reasons[0]!.code]),
      [['apn.clat', 'not-run', 'NOT_RUN']],
    );
  });

  it('gives certify its exit code: 0 pass, 1 failed, 3 could not run, 4 incomplete; the summary says INCOMPLETE and what is missing', () => {
    assert.equal(exitCodeOf(doc([{}])), EXIT.ok);
    assert.equal(exitCodeOf(doc([{ status: 'failed' }])), EXIT.checkFailed);
    assert.equal(exitCodeOf(doc([{ status: 'broken' }])), EXIT.cannotRun);
    assert.equal(exitCodeOf(doc([notInstalled('com.a'), notInstalled('com.b')])), 4);
    assert.equal(exitCodeOf(doc([{}, notInstalled('com.a')]), { allowSkip: ['NOT_INSTALLED'] }), EXIT.ok);
    let text = '';
    const out = new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    });
    summary(doc([{}, notInstalled('com.a')]), out, '/run');
    assert.match(text, /^emulator-5554\tRef\tINCOMPLETE\t1 passed, 0 failed, 0 broken, 1 skipped\n/);
    assert.match(text, /\n {2}MISSING \(skipped\) apps\.ipv6-first com\.a \[ipv6\] on emulator-5554: NOT_INSTALLED \(com\.a is not installed\)\n/);
    assert.match(text, /\noverall: INCOMPLETE: 1 check without a verdict/);
    text = '';
    summary(doc([{}, notInstalled('com.a')]), out, '/run', { allowSkip: ['NOT_INSTALLED'] });
    assert.match(text, /\tPASS\t1 passed, 0 failed, 0 broken, 1 skipped \(1 accepted\)\n {2}ACCEPTED SKIP apps\.ipv6-first com\.a/);
    assert.match(text, /\noverall: PASS; 1 skip accepted \(--allow-skip NOT_INSTALLED\)\n/);
  });
});

describe('v6lab report on crafted results.json files', function () {
  this.timeout(120_000);

  it('all skipped: index.html says incomplete (not pass), with what is missing; junit.xml says it too; exit 0 once written', async () => {
    const dir = craftRun([notInstalled('com.a'), notInstalled('com.<b>')]);
    const r = await v6lab(['report', dir, '--no-allure']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [join(dir, 'index.html'), join(dir, 'junit.xml')]);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    assert.match(html, /Overall: <span class="badge overall-incomplete" data-verdict="incomplete"><span aria-hidden="true">◐<\/span> incomplete<\/span>/);
    assert.doesNotMatch(html, /Overall: <span class="badge overall-pass/);
    assert.match(html, /<table id="missing">/);
    assert.match(
      html,
      /<td>com\.&lt;b&gt;<\/td><td>IPv6-only APN<\/td><td class="status">skipped<\/td><td><ul class="reasons"><li><code>NOT_INSTALLED<\/code> com\.&lt;b&gt; is not installed/,
    );
    assert.match(html, /<article class="card overall-incomplete" data-device="emulator-5554">/);
    const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
    assert.match(xml, /<testsuite name="v6lab overall verdict: incomplete" tests="0"[^>]*>\s*<properties><property name="verdict" value="incomplete"\/>/);
    assert.match(xml, /missing \(skipped\): apps\.ipv6-first com\.&lt;b&gt; \[ipv6\] on emulator-5554: NOT_INSTALLED/);
  });

  it('--allow-skip: accepted skips are listed and the report passes when nothing else is missing', async () => {
    const dir = craftRun([{}, notInstalled('com.a')]);
    const r = await v6lab(['report', dir, '--no-allure', '--allow-skip', 'NOT_INSTALLED', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { verdict: string; accepted: { app: string }[]; missing: unknown[]; allowSkip: string[] };
    assert.equal(json.verdict, 'pass');
    assert.deepEqual(
      json.accepted.map((a) => a.app),
      ['com.a'],
    );
    assert.deepEqual(json.missing, []);
    assert.deepEqual(json.allowSkip, ['NOT_INSTALLED']);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    assert.match(html, /Overall: <span class="badge overall-pass"/);
    assert.match(html, /<h2 id="accepted-h">Accepted skips<\/h2><p>Skipped for a reason the run accepts \(<code>--allow-skip NOT_INSTALLED<\/code>\)/);
    assert.match(html, /<table id="accepted">.*<td>com\.a<\/td>/s);
    const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
    assert.match(xml, /<skipped message="accepted \(--allow-skip\): NOT_INSTALLED: com\.a is not installed"\/>/);
    assert.match(xml, /<property name="verdict" value="pass"\/>.*<property name="allow-skip" value="NOT_INSTALLED"\/>/);
    // Without the list (results.json is left as the run wrote it), the same run is incomplete.
    assert.equal(readResults(dir).run.allowSkip, undefined);
    assert.match(JSON.parse((await v6lab(['report', dir, '--no-allure', '--json'])).stdout).verdict, /^incomplete$/);
    // A bad code is bad input.
    const bad = await v6lab(['report', dir, '--no-allure', '--allow-skip', 'not installed']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--allow-skip: "not installed" is not a reason code/);
  });

  it('junit.xml keeps every result, whatever its check id or device, one testcase each, and validates', async function () {
    const ids = ['dns64.synthesis', 'wifi', 'x.y.z', '.odd', 'apps.ipv6-first', 'os.apn-protocol', 'legacy_check'];
    const dir = craftRun([
      ...ids.map((check, i) => ({
        check,
        status: (['passed', 'failed', 'broken', 'skipped'] as const)[i % 4],
        reasons: i % 4 === 0 ? [] : [{ code: 'WHY', detail: `reason ${i}` }],
      })),
      { device: 'ghost-1', check: 'other.thing', status: 'failed', reasons: [{ code: 'GHOST', detail: 'a device the run does not list' }] },
    ]);
    const xml = renderJunit(readResults(dir));
    const cases = [...xml.matchAll(/<testcase /g)].length;
    assert.equal(cases, ids.length + 1, 'one testcase per result');
    assert.match(xml, /<testsuites name="v6lab [^"]+" tests="8" failures="3" errors="2" skipped="1">/);
    for (const suite of [
      'dns64 Ref (emulator-5554)',
      'other Ref (emulator-5554)',
      'x Ref (emulator-5554)',
      'apps Ref (emulator-5554)',
      'os Ref (emulator-5554)',
      'other unknown (ghost-1)',
    ])
      assert.match(xml, new RegExp(`<testsuite name="${suite.replace(/[()]/g, '\\$&')}"`));
    assert.match(xml, /<property name="verdict" value="fail"\/>/);
    if (!(await onPath('xmllint'))) {
      if (inCi) throw new Error('xmllint is missing (Debian: libxml2-utils)');
      console.warn('    skipping the schema check: xmllint is missing (Debian: libxml2-utils)');
      this.skip();
    }
    const file = join(dir, 'junit.xml');
    writeFileSync(file, xml);
    const { stderr } = await run('xmllint', ['--noout', '--schema', resolve(import.meta.dirname, '../fixtures/junit/junit.xsd'), file]);
    assert.match(stderr, /validates/);
  });

  it('--compare exits 1 on a regression and prints it, one line each; --json gives regressions, fixed, new and gone; 0 without', async () => {
    const old = craftRun([
      {},
      { check: 'apn.clat', network: 'ipv6' },
      { check: 'os.ipv6-enabled', status: 'failed', reasons: [{ code: 'IPV6_OFF', detail: 'off' }] },
      { check: 'os.gone' },
    ]);
    const now = craftRun([
      { status: 'failed', reasons: [{ code: 'APN_PROTOCOL_NOT_IPV4V6', detail: 'IP' }] },
      { check: 'apn.clat', network: 'ipv6', status: 'broken', reasons: [{ code: 'CAPTURE_FAILED', detail: 'x' }] },
      { check: 'os.ipv6-enabled' },
      { check: 'os.new' },
    ]);
    const r = await v6lab(['report', now, '--compare', old, '--no-allure']);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    // The files written, each side with its build, then every change, regressions first.
    assert.match(lines[2]!, /^old: run crafted-[0-9a-f]+ \(.*\): emulator-5554 Ref fingerprint not recorded$/);
    assert.match(lines[3]!, /^new: run crafted-[0-9a-f]+ \(.*\): emulator-5554 Ref fingerprint not recorded$/);
    assert.deepEqual(lines.slice(4, 6), [
      'regressed apn.clat [ipv6] on emulator-5554: passed -> broken: CAPTURE_FAILED',
      'regressed os.apn-protocol [ipv4v6] on emulator-5554: passed -> failed: APN_PROTOCOL_NOT_IPV4V6',
    ]);
    assert.deepEqual(
      lines.slice(6).map((l) => l.split(' ')[0]),
      ['fixed', 'new', 'gone'],
    );
    const json = await v6lab(['report', now, '--compare', old, '--no-allure', '--json']);
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.stdout) as Record<string, { check: string }[]>;
    assert.deepEqual(Object.fromEntries(['regressions', 'fixed', 'new', 'gone'].map((k) => [k, parsed[k]!.map((c) => c.check)])), {
      regressions: ['apn.clat', 'os.apn-protocol'],
      fixed: ['os.ipv6-enabled'],
      new: ['os.new'],
      gone: ['os.gone'],
    });
    // A build that only fixed something: exit 0, no regression printed.
    const fixedOnly = craftRun([{}, { check: 'apn.clat', network: 'ipv6' }, { check: 'os.ipv6-enabled' }, { check: 'os.gone' }]);
    const back = await v6lab(['report', fixedOnly, '--compare', old, '--no-allure']);
    assert.equal(back.code, 0, back.stdout);
    assert.deepEqual(back.stdout.trim().split('\n').slice(4), ['fixed os.ipv6-enabled [ipv4v6] on emulator-5554: failed -> passed']);
  });

  it("a check the run's plan.json selected that has no result is missing (NOT_RUN): the results alone would have passed", async () => {
    const dir = craftRun([
      { check: 'apn.clat', network: 'ipv6' },
      { check: 'apps.ipv6-first', app: 'com.example.news', network: 'ipv6' },
    ]);
    const catalogue = join(dir, 'catalogue.json');
    writeFileSync(catalogue, JSON.stringify({ name: 'one', apps: [{ package: 'com.example.news', label: 'News' }] }));
    writePlan({
      runDir: dir,
      suites: ['apps'],
      catalogue,
      dwellMs: 5000,
      clearAppData: false,
      adbPort: 5037,
      devices: [
        {
          serial: 'emulator-5554',
          profile: 'compliant',
          profileSource: 'test',
          virtual: true,
          appium: { url: 'http://127.0.0.1:4723', capabilities: {}, start: true },
          capture: ['device'],
          gatewayCapture: null,
          emulatorCapture: null,
          networks: { ipv6: { apn: 'v6' }, ipv4v6: { apn: 'v4v6' } },
          apnSwitch: 'content',
          resolverProbeUrl: null,
          ipv4OnlyProbeUrl: null,
          backgroundHosts: [],
          catalogue: null,
        },
      ],
    });
    const r = await v6lab(['report', dir, '--no-allure', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as {
      verdict: string;
      missing: { check: string; app: string; network: string; status: string; reasons: { code: string }[] }[];
    };
    assert.equal(json.verdict, 'incomplete');
    assert.deepEqual(
      json.missing.map((m) => [m.check, m.app, m.network, m.status, m.reasons[0]!.code]),
      [['apps.ipv6-first', 'com.example.news', 'ipv4v6', 'not-run', 'NOT_RUN']],
    );
    // A plan that cannot be read is said, not passed over.
    writeFileSync(join(dir, 'plan.json'), '{}');
    const unreadable = await v6lab(['report', dir, '--no-allure', '--json']);
    assert.equal(unreadable.code, 0);
    assert.match(unreadable.stderr, /plan\.json: cannot tell which checks the run selected/);
  });

  it('a results.json of the wrong shape: exit 2, one line naming the file and the field', async () => {
    const dir = craftRun([{}, {}, {}, { status: 'ok' as CheckResult['status'] }]);
    const r = await v6lab(['report', dir, '--no-allure']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `v6lab: ${join(dir, 'results.json')}: results[3].status: expected one of "passed", "failed", "broken", "skipped", got "ok"\n`);
  });

  it('certify --allow-skip with a bad code is bad input before anything starts', async () => {
    const r = await v6lab(['certify', '--devices', 'emulator-5554', '--allow-skip', 'NOT_INSTALLED,lower']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--allow-skip: "lower" is not a reason code/);
  });
});

describe('v6lab report --merge: the verdict of the merge', function () {
  this.timeout(60_000);

  it("each run's --allow-skip applies to its own results; the merge's own list to all, and is recorded; all skipped is never a pass", async () => {
    const a = craftRun([{}, notInstalled('com.a')], { allowSkip: ['NOT_INSTALLED'], started: '2026-12-01T08:00:00.000Z' });
    const b = craftRun([{ device: 'R58M' }, { ...notInstalled('com.b'), device: 'R58M' }], { started: '2026-12-01T09:00:00.000Z' }, [
      { serial: 'R58M', model: 'A54', android: '14', virtual: false, profile: 'a54' },
    ]);
    const out = mkdtempSync(join(tmpdir(), 'v6lab-merged-'));
    const r = await v6lab(['report', join(out, 'fleet'), '--merge', a, b, '--no-allure', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { verdict: string; missing: { device: string; app: string }[]; accepted: { device: string; app: string }[] };
    assert.equal(json.verdict, 'incomplete');
    assert.deepEqual(
      json.accepted.map((x) => [x.device, x.app]),
      [['emulator-5554', 'com.a']],
    );
    assert.deepEqual(
      json.missing.map((x) => [x.device, x.app]),
      [['R58M', 'com.b']],
    );
    assert.deepEqual(
      readResults(join(out, 'fleet')).run.merged!.map((m) => m.allowSkip),
      [['NOT_INSTALLED'], undefined],
    );
    const all = await v6lab(['report', join(out, 'fleet2'), '--merge', a, b, '--no-allure', '--json', '--allow-skip', 'NOT_INSTALLED']);
    assert.equal(JSON.parse(all.stdout).verdict, 'pass');
    assert.deepEqual(readResults(join(out, 'fleet2')).run.allowSkip, ['NOT_INSTALLED']);
    // Runs where everything was skipped merge into an incomplete run, not a pass.
    const c = craftRun([notInstalled('com.c')]);
    const d = craftRun([{ ...notInstalled('com.d'), device: 'R58M' }], {}, [{ serial: 'R58M', model: 'A54', android: '14', virtual: false, profile: 'a54' }]);
    const skipped = await v6lab(['report', join(out, 'fleet3'), '--merge', c, d, '--no-allure']);
    assert.equal(skipped.code, 0);
    assert.match(readFileSync(join(out, 'fleet3', 'index.html'), 'utf8'), /Overall: <span class="badge overall-incomplete"/);
  });
});

describe('Allure from results.json (a run that wrote no Allure results)', function () {
  this.timeout(180_000);

  /** An incomplete run with evidence: a file, a symlink to a file outside, and a path that leaves the run. */
  function runWithEvidence(): string {
    const dir = craftRun([
      { evidence: ['devices/emulator-5554/apn.json'] },
      {
        check: 'apn.clat',
        network: 'ipv6',
        status: 'skipped',
        reasons: [{ code: 'NETWORK_UNAVAILABLE', detail: 'the IPv6-only APN was not reached (中国移动)' }],
        evidence: ['devices/emulator-5554/link.json', '../outside.json'],
      },
      { check: 'custom', status: 'broken', reasons: [{ code: 'CAPTURE_FAILED', detail: 'no capture' }] },
    ]);
    mkdirSync(join(dir, 'devices/emulator-5554'), { recursive: true });
    writeFileSync(join(dir, 'devices/emulator-5554/apn.json'), '{"apn":"ipv6"}');
    writeFileSync(join(dir, '../outside.json'), '{"secret":true}');
    symlinkSync(join(dir, '../outside.json'), join(dir, 'devices/emulator-5554/link.json'));
    return dir;
  }

  it('builds one Allure result per check, statuses as they are (skipped never passed), evidence copied, no symlink followed', () => {
    const dir = runWithEvidence();
    const doc = readResults(dir);
    const out = writeAllureResults(dir, doc, judgeRun(doc));
    const results = readdirSync(out)
      .filter((f) => f.endsWith('-result.json'))
      .map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as AllureResult);
    assert.equal(results.length, 3);
    const by = (name: string) => results.find((x) => x.name === name)!;
    assert.equal(by('os.apn-protocol').status, 'passed');
    assert.equal(by('apn.clat').status, 'skipped');
    assert.match(by('apn.clat').statusDetails.message, /^skipped: no verdict: NETWORK_UNAVAILABLE: the IPv6-only APN was not reached \(中国移动\)$/);
    assert.equal(by('custom').status, 'broken');
    for (const x of results) {
      for (const field of ['uuid', 'historyId', 'name', 'fullName', 'status', 'statusDetails', 'labels', 'steps', 'attachments', 'start', 'stop'] as const)
        assert.ok(field in x, `${x.name}: ${field}`);
    }
    assert.deepEqual(
      by('custom').labels.find((l) => l.name === 'suite'),
      { name: 'suite', value: 'other' },
    );
    assert.deepEqual(
      by('apn.clat')
        .labels.filter((l) => ['device', 'network', 'requirement'].includes(l.name))
        .map((l) => l.value),
      ['emulator-5554', 'ipv6', 'MIIT-3', 'RFC7849'],
    );
    const attached = by('os.apn-protocol').attachments;
    assert.equal(attached.length, 1);
    assert.equal(readFileSync(join(out, attached[0]!.source), 'utf8'), '{"apn":"ipv6"}');
    assert.deepEqual(by('apn.clat').attachments, []);
    assert.deepEqual(
      by('apn.clat')
        .steps.map((s) => s.name)
        .slice(1),
      ['evidence devices/emulator-5554/link.json not attached: a symlink (not followed)', 'evidence ../outside.json not attached: outside the run directory'],
    );
    assert.ok(!readdirSync(out).some((f) => readFileSync(join(out, f), 'utf8').includes('"secret"')));
    assert.match(readFileSync(join(out, 'executor.json'), 'utf8'), /"reportName": "v6lab crafted-[0-9a-f]+: INCOMPLETE"/);
    const environment = readFileSync(join(out, 'environment.properties'), 'utf8');
    assert.match(environment, /^v6lab\.verdict = incomplete$/m);
    // Java reads .properties as ISO 8859-1: anything past ASCII is escaped.
    assert.match(
      environment,
      /^v6lab\.missing\.1 = apn\.clat \[ipv6\] on emulator-5554: NETWORK_UNAVAILABLE \(the IPv6-only APN was not reached \(\\u4e2d\\u56fd\\u79fb\\u52a8\)\)$/m,
    );
    assert.match(environment, /^[\x20-\x7e\n]*$/);
  });

  it('`report DIR` with no allure-results: builds them, generates the Allure HTML, writes index.html and junit.xml, exits 0', async function () {
    const dir = runWithEvidence();
    if (!(await onPath('java'))) {
      if (inCi) throw new Error('java is missing (Debian: default-jre-headless): the Allure HTML cannot be generated');
      console.warn('    skipping the Allure HTML generation: java is missing (Debian: default-jre-headless); the allure-results JSON is tested above');
      this.skip();
    }
    const r = await v6lab(['report', dir], {}, 170_000);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [join(dir, 'index.html'), join(dir, 'junit.xml'), join(dir, 'allure-report', 'index.html')]);
    assert.equal(readdirSync(join(dir, 'allure-results')).filter((f) => f.endsWith('-result.json')).length, 3);
    assert.deepEqual(externalLoads(readFileSync(join(dir, 'allure-report', 'index.html'), 'utf8')), []);
  });
});
