/**
 * `v6lab report DIR [--compare OLD_DIR] [--merge RUN...] [--allow-skip CODE,...] [--no-allure] [--json]`:
 * rebuilds a run's reports from its results.json and evidence: DIR/index.html (the certification
 * report, with what regressed and what got fixed since OLD_DIR), DIR/junit.xml, and the Allure
 * HTML (DIR/allure-report/index.html, offline), from the Allure results the run wrote or, when it
 * wrote none (or DIR is a merge), from results.json itself. With --merge, DIR is first made the
 * merge of the runs (lib/report/merge.ts). `certify` writes index.html and junit.xml itself at the
 * end of every run.
 *
 * Exit 0 when the reports are written, whatever the run's verdict (that is certify's exit code,
 * and index.html's and junit.xml's first line); 1 when --compare found a regression.
 */
import { existsSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateAllureHtml } from '../report/allure.js';
import { ALLURE_RESULTS, reporterResultsProblem, writeAllureResults, writeAllureVerdict } from '../report/allure-results.js';
import { changesJson, compareRuns, describeChange } from '../report/compare.js';
import { renderHtmlReport } from '../report/html.js';
import { renderJunit } from '../report/junit.js';
import { readMergeSources, mergeRuns } from '../report/merge.js';
import { readResults, REASON_CODE, ResultsFileError, RESULTS_FILE, writeDocument, type RunResults } from '../report/results.js';
import { readRun, runRoots } from '../report/run.js';
import { locateRunFile, writeRunFile } from '../report/run-files.js';
import { MAX_DATA_FILE } from '../config/schema.js';
import { judgeRun, type CheckKey, type VerdictOptions } from '../report/verdict.js';
import { loadCatalogue } from '../harness/catalogue.js';
import { PLAN_FILE, readPlan } from '../harness/plan.js';
import { printable } from '../net/printable.js';
import { EXIT, UsageError } from './errors.js';
import { expectedChecks } from './progress.js';
import { toolVersion } from './version.js';

/** A report's outputs are renamed over, never written through: an index.html that is a symlink is replaced. */
const writeAtomically = (file: string, text: string): void => writeRunFile(file, text);

function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** `--allow-skip NOT_INSTALLED,NETWORK_UNAVAILABLE`: skip reason codes, comma-separated. */
export function parseAllowSkip(text: string): string[] {
  const codes = text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (codes.length === 0) throw new UsageError('--allow-skip: give at least one skip reason code, such as NOT_INSTALLED');
  for (const code of codes)
    if (!REASON_CODE.test(code))
      throw new UsageError(`--allow-skip: ${JSON.stringify(code)} is not a reason code (capitals, digits and _, such as NOT_INSTALLED)`);
  return [...new Set(codes)];
}

/**
 * The checks the run selected, from the plan.json of the run (or of each run a merge was made of):
 * a check with no result is then missing. A run without a plan (another tool's results.json) is
 * judged on its results alone; a plan that cannot be read is said on stderr, not passed over.
 */
export function selectedChecks(dir: string, doc: RunResults, warn: (line: string) => void): CheckKey[] {
  // A merge's runs only where they are run directories (lib/report/run.ts runRoots).
  const runs = doc.run.merged ? runRoots(dir, doc).slice(1) : [resolve(dir)];
  const out: CheckKey[] = [];
  for (const run of runs) {
    const file = join(run, PLAN_FILE);
    if (!existsSync(file)) continue;
    // The plan is read only as a regular file of the run, and its catalogue only as a regular
    // file of a data file's size: a FIFO or /dev/zero there would hang the report or take its memory.
    const found = locateRunFile(run, [run], PLAN_FILE, MAX_DATA_FILE);
    if ('problem' in found) {
      warn(`v6lab: ${file}: not read (${found.problem}); judged on its results alone, so a check that never ran is not listed as missing`);
      continue;
    }
    try {
      const plan = readPlan(file);
      const catalogue = statSync(plan.catalogue, { throwIfNoEntry: false });
      if (catalogue !== undefined && (!catalogue.isFile() || catalogue.size > MAX_DATA_FILE))
        throw new Error(`its catalogue ${plan.catalogue} is not a regular file of at most ${MAX_DATA_FILE} bytes`);
      const selected = expectedChecks(plan, loadCatalogue(plan.catalogue).apps);
      for (const device of plan.devices) out.push(...selected.map((c) => ({ device: device.serial, check: c.check, app: c.app, network: c.network })));
    } catch (error) {
      warn(
        `v6lab: ${file}: cannot tell which checks the run selected (${(error as Error).message}); judged on its results alone, so a check that never ran is not listed as missing`,
      );
    }
  }
  return out;
}

