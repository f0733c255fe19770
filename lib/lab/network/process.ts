/**
 * The lab's long-running processes (unbound, radvd, tayga, the world server). They outlive the
 * process that started them (`v6lab lab up` exits, the lab stays), so they run detached in their
 * own session with stdout and stderr in a log file, and are known afterwards only by PID and
 * start time: a PID is signalled only while /proc/PID/stat still shows the start time recorded
 * when it was spawned, so a recycled PID is never killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import createDebug from 'debug';
import { LabCommandError } from './errors.js';

const log = createDebug('v6lab:lab:process');

/** A process of the lab as the state file records it. */
export interface LabProcess {
  /** What it is: `unbound-auth`, `radvd`, `tayga-nat64`, `tayga-clat`, `world-server`, ... */
  name: string;
  pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks after boot): with the PID, identifies the process. */
  startTime: string;
  /** The network namespace it runs in. */
  namespace: string;
  /** The handset it serves; absent for the shared internet. */
  handsetIndex?: number;
  argv: string[];
  /** Its stdout and stderr. */
  logFile: string;
}

export const DAEMON_READY_TIMEOUT_MS = 5_000;
const POLL_MS = 10;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Parses /proc/PID/stat. The command name (field 2) is in parentheses and may itself hold spaces
 * and parentheses, so fields are counted after the last `)`.
 * `1234 (unbound) S 1 1234 1234 0 -1 4194560 ... 0 0 20 0 1 0 5821 ...` (field 22 = 5821)
 */
export function parseProcStat(text: string): { state: string; startTime: string; processGroup: number } | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state), so field 5 (pgrp) is fields[2] and field 22 is fields[19].
  const state = fields[0];
  const startTime = fields[19];
  const processGroup = Number(fields[2]);
  if (state === undefined || startTime === undefined || !/^\d+$/.test(startTime) || !Number.isInteger(processGroup)) return null;
  return { state, startTime, processGroup };
}

/**
 * The real uid of a live process (`Uid:` in /proc/PID/status: real, effective, saved, fs), or
 * null when there is no such process.
 */
export async function processUid(pid: number): Promise<number | null> {
  try {
    const uid = /^Uid:\t(\d+)\t/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
    return uid === undefined ? null : Number(uid);
  } catch {
    return null;
  }
}

export async function readProcStat(pid: number): Promise<{ state: string; startTime: string; processGroup: number } | null> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Every live descendant of `pid` (children, their children, ...), read from
 * /proc/PID/task/TID/children, each with its start time, so a caller can make sure the pid it
 * signals later is still the same process. A child that exits meanwhile is left out.
 */
export async function processDescendants(pid: number): Promise<{ pid: number; startTime: string; processGroup: number }[]> {
  const found: { pid: number; startTime: string; processGroup: number }[] = [];
  const seen = new Set<number>([pid]);
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    let tids: string[];
    try {
      tids = await readdir(`/proc/${parent}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      let children: string;
      try {
        children = await readFile(`/proc/${parent}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const word of children.split(/\s+/)) {
        const child = Number(word);
        if (word === '' || !Number.isInteger(child) || seen.has(child)) continue;
        seen.add(child);
        const stat = await readProcStat(child);
        if (stat === null) continue;
        found.push({ pid: child, startTime: stat.startTime, processGroup: stat.processGroup });
        queue.push(child);
      }
    }
  }
  return found;
}

/** The start time of a live PID, or null when there is no such process. */
export async function processStartTime(pid: number): Promise<string | null> {
  return (await readProcStat(pid))?.startTime ?? null;
}

