/**
 * The world's servers: one process in the internet namespace answering on every host address
 *   TCP 80   HTTP     `GET /bytes/N` -> N bytes; `/generate_204` -> 204 (connectivity probes);
 *                     `POST /push` -> a push channel: each line `ping N` of the (endless, chunked)
 *                     request body is answered `pong N` on the response stream, kept open
 *   TCP 443  HTTPS    the same, with a certificate for the host's name chosen by SNI
 *   UDP 443  datagram an ASCII number N -> N bytes back in datagrams of at most 1200 bytes
 *   UDP 123  NTP      a stratum 1 server's answer to an (S)NTP client query (RFC 5905, RFC 4330)
 * A host's silent addresses (its IPv6 when it is a `late-failure` host) accept TCP on 80 and 443
 * and then say nothing, and ignore datagrams: the handshake completes, TLS and HTTP never do. A
 * host with response padding (a `pmtud-blackhole` host) adds that many bytes of header to every
 * HTTP answer, so even a 204 is larger than its 1280-byte IPv6 path and needs PMTUD.
 * Run as `node world-server.js CONFIG.json`; prints "world server ready" once every socket
 * listens. Started as its own program: it imports Node and, to check its config as every lab
 * state file is checked, the schema toolkit.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { array, object } from '../../config/schema.js';
import { count, readStateFile, text, type Reads } from '../state-file.js';
import { LabStateError } from './errors.js';

/** The file `lab up` writes for this server. */
export interface WorldServerConfig {
  hosts: {
    name: string;
    /** Served: HTTP, HTTPS, datagrams, NTP. */
    addresses: string[];
    /** Accepted and never answered (a late failure). @default [] */
    silentAddresses?: string[];
    /** Header bytes added to every HTTP answer, so none fits a small path MTU. @default 0 */
    responsePadding?: number;
  }[];
  /** Holds `<name>.pem` (certificate chain) for each host, and `host.key`, the key of them all. */
  certDir: string;
}

const worldServerConfigSchema = object({
  hosts: array(object({ name: text, addresses: array(text) }, { silentAddresses: array(text), responsePadding: count })),
  certDir: text,
});
const schemaReadsConfig: Reads<typeof worldServerConfigSchema, WorldServerConfig> = true;
void schemaReadsConfig;

/** Largest answer, so a typo cannot fill memory or the link for minutes. */
const MAX_BYTES = 1 << 30;
const MAX_UDP_BYTES = 16 << 20;
/** Stays under the 1280-byte IPv6 minimum MTU with headers, as QUIC does. */
const UDP_CHUNK = 1200;
const WRITE_CHUNK = Buffer.alloc(64 * 1024, 0x78);
/** A push keepalive line longer than this is not one: the channel is closed. */
const MAX_PUSH_LINE = 256;

/** Seconds from the NTP era 0 (1900-01-01) to the Unix epoch (RFC 5905 section 6). */
const NTP_UNIX_OFFSET = 2_208_988_800;
const NTP_PACKET_BYTES = 48;

/** Writes `ms` (Unix milliseconds) at `offset` as an NTP timestamp: 32-bit seconds, 32-bit fraction. */
function writeNtpTimestamp(packet: Buffer, offset: number, ms: number): void {
  packet.writeUInt32BE((Math.floor(ms / 1000) + NTP_UNIX_OFFSET) % 2 ** 32, offset);
  packet.writeUInt32BE(Math.floor(((ms % 1000) / 1000) * 2 ** 32), offset + 4);
}

/**
 * The answer to an NTP client query (mode 3) at time `nowMs`, as a stratum 1 server gives it
 * (RFC 5905 section 7.3; RFC 4330 section 5): version copied, mode 4, the client's transmit
 * timestamp echoed as the originate timestamp. null for anything that is not a client query.
 */
