/**
 * One device's certification, as a WebdriverIO worker runs it: the device reached over adb,
 * its facts probed, its state taken before the first change and restored after the last, and
 * every check of the os, apn and apps suites turned into a result (CONTRACTS.md section 4)
 * written to the run's results.json the moment it is known. The UI (launching apps, walking
 * their flows, opening a URL) comes from the spec through `DeviceUi`, which is Appium; nothing
 * here asks what kind of device it is.
 */
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { AnalyzeOptions, CaptureAnalysis, Flow } from '../analysis/index.js';
import { removePartialFile, writeFileWhole, writeJsonWhole } from '../config/files.js';
import { appVerdict, type AppVerdict } from '../checks/app-verdict.js';
import { attributeFlows, destinationKey, type Attribution } from '../checks/attribution.js';
import {
  checkApnProtocol, checkClat, checkDualStackAttach, checkIpv4ViaClat, checkIpv6Enabled, checkIpv6OnlyAttach, checkNat64Prefix,
  checkPrivacyAddresses, checkResolverPrefersIpv6, observeDevice, radioInterfaces, type CheckOutcome, type Observation,
} from '../checks/os.js';
import { checkDefinition, type CheckId } from '../checks/requirements.js';
import { AdbkitBackend, adbClient, type PresenceWatch } from '../device/adb.js';
import { DeviceError, DeviceUnavailableError } from '../device/errors.js';
import { probeDevice, type DeviceFacts } from '../device/facts.js';
import { parseDumpsysConnectivity, parseDumpsysPackage } from '../device/parse/index.js';
import { embeddedIpv4Text, parseNat64Prefix } from '../net/address.js';
import { appendResult, readResults, type CheckResult } from '../report/results.js';
import type { CatalogueApp, FlowStep } from './catalogue.js';
import { DeviceState, DeviceStateError, mobileNetwork } from './device-state.js';
import { deviceDir, readPlan, type CertifyPlan, type DevicePlan, type NetworkName } from './plan.js';
import { CaptureError, CaptureWindow, type WindowCapture, type WindowCaptureMethod } from './window.js';

/** What the spec drives through Appium. */
export interface DeviceUi {
  isAppInstalled(pkg: string): Promise<boolean>;
  activateApp(pkg: string): Promise<void>;
  /** Stops the app; false when it was not running (Appium's terminateApp: UiAutomator2 checks its processes first). */
  terminateApp(pkg: string): Promise<boolean>;
  step(step: FlowStep): Promise<void>;
  openUrl(url: string): Promise<void>;
}

/**
 * Flows that begin this soon before launch are the baseline: what the device does on its own.
 * Flows that began before launch are never the app's whatever this is; it only adds their servers
 * to those a window-only attribution skips. The next app's capture opens while the last one is
 * judged, so the baseline is usually longer than this.
 */
export const BASELINE_MS = 150;
/** How long a URL probe waits for the connection to be made and finished. */
export const PROBE_DWELL_MS = 3000;
/** Once a probe's connection is seen made, how long the capture goes on (a Happy Eyeballs fallback starts within 300 ms). */
const PROBE_SETTLE_MS = 750;
const PROBE_POLL_MS = 200;
/** How long a device that dropped off adb (a cable, a reboot) is waited for before its checks break. */
export const DEVICE_RETURN_MS = 45_000;
/** How long a broken check waits for the adb server's tracker to report what went away. */
const TRACKER_GRACE_MS = 250;
/**
 * Faults after which running the check again is safe: the transport went, not the device's state
 * or the app (a crash is the app's; a full disk or a dead Appium would only break again).
 */
const RETRIED_FAULTS: ReadonlySet<string> = new Set(['DEVICE_DISCONNECTED', 'ADB_SERVER_DOWN']);
/** Retries a device gets per run: a cable that keeps dropping breaks checks instead of doubling the run. */
export const RETRY_BUDGET = 4;

type ResultBody = Omit<CheckResult, 'device' | 'check' | 'app' | 'network' | 'requirement'>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A result from a pass/fail decision. */
function fromOutcome(outcome: CheckOutcome): ResultBody {
  return { status: outcome.status, verdict: null, reasons: outcome.reasons, metrics: {}, evidence: [] };
}

/** The app was no longer running at the end of its window: it crashed or quit by itself. */
export class AppStoppedError extends Error {
  constructor(readonly pkg: string) {
    super(`${pkg} was not running at the end of its window: it crashed or quit during its flow or dwell; its traffic is not judged (see the device's logcat)`);
    this.name = 'AppStoppedError';
  }
}

