/**
 * DNS messages through dns-packet (payloads only), reduced to what the analysis needs.
 */
import { createRequire } from 'node:module';
import type DnsPacketModule from 'dns-packet';

// Required on the first DNS message: a capture without DNS, and `v6lab --help`, never load it.
const require = createRequire(import.meta.url);
let dnsPacketModule: typeof DnsPacketModule | undefined;

export interface DnsMessage {
  id: number;
  response: boolean;
  /** The first question; DNS in practice carries exactly one. */
  name: string;
  qtype: string;
  rcode: string | null;
  /** A and AAAA data in answer order; CNAMEs are followed implicitly (their targets' records). */
  addresses: string[];
}

/** Decodes one DNS message; returns a fixed reason string when it is not one. */
export function decodeDns(payload: Uint8Array): DnsMessage | string {
  let decoded: DnsPacketModule.Packet;
  try {
    dnsPacketModule ??= require('dns-packet') as typeof DnsPacketModule;
    decoded = dnsPacketModule.decode(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
  } catch {
    return 'DNS payload could not be decoded';
  }
  const question = decoded.questions?.[0];
  if (question === undefined) return 'DNS message without a question';
  const response = decoded.type === 'response';
  const addresses: string[] = [];
  for (const answer of decoded.answers ?? []) {
    if ((answer.type === 'A' || answer.type === 'AAAA') && typeof answer.data === 'string') addresses.push(answer.data);
  }
  return {
    id: decoded.id ?? 0,
    response,
    name: question.name.toLowerCase(),
    qtype: String(question.type),
    // @types/dns-packet omits the decoded rcode; dns-packet 5.6 sets it on every message.
    rcode: response ? ((decoded as { rcode?: string }).rcode ?? 'NOERROR') : null,
    addresses,
  };
}
