// Issue 15: the parsers read what real phones print, not only what the virtual handset writes.
// Every expected value below was read by hand from the sample file named (test/fixtures/android-real,
// sources in its README); lines that no real sample holds yet say so and follow the tool's grammar.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  contentRefusal,
  DeviceOutputError,
  dumpsysPackageNotFound,
  isContentDenied,
  networkDefaultRoutes,
  parseContentRows,
  parseDumpsysPackage,
  parseIpAddr,
  parseIpRoute,
  parsePreferredApn,
  parseProcNetSockets,
  type ContentRow,
  type Route,
} from '../../lib/device/parse/index.js';
import { parseHierarchy } from '../../lib/appium/hierarchy.js';

const real = (name: string): string => readFileSync(resolve(import.meta.dirname, '../fixtures/android-real', name), 'utf8');

/** The fields a test compares, in one line each. */
const brief = (r: Route) => [r.type, r.family, r.destination, r.gateway, r.dev, r.table];

describe('real phones: ip route', () => {
  const table0 = real('ip-route/tailscale-2653-pixel-a12-ip-route-show-table-0.txt');
  const tun0 = real('ip-route/tailscale-1486-android-ip-6-route-default-tun0.txt');
  const wlanPrefix = real('ip-route/tailscale-1486-android-ip-6-route-wlan0-prefix.txt');

  it('Android 12 Pixel, `ip route show table 0`: every route in a per-network table, none in main', () => {
    const routes = parseIpRoute(table0, 4);
    assert.equal(routes.length, 21);
    assert.deepEqual(
      routes.filter((r) => r.table === 'main'),
      [],
    );
    assert.deepEqual(routes.slice(0, 3).map(brief), [
      ['unicast', 4, '0.0.0.0/0', '10.1.10.1', 'wlan0', '1030'],
      ['unicast', 4, '10.1.10.0/24', null, 'wlan0', '1030'],
      ['unicast', 4, '0.0.0.0/0', '192.0.0.4', 'v4-rmnet_data2', '1053'],
    ]);
    // a host route of the VPN: a /32, in the VPN's table 1055
    assert.deepEqual(brief(routes[3]!), ['unicast', 4, '100.74.59.60/32', null, 'tun0', '1055']);
    assert.deepEqual(brief(routes.at(-1)!), ['unicast', 4, '100.125.98.21/32', null, 'tun0', '1055']);
    assert.equal(routes[2]!.proto, 'static');
    // without the family hint, every line names an IPv4 address: the same routes
    assert.deepEqual(parseIpRoute(table0), routes);
  });

  it("finds a network's defaults whatever table they are in, by its interface or its CLAT's", () => {
    const routes = parseIpRoute(table0, 4);
    const clat = [['unicast', 4, '0.0.0.0/0', '192.0.0.4', 'v4-rmnet_data2', '1053']];
    assert.deepEqual(networkDefaultRoutes(routes, 'rmnet_data2').map(brief), clat);
    assert.deepEqual(networkDefaultRoutes(routes, 'v4-rmnet_data2').map(brief), clat);
    assert.deepEqual(networkDefaultRoutes(routes, 'wlan0').map(brief), [['unicast', 4, '0.0.0.0/0', '10.1.10.1', 'wlan0', '1030']]);
    // the VPN's table has host routes only, and rmnet_data0 is not this phone's mobile network
    assert.deepEqual(networkDefaultRoutes(routes, 'tun0'), []);
    assert.deepEqual(networkDefaultRoutes(routes, 'rmnet_data0'), []);
    // the IPv6 default of a VPN (Android 11), found with the IPv4 ones of the same dump
    const both = [...parseIpRoute(tun0, 6), ...routes];
    assert.deepEqual(networkDefaultRoutes(both, 'tun0').map(brief), [['unicast', 6, '::/0', null, 'tun0', '1101']]);
  });

  it('Android 11, `ip -6 route show table all`: metric, expires and pref are read past, the family comes from pref', () => {
    const [vpnDefault] = parseIpRoute(tun0);
    assert.deepEqual(vpnDefault, {
      type: 'unicast',
      family: 6,
      destination: '::/0',
      gateway: null,
      dev: 'tun0',
      proto: 'static',
      metric: 1024,
      mtu: null,
      table: '1101',
      src: null,
    });
    assert.deepEqual(parseIpRoute(wlanPrefix, 6), [
      {
        type: 'unicast',
        family: 6,
        destination: '2602:248:7b4a:ce60::/64',
        gateway: null,
        dev: 'wlan0',
        proto: 'kernel',
        metric: 256,
        mtu: null,
        table: '1030',
        src: null,
      },
    ]);
  });

  it('route types and named tables (ip-route(8) grammar: no real sample holds these lines yet)', () => {
    const routes = parseIpRoute(
      [
        'broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1',
        'local 192.0.0.4 dev v4-rmnet_data2 table local proto kernel scope host src 192.0.0.4',
        'unreachable 10.0.0.0/8 table 1055 proto static',
        'throw 192.168.0.0/16 table 1055 proto static',
        'prohibit 198.51.100.0/24 table main',
        'blackhole 203.0.113.0/24',
        'unreachable default table 1053 proto static metric 4278198272',
        'default via 192.0.0.4 dev v4-rmnet_data2 table 1053 proto static mtu 1472',
        '',
      ].join('\n'),
      4,
    );
    assert.deepEqual(
      routes.map((r) => [r.type, r.destination, r.table]),
      [
        ['broadcast', '127.255.255.255/32', 'local'],
        ['local', '192.0.0.4/32', 'local'],
        ['unreachable', '10.0.0.0/8', '1055'],
        ['throw', '192.168.0.0/16', '1055'],
        ['prohibit', '198.51.100.0/24', 'main'],
        ['blackhole', '203.0.113.0/24', 'main'],
        ['unreachable', '0.0.0.0/0', '1053'],
        ['unicast', '0.0.0.0/0', '1053'],
      ],
    );
    assert.equal(routes.at(-1)!.mtu, 1472);
    // an unreachable default is no way out, and a local route no default
    assert.deepEqual(networkDefaultRoutes(routes, 'rmnet_data2').map(brief), [['unicast', 4, '0.0.0.0/0', '192.0.0.4', 'v4-rmnet_data2', '1053']]);
  });
});