/** The fault a check broke on, named for the report: the device went away, the capture failed, Appium failed. */
export function faultCode(error: unknown, adbPort?: number): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof DeviceUnavailableError || /device offline|device '[^']*' not found|device not found|no such device|connection dropped|ended after \d+ bytes without its end marker/i.test(message)) return 'DEVICE_DISCONNECTED';
  if ((adbPort !== undefined && new RegExp(`ECONNREFUSED [^ ]*:${adbPort}\\b`).test(message)) || /the adb server/i.test(message)) return 'ADB_SERVER_DOWN';
  if (/\b(ENOSPC|EDQUOT)\b/.test(message)) return 'STORAGE_FULL';
  if (error instanceof CaptureError) return 'CAPTURE_FAILED';
  if (error instanceof AppStoppedError) return 'APP_CRASHED';
  if (error instanceof DeviceStateError) return 'DEVICE_STATE';
  if (error instanceof DeviceError) return error.name;
  if (error instanceof Error && /WebDriverError|when running "/.test(`${error.name} ${message}`)) return 'APPIUM_ERROR';
  return 'HARNESS_ERROR';
}

const brokenBy = (error: unknown, adbPort: number): ResultBody => ({
  status: 'broken', verdict: null,
  reasons: [{ code: faultCode(error, adbPort), detail: (error as Error)?.message ?? String(error) }],
  metrics: {}, evidence: [],
});

const skipped = (code: string, detail: string): ResultBody => ({ status: 'skipped', verdict: null, reasons: [{ code, detail }], metrics: {}, evidence: [] });

/**
 * A URL probe's wait: until the capture shows the connection it is about made (then
 * PROBE_SETTLE_MS more, for a fallback or a second attempt), or PROBE_DWELL_MS at most: a
 * probe that gets nowhere is judged on the whole wait.
 */
async function probeDwell(window: CaptureWindow, made: (analysis: CaptureAnalysis) => boolean): Promise<void> {
  const deadline = Date.now() + PROBE_DWELL_MS;
  while (Date.now() < deadline) {
    if (made(window.peek())) {
      await sleep(Math.min(PROBE_SETTLE_MS, deadline - Date.now()));
      return;
    }
    await sleep(Math.min(PROBE_POLL_MS, deadline - Date.now()));
  }
}

/** The flows that carried a connection to `ipv4` (its IPv4 leg, or its IPv6 leg through a NAT64 prefix). */
function flowsTo(analysis: CaptureAnalysis, ipv4: string): Flow[] {
  const prefixes = analysis.nat64Prefixes.map((p) => parseNat64Prefix(p));
  return analysis.flows.filter((f) => (f.family === 4 ? f.server : embeddedIpv4Text(f.server, prefixes)) === ipv4);
}

export class Certification {
  private static current: Certification | null = null;
  /** Which networks the device attached to in this run, and the agent it reported (null: refused). */
  private readonly attached = new Map<NetworkName, { ok: boolean; detail: string }>();
  private network: NetworkName | null = null;
  private factory: Observation | null = null;
  private observed: Observation | null = null;
  /** Server endpoints the device used on its own (not the app under test): never an app's. */
  private readonly background = new Set<string>();
  private clockOffsetS = 0;

  private constructor(
    readonly plan: CertifyPlan,
    readonly device: DevicePlan,
    readonly backend: AdbkitBackend,
    readonly facts: DeviceFacts,
    readonly state: DeviceState,
    readonly dir: string,
  ) {}

  /** The worker's certification (one device per worker), opened on first use. */
  static async forWorker(planFile: string, serial: string): Promise<Certification> {
    if (Certification.current?.device.serial === serial) return Certification.current;
    const plan = readPlan(planFile);
    const device = plan.devices.find((d) => d.serial === serial);
    if (!device) throw new Error(`${planFile}: no device ${serial} in the plan`);
    const backend = new AdbkitBackend(adbClient(plan.adbPort), serial, plan.adbPort);
    await backend.ensureAvailable();
    const facts = await probeDevice(backend);
    const dir = deviceDir(plan.runDir, serial);
    mkdirSync(dir, { recursive: true });
    writeJsonWhole(join(dir, 'facts.json'), facts);
    const state = new DeviceState(backend, facts.root, dir);
    await state.takeFound();
    await state.privateDnsOff();
    const certification = new Certification(plan, device, backend, facts, state, dir);
    await certification.measureClock();
    Certification.current = certification;
    return certification;
  }

