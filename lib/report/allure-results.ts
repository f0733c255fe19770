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
import { lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { buildLabel, identityProperties, type CheckResult, type RunDevice, type RunResults } from './results.js';
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
  parameters: { name: string; value: string }[];
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
  const key = `${r.device}|${r.check}|${r.app ?? ''}|${r.network}`;
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
    historyId: md5(key),
    testCaseId: md5(`${r.check}|${r.app ?? ''}|${r.network}`),
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
    links: [],
    parameters: [
      { name: 'network', value: r.network },
      // Which build the check ran on: two runs of one handset on two firmwares are told apart.
      ...(device === undefined || buildLabel(device) === null ? [] : [{ name: 'build', value: buildLabel(device)! }]),
      ...(r.verdict === null ? [] : [{ name: 'verdict', value: r.verdict }]),
      ...Object.entries(r.metrics).map(([name, value]) => ({ name, value: String(value) })),
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

/**
 * The run's overall verdict where Allure shows it: the report's name (executor.json), the
 * environment widget, and categories that gather skipped and broken checks (Allure's defaults
 * gather only failures).
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
    property('v6lab.missing', String(verdict.missing.length)),
    ...verdict.missing.map((m, i) => property(`v6lab.missing.${i + 1}`, describeCheck(m))),
    property('v6lab.accepted-skips', String(verdict.accepted.length)),
    ...verdict.accepted.map((a, i) => property(`v6lab.accepted.${i + 1}`, describeCheck(a))),
    ...(verdict.allowSkip.length > 0 ? [property('v6lab.allow-skip', verdict.allowSkip.join(','))] : []),
    // A serial may hold ':' (192.0.2.1:5555), a key separator in .properties: kept to safe characters.
    ...doc.devices.flatMap((d) =>
      identityProperties(d).map(([name, value]) => property(`v6lab.device.${d.serial.replace(/[^A-Za-z0-9._-]/g, '_')}.${name}`, value)),
    ),
  ];
  writeRunFile(join(resultsDir, 'environment.properties'), `${lines.join('\n')}\n`);
  writeRunFile(
    join(resultsDir, 'categories.json'),
    `${JSON.stringify(
      [
        { name: 'Failed checks', matchedStatuses: ['failed'] },
        { name: 'Broken checks (no verdict)', matchedStatuses: ['broken'] },
        { name: 'Skipped checks (no verdict unless accepted)', matchedStatuses: ['skipped'] },
      ],
      null,
      2,
    )}\n`,
  );
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
    for (const entry of entries) if (!entry.isFile()) return `${entry.name} in it is not a regular file`;
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
