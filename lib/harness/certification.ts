/**
 * One device's certification, as a WebdriverIO worker runs it: the pieces put together and each
 * check of the catalogue (lib/checks/requirements.ts) turned into a result. The pieces have one
 * job each: the device session (attempts, retries, results.json: session.ts), the networks and
 * what was observed on each (networks.ts), capture planning and evidence (captures.ts), the
 * state taken and restored (device-state.ts), and the pure judges (judge.ts). The UI (launching
 * apps, walking their flows, opening a URL) comes from the spec through `DeviceUi`, which is
 * Appium; nothing here asks what kind of device it is.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import createDebug from 'debug';
import type { AnalyzeOptions, CaptureAnalysis, Flow } from '../analysis/index.js';
import { writeJsonWhole } from '../config/files.js';
import { pageShares, pageSpans, type PageFigures, type PageMark } from '../checks/app-pages.js';
import { appRunsVerdict, appVerdict, type AppVerdict } from '../checks/app-verdict.js';
import { attributeFlows, type Attribution } from '../checks/attribution.js';
import { message, reasonOf, type MessagePart } from '../checks/messages.js';
import { checkIpv4ViaClat, checkResolverPrefersIpv6, type CheckOutcome } from '../checks/os.js';
import type { CheckId, NetworkName } from '../checks/requirements.js';
import { AdbkitBackend, adbClient, type DeviceBackend } from '../device/adb.js';
import { probeDevice, type DeviceFacts } from '../device/facts.js';
import { parseDumpsysPackage } from '../device/parse/index.js';
import { embeddedIpv4Text, parseNat64Prefix } from '../net/address.js';
import type { AppLog, CheckResult } from '../report/results.js';
import { readAppLog } from './app-log.js';
import { CapturePlanner } from './captures.js';
import { LAUNCH_PAGE, type CatalogueApp, type FlowStep } from './catalogue.js';
import { DeviceState } from './device-state.js';
import { AppStoppedError } from './faults.js';
import {
  appBaseline,
  appPolicyOf,
  attachPrefixes,
  judgeApn,
  learnBackground,
  judgeOs,
  provenance,
  unreached,
  unreachedReason,
  type ApnCheck,
  type AttachCapture,
  type Decision,
  type OsCheck,
} from './judge.js';
import { NetworkAttacher, type Attachment, type Reached } from './networks.js';
import { deviceDir, readPlan, type CertifyPlan, type DevicePlan } from './plan.js';
import { workerPrompt, type SwitchPrompt } from './prompt.js';
import { selectApnInSettings, type SettingsScreens } from './settings-ui.js';
import { DeviceSession, type ResultBody } from './session.js';
import { wholeCapture, type CaptureWindow, type WindowCapture } from './window.js';

export { AppStoppedError, faultCode, UiError } from './faults.js';
export { BASELINE_MS } from './captures.js';
export { DEVICE_RETURN_MS, RETRY_BUDGET } from './session.js';

const log = createDebug('v6lab:certify');

/** What the spec drives through Appium. */
export interface DeviceUi {
  isAppInstalled(pkg: string): Promise<boolean>;
  activateApp(pkg: string): Promise<void>;
  /** Stops the app; false when it was not running (Appium's terminateApp: UiAutomator2 checks its processes first). */
  terminateApp(pkg: string): Promise<boolean>;
  step(step: FlowStep): Promise<void>;
  openUrl(url: string): Promise<void>;
}

/** How long a URL probe waits for the connection to be made and finished. */
export const PROBE_DWELL_MS = 3000;
/** Once a probe's connection is seen made, how long the capture goes on (a Happy Eyeballs fallback starts within 300 ms). */
const PROBE_SETTLE_MS = 750;
const PROBE_POLL_MS = 200;
/** How long the capture across the IPv6-only attach goes on after it, for RFC 7050 discovery. */
const ATTACH_CAPTURE_SETTLE_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const skipped = (reason: ResultBody['reasons'][number]): ResultBody => ({ status: 'skipped', verdict: null, reasons: [reason], metrics: {}, evidence: [] });

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

const fromOutcome = (outcome: CheckOutcome): ResultBody => ({ status: outcome.status, verdict: null, reasons: outcome.reasons, metrics: {}, evidence: [] });

