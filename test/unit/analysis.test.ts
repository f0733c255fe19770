import assert from 'node:assert/strict';
import { IncrementalAnalyzer, type CaptureAnalysis, type Flow } from '../../lib/analysis/index.js';
import { dnsOverTcp, dnsQuery, dnsResponse, icmpv6Echo, quicInitial, seededBytes, tcp, tlsClientHello, udp } from '../support/packets.js';
import { HandsetCapture, IFINDEX } from '../support/scenario.js';

function analyze(bytes: Uint8Array, options = {}): CaptureAnalysis {
  const analyzer = new IncrementalAnalyzer(options);
  analyzer.push(bytes);
  return analyzer.finish();
}

const HANDSET = '2001:db8:1::100';
const CLAT6 = '2001:db8:1::464';
const DNS64 = '2001:db8:1::53';

function flowTo(a: CaptureAnalysis, server: string, port: number): Flow {
  const flow = a.flows.find((f) => f.server === server && f.serverPort === port);
  assert.ok(flow, `a flow to ${server}:${port} in ${a.flows.map((f) => `${f.server}:${f.serverPort}`).join(', ')}`);
  return flow;
}

/** An IPv6-only APN: RFC 7050 discovery, native IPv6, NAT64 and a CLAT-translated socket. */
function ipv6OnlyHandset(): HandsetCapture {
  const hello = tlsClientHello({ sni: 'api.news.test' });
  return (
    new HandsetCapture()
      .dns(0.0, HANDSET, DNS64, 30001, 1, 'ipv4only.arpa', 'AAAA', ['64:ff9b::c000:aa', '64:ff9b::c000:ab'])
      .dns(0.1, HANDSET, DNS64, 30002, 2, 'api.news.test', 'AAAA', ['2001:db8:2::10'])
      .dns(0.1, HANDSET, DNS64, 30003, 3, 'api.news.test', 'A', ['100.64.0.10'])
      // The ClientHello spans two TCP segments.
      .tcp(0.2, HANDSET, 40001, '2001:db8:2::10', 443, { request: [hello.subarray(0, 100), hello.subarray(100)], responseBytes: 30000 })
      .dns(0.3, HANDSET, DNS64, 30004, 4, 'img.news.test', 'AAAA', ['64:ff9b::6440:14'])
      .tcp(0.4, HANDSET, 40002, '64:ff9b::6440:14', 443, { request: [tlsClientHello({ sni: 'img.news.test' })], responseBytes: 5000 })
      // An IPv4 socket through the CLAT: IPv4 on the TUN, then IPv6 on the TUN and on rmnet.
      .dns(0.5, HANDSET, DNS64, 30005, 5, 'old.news.test', 'A', ['100.64.0.30'])
      .tcp(0.6, '192.0.0.4', 40003, '100.64.0.30', 443, { responseBytes: 2000, ifIndex: IFINDEX.clat })
      .tcp(0.6001, CLAT6, 40003, '64:ff9b::6440:1e', 443, { responseBytes: 2000, twice: true })
      .ip(0.7, HANDSET, '2001:db8:2::10', icmpv6Echo())
      .ip(0.8, HANDSET, '2001:db8:2::10', udp({ srcPort: 50000, dstPort: 443, payload: quicInitial({ dcid: seededBytes(8), scid: seededBytes(8, 2) }) }))
  );
}

