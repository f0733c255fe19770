/**
 * Android's own commands on a virtual handset: `getprop`, `setprop`, `settings`, `content`,
 * `pm`, `dumpsys`, `su`, `am`, `monkey` (./activity.ts: the emulated apps' launcher). The handset's
 * shell finds them first on its PATH (small wrappers that run ./command.ts, which runs this
 * module); everything else (`ip`, `ping`, `cat`, `tcpdump`) is the real Linux tool inside the
 * handset's network namespace.
 *
 *   node command.js COMMAND ARGS...      (V6LAB_HANDSET_DIR names the handset's state directory)
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PdpProtocol } from '../world.js';
import { installedApps } from './browser.js';
import { cmd, dumpsysConnectivity, svc } from './connectivity.js';
import {
  apnColumns,
  appCodePath,
  renderApnRefusal,
  renderContentRows,
  renderDumpsysPackage,
  renderDumpsysPackageNotFound,
  renderGetpropAll,
  renderPmList,
  systemProperties,
} from './render.js';
import { formatThreadtime, handsetLogEntries, parseLogcatArgs, selectEntries } from './logcat.js';
import { APPS_DIR, readHandsetState, withHandsetStateLock, writeHandsetState, type ApnRow, type HandsetState } from './state.js';

export const TOOLBOX_COMMANDS = [
  'getprop',
  'setprop',
  'settings',
  'content',
  'pm',
  'dumpsys',
  'su',
  'am',
  'monkey',
  'id',
  'uiautomator',
  'input',
  'pidof',
  'svc',
  'cmd',
  'logcat',
] as const;

/** The program the PATH wrappers run (./command.ts), beside this module: .js once built, .ts from sources. */
export const COMMAND_PROGRAM = fileURLToPath(new URL(`./command${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** What a command prints and its exit code. */
interface Result {
  stdout: string;
  stderr: string;
  code: number;
}
const ok = (stdout = ''): Result => ({ stdout, stderr: '', code: 0 });
const fail = (stderr: string, code = 1): Result => ({ stdout: '', stderr: stderr.endsWith('\n') ? stderr : `${stderr}\n`, code });

/**
 * Writes the wrappers a handset's PATH starts with; each runs the command program with its own
 * name. The program must be readable by the handset's shell user: `lab up` gives the copy it
 * installed in the state directory (./install.ts). A program that user cannot read is said in one
 * line, exit 126 (a shell's "cannot execute"), not left to Node's stack trace.
 * @param runner the argv that runs a module @default [node]
 * @param program the command program @default ./command.js beside this module
 */
export function installToolbox(binDir: string, runner: readonly string[] = [process.execPath], program = COMMAND_PROGRAM): void {
  mkdirSync(binDir, { recursive: true });
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  for (const command of TOOLBOX_COMMANDS) {
    const path = join(binDir, command);
    writeFileSync(
      path,
      [
        '#!/bin/sh',
        `[ -r ${quote(program)} ] || { echo ${quote(`${command}: cannot read ${program} (permission denied, or missing): the handset's commands must be readable by its shell user`)} >&2; exit 126; }`,
        `exec ${[...runner, program].map(quote).join(' ')} ${command} "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(path, 0o755);
  }
}

/**
 * One command's result. `uid` is who runs it (the shell user, root through su or adb root): the
 * APN table and `id` depend on it.
 */
export function runToolbox(dir: string, command: string, args: string[], uid = process.getuid?.() ?? 0): Result {
  return WRITERS.has(command) ? withHandsetStateLock(dir, () => runCommand(dir, command, args, uid)) : runCommand(dir, command, args, uid);
}

/** Commands that may write handset.json: each reads and writes it under the state lock. */
const WRITERS = new Set(['setprop', 'settings', 'content', 'svc', 'cmd']);

