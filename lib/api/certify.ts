/**
 * `certify(options)`: a certification run from code, as `v6lab certify` runs it. The run is the
 * command line's own, in a child process (`bin/v6lab.js certify --json`): certify's core needs the
 * virtual lab's records for lab handsets (layer `lab`, which the API may not import) and owns the
 * process it runs in (WebdriverIO workers, Appium servers, signal handlers). The argv is built
 * from the typed options, one element per value (`--devices=a,b`: a value can never be read as
 * an option), never a shell string. The outcome is the run's exit code and its results.json,
 * validated as `v6lab report` reads it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lang } from '../checks/lang.js';
import type { NetworkName, SuiteName } from '../checks/requirements.js';
import { readResults, type RunResults } from '../report/results.js';
import { resolvePolicy } from './judge.js';
import type { JudgePolicy } from './types.js';

export type { NetworkName, RunResults, SuiteName };

/** This package's command line, run with the node running the caller. */
const V6LAB_BIN = fileURLToPath(new URL('../../bin/v6lab.js', import.meta.url));
/** How much of certify's stderr an outcome keeps (its last lines say why a run could not start). */
const STDERR_TAIL = 16 * 1024;

/** `v6lab certify`'s options, typed (docs/certify.md). */
export interface CertifyOptions {
  /** adb serials (a lab handset uses the lab's record of it; another device a generic profile). */
  devices?: string[];
  /** Device profile files. */
  profiles?: string[];
  /** @default ['os', 'apn', 'apps'] */
  suites?: SuiteName[];
  /** The app catalogue. @default the devices' own, else devices/catalogues/china-top10.json */
  apps?: string;
  /** The run directory. @default reports/<date> under the working directory */
  out?: string;
  /** How long each app runs when its catalogue entry says not. @default 5000 */
  dwellMs?: number;
  /** Wipe each app's data before it runs. @default false */
  clearData?: boolean;
  /** Continue the run in this directory. */
  resume?: string;
  /** Certify one network in this run. @default every network of the profile */
  network?: NetworkName;
  /** Seconds a person has to switch an APN by hand (`apnSwitch: manual`). @default 600 */
  switchTimeoutSeconds?: number;
  /** Skip reason codes to accept (e.g. NOT_INSTALLED). */
  allowSkip?: string[];
  /** Over the profiles' own policy, for every device. */
  policy?: JudgePolicy;
  /** Bring the virtual lab up (root), certify its handsets, bring it down. @default false */
  lab?: boolean;
  /** The lab state directory. */
  stateDir?: string;
  /** Environment for the run, over this process's (ANDROID_ADB_SERVER_PORT, APPIUM_HOME, DEBUG). */
  env?: Record<string, string>;
  /** Each app's window this many times, a fresh launch each (`--app-runs`, 1 to 20). @default 1 */
  appRuns?: number;
  /** The language of the report and summary (`--lang`). @default from the locale */
  lang?: Lang;
  /** Where, who and anything else the report's reader should know (`--lab-name`, `--tester`, `--notes`): recorded in results.json. */
  labName?: string;
  tester?: string;
  notes?: string;
  /** Each progress event certify reports (`--json` lines: result, progress, done). */
  onEvent?: (event: Record<string, unknown>) => void;
}

export interface CertifyOutcome {
  /** certify's exit code (docs/contracts.md): 0 pass, 1 a check failed, 2 bad input, 3 could not run, 4 incomplete. */
  exitCode: number;
  /** The run's results.json (absolute), or null when the run never started one. */
  resultsFile: string | null;
  results: RunResults | null;
  /** The end of certify's stderr: why a run did not start, the lab's and the devices' notices. */
  stderr: string;
}

/** The argv of `v6lab certify` for `options` (after the command's name). */
export function certifyArgv(options: CertifyOptions): string[] {
  const argv = ['--json'];
  const value = (flag: string, v: string | number | undefined) => {
    if (v !== undefined) argv.push(`--${flag}=${v}`);
  };
  if (options.devices !== undefined) value('devices', options.devices.join(','));
  for (const profile of options.profiles ?? []) value('profile', resolve(profile));
  if (options.suites !== undefined) value('suite', options.suites.join(','));
  value('apps', options.apps === undefined ? undefined : resolve(options.apps));
  value('out', options.out === undefined ? undefined : resolve(options.out));
  value('dwell', options.dwellMs);
  if (options.clearData) argv.push('--clear-data');
  value('resume', options.resume === undefined ? undefined : resolve(options.resume));
  value('network', options.network);
  value('switch-timeout', options.switchTimeoutSeconds);
  if (options.allowSkip !== undefined) value('allow-skip', options.allowSkip.join(','));
  value('min-ipv6-share', options.policy?.minIpv6Share);
  value('slow-fallback-ms', options.policy?.slowFallbackMs);
  value('app-runs', options.appRuns);
  value('lang', options.lang);
  value('lab-name', options.labName);
  value('tester', options.tester);
  value('notes', options.notes);
  if (options.lab) argv.push('--lab');
  value('state-dir', options.stateDir === undefined ? undefined : resolve(options.stateDir));
  return argv;
}

/**
 * Runs a certification and resolves when it has ended (minutes: every check of every device).
 * @throws PolicyError for a policy out of range (nothing is started); other bad input is certify's
 *   exit code 2, with its message in `stderr`
 */
export async function certify(options: CertifyOptions): Promise<CertifyOutcome> {
  if (options.policy !== undefined) resolvePolicy(options.policy);
  const child = spawn(process.execPath, [V6LAB_BIN, 'certify', ...certifyArgv(options)], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let resultsFile: string | null = null;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    stdout += chunk;
    for (let nl = stdout.indexOf('\n'); nl >= 0; nl = stdout.indexOf('\n')) {
      const line = stdout.slice(0, nl);
      stdout = stdout.slice(nl + 1);
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (event.event === 'done' && typeof event.results === 'string') resultsFile = event.results;
      options.onEvent?.(event);
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
  });
  const exitCode = await new Promise<number>((resolveExit, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolveExit(code ?? (signal === null ? 3 : 128)));
  });
  // A run that ended before its summary (a device lost, a signal) may still have its results.
  const dir = options.out ?? options.resume;
  if (resultsFile === null && dir !== undefined && existsSync(join(resolve(dir), 'results.json'))) resultsFile = join(resolve(dir), 'results.json');
  const results = resultsFile === null ? null : readResults(resolve(resultsFile, '..'));
  return { exitCode, resultsFile: resultsFile === null ? null : resolve(resultsFile), results, stderr };
}
