// Issue 15, item 5: which build a device ran is kept in results.json, shown in the reports, and
// compare and merge tell one build of a handset from another (the serial names the unit only).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareDevices, compareRuns, describeChange } from '../../lib/report/compare.js';
import { renderHtmlReport } from '../../lib/report/html.js';
import { renderJunit } from '../../lib/report/junit.js';
import { mergeRuns } from '../../lib/report/merge.js';
import {
  deviceLabel,
  readResults,
  ResultsFileError,
  ResultsWriter,
  type CheckResult,
  type RunDevice,
  type RunDeviceIdentity,
  type RunResults,
} from '../../lib/report/results.js';
import { readRun } from '../../lib/report/run.js';

const SERIAL = 'R58M1234';
const FP_A = 'samsung/pa2qxeea/pa2q:16/BP4A.251205.006/S936BXXUACZF1_OXMACZF1:user/release-keys';
const FP_B = 'samsung/pa2qxeea/pa2q:16/BP4A.260105.002/S936BXXUBDA01_OXMBDA01:user/release-keys';

const identity = (fingerprint: string, buildId: string, incremental: string): RunDeviceIdentity => ({
  manufacturer: 'samsung',
  model: 'SM-S936B',
  android: '16',
  sdk: 36,
  fingerprint,
  buildId,
  displayId: `${buildId}.${incremental}`,
  incremental,
  securityPatch: '2026-06-05',
  baseband: incremental,
  sims: [
    { slot: 0, mcc: '214', mnc: '07', name: 'Movistar' },
    { slot: 1, mcc: '214', mnc: '03', name: 'simyo' },
  ],
  kernel: '6.6.50-android16-1-g0123456-4k',
});
const BUILD_A = identity(FP_A, 'BP4A.251205.006', 'S936BXXUACZF1');
const BUILD_B = identity(FP_B, 'BP4A.260105.002', 'S936BXXUBDA01');

const device = (id: RunDeviceIdentity | undefined, serial = SERIAL): RunDevice => ({
  serial,
  model: 'SM-S936B',
  android: '16',
  virtual: false,
  profile: 'retail',
  ...(id === undefined ? {} : { identity: id }),
});

const result = (serial: string, status: CheckResult['status']): CheckResult => ({
  device: serial,
  check: 'os.ipv6-enabled',
  app: null,
  network: 'ipv6',
  status,
  verdict: status === 'passed' ? 'pass' : 'fail',
  reasons: status === 'passed' ? [] : [{ code: 'NO_IPV6', detail: 'no global IPv6 address' }],
  metrics: {},
  evidence: [],
  requirement: ['MIIT-1'],
});

const run = (id: string, started: string, devices: RunDevice[], results: CheckResult[]): RunResults => ({
  run: { id, started, finished: started, tool: { name: 'v6lab', version: '0.1.0' } },
  devices,
  results,
});

