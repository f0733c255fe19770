/**
 * The device side of adb over TCP: what the adb server (and through it adbkit and the CLI) talks
 * to when it drives a phone. One AdbDaemon per virtual handset.
 *
 * Protocol facts measured with Debian adb 29 and adbkit 3.3.9 are in ../shared/notes/adb.md;
 * the wire formats are in ./protocol.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import debug from 'debug';
import { type AdbPublicKey, AUTH_TYPE, findSigner, keyFingerprint, parseAdbPublicKey, TOKEN_SIZE } from './auth.js';
import type { HandsetHost } from './host.js';
import { A_VERSION, COMMAND, commandName, encodeHeader, MAX_PAYLOAD, MessageDecoder, type AdbMessage } from './protocol.js';
import { killProcessGroup, parseCommandService, runCommand, type ProcessRegistry } from './shell.js';
import { AdbStream, type StreamTransport } from './stream.js';
import { serveSync } from './sync.js';

const log = debug('v6lab:adbd');

export interface AdbBanner {
  /** ro.product.name, shown as `product:` by `adb devices -l`. */
  product: string;
  /** ro.product.model, shown as `model:`. */
  model: string;
  /** ro.product.device, shown as `device:`. */
  device: string;
}

export interface AdbDaemonOptions {
  banner: AdbBanner;
  /**
   * Features advertised in the CNXN banner. `shell_v2` makes the CLI use the shell protocol
   * (exit codes, separate stderr). Never `stat_v2`/`ls_v2`: this daemon has no STA2/LIS2 and
   * the CLI hangs waiting for them.
   * @default ['shell_v2', 'cmd']
   */
  features?: string[];
  /** Deadline for a `tcp:` service to reach its port before the OPEN is refused, in ms. @default 10000 */
  connectTimeoutMs?: number;
  /**
   * The adb hosts this handset accepts (its adb_keys): every CNXN is answered with an AUTH token
   * and only a signature by one of these keys brings the connection online, as adbd does with
   * `ro.adb.secure=1`. A host offering any other key (AUTH RSAPUBLICKEY) is never accepted: it
   * stays `unauthorized`, as before a prompt nobody answers. Absent: no AUTH at all
   * (`ro.adb.secure=0`, an emulator image), for tests of the daemon alone; the lab always gives keys.
   */
  authorizedKeys?: readonly AdbPublicKey[];
  /**
   * How long `adb reboot` keeps the handset away: adbd stops listening that long (counted from
   * when its connections drop), then listens again on the same port. @default 3000
   */
  rebootMs?: number;
}

export const DEFAULT_REBOOT_MS = 3000;
/** How long after answering `reboot:` (and `root:`) the connections drop, as a phone's adbd goes. */
const GOING_DOWN_MS = 200;

/** A service ready to run on a stream once the OPEN is accepted. */
interface ServiceRunner {
  run(stream: AdbStream): void;
  /** The connection went away before the OPEN was answered: release what was prepared. */
  cancel?(): void;
}

/** The banner in adbd's words: `device::ro.product.name=X;ro.product.model=Y;ro.product.device=Z;features=a,b`. */
export function deviceBanner(banner: AdbBanner, features: readonly string[]): string {
  for (const [key, value] of Object.entries(banner)) {
    if (/[;=\0]/.test(value)) throw new Error(`adb banner ${key} ${JSON.stringify(value)} contains ; = or NUL`);
  }
  return `device::ro.product.name=${banner.product};ro.product.model=${banner.model};ro.product.device=${banner.device};features=${features.join(',')}`;
}

export class AdbDaemon {
  readonly #host: HandsetHost;
  readonly #banner: Buffer;
  readonly #connectTimeoutMs: number;
  readonly #rebootMs: number;
  readonly #authorizedKeys: readonly AdbPublicKey[] | null;
  readonly #connections = new Set<Connection>();
  readonly #children = new Set<ChildProcess>();
  #server: Server | null = null;
  #port = 0;
  #address = '127.0.0.1';
  /** Set by close(): a reboot or unplug under way does not listen again. */
  #closed = false;
  /** A reboot or unplug under way; wakes it from its wait (close() does, so it ends at once). */
  #away: { wake(): void } | null = null;

