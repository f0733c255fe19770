/**
 * The WebdriverIO service (`v6lab/wdio`): v6lab inside a suite people already have.
 *
 *   import V6labService from 'v6lab/wdio';
 *   services: [[V6labService, { capture: { methods: ['device'] }, evidenceDir: 'reports/v6lab', policy: { minIpv6Share: 0.7 } }]]
 *
 *   const result = await browser.v6lab.judgeApp('com.example.shop', async () => { ...the test's own steps... });
 *   expect(result).toBeIpv6First();            // matchers: v6lab/expect
 *
 * Each worker captures the device of its session (the capability `appium:udid`) through
 * openAppCapture: the same capture windows, attribution and verdict rules as `v6lab certify`.
 * The capture is opened on first use, so a test that never calls browser.v6lab touches nothing,
 * and closed in `after`. With the Allure reporter present, each judgement and its pcap are
 * attached to the test that made it.
 *
 * The class is both halves of a service: WebdriverIO runs its onPrepare in the launcher when the
 * class itself is in `services` and its worker hooks in each worker; `launcher` is the launcher
 * half alone, for the string form (`['/abs/path/to/dist/wdio/service.js', {...}]`).
 */
import createDebug from 'debug';
import { SevereServiceError } from 'webdriverio';
import type { Capabilities, Frameworks, Options, Services } from '@wdio/types';
import { array, DataFileError, either, integer, number, object, oneOf, string } from '../config/schema.js';
import { CAPTURE_METHODS, MAX_SLOW_FALLBACK_MS } from '../device/profile.js';
import { openAppCapture } from '../api/capture.js';
import type { AppCapture, AppJudgement, CaptureOptions, DeviceCaptureOptions, JudgePolicy, NetworkFacts } from '../api/types.js';

const log = createDebug('v6lab:wdio');

/** The second element of the service's entry in `services`. */
export interface V6labServiceOptions {
  /** Where the device's packets are captured, as in a device profile. @default { methods: ['device', 'gateway', 'emulator', 'pcapdroid'] } */
  capture?: CaptureOptions;
  /** Where pcaps and judgements are written (relative to the working directory). @default 'v6lab-evidence' */
  evidenceDir?: string;
  /** How strictly apps are judged, as a profile's `policy`. @default { minIpv6Share: 0.7, slowFallbackMs: 2000 } */
  policy?: JudgePolicy;
  /**
   * The adb server the device is reached through; it must be the one the device is attached to.
   * @default the capability `appium:adbPort` when set (Appium's own adb server), else 127.0.0.1:5037 (ANDROID_ADB_SERVER_PORT honoured)
   */
  adb?: { host?: string; port?: number };
}

/** `browser.v6lab`: captures of the session's device around the test's own steps. */
export interface V6labBrowserApi {
  /** The adb serial of the session's device. */
  readonly serial: string;
  /**
   * Captures around `steps` and judges `pkg` (an installed package) as certify's apps check does.
   * The window is named after the test unless `options.name` says otherwise.
   */
  judgeApp(pkg: string, steps: () => Promise<void>, options?: { name?: string; policy?: JudgePolicy }): Promise<AppJudgement>;
  /**
   * Starts a window that spans hooks or tests; `pkg` attributes flows by its uid, else by time
   * window. Named after the test unless `options.name` says otherwise; judged under `options.policy`.
   */
  startCapture(pkg?: string, options?: { name?: string; policy?: JudgePolicy }): Promise<void>;
  /** Stops the window startCapture opened and judges it. */
  stopCapture(): Promise<AppJudgement>;
  /** The device's current network: addresses, DNS, CLAT, NAT64 prefix, default network. */
  observeNetwork(): Promise<NetworkFacts>;
}

declare global {
  namespace WebdriverIO {
    interface Browser {
      /** v6lab's captures of this session's device (service `v6lab/wdio`). */
      v6lab: V6labBrowserApi;
    }
  }
}

/** The session names no device: v6lab would not know which handset to capture. */
export class DeviceSerialError extends Error {
  /** The capability to set. */
  readonly capability = 'appium:udid';
  constructor(readonly problem: string) {
    super(
      `v6lab: ${problem}: set the capability appium:udid (or appium:options.udid) to the adb serial of the device, as \`adb devices\` lists it, so v6lab knows which device to capture`,
    );
    this.name = 'DeviceSerialError';
  }
}

/** stopCapture without a window that startCapture opened. */
export class NoCaptureWindowError extends Error {
  constructor(readonly serial: string) {
    super(`v6lab: stopCapture(): no capture window is open on ${serial}: call browser.v6lab.startCapture() first (judgeApp opens and closes its own)`);
    this.name = 'NoCaptureWindowError';
  }
}

