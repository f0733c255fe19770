/**
 * Addresses as the analyzer sees them: raw bytes inside a packet, turned into text only at the
 * edge (reports, JSON). ipaddr.js does the parsing and printing; this module adds what it lacks:
 * RFC 6052 NAT64 prefixes and the special ranges of 464XLAT.
 */
import { createRequire } from 'node:module';
import type IpaddrModule from 'ipaddr.js';

// Loaded through require on first use: as a CommonJS package it loads in a fraction of the time
// the ESM loader takes, and `v6lab --help` never needs it.
const require = createRequire(import.meta.url);
let ipaddrModule: typeof IpaddrModule | undefined;
function ipaddr(): typeof IpaddrModule {
  return (ipaddrModule ??= require('ipaddr.js') as typeof IpaddrModule);
}

export type Family = 4 | 6;

export class AddressError extends Error {
  constructor(
    readonly input: string,
    readonly reason: string,
    readonly field?: string,
  ) {
    super(`${field ? `${field}: ` : ''}${JSON.stringify(input)} ${reason}`);
    this.name = 'AddressError';
  }
}

/** Prints 4 or 16 address bytes found at `offset` of `bytes` (RFC 5952 form for IPv6). */
export function formatAddress(bytes: Uint8Array, offset: number, family: Family): string {
  if (family === 4) {
    return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
  }
  // RFC 5952 section 4: lower-case hex without leading zeros; the longest run of two or more
  // zero groups (the first of equal runs) becomes "::". Written out because ipaddr.js takes
  // ~5 us an address and a report prints two per flow.
  const groups = GROUPS;
  for (let i = 0; i < 8; i++) groups[i] = (bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!;
  const run = longestZeroRun(bytes, offset);
  const bestStart = run < 0 ? -1 : run >> 4;
  const bestLength = run < 0 ? 1 : run & 15;
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::';
      i += bestLength - 1;
    } else {
      text += i === 0 || i === bestStart + bestLength ? groups[i]!.toString(16) : `:${groups[i]!.toString(16)}`;
    }
  }
  return text;
}

/**
 * RFC 5952 section 4.2.3: the run of zero groups an IPv6 address (16 bytes at `offset`) writes as
 * "::": the longest of two or more groups, the first of equal ones; its start * 16 + its length,
 * or -1 when there is none. formatAddress and the analyzer's JSON writer both follow it.
 */
export function longestZeroRun(bytes: Uint8Array, offset: number): number {
  let bestStart = -1;
  let bestLength = 1;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    if ((bytes[offset + 2 * i]! | bytes[offset + 2 * i + 1]!) !== 0) runStart = -1;
    else {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLength) {
        bestStart = runStart;
        bestLength = i - runStart + 1;
      }
    }
  }
  return bestStart < 0 ? -1 : bestStart * 16 + bestLength;
}

/** Scratch space for formatAddress: no allocation per address. */
const GROUPS = new Uint16Array(8);

/** Parses an IPv4 or IPv6 address into its bytes; throws AddressError naming `field`. */
export function parseAddress(text: string, field?: string): { family: Family; bytes: Uint8Array } {
  if (!ipaddr().isValid(text)) throw new AddressError(text, 'is not an IPv4 or IPv6 address', field);
  const parsed = ipaddr().parse(text);
  const family: Family = parsed.kind() === 'ipv4' ? 4 : 6;
  return { family, bytes: Uint8Array.from(parsed.toByteArray()) };
}

/** Canonical text of an address (RFC 5952 for IPv6), so addresses from any source compare equal. */
export function canonicalAddress(text: string): string {
  const { family, bytes } = parseAddress(text);
  return formatAddress(bytes, 0, family);
}

/** An IPv4 or IPv6 prefix of any length the family allows. */
export interface Prefix {
  readonly family: Family;
  /** 4 or 16 bytes as written: bits past `length` are kept, never read. */
  readonly bytes: Uint8Array;
  /** 0..32 for IPv4, 0..128 for IPv6. */
  readonly length: number;
}

/**
 * Parses `2001:db8:1:100::/64`, `64:ff9b::/96`, `10.0.0.0/24`, `::/0`; throws AddressError
 * naming `field` when the text is not an address, a slash and a length the family allows.
 */
