import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { renderLinkProperties } from '../../lib/lab/android/connectivity.js';
import { initialHandsetState, readHandsetState, writeHandsetState } from '../../lib/lab/android/state.js';
import { installToolbox, runToolbox } from '../../lib/lab/android/toolbox.js';
import { loadProfile } from '../../lib/lab/world.js';

const root = resolve(import.meta.dirname, '../..');
const compliant = loadProfile(join(root, 'devices/lab/handsets/compliant.json'));
const noncompliant = loadProfile(join(root, 'devices/lab/handsets/noncompliant.json'));
const apps = [
  { package: 'com.example.news', label: 'Example News', uid: 10101 },
  { package: 'com.example.shop', label: 'Shop', uid: 10102 },
];

function handset(profile = compliant): string {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-handset-'));
  writeHandsetState(dir, initialHandsetState('emulator-5554', profile, apps));
  return dir;
}

describe('virtual handset: Android commands', () => {
  it("getprop lists every property in Android's format, and reads one", () => {
    const dir = handset();
    const all = runToolbox(dir, 'getprop', []).stdout;
    assert.match(all, /^\[ro\.product\.model\]: \[v6lab Reference\]$/m);
    assert.match(all, /^\[ro\.build\.version\.sdk\]: \[34\]$/m);
    assert.equal(runToolbox(dir, 'getprop', ['ro.build.type']).stdout, 'userdebug\n');
    assert.equal(runToolbox(dir, 'getprop', ['no.such.prop']).stdout, '\n');
    assert.equal(runToolbox(dir, 'setprop', ['debug.v6lab', '1']).code, 0);
    assert.equal(runToolbox(dir, 'getprop', ['debug.v6lab']).stdout, '1\n');
    assert.equal(runToolbox(dir, 'setprop', ['ro.product.model', 'x']).code, 1);
  });

  it("settings get/put/delete keep Private DNS state, with Android's defaults", () => {
    const dir = handset();
    assert.equal(runToolbox(dir, 'settings', ['get', 'global', 'private_dns_mode']).stdout, 'opportunistic\n');
    assert.equal(runToolbox(dir, 'settings', ['put', 'global', 'private_dns_mode', 'off']).code, 0);
    assert.equal(runToolbox(dir, 'settings', ['get', 'global', 'private_dns_mode']).stdout, 'off\n');
    assert.equal(runToolbox(dir, 'settings', ['get', 'global', 'nothing']).stdout, 'null\n');
    assert.equal(runToolbox(dir, 'settings', ['get', 'bogus', 'x']).code, 255);
  });

  it('content query prints the APN table as Android does, and refuses an unprivileged shell', () => {
    const dir = handset();
    const rows = runToolbox(dir, 'content', ['query', '--uri', 'content://telephony/carriers'], 0).stdout;
    assert.match(
      rows,
      /^Row: 0 _id=1, name=v6lab IPv6, numeric=46099, mcc=460, mnc=99, carrier_id=-1, apn=ipv6\.v6lab\.test, user=, .* type=default,supl, current=1, protocol=IPV4V6, roaming_protocol=IPV4V6, carrier_enabled=1, .* esim_bootstrap_provisioning=0$/m,
    );
    assert.equal(
      runToolbox(dir, 'content', ['query', '--uri', 'content://telephony/carriers/preferapn', '--projection', 'apn:protocol'], 0).stdout,
      'Row: 0 apn=ipv6.v6lab.test, protocol=IPV4V6\n',
    );
    assert.equal(runToolbox(dir, 'content', ['update', '--uri', 'content://telephony/carriers', '--bind', 'protocol:s:IP', '--where', '_id=1'], 0).code, 0);
    assert.match(runToolbox(dir, 'content', ['query', '--uri', 'content://telephony/carriers', '--where', '_id=1'], 0).stdout, /protocol=IP,/);
    // The shell user (2000) is refused unless the profile lets it read the table; root is not.
    // Content.java prints the refusal and exits 0, as on every Android version.
    const refused = runToolbox(dir, 'content', ['query', '--uri', 'content://telephony/carriers'], 2000);
    assert.equal(refused.code, 0);
    assert.match(refused.stderr, /^Error while accessing provider:telephony\njava\.lang\.SecurityException: No permission to access APN settings\n\tat /);
    const legacy = runToolbox(handset(noncompliant), 'content', ['query', '--uri', 'content://telephony/carriers'], 2000).stdout;
    assert.match(legacy, /current=1, protocol=IP, roaming_protocol=IP,/, 'an entry without protocol holds the column default, IP');
  });

  it('content delete removes the rows --where names, silently as Android does; the preference goes with its row', () => {
    const dir = handset();
    const carriers = ['--uri', 'content://telephony/carriers'];
    const query = (uid = 0) => runToolbox(dir, 'content', ['query', ...carriers], uid);
    // The shell user is refused as for the other verbs, and nothing is deleted.
    const refused = runToolbox(dir, 'content', ['delete', ...carriers, '--where', '_id=2'], 2000);
    assert.match(refused.stderr, /SecurityException: No permission to access APN settings/);
    assert.match(query().stdout, /^Row: 1 _id=2,/m);
    // A row that is not preferred: gone, the preference untouched.
    assert.deepEqual(runToolbox(dir, 'content', ['delete', ...carriers, '--where', '_id=2'], 0), { stdout: '', stderr: '', code: 0 });
    assert.doesNotMatch(query().stdout, /_id=2,/);
    assert.match(query().stdout, /^Row: 0 _id=1, .* current=1, /m);
    // No row matches: nothing happens, still no output.
    assert.deepEqual(runToolbox(dir, 'content', ['delete', ...carriers, '--where', '_id=5'], 0), { stdout: '', stderr: '', code: 0 });
    assert.equal(query().stdout.split('\n').filter(Boolean).length, 1);
    // The preferred row: gone, and no row is preferred any more.
    assert.equal(runToolbox(dir, 'content', ['delete', ...carriers, '--where', "_id='1'"], 0).code, 0);
    assert.equal(query().stdout, 'No result found.\n');
    assert.equal(readHandsetState(dir).preferredApnId, null);
    assert.equal(runToolbox(dir, 'content', ['query', '--uri', 'content://telephony/carriers/preferapn'], 0).stdout, 'No result found.\n');
    // A new row does not inherit the deleted row's preference.
    assert.equal(runToolbox(dir, 'content', ['insert', ...carriers, '--bind', 'name:s:New', '--bind', 'apn:s:ipv6.v6lab.test'], 0).code, 0);
    assert.match(query().stdout, /^Row: 0 _id=1, name=New, .* current=NULL, /m);
  });

  it('content delete on preferapn forgets the preference and keeps the rows; a profile that opens the table lets the shell delete', () => {
    const dir = handset();
    assert.equal(runToolbox(dir, 'content', ['delete', '--uri', 'content://telephony/carriers/preferapn'], 0).code, 0);
    assert.equal(readHandsetState(dir).preferredApnId, null);
    assert.equal(runToolbox(dir, 'content', ['query', '--uri', 'content://telephony/carriers'], 0).stdout.split('\n').filter(Boolean).length, 2);
    const open = handset({ ...compliant, apnTableReadable: true });
    assert.equal(runToolbox(open, 'content', ['delete', '--uri', 'content://telephony/carriers', '--where', '_id=1'], 2000).code, 0);
    assert.deepEqual(
      readHandsetState(open).apns.map((a) => a._id),
      [2],
    );
    assert.equal(readHandsetState(open).preferredApnId, null);
  });

  it('pm and dumpsys package give each app its uid, the built-in browser too', () => {
    const dir = handset();
    assert.equal(runToolbox(dir, 'pm', ['list', 'packages']).stdout, 'package:com.example.news\npackage:com.example.shop\npackage:com.android.browser\n');
    assert.equal(runToolbox(dir, 'pm', ['list', 'packages', 'browser']).stdout, 'package:com.android.browser\n');
    assert.match(
      runToolbox(dir, 'pm', ['path', 'com.example.news']).stdout,
      /^package:\/data\/app\/~~[\w-]{22}==\/com\.example\.news-[\w-]{22}==\/base\.apk\n$/,
    );
    assert.equal(runToolbox(dir, 'pm', ['path', 'com.android.browser']).code, 0);
    // The compliant handset says Android 14: appId= (./android-versions.test.ts covers every version).
    assert.match(runToolbox(dir, 'dumpsys', ['package', 'com.example.shop']).stdout, /^ {4}appId=10102$/m);
    assert.match(runToolbox(dir, 'dumpsys', ['package', 'com.android.browser']).stdout, /^ {4}appId=10099$/m);
    assert.equal(runToolbox(dir, 'su', ['-c', 'id']).code, 127);
    assert.match(runToolbox(dir, 'id', [], 2000).stdout, /^uid=2000\(shell\) gid=2000\(shell\) groups=2000\(shell\),1004\(input\).* context=u:r:shell:s0\n$/);
    assert.match(runToolbox(dir, 'id', [], 10101).stdout, /^uid=10101\(u0_a101\)/);
  });

  it('renders LinkProperties exactly as a real phone printed them (Deutsche Telekom fixture)', () => {
    const fixture = readFileSync(join(root, 'test/fixtures/android/linkproperties-dtag.txt'), 'utf8').trim();
    const rendered = renderLinkProperties({
      interfaceName: 'rmnet16',
      addresses: ['2a01:599:a1b:a486:9aa1:495d:81d9:5386/64'],
      dns: ['2a01:598:7ff:0:10:74:210:221', '2a01:598:7ff:0:10:74:210:222'],
      mtu: 1500,
      routes: ['::/0 -> :: rmnet16 mtu 1500', '2a01:599:a1b:a486::/64 -> :: rmnet16 mtu 0'],
      nat64Prefix: '64:ff9b::/96',
      stacked: {
        interfaceName: 'v4-rmnet16',
        addresses: ['192.0.0.4/32'],
        dns: [],
        mtu: 0,
        routes: ['0.0.0.0/0 -> 192.0.0.4 v4-rmnet16 mtu 0'],
        nat64Prefix: null,
        stacked: null,
      },
    });
    assert.equal(rendered, fixture);
  });

  it("writers in processes of their own at once lose none of each other's changes (the state lock)", async () => {
    // As in the lab: `settings put` and `content insert` from adb shells, the activity manager
    // recording an app, the supervisor the network it attached, each reading and writing
    // handset.json whole. Without the lock, one writer's change is undone by another's.
    const dir = handset();
    const writer = join(dir, 'writer.ts');
    writeFileSync(
      writer,
      [
        `import { runToolbox } from ${JSON.stringify(resolve(root, 'lib/lab/android/toolbox.ts'))};`,
        `import { updateHandsetState } from ${JSON.stringify(resolve(root, 'lib/lab/android/state.ts'))};`,
        'const [dir, who, start] = process.argv.slice(2);',
        'while (Date.now() < Number(start)) {}',
        'for (let i = 0; i < 60; i++) {',
        "  if (who === 'supervisor') updateHandsetState(dir, (s) => { s.props['sys.v6lab.' + i] = 'x'; });",
        "  else if (runToolbox(dir, 'settings', ['put', 'global', who + '_' + i, 'v']).code !== 0) process.exit(1);",
        '}',
      ].join('\n'),
    );
    const start = String(Date.now() + 3_000);
    const run = promisify(execFile);
    await Promise.all(['a', 'b', 'c', 'supervisor'].map((who) => run(process.execPath, ['--import', 'tsx', writer, dir, who, start])));
    const state = readHandsetState(dir);
    for (const who of ['a', 'b', 'c']) for (let i = 0; i < 60; i++) assert.equal(state.settings.global[`${who}_${i}`], 'v', `${who}_${i} lost`);
    for (let i = 0; i < 60; i++) assert.equal(state.props[`sys.v6lab.${i}`], 'x', `sys.v6lab.${i} lost`);
  });

  it('a symlink or a directory put where the state lock goes is no writer: a write goes through at once', () => {
    for (const plant of ['symlink', 'directory', 'full directory'] as const) {
      const dir = handset();
      const lock = join(dir, 'handset.json.lock');
      if (plant === 'symlink') symlinkSync('/etc/passwd', lock);
      else mkdirSync(lock);
      if (plant === 'full directory') writeFileSync(join(lock, 'x'), '');
      const started = Date.now();
      assert.equal(runToolbox(dir, 'settings', ['put', 'global', 'v6lab_test', plant]).code, 0);
      assert.ok(Date.now() - started < 1000, `${plant}: the write waited ${Date.now() - started} ms`);
      assert.equal(readHandsetState(dir).settings.global.v6lab_test, plant);
      // A full directory is left as it is (root never walks it); the others are gone.
      assert.equal(existsSync(lock), plant === 'full directory', `${plant}: what was planted`);
    }
  });

  it('runs through the PATH wrappers a handset shell uses', () => {
    const dir = handset();
    const bin = join(dir, 'bin');
    // The wrapper runs the toolbox source through tsx here; in the lab, the compiled file.
    installToolbox(bin, [process.execPath, '--import', 'tsx']);
    const out = execFileSync('sh', ['-c', 'getprop ro.product.model'], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, V6LAB_HANDSET_DIR: dir },
      encoding: 'utf8',
    });
    assert.equal(out, 'v6lab Reference\n');
  });
});
