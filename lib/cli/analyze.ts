/**
 * `v6lab analyze CAPTURE [--json] [--nat64-prefix P ...] [--clat-address A ...]`, and with
 * `--app-uid N` or `--app PKG --device SERIAL` an app's judgement (certify's apps.ipv6-first
 * rules, lib/api/judge.ts) under `--min-ipv6-share` / `--slow-fallback-ms`: exit 1 when it fails.
 */
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { JsonBytes } from '../analysis/json-bytes.js';
import { analyzeFileDocumentBlocking, documentOf, FLOW_PATHS, materialize, type AnalysisDocument, type CaptureAnalysis } from '../analysis/index.js';
import type { AppJudgement, JudgePolicy } from '../api/types.js';
import { LINKTYPE_NAMES } from '../capture/decode.js';
import { bar, formatBytes, formatShare, renderTable } from './table.js';
import { writeFileWhole } from '../config/files.js';
import { captureTime, printable } from '../net/printable.js';
import { EXIT, UsageError } from './errors.js';

export interface AnalyzeCommandOptions {
  json?: boolean;
  nat64Prefix?: string[];
  clatAddress?: string[];
  /** Rows listed in each table (flows largest first, DNS queries in time order, hostnames by name); the rest are counted. @default 25 */
  top?: number;
  /** Also write a one-file HTML view of the analysis here. */
  html?: string;
  /** The language of the `--html` page (`en`, `zh-CN`). @default langFromEnv(process.env) */
  lang?: string;
  /** Judge the app of this uid (a capture alone has no socket owners: by time window over the whole capture). */
  appUid?: number;
  /** Judge this package, its uid read from `--device`. */
  app?: string;
  /** The adb serial `--app` is read from. */
  device?: string;
  /** `--min-ipv6-share`, as typed (checked here: the command line loads no judge for --help). */
  minIpv6Share?: string;
  /** `--slow-fallback-ms`, as typed. */
  slowFallbackMs?: string;
  /** `--max-memory` in MiB, as typed: the bound of the analysis state. */
  maxMemory?: string;
}

/** `--max-memory`: whole MiB, 16 MiB to 1 TiB. */
export function parseMaxMemory(text: string): number {
  const mib = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(mib) || mib < 16 || mib > 1048576)
    throw new UsageError(
      `--max-memory: ${JSON.stringify(text)} is not a whole number of MiB from 16 to 1048576 (it bounds the analysis state; the default is 1024)`,
    );
  return mib * 2 ** 20;
}

/**
 * The app to judge, from the options, checked before the capture is read; null: no judgement
 * asked. The judge (and adb) are loaded only here, when a judgement is asked.
 */
async function appOptions(options: AnalyzeCommandOptions): Promise<{ policy: JudgePolicy } | null> {
  const parsePolicyOption =
    options.minIpv6Share === undefined && options.slowFallbackMs === undefined ? null : (await import('./policy-option.js')).parsePolicyOption;
  const policy: JudgePolicy = {
    ...(options.minIpv6Share === undefined ? {} : { minIpv6Share: parsePolicyOption!('--min-ipv6-share', options.minIpv6Share) }),
    ...(options.slowFallbackMs === undefined ? {} : { slowFallbackMs: parsePolicyOption!('--slow-fallback-ms', options.slowFallbackMs) }),
  };
  const judged = options.appUid !== undefined || options.app !== undefined;
  if (options.app !== undefined && options.appUid !== undefined)
    throw new UsageError('--app and --app-uid: give one (--app PKG --device SERIAL reads the uid from the device)');
  if (options.app !== undefined && options.device === undefined)
    throw new UsageError('--app: give --device SERIAL, the device its uid is read from (or --app-uid N)');
  if (options.device !== undefined && options.app === undefined) throw new UsageError('--device: only with --app PKG (the package whose uid is read from it)');
  if (!judged && Object.keys(policy).length > 0)
    throw new UsageError(
      `${options.minIpv6Share !== undefined ? '--min-ipv6-share' : '--slow-fallback-ms'}: judges an app: give --app-uid N or --app PKG --device SERIAL`,
    );
  return judged ? { policy } : null;
}

