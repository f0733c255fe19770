/**
 * What tests read of a lab app and wait for: the app's own log (one JSON line per event, written
 * by lib/lab/android/app.ts) and a deadline-bound poll.
 */
import { readFileSync } from 'node:fs';
import { appLogPath, type AppLogEntry } from '../../lib/lab/android/app.js';

/** The events app `pkg` logged in handset directory `dir` so far; none before it first ran. */
export function appLogEntries(dir: string, pkg: string): AppLogEntry[] {
  try {
    return readFileSync(appLogPath(dir, pkg), 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AppLogEntry);
  } catch {
    return [];
  }
}

/** Polls `probe` every `pollMs` until it gives a value; rejects naming `what` at the deadline. */
export async function until<T>(what: string, probe: () => Promise<T | null> | T | null, timeoutMs = 10_000, pollMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