  /** Restores the worker's device as it was found; safe to call when nothing was opened. */
  static async closeWorker(): Promise<string[]> {
    const current = Certification.current;
    Certification.current = null;
    current?.presence?.close();
    await current?.dropSpare();
    return current === null ? [] : current.state.restore();
  }

  /** Set once the device stayed away past DEVICE_RETURN_MS: later checks do not wait for it again. */
  private lost = false;
  /** Whether the device or the adb server went away during the check in flight. */
  private presence: PresenceWatch | null = null;

  /**
   * Before each check: a device that dropped off adb (a cable pulled, a reboot) is waited for,
   * with a deadline; if it comes back, the run goes on where it was (its APN and settings are
   * files on the device, so they survive), else the check breaks naming the fault.
   */
  private async awaitDevice(): Promise<void> {
    const backend = this.backend;
    const deadline = Date.now() + (this.lost ? 0 : DEVICE_RETURN_MS);
    for (;;) {
      try {
        await backend.ensureAvailable();
        if (this.lost) {
          this.lost = false;
          this.network = null;
          this.analyzeCache = null;
        }
        return;
      } catch (error) {
        // The adb server itself gone (killed, restarting) is waited for like a device that dropped.
        const serverDown = !(error instanceof DeviceUnavailableError) && /ECONNREFUSED|ECONNRESET|socket hang up/i.test(String((error as Error)?.message ?? error));
        if (!(error instanceof DeviceUnavailableError) && !serverDown) throw error;
        if (Date.now() >= deadline) {
          this.lost = true;
          const state = serverDown ? `unreachable: the adb server on port ${this.plan.adbPort} did not answer for ${DEVICE_RETURN_MS / 1000} s` : (error as DeviceUnavailableError).state === 'absent' ? `absent (it dropped off adb and did not come back within ${DEVICE_RETURN_MS / 1000} s)` : (error as DeviceUnavailableError).state;
          throw new DeviceUnavailableError(this.device.serial, state);
        }
        await sleep(500);
      }
    }
  }

  /** Capture timestamps are the capturer's clock: the device's for an on-device capture. */
  private async measureClock(): Promise<void> {
    const before = Date.now();
    const r = await this.backend.run(['date', '+%s.%N']).catch(() => null);
    const after = Date.now();
    const deviceNow = Number(r?.output.trim());
    if (r?.exitCode === 0 && Number.isFinite(deviceNow) && deviceNow > 1e9) this.clockOffsetS = deviceNow - (before + after) / 2000;
  }

  private captureMethod(): WindowCaptureMethod {
    for (const method of this.device.capture) {
      if (method === 'device' && this.facts.tcpdump !== null && this.facts.root !== null) return 'device';
      if (method === 'gateway' && this.device.gatewayCapture !== null) return 'gateway';
      if (method === 'emulator' && this.device.emulatorCapture !== null) return 'emulator';
      if (method === 'pcapdroid' && this.facts.pcapdroid) return 'pcapdroid';
    }
    throw new DeviceStateError(this.device.serial, `none of the profile's capture methods (${this.device.capture.join(', ')}) works here: on-device capture needs root and tcpdump (root ${this.facts.root ?? 'none'}, tcpdump ${this.facts.tcpdump ?? 'none'}), gateway capture a gatewayCapture command, emulator capture an emulatorCapture file, pcapdroid PCAPdroid installed (${this.facts.pcapdroid ? 'it is' : 'it is not'})`);
  }

  private now(method: WindowCaptureMethod): number {
    // Captured on the device, stamped by its clock; at the gateway or by the emulator, by the host's.
    return Date.now() / 1000 + (method === 'device' || method === 'pcapdroid' ? this.clockOffsetS : 0);
  }

  /** Whether results.json already holds a finished result for this check (a resumed run skips it). */
  done(check: CheckId, app: string | null, network: NetworkName): boolean {
    return readResults(this.plan.runDir).results.some((r) => r.device === this.device.serial && r.check === check && r.app === app && r.network === network && r.status !== 'broken');
  }

  /** Retries left in this run (RETRY_BUDGET). */
  private retriesLeft = RETRY_BUDGET;

