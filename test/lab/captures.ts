// Real captures for the analyzer cross-check (issue 2): a client and a server network namespace
// joined by a veth pair, real daemons (unbound, tayga, a node TLS/echo server) in the server,
// real clients (dig, openssl s_client, a node UDP/TCP client) in the client, and three tcpdumps
// in the client recording the same traffic as LINUX_SLL2, LINUX_SLL and Ethernet.
//
// Needs root, iproute2, tcpdump, editcap, dig, openssl, unbound and tayga. Changes nothing outside
// the namespaces it creates (named `v6x<pid>...`) and /etc/netns/<ns>, and removes both, and every
// process it started, before it returns or throws.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import createDebug from 'debug';
import { run } from '../../lib/lab/network/command.js';
import { taygaConf } from '../../lib/lab/network/config.js';
import { LabCommandError } from '../../lib/lab/network/errors.js';
import { sleep } from '../../lib/lab/network/process.js';

export { LabCommandError };

const log = createDebug('v6lab:lab:captures');

/** One capture file made by {@link makeLabCaptures}. */
export interface LabCapture {
  file: string;
  format: 'pcap' | 'pcapng';
  link: 'sll' | 'sll2' | 'ethernet';
  /**
   * False when some packets legitimately appear twice in the file (the CLAT's IPv6 leg crosses
   * both the CLAT TUN and the veth of an `-i any` capture): tshark's conversation table counts
   * every copy, the analyzer counts a packet once (CONTRACTS.md section 2).
   */
  comparePacketCounts: boolean;
  /**
   * A tshark display filter matching the second copy of every packet the file holds twice: with
   * those frames removed, tshark's counts are the analyzer's again. Absent when nothing is doubled.
   */
  duplicatesFilter?: string;
}

// Addresses of the topology. IPv4 comes from 100.64/10: tayga with the well-known prefix
// 64:ff9b::/96 silently drops private and documentation IPv4 ranges (RFC 6052 section 3.1).
const LINK_V4_PREFIX = 24;
const CLIENT_V4 = '100.64.0.2';
const SERVER_V4 = '100.64.0.1';
/** The IPv4-only host: reachable from the client only through NAT64 or the CLAT. */
const V4ONLY_V4 = '100.64.1.1';
const LINK_V6_PREFIX = 64;
const CLIENT_V6 = '2001:db8:64::2';
const SERVER_V6 = '2001:db8:64::1';
/** The IPv6-only host, a second address of the server. */
const V6ONLY_V6 = '2001:db8:64::6';
const NAT64_PREFIX = '64:ff9b::/96';
/** 64:ff9b::100.64.1.1 (RFC 6052 /96), what DNS64 synthesizes for v4only.cross.test. */
const V4ONLY_NAT64 = '64:ff9b::6440:101';
/** 64:ff9b::100.64.0.1 */
const SERVER_NAT64 = '64:ff9b::6440:1';
const NAT64_POOL = '100.64.255.0/24';
const NAT64_TAYGA_V4 = '100.64.255.1';
const NAT64_TAYGA_V6 = '2001:db8:64:ff::1';
/** Android's CLAT address (RFC 7335) and the IPv6 address it is mapped to. */
const CLAT_V4 = '192.0.0.4';
const CLAT_TAYGA_V4 = '192.0.0.2';
const CLAT_V6 = '2001:db8:64::4';
const CLAT_TAYGA_V6 = '2001:db8:64:c1a7::1';
const CLAT_TUN = 'v4-eth0';
/** Keeps translated IPv6 within 1500 (lab.md). */
const CLAT_ROUTE_MTU = '1472';

const ECHO_PORT = 7;
const TLS_PORT = 443;
/** Nothing listens here: the SYN is answered with a reset. */
const CLOSED_PORT = 81;

/** What an analysis of the lab's captures may be told, as `v6lab analyze` options. */
export function labAnalysisOptions(): { nat64Prefixes: string[]; clatAddresses: string[] } {
  return { nat64Prefixes: [NAT64_PREFIX], clatAddresses: [CLAT_V6] };
}

