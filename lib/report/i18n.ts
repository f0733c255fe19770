/**
 * Every word the certification report (index.html, the PDF printed from it) and certify's console
 * summary show, in English and in Simplified Chinese (issue 18). The Chinese is written for a
 * carrier's test engineer filing a report (测试项, 测试目的, 预期结果, 实际结果, 结论), not translated
 * word for word from the English.
 *
 * Both languages implement one interface, so a text missing in one is a type error, never an
 * English word left on a Chinese page. Every text here is trusted markup: a function's string
 * arguments named `html` must be escaped by the caller; numbers are formatted here.
 */
import type { Lang, Localized } from '../checks/lang.js';

/** The outcome of one check as the report shows it (html.ts's outcomeOf). */
export type OutcomeWord = 'pass' | 'warn' | 'fail' | 'inconclusive' | 'skipped' | 'broken' | 'unknown';
/** A device's or the run's overall verdict (verdict.ts). */
export type OverallWord = 'pass' | 'fail' | 'incomplete' | 'not-run';
/** What became of a check between two runs (compare.ts). */
export type ChangeWord = 'regressed' | 'fixed' | 'changed' | 'new' | 'gone';
export type PathWord = 'native-v6' | 'nat64' | 'clat' | 'native-v4';

/** Counts of a device's results by status. */
export interface StatusCounts {
  passed: number;
  failed: number;
  broken: number;
  skipped: number;
}

export interface ReportText {
  lang: Lang;
  title: string;
  pageTitle: (modelsHtml: string, verdict: string) => string;
  outcome: Record<OutcomeWord, string>;
  overall: Record<OverallWord, string>;
  /** Why a check has no verdict (verdict.ts's MissingCheck status). */
  missingStatus: Record<'skipped' | 'broken' | 'not-run', string>;
  /** The carrier form's conclusion for a check: conforms, or not, or not judged. */
  conclusion: Record<OutcomeWord, string>;
  network: Record<'ipv6' | 'ipv4v6', string>;
  unknownNetwork: string;
  path: Record<PathWord, string>;
  change: Record<ChangeWord, string>;
  notReported: string;
  notGiven: string;
  dash: string;
  yes: string;
  no: string;
  none: string;
  /** The separator between items of a list in a sentence. */
  listSep: string;
  /** Between a label and what it labels. */
  colon: string;
  /** Between two parts of a sentence. */
  comma: string;

  // Header and run information.
  runInfoHeading: string;
  runId: string;
  started: string;
  finished: string;
  notFinished: string;
  tool: string;
  labName: string;
  tester: string;
  notes: string;
  merged: (n: number, listHtml: string) => string;
  overallLabel: string;
  warnings: (n: number) => string;
  incompleteWhy: (n: number) => string;

  // Checks without a verdict, accepted skips.
  missingHeading: string;
  missingCaption: (n: number) => string;
  acceptedHeading: string;
  acceptedText: (allowHtml: string) => string;
  acceptedCaption: (n: number) => string;
  col: {
    device: string;
    check: string;
    app: string;
    network: string;
    status: string;
    why: string;
    testCase: string;
    purpose: string;
    expected: string;
    actual: string;
    conclusion: string;
    requirement: string;
    requirementText: string;
    change: string;
    checkOrApp: string;
    before: string;
    now: string;
    reasonsNow: string;
    hostname: string;
    firstAttempt: string;
    firstIpv6: string;
    firstIpv4: string;
    fallback: string;
    nativeAaaa: string;
    page: string;
    run: string;
    ipv6Share: string;
    bytes: string;
    share: string;
    host: string;
    path: string;
    verdict: string;
    evidence: string;
    hostsOverIpv4: string;
  };
  everyCheck: string;

  // Devices.
  devicesHeading: string;
  identity: {
    model: string;
    manufacturer: string;
    serial: string;
    android: string;
    build: string;
    buildId: string;
    incremental: string;
    fingerprint: string;
    displayId: string;
    securityPatch: string;
    baseband: string;
    sim: string;
    sims: string;
    kernel: string;
    profile: string;
    testedOn: string;
    checks: string;
    noVerdict: string;
  };
  identityNotRecorded: string;
  virtualLab: string;
  slot: (n: number) => string;
  counts: (c: StatusCounts) => string;
  acceptedCount: (n: number) => string;
  noVerdictCount: (n: number) => string;
  deviceIdentityCaption: string;

  // Fleet and app matrix.
  fleetHeading: string;
  appsRow: string;
  appsPass: (passed: number, of: number) => string;
  appsHeading: string;

