/**
 * The capture analysis: flows, DNS, SNI, NAT64 prefixes, CLAT, paths and Happy Eyeballs facts.
 * Fed packet by packet (it is the reader's PacketSink), so it works on a file, a stream or a
 * capture still being written; document() (or report()) can be called at any moment.
 *
 * The per-packet path allocates nothing: flows are rows of typed arrays (state.ts) found through
 * an open-addressing table of integer hashes over the address words, and only DNS, TLS
 * ClientHellos and fragments (rare) build objects. The state stays inside `maxMemory`: past it,
 * new flows and queries are counted, not listed (a warning says so), never an out-of-memory crash.
 */
import {
  AddressError,
  type Nat64Prefix,
  canonicalAddress,
  IPV4ONLY_ARPA,
  isClatIpv4,
  nat64PrefixFromWellKnown,
  parseAddress,
  parseNat64Prefix,
  inNat64Prefix,
} from '../net/address.js';
import type { CaptureFormat, PacketSink } from '../capture/reader.js';
import { IPPROTO, PacketView, TCP_FLAG, decodePacket } from '../capture/decode.js';
import { decodeDns, DnsView } from './dns.js';
import { Pref64Observer } from './pref64.js';
import {
  AddressTable,
  ADDRESS_BYTES,
  APP_DNS,
  APP_QUIC,
  APP_TLS,
  ByteQueue,
  DnsLog,
  FLOW,
  FLOW_BYTES,
  FlowTable,
  fmix,
  IntColumn,
  FLOW_KEY,
  KEY_KIND,
  KEY_PORTS,
  KIND_TCP,
  KIND_V6,
  MAP_ENTRY,
  NameTable,
  PairSet,
  QUERY_BYTES,
  reserveRows,
  StringTable,
  TLS_COLLECTING,
  TLS_DONE,
  TLS_UNKNOWN,
} from './state.js';
import { buildDocument, materialize, type AnalysisState } from './document.js';
import { looksLikeQuicInitial, looksLikeTlsHandshake, MAX_CLIENT_HELLO, parseClientHello } from './tls.js';
import type { AnalysisDocument, AnalyzeOptions, CaptureAnalysis } from './types.js';

/** Two copies of one packet on two interfaces of an `-i any` capture arrive within this. */
const DUPLICATE_WINDOW_S = 0.01;
/** Fragment bookkeeping is bounded: the oldest entries go first. */
const MAX_FRAGMENT_ENTRIES = 4096;
/** DNS over TCP: bytes buffered per direction before giving up on a stream. */
const MAX_DNS_TCP_BUFFER = 65536 + 2;
const DNS_PORT = 53;
/** Slots of CaptureAnalyzer.recentFlows (a power of two: the top bits of a flow's hash pick its slot). */
const RECENT_FLOWS = 1024;
const RECENT_SHIFT = 32 - Math.log2(RECENT_FLOWS);
/** The default bound of the analysis state (AnalyzeOptions.maxMemory). */
export const DEFAULT_MAX_MEMORY = 1024 * 1024 * 1024;
/** Flows first seen past the bound: recent packet signatures kept for duplicate detection. */
const UNLISTED_SIGNATURES = 4096;
/** Flows first seen past the bound: distinct IPv6 addresses talking to NAT64 kept apart (CLAT or not is decided at the end). */
const UNLISTED_NAT64_CLIENTS = 1024;

/** A client's first bytes gathered across segments until its ClientHello can be read. */
interface TlsGather {
  bytes: ByteQueue;
  nextSeq: number;
  /** parseClientHello's `needBytes`: nothing changes before this many bytes are there. */
  needBytes: number;
  /** The first three bytes were seen to start a TLS handshake (a client may send fewer in its first segment). */
  verified: boolean;
}

/** In-order bytes of one TCP direction, for DNS over TCP (RFC 7766). */
interface TcpStream {
  nextSeq: number;
  pending: ByteQueue;
}

interface FragmentEntry {
  flow: number;
  packets: number;
  bytes: number;
}

/**
 * The names DNS answers gave one address, in capture order (consecutive repeats dropped), for the
 * addresses more than one name resolved to (the first answer of every address is in AddressTable).
 */
export interface AddressAnswers {
  times: number[];
  /** StringTable ids of the names. */
  names: number[];
  /** The same ids as a set, once the list is long enough for a scan to cost. */
  nameSet: Set<number> | null;
}

/** The addresses DNS answered for each name, distinct, in answer order: chains through two columns. */
export interface NameAnswerChains {
  /** name id -> first link, -1: none. */
  head: Int32Array;
  /** link -> address id. */
  address: IntColumn;
  /** link -> next link, -1: the last. */
  next: IntColumn;
}

