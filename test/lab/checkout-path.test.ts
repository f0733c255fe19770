// The lab from a checkout other users cannot enter (issue 13): cloned into /root (mode 700) or a
// `mktemp -d` directory, every handset command died as the shell user (uid 2000) could not read
// dist/, and `lab up` said the lab was up. Here the working tree is copied into a mode-700
// directory (a copy, not a clone of HEAD: what is tested is the code as it is now), built there,
// and the lab is brought up from it; the handsets' commands are run through the real adb. And a
// node the shell user cannot run (one installed under /root, say) makes `lab up` stop with one
// line naming the cause. Since issue 14 the handsets are containers with a filesystem of their
// own, so a mode-700 checkout or state directory is no matter; a node binary they may not run
// is. Root and namespaces needed: skips with the reason elsewhere, fails in CI.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startAdbServer, type AdbCli } from '../support/adb-cli.js';
import { projectRoot, type CliResult } from '../support/cli.js';
import { requireLab } from '../support/lab-env.js';
import { labIdFrom, labLeftovers } from './leftovers.js';

/** `node BIN/v6lab.js ...args` from `checkout`, as a user there runs it. */
function v6labFrom(node: string, checkout: string, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(node, [join(checkout, 'bin/v6lab.js'), ...args], { cwd: checkout, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The lab's namespaces now on the host. */
const labNamespaces = (): string[] =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith('v6l-'));

describe('lab: from a checkout in a mode-700 directory (issue 13)', function () {
  this.timeout(300_000);
  // mkdtemp makes it 0700: other users, the handsets' shell user among them, cannot enter it.
  const secret = mkdtempSync(join(tmpdir(), 'v6lab-private-'));
  const checkout = join(secret, 'v6lab');
  const work = mkdtempSync(join(tmpdir(), 'v6lab-state-'));
  // The state directory inside the mode-700 directory too: the handsets' uids never go there.
  const stateDir = join(secret, 'state');
  let cli: AdbCli | undefined;

  before(async function () {
    await requireLab(
      this,
      'the checkout-path lab test',
      ['ip', 'tayga', 'radvd', 'unbound', 'openssl', 'curl', 'nft', 'setpriv', 'dnsmasq', 'adb', 'git'],
      'iproute2 tayga radvd unbound openssl curl nftables util-linux dnsmasq-base adb git',
    );
    assert.equal(statSync(secret).mode & 0o777, 0o700);
    // The working tree's files (tracked, and new ones not ignored), as a clone would have them.
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: projectRoot, encoding: 'utf8' })
      .split('\0')
      .filter(Boolean);
    for (const file of files) {
      const from = join(projectRoot, file);
      if (!existsSync(from) || !statSync(from).isFile()) continue;
      mkdirSync(dirname(join(checkout, file)), { recursive: true });
      copyFileSync(from, join(checkout, file));
    }
    symlinkSync(join(projectRoot, 'node_modules'), join(checkout, 'node_modules'));
    // What `npm start` does before it runs: build dist/ there. Type errors elsewhere in a tree
    // being edited do not stop tsc from writing it; a missing dist/ does.
    try {
      execFileSync(process.execPath, [join(checkout, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: checkout, stdio: 'pipe' });
    } catch {
      // judged by what it wrote, below
    }
    assert.ok(
      existsSync(join(checkout, 'dist/cli/main.js')) && existsSync(join(checkout, 'dist/lab/android/command.js')),
      'the build in the copied checkout wrote no dist/',
    );
  });

  after(async function () {
    await cli?.run(['kill-server']).catch(() => undefined);
    if (process.getuid?.() === 0 && existsSync(join(checkout, 'bin/v6lab.js')))
      await v6labFrom(process.execPath, checkout, ['lab', 'down', '--state-dir', stateDir]);
    rmSync(secret, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('lab up from there, and the handset runs getprop, settings, dumpsys, id and an app as on any checkout', async () => {
    const up = await v6labFrom(process.execPath, checkout, ['lab', 'up', '--handsets', '1', '--state-dir', stateDir]);
    assert.equal(up.code, 0, `lab up: ${up.stderr}`);
    const labId = labIdFrom(up.stderr)!;
    cli = await startAdbServer(join(work, 'adb-home'));
    const deadline = Date.now() + 15_000;
    while (!(await cli.run(['devices'])).stdout.toString().includes('emulator-5554\tdevice')) {
      if (Date.now() > deadline) throw new Error('the adb server did not find emulator-5554');
      await new Promise((r) => setTimeout(r, 250));
    }
    const shell = async (command: string) => {
      const r = await cli!.run(['-s', 'emulator-5554', 'shell', command]);
      return { code: r.code, out: r.stdout.toString(), err: r.stderr };
    };
    for (const [command, expected] of [
      ['settings get global private_dns_mode', /^opportunistic\n$/],
      ['getprop ro.product.model', /^v6lab Reference\n$/],
      ['dumpsys connectivity', /^Active default network: 100\n/],
      ['id', /^uid=2000\(shell\)/],
      ['monkey -p com.example.news 1', /Events injected: 1/],
      ['pidof com.example.news', /^\d+\n$/],
      ['am force-stop com.example.news', /^$/],
    ] as const) {
      const r = await shell(command);
      assert.equal(r.code, 0, `${command}: exit ${r.code}: ${r.out}${r.err}`);
      assert.match(r.out, expected, command);
    }
    await cli.run(['kill-server']);
    cli = undefined;
    const down = await v6labFrom(process.execPath, checkout, ['lab', 'down', '--state-dir', stateDir]);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(labLeftovers(labId, stateDir), []);
  });

  it('with a node only the host root may run, lab up stops with one line naming handset and cause, and leaves nothing', async () => {
    // The handsets' uids are not the host's: a node binary of mode 0700 (root's) cannot run in
    // them, wherever it is. A copy: chmod on a hard link would change the system's node.
    const node = join(secret, 'node');
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o700);
    const before = labNamespaces();
    const up = await v6labFrom(node, checkout, ['lab', 'up', '--handsets', '1', '--state-dir', stateDir]);
    assert.equal(up.code, 3, `lab up: exit ${up.code}: ${up.stderr}`);
    const lines = up.stderr.trim().split('\n');
    assert.equal(lines.length, 1, up.stderr);
    assert.match(lines[0]!, /emulator-5554: its container ended while booting \(exit 126\): .*Permission denied/i);
    assert.doesNotMatch(up.stderr, /Node\.js v\d/);
    assert.deepEqual(
      labNamespaces().filter((n) => !before.includes(n)),
      [],
      'namespaces left',
    );
    assert.deepEqual(labLeftovers(null, stateDir), []);
  });
});