const ZONE = `$ORIGIN cross.test.
$TTL 60
@       IN SOA ns.cross.test. hostmaster.cross.test. 1 3600 600 86400 60
@       IN NS  ns.cross.test.
ns      IN A    ${SERVER_V4}
ns      IN AAAA ${SERVER_V6}
api     IN A    ${SERVER_V4}
api     IN AAAA ${SERVER_V6}
v4only  IN A    ${V4ONLY_V4}
v6only  IN AAAA ${V6ONLY_V6}
`;

// RFC 7050 section 2.2: ipv4only.arpa has only A records, the well-known 192.0.0.170/171, so the
// DNS64 synthesizes AAAA answers that reveal its NAT64 prefix.
const IPV4ONLY_ZONE = `$ORIGIN ipv4only.arpa.
$TTL 60
@       IN SOA ns.cross.test. hostmaster.cross.test. 1 3600 600 86400 60
@       IN NS  ns.cross.test.
@       IN A   192.0.0.170
@       IN A   192.0.0.171
`;

// DNS64 only synthesizes answers that come through the iterator: an auth-zone with
// for-upstream (not local-data) in the same unbound (lab.md). "test." is one of unbound's default
// local zones (RFC 6761), hence nodefault.
/** An authoritative zone the DNS64 iterator asks (for-upstream), from DIR/NAME.zone. */
function authZone(name: string, dir: string): string {
  return `auth-zone:
  name: "${name}."
  zonefile: "${path.join(dir, `${name}.zone`)}"
  for-downstream: no
  for-upstream: yes
  fallback-enabled: no
`;
}

function unboundConf(dir: string): string {
  return `server:
  interface: ${SERVER_V4}
  interface: ${SERVER_V6}
  port: 53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  num-threads: 1
  so-reuseport: no
  access-control: 0.0.0.0/0 allow
  access-control: ::/0 allow
  local-zone: "test." nodefault
  module-config: "dns64 iterator"
  dns64-prefix: ${NAT64_PREFIX}
${['cross.test', 'ipv4only.arpa'].map((zone) => authZone(zone, dir)).join('')}remote-control:
  control-enable: no
`;
}

// The server answers TLS on 443 and echoes TCP and UDP on 7. UDP sockets are bound per address
// so every reply leaves from the address the datagram was sent to (a wildcard socket would let
// routing pick the source, and a NAT64 reply would come back from the wrong address).
// The client runs a plan of UDP and TCP exchanges one after another and fails loudly.
const PEER_SCRIPT = String.raw`
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const STEP_TIMEOUT_MS = 3000;
const [role, ...args] = process.argv.slice(2);

function withDeadline(what, executor) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(what + ': no answer in ' + STEP_TIMEOUT_MS + ' ms')), STEP_TIMEOUT_MS);
    executor(
      (v) => { clearTimeout(timer); resolve(v); },
      (e) => { clearTimeout(timer); reject(e); },
    );
  });
}

async function serve(certFile, keyFile, udpAddresses) {
  const tlsServer = tls.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, (s) => {
    // The client closes first: a server that ends first without close_notify makes s_client
    // fail with "unexpected eof while reading".
    s.on('error', () => {});
    s.on('end', () => s.end());
    s.write('hello ' + (s.servername || '-') + '\n');
  });
  tlsServer.on('tlsClientError', () => {});
  const echo = net.createServer((s) => { s.on('error', () => {}); s.pipe(s); });
  for (const server of [[tlsServer, ${TLS_PORT}], [echo, ${ECHO_PORT}]]) {
    await new Promise((resolve, reject) => {
      server[0].once('error', reject);
      server[0].listen({ port: server[1], host: '::', ipv6Only: false }, resolve);
    });
  }
  for (const address of udpAddresses.split(',')) {
    const socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    socket.on('message', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
    await new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(${ECHO_PORT}, address, resolve);
    });
  }
  process.on('SIGTERM', () => process.exit(0));
  process.stdout.write('peer ready\n');
}

async function udpExchange(step) {
  const socket = dgram.createSocket(net.isIPv6(step.host) ? 'udp6' : 'udp4');
  try {
    await new Promise((resolve, reject) => { socket.once('error', reject); socket.connect(step.port, step.host, resolve); });
    for (let i = 0; i < step.datagrams; i++) {
      const payload = Buffer.alloc(step.size, 0x61 + i);
      await withDeadline('udp ' + step.host, (resolve, reject) => {
        socket.once('message', resolve);
        socket.once('error', reject);
        socket.send(payload);
      });
    }
  } finally {
    socket.close();
  }
}

async function tcpExchange(step) {
  await withDeadline('tcp ' + step.host, (resolve, reject) => {
    let received = 0;
    const socket = net.connect({ host: step.host, port: step.port });
    socket.on('data', (chunk) => { received += chunk.length; });
    socket.on('error', reject);
    socket.on('close', () => received === step.bytes ? resolve() : reject(new Error('tcp ' + step.host + ': echoed ' + received + ' of ' + step.bytes + ' bytes')));
    socket.end(Buffer.alloc(step.bytes, 0x62));
  });
}

async function tcpRefused(step) {
  await withDeadline('tcp-refused ' + step.host, (resolve, reject) => {
    const socket = net.connect({ host: step.host, port: step.port });
    socket.on('connect', () => reject(new Error('tcp-refused ' + step.host + ': connected')));
    socket.on('error', (e) => e.code === 'ECONNREFUSED' ? resolve() : reject(e));
  });
}

async function runPlan(planJson) {
  for (const step of JSON.parse(planJson)) {
    if (step.kind === 'udp') await udpExchange(step);
    else if (step.kind === 'tcp') await tcpExchange(step);
    else if (step.kind === 'tcp-refused') await tcpRefused(step);
    else throw new Error('unknown step ' + JSON.stringify(step));
  }
}

if (role === 'server') await serve(args[0], args[1], args[2]);
else if (role === 'client') await runPlan(args[0]);
else throw new Error('usage: peer.mjs server CERT KEY ADDRS | client PLAN');
`;

