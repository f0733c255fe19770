/**
 * A virtual handset as a container (issue 14): its own user, mount, PID, UTS, IPC and network
 * namespaces, a filesystem of its own, uids of its own. Its root is root inside only: uid 0 is
 * the host uid `handsetUidBase(index)`, which is no one on the host and owns nothing there but
 * the handset's files (./network/userns.ts). What the handset sees:
 *
 *   /                 a tmpfs, read-only once built
 *   /data, /sdcard    the handset's `fs/data`, `fs/sdcard` (its /data/local/tmp, its files)
 *   /data/v6lab       the handset's directory: its state (handset.json), apps' logs and sockets
 *   /system/bin       Android's commands (the lab's handset-code/bin, read-only)
 *   /system/v6lab     the code they run (the lab's handset-code/, read-only)
 *   /usr /etc /bin... the host's, read-only (Linux's tools: sh, ip, tcpdump, node); a file only
 *                     the host's root may read stays unreadable, as to any local user
 *   /etc/resolv.conf  the handset's resolver (as `ip netns exec` would give it)
 *   /proc /sys /dev   its own proc (its processes only), its network's sysfs, a few devices
 *
 * Booted by the lab supervisor (host root) as a phone boots: `unshare` of a mount, PID, UTS and
 * IPC namespace inside the handset's network namespace, the tree above built there by host root
 * (so the handset's own uids need not reach the lab's state directory on the host, wherever it
 * is), then pid 1 becomes the handset's root in its user namespace and runs Android's init
 * (./android/init.ts), reaping orphans while init lives. The mount namespace belongs to the host:
 * the handset's root can neither mount nor unmount, so what is read-only stays so. Everything
 * the handset runs afterwards (adbd's shell and sync, su, the apps) enters it; a reboot is a new
 * container in the same user and network namespaces.
 *
 * Host root builds the tree from paths the handset can write (fs/, fs/data, ...): the
 * supervisor checks each is a real directory before a boot (`prepareHandsetTree`), while no
 * process of the handset runs, so a symlink planted there is not followed by root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import createDebug from 'debug';
import { NETNS_ETC, NETNS_RUN } from './network/down.js';
import { hostUid } from './network/userns.js';

const log = createDebug('v6lab:lab:container');

/** Where the handset's directory, its commands and their code are, inside it. */
export const INSIDE = {
  handsetDir: '/data/v6lab',
  bin: '/system/bin',
  code: '/system/v6lab',
  home: '/data/local/tmp',
} as const;

/** How long a container may take from its start to init saying it is ready. */
const BOOT_TIMEOUT_MS = 15_000;

/**
 * pid 1's script, run by host root in the new namespaces. Every value comes in as a positional
 * parameter, never spliced into the text: $1 an empty directory of host root's to build the
 * tree on, $2 the handset's directory, $3 the code directory, $4 the resolv.conf to show, $5
 * node's binary when outside /usr (else empty), $6 node, $7 init's path inside, $8 the
 * handset's user namespace.
 */
export const BOOT_SCRIPT = `set -eu
base=$1 dir=$2 code=$3 resolv=$4 prefix=$5 node=$6 init=$7 userns=$8
ro_bind() { mount --rbind "$1" "$2"; mount -o remount,bind,ro "$2"; }
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$base"
cd "$base"
mkdir -p usr etc proc sys dev system/bin system/v6lab data sdcard
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$d"
  elif [ -d "/$d" ]; then mkdir "$d"; ro_bind "/$d" "$d"; fi
done
ro_bind /usr usr
ro_bind /etc etc
if [ -n "$prefix" ]; then mkdir -p "./\${prefix%/*}"; : > "./$prefix"; mount --bind "$prefix" "./$prefix"; mount -o remount,bind,ro "./$prefix"; fi
# The resolver goes over the file /etc/resolv.conf is or points to (as ip netns exec follows a
# symlink); a target outside /etc is made in this tree.
target=$(readlink -f /etc/resolv.conf) || target=/etc/resolv.conf
case "$target" in /etc/*) ;; *) mkdir -p "./\${target%/*}"; : > "./$target" ;; esac
mount --bind "$resolv" "./$target"
ro_bind "$code/bin" system/bin
ro_bind "$code" system/v6lab
# The system CA store with the lab CA added (lab.ts installCaBundle), over the host's bundle
# where /etc/ssl/certs/ca-certificates.crt is a file in /etc or /usr.
if [ -f "$code/cacerts/ca-certificates.crt" ] && ca=$(readlink -f /etc/ssl/certs/ca-certificates.crt) && [ -f "$ca" ]; then
  case "$ca" in /etc/*|/usr/*) mount --bind "$code/cacerts/ca-certificates.crt" "./$ca"; mount -o remount,bind,ro "./$ca" ;; esac
fi
mount --bind "$dir/fs/data" data
mount --bind "$dir/fs/sdcard" sdcard
mount --bind "$dir" data/v6lab
mount -t proc -o nosuid,nodev,noexec proc proc
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs sys
mount -t tmpfs -o mode=755,nosuid tmpfs dev
for n in null zero full random urandom tty; do : > "dev/$n"; mount --bind "/dev/$n" "dev/$n"; done
ln -s /proc/self/fd dev/fd; ln -s fd/0 dev/stdin; ln -s fd/1 dev/stdout; ln -s fd/2 dev/stderr
exec 9< "$userns"
mkdir .old-root
pivot_root . .old-root
cd /
umount -l /.old-root
rmdir /.old-root
mount -o remount,ro /
hostname localhost
# setpriv again: becoming the handset's root cleared unshare's --kill-child (a credential change
# resets the parent-death signal), and pid 1 must die with unshare, whoever kills it.
exec nsenter --user=/proc/self/fd/9 --setuid=0 --setgid=0 -- setpriv --pdeathsig=KILL -- sh -c 'exec 9<&-; "$1" "$2" & wait $!' init "$node" "$init"
`;

