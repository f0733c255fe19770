/**
 * `v6lab analyze CAPTURE --html FILE`: one self-contained page of one capture's analysis: the
 * traffic by path, per hostname the Happy Eyeballs timings, the flows and the DNS queries, for
 * someone who has a pcap and no tshark.
 */
import type { CaptureAnalysis } from '../analysis/index.js';
import { captureTime } from '../net/printable.js';
import { bytes, escapeHtml, fixedWord, htmlPage, pathBar, timeline } from './html.js';
import { PATHS } from './run.js';
import { reportText } from './i18n.js';
import type { Lang } from '../checks/lang.js';

/** Flows beyond this many (largest first) are counted, not listed: the page stays openable. */
const MAX_FLOW_ROWS = 5000;
const MAX_DNS_ROWS = 5000;

/**
 * The page, in `lang` (`analyze --lang`, as the certification report). Every value reaches the
 * page escaped, and a path (an enumerated value) through the language's fixed table.
 */
export function renderCaptureHtml(name: string, a: CaptureAnalysis, lang: Lang = 'en'): string {
  const t = reportText(lang);
  const x = t.capture;
  const pathLabel: Record<string, string> = { ...t.path };
  const c = a.capture;
  const start = c.firstTs ?? 0;
  const span = c.firstTs !== null && c.lastTs !== null ? c.lastTs - c.firstTs : 0;
  const at = (ts: number | null) => (ts === null ? null : Math.max(0, ts - start));
  const when = captureTime;
  const hostnames = a.hostnames
    .filter((h) => h.flows.length > 0)
    .map((h) => ({
      name: h.name,
      firstIpv6: at(h.firstIpv6AttemptTs),
      firstIpv4: at(h.firstIpv4AttemptTs),
      firstFamily: h.firstAttemptFamily,
      fallbackDelayMs: h.fallbackDelayMs,
      ipv6Failed: h.ipv6Failed,
      nativeAaaa: h.nativeAaaa.length > 0,
    }));
  const flows = [...a.flows].sort((p, q) => q.bytes - p.bytes);
  const endpoint = (address: string, port: number, family: number) => escapeHtml(family === 6 ? `[${address}]:${port}` : `${address}:${port}`);
  const source = (p: string) => x.prefixSource[a.nat64PrefixSources[p] === 'given' ? 'given' : a.nat64PrefixSources[p] === 'pref64' ? 'pref64' : 'rfc7050'];
  const meta = x.meta({
    formatHtml: escapeHtml(c.format),
    packets: c.packets,
    bytesHtml: bytes(c.bytes),
    seconds: span.toFixed(3),
    fromHtml: c.firstTs === null ? null : escapeHtml(when(c.firstTs)),
    duplicates: c.duplicates,
  });
  const col = x.col;
  const th = (label: string) => `<th scope="col">${escapeHtml(label)}</th>`;
  const body = `<header><h1>${escapeHtml(x.heading)}</h1>
<p class="meta"><code>${escapeHtml(name)}</code> · ${meta}</p>
<dl><dt>${escapeHtml(x.nat64Prefix)}</dt><dd>${a.nat64Prefixes.length === 0 ? escapeHtml(x.noPrefix) : a.nat64Prefixes.map((p) => `<code>${escapeHtml(p)}</code> (${escapeHtml(source(p))})`).join(', ')}</dd>
<dt>${escapeHtml(x.clatAddress)}</dt><dd>${a.clatAddresses.length === 0 ? escapeHtml(x.noClat) : a.clatAddresses.map((v) => `<code>${escapeHtml(v)}</code>`).join(', ')}</dd></dl>
${c.warnings.length > 0 ? `<ul class="reasons">${c.warnings.map((w) => `<li lang="en">${escapeHtml(w)}</li>`).join('')}</ul>` : ''}</header>
<section aria-labelledby="paths-h"><h2 id="paths-h">${escapeHtml(x.pathsHeading)}</h2>${pathBar({ bytesByPath: a.summary.bytesByPath }, name, lang)}
<table class="small"><caption>${escapeHtml(x.flowsByPath)}</caption><tbody>${PATHS.map((p) => `<tr><th scope="row">${escapeHtml(pathLabel[p]!)}</th><td>${escapeHtml(x.flowCount(a.summary.flowsByPath[p]))}</td><td>${escapeHtml(x.shareOfBytes((a.summary.shareByPath[p] * 100).toFixed(1)))}</td></tr>`).join('')}</tbody></table></section>
<section aria-labelledby="hosts-h"><h2 id="hosts-h">${escapeHtml(x.hostsHeading)}</h2>${timeline({ hostnames, windowSeconds: span }, name, x.captureStart, lang)}</section>
<section aria-labelledby="flows-h"><h2 id="flows-h">${escapeHtml(x.flowsHeading(a.flows.length, a.flows.length > MAX_FLOW_ROWS ? MAX_FLOW_ROWS : null))}</h2><div class="scroll"><table id="flows"><thead><tr>${[col.id, col.proto, col.path, col.client, col.server, col.name, col.packets, col.bytes, col.handshake].map(th).join('')}</tr></thead><tbody>
${flows
  .slice(0, MAX_FLOW_ROWS)
  .map(
    (f) =>
      `<tr data-path="${escapeHtml(fixedWord(pathLabel, f.path, 'unknown') === 'unknown' ? 'unknown' : f.path)}"><td>${escapeHtml(f.id)}</td><td>${escapeHtml(f.application ? `${f.transport}/${f.application}` : f.transport)}</td><td>${escapeHtml(fixedWord(pathLabel, f.path, 'unknown'))}</td><td>${endpoint(f.client, f.clientPort, f.family)}</td><td>${endpoint(f.server, f.serverPort, f.family)}</td><td>${escapeHtml(f.sni ?? f.hostname ?? t.dash)}</td><td>${escapeHtml(f.packets)}</td><td>${bytes(f.bytes)}</td><td>${escapeHtml(f.established === null ? t.dash : f.established ? t.yes : f.reset ? x.reset : t.no)}</td></tr>`,
  )
  .join('\n')}
</tbody></table></div></section>
<section aria-labelledby="dns-h"><h2 id="dns-h">${escapeHtml(x.dnsHeading(a.dns.length))}</h2><div class="scroll"><table id="dns"><thead><tr>${[col.time, col.name, col.type, col.rcode, col.answers].map(th).join('')}</tr></thead><tbody>
${a.dns
  .slice(0, MAX_DNS_ROWS)
  .map(
    (q) =>
      `<tr><td>${escapeHtml(when(q.ts).slice(11))}</td><td>${escapeHtml(q.name)}</td><td>${escapeHtml(q.qtype)}</td><td>${escapeHtml(q.rcode ?? x.noAnswer)}</td><td>${escapeHtml(q.answers.join(' ') || t.dash)}</td></tr>`,
  )
  .join('\n')}
</tbody></table></div></section>`;
  return htmlPage(x.pageTitle(name), body, { lang });
}
