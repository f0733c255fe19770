/**
 * `dumpsys connectivity` on a virtual handset: the handset's networks as the Android version its
 * profile declares prints them, from the live state of its network namespace (`ip -j`).
 *
 * Every shape follows a real sample or AOSP's source (devices/lab/README.md lists which):
 * - NetworkAgentInfo lines. Android 9 and 10 begin `NetworkAgentInfo{ ni{[type: MOBILE[LTE], state: ...]}`
 *   (NetworkInfo.toString) and print `clat{...}` for every network; Android 11 and later begin
 *   `NetworkAgentInfo{network{100}  handle{...}  ni{MOBILE[LTE] CONNECTED extra: internet}`
 *   (NetworkInfo.toShortString) and print `clat{...}` only while a CLAT is started; Android 13 and
 *   later score with `Score(Policies : ...)`, and Android 14 and later add `created=TIME` and
 *   `factorySerialNumber=N` (test/fixtures/android-real/dumpsys-connectivity/pixelfold-two-mobile-nai-lines.txt,
 *   emulator-x86_64-wifi-nai-from-logcat.txt).
 * - Wi-Fi's `ni{WIFI CONNECTED extra: }` (empty extra, 11+; the quoted SSID on 9 and 10) and its
 *   `SSID: "..."` in nc (emulator sample).
 * - A VoLTE handset's IMS network: MOBILE, `extra: ims`, IMS&...&MMTEL and no INTERNET, with
 *   `PcscfAddresses:` (Pixel Fold sample), listed before the internet network as it registers first.
 * - The CLAT under its network: Android 13 a `Nat464Xlat:` block with ClatCoordinator's BPF
 *   forwarding rules (test/fixtures/android-real/dumpsys-connectivity/aosp-commit-8be50a6d-nat464xlat-block-a13.txt),
 *   Android 14 and later its `CLAT tracker:` line too; 9 to 12 only `clat{...}` in the NAI line.
 * - Ethernet (an `eth*` link the lab provisioned, lib/lab/network/ethernet.ts) as AOSP's
 *   EthernetNetworkFactory makes its agent: legacy type name `Ethernet`, the link's MAC address
 *   as the extra (`ni{Ethernet CONNECTED extra: 02:..}`), Transports: ETHERNET, and from
 *   Android 12 the `EthernetNetworkSpecifier (eth0)` specifier (EthernetNetworkSpecifier.toString).
 * - `Active default network:` names Ethernet while the handset has it, else Wi-Fi while it is
 *   joined (Android ranks Ethernet, then a validated Wi-Fi, over cellular), else mobile data.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeHandsetState, type HandsetState } from './state.js';

/** The links of one network as LinkProperties prints them. */
export interface LinkFacts {
  interfaceName: string;
  /** `address/prefix` */
  addresses: string[];
  dns: string[];
  /** P-CSCF servers (an IMS network's), printed as `PcscfAddresses:` when there are any. */
  pcscf?: string[];
  mtu: number;
  /** `dest -> gateway iface mtu n`, as LinkProperties prints routes. */
  routes: string[];
  nat64Prefix: string | null;
  stacked: LinkFacts | null;
}

// {InterfaceName: rmnet16 LinkAddresses: [ 2a01:599:a1b:a486:9aa1:495d:81d9:5386/64 ] DnsAddresses: [ /2a01:598:7ff:0:10:74:210:221 ] Domains: null MTU: 1500 ... Routes: [ ::/0 -> :: rmnet16 mtu 1500 ] Nat64Prefix: 64:ff9b::/96 Stacked: [[ {...} ]]}
export function renderLinkProperties(link: LinkFacts): string {
  const list = (items: readonly string[]) => (items.length === 0 ? '[ ]' : `[ ${items.join(',')} ]`);
  const parts = [`InterfaceName: ${link.interfaceName}`, `LinkAddresses: ${list(link.addresses)}`, `DnsAddresses: ${list(link.dns.map((d) => `/${d}`))}`];
  if (link.pcscf !== undefined && link.pcscf.length > 0) parts.push(`PcscfAddresses: ${list(link.pcscf.map((d) => `/${d}`))}`);
  parts.push('Domains: null', `MTU: ${link.mtu}`);
  if (link.stacked !== null || link.nat64Prefix !== null) parts.push('TcpBufferSizes: 2097152,6291456,16777216,512000,2097152,8388608');
  parts.push(`Routes: ${list(link.routes)}`);
  if (link.nat64Prefix !== null) parts.push(`Nat64Prefix: ${link.nat64Prefix}`);
  if (link.stacked !== null) parts.push(`Stacked: [[ ${renderLinkProperties(link.stacked)} ]]`);
  return `{${parts.join(' ')}}`;
}

