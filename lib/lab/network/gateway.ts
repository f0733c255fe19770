/**
 * `v6lab gateway`: the lab's carrier pieces (radvd with RDNSS, unbound DNS64, tayga NAT64,
 * nftables NAT44) as a network for real devices. An existing Ethernet-like host interface, the
 * device link (a USB Ethernet adapter a phone is cabled to, a veth whose peer is on the bridge of
 * a Wi-Fi access point, an emulator's tap), is moved into a namespace of the gateway's own for as
 * long as it is up and given back as it was at `down`:
 *
 *   device --- DEVLINK  gateway ns  wan0 <-veth-> gw0  internet ns (the world file's hosts)
 *              (v6l-ID-gw0)                            (v6l-ID-inet)
 *
 * Modes, after the client scenarios of draft-ietf-v6ops-ipv6-app-testing:
 * - `ipv6-only`: RAs with a /64 for SLAAC and RDNSS (PREF64 with --pref64), DNS64, NAT64; no IPv4.
 * - `true-ipv6-only`: the same without DNS64 and NAT64: no IPv4 destination is reachable.
 * - `dual-stack`: RAs and RDNSS, a resolver without DNS64, DHCPv4 and NAT44.
 * - `ipv6-mostly`: `ipv6-only` plus PREF64 always, and DHCPv4 with option 108 (RFC 8925), NAT44
 *   for clients that do not honour it.
 * - `ipv4-only`: DHCPv4 and NAT44; IPv6 off on the link.
 *
 * Everything it starts is recorded as the lab records its own (lab.json in the gateway's state
 * directory, by the same StateRecorder), and the device link in gateway.json before it is moved:
 * `down` is idempotent and finds the link after a crash at any step.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { canonicalAddress, parseNat64Prefix } from '../../net/address.js';
import { inNamespace, ip, ipBatch, nftLoad, run, sysctl } from './command.js';
import { nat44Ruleset, worldTopLevelDomains } from './config.js';
import { startNat64, startRadvd, startResolver } from './carrier.js';
import { daemon, deferred, logFile, makeNamespace, parallel, step, type Context } from './context.js';
import { dnsmasqDhcp } from './dhcp.js';
import { labDown, runDirOf } from './down.js';
import { LabStepError } from './errors.js';
import { listNamespaces } from './inspect.js';
import { setUpInternet } from './internet.js';
import { gatewayNamespace, handsetAddressing, internetNamespace, NAT64_PREFIX, worldAddresses, worldDnsAddresses } from './plan.js';
import { pref64SenderDaemon } from './pref64-sender.js';
import { stopProcesses } from './process.js';
import { pref64Advertisement } from './ra.js';
import { readState, StateRecorder } from './state.js';
import {
  type DeviceLinkRecord,
  GatewayInputError,
  type GatewayMode,
  type GatewayRecord,
  type HostAddresses,
  INTERFACE_NAME,
  MODE_FEATURES,
  GATEWAY_MODES,
  gatewayFile,
  readGatewayRecord,
  type UplinkRecord,
  writeGatewayRecord,
} from './gateway-record.js';
import { checkUplink, hostForwardsIpv6, hostResolvers, setUpUplink, undoUplink } from './gateway-uplink.js';
import type { LabState, WorldHost } from './types.js';

const log = createDebug('v6lab:lab:gateway');

/** What `gateway up` is asked for; validated by {@link checkGatewayPlan}. */
export interface GatewayPlan {
  stateDir: string;
  /** `[a-z0-9]{1,6}`: part of the gateway's namespace names (`v6l-ID-gw0`). */
  labId: string;
  deviceLink: string;
  mode: GatewayMode;
  /** The NAT64 prefix DNS64 synthesizes under and NAT64 translates (RFC 6052 lengths). */
  nat64Prefix: string;
  /** PREF64 (RFC 8781) in the RAs. */
  pref64: boolean;
  /** The simulated internet behind the gateway: a world file's hosts (null with `uplink`). */
  world: { hosts: WorldHost[] } | null;
  /**
   * The real internet instead: traffic leaves the host by its own routes and is masqueraded out of
   * `interface`; the resolver forwards to `dns` (the host's resolvers when empty).
   */
  uplink: { interface: string; dns: string[] } | null;
  /** A pcap file the device link is recorded into (created: it must not exist), or null. */
  capture: string | null;
  /** Take the device link even when it carries the host's default route. */
  force: boolean;
}

