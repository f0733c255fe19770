/**
 * DNS messages through dns-packet (payloads only), reduced to what the analysis needs.
 */
import { createRequire } from 'node:module';
import type DnsPacketModule from 'dns-packet';
import { parseAddress } from '../net/address.js';

// Required on the first DNS message: a capture without DNS, and `v6lab --help`, never load it.
const require = createRequire(import.meta.url);
let dnsPacketModule: typeof DnsPacketModule | undefined;

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

/** How dns-packet (ip-codec) spells an answer's address: what `DnsQuery.answers` has always held. */
export function spellAnswer(bytes: Uint8Array, at: number, family: 4 | 6): string {
  return family === 4 ? `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}` : ipCodecV6(bytes, at);
}

/** Decodes one DNS message; returns a fixed reason string when it is not one. */
export function decodeDns(payload: Uint8Array): DnsMessage | string {
  return fastDecode(payload) ?? packetDecode(payload);
}

/** The whole message through dns-packet: every shape the fast path does not take. */
export function packetDecode(payload: Uint8Array): DnsMessage | string {
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
  const addressBytes = new Uint8Array(16 * addresses.length);
  const addressFamilies: (4 | 6)[] = [];
  addresses.forEach((text, i) => {
    const parsed = parseAddress(text);
    addressBytes.set(parsed.bytes, 16 * i);
    addressFamilies.push(parsed.family);
  });
  return {
    id: decoded.id ?? 0,
    response,
    name: question.name.toLowerCase(),
    qtype: String(question.type),
    // @types/dns-packet omits the decoded rcode; dns-packet 5.6 sets it on every message.
    rcode: response ? ((decoded as { rcode?: string }).rcode ?? 'NOERROR') : null,
    addressBytes,
    addressFamilies,
  };
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
/** The last name's text when asked for and all ASCII (else null: dns-packet decodes UTF-8). */
let nameText: string | null = null;

/** Reads a name at `at` by dns-packet's rules (pointers only backwards, 254 bytes at most). */
function readName(b: Buffer & { latin1Slice(start: number, end: number): string }, at: number, text: boolean): void {
  let offset = at;
  let oldOffset = at;
  let total = 0;
  let consumed = 0;
  let jumped = false;
  let out = text ? '' : null;
  let list = 0;
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
        for (let i = offset; i < offset + len; i++) {
          if (b[i]! >= 0x80) {
            out = null;
            break;
          }
        }
        // ASCII: latin1 reads it as dns-packet's UTF-8 does, one string per label, not per byte.
        if (out !== null) out = out.length === 0 && list === 0 ? b.latin1Slice(offset, offset + len) : `${out}.${b.latin1Slice(offset, offset + len)}`;
        list++;
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
  nameText = text && out !== null ? (out === '' ? '.' : out) : null;
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

export function fastDecode(payload: Uint8Array): DnsMessage | null {
  // latin1Slice: Node's own, what toString('latin1') calls after checking its arguments.
  const b = (Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)) as Buffer & {
    latin1Slice(start: number, end: number): string;
  };
  if (b.length < 12) return null;
  const flags = u16(b, 2);
  const questions = u16(b, 4);
  const answers = u16(b, 6);
  const records = answers + u16(b, 8) + u16(b, 10);
  if (questions === 0) return null;
  let at = 12;
  let name: string | null = null;
  let qtype = 0;
  for (let q = 0; q < questions; q++) {
    readName(b, at, q === 0);
    if (nameEnd < 0 || nameEnd + 4 > b.length) return null;
    if (q === 0) {
      if (nameText === null) return null;
      name = nameText;
      qtype = u16(b, nameEnd);
    }
    at = nameEnd + 4;
  }
  const answersAt = at;
  // Answers are few: a second pass copies them once they are all known to be good.
  let count = 0;
  for (let r = 0; r < records; r++) {
    readName(b, at, false);
    if (nameEnd < 0 || nameEnd + 10 > b.length) return null;
    const type = u16(b, nameEnd);
    const rdlength = u16(b, nameEnd + 8);
    const rdata = nameEnd + 10;
    const end = rdata + rdlength;
    if (end > b.length) return null;
    if (type === TYPE_A) {
      if (rdlength !== 4) return null;
      if (r < answers) count++;
    } else if (type === TYPE_AAAA) {
      if (rdlength !== 16) return null;
      if (r < answers) count++;
    } else if (type === TYPE_CNAME) {
      readName(b, rdata, false);
      if (nameEnd !== end) return null;
    } else if (type === TYPE_SOA) {
      readName(b, rdata, false);
      if (nameEnd < 0) return null;
      readName(b, nameEnd, false);
      if (nameEnd < 0 || nameEnd + 20 !== end) return null;
    } else if (type === TYPE_OPT) {
      // Options fill the data exactly, none of the ones dns-packet reads fields of.
      let o = rdata;
      while (o < end) {
        if (o + 4 > end || OPTION_DECODED.has(u16(b, o))) return null;
        o += 4 + u16(b, o + 2);
      }
      if (o !== end) return null;
    } else if (OWN_DECODER.has(type)) return null;
    at = end;
  }
  const addressBytes = new Uint8Array(16 * count);
  const addressFamilies: (4 | 6)[] = [];
  at = answersAt;
  for (let r = 0; r < answers; r++) {
    readName(b, at, false);
    const type = u16(b, nameEnd);
    const rdata = nameEnd + 10;
    if (type === TYPE_A || type === TYPE_AAAA) {
      const family = type === TYPE_A ? 4 : 6;
      addressBytes.set(b.subarray(rdata, rdata + (family === 4 ? 4 : 16)), 16 * addressFamilies.length);
      addressFamilies.push(family);
    }
    at = rdata + u16(b, nameEnd + 8);
  }
  const response = (flags & 0x8000) !== 0;
  return {
    id: u16(b, 0),
    response,
    name: name!.toLowerCase(),
    qtype: TYPE_NAMES[qtype] ?? `UNKNOWN_${qtype}`,
    rcode: response ? (RCODE_NAMES[flags & 0xf] ?? `RCODE_${flags & 0xf}`) : null,
    addressBytes,
    addressFamilies,
  };
}
