// The certification report and certify's console summary in both languages (issue 18): the page
// says every heading, verdict and reason in the reader's language; the requirements section is a
// traceability matrix whose every anchor exists and every link resolves; the per-page and app-run
// tables show what they must and escape what results.json carries; the printed page has its
// header and page numbers; and a results.json from before issue 18 still renders.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Lang } from '../../lib/checks/lang.js';
import { message, reasonOf } from '../../lib/checks/messages.js';
import { CHECKS, REQUIREMENTS, requirementAnchor } from '../../lib/checks/requirements.js';
import { summary } from '../../lib/cli/certify.js';
import { contentSecurityPolicy, cssString, renderHtmlReport } from '../../lib/report/html.js';
import { EXPECTED, reportText } from '../../lib/report/i18n.js';
import { readResults, type CheckResult, type RunResults } from '../../lib/report/results.js';
import { readRun } from '../../lib/report/run.js';

const HOSTILE = '<script>document.title="PWNED"</script>"><img src=x>';
const SERIAL = 'R5CX1234';

const result = (over: Partial<CheckResult>): CheckResult => ({
  device: SERIAL,
  check: 'os.apn-protocol',
  app: null,
  network: 'ipv4v6',
  status: 'passed',
  verdict: null,
  reasons: [],
  metrics: {},
  evidence: [],
  requirement: ['MIIT-3', 'RFC7849-C_REC2'],
  ...over,
});

const apnFault = reasonOf('APN_PROTOCOL_NOT_IPV4V6', message('os.apnProtocol.value', { apn: 'cmnet', value: 'IP' }));
const literal = reasonOf('IPV4_LITERAL', message('app.ipv4Literal', { count: 1, addresses: '100.64.1.9' }));
const notInstalled = reasonOf('NOT_INSTALLED', message('harness.notInstalled', { pkg: 'com.example.maps', label: 'Maps' }));

/** A run of one real-looking handset and one that reported little, with run metadata, reasons as messages, pages and app runs. */
function modernRun(): RunResults {
  const bytes = { 'native-v6': 6000, nat64: 1000, clat: 500, 'native-v4': 2500 };
  return {
    run: {
      id: '2026-12-03T09-00-00-000Z-abcdef',
      started: '2026-12-03T09:00:00.000Z',
      finished: '2026-12-03T09:20:00.000Z',
      tool: { name: 'v6lab', version: '0.9.0' },
      labName: 'Lab <b>3</b>',
      tester: 'Wang Wei',
      notes: `line one\n${HOSTILE}`,
    },
    devices: [
      {
        serial: SERIAL,
        model: 'SM-S936B',
        android: '16',
        virtual: false,
        profile: 'galaxy',
        identity: {
          manufacturer: 'samsung',
          model: 'SM-S936B',
          android: '16',
          sdk: 36,
          fingerprint: 'samsung/pa2qxxx/pa2q:16/BP4A.251205.006/S936BXXUACZF1:user/release-keys',
          buildId: 'BP4A.251205.006',
          displayId: 'BP4A.251205.006.S936BXXUACZF1',
          incremental: 'S936BXXUACZF1',
          securityPatch: '2026-06-05',
          baseband: HOSTILE,
          sims: [{ slot: 0, mcc: '460', mnc: '00', name: 'CMCC' }],
          kernel: null,
        },
      },
      { serial: 'lab-2', model: 'v6lab Legacy', android: '9', virtual: true, profile: 'noncompliant' },
    ],
    results: [
      result({}),
      result({ device: 'lab-2', status: 'failed', reasons: [apnFault] }),
      result({
        check: 'apps.ipv6-first',
        app: 'com.example.news',
        network: 'ipv6',
        status: 'failed',
        verdict: 'fail',
        reasons: [literal],
        metrics: { nativeV6ByteShare: 0.6, ipv6ShareMean: 0.55 },
        requirement: ['MIIT-2'],
        pages: [
          {
            page: 'Home',
            run: 1,
            bytes,
            ipv6Share: 0.6,
            ipv4Hosts: [
              { host: 'small.example', path: 'nat64', bytes: 1000, share: 0.1 },
              { host: `big${HOSTILE}.example`, path: 'native-v4', bytes: 2500, share: 0.25 },
            ],
          },
          { page: `Video ${HOSTILE}`, run: 2, bytes: { 'native-v6': 0, nat64: 0, clat: 0, 'native-v4': 0 }, ipv6Share: null, ipv4Hosts: [] },
        ],
        runs: [
          { run: 1, verdict: 'fail', bytes, ipv6Share: 0.6, evidence: ['devices/R5CX1234/ipv6/run-1.pcap'] },
          { run: 2, verdict: 'pass', bytes, ipv6Share: 0.5, evidence: [`devices/R5CX1234/ipv6/${HOSTILE}.pcap`] },
        ],
      }),
      result({ check: 'apps.ipv6-first', app: 'com.example.maps', network: 'ipv6', status: 'skipped', reasons: [notInstalled], requirement: ['MIIT-2'] }),
    ],
  };
}

