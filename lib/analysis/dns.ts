/**
 * DNS messages through dns-packet (payloads only), reduced to what the analysis needs.
 */
import { createRequire } from 'node:module';
import type DnsPacketModule from 'dns-packet';
import { parseAddress } from '../net/address.js';

// Required on the first DNS message: a capture without DNS, and `v6lab --help`, never load it.
const require = createRequire(import.meta.url);
let dnsPacketModule: typeof DnsPacketModule | undefined;

/** A DNS message as a plain object (what the tests compare; the analyzer reads a DnsView). */
export interface DnsMessage {
  id: number;
  response: boolean;
  /** The first question; DNS in practice carries exactly one. */
  name: string;
  qtype: string;
  rcode: string | null;
  /** The A and AAAA data in answer order (CNAMEs are followed implicitly: their targets' records), 16 bytes each, an IPv4 address in the first 4. */
  addressBytes: Uint8Array;
  addressFamilies: (4 | 6)[];
}

/**
 * One decoded message, reused from message to message (nothing allocated per message on the fast
 * path). The question's name is lowercased: as bytes (`nameText` null) or, from dns-packet, as text.
 */
export class DnsView {
  id = 0;
  response = false;
  qtype = '';
  rcode: string | null = null;
  nameText: string | null = null;
  readonly nameBytes = new Uint8Array(256);
  nameLength = 0;
  addressCount = 0;
  addressBytes = new Uint8Array(16 * 16);
  addressFamilies = new Uint8Array(16);

  /** Room for `n` answers. */
  room(n: number): void {
    if (n <= this.addressFamilies.length) return;
    let length = this.addressFamilies.length;
    while (length < n) length *= 2;
    this.addressBytes = new Uint8Array(16 * length);
    this.addressFamilies = new Uint8Array(length);
  }

  /** The question's name as text. */
  name(): string {
    return this.nameText ?? Buffer.from(this.nameBytes.buffer, this.nameBytes.byteOffset, this.nameLength).toString('latin1');
  }
}

/** How dns-packet (ip-codec) spells an answer's address: what `DnsQuery.answers` has always held. */
export function spellAnswer(bytes: Uint8Array, at: number, family: 4 | 6): string {
  return family === 4 ? `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}` : ipCodecV6(bytes, at);
}

/** Decodes one DNS message into `view`; returns a fixed reason string when it is not one, else null. */
export function decodeDns(payload: Uint8Array, view: DnsView): string | null {
  return fastDecode(payload, view) ? null : packetDecode(payload, view);
}

/** The view as a plain object. */
export function dnsMessageOf(view: DnsView): DnsMessage {
  return {
    id: view.id,
    response: view.response,
    name: view.name(),
    qtype: view.qtype,
    rcode: view.rcode,
    addressBytes: view.addressBytes.slice(0, 16 * view.addressCount),
    addressFamilies: Array.from(view.addressFamilies.subarray(0, view.addressCount), (f) => (f === 6 ? 6 : 4)),
  };
}

