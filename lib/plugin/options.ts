/**
 * What the v6lab Appium plugin is told, checked before anything reaches a device: its settings
 * from Appium's command line or config file (the `appium.schema` of plugins/v6lab/package.json;
 * they arrive as the plugin's `cliArgs`), the arguments of each `v6lab: ...` execute method, and
 * which device a session drives. Pure: no Appium, no adb.
 *
 * Where a setting may come from is a security decision. The capture methods, the gateway's capture
 * command and the evidence directory name commands and paths on the host that runs Appium, so only
 * whoever starts Appium sets them; a client (any W3C client, maybe on another machine) names only
 * the package, the window's name and the policy it is judged under.
 */
import { resolve } from 'node:path';
import type { CaptureOptions, DeviceCaptureOptions, JudgePolicy } from '../api/types.js';
import { array, DataFileError, integer, number, object, oneOf, type Schema, string } from '../config/schema.js';
import { CAPTURE_METHODS } from '../device/profile.js';

/** The plugin's settings from Appium's command line or config file, resolved. */
export interface PluginSettings extends CaptureOptions {
  /** Absolute; absent: the API's default (`v6lab-evidence` under Appium's working directory). */
  evidenceDir?: string;
  /** The server's policy; a `startCapture` call may override either field. */
  policy: JudgePolicy;
}

/** What names the plugin's settings in an error: where they are given. */
export const SETTINGS_SOURCE = 'the v6lab plugin settings (appium --plugin-v6lab-*, or server.plugin.v6lab in an Appium config file)';

const path = (what: string) => string({ pattern: /^\S/, maxLength: 4096, what });
const minIpv6Share = number(0, 1);
// Ten minutes: a fallback slower than any window a test would hold open is a typo, not a policy.
const slowFallbackMs = integer(0, 600_000);

const settingsSchema = object(
  {},
  {
    captureMethods: array(oneOf(CAPTURE_METHODS), { min: 1, max: CAPTURE_METHODS.length }),
    gateway: path("a v6lab gateway's state directory"),
    gatewayCapture: array(string({ maxLength: 4096 }), { min: 1, max: 64 }),
    emulatorCapture: path("the file the emulator's -tcpdump writes"),
    evidenceDir: path('a directory for pcaps and judgements'),
    minIpv6Share,
    slowFallbackMs,
  },
);

/**
 * The settings Appium hands the plugin (`this.cliArgs`), checked and with paths made absolute
 * against `cwd` (Appium's working directory). Throws DataFileError naming the setting.
 */
export function parsePluginSettings(cliArgs: Readonly<Record<string, unknown>>, cwd: string): PluginSettings {
  // Appium may pass a setting nobody gave as undefined; absent and undefined mean the same here.
  const given = Object.fromEntries(Object.entries(cliArgs).filter(([, value]) => value !== undefined));
  const parsed = settingsSchema(given, '', SETTINGS_SOURCE);
  if (parsed.gateway !== undefined && parsed.gatewayCapture !== undefined) {
    throw new DataFileError(SETTINGS_SOURCE, 'gateway', 'give gateway (a v6lab gateway on this host) or gatewayCapture (a command printing pcap), not both');
  }
  const settings: PluginSettings = { policy: policyOf(parsed) };
  if (parsed.captureMethods !== undefined) settings.methods = parsed.captureMethods;
  if (parsed.gateway !== undefined) settings.gatewayCapture = { gateway: resolve(cwd, parsed.gateway) };
  if (parsed.gatewayCapture !== undefined) settings.gatewayCapture = parsed.gatewayCapture;
  if (parsed.emulatorCapture !== undefined) settings.emulatorCapture = resolve(cwd, parsed.emulatorCapture);
  if (parsed.evidenceDir !== undefined) settings.evidenceDir = resolve(cwd, parsed.evidenceDir);
  return settings;
}

const policyOf = (given: JudgePolicy): JudgePolicy => ({
  ...(given.minIpv6Share === undefined ? {} : { minIpv6Share: given.minIpv6Share }),
  ...(given.slowFallbackMs === undefined ? {} : { slowFallbackMs: given.slowFallbackMs }),
});

// An Android application id: at least two segments, each a Java identifier (com.example.shop).
const PACKAGE = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/;
// A window's name ends up in evidence file names: letters, digits and . _ - only.
const WINDOW_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

