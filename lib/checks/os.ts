/**
 * The OS and APN checks (the `os` and `apn` suites) as pure decisions over what a device
 * reported: its APN table (or the refusal to show it), `ip -o addr`, `ip route`, the IPv6
 * sysctls, and dumpsys connectivity. Collected by `observeDevice` over adb alone, so a phone and
 * a lab handset are judged by the same code.
 */
import type { DeviceBackend } from '../device/adb.js';
import {
  contentRefusal,
  DeviceOutputError,
  isContentDenied,
  PREFERRED_APN_URI,
  parseContentRows,
  parseDumpsysConnectivity,
  parseIpAddr,
  parseIpRoute,
  parsePreferredApn,
  type ContentDenied,
  type ContentRow,
  type InterfaceAddresses,
  type PreferredApn,
  type Route,
} from '../device/parse/index.js';
import { defaultNetwork, mobileInternetNetwork, type DumpsysConnectivity, type NetworkAgent } from '../device/parse/connectivity.js';
import { message, reasonOf, type MessagePart, type ReasonMessage } from './messages.js';

export interface Observation {
  apnTable: ContentRow[] | ContentDenied;
  /**
   * The telephony provider's preferred APN (`content://telephony/carriers/preferapn`): the row,
   * null when none is preferred, or the refusal. Absent from observations made before it was read.
   */
  preferredApn?: PreferredApn;
  addresses: InterfaceAddresses[];
  routes: Route[];
  /** `/proc/sys/net/ipv6/conf/<if>/<name>` values, keyed `if/name`; null when unreadable. */
  sysctls: Record<string, string | null>;
  /** null when `dumpsys connectivity` failed. */
  connectivity: DumpsysConnectivity | null;
  /**
   * Which network the observation is judged on: the mobile internet network (an APN; the default),
   * the Wi-Fi network that is the default network (a profile's `{ "wifi": SSID }`), or the Ethernet
   * network that is (a device cabled to a v6lab gateway, a profile's `{ "gateway": DIR }`).
   */
  judgedNetwork?: 'mobile' | 'wifi' | 'ethernet';
}

export interface CheckOutcome {
  status: 'passed' | 'failed';
  /** Each with its detail as messages (lib/checks/messages.ts), for a report in another language. */
  reasons: { code: string; detail: string; messages: ReasonMessage[] }[];
  /** What the decision rests on, for the report's evidence. */
  evidence: Record<string, unknown>;
}

type Reason = CheckOutcome['reasons'][number];

const passed = (evidence: Record<string, unknown>): CheckOutcome => ({ status: 'passed', reasons: [], evidence });
const failed = (code: string, said: MessagePart, evidence: Record<string, unknown>): CheckOutcome => ({
  status: 'failed',
  reasons: [reasonOf(code, said)],
  evidence,
});
/** Sub-problems as one reason, joined by '; ': the first under `lead` when given (`on the dual-stack APN: ...`). */
const problemsReason = (code: string, problems: MessagePart[], lead?: (first: MessagePart) => MessagePart): Reason | null =>
  problems.length === 0 ? null : reasonOf(code, ...(lead === undefined ? problems : [lead(problems[0]!), ...problems.slice(1)]));
/** Passed only when there is no reason against it: nothing wrong, and nothing it needed left unread. */
const decided = (reasons: (Reason | null)[], evidence: Record<string, unknown>): CheckOutcome => {
  const given = reasons.filter((r): r is Reason => r !== null);
  return given.length === 0 ? passed(evidence) : { status: 'failed', reasons: given, evidence };
};

/**
 * Why the mobile network's LinkProperties (DNS servers, NAT64 prefix) are unknown, or null when
 * they were read. NetworkAgentInfo always prints an `lp{...}`, so a network without one had an
 * `lp{...}` that could not be parsed.
 */
function linkPropertiesUnread(o: Observation, network: NetworkAgent | null): Reason | null {
  if (o.connectivity === null) return reasonOf('CONNECTIVITY_UNREADABLE', message('os.connectivityUnreadable', {}));
  if (network !== null && network.linkProperties === null) {
    return reasonOf('CONNECTIVITY_UNREADABLE', message('os.linkPropertiesUnreadable', { netId: `${network.netId ?? '?'}` }));
  }
  return null;
}

const isMobile = (name: string) => /^(rmnet|ccmni|seth)/.test(name);

