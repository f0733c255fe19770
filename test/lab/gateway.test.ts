// Issue 16, "Shown to work": `v6lab gateway` on a device link, in namespaces only. The test makes
// a namespace standing in for the host (`v6gt-host`) and one for the device (`v6gt-dev`) with a
// veth pair between them; the gateway runs inside the host stand-in (`ip netns exec`), so the
// interface it takes, its default-route check and the link it gives back are never the real
// host's. The device's kernel does SLAAC from the gateway's RAs; what it reaches and what the
// capture shows are checked per mode.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../support/cli.js';
import { requireLab } from '../support/lab-env.js';

const HOST = 'v6gt-host';
const DEVICE = 'v6gt-dev';
/** The device link as the host stand-in has it; its peer in the device namespace is eth0. */
const LINK = 'v6gtlink';
const GATEWAY_ID = 'gtest';
/** The host stand-in's interface to the ISP stand-in, for --uplink. */
const UPLINK = 'v6gtup';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(argv: readonly string[], timeoutMs = 20_000): Promise<Ran> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    execFile(file ?? 'false', args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function must(argv: readonly string[]): Promise<string> {
  const ran = await sh(argv);
  if (ran.code !== 0) throw new Error(`${argv.join(' ')}: exit ${ran.code}: ${ran.stderr}${ran.stdout}`);
  return ran.stdout;
}

const inDevice = (argv: readonly string[]): string[] => ['ip', 'netns', 'exec', DEVICE, ...argv];

/**
 * argv run in the host stand-in's network namespace only: `nsenter --net`, not `ip netns exec`,
 * whose private mount namespace would keep the gateway's own `ip netns add` mounts from the rest
 * of the machine.
 */
const inHost = (argv: readonly string[]): string[] => ['nsenter', `--net=/run/netns/${HOST}`, '--', ...argv];

/** `v6lab ARGS` inside the host stand-in. */
function v6labInHost(args: readonly string[], stateDir: string, timeoutMs = 60_000): Promise<Ran> {
  return sh(inHost([process.execPath, join(projectRoot, 'bin/v6lab.js'), ...args, '--state-dir', stateDir]), timeoutMs);
}

async function linkInHost(): Promise<{ ifname: string; address: string; mtu: number; flags: string[] } | null> {
  const ran = await sh(['ip', '-n', HOST, '-j', 'link', 'show', 'dev', LINK]);
  if (ran.code !== 0) return null;
  return (JSON.parse(ran.stdout) as { ifname: string; address: string; mtu: number; flags: string[] }[])[0] ?? null;
}

async function gatewayNamespaces(): Promise<string[]> {
  return (await must(['ip', 'netns', 'list'])).split('\n').filter((l) => l.startsWith(`v6l-${GATEWAY_ID}-`));
}

/** The device's global IPv6 addresses on eth0, once SLAAC has made one (10 s at most). */
async function slaacAddresses(): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const out = await must(['ip', '-n', DEVICE, '-6', '-j', 'addr', 'show', 'dev', 'eth0', 'scope', 'global']);
    const found = (JSON.parse(out) as { addr_info: { local: string }[] }[]).flatMap((l) => l.addr_info.map((a) => a.local));
    if (found.length > 0 || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function dig(type: 'A' | 'AAAA', name: string, server: string): Promise<string> {
  return must(inDevice(['dig', '+short', '+time=2', '+tries=1', type, name, `@${server}`])).then((s) => s.trim());
}

/** HTTP GET of http://[address]/ with Host: name from the device; the status code or curl's failure. */
async function httpFromDevice(address: string, name: string): Promise<string> {
  const url = address.includes(':') ? `http://[${address}]/` : `http://${address}/`;
  const ran = await sh(inDevice(['curl', '-sS', '-m', '4', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Host: ${name}`, url]), 15_000);
  return ran.code === 0 ? ran.stdout.trim() : `curl exit ${ran.code}`;
}

interface Status {
  up: boolean;
  healthy: boolean;
  mode: string;
  prefix: string | null;
  dns64: string | null;
  dnsServers: string[];
  nat64Prefix: string | null;
  ipv4: { subnet: string; gateway: string } | null;
  clients: { mac: string; addresses: string[] }[];
  problems: string[];
}

describe('lab: v6lab gateway on a device link (issue 16)', function () {
  this.timeout(120_000);
  let work = '';
  let stateDir = '';
  let originalMac = '';

  before(async function () {
    await requireLab(
      this,
      'the gateway tests',
      ['ip', 'tayga', 'unbound', 'radvd', 'tcpdump', 'dig', 'curl', 'nft'],
      'iproute2 tayga unbound radvd tcpdump bind9-dnsutils curl nftables',
    );
    work = mkdtempSync(join(tmpdir(), 'v6lab-gateway-'));
    stateDir = join(work, 'state');
    for (const ns of [HOST, DEVICE]) await sh(['ip', 'netns', 'del', ns]);
    await must(['ip', 'netns', 'add', HOST]);
    await must(['ip', 'netns', 'add', DEVICE]);
    await must(['ip', '-n', HOST, 'link', 'add', LINK, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', DEVICE]);
    // The device takes RAs (a phone's kernel does), without DAD delay.
    await must(
      inDevice(['sysctl', '-q', '-w', 'net.ipv6.conf.eth0.accept_ra=2', 'net.ipv6.conf.eth0.accept_dad=0', 'net.ipv6.conf.eth0.router_solicitation_delay=0']),
    );
    await must(['ip', '-n', DEVICE, 'link', 'set', 'lo', 'up']);
    await must(['ip', '-n', DEVICE, 'link', 'set', 'eth0', 'up']);
    // The host stand-in had an address of its own on the link: it must come back with it.
    await must(['ip', '-n', HOST, 'addr', 'add', '198.18.77.1/24', 'dev', LINK]);
    originalMac = (await linkInHost())?.address ?? '';
  });

  after(async () => {
    if (stateDir !== '') await v6labInHost(['gateway', 'down'], stateDir);
    for (const ns of [HOST, DEVICE]) await sh(['ip', 'netns', 'del', ns]);
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  async function up(mode: string, extra: readonly string[] = []): Promise<Status> {
    // The device joins afresh, as a phone does: nothing left of the network before.
    await must(['ip', '-n', DEVICE, 'addr', 'flush', 'dev', 'eth0', 'scope', 'global']);
    const ran = await v6labInHost(['gateway', 'up', '--device-link', LINK, '--mode', mode, '--id', GATEWAY_ID, ...extra], stateDir);
    assert.equal(ran.code, 0, `gateway up --mode ${mode}: ${ran.stderr}${ran.stdout}`);
    assert.equal(await linkInHost(), null, 'the device link left the host while the gateway is up');
    const status = await v6labInHost(['gateway', 'status', '--json'], stateDir);
    return JSON.parse(status.stdout) as Status;
  }

  async function down(): Promise<void> {
    const ran = await v6labInHost(['gateway', 'down'], stateDir);
    assert.equal(ran.code, 0, ran.stderr);
    const link = await linkInHost();
    assert.ok(link !== null, `${LINK} is not back in the host namespace: ${ran.stdout}${ran.stderr}`);
    assert.equal(link.address, originalMac, 'the link came back with its MAC');
    assert.deepEqual(await gatewayNamespaces(), [], 'every gateway namespace is gone');
    const addresses = await must(['ip', '-n', HOST, '-4', 'addr', 'show', 'dev', LINK]);
    assert.match(addresses, /198\.18\.77\.1\/24/, 'the host stand-in has its address back');
  }

  it('ipv6-only: SLAAC and no IPv4; ipv4only.arpa gives the NAT64 prefix; an IPv4-only host answers through NAT64; the capture shows it on the nat64 path', async () => {
    const capture = join(work, 'ipv6-only.pcap');
    const status = await up('ipv6-only', ['--capture', capture]);
    assert.equal(status.healthy, true, status.problems.join('; '));
    assert.equal(status.nat64Prefix, '64:ff9b::/96');
    const addresses = await slaacAddresses();
    assert.ok(addresses.length > 0, 'the device made no SLAAC address from the RAs');
    assert.ok(status.prefix !== null && addresses.some((a) => a.startsWith(status.prefix!.split('::')[0]!)), `${addresses} not in ${status.prefix}`);
    assert.equal((await must(['ip', '-n', DEVICE, '-4', 'addr', 'show', 'dev', 'eth0'])).trim(), '', 'the device has no IPv4');
    const dns = status.dns64!;
    assert.deepEqual((await dig('AAAA', 'ipv4only.arpa', dns)).split('\n').sort(), ['64:ff9b::c000:aa', '64:ff9b::c000:ab']);
    // img.news.test is IPv4-only in the shipped world: its AAAA is DNS64's.
    const synthesized = await dig('AAAA', 'img.news.test', dns);
    assert.match(synthesized, /^64:ff9b::/);
    assert.equal(await httpFromDevice(synthesized, 'img.news.test'), '200');
    const seen = (await v6labInHost(['gateway', 'status', '--json'], stateDir)).stdout;
    assert.ok(
      (JSON.parse(seen) as Status).clients.some((c) => c.addresses.some((a) => addresses.includes(a))),
      `the device is not among the clients: ${seen}`,
    );
    await down();
    const analysis = await sh([process.execPath, join(projectRoot, 'bin/v6lab.js'), 'analyze', capture, '--json']);
    assert.equal(analysis.code, 0, analysis.stderr);
    const flows = (JSON.parse(analysis.stdout) as { flows: { path: string; name: string | null; server: string }[] }).flows;
    assert.ok(
      flows.some((f) => f.path === 'nat64' && f.server.startsWith('64:ff9b::')),
      `no nat64 flow in the capture: ${JSON.stringify(flows.map((f) => [f.path, f.server, f.name]))}`,
    );
  });

  it('true-ipv6-only: ipv4only.arpa has no AAAA and the IPv4-only host is unreachable; a dual-stack host answers over IPv6', async () => {
    const status = await up('true-ipv6-only');
    // A second gateway on the same state directory is refused saying one is up, and changes nothing.
    const again = await v6labInHost(['gateway', 'up', '--device-link', LINK, '--id', GATEWAY_ID], stateDir);
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /^v6lab: gateway up: a gateway is up in .* on v6gtlink \(v6lab gateway down first\)\n$/);
    assert.equal(status.nat64Prefix, null);
    assert.equal(status.dns64, null);
    await slaacAddresses();
    const dns = status.dnsServers[0]!;
    assert.equal(await dig('AAAA', 'ipv4only.arpa', dns), '', 'no DNS64: no AAAA for ipv4only.arpa');
    assert.equal(await dig('AAAA', 'img.news.test', dns), '', 'no DNS64: the IPv4-only host has no AAAA');
    // Its A record is there, but the device has no IPv4 to reach it with.
    const a = await dig('A', 'img.news.test', dns);
    assert.match(a, /^\d+\.\d+\.\d+\.\d+$/);
    assert.match(await httpFromDevice(a, 'img.news.test'), /curl exit/);
    // Nor through the well-known NAT64 prefix: nothing translates it here.
    const viaWellKnown = `64:ff9b::${a}`;
    assert.match(await httpFromDevice(viaWellKnown, 'img.news.test'), /curl exit/);
    const native = await dig('AAAA', 'api.news.test', dns);
    assert.match(native, /^2001:db8:/);
    assert.equal(await httpFromDevice(native, 'api.news.test'), '200');
    await down();
  });

  /** busybox udhcpc in the device namespace (asking for option 108 too); the lease's address and its option 108, hex. */
  async function dhcpLease(): Promise<{ ip: string; opt108: string }> {
    const hook = join(work, 'udhcpc-hook.sh');
    const leaseFile = join(work, 'lease.env');
    writeFileSync(
      hook,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's own parameter expansions
      '#!/bin/sh\ncase "$1" in\n  bound|renew)\n    ip addr replace "$ip/${mask:-24}" dev "$interface"\n    ip route replace default via "${router%% *}" dev "$interface"\n    printf \'%s %s\\n\' "$ip" "${opt108:-none}" > "$V6LAB_LEASE"\n    ;;\nesac\n',
      { mode: 0o755 },
    );
    rmSync(leaseFile, { force: true });
    const ran = await sh(
      ['env', `V6LAB_LEASE=${leaseFile}`, ...inDevice(['busybox', 'udhcpc', '-i', 'eth0', '-f', '-q', '-n', '-t', '5', '-T', '1', '-O', '108', '-s', hook])],
      20_000,
    );
    assert.equal(ran.code, 0, `udhcpc: ${ran.stderr}${ran.stdout}`);
    const [ip = '', opt108 = ''] = readFileSync(leaseFile, 'utf8').trim().split(' ');
    return { ip, opt108 };
  }

  it('dual-stack: DHCPv4 and SLAAC; an IPv4-only host answers over IPv4 (NAT44), a dual-stack one over IPv6; no DNS64', async () => {
    const status = await up('dual-stack');
    assert.equal(status.dns64, null);
    assert.ok(status.ipv4 !== null, 'the gateway offers IPv4');
    const lease = await dhcpLease();
    assert.match(lease.ip, /^10\.0\.0\.1\d\d$/, `lease ${lease.ip} not in ${status.ipv4.subnet}`);
    assert.equal(lease.opt108, 'none', 'no option 108 on a dual-stack network');
    assert.ok((await slaacAddresses()).length > 0, 'no SLAAC address');
    const dns = status.ipv4.gateway;
    assert.equal(await dig('AAAA', 'img.news.test', dns), '', 'no DNS64: the IPv4-only host has no AAAA');
    // `v6lab gateway capture`, what a profile's { "gateway": DIR } capture runs: pcap on stdout until SIGTERM.
    const pcap = join(work, 'dual-stack.pcap');
    const out = openSync(pcap, 'w');
    const argv = inHost([process.execPath, join(projectRoot, 'bin/v6lab.js'), 'gateway', 'capture', '--state-dir', stateDir]);
    const capture = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', out, 'ignore'] });
    closeSync(out);
    const deadline = Date.now() + 10_000;
    while (statSync(pcap).size < 24 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const a = await dig('A', 'img.news.test', dns);
    assert.equal(await httpFromDevice(a, 'img.news.test'), '200');
    const native = await dig('AAAA', 'api.news.test', dns);
    assert.equal(await httpFromDevice(native, 'api.news.test'), '200');
    capture.kill('SIGTERM');
    assert.equal(await new Promise((r) => capture.once('close', r)), 0, 'gateway capture ends cleanly on SIGTERM');
    const analysis = await sh([process.execPath, join(projectRoot, 'bin/v6lab.js'), 'analyze', pcap, '--json']);
    assert.equal(analysis.code, 0, analysis.stderr);
    const paths = (JSON.parse(analysis.stdout) as { flows: { path: string; server: string }[] }).flows.map((f) => `${f.path} ${f.server}`);
    assert.ok(
      paths.some((p) => p.startsWith(`native-v4 ${a}`)),
      `no native-v4 flow to ${a}: ${paths}`,
    );
    assert.ok(
      paths.some((p) => p.startsWith(`native-v6 ${native}`)),
      `no native-v6 flow to ${native}: ${paths}`,
    );
    const seen = JSON.parse((await v6labInHost(['gateway', 'status', '--json'], stateDir)).stdout) as Status;
    assert.ok(
      seen.clients.some((c) => c.addresses.includes(lease.ip)),
      `the lease is not among the clients: ${JSON.stringify(seen.clients)}`,
    );
    await down();
  });

  it('ipv6-mostly: option 108 to a client that asks for it, PREF64 in the RAs (the capture shows the prefix), DNS64 and NAT64', async () => {
    const capture = join(work, 'ipv6-mostly.pcap');
    const status = await up('ipv6-mostly', ['--capture', capture, '--prefix', '2001:db8:64::/96']);
    assert.equal(status.nat64Prefix, '2001:db8:64::/96');
    const lease = await dhcpLease();
    // RFC 8925: V6ONLY_WAIT as four bytes, 300 s.
    assert.equal(lease.opt108.toLowerCase(), '0000012c');
    await slaacAddresses();
    const synthesized = await dig('AAAA', 'img.news.test', status.dns64!);
    assert.match(synthesized, /^2001:db8:64::/);
    assert.equal(await httpFromDevice(synthesized, 'img.news.test'), '200');
    // A router solicitation gets the PREF64 RA at once.
    await must(['ip', '-n', DEVICE, 'link', 'set', 'eth0', 'down']);
    await must(['ip', '-n', DEVICE, 'link', 'set', 'eth0', 'up']);
    await slaacAddresses();
    await new Promise((r) => setTimeout(r, 500));
    await down();
    const analysis = await sh([process.execPath, join(projectRoot, 'bin/v6lab.js'), 'analyze', capture, '--json']);
    assert.equal(analysis.code, 0, analysis.stderr);
    assert.match(analysis.stdout, /2001:db8:64::\/96/);
    assert.match(analysis.stdout, /"pref64"/, 'the analysis names the prefix as advertised in RAs (PREF64)');
  });

  it('ipv4-only: DHCPv4 and no IPv6 beyond link-local', async () => {
    const status = await up('ipv4-only');
    assert.equal(status.prefix, null);
    const lease = await dhcpLease();
    assert.match(lease.ip, /^10\.0\.0\.1\d\d$/);
    await new Promise((r) => setTimeout(r, 300));
    const global6 = await must(['ip', '-n', DEVICE, '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global']);
    assert.equal(global6.trim(), '', 'no global IPv6 on an IPv4-only network');
    const a = await dig('A', 'img.news.test', status.ipv4!.gateway);
    assert.equal(await httpFromDevice(a, 'img.news.test'), '200');
    await down();
  });

  it('--uplink: the real-internet path through a namespace standing in for the ISP; NAT64 for everything (this host does not forward IPv6), and down undoes it all', async () => {
    // The ISP: a resolver and a web server beyond the host stand-in's uplink, 198.51.100.0/24 (the web
    // server outside the documentation ranges, which tayga refuses to translate with the well-known prefix).
    const isp = 'v6gt-isp';
    await sh(['ip', 'netns', 'del', isp]);
    await must(['ip', 'netns', 'add', isp]);
    const started: number[] = [];
    try {
      await must(['ip', '-n', HOST, 'link', 'add', UPLINK, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', isp]);
      await must(['ip', '-n', HOST, 'addr', 'add', '198.51.100.1/24', 'dev', UPLINK]);
      await must(['ip', '-n', HOST, 'link', 'set', UPLINK, 'up']);
      await must(['ip', '-n', HOST, 'route', 'add', 'default', 'via', '198.51.100.2']);
      await must(['ip', '-n', isp, 'addr', 'add', '198.51.100.2/24', 'dev', 'eth0']);
      await must(['ip', '-n', isp, 'addr', 'add', '100.65.0.80/32', 'dev', 'lo']);
      await must(['ip', '-n', isp, 'link', 'set', 'lo', 'up']);
      await must(['ip', '-n', isp, 'link', 'set', 'eth0', 'up']);
      const web = join(work, 'isp-web');
      mkdirSync(web);
      writeFileSync(join(web, 'index.html'), 'the ISP\n');
      for (const argv of [
        [
          'dnsmasq',
          '--keep-in-foreground',
          '--no-resolv',
          '--no-hosts',
          '--bind-interfaces',
          '--listen-address=198.51.100.2',
          '--host-record=web.isp.example,100.65.0.80',
          '--host-record=dual.isp.example,100.65.0.80,2001:db8:15::80',
          '--host-record=ipv4only.arpa,192.0.0.170',
          `--pid-file=${join(work, 'isp-dns.pid')}`,
        ],
        ['busybox', 'httpd', '-f', '-p', '100.65.0.80:80', '-h', web],
      ]) {
        const child = spawn('ip', ['netns', 'exec', isp, ...argv], { stdio: 'ignore', detached: true });
        child.unref();
        if (child.pid !== undefined) started.push(child.pid);
      }
      await new Promise((r) => setTimeout(r, 300));
      const ran = await v6labInHost(['gateway', 'up', '--device-link', LINK, '--id', GATEWAY_ID, '--uplink', UPLINK, '--dns', '198.51.100.2'], stateDir);
      assert.equal(ran.code, 0, ran.stderr);
      const status = JSON.parse((await v6labInHost(['gateway', 'status', '--json'], stateDir)).stdout) as Status;
      assert.equal(status.healthy, true, status.problems.join('; '));
      await slaacAddresses();
      assert.deepEqual((await dig('AAAA', 'ipv4only.arpa', status.dns64!)).split('\n'), ['64:ff9b::c000:aa']);
      const synthesized = await dig('AAAA', 'web.isp.example', status.dns64!);
      assert.equal(synthesized, '64:ff9b::6441:50');
      assert.equal(await httpFromDevice(synthesized, 'web.isp.example'), '200');
      // A dual-stack name's own AAAA is unreachable from here: DNS64 synthesizes it anyway.
      assert.equal(await dig('AAAA', 'dual.isp.example', status.dns64!), '64:ff9b::6441:50');
      assert.match(await must(inHost(['nft', 'list', 'tables'])), new RegExp(`inet v6lab_${GATEWAY_ID}`));
      assert.equal((await must(inHost(['sysctl', '-n', `net.ipv4.conf.${UPLINK}.forwarding`]))).trim(), '1');
      await down();
      assert.doesNotMatch(await must(inHost(['nft', 'list', 'tables'])), /v6lab/, 'the host keeps no nftables table of the gateway');
      assert.equal((await must(inHost(['sysctl', '-n', `net.ipv4.conf.${UPLINK}.forwarding`]))).trim(), '0', "the uplink's forwarding is as the host had it");
      assert.equal((await sh(['ip', '-n', HOST, 'link', 'show', `v6l${GATEWAY_ID}up`])).code, 1, "the gateway's host-side veth is gone");
      // A mode that needs native IPv6 beyond is refused: this host does not forward IPv6.
      const dual = await v6labInHost(
        ['gateway', 'up', '--device-link', LINK, '--id', GATEWAY_ID, '--uplink', UPLINK, '--dns', '198.51.100.2', '--mode', 'dual-stack'],
        stateDir,
      );
      assert.equal(dual.code, 2, dual.stderr);
      assert.match(dual.stderr, /^v6lab: --mode: dual-stack through --uplink needs native IPv6/);
      assert.ok((await linkInHost()) !== null);
    } finally {
      for (const pid of started) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone
        }
      }
      await sh(['ip', 'netns', 'del', isp]);
    }
  });

  it('down is safe twice and after `gateway up` was SIGKILLed midway: the link comes back, nothing of the gateway is left', async () => {
    assert.match((await v6labInHost(['gateway', 'down'], stateDir)).stdout, /nothing to remove/);
    const argv = inHost([
      process.execPath,
      join(projectRoot, 'bin/v6lab.js'),
      'gateway',
      'up',
      '--device-link',
      LINK,
      '--id',
      GATEWAY_ID,
      '--state-dir',
      stateDir,
    ]);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    // Killed once the link has left the host (the gateway is then half made).
    const deadline = Date.now() + 20_000;
    while ((await linkInHost()) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    assert.ok(existsSync(join(stateDir, 'gateway.json')), 'the gateway recorded its link before moving it');
    await down();
    // What it started is gone too: no process runs from its run directory.
    const leftovers = (await must(['ps', '-eo', 'args'])).split('\n').filter((l) => l.includes(join(stateDir, 'run')));
    assert.deepEqual(leftovers, []);
    assert.match((await v6labInHost(['gateway', 'down'], stateDir)).stdout, /nothing to remove/);
  });

  it('bad input: a missing interface, the host default-route interface, a prefix of no NAT64 length: exit 2 and one line naming the option', async () => {
    const missing = await v6labInHost(['gateway', 'up', '--device-link', 'nosuch0', '--id', GATEWAY_ID], stateDir);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /^v6lab: --device-link: no interface "nosuch0"/);
    assert.equal(missing.stderr.trim().split('\n').length, 1);
    // In the host stand-in, the link itself carries the default route: refused, and left in place.
    await must(['ip', '-n', HOST, 'link', 'set', LINK, 'up']);
    await must(['ip', '-n', HOST, 'route', 'add', 'default', 'via', '198.18.77.254', 'dev', LINK]);
    try {
      const taken = await v6labInHost(['gateway', 'up', '--device-link', LINK, '--id', GATEWAY_ID], stateDir);
      assert.equal(taken.code, 2, taken.stderr);
      assert.match(taken.stderr, /^v6lab: --device-link: v6gtlink carries this host's default route.*--force/);
      assert.ok((await linkInHost()) !== null, 'a refused link stays where it is');
    } finally {
      await must(['ip', '-n', HOST, 'route', 'del', 'default']);
      await must(['ip', '-n', HOST, 'link', 'set', LINK, 'down']);
    }
    for (const prefix of ['64:ff9b::/80', '2001:db8:64::/33', 'nonsense', '64:ff9b::/64']) {
      const bad = await v6labInHost(['gateway', 'up', '--device-link', LINK, '--prefix', prefix, '--id', GATEWAY_ID], stateDir);
      assert.equal(bad.code, 2, `${prefix}: ${bad.stderr}`);
      assert.match(bad.stderr, /^v6lab: --prefix: /, prefix);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    }
    assert.deepEqual(await gatewayNamespaces(), []);
  });
});
