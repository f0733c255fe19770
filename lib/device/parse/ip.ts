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
}

// 2: rmnet_data0    inet6 2001:db8::1/64 scope global temporary dynamic \       valid_lft 86397sec preferred_lft 14397sec
// 3: v4-rmnet_data0    inet 192.0.0.4/32 scope global v4-rmnet_data0\       valid_lft forever preferred_lft forever
// The name keeps its `@peer` suffix here: a lazy name before an optional `@\S+` backtracks
// quadratically on a long run of `@`, so interfaceName() cuts the suffix without a regex.
const ADDR_LINE = /^(\d+):\s+(\S+)\s+(inet6?)\s+(.*)$/;

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
 * Parses `ip -o addr show` (one line per address; `link/...` lines and malformed lines skipped).
 * Interfaces come in order of first appearance.
 * @throws DeviceOutputError when the output is not empty and not one address line is found
 */
export function parseIpAddr(text: string): InterfaceAddresses[] {
  const byIndex = new Map<number, { index: number; name: string; addresses: InterfaceAddress[] }>();
  const lines = completeLines(text);
  let found = false;
  for (const { text: line } of lines) {
    if (!withinLineCap(line)) continue;
    const match = ADDR_LINE.exec(line);
    if (!match) continue;
    const family: Family = match[3] === 'inet6' ? 6 : 4;
    // The `\` marks where `ip -o` folded the second line; ipv4 labels touch it (`v4-rmnet_data0\`).
    const tokens = match[4]!.replaceAll('\\', ' ').split(/\s+/).filter(Boolean);
    const [addressText, prefixText] = tokens[0]!.split('/') as [string, string | undefined];
    if (!isAddress(addressText, family)) continue;
    let prefixLength = prefixText === undefined ? null : checkedPrefix(prefixText, family);
    if (prefixText !== undefined && prefixLength === null) continue;
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
    const index = Number(match[1]);
    let entry = byIndex.get(index);
    if (!entry) byIndex.set(index, (entry = { index, name: interfaceName(match[2]!), addresses: [] }));
    entry.addresses.push({ family, address: addressText, prefixLength, scope, flags, validLifetime, preferredLifetime });
    found = true;
  }
  // text that is only a cut line is not an empty list: completeLines left that line out, so ask the text
  if (!found && text.trim() !== '') throw new DeviceOutputError('ip -o addr show', 'no "N: IFACE inet|inet6 ADDRESS" line');
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
  /** `main` is implicit and printed by ip as nothing: null then. */
  readonly table: string | null;
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
 * Parses `ip -6 route`, `ip -4 route` or `ip route show table all`, one route a line.
 * The family of a `default` route with neither gateway nor source comes from `family`, else
 * from `pref` (ip prints it for IPv6 only); a line whose family stays unknown is skipped.
 * @param family what the command asked for (`ip -6`: 6), when it asked for one family
 * @throws DeviceOutputError when the output is not empty and not one route line is found
 */
export function parseIpRoute(text: string, family?: Family): Route[] {
  const routes: Route[] = [];
  const lines = completeLines(text);
  for (const { text: line } of lines) {
    // default via fe80::1 dev rmnet_data0 proto ra metric 1024 expires 1798sec pref medium
    // local 192.0.0.4 dev v4-rmnet_data0 table local proto kernel scope host src 192.0.0.4
    // default dev v4-rmnet_data0 mtu 1472
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
      table: values.table ?? null,
      src: values.src ?? null,
    });
  }
  // text that is only a cut line is not an empty table
  if (routes.length === 0 && text.trim() !== '') throw new DeviceOutputError('ip route', 'no route line');
  return routes;
}