  /**
   * Runs one check; a thrown error is a `broken` result naming it. A check the device's or the
   * adb server's going away broke is run once more from its start when the device is back within
   * DEVICE_RETURN_MS (and the device's retry budget lasts); the broken attempt stays in the
   * result. The result is written at once.
   */
  async record(check: CheckId, app: string | null, network: NetworkName, work: () => Promise<ResultBody>): Promise<CheckResult> {
    const key = { device: this.device.serial, check, app, network, requirement: [...(checkDefinition(check)?.requirements ?? [])] };
    let body = await this.attempt(work);
    let brokenAttempts: CheckResult['brokenAttempts'];
    if (body.status === 'broken' && RETRIED_FAULTS.has(body.reasons[0]!.code) && this.retriesLeft > 0) {
      this.retriesLeft--;
      brokenAttempts = [{ reasons: body.reasons }];
      // Written before the retry: a run killed during it keeps the broken attempt, and --resume reruns it.
      await appendResult(this.plan.runDir, { ...key, ...body });
      body = await this.attempt(work);
    }
    const result: CheckResult = { ...key, ...body, ...(brokenAttempts ? { brokenAttempts } : {}) };
    await appendResult(this.plan.runDir, result);
    return result;
  }

  private async attempt(work: () => Promise<ResultBody>): Promise<ResultBody> {
    try {
      await this.awaitDevice();
      if (!this.presence?.alive) this.presence = await this.backend.watchPresence().catch(() => null);
      this.presence?.reset();
      return await work();
    } catch (error) {
      return this.brokenBy(error);
    }
  }

  /**
   * A broken check's reason. A stream cut short reads the same whether the cable, the device or
   * the adb server went: the server's device tracker says which, so the fault is named right.
   */
  private async brokenBy(error: unknown): Promise<ResultBody> {
    const body = brokenBy(error, this.plan.adbPort);
    // The tracker's news travels on its own connection: give it a moment to arrive.
    await sleep(TRACKER_GRACE_MS);
    const loss = this.presence?.lost ?? null;
    if (loss === null) return body;
    const code = loss.what === 'adb-server' ? 'ADB_SERVER_DOWN' : 'DEVICE_DISCONNECTED';
    return { ...body, reasons: [{ code, detail: `${loss.detail} during the check: ${body.reasons[0]!.detail}` }] };
  }

  private evidencePath(name: string, network: NetworkName | null = this.network): string {
    const dir = join(this.dir, network ?? 'found');
    mkdirSync(dir, { recursive: true });
    return join(dir, name.replace(/[^A-Za-z0-9._-]/g, '_'));
  }

  private relative(file: string): string {
    return relative(this.plan.runDir, file);
  }

  /** NAT64 prefix and CLAT address the device reports, so a capture of either leg is read right. */
  private async analyzeOptions(): Promise<{ nat64Prefixes: string[]; clatAddresses: string[] }> {
    const out = await this.backend.run(['dumpsys', 'connectivity']);
    if (out.exitCode !== 0) return { nat64Prefixes: [], clatAddresses: [] };
    const network = mobileNetwork(parseDumpsysConnectivity(out.output));
    const prefix = network?.linkProperties?.nat64Prefix ?? network?.clat?.pfx96 ?? null;
    return { nat64Prefixes: prefix === null ? [] : [prefix], clatAddresses: network?.clat?.v6 ? [network.clat.v6] : [] };
  }

  /** Whether each app is installed, and its uid: asked once a run (neither changes between networks). */
  private readonly packages = new Map<string, { installed: boolean; uid: number | null }>();
  /** The attached network's analyze options once final (on the IPv6-only APN: once a NAT64 prefix is known). */
  private analyzeCache: { network: NetworkName; options: AnalyzeOptions } | null = null;
  /**
   * The next app's capture, opened as the last app's window closed, so its start and baseline run
   * while that check finishes: only on the network it was opened on, and only while it runs whole.
   */
  private spare: { network: NetworkName; opened: Promise<{ window: CaptureWindow; at: number } | null> } | null = null;

  private async packageFacts(ui: DeviceUi, pkg: string): Promise<{ installed: boolean; uid: number | null }> {
    const known = this.packages.get(pkg);
    if (known) return known;
    const [installed, dump] = await Promise.all([ui.isAppInstalled(pkg), this.backend.run(['dumpsys', 'package', pkg])]);
    const facts = { installed, uid: installed && dump.exitCode === 0 ? parseDumpsysPackage(dump.output, pkg)?.userId ?? null : null };
    if (installed) this.packages.set(pkg, facts);
    return facts;
  }

