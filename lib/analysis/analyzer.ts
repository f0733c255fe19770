/**
 * The capture analysis: flows, DNS, SNI, NAT64 prefixes, CLAT, paths and Happy Eyeballs facts.
 * Fed packet by packet (it is the reader's PacketSink), so it works on a file, a stream or a
 * capture still being written; report() can be called at any moment.
 *
 * The per-packet path allocates nothing: flows are found through an open-addressing table of
 * integer hashes over the address words, and only DNS, TLS ClientHellos and fragments (rare)
 * build objects.
 */
import {
  AddressError,
  type Nat64Prefix,
  canonicalAddress,
  extractEmbeddedIpv4,
  formatAddress,
  inNat64Prefix,
  IPV4ONLY_ARPA,
  isClatIpv4,
  nat64PrefixFromWellKnown,
  parseAddress,
  parseNat64Prefix,
} from '../net/address.js';
import type { CaptureFormat, PacketSink } from '../capture/reader.js';
import { IPPROTO, PacketView, TCP_FLAG, decodePacket } from '../capture/decode.js';
import { compareHostnames } from './hostname-order.js';
import { decodeDns, type DnsMessage } from './dns.js';
import { Pref64Observer } from './pref64.js';
import { looksLikeQuicInitial, looksLikeTlsHandshake, MAX_CLIENT_HELLO, parseClientHello } from './tls.js';
import type { AnalyzeOptions, CaptureAnalysis, DnsQuery, Flow, FlowPath, HostnameFacts, PathTotals } from './types.js';

/** Two copies of one packet on two interfaces of an `-i any` capture arrive within this. */
const DUPLICATE_WINDOW_S = 0.01;
/** Fragment bookkeeping is bounded: the oldest entries go first. */
const MAX_FRAGMENT_ENTRIES = 4096;
/** DNS over TCP: bytes buffered per direction before giving up on a stream. */
const MAX_DNS_TCP_BUFFER = 65536 + 2;
const DNS_PORT = 53;

const enum TlsState {
  Unknown,
  Collecting,
  Done,
}

/** One transport conversation. Address words are the raw bytes read as little-endian int32. */
class FlowState {
  packets = 0;
  bytes = 0;
  lastTs = -Infinity;
  synSeen = false;
  synAckSeen = false;
  established = false;
  reset = false;
  /** TCP or UDP payload bytes the client sent (as on the wire, retransmissions included). */
  clientPayload = 0;
  /** The server's initial sequence number (its SYN-ACK's), -1 before one is seen. */
  serverIsn = -1;
  /**
   * Server sequence numbers the client acknowledged, in order: its highest ACK past the server's
   * ISN. The server's data bytes, plus one for its FIN once the client acknowledged that too.
   */
  serverAcked = 0;
  /** Where the server's FIN sits, counted like serverAcked (the data bytes before it); -1: none seen. */
  serverFinAt = -1;
  /** The last two packet signatures, for duplicate detection. */
  // Timestamps start as doubles so V8 stores them in place, never as a new box per packet.
  sig0 = 0;
  ts0 = -Infinity;
  if0 = 0;
  sig1 = 0;
  ts1 = -Infinity;
  if1 = 0;
  nextSlot = 0;
  tls = TlsState.Unknown;
  tlsBytes: Buffer | null = null;
  tlsNextSeq = 0;
  sni: string | null = null;
  application: 'tls' | 'quic' | 'dns' | null = null;
  dnsTcp: [TcpStream | null, TcpStream | null] | null = null;
  /**
   * The addresses as text, printed when the flow is created: there the code is hot, while a
   * report runs once, cold, and a capture analysed as it streams is reported again and again.
   */
  readonly texts: { client: string; server: string };

  constructor(
    readonly hash: number,
    readonly family: 4 | 6,
    readonly protocol: number,
    readonly c0: number,
    readonly c1: number,
    readonly c2: number,
    readonly c3: number,
    readonly s0: number,
    readonly s1: number,
    readonly s2: number,
    readonly s3: number,
    readonly clientPort: number,
    readonly serverPort: number,
    readonly firstTs: number,
    readonly clientBytes: Uint8Array,
    readonly serverBytes: Uint8Array,
  ) {
    this.texts = { client: formatAddress(clientBytes, 0, family), server: formatAddress(serverBytes, 0, family) };
  }
}

/** The names DNS answers gave one address, in capture order (consecutive repeats dropped). */
interface AddressAnswers {
  times: number[];
  names: string[];
  nameSet: Set<string>;
}

/** In-order bytes of one TCP direction, for DNS over TCP (RFC 7766). */
interface TcpStream {
  nextSeq: number;
  pending: Buffer;
}

