// Every test's temporary files in one scratch directory for the run, removed when the run ends:
// test files and the processes they start (the CLI, lab supervisors) make their directories
// with os.tmpdir(), which reads TMPDIR, and not every test removes what it made. The directory
// is as open as /tmp (sticky, world-writable): lab handsets run commands as the shell user.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const scratch = mkdtempSync(join(tmpdir(), 'v6lab-test-'));
chmodSync(scratch, 0o1777);
process.env.TMPDIR = scratch;

export const mochaHooks = {
  afterAll(): void {
    rmSync(scratch, { recursive: true, force: true });
  },
};
