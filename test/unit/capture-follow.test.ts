// The two capture methods that are not a stream of their own: the emulator's `-tcpdump` file,
// followed on the host while it grows, and PCAPdroid's pcap file on the device, started and
// stopped through its capture API and followed over adb. What a window gets is always a whole
// pcap of what happened after it opened.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { analyzeFile } from '../../lib/analysis/index.js';
import { followPcapFile } from '../../lib/capture/follow.js';
import { CaptureFormatError } from '../../lib/capture/errors.js';
import type { DeviceBackend, RunResult } from '../../lib/device/adb.js';
import { alwaysPresent } from '../support/presence.js';
import { PCAPDROID_DIR } from '../../lib/device/capture.js';
import { CaptureError, CaptureWindow } from '../../lib/harness/window.js';
import { ipv6, LINKTYPE, pcapFile, rawIp, udp } from '../support/packets.js';

/** One raw-IP UDP packet to port `port`, as a pcap file, and its records alone. */
function packet(port: number, ts: number): { file: Buffer; record: Buffer } {
  const data = rawIp(ipv6({ src: '2001:db8::1', dst: '2001:db8::2', payload: udp({ srcPort: 40000, dstPort: port, payload: new Uint8Array(20) }) }));
  const file = Buffer.from(pcapFile({ linkType: LINKTYPE.RAW, packets: [{ ts, data }] }));
  return { file, record: file.subarray(24) };
}

const header = packet(1, 1).file.subarray(0, 24);
const tick = (ms = 60) => new Promise((r) => setTimeout(r, ms));

function collect(stream: Readable): { bytes: () => Buffer; error: () => Error | null } {
  const chunks: Buffer[] = [];
  let failure: Error | null = null;
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('error', (e) => {
    failure = e;
  });
  return { bytes: () => Buffer.concat(chunks), error: () => failure };
}

/** What a follower of `file` gives while `act` changes the file: one capture window's worth. */
/**
 * Waits (at most 10 s, whatever the machine's load) until `ready` holds or the stream failed: a
 * follower opens its file and finds its start asynchronously, so a fixed pause can be too short.
 */
async function until(ready: () => boolean, got: { error: () => Error | null }): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!ready() && got.error() === null && Date.now() < deadline) await tick(5);
}

/** Follows `file`: once it has found its start (the header is out), `act`; then until `expect` bytes came (or a moment, when none are expected). */
async function followWhile(file: string, act: () => void, expectBytes = 0): Promise<{ bytes: Buffer; error: Error | null }> {
  const stream = followPcapFile(file, { pollMs: 10 });
  const got = collect(stream);
  await until(() => got.bytes().length >= header.length, got);
  act();
  if (expectBytes > 0) await until(() => got.bytes().length >= expectBytes, got);
  else await tick();
  stream.destroy();
  return { bytes: got.bytes(), error: got.error() };
}