export function ntpServerReply(request: Buffer, nowMs: number): Buffer | null {
  if (request.length < NTP_PACKET_BYTES) return null;
  const version = (request.readUInt8(0) >> 3) & 0x07;
  const mode = request.readUInt8(0) & 0x07;
  if (mode !== 3 || version < 1 || version > 4) return null;
  const reply = Buffer.alloc(NTP_PACKET_BYTES);
  reply.writeUInt8((version << 3) | 4, 0); // LI 0 (no warning), VN, mode 4 (server)
  reply.writeUInt8(1, 1); // stratum 1: a primary server
  reply.writeUInt8(request.readUInt8(2), 2); // poll, copied
  reply.writeInt8(-20, 3); // precision 2^-20 s
  reply.writeUInt32BE(0, 4); // root delay
  reply.writeUInt32BE(0x0000_0010, 8); // root dispersion, 16/65536 s
  reply.write('LOCL', 12, 'ascii'); // reference identifier of a stratum 1 server: its clock
  writeNtpTimestamp(reply, 16, nowMs); // reference
  request.copy(reply, 24, 40, 48); // originate = the client's transmit
  writeNtpTimestamp(reply, 32, nowMs); // receive
  writeNtpTimestamp(reply, 40, nowMs); // transmit
  return reply;
}

/**
 * A push channel, as a push service keeps one open from every phone: the request body never
 * ends; each `ping N` line in it is answered `pong N` at once.
 */
function pushChannel(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
  res.flushHeaders();
  let pending = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => {
    pending += chunk;
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      const line = pending.slice(0, end).trim();
      pending = pending.slice(end + 1);
      const ping = /^ping (\d{1,12})$/.exec(line);
      if (ping) res.write(`pong ${ping[1]}\n`);
    }
    if (pending.length > MAX_PUSH_LINE) req.socket.destroy();
  });
  req.on('end', () => res.end());
}

/** `/bytes/20000` -> 20000; null when the path asks for something else. */
export function requestedBytes(url: string): number | null {
  const match = /^\/bytes\/(\d{1,10})(?:\?.*)?$/.exec(url);
  if (!match) return null;
  const n = Number(match[1]);
  return n <= MAX_BYTES ? n : null;
}

function sendBytes(res: http.ServerResponse, n: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
  let left = n;
  const pump = (): void => {
    while (left > 0) {
      const chunk = left >= WRITE_CHUNK.length ? WRITE_CHUNK : WRITE_CHUNK.subarray(0, left);
      left -= chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** Longest response padding: a typo cannot make every answer megabytes of header. */
const MAX_PADDING = 16 * 1024;
/** A silent connection the client never closes is dropped after this, so none is held for ever. */
const SILENT_HOLD_MS = 120_000;

function handler(hostOf: () => string, padding: number) {
  const pad = padding > 0 ? 'x'.repeat(Math.min(padding, MAX_PADDING)) : null;
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.setHeader('x-v6lab-host', hostOf());
    if (pad !== null) res.setHeader('x-v6lab-padding', pad);
    const url = req.url ?? '/';
    const n = requestedBytes(url);
    if (url === '/push' && req.method === 'POST') {
      pushChannel(req, res);
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
    } else if (n !== null) {
      sendBytes(res, req.method === 'HEAD' ? 0 : n);
    } else if (url === '/generate_204') {
      res.writeHead(204).end();
    } else if (url === '/') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`v6lab world host ${hostOf()}\n`);
    } else {
      res.writeHead(404).end();
    }
  };
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ipv6Only: net.isIPv6(host) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * A UDP socket bound to one host address and `port`, answering with `onMessage`. Bound per
 * address, so every reply leaves from the address the request was sent to.
 */
function bindUdpService(
  address: string,
  port: number,
  label: string,
  onMessage: (socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo) => void,
): Promise<dgram.Socket> {
  const socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  socket.on('message', (msg, rinfo) => onMessage(socket, msg, rinfo));
  socket.on('error', (error) => process.stderr.write(`${label} ${address}: ${error.message}\n`));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

function bindNtp(address: string): Promise<dgram.Socket> {
  return bindUdpService(address, 123, 'ntp', (socket, msg, rinfo) => {
    const reply = ntpServerReply(msg, Date.now());
    if (reply !== null) socket.send(reply, rinfo.port, rinfo.address);
  });
}

/** UDP 443: a datagram holding an ASCII number N gets N bytes back in datagrams of UDP_CHUNK. */
function bindUdp(address: string): Promise<dgram.Socket> {
  return bindUdpService(address, 443, 'udp', (socket, msg, rinfo) => {
    const text = msg.toString('ascii').trim();
    if (!/^\d{1,9}$/.test(text)) return;
    let left = Math.min(Number(text), MAX_UDP_BYTES);
    while (left > 0) {
      const size = Math.min(left, UDP_CHUNK);
      left -= size;
      socket.send(WRITE_CHUNK.subarray(0, size), rinfo.port, rinfo.address);
    }
  });
}

/**
 * A late failure: the kernel completes the handshake and acknowledges what the client sends, and
 * nothing ever answers it (a TLS terminator or an application that hangs after accept()).
 */
function silentServer(): net.Server {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.resume();
    socket.setTimeout(SILENT_HOLD_MS, () => socket.destroy());
  });
  return server;
}