/** One judged window of an app (a run of --app-runs). */
interface AppWindow {
  verdict: AppVerdict;
  attribution: Attribution['summary'];
  captureMethod: string;
  dwellMs: number;
  evidence: string[];
  pages: PageFigures[];
  /** The app's own log, fetched when the window was inconclusive; else null. */
  appLog: AppLog | null;
}

/** The pieces a certification is made of; a unit test gives scripted ones. */
export interface CertificationParts {
  plan: CertifyPlan;
  device: DevicePlan;
  backend: DeviceBackend;
  facts: DeviceFacts;
  state: DeviceState;
  /** The device's directory in the run. */
  dir: string;
  captures?: CapturePlanner;
  /** How long a device that went away is waited for. */
  returnMs?: number;
  /** How long an attach the harness asked for may take. */
  attachTimeoutMs?: number;
  /** Who is asked to switch APNs by hand (`apnSwitch: manual`). @default certify's terminal when it named one (V6LAB_PROMPT), else nobody */
  prompt?: SwitchPrompt;
  /** The device's Appium session as Settings screens (`apnSwitch: settings-ui`); absent: none to select an APN with. */
  screens?: SettingsScreens;
}

export class Certification {
  private static current: Certification | null = null;

  readonly plan: CertifyPlan;
  readonly device: DevicePlan;
  readonly facts: DeviceFacts;
  private readonly backend: DeviceBackend;
  private readonly state: DeviceState;
  private readonly session: DeviceSession;
  private readonly networks: NetworkAttacher;
  private readonly captures: CapturePlanner;
  /** The capture across the IPv6-only attach (RFC 7050 discovery happens there), or why there is none. */
  private attachCapture: { capture: WindowCapture | null; why: MessagePart | null } | null = null;
  /** Server endpoints the device used on its own (not the app under test): never an app's. */
  private readonly background = new Set<string>();
  /** Whether each app is installed, and its uid: asked once a run (neither changes between networks). */
  private readonly packages = new Map<string, { installed: boolean; uid: number | null }>();
  /** The attached network's analyze options once final (on the IPv6-only APN: once a NAT64 prefix is known). */
  private analyzeCache: { network: NetworkName; options: AnalyzeOptions } | null = null;

  constructor(parts: CertificationParts) {
    this.plan = parts.plan;
    this.device = parts.device;
    this.facts = parts.facts;
    this.backend = parts.backend;
    this.state = parts.state;
    this.captures = parts.captures ?? new CapturePlanner(parts.backend, parts.device, parts.facts, parts.dir, parts.plan.runDir);
    const screens = parts.screens;
    this.networks = new NetworkAttacher(parts.backend, parts.device, parts.state, parts.facts.root, undefined, undefined, parts.attachTimeoutMs, {
      prompt: parts.prompt ?? workerPrompt(),
      settingsUi: screens === undefined ? null : (apn) => selectApnInSettings(parts.backend, screens, apn),
      promptTimeoutMs: parts.plan.switchTimeoutMs,
      only: parts.plan.network ?? null,
    });
    this.session = new DeviceSession(parts.backend, parts.plan.runDir, () => this.forgetNetwork(), parts.returnMs);
  }

  /**
   * The worker's certification (one device per worker), opened on first use; `screens` is the
   * worker's Appium session, with which `apnSwitch: settings-ui` selects APNs in Settings.
   */
  static async forWorker(planFile: string, serial: string, screens?: SettingsScreens): Promise<Certification> {
    if (Certification.current?.device.serial === serial) return Certification.current;
    const plan = readPlan(planFile);
    const device = plan.devices.find((d) => d.serial === serial);
    if (!device) throw new Error(`${planFile}: no device ${serial} in the plan`);
    const backend = new AdbkitBackend(adbClient(plan.adbPort), serial, plan.adbPort);
    await backend.ensureAvailable();
    const facts = await probeDevice(backend);
    const dir = deviceDir(plan.runDir, serial);
    mkdirSync(dir, { recursive: true });
    writeJsonWhole(join(dir, 'facts.json'), facts, { replaceSpecial: true });
    const state = new DeviceState(backend, facts.root, dir);
    await state.takeFound();
    await state.privateDnsOff();
    const certification = new Certification({ plan, device, backend, facts, state, dir, screens });
    await certification.captures.measureClock();
    Certification.current = certification;
    return certification;
  }

