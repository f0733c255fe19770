/**
 * Two runs compared check by check (`v6lab report DIR --compare OLD`): what regressed, what got
 * fixed, what is new or gone. A check is matched by device, check id, app and network; a device
 * is the same device when its serial matches, else when its model and profile do (a new build
 * flashed on another unit of the same model), a unit of the same build preferred. The serial says
 * which unit, not which build: each change says which builds it compared (`fingerprint A -> B`),
 * so a new firmware is never read as the old one. A regression is a worse verdict, or a check that
 * passed and is now skipped or broken; `report --compare` exits 1 on any.
 */
import { buildLabel, type CheckResult, type RunDevice, type RunResults } from './results.js';

export type Change = 'regressed' | 'fixed' | 'changed' | 'new' | 'gone';

export interface ComparedCheck {
  change: Change;
  device: string;
  check: string;
  app: string | null;
  network: string;
  before: Pick<CheckResult, 'status' | 'verdict' | 'reasons'> | null;
  after: Pick<CheckResult, 'status' | 'verdict' | 'reasons'> | null;
  /** Which builds were compared (ComparedDevice.builds); null when the check is only in one run. */
  builds: string | null;
}

/** An old run's device and the device of this run it was compared with. */
export interface ComparedDevice {
  before: string;
  after: string;
  /** `serial`: the same unit; `model`: another unit of the same model and profile. */
  matchedBy: 'serial' | 'model';
  /** Whether the fingerprints agree; `unknown` when a run did not record one (older results). */
  build: 'same' | 'different' | 'unknown';
  /**
   * What was compared, in words: `fingerprint A -> B`, `fingerprint A (same build)`,
   * `fingerprint not recorded -> B` (a run from before v6lab recorded builds), and the serials
   * when the units differ; null when neither run recorded a build and the unit is the same.
   */
  builds: string | null;
}

const fingerprintOf = (d: RunDevice): string | null => d.identity?.fingerprint ?? null;

/**
 * Pairs each old device with at most one of this run: the same serial first, then another unit
 * of the same model and profile, the same build preferred at each step.
 */
export function compareDevices(current: RunResults, old: RunResults): ComparedDevice[] {
  const taken = new Set<string>();
  const pairs = new Map<string, { after: RunDevice; matchedBy: ComparedDevice['matchedBy'] }>();
  const sameBuild = (a: RunDevice, b: RunDevice) => fingerprintOf(a) !== null && fingerprintOf(a) === fingerprintOf(b);
  const steps: [ComparedDevice['matchedBy'], (o: RunDevice, c: RunDevice) => boolean][] = [
    ['serial', (o, c) => c.serial === o.serial],
    ['model', (o, c) => c.model === o.model && c.profile === o.profile && sameBuild(o, c)],
    ['model', (o, c) => c.model === o.model && c.profile === o.profile],
  ];
  for (const [matchedBy, matches] of steps) {
    for (const o of old.devices) {
      if (pairs.has(o.serial)) continue;
      const same = current.devices.find((c) => !taken.has(c.serial) && matches(o, c));
      if (same === undefined) continue;
      taken.add(same.serial);
      pairs.set(o.serial, { after: same, matchedBy });
    }
  }
  return old.devices.flatMap((o) => {
    const pair = pairs.get(o.serial);
    if (pair === undefined) return [];
    const [a, b] = [fingerprintOf(o), fingerprintOf(pair.after)];
    const build: ComparedDevice['build'] = a === null || b === null ? 'unknown' : a === b ? 'same' : 'different';
    let builds: string | null = null;
    if (build === 'same') builds = `fingerprint ${a} (same build)`;
    else if (build === 'different') builds = `fingerprint ${a} -> ${b}`;
    else if (a !== null || b !== null) builds = a === null ? `fingerprint not recorded -> ${b}` : `fingerprint ${a} -> not recorded`;
    const units = pair.matchedBy === 'serial' ? null : `${o.serial} -> ${pair.after.serial}`;
    const described = [builds, units].filter((x) => x !== null).join(', ');
    return [{ before: o.serial, after: pair.after.serial, matchedBy: pair.matchedBy, build, builds: described === '' ? null : described }];
  });
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
  const devices = compareDevices(current, old);
  // Old device -> current device (compareDevices); and, per current device, the builds compared.
  const deviceOf = new Map(devices.map((d) => [d.before, d.after]));
  const buildsOf = new Map(devices.map((d) => [d.after, d.builds]));
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
      out.push({ ...base, change: 'new', before: null, builds: null });
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
    if (change !== null) out.push({ ...base, change, before: pick(was), builds: buildsOf.get(r.device) ?? null });
  }
  for (const [k, was] of before) {
    out.push({ change: 'gone', device: k.split('|')[0]!, check: was.check, app: was.app, network: was.network, before: pick(was), after: null, builds: null });
  }
  const order: Record<Change, number> = { regressed: 0, fixed: 1, changed: 2, new: 3, gone: 4 };
  return out.sort(
    (a, b) =>
      order[a.change] - order[b.change] || a.device.localeCompare(b.device) || a.check.localeCompare(b.check) || (a.app ?? '').localeCompare(b.app ?? ''),
  );
}