/** The whole message through dns-packet: every shape the fast path does not take. */
export function packetDecode(payload: Uint8Array, view: DnsView): string | null {
  let decoded: DnsPacketModule.Packet;
  try {
    dnsPacketModule ??= require('dns-packet') as typeof DnsPacketModule;
    decoded = dnsPacketModule.decode(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
  } catch {
    return 'DNS payload could not be decoded';
  }
  const question = decoded.questions?.[0];
  if (question === undefined) return 'DNS message without a question';
  const response = decoded.type === 'response';
  const addresses: string[] = [];
  for (const answer of decoded.answers ?? []) {
    if ((answer.type === 'A' || answer.type === 'AAAA') && typeof answer.data === 'string') addresses.push(answer.data);
  }
  view.room(addresses.length);
  view.addressCount = addresses.length;
  addresses.forEach((text, i) => {
    const parsed = parseAddress(text);
    view.addressBytes.set(parsed.bytes, 16 * i);
    view.addressFamilies[i] = parsed.family;
  });
  view.id = decoded.id ?? 0;
  view.response = response;
  view.nameText = question.name.toLowerCase();
  view.nameLength = 0;
  view.qtype = String(question.type);
  // @types/dns-packet omits the decoded rcode; dns-packet 5.6 sets it on every message.
  view.rcode = response ? ((decoded as { rcode?: string }).rcode ?? 'NOERROR') : null;
  return null;
}

// --- The fast path. dns-packet builds every record of every section as objects (about 3 us a
// message, measured: as much as all other work on a capture of many short connections, issue 19).
// This reads the usual message in place and gives the very result dns-packet would: it takes only
// shapes whose decoding it mirrors exactly (dns-packet 5.6.1: its name rules, the records its
// decoders read by their own length) and hands anything else to dns-packet.

const TYPE_A = 1;
const TYPE_CNAME = 5;
const TYPE_SOA = 6;
const TYPE_AAAA = 28;
const TYPE_OPT = 41;
/** Types dns-packet decodes with a decoder of their own (its `renc`): all but the ones above go to it. */
const OWN_DECODER = new Set([12, 39, 16, 10, 33, 13, 257, 2, 15, 48, 46, 17, 47, 50, 43, 44, 35, 52]);
/** EDNS options dns-packet reads fields of (client subnet, keepalive, key tag). */
const OPTION_DECODED = new Set([8, 11, 14]);

/** dns-packet's names of the types (its types.js), for the question's type. */
const TYPE_NAMES: Record<number, string> = {
  1: 'A',
  10: 'NULL',
  28: 'AAAA',
  18: 'AFSDB',
  42: 'APL',
  257: 'CAA',
  60: 'CDNSKEY',
  59: 'CDS',
  37: 'CERT',
  5: 'CNAME',
  49: 'DHCID',
  32769: 'DLV',
  39: 'DNAME',
  48: 'DNSKEY',
  43: 'DS',
  55: 'HIP',
  13: 'HINFO',
  45: 'IPSECKEY',
  25: 'KEY',
  36: 'KX',
  29: 'LOC',
  15: 'MX',
  35: 'NAPTR',
  2: 'NS',
  47: 'NSEC',
  50: 'NSEC3',
  51: 'NSEC3PARAM',
  12: 'PTR',
  46: 'RRSIG',
  17: 'RP',
  24: 'SIG',
  6: 'SOA',
  99: 'SPF',
  33: 'SRV',
  44: 'SSHFP',
  32768: 'TA',
  249: 'TKEY',
  52: 'TLSA',
  250: 'TSIG',
  16: 'TXT',
  252: 'AXFR',
  251: 'IXFR',
  41: 'OPT',
  255: 'ANY',
};
const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

/** Where the last name read ended (bytes it took in place), -1: a shape left to dns-packet. */
let nameEnd = -1;

/**
 * Reads a name at `at` by dns-packet's rules (pointers only backwards, 254 bytes at most). With
 * `into`, its labels are written there lowercased and joined by dots (dns-packet's text, then
 * toLowerCase), and nameEnd is -1 for a byte outside ASCII (dns-packet decodes UTF-8: its path).
 */
function readName(b: Uint8Array, at: number, into: DnsView | null): void {
  let offset = at;
  let oldOffset = at;
  let total = 0;
  let consumed = 0;
  let jumped = false;
  let written = 0;
  const out = into === null ? null : into.nameBytes;
  for (;;) {
    if (offset >= b.length) {
      nameEnd = -1;
      return;
    }
    const len = b[offset++]!;
    if (!jumped) consumed++;
    if (len === 0) break;
    if ((len & 0xc0) === 0) {
      if (offset + len > b.length) {
        nameEnd = -1;
        return;
      }
      total += len + 1;
      if (total > 254) {
        nameEnd = -1;
        return;
      }
      if (out !== null) {
        if (written > 0) out[written++] = 0x2e;
        for (let i = offset; i < offset + len; i++) {
          const c = b[i]!;
          if (c >= 0x80) {
            nameEnd = -1;
            return;
          }
          out[written++] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
        }
      }
      offset += len;
      if (!jumped) consumed += len;
    } else if ((len & 0xc0) === 0xc0) {
      if (offset + 1 > b.length) {
        nameEnd = -1;
        return;
      }
      const jump = ((len << 8) | b[offset]!) - 0xc000;
      if (jump >= oldOffset) {
        nameEnd = -1;
        return;
      }
      offset = jump;
      oldOffset = jump;
      if (!jumped) consumed++;
      jumped = true;
    } else {
      nameEnd = -1;
      return;
    }
  }
  nameEnd = at + consumed;
  if (into !== null) {
    if (written === 0) into.nameBytes[written++] = 0x2e; // the root: "."
    into.nameLength = written;
    into.nameText = null;
  }
}

/** ip-codec's spelling of an IPv6 address, the one dns-packet gives (the first zero run, not RFC 5952's longest, is "::"). */
function ipCodecV6(b: Uint8Array, at: number): string {
  let result = '';
  for (let i = 0; i < 16; i += 2) {
    if (i !== 0) result += ':';
    result += ((b[at + i]! << 8) | b[at + i + 1]!).toString(16);
  }
  return result.replace(/(^|:)0(:0)*:0(:|$)/, '$1::$3').replace(/:{3,4}/, '::');
}

const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;

/** Decodes the usual message into `view`; false: a shape left to dns-packet (the view is then undefined). */
export function fastDecode(b: Uint8Array, view: DnsView): boolean {
  if (b.length < 12) return false;
  const flags = u16(b, 2);
  const questions = u16(b, 4);
  const answers = u16(b, 6);
  const records = answers + u16(b, 8) + u16(b, 10);
  if (questions === 0) return false;
  let at = 12;
  let qtype = 0;
  for (let q = 0; q < questions; q++) {
    readName(b, at, q === 0 ? view : null);
    if (nameEnd < 0 || nameEnd + 4 > b.length) return false;
    if (q === 0) qtype = u16(b, nameEnd);
    at = nameEnd + 4;
  }
  view.addressCount = 0;
  for (let r = 0; r < records; r++) {
    readName(b, at, null);
    if (nameEnd < 0 || nameEnd + 10 > b.length) return false;
    const type = u16(b, nameEnd);
    const rdlength = u16(b, nameEnd + 8);
    const rdata = nameEnd + 10;
    const end = rdata + rdlength;
    if (end > b.length) return false;
    if (type === TYPE_A || type === TYPE_AAAA) {
      if (rdlength !== (type === TYPE_A ? 4 : 16)) return false;
      if (r < answers) {
        const n = view.addressCount++;
        view.room(n + 1);
        const to = view.addressBytes;
        for (let i = rdata; i < end; i++) to[16 * n + i - rdata] = b[i]!;
        view.addressFamilies[n] = type === TYPE_A ? 4 : 6;
      }
    } else if (type === TYPE_CNAME) {
      readName(b, rdata, null);
      if (nameEnd !== end) return false;
    } else if (type === TYPE_SOA) {
      readName(b, rdata, null);
      if (nameEnd < 0) return false;
      readName(b, nameEnd, null);
      if (nameEnd < 0 || nameEnd + 20 !== end) return false;
    } else if (type === TYPE_OPT) {
      // Options fill the data exactly, none of the ones dns-packet reads fields of.
      let o = rdata;
      while (o < end) {
        if (o + 4 > end || OPTION_DECODED.has(u16(b, o))) return false;
        o += 4 + u16(b, o + 2);
      }
      if (o !== end) return false;
    } else if (OWN_DECODER.has(type)) return false;
    at = end;
  }
  const response = (flags & 0x8000) !== 0;
  view.id = u16(b, 0);
  view.response = response;
  view.qtype = TYPE_NAMES[qtype] ?? `UNKNOWN_${qtype}`;
  view.rcode = response ? (RCODE_NAMES[flags & 0xf] ?? `RCODE_${flags & 0xf}`) : null;
  return true;
}
