import assert from 'node:assert/strict';
import { AdbProtocolError, HandsetPathError } from '../../lib/lab/adbd/errors.js';
import { deviceBanner } from '../../lib/lab/adbd/daemon.js';
import { resolveUnderRoot } from '../../lib/lab/adbd/host.js';
import {
  ByteQueue,
  COMMAND,
  dataChecksum,
  decodeMessage,
  decodeShellPacket,
  decodeSyncRequest,
  encodeHeader,
  encodeMessage,
  encodeShellPacket,
  encodeSyncDent,
  encodeSyncFail,
  encodeSyncHeader,
  encodeSyncListDone,
  encodeSyncRequest,
  encodeSyncStat,
  MessageDecoder,
  SHELL_PACKET,
  ShellPacketDecoder,
  SYNC,
  SYNC_DATA_MAX,
  SyncRequestDecoder,
  type AdbMessage,
} from '../../lib/lab/adbd/protocol.js';
import { parseCommandService } from '../../lib/lab/adbd/shell.js';

const ascii = (id: number): string => Buffer.from(Uint32Array.of(id).buffer).toString('latin1');

/** Every way to cut `bytes` in two, plus one byte at a time. */
function splits(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  for (let cut = 0; cut <= bytes.length; cut++) out.push([bytes.subarray(0, cut), bytes.subarray(cut)]);
  out.push([...bytes].map((b) => Buffer.of(b)));
  return out;
}

function plain(m: AdbMessage) {
  return { command: m.command, arg0: m.arg0, arg1: m.arg1, data: m.data.toString('hex') };
}

describe('adbd protocol: transport messages', () => {
  it('names every command by its four ASCII bytes', () => {
    for (const [name, value] of Object.entries(COMMAND)) assert.equal(ascii(value), name);
  });

  it('encodes a known header (OKAY 1 2, no payload)', () => {
    assert.equal(encodeHeader(COMMAND.OKAY, 1, 2, 0).toString('hex'), '4f4b4159' + '01000000' + '02000000' + '00000000' + '00000000' + 'b0b4bea6');
  });

  it('encodes a known CNXN with the payload sum as data_check', () => {
    const data = Buffer.from('host::\0');
    const bytes = encodeMessage({ command: COMMAND.CNXN, arg0: 0x01000001, arg1: 1048576, data });
    assert.equal(bytes.subarray(0, 24).toString('hex'), '434e584e' + '01000001' + '00001000' + '07000000' + '32020000' + 'bcb1a7b1');
    assert.equal(dataChecksum(data), 0x232);
    assert.equal(bytes.subarray(24).toString(), 'host::\0');
  });

  it('decodes at an offset inside a larger buffer', () => {
    const message = encodeMessage({ command: COMMAND.WRTE, arg0: 7, arg1: 9, data: Buffer.from('payload') });
    const buf = Buffer.concat([Buffer.alloc(13, 0xee), message, Buffer.alloc(5, 0xee)]);
    const decoded = decodeMessage(buf, 13);
    assert.ok(decoded);
    assert.deepEqual(plain(decoded.value), { command: COMMAND.WRTE, arg0: 7, arg1: 9, data: Buffer.from('payload').toString('hex') });
    assert.equal(decoded.next, 13 + message.length);
  });

  it('asks for more bytes at every truncation', () => {
    const message = encodeMessage({ command: COMMAND.OPEN, arg0: 1, arg1: 0, data: Buffer.from('shell:id\0') });
    for (let length = 0; length < message.length; length++) assert.equal(decodeMessage(message.subarray(0, length)), null, `length ${length}`);
    assert.ok(decodeMessage(message));
  });

  it('streams whole messages however the bytes are cut', () => {
    const messages = [
      { command: COMMAND.OPEN, arg0: 3, arg1: 0, data: Buffer.from('sync:\0') },
      { command: COMMAND.OKAY, arg0: 3, arg1: 1, data: Buffer.alloc(0) },
      { command: COMMAND.WRTE, arg0: 3, arg1: 1, data: Buffer.from('0123456789') },
    ];
    const bytes = Buffer.concat(messages.map((m) => encodeMessage(m)));
    for (const chunks of splits(bytes)) {
      const decoder = new MessageDecoder();
      const got = chunks.flatMap((chunk) => [...decoder.push(chunk)].map(plain));
      assert.deepEqual(got, messages.map(plain));
      assert.equal(decoder.offset, bytes.length);
    }
  });

  it('refuses a data_length over maxdata before buffering it, naming the byte offset', () => {
    const first = encodeMessage({ command: COMMAND.OKAY, arg0: 1, arg1: 1, data: Buffer.alloc(0) });
    const big = encodeHeader(COMMAND.WRTE, 1, 1, 4097);
    const decoder = new MessageDecoder(4096);
    assert.throws(
      () => [...decoder.push(Buffer.concat([first, big]))],
      (err: unknown) => {
        assert.ok(err instanceof AdbProtocolError);
        assert.equal(err.offset, 24 + 12);
        assert.match(err.message, /byte offset 36: data_length 4097 of WRTE exceeds maxdata 4096/);
        return true;
      },
    );
    assert.throws(() => decodeMessage(big, 0, 4096), /byte offset 12: data_length 4097/);
  });

  it("refuses a header whose magic is not the command's complement", () => {
    const header = encodeHeader(COMMAND.OKAY, 1, 1, 0);
    header.writeUInt32LE(0, 20);
    assert.throws(
      () => decodeMessage(header),
      (err: unknown) => err instanceof AdbProtocolError && err.offset === 20,
    );
  });
});

