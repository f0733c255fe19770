/** `gateway status`: what the gateway recorded, whether its processes run, and the clients it has seen. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { canonicalAddress } from '../../net/address.js';
import { ip } from './command.js';
import { dhcpLeaseFile, parseDnsmasqLeases } from './dhcp.js';
import { runDirOf } from './down.js';
import { type GatewayMode, readGatewayRecord } from './gateway-record.js';
import { listNamespaces } from './inspect.js';
import { isRunning } from './process.js';
import { readState } from './state.js';

/** A client the gateway has seen on the device link. */
export interface GatewayClient {
  mac: string;
  /** SLAAC (the neighbour table's global addresses in the /64) and DHCPv4 leases. */
  addresses: string[];
}

export interface GatewayStatus {
  up: boolean;
  healthy: boolean;
  mode: GatewayMode | null;
  deviceLink: { name: string; mac: string } | null;
  namespace: string | null;
  /** The /64 the RAs announce. */
  prefix: string | null;
  /** The resolver the device is told of; a DNS64 in the modes that have one. */
  dns64: string | null;
  dnsServers: string[];
  nat64Prefix: string | null;
  pref64: boolean;
  ipv4: { subnet: string; gateway: string } | null;
  capture: { file: string; running: boolean } | null;
  clients: GatewayClient[];
  problems: string[];
}

interface Neighbour {
  dst: string;
  lladdr?: string;
  state?: string[];
}

/** What `gateway status` shows: the record, whether its processes run, and the clients seen. */
export async function gatewayStatus(stateDir: string): Promise<GatewayStatus> {
  const record = await readGatewayRecord(stateDir);
  const state = await readState(stateDir).catch(() => null);
  if (record === null) {
    return {
      up: false,
      healthy: true,
      mode: null,
      deviceLink: null,
      namespace: null,
      prefix: null,
      dns64: null,
      dnsServers: [],
      nat64Prefix: null,
      pref64: false,
      ipv4: null,
      capture: null,
      clients: [],
      problems: [],
    };
  }
  const problems: string[] = [];
  const live = new Set(await listNamespaces());
  for (const ns of state?.namespaces ?? []) if (!live.has(ns.name)) problems.push(`namespace ${ns.name} is gone`);
  let captureRunning = false;
  for (const proc of state?.processes ?? []) {
    const running = await isRunning(proc);
    if (proc.name === 'tcpdump') captureRunning = running;
    else if (!running) problems.push(`${proc.name} (pid ${proc.pid}) is not running`);
  }
  if (state?.phase !== 'up') problems.push(`the gateway is ${state?.phase ?? 'without its lab.json'}`);
  const clients = new Map<string, Set<string>>();
  if (live.has(record.namespace) && record.lanIpv6Prefix !== null) {
    try {
      const neighbours = JSON.parse(await ip(record.namespace, '-6', '-j', 'neigh', 'show', 'dev', record.deviceLink.name)) as Neighbour[];
      const [prefixAddress = ''] = record.lanIpv6Prefix.split('/');
      const head = canonicalAddress(prefixAddress).replace(/::$/, ':');
      for (const n of neighbours) {
        if (n.lladdr === undefined || !canonicalAddress(n.dst).startsWith(head)) continue;
        const set = clients.get(n.lladdr) ?? new Set<string>();
        set.add(canonicalAddress(n.dst));
        clients.set(n.lladdr, set);
      }
    } catch (error) {
      problems.push(`neighbours of ${record.deviceLink.name}: ${(error as Error).message}`);
    }
  }
  for (const lease of await readLeases(runDirOf(stateDir))) {
    const set = clients.get(lease.mac) ?? new Set<string>();
    set.add(lease.ip);
    clients.set(lease.mac, set);
  }
  return {
    up: true,
    healthy: problems.length === 0,
    mode: record.mode,
    deviceLink: { name: record.deviceLink.name, mac: record.deviceLink.mac },
    namespace: record.namespace,
    prefix: record.lanIpv6Prefix,
    dns64: record.dns64 ? record.gatewayIpv6 : null,
    dnsServers: record.dnsServers,
    nat64Prefix: record.nat64Prefix,
    pref64: record.pref64,
    ipv4: record.lanIpv4Subnet !== null && record.gatewayIpv4 !== null ? { subnet: record.lanIpv4Subnet, gateway: record.gatewayIpv4 } : null,
    capture: record.capture === null || record.capture === '-' ? null : { file: path.resolve(record.capture), running: captureRunning },
    clients: [...clients].map(([mac, addresses]) => ({ mac, addresses: [...addresses].sort() })).sort((x, y) => x.mac.localeCompare(y.mac)),
    problems,
  };
}

/** The DHCPv4 leases dnsmasq wrote (at most 1 MiB of them: it is the gateway's own file). */
async function readLeases(runDir: string): Promise<{ mac: string; ip: string }[]> {
  const text = await readFile(dhcpLeaseFile(path.join(runDir, 'gateway')), 'utf8').catch(() => '');
  return parseDnsmasqLeases(text.slice(0, 1 << 20)).map((lease) => ({ mac: lease.mac.toLowerCase(), ip: lease.ipv4 }));
}
