/**
 * `logcat` on a virtual handset: what its apps logged, printed as Android's logcat prints its
 * main buffer. The entries come from the apps' own logs (./app.ts, `apps/PKG.log`): a process
 * start is ActivityManager's `Start proc PID:PKG/u0aN for ...` line (system uid), and a page's real
 * program (issue 20) is the app's own lines under the tag `RealProgram`: its argv and how it ended,
 * then its stdout (I) and stderr (W) a line each, as an app that runs a native client logs it.
 *
 * The format is `-v threadtime`, AOSP liblog's logprint.cpp FORMAT_THREADTIME:
 * `"%s %5d %5d %c %-8s: "` with the time `MM-DD hh:mm:ss.mmm` in the device's time zone
 * (persist.sys.timezone). No real logcat sample is held in shared/fixtures; the shape is AOSP's.
 *
 * Options as logcat takes them (system/logging/logcat/logcat.cpp): -d, -v threadtime,
 * --uid=UIDS (comma-separated, numeric), --pid=PID, -t COUNT, -T TIME ('sssss.mmm' epoch,
 * 'MM-DD hh:mm:ss.mmm' or 'YYYY-MM-DD hh:mm:ss.mmm' in the device's zone), -b main|all|default.
 * A virtual handset keeps no live log: without -d it prints what is there and exits.
 */
import { closeSync, openSync, readdirSync, readSync, fstatSync } from 'node:fs';
import { join } from 'node:path';

/** One logcat entry. */
export interface LogcatEntry {
  /** Seconds since the epoch (ms precision). */
  ts: number;
  pid: number;
  tid: number;
  uid: number;
  priority: 'V' | 'D' | 'I' | 'W' | 'E' | 'F';
  tag: string;
  message: string;
}

export interface LogcatOptions {
  uids: Set<number> | null;
  pid: number | null;
  /** Entries at or after this time (epoch seconds). */
  since: number | null;
  /** The last N entries only. */
  tail: number | null;
}

/** The system server's pid on a virtual handset, for ActivityManager's lines. */
const SYSTEM_SERVER_PID = 600;
const AID_SYSTEM = 1000;
/** Bytes of one app log read at most: the newest part past it, as a ring buffer keeps the newest. */
const MAX_LOG_READ = 4 * 1024 * 1024;
/** The tag a page's real program is logged under. */
export const REAL_PROGRAM_TAG = 'RealProgram';

/** `u0a100` for 10100, as UserHandle.formatUid prints an app uid. */
function formatUid(uid: number): string {
  return uid >= 10_000 ? `u0a${uid - 10_000}` : String(uid);
}

/**
 * The entries one app's log gives (its JSON lines, as ./app.ts writes them). A line that is not
 * an entry of the app's (a torn last line, a field of the wrong type) is skipped: the log is
 * written by the app's uid, and logcat prints what it can read.
 */
