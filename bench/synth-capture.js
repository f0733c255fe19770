#!/usr/bin/env node
// A synthetic but realistic capture with a chosen number of flows at a chosen size, for the flow
// count series of bench/analyze.js (issue 19: the analyzer's cost must grow with the capture's
// size, not with its flow count). Seeded: the same arguments write the same bytes.
//
// What it writes: pcap, LINUX_SLL2 (276, what `tcpdump -i any` writes), microsecond timestamps
// that only increase. Each "connection" is what an app does to reach a host:
//   - usually a DNS lookup first, its own UDP flow to the resolver (AAAA and A from one socket, or
//     one of them), answered; most names are new (about one distinct name per two flows), some are
//     popular ones asked again and again; the rest of the connections reuse a recent answer;
//   - then TCP: SYN, SYN-ACK (MSS, SACK, timestamps, window scale), ACK, a real TLS 1.3
//     ClientHello with SNI (443) or an HTTP GET (80), full-size segments from the server (1448 B
//     over IPv4, 1428 over IPv6: MTU 1500 with timestamps) in TLS records or after an HTTP response
//     head, each of the first 16 acknowledged by the client, then every second one, a request from
//     the client after the server's first flight, FIN, FIN, ACK;
//   - or QUIC-like UDP on 443: a 1252-byte long-header Initial from the client (version 1, so the
//     analyzer marks it `quic`), the server's Initial, short-header datagrams, small client acks;
//   - or a few small UDP datagrams each way (STUN, NTP-like).
// Paths: native IPv6 (2001:db8::/32), NAT64 (64:ff9b::/96 with an embedded IPv4; every client
// first asks AAAA ipv4only.arpa and gets 64:ff9b::c000:aa and ::c000:ab, RFC 7050, so the
// analyzer discovers the prefix) and native IPv4. Between 32 and 256 connections are open at once
// and take turns packet by packet. IPv4 header checksums are right; TCP and UDP checksums are computed.
//
// Size: each connection's server data is drawn from a heavy-tailed share of what is left, so the
// file ends within a segment or so of `bytes`. When the flows are too many for the size, the mix
// leans towards small UDP conversations (`mixLevel` 0 to 17 in the stats); past that it refuses.
//
//   node bench/synth-capture.js OUT.pcap --flows N --size-mb M [--seed S]   prints the stats as JSON
//
// Flow count: `flows` is what the analyzer counts (one per bidirectional 5-tuple): each lookup is
// one flow, each connection one more. Client ports never repeat per client address.
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MIB = 1 << 20;
const LINKTYPE_LINUX_SLL2 = 276;
const SNAPLEN = 262144;
/** 2026-11-02 09:00:00 UTC: the capture's first packet. */
const START_US = 1793610000 * 1e6;
/** SLL2 ifindex of the capture's one interface (one interface: no `-i any` duplicates). */
const IFINDEX = 3;
/** SLL2 packet types (linux/if_packet.h). */
const PACKET_HOST = 0;
const PACKET_OUTGOING = 4;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;
/** Bytes before the transport header: pcap record header, SLL2 header, IP header. */
const headBytes = (family) => 16 + 20 + (family === 6 ? 40 : 20);
/** TCP header with timestamps (20 + NOP NOP TS), and with a SYN's options (MSS, SACK, TS, NOP, WS). */
const TCP_HEADER = 32;
const TCP_SYN_HEADER = 40;
/** Full-size segment payload at MTU 1500 with TCP timestamps. */
const mss = (family) => (family === 6 ? 1428 : 1448);
/** QUIC datagram payload (RFC 9000 section 14: 1200 at least; 1252 is what Chrome sends over 1280+). */
const QUIC_DATAGRAM = 1252;
const QUIC_ACK = 44;
/** A QUIC short header's first byte: fixed bit, key phase 0, four-byte packet number (RFC 9000 section 17.3.1). */
const QUIC_SHORT = 0x43;
/** Ephemeral ports per client address (Linux 32768-60999); each connection uses up to two. */
const PORT_BASE = 32768;
const PORT_COUNT = 28232;
/** A multiplier prime to PORT_COUNT: ports in an order that is not counting, each once. */
const PORT_STRIDE = 7919;

/**
 * The connection mix at a leanness level: shares of tls, http, quic and small-udp connections.
 * Level 0 is the app-like mix; each level moves 5% of the connections to small UDP
 * conversations (QUIC first, its Initials alone take 2.6 KB), for captures whose flows are too
 * many for their size to carry TLS connections with data.
 */
const MAX_LEVEL = 17;
function mixAt(level) {
  const udp = 0.1 + 0.05 * level;
  const quic = Math.max(0, 0.1 - 0.05 * level);
  const http = Math.min(0.08, (1 - udp - quic) / 4);
  const round = (x) => Math.round(x * 1000) / 1000;
  return { tls: round(1 - udp - quic - http), http: round(http), quic: round(quic), udp: round(udp) };
}
/**
 * Share of connections that start with a DNS lookup, of lookups that ask a popular name, and of
 * lookups that ask both AAAA and A. Set so that a capture has about one DNS query and one
 * distinct name per two flows, as the long capture of issue 19 had (96,600 queries, 184,240 flows).
 */
const LOOKUP_SHARE = 0.85;
const POPULAR_SHARE = 0.05;
const BOTH_SHARE = 0.2;
const POPULAR_NAMES = 256;
/** Path of a name: native IPv6, NAT64 (a v4-only name behind DNS64), native IPv4. */
const PATH_SHARES = [
  ['native-v6', 0.5],
  ['nat64', 0.25],
  ['native-v4', 0.25],
];
/** Lookups sent to the resolver over IPv4 (the rest over IPv6). */
const RESOLVER_V4_SHARE = 0.15;

