import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendResult, readResults, ResultsFileError, ResultsWriter, type CheckResult } from '../../lib/report/results.js';

const result = (check: string, status: CheckResult['status'] = 'passed'): CheckResult => ({
  device: 'emulator-5554',
  check,
  app: null,
  network: 'ipv6',
  status,
  verdict: null,
  reasons: [],
  metrics: {},
  evidence: [],
  requirement: ['MIIT-3'],
});

describe('results.json (CONTRACTS section 4)', () => {
  it('is valid JSON from the first moment, gains each result as it arrives, and records the end', () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-results-'));
    const writer = ResultsWriter.start(
      dir,
      '0.1.0',
      [{ serial: 'emulator-5554', model: 'M', android: '14', virtual: true, profile: 'compliant' }],
      new Date('2026-11-26T08:00:00Z'),
    );
    assert.deepEqual(readResults(dir).results, []);
    assert.equal(readResults(dir).run.finished, null);
    writer.add(result('os.apn-protocol'));
    writer.add(result('os.clat', 'broken'));
    assert.deepEqual(
      readResults(dir).results.map((r) => r.check),
      ['os.apn-protocol', 'os.clat'],
    );
    writer.finish(new Date('2026-11-26T08:05:00Z'));
    const doc = readResults(dir);
    assert.equal(doc.run.started, '2026-11-26T08:00:00.000Z');
    assert.equal(doc.run.finished, '2026-11-26T08:05:00.000Z');
    assert.equal(doc.run.tool.name, 'v6lab');
  });

  it('resumes a run: finished checks are known, a broken one is run again and replaced', () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-results-'));
    const writer = ResultsWriter.start(dir, '0.1.0', []);
    writer.add(result('os.apn-protocol'));
    writer.add(result('apn.clat', 'broken'));
    const resumed = ResultsWriter.resume(dir);
    assert.equal(resumed.has({ device: 'emulator-5554', check: 'os.apn-protocol', app: null, network: 'ipv6' }), true);
    assert.equal(resumed.has({ device: 'emulator-5554', check: 'apn.clat', app: null, network: 'ipv6' }), false);
    resumed.add(result('apn.clat', 'passed'));
    assert.deepEqual(
      readResults(dir).results.map((r) => `${r.check}:${r.status}`),
      ['os.apn-protocol:passed', 'apn.clat:passed'],
    );
  });

  it('survives being killed in the middle of writing: the file is always a complete document', async function () {
    this.timeout(30_000);
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-results-'));
    const script = join(dir, 'writer.ts');
    writeFileSync(
      script,
      `import { ResultsWriter } from ${JSON.stringify(new URL('../../lib/report/results.js', import.meta.url).pathname.replace(/\.js$/, '.ts'))};
const w = ResultsWriter.start(process.argv[2], '0.1.0', []);
process.send?.('started');
for (let i = 0; ; i++) w.add({ device: 'd', check: 'c' + i, app: null, network: 'ipv6', status: 'passed', verdict: null, reasons: [], metrics: { pad: 'x'.repeat(2000) }, evidence: [], requirement: [] });
`,
    );
    for (const delayMs of [5, 30, 80, 150, 300]) {
      const child = fork(script, [dir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      await new Promise((resolve) => child.once('message', resolve));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const doc = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
      assert.ok(Array.isArray(doc.results), `valid after a kill at ${delayMs} ms`);
    }
  });

  it('says what is wrong with a directory that holds no run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-results-'));
    assert.throws(
      () => readResults(dir),
      (e: unknown) => e instanceof ResultsFileError && /no results\.json/.test(e.message),
    );
    writeFileSync(join(dir, 'results.json'), '[1]');
    assert.throws(() => readResults(dir), /is not a v6lab results document/);
    writeFileSync(join(dir, 'results.json'), '{"run": 1}');
    assert.throws(() => readResults(dir), /results\.json: run: expected an object, got number$/);
  });

  it('is validated when read: a wrong shape names the file and the field, never a cast', () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-results-'));
    const writer = ResultsWriter.start(dir, '0.1.0', [{ serial: 'emulator-5554', model: '', android: '14', virtual: true, profile: 'compliant' }], new Date(), [
      'NOT_INSTALLED',
    ]);
    for (const check of ['os.a', 'os.b', 'os.c', 'os.d']) writer.add(result(check));
    const good = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    assert.deepEqual(good.run.allowSkip, ['NOT_INSTALLED'], 'the allow-list is recorded in the run');
    // biome-ignore lint/suspicious/noExplicitAny: a test bends the parsed document freely
    const cases: [(doc: any) => void, RegExp][] = [
      [
        (d) => {
          d.results[3].status = 'ok';
        },
        /results\.json: results\[3\]\.status: expected one of "passed", "failed", "broken", "skipped", got "ok"$/,
      ],
      [
        (d) => {
          delete d.results[1].reasons;
        },
        /results\.json: results\[1\]\.reasons: missing$/,
      ],
      [
        (d) => {
          d.results[0].reasons = [{ code: 'X' }];
        },
        /results\[0\]\.reasons\[0\]\.detail: missing$/,
      ],
      [
        (d) => {
          d.results[2].network = 'wifi';
        },
        /results\[2\]\.network: expected one of "ipv6", "ipv4v6"/,
      ],
      [
        (d) => {
          d.results[2].metrics = { checkMs: [1] };
        },
        /results\[2\]\.metrics\.checkMs: expected a number, a string or null$/,
      ],
      [
        (d) => {
          d.devices[0].virtual = 'yes';
        },
        /devices\[0\]\.virtual: expected true or false/,
      ],
      [
        (d) => {
          d.run.allowSkip = ['not installed'];
        },
        /run\.allowSkip\[0\]: expected a reason code/,
      ],
      [
        (d) => {
          d.run.finished = 5;
        },
        /run\.finished: expected a string, got number$/,
      ],
      [
        (d) => {
          delete d.results;
        },
        /results\.json: results: missing$/,
      ],
    ];
    for (const [bend, why] of cases) {
      const doc = structuredClone(good);
      bend(doc);
      writeFileSync(join(dir, 'results.json'), JSON.stringify(doc));
      assert.throws(
        () => readResults(dir),
        (e: unknown) => e instanceof ResultsFileError && why.test(e.message),
        String(why),
      );
    }
    // A field this version does not know (a newer v6lab's) is kept, not refused.
    const newer = structuredClone(good);
    newer.results[0].observedOn = { apn: 'ipv6.v6lab.test' };
    writeFileSync(join(dir, 'results.json'), JSON.stringify(newer));
    assert.deepEqual((readResults(dir).results[0] as unknown as { observedOn: unknown }).observedOn, { apn: 'ipv6.v6lab.test' });
  });
});

