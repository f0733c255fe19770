/**
 * DHCPv4 on a gateway's device link: dnsmasq (dnsmasq-base) serving addresses only, its DNS off
 * (`port=0`: the gateway's resolver is unbound). In `ipv6-mostly` mode it also offers option 108,
 * IPv6-Only Preferred (RFC 8925): a client that asks for it gives up IPv4 for V6ONLY_WAIT seconds
 * and uses IPv6 (with PREF64 for its CLAT). Pure: renders the file and argv; the caller writes
 * the file and starts the daemon.
 */
import path from 'node:path';
import { parseAddress } from '../../net/address.js';
import { inNamespace } from './command.js';
import { LabPlanError } from './errors.js';

/** DHCP option code of IPv6-Only Preferred (RFC 8925 section 3.1, IANA BOOTP/DHCP options). */
export const DHCP_OPTION_IPV6_ONLY_PREFERRED = 108;

/**
 * MIN_V6ONLY_WAIT (RFC 8925 section 3.4): a client waits at least this whatever it is told
 * (section 3.2), so offering less would only mislead whoever reads the config.
 */
export const MIN_V6ONLY_WAIT_S = 300;

/** What dnsmasq logs once its DHCP socket is open: startDaemon's `ready`. */
export const DNSMASQ_DHCP_READY = /DHCP, IP range/;

/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no slash or space. */
const INTERFACE_NAME = /^[A-Za-z0-9_.:-]{1,15}$/;

export interface DhcpServerOptions {
  /** The gateway's namespace. */
  namespace: string;
  /** The device link inside it; it must already hold an IPv4 address in the range's subnet. */
  interface: string;
  /** Where the config, lease and pid files go (the gateway's state directory). */
  dir: string;
  /** First and last address handed out, and the link's netmask. */
  range: { first: string; last: string; netmask: string };
  /** @default 3600 */
  leaseSeconds?: number;
  /** Option 3: the gateway's IPv4 address on the link. */
  router: string;
  /** Option 6: the resolvers clients are told (IPv4 addresses). */
  dnsServers: readonly string[];
  /**
   * V6ONLY_WAIT of option 108 (RFC 8925) in seconds, for `ipv6-mostly`; null or absent: no
   * option 108 (dual-stack, ipv4-only). dnsmasq sends it only to a client that lists 108 in its
   * parameter request list, as RFC 8925 section 3.3 requires.
   */
  ipv6OnlyPreferredWait?: number | null;
}

export interface DhcpServer {
  /** `ip netns exec NS dnsmasq --keep-in-foreground --conf-file=FILE`: dnsmasq stays the PID started. */
  argv: string[];
  /** What to write to `configFile` before starting it. */
  config: string;
  configFile: string;
  leaseFile: string;
  pidFile: string;
  ready: RegExp;
}

function ipv4(text: string, field: string): string {
  let family: number;
  try {
    family = parseAddress(text, field).family;
  } catch {
    throw new LabPlanError(field, `${JSON.stringify(text)} is not an IPv4 address`);
  }
  if (family !== 4) throw new LabPlanError(field, `${JSON.stringify(text)} is not an IPv4 address`);
  return text;
}