describe('adbd protocol: byte queue', () => {
  it('reads u32s and takes ranges across chunk boundaries', () => {
    const queue = new ByteQueue();
    queue.push(Buffer.from([1, 2]));
    queue.push(Buffer.from([3]));
    queue.push(Buffer.from([4, 5, 6, 7]));
    assert.equal(queue.length, 7);
    assert.equal(queue.uint32LE(0), 0x04030201);
    assert.equal(queue.uint32LE(3), 0x07060504);
    assert.deepEqual([...queue.take(3)], [1, 2, 3]);
    assert.equal(queue.consumed, 3);
    assert.deepEqual([...queue.take(4)], [4, 5, 6, 7]);
    assert.equal(queue.length, 0);
  });

  it('hands out a view, not a copy, when a range lies in one chunk', () => {
    const chunk = Buffer.from('abcdef');
    const queue = new ByteQueue();
    queue.push(chunk);
    queue.skip(1);
    const view = queue.take(3);
    assert.equal(view.buffer, chunk.buffer);
    assert.equal(view.toString(), 'bcd');
  });
});

describe('adbd protocol: shell v2 packets', () => {
  it('encodes a known exit packet and stdout packet', () => {
    assert.equal(encodeShellPacket(SHELL_PACKET.exit, Uint8Array.of(3)).toString('hex'), '030100000003');
    assert.equal(encodeShellPacket(SHELL_PACKET.stdout, Buffer.from('hi\n')).toString('hex'), '0103000000' + '68690a');
  });

  it('decodes at an offset and asks for more at every truncation', () => {
    const packet = encodeShellPacket(SHELL_PACKET.stderr, Buffer.from('oops'));
    const buf = Buffer.concat([Buffer.alloc(3), packet]);
    const decoded = decodeShellPacket(buf, 3);
    assert.deepEqual(decoded && { id: decoded.value.id, data: decoded.value.data.toString(), next: decoded.next }, { id: 2, data: 'oops', next: buf.length });
    for (let length = 0; length < packet.length; length++) assert.equal(decodeShellPacket(packet.subarray(0, length)), null);
  });

  it('streams packets however the bytes are cut', () => {
    const bytes = Buffer.concat([
      encodeShellPacket(SHELL_PACKET.stdin, Buffer.from('abc')),
      encodeShellPacket(SHELL_PACKET.windowSize, Buffer.from('24x80,0x0\0')),
      encodeShellPacket(SHELL_PACKET.closeStdin, Buffer.alloc(0)),
    ]);
    for (const chunks of splits(bytes)) {
      const decoder = new ShellPacketDecoder();
      const got = chunks.flatMap((chunk) => [...decoder.push(chunk)].map((p) => [p.id, p.data.toString()]));
      assert.deepEqual(got, [
        [0, 'abc'],
        [5, '24x80,0x0\0'],
        [4, ''],
      ]);
    }
  });

  it('refuses a packet longer than the limit, naming the offset', () => {
    const decoder = new ShellPacketDecoder(16);
    const bytes = Buffer.concat([encodeShellPacket(0, Buffer.from('ok')), Buffer.from([1, 17, 0, 0, 0])]);
    assert.throws(() => [...decoder.push(bytes)], /shell stream, byte offset 8: packet length 17 exceeds 16/);
  });
});

