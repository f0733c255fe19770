/**
 * Small things a newcomer hit (issue 13, item 8): hostnames in natural order, `analyze --top`
 * bounding every table, a table too big for a spread, and `devices` on a machine without adb.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile, compareHostnames } from '../../lib/analysis/index.js';
import { largestFlows, renderAnalysis } from '../../lib/cli/analyze.js';
import { renderTable } from '../../lib/cli/table.js';
import { renderCaptureHtml } from '../../lib/report/capture-html.js';
import { isAdbNotInstalled } from '../../lib/device/adb.js';
import { freePort } from '../support/adb-cli.js';
import { v6lab } from '../support/cli.js';
import { prng } from '../support/mutate.js';
import { HandsetCapture } from '../support/scenario.js';

const HANDSET = '2001:db8:1::100';
const RESOLVER = '2001:db8:1::53';

/** A capture whose handset asks AAAA for each name in turn (in this order) and connects to each. */
function captureAsking(names: readonly string[]): Uint8Array {
  const capture = new HandsetCapture();
  names.forEach((name, i) => {
    const server = `2001:db8:2::${(i + 1).toString(16)}`;
    capture.dns(i, HANDSET, RESOLVER, 3000 + i, i + 1, name, 'AAAA', [server]);
    capture.tcp(i + 0.5, HANDSET, 4000 + i, server, 443, { responseBytes: 1000 + i });
  });
  return capture.pcap();
}

/** The lines of one section of `analyze`'s table: from its heading to the blank line after it. */
function section(text: string, heading: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  assert.ok(start >= 0, `no "${heading}" section in:\n${text}`);
  const end = lines.indexOf('', start);
  return lines.slice(start, end === -1 ? undefined : end);
}

describe('hostnames in natural order (compareHostnames)', () => {
  it('puts host2 before host10, and numbers by value wherever they stand', () => {
    assert.ok(compareHostnames('host2', 'host10') < 0);
    assert.ok(compareHostnames('host10', 'host2') > 0);
    assert.deepEqual(['host10.test', 'host2.test', 'host1.test', 'a.test'].sort(compareHostnames), ['a.test', 'host1.test', 'host2.test', 'host10.test']);
    assert.deepEqual(['cdn-10.img.test', 'cdn-9.img.test', 'cdn-100.img.test'].sort(compareHostnames), [
      'cdn-9.img.test',
      'cdn-10.img.test',
      'cdn-100.img.test',
    ]);
    assert.deepEqual(['s3.eu-west-10.test', 's3.eu-west-2.test'].sort(compareHostnames), ['s3.eu-west-2.test', 's3.eu-west-10.test']);
    // Longer than a double holds exactly: compared digit by digit, not through Number.
    assert.ok(compareHostnames('n99999999999999999998.test', 'n99999999999999999999.test') < 0);
  });

  it('folds ASCII case (DNS names are case-insensitive) and still gives one order for every input order', () => {
    assert.ok(compareHostnames('Beta.test', 'alpha.test') > 0);
    const names = ['img02.test', 'IMG2.test', 'img2.test', 'img2.test', 'img10.test', 'img1.test', 'img.test', 'img-2.test'];
    const sorted = [...names].sort(compareHostnames);
    assert.deepEqual(sorted, ['img-2.test', 'img.test', 'img1.test', 'IMG2.test', 'img2.test', 'img2.test', 'img02.test', 'img10.test']);
    assert.deepEqual([...names].reverse().sort(compareHostnames), sorted);
    for (const a of names) {
      for (const b of names) assert.equal(Math.sign(compareHostnames(a, b)) + Math.sign(compareHostnames(b, a)), 0, `${a} vs ${b}`);
    }
  });

  it("orders the analysis' hostnames so, whatever order they were asked in", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-natural-'));
    const capture = join(dir, 'hosts.pcap');
    writeFileSync(capture, captureAsking(['host10.test', 'host2.test', 'host1.test']));
    const analysis = await analyzeFile(capture);
    assert.deepEqual(
      analysis.hostnames.map((h) => h.name),
      ['host1.test', 'host2.test', 'host10.test'],
    );
    const table = section(renderAnalysis(capture, analysis, 25), 'Hostnames')
      .slice(2)
      .map((l) => l.trim().split(/ +/)[0]);
    assert.deepEqual(table, ['host1.test', 'host2.test', 'host10.test']);
    const html = renderCaptureHtml(capture, analysis);
    assert.deepEqual(
      [...html.matchAll(/<th scope="row">(host\d+\.test)<\/th>/g)].map((m) => m[1]),
      ['host1.test', 'host2.test', 'host10.test'],
    );
  });
});

