/**
 * Capture planning for one device: which capture method the profile and the device allow, the
 * capture windows checks run inside (with the spare window opened while the last app is judged),
 * the device clock a capture is stamped with, and where evidence goes in the run directory.
 */
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import createDebug from 'debug';
import type { AnalyzeOptions } from '../analysis/index.js';
import { removePartialFile } from '../config/files.js';
// Evidence goes in the run directory, which is not trusted (SECURITY.md): writeRunFile replaces
// whatever is at its name, a symlink to a device or FIFO included, never writing through it.
import { writeRunFile } from '../report/run-files.js';
import type { NetworkName } from '../checks/requirements.js';
import type { DeviceBackend } from '../device/adb.js';
import type { DeviceFacts } from '../device/facts.js';
import { parseDumpsysConnectivity } from '../device/parse/index.js';
import { clatOf, defaultNetwork } from '../device/parse/connectivity.js';
import { judgedNetwork } from '../checks/os.js';
import { DeviceStateError } from './device-state.js';
import type { Decision } from './judge.js';
import type { DevicePlan } from './plan.js';
import { CaptureWindow, type WindowCapture, type WindowCaptureMethod } from './window.js';

const log = createDebug('v6lab:capture');

/**
 * Flows that begin this soon before launch are the baseline: what the device does on its own.
 * Flows that began before launch are never the app's whatever this is; it only adds their servers
 * to those a window-only attribution skips. The next app's capture opens while the last one is
 * judged, so the baseline is usually longer than this.
 */
export const BASELINE_MS = 150;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The capture method to use: the profile's first that the device and the profile allow. */
export function chooseCaptureMethod(
  device: Pick<DevicePlan, 'serial' | 'capture' | 'gatewayCapture' | 'emulatorCapture'>,
  facts: Pick<DeviceFacts, 'tcpdump' | 'root' | 'pcapdroid'>,
): WindowCaptureMethod {
  for (const method of device.capture) {
    if (method === 'device' && facts.tcpdump !== null && facts.root !== null) return 'device';
    if (method === 'gateway' && device.gatewayCapture !== null) return 'gateway';
    if (method === 'emulator' && device.emulatorCapture !== null) return 'emulator';
    if (method === 'pcapdroid' && facts.pcapdroid) return 'pcapdroid';
  }
  throw new DeviceStateError(
    device.serial,
    `none of the profile's capture methods (${device.capture.join(', ')}) works here: on-device capture needs root and tcpdump (root ${facts.root ?? 'none'}, tcpdump ${facts.tcpdump ?? 'none'}), gateway capture a gatewayCapture command, emulator capture an emulatorCapture file, pcapdroid PCAPdroid installed (${facts.pcapdroid ? 'it is' : 'it is not'})`,
  );
}

/** The part of capture planning a check uses: tests stand in for it to make evidence go missing. */
export interface Captures {
  /** Opens a capture window; its pcap goes to the evidence directory of `network`. */
  openWindow(name: string, network: NetworkName | null, analyze?: AnalyzeOptions): Promise<CaptureWindow>;
}

/** What capture planning reads of a device's plan (the programmatic API builds only this). */
export type PlannedCapture = Pick<DevicePlan, 'serial' | 'capture' | 'gatewayCapture' | 'emulatorCapture' | 'networks'>;

/** Where evidence goes. @default a folder per network, files replaced when a check runs again */
export interface EvidenceLayout {
  /** Evidence straight in the directory, no folder per network (the API's evidenceDir). @default false */
  flat?: boolean;
  /** A pcap is created only where no file is (O_EXCL, no symlink followed): never over earlier evidence. @default false */
  exclusive?: boolean;
}

export class CapturePlanner implements Captures {
  private clockOffsetS = 0;
  private chosen: WindowCaptureMethod | null = null;
  /**
   * The next app's capture, opened as the last app's window closed, so its start and baseline run
   * while that check finishes: only on the network it was opened on, and only while it runs whole.
   */
  private spare: { network: NetworkName; opened: Promise<{ window: CaptureWindow; at: number } | null> } | null = null;

  constructor(
    private readonly backend: DeviceBackend,
    private readonly device: PlannedCapture,
    private readonly facts: DeviceFacts,
    /** The device's directory in the run (evidence goes under it, one folder per network). */
    private readonly dir: string,
    private readonly runDir: string,
    private readonly layout: EvidenceLayout = {},
  ) {}