function runCommand(dir: string, command: string, args: string[], uid: number): Result {
  const state = readHandsetState(dir);
  switch (command) {
    case 'getprop':
      return getprop(state, args);
    case 'setprop':
      return setprop(dir, state, args);
    case 'settings':
      return settings(dir, state, args);
    case 'content':
      return content(dir, state, args, uid);
    case 'pm':
      return pm(state, args);
    case 'dumpsys':
      return dumpsys(state, args);
    case 'su':
      return fail(`/system/bin/sh: su: inaccessible or not found`, 127);
    case 'id':
      return ok(`${androidId(uid, state)}\n`);
    case 'pidof':
      return pidof(state, args);
    case 'svc':
      return svc(dir, state, args);
    case 'cmd':
      return cmd(dir, state, args);
    case 'logcat':
      return logcat(dir, state, args);
    default:
      return fail(`/system/bin/sh: ${command}: inaccessible or not found`, 127);
  }
}

/** The handset's time zone (persist.sys.timezone), for the times logcat prints; UTC when it names none Node knows. */
function handsetTimeZone(state: HandsetState): string {
  const zone = systemProperties(state)['persist.sys.timezone'] ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    return 'UTC';
  }
}

/** `logcat -d [-v threadtime] [--uid=UIDS] [--pid=PID] [-t N] [-T TIME]` (./logcat.ts). */
function logcat(dir: string, state: HandsetState, args: string[]): Result {
  const timeZone = handsetTimeZone(state);
  const parsed = parseLogcatArgs(args, timeZone);
  if ('error' in parsed) return fail(`logcat: ${parsed.error}`);
  const lines = selectEntries(handsetLogEntries(join(dir, APPS_DIR)), parsed.options).map((e) => formatThreadtime(e, timeZone));
  return ok(lines.map((l) => `${l}\n`).join(''));
}

/**
 * `pidof NAME...` as toybox answers it on a phone, which sees only the phone's processes: here
 * the handset's own running apps (the handsets share the host's process table, so the host's
 * pidof would also find another handset's app of the same package).
 */
function pidof(state: HandsetState, args: string[]): Result {
  // The same process: its pid, and field 22 of /proc/PID/stat (a recycled pid is another one).
  const alive = (app: { pid: number; startTime: string }) => {
    try {
      const stat = readFileSync(`/proc/${app.pid}/stat`, 'latin1');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] === app.startTime;
    } catch {
      return false;
    }
  };
  const pids = args
    .filter((a) => !a.startsWith('-'))
    .flatMap((name) => {
      const app = state.running[name];
      return app !== undefined && alive(app) ? [app.pid] : [];
    });
  return pids.length > 0 ? ok(`${pids.join(' ')}\n`) : { stdout: '', stderr: '', code: 1 };
}

/** Android's names for uids (AID_* in android_filesystem_config.h; apps are u0_aN from 10000). */
function androidUserName(uid: number): string {
  const named: Record<number, string> = { 0: 'root', 1000: 'system', 1001: 'radio', 1002: 'bluetooth', 2000: 'shell' };
  return named[uid] ?? (uid >= 10000 ? `u0_a${uid - 10000}` : String(uid));
}

/**
 * The groups adbd gives the shell user (adb daemon/main.cpp drop_privileges, LineageOS
 * android_packages_modules_adb): ext_data_rw and ext_obb_rw from Android 12 (lineage-19.0; the
 * AOSP change is dated 2020-08, whether Android 11 shipped it is not checked), readtracefs from
 * Android 12L (lineage-19.1). `id` lists them in ascending order.
 */
function shellGroups(sdk: number): string {
  return [
    '2000(shell)',
    '1004(input)',
    '1007(log)',
    '1011(adb)',
    '1015(sdcard_rw)',
    '1028(sdcard_r)',
    ...(sdk >= 31 ? ['1078(ext_data_rw)', '1079(ext_obb_rw)'] : []),
    '3001(net_bt_admin)',
    '3002(net_bt)',
    '3003(inet)',
    '3006(net_bw_stats)',
    '3009(readproc)',
    '3011(uhid)',
    ...(sdk >= 32 ? ['3012(readtracefs)'] : []),
  ].join(',');
}