  /** Restores the worker's device as it was found; safe to call when nothing was opened. */
  static async closeWorker(): Promise<string[]> {
    const current = Certification.current;
    Certification.current = null;
    if (current === null) return [];
    return current.close();
  }

  /** Stops the spare capture and the presence watch, and puts the device back as found. */
  async close(): Promise<string[]> {
    this.session.close();
    await this.captures.dropSpare();
    return this.state.restore();
  }

  /**
   * Whether results.json already holds a finished result for this check (a resumed run skips it);
   * a broken one, or one skipped NETWORK_UNAVAILABLE, is run again (isFinished).
   */
  done(check: CheckId, app: string | null, network: NetworkName): boolean {
    return this.session.done(check, app, network);
  }

  /** Runs one os or apn check of the catalogue by its id. */
  check(check: Exclude<CheckId, 'apps.ipv6-first'>, ui: DeviceUi): Promise<CheckResult> {
    switch (check) {
      case 'os.resolver-prefers-ipv6':
        return this.resolverProbe(ui);
      case 'apn.ipv4-via-clat':
        return this.ipv4ViaClat(ui, this.device.ipv4OnlyProbeUrl);
      case 'apn.ipv6-only-attach':
      case 'apn.clat':
      case 'apn.nat64-prefix':
        return this.apnCheck(check);
      default:
        return this.osCheck(check);
    }
  }

  private forgetNetwork(): void {
    this.networks.forget();
    this.analyzeCache = null;
  }

  // --- networks -----------------------------------------------------------------------------

  /** Reads what the device is as delivered, before anything is changed (the os suite's first step). */
  observeFactory() {
    return this.networks.observeFactory();
  }

  /** Moves the device to `network` (once while it stays there) and says whether it got there. */
  async attach(network: NetworkName): Promise<Attachment> {
    if (this.networks.network !== network) {
      await this.captures.dropSpare();
      this.analyzeCache = null;
    }
    return this.networks.attach(network);
  }

  /**
   * Attaches to the IPv6-only APN with a capture running, so RFC 7050 discovery at attach is
   * seen. A capture that does not open or close is kept as the reason the discovery is unseen.
   */
  private async attachIpv6Captured(): Promise<Attachment> {
    if (this.networks.network === 'ipv6') return this.networks.attach('ipv6');
    await this.captures.dropSpare();
    this.analyzeCache = null;
    let window: CaptureWindow | null = null;
    let why: MessagePart | null = null;
    try {
      window = await this.captures.openWindow('ipv6-attach', 'ipv6');
    } catch (error) {
      why = message('harness.attachCapture.notOpened', { error: (error as Error).message });
      log('%s attach capture did not open: %s', this.device.serial, why.english);
    }
    const attachment = await this.networks.attach('ipv6');
    let capture: WindowCapture | null = null;
    if (window !== null) {
      await sleep(ATTACH_CAPTURE_SETTLE_MS);
      try {
        capture = wholeCapture(this.device.serial, await window.close());
        this.learnBackground(capture, null, Number.POSITIVE_INFINITY);
      } catch (error) {
        why = message('harness.attachCapture.failed', { error: (error as Error).message });
        log('%s attach capture failed: %s', this.device.serial, why.english);
      }
    }
    this.attachCapture = { capture, why };
    return attachment;
  }

  private attachCaptureFacts(): AttachCapture {
    const taken = this.attachCapture;
    if (taken === null) {
      const said = message('harness.alreadyOnIpv6Apn', {});
      return { taken: false, why: said.english, said };
    }
    if (taken.capture === null) {
      const said = taken.why ?? message('untranslated', { text: '' });
      return { taken: false, why: said.english, said };
    }
    return { taken: true, ...attachPrefixes(taken.capture.analysis) };
  }

  /** A decision as a result, its evidence written beside it. */
  private decided(check: CheckId, network: NetworkName, decision: Decision, files: string[] = []): ResultBody {
    return {
      status: decision.status,
      verdict: null,
      reasons: decision.reasons,
      metrics: {},
      evidence: [this.captures.saveDecision(check, network, decision), ...files],
    };
  }

  // --- os suite -----------------------------------------------------------------------------

  /** os.* checks decided from the factory observation and the dual-stack network's. */
  osCheck(check: OsCheck): Promise<CheckResult> {
    return this.session.record(check, null, 'ipv4v6', async () => {
      const factory = await this.observeFactory();
      const dualStack = await this.attach('ipv4v6');
      return this.decided(check, 'ipv4v6', judgeOs(check, factory, dualStack));
    });
  }