const WORDS = [
  'www',
  'api',
  'img',
  'cdn',
  'edge',
  'video',
  'push',
  'ads',
  'beacon',
  'static',
  'media',
  'auth',
  'graph',
  'chat',
  'sync',
  'upload',
  'config',
  'update',
  'store',
  'maps',
];
const DOMAINS = [
  'example.com',
  'example.net',
  'example.org',
  'cdn.example',
  'media.example',
  'api.example',
  'push.example',
  'ads.example',
  'img.example',
  'video.example',
  'analytics.test',
  'static.test',
  'social.test',
  'shop.test',
  'news.test',
  'games.test',
];

// ---------------------------------------------------------------------------------------------
// Seeded randomness: sfc32 (small, fast, passes PractRand), seeded through splitmix32.

function random(seed) {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

const pick = (rng, list) => list[Math.floor(rng() * list.length)];
const between = (rng, lo, hi) => lo + Math.floor(rng() * (hi - lo + 1));
function weighted(rng, pairs) {
  let x = rng();
  for (const [value, share] of pairs) if ((x -= share) < 0) return value;
  return pairs[pairs.length - 1][0];
}
/** Lognormal with mean 1 (sigma 1.2), cut at 40: most connections small, a few bulk. */
function heavyTail(rng) {
  const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return Math.min(40, Math.exp(1.2 * z - 0.72));
}

// ---------------------------------------------------------------------------------------------
// Addresses

const v4 = (a, b, c, d) => Buffer.from([a, b, c, d]);
function v6(words) {
  const bytes = Buffer.alloc(16);
  words.forEach((w, i) => {
    bytes.writeUInt16BE(w & 0xffff, i * 2);
  });
  return bytes;
}
const RESOLVER = { 4: v4(192, 0, 2, 53), 6: v6([0x2001, 0xdb8, 0x53, 0, 0, 0, 0, 0x53]) };
/** RFC 7050's well-known name and the answers a DNS64 with 64:ff9b::/96 gives for it. */
const IPV4ONLY_ARPA = 'ipv4only.arpa';
const WELL_KNOWN_ANSWERS = [v6([0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0xaa]), v6([0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0xab])];

/** A client address pair: 2001:db8:1::/64 with a fixed interface id, and 100.64.0.0/10. */
function clientAddresses(n) {
  return {
    6: v6([0x2001, 0xdb8, 1, 0, 0x5a3c, 0x91e2, ((n + 2) >> 16) & 0xffff, (n + 2) & 0xffff]),
    4: v4(100, 64 + (((n + 2) >> 16) & 0x3f), ((n + 2) >> 8) & 0xff, (n + 2) & 0xff),
  };
}

/** Addresses for a name of `path`: what the connection uses and the A / AAAA answers. */
function nameAddresses(rng, path) {
  // 198.18.0.0/15 (RFC 2544: never routed) for the servers' IPv4.
  const a = v4(198, 18 + (rng() < 0.5 ? 0 : 1), between(rng, 0, 255), between(rng, 1, 254));
  if (path === 'native-v6') {
    const aaaa = v6([0x2001, 0xdb8, between(rng, 0x100, 0xffff), between(rng, 0, 0xffff), 0, 0, 0, between(rng, 1, 0xffff)]);
    return { server: aaaa, family: 6, a: [a], aaaa: [aaaa] };
  }
  if (path === 'nat64') {
    const synthesized = v6([0x64, 0xff9b, 0, 0, 0, 0, (a[0] << 8) | a[1], (a[2] << 8) | a[3]]);
    return { server: synthesized, family: 6, a: [a], aaaa: [synthesized] };
  }
  return { server: a, family: 4, a: [a], aaaa: [] };
}

// ---------------------------------------------------------------------------------------------
// Payloads: DNS messages, a TLS ClientHello, an HTTP request, QUIC Initials

function encodeName(name) {
  const parts = name.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

const QTYPE = { A: 1, AAAA: 28 };
/** A DNS query (RD, EDNS0 OPT with a 4096-byte UDP size), or its response with `answers` (RFC 1035 section 4.1). */
function dnsMessage(id, name, qtype, answers = null) {
  const qname = encodeName(name);
  const answerBytes = answers === null ? 0 : answers.reduce((sum, a) => sum + 12 + a.length, 0);
  const msg = Buffer.alloc(12 + qname.length + 4 + answerBytes + 11);
  msg.writeUInt16BE(id, 0);
  msg.writeUInt16BE(answers === null ? 0x0100 : 0x8180, 2);
  msg.writeUInt16BE(1, 4);
  msg.writeUInt16BE(answers === null ? 0 : answers.length, 6);
  msg.writeUInt16BE(1, 10);
  let at = 12;
  qname.copy(msg, at);
  at += qname.length;
  msg.writeUInt16BE(QTYPE[qtype], at);
  msg.writeUInt16BE(1, at + 2);
  at += 4;
  for (const rdata of answers ?? []) {
    msg.writeUInt16BE(0xc00c, at); // pointer to the question's name
    msg.writeUInt16BE(rdata.length === 4 ? QTYPE.A : QTYPE.AAAA, at + 2);
    msg.writeUInt16BE(1, at + 4);
    msg.writeUInt32BE(300, at + 6);
    msg.writeUInt16BE(rdata.length, at + 10);
    rdata.copy(msg, at + 12);
    at += 12 + rdata.length;
  }
  // OPT: root name, type 41, UDP size 4096, extended rcode/flags 0, no options (RFC 6891).
  msg.writeUInt16BE(41, at + 1);
  msg.writeUInt16BE(4096, at + 3);
  return msg;
}

const extension = (type, body) => {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([head, body]);
};
const u16 = (n) => Buffer.from([n >> 8, n & 0xff]);
const withLength16 = (body) => Buffer.concat([u16(body.length), body]);
const withLength8 = (body) => Buffer.concat([Buffer.from([body.length]), body]);
// What an Android app's BoringSSL/Conscrypt ClientHello carries besides SNI and the key share.
const FIXED_EXTENSIONS = Buffer.concat([
  extension(0x0017, Buffer.alloc(0)), // extended_master_secret
  extension(0xff01, Buffer.from([0])), // renegotiation_info
  extension(0x000a, withLength16(Buffer.from([0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]))), // supported_groups
  extension(0x000b, withLength8(Buffer.from([0]))), // ec_point_formats
  extension(0x0023, Buffer.alloc(0)), // session_ticket
  extension(0x0010, withLength16(Buffer.from('\x02h2\x08http/1.1', 'latin1'))), // ALPN
  extension(0x0005, Buffer.from([1, 0, 0, 0, 0])), // status_request
  extension(0x000d, withLength16(Buffer.from([0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01]))), // signature_algorithms
  extension(0x0012, Buffer.alloc(0)), // signed_certificate_timestamp
  extension(0x002d, withLength8(Buffer.from([1]))), // psk_key_exchange_modes
  extension(0x002b, withLength8(Buffer.from([0x03, 0x04, 0x03, 0x03]))), // supported_versions
]);
const CIPHER_SUITES = withLength16(
  Buffer.from([
    0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x13, 0xc0, 0x14, 0x00, 0x9c, 0x00, 0x9d,
    0x00, 0x2f, 0x00, 0x35,
  ]),
);

/** A TLS 1.3 ClientHello record (RFC 8446 section 4.1.2) with `sni` in server_name (RFC 6066 section 3), or none when null. */
function clientHello(rng, sni) {
  const random32 = Buffer.from(Array.from({ length: 32 }, () => between(rng, 0, 255)));
  const sessionId = Buffer.from(Array.from({ length: 32 }, () => between(rng, 0, 255)));
  const keyShare = Buffer.concat([u16(0x001d), withLength16(Buffer.from(Array.from({ length: 32 }, () => between(rng, 0, 255))))]);
  const serverName =
    sni === null ? Buffer.alloc(0) : extension(0x0000, withLength16(Buffer.concat([Buffer.from([0]), withLength16(Buffer.from(sni, 'latin1'))])));
  const extensions = withLength16(Buffer.concat([serverName, FIXED_EXTENSIONS, extension(0x0033, withLength16(keyShare))]));
  const body = Buffer.concat([Buffer.from([0x03, 0x03]), random32, withLength8(sessionId), CIPHER_SUITES, Buffer.from([1, 0]), extensions]);
  const handshake = Buffer.concat([Buffer.from([1, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(handshake.length), handshake]);
}

function httpRequest(name, n) {
  return Buffer.from(
    `GET /v${n % 7}/item/${n.toString(36)} HTTP/1.1\r\nHost: ${name}\r\nUser-Agent: okhttp/4.12.0\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n`,
    'latin1',
  );
}

/** A QUIC v1 long-header Initial of QUIC_DATAGRAM bytes (RFC 9000 section 17.2.2); the rest is noise, as encrypted bytes are. */
function quicInitial(rng, fromClient) {
  const d = Buffer.alloc(QUIC_DATAGRAM);
  for (let i = 0; i < d.length; i++) d[i] = between(rng, 0, 255);
  d[0] = fromClient ? 0xc3 : 0xc1; // long header, fixed bit, type Initial (0), packet number length
  d.writeUInt32BE(0x00000001, 1);
  d[5] = 8; // destination connection id length
  d[14] = 8; // source connection id length
  d[23] = 0; // token length
  d.writeUInt16BE(0x4000 | (QUIC_DATAGRAM - 26), 24); // length, a two-byte varint
  return d;
}

// ---------------------------------------------------------------------------------------------
// Record sizes: every plan's cost is counted with these, and the writer checks the sum.

const tcpRecord = (family, payload, header = TCP_HEADER) => headBytes(family) + header + payload;
const udpRecord = (family, payload) => headBytes(family) + 8 + payload;

/** Segments a receiver ACKs one by one at the start of a connection (Linux's TCP_MAX_QUICKACKS). */
const QUICK_ACKS = 16;
/** Client ACKs for `segments` server segments: one each while quick, then one per two (delayed ACK, RFC 9293 section 3.8.6.3). */
const tcpAcks = (segments) => (segments <= QUICK_ACKS ? segments : QUICK_ACKS + Math.ceil((segments - QUICK_ACKS) / 2));
/** Bytes of `data` server bytes in full-size segments and the client's ACKs of them. */
function tcpDataCost(family, data) {
  const segments = Math.ceil(data / mss(family));
  return data + segments * tcpRecord(family, 0) + tcpAcks(segments) * tcpRecord(family, 0);
}
/** Bytes of `data` server bytes in QUIC datagrams, a client ack per three. */
function quicDataCost(family, data) {
  const datagrams = Math.ceil(data / QUIC_DATAGRAM);
  return data + datagrams * udpRecord(family, 0) + Math.ceil(datagrams / 3) * udpRecord(family, QUIC_ACK);
}
/** The most data whose cost fits in `bytes` (costs only grow with data). */
function dataFitting(cost, family, bytes) {
  let lo = 0;
  let hi = Math.max(0, bytes);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (cost(family, mid) <= bytes) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------
// Planning: what each connection does, and what it costs, decided before its first packet.

class Planner {
  constructor(seed, mix) {
    this.rng = random(seed);
    this.mix = mix;
    this.client = -1;
    this.portsUsed = PORT_COUNT; // a new client first
    this.connections = 0;
    this.names = new Set();
    /** Recent answers per path, for connections that use a cached answer. */
    this.recent = { 'native-v6': [], nat64: [], 'native-v4': [] };
    const prng = random(seed ^ 0x5bd1e995);
    this.popular = Array.from({ length: POPULAR_NAMES }, (_, i) => {
      const path = weighted(prng, PATH_SHARES);
      return {
        name: `${WORDS[i % WORDS.length]}${i >= WORDS.length ? Math.floor(i / WORDS.length) : ''}.${DOMAINS[i % DOMAINS.length]}`,
        path,
        ...nameAddresses(prng, path),
      };
    });
  }

  nextPort() {
    const port = PORT_BASE + ((this.portsUsed * PORT_STRIDE) % PORT_COUNT);
    this.portsUsed++;
    return port;
  }

  /**
   * The next connection, using at most `flowsLeft` flows. `forceData`: it must be able to carry
   * data (the last one takes what is left of the size).
   */
  plan(flowsLeft, forceData) {
    const rng = this.rng;
    const conn = { lookup: null, app: null, kind: 'none', flows: 0, queries: 0, sni: false };
    if (this.portsUsed + 2 > PORT_COUNT) {
      // A new client: its first act is RFC 7050's lookup, a flow of its own.
      this.client++;
      this.portsUsed = 0;
      this.addresses = clientAddresses(this.client);
      conn.lookup = this.lookup(6, IPV4ONLY_ARPA, [['AAAA', WELL_KNOWN_ANSWERS]]);
      conn.flows = 1;
      conn.queries = 1;
      conn.lookupPath = 'native-v6';
      this.names.add(IPV4ONLY_ARPA);
      if (!(forceData && flowsLeft === 1)) return this.costed(conn);
      conn.lookup = null;
      conn.flows = 0;
      conn.queries = 0;
    }
    this.connections++;
    const n = this.connections;
    conn.kind = forceData ? 'tls' : weighted(rng, Object.entries(this.mix));

    // Which name, and whether it is looked up now.
    let target;
    const wantLookup = flowsLeft >= 2 && rng() < LOOKUP_SHARE;
    const path = weighted(rng, PATH_SHARES);
    const cached = this.recent[path];
    if (wantLookup || cached.length === 0) {
      if (flowsLeft >= 2) {
        if (rng() < POPULAR_SHARE) target = pick(rng, this.popular);
        else target = { name: `${pick(rng, WORDS)}-${n.toString(36)}.${pick(rng, DOMAINS)}`, path, ...nameAddresses(rng, path) };
        const resolverFamily = rng() < RESOLVER_V4_SHARE ? 4 : 6;
        const wantAaaa = target.path !== 'native-v4';
        const both = rng() < BOTH_SHARE;
        const questions = [];
        if (both || wantAaaa) questions.push(['AAAA', target.aaaa]);
        if (both || !wantAaaa) questions.push(['A', target.a]);
        conn.lookup = this.lookup(resolverFamily, target.name, questions);
        conn.lookupPath = resolverFamily === 6 ? 'native-v6' : 'native-v4';
        conn.flows++;
        conn.queries += questions.length;
        this.names.add(target.name);
        cached.push(target);
        if (cached.length > 32) cached.shift();
      } else {
        // One flow left and nothing cached for this path: a literal address, as apps also use.
        target = { name: null, path, ...nameAddresses(rng, path) };
      }
    } else target = pick(rng, cached);

    const family = target.family;
    const app = {
      family,
      client: this.addresses[family],
      server: target.server,
      clientPort: this.nextPort(),
      path: target.path,
      proto: conn.kind === 'tls' || conn.kind === 'http' ? PROTO_TCP : PROTO_UDP,
      serverPort: 0,
    };
    conn.app = app;
    conn.flows++;
    if (conn.kind === 'tls') {
      app.serverPort = 443;
      conn.sni = target.name !== null;
      conn.hello = clientHello(rng, target.name);
      // At the least the client's Finished and a request, and a resumed session's first flight (RFC 8446 section 2.2).
      conn.request = between(rng, 60, 600);
      conn.data = between(rng, 140, 1500);
    } else if (conn.kind === 'http') {
      app.serverPort = 80;
      conn.hello = httpRequest(target.name ?? 'localhost', n);
      conn.request = 0;
      conn.data = between(rng, 100, 1200);
    } else if (conn.kind === 'quic') {
      app.serverPort = 443;
      conn.initials = [quicInitial(rng, true), quicInitial(rng, false)];
      conn.data = between(rng, 200, 2400);
    } else {
      app.serverPort = pick(rng, [3478, 19302, 123, 4500]);
      conn.datagrams = Array.from({ length: 2 * between(rng, 1, 3) }, () => (app.serverPort === 123 ? 48 : between(rng, 20, 160)));
    }
    return this.costed(conn);
  }

  lookup(family, name, questions) {
    const id0 = between(this.rng, 0, 0xffff);
    const flow = { family, client: this.addresses[family], server: RESOLVER[family], clientPort: this.nextPort(), serverPort: 53, proto: PROTO_UDP };
    const queries = questions.map(([qtype], i) => ({ fromClient: true, payload: dnsMessage((id0 + i) & 0xffff, name, qtype) }));
    const answers = questions.map(([qtype, rdata], i) => ({ fromClient: false, payload: dnsMessage((id0 + i) & 0xffff, name, qtype, rdata) }));
    return { flow, messages: [...queries, ...answers] };
  }

  /** Sets `skeleton` (every byte but extra data) on the plan. */
  costed(conn) {
    let bytes = 0;
    if (conn.lookup) for (const m of conn.lookup.messages) bytes += udpRecord(conn.lookup.flow.family, m.payload.length);
    if (conn.app) bytes += this.appCost(conn, conn.data ?? 0);
    conn.skeleton = bytes;
    return conn;
  }

  appCost(conn, data) {
    const f = conn.app.family;
    if (conn.kind === 'tls' || conn.kind === 'http') {
      const handshake = 2 * tcpRecord(f, 0, TCP_SYN_HEADER) + tcpRecord(f, 0);
      const client = tcpRecord(f, conn.hello.length) + (conn.request > 0 ? tcpRecord(f, conn.request) : 0);
      return handshake + client + tcpDataCost(f, data) + 3 * tcpRecord(f, 0);
    }
    if (conn.kind === 'quic') return 2 * udpRecord(f, QUIC_DATAGRAM) + udpRecord(f, QUIC_ACK) + quicDataCost(f, data) + udpRecord(f, QUIC_ACK);
    return conn.datagrams.reduce((sum, size) => sum + udpRecord(f, size), 0);
  }

  /** Raises the plan's data so its cost grows by at most `extra` bytes. */
  addData(conn, extra) {
    if (extra <= 0 || !(conn.kind === 'tls' || conn.kind === 'http' || conn.kind === 'quic')) return;
    const f = conn.app.family;
    const cost = conn.kind === 'quic' ? quicDataCost : tcpDataCost;
    conn.data = dataFitting(cost, f, cost(f, conn.data) + extra);
    this.costed(conn);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing: one big buffer, flushed in large writes.

/** The 16-bit one's complement sum of b[start, end) (RFC 1071), not yet folded; an odd last byte is padded. */
function sum16(b, start, end) {
  let sum = 0;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  return sum;
}
function fold(sum) {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

class PcapWriter {
  constructor(fd, rng) {
    this.fd = fd;
    this.rng = rng;
    this.buf = Buffer.allocUnsafe(16 * MIB);
    this.at = 0;
    this.written = 0;
    this.packets = 0;
    this.clockUs = START_US;
    // Server bytes: noise, as encrypted payload is; copied from here at a moving offset.
    this.noise = Buffer.allocUnsafe(256 * 1024);
    for (let i = 0; i < this.noise.length; i++) this.noise[i] = (rng() * 256) | 0;
    this.noiseAt = 0;
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(SNAPLEN, 16);
    header.writeUInt32LE(LINKTYPE_LINUX_SLL2, 20);
    header.copy(this.buf, 0);
    this.at = 24;
  }

  flush() {
    for (let done = 0; done < this.at; ) done += writeSync(this.fd, this.buf, done, this.at - done);
    this.written += this.at;
    this.at = 0;
  }

  /**
   * Writes the record, SLL2 and IP headers of one packet of `flow`; returns where its transport
   * header goes. `transport` is the IP payload's length.
   */
  begin(flow, fromClient, transport) {
    const family = flow.family;
    const ipBytes = family === 6 ? 40 : 20;
    const capLen = 20 + ipBytes + transport;
    if (this.at + 16 + capLen > this.buf.length) this.flush();
    const b = this.buf;
    const at = this.at;
    this.clockUs += 2 + Math.floor(this.rng() * 36);
    const seconds = Math.floor(this.clockUs / 1e6);
    b.writeUInt32LE(seconds, at);
    b.writeUInt32LE(this.clockUs - seconds * 1e6, at + 4);
    b.writeUInt32LE(capLen, at + 8);
    b.writeUInt32LE(capLen, at + 12);
    // SLL2: protocol, reserved, ifindex, ARPHRD_ETHER, packet type, address length, address.
    const sll = at + 16;
    b.writeUInt16BE(family === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, sll);
    b.writeUInt16BE(0, sll + 2);
    b.writeUInt32BE(IFINDEX, sll + 4);
    b.writeUInt16BE(1, sll + 8);
    b[sll + 10] = fromClient ? PACKET_OUTGOING : PACKET_HOST;
    b[sll + 11] = 6;
    b.writeUInt32BE(fromClient ? 0x02005e10 : 0x02a0c9ff, sll + 12);
    b.writeUInt32BE(fromClient ? 0x00010000 : 0x00020000, sll + 16);
    const ip = sll + 20;
    const src = fromClient ? flow.client : flow.server;
    const dst = fromClient ? flow.server : flow.client;
    if (family === 6) {
      b.writeUInt32BE((0x60000000 | ((flow.clientPort * 31 + flow.serverPort) & 0xfffff)) >>> 0, ip);
      b.writeUInt16BE(transport, ip + 4);
      b[ip + 6] = flow.proto;
      b[ip + 7] = fromClient ? 64 : 57;
      src.copy(b, ip + 8);
      dst.copy(b, ip + 24);
    } else {
      b.writeUInt32BE(0x45000000 | (20 + transport), ip);
      flow.ipId = ((flow.ipId ?? flow.clientPort * 977) + 1) & 0xffff;
      b.writeUInt32BE(((flow.ipId << 16) | 0x4000) >>> 0, ip + 4);
      b[ip + 8] = fromClient ? 64 : 57;
      b[ip + 9] = flow.proto;
      b.writeUInt16BE(0, ip + 10);
      src.copy(b, ip + 12);
      dst.copy(b, ip + 16);
      b.writeUInt16BE(~fold(sum16(b, ip, ip + 20)) & 0xffff, ip + 10);
    }
    this.ipAt = ip;
    this.at = at + 16 + capLen;
    this.packets++;
    return ip + ipBytes;
  }

  /**
   * One UDP datagram; its payload from `payload` or, when null, `length` bytes of noise.
   * `lead`: the noise's first byte (a QUIC short header's, an NTP mode's), or -1.
   */
  udp(flow, fromClient, payload, length = payload.length, lead = -1) {
    const at = this.begin(flow, fromClient, 8 + length);
    const b = this.buf;
    b.writeUInt16BE(fromClient ? flow.clientPort : flow.serverPort, at);
    b.writeUInt16BE(fromClient ? flow.serverPort : flow.clientPort, at + 2);
    b.writeUInt16BE(8 + length, at + 4);
    b.writeUInt16BE(0, at + 6);
    if (payload) payload.copy(b, at + 8);
    else this.fill(at + 8, length);
    if (lead >= 0) b[at + 8] = lead;
    this.checksum(flow, at, at + 6);
  }

  /**
   * The TCP or UDP checksum (RFC 768, RFC 9293, RFC 8200 section 8.1) of the packet just begun,
   * once its transport bytes are final. Without it tshark flags every UDP datagram over IPv6.
   */
  checksum(flow, l4, checksumAt) {
    const b = this.buf;
    const ip = this.ipAt;
    const end = this.at;
    let sum = flow.family === 6 ? sum16(b, ip + 8, ip + 40) : sum16(b, ip + 12, ip + 20);
    sum += flow.proto + (end - l4);
    sum = fold(sum + sum16(b, l4, end));
    const value = ~sum & 0xffff;
    b.writeUInt16BE(value === 0 && flow.proto === PROTO_UDP ? 0xffff : value, checksumAt);
  }

  /**
   * One TCP segment; payload from `payload`, or `length` bytes of noise when null, with the
   * stream's framing (`marks`, at stream offset `streamAt`) written over the noise.
   */
  tcp(flow, fromClient, flags, seq, ack, payload, length = payload ? payload.length : 0, marks = null, streamAt = 0) {
    const syn = (flags & TCP_SYN) !== 0;
    const header = syn ? TCP_SYN_HEADER : TCP_HEADER;
    const at = this.begin(flow, fromClient, header + length);
    const b = this.buf;
    b.writeUInt16BE(fromClient ? flow.clientPort : flow.serverPort, at);
    b.writeUInt16BE(fromClient ? flow.serverPort : flow.clientPort, at + 2);
    b.writeUInt32BE(seq >>> 0, at + 4);
    b.writeUInt32BE(flags & TCP_ACK ? ack >>> 0 : 0, at + 8);
    b[at + 12] = (header / 4) << 4;
    b[at + 13] = flags;
    b.writeUInt16BE(syn ? 65535 : fromClient ? 1444 : 501, at + 14);
    b.writeUInt32BE(0, at + 16); // checksum 0, urgent pointer 0
    const ms = Math.floor(this.clockUs / 1000);
    const tsVal = (ms + (fromClient ? flow.clientPort : flow.serverPort) * 7919) >>> 0;
    const tsEcr = flags & TCP_ACK ? (ms - 3 + (fromClient ? flow.serverPort : flow.clientPort) * 7919) >>> 0 : 0;
    let o = at + 20;
    if (syn) {
      b.writeUInt32BE(0x02040000 | (mss(flow.family) + 12), o); // MSS (without the timestamp option)
      b.writeUInt16BE(0x0402, o + 4); // SACK permitted
      b.writeUInt16BE(0x080a, o + 6); // timestamps
      b.writeUInt32BE(tsVal, o + 8);
      b.writeUInt32BE(tsEcr, o + 12);
      b.writeUInt32BE(0x01030307, o + 16); // NOP, window scale 7
    } else {
      b.writeUInt32BE(0x0101080a, o); // NOP NOP timestamps
      b.writeUInt32BE(tsVal, o + 4);
      b.writeUInt32BE(tsEcr, o + 8);
    }
    o = at + header;
    if (payload) payload.copy(b, o);
    else if (length > 0) this.fill(o, length);
    if (marks) marks.write(b, o, streamAt, length);
    this.checksum(flow, at, at + 16);
  }

  fill(at, length) {
    if (this.noiseAt + length > this.noise.length) this.noiseAt = (this.noiseAt * 7) & 0x3fff;
    this.noise.copy(this.buf, at, this.noiseAt, this.noiseAt + length);
    this.noiseAt += 1 + (length >> 1);
  }

  bytes() {
    return this.written + this.at;
  }
}

// ---------------------------------------------------------------------------------------------
// Stream framing over the noise: what tshark's TLS and HTTP dissectors find (and reassemble) in
// a real capture. Each writes the bytes of its headers that fall in stream [from, from + length).

/** Writes `header` (placed at stream offset `start`) where it overlaps the segment. */
function overlay(header, start, b, at, from, length) {
  const lo = Math.max(start, from);
  const hi = Math.min(start + header.length, from + length);
  for (let pos = lo; pos < hi; pos++) b[at + pos - from] = header[pos - start];
}

/**
 * A TLS 1.3 server's stream of `total` bytes (RFC 8446 section 5.1): ServerHello (122 bytes of
 * handshake), change_cipher_spec, then application_data records of at most 16401 bytes.
 */
class TlsRecords {
  constructor(total) {
    this.total = total;
    this.start = 0;
    this.index = 0;
    this.header = Buffer.alloc(5);
    this.frame();
  }

  frame() {
    const left = this.total - this.start;
    const [type, wanted] = this.index === 0 ? [0x16, 122] : this.index === 1 ? [0x14, 1] : [0x17, 16401];
    this.length = left > 5 ? Math.min(wanted, left - 5) : -1;
    this.header[0] = type;
    this.header[1] = 3;
    this.header[2] = 3;
    this.header.writeUInt16BE(Math.max(0, this.length), 3);
  }

  write(b, at, from, length) {
    while (this.length >= 0 && this.start < from + length) {
      overlay(this.header, this.start, b, at, from, length);
      if (this.start + 5 > from + length) return; // the rest of this header is in the next segment
      this.start += 5 + this.length;
      this.index++;
      this.frame();
    }
  }
}

/** An HTTP/1.1 response head (RFC 9112) of a `total`-byte response. */
class HttpResponse {
  constructor(total) {
    const head = (n) => `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${n}\r\n\r\n`;
    const length = Buffer.byteLength(head(total));
    this.header = Buffer.from(head(Math.max(0, total - length)), 'latin1').subarray(0, total);
  }

  write(b, at, from, length) {
    if (from < this.header.length) overlay(this.header, 0, b, at, from, length);
  }
}

/** The client's change_cipher_spec and its first application_data record after the handshake; the rest noise. */
const CLIENT_FINISHED = {
  write(b, at, _from, length) {
    overlay(Buffer.from([0x14, 3, 3, 0, 1, 1, 0x17, 3, 3, (length - 11) >> 8, (length - 11) & 0xff]), 0, b, at, 0, length);
  },
};

// ---------------------------------------------------------------------------------------------
// A connection on the wire: one step writes one packet, or one data round (two segments and an ACK).

class Connection {
  constructor(plan, rng) {
    this.plan = plan;
    this.dns = 0;
    this.phase = plan.lookup ? 'dns' : plan.app ? 'open' : 'done';
    if (plan.app && plan.app.proto === PROTO_TCP) {
      this.clientSeq = (rng() * 0x100000000) >>> 0;
      this.serverSeq = (rng() * 0x100000000) >>> 0;
    }
    this.dataLeft = plan.data ?? 0;
    this.datagram = 0;
    this.rounds = 0;
    this.served = 0;
    this.segments = 0;
    this.marks = plan.kind === 'tls' ? new TlsRecords(plan.data) : plan.kind === 'http' ? new HttpResponse(plan.data) : null;
  }

  /** Writes the next step; false when the connection is over. */
  step(w) {
    const p = this.plan;
    const app = p.app;
    switch (this.phase) {
      case 'dns': {
        const message = p.lookup.messages[this.dns++];
        w.udp(p.lookup.flow, message.fromClient, message.payload);
        if (this.dns === p.lookup.messages.length) this.phase = app ? 'open' : 'done';
        return this.phase !== 'done';
      }
      case 'open':
        if (app.proto === PROTO_UDP) return this.udpStep(w);
        w.tcp(app, true, TCP_SYN, this.clientSeq++, 0, null);
        this.phase = 'syn-ack';
        return true;
      case 'syn-ack':
        w.tcp(app, false, TCP_SYN | TCP_ACK, this.serverSeq++, this.clientSeq, null);
        this.phase = 'ack';
        return true;
      case 'ack':
        w.tcp(app, true, TCP_ACK, this.clientSeq, this.serverSeq, null);
        this.phase = 'hello';
        return true;
      case 'hello':
        w.tcp(app, true, TCP_PSH | TCP_ACK, this.clientSeq, this.serverSeq, p.hello);
        this.clientSeq += p.hello.length;
        this.phase = 'data';
        return true;
      case 'data': {
        // One full-size segment (quick ACKs), later two (or what is left), then the client's ACK.
        const segment = mss(app.family);
        const perAck = this.segments < QUICK_ACKS ? 1 : 2;
        for (let i = 0; i < perAck && this.dataLeft > 0; i++) {
          const length = Math.min(segment, this.dataLeft);
          const flags = TCP_ACK | (length < segment || this.dataLeft === length ? TCP_PSH : 0);
          w.tcp(app, false, flags, this.serverSeq, this.clientSeq, null, length, this.marks, this.served);
          this.serverSeq += length;
          this.served += length;
          this.segments++;
          this.dataLeft -= length;
        }
        w.tcp(app, true, TCP_ACK, this.clientSeq, this.serverSeq, null);
        this.rounds++;
        if (this.rounds === 1 && p.request > 0) this.phase = 'request';
        else if (this.dataLeft === 0) this.phase = 'fin';
        return true;
      }
      case 'request':
        // TLS: the client's Finished and its first request after the server's first flight.
        w.tcp(app, true, TCP_PSH | TCP_ACK, this.clientSeq, this.serverSeq, null, p.request, CLIENT_FINISHED, 0);
        this.clientSeq += p.request;
        this.phase = this.dataLeft > 0 ? 'data' : 'fin';
        return true;
      case 'fin':
        w.tcp(app, true, TCP_FIN | TCP_ACK, this.clientSeq++, this.serverSeq, null);
        this.phase = 'fin-ack';
        return true;
      case 'fin-ack':
        w.tcp(app, false, TCP_FIN | TCP_ACK, this.serverSeq++, this.clientSeq, null);
        this.phase = 'last-ack';
        return true;
      case 'last-ack':
        w.tcp(app, true, TCP_ACK, this.clientSeq, this.serverSeq, null);
        this.phase = 'done';
        return false;
      case 'quic-data': {
        for (let i = 0; i < 3 && this.dataLeft > 0; i++) {
          const length = Math.min(QUIC_DATAGRAM, this.dataLeft);
          w.udp(app, false, null, length, QUIC_SHORT);
          this.dataLeft -= length;
        }
        this.quicAck(w);
        if (this.dataLeft === 0) this.phase = 'quic-close';
        return true;
      }
      case 'quic-close':
        this.quicAck(w);
        this.phase = 'done';
        return false;
      default:
        return this.udpStep(w);
    }
  }

  quicAck(w) {
    w.udp(this.plan.app, true, null, QUIC_ACK, QUIC_SHORT);
  }

  udpStep(w) {
    const p = this.plan;
    if (p.kind === 'quic') {
      // Client Initial, server Initial, client ack; then data.
      if (this.datagram < 2) w.udp(p.app, this.datagram === 0, p.initials[this.datagram]);
      else this.quicAck(w);
      this.datagram++;
      this.phase = this.datagram === 3 ? (this.dataLeft > 0 ? 'quic-data' : 'quic-close') : 'udp';
      return true;
    }
    const i = this.datagram++;
    const fromClient = i % 2 === 0;
    // NTP (RFC 5905): version 4, mode 3 from the client, 4 from the server; the rest is noise.
    w.udp(p.app, fromClient, null, p.datagrams[i], p.app.serverPort === 123 ? (fromClient ? 0x23 : 0x24) : -1);
    this.phase = 'udp';
    return this.datagram < p.datagrams.length;
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Writes a capture of exactly `flows` flows and about `bytes` bytes (within a segment or two) to
 * `path` (through `path.partial`, renamed when whole). Returns what it wrote: the figures the
 * analyzer must find again.
 */
export function writeSyntheticCapture({ path, flows, bytes, seed = 19 }) {
  if (!Number.isInteger(flows) || flows < 1) throw new Error(`synth-capture: flows must be a whole number >= 1, not ${flows}`);
  if (!(bytes > 24)) throw new Error(`synth-capture: bytes must be more than a pcap header, not ${bytes}`);
  const bytesPerFlow = bytes / flows;
  // The first mix whose bare connections (no extra data) take at most 90% of the size.
  let level = 0;
  let sample = null;
  for (; level <= MAX_LEVEL; level++) {
    sample = calibrate(seed, mixAt(level));
    if (sample.skeletonPerFlow <= 0.9 * bytesPerFlow) break;
  }
  if (level > MAX_LEVEL) {
    throw new Error(
      `synth-capture: ${flows} flows do not fit in ${bytes} bytes (${bytesPerFlow.toFixed(0)} bytes per flow; the leanest mix needs ` +
        `${(sample.skeletonPerFlow / 0.9).toFixed(0)}): ask for fewer flows or a larger size`,
    );
  }
  const mix = mixAt(level);
  const planner = new Planner(seed, mix);
  const rng = random(seed ^ 0x27d4eb2f);
  const partial = `${path}.partial`;
  const fd = openSync(partial, 'w');
  const w = new PcapWriter(fd, rng);
  const stats = {
    generator: 'bench/synth-capture.js',
    seed,
    flows: 0,
    flowsByPath: { 'native-v6': 0, nat64: 0, clat: 0, 'native-v4': 0 },
    dnsQueries: 0,
    lookups: 0,
    connections: { tls: 0, http: 0, quic: 0, udp: 0, none: 0 },
    tlsWithSni: 0,
    names: 0,
    packets: 0,
    bytes: 0,
    targetBytes: bytes,
    mixLevel: level,
    mix,
    seconds: 0,
  };
  let committed = 24;
  let skeletonSum = 0;
  let planned = 0;
  const active = [];
  let limit = 128;
  let turn = 0;
  try {
    for (;;) {
      while (active.length < limit && stats.flows < flows) {
        const flowsLeft = flows - stats.flows;
        const plan = planner.plan(flowsLeft, flowsLeft <= 2);
        planned++;
        skeletonSum += plan.skeleton;
        // Extra data: a heavy-tailed share of what the bare connections still to come leave over.
        const after = flowsLeft - plan.flows;
        if (after === 0) planner.addData(plan, bytes - committed - plan.skeleton);
        else if (plan.kind === 'tls' || plan.kind === 'http' || plan.kind === 'quic') {
          const connectionsLeft = after / sample.flowsPerConnection;
          const spare = bytes - committed - plan.skeleton - connectionsLeft * (skeletonSum / planned);
          const dataConnections = 1 + connectionsLeft * sample.dataShare;
          planner.addData(plan, Math.min(spare, (spare / dataConnections) * heavyTail(rng)));
        }
        committed += plan.skeleton;
        stats.flows += plan.flows;
        stats.dnsQueries += plan.queries;
        stats.connections[plan.kind]++;
        if (plan.lookup) {
          stats.lookups++;
          stats.flowsByPath[plan.lookupPath]++;
        }
        if (plan.app) stats.flowsByPath[plan.app.path]++;
        if (plan.sni) stats.tlsWithSni++;
        active.push(new Connection(plan, rng));
      }
      if (active.length === 0) break;
      if (turn >= active.length) turn = 0;
      if (active[turn].step(w)) turn++;
      else {
        active[turn] = active[active.length - 1];
        active.pop();
      }
      // Now and then a new number of connections open at once, 32 to 256.
      if ((w.packets & 0x3fff) === 0) limit = between(rng, 32, 256);
    }
    w.flush();
  } finally {
    closeSync(fd);
  }
  if (w.written !== committed) {
    rmSync(partial, { force: true });
    throw new Error(`synth-capture: wrote ${w.written} bytes but the plans cost ${committed}: the cost model and the writer disagree (a bug here)`);
  }
  renameSync(partial, path);
  stats.packets = w.packets;
  stats.bytes = w.written;
  stats.names = planner.names.size;
  stats.seconds = (w.clockUs - START_US) / 1e6;
  return stats;
}

/** Flows per connection, bare bytes per flow and the share of connections that carry data, from 4000 planned connections. */
function calibrate(seed, mix) {
  const planner = new Planner(seed ^ 0x1b873593, mix);
  let flows = 0;
  let skeleton = 0;
  let data = 0;
  const connections = 4000;
  for (let i = 0; i < connections; i++) {
    const plan = planner.plan(Number.MAX_SAFE_INTEGER, false);
    flows += plan.flows;
    skeleton += plan.skeleton;
    if (plan.kind === 'tls' || plan.kind === 'http' || plan.kind === 'quic') data++;
  }
  return { flowsPerConnection: flows / connections, skeletonPerFlow: skeleton / flows, dataShare: data / connections };
}

// ---------------------------------------------------------------------------------------------

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const at = args.indexOf(`--${name}`);
    return at < 0 ? fallback : args[at + 1];
  };
  const out = args[0];
  const flows = Number(option('flows', ''));
  const sizeMib = Number(option('size-mb', ''));
  if (!out || out.startsWith('--') || !Number.isInteger(flows) || !(sizeMib > 0)) {
    process.stderr.write('usage: node bench/synth-capture.js OUT.pcap --flows N --size-mb M [--seed S]\n');
    process.exit(2);
  }
  const t0 = process.hrtime.bigint();
  const stats = writeSyntheticCapture({ path: out, flows, bytes: Math.round(sizeMib * MIB), seed: Number(option('seed', 19)) });
  stats.writeSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
}