export function parsePrefix(text: string, field?: string): Prefix {
  let parsed: [IpaddrModule.IPv4 | IpaddrModule.IPv6, number];
  try {
    parsed = ipaddr().parseCIDR(text);
  } catch {
    throw new AddressError(text, 'is not a prefix such as 2001:db8::/64 or 10.0.0.0/24 (an address, "/" and a length up to 128 for IPv6, 32 for IPv4)', field);
  }
  const [address, length] = parsed;
  // ipaddr.js also reads "10/8" as 0.0.0.10/8 (inet_aton's short forms): a prefix written that
  // way would match nothing meant, so IPv4 must have its four parts.
  if (address.kind() === 'ipv4' && !ipaddr().IPv4.isValidFourPartDecimal(text.slice(0, text.lastIndexOf('/')))) {
    throw new AddressError(text, 'is not an IPv4 prefix in four parts such as 10.0.0.0/24', field);
  }
  return { family: address.kind() === 'ipv4' ? 4 : 6, bytes: Uint8Array.from(address.toByteArray()), length };
}

/**
 * The prefix of `length` bits that `address` lies in, as canonical text: (`2001:db8:1:100::5`, 64)
 * -> `2001:db8:1:100::/64`, (`10.9.3.7`, 24) -> `10.9.3.0/24`. Throws AddressError naming `field`
 * when `address` is not one or `length` is not a whole number the family allows.
 */
export function prefixOf(address: string, length: number, field?: string): string {
  const { family, bytes } = parseAddress(address, field);
  const bits = family === 4 ? 32 : 128;
  if (!Number.isInteger(length) || length < 0 || length > bits)
    throw new AddressError(`${address}/${length}`, `has no /${length}: IPv${family} prefixes are /0 to /${bits}`, field);
  const network = bytes.slice();
  const whole = length >> 3;
  if (whole < network.length) {
    network[whole] = network[whole]! & ((0xff << (8 - (length & 7))) & 0xff);
    network.fill(0, whole + 1);
  }
  return `${formatAddress(network, 0, family)}/${length}`;
}

/**
 * Whether `address` lies in `prefix` (`2001:db8:1:100::/64`, `64:ff9b::/96`, `10.0.0.0/24`,
 * `::/0`): its first `length` bits are the prefix's. An address of the other family is not in it,
 * nor is text that is not an address (a line of device output read as one): both false. A prefix
 * that does not parse throws AddressError: prefixes come from plans and records that were
 * validated when read, so a bad one is a bug to show, not a "no".
 */
export function inPrefix(address: string, prefix: string): boolean {
  const p = parsePrefix(prefix, 'prefix');
  if (!ipaddr().isValid(address)) return false;
  const a = parseAddress(address);
  if (a.family !== p.family) return false;
  const whole = p.length >> 3;
  for (let i = 0; i < whole; i++) if (a.bytes[i] !== p.bytes[i]) return false;
  const rest = p.length & 7;
  if (rest === 0) return true;
  // The top `rest` bits of the next byte (a /61 compares 7 bytes and 5 bits).
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a.bytes[whole]! & mask) === (p.bytes[whole]! & mask);
}

/** 192.0.0.0/29: IPv4 addresses of a 464XLAT CLAT (RFC 7335; Android uses 192.0.0.4). */
export function isClatIpv4(bytes: Uint8Array, offset: number): boolean {
  return bytes[offset] === 192 && bytes[offset + 1] === 0 && bytes[offset + 2] === 0 && (bytes[offset + 3]! & 0xf8) === 0;
}

/** The well-known addresses of ipv4only.arpa used by RFC 7050 prefix discovery. */
export const IPV4ONLY_ARPA = 'ipv4only.arpa';
export const WELL_KNOWN_IPV4 = [
  [192, 0, 0, 170],
  [192, 0, 0, 171],
] as const;

/** The prefix lengths RFC 6052 section 2.2 allows for an IPv4-embedded IPv6 address. */
export const RFC6052_LENGTHS = [32, 40, 48, 56, 64, 96] as const;
export type Nat64PrefixLength = (typeof RFC6052_LENGTHS)[number];

/**
 * Byte positions of the embedded IPv4 for each prefix length (RFC 6052 section 2.2):
 * bits 64..71 (byte 8, "u") are always skipped.
 */
const EMBED_POSITIONS: Record<Nat64PrefixLength, readonly number[]> = {
  32: [4, 5, 6, 7],
  40: [5, 6, 7, 9],
  48: [6, 7, 9, 10],
  56: [7, 9, 10, 11],
  64: [9, 10, 11, 12],
  96: [12, 13, 14, 15],
};

