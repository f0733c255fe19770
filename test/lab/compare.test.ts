// `v6lab report --compare` on two real runs where one app changed mode between them (a new
// release that tries IPv4 first): exactly that app is marked, as a regression; and the other way
// round, as a fix. Root and namespaces needed: skips with the reason elsewhere, fails in CI.
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAdbServer, type AdbCli } from '../support/adb-cli.js';
import { projectRoot, v6lab } from '../support/cli.js';
import { requireLab } from '../support/lab-env.js';

const SERIAL = 'emulator-5554';

describe('report --compare: two runs, one app changed (issue 5)', function () {
  this.timeout(400_000);
  const work = mkdtempSync(join(tmpdir(), 'v6lab-compare-'));
  chmodSync(work, 0o755);
  const stateDir = join(work, 'state');
  let cli: AdbCli;
  let env: Record<string, string>;

  before(async function () {
    await requireLab(
      this,
      'the compare test',
      ['ip', 'tayga', 'radvd', 'unbound', 'tcpdump', 'adb', 'setpriv', 'dnsmasq', 'busybox'],
      'iproute2 tayga radvd unbound tcpdump adb util-linux dnsmasq-base busybox',
    );
    mkdirSync(join(work, 'adb-home'));
    cli = await startAdbServer(join(work, 'adb-home'));
    env = cli.harnessEnv({ V6LAB_STATE_DIR: stateDir });
  });

  after(async function () {
    await cli?.run(['kill-server']).catch(() => undefined);
    if (process.getuid?.() === 0) await v6lab(['lab', 'down'], env);
  });

  /** Brings the lab up with `apps`, certifies the apps suite of `catalogue` into `out` (exit 0 all pass, 1 an app fails), brings it down. */
  async function certifyWith(apps: string, catalogue: string, out: string, expectedExit: number): Promise<void> {
    const up = await v6lab(['lab', 'up', '--apn', 'ipv6', '--apps', apps, '--profile', join(projectRoot, 'devices/lab/handsets/compliant.json')], env);
    assert.equal(up.code, 0, up.stderr);
    try {
      const run = await v6lab(['certify', '--devices', SERIAL, '--suite', 'apps', '--apps', catalogue, '--out', out, '--quiet'], env, 240_000);
      assert.equal(run.code, expectedExit, `${run.stdout}\n${run.stderr.slice(-2000)}`);
    } finally {
      assert.equal((await v6lab(['lab', 'down'], env)).code, 0);
    }
  }

  it('marks exactly the app whose release went IPv4-first', async () => {
    const before = join(work, 'apps-before');
    const after = join(work, 'apps-after');
    cpSync(join(projectRoot, 'devices/lab/apps'), before, { recursive: true });
    cpSync(join(projectRoot, 'devices/lab/apps'), after, { recursive: true });
    // The new release of Maps tries IPv4 first.
    const maps = JSON.parse(readFileSync(join(after, 'maps.json'), 'utf8')) as { pages: Record<string, { requests: { mode: string }[] }> };
    for (const page of Object.values(maps.pages)) for (const r of page.requests) r.mode = 'ipv4-first';
    writeFileSync(join(after, 'maps.json'), JSON.stringify(maps));
    const catalogue = join(work, 'catalogue.json');
    writeFileSync(
      catalogue,
      JSON.stringify({
        // Maps changes; Chat does not, and must stay unmarked (a third app proved nothing more).
        name: 'two',
        apps: ['com.example.maps', 'com.example.chat'].map((p) => ({ package: p, label: p, dwellMs: 1500 })),
      }),
    );

    await certifyWith(before, catalogue, join(work, 'run1'), 0);
    await certifyWith(after, catalogue, join(work, 'run2'), 1);
    const report = await v6lab(['report', join(work, 'run2'), '--compare', join(work, 'run1'), '--no-allure'], env);
    // A regression is what a firmware pipeline gates on: exit 1, one line each on stdout.
    assert.equal(report.code, 1, report.stderr);
    assert.deepEqual(
      report.stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('regressed '))
        .map((l) => l.replace(/ on .*/, ''))
        .sort(),
      ['regressed apps.ipv6-first com.example.maps [ipv4v6]', 'regressed apps.ipv6-first com.example.maps [ipv6]'],
    );
    const html = readFileSync(join(work, 'run2', 'index.html'), 'utf8');
    const marked = [...html.matchAll(/<tr class="change-(\w+)" data-change="\w+" data-app="([^"]*)">/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(
      marked,
      [
        ['regressed', 'com.example.maps'],
        ['regressed', 'com.example.maps'],
      ],
      'on both networks, nothing else',
    );
    assert.match(html, /2 regressed, 0 fixed, 0 changed, 0 new, 0 gone/);
    // And back: the old release against the new one is a fix.
    const back = await v6lab(['report', join(work, 'run1'), '--compare', join(work, 'run2'), '--no-allure'], env);
    assert.equal(back.code, 0, 'a fix is no regression');
    assert.match(readFileSync(join(work, 'run1', 'index.html'), 'utf8'), /0 regressed, 2 fixed, 0 changed/);
  });
});
