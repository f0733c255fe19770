/**
 * A packet capture on the device itself, streamed to the host while the test runs: tcpdump
 * writing pcap to stdout (`-w -`, `-U` so each packet is flushed), run as root the way the
 * device allows (adbd already root, or `su -c`). The bytes are also kept in a file, the
 * evidence a report links to. A device without root or tcpdump cannot capture this way: the
 * caller takes another method (a capture at the gateway), and the error says why.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { DeviceBackend } from './adb.js';
import { DeviceError } from './errors.js';
import type { DeviceFacts, RootMethod } from './facts.js';
import { asRoot } from './shell.js';

export class CaptureUnavailableError extends DeviceError {
  constructor(serial: string, reason: string) {
    super(serial, `cannot capture on the device: ${reason}; capture at the gateway instead (profile capture: "gateway")`);
    this.name = 'CaptureUnavailableError';
  }
}

/** tcpdump's capture buffer (-B, KiB): room for a burst while its output waits. */
export const CAPTURE_BUFFER_KIB = 16 * 1024;

/**
 * Where a device capture keeps, on the device, tcpdump's pid (to stop it with SIGINT) and its
 * stderr (its statistics at exit: how many packets the kernel dropped).
 */
export interface DeviceCaptureFiles {
  pid: string;
  log: string;
}

export function deviceCaptureFiles(nonce = randomBytes(6).toString('hex')): DeviceCaptureFiles {
  const base = `/data/local/tmp/v6lab-capture-${nonce}`;
  return { pid: `${base}.pid`, log: `${base}.log` };
}

/**
 * Runs "$@" (tcpdump) as this shell's own process, its pid in $1 and its stderr in $2: never on
 * the stream. `shell:` (v1, what adbkit speaks) carries stderr on the same stream as stdout, so
 * tcpdump's "listening on any" would land inside the pcap (Debian's tcpdump 4.99 writes it right
 * after the file header, measured); and its statistics at exit went to /dev/null before.
 */
const CAPTURE_SCRIPT = 'echo $$ >"$1"; log=$2; shift 2; exec "$@" 2>"$log"';

/** The argv that captures every interface as pcap on stdout, run as root the device's way. */
export function tcpdumpArgv(facts: Pick<DeviceFacts, 'serial' | 'root' | 'tcpdump'>, files: DeviceCaptureFiles, snapLength = 65535): string[] {
  if (facts.tcpdump === null) throw new CaptureUnavailableError(facts.serial, 'no tcpdump on the device (userdebug and eng builds have it)');
  // -B: in immediate mode libpcap's ring (TPACKET_V2) has one slot per snapshot length, so its
  // default 2 MiB holds some 32 packets of 64 KiB: a burst while the stream to the host is slow
  // (the harness judging the window before) was dropped in the kernel, unseen (issue 20: a DNS
  // answer and first SYNs missing from app windows). 16 MiB holds some 250.
  const tcpdump = [facts.tcpdump, '-i', 'any', '-U', '--immediate-mode', '-B', String(CAPTURE_BUFFER_KIB), '-s', String(snapLength), '-w', '-'];
  const argv = asRoot(['sh', '-c', CAPTURE_SCRIPT, 'sh', files.pid, files.log, ...tcpdump], facts.root);
  if (argv === null) throw new CaptureUnavailableError(facts.serial, 'no root (adbd runs as the shell user and there is no su)');
  return argv;
}

/**
 * Stops the capture as a person would with ^C: SIGINT to the pid the capture wrote, if that
 * process is still a tcpdump (a pid reused since is left alone). tcpdump then writes what it
 * holds, prints its statistics and exits, and its stream ends by itself. In the same round trip
 * (one `su` where there is one): waits for it to be gone (`waitMs` at most; a zombie's cmdline is
 * empty), prints its stderr and removes both files.
 */
export function stopCaptureArgv(root: RootMethod, files: DeviceCaptureFiles, waitMs = CAPTURE_STOP_MS): string[] | null {
  const polls = String(Math.max(1, Math.ceil(waitMs / 50)));
  return asRoot(
    [
      'sh',
      '-c',
      'p=$(cat "$1") && grep -q tcpdump "/proc/$p/cmdline" && kill -INT "$p" && i=0 && while grep -q tcpdump "/proc/$p/cmdline" 2>/dev/null && [ "$i" -lt "$3" ]; do sleep 0.05; i=$((i+1)); done; cat "$2"; rm -f "$1" "$2"',
      'sh',
      files.pid,
      files.log,
      polls,
    ],
    root,
  );
}

