// `v6lab report` given a run directory from an archive or another machine (issue 14): outputs
// that are symlinks to files and directories outside the run, script in every string field of
// results.json and of an app's analysis evidence, evidence and facts paths with `..`, a FIFO and
// /dev/zero. Nothing outside the run is read, written or deleted; nothing injected reaches the
// page as markup (and, in headless Chromium, nothing runs); the command ends with exit 0 or 2 and
// one line. The CLI runs from the sources (tsx), so no dist/ build is needed.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { printable } from '../../lib/net/printable.js';
import { DataFileError } from '../../lib/config/schema.js';
import { reporterResultsProblem } from '../../lib/report/allure-results.js';
import { contentSecurityPolicy, htmlPage, renderHtmlReport } from '../../lib/report/html.js';
import { ResultsFileError, type CheckResult, type RunResults } from '../../lib/report/results.js';
import { freshDirectory, locateRunFile, readCappedFile, replaceDirectory, writeRunFile } from '../../lib/report/run-files.js';
import { appEvidence, readRun, type RunView } from '../../lib/report/run.js';
import { inCi, onPath } from '../support/lab-env.js';
import { projectRoot } from '../support/cli.js';

const run = promisify(execFile);

/** Script in every form a field could carry it: a tag, an attribute break-out, a URL scheme. */
const PAYLOAD = `<script>document.title='PWNED'</script>"><img src=x onerror="document.title='PWNED'">'javascript:document.title='PWNED'`;
const SECRET = 'SECRET-OUTSIDE-THE-RUN';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  killed: boolean;
}

/** `v6lab ...args` from the sources, with a deadline: a hang (a FIFO read) ends it and says so. */
async function v6labSource(args: readonly string[], deadlineMs = 60_000): Promise<CliResult> {
  const main = pathToFileURL(join(projectRoot, 'lib/cli/main.ts')).href;
  const script = `import { main } from ${JSON.stringify(main)}; process.exitCode = await main(${JSON.stringify(args)});`;
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: projectRoot,
      timeout: deadlineMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr, killed: false };
  } catch (error) {
    const e = error as { code: number | null; stdout: string; stderr: string; killed?: boolean; signal?: string | null };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, killed: Boolean(e.killed) || e.signal != null };
  }
}

const result = (over: Partial<CheckResult>): CheckResult => ({
  device: `emulator-5554${PAYLOAD}`,
  check: `os.apn-protocol${PAYLOAD}`,
  app: null,
  network: 'ipv4v6',
  status: 'passed',
  verdict: 'pass',
  reasons: [{ code: 'SOME_CODE', detail: PAYLOAD }],
  metrics: { note: PAYLOAD, nativeV6ByteShare: 0.5 },
  evidence: [],
  requirement: [PAYLOAD, 'MIIT-3'],
  brokenAttempts: [{ reasons: [{ code: 'ADB_SERVER_DOWN', detail: PAYLOAD }] }],
  run: `run${PAYLOAD}`,
  ...over,
});

/** An app's analysis evidence with script in every string field the report reads. */
const hostileAnalysis = (family: unknown = 6) => ({
  capture: { method: PAYLOAD, bytes: 10, pcap: PAYLOAD },
  app: { package: PAYLOAD, window: { start: 100, end: 104 } },
  attribution: { method: PAYLOAD, flows: [1] },
  verdict: { metrics: { bytesByPath: { 'native-v6': 3000, nat64: 1000, clat: 0, 'native-v4': 0 } } },
  analysis: {
    flows: [{ id: 1, hostname: `api${PAYLOAD}` }],
    hostnames: [
      {
        name: `api${PAYLOAD}`,
        firstAttemptFamily: family,
        firstIpv6AttemptTs: 100.4,
        firstIpv4AttemptTs: 100.65,
        fallbackDelayMs: 250,
        ipv6Failed: false,
        nativeAaaa: [PAYLOAD],
      },
    ],
  },
});

