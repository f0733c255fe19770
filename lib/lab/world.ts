/**
 * The lab's data files (CONTRACTS.md section 5): the world (the lab's internet), the emulated
 * apps, and the handset profiles. Each is validated on load; an error names the file and field.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkedAgainst, json } from '../config/json-schema.js';
import { array, boolean, DataFileError, either, integer, loadJsonFile, object, oneOf, record, string, type Schema } from '../config/schema.js';
import { dnsOmissionProblem } from './network/plan.js';
import { DNS_OMISSIONS, IPV6_FAILURES, type DnsOmission, type Ipv6Failure } from './network/types.js';

/** RFC 1123 host names: letters, digits and hyphens in dot-separated labels. */
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;
/** Android package names: dot-separated Java identifiers, at least two. */
const PACKAGE = /^[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z][a-zA-Z0-9_]*)+$/;
const PAGE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

const hostname = string({ pattern: HOSTNAME, what: 'a lower-case host name such as api.news.test', maxLength: 253 });

export interface WorldHost {
  name: string;
  ipv4: boolean;
  /**
   * true/false, or IPv6 that fails one way (lib/lab/network/types.ts Ipv6Failure): `blackhole`
   * (packets dropped), `pmtud-blackhole` (a 1280-byte hop, Packet Too Big dropped),
   * `late-failure` (the handshake completes, then nothing).
   */
  ipv6: boolean | Ipv6Failure;
  /** `no-aaaa` / `no-a`: the zone leaves that record out although the host has the address. */
  dns?: DnsOmission;
}

export interface World {
  hosts: WorldHost[];
}

const worldSchema = object({
  hosts: array(object({ name: hostname, ipv4: boolean, ipv6: either(boolean, oneOf(IPV6_FAILURES)) }, { dns: oneOf(DNS_OMISSIONS) }), { min: 1, max: 1000 }),
});

/** schemas/world.schema.json: what loadWorld accepts (a host named twice only the loader finds). */
export const WORLD_SCHEMA = json.dataFile(
  'world.schema.json',
  'v6lab lab world',
  "The virtual lab's internet: its hosts and how each is reached (devices/lab/README.md, docs/scenarios.md).",
  json.object({
    hosts: json.array(
      json.object(
        {
          name: json.string({ pattern: HOSTNAME, maxLength: 253, description: 'A lower-case host name such as api.news.test; each at most once.' }),
          ipv4: json.boolean('Whether the host has an IPv4 address (an A record).'),
          ipv6: json.oneOf([true, false, ...IPV6_FAILURES], 'Whether the host has IPv6, or how its IPv6 fails: blackhole, pmtud-blackhole, late-failure.'),
        },
        { dns: json.oneOf(DNS_OMISSIONS, 'A record the zone leaves out although the host has the address (it needs both families).') },
        {
          // Neither family: nothing could reach it. An omitted record needs both families (dnsOmissionProblem).
          not: { required: ['ipv4', 'ipv6'], properties: { ipv4: { const: false }, ipv6: { const: false } } },
          if: { required: ['dns'] },
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword in a plain document, never awaited
          then: { properties: { ipv4: { const: true }, ipv6: { not: { const: false } } } },
        },
      ),
      { min: 1, max: 1000 },
    ),
  }),
);

/** Host names are unique; each host reachable some way, and reachable by name. */
function worldRules(world: World, file: string): void {
  const seen = new Map<string, number>();
  world.hosts.forEach((host, i) => {
    const first = seen.get(host.name);
    if (first !== undefined) throw new DataFileError(file, `hosts[${i}].name`, `"${host.name}" is already hosts[${first}]`);
    seen.set(host.name, i);
    if (!host.ipv4 && host.ipv6 === false) throw new DataFileError(file, `hosts[${i}]`, `"${host.name}" has neither IPv4 nor IPv6: nothing could reach it`);
    const omission = dnsOmissionProblem(host);
    if (omission !== null) throw new DataFileError(file, `hosts[${i}].dns`, omission);
  });
}

