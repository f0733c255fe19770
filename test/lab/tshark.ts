// What tshark says about a capture, as the reference the analyzer is cross-checked against
// (issue 2): its TCP/UDP conversation tables, its DNS queries and its TLS SNI values.
// The parsers are pure and take tshark's text; readTsharkView runs tshark (argv arrays only).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import createDebug from 'debug';
import ipaddr from 'ipaddr.js';

const log = createDebug('v6lab:lab:tshark');

/** One row of `tshark -z conv,tcp` / `-z conv,udp`. Endpoint order is tshark's, not client first. */
export interface TsharkConversation {
  transport: 'tcp' | 'udp';
  /** Normalized: IPv6 in RFC 5952 form, no brackets. */
  a: string;
  aPort: number;
  b: string;
  bPort: number;
  /** Every frame of the file in this conversation, a packet seen on two interfaces twice. */
  frames: number;
  /**
   * Sum of the frames' wire lengths (`frame.len`, the pcap orig_len, link-layer header included).
   * Exact when `bytesPrecision` is 1; otherwise tshark printed kB or larger and truncated, and the
   * exact value is in `[bytes, bytes + bytesPrecision)`.
   */
  bytes: number;
  bytesPrecision: number;
}

/** One question of a DNS query packet. */
export interface TsharkDnsQuery {
  name: string;
  /** Mnemonic (RFC 1035 / IANA registry), `TYPE<n>` (RFC 3597) for one not in the table. */
  qtype: string;
}

export interface TsharkView {
  conversations: TsharkConversation[];
  /** One entry per question of every DNS query packet, in capture order. */
  dnsQueries: TsharkDnsQuery[];
  /** The server_name of every ClientHello that has one, in capture order. */
  sni: string[];
}

export class TsharkOutputError extends Error {
  constructor(
    readonly what: string,
    readonly reason: string,
  ) {
    super(`tshark ${what}: ${reason}`);
    this.name = 'TsharkOutputError';
  }
}

/** DNS RR types by IANA value (RFC 1035, 3596, 4034, 6891, 8659, 9460). */
const DNS_TYPES = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  35: 'NAPTR',
  41: 'OPT',
  43: 'DS',
  46: 'RRSIG',
  47: 'NSEC',
  48: 'DNSKEY',
  64: 'SVCB',
  65: 'HTTPS',
  255: 'ANY',
  257: 'CAA',
} as const satisfies Record<number, string>;

export function dnsTypeName(value: number): string {
  return (DNS_TYPES as Record<number, string>)[value] ?? `TYPE${value}`;
}

/** tshark's size units (wsutil format_size, SI prefixes). */
const SIZE_UNITS: Record<string, number> = { bytes: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

interface Size {
  value: number;
  precision: number;
}

// "528 bytes" is exact; from 10000 on tshark 4.0 prints "12 kB", truncated (12630 -> "12 kB").
function parseSize(number: string, unit: string): Size | null {
  const scale = SIZE_UNITS[unit];
  const value = Number(number.replace(/,/g, ''));
  if (scale === undefined || !Number.isFinite(value)) return null;
  return { value: value * scale, precision: scale };
}

/** "100.64.0.2:40934", "2001:db8:64::2:49278", "[2001:db8::1]:53" -> address and port. */
function parseEndpoint(text: string): { address: string; port: number } | null {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return null;
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !ipaddr.isValid(host)) return null;
  return { address: normalizeAddress(host), port };
}

/** RFC 5952 text for IPv6, dotted quad for IPv4: the one spelling both sides are compared in. */
export function normalizeAddress(address: string): string {
  return ipaddr.parse(address).toString();
}

/**
 * Parses the tables of `tshark -n -q -z conv,tcp -z conv,udp` (tshark 4.0.17). The header names
 * the three frame/byte column pairs; each data row is `A <-> B` followed by them, then the
 * relative start and the duration:
 *
 *                                                            |       <-      | |       ->      | |     Total     |    Relative    |   Duration   |
 *                                                            | Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |
 * 2001:db8:64::4:57520       <-> 64:ff9b::6440:101:7              4 528 bytes       4 528 bytes       8 1056 bytes     1.887364000         0.0006
 * 2001:db8:64::2:42632       <-> 2001:db8:64::6:443              35 7890 bytes      35 4740 bytes      70 12 kB         1.512373000         0.0048
 */
export function parseConversations(text: string): TsharkConversation[] {
  const conversations: TsharkConversation[] = [];
  let transport: 'tcp' | 'udp' | null = null;
  let headerSeen = false;
  let tables = 0;
  for (const line of text.split(/\r?\n/)) {
    const title = /^(TCP|UDP) Conversations\s*$/.exec(line.trim());
    if (title) {
      transport = title[1] === 'TCP' ? 'tcp' : 'udp';
      headerSeen = false;
      tables += 1;
      continue;
    }
    if (transport === null) continue;
    if (/^=+\s*$/.test(line)) {
      transport = null;
      continue;
    }
    // The column header: the direction pairs, then Total. Rows are read in this order.
    if (/\|\s*<-\s*\|\s*\|\s*->\s*\|\s*\|\s*Total\s*\|/.test(line)) {
      headerSeen = true;
      continue;
    }
    if (!line.includes('<->')) continue;
    if (!headerSeen) throw new TsharkOutputError('conv', `a ${transport} row before the column header: ${line.trim()}`);
    const row = parseConversationRow(transport, line);
    if (row) conversations.push(row);
    else log('skipping malformed conversation row: %s', line);
  }
  if (tables === 0) throw new TsharkOutputError('conv', 'no "TCP Conversations" or "UDP Conversations" table in the output');
  return conversations;
}

