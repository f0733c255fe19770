// Issue 15, item 2: a virtual handset prints what a real phone of its declared Android version
// prints. Each output is rendered for the versions whose format differs, parsed back with the
// harness's own parsers, and its shape (keys, their order, line structure) compared with the real
// sample it follows (test/fixtures/android-real, sources in its README).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { contentRefusal, dumpsysPackageNotFound, isContentDenied, parseContentRows, parseDumpsysPackage } from '../../lib/device/parse/index.js';
import {
  apnColumns,
  apnTableColumns,
  renderApnRefusal,
  renderContentRows,
  renderDumpsysPackage,
  renderDumpsysPackageNotFound,
} from '../../lib/lab/android/render.js';
import { initialHandsetState, writeHandsetState, type ApnRow } from '../../lib/lab/android/state.js';
import { runToolbox } from '../../lib/lab/android/toolbox.js';
import { loadProfile } from '../../lib/lab/world.js';

const root = resolve(import.meta.dirname, '../..');
const real = (name: string): string => readFileSync(join(root, 'test/fixtures/android-real', name), 'utf8');
const app = { package: 'com.example.news', label: 'Example News', uid: 10123 };

/** The `Package [PKG]` block's own lines (indent 4) as their keys, and its `User 0:` line's keys. */
function packageShape(text: string, pkg: string): { keys: string[]; user0: string[] } {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim().startsWith(`Package [${pkg}] (`));
  assert.ok(at >= 0, `no Package [${pkg}] block`);
  const keys: string[] = [];
  let user0: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (line.trim() === '') continue;
    const indent = line.length - line.trimStart().length;
    if (indent <= 2) break;
    if (indent !== 4) continue;
    const body = line.trim();
    if (body.startsWith('User 0: ')) {
      user0 = body
        .slice('User 0: '.length)
        .split(' ')
        .map((kv) => kv.split('=')[0]!);
      keys.push('User 0:');
    } else keys.push(/^[\w ]+?(?==|:$)/.exec(body)?.[0] ?? body);
  }
  return { keys, user0 };
}

/** Whether `part` appears in `whole` in the same order (a subsequence). */
function inOrder(part: readonly string[], whole: readonly string[]): string[] {
  let i = 0;
  const missing: string[] = [];
  for (const key of part) {
    const found = whole.indexOf(key, i);
    if (found < 0) missing.push(key);
    else i = found + 1;
  }
  return missing;
}