export function entriesOfAppLog(text: string, pkg: string): LogcatEntry[] {
  const entries: LogcatEntry[] = [];
  let pid = 0;
  let uid = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const ts = typeof e.t === 'string' ? Date.parse(e.t) / 1000 : Number.NaN;
    if (!Number.isFinite(ts)) continue;
    if (e.event === 'start' && Number.isInteger(e.pid) && Number.isInteger(e.uid)) {
      pid = e.pid as number;
      uid = e.uid as number;
      entries.push({
        ts,
        pid: SYSTEM_SERVER_PID,
        tid: SYSTEM_SERVER_PID,
        uid: AID_SYSTEM,
        priority: 'I',
        tag: 'ActivityManager',
        message: `Start proc ${pid}:${pkg}/${formatUid(uid)} for top-activity {${pkg}/${pkg}.MainActivity}`,
      });
    } else if (e.event === 'run' && pid !== 0 && Array.isArray(e.run)) {
      const at = (priority: LogcatEntry['priority'], message: string): LogcatEntry => ({ ts, pid, tid: pid, uid, priority, tag: REAL_PROGRAM_TAG, message });
      const argv = (e.run as unknown[]).map(String).join(' ');
      const how =
        typeof e.error === 'string'
          ? `did not run: ${e.error}`
          : e.timedOut === true
            ? `killed past its time limit after ${String(e.ms)} ms`
            : e.signal !== null && e.signal !== undefined
              ? `ended by ${String(e.signal)} after ${String(e.ms)} ms`
              : `exited ${String(e.exitCode)} after ${String(e.ms)} ms`;
      entries.push(at(e.ok === true ? 'I' : 'W', `${argv}: ${how}`));
      for (const [stream, priority] of [
        ['stdout', 'I'],
        ['stderr', 'W'],
      ] as const) {
        const output = typeof e[stream] === 'string' ? (e[stream] as string) : '';
        const lines = output.split('\n');
        if (lines.at(-1) === '') lines.pop();
        for (const text of lines) entries.push(at(priority, `${stream}: ${text}`));
        const total = e[`${stream}Bytes`];
        if (typeof total === 'number' && total > Buffer.byteLength(output)) {
          entries.push(at(priority, `${stream}: (${total - Buffer.byteLength(output)} more bytes not kept)`));
        }
      }
    }
  }
  return entries;
}

/** One formatter per time zone: a logcat of many lines makes one, not one a line. */
const wallClockFormats = new Map<string, Intl.DateTimeFormat>();

/** The wall clock at `ms` in `timeZone`: year, month, day, hour, minute and second, two digits each but the year. */
function wallClock(ms: number, timeZone: string): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', string> {
  let format = wallClockFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    wallClockFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** `MM-DD hh:mm:ss.mmm` of `ts` in `timeZone`. */
function localTime(ts: number, timeZone: string): string {
  const ms = Math.round(ts * 1000);
  const t = wallClock(ms, timeZone);
  return `${t.month}-${t.day} ${t.hour}:${t.minute}:${t.second}.${String(((ms % 1000) + 1000) % 1000).padStart(3, '0')}`;
}

/** One entry as `-v threadtime` prints it. */
export function formatThreadtime(entry: LogcatEntry, timeZone: string): string {
  const pad = (n: number) => String(n).padStart(5, ' ');
  return `${localTime(entry.ts, timeZone)} ${pad(entry.pid)} ${pad(entry.tid)} ${entry.priority} ${entry.tag.padEnd(8, ' ')}: ${entry.message}`;
}

