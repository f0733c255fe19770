/**
 * `lab down`: removes every process, namespace, /etc/netns directory and file the lab made.
 * Works from the state file, and also sweeps what matches the lab's naming without one (a crash
 * before the first write, a deleted state file), so it is safe after a crash, twice, or with
 * nothing up. Nothing outside the lab's namespaces is touched: their veths, routes, TUNs and
 * nftables tables go with them.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { run } from './command.js';
import { LabStateError } from './errors.js';
import { listNamespaces } from './inspect.js';
import { isLabNamespace, LAB_ID } from './plan.js';
import { processStartTime, stopProcesses } from './process.js';
import { readState, statePath } from './state.js';
import { releaseUserNamespace, usernsFile } from './userns.js';
import type { LabState } from './types.js';

const log = createDebug('v6lab:lab:down');

export const NETNS_ETC = '/etc/netns';
export const NETNS_RUN = '/run/netns';
/** The directory of configurations and logs, when the state does not name it. */
export const runDirOf = (stateDir: string): string => path.join(stateDir, 'run');

export interface LabDownOptions {
  /**
   * The lab to sweep when `${stateDir}/lab.json` is missing or unreadable: its namespaces,
   * the processes inside them and its /etc/netns directories are found by name.
   */
  labId?: string;
}

/** Reads the state, or recovers the lab id from a damaged file. */
async function stateForDown(stateDir: string): Promise<{ state: LabState | null; labId: string | null }> {
  try {
    const state = await readState(stateDir);
    return { state, labId: state?.labId ?? null };
  } catch (error) {
    if (!(error instanceof LabStateError)) throw error;
    log('unreadable state, sweeping by name: %s', error.message);
    // A file cut short by a crash still names its lab near the top.
    const text = await readFile(statePath(stateDir), 'utf8').catch(() => '');
    const labId = /"labId":\s*"([a-z0-9]{1,6})"/.exec(text)?.[1] ?? null;
    return { state: null, labId };
  }
}

/** Processes whose network namespace is one of `namespaces` (by the nsfs inode). */
export async function processesInNamespaces(namespaces: readonly string[]): Promise<{ pid: number; startTime: string; name: string }[]> {
  return processesInNamespaceFiles(
    'net',
    namespaces.map((ns) => path.join(NETNS_RUN, ns)),
  );
}

/**
 * Every process in one of the namespaces of kind `kind` that `files` are handles of (a bind mount
 * or /proc/PID/ns/KIND). A handle that is gone is passed over.
 */
async function processesInNamespaceFiles(kind: 'net' | 'user', files: readonly string[]): Promise<{ pid: number; startTime: string; name: string }[]> {
  const inodes = new Set<string>();
  for (const file of files) {
    try {
      const s = await stat(file);
      inodes.add(`${s.dev}:${s.ino}`);
    } catch {
      // Gone already.
    }
  }
  if (inodes.size === 0) return [];
  return findProcesses(async (pid) => {
    const s = await stat(`/proc/${pid}/ns/${kind}`);
    return inodes.has(`${s.dev}:${s.ino}`) ? (await readFile(`/proc/${pid}/comm`, 'utf8')).trim() : null;
  });
}

/**
 * Every live process but this one that `identify` names (null: not one of ours); a process
 * that exits during the scan, or a kernel thread, is passed over.
 */
async function findProcesses(identify: (pid: number) => Promise<string | null>): Promise<{ pid: number; startTime: string; name: string }[]> {
  const found: { pid: number; startTime: string; name: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const name = await identify(pid);
      if (name === null) continue;
      const startTime = await processStartTime(pid);
      if (startTime !== null) found.push({ pid, startTime, name });
    } catch {
      // Exited meanwhile, or a kernel thread.
    }
  }
  return found;
}

/**
 * Processes whose command line names a file of the lab's run directory (its daemons' configs:
 * `unbound -c RUN/hs0/unbound-resolver.conf`), whatever namespace they are in. Catches a daemon
 * that `lab up` had spawned but not yet recorded when it crashed, even mid `ip netns exec`
 * (not yet inside its namespace, or inside one whose name is already gone). Log files do not
 * count: a `tail -f` of a log is left alone.
 */
