// PREF64 (RFC 8781) and DHCPv4 option 108 (RFC 8925) on a real link between two kernels, in
// namespaces this test makes (`v6p64-PID-r`, the router, and `v6p64-PID-h`, a host) with a veth
// pair between them: never the machine's own interfaces. The router runs radvd (SLAAC and the
// default route) and the perl PREF64 sender beside it; the host's kernel takes both RAs and
// tcpdump records them; dnsmasq gives busybox udhcpc a lease with option 108.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyzeFile, type CaptureAnalysis } from '../../lib/analysis/index.js';
import { radvdConf } from '../../lib/lab/network/config.js';
import { dnsmasqDhcp } from '../../lib/lab/network/dhcp.js';
import { pref64SenderDaemon } from '../../lib/lab/network/pref64-sender.js';
import { type LabProcess, sleep, startDaemon, stopProcesses } from '../../lib/lab/network/process.js';
import { pref64Advertisement } from '../../lib/lab/network/ra.js';
import { requireLab } from '../support/lab-env.js';

const ROUTER = `v6p64-${process.pid}-r`;
const HOST = `v6p64-${process.pid}-h`;
const NAT64_PREFIX = '2001:db8:64::/96';
const SLAAC_PREFIX = '2001:db8:6401::/64';

function sh(argv: readonly string[], timeoutMs = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    execFile(file ?? 'false', args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function must(argv: readonly string[]): Promise<string> {
  const ran = await sh(argv);
  if (ran.code !== 0) throw new Error(`${argv.join(' ')}: exit ${ran.code}: ${ran.stderr}${ran.stdout}`);
  return ran.stdout;
}

const inNs = (ns: string, argv: readonly string[]) => ['ip', 'netns', 'exec', ns, ...argv];

/** Polls `probe` until it returns non-null or `ms` pass; the last value (or null) is returned. */
async function within<T>(ms: number, probe: () => Promise<T | null>): Promise<T | null> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null || Date.now() >= deadline) return value;
    await sleep(200);
  }
}

