/**
 * What the harness changes on a device, and how it puts it back: Private DNS (off during a run,
 * or the capture sees TLS to a resolver instead of the app's DNS) and the preferred APN (moved
 * between the lab's IPv6-only and dual-stack APNs). The state as found is written to the run
 * directory before the first change, so a run that dies can still be undone by `certify` at
 * its end, or by the next run with `--resume`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { message, said, type ReasonMessage } from '../checks/messages.js';
import type { DeviceBackend } from '../device/adb.js';
import type { RootMethod } from '../device/facts.js';
import { contentRefusal, isContentDenied, parseContentRows, parseDumpsysConnectivity, parseSettingsGet, type ContentRow } from '../device/parse/index.js';
import { defaultNetwork, mobileInternetNetwork, type DumpsysConnectivity, type NetworkAgent } from '../device/parse/connectivity.js';
import { asRoot } from '../device/shell.js';
import { writeJsonWhole } from '../config/files.js';
import { array, boolean, loadJsonFile, nullable, object, string, type Schema } from '../config/schema.js';

const CARRIERS = 'content://telephony/carriers';
const PREFERRED = `${CARRIERS}/preferapn`;
/** How long a device may take to attach after its preferred APN changed. */
export const ATTACH_TIMEOUT_MS = 20_000;
/** How long a Wi-Fi just turned on is given to join a saved network by itself before the harness asks it to. */
const AUTO_JOIN_MS = 3_000;
/** How often the attach is polled (each poll is one `dumpsys connectivity`). */
const ATTACH_POLL_MS = 200;

export interface FoundState {
  serial: string;
  takenAt: string;
  /** `settings get global private_dns_mode` as found; null: unset (Android's default, opportunistic). */
  privateDnsMode: string | null;
  /** The preferred APN's `_id` as found; null if none or the table could not be read. */
  preferredApnId: string | null;
  /** Every `_id` in the APN table as found: any other row is the harness's, deleted on restore. */
  apnIds: string[] | null;
  /**
   * Whether Wi-Fi was on (`settings get global wifi_on`): the harness turns it off to judge an APN
   * network (a validated Wi-Fi is Android's default over cellular) and back on at the end. null:
   * unknown (absent from a found.json of an earlier version).
   */
  wifiOn?: boolean | null;
  /** Whether the state has been put back. */
  restored: boolean;
}

const foundSchema: Schema<FoundState> = object(
  {
    serial: string({ maxLength: 64 }),
    takenAt: string({ maxLength: 40 }),
    // `settings get` prints anything a user or an app stored: kept as text, never run
    privateDnsMode: nullable(string({ maxLength: 4096 })),
    preferredApnId: nullable(string({ maxLength: 64 })),
    apnIds: nullable(array(string({ maxLength: 64 }))),
    restored: boolean,
  },
  { wifiOn: nullable(boolean) },
);

