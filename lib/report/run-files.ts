/**
 * The files of a run directory as the reports touch them, for a directory that may come from an
 * archive or another machine (SECURITY.md: a run directory is not trusted). Every path it names
 * is found inside the run (or, for a merge, inside the runs it was made of), through no symlink,
 * as a regular file of bounded size, and read from a descriptor opened without following a
 * symlink or waiting on a FIFO; anything else is a problem to show, never a file to read. Every
 * file a report writes goes to a fresh temporary name (O_CREAT|O_EXCL|O_NOFOLLOW, random) and is
 * renamed over its target (lib/config/files.ts), so a target that is a symlink is replaced, never
 * written through.
 */
import { lstatSync, mkdtempSync, realpathSync, renameSync, rmSync, type Stats, unlinkSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { readCappedFile, writeFileWhole } from '../config/files.js';

// Reading a file a run directory controls is one mechanism for the whole project (the lab reads
// its handsets' state files with it too): it lives in config, and report code keeps importing it here.
export { readCappedFile };
import { ResultsFileError } from './results.js';

/**
 * An app's analysis evidence: every flow and DNS answer of its capture window. A busy app over a
 * long window writes a few MiB; 64 MiB is far above any real one and still parses in a second or
 * two, where an unbounded read of a hostile file would take the report's memory.
 */
export const MAX_ANALYSIS_JSON = 64 * 1024 * 1024;
/** A device's facts.json (getprop, link properties): some kB. */
export const MAX_FACTS_JSON = 4 * 1024 * 1024;
/** An os/apn check's evidence JSON: some kB of device output. */
export const MAX_CHECK_JSON = 16 * 1024 * 1024;

export type Located = { file: string; size: number } | { problem: string };

/**
 * Where `path` (relative to `runDir`, as results.json names evidence) is, if it is a regular file
 * inside one of `roots` reached through no symlink (neither the file nor a directory on the way),
 * at most `cap` bytes; else why not. Nothing is opened.
 */
export function locateRunFile(runDir: string, roots: readonly string[], path: string, cap: number): Located {
  if (path.includes('\u0000')) return { problem: 'not a file name' };
  const file = resolve(runDir, path);
  const root = roots
    .map((r) => resolve(r))
    .find((r) => {
      const within = relative(r, file);
      return within !== '' && !within.startsWith('..') && !isAbsolute(within);
    });
  if (root === undefined) return { problem: 'outside the run directory' };
  let stat: Stats;
  try {
    stat = lstatSync(file);
  } catch {
    return { problem: 'missing' };
  }
  if (stat.isSymbolicLink()) return { problem: 'a symlink (not followed)' };
  if (!stat.isFile()) return { problem: 'not a regular file' };
  if (stat.size > cap) return { problem: `${stat.size} bytes, over the ${cap}-byte limit` };
  // Through a symlinked directory, the file's real path is not the one its name says.
  try {
    if (relative(realpathSync(root), realpathSync(file)) !== relative(root, file)) return { problem: 'reached through a symlinked directory (not followed)' };
  } catch {
    return { problem: 'missing' };
  }
  return { file, size: stat.size };
}

/** A run file's text, located and read under `cap`, or why it is not available. */
export function readRunFile(runDir: string, roots: readonly string[], path: string, cap: number): { file: string; text: string } | { problem: string } {
  const found = locateRunFile(runDir, roots, path, cap);
  if ('problem' in found) return found;
  const read = readCappedFile(found.file, cap);
  return 'problem' in read ? read : { file: found.file, text: read.bytes.toString('utf8') };
}

/**
 * Writes `file` whole by a rename over it from a new, randomly named file beside it (O_CREAT,
 * O_EXCL, O_NOFOLLOW: a name planted in advance is never opened). A target that is a symlink,
 * FIFO or device is replaced, not written through. An error names `file` and keeps its code
 * (ENOSPC, EROFS) for the caller to route.
 */
export function writeRunFile(file: string, data: string | Uint8Array, options: { durable?: boolean } = {}): void {
  writeFileWhole(file, data, { ...options, replaceSpecial: true });
}

/** A new, empty, randomly named directory inside `dir` for output that replaces `dir/name` once complete. */
export function freshDirectory(dir: string, name: string): string {
  return mkdtempSync(join(dir, `.${name}.`));
}

/**
 * Puts the complete directory `fresh` in place of `target` (both in the same run directory):
 * an absent target or a real directory of the run is replaced (the old one removed after), a
 * symlink is removed itself (never what it points to); anything else (a file, a FIFO) stays, and
 * `fresh` is removed: a ResultsFileError (exit 2, one line).
 */
export function replaceDirectory(fresh: string, target: string): void {
  let stat: Stats | null = null;
  try {
    stat = lstatSync(target);
  } catch {
    // absent: renamed into place below
  }
  if (stat?.isSymbolicLink()) unlinkSync(target);
  else if (stat !== null && !stat.isDirectory()) {
    rmSync(fresh, { recursive: true, force: true });
    throw new ResultsFileError(target, 'is not a directory: move it away, and the report is written there');
  }
  if (stat?.isDirectory()) {
    const old = `${fresh}.old`;
    renameSync(target, old);
    renameSync(fresh, target);
    // rm never follows a symlink inside what it removes.
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(fresh, target);
  }
}
