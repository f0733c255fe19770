// The analyzer against tshark's view of real lab captures kept in test/fixtures/lab/ (made by
// test/lab/captures.ts): the cross-check of issue 2 without root, on every machine.
import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analyzeFile, analyzeStream, IncrementalAnalyzer } from '../../lib/analysis/index.js';
import type { TsharkView } from '../lab/tshark.js';
import { dnsQueriesOf, flowCountsOf, flowTuplesOf, sniOf, sorted, tsharkCountsOf, tsharkTuplesOf } from '../support/compare.js';

const dir = resolve(import.meta.dirname, '../fixtures/lab');

interface Expectations {
  capture: { file: string; format: 'pcap' | 'pcapng'; linkType: number; comparePacketCounts: boolean };
  analysisOptions: { nat64Prefixes: string[]; clatAddresses: string[] };
  tshark: TsharkView;
  tsharkDeduplicated: TsharkView | null;
}

for (const name of ['sll2-mixed.pcap', 'sll-mixed.pcapng', 'eth-mixed.pcapng']) {
  describe(`lab fixture ${name} against tshark`, () => {
    const expected = JSON.parse(readFileSync(join(dir, `${name}.tshark.json`), 'utf8')) as Expectations;
    const deduplicated = expected.tsharkDeduplicated ?? expected.tshark;
    // Inference must find what the lab configured, so the paths do not depend on the options.
    const analysis = analyzeFile(join(dir, name));

    it('reads the container and link type', async () => {
      const a = await analysis;
      assert.equal(a.capture.format, expected.capture.format);
      assert.deepEqual(a.capture.linkTypes, [expected.capture.linkType]);
      assert.deepEqual(a.capture.warnings, []);
    });

    it("has tshark's conversations as flows, with its packet and byte counts (each copy once)", async () => {
      const a = await analysis;
      assert.deepEqual(flowTuplesOf(a), tsharkTuplesOf(expected.tshark));
      assert.deepEqual(flowCountsOf(a, deduplicated), tsharkCountsOf(deduplicated));
      if (!expected.capture.comparePacketCounts) assert.ok(a.capture.duplicates > 0, 'the -i any copies were seen');
      else assert.equal(a.capture.duplicates, 0);
    });

    it("has tshark's DNS queries and SNI values", async () => {
      const a = await analysis;
      assert.deepEqual(dnsQueriesOf(a), sorted(deduplicated.dnsQueries.map((q) => `${q.name} ${q.qtype}`)));
      assert.deepEqual(sniOf(a), sorted(deduplicated.sni));
    });

    it('discovers the NAT64 prefix (RFC 7050) and infers the CLAT address without being told', async () => {
      const a = await analysis;
      assert.deepEqual(a.nat64Prefixes, expected.analysisOptions.nat64Prefixes);
      assert.equal(a.nat64PrefixSources[a.nat64Prefixes[0]!], 'rfc7050');
      const told = await analyzeFile(join(dir, name), expected.analysisOptions);
      const paths = new Set(a.flows.map((f) => f.path));
      for (const path of ['native-v4', 'native-v6', 'nat64']) assert.ok(paths.has(path as never), `a ${path} flow`);
      if (name === 'eth-mixed.pcapng') {
        // On eth0 alone the CLAT's IPv4 leg is invisible: its IPv6 leg looks like plain NAT64.
        assert.deepEqual(a.clatAddresses, []);
      } else {
        assert.deepEqual(a.clatAddresses, expected.analysisOptions.clatAddresses);
        assert.ok(paths.has('clat'), 'a clat flow');
        assert.deepEqual(
          a.flows.map((f) => f.path),
          told.flows.map((f) => f.path),
        );
      }
    });
  });
}

describe('lab fixtures: the same analysis from a file, a stream and a capture still being written', () => {
  for (const name of ['sll2-mixed.pcap', 'sll-mixed.pcapng']) {
    it(`${name}: analyzeStream in small chunks and IncrementalAnalyzer equal analyzeFile`, async () => {
      const file = join(dir, name);
      const whole = await analyzeFile(file);
      const streamed = await analyzeStream(createReadStream(file, { highWaterMark: 777 }), { source: file });
      assert.deepEqual(streamed, whole);
      // A reader behind a writer: report() mid-way sees a prefix of the flows, finish() all of them.
      const live = new IncrementalAnalyzer();
      const bytes = readFileSync(file);
      live.push(bytes.subarray(0, bytes.length >> 1));
      const midway = live.report();
      assert.ok(midway.capture.packets > 0 && midway.capture.packets < whole.capture.packets);
      live.push(bytes.subarray(bytes.length >> 1));
      assert.deepEqual(live.finish(), whole);
    });
  }
});
