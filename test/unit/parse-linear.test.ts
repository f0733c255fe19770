// Issue 14, "quadratic regexes in device parsers": a phone's output is not trusted, so no line of
// it may make a parser slow. Every parser of Android output is fed hostile text of 100 kB and of
// 1 MB (one long line, twenty lines under the line cap, many short lines) built from the
// characters its patterns would backtrack on, and its time must grow linearly: the ratio of the
// two times is bounded, never a wall-clock time. The output must stay sane: the real lines next to
// the hostile ones read as they read alone, and nothing is read from the hostile ones.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  DeviceOutputError,
  type DumpsysConnectivity,
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
} from '../../lib/device/parse/index.js';
import { MAX_LINE_LENGTH } from '../../lib/device/parse/lines.js';
import { readMarkedOutput, recognizeRefusal } from '../../lib/device/shell.js';

const fixture = (name: string): string => readFileSync(resolve(import.meta.dirname, '../fixtures/android', name), 'utf8');

const SMALL = 100_000;
const LARGE = 1_000_000;
/** Linear growth is 10 from 100 kB to 1 MB, quadratic 100. */
const MAX_GROWTH = 30;
/** Lines of LARGE / 20 characters are under the cap, so their patterns run: the cap alone cannot pass this test. */
const LINES = 20;

/** `unit` repeated to exactly `length` characters. */
const fill = (unit: string, length: number): string => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

/** The hostile part of an input of about `size` characters, one shape of it. */
type Shape = (size: number) => string;
/** One line of `size` characters: over the cap, so skipped. */
const longLine =
  (prefix: string, unit: string, suffix = ''): Shape =>
  (size) =>
    `${prefix}${fill(unit, size)}${suffix}\n`;
/** Twenty lines of size / 20 characters: under the cap (5 kB and 50 kB), so the patterns see them. */
const cappedLines =
  (prefix: string, unit: string, suffix = ''): Shape =>
  (size) =>
    `${prefix}${fill(unit, size / LINES)}${suffix}\n`.repeat(LINES);
/**
 * Lines of about 500 characters until `size` characters: many lines, but not so many tiny ones
 * that the garbage collector's own growth (a million small strings) is what gets measured.
 */
const manyLines =
  (prefix: string, unit: string, suffix = ''): Shape =>
  (size) =>
    `${prefix}${fill(unit, 500)}${suffix}\n`.repeat(Math.ceil(size / 500));

type Outcome = { value: unknown } | { error: DeviceOutputError };

interface ParserCase {
  name: string;
  parse: (text: string) => unknown;
  /** The text around the hostile part. */
  input: (hostile: string) => string;
  shapes: Record<string, Shape>;
  /** Fails when the output read something from the hostile lines. */
  sane: (outcome: Outcome) => void;
}

function outcomeOf(parse: (text: string) => unknown, text: string): Outcome {
  try {
    return { value: parse(text) };
  } catch (error) {
    // a RangeError (stack) or a TypeError is a parser broken by the input, never an answer
    if (!(error instanceof DeviceOutputError)) throw error;
    return { error };
  }
}

function nanoseconds(work: () => void): number {
  const start = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - start);
}

/**
 * time(1 MB) / time(100 kB). The small input is timed ten times over (as much text as the large
 * one) and divided, so a fast parser's few microseconds are not all timer noise; the least of
 * five rounds each, as other work on the machine only ever adds time.
 */
function growth(parse: (text: string) => unknown, small: string, large: string): number {
  const run = (text: string) => () => {
    outcomeOf(parse, text);
  };
  run(small)();
  run(large)(); // warm up both sizes: the first call compiles
  const smallTimes: number[] = [];
  const largeTimes: number[] = [];
  for (let round = 0; round < 5; round++) {
    smallTimes.push(
      nanoseconds(() => {
        for (let i = 0; i < 10; i++) run(small)();
      }),
    );
    largeTimes.push(nanoseconds(run(large)));
  }
  return (Math.min(...largeTimes) / Math.min(...smallTimes)) * 10;
}

