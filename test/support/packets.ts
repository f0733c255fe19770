/**
 * Byte-exact packet and capture-file builders for the analyzer's unit tests.
 *
 * Pure: no I/O, no clock, no randomness (the "random" bytes of TLS and QUIC are a seeded
 * sequence), so the same call always yields the same bytes. Every checksum is real; tshark
 * verifies the builders in test/unit/packets.test.ts.
 *
 * Composition: transport builders (`tcp`, `udp`, `icmpv4Echo`, `icmpv6Echo`) return an
 * {@link UpperLayer} whose checksum is finished by `ipv4`/`ipv6` once the addresses are known,
 * so `ipv6({ src, dst, payload: tcp({...}) })` is correct without repeating the addresses.
 * Use {@link upperLayerBytes} when the segment is needed on its own.
 */
import dnsPacket from 'dns-packet';
import type { RecordType, StringRecordType } from 'dns-packet';
import ipaddr from 'ipaddr.js';

// ---------------------------------------------------------------------------------------------
// Protocol numbers
// ---------------------------------------------------------------------------------------------

/** EtherType values (IEEE 802 numbers registry). */
export const ETHERTYPE = {
  IPV4: 0x0800, // RFC 894
  ARP: 0x0806, // RFC 826
  VLAN: 0x8100, // IEEE 802.1Q customer tag
  IPV6: 0x86dd, // RFC 8200 / RFC 2464
  QINQ: 0x88a8, // IEEE 802.1ad service tag
} as const;

/** IP protocol / IPv6 Next Header numbers (IANA protocol-numbers). */
export const IP_PROTOCOL = {
  HOP_BY_HOP: 0, // RFC 8200 §4.3
  ICMP: 1, // RFC 792
  TCP: 6, // RFC 9293
  UDP: 17, // RFC 768
  ROUTING: 43, // RFC 8200 §4.4
  FRAGMENT: 44, // RFC 8200 §4.5
  ICMPV6: 58, // RFC 4443
  NO_NEXT_HEADER: 59, // RFC 8200 §4.7
  DESTINATION_OPTIONS: 60, // RFC 8200 §4.6
} as const;

/** Capture link types (tcpdump.org/linktypes.html; pcap and pcapng share the numbers). */
export const LINKTYPE = {
  NULL: 0, // BSD loopback, 4-byte address family in the capturing host's byte order
  ETHERNET: 1,
  DLT_RAW: 12, // raw IP as DLT_RAW is numbered on some BSDs; readers map it to RAW
  RAW: 101, // raw IPv4 or IPv6, version nibble decides
  LINUX_SLL: 113, // Linux "cooked" v1, 16-byte header (tcpdump -i any)
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276, // Linux "cooked" v2, 20-byte header with interface index
} as const;

/** Address families seen in DLT_NULL headers; AF_INET6 differs per BSD. */
export const NULL_FAMILY = {
  INET: 2,
  INET6_BSD: 24, // NetBSD, OpenBSD, BSD/OS
  INET6_FREEBSD: 28,
  INET6_DARWIN: 30, // macOS, iOS
} as const;
export type NullFamily = (typeof NULL_FAMILY)[keyof typeof NULL_FAMILY];

/** Linux packet types (linux/if_packet.h), carried by LINUX_SLL and LINUX_SLL2. */
export const SLL_PACKET_TYPE = {
  HOST: 0,
  BROADCAST: 1,
  MULTICAST: 2,
  OTHERHOST: 3,
  OUTGOING: 4,
} as const;

/** ARPHRD_* hardware types (linux/if_arp.h) for the SLL hatype field. */
export const ARPHRD = {
  ETHER: 1,
  NONE: 0xfffe, // e.g. rmnet and tun interfaces on Android
} as const;

/** DNS RCODEs (RFC 1035 §4.1.1, RFC 6895). */
export const DNS_RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

/** TLS numbers (IANA TLS parameters; RFC 8446 for 1.3). */
export const TLS = {
  CONTENT_HANDSHAKE: 0x16,
  HANDSHAKE_CLIENT_HELLO: 1,
  VERSION_1_0: 0x0301, // record-layer version of a first ClientHello, RFC 8446 §5.1
  VERSION_1_2: 0x0303,
  VERSION_1_3: 0x0304,
  EXT_SERVER_NAME: 0, // RFC 6066 §3
  EXT_SUPPORTED_GROUPS: 10, // RFC 8422
  EXT_EC_POINT_FORMATS: 11, // RFC 8422
  EXT_SIGNATURE_ALGORITHMS: 13, // RFC 8446 §4.2.3
  EXT_ALPN: 16, // RFC 7301
  EXT_SUPPORTED_VERSIONS: 43, // RFC 8446 §4.2.1
  EXT_PSK_KEY_EXCHANGE_MODES: 45, // RFC 8446 §4.2.9
  EXT_KEY_SHARE: 51, // RFC 8446 §4.2.8
  GROUP_X25519: 0x001d, // RFC 8446 §4.2.7
  GROUP_SECP256R1: 0x0017,
} as const;

/** QUIC numbers (RFC 9000). */
export const QUIC = {
  VERSION_1: 0x00000001,
  MIN_INITIAL_DATAGRAM: 1200, // RFC 9000 §14.1
} as const;

/** pcapng block types and option codes (draft-ietf-opsawg-pcapng). */
export const PCAPNG = {
  BLOCK_SECTION_HEADER: 0x0a0d0d0a,
  BLOCK_INTERFACE_DESCRIPTION: 0x00000001,
  BLOCK_SIMPLE_PACKET: 0x00000003,
  BLOCK_ENHANCED_PACKET: 0x00000006,
  BYTE_ORDER_MAGIC: 0x1a2b3c4d,
  OPT_ENDOFOPT: 0,
  OPT_COMMENT: 1,
  IF_NAME: 2,
  IF_TSRESOL: 9,
} as const;

/** pcap file magics (draft-ietf-opsawg-pcap §4). */
export const PCAP_MAGIC = {
  MICROSECOND: 0xa1b2c3d4,
  NANOSECOND: 0xa1b23c4d,
} as const;

// ---------------------------------------------------------------------------------------------
// Byte helpers
// ---------------------------------------------------------------------------------------------