describe('real phones: full `ip addr` (not -o)', () => {
  it('Android 8.0 Galaxy S9+: every interface, DOWN ones and link/[530] too, with its state', () => {
    const interfaces = parseIpAddr(real('ip-addr/adguard-1884-galaxy-s9plus-ip-addr-show-excerpt.txt'));
    assert.deepEqual(
      interfaces.map((i) => [i.index, i.name, i.state, i.mtu, i.addresses.length]),
      [
        [1, 'lo', 'UNKNOWN', 65536, 2],
        [2, 'bond0', 'DOWN', 1500, 0],
        [3, 'dummy0', 'UNKNOWN', 1500, 1],
        [4, 'sit0', 'DOWN', 1480, 0],
        [5, 'p2p0', 'DOWN', 1500, 0],
        [6, 'wlan0', 'DOWN', 1500, 0],
        [7, 'rmnet_ipa0', 'UNKNOWN', 2000, 0],
      ],
    );
    assert.deepEqual(interfaces[0]!.linkFlags, ['LOOPBACK', 'UP', 'LOWER_UP']);
    assert.deepEqual(interfaces[0]!.addresses, [
      { family: 4, address: '127.0.0.1', prefixLength: 8, scope: 'host', flags: [], validLifetime: 'forever', preferredLifetime: 'forever' },
      { family: 6, address: '::1', prefixLength: 128, scope: 'host', flags: [], validLifetime: 'forever', preferredLifetime: 'forever' },
    ]);
    assert.deepEqual(interfaces[2]!.addresses[0]!.address, 'fe80::3486:86ff:fe75:23ba');
    assert.deepEqual(interfaces[6]!.linkFlags, ['UP', 'LOWER_UP']);
  });

  it('Android 16 Pixel: rmnet0..29 DOWN with link/[519], @NONE names cut, Wi-Fi and VPN addresses', () => {
    const interfaces = parseIpAddr(real('ip-addr/sectrollz-pixel9a-a16-ip-addr.txt'));
    assert.equal(interfaces.length, 49);
    const rmnet = interfaces.filter((i) => /^rmnet\d+$/.test(i.name));
    assert.equal(rmnet.length, 30);
    assert.ok(rmnet.every((i) => i.state === 'DOWN' && i.addresses.length === 0));
    assert.deepEqual([rmnet[0]!.index, rmnet[0]!.linkFlags, rmnet[1]!.mtu], [14, ['POINTOPOINT', 'MULTICAST', 'NOARP'], 1428]);
    assert.deepEqual(
      interfaces.filter((i) => i.index >= 5 && i.index <= 13).map((i) => i.name),
      ['tunl0', 'gre0', 'gretap0', 'erspan0', 'ip_vti0', 'ip6_vti0', 'sit0', 'ip6tnl0', 'ip6gre0'],
    );
    const wlan0 = interfaces.find((i) => i.name === 'wlan0')!;
    assert.deepEqual(
      [wlan0.index, wlan0.state, wlan0.addresses.map((a) => [a.address, a.prefixLength, a.scope])],
      [
        47,
        'UP',
        [
          ['192.168.0.181', 24, 'global'],
          ['fe80::a8ac:4cff:fe0f:82c2', 64, 'link'],
        ],
      ],
    );
    const tun0 = interfaces.find((i) => i.name === 'tun0')!;
    assert.deepEqual(
      [tun0.index, tun0.state, tun0.addresses.map((a) => [a.address, a.prefixLength, a.scope, a.flags, a.validLifetime])],
      [
        120,
        'UNKNOWN',
        [
          ['10.1.10.1', 32, 'global', [], 'forever'],
          ['fd00:1:fd00:1:fd00:1:fd00:1', 128, 'global', [], 'forever'],
          ['fe80::e981:b7e3:ade4:2724', 64, 'link', ['stable-privacy'], 'forever'],
        ],
      ],
    );
  });

  it('an output cut between an address and its lifetimes keeps the address, lifetimes unknown', () => {
    const text = real('ip-addr/adguard-1884-galaxy-s9plus-ip-addr-show-excerpt.txt');
    const cut = text.slice(0, text.indexOf('       valid_lft'));
    const [lo] = parseIpAddr(cut);
    assert.deepEqual(
      lo!.addresses.map((a) => [a.address, a.validLifetime]),
      [['127.0.0.1', null]],
    );
  });
});

