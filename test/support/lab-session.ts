/**
 * The virtual lab for one describe block of lab tests: a state directory the handsets' shell user
 * can reach, `v6lab lab up` with the given handset profiles, a private adb server that lists every
 * handset, and both torn down after. Skips with the reason on a developer's machine without root
 * or the Debian tools, fails in CI (requireLab).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAdbServer, type AdbCli, type AdbCliOptions } from './adb-cli.js';
import { projectRoot, v6lab } from './cli.js';
import { requireLab } from './lab-env.js';

export interface LabSession {
  /** A directory of the test's own, mode 0755. */
  work: string;
  stateDir: string;
  cli: AdbCli;
  /** The environment that points `v6lab` at this lab and this adb server. */
  env: Record<string, string>;
}

const TOOLS = ['ip', 'tayga', 'radvd', 'unbound', 'tcpdump', 'adb', 'setpriv', 'dnsmasq', 'busybox'];
const PACKAGES = 'iproute2 tayga radvd unbound tcpdump adb util-linux dnsmasq-base busybox';

/** What a test adds to the session: more `lab up` arguments and environment, and the adb server's keys. */
export interface LabSessionExtra {
  /** More programs the tests need (a lab app's real program), and the Debian packages that give them. */
  tools?: { programs: readonly string[]; packages: string };
  /** Runs before `lab up`, in the session's work directory (to make the files `upArgs` name). */
  beforeUp?: (work: string) => void;
  /** More `lab up` arguments (`--adb-key FILE`). */
  upArgs?: (work: string) => readonly string[];
  /** More `lab up` environment (a HOME of its own). */
  upEnv?: (work: string) => Record<string, string>;
  /** How the session's adb server is started (the keys it signs with). */
  server?: (work: string) => AdbCliOptions;
}

/** Registers the before/after hooks; the session is there once `before` ran. */
export function labSession(what: string, profiles: readonly string[], handsets = profiles.length, extra: LabSessionExtra = {}): LabSession {
  const work = mkdtempSync(join(tmpdir(), 'v6lab-lab-'));
  chmodSync(work, 0o755);
  const session = { work, stateDir: join(work, 'state') } as LabSession;
  before(async function () {
    await requireLab(this, what, [...TOOLS, ...(extra.tools?.programs ?? [])], [PACKAGES, extra.tools?.packages ?? ''].join(' ').trim());
    extra.beforeUp?.(work);
    const up = await v6lab(
      [
        'lab',
        'up',
        '--handsets',
        String(handsets),
        '--apn',
        'ipv6',
        ...profiles.flatMap((p) => ['--profile', join(projectRoot, 'devices/lab/handsets', `${p}.json`)]),
        ...(extra.upArgs?.(work) ?? []),
      ],
      { ...extra.upEnv?.(work), V6LAB_STATE_DIR: session.stateDir },
    );
    assert.equal(up.code, 0, `lab up: ${up.stderr}`);
    session.cli = await startAdbServer(join(work, 'adb-home'), extra.server?.(work));
    session.env = session.cli.harnessEnv({ V6LAB_STATE_DIR: session.stateDir });
    const serials = Array.from({ length: handsets }, (_, i) => `emulator-${5554 + 2 * i}`);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const devices = (await session.cli.run(['devices'])).stdout.toString();
      if (serials.every((s) => devices.includes(`${s}\tdevice`))) break;
      if (Date.now() > deadline) throw new Error(`the adb server did not find the handsets: ${devices}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });
  after(async function () {
    await session.cli?.run(['kill-server']).catch(() => undefined);
    if (process.getuid?.() === 0) await v6lab(['lab', 'down'], { V6LAB_STATE_DIR: session.stateDir });
  });
  return session;
}
