// A capture window's failures are the window's check breaking, never a verdict on part of the
// evidence: the capture's stream ending before the window closed (a device gone), or its file
// not being written (a full disk: /dev/full answers every write with ENOSPC).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { DeviceBackend } from '../../lib/device/adb.js';
import { alwaysPresent } from '../support/presence.js';
import { AdbServerError, adbTransportError, DeviceUnavailableError, TransferDroppedError, TruncatedOutputError } from '../../lib/device/errors.js';
import { AppStoppedError, faultCode, UiError } from '../../lib/harness/certification.js';
import { faultMessage, RETRIED_FAULTS } from '../../lib/harness/faults.js';
import { CaptureDroppedError, CaptureError, CaptureWindow, wholeCapture } from '../../lib/harness/window.js';
import { LINKTYPE, pcapFile } from '../support/packets.js';

function device(stream: PassThrough): DeviceBackend {
  return {
    serial: 'fake-1',
    run: async () => ({ output: '', exitCode: 0 }),
    runOk: async () => '',
    stream: async () => stream,
    pull: async () => Buffer.alloc(0),
    push: async () => undefined,
    ...alwaysPresent('fake-1'),
  };
}

const facts = { serial: 'fake-1', root: 'adbd' as const, tcpdump: '/system/bin/tcpdump' };
const header = () => Buffer.from(pcapFile({ linkType: LINKTYPE.RAW, packets: [] }));

describe('capture windows that fail', () => {
  it('a full disk breaks the window, naming the file and ENOSPC', async () => {
    const stream = new PassThrough();
    const opening = CaptureWindow.open({
      device: device(stream),
      facts,
      method: 'device',
      gatewayCapture: null,
      file: '/dev/full',
      analyze: {},
      pollSockets: false,
      stopTimeoutMs: 200,
    });
    stream.write(header());
    const window = await opening;
    stream.write(Buffer.alloc(70_000));
    await assert.rejects(window.close(), (e: unknown) => e instanceof CaptureError && /\/dev\/full failed: .*ENOSPC/.test(e.message));
    // A cut capture file is removed, but never a device the output was pointed at.
    assert.ok(statSync('/dev/full').isCharacterDevice(), '/dev/full is still the device');
  });

  it('a stream that ends before the window closes is a dropped capture, not a short one', async () => {
    const stream = new PassThrough();
    const file = join(mkdtempSync(join(tmpdir(), 'v6lab-window-')), 'w.pcap');
    const opening = CaptureWindow.open({ device: device(stream), facts, method: 'device', gatewayCapture: null, file, analyze: {}, pollSockets: false });
    stream.write(header());
    const window = await opening;
    stream.end();
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(window.close(), (e: unknown) => e instanceof CaptureError && /ended before the window closed, after 24 bytes/.test(e.message));
  });

  it('a capture that never starts says so within its deadline', async () => {
    const stream = new PassThrough();
    await assert.rejects(
      CaptureWindow.open({
        device: device(stream),
        facts,
        method: 'device',
        gatewayCapture: null,
        file: join(tmpdir(), 'never.pcap'),
        analyze: {},
        pollSockets: false,
        startTimeoutMs: 200,
      }),
      (e: unknown) => e instanceof CaptureError && /no capture header within 200 ms/.test(e.message),
    );
  });
});

/** A device capture window on `backend`, its stream given the pcap header: open once the header is read. */
function openWindow(backend: DeviceBackend, stream: PassThrough, file: string, stopTimeoutMs: number): Promise<CaptureWindow> {
  const opening = CaptureWindow.open({ device: backend, facts, method: 'device', gatewayCapture: null, file, analyze: {}, pollSockets: false, stopTimeoutMs });
  stream.write(header());
  return opening;
}

describe("a capture window's pcap in a run directory that is not trusted", () => {
  const opened = (file: string) => {
    const stream = new PassThrough();
    return openWindow(device(stream), stream, file, 50);
  };

  it("replaces a symlink planted at its name, never writing through it, and an earlier attempt's pcap", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-window-'));
    const outside = join(dir, 'outside.txt');
    writeFileSync(outside, 'host file\n');
    const file = join(dir, 'app.pcap');
    symlinkSync(outside, file);
    await (await opened(file)).close();
    assert.equal(readFileSync(outside, 'utf8'), 'host file\n');
    assert.ok(lstatSync(file).isFile(), 'the symlink was replaced by the pcap');
    assert.equal(statSync(file).size, 24);
    // A retry writes its window where the broken attempt's was.
    await (await opened(file)).close();
    assert.equal(statSync(file).size, 24);
  });

  it('a FIFO or a directory at its name is an error at once, never opened for writing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-window-'));
    const fifo = join(dir, 'fifo.pcap');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(opened(fifo), (e: unknown) => (e as NodeJS.ErrnoException).code === 'EEXIST');
    mkdirSync(join(dir, 'dir.pcap'));
    await assert.rejects(opened(join(dir, 'dir.pcap')), (e: unknown) => (e as NodeJS.ErrnoException).code === 'EEXIST');
  });
});