describe('analyze --html --lang: the capture page in English or Chinese', () => {
  it("writes zh-CN as the certification report does: the page's own words in Chinese, the capture's values as they are", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-capture-html-'));
    const capture = join(dir, 'hosts.pcap');
    writeFileSync(capture, captureAsking(['host1.test', 'host2.test']));
    const analysis = await analyzeFile(capture);
    const en = renderCaptureHtml(capture, analysis);
    const zh = renderCaptureHtml(capture, analysis, 'zh-CN');
    assert.match(en, /<html lang="en">/);
    assert.match(zh, /<html lang="zh-CN">/);
    assert.match(zh, /<h1>抓包分析<\/h1>/);
    assert.match(zh, /<th scope="col">客户端<\/th>/);
    // Every English word the page itself says is gone from the Chinese page (the capture's values stay).
    const own = [
      'Capture analysis',
      'Traffic by path',
      'Flows by path',
      'Hostnames: which family first',
      'none given or',
      'packets,',
      '>client<',
      '>server<',
      '>handshake<',
      '>answers<',
      'queries)',
    ];
    for (const words of own) {
      assert.ok(en.includes(words), `the English page says ${words}`);
      assert.ok(!zh.includes(words), `the Chinese page still says ${words}`);
    }
    for (const value of ['host1.test', 'host2.test']) assert.ok(zh.includes(value), value);
    // From the command line: the option, the locale, and a language v6lab does not write.
    const html = join(dir, 'zh.html');
    const fromEnv = await v6lab(['analyze', capture, '--html', html], { LANG: 'zh_CN.UTF-8', LC_ALL: '', LC_MESSAGES: '' });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.match(readFileSync(html, 'utf8'), /<html lang="zh-CN">/);
    const bad = await v6lab(['analyze', capture, '--lang', 'fr']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--lang: "fr" is not a language v6lab writes/);
  });
});

describe('the largest flows of the table: what a stable sort by bytes gives, without one', () => {
  it('the top N ids, largest first, ties in flow order, over seeded byte counts with many ties', () => {
    const random = prng(19);
    for (let round = 0; round < 200; round++) {
      const count = Math.floor(random() * 300);
      // Few distinct sizes: ties everywhere.
      const bytes = Array.from({ length: count }, () => Math.floor(random() * 12) * 100);
      const doc = { flowCount: count, flowBytes: (id: number) => bytes[id]! };
      const sorted = Array.from({ length: count }, (_, i) => i).sort((x, y) => bytes[y]! - bytes[x]!);
      for (const top of [0, 1, 2, 25, count, count + 5, 2000]) {
        assert.deepEqual(largestFlows(doc, top), sorted.slice(0, top), `round ${round}, ${count} flows, --top ${top}`);
      }
    }
  });
});

describe('v6lab analyze --top bounds every table', function () {
  this.timeout(30000);
  const names = Array.from({ length: 6 }, (_, i) => `host${i + 1}.test`);
  let capture: string;

  before(() => {
    capture = join(mkdtempSync(join(tmpdir(), 'v6lab-top-')), 'six.pcap');
    writeFileSync(capture, captureAsking(names));
  });

  it('lists --top N DNS queries, flows and hostnames, and says how many of each were left out', async () => {
    const { code, stdout, stderr } = await v6lab(['analyze', capture, '--top', '2']);
    assert.equal(code, 0, stderr);
    const dns = section(stdout, 'DNS');
    assert.equal(dns[0], 'DNS (6 queries, the first 2)');
    assert.deepEqual(
      dns.slice(2, -1).map((l) => l.trim().split(/ +/)[1]),
      ['host1.test', 'host2.test'],
    );
    assert.equal(dns.at(-1), '  4 more queries not listed (--top 2: raise it to list more, or --json for all)');
    // Six DNS flows and six TCP ones.
    const flows = section(stdout, 'Flows');
    assert.equal(flows[0], 'Flows (12, the 2 largest)');
    assert.equal(flows.length, 2 + 2 + 1);
    assert.match(flows.at(-1)!, /^ {2}10 more flows not listed/);
    const hosts = section(stdout, 'Hostnames');
    assert.deepEqual(
      hosts.slice(2, -1).map((l) => l.trim().split(/ +/)[0]),
      ['host1.test', 'host2.test'],
    );
    assert.match(hosts.at(-1)!, /^ {2}4 more hostnames not listed/);
  });

  it('lists everything, with no "not listed" line, when every row fits', async () => {
    const { code, stdout } = await v6lab(['analyze', capture, '--top', '12']);
    assert.equal(code, 0);
    assert.equal(section(stdout, 'DNS').length, 2 + 6);
    assert.doesNotMatch(stdout, /not listed/);
  });

  it('says "1 more query", not "1 more queries"', async () => {
    const analysis = await analyzeFile(capture);
    assert.equal(section(renderAnalysis(capture, analysis, 5), 'DNS').at(-1), '  1 more query not listed (--top 5: raise it to list more, or --json for all)');
  });
});

