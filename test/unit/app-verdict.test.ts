import assert from 'node:assert/strict';
import { IncrementalAnalyzer, type CaptureAnalysis } from '../../lib/analysis/index.js';
import { appVerdict } from '../../lib/checks/app-verdict.js';
import { tcp } from '../support/packets.js';
import { HandsetCapture, IFINDEX } from '../support/scenario.js';

const HS = '2001:db8:1::100';
const DNS = '2001:db8:1::53';
const CLAT6 = '2001:db8:1::464';

function analyze(capture: HandsetCapture): CaptureAnalysis {
  const a = new IncrementalAnalyzer({ nat64Prefixes: ['64:ff9b::/96'], clatAddresses: [CLAT6] });
  a.push(capture.pcap());
  return a.finish();
}

/** The app's flows: everything to port 443/80 except what `exclude` names (background traffic). */
function verdictOf(capture: HandsetCapture, exclude: (server: string) => boolean = () => false) {
  const analysis = analyze(capture);
  const app = new Set(analysis.flows.filter((f) => f.serverPort !== 53 && !exclude(f.server)).map((f) => f.id));
  return appVerdict(analysis, app);
}

const codes = (v: ReturnType<typeof appVerdict>) => v.reasons.map((r) => r.code).sort();

describe('app verdicts (CONTRACTS section 3)', () => {
  it('an established IPv6 connection the app resets when it is stopped is no failed attempt', () => {
    const v = verdictOf(
      new HandsetCapture()
        .dns(0, HS, DNS, 3000, 1, 'api.news.test', 'AAAA', ['2001:db8:2::10'])
        .tcp(0.1, HS, 4000, '2001:db8:2::10', 443, { responseBytes: 20000 })
        .ip(5, HS, '2001:db8:2::10', tcp({ srcPort: 4000, dstPort: 443, seq: 99, flags: { rst: true } })),
    );
    assert.deepEqual(codes(v), []);
    assert.equal(v.verdict, 'pass');
  });

  it('pass: Happy Eyeballs to a dual-stack host over native IPv6', () => {
    const v = verdictOf(
      new HandsetCapture()
        .dns(0, HS, DNS, 3000, 1, 'api.news.test', 'AAAA', ['2001:db8:2::10'])
        .dns(0, HS, DNS, 3001, 2, 'api.news.test', 'A', ['100.64.0.10'])
        .tcp(0.1, HS, 4000, '2001:db8:2::10', 443, { responseBytes: 20000 }),
    );
    assert.equal(v.verdict, 'pass', JSON.stringify(v.reasons));
    assert.equal(v.metrics.nativeV6ByteShare, 1);
  });

  it('warn: an IPv4-only server reached through NAT64 (SERVER_NO_IPV6, LOW_IPV6_SHARE)', () => {
    const v = verdictOf(
      new HandsetCapture()
        .dns(0, HS, DNS, 3000, 1, 'img.news.test', 'AAAA', ['64:ff9b::6440:14'])
        .dns(0, HS, DNS, 3001, 2, 'img.news.test', 'A', ['100.64.0.20'])
        .tcp(0.1, HS, 4000, '64:ff9b::6440:14', 443, { responseBytes: 20000 }),
    );
    assert.equal(v.verdict, 'warn');
    assert.deepEqual(codes(v), ['LOW_IPV6_SHARE', 'SERVER_NO_IPV6']);
    assert.match(v.reasons.find((r) => r.code === 'SERVER_NO_IPV6')!.detail, /img\.news\.test has no AAAA record: it is reached only through NAT64/);
  });

  it('fail: an IPv4 literal through the CLAT (IPV4_LITERAL), naming the address', () => {
    const v = verdictOf(
      new HandsetCapture()
        .tcp(0, '192.0.0.4', 4000, '100.64.0.30', 443, { responseBytes: 2000, ifIndex: IFINDEX.clat })
        .tcp(0.0001, CLAT6, 4000, '64:ff9b::6440:1e', 443, { responseBytes: 2000, twice: true }),
    );
    assert.equal(v.verdict, 'fail');
    const literal = v.reasons.find((r) => r.code === 'IPV4_LITERAL')!;
    assert.deepEqual(literal.addresses, ['100.64.0.30']);
    assert.equal(v.metrics.flows, 1, 'the two legs of one CLAT socket are one connection');
  });

  it('fail: asks A only (NO_AAAA_QUERY), not a literal since the A answer gave the address', () => {
    const v = verdictOf(
      new HandsetCapture()
        .dns(0, HS, DNS, 3000, 1, 'legacy.shop.test', 'A', ['100.64.0.40'])
        .tcp(0.1, '192.0.0.4', 4000, '100.64.0.40', 443, { responseBytes: 2000, ifIndex: IFINDEX.clat }),
    );
    // Never asked AAAA: nothing was seen of the server's records, so no SERVER_NO_IPV6 (wget -4
    // once got "has no AAAA record" for a dual-stack host, issue 20).
    assert.deepEqual(codes(v).sort(), ['LOW_IPV6_SHARE', 'NO_AAAA_QUERY']);
    assert.equal(v.verdict, 'fail');
    // Asked, and answered with no AAAA (NODATA): the server side's gap is seen.
    const nodata = verdictOf(
      new HandsetCapture()
        .dns(0, HS, DNS, 3000, 1, 'legacy.shop.test', 'AAAA', [])
        .dns(0, HS, DNS, 3001, 2, 'legacy.shop.test', 'A', ['100.64.0.40'])
        .tcp(0.1, '192.0.0.4', 4000, '100.64.0.40', 443, { responseBytes: 2000, ifIndex: IFINDEX.clat }),
    );
    assert.deepEqual(codes(nodata).sort(), ['LOW_IPV6_SHARE', 'SERVER_NO_IPV6']);
  });

  it('fail: IPv4 first although the AAAA had answered (IPV4_FIRST)', () => {
    const v = verdictOf(
      new HandsetCapture()
        .dns(0, HS, DNS, 3000, 1, 'pay.shop.test', 'AAAA', ['2001:db8:2::50'])
        .dns(0, '10.0.0.2', '10.0.0.1', 3001, 2, 'pay.shop.test', 'A', ['100.64.0.50'])
        .tcp(0.1, '10.0.0.2', 4000, '100.64.0.50', 443, { responseBytes: 2000 }),
    );
    assert.ok(codes(v).includes('IPV4_FIRST'));
    assert.equal(v.verdict, 'fail');
  });

  it('warn: IPv6 blackholed with a quick fallback (IPV6_FAILED), SLOW_FALLBACK when it takes seconds', () => {
    const quick = verdictOf(
      new HandsetCapture()
        .dns(0, HS, DNS, 3000, 1, 'cdn.news.test', 'AAAA', ['2001:db8:2::60'])
        .dns(0, '10.0.0.2', '10.0.0.1', 3001, 2, 'cdn.news.test', 'A', ['100.64.0.60'])
        .tcp(0.05, HS, 4000, '2001:db8:2::60', 443, { outcome: 'timeout' })
        .tcp(0.3, '10.0.0.2', 4001, '100.64.0.60', 443, { responseBytes: 100 }),
    );
    assert.ok(codes(quick).includes('IPV6_FAILED'));
    assert.ok(!codes(quick).includes('SLOW_FALLBACK'));
    const slow = verdictOf(
      new HandsetCapture()
        .dns(0, HS, DNS, 3000, 1, 'cdn.news.test', 'AAAA', ['2001:db8:2::60'])
        .dns(0, '10.0.0.2', '10.0.0.1', 3001, 2, 'cdn.news.test', 'A', ['100.64.0.60'])
        .tcp(0.05, HS, 4000, '2001:db8:2::60', 443, { outcome: 'timeout' })
        .tcp(3.5, '10.0.0.2', 4001, '100.64.0.60', 443, { responseBytes: 100 }),
    );
    const fallback = slow.reasons.find((r) => r.code === 'SLOW_FALLBACK')!;
    assert.match(fallback.detail, /3450 ms later/);
    assert.equal(slow.verdict, 'warn');
  });

  describe('an IPv6 connection that completed its handshake and carried nothing back is a failed attempt', () => {
    const GET = new TextEncoder().encode('GET /bytes/20000 HTTP/1.1\r\nHost: late.test\r\n\r\n');
    const dual = (c: HandsetCapture, name: string, v6: string, v4: string) =>
      c.dns(0, HS, DNS, 3000, 1, name, 'AAAA', [v6]).dns(0, '10.0.0.2', '10.0.0.1', 3001, 2, name, 'A', [v4]);

    it('late failure, never retried: IPV6_STALLED and SLOW_FALLBACK (warn), not the pass its native IPv6 bytes would give', () => {
      const v = verdictOf(
        dual(new HandsetCapture(), 'late.test', '2001:db8:2::70', '100.64.0.70').tcp(0.1, HS, 4000, '2001:db8:2::70', 80, { request: [GET] }),
      );
      assert.deepEqual(codes(v), ['IPV6_STALLED', 'SLOW_FALLBACK']);
      assert.equal(v.verdict, 'warn');
      const stalled = v.reasons.find((r) => r.code === 'IPV6_STALLED')!;
      assert.deepEqual(stalled.addresses, ['2001:db8:2::70']);
      assert.match(stalled.detail, /completed the handshake, then carried the app's request and not one byte back/);
      assert.match(v.reasons.find((r) => r.code === 'SLOW_FALLBACK')!.detail, /never tried again/);
    });

    it('late failure with a quick IPv4 retry: IPV6_STALLED, no SLOW_FALLBACK', () => {
      const v = verdictOf(
        dual(new HandsetCapture(), 'late.test', '2001:db8:2::70', '100.64.0.70')
          .tcp(0.1, HS, 4000, '2001:db8:2::70', 80, { request: [GET] })
          .tcp(1.1, '10.0.0.2', 4001, '100.64.0.70', 80, { request: [GET], responseBytes: 20000 }),
      );
      assert.ok(codes(v).includes('IPV6_STALLED'), JSON.stringify(v.reasons));
      assert.ok(!codes(v).includes('SLOW_FALLBACK'), JSON.stringify(v.reasons));
      assert.equal(v.verdict, 'warn');
    });

    it('a second stalled IPv6 attempt is no recovery: SLOW_FALLBACK counts to the IPv4 one', () => {
      const v = verdictOf(
        dual(new HandsetCapture(), 'late.test', '2001:db8:2::70', '100.64.0.70')
          .tcp(0.1, HS, 4000, '2001:db8:2::70', 80, { request: [GET] })
          .tcp(0.5, HS, 4002, '2001:db8:2::70', 80, { request: [GET] })
          .tcp(5.1, '10.0.0.2', 4001, '100.64.0.70', 80, { request: [GET], responseBytes: 2000 }),
      );
      assert.match(v.reasons.find((r) => r.code === 'SLOW_FALLBACK')?.detail ?? '', /5000 ms later/);
      assert.equal(v.reasons.find((r) => r.code === 'IPV6_STALLED')?.flows.length, 2);
    });

    it('PMTUD blackhole: the full-sized segment never arrives, a later one does past the hole, the app acknowledges nothing: IPV6_STALLED', () => {
      const server = '2001:db8:2::71';
      const c = dual(new HandsetCapture(), 'big.test', server, '100.64.0.71').tcp(0.1, HS, 4000, server, 80, { request: [GET] });
      // After the helper's handshake (server ISN 5000) and FIN: the tail segment of a response
      // whose first 1440 bytes were dropped arrives; the client's duplicate ACK still names 5001.
      c.ip(
        0.2,
        server,
        HS,
        tcp({ srcPort: 80, dstPort: 4000, seq: 5001 + 1440, ack: 1001 + GET.length, flags: { ack: true, psh: true }, payload: new Uint8Array(600) }),
      );
      c.ip(0.2001, HS, server, tcp({ srcPort: 4000, dstPort: 80, seq: 1001 + GET.length, ack: 5001, flags: { ack: true } }));
      const v = verdictOf(c);
      assert.ok(codes(v).includes('IPV6_STALLED'), JSON.stringify(v.reasons));
      const analysis = analyze(c);
      const flow = analysis.flows.find((f) => f.server === server)!;
      assert.equal(flow.serverBytesAcked, 0);
      assert.ok(flow.clientPayloadBytes >= GET.length);
    });

    it('an answer the app acknowledged, then a server FIN it never acknowledged (the capture ended first): no stall', () => {
      const server = '2001:db8:2::73';
      const c = dual(new HandsetCapture(), 'short.test', server, '100.64.0.73');
      c.ip(0.1, HS, server, tcp({ srcPort: 4000, dstPort: 80, seq: 1000, flags: { syn: true } }));
      c.ip(0.11, server, HS, tcp({ srcPort: 80, dstPort: 4000, seq: 5000, ack: 1001, flags: { syn: true, ack: true } }));
      c.ip(0.12, HS, server, tcp({ srcPort: 4000, dstPort: 80, seq: 1001, ack: 5001, flags: { ack: true, psh: true }, payload: GET }));
      c.ip(
        0.13,
        server,
        HS,
        tcp({ srcPort: 80, dstPort: 4000, seq: 5001, ack: 1001 + GET.length, flags: { ack: true, psh: true }, payload: new Uint8Array(1) }),
      );
      c.ip(0.14, HS, server, tcp({ srcPort: 4000, dstPort: 80, seq: 1001 + GET.length, ack: 5002, flags: { ack: true } }));
      c.ip(0.15, server, HS, tcp({ srcPort: 80, dstPort: 4000, seq: 5002, ack: 1001 + GET.length, flags: { ack: true, fin: true } }));
      assert.equal(analyze(c).flows.find((f) => f.server === server)?.serverBytesAcked, 1);
      const v = verdictOf(c);
      assert.deepEqual(codes(v), [], JSON.stringify(v.reasons));
      assert.equal(v.verdict, 'pass');
    });

    it('an answered request is IPv6 that worked; a connection the app opened and closed without a request (a Happy Eyeballs loser) stalled nothing', () => {
      const v = verdictOf(
        dual(new HandsetCapture(), 'ok.test', '2001:db8:2::72', '100.64.0.72')
          .tcp(0.1, HS, 4000, '2001:db8:2::72', 80, { request: [GET], responseBytes: 3000 })
          .tcp(0.1, HS, 4001, '2001:db8:2::72', 80, {}),
      );
      assert.deepEqual(codes(v), []);
      assert.equal(v.verdict, 'pass');
      assert.equal(
        analyze(new HandsetCapture().tcp(0, HS, 4000, '2001:db8:2::72', 80, { request: [GET], responseBytes: 3000 })).flows[0]?.serverBytesAcked,
        3000,
      );
    });
  });

  it('inconclusive: no traffic attributed (NO_TRAFFIC)', () => {
    const v = verdictOf(new HandsetCapture().dns(0, HS, DNS, 3000, 1, 'x.test', 'AAAA', []), () => true);
    assert.equal(v.verdict, 'inconclusive');
    assert.deepEqual(codes(v), ['NO_TRAFFIC']);
  });

  describe('an analysis past its memory bound (--max-memory): CAPTURE_INCOMPLETE, never a pass', () => {
    // 1,100 IPv6 connections to a dual-stack host, then `literal` (an IPv4 literal through the
    // CLAT) where `at` says. 300 KiB of state holds the first 1,024 flows and not the rest.
    const BOUND = 300 * 1024;
    const capture = (literalFirst: boolean) => {
      const c = new HandsetCapture().dns(0, HS, DNS, 3000, 1, 'api.news.test', 'AAAA', ['2001:db8:2::10']);
      if (literalFirst) c.tcp(0.05, '192.0.0.4', 5000, '198.51.100.7', 443, { responseBytes: 100 });
      for (let i = 0; i < 1100; i++) c.tcp(0.1 + i * 0.001, HS, 10_000 + i, '2001:db8:2::10', 443, { responseBytes: 100 });
      if (!literalFirst) c.tcp(2, '192.0.0.4', 5000, '198.51.100.7', 443, { responseBytes: 100 });
      return c;
    };
    const judged = (c: HandsetCapture, maxMemory?: number) => {
      const a = new IncrementalAnalyzer({ nat64Prefixes: ['64:ff9b::/96'], clatAddresses: [CLAT6], maxMemory });
      a.push(c.pcap());
      const analysis = a.finish();
      return { analysis, verdict: appVerdict(analysis, new Set(analysis.flows.filter((f) => f.serverPort !== 53).map((f) => f.id))) };
    };

    it('an IPv4 literal past the bound is unseen: inconclusive, where the whole analysis fails', () => {
      const whole = judged(capture(false));
      assert.equal(whole.analysis.capture.unlisted, null);
      assert.equal(whole.verdict.verdict, 'fail');
      assert.deepEqual(codes(whole.verdict), ['IPV4_LITERAL']);
      const bounded = judged(capture(false), BOUND);
      const unlisted = bounded.analysis.capture.unlisted;
      assert.ok(unlisted, 'the bound was reached');
      assert.equal(unlisted.maxMemory, BOUND);
      assert.ok(unlisted.packets > 0 && unlisted.atPacket > 0, JSON.stringify(unlisted));
      assert.ok(!bounded.analysis.flows.some((f) => f.family === 4), 'the literal is not listed');
      assert.equal(bounded.verdict.verdict, 'inconclusive');
      assert.deepEqual(codes(bounded.verdict), ['CAPTURE_INCOMPLETE']);
      const reason = bounded.verdict.reasons[0]!;
      assert.match(reason.detail, new RegExp(`memory bound \\(0\\.3 MiB\\) at packet ${unlisted.atPacket}: ${unlisted.packets} packets`));
      assert.deepEqual(reason.messages[0], {
        key: 'app.captureIncomplete',
        args: { maxMiB: BOUND / 2 ** 20, atPacket: unlisted.atPacket, packets: unlisted.packets },
      });
    });

    it('a failure listed before the bound still fails', () => {
      const bounded = judged(capture(true), BOUND);
      assert.notEqual(bounded.analysis.capture.unlisted, null);
      assert.equal(bounded.verdict.verdict, 'fail');
      assert.deepEqual(codes(bounded.verdict), ['CAPTURE_INCOMPLETE', 'IPV4_LITERAL']);
    });
  });

  describe('a capture whose tcpdump said the kernel dropped packets: CAPTURE_DROPPED, never a verdict', () => {
    const judged = (droppedByKernel: number | null | undefined, literal: boolean) => {
      const c = new HandsetCapture()
        .dns(0, HS, DNS, 3000, 1, 'api.news.test', 'AAAA', ['2001:db8:2::10'])
        .tcp(0.1, HS, 4000, '2001:db8:2::10', 443, { responseBytes: 100 });
      if (literal) c.tcp(0.2, '192.0.0.4', 5000, '198.51.100.7', 443, { responseBytes: 100 });
      const a = new IncrementalAnalyzer({ nat64Prefixes: ['64:ff9b::/96'], clatAddresses: [CLAT6] });
      a.push(c.pcap());
      const analysis = a.finish();
      if (droppedByKernel !== undefined) analysis.capture.droppedByKernel = droppedByKernel;
      return appVerdict(analysis, new Set(analysis.flows.filter((f) => f.serverPort !== 53).map((f) => f.id)));
    };

    it('a pass on what was seen is inconclusive once packets were lost', () => {
      assert.equal(judged(0, false).verdict, 'pass');
      assert.equal(judged(null, false).verdict, 'pass', 'not reported: judged on what was seen, as before');
      assert.equal(judged(undefined, false).verdict, 'pass');
      const v = judged(3, false);
      assert.equal(v.verdict, 'inconclusive');
      assert.deepEqual(codes(v), ['CAPTURE_DROPPED']);
      assert.match(v.reasons[0]!.detail, /lost 3 packets in the kernel/);
      assert.deepEqual(v.reasons[0]!.messages[0], { key: 'app.captureDropped', args: { packets: 3 } });
    });

    it('so is a failure: a lost DNS answer reads as an IPv4 literal', () => {
      assert.equal(judged(0, true).verdict, 'fail');
      const v = judged(1, true);
      assert.equal(v.verdict, 'inconclusive');
      assert.deepEqual(codes(v), ['CAPTURE_DROPPED', 'IPV4_LITERAL', 'LOW_IPV6_SHARE']);
      assert.match(v.reasons[0]!.detail, /lost 1 packet in the kernel/);
    });
  });

  it('never blames background traffic on the app (an IPv4-only NTP server, a probe)', () => {
    const v = verdictOf(
      new HandsetCapture()
        .dns(0, HS, DNS, 3000, 1, 'time.test', 'A', ['100.64.0.70'])
        .tcp(0.05, '192.0.0.4', 4100, '100.64.0.70', 123, { ifIndex: IFINDEX.clat })
        .dns(0, HS, DNS, 3001, 2, 'api.news.test', 'AAAA', ['2001:db8:2::10'])
        .dns(0, HS, DNS, 3002, 3, 'api.news.test', 'A', ['100.64.0.10'])
        .tcp(0.1, HS, 4000, '2001:db8:2::10', 443, { responseBytes: 20000 }),
      (server) => server === '100.64.0.70',
    );
    assert.equal(v.verdict, 'pass', JSON.stringify(v.reasons));
  });
});

describe('the check catalogue', () => {
  it('gives every check a unique id in its suite and real requirements', async () => {
    const { CHECKS, REQUIREMENTS } = await import('../../lib/checks/requirements.js');
    const ids = CHECKS.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const check of CHECKS) {
      assert.ok(check.id.startsWith(`${check.suite}.`), check.id);
      assert.ok(check.requirements.length > 0, check.id);
      for (const r of check.requirements) assert.ok(r in REQUIREMENTS, `${check.id} names ${r}`);
    }
  });
});
