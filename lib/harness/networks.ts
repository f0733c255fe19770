/**
 * Which network a device is on, and what was seen there. The device is moved to a network of the
 * profile (its APN switched over adb, or by a person), and observed only once the mobile network
 * names that APN and is the default network; every observation carries the network it was taken
 * on, when and how, so a check can be judged only on what was seen on the network it names in
 * this run. A network not reached gives an `Unreached` with its cause, never a stale observation.
 */
import createDebug from 'debug';
import { observeDevice, type Observation } from '../checks/os.js';
import type { NetworkName } from '../checks/requirements.js';
import type { DeviceBackend } from '../device/adb.js';
import { type GatewayNetwork, readGatewayNetwork } from '../device/gateway-network.js';
import type { RootMethod } from '../device/facts.js';
import type { DumpsysConnectivity } from '../device/parse/connectivity.js';
import { inPrefix } from '../net/address.js';
import { ATTACH_TIMEOUT_MS, type DeviceState, mobileNetwork } from './device-state.js';
import type { DevicePlan } from './plan.js';
import { MANUAL_SWITCH_TIMEOUT_MS, NO_TERMINAL, noAnswerMessage, type SwitchPrompt } from './prompt.js';
import type { SelectOutcome } from './settings-ui.js';
import { message, partOf, said, type MessagePart, type ReasonMessage } from '../checks/messages.js';

const log = createDebug('v6lab:attach');

/**
 * How the device came to be on a network: the APN table edited over adb, a person, or the harness
 * in Android's Settings; or, for a Wi-Fi network, joined over adb (`svc wifi`, `cmd wifi`); or,
 * for a v6lab gateway's network, connected by a person (a cable, an emulator's tap).
 */
export type AttachMethod = 'content' | 'manual' | 'settings-ui' | 'wifi' | 'gateway';

/** One observation of the device on one network, taken in this run. */
export interface NetworkObservation {
  network: NetworkName;
  /**
   * The APN the profile names for the network, and the one the mobile network named when observed;
   * for a Wi-Fi network (`via: wifi`), its SSID.
   */
  apn: string;
  /** Whether the network is an APN of the mobile network, a Wi-Fi network or a v6lab gateway's (then `apn` is its directory). */
  via: 'apn' | 'wifi' | 'gateway';
  /** The device's default network when observed (Android's `Active default network`), null when it has none. */
  defaultNetwork: { netId: number; type: string | null; extra: string | null } | null;
  /** ISO time the observation was taken. */
  takenAt: string;
  how: AttachMethod;
  /**
   * Whether the harness moved the device onto the APN just now (false: it was already there, or a
   * person switched it): only then did the attach, and Android's RFC 7050 discovery at attach,
   * happen while the harness watched.
   */
  switched: boolean;
  observation: Observation;
}

/** Why a network was not reached. */
export type UnreachedCause =
  /** The profile names no APN for it. */
  | 'not-in-profile'
  /** Not this run's network (`certify --network`): its checks are left for another run. */
  | 'not-selected'
  /** Switched by hand or in Settings: nobody switched, or the switch did not take. */
  | 'not-switched'
  /** The harness switched the APN and the device did not attach within the deadline. */
  | 'no-attach'
  /** Attached, but another network (Wi-Fi) is the default: apps and probes would not use the APN. */
  | 'not-default'
  /** The mobile network named another APN by the time it was observed. */
  | 'moved';

export interface Reached {
  reached: true;
  network: NetworkName;
  detail: string;
  facts: NetworkObservation;
}

export interface Unreached {
  reached: false;
  network: NetworkName;
  cause: UnreachedCause;
  detail: string;
  /** The detail as messages (lib/checks/messages.ts), for a reason in another language; absent where nobody gave them. */
  messages?: ReasonMessage[];
  /**
   * What the device showed after an attach the harness asked for did not come (addresses, routes):
   * evidence for the attach check only, never judged as the network's.
   */
  after: Observation | null;
}

export type Attachment = Reached | Unreached;

