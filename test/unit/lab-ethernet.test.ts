/**
 * The virtual handset's Ethernet provisioning, its pure parts (lib/lab/network/ethernet.ts): the
 * router advertisements read from real `tcpdump -x` output (radvd 2.19's RA with RDNSS and the
 * lab's PREF64 RA, test/fixtures/lab/README.md), and the DHCPv4 lease its hook writes, which holds
 * what the network's DHCP server sent and is checked before any of it reaches `ip`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'mocha';
import { parseLease, UDHCPC_HOOK } from '../../lib/lab/network/dhcp-client.js';
import { cablesAmong, packetsFromTcpdumpHex, routerAdvertisementFacts, type LinkDetail, type NamespaceId } from '../../lib/lab/network/ethernet.js';
import { decodeRdnssOption, parseRouterAdvertisement, RouterAdvertisementFormatError } from '../../lib/net/pref64.js';

const REAL = readFileSync('test/fixtures/lab/tcpdump-x-router-advertisements.txt', 'utf8');

describe('virtual handset Ethernet: router advertisements from tcpdump -x', () => {
  it('reads each packet from its IPv6 header, as many bytes as tcpdump says', () => {
    const packets = packetsFromTcpdumpHex(REAL);
    assert.deepEqual(
      packets.map((p) => p.length),
      [40 + 32, 40 + 80],
    );
    assert.equal(packets[0]![0]! >> 4, 6);
  });

  it("finds the router, radvd's RDNSS server and the PREF64 prefix", () => {
    const facts = routerAdvertisementFacts(packetsFromTcpdumpHex(REAL));
    assert.deepEqual(facts, { router: 'fe80::4059:5bff:fec4:bb85', rdnss: ['2001:db8:aa::1'], pref64: '64:ff9b::/96', discarded: [] });
  });

  it('a cut RA is discarded with its reason, the others still read; text of no packet gives none', () => {
    const lines = REAL.split('\n');
    // The second RA without its last line of bytes: its RDNSS option runs past the end.
    const cut = [...lines.slice(0, 6), ...lines.slice(6, 13)].join('\n');
    const facts = routerAdvertisementFacts(packetsFromTcpdumpHex(cut));
    assert.equal(facts.pref64, '64:ff9b::/96');
    assert.deepEqual(facts.rdnss, []);
    assert.equal(facts.discarded.length, 1);
    assert.match(facts.discarded[0]!, /byte \d+: option type 25 .* runs past/);
    assert.deepEqual(packetsFromTcpdumpHex('tcpdump: listening on eth0\n\n'), []);
  });
});

describe('RDNSS options (RFC 8106 section 5.1)', () => {
  const option = (units: number, lifetime: number, servers: number): Uint8Array => {
    const bytes = new Uint8Array(units * 8);
    bytes[0] = 25;
    bytes[1] = units;
    new DataView(bytes.buffer).setUint32(4, lifetime);
    for (let i = 0; i < servers; i++) {
      bytes.set([0x20, 0x01, 0x0d, 0xb8], 8 + 16 * i);
      bytes[8 + 16 * i + 15] = i + 1;
    }
    return bytes;
  };
  it('gives every server of the option', () => {
    assert.deepEqual(decodeRdnssOption(option(5, 1800, 2), 0), ['2001:db8::1', '2001:db8::2']);
  });
  it('a lifetime of 0 withdraws the servers: none', () => {
    assert.deepEqual(decodeRdnssOption(option(3, 0, 1), 0), []);
  });
  it('a length below 3 or even is ignored, naming the byte offset', () => {
    for (const units of [2, 4]) {
      const result = decodeRdnssOption(option(units, 1800, 0), 0);
      assert.ok(result instanceof RouterAdvertisementFormatError);
      assert.equal(result.offset, 0);
    }
  });
  it('an RA with a bad RDNSS keeps its other options', () => {
    const ra = new Uint8Array(16 + 16);
    ra[0] = 134;
    ra.set(option(2, 1800, 0), 16);
    const parsed = parseRouterAdvertisement(ra, 0, ra.length);
    assert.deepEqual(parsed.rdnss, []);
    assert.equal(parsed.ignoredRdnss.length, 1);
  });
});

describe("a handset's DHCPv4 lease (Wi-Fi and Ethernet share the hook and the parser)", () => {
  it('reads address, prefix length, subnet, router and servers', () => {
    assert.deepEqual(parseLease('ip=192.168.64.50\nmask=24\nrouter=192.168.64.1\ndns=192.168.64.1 100.64.0.53\n'), {
      ipv4: '192.168.64.50',
      prefixLength: 24,
      subnet: '192.168.64.0/24',
      router: '192.168.64.1',
      dns: ['192.168.64.1', '100.64.0.53'],
    });
  });
  it('a server that sends no router, or an odd one, or odd resolvers: no router, only unicast IPv4 resolvers kept, at most four', () => {
    assert.deepEqual(parseLease('ip=10.9.0.2\nmask=16\nrouter=\ndns=10.9.0.1 x;reboot 224.0.0.1 10.9.0.1 127.0.0.1 0.0.0.0 2001:db8::1\n'), {
      ipv4: '10.9.0.2',
      prefixLength: 16,
      subnet: '10.9.0.0/16',
      router: null,
      dns: ['10.9.0.1'],
    });
    // A router off the subnet could not be reached on the link; the handset's own address is no router.
    assert.equal(parseLease('ip=10.9.0.2\nmask=24\nrouter=10.8.0.1\n')?.router, null);
    assert.equal(parseLease('ip=10.9.0.2\nmask=24\nrouter=10.9.0.2\n')?.router, null);
    assert.equal(parseLease('ip=10.9.0.2\nmask=24\nrouter=10.9.0.1 10.9.0.254\n')?.router, '10.9.0.1');
    assert.equal(parseLease('ip=10.9.0.2\ndns=1.1.1.1 1.0.0.1 8.8.8.8 8.8.4.4 9.9.9.9\n')?.dns.length, 4);
  });
  it('no mask is a /24, as busybox assumes', () => {
    assert.equal(parseLease('ip=10.9.0.2\nmask=\nrouter=10.9.0.1\n')?.prefixLength, 24);
  });
  it('an address or mask that is not one is no lease (nothing reaches ip)', () => {
    for (const hostile of [
      'ip=10.0.0.2 dev lo\nmask=24\n',
      'ip=10.0.0.2\nmask=33\n',
      'ip=10.0.0.2\nmask=24 dev lo\n',
      'ip=10.0.0.2\nmask=0x18\n',
      'ip=2001:db8::2\nmask=24\n',
      // inet_aton's short forms: not what udhcpc prints.
      'ip=10.2\nmask=8\n',
      'ip=010.0.0.2\nmask=24\n',
      // Not a host of its subnet: this network, loopback, multicast, broadcast, the subnet's first and last.
      'ip=0.0.0.5\nmask=24\n',
      'ip=127.0.0.2\nmask=8\n',
      'ip=224.0.0.5\nmask=24\n',
      'ip=255.255.255.255\nmask=24\n',
      'ip=10.0.0.0\nmask=24\n',
      'ip=10.0.0.255\nmask=24\n',
      // A key twice: a value that carried a newline in.
      'ip=10.0.0.2\nmask=24\nip=127.0.0.1\n',
      'ip=10.0.0.2\nno key here\n',
      '',
    ]) {
      assert.equal(parseLease(hostile), null, JSON.stringify(hostile));
    }
  });
  it('the hook runs no command: it only writes the lease down', () => {
    const commands = UDHCPC_HOOK.split('\n').filter((l) => /^\s+[a-z]/.test(l) && !/^\s+(bound|printf|;;)/.test(l));
    assert.deepEqual(commands, []);
    assert.doesNotMatch(UDHCPC_HOOK, /\bip\b (addr|route|link)/);
  });
});

describe('virtual handset Ethernet: only a cable the host moved in is provisioned', () => {
  const links = JSON.parse(readFileSync('test/fixtures/lab/ip-j-d-link-cables.json', 'utf8')) as LinkDetail[];
  const ids = JSON.parse(readFileSync('test/fixtures/lab/ip-j-netns-list-id.json', 'utf8')) as NamespaceId[];
  const labsOwn = (name: string) => name === 'h6x-ap';

  it("of real ip output: the veth whose peer is in a namespace the host named, not the lab's own", () => {
    assert.deepEqual(
      cablesAmong(links, ids, labsOwn).map((l) => l.ifname),
      ['eth0'],
    );
  });
  it("never what the handset's root can make: a veth pair inside it, a peer in a namespace of no name, its wlan0 renamed, a dummy", () => {
    const handsetMade = links.filter((l) => l.ifname !== 'eth0');
    assert.deepEqual(
      handsetMade.map((l) => l.ifname),
      ['lo', 'wlan0', 'eth2', 'eth1', 'eth4', 'eth3'],
    );
    assert.deepEqual(cablesAmong(handsetMade, ids, labsOwn), []);
    const dummy: LinkDetail = { ifname: 'eth0', flags: ['BROADCAST', 'NOARP', 'UP', 'LOWER_UP'], linkinfo: { info_kind: 'dummy' } };
    assert.deepEqual(cablesAmong([dummy], ids, labsOwn), []);
    // A dummy claiming a peer namespace id is still no veth.
    assert.deepEqual(cablesAmong([{ ...dummy, link_netnsid: 0 }], ids, labsOwn), []);
  });
  it('a cable named anything but eth* is not Ethernet (EthernetTracker takes eth\\d only)', () => {
    const cable = links.find((l) => l.ifname === 'eth0')!;
    assert.deepEqual(cablesAmong([{ ...cable, ifname: 'usb0' }], ids, labsOwn), []);
    assert.deepEqual(cablesAmong([{ ...cable, ifname: 'eth12' }], ids, labsOwn).length, 1);
  });
});