export function loadWorld(file: string): World {
  return loadJsonFile(file, checkedAgainst(WORLD_SCHEMA, worldSchema, worldRules));
}

export const APP_MODES = ['happy-eyeballs', 'system', 'ipv4-only', 'ipv6-only', 'ipv4-first', 'ipv4-literal'] as const;
export type AppMode = (typeof APP_MODES)[number];

export interface AppRequest {
  host: string;
  transport: 'tcp' | 'udp';
  port: number;
  mode: AppMode;
  bytes: number;
  repeat: number;
}

/**
 * A real program a page runs (issue 20): its argv (no shell), run by the app's process under the
 * app's uid in the handset, with the handset's resolver, a minimal environment and an empty home.
 */
export interface AppRun {
  run: string[];
  /** Killed (its process group) past this. @default 20000 */
  timeoutMs: number;
  repeat: number;
}

/** What a page does: a request the lab's client code makes, or a real program. */
export type AppStep = AppRequest | AppRun;

export const isRun = (step: AppStep): step is AppRun => 'run' in step;

/** A run's time limit when its page names none. */
export const DEFAULT_RUN_TIMEOUT_MS = 20_000;

export interface EmulatedApp {
  /** The file it came from, for errors found later (a host missing from the world). */
  file: string;
  package: string;
  label: string;
  start: string;
  pages: Record<string, { requests: AppStep[]; links: string[] }>;
}

const requestSchema = object(
  {
    host: hostname,
    transport: oneOf(['tcp', 'udp'] as const),
    port: integer(1, 65535),
    mode: oneOf(APP_MODES),
    bytes: integer(0, 100 * 1024 * 1024),
  },
  { repeat: integer(1, 1000) },
);

/** An argv element: any text but NUL (which no argv can hold), 4096 characters at most. */
const ARGV_ELEMENT = /^[^\0]*$/;
const runSchema = object(
  { run: array(string({ pattern: ARGV_ELEMENT, what: 'a command-line word (text without NUL)', maxLength: 4096 }), { min: 1, max: 256 }) },
  { timeoutMs: integer(100, 600_000), repeat: integer(1, 1000) },
);

/** A request, or a real program when it has `run`: each form's own errors. */
const stepSchema: Schema<ReturnType<typeof requestSchema> | ReturnType<typeof runSchema>> = (value, field, file) =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && 'run' in value ? runSchema(value, field, file) : requestSchema(value, field, file);

const appSchema = object({
  package: string({ pattern: PACKAGE, what: 'an Android package name such as com.example.news', maxLength: 255 }),
  label: string({ maxLength: 100 }),
  start: string({ pattern: PAGE, what: 'a page name' }),
  pages: record(
    string({ pattern: PAGE, what: 'a page name' }),
    object({ requests: array(stepSchema, { max: 1000 }) }, { links: array(string({ pattern: PAGE, what: 'a page name' })) }),
    { min: 1 },
  ),
});

const jsonPage = json.string({ pattern: PAGE, description: 'A page name.' });

/** schemas/lab-app.schema.json: what loadApp accepts (a start page or link naming no page only the loader finds). */
export const LAB_APP_SCHEMA = json.dataFile(
  'lab-app.schema.json',
  'v6lab emulated app',
  'One app a virtual handset runs: its pages, the requests each page makes and the pages it links to (devices/lab/README.md).',
  json.object({
    package: json.string({ pattern: PACKAGE, maxLength: 255, description: 'An Android package name such as com.example.news.' }),
    label: json.string({ maxLength: 100 }),
    start: { ...jsonPage, description: 'The page the app opens on; one of pages.' },
    pages: json.record(
      jsonPage,
      json.object(
        {
          requests: json.array(
            {
              oneOf: [
                json.object(
                  {
                    host: json.string({ pattern: HOSTNAME, maxLength: 253, description: 'A host of the world.' }),
                    transport: json.oneOf(['tcp', 'udp']),
                    port: json.integer(1, 65535),
                    mode: json.oneOf(APP_MODES, 'How the app picks an address family.'),
                    bytes: json.integer(0, 100 * 1024 * 1024, 'Bytes the server sends back.'),
                  },
                  { repeat: json.integer(1, 1000, '@default 1') },
                ),
                json.object(
                  {
                    run: json.array(json.string({ pattern: ARGV_ELEMENT, maxLength: 4096 }), {
                      min: 1,
                      max: 256,
                      description:
                        "A real program's argv, run without a shell under the app's uid in the handset: argv[0] on PATH (/usr/local/bin:/usr/bin:/bin) or absolute.",
                    }),
                  },
                  { timeoutMs: json.integer(100, 600_000, 'Killed past this. @default 20000'), repeat: json.integer(1, 1000, '@default 1') },
                ),
              ],
            },
            { max: 1000 },
          ),
        },
        { links: json.array(jsonPage, { description: 'Pages this page links to; each one of pages.' }) },
      ),
      { min: 1 },
    ),
  }),
);