export interface Nat64Prefix {
  /** Canonical text, e.g. `64:ff9b::/96`. */
  readonly text: string;
  readonly length: Nat64PrefixLength;
  /** The 16 bytes of the prefix, bits past `length` zero. */
  readonly bytes: Uint8Array;
}

/** Parses `64:ff9b::/96` style text; the length must be one RFC 6052 allows. */
export function parseNat64Prefix(text: string, field = 'NAT64 prefix'): Nat64Prefix {
  let parsed: [IpaddrModule.IPv4 | IpaddrModule.IPv6, number];
  try {
    parsed = ipaddr().parseCIDR(text);
  } catch {
    throw new AddressError(text, 'is not an IPv6 prefix such as 64:ff9b::/96', field);
  }
  const [address, length] = parsed;
  if (address.kind() !== 'ipv6') throw new AddressError(text, 'is not an IPv6 prefix', field);
  if (!(RFC6052_LENGTHS as readonly number[]).includes(length)) {
    throw new AddressError(text, `has length /${length}; RFC 6052 allows /32, /40, /48, /56, /64 or /96`, field);
  }
  const bytes = Uint8Array.from(address.toByteArray());
  return makeNat64Prefix(bytes, length as Nat64PrefixLength);
}

function makeNat64Prefix(source: Uint8Array, length: Nat64PrefixLength): Nat64Prefix {
  const bytes = new Uint8Array(16);
  bytes.set(source.subarray(0, length / 8));
  return { text: `${formatAddress(bytes, 0, 6)}/${length}`, length, bytes };
}

/** Whether the IPv6 address at `offset` lies inside `prefix`. */
export function inNat64Prefix(prefix: Nat64Prefix, address: Uint8Array, offset: number): boolean {
  const whole = prefix.length / 8;
  for (let i = 0; i < whole; i++) if (address[offset + i] !== prefix.bytes[i]) return false;
  return true;
}

/** The IPv4 embedded in an IPv6 address under `prefix` (RFC 6052), written into `out`. */
export function extractEmbeddedIpv4(prefix: Nat64Prefix, address: Uint8Array, offset: number, out: Uint8Array = new Uint8Array(4)): Uint8Array {
  const positions = EMBED_POSITIONS[prefix.length];
  for (let i = 0; i < 4; i++) out[i] = address[offset + positions[i]!]!;
  return out;
}

/**
 * The IPv4 address (text) an IPv6 address (text) embeds under the first of `prefixes` that holds
 * it, or null when none does (or the address is IPv4). Not for hot loops: it parses and prints.
 */
export function embeddedIpv4Text(address: string, prefixes: readonly Nat64Prefix[]): string | null {
  const bytes = parseAddress(address).bytes;
  if (bytes.length !== 16) return null;
  const prefix = prefixes.find((p) => inNat64Prefix(p, bytes, 0));
  return prefix === undefined ? null : formatAddress(extractEmbeddedIpv4(prefix, bytes, 0), 0, 4);
}

/** The IPv6 address that embeds `ipv4` (4 bytes) under `prefix` (RFC 6052). */
export function embedIpv4(prefix: Nat64Prefix, ipv4: Uint8Array): Uint8Array {
  const out = prefix.bytes.slice();
  const positions = EMBED_POSITIONS[prefix.length];
  for (let i = 0; i < 4; i++) out[positions[i]!] = ipv4[i]!;
  return out;
}

/**
 * RFC 7050 section 3: the NAT64 prefix of a synthesized AAAA answer for ipv4only.arpa is found by
 * locating a well-known IPv4 address at one of the RFC 6052 positions. Returns null when the
 * address embeds neither (the answer was not synthesized).
 */
export function nat64PrefixFromWellKnown(address: Uint8Array): Nat64Prefix | null {
  // Longest first: a /96 answer also has zero bytes where a shorter prefix would look.
  for (const length of [96, 64, 56, 48, 40, 32] as const) {
    const positions = EMBED_POSITIONS[length];
    for (const wka of WELL_KNOWN_IPV4) {
      if (positions.every((p, i) => address[p] === wka[i])) {
        // RFC 6052: the suffix after the embedded IPv4 and the u-octet must be zero.
        if (address[8] !== 0 && length !== 96) continue;
        return makeNat64Prefix(address, length);
      }
    }
  }
  return null;
}
