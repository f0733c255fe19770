/**
 * An app's verdict on one network from the analysis of its capture window (CONTRACTS.md
 * section 3): the observed facts per hostname, the reasons they force, and the metrics.
 * Pure: which flows are the app's (by socket owner uid, or by time window minus a baseline) is
 * decided before, and passed in.
 */
import { compareHostnames, type CaptureAnalysis, type Flow, type FlowPath } from '../analysis/index.js';
import { embeddedIpv4Text, parseNat64Prefix, type Nat64Prefix } from '../net/address.js';
import { message, type MessagePart, type ReasonMessage } from './messages.js';

export type Verdict = 'pass' | 'warn' | 'fail' | 'inconclusive';

export const REASONS = {
  IPV4_LITERAL: 'fail',
  NO_AAAA_QUERY: 'fail',
  IPV4_FIRST: 'fail',
  SERVER_NO_IPV6: 'warn',
  IPV6_FAILED: 'warn',
  IPV6_STALLED: 'warn',
  SLOW_FALLBACK: 'warn',
  LOW_IPV6_SHARE: 'warn',
  NO_TRAFFIC: 'inconclusive',
  CAPTURE_INCOMPLETE: 'inconclusive',
  CAPTURE_DROPPED: 'inconclusive',
} as const;
export type ReasonCode = keyof typeof REASONS;

export interface Reason {
  code: ReasonCode;
  /** In words a developer can act on (English: `messages` rendered). */
  detail: string;
  /** The detail as messages, for a report in another language (lib/checks/messages.ts). */
  messages: ReasonMessage[];
  hostnames: string[];
  addresses: string[];
  flows: number[];
  /** Seconds since the epoch of what the reason is about, where it has a moment. */
  ts: number[];
}

export interface AppPolicy {
  /** Native IPv6 share of the app's bytes below which LOW_IPV6_SHARE warns. @default 0.70 */
  minNativeIpv6Share: number;
  /** An IPv4 retry later than this after a failed IPv6 attempt is SLOW_FALLBACK. @default 2000 */
  maxFallbackMs: number;
}

export const DEFAULT_POLICY: AppPolicy = { minNativeIpv6Share: 0.7, maxFallbackMs: 2000 };

export interface AppVerdict {
  verdict: Verdict;
  reasons: Reason[];
  metrics: {
    nativeV6ByteShare: number | null;
    bytes: number;
    flows: number;
    bytesByPath: Record<FlowPath, number>;
    hostnames: number;
  };
}

const IPV4_SOCKET: ReadonlySet<FlowPath> = new Set(['clat', 'native-v4']);

/** The app's connections: one socket through the CLAT is one, its IPv6 leg standing for it where both were seen. */
export function appSockets(analysis: CaptureAnalysis, appFlows: ReadonlySet<number>): Flow[] {
  return analysis.flows.filter((f) => appFlows.has(f.id) && f.application !== 'dns' && !(f.twin !== null && f.family === 4 && appFlows.has(f.twin)));
}

/**
 * The names the app used: its flows' names, and names queried in the window that no other
 * traffic used (Android resolves through netd, so DNS has no app uid). RFC 7050's ipv4only.arpa
 * is the OS's, never the app's.
 */
export function appHostnames(analysis: CaptureAnalysis, appFlows: ReadonlySet<number>): Set<string> {
  const otherNames = new Set(analysis.flows.filter((f) => !appFlows.has(f.id) && f.hostname !== null).map((f) => f.hostname!));
  const appNames = new Set(appSockets(analysis, appFlows).flatMap((f) => (f.hostname === null ? [] : [f.hostname])));
  for (const q of analysis.dns) if (!otherNames.has(q.name) || appNames.has(q.name)) appNames.add(q.name);
  appNames.delete('ipv4only.arpa');
  return appNames;
}

/** The socket family a flow's app used: a CLAT flow is an IPv4 socket whatever leg was seen. */
const socketFamily = (f: Flow): 4 | 6 => (IPV4_SOCKET.has(f.path) ? 4 : 6);

/**
 * @param analysis the whole capture window
 * @param appFlows ids of the flows attributed to the app
 */
