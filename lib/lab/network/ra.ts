/**
 * The router advertisement that carries PREF64 (RFC 8781) beside radvd's. Debian 12's radvd
 * (2.19) has no `nat64prefix` (added in 2.20), so the gateway sends a second RA from the same
 * interface holding only PREF64; pref64-sender.ts puts these bytes on the link. Pure: no I/O.
 *
 * A host merges every RA of one router (same link-local source): this one adds PREF64 and must
 * repeat radvd's router lifetime and flags, since the newest RA sets them (a lifetime of 0 would
 * withdraw the default route radvd's RA gave).
 */
import { type Nat64Prefix, parseNat64Prefix } from '../../net/address.js';
import { encodePref64Option, ICMPV6_TYPE, RA_HEADER_LENGTH } from '../../net/pref64.js';

export {
  decodePref64Option,
  parseRouterAdvertisement,
  PLC_OF_LENGTH,
  PREF64_MAX_LIFETIME_S,
  type Pref64Option,
  type RouterAdvertisement,
  RouterAdvertisementFormatError,
} from '../../net/pref64.js';

/** radvd's AdvDefaultLifetime in the lab's and the gateway's radvd.conf (config.ts radvdConf). */
export const RADVD_ROUTER_LIFETIME_S = 1800;

/**
 * RFC 8781 section 4.1: the PREF64 lifetime should be at least 3 x MaxRtrAdvInterval. The lab's
 * RAs come every 3-10 s; 1800 s matches radvd's router lifetime, so the prefix lives as long as
 * the default route and survives many lost RAs.
 */
export const PREF64_LIFETIME_S = 1800;

/** RFC 4861 section 6.2.1: AdvDefaultLifetime is 0 or MaxRtrAdvInterval..9000 s. */
const MAX_ROUTER_LIFETIME_S = 9000;

export interface Pref64AdvertisementOptions {
  /** The NAT64 prefix: `64:ff9b::/96` or a network-specific one of an RFC 6052 length. */
  prefix: string | Nat64Prefix;
  /** Seconds; rounded up to 8 s. @default PREF64_LIFETIME_S */
  pref64Lifetime?: number;
  /** Must equal radvd's AdvDefaultLifetime. @default RADVD_ROUTER_LIFETIME_S */
  routerLifetime?: number;
  /** radvd's AdvCurHopLimit. @default 64 */
  curHopLimit?: number;
  /** The M flag, as radvd sends it (AdvManagedFlag). @default false */
  managed?: boolean;
  /** The O flag, as radvd sends it (AdvOtherConfigFlag). @default false */
  other?: boolean;
  /** The option name a bad prefix is reported under. @default '--prefix' */
  field?: string;
}

/**
 * Parses a NAT64 prefix given on the command line: an IPv6 prefix of length 32, 40, 48, 56, 64
 * or 96 (RFC 6052 section 2.2, the only lengths PREF64 can carry). Throws AddressError naming
 * `field`, whose message is the one line the CLI prints.
 */
export function parseNat64PrefixOption(text: string, field = '--prefix'): Nat64Prefix {
  return parseNat64Prefix(text, field);
}

/**
 * The ICMPv6 message (type 134) of a router advertisement holding one PREF64 option. The
 * checksum is left 0: the kernel fills it on a raw ICMPv6 socket (RFC 3542 section 3.1).
 * Reachable time and retransmission timer are 0 ("unspecified"), so this RA changes nothing
 * radvd's set.
 */
export function pref64Advertisement(options: Pref64AdvertisementOptions): Uint8Array {
  const prefix = typeof options.prefix === 'string' ? parseNat64PrefixOption(options.prefix, options.field) : options.prefix;
  const routerLifetime = options.routerLifetime ?? RADVD_ROUTER_LIFETIME_S;
  const curHopLimit = options.curHopLimit ?? 64;
  if (!Number.isInteger(routerLifetime) || routerLifetime < 0 || routerLifetime > MAX_ROUTER_LIFETIME_S) {
    throw new RangeError(`router lifetime ${routerLifetime} s: must be 0 to ${MAX_ROUTER_LIFETIME_S} (RFC 4861), and equal radvd's AdvDefaultLifetime`);
  }
  if (!Number.isInteger(curHopLimit) || curHopLimit < 0 || curHopLimit > 255) throw new RangeError(`current hop limit ${curHopLimit}: must be 0 to 255`);
  const option = encodePref64Option(prefix, options.pref64Lifetime ?? PREF64_LIFETIME_S);
  const message = new Uint8Array(RA_HEADER_LENGTH + option.length);
  message[0] = ICMPV6_TYPE.ROUTER_ADVERTISEMENT;
  message[4] = curHopLimit;
  message[5] = (options.managed ? 0x80 : 0) | (options.other ? 0x40 : 0);
  message[6] = routerLifetime >> 8;
  message[7] = routerLifetime & 0xff;
  message.set(option, RA_HEADER_LENGTH);
  return message;
}
