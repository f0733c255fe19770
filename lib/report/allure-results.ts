/**
 * Allure's input built from results.json itself, for a run whose WebdriverIO reporter wrote none
 * (a results.json from another host, an older run, a merge): one `UUID-result.json` per result
 * in the Allure 2 result format (uuid, historyId, name, fullName, status, statusDetails, labels,
 * steps, attachments, start/stop), the evidence copied in as attachments, and the run's overall
 * verdict where Allure shows it (the report's name, the environment, categories), so an
 * incomplete run never reads green.
 *
 * A status is carried as it is (passed, failed, broken, skipped): nothing without a verdict is
 * ever `passed`. Only regular files inside the run directories are attached; a path that leaves
 * them, or goes through a symlink, is named in a step instead.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type Dirent, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { reasonCodeTitle, reasonKind, type ReasonKind } from '../checks/messages.js';
import { requirementAnchor, requirementOf } from '../checks/requirements.js';
import { buildLabel, identityProperties, ResultsFileError, type CheckResult, type RunDevice, type RunResults } from './results.js';
import type { RunVerdict } from './verdict.js';
import { locateRunFile, readCappedFile, writeRunFile } from './run-files.js';
import { describeCheck } from './verdict.js';

export const ALLURE_RESULTS = 'allure-results';

/** Evidence larger than this is named in a step, not copied (a long capture). */
const MAX_ATTACHMENT = 20 * 1024 * 1024;

type AllureStatus = 'passed' | 'failed' | 'broken' | 'skipped';

export interface AllureStep {
  name: string;
  status: AllureStatus;
  stage: 'finished';
  start: number;
  stop: number;
  steps: AllureStep[];
  attachments: AllureAttachment[];
  parameters: { name: string; value: string }[];
}

export interface AllureAttachment {
  name: string;
  /** A file name inside allure-results. */
  source: string;
  type: string;
}

export interface AllureResult {
  uuid: string;
  historyId: string;
  testCaseId: string;
  name: string;
  fullName: string;
  status: AllureStatus;
  statusDetails: { message: string; trace: string };
  stage: 'finished';
  description: string;
  labels: { name: string; value: string }[];
  links: { name: string; url: string; type: string }[];
  /** `excluded`: shown, but not part of the test's identity (Allure hashes the others into its history key). */
  parameters: { name: string; value: string; excluded?: boolean }[];
  steps: AllureStep[];
  attachments: AllureAttachment[];
  start: number;
  stop: number;
}

/** What a result's check id says its suite is: the part before the first dot, or `other`. */
export const suiteOf = (check: string): string => (check.includes('.') && check.indexOf('.') > 0 ? check.slice(0, check.indexOf('.')) : 'other');

const STATUS: Record<CheckResult['status'], AllureStatus> = { passed: 'passed', failed: 'failed', broken: 'broken', skipped: 'skipped' };

const MEDIA_TYPE: Record<string, string> = {
  '.json': 'application/json',
  '.pcap': 'application/vnd.tcpdump.pcap',
  '.pcapng': 'application/vnd.tcpdump.pcap',
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.html': 'text/html',
};

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

/**
 * One test per device, network, check and app: Allure's history id and test-case id. The same
 * check on two devices (or two apps, two networks) is two tests, never one with retries; the
 * same device's next build keeps the id, so its history shows build over build.
 */
export function allureTestIds(r: Pick<CheckResult, 'device' | 'check' | 'app' | 'network'>): { historyId: string; testCaseId: string } {
  const id = md5(`${r.device}|${r.check}|${r.app ?? ''}|${r.network}`);
  return { historyId: id, testCaseId: id };
}

/**
 * A requirement's link: its anchor in the run's certification report (index.html beside
 * allure-report/, whose one file is opened from there), titled in English as Allure is.
 */
export function requirementLink(id: string): { name: string; url: string; type: string } {
  const requirement = requirementOf(id);
  return { name: requirement === undefined ? id : `${id}: ${requirement.title.en}`, url: `../index.html#${requirementAnchor(id)}`, type: 'requirement' };
}