interface HostileRun {
  /** The directory holding the run and the files outside it. */
  root: string;
  dir: string;
  outside: string;
  /** Every file and directory outside the run, with its bytes before the report. */
  before: Map<string, string>;
}

/** Files outside the run as they are now: path -> content (a directory: its listing). */
function snapshot(outside: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        out.set(path, `dir: ${readdirSync(path).sort().join(',')}`);
        walk(path);
      } else if (e.isFile()) out.set(path, readFileSync(path, 'utf8'));
    }
  };
  walk(outside);
  return out;
}

function hostileRun(): HostileRun {
  const root = mkdtempSync(join(tmpdir(), 'v6lab-hostile-'));
  const outside = join(root, 'outside');
  const dir = join(root, 'run');
  mkdirSync(join(outside, 'victim'), { recursive: true });
  writeFileSync(join(outside, 'victim', 'keep.txt'), `${SECRET} keep me\n`);
  writeFileSync(join(outside, 'index.html'), `${SECRET} the user's own page\n`);
  writeFileSync(join(outside, 'junit.xml'), `${SECRET} the user's own junit\n`);
  writeFileSync(join(outside, 'secret.json'), JSON.stringify({ evidence: SECRET, model: SECRET, analysis: SECRET }));
  const device = join(dir, 'devices', 'd');
  mkdirSync(device, { recursive: true });
  // Outputs that point outside the run.
  symlinkSync(join(outside, 'index.html'), join(dir, 'index.html'));
  symlinkSync(join(outside, 'junit.xml'), join(dir, 'junit.xml'));
  symlinkSync(join(outside, 'victim'), join(dir, 'allure-report'));
  // Evidence that is not a regular file of the run.
  execFileSync('mkfifo', [join(device, 'fifo.json')]);
  execFileSync('mkfifo', [join(device, 'fifo.analysis.json')]);
  symlinkSync('/dev/zero', join(device, 'zero.analysis.json'));
  symlinkSync('/dev/zero', join(device, 'zero.json'));
  symlinkSync(join(outside, 'secret.json'), join(device, 'link.analysis.json'));
  symlinkSync(outside, join(dir, 'devices', 'through'));
  writeFileSync(join(device, 'app.analysis.json'), JSON.stringify(hostileAnalysis()));
  writeFileSync(join(device, 'badfamily.analysis.json'), JSON.stringify(hostileAnalysis(PAYLOAD)));
  writeFileSync(join(device, 'check.json'), JSON.stringify({ evidence: { apn: PAYLOAD } }));
  writeFileSync(join(device, 'app.pcap'), '');
  execFileSync('mkfifo', [join(device, 'facts.json')]);
  const doc: RunResults = {
    run: { id: `run${PAYLOAD}`, started: `2026-01-01T00:00:00Z${PAYLOAD}`, finished: PAYLOAD, tool: { name: PAYLOAD, version: PAYLOAD } },
    devices: [
      { serial: `emulator-5554${PAYLOAD}`, model: PAYLOAD, android: PAYLOAD, virtual: false, profile: PAYLOAD, factsFile: '../outside/secret.json' },
      { serial: `fifo${PAYLOAD}`, model: PAYLOAD, android: PAYLOAD, virtual: false, profile: PAYLOAD, factsFile: 'devices/d/facts.json' },
      { serial: `zero${PAYLOAD}`, model: PAYLOAD, android: PAYLOAD, virtual: false, profile: PAYLOAD, factsFile: 'devices/d/zero.json' },
    ],
    results: [
      result({
        evidence: [
          '../outside/secret.json',
          `${join(outside, 'secret.json')}`,
          'devices/d/fifo.json',
          'devices/d/zero.json',
          'devices/through/secret.json',
          PAYLOAD,
          'javascript:document.title=1',
          '//evil.example/x.pcap',
          'devices/d/check.json',
        ],
      }),
      result({ check: `os.other${PAYLOAD}`, evidence: ['devices/d/zero.json'] }),
      result({ check: `os.third${PAYLOAD}`, evidence: ['devices/d/fifo.json'] }),
      ...(
        [
          ['app', ['devices/d/app.pcap', 'devices/d/app.analysis.json']],
          ['bad-family', ['devices/d/badfamily.analysis.json']],
          ['fifo', ['devices/d/fifo.analysis.json']],
          ['zero', ['devices/d/zero.analysis.json']],
          ['link', ['devices/d/link.analysis.json']],
          ['dotdot', ['../outside/secret.json', 'devices/../../outside/secret.json']],
        ] as const
      ).map(([app, evidence]) =>
        result({ check: 'apps.ipv6-first', app: `${app}${PAYLOAD}`, network: 'ipv6', status: 'failed', verdict: 'fail', evidence: [...evidence] }),
      ),
    ],
  };
  writeFileSync(join(dir, 'results.json'), JSON.stringify(doc, null, 2));
  return { root, dir, outside, before: snapshot(outside) };
}

