/**
 * `v6lab report DIR --pdf`: DIR/report.pdf printed from DIR/index.html by headless Chromium (the
 * browser the report tests already use), so the paper report is the page itself: its print CSS
 * (lib/report/html.ts: @page margin boxes with the device, run and page numbers, rows never cut,
 * charts kept) decides the layout, and Chromium's own header and footer are off.
 *
 * Chromium gets a fresh private directory (mkdtemp, mode 0700), removed afterwards, and a
 * deadline; it runs with --no-sandbox only as root (its sandbox refuses to start as root). What it
 * opens is the page v6lab rendered, written into that directory: never DIR/index.html, which the
 * run directory's owner can swap for a page of their own between the write and the print, and
 * whose script would then run in root's unsandboxed browser with file:// access (an iframe of
 * /etc/shadow printed into the PDF). The PDF is written to a temporary file, checked, and renamed
 * over DIR/report.pdf: a reader never finds half a PDF.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readCappedFile, writeRunFile } from './run-files.js';

export const PDF_FILE = 'report.pdf';

/** Chromium's names on Debian, other distributions and Google's package, tried in this order after $CHROME_PATH. */
export const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'] as const;

/** A report of hundreds of checks prints to a few MiB; far above that is not a report. */
const MAX_PDF = 512 * 1024 * 1024;

/** Chromium is missing, failed, or wrote no PDF: exit 3 (the report could not be made here), one line. */
export class PdfError extends Error {
  override name = 'PdfError';
}

/**
 * The Chromium to print with: $CHROME_PATH when set (it must be an executable file), else the
 * first of CHROMIUM_NAMES on $PATH; null when there is none.
 */
export function findChromium(env: Readonly<Record<string, string | undefined>>): string | null {
  const executable = (file: string) => {
    try {
      const stat = statSync(file);
      return stat.isFile() && (stat.mode & 0o111) !== 0;
    } catch {
      return false;
    }
  };
  if (env.CHROME_PATH !== undefined && env.CHROME_PATH !== '') return executable(env.CHROME_PATH) ? env.CHROME_PATH : null;
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => isAbsolute(d));
  for (const name of CHROMIUM_NAMES) for (const dir of dirs) if (executable(join(dir, name))) return join(dir, name);
  return null;
}

/** Chromium's argv to print `page` (a file URL) to `pdf`, with its own profile directory. */
export function chromiumArgs(page: string, pdf: string, profileDir: string, asRoot: boolean): string[] {
  return [
    '--headless',
    // Chromium's sandbox will not start as root; anyone else keeps it.
    ...(asRoot ? ['--no-sandbox'] : []),
    `--user-data-dir=${profileDir}`,
    '--disable-gpu',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-extensions',
    // The report loads nothing from the network (its CSP says so); neither should the browser.
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--run-all-compositor-stages-before-draw',
    `--print-to-pdf=${pdf}`,
    '--no-pdf-header-footer',
    page,
  ];
}

export interface PdfOptions {
  /** Chromium to use. @default findChromium(process.env) */
  chromium?: string;
  /** How long Chromium may take. @default 60000 */
  timeoutMs?: number;
}

/** Runs Chromium; settles once, with its exit, or kills its process group at the deadline. */
function runChromium(program: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  return new Promise((resolvePromise, reject) => {
    // Its own process group: at the deadline the browser and its helpers (zygote, GPU, renderer) go together.
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    let timedOut = false;
    let settled = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      // Only the end is shown: Chromium can be chatty.
      stderr = (stderr + text).slice(-4000);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }, timeoutMs);
    child.on('error', (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolvePromise({ code, stderr, timedOut });
    });
  });
}

/**
 * Prints `page` (an HTML document v6lab rendered) to `pdfFile` (written whole, renamed over) by
 * headless Chromium; returns `pdfFile`. PdfError names what is missing or what went wrong.
 */
export async function printPdf(page: string, pdfFile: string, options: PdfOptions = {}): Promise<string> {
  const chromium = options.chromium ?? findChromium(process.env);
  if (chromium === null)
    throw new PdfError(
      `--pdf needs Chromium: none of ${CHROMIUM_NAMES.join(', ')} is on PATH${process.env.CHROME_PATH ? ` and $CHROME_PATH (${process.env.CHROME_PATH}) is not an executable file` : ''} (Debian: apt-get install chromium; or set CHROME_PATH to a Chrome or Chromium)`,
    );
  const timeoutMs = options.timeoutMs ?? 60_000;
  const work = mkdtempSync(join(tmpdir(), 'v6lab-pdf-'));
  try {
    const printed = join(work, PDF_FILE);
    const htmlFile = join(work, 'index.html');
    writeFileSync(htmlFile, page, { flag: 'wx', mode: 0o600 });
    const args = chromiumArgs(pathToFileURL(htmlFile).href, printed, join(work, 'profile'), process.getuid?.() === 0);
    let run: Awaited<ReturnType<typeof runChromium>>;
    try {
      run = await runChromium(chromium, args, timeoutMs);
    } catch (error) {
      throw new PdfError(`cannot start ${chromium}: ${(error as Error).message} (install chromium, or set CHROME_PATH)`, { cause: error });
    }
    if (run.timedOut) throw new PdfError(`${chromium} did not print the report page for ${pdfFile} within ${timeoutMs / 1000} s; stopped`);
    const read = readCappedFile(printed, MAX_PDF);
    if ('problem' in read || read.bytes.subarray(0, 5).toString('latin1') !== '%PDF-') {
      const tail = run.stderr.trim().split('\n').slice(-3).join(' | ');
      throw new PdfError(
        `${chromium} exited ${run.code} and wrote no PDF of the report page for ${pdfFile}${'problem' in read ? ` (${read.problem})` : ' (not a PDF)'}${tail ? `: ${tail}` : ''}`,
      );
    }
    writeRunFile(pdfFile, read.bytes);
    return pdfFile;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
