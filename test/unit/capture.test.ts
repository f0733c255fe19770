import assert from 'node:assert/strict';
import { IncrementalAnalyzer, type CaptureAnalysis } from '../../lib/analysis/index.js';
import { CaptureFormatError } from '../../lib/capture/errors.js';
import { decodePacket, PacketView } from '../../lib/capture/decode.js';
import { CaptureReader } from '../../lib/capture/reader.js';
import {
  ethernet,
  fragmentIpv4,
  fragmentIpv6,
  ipv4,
  ipv6,
  LINKTYPE,
  NULL_FAMILY,
  nullLoopback,
  pcapFile,
  pcapngFile,
  sll,
  sll2,
  tcp,
  udp,
  type CapturedPacket,
} from '../support/packets.js';

function analyze(bytes: Uint8Array): CaptureAnalysis {
  const analyzer = new IncrementalAnalyzer({ source: 'test.pcap' });
  analyzer.push(bytes);
  return analyzer.finish();
}

const T0 = 1_700_000_000.25;
const v6tcp = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', payload: tcp({ srcPort: 1234, dstPort: 443, flags: { syn: true } }) });
const v4udp = ipv4({
  src: '100.64.0.1',
  dst: '100.64.0.2',
  options: Uint8Array.of(1, 1, 1, 0),
  payload: udp({ srcPort: 5000, dstPort: 6000, payload: new Uint8Array(100) }),
});

/** Every link type frames the same two IP packets; every one must give the same flows. */
const FRAMINGS: { name: string; linkType: number; frame: (ip: Uint8Array) => Uint8Array }[] = [
  { name: 'Ethernet', linkType: LINKTYPE.ETHERNET, frame: (ip) => ethernet({ payload: ip }) },
  { name: 'Ethernet with a VLAN tag', linkType: LINKTYPE.ETHERNET, frame: (ip) => ethernet({ payload: ip, vlan: [42] }) },
  { name: 'Ethernet with QinQ tags', linkType: LINKTYPE.ETHERNET, frame: (ip) => ethernet({ payload: ip, vlan: [100, 42] }) },
  { name: 'LINUX_SLL', linkType: LINKTYPE.LINUX_SLL, frame: (ip) => sll({ payload: ip }) },
  { name: 'LINUX_SLL2', linkType: LINKTYPE.LINUX_SLL2, frame: (ip) => sll2({ payload: ip, ifIndex: 3 }) },
  {
    name: 'NULL little-endian',
    linkType: LINKTYPE.NULL,
    frame: (ip) => nullLoopback({ payload: ip, family: ip[0]! >> 4 === 6 ? NULL_FAMILY.INET6_DARWIN : NULL_FAMILY.INET }),
  },
  {
    name: 'NULL big-endian',
    linkType: LINKTYPE.NULL,
    frame: (ip) => nullLoopback({ payload: ip, littleEndian: false, family: ip[0]! >> 4 === 6 ? NULL_FAMILY.INET6_BSD : NULL_FAMILY.INET }),
  },
  // LOOP (108) is NULL with the family in network byte order.
  {
    name: 'LOOP',
    linkType: 108,
    frame: (ip) => nullLoopback({ payload: ip, littleEndian: false, family: ip[0]! >> 4 === 6 ? NULL_FAMILY.INET6_FREEBSD : NULL_FAMILY.INET }),
  },
  { name: 'RAW (101)', linkType: LINKTYPE.RAW, frame: (ip) => ip },
  { name: 'DLT_RAW (12)', linkType: LINKTYPE.DLT_RAW, frame: (ip) => ip },
];

function flowSummary(a: CaptureAnalysis) {
  return a.flows.map((f) => [f.transport, f.family, f.client, f.clientPort, f.server, f.serverPort, f.packets]);
}

const EXPECTED_FLOWS = [
  ['tcp', 6, '2001:db8::1', 1234, '2001:db8::2', 443, 1],
  ['udp', 4, '100.64.0.1', 5000, '100.64.0.2', 6000, 1],
];

