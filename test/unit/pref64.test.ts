import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { IncrementalAnalyzer, type CaptureAnalysis } from '../../lib/analysis/index.js';
import { AddressError, parseNat64Prefix } from '../../lib/net/address.js';
import { dnsmasqDhcp, parseDnsmasqLeases, v6OnlyWaitHex } from '../../lib/lab/network/dhcp.js';
import { LabPlanError } from '../../lib/lab/network/errors.js';
import { PREF64_SENDER_READY, pref64SenderArgv, pref64SenderDaemon } from '../../lib/lab/network/pref64-sender.js';
import {
  parseNat64PrefixOption,
  parseRouterAdvertisement,
  pref64Advertisement,
  RADVD_ROUTER_LIFETIME_S,
  RouterAdvertisementFormatError,
} from '../../lib/lab/network/ra.js';
import { ipv6, sll2 } from '../support/packets.js';
import { HandsetCapture } from '../support/scenario.js';
import { attachPrefixes } from '../../lib/harness/judge.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytes = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

describe('PREF64 router advertisements (RFC 8781)', () => {
  it('builds the RA byte for byte: radvd-equal header, option type 38, length 2, lifetime/8 and PLC, 96 prefix bits', () => {
    const ra = pref64Advertisement({ prefix: '64:ff9b::/96' });
    // Worked by hand from RFC 4861 4.2 and RFC 8781 4: 1800 s / 8 = 225; 225 << 3 | PLC 0 = 0x0708.
    assert.equal(hex(ra), '86 00 0000 40 00 0708 00000000 00000000'.replace(/ /g, '') + '26 02 0708 0064ff9b 00000000 00000000'.replace(/ /g, ''));
    assert.equal(RADVD_ROUTER_LIFETIME_S, 1800, "the lab's radvd.conf sets AdvDefaultLifetime 1800");
  });

  // Lifetime 600 s: 75 << 3 = 0x0258, plus the PLC of each length (RFC 8781 section 4's table).
  const cases = [
    { prefix: '2001:db8::/32', word: '025d', bits: '20010db8 00000000 00000000' },
    { prefix: '2001:db8:100::/40', word: '025c', bits: '20010db8 01000000 00000000' },
    { prefix: '2001:db8:122::/48', word: '025b', bits: '20010db8 01220000 00000000' },
    { prefix: '2001:db8:122:300::/56', word: '025a', bits: '20010db8 01220300 00000000' },
    { prefix: '2001:db8:122:344::/64', word: '0259', bits: '20010db8 01220344 00000000' },
    { prefix: '2001:db8:122:344:5:6::/96', word: '0258', bits: '20010db8 01220344 00050006' },
  ];
  for (const c of cases) {
    it(`encodes and reads back ${c.prefix} (PLC ${Number.parseInt(c.word, 16) & 7})`, () => {
      const ra = pref64Advertisement({ prefix: c.prefix, pref64Lifetime: 600 });
      assert.equal(hex(ra.subarray(16)), `2602${c.word}${c.bits.replace(/ /g, '')}`);
      const parsed = parseRouterAdvertisement(ra, 0, ra.length);
      assert.deepEqual(
        parsed.pref64.map((o) => [o.prefix.text, o.lifetimeSeconds, o.offset]),
        [[parseNat64Prefix(c.prefix).text, 600, 16]],
      );
    });
  }

  it('rounds a lifetime up to 8 s, carries flags and hop limit, and refuses what does not fit', () => {
    const ra = pref64Advertisement({ prefix: '64:ff9b::/96', pref64Lifetime: 601, routerLifetime: 600, curHopLimit: 255, managed: true, other: true });
    const parsed = parseRouterAdvertisement(ra, 0, ra.length);
    assert.deepEqual([parsed.pref64[0]?.lifetimeSeconds, parsed.routerLifetime, parsed.curHopLimit, parsed.managed, parsed.other], [608, 600, 255, true, true]);
    assert.equal(hex(pref64Advertisement({ prefix: '64:ff9b::/96', pref64Lifetime: 65528 }).subarray(18, 20)), 'fff8');
    assert.throws(() => pref64Advertisement({ prefix: '64:ff9b::/96', pref64Lifetime: 65529 }), /65528/);
    assert.throws(() => pref64Advertisement({ prefix: '64:ff9b::/96', routerLifetime: 9001 }), /router lifetime 9001/);
  });

  it('refuses a prefix length PREF64 cannot carry, naming the option', () => {
    for (const text of ['64:ff9b::/33', '64:ff9b::/128', '192.0.2.0/24', 'nonsense']) {
      assert.throws(
        () => parseNat64PrefixOption(text),
        (error: unknown) => error instanceof AddressError && error.field === '--prefix' && error.message.startsWith('--prefix: '),
      );
    }
    assert.throws(() => pref64Advertisement({ prefix: '64:ff9b::/33' }), /^AddressError: --prefix: "64:ff9b::\/33" has length \/33/);
  });

  describe('reading the option list', () => {
    // An RA 5 bytes into a buffer: offsets are the buffer's. Options: SLLA (type 1, 8 bytes), then PREF64.
    const header = '86 00 0000 40 00 0708 00000000 00000000';
    const slla = '01 01 020000000001';
    const at = (options: string) => bytes(`aabbccddee ${header} ${options}`);

    it('finds PREF64 after another option, at its offset in the buffer', () => {
      const buf = at(`${slla} 2602 0708 0064ff9b 00000000 00000000`);
      const ra = parseRouterAdvertisement(buf, 5, buf.length);
      assert.deepEqual(
        ra.pref64.map((o) => [o.prefix.text, o.offset]),
        [['64:ff9b::/96', 5 + 16 + 8]],
      );
    });

    it('ignores the bits past the prefix length, as a receiver must', () => {
      const buf = at('2602 070d 20010db8 ffffffff ffffffff');
      assert.equal(parseRouterAdvertisement(buf, 5, buf.length).pref64[0]?.prefix.text, '2001:db8::/32');
    });

    it('ignores a PREF64 with length 3 or PLC 6/7 and names its byte offset', () => {
      const buf = at(`2603 0708 0064ff9b 00000000 00000000 0000000000000000 2602 070e 0064ff9b 00000000 00000000 2602 0708 0064ff9b 00000000 00000000`);
      const ra = parseRouterAdvertisement(buf, 5, buf.length);
      assert.deepEqual(
        ra.ignoredPref64.map((e) => e.message),
        [
          'router advertisement, byte 21: PREF64 option has length 3 (x8 bytes); RFC 8781 requires 2',
          'router advertisement, byte 45: PREF64 option has prefix length code 6; RFC 8781 defines 0 to 5',
        ],
      );
      assert.deepEqual(
        ra.pref64.map((o) => o.offset),
        [61],
      );
    });

    it('throws on an option of length 0, one past the end, and a short RA', () => {
      const zero = at(`${slla} 2600 0708`);
      assert.throws(
        () => parseRouterAdvertisement(zero, 5, zero.length),
        (e: unknown) => e instanceof RouterAdvertisementFormatError && e.offset === 29 && /length 0/.test(e.message),
      );
      const past = at('2602 0708 0064ff9b');
      assert.throws(
        () => parseRouterAdvertisement(past, 5, past.length),
        (e: unknown) => e instanceof RouterAdvertisementFormatError && e.offset === 21 && /runs past/.test(e.message),
      );
      assert.throws(() => parseRouterAdvertisement(bytes(header), 0, 15), /byte 0: router advertisement of 15 bytes/);
      assert.throws(() => parseRouterAdvertisement(bytes(header.replace(/^86/, '85')), 0, 16), /type 133 is not a router advertisement/);
    });
  });
});

