/**
 * Files written whole or not at all: to a temporary name beside the file, then renamed over it.
 * A crash, a kill -9 or a full disk leaves the previous version and no half-written copy, and an
 * error names the file meant (a failed write(2) carries no path of its own).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchownSync, fstatSync, fsyncSync, lstatSync, openSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';

export interface WholeFileOptions {
  /** fsync before the rename, for files a power cut must not lose (results.json). @default false */
  durable?: boolean;
  /** Owner to give the file before it appears (a root writer keeping a file its directory owner's). */
  owner?: { uid: number; gid: number };
  /** @default 0o644 */
  mode?: number;
  /**
   * Replace whatever is at the path, a device or FIFO included: for outputs in a directory that
   * may come from elsewhere (a run directory), where a FIFO named index.html is a trap, not a
   * place the user chose. @default false
   */
  replaceSpecial?: boolean;
}

/**
 * The temporary file: a name nobody can guess, created only if nothing (not even a symlink) is
 * there, never followed: a directory someone else can write to cannot redirect a root writer.
 */
const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export function writeFileWhole(file: string, data: string | Uint8Array, options: WholeFileOptions = {}): void {
  // A device or FIFO named as the output (`--html /dev/stdout`, itself a symlink) is written to,
  // never renamed over: that would replace it with a regular file. Anything else, a symlink to a
  // file or directory included, is replaced by the rename, never written through.
  if (!options.replaceSpecial && isDeviceOrFifo(file)) {
    writeFileSync(file, data);
    return;
  }
  const temp = `${file}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    const fd = openSync(temp, TEMP_FLAGS, options.mode ?? 0o644);
    try {
      // writeFileSync on a descriptor loops until all is written.
      writeFileSync(fd, data);
      if (options.durable) fsyncSync(fd);
      // On the descriptor: the name could be swapped between a path chown and the rename.
      if (options.owner) fchownSync(fd, options.owner.uid, options.owner.gid);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    const e = error as NodeJS.ErrnoException;
    if (e.code !== undefined) {
      e.path = file;
      // write(2)'s error names no file: say which one, as open(2)'s does.
      if (!e.message.includes(file)) e.message = `${e.message} '${file}'`;
    }
    throw error;
  }
}

/** JSON, indented, with a final newline, written whole. */
export function writeJsonWhole(file: string, value: unknown, options: WholeFileOptions = {}): void {
  writeFileWhole(file, `${JSON.stringify(value, null, 2)}\n`, options);
}

/**
 * Removes a half-written output file; only a regular file, ever: an output path may be a device
 * (`/dev/full`, `/dev/null`) or a FIFO the user named, which must never be unlinked.
 */
export function removePartialFile(file: string): void {
  try {
    if (lstatSync(file).isFile()) rmSync(file, { force: true });
  } catch {
    // already gone
  }
}

function isDeviceOrFifo(file: string): boolean {
  try {
    const stat = statSync(file);
    return stat.isCharacterDevice() || stat.isBlockDevice() || stat.isFIFO();
  } catch {
    return false;
  }
}

/**
 * The bytes of a regular file of at most `cap` bytes, or why not: opened with O_NOFOLLOW and
 * O_NONBLOCK (a FIFO put there after it was looked at neither hangs nor is read) and checked
 * again on the descriptor, then read to at most `cap` bytes whatever it grows to meanwhile.
 */
export function readCappedFile(file: string, cap: number): { bytes: Buffer } | { problem: string } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { problem: code === 'ELOOP' ? 'a symlink (not followed)' : code === 'ENOENT' ? 'missing' : `cannot be opened (${code})` };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { problem: 'not a regular file' };
    if (stat.size > cap) return { problem: `${stat.size} bytes, over the ${cap}-byte limit` };
    const bytes = Buffer.alloc(Math.min(stat.size, cap) + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, bytes, length, bytes.length - length, null);
      if (n === 0) break;
      length += n;
      if (length === bytes.length) return { problem: `grew over the ${cap}-byte limit while read` };
    }
    return { bytes: bytes.subarray(0, length) };
  } finally {
    closeSync(fd);
  }
}