/**
 * The network an observation is judged on, and why it was chosen: the MOBILE network with INTERNET
 * (a VoLTE phone's IMS network is MOBILE too, and often listed first), or, on a Wi-Fi network of
 * the profile, Android's default network when it is Wi-Fi.
 */
export function judgedNetwork(o: Pick<Observation, 'connectivity' | 'judgedNetwork'>): { network: NetworkAgent | null; reason: string } {
  if (o.judgedNetwork === undefined || o.judgedNetwork === 'mobile') return mobileInternetNetwork(o.connectivity);
  if (o.connectivity === null) return { network: null, reason: 'dumpsys connectivity was not read' };
  const network = defaultNetwork(o.connectivity);
  const [type, words] = o.judgedNetwork === 'wifi' ? ['WIFI', 'Wi-Fi'] : ['ETHERNET', 'Ethernet'];
  // Ethernet prints its type name as "Ethernet" (EthernetNetworkFactory's legacy type name).
  return network?.type?.toUpperCase() === type
    ? { network, reason: `the default network, ${words} (netId ${network.netId ?? '?'}, ${network.linkProperties?.interfaceName ?? 'interface unread'})` }
    : { network: null, reason: `${words} is not the default network (${network === null ? 'none is' : `${network.type ?? '?'} is`})` };
}

/**
 * Which interface is the judged network's: the one `dumpsys connectivity` names for it. A VoLTE
 * phone's IMS network is on another rmnet interface with IPv6 and a default route of its own:
 * judged by the name pattern alone, it would pass an attach the internet APN never made. When
 * dumpsys lists no such network, nothing is on it; only when it was unreadable does the name
 * pattern decide (less any other MOBILE network's interface).
 */
function onJudgedNetwork(o: Observation): (name: string) => boolean {
  const choice = judgedNetwork(o);
  const named = choice.network?.linkProperties?.interfaceName ?? null;
  if (named !== null) return (name) => name === named;
  if (o.connectivity !== null && choice.network === null) return () => false;
  if (o.judgedNetwork === 'wifi') return (name) => /^wlan/.test(name);
  if (o.judgedNetwork === 'ethernet') return (name) => /^eth/.test(name);
  const others = new Set(
    (o.connectivity?.networks ?? []).filter((n) => n.type === 'MOBILE' && n !== choice.network).map((n) => n.linkProperties?.interfaceName ?? null),
  );
  return (name) => isMobile(name) && !others.has(name);
}

/**
 * The default routes that carry packets out, in any routing table: Android keeps each network's
 * in a table of its own (`default via fe80::1 dev rmnet_data2 table 1053 proto ra`) and none in
 * main, so `ip route show table all` is read; `unreachable`/`throw` defaults and the local table
 * are no way out.
 */
function outboundDefaults(o: Observation, family: 4 | 6): Route[] {
  const destination = family === 6 ? '::/0' : '0.0.0.0/0';
  return o.routes.filter((r) => r.family === family && r.destination === destination && r.type === 'unicast' && r.table !== 'local' && r.dev !== null);
}

/** The cellular and Wi-Fi interfaces a device has addresses on (CLAT's v4-* excluded): those os.ipv6-enabled judges. */
export function radioInterfaces(addresses: readonly InterfaceAddresses[]): string[] {
  return addresses.map((a) => a.name).filter((n) => /^(rmnet|ccmni|seth|wlan)/.test(n) && !n.startsWith('v4-'));
}

/** Whether an APN row serves internet data (`type` holds `default`, or is empty: every type). */
const isDefaultType = (row: ContentRow): boolean => {
  const types = (row.type ?? '').split(',').map((t) => t.trim());
  return types.includes('default') || types.includes('*') || types.every((t) => t === '');
};

/**
 * The APN the device attaches with by default: the provider's preferred APN when it names one;
 * else what Android falls back to, the first internet (`default` type) APN of the SIM operator's
 * rows (`current=1` marks those, several as a rule, never the preference), else of any row.
 */
function defaultApn(rows: ContentRow[], preferred: PreferredApn | undefined): ContentRow | null {
  if (preferred !== undefined && preferred !== null && !isContentDenied(preferred)) {
    // The full table's row when it has it (the preferapn projection may be narrower).
    return rows.find((r) => r._id !== undefined && r._id === preferred._id) ?? preferred;
  }
  const operator = rows.filter((r) => r.current === '1');
  return operator.find(isDefaultType) ?? rows.find(isDefaultType) ?? rows[0] ?? null;
}