// Pixel 6, Android 12 or later (test/fixtures/android-real/id/oriole-pixel6-shell-id.txt):
// uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input),1007(log),1011(adb),1015(sdcard_rw),1028(sdcard_r),1078(ext_data_rw),1079(ext_obb_rw),3001(net_bt_admin),3002(net_bt),3003(inet),3006(net_bw_stats),3009(readproc),3011(uhid),3012(readtracefs) context=u:r:shell:s0
function androidId(uid: number, state: HandsetState): string {
  const name = androidUserName(uid);
  const groups = uid === 2000 ? shellGroups(state.profile.sdk) : `${uid}(${name})`;
  const context = uid === 0 ? (state.profile.buildType === 'user' ? 'u:r:magisk:s0' : 'u:r:su:s0') : uid === 2000 ? 'u:r:shell:s0' : 'u:r:untrusted_app:s0';
  return `uid=${uid}(${name}) gid=${uid}(${name}) groups=${groups} context=${context}`;
}

function getprop(state: HandsetState, args: string[]): Result {
  const props = systemProperties(state);
  if (args.length === 0) return ok(renderGetpropAll(props));
  return ok(`${props[args[0]!] ?? args[1] ?? ''}\n`);
}

function setprop(dir: string, state: HandsetState, args: string[]): Result {
  if (args.length !== 2) return fail('usage: setprop NAME VALUE');
  const [name, value] = args as [string, string];
  if (name.startsWith('ro.') && name in systemProperties(state)) return fail(`Failed to set property '${name}' to '${value}'.\nSee dmesg for error reason.`);
  state.props[name] = value;
  writeHandsetState(dir, state);
  return ok();
}

function settings(dir: string, state: HandsetState, args: string[]): Result {
  const rest = [...args];
  if (rest[0] === '--user') rest.splice(0, 2);
  const [verb, namespace, key, ...value] = rest;
  if (namespace !== 'global' && namespace !== 'secure' && namespace !== 'system') {
    return fail(`Invalid namespace '${namespace ?? ''}'`, 255);
  }
  const table = state.settings[namespace];
  switch (verb) {
    case 'get':
      return ok(`${key !== undefined && key in table ? table[key] : 'null'}\n`);
    case 'put':
      if (key === undefined || value.length === 0) return fail('Usage: settings put NAMESPACE KEY VALUE', 255);
      table[key] = value.join(' ');
      writeHandsetState(dir, state);
      return ok();
    case 'delete':
      if (key === undefined) return fail('Usage: settings delete NAMESPACE KEY', 255);
      delete table[key];
      writeHandsetState(dir, state);
      return ok('Deleted 1 rows\n');
    case 'list':
      return ok(
        Object.keys(table)
          .sort()
          .map((k) => `${k}=${table[k]}\n`)
          .join(''),
      );
    default:
      return fail(`Invalid command: ${verb ?? ''}`, 255);
  }
}

const CARRIERS = 'content://telephony/carriers';

/** `--where` as Android's shell passes it: `col=value` joined by AND, quotes optional. */
function matches(row: Record<string, string>, where: string | null): boolean {
  if (where === null) return true;
  return where.split(/\s+AND\s+/i).every((clause) => {
    const m = /^\s*(\w+)\s*=\s*'?([^']*)'?\s*$/.exec(clause);
    return m !== null && (row[m[1]!] ?? 'NULL') === m[2];
  });
}

/** The SIM operator's MCC+MNC: the profile's `gsm.sim.operator.numeric`, else its first APN's (the APNs a profile lists are its SIM's). */
function simNumeric(state: HandsetState): string | null {
  const first = state.profile.apns[0];
  return state.profile.properties['gsm.sim.operator.numeric'] ?? (first === undefined ? null : `${first.mcc}${first.mnc}`);
}