describe('capture: link types', () => {
  for (const framing of FRAMINGS) {
    it(`decodes IPv6/TCP and IPv4-with-options/UDP in ${framing.name}`, () => {
      const file = pcapFile({
        linkType: framing.linkType,
        packets: [
          { ts: T0, data: framing.frame(v6tcp) },
          { ts: T0 + 1, data: framing.frame(v4udp) },
        ],
      });
      const a = analyze(file);
      assert.deepEqual(flowSummary(a), EXPECTED_FLOWS);
      assert.deepEqual(a.capture.linkTypes, [framing.linkType]);
      assert.deepEqual(a.capture.warnings, []);
    });
  }

  it('decodes IPV4 (228) and IPV6 (229) link types', () => {
    assert.deepEqual(flowSummary(analyze(pcapFile({ linkType: LINKTYPE.IPV6, packets: [{ ts: T0, data: v6tcp }] }))), [EXPECTED_FLOWS[0]]);
    assert.deepEqual(flowSummary(analyze(pcapFile({ linkType: LINKTYPE.IPV4, packets: [{ ts: T0, data: v4udp }] }))), [EXPECTED_FLOWS[1]]);
  });

  it('decodes at an offset inside a larger buffer', () => {
    const framed = sll2({ payload: v6tcp, ifIndex: 9 });
    const buf = Buffer.alloc(framed.length + 37, 0xee);
    buf.set(framed, 37);
    const view = new PacketView();
    assert.equal(decodePacket(view, buf, new DataView(buf.buffer, buf.byteOffset, buf.byteLength), 37, framed.length, LINKTYPE.LINUX_SLL2, 0), true);
    assert.equal(view.family, 6);
    assert.equal(view.srcPort, 1234);
    assert.equal(view.dstPort, 443);
    assert.equal(buf.readUInt16BE(view.srcOffset), 0x2001);
    assert.equal(buf.readUInt16BE(view.dstOffset + 14), 2);
  });
});

