/**
 * Android's output formats, as pure functions of the handset's state: what `getprop`,
 * `content query`, `pm` and `dumpsys` print on a phone. Sample lines from real devices sit above
 * each renderer; ../shared/fixtures/android/linkproperties-dtag.txt is the LinkProperties model.
 */
import type { ApnRow, HandsetState, InstalledApp } from './state.js';

/** Every property the handset reports: build facts from the profile, then the profile's, then setprop's. */
export function systemProperties(state: HandsetState): Record<string, string> {
  const p = state.profile;
  return {
    'ro.product.manufacturer': p.manufacturer,
    'ro.product.model': p.model,
    'ro.product.name': p.device,
    'ro.product.device': p.device,
    'ro.build.version.release': p.android,
    'ro.build.version.sdk': String(p.sdk),
    'ro.build.type': p.buildType,
    'ro.debuggable': p.buildType === 'user' ? '0' : '1',
    'ro.secure': p.rooted ? '0' : '1',
    'ro.serialno': state.serial,
    'ro.kernel.qemu': '0',
    'net.464xlat.cellular.enabled': p.ipv6.clat ? 'true' : 'false',
    'gsm.sim.operator.numeric': `${p.apns[0]?.mcc ?? '001'}${p.apns[0]?.mnc ?? '01'}`,
    ...p.properties,
    ...state.props,
  };
}

// [ro.product.model]: [Pixel 7]
export function renderGetpropAll(props: Record<string, string>): string {
  return Object.keys(props)
    .sort()
    .map((k) => `[${k}]: [${props[k]}]\n`)
    .join('');
}

/** The columns `content query --uri content://telephony/carriers` prints, in Android's order. */
const APN_COLUMNS = ['_id', 'name', 'numeric', 'mcc', 'mnc', 'apn', 'type', 'protocol', 'roaming_protocol', 'current'] as const;

/**
 * One APN row as the telephony provider prints it. `current` is TelephonyProvider's mark of the
 * rows of the SIM operator (their `numeric` is the SIM's MCC+MNC), several as a rule; it is not
 * the preferred APN, which only `content://telephony/carriers/preferapn` names (real Android 10/11
 * emulator: test/fixtures/android-real/content/docker-android-304-emulator-carriers-rows0-1.txt,
 * current=1 on the 310260 row and NULL on the 310250 one).
 */
export function apnColumns(row: ApnRow, simNumeric: string | null): Record<string, string> {
  return {
    _id: String(row._id),
    name: row.name,
    numeric: `${row.mcc}${row.mnc}`,
    mcc: row.mcc,
    mnc: row.mnc,
    apn: row.apn,
    type: row.type,
    // Android stores a missing protocol as NULL in the table (and treats it as "IP").
    protocol: row.protocol ?? 'NULL',
    roaming_protocol: row.roaming_protocol ?? 'NULL',
    current: simNumeric !== null && `${row.mcc}${row.mnc}` === simNumeric ? '1' : 'NULL',
  };
}

// Row: 0 _id=1, name=T-Mobile US, numeric=310260, mcc=310, mnc=260, apn=fast.t-mobile.com, type=default,supl,mms, protocol=IPV6, roaming_protocol=IPV4, current=1
export function renderContentRows(rows: Record<string, string>[], projection: readonly string[] | null): string {
  if (rows.length === 0) return 'No result found.\n';
  return rows
    .map((row, i) => {
      const columns = projection ?? APN_COLUMNS;
      return `Row: ${i} ${columns.map((c) => `${c}=${row[c] ?? 'NULL'}`).join(', ')}\n`;
    })
    .join('');
}

// package:com.google.android.youtube
export function renderPmList(apps: readonly InstalledApp[]): string {
  return apps.map((a) => `package:${a.package}\n`).join('');
}

