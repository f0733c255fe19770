/**
 * The certification report: one self-contained HTML file (`DIR/index.html`) a person opens with
 * no network. First the verdict per device; then a fleet view, the requirements table of each
 * device with its evidence, the app matrix, and per app the reasons, the bytes by path and the
 * Happy Eyeballs timeline, drawn as inline SVG (no script needed: it prints, and screen readers
 * read each chart's title and its table). Colour is never the only signal: every verdict is also
 * a word and a symbol.
 *
 * What a run directory says is not trusted (it may come from an archive): every text that
 * reaches the page goes through escapeHtml, every enumerated value (an outcome, a verdict, a
 * network, an address family, a change) through a fixed table by `fixedWord`, so a value the
 * table does not know becomes a fixed safe word; and the page's Content-Security-Policy lets
 * nothing run but its own one inline script (by its hash).
 */
import { createHash } from 'node:crypto';
import { REQUIREMENTS, checkDefinition, type RequirementId } from '../checks/requirements.js';
import type { ComparedCheck } from './compare.js';
import { buildLabel, type CheckResult, type RunDevice } from './results.js';
import { PATHS, resultKey, type AppEvidence, type PathName, type RunView } from './run.js';
import { judgeRun, type DeviceVerdict, type MissingCheck, type OverallVerdict, type VerdictOptions } from './verdict.js';

export const escapeHtml = (text: unknown): string =>
  String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The table's own entry for `value`, or `fallback` when the table has none: only the table's
 * words ever reach the page (own keys only: `constructor` is no network).
 */
export function fixedWord<K extends string, V>(table: Record<K, V>, value: unknown, fallback: V): V {
  return typeof value === 'string' && Object.hasOwn(table, value) ? table[value as K] : fallback;
}

/**
 * Evidence paths are relative to the run directory; each segment is URL-encoded, and the link
 * starts with `./` so no path is read as a scheme or another host (`javascript:`, `//host`).
 */
const href = (path: string): string => `./${path.split('/').map(encodeURIComponent).join('/')}`;

type Outcome = 'pass' | 'warn' | 'fail' | 'inconclusive' | 'skipped' | 'broken' | 'unknown';

const OUTCOME_OF_VERDICT: Record<NonNullable<CheckResult['verdict']>, Outcome> = { pass: 'pass', warn: 'warn', fail: 'fail', inconclusive: 'inconclusive' };
const OUTCOME_OF_STATUS: Record<CheckResult['status'], Outcome> = { passed: 'pass', failed: 'fail', skipped: 'skipped', broken: 'broken' };

/** A result's outcome, by fixed tables only: a verdict or status no table knows is `unknown`. */
export function outcomeOf(r: Pick<CheckResult, 'status' | 'verdict'>): Outcome {
  const status = fixedWord(OUTCOME_OF_STATUS, r.status, 'unknown');
  if (status === 'skipped' || status === 'broken') return status;
  if (r.verdict !== null) return fixedWord(OUTCOME_OF_VERDICT, r.verdict, 'unknown');
  return status;
}

const SYMBOL: Record<Outcome, string> = { pass: '✓', warn: '!', fail: '✗', inconclusive: '?', skipped: '–', broken: '⚡', unknown: '?' };
const WORD: Record<Outcome, string> = {
  pass: 'pass',
  warn: 'warn',
  fail: 'fail',
  inconclusive: 'inconclusive',
  skipped: 'skipped',
  broken: 'broken',
  unknown: 'unknown',
};

const badge = (o: Outcome, extra = ''): string => `<span class="badge ${o}"><span aria-hidden="true">${SYMBOL[o]}</span> ${WORD[o]}${extra}</span>`;

/** A device's or the run's overall verdict (lib/report/verdict.ts): its own word, symbol and colour, never a check's. */
const OVERALL: Record<OverallVerdict, { symbol: string; word: string }> = {
  pass: { symbol: '✓', word: 'pass' },
  fail: { symbol: '✗', word: 'fail' },
  incomplete: { symbol: '◐', word: 'incomplete' },
  'not-run': { symbol: '⚡', word: 'could not run' },
};
const OVERALL_CLASS: Record<OverallVerdict, OverallVerdict> = { pass: 'pass', fail: 'fail', incomplete: 'incomplete', 'not-run': 'not-run' };
const overallClass = (v: OverallVerdict): OverallVerdict => fixedWord(OVERALL_CLASS, v, 'not-run');
const overallBadge = (verdict: OverallVerdict, warnings = 0): string => {
  const v = overallClass(verdict);
  return `<span class="badge overall-${v}" data-verdict="${v}"><span aria-hidden="true">${OVERALL[v].symbol}</span> ${OVERALL[v].word}${v === 'pass' && warnings > 0 ? ` (${Math.trunc(warnings)} warning${warnings === 1 ? '' : 's'})` : ''}</span>`;
};

