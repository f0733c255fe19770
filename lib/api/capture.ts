/**
 * A capture of one device around the caller's own steps (`openAppCapture`), judged by certify's
 * rules: the capture planning and windows of lib/harness (the method the device allows, the
 * baseline before the window, the socket poller for uid attribution), the app's uid from `dumpsys
 * package`, the servers the device used on its own learnt across windows, and the verdict of
 * lib/checks under the caller's policy. Evidence (the pcap and its analysis with the judgement)
 * goes under `evidenceDir`, each file created new, never over another.
 *
 * Unlike certify, the app is not stopped before its window: the caller's steps own its life
 * (a login kept, a screen already open). An app already running makes no new connections until
 * asked: steps that start it cold are the ones that show its first attempts.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import createDebug from 'debug';
import type { AnalyzeOptions } from '../analysis/index.js';
import type { DeviceBackend } from '../device/adb.js';
import { probeDevice, type DeviceFacts } from '../device/facts.js';
import { dumpsysPackageNotFound, parseDumpsysPackage } from '../device/parse/index.js';
import { CAPTURE_METHODS, gatewayCaptureArgv } from '../device/profile.js';
import { readAppLog } from '../harness/app-log.js';
import { CapturePlanner, type PlannedCapture } from '../harness/captures.js';
import { learnBackground } from '../harness/judge.js';
import type { CaptureWindow } from '../harness/window.js';
import { CaptureStateError, PackageNotInstalledError } from './errors.js';
import { judgeAnalysis, resolvePolicy } from './judge.js';
import { connectDevice, observeBackend } from './observe.js';
import type { AppCapture, AppJudgement, CaptureOptions, DeviceCaptureOptions, JudgePolicy, NetworkFacts } from './types.js';

const log = createDebug('v6lab:api');

export { CaptureStateError, PackageNotInstalledError };

/** Where evidence goes when the caller names no directory: under the working directory, never inside the package. */
export const DEFAULT_EVIDENCE_DIR = 'v6lab-evidence';

/** The capture methods and commands of `options`, as the planner reads a profile's. */
export function plannedCapture(serial: string, options: CaptureOptions): PlannedCapture {
  const methods = options.methods ?? [...CAPTURE_METHODS];
  if (methods.length === 0) throw new TypeError('capture methods: give at least one of device, gateway, emulator, pcapdroid');
  for (const m of methods)
    if (!CAPTURE_METHODS.includes(m)) throw new TypeError(`capture methods: ${JSON.stringify(m)} is not one of ${CAPTURE_METHODS.join(', ')}`);
  const gateway = options.gatewayCapture;
  return {
    serial,
    capture: [...new Set(methods)],
    // A v6lab gateway on this host, as a profile's { "gateway": DIR } (relative to the working directory here).
    gatewayCapture: gateway === undefined ? null : Array.isArray(gateway) ? [...gateway] : gatewayCaptureArgv(resolve(gateway.gateway)),
    emulatorCapture: options.emulatorCapture === undefined ? null : resolve(options.emulatorCapture),
    // The API judges whatever network the device is on: the planner's per-network options are not used.
    networks: { ipv6: null, ipv4v6: null },
  };
}

/**
 * An installed app's uid from `dumpsys package`, as certify reads it (null when this version
 * prints none: its flows are then attributed by window).
 * @throws PackageNotInstalledError naming the package when the device has no such package
 */
export async function packageUid(backend: DeviceBackend, pkg: string): Promise<number | null> {
  // An argv element, never a shell string: a package name is data.
  const dump = await backend.run(['dumpsys', 'package', pkg]);
  const info = dump.exitCode === 0 && !dumpsysPackageNotFound(dump.output, pkg) ? parseDumpsysPackage(dump.output, pkg) : null;
  if (info === null) throw new PackageNotInstalledError(backend.serial, pkg);
  return info.userId;
}

/** A window open for an app: what stopCapture judges it with. */
interface OpenWindow {
  window: CaptureWindow;
  start: number;
  stem: string;
  pkg: string | null;
  uid: number | null;
  policy: Required<JudgePolicy>;
  network: NetworkFacts;
  /** The window's start on the device's clock, where the app's log is read from. */
  logSince: number;
}

/** An evidence stem (`PKG-20261203T071502123Z`) with no pcap or analysis of that name yet in `dir`. */
function freshStem(dir: string, what: string): string {
  const base = `${what.replace(/[^A-Za-z0-9._-]/g, '_')}-${new Date().toISOString().replace(/[-:.]/g, '')}`;
  for (let n = 1; ; n++) {
    const stem = n === 1 ? base : `${base}-${n}`;
    if (!existsSync(resolve(dir, `${stem}.pcap`)) && !existsSync(resolve(dir, `${stem}.analysis.json`))) return stem;
  }
}

class DeviceAppCapture implements AppCapture {
  private current: OpenWindow | null = null;
  /** Server endpoints the device used on its own (never an app's), learnt across windows as certify does. */
  private readonly background = new Set<string>();
  /** Each package's uid, asked once. */
  private readonly uids = new Map<string, number | null>();
  private closed = false;

  constructor(
    private readonly backend: DeviceBackend,
    private readonly planner: CapturePlanner,
    private readonly evidenceDir: string,
    private readonly policy: Required<JudgePolicy>,
  ) {}

