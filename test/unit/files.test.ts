// Output files are written whole or not at all, and a failure names the file: a full disk or a
// missing directory leaves the previous version and no temporary copy; a device named as the
// output is written to, never renamed over or removed.
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removePartialFile, writeFileWhole, writeJsonWhole } from '../../lib/config/files.js';

describe('files written whole', () => {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-files-'));

  it('replaces a file whole and leaves no temporary copy', () => {
    const file = join(dir, 'results.json');
    writeFileSync(file, 'old\n');
    writeJsonWhole(file, { a: 1 }, { durable: true });
    assert.equal(readFileSync(file, 'utf8'), '{\n  "a": 1\n}\n');
    assert.deepEqual(readdirSync(dir), ['results.json']);
  });

  it('names the file a failed write was for, and leaves the previous version', () => {
    const file = join(dir, 'gone', 'plan.json');
    assert.throws(
      () => writeFileWhole(file, 'x'),
      (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.path === file && e.message.includes(file),
    );
    assert.deepEqual(readdirSync(dir), ['results.json']);
  });

  it('writes to a device named as the output instead of renaming over it, and never removes one', () => {
    writeFileWhole('/dev/null', 'discarded');
    assert.ok(statSync('/dev/null').isCharacterDevice());
    assert.throws(
      () => writeFileWhole('/dev/full', 'x'),
      (e: NodeJS.ErrnoException) => e.code === 'ENOSPC',
    );
    assert.ok(statSync('/dev/full').isCharacterDevice());
    removePartialFile('/dev/full');
    assert.ok(statSync('/dev/full').isCharacterDevice(), 'a device is not a partial file');
    const partial = join(dir, 'cut.pcap');
    writeFileSync(partial, 'cut');
    removePartialFile(partial);
    removePartialFile(partial);
    assert.deepEqual(readdirSync(dir), ['results.json']);
  });

  it('replaces a symlink named as the output instead of writing through it, and reaches no file through a planted temp name', () => {
    const run = join(dir, 'run');
    const outside = join(dir, 'outside');
    mkdirSync(run);
    mkdirSync(outside);
    writeFileSync(join(outside, 'precious'), 'keep\n');
    symlinkSync(join(outside, 'precious'), join(run, 'index.html'));
    symlinkSync(outside, join(run, 'junit.xml'));
    writeFileWhole(join(run, 'index.html'), '<!doctype html>');
    writeFileWhole(join(run, 'junit.xml'), '<testsuites/>');
    assert.equal(readFileSync(join(outside, 'precious'), 'utf8'), 'keep\n', 'the symlink target is untouched');
    assert.deepEqual(readdirSync(outside), ['precious']);
    assert.ok(lstatSync(join(run, 'index.html')).isFile() && lstatSync(join(run, 'junit.xml')).isFile(), 'the links were replaced by regular files');
    // The old temp names were predictable (file.PID.N.tmp): a link planted at every one of them
    // that this process could pick leads nowhere now.
    for (let n = 1; n <= 50; n++) symlinkSync(join(outside, 'precious'), join(run, `results.json.${process.pid}.${n}.tmp`));
    writeFileWhole(join(run, 'results.json'), '{}\n', { owner: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 } });
    assert.equal(readFileSync(join(outside, 'precious'), 'utf8'), 'keep\n');
    assert.equal(readFileSync(join(run, 'results.json'), 'utf8'), '{}\n');
    chmodSync(run, 0o755);
  });
});
