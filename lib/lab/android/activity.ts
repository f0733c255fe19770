/**
 * Android's activity manager on a virtual handset: `am start`, `am force-stop` and `monkey -p`,
 * with Android's output. On a phone `am` asks system_server over binder, which has zygote fork
 * the app under the app's uid; here the handset's shell (the shell user) asks the lab supervisor
 * over `<handset>/activity.sock`, which starts the app's process (./app.ts) as root inside the
 * handset's namespace, and the process drops to the app's uid itself. Without that socket (a
 * handset directory with no supervisor, as in unit tests) the command does the work in-process.
 *
 * A launched app stays until force-stopped; launching it again brings it to the front without a
 * second process, as on Android. Running apps are recorded in handset.json `running` by PID and
 * /proc start time. A VIEW intent for an http(s) URL opens the built-in browser (./browser.ts); a
 * running browser gets the new URL without a second process. `android.settings.APN_SETTINGS`
 * opens Settings' Access Point Names list (./settings-app.ts), drawn by the UI tools, no process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, type Server } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import createDebug from 'debug';
import { isRunning, processDescendants, processStartTime, processUid, readProcStat, sleep } from '../network/process.js';
import { appConsolePath, appSocketPath, APPS_DIR } from './app.js';
import { ACTION_VIEW, BROWSER_PACKAGE, CATEGORY_BROWSABLE, CATEGORY_DEFAULT, installedApps, webTarget } from './browser.js';
import { AID_ROOT, AID_SHELL, serveJsonLines } from './control-socket.js';
import { ACTION_APN_SETTINGS, APN_SETTINGS_ACTIVITY, closeSettings, openApnSettings, SETTINGS_PACKAGE } from './settings-app.js';
import { readHandsetState, updateHandsetState, type HandsetState, type RunningApp } from './state.js';

const log = createDebug('v6lab:lab:activity');

export const ACTIVITY_SOCKET = 'activity.sock';
export const MAIN_ACTIVITY = 'MainActivity';
export const ACTION_MAIN = 'android.intent.action.MAIN';
export const CATEGORY_LAUNCHER = 'android.intent.category.LAUNCHER';
/** monkey's exit code when `-p` names nothing it can launch. */
export const MONKEY_ABORTED = 251;
/** How long a launched process may take to answer on its control socket. */
const LAUNCH_TIMEOUT_MS = 15_000;

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}
const result = (stdout: string, stderr = '', code = 0): CommandResult => ({ stdout, stderr, code });

/**
 * Starts an app's process; returns it once spawned. `data` is the URL the browser opens with
 * (`app.js PKG URL`), absent for any other launch.
 */
export type Launcher = (pkg: string, data?: string) => ChildProcess;

/** An intent as `am start` builds it from its arguments. */
export interface StartIntent {
  action: string | null;
  categories: string[];
  /** `-n pkg/.Cls` as given, expanded: { package, className }. */
  component: { package: string; className: string } | null;
  /** The bare package argument (`am start ... PKG`), or `-p PKG`. */
  package: string | null;
  /** `-d URI`, or a bare URI argument: the intent's data. */
  data: string | null;
  wait: boolean;
  /** -S: force-stop the app before starting it. */
  stopFirst: boolean;
}

/** `pkg/.Cls` or `pkg/full.Cls`, as ComponentName.unflattenFromString reads it. */
export function parseComponent(text: string): { package: string; className: string } | null {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) return null;
  const pkg = text.slice(0, slash);
  const cls = text.slice(slash + 1);
  return { package: pkg, className: cls.startsWith('.') ? pkg + cls : cls };
}

/** `{pkg/.Cls}` short form when the class is in the package, as flattenToShortString prints. */
function shortComponent(c: { package: string; className: string }): string {
  return `${c.package}/${c.className.startsWith(`${c.package}.`) ? c.className.slice(c.package.length) : c.className}`;
}

/**
 * A data URI as Intent.toString prints it (Uri.toSafeString): an http, https, ftp or rtsp URL as
 * its host and port and `/...`; tel, sip, sms, smsto, mailto and nfc with every character but
 * `-@.` as `x`; any other as its scheme-specific part (no fragment).
 */
