/**
 * The virtual handset's adb daemon driven by the real Debian adb (CLI and server) and by adbkit,
 * exactly as they drive a phone. No root: the handset is a LocalHandsetHost under a temp dir.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Duplex, Readable } from 'node:stream';
import { AdbDaemon, LocalHandsetHost } from '../../lib/lab/adbd/index.js';
import { AdbCli, findAdb, freePort, pidsWithArgv, waitFor } from '../support/adb-cli.js';

// `import adbkit from` gives module.exports under plain Node but the Adb class itself when mocha
// loads this file through tsx's CommonJS hook; require() gives module.exports in both.
const adbkit = createRequire(import.meta.url)('@devicefarmer/adbkit') as typeof import('@devicefarmer/adbkit');

const BANNER = { product: 'v6lab_compliant', model: 'V6Lab_Handset', device: 'v6lab' };
const BIG = 50_000_000;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Reads an adbkit transfer to its end: resolves with the bytes on 'end', rejects on 'error'. */
function readTransfer(transfer: Readable, onData?: (received: number) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    transfer.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      onData?.(received);
    });
    transfer.once('end', () => resolve(Buffer.concat(chunks)));
    transfer.once('error', reject);
  });
}

/** Settles when an adbkit push transfer ends ('end') or fails ('error'). */
function pushDone(transfer: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve, reject) => {
    transfer.once('end', resolve);
    transfer.once('error', reject);
  });
}

/** A TCP server inside "the handset" that answers each line with `pong:<line>`. */
function pongServer(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      socket.on('data', (data) => socket.write(`pong:${data.toString()}`));
      socket.on('error', () => {});
    });
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

function roundTrip(socket: Duplex, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('data', (data: Buffer) => resolve(data.toString()));
    socket.once('error', reject);
    socket.write(text);
  });
}

