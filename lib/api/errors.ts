/**
 * The programmatic API's own errors (each carries what it is about), apart from its modules so the
 * command line can route them by type without loading the analyzer or adb.
 */
import type { JudgePolicy } from './types.js';

/** A policy value out of range: names the field, the value, and what it may be. */
export class PolicyError extends Error {
  override name = 'PolicyError';
  constructor(
    readonly field: keyof JudgePolicy,
    readonly value: unknown,
    expected: string,
  ) {
    super(`policy.${field}: ${typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value))} is not ${expected}`);
  }
}

/** The app named is not installed on the device (for user 0): nothing of it can be captured or judged. */
export class PackageNotInstalledError extends Error {
  override name = 'PackageNotInstalledError';
  constructor(
    readonly serial: string,
    readonly pkg: string,
  ) {
    super(`${serial}: ${pkg} is not installed (dumpsys package lists no such package): install it, or check the package name`);
  }
}

/** startCapture with a window open, or stopCapture with none: the caller's order of calls is wrong. */
export class CaptureStateError extends Error {
  override name = 'CaptureStateError';
  constructor(
    readonly serial: string,
    message: string,
  ) {
    super(`${serial}: ${message}`);
  }
}
