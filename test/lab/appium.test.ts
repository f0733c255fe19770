// The project's Appium driver for the virtual handsets (issue 4, "Appium"): a lab handset driven
// through a real Appium 3 server by WebdriverIO, the driver reaching it over a private adb server
// only. The same server runs the v6lab plugin (issue 17), driven by plain HTTP as any W3C client
// would. Root and namespaces needed: skips with the reason elsewhere, fails in CI (CI=true).
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { remote } from 'webdriverio';
import type { AppJudgement, NetworkFacts } from '../../lib/api/types.js';
import { AdbCli, findAdb, freePort } from '../support/adb-cli.js';
import { appLogEntries, until } from '../support/app-log.js';
import { requireLab } from '../support/lab-env.js';
import { v6lab } from '../support/cli.js';

const root = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const APP = 'com.example.news';
const BROWSER = 'com.android.browser';
const SERIAL = 'emulator-5554';

const v6labIn = (stateDir: string, ...args: string[]) => v6lab(args, { V6LAB_STATE_DIR: stateDir });

/** Starts Appium on 127.0.0.1:port with the project's APPIUM_HOME and the v6lab plugin; resolves once /status answers. */
async function startAppium(port: number, log: string[], evidenceDir: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      join(root, 'node_modules/appium/index.js'),
      ...['--address', '127.0.0.1', '--port', String(port), '--allow-insecure', '*:adb_shell', '--log-no-colors'],
      ...['--use-plugins', 'v6lab', '--plugin-v6lab-evidence-dir', evidenceDir],
    ],
    {
      env: { ...process.env, APPIUM_HOME: join(root, '.appium') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`appium exited with ${child.exitCode}: ${log.join('').slice(-2000)}`);
    try {
      const status = await fetch(`http://127.0.0.1:${port}/status`);
      if (status.ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`appium did not answer /status on port ${port} within 30 s: ${log.join('').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Stops a child by its pid: SIGTERM, then SIGKILL after 10 s. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}

describe('appium: the v6lab-virtual driver over adb (issue 4)', function () {
  this.timeout(120_000);
  const work = mkdtempSync(join(tmpdir(), 'v6lab-appium-'));
  // The handsets' shell user (uid 2000) must reach the state directory, as it would /run/v6lab.
  chmodSync(work, 0o755);
  const stateDir = join(work, 'state');
  const evidenceDir = join(work, 'evidence');
  const appiumLog: string[] = [];
  let cli: AdbCli | undefined;
  let appium: ChildProcess | undefined;
  let browser: WebdriverIO.Browser | undefined;
  let appiumUrl = '';

  before(async function () {
    await requireLab(
      this,
      'the Appium lab tests',
      ['ip', 'tayga', 'radvd', 'unbound', 'tcpdump', 'openssl', 'curl', 'nft', 'setpriv', 'dnsmasq', 'busybox', 'adb'],
      'iproute2 tayga radvd unbound tcpdump openssl curl nftables util-linux dnsmasq-base busybox adb',
    );
    // The driver's code is dist/appium (npm test builds first); the set-up links it into .appium/.
    for (const setup of ['scripts/appium-setup.js', 'scripts/appium-plugin-setup.js']) {
      await run(process.execPath, [join(root, setup)], { cwd: root, timeout: 120_000 }).catch((e: { stderr: string }) => assert.fail(`${setup}: ${e.stderr}`));
    }
    const up = await v6labIn(stateDir, 'lab', 'up', '--handsets', '1', '--no-background');
    assert.equal(up.code, 0, `lab up: ${JSON.stringify(up)}`);
    mkdirSync(join(work, 'adb-home'));
    cli = new AdbCli(findAdb()!, await freePort(), join(work, 'adb-home'));
    assert.equal((await cli.run(['start-server'])).code, 0);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const devices = (await cli.run(['devices'])).stdout.toString();
      if (/emulator-5554\s+device/.test(devices)) break;
      if (Date.now() > deadline) throw new Error(`the adb server did not find the handset: ${devices}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const port = await freePort();
    appium = await startAppium(port, appiumLog, evidenceDir);
    appiumUrl = `http://127.0.0.1:${port}`;
    browser = await remote({
      hostname: '127.0.0.1',
      port,
      logLevel: 'warn',
      connectionRetryCount: 0,
      capabilities: {
        platformName: 'Android',
        'appium:automationName': 'V6labVirtual',
        'appium:udid': 'emulator-5554',
        'appium:adbPort': cli.serverPort,
      },
    });
  });

  after(async function () {
    this.timeout(60_000);
    await browser?.deleteSession().catch(() => undefined);
    if (appium) await stop(appium);
    await cli?.run(['kill-server']).catch(() => undefined);
    if (process.getuid?.() === 0) await v6labIn(stateDir, 'lab', 'down');
    rmSync(work, { recursive: true, force: true });
  });

  it('knows what is installed and starts, inspects and stops an app', async () => {
    const b = browser!;
    assert.equal(await b.isAppInstalled(APP), true);
    assert.equal(await b.isAppInstalled('com.example.absent'), false);
    await b.activateApp(APP);
    assert.equal(await b.queryAppState(APP), 4);
    // As UiAutomator2 answers: true when it stopped a running app, false when none ran.
    assert.equal(await b.terminateApp(APP), true);
    assert.equal(await b.queryAppState(APP), 1);
    assert.equal(await b.terminateApp(APP), false);
  });

  it('finds a link by accessibility id and taps it; back returns', async () => {
    const b = browser!;
    await b.activateApp(APP);
    const link = b.$('~article');
    assert.equal(await link.isExisting(), true);
    await link.click();
    const source = await b.getPageSource();
    assert.match(source, /^<\?xml/);
    assert.match(source, /<\/hierarchy>$/, 'no trailing uiautomator message');
    assert.match(source, /text="article"/);
    assert.equal(await b.$('~no-such-link').isExisting(), false);
    await b.back();
    assert.match(await b.getPageSource(), /content-desc="article"/);
    await b.terminateApp(APP);
  });

  it('walks a flow of every step kind a catalogue may give: wait, swipe, tap, typing, back', async () => {
    const b = browser!;
    await b.activateApp(APP);
    await b.pause(200);
    await b.execute('mobile: shell', { command: 'input', args: ['swipe', '540', '1800', '540', '600', '300'] });
    // `input text` types printable ASCII only: anything else is refused before a tap.
    await assert.rejects(b.$('~article').setValue('\u4f60\u597d'), /printable ASCII/);
    assert.match(await b.getPageSource(), /content-desc="article"/, 'still on the home page');
    // Typing taps the element first (it takes the focus), as a user does; `input text` then types.
    await b.$('~article').setValue('ipv6 first');
    assert.match(await b.getPageSource(), /text="article"/);
    assert.doesNotMatch(await b.getPageSource(), /content-desc="article"/);
    await b.back();
    assert.match(await b.getPageSource(), /content-desc="article"/);
    await b.terminateApp(APP);
  });

  it("navigates to a URL: the handset's browser opens it under its own uid; a URL that is not http(s) is refused", async () => {
    const b = browser!;
    assert.equal(await b.isAppInstalled(BROWSER), true);
    await b.url('https://api.news.test/index.html');
    assert.equal(await b.queryAppState(BROWSER), 4);
    // The page load comes from the browser's own uid (10099): its kept-alive connection to port 443
    // is that uid's in /proc/net/tcp6, as a flow attribution by socket owner sees it.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const tcp6 = String(await b.execute('mobile: shell', { command: 'cat', args: ['/proc/net/tcp6'] }));
      const rows = tcp6.split('\n').map((line) => line.trim().split(/\s+/));
      if (rows.some((f) => f[2]?.endsWith(':01BB') && f[3] === '01' && f[7] === '10099')) break;
      if (Date.now() > deadline) assert.fail(`no established connection of uid 10099 to port 443: ${tcp6}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await assert.rejects(b.url('ftp://files.news.test/a'), /invalid argument/i);
    await b.terminateApp(BROWSER);
    assert.equal(await b.queryAppState(BROWSER), 1);
  });

  it('runs mobile: shell and reads the device time', async () => {
    const b = browser!;
    assert.equal(await b.execute('mobile: shell', { command: 'getprop', args: ['ro.product.model'] }), 'v6lab Reference\n');
    assert.match(await b.getDeviceTime(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$/);
  });

  it('ends the session: the server no longer knows it', async () => {
    const { sessionId } = browser!;
    await browser!.deleteSession();
    browser = undefined;
    const reply = (await fetch(`${appiumUrl}/session/${sessionId}/source`).then((r) => r.json())) as { value: { error?: string } };
    assert.equal(reply.value.error, 'invalid session id');
  });

  it('the v6lab plugin, driven by plain HTTP (a curl shell client for start, app, stop): the verdict certify gives, its pcap, the network, and nothing left running (issue 17)', async () => {
    /** One W3C command over HTTP: its status and the reply's value. */
    const w3c = async (method: 'POST' | 'DELETE', path: string, body?: unknown) => {
      const init: RequestInit = { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
      const reply = await fetch(`${appiumUrl}${path}`, init);
      return { status: reply.status, value: ((await reply.json()) as { value: unknown }).value };
    };
    const capabilities = { platformName: 'Android', 'appium:automationName': 'V6labVirtual', 'appium:udid': SERIAL, 'appium:adbPort': cli!.serverPort };
    const created = await w3c('POST', '/session', { capabilities: { alwaysMatch: capabilities } });
    assert.equal(created.status, 200, JSON.stringify(created.value));
    const session = `/session/${(created.value as { sessionId: string }).sessionId}`;
    const execute = (script: string, args: unknown[] = []) => w3c('POST', `${session}/execute/sync`, { script, args });
    const homeLoads = () => appLogEntries(join(stateDir, 'handsets/hs0'), APP).filter((e) => e.event === 'loaded' && e.page === 'home').length;
    // The handset's own processes (its /proc is its PID namespace's); its pidof knows apps only, as toybox's on a phone.
    const tcpdumpRunning = async () =>
      (await cli!.run(['-s', SERIAL, 'shell', 'cat /proc/[0-9]*/comm 2>/dev/null'])).stdout.toString().split('\n').includes('tcpdump');

    const typo = await execute('v6lab: startCapture', [{ pakage: APP }]);
    assert.equal(typo.status, 400);
    assert.equal((typo.value as { error: string }).error, 'invalid argument');
    assert.match((typo.value as { message: string }).message, /pakage: unknown field/);

    const network = await execute('v6lab: observeNetwork');
    assert.equal(network.status, 200, JSON.stringify(network.value));
    const facts = network.value as NetworkFacts;
    assert.equal(facts.serial, SERIAL);
    assert.equal(facts.defaultNetwork?.type, 'MOBILE', JSON.stringify(facts));
    assert.ok(facts.defaultNetwork.ipv6Addresses.length > 0, JSON.stringify(facts));
    assert.notEqual(facts.defaultNetwork.clat, null, `an IPv6-only APN has a CLAT: ${JSON.stringify(facts)}`);

    // Start, run the app, stop: a shell client (curl, test/lab/plugin-client/judge-app.sh) in a
    // session of its own, as a Java or Python suite would drive the plugin.
    const loadsBefore = homeLoads();
    const replies = mkdtempSync(join(tmpdir(), 'v6lab-plugin-client-'));
    const script = join(root, 'test/lab/plugin-client/judge-app.sh');
    await promisify(execFile)('sh', [script, appiumUrl, SERIAL, String(cli!.serverPort), APP, replies], { timeout: 90_000 });
    const reply = (name: string) => JSON.parse(readFileSync(join(replies, `${name}.json`), 'utf8')) as { value: unknown };
    assert.equal(homeLoads() > loadsBefore, true, `${APP} did not load its home page while the shell client's window was open`);
    assert.equal((reply('network').value as NetworkFacts).serial, SERIAL);
    const stopped = reply('judgement');
    const judgement = stopped.value as AppJudgement;
    assert.equal(typeof judgement.verdict, 'string', JSON.stringify(stopped));
    // What certify gives this app on either network (test/lab/certify.test.ts): an IPv4-only image host.
    assert.equal(judgement.verdict, 'warn', JSON.stringify(judgement.reasons));
    assert.ok(
      judgement.reasons.some((r) => r.code === 'SERVER_NO_IPV6' && r.hostnames.includes('img.news.test')),
      JSON.stringify(judgement.reasons),
    );
    assert.equal(judgement.app.package, APP);
    assert.ok(judgement.metrics.bytes > 0, JSON.stringify(judgement.metrics));
    assert.ok(judgement.metrics.hostnames.includes('api.news.test'), JSON.stringify(judgement.metrics));
    // The evidence is where the server's --plugin-v6lab-evidence-dir says.
    assert.ok(judgement.evidence.pcap?.startsWith(`${evidenceDir}/`) && existsSync(judgement.evidence.pcap), JSON.stringify(judgement.evidence));

    // A window left open when the session ends is closed with it: no capture left on the device.
    assert.equal((await execute('v6lab: startCapture')).status, 200);
    if (judgement.evidence.captureMethod === 'device') assert.equal(await tcpdumpRunning(), true, 'the open window captures on the device');
    assert.equal((await w3c('DELETE', session)).status, 200);
    await until('the capture on the device to end with the session', async () => ((await tcpdumpRunning()) ? null : true), 10_000);
  });

  it('a WebdriverIO suite with the v6lab service and matchers: the IPv6-first app passes, the IPv4-literal one fails naming the literal, and Allure carries each judgement and pcap (issue 17)', async () => {
    const out = join(work, 'wdio-service');
    const allureDir = join(out, 'allure-results');
    const output: string[] = [];
    const child = spawn(process.execPath, [join(root, 'node_modules/@wdio/cli/bin/wdio.js'), 'run', join(root, 'test/lab/wdio-service/wdio.conf.ts')], {
      cwd: root,
      env: {
        ...process.env,
        V6LAB_WDIO_APPIUM_PORT: new URL(appiumUrl).port,
        V6LAB_WDIO_SERIAL: SERIAL,
        V6LAB_WDIO_ADB_PORT: String(cli!.serverPort),
        V6LAB_WDIO_OUT: out,
        V6LAB_WDIO_HANDSET_DIR: join(stateDir, 'handsets/hs0'),
        FORCE_COLOR: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const code = await new Promise<number | null>((resolveExit, reject) => {
      const timer = setTimeout(() => child.kill('SIGTERM'), 90_000);
      child.once('error', reject);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolveExit(exitCode);
      });
    });
    const log = output.join('').slice(-6000);
    // One test fails on purpose (the IPv4 literal), so wdio exits 1; anything else is a broken run.
    assert.equal(code, 1, log);

    interface AllureAttachment {
      name: string;
      source: string;
      type: string;
    }
    interface AllureStep {
      attachments?: AllureAttachment[];
      steps?: AllureStep[];
    }
    interface AllureResult extends AllureStep {
      name: string;
      status: string;
      statusDetails?: { message?: string };
    }
    const attachmentsOf = (step: AllureStep): AllureAttachment[] => [...(step.attachments ?? []), ...(step.steps ?? []).flatMap(attachmentsOf)];
    const results = readdirSync(allureDir)
      .filter((f) => f.endsWith('-result.json'))
      .map((f) => JSON.parse(readFileSync(join(allureDir, f), 'utf8')) as AllureResult);
    assert.equal(results.length, 2, `${JSON.stringify(results.map((r) => [r.name, r.status]))}\n${log}`);
    /** The test's result and the judgement of `pkg` attached to it, with its pcap attached too. */
    const judged = (title: RegExp, pkg: string) => {
      const result = results.find((r) => title.test(r.name));
      assert.ok(result, `no Allure result named ${title}: ${results.map((r) => r.name).join(', ')}`);
      const attachments = attachmentsOf(result);
      const json = attachments.find((a) => a.name === `v6lab judgement ${pkg}` && a.type === 'application/json');
      const pcap = attachments.find((a) => a.name === `v6lab capture ${pkg}.pcap` && a.type === 'application/vnd.tcpdump.pcap');
      assert.ok(json && pcap, `${result.name}: attachments ${JSON.stringify(attachments)}`);
      // A capture file as written: pcap (microsecond or nanosecond magic) or pcapng.
      assert.ok([0xa1b2c3d4, 0xa1b23c4d, 0x0a0d0d0a].includes(readFileSync(join(allureDir, pcap.source)).readUInt32LE(0)), `${pcap.source} is not a pcap`);
      const judgement = JSON.parse(readFileSync(join(allureDir, json.source), 'utf8')) as AppJudgement;
      assert.equal(judgement.app.package, pkg);
      assert.ok(judgement.evidence.pcap?.startsWith(join(out, 'evidence')) && existsSync(judgement.evidence.pcap), JSON.stringify(judgement.evidence));
      return { result, judgement };
    };

    // What certify gives each app (test/lab/certify.test.ts PREDICTED): chat pass, game fail with IPV4_LITERAL.
    const chat = judged(/IPv6-first app passes/, 'com.example.chat');
    assert.equal(chat.result.status, 'passed', `${chat.result.statusDetails?.message}\n${log}`);
    assert.equal(chat.judgement.verdict, 'pass', JSON.stringify(chat.judgement.reasons));
    const game = judged(/IPv4 literal is not IPv6 first/, 'com.example.game');
    assert.equal(game.judgement.verdict, 'fail', JSON.stringify(game.judgement.reasons));
    const literals = game.judgement.metrics.ipv4Literals;
    assert.ok(literals.length > 0 && game.judgement.reasons.some((r) => r.code === 'IPV4_LITERAL'), JSON.stringify(game.judgement));
    // It failed on toHaveNoIpv4Literals (after .not.toBeIpv6First passed), its message naming the literal.
    assert.equal(game.result.status, 'failed', log);
    const message = game.result.statusDetails?.message ?? '';
    assert.match(message, /expected com\.example\.game to connect to no IPv4 literals, found .*\(IPV4_LITERAL/, message);
    for (const literal of literals) assert.ok(message.includes(literal), `${literal} not named: ${message}`);
  });
});