interface FragmentEntry {
  flow: number;
  packets: number;
  bytes: number;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class CaptureAnalyzer implements PacketSink {
  format: CaptureFormat | null = null;
  linkTypes: readonly number[] = [];

  private readonly view = new PacketView();
  /** A DataView over the current packet's buffer (set per packet; the reader keeps few). */
  private dv: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  /**
   * The current packet's time. A field, not an argument: a double passed to a call that is not
   * inlined is boxed, one allocation per packet.
   */
  private now = -Infinity;
  /** Set by findFlow: whether the packet went from the flow's client to its server. */
  private fromClient = false;
  /** The previous packet's flow, tried before the hash table. */
  private lastFlow = -1;
  private readonly flows: FlowState[] = [];
  private slots = new Int32Array(4096);
  private mask = 4095;

  private packetCount = 0;
  private byteCount = 0;
  // Numbers, never null: a field that once held null boxes every double stored into it.
  private firstTs = Infinity;
  private lastTs = -Infinity;
  private duplicates = 0;
  private icmp4 = 0;
  private icmp6 = 0;
  private otherIp = 0;
  private nonIp = 0;
  private readonly damage = new Map<string, { count: number; firstPacket: number }>();
  private readonly warnings: string[] = [];

  private readonly fragments = new Map<string, FragmentEntry>();
  private readonly dns: DnsQuery[] = [];
  /** `flow:id` -> indexes into dns of queries not yet answered. */
  private readonly pendingDns = new Map<string, number[]>();
  /** address text -> the answers that gave it, in capture order. */
  private readonly addressNames = new Map<string, AddressAnswers>();
  private readonly names = new Map<string, { queried: Set<string>; a: Set<string>; aaaa: Set<string> }>();
  private readonly discoveredPrefixes = new Map<string, Nat64Prefix>();
  private readonly pref64 = new Pref64Observer();
  /** dns-packet's spelling of an address -> RFC 5952; answers repeat the same few addresses. */
  private readonly canonical = new Map<string, string>();
  private readonly givenPrefixes: Nat64Prefix[];
  private readonly givenClat: string[];

  constructor(options: AnalyzeOptions = {}) {
    this.givenPrefixes = (options.nat64Prefixes ?? []).map((p) => parseNat64Prefix(p, '--nat64-prefix'));
    this.givenClat = (options.clatAddresses ?? []).map((a) => {
      const parsed = parseAddress(a, '--clat-address');
      if (parsed.family !== 6) throw new AddressError(a, "is not an IPv6 address (a CLAT's IPv4 side is always 192.0.0.0/29)", '--clat-address');
      return canonicalAddress(a);
    });
  }

  warning(message: string): void {
    if (this.warnings.length < 100) this.warnings.push(message);
  }

  packet(
    buf: Buffer,
    dv: DataView,
    offset: number,
    capLen: number,
    origLen: number,
    seconds: number,
    nanoseconds: number,
    linkType: number,
    iface: number,
  ): void {
    const ts = seconds + nanoseconds / 1e9;
    this.now = ts;
    this.packetCount++;
    this.byteCount += origLen;
    if (ts < this.firstTs) this.firstTs = ts;
    if (ts > this.lastTs) this.lastTs = ts;
    const v = this.view;
    this.dv = dv;
    if (!decodePacket(v, buf, dv, offset, capLen, linkType, iface)) {
      if (v.damage !== null) this.noteDamage(v.damage);
      else this.nonIp++;
      return;
    }
    const protocol = v.protocol;
    if (protocol !== IPPROTO.TCP && protocol !== IPPROTO.UDP) {
      if (protocol === IPPROTO.ICMP) this.icmp4++;
      else if (protocol === IPPROTO.ICMPV6) {
        this.icmp6++;
        // RFC 8781: a router advertisement (type 134) may name the NAT64 prefix (PREF64).
        if (v.family === 6 && !v.fragment && v.payloadLength > 0 && buf[v.payloadOffset] === 134) this.routerAdvertisement(buf);
      } else this.otherIp++;
      return;
    }
    if (v.l4Offset < 0) {
      this.laterFragment(buf, origLen);
      return;
    }
    const index = this.findFlow(buf);
    const flow = this.flows[index]!;
    const fromClient = this.fromClient;
    if (this.isDuplicate(flow, buf, fromClient)) {
      this.duplicates++;
      return;
    }
    flow.packets++;
    flow.bytes += origLen;
    flow.lastTs = ts;
    if (v.fragment) this.firstFragment(buf, index, flow);
    if (protocol === IPPROTO.TCP) this.tcp(flow, index, buf, fromClient);
    else this.udp(flow, index, buf, fromClient);
  }

  private routerAdvertisement(buf: Buffer): void {
    const v = this.view;
    const hopLimit = buf[v.ipOffset + 7]!;
    const damage = this.pref64.routerAdvertisement(buf, v.payloadOffset, v.payloadOffset + v.payloadLength, v.srcOffset, hopLimit, this.now);
    if (damage !== null) this.noteDamage(damage);
  }

  private noteDamage(reason: string): void {
    const seen = this.damage.get(reason);
    if (seen) seen.count++;
    else this.damage.set(reason, { count: 1, firstPacket: this.packetCount });
  }

  /**
   * The flow of the packet in `view`, created when new; sets `fromClient`. The previous packet's
   * flow is tried first: a transfer is long runs of one flow.
   */
  private findFlow(buf: Buffer): number {
    const ts = this.now;
    const dv = this.dv;
    const v = this.view;
    const six = v.family === 6;
    const src = v.srcOffset;
    const dst = v.dstOffset;
    const a0 = dv.getInt32(src, true),
      a1 = six ? dv.getInt32(src + 4, true) : 0,
      a2 = six ? dv.getInt32(src + 8, true) : 0,
      a3 = six ? dv.getInt32(src + 12, true) : 0;
    const b0 = dv.getInt32(dst, true),
      b1 = six ? dv.getInt32(dst + 4, true) : 0,
      b2 = six ? dv.getInt32(dst + 8, true) : 0,
      b3 = six ? dv.getInt32(dst + 12, true) : 0;
    const sp = v.srcPort;
    const dp = v.dstPort;
    const last = this.lastFlow;
    if (last >= 0) {
      const f = this.flows[last]!;
      if (f.protocol === v.protocol && f.family === v.family) {
        if (
          f.clientPort === sp &&
          f.serverPort === dp &&
          f.c0 === a0 &&
          f.s0 === b0 &&
          f.c1 === a1 &&
          f.c2 === a2 &&
          f.c3 === a3 &&
          f.s1 === b1 &&
          f.s2 === b2 &&
          f.s3 === b3
        ) {
          this.fromClient = true;
          return last;
        }
        if (
          f.clientPort === dp &&
          f.serverPort === sp &&
          f.c0 === b0 &&
          f.s0 === a0 &&
          f.c1 === b1 &&
          f.c2 === b2 &&
          f.c3 === b3 &&
          f.s1 === a1 &&
          f.s2 === a2 &&
          f.s3 === a3
        ) {
          this.fromClient = false;
          return last;
        }
      }
    }
    const ea = Math.imul(a0, 0x9e3779b1) + Math.imul(a1, 0x85ebca77) + Math.imul(a2, 0xc2b2ae3d) + Math.imul(a3, 0x27d4eb2f) + Math.imul(sp, 0x165667b1);
    const eb = Math.imul(b0, 0x9e3779b1) + Math.imul(b1, 0x85ebca77) + Math.imul(b2, 0xc2b2ae3d) + Math.imul(b3, 0x27d4eb2f) + Math.imul(dp, 0x165667b1);
    const hash = fmix((ea + eb + v.protocol * 0x3c6ef372 + v.family) | 0);
    const slots = this.slots;
    const mask = this.mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = slots[i]!;
      if (slot === 0) break;
      const f = this.flows[slot - 1]!;
      if (f.hash !== hash || f.protocol !== v.protocol || f.family !== v.family) continue;
      if (
        f.clientPort === sp &&
        f.serverPort === dp &&
        f.c0 === a0 &&
        f.c1 === a1 &&
        f.c2 === a2 &&
        f.c3 === a3 &&
        f.s0 === b0 &&
        f.s1 === b1 &&
        f.s2 === b2 &&
        f.s3 === b3
      ) {
        this.fromClient = true;
        return (this.lastFlow = slot - 1);
      }
      if (
        f.clientPort === dp &&
        f.serverPort === sp &&
        f.c0 === b0 &&
        f.c1 === b1 &&
        f.c2 === b2 &&
        f.c3 === b3 &&
        f.s0 === a0 &&
        f.s1 === a1 &&
        f.s2 === a2 &&
        f.s3 === a3
      ) {
        this.fromClient = false;
        return (this.lastFlow = slot - 1);
      }
    }
    // The client sent the first packet, unless that packet answers a SYN we did not see.
    const answersSyn = v.protocol === IPPROTO.TCP && (v.tcpFlags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) === (TCP_FLAG.SYN | TCP_FLAG.ACK);
    const len = six ? 16 : 4;
    const srcBytes = Uint8Array.prototype.slice.call(buf, src, src + len);
    const dstBytes = Uint8Array.prototype.slice.call(buf, dst, dst + len);
    const flow = answersSyn
      ? new FlowState(hash, v.family as 4 | 6, v.protocol, b0, b1, b2, b3, a0, a1, a2, a3, dp, sp, ts, dstBytes, srcBytes)
      : new FlowState(hash, v.family as 4 | 6, v.protocol, a0, a1, a2, a3, b0, b1, b2, b3, sp, dp, ts, srcBytes, dstBytes);
    this.flows.push(flow);
    this.insert(hash, this.flows.length);
    if (this.flows.length * 2 > this.slots.length) this.grow();
    this.fromClient = !answersSyn;
    return (this.lastFlow = this.flows.length - 1);
  }

