/**
 * v6lab's matchers for expect-webdriverio (`import 'v6lab/expect'`): assertions on the
 * AppJudgement that `browser.v6lab.judgeApp` and `stopCapture` return.
 *
 *   expect(result).toBeIpv6First()          verdict pass, or warn without a fail reason
 *   expect(result).toHaveNoIpv4Literals()   no connection to an IPv4 address the app never looked up
 *   expect(result).toHaveIpv6Share(0.7)     native IPv6 share of the app's bytes at least 0.7
 *   expect(result).toUsePath('clat')        some of the app's bytes took that path
 *
 * Importing the module registers them (expect-webdriverio keeps one `expect` per process, so the
 * runner's global `expect`, `@wdio/globals`' and `expect-webdriverio`'s all get them);
 * `registerV6labMatchers()` registers them again, for a runner that replaced `expect` after the
 * import. A failure names the app, the reason codes, hostnames and addresses of the judgement.
 *
 * No verdict without its evidence: a judgement of a window in which the app sent nothing
 * (inconclusive, NO_TRAFFIC), or a value that is not a judgement at all, fails every matcher in
 * both directions, `.not` included: "nothing was seen" proves neither claim.
 */
import { expect } from 'expect-webdriverio';
import { FLOW_PATHS } from '../analysis/types.js';
import { REASONS } from '../checks/app-verdict.js';
import type { AppJudgement, FlowPath } from '../api/types.js';
import { printableStored } from '../net/printable.js';

declare global {
  namespace ExpectWebdriverIO {
    // The type parameters must repeat expect-webdriverio's declaration exactly to merge with it.
    interface Matchers<R extends void | Promise<void>, T> {
      /** The app is IPv6 first: verdict pass, or warn without a fail reason (an inconclusive judgement fails). */
      toBeIpv6First(): R;
      /** The app connected to no IPv4 address it did not look up (no IPV4_LITERAL). */
      toHaveNoIpv4Literals(): R;
      /** The native IPv6 share of the app's bytes is at least `min` (0 to 1). */
      toHaveIpv6Share(min: number): R;
      /** Some of the app's bytes took `path`: native IPv6, NAT64, the CLAT, or native IPv4. */
      toUsePath(path: FlowPath): R;
    }
  }
}

/** What a matcher returns to expect (Jest's SyncExpectationResult). */
export interface MatcherResult {
  pass: boolean;
  message: () => string;
}

/** The part of Jest's MatcherContext the matchers read. */
interface MatcherThis {
  isNot?: boolean;
}

const VERDICTS: readonly string[] = ['pass', 'warn', 'fail', 'inconclusive'];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

/**
 * Why `actual` is not an AppJudgement, or null when it is one. A cast is not a check: a matcher
 * given a session, a promise or a hand-made object says so instead of reading undefined fields.
 */
export function notAJudgement(actual: unknown): string | null {
  if (actual instanceof Promise || (isObject(actual) && typeof actual.then === 'function')) {
    return 'got a Promise: await browser.v6lab.judgeApp(...) (or stopCapture()) before expect';
  }
  if (!isObject(actual)) return `got ${actual === null ? 'null' : Array.isArray(actual) ? 'an array' : typeof actual}`;
  if (typeof actual.verdict !== 'string' || !VERDICTS.includes(actual.verdict)) return `got an object whose verdict is ${JSON.stringify(actual.verdict)}`;
  if (!isObject(actual.app)) return 'got an object without app';
  if (!Array.isArray(actual.reasons)) return 'got an object without reasons';
  for (const [i, reason] of actual.reasons.entries()) {
    if (!isObject(reason) || typeof reason.code !== 'string' || !isStringArray(reason.hostnames) || !isStringArray(reason.addresses)) {
      return `got an object whose reasons[${i}] is not a reason (code, detail, hostnames, addresses)`;
    }
  }
  const metrics = actual.metrics;
  if (!isObject(metrics)) return 'got an object without metrics';
  if (typeof metrics.bytes !== 'number' || typeof metrics.flows !== 'number') return 'got an object without metrics.bytes and metrics.flows';
  if (metrics.nativeV6ByteShare !== null && typeof metrics.nativeV6ByteShare !== 'number')
    return 'got an object whose metrics.nativeV6ByteShare is not a number or null';
  if (!isObject(metrics.bytesByPath)) return 'got an object without metrics.bytesByPath';
  if (!isStringArray(metrics.hostnames) || !isStringArray(metrics.ipv4Literals)) return 'got an object without metrics.hostnames and metrics.ipv4Literals';
  return null;
}