/** os.apn-protocol: the default APN asks for IPV4V6 (a missing protocol is Android's "IP"). */
export function checkApnProtocol(o: Observation, column: 'protocol' | 'roaming_protocol' = 'protocol'): CheckOutcome {
  if (isContentDenied(o.apnTable)) {
    // The table is closed to the shell user: infer from what the network gave the handset.
    const families = attachedFamilies(o);
    const evidence = { apnTable: 'unreadable', message: o.apnTable.message, attachedFamilies: families, inferred: true };
    if (column === 'roaming_protocol')
      return failed('APN_TABLE_UNREADABLE', message('os.apnTableUnreadable.roaming', { refusal: o.apnTable.message }), evidence);
    return families.includes(4) && families.includes(6)
      ? passed({ ...evidence, note: 'inferred: the APN table is unreadable, and the dual-stack attach gave both IPv4 and IPv6' })
      : failed(
          'APN_NOT_DUAL_STACK',
          families.length === 0 ? message('os.apnInferred.noAddress', {}) : message('os.apnInferred.only', { family: `IPv${families.join(' and IPv')}` }),
          evidence,
        );
  }
  const apn = defaultApn(o.apnTable, o.preferredApn);
  if (apn === null) return failed('NO_APN', message('os.noApn', {}), { apnTable: [] });
  const value = apn[column] ?? null;
  const preferred = o.preferredApn !== undefined && o.preferredApn !== null && !isContentDenied(o.preferredApn);
  const evidence = { apn: apn.apn, name: apn.name, [column]: value, chosenBy: preferred ? 'preferred APN' : 'first internet APN of the SIM operator' };
  const ok = column === 'protocol' ? value === 'IPV4V6' : value === 'IPV4V6' || value === 'IPV6';
  if (ok) return passed(evidence);
  return failed(
    column === 'protocol' ? 'APN_PROTOCOL_NOT_IPV4V6' : 'APN_ROAMING_PROTOCOL_IPV4',
    column === 'protocol'
      ? value === null
        ? message('os.apnProtocol.unset', { apn: apn.apn ?? '?' })
        : message('os.apnProtocol.value', { apn: apn.apn ?? '?', value })
      : value === null
        ? message('os.apnRoamingProtocol.unset', { apn: apn.apn ?? '?' })
        : message('os.apnRoamingProtocol.value', { apn: apn.apn ?? '?', value }),
    evidence,
  );
}

function globalAddresses(o: Observation, family: 4 | 6, interfaces: (name: string) => boolean) {
  return o.addresses
    .filter((i) => interfaces(i.name))
    .flatMap((i) => i.addresses.filter((a) => a.family === family && a.scope === 'global').map((a) => ({ ...a, interface: i.name })));
}

function attachedFamilies(o: Observation): (4 | 6)[] {
  const families: (4 | 6)[] = [];
  const mobile = onJudgedNetwork(o);
  if (globalAddresses(o, 6, mobile).length > 0) families.push(6);
  if (globalAddresses(o, 4, mobile).length > 0) families.push(4);
  return families;
}

/** os.ipv6-enabled: IPv6 not disabled on cellular and Wi-Fi, router advertisements accepted. */
export function checkIpv6Enabled(o: Observation, interfaces: readonly string[]): CheckOutcome {
  const problems: MessagePart[] = [];
  const unread: MessagePart[] = [];
  for (const name of interfaces) {
    for (const key of ['disable_ipv6', 'accept_ra']) {
      const value = o.sysctls[`${name}/${key}`];
      // the kernel prints one integer: anything else (a refusal, an empty read) says nothing
      if (value === undefined || value === null || !/^-?\d+$/.test(value))
        unread.push(
          value
            ? message('os.sysctlUnreadGot', { key: `${name}/${key}`, got: JSON.stringify(value.slice(0, 60)) })
            : message('os.sysctlUnread', { key: `${name}/${key}` }),
        );
    }
    if (o.sysctls[`${name}/disable_ipv6`] === '1') problems.push(message('os.ipv6Disabled', { iface: name }));
    if (o.sysctls[`${name}/accept_ra`] === '0') problems.push(message('os.raIgnored', { iface: name }));
  }
  return decided(
    [problemsReason('IPV6_DISABLED', problems), problemsReason('SYSCTL_UNREADABLE', unread, (first) => message('os.sysctlUnder', { problem: first }))],
    { sysctls: o.sysctls },
  );
}