/** A results.json written before issue 18: whole-document requirement ids, reasons with only an English detail. */
function legacyRun(): RunResults {
  return {
    run: { id: 'old-run', started: '2026-01-01T00:00:00.000Z', finished: '2026-01-01T00:10:00.000Z', tool: { name: 'v6lab', version: '0.1.0' } },
    devices: [{ serial: 'emulator-5554', model: 'Ref', android: '14', virtual: true, profile: 'compliant' }],
    results: [
      result({
        device: 'emulator-5554',
        status: 'failed',
        reasons: [{ code: 'APN_PROTOCOL_NOT_IPV4V6', detail: 'the default APN internet has protocol IP' }],
        requirement: ['MIIT-3', 'RFC7849'],
      }),
      result({ device: 'emulator-5554', check: 'os.resolver-prefers-ipv6', requirement: ['MIIT-3', 'RFC8305', 'YDT3269'] }),
      result({ device: 'emulator-5554', check: 'os.x-from-another-tool', requirement: ['ACME-9'] }),
    ],
  };
}

function runDir(doc: RunResults): string {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-i18n-'));
  writeFileSync(join(dir, 'results.json'), JSON.stringify(doc));
  mkdirSync(join(dir, 'devices', SERIAL, 'ipv6'), { recursive: true });
  writeFileSync(join(dir, 'devices', SERIAL, 'ipv6', 'run-1.pcap'), '');
  return dir;
}

const render = (doc: RunResults, lang: Lang) => renderHtmlReport(readRun(runDir(doc)), { lang });