/** A run directory holding `doc` as its results.json. */
function runDir(doc: RunResults): string {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-identity-'));
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(doc)}\n`);
  return dir;
}

describe('results.json: the device identity', () => {
  it('is written and read back whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-identity-'));
    ResultsWriter.start(dir, '0.1.0', [device(BUILD_A)], new Date('2026-12-01T00:00:00Z'));
    assert.deepEqual(readResults(dir).devices[0]!.identity, BUILD_A);
  });

  it('a results.json from an earlier version, without it, still loads (identity unknown, not empty)', () => {
    const dir = runDir(run('old', '2026-01-01T00:00:00Z', [device(undefined)], [result(SERIAL, 'passed')]));
    const doc = readResults(dir);
    assert.equal(doc.devices[0]!.identity, undefined);
    assert.equal(deviceLabel(doc.devices[0]!), 'SM-S936B');
    const html = renderHtmlReport(readRun(dir));
    assert.match(html, /<dt>build<\/dt><dd>not recorded \(results from an earlier v6lab\)<\/dd>/);
  });

  it('a malformed identity is refused, naming the field', () => {
    const bad = JSON.parse(JSON.stringify(run('bad', '2026-01-01T00:00:00Z', [device(BUILD_A)], []))) as { devices: { identity: Record<string, unknown> }[] };
    bad.devices[0]!.identity.sdk = 'thirty-six';
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-identity-'));
    writeFileSync(join(dir, 'results.json'), JSON.stringify(bad));
    assert.throws(
      () => readResults(dir),
      (e: unknown) => e instanceof ResultsFileError && /devices\[0\]\.identity\.sdk: expected an API level/.test(e.message),
    );
    delete (bad.devices[0]!.identity as { sims?: unknown }).sims;
    bad.devices[0]!.identity.sdk = 36;
    writeFileSync(join(dir, 'results.json'), JSON.stringify(bad));
    assert.throws(
      () => readResults(dir),
      (e: unknown) => e instanceof ResultsFileError && /devices\[0\]\.identity\.sims: missing/.test(e.message),
    );
  });

  it('labels a device by model and build', () => {
    assert.equal(deviceLabel(device(BUILD_A)), 'SM-S936B, build BP4A.251205.006 S936BXXUACZF1');
  });
});

describe('reports show the identity', () => {
  it('the HTML device card lists build, fingerprint, patch, baseband, SIMs and kernel, escaped', () => {
    const hostile = { ...BUILD_A, baseband: '<script>alert(1)</script>', sims: [{ slot: 0, mcc: '214', mnc: '07', name: '"><img src=x>' }] };
    const dir = runDir(run('r1', '2026-12-01T00:00:00Z', [device(hostile)], [result(SERIAL, 'passed')]));
    const html = renderHtmlReport(readRun(dir));
    assert.match(html, new RegExp(`<dt>fingerprint</dt><dd><code>${FP_A.replace(/[./]/g, '\\$&')}</code></dd>`));
    assert.match(html, /<dt>build<\/dt><dd>BP4A\.251205\.006 S936BXXUACZF1<\/dd>/);
    assert.match(html, /<dt>security patch<\/dt><dd>2026-06-05<\/dd>/);
    assert.match(html, /<dt>kernel<\/dt><dd>6\.6\.50-android16-1-g0123456-4k<\/dd>/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /&quot;&gt;&lt;img src=x&gt; \(214\/07\)/);
    assert.doesNotMatch(html, /<script>alert|<img src=x>/);
  });

  it('JUnit carries the identity as properties of the device’s suites', () => {
    const xml = renderJunit(run('r1', '2026-12-01T00:00:00Z', [device(BUILD_A)], [result(SERIAL, 'passed')]));
    assert.match(xml, new RegExp(`<property name="fingerprint" value="${FP_A.replace(/[./]/g, '\\$&')}"/>`));
    assert.match(xml, /<property name="security-patch" value="2026-06-05"\/>/);
    assert.match(xml, /<property name="sim\.1" value="21403 simyo"\/>/);
    assert.match(xml, /<property name="kernel" value="6\.6\.50-android16-1-g0123456-4k"\/>/);
  });
});

describe('compare: devices matched by identity', () => {
  const before = run('r1', '2026-12-01T00:00:00Z', [device(BUILD_A)], [result(SERIAL, 'passed')]);

  it('the same serial on another fingerprint is compared, and says which builds: fingerprint A -> B', () => {
    const after = run('r2', '2026-12-02T00:00:00Z', [device(BUILD_B)], [result(SERIAL, 'failed')]);
    assert.deepEqual(compareDevices(after, before), [
      { before: SERIAL, after: SERIAL, matchedBy: 'serial', build: 'different', builds: `fingerprint ${FP_A} -> ${FP_B}` },
    ]);
    const [change] = compareRuns(after, before);
    assert.equal(change!.change, 'regressed');
    assert.equal(
      describeChange(change!),
      `regressed os.ipv6-enabled [ipv6] on ${SERIAL} (fingerprint ${FP_A} -> ${FP_B}): passed (pass) -> failed (fail): NO_IPV6`,
    );
  });

  it('the same build says so; a run from before builds were recorded says which side lacks one', () => {
    const same = run('r2', '2026-12-02T00:00:00Z', [device(BUILD_A)], [result(SERIAL, 'failed')]);
    assert.equal(compareRuns(same, before)[0]!.builds, `fingerprint ${FP_A} (same build)`);
    const old = run('r0', '2026-11-01T00:00:00Z', [device(undefined)], [result(SERIAL, 'passed')]);
    assert.equal(compareRuns(before, old).length, 0);
    assert.equal(compareDevices(before, old)[0]!.builds, `fingerprint not recorded -> ${FP_A}`);
    assert.equal(compareDevices(before, old)[0]!.build, 'unknown');
  });

  it('another unit of the model: the one on the same build is preferred, and each is used once', () => {
    const old = run('r1', '2026-12-01T00:00:00Z', [device(BUILD_A, 'OLD1'), device(BUILD_B, 'OLD2')], [result('OLD1', 'passed'), result('OLD2', 'passed')]);
    const now = run('r2', '2026-12-02T00:00:00Z', [device(BUILD_B, 'NEW1'), device(BUILD_A, 'NEW2')], [result('NEW1', 'passed'), result('NEW2', 'failed')]);
    assert.deepEqual(
      compareDevices(now, old).map((d) => [d.before, d.after, d.matchedBy, d.build]),
      [
        ['OLD1', 'NEW2', 'model', 'same'],
        ['OLD2', 'NEW1', 'model', 'same'],
      ],
    );
    const changes = compareRuns(now, old);
    assert.deepEqual(
      changes.map((c) => [c.change, c.device, c.builds]),
      [['regressed', 'NEW2', `fingerprint ${FP_A} (same build), OLD1 -> NEW2`]],
    );
  });
});

describe('merge: one handset on two builds is two devices', () => {
  it('keeps each build’s results apart, the latest build under the plain serial', () => {
    const r1 = runDir(run('r1', '2026-12-01T00:00:00Z', [device(BUILD_A)], [result(SERIAL, 'failed')]));
    const r2 = runDir(run('r2', '2026-12-02T00:00:00Z', [device(BUILD_B)], [result(SERIAL, 'passed')]));
    const out = mkdtempSync(join(tmpdir(), 'v6lab-merged-'));
    const merged = mergeRuns(
      out,
      [r1, r2].map((dir) => ({ dir, results: readResults(dir) })),
      '0.1.0',
    );
    assert.deepEqual(
      merged.devices.map((d) => [d.serial, d.identity?.fingerprint]),
      [
        [`${SERIAL}@BP4A.251205.006_S936BXXUACZF1`, FP_A],
        [SERIAL, FP_B],
      ],
    );
    assert.deepEqual(
      merged.results.map((r) => [r.device, r.status, r.run]),
      [
        [`${SERIAL}@BP4A.251205.006_S936BXXUACZF1`, 'failed', 'r1'],
        [SERIAL, 'passed', 'r2'],
      ],
    );
    // and the merged document is one results.json a report reads
    writeFileSync(join(out, 'results.json'), JSON.stringify(merged));
    assert.equal(readResults(out).devices.length, 2);
    assert.ok(readFileSync(join(out, 'results.json'), 'utf8').includes(FP_B));
  });

  it('the same build certified again: the later result stands, one device', () => {
    const r1 = runDir(run('r1', '2026-12-01T00:00:00Z', [device(BUILD_A)], [result(SERIAL, 'failed')]));
    const r2 = runDir(run('r2', '2026-12-02T00:00:00Z', [device(BUILD_A)], [result(SERIAL, 'passed')]));
    const merged = mergeRuns(
      mkdtempSync(join(tmpdir(), 'v6lab-merged-')),
      [r2, r1].map((dir) => ({ dir, results: readResults(dir) })),
      '0.1.0',
    );
    assert.deepEqual(
      merged.devices.map((d) => d.serial),
      [SERIAL],
    );
    assert.deepEqual(
      merged.results.map((r) => [r.device, r.status, r.run]),
      [[SERIAL, 'passed', 'r2']],
    );
  });

  it('a run from before builds were recorded is never taken for a known build', () => {
    const r0 = runDir(run('r0', '2026-11-01T00:00:00Z', [device(undefined)], [result(SERIAL, 'failed')]));
    const r1 = runDir(run('r1', '2026-12-01T00:00:00Z', [device(BUILD_A)], [result(SERIAL, 'passed')]));
    const merged = mergeRuns(
      mkdtempSync(join(tmpdir(), 'v6lab-merged-')),
      [r0, r1].map((dir) => ({ dir, results: readResults(dir) })),
      '0.1.0',
    );
    assert.deepEqual(
      merged.results.map((r) => [r.device, r.status]),
      [
        [`${SERIAL}@build-not-recorded`, 'failed'],
        [SERIAL, 'passed'],
      ],
    );
  });

  it('runs without builds merge by serial as before', () => {
    const r0 = runDir(run('r0', '2026-11-01T00:00:00Z', [device(undefined)], [result(SERIAL, 'failed')]));
    const r1 = runDir(run('r1', '2026-12-01T00:00:00Z', [device(undefined)], [result(SERIAL, 'passed')]));
    const merged = mergeRuns(
      mkdtempSync(join(tmpdir(), 'v6lab-merged-')),
      [r0, r1].map((dir) => ({ dir, results: readResults(dir) })),
      '0.1.0',
    );
    assert.deepEqual(
      merged.results.map((r) => [r.device, r.status]),
      [[SERIAL, 'passed']],
    );
  });
});
