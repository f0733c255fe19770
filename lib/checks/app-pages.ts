/**
 * Where an app's IPv4 still is, page by page, as app vendors' IPv6 "concentration" tools report
 * it: the app's window cut at the moments its catalogue flow marked a page, each page's bytes by
 * path (native IPv6, NAT64, CLAT, native IPv4), native IPv6's share, and the hosts still reached
 * over IPv4 or through NAT64, largest first. Pure: the flows are the app's by the attribution
 * its window was judged with, passed in, so a page's figures are the window's cut, never a
 * judgement of their own.
 */
import type { CaptureAnalysis, Flow, FlowPath } from '../analysis/index.js';
import { embeddedIpv4Text, parseNat64Prefix, type Nat64Prefix } from '../net/address.js';
import { appSockets } from './app-verdict.js';

/** A page step as the walk met it: its name and when (capture clock, seconds); `at` null when it came before every UI step (the launch screen). */
export interface PageMark {
  page: string;
  at: number | null;
}

/** A page's stretch of the window, capture clock (seconds): from `start` to the next page's start (the last, to the window's end). */
export interface PageSpan {
  page: string;
  start: number;
}

export type PathBytes = Record<FlowPath, number>;

export interface PageHost {
  /** The name the app looked up (DNS, else the TLS SNI), or the address when nothing names the server. */
  host: string;
  path: 'native-v4' | 'clat' | 'nat64';
  bytes: number;
  /** Of the page's bytes, 0..1. */
  share: number;
}

/** One page's figures (results.json's PageShare). */
export interface PageFigures {
  page: string;
  run: number;
  bytes: PathBytes;
  /** Native IPv6's share of the page's bytes, as the app check's nativeV6ByteShare; null when the page moved none. */
  ipv6Share: number | null;
  ipv4Hosts: PageHost[];
}

/**
 * The pages of a window from the marks its walk made. The screen before the first mark is a page
 * too: the first mark's when it came before every UI step (its `at` is null), else one named
 * `launchPage`. No marks, no pages: the app's flow marked none.
 */
export function pageSpans(marks: readonly PageMark[], windowStart: number, launchPage: string): PageSpan[] {
  if (marks.length === 0) return [];
  const spans: PageSpan[] = marks[0]!.at === null ? [] : [{ page: launchPage, start: windowStart }];
  for (const mark of marks) spans.push({ page: mark.page, start: mark.at ?? windowStart });
  return spans;
}

/**
 * Which span a moment falls in: the last that began at or before it. A flow that began before
 * the first span (the app's, by its uid, before the launch) is the first page's; one after the
 * window's end is the last page's, so the pages add up to the window.
 */
function spanAt(spans: readonly PageSpan[], ts: number): number {
  let index = 0;
  for (let i = 1; i < spans.length; i++) if (spans[i]!.start <= ts) index = i;
  return index;
}

const IPV4_PATHS: ReadonlySet<FlowPath> = new Set(['native-v4', 'clat', 'nat64']);

/** The address an IPv4-reaching flow went to: its IPv4 server, or the IPv4 its NAT64 address embeds. */
function ipv4Target(f: Flow, prefixes: readonly Nat64Prefix[]): string {
  return f.family === 4 ? f.server : (embeddedIpv4Text(f.server, prefixes) ?? f.server);
}

/**
 * Each page's figures for one run. A flow counts whole on the page where it began (the analysis
 * keeps a flow's bytes, not each packet's time): a download started on one page and running into
 * the next is the first page's. A page visited twice (back to Home) is one row, its visits summed,
 * in the order pages were first visited.
 */
export function pageShares(analysis: CaptureAnalysis, appFlows: ReadonlySet<number>, spans: readonly PageSpan[], run: number): PageFigures[] {
  if (spans.length === 0) return [];
  const order: string[] = [];
  for (const span of spans) if (!order.includes(span.page)) order.push(span.page);
  const pages = new Map(
    order.map((page) => [page, { bytes: { 'native-v6': 0, nat64: 0, clat: 0, 'native-v4': 0 } as PathBytes, hosts: new Map<string, PageHost>() }]),
  );
  const prefixes = analysis.nat64Prefixes.map((p) => parseNat64Prefix(p));
  for (const f of appSockets(analysis, appFlows)) {
    const page = pages.get(spans[spanAt(spans, f.firstTs)]!.page)!;
    page.bytes[f.path] += f.bytes;
    if (!IPV4_PATHS.has(f.path)) continue;
    const path = f.path as PageHost['path'];
    const host = f.hostname ?? ipv4Target(f, prefixes);
    const key = `${path}|${host}`;
    const known = page.hosts.get(key) ?? { host, path, bytes: 0, share: 0 };
    known.bytes += f.bytes;
    page.hosts.set(key, known);
  }
  return order.map((name) => {
    const { bytes, hosts } = pages.get(name)!;
    const total = bytes['native-v6'] + bytes.nat64 + bytes.clat + bytes['native-v4'];
    return {
      page: name,
      run,
      bytes,
      ipv6Share: total === 0 ? null : bytes['native-v6'] / total,
      ipv4Hosts: [...hosts.values()]
        .map((h) => ({ ...h, share: total === 0 ? 0 : h.bytes / total }))
        // Largest first; equal bytes in the order a person reads names, so the table is stable.
        .sort((a, b) => b.bytes - a.bytes || a.host.localeCompare(b.host) || a.path.localeCompare(b.path)),
    };
  });
}
