import type { OverallVerdict } from '../report/verdict.js';

/**
 * Exit codes of CONTRACTS.md section 1: 0 every selected check passed; 1 a check failed (or, for
 * `report --compare`, a check regressed); 2 bad input or usage; 3 the run could not be carried
 * out; 4 incomplete: nothing failed, but a check was skipped, broke or never ran.
 */
export const EXIT = { ok: 0, checkFailed: 1, usage: 2, cannotRun: 3, incomplete: 4 } as const;

/** The exit code a run's overall verdict means (lib/report/verdict.ts). */
export const EXIT_OF_VERDICT: Record<OverallVerdict, number> = {
  pass: EXIT.ok,
  fail: EXIT.checkFailed,
  'not-run': EXIT.cannotRun,
  incomplete: EXIT.incomplete,
};

/** Bad command-line input: exit 2 with one line. */
export class UsageError extends Error {
  override name = 'UsageError';
}
