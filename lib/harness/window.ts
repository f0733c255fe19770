/**
 * A capture window: the device's packets captured while something runs (an app, a browser
 * probe, an attach), analysed as they stream in, with the device's sockets polled from
 * /proc/net so flows can be owned by uid. The profile chooses how; the analysis is the same:
 * - `device`: tcpdump on the device as root, streamed over adb;
 * - `gateway`: a host command printing pcap (tcpdump at the lab gateway, a carrier's tap);
 * - `emulator`: the pcap file the Android emulator writes with `-tcpdump FILE`, followed;
 * - `pcapdroid`: PCAPdroid's capture API (no root, through its VPN), its pcap file on the
 *   device's storage followed over adb while it grows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream, lstatSync, openSync, renameSync, type Stats, unlinkSync, type WriteStream } from 'node:fs';
import { message } from '../checks/messages.js';
import { removePartialFile } from '../config/files.js';
import type { Readable } from 'node:stream';
import { IncrementalAnalyzer, type AnalyzeOptions, type CaptureAnalysis } from '../analysis/index.js';
import { followPcapFile } from '../capture/follow.js';
import type { OwnedSocket } from '../checks/attribution.js';
import type { DeviceBackend } from '../device/adb.js';
import {
  CAPTURE_STOP_MS,
  collectCaptureArgv,
  deviceCaptureFiles,
  parseKernelDrops,
  pcapdroidControl,
  PCAPDROID_DIR,
  stopDeviceCapture,
  tcpdumpArgv,
  type DeviceCaptureFiles,
} from '../device/capture.js';
import type { DeviceFacts } from '../device/facts.js';
import { parseProcNetSockets } from '../device/parse/index.js';
import type { CaptureMethod } from '../device/profile.js';

export type WindowCaptureMethod = CaptureMethod;

export interface CaptureWindowOptions {
  device: DeviceBackend;
  facts: Pick<DeviceFacts, 'serial' | 'root' | 'tcpdump'>;
  method: WindowCaptureMethod;
  /** For `gateway`: the host command that prints the device's traffic as pcap on stdout. */
  gatewayCapture: readonly string[] | null;
  /** For `emulator`: the host file the emulator's `-tcpdump` writes. */
  emulatorCapture?: string | null;
  /** Where the pcap is kept (the evidence). */
  file: string;
  /** Create the pcap only where nothing is (O_EXCL, no symlink followed). @default false: replaced */
  exclusive?: boolean;
  analyze: AnalyzeOptions;
  /** Poll /proc/net for socket owners while the window is open. @default true */
  pollSockets?: boolean;
  /** How long the capture may take to start. @default 15000 */
  startTimeoutMs?: number;
  /** How long a tcpdump told to stop may take to end its stream. @default CAPTURE_STOP_MS */
  stopTimeoutMs?: number;
}

export interface WindowCapture {
  analysis: CaptureAnalysis;
  /** Every socket seen by the poller that has an owner (TIME_WAIT sockets have none). */
  sockets: OwnedSocket[];
  bytes: number;
  file: string;
  method: WindowCaptureMethod;
}

