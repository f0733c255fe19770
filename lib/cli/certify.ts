/**
 * `v6lab certify`: finds the devices (profiles, serials, or the virtual lab it brings up with
 * `--lab`), builds the run plan, starts results.json, runs the WebdriverIO suites (wdio.conf.ts,
 * one worker per device), puts every device back as it was found, and exits by the run's overall
 * verdict (lib/report/verdict.ts): 0 every selected check passed, 1 a check failed, 3 the run
 * could not be carried out, 4 incomplete (nothing failed, but a check was skipped, broke or never
 * ran; skips whose reason `--allow-skip` names are accepted).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { toolVersion } from './version.js';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdbkitBackend, adbClient, adbServerAddress, type AdbkitClient } from '../device/adb.js';
import { DeviceUnavailableError } from '../device/errors.js';
import { probeDevice, type DeviceFacts } from '../device/facts.js';
import { DEFAULT_APPIUM_URL, loadDeviceProfile, type DeviceProfile } from '../device/profile.js';
import { appiumHome, startAppiumServers, stopAppiumServer } from '../harness/appium-server.js';
import { DEFAULT_APP_JUDGE_POLICY, type AppJudgePolicy } from '../harness/judge.js';
import { parsePolicyOption } from './policy-option.js';
import { loadCatalogue } from '../harness/catalogue.js';
import { DeviceState } from '../harness/device-state.js';
import {
  deviceDir,
  MAX_APP_RUNS,
  MAX_LABEL,
  MAX_NOTES,
  NETWORKS,
  readPlan,
  SUITES,
  writePlan,
  type CertifyPlan,
  type DevicePlan,
  type NetworkName,
  type SuiteName,
} from '../harness/plan.js';
import { isTerminal, MAX_SWITCH_TIMEOUT_MS, PROMPT_ENV, servePrompts, TerminalPrompt } from '../harness/prompt.js';
import { bringLabDown, bringLabUp, DEFAULT_APPS, DEFAULT_WORLD } from '../lab/lab.js';
import { labHandsetProfile } from '../lab/record.js';
import { readResults, ResultsWriter, updateResults, type AppLog, type RunDevice, type RunResults } from '../report/results.js';
import { describeCheck, judgeRun, type CheckKey, type VerdictOptions } from '../report/verdict.js';
import { AdbServerUnreachableError } from './devices.js';
import { parseAllowSkip, parseLangOption, writeRunReports } from './report.js';
import { sealRun } from '../report/seal.js';
import { EXIT, EXIT_OF_VERDICT, UsageError } from './errors.js';
import { NeedsRootError, stateDir as labStateDir } from './lab.js';
import { expectedChecks, Progress, type ProgressMode } from './progress.js';
import { writeFileWhole } from '../config/files.js';
import { printable, printableStored } from '../net/printable.js';
import type { Lang } from '../checks/lang.js';
import { reasonCodeTitle, reasonLine } from '../checks/messages.js';
import { reportText } from '../report/i18n.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_CATALOGUE = join(root, 'devices', 'catalogues', 'china-top10.json');
const LAB_PROFILES = ['compliant', 'noncompliant'].map((name) => join(root, 'devices', 'lab', 'handsets', `${name}.json`));
/**
 * How long a named device may take to show up in `adb devices` (a phone being plugged in, an
 * emulator booting). @default 20000, or $V6LAB_DEVICE_WAIT_MS
 */
const DEVICE_WAIT_MS = Number(process.env.V6LAB_DEVICE_WAIT_MS ?? 20_000);
const FIRST_APPIUM_PORT = 4723;

export interface CertifyOptions {
  devices?: string;
  profile?: string[];
  suite?: string;
  apps?: string;
  out?: string;
  dwell?: string;
  clearData?: boolean;
  resume?: string;
  lab?: boolean;
  stateDir?: string;
  quiet?: boolean;
  json?: boolean;
  /** Skip reason codes accepted (`--allow-skip NOT_INSTALLED,...`): recorded in results.json. */
  allowSkip?: string;
  /** The one network to certify in this run (`--network ipv6|ipv4v6`); on --resume, replaces the run's choice. */
  network?: string;
  /** Seconds a person has to switch an APN by hand (`--switch-timeout`). @default 600 */
  switchTimeout?: string;
  /** `--min-ipv6-share`: over every profile's policy. */
  minIpv6Share?: string;
  /** `--slow-fallback-ms`: over every profile's policy. */
  slowFallbackMs?: string;
  /** The language of index.html and the summary (`--lang en|zh-CN`). @default langFromEnv(process.env) */
  lang?: string;
  /** `--lab-name`: where the run was made; recorded in results.json and the plan (kept by --resume). */
  labName?: string;
  /** `--tester`: who made it. */
  tester?: string;
  /** `--notes`: anything the reader of the report should know. */
  notes?: string;
  /** `--app-runs N`: each app's window N times, a fresh launch each (1 to MAX_APP_RUNS). @default 1; on --resume, the run's */
  appRuns?: string;
}