describe('the PREF64 sender', () => {
  const advertisement = pref64Advertisement({ prefix: '64:ff9b::/96' });

  it('is perl in the namespace with the interface, the RA in hex and radvd-like intervals', () => {
    const argv = pref64SenderArgv({ namespace: 'v6gw', interface: 'dev0', advertisement });
    assert.deepEqual(argv.slice(0, 6), ['ip', 'netns', 'exec', 'v6gw', 'perl', '-e']);
    assert.deepEqual(argv.slice(7), ['dev0', hex(advertisement), '3', '10']);
    const spec = pref64SenderDaemon({ namespace: 'v6gw', interface: 'dev0', advertisement, logFile: '/tmp/x.log' });
    assert.equal(spec.ready, PREF64_SENDER_READY);
    assert.ok(PREF64_SENDER_READY.test('pref64-sender: advertising on dev0 (ifindex 2) every 3-10 s\n'));
  });

  it('is a perl script perl-base compiles (Socket only: no module outside perl-base)', () => {
    const script = pref64SenderArgv({ namespace: 'x', interface: 'dev0', advertisement })[6]!;
    const out = execFileSync('perl', ['-c', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(out, '');
    assert.doesNotMatch(script, /^use (?!strict|warnings|Socket)/m);
  });

  it('refuses a bad interface name, interval or non-RA bytes, naming the field', () => {
    const field = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return error instanceof LabPlanError ? error.field : String(error);
      }
      return 'no error';
    };
    assert.equal(
      field(() => pref64SenderArgv({ namespace: 'x', interface: '../../etc', advertisement })),
      'pref64.interface',
    );
    assert.equal(
      field(() => pref64SenderArgv({ namespace: 'x', interface: 'dev0', advertisement, minIntervalSeconds: 5, maxIntervalSeconds: 4 })),
      'pref64.interval',
    );
    assert.equal(
      field(() => pref64SenderArgv({ namespace: 'x', interface: 'dev0', advertisement: new Uint8Array(16) })),
      'pref64.advertisement',
    );
  });
});

