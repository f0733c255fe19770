/**
 * The carrier daemons every gateway runs, the lab's per-handset gateways (up.ts) and `v6lab
 * gateway` (gateway.ts) alike: the resolver (DNS64 where the network has it), tayga as NAT64 and
 * radvd. Each writes its configuration into `dir` and starts as a recorded daemon in `namespace`.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inNamespace, ipBatch, run } from './command.js';
import { radvdConf, resolverUnboundConf, taygaConf } from './config.js';
import { daemon, logFile, type Context } from './context.js';
import type { LabProcess } from './process.js';

interface Placement {
  namespace: string;
  /** Where the configuration goes. */
  dir: string;
  /** The lab handset the gateway serves (its daemons are recorded with it); none for `v6lab gateway`. */
  handsetIndex?: number;
}

const recordedFor = (p: Placement): { handsetIndex?: number } => (p.handsetIndex === undefined ? {} : { handsetIndex: p.handsetIndex });

/** unbound answering on `listen`, forwarding to `upstream`; DNS64 under a NAT64 prefix with `dns64`. */
export async function startResolver(
  ctx: Context,
  p: Placement & { listen: readonly string[]; tlds: readonly string[]; upstream: readonly string[]; dns64: { nat64Prefix: string; synthAll?: boolean } | null },
): Promise<LabProcess> {
  const conf = path.join(p.dir, 'unbound-resolver.conf');
  await writeFile(conf, resolverUnboundConf(p.dir, p.listen, p.tlds, p.upstream, p.dns64));
  return daemon(ctx, {
    name: p.dns64 ? 'unbound-dns64' : 'unbound-resolver',
    namespace: p.namespace,
    ...recordedFor(p),
    argv: inNamespace(p.namespace, ['unbound', '-d', '-c', conf]),
    logFile: logFile(ctx, p.namespace, 'unbound'),
    ready: /start of service/,
  });
}

/** tayga translating `prefix` to a dynamic IPv4 `pool`, on a TUN `nat64` routed for both. */
export async function startNat64(ctx: Context, p: Placement & { prefix: string; pool: string; taygaIpv4: string; taygaIpv6: string }): Promise<LabProcess> {
  const conf = path.join(p.dir, 'tayga-nat64.conf');
  await writeFile(conf, taygaConf({ tunDevice: 'nat64', ipv4Address: p.taygaIpv4, ipv6Address: p.taygaIpv6, prefix: p.prefix, dynamicPool: p.pool }));
  await run(inNamespace(p.namespace, ['tayga', '--mktun', '-c', conf]));
  await ipBatch(p.namespace, [
    ['link', 'set', 'nat64', 'up'],
    ['route', 'add', p.prefix, 'dev', 'nat64'],
    ['route', 'add', p.pool, 'dev', 'nat64'],
  ]);
  // tayga writes its messages to stdout, block-buffered into a file: stdbuf (which execs,
  // keeping the PID) makes them arrive when printed. -d: foreground, messages on stdout.
  return daemon(ctx, {
    name: 'tayga-nat64',
    namespace: p.namespace,
    ...recordedFor(p),
    argv: inNamespace(p.namespace, ['stdbuf', '-oL', 'tayga', '-d', '-c', conf]),
    logFile: logFile(ctx, p.namespace, 'tayga-nat64'),
    ready: /NAT64 prefix/,
  });
}

/** radvd announcing `prefix` (SLAAC) and `rdnss` on `interface`. */
export async function startRadvd(ctx: Context, p: Placement & { interface: string; prefix: string; rdnss: string }): Promise<LabProcess> {
  const conf = path.join(p.dir, 'radvd.conf');
  await writeFile(conf, radvdConf({ interface: p.interface, prefix: p.prefix, rdnss: p.rdnss }));
  return daemon(ctx, {
    name: 'radvd',
    namespace: p.namespace,
    ...recordedFor(p),
    argv: inNamespace(p.namespace, ['radvd', '-n', '-m', 'stderr', '-d', '1', '-C', conf, '-p', path.join(p.dir, 'radvd.pid')]),
    logFile: logFile(ctx, p.namespace, 'radvd'),
    ready: /polling for/,
  });
}