/** What `v6lab: startCapture` takes. */
export interface StartCaptureArgs {
  /** The app whose flows are judged (attributed by its uid); absent: the whole device, by time window. */
  package?: string;
  /** The window's name in the evidence files. */
  name?: string;
  /** Overrides the server's policy for this window. */
  minIpv6Share?: number;
  slowFallbackMs?: number;
}

/** `{}` only: a method that takes no arguments names the first key it was given. */
const noArguments: Schema<Record<never, never>> = (value, field, file) => {
  // Anything but an object gets the combinator's "expected an object, got ...".
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return object({}, {})(value, field, file);
  const [key] = Object.keys(value);
  if (key !== undefined) throw new DataFileError(file, key, 'unknown field: this method takes no arguments');
  return {};
};

/** Each execute method's arguments, in the order Appium passes them to the command (required, then optional). */
export const EXECUTE_ARGS = {
  'v6lab: startCapture': object(
    {},
    {
      package: string({ pattern: PACKAGE, maxLength: 255, what: 'an Android package name such as com.example.shop' }),
      name: string({ pattern: WINDOW_NAME, what: 'a name of letters, digits, ".", "_" and "-" (at most 80)' }),
      minIpv6Share,
      slowFallbackMs,
    },
  ) satisfies Schema<StartCaptureArgs>,
  'v6lab: stopCapture': noArguments,
  'v6lab: observeNetwork': noArguments,
} as const;

export type ExecuteScript = keyof typeof EXECUTE_ARGS;

export const isV6labScript = (script: string): script is ExecuteScript => Object.hasOwn(EXECUTE_ARGS, script);

/**
 * The arguments of a `v6lab: ...` call as W3C execute gives them (`args`: none, or one object),
 * checked. Appium's own check drops an unknown key with a log line; here it is an error, so that
 * `{"pakage": ...}` does not judge the whole device in silence. Throws DataFileError.
 */
export function parseExecuteArgs<S extends ExecuteScript>(script: S, args: readonly unknown[]): ReturnType<(typeof EXECUTE_ARGS)[S]> {
  const where = 'arguments';
  if (args.length > 1) throw new DataFileError(where, '', `expected none or one object, got ${args.length} arguments`);
  return EXECUTE_ARGS[script](args[0] ?? {}, '', where) as ReturnType<(typeof EXECUTE_ARGS)[S]>;
}

/** What a `startCapture` call overrides of the server's policy for its window; undefined: nothing. */
export function windowPolicy(call: StartCaptureArgs): JudgePolicy | undefined {
  const policy = policyOf(call);
  return Object.keys(policy).length === 0 ? undefined : policy;
}

/** The device a session drives: its adb serial, and the adb server its driver was told of. */
export interface SessionDevice {
  serial: string;
  adb?: DeviceCaptureOptions['adb'];
}

export const SESSION_CAPABILITIES = "the session's capabilities";

/**
 * The device of a session from its driver's options (its capabilities merged with the server's
 * arguments): `udid`, set by the client or, for UiAutomator2, by the driver when it picked a
 * device; `adbPort` and `remoteAdbHost` as UiAutomator2 and v6lab-virtual name them. Throws
 * DataFileError naming the capability.
 */
export function sessionDevice(opts: Readonly<Record<string, unknown>>): SessionDevice {
  const udid = opts.udid;
  if (typeof udid !== 'string' || udid.trim() === '') {
    throw new DataFileError(
      SESSION_CAPABILITIES,
      'appium:udid',
      `${udid === undefined ? 'missing' : `expected an adb serial, got ${JSON.stringify(udid)}`}: the v6lab plugin captures the device named by appium:udid; start the session with "appium:udid" set to its serial as \`adb devices\` lists it`,
    );
  }
  const adb: NonNullable<SessionDevice['adb']> = {};
  if (opts.adbPort !== undefined) adb.port = integer(1, 65535)(opts.adbPort, 'appium:adbPort', SESSION_CAPABILITIES);
  if (opts.remoteAdbHost !== undefined)
    adb.host = string({ maxLength: 255, what: 'a host name or address' })(opts.remoteAdbHost, 'appium:remoteAdbHost', SESSION_CAPABILITIES);
  return Object.keys(adb).length === 0 ? { serial: udid } : { serial: udid, adb };
}
