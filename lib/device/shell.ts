/**
 * Commands as argv arrays, quoted only here, at the transport edge, and their output checked
 * for completeness: every command ends by printing a marker with its exit status, since
 * `shell:` (v1, what adbkit speaks) has no exit code and ends a dropped stream cleanly.
 */
import { randomBytes } from 'node:crypto';
import type { AndroidRefusal } from './errors.js';
import type { RootMethod } from './facts.js';

/** POSIX single quotes: the only character that needs care inside them is `'` itself. */
export function quoteArg(arg: string): string {
  if (arg === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** argv run as root the device's way (adbd already root, or `su -c`), or null without root. */
export function asRoot(argv: readonly string[], root: RootMethod): string[] | null {
  if (root === 'adbd') return [...argv];
  if (root === 'su') return ['su', '-c', quoteArgv(argv)];
  return null;
}

export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('an empty argv');
  return argv.map(quoteArg).join(' ');
}

export interface MarkedCommand {
  /** The string sent to the device's shell. */
  command: string;
  marker: string;
}

/** The command line that runs argv and then prints `\n<marker>:<exit status>\n`. */
export function markedCommand(argv: readonly string[], nonce = randomBytes(6).toString('hex')): MarkedCommand {
  const marker = `__v6lab_end_${nonce}__`;
  return { command: `${quoteArgv(argv)}; printf '\\n%s:%d\\n' ${marker} "$?"`, marker };
}

export interface MarkedOutput {
  output: string;
  exitCode: number;
}

/**
 * Splits what the device printed into the command's output and its exit status; null when the
 * marker is missing (the stream was cut short).
 */
export function readMarkedOutput(raw: string, marker: string): MarkedOutput | null {
  const at = raw.lastIndexOf(`\n${marker}:`);
  if (at < 0) return null;
  const tail = raw.slice(at + marker.length + 2);
  const match = /^(-?\d+)\r?\n?$/.exec(tail);
  if (!match) return null;
  return { output: raw.slice(0, at), exitCode: Number(match[1]) };
}

// /system/bin/sh: su: inaccessible or not found
// Error while accessing provider:telephony / java.lang.SecurityException: No permission to access APN settings
// Permission denial: writing com.android.providers.settings.SettingsProvider uri content://settings/global ...
export function recognizeRefusal(output: string): AndroidRefusal {
  if (/SecurityException/.test(output)) return 'security-exception';
  if (/Permission denial|Permission denied|permission to perform this capture|Operation not permitted/i.test(output)) return 'permission-denied';
  if (/inaccessible or not found|: not found$|command not found/m.test(output)) return 'not-found';
  return null;
}
