/**
 * The daemons' configuration files, rendered from the lab's addresses: pure functions. Every
 * value put in a file is an address the lab computed or a host name validated by validatePlan.
 */
import type { WorldHostAddresses } from './types.js';

// RFC 7050 section 2.2: ipv4only.arpa has only these A records, so a DNS64 synthesizes AAAA
// answers that reveal its NAT64 prefix.
const IPV4ONLY_ARPA_ADDRESSES = ['192.0.0.170', '192.0.0.171'];

/**
 * The world as one root zone: every host's A/AAAA, and ipv4only.arpa. Authoritative for "." so a
 * name outside the world gets NXDOMAIN at once (there is no real internet to ask). A host whose
 * `dns` leaves a record out has none of that type (NOERROR with no answer, as a zone that lacks
 * it answers): its address is still there, reachable by literal. Behind the `ipv6` APN, DNS64
 * then synthesizes the AAAA a `no-aaaa` host lacks.
 */
export function rootZone(hosts: readonly WorldHostAddresses[], dns: { ipv4: string; ipv6: string }): string {
  const lines = [
    '$TTL 60',
    '. IN SOA ns.v6lab. hostmaster.v6lab. 1 3600 600 86400 60',
    '. IN NS ns.v6lab.',
    `ns.v6lab. IN A ${dns.ipv4}`,
    `ns.v6lab. IN AAAA ${dns.ipv6}`,
    ...IPV4ONLY_ARPA_ADDRESSES.map((a) => `ipv4only.arpa. IN A ${a}`),
  ];
  for (const host of hosts) {
    if (host.ipv4 !== null && host.dnsOmits !== 'A') lines.push(`${host.name}. IN A ${host.ipv4}`);
    if (host.ipv6 !== null && host.dnsOmits !== 'AAAA') lines.push(`${host.name}. IN AAAA ${host.ipv6}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Top-level domains of the world's names: unbound answers some (test., invalid., onion., ...)
 * itself as RFC 6761 local zones, before any auth-zone or forwarder, unless told `nodefault`.
 */
export function worldTopLevelDomains(hosts: readonly { name: string }[]): string[] {
  return [...new Set(['v6lab', ...hosts.map((h) => h.name.split('.').pop()!)])].sort();
}

function unboundServer(dir: string, listen: readonly string[], tlds: readonly string[]): string {
  return `server:
${listen.map((a) => `  interface: ${a}\n`).join('')}  port: 53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: ""
  use-syslog: no
  logfile: ""
  log-time-ascii: yes
  verbosity: 1
  num-threads: 1
  so-reuseport: no
  outgoing-range: 64
  num-queries-per-thread: 64
  msg-cache-size: 1m
  rrset-cache-size: 1m
  access-control: 0.0.0.0/0 allow
  access-control: ::/0 allow
  do-not-query-localhost: no
${tlds.map((tld) => `  local-zone: "${tld}." nodefault\n`).join('')}`;
}

/** The internet's authoritative server (unbound serving one auth-zone for "."). */
export function authoritativeUnboundConf(dir: string, listen: readonly string[], tlds: readonly string[], zoneFile: string): string {
  return `${unboundServer(dir, listen, tlds)}  module-config: "iterator"
auth-zone:
  name: "."
  zonefile: "${zoneFile}"
  for-downstream: yes
  for-upstream: no
  fallback-enabled: no
remote-control:
  control-enable: no
`;
}

/**
 * A carrier resolver in a gateway, forwarding everything to the authoritative server. With
 * `dns64`, AAAA answers are synthesized from A records under `nat64Prefix` (RFC 6147): the
 * `ipv6` APN's resolver.
 */
export function resolverUnboundConf(
  dir: string,
  listen: readonly string[],
  tlds: readonly string[],
  forwardTo: readonly string[],
  dns64: { nat64Prefix: string; synthAll?: boolean } | null,
): string {
  // synthAll: every AAAA synthesized, real ones ignored (a gateway whose host does not forward
  // IPv6: all traffic beyond it goes through NAT64).
  const modules = dns64
    ? `  module-config: "dns64 iterator"\n  dns64-prefix: ${dns64.nat64Prefix}\n${dns64.synthAll === true ? '  dns64-synthall: yes\n' : ''}`
    : '  module-config: "iterator"\n';
  return `${unboundServer(dir, listen, tlds)}${modules}forward-zone:
  name: "."
${forwardTo.map((a) => `  forward-addr: ${a}\n`).join('')}remote-control:
  control-enable: no
`;
}

export interface RadvdOptions {
  interface: string;
  prefix: string;
  rdnss: string | null;
}

/**
 * Router advertisements every 3-10 s with a 30 min router lifetime (the default 30 s is too
 * short: the handset would lose its default route between slow RAs) and RDNSS (RFC 8106).
 */
export function radvdConf(options: RadvdOptions): string {
  const rdnss = options.rdnss === null ? '' : `  RDNSS ${options.rdnss} {\n    AdvRDNSSLifetime 1800;\n  };\n`;
  return `interface ${options.interface} {
  AdvSendAdvert on;
  MinRtrAdvInterval 3;
  MaxRtrAdvInterval 10;
  AdvDefaultLifetime 1800;
  prefix ${options.prefix} {
    AdvOnLink on;
    AdvAutonomous on;
  };
${rdnss}};
`;
}

export interface TaygaOptions {
  tunDevice: string;
  ipv4Address: string;
  ipv6Address: string;
  prefix: string;
  dynamicPool?: string;
  /** Static maps `IPv4 IPv6`. */
  maps?: readonly (readonly [string, string])[];
}

export function taygaConf(options: TaygaOptions): string {
  const lines = [
    `tun-device ${options.tunDevice}`,
    `ipv4-addr ${options.ipv4Address}`,
    // Required with the well-known prefix (lab.md): tayga's own source for ICMPv6 errors.
    `ipv6-addr ${options.ipv6Address}`,
    `prefix ${options.prefix}`,
  ];
  if (options.dynamicPool !== undefined) lines.push(`dynamic-pool ${options.dynamicPool}`);
  for (const [v4, v6] of options.maps ?? []) lines.push(`map ${v4} ${v6}`);
  return `${lines.join('\n')}\n`;
}

/** Carrier-grade NAT44 of a gateway or home router: `source` leaves `wan0` as wan0's address. */
export function nat44Ruleset(source: string, outInterface: string): string {
  return `table ip v6lab {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "${outInterface}" ip saddr ${source} masquerade
  }
}
`;
}

/** The IPv6 path MTU of a `pmtud-blackhole` host: IPv6's minimum (RFC 8200 section 5), as on a tunnel hop. */
export const PMTUD_BLACKHOLE_MTU = 1280;

/**
 * The internet's failures that nftables makes, or null when the world has none: a
 * `pmtud-blackhole` host's IPv6 packets larger than its path MTU vanish as they leave (a hop of
 * that MTU whose ICMPv6 Packet Too Big is filtered on the way back), and any Packet Too Big sent to
 * it is dropped too, so its TCP keeps sending full-sized segments and the transfer stalls.
 */
export function worldFailureRuleset(hosts: readonly WorldHostAddresses[]): string | null {
  const pmtud = hosts.filter((h) => h.ipv6 !== null && h.ipv6Failure === 'pmtud-blackhole').map((h) => h.ipv6!);
  if (pmtud.length === 0) return null;
  const set = `{ ${pmtud.join(', ')} }`;
  return `table ip6 v6lab-world {
  chain output {
    type filter hook output priority filter; policy accept;
    ip6 saddr ${set} meta length > ${PMTUD_BLACKHOLE_MTU} drop
  }
  chain input {
    type filter hook input priority filter; policy accept;
    icmpv6 type packet-too-big ip6 daddr ${set} drop
  }
}
`;
}

export function resolvConf(servers: readonly string[], comment: string): string {
  return `# ${comment}\n${servers.map((s) => `nameserver ${s}\n`).join('')}`;
}