describe('capture: IP details', () => {
  it('walks IPv6 hop-by-hop, routing and destination options headers to the transport', () => {
    const packet = ipv6({
      src: '2001:db8::1',
      dst: '2001:db8::2',
      extHeaders: [{ type: 0 }, { type: 43 }, { type: 60 }],
      payload: udp({ srcPort: 7, dstPort: 9, payload: new Uint8Array(3) }),
    });
    const a = analyze(pcapFile({ linkType: LINKTYPE.RAW, packets: [{ ts: T0, data: packet }] }));
    assert.deepEqual(flowSummary(a), [['udp', 6, '2001:db8::1', 7, '2001:db8::2', 9, 1]]);
  });

  it('gives every IPv4 and IPv6 fragment to the flow of its first fragment, in any order', () => {
    const big = { srcPort: 5353, dstPort: 4444, payload: new Uint8Array(3000) };
    const f4 = fragmentIpv4({ src: '100.64.0.1', dst: '100.64.0.2', id: 77, fragmentSize: 1480, payload: udp(big) });
    const f6 = fragmentIpv6({ src: '2001:db8::1', dst: '2001:db8::2', id: 78, fragmentSize: 1448, payload: udp(big) });
    assert.ok(f4.length === 3 && f6.length === 3);
    const packets: CapturedPacket[] = [f4[1]!, f4[0]!, f4[2]!, f6[0]!, f6[2]!, f6[1]!].map((data, i) => ({ ts: T0 + i, data }));
    const a = analyze(pcapFile({ linkType: LINKTYPE.RAW, packets }));
    assert.deepEqual(
      a.flows.map((f) => [f.family, f.packets, f.bytes]),
      [
        [4, 3, f4.reduce((n, p) => n + p.length, 0)],
        [6, 3, f6.reduce((n, p) => n + p.length, 0)],
      ],
    );
  });

  it('reads every truncation of every packet kind without throwing', () => {
    const packets = [
      ethernet({ payload: v6tcp, vlan: [5] }),
      sll({ payload: v4udp }),
      sll2({ payload: v6tcp, ifIndex: 1 }),
      ipv6({
        src: '2001:db8::1',
        dst: '2001:db8::2',
        extHeaders: [{ type: 0 }, { type: 44, offset: 0, moreFragments: true, id: 1 }],
        payload: tcp({ srcPort: 1, dstPort: 2, flags: {} }),
      }),
    ];
    const linkTypes = [LINKTYPE.ETHERNET, LINKTYPE.LINUX_SLL, LINKTYPE.LINUX_SLL2, LINKTYPE.RAW];
    const view = new PacketView();
    packets.forEach((packet, i) => {
      const buf = Buffer.from(packet);
      for (let length = 0; length <= packet.length; length++) {
        const ok = decodePacket(view, buf, new DataView(buf.buffer, buf.byteOffset, buf.byteLength), 0, length, linkTypes[i]!, 0);
        if (!ok) assert.ok(view.damage !== null || length === 0 || view.family === 0, `length ${length}`);
        if (length === packet.length) assert.ok(ok, `the whole packet ${i} decodes`);
      }
    });
  });

  it('calls an endless IPv6 extension header chain damage, not a hang', () => {
    const chain = Array.from({ length: 40 }, () => ({ type: 60 as const }));
    const packet = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', extHeaders: chain, payload: udp({ srcPort: 7, dstPort: 9, payload: new Uint8Array(3) }) });
    const a = analyze(pcapFile({ linkType: LINKTYPE.RAW, packets: [{ ts: T0, data: packet }] }));
    assert.equal(a.flows.length, 0);
    assert.deepEqual(a.capture.warnings, ['1 packet: IPv6 extension header chain too long (first: packet 1)']);
  });

  it('calls an IPv6 extension header that overruns the packet damage, and goes on', () => {
    const good = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', payload: udp({ srcPort: 7, dstPort: 9, payload: new Uint8Array(3) }) });
    const bad = Buffer.from(
      ipv6({ src: '2001:db8::1', dst: '2001:db8::2', extHeaders: [{ type: 0 }], payload: udp({ srcPort: 7, dstPort: 9, payload: new Uint8Array(3) }) }),
    );
    bad[41] = 200; // Hdr Ext Len far beyond the packet
    const a = analyze(
      pcapFile({
        linkType: LINKTYPE.RAW,
        packets: [
          { ts: T0, data: bad },
          { ts: T0 + 1, data: good },
        ],
      }),
    );
    assert.equal(a.flows.length, 1);
    assert.deepEqual(a.capture.warnings, ['1 packet: IPv6 extension header overruns the packet (first: packet 1)']);
  });
});

