/**
 * Files written whole or not at all: to a temporary name beside the file, then renamed over it.
 * A crash, a kill -9 or a full disk leaves the previous version and no half-written copy, and an
 * error names the file meant (a failed write(2) carries no path of its own).
 */
import { chownSync, closeSync, fsyncSync, lstatSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export interface WholeFileOptions {
  /** fsync before the rename, for files a power cut must not lose (results.json). @default false */
  durable?: boolean;
  /** Owner to give the file before it appears (a root writer keeping a file its directory owner's). */
  owner?: { uid: number; gid: number };
  /** @default 0o644 */
  mode?: number;
}

let serial = 0;

export function writeFileWhole(file: string, data: string | Uint8Array, options: WholeFileOptions = {}): void {
  // A device, FIFO or symlink named as the output (`--html /dev/stdout`) is written to, never
  // renamed over: that would replace it with a regular file.
  if (!isRegularOrAbsent(file)) {
    writeFileSync(file, data);
    return;
  }
  const temp = `${file}.${process.pid}.${++serial}.tmp`;
  try {
    const fd = openSync(temp, 'w', options.mode ?? 0o644);
    try {
      // writeFileSync on a descriptor loops until all is written.
      writeFileSync(fd, data);
      if (options.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.owner) chownSync(temp, options.owner.uid, options.owner.gid);
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

function isRegularOrAbsent(file: string): boolean {
  try {
    return lstatSync(file).isFile();
  } catch {
    return true;
  }
}