  /** os.resolver-prefers-ipv6: the device opens the profile's dual-stack URL; the capture shows which family went first. */
  resolverProbe(ui: DeviceUi): Promise<CheckResult> {
    return this.session.record('os.resolver-prefers-ipv6', null, 'ipv4v6', async () => {
      // The network first: a check on a network not reached is that, whatever else it lacks.
      const attachment = await this.attach('ipv4v6');
      if (!attachment.reached) return this.decided('os.resolver-prefers-ipv6', 'ipv4v6', unreached(attachment));
      const url = this.device.resolverProbeUrl;
      if (url === null) return skipped(reasonOf('NO_PROBE_URL', message('harness.noProbeUrl.resolver', {})));
      const hostname = new URL(url).hostname;
      const { capture: probed } = await this.captures.inWindow('resolver-probe', 'ipv4v6', async (window) => {
        await ui.openUrl(url);
        await probeDwell(window, (a) =>
          a.hostnames.some((h) => h.name === hostname && h.firstAttemptFamily !== null && h.flows.some((id) => a.flows[id]?.established === true)),
        );
      });
      const capture = wholeCapture(this.device.serial, probed);
      const facts = capture.analysis.hostnames.find((h) => h.name === hostname);
      const flows = (facts?.flows ?? []).map((id) => capture.analysis.flows[id]!).filter(Boolean);
      const established = {
        4: flows.filter((f) => f.established && (f.path === 'native-v4' || f.path === 'clat')).length,
        6: flows.filter((f) => f.established && (f.path === 'native-v6' || f.path === 'nat64')).length,
      };
      const outcome = checkResolverPrefersIpv6({ hostname, firstAttemptFamily: facts?.firstAttemptFamily ?? null, established });
      return {
        ...fromOutcome(outcome),
        metrics: { firstAttemptFamily: facts?.firstAttemptFamily ?? null },
        evidence: this.captures.saveEvidence('resolver-probe', capture, { probe: outcome.evidence, observedOn: provenance(attachment.facts) }, 'ipv4v6'),
      };
    });
  }

  // --- apn suite ----------------------------------------------------------------------------

  apnCheck(check: ApnCheck): Promise<CheckResult> {
    return this.session.record(check, null, 'ipv6', async () => {
      const attachment = await this.attachIpv6Captured();
      const decision = judgeApn(check, attachment, this.attachCaptureFacts());
      const capture = this.attachCapture?.capture ?? null;
      const files = check === 'apn.nat64-prefix' && capture !== null ? this.captures.saveEvidence('ipv6-attach', capture, {}, 'ipv6') : [];
      return this.decided(check, 'ipv6', decision, files);
    });
  }

  /** apn.ipv4-via-clat: the device opens an IPv4-literal URL; the capture shows whether the connection was made. */
  ipv4ViaClat(ui: DeviceUi, url: string | null): Promise<CheckResult> {
    return this.session.record('apn.ipv4-via-clat', null, 'ipv6', async () => {
      const attachment = await this.attachIpv6Captured();
      if (!attachment.reached) return this.decided('apn.ipv4-via-clat', 'ipv6', unreached(attachment));
      if (url === null) return skipped(reasonOf('NO_PROBE_URL', message('harness.noProbeUrl.ipv4Only', {})));
      const target = new URL(url).hostname;
      const { capture: probed } = await this.captures.inWindow('ipv4-probe', 'ipv6', async (window) => {
        await ui.openUrl(url);
        await probeDwell(window, (a) => flowsTo(a, target).some((f) => f.established === true));
      });
      const capture = wholeCapture(this.device.serial, probed);
      const flows = flowsTo(capture.analysis, target);
      const established = flows.some((f) => f.established === true);
      const outcome = checkIpv4ViaClat(target, established, flows[0]?.path ?? null);
      return {
        ...fromOutcome(outcome),
        evidence: this.captures.saveEvidence('ipv4-probe', capture, { probe: outcome.evidence, observedOn: provenance(attachment.facts) }, 'ipv6'),
      };
    });
  }

  // --- apps suite ---------------------------------------------------------------------------

  /** Remembers the servers the device used on its own: before launch, or owned by a system uid. */
  private learnBackground(capture: WindowCapture, appFlows: Attribution | null, before: number): void {
    learnBackground(this.background, capture.analysis, capture.sockets, appFlows?.flows ?? null, before);
  }

