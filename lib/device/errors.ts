/** What can go wrong reaching a device, each carrying the serial and what was run. */

export class DeviceError extends Error {
  constructor(readonly serial: string, message: string, options?: { cause?: unknown }) {
    super(`${serial}: ${message}`, options);
    this.name = 'DeviceError';
  }
}

/** adb does not list the device, or lists it as offline/unauthorized. */
export class DeviceUnavailableError extends DeviceError {
  constructor(serial: string, readonly state: string, options?: { cause?: unknown }) {
    super(serial, state === 'absent'
      ? 'no such device: `adb devices` does not list it (is it plugged in, or the lab up?)'
      : `device is ${state}: reconnect it, or accept the USB debugging prompt`, options);
    this.name = 'DeviceUnavailableError';
  }
}

/**
 * A shell stream that ended before the command's end marker: adbkit ends a dropped `shell:`
 * stream as if it were complete, so output without the marker is never trusted.
 */
export class TruncatedOutputError extends DeviceError {
  constructor(serial: string, readonly argv: readonly string[], readonly received: number) {
    super(serial, `output of \`${argv.join(' ')}\` ended after ${received} bytes without its end marker: the connection dropped or the command was killed`);
    this.name = 'TruncatedOutputError';
  }
}

export class DeviceTimeoutError extends DeviceError {
  constructor(serial: string, readonly argv: readonly string[], readonly timeoutMs: number) {
    super(serial, `\`${argv.join(' ')}\` did not finish within ${timeoutMs} ms`);
    this.name = 'DeviceTimeoutError';
  }
}

/** Android's own refusals, recognised in a command's output. */
export type AndroidRefusal = 'permission-denied' | 'not-found' | 'security-exception' | null;

export class DeviceCommandError extends DeviceError {
  constructor(serial: string, readonly argv: readonly string[], readonly exitCode: number, readonly output: string, readonly refusal: AndroidRefusal) {
    super(serial, `\`${argv.join(' ')}\` exited ${exitCode}${refusal ? ` (${refusal})` : ''}: ${output.trim().split('\n').slice(-2).join(' / ').slice(0, 300)}`);
    this.name = 'DeviceCommandError';
  }
}
