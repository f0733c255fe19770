/**
 * `v6lab report DIR [--compare OLD_DIR] [--merge RUN...]`: rebuilds a run's reports from its
 * results.json and evidence: DIR/index.html (the certification report, with what regressed and
 * what got fixed since OLD_DIR), DIR/junit.xml, and the Allure HTML (DIR/allure-report/index.html,
 * offline). With --merge, DIR is first made the merge of the runs (lib/report/merge.ts).
 * `certify` writes index.html and junit.xml itself at the end of every run.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateAllureHtml } from '../report/allure.js';
import { compareRuns } from '../report/compare.js';
import { renderHtmlReport } from '../report/html.js';
import { renderJunit } from '../report/junit.js';
import { readMergeSources, mergeRuns } from '../report/merge.js';
import { readResults, ResultsFileError, RESULTS_FILE, writeDocument } from '../report/results.js';
import { readRun } from '../report/run.js';
import { EXIT } from './errors.js';
import { toolVersion } from './version.js';
import { writeFileWhole } from '../config/files.js';

const writeAtomically = writeFileWhole;

/** index.html and junit.xml of a run directory; returns their paths. */
export function writeRunReports(dir: string, compareDir?: string): string[] {
  const run = readRun(dir);
  const compare = compareDir === undefined ? undefined : { dir: compareDir, changes: compareRuns(run.results, readResults(compareDir)) };
  const html = join(dir, 'index.html');
  const junit = join(dir, 'junit.xml');
  writeAtomically(html, renderHtmlReport(run, { compare }));
  writeAtomically(junit, renderJunit(run.results));
  return [html, junit];
}

export async function reportCommand(dirArg: string, options: { compare?: string; allure?: boolean; merge?: string[] }, out: NodeJS.WritableStream): Promise<number> {
  const dir = resolve(dirArg);
  const compare = options.compare === undefined ? undefined : resolve(options.compare);
  const sources = options.merge === undefined ? null : readMergeSources(dir, options.merge);
  // Every run is read before anything is written: a bad directory leaves the old reports.
  if (sources !== null) {
    const existing = existsSync(join(dir, RESULTS_FILE)) ? readResults(dir) : null;
    if (existing !== null && !existing.run.merged) throw new ResultsFileError(join(dir, RESULTS_FILE), 'holds a run of its own: --merge writes to a new directory, or to one an earlier merge wrote');
  } else {
    readResults(dir);
  }
  if (compare !== undefined) readResults(compare);
  if (sources !== null) {
    mkdirSync(dir, { recursive: true });
    writeDocument(dir, mergeRuns(dir, sources, toolVersion()));
  }
  const written = [...(sources === null ? [] : [join(dir, RESULTS_FILE)]), ...writeRunReports(dir, compare)];
  if (options.allure !== false) written.push(await generateAllureHtml(dir, sources?.map((s) => s.dir)));
  for (const file of written) out.write(`${file}\n`);
  return EXIT.ok;
}
