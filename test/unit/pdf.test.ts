// `v6lab report --pdf` (lib/report/pdf.ts): which Chromium, with which argv, the PDF written whole,
// the browser's profile directory removed, a deadline, and errors that name what is missing. A
// stand-in Chromium (a shell script) plays the browser; the real one prints a page at the end.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { chromiumArgs, findChromium, PdfError, printPdf } from '../../lib/report/pdf.js';
import { inCi, onPath } from '../support/lab-env.js';

const run = promisify(execFile);

/** An executable script in a fresh directory. */
function script(name: string, body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-fake-chromium-'));
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** A stand-in Chromium that records its argv and writes `output` to its --print-to-pdf path. */
function fakeChromium(output: string): { program: string; argvFile: string } {
  const argvFile = join(mkdtempSync(join(tmpdir(), 'v6lab-argv-')), 'argv');
  const program = script(
    'chromium',
    `for a in "$@"; do echo "$a" >> '${argvFile}'; case "$a" in --print-to-pdf=*) printf '%s' '${output}' > "\${a#--print-to-pdf=}";; esac; done`,
  );
  return { program, argvFile };
}

const PAGE = '<!doctype html><html lang="en"><body><h1>IPv6 certification report</h1><p>emulator-5554 PASS</p></body></html>';

/** A run directory to print into. */
function page(): string {
  return mkdtempSync(join(tmpdir(), 'v6lab-pdf-page-'));
}

describe('report --pdf (lib/report/pdf.ts)', function () {
  this.timeout(60_000);

  it('finds $CHROME_PATH first, else chromium, chromium-browser, google-chrome on PATH, in that order; null when none', () => {
    const chrome = script('google-chrome', 'exit 0');
    const browser = script('chromium-browser', 'exit 0');
    const notExecutable = join(dirname(chrome), 'plain');
    writeFileSync(notExecutable, '');
    assert.equal(findChromium({ PATH: `${dirname(chrome)}:${dirname(browser)}` }), browser);
    assert.equal(findChromium({ PATH: dirname(chrome) }), chrome);
    assert.equal(findChromium({ PATH: dirname(chrome), CHROME_PATH: browser }), browser);
    assert.equal(findChromium({ PATH: dirname(chrome), CHROME_PATH: notExecutable }), null, 'a CHROME_PATH that cannot run is not passed over');
    assert.equal(findChromium({ PATH: '/nonexistent:relative/dir' }), null);
  });

  it('prints headless with its own profile, no header or footer, and --no-sandbox only as root', () => {
    const args = chromiumArgs('file:///run/index.html', '/tmp/x/report.pdf', '/tmp/x/profile', false);
    assert.ok(args.includes('--headless'));
    assert.ok(args.includes('--no-pdf-header-footer'));
    assert.ok(args.includes('--user-data-dir=/tmp/x/profile'));
    assert.ok(args.includes('--print-to-pdf=/tmp/x/report.pdf'));
    assert.equal(args.at(-1), 'file:///run/index.html');
    assert.ok(!args.includes('--no-sandbox'));
    assert.ok(chromiumArgs('file:///a', '/b', '/c', true).includes('--no-sandbox'));
  });

  it('writes DIR/report.pdf whole from what Chromium printed, and removes the profile directory it gave it', async () => {
    const dir = page();
    const fake = fakeChromium('%PDF-1.7 fake');
    const written = await printPdf(PAGE, join(dir, 'report.pdf'), { chromium: fake.program });
    assert.equal(written, join(dir, 'report.pdf'));
    assert.equal(readFileSync(written, 'utf8'), '%PDF-1.7 fake');
    const argv = readFileSync(fake.argvFile, 'utf8').trim().split('\n');
    const profile = argv.find((a) => a.startsWith('--user-data-dir='))!.slice('--user-data-dir='.length);
    // The page opened is v6lab's, written beside the profile in the private directory.
    assert.equal(argv.at(-1), `file://${join(dirname(profile), 'index.html')}`);
    assert.ok(!existsSync(dirname(profile)), `${dirname(profile)} is left behind`);
  });

  it("prints the page it is given, never the run directory's index.html (its owner may have swapped it for a page of their own)", async () => {
    const dir = page();
    writeFileSync(join(dir, 'index.html'), '<iframe src="file:///etc/shadow"></iframe>');
    // A stand-in that prints the file it was asked to open.
    const copies = script(
      'chromium',
      `for a in "$@"; do case "$a" in --print-to-pdf=*) out="\${a#--print-to-pdf=}";; file://*) page="\${a#file://}";; esac; done; { printf '%%PDF-'; cat "$page"; } > "$out"`,
    );
    await printPdf(PAGE, join(dir, 'report.pdf'), { chromium: copies });
    assert.equal(readFileSync(join(dir, 'report.pdf'), 'utf8'), `%PDF-${PAGE}`);
  });

  it('a Chromium that wrote no PDF, or not a PDF: PdfError naming the page, and the old report.pdf stays', async () => {
    const dir = page();
    writeFileSync(join(dir, 'report.pdf'), '%PDF- the previous one');
    const silent = script('chromium', 'echo "cannot open display" >&2; exit 1');
    await assert.rejects(printPdf(PAGE, join(dir, 'report.pdf'), { chromium: silent }), (error: unknown) => {
      assert.ok(error instanceof PdfError);
      assert.match((error as Error).message, /exited 1 and wrote no PDF of the report page for .*report\.pdf \(missing\): cannot open display/);
      return true;
    });
    const html = fakeChromium('<html>');
    await assert.rejects(printPdf(PAGE, join(dir, 'report.pdf'), { chromium: html.program }), /\(not a PDF\)/);
    assert.equal(readFileSync(join(dir, 'report.pdf'), 'utf8'), '%PDF- the previous one');
  });

  it('stops a Chromium that hangs at the deadline, saying so', async () => {
    const dir = page();
    const hangs = script('chromium', 'exec sleep 30');
    const started = Date.now();
    await assert.rejects(printPdf(PAGE, join(dir, 'report.pdf'), { chromium: hangs, timeoutMs: 300 }), /did not print .* within 0\.3 s; stopped/);
    assert.ok(Date.now() - started < 10_000);
  });

  it('no Chromium at all: PdfError naming the programs looked for and CHROME_PATH', async () => {
    const dir = page();
    const saved = { PATH: process.env.PATH, CHROME_PATH: process.env.CHROME_PATH };
    process.env.PATH = '/nonexistent';
    delete process.env.CHROME_PATH;
    try {
      await assert.rejects(
        printPdf(PAGE, join(dir, 'report.pdf')),
        /--pdf needs Chromium: none of chromium, chromium-browser, google-chrome, google-chrome-stable is on PATH .*set CHROME_PATH/,
      );
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.CHROME_PATH !== undefined) process.env.CHROME_PATH = saved.CHROME_PATH;
    }
  });

  it('with the real Chromium: a PDF whose text is the page', async function () {
    const chromium = findChromium(process.env);
    if (chromium === null || !(await onPath('pdftotext'))) {
      if (inCi) throw new Error('chromium or pdftotext (poppler-utils) is missing: the PDF cannot be checked');
      console.warn('    skipping the real print: chromium or pdftotext (Debian: chromium, poppler-utils) is missing');
      this.skip();
    }
    const dir = page();
    await printPdf(PAGE, join(dir, 'report.pdf'));
    const { stdout } = await run('pdftotext', [join(dir, 'report.pdf'), '-']);
    assert.match(stdout, /IPv6 certification report/);
    assert.match(stdout, /emulator-5554 PASS/);
  });
});
