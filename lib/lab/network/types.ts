/** The lab network's public types: what `lab up` is asked for, and what it records. */
import type { LabProcess } from './process.js';

/**
 * What the carrier's APN offers: IPv6 only with DNS64/NAT64 (`ipv6`), true IPv6-only with no
 * DNS64 or NAT64 behind it, so no IPv4 server is reachable and a handset's RFC 7050 discovery
 * finds no prefix to start a CLAT with (`ipv6-true`, the IETF app-testing draft's true IPv6-only
 * client), dual stack, or IPv4 only.
 */
export type ApnType = 'ipv6' | 'ipv6-true' | 'ipv4v6' | 'ipv4';
/** What the handset's APN entry asks for (Android's `protocol` column): the PDN type. */
export type PdpType = 'IP' | 'IPV6' | 'IPV4V6';
export const APN_TYPES: readonly ApnType[] = ['ipv6', 'ipv6-true', 'ipv4v6', 'ipv4'];
/** The APN types whose gateway runs DNS64 and NAT64 (RFC 6147, RFC 6146) for its handsets. */
export const NAT64_APN_TYPES: readonly ApnType[] = ['ipv6'];
export const PDP_TYPES: readonly PdpType[] = ['IP', 'IPV6', 'IPV4V6'];

/**
 * How a host's IPv6 fails while its IPv4 works, as the IETF app-testing draft lists the failures
 * that show on one family only:
 * - `blackhole`: every IPv6 packet to it is dropped (no answer to the SYN);
 * - `pmtud-blackhole`: its IPv6 path has a 1280-byte hop whose ICMPv6 Packet Too Big never
 *   arrives: the handshake and small answers pass, a larger answer stalls;
 * - `late-failure`: the TCP handshake completes, then the server says nothing (TLS never
 *   completes, no HTTP answer).
 */
export type Ipv6Failure = 'blackhole' | 'pmtud-blackhole' | 'late-failure';
export const IPV6_FAILURES: readonly Ipv6Failure[] = ['blackhole', 'pmtud-blackhole', 'late-failure'];
/** A record the world's authoritative DNS leaves out although the host has that family. */
export type DnsOmission = 'no-aaaa' | 'no-a';
export const DNS_OMISSIONS: readonly DnsOmission[] = ['no-aaaa', 'no-a'];

/** One host of the lab's internet (CONTRACTS.md section 5; the same shape as lib/lab/world.ts). */
export interface WorldHost {
  name: string;
  ipv4: boolean;
  /** true/false: the host has IPv6 or not; a failure: it has IPv6, and its IPv6 fails that way. */
  ipv6: boolean | Ipv6Failure;
  /** The zone leaves that record out (the host keeps the address, reachable by literal). @default both published */
  dns?: DnsOmission;
}

/**
 * What a handset's own configuration does to its network stack, as a phone's factory defaults
 * do: applied to the handset namespace's kernel before its links come up, so a deliberately
 * non-compliant handset really lacks what the OS checks look for.
 */
export interface HandsetNetworkSettings {
  /** IPv6 on mobile data; off: `disable_ipv6` on rmnet_data0 (the RA and the IPv6 RDNSS are ignored). */
  mobileIpv6: boolean;
  /** RFC 8981 temporary (privacy) addresses on mobile data: `use_tempaddr` 2, or 0. */
  mobilePrivacy: boolean;
  /** IPv6 on Wi-Fi; off: `disable_ipv6` on wlan0. */
  wifiIpv6: boolean;
  /** Temporary (privacy) addresses on Wi-Fi: `use_tempaddr` 2, or 0. */
  wifiPrivacy: boolean;
  /**
   * A CLAT (464XLAT) on an IPv6-only attach, as Android's `net.464xlat.cellular.enabled`. Off:
   * the handset has IPv6 only there, and IPv4 sockets fail.
   */
  clat: boolean;
}

