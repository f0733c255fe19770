/**
 * A lab handset as the adb daemon sees it: a container (./container.ts). Commands run with
 * `sh -c` inside it as its shell user (uid 2000), or as its root after `adb root` on a userdebug
 * build and always on an eng one, with Android's commands first on PATH; the sync service runs
 * inside it too (./adbd/sync-agent.ts), so a path means what it means on the handset and a
 * symlink cannot lead out of it. TCP connections (`adb forward`) open inside its network
 * namespace.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import createDebug from 'debug';
import type { HandsetHost } from './adbd/host.js';
import { AID_SHELL } from './android/control-socket.js';
import { handsetEnvironment } from './android/environment.js';
import { updateHandsetState } from './android/state.js';
import { type HandsetContainer, INSIDE } from './container.js';
import type { AgentReply, AgentRequest } from './netns-agent.js';

const log = createDebug('v6lab:lab:handset');

/** How long a `tcp:` connection inside the handset may take to open. */
const CONNECT_TIMEOUT_MS = 5_000;

export interface ContainerHandsetHostOptions {
  namespace: string;
  /** The handset's directory on the host: its state file, `fs/`. */
  dir: string;
  /** The running handset. */
  container: HandsetContainer;
  /** The host uid of the handset's shell user: the owner of `adb forward` connections. */
  shellHostUid: number;
  /** The sync service's program, as a path inside the container. */
  syncAgent: string;
  /**
   * The build: `eng` runs adbd (and so every shell) as root; `userdebug` as the shell user until
   * `adb root`; `user` as the shell user always, as on a production phone.
   */
  buildType: 'user' | 'userdebug' | 'eng';
}

/** Android's shell user (AID_SHELL): what `adb shell` runs as on a phone. */
export const SHELL_UID = AID_SHELL;

export class ContainerHandsetHost implements HandsetHost {
  readonly namespace: string;
  readonly dir: string;
  readonly #container: HandsetContainer;
  readonly #syncAgent: string;
  readonly #shellHostUid: number;
  readonly #env = handsetEnvironment(INSIDE.handsetDir);
  #agent: ChildProcess | null = null;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (s: Socket) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  readonly buildType: ContainerHandsetHostOptions['buildType'];
  #root: boolean;

  constructor(options: ContainerHandsetHostOptions) {
    this.namespace = options.namespace;
    this.dir = options.dir;
    this.#container = options.container;
    this.#syncAgent = options.syncAgent;
    this.#shellHostUid = options.shellHostUid;
    this.buildType = options.buildType;
    this.#root = options.buildType === 'eng';
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
   * A reboot: the container ends (every process of the handset with it) and a new one boots;
   * `adb root` is gone (adbd starts again as the build's user), so are the properties setprop
   * set but `persist.*` ones and the running apps. Settings and the APN table are files and
   * stay, as on a phone.
   */
  async reboot(): Promise<void> {
    log('reboot %s', this.namespace);
    this.#root = this.buildType === 'eng';
    await this.#container.stop();
    updateHandsetState(this.dir, (state) => {
      state.props = Object.fromEntries(Object.entries(state.props).filter(([name]) => name.startsWith('persist.')));
      state.running = {};
    });
    await this.#container.start();
  }

  spawn(command: string): ChildProcess {
    log('spawn in %s as %s: sh -c %j', this.namespace, this.#root ? 'root' : 'shell', command);
    return this.#enter(['sh', '-c', command]);
  }

  /** The sync service, inside the handset as whoever adbd runs as: it speaks on stdin and stdout. */
  spawnSync(): ChildProcess {
    return this.#enter([process.execPath, this.#syncAgent]);
  }

  #enter(argv: readonly string[]): ChildProcess {
    const [file, ...args] = this.#container.enter(argv, this.#root ? 0 : SHELL_UID);
    return spawn(file!, args, { detached: true, env: this.#env, stdio: ['pipe', 'pipe', 'pipe'] });
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
    const agent = fork(script, [String(this.#shellHostUid)], {
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
