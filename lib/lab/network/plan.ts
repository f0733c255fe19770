/**
 * The lab's names and addresses, worked out from the plan before anything is made: pure
 * functions, no I/O.
 *
 * Addresses (h = 16 bits derived from the lab id, i = handset index as two hex digits):
 *   2001:db8:h:ff00::/64   the world: authoritative DNS ::53, hosts ::1000, ::1001, ...
 *   2001:db8:h:i00::/56    handset i: i00::/64 its APN link (SLAAC), i01::/64 its Wi-Fi,
 *                          i64::1 the NAT64's own address, ic1::1 the CLAT's own address,
 *                          ife::/64 and iff::/64 the links of its access point and gateway to
 *                          the internet
 *   100.64.0.53            authoritative DNS; 100.64.1.1, 100.64.1.2, ... the world's hosts
 *   100.96.i.0/24          gateway i <-> internet; 100.97.i.0/24 access point i <-> internet
 *   100.127.i.0/24         NAT64 pool of gateway i
 *   10.i.0.0/24            the IPv4 of an ipv4v6/ipv4 attach (carrier NAT44 in the gateway)
 *   192.168.1.0/24         every access point's LAN (NAT44 in the access point)
 * IPv4 the NAT64 must reach is in 100.64/10: tayga with the well-known prefix drops private and
 * documentation ranges (lab.md).
 */
import { canonicalAddress } from '../../net/address.js';
import { LabPlanError } from './errors.js';
import {
  APN_TYPES,
  DEFAULT_HANDSET_SETTINGS,
  DNS_OMISSIONS,
  IPV6_FAILURES,
  PDP_TYPES,
  type ApnType,
  type BackgroundPart,
  type HandsetNetworkSettings,
  type LabPlan,
  type PdpType,
  type WorldHost,
  type WorldHostAddresses,
} from './types.js';

export const LAB_ID = /^[a-z0-9]{1,6}$/;
export const MAX_HANDSET_INDEX = 199;
/** RFC 1123 host names: letters, digits and hyphens in dot-separated labels (lower case). */
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const MAX_HOSTS = 4000;

/** The well-known NAT64 prefix (RFC 6052) the `ipv6` APN's DNS64 and NAT64 use. */
export const NAT64_PREFIX = '64:ff9b::/96';
/** Android's CLAT IPv4 address (RFC 7335). */
export const CLAT_IPV4 = '192.0.0.4';
/** The CLAT tayga's own IPv4 (source of the ICMP errors it makes). */
export const CLAT_TAYGA_IPV4 = '192.0.0.2';
export const CLAT_INTERFACE = 'v4-rmnet_data0';
/** IPv4 route MTU through the CLAT: 1500 minus the 20 bytes IPv6 adds, rounded down (lab.md). */
export const CLAT_ROUTE_MTU = 1472;
export const MOBILE_INTERFACE = 'rmnet_data0';
/** A VoLTE handset's IMS network (its second PDN), as Qualcomm phones name the second data interface. */
export const IMS_INTERFACE = 'rmnet_data1';
export const WIFI_INTERFACE = 'wlan0';

/**
 * The world hosts a handset's background traffic talks to, by name: a world without one gets
 * that part skipped. time.test is IPv4-only in the shipped world, so on an IPv6-only attach NTP
 * goes through DNS64/NAT64, as a phone's does to an IPv4-only pool.
 */
export const BACKGROUND_HOSTS = { probe: 'connectivity.test', ntp: 'time.test', push: 'push.test' } as const;
/**
 * Whose each part is. On a phone the probe and NTP come from system_server (AID_SYSTEM 1000) or
 * the NetworkStack, push from Play services; here each part has its own system uid, all below
 * Android's first app uid (AID_APP_START 10000), so a capture can tell them from an app.
 */
