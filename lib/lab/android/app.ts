/**
 * An emulated app's process (CONTRACTS.md section 5). Started by the handset's activity manager
 * (`am start`, `monkey`) inside the handset's network namespace:
 *
 *   node app.js PKG [URL]    (V6LAB_HANDSET_DIR names the handset's directory; URL for the browser)
 *
 * It reads what it needs as root (its JSON, the lab CA, the handset's resolv.conf), opens its log
 * and binds its control socket, then drops to the app's own uid, as zygote does after forking an
 * app, so every socket it opens is the app's in /proc/net/tcp6. Then it loads its start page for
 * real: names through the handset's resolver, sockets by the request's mode (./happy-eyeballs.ts),
 * TLS with SNI on 443, `GET /bytes/N`, UDP datagrams. It stays in the foreground until
 * force-stopped, serving navigation on `apps/PKG.sock` (JSON lines):
 *   {"page":null}         -> {"package","page","links","loading"}
 *   {"open":"article"}    -> tap the link "article": loads that page, answers once it has loaded
 *   {"back":true}         -> the previous page (no requests, as a page from the back stack)
 *   {"foreground":true}   -> brought to the front by a second launch (Android starts no new process)
 *   {"view":URL}          -> the browser (./browser.ts) gets a new URL (onNewIntent): loads it, answers at once
 */
import dgram from 'node:dgram';
import { promises as dns } from 'node:dns';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { isRun, loadApp, type AppRequest, type AppRun, type EmulatedApp } from '../world.js';
import { APP_PROGRAM_PATH } from '../app-programs.js';
import { BROWSER_PACKAGE, browserApp, installedApps } from './browser.js';
import { connectByMode, tcpConnector, type AppResolver, type Candidate, type ConnectOptions, type ConnectResult, type Connector } from './happy-eyeballs.js';
import { AID_ROOT, AID_SHELL, AID_SYSTEM, peerAllowed, withPeer } from './control-socket.js';
import { APPS_DIR, readHandsetState } from './state.js';

export { APPS_DIR };
export const appLogPath = (dir: string, pkg: string): string => join(dir, APPS_DIR, `${pkg}.log`);
export const appSocketPath = (dir: string, pkg: string): string => join(dir, APPS_DIR, `${pkg}.sock`);
/** The process's own stdout and stderr (a crash's stack lands here), as logcat would hold it. */
export const appConsolePath = (dir: string, pkg: string): string => join(dir, APPS_DIR, `${pkg}.logcat`);
/** The app's data directory (the app's uid's alone): a real program's empty home is made in it. */
export const appDataPath = (dir: string, pkg: string): string => join(dir, APPS_DIR, `${pkg}.data`);

/** A whole request (connect, TLS, transfer) gives up after this. */
const REQUEST_DEADLINE_MS = 30_000;
/** How long an idle kept-alive connection stays open (the world's servers close theirs after 5 s). */
const IDLE_CONNECTION_MS = 60_000;
/**
 * A UDP transfer asks for at most this much at a time, as QUIC's flow control window bounds what
 * is in flight: the world's server sends a request's answer at once, and a burst larger than a
 * socket's receive buffer would be dropped at the receiver.
 */
const UDP_WINDOW = 48_000;
/** A window whose datagrams stopped for this long is taken as lost in part: the rest is asked again. */
const UDP_WINDOW_IDLE_MS = 300;
/** Windows in a row that bring nothing before the transfer gives up. */
const UDP_MAX_STALLS = 3;
/** Longest control line accepted. */
const MAX_CONTROL_LINE = 64 * 1024;

export interface AppLogEntry {
  event: string;
  [key: string]: unknown;
}

export interface RequestOutcome {
  page: string;
  host: string;
  transport: 'tcp' | 'udp';
  port: number;
  mode: AppRequest['mode'];
  repetition: number;
  ok: boolean;
  /** Payload bytes received (HTTP body, or UDP datagram bytes). */
  bytes: number;
  family: 4 | 6 | null;
  address: string | null;
  ms: number;
  error: string | null;
}

export interface AppEnvironment {
  resolver: AppResolver;
  literals: Readonly<Record<string, string>>;
  /** The lab CA (PEM); null: verify against nothing, i.e. fail every TLS request. */
  ca: string | null;
  log(entry: AppLogEntry): void;
  connect?: ConnectOptions;
  /** Where a real program's empty home is made (the app's data directory). @default os.tmpdir() */
  dataDir?: string;
}