describe('DHCPv4 of the gateway (dnsmasq)', () => {
  const base = {
    namespace: 'v6gw',
    interface: 'dev0',
    dir: '/run/v6lab/gw',
    range: { first: '192.168.42.100', last: '192.168.42.199', netmask: '255.255.255.0' },
    router: '192.168.42.1',
    dnsServers: ['192.168.42.1'],
  };

  it('serves DHCP only (port=0), in the foreground, files under the given directory', () => {
    const server = dnsmasqDhcp(base);
    assert.deepEqual(server.argv, ['ip', 'netns', 'exec', 'v6gw', 'dnsmasq', '--keep-in-foreground', '--conf-file=/run/v6lab/gw/dnsmasq-dhcp.conf']);
    const lines = server.config.split('\n');
    for (const line of [
      'port=0',
      'interface=dev0',
      'bind-interfaces',
      'log-facility=-',
      'pid-file=/run/v6lab/gw/dnsmasq-dhcp.pid',
      'dhcp-leasefile=/run/v6lab/gw/dnsmasq-dhcp.leases',
      'dhcp-range=192.168.42.100,192.168.42.199,255.255.255.0,3600',
      'dhcp-option=option:router,192.168.42.1',
      'dhcp-option=option:dns-server,192.168.42.1',
    ]) {
      assert.ok(lines.includes(line), `${line} in\n${server.config}`);
    }
    assert.doesNotMatch(server.config, /^dhcp-option=108/m, 'no option 108 unless ipv6-mostly');
    assert.ok(server.ready.test('dnsmasq-dhcp[1]: DHCP, IP range 192.168.42.100 -- 192.168.42.199, lease time 1h'));
  });

  it('offers option 108 (RFC 8925) as exactly four bytes of V6ONLY_WAIT', () => {
    assert.match(dnsmasqDhcp({ ...base, ipv6OnlyPreferredWait: 1800 }).config, /^dhcp-option=108,00:00:07:08$/m);
    assert.equal(v6OnlyWaitHex(0x01020304), '01:02:03:04');
    assert.equal(v6OnlyWaitHex(300), '00:00:01:2c');
  });

  it("reads the lease file's clients, skipping a line cut mid-write", () => {
    // The first line as dnsmasq 2.90 wrote it for busybox udhcpc in the lab test's namespaces.
    const text = '1796276058 1e:c1:be:99:fc:12 192.168.77.141 * 01:1e:c1:be:99:fc:12\n1796276100 02:00:00:00:00:0A 192.168.77.142 pixel-7 *\n17962761\n';
    assert.deepEqual(parseDnsmasqLeases(text), [
      { expires: 1796276058, mac: '1e:c1:be:99:fc:12', ipv4: '192.168.77.141', hostname: null },
      { expires: 1796276100, mac: '02:00:00:00:00:0a', ipv4: '192.168.77.142', hostname: 'pixel-7' },
    ]);
  });

  it('refuses what dnsmasq or RFC 8925 would not take, naming the field', () => {
    const field = (options: Partial<Parameters<typeof dnsmasqDhcp>[0]>) => {
      try {
        dnsmasqDhcp({ ...base, ...options });
      } catch (error) {
        return error instanceof LabPlanError ? error.field : String(error);
      }
      return 'no error';
    };
    assert.equal(field({ ipv6OnlyPreferredWait: 299 }), 'dhcp.ipv6OnlyPreferredWait');
    assert.equal(field({ router: '2001:db8::1' }), 'dhcp.router');
    assert.equal(field({ dnsServers: ['192.168.42.1', 'dns.example'] }), 'dhcp.dnsServers[1]');
    assert.equal(field({ interface: 'a b' }), 'dhcp.interface');
    assert.equal(field({ leaseSeconds: 60 }), 'dhcp.leaseSeconds');
  });
});

