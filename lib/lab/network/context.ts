/**
 * What every step of `lab up`, a re-attach and `gateway up` shares: the context, named steps
 * whose failure names them, parallel tasks that stop at the first failure, daemons recorded in
 * the state as soon as they exist, and namespaces with a resolv.conf of their own.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { run } from './command.js';
import { resolvConf } from './config.js';
import { NETNS_ETC } from './down.js';
import { LabStepError } from './errors.js';
import { startDaemon, type DaemonSpec, type LabProcess } from './process.js';
import type { StateRecorder } from './state.js';
import type { LabNamespace } from './types.js';
import { makeHandsetNamespaces } from './userns.js';

const log = createDebug('v6lab:lab:network');

/** What every step of one `up` or re-attach shares. */
export interface Context {
  labId: string;
  runDir: string;
  recorder: StateRecorder;
  tlds: string[];
  worldDns: { ipv4: string; ipv6: string };
  /** Handsets make background traffic while attached (the plan's `backgroundTraffic`). */
  backgroundTraffic: boolean;
  /** Settles once the world server answers (or failed): background traffic waits for it. */
  worldServerReady: Promise<void>;
  /** The first failure: every other task stops at its next step. */
  failure: { error: unknown } | null;
}

export class Cancelled extends Error {
  constructor() {
    super('cancelled: another step failed');
  }
}

/**
 * Runs one named step; its failure becomes a LabStepError naming it. V6LAB_LAB_FAIL_STEP=<step
 * name> makes that step fail after it ran, so tests can prove a failed up leaves nothing behind.
 */
export async function step<T>(ctx: Context, name: string, body: () => Promise<T>): Promise<T> {
  if (ctx.failure !== null) throw new Cancelled();
  const started = Date.now();
  try {
    if (process.env.V6LAB_LAB_FAIL_STEP === name) {
      await body();
      throw new Error('injected failure (V6LAB_LAB_FAIL_STEP)');
    }
    const result = await body();
    log('%s: %d ms', name, Date.now() - started);
    return result;
  } catch (error) {
    if (error instanceof LabStepError || error instanceof Cancelled) throw error;
    throw new LabStepError(name, { cause: error });
  }
}

/** Runs tasks in parallel; on the first failure the others stop at their next step. */
export async function parallel(ctx: Context, tasks: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(
    tasks.map((task) =>
      task.catch((error: unknown) => {
        if (ctx.failure === null && !(error instanceof Cancelled)) ctx.failure = { error };
        throw error;
      }),
    ),
  );
  if (ctx.failure !== null) throw ctx.failure.error;
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

export function daemon(ctx: Context, spec: DaemonSpec): Promise<LabProcess> {
  return startDaemon(spec, (proc) => ctx.recorder.update((s) => void s.processes.push(proc)));
}

export const logFile = (ctx: Context, namespace: string, name: string): string =>
  path.join(ctx.runDir, 'logs', `${namespace.replace(/^v6l-[a-z0-9]+-/, '')}-${name}.log`);

export async function makeNamespace(ctx: Context, ns: LabNamespace, resolvers: readonly string[], comment: string): Promise<void> {
  // A handset's network namespace is its container's (../container/): made inside its own user
  // namespace, whose root is not the host's (./userns.ts).
  if (ns.role === 'handset') await makeHandsetNamespaces(ns.name, ns.handsetIndex ?? 0, ctx.runDir);
  else await run(['ip', 'netns', 'add', ns.name]);
  await ctx.recorder.update((s) => void s.namespaces.push(ns));
  const dir = path.join(NETNS_ETC, ns.name);
  await mkdir(dir, { recursive: true });
  await ctx.recorder.update((s) => void s.netnsDirs.push(dir));
  // `ip netns exec` bind-mounts it over /etc/resolv.conf: without one, programs in the
  // namespace would ask the host's resolver (lab.md).
  await writeFile(path.join(dir, 'resolv.conf'), resolvConf(resolvers, comment));
}

/** Written in place, not renamed: a process that already bind-mounted it sees the change. */
export function writeResolvConf(ns: string, servers: readonly string[], comment: string): Promise<void> {
  return writeFile(path.join(NETNS_ETC, ns, 'resolv.conf'), resolvConf(servers, comment));
}

export interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Awaited by the handsets; a rejection nobody awaited yet must not crash the process.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