/** found.json as a run (or an earlier, killed run) wrote it, checked before anything is restored from it. */
export function readFound(file: string): FoundState {
  return loadJsonFile(file, foundSchema);
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The last line a command printed, for a reason. */
const lastLine = (output: string): string => output.trim().split('\n').pop() ?? '';

/** Something the harness cannot do on this device; the checks that need it are skipped or broken with this. */
export class DeviceStateError extends Error {
  constructor(
    readonly serial: string,
    message: string,
  ) {
    super(`${serial}: ${message}`);
    this.name = 'DeviceStateError';
  }
}

/** argv run as root the device's way (lib/device/shell.ts). */
export { asRoot };

/**
 * The mobile network apps use, as dumpsys connectivity reports it: the MOBILE network with the
 * INTERNET capability (a VoLTE phone's IMS network is MOBILE too, and often listed first).
 */
export function mobileNetwork(connectivity: DumpsysConnectivity | null): NetworkAgent | null {
  return mobileInternetNetwork(connectivity).network;
}

export class DeviceState {
  private readonly file: string;

  constructor(
    private readonly device: DeviceBackend,
    private readonly root: RootMethod,
    dir: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'found.json');
  }

  /** Set once the telephony provider refused the shell user: its permissions do not change, so later commands go as root at once. */
  private shellRefused = false;

  /** Runs a `content` command as the shell user, and as root when the provider refuses the shell. */
  private async content(args: readonly string[]): Promise<string> {
    const argv = ['content', ...args];
    const rooted = asRoot(argv, this.root);
    if (this.shellRefused && rooted !== null) return this.device.runOk(rooted);
    const asShell = await this.device.run(argv);
    // A refusal by its text: `content` exits 0 after one on some versions (Android 10).
    if (asShell.exitCode === 0 && contentRefusal(asShell.output) === null) return asShell.output;
    if (rooted === null)
      throw new DeviceStateError(
        this.device.serial,
        `the APN table refuses the shell user (${lastLine(asShell.output)}) and the device has no root: set "apnSwitch": "manual" in its profile and switch APNs by hand`,
      );
    this.shellRefused = true;
    return this.device.runOk(rooted);
  }

  async apnTable(): Promise<ContentRow[]> {
    const rows = parseContentRows(await this.content(['query', '--uri', CARRIERS]));
    if (isContentDenied(rows)) throw new DeviceStateError(this.device.serial, `the APN table is unreadable: ${rows.message}`);
    return rows;
  }

  private async preferredId(): Promise<string | null> {
    const rows = parseContentRows(await this.content(['query', '--uri', PREFERRED]));
    return isContentDenied(rows) ? null : rows[0]?._id || null;
  }

  /** The state as found, written once per run directory (a resumed run keeps the first). */
  async takeFound(): Promise<FoundState> {
    if (existsSync(this.file)) {
      const earlier = readFound(this.file);
      if (!earlier.restored) return earlier;
    }
    const privateDnsRead = this.device.runOk(['settings', 'get', 'global', 'private_dns_mode']);
    privateDnsRead.catch(() => undefined);
    let apnIds: string[] | null = null;
    let preferredApnId: string | null = null;
    try {
      [apnIds, preferredApnId] = await Promise.all([
        this.apnTable().then((rows) => rows.map((r) => r._id ?? '').filter((id) => id !== '')),
        this.preferredId(),
      ]);
    } catch (error) {
      if (!(error instanceof DeviceStateError)) throw error;
      apnIds = null;
      preferredApnId = null;
    }
    const privateDnsMode = parseSettingsGet(await privateDnsRead);
    const wifiOn = await this.wifiOn();
    const found: FoundState = {
      serial: this.device.serial,
      takenAt: new Date().toISOString(),
      privateDnsMode,
      preferredApnId,
      apnIds,
      wifiOn,
      restored: false,
    };
    this.save(found);
    return found;
  }

  private save(found: FoundState): void {
    // In the run directory (not trusted: a symlink there to a device is replaced, never written through).
    writeJsonWhole(this.file, found, { replaceSpecial: true });
  }

  /** `settings get global wifi_on`: on (1, 2 or 3: on, or off but scanning), off (0), null when unset or unreadable. */
  private async wifiOn(): Promise<boolean | null> {
    const read = await this.device.run(['settings', 'get', 'global', 'wifi_on']);
    const value = read.exitCode === 0 ? parseSettingsGet(read.output) : null;
    return value === null ? null : value !== '0';
  }

  /**
   * Makes mobile data the device's default network, as an APN network must be to be judged: a
   * validated Wi-Fi is Android's default over cellular, so the apps and probes would use it.
   * Turns Wi-Fi off (`svc wifi disable`, every version) and waits until Android's default network
   * is no longer Wi-Fi; restore() turns it back on. Another kind of default network (a VPN,
   * Ethernet) is not the harness's to end: said so.
   */
  async makeMobileDataDefault(
    timeoutMs = ATTACH_TIMEOUT_MS,
  ): Promise<{ ok: true; changed: boolean } | { ok: false; detail: string; messages?: ReasonMessage[] }> {
    const before = await this.defaultNetworkNow();
    if (before === null || before.type === 'MOBILE') return { ok: true, changed: false };
    const named = `${before.type ?? 'an unknown network'} (netId ${before.netId ?? '?'})`;
    if (before.type !== 'WIFI') return { ok: false, ...said(message('state.otherDefault', { network: named })) };
    const off = await this.device.run(['svc', 'wifi', 'disable']);
    if (off.exitCode !== 0)
      return {
        ok: false,
        ...said(message('state.wifiOffFailed', { said: lastLine(off.output) })),
      };
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await this.defaultNetworkNow();
      if (now === null || now.type !== 'WIFI') return { ok: true, changed: true };
      if (Date.now() > deadline)
        return {
          ok: false,
          ...said(message('state.wifiStillDefault', { seconds: timeoutMs / 1000 })),
        };
      await pause(ATTACH_POLL_MS);
    }
  }

  /**
   * Joins Wi-Fi `ssid` and waits until it is the default network: Wi-Fi turned on if it is off
   * (`svc wifi enable`), a saved network given a few seconds to be joined on its own, else
   * `cmd wifi connect-network SSID open` (Android 11 and later; an open network: a secured one must
   * be saved on the device first). The SSID joined is read from `cmd wifi status` where Android
   * has it. restore() puts Wi-Fi back as found.
   */
  async joinWifi(
    ssid: string,
    timeoutMs = ATTACH_TIMEOUT_MS,
  ): Promise<{ ok: true; switched: boolean } | { ok: false; detail: string; messages?: ReasonMessage[] }> {
    let switched = false;
    if ((await this.wifiOn()) === false) {
      const on = await this.device.run(['svc', 'wifi', 'enable']);
      if (on.exitCode !== 0) return { ok: false, ...said(message('state.wifiOnFailed', { said: lastLine(on.output) })) };
      switched = true;
    }
    const deadline = Date.now() + timeoutMs;
    // A saved network in range is joined by Android itself; only then is the harness's own config added.
    const autoJoinUntil = Date.now() + Math.min(AUTO_JOIN_MS, timeoutMs / 3);
    let asked = false;
    let answered = '';
    for (;;) {
      const joined = await this.wifiJoinedTo();
      const network = await this.defaultNetworkNow();
      if (network?.type === 'WIFI' && (joined === null || joined === ssid)) return { ok: true, switched: switched || asked };
      if (!asked && (Date.now() > autoJoinUntil || (joined !== null && joined !== ssid))) {
        const connect = await this.device.run(['cmd', 'wifi', 'connect-network', ssid, 'open']);
        answered = lastLine(connect.output);
        if (connect.exitCode !== 0)
          return {
            ok: false,
            ...said(message('state.noConnectNetwork', { ssid, said: answered })),
          };
        asked = true;
        // At least one look after asking, whatever the deadline.
        await pause(ATTACH_POLL_MS);
        continue;
      }
      if (Date.now() > deadline)
        return {
          ok: false,
          ...said(
            joined === null
              ? answered === ''
                ? message('state.wifiNotDefault.notJoined', { ssid, seconds: timeoutMs / 1000 })
                : message('state.wifiNotDefault.notJoinedSaid', { ssid, seconds: timeoutMs / 1000, said: answered })
              : answered === ''
                ? message('state.wifiNotDefault.joined', { ssid, seconds: timeoutMs / 1000, joined })
                : message('state.wifiNotDefault.joinedSaid', { ssid, seconds: timeoutMs / 1000, joined, said: answered }),
          ),
        };
      await pause(ATTACH_POLL_MS);
    }
  }

  /** Android's default network now (`Active default network:`), null when it has none. */
  private async defaultNetworkNow(): Promise<NetworkAgent | null> {
    return defaultNetwork(parseDumpsysConnectivity(await this.device.runOk(['dumpsys', 'connectivity'])));
  }

  /** The SSID `cmd wifi status` says Wi-Fi is connected to (Android 11+), null when it says none or cannot tell. */
  private async wifiJoinedTo(): Promise<string | null> {
    const status = await this.device.run(['cmd', 'wifi', 'status']);
    if (status.exitCode !== 0) return null;
    // Wifi is connected to "GoogleGuest"
    return /^Wifi is connected to "(.*)"\s*$/m.exec(status.output)?.[1] ?? null;
  }

  /** Private DNS off for the run: the capture must see the app's own DNS queries. */
  async privateDnsOff(): Promise<void> {
    await this.device.runOk(['settings', 'put', 'global', 'private_dns_mode', 'off']);
  }

  /**
   * Makes the APN named `apnName` the preferred one, adding it (with the factory default APN's
   * protocols, so the device's own choice is what gets tested) if the table lacks it, and waits
   * until the mobile network reports it. Returns the network, or null when the device did not
   * attach within the deadline (the network refused what the APN asks for).
   */
  async switchApn(apnName: string, timeoutMs = ATTACH_TIMEOUT_MS): Promise<{ network: NetworkAgent | null; inserted: boolean; row: ContentRow }> {
    let rows = await this.apnTable();
    let row = rows.find((r) => (r.apn ?? '').toLowerCase() === apnName.toLowerCase() && (r.type ?? 'default').split(',').includes('default'));
    let inserted = false;
    if (!row) {
      const factory = rows.find((r) => r.current === '1') ?? rows.find((r) => (r.type ?? '').split(',').includes('default')) ?? null;
      const binds = [
        ['name', `s:v6lab ${apnName}`],
        ['apn', `s:${apnName}`],
        ['type', 's:default,supl'],
        ...(factory?.mcc ? [['mcc', `s:${factory.mcc}`]] : []),
        ...(factory?.mnc ? [['mnc', `s:${factory.mnc}`]] : []),
        ...(factory?.numeric ? [['numeric', `s:${factory.numeric}`]] : []),
        ...(factory?.protocol ? [['protocol', `s:${factory.protocol}`]] : []),
        ...(factory?.roaming_protocol ? [['roaming_protocol', `s:${factory.roaming_protocol}`]] : []),
      ];
      await this.content(['insert', '--uri', CARRIERS, ...binds.flatMap(([k, v]) => ['--bind', `${k}:${v}`])]);
      rows = await this.apnTable();
      row = rows.find((r) => (r.apn ?? '').toLowerCase() === apnName.toLowerCase());
      if (!row?._id) throw new DeviceStateError(this.device.serial, `inserted APN ${apnName} but the table does not list it`);
      inserted = true;
    }
    const current = await this.preferredId();
    if (current !== row._id) await this.content(['insert', '--uri', PREFERRED, '--bind', `apn_id:i:${row._id}`]);
    return { network: await this.waitForAttach(apnName, timeoutMs), inserted, row };
  }

  /** Polls dumpsys connectivity until the mobile network names `apnName`; null at the deadline. */
  async waitForAttach(apnName: string, timeoutMs = ATTACH_TIMEOUT_MS): Promise<NetworkAgent | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const network = mobileNetwork(parseDumpsysConnectivity(await this.device.runOk(['dumpsys', 'connectivity'])));
      if (network && (network.extra ?? '').toLowerCase() === apnName.toLowerCase() && network.state !== 'DISCONNECTED') return network;
      if (Date.now() > deadline) return null;
      await pause(ATTACH_POLL_MS);
    }
  }

  /** Whether the state found in `dir` was recorded and has been put back (nothing left to restore). */
  static restoredIn(dir: string): boolean {
    const file = join(dir, 'found.json');
    if (!existsSync(file)) return true;
    try {
      return readFound(file).restored === true;
    } catch {
      return false;
    }
  }

  /** Puts back what takeFound recorded: the preferred APN, rows the harness added, Private DNS. */
  async restore(): Promise<string[]> {
    if (!existsSync(this.file)) return [];
    const found = readFound(this.file);
    if (found.restored) return [];
    const done: string[] = [];
    if (found.apnIds !== null) {
      const rows = await this.apnTable();
      if (found.preferredApnId !== null && (await this.preferredId()) !== found.preferredApnId) {
        await this.content(['insert', '--uri', PREFERRED, '--bind', `apn_id:i:${found.preferredApnId}`]);
        done.push(`preferred APN _id ${found.preferredApnId}`);
      }
      for (const row of rows) {
        if (row._id && !found.apnIds.includes(row._id)) {
          await this.content(['delete', '--uri', CARRIERS, '--where', `_id=${row._id}`]);
          done.push(`removed APN ${row.apn ?? row._id}`);
        }
      }
    }
    // Wi-Fi last: back on, it becomes the default network again.
    const wifiNow = await this.wifiOn();
    const mode = parseSettingsGet(await this.device.runOk(['settings', 'get', 'global', 'private_dns_mode']));
    if (mode !== found.privateDnsMode) {
      await this.device.runOk(
        found.privateDnsMode === null
          ? ['settings', 'delete', 'global', 'private_dns_mode']
          : ['settings', 'put', 'global', 'private_dns_mode', found.privateDnsMode],
      );
      done.push(`private_dns_mode ${found.privateDnsMode ?? '(unset)'}`);
    }
    if (found.wifiOn === true && wifiNow === false) {
      await this.device.runOk(['svc', 'wifi', 'enable']);
      done.push('Wi-Fi on');
    }
    // The device is as found whether or not this mark can be written (a full disk): restoring is
    // idempotent, so a later restore that finds nothing to undo is all a lost mark costs.
    try {
      this.save({ ...found, restored: true });
    } catch {
      // the mark only
    }
    return done;
  }
}