  private async appAnalyzeOptions(network: NetworkName): Promise<AnalyzeOptions> {
    if (this.analyzeCache?.network === network) return this.analyzeCache.options;
    const options = await this.analyzeOptions();
    // Android discovers the prefix (RFC 7050) after the attach: until it is known, ask each time.
    if (network !== 'ipv6' || options.nat64Prefixes.length > 0) this.analyzeCache = { network, options };
    return options;
  }

  private openSpare(network: NetworkName, analyze: AnalyzeOptions): void {
    // PCAPdroid runs one capture at a time: the next starts when this one has stopped.
    if (this.captureMethod() === 'pcapdroid') return;
    const opened = this.openWindow('.next-window', network, analyze).then((window) => ({ window, at: Date.now() }), () => null);
    this.spare = { network, opened };
  }

  /** The spare capture for an app window named `name`, if it is on `network` and whole; else null. */
  private async takeSpare(network: NetworkName, name: string): Promise<{ window: CaptureWindow; at: number } | null> {
    const spare = this.spare;
    this.spare = null;
    const opened = await spare?.opened;
    if (!spare || !opened) return null;
    if (spare.network !== network || !opened.window.alive) {
      await opened.window.discard();
      return null;
    }
    opened.window.adopt(this.evidencePath(`${name}.pcap`, network));
    return opened;
  }

  /** Stops the spare capture (the network changes, the worker ends). */
  private async dropSpare(): Promise<void> {
    const opened = await this.spare?.opened;
    this.spare = null;
    await opened?.window.discard();
  }

  /** Opens a capture window; its pcap goes to the evidence directory of `network`. */
  async openWindow(name: string, network: NetworkName | null = this.network, analyze?: AnalyzeOptions): Promise<CaptureWindow> {
    const method = this.captureMethod();
    return CaptureWindow.open({
      device: this.backend, facts: this.facts, method, gatewayCapture: this.device.gatewayCapture, emulatorCapture: this.device.emulatorCapture,
      file: this.evidencePath(`${name}.pcap`, network), analyze: analyze ?? await this.analyzeOptions(),
    });
  }

  /** A decision's evidence (what it read: addresses, routes, LinkProperties, the APN row) as a file the report links. */
  private decided(check: CheckId, network: NetworkName, outcome: CheckOutcome, files: string[] = []): ResultBody {
    const file = this.evidencePath(`${check}.json`, network);
    writeFileWhole(file, `${JSON.stringify({ check, status: outcome.status, reasons: outcome.reasons, evidence: outcome.evidence }, null, 1)}\n`);
    return { ...fromOutcome(outcome), evidence: [this.relative(file), ...files] };
  }

  // --- networks -----------------------------------------------------------------------------

  /** Reads what the device is as delivered, before anything is changed (the os suite's first step). */
  async observeFactory(): Promise<Observation> {
    this.factory ??= await observeDevice(this.backend, { root: this.facts.root });
    return this.factory;
  }

  /** Moves the device to `network`'s APN (once per run and network) and observes it there. */
  async attach(network: NetworkName): Promise<{ ok: boolean; detail: string }> {
    if (this.network === network && this.attached.has(network)) return this.attached.get(network)!;
    const target = this.device.networks[network];
    if (target === null) {
      const outcome = { ok: false, detail: `the profile names no ${network === 'ipv6' ? 'IPv6-only' : 'dual-stack'} APN (networks.${network})` };
      this.attached.set(network, outcome);
      return outcome;
    }
    await this.dropSpare();
    this.analyzeCache = null;
    this.network = network;
    let agent;
    if (this.device.apnSwitch === 'manual') {
      agent = await this.state.waitForAttach(target.apn, 1000);
      if (agent === null) {
        const outcome = { ok: false, detail: `the device is not on APN ${target.apn} and the profile says APNs are switched by hand: switch to it and run again` };
        this.attached.set(network, outcome);
        return outcome;
      }
    } else {
      const switched = await this.state.switchApn(target.apn);
      agent = switched.network;
      if (agent === null) {
        const protocol = switched.row.protocol ?? 'unset (IP)';
        const outcome = { ok: false, detail: `the device did not attach to APN ${target.apn} (protocol ${protocol}${switched.inserted ? ', copied from its factory default APN' : ''}) within the deadline: the network refused what it asked for` };
        this.attached.set(network, outcome);
        this.observed = await observeDevice(this.backend, { root: this.facts.root });
        return outcome;
      }
    }
    this.observed = await observeDevice(this.backend, { root: this.facts.root });
    const outcome = { ok: true, detail: `attached to APN ${target.apn}` };
    this.attached.set(network, outcome);
    return outcome;
  }