/** The tags the report itself draws; anything else in a page is markup a value brought in. */
const OWN_TAGS = new Set(
  'html head meta title style body main header h1 h2 h3 p code strong span a section div table caption thead tbody tr th td ul li article dl dt dd small br details summary pre abbr figure svg rect circle line text footer script'.split(
    ' ',
  ),
);

/** Every tag of `html` is one the report draws, with no event handler or script URL, and one script: its own. */
function assertNoInjectedMarkup(html: string): void {
  const tags = [...html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)[^>]*>/g)];
  for (const [tag, name] of tags) {
    assert.ok(OWN_TAGS.has(name!.toLowerCase()), `a <${name}> the report does not draw: ${tag.slice(0, 120)}`);
    // Attribute names only: a quoted value holds text (its own quotes are escaped, so it ends where the page's quote does).
    const names = tag.replace(/"[^"]*"/g, '""');
    assert.doesNotMatch(names, /'/, `an attribute value quoted by a value in ${tag.slice(0, 120)}`);
    assert.doesNotMatch(names, /\son[a-z]+\s*=/i, `an event handler in ${tag.slice(0, 120)}`);
    assert.doesNotMatch(tag, /(?:href|src)\s*=\s*["']?\s*javascript:/i, `a script URL in ${tag.slice(0, 120)}`);
  }
  assert.equal([...html.matchAll(/<script/gi)].length, 1, "only the report's own script");
  assert.doesNotMatch(html, /<img/i);
}

function assertOutsideUntouched(h: HostileRun): void {
  assert.deepEqual(snapshot(h.outside), h.before, 'nothing outside the run was written or deleted');
}

describe('v6lab report on a hostile run directory', function () {
  this.timeout(180_000);
  let h: HostileRun;
  let cli: CliResult;
  let html: string;

  before(async () => {
    h = hostileRun();
    cli = await v6labSource(['report', h.dir, '--no-allure']);
    html = lstatSync(join(h.dir, 'index.html')).isFile() ? readFileSync(join(h.dir, 'index.html'), 'utf8') : '';
  });

  it('ends in time with exit 0, neither hanging on a FIFO nor reading /dev/zero', () => {
    assert.equal(cli.killed, false, `report hung: ${cli.stderr}`);
    assert.equal(cli.code, 0, cli.stderr);
  });

  it('replaces index.html and junit.xml that are symlinks with files of the run, and writes nothing outside it', () => {
    for (const name of ['index.html', 'junit.xml']) {
      const stat = lstatSync(join(h.dir, name));
      assert.ok(stat.isFile() && !stat.isSymbolicLink(), `${name} is now a regular file of the run`);
    }
    assertOutsideUntouched(h);
    assert.match(readFileSync(join(h.outside, 'index.html'), 'utf8'), /the user's own page/);
  });

  it('shows nothing read from outside the run, and says why each path is not available', () => {
    assert.ok(!html.includes(SECRET), 'no byte of a file outside the run is in the page');
    assert.ok(!readFileSync(join(h.dir, 'junit.xml'), 'utf8').includes(SECRET));
    assert.match(html, /\.\.\/outside\/secret\.json: not available \(outside the run directory\)/);
    assert.match(html, /devices\/d\/fifo\.json: not available \(not a regular file\)/);
    assert.match(html, /devices\/d\/zero\.json: not available \(a symlink \(not followed\)\)/);
    assert.match(html, /devices\/through\/secret\.json: not available \(reached through a symlinked directory \(not followed\)\)/);
    assert.match(html, /Analysis devices\/d\/fifo\.analysis\.json: not available \(not a regular file\)/);
    assert.match(html, /Analysis devices\/d\/zero\.analysis\.json: not available \(a symlink \(not followed\)\)/);
    assert.match(html, /facts of fifo.*: devices\/d\/facts\.json: not available \(not a regular file\)/);
  });

  it('links only files of the run, each as a relative path', () => {
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);
    for (const href of hrefs) assert.match(href, /^(#|\.\/devices\/d\/)/, `a link out of the run: ${href}`);
    assert.ok(hrefs.includes('./devices/d/app.pcap'));
  });

  it('draws no markup from any field of results.json or of the analysis evidence', () => {
    assertNoInjectedMarkup(html);
    // The payload is there, as text.
    assert.ok(html.includes('&lt;script&gt;document.title=&#39;PWNED&#39;&lt;/script&gt;&quot;&gt;&lt;img'));
    assert.match(html, /attribution by &lt;script&gt;/, "the analysis evidence's strings are shown, escaped");
  });

  it("shows an analysis evidence file with a field of the wrong type as unreadable, naming the field, in that app's section", () => {
    assert.match(
      html,
      /Analysis devices\/d\/badfamily\.analysis\.json: unreadable \(analysis\.hostnames\[0\]\.firstAttemptFamily: expected 4, 6 or null, got a string\)/,
    );
  });

  it('has a Content-Security-Policy that lets nothing run but its own script', () => {
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;sha256-[^"]*script-src &#39;sha256-/);
    assert.doesNotMatch(contentSecurityPolicy(), /unsafe-inline|unsafe-eval|\*/);
  });
});

describe('enumerated values that bypass results.json validation', () => {
  it('become fixed words through the tables: verdict, status, network and change never reach a class or badge as given', () => {
    const r = {
      device: 'd',
      check: 'os.x',
      app: null,
      network: PAYLOAD,
      status: PAYLOAD,
      verdict: PAYLOAD,
      reasons: [],
      metrics: {},
      evidence: [],
      requirement: [],
    } as unknown as CheckResult;
    const app = { ...r, check: 'apps.ipv6-first', app: 'com.x', status: 'failed', verdict: PAYLOAD } as unknown as CheckResult;
    const doc: RunResults = {
      run: { id: 'r', started: 's', finished: null, tool: { name: 'v6lab', version: '1' } },
      devices: [
        { serial: 'd', model: 'm', android: '14', virtual: false, profile: 'p' },
        { serial: 'e', model: 'n', android: '14', virtual: false, profile: 'p' },
      ],
      results: [r, app, { ...r, device: 'e' }],
    };
    const view: RunView = {
      dir: '/nowhere',
      results: doc,
      roots: ['/nowhere'],
      facts: new Map(),
      apps: new Map([
        [
          `d|com.x|${PAYLOAD}`,
          {
            bytesByPath: { 'native-v6': PAYLOAD as unknown as number, nat64: 1, clat: 0, 'native-v4': 0 },
            hostnames: [
              { name: 'h', firstIpv6: 0.1, firstIpv4: null, firstFamily: PAYLOAD as unknown as 6, fallbackDelayMs: null, ipv6Failed: false, nativeAaaa: true },
            ],
            windowSeconds: 1,
            attribution: 'uid',
          },
        ],
      ]),
      checks: new Map(),
      evidence: new Map(),
      problems: [],
    };
    const page = renderHtmlReport(view, {
      compare: {
        dir: 'old',
        changes: [{ change: PAYLOAD as never, device: 'd', check: 'c', app: null, network: PAYLOAD as never, before: null, after: null, builds: PAYLOAD }],
      },
    });
    assertNoInjectedMarkup(page);
    assert.match(page, /<span class="badge unknown">/, 'an unknown verdict is the word unknown');
    assert.match(page, /unknown network/);
    assert.match(page, /<td>–<\/td><td>100 ms<\/td>/, 'an unknown address family is a dash');
  });
});

describe("report's text output", () => {
  it('shows control characters escaped: no terminal escape or forged line from a results.json', () => {
    assert.equal(printable('regressed os.x on d\u001b[2J\nfixed all\u009b'), 'regressed os.x on d\\x1b[2J\\nfixed all\\x9b');
  });
});

describe('analysis evidence is checked field by field', () => {
  it('names the file and the field of a value of the wrong type', () => {
    const bad = (mutate: (doc: ReturnType<typeof hostileAnalysis>) => void, field: string) => {
      const doc = hostileAnalysis();
      mutate(doc);
      assert.throws(
        () => appEvidence(doc, 'x.analysis.json'),
        (e: unknown) => e instanceof DataFileError && e.file === 'x.analysis.json' && e.field === field,
        field,
      );
    };
    bad((d) => Object.assign(d.app.window, { start: '0' }), 'app.window.start');
    bad((d) => Object.assign(d.attribution, { method: 1 }), 'attribution.method');
    bad((d) => Object.assign(d.verdict.metrics.bytesByPath, { nat64: '<b>' }), 'verdict.metrics.bytesByPath.nat64');
    bad((d) => Object.assign(d.analysis, { hostnames: {} }), 'analysis.hostnames');
    bad((d) => Object.assign(d.analysis.hostnames[0]!, { fallbackDelayMs: 'soon' }), 'analysis.hostnames[0].fallbackDelayMs');
    bad((d) => Object.assign(d.analysis.flows[0]!, { hostname: 7 }), 'analysis.flows[0].hostname');
    assert.equal(appEvidence({ capture: {} }, 'x'), null, 'no window or analysis: nothing to draw, no error');
  });
});

describe('the files of a run directory', () => {
  let dir: string;
  let outside: string;
  beforeEach(() => {
    const root = mkdtempSync(join(tmpdir(), 'v6lab-runfiles-'));
    dir = join(root, 'run');
    outside = join(root, 'outside');
    mkdirSync(dir);
    mkdirSync(outside);
  });

  it('writeRunFile replaces a symlinked output, leaving its target as it was, and a planted temp name is never opened', () => {
    writeFileSync(join(outside, 'target'), 'theirs');
    symlinkSync(join(outside, 'target'), join(dir, 'index.html'));
    writeRunFile(join(dir, 'index.html'), 'mine');
    assert.equal(readFileSync(join(outside, 'target'), 'utf8'), 'theirs');
    assert.ok(lstatSync(join(dir, 'index.html')).isFile());
    assert.equal(readFileSync(join(dir, 'index.html'), 'utf8'), 'mine');
    assert.deepEqual(readdirSync(dir), ['index.html'], 'no temporary file is left');
  });

  it('writeRunFile names the file in an error, and leaves no temporary file', () => {
    mkdirSync(join(dir, 'index.html'));
    assert.throws(() => writeRunFile(join(dir, 'index.html'), 'x'), /index\.html/);
    assert.deepEqual(readdirSync(dir), ['index.html']);
  });

  it('replaceDirectory removes a symlink itself, never its target; refuses a file; replaces a real directory', () => {
    writeFileSync(join(outside, 'keep'), 'k');
    symlinkSync(outside, join(dir, 'allure-report'));
    let fresh = freshDirectory(dir, 'allure-report');
    writeFileSync(join(fresh, 'index.html'), 'new');
    replaceDirectory(fresh, join(dir, 'allure-report'));
    assert.deepEqual(readdirSync(outside), ['keep']);
    assert.ok(lstatSync(join(dir, 'allure-report')).isDirectory());
    assert.equal(readFileSync(join(dir, 'allure-report', 'index.html'), 'utf8'), 'new');
    // A real directory of the run: replaced, the old one gone.
    fresh = freshDirectory(dir, 'allure-report');
    writeFileSync(join(fresh, 'index.html'), 'newer');
    replaceDirectory(fresh, join(dir, 'allure-report'));
    assert.equal(readFileSync(join(dir, 'allure-report', 'index.html'), 'utf8'), 'newer');
    assert.deepEqual(readdirSync(dir), ['allure-report']);
    // A file there: left, the fresh one removed, an error for exit 2.
    const file = join(dir, 'other');
    writeFileSync(file, 'f');
    fresh = freshDirectory(dir, 'other');
    assert.throws(() => replaceDirectory(fresh, file), ResultsFileError);
    assert.equal(readFileSync(file, 'utf8'), 'f');
    assert.ok(!existsSync(fresh));
  });

  it('locateRunFile and readCappedFile refuse what is not a regular file of the run, under the cap', () => {
    writeFileSync(join(dir, 'a.json'), '{}');
    writeFileSync(join(dir, 'big.json'), 'x'.repeat(100));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    symlinkSync('/dev/zero', join(dir, 'zero'));
    const problem = (path: string, cap = 50) => {
      const found = locateRunFile(dir, [dir], path, cap);
      return 'problem' in found ? found.problem : null;
    };
    assert.equal(problem('a.json'), null);
    assert.equal(problem('../outside/x'), 'outside the run directory');
    assert.equal(problem(join(outside, 'x')), 'outside the run directory');
    assert.equal(problem('.'), 'outside the run directory');
    assert.equal(problem('fifo'), 'not a regular file');
    assert.equal(problem('zero'), 'a symlink (not followed)');
    assert.equal(problem('big.json'), '100 bytes, over the 50-byte limit');
    assert.equal(problem('a\u0000b'), 'not a file name');
    // Read from a descriptor: a FIFO or a symlink there is refused at open, not waited on.
    assert.deepEqual(readCappedFile(join(dir, 'fifo'), 50), { problem: 'not a regular file' });
    assert.deepEqual(readCappedFile(join(dir, 'zero'), 50), { problem: 'a symlink (not followed)' });
    assert.deepEqual(readCappedFile(join(dir, 'big.json'), 50), { problem: '100 bytes, over the 50-byte limit' });
  });
});

describe('v6lab report: what it cannot read is one line and exit 2', function () {
  this.timeout(120_000);
  const runDir = () => mkdtempSync(join(tmpdir(), 'v6lab-hostile-results-'));

  for (const [what, make] of [
    ['a FIFO', (file: string) => execFileSync('mkfifo', [file])],
    ['a symlink to /dev/zero', (file: string) => symlinkSync('/dev/zero', file)],
  ] as const) {
    it(`a results.json that is ${what}`, async () => {
      const dir = runDir();
      make(join(dir, 'results.json'));
      const r = await v6labSource(['report', dir, '--no-allure']);
      assert.equal(r.killed, false, 'no hang');
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /results\.json: (not a regular file|a symlink \(not followed\)): not read/);
      assert.ok(!existsSync(join(dir, 'index.html')));
    });
  }

  it('a results.json with script in a field that takes only fixed values names the field', async () => {
    for (const field of ['verdict', 'status', 'network'] as const) {
      const dir = runDir();
      const doc = {
        run: { id: 'r', started: 's', finished: null, tool: { name: 'v6lab', version: '1' } },
        devices: [],
        results: [result({ [field]: PAYLOAD })],
      };
      writeFileSync(join(dir, 'results.json'), JSON.stringify(doc));
      const r = await v6labSource(['report', dir, '--no-allure']);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`results\\.json: results\\[0\\]\\.${field}: expected`));
    }
  });

  it('a merge whose results.json names / as one of its runs reads no evidence there', async () => {
    const dir = runDir();
    const doc: RunResults = {
      run: {
        id: 'merged-x',
        started: 's',
        finished: null,
        tool: { name: 'v6lab', version: '1' },
        merged: [{ id: 'root', dir: '/', started: 's', finished: null, tool: '1' }],
      },
      devices: [{ serial: 'd', model: 'm', android: '14', virtual: false, profile: 'p', factsFile: '/etc/hostname' }],
      results: [result({ device: 'd', evidence: ['../../../../../../../etc/hostname', '/etc/hostname'] })],
    };
    writeFileSync(join(dir, 'results.json'), JSON.stringify(doc));
    const view = readRun(dir);
    assert.deepEqual(view.roots, [dir], "the merge's own directory only");
    assert.equal(view.evidence.get('/etc/hostname'), 'outside the run directory');
    assert.equal(view.facts.size, 0);
  });
});

describe('the Allure results a run came with', () => {
  it('are used only when every attachment they name is a file of their own directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-allure-results-'));
    writeFileSync(join(dir, 'a-attachment.json'), '{}');
    const write = (source: string) =>
      writeFileSync(
        join(dir, 'x-result.json'),
        JSON.stringify({ name: 'x', steps: [{ steps: [{ attachments: [{ name: 'e', source, type: 'text/plain' }] }] }] }),
      );
    write('a-attachment.json');
    assert.equal(reporterResultsProblem(dir), null);
    for (const source of ['../../../etc/passwd', '/etc/passwd', 'missing-attachment.txt', '..']) {
      write(source);
      assert.match(reporterResultsProblem(dir) ?? '', /x-result\.json in it attaches .*, not a file of the directory/, source);
    }
    write('a-attachment.json');
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    assert.equal(reporterResultsProblem(dir), 'fifo in it is not a regular file');
  });
});

