/**
 * The command services: `shell:` (v1), `shell,v2,...:` (shell protocol) and `exec:`.
 *
 * As adbd does (shell_service.cpp, Android 10): without the shell protocol the command's stdout
 * and stderr both go to the stream as raw bytes and the stream carries stdin back; with it,
 * stdout and stderr are framed separately, stdin arrives in packets (and close-stdin), and the
 * exit code ends the stream.
 */
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import debug from 'debug';
import type { HandsetHost } from './host.js';
import { encodeShellHeader, encodeShellPacket, SHELL_PACKET, ShellPacketDecoder } from './protocol.js';
import type { AdbStream } from './stream.js';

const log = debug('v6lab:adbd:shell');

export interface CommandService {
  /** `none`: raw bytes both ways, stderr merged (shell v1, exec). `shell`: shell protocol v2. */
  protocol: 'none' | 'shell';
  /** What follows the service's `:`, run with `sh -c`; empty for an interactive shell. */
  command: string;
}

/**
 * Reads a command service name. Sample names: `shell:getprop`, `exec:cat /x`,
 * `shell,v2,raw:echo hi`, `shell,v2,TERM=xterm-256color,pty:` (commandline.cpp ShellServiceString).
 */
export function parseCommandService(service: string): CommandService | null {
  if (service.startsWith('exec:')) return { protocol: 'none', command: service.slice(5) };
  const match = /^shell(,[^:]*)?:/.exec(service);
  if (!match) return null;
  const args = (match[1] ?? '').split(',').filter(Boolean);
  return { protocol: args.includes('v2') ? 'shell' : 'none', command: service.slice(match[0].length) };
}

/** Children still running, so the daemon can kill them all on close. */
export interface ProcessRegistry {
  add(child: ChildProcess): void;
  delete(child: ChildProcess): void;
}

/** SIGKILL to the child's whole process group (spawned detached, so its pid is the pgid). */
export function killProcessGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Exit status as a shell reports it: the code, or 128 + the signal number. */
function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code & 0xff;
  return signal ? (128 + (constants.signals[signal] ?? 0)) & 0xff : 255;
}

/**
 * Runs `service.command` and joins its stdio to `stream` until it ends or the stream closes.
 * `start` spawns something else in the command's place (the sync service's program).
 */
export function runCommand(
  host: HandsetHost,
  registry: ProcessRegistry,
  stream: AdbStream,
  service: CommandService,
  // adbd runs a login shell for an empty command; a plain `sh` reading the stream will do.
  start: () => ChildProcess = () => host.spawn(service.command === '' ? 'sh' : service.command),
): void {
  const v2 = service.protocol === 'shell';
  let child: ChildProcess;
  try {
    child = start();
  } catch (err) {
    failBeforeStart(stream, v2, err);
    return;
  }
  const { stdin, stdout, stderr } = child;
  if (!stdin || !stdout || !stderr) {
    killProcessGroup(child);
    failBeforeStart(stream, v2, new Error('the handset host gave a child without stdio pipes'));
    return;
  }
  registry.add(child);
  log('stream %d: pid %s runs %j (%s)', stream.localId, child.pid, service.command, v2 ? 'shell v2' : 'raw');

  let childClosed = false;
  let spawnError: Error | null = null;
  child.on('error', (err) => {
    spawnError = err;
    log('stream %d: %s', stream.localId, err.message);
  });
  // The command's stdin closing early (it exited) is not an error of ours.
  stdin.on('error', () => {});

  stream.on('close', () => {
    if (childClosed) return;
    log('stream %d closed before pid %s ended: killing its process group', stream.localId, child.pid);
    killProcessGroup(child);
    // Paused pipes would never reach EOF, and the child's 'close' (and our bookkeeping) with them.
    for (const pipe of [stdin, stdout, stderr]) pipe.destroy();
  });

  // Output: pause both pipes while the stream's buffer is full (a WRTE outstanding and one more
  // payload queued), so a fast command never runs ahead of the host.
  const outputs: Readable[] = [stdout, stderr];
  let waitingForDrain = false;
  const resume = (): void => {
    waitingForDrain = false;
    for (const output of outputs) output.resume();
  };
  const forward = (output: Readable, id: number): void => {
    output.on('data', (data: Buffer) => {
      if (stream.destroyed) return;
      // Corked, header and data leave in one WRTE.
      stream.cork();
      if (v2) stream.write(encodeShellHeader(id, data.length));
      const room = stream.write(data);
      stream.uncork();
      if (!room && !waitingForDrain) {
        waitingForDrain = true;
        for (const o of outputs) o.pause();
        stream.once('drain', resume);
      }
    });
  };
  forward(stdout, SHELL_PACKET.stdout);
  forward(stderr, SHELL_PACKET.stderr);

  // Input: while the command's stdin is full the stream stays paused, and the host's OKAY waits.
  let stdinFull = false;
  const toStdin = (data: Buffer): void => {
    if (!stdin.writable || stdin.write(data) || stdinFull) return;
    stdinFull = true;
    stream.pause();
    stdin.once('drain', () => {
      stdinFull = false;
      stream.resume();
    });
  };
  if (v2) {
    const decoder = new ShellPacketDecoder();
    stream.on('data', (chunk: Buffer) => {
      try {
        for (const packet of decoder.push(chunk)) {
          if (packet.id === SHELL_PACKET.stdin) {
            toStdin(packet.data);
          } else if (packet.id === SHELL_PACKET.closeStdin) {
            stdin.end();
          }
          // windowSize only matters to a pty, which this daemon does not allocate.
        }
      } catch (err) {
        log('stream %d: %s', stream.localId, (err as Error).message);
        stream.destroy();
      }
    });
  } else {
    stream.on('data', toStdin);
  }

  child.on('close', (code, signal) => {
    childClosed = true;
    registry.delete(child);
    const status = spawnError ? 127 : exitStatus(code, signal);
    log('stream %d: pid %s ended with %d', stream.localId, child.pid, status);
    if (stream.destroyed) return;
    if (v2) {
      if (spawnError) stream.write(encodeShellPacket(SHELL_PACKET.stderr, Buffer.from(`${spawnError.message}\n`)));
      stream.write(encodeShellPacket(SHELL_PACKET.exit, Uint8Array.of(status)));
    }
    stream.end();
  });
}

function failBeforeStart(stream: AdbStream, v2: boolean, err: unknown): void {
  const message = `${err instanceof Error ? err.message : String(err)}\n`;
  log('stream %d: cannot start: %s', stream.localId, message.trim());
  if (v2) {
    stream.write(encodeShellPacket(SHELL_PACKET.stderr, Buffer.from(message)));
    stream.write(encodeShellPacket(SHELL_PACKET.exit, Uint8Array.of(127)));
  } else {
    stream.write(Buffer.from(message));
  }
  stream.end();
}
