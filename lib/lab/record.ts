/**
 * What the lab knows of its own handsets, as a certification run needs it when no profile file
 * is given (`v6lab certify --devices emulator-5554`, `npm start`): the APN names of its two
 * networks, how to capture (on the handset, or at its gateway), which Appium driver reaches it,
 * and URLs on its internet for the browser probes. The harness builds its device plan from this
 * exactly as from a profile file; nothing else in it knows the device is virtual.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readHandsetState } from './android/state.js';
import { LAB_APNS, readRegistry, systemFileOnHost } from './lab.js';
import { loadApp } from './world.js';
import { BACKGROUND_HOSTS, MOBILE_INTERFACE, readState } from './network/index.js';
import { CAPTURE_BUFFER_KIB } from './network/gateway.js';

export interface LabHandsetProfile {
  serial: string;
  /** The handset profile's name (compliant, noncompliant, ...). */
  profile: string;
  model: string;
  networks: { ipv6: { apn: string }; ipv4v6: { apn: string } };
  capture: ('device' | 'gateway')[];
  /**
   * How the harness can switch its APN, as it could on a phone like it: over `content` where it
   * has root or the shell may use the APN table; else (a retail user build: no root, a closed
   * table) in Settings' Access Point Names, as the phone's user would.
   */
  apnSwitch: 'content' | 'settings-ui';
  /** tcpdump on the handset's radio link from outside it (gatewayCaptureArgv), pcap on stdout (run as root on the host). */
  gatewayCapture: string[];
  appiumCapabilities: Record<string, string>;
  resolverProbeUrl: string | null;
  ipv4OnlyProbeUrl: string | null;
  backgroundHosts: string[];
  /**
   * The app catalogue of what the handset has installed (CONTRACTS section 6): each app's start
   * page links tapped in turn (and back), as a tester walks an app's second-level pages.
   */
  catalogue: {
    name: string;
    apps: { package: string; label: string; dwellMs: number; flow: ({ tap: string } | { wait: number } | { back: true } | { page: string })[] }[];
  };
}

/**
 * The capture "at the gateway" (outside the handset: no root on it needed), pcap on stdout: a
 * tap on the handset's radio link, the veth whose far end is the gateway's apn0, so it carries
 * exactly what apn0 does. Not in the gateway's namespace: a detach stops every process there (the
 * attach's daemons and their children), and an APN switch is a detach and an attach whose capture
 * is the RFC 7050 evidence. A detach also sets the link down, which ends a tcpdump on it, so it
 * listens on `any` and keeps the link's packets by interface index (libpcap 1.10's `ifindex` on
 * the LINUX_SLL2 link type `any` gives); the link itself stays the same across attaches.
 */
export function gatewayCaptureArgv(namespace: string, linkIndex: number | null): string[] {
  const tcpdump = ['-U', '--immediate-mode', '-B', String(CAPTURE_BUFFER_KIB), '-s', '0', '-w', '-'];
  // Without the index (read from the namespace, which needs root, as the capture does) on the link itself.
  return linkIndex === null
    ? ['ip', 'netns', 'exec', namespace, 'tcpdump', '-i', MOBILE_INTERFACE, ...tcpdump]
    : ['ip', 'netns', 'exec', namespace, 'tcpdump', '-i', 'any', ...tcpdump, 'ifindex', String(linkIndex)];
}

/** A link's interface index in a namespace (`ip -j link show` prints `[{"ifindex":5,"ifname":"apn0",...}]`). */
async function interfaceIndex(namespace: string, name: string): Promise<number> {
  const { stdout } = await run('ip', ['-n', namespace, '-j', 'link', 'show', name]);
  const links = JSON.parse(stdout) as { ifindex?: unknown }[];
  const index = links[0]?.ifindex;
  if (typeof index !== 'number' || !Number.isInteger(index))
    throw new Error(`ip -n ${namespace} link show ${name}: no interface index in ${stdout.slice(0, 200)}`);
  return index;
}

const run = promisify(execFile);

/** How long each lab app runs after its flow. */
const LAB_DWELL_MS = 2000;
/** How long the lab's start page is given before its first link is tapped: its loads begin at launch, well within this. */
const LAB_START_PAGE_MS = 500;

/** The lab's record of `serial`, or null when the lab in `stateDir` has no such handset. */
export async function labHandsetProfile(stateDir: string, serial: string): Promise<LabHandsetProfile | null> {
  const record = readRegistry(stateDir).find((h) => h.serial === serial);
  const lab = await readState(stateDir);
  if (!record || !lab) return null;
  const handset = readHandsetState(record.dir);
  const background: string[] = Object.values(BACKGROUND_HOSTS);
  const hosts = lab.world.hosts.filter((h) => !background.includes(h.name));
  // A host that answers on both families: none whose IPv6 fails or whose zone lacks a record.
  const dual = hosts.find((h) => h.ipv4 !== null && h.ipv6 !== null && !h.ipv6Blackholed && h.ipv6Failure === undefined && h.dnsOmits === undefined);
  const v4only = hosts.find((h) => h.ipv4 !== null && h.ipv6 === null);
  return {
    serial,
    profile: record.profile,
    model: handset.profile.model,
    networks: { ipv6: { apn: LAB_APNS.ipv6 }, ipv4v6: { apn: LAB_APNS.ipv4v6 } },
    capture: handset.profile.rooted && handset.profile.tcpdump ? ['device', 'gateway'] : ['gateway'],
    apnSwitch: handset.profile.rooted || handset.profile.apnTableReadable ? 'content' : 'settings-ui',
    gatewayCapture: gatewayCaptureArgv(record.namespace, await interfaceIndex(record.namespace, MOBILE_INTERFACE).catch(() => null)),
    appiumCapabilities: { 'appium:automationName': 'V6labVirtual' },
    resolverProbeUrl: dual ? `https://${dual.name}/` : null,
    ipv4OnlyProbeUrl: v4only?.ipv4 ? `http://${v4only.ipv4}/` : null,
    backgroundHosts: background,
    catalogue: labCatalogue(handset.appFiles ?? {}, (file) => systemFileOnHost(stateDir, file)),
  };
}

/**
 * The catalogue of a lab handset's apps (package -> emulated app file), in package order.
 * `onHost` maps a file as the handset names it to the host's copy (null: not one the lab installed).
 */
export function labCatalogue(appFiles: Record<string, string>, onHost: (file: string) => string | null = (file) => file): LabHandsetProfile['catalogue'] {
  return {
    name: 'v6lab virtual lab apps',
    apps: Object.entries(appFiles)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([pkg, file]) => {
        const hostFile = onHost(file);
        if (hostFile === null) throw new Error(`the handset names ${JSON.stringify(file)} as ${pkg}'s app file, which is not one the lab installed`);
        const app = loadApp(hostFile);
        const links = app.pages[app.start]?.links ?? [];
        // Each screen a page of its own (docs/certify.md, "Pages"): the start page from launch, a
        // moment for its loads to begin, then each link's page marked as it is tapped.
        const pages = links.length === 0 ? [] : [{ page: app.start }, { wait: LAB_START_PAGE_MS }];
        return {
          package: pkg,
          label: app.label,
          dwellMs: LAB_DWELL_MS,
          flow: [...pages, ...links.flatMap((link) => [{ page: link }, { tap: `~${link}` }, { wait: 1000 }, { back: true as const }])],
        };
      }),
  };
}
