/**
 * The adb wire formats a device speaks, as pure codecs: transport messages, shell v2 packets and
 * the sync (file transfer) protocol. No I/O here.
 *
 * References: AOSP system/core/adb/protocol.txt, SERVICES.TXT, SYNC.TXT, shell_protocol.h
 * (Android 10, the adb 29 that Debian ships); ../shared/notes/adb.md for what was measured.
 *
 * Decoders follow one shape: `decodeX(buf, offset)` returns `{ value, next }`, or `null` when
 * more bytes are needed; a streaming `XDecoder` takes chunks as they arrive and yields whole
 * values, keeping a chunk list and a cursor (never `Buffer.concat` per chunk).
 */
import { AdbProtocolError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Transport messages
// ---------------------------------------------------------------------------------------------

/** Transport commands: four ASCII bytes read as a little-endian u32 (protocol.txt). */
export const COMMAND = {
  SYNC: 0x434e5953, // 'SYNC', obsolete
  CNXN: 0x4e584e43, // 'CNXN' connect: version, maxdata, "system-identity-string"
  AUTH: 0x48545541, // 'AUTH' RSA authentication
  OPEN: 0x4e45504f, // 'OPEN' local-id, 0, "service\0"
  OKAY: 0x59414b4f, // 'OKAY' local-id, remote-id: ready for one more WRTE
  CLSE: 0x45534c43, // 'CLSE' local-id, remote-id
  WRTE: 0x45545257, // 'WRTE' local-id, remote-id, payload
  STLS: 0x534c5453, // 'STLS' TLS upgrade (adb 30+)
} as const;
export type Command = (typeof COMMAND)[keyof typeof COMMAND];

/** Bytes of a message header: command, arg0, arg1, data_length, data_check, magic (u32 LE each). */
export const HEADER_LENGTH = 24;
/** Protocol version where data_check may be 0 (A_VERSION_SKIP_CHECKSUM); what adb 29 sends. */
export const A_VERSION = 0x01000001;
/** Largest payload this side accepts (MAX_PAYLOAD of adb 29). */
export const MAX_PAYLOAD = 1024 * 1024;

export interface MessageHeader {
  command: number;
  arg0: number;
  arg1: number;
  dataLength: number;
  dataCheck: number;
}

export interface AdbMessage {
  command: number;
  arg0: number;
  arg1: number;
  /** The payload; may share memory with the chunk it arrived in: copy what you keep past the next chunk. */
  data: Buffer;
}

export interface Decoded<T> {
  value: T;
  next: number;
}

/** The pre-A_VERSION_SKIP_CHECKSUM data_check: the sum of the payload bytes, mod 2^32. */
export function dataChecksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum + data[i]!) >>> 0;
  return sum;
}

/** The name of a command value ('OKAY'), or its hex for an unknown one. */
export function commandName(command: number): string {
  for (const [name, value] of Object.entries(COMMAND)) if (value === command) return name;
  return `0x${command.toString(16).padStart(8, '0')}`;
}

/** A 24-byte header. `dataCheck` defaults to 0, which adb 29 (A_VERSION_SKIP_CHECKSUM) accepts. */
export function encodeHeader(command: number, arg0: number, arg1: number, dataLength: number, dataCheck = 0): Buffer {
  const header = Buffer.allocUnsafe(HEADER_LENGTH);
  header.writeUInt32LE(command >>> 0, 0);
  header.writeUInt32LE(arg0 >>> 0, 4);
  header.writeUInt32LE(arg1 >>> 0, 8);
  header.writeUInt32LE(dataLength >>> 0, 12);
  header.writeUInt32LE(dataCheck >>> 0, 16);
  header.writeUInt32LE((command ^ 0xffffffff) >>> 0, 20);
  return header;
}

/** A whole message in one buffer (header with a real data_check, then the payload). */
export function encodeMessage(message: AdbMessage): Buffer {
  const out = Buffer.allocUnsafe(HEADER_LENGTH + message.data.length);
  encodeHeader(message.command, message.arg0, message.arg1, message.data.length, dataChecksum(message.data)).copy(out, 0);
  out.set(message.data, HEADER_LENGTH);
  return out;
}

/**
 * Checks the fields of a header already read; `at` is the stream offset of the header, for the
 * error. The magic is the command's complement; a data_length above `maxData` is refused before
 * any payload is buffered.
 */
