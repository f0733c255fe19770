// The virtual lab end to end (issue 3, "Shown to work"): `v6lab lab up` as a user runs it, the
// real Debian adb server and adbkit driving the virtual handsets, a capture streamed over adb and
// analysed, `lab down` leaving nothing behind. Root and namespaces needed: skips with the reason
// elsewhere, fails in CI (CI=true), where a silently skipped check is a defect.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { analyzeFile, IncrementalAnalyzer } from '../../lib/analysis/index.js';
import { AdbkitBackend, type AdbkitClient } from '../../lib/device/adb.js';
import { appVerdict } from '../../lib/checks/app-verdict.js';
import { startDeviceCapture } from '../../lib/device/capture.js';
import { probeDevice } from '../../lib/device/facts.js';
import {
  checkApnProtocol,
  checkClat,
  checkIpv6Enabled,
  checkIpv6OnlyAttach,
  checkNat64Prefix,
  checkPrivacyAddresses,
  observeDevice,
} from '../../lib/checks/os.js';
import { AdbCli, findAdb, freePort } from '../support/adb-cli.js';
import { requireLab } from '../support/lab-env.js';
import { v6lab } from '../support/cli.js';

const root = resolve(import.meta.dirname, '../..');
// adbkit under tsx: the default import is the class, under node the module (see adbd tests).
const adbkit = createRequire(import.meta.url)('@devicefarmer/adbkit') as typeof import('@devicefarmer/adbkit');

/** The host namespace's network, which the lab must never touch. */
function hostNetwork(): string {
  const out = (argv: string[]) => {
    try {
      return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    } catch (e) {
      return String(e);
    }
  };
  return [
    out(['ip', 'addr']),
    out(['ip', 'route']),
    out(['ip', '-6', 'route']),
    out(['nft', 'list', 'ruleset']),
    readFileSync('/etc/resolv.conf', 'utf8'),
  ].join('\n---\n');
}

const v6labIn = (stateDir: string, ...args: string[]) => v6lab(args, { V6LAB_STATE_DIR: stateDir });