/** Prints the capture's stderr and removes both of its files. */
export function collectCaptureArgv(root: RootMethod, files: DeviceCaptureFiles): string[] | null {
  return asRoot(['sh', '-c', 'cat "$1"; rm -f "$1" "$2"', 'sh', files.log, files.pid], root);
}

/**
 * The packets tcpdump said the kernel dropped (its "N packets dropped by kernel" at exit: the
 * capture's ring was full, so they are missing from the pcap), or null when it said nothing of
 * it (killed before it could, or output of something else). "dropped by interface" is not a
 * capture's loss: those packets never reached the stack, nor the app.
 */
export function parseKernelDrops(stderr: string): number | null {
  const found = /^(\d+) packets? dropped by kernel$/m.exec(stderr);
  return found === null ? null : Number(found[1]);
}

/** PCAPdroid (no root: it captures through a VPN of its own), and where its pcap files go. */
export const PCAPDROID_PACKAGE = 'com.emanuelef.remote_capture';
export const PCAPDROID_DIR = '/sdcard/Download/PCAPdroid';

/**
 * The `am start` argv driving PCAPdroid's capture API (its docs/app_api.md): `start` writes
 * every app's traffic to PCAPDROID_DIR/`pcapName`, over IPv4 and IPv6 (`ip_mode both`: its
 * default VPN is IPv4-only, which would hide IPv6 from the apps and make every verdict wrong).
 */
export function pcapdroidControl(action: 'start' | 'stop', pcapName?: string): string[] {
  const extras = action === 'start' ? ['-e', 'pcap_dump_mode', 'pcap_file', '-e', 'pcap_name', pcapName ?? 'v6lab.pcap', '-e', 'ip_mode', 'both'] : [];
  return ['am', 'start', '-e', 'action', action, ...extras, '-n', `${PCAPDROID_PACKAGE}/.activities.CaptureCtrl`];
}

/** How long a capture told to stop may take to write what it holds and exit before its stream is cut. */
export const CAPTURE_STOP_MS = 3000;

/**
 * Stops a capture started with tcpdumpArgv (stopCaptureArgv: SIGINT, tcpdump's statistics read,
 * its files removed, in one round trip), then awaits the stream's own end (`timeoutMs` at most, 0
 * for none; then it is cut, as closing it always did). Returns the packets the kernel dropped,
 * null when tcpdump did not say (the device gone, tcpdump killed); never throws.
 */
export async function stopDeviceCapture(
  device: DeviceBackend,
  root: RootMethod,
  files: DeviceCaptureFiles,
  stream: Readable,
  ended: Promise<void>,
  timeoutMs = CAPTURE_STOP_MS,
): Promise<number | null> {
  const stop = stopCaptureArgv(root, files);
  const log = stop === null ? null : await device.run(stop, { timeoutMs: 2 * CAPTURE_STOP_MS }).catch(() => null);
  let timer: NodeJS.Timeout | undefined;
  const endedInTime = await Promise.race([ended.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
  clearTimeout(timer);
  if (!endedInTime) {
    stream.destroy();
    await ended;
  }
  return log === null ? null : parseKernelDrops(log.output);
}

export interface DeviceCapture {
  /** The pcap bytes as they arrive. */
  readonly stream: Readable;
  /** Where the bytes are kept. */
  readonly file: string;
  /** Stops tcpdump (stopDeviceCapture) and waits for the file to be complete; the bytes and the kernel's drops. */
  stop(): Promise<{ bytes: number; kernelDrops: number | null }>;
}

export async function startDeviceCapture(device: DeviceBackend, facts: Pick<DeviceFacts, 'serial' | 'root' | 'tcpdump'>, file: string): Promise<DeviceCapture> {
  const files = deviceCaptureFiles();
  const stream = await device.stream(tcpdumpArgv(facts, files));
  const out: WriteStream = createWriteStream(file);
  let bytes = 0;
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    out.write(chunk);
  });
  const ended = new Promise<void>((resolve) => {
    stream.once('close', resolve);
    stream.once('end', resolve);
    stream.once('error', () => resolve());
  });
  return {
    stream,
    file,
    async stop() {
      const kernelDrops = await stopDeviceCapture(device, facts.root, files, stream, ended);
      await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
      return { bytes, kernelDrops };
    },
  };
}
