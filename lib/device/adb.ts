/**
 * The one small interface every device is reached through (Playwright's DeviceBackend), and its
 * implementation on @devicefarmer/adbkit. A lab handset and a phone on a USB cable are the same
 * here: a serial the adb server lists.
 */
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import createDebug from 'debug';
import { adbTransportError, TransferDroppedError, DeviceCommandError, DeviceTimeoutError, DeviceUnavailableError, TruncatedOutputError } from './errors.js';
import { markedCommand, quoteArgv, readMarkedOutput, recognizeRefusal } from './shell.js';

const log = createDebug('v6lab:adb');

/** Output larger than this from one command is a mistake (a capture belongs in stream()). */
const MAX_OUTPUT = 64 * 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface RunOptions {
  /** @default DEFAULT_TIMEOUT_MS */
  timeoutMs?: number;
}

export interface RunResult {
  /** stdout and stderr as the device's shell merged them (`shell:` has one stream). */
  output: string;
  exitCode: number;
}

export interface DeviceBackend {
  readonly serial: string;
  /** Runs argv in the device's shell; a cut-short stream or a deadline is an error, never short output. */
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Like run, but a non-zero exit is a DeviceCommandError naming Android's refusal, if any. */
  runOk(argv: readonly string[], options?: RunOptions): Promise<string>;
  /** A long-running command's stdout as a stream (a capture: `tcpdump -w -`); destroy it to stop. */
  stream(argv: readonly string[]): Promise<Readable>;
  pull(path: string): Promise<Buffer>;
  push(data: Buffer, path: string, mode?: number): Promise<void>;
  /** Whether the device is there to be used: DeviceUnavailableError (absent, offline) or AdbServerError otherwise. */
  ensureAvailable(): Promise<void>;
  /** A watch on whether the device, or the server it is reached through, goes away (see PresenceWatch). */
  watchPresence(): Promise<Presence>;
}

/** What went away since the watch was last reset: the adb server, or the device off it. */
export type PresenceLoss = { what: 'adb-server' | 'device'; detail: string } | null;

/** A running watch on a device's presence; the first loss since `reset()` is kept. */
export interface Presence {
  /** Whether the watch still sees (false: start another once the server is back). */
  readonly alive: boolean;
  readonly lost: PresenceLoss;
  reset(): void;
  close(): void;
}

/** The part of adbkit's device client used here (so tests can stand in for it). */
export interface AdbkitDevice {
  shell(command: string): Promise<Readable>;
  pull(path: string): Promise<Readable>;
  stat(path: string): Promise<{ size: number; mode: number }>;
  push(contents: Readable | string, path: string, mode?: number): Promise<NodeJS.EventEmitter>;
}

/** adbkit's device tracker (`host:track-devices`): one connection, an event per change. */
export interface AdbkitTracker extends NodeJS.EventEmitter {
  end(): unknown;
}

export interface AdbkitClient {
  getDevice(serial: string): AdbkitDevice;
  listDevices(): Promise<{ id: string; type: string }[]>;
  trackDevices(): Promise<AdbkitTracker>;
}

/**
 * Watches, on the adb server's own device tracker, whether the device or the server itself went
 * away: a stream cut short looks the same either way, and the report must name the real fault.
 * The first loss since `reset()` is kept. Dead once the server's connection closed.
 */
export class PresenceWatch implements Presence {
  #lost: PresenceLoss = null;
  #alive = true;

