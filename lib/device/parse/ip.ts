import { parseAddress, type Family } from '../../net/address.js';
import { DeviceOutputError } from './errors.js';
import { completeLines, withinLineCap } from './lines.js';

/** Address flags iproute2 prints after `scope` (ip-address(8)). */
export const IP_ADDR_FLAGS = [
  'secondary',
  'temporary',
  'nodad',
  'optimistic',
  'dadfailed',
  'home',
  'deprecated',
  'tentative',
  'permanent',
  'dynamic',
  'mngtmpaddr',
  'noprefixroute',
  'autojoin',
  'stable-privacy',
] as const;
export type IpAddrFlag = (typeof IP_ADDR_FLAGS)[number];
const FLAG_SET: ReadonlySet<string> = new Set(IP_ADDR_FLAGS);

export interface InterfaceAddress {
  readonly family: Family;
  /** As printed by `ip` (RFC 5952 for IPv6). */
  readonly address: string;
  readonly prefixLength: number | null;
  /** `global`, `link`, `host`, `site`, or a number for a scope ip cannot name. */
  readonly scope: string | null;
  readonly flags: readonly IpAddrFlag[];
  /** Seconds, `'forever'`, or null when not printed. */
  readonly validLifetime: number | 'forever' | null;
  readonly preferredLifetime: number | 'forever' | null;
}

export interface InterfaceAddresses {
  readonly index: number;
  /** Without the `@peer` suffix. */
  readonly name: string;
  readonly addresses: readonly InterfaceAddress[];
  /**
   * What the header line of full `ip addr` says of the link (`ip -o addr` prints no header, so
   * these are absent there): its operational state (`UP`, `DOWN`, `UNKNOWN` for a tun or rmnet
   * that does not report one), its flags (`LOWER_UP` is carrier), its MTU.
   */
  readonly state?: string;
  readonly linkFlags?: readonly string[];
  readonly mtu?: number;
}

// The name keeps its `@peer` suffix in the patterns below: a lazy name before an optional `@\S+`
// backtracks quadratically on a long run of `@`, so interfaceName() cuts the suffix without a regex.
// `ip -o addr show`, one address a line (every version; what the harness runs):
// 2: rmnet_data0    inet6 2001:db8::1/64 scope global temporary dynamic \       valid_lft 86397sec preferred_lft 14397sec
// 3: v4-rmnet_data0    inet 192.0.0.4/32 scope global v4-rmnet_data0\       valid_lft forever preferred_lft forever
const ADDR_LINE = /^(\d+):\s+(\S+)\s+(inet6?)\s+(.*)$/;
// Full `ip addr` (no -o), a header per interface, then its addresses indented (Android 8.0 Galaxy
// S9+ and Android 16 Pixel samples; DOWN interfaces have a header and a link/ line only):
// 47: wlan0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP group default qlen 1000
// 5: tunl0@NONE: <NOARP> mtu 1480 qdisc noop state DOWN group default qlen 1000
const HEADER_LINE = /^(\d+):\s+(\S+):\s+<([^>\s]*)>(.*)$/;
//     inet 192.168.0.181/24 brd 192.168.0.255 scope global wlan0
//     inet6 fe80::e981:b7e3:ade4:2724/64 scope link stable-privacy
const FULL_ADDR_LINE = /^\s+(inet6?)\s+(.*)$/;
//        valid_lft forever preferred_lft forever
const LIFETIME_LINE = /^\s+valid_lft\s/;

/** `rmnet_data0@if7` -> `rmnet_data0`: the name ends at the first `@` that has text on both sides. */
function interfaceName(token: string): string {
  const at = token.indexOf('@', 1);
  return at > 0 && at < token.length - 1 ? token.slice(0, at) : token;
}

function lifetime(token: string | undefined): number | 'forever' | null {
  if (token === 'forever') return 'forever';
  const match = token === undefined ? null : /^(\d+)sec$/.exec(token);
  return match ? Number(match[1]) : null;
}

function checkedPrefix(text: string, family: Family): number | null {
  if (!/^\d{1,3}$/.test(text)) return null;
  const length = Number(text);
  return length <= (family === 4 ? 32 : 128) ? length : null;
}

function isAddress(text: string, family: Family): boolean {
  try {
    return parseAddress(text).family === family;
  } catch {
    return false;
  }
}

/**
 * One address from what follows `inet`/`inet6` (with its lifetimes, which `ip -o` folds onto the
 * line after a `\` and full `ip addr` prints on the next line), or null when malformed.
 */