  private async packageFacts(ui: DeviceUi, pkg: string): Promise<{ installed: boolean; uid: number | null }> {
    const known = this.packages.get(pkg);
    if (known) return known;
    const [installed, dump] = await Promise.all([ui.isAppInstalled(pkg), this.backend.run(['dumpsys', 'package', pkg])]);
    const facts = { installed, uid: installed && dump.exitCode === 0 ? (parseDumpsysPackage(dump.output, pkg)?.userId ?? null) : null };
    if (installed) this.packages.set(pkg, facts);
    return facts;
  }

  private async appAnalyzeOptions(network: NetworkName): Promise<AnalyzeOptions> {
    if (this.analyzeCache?.network === network) return this.analyzeCache.options;
    const options = await this.captures.analyzeOptions(network);
    // Android discovers the prefix (RFC 7050) after the attach: until it is known, ask each time.
    if (network !== 'ipv6' || options.nat64Prefixes.length > 0) this.analyzeCache = { network, options };
    return options;
  }

  /**
   * apps.ipv6-first for one app on one network: launch, walk, dwell, stop, all inside one capture;
   * `plan.appRuns` times, each a fresh launch, judged on every run (appRunsVerdict).
   */
  app(ui: DeviceUi, app: CatalogueApp, network: NetworkName): Promise<CheckResult> {
    return this.session.record('apps.ipv6-first', app.package, network, async () => {
      const attachment = network === 'ipv6' ? await this.attachIpv6Captured() : await this.attach(network);
      if (!attachment.reached) return { ...skipped(unreachedReason('NETWORK_UNAVAILABLE', attachment)) };
      const started = Date.now();
      const runs = this.plan.appRuns ?? 1;
      const windows: AppWindow[] = [];
      for (let run = 1; run <= runs; run++) {
        const window = await this.appWindow(ui, app, network, attachment, runs === 1 ? null : run);
        if (window === null) return skipped(reasonOf('NOT_INSTALLED', message('harness.notInstalled', { pkg: app.package, label: app.label })));
        windows.push(window);
      }
      const policy = appPolicyOf(this.device.policy);
      const judged =
        runs === 1
          ? { ...windows[0]!.verdict, ipv6ShareMean: null }
          : appRunsVerdict(
              windows.map((w) => w.verdict),
              policy,
            );
      const total = (path: keyof AppVerdict['metrics']['bytesByPath']) => windows.reduce((n, w) => n + w.verdict.metrics.bytesByPath[path], 0);
      const bytes = windows.reduce((n, w) => n + w.verdict.metrics.bytes, 0);
      const first = windows[0]!;
      const pages = windows.flatMap((w) => w.pages);
      const appLogs = windows.flatMap((w) => (w.appLog === null ? [] : [w.appLog]));
      return {
        status: judged.verdict === 'pass' || judged.verdict === 'warn' ? 'passed' : 'failed',
        verdict: judged.verdict,
        reasons: judged.reasons.map((r) => ({ code: r.code, detail: r.detail, messages: r.messages })),
        metrics: {
          // Over every run: the bytes of all of them (the share judged is the mean, ipv6ShareMean).
          nativeV6ByteShare: bytes === 0 ? null : total('native-v6') / bytes,
          bytes,
          flows: windows.reduce((n, w) => n + w.verdict.metrics.flows, 0),
          hostnames: Math.max(...windows.map((w) => w.verdict.metrics.hostnames)),
          bytesNativeV6: total('native-v6'),
          bytesNat64: total('nat64'),
          bytesClat: total('clat'),
          bytesNativeV4: total('native-v4'),
          attribution: first.attribution,
          captureMethod: first.captureMethod,
          dwellMs: first.dwellMs,
          checkMs: Date.now() - started,
          ...(runs === 1 ? {} : { appRuns: runs, ipv6ShareMean: judged.ipv6ShareMean }),
        },
        evidence: windows.flatMap((w) => w.evidence),
        ...(pages.length === 0 ? {} : { pages }),
        ...(appLogs.length === 0 ? {} : { appLogs }),
        ...(runs === 1
          ? {}
          : {
              runs: windows.map((w, i) => ({
                run: i + 1,
                verdict: w.verdict.verdict,
                bytes: { ...w.verdict.metrics.bytesByPath },
                ipv6Share: w.verdict.metrics.nativeV6ByteShare,
                evidence: w.evidence,
              })),
            }),
      };
    });
  }

