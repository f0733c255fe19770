// Lab apps that are real programs (issue 20): a page's `run` is executed by the app's process
// under the app's uid, in the handset's namespaces, with the handset's resolver (DNS64 on the
// IPv6-only APN). curl here, whose documented behaviour is getaddrinfo with AF_UNSPEC and Happy
// Eyeballs (RFC 8305; curl's --happy-eyeballs-timeout-ms, default 200 ms): on an IPv6-only APN it
// reaches a dual-stack host over IPv6 and an IPv4-only host over its DNS64-synthesized address.
// Over HTTPS too: the handset's system CA store holds the lab CA. And `lab up` refuses a program
// the app's uid could not run, naming the app file and field.
// Root and namespaces needed: skips with the reason elsewhere, fails in CI (CI=true).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bringLabDown, bringLabUp, DEFAULT_PROFILE } from '../../lib/lab/lab.js';
import { AdbCli, findAdb, freePort } from '../support/adb-cli.js';
import { appLogEntries, until } from '../support/app-log.js';
import { requireLab } from '../support/lab-env.js';
import { v6lab } from '../support/cli.js';

const requireHere = createRequire(import.meta.url);
const runner = [process.execPath, '--import', pathToFileURL(requireHere.resolve('tsx')).href];
const SERIAL = 'emulator-5554';
const PKG = 'com.real.curl';