/** The policy fields the command line sets, checked (the usage error names the option); over the profiles'. */
function parsePolicy(options: CertifyOptions): Partial<AppJudgePolicy> {
  return {
    ...(options.minIpv6Share === undefined ? {} : { minIpv6Share: parsePolicyOption('--min-ipv6-share', options.minIpv6Share) }),
    ...(options.slowFallbackMs === undefined ? {} : { slowFallbackMs: parsePolicyOption('--slow-fallback-ms', options.slowFallbackMs) }),
  };
}

/** A device's policy: certify's defaults, under the profile's, under the command line's. */
const devicePolicy = (profile: Partial<AppJudgePolicy> | undefined, flags: Partial<AppJudgePolicy>): AppJudgePolicy => ({
  minIpv6Share: flags.minIpv6Share ?? profile?.minIpv6Share ?? DEFAULT_APP_JUDGE_POLICY.minIpv6Share,
  slowFallbackMs: flags.slowFallbackMs ?? profile?.slowFallbackMs ?? DEFAULT_APP_JUDGE_POLICY.slowFallbackMs,
});

/** A device the run cannot reach: exit 3 with one line. */
export class DeviceNotFoundError extends Error {
  override name = 'DeviceNotFoundError';
}

function parseSuites(text: string | undefined): SuiteName[] {
  if (text === undefined) return [...SUITES];
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names)
    if (!SUITES.includes(name as SuiteName)) throw new UsageError(`--suite: ${JSON.stringify(name)} is not one of ${SUITES.join(', ')}`);
  if (names.length === 0) throw new UsageError('--suite: give at least one of os, apn, apps');
  // The order is the suites' own: os reads the device as delivered, before apn moves it.
  return SUITES.filter((s) => names.includes(s));
}

function parseNetwork(text: string | undefined): NetworkName | undefined {
  if (text === undefined) return undefined;
  if (!NETWORKS.includes(text as NetworkName)) throw new UsageError(`--network: ${JSON.stringify(text)} is not one of ${NETWORKS.join(', ')}`);
  return text as NetworkName;
}

function parseSwitchTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const s = Number(text);
  if (!Number.isInteger(s) || s < 1 || s * 1000 > MAX_SWITCH_TIMEOUT_MS)
    throw new UsageError(`--switch-timeout: ${JSON.stringify(text)} is not a whole number of seconds (1 to ${MAX_SWITCH_TIMEOUT_MS / 1000})`);
  return s * 1000;
}

/** Who ran the run and where, as given (each checked: a usage error names the option); absent ones left out. */
export function parseRunMetadata(options: Pick<CertifyOptions, 'labName' | 'tester' | 'notes'>): { labName?: string; tester?: string; notes?: string } {
  const out: { labName?: string; tester?: string; notes?: string } = {};
  const fields = [
    ['labName', '--lab-name', MAX_LABEL, false],
    ['tester', '--tester', MAX_LABEL, false],
    ['notes', '--notes', MAX_NOTES, true],
  ] as const;
  for (const [key, option, max, multiline] of fields) {
    const value = options[key];
    if (value === undefined) continue;
    const text = value.trim();
    if (text === '') throw new UsageError(`${option}: give a text, not an empty one`);
    if (text.length > max) throw new UsageError(`${option}: ${text.length} characters, over the ${max} it takes`);
    // Printed in reports and on terminals: control characters are refused, not filtered (only notes take lines and tabs).
    if ((multiline ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/ : /[\u0000-\u001f\u007f-\u009f]/).test(text))
      throw new UsageError(`${option}: control characters are not taken${multiline ? ' (line breaks and tabs are)' : ''}`);
    out[key] = text;
  }
  return out;
}

function parseAppRuns(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_APP_RUNS)
    throw new UsageError(`--app-runs: ${JSON.stringify(text)} is not a whole number of runs (1 to ${MAX_APP_RUNS})`);
  return n;
}

function parseDwell(text: string | undefined): number {
  if (text === undefined) return 5000;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 0 || ms > 3_600_000)
    throw new UsageError(`--dwell: ${JSON.stringify(text)} is not a whole number of milliseconds (0 to 3600000)`);
  return ms;
}

