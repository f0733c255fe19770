/**
 * The outside contract of v6lab's programmatic API (`import { ... } from 'v6lab'`), shared by the
 * WebdriverIO service (lib/wdio), the Appium plugin (lib/plugin) and the CLI's `analyze --app`:
 * an app's judgement, the policy it is judged under, a capture around the user's own steps, and
 * the device's network facts. Types only; docs/contracts.md describes each field for users.
 *
 * The judgement is the same one certify's `apps.ipv6-first` makes (CONTRACTS section 3): the same
 * capture windows, the same attribution (socket owner uid, else time window minus a baseline),
 * the same reasons and verdict rules. Nothing here asks whether a device is virtual.
 */
import type { FlowPath } from '../analysis/index.js';
import type { ReasonCode, Verdict } from '../checks/app-verdict.js';
import type { ReasonMessage } from '../checks/messages.js';
import type { CaptureMethod } from '../device/profile.js';
import type { AppLog } from '../report/results.js';

export type { AppLog };

export type { FlowPath, ReasonCode, Verdict, CaptureMethod };

/** How strictly an app is judged; each field has certify's default when absent. */
export interface JudgePolicy {
  /** Native IPv6 share of the app's bytes below which LOW_IPV6_SHARE warns (0 to 1). @default 0.7 */
  minIpv6Share?: number;
  /** An IPv4 retry later than this (ms) after a failed IPv6 attempt is SLOW_FALLBACK. @default 2000 */
  slowFallbackMs?: number;
}

/** One reason of a judgement, with what it is about (CONTRACTS section 3). */
export interface JudgementReason {
  code: ReasonCode;
  /** In words a developer can act on. */
  detail: string;
  /** The detail as messages (a key and its arguments), to render it in another language: `reasonText(reason, 'zh-CN')`; judgements v6lab makes have it. */
  messages?: ReasonMessage[];
  hostnames: string[];
  addresses: string[];
}

/** What `judgeApp`, `stopCapture`, `judgeCapture` and `v6lab analyze --app` return. */
export interface AppJudgement {
  /** The app judged: its package when known, and the uid its flows were attributed by (null: by time window). */
  app: { package: string | null; uid: number | null };
  verdict: Verdict;
  reasons: JudgementReason[];
  metrics: {
    /** Native IPv6 bytes over all the app's bytes; null when it sent none. */
    nativeV6ByteShare: number | null;
    bytes: number;
    flows: number;
    bytesByPath: Record<FlowPath, number>;
    /** The names the app looked up or connected to, sorted. */
    hostnames: string[];
    /** IPv4 addresses the app connected to without looking them up (IPV4_LITERAL). */
    ipv4Literals: string[];
    /** The paths its bytes took, most bytes first. */
    paths: FlowPath[];
    /** How flows were attributed: by socket owner `uid`, or by time `window` minus a baseline. */
    attribution: 'uid' | 'window' | 'mixed' | 'none';
  };
  evidence: {
    /** The pcap of the window (absolute path); null for a judgement of a capture given in memory. */
    pcap: string | null;
    /** The analysis and verdict as JSON beside the pcap (absolute path); null when not written. */
    analysis: string | null;
    captureMethod: CaptureMethod | null;
    /** The window in the capture's clock, seconds since the epoch. */
    window: { start: number; end: number } | null;
  };
  policy: Required<JudgePolicy>;
  /**
   * An inconclusive window of a device capture (stopCapture, judgeApp): the app's own log over it
   * (`logcat --uid` from the window's start), its whole text beside the pcap (`file`, absolute).
   * Absent otherwise. Shown, never judged.
   */
  appLog?: AppLog;
}

/** Where the device's packets are captured, as in a device profile (docs/certify.md). */
export interface CaptureOptions {
  /** Methods in order of preference; the first the device allows is used. @default ['device', 'gateway', 'emulator', 'pcapdroid'] */
  methods?: CaptureMethod[];
  /** For `gateway`: a host command printing pcap, or a v6lab gateway's state directory. */
  gatewayCapture?: string[] | { gateway: string };
  /** For `emulator`: the file the emulator's `-tcpdump` writes. */
  emulatorCapture?: string;
}

/** How to reach one device and where its evidence goes. */
export interface DeviceCaptureOptions extends CaptureOptions {
  /** The adb serial. */
  serial: string;
  /** The adb server. @default { host: '127.0.0.1', port: 5037 } (ANDROID_ADB_SERVER_PORT honoured) */
  adb?: { host?: string; port?: number };
  /** Where pcaps and judgements are written (created). @default `v6lab-evidence` under the working directory */
  evidenceDir?: string;
  policy?: JudgePolicy;
}

/** The device's current network, as `dumpsys connectivity` and its interfaces show it. */
export interface NetworkFacts {
  serial: string;
  /** The default network, or null when it has none. */
  defaultNetwork: {
    netId: number;
    /** MOBILE, WIFI, ETHERNET, ... as Android names the transport. */
    type: string | null;
    /** The APN on cellular, else null. */
    apn: string | null;
    interfaceName: string | null;
    ipv6Addresses: string[];
    ipv4Addresses: string[];
    dnsServers: string[];
    nat64Prefix: string | null;
    clat: { interface: string | null; v6Address: string | null; v4Address: string | null } | null;
  } | null;
  /** Read at (ISO 8601). */
  observedAt: string;
}

/** A capture of one device that the caller opens and closes around its own steps. */
export interface AppCapture {
  readonly serial: string;
  /** Starts a capture window; `pkg` (an installed package) attributes flows by its uid, else by time window; `policy` overrides the capture's for this window. */
  startCapture(pkg?: string, name?: string, policy?: JudgePolicy): Promise<void>;
  /** Stops the window started last and judges it. */
  stopCapture(): Promise<AppJudgement>;
  /** Runs `steps` inside a window for `pkg` and judges it (a window already open is an error). */
  judgeApp(pkg: string, steps: () => Promise<void>, options?: { name?: string; policy?: JudgePolicy }): Promise<AppJudgement>;
  observeNetwork(): Promise<NetworkFacts>;
  /** Stops a window left open (its evidence discarded) and lets the device go. Idempotent. */
  close(): Promise<void>;
}