/** index.html and junit.xml of a run directory; returns their paths. */
export function writeRunReports(dir: string, compareDir?: string, verdict: VerdictOptions = {}): string[] {
  const run = readRun(dir);
  const compare = compareDir === undefined ? undefined : { dir: compareDir, changes: compareRuns(run.results, readResults(compareDir)) };
  const html = join(dir, 'index.html');
  const junit = join(dir, 'junit.xml');
  writeAtomically(html, renderHtmlReport(run, { compare, verdict }));
  writeAtomically(junit, renderJunit(run.results, verdict));
  return [html, junit];
}

export interface ReportOptions {
  compare?: string;
  allure?: boolean;
  merge?: string[];
  /** Skip reason codes accepted for this report, on top of those the run recorded. */
  allowSkip?: string;
  /** One JSON object on stdout: the files written, the verdict, and the comparison. */
  json?: boolean;
}

export async function reportCommand(
  dirArg: string,
  options: ReportOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const dir = resolve(dirArg);
  const compare = options.compare === undefined ? undefined : resolve(options.compare);
  const allowSkip = options.allowSkip === undefined ? [] : parseAllowSkip(options.allowSkip);
  const sources = options.merge === undefined ? null : readMergeSources(dir, options.merge);
  // Every run is read before anything is written: a bad directory leaves the old reports.
  if (sources !== null) {
    const existing = existsSync(join(dir, RESULTS_FILE)) ? readResults(dir) : null;
    if (existing !== null && !existing.run.merged)
      throw new ResultsFileError(join(dir, RESULTS_FILE), 'holds a run of its own: --merge writes to a new directory, or to one an earlier merge wrote');
  } else {
    readResults(dir);
  }
  const old = compare === undefined ? undefined : readResults(compare);
  if (sources !== null) {
    mkdirSync(dir, { recursive: true });
    // The merge's own --allow-skip is recorded in it; each run's own list stays with that run's results.
    writeDocument(dir, mergeRuns(dir, sources, toolVersion(), new Date(), allowSkip));
  }
  const doc = readResults(dir);
  // A merge records its --allow-skip; a plain `report DIR --allow-skip` judges this report with it and leaves results.json as the run wrote it.
  const verdictOptions: VerdictOptions = { allowSkip: sources === null ? allowSkip : [], expected: selectedChecks(dir, doc, (line) => err.write(`${line}\n`)) };
  const written = [...(sources === null ? [] : [join(dir, RESULTS_FILE)]), ...writeRunReports(dir, compare, verdictOptions)];
  const verdict = judgeRun(doc, verdictOptions);
  if (options.allure !== false) {
    const results = join(dir, ALLURE_RESULTS);
    // The WebdriverIO reporter's results are richer (its own timings); a merge's are rebuilt from
    // the merged document, so the later run's result stands there as everywhere else. Results
    // that are not a real directory of regular files (a symlink, a FIFO in it) are built again:
    // Allure would read, and the verdict be written, wherever they point.
    const problem = existsSync(results) || isSymlink(results) ? reporterResultsProblem(results) : 'absent';
    if (problem !== null && problem !== 'absent') err.write(`v6lab: ${results}: ${problem}; built again from results.json\n`);
    if (sources !== null || doc.run.merged !== undefined || problem !== null) {
      writeAllureResults(dir, doc, verdict, runRoots(dir, doc));
    } else {
      writeAllureVerdict(results, doc, verdict);
    }
    written.push(await generateAllureHtml(dir));
  }
  const changes = old === undefined ? null : compareRuns(doc, old);
  const regressions = changes?.filter((c) => c.change === 'regressed') ?? [];
  if (options.json) {
    out.write(
      `${JSON.stringify({ written, verdict: verdict.verdict, missing: verdict.missing, accepted: verdict.accepted, allowSkip: verdict.allowSkip, ...(changes === null ? {} : changesJson(changes)) }, null, 2)}\n`,
    );
  } else {
    for (const file of written) out.write(`${printable(file)}\n`);
    for (const c of regressions) out.write(`${printable(describeChange(c))}\n`);
  }
  return regressions.length > 0 ? EXIT.checkFailed : EXIT.ok;
}
