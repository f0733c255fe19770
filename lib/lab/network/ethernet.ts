/**
 * A virtual handset's Ethernet, as Android's EthernetTracker gives a phone one (a USB Ethernet
 * adapter, the emulator's extra NIC): an `eth*` cable that the host moves into the handset's
 * namespace (the far end of a veth whose near end is a v6lab gateway's device link; never a link
 * the handset's own root made: `cablesAmong`) is brought up and provisioned, and becomes the
 * default network, as Android ranks Ethernet above Wi-Fi and cellular. The supervisor watches the namespace's links and calls joinEthernet when
 * such a link has carrier, leaveEthernet when it loses it or goes.
 *
 * Provisioning follows what Android's IpClient does on any network, from what the link offers:
 * - IPv6 by SLAAC from the router advertisement; its RDNSS servers (RFC 8106) and PREF64
 *   (RFC 8781) read from the RA itself, captured with tcpdump (Linux hands neither to anything the
 *   lab could read otherwise);
 * - IPv4 by DHCPv4 (busybox udhcpc), when a server answers;
 * - routes in the network's own table (1000 + ifindex, as netd numbers them) reached by rules;
 * - on an IPv6-only link with a NAT64 prefix (PREF64 first, else RFC 7050 discovery), a CLAT
 *   (`v4-eth0`), as Nat464Xlat starts one on Ethernet as on cellular and Wi-Fi.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { canonicalAddress, formatAddress, parsePrefix, prefixOf } from '../../net/address.js';
import { parseRouterAdvertisement } from '../../net/pref64.js';
import { inNamespace, ip, ipBatch, sysctl } from './command.js';
import { NoLeaseError, requestLease, type Lease } from './dhcp-client.js';
import { step, writeResolvConf, type Context } from './context.js';
import { interfaceAddresses, routes } from './inspect.js';
import { handsetNamespace, isLabNamespace, WIFI_INTERFACE } from './plan.js';
import { sleep, stopProcesses } from './process.js';
import { readState, StateRecorder } from './state.js';
import type { EthernetState, HandsetState, LabState } from './types.js';
import {
  contextFor,
  DEFAULT_NETWORK_RULE_PREF,
  discoverNat64Prefix,
  ETHERNET_RULE_PREF,
  ignoringMissing,
  routeTableOf,
  startClat,
  updateHandset,
} from './up.js';
import { LabStateError } from './errors.js';

const log = createDebug('v6lab:lab:ethernet');

/** The interfaces EthernetTracker takes (config_ethernet_iface_regex, `eth\d` in AOSP's defaults). */
export const ETHERNET_INTERFACE = /^eth\d{1,3}$/;

/**
 * A link of `ip -j -d link show`, as far as the cable rule reads it: `linkinfo.info_kind` is the
 * driver that made it (veth, dummy, ...), `link_netnsid` the namespace id (as this namespace
 * numbers it) of a veth's peer when that peer is in another namespace.
 */
export interface LinkDetail {
  ifname: string;
  flags?: string[];
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
}

/** A namespace id of `ip -j netns list-id` and, when it is one in the host's /run/netns, its name. */
export interface NamespaceId {
  nsid: number;
  name?: string;
}

/**
 * The links of a handset's namespace that are Ethernet cables, in the order given: `eth*` veths
 * whose peer is in a namespace the host named (/run/netns), other than the lab's own (its
 * handsets, gateways, access points, internet: `isLabsOwn`).
 *
 * Why this rule: the handset's root holds CAP_NET_ADMIN in its own network namespace, so it can
 * make an `eth0` of any kind (a dummy, a veth pair, a tun) or rename its wlan0 to one, and every
 * link's name, kind, MAC and flags are its to choose. What it cannot make is a veth whose peer
 * lies in a namespace the host named: it has no capability over those namespaces (they belong to
 * the host's user namespace, not its own) and no way to add a name to the host's /run/netns (the
 * mount namespace is the host's); a namespace it makes itself has no name there, and `netns
 * list-id` resolves names by asking the kernel for the id of each /run/netns entry, so none can
 * be claimed. The peer of a cable the host moved in (the far end of a v6lab gateway's device
 * link) is in such a namespace. The lab's own namespaces are excluded because the handset's
 * wlan0, rmnet_data0 and IMS links also have their peers there: renamed, they are still no cable.
 * A veth whose far end stays in the host's own namespace is refused too (that namespace has no
 * name in /run/netns); a v6lab gateway always moves its device link into a named one.
 */
