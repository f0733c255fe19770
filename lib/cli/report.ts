/**
 * `v6lab report DIR [--compare OLD_DIR] [--merge RUN...] [--allow-skip CODE,...] [--lang en|zh-CN] [--pdf] [--history PREV_DIR] [--no-allure] [--json]`,
 * `v6lab report --verify DIR [--json]`:
 * rebuilds a run's reports from its results.json and evidence: DIR/index.html (the certification
 * report, with what regressed and what got fixed since OLD_DIR), DIR/junit.xml, and the Allure
 * HTML (DIR/allure-report/index.html, offline), from the Allure results the run wrote or, when it
 * wrote none (or DIR is a merge), from results.json itself. With --merge, DIR is first made the
 * merge of the runs (lib/report/merge.ts). `certify` writes index.html and junit.xml itself at the
 * end of every run.
 *
 * With --pdf, DIR/report.pdf is printed from index.html (lib/report/pdf.ts); with --history, the
 * Allure history of a previous report directory is carried over so trends show build over build.
 * A merge is sealed like a finished run (lib/report/seal.ts). `--verify` writes nothing: it checks
 * the run's evidence against its seal.
 *
 * Exit 0 when the reports are written, whatever the run's verdict (that is certify's exit code,
 * and index.html's and junit.xml's first line); 1 when --compare found a regression. --verify:
 * 0 every sealed file matches, 1 a file changed, went missing or was added, 2 no seal.
 */
import { existsSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateAllureHtml } from '../report/allure.js';
import { ALLURE_RESULTS, copyAllureHistory, reporterResultsProblem, writeAllureResults, writeAllureVerdict } from '../report/allure-results.js';
import { changesJson, comparedSide, compareDevices, compareRuns, describeChange, describeSides } from '../report/compare.js';
import { renderHtmlReport, type HtmlReportOptions } from '../report/html.js';
import { PDF_FILE, printPdf } from '../report/pdf.js';
import { describeVerification, sealRun, verifySeal } from '../report/seal.js';
import { LANGS, langFromEnv, parseLang, type Lang } from '../checks/lang.js';
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

/** `--lang`'s value, checked; absent: the language the user's locale asks for (langFromEnv). */
export function parseLangOption(text: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): Lang {
  if (text === undefined) return langFromEnv(env);
  const lang = parseLang(text);
  if (lang === null) throw new UsageError(`--lang: ${JSON.stringify(text)} is not a language v6lab writes; one of ${LANGS.join(', ')}`);
  return lang;
}

/**
 * index.html and junit.xml of a run directory, index.html in `lang`; returns their paths and the
 * page as rendered (what `--pdf` prints: never the file read back, which the run directory's
 * owner may have replaced meanwhile).
 */
export function writeRunReports(
  dir: string,
  compareDir?: string,
  verdict: VerdictOptions = {},
  lang: Lang = langFromEnv(process.env),
): { html: string; junit: string; page: string } {
  const run = readRun(dir);
  const compare = compareDir === undefined ? undefined : { dir: compareDir, changes: compareRuns(run.results, readResults(compareDir)) };
  const html = join(dir, 'index.html');
  const junit = join(dir, 'junit.xml');
  // Typed apart from the call: the page takes `lang` (lib/report/i18n.ts); declared here so the
  // option reaches it whichever version of the page's options this is built against.
  const options: HtmlReportOptions & { lang: Lang } = { compare, verdict, lang };
  const page = renderHtmlReport(run, options);
  writeAtomically(html, page);
  writeAtomically(junit, renderJunit(run.results, verdict));
  return { html, junit, page };
}

export interface ReportOptions {
  compare?: string;
  allure?: boolean;
  merge?: string[];
  /** Skip reason codes accepted for this report, on top of those the run recorded. */
  allowSkip?: string;
  /** One JSON object on stdout: the files written, the verdict, and the comparison. */
  json?: boolean;
  /** The language of index.html and the PDF (`--lang en|zh-CN`). @default langFromEnv(process.env) */
  lang?: string;
  /** Also print DIR/report.pdf from index.html. */
  pdf?: boolean;
  /** Check the evidence against the run's seal instead of writing reports. */
  verify?: boolean;
  /** A previous report directory whose allure-report/history is carried into this report's Allure. */
  history?: string;
}

