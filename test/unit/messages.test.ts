import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IncrementalAnalyzer } from '../../lib/analysis/index.js';
import { appRunsVerdict, appVerdict, type AppVerdict } from '../../lib/checks/app-verdict.js';
import {
  type CodedReason,
  message,
  messageCatalogue,
  REASON_CODES,
  reasonCodeTitle,
  reasonKind,
  reasonLine,
  reasonOf,
  reasonText,
  renderMessage,
} from '../../lib/checks/messages.js';
import {
  checkApnProtocol,
  checkClat,
  checkDualStackAttach,
  checkIpv4ViaClat,
  checkIpv6Enabled,
  checkIpv6OnlyAttach,
  checkNat64Prefix,
  checkPrivacyAddresses,
  checkResolverPrefersIpv6,
  type Observation,
} from '../../lib/checks/os.js';
import { parseContentRows, parseDumpsysConnectivity, parseIpAddr, parseIpRoute } from '../../lib/device/parse/index.js';
import { judgeApn, judgeOs } from '../../lib/harness/judge.js';
import { NetworkAttacher, placeOf, placeOnGateway, placeOnWifi, type Attachment, type Unreached } from '../../lib/harness/networks.js';
import { AppStoppedError, faultMessage, UiError } from '../../lib/harness/faults.js';
import { CaptureError } from '../../lib/harness/window.js';
import { AdbServerError, DeviceCommandError, DeviceTimeoutError, DeviceUnavailableError, TruncatedOutputError } from '../../lib/device/errors.js';
import { NO_TERMINAL, noAnswerMessage } from '../../lib/harness/prompt.js';
import { APN_RADIO_ID, APN_SUMMARY_ID, selectApnInSettings, type ScreenElement } from '../../lib/harness/settings-ui.js';
import type { DeviceBackend } from '../../lib/device/adb.js';
import type { RunResults } from '../../lib/report/results.js';
import { judgeRun } from '../../lib/report/verdict.js';
import { HandsetCapture, IFINDEX } from '../support/scenario.js';

const LIB = resolve(import.meta.dirname, '../../lib');
const fixture = (name: string) => readFileSync(join(resolve(import.meta.dirname, '../fixtures/android'), name), 'utf8');

/**
 * Latin words a Chinese engineer reads as they are: protocol and product names, Android's and
 * Linux's own words (commands, fields, settings keys), units. Anything else in a zh-CN template is
 * English left untranslated.
 */
const TECHNICAL_TOKENS = new Set([
  ...['IPv4', 'IPv6', 'IP', 'APN', 'CLAT', 'NAT64', 'DNS64', 'DNS', 'TCP', 'UDP', 'SYN', 'RA', 'SLAAC', 'PREF64', 'DHCP', 'Wi-Fi', 'pcap', 'uid'],
  ...['AAAA', 'A', 'RFC', 'MTU', 'TTY', 'USB', 'URL', 'VPN', 'SIM', 'EUI-64', 'XLAT', 'Happy', 'Eyeballs', 'AF_INET', 'getaddrinfo'],
  ...['Android', 'Appium', 'Enter', 'LinkProperties', 'IPV4V6', 'IPV6', 'protocol', 'roaming_protocol', 'disable_ipv6', 'accept_ra'],
  ...['logcat', 'adb', 'tcpdump', 'ANDROID_ADB_SERVER_PORT', 'MiB'],
  ...['dumpsys', 'connectivity', 'v6lab', 'certify', 'os', 'stdin', 'stderr', 'tap', 'networks', 'resolverProbeUrl', 'ipv4OnlyProbeUrl'],
]);

