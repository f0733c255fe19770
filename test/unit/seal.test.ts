// Sealed evidence (lib/report/seal.ts, issue 18): the seal a run takes when it finishes, and
// `v6lab report --verify DIR` naming each file changed, missing or added since; exit 2 with no seal.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../lib/cli/errors.js';
import { reportCommand } from '../../lib/cli/report.js';
import { readResults, writeDocument, type RunResults } from '../../lib/report/results.js';
import { hashFile, NotSealedError, runEntries, sealRun, verifySeal } from '../../lib/report/seal.js';

const sha256 = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A run directory as certify leaves it: evidence, facts, a capture, a gateway capture, the reports, the lock. */
function makeRun(): { dir: string; doc: RunResults } {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-seal-'));
  const doc: RunResults = {
    run: { id: 'sealed-run', started: '2026-12-03T08:00:00.000Z', finished: null, tool: { name: 'v6lab', version: '0.1.0' } },
    devices: [{ serial: 'emulator-5554', model: 'Ref', android: '14', virtual: true, profile: 'compliant' }],
    results: [],
  };
  mkdirSync(join(dir, 'devices/emulator-5554/ipv6'), { recursive: true });
  writeFileSync(join(dir, 'devices/emulator-5554/facts.json'), '{"model":"Ref"}');
  writeFileSync(join(dir, 'devices/emulator-5554/ipv6/com.example.chat.pcap'), Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 1, 2, 3, 4]));
  writeFileSync(join(dir, 'devices/emulator-5554/ipv6/gateway.pcap'), 'gateway bytes');
  writeFileSync(join(dir, 'plan.json'), '{}');
  // What the reports write again each time: never sealed.
  writeFileSync(join(dir, 'index.html'), '<html>');
  writeFileSync(join(dir, 'junit.xml'), '<testsuites/>');
  writeFileSync(join(dir, 'report.pdf'), '%PDF-');
  writeFileSync(join(dir, 'results.json.lock'), '1');
  mkdirSync(join(dir, 'allure-results'));
  writeFileSync(join(dir, 'allure-results/x-result.json'), '{}');
  mkdirSync(join(dir, 'allure-report'));
  writeFileSync(join(dir, 'allure-report/index.html'), '<html>');
  writeDocument(dir, doc);
  return { dir, doc };
}

/** Collects what a command writes. */
function sink(): { stream: NodeJS.WritableStream; text: () => string } {
  let text = '';
  const write = (chunk: string) => {
    text += chunk;
    return true;
  };
  const stream = { write } as unknown as NodeJS.WritableStream;
  return { stream, text: () => text };
}

