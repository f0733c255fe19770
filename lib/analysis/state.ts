/**
 * The analyzer's compact state: flows and DNS queries as columns of typed arrays (a struct of
 * arrays), names interned to dense ids. A flow costs about 140 bytes and a query about 35, with
 * no object per flow or per packet: measured before this layout, a flow object with its address
 * texts and byte copies cost 2.2 KB, and 1M one-packet flows took 2.3 GB (issue 19).
 *
 * Every table says what it holds in `bytes`, so the analyzer can keep its state inside a budget
 * (`--max-memory`) and drop detail, never totals, when it would pass it.
 */

import { compareHostnames } from './hostname-order.js';

/** V8's cost of a string beyond its characters, and of one Map entry, roughly (x64, pointer compression). */
export const STRING_OVERHEAD = 16;
export const MAP_ENTRY = 40;

/** Murmur3's finalizer: mixes a 32-bit sum of address words into a table hash. */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * A table's first columns are allocated at `reserve` rows: zeroed memory the kernel maps only as
 * rows are written, so what a row costs in RSS is its bytes, and nothing is copied or left for
 * the collector while the table is below it (growing by copy left the old columns, tens of MiB,
 * alive until V8 collected, measured: the peak RSS of a 184k-flow capture). Past it, columns
 * grow by half again.
 */
function nextCapacity(capacity: number, reserve: number): number {
  return capacity === 0 ? Math.max(1024, reserve) : Math.ceil(capacity * 1.5);
}

/** Rows reserved up front: `wanted`, as far as `maxMemory` allows (nextCapacity makes it 1024 at least). */
export function reserveRows(maxMemory: number, rowBytes: number, wanted: number): number {
  return Math.ceil(Math.min(wanted, maxMemory / rowBytes));
}

function grownF64(a: Float64Array, capacity: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(capacity);
  b.set(a);
  return b;
}
function grownI32(a: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(capacity);
  b.set(a);
  return b;
}
function grownU32(a: Uint32Array, capacity: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(capacity);
  b.set(a);
  return b;
}
function grownU16(a: Uint16Array, capacity: number): Uint16Array<ArrayBuffer> {
  const b = new Uint16Array(capacity);
  b.set(a);
  return b;
}
function grownU8(a: Uint8Array, capacity: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(capacity);
  b.set(a);
  return b;
}

/** Strings interned to dense ids in first-seen order: DNS names, SNI, query types, rcodes. */
export class StringTable {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [];
  bytes = 0;

  id(text: string): number {
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(text);
      this.ids.set(text, id);
      this.bytes += STRING_OVERHEAD + MAP_ENTRY + 8 + text.length;
    }
    return id;
  }

  /** The id of `text`, or -1 when it was never interned. */
  find(text: string): number {
    return this.ids.get(text) ?? -1;
  }

  get size(): number {
    return this.values.length;
  }
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const folded = (c: number) => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c);

