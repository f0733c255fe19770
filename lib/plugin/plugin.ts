/**
 * The v6lab Appium 3 plugin (`appium --use-plugins=v6lab`, installed from plugins/v6lab): execute
 * methods any W3C client can call (Java, Python, WebdriverIO, curl) to judge an app's IPv6 from
 * inside its own suite, on the host that runs Appium and reaches the device over adb:
 *
 *   `v6lab: startCapture` {package?, name?, minIpv6Share?, slowFallbackMs?}  opens a capture window
 *   `v6lab: stopCapture` {}     closes it and returns the AppJudgement (lib/api/types.ts)
 *   `v6lab: observeNetwork` {}  the device's NetworkFacts
 *
 * The judgement is the programmatic API's (openAppCapture), so the same one certify makes. Appium
 * makes one plugin instance per session, so the session's capture and its open window are instance
 * fields; ending the session, however it ends, closes the capture.
 */
import type { ExecuteMethodMap, ExternalDriver, NextPluginCallback } from '@appium/types';
import { errors } from 'appium/driver.js';
import { BasePlugin } from 'appium/plugin.js';
import { openAppCapture } from '../api/capture.js';
import { observeDevice } from '../api/observe.js';
import type { AppCapture, AppJudgement, DeviceCaptureOptions, NetworkFacts } from '../api/types.js';
import { DataFileError } from '../config/schema.js';
import { isV6labScript, type PluginSettings, parseExecuteArgs, parsePluginSettings, type SessionDevice, sessionDevice, windowPolicy } from './options.js';

/** What the plugin asks of the programmatic API; a unit test gives a fake. */
export interface PluginDeviceApi {
  openAppCapture(options: DeviceCaptureOptions): Promise<AppCapture>;
  observeDevice(serial: string, adb?: DeviceCaptureOptions['adb']): Promise<NetworkFacts>;
}

const DEVICE_API: PluginDeviceApi = { openAppCapture, observeDevice };

/** What `v6lab: startCapture` answers. */
export interface CaptureStarted {
  serial: string;
  package: string | null;
  name: string | null;
}

/** The session's capture, opened by its first `startCapture`; `capture` settles once it is open. */
interface SessionCapture {
  serial: string;
  capture: Promise<AppCapture>;
}

export class V6labPlugin extends BasePlugin {
  // Appium lists these (GET /session/:id/appium/extensions) and dispatches through executeMethod,
  // which passes `optional` in this order after (next, driver).
  static override executeMethodMap = {
    'v6lab: startCapture': {
      command: 'startCapture',
      params: { optional: ['package', 'name', 'minIpv6Share', 'slowFallbackMs'] },
    },
    'v6lab: stopCapture': { command: 'stopCapture' },
    'v6lab: observeNetwork': { command: 'observeNetwork' },
  } as const satisfies ExecuteMethodMap<V6labPlugin>;

  readonly #api: PluginDeviceApi;
  /** Checked when the session's first v6lab method runs, so a bad setting fails that call, naming the setting. */
  #settings: PluginSettings | null = null;
  // One capture for the session, as certify keeps one per device: the servers the device talks to
  // on its own are learnt across its windows, and the device is probed and its clock measured once.
  #session: SessionCapture | null = null;
  /** The open window's package (null: the whole device); undefined: no window open. */
  #window: { package: string | null } | undefined;

  constructor(name: string, cliArgs: Record<string, unknown> = {}, driverId: string | null = null, api: PluginDeviceApi = DEVICE_API) {
    super(name, cliArgs, driverId);
    this.#api = api;
  }

  /** POST /session/:id/execute/sync. A script that is not v6lab's goes on to the next plugin or the driver. */
  async execute(next: NextPluginCallback, driver: ExternalDriver, script: string, args: readonly unknown[]): Promise<unknown> {
    if (isV6labScript(script)) {
      try {
        parseExecuteArgs(script, args);
      } catch (error) {
        throw toW3c(error, script);
      }
    }
    return await this.executeMethod(next, driver, script, args);
  }