describe('v6lab report --merge into a directory whose results.json is a symlink', function () {
  this.timeout(60_000);
  it('never writes through it: exit 2 and one line, or the link replaced', async () => {
    const root = mkdtempSync(join(tmpdir(), 'v6lab-merge-link-'));
    const source = join(root, 'run');
    mkdirSync(source);
    writeFileSync(
      join(source, 'results.json'),
      JSON.stringify({ run: { id: 'r1', started: 's', finished: 'f', tool: { name: 'v6lab', version: '1' } }, devices: [], results: [] }),
    );
    const merged = join(root, 'merged');
    mkdirSync(merged);
    writeFileSync(join(root, 'theirs.json'), 'theirs');
    symlinkSync(join(root, 'theirs.json'), join(merged, 'results.json'));
    const r = await v6labSource(['report', merged, '--merge', source, '--no-allure']);
    assert.equal(readFileSync(join(root, 'theirs.json'), 'utf8'), 'theirs');
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /merged\/results\.json: a symlink \(not followed\): not read/);
  });
});

describe('v6lab report with Allure on a hostile run directory', function () {
  this.timeout(300_000);

  it('generates into a fresh directory: an allure-report symlink is removed, what it points to is not emptied; a symlinked allure-results is rebuilt', async function () {
    if (!(await onPath('java'))) {
      if (inCi) throw new Error('java is missing (Debian: default-jre-headless): the Allure report cannot be checked');
      console.warn('    skipping the Allure check: java is missing (Debian: default-jre-headless)');
      this.skip();
    }
    const h = hostileRun();
    // Reporter results that are a symlink out of the run: rebuilt, never read or written through.
    mkdirSync(join(h.outside, 'results'));
    writeFileSync(join(h.outside, 'results', 'x-result.json'), '{}');
    symlinkSync(join(h.outside, 'results'), join(h.dir, 'allure-results'));
    h.before = snapshot(h.outside);
    const r = await v6labSource(['report', h.dir]);
    assert.equal(r.killed, false);
    assert.equal(r.code, 0, r.stderr);
    assertOutsideUntouched(h);
    assert.ok(lstatSync(join(h.dir, 'allure-report')).isDirectory() && !lstatSync(join(h.dir, 'allure-report')).isSymbolicLink());
    assert.ok(existsSync(join(h.dir, 'allure-report', 'index.html')));
    assert.ok(lstatSync(join(h.dir, 'allure-results')).isDirectory() && !lstatSync(join(h.dir, 'allure-results')).isSymbolicLink());
    assert.match(r.stderr, /allure-results: not a directory \(a symlink is not followed\); built again from results\.json/);
    assert.deepEqual(
      readdirSync(h.dir).filter((n) => n.startsWith('.')),
      [],
      'no fresh directory is left behind',
    );
    // An allure-report that is a file: left as it is, one line, exit 2.
    rmSync(join(h.dir, 'allure-report'), { recursive: true });
    writeFileSync(join(h.dir, 'allure-report'), 'a file');
    const file = await v6labSource(['report', h.dir]);
    assert.equal(file.code, 2, file.stderr);
    assert.equal(file.stderr.trim().split('\n').length, 1, file.stderr);
    assert.match(file.stderr, /allure-report: is not a directory: move it away/);
    assert.equal(readFileSync(join(h.dir, 'allure-report'), 'utf8'), 'a file');
    assert.deepEqual(
      readdirSync(h.dir).filter((n) => n.startsWith('.')),
      [],
    );
    // An attachment is only ever a file of the run.
    const attachments = readdirSync(join(h.dir, 'allure-results')).filter((n) => n.includes('-attachment-'));
    for (const a of attachments) assert.ok(!readFileSync(join(h.dir, 'allure-results', a), 'utf8').includes(SECRET));
  });
});