export function cablesAmong(links: readonly LinkDetail[], namespaceIds: readonly NamespaceId[], isLabsOwn: (namespace: string) => boolean): LinkDetail[] {
  const named = new Map(namespaceIds.flatMap((n) => (n.name === undefined ? [] : [[n.nsid, n.name] as const])));
  return links.filter((link) => {
    if (!ETHERNET_INTERFACE.test(link.ifname) || link.linkinfo?.info_kind !== 'veth' || link.link_netnsid === undefined) return false;
    const peer = named.get(link.link_netnsid);
    return peer !== undefined && !isLabsOwn(peer);
  });
}

/** The Ethernet cables of handset `index` of lab `labId` now (cablesAmong on its namespace's links). */
export async function cables(labId: string, index: number): Promise<LinkDetail[]> {
  const hs = handsetNamespace(labId, index);
  const [links, ids] = await Promise.all([ip(hs, '-j', '-d', 'link', 'show'), ip(hs, '-j', 'netns', 'list-id')]);
  return cablesAmong(JSON.parse(links || '[]') as LinkDetail[], JSON.parse(ids || '[]') as NamespaceId[], (name) => isLabNamespace(labId, name));
}

/** joinEthernet was asked for a link that is not a cable (cablesAmong): nothing of it is touched. */
export class NotACableError extends Error {
  constructor(
    readonly namespace: string,
    readonly iface: string,
  ) {
    super(`ethernet: ${iface} in ${namespace} is not a cable the host moved in (a veth whose peer is in a namespace the host named): not provisioned`);
    this.name = 'NotACableError';
  }
}

/** The error of a link with nothing at its far end. */
export const NO_CARRIER = 'no carrier: nothing is at the far end of the link';

/** How long the link may take to show carrier once up. */
const CARRIER_TIMEOUT_MS = 3_000;
/** How long to wait for a router advertisement and SLAAC (an IPv4-only link sends none). */
const SLAAC_TIMEOUT_MS = 6_000;
/** DHCPv4: three DISCOVERs a second apart, as an IPv6-only link has no server to answer them. */
const DHCP_TRIES = 3;
const POLL_MS = 20;
/** The CLAT's IPv4 range (ClatCoordinator: 192.0.0.4/29, the first address no interface holds). */
const CLAT_IPV4_CANDIDATES = ['192.0.0.4', '192.0.0.5', '192.0.0.6', '192.0.0.7'];

// ---------------------------------------------------------------------------------------------
// Pure parts

/**
 * The packets of `tcpdump -x` text output: each packet's first line (a timestamp and a summary),
 * then `\t0x0000:  6000 0000 ...` lines of its bytes from the network header on (-x leaves out
 * the link header). Lines of no packet are skipped.
 */
export function packetsFromTcpdumpHex(text: string): Uint8Array[] {
  const packets: Uint8Array[] = [];
  let current: number[] | null = null;
  for (const line of text.split('\n')) {
    const hex = /^\s+0x[0-9a-f]{4}:\s+((?:[0-9a-f]{2,4}\s?)+)/.exec(line);
    if (hex === null) {
      if (line.trim() !== '') {
        if (current !== null && current.length > 0) packets.push(Uint8Array.from(current));
        current = [];
      }
      continue;
    }
    if (current === null) continue;
    for (const group of hex[1]!.trim().split(/\s+/)) for (let i = 0; i < group.length; i += 2) current.push(Number.parseInt(group.slice(i, i + 2), 16));
  }
  if (current !== null && current.length > 0) packets.push(Uint8Array.from(current));
  return packets;
}