const percent = (share: number): string => `${Math.round(share * 1000) / 10}%`;
const list = (items: readonly string[]): string => (items.length === 0 ? 'none' : items.join(', '));

function appName(j: AppJudgement): string {
  if (j.app.package !== null) return j.app.package;
  return j.app.uid === null ? 'the app' : `the app of uid ${j.app.uid}`;
}

/** The bytes of each path the app used, most first: `native-v6 10000 B, clat 2000 B`. */
function pathBytes(j: AppJudgement): string {
  const used = FLOW_PATHS.map((path) => [path, j.metrics.bytesByPath[path] ?? 0] as const)
    .filter(([, bytes]) => bytes > 0)
    .sort((a, b) => b[1] - a[1]);
  return used.length === 0 ? 'no bytes' : used.map(([path, bytes]) => `${path} ${bytes} B`).join(', ');
}

/** The judgement in lines a developer can act on: reasons with their hostnames and addresses, paths, evidence. */
/** Lines of the app's own log a matcher's message shows (the judgement has up to 40, its file all). */
const APP_LOG_SHOWN = 10;

/** The app's own log of an inconclusive window, as a matcher's message ends with it; '' without one. */
function describeAppLog(j: AppJudgement): string {
  const appLog = isObject(j.appLog) ? j.appLog : null;
  if (appLog === null || !Array.isArray(appLog.command)) return '';
  const command = appLog.command.join(' ');
  if (typeof appLog.error === 'string' || typeof appLog.file !== 'string') return `\n  the app's log (${command}) could not be read: ${String(appLog.error)}`;
  const tail = isStringArray(appLog.tail) ? appLog.tail.slice(-APP_LOG_SHOWN) : [];
  return `\n  the app's log (${command}), last ${tail.length} of ${String(appLog.lines)} lines, whole in ${appLog.file}:${tail.map((l) => `\n    ${printableStored(l)}`).join('')}`;
}

