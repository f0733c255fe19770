// The server side of the bench's base capture, run inside the server namespace by bench/analyze.js:
// HTTP on 80, HTTPS on 443, a tiny authoritative DNS for bench.test on 53 (UDP and TCP), and UDP
// echo on 443 (QUIC-like) and 4433. Every socket is dual-stack. Prints "ready" once all listen.
//
//   node bench/lab/server.js --v4 100.64.0.1 --v6 2001:db8:1::1 --cert C --key K
import { createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { createServer as createTcp } from 'node:net';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import dnsPacket from 'dns-packet';

const { values: opt } = parseArgs({
  options: { v4: { type: 'string' }, v6: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } },
});
if (!opt.v4 || !opt.v6 || !opt.cert || !opt.key) throw new Error('server.js needs --v4 --v6 --cert --key');

// Incompressible bodies, as real downloads (images, video, updates) mostly are.
const noise = randomBytes(1 << 20);

/** Names under bench.test: dual-stack ones get A and AAAA, v4-only ones an empty AAAA answer. */
const DUAL = new Set(['www', 'dl', 'cdn', 'api', 'img', 'static', 'push', 'media']);
const V4_ONLY = new Set(['legacy', 'v4only', 'ads', 'old-api']);

function handle(request, response) {
  const [, route, size] = request.url.split('/');
  if (route === 'upload') {
    let received = 0;
    request.on('data', (chunk) => {
      received += chunk.length;
    });
    request.on('end', () => response.end(`received ${received}\n`));
    return;
  }
  const length = Math.max(0, Math.min(Number(size) || 0, 1 << 30));
  if (route !== 'bulk' && route !== 'small') {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': length });
  let sent = 0;
  const pump = () => {
    while (sent < length) {
      const n = Math.min(64 * 1024, length - sent);
      const offset = sent % (noise.length - n);
      sent += n;
      if (!response.write(noise.subarray(offset, offset + n))) {
        response.once('drain', pump);
        return;
      }
    }
    response.end();
  };
  pump();
}

function answer(query) {
  const question = query.questions?.[0];
  const reply = {
    type: 'response',
    id: query.id,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | (query.flags & dnsPacket.RECURSION_DESIRED),
    questions: query.questions ?? [],
    answers: [],
  };
  if (!question) return { ...reply, rcode: 'FORMERR' };
  const name = question.name.toLowerCase();
  const label = name.endsWith('.bench.test') ? name.slice(0, -'.bench.test'.length) : null;
  if (label === null || (!DUAL.has(label) && !V4_ONLY.has(label))) return { ...reply, rcode: 'NXDOMAIN' };
  if (question.type === 'A') reply.answers.push({ type: 'A', name: question.name, ttl: 300, data: opt.v4 });
  if (question.type === 'AAAA' && DUAL.has(label)) reply.answers.push({ type: 'AAAA', name: question.name, ttl: 300, data: opt.v6 });
  return reply;
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '::', ipv6Only: false }, resolve);
  });
}

function bindUdp(port, onMessage) {
  const socket = createSocket({ type: 'udp6', ipv6Only: false });
  socket.on('message', (message, rinfo) => onMessage(socket, message, rinfo));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '::', resolve);
  });
}

const tls = { cert: readFileSync(opt.cert), key: readFileSync(opt.key) };
await listen(createHttp(handle), 80);
await listen(createHttps(tls, handle), 443);
await listen(
  createTcp((socket) => {
    const decoder = dnsPacket.streamDecode;
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const length = pending.readUInt16BE(0);
        const query = decoder(pending.subarray(0, 2 + length));
        pending = pending.subarray(2 + length);
        socket.write(dnsPacket.streamEncode(answer(query)));
      }
    });
    socket.on('error', () => {});
  }),
  53,
);
await bindUdp(53, (socket, message, rinfo) => {
  let query;
  try {
    query = dnsPacket.decode(message);
  } catch {
    return;
  }
  socket.send(dnsPacket.encode(answer(query)), rinfo.port, rinfo.address);
});
const echo = (socket, message, rinfo) => socket.send(message, rinfo.port, rinfo.address);
await bindUdp(443, echo);
await bindUdp(4433, echo);
process.stdout.write('ready\n');
