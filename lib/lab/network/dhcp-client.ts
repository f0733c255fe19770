/**
 * A handset's DHCPv4 client, as Android's IpClient asks for a lease on Wi-Fi and on Ethernet:
 * busybox udhcpc with one hook for both (./up.ts joins Wi-Fi, ./ethernet.ts provisions a cabled
 * link). A lease holds what the link's DHCP server sent, and on Ethernet that server is anyone's
 * (a gateway, a device the handset is cabled to): the hook only writes the lease down, and
 * `parseLease` checks every field before the caller gives any of it to `ip`.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inPrefix, parseAddress, prefixOf } from '../../net/address.js';
import { inNamespace, run } from './command.js';

/**
 * udhcpc's event hook (`-s`): on a lease, what the server gave, one `key=value` a line, into
 * $V6LAB_LEASE. It sets nothing itself: the address and routes are the caller's, once parsed (and
 * Android keeps a network's routes in that network's table, not in main where a hook would put them).
 * udhcpc prints addresses itself from the packet's bytes (dotted quads, space-separated lists);
 * `mask` is the subnet option as a prefix length.
 */
export const UDHCPC_HOOK = `#!/bin/sh
case "$1" in
  bound|renew)
    printf 'ip=%s\\nmask=%s\\nrouter=%s\\ndns=%s\\n' "$ip" "$mask" "$router" "$dns" > "$V6LAB_LEASE"
    ;;
esac
`;

/** A DHCPv4 lease, every field checked. */
export interface Lease {
  /** The handset's address: a unicast host address of its subnet. */
  ipv4: string;
  /** The subnet's prefix length, 8 to 30. */
  prefixLength: number;
  /** The subnet, `a.b.c.d/len`. */
  subnet: string;
  /** The first router (option 3) when it is a host of the subnet, else null (no IPv4 default route). */
  router: string | null;
  /** Resolvers (option 6): unicast IPv4 addresses only, at most MAX_DNS_SERVERS, each once. */
  dns: string[];
}

/** As many resolvers as Android's DnsResolver uses per network (MAXNS). */
export const MAX_DNS_SERVERS = 4;

/** No answer, or an answer that is no lease: the link has no DHCPv4 (an IPv6-only link) or a server not to trust. */
export class NoLeaseError extends Error {
  constructor(
    readonly namespace: string,
    readonly iface: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`DHCPv4 on ${iface} in ${namespace}: ${reason}`, options);
    this.name = 'NoLeaseError';
  }
}

/** A dotted quad as udhcpc prints one: four decimal parts, no leading zeros (never inet_aton's `10.1` or `0x7f.1`). */
const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** `a.b.c.d` as a 32-bit number, or null when `text` is not a dotted quad. */
function ipv4Number(text: string): number | null {
  if (!DOTTED_QUAD.test(text)) return null;
  const { bytes } = parseAddress(text);
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

/** Not 0/8 ("this network"), 127/8 (loopback), 224/4 (multicast) or 240/4 (reserved, broadcast). */
function isUnicast(n: number): boolean {
  const first = n >>> 24;
  return first !== 0 && first !== 127 && first < 224;
}

/**
 * The lease UDHCPC_HOOK wrote, or null when it is none: an address that is not a unicast host of
 * its subnet (nor the subnet's first or last address), a prefix length outside 8..30, a key
 * given twice (a value that smuggled a newline in). A lease without a mask is a /24, as busybox's
 * own hook assumes. A router outside the subnet (it could not be reached on the link) is dropped,
 * as are resolvers that are not unicast IPv4 addresses.
 */
export function parseLease(text: string): Lease | null {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const at = line.indexOf('=');
    if (at < 1) return null;
    const key = line.slice(0, at);
    if (fields.has(key)) return null;
    fields.set(key, line.slice(at + 1).trim());
  }
  const ipv4 = fields.get('ip') ?? '';
  const address = ipv4Number(ipv4);
  const maskText = fields.get('mask') || '24';
  const prefixLength = /^\d{1,2}$/.test(maskText) ? Number(maskText) : Number.NaN;
  if (address === null || !isUnicast(address) || !(prefixLength >= 8 && prefixLength <= 30)) return null;
  const hostBits = 32 - prefixLength;
  const host = hostBits === 0 ? 0 : address & ((2 ** hostBits - 1) >>> 0);
  if (host === 0 || host === 2 ** hostBits - 1) return null;
  const subnet = prefixOf(ipv4, prefixLength);
  const router = (fields.get('router') ?? '').split(/\s+/)[0] ?? '';
  const routerNumber = ipv4Number(router);
  const dns = [
    ...new Set(
      (fields.get('dns') ?? '').split(/\s+/).filter((x) => {
        const n = ipv4Number(x);
        return n !== null && isUnicast(n);
      }),
    ),
  ].slice(0, MAX_DNS_SERVERS);
  return {
    ipv4,
    prefixLength,
    subnet,
    router: routerNumber !== null && routerNumber !== address && inPrefix(router, subnet) ? router : null,
    dns,
  };
}

export interface LeaseRequest {
  /** DISCOVERs sent, a second apart, before giving up. */
  tries: number;
  /** Where the hook and the lease file go (the handset's run directory for this link). */
  dir: string;
}

/**
 * Asks for a lease on `iface` in namespace `ns` (busybox udhcpc, once, no daemon left) and
 * returns it parsed; NoLeaseError when no server answered or the lease failed parseLease.
 */
export async function requestLease(ns: string, iface: string, request: LeaseRequest): Promise<Lease> {
  const hook = path.join(request.dir, 'udhcpc.sh');
  const leaseFile = path.join(request.dir, 'udhcpc.lease');
  await writeFile(hook, UDHCPC_HOOK, { mode: 0o755 });
  await rm(leaseFile, { force: true });
  try {
    await run(
      inNamespace(ns, [
        'env',
        `V6LAB_LEASE=${leaseFile}`,
        'busybox',
        'udhcpc',
        '-i',
        iface,
        '-f',
        '-q',
        '-n',
        '-t',
        String(request.tries),
        '-T',
        '1',
        '-s',
        hook,
      ]),
      (request.tries + 5) * 1000,
    );
  } catch (error) {
    throw new NoLeaseError(ns, iface, `no server answered ${request.tries} DISCOVERs`, { cause: error });
  }
  const text = await readFile(leaseFile, 'utf8').catch(() => '');
  const lease = parseLease(text);
  if (lease === null) throw new NoLeaseError(ns, iface, `the server's lease is not one to use (${JSON.stringify(text.slice(0, 300))}): refused`);
  return lease;
}