const outcome = (x: ComparedCheck['before']): string => (x === null ? 'none' : `${x.status}${x.verdict === null ? '' : ` (${x.verdict})`}`);

/**
 * One line per change: `regressed apps.ipv6-first com.example.maps [ipv6] on SERIAL (fingerprint
 * A -> B): passed (pass) -> failed (fail): IPV4_FIRST`.
 */
export function describeChange(c: ComparedCheck): string {
  const codes = (c.after ?? c.before)?.reasons.map((r) => r.code).join(', ') ?? '';
  const builds = c.builds === null ? '' : ` (${c.builds})`;
  return `${c.change} ${c.check}${c.app === null ? '' : ` ${c.app}`} [${c.network}] on ${c.device}${builds}: ${outcome(c.before)} -> ${outcome(c.after)}${codes ? `: ${codes}` : ''}`;
}

/** The comparison as one JSON object for machines: each kind of change, in the order of compareRuns. */
export function changesJson(changes: readonly ComparedCheck[]): Record<'regressions' | 'fixed' | 'changed' | 'new' | 'gone', ComparedCheck[]> {
  const of = (kind: Change) => changes.filter((c) => c.change === kind);
  return { regressions: of('regressed'), fixed: of('fixed'), changed: of('changed'), new: of('new'), gone: of('gone') };
}

/** One side of a comparison as a reader is told it: the run, and each device with the build it ran. */
export interface ComparedSide {
  run: string;
  dir: string;
  devices: { serial: string; model: string; fingerprint: string | null; build: string | null }[];
}

/** A run as one side of `report --compare`: its id, directory, and each device's model and fingerprint (null where not recorded). */
export function comparedSide(doc: RunResults, dir: string): ComparedSide {
  return {
    run: doc.run.id,
    dir,
    devices: doc.devices.map((d) => ({ serial: d.serial, model: d.model, fingerprint: fingerprintOf(d), build: buildLabel(d) })),
  };
}

/**
 * The two sides in lines, old first: `old: run ID (DIR): SERIAL MODEL fingerprint F`, so a
 * comparison always says which builds it compared, even when nothing changed.
 */
export function describeSides(old: ComparedSide, current: ComparedSide): string[] {
  const side = (label: string, s: ComparedSide) =>
    `${label}: run ${s.run} (${s.dir}): ${
      s.devices.map((d) => `${d.serial} ${d.model} ${d.fingerprint === null ? 'fingerprint not recorded' : `fingerprint ${d.fingerprint}`}`).join('; ') ||
      'no devices'
    }`;
  return [side('old', old), side('new', current)];
}
