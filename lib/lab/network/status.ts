/**
 * `lab status`: for every component of the state file whether it runs (namespace present,
 * process alive with its recorded start time), and for every handset whether it has what its
 * attach and its own settings should give (addresses, default routes, CLAT, Wi-Fi, background
 * traffic). What a handset's settings leave out on purpose (IPv6, privacy addresses, a CLAT) is
 * no problem; having it anyway is, since then the settings were not applied.
 */
import { interfaceAddresses, listNamespaces, routes } from './inspect.js';
import { CLAT_INTERFACE, MOBILE_INTERFACE, WIFI_INTERFACE } from './plan.js';
import { isRunning } from './process.js';
import { canonicalAddress, inPrefix } from '../../net/address.js';
import { readState } from './state.js';
import { DEFAULT_HANDSET_SETTINGS, type ComponentStatus, type HandsetState, type HandsetStatus, type LabState, type LabStatus } from './types.js';

/** What handset `h` lacks of its attach, in words (empty when it has it all). */
async function handsetProblems(state: LabState, h: HandsetState, liveNamespaces: Set<string>): Promise<string[]> {
  if (!liveNamespaces.has(h.namespace)) return [`namespace ${h.namespace} is gone`];
  const problems: string[] = [];
  const links = await interfaceAddresses(h.namespace);
  const has = (dev: string, address: string): boolean => (links.get(dev) ?? []).some((a) => canonicalAddress(a.address) === canonicalAddress(address));
  const [routes4, routes6] = await Promise.all([routes(h.namespace, 4), routes(h.namespace, 6)]);
  const settings = h.settings ?? DEFAULT_HANDSET_SETTINGS;
  const mobile = links.get(MOBILE_INTERFACE) ?? [];
  const wlan = links.get(WIFI_INTERFACE) ?? [];
  // Whatever the attach: a handset with IPv6 off has none on that interface, not even link-local.
  if (!settings.mobileIpv6 && mobile.some((a) => a.family === 6)) problems.push(`${MOBILE_INTERFACE} has IPv6 although the handset has it off`);
  if (!settings.wifiIpv6 && wlan.some((a) => a.family === 6)) problems.push(`${WIFI_INTERFACE} has IPv6 although the handset has it off`);
  if (!settings.mobilePrivacy && mobile.some((a) => a.temporary)) problems.push(`${MOBILE_INTERFACE} has a temporary address although the handset makes none`);
  if (!settings.wifiPrivacy && wlan.some((a) => a.temporary)) problems.push(`${WIFI_INTERFACE} has a temporary address although the handset makes none`);
  if (h.attached) {
    const handsetV6 = h.families.includes(6) && settings.mobileIpv6;
    if (handsetV6) {
      const prefix = h.ipv6Prefix ?? '::/64';
      const global = mobile.filter((a) => a.family === 6 && a.scope === 'global' && inPrefix(a.address, prefix));
      if (!global.some((a) => !a.temporary)) problems.push(`${MOBILE_INTERFACE} has no SLAAC address from ${h.ipv6Prefix}`);
      if (settings.mobilePrivacy && !global.some((a) => a.temporary)) problems.push(`${MOBILE_INTERFACE} has no temporary (privacy) address`);
      if (!routes6.some((r) => r.dst === 'default' && r.dev === MOBILE_INTERFACE)) problems.push('no IPv6 default route over mobile data');
    }
    if (handsetV6 && !h.families.includes(4)) {
      // Without DNS64 (`ipv6-true`) discovery finds no prefix, and no CLAT is right.
      if (settings.clat && h.dns64 && h.clat === null) problems.push('no CLAT on an IPv6-only attach');
      // Wi-Fi's own IPv4 default and Ethernet's (its CLAT's too) are not the mobile network's.
      const eth = h.ethernet ?? null;
      const otherNetwork = (dev: string | null) => dev === WIFI_INTERFACE || (eth !== null && (dev === eth.interface || dev === eth.clat?.interface));
      if (!settings.clat && (links.has(CLAT_INTERFACE) || routes4.some((r) => r.dst === 'default' && !otherNetwork(r.dev)))) {
        problems.push(`IPv4 through ${CLAT_INTERFACE} although the handset's CLAT is off`);
      }
    }
    if (h.families.includes(4) && h.ipv4Address !== null) {
      if (!has(MOBILE_INTERFACE, h.ipv4Address)) problems.push(`${MOBILE_INTERFACE} lacks ${h.ipv4Address}`);
      if (!routes4.some((r) => r.dst === 'default' && r.dev === MOBILE_INTERFACE)) problems.push('no IPv4 default route over mobile data');
    }
    if (h.clat !== null) {
      if (!has(CLAT_INTERFACE, h.clat.ipv4)) problems.push(`${CLAT_INTERFACE} lacks ${h.clat.ipv4}`);
      if (!routes4.some((r) => r.dst === 'default' && r.dev === CLAT_INTERFACE)) problems.push(`no IPv4 default route through ${CLAT_INTERFACE}`);
      const tayga = state.processes.find((p) => p.name === 'tayga-clat' && p.namespace === h.namespace);
      if (!tayga || !(await isRunning(tayga))) problems.push('the CLAT (tayga) is not running');
    }
  }
  // Wi-Fi off or joined to nothing: wlan0 down with no address, which is no fault.
  if (h.wifi !== null && !h.wifi.connected && wlan.length > 0) problems.push(`${WIFI_INTERFACE} has addresses although the handset is not joined to Wi-Fi`);
  if (h.wifi?.connected === true) {
    if (!has(WIFI_INTERFACE, h.wifi.ipv4Address)) problems.push(`${WIFI_INTERFACE} lacks ${h.wifi.ipv4Address}`);
    const prefix = h.wifi.ipv6Prefix;
    const global = wlan.filter((a) => a.family === 6 && a.scope === 'global' && inPrefix(a.address, prefix));
    if (settings.wifiIpv6 && !global.some((a) => !a.temporary)) problems.push(`${WIFI_INTERFACE} has no SLAAC address from ${h.wifi.ipv6Prefix}`);
    if (settings.wifiIpv6 && settings.wifiPrivacy && !global.some((a) => a.temporary)) problems.push(`${WIFI_INTERFACE} has no temporary (privacy) address`);
  }
  // Ethernet (./ethernet.ts): what its provisioning recorded is still there.
  const ethernet = h.ethernet ?? null;
  if (ethernet?.connected) {
    const eth = links.get(ethernet.interface) ?? [];
    if (eth.length === 0) problems.push(`${ethernet.interface} is provisioned but has no address (the link went?)`);
    for (const address of [...ethernet.ipv6Addresses.slice(0, 1), ...(ethernet.ipv4Address === null ? [] : [ethernet.ipv4Address])]) {
      if (!has(ethernet.interface, address)) problems.push(`${ethernet.interface} lacks ${address}`);
    }
    if (ethernet.clat !== null) {
      const tayga = state.processes.find((p) => p.name === `tayga-clat-${ethernet.interface}` && p.namespace === h.namespace);
      if (!tayga || !(await isRunning(tayga))) problems.push(`the CLAT of ${ethernet.interface} (tayga) is not running`);
    }
  }
  if (h.attached && state.backgroundTraffic && (h.background ?? null) === null) problems.push('no background traffic');
  if (h.background) {
    const background = h.background;
    if (!(await isRunning(background))) problems.push(`the background traffic (pid ${background.pid}) is not running; see ${background.logFile}`);
  }
  return problems;
}

