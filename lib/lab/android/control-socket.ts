/**
 * The handsets' root services (the activity manager, su) listen on a Unix socket in the handset
 * directory and take one JSON line per connection from the shell user's side. Each connection's
 * peer is asked of the kernel (SO_PEERCRED) before its request is read: only the handset's own
 * processes (a pid in its PID namespace) with a uid the service names are served.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';

/** Android's AID_SHELL: the handset's shell user, the only client of its root services but root. */
export const AID_SHELL = 2000;
/** Android's AID_ROOT and AID_SYSTEM. */
export const AID_ROOT = 0;
export const AID_SYSTEM = 1000;

/** Longest request line accepted; a client that sends more without a newline is dropped. */
const MAX_REQUEST = 65536;

/** Who is at the other end of a Unix socket, as the kernel recorded it at connect(2). */
export interface PeerCredentials {
  /** 0 when the peer is outside this process's PID namespace (the host, seen from a handset). */
  readonly pid: number;
  /** The peer's uid in this process's user namespace (the overflow uid 65534 when unmapped). */
  readonly uid: number;
  readonly gid: number;
}

/**
 * Node has no getsockopt, so perl (perl-base, Essential on Debian) reads SO_PEERCRED on the
 * socket handed to it as fd 3. `struct ucred` is { pid_t pid; uid_t uid; gid_t gid; }.
 */
const PEERCRED_SCRIPT = [
  'open(my $s, \'+<&=\', 3) or die "fd 3: $!\\n";',
  'my $c = getsockopt($s, SOL_SOCKET, SO_PEERCRED);',
  'defined $c or die "SO_PEERCRED: $!\\n";',
  'printf "%d %d %d\\n", unpack(\'lLL\', $c);',
].join(' ');
const PERL = '/usr/bin/perl';

/**
 * The kernel's record of `socket`'s peer. Node stops reading a socket it hands to a child
 * (child_process pauses it); the caller resumes it once this settles.
 */
export function peerCredentials(socket: Socket): Promise<PeerCredentials> {
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(PERL, ['-MSocket=SOL_SOCKET,SO_PEERCRED', '-e', PEERCRED_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe', socket] });
    } catch (error) {
      reject(error as Error);
      return;
    }
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      const fields = /^(\d+) (\d+) (\d+)\n$/.exec(out);
      if (code !== 0 || fields === null) {
        reject(new Error(`SO_PEERCRED through ${PERL} failed (exit ${code}): ${err.trim() || out.trim() || 'no output'}`));
        return;
      }
      resolve({ pid: Number(fields[1]), uid: Number(fields[2]), gid: Number(fields[3]) });
    });
  });
}

/** Whether `peer` is one of this PID namespace's processes running as one of `uids`. */
export function peerAllowed(peer: PeerCredentials, uids: ReadonlySet<number>): boolean {
  return peer.pid > 0 && uids.has(peer.uid);
}

/**
 * Calls `onPeer` with the connection's peer once the kernel has said who it is, the socket
 * readable again; a peer that could not be read is closed (failing closed).
 */
export function withPeer(socket: Socket, onPeer: (peer: PeerCredentials) => void): void {
  peerCredentials(socket).then(
    (peer) => {
      // The listener onPeer may add is in place before the paused data flows again.
      onPeer(peer);
      socket.resume();
    },
    (error: unknown) => {
      process.stderr.write(`control socket: ${(error as Error).message}: connection closed\n`);
      socket.destroy();
    },
  );
}

/** What a service does with a peer it does not serve: say so in its own protocol, then close. */
export type Refuse = (socket: Socket, peer: PeerCredentials) => void;

/**
 * Serves `path` and hands each connection's first JSON line object to `onRequest`, for peers
 * `peerAllowed` with `uids`; others get `refuse`. A connection whose line is not a JSON object is
 * closed. The socket is the shell user's, mode 0600: root and the handset's shell connect, no
 * other local user does (su here runs commands as root).
 */
export function serveJsonLines(
  path: string,
  uids: ReadonlySet<number>,
  onRequest: (request: Record<string, unknown>, socket: Socket, peer: PeerCredentials) => void,
  refuse: Refuse = (socket) => socket.destroy(),
): Server {
  rmSync(path, { force: true });
  const server = createServer((socket) => {
    let buffered = '';
    let peer: PeerCredentials | null = null;
    let request: Record<string, unknown> | null = null;
    const settle = (): void => {
      if (peer === null || request === null) return;
      if (peerAllowed(peer, uids)) onRequest(request, socket, peer);
      else refuse(socket, peer);
    };
    socket.on('error', () => undefined);
    socket.on('data', function onData(chunk: Buffer) {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline < 0) {
        if (buffered.length > MAX_REQUEST) socket.destroy();
        return;
      }
      socket.off('data', onData);
      let parsed: unknown;
      try {
        parsed = JSON.parse(buffered.slice(0, newline));
      } catch {
        socket.destroy();
        return;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        socket.destroy();
        return;
      }
      request = parsed as Record<string, unknown>;
      settle();
    });
    withPeer(socket, (p) => {
      peer = p;
      settle();
    });
  });
  server.listen(path, () => {
    chmodSync(path, 0o600);
    if (process.getuid?.() === 0) chownSync(path, AID_SHELL, AID_SHELL);
  });
  return server;
}
