/**
 * Android's output formats, as pure functions of the handset's state: what `getprop`,
 * `content query`, `pm` and `dumpsys` print on a phone. Sample lines from real devices sit above
 * each renderer; ../shared/fixtures/android/linkproperties-dtag.txt is the LinkProperties model.
 */
import type { ApnRow, HandsetState, InstalledApp } from './state.js';

/**
 * Every property the handset reports: build facts from the profile, then the profile's, then
 * setprop's. The build identity follows the real samples' shapes
 * (test/fixtures/android-real/getprop: Galaxy S25+ Android 16, POCO F6 Android 15):
 * `brand/product/device:release/ID/incremental:type/tags` for the fingerprint, an ID like
 * BP4A.251205.006, a patch level YYYY-MM-05; each from the profile, and a profile's `properties`
 * override any of them (the fingerprint is built from the overridden parts).
 */
export function systemProperties(state: HandsetState): Record<string, string> {
  const p = state.profile;
  const given = (key: string, fallback: string) => p.properties[key] ?? fallback;
  // The month each release first shipped (AOSP), so a profile of Android 13 has a 2022 build;
  // and the letter its build ids start with (Q for 10, T for 13, A for 15's trunk builds, B for 16).
  const release = p.android.split('.')[0]!;
  const shipped: Record<string, [string, string]> = {
    '9': ['2018-08', 'P'],
    '10': ['2019-09', 'Q'],
    '11': ['2020-09', 'R'],
    '12': ['2021-10', 'S'],
    '13': ['2022-08', 'T'],
    '14': ['2023-10', 'U'],
    '15': ['2024-09', 'A'],
    '16': ['2025-06', 'B'],
  };
  const [month, letter] = shipped[release] ?? ['2025-01', 'V'];
  const brand = given('ro.product.brand', p.manufacturer.replace(/[^A-Za-z0-9_-]/g, ''));
  const release_ = given('ro.build.version.release', p.android);
  const buildType = given('ro.build.type', p.buildType);
  // AOSP signs a build with the test keys unless it is signed for release (a user build here).
  const tags = given('ro.build.tags', buildType === 'user' ? 'release-keys' : 'test-keys');
  // BUILD_ID's shape (4 characters, date, number); "V6L" marks it as the lab's, never a real build.
  const buildId = given('ro.build.id', `${letter}V6L.${month.slice(2).replace('-', '')}05.001`);
  // A locally built AOSP's BUILD_NUMBER: eng.USER.DATE.TIME.
  const incremental = given('ro.build.version.incremental', `eng.v6lab.${month.replace('-', '')}05.000000`);
  // AOSP's display id: the build id on a user build, a description of the build otherwise (POCO F6 sample).
  const displayId = given('ro.build.display.id', buildType === 'user' ? buildId : `${p.device}-${buildType} ${release_} ${buildId} ${incremental} ${tags}`);
  const apn = p.apns[0];
  const simNumeric = `${apn?.mcc ?? '001'}${apn?.mnc ?? '01'}`;
  // The lab's APNs are the SIM operator's own, so the first one's name stands for the operator's.
  const simName = apn?.name ?? '';
  return {
    'ro.product.manufacturer': p.manufacturer,
    'ro.product.brand': brand,
    'ro.product.model': p.model,
    'ro.product.name': p.device,
    'ro.product.device': p.device,
    'ro.build.version.release': p.android,
    'ro.build.version.sdk': String(p.sdk),
    'ro.build.type': p.buildType,
    'ro.build.tags': tags,
    'ro.build.id': buildId,
    'ro.build.display.id': displayId,
    'ro.build.version.incremental': incremental,
    'ro.build.version.security_patch': `${month}-05`,
    'ro.build.fingerprint': `${brand}/${given('ro.product.name', p.device)}/${given('ro.product.device', p.device)}:${release_}/${buildId}/${incremental}:${buildType}/${tags}`,
    'ro.debuggable': p.buildType === 'user' ? '0' : '1',
    'ro.secure': p.rooted ? '0' : '1',
    'ro.serialno': state.serial,
    'ro.kernel.qemu': '0',
    'net.464xlat.cellular.enabled': p.ipv6.clat ? 'true' : 'false',
    // One SIM, one modem: single values (a dual-SIM phone prints a comma-separated list).
    'gsm.version.baseband': `V6LAB-MODEM-${p.sdk}.0`,
    'gsm.sim.operator.numeric': simNumeric,
    'gsm.sim.operator.alpha': simName,
    'gsm.operator.numeric': given('gsm.sim.operator.numeric', simNumeric),
    'gsm.operator.alpha': given('gsm.sim.operator.alpha', simName),
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

/**
 * The telephony provider's `carriers` table columns, in its CREATE TABLE order (what `content
 * query` prints without `--projection`, a factory-fresh database's `SELECT *`), by API level.
 * TelephonyProvider.getStringForCarrierTableCreation (LineageOS
 * android_packages_providers_TelephonyProvider, branches lineage-16.0 to lineage-22.0):
 * Android 9 has neither carrier_id nor skip_464xlat; Android 10 to 12 print exactly the columns
 * of the real emulator sample (test/fixtures/android-real/content/docker-android-304-emulator-carriers-rows0-1.txt);
 * Android 13 adds lingering_network_type_bitmask, mtu_v4, mtu_v6 and always_on; Android 14 and
 * 15 add infrastructure_bitmask and esim_bootstrap_provisioning.
 */
export function apnTableColumns(sdk: number): readonly string[] {
  const android13 = sdk >= 33;
  return [
    '_id',
    'name',
    'numeric',
    'mcc',
    'mnc',
    ...(sdk >= 29 ? ['carrier_id'] : []),
    'apn',
    'user',
    'server',
    'password',
    'proxy',
    'port',
    'mmsproxy',
    'mmsport',
    'mmsc',
    'authtype',
    'type',
    'current',
    'protocol',
    'roaming_protocol',
    'carrier_enabled',
    'bearer',
    'bearer_bitmask',
    'network_type_bitmask',
    ...(android13 ? ['lingering_network_type_bitmask'] : []),
    'mvno_type',
    'mvno_match_data',
    'sub_id',
    'profile_id',
    'modem_cognitive',
    'max_conns',
    'wait_time',
    'max_conns_time',
    'mtu',
    ...(android13 ? ['mtu_v4', 'mtu_v6'] : []),
    'edited',
    'user_visible',
    'user_editable',
    'owned_by',
    'apn_set_id',
    ...(sdk >= 29 ? ['skip_464xlat'] : []),
    ...(android13 ? ['always_on'] : []),
    ...(sdk >= 34 ? ['infrastructure_bitmask', 'esim_bootstrap_provisioning'] : []),
  ];
}

/**
 * The column defaults of the carriers table (same CREATE TABLE): what a row loaded from
 * apns-conf.xml, or inserted with `content insert`, holds in a column it did not set. Text columns
 * default to '' (printed as nothing after `=`), never NULL; `protocol` and `roaming_protocol`
 * default to IP (DEFAULT_PROTOCOL), so an APN entry without a protocol reads back `protocol=IP`.
 * Only `current` has no default: NULL unless the provider marks the row.
 */
const APN_COLUMN_DEFAULTS: Record<string, string> = {
  carrier_id: '-1', // TelephonyManager.UNKNOWN_CARRIER_ID
  user: '',
  server: '',
  password: '',
  proxy: '',
  port: '',
  mmsproxy: '',
  mmsport: '',
  mmsc: '',
  authtype: '-1',
  carrier_enabled: '1',
  bearer: '0',
  bearer_bitmask: '0',
  network_type_bitmask: '0',
  lingering_network_type_bitmask: '0',
  mvno_type: '',
  mvno_match_data: '',
  sub_id: '-1', // SubscriptionManager.INVALID_SUBSCRIPTION_ID
  profile_id: '0',
  modem_cognitive: '0',
  max_conns: '0',
  wait_time: '0',
  max_conns_time: '0',
  mtu: '0',
  mtu_v4: '0',
  mtu_v6: '0',
  edited: '0', // UNEDITED
  user_visible: '1',
  user_editable: '1',
  owned_by: '1', // OWNED_BY_OTHERS
  apn_set_id: '0', // NO_APN_SET_ID
  skip_464xlat: '-1', // SKIP_464XLAT_DEFAULT
  always_on: '0',
  infrastructure_bitmask: '3', // cellular and satellite
  esim_bootstrap_provisioning: '0',
};

/**
 * One APN row as the telephony provider of Android `sdk` prints it, every column of its table.
 * `current` is TelephonyProvider's mark of the rows of the SIM operator (their `numeric` is the
 * SIM's MCC+MNC), several as a rule; it is not the preferred APN, which only
 * `content://telephony/carriers/preferapn` names (real Android 10/11 emulator:
 * test/fixtures/android-real/content/docker-android-304-emulator-carriers-rows0-1.txt,
 * current=1 on the 310260 row and NULL on the 310250 one).
 */
export function apnColumns(row: ApnRow, simNumeric: string | null, sdk: number): Record<string, string> {
  const own: Record<string, string> = {
    _id: String(row._id),
    name: row.name,
    numeric: `${row.mcc}${row.mnc}`,
    mcc: row.mcc,
    mnc: row.mnc,
    apn: row.apn,
    type: row.type,
    current: simNumeric !== null && `${row.mcc}${row.mnc}` === simNumeric ? '1' : 'NULL',
    // A row without a protocol holds the column default, IP (IPv4 only), as Android stores it.
    protocol: row.protocol ?? 'IP',
    roaming_protocol: row.roaming_protocol ?? 'IP',
  };
  return Object.fromEntries(apnTableColumns(sdk).map((c) => [c, own[c] ?? APN_COLUMN_DEFAULTS[c] ?? 'NULL']));
}

// Row: 0 _id=1, name=T-Mobile US, numeric=310260, mcc=310, mnc=260, carrier_id=-1, apn=epc.tmobile.com, user=none, server=*, password=none, proxy=, port=, ..., current=1, protocol=IP, ..., apn_set_id=0, skip_464xlat=-1
// (cmds/content Content.java QueryCommand: the cursor's columns in order, NULL for a null value;
// a projection naming a column the table lacks fails in the provider, here printed as NULL.)
export function renderContentRows(rows: Record<string, string>[], projection: readonly string[] | null): string {
  if (rows.length === 0) return 'No result found.\n';
  return rows
    .map((row, i) => {
      const columns = projection ?? Object.keys(row);
      return `Row: ${i} ${columns.map((c) => `${c}=${row[c] ?? 'NULL'}`).join(', ')}\n`;
    })
    .join('');
}

/**
 * What `content` prints (on stderr) when the telephony provider refuses the shell user, then exits
 * 0: Content.java's Command.execute catches every exception, prints "Error while accessing
 * provider:" and the stack trace, and main returns normally, on every version from Android 9 to
 * 16. The message is TelephonyProvider.checkPermission's: "write APN settings" up to Android 10
 * (lineage-16.0, lineage-17.1), "access APN settings" from Android 11 (lineage-18.1 on). Real
 * Android 10 sample: test/fixtures/android-real/content/andromodem-apn-denied-a10.txt; its frames
 * are reused for every version (their line numbers are Android 10's), and its extra tab before
 * every line but the first is the Go test's indentation, so the trace is printed as Java's
 * printStackTrace does (the exception at column 0, each frame after a tab).
 */
export function renderApnRefusal(sdk: number): string {
  const what = sdk >= 30 ? 'access' : 'write';
  return [
    'Error while accessing provider:telephony',
    `java.lang.SecurityException: No permission to ${what} APN settings`,
    '\tat android.os.Parcel.createException(Parcel.java:2071)',
    '\tat android.os.Parcel.readException(Parcel.java:2039)',
    '\tat android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:188)',
    '\tat android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:140)',
    '\tat android.content.ContentProviderProxy.query(ContentProviderNative.java:423)',
    '\tat com.android.commands.content.Content$QueryCommand.onExecute(Content.java:619)',
    '\tat com.android.commands.content.Content$Command.execute(Content.java:469)',
    '\tat com.android.commands.content.Content.main(Content.java:690)',
    '\tat com.android.internal.os.RuntimeInit.nativeFinishInit(Native Method)',
    '\tat com.android.internal.os.RuntimeInit.main(RuntimeInit.java:342)',
    '',
  ].join('\n');
}

// package:com.google.android.youtube
export function renderPmList(apps: readonly InstalledApp[]): string {
  return apps.map((a) => `package:${a.package}\n`).join('');
}

/** A stable stand-in for Java's identityHashCode in hex, from a number the handset knows. */
const identityHash = (seed: number) => ((seed * 2654435761) >>> 0).toString(16);
/** A stable base64url-ish token, as PackageManager's random install directory names use. */
const installToken = (seed: number) => Buffer.from(identityHash(seed).repeat(2)).toString('base64url').slice(0, 22);

/**
 * Where an app's APK lives: /data/app/PKG-TOKEN== up to Android 10, and from Android 11 the two
 * random levels /data/app/~~TOKEN==/PKG-TOKEN== (real Pixel 8a, Android 16:
 * /data/app/~~ny1aVKTNxKUDyWLDzM5bPw==/io.heckel.ntfy-K2BhGdAlPTfLZs8XlI-moA==).
 */
export function appCodePath(app: InstalledApp, sdk: number): string {
  const inner = `${app.package}-${installToken(app.uid + 1)}==`;
  return sdk >= 30 ? `/data/app/~~${installToken(app.uid)}==/${inner}` : `/data/app/${inner}`;
}

/** When the lab's apps were installed, as dumpsys prints dates (Settings.java's yyyy-MM-dd HH:mm:ss). */
const INSTALLED_AT = '2025-06-01 12:00:00';

/**
 * `dumpsys package PKG` for an installed app, as Android `sdk` prints its `Package [PKG]` block
 * (services/core/java/com/android/server/pm/Settings.java dumpPackageLPr). The app id is printed
 * `userId=` up to Android 13 and `appId=` from Android 14, where dumpPackageLPr became
 * `pw.print("  appId="); pw.println(ps.getAppId())` (the same number; checked in an Android 15
 * tree, muhomorr/platform_frameworks_base-15; LineageOS 21 users saw `userId=` disappear).
 * The other lines follow the real samples: up to Android 12 the Samsung Android 10/11 one
 * (test/fixtures/android-real/dumpsys-package/mvt-samsung-trimmed.txt: applicationInfo=,
 * dataDir= and firstInstallTime= in the package's own lines); from Android 13 the Pixel 8a
 * Android 16 one (dumpsys-package/pixel8a-a16-ntfy.txt: dataDir= and firstInstallTime= under
 * `User 0:`), less the lines that version added later (pccId= and pageSizeCompat= are Android
 * 16's; appMetadataFilePath=, installerPackageUid= and apexModuleName= Android 14's;
 * scannedAsStoppedSystemApp= and `quarantined=` Android 15's). Only the Packages section is
 * printed: the resolver tables and Queries before it name no uid.
 */
export function renderDumpsysPackage(app: InstalledApp, sdk: number): string {
  const hash = identityHash(app.uid);
  const path = appCodePath(app, sdk);
  const targetSdk = Math.min(sdk, 34);
  const signatures = `    signatures=PackageSignatures{${identityHash(app.uid + 2).slice(0, 7)} version:2, signatures:[${identityHash(app.uid + 3)}], past signatures:[]}`;
  const permissions = [
    '    requested permissions:',
    '      android.permission.INTERNET',
    '      android.permission.ACCESS_NETWORK_STATE',
    '    install permissions:',
    '      android.permission.INTERNET: granted=true',
    '      android.permission.ACCESS_NETWORK_STATE: granted=true',
  ];
  const flags = '[ HAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP ]';
  const privateFlags = `[ PRIVATE_FLAG_ACTIVITIES_RESIZE_MODE_RESIZEABLE_VIA_SDK_VERSION${sdk >= 29 ? ' ALLOW_AUDIO_PLAYBACK_CAPTURE' : ''} ]`;
  const header = ['Packages:', `  Package [${app.package}] (${hash}):`];
  if (sdk <= 32) {
    // Samsung, Android 10/11:   userId=10143
    return [
      ...header,
      `    userId=${app.uid}`,
      `    pkg=Package{${hash.slice(0, 7)} ${app.package}}`,
      `    codePath=${path}`,
      `    resourcePath=${path}`,
      `    legacyNativeLibraryDir=${path}/lib`,
      '    primaryCpuAbi=null',
      '    secondaryCpuAbi=null',
      `    versionCode=1 minSdk=21 targetSdk=${targetSdk}`,
      '    versionName=1.0',
      '    splits=[base]',
      '    apkSigningVersion=2',
      `    applicationInfo=ApplicationInfo{${identityHash(app.uid + 4).slice(0, 7)} ${app.package}}`,
      `    flags=${flags}`,
      `    privateFlags=${privateFlags}`,
      `    dataDir=/data/user/0/${app.package}`,
      '    supportsScreens=[small, medium, large, xlarge, resizeable, anyDensity]',
      `    timeStamp=${INSTALLED_AT}`,
      `    firstInstallTime=${INSTALLED_AT}`,
      `    lastUpdateTime=${INSTALLED_AT}`,
      signatures,
      '    installPermissionsFixed=true',
      `    pkgFlags=${flags}`,
      ...permissions,
      `    User 0: ceDataInode=${app.uid * 7} installed=true hidden=false suspended=false stopped=false notLaunched=false enabled=0 instant=false virtual=false`,
      '      gids=[3003]',
      '',
    ].join('\n');
  }
  // Pixel 8a, Android 16:   appId=10311 (Android 14 on), userId= before
  return [
    ...header,
    sdk >= 34 ? `    appId=${app.uid}` : `    userId=${app.uid}`,
    ...(sdk >= 36 ? ['    pccId=-1'] : []),
    `    pkg=Package{${hash.slice(0, 7)} ${app.package}}`,
    `    codePath=${path}`,
    `    resourcePath=${path}`,
    `    legacyNativeLibraryDir=${path}/lib`,
    '    extractNativeLibs=false',
    '    primaryCpuAbi=null',
    '    secondaryCpuAbi=null',
    '    cpuAbiOverride=null',
    `    versionCode=1 minSdk=21 targetSdk=${targetSdk}`,
    '    minExtensionVersions=[]',
    '    versionName=1.0',
    '    hiddenApiEnforcementPolicy=2',
    '    usesNonSdkApi=false',
    '    splits=[base]',
    '    apkSigningVersion=2',
    `    flags=${flags}`,
    `    privateFlags=${privateFlags}`,
    '    forceQueryable=false',
    ...(sdk >= 36 ? ['    pageSizeCompat=0'] : []),
    ...(sdk >= 35 ? ['    scannedAsStoppedSystemApp=false'] : []),
    '    supportsScreens=[small, medium, large, xlarge, resizeable, anyDensity]',
    `    timeStamp=${INSTALLED_AT}`,
    `    lastUpdateTime=${INSTALLED_AT}`,
    '    installerPackageName=null',
    ...(sdk >= 34 ? ['    installerPackageUid=-1'] : []),
    '    initiatingPackageName=null',
    '    originatingPackageName=null',
    '    packageSource=0',
    ...(sdk >= 34 ? ['    appMetadataFilePath=null', '    appMetadataSource=0'] : []),
    signatures,
    '    installPermissionsFixed=false',
    `    pkgFlags=${flags}`,
    `    privatePkgFlags=${privateFlags}`,
    ...(sdk >= 34 ? ['    apexModuleName=null'] : []),
    ...permissions,
    `    User 0: ceDataInode=${app.uid * 7} deDataInode=${app.uid * 7 + 3} installed=true hidden=false suspended=false distractionFlags=0 stopped=false notLaunched=false enabled=0 instant=false virtual=false${sdk >= 35 ? ' quarantined=false' : ''}`,
    '      installReason=0',
    `      dataDir=/data/user/0/${app.package}`,
    `      firstInstallTime=${INSTALLED_AT}`,
    '      uninstallReason=0',
    '      gids=[3003]',
    '',
  ].join('\n');
}

/**
 * `dumpsys package PKG` when PKG is not installed. From Android 13 the dump returns at once with
 * one line (DumpHelper.doDump: "Unable to find package: " when getPackageStateInternal is null;
 * real Pixel 8a, Android 16: test/fixtures/android-real/dumpsys-package/pixel8a-a16-not-found.txt).
 * Up to Android 12 there was no such check: the sections that filter by package print nothing for
 * it, and the dexopt and compiler-stats dumps say it under their own headers
 * (PackageManagerService.dumpDexoptStateLPr / dumpCompilerStatsLPr). Android 11 and 12 also print
 * the whole Queries section (AppsFilter.dumpQueries, unfiltered for an unknown package), which the
 * handset leaves out: it names no package's uid.
 */
export function renderDumpsysPackageNotFound(pkg: string, sdk: number): string {
  if (sdk >= 33) return `Unable to find package: ${pkg}\n`;
  return ['', 'Dexopt state:', `  Unable to find package: ${pkg}`, '', '', 'Compiler stats:', `  Unable to find package: ${pkg}`, ''].join('\n');
}