function concat(parts: readonly Uint8Array[]): Buffer {
  return Buffer.concat(parts);
}

function u8(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff);
}

function u16(value: number, littleEndian = false): Uint8Array {
  const bytes = new Uint8Array(2);
  new DataView(bytes.buffer).setUint16(0, value, littleEndian);
  return bytes;
}

function u32(value: number, littleEndian = false): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value >>> 0, littleEndian);
  return bytes;
}

function u24(value: number): Uint8Array {
  return u32(value).subarray(1);
}

function ascii(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

/** Prefixes `body` with its length in `width` bytes (TLS vectors, DNS over TCP). */
function lengthPrefixed(width: 1 | 2 | 3, body: Uint8Array): Uint8Array {
  const prefix = width === 1 ? u8(body.length) : width === 2 ? u16(body.length) : u24(body.length);
  return concat([prefix, body]);
}

function zeros(length: number): Uint8Array {
  return new Uint8Array(length);
}

function paddingTo(length: number, multiple: number): number {
  return (multiple - (length % multiple)) % multiple;
}

/** RFC 1071 one's-complement sum, folded and inverted. */
export function internetChecksum(bytes: Uint8Array): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2 === 1) sum += (buf[buf.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Deterministic filler for fields real stacks fill at random (TLS random, QUIC payload):
 * xorshift32, so captures stay byte-identical across runs.
 */
export function seededBytes(length: number, seed = 0x6c616236): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = state & 0xff;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------------

/** Parses '192.0.2.1' or '2001:db8::1' into 4 or 16 network-order bytes. */
export function addressBytes(address: string): Uint8Array {
  if (!ipaddr.isValid(address)) throw new Error(`not an IP address: '${address}'`);
  return Uint8Array.from(ipaddr.parse(address).toByteArray());
}

function familyBytes(address: string, length: 4 | 16, field: string): Uint8Array {
  const bytes = addressBytes(address);
  if (bytes.length !== length) {
    throw new Error(`${field} '${address}' is not an IPv${length === 4 ? 4 : 6} address`);
  }
  return bytes;
}

/** Parses 'aa:bb:cc:dd:ee:ff' (or '-' separated) into 6 bytes. */
export function macBytes(mac: string): Uint8Array {
  const octets = mac.split(/[:-]/);
  if (octets.length !== 6 || !octets.every((o) => /^[0-9a-fA-F]{2}$/.test(o))) {
    throw new Error(`not a MAC address: '${mac}'`);
  }
  return Uint8Array.from(octets.map((o) => parseInt(o, 16)));
}

// ---------------------------------------------------------------------------------------------
// Upper layers: TCP, UDP, ICMP
// ---------------------------------------------------------------------------------------------

/** Source and destination address bytes (4 or 16 each) for a pseudo-header. */
export interface PseudoHeaderAddresses {
  src: Uint8Array;
  dst: Uint8Array;
}

/**
 * A transport segment waiting for its IP addresses: `ipv4`/`ipv6` call `encode` with theirs,
 * so the checksum covers the right pseudo-header.
 */
export interface UpperLayer {
  /** IPv4 Protocol / IPv6 Next Header value for this segment. */
  readonly protocol: number;
  encode(addresses: PseudoHeaderAddresses): Uint8Array;
}

/** RFC 9293 §3.1 (IPv4) and RFC 8200 §8.1 (IPv6) pseudo-headers. */
function pseudoHeader(addresses: PseudoHeaderAddresses, protocol: number, length: number): Uint8Array {
  const { src, dst } = addresses;
  if (src.length !== dst.length) throw new Error('pseudo-header: src and dst are different families');
  if (src.length === 4) return concat([src, dst, u8(0), u8(protocol), u16(length)]);
  return concat([src, dst, u32(length), zeros(3), u8(protocol)]);
}

/** Writes the checksum of `pseudo + segment` at `offset` in `segment`. */
function withChecksum(segment: Uint8Array, offset: number, pseudo: Uint8Array, zeroMeansNone = false): Uint8Array {
  const out = Buffer.from(segment);
  out.writeUInt16BE(0, offset);
  let checksum = internetChecksum(concat([pseudo, out]));
  // RFC 768: a computed 0 is sent as all ones, since 0 means "no checksum" for UDP.
  if (zeroMeansNone && checksum === 0) checksum = 0xffff;
  out.writeUInt16BE(checksum, offset);
  return out;
}

/** Finishes an upper layer for standalone use (e.g. a decoder fed from the transport header). */
export function upperLayerBytes(layer: UpperLayer, src: string, dst: string): Uint8Array {
  return layer.encode({ src: addressBytes(src), dst: addressBytes(dst) });
}

export interface TcpFlags {
  fin?: boolean;
  syn?: boolean;
  rst?: boolean;
  psh?: boolean;
  ack?: boolean;
  urg?: boolean;
  ece?: boolean;
  cwr?: boolean;
}

/** The options a Linux or Android SYN carries, encoded in Linux's order. */
export interface TcpOptionSet {
  mss?: number;
  sackPermitted?: boolean;
  timestamps?: { value: number; echo: number };
  windowScale?: number;
}

export interface TcpOptions {
  srcPort: number;
  dstPort: number;
  /** @default 0 */
  seq?: number;
  /** Acknowledgement number. @default 0 */
  ack?: number;
  flags: TcpFlags;
  /** @default 65535 */
  window?: number;
  /** Raw option bytes (padded with EOL to 4) or the common SYN options. */
  options?: Uint8Array | TcpOptionSet;
  /** @default empty */
  payload?: Uint8Array;
}

function tcpFlagsByte(flags: TcpFlags): number {
  const bits: Array<[boolean | undefined, number]> = [
    [flags.fin, 0x01],
    [flags.syn, 0x02],
    [flags.rst, 0x04],
    [flags.psh, 0x08],
    [flags.ack, 0x10],
    [flags.urg, 0x20],
    [flags.ece, 0x40],
    [flags.cwr, 0x80],
  ];
  return bits.reduce((byte, [set, bit]) => (set ? byte | bit : byte), 0);
}

/** RFC 9293 §3.2 (MSS), RFC 2018 (SACK), RFC 7323 (timestamps, window scale). */
function tcpOptionBytes(options: Uint8Array | TcpOptionSet | undefined): Uint8Array {
  if (options === undefined) return zeros(0);
  let raw: Uint8Array;
  if (options instanceof Uint8Array) {
    raw = options;
  } else {
    const parts: Uint8Array[] = [];
    if (options.mss !== undefined) parts.push(u8(2), u8(4), u16(options.mss));
    if (options.sackPermitted) parts.push(u8(4), u8(2));
    if (options.timestamps) {
      parts.push(u8(8), u8(10), u32(options.timestamps.value), u32(options.timestamps.echo));
    }
    if (options.windowScale !== undefined) parts.push(u8(1), u8(3), u8(3), u8(options.windowScale));
    raw = concat(parts);
  }
  const padded = concat([raw, zeros(paddingTo(raw.length, 4))]);
  if (padded.length > 40) throw new Error(`tcp: ${padded.length} bytes of options exceed 40`);
  return padded;
}

export function tcp(options: TcpOptions): UpperLayer {
  const optionBytes = tcpOptionBytes(options.options);
  const payload = options.payload ?? zeros(0);
  const header = concat([
    u16(options.srcPort),
    u16(options.dstPort),
    u32(options.seq ?? 0),
    u32(options.ack ?? 0),
    u8(((20 + optionBytes.length) / 4) << 4),
    u8(tcpFlagsByte(options.flags)),
    u16(options.window ?? 65535),
    u16(0), // checksum, filled by encode
    u16(0), // urgent pointer
    optionBytes,
  ]);
  const segment = concat([header, payload]);
  return {
    protocol: IP_PROTOCOL.TCP,
    encode: (addresses) => withChecksum(segment, 16, pseudoHeader(addresses, IP_PROTOCOL.TCP, segment.length)),
  };
}

export interface UdpOptions {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export function udp(options: UdpOptions): UpperLayer {
  const length = 8 + options.payload.length;
  const datagram = concat([u16(options.srcPort), u16(options.dstPort), u16(length), u16(0), options.payload]);
  return {
    protocol: IP_PROTOCOL.UDP,
    encode: (addresses) => withChecksum(datagram, 6, pseudoHeader(addresses, IP_PROTOCOL.UDP, length), true),
  };
}

export interface EchoOptions {
  /** @default 0 */
  id?: number;
  /** @default 0 */
  seq?: number;
  /** Echo Reply instead of Echo Request. @default false */
  reply?: boolean;
  /** @default 32 bytes of 0x61.. like ping's pattern */
  data?: Uint8Array;
}

function echoMessage(type: number, options: EchoOptions): Buffer {
  const data = options.data ?? Uint8Array.from({ length: 32 }, (_, i) => 0x61 + (i % 23));
  return concat([u8(type), u8(0), u16(0), u16(options.id ?? 0), u16(options.seq ?? 0), data]);
}

/** ICMP Echo (RFC 792): type 8 request / 0 reply; checksum over the message only. */
export function icmpv4Echo(options: EchoOptions = {}): UpperLayer {
  const message = echoMessage(options.reply ? 0 : 8, options);
  return {
    protocol: IP_PROTOCOL.ICMP,
    encode: () => withChecksum(message, 2, zeros(0)),
  };
}

/** ICMPv6 Echo (RFC 4443 §4): type 128 request / 129 reply; checksum with pseudo-header. */
export function icmpv6Echo(options: EchoOptions = {}): UpperLayer {
  const message = echoMessage(options.reply ? 129 : 128, options);
  return {
    protocol: IP_PROTOCOL.ICMPV6,
    encode: (addresses) => withChecksum(message, 2, pseudoHeader(addresses, IP_PROTOCOL.ICMPV6, message.length)),
  };
}

// ---------------------------------------------------------------------------------------------
// IPv4
// ---------------------------------------------------------------------------------------------

interface Ipv4Header {
  src: string;
  dst: string;
  /** @default 64 */
  ttl?: number;
  /** Identification. @default 0 */
  id?: number;
  /** DSCP/ECN byte. @default 0 */
  tos?: number;
  /** Raw option bytes, padded with End of Option List to 4 (RFC 791 §3.1). */
  options?: Uint8Array;
  /** Fragment offset in bytes (a multiple of 8). @default 0 */
  fragOffset?: number;
  /** @default false */
  moreFragments?: boolean;
  /** @default false */
  dontFragment?: boolean;
}

/** IPv4 payload: an {@link UpperLayer} (protocol implied) or raw bytes with `proto`. */
export type Ipv4Options = Ipv4Header & ({ payload: UpperLayer; proto?: number } | { payload: Uint8Array; proto: number });

function resolvePayload(
  payload: Uint8Array | UpperLayer,
  protocol: number | undefined,
  addresses: PseudoHeaderAddresses,
): { protocol: number; bytes: Uint8Array } {
  if (payload instanceof Uint8Array) {
    if (protocol === undefined) throw new Error('raw IP payload needs its protocol number');
    return { protocol, bytes: payload };
  }
  return { protocol: protocol ?? payload.protocol, bytes: payload.encode(addresses) };
}

function checkFragmentOffset(offset: number, family: string): void {
  if (offset % 8 !== 0 || offset < 0 || offset > 0xffff) {
    throw new Error(`${family}: fragment offset ${offset} is not a multiple of 8 in 0..65535`);
  }
}

/** IPv4 header (RFC 791) with a correct header checksum. */
export function ipv4(options: Ipv4Options): Uint8Array {
  const addresses = {
    src: familyBytes(options.src, 4, 'ipv4 src'),
    dst: familyBytes(options.dst, 4, 'ipv4 dst'),
  };
  const { protocol, bytes } = resolvePayload(options.payload, options.proto, addresses);
  const rawOptions = options.options ?? zeros(0);
  const ipOptions = concat([rawOptions, zeros(paddingTo(rawOptions.length, 4))]);
  if (ipOptions.length > 40) throw new Error(`ipv4: ${ipOptions.length} bytes of options exceed 40`);
  const fragOffset = options.fragOffset ?? 0;
  checkFragmentOffset(fragOffset, 'ipv4');
  const flags = (options.dontFragment ? 0x4000 : 0) | (options.moreFragments ? 0x2000 : 0);
  const headerLength = 20 + ipOptions.length;
  const header = concat([
    u8(0x40 | (headerLength / 4)),
    u8(options.tos ?? 0),
    u16(headerLength + bytes.length),
    u16(options.id ?? 0),
    u16(flags | (fragOffset / 8)),
    u8(options.ttl ?? 64),
    u8(protocol),
    u16(0), // header checksum, below
    addresses.src,
    addresses.dst,
    ipOptions,
  ]);
  header.writeUInt16BE(internetChecksum(header), 10);
  return concat([header, bytes]);
}

export type FragmentIpv4Options = Ipv4Options & {
  /** Payload bytes per fragment; a multiple of 8 (the last fragment may be shorter). */
  fragmentSize: number;
};

/**
 * Splits one datagram into IPv4 fragments, in order. The transport checksum is computed once
 * over the whole datagram, as the sender does. Options go into the first fragment only.
 */
export function fragmentIpv4(options: FragmentIpv4Options): Uint8Array[] {
  const { fragmentSize, payload, proto, options: ipOptions, ...header } = options;
  checkFragmentSize(fragmentSize, 'ipv4');
  const addresses = { src: familyBytes(header.src, 4, 'ipv4 src'), dst: familyBytes(header.dst, 4, 'ipv4 dst') };
  const whole = resolvePayload(payload, proto, addresses);
  return splitPayload(whole.bytes, fragmentSize).map(({ offset, chunk, more }) =>
    ipv4({
      ...header,
      ...(offset === 0 && ipOptions ? { options: ipOptions } : {}),
      proto: whole.protocol,
      payload: chunk,
      fragOffset: offset,
      moreFragments: more,
    }),
  );
}

function checkFragmentSize(size: number, family: string): void {
  if (size <= 0 || size % 8 !== 0) throw new Error(`${family}: fragmentSize ${size} is not a positive multiple of 8`);
}

function splitPayload(bytes: Uint8Array, size: number): Array<{ offset: number; chunk: Uint8Array; more: boolean }> {
  const pieces: Array<{ offset: number; chunk: Uint8Array; more: boolean }> = [];
  for (let offset = 0; offset < bytes.length || offset === 0; offset += size) {
    const chunk = bytes.subarray(offset, offset + size);
    pieces.push({ offset, chunk, more: offset + size < bytes.length });
  }
  return pieces;
}

// ---------------------------------------------------------------------------------------------
// IPv6
// ---------------------------------------------------------------------------------------------

/**
 * An IPv6 extension header (RFC 8200 §4). `body` is what follows Next Header and Hdr Ext Len:
 * options headers are padded with Pad1/PadN to 8 octets; a routing body must already fill
 * a multiple of 8 with those 2 bytes. Fragment offsets are in bytes.
 */
export type Ipv6ExtensionHeader =
  | { type: 0 | 60; body?: Uint8Array }
  | { type: 43; body?: Uint8Array }
  | { type: 44; offset?: number; moreFragments?: boolean; id?: number };

interface Ipv6Header {
  src: string;
  dst: string;
  /** @default 64 */
  hopLimit?: number;
  /** @default 0 */
  trafficClass?: number;
  /** @default 0 */
  flowLabel?: number;
  /** In order from the fixed header; chained by their Next Header fields. @default [] */
  extHeaders?: readonly Ipv6ExtensionHeader[];
}

/**
 * IPv6 payload: an {@link UpperLayer} (protocol implied) or raw bytes with `nextHeader`.
 * `nextHeader` is the upper-layer protocol after any extension headers; the fixed header's
 * Next Header is derived from the chain.
 */
export type Ipv6Options = Ipv6Header & ({ payload: UpperLayer; nextHeader?: number } | { payload: Uint8Array; nextHeader: number });

/** RFC 8200 §4.2: Pad1 for one byte, PadN for more. */
function optionPadding(length: number): Uint8Array {
  if (length === 0) return zeros(0);
  if (length === 1) return u8(0);
  return concat([u8(1), u8(length - 2), zeros(length - 2)]);
}

// RFC 4727 experimental routing type with Segments Left 0: parsed by everyone, routes nowhere.
const DEFAULT_ROUTING_BODY = Uint8Array.of(253, 0, 0, 0, 0, 0);

function extensionHeaderBytes(header: Ipv6ExtensionHeader, nextHeader: number): Uint8Array {
  if (header.type === IP_PROTOCOL.FRAGMENT) {
    const offset = header.offset ?? 0;
    checkFragmentOffset(offset, 'ipv6');
    // The 13-bit offset counts 8-octet units from bit 3, so a byte offset is already in place.
    return concat([u8(nextHeader), u8(0), u16(offset | (header.moreFragments ? 1 : 0)), u32(header.id ?? 0)]);
  }
  let body: Uint8Array;
  if (header.type === IP_PROTOCOL.ROUTING) {
    body = header.body ?? DEFAULT_ROUTING_BODY;
    if ((2 + body.length) % 8 !== 0) throw new Error(`ipv6: routing header of ${2 + body.length} bytes is not a multiple of 8`);
  } else {
    const options = header.body ?? zeros(0);
    body = concat([options, optionPadding(paddingTo(2 + options.length, 8))]);
  }
  return concat([u8(nextHeader), u8((2 + body.length) / 8 - 1), body]);
}

function extensionChain(headers: readonly Ipv6ExtensionHeader[], upperProtocol: number): Uint8Array {
  return concat(headers.map((header, i) => extensionHeaderBytes(header, headers[i + 1]?.type ?? upperProtocol)));
}

/**
 * IPv6 packet (RFC 8200). The transport checksum uses `dst`; with a routing header whose
 * Segments Left is not 0, the real final destination would differ (RFC 8200 §8.1).
 */
export function ipv6(options: Ipv6Options): Uint8Array {
  const addresses = {
    src: familyBytes(options.src, 16, 'ipv6 src'),
    dst: familyBytes(options.dst, 16, 'ipv6 dst'),
  };
  const { protocol, bytes } = resolvePayload(options.payload, options.nextHeader, addresses);
  const headers = options.extHeaders ?? [];
  const chain = extensionChain(headers, protocol);
  const payloadLength = chain.length + bytes.length;
  if (payloadLength > 0xffff) throw new Error(`ipv6: payload of ${payloadLength} bytes needs a jumbogram`);
  const trafficClass = options.trafficClass ?? 0;
  const flowLabel = options.flowLabel ?? 0;
  return concat([
    u32(((6 << 28) | ((trafficClass & 0xff) << 20) | (flowLabel & 0xfffff)) >>> 0),
    u16(payloadLength),
    u8(headers[0]?.type ?? protocol),
    u8(options.hopLimit ?? 64),
    addresses.src,
    addresses.dst,
    chain,
    bytes,
  ]);
}

export type FragmentIpv6Options = Ipv6Options & {
  /** Fragmentable bytes per fragment; a multiple of 8 (the last fragment may be shorter). */
  fragmentSize: number;
  /** Fragment header Identification. @default 0 */
  id?: number;
};

/**
 * Splits one packet into IPv6 fragments (RFC 8200 §4.5), in order. `extHeaders` form the
 * unfragmentable part repeated in each fragment; the upper layer is the fragmentable part.
 */
export function fragmentIpv6(options: FragmentIpv6Options): Uint8Array[] {
  const { fragmentSize, id, payload, nextHeader, ...header } = options;
  checkFragmentSize(fragmentSize, 'ipv6');
  const addresses = { src: familyBytes(header.src, 16, 'ipv6 src'), dst: familyBytes(header.dst, 16, 'ipv6 dst') };
  const whole = resolvePayload(payload, nextHeader, addresses);
  const unfragmentable = header.extHeaders ?? [];
  return splitPayload(whole.bytes, fragmentSize).map(({ offset, chunk, more }) =>
    ipv6({
      ...header,
      extHeaders: [...unfragmentable, { type: 44, offset, moreFragments: more, id: id ?? 0 }],
      nextHeader: whole.protocol,
      payload: chunk,
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Link layers
// ---------------------------------------------------------------------------------------------

/** EtherType for an IP packet, from its version nibble. */
export function etherTypeOf(ipPacket: Uint8Array): number {
  const version = (ipPacket[0] ?? 0) >> 4;
  if (version === 4) return ETHERTYPE.IPV4;
  if (version === 6) return ETHERTYPE.IPV6;
  throw new Error(`cannot infer the EtherType of a packet with IP version nibble ${version}; pass it`);
}

export interface EthernetOptions {
  /** @default '02:00:00:00:00:01' */
  src?: string;
  /** @default '02:00:00:00:00:02' */
  dst?: string;
  /** VLAN IDs, outermost first; with two or more, the outermost is an 802.1ad S-tag (0x88a8). */
  vlan?: readonly number[];
  payload: Uint8Array;
  /** @default inferred from the IP version of `payload` */
  etherType?: number;
}

/** Ethernet II frame without FCS or minimum-size padding, as a capturing host records it. */
export function ethernet(options: EthernetOptions): Uint8Array {
  const vlan = options.vlan ?? [];
  const tags = vlan.map((id, i) => concat([u16(i === 0 && vlan.length > 1 ? ETHERTYPE.QINQ : ETHERTYPE.VLAN), u16(id & 0x0fff)]));
  return concat([
    macBytes(options.dst ?? '02:00:00:00:00:02'),
    macBytes(options.src ?? '02:00:00:00:00:01'),
    ...tags,
    u16(options.etherType ?? etherTypeOf(options.payload)),
    options.payload,
  ]);
}

interface SllCommon {
  /** {@link SLL_PACKET_TYPE}. @default HOST (0) */
  pktType?: number;
  /** Link-layer source address. @default '02:00:00:00:00:01' */
  addr?: string;
  /** {@link ARPHRD}. @default ETHER (1) */
  hatype?: number;
  /** EtherType. @default inferred from the IP version of `payload` */
  protocol?: number;
  payload: Uint8Array;
}

export type SllOptions = SllCommon;

function sllAddress(addr: string | undefined): { length: number; padded: Uint8Array } {
  const mac = macBytes(addr ?? '02:00:00:00:00:01');
  return { length: mac.length, padded: concat([mac, zeros(8 - mac.length)]) };
}

/** LINUX_SLL (113) 16-byte header, all fields big-endian. */
export function sll(options: SllOptions): Uint8Array {
  const address = sllAddress(options.addr);
  return concat([
    u16(options.pktType ?? SLL_PACKET_TYPE.HOST),
    u16(options.hatype ?? ARPHRD.ETHER),
    u16(address.length),
    address.padded,
    u16(options.protocol ?? etherTypeOf(options.payload)),
    options.payload,
  ]);
}

export type Sll2Options = SllCommon & { ifIndex: number };

/** LINUX_SLL2 (276) 20-byte header, all fields big-endian. */
export function sll2(options: Sll2Options): Uint8Array {
  const address = sllAddress(options.addr);
  return concat([
    u16(options.protocol ?? etherTypeOf(options.payload)),
    u16(0), // reserved
    u32(options.ifIndex),
    u16(options.hatype ?? ARPHRD.ETHER),
    u8(options.pktType ?? SLL_PACKET_TYPE.HOST),
    u8(address.length),
    address.padded,
    options.payload,
  ]);
}

export interface NullLoopbackOptions {
  family: NullFamily;
  payload: Uint8Array;
  /** Byte order of the capturing host. @default true */
  littleEndian?: boolean;
}

/** DLT_NULL (0): the family is in the capturing host's byte order, not network order. */
export function nullLoopback(options: NullLoopbackOptions): Uint8Array {
  return concat([u32(options.family, options.littleEndian ?? true), options.payload]);
}

/** Raw IP link types (RAW 101, DLT_RAW 12, IPV4 228, IPV6 229) carry the IP packet as is. */
export function rawIp(ipPacket: Uint8Array): Uint8Array {
  return ipPacket;
}

// ---------------------------------------------------------------------------------------------
// Application payloads: DNS, TLS, QUIC
// ---------------------------------------------------------------------------------------------

/** A dns-packet type name, or a number for types dns-packet has no name for (HTTPS is 65). */
export type DnsQueryType = RecordType | number;

function dnsType(qtype: DnsQueryType): RecordType {
  // dns-packet encodes 'UNKNOWN_<n>' as type n at runtime; its typings do not list that form.
  return typeof qtype === 'number' ? (`UNKNOWN_${qtype}` as RecordType) : qtype;
}

const STRING_RECORD_TYPES: readonly string[] = ['A', 'AAAA', 'CNAME', 'DNAME', 'NS', 'PTR'];

function isStringRecordType(type: RecordType): type is StringRecordType {
  return STRING_RECORD_TYPES.includes(type);
}

export interface DnsQueryOptions {
  id: number;
  name: string;
  qtype: DnsQueryType;
  /** @default true */
  recursionDesired?: boolean;
}

export function dnsQuery(options: DnsQueryOptions): Uint8Array {
  return dnsPacket.encode({
    type: 'query',
    id: options.id,
    flags: options.recursionDesired === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ type: dnsType(options.qtype), name: options.name, class: 'IN' }],
  });
}

export interface DnsResponseOptions {
  id: number;
  name: string;
  qtype: DnsQueryType;
  /** Record data of type `qtype` for `name`: addresses for A/AAAA, names for CNAME/PTR. */
  answers: readonly string[];
  /** {@link DNS_RCODE}. @default NOERROR */
  rcode?: number;
  /** @default 300 */
  ttl?: number;
}

export function dnsResponse(options: DnsResponseOptions): Uint8Array {
  const type = dnsType(options.qtype);
  if (options.answers.length > 0 && !isStringRecordType(type)) {
    throw new Error(`dnsResponse: answers of type ${type} cannot be given as strings`);
  }
  const answers = isStringRecordType(type)
    ? options.answers.map((data) => ({ type, name: options.name, class: 'IN' as const, ttl: options.ttl ?? 300, data }))
    : [];
  return dnsPacket.encode({
    type: 'response',
    id: options.id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | ((options.rcode ?? 0) & 0xf),
    questions: [{ type, name: options.name, class: 'IN' }],
    answers,
  });
}

/** DNS over TCP (RFC 1035 §4.2.2, RFC 7766): a 2-byte length before each message. */
export function dnsOverTcp(message: Uint8Array): Uint8Array {
  return lengthPrefixed(2, message);
}

export interface TlsClientHelloOptions {
  /** server_name host; omitted means no SNI extension (as for an IP-literal URL). */
  sni?: string;
  /** ALPN protocols, e.g. ['h2', 'http/1.1']. @default none */
  alpn?: readonly string[];
  /** Offer TLS 1.3 (supported_versions, key_share); false gives a TLS 1.2-only hello. @default true */
  tls13?: boolean;
  /** 32-byte client random. @default seeded bytes */
  random?: Uint8Array;
  /** 32-byte x25519 public key for key_share. @default seeded bytes */
  keyShare?: Uint8Array;
}

function tlsExtension(type: number, body: Uint8Array): Uint8Array {
  return concat([u16(type), lengthPrefixed(2, body)]);
}

function u16List(values: readonly number[]): Uint8Array {
  return concat(values.map((v) => u16(v)));
}

// A browser-like offer: TLS 1.3 suites, then ECDHE-AES-GCM and ChaCha20 (RFC 8446 B.4, RFC 5289, RFC 7905).
const CIPHER_SUITES = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8] as const;
// ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256, ecdsa_secp384r1_sha384, rsa_pss_rsae_sha384, rsa_pkcs1_sha384
const SIGNATURE_ALGORITHMS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501] as const;

function clientHelloExtensions(options: TlsClientHelloOptions): Uint8Array[] {
  const tls13 = options.tls13 ?? true;
  const extensions: Uint8Array[] = [];
  if (options.sni !== undefined) {
    const hostName = concat([u8(0), lengthPrefixed(2, ascii(options.sni))]); // name_type host_name
    extensions.push(tlsExtension(TLS.EXT_SERVER_NAME, lengthPrefixed(2, hostName)));
  }
  extensions.push(
    tlsExtension(TLS.EXT_SUPPORTED_GROUPS, lengthPrefixed(2, u16List([TLS.GROUP_X25519, TLS.GROUP_SECP256R1]))),
    tlsExtension(TLS.EXT_EC_POINT_FORMATS, lengthPrefixed(1, u8(0))), // uncompressed
    tlsExtension(TLS.EXT_SIGNATURE_ALGORITHMS, lengthPrefixed(2, u16List(SIGNATURE_ALGORITHMS))),
  );
  if (options.alpn && options.alpn.length > 0) {
    const names = concat(options.alpn.map((p) => lengthPrefixed(1, ascii(p))));
    extensions.push(tlsExtension(TLS.EXT_ALPN, lengthPrefixed(2, names)));
  }
  if (tls13) {
    const keyShare = options.keyShare ?? seededBytes(32, 0x6b657973);
    if (keyShare.length !== 32) throw new Error(`tlsClientHello: x25519 key share is ${keyShare.length} bytes, not 32`);
    extensions.push(
      tlsExtension(TLS.EXT_SUPPORTED_VERSIONS, lengthPrefixed(1, u16List([TLS.VERSION_1_3, TLS.VERSION_1_2]))),
      tlsExtension(TLS.EXT_PSK_KEY_EXCHANGE_MODES, lengthPrefixed(1, u8(1))), // psk_dhe_ke
      tlsExtension(TLS.EXT_KEY_SHARE, lengthPrefixed(2, concat([u16(TLS.GROUP_X25519), lengthPrefixed(2, keyShare)]))),
    );
  }
  return extensions;
}

/** A complete TLS record holding one ClientHello (RFC 8446 §4.1.2), as a TCP payload. */
export function tlsClientHello(options: TlsClientHelloOptions = {}): Uint8Array {
  const random = options.random ?? seededBytes(32, 0x72616e64);
  if (random.length !== 32) throw new Error(`tlsClientHello: random is ${random.length} bytes, not 32`);
  const body = concat([
    u16(TLS.VERSION_1_2), // legacy_version, RFC 8446 §4.1.2
    random,
    lengthPrefixed(1, seededBytes(32, 0x73657373)), // legacy_session_id, non-empty for middlebox compatibility
    lengthPrefixed(2, u16List(CIPHER_SUITES)),
    lengthPrefixed(1, u8(0)), // compression: null only
    lengthPrefixed(2, concat(clientHelloExtensions(options))),
  ]);
  const handshake = concat([u8(TLS.HANDSHAKE_CLIENT_HELLO), lengthPrefixed(3, body)]);
  return concat([u8(TLS.CONTENT_HANDSHAKE), u16(TLS.VERSION_1_0), lengthPrefixed(2, handshake)]);
}

/** QUIC variable-length integer (RFC 9000 §16). */
export function quicVarint(value: number): Uint8Array {
  if (value < 0x40) return u8(value);
  if (value < 0x4000) return u16(0x4000 | value);
  if (value < 0x40000000) return u32((0x80000000 | value) >>> 0);
  throw new Error(`quicVarint: ${value} needs 8 bytes; not supported here`);
}

export interface QuicInitialOptions {
  /** Destination Connection ID, 0..20 bytes (8+ from a client's first Initial). */
  dcid: Uint8Array;
  scid: Uint8Array;
  /** @default 1 */
  version?: number;
  /** @default empty */
  token?: Uint8Array;
  /** @default 0 */
  packetNumber?: number;
  /** The packet is padded to at least this many bytes. @default 1200 */
  minSize?: number;
}

/**
 * A QUIC long-header Initial packet (RFC 9000 §17.2.2) as a UDP payload. The payload is seeded
 * filler, not real AEAD output: decoders see a well-formed header and an undecryptable body.
 */
export function quicInitial(options: QuicInitialOptions): Uint8Array {
  for (const [name, cid] of [
    ['dcid', options.dcid],
    ['scid', options.scid],
  ] as const) {
    if (cid.length > 20) throw new Error(`quicInitial: ${name} of ${cid.length} bytes exceeds 20`);
  }
  const packetNumber = u32(options.packetNumber ?? 0); // 4-byte packet number
  const token = options.token ?? zeros(0);
  // Header form 1, fixed bit 1, type Initial (00), reserved 00, packet number length 4 (11).
  const firstByte = 0b1100_0011;
  const headerBeforeLength = concat([
    u8(firstByte),
    u32(options.version ?? QUIC.VERSION_1),
    lengthPrefixed(1, options.dcid),
    lengthPrefixed(1, options.scid),
    quicVarint(token.length),
    token,
  ]);
  const minSize = options.minSize ?? QUIC.MIN_INITIAL_DATAGRAM;
  // The Length field is a 2-byte varint (< 16384), so the payload size is known up front;
  // 16 bytes at least, like the smallest AEAD tag.
  const payloadLength = Math.max(16, minSize - headerBeforeLength.length - 2 - packetNumber.length);
  const length = packetNumber.length + payloadLength;
  if (length >= 0x4000) throw new Error(`quicInitial: length ${length} exceeds a 2-byte varint`);
  return concat([headerBeforeLength, u16(0x4000 | length), packetNumber, seededBytes(payloadLength, 0x71756963)]);
}

// ---------------------------------------------------------------------------------------------
// Capture files
// ---------------------------------------------------------------------------------------------

export interface CapturedPacket {
  /**
   * Seconds since the epoch as a float (kept to the microsecond: a double near 1.7e9 cannot
   * hold nanoseconds), or nanoseconds since the epoch as a bigint (exact).
   */
  ts: number | bigint;
  data: Uint8Array;
  /** Length on the wire. @default data.length */
  origLen?: number;
}

/** Timestamp as an integer count of 1/unitsPerSecond since the epoch. */
function timestampUnits(ts: number | bigint, unitsPerSecond: bigint): bigint {
  return (timestampNanoseconds(ts) * unitsPerSecond) / 1_000_000_000n;
}

function timestampNanoseconds(ts: number | bigint): bigint {
  if (typeof ts === 'bigint') return ts;
  const seconds = Math.floor(ts);
  const micros = Math.round((ts - seconds) * 1e6);
  return BigInt(seconds) * 1_000_000_000n + BigInt(micros) * 1000n;
}

export interface PcapOptions {
  linkType: number;
  packets: readonly CapturedPacket[];
  /** Nanosecond timestamps (magic 0xa1b23c4d). @default false */
  nanosecond?: boolean;
  /** Write big-endian, as a big-endian host would. @default false */
  bigEndian?: boolean;
  /** Header snaplen; longer packets are cut to it, keeping their original length. @default 262144 */
  snaplen?: number;
}

/** A classic pcap file (draft-ietf-opsawg-pcap), version 2.4. */
export function pcapFile(options: PcapOptions): Uint8Array {
  const le = !options.bigEndian;
  const snaplen = options.snaplen ?? 262144;
  const unitsPerSecond = options.nanosecond ? 1_000_000_000n : 1_000_000n;
  const header = concat([
    u32(options.nanosecond ? PCAP_MAGIC.NANOSECOND : PCAP_MAGIC.MICROSECOND, le),
    u16(2, le),
    u16(4, le),
    u32(0, le), // thiszone
    u32(0, le), // sigfigs
    u32(snaplen, le),
    u32(options.linkType, le),
  ]);
  const records = options.packets.map((packet) => {
    const units = timestampUnits(packet.ts, unitsPerSecond);
    const data = packet.data.subarray(0, snaplen);
    return concat([
      u32(Number(units / unitsPerSecond), le),
      u32(Number(units % unitsPerSecond), le),
      u32(data.length, le),
      u32(packet.origLen ?? packet.data.length, le),
      data,
    ]);
  });
  return concat([header, ...records]);
}

export interface PcapngInterface {
  linkType: number;
  /** 0 means no limit. @default 0 */
  snaplen?: number;
  /** if_tsresol byte: 10^-n, or 2^-n with the high bit set. Omitted means microseconds. */
  tsresol?: number;
  /** if_name option. */
  name?: string;
}

export interface PcapngPacket extends CapturedPacket {
  /** Index into the section's interfaces. */
  iface: number;
  /** opt_comment on the Enhanced Packet Block. */
  comment?: string;
}

export interface PcapngExtraBlock {
  /** Index of the packet this block follows; -1 puts it right after the interface blocks. */
  after: number;
  type: number;
  body: Uint8Array;
}

export interface PcapngSection {
  interfaces: readonly PcapngInterface[];
  packets: readonly PcapngPacket[];
  /** Blocks of other types, e.g. unknown ones a reader must skip. @default [] */
  extraBlocks?: readonly PcapngExtraBlock[];
  /** Write packets of interface 0 as Simple Packet Blocks (no timestamp, no options). @default false */
  simplePackets?: boolean;
  /** @default false */
  bigEndian?: boolean;
  /** shb_comment option. */
  comment?: string;
}

export interface PcapngOptions extends PcapngSection {
  /** Further sections, each with its own Section Header Block, after the first. @default [] */
  sections?: readonly PcapngSection[];
}

/** One option TLV, value padded to 4 bytes. */
function pcapngOption(code: number, value: Uint8Array, le: boolean): Uint8Array {
  return concat([u16(code, le), u16(value.length, le), value, zeros(paddingTo(value.length, 4))]);
}

function pcapngOptions(options: ReadonlyArray<[number, Uint8Array]>, le: boolean): Uint8Array {
  if (options.length === 0) return zeros(0);
  return concat([...options.map(([code, value]) => pcapngOption(code, value, le)), pcapngOption(PCAPNG.OPT_ENDOFOPT, zeros(0), le)]);
}

/** Block type, total length, body padded to 4, total length again. */
function pcapngBlock(type: number, body: Uint8Array, le: boolean): Uint8Array {
  const padded = concat([body, zeros(paddingTo(body.length, 4))]);
  const totalLength = 12 + padded.length;
  return concat([u32(type, le), u32(totalLength, le), padded, u32(totalLength, le)]);
}

function sectionHeaderBlock(section: PcapngSection, le: boolean): Uint8Array {
  const options: Array<[number, Uint8Array]> = section.comment ? [[PCAPNG.OPT_COMMENT, ascii(section.comment)]] : [];
  const body = concat([
    u32(PCAPNG.BYTE_ORDER_MAGIC, le),
    u16(1, le),
    u16(0, le),
    Uint8Array.from({ length: 8 }, () => 0xff), // section length -1: not given
    pcapngOptions(options, le),
  ]);
  return pcapngBlock(PCAPNG.BLOCK_SECTION_HEADER, body, le);
}

function interfaceDescriptionBlock(iface: PcapngInterface, le: boolean): Uint8Array {
  const options: Array<[number, Uint8Array]> = [];
  if (iface.name !== undefined) options.push([PCAPNG.IF_NAME, ascii(iface.name)]);
  if (iface.tsresol !== undefined) options.push([PCAPNG.IF_TSRESOL, u8(iface.tsresol)]);
  const body = concat([u16(iface.linkType, le), u16(0, le), u32(iface.snaplen ?? 0, le), pcapngOptions(options, le)]);
  return pcapngBlock(PCAPNG.BLOCK_INTERFACE_DESCRIPTION, body, le);
}

function unitsPerSecond(tsresol: number | undefined): bigint {
  if (tsresol === undefined) return 1_000_000n;
  const exponent = BigInt(tsresol & 0x7f);
  return tsresol & 0x80 ? 2n ** exponent : 10n ** exponent;
}

function enhancedPacketBlock(packet: PcapngPacket, iface: PcapngInterface, le: boolean): Uint8Array {
  const units = timestampUnits(packet.ts, unitsPerSecond(iface.tsresol));
  const options: Array<[number, Uint8Array]> = packet.comment !== undefined ? [[PCAPNG.OPT_COMMENT, ascii(packet.comment)]] : [];
  const body = concat([
    u32(packet.iface, le),
    u32(Number(units >> 32n), le),
    u32(Number(units & 0xffffffffn), le),
    u32(packet.data.length, le),
    u32(packet.origLen ?? packet.data.length, le),
    packet.data,
    zeros(paddingTo(packet.data.length, 4)),
    pcapngOptions(options, le),
  ]);
  return pcapngBlock(PCAPNG.BLOCK_ENHANCED_PACKET, body, le);
}

function simplePacketBlock(packet: PcapngPacket, iface: PcapngInterface, le: boolean): Uint8Array {
  const origLen = packet.origLen ?? packet.data.length;
  // Readers derive the captured length as min(original length, snaplen); the data must match.
  const captured = iface.snaplen ? Math.min(origLen, iface.snaplen) : origLen;
  if (captured !== packet.data.length) {
    throw new Error(`pcapngFile: simple packet of ${packet.data.length} bytes, but its lengths imply ${captured}`);
  }
  if (packet.comment !== undefined) throw new Error('pcapngFile: a Simple Packet Block cannot carry a comment');
  return pcapngBlock(PCAPNG.BLOCK_SIMPLE_PACKET, concat([u32(origLen, le), packet.data]), le);
}

function pcapngSection(section: PcapngSection): Uint8Array {
  const le = !section.bigEndian;
  const extras = section.extraBlocks ?? [];
  const extrasAfter = (index: number): Uint8Array[] => extras.filter((block) => block.after === index).map((block) => pcapngBlock(block.type, block.body, le));
  const packetBlocks = section.packets.flatMap((packet, index) => {
    const iface = section.interfaces[packet.iface];
    if (!iface) throw new Error(`pcapngFile: packet ${index} names interface ${packet.iface}, which is not declared`);
    const block = section.simplePackets && packet.iface === 0 ? simplePacketBlock(packet, iface, le) : enhancedPacketBlock(packet, iface, le);
    return [block, ...extrasAfter(index)];
  });
  return concat([
    sectionHeaderBlock(section, le),
    ...section.interfaces.map((iface) => interfaceDescriptionBlock(iface, le)),
    ...extrasAfter(-1),
    ...packetBlocks,
  ]);
}

/** A pcapng file (draft-ietf-opsawg-pcapng): one section, plus any in `sections`. */
export function pcapngFile(options: PcapngOptions): Uint8Array {
  const { sections = [], ...first } = options;
  return concat([first, ...sections].map(pcapngSection));
}
