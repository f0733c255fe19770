/**
 * A lab handset as the adb daemon sees it: commands run with `sh -c` inside the handset's
 * network namespace, with Android's commands (lib/lab/android/toolbox.ts) first on PATH; TCP
 * connections open inside the namespace; Android paths map into the handset's directory.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import createDebug from 'debug';
import { resolveUnderRoot, type HandsetHost } from './adbd/host.js';
import { stopAllApps } from './android/activity.js';
import { AID_SHELL } from './android/control-socket.js';
import { readHandsetState, writeHandsetState } from './android/state.js';
import type { AgentReply, AgentRequest } from './netns-agent.js';

const log = createDebug('v6lab:lab:handset');

/** How long a `tcp:` connection inside the handset may take to open. */
const CONNECT_TIMEOUT_MS = 5_000;

export interface NetnsHandsetHostOptions {
  namespace: string;
  /** The handset's directory: its state file, `fs/` (its `/`), `bin/` (Android's commands). */
  dir: string;
  /**
   * The build: `eng` runs adbd (and so every shell) as root; `userdebug` as the shell user until
   * `adb root`; `user` as the shell user always, as on a production phone.
   */
  buildType: 'user' | 'userdebug' | 'eng';
}

/** Android's shell user (AID_SHELL): what `adb shell` runs as on a phone. */
export const SHELL_UID = AID_SHELL;

export class NetnsHandsetHost implements HandsetHost {
  readonly namespace: string;
  readonly dir: string;
  readonly #env: Record<string, string>;
  #agent: ChildProcess | null = null;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (s: Socket) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  readonly buildType: NetnsHandsetHostOptions['buildType'];
  #root: boolean;

  constructor(options: NetnsHandsetHostOptions) {
    this.namespace = options.namespace;
    this.dir = options.dir;
    this.buildType = options.buildType;
    this.#root = options.buildType === 'eng';
    const root = join(this.dir, 'fs');
    this.#env = {
      PATH: `${join(this.dir, 'bin')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      V6LAB_HANDSET_DIR: this.dir,
      HOME: join(root, 'data/local/tmp'),
      TMPDIR: join(root, 'data/local/tmp'),
      ANDROID_DATA: join(root, 'data'),
      EXTERNAL_STORAGE: join(root, 'sdcard'),
      LANG: 'C',
    };
  }

  /** The environment commands get (PATH with Android's commands first, the handset's dirs). */
  get environment(): Record<string, string> {
    return { ...this.#env };
  }

  /** Whether commands run as root (`adb root` on a userdebug build, or an eng build). */
  get root(): boolean {
    return this.#root;
  }

  setRoot(root: boolean): { message: string; restarts: boolean } {
    if (root && this.buildType === 'user') return { message: 'adbd cannot run as root in production builds\n', restarts: false };
    if (root === this.#root) return { message: root ? 'adbd is already running as root\n' : 'adbd not running as root\n', restarts: false };
    this.#root = root;
    return { message: root ? 'restarting adbd as root\n' : 'restarting adbd as non root\n', restarts: true };
  }

  /**
   * What a reboot takes away: every running app, `adb root` (adbd starts again as the build's
   * user), and the properties setprop set, but `persist.*` ones. Settings and the APN table are
   * files and stay, as on a phone.
   */
  async reboot(): Promise<void> {
    log('reboot %s', this.namespace);
    this.#root = this.buildType === 'eng';
    await stopAllApps(this.dir);
    const state = readHandsetState(this.dir);
    const kept = Object.fromEntries(Object.entries(state.props).filter(([name]) => name.startsWith('persist.')));
    if (Object.keys(kept).length !== Object.keys(state.props).length) writeHandsetState(this.dir, { ...state, props: kept });
  }

  spawn(command: string): ChildProcess {
    log('spawn in %s as %s: sh -c %j', this.namespace, this.#root ? 'root' : 'shell', command);
    const user = this.#root ? [] : ['setpriv', `--reuid=${SHELL_UID}`, `--regid=${SHELL_UID}`, '--clear-groups'];
    return spawn('ip', ['netns', 'exec', this.namespace, ...user, 'sh', '-c', command], {
      detached: true,
      cwd: join(this.dir, 'fs'),
      env: this.#env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  connect(port: number, host = '127.0.0.1'): Promise<Socket> {
    const agent = this.agent();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`connect to ${host} port ${port} in ${this.namespace}: no answer within ${CONNECT_TIMEOUT_MS} ms`));
      }, CONNECT_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      agent.send({ id, port, host } satisfies AgentRequest);
    });
  }

  resolvePath(devicePath: string): string {
    return resolveUnderRoot(join(this.dir, 'fs'), devicePath);
  }

  /** Stops the namespace agent. */
  close(): void {
    this.#agent?.kill('SIGKILL');
    this.#agent = null;
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`connect ${id} in ${this.namespace}: the handset is closing`));
    }
    this.#pending.clear();
  }

  private agent(): ChildProcess {
    if (this.#agent !== null && this.#agent.exitCode === null && this.#agent.connected) return this.#agent;
    const script = fileURLToPath(new URL('./netns-agent.js', import.meta.url));
    // `ip netns exec` execs node in place, so the IPC channel fork() sets up survives it.
    const agent = fork(script, [], {
      execPath: 'ip',
      execArgv: ['netns', 'exec', this.namespace, process.execPath, ...process.execArgv],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'json',
    });
    agent.on('message', (reply: AgentReply, handle: unknown) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      clearTimeout(pending.timer);
      if (reply.ok && handle) pending.resolve(handle as Socket);
      else pending.reject(new Error(`connect in ${this.namespace}: ${reply.ok ? 'no socket handed over' : reply.error}`));
    });
    agent.on('exit', () => {
      if (this.#agent === agent) this.#agent = null;
    });
    this.#agent = agent;
    return agent;
  }
}
