// Issue 14, "analyze's text output prints DNS names and SNI raw": text from a capture or a phone
// (a DNS name, an SNI, a model, an app) reaches the terminal with its control characters shown
// as escapes, so an ESC[2J cannot clear the screen and a newline cannot forge a table row or a
// summary line. One function, printable(), is used by every text printer.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { analyzeFile, type CaptureAnalysis } from '../../lib/analysis/index.js';
import { renderAnalysis } from '../../lib/cli/analyze.js';
import { summary } from '../../lib/cli/certify.js';
import { Progress, type ProgressMode } from '../../lib/cli/progress.js';
import { renderTable } from '../../lib/cli/table.js';
import type { CertifyPlan } from '../../lib/harness/plan.js';
import { printable, printableJson, printableStored } from '../../lib/net/printable.js';
import { readAppLog } from '../../lib/harness/app-log.js';
import type { DeviceBackend } from '../../lib/device/adb.js';
import { readResults, ResultsWriter, type CheckResult } from '../../lib/report/results.js';

/** Any character a terminal may act on, but the newline that ends each printed line. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

// A DNS name is bytes: nothing stops a hostile resolver answering for one holding ESC[2J and a
// newline followed by what looks like the next row of the table.
const FORGED_ROW = '  00:00:00.000  bank.example  A  NOERROR  203.0.113.66';
const hostileName = (tag: string) => `${tag}.example\x1b[2J\n${FORGED_ROW}\u202egpj.exe\u0085\u009b31m`;

describe('printable: control characters shown, not obeyed (issue 14)', () => {
  it('escapes C0, DEL, C1, bidi controls and line separators; keeps every other character', () => {
    assert.equal(printable('a\x1b[2Jb'), 'a\\x1b[2Jb');
    assert.equal(printable('one\ntwo\r\tthree'), 'one\\ntwo\\r\\tthree');
    assert.equal(printable('\0\x07\x7f\x80\x9b\xa0'), '\\x00\\x07\\x7f\\x80\\x9b\xa0');
    assert.equal(printable('\u202a\u202e\u2066\u2069\u200f\u2028'), '\\u{202a}\\u{202e}\\u{2066}\\u{2069}\\u{200f}\\u{2028}');
    assert.equal(printable('C:\\x1b'), 'C:\\\\x1b', 'a backslash is escaped, so text cannot pass for an escape');
    assert.equal(printable('bücher.example 例子.测试 www.example.com'), 'bücher.example 例子.测试 www.example.com');
    assert.doesNotMatch(printable(hostileName('x')), RAW_CONTROL);
    assert.doesNotMatch(printable(hostileName('x')), /\n/);
  });

  it('printableJson is the same JSON value, with nothing a terminal acts on left raw', () => {
    const value = { name: hostileName('json'), n: 1, list: ['\u2066', null] };
    const text = printableJson(value);
    assert.deepEqual(JSON.parse(text), value);
    assert.doesNotMatch(text, RAW_CONTROL);
    assert.doesNotMatch(text, /\n/);
  });

  it('a table cell cannot add a row, and columns are as wide as what is shown', () => {
    const table = renderTable([{ header: 'name' }, { header: 'n', align: 'right' }], [[hostileName('cell'), '1']]);
    const lines = table.split('\n');
    assert.equal(lines.length, 2);
    assert.doesNotMatch(table, RAW_CONTROL);
    assert.ok(lines[0]!.length === lines[1]!.length, 'the header is padded to the escaped cell');
  });
});

describe("an app's log: stored through printable, shown again without a second escape", () => {
  const hostileLine = `12-03 10:00:00.000  1234  1234 W RealProgram: C:\\temp\tx\x1b[2J\u009b31m\u202egpj.exe`;

  it('printableStored leaves what printable wrote as it is, and still escapes a control put in since', () => {
    const stored = printable(hostileLine);
    assert.equal(printableStored(stored), stored);
    assert.doesNotMatch(stored, RAW_CONTROL);
    assert.equal(printableStored('edited\x1b[2J\u202e'), 'edited\\x1b[2J\\u{202e}');
    // printable() shows a backslash doubled, so an escape it shows is never text that looks like one.
    assert.equal(printable('C:\\temp'), 'C:\\\\temp');
  });

  it('readAppLog keeps each tail line through printable: C1 and bidi controls too, not only C0', async () => {
    const backend = { serial: 'fake-1', run: async () => ({ output: `${hostileLine}\n`, exitCode: 0 }) } as unknown as DeviceBackend;
    const log = await readAppLog(backend, 10123, 1000, null, () => 'evidence/app.logcat.txt');
    assert.deepEqual(log.tail, [printable(hostileLine)]);
    assert.match(log.tail[0]!, /\\x1b\[2J\\x9b31m\\u\{202e\}gpj\.exe$/);
    assert.match(log.tail[0]!, /C:\\\\temp\\tx/);
  });
});

describe("analyze's text output (issue 14)", () => {
  let base: CaptureAnalysis;
  before(async () => {
    base = await analyzeFile(resolve(import.meta.dirname, '../fixtures/nat464/tcp_v6.pcap'), { nat64Prefixes: [], clatAddresses: [] });
    assert.equal(base.flows.length, 1, 'the fixture has its one flow');
  });

  /** The capture's analysis, its flow carrying `sni` and one DNS query and hostname named `name`. */
  function crafted(sni: string, name: string): CaptureAnalysis {
    const flow = base.flows[0]!;
    return {
      ...base,
      capture: { ...base.capture, warnings: [`a DNS answer for ${name} did not parse`] },
      flows: [{ ...flow, sni, hostname: name, application: 'tls' }],
      dns: [{ ts: flow.firstTs, id: 1, name, qtype: 'AAAA', rcode: 'NOERROR', answers: [name], transport: 'udp', flow: flow.id }],
      hostnames: [
        {
          name,
          queried: ['AAAA'],
          a: [],
          nativeAaaa: [],
          synthesizedAaaa: [],
          flows: [flow.id],
          firstAttemptFamily: 6,
          firstAttemptTs: flow.firstTs,
          firstIpv6AttemptTs: flow.firstTs,
          firstIpv4AttemptTs: null,
          fallbackDelayMs: null,
          ipv6Failed: false,
        },
      ],
    };
  }

  it('shows a DNS name and an SNI with ESC[2J and a forged row escaped: no raw control character, no extra row', () => {
    const hostile = renderAnalysis('capture.pcap', crafted(hostileName('sni'), hostileName('dns')), 25);
    const plain = renderAnalysis('capture.pcap', crafted('sni.example', 'dns.example'), 25);
    assert.doesNotMatch(hostile, RAW_CONTROL);
    assert.equal(hostile.split('\n').length, plain.split('\n').length, 'as many lines as with plain names');
    assert.ok(!hostile.split('\n').some((line) => line.startsWith(FORGED_ROW)), 'the forged row is not a row');
    assert.ok(hostile.includes('sni.example\\x1b[2J\\n  00:00:00.000'), 'the SNI is shown, escaped');
    assert.ok(hostile.includes('dns.example\\x1b[2J\\n'), 'the DNS name is shown, escaped');
    assert.ok(hostile.includes('Warning    a DNS answer for dns.example\\x1b[2J\\n'), 'a warning quoting it too');
  });

  it('a capture name is shown escaped too', () => {
    const text = renderAnalysis('evil\x1b]0;title\x07.pcap', crafted('a', 'b'), 25);
    assert.doesNotMatch(text, RAW_CONTROL);
    assert.match(text, /^Capture {4}evil\\x1b\]0;title\\x07\.pcap$/m);
  });
});