async function main(configFile: string): Promise<void> {
  const config = readStateFile(configFile, worldServerConfigSchema);
  if (config === null) throw new LabStateError(configFile, 'no such file');
  const key = readFileSync(path.join(config.certDir, 'host.key'));
  const contexts = new Map<string, tls.SecureContext>();
  const byAddress = new Map<string, string>();
  const paddingOf = new Map<string, number>();
  const silent: string[] = [];
  for (const host of config.hosts) {
    contexts.set(host.name, tls.createSecureContext({ key, cert: readFileSync(path.join(config.certDir, `${host.name}.pem`)) }));
    for (const address of host.addresses) byAddress.set(address, host.name);
    silent.push(...(host.silentAddresses ?? []));
    paddingOf.set(host.name, host.responsePadding ?? 0);
  }
  const sockets: dgram.Socket[] = [];
  // One server per address: a client that sends no SNI (a literal) gets the certificate of the
  // host owning the address, and a connection to an address of no host is refused.
  for (const [address, name] of byAddress) {
    const hostOf = (): string => name;
    // No request deadline: a push channel's request body never ends (Node's default is 300 s).
    const padding = paddingOf.get(name) ?? 0;
    const httpServer = http.createServer({ requestTimeout: 0 }, handler(hostOf, padding));
    const httpsServer = https.createServer(
      {
        requestTimeout: 0,
        key,
        cert: readFileSync(path.join(config.certDir, `${name}.pem`)),
        SNICallback: (servername, callback) => callback(null, contexts.get(servername.toLowerCase()) ?? contexts.get(name)),
      },
      handler(hostOf, padding),
    );
    httpsServer.on('tlsClientError', () => undefined);
    for (const server of [httpServer, httpsServer]) server.on('clientError', (_error, socket) => socket.destroy());
    await listen(httpServer, 80, address);
    await listen(httpsServer, 443, address);
    sockets.push(await bindUdp(address), await bindNtp(address));
  }
  for (const address of silent) {
    await listen(silentServer(), 80, address);
    await listen(silentServer(), 443, address);
    const ignore = (): void => undefined;
    sockets.push(await bindUdpService(address, 443, 'udp', ignore), await bindUdpService(address, 123, 'ntp', ignore));
  }
  process.on('SIGTERM', () => process.exit(0));
  process.stdout.write(`world server ready: ${config.hosts.length} hosts, ${byAddress.size} addresses, ${silent.length} silent\n`);
}

// A module imported for its types does nothing; run as a program it serves.
const invokedAs = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (/world-server\.[jt]s$/.test(invokedAs)) {
  const configFile = process.argv[2];
  if (configFile === undefined) {
    process.stderr.write('usage: world-server.js CONFIG.json\n');
    process.exit(2);
  }
  main(configFile).catch((error: unknown) => {
    // A state file that is not what the lab wrote says so in one line; anything else with its stack.
    process.stderr.write(`world server: ${error instanceof LabStateError ? error.message : ((error as Error).stack ?? String(error))}\n`);
    process.exit(1);
  });
}