  private constructor(
    private readonly tracker: AdbkitTracker,
    serial: string,
    port: number,
  ) {
    const lose = (loss: NonNullable<PresenceLoss>) => {
      this.#lost ??= loss;
    };
    tracker.on('remove', (d: { id: string }) => {
      if (d.id === serial) lose({ what: 'device', detail: `${serial} dropped off adb (adb devices no longer lists it)` });
    });
    tracker.on('change', (d: { id: string; type: string }) => {
      if (d.id === serial && d.type !== 'device') lose({ what: 'device', detail: `${serial} went ${d.type} on adb` });
    });
    const gone = () => {
      if (!this.#alive) return;
      this.#alive = false;
      lose({ what: 'adb-server', detail: `the adb server on port ${port} went away (its device tracker connection closed)` });
    };
    tracker.on('error', gone);
    tracker.on('end', gone);
  }

  static async start(client: AdbkitClient, serial: string, port: number): Promise<PresenceWatch> {
    return new PresenceWatch(await client.trackDevices(), serial, port);
  }

  /** Whether the tracker's connection is still open (false: start another once the server is back). */
  get alive(): boolean {
    return this.#alive;
  }

  get lost(): PresenceLoss {
    return this.#lost;
  }

  reset(): void {
    this.#lost = null;
  }

  close(): void {
    this.#alive = false;
    this.tracker.removeAllListeners();
    // A late error from the cancelled reader must not be unhandled.
    this.tracker.on('error', () => undefined);
    this.tracker.end();
  }
}

/** Where the adb server listens: its host and TCP port, and which variable said so. */
export interface AdbServerAddress {
  host: string;
  port: number;
  /** What set it: `ADB_SERVER_SOCKET`, `ANDROID_ADB_SERVER_ADDRESS`/`_PORT`, or the default. */
  source: string;
}

/** adb's own default: the server on this machine's loopback, port 5037 (DEFAULT_ADB_PORT). */
export const DEFAULT_ADB_SERVER_PORT = 5037;
const DEFAULT_ADB_SERVER_HOST = '127.0.0.1';

/** An adb server variable whose value adb would refuse too: names the variable and the value. */
export class AdbServerAddressError extends Error {
  constructor(
    readonly variable: string,
    readonly value: string,
    reason: string,
  ) {
    super(`${variable}=${JSON.stringify(value)}: ${reason}`);
    this.name = 'AdbServerAddressError';
  }
}

function serverPort(variable: string, value: string): number {
  // adb's ParseInt(port, 1, 65535): digits only, no sign or spaces.
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 1 && port <= 65_535)) throw new AdbServerAddressError(variable, value, 'the port must be a number from 1 to 65535');
  return port;
}

/**
 * `tcp:PORT` or `tcp:HOST:PORT` (an IPv6 host in brackets: `tcp:[::1]:5037`), as adb's
 * parse_tcp_socket_spec reads ADB_SERVER_SOCKET; adb's other socket kinds (`localabstract:`,
 * `vsock:`) are not TCP, and adbkit speaks only TCP.
 */
function parseServerSocket(value: string): { host: string; port: number } {
  const variable = 'ADB_SERVER_SOCKET';
  const bad = (reason: string) => new AdbServerAddressError(variable, value, `${reason} (expected tcp:PORT or tcp:HOST:PORT, e.g. tcp:192.0.2.10:5037)`);
  if (!value.startsWith('tcp:')) throw bad(`${value.split(':')[0]}: is not a TCP socket`);
  const spec = value.slice(4);
  if (/^\d+$/.test(spec)) return { host: DEFAULT_ADB_SERVER_HOST, port: serverPort(variable, spec) };
  const m = /^(?:\[([0-9A-Fa-f:.%\w]+)\]|([^:[\]\s]+)):(\d+)$/.exec(spec);
  if (m === null) throw bad(spec.includes(':') ? 'not a host and a port' : 'missing port');
  return { host: m[1] ?? m[2]!, port: serverPort(variable, m[3]!) };
}

/**
 * The adb server's address from the environment, read as adb itself reads it (AOSP
 * adb/client/main.cpp): ADB_SERVER_SOCKET (`tcp:HOST:PORT`) first; else the host in
 * ANDROID_ADB_SERVER_ADDRESS and the port in ANDROID_ADB_SERVER_PORT, each defaulting on its own
 * (127.0.0.1, 5037). An empty variable counts as unset. Pure: `env` is the only input.
 * @throws AdbServerAddressError naming the variable whose value is malformed
 */