/** An evidence file that may be attached: a regular file inside one of `roots`, reached through no symlink. */
export function attachableEvidence(runDir: string, roots: readonly string[], path: string): { file: string } | { problem: string } {
  const found = locateRunFile(runDir, roots, path, MAX_ATTACHMENT);
  if ('problem' in found) return { problem: found.problem.endsWith('-byte limit') ? `${found.problem} (open it from the run directory)` : found.problem };
  return { file: found.file };
}

/**
 * The Allure result of one check, pure: `attachments` are the evidence files already placed in
 * allure-results (source names), `unattached` the evidence that could not be, with why.
 */
export function allureResult(
  r: CheckResult,
  device: RunDevice | undefined,
  doc: RunResults,
  uuid: string,
  attachments: AllureAttachment[],
  unattached: { path: string; problem: string }[],
  accepted: boolean,
): AllureResult {
  const start = Date.parse(doc.run.started) || 0;
  const stop = start + (typeof r.metrics.checkMs === 'number' ? Math.max(0, Math.round(r.metrics.checkMs)) : 0);
  const why = r.reasons.map((x) => `${x.code}: ${x.detail}`).join('\n');
  const stepStatus: AllureStatus = r.status === 'passed' ? 'passed' : STATUS[r.status];
  const step = (name: string, status: AllureStatus): AllureStep => ({
    name,
    status,
    stage: 'finished',
    start,
    stop,
    steps: [],
    attachments: [],
    parameters: [],
  });
  const deviceName = device ? `${device.model} (${device.serial})` : r.device;
  const suite = suiteOf(r.check);
  return {
    uuid,
    ...allureTestIds(r),
    name: r.app ?? r.check,
    fullName: `${r.device}.${r.check}${r.app === null ? '' : `.${r.app}`}[${r.network}]`,
    status: STATUS[r.status],
    statusDetails: {
      message: r.status === 'skipped' ? `${accepted ? 'skipped (accepted by --allow-skip)' : 'skipped: no verdict'}${why ? `: ${why}` : ''}` : why,
      trace: '',
    },
    stage: 'finished',
    description: `${r.check} on ${deviceName}, ${r.network} network${r.verdict === null ? '' : `; verdict ${r.verdict}`}; requirement ${r.requirement.join(', ') || 'none'}`,
    labels: [
      { name: 'parentSuite', value: deviceName },
      { name: 'suite', value: suite },
      { name: 'subSuite', value: r.network },
      { name: 'device', value: r.device },
      { name: 'network', value: r.network },
      ...(r.app === null ? [] : [{ name: 'app', value: r.app }]),
      { name: 'check', value: r.check },
      ...r.requirement.flatMap((id) => [
        { name: 'requirement', value: id },
        { name: 'tag', value: id },
      ]),
      ...(r.run === undefined ? [] : [{ name: 'run', value: r.run }]),
      { name: 'framework', value: 'v6lab' },
      { name: 'host', value: r.device },
    ],
    links: r.requirement.map(requirementLink),
    // Allure keys a test's history by its history id and the hash of its parameters: what changes
    // from build to build (the build itself, the verdict, the measures) is shown but excluded, so
    // one check's history runs on across firmwares.
    parameters: [
      { name: 'network', value: r.network },
      // Which build the check ran on: two runs of one handset on two firmwares are told apart.
      ...(device === undefined || buildLabel(device) === null ? [] : [{ name: 'build', value: buildLabel(device)!, excluded: true }]),
      ...(r.verdict === null ? [] : [{ name: 'verdict', value: r.verdict, excluded: true }]),
      ...Object.entries(r.metrics).map(([name, value]) => ({ name, value: String(value), excluded: true })),
    ],
    steps: [
      ...r.reasons.map((x) => step(`${x.code}: ${x.detail}`, stepStatus)),
      ...(r.brokenAttempts ?? []).map((a) => step(`run again after ${a.reasons.map((x) => `${x.code}: ${x.detail}`).join('; ')}`, 'broken')),
      ...unattached.map((u) => step(`evidence ${u.path} not attached: ${u.problem}`, 'skipped')),
    ],
    attachments,
    start,
    stop,
  };
}

/**
 * One line of a Java .properties file, read back as written: Java reads these files as ISO 8859-1,
 * so anything past ASCII (an app's Chinese name) is a \uXXXX escape.
 */