describe("following a pcap file a capture grows (the emulator's -tcpdump)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'v6lab-follow-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the header, then only whole records appended after it opened, a half-written one once whole', async () => {
    const file = join(dir, 'emu.pcap');
    const before = packet(53, 100).record;
    const half = packet(443, 101).record;
    writeFileSync(file, Buffer.concat([header, before, half.subarray(0, 10)]));
    const stream = followPcapFile(file, { pollMs: 10 });
    const got = collect(stream);
    await until(() => got.bytes().length >= header.length, got);
    assert.deepEqual(got.bytes(), header, "only the header: what was there before is not the window's");
    appendFileSync(file, half.subarray(10));
    const after = packet(8080, 102).record;
    appendFileSync(file, Buffer.concat([after, after.subarray(0, 5)]));
    await until(() => got.bytes().length >= header.length + half.length + after.length, got);
    // A moment more: the cut record at the end must still be held back after further polls.
    await tick();
    stream.destroy();
    assert.deepEqual(got.bytes(), Buffer.concat([header, half, after]), 'the cut record at the end is held back');
    assert.equal(got.error(), null);
    // What was followed is a pcap the analyzer reads whole.
    const out = join(dir, 'window.pcap');
    writeFileSync(out, got.bytes());
    const analysis = await analyzeFile(out);
    assert.deepEqual(
      analysis.flows.map((f) => f.serverPort).sort((a, b) => a - b),
      [443, 8080],
    );
  });

  it('a second window starts where the first left off, and reads only what came after it', async () => {
    const file = join(dir, 'emu.pcap');
    writeFileSync(file, Buffer.concat([header, packet(1, 1).record]));
    const whole = header.length + packet(2, 2).record.length;
    const one = await followWhile(file, () => appendFileSync(file, packet(2, 2).record), whole);
    appendFileSync(file, packet(3, 3).record);
    const two = await followWhile(file, () => appendFileSync(file, packet(4, 4).record), whole);
    assert.deepEqual(one.bytes, Buffer.concat([header, packet(2, 2).record]));
    assert.deepEqual(two.bytes, Buffer.concat([header, packet(4, 4).record]));
  });

  it('names the file and the offset when it is missing, pcapng, shrinks, or has an impossible record', async () => {
    const failing = async (file: string, act: () => void = () => undefined): Promise<Error> => (await followWhile(file, act)).error ?? new Error('no error');
    const missing = await failing(join(dir, 'nope.pcap'));
    assert.ok(missing instanceof CaptureFormatError && /nope\.pcap: byte offset 0: does not exist/.test(missing.message), missing.message);
    const ng = join(dir, 'ng.pcap');
    writeFileSync(ng, Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex'));
    assert.match((await failing(ng)).message, /ng\.pcap: byte offset 0: is pcapng/);
    const shrinking = join(dir, 'shrink.pcap');
    writeFileSync(shrinking, Buffer.concat([header, packet(1, 1).record, packet(2, 2).record]));
    assert.match((await failing(shrinking, () => truncateSync(shrinking, 24))).message, /shrink\.pcap: byte offset 24: the file shrank from \d+ to 24 bytes/);
    const broken = join(dir, 'broken.pcap');
    writeFileSync(broken, header);
    const record = Buffer.from(packet(1, 1).record);
    record.writeUInt32LE(0x7fffffff, 8);
    assert.match((await failing(broken, () => appendFileSync(broken, record))).message, /broken\.pcap: byte offset 32: record length 2147483647/);
  });

  it('an emulator capture window analyses what the file gained while it was open', async () => {
    const file = join(dir, 'emu.pcap');
    writeFileSync(file, Buffer.concat([header, packet(53, 1).record]));
    const device: DeviceBackend = {
      serial: 'emulator-5554',
      run: async () => ({ output: '', exitCode: 0 }),
      runOk: async () => '',
      stream: async () => new PassThrough(),
      pull: async () => Buffer.alloc(0),
      push: async () => undefined,
      ...alwaysPresent('emulator-5554'),
    };
    const window = await CaptureWindow.open({
      device,
      facts: { serial: 'emulator-5554', root: null, tcpdump: null },
      method: 'emulator',
      gatewayCapture: null,
      emulatorCapture: file,
      file: join(dir, 'w.pcap'),
      analyze: {},
      pollSockets: false,
    });
    appendFileSync(file, packet(443, 2).record);
    await tick();
    const capture = await window.close();
    assert.equal(capture.method, 'emulator');
    assert.deepEqual(
      capture.analysis.flows.map((f) => f.serverPort),
      [443],
    );
    assert.deepEqual(readFileSync(join(dir, 'w.pcap')), Buffer.concat([header, packet(443, 2).record]));
    await assert.rejects(
      CaptureWindow.open({
        device,
        facts: { serial: 'emulator-5554', root: null, tcpdump: null },
        method: 'emulator',
        gatewayCapture: null,
        emulatorCapture: null,
        file: join(dir, 'x.pcap'),
        analyze: {},
        pollSockets: false,
      }),
      /emulator-5554: emulator capture: the profile gives no emulatorCapture file/,
    );
  });
});

/**
 * A phone with PCAPdroid, as adb shows it: `am start` on its CaptureCtrl starts or stops a
 * capture to a file under Download/PCAPdroid, which grows while apps run.
 */
class PcapdroidPhone implements DeviceBackend {
  ensureAvailable = alwaysPresent('emulator-5554').ensureAvailable;
  watchPresence = alwaysPresent('emulator-5554').watchPresence;
  readonly serial = 'R58N12ABCDE';
  readonly calls: string[][] = [];
  readonly files = new Map<string, Buffer>();
  /** Whether the user accepted PCAPdroid's VPN request (a capture starts only then). */
  consented = true;
  running: string | null = null;
  private tail: PassThrough | null = null;

