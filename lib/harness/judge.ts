/**
 * The os and apn suites' verdicts as pure functions of what was observed: the factory
 * observation, and each network's attachment (an observation of that network in this run, or why
 * it was not reached). A check is judged only on the network it names; a network not reached
 * skips it with NETWORK_UNAVAILABLE, and evidence that is missing breaks it naming what is missing.
 * Only the attach checks judge a failed attach, because the attach is what they test.
 */
import {
  checkApnProtocol,
  checkClat,
  checkDualStackAttach,
  checkIpv6Enabled,
  checkIpv6OnlyAttach,
  checkNat64Prefix,
  checkPrivacyAddresses,
  judgedNetwork,
  radioInterfaces,
  type CheckOutcome,
  type Observation,
} from '../checks/os.js';
import type { CaptureAnalysis } from '../analysis/index.js';
import { DEFAULT_POLICY, type AppPolicy } from '../checks/app-verdict.js';
import { destinationKey, type OwnedSocket } from '../checks/attribution.js';
import { message, reasonOf, type MessagePart, type ReasonMessage } from '../checks/messages.js';
import { isContentDenied } from '../device/parse/index.js';
import type { CheckStatus } from '../report/results.js';
import type { Attachment, NetworkObservation, Unreached } from './networks.js';

/** A reason, its detail as messages (lib/checks/messages.ts) where they were given. */
export type Reason = { code: string; detail: string; messages?: ReasonMessage[] };

/** A check's decision and what it rests on (written beside the result as its evidence). */
export interface Decision {
  status: CheckStatus;
  reasons: Reason[];
  evidence: Record<string, unknown>;
}

export type OsCheck = 'os.apn-protocol' | 'os.apn-roaming-protocol' | 'os.ipv6-enabled' | 'os.privacy-addresses' | 'os.dual-stack-attach';
export type ApnCheck = 'apn.ipv6-only-attach' | 'apn.clat' | 'apn.nat64-prefix';

/** The capture made across the IPv6-only attach, where RFC 7050 discovery happens: what it found, or why there is none. */
export type AttachCapture =
  | { taken: true; discovered: string[] /** PREF64 prefixes (RFC 8781) the attach's router advertisements carried, lifetime above 0. */; advertised: string[] }
  | { taken: false; why: string /** why, as a message; absent: why is shown untranslated */; said?: MessagePart };

/**
 * The NAT64 prefixes the capture across the attach shows the network gave: those RFC 7050
 * discovery found (ipv4only.arpa answers), and those a PREF64 option of its router advertisements
 * carried (RFC 8781; a router's last advertisement of it with a lifetime above 0: a withdrawal
 * gives none).
 */
export function attachPrefixes(analysis: Pick<CaptureAnalysis, 'nat64PrefixSources' | 'pref64'>): { discovered: string[]; advertised: string[] } {
  return {
    discovered: Object.entries(analysis.nat64PrefixSources)
      .filter(([, source]) => source === 'rfc7050')
      .map(([p]) => p),
    advertised: [...new Set(analysis.pref64.filter((p) => p.lifetimeSeconds > 0).map((p) => p.prefix))],
  };
}

/** An unreached network's reason: its detail, and its messages when it has them. */
export const unreachedReason = (code: string, attachment: Unreached): Reason =>
  attachment.messages === undefined ? { code, detail: attachment.detail } : { code, detail: attachment.detail, messages: attachment.messages };

/** Where an observation came from, as the evidence file records it. */
export function provenance(facts: NetworkObservation): Record<string, unknown> {
  return {
    network: facts.network,
    apn: facts.apn,
    via: facts.via,
    defaultNetwork: facts.defaultNetwork,
    takenAt: facts.takenAt,
    how: facts.how,
    switched: facts.switched,
  };
}

/** A check whose network was not reached: skipped, saying why. */
export function unreached(attachment: Unreached): Decision {
  return {
    status: 'skipped',
    reasons: [unreachedReason('NETWORK_UNAVAILABLE', attachment)],
    evidence: { network: attachment.network, reached: false, cause: attachment.cause },
  };
}

const judged = (outcome: CheckOutcome, facts: NetworkObservation | null): Decision => ({
  status: outcome.status,
  reasons: outcome.reasons,
  evidence: { ...outcome.evidence, ...(facts === null ? {} : { observedOn: provenance(facts) }) },
});

/** The cellular and Wi-Fi interfaces whose IPv6 settings are judged. */
function interfaces(o: Observation): string[] {
  const names = radioInterfaces(o.addresses);
  return names.length > 0 ? names : ['rmnet_data0', 'wlan0'];
}

/**
 * An attach check when the attach the harness asked for did not come: failed (the device did not
 * attach where its own factory protocols were asked for). Any other cause (not in the profile,
 * not switched by hand, another default network) is no fault of the device: skipped.
 */
function attachNotMade(attachment: Unreached, decide: (o: Observation) => CheckOutcome): Decision {
  if (attachment.cause !== 'no-attach') return unreached(attachment);
  const after = attachment.after === null ? null : decide(attachment.after);
  return {
    status: 'failed',
    reasons: [unreachedReason('ATTACH_FAILED', attachment), ...(after?.reasons ?? [])],
    evidence: {
      ...(after?.evidence ?? {}),
      network: attachment.network,
      reached: false,
      cause: attachment.cause,
      note: 'observed after the attach failed: shown, not judged as the network',
    },
  };
}

