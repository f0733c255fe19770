// `v6lab report --compare` on two real runs where one app changed mode between them (a new
// release that tries IPv4 first): exactly that app is marked, as a regression; and the other way
// round, as a fix. Root and namespaces needed: skips with the reason elsewhere, fails in CI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAdbServer, type AdbCli } from '../support/adb-cli.js';
import { projectRoot, v6lab } from '../support/cli.js';
import { requireLab } from '../support/lab-env.js';
import type { RunResults } from '../../lib/report/results.js';

const SERIAL = 'emulator-5554';

describe('report --compare: two runs, one app changed (issue 5)', function () {
  this.timeout(400_000);
  const work = mkdtempSync(join(tmpdir(), 'v6lab-compare-'));
  chmodSync(work, 0o755);
  const stateDir = join(work, 'state');
  let cli: AdbCli;
  let env: Record<string, string>;

  before(async function () {
    await requireLab(
      this,
      'the compare test',
      ['ip', 'tayga', 'radvd', 'unbound', 'tcpdump', 'adb', 'setpriv', 'dnsmasq', 'busybox'],
      'iproute2 tayga radvd unbound tcpdump adb util-linux dnsmasq-base busybox',
    );
    mkdirSync(join(work, 'adb-home'));
    cli = await startAdbServer(join(work, 'adb-home'));
    env = cli.harnessEnv({ V6LAB_STATE_DIR: stateDir });
  });

  after(async function () {
    await cli?.run(['kill-server']).catch(() => undefined);
    if (process.getuid?.() === 0) await v6lab(['lab', 'down'], env);
  });

  /** Brings the lab up with `apps` (and a handset `profile`), certifies the apps suite of `catalogue` into `out` (exit 0 all pass, 1 an app fails), brings it down. */
  async function certifyWith(
    apps: string,
    catalogue: string,
    out: string,
    expectedExit: number,
    profile = join(projectRoot, 'devices/lab/handsets/compliant.json'),
  ): Promise<void> {
    const up = await v6lab(['lab', 'up', '--apn', 'ipv6', '--apps', apps, '--profile', profile], env);
    assert.equal(up.code, 0, up.stderr);
    try {
      // Who ran it where, as a carrier files it (issue 18): recorded in results.json and every report.
      const metadata = ['--lab-name', 'v6lab CI lab', '--tester', 'compare.test', '--notes', 'two builds of one handset'];
      const run = await v6lab(['certify', '--devices', SERIAL, '--suite', 'apps', '--apps', catalogue, '--out', out, '--quiet', ...metadata], env, 240_000);
      assert.equal(run.code, expectedExit, `${run.stdout}\n${run.stderr.slice(-2000)}`);
    } finally {
      assert.equal((await v6lab(['lab', 'down'], env)).code, 0);
    }
  }

  it('marks exactly the app whose release went IPv4-first', async () => {
    const before = join(work, 'apps-before');
    const after = join(work, 'apps-after');
    cpSync(join(projectRoot, 'devices/lab/apps'), before, { recursive: true });
    cpSync(join(projectRoot, 'devices/lab/apps'), after, { recursive: true });
    // The new release of Maps tries IPv4 first.
    const maps = JSON.parse(readFileSync(join(after, 'maps.json'), 'utf8')) as { pages: Record<string, { requests: { mode: string }[] }> };
    for (const page of Object.values(maps.pages)) for (const r of page.requests) r.mode = 'ipv4-first';
    writeFileSync(join(after, 'maps.json'), JSON.stringify(maps));
    const catalogue = join(work, 'catalogue.json');
    writeFileSync(
      catalogue,
      JSON.stringify({
        // Maps changes; Chat does not, and must stay unmarked (a third app proved nothing more).
        name: 'two',
        apps: ['com.example.maps', 'com.example.chat'].map((p) => ({ package: p, label: p, dwellMs: 1500 })),
      }),
    );

    await certifyWith(before, catalogue, join(work, 'run1'), 0);
    // The second run is a new firmware of the same handset: another build number, so another fingerprint.
    const newBuild = JSON.parse(readFileSync(join(projectRoot, 'devices/lab/handsets/compliant.json'), 'utf8')) as { properties: Record<string, string> };
    newBuild.properties['ro.build.version.incremental'] = 'eng.v6lab.20250105.000002';
    writeFileSync(join(work, 'compliant-new-build.json'), JSON.stringify(newBuild));
    await certifyWith(after, catalogue, join(work, 'run2'), 1, join(work, 'compliant-new-build.json'));
    const report = await v6lab(['report', join(work, 'run2'), '--compare', join(work, 'run1'), '--no-allure'], env);
    // A regression is what a firmware pipeline gates on: exit 1, one line each on stdout.
    assert.equal(report.code, 1, report.stderr);
    assert.deepEqual(
      report.stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('regressed '))
        .map((l) => l.replace(/ on .*/, ''))
        .sort(),
      ['regressed apps.ipv6-first com.example.maps [ipv4v6]', 'regressed apps.ipv6-first com.example.maps [ipv6]'],
    );
    const html = readFileSync(join(work, 'run2', 'index.html'), 'utf8');
    const marked = [...html.matchAll(/<tr class="change-(\w+)" data-change="\w+" data-app="([^"]*)">/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(
      marked,
      [
        ['regressed', 'com.example.maps'],
        ['regressed', 'com.example.maps'],
      ],
      'on both networks, nothing else',
    );
    assert.match(html, /2 regressed, 0 fixed, 0 changed, 0 new, 0 gone/);
    // And back: the old release against the new one is a fix.
    const back = await v6lab(['report', join(work, 'run1'), '--compare', join(work, 'run2'), '--no-allure'], env);
    assert.equal(back.code, 0, 'a fix is no regression');
    assert.match(readFileSync(join(work, 'run1', 'index.html'), 'utf8'), /0 regressed, 2 fixed, 0 changed/);
  });
  // Issue 18's CI demos on the two runs above (no lab needed: reports of their directories).
  it('report --pdf holds every device, check, requirement and verdict, page 1 not blank; --verify; --compare labels both builds; both languages', async function () {
    this.timeout(120_000);
    const [run1, run2] = [join(work, 'run1'), join(work, 'run2')];
    const doc = JSON.parse(readFileSync(join(run2, 'results.json'), 'utf8')) as RunResults;
    assert.ok(doc.sealed !== undefined, 'a finished run is sealed');
    assert.deepEqual([doc.run.labName, doc.run.tester, doc.run.notes], ['v6lab CI lab', 'compare.test', 'two builds of one handset']);
    assert.match(readFileSync(join(run2, 'junit.xml'), 'utf8'), /<property name="lab-name" value="v6lab CI lab"\/>/);
    assert.ok(
      doc.sealed.files.some((f) => f.path.endsWith('.pcap')),
      `the captures are sealed: ${doc.sealed.files.map((f) => f.path).join(', ')}`,
    );

    // The PDF: its text (whitespace taken out, a long id may wrap in a table cell) names everything the run judged.
    const pdf = await v6lab(['report', run2, '--pdf', '--lang', 'en', '--no-allure'], env, 90_000);
    assert.equal(pdf.code, 0, pdf.stderr);
    assert.ok(pdf.stdout.includes(join(run2, 'report.pdf')), pdf.stdout);
    const text = execFileSync('pdftotext', ['-enc', 'UTF-8', join(run2, 'report.pdf'), '-'], { encoding: 'utf8' });
    const squeezed = text.replace(/\s+/g, '');
    const expected = [...doc.devices.flatMap((d) => [d.serial, d.model]), ...doc.results.map((r) => r.check), ...doc.results.flatMap((r) => r.requirement)];
    for (const word of new Set([...expected, 'v6lab CI lab', 'compare.test']))
      assert.ok(squeezed.includes(word.replace(/\s+/g, '')), `report.pdf lacks ${word}`);
    for (const verdict of new Set(doc.results.map((r) => r.verdict).filter((v) => v !== null)))
      assert.match(text, new RegExp(`\\b${verdict}\\b`, 'i'), `report.pdf lacks the verdict ${verdict}`);
    // Page 1 rendered small, in grey: a blank page has (almost) no variance.
    const pgm = execFileSync('pdftoppm', ['-r', '30', '-f', '1', '-l', '1', '-gray', join(run2, 'report.pdf')]);
    const header = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(pgm.subarray(0, 40).toString('latin1'));
    assert.ok(header !== null, 'pdftoppm wrote a PGM');
    const pixels = pgm.subarray(header[0].length);
    assert.equal(pixels.length, Number(header[1]) * Number(header[2]));
    const mean = pixels.reduce((a, p) => a + p, 0) / pixels.length;
    const variance = pixels.reduce((a, p) => a + (p - mean) ** 2, 0) / pixels.length;
    assert.ok(variance > 100, `page 1 looks blank (pixel variance ${variance.toFixed(1)})`);

    // The seal: verified as the run left it; one byte of a pcap changed is named, exit 1.
    const verified = await v6lab(['report', '--verify', run2], env);
    assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`);
    const pcap = doc.sealed.files.find((f) => f.path.endsWith('.pcap'))!.path;
    const bytes = readFileSync(join(run2, pcap));
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    writeFileSync(join(run2, pcap), bytes);
    const tampered = await v6lab(['report', '--verify', run2], env);
    assert.equal(tampered.code, 1, tampered.stderr);
    assert.match(tampered.stdout, new RegExp(`^CHANGED ${pcap.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: sha256 `, 'm'));

    // --compare says which builds it compared: both fingerprints, old and new.
    const [before, after] = [run1, run2].map(
      (dir) => (JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as RunResults).devices[0]!.identity!.fingerprint!,
    );
    assert.notEqual(before, after, 'the two runs ran two builds');
    const compared = await v6lab(['report', run2, '--compare', run1, '--no-allure'], env);
    assert.equal(compared.code, 1, compared.stderr);
    const lines = compared.stdout.trim().split('\n');
    assert.ok(
      lines.some((l) => l.startsWith('old: ') && l.includes(`fingerprint ${before}`)),
      compared.stdout,
    );
    assert.ok(
      lines.some((l) => l.startsWith('new: ') && l.includes(`fingerprint ${after}`)),
      compared.stdout,
    );
    const changes = lines.filter((l) => /^(regressed|fixed|changed|new|gone) /.test(l));
    assert.ok(changes[0]!.startsWith('regressed '), 'regressions first');
    assert.ok(changes[0]!.includes(`(fingerprint ${before} -> ${after})`), changes[0]);
    const json = JSON.parse((await v6lab(['report', run2, '--compare', run1, '--no-allure', '--json'], env)).stdout) as {
      sides: Record<'old' | 'new', { devices: { fingerprint: string }[] }>;
      devices: { build: string }[];
    };
    assert.deepEqual([json.sides.old.devices[0]!.fingerprint, json.sides.new.devices[0]!.fingerprint, json.devices[0]!.build], [before, after, 'different']);

    // Both languages: the page says which it is in, and the Chinese PDF prints Chinese (a CJK font is there).
    const zh = await v6lab(['report', run1, '--lang', 'zh-CN', '--pdf', '--no-allure'], env, 90_000);
    assert.equal(zh.code, 0, zh.stderr);
    assert.match(readFileSync(join(run1, 'index.html'), 'utf8'), /<html lang="zh-CN"/);
    assert.match(execFileSync('pdftotext', ['-enc', 'UTF-8', join(run1, 'report.pdf'), '-'], { encoding: 'utf8' }), /[\u4e00-\u9fff]{2}/);
    const en = await v6lab(['report', run1, '--lang', 'en', '--no-allure'], env);
    assert.equal(en.code, 0, en.stderr);
    assert.match(readFileSync(join(run1, 'index.html'), 'utf8'), /<html lang="en"/);
    const bad = await v6lab(['report', run1, '--lang', 'fr', '--no-allure'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--lang: "fr" is not a language v6lab writes; one of en, zh-CN/);

    // Allure as the WebdriverIO reporter wrote it: Maps' IPv4-first release is a product failure (failed, not broken), one test per app and network.
    const allure = join(run2, 'allure-results');
    const tests = readdirSync(allure)
      .filter((f) => f.endsWith('-result.json'))
      .map((f) => JSON.parse(readFileSync(join(allure, f), 'utf8')) as { status: string; historyId: string; labels: { name: string; value: string }[] });
    const maps = tests.filter((t) => t.labels.some((l) => l.name === 'app' && l.value === 'com.example.maps'));
    assert.deepEqual(
      maps.map((t) => t.status),
      ['failed', 'failed'],
    );
    assert.equal(new Set(tests.map((t) => t.historyId)).size, tests.length, 'each test its own history id');
  });
});
