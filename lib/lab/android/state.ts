/**
 * What a virtual handset knows about itself between commands: its profile, settings, system
 * properties set at run time, its APN table, installed apps, and what the lab attached it to.
 * One JSON file per handset, written atomically (temp + rename), read by every emulated command.
 */
import { closeSync, constants, lstatSync, openSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ApnEntry, HandsetProfile, PdpProtocol } from '../world.js';
import { writeJsonWhole } from '../../config/files.js';
import { array, boolean, nullable, object, oneOf, record } from '../../config/schema.js';
import { LabStateError } from '../network/errors.js';
import { count, readStateFile, text, type Reads } from '../state-file.js';

/** Where a handset keeps its apps' logs, control sockets and data (under its state directory). */
export const APPS_DIR = 'apps';

export interface ApnRow extends ApnEntry {
  _id: number;
}

export interface InstalledApp {
  package: string;
  label: string;
  /** The Linux uid the app's processes run as, as Android gives each app one. */
  uid: number;
}

/** An app process the handset started (`am start`, `monkey`), known by PID and start time. */
export interface RunningApp {
  pid: number;
  /** Field 22 of /proc/PID/stat: with the PID, identifies the process (a recycled PID is not it). */
  startTime: string;
  uid: number;
  /** ISO 8601. */
  startedAt: string;
}

export interface HandsetState {
  serial: string;
  profile: HandsetProfile;
  /** System properties changed with setprop, over the profile's. */
  props: Record<string, string>;
  settings: { global: Record<string, string>; secure: Record<string, string>; system: Record<string, string> };
  apns: ApnRow[];
  preferredApnId: number | null;
  apps: InstalledApp[];
  /** What the lab attached the handset to, for dumpsys connectivity. */
  network: {
    apn: string;
    /** What the handset asked for and what it got. */
    pdp: PdpProtocol;
    families: (4 | 6)[];
    nat64Prefix: string | null;
    clat: { v6Address: string; interface: string; pid: number } | null;
    dns: string[];
  } | null;
  /** Packages whose app is running, with its process. */
  running: Record<string, RunningApp>;
  /** Each installed app's JSON (CONTRACTS.md section 5), by package: what its process runs. */
  appFiles?: Record<string, string>;
  /** The IPv4 address of each world host that has one: what an `ipv4-literal` app has compiled in. */
  worldLiterals?: Record<string, string>;
  /** The lab CA that signed the world's certificates: the trust store of the apps. */
  caCertFile?: string | null;
  /**
   * The Wi-Fi networks saved on the handset (`cmd wifi connect-network` adds one); absent: the
   * profile's wifiNetwork alone, if it names one.
   */
  savedWifi?: string[];
  /**
   * Its Ethernet network as the lab provisioned it (lib/lab/network/ethernet.ts), for dumpsys
   * connectivity; absent or null while it has none.
   */
  ethernet?: {
    interface: string;
    dns: string[];
    nat64Prefix: string | null;
    clat: { v6Address: string; interface: string; pid: number } | null;
  } | null;
}

export const STATE_FILE = 'handset.json';

const pdp = oneOf(['IP', 'IPV6', 'IPV4V6'] as const);
const apnEntry = {
  name: text,
  apn: text,
  mcc: text,
  mnc: text,
  type: text,
  protocol: nullable(pdp),
  roaming_protocol: nullable(pdp),
  preferred: boolean,
};
const family = object({ enabled: boolean, privacyAddresses: boolean });
const strings = record(text, text);

/** handset.json as the lab writes it: the profile as loaded (./world.ts loadProfile), every default filled in. */
const handsetStateSchema = object(
  {
    serial: text,
    profile: object(
      {
        file: text,
        name: text,
        manufacturer: text,
        model: text,
        device: text,
        android: text,
        sdk: count,
        buildType: oneOf(['user', 'userdebug', 'eng'] as const),
        rooted: boolean,
        tcpdump: boolean,
        properties: strings,
        apns: array(object(apnEntry)),
        apnTableReadable: boolean,
        ipv6: object({ mobile: family, wifi: family, clat: boolean }),
      },
      { wifiNetwork: nullable(text), ims: boolean },
    ),
    props: strings,
    settings: object({ global: strings, secure: strings, system: strings }),
    apns: array(object({ _id: count, ...apnEntry })),
    preferredApnId: nullable(count),
    apps: array(object({ package: text, label: text, uid: count })),
    network: nullable(
      object({
        apn: text,
        pdp,
        families: array(oneOf([4, 6] as const)),
        nat64Prefix: nullable(text),
        clat: nullable(object({ v6Address: text, interface: text, pid: count })),
        dns: array(text),
      }),
    ),
    running: record(text, object({ pid: count, startTime: text, uid: count, startedAt: text })),
  },
  {
    appFiles: strings,
    worldLiterals: strings,
    caCertFile: nullable(text),
    savedWifi: array(text),
    ethernet: nullable(
      object({ interface: text, dns: array(text), nat64Prefix: nullable(text), clat: nullable(object({ v6Address: text, interface: text, pid: count })) }),
    ),
  },
);
const schemaReadsHandsetState: Reads<typeof handsetStateSchema, HandsetState> = true;
void schemaReadsHandsetState;

