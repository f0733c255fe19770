/**
 * The PREF64 option of IPv6 router advertisements (RFC 8781): a router tells its hosts the NAT64
 * prefix, so they need no RFC 7050 DNS query to learn it. Pure encoding and decoding, shared by
 * the lab's sender (lib/lab/network/ra.ts) and the capture analysis (lib/analysis/pref64.ts).
 */
import { formatAddress, type Nat64Prefix, type Nat64PrefixLength } from './address.js';

/** ICMPv6 types of neighbour discovery (RFC 4861 section 4). */
export const ICMPV6_TYPE = { ROUTER_SOLICITATION: 133, ROUTER_ADVERTISEMENT: 134 } as const;

/** IPv6 ND option type of PREF64 (RFC 8781 section 4, IANA "IPv6 Neighbor Discovery Option Formats"). */
export const ND_OPTION_PREF64 = 38;

/** IPv6 ND option type of RDNSS, the recursive DNS servers (RFC 8106 section 5.1). */
export const ND_OPTION_RDNSS = 25;

/** The ICMPv6 header of a router advertisement before its options (RFC 4861 section 4.2). */
export const RA_HEADER_LENGTH = 16;

/** RFC 8781 section 4: the option is always 16 bytes, Length 2 in units of 8 octets. */
export const PREF64_OPTION_LENGTH = 16;

/** RFC 8781 section 4: the Prefix Length Code (3 bits) of each prefix length. */
export const PLC_OF_LENGTH = { 96: 0, 64: 1, 56: 2, 48: 3, 40: 4, 32: 5 } as const satisfies Record<Nat64PrefixLength, number>;
const LENGTH_OF_PLC: readonly Nat64PrefixLength[] = [96, 64, 56, 48, 40, 32];

/** Scaled Lifetime is 13 bits in units of 8 s (RFC 8781 section 4): 8191 * 8 s at most. */
export const PREF64_MAX_LIFETIME_S = 8191 * 8;

/** A router advertisement (or one of its options) that breaks its RFC; `offset` is where. */
export class RouterAdvertisementFormatError extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`router advertisement, byte ${offset}: ${reason}`);
    this.name = 'RouterAdvertisementFormatError';
  }
}

/** A NAT64 prefix as one PREF64 option advertised it. */
export interface Pref64Option {
  prefix: Nat64Prefix;
  /** Seconds (the scaled lifetime times 8); 0 withdraws the prefix. */
  lifetimeSeconds: number;
  /** Where the option starts in the bytes given to the parser. */
  offset: number;
}

/**
 * The 16 bytes of a PREF64 option. The lifetime is rounded up to the next 8 s (a prefix should
 * not expire before the router meant it to); above 65528 s it does not fit and is refused.
 */
export function encodePref64Option(prefix: Nat64Prefix, lifetimeSeconds: number): Uint8Array {
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 0 || lifetimeSeconds > PREF64_MAX_LIFETIME_S) {
    throw new RangeError(
      `PREF64 lifetime ${lifetimeSeconds} s: must be a whole number of seconds from 0 to ${PREF64_MAX_LIFETIME_S} (RFC 8781: 13 bits of 8 s)`,
    );
  }
  const option = new Uint8Array(PREF64_OPTION_LENGTH);
  option[0] = ND_OPTION_PREF64;
  option[1] = PREF64_OPTION_LENGTH / 8;
  const word = (Math.ceil(lifetimeSeconds / 8) << 3) | PLC_OF_LENGTH[prefix.length];
  option[2] = word >> 8;
  option[3] = word & 0xff;
  // Highest 96 bits of the prefix; the bits past its length are zero in a Nat64Prefix.
  option.set(prefix.bytes.subarray(0, 12), 4);
  return option;
}

/**
 * The PREF64 option at `offset` (its Type byte, already known to be 38), or the reason a receiver
 * must ignore it (RFC 8781 section 4: Length other than 2, PLC 6 or 7).
 */
export function decodePref64Option(bytes: Uint8Array, offset: number, end: number): Pref64Option | RouterAdvertisementFormatError {
  const lengthUnits = bytes[offset + 1]!;
  if (lengthUnits !== 2) return new RouterAdvertisementFormatError(offset, `PREF64 option has length ${lengthUnits} (x8 bytes); RFC 8781 requires 2`);
  if (offset + PREF64_OPTION_LENGTH > end) return new RouterAdvertisementFormatError(offset, 'PREF64 option cut short');
  const word = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
  const plc = word & 0x7;
  const length = LENGTH_OF_PLC[plc];
  if (length === undefined) return new RouterAdvertisementFormatError(offset, `PREF64 option has prefix length code ${plc}; RFC 8781 defines 0 to 5`);
  const prefixBytes = new Uint8Array(16);
  // RFC 8781 section 4: bits past the prefix length are ignored by the receiver.
  prefixBytes.set(bytes.subarray(offset + 4, offset + 4 + length / 8));
  return {
    prefix: { text: `${formatAddress(prefixBytes, 0, 6)}/${length}`, length, bytes: prefixBytes },
    lifetimeSeconds: (word >> 3) * 8,
    offset,
  };
}