interface HostLink {
  ifname: string;
  address?: string;
  mtu: number;
  flags: string[];
  link_type: string;
  linkinfo?: { info_kind?: string };
}

/** The interfaces this host's default routes leave by (IPv4 and IPv6). */
async function defaultRouteInterfaces(): Promise<Set<string>> {
  const devices = new Set<string>();
  for (const family of ['-4', '-6']) {
    const routes = JSON.parse((await run(['ip', '-j', family, 'route', 'show', 'default'])) || '[]') as { dev?: string }[];
    for (const route of routes) if (route.dev !== undefined) devices.add(route.dev);
  }
  return devices;
}

/**
 * The device link as the host has it now; GatewayInputError when it is no interface the gateway
 * can take (missing, loopback, not Ethernet-like, the host's default route without --force).
 */
export async function inspectDeviceLink(name: string, force: boolean): Promise<DeviceLinkRecord> {
  if (!INTERFACE_NAME.test(name)) throw new GatewayInputError('--device-link', `${JSON.stringify(name)} is not an interface name (1-15 of A-Z a-z 0-9 _ . -)`);
  let links: HostLink[];
  try {
    links = JSON.parse(await run(['ip', '-j', '-d', 'link', 'show', 'dev', name])) as HostLink[];
  } catch {
    throw new GatewayInputError('--device-link', `no interface ${JSON.stringify(name)} in this network namespace (\`ip link show\` lists them)`);
  }
  const link = links[0];
  if (link === undefined) throw new GatewayInputError('--device-link', `no interface ${JSON.stringify(name)} in this network namespace`);
  if (link.link_type === 'loopback') throw new GatewayInputError('--device-link', `${name} is the loopback interface`);
  if (link.link_type !== 'ether' || link.address === undefined) {
    throw new GatewayInputError(
      '--device-link',
      `${name} is not Ethernet-like (link type ${link.link_type}): give a USB Ethernet adapter, a veth, a tap or a bridge port the device is on`,
    );
  }
  if (!force && (await defaultRouteInterfaces()).has(name)) {
    throw new GatewayInputError(
      '--device-link',
      `${name} carries this host's default route: taking it would cut the host off (use another interface, or --force if that is what you want)`,
    );
  }
  const [addresses] = JSON.parse(await run(['ip', '-j', 'addr', 'show', 'dev', name])) as HostAddresses[];
  return {
    name,
    mac: link.address,
    mtu: link.mtu,
    up: link.flags.includes('UP'),
    addresses: (addresses?.addr_info ?? [])
      .filter((a) => a.scope !== 'link' && a.scope !== 'host')
      .map((a) => ({ family: a.family === 'inet' ? 4 : 6, local: a.local, prefixlen: a.prefixlen })),
  };
}

/** The NAT64 prefix of `--prefix`: an RFC 6052 length, and the well-known prefix only as /96. */
export function checkNat64Prefix(text: string): string {
  let prefix: ReturnType<typeof parseNat64Prefix>;
  try {
    prefix = parseNat64Prefix(text, '--prefix');
  } catch (error) {
    throw new GatewayInputError(
      '--prefix',
      `${JSON.stringify(text)} is not a NAT64 prefix: ${(error as Error).message} (RFC 6052 lengths: /32, /40, /48, /56, /64, /96)`,
    );
  }
  const [address = ''] = text.split('/');
  const canonical = `${canonicalAddress(address)}/${prefix.length}`;
  if (canonicalAddress(address) === '64:ff9b::' && prefix.length !== 96) {
    throw new GatewayInputError('--prefix', `the well-known prefix 64:ff9b:: is used only as /96 (RFC 6052 section 2.1), not /${prefix.length}`);
  }
  return canonical;
}

/** Validates a plan before anything is made; throws GatewayInputError naming the option. */
export async function checkGatewayPlan(plan: GatewayPlan): Promise<DeviceLinkRecord> {
  if (!GATEWAY_MODES.includes(plan.mode)) throw new GatewayInputError('--mode', `${JSON.stringify(plan.mode)} is not one of ${GATEWAY_MODES.join(', ')}`);
  checkNat64Prefix(plan.nat64Prefix);
  if ((plan.world === null) === (plan.uplink === null)) throw new GatewayInputError('--uplink', 'give a world (--world) or an uplink (--uplink), one of them');
  const link = await inspectDeviceLink(plan.deviceLink, plan.force);
  if (plan.uplink !== null) await checkUplink(plan.uplink.interface, plan.deviceLink);
  return link;
}