  /**
   * One window of an app (run `run` of --app-runs, null when there is one): a cold start, the
   * launch, the flow walked with each page step's moment taken on the capture's clock, the dwell,
   * the stop; judged, and its pages cut from it with the same attribution. Null: not installed.
   */
  private async appWindow(ui: DeviceUi, app: CatalogueApp, network: NetworkName, attachment: Reached, run: number | null): Promise<AppWindow | null> {
    // A cold start, always: an app left running (before the run, by a check a fault broke, or by
    // the run before this one) would make no new connections when brought to the front, and its
    // first attempts are the point. It is stopped while the rest is asked and the capture starts:
    // its last packets fall before the window (`am force-stop` of a package not installed does nothing).
    const coldStart = (async () => {
      await this.backend.runOk(['am', 'force-stop', app.package]);
      if (this.plan.clearAppData) await this.backend.runOk(['pm', 'clear', app.package]);
    })();
    coldStart.catch(() => undefined);
    // What the check needs first, asked at once: each is a device round trip.
    const [{ installed, uid }, analyze] = await Promise.all([this.packageFacts(ui, app.package), this.appAnalyzeOptions(network)]);
    if (!installed) return null;
    const dwellMs = app.dwellMs ?? this.plan.dwellMs;
    const marks: PageMark[] = [];
    const name = run === null ? app.package : `${app.package}.run${run}`;
    // Where the app's own log of this window begins, on the device's clock (logcat -T).
    const logSince = this.captures.deviceNow();
    const {
      capture: captured,
      start,
      end,
    } = await this.captures.inWindow(
      name,
      network,
      async () => {
        await ui.activateApp(app.package);
        let walked = 0;
        for (const step of app.flow) {
          // A page step is a moment, not an action: the page before any UI step is the launch screen.
          if ('page' in step) marks.push({ page: step.page, at: walked === 0 ? null : this.captures.now() });
          else {
            await ui.step(step);
            walked++;
          }
        }
        await sleep(dwellMs);
        // One round trip: terminating says whether the app was still running.
        if (!(await ui.terminateApp(app.package))) throw new AppStoppedError(app.package);
      },
      {
        analyze,
        alongside: coldStart,
        spare: true,
        // The next window's capture starts as this app stops, while this window flushes and is judged.
        afterWork: () => {
          if (this.analyzeCache?.network === network) this.captures.openSpare(network, analyze);
        },
      },
    );
    // A capture that lost packets backs no verdict: the check breaks and is run again.
    const capture = wholeCapture(this.device.serial, captured);
    // Servers the device reached on its own, and flows that began before launch, are not the app's.
    const baseline = appBaseline(capture.analysis, start, this.background, this.device.backgroundHosts);
    const attribution = attributeFlows({ analysis: capture.analysis, sockets: capture.sockets, appUid: uid ?? -1, window: { start, end }, baseline });
    const policy = appPolicyOf(this.device.policy);
    const verdict: AppVerdict = appVerdict(capture.analysis, attribution.flows, policy);
    const spans = pageSpans(marks, start, LAUNCH_PAGE);
    const pages = pageShares(capture.analysis, attribution.flows, spans, run ?? 1);
    this.learnBackground(capture, attribution, start);
    const evidence = this.captures.saveEvidence(
      name,
      capture,
      {
        app: { package: app.package, label: app.label, uid, network, window: { start, end }, dwellMs, ...(run === null ? {} : { run }) },
        observedOn: provenance(attachment.facts),
        attribution: { method: attribution.summary, flows: [...attribution.flows], byFlow: Object.fromEntries(attribution.method) },
        policy,
        verdict,
        ...(spans.length === 0 ? {} : { pages: { spans, shares: pages, counted: 'a flow counts whole on the page where it began' } }),
      },
      network,
    );
    const appLog =
      verdict.verdict === 'inconclusive' && uid !== null
        ? await readAppLog(this.backend, uid, logSince, run, (text) => this.captures.saveText(`${name}.logcat.txt`, network, text))
        : null;
    if (appLog?.file) evidence.push(appLog.file);
    return { verdict, attribution: attribution.summary, captureMethod: capture.method, dwellMs, evidence, pages, appLog };
  }
}