function parseConversationRow(transport: 'tcp' | 'udp', line: string): TsharkConversation | null {
  const [left, right] = line.split('<->');
  if (left === undefined || right === undefined) return null;
  const a = parseEndpoint(left.trim());
  const tokens = right.trim().split(/\s+/);
  const b = parseEndpoint(tokens[0] ?? '');
  // B, then three (frames, size, unit) groups (<-, ->, Total), then start and duration.
  if (!a || !b || tokens.length < 10) return null;
  const groups: { frames: number; size: Size }[] = [];
  for (let i = 1; i + 2 < tokens.length && groups.length < 3; i += 3) {
    const frames = Number((tokens[i] ?? '').replace(/,/g, ''));
    const size = parseSize(tokens[i + 1] ?? '', tokens[i + 2] ?? '');
    if (!Number.isInteger(frames) || size === null) return null;
    groups.push({ frames, size });
  }
  const [toA, toB, total] = groups;
  if (!toA || !toB || !total) return null;
  // The two directions are often still exact when the total is not (both < 10000 bytes).
  const bytes =
    total.size.precision > 1 && toA.size.precision === 1 && toB.size.precision === 1 ? { value: toA.size.value + toB.size.value, precision: 1 } : total.size;
  return {
    transport,
    a: a.address,
    aPort: a.port,
    b: b.address,
    bPort: b.port,
    frames: total.frames,
    bytes: bytes.value,
    bytesPrecision: bytes.precision,
  };
}

/**
 * Parses `-T fields -e dns.qry.name -e dns.qry.type` (tab between fields, `,` between the
 * questions of one packet; qtype is the number):
 *
 * v4only.cross.test	28
 */
export function parseDnsQueries(text: string): TsharkDnsQuery[] {
  const queries: TsharkDnsQuery[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const [names, types] = line.split('\t');
    if (names === undefined || types === undefined) {
      log('skipping malformed DNS query line: %s', line);
      continue;
    }
    const nameList = names.split(',');
    const typeList = types.split(',').map(Number);
    if (nameList.length !== typeList.length || typeList.some((t) => !Number.isInteger(t))) {
      log('skipping malformed DNS query line: %s', line);
      continue;
    }
    nameList.forEach((name, i) => {
      queries.push({ name, qtype: dnsTypeName(typeList[i] ?? -1) });
    });
  }
  return queries;
}

/**
 * Parses `-T fields -e tls.handshake.extensions_server_name`, one line per ClientHello, empty when
 * it has no server_name extension (those are left out):
 *
 * v6only.cross.test
 */
export function parseSni(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

const TSHARK_TIMEOUT_MS = 60_000;

function tshark(args: readonly string[]): Promise<string> {
  const argv = ['tshark', ...args];
  log('run %o', argv);
  return new Promise((resolve, reject) => {
    const child = execFile('tshark', args, { timeout: TSHARK_TIMEOUT_MS, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      // tshark prints "Running as user "root" ..." on stderr: only the exit status means failure.
      if (error) reject(new Error(`${argv.join(' ')} failed: ${(stderr || error.message).trim()}`, { cause: error }));
      else resolve(stdout);
    });
    child.stdin?.end();
  });
}

// -n: no name resolution; otherwise ports print as service names ("https") and addresses may too.
// DNS inside an ICMP error is a quoted copy, not a query; mDNS and LLMNR share the dns.* fields.
const DNS_QUERY_FILTER = 'dns.flags.response == 0 && !icmp && !icmpv6 && !mdns && !llmnr';
const CLIENT_HELLO_FILTER = 'tls.handshake.type == 1';

/**
 * Runs tshark on `file`. With `exclude` (a display filter), the frames it matches are first
 * removed into a temporary copy and that copy is read, so tshark's stateful dissectors (TCP
 * reassembly, which skips a segment it takes for a retransmission) never see them.
 */
export async function readTsharkView(file: string, options: { exclude?: string } = {}): Promise<TsharkView> {
  if (options.exclude === undefined) return readTsharkViewOf(file);
  const dir = await mkdtemp(path.join(tmpdir(), 'v6lab-tshark-'));
  try {
    const filtered = path.join(dir, 'filtered.pcapng');
    await tshark(['-n', '-r', file, '-Y', `!(${options.exclude})`, '-F', 'pcapng', '-w', filtered]);
    return await readTsharkViewOf(filtered);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function readTsharkViewOf(file: string): Promise<TsharkView> {
  const [conv, dns, sni] = await Promise.all([
    tshark(['-n', '-r', file, '-q', '-z', 'conv,tcp', '-z', 'conv,udp']),
    tshark([
      '-n',
      '-r',
      file,
      '-Y',
      DNS_QUERY_FILTER,
      '-T',
      'fields',
      '-E',
      'separator=/t',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=,',
      '-e',
      'dns.qry.name',
      '-e',
      'dns.qry.type',
    ]),
    tshark(['-n', '-r', file, '-Y', CLIENT_HELLO_FILTER, '-T', 'fields', '-e', 'tls.handshake.extensions_server_name']),
  ]);
  return { conversations: parseConversations(conv), dnsQueries: parseDnsQueries(dns), sni: parseSni(sni) };
}

/** "4.0.17", from the first line of `tshark --version`. */
export async function tsharkVersion(): Promise<string> {
  const text = await tshark(['--version']);
  return /TShark \(Wireshark\) (\S+)/.exec(text)?.[1] ?? text.split('\n')[0] ?? '';
}