/** What a page's real program did, as the app's log keeps it (event `run`). */
export interface RunOutcome {
  page: string;
  run: string[];
  repetition: number;
  /** Exit status 0 within the time limit. */
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  ms: number;
  /** Why it did not run at all (spawn's error), else null. */
  error: string | null;
}

/** How long a real program's output may go on arriving after it exited (a child it left may hold its pipes). */
const RUN_DRAIN_MS = 1_000;

/** Bytes of a real program's stdout and of its stderr the app's log keeps (the first ones; the count of all is kept too). */
export const RUN_OUTPUT_KEPT = 16 * 1024;

/**
 * Runs a page's real program (issue 20): its argv without a shell, in its own process group, with
 * only PATH, HOME, TMPDIR and LANG set, a fresh empty home in the app's data directory (removed
 * after), and the page's time limit (past it the whole group is killed; what it leaves in its
 * group when it exits is killed then). The app's process has
 * dropped to the app's uid and is in the handset's namespaces: the program is too, and resolves
 * through the handset's /etc/resolv.conf. Logs the event `run` with its exit, time and bounded output.
 */
export async function performRun(step: AppRun, page: string, repetition: number, env: AppEnvironment): Promise<RunOutcome> {
  const started = performance.now();
  const home = mkdtempSync(join(env.dataDir ?? tmpdir(), 'home-'));
  const kept = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const total = { stdout: 0, stderr: 0 };
  let timedOut = false;
  const result = await new Promise<{ exitCode: number | null; signal: string | null; error: string | null }>((resolve) => {
    const child = spawn(step.run[0]!, step.run.slice(1), {
      cwd: home,
      env: { PATH: APP_PROGRAM_PATH, HOME: home, TMPDIR: home, LANG: 'C.UTF-8' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const name of ['stdout', 'stderr'] as const) {
      child[name].on('data', (chunk: Buffer) => {
        const room = RUN_OUTPUT_KEPT - Math.min(RUN_OUTPUT_KEPT, total[name]);
        if (room > 0) kept[name].push(chunk.subarray(0, room));
        total[name] += chunk.length;
      });
    }
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // none left
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, step.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ exitCode: null, signal: null, error: error.message });
    });
    // Done once it exited and its output ended; a process it left behind holding its pipes
    // holds the page RUN_DRAIN_MS at most past the exit.
    let exited: { exitCode: number | null; signal: string | null } | null = null;
    let open = 2;
    const finish = () => {
      if (exited === null) return;
      clearTimeout(timer);
      clearTimeout(drain);
      child.stdout.destroy();
      child.stderr.destroy();
      // What it left in its group ends with it: a page's program does not outlive its run.
      killGroup();
      resolve({ ...exited, error: null });
    };
    let drain: NodeJS.Timeout | undefined;
    for (const stream of [child.stdout, child.stderr]) {
      stream.once('end', () => {
        if (--open === 0) finish();
      });
    }
    child.once('exit', (exitCode, signal) => {
      exited = { exitCode, signal };
      if (open === 0) finish();
      else drain = setTimeout(finish, RUN_DRAIN_MS);
    });
  });
  rmSync(home, { recursive: true, force: true });
  const outcome: RunOutcome = {
    page,
    run: step.run,
    repetition,
    ok: result.error === null && !timedOut && result.exitCode === 0,
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut,
    ms: Math.round(performance.now() - started),
    error: result.error,
  };
  env.log({
    event: 'run',
    ...outcome,
    stdout: Buffer.concat(kept.stdout).toString('utf8'),
    stderr: Buffer.concat(kept.stderr).toString('utf8'),
    stdoutBytes: total.stdout,
    stderrBytes: total.stderr,
  });
  return outcome;
}

/** The resolver an app gets on the handset: getaddrinfo, and A/AAAA asked of resolv.conf's servers. */
export function handsetResolver(nameservers: readonly string[]): AppResolver {
  const resolver = new dns.Resolver({ timeout: 2_000, tries: 2 });
  if (nameservers.length > 0) resolver.setServers([...nameservers]);
  return {
    resolve6: (host) => resolver.resolve6(host),
    resolve4: (host) => resolver.resolve4(host),
    async lookup(host) {
      const found = await dns.lookup(host, { all: true, order: 'verbatim' });
      return found.map((f): Candidate => ({ family: f.family === 6 ? 6 : 4, address: f.address }));
    },
  };
}