describe('analysis: an IPv6-only handset', () => {
  const a = analyze(ipv6OnlyHandset().pcap());

  it('discovers the NAT64 prefix from the ipv4only.arpa answer (RFC 7050)', () => {
    assert.deepEqual(a.nat64Prefixes, ['64:ff9b::/96']);
    assert.equal(a.nat64PrefixSources['64:ff9b::/96'], 'rfc7050');
  });

  it('infers the CLAT address from the translated socket and pairs its two legs', () => {
    assert.deepEqual(a.clatAddresses, [CLAT6]);
    const v4 = flowTo(a, '100.64.0.30', 443);
    const v6 = flowTo(a, '64:ff9b::6440:1e', 443);
    assert.equal(v4.path, 'clat');
    assert.equal(v6.path, 'clat');
    assert.equal(v4.twin, v6.id);
    assert.equal(v6.twin, v4.id);
  });

  it('classifies native IPv6 and NAT64 flows', () => {
    assert.equal(flowTo(a, '2001:db8:2::10', 443).path, 'native-v6');
    assert.equal(flowTo(a, '64:ff9b::6440:14', 443).path, 'nat64');
    assert.ok(a.flows.filter((f) => f.serverPort === 53).every((f) => f.path === 'native-v6'));
  });

  it('counts a packet seen on the TUN and on rmnet once', () => {
    const v6 = flowTo(a, '64:ff9b::6440:1e', 443);
    const v4 = flowTo(a, '100.64.0.30', 443);
    assert.equal(v6.packets, v4.packets);
    assert.equal(a.capture.duplicates, v6.packets);
    assert.equal(a.capture.packets, a.flows.reduce((n, f) => n + f.packets, 0) + a.capture.duplicates + 1 /* ICMPv6 */);
  });

  it('reads the SNI of a ClientHello split over two segments, and the handshake outcome', () => {
    const flow = flowTo(a, '2001:db8:2::10', 443);
    assert.equal(flow.sni, 'api.news.test');
    assert.equal(flow.application, 'tls');
    assert.equal(flow.established, true);
    assert.equal(flow.hostname, 'api.news.test');
    assert.equal(flow.hostnameSource, 'dns');
    assert.equal(flowTo(a, '64:ff9b::6440:14', 443).sni, 'img.news.test');
  });

  it('names a flow by its SNI when several names share the address', () => {
    const capture = new HandsetCapture()
      .dns(0, HANDSET, DNS64, 3000, 1, 'a.cdn.test', 'AAAA', ['2001:db8:9::1'])
      .dns(0.1, HANDSET, DNS64, 3001, 2, 'b.cdn.test', 'AAAA', ['2001:db8:9::1'])
      .tcp(0.2, HANDSET, 4000, '2001:db8:9::1', 443, { request: [tlsClientHello({ sni: 'a.cdn.test' })] })
      .tcp(0.3, HANDSET, 4001, '2001:db8:9::1', 443);
    const flows = analyze(capture.pcap()).flows.filter((f) => f.serverPort === 443);
    assert.deepEqual(
      flows.map((f) => f.hostname),
      ['a.cdn.test', 'b.cdn.test'],
    );
  });

  it('names a flow by the last answer before it when names take turns on one address', () => {
    const capture = new HandsetCapture()
      .dns(0, HANDSET, DNS64, 3000, 1, 'a.cdn.test', 'AAAA', ['2001:db8:9::1'])
      .dns(0.1, HANDSET, DNS64, 3001, 2, 'a.cdn.test', 'AAAA', ['2001:db8:9::1'])
      .tcp(0.5, HANDSET, 4000, '2001:db8:9::1', 80)
      .dns(1, HANDSET, DNS64, 3002, 3, 'b.cdn.test', 'AAAA', ['2001:db8:9::1'])
      .tcp(1.5, HANDSET, 4001, '2001:db8:9::1', 80)
      .dns(2, HANDSET, DNS64, 3003, 4, 'a.cdn.test', 'AAAA', ['2001:db8:9::1'])
      .tcp(2.5, HANDSET, 4002, '2001:db8:9::1', 80);
    const flows = analyze(capture.pcap()).flows.filter((f) => f.serverPort === 80);
    assert.deepEqual(
      flows.map((f) => f.hostname),
      ['a.cdn.test', 'b.cdn.test', 'a.cdn.test'],
    );
  });

  it('knows an address literal: a server no DNS answer gave, named only by SNI or not at all', () => {
    const capture = new HandsetCapture()
      .tcp(0, '10.0.0.2', 4000, '100.64.9.9', 443, { request: [tlsClientHello({ sni: 'lit.news.test' })] })
      .tcp(1, '10.0.0.2', 4001, '100.64.9.8', 443);
    const [withSni, bare] = analyze(capture.pcap()).flows;
    assert.deepEqual([withSni!.hostname, withSni!.hostnameSource], ['lit.news.test', 'sni']);
    assert.deepEqual([bare!.hostname, bare!.hostnameSource], [null, null]);
  });

  it('names each destination by the DNS answer that gave it, also through NAT64 and the CLAT', () => {
    assert.equal(flowTo(a, '64:ff9b::6440:14', 443).hostname, 'img.news.test');
    assert.equal(flowTo(a, '100.64.0.30', 443).hostname, 'old.news.test');
    assert.equal(flowTo(a, '64:ff9b::6440:1e', 443).hostname, 'old.news.test');
  });

  it('lists every DNS query with its answer joined', () => {
    assert.equal(a.dns.length, 5);
    assert.deepEqual(
      a.dns.map((q) => [q.name, q.qtype, q.rcode]),
      [
        ['ipv4only.arpa', 'AAAA', 'NOERROR'],
        ['api.news.test', 'AAAA', 'NOERROR'],
        ['api.news.test', 'A', 'NOERROR'],
        ['img.news.test', 'AAAA', 'NOERROR'],
        ['old.news.test', 'A', 'NOERROR'],
      ],
    );
    assert.deepEqual(a.dns[3]!.answers, ['64:ff9b::6440:14']);
  });

  it('tells hostnames with native AAAA from synthesized ones, and the first attempt family', () => {
    const host = (name: string) => a.hostnames.find((h) => h.name === name)!;
    assert.deepEqual(host('api.news.test').nativeAaaa, ['2001:db8:2::10']);
    assert.equal(host('api.news.test').firstAttemptFamily, 6);
    assert.deepEqual(host('img.news.test').nativeAaaa, []);
    assert.deepEqual(host('img.news.test').synthesizedAaaa, ['64:ff9b::6440:14']);
    assert.equal(host('old.news.test').firstAttemptFamily, 4);
    assert.ok(!a.hostnames.some((h) => h.name === 'ipv4only.arpa'));
  });

  it('recognises QUIC and counts ICMPv6 without making it a flow', () => {
    const quic = a.flows.find((f) => f.transport === 'udp' && f.serverPort === 443);
    assert.equal(quic?.application, 'quic');
    assert.equal(flowTo(a, '64:ff9b::6440:14', 443).application, 'tls');
    assert.equal(a.summary.icmpPackets.v6, 1);
  });

  it('sums bytes by path, counting a CLAT socket once', () => {
    const s = a.summary;
    const v6 = flowTo(a, '64:ff9b::6440:1e', 443);
    assert.equal(s.bytesByPath.clat, v6.bytes);
    assert.equal(s.flowsByPath.clat, 1);
    assert.equal(s.flowsByPath.nat64, 1);
    assert.equal(s.bytesByPath['native-v4'], 0);
    assert.ok(Math.abs(Object.values(s.shareByPath).reduce((x, y) => x + y, 0) - 1) < 1e-9);
  });

  it('takes a given prefix and CLAT address without needing discovery', () => {
    const capture = new HandsetCapture().tcp(0, CLAT6, 1000, '2001:db8:6464::6440:1e', 80, { responseBytes: 10 });
    const given = analyze(capture.pcap(), { nat64Prefixes: ['2001:db8:6464::/96'], clatAddresses: [CLAT6] });
    assert.deepEqual(given.nat64Prefixes, ['2001:db8:6464::/96']);
    assert.equal(given.flows[0]!.path, 'clat');
    assert.equal(analyze(capture.pcap(), { nat64Prefixes: ['2001:db8:6464::/96'] }).flows[0]!.path, 'nat64');
    assert.equal(analyze(capture.pcap()).flows[0]!.path, 'native-v6');
  });
});