export interface HandsetContainerOptions {
  /** The handset's index in the lab: its uid range (./network/userns.ts). */
  index: number;
  /** The handset's network namespace (lab up made it in the handset's user namespace). */
  namespace: string;
  /** Its user namespace's handle (./network/userns.ts usernsFile). */
  usernsFile: string;
  /** The handset's directory on the host (handset.json, fs/, bin/). */
  dir: string;
  /** The lab's copy of the handset's code (./android/install.ts). */
  codeDir: string;
  /** init's path inside the container (under INSIDE.code). */
  init: string;
  /** Where the container's console (init's output) is appended on the host. */
  logFile: string;
  /** An empty directory of host root's, where the tree is built (in the container's own mounts). */
  bootDir: string;
}

/**
 * node's binary when it lives outside /usr (nvm, /opt, a copy under /root): that file alone is
 * shown at the same path inside, never its directory (which may be /tmp or a home).
 */
export function nodeOutsideUsr(execPath = process.execPath): string {
  return execPath.startsWith('/usr/') && realpathSync(execPath).startsWith('/usr/') ? '' : execPath;
}

export class HandsetContainer {
  readonly #options: HandsetContainerOptions;
  #unshare: ChildProcess | null = null;
  #pid1: number | null = null;

  constructor(options: HandsetContainerOptions) {
    this.#options = options;
  }

