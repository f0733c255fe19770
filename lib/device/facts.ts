/**
 * What the harness learns of a device by asking it, as it would ask a phone: its build, how it
 * can get root and capture packets, its addresses, and what its default network reports
 * (NAT64 prefix, CLAT), and which build it runs (./identity.ts). Every fact is probed; a probe that fails leaves its fact null and says
 * why in `problems`, so one odd device never hides the others.
 */
import type { DeviceBackend } from './adb.js';
import { PCAPDROID_PACKAGE } from './capture.js';
import { parseDumpsysConnectivity, parseGetprop, parseIpAddr, type InterfaceAddresses } from './parse/index.js';
import { defaultNetwork } from './parse/connectivity.js';
import { identityFromProperties, parseKernelRelease, type DeviceIdentity } from './identity.js';

export type RootMethod = 'adbd' | 'su' | null;

export interface DeviceFacts {
  serial: string;
  model: string | null;
  manufacturer: string | null;
  android: string | null;
  sdk: number | null;
  buildType: string | null;
  /**
   * Which build: fingerprint, build id, security patch, baseband, SIM operators, kernel (and the
   * model and version above, again, so the identity is one object a report can keep whole).
   */
  identity: DeviceIdentity;
  /** How a command can run as root: adbd already is, or `su -c` works. */
  root: RootMethod;
  /** Path of tcpdump on the device, or null. */
  tcpdump: string | null;
  /** PCAPdroid is installed: a capture without root (`capture: pcapdroid`). */
  pcapdroid: boolean;
  interfaces: { name: string; addresses: string[] }[];
  defaultNetwork: {
    interfaceName: string | null;
    type: string | null;
    apn: string | null;
    addresses: string[];
    dns: string[];
    nat64Prefix: string | null;
    clat: { interfaceName: string; ipv4: string | null } | null;
  } | null;
  problems: string[];
}

async function attempt<T>(problems: string[], what: string, work: () => Promise<T>): Promise<T | null> {
  try {
    return await work();
  } catch (error) {
    problems.push(`${what}: ${(error as Error).message}`);
    return null;
  }
}

export async function probeDevice(device: DeviceBackend): Promise<DeviceFacts> {
  const problems: string[] = [];
  // Independent round trips, made at once (su is asked only when adbd is not root).
  const rootProbe = attempt(problems, 'id', () => device.run(['id'])).then(async (id): Promise<RootMethod> => {
    if (id && /^uid=0\b/.test(id.output)) return 'adbd';
    const su = await attempt(problems, 'su', () => device.run(['su', '-c', 'id'], { timeoutMs: 5000 }));
    return su && su.exitCode === 0 && /^uid=0\b/m.test(su.output) ? 'su' : null;
  });
  const [props, root, which, pcapdroid, addresses, connectivity, kernel] = await Promise.all([
    attempt(problems, 'getprop', async () => parseGetprop(await device.runOk(['getprop']))).then((p) => p ?? {}),
    rootProbe,
    attempt(problems, 'which tcpdump', () => device.run(['which', 'tcpdump'])),
    attempt(problems, 'pm path', () => device.run(['pm', 'path', PCAPDROID_PACKAGE])),
    attempt(problems, 'ip -o addr', async () => parseIpAddr(await device.runOk(['ip', '-o', 'addr', 'show']))).then((a) => a ?? []),
    attempt(problems, 'dumpsys connectivity', async () => parseDumpsysConnectivity(await device.runOk(['dumpsys', 'connectivity']))),
    attempt(problems, 'uname -r', async () => parseKernelRelease(await device.runOk(['uname', '-r']))),
  ]);
  // The network `Active default network:` names, or none: never the first network listed (a
  // VoLTE phone lists its IMS network first, and a phone without a default has none).
  const network = connectivity === null ? null : defaultNetwork(connectivity);
  const lp = network?.linkProperties ?? null;
  const clatLink = lp?.stacked.find((s) => s.interfaceName?.startsWith('v4-')) ?? null;
  const identity: DeviceIdentity = { ...identityFromProperties(props), kernel };
  return {
    serial: device.serial,
    model: identity.model,
    manufacturer: identity.manufacturer,
    android: identity.android,
    sdk: identity.sdk,
    buildType: props['ro.build.type'] ?? null,
    identity,
    root,
    tcpdump: which && which.exitCode === 0 && which.output.trim() !== '' ? which.output.trim().split('\n')[0]! : null,
    pcapdroid: pcapdroid !== null && pcapdroid.exitCode === 0 && /^package:/m.test(pcapdroid.output),
    interfaces: addresses.map((i: InterfaceAddresses) => ({
      name: i.name,
      addresses: i.addresses.filter((a) => a.scope === 'global').map((a) => `${a.address}/${a.prefixLength}`),
    })),
    defaultNetwork:
      network === null
        ? null
        : {
            interfaceName: lp?.interfaceName ?? null,
            type: network.type,
            apn: network.extra,
            addresses: (lp?.linkAddresses ?? []).map((a) => `${a.address}/${a.prefixLength}`),
            dns: [...(lp?.dnsAddresses ?? [])],
            nat64Prefix: lp?.nat64Prefix ?? null,
            clat: clatLink ? { interfaceName: clatLink.interfaceName!, ipv4: clatLink.linkAddresses[0]?.address ?? null } : null,
          },
    problems,
  };
}