describe('sealed evidence (lib/report/seal.ts)', () => {
  it('seals every evidence file with its size and sha256, and none of the reports the report command writes again', async () => {
    const { dir, doc } = makeRun();
    const sealed = await sealRun(dir, doc, new Date('2026-12-03T09:00:00.000Z'));
    assert.equal(sealed.at, '2026-12-03T09:00:00.000Z');
    assert.deepEqual(sealed.files, [
      { path: 'devices/emulator-5554/facts.json', bytes: 15, sha256: sha256('{"model":"Ref"}') },
      { path: 'devices/emulator-5554/ipv6/com.example.chat.pcap', bytes: 8, sha256: sha256(Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 1, 2, 3, 4])) },
      { path: 'devices/emulator-5554/ipv6/gateway.pcap', bytes: 13, sha256: sha256('gateway bytes') },
      { path: 'plan.json', bytes: 2, sha256: sha256('{}') },
    ]);
  });

  it('hashes a file larger than its read buffer by streaming, to the same sha256', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-seal-big-'));
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    writeFileSync(join(dir, 'big.pcap'), bytes);
    assert.deepEqual(await hashFile(join(dir, 'big.pcap')), { bytes: bytes.length, sha256: sha256(bytes) });
  });

  it('never follows a symlink: one in the run is not sealed, and --verify names it as added', async () => {
    const { dir, doc } = makeRun();
    const outside = mkdtempSync(join(tmpdir(), 'v6lab-outside-'));
    writeFileSync(join(outside, 'secret'), 'not the run');
    symlinkSync(join(outside, 'secret'), join(dir, 'devices/emulator-5554/link.pcap'));
    symlinkSync(outside, join(dir, 'devices/linked-dir'));
    doc.sealed = await sealRun(dir, doc);
    assert.ok(!doc.sealed.files.some((f) => f.path.includes('link')), JSON.stringify(doc.sealed.files));
    assert.deepEqual(
      runEntries(dir)
        .filter((e) => e.kind !== 'file')
        .map((e) => [e.path, e.kind]),
      [
        ['devices/emulator-5554/link.pcap', 'symlink'],
        ['devices/linked-dir', 'symlink'],
      ],
    );
    const verified = await verifySeal(dir, doc);
    assert.deepEqual(
      verified.problems.map((p) => [p.problem, p.path]),
      [
        ['added', 'devices/emulator-5554/link.pcap'],
        ['added', 'devices/linked-dir'],
      ],
    );
    assert.match(verified.problems[0]!.detail, /a symlink, not in the seal/);
  });

  it('verifies a sealed run; then names a pcap with one byte changed, a missing file, a file of another size and an added one', async () => {
    const { dir, doc } = makeRun();
    doc.sealed = await sealRun(dir, doc);
    writeDocument(dir, doc);
    assert.deepEqual((await verifySeal(dir, readResults(dir))).problems, []);
    // The reports may be written again at will: still verified.
    writeFileSync(join(dir, 'index.html'), '<html lang="zh-CN">');
    writeFileSync(join(dir, 'report.pdf'), '%PDF-1.7 again');
    assert.deepEqual((await verifySeal(dir, readResults(dir))).problems, []);

    const pcap = join(dir, 'devices/emulator-5554/ipv6/com.example.chat.pcap');
    const bytes = readFileSync(pcap);
    bytes[5] = bytes[5]! ^ 0xff;
    writeFileSync(pcap, bytes);
    rmSync(join(dir, 'devices/emulator-5554/facts.json'));
    writeFileSync(join(dir, 'devices/emulator-5554/ipv6/gateway.pcap'), 'gateway bytes and more');
    writeFileSync(join(dir, 'devices/emulator-5554/ipv6/extra.pcap'), 'planted');
    const verified = await verifySeal(dir, readResults(dir));
    assert.deepEqual(
      verified.problems.map((p) => [p.problem, p.path]),
      [
        ['missing', 'devices/emulator-5554/facts.json'],
        ['changed', 'devices/emulator-5554/ipv6/com.example.chat.pcap'],
        ['added', 'devices/emulator-5554/ipv6/extra.pcap'],
        ['changed', 'devices/emulator-5554/ipv6/gateway.pcap'],
      ],
    );
    assert.match(verified.problems[1]!.detail, /^sha256 [0-9a-f]{12}\.\.\. -> [0-9a-f]{12}\.\.\. \(size 8 bytes unchanged\)$/);
    assert.equal(verified.problems[3]!.detail, 'size 13 -> 22 bytes');
  });

  it('a file that became a symlink since the seal is changed, not followed', async () => {
    const { dir, doc } = makeRun();
    doc.sealed = await sealRun(dir, doc);
    const pcap = join(dir, 'devices/emulator-5554/ipv6/gateway.pcap');
    const copy = join(mkdtempSync(join(tmpdir(), 'v6lab-copy-')), 'gateway.pcap');
    writeFileSync(copy, readFileSync(pcap));
    rmSync(pcap);
    symlinkSync(copy, pcap);
    assert.deepEqual(
      (await verifySeal(dir, doc)).problems.map((p) => [p.problem, p.path, p.detail]),
      [['changed', 'devices/emulator-5554/ipv6/gateway.pcap', 'now a symlink (not followed)']],
    );
  });

  it('a merge seals the evidence its results name in the runs it was made of', async () => {
    const { dir: source } = makeRun();
    const merged = mkdtempSync(join(tmpdir(), 'v6lab-merged-'));
    const rel = (p: string) => join('..', source.split('/').pop()!, p);
    const doc: RunResults = {
      run: {
        id: 'merged-1',
        started: '2026-12-03T08:00:00.000Z',
        finished: '2026-12-03T08:05:00.000Z',
        tool: { name: 'v6lab', version: '0.1.0' },
        merged: [{ id: 'sealed-run', dir: rel(''), started: '2026-12-03T08:00:00.000Z', finished: null, tool: '0.1.0' }],
      },
      devices: [
        { serial: 'emulator-5554', model: 'Ref', android: '14', virtual: true, profile: 'compliant', factsFile: rel('devices/emulator-5554/facts.json') },
      ],
      results: [
        {
          device: 'emulator-5554',
          check: 'apps.ipv6-first',
          app: 'com.example.chat',
          network: 'ipv6',
          status: 'passed',
          verdict: 'pass',
          reasons: [],
          metrics: {},
          evidence: [rel('devices/emulator-5554/ipv6/com.example.chat.pcap'), rel('devices/emulator-5554/ipv6/absent.pcap')],
          requirement: [],
        },
      ],
    };
    doc.sealed = await sealRun(merged, doc);
    assert.deepEqual(
      doc.sealed.files.map((f) => f.path),
      [rel('devices/emulator-5554/facts.json'), rel('devices/emulator-5554/ipv6/com.example.chat.pcap')],
    );
    assert.deepEqual((await verifySeal(merged, doc)).problems, []);
    writeFileSync(join(source, 'devices/emulator-5554/ipv6/com.example.chat.pcap'), 'changed');
    assert.deepEqual(
      (await verifySeal(merged, doc)).problems.map((p) => [p.problem, p.path]),
      [['changed', rel('devices/emulator-5554/ipv6/com.example.chat.pcap')]],
    );
  });
});

