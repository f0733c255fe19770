// `adb reboot` on a virtual handset, driven by the real Debian adb: the device leaves `adb devices`,
// comes back as the same serial a few seconds later (V6LAB_REBOOT_MS, 3000 by default), its apps
// stopped, its settings and APN table kept. Root and namespaces needed: skips with the reason
// elsewhere, fails in CI (CI=true).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readHandsetState } from '../../lib/lab/android/state.js';
import { bringLabDown, bringLabUp, DEFAULT_APPS, DEFAULT_PROFILE, DEFAULT_WORLD, LabInputError } from '../../lib/lab/lab.js';
import { AdbCli, findAdb, freePort } from '../support/adb-cli.js';
import { requireLab } from '../support/lab-env.js';

const requireHere = createRequire(import.meta.url);
/** The lab's processes run the sources under tsx, found by absolute URL from any directory. */
const runner = [process.execPath, '--import', pathToFileURL(requireHere.resolve('tsx')).href];
const SERIAL = 'emulator-5554';
/** The supervisor's default reboot time (lib/lab/adbd/daemon.ts DEFAULT_REBOOT_MS). */
const REBOOT_MS = 3000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('lab: adb reboot takes a handset away and brings it back as the same serial', function () {
  this.timeout(90_000);
  const work = mkdtempSync(join(tmpdir(), 'v6lab-reboot-'));
  // The handsets' shell user (uid 2000) must reach the state directory.
  chmodSync(work, 0o755);
  const stateDir = join(work, 'state');
  const dir = join(stateDir, 'handsets/hs0');
  let cli: AdbCli;

  const shell = async (command: string) => {
    const r = await cli.run(['-s', SERIAL, 'shell', command]);
    return { code: r.code, out: r.stdout.toString(), err: r.stderr };
  };
  /** The state `adb devices` gives the handset (`device`, `offline`, ...), or null when absent. */
  const listed = async (): Promise<string | null> => {
    const out = (await cli.run(['devices'])).stdout.toString();
    return new RegExp(`^${SERIAL}\\s+(\\S+)$`, 'm').exec(out)?.[1] ?? null;
  };
  async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<number> {
    const started = Date.now();
    for (;;) {
      if (await probe()) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(everyMs);
    }
  }

  before(async function () {
    await requireLab(
      this,
      'the lab tests',
      ['ip', 'tayga', 'radvd', 'unbound', 'tcpdump', 'openssl', 'nft', 'setpriv', 'dnsmasq', 'busybox', 'adb'],
      'iproute2 tayga radvd unbound tcpdump openssl curl nftables util-linux dnsmasq-base busybox adb',
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await bringLabUp({
          stateDir,
          handsets: 1,
          apn: 'ipv6',
          world: DEFAULT_WORLD,
          apps: DEFAULT_APPS,
          profiles: [DEFAULT_PROFILE],
          runner,
          backgroundTraffic: false,
        });
        break;
      } catch (error) {
        // Another lab (a test running beside this one) holds the emulator port: wait for it.
        if (!(error instanceof LabInputError && /is taken/.test(error.message)) || Date.now() > deadline) throw error;
        await sleep(1000);
      }
    }
    mkdirSync(join(work, 'adb-home'));
    cli = new AdbCli(findAdb()!, await freePort(), join(work, 'adb-home'));
    assert.equal((await cli.run(['start-server'])).code, 0);
    await until('the adb server to find the handset', async () => (await listed()) === 'device', 15_000, 250);
  });

  after(async () => {
    await cli?.run(['kill-server']).catch(() => undefined);
    if (process.getuid?.() === 0) await bringLabDown(stateDir);
    rmSync(work, { recursive: true, force: true });
  });

  it('adb reboot bootloader is refused; the handset stays', async () => {
    const refused = await cli.run(['-s', SERIAL, 'reboot', 'bootloader']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: /);
    assert.equal(await listed(), 'device');
  });

  it('adb reboot: the device leaves adb devices, comes back as device within seconds; apps stopped, settings, APN table and persist.* kept', async () => {
    // What a reboot must keep, and what it must not.
    assert.equal((await shell('settings put global private_dns_mode off')).code, 0);
    assert.equal((await shell("su -c 'content delete --uri content://telephony/carriers --where _id=2'")).code, 0);
    assert.equal((await shell('setprop persist.v6lab.kept 1 && setprop debug.v6lab.lost 1')).code, 0);
    const started = await shell('am start -W -n com.example.news/.MainActivity');
    assert.equal(started.code, 0, started.err);
    // Its pid is the handset's own (its container has its PID namespace): asked there, as on a phone.
    const app = readHandsetState(dir).running['com.example.news']!;
    assert.equal((await shell(`test -d /proc/${app.pid}`)).code, 0, `pid ${app.pid} is not running on the handset`);

    const reboot = await cli.run(['-s', SERIAL, 'reboot'], 10_000);
    assert.equal(reboot.code, 0, reboot.stderr);
    const goneAfter = await until('the handset to leave adb devices', async () => (await listed()) === null, 5_000);
    const downFor = await until('the handset to come back as device', async () => (await listed()) === 'device', 15_000);
    // The adb server scans the emulator ports about once a second: back after the reboot time, not long after.
    assert.ok(goneAfter + downFor >= REBOOT_MS - 1000, `back after ${goneAfter + downFor} ms, before the reboot time of ${REBOOT_MS} ms`);

    assert.equal((await shell('getprop ro.product.model')).out, 'v6lab Reference\n');
    assert.deepEqual(readHandsetState(dir).running, {});
    assert.equal((await shell('pidof com.example.news')).code, 1);
    assert.equal((await shell('settings get global private_dns_mode')).out, 'off\n');
    const apns = (await shell("su -c 'content query --uri content://telephony/carriers --projection _id:current'")).out;
    assert.equal(apns, 'Row: 0 _id=1, current=1\n');
    assert.equal((await shell('getprop persist.v6lab.kept')).out, '1\n');
    assert.equal((await shell('getprop debug.v6lab.lost')).out, '\n');
    assert.match((await shell('id')).out, /^uid=2000\(shell\)/);
    const again = await shell('am start -W -n com.example.news/.MainActivity');
    assert.match(again.out, /LaunchState: COLD/, 'an app starts afresh after the reboot');
  });
});