describe('capture: pcap container', () => {
  const packets: CapturedPacket[] = [
    { ts: T0, data: v6tcp },
    { ts: T0 + 0.000123, data: v4udp },
  ];
  for (const variant of [{}, { bigEndian: true }, { nanosecond: true }, { bigEndian: true, nanosecond: true }]) {
    it(`reads ${variant.bigEndian ? 'big' : 'little'}-endian ${variant.nanosecond ? 'nanosecond' : 'microsecond'} pcap`, () => {
      const a = analyze(pcapFile({ linkType: LINKTYPE.RAW, packets, ...variant }));
      assert.equal(a.capture.format, 'pcap');
      assert.deepEqual(flowSummary(a), EXPECTED_FLOWS);
      assert.ok(Math.abs(a.capture.firstTs! - T0) < 1e-6);
      assert.ok(Math.abs(a.capture.lastTs! - (T0 + 0.000123)) < 1e-6);
    });
  }

  it('gives the same result however the bytes are chunked', () => {
    const file = pcapFile({ linkType: LINKTYPE.RAW, packets });
    const whole = analyze(file);
    for (const size of [1, 3, 17, 64]) {
      const analyzer = new IncrementalAnalyzer();
      for (let i = 0; i < file.length; i += size) analyzer.push(file.subarray(i, i + size));
      assert.deepEqual(analyzer.finish(), whole, `chunks of ${size}`);
    }
  });

  it('reports what it has while the capture is still being written', () => {
    const file = pcapFile({ linkType: LINKTYPE.RAW, packets });
    const analyzer = new IncrementalAnalyzer();
    analyzer.push(file.subarray(0, 24 + 16 + v6tcp.length + 5));
    assert.equal(analyzer.report().flows.length, 1);
    analyzer.push(file.subarray(24 + 16 + v6tcp.length + 5));
    assert.equal(analyzer.finish().flows.length, 2);
  });

  it('keeps the original length as the bytes of a packet cut by the snapshot length', () => {
    const a = analyze(pcapFile({ linkType: LINKTYPE.RAW, snaplen: 60, packets: [{ ts: T0, data: v4udp }] }));
    assert.equal(a.flows[0]!.bytes, v4udp.length);
    assert.deepEqual(a.capture.warnings, []);
  });

  it('warns, and keeps every earlier packet, when the file ends inside a record', () => {
    const file = pcapFile({ linkType: LINKTYPE.RAW, packets });
    for (let cut = 24; cut < file.length; cut++) {
      const a = analyze(file.subarray(0, cut));
      const complete = cut >= 24 + 16 + v6tcp.length ? 1 : 0;
      assert.equal(a.flows.length, complete, `cut at ${cut}`);
      if (cut !== 24 && cut !== 24 + 16 + v6tcp.length) assert.match(a.capture.warnings.join(), /ends inside a record at byte offset (24|\d+)/);
    }
  });

  it('rejects a bad magic, a short header and an empty file with the byte offset', () => {
    const file = Buffer.from(pcapFile({ linkType: LINKTYPE.RAW, packets }));
    file.writeUInt32LE(0xdeadbeef, 0);
    assert.throws(
      () => analyze(file),
      (e: unknown) =>
        e instanceof CaptureFormatError && e.offset === 0 && /test.pcap: byte offset 0: not a pcap or pcapng file \(magic 0xdeadbeef\)/.test(e.message),
    );
    for (const cut of [0, 3, 23]) assert.throws(() => analyze(pcapFile({ linkType: 1, packets: [] }).subarray(0, cut)), CaptureFormatError);
  });

  it('rejects a record longer than any packet, naming its offset', () => {
    const file = Buffer.from(pcapFile({ linkType: LINKTYPE.RAW, packets }));
    const second = 24 + 16 + v6tcp.length;
    file.writeUInt32LE(0x7fffffff, second + 8);
    assert.throws(
      () => analyze(file),
      (e: unknown) => e instanceof CaptureFormatError && e.offset === second && /claims 2147483647 captured bytes/.test(e.message),
    );
  });

  it("a header's snapshot length of 4 GiB does not lift the record cap: a record claiming 1 GiB is refused at its offset, not buffered", () => {
    const file = Buffer.from(pcapFile({ linkType: LINKTYPE.RAW, snaplen: 0xffffffff, packets }));
    const second = 24 + 16 + v6tcp.length;
    file.writeUInt32LE(1 << 30, second + 8);
    assert.throws(
      () => analyze(file),
      (e: unknown) => e instanceof CaptureFormatError && e.offset === second && /claims 1073741824 captured bytes, more than the 262144/.test(e.message),
    );
  });

  it('warns about a snapshot length of 0 and reads the records', () => {
    const file = Buffer.from(pcapFile({ linkType: LINKTYPE.RAW, packets }));
    file.writeUInt32LE(0, 16);
    const a = analyze(file);
    assert.equal(a.flows.length, 2);
    assert.match(a.capture.warnings[0]!, /snapshot length of 0/);
  });
});

