// The handsets' root services (su, the activity manager) answer only root and the handset's
// shell user: their socket is uid 2000's, mode 0600. As root, a connection from another local
// user (uid 65534, through setpriv) is refused by the kernel before a byte is read; a peer that
// passes the mode but has a uid the service does not name is refused after the kernel says who
// it is (SO_PEERCRED).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AID_SHELL, peerAllowed, serveJsonLines } from '../../lib/lab/android/control-socket.js';

describe('a handset root service socket', () => {
  it("is the shell user's, mode 0600, and refuses any other local user", async function () {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-socket-'));
    chmodSync(dir, 0o755);
    const path = join(dir, 'su.sock');
    const requests: unknown[] = [];
    const peers: { pid: number; uid: number }[] = [];
    const server = serveJsonLines(
      path,
      new Set([AID_SHELL]),
      (request, socket, peer) => {
        requests.push(request);
        peers.push({ pid: peer.pid, uid: peer.uid });
        socket.end('{"ok":true}\n');
      },
      (socket, peer) => socket.end(`refused uid ${peer.uid}\n`),
    );
    try {
      await new Promise<void>((resolve) => server.once('listening', () => setImmediate(resolve)));
      const stat = statSync(path);
      assert.equal(stat.mode & 0o777, 0o600);
      if (process.getuid?.() !== 0) return;
      assert.deepEqual([stat.uid, stat.gid], [AID_SHELL, AID_SHELL]);
      // Asynchronous: the server answering is this process.
      const connectAs = (uid: number) =>
        new Promise<{ stdout: string; stderr: string; pid: number | undefined }>((resolve) => {
          const child = spawn(
            'setpriv',
            [
              `--reuid=${uid}`,
              `--regid=${uid}`,
              '--clear-groups',
              process.execPath,
              '-e',
              `const s=require('net').connect(${JSON.stringify(path)});s.on('connect',()=>s.write('{"x":1}\\n'));s.on('data',(d)=>{process.stdout.write(d)});s.on('end',()=>process.exit(0));s.on('error',(e)=>console.log(e.code))`,
            ],
            { timeout: 10_000 },
          );
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
          child.on('close', () => resolve({ stdout, stderr, pid: child.pid }));
        });
      assert.equal((await connectAs(65534)).stdout.trim(), 'EACCES', 'nobody is refused');
      const shell = await connectAs(AID_SHELL);
      assert.equal(shell.stdout.trim(), '{"ok":true}', `the shell user is served: ${shell.stderr}`);
      assert.equal(peers.length, 1);
      assert.equal(peers[0]?.uid, AID_SHELL);
      assert.equal(peers[0]?.pid, shell.pid, 'the kernel names the connecting process');
      // Root passes the mode (0600 is no bar to it) but is not a uid this service names.
      assert.equal((await connectAs(0)).stdout.trim(), 'refused uid 0');
      assert.deepEqual(requests, [{ x: 1 }], 'only the shell user was served');
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves only processes of its own PID namespace: a peer the kernel gives pid 0 is outside', () => {
    assert.equal(peerAllowed({ pid: 0, uid: AID_SHELL, gid: AID_SHELL }, new Set([AID_SHELL])), false);
    assert.equal(peerAllowed({ pid: 42, uid: AID_SHELL, gid: AID_SHELL }, new Set([AID_SHELL])), true);
    assert.equal(peerAllowed({ pid: 42, uid: 10050, gid: 10050 }, new Set([AID_SHELL])), false);
  });
});
