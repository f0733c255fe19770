/**
 * adb flow control, checked at the wire: a raw host (no adb server) that advertises a small
 * maxdata and withholds its OKAYs, against the daemon; and an AdbStream on a fake transport.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdbDaemon } from '../../lib/lab/adbd/daemon.js';
import { LocalHandsetHost } from '../../lib/lab/adbd/host.js';
import { A_VERSION, COMMAND, commandName, encodeMessage, MessageDecoder, type AdbMessage } from '../../lib/lab/adbd/protocol.js';
import { AdbStream, type StreamTransport } from '../../lib/lab/adbd/stream.js';
import { pidsWithArgv, waitFor } from '../support/adb-cli.js';

/** A host end of the transport, speaking raw messages. */
class RawHost {
  readonly received: AdbMessage[] = [];
  readonly #decoder = new MessageDecoder();
  #waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const message of this.#decoder.push(chunk)) this.received.push({ ...message, data: Buffer.from(message.data) });
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static open(port: number): Promise<RawHost> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawHost(socket)));
      socket.once('error', reject);
    });
  }

  send(command: number, arg0: number, arg1: number, data: Buffer | string = Buffer.alloc(0)): void {
    this.socket.write(encodeMessage({ command, arg0, arg1, data: typeof data === 'string' ? Buffer.from(data) : data }));
  }

  /** Waits (with a deadline) for the next received message at index `at` and returns it. */
  async next(at: number, timeoutMs = 3000): Promise<AdbMessage> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length <= at) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message #${at} within ${timeoutMs} ms (got ${this.received.map((m) => commandName(m.command)).join(' ')})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received[at]!;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('adbd: flow control on the wire', function () {
  this.timeout(10_000);
  let dir = '';
  let daemon: AdbDaemon;
  let host: RawHost;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'v6lab-adbd-wire-'));
    daemon = new AdbDaemon(new LocalHandsetHost({ root: dir }), { banner: { product: 'p', model: 'M', device: 'd' }, features: [] });
    await daemon.listen(0);
  });

  beforeEach(async () => {
    host = await RawHost.open(daemon.port);
    // A host with a small maxdata: every WRTE to it must fit.
    host.send(COMMAND.CNXN, A_VERSION, 4096, 'host::features=shell_v2\0');
    const cnxn = await host.next(0);
    assert.equal(commandName(cnxn.command), 'CNXN');
    assert.equal(cnxn.arg0, A_VERSION);
    assert.equal(cnxn.arg1, 1048576);
    assert.equal(cnxn.data.toString(), 'device::ro.product.name=p;ro.product.model=M;ro.product.device=d;features=');
  });

  afterEach(() => host.socket.destroy());

  after(async () => {
    await daemon.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an unknown service with CLSE(0, host id)', async () => {
    host.send(COMMAND.OPEN, 77, 0, 'jdwp:1234\0');
    const reply = await host.next(1);
    assert.deepEqual([commandName(reply.command), reply.arg0, reply.arg1], ['CLSE', 0, 77]);
  });

  it("keeps one WRTE outstanding, each within the host's maxdata, and sends the rest on OKAY", async () => {
    host.send(COMMAND.OPEN, 5, 0, 'exec:head -c 20000 /dev/zero\0');
    const okay = await host.next(1);
    assert.deepEqual([commandName(okay.command), okay.arg1], ['OKAY', 5]);
    const local = okay.arg0;
    let bytes = 0;
    let at = 2;
    for (;;) {
      const message = await host.next(at);
      if (message.command === COMMAND.CLSE) break;
      assert.equal(commandName(message.command), 'WRTE');
      assert.deepEqual([message.arg0, message.arg1], [local, 5]);
      assert.ok(message.data.length <= 4096, `WRTE of ${message.data.length} bytes`);
      bytes += message.data.length;
      // Nothing more may come until this one is acknowledged.
      await sleep(30);
      assert.equal(host.received.length, at + 1, 'a second WRTE before the OKAY');
      host.send(COMMAND.OKAY, 5, local);
      at++;
    }
    assert.equal(bytes, 20000);
  });

  it('withholds its OKAY while the command does not read its stdin', async () => {
    // `sleep` never reads: the pipe (64 KiB) and the stream's buffer fill, then OKAYs stop.
    host.send(COMMAND.OPEN, 9, 0, 'exec:sleep 5.4321\0');
    const local = (await host.next(1)).arg0;
    const chunk = Buffer.alloc(4096, 0x61);
    let okays = 0;
    // Like a real host, send the next WRTE only once the last one is acknowledged; an OKAY that
    // has not come within 400 ms (a loaded CI machine answers in well under that) is withheld.
    for (let i = 0; i < 1000; i++) {
      const before = host.received.length;
      host.send(COMMAND.WRTE, 9, local, chunk);
      const reply = await host.next(before, 400).catch(() => undefined);
      if (!reply) break;
      assert.equal(commandName(reply.command), 'OKAY');
      okays++;
    }
    assert.ok(okays > 10 && okays < 1000, `${okays} OKAYs`);
    // Let the wire settle: still no OKAY for the last WRTE.
    const settled = host.received.length;
    await sleep(300);
    assert.equal(host.received.length, settled);
    host.send(COMMAND.CLSE, 9, local);
    await waitFor('the sleep to be killed', () => pidsWithArgv(['sleep', '5.4321']).length === 0);
  });

  it('runs shell v2 over raw messages: framed output, then the exit code, then CLSE', async () => {
    host.send(COMMAND.OPEN, 3, 0, 'shell,v2,raw:printf out; printf err >&2; exit 7\0');
    const local = (await host.next(1)).arg0;
    const payload: Buffer[] = [];
    for (let at = 2; ; at++) {
      const message = await host.next(at);
      if (message.command === COMMAND.CLSE) break;
      payload.push(message.data);
      host.send(COMMAND.OKAY, 3, local);
    }
    const bytes = Buffer.concat(payload);
    const packets: [number, string][] = [];
    for (let at = 0; at < bytes.length; ) {
      const length = bytes.readUInt32LE(at + 1);
      packets.push([bytes[at]!, bytes.subarray(at + 5, at + 5 + length).toString('latin1')]);
      at += 5 + length;
    }
    assert.deepEqual(
      packets.filter(([id]) => id === 1),
      [[1, 'out']],
    );
    assert.deepEqual(
      packets.filter(([id]) => id === 2),
      [[2, 'err']],
    );
    assert.deepEqual(packets.at(-1), [3, '\x07']);
  });
});