/** os.privacy-addresses: a temporary (RFC 8981) or stable-privacy (RFC 7217) address in use. */
export function checkPrivacyAddresses(o: Observation): CheckOutcome {
  const v6 = globalAddresses(o, 6, () => true);
  const privacy = v6.filter((a) => a.flags.includes('temporary') || a.flags.includes('stable-privacy'));
  const evidence = { addresses: v6.map((a) => `${a.interface} ${a.address}/${a.prefixLength} ${a.flags.join(' ')}`) };
  if (v6.length === 0) return failed('NO_GLOBAL_IPV6', message('os.noGlobalIpv6ToJudge', {}), evidence);
  return privacy.length > 0 ? passed(evidence) : failed('NO_PRIVACY_ADDRESS', message('os.noPrivacyAddress', {}), evidence);
}

/** apn.ipv6-only-attach: global IPv6, an IPv6 default route and IPv6 DNS on cellular, no native IPv4. */
export function checkIpv6OnlyAttach(o: Observation): CheckOutcome {
  const onMobile = onJudgedNetwork(o);
  const v6 = globalAddresses(o, 6, onMobile);
  const v4 = globalAddresses(o, 4, onMobile);
  const defaultV6 = outboundDefaults(o, 6).find((r) => onMobile(r.dev!));
  // The network judged: the MOBILE one with INTERNET (never simply the first listed: a VoLTE
  // phone lists its IMS network too), or the Wi-Fi default network; the choice goes in the evidence.
  const mobile = judgedNetwork(o);
  const network = mobile.network;
  const dns6 = (network?.linkProperties?.dnsAddresses ?? []).filter((d) => d.includes(':'));
  const unread = linkPropertiesUnread(o, network);
  const evidence = {
    ipv6: v6.map((a) => a.address),
    ipv4: v4.map((a) => a.address),
    defaultRoute: defaultV6 ?? null,
    dns: network?.linkProperties?.dnsAddresses ?? [],
    mobileNetwork: mobile.reason,
  };
  const problems = [
    ...(v6.length === 0 ? [message('os.noGlobalIpv6OnMobile', {})] : []),
    ...(defaultV6 === undefined ? [message('os.noIpv6DefaultRouteOnMobile', {})] : []),
    ...(dns6.length === 0 && unread === null ? [message('os.noIpv6Dns', {})] : []),
    ...(v4.length > 0 ? [message('os.nativeIpv4OnIpv6Only', { addresses: v4.map((a) => a.address).join(', ') })] : []),
  ];
  return decided([problemsReason('NOT_IPV6_ONLY', problems), unread], evidence);
}

/** apn.clat: a v4-* interface with a 192.0.0.0/29 address and the IPv4 default route through it, only without native IPv4. */
export function checkClat(o: Observation): CheckOutcome {
  // The judged network's own CLAT (v4-rmnet_data0, v4-wlan0) when its interface is known.
  const base = judgedNetwork(o).network?.linkProperties?.interfaceName ?? null;
  const clat = o.addresses.find((i) => (base === null ? i.name.startsWith('v4-') : i.name === `v4-${base}`));
  const clatV4 = clat?.addresses.find((a) => a.family === 4 && /^192\.0\.0\.[0-7]$/.test(a.address)) ?? null;
  const defaultsV4 = outboundDefaults(o, 4);
  const defaultV4 = defaultsV4.find((r) => r.dev === clat?.name) ?? defaultsV4[0];
  const native = globalAddresses(o, 4, onJudgedNetwork(o));
  const evidence = {
    clatInterface: clat?.name ?? null,
    clatAddress: clatV4?.address ?? null,
    defaultIpv4Route: defaultV4 ?? null,
    nativeIpv4: native.map((a) => a.address),
  };
  if (native.length > 0) {
    return clat
      ? failed('CLAT_WITH_NATIVE_IPV4', message('os.clatWithNativeIpv4', { iface: clat.name }), evidence)
      : passed({ ...evidence, note: 'native IPv4: no CLAT needed' });
  }
  if (!clat || !clatV4) return failed('NO_CLAT', message('os.noClat', {}), evidence);
  if (!defaultV4 || defaultV4.dev !== clat.name) return failed('CLAT_NOT_DEFAULT', message('os.clatNotDefault', { iface: clat.name }), evidence);
  return passed(evidence);
}

