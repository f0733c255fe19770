// Issue 14, "Shown to work": with a lab up, an unprivileged local user (uid 65534) tries what the
// issue's probes did. With an adb key the handsets accept, it pushes a symlink to a root-only host
// directory and reads and writes through it, and runs `su -c` through adbd's shell; with any key,
// it talks to every socket under the lab's state directory; with a key of its own, its adb server
// stays `unauthorized`. Nothing may reach the host directory: the handset is a container whose
// root is not the host's. Root and namespaces needed: skips with the reason elsewhere, fails in CI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { formatAdbPublicKey, generateAdbKeyPair } from '../../lib/lab/adbd/auth.js';
import { settledDeviceState } from '../support/adb-cli.js';
import { labSession } from '../support/lab-session.js';

const NOBODY = 65534;
const SERIAL = 'emulator-5554';
/** The local user's own adb server, away from the session's. */
const NOBODY_ADB_PORT = 5137;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs argv as uid 65534 (no groups), in `cwd`, with only `env`. */
function asNobody(argv: readonly string[], cwd: string, env: Record<string, string>, timeoutMs = 30_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      'setpriv',
      [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', ...argv],
      { cwd, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

/** Every Unix socket under `dir` (not following symlinks). */
function socketsUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSocket()) found.push(path);
    else if (entry.isDirectory() && !lstatSync(path).isSymbolicLink()) found.push(...socketsUnder(path));
  }
  return found;
}