const OPTIONS = 'V6labService options';
const captureSchema = object(
  {},
  {
    methods: array(oneOf(CAPTURE_METHODS), { min: 1, max: CAPTURE_METHODS.length }),
    gatewayCapture: either(
      array(string({ maxLength: 4096 }), { min: 1, max: 256 }),
      object({ gateway: string({ maxLength: 4096, what: "a v6lab gateway's state directory" }) }),
    ),
    emulatorCapture: string({ maxLength: 4096, what: "the file the emulator's -tcpdump writes" }),
  },
);
const optionsSchema = object(
  {},
  {
    capture: captureSchema,
    evidenceDir: string({ maxLength: 4096, what: 'a directory' }),
    policy: object({}, { minIpv6Share: number(0, 1), slowFallbackMs: integer(0, MAX_SLOW_FALLBACK_MS) }),
    adb: object({}, { host: string({ maxLength: 255, what: 'a host name or address' }), port: integer(1, 65535) }),
  },
);

/**
 * The service's options, checked: a typo or a share of 70 (for 0.7) is an error naming the field
 * (DataFileError, as for a profile), never an option silently ignored.
 */
export function parseServiceOptions(value: unknown): V6labServiceOptions {
  return optionsSchema(value ?? {}, '', OPTIONS);
}

// As a profile's `serial` (lib/device/profile.ts): what adb prints in `adb devices`.
const SERIAL = /^[A-Za-z0-9._:-]{1,64}$/;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `appium:udid`, or `udid` inside `appium:options`, of one capability object. */
function requestedUdid(caps: Record<string, unknown>): unknown {
  const options = caps['appium:options'];
  return caps['appium:udid'] ?? (isRecord(options) ? options.udid : undefined);
}

/**
 * The adb serial of the session's device: the requested capability `appium:udid` (or
 * `appium:options.udid`, also inside W3C `alwaysMatch`), else the udid the Appium session reports
 * (a driver that picked the only attached device).
 */
export function deviceSerial(requested: unknown, session?: unknown): string {
  const candidates: unknown[] = [];
  if (isRecord(requested)) {
    candidates.push(requestedUdid(requested));
    if (isRecord(requested.alwaysMatch)) candidates.push(requestedUdid(requested.alwaysMatch));
  }
  if (isRecord(session)) candidates.push(session['appium:udid'], session.udid);
  const udid = candidates.find((c) => c !== undefined && c !== null);
  if (udid === undefined) throw new DeviceSerialError('the session has no device serial');
  if (typeof udid !== 'string' || !SERIAL.test(udid)) throw new DeviceSerialError(`appium:udid is ${JSON.stringify(udid)}, not an adb serial`);
  return udid;
}

/** The adb server of the capabilities (`appium:adbPort`, `appium:remoteAdbHost`), when they name one. */
function capabilityAdb(requested: unknown): DeviceCaptureOptions['adb'] {
  if (!isRecord(requested)) return undefined;
  const caps = isRecord(requested.alwaysMatch) ? { ...requested.alwaysMatch, ...requested } : requested;
  const options = isRecord(caps['appium:options']) ? caps['appium:options'] : {};
  const port = caps['appium:adbPort'] ?? options.adbPort;
  const host = caps['appium:remoteAdbHost'] ?? options.remoteAdbHost;
  if (typeof port !== 'number' && typeof host !== 'string') return undefined;
  return { ...(typeof host === 'string' ? { host } : {}), ...(typeof port === 'number' ? { port } : {}) };
}

/** A capture window's name from a test's title: letters, digits, dot, dash and underscore only. */
export function windowName(title: string): string {
  return (
    title
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .slice(0, 80) || 'wdio'
  );
}

/** Whether an Allure reporter set up its test runtime in this process (allure-js-commons' global). */
export function allurePresent(): boolean {
  return typeof (globalThis as Record<string, unknown>).allureTestRuntime === 'function';
}

/**
 * Attaches a judgement (JSON) and its pcap to the current Allure test. Through allure-js-commons,
 * imported only now: the runtime it calls is the one the reporter registered, and a suite without
 * Allure never loads it. An attachment that fails is a warning, never the test's failure.
 */