// nameserver 2001:db8:cafe::53
export function parseResolvConf(text: string): string[] {
  const servers: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    if (match && net.isIP(match[1]!.split('%')[0]!) !== 0) servers.push(match[1]!);
  }
  return servers;
}

/** `GET /bytes/N` over an open stream; resolves with the status, the body's length, and whether the server keeps the connection. */
function httpGet(socket: net.Socket, host: string, bytes: number, userAgent: string): Promise<{ status: number; bytes: number; keepAlive: boolean }> {
  return new Promise((resolve, reject) => {
    const request = http.request({
      createConnection: () => socket,
      method: 'GET',
      path: `/bytes/${bytes}`,
      headers: { host, 'user-agent': userAgent, accept: '*/*', connection: 'keep-alive' },
    });
    request.on('response', (response) => {
      let received = 0;
      response.on('data', (chunk: Buffer) => (received += chunk.length));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, bytes: received, keepAlive: response.headers.connection !== 'close' }));
      response.on('error', reject);
      response.on('aborted', () => reject(new Error(`response cut short after ${received} bytes`)));
    });
    request.on('error', reject);
    request.end();
  });
}

/** TLS over a connected socket: SNI with the host's name (none for a literal, as TLS forbids it). */
function startTls(socket: net.Socket, host: string, literal: boolean, ca: string | null): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket,
      ...(literal ? {} : { servername: host }),
      // The app trusts the lab CA only, and checks the certificate names the host it meant.
      ca: ca ?? [],
      checkServerIdentity: (_name, cert) => tls.checkServerIdentity(host, cert),
      ALPNProtocols: ['http/1.1'],
    });
    secure.once('secureConnect', () => {
      secure.off('error', reject);
      secure.on('error', () => undefined);
      resolve(secure);
    });
    secure.once('error', reject);
  });
}

interface UdpFlow {
  socket: dgram.Socket;
  received: number;
  datagrams: number;
  /** Called on each datagram after the first. */
  onDatagram: (() => void) | null;
}

/** A UDP attempt: the request datagram goes out, and the attempt has "connected" at the first answer. */
export function udpConnector(port: number, bytes: number): Connector<UdpFlow> {
  return {
    open(candidate, signal) {
      return new Promise((resolve, reject) => {
        const socket = dgram.createSocket(candidate.family === 6 ? 'udp6' : 'udp4');
        const flow: UdpFlow = { socket, received: 0, datagrams: 0, onDatagram: null };
        let settled = false;
        const fail = (error: Error): void => {
          if (settled) return;
          settled = true;
          socket.close();
          reject(error);
        };
        signal.addEventListener('abort', () => fail(new Error('cancelled')), { once: true });
        socket.on('error', (error) => {
          if (!settled) fail(error);
        });
        socket.on('message', (message) => {
          flow.received += message.length;
          flow.datagrams += 1;
          if (!settled) {
            settled = true;
            resolve(flow);
          } else {
            flow.onDatagram?.();
          }
        });
        // Node calls back with the error when the connect fails (no route to an IPv6 address on
        // an IPv4-only attach): that is a failed attempt, not a send on an unconnected socket.
        socket.connect(port, candidate.address, (error?: Error) => {
          if (error) {
            if (!settled) fail(error);
            return;
          }
          socket.send(String(Math.min(bytes, UDP_WINDOW)));
        });
      });
    },
    close(flow) {
      flow.socket.close();
    },
  };
}

/**
 * Receives a UDP answer window by window: waits until the window's bytes came or its datagrams
 * stopped, then asks for what is still missing, until every byte came or nothing comes any more.
 */