/** What the router advertisements on a link said: its router, DNS servers and NAT64 prefix. */
export interface RouterAdvertisementFacts {
  /** The source (link-local) address of the first RA. */
  router: string | null;
  /** RDNSS servers, in the order the RAs gave them, each once. */
  rdnss: string[];
  /** The newest PREF64 option's prefix with a lifetime above 0. */
  pref64: string | null;
  /** RAs that broke RFC 4861 and were discarded, with the byte offset and reason. */
  discarded: string[];
}

const IPV6_HEADER = 40;
const NEXT_HEADER_ICMPV6 = 58;

/** The facts of every IPv6 router advertisement among `packets` (IPv6 packets from their header on). */
export function routerAdvertisementFacts(packets: readonly Uint8Array[]): RouterAdvertisementFacts {
  const facts: RouterAdvertisementFacts = { router: null, rdnss: [], pref64: null, discarded: [] };
  for (const packet of packets) {
    if (packet.length < IPV6_HEADER + 1 || packet[0]! >> 4 !== 6 || packet[6] !== NEXT_HEADER_ICMPV6 || packet[IPV6_HEADER] !== 134) continue;
    // The payload length bounds the message: tcpdump prints no trailing bytes, but a snap may cut.
    const end = Math.min(packet.length, IPV6_HEADER + ((packet[4]! << 8) | packet[5]!));
    let ra: ReturnType<typeof parseRouterAdvertisement>;
    try {
      ra = parseRouterAdvertisement(packet, IPV6_HEADER, end);
    } catch (error) {
      facts.discarded.push((error as Error).message);
      continue;
    }
    facts.router ??= formatAddress(packet, 8, 6);
    for (const server of ra.rdnss) if (!facts.rdnss.includes(server)) facts.rdnss.push(server);
    for (const option of ra.pref64) facts.pref64 = option.lifetimeSeconds > 0 ? option.prefix.text : null;
  }
  return facts;
}

/** An address of the /64 with an interface identifier from `seed` (never an EUI-64 one). */
function addressIn(prefix: string, seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  const bytes = parsePrefix(prefix).bytes.slice();
  bytes.set(digest.subarray(0, 8), 8);
  // Not ..ff:fe.. (an EUI-64 identifier like the handset's SLAAC address).
  bytes[11] = 0xc1;
  return formatAddress(bytes, 0, 6);
}

// ---------------------------------------------------------------------------------------------
// The tracker

/** tcpdump printing every RA on `dev` in hex, started before the link comes up. */
async function listenForRouterAdvertisements(hs: string, dev: string): Promise<{ stop: () => Promise<Uint8Array[]> }> {
  const argv = inNamespace(hs, ['tcpdump', '-i', dev, '-n', '-l', '-x', '-s', '1500', 'icmp6 and ip6[40] == 134']);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    // Bounded: a few RAs are all that is wanted.
    if (out.length < 256 * 1024) out += chunk;
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
      if (/listening on/.test(err)) resolve();
    });
    child.on('error', reject);
    void exited.then(() => reject(new Error(`tcpdump on ${dev} in ${hs} exited: ${err.trim()}`)));
  });
  return {
    stop: async () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
      await exited;
      return packetsFromTcpdumpHex(out);
    },
  };
}

async function hasCarrier(hs: string, dev: string): Promise<boolean> {
  const [link] = JSON.parse(await ip(hs, '-j', 'link', 'show', 'dev', dev)) as { flags?: string[] }[];
  return link?.flags?.includes('LOWER_UP') === true;
}