/** The device's default network as Android reports it. */
function defaultNetworkOf(connectivity: DumpsysConnectivity | null): NetworkObservation['defaultNetwork'] {
  if (connectivity === null || connectivity.defaultNetId === null) return null;
  const agent = connectivity.networks.find((n) => n.netId === connectivity.defaultNetId) ?? null;
  return { netId: connectivity.defaultNetId, type: agent?.type ?? null, extra: agent?.extra ?? null };
}

/** What moves a device between APNs besides the APN table: a person, Android's Settings, and which networks this run certifies. */
export interface SwitchHelpers {
  /** Who is asked to switch by hand. @default nobody: the network is skipped at once */
  prompt?: SwitchPrompt;
  /** Selects an APN in Android's Settings through the device's Appium session; null: no session to do it with. */
  settingsUi?: ((apn: string) => Promise<SelectOutcome>) | null;
  /** How long a person has to switch. @default MANUAL_SWITCH_TIMEOUT_MS */
  promptTimeoutMs?: number;
  /** The one network this run certifies (`certify --network`); null: every network of the profile. */
  only?: NetworkName | null;
}

/**
 * Judges whether an observation is of `apn` as the device's default network. Pure: the rule a
 * fresh observation must meet before any check reads it.
 */
export function placeOf(network: NetworkName, apn: string, how: AttachMethod, switched: boolean, observation: Observation, takenAt: Date): Attachment {
  const mobile = mobileNetwork(observation.connectivity);
  const named = mobile?.extra ?? null;
  if (observation.connectivity !== null && (named === null || named.toLowerCase() !== apn.toLowerCase())) {
    return {
      reached: false,
      network,
      cause: 'moved',
      ...said(message(how === 'manual' ? 'net.movedApn.manual' : 'net.movedApn.auto', { named: named ?? '(none)', apn })),
      after: null,
    };
  }
  const defaultNetwork = defaultNetworkOf(observation.connectivity);
  // A validated Wi-Fi is Android's default over cellular: the apps and probes would use it.
  if (defaultNetwork !== null && mobile !== null && defaultNetwork.netId !== mobile.netId) {
    return {
      reached: false,
      network,
      cause: 'not-default',
      ...said(
        message('net.notDefault', {
          apn,
          network: `${defaultNetwork.type ?? 'another network'} (netId ${defaultNetwork.netId}${defaultNetwork.extra ? `, ${defaultNetwork.extra}` : ''})`,
        }),
      ),
      after: null,
    };
  }
  return {
    reached: true,
    network,
    detail: `attached to APN ${apn}`,
    facts: { network, apn, via: 'apn', defaultNetwork, takenAt: takenAt.toISOString(), how, switched, observation },
  };
}

/**
 * Judges whether an observation is of Wi-Fi `ssid` as the device's default network (Android's
 * default network is where apps and probes go). The SSID is compared where the dump shows it (the
 * NetworkInfo extra on Android 9 and 10); later versions print it only inside nc{}, so there a
 * Wi-Fi default network is taken as the one the harness just joined. The observation is marked as
 * Wi-Fi's, so the checks judge the Wi-Fi interface, not mobile data's.
 */
export function placeOnWifi(network: NetworkName, ssid: string, switched: boolean, observation: Observation, takenAt: Date): Attachment {
  const defaultNetwork = defaultNetworkOf(observation.connectivity);
  if (observation.connectivity !== null && defaultNetwork?.type !== 'WIFI') {
    return {
      reached: false,
      network,
      cause: 'moved',
      ...said(
        message('net.wifiMoved', {
          ssid,
          now: defaultNetwork === null ? 'none' : `${defaultNetwork.type ?? 'another network'} (netId ${defaultNetwork.netId})`,
        }),
      ),
      after: null,
    };
  }
  const shown = defaultNetwork?.extra?.replace(/^"|"$/g, '') ?? null;
  if (shown !== null && shown !== '' && shown !== ssid) {
    return {
      reached: false,
      network,
      cause: 'moved',
      ...said(message('net.wifiOther', { shown, ssid })),
      after: null,
    };
  }
  return {
    reached: true,
    network,
    detail: `joined Wi-Fi "${ssid}"`,
    facts: {
      network,
      apn: ssid,
      via: 'wifi',
      defaultNetwork,
      takenAt: takenAt.toISOString(),
      how: 'wifi',
      switched,
      observation: { ...observation, judgedNetwork: 'wifi' },
    },
  };
}