export async function attachToAllure(judgement: AppJudgement, label: string): Promise<void> {
  if (!allurePresent()) return;
  try {
    const allure = await import('allure-js-commons');
    await allure.attachment(`v6lab judgement ${label}`, JSON.stringify(judgement, null, 2), { contentType: 'application/json' });
    if (judgement.evidence.pcap !== null) {
      await allure.attachmentPath(`v6lab capture ${label}.pcap`, judgement.evidence.pcap, {
        contentType: 'application/vnd.tcpdump.pcap',
        fileExtension: 'pcap',
      });
    }
  } catch (error) {
    process.emitWarning(`v6lab: the judgement of ${label} was not attached to Allure: ${(error as Error).message}`, { code: 'V6LAB_ALLURE' });
  }
}

/** What opens a device's capture (openAppCapture; a fake in unit tests). */
export type OpenCapture = (options: DeviceCaptureOptions) => Promise<AppCapture>;

/**
 * One worker's device: its capture opened on first use and closed once, the window startCapture
 * left open tracked so `close` can say its evidence is discarded.
 */
export class DeviceSession {
  #capture: Promise<AppCapture> | null = null;
  /** The window startCapture opened and stopCapture has not closed, by name. */
  #openWindow: string | null = null;
  #closed = false;

  constructor(
    readonly options: DeviceCaptureOptions,
    readonly open: OpenCapture,
    /** The running test's title, to name windows after it. */
    readonly testTitle: () => string | null,
  ) {}

  get serial(): string {
    return this.options.serial;
  }

  #device(): Promise<AppCapture> {
    if (this.#closed) return Promise.reject(new Error(`v6lab: the capture of ${this.serial} is closed (the session ended)`));
    if (this.#capture === null) {
      log('opening the capture of %s', this.serial);
      const opening = this.open(this.options);
      this.#capture = opening;
      // A device that could not be opened (adb down, no capture method) is tried again on next use.
      opening.catch(() => {
        if (this.#capture === opening) this.#capture = null;
      });
    }
    return this.#capture;
  }

  #name(given: string | undefined, pkg: string | undefined): string {
    if (given !== undefined) return given;
    const title = this.testTitle();
    return windowName([title, pkg].filter((part): part is string => typeof part === 'string' && part !== '').join(' '));
  }

