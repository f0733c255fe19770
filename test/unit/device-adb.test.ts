import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asRoot } from '../../lib/harness/device-state.js';
import { PassThrough, type Readable } from 'node:stream';
import { AdbkitBackend, type AdbkitClient, type PresenceLoss } from '../../lib/device/adb.js';
import { DeviceCommandError, DeviceTimeoutError, DeviceUnavailableError, TruncatedOutputError } from '../../lib/device/errors.js';
import { markedCommand, quoteArg, readMarkedOutput, recognizeRefusal } from '../../lib/device/shell.js';

/** adbkit's tracker as the adb server drives it: events, and end() as the only method. */
class FakeTracker extends EventEmitter {
  ended = false;
  end(): this {
    this.ended = true;
    return this;
  }
}

/** A stand-in for adbkit whose shell is this machine's sh, as a device's `shell:` (v1) is. */
function localClient(
  transform: (output: Buffer) => Buffer = (b) => b,
  devices = [{ id: 'fake-1', type: 'device' }],
  tracker = new FakeTracker(),
): AdbkitClient {
  return {
    listDevices: async () => devices,
    trackDevices: async () => tracker,
    getDevice: () => ({
      shell: async (command: string) => {
        const child = spawn('sh', ['-c', command]);
        const out = new PassThrough();
        const chunks: Buffer[] = [];
        child.stdout.on('data', (c: Buffer) => chunks.push(c));
        child.stderr.on('data', (c: Buffer) => chunks.push(c));
        child.on('close', () => out.end(transform(Buffer.concat(chunks))));
        return out as Readable;
      },
      pull: async () => new PassThrough(),
      stat: async () => ({ size: 0, mode: 0 }),
      push: async () => new PassThrough(),
    }),
  };
}

