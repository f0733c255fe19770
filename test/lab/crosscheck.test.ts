// Issue 2: the analyzer against tshark on real captures made in network namespaces (IPv4 and
// IPv6 TCP/UDP, DNS A/AAAA over unbound incl. DNS64 and TCP, TLS with SNI, NAT64 through tayga,
// a CLAT), each as pcap and pcapng, LINUX_SLL2, LINUX_SLL and Ethernet.
//
// Needs root and the lab's tools; skips with the reason otherwise, except in CI (CI=true), where a
// check that cannot run fails: a silently skipped cross-check is a defect.
//
// V6LAB_WRITE_LAB_FIXTURES=1 also refreshes test/fixtures/lab/ (captures + tshark's view of them).
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeFile } from '../../lib/analysis/index.js';
import { labAnalysisOptions, makeLabCaptures, type LabCapture } from './captures.js';
import { readTsharkView, tsharkVersion, type TsharkView } from './tshark.js';
import { requireLab } from '../support/lab-env.js';
import { dnsQueriesOf, flowCountsOf, flowTuplesOf, sniOf, sorted, tsharkCountsOf, tsharkTuplesOf, tupleKey } from '../support/compare.js';

type Analysis = Awaited<ReturnType<typeof analyzeFile>>;

const REQUIRED_TOOLS = ['ip', 'sysctl', 'stdbuf', 'tshark', 'tcpdump', 'editcap', 'dig', 'openssl', 'unbound', 'tayga'];
const DEBIAN_PACKAGES = 'iproute2 procps coreutils tshark tcpdump bind9-dnsutils openssl unbound tayga';
/** pcap LINKTYPE_* values (tcpdump.org/linktypes.html). */
const LINK_TYPES = { ethernet: 1, sll: 113, sll2: 276 } as const;
const FORMATS = ['pcap', 'pcapng'] as const;
const LINKS = ['sll2', 'sll', 'ethernet'] as const;
const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/lab/', import.meta.url));
/** Small enough to live in the repository; all well under 50 KB today. */
const FIXTURES = ['sll2-mixed.pcap', 'sll-mixed.pcapng', 'eth-mixed.pcapng'];
const FIXTURE_MAX_BYTES = 50_000;

interface CheckedCapture {
  capture: LabCapture;
  /** tshark on the file as it is. */
  tshark: TsharkView;
  /** tshark on the file without the second copies (`duplicatesFilter`); `tshark` when none. */
  tsharkDeduplicated: TsharkView;
}