/**
 * V8's young generation kept at its first size while this process analyses: the analysis state is
 * off the heap and what the analyzer allocates dies young, yet V8 doubles the semi-spaces on
 * allocation alone, to 2 x 8 MiB, a tenth of the peak RSS of a 1 GiB capture (issue 19: 137 ->
 * 120 MiB on 184k flows, the same time; bench/README.md). Read by V8 each time it would grow
 * them, so it takes effect when set at run time. The CLI's own process only: a library user's
 * heap is theirs.
 */
function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

export async function analyzeCommand(capture: string, options: AnalyzeCommandOptions, out: NodeJS.WritableStream): Promise<number> {
  keepYoungGenerationSmall();
  const app = await appOptions(options);
  const maxMemory = options.maxMemory === undefined ? undefined : parseMaxMemory(options.maxMemory);
  // Checked before the capture is read, as every option is.
  const lang = options.html === undefined && options.lang === undefined ? 'en' : (await import('./report.js')).parseLangOption(options.lang);
  // The uid is read before the capture: a device or package that is not there stops the command first.
  let uid = options.appUid ?? null;
  if (options.app !== undefined) {
    const [{ packageUid }, { connectDevice }] = await Promise.all([import('../api/capture.js'), import('../api/observe.js')]);
    uid = await packageUid(await connectDevice(options.device!), options.app);
  }
  const doc = analyzeFileDocumentBlocking(capture, {
    nat64Prefixes: options.nat64Prefix ?? [],
    clatAddresses: options.clatAddress ?? [],
    ...(maxMemory === undefined ? {} : { maxMemory }),
  });
  // A judgement and an HTML page need the analysis whole; the JSON and the tables are written from the document.
  const whole = app !== null || options.html !== undefined ? materialize(doc) : null;
  const judgement =
    app === null || whole === null
      ? null
      : (await import('../api/judge.js')).judgeAnalysis(whole, { package: options.app ?? null, ...(uid === null ? {} : { appUid: uid }), policy: app.policy })
          .judgement;
  if (judgement !== null) judgement.evidence.pcap = resolve(capture);
  if (options.html !== undefined && whole !== null) {
    const { renderCaptureHtml } = await import('../report/capture-html.js');
    writeFileWhole(options.html, renderCaptureHtml(capture, whole, lang));
  }
  if (options.json) await writeJson(out, doc, judgement);
  else {
    let first = true;
    for (const section of analysisSections(capture, doc, options.top ?? 25)) {
      await written(out, first ? section : `\n\n${section}`);
      first = false;
    }
    await written(out, judgement === null ? '\n' : `\n\n${renderJudgement(judgement, uid)}\n`);
  }
  // Nothing of the app's seen (NO_TRAFFIC) is no pass: incomplete, as certify says a check that could not be judged.
  if (judgement?.verdict === 'fail') return EXIT.checkFailed;
  return judgement?.verdict === 'inconclusive' ? EXIT.incomplete : EXIT.ok;
}

/** Writes `text`, waiting for the stream to drain when it says it is full. */
function written(out: NodeJS.WritableStream, text: string): Promise<void> | void {
  if (out.write(text)) return;
  return new Promise((done) => out.once('drain', done));
}

/**
 * The analysis document as JSON, byte for byte what printableJson of the whole object gives, but
 * written in pieces as its flows, queries and hostnames are built: a capture of a million flows or
 * names never becomes one string (V8 caps a string at 512 MiB) nor a million objects at once.
 */
