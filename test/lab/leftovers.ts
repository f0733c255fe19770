/**
 * What a lab can leave on the host after `lab down`: its network namespaces and their /etc/netns
 * directories (named after its lab id), processes started with its state directory in their
 * command line, and entries of the state directory itself.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** The lab id `lab up` printed on stderr ("v6lab: lab 05lw up in 4.1 s; ..."), or null. */
export function labIdFrom(stderr: string): string | null {
  return /\blab ([a-z0-9]+) up in\b/.exec(stderr)?.[1] ?? null;
}

/**
 * Everything of lab `labId` (state in `stateDir`) still on the host, one line each; [] when clean.
 * With `labId` null (a lab up that failed names none), only its processes and state directory.
 */
export function labLeftovers(labId: string | null, stateDir: string): string[] {
  const found: string[] = [];
  if (labId !== null) {
    const prefix = `v6l-${labId}-`;
    const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((n) => n.startsWith(prefix));
    if (namespaces.length > 0) found.push(`namespaces: ${namespaces.join(', ')}`);
    const netns = existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((n) => n.startsWith(prefix)) : [];
    if (netns.length > 0) found.push(`/etc/netns: ${netns.join(', ')}`);
  }
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      if (cmdline.includes(stateDir)) found.push(`process ${pid}: ${cmdline.replaceAll('\0', ' ').slice(0, 160)}`);
    } catch {
      // gone meanwhile
    }
  }
  const entries = existsSync(stateDir) ? readdirSync(stateDir) : [];
  if (entries.length > 0) found.push(`${stateDir}: ${entries.join(', ')}`);
  return found;
}