const STATUS_WORD: Record<MissingCheck['status'], string> = { skipped: 'skipped', broken: 'broken', 'not-run': 'never ran' };

const NETWORK_NAME: Record<CheckResult['network'], string> = { ipv6: 'IPv6-only APN', ipv4v6: 'dual-stack APN' };
const networkName = (network: unknown): string => fixedWord(NETWORK_NAME, network, 'unknown network');
const FAMILY: Record<string, string> = { '4': 'IPv4', '6': 'IPv6' };

/** Each check without a verdict, or each accepted skip: device, check, app, network, why. */
function checkTable(id: string, caption: string, rows: readonly (MissingCheck | (Omit<MissingCheck, 'status'> & { status?: undefined }))[]): string {
  const body = rows
    .map(
      (m) =>
        `<tr><td><code>${escapeHtml(m.device)}</code></td><td>${m.check === '*' ? 'every check' : escapeHtml(m.check)}</td><td>${escapeHtml(m.app ?? '–')}</td><td>${escapeHtml(m.network === '*' ? '–' : networkName(m.network))}</td>${m.status === undefined ? '' : `<td>${escapeHtml(fixedWord(STATUS_WORD, m.status, 'unknown'))}</td>`}<td><ul class="reasons">${m.reasons.map((x) => `<li><code>${escapeHtml(x.code)}</code> ${escapeHtml(x.detail)}</li>`).join('')}</ul></td></tr>`,
    )
    .join('');
  const status = rows[0]?.status === undefined ? '' : '<th scope="col">status</th>';
  return `<div class="scroll"><table id="${id}"><caption>${caption}</caption><thead><tr><th scope="col">device</th><th scope="col">check</th><th scope="col">app</th><th scope="col">network</th>${status}<th scope="col">why</th></tr></thead><tbody>${body}</tbody></table></div>`;
}

const PATH_LABEL: Record<PathName, string> = { 'native-v6': 'native IPv6', nat64: 'NAT64', clat: 'CLAT', 'native-v4': 'IPv4' };

