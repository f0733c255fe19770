/**
 * The virtual lab as `v6lab lab up|status|down` drives it: the carrier network (./network),
 * a state directory per handset (profile, settings, APN table, Android's commands), and the
 * supervisor process that serves every handset over adb on an emulator port, so the adb server
 * finds them by itself as `emulator-5554`, `emulator-5556`, ...
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileWhole, writeJsonWhole } from '../config/files.js';
import { array, DataFileError, integer, object } from '../config/schema.js';
import { BROWSER_PACKAGE } from './android/browser.js';
import { CODE_INSIDE, compiledProgram, installHandsetCode, libraryRoot } from './android/install.js';
import { COMMAND_PROGRAM, installToolbox } from './android/toolbox.js';
import { INIT_PROGRAM } from './android/programs.js';
import { SYNC_AGENT_PROGRAM } from './adbd/programs.js';
import { prepareHandsetTree } from './container.js';
import { hostUid } from './network/userns.js';
import type { KeyObject } from 'node:crypto';
import { type AdbPublicKey, generateAdbKeyPair, decodeAndroidPublicKey, encodeAndroidPublicKey } from './adbd/auth.js';
import { adbShell } from './adbd/client.js';
import { defaultAcceptedKeys, readKeyFile, userAdbKeyPath, writeAcceptedKeys } from './adbd/keys.js';
import { count, readStateFile, text, type Reads } from './state-file.js';
import { SHELL_UID } from './handset.js';
import { initialHandsetState, writeHandsetState, type InstalledApp } from './android/state.js';
import { LabStepError } from './network/errors.js';
import {
  handsetNamespace,
  labDown,
  labStatus,
  labUp,
  readState,
  type ApnType,
  type HandsetNetworkSettings,
  type LabState,
  type LabStatus,
} from './network/index.js';
import { isRunning, processStartTime, sleep, stopProcesses } from './network/process.js';
import { isRun, loadApps, loadProfile, loadWorld, requestedPdp, type EmulatedApp, type HandsetProfile, type World } from './world.js';
import { findAppProgram } from './app-programs.js';

/** Where the lab keeps its state unless told otherwise: tmpfs, root's, gone at reboot. */
export const DEFAULT_STATE_DIR = '/run/v6lab';
/** The emulator console/adb port pairs the adb server scans: 5554/5555, 5556/5557, ... */
export const FIRST_ADB_PORT = 5555;
export const MAX_HANDSETS = 16;
const SUPERVISOR_READY_TIMEOUT_MS = 10_000;

const shippedData = fileURLToPath(new URL('../../devices/lab/', import.meta.url));
export const DEFAULT_WORLD = join(shippedData, 'world.json');
export const DEFAULT_APPS = join(shippedData, 'apps');
export const DEFAULT_PROFILE = join(shippedData, 'handsets', 'compliant.json');

/** What a carrier's test network calls its three APNs; the name selects what is offered. */
export const LAB_APNS: Record<ApnType, string> = {
  ipv6: 'ipv6.v6lab.test',
  'ipv6-true': 'ipv6-true.v6lab.test',
  ipv4v6: 'ipv4v6.v6lab.test',
  ipv4: 'ipv4.v6lab.test',
};

/** The APN type an APN entry's name attaches to: `ipv6.*`, `ipv6-true.*`, `ipv4v6.*`/`internet.*`, `ipv4.*`. */
export function apnTypeOf(apnName: string): ApnType | null {
  const first = apnName.toLowerCase().split('.')[0];
  if (first === 'ipv6') return 'ipv6';
  if (first === 'ipv6-true') return 'ipv6-true';
  if (first === 'ipv4v6' || first === 'internet') return 'ipv4v6';
  if (first === 'ipv4') return 'ipv4';
  return null;
}

export interface HandsetRecord {
  index: number;
  serial: string;
  adbPort: number;
  namespace: string;
  /** The handset's directory: handset.json, fs/, bin/. */
  dir: string;
  profile: string;
}

export interface LabUpOptions {
  stateDir: string;
  handsets: number;
  apn: ApnType;
  world: string;
  apps: string;
  /** One profile for all handsets, or one per handset (the last repeats). */
  profiles: string[];
  /** Runs the supervisor module: [node] in production, [node, --import, tsx] from sources. */
  runner?: readonly string[];
  /**
   * Each handset makes a phone's background traffic (connectivity probe, NTP, push) from system uids.
   * @default true
   */
  backgroundTraffic?: boolean;
  /**
   * Key files of more adb hosts the handsets accept (`--adb-key`): adbkey.pub, an adb_keys file
   * or a PEM key. Added to the default: the adb server key of the environment that runs lab up
   * ($HOME/.android/adbkey, made if missing) and those of ADB_VENDOR_KEYS. @default []
   */
  adbKeys?: string[];
}

