// The reports of a run: the self-contained HTML certification report, JUnit (checked against the
// JUnit schema CI systems read, with xmllint), and the comparison of two runs. The run here is
// built with ResultsWriter and evidence files shaped as certify writes them; the report of a real
// run in a real browser is test/lab/certify.test.ts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { externalLoads } from '../../lib/report/allure.js';
import { compareRuns } from '../../lib/report/compare.js';
import { CSS, renderHtmlReport } from '../../lib/report/html.js';
import { renderJunit } from '../../lib/report/junit.js';
import { readResults, ResultsWriter, type CheckResult } from '../../lib/report/results.js';
import { readRun } from '../../lib/report/run.js';
import { inCi, onPath } from '../support/lab-env.js';
import { v6lab } from '../support/cli.js';

const run = promisify(execFile);

const result = (over: Partial<CheckResult>): CheckResult => ({
  device: 'emulator-5554', check: 'os.apn-protocol', app: null, network: 'ipv4v6', status: 'passed', verdict: null,
  reasons: [], metrics: {}, evidence: [], requirement: ['MIIT-3', 'RFC7849'], ...over,
});

/** A run of two devices: OS checks, and two apps with analysis evidence. */
function makeRun(newsMode: 'pass' | 'fail' = 'pass'): string {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-report-'));
  const writer = ResultsWriter.start(dir, '0.1.0', [
    { serial: 'emulator-5554', model: 'Ref <b>phone</b>', android: '14', virtual: true, profile: 'compliant' },
    { serial: 'emulator-5556', model: 'Legacy', android: '9', virtual: true, profile: 'noncompliant' },
  ]);
  mkdirSync(join(dir, 'devices/emulator-5554/ipv6'), { recursive: true });
  writeFileSync(join(dir, 'devices/emulator-5554/ipv4v6-apn.json'), JSON.stringify({ check: 'os.apn-protocol', evidence: { apn: 'ipv6.v6lab.test', protocol: 'IPV4V6' } }));
  writer.add(result({ evidence: ['devices/emulator-5554/ipv4v6-apn.json'] }));
  writer.add(result({ device: 'emulator-5556', status: 'failed', reasons: [{ code: 'APN_PROTOCOL_NOT_IPV4V6', detail: 'the default APN internet has protocol unset <script>alert(1)</script>' }] }));
  const analysis = (bytes: Record<string, number>) => ({
    app: { window: { start: 100, end: 104 } },
    attribution: { method: 'uid', flows: [1, 2] },
    verdict: { metrics: { bytesByPath: bytes } },
    analysis: {
      flows: [{ id: 0, hostname: 'time.test' }, { id: 1, hostname: 'api.news.test' }, { id: 2, hostname: 'img.news.test' }],
      hostnames: [
        { name: 'api.news.test', firstAttemptFamily: 6, firstIpv6AttemptTs: 100.4, firstIpv4AttemptTs: 100.65, fallbackDelayMs: 250, ipv6Failed: true, nativeAaaa: ['2001:db8::1'] },
        { name: 'img.news.test', firstAttemptFamily: 4, firstIpv6AttemptTs: null, firstIpv4AttemptTs: 100.5, fallbackDelayMs: null, ipv6Failed: false, nativeAaaa: [] },
        { name: 'time.test', firstAttemptFamily: 4, firstIpv6AttemptTs: null, firstIpv4AttemptTs: 100.1, fallbackDelayMs: null, ipv6Failed: false, nativeAaaa: [] },
      ],
    },
  });
  for (const [app, verdict, bytes] of [
    ['com.example.news', newsMode, { 'native-v6': 3000, nat64: 1000, clat: 0, 'native-v4': 0 }],
    ['com.example.game', 'fail', { 'native-v6': 100, nat64: 0, clat: 900, 'native-v4': 0 }],
  ] as const) {
    const file = `devices/emulator-5554/ipv6/${app}.analysis.json`;
    writeFileSync(join(dir, file), JSON.stringify(analysis(bytes)));
    writer.add(result({
      check: 'apps.ipv6-first', app, network: 'ipv6', status: verdict === 'fail' ? 'failed' : 'passed', verdict,
      reasons: verdict === 'fail' ? [{ code: app === 'com.example.news' ? 'IPV4_FIRST' : 'IPV4_LITERAL', detail: 'connects to IPv4 address 100.64.1.9 that no DNS answer gave' }] : [],
      metrics: { nativeV6ByteShare: 0.75, checkMs: 4200 }, evidence: [`devices/emulator-5554/ipv6/${app}.pcap`, file], requirement: ['MIIT-2', 'RFC8305'],
    }));
  }
  writer.add(result({ device: 'emulator-5556', check: 'apps.ipv6-first', app: 'com.example.news', network: 'ipv6', status: 'skipped', reasons: [{ code: 'NETWORK_UNAVAILABLE', detail: 'did not attach' }] }));
  writer.add(result({ check: 'apn.clat', network: 'ipv6', brokenAttempts: [{ reasons: [{ code: 'ADB_SERVER_DOWN', detail: 'the adb server on port 5037 went away' }] }] }));
  writer.add(result({ device: 'emulator-5556', check: 'apn.clat', network: 'ipv6', status: 'broken', reasons: [{ code: 'DEVICE_DISCONNECTED', detail: "device 'emulator-5556' not found" }] }));
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

  it('says each device\'s verdict in words and symbols, with its counts, escaping what it prints', () => {
    assert.match(html, /Ref &lt;b&gt;phone&lt;\/b&gt;/);
    assert.doesNotMatch(html, /<script>alert/);
    assert.match(html, /class="badge fail"><span aria-hidden="true">✗<\/span> fail/);
    assert.match(html, /0 passed, 1 failed, 1 broken, 1 skipped/);
  });

  it('has the requirements table with evidence, the app matrix, a fleet view, and the charts with their tables', () => {
    assert.match(html, /<tr class="pass" data-check="os.apn-protocol">/);
    assert.match(html, /<abbr title="New handsets support IPv4\/IPv6 dual stack by factory default[^"]*">MIIT-3<\/abbr>/);
    assert.match(html, /&quot;protocol&quot;: &quot;IPV4V6&quot;/, 'the evidence JSON, expandable');
    assert.match(html, /<td class="fail" data-app="com.example.game" data-device="emulator-5554" data-network="ipv6">/);
    assert.match(html, /<td class="skipped" data-app="com.example.news" data-device="emulator-5556"/);
    assert.match(html, /Fleet: checks by model/);
    assert.match(html, /data-chart="paths"/);
    assert.match(html, /data-chart="timeline"/);
    assert.match(html, /<th scope="row">api.news.test<\/th><td>IPv6<\/td><td>400 ms \(failed\)<\/td><td>650 ms<\/td><td>250 ms<\/td><td>yes<\/td>/);
    assert.doesNotMatch(html, /<th scope="row">time.test<\/th>/, 'a hostname of a flow that is not the app\'s is not in its timeline');
    assert.match(html, /<a href="devices\/emulator-5554\/ipv6\/com.example.game.pcap" type="application\/vnd.tcpdump.pcap" download>/);
  });

  it('says when a check was run again after a transport fault, and why', () => {
    assert.match(html, /<li class="retried">run again after <code>ADB_SERVER_DOWN<\/code> the adb server on port 5037 went away<\/li>/);
  });
});