/** An os check from the factory observation and the dual-stack network's attachment. */
export function judgeOs(check: OsCheck, factory: Observation, dualStack: Attachment): Decision {
  switch (check) {
    case 'os.apn-protocol':
    case 'os.apn-roaming-protocol': {
      const column = check === 'os.apn-protocol' ? 'protocol' : 'roaming_protocol';
      // The APN table as delivered decides; only when the shell may not read it is the protocol
      // inferred from what the dual-stack network gave, which needs that network reached.
      if (!isContentDenied(factory.apnTable)) return judged(checkApnProtocol(factory, column), null);
      if (!dualStack.reached) return column === 'roaming_protocol' ? judged(checkApnProtocol(factory, column), null) : unreached(dualStack);
      return judged(checkApnProtocol({ ...dualStack.facts.observation, apnTable: factory.apnTable }, column), dualStack.facts);
    }
    case 'os.ipv6-enabled':
      return judged(checkIpv6Enabled(factory, interfaces(factory)), null);
    case 'os.privacy-addresses':
      return dualStack.reached ? judged(checkPrivacyAddresses(dualStack.facts.observation), dualStack.facts) : unreached(dualStack);
    case 'os.dual-stack-attach':
      return dualStack.reached ? judged(checkDualStackAttach(dualStack.facts.observation), dualStack.facts) : attachNotMade(dualStack, checkDualStackAttach);
  }
}

/** An apn check from the IPv6-only network's attachment and the capture across its attach. */
export function judgeApn(check: ApnCheck, ipv6: Attachment, attachCapture: AttachCapture): Decision {
  if (check === 'apn.ipv6-only-attach')
    return ipv6.reached ? judged(checkIpv6OnlyAttach(ipv6.facts.observation), ipv6.facts) : attachNotMade(ipv6, checkIpv6OnlyAttach);
  if (!ipv6.reached) return unreached(ipv6);
  if (check === 'apn.clat') return judged(checkClat(ipv6.facts.observation), ipv6.facts);
  // RFC 7050 discovery is seen only in the capture across the attach: without it the check has
  // half its evidence, and LinkProperties alone must not pass it.
  if (!attachCapture.taken) {
    return {
      status: 'broken',
      reasons: [
        reasonOf('EVIDENCE_MISSING', message('harness.noAttachCapture', { why: attachCapture.said ?? message('untranslated', { text: attachCapture.why }) })),
      ],
      evidence: { observedOn: provenance(ipv6.facts) },
    };
  }
  if (!ipv6.facts.switched) {
    // Nothing failed, but the attach (and its discovery) happened before anyone watched.
    return {
      status: 'skipped',
      reasons: [
        reasonOf(
          'EVIDENCE_MISSING',
          message(ipv6.facts.how === 'manual' ? 'harness.alreadyOnApn.manual' : 'harness.alreadyOnApn.auto', { apn: ipv6.facts.apn }),
        ),
      ],
      evidence: { observedOn: provenance(ipv6.facts), linkProperties: judgedNetwork(ipv6.facts.observation).network?.linkProperties?.nat64Prefix ?? null },
    };
  }
  return judged(checkNat64Prefix(ipv6.facts.observation, attachCapture.discovered, attachCapture.advertised), ipv6.facts);
}

// --- apps ---------------------------------------------------------------------------------------

/** How strictly an app is judged, in a profile's and the API's words (JudgePolicy). */
export interface AppJudgePolicy {
  /** Native IPv6 share of the app's bytes below which LOW_IPV6_SHARE warns (0 to 1). */
  minIpv6Share: number;
  /** An IPv4 retry later than this (ms) after a failed IPv6 attempt is SLOW_FALLBACK. */
  slowFallbackMs: number;
}

/** certify's defaults (lib/checks/app-verdict.ts DEFAULT_POLICY), in the profile's words. */
export const DEFAULT_APP_JUDGE_POLICY: Readonly<AppJudgePolicy> = {
  minIpv6Share: DEFAULT_POLICY.minNativeIpv6Share,
  slowFallbackMs: DEFAULT_POLICY.maxFallbackMs,
};

/** The verdict's policy from the profile's words; a field absent keeps certify's default. */
export function appPolicyOf(policy: Partial<AppJudgePolicy> | null | undefined): AppPolicy {
  return {
    minNativeIpv6Share: policy?.minIpv6Share ?? DEFAULT_POLICY.minNativeIpv6Share,
    maxFallbackMs: policy?.slowFallbackMs ?? DEFAULT_POLICY.maxFallbackMs,
  };
}

/**
 * What a window-only attribution must not blame on the app (destination keys): servers the device
 * used on its own before (`background`), flows that began before the window, and flows to the
 * profile's background hosts (connectivity check, NTP, push).
 */
export function appBaseline(analysis: CaptureAnalysis, start: number, background: Iterable<string>, backgroundHosts: readonly string[]): Set<string> {
  const baseline = new Set(background);
  for (const f of analysis.flows) if (f.firstTs < start) baseline.add(destinationKey(f));
  for (const f of analysis.flows) if (f.hostname !== null && backgroundHosts.includes(f.hostname)) baseline.add(destinationKey(f));
  return baseline;
}

/**
 * Adds to `background` the servers the device used on its own in a capture: flows that began
 * before `before` (the app's launch), and destinations of sockets a system uid (below 10000) owned;
 * never a flow of the app's (`appFlows`).
 */
export function learnBackground(
  background: Set<string>,
  analysis: CaptureAnalysis,
  sockets: readonly OwnedSocket[],
  appFlows: ReadonlySet<number> | null,
  before: number,
): void {
  const systemOwned = new Set(sockets.filter((s) => s.uid < 10_000).map((s) => `${s.remote.address}|${s.remote.port}`));
  for (const f of analysis.flows) {
    if (f.application === 'dns' || appFlows?.has(f.id)) continue;
    if (f.firstTs < before || systemOwned.has(destinationKey(f))) background.add(destinationKey(f));
  }
}
