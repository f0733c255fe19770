/**
 * Device profiles (devices/*.json): what the harness needs to certify one device, real or
 * virtual, validated on load with errors that name the file and the field.
 *
 *   { "name": "pixel7-cmcc", "serial": "2B121FDH300ABC",
 *     "appium": { "url": "http://127.0.0.1:4723", "capabilities": { "appium:automationName": "UiAutomator2" } },
 *     "capture": ["device", "gateway"],   (or "emulator", "pcapdroid")
 *     "gatewayCapture": ["ssh", "lab-gw", "tcpdump", "-i", "apn0", "-U", "-w", "-"],
 *                       (or { "gateway": "/run/v6lab-gateway" }: a `v6lab gateway` on this host)
 *     "emulatorCapture": "/var/tmp/avd-pixel7.pcap",   (the emulator's -tcpdump FILE)
 *     "networks": { "ipv6": { "apn": "ipv6.cmcc" }, "ipv4v6": { "apn": "cmnet" } },   (or { "wifi": "SSID" }, { "gateway": DIR })
 *     "apnSwitch": "content" | "manual" | "settings-ui",
 *     "resolverProbeUrl": "https://dual.example/", "ipv4OnlyProbeUrl": "http://192.0.2.80/",
 *     "backgroundHosts": ["connectivitycheck.gstatic.com", "time.android.com"],
 *     "catalogue": "catalogues/china-top30.json",
 *     "policy": { "minIpv6Share": 0.7, "slowFallbackMs": 2000 } }
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkedAgainst, json } from '../config/json-schema.js';
import { array, DataFileError, integer, loadJsonFile, number, object, oneOf, record, string, type Schema } from '../config/schema.js';

export type CaptureMethod = 'device' | 'gateway' | 'emulator' | 'pcapdroid';
export const CAPTURE_METHODS: readonly CaptureMethod[] = ['device', 'gateway', 'emulator', 'pcapdroid'];

/**
 * How the harness moves a device between APNs: `content` edits the APN table over adb (it needs
 * root, or a table the shell may write), `manual` asks a person on certify's terminal, and
 * `settings-ui` selects the APN in Android's own Settings through Appium, as a person would (a
 * retail phone: no root, a closed APN table).
 */
export type ApnSwitch = 'content' | 'manual' | 'settings-ui';
export const APN_SWITCHES: readonly ApnSwitch[] = ['content', 'manual', 'settings-ui'];

/**
 * A network a profile certifies: an APN of the mobile network, or a Wi-Fi network by its SSID
 * (joined with `cmd wifi connect-network` where Android has it, Android 11 and later; a network
 * already saved on the device otherwise).
 */
export type NetworkTarget = { apn: string } | { wifi: string } | { gateway: string };

/** `APN ipv6.cmcc`, `Wi-Fi "lab-v6only"` or `the v6lab gateway of /run/v6lab-gateway`: a target in words. */
export function describeTarget(target: NetworkTarget): string {
  if ('gateway' in target) return `the v6lab gateway of ${target.gateway}`;
  return 'wifi' in target ? `Wi-Fi "${target.wifi}"` : `APN ${target.apn}`;
}

const APN = /^[A-Za-z0-9.-]{1,100}$/;
// SSIDs are 1 to 32 bytes; printable ASCII here, as the harness passes it in argv and dumpsys quotes it.
const SSID = /^[ -~]{1,32}$/;
const NOT_BLANK = /^\S/;
const apnTarget = object({ apn: string({ pattern: APN, what: 'an APN name' }) });
const wifiTarget = object({ wifi: string({ pattern: SSID, what: 'an SSID of 1 to 32 printable ASCII characters' }) });

// A `v6lab gateway`'s state directory on this host (absolute once the profile is loaded).
const gatewayTarget = object({ gateway: string({ pattern: NOT_BLANK, maxLength: 4096, what: "a v6lab gateway's state directory" }) });

/**
 * `{ "apn": NAME }`, `{ "wifi": SSID }` or `{ "gateway": DIR }`, one of them. A gateway network
 * is one a person connects the device to (a cable, a USB Ethernet adapter, an emulator's tap):
 * the harness moves nothing, it checks the device is there.
 */
export const networkTarget: Schema<NetworkTarget> = (value, field, file) => {
  if (value !== null && typeof value === 'object' && 'wifi' in value) return wifiTarget(value, field, file);
  if (value !== null && typeof value === 'object' && 'gateway' in value) return gatewayTarget(value, field, file);
  return apnTarget(value, field, file);
};

