/** The analysis document of CONTRACTS.md section 2 (`v6lab analyze --json`), plus additive fields. */
import type { JsonBytes } from './json-bytes.js';

export type FlowPath = 'native-v6' | 'nat64' | 'clat' | 'native-v4';
export const FLOW_PATHS: readonly FlowPath[] = ['native-v6', 'nat64', 'clat', 'native-v4'];

export interface CaptureFacts {
  format: 'pcap' | 'pcapng';
  linkTypes: number[];
  /** Records read, duplicates included. */
  packets: number;
  /** Wire bytes (original lengths) of all records. */
  bytes: number;
  firstTs: number | null;
  lastTs: number | null;
  /** Packets dropped as copies of one already seen on another interface (`-i any`). */
  duplicates: number;
  warnings: string[];
  /**
   * Set when the analysis reached its memory bound (`--max-memory`, AnalyzeOptions.maxMemory):
   * flows and DNS queries first seen after it were counted, not listed, so what is listed is not
   * all the capture held and no verdict may rest on it alone (CAPTURE_INCOMPLETE). null: every
   * flow and query seen is listed. Absent in documents of versions before it (read as null).
   */
  unlisted?: UnlistedFacts | null;
  /**
   * Packets the capturing tcpdump said the kernel dropped (its "N packets dropped by kernel" at
   * exit: its ring was full, so they are missing from the pcap), set by the harness for a capture
   * it ran; more than 0 and no verdict may rest on the capture (CAPTURE_DROPPED). null or absent:
   * not reported (a file analysed on its own, PCAPdroid, an emulator's file, a tcpdump stopped
   * before it could say).
   */
  droppedByKernel?: number | null;
}

/** What the analysis counted but did not list once past its memory bound. */
export interface UnlistedFacts {
  /** The bound, in bytes of analysis state. */
  maxMemory: number;
  /** The packet (1-based) at which the bound was reached. */
  atPacket: number;
  /** Packets and wire bytes of flows first seen after it. */
  packets: number;
  bytes: number;
  dnsQueries: number;
  clientHellos: number;
}

export interface Flow {
  /** Index in `flows`, what evidence cites. */
  id: number;
  transport: 'tcp' | 'udp';
  family: 4 | 6;
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  packets: number;
  bytes: number;
  firstTs: number;
  lastTs: number;
  path: FlowPath;
  /** TCP handshake completed; false when a SYN got no completion; null for UDP or no SYN seen. */
  established: boolean | null;
  /** A TCP reset was seen. */
  reset: boolean;
  /** Payload bytes the client sent (TCP or UDP, wire lengths, retransmissions included). */
  clientPayloadBytes: number;
  /**
   * TCP: the server's bytes the client acknowledged in order (its highest ACK past the server's
   * SYN-ACK), so data that never reached it, or reached it past a hole, is not counted; null for
   * UDP or without the SYN-ACK. Established with a request sent and 0 here: the connection stalled.
   */
  serverBytesAcked: number | null;
  hostname: string | null;
  /**
   * Where the hostname came from: a DNS answer that gave the server address, or only the TLS
   * SNI. null: nothing names the server, so an IPv4 one is an address literal.
   */
  hostnameSource: 'dns' | 'sni' | null;
  sni: string | null;
  /** What the first payload was recognised as. */
  application: 'tls' | 'quic' | 'dns' | null;
  /** The other leg of the same socket through the CLAT (IPv4 <-> IPv6), or null. */
  twin: number | null;
}

export interface DnsQuery {
  ts: number;
  id: number;
  name: string;
  qtype: string;
  rcode: string | null;
  answers: string[];
  transport: 'udp' | 'tcp';
  /** The flow carrying the query. */
  flow: number;
}

export interface HostnameFacts {
  name: string;
  queried: string[];
  /** IPv4 addresses from A answers. */
  a: string[];
  /** AAAA answers outside every NAT64 prefix. */
  nativeAaaa: string[];
  /** AAAA answers synthesized by DNS64 (inside a NAT64 prefix). */
  synthesizedAaaa: string[];
  /** Flows to an address this name resolved to, first first. */
  flows: number[];
  /** Socket family of the first connection attempt (CLAT counts as IPv4, NAT64 as IPv6). */
  firstAttemptFamily: 4 | 6 | null;
  firstAttemptTs: number | null;
  firstIpv6AttemptTs: number | null;
  firstIpv4AttemptTs: number | null;
  /** IPv4 attempt minus the IPv6 attempt before it, in ms (Happy Eyeballs fallback), or null. */
  fallbackDelayMs: number | null;
  /** An IPv6 attempt never completed its handshake (no answer, or a reset in reply to the SYN). */
  ipv6Failed: boolean;
}