export async function processesUsingRunDir(runDir: string): Promise<{ pid: number; startTime: string; name: string }[]> {
  const prefix = `${path.resolve(runDir)}/`;
  return findProcesses(async (pid) => {
    // "ip\0netns\0exec\0v6l-a1-gw0\0unbound\0-d\0-c\0/state/run/hs0/unbound-resolver.conf\0"
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    return argv.some((arg) => arg.startsWith(prefix) && !arg.endsWith('.log')) ? path.basename(argv[0] ?? '?') : null;
  });
}

/**
 * Takes the lab of `stateDir` down. Idempotent; resolves with what it removed (empty when
 * nothing was up).
 */
export async function labDown(stateDir: string, options: LabDownOptions = {}): Promise<{ removed: string[] }> {
  const started = Date.now();
  const removed: string[] = [];
  const { state, labId: stateLabId } = await stateForDown(stateDir);
  const labId = stateLabId ?? options.labId ?? null;
  if (labId !== null && !LAB_ID.test(labId)) throw new Error(`lab down: lab id ${JSON.stringify(labId)} is not 1-6 of [a-z0-9]`);

  const live = new Set(await listNamespaces());
  const namespaces = new Set<string>();
  for (const ns of state?.namespaces ?? []) if (live.has(ns.name)) namespaces.add(ns.name);
  if (labId !== null) for (const name of live) if (isLabNamespace(labId, name)) namespaces.add(name);

  // Processes first: a namespace with a process left in it lives on, unnamed, after `ip netns del`.
  const runDir = state?.runDir ?? runDirOf(stateDir);
  const recorded = (state?.processes ?? []).map((p) => ({ pid: p.pid, startTime: p.startTime, name: p.name }));
  // A handset's pid 1 that is still ending its PID namespace has left its network namespace
  // already (the kernel drops a dying task's namespaces first) but not its user namespace.
  const handsetUserNamespaces = (await readdir(path.join(runDir, 'userns')).catch(() => [] as string[])).map((name) => usernsFile(runDir, name));
  const found = [
    ...(await processesInNamespaces([...namespaces])),
    ...(await processesInNamespaceFiles('user', handsetUserNamespaces)),
    ...(await processesUsingRunDir(runDir)),
  ];
  const seen = new Set<string>();
  const all = [...recorded, ...found].filter((p) => {
    const key = `${p.pid}/${p.startTime}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  for (const proc of await stopProcesses(all)) removed.push(`process ${proc.name} (pid ${proc.pid})`);

  await Promise.all(
    [...namespaces].map(async (ns) => {
      await run(['ip', 'netns', 'del', ns]);
      removed.push(`namespace ${ns}`);
    }),
  );

  const dirs = new Set(state?.netnsDirs ?? []);
  if (labId !== null) {
    const entries = await readdir(NETNS_ETC).catch(() => [] as string[]);
    for (const name of entries) if (isLabNamespace(labId, name)) dirs.add(path.join(NETNS_ETC, name));
  }
  for (const dir of dirs) {
    // Only directories of this lab's namespaces, whatever the state file says.
    if (labId === null || path.dirname(dir) !== NETNS_ETC || !isLabNamespace(labId, path.basename(dir))) continue;
    if (await exists(dir)) {
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }

  if (path.dirname(runDir) === path.resolve(stateDir) || path.dirname(runDir) === stateDir) {
    // The handsets' user namespace handles are bind mounts: unmounted before the directory goes.
    for (const name of await readdir(path.join(runDir, 'userns')).catch(() => [] as string[])) {
      await releaseUserNamespace(usernsFile(runDir, name));
    }
    if (await exists(runDir)) {
      await rm(runDir, { recursive: true, force: true });
      removed.push(runDir);
    }
  }
  // Temporary files of a state write a crash cut short.
  for (const name of await readdir(stateDir).catch(() => [] as string[])) {
    if (/^lab\.json\.\d+\.\d+\.tmp$/.test(name)) await rm(path.join(stateDir, name), { force: true });
  }
  if (await exists(statePath(stateDir))) {
    await rm(statePath(stateDir), { force: true });
    removed.push(statePath(stateDir));
  }
  log('lab %s down in %d ms: %o', labId ?? '?', Date.now() - started, removed);
  return { removed };
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