/** A gateway target's directory resolved against the profile's own (other targets as they are). */
function resolveTarget(target: NetworkTarget | undefined, file: string): NetworkTarget | null {
  if (target === undefined) return null;
  return 'gateway' in target ? { gateway: resolve(dirname(file), target.gateway) } : target;
}

/**
 * How strictly this device's apps are judged (the shape of the API's JudgePolicy, which this layer
 * cannot import). A field the profile leaves out stays undefined, so a command-line option can
 * set it and the judge's own default applies when neither does.
 */
export interface ProfilePolicy {
  /** Native IPv6 share of an app's bytes below which LOW_IPV6_SHARE warns (0 to 1). */
  minIpv6Share?: number;
  /** An IPv4 retry later than this (ms) after a failed IPv6 attempt is SLOW_FALLBACK. */
  slowFallbackMs?: number;
}

/** The longest fallback delay a profile may set: beyond ten minutes it is a typo (seconds for ms), not a policy. */
export const MAX_SLOW_FALLBACK_MS = 600_000;

export interface DeviceProfile {
  file: string;
  name: string;
  /** The adb serial; or `model` to pick the one connected device of that model. */
  serial: string | null;
  model: string | null;
  appium: { url: string; capabilities: Record<string, string | number | boolean> };
  capture: CaptureMethod[];
  /** A host command (argv) printing the device's traffic as pcap on stdout: a tap at the gateway or AP. */
  gatewayCapture: string[] | null;
  /** The pcap file an Android emulator started with `-tcpdump FILE` writes on this host. */
  emulatorCapture: string | null;
  networks: { ipv6: NetworkTarget | null; ipv4v6: NetworkTarget | null };
  /** How the harness moves the device between APNs (ApnSwitch). @default content */
  apnSwitch: ApnSwitch;
  /** A dual-stack URL the browser opens for os.resolver-prefers-ipv6 on a real phone. */
  resolverProbeUrl: string | null;
  /** A URL on an IPv4 literal the browser opens for apn.ipv4-via-clat. */
  ipv4OnlyProbeUrl: string | null;
  /** Hostnames the phone reaches on its own: never blamed on an app. */
  backgroundHosts: string[];
  /** The app catalogue certified on this device unless `--apps` names one (resolved against the profile's directory). */
  catalogue: string | null;
  /** The judging policy; fields absent from the profile are undefined (never filled with defaults here). */
  policy: ProfilePolicy;
}

const capability: Schema<string | number | boolean> = (value, field, file) => {
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
  throw new DataFileError(file, field, 'expected a string, number or boolean capability value');
};

const URL_PATTERN = /^https?:\/\/[^\s/]+(:\d+)?(\/\S*)?$/;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const SERIAL = /^[A-Za-z0-9._:-]{1,64}$/;
const CAPABILITY_NAME = /^([a-z]+:)?[A-Za-z][A-Za-z0-9]*$/;
const url = string({ pattern: URL_PATTERN, what: 'an http(s) URL such as http://127.0.0.1:4723' });
const hostname = string({ pattern: HOSTNAME, what: 'a hostname', maxLength: 253 });

/** The Appium server a profile names when it names none: one the harness starts on loopback. */
export const DEFAULT_APPIUM_URL = 'http://127.0.0.1:4723';

const gatewayArgv = array(string({ maxLength: 4096 }), { min: 1, max: 64 });
const gatewayState = gatewayTarget;

/** An argv array, or `{ "gateway": DIR }` for a `v6lab gateway` on this host. */
const gatewayCaptureSchema: Schema<string[] | { gateway: string }> = (value, field, file) => {
  if (Array.isArray(value)) return gatewayArgv(value, field, file);
  if (value !== null && typeof value === 'object') return gatewayState(value, field, file);
  throw new DataFileError(
    file,
    field,
    'expected an array (the argv of a command printing pcap, such as ["ssh", "gw", "tcpdump", "-U", "-w", "-"]) or { "gateway": "/run/v6lab-gateway" }',
  );
};

