/**
 * The Allure HTML report, generated offline by allure-commandline (Java) from the Allure
 * results the WebdriverIO reporter wrote, or that were built from results.json: one file (`--single-file`), with analytics off
 * (ALLURE_NO_ANALYTICS=true, or it embeds a Google Analytics tag), checked afterwards for any
 * URL it would load from the network.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

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
 * Generates DIR/allure-report/index.html from DIR/allure-results (the WebdriverIO reporter's, or
 * those lib/report/allure-results.ts built from results.json); returns its path.
 */
export async function generateAllureHtml(runDir: string): Promise<string> {
  const input = join(runDir, 'allure-results');
  if (!existsSync(input)) throw new AllureError(`${input}: no Allure results`);
  const results = [input];
  const allure = join(dirname(createRequire(import.meta.url).resolve('allure-commandline/package.json')), 'bin', 'allure');
  const out = join(runDir, 'allure-report');
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
    throw new AllureError(`allure generate failed: ${why}`);
  }
  const file = join(out, 'index.html');
  const loads = externalLoads(readFileSync(file, 'utf8'));
  if (loads.length > 0) throw new AllureError(`${file} would load from the network: ${loads.slice(0, 3).join(', ')}`);
  return file;
}
