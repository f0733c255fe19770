// A lab process's readiness (issue 13): one that says it is ready and then ends has become
// ready, however quickly it ends (the background traffic of a world without its hosts ended at
// once and `lab up` failed or not by the timing of a poll); one that ends without saying so has
// not. No root needed: the processes are plain shells.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabCommandError } from '../../lib/lab/network/errors.js';
import { startDaemon } from '../../lib/lab/network/process.js';

const logFile = () => join(mkdtempSync(join(tmpdir(), 'v6lab-daemon-')), 'daemon.log');

describe('lab processes: ready is what the log says, whenever the process ends', () => {
  it('a process that prints its ready line and exits 0 at once is ready, every time', async () => {
    for (let i = 0; i < 20; i++) {
      const proc = await startDaemon(
        { name: 'quick', namespace: 'none', argv: ['sh', '-c', 'echo background traffic started'], logFile: logFile(), ready: /background traffic started/ },
        async () => undefined,
      );
      assert.equal(proc.name, 'quick');
    }
  });

  it('a process that exits 0 without its ready line is not ready, and the error carries its log', async () => {
    await assert.rejects(
      startDaemon(
        { name: 'silent', namespace: 'none', argv: ['sh', '-c', 'echo nothing here; sleep 0.2'], logFile: logFile(), ready: /background traffic started/ },
        async () => undefined,
      ),
      (error: Error) => error instanceof LabCommandError && /exited \(0\) before it was ready: nothing here/.test(error.message),
    );
    await assert.rejects(
      startDaemon(
        { name: 'silent', namespace: 'none', argv: ['sh', '-c', 'echo nothing here'], logFile: logFile(), ready: /background traffic started/ },
        async () => undefined,
      ),
      // "exited at once" when it ended before its start time was read, else "exited (0) before it was ready".
      (error: Error) => error instanceof LabCommandError && /(exited at once|exited \(0\) before it was ready): nothing here/.test(error.message),
    );
  });
});