/**
 * What a profile's factory defaults do to the handset's network stack: IPv6 and privacy
 * addresses per network, and a CLAT unless the profile or its `net.464xlat.cellular.enabled`
 * property turns it off (Android reads that property before starting one).
 */
export function networkSettings(profile: HandsetProfile): HandsetNetworkSettings {
  return {
    mobileIpv6: profile.ipv6.mobile.enabled,
    mobilePrivacy: profile.ipv6.mobile.privacyAddresses,
    wifiIpv6: profile.ipv6.wifi.enabled,
    wifiPrivacy: profile.ipv6.wifi.privacyAddresses,
    clat: profile.ipv6.clat && profile.properties['net.464xlat.cellular.enabled'] !== 'false',
  };
}

export interface LabUpResult {
  labId: string;
  handsets: (HandsetRecord & { network: string })[];
  upMs: number;
}

const registryPath = (stateDir: string) => join(stateDir, 'handsets.json');
/** The handsets' own programs, copied where their shell user can read them (./android/install.ts). */
export const handsetCodePath = (stateDir: string) => join(stateDir, 'handset-code');
const supervisorPath = (stateDir: string) => join(stateDir, 'supervisor.json');
/** The adb hosts every handset accepts, in Android's adb_keys form; root's, read by the supervisor. */
export const adbKeysPath = (stateDir: string) => join(stateDir, 'adb_keys');

