/**
 * The handsets' root services (the activity manager, su) listen on a Unix socket in the handset
 * directory and take one JSON line per connection from the shell user's side.
 */
import { chmodSync, chownSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';

/** Android's AID_SHELL: the handset's shell user, the only client of its root services but root. */
export const AID_SHELL = 2000;

/** Longest request line accepted; a client that sends more without a newline is dropped. */
const MAX_REQUEST = 65536;

/**
 * Serves `path` and hands each connection's first JSON line object to `onRequest`; a connection
 * whose line is not a JSON object is closed. The socket is the shell user's, mode 0600: root and
 * the handset's shell connect, no other local user does (su here runs commands as root).
 */
export function serveJsonLines(path: string, onRequest: (request: Record<string, unknown>, socket: Socket) => void): Server {
  rmSync(path, { force: true });
  const server = createServer((socket) => {
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', function onData(chunk: Buffer) {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline < 0) {
        if (buffered.length > MAX_REQUEST) socket.destroy();
        return;
      }
      socket.off('data', onData);
      let request: unknown;
      try {
        request = JSON.parse(buffered.slice(0, newline));
      } catch {
        socket.destroy();
        return;
      }
      if (typeof request !== 'object' || request === null || Array.isArray(request)) {
        socket.destroy();
        return;
      }
      onRequest(request as Record<string, unknown>, socket);
    });
  });
  server.listen(path, () => {
    chmodSync(path, 0o600);
    if (process.getuid?.() === 0) chownSync(path, AID_SHELL, AID_SHELL);
  });
  return server;
}
