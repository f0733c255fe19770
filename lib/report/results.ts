/**
 * `DIR/results.json` (CONTRACTS.md section 4), written as results arrive: each write goes to a
 * temporary file that is then renamed over the old one, so a reader, or a run killed at any
 * moment, always finds the last complete, valid document.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { array, boolean, DataFileError, oneOf, record, type Schema } from '../config/schema.js';
import { readCappedFile, writeRunFile } from './run-files.js';

export type CheckStatus = 'passed' | 'failed' | 'broken' | 'skipped';

/** One SIM slot's operator (`gsm.sim.operator.numeric` and `.alpha` at that slot). */
export interface RunDeviceSim {
  slot: number;
  mcc: string | null;
  mnc: string | null;
  name: string | null;
}

/**
 * Which build a device ran (lib/device/identity.ts, as probed when the run started): what tells
 * one firmware of a handset from another. Each value is null where the device did not say.
 */
export interface RunDeviceIdentity {
  manufacturer: string | null;
  model: string | null;
  android: string | null;
  sdk: number | null;
  fingerprint: string | null;
  buildId: string | null;
  displayId: string | null;
  incremental: string | null;
  securityPatch: string | null;
  baseband: string | null;
  sims: RunDeviceSim[];
  kernel: string | null;
}

export interface RunDevice {
  serial: string;
  model: string;
  android: string;
  virtual: boolean;
  profile: string;
  /** Which build it ran; absent in results written before v6lab recorded it (unknown, not "none"). */
  identity?: RunDeviceIdentity;
  /** Where the device's facts.json is, relative to the run directory; absent: devices/SERIAL/facts.json (a merge points into the run it came from). */
  factsFile?: string;
}

/** A build in a few words: build id and the vendor's build number (`BP4A.251205.006 S936BXXUACZF1`), else the fingerprint; null when unknown. */
export function buildLabel(device: Pick<RunDevice, 'identity'>): string | null {
  const id = device.identity;
  if (id === undefined) return null;
  const short = [id.buildId, id.incremental].filter((x) => x !== null).join(' ');
  return short !== '' ? short : id.fingerprint;
}

/** How reports name a device: its model and build (`SM-S936B, build BP4A.251205.006 S936BXXUACZF1`). */
export function deviceLabel(device: Pick<RunDevice, 'model' | 'identity'>): string {
  const build = buildLabel(device);
  return build === null ? device.model : `${device.model}, build ${build}`;
}

/**
 * A device's identity as name/value pairs for formats that carry properties (JUnit, Allure's
 * environment): only what the device reported; none for results from before it was recorded.
 */
export function identityProperties(device: Pick<RunDevice, 'identity'>): [string, string][] {
  const id = device.identity;
  if (id === undefined) return [];
  const pairs: [string, string | null][] = [
    ['manufacturer', id.manufacturer],
    ['sdk', id.sdk === null ? null : String(id.sdk)],
    ['fingerprint', id.fingerprint],
    ['build-id', id.buildId],
    ['display-id', id.displayId],
    ['incremental', id.incremental],
    ['security-patch', id.securityPatch],
    ['baseband', id.baseband],
    ...id.sims.map((sim): [string, string | null] => [
      `sim.${sim.slot}`,
      [sim.mcc === null ? null : `${sim.mcc}${sim.mnc}`, sim.name].filter((x) => x !== null).join(' ') || null,
    ]),
    ['kernel', id.kernel],
  ];
  return pairs.filter((p): p is [string, string] => p[1] !== null);
}

/**
 * One part of a reason's text as data (lib/checks/messages.ts): a message key and its arguments,
 * rendered in the reader's language. `detail` is the same text in English, kept for JSON readers
 * and older versions.
 */
export interface ReasonMessage {
  key: string;
  args: Record<string, string | number>;
}

export interface Reason {
  code: string;
  detail: string;
  /** The detail as messages, joined by '; ' when rendered; absent in results from before issue 18 (or another tool's). */
  messages?: ReasonMessage[];
}

/** Bytes per path: native IPv6, IPv6 to a NAT64 prefix, CLAT-translated IPv4, native IPv4. */
export interface PathBytes {
  'native-v6': number;
  nat64: number;
  clat: number;
  'native-v4': number;
}

/** A host an app still reached over IPv4 (native or CLAT) or through NAT64 on one page, by bytes. */
export interface Ipv4Host {
  /** The name the app looked up, or the address when it used a literal or no name was seen. */
  host: string;
  path: 'native-v4' | 'clat' | 'nat64';
  bytes: number;
  /** Of the page's bytes, 0..1. */
  share: number;
}

/**
 * One page of an app's flow (a catalogue flow step marked `page`): the share of its bytes over
 * IPv6 and the hosts still over IPv4 or NAT64, largest first, as app vendors' IPv6 concentration
 * tools report it.
 */