export function describeJudgement(j: AppJudgement): string {
  const lines = [`${appName(j)}: verdict ${j.verdict}`];
  for (const r of j.reasons) {
    const about = [r.hostnames.length > 0 ? `hostnames ${r.hostnames.join(', ')}` : '', r.addresses.length > 0 ? `addresses ${r.addresses.join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
    lines.push(`  ${r.code}: ${typeof r.detail === 'string' ? r.detail : ''}${about === '' ? '' : ` (${about})`}`);
  }
  const share = j.metrics.nativeV6ByteShare;
  lines.push(`  paths: ${pathBytes(j)}; native IPv6 share ${share === null ? 'none (no bytes)' : percent(share)}`);
  lines.push(`  hostnames: ${list(j.metrics.hostnames)}; IPv4 literals: ${list(j.metrics.ipv4Literals)}`);
  const pcap = isObject(j.evidence) && typeof j.evidence.pcap === 'string' ? j.evidence.pcap : null;
  if (pcap !== null) lines.push(`  evidence: ${pcap}`);
  return lines.join('\n');
}

/** The app sent nothing the capture saw: neither a claim nor its negation is shown. */
const withoutEvidence = (j: AppJudgement): boolean => j.verdict === 'inconclusive' || j.metrics.flows === 0;

/**
 * A result that fails in both directions: `pass` is what makes expect fail whether or not the
 * assertion was negated (expect fails on `pass === isNot`).
 */
function failsBothWays(context: MatcherThis, message: string): MatcherResult {
  return { pass: context.isNot === true, message: () => message };
}

/** Runs `judge` on a checked judgement; a non-judgement or a judgement without evidence fails both ways. */
function onJudgement(context: MatcherThis, matcher: string, actual: unknown, judge: (j: AppJudgement) => MatcherResult): MatcherResult {
  const problem = notAJudgement(actual);
  if (problem !== null) {
    return failsBothWays(context, `${matcher}: expected a v6lab judgement (what browser.v6lab.judgeApp and stopCapture return), ${problem}`);
  }
  const j = actual as AppJudgement;
  if (withoutEvidence(j)) {
    const partial = j.reasons.some((r) => r.code === 'CAPTURE_INCOMPLETE');
    const dropped = j.reasons.find((r) => r.code === 'CAPTURE_DROPPED');
    if (dropped !== undefined)
      return failsBothWays(context, `${matcher}: no evidence either way: ${dropped.detail} (CAPTURE_DROPPED)\n${describeJudgement(j)}`);
    return failsBothWays(
      context,
      partial && j.metrics.flows > 0
        ? `${matcher}: no evidence either way: the capture of ${appName(j)} was analysed in part (CAPTURE_INCOMPLETE: past its memory bound, later flows were not listed); shorten the capture window, or judge its pcap with v6lab analyze --app-uid UID --max-memory MIB\n${describeJudgement(j)}`
        : `${matcher}: no evidence either way: ${appName(j)} sent nothing in the capture window (NO_TRAFFIC); check that the steps start the app and wait for its traffic\n${describeJudgement(j)}${describeAppLog(j)}`,
    );
  }
  return judge(j);
}

function toBeIpv6First(this: MatcherThis, actual: unknown): MatcherResult {
  return onJudgement(this, 'toBeIpv6First', actual, (j) => {
    const failReasons = j.reasons.filter((r) => REASONS[r.code] === 'fail');
    const pass = (j.verdict === 'pass' || j.verdict === 'warn') && failReasons.length === 0;
    return {
      pass,
      message: () =>
        pass
          ? `expected ${appName(j)} not to be IPv6 first, but its verdict is ${j.verdict}\n${describeJudgement(j)}`
          : `expected ${appName(j)} to be IPv6 first, but its verdict is ${j.verdict} (${list(failReasons.map((r) => r.code))})\n${describeJudgement(j)}`,
    };
  });
}

function toHaveNoIpv4Literals(this: MatcherThis, actual: unknown): MatcherResult {
  return onJudgement(this, 'toHaveNoIpv4Literals', actual, (j) => {
    const literalReasons = j.reasons.filter((r) => r.code === 'IPV4_LITERAL');
    const literals = [...new Set([...j.metrics.ipv4Literals, ...literalReasons.flatMap((r) => r.addresses)])];
    const hostnames = [...new Set(literalReasons.flatMap((r) => r.hostnames))];
    const pass = literals.length === 0 && literalReasons.length === 0;
    return {
      pass,
      message: () =>
        pass
          ? `expected ${appName(j)} to connect to an IPv4 literal, found none\n${describeJudgement(j)}`
          : `expected ${appName(j)} to connect to no IPv4 literals, found ${list(literals)} (IPV4_LITERAL${hostnames.length > 0 ? `; hostnames ${hostnames.join(', ')}` : ''})\n${describeJudgement(j)}`,
    };
  });
}

function toHaveIpv6Share(this: MatcherThis, actual: unknown, min: unknown): MatcherResult {
  // A wrong argument is the test's own mistake: thrown, so it fails with or without .not.
  if (typeof min !== 'number' || !Number.isFinite(min) || min < 0 || min > 1) {
    throw new TypeError(`toHaveIpv6Share(min): min is a share from 0 to 1 (0.7 for 70%), got ${JSON.stringify(min)}`);
  }
  return onJudgement(this, 'toHaveIpv6Share', actual, (j) => {
    const share = j.metrics.nativeV6ByteShare;
    if (share === null) {
      return failsBothWays(this, `toHaveIpv6Share: no evidence either way: ${appName(j)} sent no bytes the capture saw\n${describeJudgement(j)}`);
    }
    const pass = share >= min;
    return {
      pass,
      message: () =>
        `expected ${appName(j)} to have a native IPv6 share ${pass ? 'below' : 'of at least'} ${percent(min)} of its ${j.metrics.bytes} bytes, got ${percent(share)}\n${describeJudgement(j)}`,
    };
  });
}

function toUsePath(this: MatcherThis, actual: unknown, path: unknown): MatcherResult {
  if (typeof path !== 'string' || !(FLOW_PATHS as readonly string[]).includes(path)) {
    throw new TypeError(`toUsePath(path): path is one of ${FLOW_PATHS.join(', ')}, got ${JSON.stringify(path)}`);
  }
  return onJudgement(this, 'toUsePath', actual, (j) => {
    const bytes = j.metrics.bytesByPath[path as FlowPath] ?? 0;
    const pass = bytes > 0;
    return {
      pass,
      message: () =>
        pass
          ? `expected none of ${appName(j)}'s bytes to take the ${path} path, but ${bytes} of ${j.metrics.bytes} did\n${describeJudgement(j)}`
          : `expected some of ${appName(j)}'s bytes to take the ${path} path, but they took ${pathBytes(j)}\n${describeJudgement(j)}`,
    };
  });
}

/** The matchers as expect.extend takes them. */
export const v6labMatchers = { toBeIpv6First, toHaveNoIpv4Literals, toHaveIpv6Share, toUsePath };

/**
 * Registers the matchers with expect-webdriverio's `expect` (shared by every copy of the same
 * major in the process). Importing this module already did; calling it again is harmless.
 */
export function registerV6labMatchers(): void {
  expect.extend(v6labMatchers);
}

registerV6labMatchers();