/** The lab of `stateDir` as it is now; `phase: 'down'` when there is no state file. */
export async function labStatus(stateDir: string): Promise<LabStatus> {
  const state = await readState(stateDir);
  if (state === null) return { labId: null, phase: 'down', healthy: false, components: [], handsets: [] };
  const live = new Set(await listNamespaces());
  const components: ComponentStatus[] = [];
  for (const ns of state.namespaces) {
    const running = live.has(ns.name);
    components.push({
      kind: 'namespace',
      name: ns.name,
      ...(ns.handsetIndex === undefined ? {} : { handsetIndex: ns.handsetIndex }),
      running,
      healthy: running,
      ...(running ? {} : { detail: 'namespace is gone' }),
    });
  }
  for (const proc of state.processes) {
    const running = await isRunning(proc);
    components.push({
      kind: 'process',
      name: `${proc.name} (pid ${proc.pid})`,
      ...(proc.handsetIndex === undefined ? {} : { handsetIndex: proc.handsetIndex }),
      running,
      healthy: running,
      ...(running ? {} : { detail: `not running; see ${proc.logFile}` }),
    });
  }
  const handsets: HandsetStatus[] = [];
  for (const h of state.handsets) {
    const problems = await handsetProblems(state, h, live);
    handsets.push({ index: h.index, attached: h.attached, healthy: problems.length === 0, problems });
  }
  const healthy = state.phase === 'up' && components.every((c) => c.healthy) && handsets.every((h) => h.healthy);
  return { labId: state.labId, phase: state.phase, healthy, components, handsets };
}