/** compareHostnames (hostname-order.ts) over two ASCII names in one byte array; the same rules in the same order. */
function compareHostnameBytes(s: Uint8Array, a0: number, aLength: number, b0: number, bLength: number): number {
  const aEnd = a0 + aLength;
  const bEnd = b0 + bLength;
  let i = a0;
  let j = b0;
  let zerosTieBreak = 0;
  while (i < aEnd && j < bEnd) {
    const ca = s[i]!;
    const cb = s[j]!;
    if (isDigit(ca) && isDigit(cb)) {
      let ia = i;
      let jb = j;
      while (ia < aEnd && s[ia] === 0x30) ia++;
      while (jb < bEnd && s[jb] === 0x30) jb++;
      let endA = ia;
      let endB = jb;
      while (endA < aEnd && isDigit(s[endA]!)) endA++;
      while (endB < bEnd && isDigit(s[endB]!)) endB++;
      const lengths = endA - ia - (endB - jb);
      if (lengths !== 0) return lengths;
      for (let k = 0; k < endA - ia; k++) {
        const digits = s[ia + k]! - s[jb + k]!;
        if (digits !== 0) return digits;
      }
      if (zerosTieBreak === 0) zerosTieBreak = ia - i - (jb - j);
      i = endA;
      j = endB;
      continue;
    }
    const chars = folded(ca) - folded(cb);
    if (chars !== 0) return chars;
    i++;
    j++;
  }
  const rest = aEnd - i - (bEnd - j);
  if (rest !== 0) return rest;
  if (zerosTieBreak !== 0) return zerosTieBreak;
  // Exact text: code units, as the string comparison does (ASCII: bytes).
  for (let k = 0; k < Math.min(aLength, bLength); k++) {
    const d = s[a0 + k]! - s[b0 + k]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return aLength - bLength < 0 ? -1 : aLength === bLength ? 0 : 1;
}

/** Flow flag bits (FlowTable.flags). */
export const FLOW = {
  SYN: 1,
  SYN_ACK: 2,
  ESTABLISHED: 4,
  RESET: 8,
  /** serverIsn holds the server's initial sequence number. */
  ISN: 16,
  /** The next duplicate signature goes to slot 1. */
  SLOT1: 32,
} as const;

/** FlowTable.kind: bit 0 IPv6, bit 1 TCP (else UDP). */
export const KIND_V6 = 1;
export const KIND_TCP = 2;

/** FlowTable.tls: how far the client's first bytes were read as a ClientHello. */
export const TLS_UNKNOWN = 0;
export const TLS_COLLECTING = 1;
export const TLS_DONE = 2;

/** FlowTable.application: what the first payload was recognised as. */
export const APPLICATIONS = [null, 'tls', 'quic', 'dns'] as const;
export const APP_TLS = 1;
export const APP_QUIC = 2;
export const APP_DNS = 3;

/**
 * Int32s a flow's key takes in FlowTable.words, one row after another: the client's address words
 * (0-3), the server's (4-7), the ports (KEY_PORTS) and the kind (KEY_KIND). A lookup reads one
 * row, one or two cache lines, rather than one line in each of several columns: a million flows
 * do not fit in the cache, and each line missed cost ~100 ns a packet (issue 19).
 */
export const FLOW_KEY = 10;
/** clientPort << 16 | serverPort, in a key row. */
export const KEY_PORTS = 8;
/** KIND_V6 | KIND_TCP, in a key row. */
export const KEY_KIND = 9;

/** Bytes one flow costs in the columns below (the hash slots are counted apart). */
// key, three byte columns, five doubles, ISN/acked/FIN, two signatures, two times, two interfaces, SNI
export const FLOW_BYTES = FLOW_KEY * 4 + 3 + 5 * 8 + 3 * 4 + 2 * 4 + 2 * 8 + 2 * 4 + 4;

/**
 * Transport conversations, one row each: the client's and server's address words (the raw bytes
 * read as little-endian int32, so a lookup compares four integers, not sixteen bytes), ports,
 * counters, TCP state and the last two packet signatures for duplicate detection.
 */
export class FlowTable {
  size = 0;
  capacity = 0;
  /** The flows' keys, FLOW_KEY Int32s a row. */
  words = new Int32Array(0);
  flags = new Uint8Array(0);
  tls = new Uint8Array(0);
  application = new Uint8Array(0);
  packets = new Float64Array(0);
  bytes = new Float64Array(0);
  firstTs = new Float64Array(0);
  lastTs = new Float64Array(0);
  clientPayload = new Float64Array(0);
  serverIsn = new Uint32Array(0);
  /** Server sequence numbers the client acknowledged in order (its highest ACK past the ISN). */
  serverAcked = new Uint32Array(0);
  /** Where the server's FIN sits, counted like serverAcked; -1: none seen. */
  serverFinAt = new Int32Array(0);
  sig0 = new Int32Array(0);
  sig1 = new Int32Array(0);
  ts0 = new Float64Array(0);
  ts1 = new Float64Array(0);
  if0 = new Int32Array(0);
  if1 = new Int32Array(0);
  /** Interned SNI (StringTable id), -1: none. */
  sni = new Int32Array(0);
  /**
   * Open addressing, two Int32s a slot: row + 1 (0: empty) and the row's hash, so a probe that
   * is not the flow is told apart without reading its row. Load at most one half. `mask` is over
   * slots, not Int32s.
   */
  slots = new Int32Array(2 * 4096);
  mask = 4095;

  constructor(private readonly reserve = 1024) {}

  /** The bytes of the rows in use (what is resident; the reserve is not until written). */
  get stateBytes(): number {
    return this.size * FLOW_BYTES + this.slots.length * 4;
  }

  /** What adding one more row would cost now (its bytes; a copy of the table when it must grow; maybe grown slots). */
  costOfNext(): number {
    let cost = FLOW_BYTES;
    if (this.size === this.capacity) cost += this.size * FLOW_BYTES;
    if ((this.size + 1) * 4 > this.slots.length) cost += this.slots.length * 4;
    return cost;
  }

  /** clientPort << 16 | serverPort of `row`. */
  ports(row: number): number {
    return this.words[row * FLOW_KEY + KEY_PORTS]!;
  }

  /** KIND_V6 | KIND_TCP of `row`. */
  kind(row: number): number {
    return this.words[row * FLOW_KEY + KEY_KIND]!;
  }

  /** A new row (zeroed, its duplicate times unset); the caller fills its key and indexes it. */
  add(): number {
    if (this.size === this.capacity) this.grow();
    const row = this.size++;
    this.ts0[row] = Number.NEGATIVE_INFINITY;
    this.ts1[row] = Number.NEGATIVE_INFINITY;
    this.lastTs[row] = Number.NEGATIVE_INFINITY;
    this.serverFinAt[row] = -1;
    this.sni[row] = -1;
    return row;
  }

  /** Puts `row`, of the 5-tuple hash `hash`, in the hash slots. */
  index(row: number, hash: number): void {
    this.insert(this.slots, this.mask, hash, row + 1);
    if (this.size * 4 > this.slots.length) {
      const old = this.slots;
      this.slots = new Int32Array(old.length * 2);
      this.mask = this.slots.length / 2 - 1;
      for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.insert(this.slots, this.mask, old[i + 1]!, old[i]!);
    }
  }

  private insert(slots: Int32Array, mask: number, hash: number, value: number): void {
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      if (slots[2 * i] === 0) {
        slots[2 * i] = value;
        slots[2 * i + 1] = hash;
        return;
      }
    }
  }

  private grow(): void {
    const c = nextCapacity(this.capacity, this.reserve);
    this.words = grownI32(this.words, c * FLOW_KEY);
    this.flags = grownU8(this.flags, c);
    this.tls = grownU8(this.tls, c);
    this.application = grownU8(this.application, c);
    this.packets = grownF64(this.packets, c);
    this.bytes = grownF64(this.bytes, c);
    this.firstTs = grownF64(this.firstTs, c);
    this.lastTs = grownF64(this.lastTs, c);
    this.clientPayload = grownF64(this.clientPayload, c);
    this.serverIsn = grownU32(this.serverIsn, c);
    this.serverAcked = grownU32(this.serverAcked, c);
    this.serverFinAt = grownI32(this.serverFinAt, c);
    this.sig0 = grownI32(this.sig0, c);
    this.sig1 = grownI32(this.sig1, c);
    this.ts0 = grownF64(this.ts0, c);
    this.ts1 = grownF64(this.ts1, c);
    this.if0 = grownI32(this.if0, c);
    this.if1 = grownI32(this.if1, c);
    this.sni = grownI32(this.sni, c);
    this.capacity = c;
  }

  /** The address bytes of row's client (`server` false) or server, written into `out` from 0. */
  addressBytes(row: number, server: boolean, out: Uint8Array): Uint8Array {
    const six = (this.kind(row) & KIND_V6) !== 0;
    const base = row * FLOW_KEY + (server ? 4 : 0);
    const n = six ? 4 : 1;
    for (let w = 0; w < n; w++) {
      const word = this.words[base + w]!;
      out[w * 4] = word & 0xff;
      out[w * 4 + 1] = (word >>> 8) & 0xff;
      out[w * 4 + 2] = (word >>> 16) & 0xff;
      out[w * 4 + 3] = (word >>> 24) & 0xff;
    }
    return out;
  }
}

