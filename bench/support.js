// What the lab benches share: their flags, a work directory with a lab state directory in it,
// the figures they print at the end, and the built `v6lab` run against that lab.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const V6LAB = join(ROOT, 'bin', 'v6lab.js');

/** The value after `--name` on the command line, or `fallback`. */
export function arg(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : process.argv[at + 1];
}

/** `--skip a,b` as a set. */
export const skipped = () => new Set(String(arg('skip', '')).split(',').filter(Boolean));

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A work directory (readable by the lab's system uids) and the lab state directory inside it. */
export function workDir(prefix) {
  const work = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(work, 0o755);
  return { work, stateDir: join(work, 'state') };
}

/** Figures printed as they come and again, together, at the end. */
export function figureList() {
  const figures = [];
  return {
    report(what, value) {
      figures.push([what, value]);
      console.log(`${what}: ${value}`);
    },
    print() {
      console.log('\nfigures');
      for (const [what, value] of figures) console.log(`  ${what}: ${value}`);
    },
  };
}

/** Runs the built `v6lab ...args` against the lab in `stateDir`; its exit code, output and wall time. */
export function v6labIn(stateDir, args, env = {}, timeoutMs = 600_000) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [V6LAB, ...args], {
    cwd: ROOT,
    env: { ...process.env, V6LAB_STATE_DIR: stateDir, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Number(process.hrtime.bigint() - started) / 1e6 };
}