describe('adbd protocol: sync', () => {
  it('names every id by its four ASCII bytes', () => {
    for (const [name, value] of Object.entries(SYNC)) assert.equal(ascii(value), name);
  });

  it('encodes known replies', () => {
    assert.equal(encodeSyncStat(0o100644, 5, 1_700_000_000).toString('hex'), '53544154' + 'a4810000' + '05000000' + '00f15365');
    assert.equal(encodeSyncDent(0o40755, 4096, 0, 'ab').toString('hex'), '44454e54' + 'ed410000' + '00100000' + '00000000' + '02000000' + '6162');
    assert.equal(encodeSyncListDone().toString('hex'), `444f4e45${'00'.repeat(16)}`);
    assert.equal(encodeSyncHeader(SYNC.DONE, 0).toString('hex'), '444f4e4500000000');
    assert.equal(encodeSyncFail('no').toString('hex'), '4641494c' + '02000000' + '6e6f');
  });

  it('decodes requests at an offset; DONE carries the mtime, not a length', () => {
    const buf = Buffer.concat([Buffer.alloc(2), encodeSyncRequest(SYNC.RECV, '/sdcard/x'), encodeSyncHeader(SYNC.DONE, 1_700_000_000)]);
    const recv = decodeSyncRequest(buf, 2);
    assert.ok(recv);
    assert.equal(recv.value.data.toString(), '/sdcard/x');
    const done = decodeSyncRequest(buf, recv.next);
    assert.deepEqual(done && { id: done.value.id, arg: done.value.arg, data: done.value.data.length, next: done.next }, {
      id: SYNC.DONE,
      arg: 1_700_000_000,
      data: 0,
      next: buf.length,
    });
    const send = encodeSyncRequest(SYNC.SEND, '/sdcard/y,33188');
    for (let length = 0; length < send.length; length++) assert.equal(decodeSyncRequest(send.subarray(0, length)), null);
  });

  it('streams a push (SEND, DATA, DONE, QUIT) however the bytes are cut', () => {
    const bytes = Buffer.concat([
      encodeSyncRequest(SYNC.SEND, '/sdcard/y,33188'),
      encodeSyncRequest(SYNC.DATA, Buffer.from('content')),
      encodeSyncHeader(SYNC.DONE, 42),
      encodeSyncRequest(SYNC.QUIT, ''),
    ]);
    for (const chunks of splits(bytes)) {
      const decoder = new SyncRequestDecoder();
      const got = chunks.flatMap((chunk) => [...decoder.push(chunk)].map((r) => [ascii(r.id), r.arg, r.data.toString()]));
      assert.deepEqual(got, [
        ['SEND', 15, '/sdcard/y,33188'],
        ['DATA', 7, 'content'],
        ['DONE', 42, ''],
        ['QUIT', 0, ''],
      ]);
    }
  });

  it('refuses a DATA block over 64 KiB and a path over 1024 bytes, naming the offset', () => {
    assert.throws(
      () => [...new SyncRequestDecoder().push(encodeSyncHeader(SYNC.DATA, SYNC_DATA_MAX + 1))],
      /sync stream, byte offset 4: DATA length 65537 exceeds 65536/,
    );
    assert.throws(
      () => decodeSyncRequest(Buffer.concat([Buffer.alloc(8), encodeSyncHeader(SYNC.STAT, 1025)]), 8),
      /byte offset 12: STAT length 1025 exceeds 1024/,
    );
  });
});

describe('adbd: service names, banner, paths', () => {
  it('reads the command services the CLI and adbkit open', () => {
    assert.deepEqual(parseCommandService('shell:getprop ro.build.version.sdk'), { protocol: 'none', command: 'getprop ro.build.version.sdk' });
    assert.deepEqual(parseCommandService('shell,v2,raw:echo hi'), { protocol: 'shell', command: 'echo hi' });
    assert.deepEqual(parseCommandService('shell,v2,TERM=xterm-256color,pty:'), { protocol: 'shell', command: '' });
    assert.deepEqual(parseCommandService('exec:cat /sdcard/a:b'), { protocol: 'none', command: 'cat /sdcard/a:b' });
    assert.equal(parseCommandService('sync:'), null);
    assert.equal(parseCommandService('shellx:id'), null);
  });

  it('builds the banner the adb server reads', () => {
    assert.equal(
      deviceBanner({ product: 'p', model: 'M', device: 'd' }, ['shell_v2', 'cmd']),
      'device::ro.product.name=p;ro.product.model=M;ro.product.device=d;features=shell_v2,cmd',
    );
    assert.throws(() => deviceBanner({ product: 'p;x', model: 'M', device: 'd' }, []), /product/);
  });

  it('maps Android paths under the root and refuses to climb out of it', () => {
    assert.equal(resolveUnderRoot('/tmp/h', '/sdcard/a/../b//c'), '/tmp/h/sdcard/b/c');
    assert.equal(resolveUnderRoot('/tmp/h', '/'), '/tmp/h');
    assert.throws(
      () => resolveUnderRoot('/tmp/h', '/sdcard/../../etc/passwd'),
      (err: unknown) => err instanceof HandsetPathError && /climbs above/.test(err.message),
    );
    assert.throws(() => resolveUnderRoot('/tmp/h', 'sdcard/x'), HandsetPathError);
  });
});