  private observation(): Observation {
    if (this.observed === null) throw new Error('no observation: attach first');
    return this.observed;
  }

  // --- os suite -----------------------------------------------------------------------------

  /** os.* checks decided from observations (resolver-prefers-ipv6 is `resolverProbe`). */
  osCheck(check: 'os.apn-protocol' | 'os.apn-roaming-protocol' | 'os.ipv6-enabled' | 'os.privacy-addresses' | 'os.dual-stack-attach'): Promise<CheckResult> {
    return this.record(check, null, 'ipv4v6', async () => {
      const factory = await this.observeFactory();
      const attach = await this.attach('ipv4v6');
      const now = this.observation();
      // The APN table as delivered, and what the dual-stack network gave (for inference).
      const judged: Observation = { ...now, apnTable: factory.apnTable };
      const outcome = (() => {
        switch (check) {
          case 'os.apn-protocol': return checkApnProtocol(judged, 'protocol');
          case 'os.apn-roaming-protocol': return checkApnProtocol(judged, 'roaming_protocol');
          case 'os.ipv6-enabled': return checkIpv6Enabled(factory, this.interfaces(factory));
          case 'os.privacy-addresses': return checkPrivacyAddresses(now);
          case 'os.dual-stack-attach': {
            const decided = checkDualStackAttach(now);
            return attach.ok ? decided : { ...decided, status: 'failed' as const, reasons: [{ code: 'ATTACH_FAILED', detail: attach.detail }] };
          }
        }
      })();
      return this.decided(check, 'ipv4v6', outcome);
    });
  }

  /** The cellular and Wi-Fi interfaces whose IPv6 settings are judged. */
  private interfaces(o: Observation): string[] {
    const names = radioInterfaces(o.addresses);
    return names.length > 0 ? names : ['rmnet_data0', 'wlan0'];
  }

  /** os.resolver-prefers-ipv6: the device opens the profile's dual-stack URL; the capture shows which family went first. */
  resolverProbe(ui: DeviceUi): Promise<CheckResult> {
    return this.record('os.resolver-prefers-ipv6', null, 'ipv4v6', async () => {
      const url = this.device.resolverProbeUrl;
      if (url === null) return skipped('NO_PROBE_URL', 'the profile sets no resolverProbeUrl (a dual-stack URL the device can open)');
      const attach = await this.attach('ipv4v6');
      if (!attach.ok) return skipped('NETWORK_UNAVAILABLE', attach.detail);
      const hostname = new URL(url).hostname;
      const { capture } = await this.inWindow('resolver-probe', async (window) => {
        await ui.openUrl(url);
        await probeDwell(window, (a) => a.hostnames.some((h) => h.name === hostname && h.firstAttemptFamily !== null && h.flows.some((id) => a.flows[id]?.established === true)));
      });
      const facts = capture.analysis.hostnames.find((h) => h.name === hostname);
      const flows = (facts?.flows ?? []).map((id) => capture.analysis.flows[id]!).filter(Boolean);
      const established = { 4: flows.filter((f) => f.established && (f.path === 'native-v4' || f.path === 'clat')).length, 6: flows.filter((f) => f.established && (f.path === 'native-v6' || f.path === 'nat64')).length };
      const outcome = checkResolverPrefersIpv6({ hostname, firstAttemptFamily: facts?.firstAttemptFamily ?? null, established });
      return { ...fromOutcome(outcome), metrics: { firstAttemptFamily: facts?.firstAttemptFamily ?? null }, evidence: this.saveEvidence('resolver-probe', capture, { probe: outcome.evidence }) };
    });
  }

  // --- apn suite ----------------------------------------------------------------------------

  private apnCapture: WindowCapture | null = null;

  /** Attaches to the IPv6-only APN with a capture running, so RFC 7050 discovery at attach is seen. */
  private async attachIpv6Captured(): Promise<{ ok: boolean; detail: string }> {
    if (this.network === 'ipv6' && this.attached.has('ipv6')) return this.attached.get('ipv6')!;
    const window = await this.openWindow('ipv6-attach', 'ipv6').catch(() => null);
    const attach = await this.attach('ipv6');
    if (window !== null) {
      await sleep(1000);
      this.apnCapture = await window.close().catch(() => null);
      if (this.apnCapture !== null) 
      this.learnBackground(this.apnCapture, null, Number.POSITIVE_INFINITY);
    }
    return attach;
  }

