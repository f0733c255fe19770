/**
 * An app's own log over a capture window, read when the window was inconclusive (issue 20):
 * `logcat -d -v threadtime --uid=UID -T START` (Android 9's logcat and later; START on the
 * device's clock). When nothing of the app's was seen, what it said of itself (a crash, a refused
 * connection, a real program's exit status and stderr) is where the reason is. Kept whole
 * (bounded) by the caller as evidence; its last lines go in the result. Never judged: a log is
 * the app's word, not an observation of the network.
 */
import type { DeviceBackend } from '../device/adb.js';
import { printable } from '../net/printable.js';
import { APP_LOG_TAIL, type AppLog } from '../report/results.js';

/** Characters of an app's log kept as evidence. */
const APP_LOG_CHARS = 1024 * 1024;
/** Characters of one of its lines kept in a result. */
const APP_LOG_LINE = 500;

/**
 * A line as a result keeps it: cut to APP_LOG_LINE, then through printable() (C0 and C1 controls,
 * DEL, bidi controls and line separators shown as escapes), so a terminal, a page or a matcher's
 * message shows what the app wrote and nothing it wrote can act on them.
 */
const printableLine = (line: string): string => printable(line.slice(0, APP_LOG_LINE));

/**
 * Reads the log of `uid` since `since` (device clock, seconds) and gives it to `save`, which keeps
 * it whole and returns its path as the result names it. A device that refuses (an older logcat,
 * a dropped cable) gives an AppLog that says why, never an error: the check stands on its capture.
 */
export async function readAppLog(backend: DeviceBackend, uid: number, since: number, run: number | null, save: (text: string) => string): Promise<AppLog> {
  const command = ['logcat', '-d', '-v', 'threadtime', `--uid=${uid}`, '-T', since.toFixed(3)];
  let read: { output: string; exitCode: number };
  try {
    read = await backend.run(command);
  } catch (error) {
    return { run, command, file: null, lines: 0, tail: [], error: printableLine((error as Error).message) };
  }
  const text = read.output.length > APP_LOG_CHARS ? `${read.output.slice(0, APP_LOG_CHARS)}\n[cut at ${APP_LOG_CHARS} characters]\n` : read.output;
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (read.exitCode !== 0) return { run, command, file: null, lines: 0, tail: [], error: printableLine(lines.slice(-3).join(' ') || `exit ${read.exitCode}`) };
  return { run, command, file: save(text), lines: lines.length, tail: lines.slice(-APP_LOG_TAIL).map(printableLine), error: null };
}
