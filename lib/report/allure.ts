/**
 * The Allure HTML report, generated offline by allure-commandline (Java) from the Allure
 * results the WebdriverIO reporter wrote, or that were built from results.json: one file (`--single-file`), with analytics off
 * (ALLURE_NO_ANALYTICS=true, or it embeds a Google Analytics tag), checked afterwards for any
 * URL it would load from the network.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freshDirectory, readCappedFile, replaceDirectory } from './run-files.js';

const run = promisify(execFile);

export class AllureError extends Error {
  override name = 'AllureError';
}

/**
 * URLs a page would load from the network: script, link and image sources, CSS url() and
 * @import, and analytics tags, in the page and in the base64 data: URIs it embeds its scripts
 * and styles as. A URL that is only text (a licence comment, an XML namespace) is not a load.
 */
export function externalLoads(html: string): string[] {
  let text = html;
  for (const m of html.matchAll(/data:([a-z]+\/[a-z0-9.+-]+)[^,"']*;base64,([A-Za-z0-9+/=]+)/g)) {
    if (/javascript|css|html|json|svg/.test(m[1]!)) text += `\n${Buffer.from(m[2]!, 'base64').toString('utf8')}`;
  }
  const loads = [...text.matchAll(/(?:src|href)\s*=\s*["']https?:\/\/[^"']+|url\(\s*["']?https?:\/\/[^)"']+|@import\s+["']https?:\/\/[^"']+/g)].map(
    (m) => m[0],
  );
  const analytics = [...text.matchAll(/googletagmanager\.com|google-analytics\.com/g)].map((m) => m[0]);
  return [...new Set([...loads, ...analytics])];
}

/**
 * The trend files a one-file report embeds (`d('history/history.json', 'BASE64')`): Allure writes
 * no history/ directory beside it, so the next report's `--history` would have nothing to carry.
 */
export function embeddedHistory(html: string): { name: string; bytes: Buffer }[] {
  return [...html.matchAll(/d\('history\/([a-z][a-z-]*\.json)',\s*'([A-Za-z0-9+/=]*)'\)/g)].map((m) => ({ name: m[1]!, bytes: Buffer.from(m[2]!, 'base64') }));
}

/** Allure's one-file report embeds every attachment; its own size is bounded by theirs. */
const MAX_ALLURE_HTML = 1024 * 1024 * 1024;

/**
 * Generates DIR/allure-report/index.html from DIR/allure-results (the WebdriverIO reporter's, or
 * those lib/report/allure-results.ts built from results.json); returns its path. Allure's
 * `--clean` empties its output directory, whatever that points to: it writes into a new,
 * randomly named directory of the run, which then replaces DIR/allure-report only if that is a
 * real directory of the run or absent (a symlink there is removed itself, never its target).
 */
export async function generateAllureHtml(runDir: string): Promise<string> {
  const input = join(runDir, 'allure-results');
  if (!existsSync(input)) throw new AllureError(`${input}: no Allure results`);
  const results = [input];
  const allure = join(dirname(createRequire(import.meta.url).resolve('allure-commandline/package.json')), 'bin', 'allure');
  const target = join(runDir, 'allure-report');
  const out = freshDirectory(runDir, 'allure-report');
  try {
    await run(allure, ['generate', ...results, '-o', out, '--clean', '--single-file'], {
      env: { ...process.env, ALLURE_NO_ANALYTICS: 'true' },
      timeout: 120_000,
    });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    const why = /java: not found|JAVA_HOME|java.*No such file/i.test(`${e.stderr ?? ''} ${e.message}`)
      ? 'Java is missing (Debian: apt-get install default-jre-headless)'
      : (e.stderr ?? e.message).trim().split('\n').pop();
    rmSync(out, { recursive: true, force: true });
    throw new AllureError(`allure generate failed: ${why}`);
  }
  const read = readCappedFile(join(out, 'index.html'), MAX_ALLURE_HTML);
  const loads = 'problem' in read ? [] : externalLoads(read.bytes.toString('utf8'));
  if ('problem' in read || loads.length > 0) {
    rmSync(out, { recursive: true, force: true });
    throw new AllureError(
      'problem' in read
        ? `allure generate wrote no report (${read.problem})`
        : `${join(target, 'index.html')} would load from the network: ${loads.slice(0, 3).join(', ')}`,
    );
  }
  // Kept beside the page as a multi-file report keeps them, for `report --history THIS_DIR` next time.
  const history = embeddedHistory(read.bytes.toString('utf8'));
  if (history.length > 0) {
    mkdirSync(join(out, 'history'));
    for (const file of history) writeFileSync(join(out, 'history', file.name), file.bytes, { flag: 'wx' });
  }
  replaceDirectory(out, target);
  return join(target, 'index.html');
}