const property = (key: string, value: string): string =>
  `${key} = ${value
    .replace(/\\/g, '\\\\')
    .replace(/\r?\n/g, '\\n')
    .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`;

/** How a category of each kind of reason is named, and the statuses it gathers. */
const KIND_CATEGORY: Record<ReasonKind, { name: string; statuses: AllureStatus[] }> = {
  // A product failure is the phone's or the app's: `failed`; one that broke the check (an app that crashed) is the product's too.
  product: { name: 'Product failure', statuses: ['failed', 'broken'] },
  harness: { name: 'Harness or infrastructure problem (no verdict)', statuses: ['broken'] },
  skip: { name: 'Skipped (no verdict unless accepted)', statuses: ['skipped'] },
};

export interface AllureCategory {
  name: string;
  description: string;
  matchedStatuses: AllureStatus[];
  /** Java regex matched against the whole status message: the code as a word anywhere in it. */
  messageRegex: string;
}

/**
 * Allure's categories (categories.json), one per reason code the run gave, named by its kind
 * (lib/checks/messages.ts reasonKind): product failures first, then harness or infrastructure
 * problems, then skips. A result's status message holds its reason codes (`CODE: detail` lines),
 * so each falls into its codes' categories; what none catches goes to Allure's own defaults.
 */
export function allureCategories(doc: Pick<RunResults, 'results'>): AllureCategory[] {
  const codes = [...new Set(doc.results.filter((r) => r.status !== 'passed').flatMap((r) => r.reasons.map((x) => x.code)))];
  const order: ReasonKind[] = ['product', 'harness', 'skip'];
  return codes
    .filter((code) => /^[A-Za-z][A-Za-z0-9_]*$/.test(code))
    .sort((a, b) => order.indexOf(reasonKind(a)) - order.indexOf(reasonKind(b)) || a.localeCompare(b))
    .map((code) => {
      const kind = KIND_CATEGORY[reasonKind(code)];
      return {
        name: `${kind.name}: ${reasonCodeTitle(code, 'en')} (${code})`,
        description: `Checks whose reasons include ${code}`,
        matchedStatuses: kind.statuses,
        // (?s): a message of several reasons is several lines. The code is a word of [A-Za-z0-9_]: \b bounds it.
        messageRegex: `(?s).*\\b${code}\\b.*`,
      };
    });
}

/**
 * The run's overall verdict where Allure shows it: the report's name (executor.json), the
 * environment widget (the verdict, who ran it where, each device's identity), and categories of
 * the reason codes (allureCategories).
 */
export function writeAllureVerdict(resultsDir: string, doc: RunResults, verdict: RunVerdict): void {
  mkdirSync(resultsDir, { recursive: true });
  const word = verdict.verdict === 'not-run' ? 'COULD NOT RUN' : verdict.verdict.toUpperCase();
  // This directory may be one a run directory came with: each file is renamed over, never written through.
  writeRunFile(
    join(resultsDir, 'executor.json'),
    `${JSON.stringify({ name: 'v6lab', type: 'v6lab', buildName: doc.run.id, reportName: `v6lab ${doc.run.id}: ${word}` }, null, 2)}\n`,
  );
  const lines = [
    property('v6lab.verdict', verdict.verdict),
    property('v6lab.run', doc.run.id),
    property('v6lab.started', doc.run.started),
    ...(doc.run.finished === null ? [] : [property('v6lab.finished', doc.run.finished)]),
    ...(doc.run.labName === undefined ? [] : [property('v6lab.lab-name', doc.run.labName)]),
    ...(doc.run.tester === undefined ? [] : [property('v6lab.tester', doc.run.tester)]),
    ...(doc.run.notes === undefined ? [] : [property('v6lab.notes', doc.run.notes)]),
    property('v6lab.missing', String(verdict.missing.length)),
    ...verdict.missing.map((m, i) => property(`v6lab.missing.${i + 1}`, describeCheck(m))),
    property('v6lab.accepted-skips', String(verdict.accepted.length)),
    ...verdict.accepted.map((a, i) => property(`v6lab.accepted.${i + 1}`, describeCheck(a))),
    ...(verdict.allowSkip.length > 0 ? [property('v6lab.allow-skip', verdict.allowSkip.join(','))] : []),
    // A serial may hold ':' (192.0.2.1:5555), a key separator in .properties: kept to safe characters.
    ...doc.devices.flatMap((d) =>
      ([['serial', d.serial], ['model', d.model], ['android', d.android], ['profile', d.profile], ...identityProperties(d)] as [string, string][]).map(
        ([name, value]) => property(`v6lab.device.${d.serial.replace(/[^A-Za-z0-9._-]/g, '_')}.${name}`, value),
      ),
    ),
  ];
  writeRunFile(join(resultsDir, 'environment.properties'), `${lines.join('\n')}\n`);
  writeRunFile(join(resultsDir, 'categories.json'), `${JSON.stringify(allureCategories(doc), null, 2)}\n`);
}

