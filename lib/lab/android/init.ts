/**
 * Android's init for a virtual handset: the program the handset's container runs first
 * (../container.ts), as the handset's root, inside it. It serves the handset's root services on
 * sockets in its directory (/data/v6lab): the activity manager (`am`, `monkey`: it starts the
 * apps, each as its own uid) and, on a rooted handset, `su`. Both run as the handset's root,
 * which is root inside the container only: a command `su` runs cannot reach the host.
 *
 *   node init.js      (V6LAB_HANDSET_DIR names the handset's directory inside the container)
 *
 * Prints "init: ready" once both listen. The container's pid 1 (a shell) reaps orphans; this
 * process lives as long as the handset is up, and the supervisor ends it with the container.
 */
import type { Server } from 'node:net';
import { serveActivityManager } from './activity.js';
import { handsetEnvironment } from './environment.js';
import { readHandsetState } from './state.js';
import { serveSu } from './su.js';

function listening(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (server.listening) resolve();
    else {
      server.once('listening', () => resolve());
      server.once('error', reject);
    }
  });
}

async function main(dir: string): Promise<void> {
  const env = handsetEnvironment(dir);
  const state = readHandsetState(dir);
  const su = state.profile.rooted ? serveSu(dir, env) : null;
  const activityManager = serveActivityManager(dir, env);
  await Promise.all([listening(activityManager.server), ...(su === null ? [] : [listening(su)])]);
  process.stdout.write('init: ready\n');
}

const dir = process.env.V6LAB_HANDSET_DIR ?? '/data/v6lab';
main(dir).catch((error: unknown) => {
  process.stderr.write(`init: ${(error as Error).message}\n`);
  process.exit(1);
});
