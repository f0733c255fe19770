/**
 * pcap and pcapng container decoding, push-based so a capture can be analysed while it is still
 * being written (a tcpdump streamed over adb) and from a file read into one reused buffer.
 *
 * References: draft-ietf-opsawg-pcap (pcap), draft-ietf-opsawg-pcapng (pcapng).
 */
import { CaptureFormatError } from './errors.js';

export type CaptureFormat = 'pcap' | 'pcapng';

/**
 * Receives every packet. `data` (and `view`, a DataView over the same bytes) is valid only during
 * the call: copy what you keep. The timestamp comes as whole seconds and nanoseconds, integers
 * that V8 passes unboxed; a float argument would be a heap allocation per packet.
 */
export interface PacketSink {
  packet(
    data: Buffer,
    view: DataView,
    offset: number,
    capLen: number,
    origLen: number,
    seconds: number,
    nanoseconds: number,
    linkType: number,
    iface: number,
  ): void;
  warning(message: string): void;
}

/** pcap magic numbers as read little-endian (draft-ietf-opsawg-pcap section 4). */
const PCAP_MAGIC = {
  micro: 0xa1b2c3d4,
  nano: 0xa1b23c4d,
  microSwapped: 0xd4c3b2a1,
  nanoSwapped: 0x4d3cb2a1,
} as const;

/** pcapng block types (draft-ietf-opsawg-pcapng section 10.1). */
const BLOCK = {
  sectionHeader: 0x0a0d0d0a,
  interfaceDescription: 0x00000001,
  packetObsolete: 0x00000002,
  simplePacket: 0x00000003,
  enhancedPacket: 0x00000006,
} as const;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** IDB options (pcapng section 4.2). */
const OPT = { endOfOpt: 0, ifName: 2, ifTsresol: 9, ifTsoffset: 14 } as const;

/** Largest record accepted; Wireshark's own limit for most link types. */
const MAX_PACKET = 262144;
/** Largest pcapng block accepted (options, name resolution blocks can exceed a packet). */
const MAX_BLOCK = 16 * 1024 * 1024;
const INITIAL_BUFFER = 1 << 20;

interface PcapngInterface {
  linkType: number;
  snapLen: number;
  /** Divide a timestamp by this to get seconds. */
  unitsPerSecond: number;
  tsOffset: number;
  name: string | null;
  /** Capture-wide interface number (across sections), what the sink sees. */
  globalId: number;
}

export class CaptureReader {
  format: CaptureFormat | null = null;
  /** Link types in order of first appearance. */
  readonly linkTypes: number[] = [];
  /** Interface names from pcapng IDBs, by capture-wide interface number. */
  readonly interfaceNames: (string | null)[] = [];
  packets = 0;
  bytes = 0;

  /** The bytes being parsed: the reader's own buffer, or a caller's chunk parsed in place. */
  private buf: Buffer;
  private dv: DataView;
  /** The reader's own buffer, holding what a chunk left unparsed (a record cut by its end). */
  private own: Buffer;
  private start = 0;
  private end = 0;
  /** File offset of buf[start]. */
  private consumed = 0;
  private littleEndian = true;
  private pcapTsDivisor = 1e6;
  private pcapLinkType = 0;
  private pcapSnapLen = 0;
  private interfaces: PcapngInterface[] = [];
  private finished = false;
  /** True while parsing a caller's chunk in place: never compact or grow it. */
  private external = false;

  /**
   * @param source the file or stream name errors and warnings carry
   * @param bufferSize initial size of the reused read buffer @default 1 MiB
   */
  constructor(
    private readonly sink: PacketSink,
    private readonly source?: string,
    bufferSize = INITIAL_BUFFER,
  ) {
    this.own = Buffer.allocUnsafe(bufferSize);
    this.buf = this.own;
    this.dv = dataView(this.own);
  }

