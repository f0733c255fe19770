// The options issue 18 adds to certify and report: --lang (default from the locale, a bad value a
// usage error naming the two), --lab-name/--tester/--notes (checked, kept in plan.json for
// --resume), --history beside --no-allure, and a merge sealed like a finished run.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunMetadata } from '../../lib/cli/certify.js';
import { UsageError } from '../../lib/cli/errors.js';
import { parseLangOption, reportCommand } from '../../lib/cli/report.js';
import { readPlan, writePlan, type CertifyPlan } from '../../lib/harness/plan.js';
import { readResults, writeDocument, type RunResults } from '../../lib/report/results.js';
import { verifySeal } from '../../lib/report/seal.js';

const quiet = { write: () => true } as unknown as NodeJS.WritableStream;

describe('--lang', () => {
  it('follows the locale without it; takes en and zh-CN in any case; anything else is a usage error naming both', () => {
    assert.equal(parseLangOption(undefined, { LANG: 'zh_CN.UTF-8' }), 'zh-CN');
    assert.equal(parseLangOption(undefined, { LANG: 'de_DE.UTF-8' }), 'en');
    assert.equal(parseLangOption('ZH-cn', {}), 'zh-CN');
    assert.equal(parseLangOption('en', { LANG: 'zh_CN.UTF-8' }), 'en');
    assert.throws(
      () => parseLangOption('fr', {}),
      (e: unknown) => e instanceof UsageError && /--lang: "fr" .* one of en, zh-CN/.test(e.message),
    );
  });
});

describe('certify --lab-name --tester --notes', () => {
  it('are kept trimmed; notes take lines; empty, too long or control characters are usage errors naming the option', () => {
    assert.deepEqual(parseRunMetadata({ labName: ' 北京 lab 3 ', tester: 'Li Wei', notes: 'RC2\nsecond SIM empty' }), {
      labName: '北京 lab 3',
      tester: 'Li Wei',
      notes: 'RC2\nsecond SIM empty',
    });
    assert.deepEqual(parseRunMetadata({}), {});
    assert.throws(() => parseRunMetadata({ tester: '  ' }), /--tester: give a text/);
    assert.throws(() => parseRunMetadata({ labName: 'a\nb' }), /--lab-name: control characters are not taken$/);
    assert.throws(() => parseRunMetadata({ notes: 'red \u001b[31m' }), /--notes: control characters are not taken \(line breaks and tabs are\)/);
    assert.throws(() => parseRunMetadata({ labName: 'x'.repeat(201) }), /--lab-name: 201 characters, over the 200/);
  });

  it('are kept in plan.json, so a resume keeps them; a plan with an empty one is refused naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-plan-meta-'));
    const plan: CertifyPlan = {
      runDir: dir,
      suites: ['os'],
      catalogue: join(dir, 'catalogue.json'),
      dwellMs: 1000,
      clearAppData: false,
      adbPort: 5037,
      labName: 'Beijing lab 3',
      tester: 'Li Wei',
      notes: 'RC2',
      devices: [
        {
          serial: 'emulator-5554',
          profile: 'compliant',
          profileSource: 'x',
          virtual: true,
          appium: { url: 'http://127.0.0.1:4723', capabilities: {}, start: true },
          capture: ['device'],
          gatewayCapture: null,
          emulatorCapture: null,
          networks: { ipv6: null, ipv4v6: null },
          apnSwitch: 'manual',
          resolverProbeUrl: null,
          ipv4OnlyProbeUrl: null,
          backgroundHosts: [],
          catalogue: null,
        },
      ],
    };
    const file = writePlan(plan);
    const read = readPlan(file);
    assert.deepEqual([read.labName, read.tester, read.notes], ['Beijing lab 3', 'Li Wei', 'RC2']);
    writePlan({ ...plan, tester: '' });
    assert.throws(() => readPlan(file), /tester/);
  });
});

describe('report --history and --merge', () => {
  function run(id: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-opt-run-'));
    mkdirSync(join(dir, 'devices/emulator-5554'), { recursive: true });
    writeFileSync(join(dir, 'devices/emulator-5554/apn.json'), '{"apn":"ipv6"}');
    const doc: RunResults = {
      run: { id, started: '2026-12-03T08:00:00.000Z', finished: '2026-12-03T08:05:00.000Z', tool: { name: 'v6lab', version: '0.1.0' } },
      devices: [{ serial: 'emulator-5554', model: 'Ref', android: '14', virtual: true, profile: 'compliant' }],
      results: [
        {
          device: 'emulator-5554',
          check: 'os.apn-protocol',
          app: null,
          network: 'ipv4v6',
          status: 'passed',
          verdict: null,
          reasons: [],
          metrics: {},
          evidence: ['devices/emulator-5554/apn.json'],
          requirement: [],
        },
      ],
    };
    writeDocument(dir, doc);
    return dir;
  }

  it('--history needs Allure: with --no-allure a usage error, before anything is written', async () => {
    await assert.rejects(reportCommand(run('r1'), { history: '/nonexistent', allure: false }, quiet), /--history carries Allure trends: leave out --no-allure/);
  });

  it('a merge is sealed: the evidence its results name in the runs it was made of, and --verify passes on it', async () => {
    const [a, b] = [run('run-a'), run('run-b')];
    const merged = join(mkdtempSync(join(tmpdir(), 'v6lab-opt-merge-')), 'fleet');
    assert.equal(await reportCommand(merged, { merge: [a, b], allure: false }, quiet, quiet), 0);
    const doc = readResults(merged);
    assert.equal(doc.sealed?.files.length, 1, JSON.stringify(doc.sealed));
    assert.match(doc.sealed!.files[0]!.path, /^\.\.\/\.\.\/v6lab-opt-run-\w+\/devices\/emulator-5554\/apn\.json$/);
    assert.deepEqual((await verifySeal(merged, doc)).problems, []);
    assert.equal(await reportCommand(merged, { verify: true }, quiet), 0);
  });
});
