/**
 * Link, network and transport header decoding into one reused view: no allocation per packet.
 * Each decode() either fills the view or names the damage (a fixed reason string).
 */

/** Link types we decode (tcpdump.org/linktypes.html). */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  /** OpenBSD's DLT_RAW value as written into some files. */
  RAW_OPENBSD: 12,
  RAW_BSD: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export const LINKTYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'NULL',
  1: 'ETHERNET',
  12: 'RAW',
  14: 'RAW',
  101: 'RAW',
  108: 'LOOP',
  113: 'LINUX_SLL',
  228: 'IPV4',
  229: 'IPV6',
  276: 'LINUX_SLL2',
};

/** EtherTypes (IEEE 802 numbers). */
const ETHERTYPE = { IPV4: 0x0800, IPV6: 0x86dd, VLAN: 0x8100, QINQ: 0x88a8, QINQ_OLD: 0x9100 } as const;

/** IP protocol numbers (IANA "Assigned Internet Protocol Numbers"). */
export const IPPROTO = {
  HOPOPTS: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  MOBILITY: 135,
  HIP: 139,
  SHIM6: 140,
} as const;

/** Socket address families a NULL/LOOP header may carry (BSD values differ per OS). */
const AF_INET = 2;
const AF_INET6 = new Set([10, 24, 28, 30]);

export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** Most extension headers one IPv6 packet may chain before we call it damage. */
const MAX_EXTENSION_HEADERS = 16;

/** What decode() found. Fields are valid only when `ok` is true and until the next decode(). */
export class PacketView {
  /** 4 or 6 for an IP packet, 0 for anything else (ARP, LLDP, ...). */
  family: 0 | 4 | 6 = 0;
  /** A fixed reason when a header is cut short or inconsistent; null when the packet is sound. */
  damage: string | null = null;
  /** Interface identity for duplicate detection: capture interface and SLL2 ifindex; -1 unknown. */
  ifaceKey = -1;
  ipOffset = 0;
  /** Bytes of the IP packet per its own header (may exceed what was captured). */
  ipLength = 0;
  srcOffset = 0;
  dstOffset = 0;
  /** Transport protocol after any extension headers. */
  protocol = 0;
  /** True for every fragment; `firstFragment` when it holds the transport header. */
  fragment = false;
  firstFragment = false;
  fragmentId = 0;
  /** Offset of the transport header, -1 when this fragment has none. */
  l4Offset = -1;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  tcpSeq = 0;
  tcpAck = 0;
  /** Transport checksum, part of the signature that recognises a duplicate. */
  l4Checksum = 0;
  /** Transport payload within the captured bytes. */
  payloadOffset = 0;
  payloadLength = 0;
  /** Transport payload length per the headers, even when the capture was cut by snaplen. */
  payloadWireLength = 0;
}

/**
 * Decodes one packet into `view`. Returns false when the packet is not IP or is damaged
 * (then `view.damage` says why); true when `view` describes an IP packet.
 */