describe('lab: PREF64 router advertisements and DHCPv4 option 108 between two namespaces', function () {
  this.timeout(90_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'v6lab-pref64-'));
  const capture = path.join(dir, 'link.pcap');
  const processes: LabProcess[] = [];
  let made = false;

  const daemon = async (spec: Parameters<typeof startDaemon>[0]) =>
    startDaemon(spec, async (proc) => {
      processes.push(proc);
    });

  before(async function () {
    await requireLab(this, 'the PREF64 lab test', ['ip', 'perl', 'tcpdump', 'radvd', 'dnsmasq', 'busybox'], 'iproute2 tcpdump radvd dnsmasq-base busybox');
    made = true;
    await must(['ip', 'netns', 'add', ROUTER]);
    await must(['ip', 'netns', 'add', HOST]);
    await must(['ip', 'link', 'add', 'gw0', 'netns', ROUTER, 'type', 'veth', 'peer', 'name', 'dev0', 'netns', HOST]);
    // A router forwards (radvd insists); the host takes RAs as any host does. DAD off on the
    // router's side only so its link-local source is usable at once.
    await must(inNs(ROUTER, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1', 'net.ipv6.conf.gw0.accept_dad=0']));
    await must(inNs(HOST, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=0', 'net.ipv6.conf.dev0.accept_ra=1', 'net.ipv6.conf.dev0.autoconf=1']));
    for (const [ns, link] of [
      [ROUTER, 'gw0'],
      [HOST, 'dev0'],
    ] as const) {
      await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      await must(['ip', '-n', ns, 'link', 'set', link, 'up']);
    }
    await must(['ip', '-n', ROUTER, 'addr', 'add', '192.168.64.1/24', 'dev', 'gw0']);

    await daemon({
      name: 'tcpdump',
      namespace: HOST,
      argv: inNs(HOST, ['tcpdump', '-i', 'dev0', '-n', '-U', '-w', capture, 'icmp6']),
      logFile: path.join(dir, 'tcpdump.log'),
      ready: /listening on dev0/,
    });
    const radvdFile = path.join(dir, 'radvd.conf');
    writeFileSync(radvdFile, radvdConf({ interface: 'gw0', prefix: SLAAC_PREFIX, rdnss: null }));
    await daemon({
      name: 'radvd',
      namespace: ROUTER,
      argv: inNs(ROUTER, ['radvd', '-n', '-m', 'stderr', '-d', '1', '-C', radvdFile, '-p', path.join(dir, 'radvd.pid')]),
      logFile: path.join(dir, 'radvd.log'),
      ready: /polling for/,
    });
    await daemon(
      pref64SenderDaemon({
        namespace: ROUTER,
        interface: 'gw0',
        advertisement: pref64Advertisement({ prefix: NAT64_PREFIX }),
        logFile: path.join(dir, 'pref64-sender.log'),
      }),
    );
  });

  after(async function () {
    if (!made) return;
    await stopProcesses(processes);
    // What the daemons forked (radvd's privilege-separated half) runs in these namespaces only:
    // it is this test's, stopped by its PID.
    for (const ns of [ROUTER, HOST]) {
      const pids = (await sh(['ip', 'netns', 'pids', ns])).stdout.split('\n').filter((p) => /^\d+$/.test(p));
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    await sh(['ip', 'netns', 'del', ROUTER]);
    await sh(['ip', 'netns', 'del', HOST]);
    const left = (await must(['ip', 'netns', 'list'])).split('\n').filter((l) => l.startsWith(`v6p64-${process.pid}-`));
    assert.deepEqual(left, [], 'the namespaces this test made are gone');
  });

  it('the capture analysed shows the PREF64 prefix, sent by the router with hop limit 255', async () => {
    const analysis = await within<CaptureAnalysis>(20_000, async () => {
      const a = await analyzeFile(capture).catch(() => null);
      return a !== null && a.pref64.length > 0 ? a : null;
    });
    assert.ok(analysis, `no PREF64 in ${capture} after 20 s; sender log:\n${readFileSync(path.join(dir, 'pref64-sender.log'), 'utf8')}`);
    assert.deepEqual(
      analysis.pref64.map((e) => [e.prefix, e.lifetimeSeconds, e.router.startsWith('fe80:')]),
      [[NAT64_PREFIX, 1800, true]],
    );
    assert.equal(analysis.nat64PrefixSources[NAT64_PREFIX], 'pref64');
    assert.deepEqual(analysis.capture.warnings, []);
  });

  it("the host keeps radvd's default route and SLAAC address beside PREF64, and gets an answer to its solicitation", async () => {
    // The host's link goes down and up: its kernel forgets the router and solicits again.
    await must(['ip', '-n', HOST, 'link', 'set', 'dev0', 'down']);
    await must(['ip', '-n', HOST, 'link', 'set', 'dev0', 'up']);
    const answered = await within(15_000, async () => {
      const log = readFileSync(path.join(dir, 'pref64-sender.log'), 'utf8');
      return /sent RA \(solicited by fe80:/.test(log) ? log : null;
    });
    assert.ok(answered, `the sender answered no router solicitation:\n${readFileSync(path.join(dir, 'pref64-sender.log'), 'utf8')}`);
    const route = await within(15_000, async () => {
      const text = await must(['ip', '-n', HOST, '-6', 'route', 'show', 'default']);
      return /proto ra/.test(text) ? text : null;
    });
    assert.ok(route, 'a default route from router advertisements');
    // The RAs repeat radvd's 1800 s: the route never expires within a minute of being refreshed.
    const expires = Number(/expires (\d+)sec/.exec(route)?.[1]);
    assert.ok(expires > 1700, `default route expires in ${expires} s (1800 s expected): ${route}`);
    const addresses = await within(15_000, async () => {
      const text = await must(['ip', '-n', HOST, '-6', 'addr', 'show', 'dev', 'dev0', 'scope', 'global']);
      return text.includes('inet6 2001:db8:6401:') ? text : null;
    });
    assert.ok(addresses, 'a SLAAC address from radvd');
  });

  it('dnsmasq gives busybox udhcpc a lease with option 108 when asked for it, and without when not', async () => {
    const server = dnsmasqDhcp({
      namespace: ROUTER,
      interface: 'gw0',
      dir,
      range: { first: '192.168.64.100', last: '192.168.64.150', netmask: '255.255.255.0' },
      router: '192.168.64.1',
      dnsServers: ['192.168.64.1'],
      ipv6OnlyPreferredWait: 1800,
    });
    writeFileSync(server.configFile, server.config);
    await daemon({ name: 'dnsmasq-dhcp', namespace: ROUTER, argv: server.argv, logFile: path.join(dir, 'dnsmasq.log'), ready: server.ready });
    // udhcpc's script gets every option in its environment (unknown ones as optNNN, in hex).
    const script = path.join(dir, 'udhcpc.sh');
    writeFileSync(script, '#!/bin/sh\n[ "$1" = bound ] && printf \'ip=%s\\nopt108=%s\\n\' "$ip" "$opt108" > "$LEASE_OUT"\nexit 0\n', { mode: 0o755 });
    const lease = async (extra: string[], out: string) => {
      const ran = await sh([
        'env',
        `LEASE_OUT=${out}`,
        ...inNs(HOST, ['busybox', 'udhcpc', '-i', 'dev0', '-n', '-q', '-f', '-t', '5', '-T', '1', ...extra, '-s', script]),
      ]);
      assert.equal(ran.code, 0, `udhcpc: ${ran.stderr}${ran.stdout}\n${readFileSync(path.join(dir, 'dnsmasq.log'), 'utf8').slice(-2000)}`);
      return Object.fromEntries(
        readFileSync(out, 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split('=') as [string, string]),
      );
    };
    const asked = await lease(['-O', '108'], path.join(dir, 'lease-108'));
    assert.match(asked.ip ?? '', /^192\.168\.64\.(1[0-4]\d|150)$/);
    assert.equal(asked.opt108, '00000708', 'V6ONLY_WAIT 1800 s in four bytes');
    const plain = await lease([], path.join(dir, 'lease-plain'));
    assert.equal(plain.opt108, '', 'RFC 8925 section 3.3: no option 108 to a client that did not ask');
    assert.match(readFileSync(server.leaseFile, 'utf8'), /192\.168\.64\.\d+/);
  });
});