  get serial(): string {
    return this.backend.serial;
  }

  /** The app's uid, asked once. */
  private async packageUid(pkg: string): Promise<number | null> {
    if (this.uids.has(pkg)) return this.uids.get(pkg)!;
    const uid = await packageUid(this.backend, pkg);
    this.uids.set(pkg, uid);
    return uid;
  }

  async startCapture(pkg?: string, name?: string, policy?: JudgePolicy): Promise<void> {
    if (this.closed) throw new CaptureStateError(this.serial, 'the capture was closed: open another with openAppCapture');
    if (this.current !== null) throw new CaptureStateError(this.serial, `a capture window (${this.current.stem}) is already open: stop it first`);
    const resolved = policy === undefined ? this.policy : resolvePolicy({ ...this.policy, ...policy });
    const uid = pkg === undefined ? null : await this.packageUid(pkg);
    // The NAT64 prefix and CLAT address the device reports now, so either leg of a CLAT flow is read right.
    const network = await observeBackend(this.backend);
    const analyze: AnalyzeOptions = {
      nat64Prefixes: network.defaultNetwork?.nat64Prefix ? [network.defaultNetwork.nat64Prefix] : [],
      clatAddresses: network.defaultNetwork?.clat?.v6Address ? [network.defaultNetwork.clat.v6Address] : [],
    };
    const stem = freshStem(this.evidenceDir, name ?? pkg ?? 'capture');
    const logSince = this.planner.deviceNow();
    log('%s window %s for %s (uid %s)', this.serial, stem, pkg ?? 'no package', uid);
    const { window, start } = await this.planner.beginWindow(stem, null, { analyze });
    this.current = { window, start, stem, pkg: pkg ?? null, uid, policy: resolved, network, logSince };
  }

  async stopCapture(): Promise<AppJudgement> {
    const open = this.current;
    if (open === null) throw new CaptureStateError(this.serial, 'no capture window is open: call startCapture first');
    this.current = null;
    const { capture, start, end } = await this.planner.endWindow(open.window, open.start);
    const pcap = resolve(capture.file);
    const analysisFile = resolve(this.planner.evidencePath(`${open.stem}.analysis.json`, null));
    const {
      judgement: judged,
      attribution,
      verdict,
    } = judgeAnalysis(capture.analysis, {
      package: open.pkg,
      ...(open.uid === null ? {} : { appUid: open.uid }),
      sockets: capture.sockets,
      window: { start, end },
      baseline: this.background,
      policy: open.policy,
      evidence: { pcap, analysis: analysisFile, captureMethod: capture.method },
    });
    // Nothing either way: what the app said of itself over the window is shown with it.
    const appLog =
      judged.verdict === 'inconclusive' && open.uid !== null
        ? await readAppLog(this.backend, open.uid, open.logSince, null, (text) =>
            resolve(this.evidenceDir, this.planner.saveText(`${open.stem}.logcat.txt`, null, text)),
          )
        : null;
    const judgement: AppJudgement = appLog === null ? judged : { ...judged, appLog };
    learnBackground(this.background, capture.analysis, capture.sockets, attribution.flows, start);
    this.planner.saveEvidence(
      open.stem,
      capture,
      {
        app: { package: open.pkg, uid: open.uid, window: { start, end } },
        observedOn: open.network,
        attribution: { method: attribution.summary, flows: [...attribution.flows], byFlow: Object.fromEntries(attribution.method) },
        verdict,
        judgement,
      },
      null,
    );
    return judgement;
  }

  async judgeApp(pkg: string, steps: () => Promise<void>, options: { name?: string; policy?: JudgePolicy } = {}): Promise<AppJudgement> {
    await this.startCapture(pkg, options.name, options.policy);
    try {
      await steps();
    } catch (error) {
      // Steps that failed judge nothing: the window and its pcap go, the steps' error stands.
      await this.discardOpen();
      throw error;
    }
    return this.stopCapture();
  }

  observeNetwork(): Promise<NetworkFacts> {
    return observeBackend(this.backend);
  }

  private async discardOpen(): Promise<void> {
    const open = this.current;
    this.current = null;
    await open?.window.discard();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.discardOpen();
  }
}

/**
 * Opens a capture of one device: reaches it over adb, learns what it allows (root, tcpdump,
 * PCAPdroid), picks the first capture method of `methods` it allows, and measures its clock.
 * @throws DeviceUnavailableError naming the serial when adb does not list it; PolicyError for a
 *   policy out of range; DeviceStateError when none of the methods works on this device
 */
export async function openAppCapture(options: DeviceCaptureOptions): Promise<AppCapture> {
  const policy = resolvePolicy(options.policy);
  const planned = plannedCapture(options.serial, options);
  const evidenceDir = resolve(options.evidenceDir ?? DEFAULT_EVIDENCE_DIR);
  const backend = await connectDevice(options.serial, options.adb);
  const facts: DeviceFacts = await probeDevice(backend);
  mkdirSync(evidenceDir, { recursive: true });
  const planner = new CapturePlanner(backend, planned, facts, evidenceDir, evidenceDir, { flat: true, exclusive: true });
  // The method is chosen now: a device that allows none fails at open, not at its first window.
  planner.method();
  await planner.measureClock();
  return new DeviceAppCapture(backend, planner, evidenceDir, policy);
}
