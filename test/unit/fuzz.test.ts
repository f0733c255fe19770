import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IncrementalAnalyzer } from '../../lib/analysis/index.js';
import { CaptureFormatError } from '../../lib/capture/errors.js';
import { mutate, prng } from '../support/mutate.js';
import { LINKTYPE, pcapngFile, tlsClientHello } from '../support/packets.js';
import { HandsetCapture } from '../support/scenario.js';

/** CI runs 5,000 cases; FUZZ_CASES raises it (the nightly bench runs 100,000). */
const CASES = Number(process.env.FUZZ_CASES ?? 5000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
/** A case slower than this is a hang, not a slow machine: every input here is under 64 KiB. */
const CASE_BOUND_MS = 2000;

function corpus(): { name: string; bytes: Uint8Array }[] {
  const fixtures = resolve(import.meta.dirname, '../fixtures');
  const files = ['nat464', 'lab'].flatMap((dir) => {
    try {
      return readdirSync(join(fixtures, dir))
        .filter((f) => /\.pcap(ng)?$/.test(f))
        .map((f) => join(fixtures, dir, f));
    } catch {
      return [];
    }
  });
  const handset = new HandsetCapture()
    .dns(0, '2001:db8:1::100', '2001:db8:1::53', 3000, 1, 'ipv4only.arpa', 'AAAA', ['64:ff9b::c000:aa'])
    .tcp(0.1, '2001:db8:1::100', 4000, '2001:db8:2::1', 443, { request: [tlsClientHello({ sni: 'a.test' })], responseBytes: 3000 })
    .tcp(0.2, '192.0.0.4', 4001, '100.64.0.1', 443, { responseBytes: 500, ifIndex: 6 })
    .tcp(0.2, '2001:db8:1::464', 4001, '64:ff9b::6440:1', 443, { responseBytes: 500, twice: true });
  const pcapng = pcapngFile({ interfaces: [{ linkType: LINKTYPE.LINUX_SLL2, name: 'any' }], packets: handset.packets.map((p) => ({ ...p, iface: 0 })) });
  return [
    ...files.map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(f)) })),
    { name: 'built handset pcap', bytes: handset.pcap() },
    { name: 'built handset pcapng', bytes: pcapng },
  ];
}

describe(`analyzer fuzz: ${CASES} seeded mutations of real and built captures (seed ${SEED})`, function () {
  this.timeout(0);

  it('never crashes or hangs: each case is an analysis or a CaptureFormatError', () => {
    const inputs = corpus();
    assert.ok(inputs.length >= 4, 'the fuzz corpus has real captures in it');
    const random = prng(SEED);
    let analysed = 0;
    let rejected = 0;
    for (let i = 0; i < CASES; i++) {
      const input = inputs[i % inputs.length]!;
      const bytes = mutate(input.bytes, random);
      const started = performance.now();
      try {
        const analyzer = new IncrementalAnalyzer({ source: 'fuzz' });
        // Chunked as a stream would arrive, so the incremental path is fuzzed too.
        for (let at = 0; at < bytes.length; at += 4096) analyzer.push(bytes.subarray(at, at + 4096));
        JSON.stringify(analyzer.finish());
        analysed++;
      } catch (error) {
        if (!(error instanceof CaptureFormatError)) {
          assert.fail(`case ${i} (mutation of ${input.name}, seed ${SEED}) threw ${(error as Error).stack}`);
        }
        assert.match(error.message, /byte offset \d+: /);
        rejected++;
      }
      const took = performance.now() - started;
      assert.ok(took < CASE_BOUND_MS, `case ${i} (mutation of ${input.name}) took ${took.toFixed(0)} ms`);
    }
    assert.equal(analysed + rejected, CASES);
    // Both outcomes must occur, or the mutations are not reaching the structure.
    assert.ok(analysed > CASES / 10 && rejected > 0, `${analysed} analysed, ${rejected} rejected`);
  });
});
