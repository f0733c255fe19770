/** `v6lab gateway up|status|down`: a v6lab network for real devices on a host interface (docs/gateway.md). */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { DEFAULT_WORLD } from '../lab/lab.js';
import { checkNat64Prefix, gatewayDown, gatewayUp, streamCaptureArgv } from '../lab/network/gateway.js';
import { GATEWAY_MODES, type GatewayMode, readGatewayRecord } from '../lab/network/gateway-record.js';
import { type GatewayStatus, gatewayStatus } from '../lab/network/gateway-status.js';
import { NAT64_PREFIX } from '../lab/network/plan.js';
import { loadWorld } from '../lab/world.js';
import { EXIT, UsageError } from './errors.js';
import { NeedsRootError } from './lab.js';

export const DEFAULT_GATEWAY_STATE_DIR = '/run/v6lab-gateway';

export function gatewayStateDir(option: string | undefined): string {
  return option ?? process.env.V6LAB_GATEWAY_STATE_DIR ?? DEFAULT_GATEWAY_STATE_DIR;
}

function requireRoot(command: string): void {
  if (process.getuid?.() !== 0) {
    throw new NeedsRootError(
      `\`v6lab gateway ${command}\` needs root (it moves a host interface into a network namespace and runs radvd, unbound and tayga there): run it as root`,
    );
  }
}

export interface GatewayUpCommandOptions {
  deviceLink?: string;
  mode?: string;
  world?: string;
  uplink?: string;
  /** --dns ADDR (repeatable): the resolvers behind --uplink. */
  dns?: string[];
  capture?: string;
  prefix?: string;
  pref64?: boolean;
  force?: boolean;
  stateDir?: string;
  id?: string;
}

const ID = /^[a-z0-9]{1,6}$/;

export async function gatewayUpCommand(options: GatewayUpCommandOptions, out: NodeJS.WritableStream): Promise<number> {
  if (options.deviceLink === undefined)
    throw new UsageError('--device-link: required (the host interface the device is on: a USB Ethernet adapter, a veth, a tap)');
  const mode = (options.mode ?? 'ipv6-only') as GatewayMode;
  if (!GATEWAY_MODES.includes(mode)) throw new UsageError(`--mode: ${JSON.stringify(options.mode)} is not one of ${GATEWAY_MODES.join(', ')}`);
  const nat64Prefix = options.prefix ?? NAT64_PREFIX;
  checkNat64Prefix(nat64Prefix);
  if (options.uplink !== undefined && options.world !== undefined) {
    throw new UsageError('--uplink and --world: give one (the real internet through a host interface, or the simulated one of a world file)');
  }
  if (options.dns !== undefined && options.uplink === undefined) throw new UsageError('--dns: only with --uplink (with --world the world has its own DNS)');
  const dns = options.dns ?? [];
  for (const server of dns) if (!isIP(server)) throw new UsageError(`--dns: ${JSON.stringify(server)} is not an IP address`);
  const labId = options.id ?? 'gw';
  if (!ID.test(labId)) throw new UsageError(`--id: ${JSON.stringify(labId)} is not 1-6 of [a-z0-9]`);
  const capture = options.capture ?? null;
  if (capture !== null && capture !== '-') {
    const target = path.resolve(capture);
    if (existsSync(target)) throw new UsageError(`--capture: ${target} exists; a capture is never overwritten (remove it or name another file)`);
    const dir = path.dirname(target);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--capture: ${dir} is no directory`);
  }
  // The world file is checked before root: a typo is exit 2 naming the file and field.
  const world = options.uplink === undefined ? loadWorld(options.world ?? DEFAULT_WORLD) : null;
  requireRoot('up');
  const stateDir = gatewayStateDir(options.stateDir);
  const record = await gatewayUp({
    stateDir,
    labId,
    deviceLink: options.deviceLink,
    mode,
    nat64Prefix,
    pref64: options.pref64 === true,
    world: world === null ? null : { hosts: world.hosts },
    uplink: options.uplink === undefined ? null : { interface: options.uplink, dns },
    capture,
    force: options.force === true,
  });
  const status = await gatewayStatus(stateDir);
  process.stderr.write(
    `v6lab: gateway up on ${record.deviceLink.name} (${record.mode}); \`v6lab gateway status\` shows it, \`v6lab gateway down\` gives the link back\n`,
  );
  if (capture === '-') {
    // The pcap is this command's stdout until it is interrupted; the gateway stays up.
    return streamCapture(stateDir);
  }
  out.write(formatStatus(status));
  return EXIT.ok;
}