describe('real phones: dumpsys package', () => {
  it('Android 16 Pixel 8a prints appId=: the uid all the same', () =>
    assert.deepEqual(parseDumpsysPackage(real('dumpsys-package/pixel8a-a16-ntfy.txt'), 'io.heckel.ntfy'), {
      userId: 10311,
      versionName: '1.24.0',
      codePath: '/data/app/~~ny1aVKTNxKUDyWLDzM5bPw==/io.heckel.ntfy-K2BhGdAlPTfLZs8XlI-moA==',
    }));

  it('Samsung, Android 10/11, prints userId=, a shared system uid too', () => {
    const text = real('dumpsys-package/mvt-samsung-trimmed.txt');
    assert.deepEqual(parseDumpsysPackage(text, 'com.sec.android.app.DataCreate'), {
      userId: 10143,
      versionName: '1.0',
      codePath: '/system/app/AutomationTest_FB',
    });
    assert.deepEqual(parseDumpsysPackage(text, 'com.samsung.android.provider.filterprovider'), {
      userId: 1000,
      versionName: '5.0.07',
      codePath: '/system/app/FilterProvider',
    });
  });

  it('"Unable to find package" is not installed: null, and said in words', () => {
    const text = real('dumpsys-package/pixel8a-a16-not-found.txt');
    assert.equal(parseDumpsysPackage(text, 'com.does.not.exist.foo123'), null);
    assert.equal(dumpsysPackageNotFound(text, 'com.does.not.exist.foo123'), true);
    // another package's notice, or a dump with the package in it, says nothing of this one
    assert.equal(dumpsysPackageNotFound(text, 'com.does.not.exist'), false);
    assert.equal(dumpsysPackageNotFound(real('dumpsys-package/pixel8a-a16-ntfy.txt'), 'io.heckel.ntfy'), false);
  });

  it('a package the dump does not hold is null, not a package without a uid', () =>
    assert.equal(parseDumpsysPackage(real('dumpsys-package/pixel8a-a16-ntfy.txt'), 'io.heckel'), null));
});