  private insert(hash: number, slotValue: number): void {
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      if (this.slots[i] === 0) {
        this.slots[i] = slotValue;
        return;
      }
    }
  }

  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    this.mask = this.slots.length - 1;
    for (let i = 0; i < this.flows.length; i++) this.insert(this.flows[i]!.hash, i + 1);
  }

  /**
   * A copy of the same IP packet on another interface (`-i any`: the CLAT's TUN then the mobile
   * interface; a router's ingress then egress). TTL and the IP checksum may differ between the
   * copies, so the signature takes the transport header and IP identity, not the whole packet.
   */
  private isDuplicate(flow: FlowState, _buf: Buffer, fromClient: boolean): boolean {
    const ts = this.now;
    const dv = this.dv;
    const v = this.view;
    let sig = (v.l4Checksum << 16) ^ v.payloadWireLength ^ (fromClient ? 0x40000000 : 0);
    if (v.protocol === IPPROTO.TCP) sig ^= v.tcpSeq ^ Math.imul(v.tcpAck, 31) ^ (v.tcpFlags << 24);
    if (v.family === 4) sig ^= Math.imul(dv.getUint16(v.ipOffset + 4), 0x10001);
    const key = v.ifaceKey;
    if (
      (flow.sig0 === sig && flow.if0 !== key && ts - flow.ts0 <= DUPLICATE_WINDOW_S) ||
      (flow.sig1 === sig && flow.if1 !== key && ts - flow.ts1 <= DUPLICATE_WINDOW_S)
    ) {
      return true;
    }
    if (flow.nextSlot === 0) {
      flow.sig0 = sig;
      flow.ts0 = ts;
      flow.if0 = key;
      flow.nextSlot = 1;
    } else {
      flow.sig1 = sig;
      flow.ts1 = ts;
      flow.if1 = key;
      flow.nextSlot = 0;
    }
    return false;
  }

  private fragmentKey(buf: Buffer): string {
    const v = this.view;
    const len = v.family === 6 ? 16 : 4;
    return `${v.family}|${buf.toString('hex', v.srcOffset, v.srcOffset + len)}|${buf.toString('hex', v.dstOffset, v.dstOffset + len)}|${v.protocol}|${v.fragmentId}`;
  }

  private firstFragment(buf: Buffer, index: number, flow: FlowState): void {
    const key = this.fragmentKey(buf);
    const early = this.fragments.get(key);
    if (early && early.flow < 0) {
      flow.packets += early.packets;
      flow.bytes += early.bytes;
    }
    this.rememberFragment(key, { flow: index, packets: 0, bytes: 0 });
  }

  /** A fragment without the transport header joins the flow of its first fragment. */
  private laterFragment(buf: Buffer, origLen: number): void {
    const key = this.fragmentKey(buf);
    const entry = this.fragments.get(key);
    if (entry && entry.flow >= 0) {
      const flow = this.flows[entry.flow]!;
      flow.packets++;
      flow.bytes += origLen;
    } else if (entry) {
      entry.packets++;
      entry.bytes += origLen;
    } else {
      this.rememberFragment(key, { flow: -1, packets: 1, bytes: origLen });
    }
  }

  private rememberFragment(key: string, entry: FragmentEntry): void {
    this.fragments.delete(key);
    this.fragments.set(key, entry);
    if (this.fragments.size > MAX_FRAGMENT_ENTRIES) {
      const oldest = this.fragments.keys().next().value;
      if (oldest !== undefined) this.fragments.delete(oldest);
    }
  }

  private tcp(flow: FlowState, index: number, buf: Buffer, fromClient: boolean): void {
    const v = this.view;
    const flags = v.tcpFlags;
    if (flags & TCP_FLAG.RST) flow.reset = true;
    if (flags & TCP_FLAG.SYN) {
      if (flags & TCP_FLAG.ACK) {
        if (!fromClient) {
          flow.synAckSeen = true;
          flow.serverIsn = v.tcpSeq;
        }
      } else if (fromClient) flow.synSeen = true;
    } else if (fromClient && flow.synAckSeen && flags & TCP_FLAG.ACK && !(flags & TCP_FLAG.RST)) {
      flow.established = true;
    }
    if (fromClient) {
      flow.clientPayload += v.payloadWireLength;
      if (flow.serverIsn >= 0 && flags & TCP_FLAG.ACK && !(flags & TCP_FLAG.SYN)) {
        // Modulo 2^32 past the ISN; an ACK from before it (a stray) reads as a huge number and is ignored.
        const acked = (v.tcpAck - flow.serverIsn - 1) >>> 0;
        if (acked < 0x80000000 && acked > flow.serverAcked) flow.serverAcked = acked;
      }
    } else if (flags & TCP_FLAG.FIN && flow.serverIsn >= 0 && !(flags & TCP_FLAG.SYN)) {
      // The FIN takes the sequence number after the segment's data (its wire length: a short
      // snapshot length does not shorten the sequence space). The lowest, should a stray differ.
      const at = (v.tcpSeq + v.payloadWireLength - flow.serverIsn - 1) >>> 0;
      if (at < 0x80000000 && (flow.serverFinAt < 0 || at < flow.serverFinAt)) flow.serverFinAt = at;
    }
    if (v.payloadLength === 0) return;
    if (flow.clientPort === DNS_PORT || flow.serverPort === DNS_PORT) {
      this.dnsOverTcp(flow, index, buf, fromClient);
      return;
    }
    if (fromClient && flow.tls !== TlsState.Done) this.clientHello(flow, buf);
  }

  private clientHello(flow: FlowState, buf: Buffer): void {
    const v = this.view;
    const whole = v.payloadLength === v.payloadWireLength;
    if (flow.tls === TlsState.Unknown) {
      if (!looksLikeTlsHandshake(buf, v.payloadOffset, v.payloadLength)) {
        flow.tls = TlsState.Done;
        return;
      }
      flow.application = 'tls';
      const payload = buf.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength);
      const result = parseClientHello(payload);
      if (result.kind === 'need-more' && whole) {
        flow.tls = TlsState.Collecting;
        flow.tlsBytes = Buffer.from(payload);
        flow.tlsNextSeq = (v.tcpSeq + v.payloadLength) >>> 0;
        return;
      }
      flow.tls = TlsState.Done;
      if (result.kind === 'client-hello') flow.sni = result.sni;
      return;
    }
    // Collecting: take the next in-order segment; a retransmission is ignored, a gap ends it.
    if (v.tcpSeq !== flow.tlsNextSeq) {
      if (((flow.tlsNextSeq - v.tcpSeq) | 0) > 0) return;
      flow.tls = TlsState.Done;
      flow.tlsBytes = null;
      return;
    }
    const gathered = Buffer.concat([flow.tlsBytes!, buf.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength)]);
    const result = parseClientHello(gathered);
    if (result.kind === 'need-more' && whole && gathered.length < MAX_CLIENT_HELLO) {
      flow.tlsBytes = gathered;
      flow.tlsNextSeq = (v.tcpSeq + v.payloadLength) >>> 0;
      return;
    }
    flow.tls = TlsState.Done;
    flow.tlsBytes = null;
    if (result.kind === 'client-hello') flow.sni = result.sni;
  }

  private dnsOverTcp(flow: FlowState, index: number, buf: Buffer, fromClient: boolean): void {
    const v = this.view;
    flow.application = 'dns';
    flow.dnsTcp ??= [null, null];
    const side = fromClient ? 0 : 1;
    const segment = buf.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength);
    let stream = flow.dnsTcp[side];
    if (stream === null) {
      stream = { nextSeq: v.tcpSeq, pending: Buffer.alloc(0) };
      flow.dnsTcp[side] = stream;
    }
    if (v.tcpSeq !== stream.nextSeq) return; // retransmission or gap: RFC 7766 streams are rare enough to skip
    stream.nextSeq = (v.tcpSeq + v.payloadLength) >>> 0;
    stream.pending = stream.pending.length === 0 ? Buffer.from(segment) : Buffer.concat([stream.pending, segment]);
    // RFC 1035 section 4.2.2: each message is prefixed by its two-byte length.
    while (stream.pending.length >= 2) {
      const length = stream.pending.readUInt16BE(0);
      if (stream.pending.length < 2 + length) break;
      this.dnsMessage(stream.pending.subarray(2, 2 + length), index, 'tcp');
      stream.pending = stream.pending.subarray(2 + length);
    }
    if (stream.pending.length > MAX_DNS_TCP_BUFFER) stream.pending = Buffer.alloc(0);
  }

  private udp(flow: FlowState, index: number, buf: Buffer, fromClient: boolean): void {
    const v = this.view;
    if (fromClient) flow.clientPayload += v.payloadWireLength;
    if (flow.clientPort === DNS_PORT || flow.serverPort === DNS_PORT) {
      flow.application = 'dns';
      if (v.fragment) {
        this.noteDamage('DNS message in a fragmented datagram (not reassembled)');
        return;
      }
      if (v.payloadLength < v.payloadWireLength) {
        this.noteDamage('DNS message cut short by the snapshot length');
        return;
      }
      this.dnsMessage(buf.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength), index, 'udp');
      return;
    }
    if (flow.packets === 1 && fromClient && looksLikeQuicInitial(buf, v.payloadOffset, v.payloadLength)) flow.application = 'quic';
  }

  private dnsMessage(payload: Uint8Array, flow: number, transport: 'udp' | 'tcp'): void {
    const ts = this.now;
    const message = decodeDns(payload);
    if (typeof message === 'string') {
      this.noteDamage(message);
      return;
    }
    const key = `${flow}:${message.id}`;
    const facts = this.nameFacts(message.name);
    if (!message.response) {
      facts.queried.add(message.qtype);
      this.dns.push({ ts, id: message.id, name: message.name, qtype: message.qtype, rcode: null, answers: [], transport, flow });
      const pending = this.pendingDns.get(key);
      if (pending) pending.push(this.dns.length - 1);
      else this.pendingDns.set(key, [this.dns.length - 1]);
      return;
    }
    // A response answers every copy of its query (retransmissions share id and 5-tuple).
    const pending = this.pendingDns.get(key);
    if (pending) {
      for (const i of pending) {
        const query = this.dns[i]!;
        if (query.name === message.name && query.qtype === message.qtype) {
          query.rcode = message.rcode;
          query.answers = message.addresses;
        }
      }
      this.pendingDns.delete(key);
    }
    this.learnAnswers(message, ts, facts);
  }

  private nameFacts(name: string) {
    let facts = this.names.get(name);
    if (!facts) {
      facts = { queried: new Set<string>(), a: new Set<string>(), aaaa: new Set<string>() };
      this.names.set(name, facts);
    }
    return facts;
  }

  private learnAnswers(message: DnsMessage, ts: number, facts: { a: Set<string>; aaaa: Set<string> }): void {
    for (const address of message.addresses) {
      let text = this.canonical.get(address);
      if (text === undefined) {
        text = canonicalAddress(address);
        this.canonical.set(address, text);
      }
      const family = text.includes(':') ? 6 : 4;
      (family === 6 ? facts.aaaa : facts.a).add(text);
      const seen = this.addressNames.get(text);
      if (!seen) this.addressNames.set(text, { times: [ts], names: [message.name], nameSet: new Set([message.name]) });
      // A run of answers with one name says no more than its first: keep the lists short.
      else if (seen.names[seen.names.length - 1] !== message.name) {
        seen.times.push(ts);
        seen.names.push(message.name);
        seen.nameSet.add(message.name);
      }
      // RFC 7050 section 3: a synthesized AAAA for ipv4only.arpa reveals the NAT64 prefix.
      if (family === 6 && message.name === IPV4ONLY_ARPA) {
        const prefix = nat64PrefixFromWellKnown(parseAddress(text).bytes);
        if (prefix && !this.discoveredPrefixes.has(prefix.text)) this.discoveredPrefixes.set(prefix.text, prefix);
      }
    }
  }

  /** The analysis of everything seen so far; the analyzer can go on receiving packets after. */
  report(): CaptureAnalysis {
    const prefixes = new Map<string, { prefix: Nat64Prefix; source: 'given' | 'rfc7050' | 'pref64' }>();
    for (const p of this.givenPrefixes) prefixes.set(p.text, { prefix: p, source: 'given' });
    for (const p of this.discoveredPrefixes.values()) if (!prefixes.has(p.text)) prefixes.set(p.text, { prefix: p, source: 'rfc7050' });
    for (const p of this.pref64.prefixes()) if (!prefixes.has(p.text)) prefixes.set(p.text, { prefix: p, source: 'pref64' });
    const prefixList = [...prefixes.values()].map((e) => e.prefix);
    const nat64Of = (bytes: Uint8Array): Nat64Prefix | null => prefixList.find((p) => inNat64Prefix(p, bytes, 0)) ?? null;

    const texts = this.flows.map((f) => f.texts);
    const { clatAddresses, twins } = this.inferClat(texts, nat64Of);
    const clat = new Set(clatAddresses);

    const flows: Flow[] = this.flows.map((f, id) => {
      const { client, server } = texts[id]!;
      let path: FlowPath;
      let hostnameKey = server;
      if (f.family === 4) {
        path = isClatIpv4(f.clientBytes, 0) || isClatIpv4(f.serverBytes, 0) ? 'clat' : 'native-v4';
      } else {
        const prefix = nat64Of(f.serverBytes);
        if (prefix === null) path = 'native-v6';
        else {
          path = clat.has(client) ? 'clat' : 'nat64';
          if (!this.addressNames.has(server)) hostnameKey = formatAddress(extractEmbeddedIpv4(prefix, f.serverBytes, 0), 0, 4);
        }
      }
      const resolved = this.hostnameAt(hostnameKey, f.firstTs, f.sni);
      return {
        id,
        transport: f.protocol === IPPROTO.TCP ? 'tcp' : 'udp',
        family: f.family,
        client,
        clientPort: f.clientPort,
        server,
        serverPort: f.serverPort,
        packets: f.packets,
        bytes: f.bytes,
        firstTs: f.firstTs,
        lastTs: f.lastTs,
        path,
        established: f.protocol !== IPPROTO.TCP || !(f.synSeen || f.synAckSeen) ? null : f.established,
        reset: f.reset,
        clientPayloadBytes: f.clientPayload,
        // The server's FIN takes a sequence number too, no byte of data: an ACK past it counts
        // only the bytes before it. A FIN the client never acknowledged takes nothing off.
        serverBytesAcked: f.protocol !== IPPROTO.TCP || f.serverIsn < 0 ? null : f.serverFinAt < 0 ? f.serverAcked : Math.min(f.serverAcked, f.serverFinAt),
        hostname: resolved ?? f.sni,
        hostnameSource: resolved !== null ? 'dns' : f.sni !== null ? 'sni' : null,
        sni: f.sni,
        application: f.application,
        twin: twins.get(id) ?? null,
      };
    });

    return {
      capture: {
        format: this.format ?? 'pcap',
        linkTypes: [...this.linkTypes],
        packets: this.packetCount,
        bytes: this.byteCount,
        firstTs: this.packetCount === 0 ? null : this.firstTs,
        lastTs: this.packetCount === 0 ? null : this.lastTs,
        duplicates: this.duplicates,
        warnings: [
          ...this.warnings,
          ...[...this.damage].map(([reason, d]) => `${d.count} packet${d.count === 1 ? '' : 's'}: ${reason} (first: packet ${d.firstPacket})`),
        ],
      },
      nat64Prefixes: [...prefixes.keys()],
      nat64PrefixSources: Object.fromEntries([...prefixes].map(([text, e]) => [text, e.source])),
      pref64: this.pref64.evidence(),
      clatAddresses,
      flows,
      dns: this.dns.map((q) => ({ ...q, answers: [...q.answers] })),
      hostnames: this.hostnameFacts(flows, nat64Of),
      summary: summarize(flows, this.icmp4, this.icmp6, this.otherIp, this.nonIp),
    };
  }

  /**
   * The name whose answer gave `address` last before `ts` (or the first one after). Several names
   * often share an address (a CDN): the flow's SNI, when one of them, says which it was for.
   */
  private hostnameAt(address: string, ts: number, sni: string | null): string | null {
    const answers = this.addressNames.get(address);
    if (!answers) return null;
    if (sni !== null && answers.nameSet.has(sni)) return sni;
    // The last answer at or before ts (times are in capture order), else the first.
    const { times, names } = answers;
    let low = 0;
    let high = times.length - 1;
    let best = 0;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (times[mid]! <= ts) {
        best = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return names[best]!;
  }

  /**
   * CLAT addresses: the given ones, plus every IPv6 address that talks only to NAT64 addresses
   * and has at least one flow whose IPv4 twin (same ports, embedded IPv4 as server) was seen
   * from 192.0.0.0/29. Twins pair the two legs of one translated socket.
   */
  private inferClat(texts: { client: string; server: string }[], nat64Of: (b: Uint8Array) => Nat64Prefix | null) {
    const v4Legs = new Map<string, number>();
    this.flows.forEach((f, id) => {
      if (f.family === 4 && isClatIpv4(f.clientBytes, 0)) v4Legs.set(`${f.protocol}|${f.clientPort}|${texts[id]!.server}|${f.serverPort}`, id);
    });
    const twins = new Map<number, number>();
    const candidates = new Map<string, { matched: number; otherTraffic: boolean }>();
    this.flows.forEach((f, id) => {
      if (f.family !== 6) return;
      const { client, server } = texts[id]!;
      const prefix = nat64Of(f.serverBytes);
      let entry = candidates.get(client);
      if (!entry) candidates.set(client, (entry = { matched: 0, otherTraffic: false }));
      if (prefix === null) {
        entry.otherTraffic = true;
        const asServer = candidates.get(server);
        if (asServer) asServer.otherTraffic = true;
        else candidates.set(server, { matched: 0, otherTraffic: true });
        return;
      }
      const embedded = formatAddress(extractEmbeddedIpv4(prefix, f.serverBytes, 0), 0, 4);
      const twin = v4Legs.get(`${f.protocol}|${f.clientPort}|${embedded}|${f.serverPort}`);
      if (twin !== undefined) {
        entry.matched++;
        twins.set(id, twin);
        twins.set(twin, id);
      }
    });
    const inferred = [...candidates].filter(([, e]) => e.matched > 0 && !e.otherTraffic).map(([address]) => address);
    const clatAddresses = [...new Set([...this.givenClat, ...inferred])];
    // Twins count only where their IPv6 leg is a CLAT address.
    for (const [id, twin] of [...twins]) {
      const v6 = this.flows[id]!.family === 6 ? id : twin;
      if (!clatAddresses.includes(texts[v6]!.client)) twins.delete(id);
    }
    return { clatAddresses, twins };
  }

  private hostnameFacts(flows: Flow[], nat64Of: (b: Uint8Array) => Nat64Prefix | null): HostnameFacts[] {
    const byName = new Map<string, Flow[]>();
    for (const flow of flows) {
      if (flow.hostname === null || flow.application === 'dns') continue;
      // One socket through the CLAT is one attempt: its IPv6 leg stands for it.
      if (flow.twin !== null && flow.family === 4) continue;
      const list = byName.get(flow.hostname);
      if (list) list.push(flow);
      else byName.set(flow.hostname, [flow]);
    }
    const names = new Set([...this.names.keys(), ...byName.keys()]);
    names.delete(IPV4ONLY_ARPA);
    return [...names].sort(compareHostnames).map((name) => {
      const facts = this.names.get(name);
      const attempts = (byName.get(name) ?? []).sort((a, b) => a.firstTs - b.firstTs);
      const socketFamily = (f: Flow): 4 | 6 => (f.path === 'clat' || f.path === 'native-v4' ? 4 : 6);
      const first = attempts[0];
      const firstV6 = attempts.find((f) => socketFamily(f) === 6);
      const firstV4 = attempts.find((f) => socketFamily(f) === 4);
      const aaaa = [...(facts?.aaaa ?? [])];
      const synthesized = aaaa.filter((a) => nat64Of(parseAddress(a).bytes) !== null);
      return {
        name,
        queried: [...(facts?.queried ?? [])].sort(),
        a: [...(facts?.a ?? [])],
        nativeAaaa: aaaa.filter((a) => !synthesized.includes(a)),
        synthesizedAaaa: synthesized,
        flows: attempts.map((f) => f.id),
        firstAttemptFamily: first ? socketFamily(first) : null,
        firstAttemptTs: first?.firstTs ?? null,
        firstIpv6AttemptTs: firstV6?.firstTs ?? null,
        firstIpv4AttemptTs: firstV4?.firstTs ?? null,
        fallbackDelayMs: firstV6 && firstV4 && firstV4.firstTs >= firstV6.firstTs ? Math.round((firstV4.firstTs - firstV6.firstTs) * 1e6) / 1e3 : null,
        ipv6Failed: attempts.some((f) => socketFamily(f) === 6 && f.transport === 'tcp' && f.established === false),
      };
    });
  }
}

function emptyTotals(): PathTotals {
  return { 'native-v6': 0, nat64: 0, clat: 0, 'native-v4': 0 };
}

/** Totals by path; a CLAT socket seen as both legs is counted once, by its IPv6 leg (what crossed the air). */
function summarize(flows: Flow[], icmp4: number, icmp6: number, otherIp: number, nonIp: number): CaptureAnalysis['summary'] {
  const bytesByPath = emptyTotals();
  const flowsByPath = emptyTotals();
  let total = 0;
  for (const flow of flows) {
    if (flow.twin !== null && flow.family === 4) continue;
    bytesByPath[flow.path] += flow.bytes;
    flowsByPath[flow.path]++;
    total += flow.bytes;
  }
  const shareByPath = emptyTotals();
  for (const path of Object.keys(shareByPath) as FlowPath[]) shareByPath[path] = total === 0 ? 0 : bytesByPath[path] / total;
  return { bytesByPath, flowsByPath, shareByPath, icmpPackets: { v4: icmp4, v6: icmp6 }, otherIpPackets: otherIp, nonIpPackets: nonIp };
}