  /**
   * Decodes every complete record of `chunk`, in place where it can: only a record cut by the
   * chunk's end (or by the previous chunk's) is copied. `chunk` is not kept.
   */
  push(chunk: Uint8Array): void {
    let from = 0;
    // Finish the record the previous chunk cut, copying only the bytes it still needs.
    while (this.end > this.start && from < chunk.length) {
      const need = Math.max(1, this.pendingLength() - (this.end - this.start));
      const n = Math.min(need, chunk.length - from);
      const room = this.reserve(n);
      this.own.set(chunk.subarray(from, from + n), room.offset);
      from += n;
      this.commit(n);
    }
    if (from === chunk.length) return;
    // Parse the rest where it lies.
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.buf = bytes;
    this.dv = dataView(bytes);
    this.start = from;
    this.end = bytes.length;
    this.external = true;
    try {
      this.drain();
    } finally {
      const left = this.end - this.start;
      const leftFrom = this.start;
      this.external = false;
      this.buf = this.own;
      this.dv = dataView(this.own);
      this.start = 0;
      this.end = 0;
      if (left > 0) {
        if (left > this.own.length) this.compact(left);
        bytes.copy(this.own, 0, leftFrom, leftFrom + left);
        this.end = left;
      }
    }
  }

  /**
   * Free space at the end of the reader's own buffer, at least `min` bytes, to read into directly.
   * Follow with commit(bytesWritten).
   */
  reserve(min: number): { buffer: Buffer; offset: number; length: number } {
    if (this.own.length - this.end < min) this.compact(min);
    return { buffer: this.own, offset: this.end, length: this.own.length - this.end };
  }

  commit(written: number): void {
    this.end += written;
    this.drain();
  }

  /** Bytes the next unit (file header, record or block) occupies, as far as its header tells. */
  private pendingLength(): number {
    const have = this.end - this.start;
    if (this.format === null) return have >= 4 && this.dv.getUint32(this.start, true) === BLOCK.sectionHeader ? 12 : 24;
    if (this.format === 'pcap') return have < 16 ? 16 : 16 + this.u32(this.start + 8);
    if (have < 12) return 12;
    // A section header's length is in the byte order its own magic gives.
    if (this.dv.getUint32(this.start, true) === BLOCK.sectionHeader)
      return this.dv.getUint32(this.start + 4, this.dv.getUint32(this.start + 8, true) === BYTE_ORDER_MAGIC);
    return this.u32(this.start + 4);
  }