/** Bytes one DNS query costs in the columns below. */
// ts, id, name, qtype, rcode, answers, answerCount, transport, flow, nextPending, pendingTail
export const QUERY_BYTES = 8 + 2 + 4 + 2 + 4 + 4 + 2 + 1 + 4 + 4 + 4;

/**
 * The DNS queries in capture order (one row per query packet, retransmissions included, as the
 * analysis document lists them), and the queries still waiting for their response.
 */
export class DnsLog {
  size = 0;
  capacity = 0;
  ts = new Float64Array(0);
  id = new Uint16Array(0);
  name = new Int32Array(0);
  qtype = new Uint16Array(0);
  /** StringTable id of the rcode, -1 while unanswered. */
  rcode = new Int32Array(0);
  /** Where the answer's addresses start in `answerPool` (address ids), -1: none. */
  answers = new Int32Array(0);
  answerCount = new Uint16Array(0);
  transport = new Uint8Array(0);
  flow = new Int32Array(0);
  /** The next query waiting on the same flow and id, -1: the last. */
  nextPending = new Int32Array(0);
  /** At a chain's head: its last query (appends stay O(1) however long a chain grows). */
  pendingTail = new Int32Array(0);
  /** flow * 65536 + DNS id -> the first query waiting for that response. */
  readonly pending = new Map<number, number>();
  /** The answers' address ids (AddressTable), one run per response that answered a listed query. */
  readonly answerPool = new IntColumn();

