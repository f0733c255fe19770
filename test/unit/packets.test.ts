// Checks the test-support packet builders against an independent decoder: tshark.
// CI always has tshark; a machine without it fails this suite once, in `before`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import {
  ETHERTYPE,
  LINKTYPE,
  NULL_FAMILY,
  DNS_RCODE,
  SLL_PACKET_TYPE,
  type CapturedPacket,
  type UpperLayer,
  dnsOverTcp,
  dnsQuery,
  dnsResponse,
  ethernet,
  fragmentIpv4,
  fragmentIpv6,
  icmpv4Echo,
  icmpv6Echo,
  internetChecksum,
  ipv4,
  ipv6,
  nullLoopback,
  pcapFile,
  pcapngFile,
  quicInitial,
  rawIp,
  sll,
  sll2,
  tcp,
  tlsClientHello,
  udp,
} from '../support/packets.js';

const run = promisify(execFile);

// Checksum validation is off by default in Wireshark; the builders' checksums are the point.
const CHECKSUM_PREFS = ['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];
// proto_checksum_enum_t in Wireshark's epan/proto.h.
const CHECKSUM_GOOD = '1';

const V4_CLIENT = '192.0.2.10';
const V4_SERVER = '198.51.100.53';
const V6_CLIENT = '2001:db8:1::10';
const V6_SERVER = '2001:db8:53::53';
const TS = 1_700_000_000.25;

let workDir = '';
let fileCount = 0;

async function writeCapture(bytes: Uint8Array, extension = 'pcap'): Promise<string> {
  const file = join(workDir, `capture-${fileCount++}.${extension}`);
  await writeFile(file, bytes);
  return file;
}

/** tshark's per-frame values for `names`, one row per frame, repeated fields joined by ','. */
async function tsharkFields(file: string, names: readonly string[], extraArgs: readonly string[] = []): Promise<string[][]> {
  const argv = ['-r', file, '-n', ...CHECKSUM_PREFS, ...extraArgs, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const name of names) argv.push('-e', name);
  const { stdout, stderr } = await run('tshark', argv, { maxBuffer: 64 * 1024 * 1024 });
  // Any complaint about the file (damaged, cut short) fails the builder that wrote it.
  const complaints = stderr.split('\n').filter((line) => line !== '' && !line.startsWith('Running as user'));
  assert.deepEqual(complaints, [], `tshark complained about ${file}`);
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

/** Decodes a one-linktype pcap of `frames` and returns each frame's fields by name. */
async function decode(linkType: number, frames: readonly Uint8Array[], names: readonly string[]): Promise<Array<Record<string, string>>> {
  const packets: CapturedPacket[] = frames.map((data, i) => ({ ts: TS + i, data }));
  const file = await writeCapture(pcapFile({ linkType, packets }));
  const rows = await tsharkFields(file, names);
  assert.equal(rows.length, frames.length, `tshark decoded ${rows.length} of ${frames.length} frames in ${file}`);
  return rows.map((row) => Object.fromEntries(names.map((name, i) => [name, row[i] ?? ''])));
}

async function decodeOne(linkType: number, frame: Uint8Array, names: readonly string[]): Promise<Record<string, string>> {
  const [fields] = await decode(linkType, [frame], names);
  assert.ok(fields);
  return fields;
}

describe('test support: packet builders, checked by tshark', function () {
  before(async function () {
    try {
      await run('tshark', ['--version']);
    } catch (cause) {
      throw new Error('tshark is required to verify the packet builders; install it (apt-get install tshark)', { cause });
    }
    workDir = await mkdtemp(join(tmpdir(), 'v6lab-packets-'));
  });

  after(async function () {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  describe('without tshark', function () {
    it('computes the RFC 1071 §3 example checksum', function () {
      // Sum of 0001 f203 f4f5 f6f7 is 0x2ddf0, folded 0xddf2, inverted 0x220d.
      assert.equal(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7)), 0x220d);
    });

    it('builds the same bytes on every call', function () {
      const build = (): Uint8Array => quicInitial({ dcid: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), scid: Uint8Array.of() });
      assert.deepEqual(build(), build());
      assert.deepEqual(tlsClientHello({ sni: 'a.example' }), tlsClientHello({ sni: 'a.example' }));
    });

    it('rejects addresses of the wrong family and bad fragment sizes', function () {
      const payload = udp({ srcPort: 1, dstPort: 2, payload: Uint8Array.of() });
      assert.throws(() => ipv4({ src: V6_CLIENT, dst: V4_SERVER, payload }), /ipv4 src '2001:db8:1::10' is not an IPv4 address/);
      assert.throws(() => ipv6({ src: V6_CLIENT, dst: 'nonsense', payload }), /not an IP address: 'nonsense'/);
      assert.throws(() => fragmentIpv6({ src: V6_CLIENT, dst: V6_SERVER, payload, fragmentSize: 100 }), /fragmentSize 100 is not a positive multiple of 8/);
    });
  });

  describe('IP and transport', function () {
    it('builds an IPv4 TCP SYN with options and good checksums', async function () {
      const syn = tcp({
        srcPort: 40000,
        dstPort: 443,
        seq: 1000,
        flags: { syn: true },
        options: { mss: 1460, sackPermitted: true, timestamps: { value: 1, echo: 0 }, windowScale: 7 },
      });
      const frame = ethernet({ payload: ipv4({ src: V4_CLIENT, dst: V4_SERVER, payload: syn, dontFragment: true, id: 0x1234 }) });
      const f = await decodeOne(LINKTYPE.ETHERNET, frame, [
        'ip.src',
        'ip.dst',
        'ip.id',
        'ip.flags.df',
        'ip.checksum.status',
        'tcp.srcport',
        'tcp.dstport',
        'tcp.flags.syn',
        'tcp.hdr_len',
        'tcp.options.mss_val',
        'tcp.options.wscale.shift',
        'tcp.checksum.status',
      ]);
      assert.deepEqual(f, {
        'ip.src': V4_CLIENT,
        'ip.dst': V4_SERVER,
        'ip.id': '0x1234',
        'ip.flags.df': '1',
        'ip.checksum.status': CHECKSUM_GOOD,
        'tcp.srcport': '40000',
        'tcp.dstport': '443',
        'tcp.flags.syn': '1',
        'tcp.hdr_len': '40',
        'tcp.options.mss_val': '1460',
        'tcp.options.wscale.shift': '7',
        'tcp.checksum.status': CHECKSUM_GOOD,
      });
    });

    it('builds IPv4 options padded to a 4-byte header length', async function () {
      // Router Alert (RFC 2113) is 4 bytes; a 3-byte NOP run checks the EOL padding.
      const frames = [Uint8Array.of(0x94, 4, 0, 0), Uint8Array.of(1, 1, 1)].map((options) =>
        ethernet({ payload: ipv4({ src: V4_CLIENT, dst: V4_SERVER, options, payload: icmpv4Echo({ id: 7 }) }) }),
      );
      const rows = await decode(LINKTYPE.ETHERNET, frames, ['ip.hdr_len', 'ip.checksum.status', 'icmp.checksum.status']);
      for (const f of rows) assert.deepEqual(f, { 'ip.hdr_len': '24', 'ip.checksum.status': CHECKSUM_GOOD, 'icmp.checksum.status': CHECKSUM_GOOD });
    });

    it('builds an IPv6 TCP segment with payload and a good checksum', async function () {
      const segment = tcp({ srcPort: 40001, dstPort: 80, seq: 1, ack: 99, flags: { psh: true, ack: true }, payload: Buffer.from('GET / HTTP/1.1\r\n\r\n') });
      const frame = ethernet({ payload: ipv6({ src: V6_CLIENT, dst: V6_SERVER, payload: segment, hopLimit: 255 }) });
      const f = await decodeOne(LINKTYPE.ETHERNET, frame, [
        'ipv6.src',
        'ipv6.dst',
        'ipv6.hlim',
        'ipv6.plen',
        'tcp.srcport',
        'tcp.len',
        'tcp.ack_raw',
        'tcp.checksum.status',
      ]);
      assert.deepEqual(f, {
        'ipv6.src': V6_CLIENT,
        'ipv6.dst': V6_SERVER,
        'ipv6.hlim': '255',
        'ipv6.plen': '38',
        'tcp.srcport': '40001',
        'tcp.len': '18',
        'tcp.ack_raw': '99',
        'tcp.checksum.status': CHECKSUM_GOOD,
      });
    });

    it('builds UDP over both families with good checksums', async function () {
      const datagram = (): UpperLayer => udp({ srcPort: 5353, dstPort: 9999, payload: Buffer.from('odd length!') });
      const frames = [
        ethernet({ payload: ipv4({ src: V4_CLIENT, dst: V4_SERVER, payload: datagram() }) }),
        ethernet({ payload: ipv6({ src: V6_CLIENT, dst: V6_SERVER, payload: datagram() }) }),
      ];
      const rows = await decode(LINKTYPE.ETHERNET, frames, ['udp.srcport', 'udp.dstport', 'udp.length', 'udp.checksum.status']);
      for (const f of rows) assert.deepEqual(f, { 'udp.srcport': '5353', 'udp.dstport': '9999', 'udp.length': '19', 'udp.checksum.status': CHECKSUM_GOOD });
    });

    it('builds ICMP and ICMPv6 echo requests and replies', async function () {
      const frames = [
        ipv4({ src: V4_CLIENT, dst: V4_SERVER, payload: icmpv4Echo({ id: 0x77, seq: 3 }) }),
        ipv6({ src: V6_CLIENT, dst: V6_SERVER, payload: icmpv6Echo({ id: 0x77, seq: 3, reply: true }) }),
      ];
      const [v4, v6] = await decode(LINKTYPE.RAW, frames, [
        'icmp.type',
        'icmp.ident',
        'icmp.checksum.status',
        'icmpv6.type',
        'icmpv6.echo.identifier',
        'icmpv6.checksum.status',
      ]);
      assert.deepEqual([v4?.['icmp.type'], v4?.['icmp.ident'], v4?.['icmp.checksum.status']], ['8', '119', CHECKSUM_GOOD]);
      assert.deepEqual([v6?.['icmpv6.type'], v6?.['icmpv6.echo.identifier'], v6?.['icmpv6.checksum.status']], ['129', '0x0077', CHECKSUM_GOOD]);
    });

    it('chains IPv6 extension headers to the upper layer', async function () {
      const packet = ipv6({
        src: V6_CLIENT,
        dst: V6_SERVER,
        extHeaders: [{ type: 0 }, { type: 60, body: Uint8Array.of(1, 0) }, { type: 43 }, { type: 60 }],
        payload: udp({ srcPort: 1234, dstPort: 53, payload: dnsQuery({ id: 1, name: 'ext.example', qtype: 'AAAA' }) }),
      });
      const f = await decodeOne(LINKTYPE.IPV6, packet, [
        'ipv6.nxt',
        'ipv6.hopopts.nxt',
        'ipv6.dstopts.nxt',
        'ipv6.routing.nxt',
        'udp.checksum.status',
        'dns.qry.name',
      ]);
      assert.deepEqual(f, {
        'ipv6.nxt': '0',
        'ipv6.hopopts.nxt': '60',
        'ipv6.dstopts.nxt': '43,17',
        'ipv6.routing.nxt': '60',
        'udp.checksum.status': CHECKSUM_GOOD,
        'dns.qry.name': 'ext.example',
      });
    });

    it('fragments an IPv4 UDP datagram that tshark reassembles', async function () {
      const answers = Array.from({ length: 40 }, (_, i) => `192.0.2.${i + 1}`);
      const response = dnsResponse({ id: 9, name: 'big.example', qtype: 'A', answers });
      const fragments = fragmentIpv4({
        src: V4_SERVER,
        dst: V4_CLIENT,
        id: 0x4242,
        fragmentSize: 256,
        payload: udp({ srcPort: 53, dstPort: 40000, payload: response }),
      });
      assert.ok(fragments.length >= 3, `expected several fragments, got ${fragments.length}`);
      const rows = await decode(
        LINKTYPE.ETHERNET,
        fragments.map((payload) => ethernet({ payload })),
        ['ip.checksum.status', 'ip.flags.mf', 'ip.reassembled.length', 'udp.checksum.status', 'dns.count.answers'],
      );
      assert.ok(rows.every((f) => f['ip.checksum.status'] === CHECKSUM_GOOD));
      assert.deepEqual(
        rows.map((f) => f['ip.flags.mf']),
        [...fragments.slice(1).map(() => '1'), '0'],
      );
      const last = rows.at(-1);
      assert.equal(last?.['ip.reassembled.length'], String(8 + response.length));
      assert.equal(last?.['udp.checksum.status'], CHECKSUM_GOOD);
      assert.equal(last?.['dns.count.answers'], '40');
    });

    it('fragments an IPv6 UDP datagram that tshark reassembles', async function () {
      const payload = Buffer.alloc(3000, 0x5a);
      const fragments = fragmentIpv6({
        src: V6_CLIENT,
        dst: V6_SERVER,
        id: 0xdeadbeef,
        fragmentSize: 1232,
        extHeaders: [{ type: 0 }],
        payload: udp({ srcPort: 4000, dstPort: 4001, payload }),
      });
      assert.equal(fragments.length, 3);
      const rows = await decode(LINKTYPE.IPV6, fragments, [
        'ipv6.fraghdr.ident',
        'ipv6.fraghdr.offset',
        'ipv6.fraghdr.more',
        'ipv6.reassembled.length',
        'udp.length',
        'udp.checksum.status',
      ]);
      assert.deepEqual(
        rows.map((f) => f['ipv6.fraghdr.ident']),
        ['0xdeadbeef', '0xdeadbeef', '0xdeadbeef'],
      );
      // tshark shows the offset in 8-octet units.
      assert.deepEqual(
        rows.map((f) => f['ipv6.fraghdr.offset']),
        ['0', '154', '308'],
      );
      assert.deepEqual(
        rows.map((f) => f['ipv6.fraghdr.more']),
        ['1', '1', '0'],
      );
      assert.equal(rows[2]?.['ipv6.reassembled.length'], '3008');
      assert.equal(rows[2]?.['udp.length'], '3008');
      assert.equal(rows[2]?.['udp.checksum.status'], CHECKSUM_GOOD);
    });
  });

  describe('link layers', function () {
    const packet = (): Uint8Array => ipv6({ src: V6_CLIENT, dst: V6_SERVER, payload: udp({ srcPort: 1, dstPort: 2, payload: Uint8Array.of(1) }) });

    it('builds 802.1Q and QinQ tags', async function () {
      const frames = [ethernet({ vlan: [100], payload: packet() }), ethernet({ vlan: [10, 20], payload: packet(), src: 'aa:bb:cc:00:00:01' })];
      const [single, qinq] = await decode(LINKTYPE.ETHERNET, frames, ['eth.type', 'eth.src', 'ieee8021ad.id', 'vlan.id', 'vlan.etype', 'ipv6.src']);
      assert.deepEqual(single, {
        'eth.type': '0x8100',
        'eth.src': '02:00:00:00:00:01',
        'ieee8021ad.id': '',
        'vlan.id': '100',
        'vlan.etype': '0x86dd',
        'ipv6.src': V6_CLIENT,
      });
      // The outer S-tag is dissected as 802.1ad, the inner C-tag as 802.1Q.
      assert.deepEqual(qinq, {
        'eth.type': '0x88a8',
        'eth.src': 'aa:bb:cc:00:00:01',
        'ieee8021ad.id': '10',
        'vlan.id': '20',
        'vlan.etype': '0x86dd',
        'ipv6.src': V6_CLIENT,
      });
    });

    it('builds LINUX_SLL headers', async function () {
      const frame = sll({ pktType: SLL_PACKET_TYPE.OUTGOING, addr: '02:11:22:33:44:55', payload: packet() });
      const f = await decodeOne(LINKTYPE.LINUX_SLL, frame, ['sll.pkttype', 'sll.hatype', 'sll.halen', 'sll.src.eth', 'sll.etype', 'ipv6.dst']);
      assert.deepEqual(f, {
        'sll.pkttype': '4',
        'sll.hatype': '1',
        'sll.halen': '6',
        'sll.src.eth': '02:11:22:33:44:55',
        'sll.etype': '0x86dd',
        'ipv6.dst': V6_SERVER,
      });
    });

    it('builds LINUX_SLL2 headers', async function () {
      const frame = sll2({
        ifIndex: 17,
        pktType: SLL_PACKET_TYPE.HOST,
        payload: ipv4({ src: V4_CLIENT, dst: V4_SERVER, payload: udp({ srcPort: 1, dstPort: 2, payload: Uint8Array.of() }) }),
      });
      const f = await decodeOne(LINKTYPE.LINUX_SLL2, frame, ['sll.etype', 'sll.ifindex', 'sll.pkttype', 'sll.src.eth', 'ip.dst', 'udp.checksum.status']);
      assert.deepEqual(f, {
        'sll.etype': '0x0800',
        'sll.ifindex': '17',
        'sll.pkttype': '0',
        'sll.src.eth': '02:00:00:00:00:01',
        'ip.dst': V4_SERVER,
        'udp.checksum.status': CHECKSUM_GOOD,
      });
    });

    it('builds DLT_NULL headers for every AF_INET6 value, in both byte orders', async function () {
      const families = [NULL_FAMILY.INET6_BSD, NULL_FAMILY.INET6_FREEBSD, NULL_FAMILY.INET6_DARWIN];
      const frames = [
        nullLoopback({ family: NULL_FAMILY.INET, payload: ipv4({ src: '127.0.0.1', dst: '127.0.0.1', payload: icmpv4Echo() }) }),
        ...families.map((family) => nullLoopback({ family, payload: packet() })),
        nullLoopback({ family: NULL_FAMILY.INET6_DARWIN, littleEndian: false, payload: packet() }),
      ];
      const rows = await decode(LINKTYPE.NULL, frames, ['null.family', 'frame.protocols']);
      assert.deepEqual(
        rows.map((f) => f['null.family']),
        ['2', '24', '28', '30', '30'],
      );
      assert.deepEqual(
        rows.map((f) => f['frame.protocols']?.split(':')[1]),
        ['ip', 'ipv6', 'ipv6', 'ipv6', 'ipv6'],
      );
    });

    for (const linkType of [LINKTYPE.RAW, LINKTYPE.DLT_RAW]) {
      it(`decodes raw IP of both families under linktype ${linkType}`, async function () {
        const frames = [rawIp(ipv4({ src: V4_CLIENT, dst: V4_SERVER, payload: icmpv4Echo() })), rawIp(packet())];
        const rows = await decode(linkType, frames, ['ip.src', 'ipv6.src']);
        assert.deepEqual(rows, [
          { 'ip.src': V4_CLIENT, 'ipv6.src': '' },
          { 'ip.src': '', 'ipv6.src': V6_CLIENT },
        ]);
      });
    }

    it('decodes LINKTYPE_IPV4 and LINKTYPE_IPV6', async function () {
      const v4 = await decodeOne(LINKTYPE.IPV4, ipv4({ src: V4_CLIENT, dst: V4_SERVER, payload: icmpv4Echo() }), ['ip.src']);
      const v6 = await decodeOne(LINKTYPE.IPV6, packet(), ['ipv6.src']);
      assert.deepEqual([v4['ip.src'], v6['ipv6.src']], [V4_CLIENT, V6_CLIENT]);
    });

    it('infers the EtherType or takes it as given', async function () {
      const frame = ethernet({ etherType: ETHERTYPE.IPV6, payload: packet() });
      const f = await decodeOne(LINKTYPE.ETHERNET, frame, ['eth.type']);
      assert.equal(f['eth.type'], '0x86dd');
      assert.throws(() => ethernet({ payload: Uint8Array.of(0x10) }), /cannot infer the EtherType/);
    });
  });

  describe('application payloads', function () {
    it('builds DNS queries and responses over UDP', async function () {
      const frames = [
        ipv6({
          src: V6_CLIENT,
          dst: V6_SERVER,
          payload: udp({ srcPort: 33333, dstPort: 53, payload: dnsQuery({ id: 0x1111, name: 'www.example.com', qtype: 'AAAA' }) }),
        }),
        ipv6({
          src: V6_SERVER,
          dst: V6_CLIENT,
          payload: udp({
            srcPort: 53,
            dstPort: 33333,
            payload: dnsResponse({ id: 0x1111, name: 'www.example.com', qtype: 'AAAA', answers: ['2001:db8::80', '2001:db8::81'] }),
          }),
        }),
        ipv4({
          src: V4_SERVER,
          dst: V4_CLIENT,
          payload: udp({
            srcPort: 53,
            dstPort: 33334,
            payload: dnsResponse({ id: 0x2222, name: 'nope.example', qtype: 'A', answers: [], rcode: DNS_RCODE.NXDOMAIN }),
          }),
        }),
        ipv4({
          src: V4_CLIENT,
          dst: V4_SERVER,
          payload: udp({ srcPort: 33335, dstPort: 53, payload: dnsQuery({ id: 0x3333, name: 'svc.example', qtype: 65 }) }),
        }),
      ];
      const rows = await decode(LINKTYPE.RAW, frames, [
        'dns.id',
        'dns.flags.response',
        'dns.qry.name',
        'dns.qry.type',
        'dns.aaaa',
        'dns.flags.rcode',
        'udp.checksum.status',
      ]);
      assert.deepEqual(rows, [
        {
          'dns.id': '0x1111',
          'dns.flags.response': '0',
          'dns.qry.name': 'www.example.com',
          'dns.qry.type': '28',
          'dns.aaaa': '',
          'dns.flags.rcode': '',
          'udp.checksum.status': CHECKSUM_GOOD,
        },
        {
          'dns.id': '0x1111',
          'dns.flags.response': '1',
          'dns.qry.name': 'www.example.com',
          'dns.qry.type': '28',
          'dns.aaaa': '2001:db8::80,2001:db8::81',
          'dns.flags.rcode': '0',
          'udp.checksum.status': CHECKSUM_GOOD,
        },
        {
          'dns.id': '0x2222',
          'dns.flags.response': '1',
          'dns.qry.name': 'nope.example',
          'dns.qry.type': '1',
          'dns.aaaa': '',
          'dns.flags.rcode': '3',
          'udp.checksum.status': CHECKSUM_GOOD,
        },
        {
          'dns.id': '0x3333',
          'dns.flags.response': '0',
          'dns.qry.name': 'svc.example',
          'dns.qry.type': '65',
          'dns.aaaa': '',
          'dns.flags.rcode': '',
          'udp.checksum.status': CHECKSUM_GOOD,
        },
      ]);
    });

    it('builds DNS over TCP with a length prefix', async function () {
      const message = dnsQuery({ id: 0x4444, name: 'tcp.example', qtype: 'A' });
      assert.equal(Buffer.from(dnsOverTcp(message)).readUInt16BE(0), message.length);
      const segment = tcp({ srcPort: 40002, dstPort: 53, seq: 1, ack: 1, flags: { psh: true, ack: true }, payload: dnsOverTcp(message) });
      const f = await decodeOne(LINKTYPE.RAW, ipv6({ src: V6_CLIENT, dst: V6_SERVER, payload: segment }), ['dns.id', 'dns.qry.name', 'tcp.checksum.status']);
      assert.deepEqual(f, { 'dns.id': '0x4444', 'dns.qry.name': 'tcp.example', 'tcp.checksum.status': CHECKSUM_GOOD });
    });

    it('builds a TLS 1.3 ClientHello that shows its SNI, versions and key share', async function () {
      const hello = tlsClientHello({ sni: 'www.example.org', alpn: ['h2', 'http/1.1'] });
      assert.deepEqual([...hello.subarray(0, 3)], [0x16, 0x03, 0x01]);
      const segment = tcp({ srcPort: 40003, dstPort: 443, seq: 1, ack: 1, flags: { psh: true, ack: true }, payload: hello });
      const f = await decodeOne(LINKTYPE.ETHERNET, ethernet({ payload: ipv6({ src: V6_CLIENT, dst: V6_SERVER, payload: segment }) }), [
        'tls.record.content_type',
        'tls.handshake.type',
        'tls.handshake.extensions_server_name',
        'tls.handshake.extensions.supported_version',
        'tls.handshake.extensions_key_share_group',
        'tls.handshake.extensions_key_share_key_exchange_length',
        'tls.handshake.extensions_alpn_str',
        '_ws.malformed',
        '_ws.expert',
      ]);
      assert.deepEqual(f, {
        'tls.record.content_type': '22',
        'tls.handshake.type': '1',
        'tls.handshake.extensions_server_name': 'www.example.org',
        'tls.handshake.extensions.supported_version': '0x0304,0x0303',
        'tls.handshake.extensions_key_share_group': '29',
        'tls.handshake.extensions_key_share_key_exchange_length': '32',
        'tls.handshake.extensions_alpn_str': 'h2,http/1.1',
        '_ws.malformed': '',
        '_ws.expert': '',
      });
    });

    it('builds a TLS 1.2-only ClientHello without SNI', async function () {
      const hello = tlsClientHello({ tls13: false });
      const segment = tcp({ srcPort: 40004, dstPort: 443, flags: { psh: true, ack: true }, payload: hello });
      const f = await decodeOne(LINKTYPE.RAW, ipv4({ src: V4_CLIENT, dst: V4_SERVER, payload: segment }), [
        'tls.handshake.type',
        'tls.handshake.extensions_server_name',
        'tls.handshake.extensions.supported_version',
        '_ws.malformed',
      ]);
      assert.deepEqual(f, {
        'tls.handshake.type': '1',
        'tls.handshake.extensions_server_name': '',
        'tls.handshake.extensions.supported_version': '',
        '_ws.malformed': '',
      });
    });

    it('builds a QUIC v1 Initial padded to 1200 bytes', async function () {
      const dcid = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
      const scid = Uint8Array.from([9, 10, 11, 12]);
      const initial = quicInitial({ dcid, scid });
      assert.ok(initial.length >= 1200, `initial is ${initial.length} bytes`);
      assert.equal((initial[0] ?? 0) & 0xf0, 0xc0);
      const frame = ipv6({ src: V6_CLIENT, dst: V6_SERVER, payload: udp({ srcPort: 50000, dstPort: 443, payload: initial }) });
      const f = await decodeOne(LINKTYPE.RAW, frame, [
        'frame.protocols',
        'quic.header_form',
        'quic.long.packet_type',
        'quic.version',
        'quic.dcid',
        'quic.scid',
        'quic.token_length',
        'quic.length',
        'udp.checksum.status',
      ]);
      assert.deepEqual(f, {
        'frame.protocols': 'raw:ipv6:udp:quic',
        'quic.header_form': '1',
        'quic.long.packet_type': '0',
        'quic.version': '0x00000001',
        'quic.dcid': '0102030405060708',
        'quic.scid': '090a0b0c',
        'quic.token_length': '0',
        'quic.length': String(initial.length - 1 - 4 - 9 - 5 - 1 - 2),
        'udp.checksum.status': CHECKSUM_GOOD,
      });
    });
  });

  describe('capture files', function () {
    const frame = (i: number): Uint8Array =>
      ethernet({
        payload: ipv4({
          src: V4_CLIENT,
          dst: V4_SERVER,
          id: i,
          payload: udp({ srcPort: 1000 + i, dstPort: 53, payload: dnsQuery({ id: i, name: `n${i}.example`, qtype: 'A' }) }),
        }),
      });

    for (const bigEndian of [false, true]) {
      for (const nanosecond of [false, true]) {
        it(`writes pcap (${bigEndian ? 'big' : 'little'}-endian, ${nanosecond ? 'ns' : 'µs'})`, async function () {
          const bytes = pcapFile({
            linkType: LINKTYPE.ETHERNET,
            bigEndian,
            nanosecond,
            packets: [
              { ts: 1_700_000_000.123456, data: frame(0) },
              { ts: 1_700_000_001_987_654_321n, data: frame(1) },
            ],
          });
          const magic = Buffer.from(bytes.subarray(0, 4)).toString('hex');
          const expectedMagic = nanosecond ? 'a1b23c4d' : 'a1b2c3d4';
          assert.equal(magic, bigEndian ? expectedMagic : Buffer.from(expectedMagic, 'hex').reverse().toString('hex'));
          const rows = await tsharkFields(await writeCapture(bytes), ['frame.time_epoch', 'udp.srcport', 'dns.qry.name']);
          assert.deepEqual(rows, [
            ['1700000000.123456000', '1000', 'n0.example'],
            [nanosecond ? '1700000001.987654321' : '1700000001.987654000', '1001', 'n1.example'],
          ]);
        });
      }
    }

    it('writes pcap records truncated by snaplen or by origLen', async function () {
      const full = frame(2);
      const bytes = pcapFile({
        linkType: LINKTYPE.ETHERNET,
        snaplen: 64,
        packets: [
          { ts: TS, data: full },
          { ts: TS + 1, data: full.subarray(0, 40), origLen: 1500 },
        ],
      });
      const rows = await tsharkFields(await writeCapture(bytes), ['frame.len', 'frame.cap_len']);
      assert.deepEqual(rows, [
        [String(full.length), '64'],
        ['1500', '40'],
      ]);
    });

    it('writes pcapng with two interfaces, comments, an unknown block and a second section', async function () {
      const sllFrame = sll2({
        ifIndex: 3,
        pktType: SLL_PACKET_TYPE.OUTGOING,
        payload: ipv6({ src: V6_CLIENT, dst: V6_SERVER, payload: icmpv6Echo({ id: 5 }) }),
      });
      for (const bigEndian of [false, true]) {
        const bytes = pcapngFile({
          bigEndian,
          comment: 'made by v6lab tests',
          interfaces: [
            { linkType: LINKTYPE.ETHERNET, name: 'wlan0' },
            { linkType: LINKTYPE.LINUX_SLL2, name: 'any', tsresol: 9, snaplen: 65535 },
          ],
          packets: [
            { iface: 0, ts: 1_700_000_000.5, data: frame(0), comment: 'first' },
            { iface: 1, ts: 1_700_000_000_600_000_001n, data: sllFrame },
            { iface: 0, ts: 1_700_000_000.75, data: frame(1).subarray(0, 30), origLen: frame(1).length },
          ],
          extraBlocks: [
            { after: -1, type: 0x80000001, body: Uint8Array.of(1, 2, 3) },
            { after: 0, type: 0x80000002, body: Uint8Array.of(4, 5, 6, 7, 8) },
          ],
          sections: [
            {
              bigEndian: !bigEndian,
              interfaces: [{ linkType: LINKTYPE.RAW, name: 'rmnet0' }],
              packets: [{ iface: 0, ts: 1_700_000_002, data: rawIp(ipv4({ src: V4_CLIENT, dst: V4_SERVER, payload: icmpv4Echo() })) }],
            },
          ],
        });
        assert.equal(bytes.length % 4, 0);
        const rows = await tsharkFields(await writeCapture(bytes, 'pcapng'), [
          'frame.time_epoch',
          'frame.comment',
          'frame.len',
          'frame.cap_len',
          'frame.protocols',
          'sll.ifindex',
          'frame.interface_id',
          'frame.interface_name',
        ]);
        const order = `${bigEndian ? 'big' : 'little'}-endian first section`;
        assert.deepEqual(
          rows.slice(0, 3),
          [
            ['1700000000.500000000', 'first', String(frame(0).length), String(frame(0).length), 'eth:ethertype:ip:udp:dns', '', '0', 'wlan0'],
            ['1700000000.600000001', '', String(sllFrame.length), String(sllFrame.length), 'sll:ethertype:ipv6:icmpv6:data', '3', '1', 'any'],
            ['1700000000.750000000', '', String(frame(1).length), '30', 'eth:ethertype:ip', '', '0', 'wlan0'],
          ],
          order,
        );
        // Only what the second section's own IDB decides: tshark 4.0 reports the section-local
        // interface id against the first section's names, so id and name are not compared.
        assert.deepEqual(rows[3]?.slice(0, 6), ['1700000002.000000000', '', '60', '60', 'raw:ip:icmp:data', ''], order);
        assert.equal(rows.length, 4, order);
      }
    });

    it('writes Simple Packet Blocks for interface 0', async function () {
      const bytes = pcapngFile({
        simplePackets: true,
        interfaces: [{ linkType: LINKTYPE.ETHERNET, snaplen: 96 }, { linkType: LINKTYPE.RAW }],
        packets: [
          { iface: 0, ts: 0, data: frame(3) },
          { iface: 1, ts: 1_700_000_000, data: rawIp(ipv4({ src: V4_CLIENT, dst: V4_SERVER, payload: icmpv4Echo() })) },
          { iface: 0, ts: 0, data: Buffer.alloc(96, 0xee), origLen: 1000 },
        ],
      });
      const rows = await tsharkFields(await writeCapture(bytes, 'pcapng'), ['frame.interface_id', 'frame.len', 'frame.cap_len', 'dns.qry.name']);
      assert.deepEqual(rows, [
        ['0', String(frame(3).length), String(frame(3).length), 'n3.example'],
        ['1', '60', '60', ''],
        ['0', '1000', '96', ''],
      ]);
      assert.throws(
        () => pcapngFile({ simplePackets: true, interfaces: [{ linkType: LINKTYPE.ETHERNET }], packets: [{ iface: 0, ts: 0, data: frame(5), origLen: 2000 }] }),
        /simple packet of \d+ bytes, but its lengths imply 2000/,
      );
    });
  });
});
