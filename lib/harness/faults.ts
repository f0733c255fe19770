/**
 * What a check broke on, named for the report by the error's type: the device went away, the
 * adb server went away, the disk filled, the capture failed, the app stopped, Appium failed. The
 * transport layers turn what they saw into these types (lib/device/errors.ts); nothing here
 * reads a message.
 */
import { message, type MessagePart } from '../checks/messages.js';
import {
  AdbServerError,
  DeviceError,
  DeviceTimeoutError,
  DeviceUnavailableError,
  systemErrorCode,
  TransferDroppedError,
  TruncatedOutputError,
} from '../device/errors.js';
import { ResultsWriteError } from '../report/results.js';
import { DeviceStateError } from './device-state.js';
import { CaptureDroppedError, CaptureError } from './window.js';

/** The app was no longer running at the end of its window: it crashed or quit by itself. */
export class AppStoppedError extends Error {
  constructor(readonly pkg: string) {
    super(message('fault.appStopped', { pkg }).english);
    this.name = 'AppStoppedError';
  }
}

/** Something the UI driver (Appium, through WebdriverIO or another client) failed to do. */
export class UiError extends Error {
  constructor(
    readonly action: string,
    options: { cause: unknown },
  ) {
    super(message('fault.appium', { action, problem: options.cause instanceof Error ? options.cause.message : String(options.cause) }).english, options);
    this.name = 'UiError';
  }
}

export type FaultCode =
  | 'DEVICE_DISCONNECTED'
  | 'ADB_SERVER_DOWN'
  | 'STORAGE_FULL'
  | 'CAPTURE_FAILED'
  | 'CAPTURE_DROPPED'
  | 'APP_CRASHED'
  | 'DEVICE_STATE'
  | 'APPIUM_ERROR'
  | 'HARNESS_ERROR'
  | 'DeviceCommandError'
  | 'DeviceTimeoutError'
  | 'DeviceError';

/**
 * Faults after which running the check again is safe: the transport went, or the capture lost
 * packets in a burst (the next window's capture is a fresh one); not the device's state or the
 * app (a crash is the app's; a full disk or a dead Appium would only break again).
 */
export const RETRIED_FAULTS: ReadonlySet<string> = new Set<FaultCode>(['DEVICE_DISCONNECTED', 'ADB_SERVER_DOWN', 'CAPTURE_DROPPED']);

/** The fault a check broke on. */
export function faultCode(error: unknown): FaultCode {
  // A full disk may surface through any layer that wrote a file: its system code says so.
  const fsCode = error instanceof ResultsWriteError ? error.fsCode : systemErrorCode(error);
  if (fsCode === 'ENOSPC' || fsCode === 'EDQUOT') return 'STORAGE_FULL';
  if (error instanceof DeviceUnavailableError || error instanceof TruncatedOutputError || error instanceof TransferDroppedError) return 'DEVICE_DISCONNECTED';
  if (error instanceof AdbServerError) return 'ADB_SERVER_DOWN';
  if (error instanceof CaptureDroppedError) return 'CAPTURE_DROPPED';
  if (error instanceof CaptureError) return 'CAPTURE_FAILED';
  if (error instanceof AppStoppedError) return 'APP_CRASHED';
  if (error instanceof DeviceStateError) return 'DEVICE_STATE';
  if (error instanceof UiError) return 'APPIUM_ERROR';
  if (error instanceof DeviceError) return error.name as FaultCode;
  return 'HARNESS_ERROR';
}

/**
 * A broken check's words as a message, from the error's own fields: the English is the error's
 * message exactly (an error whose words are built otherwise, or another layer's without fields to
 * build from, stays English as it is).
 */
export function faultMessage(error: unknown): MessagePart {
  const text = error instanceof Error ? error.message : String(error);
  const built = faultWords(error);
  return built !== null && built.english === text ? built : message('untranslated', { text });
}

function faultWords(error: unknown): MessagePart | null {
  if (error instanceof AppStoppedError) return message('fault.appStopped', { pkg: error.pkg });
  if (error instanceof UiError)
    return message('fault.appium', { action: error.action, problem: error.message.slice(`Appium could not ${error.action}: `.length) });
  if (error instanceof DeviceUnavailableError)
    return error.state === 'absent'
      ? message('fault.deviceAbsent', { serial: error.serial })
      : message('fault.deviceState', { serial: error.serial, state: error.state });
  if (error instanceof TruncatedOutputError) return message('fault.truncated', { serial: error.serial, command: error.argv.join(' '), bytes: error.received });
  if (error instanceof DeviceTimeoutError) return message('fault.timeout', { serial: error.serial, command: error.argv.join(' '), ms: error.timeoutMs });
  if (error instanceof AdbServerError) return message('fault.adbServer', { port: error.port, problem: error.detail });
  if (error instanceof CaptureDroppedError)
    return message('fault.captureDropped', { serial: error.serial, method: error.method, lost: message('app.captureDropped', { packets: error.packets }) });
  if (error instanceof CaptureError) {
    const lead = `${error.serial}: ${error.method} capture: `;
    return message('fault.capture', { serial: error.serial, method: error.method, problem: error.message.slice(lead.length) });
  }
  return null;
}