/**
 * Judges whether an observation is of a v6lab gateway's network as the device's default network:
 * Android's default network is not a mobile one, and its interface holds an address of the
 * gateway's /64 (or, IPv4-only, of its DHCP subnet). The address is the evidence: a device on
 * another Ethernet or Wi-Fi network has none of them. Judged as Ethernet, or Wi-Fi when the
 * gateway's link reaches the device through an access point.
 */
export function placeOnGateway(network: NetworkName, gateway: GatewayNetwork, observation: Observation, takenAt: Date): Attachment {
  const where = `the v6lab gateway of ${gateway.dir} (${gateway.mode} on ${gateway.deviceLink})`;
  const defaultNetwork = defaultNetworkOf(observation.connectivity);
  const place = { dir: gateway.dir, mode: gateway.mode, link: gateway.deviceLink };
  const unreached = (why: MessagePart): Attachment => ({ reached: false, network, cause: 'not-switched', ...said(why), after: observation });
  if (observation.connectivity === null) return unreached(message('net.gateway.unread', place));
  if (defaultNetwork === null || defaultNetwork.type === null || defaultNetwork.type === 'MOBILE' || defaultNetwork.type.startsWith('MOBILE_')) {
    return unreached(
      message('net.gateway.notOn', {
        network: defaultNetwork === null ? 'none' : `${defaultNetwork.type ?? 'of unknown type'} (netId ${defaultNetwork.netId})`,
        ...place,
      }),
    );
  }
  const agent = observation.connectivity.networks.find((n) => n.netId === defaultNetwork.netId) ?? null;
  const iface = agent?.linkProperties?.interfaceName ?? null;
  const prefixes = [gateway.ipv6Prefix, gateway.ipv4Subnet].filter((p): p is string => p !== null);
  const held = (observation.addresses.find((i) => i.name === iface)?.addresses ?? []).filter((a) => prefixes.some((p) => inPrefix(a.address, p)));
  if (iface === null || held.length === 0) {
    return unreached(
      message('net.gateway.noAddress', { type: defaultNetwork.type, iface: iface ?? 'interface unread', ...place, prefixes: prefixes.join(', ') }),
    );
  }
  const kind = defaultNetwork.type === 'WIFI' ? 'wifi' : 'ethernet';
  return {
    reached: true,
    network,
    detail: `on ${where}: ${iface} has ${held.map((a) => a.address).join(', ')}`,
    facts: {
      network,
      apn: gateway.dir,
      via: 'gateway',
      defaultNetwork,
      takenAt: takenAt.toISOString(),
      how: 'gateway',
      switched: false,
      observation: { ...observation, judgedNetwork: kind },
    },
  };
}

/**
 * Moves one device between the profile's networks and observes it there, once per network while
 * it stays there. The factory observation (before anything changed) is kept apart: it is of no
 * network the harness chose.
 */
export class NetworkAttacher {
  private current: Attachment | null = null;
  private factory: Observation | null = null;

  constructor(
    private readonly backend: DeviceBackend,
    private readonly device: Pick<DevicePlan, 'serial' | 'networks' | 'apnSwitch'>,
    private readonly state: Pick<DeviceState, 'switchApn' | 'waitForAttach'> & Partial<Pick<DeviceState, 'makeMobileDataDefault' | 'joinWifi'>>,
    private readonly root: RootMethod,
    private readonly observe: (backend: DeviceBackend, options: { root: RootMethod }) => Promise<Observation> = observeDevice,
    private readonly clock: () => Date = () => new Date(),
    /** How long an attach the harness asked for may take. */
    private readonly attachTimeoutMs?: number,
    private readonly helpers: SwitchHelpers = {},
  ) {}

  /** The network the device was last moved to, if it is still taken to be there. */
  get network(): NetworkName | null {
    return this.current?.network ?? null;
  }

  /** Forgets where the device is (it dropped off adb and came back): the next check attaches again. */
  forget(): void {
    this.current = null;
  }