export class CaptureError extends Error {
  constructor(
    readonly serial: string,
    readonly method: WindowCaptureMethod,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${serial}: ${method} capture: ${message}`, options);
    this.name = 'CaptureError';
  }
}

/**
 * The capture's tcpdump said the kernel dropped packets: what the window holds is not all that
 * happened, and no verdict may rest on it. A check that meets it is run again (RETRIED_FAULTS).
 */
export class CaptureDroppedError extends CaptureError {
  constructor(
    serial: string,
    method: WindowCaptureMethod,
    readonly packets: number,
  ) {
    super(serial, method, message('app.captureDropped', { packets }).english);
    this.name = 'CaptureDroppedError';
  }
}

/** The window's capture, or a CaptureDroppedError when its tcpdump said the kernel dropped packets from it. */
export function wholeCapture(serial: string, capture: WindowCapture): WindowCapture {
  const dropped = capture.analysis.capture.droppedByKernel ?? null;
  if (dropped !== null && dropped > 0) throw new CaptureDroppedError(serial, capture.method, dropped);
  return capture;
}

/**
 * The window's pcap, opened for writing. `exclusive`: created where nothing is, else an error.
 * Otherwise what is at the name is replaced, never written through: an earlier attempt's pcap,
 * or a symlink planted in the run directory (not trusted, SECURITY.md), is removed and the file
 * created O_EXCL|O_NOFOLLOW; a name planted again in between is an error (EEXIST), not followed,
 * and so is a FIFO or a directory. Only a character device (which only root can make: /dev/full
 * in a test) is written to as named.
 */
function openPcap(file: string, exclusive: boolean): number {
  if (!exclusive) {
    let stat: Stats | null = null;
    try {
      stat = lstatSync(file);
    } catch {
      // nothing there
    }
    if (stat?.isCharacterDevice()) return openSync(file, constants.O_WRONLY | constants.O_NOFOLLOW);
    if (stat?.isFile() || stat?.isSymbolicLink()) unlinkSync(file);
  }
  return openSync(file, EXCLUSIVE_FLAGS, 0o644);
}

const EXCLUSIVE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** The stream counts as flushed after this long without bytes... */
const FLUSH_QUIET_MS = 100;
/** ...or after this long, whichever comes first. */
const FLUSH_MAX_MS = 300;
const FLUSH_POLL_MS = 20;

/** How long PCAPdroid may take to write out what it holds once asked to stop. */
const PCAPDROID_STOP_MS = 3000;
const PCAPDROID_POLL_MS = 100;

/** One pass over the four socket tables, ended by a line the poller prints. */
const POLL_END = '#v6lab-poll-end';
const POLL_SCRIPT = `while :; do for f in tcp tcp6 udp udp6; do echo "#$f"; cat /proc/net/$f; done; echo '${POLL_END}'; sleep 0.1; done`;
const TABLES: Record<string, { family: 4 | 6; transport: 'tcp' | 'udp' }> = {
  tcp: { family: 4, transport: 'tcp' },
  tcp6: { family: 6, transport: 'tcp' },
  udp: { family: 4, transport: 'udp' },
  udp6: { family: 6, transport: 'udp' },
};

/** Parses one poller pass (`#tcp` then /proc/net/tcp, ...) into owned sockets. */
export function parseSocketPoll(text: string): OwnedSocket[] {
  const sockets: OwnedSocket[] = [];
  for (const section of text.split(/^#(?=tcp6?$|udp6?$)/m)) {
    const newline = section.indexOf('\n');
    const table = TABLES[section.slice(0, newline).trim()];
    if (!table) continue;
    for (const s of parseProcNetSockets(section.slice(newline + 1), table.family, table.transport)) {
      if (s.inode === 0) continue;
      sockets.push({ transport: s.transport, local: s.local, remote: s.remote, uid: s.uid });
    }
  }
  return sockets;
}

export class CaptureWindow {
  private readonly analyzer: IncrementalAnalyzer;
  private readonly out: WriteStream;
  private bytes = 0;
  private failure: Error | null = null;
  private readonly sockets = new Map<string, OwnedSocket>();
  private pollText = '';
  private poller: Readable | null = null;
  private source: Readable | null = null;
  private process: ChildProcess | null = null;
  private ended: Promise<void> = Promise.resolve();
  /** Set when close() began: an end of the stream before it is a dropped capture. */
  private closing = false;
  private endedEarly = false;
  /** For `device`: where tcpdump's pid and stderr are kept on the device. */
  private deviceFiles: DeviceCaptureFiles | null = null;
  /** For `gateway`: the last of its command's stderr (tcpdump's statistics at exit). */
  private gatewayStderr = '';
  private gatewayExited: Promise<void> = Promise.resolve();
  private writeFailed = false;
  /** Where the pcap is being written (adopt() moves it). */
  private file: string;
  /** When the capture stream last delivered bytes (ms since the epoch). */
  private lastDataAt = 0;
  /** For `pcapdroid`: the pcap file PCAPdroid writes on the device, once asked to start. */
  private devicePcap: string | null = null;

  private constructor(private readonly options: CaptureWindowOptions) {
    this.file = options.file;
    this.analyzer = new IncrementalAnalyzer({ ...options.analyze, source: options.file });
    // Exclusive: an existing file (earlier evidence, a planted symlink) is an error here, at once.
    this.out = createWriteStream(options.file, { fd: openPcap(options.file, options.exclusive ?? false) });
    // The evidence file cannot be written (a full disk, a removed directory): the capture is
    // incomplete evidence, and the window's check breaks naming it.
    this.out.on('error', (error) => {
      this.writeFailed = true;
      this.failure ??= new CaptureError(options.facts.serial, options.method, `writing ${options.file} failed: ${error.message}`, { cause: error });
    });
  }

  static async open(options: CaptureWindowOptions): Promise<CaptureWindow> {
    const window = new CaptureWindow(options);
    try {
      await window.start();
    } catch (error) {
      await window.abort();
      throw error;
    }
    return window;
  }

  private async start(): Promise<void> {
    const { device, facts, method } = this.options;
    let stream: Readable;
    if (method === 'device') {
      this.deviceFiles = deviceCaptureFiles();
      stream = await device.stream(tcpdumpArgv(facts, this.deviceFiles));
    } else if (method === 'emulator') {
      const file = this.options.emulatorCapture ?? null;
      if (file === null) throw new CaptureError(facts.serial, method, 'the profile gives no emulatorCapture file');
      stream = followPcapFile(file);
    } else if (method === 'pcapdroid') {
      stream = await this.startPcapdroid();
    } else {
      const argv = this.options.gatewayCapture;
      if (argv === null || argv.length === 0) throw new CaptureError(facts.serial, method, 'the profile gives no gateway capture command');
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      this.process = child;
      this.gatewayExited = new Promise((resolve) => child.once('close', () => resolve()));
      child.stderr!.on('data', (c: Buffer) => {
        this.gatewayStderr = (this.gatewayStderr + c.toString()).slice(-2000);
      });
      child.once('error', (error) => {
        this.failure ??= new CaptureError(facts.serial, method, `${argv[0]}: ${error.message}`, { cause: error });
      });
      child.once('exit', (code) => {
        if (code !== 0 && code !== null && this.failure === null)
          this.failure = new CaptureError(facts.serial, method, `\`${argv.join(' ')}\` exited ${code}: ${this.gatewayStderr.trim().split('\n').pop() ?? ''}`);
      });
      stream = child.stdout!;
    }
    this.source = stream;
    this.ended = new Promise<void>((resolve) => {
      const end = () => {
        if (!this.closing) this.endedEarly = true;
        resolve();
      };
      stream.once('close', end);
      stream.once('end', end);
      stream.once('error', (error) => {
        this.failure ??= error;
        end();
      });
    });
    // The capture has started once its file header arrived (tcpdump -U writes it at open).
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new CaptureError(facts.serial, method, `no capture header within ${this.options.startTimeoutMs ?? 15_000} ms`)),
        this.options.startTimeoutMs ?? 15_000,
      );
      const check = () => {
        if (this.bytes >= 24) {
          clearTimeout(timer);
          resolve();
        }
      };
      stream.on('data', (chunk: Buffer) => {
        this.bytes += chunk.length;
        this.lastDataAt = Date.now();
        this.out.write(chunk);
        if (this.failure === null) {
          try {
            this.analyzer.push(chunk);
          } catch (error) {
            this.failure = error as Error;
          }
        }
        check();
      });
      void this.ended.then(() => {
        clearTimeout(timer);
        if (this.bytes < 24)
          reject(this.failure ?? new CaptureError(facts.serial, method, 'the capture ended before it started (no root, no tcpdump, or the interface is gone)'));
      });
    });
    // The socket poller starts while tcpdump does: both are in place before the window begins.
    await Promise.all([started, (this.options.pollSockets ?? true) ? this.startPoller() : null]);
  }

  /**
   * Asks PCAPdroid to capture every app to a pcap file (`ip_mode both`: its default VPN is
   * IPv4-only and would hide the apps' IPv6), waits for the file's header, and follows the file.
   */
  private async startPcapdroid(): Promise<Readable> {
    const { device, facts } = this.options;
    const name = `v6lab-${randomBytes(6).toString('hex')}.pcap`;
    this.devicePcap = `${PCAPDROID_DIR}/${name}`;
    const answer = await device.runOk(pcapdroidControl('start', name));
    if (/^Error/m.test(answer))
      throw new CaptureError(
        facts.serial,
        'pcapdroid',
        `PCAPdroid refused to start: ${answer.trim().split('\n').pop()} (is com.emanuelef.remote_capture installed?)`,
      );
    const timeoutMs = this.options.startTimeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    while ((await this.devicePcapSize()) < 24) {
      if (this.closing) throw new CaptureError(facts.serial, 'pcapdroid', 'stopped before PCAPdroid began writing');
      if (Date.now() > deadline) {
        throw new CaptureError(
          facts.serial,
          'pcapdroid',
          `PCAPdroid wrote no ${this.devicePcap} within ${timeoutMs} ms: on the device, accept its VPN request and allow the shell to control it (once; "Control permissions" in PCAPdroid's settings keeps it)`,
        );
      }
      await new Promise((r) => setTimeout(r, PCAPDROID_POLL_MS));
    }
    return device.stream(['tail', '-c', '+1', '-f', this.devicePcap]);
  }

  /** The size of PCAPdroid's file on the device; -1 while it does not exist. */
  private async devicePcapSize(): Promise<number> {
    const r = await this.options.device.run(['stat', '-c', '%s', this.devicePcap!]);
    const size = Number(r.output.trim());
    return r.exitCode === 0 && /^\d+$/.test(r.output.trim()) ? size : -1;
  }

  /** Asks PCAPdroid to stop and waits until every byte it wrote has streamed in. */
  private async stopPcapdroid(): Promise<void> {
    if (this.devicePcap === null) return;
    await this.options.device.runOk(pcapdroidControl('stop'));
    const deadline = Date.now() + PCAPDROID_STOP_MS;
    while (Date.now() < deadline && !this.endedEarly) {
      const size = await this.devicePcapSize();
      if (size >= 0 && this.bytes >= size) return;
      await new Promise((r) => setTimeout(r, FLUSH_POLL_MS));
    }
  }

  /** PCAPdroid's file leaves the device's storage with the window. */
  private async removeDevicePcap(): Promise<void> {
    const file = this.devicePcap;
    this.devicePcap = null;
    if (file !== null) await this.options.device.run(['rm', '-f', file]).catch(() => undefined);
  }

  private async startPoller(): Promise<void> {
    const poller = await this.options.device.stream(['sh', '-c', POLL_SCRIPT]);
    this.poller = poller;
    // The capture failed to start meanwhile and the window was aborted: nothing may keep polling.
    if (this.closing) poller.destroy();
    poller.on('data', (chunk: Buffer) => {
      this.pollText += chunk.toString('latin1');
      for (let end = this.pollText.indexOf(POLL_END); end >= 0; end = this.pollText.indexOf(POLL_END)) {
        const pass = this.pollText.slice(0, end);
        this.pollText = this.pollText.slice(end + POLL_END.length);
        try {
          for (const s of parseSocketPoll(pass))
            this.sockets.set(`${s.transport}|${s.local.address}|${s.local.port}|${s.remote.address}|${s.remote.port}|${s.uid}`, s);
        } catch {
          // A pass cut by the stream's start; the next one is whole.
        }
      }
      // Bounded: a pass is a few kB; anything longer without an end line is not ours.
      if (this.pollText.length > 4 * 1024 * 1024) this.pollText = '';
    });
    poller.on('error', () => undefined);
  }

  /** Whether the capture is still running whole: no early end, no failure, not closing. */
  get alive(): boolean {
    return !this.closing && !this.endedEarly && this.failure === null;
  }

  /** Moves the pcap being written to `file` (the open descriptor follows it). */
  adopt(file: string): void {
    renameSync(this.file, file);
    this.file = file;
  }

  /** Stops a window nobody will close, and removes its pcap. */
  async discard(): Promise<void> {
    await this.abort();
    removePartialFile(this.file);
  }

  /** The analysis of what has streamed in so far (the window stays open). */
  peek(): CaptureAnalysis {
    return this.analyzer.report();
  }

  /** Packets analysed so far. */
  get packets(): number {
    return this.analyzer.packets;
  }

  /**
   * Stops the capture and the poller; returns the packets the kernel dropped from the capture as
   * its tcpdump said at exit, null when it said nothing (PCAPdroid, an emulator's file, a
   * command that prints no statistics, a tcpdump that could not be stopped).
   */
  private async stopSources(discarding = false): Promise<number | null> {
    this.poller?.destroy();
    let kernelDrops: number | null = null;
    // A window being discarded waits for nothing: its capture is stopped and cut at once.
    const stopMs = discarding ? 0 : (this.options.stopTimeoutMs ?? CAPTURE_STOP_MS);
    if (this.deviceFiles !== null && this.source !== null && !this.endedEarly) {
      kernelDrops = await stopDeviceCapture(this.options.device, this.options.facts.root, this.deviceFiles, this.source, this.ended, stopMs);
      this.deviceFiles = null;
    } else if (this.process !== null) {
      // SIGTERM: tcpdump prints its statistics and exits (lib/lab/network/gateway.ts's does).
      if (this.process.exitCode === null) this.process.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.gatewayExited, new Promise<void>((r) => (timer = setTimeout(r, stopMs)))]);
      clearTimeout(timer);
      kernelDrops = parseKernelDrops(this.gatewayStderr);
    }
    this.source?.destroy();
    await this.ended;
    await this.removeDeviceFiles();
    if (this.writeFailed) return kernelDrops;
    await new Promise<void>((resolve, reject) => this.out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    return kernelDrops;
  }

  /** tcpdump's pid and stderr files leave the device with the window, whatever became of it. */
  private async removeDeviceFiles(): Promise<void> {
    const files = this.deviceFiles;
    this.deviceFiles = null;
    const collect = files === null ? null : collectCaptureArgv(this.options.facts.root, files);
    if (collect !== null) await this.options.device.run(collect).catch(() => undefined);
  }

  private async abort(): Promise<void> {
    this.closing = true;
    if (this.devicePcap !== null) await this.options.device.run(pcapdroidControl('stop')).catch(() => undefined);
    await this.stopSources(true).catch(() => undefined);
    await this.removeDevicePcap();
  }

  /** Stops the capture and returns the analysis (already done while streaming) and the sockets seen. */
  async close(): Promise<WindowCapture> {
    // PCAPdroid writes what it holds when told to stop; a stop it did not take leaves the
    // capture's end unknown, and the window breaks.
    if (this.options.method === 'pcapdroid')
      await this.stopPcapdroid().catch((error: unknown) => {
        this.failure ??= error as Error;
      });
    // Let the last packets reach the host (tcpdump -U flushes per packet, adb forwards at once):
    // the stream quiet for FLUSH_QUIET_MS, or FLUSH_MAX_MS at most (background traffic never stops).
    const closeAt = Date.now();
    while (Date.now() - closeAt < FLUSH_MAX_MS && Date.now() - Math.max(this.lastDataAt, closeAt) < FLUSH_QUIET_MS) {
      await new Promise((r) => setTimeout(r, FLUSH_POLL_MS));
    }
    this.closing = true;
    const kernelDrops = await this.stopSources();
    await this.removeDevicePcap();
    // A capture that stopped by itself saw only part of the window: no verdict may rest on it.
    if (this.endedEarly) {
      throw new CaptureError(
        this.options.facts.serial,
        this.options.method,
        `the capture stream ended before the window closed, after ${this.bytes} bytes (the device dropped, rebooted, or tcpdump died)${this.failure ? `: ${this.failure.message}` : ''}`,
      );
    }
    if (this.failure !== null && (this.writeFailed || !(this.failure instanceof CaptureError && this.bytes >= 24))) {
      // A pcap cut off mid-record by a full disk is no evidence: it goes, and frees the space.
      if (this.writeFailed) removePartialFile(this.file);
      throw this.failure;
    }
    const analysis = this.analyzer.finish();
    analysis.capture.droppedByKernel = kernelDrops;
    return { analysis, sockets: [...this.sockets.values()], bytes: this.bytes, file: this.file, method: this.options.method };
  }
}
