/** The lab network's public types: what `lab up` is asked for, and what it records. */
import type { LabProcess } from './process.js';

/** What the carrier's APN offers: IPv6 only (with DNS64/NAT64), dual stack, or IPv4 only. */
export type ApnType = 'ipv6' | 'ipv4v6' | 'ipv4';
/** What the handset's APN entry asks for (Android's `protocol` column): the PDN type. */
export type PdpType = 'IP' | 'IPV6' | 'IPV4V6';
export const APN_TYPES: readonly ApnType[] = ['ipv6', 'ipv4v6', 'ipv4'];
export const PDP_TYPES: readonly PdpType[] = ['IP', 'IPV6', 'IPV4V6'];

/** One host of the lab's internet (CONTRACTS.md section 5; the same shape as lib/lab/world.ts). */
export interface WorldHost {
  name: string;
  ipv4: boolean;
  /** `blackhole`: the AAAA is published but IPv6 packets to the host are dropped. */
  ipv6: boolean | 'blackhole';
}

export interface HandsetPlan {
  /** 0..199; names the handset's namespaces (`hs<index>`) and selects its addresses. */
  index: number;
  /** The APN it attaches to at start. */
  apn: ApnType;
  /** The PDN type its APN entry asks for. */
  pdpType: PdpType;
}

export interface LabPlan {
  /** Short, `[a-z0-9]{1,6}`; part of every namespace name (`v6l-<labId>-inet`). */
  labId: string;
  /** Where `lab.json`, the configurations, certificates and daemon logs live. */
  stateDir: string;
  world: { hosts: WorldHost[] };
  handsets: HandsetPlan[];
  /**
   * Give every handset a Wi-Fi interface `wlan0` joined to its own dual-stack access point
   * (namespace `v6l-<labId>-ap<index>`), mobile data staying the default route.
   * @default true
   */
  wifi?: boolean;
}

/** A namespace the lab made. */
export interface LabNamespace {
  name: string;
  role: 'internet' | 'gateway' | 'handset' | 'access-point';
  handsetIndex?: number;
}

/** Where a world host is, as the lab assigned it. */
export interface WorldHostAddresses {
  name: string;
  /** null: no A record. */
  ipv4: string | null;
  /** null: no AAAA record. */
  ipv6: string | null;
  /** The AAAA is published but IPv6 packets to it are dropped in the internet namespace. */
  ipv6Blackholed: boolean;
}

/** The CLAT (464XLAT, RFC 6877) a handset runs on an IPv6-only attach, as Android does. */
export interface ClatState {
  interface: 'v4-rmnet_data0';
  /** Android's CLAT address, 192.0.0.4 (RFC 7335). */
  ipv4: string;
  /** The address of the handset's /64 that 192.0.0.4 is mapped to. */
  ipv6: string;
  /** Found by RFC 7050 discovery through the handset's resolver, e.g. `64:ff9b::/96`. */
  nat64Prefix: string;
}

/** The handset's Wi-Fi link (`wlan0`, joined to its access point namespace). */
export interface WifiState {
  interface: 'wlan0';
  accessPointNamespace: string;
  /** SLAAC prefix the access point advertises. */
  ipv6Prefix: string;
  ipv6Addresses: string[];
  /** Assigned by the lab (a static lease), as a home router's DHCP would. */
  ipv4Address: string;
  ipv4Gateway: string;
}

export interface HandsetState {
  /** The handset's number in the plan; the serial it gets over adb is not this module's. */
  index: number;
  namespace: string;
  gatewayNamespace: string;
  /** The mobile data interface. */
  interface: 'rmnet_data0';
  apn: ApnType;
  pdpType: PdpType;
  /** False when the PDN type and the APN share no IP version (IPV6 on an IPv4-only APN). */
  attached: boolean;
  /** Why the attach failed, as the network would reject it; null when attached. */
  attachError: string | null;
  /** The IP versions the attach gave: pdpType intersected with what the APN offers. */
  families: (4 | 6)[];
  /** The /64 the gateway advertises to this handset (null without IPv6). */
  ipv6Prefix: string | null;
  /** Global addresses of rmnet_data0 at attach: the SLAAC one and the temporary (privacy) one. */
  ipv6Addresses: string[];
  /** The IPv6 default router (the gateway's link-local address), learnt from the RA. */
  ipv6Gateway: string | null;
  ipv4Address: string | null;
  ipv4Gateway: string | null;
  /** The resolvers in the handset's resolv.conf (RDNSS first), in order. */
  dnsServers: string[];
  /** Whether the resolver does DNS64 (the `ipv6` APN). */
  dns64: boolean;
  clat: ClatState | null;
  wifi: WifiState | null;
  /** When the current attach completed (ISO 8601). */
  attachedAt: string | null;
}

/** Everything a running lab is made of; written to `${stateDir}/lab.json` as it comes up. */
export interface LabState {
  version: 1;
  labId: string;
  stateDir: string;
  /** Configurations, certificates and daemon logs. */
  runDir: string;
  phase: 'starting' | 'up' | 'failed';
  startedAt: string;
  /** How long `lab up` took, once it has finished. */
  upMs: number | null;
  namespaces: LabNamespace[];
  /** Directories under /etc/netns the lab made (each holds the namespace's resolv.conf). */
  netnsDirs: string[];
  processes: LabProcess[];
  world: {
    /** The authoritative DNS server of the lab's internet (also answers ipv4only.arpa). */
    dnsServers: string[];
    /** The lab CA that signed every host's certificate (TLS on 443). */
    caCertFile: string;
    hosts: WorldHostAddresses[];
  };
  handsets: HandsetState[];
}

export interface ComponentStatus {
  kind: 'namespace' | 'process';
  name: string;
  handsetIndex?: number;
  running: boolean;
  healthy: boolean;
  detail?: string;
}

export interface HandsetStatus {
  index: number;
  attached: boolean;
  /** The handset has what its attach should give (addresses, routes, CLAT). */
  healthy: boolean;
  /** What is missing, in words; empty when healthy. */
  problems: string[];
}

export interface LabStatus {
  /** null when there is no state file. */
  labId: string | null;
  phase: LabState['phase'] | 'down';
  /** Every component running and every handset healthy. */
  healthy: boolean;
  components: ComponentStatus[];
  handsets: HandsetStatus[];
}
