/** `v6lab analyze CAPTURE [--json] [--nat64-prefix P ...] [--clat-address A ...]` */
import { analyzeFile, FLOW_PATHS, type CaptureAnalysis } from '../analysis/index.js';
import { LINKTYPE_NAMES } from '../capture/decode.js';
import { bar, formatBytes, formatShare, renderTable } from './table.js';
import { writeFileWhole } from '../config/files.js';
import { printable, printableJson } from '../net/printable.js';

export interface AnalyzeCommandOptions {
  json?: boolean;
  nat64Prefix?: string[];
  clatAddress?: string[];
  /** Rows listed in each table (flows largest first, DNS queries in time order, hostnames by name); the rest are counted. @default 25 */
  top?: number;
  /** Also write a one-file HTML view of the analysis here. */
  html?: string;
}

export async function analyzeCommand(capture: string, options: AnalyzeCommandOptions, out: NodeJS.WritableStream): Promise<number> {
  const analysis = await analyzeFile(capture, { nat64Prefixes: options.nat64Prefix ?? [], clatAddresses: options.clatAddress ?? [] });
  if (options.html !== undefined) {
    const { renderCaptureHtml } = await import('../report/capture-html.js');
    writeFileWhole(options.html, renderCaptureHtml(capture, analysis));
  }
  out.write(options.json ? `${printableJson(analysis)}\n` : `${renderAnalysis(capture, analysis, options.top ?? 25)}\n`);
  return 0;
}

/** The first `top` rows, and a line saying how many were left out (none when all fit). */
function bounded<T>(rows: readonly T[], top: number, [one, many]: readonly [string, string]): { shown: readonly T[]; leftOut: string } {
  if (rows.length <= top) return { shown: rows, leftOut: '' };
  const more = rows.length - top;
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

const time = (ts: number | null) => (ts === null ? '-' : new Date(ts * 1000).toISOString().replace('T', ' ').replace('Z', ''));

/**
 * The analysis as text for a terminal. What came from the capture (names, SNI, warnings that
 * quote it) goes through printable(), the tables' cells through renderTable, which escapes them.
 */
export function renderAnalysis(name: string, a: CaptureAnalysis, top: number): string {
  const c = a.capture;
  const duration = c.firstTs !== null && c.lastTs !== null ? `${(c.lastTs - c.firstTs).toFixed(3)} s` : '-';
  const sections: string[] = [];
  sections.push(
    [
      `Capture    ${printable(name)}`,
      `           ${c.format}, ${c.linkTypes.map((l) => `${LINKTYPE_NAMES[l] ?? 'linktype'} (${l})`).join(', ')}; ${c.packets} packets, ${formatBytes(c.bytes)}, ${duration} from ${time(c.firstTs)}` +
        (c.duplicates > 0 ? `; ${c.duplicates} duplicate${c.duplicates === 1 ? '' : 's'} across interfaces counted once` : ''),
      `NAT64      ${a.nat64Prefixes.length === 0 ? 'no prefix given or discovered' : a.nat64Prefixes.map((p) => `${printable(p)} (${PREFIX_SOURCES[a.nat64PrefixSources[p] ?? 'given']})`).join(', ')}`,
      `PREF64     ${a.pref64.length === 0 ? 'none in the router advertisements captured' : a.pref64.map((e) => `${printable(e.prefix)} from ${printable(e.router)} (${e.advertisements} RA${e.advertisements === 1 ? '' : 's'}, lifetime ${e.lifetimeSeconds} s)`).join(', ')}`,
      `CLAT       ${a.clatAddresses.length === 0 ? 'no CLAT IPv6 address given or inferred' : a.clatAddresses.map(printable).join(', ')}`,
      ...c.warnings.map((w) => `Warning    ${printable(w)}`),
    ].join('\n'),
  );

  const s = a.summary;
  sections.push(
    `Traffic by path (a CLAT socket counted once)\n${renderTable(
      [{ header: 'path' }, { header: 'flows', align: 'right' }, { header: 'bytes', align: 'right' }, { header: 'share', align: 'right' }, { header: '' }],
      FLOW_PATHS.map((p) => [p, String(s.flowsByPath[p]), formatBytes(s.bytesByPath[p]), formatShare(s.shareByPath[p]), bar(s.shareByPath[p])]),
    )}\n  ICMP packets: ${s.icmpPackets.v4} ICMPv4, ${s.icmpPackets.v6} ICMPv6; other IP: ${s.otherIpPackets}; non-IP: ${s.nonIpPackets}`,
  );

  const flows = bounded(
    [...a.flows].sort((x, y) => y.bytes - x.bytes),
    top,
    ['flow', 'flows'],
  );
  const endpoint = (address: string, port: number, family: number) => (family === 6 ? `[${address}]:${port}` : `${address}:${port}`);
  sections.push(
    `Flows (${a.flows.length}${a.flows.length > flows.shown.length ? `, the ${flows.shown.length} largest` : ''})\n${renderTable(
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
      flows.shown.map((f) => [
        String(f.id),
        f.application ? `${f.transport}/${f.application}` : f.transport,
        f.path,
        endpoint(f.client, f.clientPort, f.family),
        endpoint(f.server, f.serverPort, f.family),
        f.sni ?? f.hostname ?? '-',
        String(f.packets),
        formatBytes(f.bytes),
        f.established === null ? '-' : f.established ? 'yes' : f.reset ? 'reset' : 'no',
      ]),
    )}${flows.leftOut}`,
  );

  const queries = bounded(a.dns, top, ['query', 'queries']);
  sections.push(
    `DNS (${a.dns.length} quer${a.dns.length === 1 ? 'y' : 'ies'}${queries.leftOut ? `, the first ${queries.shown.length}` : ''})\n${renderTable(
      [{ header: 'time' }, { header: 'name' }, { header: 'type' }, { header: 'rcode' }, { header: 'answers' }],
      queries.shown.map((q) => [time(q.ts).slice(11), q.name, q.qtype, q.rcode ?? 'no answer', q.answers.join(' ') || '-']),
    )}${queries.leftOut}`,
  );

  // The analysis lists hostnames in natural order (compareHostnames): host2 before host10.
  const hosts = a.hostnames;
  const listed = bounded(hosts, top, ['hostname', 'hostnames']);
  sections.push(
    `Hostnames (${hosts.filter((h) => h.nativeAaaa.length > 0).length} with native AAAA, ${hosts.filter((h) => h.nativeAaaa.length === 0).length} without)\n${renderTable(
      [
        { header: 'name' },
        { header: 'native AAAA' },
        { header: 'DNS64 AAAA' },
        { header: 'A' },
        { header: 'first attempt' },
        { header: 'fallback', align: 'right' },
        { header: 'IPv6 failed' },
      ],
      listed.shown.map((h) => [
        h.name,
        h.nativeAaaa.length > 0 ? 'yes' : 'no',
        h.synthesizedAaaa.length > 0 ? 'yes' : 'no',
        h.a.length > 0 ? 'yes' : 'no',
        h.firstAttemptFamily === null ? '-' : `IPv${h.firstAttemptFamily}`,
        h.fallbackDelayMs === null ? '-' : `${h.fallbackDelayMs.toFixed(0)} ms`,
        h.ipv6Failed ? 'yes' : 'no',
      ]),
    )}${listed.leftOut}`,
  );
  return sections.join('\n\n');
}