/**
 * Brings a gateway up on `plan.deviceLink`. Refuses when a gateway is up in the state directory;
 * on any failure takes down what it made (the link given back) and throws a LabStepError naming
 * the step.
 */
export async function gatewayUp(plan: GatewayPlan): Promise<GatewayRecord> {
  const started = Date.now();
  const stateDir = path.resolve(plan.stateDir);
  // A gateway already up is said first: its device link has left the host, so checking the link
  // would only say there is no such interface.
  const existing = await readGatewayRecord(stateDir).catch(() => null);
  if (existing !== null) {
    const live = (await listNamespaces()).includes(existing.namespace);
    if (live) throw new GatewayInputError('gateway up', `a gateway is up in ${stateDir} on ${existing.deviceLink.name} (v6lab gateway down first)`);
  }
  const hostLink = await checkGatewayPlan(plan);
  const nat64Prefix = checkNat64Prefix(plan.nat64Prefix);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  // Leftovers of a crashed gateway: its link given back, its processes and namespaces removed.
  await gatewayDown(stateDir);

  const features = MODE_FEATURES[plan.mode];
  const a = handsetAddressing(plan.labId, 0);
  const gw = gatewayNamespace(plan.labId, 0);
  const link = hostLink.name;
  let uplink: UplinkRecord | null = null;
  if (plan.uplink !== null) {
    const dns = plan.uplink.dns.length > 0 ? plan.uplink.dns : await hostResolvers();
    if (dns.length === 0) {
      throw new GatewayInputError(
        '--dns',
        "the host's resolvers are all on loopback (or there are none): give the resolver the gateway forwards to with --dns ADDR",
      );
    }
    const ipv6 = await hostForwardsIpv6();
    if (!ipv6 && (plan.mode === 'true-ipv6-only' || plan.mode === 'dual-stack')) {
      throw new GatewayInputError(
        '--mode',
        `${plan.mode} through --uplink needs native IPv6 beyond the gateway, and this host does not forward IPv6 (net.ipv6.conf.all.forwarding=0, which the gateway does not change): use ipv6-only or ipv6-mostly (NAT64 for everything), or --world`,
      );
    }
    uplink = {
      interface: plan.uplink.interface,
      hostLink: `v6l${plan.labId}up`,
      nftTable: `v6lab_${plan.labId}`,
      forwarding: [],
      dns,
      ipv6,
    };
  }
  const record: GatewayRecord = {
    version: 1,
    labId: plan.labId,
    mode: plan.mode,
    namespace: gw,
    deviceLink: hostLink,
    moved: false,
    lanIpv6Prefix: features.ipv6 ? a.apnPrefix : null,
    gatewayIpv6: features.ipv6 ? a.gatewayApnIpv6 : null,
    lanIpv4Subnet: features.ipv4 ? a.handsetIpv4Subnet : null,
    gatewayIpv4: features.ipv4 ? a.gatewayApnIpv4 : null,
    dnsServers: [...(features.ipv6 ? [a.gatewayApnIpv6] : []), ...(features.ipv4 ? [a.gatewayApnIpv4] : [])],
    dns64: features.dns64,
    nat64Prefix: features.nat64 ? nat64Prefix : null,
    pref64: features.ipv6 && (features.pref64 || plan.pref64),
    v6OnlyPreferred: features.v6OnlyPreferred,
    capture: plan.capture,
    uplink,
    startedAt: new Date(started).toISOString(),
  };
  await writeGatewayRecord(stateDir, record);

  const runDir = runDirOf(stateDir);
  await mkdir(path.join(runDir, 'logs'), { recursive: true });
  const hosts = plan.world === null ? [] : worldAddresses(plan.labId, plan.world.hosts);
  const initial: LabState = {
    version: 1,
    labId: plan.labId,
    stateDir,
    runDir,
    phase: 'starting',
    startedAt: record.startedAt,
    upMs: null,
    backgroundTraffic: false,
    namespaces: [],
    netnsDirs: [],
    processes: [],
    world: { dnsServers: Object.values(worldDnsAddresses(plan.labId)), caCertFile: '', hosts },
    handsets: [],
  };
  const recorder = new StateRecorder(initial, 'owner');
  await recorder.flush();
  const ctx: Context = {
    labId: plan.labId,
    runDir,
    recorder,
    tlds: worldTopLevelDomains(hosts),
    worldDns: worldDnsAddresses(plan.labId),
    backgroundTraffic: false,
    worldServerReady: Promise.resolve(),
    failure: null,
  };
  const inet = internetNamespace(plan.labId);
  try {
    if (record.uplink !== null) {
      const upstream = record.uplink.dns;
      await step(ctx, 'namespaces', () => makeNamespace(ctx, { name: gw, role: 'gateway' }, upstream, "the gateway: the host's resolvers"));
      await setUpUplink(ctx, record, stateDir);
      await setUpGatewayNamespace(ctx, record, stateDir);
      await startGatewayServices(ctx, record);
    } else {
      await step(ctx, 'namespaces', () =>
        Promise.all([
          makeNamespace(ctx, { name: inet, role: 'internet' }, [ctx.worldDns.ipv4, ctx.worldDns.ipv6], 'the gateway internet: its authoritative DNS'),
          makeNamespace(ctx, { name: gw, role: 'gateway' }, [ctx.worldDns.ipv4, ctx.worldDns.ipv6], 'the gateway: the authoritative DNS'),
        ]),
      );
      const authReady = deferred();
      const serverReady = deferred();
      await parallel(ctx, [
        setUpInternet(ctx, hosts, authReady, serverReady).catch((error: unknown) => {
          authReady.reject(error);
          throw error;
        }),
        (async () => {
          await step(ctx, 'gateway: link to the internet', () => linkToWorld(ctx, record));
          await setUpGatewayNamespace(ctx, record, stateDir);
          await authReady.promise;
          await startGatewayServices(ctx, record);
        })(),
      ]);
    }
    if (plan.capture !== null && plan.capture !== '-') await startCapture(ctx, record, plan.capture);
  } catch (error) {
    await recorder.update((s) => void (s.phase = 'failed')).catch(() => undefined);
    await gatewayDown(stateDir).catch((downError: unknown) => log('taking down after a failed up failed too: %o', downError));
    throw error instanceof LabStepError || error instanceof GatewayInputError ? error : new LabStepError('gateway up', { cause: error });
  }
  await recorder.update((s) => {
    s.phase = 'up';
    s.upMs = Date.now() - started;
  });
  log('gateway %s up on %s in %d ms', plan.labId, link, Date.now() - started);
  return record;
}

