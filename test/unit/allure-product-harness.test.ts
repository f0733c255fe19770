// Allure that tells product from harness (issue 18): one test per device, network, check and app;
// requirement links to the report's anchors; categories per reason code by kind; who ran the run
// where, in the environment; a previous report's history carried with --history.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reasonKind } from '../../lib/checks/messages.js';
import { requirementAnchor } from '../../lib/checks/requirements.js';
import { embeddedHistory } from '../../lib/report/allure.js';
import {
  allureCategories,
  allureResult,
  allureTestIds,
  copyAllureHistory,
  reporterResultsProblem,
  writeAllureVerdict,
} from '../../lib/report/allure-results.js';
import { ResultsFileError, type CheckResult, type RunResults } from '../../lib/report/results.js';
import { judgeRun } from '../../lib/report/verdict.js';
import { harnessProblem, productFailure } from '../../specs/support.js';

const result = (over: Partial<CheckResult>): CheckResult => ({
  device: 'emulator-5554',
  check: 'apps.ipv6-first',
  app: 'com.example.maps',
  network: 'ipv6',
  status: 'passed',
  verdict: 'pass',
  reasons: [],
  metrics: {},
  evidence: [],
  requirement: [],
  ...over,
});

function doc(results: CheckResult[]): RunResults {
  return {
    run: {
      id: 'run-1',
      started: '2026-12-03T08:00:00.000Z',
      finished: '2026-12-03T08:10:00.000Z',
      tool: { name: 'v6lab', version: '0.1.0' },
      labName: '北京 lab 3',
      tester: 'Li Wei',
      notes: 'firmware candidate\nsecond SIM empty',
    },
    devices: [
      { serial: 'emulator-5554', model: 'Ref', android: '14', virtual: true, profile: 'compliant' },
      { serial: '192.0.2.1:5555', model: 'Ref', android: '14', virtual: false, profile: 'compliant' },
    ],
    results,
  };
}

/** Allure matches messageRegex against the whole message, Java's (?s) letting `.` take line ends. */
const matchesJava = (regex: string, message: string): boolean => new RegExp(`^(?:${regex.replace(/^\(\?s\)/, '')})$`, 's').test(message);

describe('Allure: product failures apart from harness problems (issue 18)', () => {
  it('one test per device, network, check and app: history ids differ across each, and stay the same across runs', () => {
    const base = result({});
    const ids = [
      base,
      { ...base, device: '192.0.2.1:5555' },
      { ...base, network: 'ipv4v6' as const },
      { ...base, app: 'com.example.chat' },
      { ...base, check: 'apps.no-ipv4-literal' },
    ].map((r) => allureTestIds(r).historyId);
    assert.equal(new Set(ids).size, 5);
    assert.deepEqual(allureTestIds(base), allureTestIds({ ...base }));
    const built = allureResult(base, undefined, doc([base]), 'u', [], [], false);
    assert.equal(built.historyId, ids[0]);
    assert.equal(built.testCaseId, ids[0]);
    // Allure hashes the parameters not excluded into the history key: only what names the test stays in it.
    const measured = allureResult({ ...base, metrics: { nativeV6ByteShare: 0.9 } }, doc([base]).devices[0], doc([base]), 'u', [], [], false);
    assert.deepEqual(
      measured.parameters.filter((p) => !p.excluded).map((p) => p.name),
      ['network'],
    );
    assert.deepEqual(
      measured.parameters.filter((p) => p.excluded).map((p) => p.name),
      ['verdict', 'nativeV6ByteShare'],
    );
  });

  it("links each requirement to its anchor in the run's certification report", () => {
    const r = result({ requirement: ['RFC7849', 'MIIT-3'] });
    const built = allureResult(r, undefined, doc([r]), 'u', [], [], false);
    assert.deepEqual(
      built.links.map((l) => [l.url, l.type]),
      [
        [`../index.html#${requirementAnchor('RFC7849')}`, 'requirement'],
        [`../index.html#${requirementAnchor('MIIT-3')}`, 'requirement'],
      ],
    );
    assert.match(built.links[0]!.name, /^RFC7849: \S/);
  });

  it("categories: one per reason code of the run, product failures first, then harness problems, then skips; each catches its code's messages", () => {
    const results = [
      result({ status: 'skipped', verdict: null, reasons: [{ code: 'NOT_INSTALLED', detail: 'x' }] }),
      result({ status: 'broken', verdict: null, reasons: [{ code: 'CAPTURE_FAILED', detail: 'tcpdump expected a device' }] }),
      result({
        status: 'failed',
        verdict: 'fail',
        reasons: [
          { code: 'IPV4_FIRST', detail: 'a' },
          { code: 'LOW_IPV6_SHARE', detail: 'b' },
        ],
      }),
      result({ status: 'passed', reasons: [{ code: 'SERVER_NO_IPV6', detail: 'a pass says nothing to categorise' }] }),
    ];
    const categories = allureCategories(doc(results));
    assert.deepEqual(
      categories.map((c) => [c.name, c.matchedStatuses]),
      [
        ['Product failure: IPv4 tried first (IPV4_FIRST)', ['failed', 'broken']],
        ['Product failure: Low IPv6 share (LOW_IPV6_SHARE)', ['failed', 'broken']],
        ['Harness or infrastructure problem (no verdict): Capture failed (CAPTURE_FAILED)', ['broken']],
        ['Skipped (no verdict unless accepted): App not installed (NOT_INSTALLED)', ['skipped']],
      ],
    );
    assert.deepEqual(
      categories.map((c) => reasonKind(/\((\w+)\)$/.exec(c.name)![1]!)),
      ['product', 'product', 'harness', 'skip'],
    );
    const lowShare = categories[1]!.messageRegex;
    assert.ok(matchesJava(lowShare, 'verdict fail: IPV4_FIRST: a\nLOW_IPV6_SHARE: b'));
    assert.ok(!matchesJava(lowShare, 'verdict fail: LOW_IPV6_SHARE_X: b'), 'a longer code is another code');
  });

  it('environment.properties: verdict, who ran the run where, each device by serial, model and Android; categories.json written', () => {
    const out = mkdtempSync(join(tmpdir(), 'v6lab-allure-env-'));
    const d = doc([result({ status: 'failed', verdict: 'fail', reasons: [{ code: 'IPV4_FIRST', detail: 'x' }] })]);
    writeAllureVerdict(out, d, judgeRun(d));
    const environment = readFileSync(join(out, 'environment.properties'), 'utf8');
    assert.match(environment, /^v6lab\.lab-name = \\u5317\\u4eac lab 3$/m);
    assert.match(environment, /^v6lab\.tester = Li Wei$/m);
    assert.match(environment, /^v6lab\.notes = firmware candidate\\nsecond SIM empty$/m);
    assert.match(environment, /^v6lab\.device\.192\.0\.2\.1_5555\.model = Ref$/m);
    assert.match(environment, /^v6lab\.device\.emulator-5554\.android = 14$/m);
    const categories = JSON.parse(readFileSync(join(out, 'categories.json'), 'utf8')) as { name: string }[];
    assert.deepEqual(
      categories.map((c) => c.name),
      ['Product failure: IPv4 tried first (IPV4_FIRST)'],
    );
  });

  it('specs: a product failure is an AssertionError (the reporter says failed), a harness problem a plain Error that never says "expect" (broken)', () => {
    const failed = productFailure({ verdict: 'fail', reasons: [{ code: 'IPV4_FIRST', detail: 'tried 192.0.2.7 first' }] });
    assert.equal(failed.name, 'AssertionError');
    assert.match(failed.message, /^verdict fail: IPV4_FIRST: tried 192\.0\.2\.7 first$/);
    const broken = harnessProblem({ reasons: [{ code: 'CAPTURE_FAILED', detail: 'tcpdump exited; expected a pcap header' }] });
    assert.equal(broken.name, 'Error');
    assert.doesNotMatch(broken.message, /expect|assert/i);
    assert.match(broken.message, /CAPTURE_FAILED: Capture failed/);
  });
});