/**
 * apn.nat64-prefix: LinkProperties knows a NAT64 prefix, and it is the one the network gave as
 * the capture across the attach shows it: a PREF64 option of its router advertisements
 * (`advertised`, RFC 8781, lifetime above 0) when there is one, since RFC 8781 5.1 prefers it to
 * RFC 7050 and Android takes it ("the RA one wins"); else RFC 7050 discovery (`discovered`).
 */
export function checkNat64Prefix(o: Observation, discovered: readonly string[], advertised: readonly string[] = []): CheckOutcome {
  // The network judged: the MOBILE one with INTERNET (never simply the first listed: a VoLTE
  // phone lists its IMS network too), or the Wi-Fi default network; the choice goes in the evidence.
  const mobile = judgedNetwork(o);
  const network = mobile.network;
  const reported = network?.linkProperties?.nat64Prefix ?? null;
  const evidence = { linkProperties: reported, discoveredInCapture: [...discovered], advertisedInCapture: [...advertised], mobileNetwork: mobile.reason };
  // RFC 7050 discovery alone does not pass it: what Android itself knows went unread
  const unread = linkPropertiesUnread(o, network);
  if (unread !== null) return { status: 'failed', reasons: [unread], evidence };
  if (reported === null && discovered.length === 0) return failed('NO_NAT64_PREFIX', message('os.noNat64Prefix', {}), evidence);
  if (reported !== null && advertised.length > 0 && !advertised.includes(reported)) {
    return failed(
      'NAT64_PREFIX_MISMATCH',
      message('os.nat64PrefixMismatchPref64', { reported, advertised: advertised.join(', '), discovered: discovered.join(', ') || '-' }),
      evidence,
    );
  }
  if (reported !== null && advertised.length === 0 && discovered.length > 0 && !discovered.includes(reported)) {
    return failed('NAT64_PREFIX_MISMATCH', message('os.nat64PrefixMismatch', { reported, discovered: discovered.join(', ') }), evidence);
  }
  return passed(evidence);
}

/** os.dual-stack-attach: on the dual-stack APN, global IPv6 and IPv4, default routes for both, IPv6 DNS. */
export function checkDualStackAttach(o: Observation): CheckOutcome {
  const onMobile = onJudgedNetwork(o);
  const v6 = globalAddresses(o, 6, onMobile);
  const v4 = globalAddresses(o, 4, onMobile);
  const defaultV6 = outboundDefaults(o, 6).find((r) => onMobile(r.dev!));
  const defaultV4 = outboundDefaults(o, 4).find((r) => onMobile(r.dev!));
  // The network judged: the MOBILE one with INTERNET (never simply the first listed: a VoLTE
  // phone lists its IMS network too), or the Wi-Fi default network; the choice goes in the evidence.
  const mobile = judgedNetwork(o);
  const network = mobile.network;
  const dns = network?.linkProperties?.dnsAddresses ?? [];
  const unread = linkPropertiesUnread(o, network);
  const evidence = {
    apn: network?.extra ?? null,
    ipv6: v6.map((a) => a.address),
    ipv4: v4.map((a) => a.address),
    defaultRoutes: [defaultV6 ?? null, defaultV4 ?? null],
    dns,
    mobileNetwork: mobile.reason,
  };
  const problems = [
    ...(v6.length === 0 ? [message('os.noGlobalIpv6OnMobile', {})] : []),
    ...(v4.length === 0 ? [message('os.noIpv4OnMobile', {})] : []),
    ...(defaultV6 === undefined ? [message('os.noIpv6DefaultRoute', {})] : []),
    ...(defaultV4 === undefined ? [message('os.noIpv4DefaultRoute', {})] : []),
    ...(dns.some((d) => d.includes(':')) || unread !== null ? [] : [message('os.noIpv6Dns', {})]),
  ];
  return decided([problemsReason('NOT_DUAL_STACK', problems, (first) => message('os.onDualStackApn', { problem: first })), unread], evidence);
}

/** What a probe of one name through the device's default connect path showed in the capture. */
export interface ProbeAttempts {
  hostname: string;
  firstAttemptFamily: 4 | 6 | null;
  /** Established connections by socket family. */
  established: { 4: number; 6: number };
}