/** The zone's offset from UTC at `ms`, in ms (Asia/Shanghai: +8 h). */
function zoneOffsetMs(ms: number, timeZone: string): number {
  const t = wallClock(ms, timeZone);
  const asUtc = Date.UTC(Number(t.year), Number(t.month) - 1, Number(t.day), Number(t.hour), Number(t.minute), Number(t.second));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** `-T`'s time: 'sssss.mmm' (epoch) or '[YYYY-]MM-DD hh:mm:ss.mmm' in the device's zone; null when it is neither. */
export function parseLogcatTime(text: string, timeZone: string, now = Date.now()): number | null {
  if (/^\d{1,12}(\.\d{1,9})?$/.test(text)) return Number(text);
  const match = /^(?:(\d{4})-)?(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(text);
  if (!match) return null;
  const [, year, month, day, hour, minute, second, fraction] = match;
  const fields = [Number(month), Number(day), Number(hour), Number(minute), Number(second)];
  if (fields[0]! < 1 || fields[0]! > 12 || fields[1]! < 1 || fields[1]! > 31 || fields[2]! > 23 || fields[3]! > 59 || fields[4]! > 60) return null;
  const y = year === undefined ? new Date(now).getUTCFullYear() : Number(year);
  const wall = Date.UTC(y, fields[0]! - 1, fields[1]!, fields[2]!, fields[3]!, fields[4]!);
  const ms = wall - zoneOffsetMs(wall - zoneOffsetMs(wall, timeZone), timeZone);
  return ms / 1000 + (fraction === undefined ? 0 : Number(`0.${fraction}`));
}

export type LogcatArgs = { options: LogcatOptions; dump: boolean } | { error: string };

/** logcat's command line; an option this handset does not print is an error saying so. */
export function parseLogcatArgs(args: readonly string[], timeZone: string): LogcatArgs {
  const options: LogcatOptions = { uids: null, pid: null, since: null, tail: null };
  let dump = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const long = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
    const optionValue = (inline: string | undefined): string | null => inline ?? args[++i] ?? null;
    if (arg === '-d') dump = true;
    else if (arg === '-v' || arg.startsWith('-v') || long?.[1] === 'format') {
      const format = arg === '-v' ? args[++i] : long ? long[2] : arg.slice(2);
      if (format !== 'threadtime') return { error: `-v ${format ?? ''}: this handset prints -v threadtime only` };
    } else if (arg === '-b' || long?.[1] === 'buffer') {
      const buffer = optionValue(long?.[2]);
      if (buffer === null || !buffer.split(',').every((b) => ['main', 'all', 'default'].includes(b))) {
        return { error: `-b ${buffer ?? ''}: this handset keeps the main buffer only` };
      }
    } else if (long?.[1] === 'uid') {
      const list = optionValue(long[2]);
      const uids = (list ?? '').split(',').map((u) => (/^\d{1,10}$/.test(u) ? Number(u) : Number.NaN));
      if (list === null || uids.some((u) => !Number.isInteger(u))) return { error: `--uid=${list ?? ''}: expected numeric uids, comma-separated` };
      options.uids = new Set(uids);
    } else if (long?.[1] === 'pid') {
      const pid = optionValue(long[2]);
      if (pid === null || !/^\d{1,10}$/.test(pid)) return { error: `--pid=${pid ?? ''}: expected a pid` };
      options.pid = Number(pid);
    } else if (arg === '-t' || arg === '-T') {
      const value = args[++i];
      if (value === undefined) return { error: `${arg} needs a count or a time` };
      if (/^\d{1,9}$/.test(value)) options.tail = Number(value);
      else {
        const since = parseLogcatTime(value, timeZone);
        if (since === null) return { error: `${arg} ${value}: expected a count, 'sssss.mmm', 'MM-DD hh:mm:ss.mmm' or 'YYYY-MM-DD hh:mm:ss.mmm'` };
        options.since = since;
      }
      if (arg === '-t') dump = true;
    } else {
      return { error: `${arg}: not an option this handset's logcat takes (-d, -v threadtime, --uid=, --pid=, -t, -T, -b main)` };
    }
  }
  return { options, dump };
}

/** The entries `options` select, oldest first (entries of one time keep their order). */
export function selectEntries(entries: readonly LogcatEntry[], options: LogcatOptions): LogcatEntry[] {
  const chosen = entries
    .map((entry, index) => ({ entry, index }))
    .filter(
      ({ entry }) =>
        (options.uids === null || options.uids.has(entry.uid)) &&
        (options.pid === null || entry.pid === options.pid) &&
        (options.since === null || entry.ts >= options.since),
    )
    .sort((a, b) => a.entry.ts - b.entry.ts || a.index - b.index)
    .map(({ entry }) => entry);
  return options.tail === null ? chosen : chosen.slice(Math.max(0, chosen.length - options.tail));
}

/** The newest MAX_LOG_READ bytes of a file, from its first whole line. */
function readTail(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, MAX_LOG_READ);
    const buffer = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buffer, got, length - got, size - length + got);
      if (n === 0) break;
      got += n;
    }
    const text = buffer.subarray(0, got).toString('utf8');
    return length < size ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    closeSync(fd);
  }
}

/** Every app's entries on the handset whose state directory is `dir` (its apps' logs in `appsDir`). */
export function handsetLogEntries(appsDir: string): LogcatEntry[] {
  let names: string[];
  try {
    names = readdirSync(appsDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.log'))
    .flatMap((n) => {
      try {
        return entriesOfAppLog(readTail(join(appsDir, n)), n.slice(0, -'.log'.length));
      } catch {
        return [];
      }
    });
}