function safeUri(uri: string): string {
  const scheme = /^([^:/?#]+):/.exec(uri)?.[1];
  const ssp = uri.slice(scheme === undefined ? 0 : scheme.length + 1).split('#')[0]!;
  if (scheme === undefined) return ssp;
  if (/^(tel|sip|sms|smsto|mailto|nfc)$/i.test(scheme)) return `${scheme}:${ssp.replace(/[^-@.]/g, 'x')}`;
  if (/^(https?|ftp|rtsp)$/i.test(scheme)) {
    const authority = /^\/\/([^/?#]*)/.exec(ssp)?.[1] ?? '';
    return `${scheme}://${authority.slice(authority.lastIndexOf('@') + 1)}/...`;
  }
  return `${scheme}:${ssp}`;
}

// Starting: Intent { act=android.intent.action.MAIN cat=[android.intent.category.LAUNCHER] cmp=com.example.news/.MainActivity }
// Starting: Intent { act=android.intent.action.VIEW dat=https://www.example.com/... }
export function renderIntent(intent: StartIntent, flags?: string): string {
  const parts: string[] = [];
  if (intent.action !== null) parts.push(`act=${intent.action}`);
  if (intent.categories.length > 0) parts.push(`cat=[${intent.categories.join(',')}]`);
  if (intent.data !== null) parts.push(`dat=${safeUri(intent.data)}`);
  if (flags !== undefined) parts.push(`flg=${flags}`);
  if (intent.package !== null) parts.push(`pkg=${intent.package}`);
  if (intent.component !== null) parts.push(`cmp=${shortComponent(intent.component)}`);
  return `Intent { ${parts.join(' ')} }`;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Options of `am start` that take a value we have no use for. */
const IGNORED_WITH_VALUE = new Set([
  '--user',
  '-f',
  '--display',
  '--windowingMode',
  '--activityType',
  '--task',
  '-P',
  '--start-profiler',
  '--sampling',
  '-R',
  '-t',
]);
const IGNORED_FLAGS = new Set(['-D', '-N', '--streaming', '--track-allocation', '--task-overlay', '--lock-task']);
/** Extras: `--es KEY VALUE` and friends. */
const EXTRAS = new Set(['-e', '--es', '--esn', '--ez', '--ei', '--el', '--ef', '--eu', '--ecn', '--eia', '--ela', '--efa', '--esa']);

/** Reads `am start` arguments (after `start`). Throws UsageError with Android's message. */
export function parseAmStart(args: readonly string[]): StartIntent {
  const intent: StartIntent = { action: null, categories: [], component: null, package: null, data: null, wait: false, stopFirst: false };
  const value = (i: number, flag: string): string => {
    const v = args[i + 1];
    if (v === undefined) throw new UsageError(`Error: Argument expected after "${flag}"`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-W') intent.wait = true;
    else if (arg === '-S') intent.stopFirst = true;
    else if (arg === '-n') {
      const text = value(i++, arg);
      const component = parseComponent(text);
      if (component === null) throw new UsageError(`Error: Bad component name: ${text}`);
      intent.component = component;
    } else if (arg === '-a') intent.action = value(i++, arg);
    else if (arg === '-c') intent.categories.push(value(i++, arg));
    else if (arg === '-p') intent.package = value(i++, arg);
    else if (arg === '-d') intent.data = value(i++, arg);
    else if (IGNORED_WITH_VALUE.has(arg)) value(i++, arg);
    else if (IGNORED_FLAGS.has(arg)) continue;
    else if (EXTRAS.has(arg)) {
      value(i, arg);
      value(i + 1, arg);
      i += 2;
    } else if (arg.startsWith('-')) throw new UsageError(`Error: Unknown option: ${arg}`);
    else if (arg.includes('/') && !arg.includes(':')) {
      const component = parseComponent(arg);
      if (component === null) throw new UsageError(`Error: Bad component name: ${arg}`);
      intent.component = component;
    } else if (!arg.includes(':')) intent.package = arg;
    else {
      // A bare URI is Intent.parseUri's: a VIEW intent for that data, unless -a says otherwise.
      intent.data = arg;
      intent.action ??= ACTION_VIEW;
    }
  }
  if (intent.component === null && intent.package === null && intent.action === null && intent.data === null) throw new UsageError('Error: No intent supplied');
  return intent;
}

export interface MonkeyArgs {
  packages: string[];
  categories: string[];
  count: number | null;
}

/** Reads `monkey` arguments: `-p PKG`, `-c CATEGORY`, the event count; other options skipped. */
export function parseMonkey(args: readonly string[]): MonkeyArgs {
  const parsed: MonkeyArgs = { packages: [], categories: [], count: null };
  const withValue = new Set([
    '-s',
    '--throttle',
    '--seed',
    '--pct-touch',
    '--pct-motion',
    '--pct-trackball',
    '--pct-nav',
    '--pct-majornav',
    '--pct-syskeys',
    '--pct-appswitch',
    '--pct-flip',
    '--pct-anyevent',
    '--pct-pinchzoom',
    '--pct-permission',
    '--pkg-blacklist-file',
    '--pkg-whitelist-file',
  ]);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-p' || arg === '--pkg') {
      const v = args[++i];
      if (v === undefined) throw new UsageError('** Error: Missing argument for -p');
      parsed.packages.push(v);
    } else if (arg === '-c') {
      const v = args[++i];
      if (v === undefined) throw new UsageError('** Error: Missing argument for -c');
      parsed.categories.push(v);
    } else if (withValue.has(arg)) i++;
    else if (arg.startsWith('-')) continue;
    else if (/^\d+$/.test(arg)) parsed.count = Number(arg);
    else throw new UsageError(`** Error: Invalid argument: ${arg}`);
  }
  return parsed;
}

/** Whether the recorded process of `pkg` still runs. */
async function liveProcess(state: HandsetState, pkg: string): Promise<RunningApp | null> {
  const record = state.running[pkg];
  if (record === undefined) return null;
  return (await isRunning(record)) ? record : null;
}

/** One JSON request on the app's control socket; rejects on no answer by the deadline. */
export function askApp(dir: string, pkg: string, request: object, timeoutMs = 5_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = connect(appSocketPath(dir, pkg));
    let buffered = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${pkg}: no answer on its control socket within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      socket.destroy();
      try {
        resolve(JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>);
      } catch (error) {
        reject(error as Error);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Waits until a new app process answers on its control socket, or has died. */
async function waitUntilReady(dir: string, pkg: string, proc: RunningApp): Promise<void> {
  const deadline = Date.now() + LAUNCH_TIMEOUT_MS;
  for (;;) {
    if (existsSync(appSocketPath(dir, pkg))) {
      try {
        await askApp(dir, pkg, { page: null }, 1_000);
        return;
      } catch {
        // Not listening yet.
      }
    }
    if (!(await isRunning(proc))) throw new Error(`${pkg} died at start: ${consoleTail(dir, pkg)}`);
    if (Date.now() > deadline) throw new Error(`${pkg} did not answer within ${LAUNCH_TIMEOUT_MS} ms: ${consoleTail(dir, pkg)}`);
    await sleep(25);
  }
}

function consoleTail(dir: string, pkg: string): string {
  try {
    return readFileSync(appConsolePath(dir, pkg), 'utf8').slice(-1500).trim() || '(no output)';
  } catch {
    return '(no output)';
  }
}

/** Records (or forgets) a running app, re-reading the state file just before writing it. */
function recordRunning(dir: string, pkg: string, proc: RunningApp | null): void {
  updateHandsetState(dir, (state) => {
    if (proc === null) delete state.running[pkg];
    else state.running[pkg] = proc;
  });
}

/** One launch or stop of a package at a time, so two `am start` at once make one process. */
const packageLocks = new Map<string, Promise<unknown>>();
function exclusive<T>(dir: string, pkg: string, work: () => Promise<T>): Promise<T> {
  const key = `${dir}\0${pkg}`;
  const run = (packageLocks.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
  const tail = run.catch(() => undefined);
  packageLocks.set(key, tail);
  void tail.then(() => {
    if (packageLocks.get(key) === tail) packageLocks.delete(key);
  });
  return run;
}

/** SIGKILL to the app's process group, as ActivityManager's force-stop kills the app's processes. */
function stopApp(dir: string, pkg: string): Promise<boolean> {
  return exclusive(dir, pkg, () => stopUnlocked(dir, pkg));
}

/** The first uid Android gives an app (Process.FIRST_APPLICATION_UID); below it are system uids. */
const FIRST_APPLICATION_UID = 10_000;

/**
 * Whether the process recorded for `pkg` is that app's and may be killed by root: handset.json
 * is a file the handset's shell user can write, so a record is believed only where the kernel
 * agrees: the process runs as the app's own uid (an app uid, never root's or a system one), with
 * the start time recorded, and leads its own process group (an app is started as one).
 */
async function isAppProcess(state: HandsetState, pkg: string, proc: RunningApp): Promise<boolean> {
  const app = installedApps(state).find((a) => a.package === pkg);
  if (app === undefined || proc.pid <= 1 || proc.pid === process.pid || proc.uid < FIRST_APPLICATION_UID) return false;
  // An app starts as root and drops to its uid once its control socket listens: a stop in
  // that instant waits for the drop (1 s at most) rather than believe a root process.
  const deadline = Date.now() + 1_000;
  for (;;) {
    const [stat, uid] = await Promise.all([readProcStat(proc.pid), processUid(proc.pid)]);
    if (stat === null || stat.startTime !== proc.startTime || stat.processGroup !== proc.pid) return false;
    if (uid === proc.uid) return true;
    if (uid !== 0 || Date.now() > deadline) return false;
    await sleep(10);
  }
}

async function stopUnlocked(dir: string, pkg: string): Promise<boolean> {
  const state = readHandsetState(dir);
  let proc = await liveProcess(state, pkg);
  if (proc !== null && !(await isAppProcess(state, pkg, proc))) {
    log('force-stop %s: the record names pid %d, which is not that app: not killed', pkg, proc.pid);
    proc = null;
  }
  if (proc !== null) {
    // Android kills every process of the app, not only the one zygote forked: a program the app
    // ran in a process group of its own (a page's real program, issue 20) goes too. Its
    // descendants are found before the app dies (after, they are init's) and are in the
    // handset's own PID namespace.
    const descendants = await processDescendants(proc.pid);
    log('force-stop %s: SIGKILL to process group %d and %d descendant(s)', pkg, proc.pid, descendants.length);
    const kill = (target: number) => {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    };
    kill(-proc.pid);
    for (const child of descendants) {
      if ((await readProcStat(child.pid))?.startTime !== child.startTime) continue;
      if (child.processGroup === child.pid) kill(-child.pid);
      kill(child.pid);
    }
    const deadline = Date.now() + 2_000;
    while ((await isRunning(proc)) && Date.now() < deadline) await sleep(10);
  }
  if (state.running[pkg] !== undefined) recordRunning(dir, pkg, null);
  rmSync(appSocketPath(dir, pkg), { force: true });
  return proc !== null;
}

/** `delivered`: a running app got the new intent's data (onNewIntent), as a browser gets a URL. */
type StartOutcome = { kind: 'cold' | 'front' | 'delivered'; ms: number };

/** Starts `pkg`'s process, or brings the running one to the front (with `data`: hands it the URL). */
function startApp(dir: string, pkg: string, launch: Launcher, data?: string): Promise<StartOutcome> {
  return exclusive(dir, pkg, () => startUnlocked(dir, pkg, launch, data));
}

async function startUnlocked(dir: string, pkg: string, launch: Launcher, data?: string): Promise<StartOutcome> {
  const started = Date.now();
  const state = readHandsetState(dir);
  const uid = installedApps(state).find((a) => a.package === pkg)!.uid;
  if ((await liveProcess(state, pkg)) !== null) {
    if (data === undefined) {
      await askApp(dir, pkg, { foreground: true });
      return { kind: 'front', ms: Date.now() - started };
    }
    const reply = await askApp(dir, pkg, { view: data });
    if (typeof reply.error === 'string') throw new Error(reply.error);
    return { kind: 'delivered', ms: Date.now() - started };
  }
  const child = launch(pkg, data);
  const pid = child.pid;
  const startTime = pid === undefined ? null : await processStartTime(pid);
  if (pid === undefined || startTime === null) throw new Error(`${pkg} did not start: ${consoleTail(dir, pkg)}`);
  child.unref();
  const proc: RunningApp = { pid, startTime, uid, startedAt: new Date().toISOString() };
  recordRunning(dir, pkg, proc);
  try {
    await waitUntilReady(dir, pkg, proc);
  } catch (error) {
    await stopUnlocked(dir, pkg);
    throw error;
  }
  return { kind: 'cold', ms: Date.now() - started };
}

/**
 * This process's Node options with every `--import`/`--loader` module made absolute (tsx when run
 * from sources), so the app's process, started in another directory, loads the same ones.
 */
export function portableExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const absolute = (specifier: string): string => {
    if (/^(file:|node:|data:)/.test(specifier) || specifier.startsWith('/')) return specifier;
    try {
      // createRequire resolves under tsx's CJS transform too, where import.meta.resolve is absent.
      return pathToFileURL(createRequire(import.meta.url).resolve(specifier)).href;
    } catch {
      return specifier;
    }
  };
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    const joined = /^(--import|--loader|--experimental-loader)=(.*)$/.exec(arg);
    if (joined) out.push(`${joined[1]}=${absolute(joined[2]!)}`);
    else if ((arg === '--import' || arg === '--loader' || arg === '--experimental-loader') && execArgv[i + 1] !== undefined) {
      out.push(arg, absolute(execArgv[++i]!));
    } else out.push(arg);
  }
  return out;
}

/**
 * Spawns an app's process detached (its own process group, so a closing adb stream does not take
 * it along), stdout and stderr to `apps/PKG.logcat`.
 */
export function appLauncher(dir: string, env: NodeJS.ProcessEnv): Launcher {
  // The app runner next to this module, .ts from sources (run under tsx) or .js once built.
  const script = fileURLToPath(new URL(`./app${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
  return (pkg, data) => {
    mkdirSync(join(dir, APPS_DIR), { recursive: true, mode: 0o755 });
    const out = openSync(appConsolePath(dir, pkg), 'a', 0o644);
    try {
      const argv = [process.execPath, ...portableExecArgv(), script, pkg, ...(data === undefined ? [] : [data])];
      log('launch %s: %j', pkg, argv);
      const child = spawn(argv[0]!, argv.slice(1), {
        detached: true,
        cwd: dir,
        env: { ...env, V6LAB_HANDSET_DIR: dir },
        stdio: ['ignore', out, out],
      });
      // A spawn that fails has no pid: the caller reports it; the event must not crash the supervisor.
      child.on('error', (error) => log('launch %s failed: %s', pkg, error.message));
      return child;
    } finally {
      closeSync(out);
    }
  };
}

/** What `am` does for `am start`: Android's lines for each outcome. */
async function amStart(dir: string, args: readonly string[], launch: Launcher): Promise<CommandResult> {
  let intent: StartIntent;
  try {
    intent = parseAmStart(args);
  } catch (error) {
    return result('', `${(error as Error).message}\n`, 1);
  }
  const state = readHandsetState(dir);
  const starting = `Starting: ${renderIntent(intent)}\n`;
  // Problems go to stderr, or to stdout with -W (am prints them on its output then).
  const problem = (lines: string): CommandResult => (intent.wait ? result(starting + lines, '', 1) : result(starting, lines, 1));
  const unresolved = (): CommandResult => problem(`Error: Activity not started, unable to resolve ${renderIntent(intent, '0x10000000')}\n`);
  const apps = installedApps(state);
  // Settings' Access Point Names list, by its action or its activity (the only Settings screen here).
  const settingsScreen =
    (intent.component === null &&
      intent.action === ACTION_APN_SETTINGS &&
      intent.data === null &&
      (intent.package === null || intent.package === SETTINGS_PACKAGE)) ||
    (intent.component?.package === SETTINGS_PACKAGE && intent.component.className === APN_SETTINGS_ACTIVITY);
  if (settingsScreen) {
    const started = Date.now();
    openApnSettings(dir);
    if (!intent.wait) return result(starting);
    const ms = Date.now() - started;
    const activity = `${SETTINGS_PACKAGE}/.${APN_SETTINGS_ACTIVITY.slice(SETTINGS_PACKAGE.length + 1)}`;
    return result(`${starting}${['Status: ok', 'LaunchState: COLD', `Activity: ${activity}`, `TotalTime: ${ms}`, `WaitTime: ${ms}`, 'Complete'].join('\n')}\n`);
  }
  // The intent's data when the browser can load it: an http or https URL with a host.
  const webUrl = intent.data !== null && webTarget(intent.data) !== null ? intent.data : undefined;
  let pkg: string;
  // The URL the browser opens with, or hands to its running instance.
  let url: string | undefined;
  if (intent.component !== null) {
    const app = apps.find((a) => a.package === intent.component!.package);
    if (app === undefined || intent.component.className !== `${app.package}.${MAIN_ACTIVITY}`) {
      return problem(`Error type 3\nError: Activity class {${intent.component.package}/${intent.component.className}} does not exist.\n`);
    }
    pkg = app.package;
    if (pkg === BROWSER_PACKAGE) url = webUrl;
  } else if (intent.action === ACTION_VIEW) {
    // Only the browser has a VIEW filter: http and https URLs with a host, BROWSABLE or DEFAULT.
    const browsable =
      (intent.package === null || intent.package === BROWSER_PACKAGE) && intent.categories.every((c) => c === CATEGORY_BROWSABLE || c === CATEGORY_DEFAULT);
    if (webUrl === undefined || !browsable) return unresolved();
    pkg = BROWSER_PACKAGE;
    url = webUrl;
  } else {
    const app = apps.find((a) => a.package === intent.package);
    const launcherIntent =
      (intent.action === null || intent.action === ACTION_MAIN) && intent.data === null && intent.categories.every((c) => c === CATEGORY_LAUNCHER);
    if (app === undefined || !launcherIntent) return unresolved();
    pkg = app.package;
  }
  if (intent.stopFirst) await stopApp(dir, pkg);
  let outcome: StartOutcome;
  try {
    outcome = await startApp(dir, pkg, launch, url);
  } catch (error) {
    return problem(`Error: Activity not started, ${(error as Error).message}\n`);
  }
  // An app's activity in front covers Settings; here Settings is closed rather than kept behind it.
  closeSettings(dir);
  const warning = {
    cold: null,
    front: 'Warning: Activity not started, its current task has been brought to the front',
    delivered: 'Warning: Activity not started, intent has been delivered to currently running top-most instance.',
  }[outcome.kind];
  if (!intent.wait) return warning === null ? result(starting) : result(starting, `${warning}\n`);
  const activity = `${pkg}/.${MAIN_ACTIVITY}`;
  // Android 10+ `am start -W`; an intent delivered to the running activity has no launch state.
  const lines =
    warning === null
      ? ['Status: ok', 'LaunchState: COLD', `Activity: ${activity}`, `TotalTime: ${outcome.ms}`, `WaitTime: ${outcome.ms}`, 'Complete']
      : [
          warning,
          'Status: ok',
          `LaunchState: ${outcome.kind === 'front' ? 'HOT' : 'UNKNOWN (0)'}`,
          `Activity: ${activity}`,
          `WaitTime: ${outcome.ms}`,
          'Complete',
        ];
  return result(`${starting}${lines.join('\n')}\n`);
}

async function am(dir: string, args: readonly string[], launch: Launcher): Promise<CommandResult> {
  const [verb, ...rest] = args;
  switch (verb) {
    case 'start':
    case 'start-activity':
      return amStart(dir, rest, launch);
    case 'force-stop': {
      const pkg = rest.filter((a) => !a.startsWith('-') && !/^\d+$/.test(a))[0];
      if (pkg === undefined) return result('', 'Error: package name not specified\n', 255);
      if (pkg === SETTINGS_PACKAGE) {
        closeSettings(dir);
        return result('');
      }
      // A name becomes paths (its control socket) and a kill: only an installed package's, as
      // ActivityManager does nothing for a package it does not know.
      if (!installedApps(readHandsetState(dir)).some((a) => a.package === pkg)) return result('');
      await stopApp(dir, pkg);
      return result('');
    }
    case undefined:
      return result(
        '',
        'Activity manager (activity) commands:\n  start [-W] [-S] -n PACKAGE/.ACTIVITY\n  start [-W] -a android.intent.action.VIEW -d URL [-p PACKAGE]\n  force-stop PACKAGE\n',
        255,
      );
    default:
      return result('', `Unknown command: ${verb}\n`, 255);
  }
}

async function monkey(dir: string, args: readonly string[], launch: Launcher): Promise<CommandResult> {
  const started = Date.now();
  // The /system/bin/monkey script echoes its arguments first.
  const echo = args.map((a) => `  bash arg: ${a}\n`).join('');
  let parsed: MonkeyArgs;
  try {
    parsed = parseMonkey(args);
  } catch (error) {
    return result(echo, `${(error as Error).message}\n`, 1);
  }
  if (parsed.count === null) return result(echo, '** Error: Count not specified\n', 1);
  const state = readHandsetState(dir);
  const launchable = installedApps(state).filter((a) => parsed.packages.length === 0 || parsed.packages.includes(a.package));
  const categoriesOk = parsed.categories.every((c) => c === CATEGORY_LAUNCHER || c === 'android.intent.category.MONKEY');
  if (launchable.length === 0 || !categoriesOk) return result(echo, '** No activities found to run, monkey aborted.\n', MONKEY_ABORTED);
  try {
    await startApp(dir, launchable[0]!.package, launch);
  } catch (error) {
    return result(echo, `** Monkey aborted due to error.\n${(error as Error).message}\n`, 251);
  }
  const ms = Date.now() - started;
  return result(`${echo}Events injected: ${parsed.count}\n## Network stats: elapsed time=${ms}ms (${ms}ms mobile, 0ms wifi, 0ms not connected)\n`);
}

/** Runs `am` or `monkey` here, starting apps with `launch`. */
export function executeActivityCommand(dir: string, command: string, args: readonly string[], launch: Launcher): Promise<CommandResult> {
  if (command === 'am') return am(dir, args, launch);
  if (command === 'monkey') return monkey(dir, args, launch);
  return Promise.resolve(result('', `${command}: not an activity manager command\n`, 127));
}

/**
 * Who may run `am` and `monkey` here: root and the shell user, as AOSP's Binder.shellCommand lets
 * only ROOT_UID and SHELL_UID run a service's shell commands ("Shell commands are only callable by ADB").
 */
const ACTIVITY_CALLERS: ReadonlySet<number> = new Set([AID_ROOT, AID_SHELL]);

/**
 * The root side, run by each handset's init (./init.ts) as the handset's root, inside its
 * container: executes `am` and `monkey` sent by the handset's shell on `<dir>/activity.sock`
 * (one JSON line each way), launching apps there. `close()` stops the server and every app it
 * started.
 */
export function serveActivityManager(dir: string, env: Record<string, string>): { server: Server; close(): Promise<void> } {
  const path = join(dir, ACTIVITY_SOCKET);
  const launch = appLauncher(dir, env);
  const server = serveJsonLines(
    path,
    ACTIVITY_CALLERS,
    (request, socket) => {
      const raw = request;
      if (typeof raw.command !== 'string' || !Array.isArray(raw.args) || !raw.args.every((a) => typeof a === 'string')) {
        socket.destroy();
        return;
      }
      executeActivityCommand(dir, raw.command, raw.args as string[], launch)
        .catch((error: unknown) => result('', `Error: ${(error as Error).message}\n`, 1))
        .then((reply) => socket.end(`${JSON.stringify(reply)}\n`));
    },
    // The SecurityException Binder.shellCommand throws for any other caller, with its text.
    (socket) => socket.end(`${JSON.stringify(result('', 'java.lang.SecurityException: Shell commands are only callable by ADB\n', 255))}\n`),
  );
  return {
    server,
    async close() {
      server.close();
      rmSync(path, { force: true });
      const running = Object.keys(readHandsetState(dir).running);
      await Promise.allSettled(running.map((pkg) => stopApp(dir, pkg)));
    },
  };
}

/** Every app of a handset stopped (for `lab down`, when the supervisor could not do it). */
export async function stopAllApps(dir: string): Promise<void> {
  let running: string[];
  try {
    running = Object.keys(readHandsetState(dir).running);
  } catch {
    return;
  }
  await Promise.allSettled(running.map((pkg) => stopApp(dir, pkg)));
}

/**
 * The shell side (`am`, `monkey` on the handset's PATH): asks the supervisor's activity manager,
 * or, with no such service, does the work itself.
 */
export function runActivityCommand(dir: string, command: string, args: readonly string[]): Promise<CommandResult> {
  const path = join(dir, ACTIVITY_SOCKET);
  if (!existsSync(path)) return executeActivityCommand(dir, command, args, appLauncher(dir, process.env));
  return new Promise((resolve) => {
    const socket = connect(path);
    let buffered = '';
    socket.on('connect', () => socket.write(`${JSON.stringify({ command, args })}\n`));
    socket.on('data', (chunk: Buffer) => (buffered += chunk.toString('utf8')));
    socket.on('error', (error) => {
      // What a phone prints when system_server is gone.
      resolve(result('', `cmd: Failure calling service activity: Failed transaction (${(error as NodeJS.ErrnoException).code ?? 'error'})\n`, 20));
    });
    socket.on('close', () => {
      try {
        resolve(JSON.parse(buffered) as CommandResult);
      } catch {
        resolve(result('', 'cmd: Failure calling service activity: no reply\n', 20));
      }
    });
  });
}