  // Test items of a device.
  testItemsHeading: string;
  testItemsCaption: (modelHtml: string) => string;
  buildWord: string;
  facts: (f: { maker: string; android: string; buildType: string; root: string; apn: string; nat64: string; clat: string }) => string;
  asExpected: string;
  evidenceWord: string;
  evidenceUnavailable: (problemHtml: string) => string;
  notAvailable: (pathHtml: string, problemHtml: string) => string;
  runAgainAfter: string;
  /** The app's own log shown under an inconclusive app check: its command, lines shown and all. */
  appLogHeading: (commandHtml: string, shown: number, lines: number) => string;
  appLogUnread: (commandHtml: string, problemHtml: string) => string;
  appSummary: (appHtml: string, networkHtml: string) => string;
  nativeShare: (percent: string) => string;
  noAppFault: string;
  analysisProblem: (problemHtml: string) => string;
  evidenceFiles: string;
  attributionBy: (methodHtml: string) => string;
  appDetails: string;
  /** How the app's flows were told from others' (lib/checks/attribution.ts's summary). */
  attribution: Record<'uid' | 'window' | 'none', string>;
  /** Known reasons a file of the run is not shown (run-files.ts); an unknown one is shown as given. */
  fileProblem: Record<string, string>;

  // App results.
  appResultsHeading: string;
  noBytes: string;
  bytesByPathLabel: (labelHtml: string) => string;
  bytesByPathCaption: (totalHtml: string) => string;
  noHostnames: string;
  launch: string;
  captureStart: string;
  failedMark: string;
  firstIpv6At: (ms: string, failed: boolean) => string;
  firstIpv4At: (ms: string) => string;
  timelineLabel: (labelHtml: string, originHtml: string) => string;
  timelineCaption: (originHtml: string) => string;
  appOnNetwork: (appHtml: string, networkHtml: string) => string;
  pagesCaption: string;
  pagesNoBytes: string;
  noIpv4Hosts: string;
  runsCaption: (n: number) => string;
  mean: string;

  // Requirements.
  requirementsHeading: string;
  requirementsIntro: string;
  document: string;
  clause: string;
  notRun: string;
  noCheck: string;
  unknownRequirement: string;

  // Compare.
  comparedWith: (dirHtml: string) => string;
  compareCounts: (c: Record<ChangeWord, number>) => string;
  noChange: string;
  /** After a fingerprint both runs share. */
  sameBuild: string;

  problemsHeading: string;
  footer: (toolHtml: string) => string;
  /** The header and footer printed on every PDF page. */
  printRun: (runId: string) => string;

  // One capture's page (`v6lab analyze CAPTURE --html FILE --lang`, lib/report/capture-html.ts).
  capture: {
    heading: string;
    pageTitle: (name: string) => string;
    /** Format, packets, size and span, when it began (UTC), duplicates counted once; each part already HTML. */
    meta: (m: { formatHtml: string; packets: number; bytesHtml: string; seconds: string; fromHtml: string | null; duplicates: number }) => string;
    nat64Prefix: string;
    noPrefix: string;
    prefixSource: Record<'given' | 'rfc7050' | 'pref64', string>;
    clatAddress: string;
    noClat: string;
    pathsHeading: string;
    flowsByPath: string;
    flowCount: (n: number) => string;
    shareOfBytes: (percent: string) => string;
    hostsHeading: string;
    captureStart: string;
    flowsHeading: (n: number, listed: number | null) => string;
    dnsHeading: (n: number) => string;
    col: Record<'id' | 'proto' | 'path' | 'client' | 'server' | 'name' | 'packets' | 'bytes' | 'handshake' | 'time' | 'type' | 'rcode' | 'answers', string>;
    reset: string;
    noAnswer: string;
  };

  // The console summary (lib/cli/certify.ts).
  console: {
    overall: Record<OverallWord, string>;
    counts: (c: StatusCounts, accepted: number) => string;
    failed: string;
    passedAfterRetry: string;
    runAgainAfter: (codes: string) => string;
    appLog: (command: string, shown: number, lines: number, file: string) => string;
    appLogUnread: (command: string, problem: string) => string;
    missing: (status: string) => string;
    acceptedSkip: string;
    overallLine: (verdict: string) => string;
    incompleteWhy: (n: number) => string;
    acceptedSkips: (n: number, codes: string) => string;
    results: string;
  };
}

const plural = (n: number, one: string, many: string): string => `${Math.trunc(n)} ${n === 1 ? one : many}`;

