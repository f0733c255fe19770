/**
 * A fast pcap writer for the analyzer's scale tests: a million records written in place into
 * one growing Buffer, each record's link, IP and TCP/UDP headers set field by field, checksums
 * included.
 *
 * packets.ts builds each packet from parts (a Buffer.concat per header), exact to the byte and
 * right for a few hundred packets; at a million packets that costs seconds of a test's budget.
 * The payloads (DNS messages through dns-packet, TLS ClientHellos) still come from packets.ts,
 * so one capture format has one builder of each message.
 */
import { addressBytes, ARPHRD, dnsQuery, ETHERTYPE, IP_PROTOCOL, LINKTYPE, PCAP_MAGIC, SLL_PACKET_TYPE } from './packets.js';

/** The link types this writer frames: Ethernet II, and LINUX_SLL2 as `tcpdump -i any` on a handset writes. */
export type SynthLinkType = typeof LINKTYPE.ETHERNET | typeof LINKTYPE.LINUX_SLL2;

/** TCP header flag bits (RFC 9293 §3.1). */
export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** One TCP segment or UDP datagram, as the writer frames it. */
export interface SynthSegment {
  /** Seconds since the epoch, kept to the microsecond. */
  ts: number;
  /** 4 bytes (IPv4) or 16 (IPv6); copied at once, so a caller may reuse one array for every packet. */
  src: Uint8Array;
  dst: Uint8Array;
  srcPort: number;
  dstPort: number;
  /** A TCP segment with these header fields; absent: a UDP datagram. */
  tcp?: { seq: number; ack: number; flags: number };
  /** Copied at once, like the addresses. @default empty */
  payload?: Uint8Array;
}

/** The link header's length before the IP packet. */
const LINK_HEADER = { [LINKTYPE.ETHERNET]: 14, [LINKTYPE.LINUX_SLL2]: 20 } as const;
const RECORD_HEADER = 16;
const EMPTY = new Uint8Array(0);

