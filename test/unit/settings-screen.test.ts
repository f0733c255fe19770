// The virtual handset's Settings > Access Point Names (issue 15, item 4): opened by the APN_SETTINGS
// intent, drawn for `uiautomator dump` with AOSP's view ids, a tap on a row's radio button
// selecting that APN as `content insert .../preferapn` does, Back leaving it; and the lab driver
// finding its views by resource id as UiAutomator2 does.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { centre, hierarchyXml, parseHierarchy } from '../../lib/appium/hierarchy.js';
import { APN_RADIO_ID, APN_SUMMARY_ID, findApnRow } from '../../lib/harness/settings-ui.js';
import { executeActivityCommand } from '../../lib/lab/android/activity.js';
import { initialHandsetState, readHandsetState, writeHandsetState } from '../../lib/lab/android/state.js';
import { input, uiautomator } from '../../lib/lab/android/ui.js';
import { loadProfile } from '../../lib/lab/world.js';

function retailHandset() {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-settings-'));
  const profile = loadProfile(resolve(import.meta.dirname, '../../devices/lab/handsets/retail.json'));
  writeHandsetState(dir, initialHandsetState('emulator-5554', profile, []));
  return dir;
}

const noLaunch = () => {
  throw new Error('Settings starts no app process');
};

async function screen(dir: string) {
  const dump = await uiautomator(dir, ['dump', '/dev/tty']);
  assert.equal(dump.code, 0);
  return parseHierarchy(hierarchyXml(dump.stdout));
}

describe('virtual handset: Settings > Access Point Names', () => {
  it("opens on the APN_SETTINGS intent and lists the SIM's APNs with AOSP's ids, the preferred one checked", async () => {
    const dir = retailHandset();
    try {
      const started = await executeActivityCommand(dir, 'am', ['start', '-W', '-a', 'android.settings.APN_SETTINGS'], noLaunch);
      assert.equal(started.code, 0, started.stderr);
      assert.match(
        started.stdout,
        /^Starting: Intent \{ act=android\.settings\.APN_SETTINGS \}\nStatus: ok\n.*Activity: com\.android\.settings\/\.Settings\$ApnSettingsActivity\n/s,
      );
      const nodes = await screen(dir);
      assert.ok(nodes.some((n) => n.text === 'Access Point Names' && n.packageName === 'com.android.settings'));
      const summaries = nodes.filter((n) => n.resourceId === 'android:id/summary').map((n) => n.text);
      assert.deepEqual(summaries, ['ipv6.v6lab.test', 'ipv4v6.v6lab.test', 'mms.v6lab.test']);
      assert.deepEqual(
        nodes.filter((n) => n.resourceId === 'android:id/title').map((n) => n.text),
        ['v6lab IPv6', 'v6lab Internet', 'v6lab MMS'],
      );
      const radios = nodes.filter((n) => n.resourceId === 'com.android.settings:id/apn_radiobutton');
      // The MMS-only row may not be the default APN: its radio button is hidden, so not dumped.
      assert.equal(radios.length, 2);
      assert.deepEqual(
        radios.map((r) => [r.className, r.checkable, r.checked]),
        [
          ['android.widget.RadioButton', true, true],
          ['android.widget.RadioButton', true, false],
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a tap on a radio button makes that APN the preferred one (the supervisor re-attaches on it); Back leaves Settings', async () => {
    const dir = retailHandset();
    try {
      await executeActivityCommand(dir, 'am', ['start', '-a', 'android.settings.APN_SETTINGS'], noLaunch);
      const nodes = await screen(dir);
      const toElement = (n: (typeof nodes)[number]) => ({ ref: '', text: n.text, checked: n.checked, top: n.bounds[1], bottom: n.bounds[3] });
      const row = findApnRow(
        'ipv4v6.v6lab.test',
        nodes.filter((n) => n.resourceId === APN_SUMMARY_ID).map(toElement),
        nodes.filter((n) => n.resourceId === APN_RADIO_ID).map(toElement),
      );
      assert.ok('summary' in row && row.radio !== null);
      const radio = nodes.filter((n) => n.resourceId === APN_RADIO_ID)[1]!;
      // A tap on the row's text opens the editor on a phone, not emulated: nothing changes.
      const text = nodes.find((n) => n.resourceId === 'android:id/summary' && n.text === 'ipv4v6.v6lab.test')!;
      await input(dir, ['tap', ...centre(text.bounds).map(String)]);
      assert.equal(readHandsetState(dir).preferredApnId, 1);
      await input(dir, ['tap', ...centre(radio.bounds).map(String)]);
      const state = readHandsetState(dir);
      assert.equal(state.apns.find((a) => a._id === state.preferredApnId)?.apn, 'ipv4v6.v6lab.test');
      assert.deepEqual(
        (await screen(dir)).filter((n) => n.resourceId === APN_RADIO_ID).map((n) => n.checked),
        [false, true],
      );
      await input(dir, ['keyevent', 'KEYCODE_BACK']);
      assert.ok((await screen(dir)).every((n) => n.packageName === 'com.android.launcher3'));
      // Tapping where the list was does nothing once Settings is gone.
      await input(dir, ['tap', ...centre(nodes.filter((n) => n.resourceId === APN_RADIO_ID)[0]!.bounds).map(String)]);
      assert.equal(readHandsetState(dir).preferredApnId, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('am force-stop com.android.settings closes it; an unknown Settings activity is not resolved', async () => {
    const dir = retailHandset();
    try {
      await executeActivityCommand(dir, 'am', ['start', '-n', 'com.android.settings/.Settings$ApnSettingsActivity'], noLaunch);
      assert.ok((await screen(dir)).some((n) => n.resourceId === APN_RADIO_ID));
      await executeActivityCommand(dir, 'am', ['force-stop', 'com.android.settings'], noLaunch);
      assert.ok(!(await screen(dir)).some((n) => n.resourceId === APN_RADIO_ID));
      const other = await executeActivityCommand(dir, 'am', ['start', '-a', 'android.settings.WIFI_SETTINGS'], noLaunch);
      assert.equal(other.code, 1);
      assert.match(other.stderr, /unable to resolve Intent/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
