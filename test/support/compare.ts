/**
 * The analyzer's view and tshark's view of one capture, put in one spelling so they compare:
 * the lab cross-check (root, fresh captures) and the fixture test (no root, stored captures)
 * use the same rules.
 */
import type { CaptureAnalysis } from '../../lib/analysis/index.js';
import { normalizeAddress, type TsharkView } from '../lab/tshark.js';

export const sorted = (values: string[]): string[] => [...values].sort();

/** `addr:port`, IPv6 in brackets, both in the one normal spelling. */
function endpoint(address: string, port: number): string {
  const normal = normalizeAddress(address);
  return normal.includes(':') ? `[${normal}]:${port}` : `${normal}:${port}`;
}

/** A conversation's identity with the endpoints unordered: tshark's A is not always the client. */
export function tupleKey(transport: string, x: string, xPort: number, y: string, yPort: number): string {
  const [first, second] = [endpoint(x, xPort), endpoint(y, yPort)].sort();
  return `${transport} ${first} <-> ${second}`;
}

export function flowTuplesOf(analysis: CaptureAnalysis): string[] {
  return sorted(analysis.flows.map((f) => tupleKey(f.transport, f.client, f.clientPort, f.server, f.serverPort)));
}

export function tsharkTuplesOf(view: TsharkView): string[] {
  return sorted(view.conversations.map((c) => tupleKey(c.transport, c.a, c.aPort, c.b, c.bPort)));
}

/** Flows with packets and bytes, bytes at the precision tshark printed them ("12 kB" from 10000 on). */
export function flowCountsOf(analysis: CaptureAnalysis, reference: TsharkView): string[] {
  const precisionOf = new Map(reference.conversations.map((c) => [tupleKey(c.transport, c.a, c.aPort, c.b, c.bPort), c.bytesPrecision]));
  return sorted(
    analysis.flows.map((f) => {
      const key = tupleKey(f.transport, f.client, f.clientPort, f.server, f.serverPort);
      const precision = precisionOf.get(key) ?? 1;
      return `${key} packets=${f.packets} bytes=${Math.floor(f.bytes / precision) * precision}`;
    }),
  );
}

export function tsharkCountsOf(view: TsharkView): string[] {
  return sorted(view.conversations.map((c) => `${tupleKey(c.transport, c.a, c.aPort, c.b, c.bPort)} packets=${c.frames} bytes=${c.bytes}`));
}

export function dnsQueriesOf(analysis: CaptureAnalysis): string[] {
  return sorted(analysis.dns.map((q) => `${q.name} ${q.qtype}`));
}

/** One ClientHello per TLS connection in the lab (no HelloRetryRequest, no resumption). */
export function sniOf(analysis: CaptureAnalysis): string[] {
  return sorted(analysis.flows.flatMap((f) => (f.sni ? [f.sni] : [])));
}
