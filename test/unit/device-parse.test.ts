import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  DeviceOutputError,
  isContentDenied,
  parseClatTracker,
  parseContentRows,
  parseDumpsysConnectivity,
  parseDumpsysPackage,
  parseGetprop,
  parseIfInet6,
  parseIpAddr,
  parseIpRoute,
  parseLinkProperties,
  parseProcNetSockets,
  parseSettingsGet,
  type ContentRow,
  type DumpsysConnectivity,
  type InterfaceAddresses,
} from '../../lib/device/parse/index.js';

const fixture = (name: string): string => readFileSync(resolve(import.meta.dirname, '../fixtures/android', name), 'utf8');

/** Lines of `text` (each with its newline) in a fixed shuffled order. */
function reorder(text: string): string {
  const lines = text.split(/(?<=\n)/);
  return [...lines.filter((_, i) => i % 2 === 1).reverse(), ...lines.filter((_, i) => i % 2 === 0)].join('');
}

/** Garbage a shell can mix in (linker warnings, stray bytes, a localised error), after every other line. */
const GARBAGE = [
  'WARNING: linker: /system/bin/ip: unsupported flags DT_FLAGS_1=0x8000001',
  '\u0000\u0001\u00ff binary ][ :',
  '/system/bin/sh: 权限被拒绝',
  '[broken: [',
  'Row: x',
  '   7: ZZZZ:0000 00000000:0000 0A',
  '2: wlan0    inet6 not-an-address/64 scope global',
  'default via 999.1.1.1 dev wlan0',
  '',
  '',
];
function withGarbage(text: string): string {
  return text
    .split(/(?<=\n)/)
    .map((line, i) => (i % 2 === 0 ? `${GARBAGE[(i / 2) % GARBAGE.length]}\n${line}` : line))
    .join('');
}

/** Runs `parse` on every prefix of `text`: it must throw DeviceOutputError or pass `isPrefix`. */
function everyCut<T>(text: string, parse: (t: string) => T, isPrefix: (partial: T) => void): void {
  for (let cut = 0; cut < text.length; cut++) {
    let partial: T;
    try {
      partial = parse(text.slice(0, cut));
    } catch (error) {
      assert.ok(error instanceof DeviceOutputError, `cut at ${cut}: ${String(error)}`);
      continue;
    }
    try {
      isPrefix(partial);
    } catch (error) {
      throw new Error(`cut at ${cut} of ${text.length}: ${(error as Error).message}`);
    }
  }
}

const assertArrayPrefix =
  <T>(full: readonly T[]) =>
  (partial: readonly T[]): void =>
    assert.deepEqual(partial, full.slice(0, partial.length));

const LOCALISED = ['/system/bin/sh: ip: 权限被拒绝\n', 'Fehler: Zugriff verweigert\n', '\u0000\u0000\u0000\n', 'sh: getprop: inaccessible or not found\n'];

/** Garbage in place of the whole output: a typed error or nothing, never a value. */
function neverInvents(parse: (t: string) => unknown, empty: (r: unknown) => boolean): void {
  for (const text of LOCALISED) {
    try {
      assert.ok(empty(parse(text)), `invented a value from ${JSON.stringify(text)}`);
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      assert.ok(error instanceof DeviceOutputError, String(error));
    }
  }
}

