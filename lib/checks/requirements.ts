/**
 * Every check v6lab runs, with the requirement it proves: the one catalogue the specs, the
 * results and the report read, so a check id and its meaning never drift apart.
 *
 * MIIT items are those of the 2018 notice on IPv6 scale deployment (推进互联网协议第六版(IPv6)规模部署行动计划):
 * (1) networks give users IPv6, (2) top apps reach users over IPv6, (3) new terminals support
 * IPv6 by factory default, (4) app servers (CDN, cloud) reachable over IPv6.
 */

export interface Requirement {
  id: string;
  title: string;
  /** Where it comes from, for a reader who wants the source. */
  source: string;
}

export const REQUIREMENTS = {
  'MIIT-1': { id: 'MIIT-1', title: 'Mobile networks give handsets IPv6', source: 'MIIT IPv6 scale deployment action plan (2018), item 1' },
  'MIIT-2': { id: 'MIIT-2', title: 'Top apps reach users over IPv6', source: 'MIIT IPv6 scale deployment action plan (2018), item 2' },
  'MIIT-3': {
    id: 'MIIT-3',
    title: 'New handsets support IPv4/IPv6 dual stack by factory default',
    source: 'MIIT IPv6 scale deployment action plan (2018), item 3',
  },
  'MIIT-4': { id: 'MIIT-4', title: "Apps' servers and CDNs reachable over IPv6", source: 'MIIT IPv6 scale deployment action plan (2018), item 4' },
  RFC7849: { id: 'RFC7849', title: 'An IPv6 profile for 3GPP mobile devices', source: 'RFC 7849' },
  RFC6877: { id: 'RFC6877', title: '464XLAT: CLAT on the handset', source: 'RFC 6877' },
  RFC7050: { id: 'RFC7050', title: 'Discovery of the NAT64 prefix (ipv4only.arpa)', source: 'RFC 7050' },
  RFC8305: { id: 'RFC8305', title: 'Happy Eyeballs v2: prefer IPv6, fall back fast', source: 'RFC 8305' },
  RFC8981: { id: 'RFC8981', title: 'Temporary (privacy) IPv6 addresses', source: 'RFC 8981 (and RFC 7217 stable-privacy)' },
  YDT3269: { id: 'YDT3269', title: 'Terminal IPv6 test methods: IPv6 priority and fallback, address allocation', source: 'YD/T 3269' },
} as const satisfies Record<string, Requirement>;

export type RequirementId = keyof typeof REQUIREMENTS;

export type SuiteName = 'os' | 'apn' | 'apps';
export const SUITES: readonly SuiteName[] = ['os', 'apn', 'apps'];
/** The two networks a device is certified on: the IPv6-only APN and the dual-stack one. */
export type NetworkName = 'ipv6' | 'ipv4v6';
/** In the order the apps suite visits them. */
export const NETWORKS: readonly NetworkName[] = ['ipv6', 'ipv4v6'];

export interface CheckDefinition {
  id: string;
  suite: SuiteName;
  title: string;
  /**
   * The network the check is judged on: it is judged only on what was observed there in this
   * run. `each`: once per network (an app on the IPv6-only APN and on the dual-stack one).
   */
  network: NetworkName | 'each';
  /** Whether the check runs once per app of the catalogue. */
  perApp: boolean;
  requirements: RequirementId[];
}

export const CHECKS = [
  { id: 'os.apn-protocol', suite: 'os', title: "The default APN's protocol is IPV4V6", network: 'ipv4v6', perApp: false, requirements: ['MIIT-3', 'RFC7849'] },
  {
    id: 'os.apn-roaming-protocol',
    suite: 'os',
    title: "The default APN's roaming protocol is IPV4V6 or IPV6, not IP",
    network: 'ipv4v6',
    perApp: false,
    requirements: ['MIIT-3', 'RFC7849'],
  },
  {
    id: 'os.ipv6-enabled',
    suite: 'os',
    title: 'IPv6 is enabled on the cellular and Wi-Fi interfaces, router advertisements accepted',
    network: 'ipv4v6',
    perApp: false,
    requirements: ['MIIT-3', 'RFC7849'],
  },
  {
    id: 'os.privacy-addresses',
    suite: 'os',
    title: 'Temporary or stable-privacy IPv6 addresses are in use',
    network: 'ipv4v6',
    perApp: false,
    requirements: ['MIIT-3', 'RFC8981'],
  },
  {
    id: 'os.dual-stack-attach',
    suite: 'os',
    title: 'On a dual-stack APN: global IPv6 and IPv4, default routes and IPv6 DNS',
    network: 'ipv4v6',
    perApp: false,
    requirements: ['MIIT-1', 'MIIT-3', 'RFC7849'],
  },
  {
    id: 'os.resolver-prefers-ipv6',
    suite: 'os',
    title: "The system's default connect path reaches a dual-stack name over IPv6 first",
    network: 'ipv4v6',
    perApp: false,
    requirements: ['MIIT-3', 'RFC8305', 'YDT3269'],
  },
  {
    id: 'apn.ipv6-only-attach',
    suite: 'apn',
    title: 'On an IPv6-only APN: global IPv6 by SLAAC, IPv6 default route and DNS, no native IPv4',
    network: 'ipv6',
    perApp: false,
    requirements: ['MIIT-1', 'RFC7849'],
  },
  {
    id: 'apn.clat',
    suite: 'apn',
    title: 'A CLAT (v4-*, 192.0.0.0/29, IPv4 default route) only when there is no native IPv4',
    network: 'ipv6',
    perApp: false,
    requirements: ['RFC6877', 'RFC7849'],
  },
  {
    id: 'apn.nat64-prefix',
    suite: 'apn',
    title: 'The NAT64 prefix is known, and LinkProperties and RFC 7050 agree',
    network: 'ipv6',
    perApp: false,
    requirements: ['RFC7050', 'RFC6877'],
  },
  { id: 'apn.ipv4-via-clat', suite: 'apn', title: 'An IPv4-only destination is reachable', network: 'ipv6', perApp: false, requirements: ['RFC6877'] },
  {
    id: 'apps.ipv6-first',
    suite: 'apps',
    title: 'The app reaches its servers over IPv6 first',
    network: 'each',
    perApp: true,
    requirements: ['MIIT-2', 'MIIT-4', 'RFC8305'],
  },
] as const satisfies readonly CheckDefinition[];

export type CheckId = (typeof CHECKS)[number]['id'];

export function checkDefinition(id: string): CheckDefinition | undefined {
  return CHECKS.find((c) => c.id === id) as CheckDefinition | undefined;
}

/** The checks of one suite, in the order they run. */
export function checksOf<S extends SuiteName>(suite: S): Extract<(typeof CHECKS)[number], { suite: S }>[] {
  return CHECKS.filter((c): c is Extract<(typeof CHECKS)[number], { suite: S }> => c.suite === suite);
}

/** The networks a check is judged on. */
export function networksOf(check: CheckDefinition): readonly NetworkName[] {
  return check.network === 'each' ? NETWORKS : [check.network];
}
