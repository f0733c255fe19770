/**
 * The plan of a certification run: which devices, how each is reached, captured and moved
 * between networks, which suites and apps. `v6lab certify` writes it to the run directory;
 * wdio.conf.ts builds one capability per device from it, and each WebdriverIO worker finds its
 * device in it by serial. A lab handset and a phone differ here only in the values.
 */
import { join } from 'node:path';
import { NETWORKS, SUITES, type NetworkName, type SuiteName } from '../checks/requirements.js';
import { APN_SWITCHES, CAPTURE_METHODS, networkTarget, type ApnSwitch, type CaptureMethod, type NetworkTarget } from '../device/profile.js';
import { writeJsonWhole } from '../config/files.js';
import { MAX_SWITCH_TIMEOUT_MS } from './prompt.js';
import type { AppJudgePolicy } from './judge.js';
import { array, boolean, DataFileError, integer, loadJsonFile, nullable, number, object, oneOf, record, string, type Schema } from '../config/schema.js';

export { NETWORKS, SUITES, type NetworkName, type SuiteName };

export interface DevicePlan {
  serial: string;
  /** The profile's name, or `generic` / the lab's profile name for a profile the harness built. */
  profile: string;
  /** The profile file, or how the profile was built (`lab record in /run/v6lab`, `generic`). */
  profileSource: string;
  /** Whether the lab reported it as one of its handsets (results.json `virtual`); never branched on. */
  virtual: boolean;
  appium: { url: string; capabilities: Record<string, string | number | boolean>; start: boolean };
  /** Capture methods in order of preference. */
  capture: CaptureMethod[];
  /** A host command printing the device's traffic as pcap on stdout, for `capture: gateway`. */
  gatewayCapture: string[] | null;
  /** The host file an emulator's `-tcpdump` writes, for `capture: emulator`. */
  emulatorCapture: string | null;
  networks: Record<NetworkName, NetworkTarget | null>;
  apnSwitch: ApnSwitch;
  /** A dual-stack URL the device opens for os.resolver-prefers-ipv6. */
  resolverProbeUrl: string | null;
  /** A URL on an IPv4-only address (a literal) the device opens for apn.ipv4-via-clat. */
  ipv4OnlyProbeUrl: string | null;
  /** Hostnames the device reaches on its own (connectivity check, NTP, push): never an app's traffic. */
  backgroundHosts: string[];
  /** The device's own app catalogue (its profile's, or the lab's list of what it has installed), if any. */
  catalogue: string | null;
  /**
   * How strictly apps are judged on this device: the profile's `policy` under certify's
   * `--min-ipv6-share` / `--slow-fallback-ms`. @default null (absent in plans of earlier versions): certify's defaults
   */
  policy?: AppJudgePolicy | null;
}

export interface CertifyPlan {
  runDir: string;
  suites: SuiteName[];
  /** The app catalogue file the apps suite reads. */
  catalogue: string;
  /** Dwell time of an app whose catalogue entry sets none. */
  dwellMs: number;
  /** Wipe app data before each app (off by default: a user's logins stay). */
  clearAppData: boolean;
  /** The adb server's port every device is reached through. */
  adbPort: number;
  /**
   * The one network this run certifies (`certify --network`): the other network's checks are
   * skipped NETWORK_UNAVAILABLE saying so, and `--resume DIR --network OTHER` runs them.
   * @default null (absent in plans of earlier versions): every network of the profile
   */
  network?: NetworkName | null;
  /** How long a person has to switch an APN by hand (`apnSwitch: manual`, `--switch-timeout`). @default MANUAL_SWITCH_TIMEOUT_MS */
  switchTimeoutMs?: number;
  /**
   * Who ran the run and where (`certify --lab-name --tester --notes`), kept here so `--resume`
   * keeps them (results.json run.labName/tester/notes). @default absent: not given
   */
  labName?: string;
  tester?: string;
  notes?: string;
  /**
   * How many windows each app gets, each a fresh launch (`certify --app-runs N`, 1 to MAX_APP_RUNS);
   * the app's verdict is judged on all of them. @default 1 (absent in plans of earlier versions)
   */
  appRuns?: number;
  devices: DevicePlan[];
}

export const PLAN_FILE = 'plan.json';

/** `--lab-name` and `--tester`: a name, not a text. */
export const MAX_LABEL = 200;
/** `--notes`: a paragraph or a few. */
export const MAX_NOTES = 4096;

/** The most windows `--app-runs` gives an app: the practice asks for three; twenty is already an hour for a top-30 catalogue. */
export const MAX_APP_RUNS = 20;

export function writePlan(plan: CertifyPlan): string {
  const file = join(plan.runDir, PLAN_FILE);
  writeJsonWhole(file, plan, { replaceSpecial: true });
  return file;
}

const capability: Schema<string | number | boolean> = (value, field, file) => {
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
  throw new DataFileError(file, field, 'expected a string, number or boolean capability value');
};
const text = string({ maxLength: 4096 });

const policySchema: Schema<AppJudgePolicy> = object({ minIpv6Share: number(0, 1), slowFallbackMs: integer(0, 3_600_000) });

const devicePlanSchema: Schema<DevicePlan> = object(
  {
    serial: string({ pattern: /^[A-Za-z0-9._:-]{1,64}$/, what: 'an adb serial' }),
    profile: text,
    profileSource: text,
    virtual: boolean,
    appium: object({ url: text, capabilities: record(string({ maxLength: 200 }), capability), start: boolean }),
    capture: array(oneOf(CAPTURE_METHODS), { min: 1 }),
    gatewayCapture: nullable(array(text, { min: 1 })),
    emulatorCapture: nullable(text),
    networks: object({ ipv6: nullable(networkTarget), ipv4v6: nullable(networkTarget) }),
    apnSwitch: oneOf(APN_SWITCHES),
    resolverProbeUrl: nullable(text),
    ipv4OnlyProbeUrl: nullable(text),
    backgroundHosts: array(text),
    catalogue: nullable(text),
  },
  { policy: nullable(policySchema) },
);

const planSchema: Schema<CertifyPlan> = object(
  {
    runDir: text,
    suites: array(oneOf(SUITES), { min: 1 }),
    catalogue: text,
    dwellMs: integer(0, 3_600_000),
    clearAppData: boolean,
    adbPort: integer(1, 65_535),
    devices: array(devicePlanSchema, { min: 1 }),
  },
  {
    network: nullable(oneOf(NETWORKS)),
    switchTimeoutMs: integer(0, MAX_SWITCH_TIMEOUT_MS),
    appRuns: integer(1, MAX_APP_RUNS),
    labName: string({ maxLength: MAX_LABEL }),
    tester: string({ maxLength: MAX_LABEL }),
    notes: string({ maxLength: MAX_NOTES }),
  },
);

/**
 * Reads the plan `certify` wrote, checked like a file a user edits: a worker started on a plan
 * from another version (or a hand-edited one) stops naming the field, not with a TypeError.
 */
export function readPlan(file: string): CertifyPlan {
  return loadJsonFile(file, planSchema);
}

/** A device's own directory in the run: its evidence and the state it was found in. */
export const deviceDir = (runDir: string, serial: string): string => join(runDir, 'devices', serial.replace(/[^A-Za-z0-9._-]/g, '_'));