export function bytes(n: number): string {
  // Only a number is ever formatted: anything else (a hostile document's string) is a fixed mark.
  if (typeof n !== 'number' || !Number.isFinite(n)) return '?';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

/** A horizontal stacked bar of bytes by path, with its numbers as a table for readers. */
export function pathBar(evidence: Pick<AppEvidence, 'bytesByPath'>, label: string): string {
  const total = PATHS.reduce((n, p) => n + evidence.bytesByPath[p], 0);
  if (total === 0) return '<p class="muted">No bytes attributed to the app.</p>';
  let x = 0;
  const width = 400;
  const parts = PATHS.filter((p) => evidence.bytesByPath[p] > 0).map((p) => {
    const w = (evidence.bytesByPath[p] / total) * width;
    const rect = `<rect class="path-${p}" x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="20"><title>${PATH_LABEL[p]}: ${bytes(evidence.bytesByPath[p])}</title></rect>`;
    x += w;
    return rect;
  });
  const rows = PATHS.map(
    (p) =>
      `<tr><th scope="row"><span class="swatch path-${p}" aria-hidden="true"></span>${PATH_LABEL[p]}</th><td>${bytes(evidence.bytesByPath[p])}</td><td>${((evidence.bytesByPath[p] / total) * 100).toFixed(1)}%</td></tr>`,
  ).join('');
  return `<figure class="chart" data-chart="paths"><svg viewBox="0 0 ${width} 20" width="100%" height="20" preserveAspectRatio="none" role="img" aria-label="Bytes by path for ${escapeHtml(label)}">${parts.join('')}</svg>
<div class="scroll"><table class="small"><caption>Bytes by path (${bytes(total)})</caption><tbody>${rows}</tbody></table></div></figure>`;
}

/** Per hostname: when the first IPv6 and first IPv4 attempts came after launch, on one time axis. */
export function timeline(evidence: Pick<AppEvidence, 'hostnames' | 'windowSeconds'>, label: string, origin = 'launch'): string {
  if (evidence.hostnames.length === 0) return '<p class="muted">No hostnames: the app\'s connections were to addresses no DNS answer or SNI named.</p>';
  const span = Math.max(evidence.windowSeconds, ...evidence.hostnames.flatMap((h) => [h.firstIpv6 ?? 0, h.firstIpv4 ?? 0]), 0.5);
  const left = 150;
  const width = 560;
  const row = 22;
  const scale = (t: number) => left + (t / span) * (width - left - 10);
  const marks = evidence.hostnames
    .map((h, i) => {
      const y = 16 + i * row;
      const v6 =
        h.firstIpv6 === null
          ? ''
          : `<circle class="v6" cx="${scale(h.firstIpv6).toFixed(1)}" cy="${y}" r="5"><title>${escapeHtml(h.name)}: first IPv6 attempt at ${(h.firstIpv6 * 1000).toFixed(0)} ms${h.ipv6Failed ? ' (failed)' : ''}</title></circle>`;
      const v4 =
        h.firstIpv4 === null
          ? ''
          : `<rect class="v4" x="${(scale(h.firstIpv4) - 4.5).toFixed(1)}" y="${y - 4.5}" width="9" height="9"><title>${escapeHtml(h.name)}: first IPv4 attempt at ${(h.firstIpv4 * 1000).toFixed(0)} ms</title></rect>`;
      const link =
        h.firstIpv6 !== null && h.firstIpv4 !== null
          ? `<line class="fallback" x1="${scale(Math.min(h.firstIpv6, h.firstIpv4)).toFixed(1)}" x2="${scale(Math.max(h.firstIpv6, h.firstIpv4)).toFixed(1)}" y1="${y}" y2="${y}"/>`
          : '';
      return `<text x="${left - 8}" y="${y + 4}" text-anchor="end">${escapeHtml(h.name)}</text>${link}${v6}${v4}`;
    })
    .join('');
  const height = 16 + evidence.hostnames.length * row + 14;
  const axis = (
    [
      [0, 'start'],
      [span / 2, 'middle'],
      [span, 'end'],
    ] as const
  )
    .map(([t, anchor]) => `<text class="axis" x="${scale(t).toFixed(1)}" y="${height - 2}" text-anchor="${anchor}">${(t * 1000).toFixed(0)} ms</text>`)
    .join('');
  const rows = evidence.hostnames
    .map(
      (h) =>
        `<tr><th scope="row">${escapeHtml(h.name)}</th><td>${escapeHtml(fixedWord(FAMILY, String(h.firstFamily), '–'))}</td><td>${h.firstIpv6 === null ? '–' : `${(h.firstIpv6 * 1000).toFixed(0)} ms${h.ipv6Failed ? ' (failed)' : ''}`}</td><td>${h.firstIpv4 === null ? '–' : `${(h.firstIpv4 * 1000).toFixed(0)} ms`}</td><td>${h.fallbackDelayMs === null ? '–' : `${h.fallbackDelayMs.toFixed(0)} ms`}</td><td>${h.nativeAaaa ? 'yes' : 'no'}</td></tr>`,
    )
    .join('');
  return `<figure class="chart" data-chart="timeline"><svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="Happy Eyeballs timeline for ${escapeHtml(label)}: first IPv6 (circle) and IPv4 (square) attempt per hostname after ${escapeHtml(origin)}">${marks}${axis}</svg>
<div class="scroll"><table class="small"><caption>Happy Eyeballs per hostname (times after ${escapeHtml(origin)}; circle IPv6, square IPv4)</caption><thead><tr><th scope="col">hostname</th><th scope="col">first attempt</th><th scope="col">first IPv6</th><th scope="col">first IPv4</th><th scope="col">fallback</th><th scope="col">native AAAA</th></tr></thead><tbody>${rows}</tbody></table></div></figure>`;
}

function requirementCells(ids: readonly string[]): string {
  return ids
    .map((id) => {
      const r = REQUIREMENTS[id as RequirementId];
      return r ? `<abbr title="${escapeHtml(`${r.title} (${r.source})`)}">${escapeHtml(id)}</abbr>` : escapeHtml(id);
    })
    .join(', ');
}

/**
 * A link to each evidence file that is a regular file of the run (RunView.evidence); any other
 * path (outside the run, a symlink, a FIFO) is named as text with why it is not available.
 */
function evidenceLinks(r: CheckResult, available: RunView['evidence']): string {
  return r.evidence
    .map((e) => {
      const problem = available.get(e) ?? null;
      if (problem !== null) return `<span class="unavailable">${escapeHtml(e)}: not available (${escapeHtml(problem)})</span>`;
      return `<a href="${escapeHtml(href(e))}"${e.endsWith('.pcap') ? ' type="application/vnd.tcpdump.pcap" download' : ''}>${escapeHtml(e.split('/').pop())}</a>`;
    })
    .join(' · ');
}

function reasonsList(r: CheckResult): string {
  const retried = (r.brokenAttempts ?? []).map(
    (a) => `<li class="retried">run again after <code>${escapeHtml(a.reasons[0]?.code ?? 'broken')}</code> ${escapeHtml(a.reasons[0]?.detail ?? '')}</li>`,
  );
  if (r.reasons.length === 0 && retried.length === 0) return '';
  return `<ul class="reasons">${r.reasons.map((x) => `<li><code>${escapeHtml(x.code)}</code> ${escapeHtml(x.detail)}</li>`).join('')}${retried.join('')}</ul>`;
}

const count = (results: readonly CheckResult[], status: string) => results.filter((r) => r.status === status).length;

export interface HtmlReportOptions {
  compare?: { dir: string; changes: ComparedCheck[] };
  /** The allow-list and the selected checks the overall verdict is judged with. */
  verdict?: VerdictOptions;
}

export function renderHtmlReport(run: RunView, options: HtmlReportOptions = {}): string {
  const { results: doc } = run;
  const byDevice = (serial: string) => doc.results.filter((r) => r.device === serial);
  const apps = [...new Set(doc.results.filter((r) => r.app !== null).map((r) => r.app!))].sort();
  const columns = doc.devices.flatMap((d) =>
    ['ipv6', 'ipv4v6']
      .filter((n) => doc.results.some((r) => r.device === d.serial && r.app !== null && r.network === n))
      .map((n) => ({ device: d, network: n })),
  );
  const judged = judgeRun(doc, options.verdict);
  const overall = judged.verdict;
  const verdictOf = (serial: string): DeviceVerdict => judged.devices.find((d) => d.device === serial)!;
  const out: string[] = [];

  out.push(`<header><h1>IPv6 certification report</h1>
<p class="meta">Run <code>${escapeHtml(doc.run.id)}</code> · started ${escapeHtml(doc.run.started)} · ${doc.run.finished === null ? '<strong>not finished</strong>' : `finished ${escapeHtml(doc.run.finished)}`} · ${escapeHtml(doc.run.tool.name)} ${escapeHtml(doc.run.tool.version)}</p>${doc.run.merged ? `\n<p class="meta" id="merged">A merge of ${doc.run.merged.length} run${doc.run.merged.length === 1 ? '' : 's'} (the later run's result where two checked the same device on the same build, check, app and network; another build of a device is shown as a device of its own, SERIAL@BUILD): ${doc.run.merged.map((m) => `<code>${escapeHtml(m.dir)}</code> (${escapeHtml(m.started)}, v6lab ${escapeHtml(m.tool)})`).join(', ')}</p>` : ''}
<p class="overall">Overall: ${overallBadge(
    overall,
    judged.devices.reduce((n, d) => n + d.warnings, 0),
  )}</p>${
    overall === 'incomplete'
      ? `
<p class="overall-why">Nothing failed, but ${judged.missing.length} check${judged.missing.length === 1 ? ' has' : 's have'} no verdict: this is not a pass (<a href="#missing">what is missing</a>).</p>`
      : ''
  }</header>`);

  // What has no verdict, and what the run accepted without one.
  if (judged.missing.length > 0) {
    out.push(
      `<section aria-labelledby="missing-h"><h2 id="missing-h">Without a verdict</h2>${checkTable('missing', `${judged.missing.length} check${judged.missing.length === 1 ? '' : 's'} skipped, broken or never run`, judged.missing)}</section>`,
    );
  }
  if (judged.accepted.length > 0) {
    out.push(
      `<section aria-labelledby="accepted-h"><h2 id="accepted-h">Accepted skips</h2><p>Skipped for a reason the run accepts (<code>--allow-skip ${escapeHtml(judged.allowSkip.join(','))}</code>): they do not make it incomplete, and they prove nothing.</p>${checkTable('accepted', `${judged.accepted.length} accepted skip${judged.accepted.length === 1 ? '' : 's'}`, judged.accepted)}</section>`,
    );
  }

  // First screen: a card per device.
  out.push('<section aria-labelledby="devices-h"><h2 id="devices-h">Devices</h2><div class="cards">');
  for (const d of doc.devices) {
    const mine = byDevice(d.serial);
    const facts = run.facts.get(d.serial);
    const networks = [...new Set(mine.map((r) => r.network))].map(networkName).join(', ');
    const verdict = verdictOf(d.serial);
    out.push(`<article class="card overall-${overallClass(verdict.verdict)}" data-device="${escapeHtml(d.serial)}"><h3><a href="#device-${escapeHtml(d.serial)}">${escapeHtml(d.model)}</a> ${overallBadge(verdict.verdict, verdict.warnings)}</h3>
<dl><dt>serial</dt><dd><code>${escapeHtml(d.serial)}</code></dd><dt>Android</dt><dd>${escapeHtml(d.android)}${facts?.buildType ? ` (${escapeHtml(facts.buildType)})` : ''}</dd>
${identityRows(d)}<dt>profile</dt><dd>${escapeHtml(d.profile)}${d.virtual ? ' (virtual lab)' : ''}</dd><dt>tested on</dt><dd>${escapeHtml(networks || '–')}</dd>
<dt>checks</dt><dd>${count(mine, 'passed')} passed, ${count(mine, 'failed')} failed, ${count(mine, 'broken')} broken, ${count(mine, 'skipped')} skipped${verdict.accepted.length > 0 ? ` (${verdict.accepted.length} accepted)` : ''}</dd>${verdict.missing.length > 0 ? `<dt>no verdict</dt><dd>${verdict.missing.length} (<a href="#missing">listed</a>)</dd>` : ''}</dl></article>`);
  }
  out.push('</div></section>');

  if (options.compare) out.push(renderCompare(options.compare));

  // Fleet view: which checks fail on which models.
  if (doc.devices.length > 1) {
    const checks = [...new Set(doc.results.filter((r) => r.app === null).map((r) => `${r.check}|${r.network}`))];
    out.push(
      `<section aria-labelledby="fleet-h"><h2 id="fleet-h">Fleet: checks by model</h2><div class="scroll"><table class="matrix"><thead><tr><th scope="col">check</th>${doc.devices.map((d) => `<th scope="col">${escapeHtml(d.model)}<br><small>${escapeHtml(d.serial)}${buildLabel(d) === null ? '' : `<br>${escapeHtml(buildLabel(d)!)}`}</small></th>`).join('')}</tr></thead><tbody>`,
    );
    for (const key of checks) {
      const [check, network] = key.split('|') as [string, string];
      out.push(
        `<tr><th scope="row">${escapeHtml(check)} <small>${escapeHtml(networkName(network))}</small></th>${doc.devices
          .map((d) => {
            const r = doc.results.find((x) => x.device === d.serial && x.check === check && x.network === network && x.app === null);
            return r ? `<td class="${outcomeOf(r)}">${badge(outcomeOf(r))}</td>` : '<td>–</td>';
          })
          .join('')}</tr>`,
      );
    }
    const appRow = doc.devices
      .map((d) => {
        const mine = byDevice(d.serial).filter((r) => r.app !== null);
        return `<td>${count(mine, 'passed')} / ${mine.filter((r) => r.status !== 'skipped').length} apps pass</td>`;
      })
      .join('');
    out.push(`<tr><th scope="row">apps</th>${appRow}</tr></tbody></table></div></section>`);
  }

  // The app matrix.
  if (apps.length > 0) {
    out.push(
      `<section aria-labelledby="apps-h"><h2 id="apps-h">Apps</h2><div class="scroll"><table class="matrix" id="app-matrix"><thead><tr><th scope="col">app</th>${columns.map((c) => `<th scope="col">${escapeHtml(c.device.model)}<br><small>${escapeHtml(networkName(c.network))}</small></th>`).join('')}</tr></thead><tbody>`,
    );
    for (const app of apps) {
      out.push(
        `<tr><th scope="row">${escapeHtml(app)}</th>${columns
          .map((c) => {
            const r = doc.results.find((x) => x.device === c.device.serial && x.app === app && x.network === c.network);
            if (!r) return '<td>–</td>';
            const o = outcomeOf(r);
            return `<td class="${o}" data-app="${escapeHtml(app)}" data-device="${escapeHtml(c.device.serial)}" data-network="${escapeHtml(c.network)}"><a href="#${escapeHtml(`app-${c.device.serial}-${c.network}-${app}`)}">${badge(o)}</a></td>`;
          })
          .join('')}</tr>`,
      );
    }
    out.push('</tbody></table></div></section>');
  }

  // Each device: requirements table, then its apps.
  for (const d of doc.devices) {
    const mine = byDevice(d.serial);
    const facts = run.facts.get(d.serial);
    out.push(
      `<section id="device-${escapeHtml(d.serial)}" aria-labelledby="device-${escapeHtml(d.serial)}-h"><h2 id="device-${escapeHtml(d.serial)}-h">${escapeHtml(d.model)} <small>${escapeHtml(d.serial)}${buildLabel(d) === null ? '' : `, build ${escapeHtml(buildLabel(d)!)}`}</small> ${overallBadge(verdictOf(d.serial).verdict, verdictOf(d.serial).warnings)}</h2>`,
    );
    if (facts) {
      const net = facts.defaultNetwork;
      out.push(
        `<p class="facts">${escapeHtml(facts.manufacturer ?? '')} ${escapeHtml(facts.model ?? '')}, Android ${escapeHtml(facts.android ?? '?')}, ${escapeHtml(facts.buildType ?? '?')} build, root: ${escapeHtml(facts.root ?? 'none')}; as found on APN <code>${escapeHtml(net?.apn ?? '–')}</code>, NAT64 prefix <code>${escapeHtml(net?.nat64Prefix ?? '–')}</code>, CLAT ${net?.clat ? `<code>${escapeHtml(net.clat.interfaceName)} ${escapeHtml(net.clat.ipv4 ?? '')}</code>` : 'none'}.</p>`,
      );
    }
    const checks = mine.filter((r) => r.app === null);
    if (checks.length > 0) {
      out.push(
        `<div class="scroll"><table class="requirements"><caption>OS and APN checks</caption><thead><tr><th scope="col">check</th><th scope="col">network</th><th scope="col">verdict</th><th scope="col">requirement</th><th scope="col">why, and the evidence</th></tr></thead><tbody>`,
      );
      for (const r of checks) {
        const evidence = run.checks.get(resultKey(r));
        const shown =
          evidence === undefined
            ? ''
            : 'problem' in evidence
              ? `<p class="unavailable">evidence ${escapeHtml(evidence.problem)}</p>`
              : `<details><summary>evidence</summary><pre>${escapeHtml(JSON.stringify(evidence.evidence, null, 2))}</pre></details>`;
        out.push(`<tr class="${outcomeOf(r)}" data-check="${escapeHtml(r.check)}"><th scope="row">${escapeHtml(r.check)}<br><small>${escapeHtml(checkDefinition(r.check)?.title ?? '')}</small></th><td>${escapeHtml(networkName(r.network))}</td><td>${badge(outcomeOf(r))}</td><td>${requirementCells(r.requirement)}</td>
<td>${reasonsList(r)}${shown}${r.evidence.length > 0 ? `<p class="files">${evidenceLinks(r, run.evidence)}</p>` : ''}</td></tr>`);
      }
      out.push('</tbody></table></div>');
    }
    for (const r of mine.filter((x) => x.app !== null)) {
      const found = run.apps.get(resultKey(r));
      const evidence = found === undefined || 'problem' in found ? undefined : found;
      const label = `${r.app} on the ${networkName(r.network)}`;
      const share = typeof r.metrics.nativeV6ByteShare === 'number' ? `, native IPv6 ${(r.metrics.nativeV6ByteShare * 100).toFixed(0)}% of bytes` : '';
      out.push(`<details class="app ${outcomeOf(r)}" id="${escapeHtml(`app-${d.serial}-${r.network}-${r.app}`)}"${outcomeOf(r) === 'fail' ? ' open' : ''}><summary>${badge(outcomeOf(r))} <strong>${escapeHtml(r.app)}</strong> on the ${escapeHtml(networkName(r.network))}${escapeHtml(share)}</summary>
${reasonsList(r) || '<p>No reason to fault it: it reached its servers over IPv6 first.</p>'}
${evidence ? pathBar(evidence, label) + timeline(evidence, label) : ''}${found !== undefined && 'problem' in found ? `<p class="unavailable">Analysis ${escapeHtml(found.problem)}</p>` : ''}
${r.evidence.length > 0 ? `<p class="files">Evidence: ${evidenceLinks(r, run.evidence)}${evidence ? ` · attribution by ${escapeHtml(evidence.attribution)}` : ''}</p>` : ''}</details>`);
    }
    out.push('</section>');
  }

  if (run.problems.length > 0)
    out.push(`<section><h2>Problems reading the run</h2><ul>${run.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul></section>`);
  out.push(
    `<footer><p>Requirements: ${Object.values(REQUIREMENTS)
      .map((r) => `<abbr title="${escapeHtml(r.source)}">${escapeHtml(r.id)}</abbr> ${escapeHtml(r.title)}`)
      .join('; ')}.</p></footer>`,
  );

  return htmlPage(`IPv6 certification: ${doc.devices.map((d) => d.model).join(', ')} (${OVERALL[overallClass(overall)].word})`, out.join('\n'));
}

/** The page's one script: a printed report shows every app's details. */
const PRINT_SCRIPT = "addEventListener('beforeprint', () => document.querySelectorAll('details').forEach((d) => { d.open = true; }));";

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * Nothing loads and nothing runs but the page's own style and script, each allowed by its hash:
 * were a value ever to slip past escaping, its script, inline handler, style or image would not
 * run or load. No style attributes are used (they would need 'unsafe-inline').
 */
export const contentSecurityPolicy = (): string =>
  `default-src 'none'; style-src ${sha256(CSS)}; script-src ${sha256(PRINT_SCRIPT)}; img-src 'none'; base-uri 'none'; form-action 'none'`;

/** The page around a report's body: its styles inline, nothing loaded from anywhere. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy())}"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style></head>
<body><main>
${body}
</main>
<script>${PRINT_SCRIPT}</script>
</body></html>
`;
}

const CHANGE: Record<ComparedCheck['change'], ComparedCheck['change']> = {
  regressed: 'regressed',
  fixed: 'fixed',
  changed: 'changed',
  new: 'new',
  gone: 'gone',
};

/**
 * A device card's identity rows (build, fingerprint, security patch, baseband, SIM operators,
 * kernel), each escaped; a run from before v6lab recorded them says so in one row.
 */
function identityRows(d: RunDevice): string {
  const id = d.identity;
  if (id === undefined) return '<dt>build</dt><dd>not recorded (results from an earlier v6lab)</dd>';
  const row = (term: string, value: string | null, code = false) =>
    `<dt>${term}</dt><dd>${value === null ? '–' : code ? `<code>${escapeHtml(value)}</code>` : escapeHtml(value)}</dd>`;
  const sims = id.sims.map(
    (sim) => `${sim.name ?? '?'} (${sim.mcc === null ? '?' : `${sim.mcc}/${sim.mnc}`}${id.sims.length > 1 ? `, slot ${sim.slot + 1}` : ''})`,
  );
  return [
    row('build', buildLabel(d)),
    row('fingerprint', id.fingerprint, true),
    row('display id', id.displayId),
    row('security patch', id.securityPatch),
    row('baseband', id.baseband),
    row(id.sims.length > 1 ? 'SIMs' : 'SIM', sims.length === 0 ? null : sims.join('; ')),
    row('kernel', id.kernel),
  ].join('');
}

function renderCompare(compare: NonNullable<HtmlReportOptions['compare']>): string {
  const { changes } = compare;
  const word = (x: ComparedCheck['before']) => (x === null ? '–' : badge(outcomeOf(x)));
  const change = (c: ComparedCheck) => fixedWord(CHANGE, c.change, 'changed');
  const rows = changes
    .map(
      (c) =>
        `<tr class="change-${change(c)}" data-change="${change(c)}" data-app="${escapeHtml(c.app ?? '')}"><td><strong>${change(c)}</strong></td><th scope="row">${escapeHtml(c.app ?? c.check)}</th><td>${escapeHtml(c.device)}${c.builds === null ? '' : `<br><small class="builds">${escapeHtml(c.builds)}</small>`}</td><td>${escapeHtml(networkName(c.network))}</td><td>${word(c.before)}</td><td>${word(c.after)}</td><td>${escapeHtml((c.after ?? c.before)?.reasons.map((r) => r.code).join(', ') ?? '')}</td></tr>`,
    )
    .join('');
  const counts = (['regressed', 'fixed', 'changed', 'new', 'gone'] as const).map((k) => `${changes.filter((c) => c.change === k).length} ${k}`).join(', ');
  return `<section aria-labelledby="compare-h"><h2 id="compare-h">Compared with <code>${escapeHtml(compare.dir)}</code></h2><p>${counts}.</p>
${changes.length === 0 ? '<p>No check changed.</p>' : `<div class="scroll"><table id="compare"><thead><tr><th scope="col">change</th><th scope="col">check or app</th><th scope="col">device</th><th scope="col">network</th><th scope="col">before</th><th scope="col">now</th><th scope="col">reasons now</th></tr></thead><tbody>${rows}</tbody></table></div>`}</section>`;
}

/** Contrast: every text colour on its background is at least 4.5:1 (WCAG AA). */
export const CSS = `
:root { --pass: #0b6b2e; --pass-bg: #e3f4e8; --warn: #7a4b00; --warn-bg: #fff1d6; --fail: #a3161b; --fail-bg: #fde4e4;
  --incomplete: #5a3e8c; --incomplete-bg: #efe8fa; --muted: #4d4d4d; --line: #c8c8c8; --v6: #1b5fb4; --nat64: #6a3fb0; --clat: #b0620f; --v4: #a3161b; }
* { box-sizing: border-box; }
body { margin: 0; overflow-wrap: anywhere; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", sans-serif; color: #161616; background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: 0.2rem 0; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 2px solid var(--line); }
.meta, .muted, small { color: var(--muted); }
code { font-size: 0.9em; }
.badge { display: inline-block; padding: 0 0.45em; border-radius: 0.3em; font-weight: 600; white-space: nowrap; border: 1px solid currentColor; }
.badge.pass { color: var(--pass); background: var(--pass-bg); } .badge.warn { color: var(--warn); background: var(--warn-bg); }
.badge.fail, .badge.broken, .badge.overall-fail, .badge.overall-not-run { color: var(--fail); background: var(--fail-bg); }
.badge.overall-pass { color: var(--pass); background: var(--pass-bg); } .badge.overall-incomplete { color: var(--incomplete); background: var(--incomplete-bg); border-style: dashed; } .badge.inconclusive, .badge.skipped, .badge.unknown { color: var(--muted); background: #f0f0f0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(260px, 100%), 1fr)); gap: 0.8rem; }
.card { border: 1px solid var(--line); border-left: 6px solid var(--muted); border-radius: 0.4rem; padding: 0.6rem 0.8rem; }
.card.overall-pass { border-left-color: var(--pass); } .card.overall-fail, .card.overall-not-run { border-left-color: var(--fail); } .card.overall-incomplete { border-left-color: var(--incomplete); }
.card h3 { margin: 0 0 0.4rem; font-size: 1.1rem; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 0.1rem 0.6rem; margin: 0; } dt { color: var(--muted); } dd { margin: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0; }
th, td { border: 1px solid var(--line); padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; overflow-wrap: normal; }
thead th { background: #f4f4f4; }
table.small { width: auto; font-size: 0.9em; } caption { text-align: left; font-weight: 600; padding: 0.2rem 0; }
.matrix td { text-align: center; } .matrix td a { text-decoration: none; }
.reasons { margin: 0.2rem 0; padding-left: 1.1rem; }
details.app { border: 1px solid var(--line); border-radius: 0.4rem; padding: 0.4rem 0.7rem; margin: 0.4rem 0; }
details.app > summary { cursor: pointer; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f6f6; padding: 0.5rem; max-height: 24rem; overflow: auto; font-size: 0.85em; }
.files { font-size: 0.9em; }
.chart { margin: 0.6rem 0; } .chart svg { max-width: 640px; display: block; }
.chart svg text { font-size: 11px; fill: #161616; } .chart svg text.axis { fill: var(--muted); }
.path-native-v6 { fill: var(--v6); background: var(--v6); } .path-nat64 { fill: var(--nat64); background: var(--nat64); }
.path-clat { fill: var(--clat); background: var(--clat); } .path-native-v4 { fill: var(--v4); background: var(--v4); }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.35em; vertical-align: middle; }
circle.v6 { fill: var(--v6); } rect.v4 { fill: var(--v4); } line.fallback { stroke: var(--muted); stroke-width: 2; stroke-dasharray: 3 2; }
tr.change-regressed td:first-child { color: var(--fail); } tr.change-fixed td:first-child { color: var(--pass); }
.unavailable { color: var(--muted); font-style: italic; }
footer { margin-top: 2rem; font-size: 0.85em; color: var(--muted); }
@media (max-width: 600px) { main { padding: 0.5rem; } body { font-size: 14px; } th, td { padding: 0.2rem 0.3rem; } }
@media print { .scroll { overflow: visible; } details.app { break-inside: avoid; } a { color: inherit; } }
`;