describe('device: commands over adb', () => {
  it('quotes every argv element at the transport edge, so data never becomes shell syntax', async () => {
    const device = new AdbkitBackend(localClient(), 'fake-1');
    for (const nasty of ["it's", '$(touch /tmp/v6lab-pwned)', 'a;b', 'new\nline', '`id`', '*', '', '"x"', 'a b']) {
      const { output, exitCode } = await device.run(['printf', '%s', nasty]);
      assert.equal(exitCode, 0);
      assert.equal(output, nasty);
    }
    assert.equal(quoteArg('plain-arg_1.0'), 'plain-arg_1.0');
  });

  it('keeps data verbatim through `su -c` too (the quoted command quoted again), as root commands and captures use it', async () => {
    // A stand-in su on PATH that runs its -c argument as a shell command, as Android's su does.
    const bin = mkdtempSync(join(tmpdir(), 'v6lab-su-'));
    writeFileSync(join(bin, 'su'), '#!/bin/sh\n[ "$1" = "-c" ] && exec sh -c "$2"\nexit 1\n', { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const device = new AdbkitBackend(localClient(), 'fake-1');
      for (const nasty of ["it's", '$(touch /tmp/v6lab-pwned-su)', 'a;b', 'new\nline', '`id`', "'; reboot; '", '"$HOME"']) {
        const { output, exitCode } = await device.run(asRoot(['printf', '%s', nasty], 'su')!);
        assert.equal(exitCode, 0);
        assert.equal(output, nasty);
      }
      assert.equal(existsSync('/tmp/v6lab-pwned-su'), false);
    } finally {
      process.env.PATH = path;
    }
  });

  it('returns the real exit code through the end marker', async () => {
    const device = new AdbkitBackend(localClient(), 'fake-1');
    assert.deepEqual(await device.run(['sh', '-c', 'echo out; exit 3']), { output: 'out\n', exitCode: 3 });
    assert.equal(await device.runOk(['echo', 'fine']), 'fine\n');
  });

  it('never trusts output that lost its end marker (a dropped stream ends cleanly in adbkit)', async () => {
    for (const cut of [0, 5, 20]) {
      const device = new AdbkitBackend(
        localClient((b) => b.subarray(0, Math.min(cut, b.length))),
        'fake-1',
      );
      await assert.rejects(
        device.run(['echo', 'hello world']),
        (e: unknown) => e instanceof TruncatedOutputError && e.serial === 'fake-1' && /echo hello world/.test(e.message),
      );
    }
  });

  it("names Android's refusals when a command fails", async () => {
    const device = new AdbkitBackend(localClient(), 'fake-1');
    await assert.rejects(
      device.runOk([
        'sh',
        '-c',
        'echo "Error while accessing provider:telephony"; echo "java.lang.SecurityException: No permission to access APN settings"; exit 1',
      ]),
      (e: unknown) => e instanceof DeviceCommandError && e.refusal === 'security-exception' && e.exitCode === 1,
    );
    assert.equal(recognizeRefusal('/system/bin/sh: su: inaccessible or not found'), 'not-found');
    assert.equal(recognizeRefusal("tcpdump: any: You don't have permission to perform this capture on that device"), 'permission-denied');
    assert.equal(recognizeRefusal('all good'), null);
  });

  it('gives up on a command at its deadline', async () => {
    const device = new AdbkitBackend(localClient(), 'fake-1');
    await assert.rejects(device.run(['sleep', '5'], { timeoutMs: 200 }), DeviceTimeoutError);
  });

  it('says when adb does not list the device, or lists it offline', async () => {
    await assert.rejects(
      new AdbkitBackend(localClient(undefined, []), 'gone-1').ensureAvailable(),
      (e: unknown) => e instanceof DeviceUnavailableError && /gone-1: no such device/.test(e.message),
    );
    await assert.rejects(new AdbkitBackend(localClient(undefined, [{ id: 'x', type: 'offline' }]), 'x').ensureAvailable(), /x: device is offline/);
    await new AdbkitBackend(localClient(), 'fake-1').ensureAvailable();
  });

  it('tells a device that dropped off adb from an adb server that went away, first loss kept until reset', async () => {
    const tracker = new FakeTracker();
    const watch = await new AdbkitBackend(localClient(undefined, undefined, tracker), 'fake-1', 5099).watchPresence();
    tracker.emit('change', { id: 'other-2', type: 'offline' });
    tracker.emit('change', { id: 'fake-1', type: 'device' });
    assert.equal(watch.lost, null, 'another device, or ours coming online, is no loss');
    tracker.emit('change', { id: 'fake-1', type: 'offline' });
    tracker.emit('remove', { id: 'fake-1', type: 'offline' });
    assert.deepEqual(watch.lost, { what: 'device', detail: 'fake-1 went offline on adb' });
    watch.reset();
    assert.equal(watch.lost, null);
    tracker.emit('remove', { id: 'fake-1', type: 'device' });
    const lost = (): PresenceLoss => watch.lost;
    assert.match(lost()?.detail ?? '', /fake-1 dropped off adb/);
    watch.reset();
    assert.equal(watch.alive, true);
    tracker.emit('error', new Error('Connection closed'));
    tracker.emit('end');
    assert.deepEqual(
      [watch.alive, watch.lost],
      [false, { what: 'adb-server', detail: 'the adb server on port 5099 went away (its device tracker connection closed)' }],
    );
    watch.close();
    assert.equal(tracker.ended, true);
    tracker.emit('error', new Error('late'));
  });

  it('refuses to pull a file the device does not have, instead of returning nothing', async () => {
    await assert.rejects(
      new AdbkitBackend(localClient(), 'fake-1').pull('/sdcard/none.bin'),
      (e: unknown) => e instanceof DeviceCommandError && e.refusal === 'not-found',
    );
  });

  it("never returns a pull cut short: ended early, or ended by adbkit's premature-EOF error", async () => {
    const client = (finish: (s: PassThrough) => void): AdbkitClient => ({
      ...localClient(),
      getDevice: () => ({
        ...localClient().getDevice('fake-1'),
        stat: async () => ({ size: 100, mode: 0o100644 }),
        pull: async () => {
          const transfer = new PassThrough();
          setImmediate(() => {
            transfer.write(Buffer.alloc(10));
            finish(transfer);
          });
          return transfer;
        },
      }),
    });
    await assert.rejects(
      new AdbkitBackend(
        client((t) => t.end()),
        'fake-1',
      ).pull('/sdcard/a.pcap'),
      /pull \/sdcard\/a\.pcap` exited 1: pull ended after 10 of 100 bytes: the connection dropped/,
    );
    await assert.rejects(
      new AdbkitBackend(
        client((t) => t.destroy(new Error('Premature end of stream, needed 4 more bytes'))),
        'fake-1',
      ).pull('/sdcard/a.pcap'),
      /pull ended after 10 of 100 bytes: the connection dropped \(Premature end of stream/,
    );
    assert.equal(
      (
        await new AdbkitBackend(
          client((t) => t.end(Buffer.alloc(90))),
          'fake-1',
        ).pull('/sdcard/a.pcap')
      ).length,
      100,
    );
  });

  it('reads the marker at the end only, and only with a status after it', () => {
    const { command, marker } = markedCommand(['true'], 'abc');
    assert.match(command, /^true; printf/);
    assert.deepEqual(readMarkedOutput(`x\n${marker}:0\n`, marker), { output: 'x', exitCode: 0 });
    assert.deepEqual(readMarkedOutput(`x\r\n${marker}:12\r\n`, marker), { output: 'x\r', exitCode: 12 });
    assert.equal(readMarkedOutput(`x\n${marker}:`, marker), null);
    assert.equal(readMarkedOutput('x\n', marker), null);
  });
});

describe('device: capture argv', () => {
  const files = { pid: '/data/local/tmp/v6lab-capture-x.pid', log: '/data/local/tmp/v6lab-capture-x.log' };

  it('captures as root the way the device allows, its stderr off the stream, and says why it cannot', async () => {
    const { tcpdumpArgv, CaptureUnavailableError } = await import('../../lib/device/capture.js');
    const adbd = tcpdumpArgv({ serial: 's', root: 'adbd', tcpdump: '/system/xbin/tcpdump' }, files);
    assert.deepEqual(adbd.slice(0, 2), ['sh', '-c']);
    assert.deepEqual(adbd.slice(3), [
      'sh',
      files.pid,
      files.log,
      '/system/xbin/tcpdump',
      '-i',
      'any',
      '-U',
      '--immediate-mode',
      '-B',
      '16384',
      '-s',
      '65535',
      '-w',
      '-',
    ]);
    const su = tcpdumpArgv({ serial: 's', root: 'su', tcpdump: '/system/xbin/tcpdump' }, files);
    assert.deepEqual(su.slice(0, 2), ['su', '-c']);
    assert.match(
      su[2]!,
      /^sh -c '.*exec "\$@" 2>"\$log"' sh \/data\/local\/tmp\/v6lab-capture-x\.pid .* \/system\/xbin\/tcpdump -i any -U --immediate-mode -B 16384 -s 65535 -w -$/,
    );
    assert.throws(
      () => tcpdumpArgv({ serial: 's', root: null, tcpdump: '/x/tcpdump' }, files),
      (e: unknown) => e instanceof CaptureUnavailableError && /no root/.test(e.message),
    );
    assert.throws(() => tcpdumpArgv({ serial: 's', root: 'su', tcpdump: null }, files), /no tcpdump/);
  });

  it("reads the kernel's drops from tcpdump's statistics, and nothing from other output", async () => {
    const { parseKernelDrops } = await import('../../lib/device/capture.js');
    // Verbatim stderr of Debian's tcpdump 4.99.3 (libpcap 1.10.3) on `-i any`, stopped with SIGINT.
    const debian =
      'tcpdump: data link type LINUX_SLL2\ntcpdump: listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes\n0 packets captured\n0 packets received by filter\n0 packets dropped by kernel\n';
    assert.equal(parseKernelDrops(debian), 0);
    assert.equal(parseKernelDrops(debian.replace('0 packets dropped by kernel', '1 packet dropped by kernel')), 1);
    assert.equal(parseKernelDrops('40 packets captured\n52 packets received by filter\n12 packets dropped by kernel\n3 packets dropped by interface\n'), 12);
    // Killed before it could say, or not tcpdump's output: unknown, never 0.
    assert.equal(parseKernelDrops('tcpdump: listening on any, link-type LINUX_SLL2\n'), null);
    assert.equal(parseKernelDrops(''), null);
    assert.equal(parseKernelDrops('cat: /data/local/tmp/x.log: No such file or directory\n'), null);
  });

  it('runs the capture under a shell that keeps its pid and stderr, stops it with SIGINT, and collects its statistics', async function () {
    this.timeout(10_000);
    const { spawn, execFileSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { tcpdumpArgv, stopCaptureArgv, collectCaptureArgv, parseKernelDrops } = await import('../../lib/device/capture.js');
    // A stand-in for tcpdump (its name holds "tcpdump", as the stop's check asks): a pcap header on
    // stdout, tcpdump's own stderr, and its statistics when interrupted.
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-capture-'));
    const program = join(dir, 'fake-tcpdump');
    writeFileSync(
      program,
      `#!/bin/sh\ntrap '{ echo "7 packets captured"; echo "9 packets received by filter"; echo "2 packets dropped by kernel"; } >&2; exit 0' INT\necho "tcpdump: listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 65535 bytes" >&2\nprintf 'PCAP'\nwhile :; do sleep 0.05; done\n`,
      { mode: 0o755 },
    );
    const here = { pid: join(dir, 'c.pid'), log: join(dir, 'c.log') };
    const argv = tcpdumpArgv({ serial: 's', root: 'adbd', tcpdump: program }, here);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    while (!stdout.includes('PCAP')) await new Promise((r) => setTimeout(r, 20));
    // The shell became the program: the pid it wrote is the program's own.
    assert.equal(Number(execFileSync('cat', [here.pid], { encoding: 'utf8' }).trim()), child.pid);
    // One command stops it, waits for it to be gone, prints its statistics and removes its files.
    const stop = stopCaptureArgv('adbd', here)!;
    const said = execFileSync(stop[0]!, stop.slice(1), { encoding: 'utf8' });
    assert.equal(await exited, 0);
    assert.equal(parseKernelDrops(said), 2);
    assert.ok(!existsSync(here.pid) && !existsSync(here.log), 'both files removed');
    // Nothing but the capture on the stream (shell v1 merges stderr into it).
    assert.equal(stdout, 'PCAP');
    assert.equal(stderr, '');
    // A capture's files left by a window that never stopped it are removed all the same.
    writeFileSync(here.pid, '1\n');
    writeFileSync(here.log, 'tcpdump: listening on any\n');
    const collect = collectCaptureArgv('adbd', here)!;
    assert.equal(parseKernelDrops(execFileSync(collect[0]!, collect.slice(1), { encoding: 'utf8' })), null);
    assert.ok(!existsSync(here.pid) && !existsSync(here.log), 'both files removed');
  });

  it('leaves a pid that is no longer a tcpdump alone', async () => {
    const { execFileSync, spawn } = await import('node:child_process');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { stopCaptureArgv } = await import('../../lib/device/capture.js');
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-capture-'));
    const other = spawn('sleep', ['5'], { stdio: 'ignore' });
    const here = { pid: join(dir, 'c.pid'), log: join(dir, 'c.log') };
    writeFileSync(here.pid, `${other.pid}\n`);
    const stop = stopCaptureArgv('adbd', here)!;
    execFileSync(stop[0]!, stop.slice(1), { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(other.exitCode, null);
    assert.equal(other.signalCode, null);
    other.kill();
  });
});
