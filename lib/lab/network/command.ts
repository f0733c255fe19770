/**
 * Running the lab's short commands (`ip`, `sysctl`, `nft`, `openssl`, `dig`) as argv arrays, each
 * with a deadline. Nothing here builds a shell string.
 */
import { execFile } from 'node:child_process';
import createDebug from 'debug';
import { LabCommandError } from './errors.js';

const log = createDebug('v6lab:lab:command');

/** How long one command of the lab may take before it is treated as hung. */
export const COMMAND_TIMEOUT_MS = 10_000;

export interface RunOptions {
  /** @default COMMAND_TIMEOUT_MS */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. @default nothing (stdin at EOF) */
  input?: string;
}

/**
 * Runs argv and resolves with its stdout; rejects with a {@link LabCommandError} carrying the argv
 * and its stderr on a non-zero exit or when the deadline passes. Stdin is closed at once (unless
 * `input` is given): `openssl s_client` then leaves after its handshake.
 */
export function run(argv: readonly string[], options: RunOptions | number = {}): Promise<string> {
  const { timeoutMs = COMMAND_TIMEOUT_MS, input } = typeof options === 'number' ? { timeoutMs: options } : options;
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('run: empty argv');
  log('run %o', argv);
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: timeoutMs, maxBuffer: 4 << 20 }, (error, stdout, stderr) => {
      if (error) {
        const status = error.killed ? `killed after ${timeoutMs} ms` : `exit ${String(error.code)}`;
        reject(new LabCommandError(argv, `${status}: ${(stderr || stdout).trim().slice(0, 2000)}`, { cause: error }));
      } else {
        resolve(stdout);
      }
    });
    child.stdin?.on('error', () => {
      // EPIPE when the command exits without reading its input: its exit status tells.
    });
    child.stdin?.end(input);
  });
}

/** argv that runs `argv` inside network namespace `ns` (`ip netns exec` execs it in place). */
export function inNamespace(ns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

/** `ip -n NS ...` */
export function ip(ns: string, ...args: string[]): Promise<string> {
  return run(['ip', '-n', ns, ...args]);
}

/** Sets sysctls (`key=value`) inside `ns`. */
export function sysctl(ns: string, ...settings: string[]): Promise<string> {
  return run(inNamespace(ns, ['sysctl', '-q', '-w', ...settings]));
}

/** Loads an nftables ruleset (text) into `ns`, from stdin: one atomic transaction. */
export function nftLoad(ns: string, ruleset: string): Promise<string> {
  return run(inNamespace(ns, ['nft', '-f', '-']), { input: ruleset });
}

/** What a token of an `ip -batch` line may hold: addresses, prefixes, names, numbers. */
const BATCH_TOKEN = /^[A-Za-z0-9_.:/-]+$/;

/**
 * Runs several `ip` commands in `ns` with one process (`ip [-6] -n NS -batch -`), in order, stopping
 * at the first failure. Tokens are checked, so no line can be split or joined by its data.
 */
export function ipBatch(ns: string, commands: readonly (readonly string[])[], family?: 4 | 6): Promise<string> {
  for (const command of commands) {
    for (const token of command) {
      if (!BATCH_TOKEN.test(token)) throw new Error(`ip batch: unsafe token ${JSON.stringify(token)} in ${command.join(' ')}`);
    }
  }
  if (commands.length === 0) return Promise.resolve('');
  const lines = commands.map((c) => c.join(' '));
  // `ip rule` takes no family from its arguments: IPv6 rules need `-6` for the whole batch.
  const argv = ['ip', ...(family === undefined ? [] : [`-${family}`]), '-n', ns, '-batch', '-'];
  return run(argv, { input: `${lines.join('\n')}\n` }).catch((error: unknown) => {
    const detail = error instanceof LabCommandError ? error.detail : String(error);
    throw new LabCommandError(argv, `${detail} (batch: ${lines.join('; ')})`, { cause: error });
  });
}