  constructor(private readonly reserve = 1024) {}

  get stateBytes(): number {
    return this.size * QUERY_BYTES + this.pending.size * MAP_ENTRY + this.answerPool.stateBytes;
  }

  costOfNext(): number {
    return QUERY_BYTES + (this.size === this.capacity ? this.size * QUERY_BYTES : 0) + MAP_ENTRY;
  }

  add(): number {
    if (this.size === this.capacity) this.grow();
    const row = this.size++;
    this.rcode[row] = -1;
    this.answers[row] = -1;
    this.nextPending[row] = -1;
    return row;
  }

  private grow(): void {
    const c = nextCapacity(this.capacity, this.reserve);
    this.ts = grownF64(this.ts, c);
    this.id = grownU16(this.id, c);
    this.name = grownI32(this.name, c);
    this.qtype = grownU16(this.qtype, c);
    this.rcode = grownI32(this.rcode, c);
    this.answers = grownI32(this.answers, c);
    this.answerCount = grownU16(this.answerCount, c);
    this.transport = grownU8(this.transport, c);
    this.flow = grownI32(this.flow, c);
    this.nextPending = grownI32(this.nextPending, c);
    this.pendingTail = grownI32(this.pendingTail, c);
    this.capacity = c;
  }
}

/** A byte buffer that grows by doubling and is appended to in place (no concat per segment). */
export class ByteQueue {
  buf: Buffer;
  start = 0;
  end = 0;

  constructor(capacity = 512) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  get length(): number {
    return this.end - this.start;
  }

  append(bytes: Uint8Array): void {
    if (this.end + bytes.length > this.buf.length) {
      const length = this.length;
      if (length + bytes.length > this.buf.length) {
        let capacity = this.buf.length * 2;
        while (capacity < length + bytes.length) capacity *= 2;
        const next = Buffer.allocUnsafe(capacity);
        this.buf.copy(next, 0, this.start, this.end);
        this.buf = next;
      } else {
        this.buf.copy(this.buf, 0, this.start, this.end);
      }
      this.start = 0;
      this.end = length;
    }
    this.buf.set(bytes, this.end);
    this.end += bytes.length;
  }

  /** The queued bytes, a view (valid until the next append). */
  view(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }

  consume(n: number): void {
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
  }

  clear(): void {
    this.start = this.end = 0;
  }
}

/** Bytes one address costs in AddressTable (words, family, first answer, slots at half load). */
export const ADDRESS_BYTES = 16 + 1 + 8 + 4 + 4 + 8;