/** os.resolver-prefers-ipv6: the system's default path tried a dual-stack name over IPv6 first. */
export function checkResolverPrefersIpv6(probe: ProbeAttempts): CheckOutcome {
  const evidence = { ...probe };
  if (probe.firstAttemptFamily === null) return failed('NO_PROBE_TRAFFIC', message('os.noProbeTraffic', { host: probe.hostname }), evidence);
  if (probe.firstAttemptFamily === 4) return failed('IPV4_FIRST', message('os.resolverIpv4First', { host: probe.hostname }), evidence);
  return passed(evidence);
}

/** apn.ipv4-via-clat: a connection to an IPv4-only destination was established. */
export function checkIpv4ViaClat(target: string, established: boolean, path: string | null): CheckOutcome {
  const evidence = { target, established, path };
  if (established) return passed(evidence);
  return failed('IPV4_UNREACHABLE', message(path === null ? 'os.ipv4Unreachable.noAttempt' : 'os.ipv4Unreachable', { target }), evidence);
}

/** Everything the os and apn checks read, gathered over adb (the APN table as root when it can). */
export async function observeDevice(device: DeviceBackend, options: { root?: 'adbd' | 'su' | null; interfaces?: string[] } = {}): Promise<Observation> {
  // As the shell user first: whether the table is readable is itself a finding. A refusal is
  // known by its text: `content` exits 0 after one on some versions (Android 10). The reads are
  // independent device round trips, made at once.
  const contentAsShellThenRoot = (uri: string) => {
    const query = ['content', 'query', '--uri', uri];
    return device
      .run(query)
      .then((read) =>
        (read.exitCode !== 0 || contentRefusal(read.output) !== null) && options.root === 'su' ? device.run(['su', '-c', query.join(' ')]) : read,
      );
  };
  const apnRead = contentAsShellThenRoot('content://telephony/carriers');
  const preferredRead = contentAsShellThenRoot(PREFERRED_APN_URI);
  const connectivityRead = device.run(['dumpsys', 'connectivity']);
  // Every table: a phone's defaults are in per-network tables, none in main (parseIpRoute).
  const routesRead = Promise.all([device.runOk(['ip', '-6', 'route', 'show', 'table', 'all']), device.runOk(['ip', '-4', 'route', 'show', 'table', 'all'])]);
  for (const read of [apnRead, preferredRead, connectivityRead, routesRead]) read.catch(() => undefined);
  const addresses = parseIpAddr(await device.runOk(['ip', '-o', 'addr', 'show']));
  // every interface list holds the loopback's: none at all is output ip did not really give
  if (addresses.length === 0) throw new DeviceOutputError('ip -o addr show', "no address at all, not even the loopback's");
  // The sysctls of every cellular and Wi-Fi interface the handset has (a MediaTek phone's is
  // ccmni0, not rmnet_data0): os.ipv6-enabled judges those, and must not judge one never read.
  const interfaces = options.interfaces ?? [...new Set(['rmnet_data0', 'wlan0', ...radioInterfaces(addresses)])];
  const keys = interfaces.flatMap((name) => ['disable_ipv6', 'accept_ra', 'use_tempaddr'].map((key) => `${name}/${key}`));
  const values = await Promise.all(keys.map((key) => device.run(['cat', `/proc/sys/net/ipv6/conf/${key}`])));
  const sysctls: Record<string, string | null> = {};
  keys.forEach((key, i) => {
    sysctls[key] = values[i]!.exitCode === 0 ? values[i]!.output.trim() : null;
  });
  const [apn, preferred, connectivity, [routes6, routes4]] = await Promise.all([apnRead, preferredRead, connectivityRead, routesRead]);
  return {
    apnTable: parseContentRows(apn.output),
    preferredApn: parsePreferredApnOrRefusal(preferred.output, preferred.exitCode),
    addresses,
    routes: [...parseIpRoute(routes6, 6), ...parseIpRoute(routes4, 4)],
    sysctls,
    connectivity: connectivity.exitCode === 0 ? parseDumpsysConnectivity(connectivity.output) : null,
  };
}

/**
 * The preferred-APN read as an observation holds it: a `content` that failed without saying why
 * (a version without the preferapn URI answers `Unknown URI`) counts as no preference read.
 */
function parsePreferredApnOrRefusal(output: string, exitCode: number): PreferredApn | undefined {
  try {
    return parsePreferredApn(output);
  } catch (error) {
    if (exitCode !== 0 || error instanceof DeviceOutputError) return undefined;
    throw error;
  }
}