/** The start page and every link name a page of the app. */
function appRules(raw: ReturnType<typeof appSchema>, file: string): void {
  if (!(raw.start in raw.pages)) throw new DataFileError(file, 'start', `page "${raw.start}" is not in pages (${Object.keys(raw.pages).join(', ')})`);
  for (const [name, page] of Object.entries(raw.pages)) {
    (page.links ?? []).forEach((link, i) => {
      if (!(link in raw.pages)) throw new DataFileError(file, `pages.${name}.links[${i}]`, `page "${link}" is not in pages`);
    });
  }
}

/** One emulated app; pages, links and the start page must agree. */
export function loadApp(file: string): EmulatedApp {
  const raw = loadJsonFile(file, checkedAgainst(LAB_APP_SCHEMA, appSchema, appRules));
  const pages: EmulatedApp['pages'] = {};
  for (const [name, page] of Object.entries(raw.pages)) {
    pages[name] = {
      requests: page.requests.map(
        (r): AppStep =>
          'run' in r ? { run: r.run, timeoutMs: r.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS, repeat: r.repeat ?? 1 } : { ...r, repeat: r.repeat ?? 1 },
      ),
      links: page.links ?? [],
    };
  }
  return { file, package: raw.package, label: raw.label, start: raw.start, pages };
}