/**
 * Addresses numbered in the order first added, found by their words (the raw bytes read as
 * little-endian int32, IPv4 in the first word): a flow's server is looked up without printing it.
 * For addresses DNS answered, the first answer's time and name sit in columns; the rare address
 * that several names resolved to keeps the rest in `moreAnswers`.
 */
export class AddressTable {
  size = 0;
  capacity = 0;
  words = new Int32Array(0);
  family = new Uint8Array(0);
  /** The first answer that gave the address: its time and name id (-1: none yet). */
  answerTs = new Float64Array(0);
  answerName = new Int32Array(0);
  /** The name of the last answer that gave it (runs of one name are kept once). */
  lastName = new Int32Array(0);
  slots = new Int32Array(64);

  constructor(private readonly reserve = 1024) {}

  get stateBytes(): number {
    return this.size * (ADDRESS_BYTES - 8) + this.slots.length * 4;
  }

  costOfNext(): number {
    let cost = ADDRESS_BYTES - 8;
    if (this.size === this.capacity) cost += this.size * (ADDRESS_BYTES - 8);
    if ((this.size + 1) * 2 > this.slots.length) cost += this.slots.length * 4;
    return cost;
  }

  private static hashOf(family: number, w0: number, w1: number, w2: number, w3: number): number {
    return fmix(Math.imul(w0, 0x9e3779b1) + Math.imul(w1, 0x85ebca77) + Math.imul(w2, 0xc2b2ae3d) + Math.imul(w3, 0x27d4eb2f) + family);
  }

  /** The number of the address, -1 when absent. IPv4: w1..w3 are 0. */
  find(family: number, w0: number, w1: number, w2: number, w3: number): number {
    const mask = this.slots.length - 1;
    const w = this.words;
    for (let i = AddressTable.hashOf(family, w0, w1, w2, w3) & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i]!;
      if (slot === 0) return -1;
      const n = slot - 1;
      const at = n * 4;
      if (this.family[n] === family && w[at] === w0 && w[at + 1] === w1 && w[at + 2] === w2 && w[at + 3] === w3) return n;
    }
  }

  /** The number of the address, added when new. */
  add(family: number, w0: number, w1: number, w2: number, w3: number): number {
    const found = this.find(family, w0, w1, w2, w3);
    if (found >= 0) return found;
    if (this.size === this.capacity) this.grow();
    const n = this.size++;
    const at = n * 4;
    this.words[at] = w0;
    this.words[at + 1] = w1;
    this.words[at + 2] = w2;
    this.words[at + 3] = w3;
    this.family[n] = family;
    this.answerName[n] = -1;
    this.lastName[n] = -1;
    if (this.size * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2);
      for (let i = 0; i < this.size; i++) this.place(i);
    } else this.place(n);
    return n;
  }

  /** find/add with the address given as bytes (4 or 16 at `at`). */
  findBytes(bytes: Uint8Array, at: number, family: 4 | 6): number {
    return family === 4
      ? this.find(4, wordAt(bytes, at), 0, 0, 0)
      : this.find(6, wordAt(bytes, at), wordAt(bytes, at + 4), wordAt(bytes, at + 8), wordAt(bytes, at + 12));
  }

  addBytes(bytes: Uint8Array, at: number, family: 4 | 6): number {
    return family === 4
      ? this.add(4, wordAt(bytes, at), 0, 0, 0)
      : this.add(6, wordAt(bytes, at), wordAt(bytes, at + 4), wordAt(bytes, at + 8), wordAt(bytes, at + 12));
  }

  /** The address's bytes written into `out` from 0 (4 for IPv4, 16 for IPv6). */
  bytesOf(n: number, out: Uint8Array): Uint8Array {
    const count = this.family[n] === 6 ? 4 : 1;
    for (let w = 0; w < count; w++) {
      const word = this.words[n * 4 + w]!;
      out[w * 4] = word & 0xff;
      out[w * 4 + 1] = (word >>> 8) & 0xff;
      out[w * 4 + 2] = (word >>> 16) & 0xff;
      out[w * 4 + 3] = (word >>> 24) & 0xff;
    }
    return out;
  }

  private place(n: number): void {
    const mask = this.slots.length - 1;
    const at = n * 4;
    const w = this.words;
    for (let i = AddressTable.hashOf(this.family[n]!, w[at]!, w[at + 1]!, w[at + 2]!, w[at + 3]!) & mask; ; i = (i + 1) & mask) {
      if (this.slots[i] === 0) {
        this.slots[i] = n + 1;
        return;
      }
    }
  }

  private grow(): void {
    const c = nextCapacity(this.capacity, this.reserve);
    this.words = grownI32(this.words, c * 4);
    this.family = grownU8(this.family, c);
    this.answerTs = grownF64(this.answerTs, c);
    this.answerName = grownI32(this.answerName, c);
    this.lastName = grownI32(this.lastName, c);
    this.capacity = c;
  }
}

