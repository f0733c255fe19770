/**
 * Which flows of a capture are the app's. On Android, /proc/net/{tcp,udp}{,6} list every socket
 * with its owner uid and `dumpsys package` gives the app's uid: a flow whose client endpoint is
 * one of the app's sockets, seen while the app ran, is the app's. Where sockets could not be
 * read (or closed between polls), the time window minus a baseline of what ran before launch
 * stands in, and the result says which method decided each flow.
 */
import type { CaptureAnalysis, Flow } from '../analysis/index.js';
import { embeddedIpv4Text, formatAddress, isClatIpv4, parseAddress, parseNat64Prefix } from '../net/address.js';

/** A socket seen in /proc/net, reduced to what attribution needs. */
export interface OwnedSocket {
  transport: 'tcp' | 'udp';
  local: { address: string; port: number };
  remote: { address: string; port: number };
  uid: number;
}

export type AttributionMethod = 'uid' | 'window';

export interface Attribution {
  /** The app's flows, by id. */
  flows: Set<number>;
  /** How each of the app's flows was attributed. */
  method: Map<number, AttributionMethod>;
  /** The method that decided most: what the result reports. */
  summary: AttributionMethod | 'none';
}

export interface AttributionInput {
  analysis: CaptureAnalysis;
  /** Sockets polled during the window (every poll, concatenated). */
  sockets: readonly OwnedSocket[];
  appUid: number;
  /** The app's window (seconds since the epoch): launch to terminate. */
  window: { start: number; end: number };
  /**
   * Destinations (server address text and port) seen before launch, from the baseline capture:
   * background traffic a window-only attribution must not blame on the app.
   */
  baseline: ReadonlySet<string>;
}

/** `::ffff:1.2.3.4` (a v4-mapped socket in tcp6) and `1.2.3.4` are one endpoint. */
function addressKey(address: string): string {
  let bytes = parseAddress(address).bytes;
  // RFC 4291 section 2.5.5.2: ::ffff:a.b.c.d is an IPv4 socket on an IPv6 one.
  if (bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) bytes = bytes.subarray(12);
  // A CLAT socket is bound to 192.0.0.4: any 192.0.0.0/29 source is the same app socket.
  if (bytes.length === 4 && isClatIpv4(bytes, 0)) return '192.0.0.4';
  return formatAddress(bytes, 0, bytes.length === 4 ? 4 : 6);
}

/**
 * A socket is its local and remote endpoints (ports are reused over a long run); an unconnected
 * UDP socket has no remote, and is then known by its local endpoint alone.
 */
function socketKeys(transport: string, local: { address: string; port: number }, remote: { address: string; port: number } | null): string[] {
  const near = `${transport}|${addressKey(local.address)}|${local.port}`;
  const unconnected = remote === null || remote.port === 0;
  return unconnected ? [near] : [`${near}|${addressKey(remote.address)}|${remote.port}`, near];
}

export const destinationKey = (f: Pick<Flow, 'server' | 'serverPort'>): string => `${f.server}|${f.serverPort}`;

export function attributeFlows(input: AttributionInput): Attribution {
  const { analysis, sockets, appUid, window, baseline } = input;
  const owner = new Map<string, number>();
  // A connected socket is stored by both endpoints, an unconnected one by its local endpoint:
  // only an unconnected socket answers for its local endpoint alone.
  for (const s of sockets) owner.set(socketKeys(s.transport, s.local, s.remote)[0]!, s.uid);
  const ownerOf = (f: Flow | undefined): number | undefined => {
    if (!f) return undefined;
    const [exact, near] = socketKeys(f.transport, { address: f.client, port: f.clientPort }, { address: f.server, port: f.serverPort });
    return owner.get(exact!) ?? (near === undefined ? undefined : owner.get(near));
  };
  const flows = new Set<number>();
  const method = new Map<number, AttributionMethod>();
  const byId = new Map(analysis.flows.map((f) => [f.id, f]));
  const prefixes = analysis.nat64Prefixes.map((p) => parseNat64Prefix(p));
  /**
   * The IPv4 socket behind a CLAT flow seen only as its IPv6 leg (a capture at the gateway sees
   * no IPv4): 192.0.0.4 and the same port, to the IPv4 address the NAT64 destination embeds.
   */
  const ipv4Socket = (f: Flow): number | undefined => {
    if (f.path !== 'clat' || f.family !== 6) return undefined;
    const ipv4 = embeddedIpv4Text(f.server, prefixes);
    if (ipv4 === null) return undefined;
    const [exact, near] = socketKeys(f.transport, { address: '192.0.0.4', port: f.clientPort }, { address: ipv4, port: f.serverPort });
    return owner.get(exact!) ?? (near === undefined ? undefined : owner.get(near));
  };
  for (const flow of analysis.flows) {
    if (flow.application === 'dns') continue;
    // The IPv6 leg of a CLAT socket is owned through its IPv4 twin (the app's socket is IPv4).
    const known = ownerOf(flow) ?? ownerOf(flow.twin === null ? undefined : byId.get(flow.twin)) ?? ipv4Socket(flow);
    if (known !== undefined) {
      if (known === appUid) {
        flows.add(flow.id);
        method.set(flow.id, 'uid');
      }
      continue;
    }
    // No socket seen: in the window, and not a destination the handset used before launch.
    // A TCP flow whose handshake was not seen began before the window (or is a stray segment of
    // an old connection): it is no evidence of what the app did.
    const inWindow = flow.firstTs >= window.start && flow.firstTs <= window.end;
    const begunInWindow = flow.transport === 'udp' || flow.established !== null;
    if (inWindow && begunInWindow && !baseline.has(destinationKey(flow))) {
      flows.add(flow.id);
      method.set(flow.id, 'window');
    }
  }
  const uidCount = [...method.values()].filter((m) => m === 'uid').length;
  const summary = method.size === 0 ? 'none' : uidCount * 2 >= method.size ? 'uid' : 'window';
  return { flows, method, summary };
}