export const BACKGROUND_UIDS = { probe: 1000, ntp: 1001, push: 1002 } as const;
/** How often: a probe every 10 s, an NTP query every 30 s, a push keepalive every 15 s. */
export const BACKGROUND_INTERVALS_MS = { probe: 10_000, ntp: 30_000, push: 15_000 } as const;

/** The background traffic's parts for a world: each with its host, or null when the world lacks it. */
export function backgroundParts(hosts: readonly { name: string }[]): Record<keyof typeof BACKGROUND_HOSTS, BackgroundPart> {
  const names = new Set(hosts.map((h) => h.name));
  const part = (key: keyof typeof BACKGROUND_HOSTS): BackgroundPart => ({
    host: names.has(BACKGROUND_HOSTS[key]) ? BACKGROUND_HOSTS[key] : null,
    uid: BACKGROUND_UIDS[key],
    intervalMs: BACKGROUND_INTERVALS_MS[key],
  });
  return { probe: part('probe'), ntp: part('ntp'), push: part('push') };
}

/** A handset's settings with every missing one on (a compliant handset). */
export function handsetSettings(settings: Partial<HandsetNetworkSettings> | undefined): HandsetNetworkSettings {
  return { ...DEFAULT_HANDSET_SETTINGS, ...settings };
}

/**
 * The sysctls that give interface `dev` a handset's IPv6 settings, written after the link is
 * made and before it comes up: `disable_ipv6` (no link-local, RAs ignored) and `use_tempaddr`
 * (2: make temporary addresses and prefer them, RFC 8981; 0: none).
 */
export function interfaceSysctls(dev: string, ipv6: boolean, privacy: boolean): string[] {
  return [`net.ipv6.conf.${dev}.disable_ipv6=${ipv6 ? 0 : 1}`, `net.ipv6.conf.${dev}.use_tempaddr=${privacy ? 2 : 0}`];
}

export const namespacePrefix = (labId: string): string => `v6l-${labId}-`;
export const internetNamespace = (labId: string): string => `${namespacePrefix(labId)}inet`;
export const gatewayNamespace = (labId: string, index: number): string => `${namespacePrefix(labId)}gw${index}`;
export const handsetNamespace = (labId: string, index: number): string => `${namespacePrefix(labId)}hs${index}`;
export const accessPointNamespace = (labId: string, index: number): string => `${namespacePrefix(labId)}ap${index}`;

/** Whether `name` is one of the namespace names lab `labId` makes. */
export function isLabNamespace(labId: string, name: string): boolean {
  const rest = name.startsWith(namespacePrefix(labId)) ? name.slice(namespacePrefix(labId).length) : null;
  return rest !== null && /^(inet|(gw|hs|ap)\d{1,3})$/.test(rest);
}

/** 16 bits of FNV-1a over the lab id: two labs' captures do not share addresses. */
export function labHash16(labId: string): number {
  let hash = 0x811c9dc5;
  for (const char of labId) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return ((hash >>> 16) ^ hash) & 0xffff;
}

const hex = (n: number): string => n.toString(16);

/** The addresses of one handset's part of the lab. */
export interface HandsetAddressing {
  /** The IMS PDN's /64 on a VoLTE handset (`2001:db8:h:i1a::/64`): a second mobile network, not the internet one. */
  imsPrefix: string;
  /** The handset's address on its IMS network. */
  handsetImsIpv6: string;
  /** The P-CSCF the IMS PDN names (an address only: the lab runs no IMS core). */
  pcscfIpv6: string;
  /** `2001:db8:h:i00::/64` */
  apnPrefix: string;
  /** The gateway's address on the APN link; also its resolver (RDNSS). */
  gatewayApnIpv6: string;
  gatewayApnIpv4: string;
  handsetIpv4: string;
  /** The handset's IPv4 subnet on the APN link, masqueraded by the gateway. */
  handsetIpv4Subnet: string;
  /** The /56 the internet routes to the gateway. */
  handsetAggregate: string;
  /** Gateway wan0 <-> internet `gw<i>`. */
  gatewayWanIpv6: string;
  internetGatewaySideIpv6: string;
  gatewayWanIpv4: string;
  internetGatewaySideIpv4: string;
  nat64Pool: string;
  nat64TaygaIpv4: string;
  nat64TaygaIpv6: string;
  /** The address of the handset /64 its CLAT's 192.0.0.4 is mapped to. */
  clatIpv6: string;
  clatTaygaIpv6: string;
  wifiPrefix: string;
  accessPointLanIpv6: string;
  accessPointLanIpv4: string;
  handsetWifiIpv4: string;
  accessPointWanIpv6: string;
  internetAccessPointSideIpv6: string;
  accessPointWanIpv4: string;
  internetAccessPointSideIpv4: string;
}

