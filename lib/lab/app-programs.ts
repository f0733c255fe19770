/**
 * The real programs a lab app's page may run (issue 20): where a handset finds one, and whether
 * the app's uid may run it. A handset sees the host's /usr, /bin, /sbin, /lib* and /etc as they
 * are, read-only (./container.ts), and its uids are no host user's (./network/userns.ts): a
 * program is the app's to run only when anyone may read and execute it, and reach it.
 */
import { realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

/** PATH an app's program is looked up on, and runs with. */
export const APP_PROGRAM_PATH = '/usr/local/bin:/usr/bin:/bin';

/** The host's trees a handset sees (./container.ts BOOT_SCRIPT). */
export const HOST_TREES_IN_HANDSET: readonly string[] = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc'];

const OTHER_READ = 0o004;
const OTHER_EXECUTE = 0o001;

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/** What keeps the app's uid from reaching `file`: a directory on its way it may not search. */
function unreachable(file: string): string | null {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & OTHER_EXECUTE) === 0) return `its directory ${dir} (mode ${octal(mode)}) may be searched by its owner and group only`;
    if (dir === '/') return null;
  }
}

/**
 * The program `argv0` names, as a handset's app would run it: on `path` when a bare name, else
 * absolute; or why it cannot run there (missing, outside the host trees a handset sees, not a
 * file, not readable and executable by anyone, behind a directory others may not search).
 */
export function findAppProgram(argv0: string, options: { path?: string; trees?: readonly string[] } = {}): { path: string } | { problem: string } {
  const path = options.path ?? APP_PROGRAM_PATH;
  const trees = options.trees ?? HOST_TREES_IN_HANDSET;
  if (argv0.includes('/') && !isAbsolute(argv0)) return { problem: 'a relative path: give a name found on PATH or an absolute path' };
  const candidates = isAbsolute(argv0) ? [argv0] : path.split(':').map((dir) => join(dir, argv0));
  for (const candidate of candidates) {
    let real: string;
    try {
      real = realpathSync(candidate);
    } catch {
      continue;
    }
    if (!trees.some((tree) => real === tree || real.startsWith(`${tree}/`)))
      return { problem: `${real} is outside what a handset sees of the host (${trees.join(', ')})` };
    const stat = statSync(real);
    if (!stat.isFile()) return { problem: `${real} is not a file` };
    if ((stat.mode & (OTHER_READ | OTHER_EXECUTE)) !== (OTHER_READ | OTHER_EXECUTE))
      return {
        problem: `${real} (mode ${octal(stat.mode)}) is not readable and executable by the app's uid, which is no user of the host: only others' permissions apply`,
      };
    const blocked = unreachable(candidate) ?? (real === candidate ? null : unreachable(real));
    if (blocked !== null) return { problem: blocked };
    return { path: candidate };
  }
  return { problem: isAbsolute(argv0) ? 'no such file' : `not found on PATH (${path})` };
}