function interfaceAddress(family: Family, rest: string): InterfaceAddress | null {
  // The `\` marks where `ip -o` folded the second line; ipv4 labels touch it (`v4-rmnet_data0\`).
  const tokens = rest.replaceAll('\\', ' ').split(/\s+/).filter(Boolean);
  if (tokens.length === 0) return null;
  const [addressText, prefixText] = tokens[0]!.split('/') as [string, string | undefined];
  if (!isAddress(addressText, family)) return null;
  let prefixLength = prefixText === undefined ? null : checkedPrefix(prefixText, family);
  if (prefixText !== undefined && prefixLength === null) return null;
  let scope: string | null = null;
  const flags: IpAddrFlag[] = [];
  let validLifetime: number | 'forever' | null = null;
  let preferredLifetime: number | 'forever' | null = null;
  for (let i = 1; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === 'scope') scope = tokens[++i] ?? null;
    else if (token === 'valid_lft') validLifetime = lifetime(tokens[++i]);
    else if (token === 'preferred_lft') preferredLifetime = lifetime(tokens[++i]);
    else if (token === 'peer') {
      // inet 10.0.0.1 peer 10.0.0.2/32 scope global ppp0: the length belongs to the peer
      const peerPrefix = tokens[++i]?.split('/')[1];
      if (prefixLength === null && peerPrefix !== undefined) prefixLength = checkedPrefix(peerPrefix, family);
    } else if (token === 'brd' || token === 'metric' || token === 'proto') i++;
    else if (FLAG_SET.has(token)) flags.push(token as IpAddrFlag);
    // anything else (the IPv4 label, flags of a newer ip) is left out, not guessed at
  }
  return { family, address: addressText, prefixLength, scope, flags, validLifetime, preferredLifetime };
}

interface InterfaceEntry {
  index: number;
  name: string;
  addresses: InterfaceAddress[];
  state?: string;
  linkFlags?: readonly string[];
  mtu?: number;
}

/** `mtu 1500 qdisc noop state DOWN group default qlen 1000` -> the values kept, by key. */
function headerValues(rest: string): Pick<InterfaceEntry, 'state' | 'mtu'> {
  const tokens = rest.split(/\s+/).filter(Boolean);
  const values: Pick<InterfaceEntry, 'state' | 'mtu'> = {};
  for (let i = 0; i < tokens.length - 1; i++) {
    if (tokens[i] === 'state') values.state = tokens[++i]!;
    else if (tokens[i] === 'mtu' && /^\d{1,6}$/.test(tokens[i + 1]!)) values.mtu = Number(tokens[++i]);
  }
  return values;
}

/**
 * Parses `ip -o addr show` (one line per address) or full `ip addr show` (a header line per
 * interface, its addresses indented below with their lifetimes on the next line). `link/...`
 * lines and malformed lines are skipped. Interfaces come in order of first appearance; from full
 * output every interface is listed, those without an address too (a DOWN rmnet), with its state.
 * @throws DeviceOutputError when the output is not empty and not one address or interface line is found
 */
export function parseIpAddr(text: string): InterfaceAddresses[] {
  const byIndex = new Map<number, InterfaceEntry>();
  const entry = (index: number, token: string): InterfaceEntry => {
    let found = byIndex.get(index);
    if (!found) byIndex.set(index, (found = { index, name: interfaceName(token), addresses: [] }));
    return found;
  };
  const lines = completeLines(text);
  let found = false;
  // the interface whose header came last (full output): its indented address lines follow
  let current: InterfaceEntry | null = null;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.text;
    if (!withinLineCap(line)) {
      current = null;
      continue;
    }
    const oneLine = ADDR_LINE.exec(line);
    if (oneLine) {
      current = null;
      const address = interfaceAddress(oneLine[3] === 'inet6' ? 6 : 4, oneLine[4]!);
      if (address === null) continue;
      entry(Number(oneLine[1]), oneLine[2]!).addresses.push(address);
      found = true;
      continue;
    }
    const header = HEADER_LINE.exec(line);
    if (header) {
      current = entry(Number(header[1]), header[2]!);
      current.linkFlags = header[3]!.split(',').filter(Boolean);
      Object.assign(current, headerValues(header[4]!));
      found = true;
      continue;
    }
    const indented = current === null ? null : FULL_ADDR_LINE.exec(line);
    if (current === null || indented === null) continue;
    const next = lines[n + 1]?.text;
    // the lifetimes' line belongs to this address; a cut output without it leaves them null
    const lifetimes = next !== undefined && withinLineCap(next) && LIFETIME_LINE.test(next) ? next : '';
    if (lifetimes !== '') n++;
    const address = interfaceAddress(indented[1] === 'inet6' ? 6 : 4, `${indented[2]!} ${lifetimes}`);
    if (address !== null) current.addresses.push(address);
  }
  // text that is only a cut line is not an empty list: completeLines left that line out, so ask the text
  if (!found && text.trim() !== '') throw new DeviceOutputError('ip -o addr show', 'no "N: IFACE inet|inet6 ADDRESS" line and no "N: IFACE: <FLAGS>" header');
  return [...byIndex.values()];
}