export function appVerdict(analysis: CaptureAnalysis, appFlows: ReadonlySet<number>, policy: AppPolicy = DEFAULT_POLICY): AppVerdict {
  const flows = appSockets(analysis, appFlows);
  const reasons: Reason[] = [];
  const add = (code: ReasonCode, said: MessagePart, parts: Partial<Omit<Reason, 'code' | 'detail' | 'messages'>> = {}) =>
    reasons.push({
      code,
      detail: said.english,
      messages: [said.message],
      hostnames: parts.hostnames ?? [],
      addresses: parts.addresses ?? [],
      flows: parts.flows ?? [],
      ts: parts.ts ?? [],
    });

  const bytesByPath: Record<FlowPath, number> = { 'native-v6': 0, nat64: 0, clat: 0, 'native-v4': 0 };
  for (const f of flows) bytesByPath[f.path] += f.bytes;
  const bytes = flows.reduce((n, f) => n + f.bytes, 0);
  const nativeV6ByteShare = bytes === 0 ? null : bytesByPath['native-v6'] / bytes;

  const appNames = appHostnames(analysis, appFlows);

  if (flows.length === 0) {
    add('NO_TRAFFIC', message('app.noTraffic', {}));
  }
  // Past its memory bound the analysis lists only what it saw before: an unlisted IPv4 flow would
  // go unseen, so what is listed cannot clear the app (a failure it shows still stands).
  const unlisted = analysis.capture.unlisted ?? null;
  if (unlisted !== null) {
    add(
      'CAPTURE_INCOMPLETE',
      message('app.captureIncomplete', { maxMiB: unlisted.maxMemory / 2 ** 20, atPacket: unlisted.atPacket, packets: unlisted.packets }),
    );
  }

  // Packets the kernel dropped from the capture are missing from it: a lost DNS answer reads as an
  // IPv4 literal, a lost first SYN as IPv6 first (issue 20 saw both). Nothing seen can be trusted,
  // a failure included.
  const dropped = analysis.capture.droppedByKernel ?? 0;
  if (dropped > 0) add('CAPTURE_DROPPED', message('app.captureDropped', { packets: dropped }));

  // IPV4_LITERAL: an IPv4 socket to an address no DNS answer in the window gave.
  const literals = flows.filter((f) => IPV4_SOCKET.has(f.path) && f.hostnameSource !== 'dns');
  const prefixes = analysis.nat64Prefixes.map((p) => parseNat64Prefix(p));
  const literalAddress = (f: Flow) => literalTarget(f, prefixes);
  if (literals.length > 0) {
    add(
      'IPV4_LITERAL',
      // "addresses" when more than one flow, as the English has always said
      message('app.ipv4Literal', { count: literals.length > 1 ? 2 : 1, addresses: [...new Set(literals.map(literalAddress))].join(', ') }),
      {
        addresses: [...new Set(literals.map(literalAddress))],
        flows: literals.map((f) => f.id),
        ts: literals.map((f) => f.firstTs),
        hostnames: [...new Set(literals.flatMap((f) => (f.sni ? [f.sni] : [])))],
      },
    );
  }

  // in the order a person reads them: host2 before host10
  for (const name of [...appNames].sort(compareHostnames)) {
    const queries = analysis.dns.filter((q) => q.name === name);
    const facts = analysis.hostnames.find((h) => h.name === name);
    const attempts = flows.filter((f) => f.hostname === name).sort((a, b) => a.firstTs - b.firstTs);
    const asked = new Set(queries.map((q) => q.qtype));

    if (asked.has('A') && !asked.has('AAAA')) {
      add('NO_AAAA_QUERY', message('app.noAaaaQuery', { host: name }), {
        hostnames: [name],
        ts: queries.map((q) => q.ts),
      });
    }
    const first = attempts[0];
    const firstAaaa = queries
      .filter((q) => q.qtype === 'AAAA' && q.rcode === 'NOERROR' && q.answers.length > 0)
      .map((q) => q.ts)
      .sort((a, b) => a - b)[0];
    if (first && socketFamily(first) === 4 && firstAaaa !== undefined && firstAaaa <= first.firstTs) {
      add('IPV4_FIRST', message('app.ipv4First', { host: name, ms: (first.firstTs - firstAaaa) * 1000 }), {
        hostnames: [name],
        flows: [first.id],
        addresses: [first.server],
        ts: [firstAaaa, first.firstTs],
      });
    }
    // The server side is judged only on an answer seen: an AAAA question answered without a
    // native AAAA. An app that never asked AAAA (wget -4, issue 20) says nothing of the server's
    // records, and a name known only from the TLS SNI neither.
    const aaaaAnswered = queries.some((q) => q.qtype === 'AAAA' && q.rcode !== null);
    if (attempts.length > 0 && aaaaAnswered && facts && facts.nativeAaaa.length === 0) {
      add('SERVER_NO_IPV6', message(facts.synthesizedAaaa.length > 0 ? 'app.serverNoIpv6.nat64' : 'app.serverNoIpv6.ipv4', { host: name }), {
        hostnames: [name],
        addresses: [...facts.a, ...facts.synthesizedAaaa],
      });
    }
    // A failed attempt is a handshake that never completed (no answer, or a reset in reply to the
    // SYN); a reset of an established connection (the app killed at the window's end) is not one.
    const failedV6 = attempts.filter((f) => socketFamily(f) === 6 && f.transport === 'tcp' && f.established === false);
    // A stalled one completed its handshake and the app sent its request, but not one byte came
    // back (a late failure, or a PMTUD blackhole eating every full-sized segment): an IPv6 attempt
    // that failed, not IPv6 that worked. Happy Eyeballs (RFC 8305) does not see it: the app must.
    const stalledV6 = attempts.filter(
      (f) => socketFamily(f) === 6 && f.transport === 'tcp' && f.established === true && f.clientPayloadBytes > 0 && f.serverBytesAcked === 0,
    );
    if (stalledV6.length > 0) {
      add(
        'IPV6_STALLED',
        message('app.ipv6Stalled', { count: stalledV6.length, host: name, servers: [...new Set(stalledV6.map((f) => f.server))].join(', ') }),
        {
          hostnames: [name],
          flows: stalledV6.map((f) => f.id),
          addresses: [...new Set(stalledV6.map((f) => f.server))],
          ts: stalledV6.map((f) => f.firstTs),
        },
      );
    }
    if (failedV6.length > 0) {
      add(
        'IPV6_FAILED',
        message(failedV6.some((f) => f.reset) ? 'app.ipv6Failed.reset' : 'app.ipv6Failed.noAnswer', {
          count: failedV6.length,
          host: name,
          servers: [...new Set(failedV6.map((f) => f.server))].join(', '),
        }),
        {
          hostnames: [name],
          flows: failedV6.map((f) => f.id),
          addresses: [...new Set(failedV6.map((f) => f.server))],
          ts: failedV6.map((f) => f.firstTs),
        },
      );
    }
    const failures = [...failedV6, ...stalledV6].sort((a, b) => a.firstTs - b.firstTs);
    if (failures.length > 0) {
      const failure = failures[0]!;
      // The recovery: the next attempt that did not fail as well (another stalled IPv6 one is none).
      const failed = new Set(failures.map((f) => f.id));
      const next = attempts.find((f) => f.firstTs > failure.firstTs && !failed.has(f.id));
      const delayMs = next ? (next.firstTs - failure.firstTs) * 1000 : null;
      if (delayMs === null || delayMs > policy.maxFallbackMs) {
        add(
          'SLOW_FALLBACK',
          delayMs === null
            ? message('app.slowFallback.never', { host: name })
            : message('app.slowFallback.late', { host: name, ms: delayMs, maxMs: policy.maxFallbackMs }),
          {
            hostnames: [name],
            flows: next ? [failure.id, next.id] : [failure.id],
            ts: next ? [failure.firstTs, next.firstTs] : [failure.firstTs],
          },
        );
      }
    }
  }

  if (nativeV6ByteShare !== null && nativeV6ByteShare < policy.minNativeIpv6Share) {
    add('LOW_IPV6_SHARE', message('app.lowIpv6Share', { percent: nativeV6ByteShare * 100, minPercent: policy.minNativeIpv6Share * 100 }));
  }

  const severities = new Set(reasons.map((r) => REASONS[r.code]));
  // CAPTURE_DROPPED (inconclusive) outranks a failure: what failed may be what was lost.
  const failed = severities.has('fail') && dropped === 0;
  const verdict: Verdict = failed ? 'fail' : severities.has('inconclusive') ? 'inconclusive' : severities.has('warn') ? 'warn' : 'pass';
  return { verdict, reasons, metrics: { nativeV6ByteShare, bytes, flows: flows.length, bytesByPath, hostnames: appNames.size } };
}

