import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { canonicalAddress, nat64PrefixFromWellKnown, parseAddress } from '../../net/address.js';
import { inNamespace, ip, ipBatch, nftLoad, run, sysctl } from './command.js';
import { requestLease } from './dhcp-client.js';
import { nat44Ruleset, radvdConf, taygaConf, worldTopLevelDomains } from './config.js';
import { startNat64, startRadvd, startResolver } from './carrier.js';
import { Cancelled, daemon, deferred, logFile, makeNamespace, parallel, step, writeResolvConf, type Context } from './context.js';
import { labDown, NETNS_RUN, processesInNamespaces, runDirOf } from './down.js';
import { programArgv, setUpInternet } from './internet.js';
import { hostUid, usernsFile } from './userns.js';
import { LabAlreadyUpError, LabStateError, LabStepError } from './errors.js';
import { interfaceAddresses, listNamespaces, routes, type InterfaceAddress } from './inspect.js';
import type { BackgroundConfig } from './background.js';
import {
  accessPointNamespace,
  attachFamilies,
  backgroundParts,
  CLAT_INTERFACE,
  CLAT_IPV4,
  CLAT_ROUTE_MTU,
  CLAT_TAYGA_IPV4,
  gatewayNamespace,
  handsetAddressing,
  handsetNamespace,
  handsetSettings,
  inPrefix64,
  interfaceSysctls,
  internetNamespace,
  isLabNamespace,
  IMS_INTERFACE,
  MOBILE_INTERFACE,
  NAT64_PREFIX,
  validatePlan,
  WIFI_INTERFACE,
  worldAddresses,
  worldDnsAddresses,
} from './plan.js';
import { sleep, stopProcesses } from './process.js';
import { readState, StateRecorder } from './state.js';
import {
  DEFAULT_HANDSET_SETTINGS,
  NAT64_APN_TYPES,
  type ApnType,
  type HandsetNetworkSettings,
  type HandsetState,
  type LabPlan,
  type LabState,
  type PdpType,
} from './types.js';

const log = createDebug('v6lab:lab:network');

/** How long a handset may wait for its router advertisement and SLAAC addresses. */
const SLAAC_TIMEOUT_MS = 10_000;
const POLL_MS = 15;

/**
 * Rule priorities: Wi-Fi's and Ethernet's (sockets bound to them) before the mobile network's,
 * the default for the rest; all before main (32766).
 */
export const WIFI_RULE_PREF = '30000';
/** Ethernet's rules for sockets bound to it: beside Wi-Fi's (./ethernet.ts). */
export const ETHERNET_RULE_PREF = WIFI_RULE_PREF;
const MOBILE_RULE_PREF = '31000';
const CLAT_RULE_PREF = '31001';
/**
 * The default network's rule while Wi-Fi is the default (netd's "default network" rule, 22000 on
 * a phone): before mobile data's, so every socket not bound elsewhere leaves over Wi-Fi.
 */
export const DEFAULT_NETWORK_RULE_PREF = '29000';
/** The handset resolver's uid (AID_DNS) on mobile data, before the default network's rule. */
const MOBILE_DNS_RULE_PREF = '28000';
/** Android's AID_DNS (android_filesystem_config.h): the uid the NAT64 prefix discovery asks as. */
const AID_DNS = 1051;

/** The routing table netd gives an interface: 1000 + its index (RouteController's ROUTE_TABLE_OFFSET_FROM_INDEX). */
export async function routeTableOf(ns: string, dev: string): Promise<number> {
  const [link] = JSON.parse(await ip(ns, '-j', 'link', 'show', 'dev', dev)) as { ifindex: number }[];
  if (link === undefined || !Number.isInteger(link.ifindex)) throw new Error(`no interface ${dev} in ${ns}`);
  return 1000 + link.ifindex;
}

/** `10.3.0.2` -> `10.3.0.0`: the /24 an address lies in. */
const subnet24 = (ipv4: string): string => `${ipv4.split('.').slice(0, 3).join('.')}.0`;

// ---------------------------------------------------------------------------------------------
// Handsets

/** What a handset's record says of its mobile network while it has none (before an attach, after a detach). */
const DETACHED = {
  attached: false,
  attachError: null,
  families: [],
  ipv6Prefix: null,
  ipv6Addresses: [],
  ipv6Gateway: null,
  ipv4Address: null,
  ipv4Gateway: null,
  dnsServers: [],
  dns64: false,
  clat: null,
  attachedAt: null,
  background: null,
} as const satisfies Partial<HandsetState>;

function detachedHandset(labId: string, index: number, apn: ApnType, pdpType: PdpType, settings: HandsetNetworkSettings): HandsetState {
  return {
    index,
    namespace: handsetNamespace(labId, index),
    gatewayNamespace: gatewayNamespace(labId, index),
    interface: MOBILE_INTERFACE,
    apn,
    pdpType,
    ...DETACHED,
    families: [],
    ipv6Addresses: [],
    dnsServers: [],
    wifi: null,
    ims: null,
    settings,
    sysctls: [],
  };
}

/** Handset `index`'s settings as the state records them (a state written before they existed: all on). */
export function settingsOf(ctx: Context, index: number): HandsetNetworkSettings {
  return ctx.recorder.state.handsets.find((h) => h.index === index)?.settings ?? { ...DEFAULT_HANDSET_SETTINGS };
}

/** Whether handset `index` is joined to its Wi-Fi. */
function wifiJoined(ctx: Context, index: number): boolean {
  return ctx.recorder.state.handsets.find((h) => h.index === index)?.wifi?.connected === true;
}

/** Whether handset `index` is on an Ethernet link (./ethernet.ts), which is then its default network. */
export function ethernetJoined(ctx: Context, index: number): boolean {
  return ctx.recorder.state.handsets.find((h) => h.index === index)?.ethernet?.connected === true;
}

/**
 * Whether the default network of handset `index` is not mobile data (then resolv.conf holds that
 * network's resolvers): Android prefers Ethernet, then a validated Wi-Fi, over cellular
 * (NetworkRanker, by transport).
 */
function mobileIsNotDefault(ctx: Context, index: number): boolean {
  return wifiJoined(ctx, index) || ethernetJoined(ctx, index);
}

/** Applies per-interface sysctls in the handset and records them (a key already recorded is replaced). */
async function applyInterfaceSysctls(ctx: Context, hs: string, index: number, sysctls: readonly string[]): Promise<void> {
  await sysctl(hs, ...sysctls);
  const keys = new Set(sysctls.map((x) => x.split('=')[0]));
  await updateHandset(ctx, index, (h) => {
    h.sysctls = [...(h.sysctls ?? []).filter((x) => !keys.has(x.split('=')[0])), ...sysctls];
  });
}

export function updateHandset(ctx: Context, index: number, change: (h: HandsetState) => void): Promise<void> {
  return ctx.recorder.update((s) => {
    const handset = s.handsets.find((h) => h.index === index);
    if (handset) change(handset);
  });
}