/** wan0 to the world's internet namespace, routes both ways, and the carrier NAT44 out of wan0. */
async function linkToWorld(ctx: Context, record: GatewayRecord): Promise<void> {
  const inet = internetNamespace(ctx.labId);
  const gw = record.namespace;
  const a = handsetAddressing(ctx.labId, 0);
  await run(['ip', 'link', 'add', 'wan0', 'netns', gw, 'type', 'veth', 'peer', 'name', 'gw0', 'netns', inet]);
  await Promise.all([
    ipBatch(gw, [
      ['link', 'set', 'lo', 'up'],
      ['addr', 'add', `${a.gatewayWanIpv4}/24`, 'dev', 'wan0'],
      ['addr', 'add', `${a.gatewayWanIpv6}/64`, 'dev', 'wan0', 'nodad'],
      ['link', 'set', 'wan0', 'up'],
      ['route', 'add', 'default', 'via', a.internetGatewaySideIpv4],
    ]),
    ipBatch(inet, [
      ['addr', 'add', `${a.internetGatewaySideIpv4}/24`, 'dev', 'gw0'],
      ['addr', 'add', `${a.internetGatewaySideIpv6}/64`, 'dev', 'gw0', 'nodad'],
      ['link', 'set', 'gw0', 'up'],
      ['route', 'add', a.nat64Pool, 'via', a.gatewayWanIpv4, 'dev', 'gw0'],
      // The device's /64 is routed to the gateway: native IPv6 reaches the world's IPv6 hosts.
      ['route', 'add', a.handsetAggregate, 'via', a.gatewayWanIpv6, 'dev', 'gw0'],
    ]),
  ]);
  await ipBatch(gw, [['route', 'add', '::/0', 'via', a.internetGatewaySideIpv6, 'dev', 'wan0']], 6);
  // The carrier NAT44 of the device's IPv4 (dual-stack, IPv4-only); NAT64's pool is routed back.
  await nftLoad(gw, nat44Ruleset(a.handsetIpv4Subnet, 'wan0'));
}