describe('lab: apps that are real programs (issue 20)', function () {
  this.timeout(90_000);
  const work = mkdtempSync(join(tmpdir(), 'v6lab-real-'));
  chmodSync(work, 0o755);
  const stateDir = join(work, 'state');
  const world = join(work, 'world.json');
  const appsDir = join(work, 'apps');
  let cli: AdbCli | undefined;

  /** An apps directory holding one app whose home page runs `run`. */
  const appsWith = (name: string, run: string[]): string => {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'app.json'), JSON.stringify({ package: PKG, label: 'curl', start: 'home', pages: { home: { requests: [{ run }] } } }));
    return dir;
  };

  before(async function () {
    await requireLab(
      this,
      'the real-program lab tests',
      ['ip', 'tayga', 'radvd', 'unbound', 'openssl', 'curl', 'python3', 'nft', 'setpriv', 'dnsmasq', 'busybox', 'adb'],
      'iproute2 tayga radvd unbound openssl curl python3-minimal nftables util-linux dnsmasq-base busybox adb',
    );
    writeFileSync(
      world,
      JSON.stringify({
        hosts: [
          { name: 'dual.real.test', ipv4: true, ipv6: true },
          { name: 'old.real.test', ipv4: true, ipv6: false },
        ],
      }),
    );
    mkdirSync(appsDir);
    // Each prints the address it connected to (curl -w %{remote_ip}), one run after the other.
    writeFileSync(
      join(appsDir, 'curl.json'),
      JSON.stringify({
        package: PKG,
        label: 'curl',
        start: 'home',
        pages: {
          home: {
            requests: [
              { run: ['curl', '-sS', '-o', '/dev/null', '-w', '%{remote_ip}', 'http://dual.real.test/bytes/2000'], timeoutMs: 15_000 },
              { run: ['curl', '-sS', '-o', '/dev/null', '-w', '%{remote_ip}', 'http://old.real.test/bytes/2000'], timeoutMs: 15_000 },
              { run: ['id', '-u'] },
              // The handset's system CA store holds the lab CA, as a phone's holds its internet's CAs:
              // programs that verify against it (curl, Python's ssl) reach the world over HTTPS.
              { run: ['curl', '-sS', '-o', '/dev/null', '-w', '%{ssl_verify_result}', 'https://dual.real.test/bytes/2000'], timeoutMs: 15_000 },
              {
                run: ['python3', '-c', 'import urllib.request; print(urllib.request.urlopen("https://old.real.test/bytes/2000", timeout=10).status)'],
                timeoutMs: 15_000,
              },
            ],
          },
        },
      }),
    );
  });

  after(async () => {
    await cli?.run(['kill-server']).catch(() => undefined);
    if (process.getuid?.() === 0) await bringLabDown(stateDir).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  it('lab up refuses a program missing from PATH, or one the app uid may not read and execute, naming the app file and the program', async () => {
    const cases: [string, string[], RegExp][] = [
      ['missing', ['no-such-client-v6lab', '-v'], /program "no-such-client-v6lab": not found on PATH \(\/usr\/local\/bin:\/usr\/bin:\/bin\)/],
      // Root's and its group's only: no handset uid is either.
      ['unreadable', ['/etc/shadow'], /program "\/etc\/shadow": \/etc\/shadow \(mode 0640\) is not readable and executable by the app's uid/],
    ];
    for (const [name, run, problem] of cases) {
      const dir = appsWith(name, run);
      const up = await v6lab(['lab', 'up', '--handsets', '1', '--world', world, '--apps', dir], { V6LAB_STATE_DIR: stateDir });
      assert.equal(up.code, 2, `${name}: ${up.stderr}`);
      assert.ok(up.stderr.includes(join(dir, 'app.json')), `${name}: names the app file: ${up.stderr}`);
      assert.match(up.stderr, /pages\.home\.requests\[0\]\.run\[0\]/, `${name}: names the field`);
      assert.match(up.stderr, problem, name);
      assert.equal(up.stderr.trim().split('\n').length, 1, `${name}: one line: ${up.stderr}`);
    }
  });

  it("runs curl under the app's uid with the handset's DNS64: IPv6 to the dual-stack host, the synthesized address to the IPv4-only one", async () => {
    await bringLabUp({ stateDir, handsets: 1, apn: 'ipv6', world, apps: appsDir, profiles: [DEFAULT_PROFILE], runner });
    cli = new AdbCli(findAdb()!, await freePort(), join(work, 'adb-home'));
    mkdirSync(join(work, 'adb-home'));
    assert.equal((await cli.run(['start-server'])).code, 0);
    await until(
      'the adb server to find the handset',
      async () => (/emulator-5554\s+device/.test((await cli!.run(['devices'])).stdout.toString()) ? true : null),
      15_000,
    );
    const started = await cli.run(['-s', SERIAL, 'shell', `am start -W -n ${PKG}/.MainActivity`]);
    assert.equal(started.code, 0, started.stderr);
    const dir = join(stateDir, 'handsets/hs0');
    const runs = await until(
      'the five runs in the app log',
      () => {
        const done = appLogEntries(dir, PKG).filter((e) => e.event === 'run');
        return done.length === 5 ? done : null;
      },
      40_000,
    );
    const start = appLogEntries(dir, PKG).find((e) => e.event === 'start')!;
    const byArgv = (url: string) => runs.find((r) => (r.run as string[]).includes(url))!;
    const dual = byArgv('http://dual.real.test/bytes/2000');
    const old = byArgv('http://old.real.test/bytes/2000');
    for (const r of [dual, old]) assert.deepEqual([r.exitCode, r.ok, r.timedOut], [0, true, false], JSON.stringify(r));
    // A native IPv6 address of the world for the dual-stack host (not NAT64's 64:ff9b::/96)...
    assert.match(String(dual.stdout), /^[0-9a-f:]+$/, JSON.stringify(dual));
    assert.doesNotMatch(String(dual.stdout), /^64:ff9b:/);
    // ...and the DNS64-synthesized one for the IPv4-only host: only the handset's resolver gives it.
    assert.match(String(old.stdout), /^64:ff9b::/, JSON.stringify(old));
    // The program ran as the app's own uid, as the app's process does.
    const id = runs.find((r) => (r.run as string[])[0] === 'id')!;
    assert.equal(String(id.stdout).trim(), String(start.uid), JSON.stringify({ id, start }));
    assert.ok(Number(start.uid) >= 10_000, `an app uid: ${String(start.uid)}`);
    const curlTls = runs.find((r) => (r.run as string[]).includes('https://dual.real.test/bytes/2000'))!;
    assert.deepEqual([curlTls.exitCode, curlTls.stdout], [0, '0'], JSON.stringify(curlTls));
    const pythonTls = runs.find((r) => (r.run as string[])[0] === 'python3')!;
    assert.deepEqual([pythonTls.exitCode, String(pythonTls.stdout).trim()], [0, '200'], JSON.stringify(pythonTls));
  });
});