/** A SLAAC address and the RA's default route on `dev`, or null when none came in time. */
async function waitForAnySlaac(hs: string, dev: string): Promise<{ address: string; temporary: string | null; router: string } | null> {
  const deadline = Date.now() + SLAAC_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const addresses = ((await interfaceAddresses(hs, dev)).get(dev) ?? []).filter((x) => x.family === 6 && x.scope === 'global');
    const stable = addresses.find((x) => !x.temporary);
    const route = (await routes(hs, 6)).find((r) => r.dst === 'default' && r.dev === dev && r.gateway !== null);
    if (stable && route?.gateway) {
      // The privacy address comes with the stable one (use_tempaddr=2); give it a moment.
      const temporary = addresses.find((x) => x.temporary) ?? null;
      return { address: canonicalAddress(stable.address), temporary: temporary && canonicalAddress(temporary.address), router: route.gateway };
    }
    await sleep(POLL_MS);
  }
  return null;
}

/** DHCPv4 on `dev` (./dhcp-client.ts, shared with Wi-Fi); null when no server answers (an IPv6-only link) or its lease is refused. */
async function leaseOrNone(hs: string, dev: string, dir: string): Promise<Lease | null> {
  try {
    return await requestLease(hs, dev, { tries: DHCP_TRIES, dir });
  } catch (error) {
    if (!(error instanceof NoLeaseError)) throw error;
    log('%s', error.message);
    return null;
  }
}

/** The first CLAT address of 192.0.0.4/29 no interface of the handset holds. */
async function freeClatIpv4(hs: string): Promise<string> {
  const held = new Set([...(await interfaceAddresses(hs)).values()].flat().map((x) => x.address));
  const free = CLAT_IPV4_CANDIDATES.find((x) => !held.has(x));
  if (free === undefined) throw new Error(`no free CLAT address in 192.0.0.4/29 in ${hs}`);
  return free;
}

/** What a handset's record says of an Ethernet link that is not provisioned. */
function unprovisioned(iface: string, error: string | null, routeTables: number[] = []): EthernetState {
  return {
    interface: iface,
    connected: false,
    ipv6Prefix: null,
    ipv6Addresses: [],
    ipv6Gateway: null,
    ipv4Address: null,
    ipv4Gateway: null,
    dnsServers: [],
    nat64Prefix: null,
    nat64PrefixSource: null,
    clat: null,
    error,
    routeTables,
  };
}

/** The lab state, a recorder of its changes and a step context, for one change to a handset. */
async function session(state: LabState, index: number): Promise<{ ctx: Context; handset: HandsetState }> {
  const current = await readState(state.stateDir);
  if (current === null) throw new LabStateError(state.stateDir, 'no lab state: is the lab up?');
  const handset = current.handsets.find((h) => h.index === index);
  if (!handset) throw new Error(`ethernet: the lab has no handset ${index}`);
  return { ctx: contextFor(current, new StateRecorder(current, 'shared')), handset };
}

/**
 * Brings up and provisions `iface` of handset `index`, and makes it the default network when it
 * gets an address. Resolves with the recorded state (also when nothing answered on the link:
 * `connected` false and `error` saying why). Idempotent per link: an earlier provisioning of it
 * is undone first.
 */