/** Route types ip prints before the destination (ip-route(8)); none means unicast. */
const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'multicast', 'anycast', 'unreachable', 'prohibit', 'blackhole', 'throw', 'nat']);
/** Keywords followed by one value that this parser does not keep. */
const SKIPPED_WITH_VALUE = new Set([
  'scope',
  'expires',
  'pref',
  'hoplimit',
  'advmss',
  'rtt',
  'rttvar',
  'window',
  'cwnd',
  'initcwnd',
  'initrwnd',
  'quickack',
  'congctl',
  'features',
  'realms',
  'tos',
  'dsfield',
  'nhid',
  'from',
  'error',
  'ssthresh',
  'reordering',
  'fastopen_no_cookie',
  'rto_min',
  'tclassid',
  'weight',
  'nexthop',
]);

export interface Route {
  readonly type: string;
  readonly family: Family;
  /** A prefix: `default` becomes `::/0` or `0.0.0.0/0`, a host route gets /128 or /32. */
  readonly destination: string;
  readonly gateway: string | null;
  readonly dev: string | null;
  readonly proto: string | null;
  readonly metric: number | null;
  readonly mtu: number | null;
  /**
   * The routing table, as ip names it: `main` when ip prints none (it leaves main out), `local`,
   * or a number (`1053`: Android puts each network's routes in a table of its own, see
   * networkDefaultRoutes).
   */
  readonly table: string;
  readonly src: string | null;
}

function familyOf(text: string): Family | null {
  try {
    return parseAddress(text).family;
  } catch {
    return null;
  }
}

/**
 * Parses `ip -6 route`, `ip -4 route`, `ip -6 route show table all` or `ip route show table 0`,
 * one route a line; each route keeps its type (unicast when ip prints none) and table.
 * On Android the main table is empty: every network's routes, its defaults too, are in a table
 * of its own (netd's policy routing, Android 5 and later), so read `table all` and find a
 * network's defaults with networkDefaultRoutes. iproute2 lists IPv4 only when a table is named
 * without a family (`ip route show table all`), so ask `ip -6 ... table all` for IPv6.
 * The family of a `default` route with neither gateway nor source comes from `family`, else
 * from `pref` (ip prints it for IPv6 only); a line whose family stays unknown is skipped.
 * @param family what the command asked for (`ip -6`: 6, `ip -4` or `ip route show table all`: 4)
 * @throws DeviceOutputError when the output is not empty and not one route line is found
 */