const EN: ReportText = {
  lang: 'en',
  title: 'IPv6 certification report',
  pageTitle: (models, verdict) => `IPv6 certification: ${models} (${verdict})`,
  outcome: { pass: 'pass', warn: 'warn', fail: 'fail', inconclusive: 'inconclusive', skipped: 'skipped', broken: 'broken', unknown: 'unknown' },
  overall: { pass: 'pass', fail: 'fail', incomplete: 'incomplete', 'not-run': 'could not run' },
  missingStatus: { skipped: 'skipped', broken: 'broken', 'not-run': 'never ran' },
  conclusion: {
    pass: 'conforms',
    warn: 'conforms, with a warning',
    fail: 'does not conform',
    inconclusive: 'not judged',
    skipped: 'not judged',
    broken: 'not judged',
    unknown: 'not judged',
  },
  network: { ipv6: 'IPv6-only APN', ipv4v6: 'dual-stack APN' },
  unknownNetwork: 'unknown network',
  path: { 'native-v6': 'native IPv6', nat64: 'NAT64', clat: 'CLAT', 'native-v4': 'IPv4' },
  change: { regressed: 'regressed', fixed: 'fixed', changed: 'changed', new: 'new', gone: 'gone' },
  notReported: 'not reported',
  notGiven: 'not given',
  dash: '–',
  yes: 'yes',
  no: 'no',
  none: 'none',
  listSep: ', ',
  colon: ': ',
  comma: ', ',

  runInfoHeading: 'The run',
  runId: 'run',
  started: 'started',
  finished: 'finished',
  notFinished: 'not finished',
  tool: 'tool',
  labName: 'lab',
  tester: 'tester',
  notes: 'notes',
  merged: (n, list) =>
    `A merge of ${plural(n, 'run', 'runs')} (the later run's result where two checked the same device on the same build, check, app and network; another build of a device is shown as a device of its own, SERIAL@BUILD): ${list}`,
  overallLabel: 'Overall',
  warnings: (n) => ` (${plural(n, 'warning', 'warnings')})`,
  incompleteWhy: (n) => `Nothing failed, but ${n} check${n === 1 ? ' has' : 's have'} no verdict: this is not a pass (<a href="#missing">what is missing</a>).`,

  missingHeading: 'Without a verdict',
  missingCaption: (n) => `${plural(n, 'check', 'checks')} skipped, broken or never run`,
  acceptedHeading: 'Accepted skips',
  acceptedText: (allow) => `Skipped for a reason the run accepts (<code>--allow-skip ${allow}</code>): they do not make it incomplete, and they prove nothing.`,
  acceptedCaption: (n) => plural(n, 'accepted skip', 'accepted skips'),
  col: {
    device: 'device',
    check: 'check',
    app: 'app',
    network: 'network',
    status: 'status',
    why: 'why',
    testCase: 'test case',
    purpose: 'purpose',
    expected: 'expected result',
    actual: 'actual result',
    conclusion: 'conclusion',
    requirement: 'requirement',
    requirementText: 'what it asks',
    change: 'change',
    checkOrApp: 'check or app',
    before: 'before',
    now: 'now',
    reasonsNow: 'reasons now',
    hostname: 'hostname',
    firstAttempt: 'first attempt',
    firstIpv6: 'first IPv6',
    firstIpv4: 'first IPv4',
    fallback: 'fallback',
    nativeAaaa: 'native AAAA',
    page: 'page',
    run: 'run',
    ipv6Share: 'native IPv6 share',
    bytes: 'bytes',
    share: 'share',
    host: 'host',
    path: 'path',
    verdict: 'verdict',
    evidence: 'evidence',
    hostsOverIpv4: 'hosts over IPv4 or NAT64, by bytes',
  },
  everyCheck: 'every check',

  devicesHeading: 'Devices',
  identity: {
    model: 'model',
    manufacturer: 'manufacturer',
    serial: 'serial',
    android: 'Android',
    build: 'build',
    buildId: 'build id',
    incremental: 'incremental',
    fingerprint: 'fingerprint',
    displayId: 'display id',
    securityPatch: 'security patch',
    baseband: 'baseband',
    sim: 'SIM',
    sims: 'SIMs',
    kernel: 'kernel',
    profile: 'profile',
    testedOn: 'tested on',
    checks: 'checks',
    noVerdict: 'no verdict',
  },
  identityNotRecorded: 'not recorded (results from an earlier v6lab)',
  virtualLab: ' (virtual lab)',
  slot: (n) => `, slot ${n}`,
  counts: (c) => `${c.passed} passed, ${c.failed} failed, ${c.broken} broken, ${c.skipped} skipped`,
  acceptedCount: (n) => ` (${n} accepted)`,
  noVerdictCount: (n) => `${n} (<a href="#missing">listed</a>)`,
  deviceIdentityCaption: 'Device identity',

  fleetHeading: 'Fleet: checks by model',
  appsRow: 'apps',
  appsPass: (p, n) => `${p} / ${n} apps pass`,
  appsHeading: 'Apps',

  testItemsHeading: 'Test items',
  testItemsCaption: (model) => `Test items of ${model}`,
  buildWord: 'build',
  facts: (f) => `${f.maker}, Android ${f.android}, ${f.buildType} build, root: ${f.root}; as found on APN ${f.apn}, NAT64 prefix ${f.nat64}, CLAT ${f.clat}.`,
  asExpected: 'As expected.',
  evidenceWord: 'evidence',
  evidenceUnavailable: (p) => `evidence ${p}`,
  notAvailable: (path, problem) => `${path}: not available (${problem})`,
  runAgainAfter: 'run again after',
  appLogHeading: (command, shown, lines) => `The app's own log (${command}), its last ${shown} of ${lines} lines:`,
  appLogUnread: (command, problem) => `The app's own log (${command}) could not be read: ${problem}`,
  appSummary: (app, network) => `<strong>${app}</strong> on the ${network}`,
  nativeShare: (percent) => `, native IPv6 ${percent}% of bytes`,
  noAppFault: 'No reason to fault it: it reached its servers over IPv6 first.',
  analysisProblem: (p) => `Analysis ${p}`,
  evidenceFiles: 'Evidence: ',
  attributionBy: (m) => ` · attribution by ${m}`,
  appDetails: 'details',
  attribution: { uid: 'uid', window: 'window', none: 'none' },
  fileProblem: {},

  appResultsHeading: 'App results',
  noBytes: 'No bytes attributed to the app.',
  bytesByPathLabel: (label) => `Bytes by path for ${label}`,
  bytesByPathCaption: (total) => `Bytes by path (${total})`,
  noHostnames: "No hostnames: the app's connections were to addresses no DNS answer or SNI named.",
  launch: 'launch',
  captureStart: "the capture's start",
  failedMark: ' (failed)',
  firstIpv6At: (ms, failed) => `first IPv6 attempt at ${ms} ms${failed ? ' (failed)' : ''}`,
  firstIpv4At: (ms) => `first IPv4 attempt at ${ms} ms`,
  timelineLabel: (label, origin) => `Happy Eyeballs timeline for ${label}: first IPv6 (circle) and IPv4 (square) attempt per hostname after ${origin}`,
  timelineCaption: (origin) => `Happy Eyeballs per hostname (times after ${origin}; circle IPv6, square IPv4)`,
  appOnNetwork: (app, network) => `${app} on the ${network}`,
  pagesCaption: 'Per page: the IPv6 share and where IPv4 still is',
  pagesNoBytes: 'no bytes',
  noIpv4Hosts: 'none: every byte over native IPv6',
  runsCaption: (n) => `${plural(n, 'run', 'runs')} of the app, each a fresh launch`,
  mean: 'mean',

  requirementsHeading: 'Requirements and traceability',
  requirementsIntro:
    'Each requirement the checks prove, in our words (the documents themselves are the authority), with the checks that prove it and their verdict on each device.',
  document: 'document',
  clause: 'clause',
  notRun: 'not run',
  noCheck: 'no check of this run proves it',
  unknownRequirement: 'not a requirement this version of v6lab knows',

  comparedWith: (dir) => `Compared with <code>${dir}</code>`,
  compareCounts: (c) => `${c.regressed} regressed, ${c.fixed} fixed, ${c.changed} changed, ${c.new} new, ${c.gone} gone`,
  noChange: 'No check changed.',
  sameBuild: ' (same build)',

  problemsHeading: 'Problems reading the run',
  footer: (tool) => `Written by ${tool}.`,
  printRun: (id) => `run ${id}`,

  capture: {
    heading: 'Capture analysis',
    pageTitle: (name) => `Capture analysis: ${name}`,
    meta: (m) =>
      `${m.formatHtml} · ${m.packets} packets, ${m.bytesHtml}, ${m.seconds} s${m.fromHtml === null ? '' : ` from ${m.fromHtml} UTC`}${m.duplicates > 0 ? ` · ${m.duplicates} duplicates across interfaces counted once` : ''}`,
    nat64Prefix: 'NAT64 prefix',
    noPrefix: 'none given or discovered',
    prefixSource: { given: 'given', rfc7050: 'RFC 7050 discovery', pref64: 'PREF64 in router advertisements' },
    clatAddress: 'CLAT address',
    noClat: 'none given or inferred',
    pathsHeading: 'Traffic by path',
    flowsByPath: 'Flows by path',
    flowCount: (n) => `${n} flows`,
    shareOfBytes: (percent) => `${percent}% of bytes`,
    hostsHeading: 'Hostnames: which family first, how fast the fallback',
    captureStart: "the capture's start",
    flowsHeading: (n, listed) => `Flows (${n}${listed === null ? '' : `, the ${listed} largest`})`,
    dnsHeading: (n) => `DNS (${n} queries)`,
    col: {
      id: '#',
      proto: 'proto',
      path: 'path',
      client: 'client',
      server: 'server',
      name: 'name',
      packets: 'packets',
      bytes: 'bytes',
      handshake: 'handshake',
      time: 'time',
      type: 'type',
      rcode: 'rcode',
      answers: 'answers',
    },
    reset: 'reset',
    noAnswer: 'no answer',
  },

  console: {
    overall: { pass: 'PASS', fail: 'FAIL', incomplete: 'INCOMPLETE', 'not-run': 'NOT RUN' },
    counts: (c, accepted) => `${c.passed} passed, ${c.failed} failed, ${c.broken} broken, ${c.skipped} skipped${accepted > 0 ? ` (${accepted} accepted)` : ''}`,
    failed: 'FAILED',
    passedAfterRetry: 'PASSED',
    runAgainAfter: (codes) => ` (run again after ${codes})`,
    appLog: (command, shown, lines, file) => `the app's log (${command}), last ${shown} of ${lines} lines, whole in ${file}:`,
    appLogUnread: (command, problem) => `the app's log (${command}) could not be read: ${problem}`,
    missing: (status) => `MISSING (${status})`,
    acceptedSkip: 'ACCEPTED SKIP',
    overallLine: (verdict) => `overall: ${verdict}`,
    incompleteWhy: (n) => `: ${n} check${n === 1 ? '' : 's'} without a verdict (listed above as MISSING); nothing failed, but that is not a pass`,
    acceptedSkips: (n, codes) => `; ${n} skip${n === 1 ? '' : 's'} accepted (--allow-skip ${codes})`,
    results: 'results: ',
  },
};

