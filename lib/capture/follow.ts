/**
 * Follows a pcap file another process is growing on the host (the Android emulator's
 * `-tcpdump FILE`, or any tap written with `tcpdump -U -w FILE`): a stream of the file's header
 * and then only the whole records appended after the stream opened, the way `tcpdump -w -`
 * streams a capture from its start. A record half-written when the stream opens, or when it is
 * stopped, is never passed on: the stream is always a valid pcap.
 *
 * Where the last whole record ends is found by walking record headers; the walk's end is kept
 * per file for the process, so a capture window after the first walks only what was appended
 * since (an emulator's file grows for hours).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { CaptureFormatError } from './errors.js';

const FILE_HEADER = 24;
const RECORD_HEADER = 16;
/** A record longer than this is a broken file, not a packet (pcap's own snaplen bound). */
const MAX_RECORD = 262_144;
const READ_CHUNK = 256 * 1024;
const POLL_MS = 20;

/** Per file (path + inode): the offset where its last walked whole record ends. */
const walked = new Map<string, number>();

export interface FollowOptions {
  /** How often to look for appended bytes. @default 20 */
  pollMs?: number;
}

/** pcap's magic numbers: byte order from the first read, µs or ns. */
function littleEndian(header: Buffer, file: string): boolean {
  const asLittle = header.readUInt32LE(0);
  if (asLittle === 0xa1b2c3d4 || asLittle === 0xa1b23c4d) return true;
  const asBig = header.readUInt32BE(0);
  if (asBig === 0xa1b2c3d4 || asBig === 0xa1b23c4d) return false;
  if (asLittle === 0x0a0d0d0a)
    throw new CaptureFormatError(0, "is pcapng: a followed capture must be pcap (the emulator's -tcpdump and tcpdump -w write pcap)", file);
  throw new CaptureFormatError(0, `not a pcap file (magic 0x${asLittle.toString(16).padStart(8, '0')})`, file);
}

/**
 * A stream of `file`'s pcap header followed by the whole records appended from now on. Errors
 * (the file missing, not pcap, shrinking because its writer restarted, a record length no pcap
 * has) end the stream with an error naming the file and the byte offset.
 */
export function followPcapFile(file: string, options: FollowOptions = {}): Readable {
  const pollMs = options.pollMs ?? POLL_MS;
  let handle: FileHandle | null = null;
  let timer: NodeJS.Timeout | null = null;
  let key = '';
  let little = true;
  /** Where the next unread byte is, and the bytes read past the last whole record. */
  let position = 0;
  let pending = Buffer.alloc(0);
  let reading = false;
  let stopped = false;
  const chunk = Buffer.allocUnsafe(READ_CHUNK);

  const stream = new Readable({
    read() {},
    destroy(error, callback) {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      const closing = handle?.close() ?? Promise.resolve();
      handle = null;
      closing.then(
        () => callback(error),
        () => callback(error),
      );
    },
  });

  /** Splits `data` (starting at a record boundary) into whole records and the rest. */
  const wholeRecords = (data: Buffer, offset: number): number => {
    let at = 0;
    while (data.length - at >= RECORD_HEADER) {
      const included = little ? data.readUInt32LE(at + 8) : data.readUInt32BE(at + 8);
      if (included > MAX_RECORD) throw new CaptureFormatError(offset + at + 8, `record length ${included} is more than any pcap record (${MAX_RECORD})`, file);
      if (data.length - at < RECORD_HEADER + included) break;
      at += RECORD_HEADER + included;
    }
    return at;
  };

  /** Reads what was appended since the last look; `emit` false while finding the start. */
  const readAppended = async (emit: boolean): Promise<void> => {
    for (;;) {
      const { size } = await handle!.stat();
      if (size < position)
        throw new CaptureFormatError(size, `the file shrank from ${position} to ${size} bytes: its writer started it again (the emulator restarted?)`, file);
      if (size === position) return;
      const { bytesRead } = await handle!.read(chunk, 0, Math.min(READ_CHUNK, size - position), position);
      if (bytesRead === 0) return;
      const data = pending.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([pending, chunk.subarray(0, bytesRead)]);
      const start = position - pending.length;
      position += bytesRead;
      const whole = wholeRecords(data, start);
      if (emit && whole > 0) stream.push(Buffer.from(data.subarray(0, whole)));
      walked.set(key, start + whole);
      pending = Buffer.from(data.subarray(whole));
    }
  };

  const poll = (): void => {
    if (stopped || reading) return;
    reading = true;
    readAppended(true).then(
      () => {
        reading = false;
        if (!stopped) timer = setTimeout(poll, pollMs);
      },
      (error: unknown) => {
        reading = false;
        stream.destroy(error as Error);
      },
    );
  };

  void (async () => {
    handle = await open(file, 'r');
    const header = Buffer.alloc(FILE_HEADER);
    const { bytesRead } = await handle.read(header, 0, FILE_HEADER, 0);
    if (bytesRead < FILE_HEADER)
      throw new CaptureFormatError(bytesRead, `has ${bytesRead} bytes, less than a pcap header: is the capture writing to it?`, file);
    little = littleEndian(header, file);
    const { ino } = await handle.stat();
    key = `${file}|${ino}`;
    // Skip what is already there: walk from where the last window's walk ended (or the header).
    position = Math.max(FILE_HEADER, walked.get(key) ?? FILE_HEADER);
    await readAppended(false);
    if (stopped) return;
    stream.push(header);
    timer = setTimeout(poll, pollMs);
  })().catch((error: unknown) => {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? new CaptureFormatError(0, "does not exist: is the capture (the emulator's -tcpdump) writing it?", file)
        : (error as Error);
    stream.destroy(reason);
  });
  return stream;
}
