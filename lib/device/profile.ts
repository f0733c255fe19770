/**
 * Device profiles (devices/*.json): what the harness needs to certify one device, real or
 * virtual, validated on load with errors that name the file and the field.
 *
 *   { "name": "pixel7-cmcc", "serial": "2B121FDH300ABC",
 *     "appium": { "url": "http://127.0.0.1:4723", "capabilities": { "appium:automationName": "UiAutomator2" } },
 *     "capture": "device" | "gateway" | "pcapdroid",
 *     "networks": { "ipv6": { "apn": "ipv6.cmcc" }, "ipv4v6": { "apn": "cmnet" } },
 *     "apnSwitch": "content" | "manual",
 *     "resolverProbeUrl": "https://dual.example/" }
 */
import { array, DataFileError, loadJsonFile, object, oneOf, record, string, type Schema } from '../config/schema.js';

export type CaptureMethod = 'device' | 'gateway' | 'pcapdroid';

export interface DeviceProfile {
  file: string;
  name: string;
  /** The adb serial; or `model` to pick the one connected device of that model. */
  serial: string | null;
  model: string | null;
  appium: { url: string; capabilities: Record<string, string | number | boolean> };
  capture: CaptureMethod[];
  networks: { ipv6: { apn: string } | null; ipv4v6: { apn: string } | null };
  /** How the harness moves the device between APNs: edit the APN table over adb, or ask a person. */
  apnSwitch: 'content' | 'manual';
  /** A dual-stack URL the browser opens for os.resolver-prefers-ipv6 on a real phone. */
  resolverProbeUrl: string | null;
}

const capability: Schema<string | number | boolean> = (value, field, file) => {
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
  throw new DataFileError(file, field, 'expected a string, number or boolean capability value');
};

const url = string({ pattern: /^https?:\/\/[^\s/]+(:\d+)?(\/\S*)?$/, what: 'an http(s) URL such as http://127.0.0.1:4723' });
const apn = object({ apn: string({ pattern: /^[A-Za-z0-9.-]{1,100}$/, what: 'an APN name' }) });

const profileSchema = object(
  {
    name: string({ pattern: /^[a-z0-9][a-z0-9-]{0,63}$/, what: 'a short lower-case name such as pixel7-cmcc' }),
    appium: object({ url }, { capabilities: record(string({ pattern: /^([a-z]+:)?[A-Za-z][A-Za-z0-9]*$/, what: 'a capability name such as appium:automationName' }), capability) }),
    networks: object({}, { ipv6: apn, ipv4v6: apn }),
  },
  {
    serial: string({ pattern: /^[A-Za-z0-9._:-]{1,64}$/, what: 'an adb serial such as emulator-5554 or 192.168.1.5:5555' }),
    model: string({ maxLength: 64 }),
    capture: array(oneOf(['device', 'gateway', 'pcapdroid'] as const), { min: 1, max: 3 }),
    apnSwitch: oneOf(['content', 'manual'] as const),
    resolverProbeUrl: url,
  },
);

export function loadDeviceProfile(file: string): DeviceProfile {
  const raw = loadJsonFile(file, profileSchema);
  if (raw.serial === undefined && raw.model === undefined) throw new DataFileError(file, 'serial', 'missing: give the adb serial, or a model to find the one connected device of that model');
  if (raw.networks.ipv6 === undefined && raw.networks.ipv4v6 === undefined) throw new DataFileError(file, 'networks', 'names no network: give ipv6 (the IPv6-only APN) and/or ipv4v6 (the dual-stack APN)');
  const capture: CaptureMethod[] = [...new Set<CaptureMethod>(raw.capture ?? ['device', 'gateway'])];
  return {
    file,
    name: raw.name,
    serial: raw.serial ?? null,
    model: raw.model ?? null,
    appium: { url: raw.appium.url, capabilities: raw.appium.capabilities ?? {} },
    capture,
    networks: { ipv6: raw.networks.ipv6 ?? null, ipv4v6: raw.networks.ipv4v6 ?? null },
    apnSwitch: raw.apnSwitch ?? 'content',
    resolverProbeUrl: raw.resolverProbeUrl ?? null,
  };
}