/** The little-endian int32 at `at`. */
export function wordAt(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
}

/**
 * A growing column of int32 (answer lists, per-name answer chains): appended to, never shrunk.
 */
export class IntColumn {
  size = 0;
  values = new Int32Array(256);

  push(value: number): number {
    if (this.size === this.values.length) this.values = grownI32(this.values, this.values.length * 2);
    this.values[this.size] = value;
    return this.size++;
  }

  get stateBytes(): number {
    return this.values.length * 4;
  }
}

/** A set of (a, b) pairs of non-negative int32, open addressing in typed arrays. */
export class PairSet {
  size = 0;
  private keys = new Int32Array(2 * 256);
  private used = new Uint8Array(256);

  get stateBytes(): number {
    return this.used.length * 9;
  }

  /** Adds the pair; false when it was there. */
  add(a: number, b: number): boolean {
    if ((this.size + 1) * 2 > this.used.length) this.rehash(this.used.length * 2);
    const mask = this.used.length - 1;
    for (let i = PairSet.hash(a, b) & mask; ; i = (i + 1) & mask) {
      if (this.used[i] === 0) {
        this.used[i] = 1;
        this.keys[2 * i] = a;
        this.keys[2 * i + 1] = b;
        this.size++;
        return true;
      }
      if (this.keys[2 * i] === a && this.keys[2 * i + 1] === b) return false;
    }
  }

  private static hash(a: number, b: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    return h ^ (h >>> 12);
  }

  private rehash(length: number): void {
    const keys = this.keys;
    const used = this.used;
    this.keys = new Int32Array(2 * length);
    this.used = new Uint8Array(length);
    this.size = 0;
    for (let i = 0; i < used.length; i++) if (used[i] === 1) this.add(keys[2 * i]!, keys[2 * i + 1]!);
  }
}

/**
 * Names (DNS names, SNI) interned as UTF-8 bytes in one arena, found by their bytes: a DNS
 * message's name is looked up without a string made for it, and a million names cost their
 * bytes and 16 more each, off the JS heap (strings and a Map of them kept V8's young generation
 * at its largest: every name survived, issue 19). Texts are made when a document asks.
 */
export class NameTable {
  size = 0;
  private arena = new Uint8Array(1 << 16);
  private used = 0;
  private start = new Int32Array(1024);
  private length = new Int32Array(1024);
  private hashes = new Int32Array(1024);
  private slots = new Int32Array(2048);
  private readonly scratch = Buffer.allocUnsafe(1024);

  get bytes(): number {
    return this.arena.length + this.start.length * 12 + this.slots.length * 4;
  }

  /** What one more name of `n` bytes may cost. */
  costOf(n: number): number {
    return n + 16 + (this.size === this.start.length ? this.start.length * 12 : 0) + ((this.size + 1) * 2 > this.slots.length ? this.slots.length * 4 : 0);
  }