/** Allure's history of one report: five small JSON files; far above them is not a history. */
const MAX_HISTORY_FILE = 16 * 1024 * 1024;
const MAX_HISTORY_FILES = 32;
const MAX_HISTORY_BYTES = 64 * 1024 * 1024;

/**
 * `report --history PREV`: PREV/allure-report/history (the trends lib/report/allure.ts keeps
 * beside the one-file report) copied into `resultsDir`/history, which Allure reads as the
 * previous runs. PREV is not trusted: the history must be a real directory (no symlink on the
 * way) of at most 32 regular files with plain names, each read capped, 64 MiB in all; anything
 * else is a ResultsFileError naming it (exit 2), and nothing is copied. Returns the names copied.
 */
export function copyAllureHistory(previousDir: string, resultsDir: string): string[] {
  const report = join(previousDir, 'allure-report');
  const source = join(report, 'history');
  for (const dir of [report, source]) {
    let isDir = false;
    try {
      const stat = lstatSync(dir);
      if (stat.isSymbolicLink()) throw new ResultsFileError(dir, 'is a symlink: not followed for --history');
      isDir = stat.isDirectory();
    } catch (error) {
      if (error instanceof ResultsFileError) throw error;
    }
    if (!isDir) throw new ResultsFileError(dir, 'no Allure history there: give --history a report directory whose Allure report v6lab made');
  }
  let entries: Dirent[];
  try {
    entries = readdirSync(source, { withFileTypes: true });
  } catch (error) {
    throw new ResultsFileError(source, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (entries.length > MAX_HISTORY_FILES) throw new ResultsFileError(source, `${entries.length} entries, over the ${MAX_HISTORY_FILES} an Allure history has`);
  const files: { name: string; bytes: Buffer }[] = [];
  let total = 0;
  for (const entry of entries) {
    const file = join(source, entry.name);
    if (!entry.isFile()) throw new ResultsFileError(file, 'is not a regular file (a symlink is not followed)');
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(entry.name)) throw new ResultsFileError(file, 'is not a file name Allure writes');
    const read = readCappedFile(file, MAX_HISTORY_FILE);
    if ('problem' in read) throw new ResultsFileError(file, read.problem);
    total += read.bytes.length;
    if (total > MAX_HISTORY_BYTES) throw new ResultsFileError(source, `over ${MAX_HISTORY_BYTES} bytes in all`);
    files.push({ name: entry.name, bytes: read.bytes });
  }
  const target = join(resultsDir, 'history');
  // rm removes a symlink there itself, never what it points to.
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const f of files) writeFileSync(join(target, f.name), f.bytes, { flag: 'wx' });
  return files.map((f) => f.name).sort();
}

/**
 * Whether DIR/allure-results is Allure results a reporter wrote that Allure may read and the
 * verdict may be added to: a real directory of the run (not a symlink) holding only regular
 * files. Else why not; the report then builds them again from results.json (lib/report/run-files.ts:
 * a symlink there would have Allure read, and the verdict written, wherever it points).
 */