  /** What the device is as delivered, before anything is changed (the os suite's first step). */
  async observeFactory(): Promise<Observation> {
    this.factory ??= await this.observe(this.backend, { root: this.root });
    return this.factory;
  }

  /** Moves the device to `network`'s APN (once while it stays there) and observes it there. */
  async attach(network: NetworkName): Promise<Attachment> {
    if (this.current?.network === network) return this.current;
    this.current = await this.moveTo(network);
    log(
      '%s %s: %s%s',
      this.device.serial,
      network,
      this.current.reached ? 'reached' : `not reached (${this.current.cause})`,
      this.current.reached ? '' : `: ${this.current.detail}`,
    );
    return this.current;
  }

  private async moveTo(network: NetworkName): Promise<Attachment> {
    const only = this.helpers.only ?? null;
    if (only !== null && only !== network)
      return {
        reached: false,
        network,
        cause: 'not-selected',
        ...said(message(network === 'ipv6' ? 'net.notSelected.ipv6' : 'net.notSelected.ipv4v6', { only, network })),
        after: null,
      };
    const target = this.device.networks[network];
    if (target === null)
      return {
        reached: false,
        network,
        cause: 'not-in-profile',
        ...said(message(network === 'ipv6' ? 'net.notInProfile.ipv6' : 'net.notInProfile.ipv4v6', { network })),
        after: null,
      };
    if ('wifi' in target) return this.moveToWifi(network, target.wifi);
    if ('gateway' in target) return this.onGateway(network, target.gateway);
    // Mobile data must be the default network before an APN is judged (a validated Wi-Fi wins on
    // Android): Wi-Fi goes off here, and back on when the device is restored.
    const mobileDefault = (await this.state.makeMobileDataDefault?.()) ?? { ok: true, changed: false };
    if (!mobileDefault.ok) return { reached: false, network, cause: 'not-default', ...said(partOf(mobileDefault)), after: null };
    if (mobileDefault.changed) log('%s turned Wi-Fi off: mobile data is the default network', this.device.serial);
    const how: AttachMethod = this.device.apnSwitch;
    let switched = false;
    if (how === 'manual' || how === 'settings-ui') {
      const moved = how === 'manual' ? await this.switchByHand(network, target.apn) : await this.switchInSettings(network, target.apn);
      if ('reached' in moved) return moved;
      switched = moved.switched;
    } else {
      switched = (await this.state.waitForAttach(target.apn, 0)) === null;
      log('%s switching to APN %s and waiting for the attach%s', this.device.serial, target.apn, switched ? '' : ' (already on it)');
      const result = await this.state.switchApn(target.apn, this.attachTimeoutMs);
      if (result.network === null) {
        const protocol = result.row.protocol ?? 'unset (IP)';
        const after = await this.observe(this.backend, { root: this.root });
        return {
          reached: false,
          network,
          cause: 'no-attach',
          ...said(message(result.inserted ? 'net.noAttach.copied' : 'net.noAttach', { apn: target.apn, protocol })),
          after,
        };
      }
    }
    return placeOf(network, target.apn, how, switched, await this.observe(this.backend, { root: this.root }), this.clock());
  }

  /**
   * A Wi-Fi network of the profile: Wi-Fi on and joined to `ssid` (`cmd wifi connect-network` on
   * Android 11 and later; a network the device has saved otherwise), then observed as the default
   * network. restore() leaves Wi-Fi as it was found.
   */
  private async moveToWifi(network: NetworkName, ssid: string): Promise<Attachment> {
    const join = this.state.joinWifi;
    if (join === undefined) return { reached: false, network, cause: 'no-attach', ...said(message('net.wifiCannotJoin', { ssid })), after: null };
    log('%s joining Wi-Fi "%s"', this.device.serial, ssid);
    const joined = await join.call(this.state, ssid, this.attachWaitMs);
    // Not joined is no attach the device failed (it may be out of range): skipped, not failed.
    if (!joined.ok) return { reached: false, network, cause: 'not-switched', ...said(partOf(joined)), after: null };
    return placeOnWifi(network, ssid, joined.switched, await this.observe(this.backend, { root: this.root }), this.clock());
  }

