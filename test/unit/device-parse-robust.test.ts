// Device output that is not what a parser hoped for (issue 6, "Device output"): truncated,
// reordered, localised and garbage output is refused (DeviceOutputError, or the parser's own
// "nothing here": [], null, a refusal) or read only for what it really holds; and no os or apn
// check passes on output it could not read. Inputs are derived from the verbatim fixtures, and
// the random ones come from a seeded generator, so every run feeds the same bytes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  checkApnProtocol,
  checkClat,
  checkDualStackAttach,
  checkIpv6Enabled,
  checkIpv6OnlyAttach,
  checkNat64Prefix,
  checkPrivacyAddresses,
  observeDevice,
  type CheckOutcome,
  type Observation,
} from '../../lib/checks/os.js';
import type { DeviceBackend, RunResult } from '../../lib/device/adb.js';
import { alwaysPresent } from '../support/presence.js';
import { DeviceCommandError } from '../../lib/device/errors.js';
import {
  DeviceOutputError,
  isContentDenied,
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
  type NetworkAgent,
} from '../../lib/device/parse/index.js';
import { prng } from '../support/mutate.js';

const fixture = (name: string): string => readFileSync(resolve(import.meta.dirname, '../fixtures/android', name), 'utf8');

/** Lines of `text`, each with its newline. */
const linesOf = (text: string): string[] => text.split(/(?<=\n)/).filter((l) => l !== '');

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/**
 * Where to cut `text`: at 25, 50 and 90 % of it, and inside every line: in its middle, and one
 * character before its end (inside its last token: `/64` left as `/6`, `604679` as `60467`).
 */
function cutPoints(text: string): number[] {
  const points = new Set([0.25, 0.5, 0.9].map((f) => Math.floor(text.length * f)));
  let start = 0;
  for (const line of linesOf(text)) {
    const body = line.replace(/\r?\n$/, '').length;
    if (body > 1) {
      points.add(start + Math.floor(body / 2));
      points.add(start + body - 1);
    }
    start += line.length;
  }
  return [...points].sort((a, b) => a - b);
}

/** dumpsys (it exits 0) ends a dump that ran past its deadline with this, after ending the cut line. */
const dumpTimeout = (service: string) => `\n*** SERVICE '${service}' DUMP TIMEOUT (10000ms) EXPIRED ***\n\n`;