export async function joinEthernet(state: LabState, index: number, iface: string): Promise<EthernetState> {
  if (!ETHERNET_INTERFACE.test(iface)) throw new Error(`ethernet: ${JSON.stringify(iface)} is not an Ethernet interface name (eth0, eth1, ...)`);
  // Checked here too, not only by the supervisor's choice: what is not a cable is never touched.
  if (!(await cables(state.labId, index)).some((link) => link.ifname === iface)) throw new NotACableError(handsetNamespace(state.labId, index), iface);
  if ((await session(state, index)).handset.ethernet?.connected) await leaveEthernet(state, index, 'provisioned again');
  const { ctx, handset } = await session(state, index);
  const hs = handsetNamespace(ctx.labId, index);
  const dir = path.join(ctx.runDir, `hs${index}-${iface}`);
  await mkdir(dir, { recursive: true });
  const name = `handset ${index}: Ethernet ${iface}`;
  return step(ctx, name, async () => {
    // Before IPv6 starts on the link: RAs taken though forwarding is on (for a CLAT), the
    // default router learnt into main and then moved to the network's table, privacy addresses
    // made as Android makes them on every network. IPv6 stays off until the RA listener runs.
    await sysctl(
      hs,
      `net.ipv6.conf.${iface}.disable_ipv6=1`,
      `net.ipv6.conf.${iface}.accept_ra=2`,
      `net.ipv6.conf.${iface}.accept_ra_defrtr=1`,
      `net.ipv6.conf.${iface}.use_tempaddr=2`,
      `net.ipv6.conf.${iface}.accept_dad=0`,
      `net.ipv6.conf.${iface}.router_solicitation_delay=0`,
    );
    await ipBatch(hs, [
      ['addr', 'flush', 'dev', iface, 'scope', 'global'],
      ['link', 'set', iface, 'up'],
    ]);
    const carrierBy = Date.now() + CARRIER_TIMEOUT_MS;
    while (!(await hasCarrier(hs, iface))) {
      if (Date.now() >= carrierBy) {
        const record = unprovisioned(iface, NO_CARRIER);
        await updateHandset(ctx, index, (h) => void (h.ethernet = record));
        return record;
      }
      await sleep(POLL_MS);
    }
    // tcpdump listens only on a link that is up; IPv6 turned on then sends the router
    // solicitation, answered at once.
    const listener = await listenForRouterAdvertisements(hs, iface);
    try {
      await sysctl(hs, `net.ipv6.conf.${iface}.disable_ipv6=0`);
      const [lease, slaac] = await Promise.all([leaseOrNone(hs, iface, dir), waitForAnySlaac(hs, iface)]);
      // The router's second RA (PREF64 beside radvd's, as the v6lab gateway sends it) answers the
      // same solicitation; a moment for it to arrive.
      if (slaac !== null) await sleep(300);
      const table = await routeTableOf(hs, iface);
      try {
        return await provision(ctx, index, handset, iface, dir, lease, slaac, routerAdvertisementFacts(await listener.stop()));
      } catch (error) {
        // Nothing half made stays: what was added is taken away, the link recorded as not provisioned.
        const failed = unprovisioned(iface, `provisioning failed: ${(error as Error).message}`, [table]);
        await updateHandset(ctx, index, (h) => void (h.ethernet = { ...failed, connected: true }));
        await leaveEthernet(ctx.recorder.state, index, failed.error!).catch((undo: unknown) => log('undoing a failed provisioning: %o', undo));
        throw error;
      }
    } finally {
      await listener.stop();
    }
  });
}