describe('analysis: NAT64 prefixes of every RFC 6052 length', () => {
  // 192.0.0.170 and 100.64.0.20 under each prefix, as a DNS64 with that prefix would answer.
  const cases = [
    ['2001:db8::/32', '2001:db8:c000:aa::', '2001:db8:6440:14::'],
    ['2001:db8:100::/40', '2001:db8:1c0:0:aa::', '2001:db8:164:4000:14::'],
    ['2001:db8:122::/48', '2001:db8:122:c000:0:aa00::', '2001:db8:122:6440:0:1400::'],
    ['2001:db8:122:300::/56', '2001:db8:122:3c0:0:aa::', '2001:db8:122:364:40:14::'],
    ['2001:db8:122:344::/64', '2001:db8:122:344:c0:0:aa00:0', '2001:db8:122:344:64:4000:1400:0'],
    ['2001:db8:122:344::/96', '2001:db8:122:344::c000:aa', '2001:db8:122:344::6440:14'],
  ] as const;
  for (const [prefix, wellKnown, server] of cases) {
    it(`discovers ${prefix} and names the NAT64 flow by the embedded IPv4's A answer`, () => {
      const capture = new HandsetCapture()
        .dns(0, HANDSET, DNS64, 3000, 1, 'ipv4only.arpa', 'AAAA', [wellKnown])
        .dns(0.1, HANDSET, DNS64, 3001, 2, 'img.news.test', 'A', ['100.64.0.20'])
        .tcp(0.2, HANDSET, 4000, server, 443, { responseBytes: 100 });
      const a = analyze(capture.pcap());
      assert.deepEqual(a.nat64Prefixes, [prefix]);
      const flow = flowTo(a, server, 443);
      assert.equal(flow.path, 'nat64');
      assert.equal(flow.hostname, 'img.news.test');
    });
  }
});

