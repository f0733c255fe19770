/**
 * `DIR/results.json` (CONTRACTS.md section 4), written as results arrive: each write goes to a
 * temporary file that is then renamed over the old one, so a reader, or a run killed at any
 * moment, always finds the last complete, valid document.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export type CheckStatus = 'passed' | 'failed' | 'broken' | 'skipped';

export interface RunDevice {
  serial: string;
  model: string;
  android: string;
  virtual: boolean;
  profile: string;
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
}

export interface RunResults {
  run: { id: string; started: string; finished: string | null; tool: { name: 'v6lab'; version: string } };
  devices: RunDevice[];
  results: CheckResult[];
}

export const RESULTS_FILE = 'results.json';

export class ResultsWriter {
  private readonly document: RunResults;
  private writes = 0;

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
    // A re-run of a check replaces its earlier (broken) result.
    const at = this.document.results.findIndex((r) => r.device === result.device && r.check === result.check && r.app === result.app && r.network === result.network);
    if (at >= 0) this.document.results[at] = result;
    else this.document.results.push(result);
    this.flush();
  }

  finish(now = new Date()): RunResults {
    this.document.run.finished = now.toISOString();
    this.flush();
    return this.document;
  }

  private flush(): void {
    const file = join(this.dir, RESULTS_FILE);
    const temp = `${file}.${process.pid}.${++this.writes}.tmp`;
    const fd = openSync(temp, 'w', 0o644);
    try {
      writeSync(fd, `${JSON.stringify(this.document, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
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
