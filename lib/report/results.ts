/**
 * `DIR/results.json` (CONTRACTS.md section 4), written as results arrive: each write goes to a
 * temporary file that is then renamed over the old one, so a reader, or a run killed at any
 * moment, always finds the last complete, valid document.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeJsonWhole } from '../config/files.js';

export type CheckStatus = 'passed' | 'failed' | 'broken' | 'skipped';

export interface RunDevice {
  serial: string;
  model: string;
  android: string;
  virtual: boolean;
  profile: string;
  /** Where the device's facts.json is, relative to the run directory; absent: devices/SERIAL/facts.json (a merge points into the run it came from). */
  factsFile?: string;
}

export interface CheckResult {
  device: string;
  check: string;
  app: string | null;
  network: 'ipv6' | 'ipv4v6';
  status: CheckStatus;
  verdict: 'pass' | 'warn' | 'fail' | 'inconclusive' | null;
  reasons: { code: string; detail: string }[];
  metrics: Record<string, number | string | null>;
  /** Paths relative to the run directory. */
  evidence: string[];
  requirement: string[];
  /**
   * Earlier attempts of this check in the same run that a transport fault broke (the device or
   * the adb server went away and came back), oldest first; absent when the first attempt stood.
   */
  brokenAttempts?: { reasons: { code: string; detail: string }[] }[];
  /** In a merge of several runs (`v6lab report --merge`): the id of the run this result came from. */
  run?: string;
}

export interface RunResults {
  run: {
    id: string; started: string; finished: string | null; tool: { name: 'v6lab'; version: string };
    /** A merge (`v6lab report --merge`): the runs it was made of, their directories relative to it. */
    merged?: { id: string; dir: string; started: string; finished: string | null; tool: string }[];
  };
  devices: RunDevice[];
  results: CheckResult[];
}

export const RESULTS_FILE = 'results.json';

export class ResultsWriter {
  private readonly document: RunResults;

  private constructor(readonly dir: string, document: RunResults) {
    this.document = document;
  }

  /** Starts a new run in `dir` (created if needed) and writes its first, empty document. */
  static start(dir: string, version: string, devices: RunDevice[], now = new Date()): ResultsWriter {
    mkdirSync(dir, { recursive: true });
    const id = `${now.toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
    const writer = new ResultsWriter(dir, { run: { id, started: now.toISOString(), finished: null, tool: { name: 'v6lab', version } }, devices, results: [] });
    writer.flush();
    return writer;
  }

  /** Continues a run whose results.json exists (`--resume`): what finished stays finished. */
  static resume(dir: string): ResultsWriter {
    const document = readResults(dir);
    document.run.finished = null;
    return new ResultsWriter(dir, document);
  }

  get results(): readonly CheckResult[] {
    return this.document.results;
  }

  /** Whether a result for this device, check, app and network is already recorded (not broken). */
  has(key: Pick<CheckResult, 'device' | 'check' | 'app' | 'network'>): boolean {
    return this.document.results.some((r) => r.device === key.device && r.check === key.check && r.app === key.app && r.network === key.network && r.status !== 'broken');
  }

  add(result: CheckResult): void {
    putResult(this.document, result);
    this.flush();
  }

  finish(now = new Date()): RunResults {
    this.document.run.finished = now.toISOString();
    this.flush();
    return this.document;
  }

  private flush(): void {
    writeDocument(this.dir, this.document);
  }
}

/** A re-run of a check replaces its earlier (broken) result. */
function putResult(document: RunResults, result: CheckResult): void {
  const at = document.results.findIndex((r) => r.device === result.device && r.check === result.check && r.app === result.app && r.network === result.network);
  if (at >= 0) document.results[at] = result;
  else document.results.push(result);
}

/**
 * results.json (or its lock) could not be written: a full disk, a read-only or removed directory.
 * The file on disk is still the last complete version (it is replaced whole or not at all).
 */
export class ResultsWriteError extends Error {
  constructor(readonly file: string, readonly fsCode: string, detail: string) {
    const why = fsCode === 'ENOSPC' || fsCode === 'EDQUOT' ? 'no space left on the device holding it' : fsCode === 'EROFS' ? 'its file system is read-only' : detail;
    super(`cannot write ${file}: ${why} (${fsCode}); the results written so far are intact: make room, then \`v6lab certify --resume ${dirname(file)}\` goes on`);
    this.name = 'ResultsWriteError';
  }
}

