// Launching emulated apps the Android way (am start, monkey, am force-stop) and their pages,
// without root or namespaces: a handset directory with no supervisor, where `am` starts the app's
// process itself, and loopback servers standing in for the world.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  askApp,
  executeActivityCommand,
  parseAmStart,
  parseComponent,
  parseMonkey,
  portableExecArgv,
  renderIntent,
  runActivityCommand,
  UsageError,
  type Launcher,
} from '../../lib/lab/android/activity.js';
import { AppSession, control, parseResolvConf, performRun, RUN_OUTPUT_KEPT, type AppEnvironment, type AppLogEntry } from '../../lib/lab/android/app.js';
import { APP_PROGRAM_PATH } from '../../lib/lab/app-programs.js';
import { appLogEntries } from '../support/app-log.js';
import { BROWSER_PACKAGE, BROWSER_UID, browserApp, webTarget } from '../../lib/lab/android/browser.js';
import { initialHandsetState, readHandsetState, writeHandsetState } from '../../lib/lab/android/state.js';
import { loadApp, loadProfile, type EmulatedApp } from '../../lib/lab/world.js';

const root = resolve(import.meta.dirname, '../..');
const profile = loadProfile(join(root, 'devices/lab/handsets/compliant.json'));
const noLaunch: Launcher = () => {
  throw new Error('must not launch');
};

function bytesServer(): Promise<http.Server> {
  return new Promise((resolveServer) => {
    const server = http.createServer((req, res) => {
      const n = Number(/^\/bytes\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
      if (n < 0) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': String(n) }).end(Buffer.alloc(n, 0x78));
    });
    server.listen(0, '127.0.0.1', () => resolveServer(server));
  });
}

function udpServer(): Promise<dgram.Socket> {
  return new Promise((resolveSocket) => {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, rinfo) => {
      let left = Number(msg.toString('ascii'));
      while (left > 0) {
        const size = Math.min(left, 1200);
        left -= size;
        socket.send(Buffer.alloc(size), rinfo.port, rinfo.address);
      }
    });
    socket.bind(0, '127.0.0.1', () => resolveSocket(socket));
  });
}

function writeApp(dir: string, port: number, udpPort: number): string {
  const file = join(dir, 'lo.json');
  writeFileSync(
    file,
    JSON.stringify({
      package: 'com.example.lo',
      label: 'Loopback',
      start: 'home',
      pages: {
        home: { requests: [{ host: 'lo.test', transport: 'tcp', port, mode: 'ipv4-literal', bytes: 3000, repeat: 2 }], links: ['detail'] },
        detail: { requests: [{ host: 'lo.test', transport: 'udp', port: udpPort, mode: 'ipv4-literal', bytes: 150000 }] },
      },
    }),
  );
  return file;
}

function handsetWithApp(appFile: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-apps-'));
  chmodSync(dir, 0o755);
  const state = initialHandsetState('emulator-5554', profile, [{ package: 'com.example.lo', label: 'Loopback', uid: 10150 }]);
  state.appFiles = { 'com.example.lo': appFile };
  state.worldLiterals = { 'lo.test': '127.0.0.1' };
  state.caCertFile = null;
  writeHandsetState(dir, state);
  return dir;
}

