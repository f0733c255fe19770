/**
 * v6lab's programmatic API, the package root (`import { ... } from 'v6lab'`): a capture's
 * analysis, an app's judgement by certify's rules, a capture around one's own steps on a device,
 * the device's network facts, and a whole certification run. docs/contracts.md describes each
 * type for users; lib/api/types.ts is the contract.
 */
export { analyzeFile, analyzeStream, IncrementalAnalyzer } from '../analysis/index.js';
export type { AnalyzeOptions, CaptureAnalysis, Flow } from '../analysis/index.js';
export { judgeCapture, resolvePolicy, type JudgeOptions, type OwnedSocket } from './judge.js';
export { openAppCapture, DEFAULT_EVIDENCE_DIR } from './capture.js';
export { observeDevice } from './observe.js';
export { certify, type CertifyOptions, type CertifyOutcome, type NetworkName, type RunResults, type SuiteName } from './certify.js';
export { CaptureStateError, PackageNotInstalledError, PolicyError } from './errors.js';
export { CaptureFormatError } from '../analysis/index.js';
export { DeviceUnavailableError } from '../device/errors.js';
export type * from './types.js';
export { reasonCodeTitle, reasonKind, reasonText, renderMessage, type ReasonKind, type ReasonMessage, type ReasonText } from '../checks/messages.js';
export type { Lang } from '../checks/lang.js';
