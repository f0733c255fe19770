/**
 * The certification report: one self-contained HTML file (`DIR/index.html`) a person opens with
 * no network, and a carrier files (printed to PDF by `report --pdf`). In the reader's language
 * (English or Simplified Chinese, lib/report/i18n.ts): first the run and the verdict per device
 * with its identity; then a fleet view, the app matrix, each device's test items (test case,
 * purpose, expected and actual result, conclusion) with their evidence, the requirements
 * traceability matrix (each requirement with its own anchor and its summary printed in full, its
 * checks and their verdict per device), and per app the reasons, the bytes by path, the Happy
 * Eyeballs timeline, the per-page IPv6 share and the repeated runs, drawn as inline SVG (no script
 * needed: it prints, and screen readers read each chart's title and its table). Colour is never
 * the only signal: every verdict is also a word and a symbol.
 *
 * What a run directory says is not trusted (it may come from an archive): every text that
 * reaches the page goes through escapeHtml, every enumerated value (an outcome, a verdict, a
 * network, an address family, a change) through a fixed table by `fixedWord`, so a value the
 * table does not know becomes a fixed safe word; and the page's Content-Security-Policy lets
 * nothing run but its own one inline script and nothing style it but its own styles (by hash).
 */
import { createHash } from 'node:crypto';
import type { Lang, Localized } from '../checks/lang.js';
import { reasonText } from '../checks/messages.js';
import {
  checkDefinition,
  checksOfRequirement,
  networksOf,
  REQUIREMENTS,
  requirementAnchor,
  requirementOf,
  type CheckDefinition,
  type Requirement,
} from '../checks/requirements.js';
import type { ComparedCheck } from './compare.js';
import { EXPECTED, reportText, type ChangeWord, type OutcomeWord, type ReportText } from './i18n.js';
import { buildLabel, type AppLog, type AppRun, type CheckResult, type PageShare, type Reason, type RunDevice } from './results.js';
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

type Outcome = OutcomeWord;

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

const badge = (t: ReportText, o: Outcome): string => `<span class="badge ${o}"><span aria-hidden="true">${SYMBOL[o]}</span> ${t.outcome[o]}</span>`;

/** A device's or the run's overall verdict (lib/report/verdict.ts): its own word, symbol and colour, never a check's. */
const OVERALL_SYMBOL: Record<OverallVerdict, string> = { pass: '✓', fail: '✗', incomplete: '◐', 'not-run': '⚡' };
const OVERALL_CLASS: Record<OverallVerdict, OverallVerdict> = { pass: 'pass', fail: 'fail', incomplete: 'incomplete', 'not-run': 'not-run' };
const overallClass = (v: OverallVerdict): OverallVerdict => fixedWord(OVERALL_CLASS, v, 'not-run');
const overallBadge = (t: ReportText, verdict: OverallVerdict, warnings = 0): string => {
  const v = overallClass(verdict);
  return `<span class="badge overall-${v}" data-verdict="${v}"><span aria-hidden="true">${OVERALL_SYMBOL[v]}</span> ${t.overall[v]}${v === 'pass' && warnings > 0 ? t.warnings(warnings) : ''}</span>`;
};

const STATUS_KEY: Record<MissingCheck['status'], MissingCheck['status']> = { skipped: 'skipped', broken: 'broken', 'not-run': 'not-run' };

const NETWORK_KEY: Record<CheckResult['network'], CheckResult['network']> = { ipv6: 'ipv6', ipv4v6: 'ipv4v6' };
const networkName = (t: ReportText, network: unknown): string => {
  const key = fixedWord<CheckResult['network'], CheckResult['network'] | null>(NETWORK_KEY, network, null);
  return key === null ? t.unknownNetwork : t.network[key];
};
const FAMILY: Record<string, string> = { '4': 'IPv4', '6': 'IPv6' };

/**
 * A reason in the reader's language: its code (what a reader searches for, in any language) and
 * its text. In English the detail as recorded. In another language the reason's messages
 * rendered there (lib/checks/messages.ts); a reason from before messages existed (or another
 * tool's) shows its code's title in the language and the original detail, marked as English.
 */
function reasonHtml(t: ReportText, x: Pick<Reason, 'code' | 'detail' | 'messages'>): string {
  return `<code>${escapeHtml(x.code)}</code> ${reasonTextHtml(t, x)}`;
}

function reasonTextHtml(t: ReportText, x: Pick<Reason, 'code' | 'detail' | 'messages'>): string {
  const { text, untranslated } = reasonText(x, t.lang);
  return untranslated === undefined
    ? escapeHtml(text)
    : `${escapeHtml(text)}${t.lang === 'en' ? ': ' : '：'}<span lang="en">${escapeHtml(untranslated)}</span>`;
}

/** Each check without a verdict, or each accepted skip: device, check, app, network, why. */
function checkTable(
  t: ReportText,
  id: string,
  caption: string,
  rows: readonly (MissingCheck | (Omit<MissingCheck, 'status'> & { status?: undefined }))[],
): string {
  const body = rows
    .map(
      (m) =>
        `<tr><td><code>${escapeHtml(m.device)}</code></td><td>${m.check === '*' ? t.everyCheck : escapeHtml(m.check)}</td><td>${escapeHtml(m.app ?? '–')}</td><td>${m.network === '*' ? '–' : escapeHtml(networkName(t, m.network))}</td>${m.status === undefined ? '' : `<td class="status">${escapeHtml(t.missingStatus[fixedWord(STATUS_KEY, m.status, 'skipped')])}</td>`}<td><ul class="reasons">${m.reasons.map((x) => `<li>${reasonHtml(t, x)}</li>`).join('')}</ul></td></tr>`,
    )
    .join('');
  const status = rows[0]?.status === undefined ? '' : `<th scope="col">${t.col.status}</th>`;
  return `<div class="scroll"><table id="${id}"><caption>${caption}</caption><thead><tr><th scope="col">${t.col.device}</th><th scope="col">${t.col.check}</th><th scope="col">${t.col.app}</th><th scope="col">${t.col.network}</th>${status}<th scope="col">${t.col.why}</th></tr></thead><tbody>${body}</tbody></table></div>`;
}