  /** No more bytes will come: a record cut short becomes a warning, a missing header an error. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const left = this.end - this.start;
    if (this.format === null) {
      throw this.error(0, left === 0 ? 'empty capture: no pcap or pcapng header' : `capture too short for a header (${left} bytes)`);
    }
    if (left > 0) {
      this.sink.warning(`capture ends inside a record at byte offset ${this.consumed} (${left} bytes left): the capture was cut short; that record is ignored`);
    }
  }

  private compact(min: number): void {
    const live = this.end - this.start;
    if (this.start > 0 && this.own.length - live >= min && live <= this.own.length / 2) {
      this.own.copy(this.own, 0, this.start, this.end);
    } else {
      const next = Buffer.allocUnsafe(Math.max(this.own.length * 2, live + min));
      this.own.copy(next, 0, this.start, this.end);
      this.own = next;
    }
    this.buf = this.own;
    this.dv = dataView(this.own);
    this.end = live;
    this.start = 0;
  }

  private error(offset: number, reason: string): CaptureFormatError {
    return new CaptureFormatError(offset, reason, this.source);
  }

  private u32(at: number): number {
    return this.dv.getUint32(at, this.littleEndian);
  }

  private u16(at: number): number {
    return this.dv.getUint16(at, this.littleEndian);
  }

  private drain(): void {
    if (this.format === null && !this.readFileHeader()) return;
    if (this.format === 'pcap') this.drainPcap();
    else this.drainPcapng();
  }

  private readFileHeader(): boolean {
    if (this.end - this.start < 4) return false;
    const magic = this.dv.getUint32(this.start, true);
    if (magic === BLOCK.sectionHeader) {
      this.format = 'pcapng';
      return true;
    }
    if (this.end - this.start < 24) return false;
    switch (magic) {
      case PCAP_MAGIC.micro:
        this.littleEndian = true;
        this.pcapTsDivisor = 1e6;
        break;
      case PCAP_MAGIC.nano:
        this.littleEndian = true;
        this.pcapTsDivisor = 1e9;
        break;
      case PCAP_MAGIC.microSwapped:
        this.littleEndian = false;
        this.pcapTsDivisor = 1e6;
        break;
      case PCAP_MAGIC.nanoSwapped:
        this.littleEndian = false;
        this.pcapTsDivisor = 1e9;
        break;
      default:
        throw this.error(0, `not a pcap or pcapng file (magic 0x${magic.toString(16).padStart(8, '0')})`);
    }
    const major = this.u16(this.start + 4);
    if (major !== 2) throw this.error(4, `pcap version ${major}.${this.u16(this.start + 6)} is not 2.x`);
    this.pcapSnapLen = this.u32(this.start + 16);
    // The upper bits of the link type field carry FCS information (pcap section 4).
    this.pcapLinkType = this.u32(this.start + 20) & 0x0fffffff;
    if (this.pcapSnapLen === 0) this.sink.warning('pcap header has a snapshot length of 0; records are read by their own lengths');
    this.linkTypes.push(this.pcapLinkType);
    this.interfaceNames.push(null);
    this.format = 'pcap';
    this.start += 24;
    this.consumed += 24;
    return true;
  }

  private drainPcap(): void {
    const buf = this.buf;
    const dv = this.dv;
    const le = this.littleEndian;
    // Nanoseconds per unit of the record's fraction field.
    const fractionScale = 1e9 / this.pcapTsDivisor;
    const linkType = this.pcapLinkType;
    // Never the header's snapshot length: it is the file's own claim (up to 4 GiB), and a record
    // it allowed would be buffered whole; no capture tool writes a record beyond MAX_PACKET.
    const limit = MAX_PACKET;
    const sink = this.sink;
    let at = this.start;
    const end = this.end;
    let packets = 0;
    let bytes = 0;
    try {
      while (end - at >= 16) {
        const capLen = dv.getUint32(at + 8, le);
        if (capLen > limit) {
          throw this.error(this.consumed + (at - this.start), `record claims ${capLen} captured bytes, more than the ${limit} any packet may have`);
        }
        if (end - at < 16 + capLen) {
          if (16 + capLen > this.own.length && !this.external) {
            this.consumed += at - this.start;
            this.start = at;
            this.compact(16 + capLen);
            at = this.start;
          }
          break;
        }
        const origLen = dv.getUint32(at + 12, le);
        packets++;
        bytes += capLen;
        sink.packet(buf, dv, at + 16, capLen, Math.max(origLen, capLen), dv.getUint32(at, le), dv.getUint32(at + 4, le) * fractionScale, linkType, 0);
        at += 16 + capLen;
      }
    } finally {
      this.packets += packets;
      this.bytes += bytes;
      this.consumed += at - this.start;
      this.start = at;
    }
  }

  private drainPcapng(): void {
    while (this.end - this.start >= 12) {
      const at = this.start;
      const type = this.dv.getUint32(at, true);
      if (type === BLOCK.sectionHeader) {
        const bom = this.dv.getUint32(at + 8, true);
        if (bom === BYTE_ORDER_MAGIC) this.littleEndian = true;
        else if (bom === 0x4d3c2b1a) this.littleEndian = false;
        else throw this.error(this.consumed + 8, `pcapng section header has byte-order magic 0x${bom.toString(16)}, not 0x1a2b3c4d`);
      }
      const blockType = this.u32(at);
      const length = this.u32(at + 4);
      if (length < 12 || length % 4 !== 0 || length > MAX_BLOCK) {
        throw this.error(
          this.consumed + 4,
          `pcapng block of type 0x${blockType.toString(16)} has length ${length} (must be a multiple of 4 from 12 to ${MAX_BLOCK})`,
        );
      }
      if (this.end - at < length) {
        if (length > this.own.length && !this.external) this.compact(length);
        return;
      }
      if (this.u32(at + length - 4) !== length) {
        throw this.error(
          this.consumed + length - 4,
          `pcapng block of type 0x${blockType.toString(16)} has trailing length ${this.u32(at + length - 4)}, not ${length}`,
        );
      }
      this.block(blockType, at, length);
      this.start += length;
      this.consumed += length;
    }
  }

  private block(type: number, at: number, length: number): void {
    switch (type) {
      case BLOCK.sectionHeader: {
        const major = this.u16(at + 12);
        if (major !== 1) throw this.error(this.consumed + 12, `pcapng version ${major} is not 1`);
        this.interfaces = [];
        return;
      }
      case BLOCK.interfaceDescription:
        this.interfaceBlock(at, length);
        return;
      case BLOCK.enhancedPacket: {
        if (length < 32) return this.sink.warning(`pcapng enhanced packet block at byte offset ${this.consumed} is too short (${length} bytes); skipped`);
        const ifc = this.interfaces[this.u32(at + 8)];
        const capLen = this.u32(at + 20);
        if (ifc === undefined)
          return this.sink.warning(
            `pcapng packet at byte offset ${this.consumed} names interface ${this.u32(at + 8)}, which no interface block described; skipped`,
          );
        if (capLen > length - 32)
          return this.sink.warning(`pcapng packet at byte offset ${this.consumed} claims ${capLen} captured bytes in a ${length}-byte block; skipped`);
        this.emit(ifc, at + 28, capLen, this.u32(at + 24), this.u32(at + 12), this.u32(at + 16));
        return;
      }
      case BLOCK.simplePacket: {
        const ifc = this.interfaces[0];
        if (ifc === undefined) return this.sink.warning(`pcapng simple packet at byte offset ${this.consumed} comes before any interface block; skipped`);
        const origLen = this.u32(at + 8);
        let capLen = Math.min(origLen, length - 16);
        if (ifc.snapLen > 0) capLen = Math.min(capLen, ifc.snapLen);
        // A simple packet block has no timestamp: it inherits none (NaN would poison sums).
        this.emit(ifc, at + 12, capLen, origLen, 0, 0);
        return;
      }
      case BLOCK.packetObsolete: {
        if (length < 32) return;
        const ifc = this.interfaces[this.u16(at + 8)];
        const capLen = this.u32(at + 20);
        if (ifc === undefined || capLen > length - 32)
          return this.sink.warning(`pcapng obsolete packet block at byte offset ${this.consumed} is inconsistent; skipped`);
        this.emit(ifc, at + 28, capLen, this.u32(at + 24), this.u32(at + 12), this.u32(at + 16));
        return;
      }
      default:
        // Name resolution, statistics, decryption secrets, custom and unknown blocks carry no packets.
        return;
    }
  }

  private emit(ifc: PcapngInterface, dataAt: number, capLen: number, origLen: number, tsHigh: number, tsLow: number): void {
    const units = tsHigh * 4294967296 + tsLow;
    const seconds = Math.floor(units / ifc.unitsPerSecond);
    const nanoseconds = Math.round(((units - seconds * ifc.unitsPerSecond) * 1e9) / ifc.unitsPerSecond);
    this.packets++;
    this.bytes += capLen;
    this.sink.packet(this.buf, this.dv, dataAt, capLen, Math.max(origLen, capLen), seconds + ifc.tsOffset, nanoseconds, ifc.linkType, ifc.globalId);
  }

  private interfaceBlock(at: number, length: number): void {
    if (length < 20) throw this.error(this.consumed, `pcapng interface block is too short (${length} bytes)`);
    const linkType = this.u16(at + 8);
    const ifc: PcapngInterface = {
      linkType,
      snapLen: this.u32(at + 12),
      unitsPerSecond: 1e6,
      tsOffset: 0,
      name: null,
      globalId: this.interfaceNames.length,
    };
    let opt = at + 16;
    const optEnd = at + length - 4;
    while (opt + 4 <= optEnd) {
      const code = this.u16(opt);
      const len = this.u16(opt + 2);
      if (code === OPT.endOfOpt) break;
      if (opt + 4 + len > optEnd) {
        this.sink.warning(`pcapng interface block at byte offset ${this.consumed}: option ${code} overruns the block; later options ignored`);
        break;
      }
      const value = opt + 4;
      if (code === OPT.ifTsresol && len >= 1) {
        const resol = this.buf[value]!;
        const exponent = resol & 0x7f;
        ifc.unitsPerSecond = resol & 0x80 ? 2 ** exponent : 10 ** exponent;
      } else if (code === OPT.ifTsoffset && len >= 8) {
        const high = this.dv.getInt32(this.littleEndian ? value + 4 : value, this.littleEndian);
        const low = this.dv.getUint32(this.littleEndian ? value : value + 4, this.littleEndian);
        ifc.tsOffset = high * 4294967296 + low;
      } else if (code === OPT.ifName) {
        ifc.name = this.buf.toString('utf8', value, value + len).replace(/\0+$/, '');
      }
      opt += 4 + ((len + 3) & ~3);
    }
    this.interfaces.push(ifc);
    this.interfaceNames.push(ifc.name);
    if (!this.linkTypes.includes(linkType)) this.linkTypes.push(linkType);
  }
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