const ZH: ReportText = {
  lang: 'zh-CN',
  title: 'IPv6 认证测试报告',
  pageTitle: (models, verdict) => `IPv6 认证测试：${models}（${verdict}）`,
  outcome: { pass: '通过', warn: '警告', fail: '不通过', inconclusive: '无法判定', skipped: '跳过', broken: '执行异常', unknown: '未知' },
  overall: { pass: '通过', fail: '不通过', incomplete: '未完成', 'not-run': '无法执行' },
  missingStatus: { skipped: '已跳过', broken: '执行异常', 'not-run': '未执行' },
  conclusion: {
    pass: '符合',
    warn: '符合（有提示）',
    fail: '不符合',
    inconclusive: '未判定',
    skipped: '未判定',
    broken: '未判定',
    unknown: '未判定',
  },
  network: { ipv6: 'IPv6 单栈 APN', ipv4v6: '双栈 APN' },
  unknownNetwork: '未知网络',
  path: { 'native-v6': '原生 IPv6', nat64: 'NAT64', clat: 'CLAT', 'native-v4': 'IPv4' },
  change: { regressed: '劣化', fixed: '修复', changed: '变化', new: '新增', gone: '消失' },
  notReported: '未上报',
  notGiven: '未填写',
  dash: '–',
  yes: '是',
  no: '否',
  none: '无',
  listSep: '、',
  colon: '：',
  comma: '，',

  runInfoHeading: '测试信息',
  runId: '测试编号',
  started: '开始时间',
  finished: '结束时间',
  notFinished: '未结束',
  tool: '测试工具',
  labName: '测试地点',
  tester: '测试人员',
  notes: '备注',
  merged: (n, list) =>
    `本报告合并了 ${n} 次测试（同一终端、同一版本、同一测试项、应用和网络被测过两次时，取较晚一次的结果；同一终端的不同版本按不同终端列出，记作“序列号@版本”）：${list}`,
  overallLabel: '总体结论',
  warnings: (n) => `（${n} 项警告）`,
  incompleteWhy: (n) => `没有测试项不通过，但有 ${n} 项没有结论：这不等于通过（<a href="#missing">查看缺少结论的测试项</a>）。`,

  missingHeading: '无结论的测试项',
  missingCaption: (n) => `共 ${n} 项被跳过、执行异常或未执行`,
  acceptedHeading: '已接受的跳过',
  acceptedText: (allow) => `以下测试项因本次测试认可的原因被跳过（<code>--allow-skip ${allow}</code>）：它们不使结论变为“未完成”，但也不证明任何事。`,
  acceptedCaption: (n) => `已接受的跳过共 ${n} 项`,
  col: {
    device: '终端',
    check: '测试项',
    app: '应用',
    network: '网络',
    status: '状态',
    why: '原因',
    testCase: '测试项编号',
    purpose: '测试目的',
    expected: '预期结果',
    actual: '实际结果',
    conclusion: '结论',
    requirement: '对应要求',
    requirementText: '要求内容',
    change: '变化',
    checkOrApp: '测试项或应用',
    before: '之前',
    now: '本次',
    reasonsNow: '本次原因',
    hostname: '域名',
    firstAttempt: '首次尝试',
    firstIpv6: '首次 IPv6 尝试',
    firstIpv4: '首次 IPv4 尝试',
    fallback: '回退时延',
    nativeAaaa: '原生 AAAA 记录',
    page: '页面',
    run: '第几次',
    ipv6Share: '原生 IPv6 占比',
    bytes: '字节数',
    share: '占比',
    host: '域名或地址',
    path: '路径',
    verdict: '结论',
    evidence: '证据',
    hostsOverIpv4: '仍经 IPv4 或 NAT64 访问的域名（按字节数排序）',
  },
  everyCheck: '全部测试项',

  devicesHeading: '被测终端',
  identity: {
    model: '型号',
    manufacturer: '厂商',
    serial: '序列号',
    android: 'Android 版本',
    build: '软件版本',
    buildId: '版本号（Build ID）',
    incremental: '增量版本号',
    fingerprint: '版本指纹',
    displayId: '显示版本号',
    securityPatch: '安全补丁级别',
    baseband: '基带版本',
    sim: 'SIM 卡运营商',
    sims: 'SIM 卡运营商',
    kernel: '内核版本',
    profile: '终端配置',
    testedOn: '测试网络',
    checks: '测试结果',
    noVerdict: '无结论',
  },
  identityNotRecorded: '未记录（由较早版本的 v6lab 生成的结果）',
  virtualLab: '（虚拟实验室）',
  slot: (n) => `，卡槽 ${n}`,
  counts: (c) => `通过 ${c.passed} 项，不通过 ${c.failed} 项，执行异常 ${c.broken} 项，跳过 ${c.skipped} 项`,
  acceptedCount: (n) => `（其中已接受 ${n} 项）`,
  noVerdictCount: (n) => `${n} 项（<a href="#missing">见列表</a>）`,
  deviceIdentityCaption: '终端信息',

  fleetHeading: '多终端对比：各型号的测试项结果',
  appsRow: '应用',
  appsPass: (p, n) => `应用通过 ${p} / ${n}`,
  appsHeading: '应用测试',

  testItemsHeading: '测试项',
  testItemsCaption: (model) => `${model} 的测试项`,
  buildWord: '版本',
  facts: (f) =>
    `${f.maker}，Android ${f.android}，${f.buildType} 版本，root：${f.root}；测试开始时所在 APN 为 ${f.apn}，NAT64 前缀 ${f.nat64}，CLAT ${f.clat}。`,
  asExpected: '与预期一致。',
  evidenceWord: '证据',
  evidenceUnavailable: (p) => `证据${p}`,
  notAvailable: (path, problem) => `${path}：无法查看（${problem}）`,
  runAgainAfter: '曾重新执行，前一次因',
  appLogHeading: (command, shown, lines) => `应用自身的日志（${command}），共 ${lines} 行，以下为最后 ${shown} 行：`,
  appLogUnread: (command, problem) => `无法读取应用自身的日志（${command}）：${problem}`,
  appSummary: (app, network) => `<strong>${app}</strong>，${network}`,
  nativeShare: (percent) => `，原生 IPv6 占字节数的 ${percent}%`,
  noAppFault: '未发现问题：应用优先通过 IPv6 访问了其服务器。',
  analysisProblem: (p) => `分析结果${p}`,
  evidenceFiles: '证据：',
  attributionBy: (m) => ` · 流量归属方式：${m}`,
  appDetails: '详情',
  attribution: { uid: '按应用 UID', window: '按时间窗口', none: '无（没有可归属的流量）' },
  fileProblem: {
    missing: '文件缺失',
    'outside the run directory': '不在测试目录内',
    'a symlink (not followed)': '是符号链接（不跟随）',
    'not a regular file': '不是普通文件',
    'not a file name': '不是有效的文件名',
    'reached through a symlinked directory (not followed)': '经由符号链接目录到达（不跟随）',
  },

  appResultsHeading: '应用测试结果',
  noBytes: '没有归属于该应用的流量。',
  bytesByPathLabel: (label) => `${label} 各路径字节数`,
  bytesByPathCaption: (total) => `各路径字节数（共 ${total}）`,
  noHostnames: '没有域名：应用连接的地址均无 DNS 应答或 SNI 对应的名称。',
  launch: '应用启动',
  captureStart: '抓包开始',
  failedMark: '（失败）',
  firstIpv6At: (ms, failed) => `首次 IPv6 尝试于 ${ms} ms${failed ? '（失败）' : ''}`,
  firstIpv4At: (ms) => `首次 IPv4 尝试于 ${ms} ms`,
  timelineLabel: (label, origin) => `${label} 的 Happy Eyeballs 时间线：各域名自${origin}起首次 IPv6（圆点）与 IPv4（方块）尝试的时间`,
  timelineCaption: (origin) => `各域名的 Happy Eyeballs 时序（自${origin}起计时；圆点为 IPv6，方块为 IPv4）`,
  appOnNetwork: (app, network) => `${app}（${network}）`,
  pagesCaption: '分页面统计：IPv6 占比及仍使用 IPv4 的域名',
  pagesNoBytes: '无流量',
  noIpv4Hosts: '无：全部流量经原生 IPv6',
  runsCaption: (n) => `应用共运行 ${n} 次（每次重新启动）`,
  mean: '平均',

  requirementsHeading: '标准要求与追溯矩阵',
  requirementsIntro: '下表列出测试项所验证的每条要求（要求内容为本工具的概述，以原文件为准），以及验证它的测试项和各终端的结论。',
  document: '依据文件',
  clause: '条款',
  notRun: '未执行',
  noCheck: '本次测试没有验证该要求的测试项',
  unknownRequirement: '本版本 v6lab 未收录的要求',

  comparedWith: (dir) => `与 <code>${dir}</code> 的对比`,
  compareCounts: (c) => `劣化 ${c.regressed} 项，修复 ${c.fixed} 项，变化 ${c.changed} 项，新增 ${c.new} 项，消失 ${c.gone} 项`,
  noChange: '没有测试项的结果发生变化。',
  sameBuild: '（同一版本）',

  problemsHeading: '读取测试目录时的问题',
  footer: (tool) => `本报告由 ${tool} 生成。`,
  printRun: (id) => `测试编号 ${id}`,

  capture: {
    heading: '抓包分析',
    pageTitle: (name) => `抓包分析：${name}`,
    meta: (m) =>
      `${m.formatHtml} · ${m.packets} 个报文，${m.bytesHtml}，历时 ${m.seconds} 秒${m.fromHtml === null ? '' : `，始于 ${m.fromHtml} UTC`}${m.duplicates > 0 ? ` · 跨接口重复的 ${m.duplicates} 个报文只计一次` : ''}`,
    nat64Prefix: 'NAT64 前缀',
    noPrefix: '未给出，也未发现',
    prefixSource: { given: '给定', rfc7050: 'RFC 7050 发现', pref64: '路由器通告中的 PREF64' },
    clatAddress: 'CLAT 地址',
    noClat: '未给出，也未推断出',
    pathsHeading: '按路径的流量',
    flowsByPath: '各路径的流数',
    flowCount: (n) => `${n} 条流`,
    shareOfBytes: (percent) => `占字节的 ${percent}%`,
    hostsHeading: '各域名：先用哪个协议族，回退有多快',
    captureStart: '抓包开始',
    flowsHeading: (n, listed) => `流（共 ${n} 条${listed === null ? '' : `，列出最大的 ${listed} 条`}）`,
    dnsHeading: (n) => `DNS（共 ${n} 次查询）`,
    col: {
      id: '#',
      proto: '协议',
      path: '路径',
      client: '客户端',
      server: '服务端',
      name: '域名',
      packets: '报文数',
      bytes: '字节',
      handshake: '握手',
      time: '时间',
      type: '类型',
      rcode: '应答码',
      answers: '应答',
    },
    reset: '被重置',
    noAnswer: '无应答',
  },

  console: {
    overall: { pass: '通过', fail: '不通过', incomplete: '未完成', 'not-run': '无法执行' },
    counts: (c, accepted) =>
      `通过 ${c.passed}，不通过 ${c.failed}，执行异常 ${c.broken}，跳过 ${c.skipped}${accepted > 0 ? `（其中已接受 ${accepted} 项）` : ''}`,
    failed: '不通过',
    passedAfterRetry: '通过',
    runAgainAfter: (codes) => `（曾因 ${codes} 重新执行）`,
    appLog: (command, shown, lines, file) => `应用自身的日志（${command}），共 ${lines} 行，最后 ${shown} 行如下，全文见 ${file}：`,
    appLogUnread: (command, problem) => `无法读取应用自身的日志（${command}）：${problem}`,
    missing: (status) => `无结论（${status}）`,
    acceptedSkip: '已接受的跳过',
    overallLine: (verdict) => `总体结论：${verdict}`,
    incompleteWhy: (n) => `：${n} 项没有结论（见上方“无结论”各行）；没有测试项不通过，但这不等于通过`,
    acceptedSkips: (n, codes) => `；已接受 ${n} 项跳过（--allow-skip ${codes}）`,
    results: '结果文件：',
  },
};