/** Random bytes as adb hands them over (latin1: every byte a character; utf8: with U+FFFD). */
function randomBytes(random: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** A line of random printable and control characters, without a line end. */
function noiseLine(random: () => number): string {
  return randomBytes(random, 8 + Math.floor(random() * 80))
    .toString('latin1')
    .replace(/[\r\n]/g, ' ');
}

/** Whole-output garbage: what a broken shell, a proxy or a wrong command can return instead. */
const GARBAGE: readonly (readonly [string, string])[] = (() => {
  const random = prng(0x6c6162);
  return [
    ['empty', ''],
    ['only whitespace', ' \t \n\n   \r\n\t\n'],
    ['random bytes (latin1)', randomBytes(random, 4096).toString('latin1')],
    ['random bytes (utf8)', randomBytes(random, 4096).toString('utf8')],
    ['random lines', Array.from({ length: 40 }, () => `${noiseLine(random)}\n`).join('')],
    ['binary: an ELF header', `\u007fELF\u0002\u0001\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0003\u0000\u00b7\u0000\n`],
    ['binary: NUL bytes', '\u0000'.repeat(512)],
    [
      'an HTML error page',
      '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1><p>[x]: [y] Row: 0 a=b</p></body></html>\n',
    ],
    ['a shell error', '/system/bin/sh: dumpsys: inaccessible or not found\n'],
    ['a shell error (toybox)', 'cat: /proc/net/tcp6: No such file or directory\n'],
    ['a usage text', 'usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n       ip [ -force ] -batch filename\n'],
  ];
})();

/** Errors as a device in another locale prints them, or as Android phrases a refusal. */
const LOCALISED_ERRORS: readonly string[] = [
  '/system/bin/sh: ip: 权限被拒绝\n',
  '/system/bin/sh: settings: Zugriff verweigert\n',
  'Fehler: Zugriff verweigert\n',
  'cat: /proc/net/if_inet6: Keine Berechtigung\n',
  'RTNETLINK answers: Operation not permitted\n',
  "Permission Denial: can't dump ConnectivityService from from pid=4242, uid=2000 due to missing android.permission.DUMP permission\n",
  'java.lang.SecurityException: Keine Berechtigung für den Zugriff auf die APN-Einstellungen\n',
  "Exception occurred while executing 'get':\njava.lang.SecurityException: 没有权限\n\tat android.os.Parcel.createException(Parcel.java:2071)\n",
];

/**
 * Runs `parse` on `text`: a DeviceOutputError, or a result `check` accepts. Any other error (a
 * TypeError from reading past the end) fails the test, naming the input.
 */
function refusedOrRead<T>(what: string, text: string, parse: (t: string) => T, check: (result: T) => void): 'refused' | 'read' {
  let result: T;
  try {
    result = parse(text);
  } catch (error) {
    assert.ok(error instanceof DeviceOutputError, `${what}: ${String(error)} on ${JSON.stringify(text.slice(0, 120))}`);
    return 'refused';
  }
  try {
    check(result);
  } catch (error) {
    throw new Error(`${what}, input ${JSON.stringify(text.slice(-160))}: ${(error as Error).message}`);
  }
  return 'read';
}

/** Every item of `partial` is one of `full` (deep equality): nothing made up, nothing half-read. */
function onlyFrom<T>(full: readonly T[]): (partial: readonly T[]) => void {
  const keys = new Set(full.map((item) => JSON.stringify(item)));
  return (partial) => {
    for (const item of partial) assert.ok(keys.has(JSON.stringify(item)), `not in the complete output: ${JSON.stringify(item)}`);
  };
}

const sortedJson = (items: readonly unknown[]): string[] => items.map((i) => JSON.stringify(i)).sort();

/** The cases one parser is fed; each returns how many inputs it ran, so a category cannot go empty. */
interface Cases {
  truncated(): number;
  reordered(): number;
  localised(): number;
  garbage(): number;
}

function describeCases(name: string, cases: Cases): void {
  describe(name, () => {
    for (const category of ['truncated', 'reordered', 'localised', 'garbage'] as const) {
      it(category, () => assert.ok(cases[category]() > 0, `no ${category} input`));
    }
  });
}

/** Garbage of the whole output: refused, or `isNothing` (the parser's own "nothing here"). */
function garbageRefused<T>(
  what: string,
  parse: (t: string) => T,
  isNothing: (r: T) => boolean,
  inputs: readonly (readonly [string, string])[] = GARBAGE,
): number {
  for (const [label, text] of inputs)
    refusedOrRead(`${what} (${label})`, text, parse, (r) => assert.ok(isNothing(r), `read a value from garbage: ${JSON.stringify(r)}`));
  return inputs.length;
}

/** Random noise lines between the real ones: the same values as the clean output, or fewer, never others. */
function spliced(text: string, seed: number): string {
  const random = prng(seed);
  return linesOf(text)
    .map((line) => (random() < 0.5 ? `${noiseLine(random)}\n${line}` : line))
    .join('');
}

describe('device output that is not what the parser hoped for', () => {
  describeCases(
    'parseGetprop',
    (() => {
      const text = fixture('virtual-getprop.txt');
      const props = parseGetprop(text);
      const subset = (partial: Record<string, string>) => {
        for (const [key, value] of Object.entries(partial)) assert.equal(value, props[key], `[${key}]`);
      };
      return {
        truncated: () => {
          const points = cutPoints(text);
          for (const cut of points) refusedOrRead(`cut at ${cut}`, text.slice(0, cut), parseGetprop, subset);
          // a cut value ("[v6lab Ref") never stands as the whole one
          assert.equal(parseGetprop('[a]: [1]\n[ro.product.model]: [v6lab Ref').a, '1');
          assert.equal(parseGetprop('[a]: [1]\n[ro.product.model]: [v6lab Ref')['ro.product.model'], undefined);
          return points.length;
        },
        reordered: () => {
          for (const seed of [1, 2, 3]) assert.deepEqual(parseGetprop(shuffled(linesOf(text), prng(seed)).join('')), props);
          return 3;
        },
        localised: () => {
          for (const error of LOCALISED_ERRORS) assert.throws(() => parseGetprop(error), DeviceOutputError);
          // a localised value is kept as printed, never read as a number
          assert.deepEqual(parseGetprop('[persist.sys.locale]: [de-DE]\n[ro.x.ratio]: [1,5]\n'), { 'persist.sys.locale': 'de-DE', 'ro.x.ratio': '1,5' });
          return LOCALISED_ERRORS.length + 1;
        },
        garbage: () => {
          const n = garbageRefused('getprop', parseGetprop, (r) => Object.keys(r).length === 0);
          for (const seed of [11, 12]) refusedOrRead('noise lines', spliced(text, seed), parseGetprop, (r) => assert.deepEqual(r, props));
          return n + 2;
        },
      };
    })(),
  );

  describeCases(
    'parseIpAddr (ip -o addr show)',
    (() => {
      const text = fixture('virtual-ip-o-addr-show.txt');
      const flat = (t: string) => parseIpAddr(t).flatMap((i) => i.addresses.map((a) => ({ index: i.index, name: i.name, ...a })));
      const full = flat(text);
      return {
        truncated: () => {
          const points = cutPoints(text);
          for (const cut of points) refusedOrRead(`cut at ${cut}`, text.slice(0, cut), flat, onlyFrom(full));
          // the brief's example: a cut IPv6 address that is still valid text is not an address
          const lo = linesOf(text)[0]!;
          assert.deepEqual(parseIpAddr(`${lo}2: rmnet_data0    inet6 2001:db8:739f:0:4048:4fd2:1d6c:f9`), parseIpAddr(lo));
          // output that is only a cut line is refused, not read as a handset without addresses
          assert.throws(() => parseIpAddr('2: rmnet_data0    inet6 2001:db8:739f:0:4048:4fd2:1d6c:f9'), DeviceOutputError);
          return points.length + 2;
        },
        reordered: () => {
          for (const seed of [1, 2, 3]) assert.deepEqual(sortedJson(flat(shuffled(linesOf(text), prng(seed)).join(''))), sortedJson(full));
          return 3;
        },
        localised: () => {
          for (const error of [...LOCALISED_ERRORS, 'Cannot find device "rmnet_data0"\n', 'Gerät "rmnet_data0" nicht gefunden\n']) {
            refusedOrRead('error', error, flat, (r) => assert.deepEqual(r, []));
          }
          // a comma-separated IPv4 address (a locale's number format) is not 192.168.1.2
          refusedOrRead('comma', '4: wlan0    inet 192,168,1,2/24 scope global wlan0\\       valid_lft forever preferred_lft forever\n', flat, (r) =>
            assert.deepEqual(r, []),
          );
          return LOCALISED_ERRORS.length + 3;
        },
        garbage: () => {
          const n = garbageRefused('ip -o addr', flat, (r) => r.length === 0);
          for (const seed of [11, 12]) refusedOrRead('noise lines', spliced(text, seed), flat, (r) => assert.deepEqual(r, full));
          return n + 2;
        },
      };
    })(),
  );

  describeCases(
    'parseIpRoute (ip -6 route, ip -4 route, table all)',
    (() => {
      const sources = [
        ['virtual-ip-6-route.txt', 6],
        ['virtual-ip-4-route.txt', 4],
        ['virtual-ip-route-show-table-all.txt', undefined],
      ] as const;
      return {
        truncated: () => {
          let n = 0;
          for (const [name, family] of sources) {
            const text = fixture(name);
            const full = parseIpRoute(text, family);
            for (const cut of cutPoints(text))
              n += refusedOrRead(`${name} cut at ${cut}`, text.slice(0, cut), (t) => parseIpRoute(t, family), onlyFrom(full)) ? 1 : 0;
          }
          // "metric 1024" cut to "metric 10" is never a metric of 10
          // output that is only a cut line is refused, not read as an empty table
          assert.throws(() => parseIpRoute('default via fe80::1 dev rmnet_data0 proto ra metric 10', 6), DeviceOutputError);
          return n + 1;
        },
        reordered: () => {
          for (const [name, family] of sources) {
            const text = fixture(name);
            for (const seed of [1, 2])
              assert.deepEqual(sortedJson(parseIpRoute(shuffled(linesOf(text), prng(seed)).join(''), family)), sortedJson(parseIpRoute(text, family)));
          }
          // keywords in another order are the same route
          assert.deepEqual(
            parseIpRoute('default metric 1024 proto ra dev rmnet_data0 via fe80::1\n', 6),
            parseIpRoute('default via fe80::1 dev rmnet_data0 proto ra metric 1024\n', 6),
          );
          return sources.length * 2 + 1;
        },
        localised: () => {
          for (const error of [...LOCALISED_ERRORS, 'RTNETLINK-Antwort: Keine Berechtigung\n'])
            refusedOrRead(
              'error',
              error,
              (t) => parseIpRoute(t, 6),
              (r) => assert.deepEqual(r, []),
            );
          // a metric or MTU in a locale's number format is not read as 1
          for (const line of ['default via fe80::1 dev rmnet_data0 metric 1,024\n', 'default dev v4-rmnet_data0 mtu 1.472\n']) {
            refusedOrRead(
              line,
              line,
              (t) => parseIpRoute(t, 6),
              (r) => assert.deepEqual(r, []),
            );
          }
          return LOCALISED_ERRORS.length + 3;
        },
        garbage: () => {
          const n = garbageRefused(
            'ip route',
            (t) => parseIpRoute(t, 6),
            (r) => r.length === 0,
          );
          const text = fixture('virtual-ip-route-show-table-all.txt');
          for (const seed of [11, 12])
            refusedOrRead(
              'noise lines',
              spliced(text, seed),
              (t) => parseIpRoute(t),
              (r) => assert.deepEqual(r, parseIpRoute(text)),
            );
          return n + 2;
        },
      };
    })(),
  );

  describeCases(
    'parseIfInet6 (/proc/net/if_inet6)',
    (() => {
      const text = fixture('virtual-proc-net-if_inet6.txt');
      const full = parseIfInet6(text);
      return {
        truncated: () => {
          const points = cutPoints(text);
          for (const cut of points) refusedOrRead(`cut at ${cut}`, text.slice(0, cut), parseIfInet6, onlyFrom(full));
          // output that is only a cut line ("rmnet_da") is refused, not read as no address
          assert.throws(() => parseIfInet6('20010db8739f000040484fd21d6cf911 02 40 00 01 rmnet_da'), DeviceOutputError);
          return points.length + 1;
        },
        reordered: () => {
          for (const seed of [1, 2, 3]) assert.deepEqual(sortedJson(parseIfInet6(shuffled(linesOf(text), prng(seed)).join(''))), sortedJson(full));
          return 3;
        },
        localised: () => {
          for (const error of LOCALISED_ERRORS) refusedOrRead('error', error, parseIfInet6, (r) => assert.deepEqual(r, []));
          return LOCALISED_ERRORS.length;
        },
        garbage: () => {
          const n = garbageRefused('if_inet6', parseIfInet6, (r) => r.length === 0);
          for (const seed of [11, 12]) refusedOrRead('noise lines', spliced(text, seed), parseIfInet6, (r) => assert.deepEqual(r, full));
          // 31 hex digits (one lost) is no address, even with every other column in place
          refusedOrRead('short address', '20010db8739f000040484fd21d6cf91 02 40 00 01 rmnet_data0\n', parseIfInet6, (r) => assert.deepEqual(r, []));
          return n + 3;
        },
      };
    })(),
  );

  describeCases(
    'parseProcNetSockets (/proc/net/tcp, tcp6, udp, udp6)',
    (() => {
      const tables = [
        ['virtual-proc-net-tcp6.txt', 6, 'tcp'],
        ['handmade-proc-net-tcp.txt', 4, 'tcp'],
        ['handmade-proc-net-tcp6.txt', 6, 'tcp'],
        ['virtual-proc-net-udp6.txt', 6, 'udp'],
        ['virtual-proc-net-udp.txt', 4, 'udp'],
      ] as const;
      return {
        truncated: () => {
          let n = 0;
          for (const [name, family, transport] of tables) {
            const text = fixture(name);
            const parse = (t: string) => parseProcNetSockets(t, family, transport);
            const full = parse(text);
            for (const cut of cutPoints(text)) n += refusedOrRead(`${name} cut at ${cut}`, text.slice(0, cut), parse, onlyFrom(full)) ? 1 : 0;
            // Half a row ended by a newline (a writer that ends what it cut): the whole socket or
            // none, never one with a made-up uid or inode.
            const [header, ...rows] = linesOf(text);
            for (const row of rows) {
              for (let cut = 1; cut < row.trimEnd().length; cut++, n++) {
                refusedOrRead(`${name} row cut at ${cut}`, `${header}${row.slice(0, cut)}\n`, parse, (r) => {
                  assert.ok(
                    r.length === 0 || (r.length === 1 && full.some((s) => JSON.stringify(s) === JSON.stringify(r[0]))),
                    `half a row read as ${JSON.stringify(r)}`,
                  );
                });
              }
            }
          }
          return n;
        },
        reordered: () => {
          const text = fixture('virtual-proc-net-tcp6.txt');
          const parse = (t: string) => parseProcNetSockets(t, 6, 'tcp');
          const [header, ...rows] = linesOf(text);
          for (const seed of [1, 2, 3]) {
            // rows in another order: the same sockets
            assert.deepEqual(sortedJson(parse(header + shuffled(rows, prng(seed)).join(''))), sortedJson(parse(text)));
            // the header moved among the rows: the rows above it are not read by guessed columns
            refusedOrRead(`seed ${seed}`, shuffled(linesOf(text), prng(seed)).join(''), parse, onlyFrom(parse(text)));
          }
          // columns found by the header's names: a header with uid and inode swapped swaps them
          const swapped = header!.replace('uid  timeout inode', 'inode  timeout uid');
          assert.deepEqual(
            parse(swapped + rows.join('')).map((s) => [s.uid, s.inode]),
            parse(text).map((s) => [s.inode, s.uid]),
          );
          return 7;
        },
        localised: () => {
          for (const error of LOCALISED_ERRORS) assert.throws(() => parseProcNetSockets(error, 6, 'tcp'), DeviceOutputError);
          return LOCALISED_ERRORS.length;
        },
        garbage: () => {
          const n = garbageRefused(
            '/proc/net/tcp6',
            (t) => parseProcNetSockets(t, 6, 'tcp'),
            (r) => r.length === 0,
          );
          const text = fixture('virtual-proc-net-tcp6.txt');
          const [header, ...rows] = linesOf(text);
          for (const seed of [11, 12]) {
            refusedOrRead(
              'noise lines',
              header + spliced(rows.join(''), seed),
              (t) => parseProcNetSockets(t, 6, 'tcp'),
              (r) => assert.deepEqual(r, parseProcNetSockets(text, 6, 'tcp')),
            );
          }
          return n + 2;
        },
      };
    })(),
  );

  describeCases(
    'parseLinkProperties',
    (() => {
      const text = fixture('linkproperties-dtag.txt').trim();
      const lp = parseLinkProperties(text);
      return {
        truncated: () => {
          const points = cutPoints(text);
          // one line: its cuts are at 25/50/90 % and inside the last token (the closing braces)
          for (const cut of points) assert.throws(() => parseLinkProperties(text.slice(0, cut)), DeviceOutputError, `cut at ${cut}`);
          // "Nat64Prefix: 64:ff9b::/96" cut to "/9" inside balanced braces: a prefix Android cannot hold (it takes only /96)
          const cutPrefix = parseLinkProperties('{InterfaceName: rmnet16 LinkAddresses: [ ] Routes: [ ] Nat64Prefix: 64:ff9b::/9}');
          assert.equal(cutPrefix.nat64Prefix, null);
          return points.length + 1;
        },
        reordered: () => {
          // the keys in another order: the same LinkProperties
          const keys = ['InterfaceName', 'LinkAddresses', 'DnsAddresses', 'Domains', 'MTU', 'TcpBufferSizes', 'Routes', 'Nat64Prefix'];
          const body = text.slice(0, text.indexOf(' Stacked: '));
          const parts = keys.map((key, i) => body.slice(body.indexOf(`${key}: `), i + 1 < keys.length ? body.indexOf(` ${keys[i + 1]}: `) : undefined).trim());
          for (const seed of [1, 2, 3]) {
            const reordered = `{${shuffled(parts, prng(seed)).join(' ')}${text.slice(text.indexOf(' Stacked: '))}`;
            assert.deepEqual(parseLinkProperties(reordered), lp);
          }
          return 3;
        },
        localised: () => {
          for (const error of LOCALISED_ERRORS) assert.throws(() => parseLinkProperties(error), DeviceOutputError);
          // keys in another language are not keys; an MTU with a thousands separator is no MTU
          assert.throws(() => parseLinkProperties('{Schnittstelle: rmnet16 Adressen: [ 2001:db8::1/64 ]}'), DeviceOutputError);
          assert.equal(parseLinkProperties('{InterfaceName: rmnet16 MTU: 1.500 Routes: [ ]}').mtu, null);
          assert.equal(parseLinkProperties('{InterfaceName: rmnet16 MTU: 1,500 Routes: [ ]}').mtu, null);
          return LOCALISED_ERRORS.length + 3;
        },
        garbage: () => {
          const n = garbageRefused('LinkProperties', parseLinkProperties, () => false);
          // garbage inside the braces: only what parses is kept
          const garbled = parseLinkProperties(
            '{InterfaceName: rmnet16 LinkAddresses: [ 2001:db8::zz/64,2001:db8::1/640,2001:db8::1/64 ] DnsAddresses: [ /not-an-address,/2001:db8::53 ] Routes: [ ::/0 -> \u0000 \u00ff rmnet16 mtu x,::/0 -> fe80::1 rmnet16 mtu 0 ] Nat64Prefix: 64:ff9b::/96x}',
          );
          assert.deepEqual(
            [garbled.linkAddresses, garbled.dnsAddresses, garbled.routes.map((r) => r.gateway), garbled.nat64Prefix],
            [[{ address: '2001:db8::1', prefixLength: 64 }], ['2001:db8::53'], ['fe80::1'], null],
          );
          return n + 1;
        },
      };
    })(),
  );

  describeCases(
    'parseDumpsysConnectivity',
    (() => {
      const text = fixture('virtual-dumpsys-connectivity.txt');
      const dump = parseDumpsysConnectivity(text);
      /** Each network is the complete one (its CLAT line may not have come yet); the default network agrees. */
      const partOf = (full: DumpsysConnectivity) => (partial: DumpsysConnectivity) => {
        assert.ok(partial.defaultNetId === null || partial.defaultNetId === full.defaultNetId, `defaultNetId ${partial.defaultNetId}`);
        const known = new Set(full.networks.flatMap((n) => [JSON.stringify(n), JSON.stringify({ ...n, clat: null })]));
        for (const n of partial.networks) assert.ok(known.has(JSON.stringify(n)), `not a network of the complete dump: ${JSON.stringify(n)}`);
      };
      // A second network, Wi-Fi, with a CLAT line of its own under it (hand-made from the fixture's lines).
      const wifiAgent =
        '  NetworkAgentInfo{network{101}  ni{WIFI CONNECTED}  lp{{InterfaceName: wlan0 LinkAddresses: [ 2001:db8:739f:1:b552:de99:9fee:c03/64 ] Routes: [ ::/0 -> fe80::1 wlan0 mtu 0 ]}}  nc{[ Transports: WIFI Capabilities: INTERNET]}}\n' +
        '    CLAT tracker: iface: wlan0 (4), v4iface: v4-wlan0 (14), v4: /192.0.0.5, v6: /2001:db8:739f:1::464, pfx96: /2001:db8:6464::, pid: 77, cookie: 2\n';
      return {
        truncated: () => {
          const points = cutPoints(text);
          for (const cut of points) refusedOrRead(`cut at ${cut}`, text.slice(0, cut), parseDumpsysConnectivity, partOf(dump));
          // dumpsys' own deadline: it ends the cut line with a newline, prints its notice and exits 0.
          // A CLAT tracker cut inside "v6: /2001:db8:739f:0:4f1c:4c1:503f:9128" still reads as an
          // address, "pid: 0" cut would be another pid: the cut dump is refused as one.
          for (const cut of points) {
            assert.throws(
              () => parseDumpsysConnectivity(text.slice(0, cut) + dumpTimeout('connectivity')),
              (e: unknown) => e instanceof DeviceOutputError && /DUMP TIMEOUT/.test(e.message),
              `cut at ${cut}`,
            );
          }
          return points.length * 2;
        },
        reordered: () => {
          // the default network's line after the networks block instead of before it
          const [active, blank, ...rest] = linesOf(text);
          assert.deepEqual(parseDumpsysConnectivity([...rest, blank, active].join('')), dump);
          // two networks' blocks swapped: each keeps its own CLAT line, none takes the other's
          const [header, mobileAgent, mobileClat] = rest;
          const two = parseDumpsysConnectivity(`${header}${mobileAgent}${mobileClat}${wifiAgent}`);
          const swapped = parseDumpsysConnectivity(`${header}${wifiAgent}${mobileAgent}${mobileClat}`);
          assert.deepEqual(sortedJson(swapped.networks), sortedJson(two.networks));
          assert.deepEqual(
            swapped.networks.map((n) => [n.type, n.clat?.iface, n.clat?.pfx96]),
            [
              ['WIFI', 'wlan0', '2001:db8:6464::'],
              ['MOBILE', 'rmnet_data0', '64:ff9b::'],
            ],
          );
          // lines shuffled: the networks are the complete ones or none
          for (const seed of [1, 2, 3]) refusedOrRead(`seed ${seed}`, shuffled(linesOf(text), prng(seed)).join(''), parseDumpsysConnectivity, partOf(dump));
          return 5;
        },
        localised: () => {
          for (const error of LOCALISED_ERRORS) assert.throws(() => parseDumpsysConnectivity(error), DeviceOutputError);
          // "none" in another language is no netId
          assert.equal(parseDumpsysConnectivity(text.replace('Active default network: 100', 'Active default network: keins')).defaultNetId, null);
          return LOCALISED_ERRORS.length + 1;
        },
        garbage: () => {
          const n = garbageRefused('dumpsys connectivity', parseDumpsysConnectivity, () => false);
          for (const seed of [11, 12]) refusedOrRead('noise lines', spliced(text, seed), parseDumpsysConnectivity, partOf(dump));
          // "Error with service ... while dumping" (system_server died mid-dump): refused like a timeout
          assert.throws(
            () => parseDumpsysConnectivity(`${text.slice(0, text.indexOf('    CLAT'))}Error with service 'connectivity' while dumping: DEAD_OBJECT\n`),
            DeviceOutputError,
          );
          return n + 3;
        },
      };
    })(),
  );

  describeCases(
    'parseContentRows (content query)',
    (() => {
      const text = fixture('virtual-content-query-carriers.txt');
      const rows = parseContentRows(text) as ContentRow[];
      const denied = fixture('virtual-content-query-preferapn-denied.txt');
      /** A prefix of the rows, or a refusal whose message is a line of the input. */
      const partOf = (input: string) => (result: ContentRow[] | ReturnType<typeof parseContentRows>) => {
        if (isContentDenied(result))
          assert.ok(
            input.split('\n').some((l) => l.trim() === result.message),
            `message not in the input: ${result.message}`,
          );
        else onlyFrom(rows)(result);
      };
      return {
        truncated: () => {
          let n = 0;
          for (const input of [text, denied]) {
            for (const cut of cutPoints(input)) n += refusedOrRead(`cut at ${cut}`, input.slice(0, cut), parseContentRows, partOf(input.slice(0, cut))) ? 1 : 0;
          }
          // "protocol=IPV4V6" cut to "protocol=IPV4" in the last line is no row
          assert.deepEqual(parseContentRows(`${linesOf(text)[0]}${linesOf(text)[1]!.slice(0, linesOf(text)[1]!.indexOf('V6,') + 1)}`), [rows[0]]);
          return n + 1;
        },
        reordered: () => {
          for (const seed of [1, 2])
            assert.deepEqual(sortedJson(parseContentRows(shuffled(linesOf(text), prng(seed)).join('')) as ContentRow[]), sortedJson(rows));
          // the exception before its "Error while accessing" line: still a refusal
          assert.ok(isContentDenied(parseContentRows(linesOf(denied).reverse().join(''))));
          return 3;
        },
        localised: () => {
          // a refusal in another language: a refusal with the device's own words, or refused as output
          for (const error of LOCALISED_ERRORS)
            refusedOrRead('error', error, parseContentRows, (r) => {
              assert.ok(isContentDenied(r), `rows from an error: ${JSON.stringify(r)}`);
              partOf(error)(r);
            });
          assert.throws(() => parseContentRows('访问提供程序时出错：telephony\n'), DeviceOutputError);
          return LOCALISED_ERRORS.length + 1;
        },
        garbage: () => {
          const n = garbageRefused('content query', parseContentRows, () => false);
          for (const seed of [11, 12]) refusedOrRead('noise lines', spliced(text, seed), parseContentRows, (r) => assert.deepEqual(r, rows));
          return n + 2;
        },
      };
    })(),
  );

  describeCases(
    'parseDumpsysPackage',
    (() => {
      const text = fixture('virtual-dumpsys-package-com.example.news.txt');
      const pkg = 'com.example.news';
      const info = parseDumpsysPackage(text, pkg)!;
      const parse = (t: string) => parseDumpsysPackage(t, pkg);
      const agrees = (partial: ReturnType<typeof parse>) => {
        if (partial === null) return;
        for (const key of ['userId', 'versionName', 'codePath'] as const) if (partial[key] !== null) assert.equal(partial[key], info[key], key);
      };
      return {
        truncated: () => {
          const points = cutPoints(text);
          for (const cut of points) refusedOrRead(`cut at ${cut}`, text.slice(0, cut), parse, agrees);
          // "userId=10105" cut to "userId=101" by dumpsys' deadline: another app's uid, so refused
          for (const cut of points) {
            assert.throws(
              () => parse(text.slice(0, cut) + dumpTimeout('package')),
              (e: unknown) => e instanceof DeviceOutputError && /DUMP TIMEOUT/.test(e.message),
              `cut at ${cut}`,
            );
          }
          return points.length * 2;
        },
        reordered: () => {
          const [packages, header, ...fields] = linesOf(text);
          for (const seed of [1, 2, 3]) assert.deepEqual(parse([packages, header, ...shuffled(fields, prng(seed))].join('')), info);
          // another package's block first, and a nested block before the package's own lines
          const other = '  Package [com.example.other] (1):\n    userId=10200\n    versionName=9\n';
          assert.deepEqual(parse([packages, other, header, '    User 0: ceDataInode=1\n      userId=99999\n', ...fields].join('')), info);
          return 4;
        },
        localised: () => {
          for (const error of LOCALISED_ERRORS) refusedOrRead('error', error, parse, (r) => assert.equal(r, null));
          // "userId=10,105" is not uid 10
          assert.equal(parse(text.replace('userId=10105', 'userId=10,105'))!.userId, null);
          return LOCALISED_ERRORS.length + 1;
        },
        garbage: () => {
          const n = garbageRefused('dumpsys package', parse, (r) => r === null);
          for (const seed of [11, 12]) refusedOrRead('noise lines', spliced(text, seed), parse, agrees);
          return n + 2;
        },
      };
    })(),
  );

  describeCases(
    'parseSettingsGet',
    (() => {
      const values = [fixture('virtual-settings-get-global-private_dns_mode.txt'), fixture('virtual-settings-get-global-unset.txt')];
      return {
        truncated: () => {
          let n = 0;
          // a value without its newline is a cut one: "opportunistic" cut to "opport" is no mode
          for (const text of values) {
            for (const cut of [0, ...cutPoints(text)]) {
              assert.throws(() => parseSettingsGet(text.slice(0, cut)), DeviceOutputError);
              n++;
            }
          }
          return n;
        },
        reordered: () => {
          // a value and an error in either order: refused, not the first line taken
          for (const text of ['opportunistic\n/system/bin/sh: settings: not found\n', '/system/bin/sh: settings: not found\nopportunistic\n'])
            assert.throws(() => parseSettingsGet(text), DeviceOutputError);
          return 2;
        },
        localised: () => {
          const shaped = LOCALISED_ERRORS.filter((e) => /^(?:\/system\/bin\/sh|java\.lang|Exception occurred)/.test(e) || e.split('\n').length > 2);
          for (const error of shaped) assert.throws(() => parseSettingsGet(error), DeviceOutputError, JSON.stringify(error));
          return shaped.length;
        },
        garbage: () => {
          // one complete line of text is a value as far as anyone can tell (settings hold free text), unless it is the shell's error
          const multiLine = GARBAGE.filter(([, t]) => t.split('\n').length !== 2 || /^\/system\/bin\/sh: /.test(t));
          return garbageRefused('settings get', parseSettingsGet, () => false, multiLine);
        },
      };
    })(),
  );
});

// --- checks ------------------------------------------------------------------------------------

/** What the compliant virtual handset prints, by command. */
const HANDSET: Record<string, RunResult> = {
  content: { output: fixture('virtual-content-query-carriers.txt'), exitCode: 0 },
  cat: { output: '0\n', exitCode: 0 },
  dumpsys: { output: fixture('virtual-dumpsys-connectivity.txt'), exitCode: 0 },
  'ip -o': { output: fixture('virtual-ip-o-addr-show.txt'), exitCode: 0 },
  'ip -6': { output: fixture('virtual-ip-6-route.txt'), exitCode: 0 },
  'ip -4': { output: fixture('virtual-ip-4-route.txt'), exitCode: 0 },
};
const commandOf = (argv: readonly string[]): string => (argv[0] === 'ip' ? `ip ${argv[1]}` : argv[0]!);

/** A device that answers from HANDSET, except for the commands in `replies`. */
class ScriptedDevice implements DeviceBackend {
  ensureAvailable = alwaysPresent('emulator-5554').ensureAvailable;
  watchPresence = alwaysPresent('emulator-5554').watchPresence;
  readonly serial = 'emulator-5554';
  constructor(private readonly replies: Partial<Record<string, RunResult>>) {}

  private reply(argv: readonly string[]): RunResult {
    const command = commandOf(argv);
    // accept_ra=1 where the handset has it: the values observeDevice reads are the real ones
    if (command === 'cat' && argv[1]!.endsWith('/accept_ra') && this.replies.cat === undefined) return { output: '1\n', exitCode: 0 };
    return this.replies[command] ?? HANDSET[command]!;
  }

  async run(argv: readonly string[]): Promise<RunResult> {
    return this.reply(argv);
  }

  async runOk(argv: readonly string[]): Promise<string> {
    const { output, exitCode } = this.reply(argv);
    if (exitCode !== 0) throw new DeviceCommandError(this.serial, argv, exitCode, output, null);
    return output;
  }

  stream(): never {
    throw new Error('not used by observeDevice');
  }

  pull(): never {
    throw new Error('not used by observeDevice');
  }

  push(): never {
    throw new Error('not used by observeDevice');
  }
}

/** Every os and apn check decided from an observation, by check id; the NAT64 one with a prefix the capture agrees on. */
function decideAll(o: Observation): Record<string, CheckOutcome> {
  return {
    'os.apn-protocol': checkApnProtocol(o),
    'os.apn-roaming-protocol': checkApnProtocol(o, 'roaming_protocol'),
    'os.ipv6-enabled': checkIpv6Enabled(o, ['rmnet_data0', 'wlan0']),
    'os.privacy-addresses': checkPrivacyAddresses(o),
    'os.dual-stack-attach': checkDualStackAttach(o),
    'apn.ipv6-only-attach': checkIpv6OnlyAttach(o),
    'apn.clat': checkClat(o),
    'apn.nat64-prefix': checkNat64Prefix(o, ['64:ff9b::/96']),
  };
}

/**
 * Which checks read each command's output (a check that does not read it may pass without it).
 * A `content query` refusal (Permission Denial) is read as one, and os.apn-protocol then infers
 * from the attach, saying so; this handset is IPv6-only, so that inference fails it too.
 */
const READERS: Record<string, readonly string[]> = {
  content: ['os.apn-protocol', 'os.apn-roaming-protocol'],
  cat: ['os.ipv6-enabled'],
  dumpsys: ['apn.ipv6-only-attach', 'apn.nat64-prefix', 'os.dual-stack-attach'],
  'ip -o': ['os.privacy-addresses', 'apn.ipv6-only-attach', 'apn.clat', 'os.dual-stack-attach'],
  'ip -6': ['apn.ipv6-only-attach', 'apn.clat', 'os.dual-stack-attach'],
  'ip -4': ['apn.clat', 'os.dual-stack-attach'],
};

/** A reason that says the device's output could not be read (not a finding about the device). */
const UNREAD = /could not be read|unreadable|complete and in English/;

describe('os and apn checks on output that could not be read', () => {
  it("the compliant handset, read cleanly, passes every check that reads it (so a failure below is the garbage's doing)", async () => {
    const outcomes = decideAll(await observeDevice(new ScriptedDevice({})));
    for (const [check, outcome] of Object.entries(outcomes)) {
      // the handset is on the IPv6-only APN: dual stack fails there for what it is, not for unread output
      if (check === 'os.dual-stack-attach') assert.doesNotMatch(JSON.stringify(outcome.reasons), UNREAD);
      else assert.equal(outcome.status, 'passed', `${check}: ${JSON.stringify(outcome.reasons)}`);
    }
  });

  const failures: [string, RunResult][] = [
    ...GARBAGE.map(([label, output]): [string, RunResult] => [label, { output, exitCode: 0 }]),
    ...LOCALISED_ERRORS.map((output): [string, RunResult] => [`localised: ${output.split('\n')[0]}`, { output, exitCode: 0 }]),
    ['a shell error, exit 127', { output: '/system/bin/sh: dumpsys: inaccessible or not found\n', exitCode: 127 }],
    ['Permission denied, exit 1', { output: 'cat: /proc/sys/net/ipv6/conf/wlan0/disable_ipv6: Permission denied\n', exitCode: 1 }],
    ['the dump timed out', { output: `${fixture('virtual-dumpsys-connectivity.txt').slice(0, 900)}${dumpTimeout('connectivity')}`, exitCode: 0 }],
  ];

  for (const command of Object.keys(READERS)) {
    it(`${command}: garbage output is broken (DeviceOutputError) or fails its checks as unread, never passes them`, async () => {
      let refused = 0;
      let judged = 0;
      // an empty routing table is one (an IPv6-only network without a CLAT has no IPv4 route): not garbage
      const cases =
        command.startsWith('ip -') && command !== 'ip -o' ? failures.filter(([label]) => label !== 'empty' && label !== 'only whitespace') : failures;
      for (const [label, reply] of cases) {
        let observation: Observation;
        try {
          observation = await observeDevice(new ScriptedDevice({ [command]: reply }));
        } catch (error) {
          // thrown out of observeDevice: the harness records the check as broken with this message
          assert.ok(error instanceof DeviceOutputError || error instanceof DeviceCommandError, `${label}: ${String(error)}`);
          refused++;
          continue;
        }
        judged++;
        const outcomes = decideAll(observation);
        for (const check of READERS[command]!) {
          const outcome = outcomes[check]!;
          assert.notEqual(outcome.status, 'passed', `${command} ${label}: ${check} passed: ${JSON.stringify(outcome.evidence)}`);
          assert.ok(
            outcome.reasons.some((r) => UNREAD.test(r.detail)),
            `${command} ${label}: ${check} does not say what could not be read: ${JSON.stringify(outcome.reasons)}`,
          );
        }
      }
      assert.equal(refused + judged, cases.length);
    });
  }

  it('os.ipv6-enabled: a sysctl that is missing, unreadable or not a number fails as unread, naming it', () => {
    const base = { 'rmnet_data0/disable_ipv6': '0', 'rmnet_data0/accept_ra': '2', 'wlan0/disable_ipv6': '0', 'wlan0/accept_ra': '1' };
    assert.equal(checkIpv6Enabled({ sysctls: base } as unknown as Observation, ['rmnet_data0', 'wlan0']).status, 'passed');
    for (const value of [null, undefined, '', '\u0000\u0001', 'O', '0 1', 'Keine Berechtigung', '<html>']) {
      const sysctls = { ...base, 'wlan0/disable_ipv6': value } as Record<string, string | null>;
      if (value === undefined) delete sysctls['wlan0/disable_ipv6'];
      const outcome = checkIpv6Enabled({ sysctls } as unknown as Observation, ['rmnet_data0', 'wlan0']);
      assert.equal(outcome.status, 'failed', JSON.stringify(value));
      assert.deepEqual(
        outcome.reasons.map((r) => r.code),
        ['SYSCTL_UNREADABLE'],
      );
      assert.match(outcome.reasons[0]!.detail, /wlan0\/disable_ipv6 could not be read/);
    }
    // a finding and an unread value: both said, the finding first
    const both = checkIpv6Enabled({ sysctls: { ...base, 'wlan0/disable_ipv6': '1', 'rmnet_data0/accept_ra': null } } as unknown as Observation, [
      'rmnet_data0',
      'wlan0',
    ]);
    assert.deepEqual(
      both.reasons.map((r) => r.code),
      ['IPV6_DISABLED', 'SYSCTL_UNREADABLE'],
    );
  });

  it('observeDevice reads the sysctls of the cellular interface the handset really has (ccmni0), so ipv6-enabled judges read values', async () => {
    const ccmni = fixture('virtual-ip-o-addr-show.txt').replaceAll('rmnet_data0', 'ccmni0');
    const o = await observeDevice(new ScriptedDevice({ 'ip -o': { output: ccmni, exitCode: 0 } }));
    assert.deepEqual([o.sysctls['ccmni0/disable_ipv6'], o.sysctls['ccmni0/accept_ra']], ['0', '1']);
    assert.equal(checkIpv6Enabled(o, ['ccmni0', 'wlan0']).status, 'passed');
  });

  it("the checks that need LinkProperties fail as unread when dumpsys connectivity failed or the mobile network's lp{} could not be parsed", async () => {
    const clean = await observeDevice(new ScriptedDevice({}));
    const mobile = clean.connectivity!.networks[0]!;
    const noLp: DumpsysConnectivity = { ...clean.connectivity!, networks: [{ ...mobile, linkProperties: null } satisfies NetworkAgent] };
    for (const [label, connectivity] of [
      ['dumpsys connectivity failed', null],
      ['lp{} unreadable', noLp],
    ] as const) {
      const outcomes = decideAll({ ...clean, connectivity });
      for (const check of ['apn.ipv6-only-attach', 'apn.nat64-prefix', 'os.dual-stack-attach']) {
        const outcome = outcomes[check]!;
        assert.equal(outcome.status, 'failed', `${label}: ${check}`);
        assert.ok(
          outcome.reasons.some((r) => r.code === 'CONNECTIVITY_UNREADABLE' && UNREAD.test(r.detail)),
          `${label}: ${check}: ${JSON.stringify(outcome.reasons)}`,
        );
      }
      // what does not rest on dumpsys is still judged
      assert.equal(outcomes['apn.clat']!.status, 'passed');
    }
    // the capture alone does not pass apn.nat64-prefix when LinkProperties went unread
    assert.equal(checkNat64Prefix({ ...clean, connectivity: null }, ['64:ff9b::/96']).status, 'failed');
  });

  it('an empty ip -o addr (no loopback even) is refused, not read as a handset without addresses', async () => {
    for (const output of ['', '\n', '  \n']) {
      await assert.rejects(
        observeDevice(new ScriptedDevice({ 'ip -o': { output, exitCode: 0 } })),
        (e: unknown) => e instanceof DeviceOutputError && /loopback/.test(e.message),
      );
    }
  });
});