  /**
   * A v6lab gateway's network: nothing to switch (a person connected the device to it); the device
   * is observed, and it is there when its default network holds an address of the gateway's.
   */
  private async onGateway(network: NetworkName, dir: string): Promise<Attachment> {
    const gateway = readGatewayNetwork(dir);
    // No gateway to be on is no attach the device failed: skipped, as a network not switched to.
    if ('down' in gateway) return { reached: false, network, cause: 'not-switched', ...said(message('untranslated', { text: gateway.down })), after: null };
    return placeOnGateway(network, gateway, await this.observe(this.backend, { root: this.root }), this.clock());
  }

  private get attachWaitMs(): number {
    return this.attachTimeoutMs ?? ATTACH_TIMEOUT_MS;
  }

  /**
   * `apnSwitch: manual`: a device already on the APN is taken as it is; else a person is asked
   * (on certify's terminal) and, once they press Enter, the attach is waited for to a deadline.
   * The switch then happened while the harness watched (a capture open across it).
   */
  private async switchByHand(network: NetworkName, apn: string): Promise<Unreached | { switched: boolean }> {
    if ((await this.state.waitForAttach(apn, 0)) !== null) return { switched: false };
    const timeoutMs = this.helpers.promptTimeoutMs ?? MANUAL_SWITCH_TIMEOUT_MS;
    log('%s asking for a switch to APN %s (%d ms to answer)', this.device.serial, apn, timeoutMs);
    const answer = await (this.helpers.prompt ?? NO_TERMINAL).ask({ serial: this.device.serial, network, apn, timeoutMs });
    if (!answer.answered)
      return {
        reached: false,
        network,
        cause: 'not-switched',
        ...said(
          message('net.byHand', {
            apn,
            answer: noAnswerMessage(answer.detail, { apn, timeoutMs }),
          }),
        ),
        after: null,
      };
    if ((await this.state.waitForAttach(apn, this.attachWaitMs)) === null)
      return {
        reached: false,
        network,
        cause: 'not-switched',
        ...said(message('net.enterNoAttach', { apn, seconds: this.attachWaitMs / 1000, now: await this.namedApn() })),
        after: null,
      };
    return { switched: true };
  }

  /**
   * `apnSwitch: settings-ui`: the harness selects the APN in Android's Settings as a person
   * would, then waits for the attach as it does after editing the table. Selected but no attach
   * is the network refusing it (the attach checks judge that); not selected is said as it was.
   */
  private async switchInSettings(network: NetworkName, apn: string): Promise<Unreached | { switched: boolean }> {
    if ((await this.state.waitForAttach(apn, 0)) !== null) return { switched: false };
    const select = this.helpers.settingsUi ?? null;
    if (select === null)
      return {
        reached: false,
        network,
        cause: 'not-switched',
        ...said(message('net.noSettingsSession', { apn })),
        after: null,
      };
    log('%s selecting APN %s in Settings', this.device.serial, apn);
    const outcome = await select(apn);
    if (!outcome.selected)
      return {
        reached: false,
        network,
        cause: 'not-switched',
        ...said(message('net.settingsNotSelected', { apn, why: partOf(outcome) })),
        after: null,
      };
    if ((await this.state.waitForAttach(apn, this.attachWaitMs)) === null) {
      return {
        reached: false,
        network,
        cause: 'no-attach',
        ...said(
          message(outcome.already ? 'net.settingsNoAttach.already' : 'net.settingsNoAttach.selected', {
            apn,
            seconds: this.attachWaitMs / 1000,
            now: await this.namedApn(),
          }),
        ),
        after: await this.observe(this.backend, { root: this.root }),
      };
    }
    return { switched: true };
  }

  /** What the mobile network names now, for a reason. */
  private async namedApn(): Promise<string> {
    const observation = await this.observe(this.backend, { root: this.root });
    const mobile = mobileNetwork(observation.connectivity);
    return mobile === null ? 'no mobile network' : `the mobile network names APN ${mobile.extra ?? '(none)'}`;
  }
}
