/**
 * `v6lab report DIR [--compare OLD_DIR]`: rebuilds a run's reports from its results.json and
 * evidence: DIR/index.html (the certification report, with what regressed and what got fixed
 * since OLD_DIR), DIR/junit.xml, and the Allure HTML (DIR/allure-report/index.html, offline).
 * `certify` writes index.html and junit.xml itself at the end of every run.
 */
import { join, resolve } from 'node:path';
import { generateAllureHtml } from '../report/allure.js';
import { compareRuns } from '../report/compare.js';
import { renderHtmlReport } from '../report/html.js';
import { renderJunit } from '../report/junit.js';
import { readResults } from '../report/results.js';
import { readRun } from '../report/run.js';
import { EXIT } from './errors.js';
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

export async function reportCommand(dirArg: string, options: { compare?: string; allure?: boolean }, out: NodeJS.WritableStream): Promise<number> {
  const dir = resolve(dirArg);
  const compare = options.compare === undefined ? undefined : resolve(options.compare);
  // Both runs are read before anything is written: a bad directory leaves the old reports.
  readResults(dir);
  if (compare !== undefined) readResults(compare);
  const written = writeRunReports(dir, compare);
  if (options.allure !== false) written.push(await generateAllureHtml(dir));
  for (const file of written) out.write(`${file}\n`);
  return EXIT.ok;
}
