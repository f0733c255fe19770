/**
 * Whether this machine can run the lab tests (root, Linux, the Debian tools, network
 * namespaces), and the one rule for when it cannot: skip with the reason on a developer's
 * machine, fail in CI (CI=true), where a silently skipped check is a defect.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';

export const inCi = process.env.CI === 'true' || process.env.CI === '1';

export async function onPath(tool: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    try {
      await access(path.join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

function ipNetns(...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', ...args], { timeout: 10_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(stderr.trim() || error.message, { cause: error })) : resolve(),
    );
  });
}

/** Why this machine cannot run a lab test that needs `tools`, or null when it can. */
export async function labUnavailableReason(tools: readonly string[], packages: string): Promise<string | null> {
  if (process.platform !== 'linux') return `network namespaces need Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  const missing: string[] = [];
  for (const tool of tools) if (!(await onPath(tool))) missing.push(tool);
  if (missing.length > 0) return `missing ${missing.join(', ')} (Debian: apt-get install ${packages})`;
  const probe = `v6lprobe${process.pid}`;
  try {
    await ipNetns('add', probe);
  } catch (error) {
    return `cannot create a network namespace: ip netns add ${probe}: ${(error as Error).message}`;
  }
  await ipNetns('del', probe);
  return null;
}

/** In a `before` hook: skips the suite with the reason, or fails it in CI. */
export async function requireLab(context: Mocha.Context, what: string, tools: readonly string[], packages: string): Promise<void> {
  const reason = await labUnavailableReason(tools, packages);
  if (reason === null) return;
  if (inCi) throw new Error(`${what} cannot run in CI: ${reason}`);
  console.warn(`    skipping ${what}: ${reason}`);
  context.skip();
}