/** Traffic of flows first seen after the state reached its bound: counted by path, not listed. */
export interface UnlistedTraffic {
  /** The packet number at which the bound was reached, 0: never. */
  atPacket: number;
  packets: number;
  bytes: number;
  dnsQueries: number;
  clientHellos: number;
  nativeV6: number;
  nativeV4: number;
  /** IPv4 bytes to or from 192.0.0.0/29 (a CLAT's IPv4 leg). */
  clatV4: number;
  /** IPv6 bytes to a NAT64 prefix by the other side's address (16 bytes as hex); "" for those past UNLISTED_NAT64_CLIENTS. */
  nat64ByClient: Map<string, number>;
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
  private now = Number.NEGATIVE_INFINITY;
  /** Set by findFlow: whether the packet went from the flow's client to its server. */
  private fromClient = false;
  /** Set by findFlow: the packet's 5-tuple hash (the same both ways). */
  private packetHash = 0;
  /** The previous packet's flow, tried before the hash table. */
  private lastFlow = -1;
  private readonly flows: FlowTable;
  /** DNS names and SNI, one id space (a flow's SNI is matched against answered names by id). */
  private readonly names = new NameTable();
  private readonly dnsView = new DnsView();
  /** The id of ipv4only.arpa once it was seen (RFC 7050 answers reveal the NAT64 prefix). */
  private ipv4onlyId = -1;
  private readonly qtypes = new StringTable();
  private readonly rcodes = new StringTable();
  private readonly dns: DnsLog;
  private readonly tlsGather = new Map<number, TlsGather>();
  private readonly dnsTcp = new Map<number, [TcpStream | null, TcpStream | null]>();

  private packetCount = 0;
  private byteCount = 0;
  // Numbers, never null: a field that once held null boxes every double stored into it.
  private firstTs = Number.POSITIVE_INFINITY;
  private lastTs = Number.NEGATIVE_INFINITY;
  private duplicates = 0;
  private icmp4 = 0;
  private icmp6 = 0;
  private otherIp = 0;
  private nonIp = 0;
  private readonly damage = new Map<string, { count: number; firstPacket: number }>();
  private readonly warnings: string[] = [];

  private readonly fragments = new Map<string, FragmentEntry>();
  /** Name id -> bit per query type id below 31 asked for it; bit 31: the name has DNS facts. */
  private nameQueried = new Int32Array(1024);
  /** Query type ids from 31 on, per name id (rare). */
  private readonly nameQueriedMore = new Map<number, Set<number>>();
  /** Names with DNS facts, in the order they were first seen. */
  private readonly factNames: number[] = [];
  /** Every address a DNS answer gave, with the first answer's name and time. */
  private readonly addresses: AddressTable;
  /** Addresses several names resolved to: all their answers. */
  private readonly moreAnswers = new Map<number, AddressAnswers>();
  /** (name, address) pairs seen, and each name's addresses in answer order. */
  private readonly nameAnswerPairs = new PairSet();
  private nameAnswerHead = new Int32Array(1024).fill(-1);
  private nameAnswerTail = new Int32Array(1024).fill(-1);
  private readonly nameAnswerAddress = new IntColumn();
  private readonly nameAnswerNext = new IntColumn();
  /** The current response's answers as address ids (reused). */
  private answerIds = new Int32Array(16);
  private readonly discoveredPrefixes = new Map<string, Nat64Prefix>();
  private readonly pref64 = new Pref64Observer();
  private readonly givenPrefixes: Nat64Prefix[];
  private readonly givenClat: string[];

  /** The bound of the state and the estimate of what lives outside the typed columns. */
  private readonly maxMemory: number;
  private looseBytes = 0;
  private full = false;
  private readonly unlisted: UnlistedTraffic = {
    atPacket: 0,
    packets: 0,
    bytes: 0,
    dnsQueries: 0,
    clientHellos: 0,
    nativeV6: 0,
    nativeV4: 0,
    clatV4: 0,
    nat64ByClient: new Map(),
  };
  private readonly unlistedSig = new Int32Array(UNLISTED_SIGNATURES);
  private readonly unlistedHash = new Int32Array(UNLISTED_SIGNATURES);
  private readonly unlistedIf = new Int32Array(UNLISTED_SIGNATURES);
  private readonly unlistedTs = new Float64Array(UNLISTED_SIGNATURES).fill(Number.NEGATIVE_INFINITY);
  private knownPrefixes: Nat64Prefix[] | null = null;

  constructor(options: AnalyzeOptions = {}) {
    this.givenPrefixes = (options.nat64Prefixes ?? []).map((p) => parseNat64Prefix(p, '--nat64-prefix'));
    this.givenClat = (options.clatAddresses ?? []).map((a) => {
      const parsed = parseAddress(a, '--clat-address');
      if (parsed.family !== 6) throw new AddressError(a, "is not an IPv6 address (a CLAT's IPv4 side is always 192.0.0.0/29)", '--clat-address');
      return canonicalAddress(a);
    });
    this.maxMemory = options.maxMemory ?? DEFAULT_MAX_MEMORY;
    if (!(Number.isFinite(this.maxMemory) && this.maxMemory > 0))
      throw new RangeError(
        `maxMemory: ${String(options.maxMemory)} is not a number of bytes above 0 (the bound of the analysis state; default ${DEFAULT_MAX_MEMORY})`,
      );
    // Reserved, not resident: a row costs memory once written (state.ts).
    // Reserving costs little memory but not nothing in time (V8 counts it, and collects): about
    // a row per KiB of capture, none beyond the bound, the first 1024 rows when the size is unknown.
    const size = options.sizeHint ?? 0;
    this.flows = new FlowTable(reserveRows(this.maxMemory, FLOW_BYTES, Math.min(1 << 20, size / 1024)));
    this.dns = new DnsLog(reserveRows(this.maxMemory, QUERY_BYTES, Math.min(1 << 19, size / 2048)));
    this.addresses = new AddressTable(reserveRows(this.maxMemory, ADDRESS_BYTES, Math.min(1 << 18, size / 4096)));
  }