export interface PageShare {
  /** The page's name as the catalogue gives it. */
  page: string;
  /** Which app run it was seen in (1-based; `--app-runs`). */
  run: number;
  bytes: PathBytes;
  /** Native IPv6's share of the page's bytes (as the app check's nativeV6ByteShare), 0..1; null when the page moved no bytes. */
  ipv6Share: number | null;
  ipv4Hosts: Ipv4Host[];
}

/** One of an app's repeated windows (`certify --app-runs N`): each a fresh launch. */
export interface AppRun {
  run: number;
  verdict: 'pass' | 'warn' | 'fail' | 'inconclusive';
  bytes: PathBytes;
  /** Native IPv6's share of the run's bytes, 0..1; null when it moved none. */
  ipv6Share: number | null;
  /** The run's evidence files, relative to the run directory. */
  evidence: string[];
}

export interface CheckResult {
  device: string;
  check: string;
  app: string | null;
  network: 'ipv6' | 'ipv4v6';
  status: CheckStatus;
  verdict: 'pass' | 'warn' | 'fail' | 'inconclusive' | null;
  reasons: Reason[];
  metrics: Record<string, number | string | null>;
  /** Paths relative to the run directory. */
  evidence: string[];
  requirement: string[];
  /**
   * Earlier attempts of this check in the same run that a transport fault broke (the device or
   * the adb server went away and came back), oldest first; absent when the first attempt stood.
   */
  brokenAttempts?: { reasons: Reason[] }[];
  /** In a merge of several runs (`v6lab report --merge`): the id of the run this result came from. */
  run?: string;
  /** An app check: per page of its flow, per run (issue 18). */
  pages?: PageShare[];
  /** An app check run more than once (`--app-runs N`): each run; the verdict is judged on all of them. */
  runs?: AppRun[];
  /**
   * An app check that ended inconclusive: the app's own log over each such window (logcat by the
   * app's uid from the window's start), to say why nothing was seen (issue 20).
   */
  appLogs?: AppLog[];
}

/** Lines of an app's log a result keeps (the rest is in its file). */
export const APP_LOG_TAIL = 40;

/** An app's own log over one window, fetched from the device when the window was inconclusive. */
export interface AppLog {
  /** The run of `--app-runs` it belongs to; null with one run. */
  run: number | null;
  /** The device command that fetched it (argv). */
  command: string[];
  /** The whole log (bounded), relative to the run directory; null when nothing was read. */
  file: string | null;
  /** How many lines it had. */
  lines: number;
  /** Its last lines, control characters replaced: what the console and the report show. */
  tail: string[];
  /** Why it could not be read (the device's answer), else null. */
  error: string | null;
}

/** An evidence file of the run and its sha256, as sealed when the run finished (`report --verify`). */
export interface SealedFile {
  /** Relative to the run directory. */
  path: string;
  bytes: number;
  sha256: string;
}

export interface RunResults {
  run: {
    id: string;
    started: string;
    finished: string | null;
    /** The tool that wrote it: v6lab, or another tool writing the same document. */
    tool: { name: string; version: string };
    /**
     * Skip reason codes this run accepts (`certify --allow-skip`): a skipped check whose every
     * reason is one of them does not make the run incomplete; the report lists it as accepted.
     */
    allowSkip?: string[];
    /**
     * A merge (`v6lab report --merge`): the runs it was made of, their directories relative to it,
     * and each run's own allow-list (it applies to the results that came from that run).
     */
    merged?: { id: string; dir: string; started: string; finished: string | null; tool: string; allowSkip?: string[] }[];
    /** Who ran it and where (`certify --lab-name --tester --notes`); each absent when not given. */
    labName?: string;
    tester?: string;
    notes?: string;
  };
  devices: RunDevice[];
  results: CheckResult[];
  /**
   * Every evidence file of the run with its sha256 (lib/report/seal.ts), written when the run
   * finished: `v6lab report --verify DIR` names any that changed or went missing since.
   */
  sealed?: { at: string; files: SealedFile[] };
}

export const RESULTS_FILE = 'results.json';

export class ResultsWriter {
  private readonly document: RunResults;

  private constructor(
    readonly dir: string,
    document: RunResults,
  ) {
    this.document = document;
  }