export function decodePacket(view: PacketView, buf: Uint8Array, dv: DataView, offset: number, capLen: number, linkType: number, iface: number): boolean {
  view.family = 0;
  view.damage = null;
  view.ifaceKey = iface;
  const end = offset + capLen;
  let at = offset;
  let etherType: number;
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      if (capLen < 14) return damaged(view, 'Ethernet header cut short');
      etherType = dv.getUint16(at + 12);
      at += 14;
      break;
    }
    case LINKTYPE.LINUX_SLL: {
      // pkttype(2) hatype(2) halen(2) addr(8) protocol(2): no interface index. The link type,
      // packet type and link address stand in for it: the CLAT's TUN (hatype 65534) and the
      // Ethernet link differ, and a router's ingress copy (the neighbour's address, HOST) and
      // egress copy (our address, OUTGOING) differ, while two sends on one link are alike.
      if (capLen < 16) return damaged(view, 'LINUX_SLL header cut short');
      etherType = dv.getUint16(at + 14);
      view.ifaceKey = (iface * 0x10000 + dv.getUint16(at + 2)) ^ (dv.getUint16(at) << 24) ^ dv.getInt32(at + 6);
      at += 16;
      break;
    }
    case LINKTYPE.LINUX_SLL2: {
      // protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8)
      if (capLen < 20) return damaged(view, 'LINUX_SLL2 header cut short');
      etherType = dv.getUint16(at);
      view.ifaceKey = iface * 0x10000 + (dv.getUint32(at + 4) & 0xffff);
      at += 20;
      break;
    }
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (capLen < 4) return damaged(view, 'loopback header cut short');
      const be = dv.getUint32(at);
      const family = linkType === LINKTYPE.LOOP ? be : (be & 0xffff) === 0 ? dv.getUint32(at, true) : be;
      at += 4;
      if (family === AF_INET) etherType = ETHERTYPE.IPV4;
      else if (AF_INET6.has(family)) etherType = ETHERTYPE.IPV6;
      else return false;
      break;
    }
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_OPENBSD:
    case LINKTYPE.RAW_BSD:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6: {
      if (capLen < 1) return damaged(view, 'raw IP packet is empty');
      const version = buf[at]! >> 4;
      etherType = version === 4 ? ETHERTYPE.IPV4 : version === 6 ? ETHERTYPE.IPV6 : 0;
      break;
    }
    default:
      return false;
  }
  // 802.1Q / 802.1ad tags (IEEE 802.1Q): TCI(2) then the inner EtherType.
  for (let tags = 0; etherType === ETHERTYPE.VLAN || etherType === ETHERTYPE.QINQ || etherType === ETHERTYPE.QINQ_OLD; tags++) {
    if (tags === 4) return damaged(view, 'more than four VLAN tags');
    if (end - at < 4) return damaged(view, 'VLAN tag cut short');
    etherType = dv.getUint16(at + 2);
    at += 4;
  }
  if (etherType === ETHERTYPE.IPV4) return decodeIpv4(view, buf, dv, at, end);
  if (etherType === ETHERTYPE.IPV6) return decodeIpv6(view, buf, dv, at, end);
  return false;
}

function damaged(view: PacketView, reason: string): false {
  view.damage = reason;
  return false;
}

function decodeIpv4(view: PacketView, buf: Uint8Array, dv: DataView, at: number, end: number): boolean {
  if (end - at < 20) return damaged(view, 'IPv4 header cut short');
  const versionIhl = buf[at]!;
  if (versionIhl >> 4 !== 4) return damaged(view, 'IPv4 packet with another version number');
  const headerLength = (versionIhl & 0x0f) * 4;
  if (headerLength < 20) return damaged(view, 'IPv4 header length below 20');
  if (end - at < headerLength) return damaged(view, 'IPv4 options cut short');
  const totalLength = dv.getUint16(at + 2);
  if (totalLength < headerLength) return damaged(view, 'IPv4 total length shorter than its header');
  const flagsOffset = dv.getUint16(at + 6);
  const fragmentOffset = flagsOffset & 0x1fff;
  const moreFragments = (flagsOffset & 0x2000) !== 0;
  view.family = 4;
  view.ipOffset = at;
  view.ipLength = totalLength;
  view.srcOffset = at + 12;
  view.dstOffset = at + 16;
  view.protocol = buf[at + 9]!;
  view.fragment = fragmentOffset !== 0 || moreFragments;
  view.firstFragment = fragmentOffset === 0;
  view.fragmentId = dv.getUint16(at + 4);
  // Ethernet pads short frames: the IP total length, not the frame, bounds the packet.
  const ipEnd = Math.min(end, at + totalLength);
  return decodeTransport(view, buf, dv, at + headerLength, ipEnd, at + totalLength, fragmentOffset === 0);
}

