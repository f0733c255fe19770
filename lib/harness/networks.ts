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
import type { RootMethod } from '../device/facts.js';
import type { DumpsysConnectivity } from '../device/parse/connectivity.js';
import { type DeviceState, mobileNetwork } from './device-state.js';
import type { DevicePlan } from './plan.js';

const log = createDebug('v6lab:attach');

/** How the device came to be on a network. */
export type AttachMethod = 'content' | 'manual';

/** One observation of the device on one network, taken in this run. */
export interface NetworkObservation {
  network: NetworkName;
  /** The APN the profile names for the network, and the one the mobile network named when observed. */
  apn: string;
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
  /** Manual switching: the device was not on the APN when asked. */
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

const NETWORK_WORDS: Record<NetworkName, string> = { ipv6: 'IPv6-only', ipv4v6: 'dual-stack' };

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
      detail: `the mobile network names APN ${named ?? '(none)'} by the time the device was observed, not ${apn}: ${how === 'manual' ? 'leave the device on it for the run' : 'something else switched it'}`,
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
      detail: `the device is attached to APN ${apn}, but its default network is ${defaultNetwork.type ?? 'another network'} (netId ${defaultNetwork.netId}${defaultNetwork.extra ? `, ${defaultNetwork.extra}` : ''}): apps and probes would not use the APN; turn Wi-Fi off and run again`,
      after: null,
    };
  }
  return {
    reached: true,
    network,
    detail: `attached to APN ${apn}`,
    facts: { network, apn, defaultNetwork, takenAt: takenAt.toISOString(), how, switched, observation },
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
    private readonly state: Pick<DeviceState, 'switchApn' | 'waitForAttach'>,
    private readonly root: RootMethod,
    private readonly observe: (backend: DeviceBackend, options: { root: RootMethod }) => Promise<Observation> = observeDevice,
    private readonly clock: () => Date = () => new Date(),
    /** How long an attach the harness asked for may take. */
    private readonly attachTimeoutMs?: number,
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
    const target = this.device.networks[network];
    if (target === null)
      return {
        reached: false,
        network,
        cause: 'not-in-profile',
        detail: `the profile names no ${NETWORK_WORDS[network]} APN (networks.${network})`,
        after: null,
      };
    const how: AttachMethod = this.device.apnSwitch;
    let switched = false;
    if (how === 'manual') {
      log('%s waiting 1 s for the device to be on APN %s (switched by hand)', this.device.serial, target.apn);
      if ((await this.state.waitForAttach(target.apn, 1000)) === null) {
        return {
          reached: false,
          network,
          cause: 'not-switched',
          detail: `the device is not on APN ${target.apn} and the profile says APNs are switched by hand: switch to it and run again`,
          after: null,
        };
      }
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
          detail: `the device did not attach to APN ${target.apn} (protocol ${protocol}${result.inserted ? ', copied from its factory default APN' : ''}) within the deadline: the network refused what it asked for`,
          after,
        };
      }
    }
    return placeOf(network, target.apn, how, switched, await this.observe(this.backend, { root: this.root }), this.clock());
  }
}