function content(dir: string, state: HandsetState, args: string[], uid: number): Result {
  const verb = args[0];
  let uri: string | null = null;
  let where: string | null = null;
  let projection: string[] | null = null;
  const binds: Record<string, string> = {};
  for (let i = 1; i < args.length; i++) {
    const flag = args[i];
    const value = args[i + 1];
    if (value === undefined) return fail(`Error: Missing argument for ${flag}`);
    i++;
    if (flag === '--uri') uri = value;
    else if (flag === '--where') where = value;
    else if (flag === '--projection') projection = value.split(':');
    else if (flag === '--bind') {
      // --bind protocol:s:IPV4V6
      const m = /^(\w+):[sibfdln]:(.*)$/.exec(value);
      if (!m) return fail(`Error: Invalid binding ${value}`);
      binds[m[1]!] = m[2]!;
    } else return fail(`Error: Unknown argument: ${flag}`);
  }
  if (uri === null) return fail('Error: Content provider URI not specified');
  // Content.java catches what the provider throws, prints it and exits 0 (./render.ts renderApnRefusal).
  if (uri !== CARRIERS && uri !== `${CARRIERS}/preferapn`)
    return {
      stdout: '',
      stderr: `Error while accessing provider:${uri.replace(/^content:\/\//, '').split('/')[0]}\njava.lang.IllegalArgumentException: Unknown URI ${uri}\n`,
      code: 0,
    };
  // Reading or writing the APN table needs WRITE_APN_SETTINGS or carrier privilege: the adb
  // shell user is refused unless the profile allows it (notes/android.md).
  const sdk = state.profile.sdk;
  if (!state.profile.apnTableReadable && uid !== 0) return { stdout: '', stderr: renderApnRefusal(sdk), code: 0 };
  const sim = simNumeric(state);
  const rows = () => state.apns.map((r) => apnColumns(r, sim, sdk));
  if (verb === 'query') {
    // preferapn: the one preferred row (or none), whatever `current` says.
    const selected = uri.endsWith('/preferapn')
      ? state.apns.filter((r) => r._id === state.preferredApnId).map((r) => apnColumns(r, sim, sdk))
      : rows().filter((r) => matches(r, where));
    return ok(renderContentRows(selected, projection));
  }
  if (verb === 'insert' && uri.endsWith('/preferapn')) {
    const id = Number(binds.apn_id);
    if (!state.apns.some((a) => a._id === id)) return fail(`Error: no APN with _id ${binds.apn_id ?? ''}`);
    state.preferredApnId = id;
    writeHandsetState(dir, state);
    return ok();
  }
  // A protocol the table does not know is stored as none (Android's default, IP), never as given.
  const pdp = (v: string | undefined): PdpProtocol | null | undefined =>
    v === undefined ? undefined : v === 'IP' || v === 'IPV6' || v === 'IPV4V6' ? v : null;
  if (verb === 'update') {
    for (const row of state.apns) {
      if (!matches(apnColumns(row, sim, sdk), where)) continue;
      if (binds.name !== undefined) row.name = binds.name;
      if (binds.apn !== undefined) row.apn = binds.apn;
      if (binds.type !== undefined) row.type = binds.type;
      const protocol = pdp(binds.protocol);
      if (protocol !== undefined) row.protocol = protocol;
      const roaming = pdp(binds.roaming_protocol);
      if (roaming !== undefined) row.roaming_protocol = roaming;
    }
    writeHandsetState(dir, state);
    return ok();
  }
  // Android's `content delete` prints nothing, as `update` and `insert` do.
  if (verb === 'delete' && uri.endsWith('/preferapn')) {
    // TelephonyProvider forgets the preference (setPreferredApnId(-1)); the rows stay.
    state.preferredApnId = null;
    writeHandsetState(dir, state);
    return ok();
  }
  if (verb === 'delete') {
    state.apns = state.apns.filter((row) => !matches(apnColumns(row, sim, sdk), where));
    // The preferred row gone, no row is preferred: the preference never names a missing row.
    if (!state.apns.some((a) => a._id === state.preferredApnId)) state.preferredApnId = null;
    writeHandsetState(dir, state);
    return ok();
  }
  if (verb === 'insert') {
    const id = Math.max(0, ...state.apns.map((a) => a._id)) + 1;
    const row: ApnRow = {
      _id: id,
      name: binds.name ?? '',
      apn: binds.apn ?? '',
      mcc: binds.mcc ?? '001',
      mnc: binds.mnc ?? '01',
      type: binds.type ?? 'default',
      protocol: pdp(binds.protocol) ?? null,
      roaming_protocol: pdp(binds.roaming_protocol) ?? null,
      preferred: false,
    };
    state.apns.push(row);
    writeHandsetState(dir, state);
    return ok();
  }
  return fail(`Error: Unsupported operation: ${verb ?? ''}`);
}