function decodeIpv6(view: PacketView, buf: Uint8Array, dv: DataView, at: number, end: number): boolean {
  if (end - at < 40) return damaged(view, 'IPv6 header cut short');
  if (buf[at]! >> 4 !== 6) return damaged(view, 'IPv6 packet with another version number');
  const payloadLength = dv.getUint16(at + 4);
  view.family = 6;
  view.ipOffset = at;
  view.ipLength = 40 + payloadLength;
  view.srcOffset = at + 8;
  view.dstOffset = at + 24;
  view.fragment = false;
  view.firstFragment = true;
  view.fragmentId = 0;
  const wireEnd = at + 40 + payloadLength;
  const ipEnd = Math.min(end, wireEnd);
  let next = buf[at + 6]!;
  let cursor = at + 40;
  let hasTransport = true;
  // RFC 8200 section 4: walk the chain; every header advances by at least 8 bytes, so the walk
  // ends, and the count bound stops a chain crafted to be long.
  for (let count = 0; ; count++) {
    if (
      next === IPPROTO.HOPOPTS ||
      next === IPPROTO.ROUTING ||
      next === IPPROTO.DSTOPTS ||
      next === IPPROTO.MOBILITY ||
      next === IPPROTO.HIP ||
      next === IPPROTO.SHIM6
    ) {
      if (count === MAX_EXTENSION_HEADERS) return damaged(view, 'IPv6 extension header chain too long');
      if (ipEnd - cursor < 2) return damaged(view, 'IPv6 extension header cut short');
      const length = (buf[cursor + 1]! + 1) * 8;
      if (cursor + length > wireEnd) return damaged(view, 'IPv6 extension header overruns the packet');
      next = buf[cursor]!;
      cursor += length;
    } else if (next === IPPROTO.FRAGMENT) {
      if (count === MAX_EXTENSION_HEADERS) return damaged(view, 'IPv6 extension header chain too long');
      if (ipEnd - cursor < 8) return damaged(view, 'IPv6 fragment header cut short');
      const offsetFlags = dv.getUint16(cursor + 2);
      const fragmentOffset = offsetFlags >> 3;
      view.fragment = true;
      view.firstFragment = fragmentOffset === 0;
      view.fragmentId = dv.getUint32(cursor + 4);
      if (fragmentOffset !== 0) hasTransport = false;
      next = buf[cursor]!;
      cursor += 8;
    } else if (next === IPPROTO.AH) {
      // RFC 4302: AH length counts 4-byte words minus 2.
      if (ipEnd - cursor < 2) return damaged(view, 'IPv6 authentication header cut short');
      const length = (buf[cursor + 1]! + 2) * 4;
      if (cursor + length > wireEnd) return damaged(view, 'IPv6 extension header overruns the packet');
      next = buf[cursor]!;
      cursor += length;
    } else {
      break;
    }
    if (!hasTransport) break;
  }
  view.protocol = next;
  return decodeTransport(view, buf, dv, cursor, ipEnd, wireEnd, hasTransport);
}

function decodeTransport(view: PacketView, buf: Uint8Array, dv: DataView, at: number, end: number, wireEnd: number, hasTransport: boolean): boolean {
  view.l4Offset = -1;
  view.srcPort = 0;
  view.dstPort = 0;
  view.tcpFlags = 0;
  view.payloadOffset = at;
  view.payloadLength = Math.max(0, end - at);
  view.payloadWireLength = Math.max(0, wireEnd - at);
  if (!hasTransport) return true;
  if (view.protocol === IPPROTO.TCP) {
    if (end - at < 20) return damaged(view, 'TCP header cut short');
    const dataOffset = (buf[at + 12]! >> 4) * 4;
    if (dataOffset < 20) return damaged(view, 'TCP data offset below 20');
    view.l4Offset = at;
    view.srcPort = dv.getUint16(at);
    view.dstPort = dv.getUint16(at + 2);
    view.tcpSeq = dv.getUint32(at + 4);
    view.tcpAck = dv.getUint32(at + 8);
    view.tcpFlags = buf[at + 13]!;
    view.l4Checksum = dv.getUint16(at + 16);
    view.payloadOffset = Math.min(end, at + dataOffset);
    view.payloadLength = Math.max(0, end - at - dataOffset);
    view.payloadWireLength = Math.max(0, wireEnd - at - dataOffset);
    if (wireEnd - at < dataOffset) return damaged(view, 'TCP options overrun the packet');
    return true;
  }
  if (view.protocol === IPPROTO.UDP) {
    if (end - at < 8) return damaged(view, 'UDP header cut short');
    view.l4Offset = at;
    view.srcPort = dv.getUint16(at);
    view.dstPort = dv.getUint16(at + 2);
    view.l4Checksum = dv.getUint16(at + 6);
    view.payloadOffset = at + 8;
    view.payloadLength = end - at - 8;
    view.payloadWireLength = Math.max(0, wireEnd - at - 8);
    return true;
  }
  return true;
}
