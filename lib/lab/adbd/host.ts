/**
 * What the adb daemon needs from the handset it serves: a way to run a command, to reach a port
 * and to find a file. The daemon speaks adb; the host decides where things run (a network
 * namespace for lab handsets, plain processes for unit tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { posix, resolve } from 'node:path';
import debug from 'debug';
import { HandsetPathError } from './errors.js';

const log = debug('v6lab:adbd:host');

export interface HandsetHost {
  /**
   * Runs `command` with `sh -c` inside the handset (its network namespace, its PATH with the
   * emulated Android commands first), as its own process group (`detached: true`), with stdin,
   * stdout and stderr as pipes. The daemon kills the group with `process.kill(-pid, 'SIGKILL')`
   * when the adb stream closes before the command does.
   */
  spawn(command: string): ChildProcess;
  /** Opens a TCP connection to `port` inside the handset's network namespace. */
  connect(port: number, host?: string): Promise<Socket>;
  /**
   * Maps an Android path (/sdcard/x, /data/local/tmp/y) to where its bytes live here, for a
   * sync service this daemon runs itself. Throws {@link HandsetPathError} for a path outside
   * what the handset exposes. Absent when the host has `spawnSync`.
   */
  resolvePath?(devicePath: string): string;
  /**
   * Starts the sync service inside the handset (its own filesystem, as the user adbd runs as),
   * speaking the sync protocol on stdin and stdout; the daemon joins it to the stream as it does
   * a raw shell command. Preferred to `resolvePath` when present.
   */
  spawnSync?(): ChildProcess;
  /**
   * `adb root` / `adb unroot`: whether later commands run as root. Returns what adbd prints and
   * whether it restarts (then the daemon drops its connections, as a restarting adbd does).
   * Absent: the handset refuses, as a production build does.
   */
  setRoot?(root: boolean): { message: string; restarts: boolean };
  /**
   * `adb reboot`: what the handset loses while it is down (its running apps, `adb root`, what
   * setprop set). The daemon has dropped its connections and stopped listening by then; it
   * listens again once this is done and the reboot time has passed. Absent: `reboot:` is refused.
   */
  reboot?(): Promise<void>;
}

export interface LocalHandsetHostOptions {
  /** Directory that stands for the handset's `/`: `/sdcard/x` is `<root>/sdcard/x`. */
  root: string;
  /** Directories put before the host's PATH (emulated Android commands). @default [] */
  pathPrefix?: string[];
  /** Extra environment for commands. @default {} */
  env?: Record<string, string>;
  /** Deadline for `connect`, in milliseconds. @default 5000 */
  connectTimeoutMs?: number;
}

/**
 * A handset made of plain processes on this machine: for unit tests and for hosts without
 * network namespaces. Commands run in `root` with the host's network; files live under `root`.
 */
export class LocalHandsetHost implements HandsetHost {
  readonly root: string;
  readonly #env: Record<string, string>;
  readonly #connectTimeoutMs: number;

  constructor(options: LocalHandsetHostOptions) {
    this.root = resolve(options.root);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    const path = [...(options.pathPrefix ?? []), process.env.PATH ?? '/usr/bin:/bin'].join(':');
    this.#env = { PATH: path, HOME: this.root, TMPDIR: posix.join(this.root, 'data/local/tmp'), LANG: 'C', ...options.env };
  }

  spawn(command: string): ChildProcess {
    log('spawn sh -c %j in %s', command, this.root);
    return spawn('sh', ['-c', command], { detached: true, cwd: this.root, env: this.#env, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  connect(port: number, host = '127.0.0.1'): Promise<Socket> {
    log('connect %s port %d', host, port);
    return new Promise((resolvePromise, reject) => {
      const socket = connect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host} port ${port}: no answer within ${this.#connectTimeoutMs} ms`));
      }, this.#connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolvePromise(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`connect to ${host} port ${port}: ${err.message}`, { cause: err }));
      });
    });
  }

  resolvePath(devicePath: string): string {
    return resolveUnderRoot(this.root, devicePath);
  }
}

/**
 * `root` joined with an absolute Android path, refusing a `..` that climbs above `/` (adbd's
 * own paths never need one; a client that sends one is trying to leave the handset).
 */
export function resolveUnderRoot(root: string, devicePath: string): string {
  if (!devicePath.startsWith('/')) throw new HandsetPathError(devicePath, 'not an absolute path');
  if (devicePath.includes('\0')) throw new HandsetPathError(devicePath, 'contains a NUL byte');
  const parts: string[] = [];
  for (const segment of devicePath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (parts.length === 0) throw new HandsetPathError(devicePath, 'climbs above / with ..');
      parts.pop();
    } else {
      parts.push(segment);
    }
  }
  return posix.join(root, ...parts);
}