describe('virtual handset: Android formats per version (issue 15)', () => {
  describe('dumpsys package', () => {
    const pixel16 = packageShape(real('dumpsys-package/pixel8a-a16-ntfy.txt'), 'io.heckel.ntfy');
    const samsung = packageShape(real('dumpsys-package/mvt-samsung-trimmed.txt'), 'com.sec.android.app.DataCreate');

    for (const [sdk, key] of [
      [28, 'userId'],
      [29, 'userId'],
      [30, 'userId'],
      [32, 'userId'],
      [33, 'userId'],
      [34, 'appId'],
      [35, 'appId'],
      [36, 'appId'],
    ] as const) {
      it(`API ${sdk} prints ${key}=, and the harness reads the app's uid from it`, () => {
        const text = renderDumpsysPackage(app, sdk);
        assert.match(text, new RegExp(`^ {4}${key}=10123$`, 'm'));
        assert.doesNotMatch(text, new RegExp(`^ {4}${key === 'appId' ? 'userId' : 'appId'}=`, 'm'));
        assert.deepEqual(parseDumpsysPackage(text, app.package), { userId: 10123, versionName: '1.0', codePath: /codePath=(.*)/.exec(text)![1] });
        assert.equal(dumpsysPackageNotFound(text, app.package), false);
      });
    }

    it('up to Android 12 the block has the Samsung Android 10/11 lines, in its order', () => {
      for (const sdk of [29, 30, 32]) {
        const ours = packageShape(renderDumpsysPackage(app, sdk), app.package);
        assert.deepEqual(inOrder(ours.keys, samsung.keys), [], `API ${sdk}: lines the sample lacks or orders otherwise`);
        assert.deepEqual(ours.user0, samsung.user0, `API ${sdk}: the User 0 line`);
      }
      // Android 10 keeps the APK in /data/app/PKG-TOKEN==, Android 11 adds the ~~ level.
      assert.match(renderDumpsysPackage(app, 29), /^ {4}codePath=\/data\/app\/com\.example\.news-[\w-]{22}==$/m);
      assert.match(renderDumpsysPackage(app, 30), /^ {4}codePath=\/data\/app\/~~[\w-]{22}==\/com\.example\.news-[\w-]{22}==$/m);
    });

    it('from Android 13 the block has the Pixel 8a Android 16 lines, in its order; Android 16 has all of its first lines', () => {
      for (const sdk of [33, 34, 35, 36]) {
        const ours = packageShape(renderDumpsysPackage(app, sdk), app.package);
        // The sample says appId; Android 13 the older name in the same place.
        const keys = ours.keys.map((k) => (k === 'userId' ? 'appId' : k));
        assert.deepEqual(inOrder(keys, pixel16.keys), [], `API ${sdk}: lines the sample lacks or orders otherwise`);
        assert.deepEqual(inOrder(ours.user0, pixel16.user0), [], `API ${sdk}: the User 0 line`);
      }
      const a16 = packageShape(renderDumpsysPackage(app, 36), app.package);
      // Every line of the sample up to the signatures, but those an app of the lab has not
      // (an installer, queries, native libraries).
      const upToSignatures = pixel16.keys.slice(0, pixel16.keys.indexOf('signatures'));
      const absent = ['queriesIntents', 'usesOptionalLibraries', 'usesLibraryFiles'];
      assert.deepEqual(
        upToSignatures.filter((k) => !absent.includes(k)),
        a16.keys.slice(0, a16.keys.indexOf('signatures')),
      );
      assert.deepEqual(a16.user0.slice(0, 5), ['ceDataInode', 'deDataInode', 'installed', 'hidden', 'suspended']);
    });

    it('a package not installed: one line from Android 13 (as the Pixel 8a prints it), the dexopt sections before', () => {
      const sample = real('dumpsys-package/pixel8a-a16-not-found.txt');
      const missing = 'com.does.not.exist.foo123';
      assert.equal(renderDumpsysPackageNotFound(missing, 36), sample);
      assert.equal(renderDumpsysPackageNotFound(missing, 33), sample);
      for (const sdk of [28, 29, 32, 33, 36]) {
        const text = renderDumpsysPackageNotFound(missing, sdk);
        assert.equal(parseDumpsysPackage(text, missing), null, `API ${sdk}`);
        assert.equal(dumpsysPackageNotFound(text, missing), true, `API ${sdk}`);
      }
      assert.match(renderDumpsysPackageNotFound(missing, 29), /^Dexopt state:\n {2}Unable to find package: com\.does\.not\.exist\.foo123$/m);
    });
  });

  describe('content query --uri content://telephony/carriers', () => {
    const sample = real('content/docker-android-304-emulator-carriers-rows0-1.txt');
    const sampleRows = parseContentRows(sample);
    assert.ok(!isContentDenied(sampleRows));
    const sampleColumns = Object.keys(sampleRows[0]!);
    const row: ApnRow = {
      _id: 1,
      name: 'v6lab Internet',
      apn: 'ipv6.v6lab.test',
      mcc: '460',
      mnc: '99',
      type: 'default,supl',
      protocol: 'IPV4V6',
      roaming_protocol: null,
      preferred: true,
    };
    const partner: ApnRow = { ...row, _id: 2, mnc: '98', apn: 'internet.partner.test', protocol: null, preferred: false };
    const rendered = (sdk: number) => renderContentRows([apnColumns(row, '46099', sdk), apnColumns(partner, '46099', sdk)], null);

    it('Android 10 to 12: exactly the real emulator sample columns, in its order', () => {
      for (const sdk of [29, 30, 31, 32]) {
        const rows = parseContentRows(rendered(sdk));
        assert.ok(!isContentDenied(rows));
        assert.deepEqual(Object.keys(rows[0]!), sampleColumns, `API ${sdk}`);
        assert.deepEqual(apnTableColumns(sdk), sampleColumns);
      }
    });

    it('Android 9 has neither carrier_id nor skip_464xlat; 13 adds four columns, 14 and 15 two more', () => {
      const without = (columns: readonly string[], gone: string[]) => columns.filter((c) => !gone.includes(c));
      assert.deepEqual(apnTableColumns(28), without(sampleColumns, ['carrier_id', 'skip_464xlat']));
      const a13 = apnTableColumns(33);
      assert.deepEqual(without(a13, ['lingering_network_type_bitmask', 'mtu_v4', 'mtu_v6', 'always_on']), sampleColumns);
      assert.equal(a13[a13.indexOf('network_type_bitmask') + 1], 'lingering_network_type_bitmask');
      assert.deepEqual(a13.slice(a13.indexOf('mtu'), a13.indexOf('mtu') + 3), ['mtu', 'mtu_v4', 'mtu_v6']);
      assert.deepEqual(apnTableColumns(34), [...a13, 'infrastructure_bitmask', 'esim_bootstrap_provisioning']);
      assert.deepEqual(apnTableColumns(35), apnTableColumns(34));
    });

    it('values as the provider stores them: current=1 on the SIM operator rows, NULL elsewhere, empty text, IP for no protocol', () => {
      for (const sdk of [28, 29, 33, 35]) {
        const rows = parseContentRows(rendered(sdk));
        assert.ok(!isContentDenied(rows));
        const [own, other] = rows as [Record<string, string | null>, Record<string, string | null>];
        assert.equal(own.current, '1');
        assert.equal(other.current, null, 'current is NULL (no column default), not 0 or empty');
        assert.equal(own.protocol, 'IPV4V6');
        assert.equal(own.roaming_protocol, 'IP', 'a missing protocol reads back as the column default');
        assert.equal(other.protocol, 'IP');
        assert.equal(own.proxy, '', 'text columns default to empty, as in the sample (proxy=, port=)');
        assert.equal(own.mvno_type, '');
        assert.equal(own.type, 'default,supl');
        if (sdk >= 29) assert.equal(own.skip_464xlat, '-1');
        if (sdk >= 29) assert.equal(own.carrier_id, '-1');
      }
      // The sample's own defaults, where our rows set nothing either.
      const sampleRow = (sampleRows as Record<string, string | null>[])[0]!;
      const ours = (parseContentRows(rendered(30)) as Record<string, string | null>[])[0]!;
      for (const column of ['authtype', 'carrier_enabled', 'bearer', 'sub_id', 'mtu', 'edited', 'user_visible', 'owned_by', 'apn_set_id', 'skip_464xlat']) {
        assert.equal(ours[column], sampleRow[column], column);
      }
    });

    it('the refusal: the real Android 10 text, exit 0 on every version, judged by its text', () => {
      const sampleRefusal = real('content/andromodem-apn-denied-a10.txt');
      const trimmed = (text: string) => text.split('\n').map((l) => l.trim());
      assert.deepEqual(trimmed(renderApnRefusal(29)), trimmed(sampleRefusal));
      assert.deepEqual(contentRefusal(renderApnRefusal(29)), { denied: true, message: 'java.lang.SecurityException: No permission to write APN settings' });
      assert.deepEqual(contentRefusal(renderApnRefusal(33)), { denied: true, message: 'java.lang.SecurityException: No permission to access APN settings' });
      assert.equal(contentRefusal(renderApnRefusal(28))?.message, 'java.lang.SecurityException: No permission to write APN settings');
    });
  });

  describe('the lab profiles for Android 10, 13 and 15', () => {
    const profiles = ['android10', 'android13', 'android15'].map((name) => loadProfile(join(root, 'devices/lab/handsets', `${name}.json`)));
    const handset = (i: number) => {
      const dir = mkdtempSync(join(tmpdir(), 'v6lab-handset-'));
      writeHandsetState(dir, initialHandsetState('emulator-5554', profiles[i]!, [app]));
      return dir;
    };

    it('declare their versions, with the AOSP IPv6 defaults: CLAT on, privacy addresses on, IPv6 on Wi-Fi', () => {
      assert.deepEqual(
        profiles.map((p) => [p.name, p.android, p.sdk, p.manufacturer]),
        [
          ['android10', '10', 29, 'v6lab'],
          ['android13', '13', 33, 'v6lab'],
          ['android15', '15', 35, 'v6lab'],
        ],
      );
      for (const p of profiles) {
        assert.deepEqual(p.ipv6, { mobile: { enabled: true, privacyAddresses: true }, wifi: { enabled: true, privacyAddresses: true }, clat: true }, p.name);
        assert.equal(p.apns.filter((a) => a.preferred).length, 1, p.name);
      }
    });

    it("id as the shell user: the Pixel 6 sample's groups from Android 12L on, without the newer ones on Android 10", () => {
      const sample = real('id/oriole-pixel6-shell-id.txt').trim();
      assert.equal(runToolbox(handset(1), 'id', [], 2000).stdout.trim(), sample);
      assert.equal(runToolbox(handset(2), 'id', [], 2000).stdout.trim(), sample);
      const android10 = runToolbox(handset(0), 'id', [], 2000).stdout.trim();
      assert.equal(android10, sample.replace('1078(ext_data_rw),1079(ext_obb_rw),', '').replace(',3012(readtracefs)', ''));
    });

    it("print their version's dumpsys package and APN table over the handset's commands", () => {
      const expected = [
        { key: 'userId', columns: 39, refusal: 'write' },
        { key: 'userId', columns: 43, refusal: 'access' },
        { key: 'appId', columns: 45, refusal: 'access' },
      ];
      expected.forEach(({ key, columns, refusal }, i) => {
        const dir = handset(i);
        const dump = runToolbox(dir, 'dumpsys', ['package', app.package], 2000);
        assert.equal(dump.code, 0);
        assert.match(dump.stdout, new RegExp(`^ {4}${key}=10123$`, 'm'), profiles[i]!.name);
        assert.equal(parseDumpsysPackage(dump.stdout, app.package)?.userId, 10123);
        const gone = runToolbox(dir, 'dumpsys', ['package', 'com.not.installed'], 2000);
        assert.equal(dumpsysPackageNotFound(gone.stdout, 'com.not.installed'), true);
        const asShell = runToolbox(dir, 'content', ['query', '--uri', 'content://telephony/carriers'], 2000);
        assert.equal(asShell.code, 0, 'content exits 0 after printing the refusal');
        assert.equal(asShell.stdout, '');
        assert.equal(contentRefusal(asShell.stderr)?.message, `java.lang.SecurityException: No permission to ${refusal} APN settings`);
        const rows = parseContentRows(runToolbox(dir, 'content', ['query', '--uri', 'content://telephony/carriers'], 0).stdout);
        assert.ok(!isContentDenied(rows));
        assert.equal(Object.keys(rows[0]!).length, columns, profiles[i]!.name);
        assert.deepEqual(
          rows.map((r) => [r.apn, r.current]),
          [
            ['ipv6.v6lab.test', '1'],
            ['mms.v6lab.test', '1'],
            ['internet.partner.test', null],
          ],
        );
        // A column the version added can be projected and matched.
        if (i === 2) {
          const narrow = runToolbox(
            dir,
            'content',
            [
              'query',
              '--uri',
              'content://telephony/carriers',
              '--projection',
              'apn:infrastructure_bitmask',
              '--where',
              'esim_bootstrap_provisioning=0 AND _id=1',
            ],
            0,
          );
          assert.equal(narrow.stdout, 'Row: 0 apn=ipv6.v6lab.test, infrastructure_bitmask=3\n');
        }
      });
    });
  });
});
