/**
 * `v6lab analyze CAPTURE --html FILE`: one self-contained page of one capture's analysis: the
 * traffic by path, per hostname the Happy Eyeballs timings, the flows and the DNS queries, for
 * someone who has a pcap and no tshark.
 */
import type { CaptureAnalysis } from '../analysis/index.js';
import { captureTime } from '../net/printable.js';
import { bytes, escapeHtml, fixedWord, htmlPage, pathBar, timeline } from './html.js';
import { PATHS } from './run.js';

// Every value below reaches the page escaped, and the path (an enumerated value) through this fixed table.
const PATH_LABEL: Record<string, string> = { 'native-v6': 'native IPv6', nat64: 'NAT64', clat: 'CLAT', 'native-v4': 'IPv4' };

/** Flows beyond this many (largest first) are counted, not listed: the page stays openable. */
const MAX_FLOW_ROWS = 5000;
const MAX_DNS_ROWS = 5000;

export function renderCaptureHtml(name: string, a: CaptureAnalysis): string {
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
  const flows = [...a.flows].sort((x, y) => y.bytes - x.bytes);
  const endpoint = (address: string, port: number, family: number) => escapeHtml(family === 6 ? `[${address}]:${port}` : `${address}:${port}`);
  const body = `<header><h1>Capture analysis</h1>
<p class="meta"><code>${escapeHtml(name)}</code> · ${escapeHtml(c.format)} · ${escapeHtml(c.packets)} packets, ${bytes(c.bytes)}, ${span.toFixed(3)} s${c.firstTs === null ? '' : ` from ${escapeHtml(when(c.firstTs))} UTC`}${c.duplicates > 0 ? ` · ${c.duplicates} duplicates across interfaces counted once` : ''}</p>
<dl><dt>NAT64 prefix</dt><dd>${a.nat64Prefixes.length === 0 ? 'none given or discovered' : a.nat64Prefixes.map((p) => `<code>${escapeHtml(p)}</code> (${a.nat64PrefixSources[p] === 'given' ? 'given' : a.nat64PrefixSources[p] === 'pref64' ? 'PREF64 in router advertisements' : 'RFC 7050 discovery'})`).join(', ')}</dd>
<dt>CLAT address</dt><dd>${a.clatAddresses.length === 0 ? 'none given or inferred' : a.clatAddresses.map((x) => `<code>${escapeHtml(x)}</code>`).join(', ')}</dd></dl>
${c.warnings.length > 0 ? `<ul class="reasons">${c.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : ''}</header>
<section aria-labelledby="paths-h"><h2 id="paths-h">Traffic by path</h2>${pathBar({ bytesByPath: a.summary.bytesByPath }, name)}
<table class="small"><caption>Flows by path</caption><tbody>${PATHS.map((p) => `<tr><th scope="row">${PATH_LABEL[p]}</th><td>${escapeHtml(a.summary.flowsByPath[p])} flows</td><td>${(a.summary.shareByPath[p] * 100).toFixed(1)}% of bytes</td></tr>`).join('')}</tbody></table></section>
<section aria-labelledby="hosts-h"><h2 id="hosts-h">Hostnames: which family first, how fast the fallback</h2>${timeline({ hostnames, windowSeconds: span }, name, "the capture's start")}</section>
<section aria-labelledby="flows-h"><h2 id="flows-h">Flows (${a.flows.length}${a.flows.length > MAX_FLOW_ROWS ? `, the ${MAX_FLOW_ROWS} largest` : ''})</h2><div class="scroll"><table id="flows"><thead><tr><th scope="col">#</th><th scope="col">proto</th><th scope="col">path</th><th scope="col">client</th><th scope="col">server</th><th scope="col">name</th><th scope="col">packets</th><th scope="col">bytes</th><th scope="col">handshake</th></tr></thead><tbody>
${flows
  .slice(0, MAX_FLOW_ROWS)
  .map(
    (f) =>
      `<tr data-path="${escapeHtml(fixedWord(PATH_LABEL, f.path, 'unknown') === 'unknown' ? 'unknown' : f.path)}"><td>${escapeHtml(f.id)}</td><td>${escapeHtml(f.application ? `${f.transport}/${f.application}` : f.transport)}</td><td>${escapeHtml(fixedWord(PATH_LABEL, f.path, 'unknown'))}</td><td>${endpoint(f.client, f.clientPort, f.family)}</td><td>${endpoint(f.server, f.serverPort, f.family)}</td><td>${escapeHtml(f.sni ?? f.hostname ?? '–')}</td><td>${escapeHtml(f.packets)}</td><td>${bytes(f.bytes)}</td><td>${f.established === null ? '–' : f.established ? 'yes' : f.reset ? 'reset' : 'no'}</td></tr>`,
  )
  .join('\n')}
</tbody></table></div></section>
<section aria-labelledby="dns-h"><h2 id="dns-h">DNS (${a.dns.length} queries)</h2><div class="scroll"><table id="dns"><thead><tr><th scope="col">time</th><th scope="col">name</th><th scope="col">type</th><th scope="col">rcode</th><th scope="col">answers</th></tr></thead><tbody>
${a.dns
  .slice(0, MAX_DNS_ROWS)
  .map(
    (q) =>
      `<tr><td>${escapeHtml(when(q.ts).slice(11))}</td><td>${escapeHtml(q.name)}</td><td>${escapeHtml(q.qtype)}</td><td>${escapeHtml(q.rcode ?? 'no answer')}</td><td>${escapeHtml(q.answers.join(' ') || '–')}</td></tr>`,
  )
  .join('\n')}
</tbody></table></div></section>`;
  return htmlPage(`Capture analysis: ${name}`, body);
}