/** Adds big-endian 16-bit words of `bytes[start, end)` to `sum` (RFC 1071), an odd last byte padded with zero. */
function addWords(bytes: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** Copies a few bytes: a loop beats TypedArray.set at 4 or 16 bytes, a million times over. */
function copyInto(to: Uint8Array, from: Uint8Array, at: number): void {
  for (let i = 0; i < from.length; i++) to[at + i] = from[i]!;
}

function folded(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A classic little-endian microsecond pcap, written record by record into memory. */
export class PcapWriter {
  private buffer: Buffer;
  private view: DataView;
  private end = 24;
  /** Records written so far. */
  records = 0;

  /** `capacity`: a first guess of the file's size in bytes; the buffer doubles past it. */
  constructor(
    readonly linkType: SynthLinkType,
    capacity = 1 << 20,
  ) {
    this.buffer = Buffer.alloc(Math.max(capacity, 4096));
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
    const b = this.buffer;
    b.writeUInt32LE(PCAP_MAGIC.MICROSECOND, 0);
    b.writeUInt16LE(2, 4);
    b.writeUInt16LE(4, 6);
    b.writeUInt32LE(262144, 16); // snaplen
    b.writeUInt32LE(linkType, 20);
  }

  /** Appends one record holding `segment`. */
  add(segment: SynthSegment): this {
    const payload = segment.payload ?? EMPTY;
    const six = segment.src.length === 16;
    if (segment.src.length !== (six ? 16 : 4) || segment.dst.length !== segment.src.length)
      throw new Error(`PcapWriter.add: addresses of ${segment.src.length} and ${segment.dst.length} bytes; give two of 4 or two of 16`);
    const transportLength = (segment.tcp ? 20 : 8) + payload.length;
    const ipLength = (six ? 40 : 20) + transportLength;
    const link = LINK_HEADER[this.linkType];
    const frame = link + ipLength;
    this.reserve(RECORD_HEADER + frame);
    const b = this.buffer;
    const v = this.view;
    let at = this.end;

    const seconds = Math.floor(segment.ts);
    const micros = Math.min(999_999, Math.round((segment.ts - seconds) * 1e6));
    v.setUint32(at, seconds, true);
    v.setUint32(at + 4, micros, true);
    v.setUint32(at + 8, frame, true);
    v.setUint32(at + 12, frame, true);
    at += RECORD_HEADER;

    const etherType = six ? ETHERTYPE.IPV6 : ETHERTYPE.IPV4;
    if (this.linkType === LINKTYPE.ETHERNET) {
      b.fill(0, at, at + 12);
      b[at] = 0x02; // locally administered MACs 02:00:00:00:00:02 <- 02:00:00:00:00:01
      b[at + 5] = 0x02;
      b[at + 6] = 0x02;
      b[at + 11] = 0x01;
      v.setUint16(at + 12, etherType);
    } else {
      v.setUint16(at, etherType);
      v.setUint16(at + 2, 0); // reserved
      v.setUint32(at + 4, 5); // interface index: one interface, as rmnet
      v.setUint16(at + 8, ARPHRD.NONE);
      b[at + 10] = SLL_PACKET_TYPE.HOST;
      b[at + 11] = 0; // no link-layer address on a raw-IP interface
      b.fill(0, at + 12, at + 20);
    }
    at += link;

    const protocol = segment.tcp ? IP_PROTOCOL.TCP : IP_PROTOCOL.UDP;
    let pseudo: number;
    if (six) {
      v.setUint32(at, 0x60000000);
      v.setUint16(at + 4, transportLength);
      b[at + 6] = protocol;
      b[at + 7] = 64; // hop limit
      copyInto(b, segment.src, at + 8);
      copyInto(b, segment.dst, at + 24);
      pseudo = addWords(b, at + 8, at + 40, transportLength + protocol);
      at += 40;
    } else {
      b[at] = 0x45;
      b[at + 1] = 0;
      v.setUint16(at + 2, ipLength);
      v.setUint32(at + 4, 0x00004000); // identification 0, don't fragment
      b[at + 8] = 64; // TTL
      b[at + 9] = protocol;
      v.setUint16(at + 10, 0);
      copyInto(b, segment.src, at + 12);
      copyInto(b, segment.dst, at + 16);
      v.setUint16(at + 10, folded(addWords(b, at, at + 20, 0)));
      pseudo = addWords(b, at + 12, at + 20, transportLength + protocol);
      at += 20;
    }

    const transport = at;
    v.setUint16(at, segment.srcPort);
    v.setUint16(at + 2, segment.dstPort);
    let checksumAt: number;
    if (segment.tcp) {
      v.setUint32(at + 4, segment.tcp.seq >>> 0);
      v.setUint32(at + 8, segment.tcp.ack >>> 0);
      b[at + 12] = 5 << 4; // data offset: 5 words, no options
      b[at + 13] = segment.tcp.flags;
      v.setUint16(at + 14, 65535); // window
      v.setUint32(at + 16, 0); // checksum, urgent pointer
      checksumAt = at + 16;
      at += 20;
    } else {
      v.setUint16(at + 4, transportLength);
      v.setUint16(at + 6, 0);
      checksumAt = at + 6;
      at += 8;
    }
    b.set(payload, at);
    at += payload.length;
    const checksum = folded(addWords(b, transport, at, pseudo));
    // A UDP checksum computed as 0 is sent as all ones (RFC 768); 0 means "none".
    v.setUint16(checksumAt, checksum === 0 && !segment.tcp ? 0xffff : checksum);

    this.end = at;
    this.records++;
    return this;
  }

  /** The capture so far: a view of the writer's buffer, not a copy. */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.end);
  }

  private reserve(length: number): void {
    if (this.end + length <= this.buffer.length) return;
    const grown = Buffer.alloc(Math.max(this.buffer.length * 2, this.end + length));
    this.buffer.copy(grown, 0, 0, this.end);
    this.buffer = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }
}

/**
 * Address `n` of a numbered range: `base` with `n` added to its low 32 bits
 * (`numberedAddress('10.0.0.0', 258)` is 10.0.1.2). For writing a million distinct endpoints.
 */
export function numberedAddress(base: string, n: number): Uint8Array {
  const bytes = addressBytes(base);
  const low = bytes.length - 4;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(low, (view.getUint32(low) + n) >>> 0);
  return bytes;
}

export interface TcpConversation {
  ts: number;
  client: Uint8Array;
  server: Uint8Array;
  clientPort: number;
  serverPort: number;
  /** What the client sends after the handshake. */
  request: Uint8Array;
  /** What the server sends back after the request. @default nothing */
  response?: Uint8Array;
  /** Payload bytes per segment: 1 sends one byte per segment. @default one segment per message */
  segmentSize?: number;
}

/**
 * A whole TCP connection: handshake, the request in `segmentSize` pieces, the response likewise,
 * the client's ACK of all of it, then FIN from both sides. Each segment is 1 µs after the one
 * before, so the connection's first and last packets fall at the same times whatever the size,
 * up to the segments in between.
 */