describe('lab: a local user against a lab that is up (issue 14)', function () {
  this.timeout(180_000);
  // A root-only host directory, mode 0700, with a file in it: nothing may read it or add to it.
  const secretDir = (work: string) => join(work, 'root-only');
  const home = (work: string) => join(work, 'nobody-home');
  const acceptedKey = (work: string) => join(home(work), 'accepted-adbkey');
  const session = labSession('the local-user lab tests', ['compliant'], 1, {
    beforeUp: (work) => {
      mkdirSync(secretDir(work), { mode: 0o700 });
      writeFileSync(join(secretDir(work), 'secret.txt'), 'root only\n', { mode: 0o600 });
      mkdirSync(home(work), { mode: 0o700 });
      const { privateKey, publicKey } = generateAdbKeyPair();
      writeFileSync(acceptedKey(work), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      writeFileSync(`${acceptedKey(work)}.pub`, formatAdbPublicKey(publicKey, 'nobody@box'));
      for (const path of [home(work), acceptedKey(work), `${acceptedKey(work)}.pub`]) chownSync(path, NOBODY, NOBODY);
    },
    // The local user holds a key the handsets accept: the worst case for what follows.
    upArgs: (work) => ['--adb-key', `${acceptedKey(work)}.pub`],
  });

  /** adb as the local user, against its own server, signing with `vendorKeys` (its own key when empty). */
  const adb = (args: readonly string[], vendorKeys: string) =>
    asNobody(['adb', '-P', String(NOBODY_ADB_PORT), ...args], home(session.work), {
      HOME: home(session.work),
      ADB_VENDOR_KEYS: vendorKeys,
      ANDROID_ADB_SERVER_PORT: String(NOBODY_ADB_PORT),
    });

  const stopServer = () => adb(['kill-server'], '').catch(() => undefined);
  after(stopServer);

  /** What the local user's adb server says of the handset once it settles (15 s at most). */
  const stateOf = (vendorKeys: string): Promise<string> => settledDeviceState(SERIAL, async () => (await adb(['devices'], vendorKeys)).stdout);

  function assertSecretUntouched(): void {
    assert.deepEqual(readdirSync(secretDir(session.work)).sort(), ['secret.txt']);
    assert.equal(readFileSync(join(secretDir(session.work), 'secret.txt'), 'utf8'), 'root only\n');
  }

  it('an adb client with a key of its own is refused (unauthorized); with the accepted key it is a device', async () => {
    await stopServer();
    assert.equal(await stateOf(''), 'unauthorized');
    await stopServer();
    assert.equal(await stateOf(acceptedKey(session.work)), 'device');
  });

  it('a symlink pushed over sync cannot be read or written through to the host', async () => {
    const key = acceptedKey(session.work);
    // adb pushes a directory's symlinks as symlinks (file_sync_client: S_ISLNK -> readlink).
    const payload = join(home(session.work), 'payload');
    mkdirSync(payload);
    symlinkSync(secretDir(session.work), join(payload, 'escape'));
    symlinkSync(join(secretDir(session.work), 'secret.txt'), join(payload, 'escape-file'));
    writeFileSync(join(home(session.work), 'planted.txt'), 'planted\n');
    chownSync(payload, NOBODY, NOBODY);
    chmodSync(home(session.work), 0o755);
    const pushed = await adb(['-s', SERIAL, 'push', payload, '/data/local/tmp/'], key);
    assert.equal(pushed.code, 0, `push: ${pushed.stderr}${pushed.stdout}`);
    const listed = await adb(['-s', SERIAL, 'shell', 'ls -l /data/local/tmp/payload'], key);
    assert.match(listed.stdout, /escape -> /, `the symlink was not made on the handset: ${listed.stdout}`);
    // Read through it: the host directory is not in the handset.
    for (const remote of ['/data/local/tmp/payload/escape/secret.txt', '/data/local/tmp/payload/escape-file']) {
      // adb pull fails, or pulls nothing (a dangling link on the handset is no file): either way no byte of the secret.
      const stolen = join(home(session.work), `stolen-${remote.split('/').pop()}`);
      const pulled = await adb(['-s', SERIAL, 'pull', remote, stolen], key);
      assert.ok(pulled.code !== 0 || /0 files pulled/.test(pulled.stdout), `pull ${remote}: ${pulled.stdout}`);
      const leaked = existsSync(stolen) && lstatSync(stolen).isFile() && readFileSync(stolen, 'utf8').includes('root only');
      assert.equal(leaked, false, `${remote} gave the secret away`);
      // On the handset itself, the shell cannot read it either.
      const cat = await adb(['-s', SERIAL, 'shell', `cat ${remote}`], key);
      assert.doesNotMatch(cat.stdout, /root only/);
    }
    // Write through it.
    const planted = await adb(['-s', SERIAL, 'push', join(home(session.work), 'planted.txt'), '/data/local/tmp/payload/escape/planted.txt'], key);
    assert.notEqual(planted.code, 0, `push through the symlink succeeded: ${planted.stdout}`);
    assertSecretUntouched();
  });

  it('`su -c` through adbd cannot create a file in a root-only host directory, nor through adb root', async () => {
    const key = acceptedKey(session.work);
    const target = join(secretDir(session.work), 'owned-by-su');
    const su = await adb(['-s', SERIAL, 'shell', `su -c 'id; touch ${target}; ls ${secretDir(session.work)}'`], key);
    assert.match(su.stdout, /uid=0\(root\)/, `su did not run as the handset's root: ${su.stdout}${su.stderr}`);
    const root = await adb(['-s', SERIAL, 'root'], key);
    assert.match(root.stdout, /restarting adbd as root|already running as root/, root.stdout);
    await stateOf(key);
    const asRoot = await adb(['-s', SERIAL, 'shell', `id; touch ${target}; cat ${join(secretDir(session.work), 'secret.txt')}`], key);
    assert.match(asRoot.stdout, /uid=0\(root\)/, `adb root gave no root shell: ${asRoot.stdout}${asRoot.stderr}`);
    assert.doesNotMatch(asRoot.stdout, /root only/);
    await adb(['-s', SERIAL, 'unroot'], key);
    assertSecretUntouched();
  });

  it("the handset's su serves only its own root and shell user: not an app's uid, not host root outside its PID namespace", async () => {
    const key = acceptedKey(session.work);
    // AOSP keeps apps from su twice: the binary is root:shell 4750, and su.cpp allows only AID_ROOT
    // and AID_SHELL. An app's uid (10050) inside the handset gets no root either way.
    const fromApp = await adb(['-s', SERIAL, 'shell', "su -c 'setpriv --reuid=10050 --regid=10050 --clear-groups su -c id; echo exit=$?'"], key);
    assert.match(fromApp.stdout, /exit=(1|126|127)\b/, `su as an app's uid: ${fromApp.stdout}${fromApp.stderr}`);
    assert.doesNotMatch(fromApp.stdout, /uid=0\(root\)/, `an app's uid became root: ${fromApp.stdout}`);
    // Host root passes the socket's mode, but is no process of the handset (pid 0 in its PID namespace).
    const su = socketsUnder(session.stateDir).find((s) => s.endsWith('su.sock'));
    assert.ok(su !== undefined, `no su.sock under ${session.stateDir}`);
    const target = join(secretDir(session.work), 'owned-by-host-root');
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(su);
      let got = '';
      socket.on('connect', () => socket.write(`${JSON.stringify({ command: `touch ${target}` })}\n`));
      socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
    });
    assert.match(reply, /su: not allowed/, `host root was served: ${JSON.stringify(reply)}`);
    assertSecretUntouched();
  });

  it('no socket under the state directory runs a command for the local user', async () => {
    const sockets = socketsUnder(session.stateDir);
    assert.ok(
      sockets.some((s) => s.endsWith('su.sock')),
      `no su.sock under ${session.stateDir}: ${sockets.join(', ')}`,
    );
    const target = join(secretDir(session.work), 'owned-by-socket');
    const probe = [
      "const net = require('node:net');",
      'const [path, line] = process.argv.slice(1);',
      'const s = net.connect(path);',
      "s.on('connect', () => s.write(line));",
      "s.on('data', (d) => process.stdout.write(d));",
      "s.on('error', (e) => { process.stdout.write('error ' + e.code + '\\n'); });",
      "s.on('close', () => process.exit(0));",
      'setTimeout(() => process.exit(0), 5000);',
    ].join('\n');
    for (const socket of sockets) {
      for (const line of [
        `${JSON.stringify({ command: `touch ${target}` })}\n`,
        `${JSON.stringify({ command: 'am', args: ['force-stop', `../../../..${target}`] })}\n`,
      ]) {
        const ran = await asNobody([process.execPath, '-e', probe, socket, line], '/', {});
        assert.equal(ran.code, 0, ran.stderr);
      }
    }
    assertSecretUntouched();
  });
});