export function adbServerAddress(env: Readonly<Record<string, string | undefined>> = process.env): AdbServerAddress {
  const socket = env.ADB_SERVER_SOCKET?.trim();
  if (socket) return { ...parseServerSocket(socket), source: 'ADB_SERVER_SOCKET' };
  const host = env.ANDROID_ADB_SERVER_ADDRESS?.trim() || null;
  const port = env.ANDROID_ADB_SERVER_PORT?.trim() || null;
  if (host !== null && (/[\s/]/.test(host) || host.startsWith('-')))
    throw new AdbServerAddressError('ANDROID_ADB_SERVER_ADDRESS', host, 'expected a host name or an IP address, e.g. 192.0.2.10');
  return {
    host: host === null ? DEFAULT_ADB_SERVER_HOST : host.replace(/^\[(.*)\]$/, '$1'),
    port: port === null ? DEFAULT_ADB_SERVER_PORT : serverPort('ANDROID_ADB_SERVER_PORT', port),
    source: [host === null ? null : 'ANDROID_ADB_SERVER_ADDRESS', port === null ? null : 'ANDROID_ADB_SERVER_PORT'].filter(Boolean).join(', ') || 'default',
  };
}

/** How a message names the server: `port 5037` on this machine, `192.0.2.10:5037` elsewhere. */
export function describeAdbServer(server: Pick<AdbServerAddress, 'host' | 'port'>): string {
  const local = server.host === DEFAULT_ADB_SERVER_HOST || server.host === 'localhost';
  return local ? `port ${server.port}` : `${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}`;
}

/**
 * An adbkit client for the adb server the environment names (adbServerAddress). `port`, when
 * given, replaces the environment's port (a server this run started, or a plan's); the host is
 * the environment's always, so one variable moves every client of a run to another machine.
 */
export function adbClient(port?: number, env: Readonly<Record<string, string | undefined>> = process.env): AdbkitClient {
  const server = adbServerAddress(env);
  // ESM and tsx disagree on adbkit's default export; require gives the module in both.
  const adbkit = createRequire(import.meta.url)('@devicefarmer/adbkit') as typeof import('@devicefarmer/adbkit');
  return adbkit.Adb.createClient({ host: server.host, port: port ?? server.port }) as unknown as AdbkitClient;
}

/**
 * Whether an adbkit call failed because adb itself is not installed: with no server on the port,
 * adbkit runs `adb start-server`, and that spawn fails with ENOENT when no `adb` is on PATH.
 * (An adb that is installed but cannot start its server fails differently: it runs and exits non-zero.)
 */
export function isAdbNotInstalled(error: unknown): boolean {
  const e = error as NodeJS.ErrnoException | null | undefined;
  return e?.code === 'ENOENT' && typeof e.syscall === 'string' && e.syscall.startsWith('spawn');
}

function readAll(stream: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.destroy();
        reject(new Error(`more than ${limit} bytes of output`));
        return;
      }
      chunks.push(chunk);
    });
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