/** The keys of one `--adb-key` file; LabInputError naming it when it holds none or is no key file. */
export function readAdbKeyOption(file: string): AdbPublicKey[] {
  let keys: AdbPublicKey[];
  try {
    keys = readKeyFile(file);
  } catch (error) {
    throw new LabInputError(`--adb-key ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (keys.length === 0) throw new LabInputError(`--adb-key ${file}: no key in it (expected an adbkey.pub)`);
  return keys;
}

/**
 * The keys the handsets accept: the default ones (./adbd/keys.ts) and those of `files`; throws
 * LabInputError naming the file when one is not a key. Reads the files only.
 */
export function acceptedAdbKeys(files: readonly string[], env: NodeJS.ProcessEnv = process.env): AdbPublicKey[] {
  const keys = files.flatMap(readAdbKeyOption);
  try {
    return [...defaultAcceptedKeys(env), ...keys];
  } catch (error) {
    throw new LabInputError(
      `the adb server key of this user (${userAdbKeyPath(env)}, or ADB_VENDOR_KEYS): ${(error as Error).message}; fix or remove it (adb keygen makes one)`,
      { cause: error },
    );
  }
}

const registrySchema = array(object({ index: count, serial: text, adbPort: integer(1, 65535), namespace: text, dir: text, profile: text }));
const schemaReadsRegistry: Reads<typeof registrySchema, HandsetRecord[]> = true;

/** The supervisor as supervisor.json records it: known by PID and start time (./network/process.ts). */
interface SupervisorRecord {
  pid: number;
  startTime: string;
}
const supervisorSchema = object({ pid: count, startTime: text });
const schemaReadsSupervisor: Reads<typeof supervisorSchema, SupervisorRecord> = true;
void [schemaReadsRegistry, schemaReadsSupervisor];

/** The lab's handsets (handsets.json); none when no lab is up. LabStateError when it is not what the lab writes. */
export function readRegistry(stateDir: string): HandsetRecord[] {
  return readStateFile(registryPath(stateDir), registrySchema) ?? [];
}

/** The supervisor's record, or null when there is none. LabStateError when it is not what the lab writes. */
function readSupervisor(stateDir: string): SupervisorRecord | null {
  return readStateFile(supervisorPath(stateDir), supervisorSchema);
}

/**
 * Copies `source` into the handsets' system files (the code directory every container shows
 * read-only at /system/v6lab, root's on the host) as `name`; returns where a handset sees it.
 */
function installSystemFile(stateDir: string, name: string, source: string): string {
  const target = join(handsetCodePath(stateDir), name);
  mkdirSync(dirname(target), { recursive: true });
  chmodSync(dirname(target), 0o755);
  writeFileWhole(target, readFileSync(source), { mode: 0o644 });
  return join(CODE_INSIDE, name);
}

/** The host's system CA bundle (Debian's ca-certificates), which a handset's /etc shows it. */
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** The handsets' CA bundle beside their other system files; each container binds it over HOST_CA_BUNDLE (../container.ts). */
const HANDSET_CA_BUNDLE = 'cacerts/ca-certificates.crt';

/**
 * The handsets' system CA store: the host's bundle with the lab CA added, as a phone's store holds
 * the CAs that sign its internet's servers. A real program an app runs (issue 20) that trusts the
 * system store (curl, wget, Python, OpenSSL) then verifies the world's hosts; one that brings its
 * own roots (Node, Chromium) does not, as on a phone. A host with no bundle gets none.
 */
function installCaBundle(stateDir: string, labCa: string): void {
  let system: string;
  try {
    system = readFileSync(HOST_CA_BUNDLE, 'utf8');
  } catch {
    return;
  }
  const target = join(handsetCodePath(stateDir), HANDSET_CA_BUNDLE);
  mkdirSync(dirname(target), { recursive: true });
  writeFileWhole(target, `${system.trimEnd()}\n${readFileSync(labCa, 'utf8')}`, { mode: 0o644 });
}

/**
 * Where the host finds a system file a handset names (an app's JSON, the lab CA): only under
 * /system/v6lab, whatever its handset.json (which the handset can write) says; null otherwise.
 */
export function systemFileOnHost(stateDir: string, insidePath: string): string | null {
  const prefix = `${CODE_INSIDE}/`;
  if (!insidePath.startsWith(prefix) || insidePath.split('/').includes('..')) return null;
  return join(handsetCodePath(stateDir), insidePath.slice(prefix.length));
}

/**
 * Copies what the handsets run into the state directory (./android/install.ts) and writes the
 * PATH wrappers every container shows at /system/bin.
 */
function installHandsetPrograms(stateDir: string): void {
  const codeDir = handsetCodePath(stateDir);
  const programs = [COMMAND_PROGRAM, INIT_PROGRAM, SYNC_AGENT_PROGRAM].map(compiledProgram);
  const [command] = installHandsetCode(codeDir, programs).map((installed) => join(CODE_INSIDE, relative(codeDir, installed)));
  installToolbox(join(codeDir, 'bin'), [process.execPath], command);
}

/** Where a handset's init and sync service are, inside it. */
export function handsetProgramsInside(): { init: string; syncAgent: string } {
  const inside = (program: string): string => {
    const built = compiledProgram(program);
    return join(CODE_INSIDE, relative(libraryRoot(built), built));
  };
  return { init: inside(INIT_PROGRAM), syncAgent: inside(SYNC_AGENT_PROGRAM) };
}

const writeJson = (file: string, value: unknown): void => writeJsonWhole(file, value);

/**
 * Makes `dir` and any missing parent, each mode 0755 whatever the umask (a root shell with umask
 * 077 would make them 0700, and the handsets' shell user could not pass).
 */
function makeReachableDir(dir: string): void {
  const first = mkdirSync(dir, { recursive: true });
  if (first === undefined) return;
  for (let made = resolvePath(dir); ; made = dirname(made)) {
    chmodSync(made, 0o755);
    if (made === resolvePath(first)) return;
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Tells a running adb server about a handset, as the Android emulator does when it boots
 * (`host:emulator:PORT`): a server started before the lab scans the emulator ports only at its
 * own start. Best effort: with no server running there is no one to tell, and the next server
 * finds the handsets by its scan.
 */
export function announceToAdbServer(adbPort: number, serverPort = Number(process.env.ANDROID_ADB_SERVER_PORT ?? 5037)): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ port: serverPort, host: '127.0.0.1' });
    const request = `host:emulator:${adbPort}`;
    socket.once('connect', () => {
      socket.end(`${request.length.toString(16).padStart(4, '0')}${request}`);
    });
    socket.setTimeout(2000, () => socket.destroy());
    socket.once('close', () => resolve());
    socket.once('error', () => resolve());
  });
}

export class LabInputError extends Error {
  override name = 'LabInputError';
}

/** Loads and checks everything `lab up` reads before touching the machine. */
export function loadLabInputs(options: Pick<LabUpOptions, 'world' | 'apps' | 'profiles' | 'handsets'>): {
  world: World;
  apps: EmulatedApp[];
  profiles: HandsetProfile[];
} {
  if (!Number.isInteger(options.handsets) || options.handsets < 1 || options.handsets > MAX_HANDSETS) {
    throw new LabInputError(`--handsets: expected 1 to ${MAX_HANDSETS}, got ${String(options.handsets)}`);
  }
  const world = loadWorld(options.world);
  const apps = loadApps(options.apps, world);
  const taken = apps.find((app) => app.package === BROWSER_PACKAGE);
  if (taken !== undefined)
    throw new DataFileError(taken.file, 'package', `"${BROWSER_PACKAGE}" is the handsets' built-in browser: choose another package name`);
  for (const app of apps) {
    for (const [page, { requests }] of Object.entries(app.pages)) {
      requests.forEach((step, i) => {
        if (!isRun(step)) return;
        const found = findAppProgram(step.run[0]!);
        if ('problem' in found) throw new DataFileError(app.file, `pages.${page}.requests[${i}].run[0]`, `program "${step.run[0]}": ${found.problem}`);
      });
    }
  }
  const files = options.profiles.length === 0 ? [DEFAULT_PROFILE] : options.profiles;
  const profiles = Array.from({ length: options.handsets }, (_, i) => loadProfile(files[Math.min(i, files.length - 1)]!));
  return { world, apps, profiles };
}

export async function bringLabUp(options: LabUpOptions): Promise<LabUpResult> {
  const started = Date.now();
  const { world, apps, profiles } = loadLabInputs(options);
  makeReachableDir(options.stateDir);
  if ((await readState(options.stateDir)) !== null || readRegistry(options.stateDir).length > 0) {
    throw new LabInputError(`a lab is already up in ${options.stateDir}: run \`v6lab lab down\` first`);
  }
  for (let i = 0; i < options.handsets; i++) {
    if (await listening(FIRST_ADB_PORT + 2 * i)) {
      throw new LabInputError(`port ${FIRST_ADB_PORT + 2 * i} (emulator-${FIRST_ADB_PORT - 1 + 2 * i}) is taken: an emulator or another lab is running`);
    }
  }
  // Before any handset listens: the user's adb server key is made now if missing, so the server
  // that starts later signs with a key the handsets accept. lab up's own key for its self-test
  // lives in this process only; its public half is accepted, its private half goes with us.
  const accepted = acceptedAdbKeys(options.adbKeys ?? []);
  const selfTest = generateAdbKeyPair();
  const selfTestKey = decodeAndroidPublicKey(encodeAndroidPublicKey(selfTest.publicKey), 'lab up', 'v6lab lab up self-test');
  const labId = Math.random()
    .toString(36)
    .slice(2, 6)
    .replace(/[^a-z0-9]/g, 'x');
  const plan = {
    labId,
    stateDir: options.stateDir,
    world,
    handsets: profiles.map((profile, index) => ({
      index,
      apn: options.apn,
      pdpType: requestedPdp(profile),
      settings: networkSettings(profile),
      // Wi-Fi is on out of the box (wifi_on 1); it joins only a saved network.
      wifiJoined: (profile.wifiNetwork ?? null) !== null,
      ims: profile.ims === true,
    })),
    backgroundTraffic: options.backgroundTraffic ?? true,
  };
  let state: LabState;
  try {
    state = await labUp(plan);
  } catch (error) {
    await labDown(options.stateDir, { labId }).catch(() => undefined);
    throw error;
  }
  // Each app its own uid from 10100, as Android gives them from 10000; the built-in browser has 10099.
  const installed: InstalledApp[] = apps.map((app, i) => ({ package: app.package, label: app.label, uid: 10100 + i }));
  // What the handsets run is copied into the state directory (built JavaScript), and each
  // container shows it at /system/v6lab: the checkout is not in the handsets.
  try {
    installHandsetPrograms(options.stateDir);
  } catch (error) {
    await bringLabDown(options.stateDir).catch(() => undefined);
    throw new LabStepError('handsets: installing their commands', { cause: error });
  }
  // What an app's process reads at launch (./android/app.ts): its JSON and the lab CA it trusts,
  // installed as a phone's system apps and CA certificates are, and named as a handset sees them.
  const appFiles = Object.fromEntries(apps.map((app) => [app.package, installSystemFile(options.stateDir, `apps/${app.package}.json`, app.file)]));
  const caCertFile = state.world.caCertFile === '' ? '' : installSystemFile(options.stateDir, 'cacerts/v6lab-ca.pem', state.world.caCertFile);
  if (state.world.caCertFile !== '') installCaBundle(options.stateDir, state.world.caCertFile);
  // Root's alone: the handsets reach their own directories through their containers, and no
  // local user walks into one (to an app's control socket, say).
  mkdirSync(join(options.stateDir, 'handsets'), { recursive: true });
  chmodSync(join(options.stateDir, 'handsets'), 0o700);
  const registry: HandsetRecord[] = profiles.map((profile, index) => {
    const dir = join(options.stateDir, 'handsets', `hs${index}`);
    // The handset's directory is its shell user's (it writes handset.json, as `settings put`
    // does on a phone); its tree is owned by the handset's own uids, none of them a host user's.
    const asHost = (uid: number): number => hostUid(index, uid);
    mkdirSync(dir, { mode: 0o755 });
    prepareHandsetTree(dir, asHost);
    const serial = `emulator-${FIRST_ADB_PORT - 1 + 2 * index}`;
    const handset = initialHandsetState(serial, profile, installed);
    const attached = state.handsets.find((h) => h.index === index)!;
    handset.network = {
      apn: LAB_APNS[options.apn],
      pdp: attached.pdpType,
      families: attached.families,
      nat64Prefix: attached.clat?.nat64Prefix ?? null,
      clat: attached.clat ? { v6Address: attached.clat.ipv6, interface: attached.clat.interface, pid: 0 } : null,
      dns: attached.dnsServers,
    };
    // And the IPv4 literals an ipv4-literal app has compiled in.
    handset.appFiles = appFiles;
    handset.worldLiterals = Object.fromEntries(state.world.hosts.flatMap((h) => (h.ipv4 === null ? [] : [[h.name, h.ipv4]])));
    handset.caCertFile = caCertFile;
    writeHandsetState(dir, handset);
    chownSync(dir, asHost(SHELL_UID), asHost(SHELL_UID));
    chownSync(join(dir, 'handset.json'), asHost(SHELL_UID), asHost(SHELL_UID));
    return { index, serial, adbPort: FIRST_ADB_PORT + 2 * index, namespace: handsetNamespace(labId, index), dir, profile: profile.name };
  });
  writeJson(registryPath(options.stateDir), registry);
  try {
    writeAcceptedKeys(adbKeysPath(options.stateDir), [...accepted, selfTestKey]);
    await startSupervisor(options.stateDir, options.runner ?? [process.execPath]);
    await Promise.all(registry.map((h, i) => proveHandsetCommands(h, profiles[i]!, selfTest.privateKey)));
  } catch (error) {
    // Nothing half-up is left behind: the namespaces and daemons go too.
    await bringLabDown(options.stateDir).catch(() => undefined);
    throw error;
  }
  await Promise.all(registry.map((h) => announceToAdbServer(h.adbPort)));
  return {
    labId,
    upMs: Date.now() - started,
    handsets: registry.map((h) => ({ ...h, network: networkLabel(state, h.index) })),
  };
}

/** What `lab up` runs on each handset before it says the lab is up: one of each kind the harness uses. */
export const HANDSET_SELF_TEST: readonly string[] = ['getprop ro.product.model', 'settings get global private_dns_mode', 'dumpsys connectivity'];

/**
 * Runs HANDSET_SELF_TEST on a handset through its adb daemon, as `adb shell` would (same user, same
 * PATH, same namespace): each must exit 0 and print something. Throws LabStepError naming the
 * handset, the command, the user it ran as and what it printed on stderr, in one line.
 */
async function proveHandsetCommands(handset: HandsetRecord, profile: HandsetProfile, privateKey: KeyObject): Promise<void> {
  // adbd of an eng build runs every shell as root (./handset.ts); any other as the shell user.
  const uid = profile.buildType === 'eng' ? 0 : SHELL_UID;
  for (const command of HANDSET_SELF_TEST) {
    const name = command.split(' ')[0]!;
    let problem: string | null = null;
    try {
      const result = await adbShell(handset.adbPort, command, { privateKey });
      const stderr = result.stderr
        .trim()
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .join(' / ')
        .slice(0, 400);
      if (result.exitCode !== 0) problem = `exit ${result.exitCode ?? 'code missing'}${stderr === '' ? ', nothing on stderr' : `: ${stderr}`}`;
      else if (result.stdout.trim() === '') problem = `exit 0 but printed nothing${stderr === '' ? '' : ` (stderr: ${stderr})`}`;
    } catch (error) {
      problem = (error as Error).message;
    }
    if (problem !== null) {
      throw new LabStepError(`handset ${handset.serial}`, { cause: new Error(`\`${name}\` as uid ${uid} failed: ${problem}`) });
    }
  }
}

function networkLabel(state: LabState, index: number): string {
  const h = state.handsets.find((x) => x.index === index);
  if (!h) return 'unknown';
  if (!h.attached) return `${h.apn} (attach refused: ${h.attachError ?? 'no common IP version'})`;
  return `${h.apn}${h.clat ? '+clat' : ''}`;
}

async function startSupervisor(stateDir: string, runner: readonly string[]): Promise<void> {
  const script = fileURLToPath(new URL('./supervisor.js', import.meta.url));
  const log = openSync(join(stateDir, 'supervisor.log'), 'a', 0o644);
  let child: ChildProcess;
  try {
    const [file, ...args] = runner;
    child = spawn(file!, [...args, script, stateDir], { detached: true, stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
  child.unref();
  const pid = child.pid;
  const startTime = pid === undefined ? null : await processStartTime(pid);
  if (pid === undefined || startTime === null) throw new Error(`the lab supervisor did not start: see ${join(stateDir, 'supervisor.log')}`);
  writeJson(supervisorPath(stateDir), { pid, startTime } satisfies SupervisorRecord);
  const ports = readRegistry(stateDir).map((h) => h.adbPort);
  const deadline = Date.now() + SUPERVISOR_READY_TIMEOUT_MS;
  for (;;) {
    const up = await Promise.all(ports.map(listening));
    if (up.every(Boolean)) return;
    if (!(await isRunning({ pid, startTime })) || Date.now() > deadline) {
      // Its last word, one line (a handset that did not boot says which and why).
      const said =
        readFileSync(join(stateDir, 'supervisor.log'), 'utf8')
          .trim()
          .split('\n')
          .pop()
          ?.replace(/^supervisor: /, '') ?? '';
      const state = (await isRunning({ pid, startTime })) ? `is not serving adb after ${SUPERVISOR_READY_TIMEOUT_MS} ms` : 'stopped';
      throw new LabStepError('the handsets', { cause: new Error(`the lab supervisor ${state}${said === '' ? '' : `: ${said.slice(0, 600)}`}`) });
    }
    await sleep(50);
  }
}

/**
 * The supervisor of `stateDir` found among the running processes: its command line ends with
 * `supervisor.js STATE_DIR` (as startSupervisor runs it). For lab down when supervisor.json is damaged.
 */
async function supervisorByCommandLine(stateDir: string): Promise<SupervisorRecord | null> {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.at(-1) !== stateDir || !/supervisor\.[jt]s$/.test(argv.at(-2) ?? '')) continue;
      const startTime = await processStartTime(Number(entry));
      if (startTime !== null) return { pid: Number(entry), startTime };
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** Removes everything the lab made; safe with nothing up, twice, or after a crash. */
export async function bringLabDown(stateDir: string): Promise<string[]> {
  const removed: string[] = [];
  // A damaged record does not stop lab down: the supervisor is then found by its command line.
  let supervisor: SupervisorRecord | null;
  try {
    supervisor = readSupervisor(stateDir);
  } catch {
    supervisor = await supervisorByCommandLine(stateDir);
  }
  if (supervisor !== null) {
    const stopped = await stopProcesses([{ ...supervisor, name: 'supervisor' }], 1000);
    if (stopped.length > 0) removed.push(`process supervisor (pid ${supervisor.pid})`);
  }
  // The handsets' containers die with the supervisor (--pdeathsig); whatever of them is left
  // is in their network namespaces, and labDown stops every process there.
  removed.push(...(await labDown(stateDir)).removed);
  for (const entry of ['handsets', 'handsets.json', 'supervisor.json', 'supervisor.log', 'handset-code', 'adb_keys']) {
    try {
      rmSync(join(stateDir, entry), { recursive: true });
      removed.push(join(stateDir, entry));
    } catch {
      // already gone
    }
  }
  return removed;
}

export interface LabOverview {
  network: LabStatus;
  supervisor: { running: boolean; pid: number | null };
  handsets: (HandsetRecord & { adbListening: boolean })[];
  healthy: boolean;
}

export async function labOverview(stateDir: string): Promise<LabOverview> {
  const network = await labStatus(stateDir);
  const record = readSupervisor(stateDir);
  const supervisor: LabOverview['supervisor'] = record === null ? { running: false, pid: null } : { running: await isRunning(record), pid: record.pid };
  const handsets = await Promise.all(readRegistry(stateDir).map(async (h) => ({ ...h, adbListening: await listening(h.adbPort) })));
  return { network, supervisor, handsets, healthy: network.healthy && supervisor.running && handsets.every((h) => h.adbListening) };
}