const profileSchema = object(
  {
    name: string({ pattern: NAME, what: 'a short lower-case name such as pixel7-cmcc' }),
    networks: object({}, { ipv6: networkTarget, ipv4v6: networkTarget }),
  },
  {
    appium: object(
      {},
      {
        url,
        capabilities: record(string({ pattern: CAPABILITY_NAME, what: 'a capability name such as appium:automationName' }), capability),
      },
    ),
    serial: string({ pattern: SERIAL, what: 'an adb serial such as emulator-5554 or 192.168.1.5:5555' }),
    model: string({ maxLength: 64 }),
    capture: array(oneOf(CAPTURE_METHODS), { min: 1, max: CAPTURE_METHODS.length }),
    gatewayCapture: gatewayCaptureSchema,
    emulatorCapture: string({ pattern: NOT_BLANK, maxLength: 4096, what: "the file the emulator's -tcpdump writes (relative to the profile)" }),
    apnSwitch: oneOf(APN_SWITCHES),
    resolverProbeUrl: url,
    ipv4OnlyProbeUrl: url,
    backgroundHosts: array(hostname, { max: 100 }),
    catalogue: string({ maxLength: 4096, what: 'a catalogue file' }),
    policy: object({}, { minIpv6Share: number(0, 1), slowFallbackMs: integer(0, MAX_SLOW_FALLBACK_MS) }),
  },
);

const jsonTarget = {
  oneOf: [
    json.object({ apn: json.string({ pattern: APN, description: 'An APN of the mobile network, such as ipv6.cmcc.' }) }),
    json.object({ wifi: json.string({ pattern: SSID, description: 'A Wi-Fi network by its SSID (1 to 32 printable ASCII characters).' }) }),
    json.object({
      gateway: json.string({
        pattern: NOT_BLANK,
        maxLength: 4096,
        description: "A v6lab gateway's state directory, relative to the profile: a network a person connects the device to.",
      }),
    }),
  ],
};
const jsonGatewayState = json.object({
  gateway: json.string({ pattern: NOT_BLANK, maxLength: 4096, description: "A v6lab gateway's state directory on this host (relative to the profile)." }),
});
const jsonUrl = (description: string) => json.string({ pattern: URL_PATTERN, description });
const capturing = (method: CaptureMethod, field: string) => ({
  if: { required: ['capture'], properties: { capture: { type: 'array', contains: { const: method } } } },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword in a plain document, never awaited
  then: { required: [field] },
});

/** schemas/device-profile.schema.json: what loadDeviceProfile accepts, for editors and other tools. */
export const DEVICE_PROFILE_SCHEMA = json.dataFile(
  'device-profile.schema.json',
  'v6lab device profile',
  'One device to certify, real or virtual (docs/certify.md). The loader also resolves relative paths against the profile.',
  json.object(
    {
      name: json.string({ pattern: NAME, description: 'A short lower-case name such as pixel7-cmcc.' }),
      networks: json.object(
        {},
        { ipv6: jsonTarget, ipv4v6: jsonTarget },
        { minProperties: 1, description: 'The networks certified: ipv6 (IPv6-only) and/or ipv4v6 (dual-stack).' },
      ),
    },
    {
      appium: json.object(
        {},
        {
          url: jsonUrl(`The Appium server; one the harness starts on loopback when absent (${DEFAULT_APPIUM_URL}).`),
          capabilities: json.record(json.string({ pattern: CAPABILITY_NAME }), { type: ['string', 'number', 'boolean'] }),
        },
      ),
      serial: json.string({ pattern: SERIAL, description: 'The adb serial, such as emulator-5554 or 192.168.1.5:5555.' }),
      model: json.string({ maxLength: 64, description: 'Instead of a serial: the one connected device of this model.' }),
      capture: json.array(json.oneOf(CAPTURE_METHODS), {
        min: 1,
        max: CAPTURE_METHODS.length,
        description: 'Capture methods in order of preference. @default ["device", "gateway"]',
      }),
      gatewayCapture: {
        description:
          'For capture "gateway": the argv of a host command printing the device\'s traffic as pcap, or { "gateway": DIR } for a v6lab gateway on this host.',
        oneOf: [json.array(json.string({ maxLength: 4096 }), { min: 1, max: 64 }), jsonGatewayState],
      },
      emulatorCapture: json.string({
        pattern: NOT_BLANK,
        maxLength: 4096,
        description: 'For capture "emulator": the file the emulator\'s -tcpdump FILE writes (relative to the profile).',
      }),
      apnSwitch: json.oneOf(APN_SWITCHES, 'How the harness moves the device between APNs. @default "content"'),
      resolverProbeUrl: jsonUrl('A dual-stack URL the browser opens for os.resolver-prefers-ipv6 on a real phone.'),
      ipv4OnlyProbeUrl: jsonUrl('A URL on an IPv4 literal the browser opens for apn.ipv4-via-clat.'),
      backgroundHosts: json.array(json.string({ pattern: HOSTNAME, maxLength: 253 }), {
        max: 100,
        description: 'Hostnames the phone reaches on its own: never blamed on an app.',
      }),
      catalogue: json.string({ maxLength: 4096, description: 'The app catalogue certified on this device unless --apps names one (relative to the profile).' }),
      policy: json.object(
        {},
        {
          minIpv6Share: json.number(0, 1, "Native IPv6 share of an app's bytes below which LOW_IPV6_SHARE warns. @default 0.7"),
          slowFallbackMs: json.integer(
            0,
            MAX_SLOW_FALLBACK_MS,
            'An IPv4 retry later than this (ms) after a failed IPv6 attempt is SLOW_FALLBACK. @default 2000',
          ),
        },
        { description: 'How strictly apps are judged on this device; command-line options override it.' },
      ),
    },
    {
      allOf: [{ anyOf: [{ required: ['serial'] }, { required: ['model'] }] }, capturing('gateway', 'gatewayCapture'), capturing('emulator', 'emulatorCapture')],
    },
  ),
);