export function bytes(n: number): string {
  // Only a number is ever formatted: anything else (a hostile document's string) is a fixed mark.
  if (typeof n !== 'number' || !Number.isFinite(n)) return '?';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

/** A share 0..1 as a percentage with one decimal; anything but a finite number is a dash. */
const percent = (share: unknown): string => (typeof share === 'number' && Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : '–');

/** A horizontal stacked bar of bytes by path, with its numbers as a table for readers. */
export function pathBar(evidence: Pick<AppEvidence, 'bytesByPath'>, label: string, lang: Lang = 'en'): string {
  const t = reportText(lang);
  const total = PATHS.reduce((n, p) => n + evidence.bytesByPath[p], 0);
  if (total === 0) return `<p class="muted">${t.noBytes}</p>`;
  let x = 0;
  const width = 400;
  const parts = PATHS.filter((p) => evidence.bytesByPath[p] > 0).map((p) => {
    const w = (evidence.bytesByPath[p] / total) * width;
    const rect = `<rect class="path-${p}" x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="20"><title>${t.path[p]}${t.colon}${bytes(evidence.bytesByPath[p])}</title></rect>`;
    x += w;
    return rect;
  });
  const rows = PATHS.map(
    (p) =>
      `<tr><th scope="row"><span class="swatch path-${p}" aria-hidden="true"></span>${t.path[p]}</th><td>${bytes(evidence.bytesByPath[p])}</td><td>${((evidence.bytesByPath[p] / total) * 100).toFixed(1)}%</td></tr>`,
  ).join('');
  return `<figure class="chart" data-chart="paths"><svg viewBox="0 0 ${width} 20" width="100%" height="20" preserveAspectRatio="none" role="img" aria-label="${t.bytesByPathLabel(escapeHtml(label))}">${parts.join('')}</svg>
<div class="scroll"><table class="small"><caption>${t.bytesByPathCaption(bytes(total))}</caption><tbody>${rows}</tbody></table></div></figure>`;
}

/** Per hostname: when the first IPv6 and first IPv4 attempts came after launch, on one time axis. */
export function timeline(evidence: Pick<AppEvidence, 'hostnames' | 'windowSeconds'>, label: string, origin?: string, lang: Lang = 'en'): string {
  const t = reportText(lang);
  const from = origin ?? t.launch;
  if (evidence.hostnames.length === 0) return `<p class="muted">${t.noHostnames}</p>`;
  // A loop, not Math.max(...times): a capture's tens of thousands of hostnames spread as arguments overflow the stack.
  let span = Math.max(evidence.windowSeconds, 0.5);
  for (const h of evidence.hostnames) span = Math.max(span, h.firstIpv6 ?? 0, h.firstIpv4 ?? 0);
  const left = 150;
  const width = 560;
  const row = 22;
  const scale = (s: number) => left + (s / span) * (width - left - 10);
  const ms = (s: number) => (s * 1000).toFixed(0);
  const marks = evidence.hostnames
    .map((h, i) => {
      const y = 16 + i * row;
      const v6 =
        h.firstIpv6 === null
          ? ''
          : `<circle class="v6" cx="${scale(h.firstIpv6).toFixed(1)}" cy="${y}" r="5"><title>${escapeHtml(h.name)}${t.colon}${t.firstIpv6At(ms(h.firstIpv6), h.ipv6Failed)}</title></circle>`;
      const v4 =
        h.firstIpv4 === null
          ? ''
          : `<rect class="v4" x="${(scale(h.firstIpv4) - 4.5).toFixed(1)}" y="${y - 4.5}" width="9" height="9"><title>${escapeHtml(h.name)}${t.colon}${t.firstIpv4At(ms(h.firstIpv4))}</title></rect>`;
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
    .map(([s, anchor]) => `<text class="axis" x="${scale(s).toFixed(1)}" y="${height - 2}" text-anchor="${anchor}">${ms(s)} ms</text>`)
    .join('');
  const rows = evidence.hostnames
    .map(
      (h) =>
        `<tr><th scope="row">${escapeHtml(h.name)}</th><td>${escapeHtml(fixedWord(FAMILY, String(h.firstFamily), '–'))}</td><td>${h.firstIpv6 === null ? '–' : `${ms(h.firstIpv6)} ms${h.ipv6Failed ? t.failedMark : ''}`}</td><td>${h.firstIpv4 === null ? '–' : `${ms(h.firstIpv4)} ms`}</td><td>${h.fallbackDelayMs === null ? '–' : `${h.fallbackDelayMs.toFixed(0)} ms`}</td><td>${h.nativeAaaa ? t.yes : t.no}</td></tr>`,
    )
    .join('');
  return `<figure class="chart" data-chart="timeline"><svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${t.timelineLabel(escapeHtml(label), escapeHtml(from))}">${marks}${axis}</svg>
<div class="scroll"><table class="small"><caption>${t.timelineCaption(escapeHtml(from))}</caption><thead><tr><th scope="col">${t.col.hostname}</th><th scope="col">${t.col.firstAttempt}</th><th scope="col">${t.col.firstIpv6}</th><th scope="col">${t.col.firstIpv4}</th><th scope="col">${t.col.fallback}</th><th scope="col">${t.col.nativeAaaa}</th></tr></thead><tbody>${rows}</tbody></table></div></figure>`;
}

/** A requirement as the report prints it, in one language. */
interface RequirementView {
  id: string;
  anchor: string;
  document: string;
  clause: string;
  title: string;
  summary: string;
  /** Why no check proves it (present exactly when none does). */
  notChecked: string | null;
  checks: string[];
}

/** Every clause-level requirement of the catalogue, in its order, in `lang`. */
function requirementViews(lang: Lang): RequirementView[] {
  return Object.values(REQUIREMENTS).map((r: Requirement) => ({
    id: r.id,
    anchor: requirementAnchor(r.id),
    document: r.document[lang],
    clause: r.clause[lang],
    title: r.title[lang],
    summary: r.summary[lang],
    notChecked: r.notChecked?.[lang] ?? null,
    checks: checksOfRequirement(r.id).map((c) => c.id),
  }));
}

/**
 * The requirements a result names, as the catalogue knows them now: a clause by its id; a
 * whole-document id of an older run by the clauses that replaced it (those the check proves, else
 * all of them); an id v6lab never wrote as text.
 */
function requirementLinks(check: string, ids: readonly string[], known: ReadonlyMap<string, RequirementView>): { id: string; clauses: RequirementView[] }[] {
  const proves: readonly string[] = checkDefinition(check)?.requirements ?? [];
  return ids.map((id) => {
    const direct = known.get(id);
    if (direct !== undefined) return { id, clauses: [direct] };
    const found = requirementOf(id);
    if (found === undefined || !('replacedBy' in found)) return { id, clauses: [] };
    const replacedBy: readonly string[] = found.replacedBy;
    const mine = replacedBy.filter((r) => proves.includes(r));
    return { id, clauses: (mine.length > 0 ? mine : replacedBy).map((r) => known.get(r)).filter((r): r is RequirementView => r !== undefined) };
  });
}

const checkTitle = (def: CheckDefinition | undefined, lang: Lang): string | null => (def === undefined ? null : def.titles[lang]);
const testCaseOf = (def: CheckDefinition | undefined): string | null => def?.testCase ?? null;

/** The cells naming a result's requirements: each a link to its anchor in the requirements section. */
function requirementCells(t: ReportText, check: string, ids: readonly string[], known: ReadonlyMap<string, RequirementView>): string {
  const link = (r: RequirementView) => `<a href="#${escapeHtml(r.anchor)}">${escapeHtml(r.id)}</a>`;
  return requirementLinks(check, ids, known)
    .map(({ id, clauses }) => {
      if (clauses.length === 1 && clauses[0]!.id === id) return link(clauses[0]!);
      if (clauses.length === 0) return `<span class="unknown-requirement">${escapeHtml(id)} <small>(${t.unknownRequirement})</small></span>`;
      return `${escapeHtml(id)} (${clauses.map(link).join(t.listSep)})`;
    })
    .join(t.listSep);
}

/**
 * A link to each evidence file that is a regular file of the run (RunView.evidence); any other
 * path (outside the run, a symlink, a FIFO) is named as text with why it is not available.
 */
function evidenceLinks(t: ReportText, paths: readonly string[], available: RunView['evidence']): string {
  return paths
    .map((e) => {
      // A path readRun did not locate is never linked: only a file it found in the run is.
      const problem = available.has(e) ? (available.get(e) ?? null) : 'not read';
      if (problem !== null) return `<span class="unavailable">${t.notAvailable(escapeHtml(e), fileProblem(t, problem))}</span>`;
      return `<a href="${escapeHtml(href(e))}"${e.endsWith('.pcap') ? ' type="application/vnd.tcpdump.pcap" download' : ''}>${escapeHtml(e.split('/').pop())}</a>`;
    })
    .join(' · ');
}

/** Why a file is not shown, in the language when it is one run-files.ts gives; else as given, marked English. */
const fileProblem = (t: ReportText, problem: string): string => {
  const known = fixedWord<string, string | null>(t.fileProblem, problem, null);
  return known ?? (t.lang === 'en' ? escapeHtml(problem) : `<span lang="en">${escapeHtml(problem)}</span>`);
};

/** A "path: not available (why)" or "path: unreadable (...)" problem of run.ts, the path and its reason apart. */
const runProblem = (t: ReportText, problem: string): string => {
  if (t.lang === 'en') return escapeHtml(problem);
  const m = /^(.*): not available \((.*)\)$/.exec(problem);
  return m ? t.notAvailable(escapeHtml(m[1]), fileProblem(t, m[2]!)) : `<span lang="en">${escapeHtml(problem)}</span>`;
};

function reasonsList(t: ReportText, r: CheckResult): string {
  const retried = (r.brokenAttempts ?? []).map((a) => {
    const first = a.reasons[0];
    return `<li class="retried">${t.runAgainAfter} ${first === undefined ? '<code>broken</code>' : reasonHtml(t, first)}</li>`;
  });
  if (r.reasons.length === 0 && retried.length === 0) return '';
  return `<ul class="reasons">${r.reasons.map((x) => `<li>${reasonHtml(t, x)}</li>`).join('')}${retried.join('')}</ul>${(r.appLogs ?? []).map((l) => appLogHtml(t, l)).join('')}`;
}

/** An inconclusive app check's own log: the device's words, always escaped, never translated. */
function appLogHtml(t: ReportText, appLog: AppLog): string {
  const command = `<code>${escapeHtml(appLog.command.join(' '))}</code>`;
  if (appLog.error !== null || appLog.file === null)
    return `<p class="app-log">${t.appLogUnread(command, `<span lang="en">${escapeHtml(appLog.error ?? '')}</span>`)}</p>`;
  return `<div class="app-log"><p>${t.appLogHeading(command, appLog.tail.length, appLog.lines)}</p><pre lang="en">${escapeHtml(appLog.tail.join('\n'))}</pre></div>`;
}

const STATUSES = ['passed', 'failed', 'broken', 'skipped'] as const;
const countsOf = (results: readonly CheckResult[]) =>
  Object.fromEntries(STATUSES.map((s) => [s, results.filter((r) => r.status === s).length])) as Record<(typeof STATUSES)[number], number>;

/** Which is worse, for a requirement's verdict over several results: a failure first, then what proves nothing, then a warning. */
const SEVERITY: Record<Outcome, number> = { fail: 6, broken: 5, inconclusive: 4, skipped: 3, unknown: 2, warn: 1, pass: 0 };

/** An id for a test item's row, the same wherever it is linked from. */
const itemId = (r: Pick<CheckResult, 'device' | 'check' | 'app' | 'network'>): string =>
  r.app === null ? `item-${r.device}-${r.check}-${r.network}` : `app-${r.device}-${r.network}-${r.app}`;

export interface HtmlReportOptions {
  compare?: { dir: string; changes: ComparedCheck[] };
  /** The allow-list and the selected checks the overall verdict is judged with. */
  verdict?: VerdictOptions;
  /** The language the page is written in. @default 'en' */
  lang?: Lang;
}

export function renderHtmlReport(run: RunView, options: HtmlReportOptions = {}): string {
  // A language the catalogue does not have (a caller's typo past the types) is English, never a page of undefined.
  const lang: Lang = options.lang === 'zh-CN' ? 'zh-CN' : 'en';
  const t = reportText(lang);
  const { results: doc } = run;
  const byDevice = (serial: string) => doc.results.filter((r) => r.device === serial);
  const apps = [...new Set(doc.results.filter((r) => r.app !== null).map((r) => r.app!))].sort();
  const columns = doc.devices.flatMap((d) =>
    (['ipv6', 'ipv4v6'] as const)
      .filter((n) => doc.results.some((r) => r.device === d.serial && r.app !== null && r.network === n))
      .map((n) => ({ device: d, network: n })),
  );
  const judged = judgeRun(doc, options.verdict);
  const overall = judged.verdict;
  const verdictOf = (serial: string): DeviceVerdict => judged.devices.find((d) => d.device === serial)!;
  const requirements = requirementViews(lang);
  const knownRequirements = new Map(requirements.map((r) => [r.id, r]));
  const out: string[] = [];

  out.push(`<header><h1>${t.title}</h1>
<p class="overall">${t.overallLabel}${t.colon}${overallBadge(
    t,
    overall,
    judged.devices.reduce((n, d) => n + d.warnings, 0),
  )}</p>${overall === 'incomplete' ? `\n<p class="overall-why">${t.incompleteWhy(judged.missing.length)}</p>` : ''}</header>`);

  // The run: who tested, where, when, with what.
  const given = (value: string | undefined) => (value === undefined || value === '' ? `<span class="muted">${t.notGiven}</span>` : escapeHtml(value));
  out.push(`<section aria-labelledby="run-h"><h2 id="run-h">${t.runInfoHeading}</h2><div class="scroll"><table class="run-info"><tbody>
<tr><th scope="row">${t.runId}</th><td><code>${escapeHtml(doc.run.id)}</code></td></tr>
<tr><th scope="row">${t.started}</th><td>${escapeHtml(doc.run.started)}</td></tr>
<tr><th scope="row">${t.finished}</th><td>${doc.run.finished === null ? `<strong>${t.notFinished}</strong>` : escapeHtml(doc.run.finished)}</td></tr>
<tr><th scope="row">${t.tool}</th><td>${escapeHtml(doc.run.tool.name)} ${escapeHtml(doc.run.tool.version)}</td></tr>
<tr><th scope="row">${t.labName}</th><td>${given(doc.run.labName)}</td></tr>
<tr><th scope="row">${t.tester}</th><td>${given(doc.run.tester)}</td></tr>
<tr><th scope="row">${t.notes}</th><td class="notes">${given(doc.run.notes)}</td></tr>
</tbody></table></div>${
    doc.run.merged
      ? `\n<p class="meta" id="merged">${t.merged(
          doc.run.merged.length,
          doc.run.merged.map((m) => `<code>${escapeHtml(m.dir)}</code> (${escapeHtml(m.started)}, v6lab ${escapeHtml(m.tool)})`).join(t.listSep),
        )}</p>`
      : ''
  }</section>`);

  // What has no verdict, and what the run accepted without one.
  if (judged.missing.length > 0) {
    out.push(
      `<section aria-labelledby="missing-h"><h2 id="missing-h">${t.missingHeading}</h2>${checkTable(t, 'missing', t.missingCaption(judged.missing.length), judged.missing)}</section>`,
    );
  }
  if (judged.accepted.length > 0) {
    out.push(
      `<section aria-labelledby="accepted-h"><h2 id="accepted-h">${t.acceptedHeading}</h2><p>${t.acceptedText(escapeHtml(judged.allowSkip.join(',')))}</p>${checkTable(t, 'accepted', t.acceptedCaption(judged.accepted.length), judged.accepted)}</section>`,
    );
  }

  // First screen: a card per device, its identity in full.
  out.push(`<section aria-labelledby="devices-h"><h2 id="devices-h">${t.devicesHeading}</h2><div class="cards">`);
  for (const d of doc.devices) {
    const mine = byDevice(d.serial);
    const facts = run.facts.get(d.serial);
    const networks = [...new Set(mine.map((r) => r.network))].map((n) => networkName(t, n)).join(t.listSep);
    const verdict = verdictOf(d.serial);
    out.push(`<article class="card overall-${overallClass(verdict.verdict)}" data-device="${escapeHtml(d.serial)}"><h3><a href="#device-${escapeHtml(d.serial)}">${escapeHtml(d.model)}</a> ${overallBadge(t, verdict.verdict, verdict.warnings)}</h3>
<dl aria-label="${t.deviceIdentityCaption}"><dt>${t.identity.serial}</dt><dd><code>${escapeHtml(d.serial)}</code></dd><dt>${t.identity.android}</dt><dd>${escapeHtml(d.android)}${facts?.buildType ? ` (${escapeHtml(facts.buildType)})` : ''}</dd>
${identityRows(t, d)}<dt>${t.identity.profile}</dt><dd>${escapeHtml(d.profile)}${d.virtual ? t.virtualLab : ''}</dd><dt>${t.identity.testedOn}</dt><dd>${escapeHtml(networks || '–')}</dd>
<dt>${t.identity.checks}</dt><dd>${t.counts(countsOf(mine))}${verdict.accepted.length > 0 ? t.acceptedCount(verdict.accepted.length) : ''}</dd>${verdict.missing.length > 0 ? `<dt>${t.identity.noVerdict}</dt><dd>${t.noVerdictCount(verdict.missing.length)}</dd>` : ''}</dl></article>`);
  }
  out.push('</div></section>');

  if (options.compare) out.push(renderCompare(t, options.compare));

  // Fleet view: which checks fail on which models.
  if (doc.devices.length > 1) {
    const checks = [...new Set(doc.results.filter((r) => r.app === null).map((r) => `${r.check}|${r.network}`))];
    out.push(
      `<section aria-labelledby="fleet-h"><h2 id="fleet-h">${t.fleetHeading}</h2><div class="scroll"><table class="matrix"><thead><tr><th scope="col">${t.col.check}</th>${doc.devices.map((d) => `<th scope="col">${escapeHtml(d.model)}<br><small>${escapeHtml(d.serial)}${buildLabel(d) === null ? '' : `<br>${escapeHtml(buildLabel(d)!)}`}</small></th>`).join('')}</tr></thead><tbody>`,
    );
    for (const key of checks) {
      const [check, network] = key.split('|') as [string, string];
      out.push(
        `<tr><th scope="row">${escapeHtml(check)} <small>${escapeHtml(networkName(t, network))}</small></th>${doc.devices
          .map((d) => {
            const r = doc.results.find((x) => x.device === d.serial && x.check === check && x.network === network && x.app === null);
            return r ? `<td class="${outcomeOf(r)}">${badge(t, outcomeOf(r))}</td>` : '<td>–</td>';
          })
          .join('')}</tr>`,
      );
    }
    const appRow = doc.devices
      .map((d) => {
        const mine = byDevice(d.serial).filter((r) => r.app !== null);
        return `<td>${t.appsPass(countsOf(mine).passed, mine.filter((r) => r.status !== 'skipped').length)}</td>`;
      })
      .join('');
    out.push(`<tr><th scope="row">${t.appsRow}</th>${appRow}</tr></tbody></table></div></section>`);
  }

  // The app matrix.
  if (apps.length > 0) {
    out.push(
      `<section aria-labelledby="apps-h"><h2 id="apps-h">${t.appsHeading}</h2><div class="scroll"><table class="matrix" id="app-matrix"><thead><tr><th scope="col">${t.col.app}</th>${columns.map((c) => `<th scope="col">${escapeHtml(c.device.model)}<br><small>${escapeHtml(networkName(t, c.network))}</small></th>`).join('')}</tr></thead><tbody>`,
    );
    for (const app of apps) {
      out.push(
        `<tr><th scope="row">${escapeHtml(app)}</th>${columns
          .map((c) => {
            const r = doc.results.find((x) => x.device === c.device.serial && x.app === app && x.network === c.network);
            if (!r) return '<td>–</td>';
            const o = outcomeOf(r);
            return `<td class="${o}" data-app="${escapeHtml(app)}" data-device="${escapeHtml(c.device.serial)}" data-network="${escapeHtml(c.network)}"><a href="#${escapeHtml(itemId(r))}">${badge(t, o)}</a></td>`;
          })
          .join('')}</tr>`,
      );
    }
    out.push('</tbody></table></div></section>');
  }

  // Each device: its test items as a test form has them, then its apps in detail.
  for (const d of doc.devices) {
    const mine = byDevice(d.serial);
    const facts = run.facts.get(d.serial);
    out.push(
      `<section id="device-${escapeHtml(d.serial)}" aria-labelledby="device-${escapeHtml(d.serial)}-h"><h2 id="device-${escapeHtml(d.serial)}-h">${t.testItemsHeading}${t.colon}${escapeHtml(d.model)} <small>${escapeHtml(d.serial)}${buildLabel(d) === null ? '' : `${t.comma}${t.buildWord} ${escapeHtml(buildLabel(d)!)}`}</small> ${overallBadge(t, verdictOf(d.serial).verdict, verdictOf(d.serial).warnings)}</h2>`,
    );
    if (facts) {
      const net = facts.defaultNetwork;
      out.push(
        `<p class="facts">${t.facts({
          maker: escapeHtml(`${facts.manufacturer ?? ''} ${facts.model ?? ''}`.trim()),
          android: escapeHtml(facts.android ?? '?'),
          buildType: escapeHtml(facts.buildType ?? '?'),
          root: escapeHtml(facts.root ?? t.none),
          apn: `<code>${escapeHtml(net?.apn ?? '–')}</code>`,
          nat64: `<code>${escapeHtml(net?.nat64Prefix ?? '–')}</code>`,
          clat: net?.clat ? `<code>${escapeHtml(net.clat.interfaceName)} ${escapeHtml(net.clat.ipv4 ?? '')}</code>` : t.none,
        })}</p>`,
      );
    }
    if (mine.length > 0) {
      out.push(
        `<div class="scroll"><table class="requirements items"><caption>${t.testItemsCaption(escapeHtml(d.model))}</caption><thead><tr><th scope="col">${t.col.testCase}</th><th scope="col">${t.col.purpose}</th><th scope="col">${t.col.network}</th><th scope="col">${t.col.expected}</th><th scope="col">${t.col.actual}</th><th scope="col">${t.col.conclusion}</th><th scope="col">${t.col.requirement}</th></tr></thead><tbody>`,
      );
      for (const r of [...mine.filter((x) => x.app === null), ...mine.filter((x) => x.app !== null)]) out.push(testItemRow(t, run, r, knownRequirements));
      out.push('</tbody></table></div>');
    }
    const appResults = mine.filter((x) => x.app !== null);
    if (appResults.length > 0) {
      out.push(`<h3>${t.appResultsHeading}</h3>`);
      for (const r of appResults) out.push(appDetails(t, run, r));
    }
    out.push('</section>');
  }

  out.push(renderRequirements(t, doc.devices, doc.results, requirements));

  if (run.problems.length > 0)
    out.push(
      `<section><h2>${t.problemsHeading}</h2><ul>${run.problems.map((p) => `<li${t.lang === 'en' ? '' : ' lang="en"'}>${escapeHtml(p)}</li>`).join('')}</ul></section>`,
    );
  out.push(`<footer><p>${t.footer(`${escapeHtml(doc.run.tool.name)} ${escapeHtml(doc.run.tool.version)}`)}</p></footer>`);

  const models = [...new Set(doc.devices.map((d) => d.model))].join(t.listSep);
  return htmlPage(t.pageTitle(models, t.overall[overallClass(overall)]), out.join('\n'), {
    lang,
    printHeader: { left: models, right: t.printRun(doc.run.id), footer: t.title },
  });
}

/** One test item: test case, purpose, network, expected result, actual result with its evidence, conclusion, requirements. */
function testItemRow(t: ReportText, run: RunView, r: CheckResult, known: ReadonlyMap<string, RequirementView>): string {
  const def = checkDefinition(r.check);
  const o = outcomeOf(r);
  const testCase = testCaseOf(def);
  const expected = fixedWord<string, Localized | null>(EXPECTED, r.check, null);
  const title = checkTitle(def, t.lang);
  let actual: string;
  if (r.app === null) {
    const evidence = run.checks.get(resultKey(r));
    const shown =
      evidence === undefined
        ? ''
        : 'problem' in evidence
          ? `<p class="unavailable">${t.evidenceUnavailable(runProblem(t, evidence.problem))}</p>`
          : `<details class="evidence"><summary>${t.evidenceWord}</summary><pre>${escapeHtml(JSON.stringify(evidence.evidence, null, 2))}</pre></details>`;
    actual = `${badge(t, o)}${reasonsList(t, r) || (o === 'pass' ? ` ${t.asExpected}` : '')}${shown}${r.evidence.length > 0 ? `<p class="files">${evidenceLinks(t, r.evidence, run.evidence)}</p>` : ''}`;
  } else {
    const share = typeof r.metrics.nativeV6ByteShare === 'number' ? t.nativeShare((r.metrics.nativeV6ByteShare * 100).toFixed(0)) : '';
    actual = `${badge(t, o)}${escapeHtml(share)}${reasonsList(t, r)} <a href="#${escapeHtml(itemId(r))}">${t.appDetails}</a>`;
  }
  const app = r.app === null ? '' : `<br><strong>${escapeHtml(r.app)}</strong>`;
  return `<tr class="${o}" id="${escapeHtml(r.app === null ? itemId(r) : `item-${itemId(r)}`)}" data-check="${escapeHtml(r.check)}"${r.app === null ? '' : ` data-app="${escapeHtml(r.app)}"`}><th scope="row">${testCase === null ? '' : `${escapeHtml(testCase)}<br>`}<small><code>${escapeHtml(r.check)}</code></small>${app}</th><td>${title === null ? '–' : escapeHtml(title)}</td><td>${escapeHtml(networkName(t, r.network))}</td><td>${expected === null ? escapeHtml(title ?? '–') : escapeHtml(expected[t.lang])}</td>
<td>${actual}</td><td class="conclusion">${t.conclusion[o]}</td><td>${requirementCells(t, r.check, r.requirement, known)}</td></tr>`;
}

/** An app's result in detail: its reasons, bytes by path, timeline, per-page shares and repeated runs. */
function appDetails(t: ReportText, run: RunView, r: CheckResult): string {
  const found = run.apps.get(resultKey(r));
  const evidence = found === undefined || 'problem' in found ? undefined : found;
  const label = t.appOnNetwork(r.app ?? '', networkName(t, r.network));
  const share = typeof r.metrics.nativeV6ByteShare === 'number' ? t.nativeShare((r.metrics.nativeV6ByteShare * 100).toFixed(0)) : '';
  const o = outcomeOf(r);
  return `<details class="app ${o}" id="${escapeHtml(itemId(r))}"${o === 'fail' ? ' open' : ''}><summary>${badge(t, o)} ${t.appSummary(escapeHtml(r.app), escapeHtml(networkName(t, r.network)))}${escapeHtml(share)}</summary>
${reasonsList(t, r) || `<p>${t.noAppFault}</p>`}
${evidence ? pathBar(evidence, label, t.lang) + timeline(evidence, label, undefined, t.lang) : ''}${found !== undefined && 'problem' in found ? `<p class="unavailable">${t.analysisProblem(runProblem(t, found.problem))}</p>` : ''}
${r.pages && r.pages.length > 0 ? pagesTable(t, r.pages, (r.runs?.length ?? 0) > 1 || new Set(r.pages.map((p) => p.run)).size > 1) : ''}${r.runs && r.runs.length > 0 ? runsTable(t, r.runs, run.evidence) : ''}
${r.evidence.length > 0 ? `<p class="files">${t.evidenceFiles}${evidenceLinks(t, r.evidence, run.evidence)}${evidence ? t.attributionBy(fixedWord<string, string | null>(t.attribution, evidence.attribution, null) ?? escapeHtml(evidence.attribution)) : ''}</p>` : ''}</details>`;
}

const PATH_KEY: Record<PathName, PathName> = { 'native-v6': 'native-v6', nat64: 'nat64', clat: 'clat', 'native-v4': 'native-v4' };

/** Each path's share of some bytes, by the fixed paths only. */
function pathShares(bytesByPath: Record<PathName, number>): Record<PathName, number | null> {
  const total = PATHS.reduce((n, p) => n + (Number.isFinite(bytesByPath[p]) ? bytesByPath[p] : 0), 0);
  return Object.fromEntries(PATHS.map((p) => [p, total > 0 ? bytesByPath[p] / total : null])) as Record<PathName, number | null>;
}

/** Per page of the app's flow: the IPv6 share (native, NAT64 and CLAT apart) and the hosts still over IPv4 or NAT64, largest first. */
function pagesTable(t: ReportText, pages: readonly PageShare[], showRun: boolean): string {
  const rows = pages
    .map((p) => {
      const shares = pathShares(p.bytes);
      const hosts = [...p.ipv4Hosts].sort((a, b) => b.bytes - a.bytes);
      const list =
        hosts.length === 0
          ? `<span class="muted">${t.noIpv4Hosts}</span>`
          : `<ol class="hosts">${hosts.map((h) => `<li><code>${escapeHtml(h.host)}</code> ${t.path[fixedWord(PATH_KEY, h.path, 'native-v4')]} · ${bytes(h.bytes)} · ${percent(h.share)}</li>`).join('')}</ol>`;
      return `<tr data-page="${escapeHtml(p.page)}"><th scope="row">${escapeHtml(p.page)}</th>${showRun ? `<td>${escapeHtml(p.run)}</td>` : ''}${
        // Native IPv6 is the page's judged share as recorded; the other paths' shares from its bytes.
        p.ipv6Share === null
          ? `<td colspan="${PATHS.length}" class="muted">${t.pagesNoBytes}</td>`
          : PATHS.map((k) => `<td>${percent(k === 'native-v6' ? p.ipv6Share : shares[k])}</td>`).join('')
      }<td>${bytes(PATHS.reduce((n, k) => n + (Number.isFinite(p.bytes[k]) ? p.bytes[k] : 0), 0))}</td><td>${list}</td></tr>`;
    })
    .join('');
  return `<div class="scroll"><table class="pages"><caption>${t.pagesCaption}</caption><thead><tr><th scope="col">${t.col.page}</th>${showRun ? `<th scope="col">${t.col.run}</th>` : ''}${PATHS.map((k) => `<th scope="col">${t.path[k]}</th>`).join('')}<th scope="col">${t.col.bytes}</th><th scope="col">${t.col.hostsOverIpv4}</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** The app's repeated runs (`--app-runs N`): each run's verdict and native IPv6 share, and their mean. */
function runsTable(t: ReportText, runs: readonly AppRun[], available: RunView['evidence']): string {
  const shares = runs.map((r) => r.ipv6Share).filter((s): s is number => typeof s === 'number' && Number.isFinite(s));
  const mean = shares.length === 0 ? null : shares.reduce((a, b) => a + b, 0) / shares.length;
  const rows = runs
    .map((r) => {
      const o = fixedWord(OUTCOME_OF_VERDICT, r.verdict, 'unknown');
      const total = PATHS.reduce((n, p) => n + (Number.isFinite(r.bytes[p]) ? r.bytes[p] : 0), 0);
      return `<tr class="${o}" data-run="${escapeHtml(r.run)}"><th scope="row">${escapeHtml(r.run)}</th><td>${badge(t, o)}</td><td>${percent(r.ipv6Share)}</td><td>${bytes(total)}</td><td class="files">${evidenceLinks(t, r.evidence, available)}</td></tr>`;
    })
    .join('');
  return `<div class="scroll"><table class="runs"><caption>${t.runsCaption(runs.length)}</caption><thead><tr><th scope="col">${t.col.run}</th><th scope="col">${t.col.verdict}</th><th scope="col">${t.col.ipv6Share}</th><th scope="col">${t.col.bytes}</th><th scope="col">${t.col.evidence}</th></tr></thead><tbody>${rows}</tbody><tfoot><tr><th scope="row">${t.mean}</th><td></td><td>${percent(mean)}</td><td></td><td></td></tr></tfoot></table></div>`;
}

/**
 * The traceability matrix: each requirement (its own anchor, id, document, clause, title and
 * summary in full, for paper has no tooltips), the checks that prove it, and each check's verdict
 * on each device, linked to the test item. An app check's verdict on a device is its worst over
 * the apps.
 */
function renderRequirements(t: ReportText, devices: readonly RunDevice[], results: readonly CheckResult[], requirements: readonly RequirementView[]): string {
  const cell = (device: RunDevice, check: string, network: string): string => {
    const mine = results.filter((r) => r.device === device.serial && r.check === check && r.network === network);
    if (mine.length === 0) return `<td class="not-run">${t.notRun}</td>`;
    const worst = mine.map((r) => ({ r, o: outcomeOf(r) })).sort((a, b) => SEVERITY[b.o] - SEVERITY[a.o])[0]!;
    const passing = mine.filter((r) => r.status === 'passed').length;
    const apps = mine.some((r) => r.app !== null) ? ` <small>${passing} / ${mine.length}</small>` : '';
    const target = worst.r.app === null ? itemId(worst.r) : `item-${itemId(worst.r)}`;
    return `<td class="${worst.o}"><a href="#${escapeHtml(target)}">${badge(t, worst.o)}</a>${apps}</td>`;
  };
  const body = requirements
    .map((q) => {
      const checks = q.checks.flatMap((id) => {
        const def = checkDefinition(id);
        return (def === undefined ? (['ipv4v6'] as const) : networksOf(def)).map((network) => ({ id, def, network }));
      });
      const head = `<th scope="rowgroup" rowspan="${Math.max(checks.length, 1)}" class="requirement-text"><strong class="requirement-id">${escapeHtml(q.id)}</strong><br><span class="document">${escapeHtml(q.document)}${t.listSep}${escapeHtml(q.clause)}</span><br><span class="requirement-title">${escapeHtml(q.title)}</span><p class="summary">${escapeHtml(q.summary)}</p></th>`;
      if (checks.length === 0)
        return `<tbody id="${escapeHtml(q.anchor)}" class="requirement"><tr>${head}<td colspan="${devices.length + 2}" class="muted">${escapeHtml(q.notChecked ?? t.noCheck)}</td></tr></tbody>`;
      const rows = checks.map(
        (c, i) =>
          `<tr data-requirement="${escapeHtml(q.id)}" data-check="${escapeHtml(c.id)}">${i === 0 ? head : ''}<td>${testCaseOf(c.def) === null ? '' : `${escapeHtml(testCaseOf(c.def))}<br>`}<small><code>${escapeHtml(c.id)}</code></small><br>${escapeHtml(checkTitle(c.def, t.lang) ?? '')}</td><td>${escapeHtml(networkName(t, c.network))}</td>${devices.map((d) => cell(d, c.id, c.network)).join('')}</tr>`,
      );
      return `<tbody id="${escapeHtml(q.anchor)}" class="requirement">${rows.join('')}</tbody>`;
    })
    .join('\n');
  return `<section aria-labelledby="requirements-h" id="requirements"><h2 id="requirements-h">${t.requirementsHeading}</h2><p class="intro">${t.requirementsIntro}</p><div class="scroll"><table class="trace"><thead><tr><th scope="col">${t.col.requirement}</th><th scope="col">${t.col.check}</th><th scope="col">${t.col.network}</th>${devices.map((d) => `<th scope="col">${escapeHtml(d.model)}<br><small>${escapeHtml(d.serial)}</small></th>`).join('')}</tr></thead>
${body}</table></div></section>`;
}

/** The page's one script: a printed report shows every app's details. */
const PRINT_SCRIPT = "addEventListener('beforeprint', () => document.querySelectorAll('details').forEach((d) => { d.open = true; }));";

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * Nothing loads and nothing runs but the page's own styles and script, each allowed by its hash:
 * were a value ever to slip past escaping, its script, inline handler, style or image would not
 * run or load. No style attributes are used (they would need 'unsafe-inline').
 */
export const contentSecurityPolicy = (styles: readonly string[] = [CSS]): string =>
  `default-src 'none'; style-src ${styles.map(sha256).join(' ')}; script-src ${sha256(PRINT_SCRIPT)}; img-src 'none'; base-uri 'none'; form-action 'none'`;

/**
 * A text as a CSS string literal: every character but plain letters, digits and spaces as a hex
 * escape, so no value can end the string, the rule or the `<style>` element it is in.
 */
export const cssString = (text: string): string =>
  `"${[...text].map((c) => (/^[A-Za-z0-9 ]$/.test(c) ? c : `\\${c.codePointAt(0)!.toString(16)} `)).join('')}"`;

export interface HtmlPageOptions {
  /** @default 'en' */
  lang?: Lang;
  /** What each printed page's header says (left: the devices; right: the run). */
  printHeader?: { left: string; right: string; footer: string };
}

/** The page around a report's body: its styles inline, nothing loaded from anywhere. */
export function htmlPage(title: string, body: string, options: HtmlPageOptions = {}): string {
  const lang = options.lang ?? 'en';
  // The printed page's margin boxes (Chromium 131+): the devices and the run on top, page numbers below.
  const page = options.printHeader
    ? `@page { @top-left { content: ${cssString(options.printHeader.left)}; } @top-right { content: ${cssString(options.printHeader.right)}; } @bottom-left { content: ${cssString(options.printHeader.footer)}; } }`
    : '';
  const styles = page === '' ? [CSS] : [CSS, page];
  return `<!doctype html>
<html lang="${lang === 'zh-CN' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(styles))}"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
${styles.map((s) => `<style>${s}</style>`).join('\n')}</head>
<body><main>
${body}
</main>
<script>${PRINT_SCRIPT}</script>
</body></html>
`;
}

const CHANGE: Record<ComparedCheck['change'], ChangeWord> = {
  regressed: 'regressed',
  fixed: 'fixed',
  changed: 'changed',
  new: 'new',
  gone: 'gone',
};

/**
 * A device card's identity rows (build, build id, incremental, fingerprint, security patch,
 * baseband, SIM operators, kernel), each escaped, "not reported" where the device did not say; a
 * run from before v6lab recorded them says so in one row.
 */
function identityRows(t: ReportText, d: RunDevice): string {
  const id = d.identity;
  if (id === undefined) return `<dt>${t.identity.build}</dt><dd>${t.identityNotRecorded}</dd>`;
  const row = (term: string, value: string | null, code = false) =>
    `<dt>${term}</dt><dd>${value === null ? `<span class="muted">${t.notReported}</span>` : code ? `<code>${escapeHtml(value)}</code>` : escapeHtml(value)}</dd>`;
  const sims = id.sims.map(
    (sim) => `${sim.name ?? '?'} (${sim.mcc === null ? '?' : `${sim.mcc}/${sim.mnc}`}${id.sims.length > 1 ? t.slot(sim.slot + 1) : ''})`,
  );
  return [
    row(t.identity.manufacturer, id.manufacturer),
    row(t.identity.build, buildLabel(d)),
    row(t.identity.buildId, id.buildId),
    row(t.identity.incremental, id.incremental),
    row(t.identity.fingerprint, id.fingerprint, true),
    row(t.identity.displayId, id.displayId),
    row(t.identity.securityPatch, id.securityPatch),
    row(t.identity.baseband, id.baseband),
    row(id.sims.length > 1 ? t.identity.sims : t.identity.sim, sims.length === 0 ? null : sims.join('; ')),
    row(t.identity.kernel, id.kernel),
  ].join('');
}

/**
 * compare.ts's words for the builds it compared (`fingerprint A -> B`, `fingerprint A (same build)`,
 * `fingerprint not recorded -> B`) in the reader's language; the fingerprints and serials as they are.
 */
function buildsIn(t: ReportText, builds: string): string {
  if (t.lang === 'en') return builds;
  return builds
    .replace(/^fingerprint not recorded -> /, `${t.identity.fingerprint}${t.colon}${t.notReported} → `)
    .replace(/^fingerprint /, `${t.identity.fingerprint}${t.colon}`)
    .replace(/ -> not recorded(?=, |$)/, ` → ${t.notReported}`)
    .replace(/ \(same build\)(?=, |$)/, t.sameBuild)
    .replaceAll(' -> ', ' → ');
}

function renderCompare(t: ReportText, compare: NonNullable<HtmlReportOptions['compare']>): string {
  const { changes } = compare;
  const word = (x: ComparedCheck['before']) => (x === null ? '–' : badge(t, outcomeOf(x)));
  const change = (c: ComparedCheck) => fixedWord(CHANGE, c.change, 'changed');
  const rows = changes
    .map(
      (c) =>
        `<tr class="change-${change(c)}" data-change="${change(c)}" data-app="${escapeHtml(c.app ?? '')}"><td><strong>${t.change[change(c)]}</strong></td><th scope="row">${escapeHtml(c.app ?? c.check)}</th><td>${escapeHtml(c.device)}${c.builds === null ? '' : `<br><small class="builds">${escapeHtml(buildsIn(t, c.builds))}</small>`}</td><td>${escapeHtml(networkName(t, c.network))}</td><td>${word(c.before)}</td><td>${word(c.after)}</td><td>${escapeHtml((c.after ?? c.before)?.reasons.map((r) => r.code).join(', ') ?? '')}</td></tr>`,
    )
    .join('');
  const counts = Object.fromEntries(
    (['regressed', 'fixed', 'changed', 'new', 'gone'] as const).map((k) => [k, changes.filter((c) => c.change === k).length]),
  ) as Record<ChangeWord, number>;
  return `<section aria-labelledby="compare-h"><h2 id="compare-h">${t.comparedWith(escapeHtml(compare.dir))}</h2><p>${t.compareCounts(counts)}</p>
${changes.length === 0 ? `<p>${t.noChange}</p>` : `<div class="scroll"><table id="compare"><thead><tr><th scope="col">${t.col.change}</th><th scope="col">${t.col.checkOrApp}</th><th scope="col">${t.col.device}</th><th scope="col">${t.col.network}</th><th scope="col">${t.col.before}</th><th scope="col">${t.col.now}</th><th scope="col">${t.col.reasonsNow}</th></tr></thead><tbody>${rows}</tbody></table></div>`}</section>`;
}

/** Contrast: every text colour on its background is at least 4.5:1 (WCAG AA). */
export const CSS = `
:root { --pass: #0b6b2e; --pass-bg: #e3f4e8; --warn: #7a4b00; --warn-bg: #fff1d6; --fail: #a3161b; --fail-bg: #fde4e4;
  --incomplete: #5a3e8c; --incomplete-bg: #efe8fa; --muted: #4d4d4d; --line: #c8c8c8; --v6: #1b5fb4; --nat64: #6a3fb0; --clat: #b0620f; --v4: #a3161b; }
* { box-sizing: border-box; }
body { margin: 0; overflow-wrap: anywhere; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; color: #161616; background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: 0.2rem 0; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 2px solid var(--line); }
.meta, .muted, small { color: var(--muted); }
code { font-size: 0.9em; }
.badge { display: inline-block; padding: 0 0.45em; border-radius: 0.3em; font-weight: 600; white-space: nowrap; border: 1px solid currentColor; }
.badge.pass { color: var(--pass); background: var(--pass-bg); } .badge.warn { color: var(--warn); background: var(--warn-bg); }
.badge.fail, .badge.broken, .badge.overall-fail, .badge.overall-not-run { color: var(--fail); background: var(--fail-bg); }
.badge.overall-pass { color: var(--pass); background: var(--pass-bg); } .badge.overall-incomplete { color: var(--incomplete); background: var(--incomplete-bg); border-style: dashed; } .badge.inconclusive, .badge.skipped, .badge.unknown { color: var(--muted); background: #f0f0f0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(360px, 100%), 1fr)); gap: 0.8rem; }
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
td.status { white-space: nowrap; } table.run-info { width: auto; } table.run-info th { background: #f4f4f4; white-space: nowrap; } td.notes { white-space: pre-wrap; }
table.items td.conclusion { white-space: nowrap; font-weight: 600; } tr.fail td.conclusion { color: var(--fail); } tr.pass td.conclusion { color: var(--pass); }
table.trace th.requirement-text { font-weight: normal; min-width: 16rem; } table.trace .requirement-id { font-size: 1.05em; }
table.trace .document { color: var(--muted); } table.trace p.summary { margin: 0.3rem 0 0; } table.trace tbody.requirement { border-top: 2px solid var(--line); }
table.trace td { text-align: center; } table.trace td:nth-child(-n+2) { text-align: left; } td.not-run { color: var(--muted); }
:target { outline: 3px solid var(--v6); outline-offset: -3px; }
ol.hosts { margin: 0; padding-left: 1.3rem; } table.pages td, table.runs td { white-space: nowrap; } table.pages td:last-child { white-space: normal; }
/* Paper: A4, the devices and the run atop every page, its number below (the margin boxes' content is set per report). */
@page { size: A4; margin: 18mm 12mm 16mm;
  @top-left { font: 8pt sans-serif; color: #4d4d4d; } @top-right { font: 8pt sans-serif; color: #4d4d4d; }
  @bottom-left { font: 8pt sans-serif; color: #4d4d4d; }
  @bottom-right { content: counter(page) " / " counter(pages); font: 8pt sans-serif; color: #4d4d4d; } }
@media print {
  body { font-size: 9.5pt; } main { max-width: none; padding: 0; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  .scroll { overflow: visible; } a { color: inherit; text-decoration: none; }
  thead { display: table-header-group; } tfoot { display: table-footer-group; }
  tr, .card, figure.chart, caption, details.app > summary { break-inside: avoid; }
  h2, h3, caption { break-after: avoid; }
  h2 { margin-top: 1.2rem; }
  pre { max-height: none; overflow: visible; font-size: 7pt; }
  p.intro { break-after: avoid; }
  /* Every details element printed open, even where no script ran before printing. */
  details::details-content { content-visibility: visible; display: block; }
  details > summary { list-style: none; } details > summary::-webkit-details-marker { display: none; }
  :target { outline: none; }
}
`;
