/**
 * A private adb server for tests: its own port and HOME (keys in $HOME/.android, log in
 * $TMPDIR/adb.$UID.log), driven with the real CLI as a user would. See ../shared/notes/adb.md.
 *
 * Lab handsets accept only the adb keys `lab up` was given, by default the adb server key of
 * whoever ran it ($HOME/.android/adbkey of the test process). A private server makes a key of
 * its own in its own HOME, so by default it also signs with that user key (ADB_VENDOR_KEYS),
 * as a second adb server of the same user would; `vendorKeys: []` gives a stranger's server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { userAdbKeyPath } from '../../lib/lab/adbd/keys.js';

export interface AdbResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Path of the adb binary on PATH, or null. */
export function findAdb(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'adb');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** A TCP port nothing listens on right now (the system's choice, so outside adb's 5555-5585). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface AdbCliOptions {
  /**
   * ADB_VENDOR_KEYS of the server: private key files it signs with after its own
   * $HOME/.android/adbkey. @default the test user's adb key, when it exists as the server starts
   * (`lab up` makes it): the key lab handsets accept by default. [] for a server whose only key is
   * its own, which lab handsets refuse.
   */
  vendorKeys?: readonly string[];
}

export class AdbCli {
  constructor(
    readonly adb: string,
    /** The server's port (`adb -P`). */
    readonly serverPort: number,
    /** HOME and TMPDIR of the server and every client. */
    readonly home: string,
    readonly options: AdbCliOptions = {},
  ) {}

  get env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: this.home, TMPDIR: this.home };
    delete env.ANDROID_ADB_SERVER_PORT;
    delete env.ANDROID_SERIAL;
    // Read when each adb command starts: the user key may be made by a lab up after this object.
    const userKey = userAdbKeyPath(process.env);
    const vendorKeys = this.options.vendorKeys ?? (existsSync(userKey) ? [userKey] : []);
    if (vendorKeys.length === 0) delete env.ADB_VENDOR_KEYS;
    else env.ADB_VENDOR_KEYS = vendorKeys.join(':');
    return env;
  }

  /**
   * What the harness under test (v6lab devices, certify) runs with to use this server: its port
   * and HOME, and the keys it signs with, so a server the harness starts again after this one was
   * killed (adbkit does) is as authorized as this one, as the same user's would be.
   */
  harnessEnv(extra: Record<string, string> = {}): Record<string, string> {
    const keys = this.env.ADB_VENDOR_KEYS;
    return { ANDROID_ADB_SERVER_PORT: String(this.serverPort), HOME: this.home, ...(keys === undefined ? {} : { ADB_VENDOR_KEYS: keys }), ...extra };
  }

  /** Starts `adb -P port ...args`; stdin is /dev/null unless `stdin: 'pipe'`. */
  spawn(args: readonly string[], stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
    return spawn(this.adb, ['-P', String(this.serverPort), ...args], { env: this.env, stdio: [stdin, 'pipe', 'pipe'] });
  }

  /** Runs `adb -P port ...args` to its end (exit and both pipes closed), with a deadline. */
  run(args: readonly string[], timeoutMs = 15_000): Promise<AdbResult> {
    const child = this.spawn(args);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`adb ${args.join(' ')}: no exit within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      // The server that start-server forks does not keep our pipes (measured): 'close' comes.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') });
      });
    });
  }
}

/** Pids whose argv is exactly `argv` (read from /proc/PID/cmdline; no pkill, no ps). */
export function pidsWithArgv(argv: readonly string[]): number[] {
  const wanted = `${argv.join('\0')}\0`;
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1') === wanted) pids.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Polls `check` every 50 ms until it returns true, failing with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A private adb server started in `home` on a free port and waited for. `adb start-server` can
 * lose the race for the port it was given (freePort closes it before adb binds), or time out
 * while the machine is busy: it is tried on up to three ports, and the last failure says why.
 */
export async function startAdbServer(home: string, options: AdbCliOptions = {}): Promise<AdbCli> {
  const adb = findAdb();
  if (adb === null) throw new Error('adb is not installed (Debian: adb)');
  // The server writes its log to $TMPDIR (the home here): without it, it dies at start.
  mkdirSync(home, { recursive: true });
  let last = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const cli = new AdbCli(adb, await freePort(), home, options);
    const started = await cli.run(['start-server'], 30_000);
    if (started.code === 0) return cli;
    last = `adb -P ${cli.serverPort} start-server exited ${started.code}: ${started.stderr.trim()}`;
    await cli.run(['kill-server']).catch(() => undefined);
  }
  throw new Error(last);
}

/**
 * What `adb devices` (run by `listDevices`) says of `serial` once it settles on `device` or
 * `unauthorized`, or the last thing it said after 15 s (`not listed` when absent).
 */
export async function settledDeviceState(serial: string, listDevices: () => Promise<string>): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const listed = await listDevices();
    const state =
      listed
        .split('\n')
        .find((l) => l.startsWith(`${serial}\t`))
        ?.split('\t')[1] ?? 'not listed';
    if (state === 'device' || state === 'unauthorized' || Date.now() > deadline) return state;
    await new Promise((r) => setTimeout(r, 250));
  }
}
