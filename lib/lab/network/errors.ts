/** Errors of the lab network. Each carries the data a user needs to act on it. */

/** A command of the lab failed; carries the exact argv and what it printed. */
export class LabCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`lab command failed: ${argv.join(' ')}: ${detail}`, options);
    this.name = 'LabCommandError';
  }
}

/** A lab plan that cannot be built; `field` names the offending part (`handsets[1].index`). */
export class LabPlanError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`lab plan: ${field}: ${reason}`);
    this.name = 'LabPlanError';
  }
}

/**
 * `lab up` failed at `step` (`gateway 1: radvd`, `world: certificates`, ...). Whatever it had made
 * was torn down before this was thrown; `cause` is the underlying failure.
 */
export class LabStepError extends Error {
  constructor(
    readonly step: string,
    options: { cause: unknown },
  ) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`lab up failed at "${step}": ${reason}`, options);
    this.name = 'LabStepError';
  }
}

/** The lab's components already exist: a second `up` would fight the first. */
export class LabAlreadyUpError extends Error {
  constructor(
    readonly labId: string,
    readonly what: string,
  ) {
    super(`lab ${labId} is already up (${what}): run lab down first`);
    this.name = 'LabAlreadyUpError';
  }
}

/** The state file is missing or unreadable where a running lab is needed. */
export class LabStateError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`lab state ${file}: ${reason}`, options);
    this.name = 'LabStateError';
  }
}