  constructor(host: HandsetHost, options: AdbDaemonOptions) {
    this.#host = host;
    this.#banner = Buffer.from(deviceBanner(options.banner, options.features ?? ['shell_v2', 'cmd']), 'utf8');
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#rebootMs = options.rebootMs ?? DEFAULT_REBOOT_MS;
    this.#authorizedKeys = options.authorizedKeys ?? null;
  }

  /** Connections from adb servers now open. */
  get connections(): number {
    return this.#connections.size;
  }

  /** The port listened on (the one given, or the one the system chose for 0). */
  get port(): number {
    return this.#port;
  }

  /** Starts accepting adb servers on `address`:`port` (0 picks a free port; see `port`). */
  listen(port: number, address = '127.0.0.1'): Promise<void> {
    if (this.#server) return Promise.reject(new Error(`adbd already listening on port ${this.#port}`));
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    this.#closed = false;
    this.#address = address;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.#server = null;
        reject(new Error(`adbd cannot listen on ${address} port ${port}: ${err.message}`, { cause: err }));
      };
      server.once('error', onError);
      server.listen(port, address, () => {
        server.off('error', onError);
        server.on('error', (err) => log('port %d: %s', this.#port, err.message));
        const bound = server.address();
        this.#port = typeof bound === 'object' && bound ? bound.port : port;
        log('listening on %s port %d', address, this.#port);
        resolve();
      });
    });
  }

  /** Stops listening, drops every connection and kills every running command's process group. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#away?.wake();
    await this.#stop();
  }

  async #stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    this.dropConnections();
    for (const child of this.#children) killProcessGroup(child);
    this.#children.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    log('port %d closed', this.#port);
  }

  /** A cable pull: every connection's socket is destroyed without a CLSE; their commands are killed. */
  dropConnections(): void {
    for (const connection of this.#connections) connection.drop();
  }

  #accept(socket: Socket): void {
    const connection = new Connection(
      socket,
      `port ${this.#port} <- ${socket.remoteAddress}:${socket.remotePort}`,
      this.#banner,
      this.#authorizedKeys,
      (name) => this.#prepare(name),
    );
    this.#connections.add(connection);
    socket.once('close', () => this.#connections.delete(connection));
  }

  get #registry(): ProcessRegistry {
    return { add: (child) => this.#children.add(child), delete: (child) => this.#children.delete(child) };
  }

  /** Finds the service an OPEN names; null refuses it. */
  async #prepare(service: string): Promise<ServiceRunner | null> {
    const command = parseCommandService(service);
    if (command) return { run: (stream) => runCommand(this.#host, this.#registry, stream, command) };
    if (service === 'sync:') {
      // Inside the handset when it can (its own filesystem and users), else over resolvePath.
      const host = this.#host;
      if (host.spawnSync) return { run: (stream) => runCommand(host, this.#registry, stream, { protocol: 'none', command: 'sync:' }, () => host.spawnSync!()) };
      if (!host.resolvePath) return null;
      const paths = { resolvePath: host.resolvePath.bind(host) };
      return { run: (stream) => void serveSync(paths, stream).catch((err: Error) => log('stream %d: %s', stream.localId, err.message)) };
    }
    const tcp = /^tcp:(\d+)(?::(.+))?$/.exec(service);
    if (tcp) return this.#prepareTcp(Number(tcp[1]), tcp[2]);
    if (service === 'root:' || service === 'unroot:') return this.#prepareRoot(service === 'root:');
    // `reboot:bootloader`, `reboot:recovery`, ...: there is no bootloader to go to.
    if (service === 'reboot:') return this.#prepareReboot();
    return null;
  }

  /**
   * `reboot:`: adbd answers nothing and never closes the stream; the device goes away under it
   * (adb's reboot_service sets sys.powerctl and waits), so `adb reboot` returns when the
   * connection drops. Then the handset is down for the reboot time and comes back on its port.
   */
  #prepareReboot(): ServiceRunner | null {
    if (!this.#host.reboot || this.#away) return null;
    return { run: () => setTimeout(() => void this.#reboot(), GOING_DOWN_MS) };
  }

  #reboot(): Promise<void> {
    return this.#goAway(this.#rebootMs, 'reboot', () => this.#host.reboot?.());
  }

  /**
   * A cable pulled for `ms` and put back: every connection drops without a CLSE, running
   * commands are killed, the port stops listening, then listens again and the adb server, which
   * retries a dropped emulator port every second, finds the same serial. Unlike a reboot, the
   * handset's apps and state stay as they are. False if the handset is already away.
   */
  unplug(ms: number): boolean {
    if (this.#away || this.#closed || !this.#server) return false;
    void this.#goAway(ms, 'unplug');
    return true;
  }

  /** Down for `ms` (while `meanwhile` runs, if given), then listening again on the same port. */
  async #goAway(ms: number, why: string, meanwhile?: () => Promise<void> | undefined): Promise<void> {
    if (this.#away || this.#closed || !this.#server) return;
    const port = this.#port;
    const address = this.#address;
    let wake = (): void => {};
    const woken = new Promise<void>((resolve) => (wake = resolve));
    this.#away = { wake };
    try {
      log('port %d: %s, down for %d ms', port, why, ms);
      await this.#stop();
      const timer = setTimeout(wake, ms);
      try {
        await meanwhile?.();
      } catch (err) {
        log('port %d: %s: %s', port, why, (err as Error).message);
      }
      await woken;
      clearTimeout(timer);
      if (this.#closed) return;
      await this.listen(port, address);
      log('port %d: up again after %s', port, why);
    } catch (err) {
      log('port %d: cannot come back after %s: %s', port, why, (err as Error).message);
    } finally {
      this.#away = null;
    }
  }

  /** `root:` / `unroot:`: adbd answers in words, then restarts (its connections drop). */
  #prepareRoot(root: boolean): ServiceRunner {
    const answer = this.#host.setRoot?.(root) ?? { message: 'adbd cannot run as root in production builds\n', restarts: false };
    return {
      run: (stream) => {
        stream.end(Buffer.from(answer.message));
        // The adb server reconnects to an emulator port by itself, as after a real restart.
        if (answer.restarts) setTimeout(() => this.dropConnections(), GOING_DOWN_MS).unref();
      },
    };
  }

  /** `tcp:PORT[:HOST]`: connect first (adbd refuses the OPEN if it cannot), then pipe both ways. */
  async #prepareTcp(port: number, host: string | undefined): Promise<ServiceRunner | null> {
    if (port < 1 || port > 65535) return null;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no connection within ${this.#connectTimeoutMs} ms`)), this.#connectTimeoutMs);
    });
    const connecting = this.#host.connect(port, host);
    let socket: Socket;
    try {
      socket = await Promise.race([connecting, deadline]);
    } catch (err) {
      log('tcp:%d%s: %s', port, host ? `:${host}` : '', (err as Error).message);
      connecting.then(
        (late) => late.destroy(),
        () => {},
      );
      return null;
    } finally {
      clearTimeout(timer);
    }
    // Listen for errors at once: the stream that will own the socket does not exist yet.
    socket.on('error', (err) => log('tcp port %d: %s', port, err.message));
    return {
      run: (stream) => {
        // adb has no half-close: the first side to finish closes both.
        socket.pipe(stream);
        stream.pipe(socket);
        socket.once('close', () => stream.end());
        stream.once('close', () => socket.destroy());
      },
      cancel: () => socket.destroy(),
    };
  }
}

/** Failed signatures after which each new token waits a second (adbd's guard against guessing). */
const AUTH_ATTEMPTS_BEFORE_DELAY = 256;

/** One adb server's connection: the transport state and its streams. */
class Connection implements StreamTransport {
  readonly #socket: Socket;
  readonly #name: string;
  readonly #banner: Buffer;
  /** Keys that may sign a token; null when no AUTH is asked (`ro.adb.secure=0`). */
  readonly #authorizedKeys: readonly AdbPublicKey[] | null;
  /** The token the host must sign next; null when none is outstanding. */
  #token: Buffer | null = null;
  #failedSignatures = 0;
  readonly #prepare: (service: string) => Promise<ServiceRunner | null>;
  readonly #decoder = new MessageDecoder(MAX_PAYLOAD);
  readonly #streams = new Map<number, AdbStream>();
  /** OPENs not answered yet (a `tcp:` connecting), by host id; true once the host gave up on one. */
  readonly #pendingOpens = new Map<number, { abandoned: boolean }>();
  #nextLocalId = 1;
  #online = false;
  maxPayload = MAX_PAYLOAD;

  constructor(
    socket: Socket,
    name: string,
    banner: Buffer,
    authorizedKeys: readonly AdbPublicKey[] | null,
    prepare: (service: string) => Promise<ServiceRunner | null>,
  ) {
    this.#socket = socket;
    this.#name = name;
    this.#banner = banner;
    this.#authorizedKeys = authorizedKeys;
    this.#prepare = prepare;
    socket.setNoDelay(true);
    log('%s: connected', name);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (err) => log('%s: %s', name, err.message));
    socket.once('close', () => {
      log('%s: closed', name);
      this.#closeStreams();
    });
  }

  /** Destroys the socket without a CLSE on any stream. */
  drop(): void {
    log('%s: dropped', this.#name);
    this.#socket.destroy();
  }

  send(command: number, arg0: number, arg1: number, parts?: readonly Buffer[], length = 0): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    const header = encodeHeader(command, arg0, arg1, length);
    if (!parts || parts.length === 0) {
      socket.write(header);
      return;
    }
    socket.cork();
    socket.write(header);
    for (const part of parts) socket.write(part);
    socket.uncork();
  }

  forget(localId: number): void {
    this.#streams.delete(localId);
  }

  #closeStreams(): void {
    for (const stream of [...this.#streams.values()]) stream.abort();
    this.#streams.clear();
  }

  #receive(chunk: Buffer): void {
    try {
      for (const message of this.#decoder.push(chunk)) this.#handle(message);
    } catch (err) {
      log('%s: %s; closing the connection', this.#name, (err as Error).message);
      this.#socket.destroy();
    }
  }

  #handle(message: AdbMessage): void {
    switch (message.command) {
      case COMMAND.CNXN:
        this.#connect(message);
        return;
      case COMMAND.OPEN:
        if (this.#online) this.#open(message.arg0, message.data);
        return;
      case COMMAND.OKAY:
        this.#streams.get(message.arg1)?.acknowledge();
        return;
      case COMMAND.WRTE:
        this.#streams.get(message.arg1)?.receive(message.data);
        return;
      case COMMAND.CLSE:
        // CLSE(host id, 0): the host gave up on an OPEN we have not answered.
        if (message.arg1 === 0) {
          const pending = this.#pendingOpens.get(message.arg0);
          if (pending) pending.abandoned = true;
          return;
        }
        this.#streams.get(message.arg1)?.abort();
        return;
      case COMMAND.AUTH:
        this.#auth(message);
        return;
      default:
        log('%s: ignoring %s', this.#name, commandName(message.command));
    }
  }

  /**
   * CNXN: the host (re)starts the session. With keys to check, it gets a token to sign first
   * (adbd's send_auth_request); else our CNXN at once. WRTEs carry the smaller maxdata.
   */
  #connect(message: AdbMessage): void {
    if (this.#online) this.#closeStreams();
    this.#online = false;
    this.maxPayload = Math.max(1, Math.min(message.arg1, MAX_PAYLOAD));
    log('%s: CNXN version 0x%s maxdata %d %j', this.#name, message.arg0.toString(16), message.arg1, message.data.toString('utf8'));
    if (this.#authorizedKeys === null) this.#goOnline();
    else this.#askToken();
  }

  #goOnline(): void {
    this.#online = true;
    this.#token = null;
    this.send(COMMAND.CNXN, A_VERSION, MAX_PAYLOAD, [this.#banner], this.#banner.length);
  }

  /** AUTH(TOKEN, 0, 20 random bytes): a fresh token each time, so no signature is good twice. */
  #askToken(): void {
    const token = randomBytes(TOKEN_SIZE);
    this.#token = token;
    this.send(COMMAND.AUTH, AUTH_TYPE.TOKEN, 0, [token], token.length);
  }

  /**
   * AUTH from the host (adbd's handle_packet A_AUTH). SIGNATURE: the outstanding token signed by
   * an accepted key brings the connection online; anything else gets a new token, which makes
   * the host try its next key. RSAPUBLICKEY: the host has no accepted key and offers its own; a
   * phone would ask its user, this handset accepts only the keys it was given, so the host stays
   * `unauthorized` (the connection stays open, as under an unanswered prompt).
   */
  #auth(message: AdbMessage): void {
    const keys = this.#authorizedKeys;
    if (keys === null || this.#online || this.#token === null) {
      log('%s: ignoring AUTH type %d (none asked for)', this.#name, message.arg0);
      return;
    }
    if (message.arg0 === AUTH_TYPE.SIGNATURE) {
      const signer = findSigner(keys, this.#token, message.data);
      if (signer !== null) {
        log('%s: AUTH accepted key %s %s', this.#name, keyFingerprint(signer), signer.comment);
        this.#failedSignatures = 0;
        this.#goOnline();
        return;
      }
      this.#failedSignatures++;
      log('%s: AUTH signature by no accepted key (%d failed)', this.#name, this.#failedSignatures);
      this.#token = null;
      if (this.#failedSignatures <= AUTH_ATTEMPTS_BEFORE_DELAY) this.#askToken();
      else
        setTimeout(() => {
          if (!this.#socket.destroyed && !this.#online) this.#askToken();
        }, 1000).unref();
      return;
    }
    if (message.arg0 === AUTH_TYPE.RSAPUBLICKEY) {
      let offered = 'a damaged key';
      try {
        const key = parseAdbPublicKey(message.data.toString('latin1'), 'AUTH RSAPUBLICKEY');
        offered = `key ${keyFingerprint(key)} ${key.comment}`;
      } catch (error) {
        offered = (error as Error).message;
      }
      log('%s: refused %s: not among the keys given at lab up (v6lab lab up --adb-key FILE)', this.#name, offered);
      return;
    }
    log('%s: ignoring AUTH type %d', this.#name, message.arg0);
  }

  #open(remoteId: number, data: Buffer): void {
    const nul = data.indexOf(0);
    const service = data.toString('utf8', 0, nul < 0 ? data.length : nul);
    const pending = { abandoned: false };
    this.#pendingOpens.set(remoteId, pending);
    this.#prepare(service).then(
      (runner) => {
        this.#pendingOpens.delete(remoteId);
        if (this.#socket.destroyed || pending.abandoned) {
          runner?.cancel?.();
          return;
        }
        if (!runner) {
          log('%s: refused %j', this.#name, service);
          this.send(COMMAND.CLSE, 0, remoteId);
          return;
        }
        const localId = this.#nextLocalId;
        this.#nextLocalId = (this.#nextLocalId % 0x7fffffff) + 1;
        const stream = new AdbStream(this, localId, remoteId, service);
        this.#streams.set(localId, stream);
        // Writes to a stream the host already closed fail; that is the host's choice, not a crash.
        stream.on('error', (err) => log('%s: stream %d: %s', this.#name, localId, err.message));
        log('%s: stream %d (host %d) opened %j', this.#name, localId, remoteId, service);
        this.send(COMMAND.OKAY, localId, remoteId);
        runner.run(stream);
      },
      (err: unknown) => {
        this.#pendingOpens.delete(remoteId);
        log('%s: %j failed to start: %s', this.#name, service, (err as Error).message);
        this.send(COMMAND.CLSE, 0, remoteId);
      },
    );
  }
}
