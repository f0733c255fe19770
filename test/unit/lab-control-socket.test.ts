// The handsets' root services (su, the activity manager) answer only root and the handset's
// shell user: their socket is uid 2000's, mode 0600. As root, a connection from another local
// user (uid 65534, through setpriv) is refused by the kernel before a byte is read.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AID_SHELL, serveJsonLines } from '../../lib/lab/android/control-socket.js';

describe('a handset root service socket', () => {
  it("is the shell user's, mode 0600, and refuses any other local user", async function () {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-socket-'));
    chmodSync(dir, 0o755);
    const path = join(dir, 'su.sock');
    const requests: unknown[] = [];
    const server = serveJsonLines(path, (request, socket) => {
      requests.push(request);
      socket.end('{"ok":true}\n');
    });
    try {
      await new Promise<void>((resolve) => server.once('listening', () => setImmediate(resolve)));
      const stat = statSync(path);
      assert.equal(stat.mode & 0o777, 0o600);
      if (process.getuid?.() !== 0) return;
      assert.deepEqual([stat.uid, stat.gid], [AID_SHELL, AID_SHELL]);
      const connectAs = (uid: number) =>
        spawnSync(
          'setpriv',
          [
            `--reuid=${uid}`,
            `--regid=${uid}`,
            '--clear-groups',
            process.execPath,
            '-e',
            `const s=require('net').connect(${JSON.stringify(path)});s.on('connect',()=>{s.end('{"x":1}\\n');console.log('connected')});s.on('error',(e)=>console.log(e.code))`,
          ],
          { encoding: 'utf8', timeout: 10_000 },
        );
      assert.equal(connectAs(65534).stdout.trim(), 'EACCES', 'nobody is refused');
      assert.equal(connectAs(AID_SHELL).stdout.trim(), 'connected', 'the shell user connects');
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
