/**
 * What a check broke on, named for the report by the error's type: the device went away, the
 * adb server went away, the disk filled, the capture failed, the app stopped, Appium failed. The
 * transport layers turn what they saw into these types (lib/device/errors.ts); nothing here
 * reads a message.
 */
import { AdbServerError, DeviceError, DeviceUnavailableError, systemErrorCode, TransferDroppedError, TruncatedOutputError } from '../device/errors.js';
import { ResultsWriteError } from '../report/results.js';
import { DeviceStateError } from './device-state.js';
import { CaptureError } from './window.js';

/** The app was no longer running at the end of its window: it crashed or quit by itself. */
export class AppStoppedError extends Error {
  constructor(readonly pkg: string) {
    super(`${pkg} was not running at the end of its window: it crashed or quit during its flow or dwell; its traffic is not judged (see the device's logcat)`);
    this.name = 'AppStoppedError';
  }
}

/** Something the UI driver (Appium, through WebdriverIO or another client) failed to do. */
export class UiError extends Error {
  constructor(
    readonly action: string,
    options: { cause: unknown },
  ) {
    super(`Appium could not ${action}: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options);
    this.name = 'UiError';
  }
}

export type FaultCode =
  | 'DEVICE_DISCONNECTED'
  | 'ADB_SERVER_DOWN'
  | 'STORAGE_FULL'
  | 'CAPTURE_FAILED'
  | 'APP_CRASHED'
  | 'DEVICE_STATE'
  | 'APPIUM_ERROR'
  | 'HARNESS_ERROR'
  | 'DeviceCommandError'
  | 'DeviceTimeoutError'
  | 'DeviceError';

/**
 * Faults after which running the check again is safe: the transport went, not the device's state
 * or the app (a crash is the app's; a full disk or a dead Appium would only break again).
 */
export const RETRIED_FAULTS: ReadonlySet<string> = new Set<FaultCode>(['DEVICE_DISCONNECTED', 'ADB_SERVER_DOWN']);

/** The fault a check broke on. */
export function faultCode(error: unknown): FaultCode {
  // A full disk may surface through any layer that wrote a file: its system code says so.
  const fsCode = error instanceof ResultsWriteError ? error.fsCode : systemErrorCode(error);
  if (fsCode === 'ENOSPC' || fsCode === 'EDQUOT') return 'STORAGE_FULL';
  if (error instanceof DeviceUnavailableError || error instanceof TruncatedOutputError || error instanceof TransferDroppedError) return 'DEVICE_DISCONNECTED';
  if (error instanceof AdbServerError) return 'ADB_SERVER_DOWN';
  if (error instanceof CaptureError) return 'CAPTURE_FAILED';
  if (error instanceof AppStoppedError) return 'APP_CRASHED';
  if (error instanceof DeviceStateError) return 'DEVICE_STATE';
  if (error instanceof UiError) return 'APPIUM_ERROR';
  if (error instanceof DeviceError) return error.name as FaultCode;
  return 'HARNESS_ERROR';
}