function withDeadline<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => Error, cleanup: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      cleanup();
      reject(onTimeout());
    }, timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export class AdbkitBackend implements DeviceBackend {
  private readonly device: AdbkitDevice;

  constructor(
    private readonly client: AdbkitClient,
    readonly serial: string,
    private readonly port = 5037,
  ) {
    this.device = client.getDevice(serial);
  }

  /** A watch on whether this device, or the adb server, goes away (see PresenceWatch). */
  watchPresence(): Promise<PresenceWatch> {
    return PresenceWatch.start(this.client, this.serial, this.port).catch((error: unknown) => {
      throw adbTransportError(error, this.serial, this.port);
    });
  }

  /** Checks that adb lists the device as usable; DeviceUnavailableError (or AdbServerError) otherwise. */
  async ensureAvailable(): Promise<void> {
    const devices = await this.client.listDevices().catch((error: unknown) => {
      throw adbTransportError(error, this.serial, this.port);
    });
    const listed = devices.find((d) => d.id === this.serial);
    if (!listed) throw new DeviceUnavailableError(this.serial, 'absent');
    if (listed.type !== 'device') throw new DeviceUnavailableError(this.serial, listed.type);
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const { command, marker } = markedCommand(argv);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    log('%s run %o', this.serial, argv);
    let stream: Readable | null = null;
    const raw = await withDeadline(
      (async () => {
        stream = await this.device.shell(command);
        return readAll(stream, MAX_OUTPUT);
      })(),
      timeoutMs,
      () => new DeviceTimeoutError(this.serial, argv, timeoutMs),
      () => (stream as Readable | null)?.destroy(),
    ).catch((error: unknown) => {
      throw adbTransportError(error, this.serial, this.port);
    });
    const text = raw.toString('utf8');
    const marked = readMarkedOutput(text, marker);
    if (marked === null) throw new TruncatedOutputError(this.serial, argv, raw.length);
    return marked;
  }

  async runOk(argv: readonly string[], options: RunOptions = {}): Promise<string> {
    const { output, exitCode } = await this.run(argv, options);
    if (exitCode !== 0) throw new DeviceCommandError(this.serial, argv, exitCode, output, recognizeRefusal(output));
    return output;
  }

  async stream(argv: readonly string[]): Promise<Readable> {
    log('%s stream %o', this.serial, argv);
    return this.device.shell(quoteArgv(argv)).catch((error: unknown) => {
      throw adbTransportError(error, this.serial, this.port);
    });
  }

  async pull(path: string): Promise<Buffer> {
    log('%s pull %s', this.serial, path);
    // adbkit's pull of a missing file ends before (or without) its error: stat first.
    let stat: { size: number; mode: number };
    try {
      stat = await this.device.stat(path);
    } catch (error) {
      throw new DeviceCommandError(this.serial, ['pull', path], 1, (error as Error).message, null);
    }
    if (stat.mode === 0) throw new DeviceCommandError(this.serial, ['pull', path], 1, `${path}: No such file or directory`, 'not-found');
    const transfer = await this.device.pull(path);
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let failed: Error | null = null;
      let received = 0;
      transfer.on('data', (chunk: Buffer) => {
        received += chunk.length;
        chunks.push(chunk);
      });
      transfer.on('error', (error: Error) => {
        failed = error;
        // adbkit's PrematureEOFError: the sync connection ended before DONE.
        const dropped = /premature end/i.test(error.message)
          ? `pull ended after ${received} of ${stat.size} bytes: the connection dropped (${error.message})`
          : error.message;
        reject(
          /premature end/i.test(error.message)
            ? new TransferDroppedError(this.serial, path, dropped)
            : new DeviceCommandError(this.serial, ['pull', path], 1, dropped, null),
        );
      });
      transfer.once('end', () =>
        setImmediate(() => {
          if (failed !== null) return;
          const data = Buffer.concat(chunks);
          // A pull cut short is never a file: sync's DONE did not come. (/proc files stat as 0 bytes.)
          if (data.length < stat.size)
            reject(new TransferDroppedError(this.serial, path, `pull ended after ${data.length} of ${stat.size} bytes: the connection dropped`));
          else resolve(data);
        }),
      );
    });
  }

  async push(data: Buffer, path: string, mode = 0o644): Promise<void> {
    log('%s push %s (%d bytes)', this.serial, path, data.length);
    const { Readable: ReadableStream } = await import('node:stream');
    const transfer = await this.device.push(ReadableStream.from([data]), path, mode);
    await new Promise<void>((resolve, reject) => {
      transfer.once('end', () => resolve());
      transfer.once('error', reject);
    });
  }
}