describe('v6lab report --verify', () => {
  it('exit 0 on a sealed run as it was; exit 1 naming the changed pcap, in text and in JSON', async () => {
    const { dir, doc } = makeRun();
    doc.sealed = await sealRun(dir, doc);
    writeDocument(dir, doc);
    const ok = sink();
    assert.equal(await reportCommand(dir, { verify: true }, ok.stream), EXIT.ok);
    assert.match(ok.text(), /^verified: all 4 sealed files match the seal of /);

    const pcap = join(dir, 'devices/emulator-5554/ipv6/com.example.chat.pcap');
    const bytes = readFileSync(pcap);
    bytes[0] = bytes[0]! ^ 1;
    writeFileSync(pcap, bytes);
    const bad = sink();
    assert.equal(await reportCommand(dir, { verify: true }, bad.stream), EXIT.checkFailed);
    const lines = bad.text().trim().split('\n');
    assert.match(lines[0]!, /^CHANGED devices\/emulator-5554\/ipv6\/com\.example\.chat\.pcap: sha256 /);
    assert.match(lines[1]!, /^NOT VERIFIED: 1 problem against the seal of .* \(4 files sealed\)$/);
    const json = sink();
    assert.equal(await reportCommand(dir, { verify: true, json: true }, json.stream), EXIT.checkFailed);
    const parsed = JSON.parse(json.text()) as { verified: boolean; sealed: number; problems: { path: string; problem: string }[] };
    assert.equal(parsed.verified, false);
    assert.equal(parsed.sealed, 4);
    assert.deepEqual(
      parsed.problems.map((p) => p.path),
      ['devices/emulator-5554/ipv6/com.example.chat.pcap'],
    );
  });

  it('no seal (a run that did not finish, or from before sealing): a ResultsFileError, exit 2 at the command line', async () => {
    const { dir } = makeRun();
    await assert.rejects(reportCommand(dir, { verify: true }, sink().stream), (error: unknown) => {
      assert.ok(error instanceof NotSealedError);
      assert.equal((error as Error).name, 'ResultsFileError');
      assert.match((error as Error).message, /results\.json: has no seal/);
      return true;
    });
  });

  it('writes nothing and takes no report option beside it', async () => {
    const { dir, doc } = makeRun();
    doc.sealed = await sealRun(dir, doc);
    writeDocument(dir, doc);
    await assert.rejects(
      reportCommand(dir, { verify: true, pdf: true, compare: dir }, sink().stream),
      /--verify only checks the evidence: leave out --compare, --pdf/,
    );
    assert.equal(readFileSync(join(dir, 'index.html'), 'utf8'), '<html>');
  });
});