async function writeJson(out: NodeJS.WritableStream, doc: AnalysisDocument, judgement: AppJudgement | null): Promise<void> {
  let full = false;
  // A buffer is handed back once the stream has written it, to be filled again.
  const json = new JsonBytes((bytes, release) => {
    if (!out.write(bytes, () => release())) full = true;
  });
  // Waits for a full stream to drain; else lets its write callbacks run, so buffers come back.
  const drained = async () => {
    if (!full) return new Promise<void>((done) => setImmediate(done));
    full = false;
    await new Promise((done) => out.once('drain', done));
  };
  const head = (key: string, value: unknown, first = false) => {
    json.ascii(`${first ? '{' : ','}${JSON.stringify(key)}:`);
    json.value(value);
  };
  head('capture', doc.capture, true);
  head('nat64Prefixes', doc.nat64Prefixes);
  head('nat64PrefixSources', doc.nat64PrefixSources);
  head('pref64', doc.pref64);
  head('clatAddresses', doc.clatAddresses);
  const list = async (key: string, count: number, item: (i: number, out: JsonBytes) => void) => {
    json.ascii(`,${JSON.stringify(key)}:[`);
    for (let i = 0; i < count; i++) {
      if (i > 0) json.ascii(',');
      item(i, json);
      if ((i & 1023) === 1023) await drained();
    }
    json.ascii(']');
  };
  await list('flows', doc.flowCount, doc.writeFlow);
  await list('dns', doc.dnsCount, doc.writeDnsQuery);
  await list('hostnames', doc.hostnameCount, doc.writeHostname);
  head('summary', doc.summary);
  if (judgement !== null) head('judgement', judgement);
  json.ascii('}\n');
  json.end();
  await drained();
}

const VERDICT_WORD: Record<AppJudgement['verdict'], string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', inconclusive: 'INCONCLUSIVE' };

/** The judgement as text: the app, how its flows were attributed, the verdict, its reasons and metrics. */
export function renderJudgement(j: AppJudgement, givenUid: number | null): string {
  const who = j.app.package === null ? `uid ${givenUid}` : `${j.app.package}${givenUid === null ? ' (uid unknown)' : ` (uid ${givenUid})`}`;
  // A pcap holds no socket owners: say the uid picked nothing rather than let it look like it did.
  const how =
    j.app.uid === null
      ? 'by time window over the whole capture: a capture alone has no socket owners, so no flow could be attributed by uid (docs/analyze.md)'
      : `by ${j.metrics.attribution}`;
  const m = j.metrics;
  const lines = [
    `App        ${printable(who)}: flows attributed ${how}`,
    `Verdict    ${VERDICT_WORD[j.verdict]} (policy: native IPv6 share at least ${(j.policy.minIpv6Share * 100).toFixed(0)}%, IPv4 fallback within ${j.policy.slowFallbackMs} ms)`,
    ...j.reasons.map((r) => `  ${r.code}: ${printable(r.detail)}`),
    `Metrics    ${m.flows} flow${m.flows === 1 ? '' : 's'}, ${formatBytes(m.bytes)}, native IPv6 share ${m.nativeV6ByteShare === null ? '-' : formatShare(m.nativeV6ByteShare)}; paths ${m.paths.join(', ') || '-'}`,
    `Hostnames  ${m.hostnames.length === 0 ? '-' : printable(m.hostnames.join(', '))}`,
    ...(m.ipv4Literals.length === 0 ? [] : [`Literals   ${printable(m.ipv4Literals.join(', '))}`]),
  ];
  return lines.join('\n');
}

/** The first `top` of `total` rows (`rows` holds at least those), and a line saying how many were left out (none when all fit). */
function bounded<T>(rows: readonly T[], total: number, top: number, [one, many]: readonly [string, string]): { shown: readonly T[]; leftOut: string } {
  if (total <= top) return { shown: rows.slice(0, total), leftOut: '' };
  const more = total - top;
  return {
    shown: rows.slice(0, top),
    leftOut: `\n  ${more} more ${more === 1 ? one : many} not listed (--top ${top}: raise it to list more, or --json for all)`,
  };
}

/** How the NAT64 line names where a prefix came from. */
export const PREFIX_SOURCES: Readonly<Record<CaptureAnalysis['nat64PrefixSources'][string], string>> = {
  given: 'given',
  rfc7050: 'RFC 7050 discovery',
  pref64: 'PREF64 in router advertisements, RFC 8781',
};