describe('real phones: content query', () => {
  const denied = real('content/andromodem-apn-denied-a10.txt');
  const carriers = real('content/docker-android-304-emulator-carriers-rows0-1.txt');
  const message = 'java.lang.SecurityException: No permission to write APN settings';

  it('Android 10: the refusal (printed with exit status 0) is known by its text', () => {
    assert.deepEqual(contentRefusal(denied), { denied: true, message });
    assert.deepEqual(parseContentRows(denied), { denied: true, message });
    assert.equal(contentRefusal(carriers), null);
  });

  it('Android 10/11 emulator: rows with the provider real columns, NULL as null, empty as empty', () => {
    const rows = parseContentRows(carriers) as ContentRow[];
    assert.equal(rows.length, 2);
    assert.equal(Object.keys(rows[0]!).length, 39);
    const [first, second] = rows;
    assert.deepEqual(
      [first!._id, first!.name, first!.numeric, first!.apn, first!.type, first!.current, first!.protocol, first!.roaming_protocol],
      ['1', 'T-Mobile US', '310260', 'epc.tmobile.com', '', '1', 'IP', 'IP'],
    );
    assert.deepEqual([first!.mmsc, first!.proxy, first!.apn_set_id, first!.skip_464xlat], ['http://mms.msg.eng.t-mobile.com/mms/wapenc', '', '0', '-1']);
    // current=1 is the SIM operator's numeric (310260), not a preference: the other operator's row has NULL
    assert.deepEqual([second!._id, second!.name, second!.numeric, second!.current], ['2', 'T-Mobile US 250', '310250', null]);
  });

  it('the preferred APN: its one row, null when none is preferred, the refusal, or an error for several rows', () => {
    const [firstLine, secondLine] = carriers.split(/(?<=\n)/);
    const preferred = parsePreferredApn(firstLine!);
    assert.ok(preferred !== null && !isContentDenied(preferred));
    assert.deepEqual([preferred._id, preferred.apn, preferred.protocol], ['1', 'epc.tmobile.com', 'IP']);
    assert.equal(parsePreferredApn('No result found.\n'), null);
    assert.deepEqual(parsePreferredApn(denied), { denied: true, message });
    assert.throws(() => parsePreferredApn(firstLine! + secondLine!), DeviceOutputError);
    assert.throws(() => parsePreferredApn('usage: adb shell content [subcommand] [options]\n'), DeviceOutputError);
  });
});