describe('the report\'s colours', () => {
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
    for (const v of ['pass', 'warn', 'fail', 'muted']) {
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
    assert.deepEqual(changes.map((c) => [c.change, c.app, c.network]), [['regressed', 'com.example.news', 'ipv6']]);
    assert.deepEqual(compareRuns(before, after).map((c) => [c.change, c.app]), [['fixed', 'com.example.news']]);
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
    const writer = ResultsWriter.start(dir, '0.1.0', [
      { serial: 'emulator-5554', model: 'Ref <b>phone</b>', android: '14', virtual: true, profile: 'compliant' },
      { serial: 'R58M123', model: 'Galaxy A54', android: '14', virtual: false, profile: 'devices/a54.json' },
    ], new Date(Date.now() + 3_600_000));
    mkdirSync(join(dir, 'devices/R58M123'), { recursive: true });
    writeFileSync(join(dir, 'devices/R58M123/facts.json'), JSON.stringify({ model: 'Galaxy A54', manufacturer: 'samsung', android: '14', buildType: 'user', root: null, defaultNetwork: null }));
    writer.add(result({ check: 'apps.ipv6-first', app: 'com.example.news', network: 'ipv6', status: 'failed', verdict: 'fail', reasons: [{ code: 'IPV4_FIRST', detail: 'api.news.test: IPv4 first' }], requirement: ['MIIT-2'] }));
    writer.add(result({ device: 'R58M123', check: 'os.apn-protocol' }));
    writer.finish();
    return dir;
  }

  it('holds every device of every run, the later result where two runs checked the same thing, with evidence links that resolve', async () => {
    const [first, later] = [makeRun(), laterRun()];
    const merged = join(mkdtempSync(join(tmpdir(), 'v6lab-merged-')), 'fleet');
    const r = await v6lab(['report', merged, '--merge', later, first, '--no-allure']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split('/').pop()), ['results.json', 'index.html', 'junit.xml']);
    const doc = readResults(merged);
    const [a, b] = [readResults(first), readResults(later)];
    assert.deepEqual(doc.run.merged!.map((m) => m.id), [a.run.id, b.run.id], 'in order of their start');
    assert.deepEqual(doc.devices.map((d) => d.serial).sort(), ['R58M123', 'emulator-5554', 'emulator-5556']);
    assert.equal(doc.results.length, a.results.length + 1, 'one new check; the news app on 5554 counted once');
    const news = doc.results.filter((x) => x.device === 'emulator-5554' && x.app === 'com.example.news');
    assert.deepEqual(news.map((x) => [x.verdict, x.run]), [['fail', b.run.id]]);
    const game = doc.results.find((x) => x.app === 'com.example.game')!;
    assert.equal(game.run, a.run.id);
    for (const file of doc.results.flatMap((x) => x.evidence).filter((e) => e.endsWith('.json'))) assert.ok(existsSync(join(merged, file)), `${file} resolves from the merge`);
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