describe('analysis: Happy Eyeballs', () => {
  it('measures the fallback from a blackholed IPv6 attempt to IPv4', () => {
    const capture = new HandsetCapture()
      .dns(0, HANDSET, DNS64, 30001, 1, 'cdn.news.test', 'AAAA', ['2001:db8:2::20'])
      .dns(0, '10.0.0.2', '10.0.0.1', 30002, 2, 'cdn.news.test', 'A', ['100.64.0.20'])
      .tcp(0.05, HANDSET, 41000, '2001:db8:2::20', 443, { outcome: 'timeout' })
      .tcp(0.3, '10.0.0.2', 41001, '100.64.0.20', 443, { responseBytes: 100 });
    const host = analyze(capture.pcap()).hostnames.find((h) => h.name === 'cdn.news.test')!;
    assert.equal(host.firstAttemptFamily, 6);
    assert.equal(host.ipv6Failed, true);
    assert.equal(host.fallbackDelayMs, 250);
  });

  it('sees an app that tries IPv4 first', () => {
    const capture = new HandsetCapture()
      .dns(0, '10.0.0.2', '10.0.0.1', 30002, 2, 'api.news.test', 'A', ['100.64.0.10'])
      .dns(0, HANDSET, DNS64, 30001, 1, 'api.news.test', 'AAAA', ['2001:db8:2::10'])
      .tcp(0.05, '10.0.0.2', 41001, '100.64.0.10', 443, { responseBytes: 100 });
    const a = analyze(capture.pcap());
    const host = a.hostnames.find((h) => h.name === 'api.news.test')!;
    assert.equal(host.firstAttemptFamily, 4);
    assert.equal(host.fallbackDelayMs, null);
    assert.equal(a.flows.find((f) => f.serverPort === 443)!.path, 'native-v4');
  });

  it('marks an IPv6 attempt answered by a reset', () => {
    const capture = new HandsetCapture()
      .dns(0, HANDSET, DNS64, 30001, 1, 'v6.news.test', 'AAAA', ['2001:db8:2::30'])
      .tcp(0.05, HANDSET, 41000, '2001:db8:2::30', 443, { outcome: 'reset' });
    const a = analyze(capture.pcap());
    assert.equal(a.flows[1]!.reset, true);
    assert.equal(a.flows[1]!.established, false);
    assert.equal(a.hostnames[0]!.ipv6Failed, true);
  });
});

describe('analysis: DNS', () => {
  it('joins one answer to both copies of a retransmitted query', () => {
    const capture = new HandsetCapture()
      .ip(0, HANDSET, DNS64, udp({ srcPort: 3000, dstPort: 53, payload: dnsQuery({ id: 9, name: 'a.test', qtype: 'AAAA' }) }))
      .dns(1, HANDSET, DNS64, 3000, 9, 'a.test', 'AAAA', ['2001:db8::a']);
    const a = analyze(capture.pcap());
    assert.equal(a.dns.length, 2);
    assert.deepEqual(
      a.dns.map((q) => q.answers),
      [['2001:db8::a'], ['2001:db8::a']],
    );
  });

  it('reads DNS over TCP, a message split across segments', () => {
    const query = dnsOverTcp(dnsQuery({ id: 7, name: 'tcp.test', qtype: 'A' }));
    const answer = dnsOverTcp(dnsResponse({ id: 7, name: 'tcp.test', qtype: 'A', answers: ['100.64.1.1'] }));
    const capture = new HandsetCapture();
    capture.tcp(0, HANDSET, 5000, DNS64, 53, { request: [query.subarray(0, 5), query.subarray(5)] });
    capture.ip(0.5, DNS64, HANDSET, tcp({ srcPort: 53, dstPort: 5000, seq: 5001, ack: 1001 + query.length, flags: { ack: true, psh: true }, payload: answer }));
    const a = analyze(capture.pcap());
    assert.deepEqual(
      a.dns.map((q) => [q.name, q.qtype, q.transport, q.answers]),
      [['tcp.test', 'A', 'tcp', ['100.64.1.1']]],
    );
  });

  it('warns about garbage in a DNS payload and goes on', () => {
    const capture = new HandsetCapture()
      .ip(0, HANDSET, DNS64, udp({ srcPort: 3000, dstPort: 53, payload: seededBytes(40) }))
      .dns(1, HANDSET, DNS64, 3001, 9, 'b.test', 'A', ['100.64.0.9']);
    const a = analyze(capture.pcap());
    assert.equal(a.dns.length, 1);
    assert.equal(a.capture.warnings.length, 1);
    assert.match(a.capture.warnings[0]!, /DNS payload could not be decoded \(first: packet 1\)/);
  });
});