describe('adbd: the virtual handset under real adb and adbkit', function () {
  this.timeout(20_000);

  const adb = findAdb();
  let dir = '';
  let root = '';
  let daemon: AdbDaemon;
  let cli: AdbCli;
  let serial = '';
  let client: ReturnType<typeof adbkit.Adb.createClient>;
  let pong: { server: Server; port: number };
  let bigFile = Buffer.alloc(0);

  before(async function () {
    if (!adb) {
      if (process.env.CI === 'true') throw new Error('adb is not installed: CI must install the Debian adb package (apt-get install adb)');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'v6lab-adbd-'));
    root = join(dir, 'handset');
    mkdirSync(join(root, 'sdcard'), { recursive: true });
    mkdirSync(join(root, 'data/local/tmp'), { recursive: true });
    bigFile = randomBytes(BIG);
    writeFileSync(join(root, 'sdcard/big.bin'), bigFile);

    daemon = new AdbDaemon(new LocalHandsetHost({ root }), { banner: BANNER });
    await daemon.listen(0);
    serial = `127.0.0.1:${daemon.port}`;
    pong = await pongServer();

    mkdirSync(join(dir, 'adb-home'));
    cli = new AdbCli(adb, await freePort(), join(dir, 'adb-home'));
    const started = await cli.run(['start-server']);
    assert.equal(started.code, 0, `adb start-server: ${started.stderr}`);
    const connected = await cli.run(['connect', serial]);
    const said = connected.stdout.toString() + connected.stderr;
    // `adb connect` exits 0 even when it fails: read what it says.
    assert.match(said, new RegExp(`connected to ${serial.replaceAll('.', '\\.')}`), said);
    assert.doesNotMatch(said, /failed|unable/i, said);
    client = adbkit.Adb.createClient({ port: cli.serverPort });
  });

  after(async function () {
    this.timeout(10_000);
    if (cli) await cli.run(['kill-server']).catch(() => undefined);
    await daemon?.close();
    pong?.server.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('the adb CLI', () => {
    it("lists the handset with the banner's model", async () => {
      const { stdout } = await cli.run(['devices', '-l']);
      const line = stdout
        .toString()
        .split('\n')
        .find((l) => l.startsWith(`${serial} `));
      assert.ok(line, stdout.toString());
      assert.match(line, /\sdevice\s/);
      assert.match(line, /\bproduct:v6lab_compliant\b/);
      assert.match(line, /\bmodel:V6Lab_Handset\b/);
      assert.match(line, /\bdevice:v6lab\b/);
    });

    it('runs a shell command', async () => {
      const { code, stdout } = await cli.run(['-s', serial, 'shell', 'echo', 'hi']);
      assert.equal(code, 0);
      assert.equal(stdout.toString(), 'hi\n');
    });

    it("returns the command's exit code (shell v2)", async () => {
      assert.equal((await cli.run(['-s', serial, 'shell', 'exit 3'])).code, 3);
      assert.equal((await cli.run(['-s', serial, 'shell', 'true'])).code, 0);
    });

    it('keeps stderr apart from stdout', async () => {
      const { code, stdout, stderr } = await cli.run(['-s', serial, 'shell', 'echo out; echo err >&2']);
      assert.equal(code, 0);
      assert.equal(stdout.toString(), 'out\n');
      assert.equal(stderr, 'err\n');
    });

    it('passes stdin to the command, then closes it', async () => {
      const child = cli.spawn(['-s', serial, 'shell', 'wc -c'], 'pipe');
      const out: Buffer[] = [];
      child.stdout!.on('data', (d: Buffer) => out.push(d));
      child.stdin!.end(randomBytes(300_000));
      const code = await new Promise((resolve) => child.once('close', resolve));
      assert.equal(code, 0);
      assert.equal(Buffer.concat(out).toString().trim(), '300000');
    });

    it('gives raw bytes with exec-out', async () => {
      const { code, stdout } = await cli.run(['-s', serial, 'exec-out', "printf '\\000\\001\\377\\r\\n'"]);
      assert.equal(code, 0);
      assert.deepEqual([...stdout], [0, 1, 255, 13, 10]);
    });

    it('pulls a 50 MB file byte-exact', async () => {
      const local = join(dir, 'pulled.bin');
      const started = process.hrtime.bigint();
      const { code, stderr } = await cli.run(['-s', serial, 'pull', '/sdcard/big.bin', local]);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      assert.equal(code, 0, stderr);
      assert.equal(sha256(readFileSync(local)), sha256(bigFile));
      console.log(`      (adb pull: ${BIG} bytes in ${seconds.toFixed(2)} s, ${(BIG / seconds / 2 ** 20).toFixed(0)} MiB/s, process start included)`);
    });

    it('reports a missing file on pull', async () => {
      const { code, stdout, stderr } = await cli.run(['-s', serial, 'pull', '/sdcard/missing.bin', join(dir, 'missing.bin')]);
      assert.equal(code, 1);
      // adb 29 prints this error on stdout.
      assert.match(stdout.toString() + stderr, /remote object '\/sdcard\/missing\.bin' does not exist/);
    });

    it('pushes into directories that do not exist yet', async () => {
      const local = join(dir, 'push.bin');
      const content = randomBytes(3_000_000);
      writeFileSync(local, content);
      const { code, stderr } = await cli.run(['-s', serial, 'push', local, '/sdcard/new/dir/pushed.bin']);
      assert.equal(code, 0, stderr);
      assert.equal(sha256(readFileSync(join(root, 'sdcard/new/dir/pushed.bin'))), sha256(content));
    });

    it('forwards a host port to a port inside the handset', async () => {
      const hostPort = await freePort();
      const forwarded = await cli.run(['-s', serial, 'forward', `tcp:${hostPort}`, `tcp:${pong.port}`]);
      assert.equal(forwarded.code, 0, forwarded.stderr);
      const socket: Socket = connect(hostPort, '127.0.0.1');
      try {
        assert.equal(await roundTrip(socket, 'ping'), 'pong:ping');
        assert.equal(await roundTrip(socket, 'again'), 'pong:again');
      } finally {
        socket.destroy();
        await cli.run(['-s', serial, 'forward', '--remove', `tcp:${hostPort}`]);
      }
    });

    it("kills the command's whole process group when the client goes away", async () => {
      const marker = `1000.${process.pid}1`;
      const child = cli.spawn(['-s', serial, 'shell', `sleep ${marker} & sleep ${marker}`]);
      await waitFor('two sleeps in the handset', () => pidsWithArgv(['sleep', marker]).length === 2);
      // The adb server sees its client's socket close and sends CLSE for the stream.
      child.kill('SIGKILL');
      await waitFor('the sleeps to be killed', () => pidsWithArgv(['sleep', marker]).length === 0);
    });
  });

  describe('adbkit', () => {
    it("reads a shell command's output to the end", async () => {
      const stream = await client.getDevice(serial).shell('echo hi');
      assert.equal((await adbkit.Adb.util.readAll(stream)).toString(), 'hi\n');
    });

    it('pushes and pulls byte-exact', async () => {
      const content = randomBytes(8_000_000);
      const local = join(dir, 'adbkit-push.bin');
      writeFileSync(local, content);
      const device = client.getDevice(serial);
      await pushDone(await device.push(createReadStream(local), '/data/local/tmp/adbkit.bin'));
      assert.equal(sha256(readFileSync(join(root, 'data/local/tmp/adbkit.bin'))), sha256(content));
      const pulled = await readTransfer(await device.pull('/data/local/tmp/adbkit.bin'));
      assert.equal(sha256(pulled), sha256(content));
    });

    it('stats and lists files', async () => {
      const device = client.getDevice(serial);
      const stats = await device.stat('/sdcard/big.bin');
      assert.equal(Number(stats.size), BIG);
      assert.ok(stats.isFile());
      const names = (await device.readdir('/sdcard')).map((entry: { name: string }) => entry.name).sort();
      assert.ok(names.includes('big.bin'), names.join(' '));
      await assert.rejects(device.stat('/sdcard/nothing-here'), /ENOENT|No such file/);
    });

    it('opens a TCP connection inside the handset', async () => {
      const socket = await client.getDevice(serial).openTcp(pong.port);
      try {
        assert.equal(await roundTrip(socket, 'hello'), 'pong:hello');
      } finally {
        socket.end();
      }
    });

    it('is refused a service the handset does not offer', async () => {
      await assert.rejects(client.getDevice(serial).openLocal('localabstract:no-such-socket'));
    });

    it('kills the process group when the shell stream is closed (shell v1)', async () => {
      const marker = `1000.${process.pid}2`;
      const stream = await client.getDevice(serial).shell(`sleep ${marker} & sleep ${marker}`);
      await waitFor('two sleeps in the handset', () => pidsWithArgv(['sleep', marker]).length === 2);
      stream.end();
      await waitFor('the sleeps to be killed', () => pidsWithArgv(['sleep', marker]).length === 0);
    });
  });

  // Last: the adb server takes the device offline and reconnects on its own after this.
  describe('a dropped connection', () => {
    it('fails an adbkit pull midway instead of returning short data, and kills running commands', async () => {
      const device = client.getDevice(serial);
      const marker = `1000.${process.pid}3`;
      const sleeper = await device.shell(`sleep ${marker}`);
      sleeper.on('error', () => {});
      await waitFor('a sleep in the handset', () => pidsWithArgv(['sleep', marker]).length === 1);

      let dropped = false;
      let receivedAtDrop = 0;
      const transfer = await device.pull('/sdcard/big.bin');
      const outcome = await readTransfer(transfer, (received) => {
        if (!dropped && received >= 1_000_000) {
          dropped = true;
          receivedAtDrop = received;
          daemon.dropConnections();
        }
      }).then(
        (data) => `resolved with ${data.length} of ${BIG} bytes`,
        (err: Error) => err,
      );
      assert.ok(dropped, 'the pull ended before the drop');
      assert.ok(outcome instanceof Error, `the pull ${String(outcome)} (dropped at ${receivedAtDrop} bytes)`);
      assert.match(outcome.name + outcome.message, /PrematureEOF|EOF|closed|offline/i);
      await waitFor('the sleep to be killed', () => pidsWithArgv(['sleep', marker]).length === 0);
    });
  });
});