  /** Capture timestamps are the capturer's clock: the device's for an on-device capture. */
  async measureClock(): Promise<void> {
    const before = Date.now();
    const r = await this.backend.run(['date', '+%s.%N']).catch(() => null);
    const after = Date.now();
    const deviceNow = Number(r?.output.trim());
    if (r?.exitCode === 0 && Number.isFinite(deviceNow) && deviceNow > 1e9) this.clockOffsetS = deviceNow - (before + after) / 2000;
    log('%s clock offset %d s', this.device.serial, this.clockOffsetS);
  }

  method(): WindowCaptureMethod {
    if (this.chosen === null) {
      this.chosen = chooseCaptureMethod(this.device, this.facts);
      log('%s capture method %s (profile order %s)', this.device.serial, this.chosen, this.device.capture.join(', '));
    }
    return this.chosen;
  }

  /** Now, in the capture's clock (seconds). */
  now(): number {
    const method = this.method();
    // Captured on the device, stamped by its clock; at the gateway or by the emulator, by the host's.
    return Date.now() / 1000 + (method === 'device' || method === 'pcapdroid' ? this.clockOffsetS : 0);
  }

  evidencePath(name: string, network: NetworkName | null): string {
    const dir = this.layout.flat ? this.dir : join(this.dir, network ?? 'found');
    mkdirSync(dir, { recursive: true });
    return join(dir, name.replace(/[^A-Za-z0-9._-]/g, '_'));
  }

  relative(file: string): string {
    return relative(this.runDir, file);
  }

  /** NAT64 prefix and CLAT address the device reports, so a capture of either leg is read right. */
  async analyzeOptions(network: NetworkName | null = null): Promise<{ nat64Prefixes: string[]; clatAddresses: string[] }> {
    const out = await this.backend.run(['dumpsys', 'connectivity']);
    if (out.exitCode !== 0) return { nat64Prefixes: [], clatAddresses: [] };
    const dump = parseDumpsysConnectivity(out.output);
    // The network the capture is of: a Wi-Fi network of the profile is the default one; an APN the mobile internet network.
    const target = network === null ? null : this.device.networks[network];
    // A gateway's network reaches the device by cable (Ethernet) or through an access point (Wi-Fi).
    const kind = target === null || 'apn' in target ? 'mobile' : 'wifi' in target || defaultNetwork(dump)?.type === 'WIFI' ? 'wifi' : 'ethernet';
    const observed = judgedNetwork({ connectivity: dump, judgedNetwork: kind }).network;
    // Every version: the tracker line (14+), the BPF rules (13+), the stacked link and clat{} (9+).
    const clat = observed === null ? null : clatOf(dump, observed);
    const prefix = observed?.linkProperties?.nat64Prefix ?? clat?.nat64Prefix?.value ?? null;
    return { nat64Prefixes: prefix === null ? [] : [prefix], clatAddresses: clat?.v6Address ? [clat.v6Address.value] : [] };
  }

  async openWindow(name: string, network: NetworkName | null, analyze?: AnalyzeOptions): Promise<CaptureWindow> {
    return CaptureWindow.open({
      device: this.backend,
      facts: this.facts,
      method: this.method(),
      gatewayCapture: this.device.gatewayCapture,
      emulatorCapture: this.device.emulatorCapture,
      file: this.evidencePath(`${name}.pcap`, network),
      exclusive: this.layout.exclusive ?? false,
      analyze: analyze ?? (await this.analyzeOptions(network)),
    });
  }

  /** Opens the next app's capture now, while the last one is judged. */
  openSpare(network: NetworkName, analyze: AnalyzeOptions): void {
    // PCAPdroid runs one capture at a time: the next starts when this one has stopped.
    if (this.method() === 'pcapdroid') return;
    log('%s opening the spare window on %s', this.device.serial, network);
    const opened = this.openWindow('.next-window', network, analyze).then(
      (window) => ({ window, at: Date.now() }),
      () => null,
    );
    this.spare = { network, opened };
  }