export function tcpConversation(writer: PcapWriter, c: TcpConversation): void {
  const response = c.response ?? EMPTY;
  const up = { src: c.client, dst: c.server, srcPort: c.clientPort, dstPort: c.serverPort };
  const down = { src: c.server, dst: c.client, srcPort: c.serverPort, dstPort: c.clientPort };
  let cseq = 1000;
  let sseq = 5000;
  writer.add({ ts: c.ts, ...up, tcp: { seq: cseq++, ack: 0, flags: TCP_FLAG.SYN } });
  writer.add({ ts: c.ts + 0.01, ...down, tcp: { seq: sseq++, ack: cseq, flags: TCP_FLAG.SYN | TCP_FLAG.ACK } });
  writer.add({ ts: c.ts + 0.02, ...up, tcp: { seq: cseq, ack: sseq, flags: TCP_FLAG.ACK } });
  let ts = c.ts + 0.03;
  const send = (side: typeof up, message: Uint8Array, seq: number, ack: number): number => {
    const size = c.segmentSize ?? Math.max(message.length, 1);
    for (let at = 0; at < message.length; at += size) {
      const piece = message.subarray(at, at + size);
      writer.add({ ts, ...side, tcp: { seq: seq + at, ack, flags: TCP_FLAG.PSH | TCP_FLAG.ACK }, payload: piece });
      ts += 0.000001;
    }
    return seq + message.length;
  };
  cseq = send(up, c.request, cseq, sseq);
  ts = c.ts + 0.05;
  sseq = send(down, response, sseq, cseq);
  ts = Math.max(ts, c.ts + 0.07);
  writer.add({ ts, ...up, tcp: { seq: cseq, ack: sseq, flags: TCP_FLAG.ACK } });
  writer.add({ ts: ts + 0.01, ...up, tcp: { seq: cseq, ack: sseq, flags: TCP_FLAG.FIN | TCP_FLAG.ACK } });
  writer.add({ ts: ts + 0.02, ...down, tcp: { seq: sseq, ack: cseq + 1, flags: TCP_FLAG.FIN | TCP_FLAG.ACK } });
  writer.add({ ts: ts + 0.03, ...up, tcp: { seq: cseq + 1, ack: sseq + 1, flags: TCP_FLAG.ACK } });
}

/**
 * DNS messages for a million distinct names without a million dns-packet encodes: one message
 * is encoded for `<prefix><digits>.<suffix>` (the digits a fixed-width decimal label), and each
 * call patches the digits wherever the name occurs, and the id, in place. The message returned is
 * the template itself, valid until the next call (PcapWriter.add copies it).
 */
export class NumberedDnsMessages {
  private readonly template: Uint8Array;
  /** Where the digits start, once per occurrence of the name (dns-packet does not compress names). */
  private readonly digitsAt: number[] = [];

  constructor(
    readonly prefix: string,
    readonly suffix: string,
    /** Encodes the message for a name, e.g. `(name) => dnsQuery({ id: 0, name, qtype: 'AAAA' })`. */
    encode: (name: string) => Uint8Array,
    readonly width = 8,
  ) {
    if (prefix.length + width > 63) throw new Error(`NumberedDnsMessages: a label of ${prefix.length + width} bytes; 63 at most (RFC 1035 §2.3.4)`);
    this.template = Uint8Array.from(encode(this.name(0)));
    const label = Buffer.from([prefix.length + width, ...Buffer.from(`${prefix}${'0'.repeat(width)}`)]);
    const bytes = Buffer.from(this.template.buffer, this.template.byteOffset, this.template.byteLength);
    for (let at = bytes.indexOf(label, 12); at >= 0; at = bytes.indexOf(label, at + label.length)) this.digitsAt.push(at + 1 + prefix.length);
    if (this.digitsAt.length === 0) throw new Error(`NumberedDnsMessages: the encoded message does not hold the name ${this.name(0)}`);
  }

  /** The name message `n` carries. */
  name(n: number): string {
    return `${this.prefix}${String(n).padStart(this.width, '0')}.${this.suffix}`;
  }

  /**
   * Message `n`: the name `name(n)`, DNS id n mod 65536; `tail` replaces the message's last bytes
   * (the address of a one-answer A or AAAA response, its last field).
   */
  message(n: number, tail?: Uint8Array): Uint8Array {
    const m = this.template;
    m[0] = (n >>> 8) & 0xff;
    m[1] = n & 0xff;
    for (const at of this.digitsAt) {
      let rest = n;
      for (let i = this.width - 1; i >= 0; i--) {
        m[at + i] = 0x30 + (rest % 10);
        rest = Math.floor(rest / 10);
      }
      if (rest !== 0) throw new Error(`NumberedDnsMessages: ${n} has more than ${this.width} digits`);
    }
    if (tail !== undefined) m.set(tail, m.length - tail.length);
    return m;
  }
}

/** Numbered queries of one type: `numberedDnsQueries('n', 'scale.example', 'AAAA').message(5)` asks AAAA of n00000005.scale.example. */
export function numberedDnsQueries(prefix: string, suffix: string, qtype: 'A' | 'AAAA'): NumberedDnsMessages {
  return new NumberedDnsMessages(prefix, suffix, (name) => dnsQuery({ id: 0, name, qtype }));
}