describe("certify's console summary and progress (issue 14)", () => {
  const hostileModel = `Pixel\x1b[2J\noverall: PASS`;
  const hostileApp = `com.example.news\n  FAILED nothing\u202e`;

  function results(): { runDir: string; add: (r: Partial<CheckResult>) => void } {
    const runDir = mkdtempSync(join(tmpdir(), 'v6lab-printable-'));
    const writer = ResultsWriter.start(runDir, '0.1.0', [{ serial: 'phone\x1b[31m', model: hostileModel, android: '14', virtual: false, profile: 'x' }]);
    const add = (r: Partial<CheckResult>) =>
      writer.add({
        device: 'phone\x1b[31m',
        check: 'apps.ipv6-first',
        app: hostileApp,
        network: 'ipv6',
        status: 'failed',
        verdict: null,
        reasons: [{ code: 'NO_IPV6\x1b[0m', detail: '' }],
        metrics: {},
        evidence: [],
        requirement: [],
        ...r,
      });
    return { runDir, add };
  }

  it('the summary prints the model, serial, app and reasons escaped: one overall line, no raw control', () => {
    const { runDir, add } = results();
    add({});
    add({ check: 'os.ipv6-enabled', app: null, status: 'skipped', reasons: [{ code: 'NO_ROOT\n', detail: '' }] });
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => {
      text += c.toString();
    });
    summary(readResults(runDir), out, runDir);
    // the tab is the summary's own column separator
    assert.doesNotMatch(text.replaceAll('\t', ' '), RAW_CONTROL);
    assert.equal(text.split('\n').filter((l) => l.startsWith('overall:')).length, 1, text);
    assert.match(text, /^phone\\x1b\[31m\tPixel\\x1b\[2J\\noverall: PASS\t/m);
    assert.match(text, /FAILED apps\.ipv6-first com\.example\.news\\n {2}FAILED nothing\\u\{202e\} \[ipv6\]: NO_IPV6\\x1b\[0m/);
    assert.match(text, /^overall: FAIL/m);
  });

  function progressOutput(mode: ProgressMode): string {
    const { runDir, add } = results();
    const plan = { runDir, suites: ['apps'], devices: [{ serial: 'phone\x1b[31m' }] } as unknown as CertifyPlan;
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => {
      text += c.toString();
    });
    const progress = new Progress(plan, [{ check: 'apps.ipv6-first', app: hostileApp, network: 'ipv6', suite: 'apps' }], mode, out);
    progress.stop();
    add({ reasons: [{ code: 'NO_IPV6\u009b2J', detail: '' }] });
    progress.stop();
    return text;
  }

  it('a log line per result shows what results.json holds escaped', () => {
    const lines = progressOutput('lines').trim().split('\n');
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.doesNotMatch(lines[0]!, RAW_CONTROL);
    assert.match(lines[0]!, /phone\\x1b\[31m apps\.ipv6-first com\.example\.news\\n {2}FAILED nothing\\u\{202e\} \[ipv6\]: failed NO_IPV6\\x9b2J$/);
  });

  it('JSON events leave no C1 or bidi control raw', () => {
    const text = progressOutput('json');
    assert.doesNotMatch(text, RAW_CONTROL);
    const events = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(events[0]!.app, hostileApp, 'the JSON value is unchanged');
  });

  it('on a terminal only its own colour escapes are raw: the serial and the app are escaped', () => {
    const text = progressOutput('tty');
    // ESC starts only the bar's own sequences: colours, erase line, cursor up
    const foreign = text.replace(/\x1b\[(?:\d+(?:;\d+)*)?[mKA]/g, '');
    assert.doesNotMatch(foreign, RAW_CONTROL);
    assert.match(text, /phone\\x1b\[31m/);
  });
});