describe("analysis: the server's bytes the client acknowledged (serverBytesAcked)", () => {
  const SERVER = '2001:db8:2::80';
  /**
   * A handshake (client ISN 1000, server ISN 5000), then the client's one-byte request. `server`
   * says what the server sends after it, `clientAck` the highest ACK number the client sends back:
   * 5001 acknowledges nothing of the server's, 5002 one byte (or a FIN with no data), 5003 a byte and a FIN.
   */
  function flowAfter(server: 'byte' | 'byte, then FIN' | 'byte with FIN' | 'FIN', clientAck: number | null): Flow {
    const c = new HandsetCapture();
    const seg = (ts: number, fromClient: boolean, seq: number, ack: number, flags: Record<string, boolean>, bytes = 0) =>
      fromClient
        ? c.ip(ts, HANDSET, SERVER, tcp({ srcPort: 42000, dstPort: 443, seq, ack, flags, payload: new Uint8Array(bytes) }))
        : c.ip(ts, SERVER, HANDSET, tcp({ srcPort: 443, dstPort: 42000, seq, ack, flags, payload: new Uint8Array(bytes) }));
    seg(0, true, 1000, 0, { syn: true });
    seg(0.01, false, 5000, 1001, { syn: true, ack: true });
    seg(0.02, true, 1001, 5001, { ack: true });
    seg(0.03, true, 1001, 5001, { ack: true, psh: true }, 1);
    if (server === 'byte' || server === 'byte, then FIN') seg(0.04, false, 5001, 1002, { ack: true, psh: true }, 1);
    if (server === 'byte, then FIN') seg(0.05, false, 5002, 1002, { ack: true, fin: true });
    if (server === 'byte with FIN') seg(0.04, false, 5001, 1002, { ack: true, psh: true, fin: true }, 1);
    if (server === 'FIN') seg(0.04, false, 5001, 1002, { ack: true, fin: true });
    if (clientAck !== null) seg(0.06, true, 1002, clientAck, { ack: true });
    const flows = analyze(c.pcap()).flows;
    assert.equal(flows.length, 1);
    return flows[0]!;
  }

  it('a byte acknowledged, then a FIN the client never acknowledged: 1, not 0 (no FIN to take back)', () => {
    assert.equal(flowAfter('byte, then FIN', 5002).serverBytesAcked, 1);
    assert.equal(flowAfter('byte with FIN', 5002).serverBytesAcked, 1, "the FIN in the byte's own segment");
  });

  it('a byte and the FIN after it both acknowledged: 1 (the FIN takes a sequence number, not a byte)', () => {
    assert.equal(flowAfter('byte, then FIN', 5003).serverBytesAcked, 1);
    assert.equal(flowAfter('byte with FIN', 5003).serverBytesAcked, 1);
  });

  it('a byte never acknowledged: 0, FIN or not', () => {
    assert.equal(flowAfter('byte', 5001).serverBytesAcked, 0);
    assert.equal(flowAfter('byte, then FIN', 5001).serverBytesAcked, 0);
    assert.equal(flowAfter('byte, then FIN', null).serverBytesAcked, 0);
  });

  it('a FIN with no data, acknowledged: 0 (the server closed without answering), and a byte without FIN: 1', () => {
    assert.equal(flowAfter('FIN', 5002).serverBytesAcked, 0);
    assert.equal(flowAfter('byte', 5002).serverBytesAcked, 1);
  });
});