/** A compliant handset: IPv6 and privacy addresses on both networks, and a CLAT. */
export const DEFAULT_HANDSET_SETTINGS: Readonly<HandsetNetworkSettings> = Object.freeze({
  mobileIpv6: true,
  mobilePrivacy: true,
  wifiIpv6: true,
  wifiPrivacy: true,
  clat: true,
});

export interface HandsetPlan {
  /** 0..199; names the handset's namespaces (`hs<index>`) and selects its addresses. */
  index: number;
  /** The APN it attaches to at start. */
  apn: ApnType;
  /** The PDN type its APN entry asks for. */
  pdpType: PdpType;
  /**
   * The handset's own network settings; a missing one is on.
   * @default DEFAULT_HANDSET_SETTINGS (everything on)
   */
  settings?: Partial<HandsetNetworkSettings>;
  /**
   * Whether the handset joins its access point at start (a phone with Wi-Fi on and a saved
   * network in range), making Wi-Fi its default network. Only with the lab's Wi-Fi on; later,
   * setWifi joins and leaves.
   * @default false
   */
  wifiJoined?: boolean;
  /**
   * A VoLTE handset: a second mobile network, IMS, on its own interface (rmnet_data1) with an
   * IPv6 address and no internet, as a real phone's IMS PDN beside its internet one.
   * @default false
   */
  ims?: boolean;
}

/** A VoLTE handset's IMS network: an address on rmnet_data1 in a table of its own; the lab runs no IMS core behind it. */
export interface ImsState {
  interface: 'rmnet_data1';
  ipv6Address: string;
  pcscf: string;
}

export interface LabPlan {
  /** Short, `[a-z0-9]{1,6}`; part of every namespace name (`v6l-<labId>-inet`). */
  labId: string;
  /** Where `lab.json`, the configurations, certificates and daemon logs live. */
  stateDir: string;
  world: { hosts: WorldHost[] };
  handsets: HandsetPlan[];
  /**
   * Give every handset a Wi-Fi interface `wlan0` beside its own dual-stack access point
   * (namespace `v6l-<labId>-ap<index>`); joined (HandsetPlan.wifiJoined), Wi-Fi is the handset's
   * default network.
   * @default true
   */
  wifi?: boolean;
  /**
   * Every handset makes a phone's background traffic from system uids while attached: a
   * connectivity probe, NTP, a push channel (see background.ts).
   * @default true
   */
  backgroundTraffic?: boolean;
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
  /** null: no IPv4 address (and no A record). */
  ipv4: string | null;
  /** null: no IPv6 address (and no AAAA record). */
  ipv6: string | null;
  /** The AAAA is published but IPv6 packets to it are dropped in the internet namespace. */
  ipv6Blackholed: boolean;
  /** How its IPv6 fails after packets reach it (absent: it does not); `blackhole` is ipv6Blackholed. */
  ipv6Failure?: 'pmtud-blackhole' | 'late-failure';
  /** The record its zone leaves out although it has the address (absent: both are published). */
  dnsOmits?: 'A' | 'AAAA';
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
  /** The handset's global addresses on wlan0 (SLAAC, and temporary if it makes them); none with its Wi-Fi IPv6 off. */
  ipv6Addresses: string[];
  /** Leased by the access point's DHCP server (dnsmasq) to the handset's DHCP client (udhcpc). */
  ipv4Address: string;
  ipv4Gateway: string;
  /**
   * Whether the handset is joined to the access point (Android's Wi-Fi CONNECTED): then Wi-Fi is
   * its default network, as Android prefers a validated Wi-Fi over cellular. Not joined: wlan0 is
   * down with no address, as a phone's with Wi-Fi off or no saved network in range.
   */
  connected: boolean;
  /** The resolvers Wi-Fi gives (the home router's): the handset's while Wi-Fi is its default network. */
  dnsServers: string[];
}

