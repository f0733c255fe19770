/**
 * An Appium 3 driver for the lab's virtual handsets (automationName `V6labVirtual`), installed from
 * drivers/v6lab-virtual. It reaches the handset over adb only, through the device layer, exactly
 * as a phone is reached: nothing here asks whether the device is virtual. It implements the
 * commands the specs use; anything else is Appium's "not implemented".
 */
import { randomUUID } from 'node:crypto';
import { BaseDriver, errors, W3C_ELEMENT_KEY } from '@appium/base-driver';
import type { DefaultCreateSessionResult, DriverData, Element, W3CDriverCaps } from '@appium/types';
import { AdbkitBackend, adbClient, type DeviceBackend } from '../device/adb.js';
import { centre, hierarchyXml, parseHierarchy, type UiNode } from './hierarchy.js';

/** Capabilities beyond Appium's own (`platformName`, `automationName`). */
export const V6LAB_CONSTRAINTS = {
  /** The adb serial, e.g. `emulator-5554`. */
  udid: { presence: true, isString: true },
  /** The adb server's port (its host is always the environment's). @default ADB_SERVER_SOCKET's or ANDROID_ADB_SERVER_PORT's port, else 5037 */
  adbPort: { isNumber: true },
} as const;

type Constraints = typeof V6LAB_CONSTRAINTS;

/** The locator strategies, as UiAutomator2 reads them: exact content-desc, exact resource-id. */
const FINDERS: Record<string, (node: UiNode, selector: string) => boolean> = {
  'accessibility id': (node, selector) => node.contentDesc === selector,
  id: (node, selector) => node.resourceId === selector,
};

/** Appium's app states (the `queryAppState` contract). */
export const APP_STATE = { NOT_INSTALLED: 0, NOT_RUNNING: 1, RUNNING_IN_FOREGROUND: 4 } as const;

/** The insecure feature `mobile: shell` needs, as for UiAutomator2 (`--allow-insecure=*:adb_shell`). */
export const ADB_SHELL_FEATURE = 'adb_shell';

export class V6labVirtualDriver extends BaseDriver<Constraints> {
  static executeMethodMap = {
    'mobile: shell': { command: 'mobileShell', params: { required: ['command'], optional: ['args', 'timeout'] } },
  } as const;

  private device: DeviceBackend | null = null;
  /** Elements found in this session: id -> the node as it was when found. */
  private elements = new Map<string, UiNode>();

  constructor(opts = {} as ConstructorParameters<typeof BaseDriver>[0], shouldValidateCaps = true) {
    super(opts, shouldValidateCaps);
    this.desiredCapConstraints = V6LAB_CONSTRAINTS;
    // UiAutomator2's names: `id` is a view's resource-id (android:id/summary), the full form.
    this.locatorStrategies = ['accessibility id', 'id'];
  }

  override async createSession(
    w3cCaps1: W3CDriverCaps<Constraints>,
    w3cCaps2?: W3CDriverCaps<Constraints>,
    w3cCaps3?: W3CDriverCaps<Constraints>,
    driverData?: DriverData[],
  ): Promise<DefaultCreateSessionResult<Constraints>> {
    const result = await super.createSession(w3cCaps1, w3cCaps2, w3cCaps3, driverData);
    try {
      const device = new AdbkitBackend(adbClient(this.caps.adbPort), this.caps.udid);
      await device.ensureAvailable();
      this.device = device;
    } catch (error) {
      await super.deleteSession();
      throw new errors.SessionNotCreatedError(
        `v6lab-virtual: ${this.caps.udid} on the adb server at port ${this.caps.adbPort ?? 'default'}: ${(error as Error).message}`,
      );
    }
    return result;
  }

  override async deleteSession(sessionId?: string | null): Promise<void> {
    this.device = null;
    this.elements.clear();
    await super.deleteSession(sessionId);
  }

  private get adb(): DeviceBackend {
    if (this.device === null) throw new errors.NoSuchDriverError('no device: the session is not started');
    return this.device;
  }

  async execute(script: string, args: unknown[]): Promise<unknown> {
    return await this.executeMethod(script, args as [Record<string, unknown>]);
  }

  /** `mobile: shell` ({command, args}): the command's output, as UiAutomator2 gives it. */
  async mobileShell(command: string, args: unknown[] = [], timeout?: number): Promise<string> {
    this.assertFeatureEnabled(ADB_SHELL_FEATURE);
    if (!Array.isArray(args)) args = [args];
    return await this.adb.runOk([command, ...(args as unknown[]).map(String)], timeout === undefined ? {} : { timeoutMs: timeout });
  }

  async activateApp(appId: string): Promise<void> {
    const output = await this.adb.runOk(['am', 'start', '-W', '-n', `${appId}/.MainActivity`]);
    // am reports a failed start on stdout with exit 0: "Error: Activity class {...} does not exist."
    if (/^Error/m.test(output)) throw new errors.UnknownError(`activateApp ${appId}: ${output.trim()}`);
  }

  /** As UiAutomator2's: false when the app is not running, else force-stopped and true. One device round trip. */
  async terminateApp(appId: string): Promise<boolean> {
    const { exitCode, output } = await this.adb.run(['sh', '-c', 'pidof "$1" >/dev/null || exit 3; am force-stop "$1"', 'sh', appId]);
    if (exitCode === 3) return false;
    if (exitCode !== 0) throw new errors.UnknownError(`terminateApp ${appId}: am force-stop exited ${exitCode}: ${output.trim()}`);
    return true;
  }

  async isAppInstalled(appId: string): Promise<boolean> {
    // package:/data/app/com.example.news-1/base.apk
    const { output, exitCode } = await this.adb.run(['pm', 'path', appId]);
    return exitCode === 0 && /^package:/m.test(output);
  }