type PeerStep =
  | { kind: 'udp'; host: string; port: number; datagrams: number; size: number }
  | { kind: 'tcp'; host: string; port: number; bytes: number }
  | { kind: 'tcp-refused'; host: string; port: number };

const DAEMON_READY_TIMEOUT_MS = 5_000;
const DAEMON_EXIT_TIMEOUT_MS = 3_000;
/** Lets the last packets of the traffic (FINs, resets after s_client exits) reach the capture. */
const SETTLE_MS = 300;

/** A long-running process of the lab, stopped by its PID. */
interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  output(): string;
}

/**
 * Spawns argv and resolves once its stdout or stderr matches `ready`. `ip netns exec` execs the
 * command in place, so the child's PID is the daemon's own.
 */
function startDaemon(name: string, argv: readonly string[], ready: RegExp, daemons: Daemon[]): Promise<Daemon> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('startDaemon: empty argv');
  log('start %s %o', name, argv);
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const daemon: Daemon = { name, child, output: () => text };
  daemons.push(daemon);
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(daemon);
    };
    const timer = setTimeout(
      () => settle(new LabCommandError(argv, `not ready after ${DAEMON_READY_TIMEOUT_MS} ms: ${text.trim().slice(-2000)}`)),
      DAEMON_READY_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer): void => {
      // Keep the tail only: enough for an error message, bounded for a chatty daemon.
      text = (text + chunk.toString('utf8')).slice(-16_384);
      if (ready.test(text)) settle();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) => settle(new LabCommandError(argv, error.message, { cause: error })));
    child.once('exit', (code, signal) => settle(new LabCommandError(argv, `exited (${signal ?? code}) before ready: ${text.trim().slice(-2000)}`)));
  });
}

async function stopDaemon(daemon: Daemon, signal: NodeJS.Signals): Promise<void> {
  const { child } = daemon;
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  log('stop %s pid %d with %s', daemon.name, child.pid, signal);
  const exited = once(child, 'exit');
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), DAEMON_EXIT_TIMEOUT_MS);
  });
  try {
    process.kill(child.pid, signal);
    if ((await Promise.race([exited, deadline])) === 'timeout') {
      log('%s pid %d ignored %s, killing', daemon.name, child.pid, signal);
      process.kill(child.pid, 'SIGKILL');
      await exited;
    }
  } catch (error) {
    // ESRCH: it exited between the check and the kill.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  } finally {
    clearTimeout(timer);
  }
}