/** The IPv4 a literal flow went to: the server, or the IPv4 a CLAT flow's NAT64 server embeds. */
function literalTarget(f: Flow, prefixes: readonly Nat64Prefix[]): string {
  return f.family === 4 ? f.server : (embeddedIpv4Text(f.server, prefixes) ?? f.server);
}

/** An app's verdict over repeated windows (`certify --app-runs N`), each a fresh launch. */
export interface AppRunsVerdict {
  verdict: Verdict;
  reasons: Reason[];
  /** The mean of the runs' native IPv6 shares (the runs that moved bytes); null when none did. */
  ipv6ShareMean: number | null;
}

/** A reason's identity across runs: the same finding about the same hosts and addresses is one finding. */
const findingKey = (r: Reason): string => `${r.code}|${r.hostnames.join(',')}|${r.addresses.join(',')}`;

/**
 * The verdict over every run of an app, as the app IPv6 test practice measures the share over
 * repeated runs: every run's findings count (a run that fails fails the check, a run's warning
 * warns), each finding once (the first run's words) however many runs showed it; a run that saw
 * nothing of the app makes the check inconclusive unless another run failed it (missing evidence
 * is never a pass); and the share is judged on the mean of the runs' shares, not on any one run,
 * so LOW_IPV6_SHARE comes from the mean alone.
 */