/** The handset's state, checked; LabStateError naming the file and field when it is missing or not what the lab writes. */
export function readHandsetState(dir: string): HandsetState {
  const file = join(dir, STATE_FILE);
  const state = readStateFile(file, handsetStateSchema);
  if (state === null) throw new LabStateError(file, "no such file: this is not a lab handset's directory, or its lab is down (v6lab lab up)");
  return state;
}

export function writeHandsetState(dir: string, state: HandsetState): void {
  const file = join(dir, STATE_FILE);
  // A root writer (the activity manager) keeps the file its directory owner's, so the handset's
  // shell user can still rewrite it.
  const owner = process.getuid?.() === 0 ? statSync(dir) : undefined;
  // A FIFO or device planted in its place is replaced, never written through.
  writeJsonWhole(file, state, { owner, replaceSpecial: true });
}

/** How long a writer holds the lock at most before another takes it as left by a killed one (a hold is a read and a write: milliseconds). */
const LOCK_STALE_MS = 5_000;
/** How long a writer waits for the lock before it writes anyway: a handset's own uids can create the lock file, and must not stall the lab's supervisor. */
const LOCK_WAIT_MS = 10_000;
const pauseSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/**
 * Runs `work` holding the handset's state lock (handset.json.lock, made with O_EXCL). Every writer
 * of handset.json reads it, changes a part and writes it whole: the handset's commands (settings,
 * content, svc, ...) in processes of their own, its activity manager, the lab's supervisor (the
 * network it attached). Two at once lose one's change (a `settings put private_dns_mode` undone
 * by the supervisor writing back the state it read before the put), which Android's settings
 * provider, one process, never does. A lock older than LOCK_STALE_MS is a killed writer's and is
 * taken over; after LOCK_WAIT_MS the work runs unlocked rather than hang.
 */
export function withHandsetStateLock<T>(dir: string, work: () => T): T {
  const lock = join(dir, `${STATE_FILE}.lock`);
  const deadline = Date.now() + LOCK_WAIT_MS;
  let held = false;
  for (;;) {
    try {
      closeSync(openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644));
      held = true;
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new LabStateError(lock, `cannot be created (${code}); the handset's directory is not the lab's to write`, { cause: error });
    }
    try {
      // Not a file the lock makes (a symlink or directory a handset's uid put there) is no writer's:
      // removed now, a directory only when empty (root never walks a tree a handset can change).
      const found = lstatSync(lock);
      if (found.isDirectory()) {
        try {
          rmdirSync(lock);
        } catch {
          // A full one stays: no writer will ever release it, so waiting for it would only stall
          // this writer (the lab's supervisor serves every handset): the work goes on unlocked.
          break;
        }
      } else if (!found.isFile() || Date.now() - found.mtimeMs > LOCK_STALE_MS) rmSync(lock, { force: true });
    } catch {
      // released meanwhile
    }
    if (Date.now() > deadline) break;
    pauseSync(2);
  }
  try {
    return work();
  } finally {
    if (held) rmSync(lock, { force: true });
  }
}

/** Reads the handset's state, lets `change` change it and writes it back, under the state lock; returns what `change` returned. */
export function updateHandsetState<T>(dir: string, change: (state: HandsetState) => T): T {
  return withHandsetStateLock(dir, () => {
    const state = readHandsetState(dir);
    const result = change(state);
    writeHandsetState(dir, state);
    return result;
  });
}

/** A fresh state from a profile: Android's settings defaults, the profile's APN table. */
export function initialHandsetState(serial: string, profile: HandsetProfile, apps: InstalledApp[]): HandsetState {
  const apns = profile.apns.map((a, i) => ({ ...a, _id: i + 1 }));
  return {
    serial,
    profile,
    props: {},
    settings: {
      // Android 9+ defaults Private DNS to opportunistic DNS over TLS.
      global: { private_dns_mode: 'opportunistic', airplane_mode_on: '0', mobile_data: '1', wifi_on: '1', data_roaming: '0' },
      secure: {
        android_id: serial
          .replace(/[^0-9a-f]/g, '')
          .padEnd(16, '0')
          .slice(0, 16),
      },
      system: {},
    },
    apns,
    preferredApnId: apns.find((a) => a.preferred)?._id ?? null,
    apps,
    network: null,
    running: {},
  };
}