/** The value of an outcome, or a failure naming the error. */
function parsedValue(outcome: Outcome): unknown {
  if ('error' in outcome) assert.fail(`threw ${outcome.error.message}`);
  return outcome.value;
}

const ipAddr = fixture('virtual-ip-o-addr-show.txt');
const ipRoute = fixture('virtual-ip-6-route.txt');
const ifInet6 = fixture('virtual-proc-net-if_inet6.txt');
const tcp6 = fixture('virtual-proc-net-tcp6.txt');
const getprop = fixture('virtual-getprop.txt');
const carriers = fixture('virtual-content-query-carriers.txt');
const connectivity = fixture('virtual-dumpsys-connectivity.txt');
const packageBlock = 'Packages:\n  Package [com.example.news] (3bc27ba9):\n    userId=10105\n    versionName=1.0\n    codePath=/data/app/com.example.news-1\n';

/** The output on the real lines alone. */
const alone = (parse: (text: string) => unknown, text: string): unknown => parse(text);

// Android stacks a CLAT link on its base link; a hostile one nests them thousands deep.
const stacked: Shape = (size) => {
  const depth = Math.floor(size / LINES / 60);
  return `  NetworkAgentInfo{network{7} lp{${'{InterfaceName: x Stacked: [[ '.repeat(depth)}${' ]]}'.repeat(depth)}}}\n`.repeat(LINES);
};