/** This package's command line, to run `v6lab gateway capture` with the node running the harness. */
const V6LAB_BIN = fileURLToPath(new URL('../../bin/v6lab.js', import.meta.url));

/**
 * What `"gatewayCapture": { "gateway": DIR }` runs: the device link of the `v6lab gateway` whose
 * state is in DIR, as pcap on stdout (root, as the gateway itself).
 */
export function gatewayCaptureArgv(stateDir: string): string[] {
  return [process.execPath, V6LAB_BIN, 'gateway', 'capture', '--state-dir', stateDir];
}

/** What a profile must say across fields: a device to find, a network, and what each capture method needs. */
function profileRules(raw: ReturnType<typeof profileSchema>, file: string): void {
  if (raw.serial === undefined && raw.model === undefined)
    throw new DataFileError(file, 'serial', 'missing: give the adb serial, or a model to find the one connected device of that model');
  if (raw.networks.ipv6 === undefined && raw.networks.ipv4v6 === undefined)
    throw new DataFileError(file, 'networks', 'names no network: give ipv6 (the IPv6-only APN) and/or ipv4v6 (the dual-stack APN)');
  const capture = raw.capture ?? ['device', 'gateway'];
  if (capture.includes('gateway') && raw.capture !== undefined && raw.gatewayCapture === undefined) {
    throw new DataFileError(
      file,
      'gatewayCapture',
      'missing: capture "gateway" needs the host command that prints the device\'s traffic as pcap (an argv array)',
    );
  }
  if (capture.includes('emulator') && raw.emulatorCapture === undefined) {
    throw new DataFileError(file, 'emulatorCapture', 'missing: capture "emulator" needs the file the emulator writes (start it with -tcpdump FILE)');
  }
}

export function loadDeviceProfile(file: string): DeviceProfile {
  const raw = loadJsonFile(file, checkedAgainst(DEVICE_PROFILE_SCHEMA, profileSchema, profileRules));
  const capture: CaptureMethod[] = [...new Set<CaptureMethod>(raw.capture ?? ['device', 'gateway'])];
  return {
    file,
    name: raw.name,
    serial: raw.serial ?? null,
    model: raw.model ?? null,
    appium: { url: raw.appium?.url ?? DEFAULT_APPIUM_URL, capabilities: raw.appium?.capabilities ?? {} },
    capture,
    gatewayCapture:
      raw.gatewayCapture === undefined
        ? null
        : Array.isArray(raw.gatewayCapture)
          ? raw.gatewayCapture
          : gatewayCaptureArgv(resolve(dirname(file), raw.gatewayCapture.gateway)),
    emulatorCapture: raw.emulatorCapture === undefined ? null : resolve(dirname(file), raw.emulatorCapture),
    networks: { ipv6: resolveTarget(raw.networks.ipv6, file), ipv4v6: resolveTarget(raw.networks.ipv4v6, file) },
    apnSwitch: raw.apnSwitch ?? 'content',
    resolverProbeUrl: raw.resolverProbeUrl ?? null,
    ipv4OnlyProbeUrl: raw.ipv4OnlyProbeUrl ?? null,
    backgroundHosts: raw.backgroundHosts ?? [],
    catalogue: raw.catalogue === undefined ? null : resolve(dirname(file), raw.catalogue),
    // Only the fields the profile sets: an absent one must stay absent for --min-ipv6-share and the judge's default.
    policy: {
      ...(raw.policy?.minIpv6Share === undefined ? {} : { minIpv6Share: raw.policy.minIpv6Share }),
      ...(raw.policy?.slowFallbackMs === undefined ? {} : { slowFallbackMs: raw.policy.slowFallbackMs }),
    },
  };
}