describe('capture: pcapng container', () => {
  it('reads several interfaces with different link types, resolutions, and skips unknown blocks', () => {
    const file = pcapngFile({
      interfaces: [
        { linkType: LINKTYPE.LINUX_SLL2, name: 'any' },
        { linkType: LINKTYPE.RAW, tsresol: 9, name: 'rmnet_data0' },
      ],
      packets: [
        { iface: 0, ts: T0, data: sll2({ payload: v6tcp, ifIndex: 4 }), comment: 'first' },
        { iface: 1, ts: T0 + 0.5, data: v4udp },
      ],
      extraBlocks: [
        { after: 0, type: 0x0badcafe, body: new Uint8Array(12) },
        { after: 0, type: 5, body: new Uint8Array(20) },
      ],
    });
    const a = analyze(file);
    assert.equal(a.capture.format, 'pcapng');
    assert.deepEqual(a.capture.linkTypes, [LINKTYPE.LINUX_SLL2, LINKTYPE.RAW]);
    assert.deepEqual(flowSummary(a), EXPECTED_FLOWS);
    assert.ok(Math.abs(a.capture.lastTs! - (T0 + 0.5)) < 1e-6);
  });

  it('reads big-endian sections and a second section with its own interfaces', () => {
    const file = pcapngFile({
      bigEndian: true,
      interfaces: [{ linkType: LINKTYPE.RAW }],
      packets: [{ iface: 0, ts: T0, data: v6tcp }],
      sections: [{ interfaces: [{ linkType: LINKTYPE.ETHERNET }], packets: [{ iface: 0, ts: T0 + 1, data: ethernet({ payload: v4udp }) }] }],
    });
    assert.deepEqual(flowSummary(analyze(file)), EXPECTED_FLOWS);
  });

  it('reads simple packet blocks', () => {
    const file = pcapngFile({
      interfaces: [{ linkType: LINKTYPE.RAW }],
      packets: [
        { iface: 0, ts: T0, data: v6tcp },
        { iface: 0, ts: T0, data: v4udp },
      ],
      simplePackets: true,
    });
    assert.deepEqual(flowSummary(analyze(file)), EXPECTED_FLOWS);
  });

  it('rejects a block length that is not a multiple of 4, naming the offset', () => {
    const file = Buffer.from(pcapngFile({ interfaces: [{ linkType: LINKTYPE.RAW }], packets: [{ iface: 0, ts: T0, data: v6tcp }] }));
    const shbLength = file.readUInt32LE(4);
    const idbLength = file.readUInt32LE(shbLength + 4);
    file.writeUInt32LE(13, shbLength + idbLength + 4);
    assert.throws(
      () => analyze(file),
      (e: unknown) => e instanceof CaptureFormatError && e.offset === shbLength + idbLength + 4,
    );
  });

  it('warns about a packet on an interface no block described', () => {
    const file = Buffer.from(pcapngFile({ interfaces: [{ linkType: LINKTYPE.RAW }], packets: [{ iface: 0, ts: T0, data: v6tcp }] }));
    const shbLength = file.readUInt32LE(4);
    const idbLength = file.readUInt32LE(shbLength + 4);
    file.writeUInt32LE(7, shbLength + idbLength + 8);
    const a = analyze(file);
    assert.equal(a.flows.length, 0);
    assert.match(a.capture.warnings[0]!, /names interface 7/);
  });

  it('reads a file through the reader in one-byte pushes', () => {
    const file = pcapngFile({
      interfaces: [{ linkType: LINKTYPE.RAW }],
      packets: [
        { iface: 0, ts: T0, data: v6tcp },
        { iface: 0, ts: T0, data: v4udp },
      ],
    });
    let seen = 0;
    const reader = new CaptureReader({
      packet: () => {
        seen++;
      },
      warning: (m) => assert.fail(m),
    });
    for (const byte of file) reader.push(Uint8Array.of(byte));
    reader.finish();
    assert.equal(seen, 2);
  });
});