export interface PathTotals {
  'native-v6': number;
  nat64: number;
  clat: number;
  'native-v4': number;
}

/** One router's PREF64 advertisement (RFC 8781) of one NAT64 prefix, summed over the capture's RAs. */
export interface Pref64Evidence {
  /** The NAT64 prefix, canonical (`64:ff9b::/96`). */
  prefix: string;
  /** The advertising router (the RA's link-local source). */
  router: string;
  firstTs: number;
  lastTs: number;
  /** Router advertisements that carried it. */
  advertisements: number;
  /** The last one's lifetime in seconds; 0: the router withdrew the prefix. */
  lifetimeSeconds: number;
}

export interface CaptureAnalysis {
  capture: CaptureFacts;
  nat64Prefixes: string[];
  /**
   * Where each prefix came from: given, an RFC 7050 answer, or else a router advertisement's
   * PREF64 option (`pref64` holds every advertisement, also of prefixes found otherwise).
   */
  nat64PrefixSources: Record<string, 'given' | 'rfc7050' | 'pref64'>;
  /** PREF64 options (RFC 8781) of the captured router advertisements. */
  pref64: Pref64Evidence[];
  clatAddresses: string[];
  flows: Flow[];
  dns: DnsQuery[];
  hostnames: HostnameFacts[];
  summary: {
    bytesByPath: PathTotals;
    flowsByPath: PathTotals;
    /** Share of flow bytes by path (0..1); a CLAT socket counted once. */
    shareByPath: PathTotals;
    icmpPackets: { v4: number; v6: number };
    /** IP packets that are neither TCP, UDP nor ICMP (ESP, GRE, ...). */
    otherIpPackets: number;
    nonIpPackets: number;
  };
}

/**
 * The analysis as CaptureAnalysis has it, with its three big lists built one entry at a time on
 * demand (what `--json` streams): `flow(i)` for i < flowCount is `flows[i]`, and so on. Valid
 * until the analyzer receives its next packet.
 */
export interface AnalysisDocument {
  capture: CaptureFacts;
  nat64Prefixes: string[];
  nat64PrefixSources: CaptureAnalysis['nat64PrefixSources'];
  pref64: Pref64Evidence[];
  clatAddresses: string[];
  flowCount: number;
  flow(id: number): Flow;
  /** flow(id).bytes, without building the flow. */
  flowBytes(id: number): number;
  /** Writes printableJson(flow(id)) straight from the columns (what `--json` streams). */
  writeFlow(id: number, out: JsonBytes): void;
  /** Writes printableJson(dnsQuery(index)), likewise. */
  writeDnsQuery(index: number, out: JsonBytes): void;
  /** Writes printableJson(hostname(index)). */
  writeHostname(index: number, out: JsonBytes): void;
  dnsCount: number;
  dnsQuery(index: number): DnsQuery;
  hostnameCount: number;
  hostname(index: number): HostnameFacts;
  /** hostname(index).nativeAaaa.length > 0, without building the facts. */
  hostnameHasNativeAaaa(index: number): boolean;
  summary: CaptureAnalysis['summary'];
}

export interface AnalyzeOptions {
  /** NAT64 prefixes known beforehand (RFC 6052 lengths), added to the ones discovered. */
  nat64Prefixes?: readonly string[];
  /** CLAT IPv6 addresses known beforehand, added to the ones inferred. */
  clatAddresses?: readonly string[];
  /** Name used in errors and warnings. */
  source?: string;
  /**
   * Bound of the analysis state in bytes (flows, DNS queries, names, answers; not the process's
   * RSS). Past it, new flows and queries are counted in the totals but not listed, and a warning
   * starting `--max-memory` says how much was left out. @default 1 GiB
   */
  maxMemory?: number;
  /**
   * The capture's size in bytes, when known (analyzeFile passes the file's): the first flow and
   * DNS columns are reserved in proportion, so a large capture's tables never grow by copy, and a
   * small one (a capture window) reserves little.
   */
  sizeHint?: number;
}
