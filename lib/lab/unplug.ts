/**
 * A cable pull, on request: `v6lab lab unplug SERIAL --for MS` asks the supervisor to drop a
 * handset's adb connections and keep its port closed for MS milliseconds, as a flaky USB cable or
 * a hub reset does to a phone. It is how the fault tests take a handset away mid-command,
 * mid-pull and mid-capture. The request is a file in the handset's directory, which the
 * supervisor watches, takes and removes.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readCappedFile, writeFileWhole } from '../config/files.js';
import { sleep } from './network/process.js';

/**
 * The longest a handset can stay away: the adb server retries a dropped emulator port 60 times,
 * a second apart (adb's transport_local.cpp LOCAL_PORT_RETRY_COUNT), then forgets it until its
 * next start. Bounds both `adb reboot` (V6LAB_REBOOT_MS) and an unplug.
 */
export const MAX_AWAY_MS = 50_000;

/** The request file in a handset's directory: its content is the milliseconds to stay away. */
export const UNPLUG_REQUEST = 'unplug';

/** A request is a number of milliseconds and a newline: anything longer is not one. */
const MAX_REQUEST_BYTES = 32;

/** How long the supervisor has to take a request before the lab is called not running. */
const TAKEN_WITHIN_MS = 5000;

/** Reads (and removes) a pending request: the milliseconds, or null if none or malformed. */
export function takeUnplugRequest(handsetDir: string): number | null {
  const file = join(handsetDir, UNPLUG_REQUEST);
  // The handset's directory is its shell user's: a symlink or FIFO planted under this name is
  // neither followed nor waited on, and a few bytes at most are read.
  const read = readCappedFile(file, MAX_REQUEST_BYTES);
  if ('problem' in read && read.problem === 'missing') return null;
  const text = 'bytes' in read ? read.bytes.toString('utf8') : '';
  rmSync(file, { force: true });
  const ms = Number(text.trim());
  return /^\d+$/.test(text.trim()) && ms <= MAX_AWAY_MS ? ms : null;
}

/** Asks the supervisor to unplug the handset in `handsetDir` for `ms`; resolves once it has. */
export async function requestUnplug(handsetDir: string, serial: string, ms: number): Promise<void> {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_AWAY_MS) throw new RangeError(`unplug time: expected milliseconds from 0 to ${MAX_AWAY_MS}, got ${ms}`);
  const file = join(handsetDir, UNPLUG_REQUEST);
  // Whole: the supervisor reacts to the name appearing and must not read a half-written number.
  writeFileWhole(file, `${ms}\n`);
  const deadline = Date.now() + TAKEN_WITHIN_MS;
  while (existsSync(file)) {
    if (Date.now() > deadline) {
      rmSync(file, { force: true });
      throw new Error(
        `${serial}: the lab's supervisor did not take the unplug request within ${TAKEN_WITHIN_MS / 1000} s: is the lab up and healthy? (v6lab lab status)`,
      );
    }
    await sleep(20);
  }
}