  apnCheck(check: 'apn.ipv6-only-attach' | 'apn.clat' | 'apn.nat64-prefix'): Promise<CheckResult> {
    return this.record(check, null, 'ipv6', async () => {
      const attach = await this.attachIpv6Captured();
      const o = this.observation();
      if (check === 'apn.ipv6-only-attach') {
        const decided = checkIpv6OnlyAttach(o);
        return this.decided(check, 'ipv6', attach.ok ? decided : { ...decided, status: 'failed', reasons: [{ code: 'ATTACH_FAILED', detail: attach.detail }, ...decided.reasons] });
      }
      if (check === 'apn.clat') return this.decided(check, 'ipv6', checkClat(o));
      const discovered = this.apnCapture === null ? [] : Object.entries(this.apnCapture.analysis.nat64PrefixSources).filter(([, source]) => source === 'rfc7050').map(([p]) => p);
      const outcome = checkNat64Prefix(o, discovered);
      return this.decided(check, 'ipv6', outcome, this.apnCapture === null ? [] : this.saveEvidence('ipv6-attach', this.apnCapture, {}, 'ipv6'));
    });
  }

  /** apn.ipv4-via-clat: the device opens an IPv4-literal URL; the capture shows whether the connection was made. */
  ipv4ViaClat(ui: DeviceUi, url: string | null): Promise<CheckResult> {
    return this.record('apn.ipv4-via-clat', null, 'ipv6', async () => {
      if (url === null) return skipped('NO_PROBE_URL', 'the profile sets no ipv4OnlyProbeUrl (a URL on an IPv4-only address)');
      const attach = await this.attachIpv6Captured();
      const target = new URL(url).hostname;
      if (!attach.ok) {
        const o = this.observation();
        return this.decided('apn.ipv4-via-clat', 'ipv6', { status: 'failed', reasons: [{ code: 'ATTACH_FAILED', detail: attach.detail }], evidence: { target, addresses: o.addresses, routes: o.routes } });
      }
      const { capture } = await this.inWindow('ipv4-probe', async (window) => {
        await ui.openUrl(url);
        await probeDwell(window, (a) => flowsTo(a, target).some((f) => f.established === true));
      });
      const flows = flowsTo(capture.analysis, target);
      const established = flows.some((f) => f.established === true);
      const outcome = checkIpv4ViaClat(target, established, flows[0]?.path ?? null);
      return { ...fromOutcome(outcome), evidence: this.saveEvidence('ipv4-probe', capture, { probe: outcome.evidence }) };
    });
  }

  // --- apps suite ---------------------------------------------------------------------------

  /**
   * Runs `work` inside a capture window; returns the capture and the window in capture time.
   * `alongside` (the app's force-stop) runs while the capture starts and the baseline is taken:
   * the window begins once both are done.
   */
  private async inWindow(name: string, work: (window: CaptureWindow) => Promise<void>, options: { analyze?: AnalyzeOptions; alongside?: Promise<unknown>; spare?: boolean; afterWork?: () => void } = {}): Promise<{ capture: WindowCapture; start: number; end: number }> {
    const taken = options.spare && this.network !== null ? await this.takeSpare(this.network, name) : null;
    const window = taken?.window ?? await this.openWindow(name, this.network, options.analyze);
    const openedAt = taken?.at ?? Date.now();
    const method = this.captureMethod();
    let start = 0;
    try {
      await Promise.all([sleep(Math.max(0, BASELINE_MS - (Date.now() - openedAt))), options.alongside]);
      start = this.now(method);
      await work(window);
    } catch (error) {
      await window.close().catch(() => undefined);
      throw error;
    }
    const end = this.now(method);
    options.afterWork?.();
    const capture = await window.close();
    return { capture, start, end };
  }

  /** Remembers the servers the device used on its own: before launch, or owned by a system uid. */
  private learnBackground(capture: WindowCapture, appFlows: Attribution | null, before: number): void {
    const systemOwned = new Set(capture.sockets.filter((s) => s.uid < 10_000).map((s) => `${s.remote.address}|${s.remote.port}`));
    for (const f of capture.analysis.flows) {
      if (f.application === 'dns' || appFlows?.flows.has(f.id)) continue;
      if (f.firstTs < before || systemOwned.has(destinationKey(f))) this.background.add(destinationKey(f));
    }
  }

