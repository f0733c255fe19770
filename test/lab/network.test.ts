// Issue 3, the network: `lab up|status|down` (lib/lab/network) on real namespaces, radvd,
// unbound (DNS64), tayga (NAT64 and CLAT) and nftables, checked from inside the handsets with
// real clients, and the host's own network compared before and after.
//
// Needs root and the lab's tools; skips with the reason otherwise, except in CI (CI=true), where
// a check that cannot run fails.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labDown, labStatus, labUp, reattach, readState, setWifi, type HandsetState, type LabPlan, type LabState } from '../../lib/lab/network/index.js';
import { processesUsingRunDir } from '../../lib/lab/network/down.js';
import { isRunning, parseProcStat } from '../../lib/lab/network/process.js';
import { HANDSET_UID_BASE, HANDSET_UID_COUNT, usernsFile } from '../../lib/lab/network/userns.js';
import { inPrefix64 } from '../../lib/lab/network/plan.js';
import { parseAddress } from '../../lib/net/address.js';
import { requireLab } from '../support/lab-env.js';

// curl, setpriv and perl make the handsets' background traffic.
const REQUIRED_TOOLS = ['ip', 'sysctl', 'stdbuf', 'nft', 'unbound', 'radvd', 'tayga', 'dig', 'openssl', 'curl', 'setpriv', 'perl', 'dnsmasq', 'busybox'];
const DEBIAN_PACKAGES = 'iproute2 procps coreutils nftables unbound radvd tayga bind9-dnsutils openssl curl util-linux perl-base dnsmasq-base busybox';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const WORLD: LabPlan['world'] = {
  hosts: [
    { name: 'api.news.test', ipv4: true, ipv6: true },
    { name: 'img.news.test', ipv4: true, ipv6: false },
    { name: 'v6.news.test', ipv4: false, ipv6: true },
    { name: 'cdn.news.test', ipv4: true, ipv6: 'blackhole' },
    // What a handset's background traffic talks to (lib/lab/network/background.ts).
    { name: 'connectivity.test', ipv4: true, ipv6: true },
    { name: 'push.test', ipv4: true, ipv6: true },
    { name: 'time.test', ipv4: true, ipv6: false },
  ],
};

/**
 * Counts what leaves a handset by owner uid (nftables `meta skuid`, the socket's uid, as
 * /proc/net shows it): the background traffic's parts, anything from an app uid (10000-19999, Android's
 * FIRST_APPLICATION_UID to LAST_APPLICATION_UID; a host process in the handset's network shows as 65534),
 * and anything to the background hosts from a uid not of the background traffic.
 */
function uidCounters(connectivity: string, push: string, time: string): string {
  return `table inet v6labtest {
  chain output {
    type filter hook output priority 0; policy accept;
    meta skuid 1000 ip6 daddr ${connectivity} tcp dport 80 counter comment "probe-http"
    meta skuid 1000 ip6 daddr ${connectivity} tcp dport 443 counter comment "probe-https"
    meta skuid 1001 ip6 daddr ${time} udp dport 123 counter comment "ntp"
    meta skuid 1002 ip6 daddr ${push} tcp dport 443 counter comment "push"
    meta skuid 10000-19999 counter comment "app-uid"
    ip6 daddr { ${connectivity}, ${push}, ${time} } meta skuid != { 1000, 1001, 1002 } counter comment "background-host-other-uid"
  }
}
`;
}

/** `counter packets 3 bytes 240 comment "ntp"` -> { ntp: 3 } */
function parseCounters(text: string): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const match of text.matchAll(/counter packets (\d+) bytes \d+ comment "([^"]+)"/g)) counters[match[2]!] = Number(match[1]);
  return counters;
}

function exec(argv: readonly string[], timeoutMs = 15_000, input?: string): Promise<string> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = execFile(file!, args, { timeout: timeoutMs, maxBuffer: 8 << 20 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${argv.join(' ')}: ${stderr.trim() || error.message}`, { cause: error })) : resolve(stdout),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** A running part of a lab's background traffic: a child of one of its `background` processes. */
interface BackgroundPartProcess {
  pid: number;
  startTime: string;
  name: string;
  uid: number;
}

async function backgroundPartProcesses(state: LabState): Promise<BackgroundPartProcess[]> {
  const parents = new Set(state.processes.filter((p) => p.name === 'background').map((p) => p.pid));
  const found: BackgroundPartProcess[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "4233 (curl) S 4221 ..." : the parent PID is the second field after the name.
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!parents.has(ppid)) continue;
      // The host numbers a handset's uids from its range (lib/lab/network/userns.ts): the uid the handset sees.
      const hostUid = Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${entry}/status`, 'utf8'))?.[1]);
      const uid = hostUid >= HANDSET_UID_BASE ? (hostUid - HANDSET_UID_BASE) % HANDSET_UID_COUNT : hostUid;
      const startTime = parseProcStat(stat)?.startTime;
      if (startTime !== undefined) found.push({ pid: Number(entry), startTime, name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), uid });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** An IPv6 address as /proc/net/tcp6 prints it: four 32-bit words, each in host (little-endian) order. */
function procNetAddress6(address: string): string {
  const bytes = parseAddress(address).bytes;
  let text = '';
  for (let i = 0; i < 16; i += 4) text += [bytes[i + 3], bytes[i + 2], bytes[i + 1], bytes[i]].map((b) => (b ?? 0).toString(16).padStart(2, '0')).join('');
  return text.toUpperCase();
}