  /** Starts a new run in `dir` (created if needed) and writes its first, empty document; `allowSkip` is recorded when not empty. */
  static start(dir: string, version: string, devices: RunDevice[], now = new Date(), allowSkip: readonly string[] = []): ResultsWriter {
    mkdirSync(dir, { recursive: true });
    const id = `${now.toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
    const run: RunResults['run'] = {
      id,
      started: now.toISOString(),
      finished: null,
      tool: { name: 'v6lab', version },
      ...(allowSkip.length > 0 ? { allowSkip: [...allowSkip] } : {}),
    };
    const writer = new ResultsWriter(dir, { run, devices, results: [] });
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

  /** Whether a finished result (isFinished) for this device, check, app and network is already recorded. */
  has(key: Pick<CheckResult, 'device' | 'check' | 'app' | 'network'>): boolean {
    return this.document.results.some(
      (r) => r.device === key.device && r.check === key.check && r.app === key.app && r.network === key.network && isFinished(r),
    );
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

/**
 * Whether a result stands when a run is resumed. A broken check is run again, and so is one
 * skipped NETWORK_UNAVAILABLE: its network was not reached in that run (nobody switched, no
 * terminal, not this run's `--network`), which a later run may well do. Any other result is kept.
 */
export function isFinished(result: Pick<CheckResult, 'status' | 'reasons'>): boolean {
  if (result.status === 'broken') return false;
  return !(result.status === 'skipped' && result.reasons.some((r) => r.code === 'NETWORK_UNAVAILABLE'));
}

/** A re-run of a check replaces its earlier (broken, or network-unavailable) result in place: the document is rewritten whole, by rename. */
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
  constructor(
    readonly file: string,
    readonly fsCode: string,
    detail: string,
  ) {
    const why =
      fsCode === 'ENOSPC' || fsCode === 'EDQUOT' ? 'no space left on the device holding it' : fsCode === 'EROFS' ? 'its file system is read-only' : detail;
    super(
      `cannot write ${file}: ${why} (${fsCode}); the results written so far are intact: make room, then \`v6lab certify --resume ${dirname(file)}\` goes on`,
    );
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
  // Renamed over, never written through: a results.json that is a symlink (a merge's output
  // directory from elsewhere) is replaced, and what it pointed to stays as it was.
  writing(file, () => writeRunFile(file, `${JSON.stringify(document, null, 2)}\n`, { durable: true }));
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
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ResultsFileError';
  }
}

/** Any string, the empty one too (a model a device did not report). */
const text: Schema<string> = (value, field, file) => {
  if (typeof value !== 'string') throw new DataFileError(file, field, `expected a string, got ${value === null ? 'null' : typeof value}`);
  return value;
};
const name: Schema<string> = (value, field, file) => {
  if (text(value, field, file) === '') throw new DataFileError(file, field, 'expected a string, got an empty string');
  return value as string;
};
const nullable =
  <T>(schema: Schema<T>): Schema<T | null> =>
  (value, field, file) =>
    value === null ? null : schema(value, field, file);
