// Issue 19: `v6lab analyze` on captures far larger than a handset's usual one, as a user runs it
// (the built command line): tens of thousands of table rows and timeline hostnames, hundreds of
// thousands of one-packet flows in bounded memory, a --json document larger than the heap it is
// written from, and DNS and TLS sent one byte per TCP segment. Every check is on exit status,
// output and memory, never on time. The issue's own sizes (1M flows, 1.4M names) take over 15 s
// here, so the counts are scaled down where the point survives, each saying why. V6LAB_BIN runs
// another build's bin/v6lab.js (e.g. the code before issue 19: it fails all but 3 of these).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../support/cli.js';
import { addressBytes, dnsOverTcp, dnsQuery, dnsResponse, LINKTYPE, tlsClientHello } from '../support/packets.js';
import { NumberedDnsMessages, numberedAddress, numberedDnsQueries, PcapWriter, TCP_FLAG, tcpConversation } from '../support/synth-pcap.js';

const BIN = process.env.V6LAB_BIN ?? join(projectRoot, 'bin/v6lab.js');
const T0 = 1_764_000_000;
/** A stack trace's frame line, what a crash leaves on stderr. */
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

describe('v6lab analyze at scale (issue 19: hostile and large inputs)', function () {
  // Safety net only: the code before issue 19 takes 10 s on some of these (and fails them).
  this.timeout(120_000);
  let dir = '';
  let preload = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'v6lab-scale-'));
    // The analyzer's own peak RSS (getrusage's ru_maxrss), written as it exits: exact, and no
    // /usr/bin/time needed on the machine. A process killed by V8 running out of heap writes none.
    preload = join(dir, 'peak-rss.cjs');
    writeFileSync(
      preload,
      "process.on('exit', () => require('node:fs').writeFileSync(process.env.V6LAB_TEST_PEAK_RSS, String(process.resourceUsage().maxRSS * 1024)));\n",
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let runs = 0;
  /**
   * `v6lab analyze ...args` under `--max-old-space-size=heapMiB` (when given). `json`: stdout
   * is checked as JSON while it streams in (never held whole); otherwise it is kept as text.
   */
  function analyze(args: readonly string[], options: { json?: boolean; heapMiB?: number } = {}): Promise<AnalyzeRun> {
    const rssFile = join(dir, `peak-rss-${++runs}`);
    const node = ['-r', preload, ...(options.heapMiB === undefined ? [] : [`--max-old-space-size=${options.heapMiB}`])];
    const child = spawn(process.execPath, [...node, BIN, 'analyze', ...args], {
      cwd: projectRoot,
      env: { ...process.env, V6LAB_TEST_PEAK_RSS: rssFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const check = options.json ? new JsonStreamCheck() : null;
    let jsonError: string | null = null;
    const text: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      if (check === null) text.push(chunk);
      else if (jsonError === null) {
        try {
          check.write(chunk);
        } catch (error) {
          jsonError = (error as Error).message;
        }
      }
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      if (stderr.length < 100_000) stderr += s;
    });
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        let outline: JsonOutline | null = null;
        if (check !== null && jsonError === null) {
          try {
            outline = check.end();
          } catch (error) {
            jsonError = (error as Error).message;
          }
        }
        let peakRssBytes: number | null = null;
        try {
          peakRssBytes = Number(readFileSync(rssFile, 'utf8'));
        } catch {
          // No file: the process did not exit normally; its code or signal says why.
        }
        resolve({ code, signal, stderr, peakRssBytes, stdout: Buffer.concat(text).toString('utf8'), outline, jsonError });
      });
    });
  }

  /** The run exited 0 and printed no stack; otherwise the assertion shows how it ended. */
  function assertClean(run: AnalyzeRun, what: string): void {
    assert.equal(run.code, 0, `${what}: exit ${run.code} (signal ${run.signal}); stderr: ${run.stderr.slice(0, 2000)}`);
    assert.doesNotMatch(run.stderr, STACK_FRAME, `${what}: a stack on stderr`);
  }

  /** A valid JSON document's outline, or the assertion says what broke. */
  function outlineOf(run: AnalyzeRun, what: string): JsonOutline {
    assertClean(run, what);
    assert.equal(run.jsonError, null, `${what}: stdout is not JSON: ${run.jsonError}`);
    assert.ok(run.outline !== null);
    return run.outline;
  }

  describe('130,000 DNS queries and 65,000 hostnames on the timeline (~25 MB)', () => {
    // Each name: an A query left unanswered, an AAAA query answered with its own address, and a
    // SYN to that address, so every name has a flow and is drawn on the --html timeline.
    const NAMES = 65_000;
    let capture = '';
    let html = '';
    let text: Promise<AnalyzeRun>;
    let page: Promise<AnalyzeRun>;
    before(() => {
      capture = join(dir, 'dns-130k.pcap');
      html = join(dir, 'dns-130k.html');
      const writer = new PcapWriter(LINKTYPE.LINUX_SLL2, NAMES * 420);
      const a = numberedDnsQueries('h', 'scale.example', 'A');
      const aaaa = numberedDnsQueries('h', 'scale.example', 'AAAA');
      const answers = new NumberedDnsMessages('h', 'scale.example', (name) => dnsResponse({ id: 0, name, qtype: 'AAAA', answers: ['2001:db8:ff::'] }));
      const client4 = addressBytes('10.0.0.2');
      const resolver = addressBytes('10.0.0.53');
      const client6 = addressBytes('2001:db8:1::2');
      for (let i = 0; i < NAMES; i++) {
        const ts = T0 + i * 0.001;
        const port = 20_000 + (i % 10_000);
        const server = numberedAddress('2001:db8:ff::', i);
        writer.add({ ts, src: client4, dst: resolver, srcPort: port, dstPort: 53, payload: a.message(i) });
        writer.add({ ts: ts + 0.0001, src: client4, dst: resolver, srcPort: port, dstPort: 53, payload: aaaa.message(i) });
        writer.add({ ts: ts + 0.0002, src: resolver, dst: client4, srcPort: 53, dstPort: port, payload: answers.message(i, server) });
        writer.add({ ts: ts + 0.0003, src: client6, dst: server, srcPort: 30_000 + (i % 30_000), dstPort: 443, tcp: { seq: i, ack: 0, flags: TCP_FLAG.SYN } });
      }
      writeFileSync(capture, writer.bytes());
      // Not scaled down: spreading about 130,000 values as arguments is what overflowed the stack.
      // The text tables all rows long (--top past the row count), and the HTML view, at once.
      text = analyze([capture, '--top', '1000000']);
      page = analyze([capture, '--html', html]);
    });

    it('analyze lists all 130,000 queries in its text tables, exit 0 and no stack', async () => {
      const r = await text;
      assertClean(r, 'analyze --top 1000000');
      assert.match(r.stdout, /^DNS \(130000 queries\)$/m);
      const last = new RegExp(`^ {2}\\S+ +h00064999\\.scale\\.example +AAAA +NOERROR +${formatIpv6(numberedAddress('2001:db8:ff::', NAMES - 1))}$`, 'm');
      assert.match(r.stdout, last, 'the last AAAA query is listed with its answer');
      assert.match(r.stdout, /^Flows \(75000\)$/m, '10,000 DNS flows and 65,000 SYNs');
    });

    it('--html draws 65,000 hostnames on the timeline, exit 0 and no stack', async () => {
      assertClean(await page, 'analyze --html');
      const written = readFileSync(html, 'utf8');
      const labels = written.match(/text-anchor="end">h\d{8}\.scale\.example<\/text>/g) ?? [];
      assert.equal(labels.length, NAMES, 'one timeline row per hostname');
      assert.ok(written.includes('text-anchor="end">h00064999.scale.example</text>'));
    });
  });

  describe('250,000 one-packet flows (~17 MB)', () => {
    // 3 in 4 are IPv4 UDP datagrams, 1 in 4 IPv6 TCP SYNs (a scan): two paths, both transports.
    // The 1M flows take 5 s; a quarter still tells the old state from the compact one.
    const FLOWS = 250_000;
    // The state before issue 19 lived on the V8 heap, ~2.2 KB a flow (550 MB here); the compact
    // state's columns are off the heap, and 16 MiB of heap is enough: twice that for a margin.
    const HEAP_MIB = 32;
    // Peak RSS per flow above a 1,000-flow run's, both under HEAP_MIB. Measured at af23cb1:
    // 415 bytes at 250k flows (its fixed part spread thin: 254 at 1M, the slope from 500k to 1M
    // 148); the code before issue 19 took ~2.9 KB at 1M. Twice what was measured.
    const MAX_BYTES_PER_FLOW = 830;
    let capture = '';
    let small = '';
    let full: Promise<AnalyzeRun>;
    let base: Promise<AnalyzeRun>;
    before(() => {
      capture = join(dir, 'flows-250k.pcap');
      small = join(dir, 'flows-1k.pcap');
      writeFileSync(capture, oneShotFlows(FLOWS));
      writeFileSync(small, oneShotFlows(1000));
      full = analyze([capture, '--json'], { json: true, heapMiB: HEAP_MIB });
      base = analyze([small, '--json'], { json: true, heapMiB: HEAP_MIB });
    });

    it(`--json lists every flow under --max-old-space-size=${HEAP_MIB}, at most ${MAX_BYTES_PER_FLOW} bytes of peak RSS per flow`, async () => {
      const b = await base;
      assert.equal(outlineOf(b, '1,000 flows').lengths.flows, 1000);
      const r = await full;
      const outline = outlineOf(r, `${FLOWS} flows under --max-old-space-size=${HEAP_MIB}`);
      assert.equal(outline.lengths.flows, FLOWS);
      const captured = outline.skeleton.capture as { packets: number; warnings: string[] };
      assert.equal(captured.packets, FLOWS);
      assert.deepEqual(captured.warnings, [], 'the default --max-memory holds every flow');
      assert.equal((captured as { unlisted?: unknown }).unlisted, null);
      assert.ok(r.peakRssBytes !== null && b.peakRssBytes !== null, 'peak RSS written at exit');
      const perFlow = (r.peakRssBytes - b.peakRssBytes) / FLOWS;
      assert.ok(
        perFlow < MAX_BYTES_PER_FLOW,
        `${perFlow.toFixed(0)} bytes of peak RSS per flow (${mib(r.peakRssBytes)} MiB, ${mib(b.peakRssBytes)} MiB for 1,000 flows)`,
      );
    });

    it('--max-memory 16 drops per-flow detail with a warning, never the totals', async () => {
      const r = await analyze([capture, '--json', '--max-memory', '16'], { json: true });
      const outline = outlineOf(r, '--max-memory 16');
      const bounded = outline.skeleton as unknown as Totals;
      const warnings = bounded.capture.warnings.filter((w) => w.startsWith('--max-memory '));
      assert.equal(warnings.length, 1, `one --max-memory warning: ${JSON.stringify(bounded.capture.warnings)}`);
      assert.match(warnings[0]!, /^--max-memory 16\b.*\bpacket \d+/, 'the warning names the limit and the packet where it was reached');
      // The same as data, for what judges an app on it (CAPTURE_INCOMPLETE).
      const unlisted = bounded.capture.unlisted;
      assert.ok(unlisted, 'capture.unlisted is set');
      assert.equal(unlisted.maxMemory, 16 * 2 ** 20);
      assert.match(warnings[0]!, new RegExp(`packet ${unlisted.atPacket}: ${unlisted.packets} packets \\(${unlisted.bytes} bytes\\)`));
      assert.equal(unlisted.packets, FLOWS - outline.lengths.flows!, 'one packet a flow: the flows not listed');
      assert.ok(outline.lengths.flows! > 0 && outline.lengths.flows! < FLOWS, `${outline.lengths.flows} flows listed`);
      // The totals of the run that listed every flow (the it above, under its heap limit).
      const whole = outlineOf(await full, `${FLOWS} flows`).skeleton as unknown as Totals;
      assert.deepEqual(bounded.summary.bytesByPath, whole.summary.bytesByPath);
      assert.equal(bounded.capture.packets, whole.capture.packets);
      assert.equal(bounded.capture.bytes, whole.capture.bytes);
    });

    it('--max-memory takes whole MiB from 16 to 1048576; anything else: exit 2 naming the option', async () => {
      const good = ['16', '1048576'];
      const bad = ['abc', '0', '15', '1.5', '1048577'];
      const runs = await Promise.all([
        ...good.map((value) => analyze([small, '--json', '--max-memory', value], { json: true })),
        ...bad.map((value) => analyze([small, '--max-memory', value])),
      ]);
      for (const [i, value] of good.entries()) assert.equal(outlineOf(runs[i]!, `--max-memory ${value}`).lengths.flows, 1000);
      for (const [i, value] of bad.entries()) {
        const r = runs[good.length + i]!;
        assert.equal(r.code, 2, `--max-memory ${value}: exit ${r.code}; ${r.stderr}`);
        assert.match(r.stderr, /--max-memory/, `--max-memory ${value}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, STACK_FRAME);
      }
    });
  });

  it('--json of 300,000 distinct names, a document larger than the heap it is written from, streams out whole', async () => {
    // The issue's 1.4M names made a document past V8's longest string (2^29 - 24 characters);
    // they take 11 s. What failed is the same at 300k: the document held as one string. Here the
    // heap is smaller than the document (110 MiB), so no build can hold it whole and pass. The
    // analysis needs 46 MiB of heap for these names (at af23cb1): twice that.
    const NAMES = 300_000;
    const HEAP_MIB = 92;
    const capture = join(dir, 'names-300k.pcap');
    const queries = numberedDnsQueries('n', 'scale.example', 'AAAA');
    const writer = new PcapWriter(LINKTYPE.LINUX_SLL2, NAMES * 105);
    const client = addressBytes('10.0.0.2');
    const resolver = addressBytes('10.0.0.53');
    for (let i = 0; i < NAMES; i++) writer.add({ ts: T0 + i * 0.0001, src: client, dst: resolver, srcPort: 40_000, dstPort: 53, payload: queries.message(i) });
    writeFileSync(capture, writer.bytes());
    const outline = outlineOf(await analyze([capture, '--json'], { json: true, heapMiB: HEAP_MIB }), `${NAMES} names under --max-old-space-size=${HEAP_MIB}`);
    rmSync(capture);
    assert.equal(outline.lengths.dns, NAMES);
    assert.equal(outline.lengths.hostnames, NAMES);
    assert.ok(
      outline.bytes > HEAP_MIB * 2 ** 20,
      `the document is ${mib(outline.bytes)} MiB, no longer past the ${HEAP_MIB} MiB heap: the test lost its point`,
    );
  });

  describe('DNS over TCP and a TLS ClientHello sent one byte per segment', () => {
    const NAME = 'tiny.example';
    const client = addressBytes('2001:db8:1::2');
    const dnsQueries = Buffer.concat([dnsOverTcp(dnsQuery({ id: 7, name: NAME, qtype: 'AAAA' })), dnsOverTcp(dnsQuery({ id: 8, name: NAME, qtype: 'A' }))]);
    const dnsAnswers = Buffer.concat([
      dnsOverTcp(dnsResponse({ id: 7, name: NAME, qtype: 'AAAA', answers: ['2001:db8:5::443'] })),
      dnsOverTcp(dnsResponse({ id: 8, name: NAME, qtype: 'A', answers: ['192.0.2.44'] })),
    ]);
    const hello = tlsClientHello({ sni: NAME, alpn: ['h2'] });

    /** The conversation (two pipelined queries and their answers, RFC 7766; then TLS to the answer) analysed with `segmentSize` bytes per segment. */
    async function analysed(segmentSize: number | undefined, tls: Uint8Array): Promise<Analysis> {
      const writer = new PcapWriter(LINKTYPE.LINUX_SLL2);
      const dns = { client, server: addressBytes('2001:db8::53'), clientPort: 40_001, serverPort: 53 };
      tcpConversation(writer, { ts: T0, ...dns, request: dnsQueries, response: dnsAnswers, segmentSize });
      const https = { client, server: addressBytes('2001:db8:5::443'), clientPort: 40_002, serverPort: 443 };
      tcpConversation(writer, { ts: T0 + 1, ...https, request: tls, response: Buffer.alloc(300, 0x17), segmentSize });
      const capture = join(dir, `segments-${segmentSize ?? 'whole'}-${tls.length}.pcap`);
      writeFileSync(capture, writer.bytes());
      const r = await analyze([capture, '--json']);
      assertClean(r, `${segmentSize ?? 'whole'} segments`);
      return JSON.parse(r.stdout) as Analysis;
    }

    /**
     * What must not depend on segmentation. Left out: each flow's packets and bytes (more
     * segments), and a query's ts, which is when its last byte arrived.
     */
    function meaning(a: Analysis): { dns: unknown[]; flows: unknown[]; hostnames: unknown[]; summary: unknown } {
      return {
        dns: a.dns.map(({ ts: _ts, ...q }) => q),
        flows: a.flows.map(({ packets: _p, bytes: _b, ...f }) => f),
        hostnames: a.hostnames,
        summary: { flowsByPath: a.summary.flowsByPath },
      };
    }

    it('DNS over TCP one byte per segment: the same queries, answers and hostnames as in whole segments', async () => {
      const whole = await analysed(undefined, hello);
      const bytewise = await analysed(1, hello);
      assert.equal(bytewise.flows[0]!.packets, 7 + dnsQueries.length + dnsAnswers.length, 'each byte its own segment');
      assert.deepEqual(
        bytewise.dns.map((q) => [q.id, q.qtype, q.rcode, q.answers]),
        [
          [7, 'AAAA', 'NOERROR', ['2001:db8:5::443']],
          [8, 'A', 'NOERROR', ['192.0.2.44']],
        ],
      );
      assert.deepEqual(meaning(bytewise).dns, meaning(whole).dns);
    });

    it('a TLS ClientHello one byte per segment, its record header too: the same SNI and analysis as in whole segments', async () => {
      const whole = await analysed(undefined, hello);
      const bytewise = await analysed(1, hello);
      assert.equal(whole.flows[1]!.sni, NAME);
      assert.equal(bytewise.flows[1]!.sni, NAME);
      assert.deepEqual(meaning(bytewise), meaning(whole));
    });
  });
});

describe('the streaming JSON check the scale tests read --json with', () => {
  /** `text` fed in pieces of 1 to 3 bytes, so every state is cut across chunks somewhere. */
  function outline(text: string): JsonOutline {
    const check = new JsonStreamCheck();
    const bytes = Buffer.from(text);
    for (let at = 0, step = 1; at < bytes.length; at += step, step = (step % 3) + 1) check.write(bytes.subarray(at, at + step));
    return check.end();
  }

  it('keeps what JSON.parse reads, top-level arrays counted and left out', () => {
    const text = '{"capture":{"warnings":["a\\"b\\u00e9"],"firstTs":-1.5e+3},"flows":[{"id":0,"x":[1,[2]]},{"id":1}],"dns":[],"ok":true,"none":null,"n":0}';
    const o = outline(` ${text}\n`);
    assert.deepEqual(o.lengths, { flows: 2, dns: 0 });
    assert.deepEqual(o.skeleton, { ...JSON.parse(text), flows: [], dns: [] });
  });

  it('refuses what JSON.parse refuses', () => {
    const broken = ['{"a":01}', '{"a":[1,]}', '{"a":[,1]}', '{"a":1,}', '{"a" 1}', '{"a":tru}', '{"a":"\\x"}', '{"a":"\u0001"}', '{"a":[1}', '{"a":1}}'];
    for (const text of [
      ...broken,
      '{"a":1} x',
      '{"a":-}',
      '{"a":1.}',
      '{"a":1e}',
      '{"a":[1]',
      '{"a":"b',
      '{a:1}',
      '{"a":1}{"b":2}',
      '{"a":.5}',
      '{"a":[1 2]}',
    ]) {
      assert.throws(() => JSON.parse(text), SyntaxError, text);
      assert.throws(() => outline(text), /^Error: not JSON at byte \d+: /, text);
    }
  });
});

/** `count` one-packet flows, each from its own client address and port. */
function oneShotFlows(count: number): Buffer {
  const writer = new PcapWriter(LINKTYPE.ETHERNET, count * 70 + 24);
  const client4 = new Uint8Array(4);
  const client6 = addressBytes('2001:db8:1::');
  const server4 = addressBytes('198.51.100.7');
  const server6 = addressBytes('2001:db8:2::443');
  const v4 = new DataView(client4.buffer);
  const v6 = new DataView(client6.buffer);
  for (let i = 0; i < count; i++) {
    const ts = T0 + i * 0.0001;
    const srcPort = 10_000 + (i % 50_000);
    if (i % 4 === 3) {
      v6.setUint32(12, i);
      writer.add({ ts, src: client6, dst: server6, srcPort, dstPort: 443, tcp: { seq: i, ack: 0, flags: TCP_FLAG.SYN } });
    } else {
      v4.setUint32(0, (10 << 24) + i); // 10.0.0.0/8
      writer.add({ ts, src: client4, dst: server4, srcPort, dstPort: 5000, payload: UDP_PAYLOAD });
    }
  }
  return writer.bytes();
}
const UDP_PAYLOAD = Buffer.from('ping');

/** 16 address bytes as the analyzer prints them (RFC 5952: lower case, the longest zero run as ::). */
function formatIpv6(bytes: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  let best = { at: -1, length: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.length) best = { at: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.length).join(':')}`;
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

interface AnalyzeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** The analyzer's peak resident set, from its own getrusage at exit; null if it did not exit normally. */
  peakRssBytes: number | null;
  /** stdout, unless it was checked as JSON. */
  stdout: string;
  outline: JsonOutline | null;
  jsonError: string | null;
}

/** The parts of the analysis these tests read (CONTRACTS.md section 2). */
interface Totals {
  capture: { packets: number; bytes: number; warnings: string[]; unlisted?: { maxMemory: number; atPacket: number; packets: number; bytes: number } | null };
  summary: { bytesByPath: Record<string, number> };
}
interface Analysis {
  dns: { ts: number; id: number; qtype: string; rcode: string | null; answers: string[] }[];
  flows: { packets: number; bytes: number; sni: string | null }[];
  hostnames: unknown[];
  summary: { flowsByPath: Record<string, number> };
}
// ---------------------------------------------------------------------------------------------
// A streaming JSON check: the --json documents here are past what one string holds (V8's limit
// is 2^29 - 24 characters), so neither the analyzer nor this test may JSON.parse them whole.
// The check validates the whole grammar (RFC 8259) byte by byte as the output arrives, counts
// the elements of each top-level array, and keeps the rest of the document (capture, summary)
// as a small skeleton that JSON.parse reads, its top-level arrays emptied.
// ---------------------------------------------------------------------------------------------

/** What the check keeps of a valid document. */
interface JsonOutline {
  /** The document with every top-level array's elements left out. */
  skeleton: Record<string, unknown>;
  /** How many elements each top-level array held, by key. */
  lengths: Record<string, number>;
  /** Bytes read. */
  bytes: number;
}

// Parser states.
const VALUE = 0; // a value is due (after ':' or ',' in an array, or at the start)
const VALUE_OR_CLOSE = 1; // just after '[': a value or ']'
const KEY = 2; // a key string is due (after ',' in an object)
const KEY_OR_CLOSE = 3; // just after '{': a key or '}'
const COLON = 4;
const AFTER = 5; // a value ended: ',' or a close, or the end at depth 0
const STRING = 6;
const ESCAPE = 7;
const UNICODE = 8; // in \uXXXX; `hexLeft` digits to go
const LITERAL = 9; // in true/false/null; `literal` and `literalAt`
const N_MINUS = 10;
const N_ZERO = 11;
const N_INT = 12;
const N_DOT = 13;
const N_FRAC = 14;
const N_E = 15;
const N_ESIGN = 16;
const N_EXP = 17;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const ESCAPABLE = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);
const LITERALS = { t: Buffer.from('true'), f: Buffer.from('false'), n: Buffer.from('null') };

class JsonStreamCheck {
  private state = VALUE;
  /** Open containers: 0x7b '{' or 0x5b '['. */
  private readonly stack: number[] = [];
  private stringIsKey = false;
  private hexLeft = 0;
  private literal: Buffer = LITERALS.t;
  private literalAt = 0;
  private offset = 0;
  private ended = false;
  /** Inside a top-level array: its elements are counted, not kept. */
  private skipping = false;
  private readonly lengths: number[] = [];
  private readonly kept: Buffer[] = [];

  /** Reads the next piece of the document; throws at the first byte that breaks the grammar, naming its offset. */
  write(chunk: Uint8Array): void {
    const b = chunk;
    const n = b.length;
    let keptFrom = 0;
    let i = 0;
    while (i < n) {
      const c = b[i]!;
      switch (this.state) {
        case STRING: {
          // The hot loop: most of a document is inside strings.
          let j = i;
          while (j < n) {
            const s = b[j]!;
            if (s === 0x22 || s === 0x5c || s < 0x20) break;
            j++;
          }
          if (j === n) {
            i = n;
            continue;
          }
          const s = b[j]!;
          if (s < 0x20) this.fail(j, 'a control character inside a string');
          i = j + 1;
          if (s === 0x5c) this.state = ESCAPE;
          else this.state = this.stringIsKey ? COLON : AFTER;
          continue;
        }
        case ESCAPE:
          if (c === 0x75) {
            this.state = UNICODE;
            this.hexLeft = 4;
          } else if (ESCAPABLE.has(c)) this.state = STRING;
          else this.fail(i, 'an unknown escape');
          i++;
          continue;
        case UNICODE:
          if (!isHex(c)) this.fail(i, 'a \\u escape without 4 hex digits');
          if (--this.hexLeft === 0) this.state = STRING;
          i++;
          continue;
        case LITERAL:
          if (c !== this.literal[this.literalAt]) this.fail(i, 'a misspelt true, false or null');
          if (++this.literalAt === this.literal.length) this.state = AFTER;
          i++;
          continue;
        case N_MINUS:
          if (c === 0x30) this.state = N_ZERO;
          else if (isDigit(c)) this.state = N_INT;
          else this.fail(i, 'a minus sign without digits');
          i++;
          continue;
        case N_ZERO:
        case N_INT:
          if (this.state === N_INT && isDigit(c)) i++;
          else if (c === 0x2e) {
            this.state = N_DOT;
            i++;
          } else if (c === 0x65 || c === 0x45) {
            this.state = N_E;
            i++;
          } else if (isDigit(c)) this.fail(i, 'a number with a leading zero');
          else this.state = AFTER; // the byte is read again as what follows the number
          continue;
        case N_DOT:
          if (!isDigit(c)) this.fail(i, 'a decimal point without digits after it');
          this.state = N_FRAC;
          i++;
          continue;
        case N_FRAC:
          if (isDigit(c)) i++;
          else if (c === 0x65 || c === 0x45) {
            this.state = N_E;
            i++;
          } else this.state = AFTER;
          continue;
        case N_E:
          if (c === 0x2b || c === 0x2d) this.state = N_ESIGN;
          else if (isDigit(c)) this.state = N_EXP;
          else this.fail(i, 'an exponent without digits');
          i++;
          continue;
        case N_ESIGN:
          if (!isDigit(c)) this.fail(i, 'an exponent without digits');
          this.state = N_EXP;
          i++;
          continue;
        case N_EXP:
          if (isDigit(c)) i++;
          else this.state = AFTER;
          continue;
      }
      // Structural states: whitespace is allowed between all tokens.
      if (isSpace(c)) {
        i++;
        continue;
      }
      if (this.ended) this.fail(i, 'more after the document ended');
      switch (this.state) {
        case KEY_OR_CLOSE:
        case KEY:
          if (c === 0x22) {
            this.state = STRING;
            this.stringIsKey = true;
          } else if (c === 0x7d && this.state === KEY_OR_CLOSE) keptFrom = this.close(b, i, keptFrom);
          else this.fail(i, 'a key was due');
          break;
        case COLON:
          if (c !== 0x3a) this.fail(i, "a ':' was due after the key");
          this.state = VALUE;
          break;
        case AFTER:
          if (this.stack.length === 0) this.fail(i, 'more after the document ended');
          if (c === 0x2c) this.state = this.stack[this.stack.length - 1] === 0x7b ? KEY : VALUE;
          else if (c === 0x7d || c === 0x5d) keptFrom = this.close(b, i, keptFrom);
          else this.fail(i, "a ',' or a close was due");
          break;
        case VALUE_OR_CLOSE:
        case VALUE:
          if (c === 0x5d && this.state === VALUE_OR_CLOSE) {
            keptFrom = this.close(b, i, keptFrom);
            break;
          }
          if (this.skipping && this.stack.length === 2) this.lengths[this.lengths.length - 1]!++;
          if (c === 0x22) {
            this.state = STRING;
            this.stringIsKey = false;
          } else if (c === 0x7b || c === 0x5b) {
            this.stack.push(c);
            this.state = c === 0x7b ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
            // An array that is a top-level member's value: keep its '[', count what it holds.
            if (c === 0x5b && this.stack.length === 2 && this.stack[0] === 0x7b) {
              this.kept.push(Buffer.from(b.subarray(keptFrom, i + 1)));
              this.skipping = true;
              this.lengths.push(0);
            }
          } else if (c === 0x2d) this.state = N_MINUS;
          else if (c === 0x30) this.state = N_ZERO;
          else if (isDigit(c)) this.state = N_INT;
          else if (c === 0x74 || c === 0x66 || c === 0x6e) {
            this.literal = c === 0x74 ? LITERALS.t : c === 0x66 ? LITERALS.f : LITERALS.n;
            this.literalAt = 1;
            this.state = LITERAL;
          } else this.fail(i, 'a value was due');
          break;
      }
      i++;
    }
    if (!this.skipping) this.kept.push(Buffer.from(b.subarray(keptFrom, n)));
    this.offset += n;
  }

  /** The document is whole: its outline; throws if it stopped short. */
  end(): JsonOutline {
    // A number at the very end has no byte after it to end it.
    if (this.state >= N_ZERO && this.state !== N_DOT && this.state !== N_E && this.state !== N_ESIGN && this.stack.length === 0) this.state = AFTER;
    if (this.state !== AFTER || this.stack.length > 0) this.fail(0, `the document stops short (${this.stack.length} open)`, this.offset);
    const skeleton: unknown = JSON.parse(Buffer.concat(this.kept).toString('utf8'));
    if (skeleton === null || typeof skeleton !== 'object' || Array.isArray(skeleton)) throw new Error('the document is not one JSON object');
    const arrays = Object.entries(skeleton).filter(([, v]) => Array.isArray(v));
    const lengths = Object.fromEntries(arrays.map(([k], index) => [k, this.lengths[index] ?? Number.NaN]));
    return { skeleton: skeleton as Record<string, unknown>, lengths, bytes: this.offset };
  }

  /** A '}' or ']' at `i`: it must match what is open; returns where kept bytes start again. */
  private close(b: Uint8Array, i: number, keptFrom: number): number {
    const open = this.stack.pop();
    if (open === undefined || (b[i] === 0x7d) !== (open === 0x7b)) this.fail(i, 'a close that does not match what is open');
    this.state = AFTER;
    if (this.stack.length === 0) this.ended = true;
    if (this.skipping && this.stack.length === 1) {
      this.skipping = false;
      return i;
    }
    return keptFrom;
  }

  private fail(i: number, what: string, at = this.offset + i): never {
    throw new Error(`not JSON at byte ${at}: ${what}`);
  }
}