describe('lab: analyzer cross-check against tshark (issue 2)', function () {
  let workDir: string | undefined;
  const checked = new Map<string, CheckedCapture>();
  const analyses = new Map<string, Promise<Analysis>>();

  before(async function () {
    this.timeout(180_000);
    await requireLab(this, 'the lab cross-check', REQUIRED_TOOLS, DEBIAN_PACKAGES);
    workDir = await mkdtemp(path.join(tmpdir(), 'v6lab-crosscheck-captures-'));
    const captures = await makeLabCaptures(workDir);
    // One capture at a time: each runs three tshark processes (four with deduplication).
    for (const capture of captures) {
      const tshark = await readTsharkView(capture.file);
      const tsharkDeduplicated = capture.duplicatesFilter === undefined ? tshark : await readTsharkView(capture.file, { exclude: capture.duplicatesFilter });
      checked.set(`${capture.link} ${capture.format}`, { capture, tshark, tsharkDeduplicated });
    }
    if (process.env.V6LAB_WRITE_LAB_FIXTURES === '1') await writeFixtures([...checked.values()]);
  });

  after(async function () {
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  function capture(link: LabCapture['link'], format: LabCapture['format']): CheckedCapture {
    const found = checked.get(`${link} ${format}`);
    assert.ok(found, `the lab made no ${link} ${format} capture`);
    return found;
  }

  function analysis(entry: CheckedCapture): Promise<Analysis> {
    let pending = analyses.get(entry.capture.file);
    if (!pending) {
      pending = analyzeFile(entry.capture.file, labAnalysisOptions());
      analyses.set(entry.capture.file, pending);
    }
    return pending;
  }

  // Guards the cross-check itself: a lab that made no NAT64 or DNS-over-TCP traffic would let
  // every comparison below pass without proving anything about it.
  it('captured every kind of traffic the comparisons rely on', function () {
    const { tshark } = capture('sll2', 'pcap');
    const conversations = tshark.conversations.map((c) => tupleKey(c.transport, c.a, c.aPort, c.b, c.bPort));
    const has = (pattern: RegExp, what: string): void =>
      assert.ok(
        conversations.some((c) => pattern.test(c)),
        `no ${what} among ${conversations.join('; ')}`,
      );
    has(/^tcp 100\.64\.\S+ <-> 100\.64\./, 'native IPv4 TCP');
    has(/^udp 100\.64\.\S+ <-> 100\.64\./, 'native IPv4 UDP');
    has(/^tcp \[2001:db8:\S+ <-> \[2001:db8:/, 'native IPv6 TCP');
    has(/^udp \[2001:db8:\S+ <-> \[2001:db8:/, 'native IPv6 UDP');
    has(/^tcp \S+:53 <-> /, 'DNS over TCP');
    has(/^tcp .*\[64:ff9b::/, 'NAT64 TCP (64:ff9b::/96)');
    has(/^udp .*\[64:ff9b::/, 'NAT64 UDP (64:ff9b::/96)');
    has(/^tcp 100\.64\.1\.1:443 <-> 192\.0\.0\.4:/, 'CLAT TCP from 192.0.0.4');
    const questions = new Set(tshark.dnsQueries.map((q) => `${q.name} ${q.qtype}`));
    for (const q of ['ipv4only.arpa AAAA', 'api.cross.test A', 'api.cross.test AAAA', 'v4only.cross.test AAAA', 'v6only.cross.test AAAA']) {
      assert.ok(questions.has(q), `no DNS query ${q} among ${[...questions].join('; ')}`);
    }
    assert.deepEqual([...new Set(tshark.sni)].sort(), ['api.cross.test', 'v4only.cross.test', 'v6only.cross.test']);
    assert.ok(
      tshark.conversations.every((c) => c.bytesPrecision === 1),
      'a conversation too big for exact byte counts in tshark 4.0',
    );
  });

  for (const link of LINKS) {
    for (const format of FORMATS) {
      describe(`${link} ${format}`, function () {
        it(`is read as ${format} with link type ${LINK_TYPES[link]}`, async function () {
          const entry = capture(link, format);
          const result = await analysis(entry);
          assert.equal(result.capture.format, format);
          assert.deepEqual(result.capture.linkTypes, [LINK_TYPES[link]]);
        });

        it('has the flows tshark has as conversations (unordered 5-tuples)', async function () {
          const entry = capture(link, format);
          const result = await analysis(entry);
          assert.deepEqual(flowTuplesOf(result), tsharkTuplesOf(entry.tshark));
        });

        // Flow `bytes` is the sum of the frames' orig_len, link-layer header included; tshark's
        // conversation bytes are the sum of frame.len, the same thing (so the Ethernet and SLL
        // captures of one connection differ by 14 vs 16 vs 20 bytes a frame, on both sides).
        it('counts the packets and bytes tshark counts per conversation', async function () {
          const entry = capture(link, format);
          const { capture: file } = entry;
          // tshark counts a packet each time the file holds it; the analyzer counts it once. With
          // the second copies removed, tshark's counts must be the analyzer's again.
          const reference = file.comparePacketCounts ? entry.tshark : file.duplicatesFilter !== undefined ? entry.tsharkDeduplicated : null;
          if (reference === null) this.skip();
          const result = await analysis(entry);
          assert.deepEqual(flowCountsOf(result, reference), tsharkCountsOf(reference));
        });

        it('has the DNS queries tshark has (name and qtype, one per query packet)', async function () {
          const entry = capture(link, format);
          const result = await analysis(entry);
          assert.deepEqual(dnsQueriesOf(result), sorted(entry.tsharkDeduplicated.dnsQueries.map((q) => `${q.name} ${q.qtype}`)));
        });

        // One ClientHello per TLS connection in this lab (no HelloRetryRequest, no resumption).
        it('has the SNI values tshark has, one per TLS flow', async function () {
          const entry = capture(link, format);
          const result = await analysis(entry);
          assert.deepEqual(sniOf(result), sorted(entry.tsharkDeduplicated.sni));
        });
      });
    }
  }
});

/** Copies the small captures and what tshark says of them into test/fixtures/lab/. */
async function writeFixtures(entries: CheckedCapture[]): Promise<void> {
  await mkdir(FIXTURE_DIR, { recursive: true });
  const version = await tsharkVersion();
  for (const name of FIXTURES) {
    const entry = entries.find((e) => path.basename(e.capture.file) === name);
    assert.ok(entry, `no capture named ${name}`);
    const { size } = await stat(entry.capture.file);
    assert.ok(size < FIXTURE_MAX_BYTES, `${name} is ${size} bytes, too big for a fixture (< ${FIXTURE_MAX_BYTES})`);
    await copyFile(entry.capture.file, path.join(FIXTURE_DIR, name));
    const expectations = {
      madeBy: 'makeLabCaptures in test/lab/captures.ts; see README.md',
      tsharkVersion: version,
      capture: {
        file: name,
        format: entry.capture.format,
        link: entry.capture.link,
        linkType: LINK_TYPES[entry.capture.link],
        comparePacketCounts: entry.capture.comparePacketCounts,
        duplicatesFilter: entry.capture.duplicatesFilter ?? null,
      },
      analysisOptions: labAnalysisOptions(),
      tshark: entry.tshark,
      tsharkDeduplicated: entry.capture.duplicatesFilter === undefined ? null : entry.tsharkDeduplicated,
    };
    await writeFile(path.join(FIXTURE_DIR, `${name}.tshark.json`), `${JSON.stringify(expectations, null, 2)}\n`);
  }
}