/** Whether the process recorded as (pid, startTime) still runs (a zombie does not). */
export async function isRunning(proc: { pid: number; startTime: string }): Promise<boolean> {
  const stat = await readProcStat(proc.pid);
  return stat !== null && stat.startTime === proc.startTime && stat.state !== 'Z';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (error) {
    // ESRCH: it exited between the check and the signal.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Stops the given processes: SIGTERM to those still running, SIGKILL to any left after
 * `graceMs`, and waits (bounded) until none runs. Resolves with the ones that were running.
 */
export async function stopProcesses<T extends { pid: number; startTime: string; name?: string }>(procs: readonly T[], graceMs = 500): Promise<T[]> {
  const running: T[] = [];
  for (const proc of procs) if (await isRunning(proc)) running.push(proc);
  for (const proc of running) {
    log('stop %s pid %d', proc.name ?? '?', proc.pid);
    signal(proc.pid, 'SIGTERM');
  }
  let left = running;
  for (const [sig, waitMs] of [
    ['SIGKILL', graceMs],
    [null, 2_000],
  ] as const) {
    const deadline = Date.now() + waitMs;
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(POLL_MS);
      const still: T[] = [];
      for (const proc of left) if (await isRunning(proc)) still.push(proc);
      left = still;
    }
    if (left.length === 0) break;
    if (sig !== null) {
      for (const proc of left) {
        log('%s pid %d ignored SIGTERM, killing', proc.name ?? '?', proc.pid);
        signal(proc.pid, sig);
      }
    }
  }
  if (left.length > 0) {
    throw new Error(`processes did not exit after SIGKILL: ${left.map((p) => `${p.name ?? '?'} (pid ${p.pid})`).join(', ')}`);
  }
  return running;
}

export interface DaemonSpec {
  name: string;
  namespace: string;
  handsetIndex?: number;
  /** The full argv, usually `ip netns exec NS ...` (which execs: the PID is the daemon's). */
  argv: string[];
  logFile: string;
  /** Ready once the log matches this; without it, ready once it has run `settleMs`. */
  ready?: RegExp;
  /** @default 50 */
  settleMs?: number;
  /** @default DAEMON_READY_TIMEOUT_MS */
  readyTimeoutMs?: number;
  /**
   * A file the daemon's stdout goes to instead of its log (a capture's pcap): created, never
   * through a symlink, and an existing file is refused rather than overwritten.
   */
  stdoutFile?: string;
}

/**
 * Starts a daemon detached (its own session; it survives this process) and waits until it is
 * ready: its log matches `ready` (whether it still runs after that, even at once, is `lab
 * status`'s to say), or it has run `settleMs`. `onSpawn` is told the process before the wait, so
 * a state file can record it and a crash during the wait leaves nothing unknown. A daemon that
 * exits before it is ready fails; one not ready by the deadline is killed. The error carries the
 * tail of its log.
 */
export async function startDaemon(spec: DaemonSpec, onSpawn: (proc: LabProcess) => Promise<void>): Promise<LabProcess> {
  const [file, ...args] = spec.argv;
  if (file === undefined) throw new Error('startDaemon: empty argv');
  log('start %s %o', spec.name, spec.argv);
  const fd = openSync(spec.logFile, 'a', 0o644);
  let out = fd;
  let exited: string | null = null;
  let child: ChildProcess;
  try {
    if (spec.stdoutFile !== undefined) out = openSync(spec.stdoutFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    child = spawn(file, args, { detached: true, stdio: ['ignore', out, fd] });
  } finally {
    closeSync(fd);
    if (out !== fd) closeSync(out);
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  child.once('exit', (code, sig) => {
    exited = sig ?? String(code);
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new LabCommandError(spec.argv, `could not start: ${(await spawnError).message}`);
  let startTime = await processStartTime(pid);
  if (startTime === null) {
    if (!spec.ready?.test(await logTail(spec.logFile, 65_536))) {
      throw new LabCommandError(spec.argv, `exited at once: ${await logTail(spec.logFile)}`);
    }
    // Said it was ready and ended before its start time could be read: ready, as below. An
    // empty start time matches no process, so its pid is never signalled (it may be another's by
    // now), and `lab status` calls it not running.
    startTime = '';
  }
  const proc: LabProcess = {
    name: spec.name,
    pid,
    startTime,
    namespace: spec.namespace,
    ...(spec.handsetIndex === undefined ? {} : { handsetIndex: spec.handsetIndex }),
    argv: spec.argv,
    logFile: spec.logFile,
  };
  await onSpawn(proc);

  const timeoutMs = spec.readyTimeoutMs ?? DAEMON_READY_TIMEOUT_MS;
  const deadline = Date.now() + (spec.ready ? timeoutMs : (spec.settleMs ?? 50));
  for (;;) {
    // Read before the exit is looked at: a process that said it was ready and then ended did
    // become ready (whether it should still run is `lab status`'s to say); reading the exit first
    // made a quick one a failure or not by the timing of this poll.
    const wasExited = exited;
    if (spec.ready?.test(await logTail(spec.logFile, 65_536))) return proc;
    if (wasExited !== null) {
      throw new LabCommandError(spec.argv, `exited (${wasExited}) before it was ready: ${await logTail(spec.logFile)}`);
    }
    if (Date.now() >= deadline) {
      if (!spec.ready) return proc;
      await stopProcesses([proc], 200);
      throw new LabCommandError(spec.argv, `not ready after ${timeoutMs} ms: ${await logTail(spec.logFile)}`);
    }
    await sleep(POLL_MS);
  }
}

/** The last `bytes` of a log file, for error messages. */
export async function logTail(file: string, bytes = 2_000): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.slice(-bytes).trim();
  } catch {
    return '(no log)';
  }
}