describe('results.json written by several workers at once', () => {
  it('keeps every result when four processes append 25 each, and is valid JSON throughout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-results-'));
    ResultsWriter.start(dir, '0.1.0', []);
    const script = join(dir, 'append.mts');
    writeFileSync(
      script,
      `import { appendResult } from ${JSON.stringify(join(import.meta.dirname, '../../lib/report/results.js'))};
const worker = process.argv[2];
for (let i = 0; i < 25; i++) await appendResult(${JSON.stringify(dir)}, { device: 'd' + worker, check: 'c' + i, app: null, network: 'ipv6', status: 'passed', verdict: null, reasons: [], metrics: {}, evidence: [], requirement: [] });
`,
    );
    let reads = 0;
    const reader = setInterval(() => {
      readResults(dir);
      reads++;
    }, 2);
    try {
      await Promise.all(
        [0, 1, 2, 3].map(
          (w) =>
            new Promise<void>((resolve, reject) => {
              const child = fork(script, [String(w)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
              child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${w} exited ${code}`))));
            }),
        ),
      );
    } finally {
      clearInterval(reader);
    }
    const doc = readResults(dir);
    assert.equal(doc.results.length, 100);
    for (const w of [0, 1, 2, 3]) assert.equal(doc.results.filter((r) => r.device === `d${w}`).length, 25);
    assert.ok(reads > 0);
  });
});

describe('appendResult', () => {
  it('takes over a lock whose holder died', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-results-'));
    ResultsWriter.start(dir, '0.1.0', []);
    // pid 2^22+1 is above Linux's pid_max default range: no such process.
    writeFileSync(join(dir, 'results.json.lock'), String(4194305));
    await appendResult(dir, result('os.apn-protocol'));
    assert.deepEqual(
      readResults(dir).results.map((r) => r.check),
      ['os.apn-protocol'],
    );
  });
});