  warning(message: string): void {
    if (this.warnings.length < 100) this.warnings.push(message);
  }

  /** The estimated bytes of the analysis state. */
  get stateBytes(): number {
    return (
      this.flows.stateBytes + this.dns.stateBytes + this.names.bytes + this.qtypes.bytes + this.rcodes.bytes + this.nameQueried.length * 4 + this.looseBytes
    );
  }

  /** Whether `more` bytes of state still fit; the first time they do not, the state is full. */
  private fits(more: number): boolean {
    if (this.full) return false;
    if (this.stateBytes + more <= this.maxMemory) return true;
    this.full = true;
    this.unlisted.atPacket = this.packetCount;
    return false;
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
    const row = this.findFlow();
    if (row < 0) {
      this.unlistedPacket(buf, origLen);
      return;
    }
    const fromClient = this.fromClient;
    if (this.isDuplicate(row, fromClient)) {
      this.duplicates++;
      return;
    }
    const flows = this.flows;
    flows.packets[row]!++;
    flows.bytes[row]! += origLen;
    flows.lastTs[row] = ts;
    if (v.fragment) this.firstFragment(buf, row);
    if (protocol === IPPROTO.TCP) this.tcp(row, buf, fromClient);
    else this.udp(row, buf, fromClient);
  }

  private routerAdvertisement(buf: Buffer): void {
    const v = this.view;
    const hopLimit = buf[v.ipOffset + 7]!;
    const damage = this.pref64.routerAdvertisement(buf, v.payloadOffset, v.payloadOffset + v.payloadLength, v.srcOffset, hopLimit, this.now);
    if (damage !== null) this.noteDamage(damage);
    this.knownPrefixes = null;
  }

  private noteDamage(reason: string): void {
    const seen = this.damage.get(reason);
    if (seen) seen.count++;
    else this.damage.set(reason, { count: 1, firstPacket: this.packetCount });
  }

  /**
   * The packet's key as a flow row holds it when the packet's sender is the client: source words
   * (0-3), destination words (4-7), ports (KEY_PORTS), kind (KEY_KIND). Reused for every packet.
   */
  private readonly packetKey = new Int32Array(FLOW_KEY);
  /**
   * The flows found last, by hash: RECENT_FLOWS slots of (row + 1, hash), a few KiB that stay in
   * the cache. With a million flows the hash slots span tens of MiB: the slot of a flow seen a few
   * hundred packets ago had left the cache (and the TLB), a third of findFlow's time (issue 19).
   */
  private readonly recentFlows = new Int32Array(2 * RECENT_FLOWS);

  /** 1: the row at `w` of `words` is the packet's flow, sent by its client; -1: by its server; 0: another flow. */
  private direction(words: Int32Array, w: number): number {
    const k = this.packetKey;
    if (words[w + KEY_KIND] !== k[KEY_KIND]) return 0;
    const ports = words[w + KEY_PORTS]!;
    const forward = k[KEY_PORTS]!;
    if (
      ports === forward &&
      words[w] === k[0] &&
      words[w + 4] === k[4] &&
      words[w + 1] === k[1] &&
      words[w + 2] === k[2] &&
      words[w + 3] === k[3] &&
      words[w + 5] === k[5] &&
      words[w + 6] === k[6] &&
      words[w + 7] === k[7]
    )
      return 1;
    if (
      ports === ((forward << 16) | (forward >>> 16)) &&
      words[w] === k[4] &&
      words[w + 4] === k[0] &&
      words[w + 1] === k[5] &&
      words[w + 2] === k[6] &&
      words[w + 3] === k[7] &&
      words[w + 5] === k[1] &&
      words[w + 6] === k[2] &&
      words[w + 7] === k[3]
    )
      return -1;
    return 0;
  }