const cases: ParserCase[] = [
  {
    name: 'parseIpAddr',
    parse: parseIpAddr,
    input: (hostile) => ipAddr + hostile,
    shapes: {
      'a run of @ after the index': longLine('1: ', '@'),
      'runs of a@ under the cap': cappedLines('1: ', 'a@'),
      'runs of @ then inet6': cappedLines('2: x', '@', ' inet6'),
      'runs of spaces': cappedLines('1: a', ' ', 'x'),
      'many index lines': manyLines('1: ', 'a@b@c@d@'),
    },
    sane: (outcome) => assert.deepEqual(parsedValue(outcome), alone(parseIpAddr, ipAddr)),
  },
  {
    name: 'parseIpRoute',
    parse: (text) => parseIpRoute(text, 6),
    input: (hostile) => ipRoute + hostile,
    shapes: {
      'one long line of words': longLine('', 'a '),
      // zz is no destination, so the lines are skipped however they end
      'runs of spaces under the cap': cappedLines('zz', ' ', 'via'),
      'many route-like lines': manyLines('zz', ' via dev proto metric'),
    },
    sane: (outcome) =>
      assert.deepEqual(
        parsedValue(outcome),
        alone((t) => parseIpRoute(t, 6), ipRoute),
      ),
  },
  {
    name: 'parseIfInet6',
    parse: parseIfInet6,
    input: (hostile) => ifInet6 + hostile,
    shapes: {
      'one long run of hex': longLine(`${'0'.repeat(32)} `, '0'),
      'runs of spaces under the cap': cappedLines('', ' ', 'x'),
      'runs of hex under the cap': cappedLines(`${'0'.repeat(32)} `, '0'),
      'a long interface column': cappedLines(`${'0'.repeat(32)} 02 40 00 80 `, 'a ', 'x'),
      'many lines': manyLines(`${'f'.repeat(32)} 0`, ' 0'),
    },
    sane: (outcome) => assert.deepEqual(parsedValue(outcome), alone(parseIfInet6, ifInet6)),
  },
  {
    name: 'parseProcNetSockets',
    parse: (text) => parseProcNetSockets(text, 6, 'tcp'),
    input: (hostile) => tcp6 + hostile,
    shapes: {
      'one long row of fields': longLine('   9: ', '0: '),
      'rows of colons under the cap': cappedLines('   9: ', ':0'),
      'rows of spaces under the cap': cappedLines('   9:', ' ', 'x'),
      'many rows': manyLines('   9:', ' 00:00 00:00 01'),
    },
    sane: (outcome) =>
      assert.deepEqual(
        parsedValue(outcome),
        alone((t) => parseProcNetSockets(t, 6, 'tcp'), tcp6),
      ),
  },
  {
    name: 'parseProcNetSockets header',
    parse: (text) => parseProcNetSockets(text, 6, 'tcp'),
    input: (hostile) => hostile,
    shapes: {
      'one long line of spaces': longLine('', ' ', 'sl local_address'),
      'lines of spaces under the cap': cappedLines('', ' ', 'sl'),
    },
    // no header line: the structure is missing, and that is what it says
    sane: (outcome) => assert.ok('error' in outcome && /no "sl local_address/.test(outcome.error.reason)),
  },
  {
    name: 'parseGetprop',
    parse: parseGetprop,
    input: (hostile) => getprop + hostile,
    shapes: {
      'one long run of [': longLine('', '['),
      'a value of ] under the cap': cappedLines('[a]: [', ']', 'x'),
      'keys of [ under the cap': cappedLines('[', '[', ']: [x'),
      'many unclosed values': manyLines('[b]: [', 'x['),
    },
    sane: (outcome) => {
      const props = parsedValue(outcome) as Record<string, string>;
      const real = alone(parseGetprop, getprop) as Record<string, string>;
      for (const [key, value] of Object.entries(real)) assert.equal(props[key], value, key);
      // the hostile keys are a, b and [[[...: none of them closed its value on a line of its own
      assert.deepEqual(Object.keys(props).sort(), Object.keys(real).sort());
    },
  },
  {
    name: 'parseContentRows',
    parse: parseContentRows,
    input: (hostile) => carriers + hostile,
    shapes: {
      'one long row of , a=': longLine('Row: 9 ', ', a='),
      'rows of , a= under the cap': cappedLines('Row: 9 x', ', a='),
      'rows of , a under the cap': cappedLines('Row: 9 x=', ', a'),
      'many rows': manyLines('Row: 9 x=', ', a=, a'),
    },
    sane: (outcome) => {
      const rows = parsedValue(outcome) as Record<string, string | null>[];
      const real = alone(parseContentRows, carriers) as Record<string, string | null>[];
      assert.deepEqual(rows.slice(0, real.length), real);
      // a hostile row read whole is what the device printed: its columns are x and a, holding only its own text
      for (const row of rows.slice(real.length)) {
        for (const [key, value] of Object.entries(row)) {
          assert.ok(['x', 'a'].includes(key), key);
          assert.match(value ?? '', /^[, a=]*$/);
        }
      }
    },
  },
  {
    name: 'parseDumpsysPackage',
    parse: (text) => parseDumpsysPackage(text, 'com.example.news'),
    input: (hostile) => packageBlock + hostile,
    shapes: {
      'one long userId': longLine('    userId=', '1'),
      'values under the cap': cappedLines('    versionName=', '=1'),
      'dump notices under the cap': cappedLines('    ', "*** SERVICE '"),
      'many lines': manyLines('    codePath=', '/x'),
    },
    sane: (outcome) => assert.deepEqual(parsedValue(outcome), { userId: 10105, versionName: '1.0', codePath: '/data/app/com.example.news-1' }),
  },
  {
    name: 'parseDumpsysConnectivity',
    parse: parseDumpsysConnectivity,
    input: (hostile) => connectivity + hostile,
    shapes: {
      'one long NetworkAgentInfo of letters': longLine('  NetworkAgentInfo{', 'a', '}'),
      'NetworkAgentInfo of letters under the cap': cappedLines('  NetworkAgentInfo{', 'a', '}'),
      'Android 9 ni{} of ", extra: "': cappedLines('  NetworkAgentInfo{ni{[type: A, state: B/C, reason: ', ', extra: ', ']}}'),
      'LinkProperties of keys': cappedLines('  NetworkAgentInfo{lp{{InterfaceName: x', ' A: ', '}}}'),
      'LinkProperties of [': cappedLines('  NetworkAgentInfo{lp{{InterfaceName: x A: ', '[', '}}}'),
      'stacked links nested deep': stacked,
      'CLAT tracker lines': cappedLines('    CLAT tracker: iface', ', a: '),
      'many lines': manyLines('  NetworkAgentInfo{', 'a{b{c}}', '}'),
    },
    sane: (outcome) => {
      const parsed = parsedValue(outcome) as DumpsysConnectivity;
      const real = alone(parseDumpsysConnectivity, connectivity) as DumpsysConnectivity;
      assert.equal(parsed.defaultNetId, real.defaultNetId);
      assert.deepEqual(parsed.networks.slice(0, real.networks.length), real.networks);
      // a hostile NetworkAgentInfo may be listed, but with nothing read into it
      for (const network of parsed.networks.slice(real.networks.length)) {
        assert.ok(network.netId === null || network.netId === 7, `netId ${network.netId}`);
        assert.deepEqual([network.type, network.extra, network.clat, network.transports], [null, null, null, []]);
        const lp = network.linkProperties;
        assert.deepEqual([lp?.linkAddresses ?? [], lp?.dnsAddresses ?? [], lp?.routes ?? [], lp?.nat64Prefix ?? null], [[], [], [], null]);
      }
    },
  },
  {
    name: 'parseSettingsGet',
    parse: parseSettingsGet,
    input: (hostile) => hostile,
    shapes: {
      // one line is all settings prints: under the cap it is a value, over it an error
      'one long value': (size) => `java.lang.${fill('a', size)}\n`,
      'one value under the cap': (size) => `java.lang.${fill('a', size / LINES)}\n`,
    },
    sane: (outcome) => {
      if ('error' in outcome) assert.match(outcome.error.reason, /longer than the \d+ a value is read to/);
      else assert.match(outcome.value as string, /^java\.lang\.a+$/);
    },
  },
  {
    name: 'recognizeRefusal',
    parse: recognizeRefusal,
    input: (hostile) => hostile,
    shapes: {
      'a run of ": not found x"': (size) => fill(': not found x', size),
      'a run of letters': (size) => fill('a', size),
      'a run of spaces and Permission': (size) => fill(' Permission', size),
    },
    // the first is a refusal, the others are not; none is a security exception
    sane: (outcome) => assert.ok(['not-found', null].includes(parsedValue(outcome) as string | null)),
  },
  {
    name: 'readMarkedOutput',
    parse: (text) => readMarkedOutput(text, '__v6lab_end_0__'),
    input: (hostile) => `${hostile}\n__v6lab_end_0__:0\n`,
    shapes: {
      'a run of markers': (size) => fill('\n__v6lab_end_0__:', size),
      'a run of digits': (size) => fill('1', size),
    },
    sane: (outcome) => assert.equal((parsedValue(outcome) as { exitCode: number }).exitCode, 0),
  },
];

describe('device parsers take time linear in their input (issue 14)', () => {
  for (const c of cases) {
    describe(c.name, () => {
      for (const [shape, hostile] of Object.entries(c.shapes)) {
        it(`${shape}: 1 MB takes less than ${MAX_GROWTH} times 100 kB, and reads nothing from it`, () => {
          const small = c.input(hostile(SMALL));
          const large = c.input(hostile(LARGE));
          c.sane(outcomeOf(c.parse, small));
          c.sane(outcomeOf(c.parse, large));
          const ratio = growth(c.parse, small, large);
          assert.ok(ratio < MAX_GROWTH, `time(1 MB) / time(100 kB) = ${ratio.toFixed(1)}`);
        });
      }
    });
  }

  it('the capped shapes are under the line cap at 1 MB, so they test the patterns and not only the cap', () => {
    assert.ok(LARGE / LINES + 100 < MAX_LINE_LENGTH);
    assert.ok(SMALL > MAX_LINE_LENGTH, 'the long-line shapes must be over the cap at both sizes');
  });

  it('parseLinkProperties refuses a text longer than a line is read to, and reads a deep nesting without overflowing', () => {
    assert.throws(() => parseLinkProperties(`{InterfaceName: ${fill('a', MAX_LINE_LENGTH)}}`), DeviceOutputError);
    const depth = 1000;
    const nested = parseLinkProperties(`${'{InterfaceName: x Stacked: [[ '.repeat(depth)}${' ]]}'.repeat(depth)}`);
    let levels = 0;
    for (let lp = nested.stacked[0]; lp; lp = lp.stacked[0]) levels++;
    assert.ok(levels >= 1 && levels < 10, `${levels} stacked levels read`);
  });
});