  async queryAppState(appId: string): Promise<number> {
    // pidof prints the pids and exits 0, or prints nothing and exits 1.
    const { output, exitCode } = await this.adb.run(['pidof', appId]);
    if (exitCode === 0 && /\d/.test(output)) return APP_STATE.RUNNING_IN_FOREGROUND;
    return (await this.isAppInstalled(appId)) ? APP_STATE.NOT_RUNNING : APP_STATE.NOT_INSTALLED;
  }

  /**
   * W3C "navigate to" (WebdriverIO's `browser.url()`): the device's browser opens `url`, by the
   * VIEW intent UiAutomator2 sends in a native context (appium-adb's startUri).
   */
  async setUrl(url: string): Promise<void> {
    let scheme: string | null = null;
    try {
      const parsed = new URL(url);
      if (parsed.hostname !== '') scheme = parsed.protocol;
    } catch {
      // not a URL at all
    }
    if (scheme !== 'http:' && scheme !== 'https:')
      throw new errors.InvalidArgumentError(`setUrl: ${JSON.stringify(url)} is not an http or https URL with a host`);
    const { output, exitCode } = await this.adb.run(['am', 'start', '-W', '-a', 'android.intent.action.VIEW', '-d', url]);
    // "Error: Activity not started, unable to resolve Intent { act=android.intent.action.VIEW ... }"
    if (exitCode !== 0 || /unable to resolve intent/i.test(output)) throw new errors.UnknownError(`setUrl ${url}: ${output.trim()}`);
  }

  override async getPageSource(): Promise<string> {
    return hierarchyXml(await this.adb.runOk(['uiautomator', 'dump', '/dev/tty']));
  }

  override async findElOrEls(strategy: string, selector: string, mult: true, context?: string): Promise<Element[]>;
  override async findElOrEls(strategy: string, selector: string, mult: false, context?: string): Promise<Element>;
  override async findElOrEls(strategy: string, selector: string, mult: boolean): Promise<Element | Element[]> {
    const matches = FINDERS[strategy];
    if (matches === undefined) throw new errors.InvalidSelectorError(`v6lab-virtual finds by ${Object.keys(FINDERS).join(' or ')} only, not ${strategy}`);
    const find = async () => parseHierarchy(await this.getPageSource()).filter((node) => matches(node, selector));
    let found = await find();
    if (found.length === 0 && this.implicitWaitMs > 0) {
      await this.implicitWaitForCondition(async () => (found = await find()).length > 0);
    }
    const elements = found.map((node) => {
      const id = randomUUID();
      this.elements.set(id, node);
      return { [W3C_ELEMENT_KEY]: id } as Element;
    });
    if (mult) return elements;
    if (elements.length === 0) throw new errors.NoSuchElementError(`no element with ${strategy} ${JSON.stringify(selector)}`);
    return elements[0]!;
  }

  /** The element's text as it was when found. */
  async getText(elementId: string): Promise<string> {
    return this.element(elementId).text;
  }

  /** The attributes UiAutomator2 answers from the hierarchy, as strings ("true"/"false"); null for one it does not know. */
  async getAttribute(name: string, elementId: string): Promise<string | null> {
    const node = this.element(elementId);
    const attributes: Record<string, string> = {
      text: node.text,
      'content-desc': node.contentDesc,
      contentDescription: node.contentDesc,
      'resource-id': node.resourceId,
      resourceId: node.resourceId,
      class: node.className,
      className: node.className,
      package: node.packageName,
      clickable: String(node.clickable),
      checkable: String(node.checkable),
      checked: String(node.checked),
      bounds: `[${node.bounds[0]},${node.bounds[1]}][${node.bounds[2]},${node.bounds[3]}]`,
    };
    return attributes[name] ?? null;
  }

  /** W3C element rect: where the element is on screen. */
  async getElementRect(elementId: string): Promise<{ x: number; y: number; width: number; height: number }> {
    const [left, top, right, bottom] = this.element(elementId).bounds;
    return { x: left, y: top, width: right - left, height: bottom - top };
  }

  /** An element this session found; a NoSuchElementError otherwise. */
  private element(elementId: string) {
    const node = this.elements.get(elementId);
    if (node === undefined) throw new errors.NoSuchElementError(`element ${elementId} was not found in this session`);
    return node;
  }

  async click(elementId: string): Promise<void> {
    const [x, y] = centre(this.element(elementId).bounds);
    await this.adb.runOk(['input', 'tap', String(x), String(y)]);
  }

  /**
   * Types into an element as UiAutomator2's setValue does for a user: a tap to focus it, then
   * `input text` (which reads `%s` as a space and takes printable ASCII only).
   */
  async setValue(value: string | string[], elementId: string): Promise<void> {
    const text = Array.isArray(value) ? value.join('') : value;
    if (!/^[\x20-\x7e]*$/.test(text) || text.includes('%s')) {
      throw new errors.InvalidArgumentError(`setValue: \`input text\` types printable ASCII without "%s" only, got ${JSON.stringify(text)}`);
    }
    await this.click(elementId);
    if (text !== '') await this.adb.runOk(['input', 'text', text.replaceAll(' ', '%s')]);
  }

  /** Clears what was typed into an element (WebdriverIO's setValue clears first); the emulated pages keep no text. */
  async clear(elementId: string): Promise<void> {
    this.element(elementId);
  }

  async back(): Promise<void> {
    await this.adb.runOk(['input', 'keyevent', 'KEYCODE_BACK']);
  }

  /** The device's time as `date` prints it (ISO 8601 with offset); a `format` argument is ignored. */
  async getDeviceTime(): Promise<string> {
    return (await this.adb.runOk(['date', '+%Y-%m-%dT%H:%M:%S%z'])).trim();
  }
}

export default V6labVirtualDriver;
