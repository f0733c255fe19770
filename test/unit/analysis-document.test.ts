/**
 * The document's writers (what `analyze --json` streams, from the columns) against the analysis
 * built whole and written value by value: the same bytes for every flow, query and hostname,
 * on captures with every answer kind, CLAT legs, failed attempts and times out of order.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IncrementalAnalyzer, materialize, type AnalysisDocument } from '../../lib/analysis/index.js';
import { JsonBytes } from '../../lib/analysis/json-bytes.js';
import { LINKTYPE, pcapFile } from '../support/packets.js';
import { HandsetCapture } from '../support/scenario.js';

const HS = '2001:db8:1::100';
const DNS = '2001:db8:1::53';
const CLAT6 = '2001:db8:1::464';

/** What `write` puts in a JsonBytes, as text. */
function written(write: (o: JsonBytes) => void): string {
  const chunks: Buffer[] = [];
  const o = new JsonBytes((bytes, release) => {
    chunks.push(Buffer.from(bytes));
    release();
  });
  write(o);
  o.end();
  return Buffer.concat(chunks).toString('utf8');
}

function documentOfCapture(bytes: Uint8Array): AnalysisDocument {
  const a = new IncrementalAnalyzer({ nat64Prefixes: ['64:ff9b::/96'], clatAddresses: [CLAT6] });
  a.push(bytes);
  return a.finishDocument();
}

/** Every writer of `doc` against the whole analysis (the document is read again: it is built once and stays valid). */
function assertWritersMatch(doc: AnalysisDocument, label: string): void {
  const whole = materialize(doc);
  for (let i = 0; i < doc.flowCount; i++)
    assert.equal(
      written((o) => doc.writeFlow(i, o)),
      written((o) => o.value(whole.flows[i])),
      `${label}: flow ${i}`,
    );
  for (let i = 0; i < doc.dnsCount; i++)
    assert.equal(
      written((o) => doc.writeDnsQuery(i, o)),
      written((o) => o.value(whole.dns[i])),
      `${label}: query ${i}`,
    );
  for (let i = 0; i < doc.hostnameCount; i++) {
    assert.equal(
      written((o) => doc.writeHostname(i, o)),
      written((o) => o.value(whole.hostnames[i])),
      `${label}: hostname ${i}`,
    );
    assert.equal(doc.hostnameHasNativeAaaa(i), whole.hostnames[i]!.nativeAaaa.length > 0, `${label}: hostname ${i} native AAAA`);
  }
}

describe('the analysis document: streamed JSON is the whole analysis, written', () => {
  it('every answer kind, failed and CLAT attempts, and attempts whose rows are out of time order', () => {
    const c = new HandsetCapture()
      .dns(0, HS, DNS, 3000, 1, 'mixed.test', 'AAAA', ['2001:db8:2::10', '64:ff9b::c633:6407'])
      .dns(0, HS, DNS, 3001, 2, 'mixed.test', 'A', ['198.51.100.7', '198.51.100.8'])
      .dns(0, HS, DNS, 3002, 3, 'asked-only.test', 'AAAA', [])
      .dns(0, HS, DNS, 3003, 4, 'v4.test', 'A', ['203.0.113.9'])
      // The capture's records out of time order (pcapng across interfaces can be): the row made
      // first has the later time, so the name's attempts must be sorted.
      .tcp(5, HS, 4000, '2001:db8:2::10', 443, { responseBytes: 3000 })
      .tcp(1, HS, 4001, '64:ff9b::c633:6407', 443, { responseBytes: 3000 })
      .tcp(2, HS, 4002, '2001:db8:2::10', 443, { outcome: 'timeout' })
      .tcp(3, '192.0.0.4', 4003, '198.51.100.7', 443, { responseBytes: 2000 })
      .tcp(3, CLAT6, 4003, '64:ff9b::c633:6407', 443, { responseBytes: 2000 })
      .tcp(4, HS, 4004, '64:ff9b::cb00:7109', 80, { outcome: 'reset' });
    // In the order the packets were added, not sorted by time.
    const doc = documentOfCapture(pcapFile({ linkType: LINKTYPE.LINUX_SLL2, packets: c.packets }));
    assert.ok(doc.hostnameCount >= 3 && doc.flowCount >= 6, `${doc.hostnameCount} hostnames, ${doc.flowCount} flows`);
    const mixed = materialize(doc).hostnames.find((h) => h.name === 'mixed.test')!;
    assert.ok(mixed.a.length === 2 && mixed.nativeAaaa.length === 1 && mixed.synthesizedAaaa.length === 1, JSON.stringify(mixed));
    assert.notDeepEqual(
      mixed.flows,
      [...mixed.flows].sort((x, y) => x - y),
      'the attempts are not in row order: the sort is exercised',
    );
    assertWritersMatch(doc, 'scenario');
  });

  it('the fixture captures', () => {
    const dir = resolve(import.meta.dirname, '../fixtures');
    const captures = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.pcap(ng)?$/.test(f));
    let compared = 0;
    for (const file of captures) {
      let doc: AnalysisDocument;
      try {
        doc = documentOfCapture(readFileSync(join(dir, file)));
      } catch (error) {
        // A capture broken on purpose: its own tests say how.
        assert.equal((error as Error).name, 'CaptureFormatError', `${file}: ${(error as Error).message}`);
        continue;
      }
      assertWritersMatch(doc, file);
      compared++;
    }
    assert.ok(compared >= 5, `${compared} of ${captures.length} fixture captures compared`);
  });
});