function checkHeader(header: MessageHeader, magic: number, at: number, maxData: number): void {
  if (magic !== (header.command ^ 0xffffffff) >>> 0) {
    throw new AdbProtocolError('transport', at + 20, `magic 0x${magic.toString(16)} is not command 0x${header.command.toString(16)} ^ 0xffffffff`);
  }
  if (header.dataLength > maxData) {
    throw new AdbProtocolError('transport', at + 12, `data_length ${header.dataLength} of ${commandName(header.command)} exceeds maxdata ${maxData}`);
  }
}

/** Decodes the message at `offset` of `buf`, `null` if the buffer ends before it does. */
export function decodeMessage(buf: Buffer, offset = 0, maxData = MAX_PAYLOAD): Decoded<AdbMessage> | null {
  if (buf.length - offset < HEADER_LENGTH) return null;
  const header: MessageHeader = {
    command: buf.readUInt32LE(offset),
    arg0: buf.readUInt32LE(offset + 4),
    arg1: buf.readUInt32LE(offset + 8),
    dataLength: buf.readUInt32LE(offset + 12),
    dataCheck: buf.readUInt32LE(offset + 16),
  };
  checkHeader(header, buf.readUInt32LE(offset + 20), offset, maxData);
  const end = offset + HEADER_LENGTH + header.dataLength;
  if (buf.length < end) return null;
  return { value: { command: header.command, arg0: header.arg0, arg1: header.arg1, data: buf.subarray(offset + HEADER_LENGTH, end) }, next: end };
}

// ---------------------------------------------------------------------------------------------
// A byte queue over received chunks
// ---------------------------------------------------------------------------------------------

/**
 * Received chunks and a read cursor. Reads of a few bytes at a position, and `take` of a range,
 * which is a view into the chunk when the range lies in one (the usual case) and one copy when
 * it straddles chunks.
 */
export class ByteQueue {
  #chunks: Buffer[] = [];
  #head = 0;
  #cursor = 0;
  /** Bytes buffered past the cursor. */
  length = 0;
  /** Bytes consumed since the start of the stream: the stream offset of the cursor. */
  consumed = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The byte `at` bytes past the cursor; the caller has checked `at < length`. */
  uint8(at: number): number {
    let i = this.#head;
    let pos = this.#cursor + at;
    for (;;) {
      const chunk = this.#chunks[i]!;
      if (pos < chunk.length) return chunk[pos]!;
      pos -= chunk.length;
      i++;
    }
  }

  /** The little-endian u32 `at` bytes past the cursor; the caller has checked `at + 4 <= length`. */
  uint32LE(at: number): number {
    const first = this.#chunks[this.#head]!;
    const pos = this.#cursor + at;
    if (pos + 4 <= first.length) return first.readUInt32LE(pos);
    return (this.uint8(at) | (this.uint8(at + 1) << 8) | (this.uint8(at + 2) << 16) | (this.uint8(at + 3) << 24)) >>> 0;
  }

