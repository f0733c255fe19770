/**
 * An app's judgement from a capture: the analysis (of a file, or given), the app's flows
 * (lib/checks/attribution.ts), the verdict (lib/checks/app-verdict.ts), all under one policy.
 * The rules are certify's own (apps.ipv6-first): this module only gathers what they need and
 * shapes what they decide into the outside contract (AppJudgement, lib/api/types.ts).
 *
 * Attribution, said plainly: a flow is the app's by socket owner uid where the device's socket
 * tables were polled during the capture (`sockets`), else by time window minus a baseline. A pcap
 * alone carries no uids: given an `appUid` but no sockets, every flow that began in the window
 * (the whole capture when no window is given), minus the baseline, is the app's, and the
 * judgement says so (`app.uid` null, `metrics.attribution` 'window').
 */
import { resolve } from 'node:path';
import { analyzeFile, FLOW_PATHS, type CaptureAnalysis, type FlowPath } from '../analysis/index.js';
import { appHostnames, appVerdict, type AppVerdict } from '../checks/app-verdict.js';
import { attributeFlows, type Attribution, type OwnedSocket } from '../checks/attribution.js';
import { appBaseline, appPolicyOf, DEFAULT_APP_JUDGE_POLICY } from '../harness/judge.js';
import { PolicyError } from './errors.js';
import type { AppJudgement, CaptureMethod, JudgePolicy } from './types.js';

export { PolicyError };

export type { OwnedSocket };

/**
 * The policy with certify's defaults for what it leaves out.
 * @throws PolicyError naming the field: minIpv6Share must be a number from 0 to 1, slowFallbackMs a whole number of ms >= 0
 */
export function resolvePolicy(policy: JudgePolicy = {}): Required<JudgePolicy> {
  const { minIpv6Share, slowFallbackMs } = policy;
  if (minIpv6Share !== undefined && !(typeof minIpv6Share === 'number' && Number.isFinite(minIpv6Share) && minIpv6Share >= 0 && minIpv6Share <= 1))
    throw new PolicyError('minIpv6Share', minIpv6Share, 'a share from 0 to 1 (0.7 is 70%)');
  if (slowFallbackMs !== undefined && !(typeof slowFallbackMs === 'number' && Number.isInteger(slowFallbackMs) && slowFallbackMs >= 0))
    throw new PolicyError('slowFallbackMs', slowFallbackMs, 'a whole number of milliseconds, 0 or more');
  return { minIpv6Share: minIpv6Share ?? DEFAULT_APP_JUDGE_POLICY.minIpv6Share, slowFallbackMs: slowFallbackMs ?? DEFAULT_APP_JUDGE_POLICY.slowFallbackMs };
}

export interface JudgeOptions {
  /** The app's package, recorded in the judgement. @default null */
  package?: string | null;
  /** The app's uid (`dumpsys package`): attributes flows whose socket `sockets` shows. */
  appUid?: number;
  /** Sockets the device's /proc/net showed during the capture, with owner uids. @default [] (a pcap alone: attribution by window) */
  sockets?: readonly OwnedSocket[];
  /** The app's window in the capture's clock (seconds since the epoch). @default the whole capture */
  window?: { start: number; end: number };
  /** Destinations (`server|port`) the device used on its own before: never the app's by window. @default none */
  baseline?: Iterable<string>;
  /** Hostnames the device reaches on its own (connectivity check, NTP): never the app's by window. @default [] */
  backgroundHosts?: readonly string[];
  policy?: JudgePolicy;
  /** For a file: NAT64 prefixes known beside what the capture shows (RFC 7050, PREF64). */
  nat64Prefixes?: string[];
  /** For a file: the CLAT's IPv6 address(es). */
  clatAddresses?: string[];
  /** Where the evidence is, when the caller wrote it (openAppCapture). */
  evidence?: Partial<Pick<AppJudgement['evidence'], 'pcap' | 'analysis' | 'captureMethod'>>;
}

