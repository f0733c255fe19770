/** Exit codes of CONTRACTS.md section 1. */
export const EXIT = { ok: 0, checkFailed: 1, usage: 2, cannotRun: 3 } as const;

/** Bad command-line input: exit 2 with one line. */
export class UsageError extends Error {
  override name = 'UsageError';
}