/** The gateway's namespace: its kernel settings and the device link moved in. */
async function setUpGatewayNamespace(ctx: Context, record: GatewayRecord, stateDir: string): Promise<void> {
  const gw = record.namespace;
  const a = handsetAddressing(ctx.labId, 0);
  const link = record.deviceLink.name;
  const features = MODE_FEATURES[record.mode];
  await step(ctx, 'gateway: kernel settings', () =>
    sysctl(gw, 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.ip_forward=1'),
  );
  await step(ctx, `gateway: device link ${link}`, async () => {
    await run(['ip', 'link', 'set', 'dev', link, 'netns', gw]);
    record.moved = true;
    await writeGatewayRecord(stateDir, record);
    // A router does not take RAs on its LAN; IPv4-only: no IPv6 at all on the link.
    await sysctl(gw, `net.ipv6.conf.${link}.accept_ra=0`, `net.ipv6.conf.${link}.disable_ipv6=${features.ipv6 ? 0 : 1}`);
    await ipBatch(gw, [
      ['link', 'set', 'dev', link, 'up'],
      ...(features.ipv6 ? [['addr', 'add', `${a.gatewayApnIpv6}/64`, 'dev', link, 'nodad']] : []),
      ...(features.ipv4 ? [['addr', 'add', `${a.gatewayApnIpv4}/24`, 'dev', link]] : []),
    ]);
  });
}

/** The resolver (DNS64 where the mode has it), NAT64, radvd and DHCPv4 on the device link. */
async function startGatewayServices(ctx: Context, record: GatewayRecord): Promise<void> {
  const gw = record.namespace;
  const a = handsetAddressing(ctx.labId, 0);
  const link = record.deviceLink.name;
  const features = MODE_FEATURES[record.mode];
  const dir = path.join(ctx.runDir, 'gateway');
  await mkdir(dir, { recursive: true });
  const placement = { namespace: gw, dir };
  const resolver = step(ctx, `gateway: ${record.dns64 ? 'DNS64 resolver' : 'resolver'}`, () => {
    const synthAll = record.uplink !== null && !record.uplink.ipv6;
    return startResolver(ctx, {
      ...placement,
      listen: record.dnsServers,
      tlds: record.uplink === null ? ctx.tlds : [],
      upstream: record.uplink?.dns ?? [ctx.worldDns.ipv6, ctx.worldDns.ipv4],
      dns64: record.dns64 && record.nat64Prefix !== null ? { nat64Prefix: record.nat64Prefix, synthAll } : null,
    });
  });
  const nat64 = !features.nat64
    ? Promise.resolve()
    : step(ctx, 'gateway: NAT64', () =>
        startNat64(ctx, {
          ...placement,
          prefix: record.nat64Prefix ?? NAT64_PREFIX,
          pool: a.nat64Pool,
          taygaIpv4: a.nat64TaygaIpv4,
          taygaIpv6: a.nat64TaygaIpv6,
        }),
      );
  const radvd = !features.ipv6
    ? Promise.resolve()
    : step(ctx, 'gateway: router advertisements', () => startRadvd(ctx, { ...placement, interface: link, prefix: a.apnPrefix, rdnss: a.gatewayApnIpv6 }));
  const pref64 =
    !record.pref64 || record.nat64Prefix === null
      ? Promise.resolve()
      : step(ctx, 'gateway: PREF64 in router advertisements', async () => {
          // radvd 2.19 (Debian 12) cannot send PREF64: a second RA from the same router carries it,
          // with radvd's router lifetime so no client drops the default router (./ra.ts).
          await daemon(
            ctx,
            pref64SenderDaemon({
              namespace: gw,
              interface: link,
              advertisement: pref64Advertisement({ prefix: record.nat64Prefix ?? NAT64_PREFIX }),
              logFile: logFile(ctx, gw, 'pref64'),
            }),
          );
        });
  const dhcp = !features.ipv4
    ? Promise.resolve()
    : step(ctx, `gateway: DHCPv4${record.v6OnlyPreferred ? ' with option 108' : ''}`, async () => {
        const subnet = a.handsetIpv4Subnet.replace(/\.0\/24$/, '');
        const server = dnsmasqDhcp({
          namespace: gw,
          interface: link,
          dir,
          range: { first: `${subnet}.100`, last: `${subnet}.199`, netmask: '255.255.255.0' },
          router: a.gatewayApnIpv4,
          dnsServers: [a.gatewayApnIpv4],
          ipv6OnlyPreferredWait: record.v6OnlyPreferred ? V6ONLY_WAIT_S : null,
        });
        await writeFile(server.configFile, server.config);
        await daemon(ctx, { name: 'dnsmasq-dhcp', namespace: gw, argv: server.argv, logFile: logFile(ctx, gw, 'dnsmasq'), ready: server.ready });
      });
  await parallel(ctx, [resolver, nat64, radvd, pref64, dhcp]);
}

/** V6ONLY_WAIT of option 108 in `ipv6-mostly`: RFC 8925's minimum, 300 s, is what it recommends too. */
const V6ONLY_WAIT_S = 300;

/** tcpdump on the device link into `file` (created; an existing file is refused, never overwritten). */
async function startCapture(ctx: Context, record: GatewayRecord, file: string): Promise<void> {
  await step(ctx, 'gateway: capture', async () => {
    const target = path.resolve(file);
    await daemon(ctx, {
      name: 'tcpdump',
      namespace: record.namespace,
      argv: streamCaptureArgv(record),
      logFile: logFile(ctx, record.namespace, 'tcpdump'),
      stdoutFile: target,
      ready: /listening on/,
    });
  });
}

/**
 * tcpdump's capture buffer (-B, KiB), as the harness gives a device's tcpdump
 * (lib/device/capture.ts): in immediate mode the default ring holds few full-size packets, and a
 * burst while the output waits is dropped in the kernel, unseen.
 */
export const CAPTURE_BUFFER_KIB = 16 * 1024;

/** argv of a capture of the device link, pcap on stdout: `--capture FILE` (stdout the file), `--capture -` and `gateway capture`. */
export function streamCaptureArgv(record: GatewayRecord): string[] {
  return inNamespace(record.namespace, [
    'tcpdump',
    '-i',
    record.deviceLink.name,
    '-U',
    '--immediate-mode',
    '-B',
    String(CAPTURE_BUFFER_KIB),
    '-s',
    '0',
    '-w',
    '-',
  ]);
}

/**
 * Gives the device link back to this process's network namespace as the host had it (name, MAC,
 * MTU, addresses, up or down). Resolves false when it is not in the gateway's namespace (never
 * moved, or the namespace is gone: a physical device is then back already, a veth is gone with it).
 */
async function giveLinkBack(record: GatewayRecord): Promise<boolean> {
  if (!(await listNamespaces()).includes(record.namespace)) return false;
  const link = record.deviceLink;
  try {
    await ip(record.namespace, 'link', 'show', 'dev', link.name);
  } catch {
    return false;
  }
  await run(['ip', '-n', record.namespace, 'link', 'set', 'dev', link.name, 'down']);
  await run(['ip', '-n', record.namespace, 'link', 'set', 'dev', link.name, 'netns', String(process.pid)]);
  await run(['ip', 'link', 'set', 'dev', link.name, 'address', link.mac, 'mtu', String(link.mtu)]);
  for (const address of link.addresses) {
    await run(['ip', `-${address.family}`, 'addr', 'replace', `${address.local}/${address.prefixlen}`, 'dev', link.name]);
  }
  if (link.up) await run(['ip', 'link', 'set', 'dev', link.name, 'up']);
  return true;
}

/**
 * Takes the gateway of `stateDir` down: the device link given back first (a namespace is never
 * removed with it inside), then every process, namespace and file the gateway made. Idempotent;
 * resolves with what it removed.
 */
export async function gatewayDown(stateDir: string): Promise<{ removed: string[] }> {
  const removed: string[] = [];
  const record = await readGatewayRecord(stateDir);
  if (record !== null && (await giveLinkBack(record))) removed.push(`device link ${record.deviceLink.name} given back`);
  if (record?.uplink) removed.push(...(await undoUplink(record.uplink)));
  const state = await readState(stateDir).catch(() => null);
  // The PREF64 sender before radvd: an RA of its own after radvd's last would bring back, with
  // radvd's router lifetime, the default route radvd's going had withdrawn.
  const sender = (state?.processes ?? []).filter((p) => p.name === 'pref64-sender');
  for (const proc of await stopProcesses(sender)) removed.push(`process ${proc.name} (pid ${proc.pid})`);
  const labId = state?.labId ?? record?.labId;
  // The namespaces of a gateway whose lab.json was lost still carry its id.
  const down = await labDown(stateDir, labId === undefined ? {} : { labId });
  removed.push(...down.removed);
  if (record !== null) {
    await rm(gatewayFile(stateDir), { force: true });
    removed.push(gatewayFile(stateDir));
  }
  return { removed };
}