describe('the full `ip addr` reader takes time linear in its input', () => {
  /** time(1 MB) / time(100 kB), the least of five rounds, the small one ten times over (see parse-linear.test.ts). */
  function growth(parse: (text: string) => unknown, small: string, large: string): number {
    const run = (text: string) => {
      try {
        parse(text);
      } catch (error) {
        if (!(error instanceof DeviceOutputError)) throw error;
      }
    };
    run(small);
    run(large);
    const times = (work: () => void) => {
      const start = process.hrtime.bigint();
      work();
      return Number(process.hrtime.bigint() - start);
    };
    const smallTimes: number[] = [];
    const largeTimes: number[] = [];
    for (let round = 0; round < 5; round++) {
      smallTimes.push(times(() => Array.from({ length: 10 }, () => run(small))));
      largeTimes.push(times(() => run(large)));
    }
    return (Math.min(...largeTimes) / Math.min(...smallTimes)) * 10;
  }
  const sample = real('ip-addr/adguard-1884-galaxy-s9plus-ip-addr-show-excerpt.txt');
  /** Twenty lines of size / 20 characters (under the line cap at 1 MB) after the real sample. */
  const hostile = (line: (length: number) => string) => (size: number) => sample + `${line(size / 20)}\n`.repeat(20);
  const shapes: Record<string, (length: number) => string> = {
    'headers of colons': (n) => `1: ${':'.repeat(n)}`,
    'headers of ": " runs': (n) => `1: a${': '.repeat(n / 2)}x`,
    'indented runs of spaces': (n) => `${' '.repeat(n)}inet`,
    'addresses of inet6 words': (n) => `    inet6 ${'inet6 '.repeat(n / 6)}`,
  };
  for (const [name, line] of Object.entries(shapes)) {
    it(`${name}: 1 MB takes less than 30 times 100 kB, and the sample reads as alone`, () => {
      const input = hostile(line);
      assert.deepEqual(parseIpAddr(input(100_000)), parseIpAddr(sample));
      const ratio = growth(parseIpAddr, input(100_000), input(1_000_000));
      assert.ok(ratio < 30, `time(1 MB) / time(100 kB) = ${ratio.toFixed(1)}`);
    });
  }
});

describe('real /proc/net and uiautomator output (issue 15)', () => {
  const file = real;

  it('reads a Nexus 6P /proc/net/tcp excerpt: addresses little-endian, ports, state and the app uid; the "..." line passed over', () => {
    // proc-net/owasp-mastg-tech-0028-nexus-tcp-excerpt.txt (Android 8.x), decoded by hand:
    // 1101A8C0:BB2F is 192.168.1.17:47919, 9A447D4A:01BB is 74.125.68.154:443.
    const sockets = parseProcNetSockets(file('proc-net/owasp-mastg-tech-0028-nexus-tcp-excerpt.txt'), 4, 'tcp');
    assert.deepEqual(
      sockets.map((s) => [s.local.address, s.local.port, s.remote.address, s.remote.port, s.state, s.uid, s.inode]),
      [
        ['192.168.1.17', 47919, '74.125.68.154', 443, 'ESTABLISHED', 10093, 75412],
        ['192.168.1.17', 37244, '216.58.203.227', 443, 'ESTABLISHED', 10093, 75553],
        ['192.168.1.17', 49635, '74.125.24.156', 443, 'ESTABLISHED', 10093, 75458],
      ],
    );
  });

  it('reads a Pixel launcher window_dump.xml (one line, no trailing newline): every node, its text, description, id and bounds', () => {
    // uiautomator/js-adb-pixel-launcher-window_dump.xml: 25 <node> elements, screen 1080x1794.
    const nodes = parseHierarchy(file('uiautomator/js-adb-pixel-launcher-window_dump.xml'));
    assert.equal(nodes.length, 25);
    assert.deepEqual(
      [nodes[0]!.className, nodes[0]!.packageName, nodes[0]!.bounds],
      ['android.widget.FrameLayout', 'com.google.android.apps.nexuslauncher', [0, 0, 1080, 1794]],
    );
    const clock = nodes.find((n) => n.resourceId === 'com.google.android.apps.nexuslauncher:id/clock');
    assert.deepEqual([clock?.text, clock?.contentDesc, clock?.bounds], ['Fri, Apr 21', 'Fri, Apr 21', [77, 123, 1045, 180]]);
    const chrome = nodes.find((n) => n.text === 'Chrome');
    assert.deepEqual([chrome?.clickable, chrome?.bounds], [true, [641, 1382, 843, 1548]]);
  });
});