async function receiveUdp(flow: UdpFlow, bytes: number): Promise<void> {
  const deadline = Date.now() + REQUEST_DEADLINE_MS;
  let expected = Math.min(bytes, UDP_WINDOW);
  let stalls = 0;
  while (flow.received < bytes && Date.now() < deadline) {
    const before = flow.received;
    await new Promise<void>((resolve) => {
      let idle: NodeJS.Timeout;
      const check = (): void => {
        clearTimeout(idle);
        if (flow.received >= expected) done();
        else idle = setTimeout(done, UDP_WINDOW_IDLE_MS);
      };
      function done(): void {
        clearTimeout(idle);
        flow.onDatagram = null;
        resolve();
      }
      flow.onDatagram = check;
      check();
    });
    if (flow.received >= bytes) break;
    stalls = flow.received === before ? stalls + 1 : 0;
    if (stalls >= UDP_MAX_STALLS) break;
    const next = Math.min(UDP_WINDOW, bytes - flow.received);
    expected = flow.received + next;
    flow.socket.send(String(next));
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_resolve, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new Error(`${what}: no answer within ${ms} ms`));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Logs the resolution and every attempt of one connection. */
function logConnect<T>(env: AppEnvironment, base: Record<string, unknown>, result: ConnectResult<T>): void {
  for (const query of result.dns) env.log({ event: 'dns', ...base, ...query });
  for (const attempt of result.attempts) env.log({ event: 'attempt', ...base, ...attempt });
}

/** One request of a page, once: connect by its mode, then transfer. */
export async function performRequest(request: AppRequest, page: string, repetition: number, env: AppEnvironment, userAgent: string): Promise<RequestOutcome> {
  const started = performance.now();
  const base = { page, host: request.host, transport: request.transport, port: request.port, mode: request.mode, repetition };
  // Every way a request ends goes through here, and is logged here (event `request`), as a run logs its own.
  const outcome = (ok: boolean, bytes: number, winner: Candidate | null, error: string | null): RequestOutcome => {
    const done: RequestOutcome = {
      ...base,
      ok,
      bytes,
      family: winner?.family ?? null,
      address: winner?.address ?? null,
      ms: Math.round(performance.now() - started),
      error,
    };
    env.log({ event: 'request', ...done });
    return done;
  };
  const deps = { resolver: env.resolver, literals: env.literals };
  if (request.transport === 'udp') {
    const result = await connectByMode(request.mode, request.host, { ...deps, connector: udpConnector(request.port, request.bytes) }, env.connect);
    logConnect(env, base, result);
    const flow = result.connection;
    if (flow === null) return outcome(false, 0, null, result.error);
    await receiveUdp(flow, request.bytes);
    flow.socket.close();
    const ok = flow.received >= request.bytes;
    return outcome(ok, flow.received, result.winner, ok ? null : `${flow.received} of ${request.bytes} bytes arrived`);
  }
  const result = await connectByMode(request.mode, request.host, { ...deps, connector: tcpConnector(request.port) }, env.connect);
  logConnect(env, base, result);
  const socket = result.connection;
  if (socket === null) return outcome(false, 0, null, result.error);
  let stream: net.Socket = socket;
  let pooled = false;
  try {
    const transfer = async (): Promise<{ status: number; bytes: number; keepAlive: boolean }> => {
      if (request.port === 443) stream = await startTls(socket, request.host, request.mode === 'ipv4-literal', env.ca);
      return httpGet(stream, request.host, request.bytes, userAgent);
    };
    const response = await withDeadline(transfer(), REQUEST_DEADLINE_MS, `${request.host} port ${request.port}`, () => stream.destroy());
    const ok = response.status === 200 && response.bytes === request.bytes;
    if (ok && response.keepAlive) {
      keepIdle(stream);
      pooled = true;
    }
    return outcome(ok, response.bytes, result.winner, ok ? null : `HTTP ${response.status}, ${response.bytes} of ${request.bytes} bytes`);
  } catch (error) {
    return outcome(false, 0, result.winner, (error as NodeJS.ErrnoException).code ?? (error as Error).message);
  } finally {
    if (!pooled) {
      stream.destroy();
      socket.destroy();
    }
  }
}

/**
 * Keeps a finished connection open, idle, as an HTTP client's connection pool does (OkHttp keeps
 * idle connections for 5 minutes), until the server closes it or the idle time runs out; so the
 * app's sockets are there to see in /proc/net/tcp6 after a page has loaded, as on a phone.
 */
function keepIdle(stream: net.Socket): void {
  stream.setTimeout(IDLE_CONNECTION_MS, () => stream.destroy());
  stream.once('end', () => stream.destroy());
  stream.on('error', () => stream.destroy());
  stream.resume();
}

export interface PageView {
  package: string;
  page: string;
  links: string[];
  loading: boolean;
}

/** The app's screens: the current page, its back stack, and page loads. */
export class AppSession {
  #app: EmulatedApp;
  #current: string;
  readonly #history: string[] = [];
  #loading = 0;

  constructor(
    app: EmulatedApp,
    private readonly env: AppEnvironment,
  ) {
    this.#app = app;
    this.#current = app.start;
  }

  get app(): EmulatedApp {
    return this.#app;
  }

  /**
   * A new intent for the running app (Android's onNewIntent), as the browser gets a second URL:
   * it shows `app`'s start page, with no back stack, and loads it. Answers at once, loading, as
   * `am start` does not wait for a page.
   */
  deliver(app: EmulatedApp): PageView {
    if (app.package !== this.#app.package) throw new Error(`an intent for ${app.package} cannot go to ${this.#app.package}`);
    this.#app = app;
    this.#history.length = 0;
    this.#current = app.start;
    // load() logs each outcome; nothing waits for it here.
    void this.load(app.start).catch((error: unknown) => this.env.log({ event: 'error', page: app.start, error: (error as Error).message }));
    return this.view();
  }

  view(): PageView {
    return { package: this.app.package, page: this.#current, links: this.app.pages[this.#current]!.links, loading: this.#loading > 0 };
  }

  /** Loads the start page (at launch). */
  launch(): Promise<(RequestOutcome | RunOutcome)[]> {
    return this.load(this.app.start);
  }

  /** Taps the link `page` of the current page. */
  async open(page: string): Promise<PageView & { requests: (RequestOutcome | RunOutcome)[] }> {
    const links = this.app.pages[this.#current]!.links;
    if (!links.includes(page)) throw new Error(`no link "${page}" on page "${this.#current}" (links: ${links.join(', ') || 'none'})`);
    this.#history.push(this.#current);
    this.#current = page;
    const requests = await this.load(page);
    return { ...this.view(), requests };
  }

  back(): PageView {
    const previous = this.#history.pop();
    if (previous === undefined) throw new Error(`no page before "${this.#current}"`);
    this.#current = previous;
    this.env.log({ event: 'back', page: previous });
    return this.view();
  }

  /** Every request of a page at once, as a screen loads its resources; repeats one after another. */
  async load(page: string): Promise<(RequestOutcome | RunOutcome)[]> {
    this.#loading += 1;
    this.env.log({ event: 'page', page });
    const started = performance.now();
    try {
      const userAgent = `v6lab-app/${this.#app.package}`;
      const perRequest = await Promise.all(
        this.app.pages[page]!.requests.map(async (request) => {
          const outcomes: (RequestOutcome | RunOutcome)[] = [];
          for (let repetition = 1; repetition <= request.repeat; repetition++) {
            // Each logs its own outcome (events `run` and `request`).
            outcomes.push(
              isRun(request) ? await performRun(request, page, repetition, this.env) : await performRequest(request, page, repetition, this.env, userAgent),
            );
          }
          return outcomes;
        }),
      );
      const outcomes = perRequest.flat();
      this.env.log({ event: 'loaded', page, ms: Math.round(performance.now() - started), ok: outcomes.every((o) => o.ok) });
      return outcomes;
    } finally {
      this.#loading -= 1;
    }
  }
}

export type ControlRequest = { page: null } | { open: string } | { back: true } | { foreground: true } | { view: string };

/** Answers one control line. */
export async function control(session: AppSession, line: string, log: AppEnvironment['log']): Promise<unknown> {
  let request: Record<string, unknown>;
  try {
    request = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { error: 'not JSON: send one JSON object per line' };
  }
  try {
    if (typeof request.open === 'string') return await session.open(request.open);
    if (request.back === true) return session.back();
    if (typeof request.view === 'string') {
      if (session.app.package !== BROWSER_PACKAGE) return { error: `${session.app.package} has no activity for a VIEW intent` };
      log({ event: 'view', url: request.view });
      return session.deliver(browserApp(request.view));
    }
    if (request.foreground === true) {
      log({ event: 'foreground', page: session.view().page });
      return session.view();
    }
    if ('page' in request) return session.view();
    return { error: `unknown request: expected {"page":null}, {"open":PAGE}, {"back":true}, {"foreground":true} or {"view":URL}` };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * Serves the control socket: JSON lines in, one JSON line out for each, for the handset's own
 * processes running as one of `uids` (the app itself, root, the system and the shell user, whose
 * UI driver taps links); anyone else is closed before a line is read.
 */
export function serveControl(server: net.Server, session: AppSession, log: AppEnvironment['log'], uids: ReadonlySet<number>): void {
  server.on('connection', (socket) => {
    let buffered = '';
    socket.on('error', () => undefined);
    withPeer(socket, (peer) => {
      if (!peerAllowed(peer, uids)) {
        log({ event: 'refused', peer: { pid: peer.pid, uid: peer.uid } });
        socket.destroy();
        return;
      }
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        if (buffered.length > MAX_CONTROL_LINE && !buffered.includes('\n')) {
          socket.destroy();
          return;
        }
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line === '') continue;
          void control(session, line, log).then((reply) => {
            if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
          });
        }
      });
    });
  });
}

/** Gives up root for the app's uid, as zygote does after forking an app. */
function dropPrivileges(uid: number): void {
  if (process.getuid?.() !== 0 || uid === 0) return;
  process.setgroups?.([]);
  process.setgid?.(uid);
  process.setuid?.(uid);
}

async function main(dir: string, pkg: string, url: string | null): Promise<void> {
  const state = readHandsetState(dir);
  const installed = installedApps(state).find((a) => a.package === pkg);
  const file = state.appFiles?.[pkg];
  // The browser's page is made from the URL it opens; every other app's comes from its JSON.
  const app = pkg === BROWSER_PACKAGE ? browserApp(url) : file === undefined ? null : loadApp(file);
  if (installed === undefined || app === null) throw new Error(`${pkg} is not installed on ${state.serial}`);
  const ca = state.caCertFile ? readFileSync(state.caCertFile, 'utf8') : null;
  let nameservers: string[] = [];
  try {
    nameservers = parseResolvConf(readFileSync('/etc/resolv.conf', 'utf8'));
  } catch {
    // No resolv.conf: the resolver's defaults, as getaddrinfo would.
  }
  mkdirSync(join(dir, APPS_DIR), { recursive: true, mode: 0o755 });
  const logFd = openSync(appLogPath(dir, pkg), 'a', 0o644);
  const log = (entry: AppLogEntry): void => {
    writeSync(logFd, `${JSON.stringify({ t: new Date().toISOString(), ...entry })}\n`);
  };
  const socketPath = appSocketPath(dir, pkg);
  rmSync(socketPath, { force: true });
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  // The shell user taps links too (the UI driver goes through adb).
  chmodSync(socketPath, 0o666);
  // The app's data directory: its uid's alone, where a real program's home is made.
  const dataDir = appDataPath(dir, pkg);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0) {
    for (const path of [appLogPath(dir, pkg), socketPath, dataDir]) chownSync(path, installed.uid, installed.uid);
  }
  const resolver = handsetResolver(nameservers);
  process.title = pkg;
  dropPrivileges(installed.uid);
  const env: AppEnvironment = { resolver, literals: state.worldLiterals ?? {}, ca, log, dataDir };
  const session = new AppSession(app, env);
  serveControl(server, session, log, new Set([installed.uid, AID_ROOT, AID_SYSTEM, AID_SHELL]));
  log({ event: 'start', package: pkg, pid: process.pid, uid: process.getuid?.() ?? null, nameservers, page: app.start, ...(url === null ? {} : { url }) });
  process.on('SIGTERM', () => {
    log({ event: 'stop', signal: 'SIGTERM' });
    closeSync(logFd);
    process.exit(0);
  });
  await session.launch();
}

// Run as a program by the activity manager.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.env.V6LAB_HANDSET_DIR;
  const pkg = process.argv[2];
  if (!dir || !pkg) {
    process.stderr.write('usage: V6LAB_HANDSET_DIR=DIR app.js PACKAGE [URL]\n');
    process.exit(2);
  }
  main(dir, pkg, process.argv[3] ?? null).catch((error: unknown) => {
    process.stderr.write(`${pkg}: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