/** One network of the handset. */
export interface NetworkFacts {
  netId: number;
  type: 'MOBILE' | 'WIFI' | 'ETHERNET';
  /** The APN on cellular (`ims` for the IMS network), the SSID on Wi-Fi, the MAC address on Ethernet. */
  extra: string;
  link: LinkFacts;
  /** IMS: no INTERNET capability, IMS and MMTEL instead. */
  ims: boolean;
  /** The CLAT of this network, when one is started. */
  clat: { baseInterface: string; interface: string } | null;
}

/** Which era of NetworkAgentInfo.toString an SDK level prints. */
function era(sdk: number): 'p' | 'r' | 't' | 'u' {
  if (sdk <= 29) return 'p';
  if (sdk <= 32) return 'r';
  if (sdk === 33) return 't';
  return 'u';
}

function capabilities(n: NetworkFacts): string {
  if (n.ims) return 'IMS&NOT_METERED&TRUSTED&NOT_VPN&VALIDATED&FOREGROUND&MMTEL';
  if (n.type !== 'MOBILE') return 'NOT_METERED&INTERNET&NOT_RESTRICTED&TRUSTED&NOT_VPN&VALIDATED&NOT_ROAMING&FOREGROUND&NOT_CONGESTED&NOT_SUSPENDED';
  return 'SUPL&INTERNET&NOT_RESTRICTED&TRUSTED&NOT_VPN&VALIDATED&NOT_ROAMING&FOREGROUND&NOT_CONGESTED&NOT_SUSPENDED';
}

function networkCapabilities(n: NetworkFacts, sdk: number): string {
  const transport = { MOBILE: 'CELLULAR', WIFI: 'WIFI', ETHERNET: 'ETHERNET' }[n.type];
  const specifier = {
    MOBILE: ' Specifier: <TelephonyNetworkSpecifier [mSubId = 1]> SubscriptionIds: {1}',
    WIFI: ` Specifier: <WifiNetworkAgentSpecifier [WifiConfiguration=, SSID="${n.extra}", BSSID=02:00:00:00:01:00, band=1, mMatchLocalOnlySpecifiers=false]> SSID: "${n.extra}"`,
    // Until Android 11 a StringNetworkSpecifier holding the interface's name.
    ETHERNET: ` Specifier: <${sdk >= 31 ? `EthernetNetworkSpecifier (${n.link.interfaceName})` : n.link.interfaceName}>`,
  }[n.type];
  return `[ Transports: ${transport} Capabilities: ${capabilities(n)}${specifier}]`;
}

/** NetworkInfo's type name (the legacy one Ethernet's agent sets is `Ethernet`) and subtype. */
const typeName = (n: NetworkFacts): string => ({ MOBILE: 'MOBILE[LTE]', WIFI: 'WIFI', ETHERNET: 'Ethernet' })[n.type];
/** The score of Android 9 to 12 (NetworkFactory scores: Ethernet 70, Wi-Fi 60, cellular 50). */
const legacyScore = (n: NetworkFacts): number => ({ MOBILE: 50, WIFI: 60, ETHERNET: 70 })[n.type];

// Nat464Xlat.toString: mBaseIface: rmnet_data0, mIface: v4-rmnet_data0, mState: RUNNING
function clatd(n: NetworkFacts): string {
  return n.clat === null ? 'mBaseIface: null, mIface: null, mState: IDLE' : `mBaseIface: ${n.clat.baseInterface}, mIface: ${n.clat.interface}, mState: RUNNING`;
}