  /** Removes and returns the next `n` bytes; the caller has checked `n <= length`. */
  take(n: number): Buffer {
    const first = this.#chunks[this.#head];
    if (n === 0 || first === undefined) return Buffer.alloc(0);
    if (this.#cursor + n <= first.length) {
      const view = first.subarray(this.#cursor, this.#cursor + n);
      this.skip(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[this.#head]!;
      const count = Math.min(n - filled, chunk.length - this.#cursor);
      chunk.copy(out, filled, this.#cursor, this.#cursor + count);
      filled += count;
      this.skip(count);
    }
    return out;
  }

  /** Drops the next `n` bytes; the caller has checked `n <= length`. */
  skip(n: number): void {
    this.length -= n;
    this.consumed += n;
    let left = n;
    while (left > 0) {
      const chunk = this.#chunks[this.#head]!;
      const inChunk = chunk.length - this.#cursor;
      if (left < inChunk) {
        this.#cursor += left;
        return;
      }
      left -= inChunk;
      this.#chunks[this.#head] = EMPTY;
      this.#head++;
      this.#cursor = 0;
    }
    // Drop consumed slots now and then, not per chunk (Array#shift is O(n)).
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head > 64) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}
const EMPTY = Buffer.alloc(0);

/** Streaming transport decoder: push chunks as they arrive, iterate the whole messages. */
export class MessageDecoder {
  readonly #queue = new ByteQueue();
  #header: MessageHeader | null = null;

  /** @param maxData the largest data_length accepted (what this side advertised in CNXN). */
  constructor(readonly maxData = MAX_PAYLOAD) {}

  /** Stream offset of the next byte to decode. */
  get offset(): number {
    return this.#queue.consumed;
  }

  *push(chunk: Buffer): Generator<AdbMessage> {
    const queue = this.#queue;
    queue.push(chunk);
    for (;;) {
      if (this.#header === null) {
        if (queue.length < HEADER_LENGTH) return;
        const header: MessageHeader = {
          command: queue.uint32LE(0),
          arg0: queue.uint32LE(4),
          arg1: queue.uint32LE(8),
          dataLength: queue.uint32LE(12),
          dataCheck: queue.uint32LE(16),
        };
        checkHeader(header, queue.uint32LE(20), queue.consumed, this.maxData);
        queue.skip(HEADER_LENGTH);
        this.#header = header;
      }
      const header = this.#header;
      if (queue.length < header.dataLength) return;
      this.#header = null;
      yield { command: header.command, arg0: header.arg0, arg1: header.arg1, data: queue.take(header.dataLength) };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Shell protocol v2 (shell_protocol.h): [id u8][length u32 LE][data]
// ---------------------------------------------------------------------------------------------

export const SHELL_PACKET = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  /** One byte: the exit code. */
  exit: 3,
  closeStdin: 4,
  /** ASCII "rowsxcols,xpixelsxypixels"; only meaningful with a pty. */
  windowSize: 5,
} as const;
export type ShellPacketId = (typeof SHELL_PACKET)[keyof typeof SHELL_PACKET];

export const SHELL_HEADER_LENGTH = 5;

export interface ShellPacket {
  id: number;
  data: Buffer;
}

export function encodeShellHeader(id: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(SHELL_HEADER_LENGTH);
  header.writeUInt8(id, 0);
  header.writeUInt32LE(length, 1);
  return header;
}

export function encodeShellPacket(id: number, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(SHELL_HEADER_LENGTH + data.length);
  out.writeUInt8(id, 0);
  out.writeUInt32LE(data.length, 1);
  out.set(data, SHELL_HEADER_LENGTH);
  return out;
}

function checkShellLength(length: number, at: number, maxData: number): void {
  if (length > maxData) throw new AdbProtocolError('shell', at + 1, `packet length ${length} exceeds ${maxData}`);
}

export function decodeShellPacket(buf: Buffer, offset = 0, maxData = MAX_PAYLOAD): Decoded<ShellPacket> | null {
  if (buf.length - offset < SHELL_HEADER_LENGTH) return null;
  const length = buf.readUInt32LE(offset + 1);
  checkShellLength(length, offset, maxData);
  const end = offset + SHELL_HEADER_LENGTH + length;
  if (buf.length < end) return null;
  return { value: { id: buf[offset]!, data: buf.subarray(offset + SHELL_HEADER_LENGTH, end) }, next: end };
}

/** Streaming shell v2 decoder: packets may span WRTE payloads. */
export class ShellPacketDecoder {
  readonly #queue = new ByteQueue();

  constructor(readonly maxData = MAX_PAYLOAD) {}

  *push(chunk: Buffer): Generator<ShellPacket> {
    const queue = this.#queue;
    queue.push(chunk);
    while (queue.length >= SHELL_HEADER_LENGTH) {
      const length = queue.uint32LE(1);
      checkShellLength(length, queue.consumed, this.maxData);
      if (queue.length < SHELL_HEADER_LENGTH + length) return;
      const id = queue.uint8(0);
      queue.skip(SHELL_HEADER_LENGTH);
      yield { id, data: queue.take(length) };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sync protocol (SYNC.TXT, file_sync_service.h): ids are four ASCII bytes as a u32 LE
// ---------------------------------------------------------------------------------------------

export const SYNC = {
  STAT: 0x54415453, // 'STAT' request: path; reply: mode, size, mtime (all 0 if missing)
  LIST: 0x5453494c, // 'LIST' request: path; reply: DENT* then DONE
  SEND: 0x444e4553, // 'SEND' request: "path,mode"; then DATA* and DONE(mtime); reply OKAY or FAIL
  RECV: 0x56434552, // 'RECV' request: path; reply DATA* then DONE, or FAIL
  DENT: 0x544e4544, // 'DENT' mode, size, mtime, namelen, name
  DONE: 0x454e4f44, // 'DONE' end of a LIST/RECV reply; end of SEND data, with the mtime
  DATA: 0x41544144, // 'DATA' length, bytes (at most SYNC_DATA_MAX)
  OKAY: 0x59414b4f, // 'OKAY' SEND succeeded
  FAIL: 0x4c494146, // 'FAIL' length, message
  QUIT: 0x54495551, // 'QUIT' end of the sync session
} as const;
export type SyncId = (typeof SYNC)[keyof typeof SYNC];

/** Largest DATA payload (SYNC_DATA_MAX). */
export const SYNC_DATA_MAX = 64 * 1024;
/** Longest path adbd accepts in a request (file_sync_service.cpp: "path too long"). */
export const SYNC_PATH_MAX = 1024;

export function syncIdName(id: number): string {
  for (const [name, value] of Object.entries(SYNC)) if (value === id) return name;
  return `0x${id.toString(16).padStart(8, '0')}`;
}

/**
 * One unit sent by the host on a sync stream: a request with a path (STAT, LIST, RECV, SEND,
 * QUIT), a DATA block, or DONE. For DONE `arg` is the mtime and `data` is empty; for the others
 * `arg` is the length of `data`.
 */
export interface SyncRequest {
  id: number;
  arg: number;
  data: Buffer;
}

/** [id][u32 LE arg]: a DATA header, the DONE of RECV, the OKAY of SEND, the DONE(mtime) of SEND. */
export function encodeSyncHeader(id: number, arg: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeUInt32LE(id, 0);
  out.writeUInt32LE(arg >>> 0, 4);
  return out;
}

/** A request with a path or a DATA block: [id][length][bytes]. */
export function encodeSyncRequest(id: number, data: Uint8Array | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const out = Buffer.allocUnsafe(8 + bytes.length);
  out.writeUInt32LE(id, 0);
  out.writeUInt32LE(bytes.length, 4);
  out.set(bytes, 8);
  return out;
}

/** STAT reply; u32 fields, so a size or mtime past 2^32 wraps as in adbd's v1 STAT. */
export function encodeSyncStat(mode: number, size: number, mtime: number): Buffer {
  const out = Buffer.allocUnsafe(16);
  out.writeUInt32LE(SYNC.STAT, 0);
  out.writeUInt32LE(mode >>> 0, 4);
  out.writeUInt32LE(size >>> 0, 8);
  out.writeUInt32LE(mtime >>> 0, 12);
  return out;
}

export function encodeSyncDent(mode: number, size: number, mtime: number, name: string): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const out = Buffer.allocUnsafe(20 + nameBytes.length);
  out.writeUInt32LE(SYNC.DENT, 0);
  out.writeUInt32LE(mode >>> 0, 4);
  out.writeUInt32LE(size >>> 0, 8);
  out.writeUInt32LE(mtime >>> 0, 12);
  out.writeUInt32LE(nameBytes.length, 16);
  out.set(nameBytes, 20);
  return out;
}

/** The DONE that ends a LIST reply has the shape of a DENT (20 bytes, all zero): adbkit reads 16 after the id. */
export function encodeSyncListDone(): Buffer {
  const out = Buffer.alloc(20);
  out.writeUInt32LE(SYNC.DONE, 0);
  return out;
}

export function encodeSyncFail(message: string): Buffer {
  return encodeSyncRequest(SYNC.FAIL, message);
}

function syncLimit(id: number): number {
  return id === SYNC.DATA ? SYNC_DATA_MAX : SYNC_PATH_MAX;
}

function checkSyncLength(id: number, length: number, at: number): void {
  const limit = syncLimit(id);
  if (length > limit) throw new AdbProtocolError('sync', at + 4, `${syncIdName(id)} length ${length} exceeds ${limit}`);
}

/** Decodes one host-to-device sync unit at `offset`, `null` if more bytes are needed. */
export function decodeSyncRequest(buf: Buffer, offset = 0): Decoded<SyncRequest> | null {
  if (buf.length - offset < 8) return null;
  const id = buf.readUInt32LE(offset);
  const arg = buf.readUInt32LE(offset + 4);
  if (id === SYNC.DONE) return { value: { id, arg, data: buf.subarray(offset + 8, offset + 8) }, next: offset + 8 };
  checkSyncLength(id, arg, offset);
  const end = offset + 8 + arg;
  if (buf.length < end) return null;
  return { value: { id, arg, data: buf.subarray(offset + 8, end) }, next: end };
}

/** Streaming decoder of what the host sends on a sync stream. */
export class SyncRequestDecoder {
  readonly #queue = new ByteQueue();

  *push(chunk: Buffer): Generator<SyncRequest> {
    const queue = this.#queue;
    queue.push(chunk);
    while (queue.length >= 8) {
      const id = queue.uint32LE(0);
      const arg = queue.uint32LE(4);
      const length = id === SYNC.DONE ? 0 : arg;
      if (id !== SYNC.DONE) checkSyncLength(id, arg, queue.consumed);
      if (queue.length < 8 + length) return;
      queue.skip(8);
      yield { id, arg, data: queue.take(length) };
    }
  }
}