/** `report --verify DIR`: every sealed file against its size and sha256; exit 0 all match, 1 not, 2 (ResultsFileError) no seal. */
async function verifyCommand(dir: string, options: ReportOptions, out: NodeJS.WritableStream): Promise<number> {
  const given = (['compare', 'merge', 'pdf', 'history', 'allowSkip', 'lang'] as const).filter((o) => options[o] !== undefined);
  if (given.length > 0)
    throw new UsageError(
      `--verify only checks the evidence: leave out ${given.map((o) => `--${o.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`,
    );
  const verification = await verifySeal(dir, readResults(dir));
  if (options.json) out.write(`${JSON.stringify({ ...verification, verified: verification.problems.length === 0 }, null, 2)}\n`);
  else for (const line of describeVerification(verification)) out.write(`${printable(line)}\n`);
  return verification.problems.length === 0 ? EXIT.ok : EXIT.checkFailed;
}

export async function reportCommand(
  dirArg: string,
  options: ReportOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const dir = resolve(dirArg);
  if (options.verify) return verifyCommand(dir, options, out);
  const lang = parseLangOption(options.lang);
  if (options.history !== undefined && options.allure === false) throw new UsageError('--history carries Allure trends: leave out --no-allure');
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
    const merged = mergeRuns(dir, sources, toolVersion(), new Date(), allowSkip);
    // A merge is filed like a run: its evidence (in the runs it was made of) sealed as it is now.
    merged.sealed = await sealRun(dir, merged);
    writeDocument(dir, merged);
  }
  const doc = readResults(dir);
  // A merge records its --allow-skip; a plain `report DIR --allow-skip` judges this report with it and leaves results.json as the run wrote it.
  const verdictOptions: VerdictOptions = { allowSkip: sources === null ? allowSkip : [], expected: selectedChecks(dir, doc, (line) => err.write(`${line}\n`)) };
  const reports = writeRunReports(dir, compare, verdictOptions, lang);
  const written = [...(sources === null ? [] : [join(dir, RESULTS_FILE)]), reports.html, reports.junit];
  // The PDF is the page just written, printed: the same language, the same comparison.
  if (options.pdf) written.push(await printPdf(reports.page, join(dir, PDF_FILE)));
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
    if (options.history !== undefined) copyAllureHistory(resolve(options.history), results);
    written.push(await generateAllureHtml(dir));
  }
  const changes = old === undefined ? null : compareRuns(doc, old);
  const regressions = changes?.filter((c) => c.change === 'regressed') ?? [];
  // Each side with the builds it ran: a comparison says which firmware it compared with which.
  const sides = old === undefined || compare === undefined ? null : { old: comparedSide(old, compare), new: comparedSide(doc, dir) };
  if (options.json) {
    // Regressions first (changesJson's order): what a pipeline gates on is read first.
    const comparison = changes === null || old === undefined ? {} : { ...changesJson(changes), sides, devices: compareDevices(doc, old) };
    out.write(
      `${JSON.stringify({ written, verdict: verdict.verdict, missing: verdict.missing, accepted: verdict.accepted, allowSkip: verdict.allowSkip, ...comparison }, null, 2)}\n`,
    );
  } else {
    for (const file of written) out.write(`${printable(file)}\n`);
    if (sides !== null) for (const line of describeSides(sides.old, sides.new)) out.write(`${printable(line)}\n`);
    // compareRuns orders regressions first, then fixes, changes, new and gone checks.
    for (const c of changes ?? []) out.write(`${printable(describeChange(c))}\n`);
  }
  return regressions.length > 0 ? EXIT.checkFailed : EXIT.ok;
}