const TEXT: Record<Lang, ReportText> = { en: EN, 'zh-CN': ZH };

/** The report's words in `lang`. */
export const reportText = (lang: Lang): ReportText => TEXT[lang];

/**
 * What each check expects to find, as a test form's "expected result", by check id
 * (lib/checks/requirements.ts). A check this table does not know (a newer or another tool's) has
 * its title shown instead.
 */
export const EXPECTED: Readonly<Record<string, Localized>> = {
  'os.apn-protocol': {
    en: "The default APN's protocol (PDP type) is IPV4V6.",
    'zh-CN': '默认 APN 的协议类型（PDP 类型）为 IPV4V6。',
  },
  'os.apn-roaming-protocol': {
    en: "The default APN's roaming protocol is IPV4V6 or IPV6, not IP (IPv4 only).",
    'zh-CN': '默认 APN 的漫游协议为 IPV4V6 或 IPV6，而不是 IP（仅 IPv4）。',
  },
  'os.ipv6-enabled': {
    en: 'IPv6 is enabled on the cellular and Wi-Fi interfaces, and router advertisements are accepted.',
    'zh-CN': '蜂窝和 Wi-Fi 接口均已启用 IPv6，并接受路由通告（RA）。',
  },
  'os.privacy-addresses': {
    en: 'The handset uses temporary (RFC 8981) or stable-privacy (RFC 7217) IPv6 addresses, not addresses built from its MAC (EUI-64).',
    'zh-CN': '终端使用临时地址（RFC 8981）或稳定隐私地址（RFC 7217），不使用由 MAC 地址生成的 EUI-64 地址。',
  },
  'os.dual-stack-attach': {
    en: 'On the dual-stack APN the handset has a global IPv6 address and an IPv4 address, a default route for each, and an IPv6 DNS server.',
    'zh-CN': '在双栈 APN 下，终端同时获得全局 IPv6 地址和 IPv4 地址，两者均有默认路由，并获得 IPv6 DNS 服务器。',
  },
  'os.resolver-prefers-ipv6': {
    en: "A connection to a name with both AAAA and A records, made through the system's default path, goes over IPv6 first.",
    'zh-CN': '通过系统默认连接路径访问同时具有 AAAA 和 A 记录的域名时，优先使用 IPv6 建立连接。',
  },
  'apn.ipv6-only-attach': {
    en: 'On the IPv6-only APN the handset gets a global IPv6 address by SLAAC, an IPv6 default route and DNS server, and no native IPv4 address.',
    'zh-CN': '在 IPv6 单栈 APN 下，终端通过 SLAAC 获得全局 IPv6 地址、IPv6 默认路由和 DNS 服务器，且没有原生 IPv4 地址。',
  },
  'apn.clat': {
    en: 'A CLAT (a v4-* interface with an address in 192.0.0.0/29 and an IPv4 default route) runs when, and only when, there is no native IPv4.',
    'zh-CN': '仅在没有原生 IPv4 时启用 CLAT（v4-* 接口，地址位于 192.0.0.0/29，并有 IPv4 默认路由）。',
  },
  'apn.nat64-prefix': {
    en: 'The handset knows the NAT64 prefix, and the prefix in its LinkProperties is the one the network gave: the PREF64 option of its router advertisements when there is one (RFC 8781 prefers it), else RFC 7050 discovery (ipv4only.arpa).',
    'zh-CN':
      '终端已获知 NAT64 前缀，且 LinkProperties 中的前缀与网络给出的一致：有路由器通告 PREF64 选项时以其为准（RFC 8781 规定其优先），否则以 RFC 7050 发现（ipv4only.arpa）的结果为准。',
  },
  'apn.ipv4-via-clat': {
    en: 'An IPv4-only destination is reachable from the IPv6-only APN (through CLAT and NAT64).',
    'zh-CN': '在 IPv6 单栈 APN 下，可以（经 CLAT 和 NAT64）访问只有 IPv4 地址的目的地。',
  },
  'apps.ipv6-first': {
    en: 'The app reaches its servers over IPv6 first: its names have AAAA records, it tries IPv6 before IPv4, and it uses no IPv4 address literal.',
    'zh-CN': '应用优先通过 IPv6 访问其服务器：所用域名有 AAAA 记录，先发起 IPv6 连接再尝试 IPv4，且不直接使用 IPv4 地址。',
  },
};