describe("a capture window's tcpdump statistics", () => {
  /** A device whose tcpdump, told to stop, ends its stream and says the kernel dropped `dropped` packets. */
  function stopping(stream: PassThrough, stats: string): { backend: DeviceBackend; commands: string[][] } {
    const commands: string[][] = [];
    const backend: DeviceBackend = {
      ...device(stream),
      run: async (argv) => {
        commands.push([...argv]);
        // The stop: tcpdump ends its stream, and the same command prints its stderr.
        if (argv.some((a) => a.includes('kill -INT'))) {
          setTimeout(() => stream.end(), 10);
          return { output: stats, exitCode: 0 };
        }
        return { output: '', exitCode: 0 };
      },
    };
    return { backend, commands };
  }
  const open = (backend: DeviceBackend, stream: PassThrough) => openWindow(backend, stream, join(mkdtempSync(join(tmpdir(), 'v6lab-window-')), 'w.pcap'), 1000);

  it('stops tcpdump with SIGINT, lets its stream end by itself (not a dropped capture), and keeps what the kernel dropped', async () => {
    const stream = new PassThrough();
    const { backend, commands } = stopping(stream, '12 packets captured\n15 packets received by filter\n3 packets dropped by kernel\n');
    const window = await open(backend, stream);
    const capture = await window.close();
    assert.equal(capture.analysis.capture.droppedByKernel, 3);
    // One round trip stops it, reads its statistics and removes its files: nothing left on the device.
    assert.equal(commands.filter((c) => c.join(' ').includes('kill -INT') && c.join(' ').includes('rm -f')).length, 1);
    const whole = () => wholeCapture('fake-1', capture);
    assert.throws(
      whole,
      (e: unknown) => e instanceof CaptureDroppedError && e.packets === 3 && /fake-1: device capture: the capture lost 3 packets in the kernel/.test(e.message),
    );
    assert.throws(whole, (e: unknown) => faultCode(e) === 'CAPTURE_DROPPED' && RETRIED_FAULTS.has(faultCode(e)));
    // Its words are built from its fields (so the report can give them in Chinese), the same English.
    assert.throws(whole, (e: unknown) => faultMessage(e).message.key === 'fault.captureDropped' && faultMessage(e).english === (e as Error).message);
  });

  it('a capture that lost nothing is whole; one whose statistics never came is unknown (null), not 0', async () => {
    const clean = new PassThrough();
    const c = await (await open(stopping(clean, '5 packets captured\n5 packets received by filter\n0 packets dropped by kernel\n').backend, clean)).close();
    assert.equal(c.analysis.capture.droppedByKernel, 0);
    assert.equal(wholeCapture('fake-1', c), c);
    // A tcpdump that does not stop: its stream is cut after stopTimeoutMs, and it said nothing.
    const stuck = new PassThrough();
    const silent = { ...device(stuck), run: async () => ({ output: '', exitCode: 0 }) };
    const s = await (await open(silent, stuck)).close();
    assert.equal(s.analysis.capture.droppedByKernel, null);
    assert.equal(wholeCapture('fake-1', s), s);
  });
});

describe('the fault a check broke on, named', () => {
  it('names a dropped device, a dead adb server, a full disk, a failed capture, a crashed app and an Appium failure by type', () => {
    assert.equal(faultCode(new DeviceUnavailableError('emulator-5554', 'absent')), 'DEVICE_DISCONNECTED');
    assert.equal(faultCode(new TruncatedOutputError('emulator-5554', ['sleep', '4'], 12)), 'DEVICE_DISCONNECTED');
    assert.equal(
      faultCode(new TransferDroppedError('emulator-5554', '/sdcard/x', 'pull ended after 3 of 9 bytes: the connection dropped')),
      'DEVICE_DISCONNECTED',
    );
    assert.equal(faultCode(new CaptureError('emulator-5554', 'device', 'no capture header within 15000 ms')), 'CAPTURE_FAILED');
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    assert.equal(faultCode(new CaptureError('emulator-5554', 'device', `writing x.pcap failed: ${full.message}`, { cause: full })), 'STORAGE_FULL');
    assert.equal(faultCode(new AppStoppedError('com.example.maps')), 'APP_CRASHED');
    assert.equal(
      faultCode(new UiError('launch com.example.maps', { cause: new Error('WebDriverError: connect ECONNREFUSED 127.0.0.1:4724') })),
      'APPIUM_ERROR',
    );
    // A message that reads like a fault is not one: only the type says.
    assert.equal(faultCode(new Error("Failure: 'device offline' ECONNREFUSED ENOSPC")), 'HARNESS_ERROR');
  });

  it('turns what adbkit threw into the fault it is, at the transport edge', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:41234'), { code: 'ECONNREFUSED' });
    assert.ok(adbTransportError(refused, 'emulator-5554', 41234) instanceof AdbServerError);
    assert.equal(faultCode(adbTransportError(refused, 'emulator-5554', 41234)), 'ADB_SERVER_DOWN');
    const offline = adbTransportError(new Error("Failure: 'device offline'"), 'emulator-5554', 5037);
    assert.ok(offline instanceof DeviceUnavailableError && offline.state === 'offline');
    const absent = adbTransportError(new Error("Failure: 'device 'emulator-5554' not found'"), 'emulator-5554', 5037);
    assert.ok(absent instanceof DeviceUnavailableError && absent.state === 'absent');
    const other = new Error('something else');
    assert.equal(adbTransportError(other, 'emulator-5554', 5037), other);
  });
});