/** What a reader sees: the page's text without its markup, styles, script, code (identifiers) and what is marked as English. */
function visibleText(html: string): string {
  return (
    html
      .replace(/<(style|script|title)>[\s\S]*?<\/\1>/g, ' ')
      .replace(/<code>[\s\S]*?<\/code>/g, ' ')
      .replace(/<(span|li) lang="en">[\s\S]*?<\/\1>/g, ' ')
      .replace(/<[^>]+>/g, ' ')
      .replace(/&[a-z]+;|&#\d+;/g, ' ')
      // Check ids, test case ids, app ids and host names are identifiers, the same in every language.
      .replace(/\bV6L-[A-Z]+-\d+\b/g, ' ')
      .replace(/\S*\/\S*/g, ' ')
      .replace(/\b[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\b/g, ' ')
  );
}

/** Every id the page defines, and every in-page link's target. */
const ids = (html: string) => new Set([...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]!));
const fragmentLinks = (html: string) => [...html.matchAll(/href="#([^"]*)"/g)].map((m) => m[1]!);

describe('the certification report in two languages', () => {
  const en = render(modernRun(), 'en');
  const zh = render(modernRun(), 'zh-CN');

  it('says which language it is in', () => {
    assert.match(en, /^<!doctype html>\n<html lang="en">/);
    assert.match(zh, /^<!doctype html>\n<html lang="zh-CN">/);
  });

  it('in Chinese: headings, verdicts, statuses, networks and the form words a carrier files, and no English word of the report', () => {
    const t = reportText('zh-CN');
    for (const word of [
      '测试信息',
      '被测终端',
      '测试项编号',
      '测试目的',
      '预期结果',
      '实际结果',
      '结论',
      '标准要求与追溯矩阵',
      '应用测试结果',
      '不通过',
      '通过',
      '不符合',
      '符合',
      'IPv6 单栈 APN',
      '双栈 APN',
      '无结论的测试项',
    ])
      assert.ok(zh.includes(word), word);
    assert.ok(zh.includes(t.overall.fail));
    const text = visibleText(zh);
    const english =
      /\b(pass|passed|fail|failed|warn|warning|skipped|broken|inconclusive|incomplete|could not run|never ran|not run|Devices|Requirements?|Test items?|purpose|expected|actual|conclusion|conforms?|not reported|not given|IPv6-only|dual-stack|Overall|evidence|started|finished|serial|fingerprint|baseband|security patch|Apps?|per page|mean|run|none|yes|no)\b/i;
    const found = english.exec(text);
    assert.equal(found, null, `English on the Chinese page: ...${found ? text.slice(Math.max(0, found.index - 60), found.index + 60) : ''}...`);
  });

  it('in Chinese: a reason that carries messages is in Chinese, with no word of its English detail; its code is kept', () => {
    for (const reason of [apnFault, literal, notInstalled]) {
      assert.ok(en.includes(reason.detail.replaceAll("'", '&#39;')), `the English page has: ${reason.detail}`);
      assert.ok(!zh.includes(reason.detail), `the Chinese page has no: ${reason.detail}`);
      assert.ok(zh.includes(`<code>${reason.code}</code>`));
    }
    assert.ok(zh.includes('默认APN cmnet 的协议（protocol）为 IP；应为IPV4V6'));
    assert.ok(zh.includes('设备上没有安装 com.example.maps（Maps）'));
  });

  it('prints the run metadata and the identity of each device, "not reported" where it did not say, escaped', () => {
    for (const html of [en, zh]) {
      assert.ok(html.includes('Lab &lt;b&gt;3&lt;/b&gt;') && html.includes('Wang Wei'));
      assert.ok(html.includes('2026-12-03T09-00-00-000Z-abcdef'));
      assert.ok(html.includes('BP4A.251205.006') && html.includes('S936BXXUACZF1') && html.includes('2026-06-05'));
      assert.ok(html.includes('samsung/pa2qxxx/pa2q:16/BP4A.251205.006/S936BXXUACZF1:user/release-keys'));
      assert.ok(html.includes('CMCC (460/00)'));
      assert.doesNotMatch(html, /<script>document|<img src=x>/);
    }
    assert.match(en, /<dt>kernel<\/dt><dd><span class="muted">not reported<\/span><\/dd>/);
    assert.match(zh, /<dt>内核版本<\/dt><dd><span class="muted">未上报<\/span><\/dd>/);
    assert.match(en, /<dt>incremental<\/dt><dd>S936BXXUACZF1<\/dd>/);
  });

  it('lists each test item with its test case, purpose, expected result, actual result and conclusion', () => {
    const row = /<tr class="fail" id="item-lab-2-os\.apn-protocol-ipv4v6" data-check="os\.apn-protocol">([\s\S]*?)<\/tr>/.exec(zh)?.[1] ?? '';
    assert.ok(row.includes('V6L-OS-01'), row);
    assert.ok(row.includes('默认 APN 的协议为 IPV4V6'), 'the purpose: the check title in Chinese');
    assert.ok(row.includes(EXPECTED['os.apn-protocol']!['zh-CN']), 'the expected result');
    assert.match(row, /<span class="badge fail">.*不通过<\/span>/, 'the actual result');
    assert.match(row, /<td class="conclusion">不符合<\/td>/);
    for (const c of CHECKS) assert.ok(EXPECTED[c.id], `an expected result for ${c.id}`);
  });

  it('has a traceability matrix: every requirement its anchor, document, clause, title and summary in full, its checks and their verdicts', () => {
    for (const [html, lang] of [
      [en, 'en'],
      [zh, 'zh-CN'],
    ] as const) {
      const defined = ids(html);
      for (const r of Object.values(REQUIREMENTS)) {
        assert.ok(defined.has(requirementAnchor(r.id)), `anchor of ${r.id}`);
        const block = new RegExp(`<tbody id="${requirementAnchor(r.id)}" class="requirement">([\\s\\S]*?)</tbody>`).exec(html)?.[1] ?? '';
        for (const text of [r.summary[lang], r.title[lang], r.clause[lang], r.document[lang]])
          assert.ok(block.includes(text.replaceAll('"', '&quot;').replaceAll("'", '&#39;')), `${r.id}: ${text}`);
      }
      const miit3 = new RegExp(`<tbody id="${requirementAnchor('MIIT-3')}" class="requirement">([\\s\\S]*?)</tbody>`).exec(html)?.[1] ?? '';
      assert.match(miit3, /<a href="#item-lab-2-os\.apn-protocol-ipv4v6"><span class="badge fail">/, 'the verdict on each device links to its test item');
      assert.doesNotMatch(html, /<abbr title=/, 'no text only a tooltip shows');
    }
  });

  it('every in-page link resolves to an anchor of the page; a check links to its requirements', () => {
    for (const html of [en, zh]) {
      const defined = ids(html);
      const links = fragmentLinks(html);
      assert.ok(links.length > 10);
      for (const link of links)
        assert.ok(
          defined.has(link.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&#39;', "'")) ||
            defined.has(link),
          `#${link} points nowhere`,
        );
    }
    assert.match(en, /<a href="#req-MIIT-3">MIIT-3<\/a>, <a href="#req-RFC7849-C_REC2">RFC7849-C_REC2<\/a>/);
  });

  it('shows per page the IPv6 share, native, NAT64 and CLAT apart, and the hosts over IPv4 or NAT64 largest first, escaped', () => {
    const table = /<table class="pages">([\s\S]*?)<\/table>/.exec(en)?.[1] ?? '';
    assert.match(table, /<th scope="col">native IPv6<\/th><th scope="col">NAT64<\/th><th scope="col">CLAT<\/th><th scope="col">IPv4<\/th>/);
    assert.match(table, /<th scope="row">Home<\/th><td>1<\/td><td>60\.0%<\/td><td>10\.0%<\/td><td>5\.0%<\/td><td>25\.0%<\/td><td>9\.8 KiB<\/td>/);
    const big = table.indexOf('big&lt;script&gt;');
    const small = table.indexOf('small.example');
    assert.ok(big > 0 && small > big, 'the host with the most bytes first');
    assert.match(table, /IPv4 · 2\.4 KiB · 25\.0%/);
    assert.ok(table.includes('Video &lt;script&gt;'));
    assert.match(table, /<td colspan="4" class="muted">no bytes<\/td>/);
    const zhTable = /<table class="pages">([\s\S]*?)<\/table>/.exec(zh)?.[1] ?? '';
    assert.ok(zhTable.includes('仍经 IPv4 或 NAT64 访问的域名') && zhTable.includes('无流量'));
  });

  it('shows each app run with its verdict and IPv6 share, and their mean; evidence links stay in the run', () => {
    const table = /<table class="runs">([\s\S]*?)<\/table>/.exec(en)?.[1] ?? '';
    assert.match(table, /<tr class="fail" data-run="1"><th scope="row">1<\/th><td><span class="badge fail">/);
    assert.match(table, /<tr class="pass" data-run="2">/);
    assert.match(table, /<th scope="row">mean<\/th><td><\/td><td>55\.0%<\/td>/);
    assert.match(table, /<a href="\.\/devices\/R5CX1234\/ipv6\/run-1\.pcap"/);
    assert.match(
      table,
      /<span class="unavailable">devices\/R5CX1234\/ipv6\/&lt;script&gt;document\.title=&quot;PWNED&quot;&lt;\/script&gt;&quot;&gt;&lt;img src=x&gt;\.pcap: not available \([^)]*\)<\/span>/,
    );
    assert.ok(/<table class="runs">[\s\S]*?平均[\s\S]*?<\/table>/.test(zh));
  });

  it('draws no markup from results.json: one script (its own), no image, every style allowed by its hash', () => {
    for (const html of [en, zh]) {
      assert.equal([...html.matchAll(/<script/g)].length, 1);
      assert.doesNotMatch(html, /<img/);
      const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
      assert.equal(styles.length, 2);
      const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)![1]!.replaceAll('&#39;', "'");
      assert.equal(csp, contentSecurityPolicy(styles));
      for (const s of styles) assert.ok(csp.includes(`'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`));
    }
  });

  it('prints each page with the devices and the run on top and "page / pages" below, rows not cut, header rows repeated, charts in colour', () => {
    assert.match(en, /@bottom-right \{ content: counter\(page\) " \/ " counter\(pages\);/);
    assert.ok(en.includes(`@top-left { content: ${cssString('SM-S936B, v6lab Legacy')}; }`));
    assert.ok(zh.includes(`@top-left { content: ${cssString('SM-S936B、v6lab Legacy')}; }`));
    assert.ok(zh.includes(`@top-right { content: ${cssString('测试编号 2026-12-03T09-00-00-000Z-abcdef')}; }`));
    assert.match(en, /thead \{ display: table-header-group; \}/);
    assert.match(en, /tr, [^{]*\{ break-inside: avoid; \}/);
    assert.match(en, /print-color-adjust: exact/);
  });

  it("a CSS string holds any text and ends only where it should: no quote, backslash, '<' or newline of the text survives", () => {
    const s = cssString(`a"b\\c</style><script>\n}@import x;中`);
    assert.match(s, /^"[A-Za-z0-9 \\]*"$/);
    assert.ok(s.includes('\\4e2d '));
  });
});

describe('a results.json from before issue 18', () => {
  const en = render(legacyRun(), 'en');
  const zh = render(legacyRun(), 'zh-CN');

  it('shows a whole-document requirement id with links to the clauses it stands for, and an unknown id as text', () => {
    assert.match(en, /RFC7849 \(<a href="#req-RFC7849-C_REC2">RFC7849-C_REC2<\/a>\)/);
    assert.match(en, /YDT3269 \(<a href="#req-YDT3269-/);
    assert.match(en, /<span class="unknown-requirement">ACME-9 <small>/);
    for (const html of [en, zh]) {
      const defined = ids(html);
      for (const link of fragmentLinks(html)) assert.ok(defined.has(link), `#${link} points nowhere`);
    }
  });

  it('shows a reason without messages by its code title in the language and its English detail marked as English', () => {
    assert.match(en, /<code>APN_PROTOCOL_NOT_IPV4V6<\/code> the default APN internet has protocol IP/);
    assert.match(zh, /<code>APN_PROTOCOL_NOT_IPV4V6<\/code> [^<]+：<span lang="en">the default APN internet has protocol IP<\/span>/);
    assert.equal(/\b(fail|pass|skipped)\b/.exec(visibleText(zh)), null);
  });
});

describe('the comparison of two runs in Chinese', () => {
  it('names the builds it compared in Chinese, fingerprints as they are', () => {
    const doc = modernRun();
    const changes = [
      {
        change: 'regressed' as const,
        device: SERIAL,
        check: 'apps.ipv6-first',
        app: 'com.example.news',
        network: 'ipv6',
        before: { status: 'passed' as const, verdict: 'pass' as const, reasons: [] },
        after: { status: 'failed' as const, verdict: 'fail' as const, reasons: [literal] },
        builds: 'fingerprint a/b:16/OLD -> a/b:16/NEW, R5CX0001 -> R5CX1234',
      },
    ];
    const zh = renderHtmlReport(readRun(runDir(doc)), { lang: 'zh-CN', compare: { dir: '/old', changes } });
    assert.ok(zh.includes('<small class="builds">版本指纹：a/b:16/OLD → a/b:16/NEW, R5CX0001 → R5CX1234</small>'));
    assert.ok(zh.includes('劣化 1 项，修复 0 项'));
    assert.match(zh, /<tr class="change-regressed" data-change="regressed" data-app="com.example.news"><td><strong>劣化<\/strong>/);
  });
});

describe("certify's console summary in two languages", () => {
  const print = (doc: RunResults, lang: Lang): string => {
    const dir = runDir(doc);
    let text = '';
    const out = new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    });
    summary(readResults(dir), out, dir, { lang });
    return text;
  };

  it('says the verdicts, failures and what has no verdict in Chinese, codes kept, no English word', () => {
    const zh = print(modernRun(), 'zh-CN');
    assert.match(zh, /^R5CX1234\tSM-S936B\t不通过\t通过 1，不通过 1，执行异常 0，跳过 1$/m);
    assert.match(zh, /^ {2}不通过 apps\.ipv6-first com\.example\.news \[ipv6\]: IPV4_LITERAL（[^）]+）$/m);
    assert.match(
      zh,
      /^ {2}无结论（已跳过） apps\.ipv6-first com\.example\.maps \[ipv6\]，终端 R5CX1234：NOT_INSTALLED（设备上没有安装 com\.example\.maps（Maps））$/m,
    );
    assert.match(zh, /^总体结论：不通过$/m);
    assert.match(zh, /^结果文件：/m);
    const words = zh.replace(/[A-Z][A-Z0-9_]+|[a-z0-9.-]+\.[a-z0-9.-]+|\[ipv6\]|\[ipv4v6\]|SM-S936B|R5CX1234|v6lab Legacy|lab-2|\/[^\s]*/g, ' ');
    assert.equal(/\b(passed|failed|broken|skipped|overall|MISSING|results|FAIL|PASS)\b/i.exec(words), null, words);
  });

  it('in English, as before', () => {
    const en = print(modernRun(), 'en');
    assert.match(en, /^R5CX1234\tSM-S936B\tFAIL\t1 passed, 1 failed, 0 broken, 1 skipped$/m);
    assert.match(en, /^ {2}FAILED apps\.ipv6-first com\.example\.news \[ipv6\]: IPV4_LITERAL$/m);
    assert.match(en, /^ {2}MISSING \(skipped\) apps\.ipv6-first com\.example\.maps \[ipv6\] on R5CX1234: NOT_INSTALLED/m);
    assert.match(en, /^overall: FAIL$/m);
  });
});