describe('renderTable on a huge table', () => {
  it('renders 300,000 rows (a spread of that many arguments overflows the stack) and sizes columns to the widest cell', () => {
    const rows = Array.from({ length: 300_000 }, (_, i) => [String(i), 'x']);
    const text = renderTable([{ header: 'n', align: 'right' }, { header: 'name' }], rows, '');
    const lines = text.split('\n');
    assert.equal(lines.length, 300_001);
    assert.equal(lines[0], '     n  name');
    assert.equal(lines[1], '     0  x');
    assert.equal(lines.at(-1), '299999  x');
  });
});

describe('v6lab devices without adb', function () {
  this.timeout(30000);
  let dir: string;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'v6lab-noadb-'));
    // No adb server listens here, so adbkit tries `adb start-server`, as it does on a fresh machine.
    port = await freePort();
  });

  it('says adb is not installed and how to install it, in one line, exit 3, when no adb is on PATH', async () => {
    const empty = join(dir, 'empty-bin');
    mkdirSync(empty);
    const { code, stdout, stderr } = await v6lab(['devices'], { PATH: empty, ANDROID_ADB_SERVER_PORT: String(port) });
    assert.equal(code, 3, stderr);
    assert.equal(stdout, '');
    assert.equal(stderr.split('\n').length, 2, `one line: ${stderr}`);
    assert.match(stderr, /^v6lab: adb is not installed: no adb server answers on port \d+ and there is no `adb` on PATH/);
    assert.match(stderr, /`apt-get install adb`/);
    assert.doesNotMatch(stderr, /adb start-server/);
  });

  it('says the server could not be started, not that adb is missing, when adb is there but its start-server fails', async () => {
    const bin = join(dir, 'broken-adb-bin');
    mkdirSync(bin);
    const adb = join(bin, 'adb');
    // What adb prints when its port is taken by something else.
    writeFileSync(adb, '#!/bin/sh\necho "* daemon not running; starting now at tcp:$2" >&2\necho "ADB server didn\'t ACK" >&2\nexit 1\n');
    chmodSync(adb, 0o755);
    const { code, stderr } = await v6lab(['devices'], { PATH: `${bin}:/usr/bin:/bin`, ANDROID_ADB_SERVER_PORT: String(port) });
    assert.equal(code, 3, stderr);
    assert.equal(stderr.split('\n').length, 2, `one line: ${stderr}`);
    assert.match(
      stderr,
      new RegExp(
        `^v6lab: cannot reach the adb server on port ${port}: Command failed: adb -P ${port} start-server: .*ADB server didn't ACK.*start it with \`adb start-server\``,
      ),
    );
    assert.doesNotMatch(stderr, /not installed/);
  });

  it('tells a missing adb (ENOENT spawning it) from other failures', () => {
    const spawnEnoent = Object.assign(new Error('spawn adb ENOENT'), { code: 'ENOENT', syscall: 'spawn adb', path: 'adb' });
    assert.equal(isAdbNotInstalled(spawnEnoent), true);
    assert.equal(isAdbNotInstalled(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5037'), { code: 'ECONNREFUSED', syscall: 'connect' })), false);
    assert.equal(isAdbNotInstalled(Object.assign(new Error("ENOENT: no such file or directory, open 'x'"), { code: 'ENOENT', syscall: 'open' })), false);
    assert.equal(isAdbNotInstalled(null), false);
  });
});