describe('the report in headless Chromium', function () {
  this.timeout(120_000);
  const chromium = '/usr/bin/chromium';

  /** The page's DOM after load, and Chromium's console (CSP violations are reported there). */
  async function load(file: string): Promise<{ dom: string; log: string }> {
    const profile = mkdtempSync(join(tmpdir(), 'v6lab-chromium-'));
    const args = [
      '--headless',
      '--disable-gpu',
      '--no-first-run',
      `--user-data-dir=${profile}`,
      '--enable-logging=stderr',
      '--v=0',
      '--virtual-time-budget=2000',
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--dump-dom',
      pathToFileURL(file).href,
    ];
    const { stdout, stderr } = await run(chromium, args, { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    return { dom: stdout, log: stderr };
  }

  before(function () {
    if (!existsSync(chromium)) {
      if (inCi) throw new Error(`${chromium} is missing (Debian: chromium): the hostile report cannot be opened in a browser`);
      console.warn(`    skipping the browser check: ${chromium} is missing (Debian: chromium)`);
      this.skip();
    }
  });

  it('runs nothing a field of the hostile run carried', async () => {
    const h = hostileRun();
    const r = await v6labSource(['report', h.dir, '--no-allure']);
    assert.equal(r.code, 0, r.stderr);
    const { dom } = await load(join(h.dir, 'index.html'));
    assert.match(dom, /<title>IPv6 certification: /);
    assert.ok(!dom.includes('<title>PWNED'), 'no injected script ran');
    assert.doesNotMatch(dom, /<img/i);
  });

  it('blocks by its Content-Security-Policy a script that escaped escaping, and runs its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-csp-'));
    const file = join(dir, 'index.html');
    // As if a value had reached the page raw: the CSP alone must stop it.
    writeFileSync(
      file,
      htmlPage('safe title', `<script>document.title='PWNED'</script><img src=x onerror="document.title='PWNED'"><details><summary>s</summary>x</details>`),
    );
    const { dom, log } = await load(file);
    assert.match(dom, /<title>safe title<\/title>/);
    assert.match(log, /Content Security Policy/, 'the injected script was refused by the policy');
    // The page's own script is allowed by its hash: no violation names it.
    assert.doesNotMatch(log, /beforeprint/);
  });
});
