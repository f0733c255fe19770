/**
 * A handset's user namespace: what makes its root not the host's (issue 14). Each handset's uids
 * 0..65535 are the host uids `handsetUidBase(index)` + 0..65535, none of them anyone on the
 * host; its network namespace is created inside that user namespace, so the handset's root
 * holds CAP_NET_RAW and CAP_NET_ADMIN over its own links only (tcpdump through `su`, as on a
 * rooted phone) and over nothing of the host's.
 *
 * `lab up` makes both before the handset's links exist and names them: the network namespace
 * as `ip netns` does (/run/netns/NAME, so every `ip netns exec` of the lab works as before), the
 * user namespace by a bind mount of its /proc file into the lab's run directory, so the
 * handset's container (../container/) can be started in it again after a reboot. `lab down`
 * unmounts it.
 */
import { spawn } from 'node:child_process';
import { mkdir, readlink, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from './command.js';

/**
 * The first host uid of handset 0's range. systemd leaves 524288..1879048191 to containers'
 * ranges; this one is high in it, away from the low ranges other tools hand out by default.
 */
export const HANDSET_UID_BASE = 0x5e00_0000;
/** Uids per handset: Android's 0..65535 (AIDs, app uids 10000+). */
export const HANDSET_UID_COUNT = 0x1_0000;

/** The host uid that is handset `index`'s uid 0 (its root). */
export const handsetUidBase = (index: number): number => HANDSET_UID_BASE + index * HANDSET_UID_COUNT;

/** The host uid of handset `index`'s `uid` (its shell 2000, an app's 10100): never a host user's. */
export function hostUid(index: number, uid: number): number {
  if (!Number.isInteger(uid) || uid < 0 || uid >= HANDSET_UID_COUNT) throw new RangeError(`uid ${uid} is not a handset uid (0..${HANDSET_UID_COUNT - 1})`);
  return handsetUidBase(index) + uid;
}

/** Where the lab keeps the handle of a handset's user namespace. */
export const usernsFile = (runDir: string, namespace: string): string => path.join(runDir, 'userns', namespace);

/**
 * Makes handset `index`'s user namespace (uids and gids mapped as above) and, inside it, the
 * network namespace `namespace`; names both. A short-lived `unshare` holds them while they are
 * named; nothing runs in them afterwards until the handset's container starts.
 */
export async function makeHandsetNamespaces(namespace: string, index: number, runDir: string): Promise<void> {
  const holder = spawn('unshare', ['--user', '--net', '--', 'sleep', '30'], { stdio: 'ignore' });
  const pid = holder.pid;
  if (pid === undefined) throw new Error(`unshare --user --net: did not start (util-linux)`);
  const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
  try {
    await waitForOwnUserNamespace(pid);
    const map = `0 ${handsetUidBase(index)} ${HANDSET_UID_COUNT}\n`;
    // Written by host root from outside: the handset cannot widen its own map.
    await writeFile(`/proc/${pid}/uid_map`, map);
    await writeFile(`/proc/${pid}/gid_map`, map);
    await run(['ip', 'netns', 'attach', namespace, String(pid)]);
    const file = usernsFile(runDir, namespace);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, '', { mode: 0o600 });
    await run(['mount', '--bind', `/proc/${pid}/ns/user`, file]);
  } finally {
    holder.kill('SIGKILL');
    await exited;
  }
}

/** Waits (2 s at most) until `pid` has left the host's user namespace: unshare has run. */
async function waitForOwnUserNamespace(pid: number): Promise<void> {
  const host = await readlink('/proc/self/ns/user');
  const deadline = Date.now() + 2_000;
  for (;;) {
    const own = await readlink(`/proc/${pid}/ns/user`).catch(() => host);
    if (own !== host) return;
    if (Date.now() > deadline) throw new Error(`unshare --user (pid ${pid}) made no user namespace within 2 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets go of a handset's user namespace handle; nothing to do when it is already gone. */
export async function releaseUserNamespace(file: string): Promise<void> {
  await run(['umount', file]).catch(() => undefined);
  await rm(file, { force: true }).catch(() => undefined);
}