describe('analysis: PREF64 in captured router advertisements', () => {
  const ROUTER = 'fe80::1';
  const HOST = '2001:db8:1::100';

  function analyze(capture: HandsetCapture): CaptureAnalysis {
    const analyzer = new IncrementalAnalyzer();
    analyzer.push(capture.pcap());
    return analyzer.finish();
  }

  /** An RA as a router sends it: link-local source, all-nodes, hop limit 255. */
  function withRa(capture: HandsetCapture, ts: number, ra: Uint8Array, hopLimit = 255): HandsetCapture {
    const packet = ipv6({ src: ROUTER, dst: 'ff02::1', hopLimit, nextHeader: 58, payload: ra });
    capture.packets.push({ ts, data: sll2({ protocol: 0x86dd, ifIndex: 7, payload: packet }) });
    return capture;
  }

  it('records the advertised prefix as NAT64 evidence and classifies flows into it as nat64', () => {
    const capture = new HandsetCapture();
    withRa(capture, 1.0, pref64Advertisement({ prefix: '2001:db8:64::/64' }));
    withRa(capture, 5.0, pref64Advertisement({ prefix: '2001:db8:64::/64' }));
    // 192.0.2.10 under the /64 (RFC 6052: bits 64-71 skipped): 2001:db8:64:0:c0:2:a00:0.
    capture.tcp(6.0, HOST, 40000, '2001:db8:64:0:c0:2:a00:0', 443, { responseBytes: 100 });
    const a = analyze(capture);
    assert.deepEqual(a.nat64Prefixes, ['2001:db8:64::/64']);
    assert.equal(a.nat64PrefixSources['2001:db8:64::/64'], 'pref64');
    assert.deepEqual(a.pref64, [{ prefix: '2001:db8:64::/64', router: ROUTER, firstTs: 1, lastTs: 5, advertisements: 2, lifetimeSeconds: 1800 }]);
    assert.equal(a.flows.find((f) => f.serverPort === 443)?.path, 'nat64');
    assert.deepEqual(a.capture.warnings, []);
  });

  it('keeps RFC 7050 as the source when both name the prefix, with the RA still in pref64', () => {
    const capture = new HandsetCapture().dns(0.5, HOST, '2001:db8:1::53', 30001, 1, 'ipv4only.arpa', 'AAAA', ['64:ff9b::c000:aa']);
    withRa(capture, 1.0, pref64Advertisement({ prefix: '64:ff9b::/96' }));
    const a = analyze(capture);
    assert.deepEqual(a.nat64PrefixSources, { '64:ff9b::/96': 'rfc7050' });
    assert.equal(a.pref64.length, 1);
  });

  it("gives apn.nat64-prefix both sources the attach showed: RFC 7050's answer and PREF64's prefix, a withdrawal none", () => {
    // DNS64 synthesizes under 64:ff9b::/96 while the router advertises 2001:db8:64::/64, and
    // another router withdraws 2001:db8:46::/96.
    const capture = new HandsetCapture().dns(0.5, HOST, '2001:db8:1::53', 30001, 1, 'ipv4only.arpa', 'AAAA', ['64:ff9b::c000:aa']);
    withRa(capture, 1.0, pref64Advertisement({ prefix: '2001:db8:64::/64' }));
    withRa(capture, 2.0, pref64Advertisement({ prefix: '2001:db8:64::/64' }));
    withRa(capture, 3.0, pref64Advertisement({ prefix: '2001:db8:46::/96', pref64Lifetime: 0 }));
    assert.deepEqual(attachPrefixes(analyze(capture)), { discovered: ['64:ff9b::/96'], advertised: ['2001:db8:64::/64'] });
    assert.deepEqual(attachPrefixes(analyze(new HandsetCapture())), { discovered: [], advertised: [] });
  });

  it('takes no prefix from a withdrawal only, nor from an RA hosts drop, and says why', () => {
    const withdrawn = withRa(new HandsetCapture(), 1.0, pref64Advertisement({ prefix: '64:ff9b::/96', pref64Lifetime: 0 }));
    const a = analyze(withdrawn);
    assert.deepEqual(a.nat64Prefixes, []);
    assert.equal(a.pref64[0]?.lifetimeSeconds, 0);

    const offLink = analyze(withRa(new HandsetCapture(), 1.0, pref64Advertisement({ prefix: '64:ff9b::/96' }), 64));
    assert.deepEqual([offLink.nat64Prefixes, offLink.pref64], [[], []]);
    assert.match(offLink.capture.warnings.join('\n'), /hop limit other than 255/);

    const broken = pref64Advertisement({ prefix: '64:ff9b::/96' });
    broken[17] = 0; // option length 0: RFC 4861 has the whole RA discarded
    const b = analyze(withRa(new HandsetCapture(), 1.0, broken));
    assert.deepEqual(b.pref64, []);
    assert.match(b.capture.warnings.join('\n'), /1 packet: router advertisement with a broken option list/);
  });

  it('shows it in the text of v6lab analyze', async () => {
    const { renderAnalysis } = await import('../../lib/cli/analyze.js');
    const a = analyze(withRa(new HandsetCapture(), 1.0, pref64Advertisement({ prefix: '2001:db8:64::/64' })));
    const text = renderAnalysis('ra.pcap', a, 25);
    assert.match(text, /^NAT64 +2001:db8:64::\/64 \(PREF64 in router advertisements, RFC 8781\)$/m);
    assert.match(text, /^PREF64 +2001:db8:64::\/64 from fe80::1 \(1 RA, lifetime 1800 s\)$/m);
  });
});