/** A 64-bit interface identifier that looks random but is the same for one lab and handset. */
function pseudoRandomIid(seed: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (const char of seed) {
    a = Math.imul(a ^ char.charCodeAt(0), 0x01000193) >>> 0;
    b = Math.imul(b ^ char.charCodeAt(0), 0x5bd1e995) >>> 0;
  }
  // Byte 3 is never 0xff, so it is never an EUI-64 identifier (..ff:fe..) like the handset's
  // SLAAC address.
  const words = [a >>> 16, (a & 0xff00) | 0xc1, b >>> 16, b & 0xffff];
  return words.map(hex).join(':');
}

export function handsetAddressing(labId: string, index: number): HandsetAddressing {
  const h = hex(labHash16(labId));
  const block = (low: number): string => `2001:db8:${h}:${hex((index << 8) | low)}`;
  return {
    imsPrefix: canonicalPrefix(`${block(0x1a)}::`, 64),
    handsetImsIpv6: canonicalAddress(`${block(0x1a)}:${pseudoRandomIid(`${labId}/${index}/ims`)}`),
    pcscfIpv6: canonicalAddress(`${block(0x1a)}::5060`),
    apnPrefix: canonicalPrefix(`${block(0)}::`, 64),
    gatewayApnIpv6: canonicalAddress(`${block(0)}::1`),
    gatewayApnIpv4: `10.${index}.0.1`,
    handsetIpv4: `10.${index}.0.2`,
    handsetIpv4Subnet: `10.${index}.0.0/24`,
    handsetAggregate: canonicalPrefix(`${block(0)}::`, 56),
    gatewayWanIpv6: canonicalAddress(`${block(0xff)}::2`),
    internetGatewaySideIpv6: canonicalAddress(`${block(0xff)}::1`),
    gatewayWanIpv4: `100.96.${index}.2`,
    internetGatewaySideIpv4: `100.96.${index}.1`,
    nat64Pool: `100.127.${index}.0/24`,
    nat64TaygaIpv4: `100.127.${index}.1`,
    nat64TaygaIpv6: canonicalAddress(`${block(0x64)}::1`),
    clatIpv6: canonicalAddress(`${block(0)}:${pseudoRandomIid(`${labId}/${index}/clat`)}`),
    clatTaygaIpv6: canonicalAddress(`${block(0xc1)}::1`),
    wifiPrefix: canonicalPrefix(`${block(1)}::`, 64),
    accessPointLanIpv6: canonicalAddress(`${block(1)}::1`),
    accessPointLanIpv4: '192.168.1.1',
    handsetWifiIpv4: '192.168.1.2',
    accessPointWanIpv6: canonicalAddress(`${block(0xfe)}::2`),
    internetAccessPointSideIpv6: canonicalAddress(`${block(0xfe)}::1`),
    accessPointWanIpv4: `100.97.${index}.2`,
    internetAccessPointSideIpv4: `100.97.${index}.1`,
  };
}

function canonicalPrefix(address: string, length: number): string {
  return `${canonicalAddress(address)}/${length}`;
}

/** The internet's own addresses: its authoritative DNS server. */
export function worldDnsAddresses(labId: string): { ipv4: string; ipv6: string } {
  return { ipv4: '100.64.0.53', ipv6: canonicalAddress(`2001:db8:${hex(labHash16(labId))}:ff00::53`) };
}