/**
 * `v6lab gateway capture`: the device link's traffic as pcap on stdout until interrupted (or
 * stdout closes): what a profile's `"gatewayCapture": { "gateway": DIR }` runs.
 */
export async function gatewayCaptureCommand(options: { stateDir?: string }): Promise<number> {
  requireRoot('capture');
  if (process.stdout.isTTY)
    throw new UsageError('gateway capture: stdout is a terminal; send the pcap to a file or a program (v6lab gateway capture > device.pcap)');
  return streamCapture(gatewayStateDir(options.stateDir));
}

/** Runs tcpdump on the device link with its pcap on this process's stdout until it ends. */
async function streamCapture(stateDir: string): Promise<number> {
  const record = await readGatewayRecord(stateDir);
  if (record === null) throw new UsageError(`gateway capture: no gateway is up in ${stateDir} (v6lab gateway up)`);
  const [file, ...args] = streamCaptureArgv(record);
  const child = spawn(file ?? 'ip', args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const stop = (): void => {
    child.kill('SIGINT');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  return code === 0 || code === null ? EXIT.ok : EXIT.cannotRun;
}

function formatStatus(status: GatewayStatus): string {
  if (!status.up) return 'no gateway is up\n';
  const lines = [
    `gateway: ${status.mode} on ${status.deviceLink?.name} (${status.deviceLink?.mac}), ${status.healthy ? 'healthy' : 'NOT healthy'}`,
    `namespace: ${status.namespace}`,
  ];
  if (status.prefix !== null) lines.push(`prefix (SLAAC): ${status.prefix}`);
  lines.push(`DNS: ${status.dnsServers.join(', ')}${status.dns64 !== null ? ' (DNS64)' : ''}`);
  if (status.nat64Prefix !== null) lines.push(`NAT64 prefix: ${status.nat64Prefix}${status.pref64 ? ' (PREF64 in RAs)' : ''}`);
  if (status.ipv4 !== null) lines.push(`IPv4 (DHCPv4, NAT44): ${status.ipv4.subnet} via ${status.ipv4.gateway}`);
  if (status.capture !== null) lines.push(`capture: ${status.capture.file}${status.capture.running ? '' : ' (NOT running)'}`);
  for (const client of status.clients) lines.push(`client ${client.mac}: ${client.addresses.join(', ')}`);
  for (const problem of status.problems) lines.push(`problem: ${problem}`);
  return `${lines.join('\n')}\n`;
}

export async function gatewayStatusCommand(options: { json?: boolean; stateDir?: string }, out: NodeJS.WritableStream): Promise<number> {
  const status = await gatewayStatus(gatewayStateDir(options.stateDir));
  out.write(options.json ? `${JSON.stringify(status)}\n` : formatStatus(status));
  return !status.up || status.healthy ? EXIT.ok : EXIT.checkFailed;
}

export async function gatewayDownCommand(options: { stateDir?: string }, out: NodeJS.WritableStream): Promise<number> {
  requireRoot('down');
  const { removed } = await gatewayDown(gatewayStateDir(options.stateDir));
  out.write(removed.length === 0 ? 'nothing to remove: no gateway is up\n' : `removed ${removed.length} things the gateway made\n`);
  return EXIT.ok;
}