describe('lab: virtual handsets over real adb (issue 3)', function () {
  this.timeout(120_000);
  const work = mkdtempSync(join(tmpdir(), 'v6lab-lab-'));
  // The handsets' shell user (uid 2000) must reach the state directory, as it would /run/v6lab.
  chmodSync(work, 0o755);
  const stateDir = join(work, 'state');
  let cli: AdbCli;
  let hostBefore = '';
  let upLines: string[] = [];
  let client: ReturnType<typeof adbkit.Adb.createClient>;

  before(async function () {
    await requireLab(
      this,
      'the lab tests',
      ['ip', 'tayga', 'radvd', 'unbound', 'tcpdump', 'openssl', 'curl', 'nft', 'setpriv', 'dnsmasq', 'busybox', 'adb'],
      'iproute2 tayga radvd unbound tcpdump openssl curl nftables util-linux dnsmasq-base busybox adb',
    );
    hostBefore = hostNetwork();
    const up = await v6labIn(
      stateDir,
      'lab',
      'up',
      '--handsets',
      '2',
      '--apn',
      'ipv6',
      '--profile',
      join(root, 'devices/lab/handsets/compliant.json'),
      '--profile',
      join(root, 'devices/lab/handsets/noncompliant.json'),
    );
    assert.equal(up.code, 0, `lab up: ${JSON.stringify(up)}`);
    upLines = up.stdout.trim().split('\n');
    mkdirSync(join(work, 'adb-home'));
    cli = new AdbCli(findAdb()!, await freePort(), join(work, 'adb-home'));
    const server = await cli.run(['start-server']);
    assert.equal(server.code, 0, `adb start-server: ${server.stderr}`);
    client = adbkit.Adb.createClient({ port: cli.serverPort });
    // The server scans the emulator ports by itself; give it a few seconds.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const devices = (await cli.run(['devices'])).stdout.toString();
      if (/emulator-5554\s+device/.test(devices) && /emulator-5556\s+device/.test(devices)) break;
      if (Date.now() > deadline) throw new Error(`the adb server did not find the handsets: ${devices}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  after(async function () {
    await cli?.run(['kill-server']).catch(() => undefined);
    if (process.getuid?.() === 0) await v6labIn(stateDir, 'lab', 'down');
    rmSync(work, { recursive: true, force: true });
  });

  const shell = async (serial: string, command: string) => {
    const r = await cli.run(['-s', serial, 'shell', command]);
    return { code: r.code, out: r.stdout.toString(), err: r.stderr };
  };

  it('prints one line per handset: SERIAL, NETWORK, PROFILE', () => {
    assert.equal(upLines.length, 2);
    assert.match(upLines[0]!, /^emulator-5554\tipv6\+clat\tcompliant$/);
    assert.match(upLines[1]!, /^emulator-5556\tipv6 \(attach refused: .*\)\tnoncompliant$/);
  });

  it('adb devices -l lists both with their models; getprop and exit codes work', async () => {
    const devices = (await cli.run(['devices', '-l'])).stdout.toString();
    assert.match(devices, /emulator-5554\s+device .*model:v6lab_Reference/);
    assert.match(devices, /emulator-5556\s+device .*model:v6lab_Legacy/);
    assert.equal((await shell('emulator-5554', 'getprop ro.product.model')).out, 'v6lab Reference\n');
    assert.equal((await shell('emulator-5556', 'getprop ro.build.version.release')).out, '9\n');
    assert.equal((await shell('emulator-5554', 'exit 3')).code, 3);
  });

  it('adb shell runs as the shell user; su and adb root give root on a rooted userdebug handset', async () => {
    assert.match((await shell('emulator-5554', 'id')).out, /^uid=2000/);
    assert.match((await shell('emulator-5554', 'tcpdump -c 1 -i any 2>&1')).out, /permission/i);
    assert.match((await shell('emulator-5554', 'su -c id')).out, /^uid=0/);
    assert.equal((await shell('emulator-5554', "su -c 'exit 4'")).code, 4);
  });

  it('v6lab devices tells what it learns of each handset over adb alone', async () => {
    const { stdout, stderr } = await v6lab(['devices', '--json'], cli.harnessEnv());
    const { devices } = JSON.parse(stdout) as {
      devices: {
        serial: string;
        model: string;
        root: string | null;
        tcpdump: string | null;
        defaultNetwork: { nat64Prefix: string | null; clat: { ipv4: string } | null } | null;
        problems: string[];
      }[];
    };
    const compliant = devices.find((d) => d.serial === 'emulator-5554')!;
    assert.equal(compliant.model, 'v6lab Reference', stderr);
    assert.equal(compliant.root, 'su');
    assert.ok(compliant.tcpdump);
    assert.equal(compliant.defaultNetwork?.nat64Prefix, '64:ff9b::/96');
    assert.equal(compliant.defaultNetwork?.clat?.ipv4, '192.0.0.4');
    assert.deepEqual(compliant.problems, []);
    const refused = devices.find((d) => d.serial === 'emulator-5556')!;
    assert.equal(refused.defaultNetwork, null, 'a refused attach leaves no mobile network');
  });

  it("v6lab devices shows each handset's build as a phone prints it, on the server ADB_SERVER_SOCKET names", async () => {
    // The socket wins over ANDROID_ADB_SERVER_PORT, as in adb: port 1 would refuse the connection.
    const env = cli.harnessEnv({ ADB_SERVER_SOCKET: `tcp:127.0.0.1:${cli.serverPort}`, ANDROID_ADB_SERVER_PORT: '1' });
    const json = await v6lab(['devices', '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const { devices } = JSON.parse(json.stdout) as { devices: { serial: string; identity: Record<string, unknown> }[] };
    const id = devices.find((d) => d.serial === 'emulator-5554')!.identity;
    // compliant.json: v6lab v6ref, Android 14 userdebug, SIM 460/99; the kernel is the one it runs on
    assert.match(String(id.fingerprint), /^v6lab\/v6ref\/v6ref:14\/UV6L\.\d{6}\.\d{3}\/[^:/]+:userdebug\/test-keys$/);
    assert.match(String(id.buildId), /^UV6L\.\d{6}\.\d{3}$/);
    assert.match(String(id.securityPatch), /^\d{4}-\d{2}-05$/);
    assert.ok(id.displayId && id.incremental && id.baseband, JSON.stringify(id));
    assert.deepEqual(id.sims, [{ slot: 0, mcc: '460', mnc: '99', name: 'v6lab IPv6' }]);
    assert.equal(id.kernel, execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
    const table = await v6lab(['devices'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`emulator-5554: fingerprint ${String(id.fingerprint).replace(/[.]/g, '\\.')};`));
  });

  it('the os and apn checks pass the compliant handset and fail the non-compliant one, for the right reasons', async () => {
    const compliant = await observeDevice(new AdbkitBackend(client as unknown as AdbkitClient, 'emulator-5554'), { root: 'su' });
    for (const [name, outcome] of Object.entries({
      'os.apn-protocol': checkApnProtocol(compliant),
      'os.apn-roaming-protocol': checkApnProtocol(compliant, 'roaming_protocol'),
      'os.ipv6-enabled': checkIpv6Enabled(compliant, ['rmnet_data0', 'wlan0']),
      'os.privacy-addresses': checkPrivacyAddresses(compliant),
      'apn.ipv6-only-attach': checkIpv6OnlyAttach(compliant),
      'apn.clat': checkClat(compliant),
      'apn.nat64-prefix': checkNat64Prefix(compliant, ['64:ff9b::/96']),
    })) {
      assert.equal(outcome.status, 'passed', `${name}: ${JSON.stringify(outcome.reasons)}`);
    }
    const legacy = await observeDevice(new AdbkitBackend(client as unknown as AdbkitClient, 'emulator-5556'), { root: 'su' });
    const reasons = (o: ReturnType<typeof checkClat>) => o.reasons.map((r) => r.code);
    assert.deepEqual(reasons(checkApnProtocol(legacy)), ['APN_PROTOCOL_NOT_IPV4V6']);
    assert.deepEqual(reasons(checkIpv6Enabled(legacy, ['rmnet_data0', 'wlan0'])), ['IPV6_DISABLED']);
    assert.match(checkIpv6Enabled(legacy, ['rmnet_data0', 'wlan0']).reasons[0]!.detail, /disabled on wlan0/);
    assert.equal(checkPrivacyAddresses(legacy).status, 'failed');
    assert.deepEqual(reasons(checkClat(legacy)), ['NO_CLAT']);
  });

  it('the compliant handset on the IPv6-only APN: SLAAC and privacy addresses, CLAT, NAT64 prefix by RFC 7050', async () => {
    const v6 = (await shell('emulator-5554', 'ip -6 addr show dev rmnet_data0 scope global')).out;
    assert.match(v6, /inet6 2001:db8:[0-9a-f:]+\/64 scope global temporary/);
    assert.match(v6, /inet6 2001:db8:[0-9a-f:]+\/64 scope global dynamic mngtmpaddr/);
    assert.match((await shell('emulator-5554', 'ip -4 addr show dev v4-rmnet_data0')).out, /inet 192\.0\.0\.4\/32/);
    const connectivity = (await shell('emulator-5554', 'dumpsys connectivity')).out;
    assert.match(connectivity, /Nat64Prefix: 64:ff9b::\/96 Stacked: \[\[ \{InterfaceName: v4-rmnet_data0 LinkAddresses: \[ 192\.0\.0\.4\/32 \]/);
  });

  it('the non-compliant handset asks for IP (no protocol in its APN) and gets nothing on an IPv6-only APN', async () => {
    const v6 = (await shell('emulator-5556', 'ip -6 addr show dev rmnet_data0 scope global')).out;
    assert.equal(v6.trim(), '');
    assert.match(
      (await shell('emulator-5556', 'content query --uri content://telephony/carriers')).out,
      /current=1, protocol=IP, roaming_protocol=IP,/,
      'an entry without protocol holds the provider column default, IP',
    );
  });

  it("each handset's kernel has its profile's defaults: the non-compliant one no IPv6 on Wi-Fi and no privacy addresses", async () => {
    assert.equal((await shell('emulator-5556', 'cat /proc/sys/net/ipv6/conf/wlan0/disable_ipv6')).out, '1\n');
    assert.equal((await shell('emulator-5556', 'ip -6 addr show dev wlan0')).out.trim(), '');
    assert.equal((await shell('emulator-5556', 'cat /proc/sys/net/ipv6/conf/rmnet_data0/use_tempaddr')).out, '0\n');
    // The compliant profile saves no Wi-Fi network: Wi-Fi is on but joined to nothing (wlan0 down, no
    // address, as a phone out of the box), with its privacy setting in place for when it joins.
    assert.equal((await shell('emulator-5554', 'cat /proc/sys/net/ipv6/conf/wlan0/use_tempaddr')).out, '2\n');
    assert.equal((await shell('emulator-5554', 'ip -6 addr show dev wlan0 scope global')).out.trim(), '');
  });

  it('the attached handset makes background traffic from system uids, as /proc/net shows on a phone', async () => {
    // The push channel: an established socket (st 01) to port 443 (01BB) of uid 1002.
    // "2: B80D0120...:C180 B80D0120...:01BB 01 00000000:00000000 02:00001010 00000000  1002 ..."
    const tcp6 = (await shell('emulator-5554', 'cat /proc/net/tcp6')).out;
    const push = tcp6
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[2]?.endsWith(':01BB') && f[3] === '01' && f[7] === '1002');
    assert.equal(push.length, 1, tcp6);
    // Refused by the network, the non-compliant handset has no background traffic to make.
    const sockets = (await shell('emulator-5556', 'cat /proc/net/tcp6 /proc/net/tcp')).out.split('\n').map((line) => line.trim().split(/\s+/));
    assert.deepEqual(
      sockets.filter((f) => ['1000', '1001', '1002'].includes(f[7] ?? '')),
      [],
    );
  });

  it('pulls 50 MB byte-exact, pushes into new directories, forwards a port into the handset', async () => {
    const big = randomBytes(50 * 1024 * 1024);
    writeFileSync(join(stateDir, 'handsets/hs0/fs/sdcard/big.bin'), big);
    const local = join(work, 'pulled.bin');
    const pulled = await cli.run(['-s', 'emulator-5554', 'pull', '/sdcard/big.bin', local], 60_000);
    assert.equal(pulled.code, 0, pulled.stderr + pulled.stdout.toString());
    assert.equal(createHash('sha256').update(readFileSync(local)).digest('hex'), createHash('sha256').update(big).digest('hex'));
    const small = join(work, 'small.txt');
    writeFileSync(small, 'v6lab push\n');
    assert.equal((await cli.run(['-s', 'emulator-5554', 'push', small, '/data/local/tmp/a/b/small.txt'])).code, 0);
    assert.equal(readFileSync(join(stateDir, 'handsets/hs0/fs/data/local/tmp/a/b/small.txt'), 'utf8'), 'v6lab push\n');
    // A server inside the handset's namespace, reached through adb forward.
    const namespace = JSON.parse(readFileSync(join(stateDir, 'handsets.json'), 'utf8'))[0].namespace as string;
    const server = spawn('ip', [
      'netns',
      'exec',
      namespace,
      process.execPath,
      '-e',
      "require('net').createServer((s) => s.end('inside the handset\\n')).listen(8765, '127.0.0.1')",
    ]);
    try {
      await new Promise((r) => setTimeout(r, 500));
      const port = await freePort();
      assert.equal((await cli.run(['-s', 'emulator-5554', 'forward', `tcp:${port}`, 'tcp:8765'])).code, 0);
      const reply = await new Promise<string>((resolveReply, reject) => {
        const socket = connect({ port, host: '127.0.0.1' });
        let data = '';
        socket.on('data', (d) => (data += d));
        socket.on('end', () => resolveReply(data));
        socket.on('error', reject);
      });
      assert.equal(reply, 'inside the handset\n');
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('a capture streamed over adb from tcpdump shows native IPv6, NAT64 and CLAT paths', async () => {
    const lab = JSON.parse(readFileSync(join(stateDir, 'lab.json'), 'utf8')) as { world: { hosts: { name: string; ipv4: string | null }[] } };
    const literal = lab.world.hosts.find((h) => h.name === 'legacy.shop.test')!.ipv4!;
    // The handset discovered its NAT64 prefix before the capture began: take it from what the
    // phone reports, as the harness does with a real one.
    const nat64Prefix = /Nat64Prefix: (\S+)/.exec((await shell('emulator-5554', 'dumpsys connectivity')).out)?.[1];
    assert.equal(nat64Prefix, '64:ff9b::/96');
    // The device layer as the harness uses it: probe how to capture, stream tcpdump, keep the file.
    const device = new AdbkitBackend(client as unknown as AdbkitClient, 'emulator-5554');
    const facts = await probeDevice(device);
    const capture = await startDeviceCapture(device, facts, join(work, 'emulator-5554.pcap'));
    const analysis = new IncrementalAnalyzer({ source: 'emulator-5554 tcpdump', nat64Prefixes: [nat64Prefix!] });
    capture.stream.on('data', (chunk: Buffer) => analysis.push(chunk));
    await new Promise((r) => setTimeout(r, 1000));
    // Traffic a dual-stack name (native IPv6), an IPv4-only name (DNS64 + NAT64), an IPv4 literal (CLAT).
    for (const target of ['http://api.news.test/bytes/20000', 'http://img.news.test/bytes/20000', `http://${literal}/bytes/20000`]) {
      const r = await shell('emulator-5554', `curl -s -o /dev/null -w '%{http_code}' ${target}`);
      assert.equal(r.out, '200', `${target}: ${r.err}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const { bytes: kept, kernelDrops } = await capture.stop();
    assert.ok(kept > 0);
    // Stopped with SIGINT, tcpdump said what the kernel dropped: its statistics were read back.
    assert.equal(kernelDrops, 0);
    // The file kept as evidence holds the same capture (up to the last record cut by the stop).
    const fromFile = await analyzeFile(capture.file, { nat64Prefixes: [nat64Prefix!] });
    assert.deepEqual(
      fromFile.flows.map((f) => f.id),
      analysis.report().flows.map((f) => f.id),
    );
    const result = analysis.report();
    const to = (port: number, path: string) => result.flows.filter((f) => f.serverPort === port && f.path === path);
    assert.ok(
      to(80, 'native-v6').some((f) => f.hostname === 'api.news.test'),
      JSON.stringify(result.flows.map((f) => [f.server, f.path, f.hostname])),
    );
    assert.ok(
      to(80, 'nat64').some((f) => f.hostname === 'img.news.test'),
      JSON.stringify([result.flows.map((f) => [f.server, f.serverPort, f.path, f.hostname]), result.dns.map((q) => [q.name, q.qtype, q.answers])]),
    );
    assert.ok(to(80, 'clat').length >= 1, 'the IPv4 literal went through the CLAT');
    assert.equal(result.clatAddresses.length, 1, 'the CLAT address is inferred from its two legs');
  });

  it('a capture whose stream stalls while the handset downloads loses packets in the kernel, and says how many', async function () {
    this.timeout(60_000);
    // The host stops reading the stream: adb's flow control stops adbd reading tcpdump's stdout,
    // tcpdump blocks writing it, and its 16 MiB ring overflows during a 60 MB download.
    const device = new AdbkitBackend(client as unknown as AdbkitClient, 'emulator-5554');
    const facts = await probeDevice(device);
    const capture = await startDeviceCapture(device, facts, join(work, 'stalled.pcap'));
    await new Promise((r) => setTimeout(r, 500));
    capture.stream.pause();
    const got = await shell('emulator-5554', "curl -s -o /dev/null -w '%{http_code}' http://api.news.test/bytes/60000000");
    assert.equal(got.out, '200', got.err);
    capture.stream.resume();
    const { kernelDrops } = await capture.stop();
    assert.ok(kernelDrops !== null && kernelDrops > 0, `tcpdump said ${kernelDrops} packets dropped by kernel`);
    // What the harness makes of it: the window's capture backs no verdict.
    const analysis = await analyzeFile(capture.file);
    analysis.capture.droppedByKernel = kernelDrops;
    const verdict = appVerdict(analysis, new Set(analysis.flows.map((f) => f.id)));
    assert.equal(verdict.verdict, 'inconclusive');
    assert.equal(verdict.reasons[0]!.code, 'CAPTURE_DROPPED');
  });

  it("as adb root (a userdebug build's `adb root`), tcpdump's stderr stays off the capture stream and its statistics are read", async function () {
    this.timeout(60_000);
    // shell: (v1, what adbkit speaks) carries stderr on the stream: tcpdump's "listening on any"
    // landed right after the pcap's file header, and the capture could not be read.
    const waitForDevice = async () => {
      const deadline = Date.now() + 20_000;
      while (!/emulator-5554\s+device/.test((await cli.run(['devices'])).stdout.toString())) {
        if (Date.now() > deadline) throw new Error('emulator-5554 did not come back after adb root/unroot');
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const rooted = await cli.run(['-s', 'emulator-5554', 'root']);
    assert.match(rooted.stdout.toString(), /restarting adbd as root|already running as root/);
    await new Promise((r) => setTimeout(r, 500));
    await waitForDevice();
    try {
      const device = new AdbkitBackend(client as unknown as AdbkitClient, 'emulator-5554');
      const facts = await probeDevice(device);
      assert.equal(facts.root, 'adbd');
      const capture = await startDeviceCapture(device, facts, join(work, 'adbd-root.pcap'));
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await shell('emulator-5554', "curl -s -o /dev/null -w '%{http_code}' http://api.news.test/bytes/2000")).out, '200');
      await new Promise((r) => setTimeout(r, 500));
      const { kernelDrops } = await capture.stop();
      assert.equal(kernelDrops, 0);
      const analysis = await analyzeFile(capture.file);
      assert.deepEqual(analysis.capture.warnings, []);
      assert.ok(
        analysis.flows.some((f) => f.serverPort === 80 && f.hostname === 'api.news.test'),
        JSON.stringify(analysis.flows.map((f) => [f.server, f.serverPort, f.hostname])),
      );
      // Nothing of the capture is left on the device.
      assert.equal((await shell('emulator-5554', 'ls /data/local/tmp')).out.includes('v6lab-capture-'), false);
    } finally {
      await cli.run(['-s', 'emulator-5554', 'unroot']);
      await new Promise((r) => setTimeout(r, 500));
      await waitForDevice();
    }
    assert.match((await shell('emulator-5554', 'id')).out, /^uid=2000/);
  });

  it("a UI driver sees the app's page with uiautomator and walks a link with input tap, over adb", async () => {
    assert.equal((await shell('emulator-5554', 'am start -W -n com.example.news/.MainActivity')).code, 0);
    const home = (await shell('emulator-5554', 'uiautomator dump /dev/tty')).out;
    assert.match(home, /content-desc="article"/);
    const bounds = /content-desc="article" [^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"/.exec(home)!;
    const [x, y] = [(Number(bounds[1]) + Number(bounds[3])) >> 1, (Number(bounds[2]) + Number(bounds[4])) >> 1];
    assert.equal((await shell('emulator-5554', `input tap ${x} ${y}`)).code, 0);
    assert.match((await shell('emulator-5554', 'uiautomator dump /dev/tty')).out, /text="article"/);
    assert.equal((await shell('emulator-5554', 'am force-stop com.example.news')).code, 0);
  });

  it('editing the APN table with content re-attaches the handset within seconds, as a modem does', async () => {
    const edited = await shell('emulator-5554', "su -c 'content update --uri content://telephony/carriers --bind apn:s:ipv4v6.v6lab.test --where _id=1'");
    assert.equal(edited.code, 0, edited.err);
    // The addresses come first and the network agent's record after, as on a phone mid-attach:
    // wait (with a deadline) until the attach has settled, then judge all three.
    const deadline = Date.now() + 10_000;
    let v4 = '';
    let dumpsys = '';
    let clat = true;
    while (Date.now() < deadline) {
      v4 = (await shell('emulator-5554', 'ip -4 addr show dev rmnet_data0')).out;
      dumpsys = (await shell('emulator-5554', 'dumpsys connectivity')).out;
      clat = (await shell('emulator-5554', 'ip link show v4-rmnet_data0 2>&1')).code === 0;
      if (/inet \d+\.\d+\.\d+\.\d+\//.test(v4) && /extra: ipv4v6\.v6lab\.test/.test(dumpsys) && !clat) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(v4, /inet \d+\.\d+\.\d+\.\d+\//, 'IPv4 on rmnet_data0 after moving to the dual-stack APN');
    assert.equal(clat, false, 'no CLAT on a dual-stack attach');
    assert.match(dumpsys, /extra: ipv4v6\.v6lab\.test/);
  });

  it("listens only on loopback in the host namespace: each handset's adb port on 127.0.0.1", () => {
    const supervisor = (JSON.parse(readFileSync(join(stateDir, 'supervisor.json'), 'utf8')) as { pid: number }).pid;
    // LISTEN 0 511 127.0.0.1:5555 0.0.0.0:* users:(("node",pid=123,fd=25))
    const mine = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(`pid=${supervisor},`));
    assert.ok(mine.length >= 2, `the supervisor listens: ${mine.join('\n')}`);
    for (const line of mine) assert.match(line.trim().split(/\s+/)[3]!, /^127\.0\.0\.1:\d+$/, line);
  });

  it('lab status --json says healthy', async () => {
    const status = await v6labIn(stateDir, 'lab', 'status', '--json');
    const overview = JSON.parse(status.stdout);
    assert.equal(overview.supervisor.running, true);
    assert.deepEqual(
      overview.handsets.map((h: { adbListening: boolean }) => h.adbListening),
      [true, true],
    );
  });

  it('lab down removes every namespace, process and /etc/netns entry, twice safely, and the host is untouched', async () => {
    const labId = JSON.parse(readFileSync(join(stateDir, 'lab.json'), 'utf8')).labId as string;
    const down = await v6labIn(stateDir, 'lab', 'down');
    assert.equal(down.code, 0, down.stderr);
    const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    assert.ok(!namespaces.includes(`v6l-${labId}-`), namespaces);
    assert.ok(!readdirNames('/etc/netns').some((n) => n.startsWith(`v6l-${labId}-`)));
    const again = await v6labIn(stateDir, 'lab', 'down');
    assert.equal(again.code, 0);
    assert.match(again.stdout, /nothing to remove/);
    assert.equal(hostNetwork(), hostBefore);
  });
});

function readdirNames(dir: string): string[] {
  try {
    return execFileSync('ls', ['-1', dir], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