/** Every `*.json` of an apps directory; packages must be unique and hosts must be in the world. */
export function loadApps(dir: string, world: World): EmulatedApp[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch (error) {
    throw new DataFileError(dir, '', (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : `cannot be read: ${(error as Error).message}`);
  }
  if (names.length === 0) throw new DataFileError(dir, '', 'holds no *.json app');
  const hosts = new Set(world.hosts.map((h) => h.name));
  const byPackage = new Map<string, string>();
  return names.map((name) => {
    const file = join(dir, name);
    const app = loadApp(file);
    const other = byPackage.get(app.package);
    if (other !== undefined) throw new DataFileError(file, 'package', `"${app.package}" is also the package of ${other}`);
    byPackage.set(app.package, file);
    for (const [page, { requests }] of Object.entries(app.pages)) {
      requests.forEach((r, i) => {
        if (!isRun(r) && !hosts.has(r.host)) throw new DataFileError(file, `pages.${page}.requests[${i}].host`, `"${r.host}" is not a host of the world`);
      });
    }
    return app;
  });
}

export type PdpProtocol = 'IP' | 'IPV6' | 'IPV4V6';

export interface ApnEntry {
  name: string;
  apn: string;
  mcc: string;
  mnc: string;
  type: string;
  /** Absent in the table means Android's default, "IP" (IPv4 only). */
  protocol: PdpProtocol | null;
  roaming_protocol: PdpProtocol | null;
  preferred: boolean;
}

export interface HandsetProfile {
  file: string;
  name: string;
  manufacturer: string;
  model: string;
  device: string;
  android: string;
  sdk: number;
  buildType: 'user' | 'userdebug' | 'eng';
  rooted: boolean;
  tcpdump: boolean;
  properties: Record<string, string>;
  apns: ApnEntry[];
  /** Whether `content query --uri content://telephony/carriers` works for the shell user. */
  apnTableReadable: boolean;
  /**
   * The SSID of a saved Wi-Fi network the handset joins whenever its Wi-Fi is on (the lab's
   * access point takes that name); absent: Wi-Fi on but joined to nothing, as a phone out of the box.
   */
  wifiNetwork?: string | null;
  /** A VoLTE handset: an IMS network (MOBILE, `extra: ims`, no INTERNET) beside the internet one. */
  ims?: boolean;
  ipv6: {
    mobile: { enabled: boolean; privacyAddresses: boolean };
    wifi: { enabled: boolean; privacyAddresses: boolean };
    clat: boolean;
  };
}

const PDP_PROTOCOLS = ['IP', 'IPV6', 'IPV4V6'] as const;
const BUILD_TYPES = ['user', 'userdebug', 'eng'] as const;
const APN = /^[A-Za-z0-9.-]{1,100}$/;
const MCC = /^\d{3}$/;
const MNC = /^\d{2,3}$/;
const APN_TYPES = /^[a-z_]+(,[a-z_]+)*$/;
const HANDSET_NAME = /^[a-z0-9][a-z0-9-]{0,40}$/;
const DEVICE_CODE = /^[A-Za-z0-9_-]{1,64}$/;
const ANDROID_VERSION = /^\d{1,2}(\.\d+)*$/;
// SSIDs are 1 to 32 bytes; printable here, as dumpsys quotes them.
const SSID = /^[ -~]{1,32}$/;
const PROPERTY = /^[A-Za-z0-9_.-]{1,92}$/;
const pdp = oneOf(PDP_PROTOCOLS);
const apnSchema = object(
  { name: string({ maxLength: 64 }), apn: string({ pattern: APN, what: 'an APN name such as ipv6.test' }) },
  {
    mcc: string({ pattern: MCC, what: 'a 3-digit MCC' }),
    mnc: string({ pattern: MNC, what: 'a 2- or 3-digit MNC' }),
    type: string({ pattern: APN_TYPES, what: 'APN types such as default,supl' }),
    protocol: pdp,
    roaming_protocol: pdp,
    preferred: boolean,
  },
);
const family = object({ enabled: boolean, privacyAddresses: boolean });
const profileSchema = object(
  {
    name: string({ pattern: HANDSET_NAME, what: 'a short lower-case name such as compliant' }),
    manufacturer: string({ maxLength: 64 }),
    model: string({ maxLength: 64 }),
    device: string({ pattern: DEVICE_CODE, what: 'a device code name' }),
    android: string({ pattern: ANDROID_VERSION, what: 'an Android version such as 14' }),
    sdk: integer(21, 99),
    buildType: oneOf(BUILD_TYPES),
    apns: array(apnSchema, { min: 1, max: 50 }),
    ipv6: object({ mobile: family, wifi: family, clat: boolean }),
  },
  {
    rooted: boolean,
    tcpdump: boolean,
    apnTableReadable: boolean,
    wifiNetwork: string({ pattern: SSID, what: 'an SSID of 1 to 32 printable ASCII characters' }),
    ims: boolean,
    properties: record(string({ pattern: PROPERTY, what: 'a property name' }), string({ maxLength: 92 })),
  },
);

const jsonFamily = json.object({ enabled: json.boolean(), privacyAddresses: json.boolean('RFC 8981 temporary addresses.') });

/** schemas/handset-profile.schema.json: what loadProfile accepts for a virtual handset. */
export const HANDSET_PROFILE_SCHEMA = json.dataFile(
  'handset-profile.schema.json',
  'v6lab virtual handset profile',
  'A virtual handset of the lab: its build, APN table and IPv6 settings (devices/lab/README.md).',
  json.object(
    {
      name: json.string({ pattern: HANDSET_NAME, description: 'A short lower-case name such as compliant.' }),
      manufacturer: json.string({ maxLength: 64 }),
      model: json.string({ maxLength: 64 }),
      device: json.string({ pattern: DEVICE_CODE, description: 'A device code name.' }),
      android: json.string({ pattern: ANDROID_VERSION, description: 'An Android version such as 14.' }),
      sdk: json.integer(21, 99, 'The API level; the formats the handset prints follow it.'),
      buildType: json.oneOf(BUILD_TYPES),
      apns: {
        ...json.array(
          json.object(
            { name: json.string({ maxLength: 64 }), apn: json.string({ pattern: APN, description: 'An APN name such as ipv6.test.' }) },
            {
              mcc: json.string({ pattern: MCC, description: '@default "001"' }),
              mnc: json.string({ pattern: MNC, description: '@default "01"' }),
              type: json.string({ pattern: APN_TYPES, description: 'APN types. @default "default,supl"' }),
              protocol: json.oneOf(PDP_PROTOCOLS, "Absent: Android's default, IP (IPv4 only)."),
              roaming_protocol: json.oneOf(PDP_PROTOCOLS),
              preferred: json.boolean('At most one entry; absent everywhere: the first.'),
            },
          ),
          { min: 1, max: 50 },
        ),
        contains: { type: 'object', required: ['preferred'], properties: { preferred: { const: true } } },
        minContains: 0,
        maxContains: 1,
      },
      ipv6: json.object({ mobile: jsonFamily, wifi: jsonFamily, clat: json.boolean('Whether a CLAT (464XLAT) starts on an IPv6-only network.') }),
    },
    {
      rooted: json.boolean('@default false'),
      tcpdump: json.boolean('@default true unless buildType is user'),
      apnTableReadable: json.boolean('Whether the shell user may query the APN table. @default false'),
      wifiNetwork: json.string({ pattern: SSID, description: 'A saved Wi-Fi network the handset joins whenever Wi-Fi is on.' }),
      ims: json.boolean('A VoLTE handset: an IMS network beside the internet one. @default false'),
      properties: json.record(json.string({ pattern: PROPERTY }), json.string({ maxLength: 92 }), { description: 'Extra getprop values.' }),
    },
  ),
);

/** At most one APN is the preferred one. */
function handsetRules(raw: ReturnType<typeof profileSchema>, file: string): void {
  const preferred = raw.apns.filter((a) => a.preferred === true);
  if (preferred.length > 1) throw new DataFileError(file, 'apns', `${preferred.length} entries are preferred; at most one may be`);
}

export function loadProfile(file: string): HandsetProfile {
  const raw = loadJsonFile(file, checkedAgainst(HANDSET_PROFILE_SCHEMA, profileSchema, handsetRules));
  const preferred = raw.apns.filter((a) => a.preferred === true);
  return {
    file,
    name: raw.name,
    manufacturer: raw.manufacturer,
    model: raw.model,
    device: raw.device,
    android: raw.android,
    sdk: raw.sdk,
    buildType: raw.buildType,
    rooted: raw.rooted ?? false,
    tcpdump: raw.tcpdump ?? raw.buildType !== 'user',
    properties: raw.properties ?? {},
    apnTableReadable: raw.apnTableReadable ?? false,
    wifiNetwork: raw.wifiNetwork ?? null,
    ims: raw.ims ?? false,
    apns: raw.apns.map((a, i) => ({
      name: a.name,
      apn: a.apn,
      mcc: a.mcc ?? '001',
      mnc: a.mnc ?? '01',
      type: a.type ?? 'default,supl',
      protocol: a.protocol ?? null,
      roaming_protocol: a.roaming_protocol ?? null,
      preferred: a.preferred ?? (preferred.length === 0 && i === 0),
    })),
    ipv6: raw.ipv6,
  };
}

/** What the modem asks for: the preferred APN's protocol, "IP" when the entry has none. */
export function requestedPdp(profile: HandsetProfile): PdpProtocol {
  return profile.apns.find((a) => a.preferred)?.protocol ?? 'IP';
}

export type { Schema };