describe('adbd: AdbStream on a fake transport', () => {
  function fakeTransport(maxPayload: number) {
    const sent: { command: string; length: number }[] = [];
    const transport: StreamTransport = {
      maxPayload,
      send: (command, _a, _b, _parts, length = 0) => sent.push({ command: commandName(command), length }),
      forget: () => {},
    };
    return { sent, transport };
  }

  it('splits a large write into maxdata WRTEs, one per OKAY, and closes after the last', async () => {
    const { sent, transport } = fakeTransport(1000);
    const stream = new AdbStream(transport, 1, 2, 'test');
    let written = false;
    stream.write(Buffer.alloc(2500), () => (written = true));
    stream.end();
    assert.deepEqual(sent, [{ command: 'WRTE', length: 1000 }]);
    stream.acknowledge();
    assert.deepEqual(
      sent.map((s) => s.length),
      [1000, 1000],
    );
    stream.acknowledge();
    stream.acknowledge();
    await sleep(0);
    assert.ok(written);
    assert.deepEqual(
      sent.map((s) => `${s.command}${s.length}`),
      ['WRTE1000', 'WRTE1000', 'WRTE500', 'CLSE0'],
    );
  });

  it('owes the OKAY for a WRTE until its reader makes room', async () => {
    const { sent, transport } = fakeTransport(1000);
    const stream = new AdbStream(transport, 1, 2, 'test');
    stream.receive(Buffer.alloc(400));
    assert.deepEqual(
      sent.map((s) => s.command),
      ['OKAY'],
    );
    stream.receive(Buffer.alloc(1000));
    assert.deepEqual(
      sent.map((s) => s.command),
      ['OKAY'],
      'the buffer is over its high-water mark: no OKAY yet',
    );
    stream.read();
    await sleep(0);
    assert.deepEqual(
      sent.map((s) => s.command),
      ['OKAY', 'OKAY'],
    );
  });

  it('sends no CLSE for a stream the host closed', () => {
    const { sent, transport } = fakeTransport(1000);
    const stream = new AdbStream(transport, 1, 2, 'test');
    stream.abort();
    assert.equal(stream.destroyed, true);
    assert.deepEqual(sent, []);
  });
});
