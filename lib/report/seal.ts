/**
 * Sealed evidence (issue 18): when a run finishes, results.json lists every evidence file of the
 * run with its size and sha256, and `v6lab report --verify DIR` names any file that changed, went
 * missing or was added since. A carrier files the report with its pcaps; the seal shows they are
 * the ones the verdicts were judged on.
 *
 * Sealed: every regular file under the run directory except what the reports regenerate
 * (index.html, junit.xml, report.pdf, allure-results/, allure-report/, results.json and its lock,
 * and their temporary names while a report is written), and, for a merge, the evidence and facts
 * files its results name in the runs it was made of. A symlink is never followed: one in the run
 * directory is not sealed, and `--verify` names it. Files are hashed as streams (a pcap of
 * gigabytes takes no more memory than a small one), read from a descriptor opened without
 * following a symlink or waiting on a FIFO.
 */
import { createHash } from 'node:crypto';
import { constants, type Dirent, lstatSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { RESULTS_FILE, ResultsFileError, type RunResults, type SealedFile } from './results.js';
import { locateRunFile } from './run-files.js';

/** What the reports write into a run directory, again on every `v6lab report`: never sealed. */
const REGENERATED = new Set(['index.html', 'junit.xml', 'report.pdf', 'allure-results', 'allure-report', RESULTS_FILE, `${RESULTS_FILE}.lock`]);

/**
 * A top-level name that is a report being written at this moment: a regenerated file's temporary
 * name (lib/config/files.ts: `NAME.<16 hex>.tmp`), Allure's fresh output directory
 * (`.allure-report.XXXXXX`), results.json's lock taker files (`results.json.lock.PID`).
 */
function regenerated(name: string): boolean {
  if (REGENERATED.has(name)) return true;
  const temp = /^(.+)\.[0-9a-f]{16}\.tmp$/.exec(name);
  if (temp !== null && REGENERATED.has(temp[1]!)) return true;
  return name.startsWith('.allure-report.') || name.startsWith(`${RESULTS_FILE}.lock.`);
}

/** An entry of the run directory as the walk found it: a regular file, or something not sealed. */
export interface RunEntry {
  /** Relative to the run directory, `/`-separated. */
  path: string;
  kind: 'file' | 'symlink' | 'other';
}

const posix = (path: string): string => path.split(sep).join('/');

/**
 * Every entry under `dir` a seal covers, sorted by path: regular files, and symlinks and other
 * special files (named, never followed or read). Directories in `skip` (absolute: a merge's runs
 * inside it, whose evidence is sealed by name) are not entered.
 */
export function runEntries(dir: string, skip: readonly string[] = []): RunEntry[] {
  const root = resolve(dir);
  const skipped = new Set(skip.map((s) => resolve(s)));
  const out: RunEntry[] = [];
  // An explicit stack, not recursion: a deep tree from an archive cannot overflow the call stack.
  const pending: string[] = [root];
  while (pending.length > 0) {
    const at = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(at, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const full = join(at, entry.name);
      if (at === root && regenerated(entry.name)) continue;
      const path = posix(relative(root, full));
      // Dirent types come from the directory itself (lstat's view): a symlink is a symlink.
      if (entry.isDirectory()) {
        if (!skipped.has(full)) pending.push(full);
      } else if (entry.isFile()) out.push({ path, kind: 'file' });
      else out.push({ path, kind: entry.isSymbolicLink() ? 'symlink' : 'other' });
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Read size when hashing: the whole file never sits in memory. */
const CHUNK = 1024 * 1024;

/** A regular file's size and sha256, streamed; or why it cannot be read (a symlink, not a regular file, gone). */
export async function hashFile(file: string): Promise<{ bytes: number; sha256: string } | { problem: string }> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { problem: code === 'ELOOP' ? 'a symlink (not followed)' : code === 'ENOENT' ? 'missing' : `cannot be opened (${code})` };
  }
  try {
    if (!(await handle.stat()).isFile()) return { problem: 'not a regular file' };
    const hash = createHash('sha256');
    const buffer = Buffer.alloc(CHUNK);
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    return { bytes, sha256: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

/** The runs a merge was made of that lie inside its directory: their evidence is sealed by name, their reports not at all. */
function mergedRunsInside(dir: string, doc: RunResults): string[] {
  const root = resolve(dir);
  return (doc.run.merged ?? [])
    .map((m) => resolve(root, m.dir))
    .filter((source) => {
      const within = relative(root, source);
      return within !== '' && !within.startsWith('..') && !isAbsolute(within);
    });
}

/**
 * The evidence files a merged document names outside its own walk (its runs' pcaps, analyses,
 * facts), relative to `dir` as results.json names them; only regular files reached through no
 * symlink (lib/report/run-files.ts), the others left for the reports to say not available.
 */
function namedEvidence(dir: string, doc: RunResults): string[] {
  if (doc.run.merged === undefined) return [];
  const roots = [resolve(dir), ...(doc.run.merged ?? []).map((m) => resolve(dir, m.dir))];
  const named = new Set<string>();
  for (const r of doc.results) for (const path of [...r.evidence, ...(r.runs ?? []).flatMap((x) => x.evidence)]) named.add(path);
  for (const d of doc.devices) if (d.factsFile !== undefined) named.add(d.factsFile);
  return [...named].filter((path) => !('problem' in locateRunFile(dir, roots, path, Number.MAX_SAFE_INTEGER))).map(posix);
}

/** The seal of a run directory as it is now: every evidence file, its size and sha256. */
export async function sealRun(dir: string, doc: RunResults, now = new Date()): Promise<NonNullable<RunResults['sealed']>> {
  const paths = new Set(
    runEntries(dir, mergedRunsInside(dir, doc))
      .filter((e) => e.kind === 'file')
      .map((e) => e.path),
  );
  for (const path of namedEvidence(dir, doc)) paths.add(path);
  const files: SealedFile[] = [];
  for (const path of [...paths].sort()) {
    const hashed = await hashFile(resolve(dir, path));
    // A file removed between the walk and its hashing was not there to seal.
    if ('problem' in hashed) continue;
    files.push({ path, ...hashed });
  }
  return { at: now.toISOString(), files };
}

export type SealProblemKind = 'changed' | 'missing' | 'added';

export interface SealProblem {
  path: string;
  problem: SealProblemKind;
  /** In words: `sha256 a1b2... -> c3d4... (size 5120 bytes unchanged)`, `5120 -> 5121 bytes`, `a symlink, not sealed`. */
  detail: string;
}

export interface SealVerification {
  dir: string;
  sealedAt: string;
  /** How many files the seal lists. */
  sealed: number;
  /** Changed, missing and added files, by path. */
  problems: SealProblem[];
}

/** results.json has no seal: a run from before v6lab sealed, or one that did not finish. Exit 2. */
export class NotSealedError extends ResultsFileError {
  constructor(dir: string) {
    super(
      join(dir, RESULTS_FILE),
      'has no seal (no `sealed` list): the run did not finish, or was written before v6lab sealed evidence; nothing to verify against',
    );
  }
}

/**
 * Checks every sealed file of `dir` against its size and sha256, and looks for files added
 * where the seal covers (a symlink or special file there is named, never followed). Throws
 * NotSealedError when results.json has no seal.
 */
export async function verifySeal(dir: string, doc: RunResults): Promise<SealVerification> {
  if (doc.sealed === undefined) throw new NotSealedError(dir);
  const problems: SealProblem[] = [];
  const root = resolve(dir);
  for (const file of doc.sealed.files) {
    const full = resolve(root, file.path);
    if (file.path.includes('\u0000')) {
      problems.push({ path: file.path, problem: 'missing', detail: 'not a file name' });
      continue;
    }
    let isLink = false;
    try {
      isLink = lstatSync(full).isSymbolicLink();
    } catch {
      problems.push({ path: file.path, problem: 'missing', detail: `sealed as ${file.bytes} bytes; no such file now` });
      continue;
    }
    if (isLink) {
      problems.push({ path: file.path, problem: 'changed', detail: 'now a symlink (not followed)' });
      continue;
    }
    const now = await hashFile(full);
    if ('problem' in now) {
      problems.push({ path: file.path, problem: now.problem === 'missing' ? 'missing' : 'changed', detail: now.problem });
      continue;
    }
    if (now.bytes !== file.bytes) problems.push({ path: file.path, problem: 'changed', detail: `size ${file.bytes} -> ${now.bytes} bytes` });
    else if (now.sha256 !== file.sha256)
      problems.push({
        path: file.path,
        problem: 'changed',
        detail: `sha256 ${file.sha256.slice(0, 12)}... -> ${now.sha256.slice(0, 12)}... (size ${file.bytes} bytes unchanged)`,
      });
  }
  const sealed = new Set(doc.sealed.files.map((f) => f.path));
  for (const entry of runEntries(root, mergedRunsInside(root, doc))) {
    if (sealed.has(entry.path)) continue;
    problems.push({
      path: entry.path,
      problem: 'added',
      detail: entry.kind === 'file' ? 'not in the seal' : `${entry.kind === 'symlink' ? 'a symlink' : 'a special file'}, not in the seal`,
    });
  }
  problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { dir: root, sealedAt: doc.sealed.at, sealed: doc.sealed.files.length, problems };
}

/** The verification in lines for a person: each problem, then one line with the outcome. */
export function describeVerification(v: SealVerification): string[] {
  const lines = v.problems.map((p) => `${p.problem.toUpperCase()} ${p.path}: ${p.detail}`);
  lines.push(
    v.problems.length === 0
      ? `verified: all ${v.sealed} sealed file${v.sealed === 1 ? '' : 's'} match the seal of ${v.sealedAt}`
      : `NOT VERIFIED: ${v.problems.length} problem${v.problems.length === 1 ? '' : 's'} against the seal of ${v.sealedAt} (${v.sealed} files sealed)`,
  );
  return lines;
}