// Packages:
//   Package [com.example.news] (4c1a2f0):
//     userId=10123
//     pkg=Package{9b1e2c3 com.example.news}
export function renderDumpsysPackage(app: InstalledApp): string {
  const hash = ((app.uid * 2654435761) >>> 0).toString(16);
  return [
    'Packages:',
    `  Package [${app.package}] (${hash}):`,
    `    userId=${app.uid}`,
    `    pkg=Package{${hash.slice(0, 7)} ${app.package}}`,
    `    codePath=/data/app/${app.package}-1`,
    '    versionCode=1 minSdk=21 targetSdk=34',
    '    versionName=1.0',
    `    dataDir=/data/user/0/${app.package}`,
    '',
  ].join('\n');
}

export interface LinkFacts {
  interfaceName: string;
  /** `address/prefix` */
  addresses: string[];
  dns: string[];
  mtu: number;
  /** `dest -> gateway iface mtu n`, as LinkProperties prints routes. */
  routes: string[];
  nat64Prefix: string | null;
  stacked: LinkFacts | null;
}

// {InterfaceName: rmnet16 LinkAddresses: [ 2a01:599:a1b:a486:9aa1:495d:81d9:5386/64 ] DnsAddresses: [ /2a01:598:7ff:0:10:74:210:221 ] Domains: null MTU: 1500 ... Routes: [ ::/0 -> :: rmnet16 mtu 1500 ] Nat64Prefix: 64:ff9b::/96 Stacked: [[ {...} ]]}
export function renderLinkProperties(link: LinkFacts): string {
  const list = (items: readonly string[]) => (items.length === 0 ? '[ ]' : `[ ${items.join(',')} ]`);
  const parts = [
    `InterfaceName: ${link.interfaceName}`,
    `LinkAddresses: ${list(link.addresses)}`,
    `DnsAddresses: ${list(link.dns.map((d) => `/${d}`))}`,
    'Domains: null',
    `MTU: ${link.mtu}`,
  ];
  if (link.stacked !== null || link.nat64Prefix !== null) parts.push('TcpBufferSizes: 2097152,6291456,16777216,512000,2097152,8388608');
  parts.push(`Routes: ${list(link.routes)}`);
  if (link.nat64Prefix !== null) parts.push(`Nat64Prefix: ${link.nat64Prefix}`);
  if (link.stacked !== null) parts.push(`Stacked: [[ ${renderLinkProperties(link.stacked)} ]]`);
  return `{${parts.join(' ')}}`;
}

export interface NetworkFacts {
  netId: number;
  /** MOBILE or WIFI */
  type: 'MOBILE' | 'WIFI';
  extra: string;
  link: LinkFacts;
  isDefault: boolean;
}

// NetworkAgentInfo{network{100}  handle{432902426637}  ni{MOBILE[LTE] CONNECTED extra: internet} ... lp{{...}}  nc{...}}
export function renderNetworkAgentInfo(n: NetworkFacts): string {
  const transport = n.type === 'MOBILE' ? 'CELLULAR' : 'WIFI';
  const subtype = n.type === 'MOBILE' ? 'MOBILE[LTE]' : 'WIFI[]';
  return (
    `NetworkAgentInfo{network{${n.netId}}  handle{${n.netId * 4294967296 + 0x0d00}}  ni{${subtype} CONNECTED extra: ${n.extra}}  ` +
    `created{true}  lingering{false}  everValidated{true}  lastValidated{true}  ` +
    `lp{${renderLinkProperties(n.link)}}  nc{[ Transports: ${transport} Capabilities: INTERNET&NOT_RESTRICTED&TRUSTED&VALIDATED&NOT_VPN]}}`
  );
}

// CLAT tracker: iface: rmnet_data0 (12), v4iface: v4-rmnet_data0 (13), v4: /192.0.0.4, v6: /2001:db8:0:b11::464, pfx96: /64:ff9b::, pid: 1234, cookie: 1
export function renderClatTracker(base: string, v6: string, prefix: string, pid: number): string {
  return `CLAT tracker: iface: ${base} (12), v4iface: v4-${base} (13), v4: /192.0.0.4, v6: /${v6}, pfx96: /${prefix.replace(/\/\d+$/, '')}, pid: ${pid}, cookie: 1`;
}