  async judgeApp(pkg: string, steps: () => Promise<void>, options: { name?: string; policy?: JudgePolicy } = {}): Promise<AppJudgement> {
    if (typeof pkg !== 'string' || pkg === '')
      throw new TypeError(`browser.v6lab.judgeApp(pkg, steps): pkg is an installed package such as com.example.app, got ${JSON.stringify(pkg)}`);
    if (typeof steps !== 'function') throw new TypeError('browser.v6lab.judgeApp(pkg, steps): steps is an async function with the test’s own steps');
    const capture = await this.#device();
    const judgement = await capture.judgeApp(pkg, steps, { ...options, name: this.#name(options.name, pkg) });
    await attachToAllure(judgement, pkg);
    return judgement;
  }

  async startCapture(pkg?: string, options: { name?: string; policy?: JudgePolicy } = {}): Promise<void> {
    if (pkg !== undefined && (typeof pkg !== 'string' || pkg === '')) {
      throw new TypeError(`browser.v6lab.startCapture(pkg): pkg is an installed package such as com.example.app, or undefined, got ${JSON.stringify(pkg)}`);
    }
    const capture = await this.#device();
    const window = this.#name(options.name, pkg);
    await capture.startCapture(pkg, window, options.policy);
    this.#openWindow = window;
  }

  async stopCapture(): Promise<AppJudgement> {
    if (this.#openWindow === null || this.#capture === null) throw new NoCaptureWindowError(this.serial);
    const capture = await this.#capture;
    let judgement: AppJudgement;
    try {
      judgement = await capture.stopCapture();
    } finally {
      this.#openWindow = null;
    }
    await attachToAllure(judgement, judgement.app.package ?? this.serial);
    return judgement;
  }

  async observeNetwork(): Promise<NetworkFacts> {
    return (await this.#device()).observeNetwork();
  }

  /** Closes the capture once; a window left open is stopped, its evidence discarded, with a warning saying so. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const opening = this.#capture;
    this.#capture = null;
    if (opening === null) return;
    const capture = await opening.catch(() => null);
    if (capture === null) return;
    if (this.#openWindow !== null) {
      process.emitWarning(
        `v6lab: the capture window "${this.#openWindow}" on ${this.serial} was still open when the session ended: it was stopped and its evidence discarded (call browser.v6lab.stopCapture() to judge it)`,
        { code: 'V6LAB_WINDOW_DISCARDED' },
      );
      this.#openWindow = null;
    }
    await capture.close();
  }

  /** `browser.v6lab`: the methods bound, so `const { judgeApp } = browser.v6lab` works too. */
  api(): V6labBrowserApi {
    return {
      serial: this.serial,
      judgeApp: (pkg, steps, options) => this.judgeApp(pkg, steps, options),
      startCapture: (pkg, options) => this.startCapture(pkg, options),
      stopCapture: () => this.stopCapture(),
      observeNetwork: () => this.observeNetwork(),
    };
  }
}

/** `browser.v6lab` of a session v6lab cannot capture: every call fails with why. */
function unusableApi(error: Error): V6labBrowserApi {
  const fail = () => Promise.reject(error);
  return {
    get serial(): string {
      throw error;
    },
    judgeApp: fail,
    startCapture: fail,
    stopCapture: fail,
    observeNetwork: fail,
  };
}

/** The launcher half: runs once per run, before any worker, and stops the run on bad options. */
export class V6labLauncher implements Services.ServiceInstance {
  /** The options checked (empty when they are unusable). */
  readonly options: V6labServiceOptions;
  /** Why the options are unusable, or null. */
  readonly optionsError: DataFileError | null;

  constructor(
    options: unknown,
    readonly capabilities?: Capabilities.ResolvedTestrunnerCapabilities,
    // WebdriverIO passes the whole testrunner config; ServiceClass types it Options.WebdriverIO,
    // and a narrower type here makes `services: [[V6labService, {...}]]` fail to type-check.
    readonly config?: Options.WebdriverIO,
  ) {
    let parsed: V6labServiceOptions = {};
    let error: DataFileError | null = null;
    try {
      parsed = parseServiceOptions(options);
    } catch (e) {
      if (!(e instanceof DataFileError)) throw e;
      error = e;
    }
    this.options = parsed;
    this.optionsError = error;
  }

  /** Bad options doom every test that uses browser.v6lab: the run stops once, saying which field. */
  onPrepare(): void {
    if (this.optionsError !== null) throw new SevereServiceError(this.optionsError.message);
  }
}

/** The worker half (and, in the class form, the launcher half too): `browser.v6lab` for each session. */
export default class V6labService extends V6labLauncher {
  #session: DeviceSession | null = null;
  #testTitle: string | null = null;
  /** What opens the capture; openAppCapture unless a test gives a fake. */
  protected openCapture: OpenCapture = openAppCapture;

  async before(
    capabilities: Capabilities.RequestedStandaloneCapabilities | Capabilities.RequestedMultiremoteCapabilities,
    _specs: string[],
    browser: WebdriverIO.Browser,
  ): Promise<void> {
    let api: V6labBrowserApi;
    try {
      if (this.optionsError !== null) throw this.optionsError;
      if ((browser as { isMultiremote?: boolean }).isMultiremote === true) {
        throw new Error('v6lab: multiremote sessions are not supported: give each device its own capability (one worker each)');
      }
      const serial = deviceSerial(browser.requestedCapabilities ?? capabilities, browser.capabilities);
      const options = this.options;
      const adb = options.adb ?? capabilityAdb(browser.requestedCapabilities ?? capabilities);
      this.#session = new DeviceSession(
        {
          ...options.capture,
          serial,
          ...(adb === undefined ? {} : { adb }),
          ...(options.evidenceDir === undefined ? {} : { evidenceDir: options.evidenceDir }),
          ...(options.policy === undefined ? {} : { policy: options.policy }),
        },
        this.openCapture,
        () => this.#testTitle,
      );
      api = this.#session.api();
      log('browser.v6lab for %s', serial);
    } catch (error) {
      // Hooks' errors are only logged by WebdriverIO: the test that calls browser.v6lab gets it.
      log('browser.v6lab unusable: %s', (error as Error).message);
      api = unusableApi(error as Error);
    }
    Object.defineProperty(browser, 'v6lab', { value: api, configurable: true, enumerable: false, writable: false });
  }

  beforeTest(test: Frameworks.Test): void {
    // Mocha passes the suite's title as `parent` (a string) and no fullName; Jasmine the reverse.
    const parts = typeof test.fullName === 'string' ? [test.fullName] : [test.parent, test.title];
    this.#testTitle = parts.filter((p) => typeof p === 'string' && p !== '').join(' ') || null;
  }

  afterTest(): void {
    this.#testTitle = null;
  }

  async after(): Promise<void> {
    await this.#session?.close();
  }
}

/** The launcher half alone, for `services: [['/path/to/dist/wdio/service.js', {...}]]`. */
export const launcher = V6labLauncher;