/** The NetworkAgentInfo line of `n` as Android `sdk` prints it. */
export function renderNetworkAgentInfo(n: NetworkFacts, sdk: number, createdAt: Date): string {
  const subtype = typeName(n);
  const handle = n.netId * 4294967296 + 0x0d00;
  const lp = renderLinkProperties(n.link);
  const nc = networkCapabilities(n, sdk);
  // Wi-Fi's extra is empty from Android 11 (its SSID moved to the capabilities).
  const extra = n.type === 'WIFI' ? '' : n.extra;
  switch (era(sdk)) {
    case 'p': {
      // NetworkInfo.toString; Wi-Fi's extra is its quoted SSID until Android 11
      const quoted = n.type === 'WIFI' ? `"${n.extra}"` : n.extra;
      const ni = `[type: ${n.type === 'MOBILE' ? 'MOBILE[LTE]' : `${subtype}[]`}, state: CONNECTED/CONNECTED, reason: connected, extra: ${quoted}, failover: false, available: true, roaming: false]`;
      return (
        `NetworkAgentInfo{ ni{${ni}}  network{${n.netId}}  nethandle{${handle}}  lp{${lp}}  nc{${nc}}  Score{${legacyScore(n)}}  ` +
        'everValidated{true}  lastValidated{true}  created{true} lingering{false} explicitlySelected{false} acceptUnvalidated{false} ' +
        `everCaptivePortalDetected{false} lastCaptivePortalDetected{false} clat{${clatd(n)}} }`
      );
    }
    case 'r':
      return (
        `NetworkAgentInfo{network{${n.netId}}  handle{${handle}}  ni{${subtype} CONNECTED extra: ${extra}}  Score{${legacyScore(n)}}  ` +
        `everValidated{true}  lastValidated{true}  created{true}  lingering{false}  lp{${lp}}  nc{${nc}}${n.clat === null ? '' : `  clat{${clatd(n)}}`}}`
      );
    case 't':
    case 'u': {
      const policies = n.ims ? 'EVER_EVALUATED&IS_UNMETERED&EVER_VALIDATED&IS_VALIDATED' : 'TRANSPORT_PRIMARY&EVER_EVALUATED&EVER_VALIDATED&IS_VALIDATED';
      const created = era(sdk) === 'u' ? ` created=${createdAt.toISOString()}` : '';
      const serial = era(sdk) === 'u' ? `  factorySerialNumber=${{ MOBILE: 12, WIFI: 5, ETHERNET: 7 }[n.type]}` : '';
      return (
        `NetworkAgentInfo{network{${n.netId}}  handle{${handle}}  ni{${subtype} CONNECTED extra: ${extra}}${created} ` +
        `Score(Policies : ${policies} ; KeepConnected : 0)  created 614825 firstValidated 617415 lastValidated 617415  ` +
        `lp{${lp}}  nc{${nc}}${n.clat === null ? '' : `  clat{${clatd(n)}}`}${serial}}`
      );
    }
  }
}

/**
 * The `Nat464Xlat:` block Android 13 and later print under a cellular network: `<not start>`
 * (13) / `<not started>` (14+) without a CLAT; else ClatCoordinator's tracker (14+) and its BPF
 * forwarding rules, iif/oif by interface index.
 */
export function renderNat464XlatBlock(
  sdk: number,
  clat: {
    baseInterface: string;
    baseIndex: number;
    interface: string;
    index: number;
    v6Address: string;
    nat64Prefix: string;
    pid: number;
    /** The CLAT's IPv4 address; 192.0.0.4 unless another CLAT holds it. */
    v4Address?: string;
    /** An Ethernet base link: ClatCoordinator's egress rule says `ether`, else `rawip`. */
    ethernet?: boolean;
  } | null,
): string[] {
  if (sdk < 33) return [];
  if (clat === null) return ['Nat464Xlat:', sdk === 33 ? '  <not start>' : '  <not started>'];
  const prefix = clat.nat64Prefix.replace(/\/\d+$/, '');
  const v4 = clat.v4Address ?? '192.0.0.4';
  const lines = ['Nat464Xlat:', '  ClatCoordinator:'];
  // CLAT tracker: iface: rmnet_data0 (12), v4iface: v4-rmnet_data0 (13), v4: /192.0.0.4, v6: /2001:db8:0:b11::464, pfx96: /64:ff9b::, pid: 1234, cookie: 1
  if (sdk >= 34) {
    lines.push(
      `    CLAT tracker: iface: ${clat.baseInterface} (${clat.baseIndex}), v4iface: ${clat.interface} (${clat.index}), v4: /${v4}, v6: /${clat.v6Address}, pfx96: /${prefix}, pid: ${clat.pid}, cookie: 1`,
    );
  }
  lines.push(
    '    Forwarding rules:',
    '      BPF ingress map: iif nat64Prefix v6Addr -> v4Addr oif',
    `        ${clat.baseIndex} /${clat.nat64Prefix} /${clat.v6Address} -> /${v4} ${clat.index}`,
    '      BPF egress map: iif v4Addr -> v6Addr nat64Prefix oif',
    `        ${clat.index} /${v4} -> /${clat.v6Address} /${clat.nat64Prefix} ${clat.baseIndex} ${clat.ethernet === true ? 'ether' : 'rawip'}`,
  );
  return lines;
}