/** Placeholders, code spans, quoted JSON, paths and command-line options: not prose. */
const prose = (template: string) =>
  template
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/`[^`]*`/g, ' ')
    .replace(/"[^"]*"/g, ' ')
    .replace(/\/[\w/.-]+/g, ' ')
    .replace(/--[\w-]+/g, ' ');

/** The argument names a template uses, and those it uses only to choose a plural. */
function placeholders(template: string): { values: Set<string>; plurals: Set<string> } {
  const values = new Set<string>();
  const plurals = new Set<string>();
  for (const m of template.matchAll(/\{([A-Za-z][A-Za-z0-9]*)(:\d|\|[^}]*)?\}/g)) (m[2]?.startsWith('|') ? plurals : values).add(m[1]!);
  return { values, plurals };
}

/** A reason's messages, rendered in English, are its detail; every reason v6lab gives has them. */
function assertRendered(reasons: readonly CodedReason[]): void {
  assert.ok(reasons.length > 0, 'no reason to check: the scenario no longer fails');
  for (const r of reasons) {
    assert.ok(r.messages && r.messages.length > 0, `${r.code} has no messages: ${r.detail}`);
    assert.equal(r.messages.map((m) => renderMessage(m, 'en')).join('; '), r.detail);
    assert.equal(reasonText(r, 'en').text, r.detail);
    const zh = reasonText(r, 'zh-CN');
    assert.match(zh.text, /\p{Script=Han}/u, `${r.code}: ${zh.text}`);
  }
}

describe('reason messages in two languages (issue 18)', () => {
  describe('the catalogue', () => {
    it('gives every message an English and a zh-CN template over the same arguments', () => {
      for (const [key, def] of messageCatalogue()) {
        const declared = new Set(Object.keys(def.args));
        const en = placeholders(def.en);
        const zh = placeholders(def['zh-CN']);
        assert.ok(def.en.trim() !== '' && def['zh-CN'].trim() !== '', key);
        assert.deepEqual(new Set([...en.values, ...en.plurals]), declared, `${key}: English uses ${[...en.values, ...en.plurals]}`);
        // A plural choice is English grammar; Chinese has none to make.
        const needed = new Set([...declared].filter((a) => en.values.has(a)));
        assert.deepEqual(new Set(zh.values), needed, `${key}: zh-CN uses ${[...zh.values]}`);
        assert.equal(zh.plurals.size, 0, `${key}: a plural choice in zh-CN`);
      }
    });

    it('writes zh-CN in Chinese: CJK text, and no English word other than technical tokens', () => {
      for (const [key, def] of messageCatalogue()) {
        if (def.verbatim) continue;
        const zh = def['zh-CN'];
        assert.match(zh, /\p{Script=Han}/u, key);
        const words = prose(zh).match(/[A-Za-z][A-Za-z0-9_-]*/g) ?? [];
        const english = words.filter((w) => !TECHNICAL_TOKENS.has(w) && !/^RFC|^\d/.test(w));
        assert.deepEqual(english, [], `${key}: ${zh}`);
      }
    });

    it('the token check can fail: an English sentence in a zh-CN template is caught', () => {
      const words = prose('设备 did not attach 到APN {apn}').match(/[A-Za-z][A-Za-z0-9_-]*/g) ?? [];
      assert.deepEqual(
        words.filter((w) => !TECHNICAL_TOKENS.has(w)),
        ['did', 'not', 'attach'],
      );
    });
  });

  describe('rendering', () => {
    it('keeps numbers as the English always printed them (decimals, plurals) and data as it is', () => {
      const share = message('app.lowIpv6Share', { percent: 0.41256 * 100, minPercent: 0.7 * 100 });
      assert.equal(share.english, "native IPv6 carried 41.3% of the app's bytes, below the policy's 70%");
      assert.equal(renderMessage(share.message, 'zh-CN'), '应用流量中原生IPv6的字节占比为 41.3%，低于策略要求的 70%');
      assert.equal(
        message('app.ipv6Failed.reset', { count: 1, host: 'a.test', servers: '2001:db8::1' }).english,
        'IPv6 connection to a.test (2001:db8::1) were reset',
      );
      assert.equal(
        message('app.ipv6Failed.reset', { count: 2, host: 'a.test', servers: '2001:db8::1' }).english,
        'IPv6 connections to a.test (2001:db8::1) were reset',
      );
    });

    it('nests a message in another (its key and arguments flattened into strings and numbers)', () => {
      const r = reasonOf(
        'SYSCTL_UNREADABLE',
        message('os.sysctlUnder', { problem: message('os.sysctlUnread', { key: 'wlan0/accept_ra' }) }),
        message('os.sysctlUnread', { key: 'rmnet_data0/accept_ra' }),
      );
      assert.equal(r.detail, 'under /proc/sys/net/ipv6/conf: wlan0/accept_ra could not be read; rmnet_data0/accept_ra could not be read');
      for (const m of r.messages) for (const v of Object.values(m.args)) assert.ok(typeof v === 'string' || typeof v === 'number');
      assert.equal(reasonText(r, 'zh-CN').text, '/proc/sys/net/ipv6/conf 下：wlan0/accept_ra 无法读取；rmnet_data0/accept_ra 无法读取');
      assert.equal(reasonText(r, 'zh-CN').untranslated, undefined);
    });

    it('a reason without messages (older results, another tool) is the code title in the language, its English detail kept apart', () => {
      const old = { code: 'IPV4_FIRST', detail: 'tried IPv4 first for x.test' };
      assert.deepEqual(reasonText(old, 'zh-CN'), { text: '首选了IPv4', untranslated: 'tried IPv4 first for x.test' });
      assert.deepEqual(reasonText(old, 'en'), { text: 'tried IPv4 first for x.test' });
      assert.equal(reasonLine(old, 'zh-CN'), '首选了IPv4：tried IPv4 first for x.test');
      assert.deepEqual(reasonText({ code: 'SOMEONE_ELSES', detail: 'x' }, 'zh-CN'), { text: 'SOMEONE_ELSES', untranslated: 'x' });
    });

    it("an error's own words stay English, under the code's title", () => {
      const r = reasonOf('HARNESS_ERROR', message('untranslated', { text: 'Cannot read properties of undefined' }));
      assert.equal(r.detail, 'Cannot read properties of undefined');
      assert.deepEqual(reasonText(r, 'zh-CN'), { text: '测试工具出错', untranslated: 'Cannot read properties of undefined' });
    });

    it('a key this version does not know renders visibly, never as nothing', () => {
      assert.equal(renderMessage({ key: 'future.key', args: { a: 1 } }, 'zh-CN'), 'future.key {"a":1}');
    });
  });

  describe('reason codes', () => {
    /** Upper-case quoted names in lib/ that are not reason codes: TCP states, environment variables, link types, warnings. */
    const NOT_REASONS = new Set([
      ...['CLOSE_WAIT', 'FIN_WAIT1', 'FIN_WAIT2', 'LAST_ACK', 'SYN_RECV', 'NEW_SYN_RECV', 'SYN_SENT', 'TIME_WAIT', 'LOWER_UP'],
      ...['ADB_SERVER_SOCKET', 'ANDROID_ADB_SERVER_ADDRESS', 'ANDROID_ADB_SERVER_PORT', 'ERR_MODULE_NOT_FOUND', 'KEYCODE_BACK'],
      ...['LINUX_SLL', 'LINUX_SLL2', 'NOT_RESTRICTED', 'V6LAB_ALLURE', 'V6LAB_PROMPT', 'V6LAB_WINDOW_DISCARDED'],
    ]);

    function libSources(dir: string): string[] {
      return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? libSources(join(dir, e.name)) : e.name.endsWith('.ts') ? [readFileSync(join(dir, e.name), 'utf8')] : [],
      );
    }

    it('gives every code in lib/ a title in both languages and a kind', () => {
      const sources = libSources(LIB);
      const quoted = new Set(sources.flatMap((s) => [...s.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)].map((m) => m[1]!)));
      // faultCode() also names a DeviceError by its class (DeviceCommandError, DeviceTimeoutError).
      const faults = readFileSync(join(LIB, 'harness/faults.ts'), 'utf8');
      const union = faults.slice(faults.indexOf('export type FaultCode'), faults.indexOf(';', faults.indexOf('export type FaultCode')));
      const codes = new Set([...[...quoted].filter((c) => !NOT_REASONS.has(c)), ...[...union.matchAll(/'(\w+)'/g)].map((m) => m[1]!)]);
      assert.ok(codes.size >= 40, `only ${codes.size} codes found: the grep no longer sees them`);
      const known = new Set<string>(REASON_CODES);
      assert.deepEqual(
        [...codes].filter((c) => !known.has(c)),
        [],
        'a reason code without a title: add it to CODES in lib/checks/messages.ts',
      );
      for (const code of codes) {
        assert.notEqual(reasonCodeTitle(code, 'en'), code);
        assert.match(reasonCodeTitle(code, 'zh-CN'), /\p{Script=Han}/u, code);
        assert.ok(['product', 'harness', 'skip'].includes(reasonKind(code)));
      }
    });

    it('tells product failures from harness problems and skips', () => {
      assert.equal(reasonKind('IPV4_FIRST'), 'product');
      assert.equal(reasonKind('NOT_DUAL_STACK'), 'product');
      assert.equal(reasonKind('APP_CRASHED'), 'product');
      assert.equal(reasonKind('DEVICE_DISCONNECTED'), 'harness');
      assert.equal(reasonKind('EVIDENCE_MISSING'), 'harness');
      assert.equal(reasonKind('NO_TRAFFIC'), 'harness');
      assert.equal(reasonKind('NETWORK_UNAVAILABLE'), 'skip');
      assert.equal(reasonKind('NOT_INSTALLED'), 'skip');
    });
  });

  describe('every reason the checks give renders to its detail, in the English it always had', () => {
    const HS = '2001:db8:1::100';
    const DNS = '2001:db8:1::53';
    const CLAT6 = '2001:db8:1::464';
    const verdictOf = (capture: HandsetCapture): AppVerdict => {
      const a = new IncrementalAnalyzer({ nat64Prefixes: ['64:ff9b::/96'], clatAddresses: [CLAT6] });
      a.push(capture.pcap());
      const analysis = a.finish();
      return appVerdict(analysis, new Set(analysis.flows.filter((f) => f.serverPort !== 53).map((f) => f.id)));
    };
    const detailOf = (v: { reasons: readonly CodedReason[] }, code: string) => v.reasons.find((r) => r.code === code)?.detail;

    it('app verdicts', () => {
      const nat64 = verdictOf(
        new HandsetCapture()
          .dns(0, HS, DNS, 3000, 1, 'img.news.test', 'AAAA', ['64:ff9b::6440:14'])
          .dns(0, HS, DNS, 3001, 2, 'img.news.test', 'A', ['100.64.0.20'])
          .tcp(0.1, HS, 4000, '64:ff9b::6440:14', 443, { responseBytes: 20000 }),
      );
      assertRendered(nat64.reasons);
      assert.equal(detailOf(nat64, 'SERVER_NO_IPV6'), 'img.news.test has no AAAA record: it is reached only through NAT64; the server side needs IPv6');
      assert.equal(detailOf(nat64, 'LOW_IPV6_SHARE'), "native IPv6 carried 0.0% of the app's bytes, below the policy's 70%");
      const literal = verdictOf(
        new HandsetCapture()
          .tcp(0, '192.0.0.4', 4000, '100.64.0.30', 443, { responseBytes: 2000, ifIndex: IFINDEX.clat })
          .tcp(0.0001, CLAT6, 4000, '64:ff9b::6440:1e', 443, { responseBytes: 2000, twice: true }),
      );
      assertRendered(literal.reasons);
      assert.equal(
        detailOf(literal, 'IPV4_LITERAL'),
        'connects to IPv4 address 100.64.0.30 that no DNS answer gave: a hard-coded IPv4 literal never works over IPv6 and only reaches an IPv6-only network through the CLAT',
      );
      const aOnly = verdictOf(
        new HandsetCapture()
          .dns(0, HS, DNS, 3000, 1, 'legacy.shop.test', 'A', ['100.64.0.40'])
          .tcp(0.1, '192.0.0.4', 4000, '100.64.0.40', 443, { responseBytes: 2000, ifIndex: IFINDEX.clat }),
      );
      assertRendered(aOnly.reasons);
      assert.equal(
        detailOf(aOnly, 'NO_AAAA_QUERY'),
        'asked only A for legacy.shop.test, never AAAA: the app resolves IPv4 only (AF_INET or an IPv4-only resolver call)',
      );
      const first = verdictOf(
        new HandsetCapture()
          .dns(0, HS, DNS, 3000, 1, 'pay.shop.test', 'AAAA', ['2001:db8:2::50'])
          .dns(0, '10.0.0.2', '10.0.0.1', 3001, 2, 'pay.shop.test', 'A', ['100.64.0.50'])
          .tcp(0.1, '10.0.0.2', 4000, '100.64.0.50', 443, { responseBytes: 2000 }),
      );
      assertRendered(first.reasons);
      assert.match(detailOf(first, 'IPV4_FIRST')!, /^tried IPv4 first for pay\.shop\.test although its AAAA answer had come \d+ ms before: prefer IPv6/);
      const slow = verdictOf(
        new HandsetCapture()
          .dns(0, HS, DNS, 3000, 1, 'cdn.news.test', 'AAAA', ['2001:db8:2::60'])
          .dns(0, '10.0.0.2', '10.0.0.1', 3001, 2, 'cdn.news.test', 'A', ['100.64.0.60'])
          .tcp(0.05, HS, 4000, '2001:db8:2::60', 443, { outcome: 'timeout' })
          .tcp(3.5, '10.0.0.2', 4001, '100.64.0.60', 443, { responseBytes: 100 }),
      );
      assertRendered(slow.reasons);
      assert.equal(detailOf(slow, 'IPV6_FAILED'), 'IPv6 connection to cdn.news.test (2001:db8:2::60) got no answer');
      assert.equal(
        detailOf(slow, 'SLOW_FALLBACK'),
        'after IPv6 to cdn.news.test failed, the next attempt came 3450 ms later (more than 2000 ms): use Happy Eyeballs (RFC 8305, 250 ms)',
      );
      const none = verdictOf(new HandsetCapture());
      assertRendered(none.reasons);
      const runs = appRunsVerdict([nat64, none]);
      assertRendered(runs.reasons);
      assert.equal(
        detailOf(runs, 'NO_TRAFFIC'),
        'no traffic could be attributed to the app in run 2 of 2: was it started, and did it load its pages each time?',
      );
    });

    /** A compliant virtual handset on the IPv6-only APN (test/unit/os-checks.test.ts's). */
    const handset = (): Observation => ({
      apnTable: parseContentRows(fixture('virtual-content-query-carriers.txt')),
      addresses: parseIpAddr(fixture('virtual-ip-o-addr-show.txt')),
      routes: [...parseIpRoute(fixture('virtual-ip-6-route.txt'), 6), ...parseIpRoute(fixture('virtual-ip-4-route.txt'), 4)],
      sysctls: { 'rmnet_data0/disable_ipv6': '0', 'rmnet_data0/accept_ra': '2', 'wlan0/disable_ipv6': '0', 'wlan0/accept_ra': '1' },
      connectivity: parseDumpsysConnectivity(fixture('virtual-dumpsys-connectivity.txt')),
    });

    it('OS and APN checks', () => {
      const o = handset();
      const bare: Observation = { ...o, addresses: [], routes: [], connectivity: null };
      const outcomes = [
        checkApnProtocol({ ...o, apnTable: [{ apn: 'ims', type: 'default', protocol: 'IP' }] }),
        checkApnProtocol({ ...o, apnTable: [{ apn: 'ims', type: 'default' }] }, 'roaming_protocol'),
        checkApnProtocol({ ...o, apnTable: [] }),
        checkApnProtocol({ ...o, apnTable: { denied: true, message: 'Permission Denial' } }, 'roaming_protocol'),
        checkApnProtocol({ ...bare, apnTable: { denied: true, message: 'Permission Denial' } }),
        checkIpv6Enabled({ ...o, sysctls: { 'rmnet_data0/disable_ipv6': '1', 'rmnet_data0/accept_ra': '0', 'wlan0/disable_ipv6': 'x' } }, [
          'rmnet_data0',
          'wlan0',
        ]),
        checkPrivacyAddresses(bare),
        checkIpv6OnlyAttach(bare),
        checkDualStackAttach(bare),
        checkDualStackAttach({ ...o, connectivity: parseDumpsysConnectivity('Active default network: none\n\nCurrent Networks:\n') }),
        checkClat(bare),
        checkNat64Prefix(o, ['64:ff9b:1::/96']),
        checkNat64Prefix(bare, []),
        checkResolverPrefersIpv6({ hostname: 'dual.v6lab.test', firstAttemptFamily: 4, established: { 4: 1, 6: 0 } }),
        checkResolverPrefersIpv6({ hostname: 'dual.v6lab.test', firstAttemptFamily: null, established: { 4: 0, 6: 0 } }),
        checkIpv4ViaClat('192.0.2.80', false, null),
        checkIpv4ViaClat('192.0.2.80', false, 'clat'),
      ];
      for (const outcome of outcomes) assertRendered(outcome.reasons);
      assert.equal(outcomes[0]!.reasons[0]!.detail, 'the default APN ims has protocol IP; it must be IPV4V6');
      assert.equal(
        outcomes[1]!.reasons[0]!.detail,
        'the default APN ims has roaming_protocol unset (Android then uses IP, IPv4 only); it must be IPV4V6 or IPV6',
      );
      assert.equal(
        outcomes[5]!.reasons.map((r) => r.detail).join(' | '),
        'IPv6 is disabled on rmnet_data0 (disable_ipv6=1); rmnet_data0 ignores router advertisements (accept_ra=0) | under /proc/sys/net/ipv6/conf: wlan0/disable_ipv6 could not be read (got "x"); wlan0/accept_ra could not be read',
      );
      assert.match(outcomes[8]!.reasons[0]!.detail, /^on the dual-stack APN: no global IPv6 address on the mobile interface; no IPv4 address/);
      assert.equal(outcomes[11]!.reasons[0]!.detail, 'LinkProperties says 64:ff9b::/96 but RFC 7050 discovery found 64:ff9b:1::/96');
      assert.equal(
        outcomes[16]!.reasons[0]!.detail,
        'no connection to the IPv4-only destination 192.0.2.80 was established: without a CLAT, IPv4-only apps and literals fail on an IPv6-only network',
      );
    });

    it('networks not reached, failed attaches and missing evidence', async () => {
      const o = handset();
      const at = new Date(0);
      const moved = placeOf('ipv6', 'other.apn', 'manual', true, o, at);
      const wifi = placeOnWifi('ipv4v6', 'lab', false, o, at);
      const gateway = placeOnGateway(
        'ipv6',
        { dir: '/run/gw', mode: 'ipv6-only', deviceLink: 'veth0', ipv6Prefix: '2001:db8:99::/64', ipv4Subnet: null },
        o,
        at,
      );
      const unread = placeOnGateway(
        'ipv6',
        { dir: '/run/gw', mode: 'ipv6-only', deviceLink: 'veth0', ipv6Prefix: null, ipv4Subnet: null },
        { ...o, connectivity: null },
        at,
      );
      // Nothing is asked of the device before a network this run leaves out, or the profile lacks, is refused.
      const nothing = {} as never;
      const attacher = (networks: { ipv6: { apn: string } | null; ipv4v6: { apn: string } | null }, only: 'ipv6' | 'ipv4v6' | null) =>
        new NetworkAttacher(
          nothing,
          { serial: 'S', networks, apnSwitch: 'content' },
          nothing,
          'adbd',
          async () => o,
          () => at,
          1000,
          { only },
        );
      const notSelected = await attacher({ ipv6: { apn: 'a' }, ipv4v6: { apn: 'b' } }, 'ipv4v6').attach('ipv6');
      const notInProfile = await attacher({ ipv6: null, ipv4v6: { apn: 'b' } }, null).attach('ipv6');
      const attachments: Attachment[] = [moved, wifi, gateway, unread, notSelected, notInProfile];
      for (const a of attachments) {
        assert.equal(a.reached, false, JSON.stringify(a));
        assertRendered(judgeApn('apn.clat', a, { taken: false, why: 'x' }).reasons);
      }
      assert.equal(
        (notSelected as Unreached).detail,
        'not part of this run (--network ipv4v6): the IPv6-only network was not certified; `v6lab certify --resume RUN_DIR --network ipv6` adds its checks to this run',
      );
      assert.match(
        (moved as Unreached).detail,
        /^the mobile network names APN ipv6\.v6lab\.test by the time the device was observed, not other\.apn: leave the device on it for the run$/,
      );
      const failedAttach: Unreached = { ...(moved as Unreached), cause: 'no-attach', after: { ...o, addresses: [] } };
      assertRendered(judgeApn('apn.ipv6-only-attach', failedAttach, { taken: false, why: 'x' }).reasons);
      assertRendered(judgeOs('os.privacy-addresses', o, notSelected).reasons);
      const reached = placeOf('ipv6', 'ipv6.v6lab.test', 'content', false, o, at);
      assert.ok(reached.reached);
      const noCapture = judgeApn('apn.nat64-prefix', reached, { taken: false, why: 'the capture did not open', said: message('harness.alreadyOnIpv6Apn', {}) });
      assertRendered(noCapture.reasons);
      assertRendered(judgeApn('apn.nat64-prefix', reached, { taken: true, discovered: [], advertised: [] }).reasons);
    });

    it("Settings' Access Point Names, when an APN cannot be selected there", async () => {
      // Only what selectApnInSettings asks of a device: its serial and `am start`'s answer.
      const device = (exitCode: number, output: string) => ({ serial: 'S', run: async () => ({ exitCode, output }) }) as unknown as DeviceBackend;
      const row = (ref: string, text: string, checked = false): ScreenElement => ({ ref, text, checked, top: 100, bottom: 200 });
      const screens = (summaries: ScreenElement[], radios: ScreenElement[]) => ({
        elementsById: async (id: string) => (id === APN_SUMMARY_ID ? summaries : id === APN_RADIO_ID ? radios : []),
        tap: async () => undefined,
        back: async () => undefined,
      });
      const timing = { screenMs: 0, sleep: async () => undefined };
      const outcomes = [
        await selectApnInSettings(device(0, 'Error: Activity not started'), screens([], []), 'ipv6.test', timing),
        await selectApnInSettings(device(0, 'Status: ok'), screens([], []), 'ipv6.test', timing),
        await selectApnInSettings(device(0, 'Status: ok'), screens([row('s1', 'cmnet')], []), 'ipv6.test', timing),
        await selectApnInSettings(device(0, 'Status: ok'), screens([row('s1', 'ipv6.test')], []), 'ipv6.test', timing),
        await selectApnInSettings(device(0, 'Status: ok'), screens([row('s1', 'ipv6.test')], [row('r1', '')]), 'ipv6.test', timing),
      ];
      const reasons = outcomes.map((o) => {
        assert.equal(o.selected, false);
        return { code: 'NETWORK_UNAVAILABLE', detail: o.selected ? '' : o.detail, ...(o.selected ? {} : { messages: o.messages }) };
      });
      assertRendered(reasons);
      assert.equal(
        reasons[2]!.detail,
        'Settings\' Access Point Names list has no row for APN ipv6.test (it shows cmnet): add it there (the + button) with the carrier\'s values, or set "apnSwitch": "manual"',
      );
    });

    it("a switch by hand nobody answered: our own words are known again, anyone else's stay English", async () => {
      const request = { serial: 'S', network: 'ipv6' as const, apn: 'ipv6.test', timeoutMs: 300_000 };
      const none = await NO_TERMINAL.ask(request);
      assert.equal(none.answered, false);
      const noTerminal = noAnswerMessage(none.answered ? '' : none.detail, request);
      assert.equal(noTerminal.message.key, 'prompt.noTerminal');
      // The words the terminal prompt said before issue 18, for a 5-minute wait.
      const old =
        'nobody pressed Enter within 5 min of being asked to switch to APN ipv6.test; run again with more time (--switch-timeout SECONDS) or switch before the run';
      assert.equal(noAnswerMessage(old, request).english, old);
      assert.equal(noAnswerMessage(old, request).message.key, 'prompt.timeout.minutes');
      assert.equal(noAnswerMessage('something new', request).message.key, 'untranslated');
    });

    it("a broken check: the fault from the error's fields, its English the error's message exactly", () => {
      const errors = [
        new AppStoppedError('com.example.news'),
        new UiError('tap "Login"', { cause: new Error('no such element') }),
        new DeviceUnavailableError('S', 'absent'),
        new DeviceUnavailableError('S', 'unauthorized'),
        new TruncatedOutputError('S', ['ip', '-o', 'addr'], 12),
        new DeviceTimeoutError('S', ['dumpsys', 'connectivity'], 5000),
        new AdbServerError(5037, 'refused the connection'),
        new CaptureError('S', 'device', 'no capture header within 15000 ms'),
      ];
      for (const error of errors) {
        const part = faultMessage(error);
        assert.equal(part.english, error.message);
        assert.notEqual(part.message.key, 'untranslated', error.name);
        assert.match(renderMessage(part.message, 'zh-CN'), /\p{Script=Han}/u);
      }
      const other = new DeviceCommandError('S', ['pm', 'clear', 'x'], 1, 'Failure', null);
      assert.deepEqual(faultMessage(other).message, { key: 'untranslated', args: { text: other.message } });
      assert.equal(faultMessage('a string thrown').english, 'a string thrown');
    });

    it('run verdicts', () => {
      // Only the fields judgeRun reads: the run's allow-list, the devices' serials and the results.
      const doc = (results: unknown[]) => ({ run: {}, devices: [{ serial: 'S' }], results }) as unknown as RunResults;
      const skipped = judgeRun(doc([{ device: 'S', check: 'os.ipv6-enabled', app: null, network: 'ipv4v6', status: 'skipped', reasons: [] }]));
      const notRun = judgeRun(doc([]), { expected: [{ device: 'S', check: 'os.ipv6-enabled', app: null, network: 'ipv4v6' }] });
      const empty = judgeRun(doc([]));
      for (const v of [notRun, empty, skipped]) assertRendered(v.missing.flatMap((m) => m.reasons));
    });
  });
});