  /** The spare capture for an app window named `name`, if it is on `network` and whole; else null. */
  private async takeSpare(network: NetworkName, name: string): Promise<{ window: CaptureWindow; at: number } | null> {
    const spare = this.spare;
    this.spare = null;
    const opened = await spare?.opened;
    if (!spare || !opened) return null;
    if (spare.network !== network || !opened.window.alive) {
      log('%s spare window not taken (%s)', this.device.serial, spare.network !== network ? `opened on ${spare.network}` : 'it stopped');
      await opened.window.discard();
      return null;
    }
    opened.window.adopt(this.evidencePath(`${name}.pcap`, network));
    return opened;
  }

  /** Stops the spare capture (the network changes, the worker ends). */
  async dropSpare(): Promise<void> {
    const opened = await this.spare?.opened;
    this.spare = null;
    await opened?.window.discard();
  }

  /**
   * Runs `work` inside a capture window on `network`; returns the capture and the window in
   * capture time. `alongside` (the app's force-stop) runs while the capture starts and the
   * baseline is taken: the window begins once both are done.
   */
  async inWindow(
    name: string,
    network: NetworkName,
    work: (window: CaptureWindow) => Promise<void>,
    options: { analyze?: AnalyzeOptions; alongside?: Promise<unknown>; spare?: boolean; afterWork?: () => void } = {},
  ): Promise<{ capture: WindowCapture; start: number; end: number }> {
    const { window, start } = await this.beginWindow(name, network, options);
    try {
      await work(window);
    } catch (error) {
      await window.close().catch(() => undefined);
      throw error;
    }
    return this.endWindow(window, start, options.afterWork);
  }

  /**
   * The first half of inWindow, for a window its caller closes later (the programmatic API's
   * startCapture): the capture opened (or the spare taken), the baseline waited out, `alongside`
   * done; returns the window and its start in capture time.
   */
  async beginWindow(
    name: string,
    network: NetworkName | null,
    options: { analyze?: AnalyzeOptions; alongside?: Promise<unknown>; spare?: boolean } = {},
  ): Promise<{ window: CaptureWindow; start: number }> {
    const taken = options.spare && network !== null ? await this.takeSpare(network, name) : null;
    const window = taken?.window ?? (await this.openWindow(name, network, options.analyze));
    const openedAt = taken?.at ?? Date.now();
    try {
      await Promise.all([sleep(Math.max(0, BASELINE_MS - (Date.now() - openedAt))), options.alongside]);
    } catch (error) {
      await window.close().catch(() => undefined);
      throw error;
    }
    return { window, start: this.now() };
  }

  /** The second half of inWindow: the window's end in capture time, then the capture closed (flushed, analysed). */
  async endWindow(window: CaptureWindow, start: number, afterWork?: () => void): Promise<{ capture: WindowCapture; start: number; end: number }> {
    const end = this.now();
    afterWork?.();
    const capture = await window.close();
    return { capture, start, end };
  }

  /** A capture's pcap and its analysis (with `extra` beside it) as evidence files; returns their paths. */
  saveEvidence(name: string, capture: WindowCapture, extra: Record<string, unknown>, network: NetworkName | null): string[] {
    const json = this.evidencePath(`${name}.analysis.json`, network);
    try {
      writeRunFile(
        json,
        `${JSON.stringify({ capture: { method: capture.method, bytes: capture.bytes, pcap: this.relative(capture.file) }, ...extra, analysis: capture.analysis }, null, 1)}\n`,
      );
    } catch (error) {
      // Evidence without its analysis backs nothing: the check breaks and its pcap goes too (on a
      // full disk, that is also the room results.json needs to say so).
      removePartialFile(capture.file);
      throw error;
    }
    return [this.relative(capture.file), this.relative(json)];
  }

  /** Now, on the device's clock (seconds), as measured by measureClock (the host's when it could not be read). */
  deviceNow(): number {
    return Date.now() / 1000 + this.clockOffsetS;
  }

  /** A text file of evidence (an app's log) beside the check's other evidence; returns its path relative to the run. */
  saveText(name: string, network: NetworkName | null, text: string): string {
    const file = this.evidencePath(name, network);
    writeRunFile(file, text);
    return this.relative(file);
  }

  /** A decision's evidence (what it read, and on which network) as a file the report links; returns its path. */
  saveDecision(check: string, network: NetworkName, decision: Decision): string {
    const file = this.evidencePath(`${check}.json`, network);
    writeRunFile(file, `${JSON.stringify({ check, status: decision.status, reasons: decision.reasons, evidence: decision.evidence }, null, 1)}\n`);
    return this.relative(file);
  }
}
