/** What can go wrong reaching a device, each carrying the serial and what was run. */

export class DeviceError extends Error {
  constructor(
    readonly serial: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${serial}: ${message}`, options);
    this.name = 'DeviceError';
  }
}

/** adb does not list the device, or lists it as offline/unauthorized. */
export class DeviceUnavailableError extends DeviceError {
  constructor(
    serial: string,
    readonly state: string,
    options?: { cause?: unknown },
  ) {
    super(
      serial,
      state === 'absent'
        ? 'no such device: `adb devices` does not list it (is it plugged in, or the lab up?)'
        : `device is ${state}: reconnect it, or accept the USB debugging prompt`,
      options,
    );
    this.name = 'DeviceUnavailableError';
  }
}

/**
 * A shell stream that ended before the command's end marker: adbkit ends a dropped `shell:`
 * stream as if it were complete, so output without the marker is never trusted.
 */
export class TruncatedOutputError extends DeviceError {
  constructor(
    serial: string,
    readonly argv: readonly string[],
    readonly received: number,
  ) {
    super(serial, `output of \`${argv.join(' ')}\` ended after ${received} bytes without its end marker: the connection dropped or the command was killed`);
    this.name = 'TruncatedOutputError';
  }
}

export class DeviceTimeoutError extends DeviceError {
  constructor(
    serial: string,
    readonly argv: readonly string[],
    readonly timeoutMs: number,
  ) {
    super(serial, `\`${argv.join(' ')}\` did not finish within ${timeoutMs} ms`);
    this.name = 'DeviceTimeoutError';
  }
}

/** Android's own refusals, recognised in a command's output. */
export type AndroidRefusal = 'permission-denied' | 'not-found' | 'security-exception' | null;

export class DeviceCommandError extends DeviceError {
  constructor(
    serial: string,
    readonly argv: readonly string[],
    readonly exitCode: number,
    readonly output: string,
    readonly refusal: AndroidRefusal,
  ) {
    super(
      serial,
      `\`${argv.join(' ')}\` exited ${exitCode}${refusal ? ` (${refusal})` : ''}: ${output.trim().split('\n').slice(-2).join(' / ').slice(0, 300)}`,
    );
    this.name = 'DeviceCommandError';
  }
}

/** A pull whose transfer ended before sync's DONE: the connection dropped, the file is not whole. */
export class TransferDroppedError extends DeviceCommandError {
  constructor(serial: string, path: string, detail: string) {
    super(serial, ['pull', path], 1, detail, null);
    this.name = 'TransferDroppedError';
  }
}

/**
 * The adb server itself could not be reached or dropped the connection (killed, restarting):
 * every device behind it is out of reach until it is back.
 */
export class AdbServerError extends Error {
  constructor(
    readonly port: number,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`the adb server on port ${port} ${detail}: is it running? (\`adb start-server\`, or ANDROID_ADB_SERVER_PORT for another port)`, options);
    this.name = 'AdbServerError';
  }
}

/** Node's system error code (`ECONNREFUSED`, `ENOSPC`) of an error or of any error it wraps. */
export function systemErrorCode(error: unknown): string | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
  }
  return null;
}

/** The system error codes that mean the connection to the adb server failed or was cut. */
const ADB_SERVER_GONE: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * Names what an adbkit call failed on, at the transport edge: the adb server's connection (a
 * system error), or the adb server's own FAIL answer about the device. That answer is text, the
 * adb protocol's only signal (adb's `device 'X' not found`, `device offline`); above this layer
 * faults are told apart by type alone.
 */
export function adbTransportError(error: unknown, serial: string, port: number): Error {
  if (error instanceof DeviceError || error instanceof AdbServerError) return error;
  const code = systemErrorCode(error);
  if (code !== null && ADB_SERVER_GONE.has(code))
    return new AdbServerError(port, code === 'ECONNREFUSED' ? 'refused the connection' : `dropped the connection (${code})`, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  // adb server FAIL texts (adb's transport.cpp): "device 'SERIAL' not found", "device offline", "device unauthorized"
  if (/device '[^']*' not found|device not found|no devices\/emulators found/i.test(message))
    return new DeviceUnavailableError(serial, 'absent', { cause: error });
  const state = /device (offline|unauthorized)/i.exec(message)?.[1];
  if (state !== undefined) return new DeviceUnavailableError(serial, state.toLowerCase(), { cause: error });
  return error instanceof Error ? error : new Error(message);
}