export function reporterResultsProblem(resultsDir: string): string | null {
  try {
    if (!lstatSync(resultsDir).isDirectory()) return 'not a directory (a symlink is not followed)';
    const entries = readdirSync(resultsDir, { withFileTypes: true });
    for (const entry of entries) {
      // The history `report --history` carried in (copyAllureHistory): a directory of regular files.
      if (entry.name === 'history' && entry.isDirectory()) {
        const inner = readdirSync(join(resultsDir, 'history'), { withFileTypes: true }).find((e) => !e.isFile());
        if (inner !== undefined) return `history/${inner.name} in it is not a regular file`;
        continue;
      }
      if (!entry.isFile()) return `${entry.name} in it is not a regular file`;
    }
    const names = new Set(entries.map((e) => e.name));
    // Allure resolves an attachment's `source` against the directory: `../../etc/shadow` would be
    // read into the report. Each must be a file name of this directory.
    for (const name of names) {
      if (!/-(result|container)\.json$/.test(name)) continue;
      const read = readCappedFile(join(resultsDir, name), MAX_RESULT_JSON);
      if ('problem' in read) return `${name} in it: ${read.problem}`;
      let parsed: unknown;
      try {
        parsed = JSON.parse(read.bytes.toString('utf8'));
      } catch {
        return `${name} in it is not JSON`;
      }
      const bad = attachmentSources(parsed).find((source) => !/^[A-Za-z0-9._-]+$/.test(source) || source.startsWith('.') || !names.has(source));
      if (bad !== undefined) return `${name} in it attaches ${JSON.stringify(bad)}, not a file of the directory`;
    }
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  return null;
}

/** One Allure result or container file: far above what the reporter writes for one test. */
const MAX_RESULT_JSON = 16 * 1024 * 1024;

/** Every attachment `source` in an Allure result or container, at any depth (steps nest). */
function attachmentSources(value: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, depth: number) => {
    if (typeof v !== 'object' || v === null) return;
    // Deeper than any real result: refused as a whole rather than searched without end.
    if (depth > 64) {
      out.push('(nested too deep)');
      return;
    }
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    for (const [key, x] of Object.entries(v)) {
      if (key === 'source') out.push(typeof x === 'string' ? x : String(x));
      else walk(x, depth + 1);
    }
  };
  walk(value, 0);
  return out;
}

/**
 * Writes DIR/allure-results from results.json (replacing what a previous build wrote there):
 * one result per check, evidence copied from `roots` (the run directory, and for a merge the
 * runs it was made of). Returns the directory.
 */
export function writeAllureResults(runDir: string, doc: RunResults, verdict: RunVerdict, roots: readonly string[] = [runDir]): string {
  const out = join(runDir, ALLURE_RESULTS);
  // rm removes a symlink there itself, never what it points to.
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const accepted = new Set(verdict.accepted.map((a) => `${a.device}|${a.check}|${a.app ?? ''}|${a.network}`));
  for (const r of doc.results) {
    const uuid = randomUUID();
    const attachments: AllureAttachment[] = [];
    const unattached: { path: string; problem: string }[] = [];
    r.evidence.forEach((path, i) => {
      const found = attachableEvidence(runDir, roots, path);
      if ('problem' in found) {
        unattached.push({ path, problem: found.problem });
        return;
      }
      // Read from a descriptor opened without following a symlink: a file swapped for a FIFO since it was looked at is not read.
      const read = readCappedFile(found.file, MAX_ATTACHMENT);
      if ('problem' in read) {
        unattached.push({ path, problem: read.problem });
        return;
      }
      const ext = extname(path).toLowerCase();
      const source = `${uuid}-attachment-${i}${/^\.[a-z0-9]{1,8}$/.test(ext) ? ext : ''}`;
      writeFileSync(join(out, source), read.bytes, { flag: 'wx' });
      attachments.push({ name: path, source, type: MEDIA_TYPE[ext] ?? 'application/octet-stream' });
    });
    const result = allureResult(
      r,
      doc.devices.find((d) => d.serial === r.device),
      doc,
      uuid,
      attachments,
      unattached,
      accepted.has(`${r.device}|${r.check}|${r.app ?? ''}|${r.network}`),
    );
    writeFileSync(join(out, `${uuid}-result.json`), `${JSON.stringify(result, null, 2)}\n`, { flag: 'wx' });
  }
  writeAllureVerdict(out, doc, verdict);
  return out;
}