  async startCapture(
    _next: NextPluginCallback,
    driver: ExternalDriver,
    pkg?: string,
    name?: string,
    minIpv6Share?: number,
    slowFallbackMs?: number,
  ): Promise<CaptureStarted> {
    const script = 'v6lab: startCapture';
    const { settings, device } = this.#prepare(driver, script);
    if (this.#window !== undefined) {
      throw new errors.UnknownError(
        `v6lab: a capture window is already open on ${device.serial} (package ${this.#window.package ?? 'none'}): call "v6lab: stopCapture" first`,
      );
    }
    // Taken before the first await, so a second start meanwhile is refused.
    const window = { package: pkg ?? null };
    this.#window = window;
    try {
      const capture = await this.#sessionCapture(settings, device);
      this.log.info(`v6lab: capture window on ${device.serial} for ${pkg ?? 'the whole device'}`);
      await capture.startCapture(pkg, name, windowPolicy({ minIpv6Share, slowFallbackMs }));
    } catch (error) {
      if (this.#window === window) this.#window = undefined;
      throw toW3c(error, script, device.serial);
    }
    return { serial: device.serial, package: pkg ?? null, name: name ?? null };
  }

  async stopCapture(_next: NextPluginCallback, _driver: ExternalDriver): Promise<AppJudgement> {
    const script = 'v6lab: stopCapture';
    const session = this.#session;
    if (this.#window === undefined || session === null) {
      throw new errors.UnknownError('v6lab: no capture window is open in this session: call "v6lab: startCapture" first');
    }
    this.#window = undefined;
    try {
      const judgement = await (await session.capture).stopCapture();
      this.log.info(`v6lab: ${session.serial} ${judgement.app.package ?? 'whole device'}: ${judgement.verdict}, evidence ${judgement.evidence.pcap ?? 'none'}`);
      return judgement;
    } catch (error) {
      throw toW3c(error, script, session.serial);
    }
  }

  async observeNetwork(_next: NextPluginCallback, driver: ExternalDriver): Promise<NetworkFacts> {
    const script = 'v6lab: observeNetwork';
    const { device } = this.#prepare(driver, script);
    try {
      return await this.#api.observeDevice(device.serial, device.adb);
    } catch (error) {
      throw toW3c(error, script, device.serial);
    }
  }

  /** The session ends: its capture is closed (an open window's evidence discarded) before the driver lets the device go. */
  async deleteSession(next: NextPluginCallback, _driver: ExternalDriver, ..._args: unknown[]): Promise<unknown> {
    await this.#closeCapture('the session was deleted');
    return await next();
  }

  // Not `override`: BasePlugin does not declare it. Appium calls it when the driver's session dies
  // (the device went away, the server got SIGTERM) and deleteSession will not come.
  async onUnexpectedShutdown(_driver: ExternalDriver, cause: Error | string): Promise<void> {
    await this.#closeCapture(`the session ended unexpectedly (${cause instanceof Error ? cause.message : cause})`);
  }

  #prepare(driver: ExternalDriver, script: string): { settings: PluginSettings; device: SessionDevice } {
    try {
      this.#settings ??= parsePluginSettings(this.cliArgs, process.cwd());
      // Driver options hold driver-specific capabilities (adbPort, remoteAdbHost) the base types do not name.
      return { settings: this.#settings, device: sessionDevice(driver.opts as unknown as Record<string, unknown>) };
    } catch (error) {
      throw toW3c(error, script);
    }
  }

  /** The session's capture, opened on first use; an open that failed is forgotten, so the next start tries again. */
  async #sessionCapture(settings: PluginSettings, device: SessionDevice): Promise<AppCapture> {
    if (this.#session === null) {
      const { policy, ...capture } = settings;
      this.log.info(`v6lab: opening a capture of ${device.serial}`);
      const session: SessionCapture = { serial: device.serial, capture: this.#api.openAppCapture({ ...capture, ...device, policy }) };
      this.#session = session;
      session.capture.catch(() => {
        if (this.#session === session) this.#session = null;
      });
    }
    return await this.#session.capture;
  }

  async #closeCapture(why: string): Promise<void> {
    const session = this.#session;
    const window = this.#window;
    this.#session = null;
    this.#window = undefined;
    if (session === null) return;
    try {
      await (await session.capture).close();
      if (window === undefined) this.log.info(`v6lab: ${why}: the capture of ${session.serial} is closed`);
      else
        this.log.warn(`v6lab: ${why} with a capture window open on ${session.serial}: closed, its evidence discarded (call "v6lab: stopCapture" to judge it)`);
    } catch (error) {
      // An open that failed was reported to its caller; a close that fails must not stop the session ending.
      this.log.warn(`v6lab: ${why}; closing the capture of ${session.serial}: ${String(error)}`);
    }
  }
}

/**
 * An error as the W3C client should see it: a bad argument, setting or capability is `invalid
 * argument` (HTTP 400) naming it; anything else (the device, the capture) is `unknown error` with
 * what failed, on which serial, and the cause's own message.
 */
function toW3c(error: unknown, script: string, serial?: string): Error {
  if (error instanceof DataFileError) return new errors.InvalidArgumentError(`${script}: ${error.message}`, error);
  const cause = error instanceof Error ? error : new Error(String(error));
  return new errors.UnknownError(`${script}${serial === undefined ? '' : ` on ${serial}`}: ${cause.message}`, cause);
}