interface IpAddr {
  ifname: string;
  ifindex: number;
  mtu: number;
  /** The link-layer (MAC) address. */
  address?: string;
  operstate?: string;
  addr_info: { family: string; local: string; prefixlen: number; scope: string }[];
}
interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  type?: string;
  table?: string;
  mtu?: number;
}

/** Wi-Fi counts as joined once wlan0 is up with its DHCP lease (the lab brings it up only then). */
const joined = (wlan: IpAddr): boolean => wlan.operstate === 'UP' && wlan.addr_info.some((a) => a.family === 'inet');

const MOBILE = 'rmnet_data0';
const IMS = 'rmnet_data1';
const WIFI = 'wlan0';
/** The SSID of the lab's access point when the profile names no saved network. */
export const LAB_SSID = 'v6lab-wifi';

/** The SSID the handset's access point has: the profile's saved network's, else the lab's. */
export const accessPointSsid = (state: HandsetState): string => state.profile.wifiNetwork ?? LAB_SSID;

/** The Wi-Fi networks saved on the handset. */
const savedWifi = (state: HandsetState): string[] => state.savedWifi ?? (state.profile.wifiNetwork ? [state.profile.wifiNetwork] : []);

/**
 * Whether the handset joins its access point: Wi-Fi on (`settings global wifi_on` not 0) and the
 * access point's SSID among its saved networks, as Android auto-joins a saved network in range.
 */
export function joinsWifi(state: HandsetState): boolean {
  return state.settings.global.wifi_on !== '0' && savedWifi(state).includes(accessPointSsid(state));
}

