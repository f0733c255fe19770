/**
 * Reading a namespace's live state (addresses, routes, namespaces) from iproute2's JSON output.
 * The parsers are pure; the readers run `ip -j`.
 */
import { ip, run } from './command.js';

export interface InterfaceAddress {
  family: 4 | 6;
  address: string;
  prefixLength: number;
  scope: string;
  /** An RFC 8981 temporary (privacy) address. */
  temporary: boolean;
  /** Made by SLAAC from a router advertisement (has a finite lifetime). */
  dynamic: boolean;
}

/**
 * Parses `ip -j addr show`:
 * `[{"ifindex":2,"ifname":"rmnet_data0",...,"addr_info":[{"family":"inet6","local":"2001:db8:1::5",
 * "prefixlen":64,"scope":"global","temporary":true,"dynamic":true,...}]}]`
 * A malformed entry is skipped.
 */
export function parseIpAddrJson(text: string): Map<string, InterfaceAddress[]> {
  const links = new Map<string, InterfaceAddress[]>();
  const parsed: unknown = JSON.parse(text.trim() === '' ? '[]' : text);
  if (!Array.isArray(parsed)) throw new Error('ip -j addr: not a JSON list');
  for (const link of parsed as { ifname?: unknown; addr_info?: unknown }[]) {
    if (typeof link?.ifname !== 'string') continue;
    const addresses: InterfaceAddress[] = [];
    for (const info of Array.isArray(link.addr_info) ? (link.addr_info as Record<string, unknown>[]) : []) {
      if (typeof info.local !== 'string' || typeof info.prefixlen !== 'number') continue;
      if (info.family !== 'inet' && info.family !== 'inet6') continue;
      addresses.push({
        family: info.family === 'inet' ? 4 : 6,
        address: info.local,
        prefixLength: info.prefixlen,
        scope: typeof info.scope === 'string' ? info.scope : '',
        temporary: info.temporary === true,
        dynamic: info.dynamic === true,
      });
    }
    links.set(link.ifname, addresses);
  }
  return links;
}

export interface Route {
  dst: string;
  gateway: string | null;
  dev: string | null;
  protocol: string | null;
  mtu: number | null;
}

/**
 * Parses `ip -j route show`:
 * `[{"dst":"default","gateway":"fe80::1","dev":"rmnet_data0","protocol":"ra","metric":1024,...}]`
 * `[{"dst":"default","dev":"v4-rmnet_data0","scope":"link","metrics":[{"mtu":1472}]}]`
 */
export function parseRouteJson(text: string): Route[] {
  const parsed: unknown = JSON.parse(text.trim() === '' ? '[]' : text);
  if (!Array.isArray(parsed)) throw new Error('ip -j route: not a JSON list');
  const routes: Route[] = [];
  for (const entry of parsed as Record<string, unknown>[]) {
    if (typeof entry?.dst !== 'string') continue;
    // `table all` lists the local table's `local` and `broadcast` routes: ip -j names a type only when it is not unicast.
    if (typeof entry.type === 'string' && entry.type !== 'unicast') continue;
    let mtu: number | null = null;
    for (const metric of Array.isArray(entry.metrics) ? (entry.metrics as Record<string, unknown>[]) : []) {
      if (typeof metric?.mtu === 'number') mtu = metric.mtu;
    }
    routes.push({
      dst: entry.dst,
      gateway: typeof entry.gateway === 'string' ? entry.gateway : null,
      dev: typeof entry.dev === 'string' ? entry.dev : null,
      protocol: typeof entry.protocol === 'string' ? entry.protocol : null,
      mtu,
    });
  }
  return routes;
}

/** Addresses of every interface of `ns` (or just `dev`); an interface that is gone gives []. */
export async function interfaceAddresses(ns: string, dev?: string): Promise<Map<string, InterfaceAddress[]>> {
  try {
    return parseIpAddrJson(await ip(ns, '-j', 'addr', 'show', ...(dev === undefined ? [] : ['dev', dev])));
  } catch (error) {
    if (dev !== undefined && /does not exist/.test((error as Error).message)) return new Map();
    throw error;
  }
}

export async function routes(ns: string, family: 4 | 6): Promise<Route[]> {
  // Every table: the handsets keep each network's routes in a table of its own, as Android does.
  return parseRouteJson(await ip(ns, '-j', `-${family}`, 'route', 'show', 'table', 'all'));
}

/**
 * Names of the network namespaces that exist (`ip netns list`):
 * `v6l-a1-hs0 (id: 2)` or just `v6l-a1-hs0`.
 */
export async function listNamespaces(): Promise<string[]> {
  const text = await run(['ip', 'netns', 'list']);
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}
