/**
 * The lab's data files (CONTRACTS.md section 5): the world (the lab's internet), the emulated
 * apps, and the handset profiles. Each is validated on load; an error names the file and field.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
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

export function loadWorld(file: string): World {
  const world = loadJsonFile(file, worldSchema);
  const seen = new Map<string, number>();
  world.hosts.forEach((host, i) => {
    const first = seen.get(host.name);
    if (first !== undefined) throw new DataFileError(file, `hosts[${i}].name`, `"${host.name}" is already hosts[${first}]`);
    seen.set(host.name, i);
    if (!host.ipv4 && host.ipv6 === false) throw new DataFileError(file, `hosts[${i}]`, `"${host.name}" has neither IPv4 nor IPv6: nothing could reach it`);
    const omission = dnsOmissionProblem(host);
    if (omission !== null) throw new DataFileError(file, `hosts[${i}].dns`, omission);
  });
  return world;
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

export interface EmulatedApp {
  /** The file it came from, for errors found later (a host missing from the world). */
  file: string;
  package: string;
  label: string;
  start: string;
  pages: Record<string, { requests: AppRequest[]; links: string[] }>;
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

const appSchema = object({
  package: string({ pattern: PACKAGE, what: 'an Android package name such as com.example.news', maxLength: 255 }),
  label: string({ maxLength: 100 }),
  start: string({ pattern: PAGE, what: 'a page name' }),
  pages: record(
    string({ pattern: PAGE, what: 'a page name' }),
    object({ requests: array(requestSchema, { max: 1000 }) }, { links: array(string({ pattern: PAGE, what: 'a page name' })) }),
    { min: 1 },
  ),
});

/** One emulated app; pages, links and the start page must agree. */
export function loadApp(file: string): EmulatedApp {
  const raw = loadJsonFile(file, appSchema);
  if (!(raw.start in raw.pages)) throw new DataFileError(file, 'start', `page "${raw.start}" is not in pages (${Object.keys(raw.pages).join(', ')})`);
  const pages: EmulatedApp['pages'] = {};
  for (const [name, page] of Object.entries(raw.pages)) {
    (page.links ?? []).forEach((link, i) => {
      if (!(link in raw.pages)) throw new DataFileError(file, `pages.${name}.links[${i}]`, `page "${link}" is not in pages`);
    });
    pages[name] = { requests: page.requests.map((r) => ({ ...r, repeat: r.repeat ?? 1 })), links: page.links ?? [] };
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
        if (!hosts.has(r.host)) throw new DataFileError(file, `pages.${page}.requests[${i}].host`, `"${r.host}" is not a host of the world`);
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

const pdp = oneOf(['IP', 'IPV6', 'IPV4V6'] as const);
const apnSchema = object(
  { name: string({ maxLength: 64 }), apn: string({ pattern: /^[A-Za-z0-9.-]{1,100}$/, what: 'an APN name such as ipv6.test' }) },
  {
    mcc: string({ pattern: /^\d{3}$/, what: 'a 3-digit MCC' }),
    mnc: string({ pattern: /^\d{2,3}$/, what: 'a 2- or 3-digit MNC' }),
    type: string({ pattern: /^[a-z_]+(,[a-z_]+)*$/, what: 'APN types such as default,supl' }),
    protocol: pdp,
    roaming_protocol: pdp,
    preferred: boolean,
  },
);
const family = object({ enabled: boolean, privacyAddresses: boolean });
const profileSchema = object(
  {
    name: string({ pattern: /^[a-z0-9][a-z0-9-]{0,40}$/, what: 'a short lower-case name such as compliant' }),
    manufacturer: string({ maxLength: 64 }),
    model: string({ maxLength: 64 }),
    device: string({ pattern: /^[A-Za-z0-9_-]{1,64}$/, what: 'a device code name' }),
    android: string({ pattern: /^\d{1,2}(\.\d+)*$/, what: 'an Android version such as 14' }),
    sdk: integer(21, 99),
    buildType: oneOf(['user', 'userdebug', 'eng'] as const),
    apns: array(apnSchema, { min: 1, max: 50 }),
    ipv6: object({ mobile: family, wifi: family, clat: boolean }),
  },
  {
    rooted: boolean,
    tcpdump: boolean,
    apnTableReadable: boolean,
    // SSIDs are 1 to 32 bytes; printable here, as dumpsys quotes them.
    wifiNetwork: string({ pattern: /^[ -~]{1,32}$/, what: 'an SSID of 1 to 32 printable ASCII characters' }),
    ims: boolean,
    properties: record(string({ pattern: /^[A-Za-z0-9_.-]{1,92}$/, what: 'a property name' }), string({ maxLength: 92 })),
  },
);

export function loadProfile(file: string): HandsetProfile {
  const raw = loadJsonFile(file, profileSchema);
  const preferred = raw.apns.filter((a) => a.preferred === true);
  if (preferred.length > 1) throw new DataFileError(file, 'apns', `${preferred.length} entries are preferred; at most one may be`);
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