async function provision(
  ctx: Context,
  index: number,
  handset: HandsetState,
  iface: string,
  dir: string,
  lease: Lease | null,
  slaac: Awaited<ReturnType<typeof waitForAnySlaac>>,
  ra: RouterAdvertisementFacts,
): Promise<EthernetState> {
  const hs = handsetNamespace(ctx.labId, index);
  const table = await routeTableOf(hs, iface);
  if (lease === null && slaac === null) {
    const record = unprovisioned(iface, 'no address: neither a router advertisement nor a DHCPv4 server answered', [table]);
    await updateHandset(ctx, index, (h) => void (h.ethernet = record));
    return record;
  }
  for (const reason of ra.discarded) log('%s: discarded a router advertisement: %s', iface, reason);
  const t = String(table);
  const prefix = slaac === null ? null : prefixOf(slaac.address, 64);
  await sysctl(hs, `net.ipv6.conf.${iface}.accept_ra_defrtr=0`);
  const v4: string[][] =
    lease === null
      ? []
      : [
          // The lease was checked (parseLease) before any of it got here.
          ['addr', 'replace', `${lease.ipv4}/${lease.prefixLength}`, 'dev', iface],
          ...(lease.router === null ? [] : [['route', 'replace', 'default', 'via', lease.router, 'dev', iface, 'table', t]]),
          ['route', 'replace', lease.subnet, 'dev', iface, 'table', t, 'scope', 'link'],
          ['rule', 'add', 'pref', ETHERNET_RULE_PREF, 'from', lease.ipv4, 'lookup', t],
        ];
  await ipBatch(hs, [...v4, ['rule', 'add', 'pref', ETHERNET_RULE_PREF, 'oif', iface, 'lookup', t]], 4);
  if (slaac !== null && prefix !== null) {
    await ipBatch(
      hs,
      [
        // The RA's default route, learnt into main, moves to the network's table (as mobile data's).
        ['route', 'del', 'default', 'dev', iface],
        ['route', 'add', 'default', 'via', slaac.router, 'dev', iface, 'table', t, 'proto', 'ra', 'metric', '1024', 'pref', 'medium'],
        ['route', 'add', prefix, 'dev', iface, 'table', t, 'proto', 'kernel', 'metric', '256', 'pref', 'medium'],
      ],
      6,
    );
    await ipBatch(hs, [['rule', 'add', 'pref', ETHERNET_RULE_PREF, 'oif', iface, 'lookup', t]], 6);
  }
  // Ethernet is the default network: its rule takes the place of Wi-Fi's (Android ranks it higher).
  const wifiTable = handset.wifi?.connected ? String(await routeTableOf(hs, WIFI_INTERFACE)) : null;
  for (const family of [4, 6] as const) {
    if (wifiTable !== null) await ignoringMissing(ip(hs, `-${family}`, 'rule', 'del', 'pref', DEFAULT_NETWORK_RULE_PREF, 'lookup', wifiTable));
    await ipBatch(hs, [['rule', 'add', 'pref', DEFAULT_NETWORK_RULE_PREF, 'lookup', t]], family);
  }
  const dnsServers = [...ra.rdnss, ...(lease?.dns ?? [])];
  await writeResolvConf(hs, dnsServers, `Ethernet (${iface}) is the default network: its RA's RDNSS and DHCP's servers`);

  // Nat464Xlat: a CLAT on a network with IPv6 and no IPv4, once a NAT64 prefix is known.
  let nat64Prefix: string | null = null;
  let nat64PrefixSource: EthernetState['nat64PrefixSource'] = null;
  let clat: EthernetState['clat'] = null;
  const tables = [table];
  if (lease === null && slaac !== null && prefix !== null) {
    if (ra.pref64 !== null) {
      nat64Prefix = ra.pref64;
      nat64PrefixSource = 'pref64';
    } else if (dnsServers[0] !== undefined) {
      nat64Prefix = await discoverNat64Prefix(hs, index, dnsServers[0], false, { onDefaultNetwork: true });
      nat64PrefixSource = nat64Prefix === null ? null : 'rfc7050';
    }
    if (nat64Prefix !== null) {
      const clatInterface = `v4-${iface}`;
      const ipv4 = await freeClatIpv4(hs);
      const ipv6 = addressIn(prefix, `${ctx.labId}/${index}/${iface}/clat`);
      await startClat(ctx, index, {
        dir,
        baseInterface: iface,
        baseTable: t,
        clatInterface,
        ipv4,
        ipv6,
        taygaIpv6: addressIn(prefix, `${ctx.labId}/${index}/${iface}/tayga`),
        nat64Prefix,
        // The default network's second table (netd adds the stacked interface's beside the base's).
        rulePref: DEFAULT_NETWORK_RULE_PREF,
        processName: `tayga-clat-${iface}`,
      });
      tables.push(await routeTableOf(hs, clatInterface));
      clat = { interface: clatInterface, ipv4, ipv6, nat64Prefix };
    }
  }
  // A family the default network lacks is unreachable, never mobile data's behind its back.
  if (lease === null && clat === null) await ipBatch(hs, [['rule', 'add', 'pref', DEFAULT_NETWORK_RULE_PREF, 'unreachable']], 4);
  if (slaac === null) await ipBatch(hs, [['rule', 'add', 'pref', DEFAULT_NETWORK_RULE_PREF, 'unreachable']], 6);
  const record: EthernetState = {
    interface: iface,
    connected: true,
    ipv6Prefix: prefix,
    ipv6Addresses: slaac === null ? [] : [slaac.address, ...(slaac.temporary === null ? [] : [slaac.temporary])],
    ipv6Gateway: slaac?.router ?? null,
    ipv4Address: lease?.ipv4 ?? null,
    ipv4Gateway: lease?.router ?? null,
    dnsServers,
    nat64Prefix,
    nat64PrefixSource,
    clat,
    error: null,
    routeTables: tables,
  };
  await updateHandset(ctx, index, (h) => void (h.ethernet = record));
  log('%s: Ethernet %s provisioned: %o', hs, iface, record);
  return record;
}