/** A judgement and what decided it, for evidence files (the attribution per flow, the verdict with flow ids). */
export interface JudgementDetail {
  judgement: AppJudgement;
  attribution: Attribution;
  verdict: AppVerdict;
}

/** The judgement of an analysis already made (pure: the rules of certify's apps.ipv6-first). */
export function judgeAnalysis(analysis: CaptureAnalysis, options: Omit<JudgeOptions, 'nat64Prefixes' | 'clatAddresses'> = {}): JudgementDetail {
  const policy = resolvePolicy(options.policy);
  const sockets = options.sockets ?? [];
  const { firstTs, lastTs } = analysis.capture;
  const window = options.window ?? (firstTs === null || lastTs === null ? null : { start: firstTs, end: lastTs });
  // No window and no packets: nothing can be the app's; an empty window attributes nothing.
  const attributionWindow = window ?? { start: Number.POSITIVE_INFINITY, end: Number.NEGATIVE_INFINITY };
  const baseline = appBaseline(analysis, attributionWindow.start, options.baseline ?? [], options.backgroundHosts ?? []);
  // Without sockets no flow can be owned by uid; -1 is no uid (certify's own stand-in for an unknown uid).
  const attribution = attributeFlows({ analysis, sockets, appUid: options.appUid ?? -1, window: attributionWindow, baseline });
  const verdict = appVerdict(analysis, attribution.flows, appPolicyOf(policy));
  const methods = new Set(attribution.method.values());
  const m = verdict.metrics;
  const judgement: AppJudgement = {
    app: {
      package: options.package ?? null,
      // The uid attributed flows only where socket owners were seen; a pcap alone has none.
      uid: options.appUid !== undefined && sockets.length > 0 ? options.appUid : null,
    },
    verdict: verdict.verdict,
    reasons: verdict.reasons.map((r) => ({ code: r.code, detail: r.detail, messages: r.messages, hostnames: r.hostnames, addresses: r.addresses })),
    metrics: {
      nativeV6ByteShare: m.nativeV6ByteShare,
      bytes: m.bytes,
      flows: m.flows,
      bytesByPath: m.bytesByPath,
      hostnames: [...appHostnames(analysis, attribution.flows)].sort(),
      ipv4Literals: [...new Set(verdict.reasons.filter((r) => r.code === 'IPV4_LITERAL').flatMap((r) => r.addresses))],
      paths: pathsByBytes(m.bytesByPath),
      attribution: methods.size === 0 ? 'none' : methods.size === 2 ? 'mixed' : methods.has('uid') ? 'uid' : 'window',
    },
    evidence: {
      pcap: options.evidence?.pcap ?? null,
      analysis: options.evidence?.analysis ?? null,
      captureMethod: options.evidence?.captureMethod ?? null,
      window,
    },
    policy,
  };
  return { judgement, attribution, verdict };
}

/** The paths that carried bytes, most bytes first (FLOW_PATHS order between equals). */
function pathsByBytes(bytesByPath: Record<FlowPath, number>): FlowPath[] {
  return FLOW_PATHS.filter((p) => bytesByPath[p] > 0).sort((a, b) => bytesByPath[b] - bytesByPath[a]);
}

/**
 * Judges an app from a capture file (analysed here) or an analysis already made.
 * @throws PolicyError for a policy out of range (before the file is read); CaptureFormatError for a file that is no capture
 */
export async function judgeCapture(input: { file: string } | { analysis: CaptureAnalysis }, options: JudgeOptions = {}): Promise<AppJudgement> {
  resolvePolicy(options.policy);
  if ('file' in input) {
    const analysis = await analyzeFile(input.file, { nat64Prefixes: options.nat64Prefixes ?? [], clatAddresses: options.clatAddresses ?? [] });
    return judgeAnalysis(analysis, { ...options, evidence: { pcap: resolve(input.file), ...options.evidence } }).judgement;
  }
  return judgeAnalysis(input.analysis, options).judgement;
}

export type { CaptureMethod };