/** The world's /64 (IPv6 hosts live here). */
export function worldIpv6Prefix(labId: string): string {
  return canonicalPrefix(`2001:db8:${hex(labHash16(labId))}:ff00::`, 64);
}

/** Assigns each host its addresses, in the order of the world file (stable across runs). */
export function worldAddresses(labId: string, hosts: LabPlan['world']['hosts']): WorldHostAddresses[] {
  const h = hex(labHash16(labId));
  return hosts.map((host, k) => ({
    name: host.name,
    ipv4: host.ipv4 ? `100.64.${1 + Math.floor(k / 254)}.${1 + (k % 254)}` : null,
    ipv6: host.ipv6 === false ? null : canonicalAddress(`2001:db8:${h}:ff00::${hex(0x1000 + k)}`),
    ipv6Blackholed: host.ipv6 === 'blackhole',
    // Only when set: a lab.json written before these existed reads the same.
    ...(host.ipv6 === 'pmtud-blackhole' || host.ipv6 === 'late-failure' ? { ipv6Failure: host.ipv6 } : {}),
    ...(host.dns === undefined ? {} : { dnsOmits: host.dns === 'no-a' ? ('A' as const) : ('AAAA' as const) }),
  }));
}

/**
 * What an attach gives: the PDN type the handset asks for intersected with what the APN
 * offers, as a 3GPP network answers (an IPV4V6 request on a single-stack APN gets that stack;
 * an IPV6 request on an IPv4-only APN is rejected).
 */
export function attachFamilies(apn: ApnType, pdpType: PdpType): { families: (4 | 6)[]; error: string | null } {
  const offered: (4 | 6)[] = apn === 'ipv6' || apn === 'ipv6-true' ? [6] : apn === 'ipv4' ? [4] : [4, 6];
  const asked: (4 | 6)[] = pdpType === 'IPV6' ? [6] : pdpType === 'IP' ? [4] : [4, 6];
  const families = offered.filter((f) => asked.includes(f)).sort((a, b) => b - a);
  if (families.length > 0) return { families, error: null };
  // 3GPP TS 24.301 ESM cause #50 / #51.
  const cause = apn === 'ipv4' ? 'ESM cause #50: PDN type IPv4 only allowed' : 'ESM cause #51: PDN type IPv6 only allowed';
  return { families, error: `PDN type ${pdpType} rejected by the ${apn} APN (${cause})` };
}

/**
 * What is wrong with a host's `dns`, or null: a record can be left out only for a family the host
 * has, and not its only one (then no name would lead to it at all).
 */
export function dnsOmissionProblem(host: Pick<WorldHost, 'name' | 'ipv4' | 'ipv6' | 'dns'>): string | null {
  if (host.dns === undefined) return null;
  const omitted = host.dns === 'no-a' ? 'ipv4' : 'ipv6';
  const kept = host.dns === 'no-a' ? 'ipv6' : 'ipv4';
  const record = host.dns === 'no-a' ? 'A' : 'AAAA';
  if (host[omitted] === false)
    return `"${host.dns}" leaves out the ${record} record, but "${host.name}" has no ${omitted === 'ipv4' ? 'IPv4' : 'IPv6'}: set ${omitted} true or drop dns`;
  if (host[kept] === false)
    return `"${host.dns}" would leave "${host.name}" with no record at all (it has no ${kept === 'ipv4' ? 'IPv4' : 'IPv6'}): nothing could find it by name`;
  return null;
}