/**
 * Undoes handset `index`'s Ethernet (its link lost carrier or went): its CLAT, rules, tables and
 * addresses; the default network goes back to Wi-Fi when joined, else mobile data. `why` is
 * recorded as the link's error. Nothing to undo is no error.
 */
export async function leaveEthernet(state: LabState, index: number, why: string): Promise<void> {
  const { ctx, handset } = await session(state, index);
  const ethernet = handset.ethernet;
  if (ethernet === null || ethernet === undefined) return;
  const hs = handsetNamespace(ctx.labId, index);
  const iface = ethernet.interface;
  await step(ctx, `handset ${index}: Ethernet ${iface} gone`, async () => {
    const clat = ctx.recorder.state.processes.filter((p) => p.handsetIndex === index && p.name === `tayga-clat-${iface}`);
    await stopProcesses(clat);
    const stopped = new Set(clat.map((p) => `${p.pid}/${p.startTime}`));
    await ctx.recorder.update((s) => {
      s.processes = s.processes.filter((p) => !stopped.has(`${p.pid}/${p.startTime}`));
    });
    await ignoringMissing(ip(hs, 'link', 'del', `v4-${iface}`));
    for (const family of [4, 6] as const) {
      for (const table of ethernet.routeTables.map(String)) {
        for (const pref of [ETHERNET_RULE_PREF, DEFAULT_NETWORK_RULE_PREF]) {
          for (let i = 0; i < 3; i++) await ignoringMissing(ip(hs, `-${family}`, 'rule', 'del', 'pref', pref, 'lookup', table));
        }
        await ignoringMissing(ip(hs, `-${family}`, 'route', 'flush', 'table', table));
      }
      await ignoringMissing(ip(hs, `-${family}`, 'rule', 'del', 'pref', DEFAULT_NETWORK_RULE_PREF, 'unreachable'));
    }
    const links = JSON.parse(await ip(hs, '-j', 'link', 'show')) as { ifname: string }[];
    if (links.some((l) => l.ifname === iface)) {
      await ipBatch(hs, [
        ['addr', 'flush', 'dev', iface, 'scope', 'global'],
        ['neigh', 'flush', 'proxy', 'dev', iface],
      ]);
    }
    // The default network goes back to Wi-Fi (when joined) or mobile data, with its resolvers.
    if (handset.wifi?.connected) {
      const wifiTable = String(await routeTableOf(hs, WIFI_INTERFACE));
      for (const family of [4, 6] as const) await ipBatch(hs, [['rule', 'add', 'pref', DEFAULT_NETWORK_RULE_PREF, 'lookup', wifiTable]], family);
      await writeResolvConf(hs, handset.wifi.dnsServers, "Ethernet gone: Wi-Fi is the default network, the home router's resolvers");
    } else {
      await writeResolvConf(hs, handset.dnsServers, `Ethernet gone: mobile data (${handset.apn}) is the default network`);
    }
  });
  await updateHandset(ctx, index, (h) => void (h.ethernet = unprovisioned(iface, why)));
}
