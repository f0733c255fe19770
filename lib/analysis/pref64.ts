/**
 * NAT64 prefixes a router advertised with PREF64 (RFC 8781) in a capture: the second way a host
 * learns the prefix, beside the RFC 7050 ipv4only.arpa query. Android 11 and later start their
 * CLAT from a PREF64 prefix without the query, so a capture with no ipv4only.arpa answer may still name its prefix.
 * Router advertisements are a few a minute: this code allocates freely.
 */
import { formatAddress, type Nat64Prefix } from '../net/address.js';
import { parseRouterAdvertisement, RouterAdvertisementFormatError } from '../net/pref64.js';
import type { Pref64Evidence } from './types.js';

/** RFC 4861 section 6.1.2: hosts drop an RA not sent with hop limit 255 (it came from off-link). */
const ND_HOP_LIMIT = 255;

/** The PREF64 options of a capture's router advertisements, per router and prefix. */
export class Pref64Observer {
  private readonly seen = new Map<string, Pref64Evidence & { nat64Prefix: Nat64Prefix; live: boolean }>();

  /**
   * One ICMPv6 router advertisement: `icmpOffset` is its Type byte, `end` the end of what was
   * captured, `sourceOffset` the IPv6 source address. Returns a damage reason (a fixed text) when
   * the RA breaks its RFC, else null.
   */
  routerAdvertisement(buf: Uint8Array, icmpOffset: number, end: number, sourceOffset: number, hopLimit: number, ts: number): string | null {
    let ra: ReturnType<typeof parseRouterAdvertisement>;
    try {
      ra = parseRouterAdvertisement(buf, icmpOffset, end);
    } catch (error) {
      if (error instanceof RouterAdvertisementFormatError) return `router advertisement with a broken option list (hosts discard it, RFC 4861 section 6.1.2)`;
      throw error;
    }
    if (ra.pref64.length === 0 && ra.ignoredPref64.length === 0) return null;
    if (hopLimit !== ND_HOP_LIMIT) return 'router advertisement with PREF64 sent with hop limit other than 255 (hosts drop it, RFC 4861 section 6.1.2)';
    const router = formatAddress(buf, sourceOffset, 6);
    for (const option of ra.pref64) {
      const key = `${router} ${option.prefix.text}`;
      const known = this.seen.get(key);
      if (known) {
        known.lastTs = ts;
        known.advertisements++;
        known.lifetimeSeconds = option.lifetimeSeconds;
        known.live ||= option.lifetimeSeconds > 0;
      } else {
        this.seen.set(key, {
          prefix: option.prefix.text,
          router,
          firstTs: ts,
          lastTs: ts,
          advertisements: 1,
          lifetimeSeconds: option.lifetimeSeconds,
          nat64Prefix: option.prefix,
          live: option.lifetimeSeconds > 0,
        });
      }
    }
    return ra.ignoredPref64.length > 0 ? 'PREF64 option a host ignores (length other than 2, or prefix length code 6 or 7; RFC 8781 section 4)' : null;
  }

  /** What was advertised, in order of first advertisement. */
  evidence(): Pref64Evidence[] {
    return [...this.seen.values()].map(({ nat64Prefix: _prefix, live: _live, ...evidence }) => evidence);
  }

  /**
   * The prefixes a host used: every one advertised with a lifetime at some point (one only ever
   * withdrawn told the host nothing to use). Flows to them are NAT64 (or CLAT) flows.
   */
  prefixes(): Nat64Prefix[] {
    const out = new Map<string, Nat64Prefix>();
    for (const e of this.seen.values()) if (e.live) out.set(e.prefix, e.nat64Prefix);
    return [...out.values()];
  }
}