export function parseIpRoute(text: string, family?: Family): Route[] {
  const routes: Route[] = [];
  const lines = completeLines(text);
  for (const { text: line } of lines) {
    // One line a route, `TYPE DESTINATION key value... flag...`, read by key, never by position.
    // Android 12 Pixel, `ip route show table 0`: a network's defaults in its own table, the CLAT's too
    //   default via 192.0.0.4 dev v4-rmnet_data2 table 1053 proto static
    // Android 11, `ip -6 route show table all`: a VPN's default, an RA prefix with its lifetime
    //   default dev tun0 table 1101 proto static metric 1024 pref medium
    //   2602:248:7b4a:ce60::/64 dev wlan0 table 1030 proto kernel metric 256 expires 86219sec pref medium
    // The local table, a route type first (every Linux; this line is the virtual handset's):
    //   local 192.0.0.4 dev v4-rmnet_data0 table local proto kernel scope host src 192.0.0.4
    // unreachable, throw, prohibit and blackhole routes (RouteInfo's RTN_THROW/RTN_UNREACHABLE from
    // netd; a VPN's excluded routes, VpnService.Builder.excludeRoute, Android 13 and later) may have
    // no dev; no real sample yet, so they are read by the ip-route(8) grammar like any other line.
    // Defaults in main (the virtual handsets before issue 15, and non-Android Linux):
    //   default via fe80::1 dev rmnet_data0 proto ra metric 1024 expires 1798sec pref medium
    //   default dev v4-rmnet_data0 mtu 1472
    if (!withinLineCap(line)) continue;
    const tokens = line.trim().split(/\s+/).filter(Boolean);
    if (tokens.length < 2) continue;
    let i = 0;
    const type = ROUTE_TYPES.has(tokens[0]!) ? tokens[i++]! : 'unicast';
    const destinationText = tokens[i++]!;
    const values: { via?: string; dev?: string; proto?: string; metric?: string; mtu?: string; table?: string; src?: string } = {};
    let pref = false;
    let malformed = false;
    for (; i < tokens.length; i++) {
      const token = tokens[i]!;
      if (token === 'via' || token === 'dev' || token === 'proto' || token === 'metric' || token === 'table' || token === 'src') {
        const value = tokens[++i];
        if (value === undefined) malformed = true;
        else if (token === 'via' && (value === 'inet' || value === 'inet6'))
          values.via = tokens[++i]; // via inet 192.0.0.1 (RFC 5549 form)
        else values[token] = value;
      } else if (token === 'mtu') {
        if (tokens[i + 1] === 'lock') i++; // mtu lock 1400
        values.mtu = tokens[++i];
      } else if (SKIPPED_WITH_VALUE.has(token)) {
        if (token === 'pref') pref = true;
        i++;
      }
      // single-word flags (onlink, linkdown, dead, pervasive, offload) carry nothing kept here
    }
    if (malformed) continue;
    const [destinationAddress, destinationLength] = destinationText.split('/') as [string, string | undefined];
    const destinationFamily = destinationText === 'default' ? null : familyOf(destinationAddress);
    if (destinationText !== 'default' && destinationFamily === null) continue;
    const gatewayFamily = values.via === undefined ? null : familyOf(values.via);
    if (values.via !== undefined && gatewayFamily === null) continue;
    const srcFamily = values.src === undefined ? null : familyOf(values.src);
    // A 6-in-4 gateway (RFC 5549) says nothing of the destination's family, so it comes last.
    const routeFamily = destinationFamily ?? srcFamily ?? family ?? (pref ? 6 : null) ?? gatewayFamily;
    if (routeFamily === null) continue;
    const maxLength = routeFamily === 4 ? 32 : 128;
    let destination: string;
    if (destinationText === 'default') destination = routeFamily === 4 ? '0.0.0.0/0' : '::/0';
    else if (destinationLength === undefined) destination = `${destinationAddress}/${maxLength}`;
    else if (/^\d{1,3}$/.test(destinationLength) && Number(destinationLength) <= maxLength) destination = destinationText;
    else continue;
    const metric = values.metric !== undefined && /^\d+$/.test(values.metric) ? Number(values.metric) : null;
    const mtu = values.mtu !== undefined && /^\d+$/.test(values.mtu) ? Number(values.mtu) : null;
    if ((values.metric !== undefined && metric === null) || (values.mtu !== undefined && mtu === null)) continue;
    routes.push({
      type,
      family: routeFamily,
      destination,
      gateway: values.via ?? null,
      dev: values.dev ?? null,
      proto: values.proto ?? null,
      metric,
      mtu,
      table: values.table ?? 'main',
      src: values.src ?? null,
    });
  }
  // text that is only a cut line is not an empty table
  if (routes.length === 0 && text.trim() !== '') throw new DeviceOutputError('ip route', 'no route line');
  return routes;
}

/** IPv4 and IPv6 default destinations, as parseIpRoute writes them. */
const DEFAULT_DESTINATIONS: ReadonlySet<string> = new Set(['::/0', '0.0.0.0/0']);

/**
 * The default routes of one network, in whatever table they are: those through its interface and
 * through its CLAT (`v4-` + the interface, Android's 464XLAT naming since Android 4.3), so
 * `rmnet_data2` and `v4-rmnet_data2` both find the IPv6 default via the router and the IPv4
 * default via the CLAT. Only routes that carry packets out count: an `unreachable` or `throw`
 * default is no way out, and neither is one in the local table.
 * @param interfaceName the network's interface (`rmnet_data2`) or its CLAT's (`v4-rmnet_data2`)
 */
export function networkDefaultRoutes(routes: readonly Route[], interfaceName: string): Route[] {
  const base = interfaceName.startsWith('v4-') ? interfaceName.slice(3) : interfaceName;
  const devices = new Set([base, `v4-${base}`]);
  return routes.filter((r) => DEFAULT_DESTINATIONS.has(r.destination) && r.type === 'unicast' && r.table !== 'local' && r.dev !== null && devices.has(r.dev));
}