function pm(state: HandsetState, args: string[]): Result {
  const [verb, ...rest] = args;
  if (verb === 'list' && rest[0] === 'packages') {
    const filter = rest.slice(1).find((a) => !a.startsWith('-'));
    return ok(renderPmList(installedApps(state).filter((a) => filter === undefined || a.package.includes(filter))));
  }
  if (verb === 'path') {
    const app = installedApps(state).find((a) => a.package === rest[0]);
    return app ? ok(`package:${appCodePath(app, state.profile.sdk)}/base.apk\n`) : fail('', 1);
  }
  return fail(`Unknown command: ${verb ?? ''}`, 255);
}

function dumpsys(state: HandsetState, args: string[]): Result {
  const [service, ...rest] = args;
  if (service === 'package') {
    const pkg = rest.find((a) => !a.startsWith('-'));
    // Without a package name a phone dumps every package; the handset has no such dump.
    if (pkg === undefined) return fail('dumpsys package: name a package (the virtual handset dumps one package at a time)');
    const app = installedApps(state).find((a) => a.package === pkg);
    return ok(app ? renderDumpsysPackage(app, state.profile.sdk) : renderDumpsysPackageNotFound(pkg, state.profile.sdk));
  }
  if (service === 'connectivity') return ok(dumpsysConnectivity(state));
  if (service === undefined) return ok('');
  return ok(`Can't find service: ${service}\n`);
}

/**
 * One command as the handset's shell runs it (./command.ts is the program): what it prints goes
 * to this process's stdout and stderr; resolves with its exit code.
 */
export async function runCommandLine(command: string, args: string[], dir: string | undefined): Promise<number> {
  const finish = (result: Result): number => {
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    return result.code;
  };
  if (!dir) return finish(fail(`${command}: V6LAB_HANDSET_DIR is not set (run inside a v6lab virtual handset)`));
  try {
    readFileSync(join(dir, 'handset.json'));
  } catch (error) {
    return finish(fail(`${command}: no handset state in ${dir} (${(error as NodeJS.ErrnoException).code ?? String(error)})`));
  }
  if (command === 'am' || command === 'monkey') {
    // Launching an app waits for its process: async, and only these commands load it (./activity.ts).
    const { runActivityCommand } = await import('./activity.js');
    return finish(await runActivityCommand(dir, command, args));
  }
  if (command === 'uiautomator' || command === 'input') {
    // The screen is the foreground app's: asked over its control socket (./ui.ts).
    const ui = await import('./ui.js');
    return finish(await (command === 'uiautomator' ? ui.uiautomator(dir, args) : ui.input(dir, args)));
  }
  if (command === 'su') {
    // su streams (a capture runs through it), so it is not a one-shot Result.
    const { runSu } = await import('./su.js');
    return runSu(dir, args);
  }
  return finish(runToolbox(dir, command, args));
}
