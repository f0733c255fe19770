/**
 * `gateway up --uplink IFACE`: the real internet behind the gateway, through a veth and an
 * nftables table of the gateway's own in the host's namespace; what it needs of the host (its
 * resolvers, whether it forwards IPv6) read, never changed beyond what is recorded to be put back.
 */
import { readFile } from 'node:fs/promises';
import { ipBatch, nftLoad, run } from './command.js';
import { nat44Ruleset } from './config.js';
import { step, type Context } from './context.js';
import { GatewayInputError, type GatewayRecord, type HostAddresses, INTERFACE_NAME, type UplinkRecord, writeGatewayRecord } from './gateway-record.js';
import { handsetAddressing, labHash16 } from './plan.js';

/** The uplink exists in this namespace and is not the device link. */
export async function checkUplink(name: string, deviceLink: string): Promise<void> {
  if (!INTERFACE_NAME.test(name)) throw new GatewayInputError('--uplink', `${JSON.stringify(name)} is not an interface name`);
  if (name === deviceLink) throw new GatewayInputError('--uplink', `${name} is the device link too: give the interface the host reaches the internet by`);
  try {
    await run(['ip', 'link', 'show', 'dev', name]);
  } catch {
    throw new GatewayInputError('--uplink', `no interface ${JSON.stringify(name)} in this network namespace (\`ip link show\` lists them)`);
  }
}

/** The host's resolvers (resolv.conf, or systemd-resolved's upstreams), none on loopback: the gateway's namespace cannot reach those. */
export async function hostResolvers(): Promise<string[]> {
  for (const file of ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf']) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    const servers = [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)]
      .map((m) => m[1] ?? '')
      .filter((a) => a !== '' && !a.startsWith('127.') && a !== '::1' && !a.includes('%'));
    if (servers.length > 0) return servers;
  }
  return [];
}

/** Whether this namespace forwards IPv6 (a host setting the gateway reads, never changes). */
export async function hostForwardsIpv6(): Promise<boolean> {
  return (await readFile('/proc/sys/net/ipv6/conf/all/forwarding', 'utf8').catch(() => '0')).trim() === '1';
}

/**
 * `--uplink`: wan0 to a veth in the host's namespace, the gateway masquerading the device's IPv4
 * and NAT64's pool out of wan0, and the host masquerading wan0's subnet out of the uplink in a
 * table of the gateway's own. IPv4 forwarding is turned on for the two interfaces only (values
 * recorded first, put back at down). Native IPv6 is masqueraded out too when the host forwards
 * IPv6 already; the gateway never turns that on (it would change how the host takes RAs).
 */
export async function setUpUplink(ctx: Context, record: GatewayRecord, stateDir: string): Promise<void> {
  const uplink = record.uplink;
  if (uplink === null) return;
  const gw = record.namespace;
  const a = handsetAddressing(ctx.labId, 0);
  const wan = uplinkWan(ctx.labId);
  await step(ctx, 'gateway: uplink', async () => {
    // Another gateway (another --id) whose link took the same /24: refused rather than routed wrong.
    const taken = JSON.parse(await run(['ip', '-j', '-4', 'addr', 'show'])) as HostAddresses[];
    const clash = taken.find((l) => l.addr_info.some((x) => x.local.startsWith(wan.subnet.replace(/0\/24$/, ''))));
    if (clash !== undefined)
      throw new GatewayInputError(
        '--id',
        `${wan.subnet}, the uplink link of gateway ${ctx.labId}, is in use on ${clash.ifname}: give the gateway another --id`,
      );
    await run(['ip', 'link', 'add', uplink.hostLink, 'type', 'veth', 'peer', 'name', 'wan0', 'netns', gw]);
    await run(['ip', 'addr', 'add', `${wan.host}/24`, 'dev', uplink.hostLink]);
    await run(['ip', 'link', 'set', 'dev', uplink.hostLink, 'up']);
    await ipBatch(gw, [
      ['link', 'set', 'lo', 'up'],
      ['addr', 'add', `${wan.gateway}/24`, 'dev', 'wan0'],
      ['link', 'set', 'wan0', 'up'],
      ['route', 'add', 'default', 'via', wan.host],
    ]);
    // Everything of the device (its IPv4, NAT64's pool) leaves wan0 as wan0's address.
    await nftLoad(gw, nat44Ruleset(`{ ${a.handsetIpv4Subnet}, ${a.nat64Pool} }`, 'wan0'));
    for (const dev of [uplink.hostLink, uplink.interface]) {
      const key = `net.ipv4.conf.${dev}.forwarding`;
      const previous = (await readFile(`/proc/sys/net/ipv4/conf/${dev}/forwarding`, 'utf8')).trim();
      uplink.forwarding.push({ key, previous });
      await writeGatewayRecord(stateDir, record);
      await run(['sysctl', '-q', '-w', `${key}=1`]);
    }
    await run(['nft', '-f', '-'], { input: hostUplinkRuleset(uplink, wan.subnet, record.lanIpv6Prefix) });
    if (uplink.ipv6 && record.lanIpv6Prefix !== null) {
      await ipBatch(gw, [['addr', 'add', `${a.gatewayWanIpv6}/64`, 'dev', 'wan0', 'nodad']], 6);
      await run(['ip', '-6', 'addr', 'add', `${a.internetGatewaySideIpv6}/64`, 'dev', uplink.hostLink, 'nodad']);
      await run(['ip', '-6', 'route', 'add', record.lanIpv6Prefix, 'via', a.gatewayWanIpv6, 'dev', uplink.hostLink]);
      await ipBatch(gw, [['route', 'add', '::/0', 'via', a.internetGatewaySideIpv6, 'dev', 'wan0']], 6);
    }
  });
}