/** A router advertisement's header, its PREF64 options and its DNS servers. */
export interface RouterAdvertisement {
  curHopLimit: number;
  managed: boolean;
  other: boolean;
  /** Seconds; 0: not a default router. */
  routerLifetime: number;
  pref64: Pref64Option[];
  /** PREF64 options a receiver ignores (RFC 8781 section 4), each naming its byte offset. */
  ignoredPref64: RouterAdvertisementFormatError[];
  /** The DNS servers of every RDNSS option with a lifetime above 0, in order (RFC 8106). */
  rdnss: string[];
  /** RDNSS options a receiver ignores (RFC 8106 section 5.1: a length below 3 or even), by byte offset. */
  ignoredRdnss: RouterAdvertisementFormatError[];
}

/**
 * The servers of the RDNSS option at `offset` (Type 25, RFC 8106 section 5.1): Length is 1 + 2n
 * for n addresses (at least 3), Lifetime 0 withdraws them (then none are returned).
 */
export function decodeRdnssOption(bytes: Uint8Array, offset: number): string[] | RouterAdvertisementFormatError {
  const lengthUnits = bytes[offset + 1]!;
  if (lengthUnits < 3 || lengthUnits % 2 === 0)
    return new RouterAdvertisementFormatError(offset, `RDNSS option has length ${lengthUnits} (x8 bytes); RFC 8106 requires 1 + 2 per address, at least 3`);
  const lifetime = ((bytes[offset + 4]! << 24) | (bytes[offset + 5]! << 16) | (bytes[offset + 6]! << 8) | bytes[offset + 7]!) >>> 0;
  if (lifetime === 0) return [];
  const servers: string[] = [];
  for (let at = offset + 8; at < offset + lengthUnits * 8; at += 16) servers.push(formatAddress(bytes, at, 6));
  return servers;
}

/**
 * Parses the ICMPv6 router advertisement at `offset` (its Type byte) up to `end`. Throws
 * RouterAdvertisementFormatError when the message itself is broken (a receiver discards it whole,
 * RFC 4861 sections 6.1.2 and 4.6: too short, an option of length 0, an option past the end); a
 * malformed PREF64 option is only ignored, as RFC 8781 says, and listed in `ignoredPref64`.
 */
export function parseRouterAdvertisement(bytes: Uint8Array, offset: number, end: number): RouterAdvertisement {
  if (end - offset < RA_HEADER_LENGTH)
    throw new RouterAdvertisementFormatError(offset, `router advertisement of ${end - offset} bytes; RFC 4861 needs ${RA_HEADER_LENGTH}`);
  if (bytes[offset] !== ICMPV6_TYPE.ROUTER_ADVERTISEMENT)
    throw new RouterAdvertisementFormatError(offset, `ICMPv6 type ${bytes[offset]} is not a router advertisement (134)`);
  const flags = bytes[offset + 5]!;
  const ra: RouterAdvertisement = {
    curHopLimit: bytes[offset + 4]!,
    managed: (flags & 0x80) !== 0,
    other: (flags & 0x40) !== 0,
    routerLifetime: (bytes[offset + 6]! << 8) | bytes[offset + 7]!,
    pref64: [],
    ignoredPref64: [],
    rdnss: [],
    ignoredRdnss: [],
  };
  for (let at = offset + RA_HEADER_LENGTH; at < end; ) {
    if (end - at < 2) throw new RouterAdvertisementFormatError(at, 'option header cut short');
    const lengthUnits = bytes[at + 1]!;
    if (lengthUnits === 0)
      throw new RouterAdvertisementFormatError(at, `option type ${bytes[at]} has length 0 (RFC 4861 section 4.6: the message is discarded)`);
    if (at + lengthUnits * 8 > end)
      throw new RouterAdvertisementFormatError(at, `option type ${bytes[at]} of ${lengthUnits * 8} bytes runs past the message's end`);
    if (bytes[at] === ND_OPTION_PREF64) {
      const option = decodePref64Option(bytes, at, end);
      if (option instanceof RouterAdvertisementFormatError) ra.ignoredPref64.push(option);
      else ra.pref64.push(option);
    } else if (bytes[at] === ND_OPTION_RDNSS) {
      const servers = decodeRdnssOption(bytes, at);
      if (servers instanceof RouterAdvertisementFormatError) ra.ignoredRdnss.push(servers);
      else ra.rdnss.push(...servers);
    }
    at += lengthUnits * 8;
  }
  return ra;
}
