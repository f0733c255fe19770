import path from 'node:path';
import { readCappedFile, writeJsonWhole } from '../../config/files.js';
import { gatewayNamespace, LAB_ID } from './plan.js';

export const GATEWAY_MODES = ['ipv6-only', 'dual-stack', 'true-ipv6-only', 'ipv4-only', 'ipv6-mostly'] as const;

export type GatewayMode = (typeof GATEWAY_MODES)[number];

/** The file beside lab.json that holds what `down` needs to give the device link back. */
export const GATEWAY_FILE = 'gateway.json';

/** What each mode offers on the device link. */
export interface ModeFeatures {
  ipv6: boolean;
  ipv4: boolean;
  dns64: boolean;
  nat64: boolean;
  /** PREF64 in the RAs whatever --pref64 says. */
  pref64: boolean;
  /** DHCPv4 option 108, IPv6-Only Preferred (RFC 8925). */
  v6OnlyPreferred: boolean;
}

export const MODE_FEATURES: Record<GatewayMode, ModeFeatures> = {
  'ipv6-only': { ipv6: true, ipv4: false, dns64: true, nat64: true, pref64: false, v6OnlyPreferred: false },
  'true-ipv6-only': { ipv6: true, ipv4: false, dns64: false, nat64: false, pref64: false, v6OnlyPreferred: false },
  'dual-stack': { ipv6: true, ipv4: true, dns64: false, nat64: false, pref64: false, v6OnlyPreferred: false },
  'ipv6-mostly': { ipv6: true, ipv4: true, dns64: true, nat64: true, pref64: true, v6OnlyPreferred: true },
  'ipv4-only': { ipv6: false, ipv4: true, dns64: false, nat64: false, pref64: false, v6OnlyPreferred: false },
};

/** The device link as the host had it, to give it back so. */
export interface DeviceLinkRecord {
  name: string;
  mac: string;
  mtu: number;
  up: boolean;
  /** The host's global and site addresses on it (link-local ones come back by themselves). */
  addresses: { family: 4 | 6; local: string; prefixlen: number }[];
}

export interface GatewayRecord {
  version: 1;
  labId: string;
  mode: GatewayMode;
  namespace: string;
  deviceLink: DeviceLinkRecord;
  /** Where the link is: still the host's, or moved into the gateway's namespace. */
  moved: boolean;
  lanIpv6Prefix: string | null;
  gatewayIpv6: string | null;
  lanIpv4Subnet: string | null;
  gatewayIpv4: string | null;
  /** The resolver the device is told of (RDNSS, DHCPv4 option 6). */
  dnsServers: string[];
  dns64: boolean;
  nat64Prefix: string | null;
  pref64: boolean;
  v6OnlyPreferred: boolean;
  capture: string | null;
  /** What `--uplink` changed in the host's namespace, to undo it at `down`. */
  uplink: UplinkRecord | null;
  startedAt: string;
}

/** The host side of `--uplink`: all of it is the gateway's own or recorded to be put back. */
export interface UplinkRecord {
  interface: string;
  /** The veth whose peer is the gateway's wan0 (the gateway made it). */
  hostLink: string;
  /** The gateway's own nftables table in the host (`ip` family), masquerading out of `interface`. */
  nftTable: string;
  /** Per-interface IPv4 forwarding the gateway turned on, with the values to put back. */
  forwarding: { key: string; previous: string }[];
  /** The resolvers the gateway's resolver forwards to. */
  dns: string[];
  /** Native IPv6 leaves through the host (it forwards IPv6 already); else every AAAA is synthesized. */
  ipv6: boolean;
}

/** Bad input to `gateway up|down`: the option it names and what is wrong; exit 2. */
export class GatewayInputError extends Error {
  override name = 'GatewayInputError';
  constructor(
    readonly option: string,
    readonly problem: string,
  ) {
    super(`${option}: ${problem}`);
  }
}

/** Linux interface names the gateway takes: what `ip` prints and a batch line can hold. */
export const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

export interface HostAddresses {
  ifname: string;
  addr_info: { family: 'inet' | 'inet6'; local: string; prefixlen: number; scope: string }[];
}

export const gatewayFile = (stateDir: string): string => path.join(stateDir, GATEWAY_FILE);

/** Written whole, through an unguessable temporary name that is never followed (writeJsonWhole). */
export async function writeGatewayRecord(stateDir: string, record: GatewayRecord): Promise<void> {
  writeJsonWhole(gatewayFile(stateDir), record, { mode: 0o600 });
}

/** The gateway's record, or null when none is up. Throws naming the file when it is unreadable. */
export async function readGatewayRecord(stateDir: string): Promise<GatewayRecord | null> {
  const file = gatewayFile(stateDir);
  // Root acts on what it names (a namespace to run tcpdump in, links to move): read no further
  // than a regular file of the gateway's size, never through a symlink or from a FIFO.
  const read = readCappedFile(file, MAX_RECORD);
  if ('problem' in read) {
    if (read.problem === 'missing') return null;
    throw new Error(`${file}: ${read.problem}: not a gateway record`);
  }
  let record: GatewayRecord;
  try {
    record = JSON.parse(read.bytes.toString('utf8')) as GatewayRecord;
  } catch (error) {
    throw new Error(`${file}: not JSON (${(error as Error).message})`);
  }
  const problem = recordProblem(record);
  if (problem !== null) throw new Error(`${file}: not a gateway record this version writes (${problem})`);
  return record;
}

const MAX_RECORD = 64 * 1024;

/** What of a record is not what `gateway up` writes, or null: its names reach `ip` and `nft` as root. */
function recordProblem(record: GatewayRecord): string | null {
  if (record === null || typeof record !== 'object' || record.version !== 1) return 'version';
  if (typeof record.labId !== 'string' || !LAB_ID.test(record.labId)) return 'labId';
  if (record.namespace !== gatewayNamespace(record.labId, 0)) return 'namespace';
  if (!GATEWAY_MODES.includes(record.mode)) return 'mode';
  if (typeof record.deviceLink?.name !== 'string' || !INTERFACE_NAME.test(record.deviceLink.name)) return 'deviceLink.name';
  const uplink = record.uplink;
  if (uplink !== null && uplink !== undefined) {
    if (!INTERFACE_NAME.test(String(uplink.interface)) || uplink.hostLink !== `v6l${record.labId}up`) return 'uplink';
    if (uplink.nftTable !== `v6lab_${record.labId}`) return 'uplink.nftTable';
  }
  return null;
}