  async run(argv: readonly string[]): Promise<RunResult> {
    this.calls.push([...argv]);
    if (argv[0] === 'am') {
      const action = argv[argv.indexOf('action') + 1];
      if (action === 'start' && this.consented) {
        this.running = `${PCAPDROID_DIR}/${argv[argv.indexOf('pcap_name') + 1]}`;
        this.files.set(this.running, Buffer.from(header));
      }
      if (action === 'stop') this.running = null;
      return { output: 'Starting: Intent { cmp=com.emanuelef.remote_capture/.activities.CaptureCtrl (has extras) }\n', exitCode: 0 };
    }
    if (argv[0] === 'stat') {
      const file = this.files.get(argv[3]!);
      return file ? { output: `${file.length}\n`, exitCode: 0 } : { output: `stat: '${argv[3]}': No such file or directory\n`, exitCode: 1 };
    }
    if (argv[0] === 'rm') {
      this.files.delete(argv[2]!);
      return { output: '', exitCode: 0 };
    }
    return { output: '', exitCode: 0 };
  }

  async runOk(argv: readonly string[]): Promise<string> {
    return (await this.run(argv)).output;
  }

  async stream(argv: readonly string[]): Promise<Readable> {
    this.calls.push([...argv]);
    this.tail = new PassThrough();
    this.tail.write(this.files.get(argv[argv.length - 1]!) ?? Buffer.alloc(0));
    return this.tail;
  }

  /** An app's packet: PCAPdroid appends it to its file, and `tail -f` passes it on. */
  capture(record: Buffer): void {
    if (this.running === null) return;
    this.files.set(this.running, Buffer.concat([this.files.get(this.running)!, record]));
    this.tail?.write(record);
  }

  async pull(): Promise<Buffer> {
    return Buffer.alloc(0);
  }
  async push(): Promise<void> {}
}

describe('a capture through PCAPdroid (no root)', () => {
  it('starts it for IPv4 and IPv6 alike, follows its file over adb, stops it and removes the file', async () => {
    const phone = new PcapdroidPhone();
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-pcapdroid-'));
    try {
      const window = await CaptureWindow.open({
        device: phone,
        facts: { serial: phone.serial, root: null, tcpdump: null },
        method: 'pcapdroid',
        gatewayCapture: null,
        file: join(dir, 'app.pcap'),
        analyze: {},
        pollSockets: false,
      });
      const start = phone.calls.find((c) => c[0] === 'am')!;
      assert.deepEqual(start.slice(0, 5), ['am', 'start', '-e', 'action', 'start']);
      assert.equal(start[start.indexOf('ip_mode') + 1], 'both', "PCAPdroid's default VPN is IPv4-only");
      assert.equal(start[start.indexOf('pcap_dump_mode') + 1], 'pcap_file');
      assert.deepEqual(start.slice(-2), ['-n', 'com.emanuelef.remote_capture/.activities.CaptureCtrl']);
      const devicePcap = `${PCAPDROID_DIR}/${start[start.indexOf('pcap_name') + 1]}`;
      assert.deepEqual(
        phone.calls.find((c) => c[0] === 'tail'),
        ['tail', '-c', '+1', '-f', devicePcap],
      );
      phone.capture(packet(443, 2).record);
      const capture = await window.close();
      assert.deepEqual(
        capture.analysis.flows.map((f) => f.serverPort),
        [443],
      );
      assert.equal(capture.method, 'pcapdroid');
      assert.ok(
        phone.calls.some((c) => c[0] === 'am' && c[4] === 'stop'),
        'asked PCAPdroid to stop',
      );
      assert.equal(phone.running, null);
      assert.equal(phone.files.size, 0, 'its file is removed from the phone');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("without the user's consent on the phone, says what to accept there", async () => {
    const phone = new PcapdroidPhone();
    phone.consented = false;
    await assert.rejects(
      CaptureWindow.open({
        device: phone,
        facts: { serial: phone.serial, root: null, tcpdump: null },
        method: 'pcapdroid',
        gatewayCapture: null,
        file: join(tmpdir(), 'never-pcapdroid.pcap'),
        analyze: {},
        pollSockets: false,
        startTimeoutMs: 300,
      }),
      (e: unknown) =>
        e instanceof CaptureError &&
        /R58N12ABCDE: pcapdroid capture: PCAPdroid wrote no .* within 300 ms: on the device, accept its VPN request/.test(e.message),
    );
    assert.ok(
      phone.calls.some((c) => c[0] === 'am' && c[4] === 'stop'),
      'a start it may still take is stopped',
    );
  });
});
