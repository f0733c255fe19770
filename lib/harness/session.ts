/**
 * One device's session over its DeviceBackend: each check run as an attempt that waits for a
 * device that dropped off adb, breaks naming the fault when it must, and is run once more when
 * only the transport went away; every result written to results.json the moment it is known.
 */
import createDebug from 'debug';
import { message, reasonOf } from '../checks/messages.js';
import { checkDefinition, type CheckId, type NetworkName } from '../checks/requirements.js';
import type { DeviceBackend, Presence } from '../device/adb.js';
import { AdbServerError, DeviceUnavailableError } from '../device/errors.js';
import { appendResult, isFinished, readResults, type CheckResult } from '../report/results.js';
import { faultCode, faultMessage, RETRIED_FAULTS } from './faults.js';

const log = createDebug('v6lab:session');

/** How long a device that dropped off adb (a cable, a reboot) is waited for before its checks break. */
export const DEVICE_RETURN_MS = 45_000;
/** How long a broken check waits for the adb server's tracker to report what went away. */
const TRACKER_GRACE_MS = 250;
/** Retries a device gets per run: a cable that keeps dropping breaks checks instead of doubling the run. */
export const RETRY_BUDGET = 4;
const RETURN_POLL_MS = 500;

export type ResultBody = Omit<CheckResult, 'device' | 'check' | 'app' | 'network' | 'requirement'>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class DeviceSession {
  /** Set once the device stayed away past DEVICE_RETURN_MS: later checks do not wait for it again. */
  private lost = false;
  /** Whether the device or the adb server went away during the check in flight. */
  private presence: Presence | null = null;
  private retriesLeft = RETRY_BUDGET;

  constructor(
    private readonly backend: DeviceBackend,
    private readonly runDir: string,
    /** Called when the device came back after being away: what was known of its network is stale. */
    private readonly onReturn: () => void,
    private readonly returnMs = DEVICE_RETURN_MS,
  ) {}

  get serial(): string {
    return this.backend.serial;
  }

  /** Whether results.json already holds a finished result for this check (a resumed run skips it; see isFinished). */
  done(check: CheckId, app: string | null, network: NetworkName): boolean {
    return readResults(this.runDir).results.some(
      (r) => r.device === this.serial && r.check === check && r.app === app && r.network === network && isFinished(r),
    );
  }

  /**
   * Runs one check; a thrown error is a `broken` result naming it. A check the device's or the
   * adb server's going away broke is run once more from its start when the device is back within
   * the wait (and the device's retry budget lasts); the broken attempt stays in the result. The
   * result is written at once.
   */
  async record(check: CheckId, app: string | null, network: NetworkName, work: () => Promise<ResultBody>): Promise<CheckResult> {
    const key = { device: this.serial, check, app, network, requirement: [...(checkDefinition(check)?.requirements ?? [])] };
    let body = await this.attempt(work);
    let brokenAttempts: CheckResult['brokenAttempts'];
    if (body.status === 'broken' && RETRIED_FAULTS.has(body.reasons[0]!.code) && this.retriesLeft > 0) {
      this.retriesLeft--;
      log(
        '%s %s%s [%s] broke on %s: running it again (%d retries left)',
        this.serial,
        check,
        app ? ` ${app}` : '',
        network,
        body.reasons[0]!.code,
        this.retriesLeft,
      );
      brokenAttempts = [{ reasons: body.reasons }];
      // Written before the retry: a run killed during it keeps the broken attempt, and --resume reruns it.
      await appendResult(this.runDir, { ...key, ...body });
      body = await this.attempt(work);
    }
    const result: CheckResult = { ...key, ...body, ...(brokenAttempts ? { brokenAttempts } : {}) };
    await appendResult(this.runDir, result);
    return result;
  }

  /** Stops watching the device (the worker ends). */
  close(): void {
    this.presence?.close();
    this.presence = null;
  }

  private async attempt(work: () => Promise<ResultBody>): Promise<ResultBody> {
    try {
      await this.awaitDevice();
      if (!this.presence?.alive) this.presence = await this.backend.watchPresence().catch(() => null);
      this.presence?.reset();
      return await work();
    } catch (error) {
      return this.brokenBy(error);
    }
  }

  /**
   * Before each check: a device that dropped off adb (a cable pulled, a reboot), or an adb server
   * that went away, is waited for with a deadline; if it comes back, the run goes on where it was
   * (its APN and settings are files on the device, so they survive), else the check breaks
   * naming the fault.
   */
  private async awaitDevice(): Promise<void> {
    const deadline = Date.now() + (this.lost ? 0 : this.returnMs);
    let announced = false;
    for (;;) {
      try {
        await this.backend.ensureAvailable();
        if (announced) log('%s is back', this.serial);
        // Back after it was given up on: what was known of its network may be stale. (Back
        // within the wait, the APN and settings it keeps as files are as they were.)
        if (this.lost) {
          this.lost = false;
          this.onReturn();
        }
        return;
      } catch (error) {
        if (!(error instanceof DeviceUnavailableError) && !(error instanceof AdbServerError)) throw error;
        if (!announced) log('%s unavailable (%s): waiting up to %d s for it', this.serial, error.message, Math.round((deadline - Date.now()) / 1000));
        announced = true;
        if (Date.now() >= deadline) {
          this.lost = true;
          if (error instanceof AdbServerError) throw new AdbServerError(error.port, `did not answer for ${this.returnMs / 1000} s`, { cause: error });
          const state = error.state === 'absent' ? `absent (it dropped off adb and did not come back within ${this.returnMs / 1000} s)` : error.state;
          throw new DeviceUnavailableError(this.serial, state, { cause: error });
        }
        await sleep(RETURN_POLL_MS);
      }
    }
  }

  /**
   * A broken check's reason. A stream cut short reads the same whether the cable, the device or
   * the adb server went: the server's device tracker says which, so the fault is named right.
   */
  private async brokenBy(error: unknown): Promise<ResultBody> {
    const body: ResultBody = {
      status: 'broken',
      verdict: null,
      reasons: [reasonOf(faultCode(error), faultMessage(error))],
      metrics: {},
      evidence: [],
    };
    // The tracker's news travels on its own connection: give it a moment to arrive.
    await sleep(TRACKER_GRACE_MS);
    const loss = this.presence?.lost ?? null;
    log('%s check broke: %s%s', this.serial, body.reasons[0]!.code, loss ? ` (${loss.detail})` : '');
    if (loss === null) return body;
    const code = loss.what === 'adb-server' ? 'ADB_SERVER_DOWN' : 'DEVICE_DISCONNECTED';
    return { ...body, reasons: [reasonOf(code, message('fault.lostDuringCheck', { loss: loss.detail, error: faultMessage(error) }))] };
  }
}
