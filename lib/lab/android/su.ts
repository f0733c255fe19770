/**
 * `su` on a rooted virtual handset. The handset's shell runs as the shell user (uid 2000), as on
 * a phone, so `su` cannot simply be a program: a rooted handset's init listens on
 * `<handset>/su.sock`, and `su -c CMD` asks it to run CMD as the handset's root in its container,
 * streaming stdout, stderr and the exit code back. A handset without root has no socket, and `su`
 * fails as it does on a production phone.
 *
 * Frames from the server: [kind u8][length u32 LE][bytes]; kinds 1 stdout, 2 stderr, 3 exit code.
 */
import { spawn } from 'node:child_process';
import { connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { AID_ROOT, AID_SHELL, serveJsonLines } from './control-socket.js';

const FRAME = { stdout: 1, stderr: 2, exit: 3 } as const;
export const SU_SOCKET = 'su.sock';

function frame(kind: number, data: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header[0] = kind;
  header.writeUInt32LE(data.length, 1);
  return Buffer.concat([header, data]);
}

/**
 * The root side, run by a rooted handset's init (./init.ts) as the handset's root, inside its
 * container: what it runs is root on the handset, never on the host.
 */
export function serveSu(dir: string, env: Record<string, string>): Server {
  return serveJsonLines(
    join(dir, SU_SOCKET),
    SU_CALLERS,
    (request, socket) => {
      const command = String(request.command);
      const child = spawn('sh', ['-c', command], {
        detached: true,
        cwd: '/',
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (d: Buffer) => socket.write(frame(FRAME.stdout, d)));
      child.stderr.on('data', (d: Buffer) => socket.write(frame(FRAME.stderr, d)));
      child.on('close', (code, signal) => {
        const status = Buffer.alloc(4);
        status.writeInt32LE(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
        socket.end(frame(FRAME.exit, status));
      });
      // The asking shell went away (its adb stream closed): the command goes with it.
      socket.on('close', () => {
        if (child.exitCode === null && child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      });
    },
    refuseSu,
  );
}

/** Who may become root: AOSP's su (system/extras/su/su.cpp) allows AID_ROOT and AID_SHELL only. */
const SU_CALLERS: ReadonlySet<number> = new Set([AID_ROOT, AID_SHELL]);

/** su.cpp's `error(1, 0, "not allowed")`: the message and exit status 1, through the frames. */
function refuseSu(socket: Socket): void {
  socket.write(frame(FRAME.stderr, Buffer.from('su: not allowed\n')));
  const status = Buffer.alloc(4);
  status.writeInt32LE(1);
  socket.end(frame(FRAME.exit, status));
}

/** The command `su` runs: `su -c CMD`, `su 0 CMD...`, `su root CMD...`; null for an interactive su. */
export function suCommand(args: readonly string[]): string | null {
  if (args[0] === '-c' && args[1] !== undefined) return args.slice(1).join(' ');
  if ((args[0] === '0' || args[0] === 'root') && args.length > 1) return args[1] === '-c' ? args.slice(2).join(' ') : args.slice(1).join(' ');
  return null;
}

/** The shell side: forwards to the handset's root server; resolves with the exit code. */
export function runSu(dir: string, args: readonly string[]): Promise<number> {
  const command = suCommand(args);
  if (command === null) {
    process.stderr.write('su: an interactive root shell is not supported here: use su -c COMMAND\n');
    return Promise.resolve(1);
  }
  return new Promise((resolve) => {
    const socket = connect(join(dir, SU_SOCKET));
    let pending: Buffer<ArrayBufferLike> = Buffer.alloc(0);
    let code = 1;
    socket.on('connect', () => socket.write(`${JSON.stringify({ command })}\n`));
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 5) {
        const length = pending.readUInt32LE(1);
        if (pending.length < 5 + length) break;
        const data = pending.subarray(5, 5 + length);
        if (pending[0] === FRAME.stdout) process.stdout.write(data);
        else if (pending[0] === FRAME.stderr) process.stderr.write(data);
        else if (pending[0] === FRAME.exit) code = data.readInt32LE(0);
        pending = pending.subarray(5 + length);
      }
    });
    // Android's message on a phone without root.
    socket.on('error', () => {
      process.stderr.write('/system/bin/sh: su: inaccessible or not found\n');
      resolve(127);
    });
    socket.on('close', () => resolve(code));
  });
}
