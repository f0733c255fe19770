import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IncrementalAnalyzer } from '../../lib/analysis/index.js';
import { attributeFlows, destinationKey, type OwnedSocket } from '../../lib/checks/attribution.js';
import { parseProcNetSockets } from '../../lib/device/parse/index.js';
import { tcp } from '../support/packets.js';
import { HandsetCapture, IFINDEX } from '../support/scenario.js';

const HS = '2001:db8:1::100';
const CLAT6 = '2001:db8:1::464';
const APP = 10101;

function analysis() {
  const capture = new HandsetCapture()
    .tcp(0, HS, 40000, '2001:db8:2::10', 443, { responseBytes: 3000 }) // the app, native IPv6
    .tcp(0.1, HS, 40001, '2001:db8:2::99', 80, { responseBytes: 100 }) // connectivity probe, uid 1000
    .tcp(0.2, '192.0.0.4', 40002, '100.64.0.30', 443, { responseBytes: 500, ifIndex: IFINDEX.clat }) // the app's IPv4 socket via CLAT
    .tcp(0.2001, CLAT6, 40002, '64:ff9b::6440:1e', 443, { responseBytes: 500, twice: true })
    .tcp(0.5, HS, 40003, '2001:db8:2::77', 443, { responseBytes: 100 }) // closed before any poll saw it
    .tcp(0.6, HS, 40004, '2001:db8:2::55', 443, { responseBytes: 100 }); // background seen before launch
  const a = new IncrementalAnalyzer({ nat64Prefixes: ['64:ff9b::/96'], clatAddresses: [CLAT6] });
  a.push(capture.pcap());
  return a.finish();
}

const socket = (transport: 'tcp' | 'udp', local: string, lport: number, remote: string, rport: number, uid: number): OwnedSocket => ({
  transport,
  local: { address: local, port: lport },
  remote: { address: remote, port: rport },
  uid,
});

describe("attribution: which flows are the app's", () => {
  const a = analysis();
  const byPort = (port: number) => a.flows.find((f) => f.clientPort === port && f.family === 6)!.id;
  const sockets = [
    socket('tcp', HS, 40000, '2001:db8:2::10', 443, APP),
    socket('tcp', HS, 40001, '2001:db8:2::99', 80, 1000),
    socket('tcp', '::ffff:192.0.0.4', 40002, '::ffff:100.64.0.30', 443, APP),
  ];
  const t0 = a.capture.firstTs!;
  const result = attributeFlows({
    analysis: a,
    sockets,
    appUid: APP,
    window: { start: t0, end: t0 + 10 },
    baseline: new Set([destinationKey({ server: '2001:db8:2::55', serverPort: 443 })]),
  });

  it("takes the sockets the app's uid owns, including both legs of a CLAT socket (v4-mapped in tcp6)", () => {
    assert.equal(result.method.get(byPort(40000)), 'uid');
    assert.equal(result.method.get(byPort(40002)), 'uid', 'the IPv6 leg through its IPv4 twin');
    const v4leg = a.flows.find((f) => f.clientPort === 40002 && f.family === 4)!.id;
    assert.equal(result.method.get(v4leg), 'uid');
  });

  it("never takes another uid's socket, even inside the window (the connectivity probe)", () => {
    assert.ok(!result.flows.has(byPort(40001)));
  });

  it('falls back to the window for an unseen socket, minus what ran before launch, and says so', () => {
    assert.equal(result.method.get(byPort(40003)), 'window');
    assert.ok(!result.flows.has(byPort(40004)), 'a baseline destination is background');
    assert.equal(result.summary, 'uid');
  });

  it("a TCP flow whose handshake was not seen (a connection older than the window) is not the window's", () => {
    const capture = new HandsetCapture().ip(
      0.5,
      '64:ff9b::6440:102',
      '2001:db8:1::100',
      tcp({ srcPort: 80, dstPort: 40098, seq: 1, ack: 1, flags: { fin: true, ack: true } }),
    );
    const stray = new IncrementalAnalyzer({ nat64Prefixes: ['64:ff9b::/96'] });
    stray.push(capture.pcap());
    const b = stray.finish();
    const start = b.capture.firstTs! - 1;
    const got = attributeFlows({ analysis: b, sockets: [], appUid: APP, window: { start, end: start + 10 }, baseline: new Set() });
    assert.equal(b.flows.length, 1);
    assert.equal(got.flows.size, 0);
  });

  it('owns a CLAT socket seen only as its IPv6 leg (a capture at the gateway) through the IPv4 address it embeds', () => {
    const capture = new HandsetCapture().tcp(0.2, CLAT6, 40002, '64:ff9b::6440:1e', 443, { responseBytes: 500 });
    const gateway = new IncrementalAnalyzer({ nat64Prefixes: ['64:ff9b::/96'], clatAddresses: [CLAT6] });
    gateway.push(capture.pcap());
    const b = gateway.finish();
    const got = attributeFlows({ analysis: b, sockets, appUid: APP, window: { start: 0, end: 1 }, baseline: new Set() });
    assert.equal(b.flows[0]!.path, 'clat');
    assert.equal(got.method.get(b.flows[0]!.id), 'uid');
  });

  it("outside the window nothing unseen is the app's", () => {
    const late = attributeFlows({ analysis: a, sockets: [], appUid: APP, window: { start: t0 + 100, end: t0 + 200 }, baseline: new Set() });
    assert.equal(late.flows.size, 0);
    assert.equal(late.summary, 'none');
  });

  it('reads sockets from real /proc/net/tcp6 output of a virtual handset', () => {
    const text = readFileSync(join(resolve(import.meta.dirname, '../fixtures/android'), 'virtual-proc-net-tcp6.txt'), 'utf8');
    const owned = parseProcNetSockets(text, 6, 'tcp').map((s) => ({ transport: s.transport, local: s.local, remote: s.remote, uid: s.uid }));
    assert.ok(
      owned.some((s) => s.uid === 10105),
      'an app socket',
    );
    assert.ok(
      owned.some((s) => s.uid === 1002),
      'the push channel',
    );
  });
});