const metric: Schema<number | string | null> = (value, field, file) => {
  if (value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return value;
  throw new DataFileError(file, field, 'expected a number, a string or null');
};
/** A skip reason code as `--allow-skip` takes it: NOT_INSTALLED. */
export const REASON_CODE = /^[A-Z][A-Z0-9_]*$/;
const reasonCode: Schema<string> = (value, field, file) => {
  if (!REASON_CODE.test(name(value, field, file)))
    throw new DataFileError(file, field, `expected a reason code such as NOT_INSTALLED, got ${JSON.stringify(value)}`);
  return value as string;
};

/**
 * An object whose known fields are checked; a field this version does not know is kept, not
 * refused: results.json passes between processes and versions (a newer v6lab, another tool), and
 * a field added there must not make an older `report` unable to read the run.
 */
function fields<T>(required: Record<string, Schema<unknown>>, optional: Record<string, Schema<unknown>> = {}): Schema<T> {
  return (value, field, file) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new DataFileError(file, field, `expected an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
    const input = value as Record<string, unknown>;
    const at = (key: string) => (field === '' ? key : `${field}.${key}`);
    for (const [key, schema] of Object.entries(required)) {
      if (!(key in input)) throw new DataFileError(file, at(key), 'missing');
      schema(input[key], at(key), file);
    }
    for (const [key, schema] of Object.entries(optional)) if (key in input && input[key] !== undefined) schema(input[key], at(key), file);
    return value as T;
  };
}

const messageArg: Schema<string | number> = (value, field, file) => {
  if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return value;
  throw new DataFileError(file, field, 'expected a string or a number');
};
const reasons = array(fields<Reason>({ code: name, detail: text }, { messages: array(fields<ReasonMessage>({ key: name, args: record(text, messageArg) })) }));
const share: Schema<number> = (value, field, file) => {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new DataFileError(file, field, 'expected a share from 0 to 1');
  return value;
};
const count: Schema<number> = (value, field, file) => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new DataFileError(file, field, 'expected a whole number from 0');
  return value;
};
const runNumber: Schema<number> = (value, field, file) => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new DataFileError(file, field, 'expected a run number from 1');
  return value;
};
const pathBytes = fields<PathBytes>({ 'native-v6': count, nat64: count, clat: count, 'native-v4': count });
const verdictWord = oneOf(['pass', 'warn', 'fail', 'inconclusive'] as const);
const pages = array(
  fields<PageShare>({
    page: name,
    run: runNumber,
    bytes: pathBytes,
    ipv6Share: nullable(share),
    ipv4Hosts: array(fields<Ipv4Host>({ host: name, path: oneOf(['native-v4', 'clat', 'nat64'] as const), bytes: count, share })),
  }),
);
const runs = array(fields<AppRun>({ run: runNumber, verdict: verdictWord, bytes: pathBytes, ipv6Share: nullable(share), evidence: array(name) }));
const sha256Hex: Schema<string> = (value, field, file) => {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) throw new DataFileError(file, field, 'expected a sha256 as 64 lowercase hex digits');
  return value;
};
const sealed = fields<NonNullable<RunResults['sealed']>>({ at: name, files: array(fields<SealedFile>({ path: name, bytes: count, sha256: sha256Hex })) });
const sdk: Schema<number> = (value, field, file) => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new DataFileError(file, field, 'expected an API level such as 34');
  return value;
};
const slot: Schema<number> = (value, field, file) => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new DataFileError(file, field, 'expected a SIM slot number from 0');
  return value;
};
const identity = fields<RunDeviceIdentity>({
  manufacturer: nullable(text),
  model: nullable(text),
  android: nullable(text),
  sdk: nullable(sdk),
  fingerprint: nullable(text),
  buildId: nullable(text),
  displayId: nullable(text),
  incremental: nullable(text),
  securityPatch: nullable(text),
  baseband: nullable(text),
  sims: array(fields<RunDeviceSim>({ slot, mcc: nullable(text), mnc: nullable(text), name: nullable(text) })),
  kernel: nullable(text),
});
const allowSkip = array(reasonCode);

const resultsSchema: Schema<RunResults> = fields<RunResults>(
  {
    run: fields(
      {
        id: name,
        started: name,
        finished: nullable(name),
        tool: fields({ name, version: text }),
      },
      {
        allowSkip,
        merged: array(fields({ id: name, dir: text, started: name, finished: nullable(name), tool: text }, { allowSkip })),
        labName: text,
        tester: text,
        notes: text,
      },
    ),
    devices: array(fields<RunDevice>({ serial: name, model: text, android: text, virtual: boolean, profile: text }, { factsFile: name, identity })),
    results: array(
      fields<CheckResult>(
        {
          device: name,
          check: name,
          app: nullable(name),
          network: oneOf(['ipv6', 'ipv4v6'] as const),
          status: oneOf(['passed', 'failed', 'broken', 'skipped'] as const),
          verdict: nullable(verdictWord),
          reasons,
          metrics: record(text, metric),
          evidence: array(name),
          requirement: array(name),
        },
        {
          brokenAttempts: array(fields({ reasons })),
          run: name,
          pages,
          runs,
          appLogs: array(
            fields<AppLog>({
              run: nullable(count),
              command: array(text),
              file: nullable(name),
              lines: count,
              tail: array(text, { max: APP_LOG_TAIL }),
              error: nullable(text),
            }),
          ),
        },
      ),
    ),
  },
  { sealed },
);

/** Checks a parsed results.json; a wrong shape is a ResultsFileError naming the file and the field. */
export function validateResults(parsed: unknown, file: string): RunResults {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ResultsFileError(file, 'is not a v6lab results document (run, devices, results)');
  try {
    return resultsSchema(parsed, '', file);
  } catch (error) {
    if (error instanceof DataFileError) throw new ResultsFileError(file, `${error.field}: ${error.problem}`);
    throw error;
  }
}

/**
 * A results.json far larger than any run writes (thousands of results are a few MiB): refused
 * before it is read, so a hostile one cannot take the report's memory.
 */
export const MAX_RESULTS_JSON = 64 * 1024 * 1024;

/**
 * Reads and validates DIR/results.json: what another process wrote is checked like a file a user
 * edits. A symlink, FIFO or device there is refused, not followed or read.
 */
export function readResults(dir: string): RunResults {
  const file = join(dir, RESULTS_FILE);
  const read = readCappedFile(file, MAX_RESULTS_JSON);
  if ('problem' in read)
    throw new ResultsFileError(file, read.problem === 'missing' ? 'no results.json: is this a v6lab run directory?' : `${read.problem}: not read`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(read.bytes.toString('utf8'));
  } catch (error) {
    throw new ResultsFileError(file, `not valid JSON: ${(error as Error).message}`);
  }
  return validateResults(parsed, file);
}