/**
 * The /24 between the host and an `--uplink` gateway's wan0, one per gateway id (100.95.N.0/24,
 * N from the id): two gateways of other ids can be up on one host.
 */
export function uplinkWan(labId: string): { host: string; gateway: string; subnet: string } {
  const n = labHash16(labId) & 0xff;
  return { host: `100.95.${n}.1`, gateway: `100.95.${n}.2`, subnet: `100.95.${n}.0/24` };
}

/** The host's table for `--uplink`: masquerade out of it, and let the two links forward to each other. */
export function hostUplinkRuleset(
  uplink: Pick<UplinkRecord, 'interface' | 'hostLink' | 'nftTable' | 'ipv6'>,
  wanSubnet: string,
  lanIpv6Prefix: string | null,
): string {
  const ipv6 = uplink.ipv6 && lanIpv6Prefix !== null;
  return `table inet ${uplink.nftTable} {
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "${uplink.hostLink}" oifname "${uplink.interface}" accept
    iifname "${uplink.interface}" oifname "${uplink.hostLink}" ct state established,related accept
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "${uplink.interface}" ip saddr ${wanSubnet} masquerade
${
  ipv6
    ? `    oifname "${uplink.interface}" ip6 saddr ${lanIpv6Prefix} masquerade
`
    : ''
}  }
}
`;
}

/** Undoes what `--uplink` did in the host's namespace; each part only if it is still there. */
export async function undoUplink(uplink: UplinkRecord): Promise<string[]> {
  const removed: string[] = [];
  try {
    await run(['ip', 'link', 'show', 'dev', uplink.hostLink]);
    await run(['ip', 'link', 'del', 'dev', uplink.hostLink]);
    removed.push(`link ${uplink.hostLink}`);
  } catch {
    // gone already (with the gateway's namespace, its peer's)
  }
  try {
    await run(['nft', 'list', 'table', 'inet', uplink.nftTable]);
    await run(['nft', 'delete', 'table', 'inet', uplink.nftTable]);
    removed.push(`nftables table inet ${uplink.nftTable}`);
  } catch {
    // never made, or removed
  }
  for (const { key, previous } of uplink.forwarding) {
    // The veth's key is gone with it; the uplink's is put back as the host had it.
    if (!/^net\.ipv4\.conf\.[A-Za-z0-9_.-]{1,15}\.forwarding$/.test(key) || !/^[01]$/.test(previous)) continue;
    const file = `/proc/sys/${key.replaceAll('.', '/')}`;
    const now = await readFile(file, 'utf8').catch(() => null);
    if (now === null || now.trim() === previous) continue;
    await run(['sysctl', '-q', '-w', `${key}=${previous}`]);
    removed.push(`${key} back to ${previous}`);
  }
  return removed;
}