let labSerial = 0;

/**
 * Builds the client/server lab, runs the traffic while capturing it three ways, and returns
 * six capture files in `outDir` (each link type as pcap, and as pcapng made by editcap).
 * Everything it set up is removed before it returns or throws; `outDir` keeps the captures.
 */
export async function makeLabCaptures(outDir: string): Promise<LabCapture[]> {
  const started = Date.now();
  labSerial += 1;
  const base = `v6x${process.pid}n${labSerial}`;
  const clientNs = `${base}c`;
  const serverNs = `${base}s`;
  const namespaces: string[] = [];
  const daemons: Daemon[] = [];
  const workDir = await mkdtemp(path.join(tmpdir(), 'v6lab-crosscheck-'));
  const inClient = (...argv: string[]): string[] => ['ip', 'netns', 'exec', clientNs, ...argv];
  const inServer = (...argv: string[]): string[] => ['ip', 'netns', 'exec', serverNs, ...argv];
  try {
    await mkdir(outDir, { recursive: true });

    // Namespaces, each with its own resolv.conf so nothing asks the host's resolver.
    for (const ns of [clientNs, serverNs]) {
      await run(['ip', 'netns', 'add', ns]);
      namespaces.push(ns);
      await mkdir(path.join('/etc/netns', ns), { recursive: true });
      await writeFile(path.join('/etc/netns', ns, 'resolv.conf'), `nameserver ${SERVER_V4}\nnameserver ${SERVER_V6}\n`);
      // Before any link exists: addresses usable at once, no DAD wait (lab.md).
      await run([
        'ip',
        'netns',
        'exec',
        ns,
        'sysctl',
        '-q',
        '-w',
        'net.ipv6.conf.all.accept_dad=0',
        'net.ipv6.conf.default.accept_dad=0',
        'net.ipv6.conf.all.forwarding=1',
      ]);
      await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await run(['ip', 'link', 'add', 'eth0', 'netns', clientNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', serverNs]);
    await run(['ip', '-n', clientNs, 'addr', 'add', `${CLIENT_V4}/${LINK_V4_PREFIX}`, 'dev', 'eth0']);
    await run(['ip', '-n', clientNs, 'addr', 'add', `${CLIENT_V6}/${LINK_V6_PREFIX}`, 'dev', 'eth0', 'nodad']);
    await run(['ip', '-n', serverNs, 'addr', 'add', `${SERVER_V4}/${LINK_V4_PREFIX}`, 'dev', 'eth0']);
    await run(['ip', '-n', serverNs, 'addr', 'add', `${V4ONLY_V4}/32`, 'dev', 'lo']);
    await run(['ip', '-n', serverNs, 'addr', 'add', `${SERVER_V6}/${LINK_V6_PREFIX}`, 'dev', 'eth0', 'nodad']);
    await run(['ip', '-n', serverNs, 'addr', 'add', `${V6ONLY_V6}/${LINK_V6_PREFIX}`, 'dev', 'eth0', 'nodad']);
    await run(['ip', '-n', clientNs, 'link', 'set', 'eth0', 'up']);
    await run(['ip', '-n', serverNs, 'link', 'set', 'eth0', 'up']);
    await run(['ip', '-n', clientNs, '-6', 'route', 'add', NAT64_PREFIX, 'via', SERVER_V6]);

    // NAT64 in the server: IPv6 to 64:ff9b::/96 goes into tayga, comes out as IPv4 from the pool.
    const nat64Conf = path.join(workDir, 'tayga-nat64.conf');
    await writeFile(
      nat64Conf,
      taygaConf({ tunDevice: 'nat64', ipv4Address: NAT64_TAYGA_V4, ipv6Address: NAT64_TAYGA_V6, prefix: NAT64_PREFIX, dynamicPool: NAT64_POOL }),
    );
    await run(inServer('tayga', '--mktun', '-c', nat64Conf));
    await run(['ip', '-n', serverNs, 'link', 'set', 'nat64', 'up']);
    await run(['ip', '-n', serverNs, '-6', 'route', 'add', NAT64_PREFIX, 'dev', 'nat64']);
    await run(['ip', '-n', serverNs, 'route', 'add', NAT64_POOL, 'dev', 'nat64']);
    // tayga writes its messages, errors included, to stdout, block-buffered into a pipe: stdbuf
    // (which execs, keeping the PID) makes "NAT64 prefix:" arrive when printed. -d: foreground.
    await startDaemon('tayga-nat64', inServer('stdbuf', '-oL', 'tayga', '-d', '-c', nat64Conf), /NAT64 prefix:/, daemons);

    // CLAT in the client (464XLAT, RFC 6877): IPv4 to the IPv4-only host leaves as 192.0.0.4,
    // tayga maps it to CLAT_V6 towards 64:ff9b::/96; proxy NDP answers for CLAT_V6 on eth0.
    const clatConf = path.join(workDir, 'tayga-clat.conf');
    await writeFile(
      clatConf,
      taygaConf({ tunDevice: CLAT_TUN, ipv4Address: CLAT_TAYGA_V4, ipv6Address: CLAT_TAYGA_V6, prefix: NAT64_PREFIX, maps: [[CLAT_V4, CLAT_V6]] }),
    );
    await run(inClient('tayga', '--mktun', '-c', clatConf));
    await run(['ip', '-n', clientNs, 'link', 'set', CLAT_TUN, 'up']);
    await run(['ip', '-n', clientNs, 'addr', 'add', `${CLAT_V4}/32`, 'dev', CLAT_TUN]);
    await run(['ip', '-n', clientNs, 'route', 'add', `${V4ONLY_V4}/32`, 'dev', CLAT_TUN, 'src', CLAT_V4, 'mtu', CLAT_ROUTE_MTU]);
    await run(['ip', '-n', clientNs, '-6', 'route', 'add', `${CLAT_V6}/128`, 'dev', CLAT_TUN]);
    await run(inClient('sysctl', '-q', '-w', 'net.ipv6.conf.eth0.proxy_ndp=1', 'net.ipv6.neigh.eth0.proxy_delay=0'));
    await run(['ip', '-n', clientNs, '-6', 'neigh', 'add', 'proxy', CLAT_V6, 'dev', 'eth0']);
    await startDaemon('tayga-clat', inClient('stdbuf', '-oL', 'tayga', '-d', '-c', clatConf), /NAT64 prefix:/, daemons);

    // DNS: unbound with DNS64 on the server's addresses.
    await writeFile(path.join(workDir, 'cross.test.zone'), ZONE);
    await writeFile(path.join(workDir, 'ipv4only.arpa.zone'), IPV4ONLY_ZONE);
    const unboundConfFile = path.join(workDir, 'unbound.conf');
    await writeFile(unboundConfFile, unboundConf(workDir));
    await startDaemon('unbound', inServer('unbound', '-d', '-c', unboundConfFile), /start of service/, daemons);

    // TLS, TCP echo and UDP echo: a throwaway P-256 certificate keeps the handshakes (and the
    // fixtures) small.
    const certFile = path.join(workDir, 'cert.pem');
    const keyFile = path.join(workDir, 'key.pem');
    await run([
      'openssl',
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=cross.test',
      '-addext',
      'subjectAltName=DNS:*.cross.test',
    ]);
    const peerScript = path.join(workDir, 'peer.mjs');
    await writeFile(peerScript, PEER_SCRIPT);
    const udpAddresses = [SERVER_V4, V4ONLY_V4, SERVER_V6, V6ONLY_V6].join(',');
    await startDaemon('peer-server', inServer(process.execPath, peerScript, 'server', certFile, keyFile, udpAddresses), /peer ready/, daemons);

    // Captures, all in the client namespace and of the same traffic.
    const sll2Pcap = path.join(outDir, 'sll2-mixed.pcap');
    const sllPcap = path.join(outDir, 'sll-mixed.pcap');
    const ethPcap = path.join(outDir, 'eth-mixed.pcap');
    // In immediate mode libpcap uses a TPACKET_V2 ring of snaplen-sized slots: with the default
    // 2 MB buffer and 262144-byte snaplen that is ~8 slots, and `-i any` dropped packets of the
    // CLAT bursts. 64 KB slots (veth GSO frames fit) in 16 MB: ~250 slots. -Z root: write as root.
    const tcpdump = (...argv: string[]): string[] => inClient('tcpdump', '-U', '--immediate-mode', '-s', '65535', '-B', '16384', '-Z', 'root', ...argv);
    const tcpdumps = [
      ['tcpdump-sll2', tcpdump('-i', 'any', '-w', sll2Pcap)],
      ['tcpdump-sll', tcpdump('-i', 'any', '-y', 'LINUX_SLL', '-w', sllPcap)],
      ['tcpdump-eth', tcpdump('-i', 'eth0', '-w', ethPcap)],
    ] as const;
    const captureDaemons = await Promise.all(tcpdumps.map(([name, argv]) => startDaemon(name, argv, /listening on/, daemons)));

    await generateTraffic(inClient, peerScript);
    await sleep(SETTLE_MS);

    for (const daemon of captureDaemons) await stopDaemon(daemon, 'SIGINT');
    for (const daemon of captureDaemons) {
      const report = daemon.output().trim().replace(/\n/g, ' | ');
      log('%s: %s', daemon.name, report);
      // A lossy capture would make one copy of a doubled packet go missing, and the comparison
      // of deduplicated counts fail for a reason that is not the analyzer's.
      // "248 packets captured | 252 packets received by filter | 4 packets dropped by kernel"
      const dropped = Number(/(\d+) packets? dropped by kernel/.exec(report)?.[1] ?? 'NaN');
      if (dropped !== 0) throw new LabCommandError(daemon.child.spawnargs, `capture lost packets or printed no statistics: ${report}`);
    }

    // The CLAT's IPv6 packets are seen on the TUN (written or read by tayga) and again on eth0;
    // the TUN copy has no link-layer address (ARPHRD_NONE, 65534 in the SLL/SLL2 header).
    const duplicatesFilter = `sll.hatype == 65534 && ipv6`;
    const captures: LabCapture[] = [
      { file: sll2Pcap, format: 'pcap', link: 'sll2', comparePacketCounts: false, duplicatesFilter },
      { file: sllPcap, format: 'pcap', link: 'sll', comparePacketCounts: false, duplicatesFilter },
      { file: ethPcap, format: 'pcap', link: 'ethernet', comparePacketCounts: true },
    ];
    for (const capture of [...captures]) {
      const file = capture.file.replace(/\.pcap$/, '.pcapng');
      await run(['editcap', '-F', 'pcapng', capture.file, file]);
      captures.push({ ...capture, file, format: 'pcapng' });
    }
    log('made %d captures in %d ms', captures.length, Date.now() - started);
    return captures;
  } finally {
    // Reverse order: captures first, then servers, so their last packets are no concern.
    for (const daemon of [...daemons].reverse()) {
      await stopDaemon(daemon, daemon.name.startsWith('tcpdump') ? 'SIGINT' : 'SIGTERM').catch((error: unknown) =>
        log('stopping %s failed: %o', daemon.name, error),
      );
    }
    for (const ns of namespaces) {
      await run(['ip', 'netns', 'del', ns]).catch((error: unknown) => log('deleting netns %s failed: %o', ns, error));
      await rm(path.join('/etc/netns', ns), { recursive: true, force: true });
    }
    await rm(workDir, { recursive: true, force: true });
    log('lab %s down after %d ms', base, Date.now() - started);
  }
}

/** The traffic of the lab, every exchange checked so a broken lab fails here, not in a diff. */
async function generateTraffic(inClient: (...argv: string[]) => string[], peerScript: string): Promise<void> {
  const dig = (server: string, name: string, qtype: string, ...options: string[]): string[] =>
    inClient('dig', '+tries=1', '+time=2', ...options, `@${server}`, name, qtype);
  const digs = [
    // RFC 7050 NAT64 prefix discovery, as Android does it before starting the CLAT.
    dig(SERVER_V6, 'ipv4only.arpa', 'AAAA'),
    dig(SERVER_V4, 'api.cross.test', 'A'),
    dig(SERVER_V4, 'api.cross.test', 'AAAA'),
    dig(SERVER_V6, 'api.cross.test', 'AAAA'),
    dig(SERVER_V6, 'v6only.cross.test', 'AAAA'),
    dig(SERVER_V6, 'v4only.cross.test', 'A'),
    // DNS64: synthesized 64:ff9b::6440:101.
    dig(SERVER_V6, 'v4only.cross.test', 'AAAA'),
    dig(SERVER_V4, 'nx.cross.test', 'A'),
    // DNS over TCP (RFC 7766), one per family.
    dig(SERVER_V6, 'api.cross.test', 'AAAA', '+tcp'),
    dig(SERVER_V4, 'v4only.cross.test', 'A', '+tcp'),
  ];
  for (const argv of digs) {
    const answer = await run(argv);
    // ";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 31010"
    if (!/status: (NOERROR|NXDOMAIN)/.test(answer)) throw new LabCommandError(argv, `unexpected answer: ${answer}`);
  }
  // Proves DNS64 works (and is one more AAAA query in the captures).
  const dns64Query = dig(SERVER_V6, 'v4only.cross.test', 'AAAA', '+short');
  const dns64 = (await run(dns64Query)).trim();
  if (dns64 !== V4ONLY_NAT64) throw new LabCommandError(dns64Query, `DNS64 gave "${dns64}", not ${V4ONLY_NAT64}`);

  // TLS with SNI over each path; stdin closed, so s_client leaves after the handshake.
  const sClient = (connect: string, servername: string | null, ...options: string[]): string[] =>
    inClient('openssl', 's_client', '-connect', connect, ...(servername === null ? ['-noservername'] : ['-servername', servername]), ...options);
  const handshakes = [
    sClient(`${SERVER_V4}:${TLS_PORT}`, 'api.cross.test'),
    sClient(`[${SERVER_V6}]:${TLS_PORT}`, 'api.cross.test'),
    sClient(`[${V6ONLY_V6}]:${TLS_PORT}`, 'v6only.cross.test', '-tls1_2'),
    sClient(`[${V4ONLY_NAT64}]:${TLS_PORT}`, 'v4only.cross.test'),
    sClient(`${V4ONLY_V4}:${TLS_PORT}`, 'v4only.cross.test'),
    // A ClientHello without server_name: tshark has no value, the flow's sni is null.
    sClient(`${SERVER_V4}:${TLS_PORT}`, null),
  ];
  for (const argv of handshakes) {
    const out = await run(argv);
    // "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384"
    if (!/^(New|Reused), TLS/m.test(out)) throw new LabCommandError(argv, `no TLS session: ${out.slice(0, 2000)}`);
  }

  const plan: PeerStep[] = [
    { kind: 'udp', host: SERVER_V4, port: ECHO_PORT, datagrams: 3, size: 48 },
    { kind: 'udp', host: SERVER_V6, port: ECHO_PORT, datagrams: 3, size: 48 },
    { kind: 'udp', host: V6ONLY_V6, port: ECHO_PORT, datagrams: 1, size: 200 },
    { kind: 'udp', host: V4ONLY_NAT64, port: ECHO_PORT, datagrams: 2, size: 64 },
    { kind: 'udp', host: V4ONLY_V4, port: ECHO_PORT, datagrams: 2, size: 64 },
    // Small, so the SLL2 capture stays under 50 KB as a fixture (the CLAT's TCP is the TLS
    // above); the IPv6 one takes two segments.
    { kind: 'tcp', host: SERVER_V4, port: ECHO_PORT, bytes: 300 },
    { kind: 'tcp', host: SERVER_V6, port: ECHO_PORT, bytes: 1600 },
    { kind: 'tcp', host: SERVER_NAT64, port: ECHO_PORT, bytes: 200 },
    { kind: 'tcp-refused', host: SERVER_V4, port: CLOSED_PORT },
    { kind: 'tcp-refused', host: SERVER_V6, port: CLOSED_PORT },
  ];
  await run(inClient(process.execPath, peerScript, 'client', JSON.stringify(plan)));
}