describe('device/parse', () => {
  describe('parseGetprop', () => {
    const text = fixture('virtual-getprop.txt');
    const props = parseGetprop(text);

    it('reads the virtual handset', () => {
      assert.equal(Object.keys(props).length, 15);
      assert.equal(props['net.464xlat.cellular.enabled'], 'true');
      assert.equal(props['ro.product.model'], 'v6lab Reference');
      assert.equal(props['ro.build.version.sdk'], '34');
    });
    it('tolerates \\r\\n', () => assert.deepEqual(parseGetprop(fixture('handmade-getprop-crlf.txt')), props));
    it('keeps "]" inside values, empty values, and multi-line values', () => {
      assert.deepEqual(parseGetprop('[a]: [x]y]\n[b]: []\n[c]: [one\ntwo]\n[d]: [z]\n'), { a: 'x]y', b: '', c: 'one\ntwo', d: 'z' });
    });
    it('reordered and garbage lines', () => {
      assert.deepEqual(parseGetprop(reorder(text)), props);
      assert.deepEqual(parseGetprop(withGarbage(text)), props);
    });
    it('truncated: a subset with the same values, or DeviceOutputError', () => {
      everyCut(text, parseGetprop, (partial) => {
        for (const [key, value] of Object.entries(partial)) assert.equal(value, props[key], key);
      });
    });
    it('garbage output: DeviceOutputError', () => neverInvents(parseGetprop, (r) => Object.keys(r as object).length === 0));
  });

  describe('parseIpAddr', () => {
    const text = fixture('virtual-ip-o-addr-show.txt');
    const interfaces = parseIpAddr(text);
    const flat = (list: InterfaceAddresses[]) => list.flatMap((i) => i.addresses.map((a) => ({ index: i.index, name: i.name, ...a })));

    it('reads the virtual handset', () => {
      assert.deepEqual(
        interfaces.map((i) => [i.index, i.name, i.addresses.length]),
        [
          [1, 'lo', 2],
          [2, 'rmnet_data0', 3],
          [3, 'v4-rmnet_data0', 2],
          [4, 'wlan0', 4],
        ],
      );
      assert.deepEqual(interfaces[1]!.addresses[0], {
        family: 6,
        address: '2001:db8:739f:0:4048:4fd2:1d6c:f911',
        prefixLength: 64,
        scope: 'global',
        flags: ['temporary', 'dynamic'],
        validLifetime: 86395,
        preferredLifetime: 14395,
      });
      assert.deepEqual(interfaces[1]!.addresses[1]!.flags, ['dynamic', 'mngtmpaddr']);
      assert.deepEqual(interfaces[2]!.addresses[0], {
        family: 4,
        address: '192.0.0.4',
        prefixLength: 32,
        scope: 'global',
        flags: [],
        validLifetime: 'forever',
        preferredLifetime: 'forever',
      });
      assert.deepEqual(interfaces[2]!.addresses[1]!.flags, ['stable-privacy']);
    });
    it("reads the brief's sample, peer addresses and @ names", () => {
      const [iface] = parseIpAddr(
        '2: rmnet_data0    inet6 2001:db8::1/64 scope global temporary dynamic \\       valid_lft 86397sec preferred_lft 14397sec\n' +
          '2: rmnet_data0    inet6 2001:db8::2/64 scope global deprecated tentative noprefixroute \\       valid_lft 86397sec preferred_lft 0sec\n' +
          '9: ppp0@if3    inet 10.0.0.1 peer 10.0.0.2/32 scope global ppp0\\       valid_lft forever preferred_lft forever\n',
      );
      assert.deepEqual(
        iface!.addresses.map((a) => [a.address, a.prefixLength, a.flags, a.preferredLifetime]),
        [
          ['2001:db8::1', 64, ['temporary', 'dynamic'], 14397],
          ['2001:db8::2', 64, ['deprecated', 'tentative', 'noprefixroute'], 0],
        ],
      );
      assert.deepEqual(
        parseIpAddr('9: ppp0@if3    inet 10.0.0.1 peer 10.0.0.2/32 scope global ppp0\\       valid_lft forever preferred_lft forever\n')[0]!.name,
        'ppp0',
      );
    });
    it('reordered and garbage lines', () => {
      const key = (a: { index: number; address: string }) => `${a.index} ${a.address}`;
      assert.deepEqual(
        flat(parseIpAddr(reorder(text))).sort((a, b) => key(a).localeCompare(key(b))),
        flat(interfaces).sort((a, b) => key(a).localeCompare(key(b))),
      );
      assert.deepEqual(parseIpAddr(withGarbage(text)), interfaces);
    });
    it('truncated: a prefix of the addresses, never a cut one', () => everyCut(text, (t) => flat(parseIpAddr(t)), assertArrayPrefix(flat(interfaces))));
    it('garbage output: DeviceOutputError or nothing', () => neverInvents(parseIpAddr, (r) => (r as unknown[]).length === 0));
  });

  describe('parseIpRoute', () => {
    it('reads ip -6 route of the virtual handset', () => {
      const routes = parseIpRoute(fixture('virtual-ip-6-route.txt'), 6);
      assert.equal(routes.length, 7);
      assert.deepEqual(routes.at(-1), {
        type: 'unicast',
        family: 6,
        destination: '::/0',
        gateway: 'fe80::5465:6cff:fec0:afb9',
        dev: 'rmnet_data0',
        proto: 'ra',
        metric: 1024,
        mtu: null,
        table: 'main',
        src: null,
      });
      assert.equal(routes[0]!.destination, '2001:db8:739f:0:4f1c:4c1:503f:9128/128');
      assert.equal(routes[1]!.proto, 'kernel');
    });
    it('reads ip -4 route, the CLAT default route included', () => {
      assert.deepEqual(parseIpRoute(fixture('virtual-ip-4-route.txt'), 4)[0], {
        type: 'unicast',
        family: 4,
        destination: '0.0.0.0/0',
        gateway: null,
        dev: 'v4-rmnet_data0',
        proto: null,
        metric: null,
        mtu: 1472,
        table: 'main',
        src: '192.0.0.4',
      });
      assert.deepEqual(parseIpRoute('default dev v4-rmnet_data0 mtu 1472\n', 4)[0]!.destination, '0.0.0.0/0');
    });
    it('reads table all, inferring each family', () => {
      const routes = parseIpRoute(fixture('virtual-ip-route-show-table-all.txt'));
      assert.equal(routes.length, 33);
      assert.deepEqual(routes[0], {
        type: 'unicast',
        family: 4,
        destination: '0.0.0.0/0',
        gateway: '192.168.1.1',
        dev: 'wlan0',
        proto: null,
        metric: null,
        mtu: null,
        table: '1002',
        src: null,
      });
      const local = routes.find((r) => r.type === 'local' && r.family === 6 && r.dev === 'rmnet_data0')!;
      assert.deepEqual([local.destination, local.table, local.metric], ['2001:db8:739f:0:4048:4fd2:1d6c:f911/128', 'local', 0]);
      assert.deepEqual(
        routes.filter((r) => r.destination === '::/0').map((r) => [r.gateway, r.table]),
        [
          ['2001:db8:739f:1::1', '1002'],
          ['fe80::5465:6cff:fec0:afb9', 'main'],
        ],
      );
    });
    it('skips a default route whose family nothing tells', () =>
      assert.deepEqual(
        parseIpRoute('default dev x\n192.0.2.0/24 dev x\n').map((r) => r.destination),
        ['192.0.2.0/24'],
      ));
    it('reordered and garbage lines', () => {
      const text = fixture('virtual-ip-route-show-table-all.txt');
      const routes = parseIpRoute(text);
      const key = (r: { destination: string; dev: string | null; table: string | null; type: string }) => `${r.type} ${r.destination} ${r.dev} ${r.table}`;
      assert.deepEqual(parseIpRoute(reorder(text)).map(key).sort(), routes.map(key).sort());
      assert.deepEqual(parseIpRoute(withGarbage(text)), routes);
    });
    it('truncated: a prefix', () => {
      const text = fixture('virtual-ip-route-show-table-all.txt');
      everyCut(text, (t) => parseIpRoute(t), assertArrayPrefix(parseIpRoute(text)));
    });
    it('garbage output: DeviceOutputError or nothing', () =>
      neverInvents(
        (t) => parseIpRoute(t, 6),
        (r) => (r as unknown[]).length === 0,
      ));
  });

  describe('parseIfInet6', () => {
    const text = fixture('virtual-proc-net-if_inet6.txt');
    const addresses = parseIfInet6(text);
    it('reads the virtual handset, agreeing with ip -o addr', () => {
      assert.equal(addresses.length, 8);
      assert.deepEqual(
        addresses.find((a) => a.address === '2001:db8:739f:0:4048:4fd2:1d6c:f911'),
        {
          address: '2001:db8:739f:0:4048:4fd2:1d6c:f911',
          ifindex: 2,
          prefixLength: 64,
          scopeValue: 0,
          scope: 'global',
          flagsValue: 1,
          flags: ['temporary'],
          interfaceName: 'rmnet_data0',
        },
      );
      const lo = addresses.find((a) => a.interfaceName === 'lo')!;
      assert.deepEqual([lo.address, lo.prefixLength, lo.scope, lo.flags], ['::1', 128, 'host', ['permanent']]);
      const linkLocal = addresses.find((a) => a.interfaceName === 'v4-rmnet_data0')!;
      assert.deepEqual([linkLocal.address, linkLocal.scope, linkLocal.flags], ['fe80::b4b2:a026:baaa:a502', 'link', ['permanent']]);
      const fromIp = parseIpAddr(fixture('virtual-ip-o-addr-show.txt')).flatMap((i) => i.addresses.filter((a) => a.family === 6).map((a) => a.address));
      assert.deepEqual(addresses.map((a) => a.address).sort(), fromIp.sort());
    });
    it("decodes the brief's sample and every flag bit", () => {
      assert.deepEqual(parseIfInet6('20010db8000000000000000000000001 02 40 00 80     eth0\n')[0]!.address, '2001:db8::1');
      assert.deepEqual(parseIfInet6('fe800000000000000000000000000001 0a 40 20 ff     eth0\n')[0]!.flags, [
        'temporary',
        'nodad',
        'optimistic',
        'dadfailed',
        'homeaddress',
        'deprecated',
        'tentative',
        'permanent',
      ]);
      assert.equal(parseIfInet6('fe800000000000000000000000000001 0a 40 20 ff     eth0\n')[0]!.ifindex, 10);
    });
    it('reordered and garbage lines', () => {
      assert.deepEqual(
        parseIfInet6(reorder(text))
          .map((a) => a.address)
          .sort(),
        addresses.map((a) => a.address).sort(),
      );
      assert.deepEqual(parseIfInet6(withGarbage(text)), addresses);
    });
    it('truncated: a prefix', () => everyCut(text, parseIfInet6, assertArrayPrefix(addresses)));
    it('garbage output: DeviceOutputError or nothing', () => neverInvents(parseIfInet6, (r) => (r as unknown[]).length === 0));
  });

  describe('parseProcNetSockets', () => {
    const text = fixture('virtual-proc-net-tcp6.txt');
    const sockets = parseProcNetSockets(text, 6, 'tcp');
    it('reads tcp6 of the virtual handset with the news app connected', () => {
      assert.equal(sockets.length, 4);
      assert.deepEqual(sockets[0], {
        family: 6,
        transport: 'tcp',
        local: { address: '2001:db8:739f:0:4048:4fd2:1d6c:f911', port: 0x8990 },
        remote: { address: '2001:db8:739f:ff00::100b', port: 443 },
        stateValue: 1,
        state: 'ESTABLISHED',
        uid: 1002,
        inode: 604679,
      });
      assert.deepEqual([sockets[1]!.state, sockets[1]!.uid, sockets[1]!.inode], ['TIME_WAIT', 0, 0]);
      // the app (uid 10105 in virtual-dumpsys-package) reaching an IPv4-only server through NAT64
      assert.deepEqual([sockets[2]!.remote, sockets[2]!.uid], [{ address: '64:ff9b::6440:102', port: 443 }, 10105]);
      // the local address is the temporary address ip -o addr lists first on rmnet_data0
      assert.equal(sockets[0]!.local.address, parseIpAddr(fixture('virtual-ip-o-addr-show.txt'))[1]!.addresses[0]!.address);
    });
    it("reads empty tables (headers only, with the kernel's trailing spaces)", () => {
      assert.deepEqual(parseProcNetSockets(fixture('virtual-proc-net-tcp.txt'), 4, 'tcp'), []);
      assert.deepEqual(parseProcNetSockets(fixture('virtual-proc-net-udp.txt'), 4, 'udp'), []);
      assert.deepEqual(parseProcNetSockets(fixture('virtual-proc-net-udp6.txt'), 6, 'udp'), []);
    });
    it('reads IPv4 and v4-mapped rows (hand-made)', () => {
      const v4 = parseProcNetSockets(fixture('handmade-proc-net-tcp.txt'), 4, 'tcp');
      assert.deepEqual(
        v4.map((s) => [s.local.address, s.local.port, s.remote.address, s.remote.port, s.state, s.uid, s.inode]),
        [
          ['127.0.0.1', 5037, '0.0.0.0', 0, 'LISTEN', 0, 12345],
          ['10.0.2.15', 50642, '142.197.58.216', 443, 'ESTABLISHED', 10105, 67890],
        ],
      );
      const v6 = parseProcNetSockets(fixture('handmade-proc-net-tcp6.txt'), 6, 'tcp');
      assert.deepEqual(
        v6.map((s) => [s.local.address, s.local.port, s.remote.address]),
        [
          ['::ffff:7f00:1', 8080, '::'],
          ['::1', 631, '::'],
        ],
      );
    });
    it('finds columns by header name, not position', () => {
      const moved =
        '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
        '   0: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0\n';
      assert.deepEqual(
        parseProcNetSockets(moved, 4, 'udp').map((s) => [s.uid, s.inode, s.state]),
        [[1000, 4242, 'LISTEN']],
      );
      assert.throws(
        () => parseProcNetSockets('  sl  local_address rem_address st\n', 4, 'tcp'),
        (e) => e instanceof DeviceOutputError && /uid/.test(e.message),
      );
    });
    it('skips a row of the wrong family instead of misreading it', () => {
      assert.deepEqual(parseProcNetSockets(fixture('handmade-proc-net-tcp.txt'), 6, 'tcp'), []);
    });
    it('reordered and garbage lines', () => {
      const header = text.slice(0, text.indexOf('\n') + 1);
      const body = text.slice(header.length);
      assert.deepEqual(
        parseProcNetSockets(header + reorder(body), 6, 'tcp')
          .map((s) => s.inode)
          .sort(),
        sockets.map((s) => s.inode).sort(),
      );
      assert.deepEqual(parseProcNetSockets(header + withGarbage(body), 6, 'tcp'), sockets);
    });
    it('truncated: a prefix, or DeviceOutputError before the header', () =>
      everyCut(text, (t) => parseProcNetSockets(t, 6, 'tcp'), assertArrayPrefix(sockets)));
    it('garbage output: DeviceOutputError', () =>
      neverInvents(
        (t) => parseProcNetSockets(t, 6, 'tcp'),
        () => false,
      ));
  });

  describe('parseLinkProperties', () => {
    it('reads the Deutsche Telekom phone, CLAT stacked link included', () => {
      const lp = parseLinkProperties(fixture('linkproperties-dtag.txt'));
      assert.deepEqual(lp, {
        interfaceName: 'rmnet16',
        linkAddresses: [{ address: '2a01:599:a1b:a486:9aa1:495d:81d9:5386', prefixLength: 64 }],
        dnsAddresses: ['2a01:598:7ff:0:10:74:210:221', '2a01:598:7ff:0:10:74:210:222'],
        domains: null,
        mtu: 1500,
        routes: [
          { destination: '::/0', gateway: '::', interfaceName: 'rmnet16', type: 'unicast', mtu: 1500 },
          { destination: '2a01:599:a1b:a486::/64', gateway: '::', interfaceName: 'rmnet16', type: 'unicast', mtu: 0 },
        ],
        nat64Prefix: '64:ff9b::/96',
        stacked: [
          {
            interfaceName: 'v4-rmnet16',
            linkAddresses: [{ address: '192.0.0.4', prefixLength: 32 }],
            dnsAddresses: [],
            domains: null,
            mtu: 0,
            routes: [{ destination: '0.0.0.0/0', gateway: '192.0.0.4', interfaceName: 'v4-rmnet16', type: 'unicast', mtu: 0 }],
            nat64Prefix: null,
            stacked: [],
          },
        ],
      });
    });
    it('absent keys are null or empty, unknown keys passed over', () => {
      assert.deepEqual(
        parseLinkProperties(
          '{InterfaceName: wlan0 LinkAddresses: [ ] PrivateDnsServerName: dns.example WakeOnLanSupported: true Routes: [ ::/0 -> fe80::1 wlan0 unreachable mtu 0 ]}',
        ),
        {
          interfaceName: 'wlan0',
          linkAddresses: [],
          dnsAddresses: [],
          domains: null,
          mtu: null,
          routes: [{ destination: '::/0', gateway: 'fe80::1', interfaceName: 'wlan0', type: 'unreachable', mtu: 0 }],
          nat64Prefix: null,
          stacked: [],
        },
      );
    });
    it('truncated: DeviceOutputError', () => {
      const text = fixture('linkproperties-dtag.txt').trim();
      for (let cut = 0; cut < text.length; cut++) assert.throws(() => parseLinkProperties(text.slice(0, cut)), DeviceOutputError);
    });
    it('garbage: DeviceOutputError', () => {
      for (const text of [...LOCALISED, '{}', '{Hallo: Welt}']) assert.throws(() => parseLinkProperties(text), DeviceOutputError);
    });
  });

  describe('parseDumpsysConnectivity', () => {
    const text = fixture('virtual-dumpsys-connectivity.txt');
    const dump = parseDumpsysConnectivity(text);
    it('reads the virtual handset: network, LinkProperties, stacked CLAT, CLAT tracker', () => {
      assert.equal(dump.defaultNetId, 100);
      assert.equal(dump.networks.length, 1);
      const [network] = dump.networks;
      assert.deepEqual(
        { ...network!, linkProperties: null },
        {
          netId: 100,
          type: 'MOBILE',
          subtype: 'LTE',
          state: 'CONNECTED',
          extra: 'ipv6.v6lab.test',
          transports: ['CELLULAR'],
          capabilities: ['INTERNET', 'NOT_RESTRICTED', 'TRUSTED', 'VALIDATED', 'NOT_VPN'],
          linkProperties: null,
          clat: {
            iface: 'rmnet_data0',
            ifaceIndex: 12,
            v4iface: 'v4-rmnet_data0',
            v4ifaceIndex: 13,
            v4: '192.0.0.4',
            v6: '2001:db8:739f:0:4f1c:4c1:503f:9128',
            pfx96: '64:ff9b::',
            pid: 0,
            cookie: '1',
          },
        },
      );
      const lp = network!.linkProperties!;
      assert.equal(lp.interfaceName, 'rmnet_data0');
      assert.deepEqual(
        lp.linkAddresses.map((a) => a.address),
        ['2001:db8:739f:0:4048:4fd2:1d6c:f911', '2001:db8:739f:0:9ccb:1eff:feea:884d'],
      );
      assert.deepEqual(lp.dnsAddresses, ['2001:db8:739f::1']);
      assert.equal(lp.nat64Prefix, '64:ff9b::/96');
      assert.deepEqual(lp.routes[1], { destination: '::/0', gateway: 'fe80::5465:6cff:fec0:afb9', interfaceName: 'rmnet_data0', type: 'unicast', mtu: 0 });
      assert.deepEqual(
        lp.stacked.map((s) => [s.interfaceName, s.linkAddresses[0]?.address, s.routes[0]?.destination]),
        [['v4-rmnet_data0', '192.0.0.4', '0.0.0.0/0']],
      );
    });
    it("reads the real phone's LinkProperties inside a NetworkAgentInfo line, and the older ni{} form", () => {
      const lp = fixture('linkproperties-dtag.txt').trim();
      const wrapped = `Current Networks:\n  NetworkAgentInfo{network{101}  handle{433791700992}  ni{[type: MOBILE[LTE], state: CONNECTED/CONNECTED, reason: connected, extra: internet.telekom, failover: false, available: true, roaming: false]}  lp{${lp}}  nc{[ Transports: CELLULAR|WIFI Capabilities: INTERNET&NOT_METERED]}}\n`;
      const [network] = parseDumpsysConnectivity(wrapped).networks;
      assert.deepEqual(
        [network!.netId, network!.type, network!.subtype, network!.state, network!.extra, network!.transports],
        [101, 'MOBILE', 'LTE', 'CONNECTED', 'internet.telekom', ['CELLULAR', 'WIFI']],
      );
      assert.deepEqual(network!.linkProperties, parseLinkProperties(lp));
      assert.equal(parseDumpsysConnectivity(wrapped).defaultNetId, null);
    });
    it('attaches a CLAT line only to the network above it', () => {
      const twoNetworks = text.replace(
        /^( {2}NetworkAgentInfo.*\n)/m,
        '$1  NetworkAgentInfo{network{101}  ni{WIFI CONNECTED}  lp{{InterfaceName: wlan0 LinkAddresses: [ ] Routes: [ ]}}  nc{[ Transports: WIFI]}}\n',
      );
      const dumped = parseDumpsysConnectivity(twoNetworks);
      // the CLAT tracker line now sits under the Wi-Fi network's line, so it is the Wi-Fi one's
      assert.deepEqual(
        dumped.networks.map((n) => [n.netId, n.type, n.clat?.iface ?? null]),
        [
          [100, 'MOBILE', null],
          [101, 'WIFI', 'rmnet_data0'],
        ],
      );
    });
    it('garbage lines inside the block are skipped', () => {
      const garbled = text
        .split(/(?<=\n)/)
        .map((line, i) => `${line}    ${GARBAGE[i % GARBAGE.length]}\n`)
        .join('');
      assert.deepEqual(parseDumpsysConnectivity(garbled), dump);
      const brokenAgent = text.replace(/^( {4}CLAT)/m, '    NetworkAgentInfo{network{7} lp{{InterfaceName: x\n$1');
      assert.deepEqual(parseDumpsysConnectivity(brokenAgent), dump);
      const brokenSibling = text.replace(/^( {4}CLAT)/m, '  NetworkAgentInfo{network{7} lp{{InterfaceName: x\n$1');
      assert.deepEqual(parseDumpsysConnectivity(brokenSibling).networks[0]!.clat, null, "a CLAT line under a skipped network is not the previous one's");
    });
    it('truncated: a prefix (no CLAT yet is null), or DeviceOutputError', () => {
      everyCut(text, parseDumpsysConnectivity, (partial: DumpsysConnectivity) => {
        assert.ok(partial.defaultNetId === null || partial.defaultNetId === dump.defaultNetId);
        partial.networks.forEach((n, i) => {
          assert.deepEqual(n, n.clat === null ? { ...dump.networks[i]!, clat: null } : dump.networks[i]);
        });
      });
    });
    it('garbage output: DeviceOutputError', () => neverInvents(parseDumpsysConnectivity, () => false));
    it('parseClatTracker reads the AOSP sample and rejects other lines', () => {
      assert.deepEqual(
        parseClatTracker(
          'CLAT tracker: iface: rmnet_data0 (12), v4iface: v4-rmnet_data0 (13), v4: /192.0.0.4, v6: /2001:db8:0:b11::464, pfx96: /64:ff9b::, pid: 1234, cookie: 1',
        ),
        {
          iface: 'rmnet_data0',
          ifaceIndex: 12,
          v4iface: 'v4-rmnet_data0',
          v4ifaceIndex: 13,
          v4: '192.0.0.4',
          v6: '2001:db8:0:b11::464',
          pfx96: '64:ff9b::',
          pid: 1234,
          cookie: '1',
        },
      );
      assert.equal(parseClatTracker('Nat464Xlat: not running'), null);
    });
  });

  describe('parseContentRows', () => {
    it('reads the APN table of the virtual handset (su -c)', () => {
      const rows = parseContentRows(fixture('virtual-content-query-carriers.txt')) as ContentRow[];
      assert.equal(rows.length, 2);
      assert.deepEqual(rows[0], {
        _id: '1',
        name: 'v6lab IPv6',
        numeric: '46099',
        mcc: '460',
        mnc: '99',
        apn: 'ipv6.v6lab.test',
        type: 'default,supl',
        protocol: 'IPV4V6',
        roaming_protocol: 'IPV4V6',
        current: '1',
      });
      assert.deepEqual([rows[1]!.roaming_protocol, rows[1]!.current], ['IPV6', null]);
      assert.deepEqual(parseContentRows(fixture('virtual-content-query-preferapn.txt')), [rows[0]]);
    });
    it('"No result found." is []', () => assert.deepEqual(parseContentRows(fixture('virtual-content-query-no-result.txt')), []));
    it('a refusal is a typed result', () => {
      const result = parseContentRows(fixture('virtual-content-query-preferapn-denied.txt'));
      assert.ok(isContentDenied(result));
      assert.deepEqual(result, { denied: true, message: 'java.lang.SecurityException: No permission to access APN settings' });
      assert.ok(
        isContentDenied(parseContentRows("Exception occurred while executing 'query':\njava.lang.SecurityException: Permission Denial: opening provider\n")),
      );
    });
    it('splits only at ", key="', () => {
      const [row] = parseContentRows(fixture('handmade-content-query-carriers.txt')) as ContentRow[];
      assert.deepEqual(
        [row!.name, row!.type, row!.protocol, row!.user, row!.mmsc],
        ['T-Mobile US', 'default,supl,mms', 'IPV6', null, 'http://mms.msg.eng.t-mobile.com/mms/wapenc'],
      );
      assert.deepEqual(parseContentRows('Row: 0 name=Foo, Inc., apn=x\n'), [{ name: 'Foo, Inc.', apn: 'x' }]);
    });
    it('reordered and garbage lines', () => {
      const text = fixture('virtual-content-query-carriers.txt');
      const rows = parseContentRows(text) as ContentRow[];
      assert.deepEqual(new Set((parseContentRows(reorder(text)) as ContentRow[]).map((r) => r._id)), new Set(rows.map((r) => r._id)));
      assert.deepEqual(parseContentRows(withGarbage(text)), rows);
    });
    it('truncated: a prefix of the rows, or DeviceOutputError', () => {
      const text = fixture('virtual-content-query-carriers.txt');
      everyCut(text, parseContentRows, (partial) => assertArrayPrefix(parseContentRows(text) as ContentRow[])(partial as ContentRow[]));
    });
    it('garbage output: DeviceOutputError', () => neverInvents(parseContentRows, () => false));
  });

  describe('parseDumpsysPackage', () => {
    const text = fixture('virtual-dumpsys-package-com.example.news.txt');
    const info = parseDumpsysPackage(text, 'com.example.news');
    it('reads the virtual handset', () => assert.deepEqual(info, { userId: 10105, versionName: '1.0', codePath: '/data/app/com.example.news-1' }));
    it('null for a package not installed', () => {
      assert.equal(parseDumpsysPackage(fixture('virtual-dumpsys-package-missing.txt'), 'com.nonexistent.app'), null);
      assert.equal(parseDumpsysPackage(text, 'com.example'), null);
    });
    it('reads only its own block, not nested or following ones', () => {
      const nested =
        'Packages:\n  Package [a.b] (1):\n    userId=10200 gids=[3003]\n    User 0: ceDataInode=1\n      versionName=WRONG\n  Package [c.d] (2):\n    versionName=9\n    codePath=/x\n';
      assert.deepEqual(parseDumpsysPackage(nested, 'a.b'), { userId: 10200, versionName: null, codePath: null });
    });
    it('garbage lines inside the block are skipped', () =>
      assert.deepEqual(parseDumpsysPackage(text.replace('    userId', '    garbage ][\n    userId'), 'com.example.news'), info));
    it('truncated: null or fields that agree', () => {
      everyCut(
        text,
        (t) => parseDumpsysPackage(t, 'com.example.news'),
        (partial) => {
          if (partial === null) return;
          for (const key of ['userId', 'versionName', 'codePath'] as const) if (partial[key] !== null) assert.equal(partial[key], info![key]);
        },
      );
    });
    it('garbage output: null', () =>
      neverInvents(
        (t) => parseDumpsysPackage(t, 'com.example.news'),
        (r) => r === null,
      ));
  });

  describe('parseSettingsGet', () => {
    it('reads the virtual handset', () => {
      assert.equal(parseSettingsGet(fixture('virtual-settings-get-global-private_dns_mode.txt')), 'opportunistic');
      assert.equal(parseSettingsGet(fixture('virtual-settings-get-global-unset.txt')), null);
      assert.equal(parseSettingsGet('off\r\n'), 'off');
    });
    it('truncated: DeviceOutputError', () => {
      for (const cut of [0, 3, 13]) assert.throws(() => parseSettingsGet('opportunistic\n'.slice(0, cut)), DeviceOutputError);
    });
    it('errors and extra lines: DeviceOutputError', () => {
      for (const text of ['/system/bin/sh: settings: inaccessible or not found\n', "cmd: Can't find service: settings\n", 'a\nb\n'])
        assert.throws(() => parseSettingsGet(text), DeviceOutputError);
    });
  });
});