  /**
   * The flow of the packet in `view`, created when new; sets `fromClient` and `packetHash`. Tried
   * in order: the previous packet's flow (a transfer is long runs of one flow), the recently found
   * flows, the hash slots. -1: a new flow the state has no room for.
   */
  private findFlow(): number {
    const dv = this.dv;
    const v = this.view;
    const t = this.flows;
    const words = t.words;
    const k = this.packetKey;
    const six = v.family === 6;
    const src = v.srcOffset;
    const dst = v.dstOffset;
    k[0] = dv.getInt32(src, true);
    k[1] = six ? dv.getInt32(src + 4, true) : 0;
    k[2] = six ? dv.getInt32(src + 8, true) : 0;
    k[3] = six ? dv.getInt32(src + 12, true) : 0;
    k[4] = dv.getInt32(dst, true);
    k[5] = six ? dv.getInt32(dst + 4, true) : 0;
    k[6] = six ? dv.getInt32(dst + 8, true) : 0;
    k[7] = six ? dv.getInt32(dst + 12, true) : 0;
    const sp = v.srcPort;
    const dp = v.dstPort;
    k[KEY_PORTS] = (sp << 16) | dp;
    k[KEY_KIND] = (six ? KIND_V6 : 0) | (v.protocol === IPPROTO.TCP ? KIND_TCP : 0);
    const last = this.lastFlow;
    if (last >= 0) {
      const d = this.direction(words, last * FLOW_KEY);
      if (d !== 0) {
        this.fromClient = d > 0;
        return last;
      }
    }
    // The same both ways: the client's and the server's halves are summed.
    const ea =
      Math.imul(k[0]!, 0x9e3779b1) + Math.imul(k[1]!, 0x85ebca77) + Math.imul(k[2]!, 0xc2b2ae3d) + Math.imul(k[3]!, 0x27d4eb2f) + Math.imul(sp, 0x165667b1);
    const eb =
      Math.imul(k[4]!, 0x9e3779b1) + Math.imul(k[5]!, 0x85ebca77) + Math.imul(k[6]!, 0xc2b2ae3d) + Math.imul(k[7]!, 0x27d4eb2f) + Math.imul(dp, 0x165667b1);
    const hash = fmix((ea + eb + v.protocol * 0x3c6ef372 + v.family) | 0);
    this.packetHash = hash;
    const recent = this.recentFlows;
    const r = 2 * (hash >>> RECENT_SHIFT);
    if (recent[r] !== 0 && recent[r + 1] === hash) {
      const f = recent[r]! - 1;
      const d = this.direction(words, f * FLOW_KEY);
      if (d !== 0) {
        this.fromClient = d > 0;
        return (this.lastFlow = f);
      }
    }
    const slots = t.slots;
    const mask = t.mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = slots[2 * i]!;
      if (slot === 0) break;
      if (slots[2 * i + 1] !== hash) continue;
      const d = this.direction(words, (slot - 1) * FLOW_KEY);
      if (d !== 0) {
        this.fromClient = d > 0;
        recent[r] = slot;
        recent[r + 1] = hash;
        return (this.lastFlow = slot - 1);
      }
    }
    if (!this.fits(t.costOfNext())) return -1;
    // The client sent the first packet, unless that packet answers a SYN we did not see.
    const answersSyn = v.protocol === IPPROTO.TCP && (v.tcpFlags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) === (TCP_FLAG.SYN | TCP_FLAG.ACK);
    const row = t.add();
    const w = row * FLOW_KEY;
    // add() may have grown the columns: write through the table, not the array read above.
    const out = t.words;
    // By hand: TypedArray.set costs more than ten stores (180 ns a flow, measured).
    const from = answersSyn ? 4 : 0;
    for (let i = 0; i < 4; i++) {
      out[w + i] = k[from + i]!;
      out[w + 4 + i] = k[4 - from + i]!;
    }
    out[w + KEY_PORTS] = answersSyn ? (dp << 16) | sp : k[KEY_PORTS]!;
    out[w + KEY_KIND] = k[KEY_KIND]!;
    t.firstTs[row] = this.now;
    t.index(row, hash);
    recent[r] = row + 1;
    recent[r + 1] = hash;
    this.fromClient = !answersSyn;
    return (this.lastFlow = row);
  }

  /**
   * A copy of the same IP packet on another interface (`-i any`: the CLAT's TUN then the mobile
   * interface; a router's ingress then egress). TTL and the IP checksum may differ between the
   * copies, so the signature takes the transport header and IP identity, not the whole packet.
   */
  private signature(fromClient: boolean): number {
    const v = this.view;
    let sig = (v.l4Checksum << 16) ^ v.payloadWireLength ^ (fromClient ? 0x40000000 : 0);
    if (v.protocol === IPPROTO.TCP) sig ^= v.tcpSeq ^ Math.imul(v.tcpAck, 31) ^ (v.tcpFlags << 24);
    if (v.family === 4) sig ^= Math.imul(this.dv.getUint16(v.ipOffset + 4), 0x10001);
    return sig;
  }

  private isDuplicate(row: number, fromClient: boolean): boolean {
    const ts = this.now;
    const t = this.flows;
    const sig = this.signature(fromClient);
    const key = this.view.ifaceKey;
    if (
      (t.sig0[row] === sig && t.if0[row] !== key && ts - t.ts0[row]! <= DUPLICATE_WINDOW_S) ||
      (t.sig1[row] === sig && t.if1[row] !== key && ts - t.ts1[row]! <= DUPLICATE_WINDOW_S)
    ) {
      return true;
    }
    if ((t.flags[row]! & FLOW.SLOT1) === 0) {
      t.sig0[row] = sig;
      t.ts0[row] = ts;
      t.if0[row] = key;
      t.flags[row]! |= FLOW.SLOT1;
    } else {
      t.sig1[row] = sig;
      t.ts1[row] = ts;
      t.if1[row] = key;
      t.flags[row]! &= ~FLOW.SLOT1;
    }
    return false;
  }

  /**
   * A packet of a flow first seen after the state was full: its bytes counted by path (as far as
   * the packet alone tells it), duplicates across interfaces dropped by a small table of recent
   * signatures.
   */
  private unlistedPacket(buf: Buffer, origLen: number): void {
    const v = this.view;
    const u = this.unlisted;
    const hash = this.packetHash;
    const slot = hash & (UNLISTED_SIGNATURES - 1);
    const sig = this.signature(true);
    if (
      this.unlistedHash[slot] === hash &&
      this.unlistedSig[slot] === sig &&
      this.unlistedIf[slot] !== v.ifaceKey &&
      this.now - this.unlistedTs[slot]! <= DUPLICATE_WINDOW_S
    ) {
      this.duplicates++;
      return;
    }
    this.unlistedHash[slot] = hash;
    this.unlistedSig[slot] = sig;
    this.unlistedIf[slot] = v.ifaceKey;
    this.unlistedTs[slot] = this.now;
    u.packets++;
    u.bytes += origLen;
    if (v.family === 4) {
      if (isClatIpv4(buf, v.srcOffset) || isClatIpv4(buf, v.dstOffset)) u.clatV4 += origLen;
      else u.nativeV4 += origLen;
      return;
    }
    this.knownPrefixes ??= this.currentPrefixes();
    let client = -1;
    for (const prefix of this.knownPrefixes) {
      if (inNat64Prefix(prefix, buf, v.dstOffset)) client = v.srcOffset;
      else if (inNat64Prefix(prefix, buf, v.srcOffset)) client = v.dstOffset;
      if (client >= 0) break;
    }
    if (client < 0) {
      u.nativeV6 += origLen;
      return;
    }
    let key = buf.toString('hex', client, client + 16);
    if (!u.nat64ByClient.has(key) && u.nat64ByClient.size >= UNLISTED_NAT64_CLIENTS) key = '';
    u.nat64ByClient.set(key, (u.nat64ByClient.get(key) ?? 0) + origLen);
  }

  /** The NAT64 prefixes known at this moment (given, RFC 7050 answers, PREF64 so far). */
  private currentPrefixes(): Nat64Prefix[] {
    return [...this.givenPrefixes, ...this.discoveredPrefixes.values(), ...this.pref64.prefixes()];
  }

  private fragmentKey(buf: Buffer): string {
    const v = this.view;
    const len = v.family === 6 ? 16 : 4;
    return `${v.family}|${buf.toString('hex', v.srcOffset, v.srcOffset + len)}|${buf.toString('hex', v.dstOffset, v.dstOffset + len)}|${v.protocol}|${v.fragmentId}`;
  }

  private firstFragment(buf: Buffer, row: number): void {
    const key = this.fragmentKey(buf);
    const early = this.fragments.get(key);
    if (early && early.flow < 0) {
      this.flows.packets[row]! += early.packets;
      this.flows.bytes[row]! += early.bytes;
    }
    this.rememberFragment(key, { flow: row, packets: 0, bytes: 0 });
  }

  /** A fragment without the transport header joins the flow of its first fragment. */
  private laterFragment(buf: Buffer, origLen: number): void {
    const key = this.fragmentKey(buf);
    const entry = this.fragments.get(key);
    if (entry && entry.flow >= 0) {
      this.flows.packets[entry.flow]!++;
      this.flows.bytes[entry.flow]! += origLen;
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

  private tcp(row: number, buf: Buffer, fromClient: boolean): void {
    const v = this.view;
    const t = this.flows;
    const flags = v.tcpFlags;
    let state = t.flags[row]!;
    if (flags & TCP_FLAG.RST) state |= FLOW.RESET;
    if (flags & TCP_FLAG.SYN) {
      if (flags & TCP_FLAG.ACK) {
        if (!fromClient) {
          state |= FLOW.SYN_ACK | FLOW.ISN;
          t.serverIsn[row] = v.tcpSeq;
        }
      } else if (fromClient) state |= FLOW.SYN;
    } else if (fromClient && state & FLOW.SYN_ACK && flags & TCP_FLAG.ACK && !(flags & TCP_FLAG.RST)) {
      state |= FLOW.ESTABLISHED;
    }
    t.flags[row] = state;
    if (fromClient) {
      t.clientPayload[row]! += v.payloadWireLength;
      if (state & FLOW.ISN && flags & TCP_FLAG.ACK && !(flags & TCP_FLAG.SYN)) {
        // Modulo 2^32 past the ISN; an ACK from before it (a stray) reads as a huge number and is ignored.
        const acked = (v.tcpAck - t.serverIsn[row]! - 1) >>> 0;
        if (acked < 0x80000000 && acked > t.serverAcked[row]!) t.serverAcked[row] = acked;
      }
    } else if (flags & TCP_FLAG.FIN && state & FLOW.ISN && !(flags & TCP_FLAG.SYN)) {
      // The FIN takes the sequence number after the segment's data (its wire length: a short
      // snapshot length does not shorten the sequence space). The lowest, should a stray differ.
      const at = (v.tcpSeq + v.payloadWireLength - t.serverIsn[row]! - 1) >>> 0;
      const finAt = t.serverFinAt[row]!;
      if (at < 0x80000000 && (finAt < 0 || at < finAt)) t.serverFinAt[row] = at;
    }
    if (v.payloadLength === 0) return;
    const ports = t.ports(row);
    if (ports >>> 16 === DNS_PORT || (ports & 0xffff) === DNS_PORT) {
      this.dnsOverTcp(row, buf, fromClient);
      return;
    }
    if (fromClient && t.tls[row] !== TLS_DONE) this.clientHello(row, buf);
  }

  /**
   * The SNI of the client's ClientHello. A ClientHello over several segments is gathered in one
   * growing buffer and read again only once the bytes it said it needs are there: a client that
   * sends one byte per segment costs one append per byte, not a copy and a parse of all so far.
   */
  private clientHello(row: number, buf: Buffer): void {
    const v = this.view;
    const t = this.flows;
    const whole = v.payloadLength === v.payloadWireLength;
    const payload = buf.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength);
    if (t.tls[row] === TLS_UNKNOWN) {
      // A first segment too short to tell (one byte per segment, its record header too): gather
      // it while it could still begin a handshake record.
      if (whole && v.payloadLength > 0 && v.payloadLength < 3 && payload[0] === 22 && (v.payloadLength < 2 || payload[1] === 3)) {
        this.startGather(row, payload, 3, false);
        return;
      }
      if (!looksLikeTlsHandshake(buf, v.payloadOffset, v.payloadLength)) {
        t.tls[row] = TLS_DONE;
        return;
      }
      t.application[row] = APP_TLS;
      const result = parseClientHello(payload);
      if (result.kind === 'need-more' && whole) {
        this.startGather(row, payload, result.needBytes, true);
        return;
      }
      t.tls[row] = TLS_DONE;
      if (result.kind === 'client-hello' && result.sni !== null) t.sni[row] = this.names.id(result.sni);
      return;
    }
    // Collecting: take the next in-order segment; a retransmission is ignored, a gap ends it.
    const gather = this.tlsGather.get(row)!;
    if (v.tcpSeq !== gather.nextSeq) {
      if (((gather.nextSeq - v.tcpSeq) | 0) > 0) return;
      this.endGather(row, gather);
      return;
    }
    const before = gather.bytes.buf.length;
    gather.bytes.append(payload);
    this.looseBytes += gather.bytes.buf.length - before;
    gather.nextSeq = (v.tcpSeq + v.payloadLength) >>> 0;
    const gathered = gather.bytes.length;
    if (!gather.verified) {
      if (gathered < 3) {
        if (!whole) this.endGather(row, gather);
        return;
      }
      if (!looksLikeTlsHandshake(gather.bytes.buf, gather.bytes.start, gathered)) {
        this.endGather(row, gather);
        return;
      }
      gather.verified = true;
      t.application[row] = APP_TLS;
    }
    if (gathered < gather.needBytes) {
      // What a parse would say: more needed. Wait for it while segments are whole and it is not too long.
      if (!whole || gathered >= MAX_CLIENT_HELLO) this.endGather(row, gather);
      return;
    }
    const result = parseClientHello(gather.bytes.view());
    if (result.kind === 'need-more' && whole && gathered < MAX_CLIENT_HELLO) {
      gather.needBytes = result.needBytes;
      return;
    }
    this.endGather(row, gather);
    if (result.kind === 'client-hello' && result.sni !== null) t.sni[row] = this.names.id(result.sni);
  }

  /** Starts gathering a ClientHello from the client's first segment (refused, counted, when the state is full). */
  private startGather(row: number, payload: Buffer, needBytes: number, verified: boolean): void {
    const t = this.flows;
    if (!this.fits(MAP_ENTRY + 2 * payload.length + 64)) {
      this.unlisted.clientHellos++;
      t.tls[row] = TLS_DONE;
      return;
    }
    const bytes = new ByteQueue(Math.max(512, payload.length * 2));
    bytes.append(payload);
    this.looseBytes += MAP_ENTRY + bytes.buf.length + 64;
    this.tlsGather.set(row, { bytes, nextSeq: (this.view.tcpSeq + this.view.payloadLength) >>> 0, needBytes, verified });
    t.tls[row] = TLS_COLLECTING;
  }

  private endGather(row: number, gather: TlsGather): void {
    this.flows.tls[row] = TLS_DONE;
    this.looseBytes -= MAP_ENTRY + gather.bytes.buf.length + 64;
    this.tlsGather.delete(row);
  }

  private dnsOverTcp(row: number, buf: Buffer, fromClient: boolean): void {
    const v = this.view;
    this.flows.application[row] = APP_DNS;
    let streams = this.dnsTcp.get(row);
    if (streams === undefined) {
      streams = [null, null];
      this.dnsTcp.set(row, streams);
      this.looseBytes += MAP_ENTRY + 64;
    }
    const side = fromClient ? 0 : 1;
    let stream = streams[side];
    if (stream === null) {
      if (!this.fits(512 + 64)) return;
      stream = { nextSeq: v.tcpSeq, pending: new ByteQueue(512) };
      this.looseBytes += 512 + 64;
      streams[side] = stream;
    }
    if (v.tcpSeq !== stream.nextSeq) return; // retransmission or gap: RFC 7766 streams are rare enough to skip
    stream.nextSeq = (v.tcpSeq + v.payloadLength) >>> 0;
    const pending = stream.pending;
    const before = pending.buf.length;
    pending.append(buf.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength));
    this.looseBytes += pending.buf.length - before;
    // RFC 1035 section 4.2.2: each message is prefixed by its two-byte length.
    while (pending.length >= 2) {
      const bytes = pending.view();
      const length = bytes.readUInt16BE(0);
      if (bytes.length < 2 + length) break;
      this.dnsMessage(bytes.subarray(2, 2 + length), row, 'tcp');
      pending.consume(2 + length);
    }
    if (pending.length > MAX_DNS_TCP_BUFFER) pending.clear();
  }

  private udp(row: number, buf: Buffer, fromClient: boolean): void {
    const v = this.view;
    const t = this.flows;
    if (fromClient) t.clientPayload[row]! += v.payloadWireLength;
    const ports = t.ports(row);
    if (ports >>> 16 === DNS_PORT || (ports & 0xffff) === DNS_PORT) {
      t.application[row] = APP_DNS;
      if (v.fragment) {
        this.noteDamage('DNS message in a fragmented datagram (not reassembled)');
        return;
      }
      if (v.payloadLength < v.payloadWireLength) {
        this.noteDamage('DNS message cut short by the snapshot length');
        return;
      }
      this.dnsMessage(buf.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength), row, 'udp');
      return;
    }
    if (t.packets[row] === 1 && fromClient && looksLikeQuicInitial(buf, v.payloadOffset, v.payloadLength)) t.application[row] = APP_QUIC;
  }

  /** The id of the view's question name with DNS facts noted; -1 when it is new and the state has no room. */
  private factName(m: DnsView): number {
    let id = m.nameText === null ? this.names.findBytes(m.nameBytes, 0, m.nameLength) : this.names.find(m.nameText);
    if (id < 0) {
      if (!this.fits(this.names.costOf(m.nameText === null ? m.nameLength : 3 * m.nameText.length) + 12)) return -1;
      id = m.nameText === null ? this.names.addBytes(m.nameBytes, 0, m.nameLength) : this.names.id(m.nameText);
    }
    if (id >= this.nameQueried.length) {
      const length = Math.max(this.nameQueried.length * 2, id + 1);
      const grow = (a: Int32Array, fill: number) => {
        const b = new Int32Array(length).fill(fill);
        b.set(a);
        return b;
      };
      this.nameQueried = grow(this.nameQueried, 0);
      this.nameAnswerHead = grow(this.nameAnswerHead, -1);
      this.nameAnswerTail = grow(this.nameAnswerTail, -1);
    }
    if ((this.nameQueried[id]! & (1 << 31)) === 0) {
      this.nameQueried[id]! |= 1 << 31;
      this.factNames.push(id);
      this.looseBytes += 8;
    }
    return id;
  }

  private dnsMessage(payload: Uint8Array, flow: number, transport: 'udp' | 'tcp'): void {
    const ts = this.now;
    const message = this.dnsView;
    const damage = decodeDns(payload, message);
    if (damage !== null) {
      this.noteDamage(damage);
      return;
    }
    const name = this.factName(message);
    const d = this.dns;
    const key = flow * 65536 + message.id;
    if (!message.response) {
      if (name < 0 || !this.fits(d.costOfNext())) {
        this.unlisted.dnsQueries++;
        return;
      }
      const qtype = this.qtypes.id(message.qtype);
      if (qtype < 31) this.nameQueried[name]! |= 1 << qtype;
      else {
        let more = this.nameQueriedMore.get(name);
        if (more === undefined) this.nameQueriedMore.set(name, (more = new Set()));
        more.add(qtype);
      }
      const row = d.add();
      d.ts[row] = ts;
      d.id[row] = message.id;
      d.name[row] = name;
      d.qtype[row] = qtype;
      d.transport[row] = transport === 'tcp' ? 1 : 0;
      d.flow[row] = flow;
      const head = d.pending.get(key);
      if (head === undefined) {
        d.pending.set(key, row);
        d.pendingTail[row] = row;
      } else {
        d.nextPending[d.pendingTail[head]!] = row;
        d.pendingTail[head] = row;
      }
      return;
    }
    // A response answers every copy of its query (retransmissions share id and 5-tuple).
    const head = d.pending.get(key);
    const ids = this.answerAddresses(message, head !== undefined);
    if (head !== undefined) {
      const qtype = this.qtypes.find(message.qtype);
      const rcode = this.rcodes.id(message.rcode ?? 'NOERROR');
      let start = -1;
      for (let i = head; i >= 0; i = d.nextPending[i]!) {
        if (d.name[i] === name && d.qtype[i] === qtype && name >= 0) {
          if (start < 0 && message.addressCount > 0) {
            start = d.answerPool.size;
            for (let k = 0; k < message.addressCount; k++) d.answerPool.push(ids[k]!);
          }
          d.rcode[i] = rcode;
          d.answers[i] = start;
          d.answerCount[i] = Math.min(message.addressCount, 0xffff);
        }
      }
      d.pending.delete(key);
    }
    if (name >= 0) this.learnAnswers(message, ids, ts, name);
  }

  /**
   * The address ids of a response's answers, added to the table when new: always for a response
   * to a listed query (its answers are printed), else while the state has room (-1 when not).
   */
  private answerAddresses(message: DnsView, answersListed: boolean): Int32Array {
    const n = message.addressCount;
    if (this.answerIds.length < n) this.answerIds = new Int32Array(n * 2);
    const ids = this.answerIds;
    const bytes = message.addressBytes;
    for (let i = 0; i < n; i++) {
      const family = message.addressFamilies[i] === 6 ? 6 : 4;
      let id = this.addresses.findBytes(bytes, 16 * i, family);
      if (id < 0 && (answersListed || this.fits(this.addresses.costOfNext() + ADDRESS_BYTES))) {
        id = this.addresses.addBytes(bytes, 16 * i, family);
      }
      ids[i] = id;
    }
    return ids;
  }

  private learnAnswers(message: DnsView, ids: Int32Array, ts: number, name: number): void {
    const table = this.addresses;
    for (let i = 0; i < message.addressCount; i++) {
      const id = ids[i]!;
      if (id < 0) continue;
      const family = message.addressFamilies[i]!;
      // The name's addresses, distinct, in answer order.
      if (!this.full || this.fits(0)) {
        if (this.nameAnswerPairs.add(name, id)) {
          const link = this.nameAnswerAddress.push(id);
          this.nameAnswerNext.push(-1);
          const tail = this.nameAnswerTail[name]!;
          if (tail < 0) this.nameAnswerHead[name] = link;
          else this.nameAnswerNext.values[tail] = link;
          this.nameAnswerTail[name] = link;
        }
      }
      // The address's names: a run of answers with one name says no more than its first.
      if (table.answerName[id]! < 0) {
        table.answerName[id] = name;
        table.answerTs[id] = ts;
        table.lastName[id] = name;
      } else if (table.lastName[id] !== name && this.fits(24)) {
        table.lastName[id] = name;
        let more = this.moreAnswers.get(id);
        if (more === undefined) {
          more = { times: [table.answerTs[id]!], names: [table.answerName[id]!], nameSet: null };
          this.moreAnswers.set(id, more);
          this.looseBytes += MAP_ENTRY + 160;
        }
        more.times.push(ts);
        more.names.push(name);
        this.looseBytes += 24;
        if (more.nameSet !== null) more.nameSet.add(name);
        else if (more.names.length > 8) {
          more.nameSet = new Set(more.names);
          this.looseBytes += MAP_ENTRY * more.names.length;
        }
      }
      // RFC 7050 section 3: a synthesized AAAA for ipv4only.arpa reveals the NAT64 prefix.
      if (family === 6 && this.ipv4onlyId < 0) this.ipv4onlyId = this.names.find(IPV4ONLY_ARPA);
      if (family === 6 && name === this.ipv4onlyId) {
        const prefix = nat64PrefixFromWellKnown(message.addressBytes.subarray(16 * i, 16 * i + 16));
        if (prefix && !this.discoveredPrefixes.has(prefix.text)) {
          this.discoveredPrefixes.set(prefix.text, prefix);
          this.knownPrefixes = null;
        }
      }
    }
  }

  /**
   * The analysis of everything seen so far, its big lists built one entry at a time on demand
   * (so `--json` can stream them); the analyzer can go on receiving packets after, but a document
   * is only valid until the next packet.
   */
  document(): AnalysisDocument {
    const state: AnalysisState = {
      format: this.format ?? 'pcap',
      linkTypes: this.linkTypes,
      packets: this.packetCount,
      bytes: this.byteCount,
      firstTs: this.firstTs,
      lastTs: this.lastTs,
      duplicates: this.duplicates,
      warnings: [
        ...this.warnings,
        ...[...this.damage].map(([reason, d]) => `${d.count} packet${d.count === 1 ? '' : 's'}: ${reason} (first: packet ${d.firstPacket})`),
      ],
      icmp4: this.icmp4,
      icmp6: this.icmp6,
      otherIp: this.otherIp,
      nonIp: this.nonIp,
      flows: this.flows,
      names: this.names,
      qtypes: this.qtypes.values,
      rcodes: this.rcodes.values,
      dns: this.dns,
      nameQueried: this.nameQueried,
      nameQueriedMore: this.nameQueriedMore,
      nameAnswers: { head: this.nameAnswerHead, address: this.nameAnswerAddress, next: this.nameAnswerNext },
      factNames: this.factNames,
      addresses: this.addresses,
      moreAnswers: this.moreAnswers,
      givenPrefixes: this.givenPrefixes,
      discoveredPrefixes: [...this.discoveredPrefixes.values()],
      pref64: this.pref64,
      givenClat: this.givenClat,
      unlisted: this.full ? this.unlisted : null,
      maxMemory: this.maxMemory,
    };
    return buildDocument(state);
  }

  /** The analysis of everything seen so far, whole; the analyzer can go on receiving packets after. */
  report(): CaptureAnalysis {
    return materialize(this.document());
  }
}
