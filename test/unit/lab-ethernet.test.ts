/**
 * The virtual handset's Ethernet provisioning, its pure parts (lib/lab/network/ethernet.ts): the
 * router advertisements read from real `tcpdump -x` output (radvd 2.19's RA with RDNSS and the
 * lab's PREF64 RA, test/fixtures/lab/README.md), and the DHCPv4 lease its hook writes, which holds
 * what the network's DHCP server sent and is checked before any of it reaches `ip`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'mocha';
import { packetsFromTcpdumpHex, parseLease, routerAdvertisementFacts } from '../../lib/lab/network/ethernet.js';
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

describe('virtual handset Ethernet: the DHCPv4 lease', () => {
  it('reads address, prefix length, router and servers', () => {
    assert.deepEqual(parseLease('ip=192.168.64.50\nmask=24\nrouter=192.168.64.1\ndns=192.168.64.1 100.64.0.53\n'), {
      ipv4: '192.168.64.50',
      prefixLength: 24,
      router: '192.168.64.1',
      dns: ['192.168.64.1', '100.64.0.53'],
    });
  });
  it('a server that sends no router or an odd resolver: no router, only addresses kept', () => {
    assert.deepEqual(parseLease('ip=10.9.0.2\nmask=16\nrouter=\ndns=10.9.0.1 x;reboot\n'), {
      ipv4: '10.9.0.2',
      prefixLength: 16,
      router: null,
      dns: ['10.9.0.1'],
    });
  });
  it('an address or mask that is not one is no lease (nothing reaches ip)', () => {
    assert.equal(parseLease('ip=10.0.0.2 dev lo\nmask=24\n'), null);
    assert.equal(parseLease('ip=10.0.0.2\nmask=33\n'), null);
    assert.equal(parseLease('ip=2001:db8::2\nmask=24\n'), null);
    assert.equal(parseLease(''), null);
  });
});
