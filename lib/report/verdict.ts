/**
 * The overall verdict of a device and of a run, from its results: the one rule the console
 * summary, the exit code, index.html, junit.xml and Allure all read.
 *
 * - `pass`: every selected check has a result, none failed, none was skipped or broken (except
 *   skips the run accepts, `--allow-skip CODE`), and at least one check passed: accepted skips
 *   alone prove nothing.
 * - `fail`: a check failed (a device fault, whatever else is missing).
 * - `incomplete`: nothing failed, but a check was skipped, broke or never ran: "nothing failed"
 *   is not "certified". Each such check is listed with why.
 * - `not-run`: no result at all, or every result broken: the run could not be carried out.
 */
import { message, reasonOf } from '../checks/messages.js';
import type { CheckResult, Reason, RunResults } from './results.js';

export type OverallVerdict = 'pass' | 'fail' | 'incomplete' | 'not-run';

/** A check's identity in a run. */
export interface CheckKey {
  device: string;
  check: string;
  app: string | null;
  network: string;
}

/** A check without a verdict: its result was skipped or broken, or the run selected it and it has no result. */
export interface MissingCheck extends CheckKey {
  status: 'skipped' | 'broken' | 'not-run';
  reasons: Reason[];
}

/** A skipped check whose reasons are all on the allow-list. */
export interface AcceptedSkip extends CheckKey {
  reasons: Reason[];
}

export interface VerdictOptions {
  /** Skip reason codes accepted on top of those the run recorded (`report --allow-skip`). @default [] */
  allowSkip?: readonly string[];
  /** The checks the run selected (its plan): one without a result is missing (`NOT_RUN`). @default the results alone */
  expected?: readonly CheckKey[];
}

export interface DeviceVerdict {
  device: string;
  verdict: OverallVerdict;
  failed: CheckResult[];
  missing: MissingCheck[];
  accepted: AcceptedSkip[];
  /** Passed results whose app verdict is `warn` (a pass, with something to look at). */
  warnings: number;
}

export interface RunVerdict {
  verdict: OverallVerdict;
  devices: DeviceVerdict[];
  failed: CheckResult[];
  missing: MissingCheck[];
  accepted: AcceptedSkip[];
  /** Every reason code accepted somewhere in the run (the run's, its merged runs', the report's). */
  allowSkip: string[];
}

const keyOf = (k: CheckKey): string => `${k.device}|${k.check}|${k.app ?? ''}|${k.network}`;
const identity = (r: CheckKey): CheckKey => ({ device: r.device, check: r.check, app: r.app, network: r.network });

/**
 * Which codes a result's skip may carry to be accepted: the run's allow-list, the allow-list of
 * the run a merged result came from (a merge accepts what each of its runs accepted, for that
 * run's results only), and the report's own.
 */
function allowListOf(doc: RunResults, extra: readonly string[]): (r: CheckResult) => ReadonlySet<string> {
  const base = [...(doc.run.allowSkip ?? []), ...extra];
  const byRun = new Map((doc.run.merged ?? []).map((m) => [m.id, new Set([...base, ...(m.allowSkip ?? [])])]));
  const everywhere = new Set(base);
  return (r) => (r.run === undefined ? everywhere : (byRun.get(r.run) ?? everywhere));
}

/** A skip is accepted when it gives a reason and every reason it gives is allowed. */
const accepts = (allowed: ReadonlySet<string>, r: CheckResult): boolean => r.reasons.length > 0 && r.reasons.every((x) => allowed.has(x.code));

function judgeDevice(
  device: string,
  results: readonly CheckResult[],
  expected: readonly CheckKey[],
  allowed: (r: CheckResult) => ReadonlySet<string>,
): DeviceVerdict {
  const failed = results.filter((r) => r.status === 'failed');
  const missing: MissingCheck[] = [];
  const accepted: AcceptedSkip[] = [];
  for (const r of results) {
    if (r.status === 'broken') missing.push({ ...identity(r), status: 'broken', reasons: r.reasons });
    else if (r.status === 'skipped' && accepts(allowed(r), r)) accepted.push({ ...identity(r), reasons: r.reasons });
    else if (r.status === 'skipped')
      missing.push({
        ...identity(r),
        status: 'skipped',
        reasons: r.reasons.length > 0 ? r.reasons : [reasonOf('NO_REASON', message('verdict.noReason', {}))],
      });
  }
  const have = new Set(results.map(keyOf));
  for (const e of expected) {
    if (!have.has(keyOf(e)))
      missing.push({
        ...identity(e),
        status: 'not-run',
        reasons: [reasonOf('NOT_RUN', message('verdict.notRun', {}))],
      });
  }
  const passed = results.filter((r) => r.status === 'passed');
  const warnings = passed.filter((r) => r.verdict === 'warn').length;
  let verdict: OverallVerdict;
  if (failed.length > 0) verdict = 'fail';
  else if (results.every((r) => r.status === 'broken')) verdict = 'not-run';
  else if (missing.length > 0) verdict = 'incomplete';
  else if (passed.length === 0) {
    // Only accepted skips: nothing was proven.
    missing.push({
      device,
      check: '*',
      app: null,
      network: '*',
      status: 'skipped',
      reasons: [reasonOf('NOTHING_CHECKED', message('verdict.nothingChecked', {}))],
    });
    verdict = 'incomplete';
  } else verdict = 'pass';
  if (results.length === 0 && expected.length === 0)
    missing.push({
      device,
      check: '*',
      app: null,
      network: '*',
      status: 'not-run',
      reasons: [reasonOf('NO_RESULTS', message('verdict.noResults', {}))],
    });
  return { device, verdict, failed, missing, accepted, warnings };
}

/** The verdict of each device of a run (those listed, and any that only its results name) and of the run. */
export function judgeRun(doc: RunResults, options: VerdictOptions = {}): RunVerdict {
  const allowed = allowListOf(doc, options.allowSkip ?? []);
  const expected = options.expected ?? [];
  const serials = [...new Set([...doc.devices.map((d) => d.serial), ...doc.results.map((r) => r.device), ...expected.map((e) => e.device)])];
  const devices = serials.map((serial) =>
    judgeDevice(
      serial,
      doc.results.filter((r) => r.device === serial),
      expected.filter((e) => e.device === serial),
      allowed,
    ),
  );
  let verdict: OverallVerdict;
  if (devices.some((d) => d.verdict === 'fail')) verdict = 'fail';
  else if (doc.results.every((r) => r.status === 'broken')) verdict = 'not-run';
  else if (devices.every((d) => d.verdict === 'pass')) verdict = 'pass';
  else verdict = 'incomplete';
  const allowSkip = [
    ...new Set([...(doc.run.allowSkip ?? []), ...(doc.run.merged ?? []).flatMap((m) => m.allowSkip ?? []), ...(options.allowSkip ?? [])]),
  ].sort();
  return {
    verdict,
    devices,
    allowSkip,
    failed: devices.flatMap((d) => d.failed),
    missing: devices.flatMap((d) => d.missing),
    accepted: devices.flatMap((d) => d.accepted),
  };
}

/** One line for a check without a verdict: `apps.ipv6-first com.example.news [ipv6] on SERIAL: NOT_INSTALLED (detail)`. */
export function describeCheck(c: CheckKey & { reasons: { code: string; detail: string }[] }): string {
  const what = c.check === '*' ? 'every check' : `${c.check}${c.app === null ? '' : ` ${c.app}`} [${c.network}]`;
  return `${what} on ${c.device}: ${c.reasons.map((x) => `${x.code} (${x.detail})`).join(', ')}`;
}
