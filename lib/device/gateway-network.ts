/**
 * A `v6lab gateway` network a device is connected to, as the gateway recorded it in
 * `DIR/gateway.json` (written by lib/lab/network/gateway.ts; only what a device on it is judged
 * by is read here): the /64 its RAs announce and the IPv4 subnet its DHCP hands out. The harness
 * checks a device is on the gateway by an address of the device in one of them on the interface
 * of its default network.
 */
import { join } from 'node:path';
import { readCappedFile } from '../config/files.js';
import { DataFileError } from '../config/schema.js';
import { AddressError, type Prefix, parsePrefix } from '../net/address.js';

export interface GatewayNetwork {
  /** The gateway's state directory. */
  dir: string;
  mode: string;
  /** The host interface the device is on, as the host named it. */
  deviceLink: string;
  /** `2001:db8:…::/64`, or null in ipv4-only mode. */
  ipv6Prefix: string | null;
  /** `10.0.0.0/24`, or null in the IPv6-only modes. */
  ipv4Subnet: string | null;
}

const MAX_RECORD = 64 * 1024;

/**
 * The gateway of `dir`, or a sentence saying why there is none (not up, or its record unreadable).
 * Throws DataFileError naming the field for a record of the wrong shape.
 */
export function readGatewayNetwork(dir: string): GatewayNetwork | { down: string } {
  const file = join(dir, 'gateway.json');
  // A regular file of a gateway's size, never through a symlink or from a FIFO.
  const read = readCappedFile(file, MAX_RECORD);
  if ('problem' in read) {
    return { down: read.problem === 'missing' ? `no v6lab gateway is up in ${dir} (v6lab gateway up --state-dir ${dir})` : `${file}: ${read.problem}` };
  }
  const text = read.bytes.toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DataFileError(file, '', `not JSON: ${(error as Error).message}`);
  }
  const record = raw as Record<string, unknown>;
  const field = (name: string, value: unknown, nullable: boolean): string | null => {
    if (value === null && nullable) return null;
    if (typeof value !== 'string' || value.length === 0 || value.length > 64)
      throw new DataFileError(file, name, `expected ${nullable ? 'a string or null' : 'a string'}`);
    return value;
  };
  if (typeof raw !== 'object' || raw === null || record.version !== 1) throw new DataFileError(file, 'version', 'not a gateway record of this version (1)');
  const link = record.deviceLink as Record<string, unknown> | undefined;
  const ipv6Prefix = field('lanIpv6Prefix', record.lanIpv6Prefix, true);
  const ipv4Subnet = field('lanIpv4Subnet', record.lanIpv4Subnet, true);
  // Parsed here, so the harness's inPrefix never meets a prefix that does not parse.
  for (const [name, prefix, family] of [
    ['lanIpv6Prefix', ipv6Prefix, 6],
    ['lanIpv4Subnet', ipv4Subnet, 4],
  ] as const) {
    if (prefix === null) continue;
    let parsed: Prefix | null = null;
    try {
      if (/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(prefix)) parsed = parsePrefix(prefix, name);
    } catch (error) {
      if (!(error instanceof AddressError)) throw error;
    }
    if (parsed === null || parsed.family !== family) throw new DataFileError(file, name, `${JSON.stringify(prefix)} is not an IPv${family} prefix`);
  }
  return {
    dir,
    mode: field('mode', record.mode, false) ?? '',
    deviceLink: field('deviceLink.name', link?.name, false) ?? '',
    ipv6Prefix,
    ipv4Subnet,
  };
}
