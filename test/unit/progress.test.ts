// What certify shows while a run goes, read from results.json: one line per result in a log,
// JSON events for machines, a redrawn bar per device on a terminal, nothing when quiet.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expectedChecks, Progress, type ProgressMode } from '../../lib/cli/progress.js';
import type { CertifyPlan } from '../../lib/harness/plan.js';
import { ResultsWriter, type CheckResult } from '../../lib/report/results.js';

const apps = [
  { package: 'com.example.news', label: 'News', dwellMs: null, flow: [] },
  { package: 'com.example.maps', label: 'Maps', dwellMs: null, flow: [] },
];

function run(mode: ProgressMode): { output: () => string; add: (r: Partial<CheckResult>) => void; progress: Progress } {
  const runDir = mkdtempSync(join(tmpdir(), 'v6lab-progress-'));
  const writer = ResultsWriter.start(runDir, '0.1.0', []);
  const plan = { runDir, suites: ['apn', 'apps'], devices: [{ serial: 'emulator-5554' }, { serial: 'emulator-5556' }] } as unknown as CertifyPlan;
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => {
    text += c.toString();
  });
  const progress = new Progress(plan, expectedChecks(plan, apps), mode, out);
  const add = (r: Partial<CheckResult>) =>
    writer.add({
      device: 'emulator-5554',
      check: 'apn.clat',
      app: null,
      network: 'ipv6',
      status: 'passed',
      verdict: null,
      reasons: [],
      metrics: {},
      evidence: [],
      requirement: [],
      ...r,
    });
  return { output: () => text, add, progress };
}

describe('certify progress', () => {
  it("knows the checks a device runs, in the specs' order", () => {
    const expected = expectedChecks({ suites: ['apn', 'apps'] }, apps);
    assert.deepEqual(
      expected.map((e) => `${e.app ?? e.check}/${e.network}`),
      [
        'apn.ipv6-only-attach/ipv6',
        'apn.clat/ipv6',
        'apn.nat64-prefix/ipv6',
        'apn.ipv4-via-clat/ipv6',
        'com.example.news/ipv6',
        'com.example.maps/ipv6',
        'com.example.news/ipv4v6',
        'com.example.maps/ipv4v6',
      ],
    );
  });

  it('in a log: one line per result as it arrives, with its reasons', () => {
    const r = run('lines');
    r.add({ check: 'apn.clat', status: 'failed', reasons: [{ code: 'NO_CLAT', detail: 'no CLAT' }] });
    r.progress.stop();
    r.add({ check: 'apn.nat64-prefix' });
    r.progress.stop();
    r.progress.stop();
    const lines = r.output().trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^\[\d+s\] emulator-5554 apn\.clat \[ipv6\]: failed NO_CLAT$/);
    assert.match(lines[1]!, /apn\.nat64-prefix \[ipv6\]: passed$/);
  });

  it('for machines: result and progress events as JSON lines', () => {
    const r = run('json');
    r.add({ check: 'apps.ipv6-first', app: 'com.example.news', status: 'passed', verdict: 'warn', reasons: [{ code: 'SERVER_NO_IPV6', detail: '' }] });
    r.progress.stop();
    const events = r
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      events.map((e) => e.event),
      ['result', 'progress', 'progress'],
    );
    assert.deepEqual([events[0]!.app, events[0]!.verdict, events[0]!.reasons], ['com.example.news', 'warn', ['SERVER_NO_IPV6']]);
    assert.deepEqual([events[1]!.device, events[1]!.done, events[1]!.total], ['emulator-5554', 1, 8]);
  });

  it('on a terminal: a bar per device, what it is on, redrawn in place; quiet prints nothing', () => {
    const r = run('tty');
    r.add({ check: 'apn.ipv6-only-attach' });
    r.progress.stop();
    r.progress.stop();
    const text = r.output();
    assert.match(text, /emulator-5554 .* {2}1\/8 .*apn: apn\.clat \[ipv6\]/);
    assert.match(text, /emulator-5556 .* {2}0\/8 .*apn: apn\.ipv6-only-attach \[ipv6\]/);
    assert.match(text, /\x1b\[2A/, 'the second draw moves up over the first');
    const quiet = run('quiet');
    quiet.add({});
    quiet.progress.stop();
    assert.equal(quiet.output(), '');
  });
});