const time = (ts: number | null) => (ts === null ? '-' : captureTime(ts));

/**
 * The analysis as text for a terminal. What came from the capture (names, SNI, warnings that
 * quote it) goes through printable(), the tables' cells through renderTable, which escapes them.
 */
export function renderAnalysis(name: string, a: CaptureAnalysis | AnalysisDocument, top: number): string {
  return [...analysisSections(name, 'flows' in a ? documentOf(a) : a, top)].join('\n\n');
}

/** The text's sections one by one, each built from the document when it is written. */
function* analysisSections(name: string, a: AnalysisDocument, top: number): Generator<string> {
  const c = a.capture;
  const duration = c.firstTs !== null && c.lastTs !== null ? `${(c.lastTs - c.firstTs).toFixed(3)} s` : '-';
  yield [
    `Capture    ${printable(name)}`,
    `           ${c.format}, ${c.linkTypes.map((l) => `${LINKTYPE_NAMES[l] ?? 'linktype'} (${l})`).join(', ')}; ${c.packets} packets, ${formatBytes(c.bytes)}, ${duration} from ${time(c.firstTs)}` +
      (c.duplicates > 0 ? `; ${c.duplicates} duplicate${c.duplicates === 1 ? '' : 's'} across interfaces counted once` : ''),
    `NAT64      ${a.nat64Prefixes.length === 0 ? 'no prefix given or discovered' : a.nat64Prefixes.map((p) => `${printable(p)} (${PREFIX_SOURCES[a.nat64PrefixSources[p] ?? 'given']})`).join(', ')}`,
    `PREF64     ${a.pref64.length === 0 ? 'none in the router advertisements captured' : a.pref64.map((e) => `${printable(e.prefix)} from ${printable(e.router)} (${e.advertisements} RA${e.advertisements === 1 ? '' : 's'}, lifetime ${e.lifetimeSeconds} s)`).join(', ')}`,
    `CLAT       ${a.clatAddresses.length === 0 ? 'no CLAT IPv6 address given or inferred' : a.clatAddresses.map(printable).join(', ')}`,
    ...c.warnings.map((w) => `Warning    ${printable(w)}`),
  ].join('\n');

  const s = a.summary;
  yield `Traffic by path (a CLAT socket counted once)\n${renderTable(
    [{ header: 'path' }, { header: 'flows', align: 'right' }, { header: 'bytes', align: 'right' }, { header: 'share', align: 'right' }, { header: '' }],
    FLOW_PATHS.map((p) => [p, String(s.flowsByPath[p]), formatBytes(s.bytesByPath[p]), formatShare(s.shareByPath[p]), bar(s.shareByPath[p])]),
  )}\n  ICMP packets: ${s.icmpPackets.v4} ICMPv4, ${s.icmpPackets.v6} ICMPv6; other IP: ${s.otherIpPackets}; non-IP: ${s.nonIpPackets}`;

  // The largest flows first, ties in flow order; only the ids of those shown are kept, the rows built after.
  const flows = bounded(largestFlows(a, top), a.flowCount, top, ['flow', 'flows']);
  const endpoint = (address: string, port: number, family: number) => (family === 6 ? `[${address}]:${port}` : `${address}:${port}`);
  yield `Flows (${a.flowCount}${a.flowCount > flows.shown.length ? `, the ${flows.shown.length} largest` : ''})\n${renderTable(
    [
      { header: '#', align: 'right' },
      { header: 'proto' },
      { header: 'path' },
      { header: 'client' },
      { header: 'server' },
      { header: 'name' },
      { header: 'packets', align: 'right' },
      { header: 'bytes', align: 'right' },
      { header: 'handshake' },
    ],
    flows.shown.map((id) => {
      const f = a.flow(id);
      return [
        String(f.id),
        f.application ? `${f.transport}/${f.application}` : f.transport,
        f.path,
        endpoint(f.client, f.clientPort, f.family),
        endpoint(f.server, f.serverPort, f.family),
        f.sni ?? f.hostname ?? '-',
        String(f.packets),
        formatBytes(f.bytes),
        f.established === null ? '-' : f.established ? 'yes' : f.reset ? 'reset' : 'no',
      ];
    }),
  )}${flows.leftOut}`;

  const queries = bounded(firstIndexes(a.dnsCount, top), a.dnsCount, top, ['query', 'queries']);
  yield `DNS (${a.dnsCount} quer${a.dnsCount === 1 ? 'y' : 'ies'}${queries.leftOut ? `, the first ${queries.shown.length}` : ''})\n${renderTable(
    [{ header: 'time' }, { header: 'name' }, { header: 'type' }, { header: 'rcode' }, { header: 'answers' }],
    queries.shown.map((i) => {
      const q = a.dnsQuery(i);
      return [time(q.ts).slice(11), q.name, q.qtype, q.rcode ?? 'no answer', q.answers.join(' ') || '-'];
    }),
  )}${queries.leftOut}`;

  // The analysis lists hostnames in natural order (compareHostnames): host2 before host10.
  let withNative = 0;
  for (let i = 0; i < a.hostnameCount; i++) if (a.hostnameHasNativeAaaa(i)) withNative++;
  const listed = bounded(firstIndexes(a.hostnameCount, top), a.hostnameCount, top, ['hostname', 'hostnames']);
  yield `Hostnames (${withNative} with native AAAA, ${a.hostnameCount - withNative} without)\n${renderTable(
    [
      { header: 'name' },
      { header: 'native AAAA' },
      { header: 'DNS64 AAAA' },
      { header: 'A' },
      { header: 'first attempt' },
      { header: 'fallback', align: 'right' },
      { header: 'IPv6 failed' },
    ],
    listed.shown.map((i) => {
      const h = a.hostname(i);
      return [
        h.name,
        h.nativeAaaa.length > 0 ? 'yes' : 'no',
        h.synthesizedAaaa.length > 0 ? 'yes' : 'no',
        h.a.length > 0 ? 'yes' : 'no',
        h.firstAttemptFamily === null ? '-' : `IPv${h.firstAttemptFamily}`,
        h.fallbackDelayMs === null ? '-' : `${h.fallbackDelayMs.toFixed(0)} ms`,
        h.ipv6Failed ? 'yes' : 'no',
      ];
    }),
  )}${listed.leftOut}`;
}