/** Namespaces, links, addresses and routes of one handset and its gateway; nothing per attach. */
async function setUpHandsetBase(ctx: Context, index: number): Promise<void> {
  const inet = internetNamespace(ctx.labId);
  const gw = gatewayNamespace(ctx.labId, index);
  const hs = handsetNamespace(ctx.labId, index);
  const a = handsetAddressing(ctx.labId, index);
  const name = `handset ${index}`;
  await step(ctx, `${name}: namespaces`, () =>
    Promise.all([
      makeNamespace(ctx, { name: gw, role: 'gateway', handsetIndex: index }, [ctx.worldDns.ipv4, ctx.worldDns.ipv6], 'carrier gateway: the authoritative DNS'),
      makeNamespace(ctx, { name: hs, role: 'handset', handsetIndex: index }, [], 'not attached: no DNS server'),
    ]),
  );
  await step(ctx, `${name}: kernel settings`, () =>
    Promise.all([
      sysctl(gw, 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.ip_forward=1'),
      // Before any link exists, so rmnet_data0 and wlan0 are born with them (lab.md): RAs
      // accepted although forwarding (for the CLAT) is on, no DAD wait, the first router
      // solicitation at once rather than after up to 1 s. Privacy addresses and IPv6 itself
      // are the handset's settings, per interface, once each link exists.
      sysctl(
        hs,
        'net.ipv6.conf.default.accept_ra=2',
        'net.ipv6.conf.all.accept_ra=2',
        'net.ipv6.conf.default.accept_dad=0',
        'net.ipv6.conf.all.accept_dad=0',
        'net.ipv6.conf.default.router_solicitation_delay=0',
        'net.ipv6.conf.all.forwarding=1',
      ),
    ]),
  );
  await step(ctx, `${name}: links`, async () => {
    // Created directly inside the namespaces: nothing appears in the host's (lab.md).
    await run(['ip', 'link', 'add', 'wan0', 'netns', gw, 'type', 'veth', 'peer', 'name', `gw${index}`, 'netns', inet]);
    await run(['ip', 'link', 'add', MOBILE_INTERFACE, 'netns', hs, 'type', 'veth', 'peer', 'name', 'apn0', 'netns', gw]);
    const settings = settingsOf(ctx, index);
    await Promise.all([
      // rmnet_data0 is still down: the handset's settings are in place before its first RA.
      applyInterfaceSysctls(ctx, hs, index, interfaceSysctls(MOBILE_INTERFACE, settings.mobileIpv6, settings.mobilePrivacy)),
      ipBatch(gw, [
        ['link', 'set', 'lo', 'up'],
        ['addr', 'add', `${a.gatewayWanIpv4}/24`, 'dev', 'wan0'],
        ['addr', 'add', `${a.gatewayWanIpv6}/64`, 'dev', 'wan0', 'nodad'],
        ['link', 'set', 'wan0', 'up'],
      ]),
      ipBatch(inet, [
        ['addr', 'add', `${a.internetGatewaySideIpv4}/24`, 'dev', `gw${index}`],
        ['addr', 'add', `${a.internetGatewaySideIpv6}/64`, 'dev', `gw${index}`, 'nodad'],
        ['link', 'set', `gw${index}`, 'up'],
      ]),
      ipBatch(hs, [['link', 'set', 'lo', 'up']]),
    ]);
  });
  await step(ctx, `${name}: gateway routes and NAT44`, () =>
    Promise.all([
      ipBatch(gw, [
        ['route', 'add', 'default', 'via', a.internetGatewaySideIpv4],
        ['route', 'add', '::/0', 'via', a.internetGatewaySideIpv6, 'dev', 'wan0'],
      ]),
      ipBatch(inet, [
        ['route', 'add', a.handsetAggregate, 'via', a.gatewayWanIpv6, 'dev', `gw${index}`],
        ['route', 'add', a.nat64Pool, 'via', a.gatewayWanIpv4, 'dev', `gw${index}`],
      ]),
      nftLoad(gw, nat44Ruleset(a.handsetIpv4Subnet, 'wan0')),
    ]),
  );
}

/**
 * Waits until `dev` has a SLAAC address from `prefix`, a temporary one too when `temporary`
 * (the handset makes privacy addresses), and (with `defaultRoute`) a default route learnt from
 * the RA.
 */
async function waitForSlaac(
  ctx: Context,
  ns: string,
  dev: string,
  prefix: string,
  { defaultRoute, temporary: wantTemporary }: { defaultRoute: boolean; temporary: boolean },
): Promise<{ addresses: InterfaceAddress[]; gateway: string | null }> {
  const deadline = Date.now() + SLAAC_TIMEOUT_MS;
  let seen = 'nothing';
  for (;;) {
    if (ctx.failure !== null) throw new Cancelled();
    const addresses = ((await interfaceAddresses(ns, dev)).get(dev) ?? []).filter(
      (x) => x.family === 6 && x.scope === 'global' && inPrefix64(x.address, prefix),
    );
    const route = defaultRoute ? (await routes(ns, 6)).find((r) => r.dst === 'default' && r.dev === dev && r.gateway !== null) : undefined;
    const stable = addresses.find((x) => !x.temporary);
    const temporary = addresses.find((x) => x.temporary);
    if (stable && (temporary || !wantTemporary) && (!defaultRoute || route?.gateway)) {
      return { addresses: temporary && wantTemporary ? [stable, temporary] : [stable], gateway: route?.gateway ?? null };
    }
    seen = `addresses [${addresses.map((x) => `${x.address}${x.temporary ? ' temporary' : ''}`).join(', ')}], default route ${route ? 'yes' : 'no'}`;
    if (Date.now() >= deadline) throw new Error(`no SLAAC on ${dev} from ${prefix} after ${SLAAC_TIMEOUT_MS} ms: ${seen}`);
    await sleep(POLL_MS);
  }
}

/**
 * RFC 7050 section 3: ask the handset's own resolver (its resolv.conf, from inside its namespace)
 * for AAAA ipv4only.arpa and find 192.0.0.170/171 embedded in an answer.
 */
export async function discoverNat64Prefix(
  hs: string,
  index: number,
  server: string,
  expected: boolean,
  { onDefaultNetwork = false }: { onDefaultNetwork?: boolean } = {},
): Promise<string | null> {
  // As the handset's resolver (Android's AID_DNS), asking the mobile network's own resolver: the
  // resolver uid's rule keeps the query on mobile data even while Wi-Fi is the default network,
  // as Android binds the discovery to the network it is for. A discovery for the default network
  // itself (Ethernet's) asks as root, whose sockets follow the default network's rule.
  const dnsUid = String(hostUid(index, AID_DNS));
  const asResolver = onDefaultNetwork ? [] : ['setpriv', `--reuid=${dnsUid}`, `--regid=${dnsUid}`, '--clear-groups', '--'];
  const argv = inNamespace(hs, [...asResolver, 'dig', `@${server}`, '+short', '+time=1', '+tries=3', 'AAAA', 'ipv4only.arpa']);
  const answer = await run(argv);
  // One address a line: "64:ff9b::c000:aa" and "64:ff9b::c000:ab" (a CNAME line would be a name).
  for (const line of answer.split('\n')) {
    const text = line.trim();
    if (!text.includes(':')) continue;
    let prefix: ReturnType<typeof nat64PrefixFromWellKnown>;
    try {
      prefix = nat64PrefixFromWellKnown(parseAddress(text).bytes);
    } catch {
      continue;
    }
    if (prefix !== null) return prefix.text;
  }
  // Where the network runs DNS64, finding none is the lab's own failure; elsewhere it is the answer.
  if (!expected) return null;
  throw new Error(`no NAT64 prefix: AAAA ipv4only.arpa answered ${JSON.stringify(answer.trim())} (no DNS64 on this network?)`);
}

/**
 * Attaches handset `index` to `apn` asking for `pdpType`: what the network gives is the
 * intersection (a failed attach is recorded, not thrown). Starts the gateway's per-attach
 * daemons, waits for SLAAC, and on an IPv6-only result starts the handset's CLAT, as far as the
 * handset's settings let it: with IPv6 off on mobile data it ignores the RA (and the IPv6
 * resolver); with its CLAT off an IPv6-only attach leaves it without IPv4.
 */
async function attach(ctx: Context, index: number, apn: ApnType, pdpType: PdpType): Promise<void> {
  const gw = gatewayNamespace(ctx.labId, index);
  const hs = handsetNamespace(ctx.labId, index);
  const a = handsetAddressing(ctx.labId, index);
  const name = `handset ${index}`;
  const { families, error } = attachFamilies(apn, pdpType);
  const v4 = families.includes(4);
  const v6 = families.includes(6);
  const settings = settingsOf(ctx, index);
  /** The handset takes the IPv6 the network offers. */
  const handsetV6 = v6 && settings.mobileIpv6;
  await updateHandset(ctx, index, (h) => Object.assign(h, { apn, pdpType, attached: false, attachError: error, families }));
  if (error !== null) {
    log('%s: attach rejected: %s', name, error);
    if (!mobileIsNotDefault(ctx, index)) await writeResolvConf(hs, [], `attach to the ${apn} APN failed: no DNS server`);
    return;
  }
  const dir = path.join(ctx.runDir, `hs${index}`);
  await mkdir(dir, { recursive: true });
  // Again before the link comes up: a re-attach keeps the handset's settings whatever was
  // done to rmnet_data0 meanwhile.
  await step(ctx, `${name}: settings`, () =>
    applyInterfaceSysctls(ctx, hs, index, interfaceSysctls(MOBILE_INTERFACE, settings.mobileIpv6, settings.mobilePrivacy)),
  );

  await step(ctx, `gateway ${index}: APN link`, () =>
    ipBatch(gw, [
      ...(v6 ? [['addr', 'add', `${a.gatewayApnIpv6}/64`, 'dev', 'apn0', 'nodad']] : []),
      ...(v4 ? [['addr', 'add', `${a.gatewayApnIpv4}/24`, 'dev', 'apn0']] : []),
      ['link', 'set', 'apn0', 'up'],
    ]),
  );
  const dnsServers = [...(v6 ? [a.gatewayApnIpv6] : []), ...(v4 ? [a.gatewayApnIpv4] : [])];
  // `ipv6-true` is IPv6-only with nothing behind it for IPv4: no DNS64, no NAT64.
  const dns64 = NAT64_APN_TYPES.includes(apn);
  const placement = { namespace: gw, dir, handsetIndex: index };
  const resolver = step(ctx, `gateway ${index}: ${dns64 ? 'DNS64 resolver' : 'resolver'}`, () =>
    startResolver(ctx, {
      ...placement,
      listen: dnsServers,
      tlds: ctx.tlds,
      upstream: [ctx.worldDns.ipv6, ctx.worldDns.ipv4],
      dns64: dns64 ? { nat64Prefix: NAT64_PREFIX } : null,
    }),
  );
  const nat64 = !dns64
    ? Promise.resolve()
    : step(ctx, `gateway ${index}: NAT64`, () =>
        startNat64(ctx, { ...placement, prefix: NAT64_PREFIX, pool: a.nat64Pool, taygaIpv4: a.nat64TaygaIpv4, taygaIpv6: a.nat64TaygaIpv6 }),
      );
  const radvd = !v6
    ? Promise.resolve()
    : step(ctx, `gateway ${index}: radvd`, () => startRadvd(ctx, { ...placement, interface: 'apn0', prefix: a.apnPrefix, rdnss: a.gatewayApnIpv6 }));
  await parallel(ctx, [resolver, nat64, radvd]);

  // Nothing in Linux acts on RDNSS: write what the RA and the PDN carry (lab.md), less the IPv6
  // resolver of a handset that ignores the RA.
  const handsetDns = dnsServers.filter((server) => handsetV6 || server !== a.gatewayApnIpv6);
  // As Android's netd keeps them (RouteController): the mobile network's routes in a table of its
  // own, 1000 + its interface's index, chosen by a rule; none in main (real Pixel, Android 12:
  // test/fixtures/android-real/ip-route/tailscale-2653-pixel-a12-ip-route-show-table-0.txt).
  const mobileTable = String(await routeTableOf(hs, MOBILE_INTERFACE));
  await step(ctx, `${name}: attach`, async () => {
    if (!mobileIsNotDefault(ctx, index))
      await writeResolvConf(hs, handsetDns, `attached to the ${apn} APN as ${pdpType}${v6 && !handsetV6 ? ', IPv6 off on mobile data' : ''}`);
    // A uid rule may be added only from the network namespace's own user namespace (the kernel
    // refuses anyone else: "No permission to set uid"), where the resolver is uid 1051 itself.
    for (const family of [4, 6] as const) {
      await run([
        'nsenter',
        `--user=${usernsFile(ctx.runDir, hs)}`,
        `--net=${path.join(NETNS_RUN, hs)}`,
        '--',
        'ip',
        `-${family}`,
        'rule',
        'add',
        'pref',
        MOBILE_DNS_RULE_PREF,
        'uidrange',
        `${AID_DNS}-${AID_DNS}`,
        'lookup',
        mobileTable,
      ]);
    }
    // The RA's default route is learnt (into main, where Linux puts it) and then moved: Linux has
    // no per-interface table for RA routes as Android's kernels do (accept_ra_rt_table).
    await sysctl(hs, `net.ipv6.conf.${MOBILE_INTERFACE}.accept_ra_defrtr=1`);
    await ipBatch(hs, [
      ...(v4 ? [['addr', 'add', `${a.handsetIpv4}/24`, 'dev', MOBILE_INTERFACE]] : []),
      ['link', 'set', MOBILE_INTERFACE, 'up'],
      ...(v4
        ? [
            ['route', 'add', 'default', 'via', a.gatewayApnIpv4, 'dev', MOBILE_INTERFACE, 'table', mobileTable, 'proto', 'static'],
            ['route', 'add', `${subnet24(a.handsetIpv4)}/24`, 'dev', MOBILE_INTERFACE, 'table', mobileTable, 'proto', 'static', 'scope', 'link'],
          ]
        : []),
    ]);
    if (v4) await ipBatch(hs, [['rule', 'add', 'pref', MOBILE_RULE_PREF, 'lookup', mobileTable]], 4);
  });
  let slaac: { addresses: InterfaceAddress[]; gateway: string | null } | null = null;
  if (handsetV6) {
    slaac = await step(ctx, `${name}: router advertisement and SLAAC`, () =>
      waitForSlaac(ctx, hs, MOBILE_INTERFACE, a.apnPrefix, { defaultRoute: true, temporary: settings.mobilePrivacy }),
    );
    const gateway = slaac.gateway;
    await step(ctx, `${name}: the mobile network's table`, async () => {
      // No more RA defaults into main; the one learnt goes to the network's table, as `proto ra`.
      await sysctl(hs, `net.ipv6.conf.${MOBILE_INTERFACE}.accept_ra_defrtr=0`);
      await ipBatch(
        hs,
        [
          ['route', 'del', 'default', 'dev', MOBILE_INTERFACE],
          ...(gateway === null
            ? []
            : [['route', 'add', 'default', 'via', gateway, 'dev', MOBILE_INTERFACE, 'table', mobileTable, 'proto', 'ra', 'metric', '1024', 'pref', 'medium']]),
          ['route', 'add', a.apnPrefix, 'dev', MOBILE_INTERFACE, 'table', mobileTable, 'proto', 'kernel', 'metric', '256', 'pref', 'medium'],
          ['rule', 'add', 'pref', MOBILE_RULE_PREF, 'lookup', mobileTable],
        ],
        6,
      );
    });
  }
  let clat: HandsetState['clat'] = null;
  // Android starts a CLAT only on a network with global IPv6 and no IPv4 (Nat464Xlat.requiresClat),
  // and only when net.464xlat.cellular.enabled is not false.
  if (handsetV6 && !v4 && !settings.clat) log("%s: IPv6-only attach, CLAT off by the handset's settings: no IPv4", name);
  const nat64Prefix =
    handsetV6 && !v4 && settings.clat
      ? await step(ctx, `${name}: NAT64 prefix discovery (RFC 7050)`, async () => {
          const server = handsetDns[0];
          if (server === undefined) throw new Error('no DNS server on the mobile network to ask for ipv4only.arpa');
          return discoverNat64Prefix(hs, index, server, dns64);
        })
      : null;
  // Android starts no CLAT when discovery finds no prefix: the `ipv6-true` APN's handsets have no IPv4.
  if (handsetV6 && !v4 && settings.clat && nat64Prefix === null) log('%s: no NAT64 prefix on the %s APN: no CLAT', name, apn);
  if (nat64Prefix !== null) {
    await step(ctx, `${name}: CLAT`, () =>
      startClat(ctx, index, {
        dir,
        baseInterface: MOBILE_INTERFACE,
        baseTable: mobileTable,
        clatInterface: CLAT_INTERFACE,
        ipv4: CLAT_IPV4,
        ipv6: a.clatIpv6,
        taygaIpv6: a.clatTaygaIpv6,
        nat64Prefix,
        // After the mobile network's own rule: IPv4 that mobile data has no route for.
        rulePref: CLAT_RULE_PREF,
        processName: 'tayga-clat',
      }),
    );
    clat = { interface: CLAT_INTERFACE, ipv4: CLAT_IPV4, ipv6: a.clatIpv6, nat64Prefix };
  }
  await updateHandset(ctx, index, (h) =>
    Object.assign(h, {
      attached: true,
      ipv6Prefix: v6 ? a.apnPrefix : null,
      ipv6Addresses: slaac?.addresses.map((x) => canonicalAddress(x.address)) ?? [],
      ipv6Gateway: slaac?.gateway ?? null,
      ipv4Address: v4 ? a.handsetIpv4 : null,
      ipv4Gateway: v4 ? a.gatewayApnIpv4 : null,
      dnsServers: handsetDns,
      dns64,
      clat,
      attachedAt: new Date().toISOString(),
    } satisfies Partial<HandsetState>),
  );
}

/** One CLAT (464XLAT's customer-side translator, RFC 6877) on a network of a handset. */
export interface ClatPlacement {
  /** Where its tayga.conf goes. */
  dir: string;
  /** The network's interface (rmnet_data0, eth0) and its routing table. */
  baseInterface: string;
  baseTable: string;
  /** `v4-` and the base interface's name, as Android's ClatCoordinator names it. */
  clatInterface: string;
  /** 192.0.0.4 (RFC 7335), or the next free address of 192.0.0.4/29 when another CLAT holds it. */
  ipv4: string;
  /** The address of the network's /64 that `ipv4` is mapped to. */
  ipv6: string;
  /** tayga's own IPv6 (source of the ICMPv6 errors it makes): outside the network's /64. */
  taygaIpv6: string;
  nat64Prefix: string;
  /** The preference of the rule that sends IPv4 to the CLAT's table. */
  rulePref: string;
  processName: string;
}

/**
 * Starts a CLAT in handset `index`: tayga on its own TUN (`v4-` + the base interface) with the
 * CLAT address, a table of its own reached by a rule at `rulePref`, and the mapped IPv6 address
 * answered for on the base link (proxy NDP), as Android's clatd does.
 */
export async function startClat(ctx: Context, index: number, c: ClatPlacement): Promise<void> {
  const hs = handsetNamespace(ctx.labId, index);
  const conf = path.join(c.dir, `tayga-${c.clatInterface}.conf`);
  await writeFile(
    conf,
    taygaConf({ tunDevice: c.clatInterface, ipv4Address: CLAT_TAYGA_IPV4, ipv6Address: c.taygaIpv6, prefix: c.nat64Prefix, maps: [[c.ipv4, c.ipv6]] }),
  );
  await run(inNamespace(hs, ['tayga', '--mktun', '-c', conf]));
  await sysctl(hs, `net.ipv6.conf.${c.baseInterface}.proxy_ndp=1`, `net.ipv6.neigh.${c.baseInterface}.proxy_delay=0`);
  // The TUN stays at 1500; the route's MTU keeps translated packets within 1500 (lab.md).
  // The CLAT's interface has a table of its own too (v4-rmnet_data2's `table 1053` in the sample).
  const clatTable = String(await routeTableOf(hs, c.clatInterface));
  await ipBatch(hs, [
    ['link', 'set', c.clatInterface, 'up'],
    ['addr', 'add', `${c.ipv4}/32`, 'dev', c.clatInterface],
    ['route', 'add', 'default', 'dev', c.clatInterface, 'table', clatTable, 'proto', 'static', 'src', c.ipv4, 'mtu', String(CLAT_ROUTE_MTU)],
    ['rule', 'add', 'pref', c.rulePref, 'lookup', clatTable],
    ['route', 'add', `${c.ipv6}/128`, 'dev', c.clatInterface],
    // Also in the network's table, which the rules reach before main: its /64 would send the
    // translated replies back out of the base interface.
    ['route', 'add', `${c.ipv6}/128`, 'dev', c.clatInterface, 'table', c.baseTable],
    // The network's router asks for the mapped address on the link: the handset answers for it.
    ['neigh', 'add', 'proxy', c.ipv6, 'dev', c.baseInterface],
  ]);
  await daemon(ctx, {
    name: c.processName,
    namespace: hs,
    handsetIndex: index,
    argv: inNamespace(hs, ['stdbuf', '-oL', 'tayga', '-d', '-c', conf]),
    logFile: logFile(ctx, hs, c.processName),
    ready: /NAT64 prefix/,
  });
}

/** Ignores "does not exist" from a command that removes something already gone. */
export async function ignoringMissing(command: Promise<unknown>): Promise<void> {
  try {
    await command;
  } catch (error) {
    if (!/Cannot find device|does not exist|No such|not found/i.test((error as Error).message)) throw error;
  }
}

/** Undoes an attach: the gateway's per-attach daemons, the CLAT, the background traffic, addresses and routes. */
async function detach(ctx: Context, index: number): Promise<void> {
  const gw = gatewayNamespace(ctx.labId, index);
  const hs = handsetNamespace(ctx.labId, index);
  const name = `handset ${index}`;
  await step(ctx, `${name}: detach`, async () => {
    const perAttach = ctx.recorder.state.processes.filter((p) => p.handsetIndex === index && (p.namespace === gw || p.namespace === hs));
    // radvd first: its last RA (router lifetime 0) reaches the handset while the link is up.
    const radvd = perAttach.filter((p) => p.name === 'radvd');
    await stopProcesses(radvd);
    await stopProcesses(perAttach.filter((p) => p.name !== 'radvd'));
    // Children the daemons forked (radvd's privilege-separated half): the gateway runs nothing
    // but this attach's daemons.
    await stopProcesses(await processesInNamespaces([gw]));
    const stopped = new Set(perAttach.map((p) => `${p.pid}/${p.startTime}`));
    await ctx.recorder.update((s) => {
      s.processes = s.processes.filter((p) => !stopped.has(`${p.pid}/${p.startTime}`));
    });
    await Promise.all([ignoringMissing(ip(hs, 'link', 'del', CLAT_INTERFACE)), ignoringMissing(ip(gw, 'link', 'del', 'nat64'))]);
    // The mobile network's rules and tables (a rule whose attach never made it is not there).
    const mobileTable = String(await routeTableOf(hs, MOBILE_INTERFACE));
    for (const family of [4, 6] as const) {
      for (const pref of [MOBILE_RULE_PREF, CLAT_RULE_PREF, MOBILE_DNS_RULE_PREF]) await ignoringMissing(ip(hs, `-${family}`, 'rule', 'del', 'pref', pref));
      await ignoringMissing(ip(hs, `-${family}`, 'route', 'flush', 'table', mobileTable));
    }
    await Promise.all([
      ipBatch(hs, [
        ['link', 'set', MOBILE_INTERFACE, 'down'],
        ['addr', 'flush', 'dev', MOBILE_INTERFACE],
        ['neigh', 'flush', 'proxy', 'dev', MOBILE_INTERFACE],
      ]),
      ipBatch(gw, [
        ['link', 'set', 'apn0', 'down'],
        ['addr', 'flush', 'dev', 'apn0'],
      ]),
    ]);
    await sysctl(hs, `net.ipv6.conf.${MOBILE_INTERFACE}.proxy_ndp=0`);
    if (!mobileIsNotDefault(ctx, index)) await writeResolvConf(hs, [], 'detached: no DNS server');
    // Fresh arrays: the record is changed in place later, and DETACHED's are shared.
    await updateHandset(ctx, index, (h) => Object.assign(h, { ...DETACHED, families: [], ipv6Addresses: [], dnsServers: [] }));
  });
}

/**
 * A VoLTE handset's IMS network: rmnet_data1 with an address of the IMS PDN and its routes in a
 * table of its own, reached by no rule but its interface's (only sockets bound to it use it), as
 * a phone's IMS network has no INTERNET capability. Up for the handset's life, whatever the
 * internet APN does. The lab runs no IMS core: nothing answers behind it.
 */
async function setUpIms(ctx: Context, index: number): Promise<void> {
  const hs = handsetNamespace(ctx.labId, index);
  const gw = gatewayNamespace(ctx.labId, index);
  const a = handsetAddressing(ctx.labId, index);
  await step(ctx, `handset ${index}: IMS network`, async () => {
    // A link of its own to the carrier gateway, as the IMS PDN is a bearer of its own; the
    // gateway's end holds the P-CSCF's address and forwards nothing further.
    await run(['ip', 'link', 'add', IMS_INTERFACE, 'netns', hs, 'type', 'veth', 'peer', 'name', 'ims0', 'netns', gw]);
    await ipBatch(gw, [
      ['addr', 'add', `${a.pcscfIpv6}/64`, 'dev', 'ims0', 'nodad'],
      ['link', 'set', 'ims0', 'up'],
    ]);
    const table = String(await routeTableOf(hs, IMS_INTERFACE));
    await ipBatch(hs, [
      ['addr', 'add', `${a.handsetImsIpv6}/64`, 'dev', IMS_INTERFACE, 'nodad'],
      ['link', 'set', IMS_INTERFACE, 'up'],
      ['route', 'add', '::/0', 'via', a.pcscfIpv6, 'dev', IMS_INTERFACE, 'table', table, 'proto', 'static'],
    ]);
    await ipBatch(hs, [['rule', 'add', 'pref', WIFI_RULE_PREF, 'oif', IMS_INTERFACE, 'lookup', table]], 6);
  });
  await updateHandset(ctx, index, (h) => void (h.ims = { interface: IMS_INTERFACE, ipv6Address: a.handsetImsIpv6, pcscf: a.pcscfIpv6 }));
}

// ---------------------------------------------------------------------------------------------
// Wi-Fi

/**
 * The handset's Wi-Fi: `wlan0` beside its own access point namespace, a home router with SLAAC
 * (radvd), DHCPv4 (dnsmasq) and NAT44, dual-stack to the internet. Joined (`joined`), Wi-Fi is
 * the handset's default network (joinWifi); otherwise wlan0 stays down until Wi-Fi is turned on.
 */
async function setUpWifi(ctx: Context, index: number, joined: boolean): Promise<void> {
  const inet = internetNamespace(ctx.labId);
  const ap = accessPointNamespace(ctx.labId, index);
  const hs = handsetNamespace(ctx.labId, index);
  const a = handsetAddressing(ctx.labId, index);
  const settings = settingsOf(ctx, index);
  const name = `access point ${index}`;
  await step(ctx, `${name}: namespace`, () =>
    makeNamespace(ctx, { name: ap, role: 'access-point', handsetIndex: index }, [ctx.worldDns.ipv4, ctx.worldDns.ipv6], 'home router: the authoritative DNS'),
  );
  await step(ctx, `${name}: links`, async () => {
    await sysctl(ap, 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.ip_forward=1');
    await run(['ip', 'link', 'add', 'wan0', 'netns', ap, 'type', 'veth', 'peer', 'name', `ap${index}`, 'netns', inet]);
    await run(['ip', 'link', 'add', WIFI_INTERFACE, 'netns', hs, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', ap]);
    // Before wlan0 is up: its router's default route goes in the Wi-Fi table, not the kernel's;
    // and the handset's own Wi-Fi settings (IPv6, privacy addresses) are in place.
    await Promise.all([
      sysctl(hs, `net.ipv6.conf.${WIFI_INTERFACE}.accept_ra_defrtr=0`),
      applyInterfaceSysctls(ctx, hs, index, interfaceSysctls(WIFI_INTERFACE, settings.wifiIpv6, settings.wifiPrivacy)),
    ]);
    await Promise.all([
      ipBatch(ap, [
        ['link', 'set', 'lo', 'up'],
        ['addr', 'add', `${a.accessPointWanIpv4}/24`, 'dev', 'wan0'],
        ['addr', 'add', `${a.accessPointWanIpv6}/64`, 'dev', 'wan0', 'nodad'],
        ['addr', 'add', `${a.accessPointLanIpv4}/24`, 'dev', 'lan0'],
        ['addr', 'add', `${a.accessPointLanIpv6}/64`, 'dev', 'lan0', 'nodad'],
        ['link', 'set', 'wan0', 'up'],
        ['link', 'set', 'lan0', 'up'],
      ]),
      ipBatch(inet, [
        ['addr', 'add', `${a.internetAccessPointSideIpv4}/24`, 'dev', `ap${index}`],
        ['addr', 'add', `${a.internetAccessPointSideIpv6}/64`, 'dev', `ap${index}`, 'nodad'],
        ['link', 'set', `ap${index}`, 'up'],
      ]),
    ]);
    await Promise.all([
      ipBatch(ap, [
        ['route', 'add', 'default', 'via', a.internetAccessPointSideIpv4],
        ['route', 'add', '::/0', 'via', a.internetAccessPointSideIpv6, 'dev', 'wan0'],
      ]),
      ipBatch(inet, [['route', 'add', a.wifiPrefix, 'via', a.accessPointWanIpv6, 'dev', `ap${index}`]]),
      nftLoad(ap, nat44Ruleset('192.168.1.0/24', 'wan0')),
    ]);
  });
  const dir = path.join(ctx.runDir, `ap${index}`);
  await mkdir(dir, { recursive: true });
  await step(ctx, `${name}: radvd`, async () => {
    const conf = path.join(dir, 'radvd.conf');
    await writeFile(conf, radvdConf({ interface: 'lan0', prefix: a.wifiPrefix, rdnss: null }));
    await daemon(ctx, {
      name: 'radvd-wifi',
      namespace: ap,
      handsetIndex: index,
      argv: inNamespace(ap, ['radvd', '-n', '-m', 'stderr', '-d', '1', '-C', conf, '-p', path.join(dir, 'radvd.pid')]),
      logFile: logFile(ctx, ap, 'radvd'),
      ready: /polling for/,
    });
  });
  // DHCPv4 as a home router serves it: one lease, the address the lab planned for the handset.
  await step(ctx, `${name}: dnsmasq DHCP`, async () => {
    await daemon(ctx, {
      name: 'dhcp-wifi',
      namespace: ap,
      handsetIndex: index,
      argv: inNamespace(ap, [
        'dnsmasq',
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--port=0',
        '--user=root',
        '--group=root',
        '--interface=lan0',
        '--bind-interfaces',
        '--no-ping',
        '--log-dhcp',
        '--log-facility=-',
        `--pid-file=${path.join(dir, 'dnsmasq.pid')}`,
        `--dhcp-leasefile=${path.join(dir, 'dhcp.leases')}`,
        `--dhcp-range=${a.handsetWifiIpv4},${a.handsetWifiIpv4},255.255.255.0,12h`,
        `--dhcp-option=option:router,${a.accessPointLanIpv4}`,
      ]),
      logFile: logFile(ctx, ap, 'dnsmasq'),
      ready: /DHCP, IP range/,
    });
  });
  // Not yet joined: the record says where the access point is, and that the handset is not on it.
  await updateHandset(ctx, index, (h) => {
    h.wifi = {
      interface: WIFI_INTERFACE,
      accessPointNamespace: ap,
      ipv6Prefix: a.wifiPrefix,
      ipv6Addresses: [],
      ipv4Address: a.handsetWifiIpv4,
      ipv4Gateway: a.accessPointLanIpv4,
      connected: false,
      dnsServers: [],
    };
  });
  if (joined) await joinWifi(ctx, index);
}

/**
 * The handset joins its access point (Android connects to a saved network): wlan0 up, DHCPv4,
 * SLAAC, Wi-Fi's table and rules, and Wi-Fi as the default network (its rule before the mobile
 * network's, its resolvers in resolv.conf), as Android makes a validated Wi-Fi the default.
 */
async function joinWifi(ctx: Context, index: number): Promise<void> {
  const hs = handsetNamespace(ctx.labId, index);
  const a = handsetAddressing(ctx.labId, index);
  const settings = settingsOf(ctx, index);
  const dir = path.join(ctx.runDir, `ap${index}`);
  const ethernet = ethernetJoined(ctx, index);
  const slaac = await step(ctx, `handset ${index}: Wi-Fi`, async () => {
    // As Android keeps a routing table per network: Wi-Fi's default routes are in their own
    // table (1000 + wlan0's index, as netd numbers every network's), used by sockets bound to
    // wlan0 (or, IPv4, to its address) and, while Wi-Fi is the default network, by every other.
    const table = String(await routeTableOf(hs, WIFI_INTERFACE));
    await ipBatch(hs, [['link', 'set', WIFI_INTERFACE, 'up']]);
    // The handset asks for its IPv4 address by DHCP (./dhcp-client.ts, as on Ethernet); only the
    // address is taken from the lease: the routes belong to the Wi-Fi table below, and the lab's
    // own access point gives the address the lab planned.
    const lease = await requestLease(hs, WIFI_INTERFACE, { tries: 10, dir });
    if (lease.ipv4 !== a.handsetWifiIpv4) throw new Error(`DHCP on wlan0 leased ${lease.ipv4}, not ${a.handsetWifiIpv4}`);
    await ipBatch(hs, [
      ['addr', 'replace', `${lease.ipv4}/${lease.prefixLength}`, 'dev', WIFI_INTERFACE],
      ['route', 'replace', 'default', 'via', a.accessPointLanIpv4, 'dev', WIFI_INTERFACE, 'table', table],
      // With IPv6 off on Wi-Fi, the default network has no IPv6: unreachable, as on a phone,
      // never mobile data's IPv6 behind its back.
      settings.wifiIpv6
        ? ['route', 'replace', '::/0', 'via', a.accessPointLanIpv6, 'dev', WIFI_INTERFACE, 'onlink', 'table', table]
        : ['route', 'replace', 'unreachable', '::/0', 'table', table],
      // Before the mobile network's rule: a socket bound to Wi-Fi stays on Wi-Fi.
      ['rule', 'add', 'pref', WIFI_RULE_PREF, 'from', a.handsetWifiIpv4, 'lookup', table],
      ['rule', 'add', 'pref', WIFI_RULE_PREF, 'oif', WIFI_INTERFACE, 'lookup', table],
      // The default network: every other socket (netd's "default network" rule), unless
      // Ethernet is (Android ranks it above Wi-Fi).
      ...(ethernet ? [] : [['rule', 'add', 'pref', DEFAULT_NETWORK_RULE_PREF, 'lookup', table]]),
    ]);
    // No IPv6 `from <Wi-Fi prefix>` rule: for a socket with no source yet, Linux picks the
    // source an IPv6 source rule would match and takes the rule (FIB_RULE_FIND_SADDR).
    await ipBatch(
      hs,
      [
        ['rule', 'add', 'pref', WIFI_RULE_PREF, 'oif', WIFI_INTERFACE, 'lookup', table],
        ...(ethernet ? [] : [['rule', 'add', 'pref', DEFAULT_NETWORK_RULE_PREF, 'lookup', table]]),
      ],
      6,
    );
    // With IPv6 off on Wi-Fi the handset takes nothing of the access point's RA.
    if (!settings.wifiIpv6) return { addresses: [], gateway: null };
    return waitForSlaac(ctx, hs, WIFI_INTERFACE, a.wifiPrefix, { defaultRoute: false, temporary: settings.wifiPrivacy });
  });
  const dnsServers = settings.wifiIpv6 ? [ctx.worldDns.ipv4, ctx.worldDns.ipv6] : [ctx.worldDns.ipv4];
  if (!ethernet) await writeResolvConf(hs, dnsServers, "Wi-Fi is the default network: the home router's resolvers");
  await updateHandset(ctx, index, (h) => {
    if (h.wifi === null) return;
    h.wifi.ipv6Addresses = slaac.addresses.map((x) => canonicalAddress(x.address));
    h.wifi.connected = true;
    h.wifi.dnsServers = dnsServers;
  });
}

/**
 * The handset leaves its access point (Wi-Fi turned off): the default network goes back to mobile
 * data (its rule, its resolvers), wlan0 goes down with no address, as a phone's with Wi-Fi off.
 */
async function leaveWifi(ctx: Context, index: number): Promise<void> {
  const hs = handsetNamespace(ctx.labId, index);
  await step(ctx, `handset ${index}: Wi-Fi off`, async () => {
    const table = String(await routeTableOf(hs, WIFI_INTERFACE));
    for (const family of [4, 6] as const) {
      // Wi-Fi's own rules only: Ethernet's share their preferences.
      for (const pref of [WIFI_RULE_PREF, DEFAULT_NETWORK_RULE_PREF]) {
        for (let i = 0; i < 3; i++) await ignoringMissing(ip(hs, `-${family}`, 'rule', 'del', 'pref', pref, 'lookup', table));
      }
      await ignoringMissing(ip(hs, `-${family}`, 'route', 'flush', 'table', table));
    }
    await ipBatch(hs, [
      ['link', 'set', WIFI_INTERFACE, 'down'],
      ['addr', 'flush', 'dev', WIFI_INTERFACE],
    ]);
    const mobile = ctx.recorder.state.handsets.find((h) => h.index === index);
    if (!ethernetJoined(ctx, index))
      await writeResolvConf(hs, mobile?.dnsServers ?? [], `Wi-Fi off: mobile data (${mobile?.apn ?? '?'}) is the default network`);
  });
  await updateHandset(ctx, index, (h) => {
    if (h.wifi === null) return;
    h.wifi.ipv6Addresses = [];
    h.wifi.connected = false;
    h.wifi.dnsServers = [];
  });
}

// ---------------------------------------------------------------------------------------------
// Background traffic

/**
 * Starts handset `index`'s background traffic (background.ts) in its namespace, once the world
 * server answers; nothing when the lab has it off or the handset is not attached. The process is
 * recorded (PID and start time) before it is waited for, and goes with the next detach or `down`.
 */
async function startBackgroundTraffic(ctx: Context, index: number): Promise<void> {
  const handset = ctx.recorder.state.handsets.find((h) => h.index === index);
  if (!ctx.backgroundTraffic || !handset?.attached) return;
  await ctx.worldServerReady;
  const hs = handsetNamespace(ctx.labId, index);
  await step(ctx, `handset ${index}: background traffic`, async () => {
    const dir = path.join(ctx.runDir, `hs${index}`);
    await mkdir(dir, { recursive: true });
    const parts = backgroundParts(ctx.recorder.state.world.hosts);
    const config = path.join(dir, 'background.json');
    const caCertFile = ctx.recorder.state.world.caCertFile;
    await writeFile(config, JSON.stringify({ handsetIndex: index, caCertFile, ...parts } satisfies BackgroundConfig, null, 2));
    const proc = await daemon(ctx, {
      name: 'background',
      namespace: hs,
      handsetIndex: index,
      argv: inNamespace(hs, [...programArgv('background'), config]),
      logFile: logFile(ctx, hs, 'background'),
      ready: /background traffic started/,
      readyTimeoutMs: 15_000,
    });
    await updateHandset(ctx, index, (h) => void (h.background = { pid: proc.pid, startTime: proc.startTime, logFile: proc.logFile, ...parts }));
  });
}

// ---------------------------------------------------------------------------------------------
// The API

export function contextFor(state: LabState, recorder: StateRecorder, worldServerReady: Promise<void> = Promise.resolve()): Context {
  return {
    labId: state.labId,
    runDir: state.runDir,
    recorder,
    tlds: worldTopLevelDomains(state.world.hosts),
    worldDns: worldDnsAddresses(state.labId),
    // A state written before the flag existed: its lab had none.
    backgroundTraffic: state.backgroundTraffic ?? false,
    worldServerReady,
    failure: null,
  };
}

/**
 * Brings the lab up: the internet with the world, then every handset in parallel (gateway,
 * handset, attach, CLAT, Wi-Fi). Refuses when the lab's namespaces already exist. On any
 * failure, takes down what it made and throws a {@link LabStepError} naming the step.
 */
export async function labUp(plan: LabPlan): Promise<LabState> {
  const started = Date.now();
  validatePlan(plan);
  const stateDir = path.resolve(plan.stateDir);
  await mkdir(stateDir, { recursive: true });
  const namespaces = await listNamespaces();
  const live = namespaces.filter((n) => isLabNamespace(plan.labId, n));
  if (live.length > 0) throw new LabAlreadyUpError(plan.labId, `namespaces ${live.join(', ')} exist`);
  const previous = await readState(stateDir).catch(() => null);
  const previousLive = previous?.namespaces.filter((n) => namespaces.includes(n.name)) ?? [];
  if (previous && previousLive.length > 0) {
    throw new LabAlreadyUpError(previous.labId, `${stateDir} holds a running lab (namespaces ${previousLive.map((n) => n.name).join(', ')})`);
  }
  // Leftovers of a crashed lab (dead processes, /etc/netns directories, its run directory).
  await labDown(stateDir, { labId: plan.labId });

  const runDir = runDirOf(stateDir);
  await mkdir(path.join(runDir, 'logs'), { recursive: true });
  const hosts = worldAddresses(plan.labId, plan.world.hosts);
  const initial: LabState = {
    version: 1,
    labId: plan.labId,
    stateDir,
    runDir,
    phase: 'starting',
    startedAt: new Date(started).toISOString(),
    upMs: null,
    backgroundTraffic: plan.backgroundTraffic ?? true,
    namespaces: [],
    netnsDirs: [],
    processes: [],
    world: { dnsServers: Object.values(worldDnsAddresses(plan.labId)), caCertFile: '', hosts },
    handsets: plan.handsets.map((h) => detachedHandset(plan.labId, h.index, h.apn, h.pdpType, handsetSettings(h.settings))),
  };
  const recorder = new StateRecorder(initial, 'owner');
  await recorder.flush();
  const serverReady = deferred();
  const ctx = contextFor(initial, recorder, serverReady.promise);
  try {
    await step(ctx, 'internet: namespace', () =>
      makeNamespace(
        ctx,
        { name: internetNamespace(plan.labId), role: 'internet' },
        [ctx.worldDns.ipv4, ctx.worldDns.ipv6],
        'the lab internet: its authoritative DNS',
      ),
    );
    const authReady = deferred();
    await parallel(ctx, [
      // Any failure of the internet releases the handsets waiting for its DNS and its servers.
      setUpInternet(ctx, hosts, authReady, serverReady).catch((error: unknown) => {
        authReady.reject(error);
        serverReady.reject(error);
        throw error;
      }),
      ...plan.handsets.map(async (h) => {
        await setUpHandsetBase(ctx, h.index);
        // The handset's resolver forwards to the authoritative server, and CLAT discovery asks it.
        await authReady.promise;
        if (h.ims === true) await setUpIms(ctx, h.index);
        await attach(ctx, h.index, h.apn, h.pdpType);
        await parallel(ctx, [startBackgroundTraffic(ctx, h.index), ...((plan.wifi ?? true) ? [setUpWifi(ctx, h.index, h.wifiJoined ?? false)] : [])]);
      }),
    ]);
  } catch (error) {
    await recorder.update((s) => void (s.phase = 'failed')).catch(() => undefined);
    await labDown(stateDir).catch((downError: unknown) => log('tearing down after a failed up failed too: %o', downError));
    throw error instanceof LabStepError ? error : new LabStepError('lab up', { cause: error });
  }
  await recorder.update((s) => {
    s.phase = 'up';
    s.upMs = Date.now() - started;
  });
  log('lab %s up in %d ms', plan.labId, Date.now() - started);
  return recorder.state;
}

/**
 * Turns handset `index`'s Wi-Fi on (joins its access point, which becomes the default network) or
 * off (mobile data is the default again), as Android does for `svc wifi enable|disable`. Reads the
 * current state from `state.stateDir` and records the result there; resolves with the handset's
 * state. Idempotent; a lab without Wi-Fi has nothing to turn on (an error that says so).
 */
export async function setWifi(state: LabState, index: number, on: boolean): Promise<HandsetState> {
  const current = await readState(state.stateDir);
  if (current === null) throw new LabStateError(state.stateDir, 'no lab state: is the lab up?');
  const handset = current.handsets.find((h) => h.index === index);
  if (!handset) throw new Error(`setWifi: the lab has no handset ${index}`);
  if (handset.wifi === null) throw new Error(`handset ${index} has no Wi-Fi: the lab was brought up without it`);
  const recorder = new StateRecorder(current, 'shared');
  const ctx = contextFor(current, recorder);
  if (on && !handset.wifi.connected) await joinWifi(ctx, index);
  if (!on && handset.wifi.connected) await leaveWifi(ctx, index);
  return recorder.state.handsets.find((h) => h.index === index)!;
}

/**
 * Re-attaches handset `index` to `apn` asking for `pdpType` (another APN selected, or its APN
 * entry edited), as a modem does: the old PDN goes (addresses, routes, CLAT, background traffic),
 * the new one comes, within a few seconds, with the handset's settings as they were. Reads the current state from `state.stateDir` (the caller's copy may be
 * stale) and records the result there; resolves with the handset's new state. A rejected attach
 * (PDN type not offered) is a result (`attached: false`), not an error; a failure (a daemon that
 * would not start) leaves the handset detached and throws a {@link LabStepError}.
 */
export async function reattach(state: LabState, index: number, apn: ApnType, pdpType: PdpType): Promise<HandsetState> {
  const current = await readState(state.stateDir);
  if (current === null) throw new LabStateError(state.stateDir, 'no lab state: is the lab up?');
  if (!current.handsets.some((h) => h.index === index)) throw new Error(`reattach: the lab has no handset ${index}`);
  validatePlan({ labId: current.labId, stateDir: current.stateDir, world: { hosts: [] }, handsets: [{ index, apn, pdpType }] });
  const recorder = new StateRecorder(current, 'shared');
  const ctx = contextFor(current, recorder);
  await detach(ctx, index);
  try {
    await attach(ctx, index, apn, pdpType);
    await startBackgroundTraffic(ctx, index);
  } catch (error) {
    // Leave the handset cleanly detached rather than half attached.
    await detach(contextFor(recorder.state, recorder), index).catch((detachError: unknown) => log('detach after a failed attach: %o', detachError));
    throw error;
  }
  const handset = recorder.state.handsets.find((h) => h.index === index);
  if (!handset) throw new LabStateError(state.stateDir, `handset ${index} vanished from the state during the re-attach`);
  return handset;
}