/** RFC 8925 section 3.1: V6ONLY_WAIT as the option's 4 bytes, in dnsmasq's colon-separated hex. */
export function v6OnlyWaitHex(seconds: number): string {
  const bytes = [seconds >>> 24, (seconds >>> 16) & 0xff, (seconds >>> 8) & 0xff, seconds & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * dnsmasq's DHCPv4-only configuration and argv for a gateway link. Logs to stderr (the daemon's
 * log file) with every DHCP exchange (`log-dhcp`): the gateway's status reads the clients from it
 * and from the lease file.
 */
/** Where dnsmasqDhcp's leases are, in its directory (`gateway status` reads them). */
export const dhcpLeaseFile = (dir: string): string => path.join(dir, 'dnsmasq-dhcp.leases');

export function dnsmasqDhcp(options: DhcpServerOptions): DhcpServer {
  if (!INTERFACE_NAME.test(options.interface)) throw new LabPlanError('dhcp.interface', `${JSON.stringify(options.interface)} is not a Linux interface name`);
  const first = ipv4(options.range.first, 'dhcp.range.first');
  const last = ipv4(options.range.last, 'dhcp.range.last');
  const netmask = ipv4(options.range.netmask, 'dhcp.range.netmask');
  const router = ipv4(options.router, 'dhcp.router');
  const dnsServers = options.dnsServers.map((s, i) => ipv4(s, `dhcp.dnsServers[${i}]`));
  const leaseSeconds = options.leaseSeconds ?? 3600;
  // dnsmasq refuses leases under 2 minutes.
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 120) throw new LabPlanError('dhcp.leaseSeconds', `${leaseSeconds}: whole seconds, at least 120`);
  const wait = options.ipv6OnlyPreferredWait ?? null;
  if (wait !== null && (!Number.isInteger(wait) || wait < MIN_V6ONLY_WAIT_S || wait > 0xffffffff)) {
    throw new LabPlanError('dhcp.ipv6OnlyPreferredWait', `${wait} s: RFC 8925 needs whole seconds, at least ${MIN_V6ONLY_WAIT_S}`);
  }
  const configFile = path.join(options.dir, 'dnsmasq-dhcp.conf');
  const leaseFile = dhcpLeaseFile(options.dir);
  const pidFile = path.join(options.dir, 'dnsmasq-dhcp.pid');
  const lines = [
    '# DHCPv4 of the v6lab gateway; DNS is unbound, so dnsmasq answers none (port=0).',
    'port=0',
    `interface=${options.interface}`,
    'bind-interfaces',
    'no-resolv',
    'no-hosts',
    // It parses what a device sends: it gives up root once its sockets, pid file and lease file
    // are open (it rewrites the lease file through the descriptor it opened as root).
    'user=nobody',
    'group=nogroup',
    'log-facility=-',
    'log-dhcp',
    'no-ping',
    // A client back with a lease from another network gets a NAK at once, not after its timeout.
    'dhcp-authoritative',
    `pid-file=${pidFile}`,
    `dhcp-leasefile=${leaseFile}`,
    `dhcp-range=${first},${last},${netmask},${leaseSeconds}`,
    `dhcp-option=option:router,${router}`,
    ...(dnsServers.length > 0 ? [`dhcp-option=option:dns-server,${dnsServers.join(',')}`] : []),
    // Hex bytes, not a number: dnsmasq would send a number in as few bytes as it fits in, and
    // RFC 8925 section 3.1 wants exactly 4.
    ...(wait === null ? [] : [`dhcp-option=${DHCP_OPTION_IPV6_ONLY_PREFERRED},${v6OnlyWaitHex(wait)}`]),
  ];
  return {
    argv: inNamespace(options.namespace, ['dnsmasq', '--keep-in-foreground', `--conf-file=${configFile}`]),
    config: `${lines.join('\n')}\n`,
    configFile,
    leaseFile,
    pidFile,
    ready: DNSMASQ_DHCP_READY,
  };
}

/** One client's lease as dnsmasq's lease file records it. */
export interface DhcpLease {
  /** Seconds since the epoch when the lease ends (0: infinite). */
  expires: number;
  mac: string;
  ipv4: string;
  /** The name the client sent, or null (`*`). */
  hostname: string | null;
}

/**
 * dnsmasq's lease file (dhcp-leasefile), for `gateway status`: the DHCPv4 clients. A malformed
 * line is skipped (dnsmasq rewrites the file whole, a reader may see it mid-write). A line:
 * `1796276058 1e:c1:be:99:fc:12 192.168.77.141 * 01:1e:c1:be:99:fc:12`
 * (expiry, MAC, address, hostname or `*`, client id or `*`).
 */
export function parseDnsmasqLeases(text: string): DhcpLease[] {
  const leases: DhcpLease[] = [];
  for (const line of text.split('\n')) {
    const [expires, mac, ipv4, hostname] = line.trim().split(/\s+/);
    if (expires === undefined || !/^\d+$/.test(expires) || mac === undefined || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) continue;
    if (ipv4 === undefined || !/^\d{1,3}(\.\d{1,3}){3}$/.test(ipv4) || hostname === undefined) continue;
    leases.push({ expires: Number(expires), mac: mac.toLowerCase(), ipv4, hostname: hostname === '*' ? null : hostname });
  }
  return leases;
}