/** Waits until adb lists `serial` as a usable device; DeviceNotFoundError at the deadline. */
/** A wait shorter than this is not announced: a countdown for it would be noise. */
const WAIT_NOTICE_AFTER_MS = 1000;
/** How often a wait is announced again where lines cannot be redrawn (a CI log). */
const WAIT_NOTICE_EVERY_MS = 5000;

/**
 * Waits until adb lists `serial` as a device, saying on stderr what it waits for with the time
 * left (redrawn on a terminal, a line every 5 s elsewhere), then throws DeviceNotFoundError.
 */
async function waitForDevice(
  client: AdbkitClient,
  serial: string,
  timeoutMs: number,
  source: string,
  notices: NodeJS.WriteStream = process.stderr,
): Promise<void> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let announced = 0;
  const redraw = notices.isTTY === true;
  try {
    for (;;) {
      const listed = (await client.listDevices()).find((d) => d.id === serial);
      if (listed?.type === 'device') return;
      const now = Date.now();
      if (now > deadline) {
        throw new DeviceNotFoundError(
          `${source}: device ${serial} ${listed ? `is ${listed.type}` : 'is not connected'} (\`adb devices\` does not list it as a device after ${timeoutMs / 1000} s)`,
        );
      }
      if (now - started >= WAIT_NOTICE_AFTER_MS && (redraw || announced === 0 || now - announced >= WAIT_NOTICE_EVERY_MS)) {
        const state = listed
          ? `adb lists it as ${listed.type}${listed.type === 'unauthorized' ? ': accept the USB debugging prompt on the phone' : ''}`
          : 'adb does not list it: plug it in, or bring the lab up';
        notices.write(
          `${redraw ? '\r\x1b[K' : ''}waiting for device ${serial} (${source}): ${state}; ${Math.ceil((deadline - now) / 1000)} s left${redraw ? '' : '\n'}`,
        );
        announced = now;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    if (redraw && announced !== 0) notices.write('\r\x1b[K');
  }
}

async function listDevices(client: AdbkitClient, port: number): Promise<{ id: string; type: string }[]> {
  try {
    return await client.listDevices();
  } catch (error) {
    throw new AdbServerUnreachableError(
      `cannot reach the adb server on port ${port}: ${(error as Error).message} (start it with \`adb start-server\`, or set ANDROID_ADB_SERVER_PORT)`,
    );
  }
}

/** The serial a profile means: its own, or the one connected device of its model. */
async function profileSerial(client: AdbkitClient, profile: DeviceProfile): Promise<string> {
  if (profile.serial !== null) {
    await waitForDevice(client, profile.serial, DEVICE_WAIT_MS, profile.file);
    return profile.serial;
  }
  const matches: string[] = [];
  for (const d of (await client.listDevices()).filter((x) => x.type === 'device')) {
    const facts = await probeDevice(new AdbkitBackend(client, d.id));
    if (facts.model === profile.model) matches.push(d.id);
  }
  if (matches.length !== 1)
    throw new DeviceNotFoundError(
      `${profile.file}: model ${JSON.stringify(profile.model)}: ${matches.length === 0 ? 'no connected device is that model' : `${matches.length} connected devices are (${matches.join(', ')}): give the serial`}`,
    );
  return matches[0]!;
}

function planFromProfile(profile: DeviceProfile, serial: string, policy: Partial<AppJudgePolicy>): DevicePlan {
  return {
    serial,
    profile: profile.name,
    profileSource: profile.file,
    virtual: false,
    appium: { url: profile.appium.url, capabilities: { 'appium:automationName': 'UiAutomator2', ...profile.appium.capabilities }, start: false },
    capture: profile.capture,
    gatewayCapture: profile.gatewayCapture,
    emulatorCapture: profile.emulatorCapture,
    networks: profile.networks,
    apnSwitch: profile.apnSwitch,
    resolverProbeUrl: profile.resolverProbeUrl,
    ipv4OnlyProbeUrl: profile.ipv4OnlyProbeUrl,
    backgroundHosts: profile.backgroundHosts,
    catalogue: profile.catalogue,
    policy: devicePolicy(profile.policy, policy),
  };
}

/**
 * A device with no profile: from the lab's record of it when the lab has one, else from what
 * it reports (its current APN is the network it is on; APNs are switched by hand).
 */
async function planFromSerial(
  client: AdbkitClient,
  serial: string,
  labDir: string,
  catalogues: Map<string, string>,
  policy: Partial<AppJudgePolicy>,
): Promise<DevicePlan> {
  await waitForDevice(client, serial, DEVICE_WAIT_MS, '--devices');
  const lab = await labHandsetProfile(labDir, serial).catch(() => null);
  if (lab !== null) {
    // Written into the run directory once every device is known (nothing is written before).
    catalogues.set(serial, `${JSON.stringify(lab.catalogue, null, 2)}\n`);
    return {
      serial,
      profile: lab.profile,
      profileSource: `lab record in ${labDir}`,
      virtual: true,
      appium: { url: DEFAULT_APPIUM_URL, capabilities: lab.appiumCapabilities, start: true },
      capture: lab.capture,
      gatewayCapture: lab.gatewayCapture,
      emulatorCapture: null,
      networks: lab.networks,
      apnSwitch: lab.apnSwitch,
      resolverProbeUrl: lab.resolverProbeUrl,
      ipv4OnlyProbeUrl: lab.ipv4OnlyProbeUrl,
      backgroundHosts: lab.backgroundHosts,
      catalogue: null,
      policy: devicePolicy(undefined, policy),
    };
  }
  const facts = await probeDevice(new AdbkitBackend(client, serial));
  const apn = facts.defaultNetwork?.apn ?? null;
  const addresses = facts.defaultNetwork?.addresses ?? [];
  const hasV4 = addresses.some((a) => !a.includes(':')) && facts.defaultNetwork?.clat === null;
  const network = apn === null ? null : { apn };
  return {
    serial,
    profile: 'generic',
    profileSource: 'generic (built from what the device reports)',
    virtual: false,
    appium: { url: DEFAULT_APPIUM_URL, capabilities: { 'appium:automationName': 'UiAutomator2', 'appium:noReset': true }, start: true },
    // Without a profile: tcpdump where the device is rooted, else PCAPdroid where it is installed.
    capture: ['device', 'pcapdroid'],
    gatewayCapture: null,
    emulatorCapture: null,
    networks: { ipv6: hasV4 ? null : network, ipv4v6: hasV4 ? network : null },
    apnSwitch: 'manual',
    resolverProbeUrl: null,
    ipv4OnlyProbeUrl: null,
    backgroundHosts: [],
    catalogue: null,
    policy: devicePolicy(undefined, policy),
  };
}

/**
 * Local Appium servers: each device with no server of its own gets one on its own loopback port;
 * a profile's loopback URL where nothing answers is started there; any other URL (a server the
 * user runs, another host, a Selenium Grid hub, a device farm) is only connected to.
 */
async function assignAppiumServers(devices: DevicePlan[]): Promise<void> {
  const taken = new Set(devices.filter((d) => !d.appium.start).map((d) => d.appium.url));
  let port = FIRST_APPIUM_PORT;
  for (const device of devices) {
    if (device.appium.start) {
      while (taken.has(`http://127.0.0.1:${port}`)) port++;
      device.appium.url = `http://127.0.0.1:${port++}`;
      continue;
    }
    const url = new URL(device.appium.url);
    if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && url.pathname === '/') {
      const answers = await fetch(new URL('/status', url), { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      // Several profiles may name the same local server: wdio.conf.ts starts one per port.
      if (!answers) device.appium.start = true;
    }
  }
}

/**
 * Runs WebdriverIO on the plan, its own output to `log`; resolves with its exit code. The plan's
 * local Appium servers start at the same moment as WebdriverIO's launcher (each takes seconds;
 * each worker waits for its server before its session), log to the same file, and are stopped
 * once it ends.
 */
async function runWdio(plan: CertifyPlan, planFile: string, adbPort: number, log: string, extraEnv: Record<string, string> = {}): Promise<number> {
  const wdio = join(root, 'node_modules', '@wdio', 'cli', 'bin', 'wdio.js');
  const env = {
    ...process.env,
    ...extraEnv,
    V6LAB_PLAN: planFile,
    ANDROID_ADB_SERVER_PORT: String(adbPort),
    APPIUM_HOME: appiumHome(),
    FORCE_COLOR: '0',
  };
  const fd = openSync(log, 'a');
  let servers: Promise<ChildProcess[]>;
  let child: ChildProcess;
  try {
    servers = startAppiumServers(root, plan, env, fd);
    servers.catch(() => undefined);
    child = spawn(process.execPath, [wdio, 'run', join(root, 'wdio.conf.ts')], {
      cwd: root,
      env: { ...env, V6LAB_APPIUM_STARTED: '1' },
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const stop = () => child.kill('SIGTERM');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // An Appium server that cannot start dooms the run: WebdriverIO is stopped, and the log says why.
  servers.catch((error: unknown) => {
    appendFileSync(log, `v6lab: ${(error as Error).message}\n`);
    stop();
  });
  const code = await new Promise<number>((resolveExit, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode, signal) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolveExit(exitCode ?? (signal ? 128 : 1));
    });
  });
  await Promise.all((await servers.catch(() => [])).map(stopAppiumServer));
  return code;
}

/**
 * Questions from the WebdriverIO workers ("switch SERIAL to APN X, then press Enter") asked on
 * this process's terminal: WebdriverIO's workers run with no terminal of their own, so they ask
 * over a Unix socket in a private directory (lib/harness/prompt.ts), named to them in
 * V6LAB_PROMPT. Null when stdin or stderr is not a terminal: the workers then skip a network
 * nobody can switch, at once, saying why.
 */
async function askOnTerminal(progress: Progress): Promise<{ path: string; close(): Promise<void> } | null> {
  const terminal = { input: process.stdin, output: process.stderr };
  if (!isTerminal(terminal)) return null;
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-prompt-'));
  const path = join(dir, 'prompt.sock');
  const asker = new TerminalPrompt(terminal);
  // The progress lines are not redrawn over the question while it is open.
  const served = await servePrompts(path, {
    ask: async (request, withdrawn) => {
      progress.hold();
      try {
        return await asker.ask(request, withdrawn);
      } finally {
        progress.release();
      }
    },
  });
  return {
    path,
    close: async () => {
      await served.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The drivers the local Appium servers need, installed once into APPIUM_HOME (appiumHome(): UiAutomator2 from npm). */
function ensureAppiumDrivers(devices: readonly DevicePlan[]): void {
  const uiautomator2 = devices.some((d) => d.appium.start && String(d.appium.capabilities['appium:automationName'] ?? '').toLowerCase() === 'uiautomator2');
  execFileSync(process.execPath, [join(root, 'scripts', 'appium-setup.js'), ...(uiautomator2 ? ['--uiautomator2'] : [])], {
    cwd: root,
    env: { ...process.env, APPIUM_HOME: appiumHome() },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** The run's exit code: its overall verdict (lib/report/verdict.ts), 0 only when every selected check passed or was an accepted skip. */
export function exitCodeOf(results: RunResults, options: VerdictOptions = {}): number {
  return EXIT_OF_VERDICT[judgeRun(results, options).verdict];
}

/** A check without a verdict, or an accepted skip, in a line: what, on which device, and why. */
function describeInLang(c: CheckKey & { reasons: { code: string; detail: string }[] }, lang: Lang): string {
  if (lang === 'en') return describeCheck(c);
  const t = reportText(lang);
  const what = c.check === '*' ? t.everyCheck : `${c.check}${c.app === null ? '' : ` ${c.app}`} [${c.network}]`;
  return `${what}，${t.col.device} ${c.device}：${c.reasons.map((x) => `${x.code}（${reasonLine(x, lang)}）`).join('；')}`;
}

/** A failure's reason codes; in a language other than English each with its title there. */
const codesInLang = (codes: readonly string[], lang: Lang): string =>
  lang === 'en' ? codes.join(', ') : codes.map((code) => `${code}（${reasonCodeTitle(code, lang)}）`).join('，');

/**
 * One line per device, its failures and what has no verdict under it, then the run's verdict, in
 * the language asked for (English by default). Serials, models, apps and reasons come from phones
 * and results.json: each is shown through printable(), so none can drive the terminal or forge a
 * line of the summary.
 */
/** Lines of an app's log the console shows under its inconclusive check (results.json keeps more, its file all). */
const CONSOLE_APP_LOG_LINES = 10;

function writeAppLog(out: NodeJS.WritableStream, appLog: AppLog, t: ReturnType<typeof reportText>['console']): void {
  const command = printable(appLog.command.join(' '));
  if (appLog.error !== null || appLog.file === null) {
    out.write(`    ${t.appLogUnread(command, printable(appLog.error ?? 'nothing read'))}\n`);
    return;
  }
  const shown = appLog.tail.slice(-CONSOLE_APP_LOG_LINES);
  out.write(`    ${t.appLog(command, shown.length, appLog.lines, printable(appLog.file))}\n`);
  for (const line of shown) out.write(`      ${printableStored(line)}\n`);
}

export function summary(results: RunResults, out: NodeJS.WritableStream, dir: string, options: VerdictOptions & { lang?: Lang } = {}): void {
  const lang = options.lang ?? 'en';
  const t = reportText(lang).console;
  const judged = judgeRun(results, options);
  for (const device of judged.devices) {
    const model = printable(results.devices.find((d) => d.serial === device.device)?.model ?? 'unknown');
    const mine = results.results.filter((r) => r.device === device.device);
    const count = (s: string) => mine.filter((r) => r.status === s).length;
    const counts = { passed: count('passed'), failed: count('failed'), broken: count('broken'), skipped: count('skipped') };
    out.write(`${printable(device.device)}\t${model}\t${t.overall[device.verdict]}\t${t.counts(counts, device.accepted.length)}\n`);
    // Broken and skipped checks are listed once, below, as MISSING.
    for (const r of mine.filter((x) => x.status === 'failed' || (x.status === 'passed' && x.brokenAttempts))) {
      // A code found for several hosts is said once here; results.json has each.
      const codes = codesInLang([...new Set(r.reasons.map((x) => x.code))], lang);
      const retriedCodes = (r.brokenAttempts ?? []).map((a) => a.reasons[0]?.code ?? 'broken');
      const retried = retriedCodes.length > 0 ? t.runAgainAfter(codesInLang(retriedCodes, lang)) : '';
      const word = r.status === 'failed' ? t.failed : t.passedAfterRetry;
      out.write(`  ${printable(`${word} ${r.check}${r.app ? ` ${r.app}` : ''} [${r.network}]: ${codes}${retried}`)}\n`);
      for (const appLog of r.appLogs ?? []) writeAppLog(out, appLog, t);
    }
    for (const m of device.missing) {
      const status = lang === 'en' ? printable(m.status) : reportText(lang).missingStatus[m.status];
      out.write(`  ${t.missing(status)} ${printable(describeInLang(m, lang))}\n`);
    }
    for (const a of device.accepted) out.write(`  ${t.acceptedSkip} ${printable(describeInLang(a, lang))}\n`);
  }
  const why = judged.verdict === 'incomplete' ? t.incompleteWhy(judged.missing.length) : '';
  out.write(
    `${t.overallLine(t.overall[judged.verdict])}${why}${judged.accepted.length > 0 ? t.acceptedSkips(judged.accepted.length, printable(judged.allowSkip.join(','))) : ''}\n`,
  );
  out.write(`${t.results}${printable(join(dir, 'results.json'))}\n`);
}

export async function certifyCommand(options: CertifyOptions, out: NodeJS.WritableStream): Promise<number> {
  const labDir = labStateDir(options.stateDir);
  if (options.lab && process.getuid?.() !== 0) throw new NeedsRootError('`v6lab certify --lab` brings the virtual lab up, which needs root: run it as root');
  if (options.lab && (options.devices !== undefined || options.profile !== undefined))
    throw new UsageError("--lab certifies the lab's own handsets: leave out --devices and --profile");
  if (!options.lab && options.resume === undefined && options.devices === undefined && options.profile === undefined) {
    throw new UsageError('name the devices: --devices SERIAL,... or --profile FILE (or --lab for the virtual lab, --resume DIR to continue a run)');
  }
  // The host, if another machine's, reaches every client through the environment (adbClient).
  const adbPort = adbServerAddress().port;
  // The lab run needs an adb server: one that is running is used; else one is started, and stopped at the end.
  const adbStarted = options.lab ? await ensureAdbServer(adbPort) : false;
  try {
    return await certify(options, labDir, adbPort, out);
  } finally {
    if (adbStarted) execFileSync('adb', ['-P', String(adbPort), 'kill-server'], { stdio: 'ignore' });
  }
}

/** Starts an adb server on `port` if none answers; true when it started one. */
async function ensureAdbServer(port: number): Promise<boolean> {
  try {
    await adbClient(port).listDevices();
    return false;
  } catch {
    try {
      execFileSync('adb', ['-P', String(port), 'start-server'], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      throw new AdbServerUnreachableError(`no adb server on port ${port}, and \`adb start-server\` failed: ${(error as Error).message} (install Debian's adb)`);
    }
    return true;
  }
}

async function certify(options: CertifyOptions, labDir: string, adbPort: number, out: NodeJS.WritableStream): Promise<number> {
  let plan: CertifyPlan;
  let labUp = false;
  const allowSkip = options.allowSkip === undefined ? undefined : parseAllowSkip(options.allowSkip);
  const lang = parseLangOption(options.lang);
  const metadata = parseRunMetadata(options);
  if (options.resume !== undefined) {
    const dir = resolve(options.resume);
    if (!existsSync(join(dir, 'plan.json'))) throw new UsageError(`--resume: ${dir} has no plan.json: is it a v6lab run directory?`);
    plan = readPlan(join(dir, 'plan.json'));
    // --network and --switch-timeout on a resume replace the run's; without them, the run's stand.
    const network = parseNetwork(options.network);
    const switchTimeoutMs = parseSwitchTimeout(options.switchTimeout);
    // --app-runs on a resume gives the apps still to run that many windows; without it, the run's stands.
    const appRuns = parseAppRuns(options.appRuns);
    plan = {
      ...plan,
      ...(network === undefined ? {} : { network }),
      ...(switchTimeoutMs === undefined ? {} : { switchTimeoutMs }),
      ...(appRuns === undefined ? {} : { appRuns }),
      // --lab-name, --tester, --notes on a resume replace the run's; without them, the run's stand.
      ...metadata,
    };
    // --min-ipv6-share / --slow-fallback-ms on a resume judge the apps still to run by them.
    const policy = parsePolicy(options);
    if (Object.keys(policy).length > 0) plan = { ...plan, devices: plan.devices.map((d) => ({ ...d, policy: devicePolicy(d.policy ?? undefined, policy) })) };
    await updateResults(dir, (d) => {
      d.run.finished = null;
      // The run goes on, its evidence with it: sealed again when it finishes.
      delete d.sealed;
      // --allow-skip on a resume replaces the list the run started with; without it, that list stands.
      if (allowSkip !== undefined) d.run.allowSkip = allowSkip;
      Object.assign(d.run, metadata);
    });
    const client = adbClient(adbPort);
    for (const d of plan.devices) await waitForDevice(client, d.serial, DEVICE_WAIT_MS, `--resume ${dir}`);
  } else {
    // Everything the user gave is checked before anything is started.
    const suites = parseSuites(options.suite);
    const dwellMs = parseDwell(options.dwell);
    const appRuns = parseAppRuns(options.appRuns) ?? 1;
    const network = parseNetwork(options.network) ?? null;
    const switchTimeoutMs = parseSwitchTimeout(options.switchTimeout);
    const policy = parsePolicy(options);
    const profiles = (options.profile ?? []).map((file) => loadDeviceProfile(file));
    if (options.apps !== undefined) loadCatalogue(options.apps);
    for (const profile of profiles) if (profile.catalogue !== null) loadCatalogue(profile.catalogue);
    const serials = (options.devices ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const s of serials) if (!/^[A-Za-z0-9._:-]{1,64}$/.test(s)) throw new UsageError(`--devices: ${JSON.stringify(s)} is not an adb serial`);

    if (options.lab) {
      process.stderr.write('v6lab: bringing the virtual lab up (a compliant and a non-compliant handset)\n');
      const up = await bringLabUp({
        stateDir: labDir,
        handsets: 2,
        apn: 'ipv6',
        world: DEFAULT_WORLD,
        apps: DEFAULT_APPS,
        profiles: LAB_PROFILES,
        runner: [process.execPath, ...process.execArgv],
      });
      labUp = true;
      serials.push(...up.handsets.map((h) => h.serial));
      process.stderr.write(
        `v6lab: lab ${up.labId} up in ${(up.upMs / 1000).toFixed(1)} s: ${up.handsets.map((h) => `${h.serial} (${h.profile}, ${h.network})`).join(', ')}\n`,
      );
    }
    try {
      const client = adbClient(adbPort);
      await listDevices(client, adbPort);
      const devices: DevicePlan[] = [];
      const labCatalogues = new Map<string, string>();
      for (const profile of profiles) devices.push(planFromProfile(profile, await profileSerial(client, profile), policy));
      for (const serial of serials) devices.push(await planFromSerial(client, serial, labDir, labCatalogues, policy));
      const duplicate = devices.find((d, i) => devices.findIndex((x) => x.serial === d.serial) !== i);
      if (duplicate) throw new UsageError(`device ${duplicate.serial} is named twice`);
      await assignAppiumServers(devices);
      // Under the user's working directory, never inside the installed package.
      const runDir = resolve(options.out ?? join(process.cwd(), 'reports', new Date().toISOString().replace(/[:.]/g, '-')));
      mkdirSync(runDir, { recursive: true });
      for (const device of devices) {
        const text = labCatalogues.get(device.serial);
        if (text === undefined) continue;
        device.catalogue = join(runDir, `catalogue-${device.serial}.json`);
        writeFileWhole(device.catalogue, text);
      }
      // --apps; else the devices' own catalogue when they agree (the lab's apps, a profile's
      // list); else the China top 10.
      const own = new Set(devices.map((d) => (d.catalogue === null ? null : readFileSync(d.catalogue, 'utf8'))));
      const catalogueFile = resolve(options.apps ?? (own.size === 1 && devices[0]!.catalogue !== null ? devices[0]!.catalogue : DEFAULT_CATALOGUE));
      loadCatalogue(catalogueFile);
      plan = {
        runDir,
        suites,
        catalogue: catalogueFile,
        dwellMs,
        appRuns,
        clearAppData: options.clearData ?? false,
        adbPort,
        network,
        ...(switchTimeoutMs === undefined ? {} : { switchTimeoutMs }),
        ...metadata,
        devices,
      };
      const facts = await Promise.all(devices.map((d) => probeDevice(new AdbkitBackend(client, d.serial))));
      const runDevices: RunDevice[] = devices.map((d, i) => ({
        serial: d.serial,
        model: facts[i]!.model ?? 'unknown',
        android: facts[i]!.android ?? 'unknown',
        virtual: d.virtual,
        profile: d.profile,
        identity: facts[i]!.identity,
      }));
      ResultsWriter.start(runDir, toolVersion(), runDevices, new Date(), allowSkip);
      if (Object.keys(metadata).length > 0) await updateResults(runDir, (d) => Object.assign(d.run, metadata));
    } catch (error) {
      if (labUp) await bringLabDown(labDir).catch(() => undefined);
      throw error;
    }
  }

  try {
    const planFile = writePlan(plan);
    if (plan.devices.some((d) => d.appium.start)) ensureAppiumDrivers(plan.devices);
    const mode: ProgressMode = options.json ? 'json' : options.quiet ? 'quiet' : process.stdout.isTTY ? 'tty' : 'lines';
    if (mode !== 'json' && mode !== 'quiet')
      process.stderr.write(
        `v6lab: certifying ${plan.devices.map((d) => `${d.serial} (${d.profile}, Appium ${d.appium.url})`).join(', ')}; suites ${plan.suites.join(', ')}; report in ${plan.runDir}\n`,
      );
    const log = join(plan.runDir, 'wdio.log');
    const selected = expectedChecks(plan, loadCatalogue(plan.catalogue).apps);
    const progress = new Progress(plan, selected, mode, out);
    // What the run selected, per device: a check with no result at the end is missing, never a pass.
    const expected: CheckKey[] = plan.devices.flatMap((d) => selected.map((c) => ({ device: d.serial, check: c.check, app: c.app, network: c.network })));
    progress.start();
    // A device switched by hand is asked for on this terminal: the workers have none (askOnTerminal).
    const prompts = plan.devices.some((d) => d.apnSwitch === 'manual') ? await askOnTerminal(progress) : null;
    let wdioExit: number;
    try {
      wdioExit = await runWdio(plan, planFile, adbPort, log, prompts === null ? {} : { [PROMPT_ENV]: prompts.path });
    } finally {
      await prompts?.close();
      progress.stop();
    }
    // A worker that died could not restore its device: do it here, for every device that is back.
    const client = adbClient(adbPort);
    for (const device of plan.devices) {
      if (DeviceState.restoredIn(deviceDir(plan.runDir, device.serial))) continue;
      try {
        const backend = new AdbkitBackend(client, device.serial);
        await backend.ensureAvailable();
        const facts: DeviceFacts = await probeDevice(backend);
        const restored = await new DeviceState(backend, facts.root, deviceDir(plan.runDir, device.serial)).restore();
        if (restored.length > 0) process.stderr.write(`v6lab: ${device.serial}: restored ${restored.join(', ')}\n`);
      } catch (error) {
        const why = error instanceof DeviceUnavailableError ? 'it is not connected' : (error as Error).message;
        process.stderr.write(
          `v6lab: ${device.serial}: could not restore the state it was found in (${why}); ${join(deviceDir(plan.runDir, device.serial), 'found.json')} says what it was\n`,
        );
      }
    }
    // Every evidence file as it is at the run's end, sealed with the finish (lib/report/seal.ts):
    // `v6lab report --verify DIR` names any that changes afterwards.
    const sealed = await sealRun(plan.runDir, readResults(plan.runDir));
    const results = await updateResults(plan.runDir, (d) => {
      d.run.finished = new Date().toISOString();
      d.sealed = sealed;
    });
    // The certification report and JUnit (the Allure HTML is `v6lab report DIR`: it needs Java and takes seconds).
    const { html } = writeRunReports(plan.runDir, undefined, { expected }, lang);
    const code = exitCodeOf(readResults(plan.runDir), { expected });
    if (mode === 'json') {
      const judged = judgeRun(results, { expected });
      out.write(
        `${JSON.stringify({ event: 'done', exitCode: code, verdict: judged.verdict, missing: judged.missing, accepted: judged.accepted, elapsedMs: progress.elapsedMs, results: join(plan.runDir, 'results.json'), report: html, log })}\n`,
      );
    } else {
      summary(results, out, plan.runDir, { expected, lang });
      out.write(`report: ${html}\n`);
    }
    if (code === EXIT.cannotRun) {
      const tail = readFileSync(log, 'utf8').trim().split('\n').slice(-15).join('\n');
      process.stderr.write(`v6lab: no check could be carried out (WebdriverIO exited ${wdioExit}); the end of ${log}:\n${tail}\n`);
    }
    return code;
  } finally {
    if (labUp) {
      const removed = await bringLabDown(labDir);
      process.stderr.write(`v6lab: lab down (${removed.length} things removed)\n`);
    }
  }
}