/** A file-system failure writing `file` as a ResultsWriteError naming it; anything else as it is. */
function writeErrorOf(file: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  return code === undefined ? error : new ResultsWriteError(file, code, (error as Error).message);
}

/** Runs a write of `file`; a failure of the file system is a ResultsWriteError naming it. */
function writing<T>(file: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw writeErrorOf(file, error);
  }
}

/** Writes `document` as DIR/results.json, whole or not at all. */
export function writeDocument(dir: string, document: RunResults): void {
  const file = join(dir, RESULTS_FILE);
  writing(file, () => writeJsonWhole(file, document, { durable: true }));
}

const LOCK_TIMEOUT_MS = 30_000;

/** The pid a lock file names, or null when it cannot be read (gone meanwhile). */
function lockHolder(lock: string): number | null {
  try {
    return Number(readFileSync(lock, 'utf8'));
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes results.json's lock: a file holding the holder's pid, created whole by link(2) (never
 * seen empty). A lock whose holder died is moved aside by rename(2), which only one taker wins;
 * a taker that moved a live lock (taken meanwhile by another) puts it back.
 */
async function acquireLock(lock: string): Promise<void> {
  const mine = `${lock}.${process.pid}`;
  writing(lock, () => {
    try {
      writeFileSync(mine, String(process.pid));
    } catch (error) {
      rmSync(mine, { force: true });
      throw error;
    }
  });
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  try {
    for (;;) {
      try {
        linkSync(mine, lock);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw writeErrorOf(lock, error);
      }
      const holder = lockHolder(lock);
      if (holder === null) continue;
      if (!alive(holder)) {
        const aside = `${lock}.stale.${process.pid}`;
        try {
          renameSync(lock, aside);
        } catch {
          continue;
        }
        if (lockHolder(aside) !== holder) {
          try {
            linkSync(aside, lock);
          } catch {
            // someone holds it again: theirs stands
          }
        }
        rmSync(aside, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new ResultsFileError(lock, `held by pid ${holder} for over ${LOCK_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    rmSync(mine, { force: true });
  }
}

/**
 * Adds one result to a run another process started: several WebdriverIO workers (one per
 * device) write one results.json, each under an exclusive lock file holding its pid (a lock
 * whose holder died is taken over), each write still atomic.
 */
export async function appendResult(dir: string, result: CheckResult): Promise<void> {
  await updateResults(dir, (document) => putResult(document, result));
}

/** Changes results.json under the lock: what other processes added is kept. */
export async function updateResults(dir: string, change: (document: RunResults) => void): Promise<RunResults> {
  const lock = join(dir, `${RESULTS_FILE}.lock`);
  await acquireLock(lock);
  try {
    const document = readResults(dir);
    change(document);
    writeDocument(dir, document);
    return document;
  } finally {
    rmSync(lock, { force: true });
  }
}

export class ResultsFileError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'ResultsFileError';
  }
}

export function readResults(dir: string): RunResults {
  const file = join(dir, RESULTS_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ResultsFileError(file, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no results.json: is this a v6lab run directory?' : `not valid JSON: ${(error as Error).message}`);
  }
  const doc = parsed as Partial<RunResults>;
  if (typeof doc !== 'object' || doc === null || typeof doc.run?.id !== 'string' || !Array.isArray(doc.devices) || !Array.isArray(doc.results)) {
    throw new ResultsFileError(file, 'is not a v6lab results document (run, devices, results)');
  }
  return doc as RunResults;
}
