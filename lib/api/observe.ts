/**
 * The device's current network as facts (NetworkFacts): the default network `dumpsys
 * connectivity` names, its addresses as `ip addr` shows them on its interface, its DNS servers,
 * NAT64 prefix and CLAT. Read over adb like any phone; the reading (networkFacts) is pure.
 */
import { AdbkitBackend, adbClient, adbServerAddress, type DeviceBackend } from '../device/adb.js';
import { parseDumpsysConnectivity, parseIpAddr, type InterfaceAddresses } from '../device/parse/index.js';
import { clatOf, defaultNetwork, type DumpsysConnectivity } from '../device/parse/connectivity.js';
import type { DeviceCaptureOptions, NetworkFacts } from './types.js';

/** The adb server a device is reached through: `DeviceCaptureOptions.adb`. */
export type AdbServer = NonNullable<DeviceCaptureOptions['adb']>;

/**
 * A backend for `serial` on the adb server named (else the environment's, as adb reads it),
 * checked to be there.
 * @throws DeviceUnavailableError naming the serial when adb does not list it as a device
 */
export async function connectDevice(serial: string, adb: AdbServer = {}): Promise<AdbkitBackend> {
  // A host given replaces the environment's, whichever variable set it.
  const env = adb.host === undefined ? process.env : { ...process.env, ADB_SERVER_SOCKET: undefined, ANDROID_ADB_SERVER_ADDRESS: adb.host };
  const port = adb.port ?? adbServerAddress(env).port;
  const backend = new AdbkitBackend(adbClient(port, env), serial, port);
  await backend.ensureAvailable();
  return backend;
}

/**
 * NetworkFacts from `dumpsys connectivity` and `ip -o addr show` (either may be null: unread).
 * The addresses are the default network's interface's global ones as `ip` shows them, else as
 * dumpsys lists them when `ip` could not be read.
 */
export function networkFacts(
  serial: string,
  connectivity: DumpsysConnectivity | null,
  interfaces: readonly InterfaceAddresses[] | null,
  observedAt: Date,
): NetworkFacts {
  const network = connectivity === null ? null : defaultNetwork(connectivity);
  if (network === null) return { serial, defaultNetwork: null, observedAt: observedAt.toISOString() };
  const lp = network.linkProperties;
  const name = lp?.interfaceName ?? null;
  const shown = interfaces?.find((i) => i.name === name);
  const addresses =
    shown === undefined
      ? (lp?.linkAddresses ?? []).map((a) => a.address).filter((a) => !a.toLowerCase().startsWith('fe80:'))
      : shown.addresses.filter((a) => a.scope === 'global').map((a) => a.address);
  const clat = clatOf(connectivity!, network);
  return {
    serial,
    defaultNetwork: {
      netId: network.netId ?? -1,
      type: network.type,
      apn: network.type === 'MOBILE' ? network.extra : null,
      interfaceName: name,
      ipv6Addresses: addresses.filter((a) => a.includes(':')),
      ipv4Addresses: addresses.filter((a) => !a.includes(':')),
      dnsServers: [...(lp?.dnsAddresses ?? [])],
      nat64Prefix: lp?.nat64Prefix ?? clat?.nat64Prefix?.value ?? null,
      clat:
        clat === null
          ? null
          : { interface: clat.v4Interface?.value ?? null, v6Address: clat.v6Address?.value ?? null, v4Address: clat.v4Address?.value ?? null },
    },
    observedAt: observedAt.toISOString(),
  };
}

/** Reads a reached device's network now. A dumpsys that fails (refused, cut short) is an error; `ip` unread falls back to dumpsys. */
export async function observeBackend(backend: DeviceBackend): Promise<NetworkFacts> {
  const observedAt = new Date();
  const [dump, ip] = await Promise.all([backend.runOk(['dumpsys', 'connectivity']), backend.runOk(['ip', '-o', 'addr', 'show']).catch(() => null)]);
  return networkFacts(backend.serial, parseDumpsysConnectivity(dump), ip === null ? null : parseIpAddr(ip), observedAt);
}

/**
 * The device's current network.
 * @param adb the adb server, or a DeviceBackend already reached (tests, the Appium plugin's own)
 * @throws DeviceUnavailableError naming the serial when adb does not list it
 */
export async function observeDevice(serial: string, adb?: AdbServer | DeviceBackend): Promise<NetworkFacts> {
  const backend = adb !== undefined && 'runOk' in adb ? adb : await connectDevice(serial, adb);
  return observeBackend(backend);
}
