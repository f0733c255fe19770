/**
 * Handset-shaped captures built from the packet builders: a TCP connection, a DNS exchange,
 * a CLAT-translated socket, each as the frames an `-i any` capture (LINUX_SLL2) would hold.
 */
import { dnsQuery, dnsResponse, ipv4, ipv6, LINKTYPE, pcapFile, sll2, tcp, udp, type CapturedPacket, type UpperLayer } from './packets.js';

export const IFINDEX = { rmnet: 5, clat: 6, wlan: 7 } as const;

export class HandsetCapture {
  readonly packets: CapturedPacket[] = [];

  /** An IP packet on interface `ifIndex` at time `ts`. */
  ip(ts: number, src: string, dst: string, payload: UpperLayer, ifIndex: number = IFINDEX.rmnet): this {
    const six = src.includes(':');
    const packet = six ? ipv6({ src, dst, payload }) : ipv4({ src, dst, payload });
    this.packets.push({ ts, data: sll2({ protocol: six ? 0x86dd : 0x0800, ifIndex, payload: packet }) });
    return this;
  }

  /** The same IP packet on two interfaces, as the CLAT's TUN and the mobile interface show it. */
  ipTwice(ts: number, src: string, dst: string, payload: UpperLayer): this {
    this.ip(ts, src, dst, payload, IFINDEX.clat);
    return this.ip(ts + 0.00002, src, dst, payload, IFINDEX.rmnet);
  }

  dns(ts: number, client: string, server: string, port: number, id: number, name: string, qtype: 'A' | 'AAAA', answers: string[], rtt = 0.02): this {
    this.ip(ts, client, server, udp({ srcPort: port, dstPort: 53, payload: dnsQuery({ id, name, qtype }) }));
    return this.ip(ts + rtt, server, client, udp({ srcPort: 53, dstPort: port, payload: dnsResponse({ id, name, qtype, answers }) }));
  }

  /**
   * A TCP connection: handshake, the client's `request` segments, `responseBytes` back, FIN.
   * `outcome` 'timeout' sends SYNs that get nothing; 'reset' answers the SYN with RST.
   */
  tcp(
    ts: number,
    client: string,
    cport: number,
    server: string,
    sport: number,
    options: {
      request?: Uint8Array[];
      responseBytes?: number;
      outcome?: 'ok' | 'timeout' | 'reset';
      twice?: boolean;
      ifIndex?: number;
    } = {},
  ): this {
    const send = (t: number, src: string, dst: string, seg: UpperLayer) =>
      options.twice ? this.ipTwice(t, src, dst, seg) : this.ip(t, src, dst, seg, options.ifIndex);
    let cseq = 1000;
    let sseq = 5000;
    send(ts, client, server, tcp({ srcPort: cport, dstPort: sport, seq: cseq, flags: { syn: true } }));
    if (options.outcome === 'timeout') {
      send(ts + 1, client, server, tcp({ srcPort: cport, dstPort: sport, seq: cseq, flags: { syn: true } }));
      return this;
    }
    if (options.outcome === 'reset') {
      send(ts + 0.01, server, client, tcp({ srcPort: sport, dstPort: cport, seq: 0, ack: cseq + 1, flags: { rst: true, ack: true } }));
      return this;
    }
    send(ts + 0.01, server, client, tcp({ srcPort: sport, dstPort: cport, seq: sseq, ack: cseq + 1, flags: { syn: true, ack: true } }));
    cseq++;
    sseq++;
    let t = ts + 0.02;
    send(t, client, server, tcp({ srcPort: cport, dstPort: sport, seq: cseq, ack: sseq, flags: { ack: true } }));
    for (const chunk of options.request ?? []) {
      t += 0.001;
      send(t, client, server, tcp({ srcPort: cport, dstPort: sport, seq: cseq, ack: sseq, flags: { ack: true, psh: true }, payload: chunk }));
      cseq += chunk.length;
    }
    let left = options.responseBytes ?? 0;
    while (left > 0) {
      const n = Math.min(1400, left);
      t += 0.001;
      send(t, server, client, tcp({ srcPort: sport, dstPort: cport, seq: sseq, ack: cseq, flags: { ack: true }, payload: new Uint8Array(n) }));
      sseq += n;
      left -= n;
    }
    t += 0.001;
    send(t, client, server, tcp({ srcPort: cport, dstPort: sport, seq: cseq, ack: sseq, flags: { fin: true, ack: true } }));
    return this;
  }

  pcap(): Uint8Array {
    return pcapFile({ linkType: LINKTYPE.LINUX_SLL2, packets: [...this.packets].sort((a, b) => Number(a.ts) - Number(b.ts)) });
  }
}
