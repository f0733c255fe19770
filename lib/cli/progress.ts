/**
 * What `certify` shows while a run goes, read from results.json as the workers write it: per
 * device the check it is on (suite, app, network), a bar of its checks, elapsed time and an
 * estimate. On a terminal the lines are redrawn in place, in colour; in a CI log each result is
 * one line; `--quiet` prints nothing until the summary; `--json` prints one JSON object a line
 * (`result`, `progress`, `done` events) for machines.
 */
import { CHECKS, networksOf } from '../checks/requirements.js';
import type { CatalogueApp } from '../harness/catalogue.js';
import type { CertifyPlan } from '../harness/plan.js';
import { printable, printableJson } from '../net/printable.js';
import { readResults, type CheckResult } from '../report/results.js';

export type ProgressMode = 'tty' | 'lines' | 'quiet' | 'json';

interface Expected {
  check: string;
  app: string | null;
  network: string;
  suite: string;
}

/** The checks a device runs, in the order the specs run them (the catalogue's: an app check once per network, then per app). */
export function expectedChecks(plan: Pick<CertifyPlan, 'suites'>, apps: readonly CatalogueApp[]): Expected[] {
  const out: Expected[] = [];
  for (const suite of ['os', 'apn', 'apps'] as const) {
    if (!plan.suites.includes(suite)) continue;
    for (const check of CHECKS.filter((c) => c.suite === suite)) {
      for (const network of networksOf(check)) {
        for (const app of check.perApp ? apps.map((a) => a.package) : [null]) out.push({ check: check.id, app, network, suite });
      }
    }
  }
  return out;
}

const COLOUR = { passed: '\x1b[32m', failed: '\x1b[31m', broken: '\x1b[35m', skipped: '\x1b[90m', reset: '\x1b[0m', dim: '\x1b[2m' } as const;

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export class Progress {
  private readonly started = Date.now();
  private readonly seen = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private drawn = 0;

  constructor(
    private readonly plan: CertifyPlan,
    private readonly expected: readonly Expected[],
    private readonly mode: ProgressMode,
    private readonly out: NodeJS.WritableStream,
  ) {}

  start(): void {
    if (this.mode === 'quiet') return;
    this.timer = setInterval(() => this.tick(), this.mode === 'tty' ? 500 : 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.mode !== 'quiet') this.tick();
  }

  /** Stops redrawing while a person is asked something on the terminal (`apnSwitch: manual`). */
  hold(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // The next draw starts below the question, instead of over it.
    this.drawn = 0;
  }

  /** Redraws again after hold(). */
  release(): void {
    if (this.timer === null) this.start();
  }

  get elapsedMs(): number {
    return Date.now() - this.started;
  }

  private tick(): void {
    let results: readonly CheckResult[];
    try {
      results = readResults(this.plan.runDir).results;
    } catch {
      return;
    }
    const key = (r: { device: string; check: string; app: string | null; network: string }) => `${r.device}|${r.check}|${r.app ?? ''}|${r.network}`;
    const fresh = results.filter((r) => !this.seen.has(key(r)));
    for (const r of fresh) this.seen.add(key(r));
    const elapsed = Date.now() - this.started;
    if (this.mode === 'lines' || this.mode === 'json') {
      for (const r of fresh) {
        if (this.mode === 'json')
          this.out.write(
            `${printableJson({ event: 'result', elapsedMs: elapsed, device: r.device, check: r.check, app: r.app, network: r.network, status: r.status, verdict: r.verdict, reasons: r.reasons.map((x) => x.code) })}\n`,
          );
        // results.json is written from what phones said: its fields are shown, never obeyed
        else
          this.out.write(
            `[${duration(elapsed)}] ${printable(`${r.device} ${r.check}${r.app ? ` ${r.app}` : ''} [${r.network}]: ${r.status}${r.verdict ? ` (${r.verdict})` : ''}${r.reasons.length > 0 ? ` ${r.reasons.map((x) => x.code).join(', ')}` : ''}`)}\n`,
          );
      }
      if (this.mode === 'json' && fresh.length > 0) {
        for (const d of this.plan.devices) {
          const { done, total, eta } = this.counts(results, d.serial, elapsed);
          this.out.write(`${printableJson({ event: 'progress', device: d.serial, done, total, elapsedMs: elapsed, etaMs: eta })}\n`);
        }
      }
      return;
    }
    // A terminal: one line per device, redrawn.
    const lines = this.plan.devices.map((d) => {
      const { done, total, eta, next } = this.counts(results, d.serial, elapsed);
      const width = 24;
      const filled = total === 0 ? width : Math.round((done / total) * width);
      const mine = results.filter((r) => r.device === d.serial);
      const failed = mine.filter((r) => r.status === 'failed' || r.status === 'broken').length;
      const where = next === null ? 'done' : printable(`${next.suite}: ${next.app ?? next.check} [${next.network}]`);
      return `${printable(d.serial).padEnd(16)} ${COLOUR.passed}${'█'.repeat(filled)}${COLOUR.dim}${'░'.repeat(width - filled)}${COLOUR.reset} ${String(done).padStart(3)}/${total} ${failed > 0 ? `${COLOUR.failed}${failed} failed${COLOUR.reset} ` : ''}${where}  ${COLOUR.dim}${duration(elapsed)}${eta === null ? '' : `, ~${duration(eta)} left`}${COLOUR.reset}`;
    });
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A`);
    for (const line of lines) this.out.write(`\x1b[2K${line}\n`);
    this.drawn = lines.length;
  }

  private counts(results: readonly CheckResult[], serial: string, elapsed: number): { done: number; total: number; eta: number | null; next: Expected | null } {
    const mine = new Set(results.filter((r) => r.device === serial).map((r) => `${r.check}|${r.app ?? ''}|${r.network}`));
    const done = this.expected.filter((e) => mine.has(`${e.check}|${e.app ?? ''}|${e.network}`)).length;
    const next = this.expected.find((e) => !mine.has(`${e.check}|${e.app ?? ''}|${e.network}`)) ?? null;
    const total = this.expected.length;
    return { done, total, eta: done === 0 || next === null ? null : Math.round((elapsed / done) * (total - done)), next };
  }
}