/** Checks a plan; throws {@link LabPlanError} naming the field. */
export function validatePlan(plan: LabPlan): void {
  if (!LAB_ID.test(plan.labId)) throw new LabPlanError('labId', `${JSON.stringify(plan.labId)} is not 1-6 of [a-z0-9]`);
  if (typeof plan.stateDir !== 'string' || plan.stateDir === '') throw new LabPlanError('stateDir', 'is empty');
  const hosts = plan.world?.hosts;
  if (!Array.isArray(hosts)) throw new LabPlanError('world.hosts', 'is not a list');
  if (hosts.length > MAX_HOSTS) throw new LabPlanError('world.hosts', `has ${hosts.length} hosts; at most ${MAX_HOSTS}`);
  const names = new Set<string>();
  hosts.forEach((host, k) => {
    if (typeof host.name !== 'string' || !HOSTNAME.test(host.name)) {
      throw new LabPlanError(`world.hosts[${k}].name`, `${JSON.stringify(host.name)} is not a lower-case host name`);
    }
    if (host.name === 'ipv4only.arpa') throw new LabPlanError(`world.hosts[${k}].name`, "ipv4only.arpa is the lab's own (RFC 7050)");
    if (names.has(host.name)) throw new LabPlanError(`world.hosts[${k}].name`, `"${host.name}" appears twice`);
    names.add(host.name);
    if (typeof host.ipv4 !== 'boolean') throw new LabPlanError(`world.hosts[${k}].ipv4`, 'is not true or false');
    if (host.ipv6 !== true && host.ipv6 !== false && !IPV6_FAILURES.includes(host.ipv6)) {
      throw new LabPlanError(`world.hosts[${k}].ipv6`, `is not true, false or one of ${IPV6_FAILURES.map((f) => `"${f}"`).join(', ')}`);
    }
    if (host.dns !== undefined && !DNS_OMISSIONS.includes(host.dns)) {
      throw new LabPlanError(`world.hosts[${k}].dns`, `is not one of ${DNS_OMISSIONS.map((d) => `"${d}"`).join(', ')}`);
    }
    const omission = dnsOmissionProblem(host);
    if (omission !== null) throw new LabPlanError(`world.hosts[${k}].dns`, omission);
  });
  const indexes = new Set<number>();
  plan.handsets.forEach((handset, n) => {
    if (!Number.isInteger(handset.index) || handset.index < 0 || handset.index > MAX_HANDSET_INDEX) {
      throw new LabPlanError(`handsets[${n}].index`, `${handset.index} is not an integer 0..${MAX_HANDSET_INDEX}`);
    }
    if (indexes.has(handset.index)) throw new LabPlanError(`handsets[${n}].index`, `${handset.index} appears twice`);
    indexes.add(handset.index);
    if (!APN_TYPES.includes(handset.apn)) throw new LabPlanError(`handsets[${n}].apn`, `is not one of ${APN_TYPES.join(', ')}`);
    if (!PDP_TYPES.includes(handset.pdpType)) throw new LabPlanError(`handsets[${n}].pdpType`, `is not one of ${PDP_TYPES.join(', ')}`);
    if (handset.settings !== undefined) {
      if (typeof handset.settings !== 'object' || handset.settings === null) throw new LabPlanError(`handsets[${n}].settings`, 'is not an object');
      for (const [key, value] of Object.entries(handset.settings)) {
        if (!(key in DEFAULT_HANDSET_SETTINGS)) {
          throw new LabPlanError(`handsets[${n}].settings.${key}`, `is not one of ${Object.keys(DEFAULT_HANDSET_SETTINGS).join(', ')}`);
        }
        if (value !== undefined && typeof value !== 'boolean') throw new LabPlanError(`handsets[${n}].settings.${key}`, 'is not true or false');
      }
    }
  });
  for (const key of ['wifi', 'backgroundTraffic'] as const) {
    if (plan[key] !== undefined && typeof plan[key] !== 'boolean') throw new LabPlanError(key, 'is not true or false');
  }
}

/**
 * Whether an address lies in a prefix such as `2001:db8:1:100::/64`: lib/net's `inPrefix`, under
 * the name up.ts and the lab tests import. It reads the prefix's own length now; every prefix the
 * lab passes is a /64, which was all this name once compared.
 */
export { inPrefix as inPrefix64 } from '../../net/address.js';