/** 64:ff9b::a.b.c.d as DNS64 synthesizes it (RFC 6052), canonical: 100.64.1.7 -> 64:ff9b::6440:107 */
function nat64Address(ipv4: string): string {
  const [a, b, c, d] = ipv4.split('.').map(Number) as [number, number, number, number];
  return `64:ff9b::${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/** The host's own network, with what changes by itself (lifetimes, counters) left out. */
async function hostNetwork(): Promise<Record<string, string>> {
  const strip = (text: string): string =>
    text
      .replace(/\s*(valid_lft|preferred_lft) \S+/g, '')
      .replace(/ expires \d+sec/g, '')
      .replace(/counter packets \d+ bytes \d+/g, 'counter');
  return {
    'ip addr': strip(await exec(['ip', 'addr'])),
    'ip route': strip(await exec(['ip', 'route'])),
    'ip -6 route': strip(await exec(['ip', '-6', 'route'])),
    'nft list ruleset': strip(await exec(['nft', 'list', 'ruleset'])),
    '/etc/resolv.conf': await readFile('/etc/resolv.conf', 'utf8').catch(() => '(none)'),
  };
}

// A client run inside a handset: one HTTP(S) GET or UDP exchange, reported as a JSON line.
// Node's http uses Happy Eyeballs (autoSelectFamily, 250 ms), as curl does.
const CLIENT_SCRIPT = String.raw`
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
const job = JSON.parse(process.argv[2]);
const done = (result) => { process.stdout.write(JSON.stringify(result) + '\n'); process.exit(0); };
setTimeout(() => done({ ok: false, error: 'timeout' }), job.timeoutMs);
if (job.kind === 'udp') {
  const socket = dgram.createSocket(net.isIPv6(job.host) ? 'udp6' : 'udp4');
  let bytes = 0, datagrams = 0, largest = 0;
  socket.on('message', (msg, rinfo) => {
    bytes += msg.length; datagrams += 1; largest = Math.max(largest, msg.length);
    if (bytes >= job.bytes) done({ ok: true, remoteAddress: rinfo.address, bytes, datagrams, largest });
  });
  socket.send(String(job.bytes), 443, job.host);
} else {
  const client = job.kind === 'https' ? https : http;
  const options = { host: job.host, port: job.kind === 'https' ? 443 : 80, path: '/bytes/' + job.bytes, autoSelectFamily: true, family: job.family ?? 0 };
  if (job.localAddress) options.localAddress = job.localAddress;
  if (job.kind === 'https') { options.ca = fs.readFileSync(job.ca); if (!net.isIP(job.host)) options.servername = job.host; }
  const req = client.get(options, (res) => {
    let bytes = 0;
    const remoteAddress = res.socket.remoteAddress;
    res.on('data', (chunk) => { bytes += chunk.length; });
    res.on('end', () => done({ ok: res.statusCode === 200, status: res.statusCode, remoteAddress, bytes }));
  });
  req.on('error', (error) => done({ ok: false, error: error.code ?? error.message }));
}
`;

interface ClientResult {
  ok: boolean;
  remoteAddress?: string;
  bytes?: number;
  largest?: number;
  error?: string;
}

describe('lab network: lab up|status|down (issue 3)', function () {
  let workDir = '';
  let clientScript = '';
  let hostBefore: Record<string, string> = {};
  const stateDirs: string[] = [];
  let labA: LabState | undefined;
  let labB: LabState | undefined;

  before(async function () {
    this.timeout(30_000);
    await requireLab(this, 'the lab network tests', REQUIRED_TOOLS, DEBIAN_PACKAGES);
    workDir = await mkdtemp(path.join(tmpdir(), 'v6lab-network-test-'));
    clientScript = path.join(workDir, 'client.mjs');
    await writeFile(clientScript, CLIENT_SCRIPT);
    hostBefore = await hostNetwork();
  });

  after(async function () {
    this.timeout(20_000);
    for (const dir of stateDirs) await labDown(dir).catch((error: unknown) => console.warn(`    lab down ${dir}: ${String(error)}`));
    if (workDir !== '') await rm(workDir, { recursive: true, force: true });
  });

  const stateDir = (name: string): string => {
    const dir = path.join(workDir, name);
    stateDirs.push(dir);
    return dir;
  };
  const handset = (state: LabState | undefined, index: number): HandsetState => {
    const found = state?.handsets.find((h) => h.index === index);
    assert.ok(found, `no handset ${index} in the lab state`);
    return found;
  };
  const inNs = (ns: string, ...argv: string[]): Promise<string> => exec(['ip', 'netns', 'exec', ns, ...argv]);
  const client = async (ns: string, job: Record<string, unknown>): Promise<ClientResult> =>
    JSON.parse(await inNs(ns, process.execPath, clientScript, JSON.stringify({ timeoutMs: 3000, ...job }))) as ClientResult;
  const addresses = async (ns: string, dev: string): Promise<{ local: string; family: string; temporary?: boolean; scope: string }[]> => {
    const [link] = JSON.parse(await exec(['ip', '-n', ns, '-j', 'addr', 'show', 'dev', dev])) as {
      addr_info: { local: string; family: string; temporary?: boolean; scope: string }[];
    }[];
    return link?.addr_info ?? [];
  };
  const routeGet = async (ns: string, destination: string): Promise<string> => exec(['ip', '-n', ns, 'route', 'get', destination]);
  const worldHost = (state: LabState | undefined, name: string): { ipv4: string | null; ipv6: string | null } => {
    const host = state?.world.hosts.find((h) => h.name === name);
    assert.ok(host, `no world host ${name}`);
    return host;
  };
  /**
   * Everything a lab could leave behind: namespaces, /etc/netns directories, its processes, the
   * parts of its background traffic (seen running before the down).
   */
  const leftovers = async (labId: string, processes: LabState['processes'], runDir: string, parts: BackgroundPartProcess[] = []): Promise<string[]> => {
    const found: string[] = [];
    for (const part of parts) if (await isRunning(part)) found.push(`background part ${part.name} (pid ${part.pid}, uid ${part.uid})`);
    for (const proc of await processesUsingRunDir(runDir)) found.push(`process ${proc.name} (pid ${proc.pid}) using ${runDir}`);
    for (const line of (await exec(['ip', 'netns', 'list'])).split('\n')) if (line.startsWith(`v6l-${labId}-`)) found.push(`namespace ${line}`);
    for (const name of await readdir('/etc/netns').catch(() => [] as string[])) if (name.startsWith(`v6l-${labId}-`)) found.push(`/etc/netns/${name}`);
    for (const proc of processes) if (await isRunning(proc)) found.push(`process ${proc.name} (pid ${proc.pid})`);
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    for (const line of mounts.split('\n')) if (line.includes(`/v6l-${labId}-`)) found.push(`mount ${line}`);
    return found;
  };

  describe('one handset on the ipv6 APN', function () {
    before(async function () {
      this.timeout(20_000);
      const started = Date.now();
      labA = await labUp({
        labId: `a${process.pid % 1000}`,
        stateDir: stateDir('lab-a'),
        world: WORLD,
        handsets: [{ index: 0, apn: 'ipv6', pdpType: 'IPV4V6' }],
      });
      console.log(`      lab up, 1 handset: ${Date.now() - started} ms`);
      // Counting from now on what leaves the handset, by owner uid.
      await exec(
        ['ip', 'netns', 'exec', handset(labA, 0).namespace, 'nft', '-f', '-'],
        5_000,
        uidCounters(worldHost(labA, 'connectivity.test').ipv6!, worldHost(labA, 'push.test').ipv6!, nat64Address(worldHost(labA, 'time.test').ipv4!)),
      );
    });

    it('gives rmnet_data0 a SLAAC address and a privacy address from its /64, and a default route by RA', async function () {
      const h = handset(labA, 0);
      assert.deepEqual(h.families, [6]);
      // A plan that says nothing of the handset's settings gets a compliant handset.
      assert.deepEqual(h.settings, { mobileIpv6: true, mobilePrivacy: true, wifiIpv6: true, wifiPrivacy: true, clat: true });
      assert.ok(h.sysctls.includes('net.ipv6.conf.rmnet_data0.use_tempaddr=2'), h.sysctls.join(' '));
      assert.ok(h.ipv6Prefix);
      const global = (await addresses(h.namespace, 'rmnet_data0')).filter((a) => a.family === 'inet6' && a.scope === 'global');
      assert.ok(
        global.some((a) => !a.temporary && inPrefix64(a.local, h.ipv6Prefix!)),
        `no SLAAC address from ${h.ipv6Prefix}: ${JSON.stringify(global)}`,
      );
      assert.ok(
        global.some((a) => a.temporary && inPrefix64(a.local, h.ipv6Prefix!)),
        `no temporary address: ${JSON.stringify(global)}`,
      );
      assert.equal((await addresses(h.namespace, 'rmnet_data0')).filter((a) => a.family === 'inet').length, 0, 'an IPv6-only attach has no IPv4');
      // In the mobile network's own table, none in main: as a phone keeps it (netd's RouteController).
      assert.match(
        await exec(['ip', '-n', h.namespace, '-6', 'route', 'show', 'table', 'all', 'default']),
        /^default via fe80::\S+ dev rmnet_data0 table 10\d\d proto ra /m,
      );
      assert.equal((await exec(['ip', '-n', h.namespace, '-6', 'route', 'show', 'default'])).trim(), '', 'no default route in main');
      assert.match(await readFile(`/etc/netns/${h.namespace}/resolv.conf`, 'utf8'), new RegExp(`^nameserver ${h.dnsServers[0]}$`, 'm'));
    });

    it('runs a CLAT: v4-rmnet_data0 with 192.0.0.4, the NAT64 prefix found by RFC 7050, an IPv4 default route through it', async function () {
      const h = handset(labA, 0);
      assert.equal(h.clat?.nat64Prefix, '64:ff9b::/96');
      assert.ok((await addresses(h.namespace, 'v4-rmnet_data0')).some((a) => a.local === '192.0.0.4'));
      assert.match(
        await exec(['ip', '-n', h.namespace, '-4', 'route', 'show', 'table', 'all', 'default']),
        /^default dev v4-rmnet_data0 table 10\d\d .*src 192\.0\.0\.4 .*mtu 1472/m,
      );
    });

    it('reaches a dual-stack host over IPv6, an IPv4-only host by name through NAT64, an IPv4 literal through the CLAT', async function () {
      const h = handset(labA, 0);
      const api = worldHost(labA, 'api.news.test');
      const img = worldHost(labA, 'img.news.test');
      const dual = await client(h.namespace, { kind: 'http', host: 'api.news.test', bytes: 20_000 });
      assert.deepEqual([dual.ok, dual.remoteAddress, dual.bytes], [true, api.ipv6, 20_000], JSON.stringify(dual));
      const nat64 = await client(h.namespace, { kind: 'https', host: 'img.news.test', bytes: 100_000, ca: labA!.world.caCertFile });
      assert.deepEqual([nat64.ok, nat64.remoteAddress, nat64.bytes], [true, '64:ff9b::6440:102', 100_000], JSON.stringify(nat64));
      const literal = await client(h.namespace, { kind: 'https', host: img.ipv4, bytes: 50_000, ca: labA!.world.caCertFile });
      assert.deepEqual([literal.ok, literal.remoteAddress, literal.bytes], [true, img.ipv4, 50_000], JSON.stringify(literal));
      assert.match(await routeGet(h.namespace, img.ipv4!), /dev v4-rmnet_data0 .*src 192\.0\.0\.4/);
      const v6only = await client(h.namespace, { kind: 'https', host: 'v6.news.test', bytes: 1000, ca: labA!.world.caCertFile });
      assert.equal(v6only.ok, true, JSON.stringify(v6only));
    });

    it('answers UDP 443 with the bytes asked for in datagrams of at most 1200 bytes, natively and through the CLAT', async function () {
      const h = handset(labA, 0);
      for (const host of [worldHost(labA, 'api.news.test').ipv6!, worldHost(labA, 'img.news.test').ipv4!]) {
        const udp = await client(h.namespace, { kind: 'udp', host, bytes: 30_000 });
        assert.equal(udp.ok, true, `UDP ${host}: ${JSON.stringify(udp)}`);
        assert.equal(udp.bytes, 30_000);
        assert.ok(udp.largest! <= 1200);
      }
    });

    it('drops IPv6 to a blackholed host silently, while its IPv4 (here through the CLAT) works', async function () {
      const h = handset(labA, 0);
      const cdn = worldHost(labA, 'cdn.news.test');
      const v6 = await client(h.namespace, { kind: 'http', host: cdn.ipv6, bytes: 100, timeoutMs: 1500 });
      assert.deepEqual(v6, { ok: false, error: 'timeout' });
      const v4 = await client(h.namespace, { kind: 'http', host: cdn.ipv4, bytes: 100 });
      assert.equal(v4.ok, true, JSON.stringify(v4));
      // DNS64 does not synthesize: the AAAA exists.
      assert.equal((await inNs(h.namespace, 'dig', '+short', 'AAAA', 'cdn.news.test')).trim(), cdn.ipv6);
    });

    it("makes a phone's background traffic from system uids: probe, NTP through DNS64/NAT64, a push channel", async function () {
      this.timeout(25_000);
      const h = handset(labA, 0);
      assert.ok(h.background, 'no background traffic recorded');
      assert.deepEqual([h.background.probe.host, h.background.ntp.host, h.background.push.host], ['connectivity.test', 'time.test', 'push.test']);
      const upAt = Date.parse(labA!.startedAt) + (labA!.upMs ?? 0);
      // Within ~15 s of up: a probe every 10 s, NTP 3 s after the start, a push keepalive every 15 s.
      const wanted = ['probe-http', 'probe-https', 'ntp', 'push'];
      let counters: Record<string, number> = {};
      for (;;) {
        counters = parseCounters(await exec(['ip', 'netns', 'exec', h.namespace, 'nft', 'list', 'table', 'inet', 'v6labtest']));
        if (wanted.every((name) => (counters[name] ?? 0) > 0)) break;
        assert.ok(Date.now() < upAt + 20_000, `after ${Date.now() - upAt} ms, packets by uid: ${JSON.stringify(counters)}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.equal(counters['app-uid'], 0, 'nothing from an app uid');
      assert.equal(counters['background-host-other-uid'], 0, `the background hosts reached by another uid: ${JSON.stringify(counters)}`);
      // The push channel stays open, owned by its uid, as /proc/net/tcp6 shows on a phone.
      const push = worldHost(labA, 'push.test').ipv6!;
      // Read as the handset reads it: /proc/net gives uids as the reader's user namespace sees them.
      const tcp6 = await exec(['nsenter', `--user=${usernsFile(labA!.runDir, h.namespace)}`, `--net=/run/netns/${h.namespace}`, '--', 'cat', '/proc/net/tcp6']);
      // "2: B80D0120...:C180 B80D0120...:01BB 01 ... 1002 0 281759 ..." (state 01: established)
      const established = tcp6
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter((f) => f[2] === `${procNetAddress6(push)}:01BB` && f[3] === '01');
      assert.deepEqual(
        established.map((f) => f[7]),
        ['1002'],
        `one established socket to push.test:443, of uid 1002: ${tcp6}`,
      );
      const log = await readFile(h.background.logFile, 'utf8');
      assert.match(log, new RegExp(`ntp: uid 1001 time\\.test \\[${nat64Address(worldHost(labA, 'time.test').ipv4!)}\\]:123 stratum 1`));
      assert.match(log, /probe: uid 1000 204 \S+ https:\/\/connectivity\.test\/generate_204/);
      assert.match(log, /push: uid 1002 pong \d+/);
    });

    it('reports every component running and the handset healthy', async function () {
      const status = await labStatus(labA!.stateDir);
      assert.equal(status.healthy, true, JSON.stringify(status, null, 2));
      assert.ok(status.components.some((c) => c.name.startsWith('tayga-clat')));
      assert.ok(status.components.some((c) => c.name.startsWith('background') && c.healthy));
    });

    it('goes down leaving no namespace, process, /etc/netns directory or mount; a second down is a no-op', async function () {
      this.timeout(10_000);
      const state = (await readState(labA!.stateDir))!;
      const parts = await backgroundPartProcesses(state);
      assert.ok(
        parts.some((p) => p.uid === 1002),
        `the push channel runs: ${JSON.stringify(parts)}`,
      );
      const started = Date.now();
      const { removed } = await labDown(state.stateDir);
      console.log(`      lab down, 1 handset: ${Date.now() - started} ms`);
      assert.ok(removed.length > 0);
      assert.deepEqual(await leftovers(state.labId, state.processes, state.runDir, parts), []);
      assert.equal(await readState(state.stateDir), null);
      assert.deepEqual(await labDown(state.stateDir), { removed: [] });
    });
  });

  describe('four handsets in parallel', function () {
    before(async function () {
      this.timeout(30_000);
      const started = Date.now();
      labB = await labUp({
        labId: `b${process.pid % 1000}`,
        stateDir: stateDir('lab-b'),
        world: WORLD,
        handsets: [
          { index: 0, apn: 'ipv4v6', pdpType: 'IPV4V6' },
          { index: 1, apn: 'ipv4v6', pdpType: 'IP' },
          { index: 2, apn: 'ipv4', pdpType: 'IPV6' },
          { index: 3, apn: 'ipv6', pdpType: 'IPV6' },
        ],
      });
      console.log(`      lab up, 4 handsets: ${Date.now() - started} ms`);
    });

    it('gives an IPV4V6 handset on the ipv4v6 APN both families, a resolver without DNS64, and no CLAT', async function () {
      const h = handset(labB, 0);
      assert.deepEqual([h.families, h.clat, h.dns64], [[6, 4], null, false]);
      const mobile = await addresses(h.namespace, 'rmnet_data0');
      assert.ok(mobile.some((a) => a.family === 'inet' && a.local === h.ipv4Address));
      assert.ok(mobile.some((a) => a.family === 'inet6' && a.scope === 'global' && inPrefix64(a.local, h.ipv6Prefix!)));
      assert.deepEqual(await addresses(h.namespace, 'v4-rmnet_data0').catch(() => []), []);
      assert.equal((await inNs(h.namespace, 'dig', '+short', 'AAAA', 'img.news.test')).trim(), '', 'no DNS64 on a dual-stack APN');
      const v4only = await client(h.namespace, { kind: 'http', host: 'img.news.test', bytes: 1000 });
      assert.deepEqual([v4only.ok, v4only.remoteAddress], [true, worldHost(labB, 'img.news.test').ipv4], JSON.stringify(v4only));
      const dual = await client(h.namespace, { kind: 'http', host: 'api.news.test', bytes: 1000 });
      assert.deepEqual([dual.ok, dual.remoteAddress], [true, worldHost(labB, 'api.news.test').ipv6], JSON.stringify(dual));
    });

    it('gives a handset asking for IP on the ipv4v6 APN IPv4 only', async function () {
      const h = handset(labB, 1);
      assert.deepEqual([h.attached, h.families, h.clat, h.ipv6Prefix], [true, [4], null, null]);
      const mobile = await addresses(h.namespace, 'rmnet_data0');
      assert.equal(mobile.filter((a) => a.family === 'inet6' && a.scope === 'global').length, 0, JSON.stringify(mobile));
      assert.equal((await exec(['ip', '-n', h.namespace, '-6', 'route', 'show', 'table', 'all', 'default', 'dev', 'rmnet_data0'])).trim(), '');
      const dual = await client(h.namespace, { kind: 'http', host: 'api.news.test', bytes: 1000 });
      assert.deepEqual([dual.ok, dual.remoteAddress], [true, worldHost(labB, 'api.news.test').ipv4], JSON.stringify(dual));
    });

    it('reports IPV6 on the ipv4 APN as a failed attach, not an error', async function () {
      const h = handset(labB, 2);
      assert.equal(h.attached, false);
      assert.match(h.attachError ?? '', /IPV6 rejected by the ipv4 APN/);
      assert.deepEqual(
        (await addresses(h.namespace, 'rmnet_data0')).filter((a) => a.scope === 'global'),
        [],
      );
      const status = await labStatus(labB!.stateDir);
      assert.equal(status.handsets.find((s) => s.index === 2)?.attached, false);
    });

    it('keeps handsets apart: each its own prefix and resolver, simultaneous transfers intact', async function () {
      const [h0, h3] = [handset(labB, 0), handset(labB, 3)];
      assert.notEqual(h0.ipv6Prefix, h3.ipv6Prefix);
      assert.notEqual(h0.dnsServers[0], h3.dnsServers[0]);
      assert.equal(h3.clat?.nat64Prefix, '64:ff9b::/96');
      const results = await Promise.all([
        client(h0.namespace, { kind: 'https', host: 'api.news.test', bytes: 2_000_000, ca: labB!.world.caCertFile }),
        client(h3.namespace, { kind: 'https', host: 'api.news.test', bytes: 2_000_000, ca: labB!.world.caCertFile }),
        client(h3.namespace, { kind: 'http', host: 'img.news.test', bytes: 500_000 }),
        client(h0.namespace, { kind: 'udp', host: worldHost(labB, 'img.news.test').ipv4, bytes: 20_000 }),
      ]);
      for (const r of results) assert.equal(r.ok, true, JSON.stringify(results));
      assert.equal(results[2]?.remoteAddress, '64:ff9b::6440:102');
    });

    it('Wi-Fi on joins the access point and makes it the default network; off, mobile data is the default again', async function () {
      this.timeout(30_000);
      let h = handset(labB, 0);
      const api = worldHost(labB, 'api.news.test');
      // Not joined at start (no saved network): wlan0 is down with no address, mobile data the default.
      assert.equal(h.wifi?.connected, false);
      assert.deepEqual(await addresses(h.namespace, 'wlan0'), []);
      assert.match(await routeGet(h.namespace, api.ipv6!), /dev rmnet_data0/);
      h = await setWifi(labB!, 0, true);
      assert.ok(h.wifi?.connected);
      const wlan = await addresses(h.namespace, 'wlan0');
      assert.ok(wlan.some((a) => a.local === h.wifi!.ipv4Address));
      // The IPv4 address came by DHCP, as from a home router: the access point's lease names it.
      const leases = await readFile(path.join(labB!.runDir, `ap${h.index}`, 'dhcp.leases'), 'utf8');
      assert.match(leases, new RegExp(` ${h.wifi.ipv4Address.replaceAll('.', '\\.')} `));
      assert.ok(wlan.some((a) => a.family === 'inet6' && a.scope === 'global' && inPrefix64(a.local, h.wifi!.ipv6Prefix)));
      // Wi-Fi is the default network: every socket not bound elsewhere leaves over it, and the
      // handset asks the home router's resolvers.
      assert.match(await routeGet(h.namespace, api.ipv6!), /dev wlan0/);
      assert.match(await routeGet(h.namespace, api.ipv4!), /dev wlan0/);
      assert.match(
        await readFile(path.join('/etc/netns', h.namespace, 'resolv.conf'), 'utf8'),
        new RegExp(`nameserver ${h.wifi.dnsServers[0]!.replaceAll('.', '\\.')}`),
      );
      const overWifi = await client(h.namespace, { kind: 'http', host: api.ipv4, bytes: 5000 });
      assert.deepEqual([overWifi.ok, overWifi.bytes], [true, 5000], JSON.stringify(overWifi));
      // Mobile data stays up beside it, its routes in its own table.
      assert.match(await exec(['ip', '-n', h.namespace, '-6', 'route', 'show', 'table', 'all', 'default', 'dev', 'rmnet_data0']), /proto ra/);
      h = await setWifi(labB!, 0, false);
      assert.equal(h.wifi?.connected, false);
      assert.deepEqual(await addresses(h.namespace, 'wlan0'), []);
      assert.match(await routeGet(h.namespace, api.ipv6!), /dev rmnet_data0/);
      assert.match(await routeGet(h.namespace, api.ipv4!), /dev (rmnet_data0|v4-rmnet_data0)/);
      // Mobile data's resolvers again (the gateway's DNS64 on this APN), none of Wi-Fi's.
      const resolvers = [...(await readFile(path.join('/etc/netns', h.namespace, 'resolv.conf'), 'utf8')).matchAll(/^nameserver (\S+)/gm)].map((m) => m[1]);
      assert.deepEqual(resolvers, h.dnsServers);
      const viaMobile = await client(h.namespace, { kind: 'http', host: 'api.news.test', bytes: 1000 });
      assert.equal(viaMobile.ok, true, JSON.stringify(viaMobile));
    });

    it('re-attaches a handset from ipv4v6 to ipv6 within a few seconds, and its CLAT appears', async function () {
      this.timeout(15_000);
      const before = handset((await readState(labB!.stateDir)) ?? undefined, 0).background;
      assert.ok(before, 'handset 0 makes background traffic before the re-attach');
      const started = Date.now();
      const h = await reattach(labB!, 0, 'ipv6', 'IPV4V6');
      const took = Date.now() - started;
      console.log(`      re-attach ipv4v6 -> ipv6: ${took} ms`);
      assert.ok(took < 5000, `re-attach took ${took} ms`);
      assert.deepEqual([h.attached, h.families, h.dns64, h.clat?.nat64Prefix], [true, [6], true, '64:ff9b::/96']);
      const mobile = await addresses(h.namespace, 'rmnet_data0');
      assert.equal(mobile.filter((a) => a.family === 'inet').length, 0, `IPv4 left on rmnet_data0: ${JSON.stringify(mobile)}`);
      assert.ok((await addresses(h.namespace, 'v4-rmnet_data0')).some((a) => a.local === '192.0.0.4'));
      const literal = await client(h.namespace, { kind: 'http', host: worldHost(labB, 'img.news.test').ipv4, bytes: 10_000 });
      assert.equal(literal.ok, true, JSON.stringify(literal));
      const byName = await client(h.namespace, { kind: 'http', host: 'img.news.test', bytes: 1000 });
      assert.equal(byName.remoteAddress, '64:ff9b::6440:102');
      labB = (await readState(labB!.stateDir)) ?? labB;
      const status = await labStatus(labB!.stateDir);
      assert.equal(status.healthy, true, JSON.stringify(status, null, 2));
      // The old attach's daemons are gone: one resolver and one radvd in the gateway.
      const gatewayProcesses = labB!.processes
        .filter((p) => p.namespace === h.gatewayNamespace)
        .map((p) => p.name)
        .sort();
      assert.deepEqual(gatewayProcesses, ['radvd', 'tayga-nat64', 'unbound-dns64']);
      // The background traffic went with the old attach and came back with the new one.
      assert.equal(await isRunning(before), false, "the old attach's background traffic stopped");
      assert.ok(h.background && (await isRunning(h.background)), 'the new attach makes background traffic');
      assert.deepEqual(
        labB!.processes
          .filter((p) => p.namespace === h.namespace)
          .map((p) => p.name)
          .sort(),
        ['background', 'tayga-clat'],
      );
    });

    it('re-attaches back to ipv4v6: the CLAT goes, IPv4 comes back', async function () {
      this.timeout(15_000);
      const h = await reattach(labB!, 0, 'ipv4v6', 'IPV4V6');
      assert.deepEqual([h.families, h.clat], [[6, 4], null]);
      assert.deepEqual(await addresses(h.namespace, 'v4-rmnet_data0').catch(() => []), []);
      const dual = await client(h.namespace, { kind: 'http', host: 'api.news.test', bytes: 1000 });
      assert.equal(dual.ok, true, JSON.stringify(dual));
    });

    it('goes down from its state file, read afresh, leaving nothing behind', async function () {
      this.timeout(10_000);
      const state = (await readState(labB!.stateDir))!;
      const parts = await backgroundPartProcesses(state);
      const started = Date.now();
      await labDown(state.stateDir);
      console.log(`      lab down, 4 handsets: ${Date.now() - started} ms`);
      assert.deepEqual(await leftovers(state.labId, state.processes, state.runDir, parts), []);
    });
  });

  describe("handsets whose own settings are non-compliant (a phone's factory defaults)", function () {
    let labN: LabState | undefined;
    const sysctlOf = async (ns: string, key: string): Promise<string> => (await inNs(ns, 'sysctl', '-n', key)).trim();

    before(async function () {
      this.timeout(30_000);
      labN = await labUp({
        labId: `n${process.pid % 1000}`,
        stateDir: stateDir('lab-n'),
        world: WORLD,
        handsets: [
          // The non-compliant reference's defaults: no privacy addresses, no IPv6 on Wi-Fi, no CLAT.
          { index: 0, apn: 'ipv6', pdpType: 'IPV6', settings: { mobilePrivacy: false, wifiIpv6: false, wifiPrivacy: false, clat: false } },
          { index: 1, apn: 'ipv4v6', pdpType: 'IPV4V6', settings: { mobileIpv6: false } },
        ],
        backgroundTraffic: false,
      });
    });

    after(async function () {
      if (labN) await labDown(labN.stateDir);
    });

    it('records the settings and the sysctls that applied them', function () {
      const h = handset(labN, 0);
      assert.deepEqual(h.settings, { mobileIpv6: true, mobilePrivacy: false, wifiIpv6: false, wifiPrivacy: false, clat: false });
      assert.deepEqual([...h.sysctls].sort(), [
        'net.ipv6.conf.rmnet_data0.disable_ipv6=0',
        'net.ipv6.conf.rmnet_data0.use_tempaddr=0',
        'net.ipv6.conf.wlan0.disable_ipv6=1',
        'net.ipv6.conf.wlan0.use_tempaddr=0',
      ]);
    });

    it('gives no temporary address on mobile data, and no IPv6 at all on wlan0', async function () {
      const h = handset(labN, 0);
      const mobile = await addresses(h.namespace, 'rmnet_data0');
      assert.ok(
        mobile.some((a) => a.family === 'inet6' && a.scope === 'global' && inPrefix64(a.local, h.ipv6Prefix!)),
        JSON.stringify(mobile),
      );
      assert.deepEqual(
        mobile.filter((a) => a.temporary),
        [],
        'no privacy address',
      );
      assert.equal(await sysctlOf(h.namespace, 'net.ipv6.conf.rmnet_data0.use_tempaddr'), '0');
      const wlan = await addresses(h.namespace, 'wlan0');
      assert.deepEqual(
        wlan.filter((a) => a.family === 'inet6'),
        [],
        `IPv6 on wlan0: ${JSON.stringify(wlan)}`,
      );
      assert.equal(await sysctlOf(h.namespace, 'net.ipv6.conf.wlan0.disable_ipv6'), '1');
      assert.deepEqual(h.wifi?.ipv6Addresses, []);
    });

    it('runs no CLAT on an IPv6-only attach: IPv6 only, IPv4 sockets fail, IPv4-only names still reachable by DNS64/NAT64', async function () {
      const h = handset(labN, 0);
      assert.deepEqual([h.families, h.clat], [[6], null]);
      assert.deepEqual(await addresses(h.namespace, 'v4-rmnet_data0').catch(() => []), []);
      assert.equal(
        (await exec(['ip', '-n', h.namespace, '-4', 'route', 'show', 'table', 'all', 'default']))
          .split('\n')
          .filter((l) => l.trim() !== '' && !l.includes('dev wlan0'))
          .join('\n'),
        '',
        "no IPv4 default route but Wi-Fi's",
      );
      const literal = await client(h.namespace, { kind: 'http', host: worldHost(labN, 'img.news.test').ipv4, bytes: 100 });
      assert.deepEqual(literal, { ok: false, error: 'ENETUNREACH' });
      const byName = await client(h.namespace, { kind: 'http', host: 'img.news.test', bytes: 100 });
      assert.deepEqual([byName.ok, byName.remoteAddress], [true, nat64Address(worldHost(labN, 'img.news.test').ipv4!)], JSON.stringify(byName));
    });

    it('with IPv6 off on mobile data, ignores the RA and its IPv6 resolver on a dual-stack attach', async function () {
      const h = handset(labN, 1);
      assert.deepEqual([h.families, h.ipv6Addresses, h.dnsServers], [[6, 4], [], [h.ipv4Gateway]]);
      assert.deepEqual(
        (await addresses(h.namespace, 'rmnet_data0')).filter((a) => a.family === 'inet6'),
        [],
      );
      const dual = await client(h.namespace, { kind: 'http', host: 'api.news.test', bytes: 100 });
      assert.deepEqual([dual.ok, dual.remoteAddress], [true, worldHost(labN, 'api.news.test').ipv4], JSON.stringify(dual));
    });

    it('calls the deliberately absent privacy addresses, IPv6 and CLAT healthy, and runs no background traffic when off', async function () {
      const status = await labStatus(labN!.stateDir);
      assert.equal(status.healthy, true, JSON.stringify(status, null, 2));
      assert.ok(!status.components.some((c) => c.name.startsWith('background')));
      assert.deepEqual(
        labN!.handsets.map((h) => h.background),
        [null, null],
      );
    });

    it('keeps the settings through re-attaches', async function () {
      this.timeout(20_000);
      let h = await reattach(labN!, 0, 'ipv4v6', 'IPV4V6');
      assert.deepEqual(h.families, [6, 4]);
      assert.deepEqual(
        (await addresses(h.namespace, 'rmnet_data0')).filter((a) => a.temporary),
        [],
        'no privacy address after a re-attach',
      );
      assert.deepEqual(
        (await addresses(h.namespace, 'wlan0')).filter((a) => a.family === 'inet6'),
        [],
      );
      h = await reattach(labN!, 0, 'ipv6', 'IPV6');
      assert.deepEqual([h.families, h.clat, h.settings.clat], [[6], null, false]);
      assert.deepEqual(await addresses(h.namespace, 'v4-rmnet_data0').catch(() => []), []);
      const status = await labStatus(labN!.stateDir);
      assert.equal(status.healthy, true, JSON.stringify(status, null, 2));
    });
  });

  describe('after a crash', function () {
    it('goes down after the process running lab up was killed mid-way', async function () {
      this.timeout(30_000);
      const dir = stateDir('lab-crash');
      const labId = `c${process.pid % 1000}`;
      const script = path.join(workDir, 'crash.mts');
      const plan: LabPlan = { labId, stateDir: dir, world: WORLD, handsets: [0, 1].map((index) => ({ index, apn: 'ipv6', pdpType: 'IPV4V6' })) };
      await writeFile(
        script,
        `import { labUp } from ${JSON.stringify(path.join(ROOT, 'lib/lab/network/index.ts'))};\nawait labUp(${JSON.stringify(plan)});\nsetInterval(() => {}, 1000);\n`,
      );
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: 'ignore' });
      let parts: BackgroundPartProcess[] = [];
      try {
        // Killed once a handset's background traffic runs (the rest may still be coming up): the
        // state file is all that knows of the daemons, and the background traffic's parts are
        // known to nobody but their parent.
        const deadline = Date.now() + 20_000;
        for (;;) {
          const state = await readState(dir).catch(() => null);
          parts = state === null ? [] : await backgroundPartProcesses(state);
          if (parts.length > 0) break;
          assert.ok(Date.now() < deadline, 'lab up in the child never started its background traffic');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        child.kill('SIGKILL');
      }
      const state = (await readState(dir))!;
      assert.ok(state.namespaces.length > 0);
      await labDown(dir);
      assert.deepEqual(await leftovers(labId, state.processes, state.runDir, parts), []);
    });

    it('sweeps a lab by its id when the state file is gone', async function () {
      this.timeout(20_000);
      const dir = stateDir('lab-lost');
      // A world without time.test: the background traffic skips NTP and says so.
      const world = { hosts: WORLD.hosts.filter((h) => h.name !== 'time.test') };
      const state = await labUp({
        labId: `d${process.pid % 1000}`,
        stateDir: dir,
        world,
        handsets: [{ index: 5, apn: 'ipv4v6', pdpType: 'IPV4V6' }],
        wifi: false,
      });
      const background = handset(state, 5).background;
      assert.deepEqual([background?.probe.host, background?.ntp.host, background?.push.host], ['connectivity.test', null, 'push.test']);
      assert.match(await readFile(background!.logFile, 'utf8'), /ntp: skipped: the world has no time\.test/);
      // The push channel's curl is started through setpriv as the background process starts: a
      // moment after lab up returns it may still be root's setpriv, not yet uid 1002's curl (seen
      // in CI). Waited for, 5 s at most.
      let parts = await backgroundPartProcesses(state);
      for (const deadline = Date.now() + 5_000; !parts.some((p) => p.uid === 1002) && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 100));
        parts = await backgroundPartProcesses(state);
      }
      assert.ok(
        parts.some((p) => p.uid === 1002),
        `the push channel runs: ${JSON.stringify(parts)}`,
      );
      await unlink(path.join(dir, 'lab.json'));
      const { removed } = await labDown(dir, { labId: state.labId });
      assert.ok(
        removed.some((r) => r.startsWith('namespace ')),
        removed.join('\n'),
      );
      assert.deepEqual(await leftovers(state.labId, state.processes, state.runDir, parts), []);
      assert.equal((await stat(dir)).isDirectory(), true, 'the state directory itself is kept');
    });

    it('tears down what it made when a step fails, and names the step', async function () {
      this.timeout(20_000);
      const dir = stateDir('lab-fail');
      const labId = `e${process.pid % 1000}`;
      // Taken by someone else: creating the lab's gateway namespace fails.
      await exec(['ip', 'netns', 'add', `v6l-${labId}-gw1`]);
      try {
        await assert.rejects(
          labUp({
            labId,
            stateDir: dir,
            world: WORLD,
            handsets: [
              { index: 0, apn: 'ipv6', pdpType: 'IPV6' },
              { index: 1, apn: 'ipv6', pdpType: 'IPV6' },
            ],
          }),
          (error: Error) => error.name === 'LabAlreadyUpError',
        );
      } finally {
        await exec(['ip', 'netns', 'del', `v6l-${labId}-gw1`]);
      }
      for (const failing of ['handset 0: CLAT', 'handset 0: background traffic']) {
        process.env.V6LAB_LAB_FAIL_STEP = failing;
        try {
          await assert.rejects(
            labUp({ labId, stateDir: dir, world: WORLD, handsets: [{ index: 0, apn: 'ipv6', pdpType: 'IPV6' }], wifi: false }),
            new RegExp(`lab up failed at "${failing}": injected failure`),
          );
        } finally {
          delete process.env.V6LAB_LAB_FAIL_STEP;
        }
        assert.deepEqual(await leftovers(labId, [], path.join(dir, 'run')), [], failing);
        assert.equal(await readState(dir), null);
      }
    });
  });

  // Last: mocha runs a suite's own tests before its nested suites.
  describe('afterwards', function () {
    it("leaves the host's addresses, routes, nftables ruleset and resolv.conf as they were", async function () {
      assert.deepEqual(await hostNetwork(), hostBefore);
    });
  });
});