describe('report --history: a previous report directory carried into Allure', () => {
  function previous(): string {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-prev-'));
    mkdirSync(join(dir, 'allure-report/history'), { recursive: true });
    writeFileSync(join(dir, 'allure-report/history/history.json'), '{"abc":{}}');
    writeFileSync(join(dir, 'allure-report/history/history-trend.json'), '[]');
    return dir;
  }

  it("copies its history files into allure-results/history, which the reporter's results then still count as its own", () => {
    const results = mkdtempSync(join(tmpdir(), 'v6lab-results-'));
    writeFileSync(join(results, 'a-result.json'), '{}');
    assert.deepEqual(copyAllureHistory(previous(), results), ['history-trend.json', 'history.json']);
    assert.equal(readFileSync(join(results, 'history/history.json'), 'utf8'), '{"abc":{}}');
    assert.equal(reporterResultsProblem(results), null);
  });

  it('refuses, naming it, a history that is a symlink, holds a directory or a symlink, or is not there; nothing copied', () => {
    const refused = (dir: string, pattern: RegExp) => {
      const results = mkdtempSync(join(tmpdir(), 'v6lab-results-'));
      assert.throws(
        () => copyAllureHistory(dir, results),
        (e: unknown) => e instanceof ResultsFileError && pattern.test(e.message),
      );
      assert.deepEqual(readdirSync(results), []);
    };
    const linked = mkdtempSync(join(tmpdir(), 'v6lab-prev-'));
    mkdirSync(join(linked, 'allure-report'));
    symlinkSync(join(previous(), 'allure-report/history'), join(linked, 'allure-report/history'));
    refused(linked, /allure-report\/history: is a symlink/);
    const nested = previous();
    mkdirSync(join(nested, 'allure-report/history/deeper'));
    refused(nested, /history\/deeper: is not a regular file/);
    const fileLink = previous();
    symlinkSync('/etc/passwd', join(fileLink, 'allure-report/history/passwd'));
    refused(fileLink, /history\/passwd: is not a regular file/);
    refused(mkdtempSync(join(tmpdir(), 'v6lab-prev-')), /allure-report: no Allure history there/);
  });

  it("keeps the trends a one-file Allure report embeds, for the next report's --history", () => {
    const html = `<script>d('history/history.json','${Buffer.from('{"x":1}').toString('base64')}');d('data/suites.json','e30=');d('history/history-trend.json','W10=')</script>`;
    assert.deepEqual(
      embeddedHistory(html).map((f) => [f.name, f.bytes.toString()]),
      [
        ['history.json', '{"x":1}'],
        ['history-trend.json', '[]'],
      ],
    );
  });
});