/**
 * The ids of the `top` largest flows by bytes, largest first, ties in flow order: one pass that
 * keeps the `top` largest seen in order (a flow smaller than the last kept costs one comparison),
 * not a sort of a million ids to print 25 (a tenth of the table's time, issue 19).
 */
export function largestFlows(a: Pick<AnalysisDocument, 'flowCount' | 'flowBytes'>, top: number): number[] {
  // Many rows asked for: inserting into the kept ones would cost more than sorting them all.
  if (top > 1024) {
    const order = Array.from({ length: a.flowCount }, (_, i) => i).sort((x, y) => a.flowBytes(y) - a.flowBytes(x));
    return order.slice(0, top);
  }
  const kept: number[] = [];
  const keptBytes: number[] = [];
  for (let id = 0; id < a.flowCount; id++) {
    const bytes = a.flowBytes(id);
    if (kept.length === top && (top === 0 || bytes <= keptBytes[top - 1]!)) continue;
    // After every kept flow of as many bytes or more: ties stay in flow order.
    let at = kept.length;
    while (at > 0 && keptBytes[at - 1]! < bytes) at--;
    kept.splice(at, 0, id);
    keptBytes.splice(at, 0, bytes);
    if (kept.length > top) {
      kept.pop();
      keptBytes.pop();
    }
  }
  return kept;
}

/** 0 .. min(count, top) - 1. */
function firstIndexes(count: number, top: number): number[] {
  return Array.from({ length: Math.min(count, top) }, (_, i) => i);
}
