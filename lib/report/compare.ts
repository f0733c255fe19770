/**
 * Two runs compared check by check (`v6lab report DIR --compare OLD`): what regressed, what got
 * fixed, what is new or gone. A check is matched by device, check id, app and network; a device
 * is the same device when its serial matches, else when its model and profile do (a new build
 * flashed on another unit of the same model). A regression is a worse verdict, or a check that
 * passed and is now skipped or broken; `report --compare` exits 1 on any.
 */
import type { CheckResult, RunResults } from './results.js';

export type Change = 'regressed' | 'fixed' | 'changed' | 'new' | 'gone';

export interface ComparedCheck {
  change: Change;
  device: string;
  check: string;
  app: string | null;
  network: string;
  before: Pick<CheckResult, 'status' | 'verdict' | 'reasons'> | null;
  after: Pick<CheckResult, 'status' | 'verdict' | 'reasons'> | null;
}

/** How bad an outcome is: the higher, the worse. Skipped and broken say nothing of the device. */
function badness(r: Pick<CheckResult, 'status' | 'verdict'>): number | null {
  if (r.status === 'skipped' || r.status === 'broken') return null;
  if (r.verdict !== null) return { pass: 0, warn: 1, inconclusive: 2, fail: 3 }[r.verdict];
  return r.status === 'passed' ? 0 : 3;
}

const reasonCodes = (r: Pick<CheckResult, 'reasons'>) =>
  r.reasons
    .map((x) => x.code)
    .sort()
    .join(',');

export function compareRuns(current: RunResults, old: RunResults): ComparedCheck[] {
  // Old device -> current device: by serial, else by model and profile.
  const deviceOf = new Map<string, string>();
  for (const d of old.devices) {
    const same = current.devices.find((c) => c.serial === d.serial) ?? current.devices.find((c) => c.model === d.model && c.profile === d.profile);
    if (same) deviceOf.set(d.serial, same.serial);
  }
  const key = (device: string, r: CheckResult) => `${device}|${r.check}|${r.app ?? ''}|${r.network}`;
  const before = new Map(old.results.map((r) => [key(deviceOf.get(r.device) ?? `old:${r.device}`, r), r]));
  const out: ComparedCheck[] = [];
  const pick = (r: CheckResult) => ({ status: r.status, verdict: r.verdict, reasons: r.reasons });
  for (const r of current.results) {
    const k = key(r.device, r);
    const was = before.get(k);
    before.delete(k);
    const base = { device: r.device, check: r.check, app: r.app, network: r.network, after: pick(r) };
    if (!was) {
      out.push({ ...base, change: 'new', before: null });
      continue;
    }
    const [then, now] = [badness(was), badness(r)];
    let change: Change | null = null;
    if (then !== null && now !== null && now > then) change = 'regressed';
    else if (then !== null && now !== null && now < then) change = 'fixed';
    // A check that passed and now has no verdict lost what it proved: a new build that breaks the
    // check or no longer reaches its network must stop a pipeline like a failure would.
    else if (was.status === 'passed' && now === null) change = 'regressed';
    else if (then === null && r.status === 'passed') change = 'fixed';
    else if (was.status !== r.status || was.verdict !== r.verdict || reasonCodes(was) !== reasonCodes(r)) change = 'changed';
    if (change !== null) out.push({ ...base, change, before: pick(was) });
  }
  for (const [k, was] of before) {
    out.push({ change: 'gone', device: k.split('|')[0]!, check: was.check, app: was.app, network: was.network, before: pick(was), after: null });
  }
  const order: Record<Change, number> = { regressed: 0, fixed: 1, changed: 2, new: 3, gone: 4 };
  return out.sort(
    (a, b) =>
      order[a.change] - order[b.change] || a.device.localeCompare(b.device) || a.check.localeCompare(b.check) || (a.app ?? '').localeCompare(b.app ?? ''),
  );
}

const outcome = (x: ComparedCheck['before']): string => (x === null ? 'none' : `${x.status}${x.verdict === null ? '' : ` (${x.verdict})`}`);

/** One line per change: `regressed apps.ipv6-first com.example.maps [ipv6] on SERIAL: passed (pass) -> failed (fail): IPV4_FIRST`. */
export function describeChange(c: ComparedCheck): string {
  const codes = (c.after ?? c.before)?.reasons.map((r) => r.code).join(', ') ?? '';
  return `${c.change} ${c.check}${c.app === null ? '' : ` ${c.app}`} [${c.network}] on ${c.device}: ${outcome(c.before)} -> ${outcome(c.after)}${codes ? `: ${codes}` : ''}`;
}

/** The comparison as one JSON object for machines: each kind of change, in the order of compareRuns. */
export function changesJson(changes: readonly ComparedCheck[]): Record<'regressions' | 'fixed' | 'changed' | 'new' | 'gone', ComparedCheck[]> {
  const of = (kind: Change) => changes.filter((c) => c.change === kind);
  return { regressions: of('regressed'), fixed: of('fixed'), changed: of('changed'), new: of('new'), gone: of('gone') };
}