export function appRunsVerdict(runs: readonly AppVerdict[], policy: AppPolicy = DEFAULT_POLICY): AppRunsVerdict {
  if (runs.length === 0) throw new RangeError('appRunsVerdict: no runs to judge');
  const reasons: Reason[] = [];
  const seen = new Set<string>();
  const silent = runs.flatMap((run, i) => (run.reasons.some((r) => r.code === 'NO_TRAFFIC') ? [i + 1] : []));
  if (silent.length > 0) {
    const said = message('app.noTraffic.runs', { count: silent.length, runs: silent.join(', '), total: runs.length });
    reasons.push({
      code: 'NO_TRAFFIC',
      detail: said.english,
      messages: [said.message],
      hostnames: [],
      addresses: [],
      flows: [],
      ts: [],
    });
  }
  for (const run of runs) {
    for (const reason of run.reasons) {
      if (reason.code === 'NO_TRAFFIC' || reason.code === 'LOW_IPV6_SHARE' || seen.has(findingKey(reason))) continue;
      seen.add(findingKey(reason));
      reasons.push(reason);
    }
  }
  const shares = runs.flatMap((run) => (run.metrics.nativeV6ByteShare === null ? [] : [run.metrics.nativeV6ByteShare]));
  const ipv6ShareMean = shares.length === 0 ? null : shares.reduce((sum, s) => sum + s, 0) / shares.length;
  if (ipv6ShareMean !== null && ipv6ShareMean < policy.minNativeIpv6Share) {
    const said = message('app.lowIpv6Share.runs', {
      percent: ipv6ShareMean * 100,
      count: shares.length,
      shares: shares.map((s) => `${(s * 100).toFixed(1)}%`).join(', '),
      minPercent: policy.minNativeIpv6Share * 100,
    });
    reasons.push({
      code: 'LOW_IPV6_SHARE',
      detail: said.english,
      messages: [said.message],
      hostnames: [],
      addresses: [],
      flows: [],
      ts: [],
    });
  }
  const severities = new Set(reasons.map((r) => REASONS[r.code]));
  const verdict: Verdict = severities.has('fail') ? 'fail' : severities.has('inconclusive') ? 'inconclusive' : severities.has('warn') ? 'warn' : 'pass';
  return { verdict, reasons, ipv6ShareMean };
}