  /** pid 1 of the running container, as the host numbers it. */
  get pid1(): number {
    if (this.#pid1 === null) throw new Error(`${this.#options.namespace}: the handset's container is not running`);
    return this.#pid1;
  }

  /** Boots the container; resolves once init is ready (its services listen). */
  async start(): Promise<void> {
    const o = this.#options;
    const argv = [
      // Dies with the supervisor: unshare --kill-child takes pid 1, and so the container, along.
      'setpriv',
      '--pdeathsig=KILL',
      '--',
      'nsenter',
      `--net=${join(NETNS_RUN, o.namespace)}`,
      '--',
      'unshare',
      '--mount',
      '--pid',
      '--uts',
      '--ipc',
      '--fork',
      '--kill-child',
      '--propagation=private',
      '--',
      'sh',
      '-c',
      BOOT_SCRIPT,
      'v6lab-boot',
      o.bootDir,
      o.dir,
      o.codeDir,
      join(NETNS_ETC, o.namespace, 'resolv.conf'),
      nodeOutsideUsr(),
      process.execPath,
      o.init,
      o.usernsFile,
    ];
    log('boot %s: %o', o.namespace, argv);
    prepareHandsetTree(o.dir, (uid) => hostUid(o.index, uid));
    mkdirSync(o.bootDir, { recursive: true, mode: 0o700 });
    const consoleFd = openSync(o.logFile, 'a', 0o600);
    let child: ChildProcess;
    try {
      child = spawn(argv[0]!, argv.slice(1), {
        detached: true,
        stdio: ['ignore', 'pipe', consoleFd],
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
      });
    } finally {
      closeSync(consoleFd);
    }
    this.#unshare = child;
    await new Promise<void>((resolve, reject) => {
      let said = '';
      const timer = setTimeout(() => settle(new Error(`its container did not boot within ${BOOT_TIMEOUT_MS} ms`)), BOOT_TIMEOUT_MS);
      const settle = (error: Error | null): void => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        // The rest of init's output goes on to the console file.
        child.stdout?.resume();
        if (error === null) resolve();
        else reject(new HandsetBootError(`${error.message}${consoleTail(o.logFile)}`));
      };
      const onData = (chunk: Buffer): void => {
        said += chunk.toString('utf8');
        if (said.includes('init: ready\n')) settle(null);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
        settle(new Error(`its container ended while booting (${signal ?? `exit ${code}`})`));
      child.stdout?.on('data', onData);
      child.once('exit', onExit);
    });
    this.#pid1 = firstChild(child.pid!);
    log('%s: pid 1 is host pid %d', o.namespace, this.#pid1);
  }

  /**
   * argv that runs `argv` inside the container as `uid` (0: the handset's root), in its
   * namespaces and filesystem, working directory `/`. Spawn it detached: nsenter forks into the
   * container's PID namespace, and the pair is one process group to kill.
   */
  enter(argv: readonly string[], uid: number): string[] {
    return [
      'nsenter',
      `--target=${this.pid1}`,
      '--user',
      '--mount',
      '--uts',
      '--ipc',
      '--net',
      '--pid',
      '--root',
      '--wd',
      `--setuid=${uid}`,
      `--setgid=${uid}`,
      '--',
      ...argv,
    ];
  }

  /** Stops the container: pid 1 goes, and with it every process of the handset. */
  async stop(): Promise<void> {
    const child = this.#unshare;
    const pid1 = this.#pid1;
    this.#unshare = null;
    this.#pid1 = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // pid 1 first. The kernel ends every process of the namespace and reaps them all before pid 1
    // itself can be reaped, and unshare waits for pid 1: so unshare's exit means the handset is
    // gone. Killing unshare at once would return while pid 1 is still ending its namespace.
    if (pid1 !== null) signal(pid1);
    const timer = setTimeout(() => signal(-child.pid!), pid1 === null ? 0 : STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
    // Whatever else is left of the group (setpriv and nsenter exec'd into unshare; nothing should be).
    signal(-child.pid!);
  }
}

/** How long pid 1 gets to end its namespace before unshare's group is killed outright. */
const STOP_GRACE_MS = 10_000;

function signal(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A handset that did not boot: what happened, and the last line its console said. */
export class HandsetBootError extends Error {
  override name = 'HandsetBootError';
}

/** `: LAST LINE` of the container's console, or nothing when it said nothing. */
function consoleTail(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const last = lines[lines.length - 1]?.trim() ?? '';
    return last === '' ? '' : `: ${last.slice(0, 300)}`;
  } catch {
    return '';
  }
}

/** The one child of `pid` (unshare's: the container's pid 1). */
function firstChild(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  if (children.length !== 1) throw new Error(`unshare (pid ${pid}) has ${children.length} children, expected the container's pid 1`);
  return children[0]!;
}

/** The handset's directories the container is built from, each owned by the handset's uid given. */
export const HANDSET_TREE: readonly { path: string; uid: number; mode: number }[] = [
  { path: 'fs', uid: 0, mode: 0o755 },
  { path: 'fs/data', uid: 1000, mode: 0o771 },
  { path: 'fs/data/v6lab', uid: 0, mode: 0o755 },
  { path: 'fs/data/local', uid: 2000, mode: 0o751 },
  { path: 'fs/data/local/tmp', uid: 2000, mode: 0o771 },
  { path: 'fs/sdcard', uid: 2000, mode: 0o771 },
];

/**
 * Makes each HANDSET_TREE entry under `dir` a real directory (anything else there, a symlink
 * above all, is removed first); one it makes is owned by the host uid of the entry's uid. Run by host root before a
 * boot, when nothing of the handset runs to swap an entry between the check and the mount.
 */
export function prepareHandsetTree(dir: string, hostUidOf: (uid: number) => number): void {
  for (const entry of HANDSET_TREE) {
    const path = join(dir, entry.path);
    let stat: ReturnType<typeof lstatSync> | undefined;
    try {
      stat = lstatSync(path);
    } catch {
      stat = undefined;
    }
    if (stat !== undefined && !stat.isDirectory()) {
      log('%s is not a directory (a symlink?): replaced', path);
      rmSync(path, { force: true });
      stat = undefined;
    }
    if (stat !== undefined) continue;
    mkdirSync(path);
    chmodSync(path, entry.mode);
    chownSync(path, hostUidOf(entry.uid), hostUidOf(entry.uid));
  }
}
