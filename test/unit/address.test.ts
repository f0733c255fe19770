import assert from 'node:assert/strict';
import ipaddr from 'ipaddr.js';
import {
  AddressError,
  canonicalAddress,
  embedIpv4,
  extractEmbeddedIpv4,
  formatAddress,
  inNat64Prefix,
  inPrefix,
  isClatIpv4,
  nat64PrefixFromWellKnown,
  parseAddress,
  parseNat64Prefix,
  parsePrefix,
  prefixOf,
} from '../../lib/net/address.js';

/** RFC 6052 section 2.4, Table 2: 192.0.2.33 embedded under each prefix length. */
const RFC6052_TABLE = [
  ['2001:db8::/32', '2001:db8:c000:221::'],
  ['2001:db8:100::/40', '2001:db8:1c0:2:21::'],
  ['2001:db8:122::/48', '2001:db8:122:c000:2:2100::'],
  ['2001:db8:122:300::/56', '2001:db8:122:3c0:0:221::'],
  ['2001:db8:122:344::/64', '2001:db8:122:344:c0:2:2100:0'],
  ['2001:db8:122:344::/96', '2001:db8:122:344::c000:221'],
] as const;

describe('net/address', () => {
  describe('RFC 6052 embedding', () => {
    for (const [prefixText, expected] of RFC6052_TABLE) {
      it(`embeds and extracts 192.0.2.33 under ${prefixText}`, () => {
        const prefix = parseNat64Prefix(prefixText);
        const embedded = embedIpv4(prefix, parseAddress('192.0.2.33').bytes);
        assert.equal(formatAddress(embedded, 0, 6), canonicalAddress(expected));
        assert.ok(inNat64Prefix(prefix, embedded, 0));
        assert.equal(formatAddress(extractEmbeddedIpv4(prefix, parseAddress(expected).bytes, 0), 0, 4), '192.0.2.33');
      });
    }

    it('extracts at an offset inside a larger buffer', () => {
      const prefix = parseNat64Prefix('64:ff9b::/96');
      const buf = new Uint8Array(40);
      buf.set(parseAddress('64:ff9b::cb00:7101').bytes, 24);
      assert.equal(formatAddress(extractEmbeddedIpv4(prefix, buf, 24), 0, 4), '203.0.113.1');
      assert.ok(inNat64Prefix(prefix, buf, 24));
      assert.ok(!inNat64Prefix(prefix, buf, 0));
    });

    it('rejects prefix lengths RFC 6052 does not allow, and non-prefixes, naming the field', () => {
      assert.throws(
        () => parseNat64Prefix('64:ff9b::/80', '--nat64-prefix'),
        (e: unknown) => e instanceof AddressError && e.field === '--nat64-prefix' && /\/80/.test(e.message),
      );
      assert.throws(() => parseNat64Prefix('64:ff9b::'), AddressError);
      assert.throws(() => parseNat64Prefix('192.0.2.0/24'), /not an IPv6 prefix/);
      assert.throws(() => parseNat64Prefix('nonsense/96'), AddressError);
    });

    it('canonicalises the prefix text', () => {
      assert.equal(parseNat64Prefix('0064:FF9B:0000::/96').text, '64:ff9b::/96');
      assert.equal(parseNat64Prefix('2001:db8:122:344:ffff::/64').text, '2001:db8:122:344::/64');
    });
  });

  describe('RFC 7050 discovery from ipv4only.arpa answers', () => {
    for (const [prefixText] of RFC6052_TABLE) {
      for (const wka of ['192.0.0.170', '192.0.0.171']) {
        it(`finds ${prefixText} from ${wka}`, () => {
          const prefix = parseNat64Prefix(prefixText);
          const answer = embedIpv4(prefix, parseAddress(wka).bytes);
          assert.equal(nat64PrefixFromWellKnown(answer)?.text, prefix.text);
        });
      }
    }

    it('finds the well-known prefix and ignores a native answer', () => {
      assert.equal(nat64PrefixFromWellKnown(parseAddress('64:ff9b::c000:aa').bytes)?.text, '64:ff9b::/96');
      assert.equal(nat64PrefixFromWellKnown(parseAddress('2001:db8::1').bytes), null);
    });
  });

  it('knows the CLAT range 192.0.0.0/29', () => {
    const at = (text: string) => isClatIpv4(parseAddress(text).bytes, 0);
    assert.ok(at('192.0.0.4'));
    assert.ok(at('192.0.0.7'));
    assert.ok(!at('192.0.0.8'));
    assert.ok(!at('192.0.0.170'));
    assert.ok(!at('10.0.0.4'));
  });

  it('prints IPv6 exactly as ipaddr.js does (RFC 5952), over seeded random addresses', () => {
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    for (let i = 0; i < 5000; i++) {
      // Mostly zero groups, so every run length and position of "::" occurs.
      const bytes = Uint8Array.from({ length: 16 }, (_, b) => (next() < 150 ? 0 : b % 2 === 0 && next() < 128 ? next() & 0x0f : next()));
      assert.equal(formatAddress(bytes, 0, 6), new ipaddr.IPv6(Array.from(bytes)).toRFC5952String());
    }
    assert.equal(formatAddress(new Uint8Array(16), 0, 6), '::');
    assert.equal(formatAddress(parseAddress('1:0:0:2:0:0:0:3').bytes, 0, 6), '1:0:0:2::3');
    assert.equal(formatAddress(parseAddress('1:0:0:2:0:0:3:4').bytes, 0, 6), '1::2:0:0:3:4');
    assert.equal(formatAddress(parseAddress('1:0:2:3:4:5:6:7').bytes, 0, 6), '1:0:2:3:4:5:6:7');
  });

  it('prints IPv6 in RFC 5952 form and rejects non-addresses', () => {
    assert.equal(canonicalAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(canonicalAddress('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.throws(() => parseAddress('2001:db8::g', '--clat-address'), /--clat-address: "2001:db8::g" is not an IPv4 or IPv6 address/);
  });
});

describe('embeddedIpv4Text', () => {
  it('gives the IPv4 a NAT64 address embeds under the prefix that holds it, else null', async () => {
    const { embeddedIpv4Text, parseNat64Prefix } = await import('../../lib/net/address.js');
    const prefixes = [parseNat64Prefix('2001:db8:64::/48'), parseNat64Prefix('64:ff9b::/96')];
    assert.equal(embeddedIpv4Text('64:ff9b::c000:221', prefixes), '192.0.2.33');
    assert.equal(embeddedIpv4Text('2001:db8:64:c000:2:2100::', prefixes), '192.0.2.33');
    assert.equal(embeddedIpv4Text('2001:db8:1::1', prefixes), null);
    assert.equal(embeddedIpv4Text('192.0.2.33', prefixes), null);
  });
});

describe('inPrefix', () => {
  it('IPv4: the first `length` bits decide, at /24, /32, /0 and a length off the octet (/20)', () => {
    assert.equal(inPrefix('10.0.0.142', '10.0.0.0/24'), true);
    assert.equal(inPrefix('10.0.1.142', '10.0.0.0/24'), false);
    assert.equal(inPrefix('10.0.0.1', '10.0.0.1/32'), true);
    assert.equal(inPrefix('10.0.0.2', '10.0.0.1/32'), false);
    assert.equal(inPrefix('203.0.113.9', '0.0.0.0/0'), true);
    // 172.16.0.0/20 ends at 172.16.15.255
    assert.equal(inPrefix('172.16.15.255', '172.16.0.0/20'), true);
    assert.equal(inPrefix('172.16.16.0', '172.16.0.0/20'), false);
  });

  it('IPv6 /64: the lab and gateway prefixes, any spelling of the address, a zone id kept off', () => {
    assert.equal(inPrefix('2001:db8:1:100:ce0:9cff:feb1:7b0f', '2001:db8:1:100::/64'), true);
    assert.equal(inPrefix('2001:DB8:1:100:0:0:0:1', '2001:db8:1:100::/64'), true);
    assert.equal(inPrefix('2001:db8:1:101::1', '2001:db8:1:100::/64'), false);
    assert.equal(inPrefix('fe80::1%wlan0', 'fe80::/64'), true);
  });

  it('IPv6 /96 (a NAT64 prefix) and /0', () => {
    assert.equal(inPrefix('64:ff9b::c000:221', '64:ff9b::/96'), true);
    assert.equal(inPrefix('64:ff9b::1:c000:221', '64:ff9b::/96'), false, 'differs in bits 80..95');
    assert.equal(inPrefix('2001:db8::1', '::/0'), true);
    assert.equal(inPrefix('::', '::/0'), true);
  });

  it('lengths off the octet (/61, /127): the bits past the length are not compared, those before are', () => {
    // 2001:db8:0:8::/61 holds 2001:db8:0:8:: to 2001:db8:0:f:ffff:ffff:ffff:ffff
    assert.equal(inPrefix('2001:db8:0:8::1', '2001:db8:0:8::/61'), true);
    assert.equal(inPrefix('2001:db8:0:f:ffff:ffff:ffff:ffff', '2001:db8:0:8::/61'), true);
    assert.equal(inPrefix('2001:db8:0:7:ffff:ffff:ffff:ffff', '2001:db8:0:8::/61'), false);
    assert.equal(inPrefix('2001:db8:0:10::', '2001:db8:0:8::/61'), false);
    // host bits written in the prefix are ignored, as a kernel route's would be
    assert.equal(inPrefix('2001:db8:0:9::1', '2001:db8:0:f::/61'), true);
    assert.equal(inPrefix('2001:db8::1', '2001:db8::/127'), true);
    assert.equal(inPrefix('2001:db8::2', '2001:db8::/127'), false);
  });

  it('the other family is not in a prefix, nor is text that is not an address: false, no throw', () => {
    assert.equal(inPrefix('10.0.0.1', '::/0'), false);
    assert.equal(inPrefix('::ffff:10.0.0.1', '10.0.0.0/8'), false, 'IPv4-mapped is IPv6');
    assert.equal(inPrefix('2001:db8::1', '0.0.0.0/0'), false);
    assert.equal(inPrefix('not-an-address', '2001:db8::/64'), false);
    assert.equal(inPrefix('', '0.0.0.0/0'), false);
  });

  it('a prefix that does not parse throws AddressError naming it: no length, a length past the family, a bad address, "10/8"', () => {
    for (const bad of ['2001:db8::', '10.0.0.0', '2001:db8::/129', '10.0.0.0/33', '1:2:3/64', 'nonsense/64', '10/8', '2001:db8::/-1']) {
      assert.throws(
        () => inPrefix('2001:db8::1', bad),
        (e: unknown) => e instanceof AddressError && e.input === bad && e.field === 'prefix',
        bad,
      );
    }
  });

  it('parsePrefix gives family, bytes and length, naming the field when it throws', () => {
    const p = parsePrefix('2001:db8:0:8::/61');
    assert.deepEqual([p.family, p.length, p.bytes.length], [6, 61, 16]);
    assert.deepEqual([parsePrefix('10.0.0.0/24').family, parsePrefix('10.0.0.0/24').length], [4, 24]);
    assert.throws(() => parsePrefix('10.0.0.0/40', 'lanIpv4Subnet'), /^AddressError: lanIpv4Subnet: "10.0.0.0\/40" is not a prefix/);
  });

  it('prefixOf gives the prefix an address lies in, any length, bits past it cleared, read back by inPrefix', () => {
    assert.equal(prefixOf('2001:db8:1:100:a8c1:2ff:fe33:4455', 64), '2001:db8:1:100::/64');
    assert.equal(prefixOf('2001:db8:0:f::1', 61), '2001:db8:0:8::/61');
    assert.equal(prefixOf('10.9.3.7', 24), '10.9.3.0/24');
    assert.equal(prefixOf('10.9.3.7', 20), '10.9.0.0/20');
    assert.equal(prefixOf('10.9.3.7', 32), '10.9.3.7/32');
    assert.equal(prefixOf('10.9.3.7', 0), '0.0.0.0/0');
    assert.equal(prefixOf('2001:db8::1', 128), '2001:db8::1/128');
    for (const [address, length] of [
      ['192.168.77.201', 27],
      ['2001:db8:aa:bb:cc::9', 75],
    ] as const) {
      assert.ok(inPrefix(address, prefixOf(address, length)));
      assert.equal(parsePrefix(prefixOf(address, length)).length, length);
    }
    assert.throws(() => prefixOf('10.0.0.1', 33, 'lease'), /^AddressError: lease: "10.0.0.1\/33" has no \/33: IPv4 prefixes are \/0 to \/32/);
    assert.throws(() => prefixOf('10.0.0.1', 8.5), AddressError);
    assert.throws(() => prefixOf('eth0', 24, 'router'), /^AddressError: router: "eth0" is not an IPv4 or IPv6 address/);
  });
});