async function waitFor<T>(what: string, probe: () => T | null | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe("emulated apps: am and monkey arguments, Android's messages", () => {
  it('reads -n components as ComponentName does, and prints intents as Intent.toString', () => {
    assert.deepEqual(parseComponent('com.example.news/.MainActivity'), { package: 'com.example.news', className: 'com.example.news.MainActivity' });
    assert.deepEqual(parseComponent('com.a/org.b.Main'), { package: 'com.a', className: 'org.b.Main' });
    assert.equal(parseComponent('nothing'), null);
    const start = parseAmStart(['-W', '-n', 'com.example.news/.MainActivity']);
    assert.equal(start.wait, true);
    assert.equal(renderIntent(start), 'Intent { cmp=com.example.news/.MainActivity }');
    const launcher = parseAmStart(['-a', 'android.intent.action.MAIN', '-c', 'android.intent.category.LAUNCHER', 'com.example.news']);
    assert.equal(renderIntent(launcher), 'Intent { act=android.intent.action.MAIN cat=[android.intent.category.LAUNCHER] pkg=com.example.news }');
    assert.deepEqual(parseAmStart(['--user', '0', '-S', '--es', 'k', 'v', '-n', 'a.b/.C']).stopFirst, true);
    assert.throws(() => parseAmStart(['-n']), UsageError);
    assert.throws(() => parseAmStart(['--bogus']), /Unknown option: --bogus/);
  });

  it('am start of a missing activity: "Error type 3" and exit 1, on stderr (on stdout with -W)', async () => {
    const dir = handsetWithApp('/nonexistent.json');
    const missing = await executeActivityCommand(dir, 'am', ['start', '-n', 'com.nope/.MainActivity'], noLaunch);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, 'Starting: Intent { cmp=com.nope/.MainActivity }\n');
    assert.equal(missing.stderr, 'Error type 3\nError: Activity class {com.nope/com.nope.MainActivity} does not exist.\n');
    const waited = await executeActivityCommand(dir, 'am', ['start', '-W', '-n', 'com.example.lo/.Settings'], noLaunch);
    assert.equal(waited.code, 1);
    assert.match(waited.stdout, /^Error: Activity class \{com\.example\.lo\/com\.example\.lo\.Settings\} does not exist\.$/m);
    const unresolved = await executeActivityCommand(
      dir,
      'am',
      ['start', '-a', 'android.intent.action.MAIN', '-c', 'android.intent.category.LAUNCHER', 'com.nope'],
      noLaunch,
    );
    assert.equal(
      unresolved.stderr,
      'Error: Activity not started, unable to resolve Intent { act=android.intent.action.MAIN cat=[android.intent.category.LAUNCHER] flg=0x10000000 pkg=com.nope }\n',
    );
    assert.equal((await executeActivityCommand(dir, 'am', ['fly'], noLaunch)).stderr, 'Unknown command: fly\n');
    const stop = await executeActivityCommand(dir, 'am', ['force-stop', 'com.nope'], noLaunch);
    assert.deepEqual(stop, { stdout: '', stderr: '', code: 0 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads VIEW intents with -d (or a bare URI) and prints their data as Uri.toSafeString', () => {
    const view = parseAmStart(['-W', '-a', 'android.intent.action.VIEW', '-d', 'https://www.example.test:8443/a/b?q=1', '-p', BROWSER_PACKAGE]);
    assert.equal(view.data, 'https://www.example.test:8443/a/b?q=1');
    assert.equal(renderIntent(view), 'Intent { act=android.intent.action.VIEW dat=https://www.example.test:8443/... pkg=com.android.browser }');
    const bare = parseAmStart(['http://news.test/']);
    assert.deepEqual([bare.action, bare.data], ['android.intent.action.VIEW', 'http://news.test/']);
    const dat = (uri: string) => renderIntent(parseAmStart(['-d', uri]));
    assert.equal(dat('tel:+49-123'), 'Intent { dat=tel:xxx-xxx }');
    assert.equal(dat('HTTPS://user@Www.Example.test/a#b'), 'Intent { dat=HTTPS://Www.Example.test/... }');
    assert.equal(dat('content://media/1?x=2#f'), 'Intent { dat=content://media/1?x=2 }');
    assert.throws(() => parseAmStart(['-a', 'android.intent.action.VIEW', '-d']), /Argument expected after "-d"/);
  });

  it('knows which URLs the browser loads, and on which port', () => {
    assert.deepEqual(webTarget('https://api.news.test/x'), { host: 'api.news.test', scheme: 'https', port: 443 });
    assert.deepEqual(webTarget('http://API.News.test'), { host: 'api.news.test', scheme: 'http', port: 80 });
    assert.deepEqual(webTarget('http://[2001:db8::1]:8080/'), { host: '2001:db8::1', scheme: 'http', port: 8080 });
    for (const url of ['ftp://x.test/', 'file:///sdcard/a.html', 'tel:123', 'https://', 'not a url', '']) assert.equal(webTarget(url), null, url);
    const app = browserApp('https://api.news.test/index.html');
    assert.deepEqual([app.package, app.label, app.start], [BROWSER_PACKAGE, 'Browser', 'home']);
    assert.deepEqual(app.pages.home!.requests, [{ host: 'api.news.test', transport: 'tcp', port: 443, mode: 'system', bytes: 20000, repeat: 1 }]);
    assert.deepEqual(browserApp(null).pages.home!.requests, []);
    assert.throws(() => browserApp('ftp://x.test/'), /not an http or https URL/);
  });

  it("a VIEW intent the browser cannot take fails as Android's am does", async () => {
    const dir = handsetWithApp('/nonexistent.json');
    const view = (...args: string[]) => executeActivityCommand(dir, 'am', ['start', '-a', 'android.intent.action.VIEW', ...args], noLaunch);
    const noData = await view();
    assert.equal(noData.code, 1);
    assert.equal(noData.stdout, 'Starting: Intent { act=android.intent.action.VIEW }\n');
    assert.equal(noData.stderr, 'Error: Activity not started, unable to resolve Intent { act=android.intent.action.VIEW flg=0x10000000 }\n');
    assert.equal(
      (await view('-d', 'ftp://files.test/a')).stderr,
      'Error: Activity not started, unable to resolve Intent { act=android.intent.action.VIEW dat=ftp://files.test/... flg=0x10000000 }\n',
    );
    assert.equal(
      (await view('-d', 'content://media/1')).stderr,
      'Error: Activity not started, unable to resolve Intent { act=android.intent.action.VIEW dat=content://media/1 flg=0x10000000 }\n',
    );
    const waited = await view('-W', '-d', 'https://news.test/', '-p', 'com.example.lo');
    assert.equal(waited.code, 1);
    assert.equal(
      waited.stdout,
      'Starting: Intent { act=android.intent.action.VIEW dat=https://news.test/... pkg=com.example.lo }\nError: Activity not started, unable to resolve Intent { act=android.intent.action.VIEW dat=https://news.test/... flg=0x10000000 pkg=com.example.lo }\n',
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('monkey: echoes its arguments, aborts with 251 when -p names nothing launchable', async () => {
    assert.deepEqual(parseMonkey(['-p', 'com.a', '-c', 'android.intent.category.LAUNCHER', '--throttle', '100', '-v', '1']), {
      packages: ['com.a'],
      categories: ['android.intent.category.LAUNCHER'],
      count: 1,
    });
    const dir = handsetWithApp('/nonexistent.json');
    const aborted = await executeActivityCommand(dir, 'monkey', ['-p', 'com.nope', '-c', 'android.intent.category.LAUNCHER', '1'], noLaunch);
    assert.equal(aborted.code, 251);
    assert.equal(aborted.stdout, '  bash arg: -p\n  bash arg: com.nope\n  bash arg: -c\n  bash arg: android.intent.category.LAUNCHER\n  bash arg: 1\n');
    assert.equal(aborted.stderr, '** No activities found to run, monkey aborted.\n');
    assert.equal((await executeActivityCommand(dir, 'monkey', ['-p', 'com.example.lo'], noLaunch)).stderr, '** Error: Count not specified\n');
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes --import loaders absolute, so the app process finds tsx from any directory', () => {
    const argv = portableExecArgv(['--import', 'tsx', '--import=tsx', '--no-warnings']);
    assert.match(argv[1]!, /^file:\/\/.*\/node_modules\/tsx\//);
    assert.match(argv[2]!, /^--import=file:\/\/.*\/node_modules\/tsx\//);
    assert.equal(argv[3], '--no-warnings');
  });

  it('reads nameservers from resolv.conf', () => {
    assert.deepEqual(parseResolvConf('# lab\nnameserver 2001:db8::53\nnameserver 192.0.2.53\nsearch x\nnameserver bogus\n'), ['2001:db8::53', '192.0.2.53']);
  });
});

describe('emulated apps: pages, links and requests', function () {
  this.timeout(20_000);
  let server: http.Server;
  let udp: dgram.Socket;
  let app: EmulatedApp;
  let work: string;

  before(async () => {
    server = await bytesServer();
    udp = await udpServer();
    work = mkdtempSync(join(tmpdir(), 'v6lab-app-'));
    app = loadApp(writeApp(work, (server.address() as AddressInfo).port, (udp.address() as AddressInfo).port));
  });
  after(() => {
    server.close();
    udp.close();
    rmSync(work, { recursive: true, force: true });
  });

  const environment = (log: AppLogEntry[]): AppEnvironment => ({
    resolver: { resolve4: async () => [], resolve6: async () => [], lookup: async () => [] },
    literals: { 'lo.test': '127.0.0.1' },
    ca: null,
    log: (e) => log.push(e),
  });

  it('loads the start page (repeats one after another), follows links, goes back; logs each attempt', async () => {
    const log: AppLogEntry[] = [];
    const session = new AppSession(app, environment(log));
    const home = await session.launch();
    assert.deepEqual(
      home.map((o) => ('run' in o ? ['run'] : [o.ok, o.bytes, o.family, o.address, o.repetition])),
      [
        [true, 3000, 4, '127.0.0.1', 1],
        [true, 3000, 4, '127.0.0.1', 2],
      ],
    );
    const attempts = log.filter((e) => e.event === 'attempt');
    assert.equal(attempts.length, 2);
    assert.deepEqual(
      Object.keys(attempts[0]!)
        .filter((k) => ['family', 'address', 'ms', 'outcome'].includes(k))
        .sort(),
      ['address', 'family', 'ms', 'outcome'],
    );
    assert.deepEqual(session.view(), { package: 'com.example.lo', page: 'home', links: ['detail'], loading: false });
    const detail = (await control(session, '{"open":"detail"}', () => undefined)) as {
      page: string;
      requests: { ok: boolean; bytes: number; transport: string }[];
    };
    assert.equal(detail.page, 'detail');
    assert.deepEqual(
      detail.requests.map((r) => [r.transport, r.ok, r.bytes]),
      [['udp', true, 150000]],
    );
    assert.deepEqual(await control(session, '{"open":"home"}', () => undefined), { error: 'no link "home" on page "detail" (links: none)' });
    assert.equal(((await control(session, '{"back":true}', () => undefined)) as { page: string }).page, 'home');
    assert.deepEqual(await control(session, 'nonsense', () => undefined), { error: 'not JSON: send one JSON object per line' });
  });
});

/** A process's state letter from /proc (Z: a zombie), or 'gone'. */
function processState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
  } catch {
    return 'gone';
  }
}

describe("a page's real program (issue 20): argv without a shell, a minimal environment, an empty home, a time limit", () => {
  const runs = (dataDir: string, log: AppLogEntry[]): AppEnvironment => ({
    resolver: { resolve4: async () => [], resolve6: async () => [], lookup: async () => [] },
    literals: {},
    ca: null,
    log: (e) => log.push(e),
    dataDir,
  });
  const step = (run: string[], timeoutMs = 20_000) => ({ run, timeoutMs, repeat: 1 });

  it('runs argv as given (no shell), with PATH, HOME, TMPDIR and LANG only, in a fresh home removed after', async () => {
    const data = mkdtempSync(join(tmpdir(), 'v6lab-app-data-'));
    const log: AppLogEntry[] = [];
    const literal = await performRun(step(['echo', '$HOME;', '*']), 'home', 1, runs(data, log));
    assert.equal(literal.ok, true);
    assert.equal(log[0]!.stdout, '$HOME; *\n', 'no shell expanded the words');
    const env = await performRun(step(['env']), 'home', 1, runs(data, log));
    assert.equal(env.exitCode, 0);
    const lines = String(log[1]!.stdout).trim().split('\n').sort();
    assert.deepEqual(
      lines.map((l) => l.split('=')[0]),
      ['HOME', 'LANG', 'PATH', 'TMPDIR'],
    );
    const home = lines.find((l) => l.startsWith('HOME='))!.slice(5);
    assert.ok(home.startsWith(`${data}/home-`), home);
    assert.ok(lines.includes(`PATH=${APP_PROGRAM_PATH}`));
    await performRun(step(['ls', '-A']), 'home', 1, runs(data, log));
    assert.equal(log[2]!.stdout, '', 'the home is empty');
    assert.deepEqual(readdirSync(data), [], 'each home is removed after its run');
    rmSync(data, { recursive: true });
  });

  it('past its time limit the whole process group is killed: a child it left is gone too', async () => {
    const log: AppLogEntry[] = [];
    const outcome = await performRun(step(['sh', '-c', 'sleep 30 & echo $!; wait'], 500), 'home', 1, runs(tmpdir(), log));
    assert.equal(outcome.timedOut, true);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.signal, 'SIGKILL');
    assert.ok(outcome.ms < 5_000, `${outcome.ms} ms`);
    const child = Number(String(log[0]!.stdout).trim());
    assert.ok(child > 1, String(log[0]!.stdout));
    await new Promise((r) => setTimeout(r, 100));
    // Gone, or dead and not yet reaped by whoever adopted it (a zombie).
    assert.ok(['gone', 'Z'].includes(processState(child)), `the background sleep was killed with its group (state ${processState(child)})`);
  });

  it('a process the program left in its group when it exited is killed with the run', async () => {
    const log: AppLogEntry[] = [];
    const outcome = await performRun(step(['sh', '-c', 'sleep 30 >/dev/null 2>&1 & echo $!']), 'home', 1, runs(tmpdir(), log));
    assert.equal(outcome.ok, true);
    const child = Number(String(log[0]!.stdout).trim());
    assert.ok(child > 1, String(log[0]!.stdout));
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(['gone', 'Z'].includes(processState(child)), `the sleep it left behind is ${processState(child)}`);
  });

  it('keeps the first bytes of its output and counts them all; an exit status, a missing program: not ok, and said', async () => {
    const log: AppLogEntry[] = [];
    const env = runs(tmpdir(), log);
    await performRun(step(['head', '-c', '100000', '/dev/zero']), 'home', 1, env);
    assert.equal(log[0]!.stdoutBytes, 100_000);
    assert.equal(String(log[0]!.stdout).length, RUN_OUTPUT_KEPT);
    const failed = await performRun(step(['sh', '-c', 'echo no >&2; exit 3']), 'home', 1, env);
    assert.deepEqual([failed.ok, failed.exitCode, log[1]!.stderr], [false, 3, 'no\n']);
    const missing = await performRun(step(['no-such-program-v6lab']), 'home', 1, env);
    assert.equal(missing.ok, false);
    assert.match(missing.error ?? '', /ENOENT/);
    assert.equal(log[2]!.event, 'run');
  });
});

describe('the built-in browser: VIEW intents load the URL as an app of its own uid', function () {
  this.timeout(30_000);
  let server: http.Server;
  let dir: string;
  let port: number;
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;

  before(async () => {
    server = await bytesServer();
    port = (server.address() as AddressInfo).port;
    dir = handsetWithApp('/nonexistent.json');
  });
  after(async () => {
    await runActivityCommand(dir, 'am', ['force-stop', BROWSER_PACKAGE]).catch(() => undefined);
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("am start -W -a VIEW -d URL starts com.android.browser under its uid, which makes one system-mode request to the URL's host and port", async () => {
    const started = await runActivityCommand(dir, 'am', ['start', '-W', '-a', 'android.intent.action.VIEW', '-d', url('/index.html')]);
    assert.equal(started.code, 0, started.stderr);
    assert.match(
      started.stdout,
      /^Starting: Intent \{ act=android\.intent\.action\.VIEW dat=http:\/\/127\.0\.0\.1:\d+\/\.\.\. \}\nStatus: ok\nLaunchState: COLD\nActivity: com\.android\.browser\/\.MainActivity\n/,
    );
    const running = readHandsetState(dir).running[BROWSER_PACKAGE];
    assert.ok(running && alive(running.pid));
    assert.equal(running.uid, BROWSER_UID);
    const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${running.pid}/status`, 'utf8'))![1]);
    assert.equal(uid, process.getuid?.() === 0 ? BROWSER_UID : process.getuid?.());
    const loaded = await waitFor('the page', () => appLogEntries(dir, BROWSER_PACKAGE).find((e) => e.event === 'loaded'));
    assert.equal(loaded.ok, true);
    const requests = appLogEntries(dir, BROWSER_PACKAGE).filter((e) => e.event === 'request');
    assert.deepEqual(
      requests.map((r) => [r.host, r.port, r.transport, r.mode, r.ok, r.bytes]),
      [['127.0.0.1', port, 'tcp', 'system', true, 20000]],
    );
    assert.equal(appLogEntries(dir, BROWSER_PACKAGE).find((e) => e.event === 'start')?.url, url('/index.html'));
  });

  it('a second URL goes to the running browser (no second process); -p com.android.browser too; force-stop ends it', async () => {
    const pid = readHandsetState(dir).running[BROWSER_PACKAGE]!.pid;
    const again = await runActivityCommand(dir, 'am', ['start', '-a', 'android.intent.action.VIEW', '-d', url('/second'), '-p', BROWSER_PACKAGE]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, 'Warning: Activity not started, intent has been delivered to currently running top-most instance.\n');
    const waited = await runActivityCommand(dir, 'am', ['start', '-W', '-a', 'android.intent.action.VIEW', '-d', url('/third')]);
    assert.match(
      waited.stdout,
      /\nWarning: Activity not started, intent has been delivered to currently running top-most instance\.\nStatus: ok\nLaunchState: UNKNOWN \(0\)\nActivity: com\.android\.browser\/\.MainActivity\nWaitTime: \d+\nComplete\n$/,
    );
    assert.equal(readHandsetState(dir).running[BROWSER_PACKAGE]!.pid, pid);
    await waitFor('three page loads', () => (appLogEntries(dir, BROWSER_PACKAGE).filter((e) => e.event === 'loaded').length === 3 ? true : null));
    assert.deepEqual(
      appLogEntries(dir, BROWSER_PACKAGE)
        .filter((e) => e.event === 'view')
        .map((e) => e.url),
      [url('/second'), url('/third')],
    );
    assert.deepEqual(await runActivityCommand(dir, 'am', ['force-stop', BROWSER_PACKAGE]), { stdout: '', stderr: '', code: 0 });
    assert.equal(alive(pid), false);
    assert.equal(readHandsetState(dir).running[BROWSER_PACKAGE], undefined);
  });
});

describe('emulated apps: launched by am start and monkey, stopped by am force-stop', function () {
  this.timeout(30_000);
  let server: http.Server;
  let udp: dgram.Socket;
  let dir: string;
  let work: string;
  const pkg = 'com.example.lo';

  before(async () => {
    server = await bytesServer();
    udp = await udpServer();
    work = mkdtempSync(join(tmpdir(), 'v6lab-app-'));
    chmodSync(work, 0o755);
    dir = handsetWithApp(writeApp(work, (server.address() as AddressInfo).port, (udp.address() as AddressInfo).port));
  });
  after(async () => {
    await runActivityCommand(dir, 'am', ['force-stop', pkg]).catch(() => undefined);
    server.close();
    udp.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it("am start -W: one process under the app's uid (when started by root), which loads its start page", async () => {
    const started = await runActivityCommand(dir, 'am', ['start', '-W', '-n', `${pkg}/.MainActivity`]);
    assert.equal(started.code, 0, started.stderr);
    assert.match(
      started.stdout,
      /^Starting: Intent \{ cmp=com\.example\.lo\/\.MainActivity \}\nStatus: ok\nLaunchState: COLD\nActivity: com\.example\.lo\/\.MainActivity\nTotalTime: \d+\nWaitTime: \d+\nComplete\n$/,
    );
    const running = readHandsetState(dir).running[pkg];
    assert.ok(running && alive(running.pid));
    const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${running.pid}/status`, 'utf8'))![1]);
    assert.equal(uid, process.getuid?.() === 0 ? 10150 : process.getuid?.());
    assert.equal(readFileSync(`/proc/${running.pid}/cmdline`, 'utf8').split('\0')[0], pkg, 'ps shows the package, as on Android');
    const loaded = await waitFor('the start page', () => appLogEntries(dir, pkg).find((e) => e.event === 'loaded'));
    assert.equal(loaded.ok, true);
    assert.deepEqual(await askApp(dir, pkg, { page: null }), { package: pkg, page: 'home', links: ['detail'], loading: false });
  });

  it('a second am start brings it to the front without a second process; monkey too', async () => {
    const pid = readHandsetState(dir).running[pkg]!.pid;
    const again = await runActivityCommand(dir, 'am', ['start', '-n', `${pkg}/.MainActivity`]);
    assert.equal(again.code, 0);
    assert.equal(again.stderr, 'Warning: Activity not started, its current task has been brought to the front\n');
    const viaMonkey = await runActivityCommand(dir, 'monkey', ['-p', pkg, '-c', 'android.intent.category.LAUNCHER', '1']);
    assert.equal(viaMonkey.code, 0);
    assert.match(viaMonkey.stdout, /^Events injected: 1$/m);
    assert.equal(readHandsetState(dir).running[pkg]!.pid, pid);
    assert.equal(appLogEntries(dir, pkg).filter((e) => e.event === 'start').length, 1);
    assert.equal(appLogEntries(dir, pkg).filter((e) => e.event === 'foreground').length, 2);
  });

  it("the control socket taps a link: the page's requests run, the reply comes once loaded", async () => {
    const reply = (await askApp(dir, pkg, { open: 'detail' }, 10_000)) as { page: string; requests: { ok: boolean; transport: string }[] };
    assert.equal(reply.page, 'detail');
    assert.deepEqual(
      reply.requests.map((r) => [r.transport, r.ok]),
      [['udp', true]],
    );
  });

  it('am force-stop kills it and forgets it; monkey -p starts it again', async () => {
    const pid = readHandsetState(dir).running[pkg]!.pid;
    assert.deepEqual(await runActivityCommand(dir, 'am', ['force-stop', pkg]), { stdout: '', stderr: '', code: 0 });
    assert.equal(alive(pid), false);
    assert.equal(readHandsetState(dir).running[pkg], undefined);
    const viaMonkey = await runActivityCommand(dir, 'monkey', ['-p', pkg, '1']);
    assert.equal(viaMonkey.code, 0, viaMonkey.stderr);
    const fresh = readHandsetState(dir).running[pkg]!;
    assert.notEqual(fresh.pid, pid);
    assert.ok(alive(fresh.pid));
  });
});

describe('the activity manager believes a forged handset.json only as far as the kernel agrees (issue 14)', () => {
  it('force-stop of a package that is not installed, or named with a path, touches nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-am-forged-'));
    writeHandsetState(dir, initialHandsetState('emulator-5554', profile, [{ package: 'com.example.lo', label: 'Loopback', uid: 10150 }]));
    const outside = join(dir, '..', `${process.pid}-victim.sock`);
    writeFileSync(outside, 'keep');
    try {
      const r = await executeActivityCommand(
        dir,
        'am',
        [
          'force-stop',
          `../../${outside
            .split('/')
            .pop()!
            .replace(/\.sock$/, '')}`,
        ],
        noLaunch,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(outside, 'utf8'), 'keep');
    } finally {
      rmSync(outside, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never kills a process the record names but the kernel says is another uid, or not its own group leader', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-am-forged-'));
    const state = initialHandsetState('emulator-5554', profile, [{ package: 'com.example.lo', label: 'Loopback', uid: 10150 }]);
    // A process of ours (this test's uid, in this test's process group): the victim a handset
    // that writes its own handset.json would point root at.
    const { spawn } = await import('node:child_process');
    // Detached: it leads its own process group, as an app does, so only the uid tells them apart.
    const victim = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
    try {
      const stat = readFileSync(`/proc/${victim.pid}/stat`, 'utf8');
      const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
      for (const forged of [
        { pid: victim.pid!, startTime, uid: 10150, startedAt: new Date().toISOString() },
        { pid: victim.pid!, startTime, uid: process.getuid?.() ?? 0, startedAt: new Date().toISOString() },
        // pid 1 with its real start time: a kill of its group would be kill(-1), every process.
        { pid: 1, startTime: readFileSync('/proc/1/stat', 'utf8').split(') ')[1]!.split(' ')[19]!, uid: 10150, startedAt: new Date().toISOString() },
      ]) {
        writeHandsetState(dir, { ...state, running: { 'com.example.lo': forged } });
        const r = await executeActivityCommand(dir, 'am', ['force-stop', 'com.example.lo'], noLaunch);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(victim.exitCode, null, `the forged record ${JSON.stringify(forged)} killed nothing`);
        assert.equal(victim.signalCode, null);
      }
    } finally {
      victim.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