  private saveEvidence(name: string, capture: WindowCapture, extra: Record<string, unknown>, network: NetworkName | null = this.network): string[] {
    const json = this.evidencePath(`${name}.analysis.json`, network);
    try {
      writeFileWhole(json, `${JSON.stringify({ capture: { method: capture.method, bytes: capture.bytes, pcap: this.relative(capture.file) }, ...extra, analysis: capture.analysis }, null, 1)}\n`);
    } catch (error) {
      // Evidence without its analysis backs nothing: the check breaks and its pcap goes too (on a
      // full disk, that is also the room results.json needs to say so).
      removePartialFile(capture.file);
      throw error;
    }
    return [this.relative(capture.file), this.relative(json)];
  }

  /** apps.ipv6-first for one app on one network: launch, walk, dwell, stop, all inside one capture. */
  app(ui: DeviceUi, app: CatalogueApp, network: NetworkName): Promise<CheckResult> {
    return this.record('apps.ipv6-first', app.package, network, async () => {
      const attach = network === 'ipv6' ? await this.attachIpv6Captured() : await this.attach(network);
      if (!attach.ok) return skipped('NETWORK_UNAVAILABLE', attach.detail);
      const started = Date.now();
      // A cold start, always: an app left running (before the run, or by a check a fault broke)
      // would make no new connections when brought to the front, and its first attempts are the
      // point. It is stopped while the rest is asked and the capture starts: its last packets
      // fall before the window (`am force-stop` of a package not installed does nothing).
      const coldStart = (async () => {
        await this.backend.runOk(['am', 'force-stop', app.package]);
        if (this.plan.clearAppData) await this.backend.runOk(['pm', 'clear', app.package]);
      })();
      coldStart.catch(() => undefined);
      // What the check needs first, asked at once: each is a device round trip.
      const [{ installed, uid }, analyze] = await Promise.all([this.packageFacts(ui, app.package), this.appAnalyzeOptions(network)]);
      if (!installed) return skipped('NOT_INSTALLED', `${app.package} (${app.label}) is not installed on the device`);
      const dwellMs = app.dwellMs ?? this.plan.dwellMs;
      const { capture, start, end } = await this.inWindow(app.package, async () => {
        await ui.activateApp(app.package);
        for (const step of app.flow) await ui.step(step);
        await sleep(dwellMs);
        // One round trip: terminating says whether the app was still running.
        if (!(await ui.terminateApp(app.package))) throw new AppStoppedError(app.package);
      }, {
        analyze, alongside: coldStart, spare: true,
        // The next app's capture starts as this app stops, while this window flushes and is judged.
        afterWork: () => {
          if (this.analyzeCache?.network === network) this.openSpare(network, analyze);
        },
      });
      // Servers the device reached on its own, and flows that began before launch, are not the app's.
      const baseline = new Set(this.background);
      for (const f of capture.analysis.flows) if (f.firstTs < start) baseline.add(destinationKey(f));
      for (const f of capture.analysis.flows) if (f.hostname !== null && this.device.backgroundHosts.includes(f.hostname)) baseline.add(destinationKey(f));
      const attribution = attributeFlows({ analysis: capture.analysis, sockets: capture.sockets, appUid: uid ?? -1, window: { start, end }, baseline });
      const verdict: AppVerdict = appVerdict(capture.analysis, attribution.flows);
      this.learnBackground(capture, attribution, start);
      const evidence = this.saveEvidence(app.package, capture, {
        app: { package: app.package, label: app.label, uid, network, window: { start, end }, dwellMs },
        attribution: { method: attribution.summary, flows: [...attribution.flows], byFlow: Object.fromEntries(attribution.method) },
        verdict,
      });
      const m = verdict.metrics;
      return {
        status: verdict.verdict === 'pass' || verdict.verdict === 'warn' ? 'passed' : 'failed',
        verdict: verdict.verdict,
        reasons: verdict.reasons.map((r) => ({ code: r.code, detail: r.detail })),
        metrics: {
          nativeV6ByteShare: m.nativeV6ByteShare, bytes: m.bytes, flows: m.flows, hostnames: m.hostnames,
          bytesNativeV6: m.bytesByPath['native-v6'], bytesNat64: m.bytesByPath.nat64, bytesClat: m.bytesByPath.clat, bytesNativeV4: m.bytesByPath['native-v4'],
          attribution: attribution.summary, captureMethod: capture.method, dwellMs, checkMs: Date.now() - started,
        },
        evidence,
      };
    });
  }
}