  static hash(b: Uint8Array, at: number, n: number): number {
    let h = 0x811c9dc5 ^ n;
    for (let i = at; i < at + n; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    return h ^ (h >>> 15);
  }

  /** The id of the name in b[at..at+n), -1 when absent. */
  findBytes(b: Uint8Array, at: number, n: number, hash = NameTable.hash(b, at, n)): number {
    const mask = this.slots.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i]!;
      if (slot === 0) return -1;
      const id = slot - 1;
      if (this.hashes[id] !== hash || this.length[id] !== n) continue;
      const s = this.start[id]!;
      let same = true;
      for (let k = 0; k < n; k++) {
        if (this.arena[s + k] !== b[at + k]) {
          same = false;
          break;
        }
      }
      if (same) return id;
    }
  }

  /** The id of the name in b[at..at+n), added when new. */
  addBytes(b: Uint8Array, at: number, n: number): number {
    const hash = NameTable.hash(b, at, n);
    const found = this.findBytes(b, at, n, hash);
    if (found >= 0) return found;
    if (this.used + n > this.arena.length) {
      let length = this.arena.length * 2;
      while (this.used + n > length) length *= 2;
      const arena = new Uint8Array(length);
      arena.set(this.arena.subarray(0, this.used));
      this.arena = arena;
    }
    if (this.size === this.start.length) {
      this.start = grownI32(this.start, this.size * 2);
      this.length = grownI32(this.length, this.size * 2);
      this.hashes = grownI32(this.hashes, this.size * 2);
    }
    const id = this.size++;
    this.arena.set(b.subarray(at, at + n), this.used);
    this.start[id] = this.used;
    this.length[id] = n;
    this.hashes[id] = hash;
    this.used += n;
    if (this.size * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2);
      for (let i = 0; i < this.size; i++) this.place(i);
    } else this.place(id);
    return id;
  }

  /** The id of a name given as text, added when new. */
  id(text: string): number {
    const n = this.encode(text);
    return this.addBytes(n.bytes, 0, n.length);
  }

  /** The id of a name given as text, -1 when absent. */
  find(text: string): number {
    const n = this.encode(text);
    return this.findBytes(n.bytes, 0, n.length);
  }

  /** The name's text, made when asked (none is kept: a string per name is what this table avoids). */
  text(id: number): string {
    return Buffer.from(this.arena.buffer, this.arena.byteOffset, this.arena.byteLength).toString('utf8', this.start[id]!, this.start[id]! + this.length[id]!);
  }

  /** Whether the name is printable ASCII without a quote or backslash (JSON as it is). */
  plain(id: number): boolean {
    const a = this.arena;
    for (let i = this.start[id]!, end = i + this.length[id]!; i < end; i++) {
      const c = a[i]!;
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
    }
    return true;
  }

  /** The name's bytes (a view, valid until the next name is added). */
  bytesOf(id: number): Uint8Array {
    return this.arena.subarray(this.start[id]!, this.start[id]! + this.length[id]!);
  }

  /**
   * compareHostnames(text(a), text(b)) without the texts for ASCII names (its rules byte by byte:
   * digit runs by value, ASCII case folded, then fewer leading zeros, then the exact text).
   */
  compare(a: number, b: number): number {
    const arena = this.arena;
    const sa = this.start[a]!;
    const sb = this.start[b]!;
    const la = this.length[a]!;
    const lb = this.length[b]!;
    for (let i = 0; i < la; i++) if (arena[sa + i]! >= 0x80) return compareHostnames(this.text(a), this.text(b));
    for (let i = 0; i < lb; i++) if (arena[sb + i]! >= 0x80) return compareHostnames(this.text(a), this.text(b));
    return compareHostnameBytes(arena, sa, la, sb, lb);
  }

  private encode(text: string): { bytes: Uint8Array; length: number } {
    if (text.length * 3 <= this.scratch.length) return { bytes: this.scratch, length: this.scratch.write(text, 0, 'utf8') };
    const bytes = Buffer.from(text, 'utf8');
    return { bytes, length: bytes.length };
  }

  private place(id: number): void {
    const mask = this.slots.length - 1;
    for (let i = this.hashes[id]! & mask; ; i = (i + 1) & mask) {
      if (this.slots[i] === 0) {
        this.slots[i] = id + 1;
        return;
      }
    }
  }
}