/** Live facts from the handset's namespace (`ip -j`), shaped as Android's LinkProperties. */
export function dumpsysConnectivity(state: HandsetState, now = new Date()): string {
  const addresses = JSON.parse(execFileSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' })) as IpAddr[];
  // Every table (each network's routes are in its own, as on a phone), the local table's left out.
  const routes = (family: '-4' | '-6') =>
    (JSON.parse(execFileSync('ip', ['-j', family, 'route', 'show', 'table', 'all'], { encoding: 'utf8' })) as IpRoute[])
      .filter((r) => (r.type === undefined || r.type === 'unicast') && r.table !== 'local' && r.dev !== undefined)
      // A prefix route is in main (the kernel's) and in the network's table (netd's): listed once.
      .filter((r, i, all) => all.findIndex((o) => o.dst === r.dst && o.dev === r.dev && o.gateway === r.gateway) === i);
  const allRoutes = [...routes('-6'), ...routes('-4')];
  const entryOf = (name: string) => addresses.find((a) => a.ifname === name) ?? null;
  const link = (name: string, v4only: boolean, dns: string[]): LinkFacts | null => {
    const entry = entryOf(name);
    if (!entry) return null;
    // Android lists global addresses, and only IPv4 on the CLAT's v4- interface.
    const addrs = entry.addr_info.filter((a) => a.scope === 'global' && (!v4only || a.family === 'inet')).map((a) => `${a.local}/${a.prefixlen}`);
    // The CLAT's link carries only IPv4 routes; link-local routes are not listed (as on a phone).
    const rs = allRoutes
      .filter((r) => r.dev === name && !r.dst.startsWith('fe80:') && (!v4only || !r.dst.includes(':')))
      .map((r) => {
        const v6 = r.dst.includes(':') || r.gateway?.includes(':') === true || (r.dst === 'default' && !r.gateway && !v4only && name !== WIFI);
        const dst = r.dst === 'default' ? (v6 ? '::/0' : '0.0.0.0/0') : r.dst.includes('/') ? r.dst : `${r.dst}/${r.dst.includes(':') ? 128 : 32}`;
        return `${dst} -> ${r.gateway ?? (v4only ? '192.0.0.4' : v6 ? '::' : '0.0.0.0')} ${name} mtu ${r.mtu ?? 0}`;
      });
    return { interfaceName: name, addresses: addrs, dns: v4only ? [] : dns, mtu: v4only ? 0 : entry.mtu, routes: rs, nat64Prefix: null, stacked: null };
  };
  const sdk = state.profile.sdk;
  const networks: { facts: NetworkFacts; block: string[] }[] = [];
  let netId = 100;
  // The IMS network registers first on a VoLTE phone (the Pixel Fold sample lists it first).
  if (state.profile.ims === true) {
    const ims = link(IMS, false, []);
    if (ims !== null && ims.addresses.length > 0) {
      // The P-CSCF is ::5060 of the IMS /64 (lib/lab/network/plan.ts); the lab runs no IMS core.
      const v6 = ims.addresses.find((a) => a.includes(':'));
      const pcscf = v6 === undefined ? [] : [`${v6.split('/')[0]!.split(':').slice(0, 4).join(':')}::5060`];
      ims.pcscf = pcscf;
      networks.push({ facts: { netId, type: 'MOBILE', extra: 'ims', link: ims, ims: true, clat: null }, block: renderNat464XlatBlock(sdk, null) });
    }
    netId++;
  }
  const net = state.network;
  let mobileNetId: number | null = null;
  if (net !== null && net.families.length > 0) {
    const mobile = link(MOBILE, false, net.dns);
    if (mobile !== null) {
      mobileNetId = netId;
      const clatEntry = net.clat === null ? null : entryOf(net.clat.interface);
      if (net.clat !== null) mobile.stacked = link(net.clat.interface, true, []);
      mobile.nat64Prefix = net.nat64Prefix;
      const clat = net.clat === null ? null : { baseInterface: MOBILE, interface: net.clat.interface };
      const block =
        net.clat !== null && net.nat64Prefix !== null && clatEntry !== null
          ? renderNat464XlatBlock(sdk, {
              baseInterface: MOBILE,
              baseIndex: entryOf(MOBILE)!.ifindex,
              interface: net.clat.interface,
              index: clatEntry.ifindex,
              v6Address: net.clat.v6Address,
              nat64Prefix: net.nat64Prefix,
              pid: net.clat.pid,
            })
          : renderNat464XlatBlock(sdk, null);
      networks.push({ facts: { netId, type: 'MOBILE', extra: net.apn, link: mobile, ims: false, clat }, block });
    }
  }
  netId++;
  const wlan = entryOf(WIFI);
  let wifiNetId: number | null = null;
  if (wlan !== null && joined(wlan)) {
    const dns = readResolvers();
    const wifi = link(WIFI, false, dns);
    if (wifi !== null) {
      wifiNetId = netId;
      networks.push({
        facts: { netId, type: 'WIFI', extra: accessPointSsid(state), link: wifi, ims: false, clat: null },
        block: [],
      });
    }
  }
  netId++;
  let ethernetNetId: number | null = null;
  const eth = state.ethernet ?? null;
  const ethEntry = eth === null ? null : entryOf(eth.interface);
  if (eth && ethEntry?.addr_info.some((a) => a.scope === 'global')) {
    const ethernet = link(eth.interface, false, eth.dns);
    if (ethernet !== null) {
      ethernetNetId = netId;
      const clatEntry = eth.clat === null ? null : entryOf(eth.clat.interface);
      if (eth.clat !== null) ethernet.stacked = link(eth.clat.interface, true, []);
      ethernet.nat64Prefix = eth.nat64Prefix;
      const block =
        eth.clat !== null && eth.nat64Prefix !== null && clatEntry !== null
          ? renderNat464XlatBlock(sdk, {
              baseInterface: eth.interface,
              baseIndex: ethEntry.ifindex,
              interface: eth.clat.interface,
              index: clatEntry.ifindex,
              v6Address: eth.clat.v6Address,
              nat64Prefix: eth.nat64Prefix,
              pid: eth.clat.pid,
              v4Address: clatEntry.addr_info.find((a) => a.family === 'inet')?.local,
              ethernet: true,
            })
          : renderNat464XlatBlock(sdk, null);
      networks.push({
        facts: {
          netId,
          type: 'ETHERNET',
          extra: ethEntry.address ?? '',
          link: ethernet,
          ims: false,
          clat: eth.clat === null ? null : { baseInterface: eth.interface, interface: eth.clat.interface },
        },
        block,
      });
    }
  }
  // Ethernet is the default network while there is one; else a validated Wi-Fi; else the internet
  // mobile network; IMS never is.
  const defaultNetId = ethernetNetId ?? wifiNetId ?? mobileNetId;
  const lines = [`Active default network: ${defaultNetId ?? 'none'}`, '', 'Current Networks:'];
  for (const { facts, block } of networks) {
    lines.push(`  ${renderNetworkAgentInfo(facts, sdk, now)}`);
    for (const line of block) lines.push(`    ${line}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The resolvers in the handset's resolv.conf (Wi-Fi's while it is the default network). */
function readResolvers(): string[] {
  try {
    const text = readFileSync('/etc/resolv.conf', 'utf8');
    return [...text.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]!);
  } catch {
    return [];
  }
}

/** What a command prints and its exit code (as ./toolbox.ts runs it). */
interface Result {
  stdout: string;
  stderr: string;
  code: number;
}

/** Whether Wi-Fi is joined now: wlan0 up with an address (as dumpsysConnectivity reads it). */
function wifiJoined(): boolean {
  try {
    const [wlan] = JSON.parse(execFileSync('ip', ['-j', 'addr', 'show', 'dev', WIFI], { encoding: 'utf8' })) as IpAddr[];
    return wlan !== undefined && joined(wlan);
  } catch {
    return false;
  }
}

/** Turns Wi-Fi on or off as Settings does: settings global wifi_on, which the lab acts on (./supervisor.ts). */
function setWifiOn(dir: string, state: HandsetState, on: boolean): void {
  state.settings.global.wifi_on = on ? '1' : '0';
  writeHandsetState(dir, state);
}

/**
 * `svc wifi enable|disable` (every version this lab serves; prints nothing). `svc data` and other
 * services are not modelled: said so, exit 1.
 */
export function svc(dir: string, state: HandsetState, args: readonly string[]): Result {
  const [service, verb] = args;
  if (service === 'wifi' && (verb === 'enable' || verb === 'disable')) {
    setWifiOn(dir, state, verb === 'enable');
    return { stdout: '', stderr: '', code: 0 };
  }
  if (service === 'wifi')
    return { stdout: 'Control the Wi-Fi manager\n\nusage: svc wifi [enable|disable]\n         Turn Wi-Fi on or off.\n\n', stderr: '', code: 0 };
  return { stdout: '', stderr: `svc: ${service ?? ''}: not modelled on this virtual handset (only svc wifi)\n`, code: 1 };
}

/**
 * `cmd wifi` (WifiShellCommand, Android 11 and later): `set-wifi-enabled enabled|disabled`,
 * `status` and `connect-network`; its other commands are not modelled. Android 10 and earlier
 * have none of them.
 */
export function cmd(dir: string, state: HandsetState, args: readonly string[]): Result {
  const [service, verb, ...rest] = args;
  if (service !== 'wifi') return { stdout: '', stderr: `cmd: Can't find service: ${service ?? ''}\n`, code: 20 };
  if (state.profile.sdk < 30 || verb === undefined) return { stdout: '', stderr: `Unknown command: ${verb ?? ''}\n`, code: 255 };
  const ssid = accessPointSsid(state);
  switch (verb) {
    // connect-network SSID open|owe|wpa2|wpa3 [passphrase]: saves the network and connects to it
    // (WifiShellCommand prints "Connection initiated " once the request is taken). Only the
    // handset's own access point is in range: another SSID is saved and never joined.
    case 'connect-network': {
      const [wanted, security] = rest;
      if (wanted === undefined || !['open', 'owe', 'wpa2', 'wpa3'].includes(security ?? ''))
        return { stdout: '', stderr: 'Invalid argument: connect-network <ssid> open|owe|wpa2|wpa3 [<passphrase>]\n', code: 255 };
      state.savedWifi = [...new Set([...savedWifi(state), wanted])];
      writeHandsetState(dir, state);
      return { stdout: 'Connection initiated \n', stderr: '', code: 0 };
    }
    case 'set-wifi-enabled':
      if (rest[0] !== 'enabled' && rest[0] !== 'disabled') return { stdout: '', stderr: 'Invalid argument: expected enabled or disabled\n', code: 255 };
      setWifiOn(dir, state, rest[0] === 'enabled');
      return { stdout: '', stderr: '', code: 0 };
    case 'status': {
      if (state.settings.global.wifi_on === '0') return { stdout: 'Wifi is disabled\n', stderr: '', code: 0 };
      const joined = wifiJoined();
      return { stdout: `Wifi is enabled\n${joined ? `Wifi is connected to "${ssid}"\n` : 'Wifi is not connected\n'}`, stderr: '', code: 0 };
    }
    default:
      return { stdout: '', stderr: `Unknown command: ${verb}\n`, code: 255 };
  }
}
