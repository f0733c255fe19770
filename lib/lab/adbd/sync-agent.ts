/**
 * adbd's sync service inside a lab handset's container (../container.ts), as the user adbd runs
 * as there (the shell user, or root after `adb root`): the daemon, outside, joins the adb stream
 * to this program's stdin and stdout, and every stat, list, pull and push happens here, on the
 * handset's own filesystem with its own permissions. A symlink a client pushes points inside
 * the handset, as on a phone.
 *
 *   node sync-agent.js
 *
 * Writes nothing to stderr: the daemon merges it into the stream, as it does a raw command's.
 */
import { Duplex } from 'node:stream';
import { resolveUnderRoot } from './host.js';
import { serveSync, type SyncStream } from './sync.js';

let peerClosed = false;
process.stdin.once('end', () => {
  peerClosed = true;
});
const duplex = Duplex.from({ readable: process.stdin, writable: process.stdout });
const stream = Object.assign(duplex, {
  localId: 0,
  get peerClosed(): boolean {
    return peerClosed;
  },
}) as SyncStream;

serveSync({ resolvePath: (devicePath) => resolveUnderRoot('/', devicePath) }, stream)
  .catch(() => undefined)
  .finally(() => process.exit(0));