/**
 * A handset's Ethernet (./ethernet.ts): an `eth*` link someone put in its namespace (the veth of
 * a v6lab gateway's device link, in tests), provisioned as Android's EthernetTracker does.
 */
export interface EthernetState {
  /** `eth0`, ... */
  interface: string;
  /**
   * Provisioned (an address from DHCPv4 or SLAAC): Ethernet is then the default network, as
   * Android ranks it above Wi-Fi and cellular. False while the link has no carrier or no address.
   */
  connected: boolean;
  /** The /64 of the router advertisement; null without IPv6 on the link. */
  ipv6Prefix: string | null;
  ipv6Addresses: string[];
  ipv6Gateway: string | null;
  ipv4Address: string | null;
  ipv4Gateway: string | null;
  /** The RA's RDNSS servers, then DHCPv4's, as resolv.conf lists them while Ethernet is the default. */
  dnsServers: string[];
  nat64Prefix: string | null;
  /** Where the NAT64 prefix came from: the RA's PREF64 option (RFC 8781) or RFC 7050 discovery. */
  nat64PrefixSource: 'pref64' | 'rfc7050' | null;
  clat: { interface: string; ipv4: string; ipv6: string; nat64Prefix: string } | null;
  /** Why a link that is there is not provisioned (no carrier, nothing answered); null when connected. */
  error: string | null;
  /** The routing tables it filled (its own, its CLAT's): kept, since a link that went has no index to compute them from. */
  routeTables: number[];
}

/** One part of a handset's background traffic: the world host it talks to and whose it is. */
export interface BackgroundPart {
  /** null: the world has no such host, so this part is skipped (the process log says so). */
  host: string | null;
  /** The Linux uid its process and sockets run under (a system uid, below Android's app range). */
  uid: number;
  /** How often it talks: a probe, a query, or a keepalive on the open channel. */
  intervalMs: number;
}

/** The background traffic a handset makes while attached, as a phone does besides its apps. */
export interface BackgroundTrafficState {
  /** The process that makes it (also in `processes` as `background`). */
  pid: number;
  startTime: string;
  logFile: string;
  /** HTTP and HTTPS `GET /generate_204`, as Android's NetworkMonitor validates a network. */
  probe: BackgroundPart;
  /** An SNTP query (RFC 4330), as Android's NetworkTimeUpdateService makes. */
  ntp: BackgroundPart;
  /** A long-lived TLS connection on 443 with a small keepalive, as a push service keeps. */
  push: BackgroundPart;
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
  /**
   * Global addresses of rmnet_data0 at attach: the SLAAC one and, when the handset makes them,
   * the temporary (privacy) one; none when its IPv6 is off.
   */
  ipv6Addresses: string[];
  /** The IPv6 default router (the gateway's link-local address), learnt from the RA. */
  ipv6Gateway: string | null;
  ipv4Address: string | null;
  ipv4Gateway: string | null;
  /** The resolvers in the handset's resolv.conf (RDNSS first, unless its IPv6 is off), in order. */
  dnsServers: string[];
  /** Whether the resolver does DNS64 (the `ipv6` APN). */
  dns64: boolean;
  clat: ClatState | null;
  wifi: WifiState | null;
  /** A VoLTE handset's IMS network (HandsetPlan.ims); null on others. */
  ims: ImsState | null;
  /** Its Ethernet, once an `eth*` link has appeared (absent in states written before it existed). */
  ethernet?: EthernetState | null;
  /** When the current attach completed (ISO 8601). */
  attachedAt: string | null;
  /** The handset's network settings as applied (the plan's, missing ones on). */
  settings: HandsetNetworkSettings;
  /** The per-interface sysctls that applied them, `key=value`, as written. */
  sysctls: string[];
  /** Its background traffic while attached; null when detached or switched off. */
  background: BackgroundTrafficState | null;
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
  /** The plan's `backgroundTraffic`: a re-attach starts it again when true. */
  backgroundTraffic: boolean;
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
