// Bad input across every file users edit and every flag (issue 6): device profiles, app
// catalogues, lab worlds, emulated apps, handset profiles, CLI flags. Each case runs the real
// command line and must exit 2 with one line on stderr naming the file (or flag) and the field,
// and write nothing: no report directory, no lab state.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot, v6lab } from '../support/cli.js';

const work = mkdtempSync(join(tmpdir(), 'v6lab-bad-'));
const out = join(work, 'never-written');
const state = join(work, 'never-state');
let n = 0;

/** A file with `content` (JSON unless a string), its path. */
function file(content: unknown, name = `f${n++}.json`): string {
  const path = join(work, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const shipped = (path: string) => JSON.parse(readFileSync(join(projectRoot, path), 'utf8')) as Record<string, unknown>;
const profile = { name: 'phone', serial: 'emulator-5554', networks: { ipv6: { apn: 'ipv6.test' } } };
const catalogue = { name: 'c', apps: [{ package: 'com.example.news', label: 'News' }] };
const world = shipped('devices/lab/world.json');
const handset = shipped('devices/lab/handsets/compliant.json');

/** An apps directory: the shipped apps with one file replaced or added. */
function appsDir(name: string, content: unknown): string {
  const dir = join(work, `apps${n++}`);
  cpSync(join(projectRoot, 'devices/lab/apps'), dir, { recursive: true });
  writeFileSync(join(dir, name), JSON.stringify(content));
  return join(dir, name);
}
const news = shipped('devices/lab/apps/news.json') as { pages: Record<string, { requests: Record<string, unknown>[]; links?: string[] }> };
const newsWith = (change: (app: typeof news) => void) => {
  const copy = structuredClone(news);
  change(copy);
  return copy;
};

const certify = (...args: string[]) => ['certify', ...args, '--out', out];
const labUp = (...args: string[]) => ['lab', 'up', '--state-dir', state, ...args];

/** [what, argv, the file or flag the error must name, the field it must name]. */
const CASES: [string, () => string[], (argv: string[]) => string, RegExp][] = [
  // Device profiles
  ['an empty profile', () => certify('--profile', file('')), (a) => a[2]!, /is empty/],
  ['a profile that is not JSON', () => certify('--profile', file('{ "name": "x",')), (a) => a[2]!, /not valid JSON at line 1/],
  ['a profile that is an array', () => certify('--profile', file([profile])), (a) => a[2]!, /expected an object, got an array/],
  ['a profile without a name', () => certify('--profile', file({ ...profile, name: undefined })), (a) => a[2]!, /: name: missing/],
  [
    'a profile name with capitals',
    () => certify('--profile', file({ ...profile, name: 'My Phone' })),
    (a) => a[2]!,
    /: name: expected a short lower-case name/,
  ],
  ['a serial with $(...)', () => certify('--profile', file({ ...profile, serial: '$(reboot)' })), (a) => a[2]!, /: serial: expected an adb serial/],
  ['a serial with a newline', () => certify('--profile', file({ ...profile, serial: 'abc\nreboot' })), (a) => a[2]!, /: serial: expected an adb serial/],
  ['an unknown profile field', () => certify('--profile', file({ ...profile, virtual: true })), (a) => a[2]!, /: virtual: unknown field/],
  [
    'an Appium URL that is not one',
    () => certify('--profile', file({ ...profile, appium: { url: 'localhost:4723' } })),
    (a) => a[2]!,
    /: appium\.url: expected an http\(s\) URL/,
  ],
  [
    'a capability that is an object',
    () => certify('--profile', file({ ...profile, appium: { capabilities: { 'appium:x': {} } } })),
    (a) => a[2]!,
    /: appium\.capabilities\.appium:x: expected a string/,
  ],
  ['an unknown capture method', () => certify('--profile', file({ ...profile, capture: ['wireshark'] })), (a) => a[2]!, /: capture\[0\]: expected one of/],
  [
    'a gateway capture as a shell string',
    () => certify('--profile', file({ ...profile, capture: ['gateway'], gatewayCapture: 'ssh gw tcpdump' })),
    (a) => a[2]!,
    /: gatewayCapture: expected an array/,
  ],
  ['no network', () => certify('--profile', file({ ...profile, networks: {} })), (a) => a[2]!, /: networks: names no network/],
  [
    'an APN name with a semicolon',
    () => certify('--profile', file({ ...profile, networks: { ipv6: { apn: 'ipv6;reboot' } } })),
    (a) => a[2]!,
    /: networks\.ipv6\.apn: expected an APN name/,
  ],
  [
    'a probe URL that is not one',
    () => certify('--profile', file({ ...profile, resolverProbeUrl: 'javascript:alert(1)' })),
    (a) => a[2]!,
    /: resolverProbeUrl: expected an http\(s\) URL/,
  ],
  [
    'a background host with spaces',
    () => certify('--profile', file({ ...profile, backgroundHosts: ['time android com'] })),
    (a) => a[2]!,
    /: backgroundHosts\[0\]: expected a hostname/,
  ],
  [
    'a huge profile',
    () => certify('--profile', file(`{"name":"x","pad":"${'x'.repeat(5 * 1024 * 1024)}"}`)),
    (a) => a[2]!,
    /is \d+ bytes; a data file is at most/,
  ],
  [
    'a profile naming a broken catalogue',
    () => certify('--profile', file({ ...profile, catalogue: file({ name: 'c', apps: [] }, 'broken-catalogue.json') })),
    () => 'broken-catalogue.json',
    /: apps: expected at least 1 entry/,
  ],
  // App catalogues
  [
    'a package listed twice',
    () => certify('--devices', 'emulator-5554', '--apps', file({ name: 'c', apps: [catalogue.apps[0], catalogue.apps[0]] })),
    (a) => a[4]!,
    /: apps\[1\]\.package: com\.example\.news is listed twice/,
  ],
  [
    'a package that is not one',
    () => certify('--devices', 'emulator-5554', '--apps', file({ name: 'c', apps: [{ package: 'news; rm -rf /', label: 'x' }] })),
    (a) => a[4]!,
    /: apps\[0\]\.package: expected an Android package name/,
  ],
  [
    'an unknown flow step',
    () => certify('--devices', 'emulator-5554', '--apps', file({ name: 'c', apps: [{ ...catalogue.apps[0], flow: [{ pinch: 2 }] }] })),
    (a) => a[4]!,
    /: apps\[0\]\.flow\[0\]: unknown step/,
  ],
  [
    'a selector that is not one',
    () => certify('--devices', 'emulator-5554', '--apps', file({ name: 'c', apps: [{ ...catalogue.apps[0], flow: [{ tap: 'Discover' }] }] })),
    (a) => a[4]!,
    /: apps\[0\]\.flow\[0\]\.tap: expected a selector/,
  ],
  [
    'a negative dwell in a catalogue',
    () => certify('--devices', 'emulator-5554', '--apps', file({ name: 'c', apps: [{ ...catalogue.apps[0], dwellMs: -1 }] })),
    (a) => a[4]!,
    /: apps\[0\]\.dwellMs: expected a whole number/,
  ],
  ['a catalogue that is missing', () => certify('--devices', 'emulator-5554', '--apps', join(work, 'nope.json')), (a) => a[4]!, /: no such file/],
  // Lab worlds
  ['a world without hosts', () => labUp('--world', file({})), (a) => a[5]!, /: hosts: missing/],
  [
    'a world host name with a slash',
    () => labUp('--world', file({ hosts: [{ name: 'a/b', ipv4: true, ipv6: true }] })),
    (a) => a[5]!,
    /: hosts\[0\]\.name: expected/,
  ],
  [
    'a world host that is IPv6 "maybe"',
    () => labUp('--world', file({ hosts: [{ name: 'a.test', ipv4: true, ipv6: 'maybe' }] })),
    (a) => a[5]!,
    /: hosts\[0\]\.ipv6: expected one of "blackhole"/,
  ],
  [
    'a world host listed twice',
    () => labUp('--world', file({ hosts: [(world.hosts as unknown[])[0], (world.hosts as unknown[])[0]] })),
    (a) => a[5]!,
    /: hosts\[1\]\.name: ".*" is already hosts\[0\]/,
  ],
  [
    'a world host reachable by nothing',
    () => labUp('--world', file({ hosts: [{ name: 'a.test', ipv4: false, ipv6: false }] })),
    (a) => a[5]!,
    /: hosts\[0\]: "a\.test" has neither IPv4 nor IPv6/,
  ],
  // Emulated apps
  [
    'an app with an unknown mode',
    () =>
      labUp(
        '--apps',
        join(
          appsDir(
            'news.json',
            newsWith((a) => {
              a.pages.home!.requests[0]!.mode = 'ipv5';
            }),
          ),
          '..',
        ),
      ),
    () => 'news.json',
    /: pages\.home\.requests\[0\]\.mode: expected one of/,
  ],
  [
    'an app reaching a host the world lacks',
    () =>
      labUp(
        '--apps',
        join(
          appsDir(
            'news.json',
            newsWith((a) => {
              a.pages.home!.requests[0]!.host = 'elsewhere.test';
            }),
          ),
          '..',
        ),
      ),
    () => 'news.json',
    /: pages\.home\.requests\[0\]\.host: "elsewhere\.test" is not a host of the world/,
  ],
  [
    'an app linking to a page it lacks',
    () =>
      labUp(
        '--apps',
        join(
          appsDir(
            'news.json',
            newsWith((a) => {
              a.pages.home!.links = ['nowhere'];
            }),
          ),
          '..',
        ),
      ),
    () => 'news.json',
    /: pages\.home\.links\[0\]: page "nowhere" is not in pages/,
  ],
  [
    'two apps with one package',
    () => labUp('--apps', join(appsDir('news2.json', news), '..')),
    () => 'news',
    /: package: "com\.example\.news" is also the package of/,
  ],
  [
    'an app called the built-in browser',
    () => labUp('--apps', join(appsDir('browser.json', { ...news, package: 'com.android.browser' }), '..')),
    () => 'browser.json',
    /: package: "com\.android\.browser" is the handsets' built-in browser/,
  ],
  // Handset profiles
  [
    'a handset APN protocol that does not exist',
    () => labUp('--profile', file({ ...handset, apns: [{ name: 'x', apn: 'ipv6.test', protocol: 'IPV5' }] })),
    (a) => a[5]!,
    /: apns\[0\]\.protocol: expected one of "IP", "IPV6", "IPV4V6"/,
  ],
  [
    'a handset with two preferred APNs',
    () =>
      labUp(
        '--profile',
        file({
          ...handset,
          apns: [
            { name: 'a', apn: 'a.test', preferred: true },
            { name: 'b', apn: 'b.test', preferred: true },
          ],
        }),
      ),
    (a) => a[5]!,
    /: apns: 2 entries are preferred/,
  ],
  ['a handset without a model', () => labUp('--profile', file({ ...handset, model: undefined })), (a) => a[5]!, /: model: missing/],
  // Flags
  ['an unknown suite', () => certify('--devices', 'emulator-5554', '--suite', 'os,wifi'), () => '--suite', /"wifi" is not one of os, apn, apps/],
  ['a negative dwell', () => certify('--devices', 'emulator-5554', '--dwell', '-5'), () => '--dwell', /is not a whole number of milliseconds/],
  ['a serial with shell syntax', () => certify('--devices', 'emulator-5554;reboot'), () => '--devices', /"emulator-5554;reboot" is not an adb serial/],
  ['certify naming no device', () => certify(), () => '--devices', /name the devices: --devices SERIAL/],
  ['--lab with --devices', () => certify('--lab', '--devices', 'emulator-5554'), () => '--lab', /leave out --devices and --profile/],
  ['a lab of no handsets', () => labUp('--handsets', '0'), () => '--handsets', /expected 1 to 16, got 0/],
  ['an APN type that does not exist', () => labUp('--apn', 'ipv9'), () => '--apn', /"ipv9" is not one of ipv6, ipv6-true, ipv4v6, ipv4/],
  [
    'an unplug time that is not milliseconds',
    () => ['lab', 'unplug', 'emulator-5554', '--for', '2s', '--state-dir', state],
    () => '--for',
    /expected milliseconds from 0 to 50000 .*got "2s"/,
  ],
  [
    'an unplug longer than adb waits',
    () => ['lab', 'unplug', 'emulator-5554', '--for', '60000', '--state-dir', state],
    () => '--for',
    /expected milliseconds from 0 to 50000 .*got "60000"/,
  ],
  [
    'analyze --top that is not a number',
    () => ['analyze', join(projectRoot, 'test/fixtures/lab/sll2-mixed.pcap'), '--top', 'x'],
    () => '--top',
    /is not a whole number/,
  ],
  [
    'analyze with an IPv4 NAT64 prefix',
    () => ['analyze', join(projectRoot, 'test/fixtures/lab/sll2-mixed.pcap'), '--nat64-prefix', '10.0.0.0/8'],
    () => '--nat64-prefix',
    /"10\.0\.0\.0\/8" is not an IPv6 prefix/,
  ],
  ['report of a directory that is no run', () => ['report', work], () => 'results.json', /no results\.json: is this a v6lab run directory/],
];

describe('bad input: exit 2, one line naming the file and field, nothing written (issue 6)', function () {
  this.timeout(60_000);

  it(`has at least 30 cases (${CASES.length})`, () => assert.ok(CASES.length >= 30));

  for (const [what, argv, names, problem] of CASES) {
    it(what, async () => {
      const args = argv();
      const { code, stdout, stderr } = await v6lab(args, { V6LAB_STATE_DIR: state, V6LAB_DEVICE_WAIT_MS: '500' });
      assert.equal(code, 2, `exit ${code}: ${stderr}${stdout}`);
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.ok(lines[0]!.includes(names(args)), `names ${names(args)}: ${lines[0]}`);
      assert.match(lines[0]!, problem);
      assert.equal(existsSync(out), false, 'no report directory');
      assert.equal(existsSync(state), false, 'no lab state');
    });
  }
});
