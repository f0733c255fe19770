/**
 * The handset's own Settings app, `com.android.settings`, as far as a retail phone's user needs it
 * to change APN: the Access Point Names list that `am start -a android.settings.APN_SETTINGS`
 * opens. It shows one row per APN of the SIM operator (the name as title, the APN as summary), a
 * radio button on each row that may be the default APN, checked on the preferred one; tapping a
 * radio button makes that APN the preferred one, exactly as `content insert
 * --uri content://telephony/carriers/preferapn` does (Settings holds WRITE_APN_SETTINGS; the
 * shell does not), so the supervisor re-attaches the handset as a modem would.
 *
 * The view ids, classes and texts are AOSP's (packages/apps/Settings: ApnSettings, ApnPreference,
 * res/layout/apn_preference_layout.xml): `android:id/title`, `android:id/summary` in a
 * `com.android.settings:id/text_layout`, and a RadioButton `com.android.settings:id/apn_radiobutton`
 * in `com.android.settings:id/apn_radio_button_frame`. A row that may not be the default APN (an
 * MMS-only one) has its radio button hidden, and a hidden view is not in a uiautomator dump. The
 * APN editor (a tap on a row's text) is not emulated: such a tap changes nothing.
 *
 * Settings is in front from its start until Back, a force-stop, or another app's start; that is
 * kept in `settings-screen.json` beside handset.json (no process: its screens are drawn here).
 */
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonWhole } from '../../config/files.js';
import { object, oneOf } from '../../config/schema.js';
import { readStateFile, text } from '../state-file.js';
import { readHandsetState, withHandsetStateLock, writeHandsetState, type ApnRow, type HandsetState } from './state.js';

export const SETTINGS_PACKAGE = 'com.android.settings';
/** android.provider.Settings.ACTION_APN_SETTINGS. */
export const ACTION_APN_SETTINGS = 'android.settings.APN_SETTINGS';
/** The activity that action resolves to on AOSP (`cmp=` in am's output). */
export const APN_SETTINGS_ACTIVITY = 'com.android.settings.Settings$ApnSettingsActivity';
/** The list's title (Settings' string apn_settings). */
export const APN_SETTINGS_TITLE = 'Access Point Names';

const SCREEN_FILE = 'settings-screen.json';
const screenSchema = object({ screen: oneOf(['apn-list'] as const), openedAt: text });

export interface SettingsScreen {
  screen: 'apn-list';
  /** ISO 8601: when it came to the front (the latest start of anything is in front). */
  openedAt: string;
}

/** The Settings screen in front, or null when Settings is not open. */
export function openSettingsScreen(dir: string): SettingsScreen | null {
  return readStateFile(join(dir, SCREEN_FILE), screenSchema);
}

/** Brings the Access Point Names list to the front (the activity manager, as root, or in-process). */
export function openApnSettings(dir: string, now = new Date()): void {
  // Kept its directory owner's, as handset.json is, so the shell user's Back can remove it.
  const owner = process.getuid?.() === 0 ? statSync(dir) : undefined;
  writeJsonWhole(join(dir, SCREEN_FILE), { screen: 'apn-list', openedAt: now.toISOString() } satisfies SettingsScreen, { owner, replaceSpecial: true });
}

/** Settings leaves the screen: Back on its only screen, a force-stop, or another app in front. */
export function closeSettings(dir: string): void {
  rmSync(join(dir, SCREEN_FILE), { force: true });
}

/**
 * The SIM operator's MCC+MNC, as the table's `current` column uses it: the profile's
 * `gsm.sim.operator.numeric`, else its first APN's (the APNs a profile lists are its SIM's).
 */
function simNumeric(state: HandsetState): string | null {
  const first = state.profile.apns[0];
  return state.profile.properties['gsm.sim.operator.numeric'] ?? (first === undefined ? null : `${first.mcc}${first.mnc}`);
}

/** Whether Settings lets a row be the default APN (ApnSettings' selectable: its type includes default, or is empty). */
const selectable = (row: ApnRow) => row.type.trim() === '' || row.type.split(',').some((t) => t.trim() === 'default' || t.trim() === '*');

/** The rows Settings lists: the SIM operator's APNs (ApnSettings queries `numeric = <SIM's>`), in table order. */
export function listedApns(state: HandsetState): ApnRow[] {
  const sim = simNumeric(state);
  return state.apns.filter((row) => sim === null || `${row.mcc}${row.mnc}` === sim);
}

const ROW_TOP = 400;
const ROW_HEIGHT = 200;
const WIDTH = 1080;

/** Where row `i` and its parts are drawn: `[left, top, right, bottom]`. */
export function apnRowBounds(i: number): { row: Box; text: Box; title: Box; summary: Box; frame: Box; radio: Box } {
  const top = ROW_TOP + i * ROW_HEIGHT;
  return {
    row: [0, top, WIDTH, top + ROW_HEIGHT],
    text: [40, top, 860, top + ROW_HEIGHT],
    title: [80, top + 30, 860, top + 100],
    summary: [80, top + 110, 860, top + 170],
    frame: [880, top, 1040, top + ROW_HEIGHT],
    radio: [920, top + 60, 1000, top + 140],
  };
}
export type Box = [number, number, number, number];

/** One view of the dump, as ./ui.ts draws it. */
export interface ViewNode {
  cls: string;
  text?: string;
  resourceId?: string;
  clickable?: boolean;
  checkable?: boolean;
  checked?: boolean;
  bounds: Box;
  children?: ViewNode[];
}

/** The Access Point Names list as views: title, then one row per listed APN. */
export function apnSettingsViews(state: HandsetState): ViewNode {
  const rows = listedApns(state).map((row, i): ViewNode => {
    const b = apnRowBounds(i);
    const parts: ViewNode[] = [
      {
        cls: 'android.widget.RelativeLayout',
        resourceId: `${SETTINGS_PACKAGE}:id/text_layout`,
        clickable: true,
        bounds: b.text,
        children: [
          { cls: 'android.widget.TextView', resourceId: 'android:id/title', text: row.name, bounds: b.title },
          { cls: 'android.widget.TextView', resourceId: 'android:id/summary', text: row.apn, bounds: b.summary },
        ],
      },
    ];
    if (selectable(row)) {
      parts.push({
        cls: 'android.widget.LinearLayout',
        resourceId: `${SETTINGS_PACKAGE}:id/apn_radio_button_frame`,
        clickable: true,
        bounds: b.frame,
        children: [
          {
            cls: 'android.widget.RadioButton',
            resourceId: `${SETTINGS_PACKAGE}:id/apn_radiobutton`,
            clickable: true,
            checkable: true,
            checked: row._id === state.preferredApnId,
            bounds: b.radio,
          },
        ],
      });
    }
    return { cls: 'android.widget.LinearLayout', bounds: b.row, children: parts };
  });
  return {
    cls: 'android.widget.FrameLayout',
    bounds: [0, 0, WIDTH, 2340],
    children: [
      { cls: 'android.widget.TextView', text: APN_SETTINGS_TITLE, bounds: [40, 160, WIDTH - 40, 300] },
      {
        cls: 'androidx.recyclerview.widget.RecyclerView',
        resourceId: `${SETTINGS_PACKAGE}:id/recycler_view`,
        bounds: [0, ROW_TOP, WIDTH, 2340],
        children: rows,
      },
    ],
  };
}

const inside = (x: number, y: number, [l, t, r, b]: Box) => x >= l && x <= r && y >= t && y <= b;

/**
 * `input tap X Y` on the Access Point Names list: a tap on a row's radio button (or its frame)
 * makes that APN the preferred one, as Settings writes preferapn; anything else changes nothing.
 * Returns the APN selected, if any.
 */
export function tapApnSettings(dir: string, x: number, y: number): string | null {
  return withHandsetStateLock(dir, () => {
    const state = readHandsetState(dir);
    const rows = listedApns(state);
    const hit = rows.findIndex((row, i) => selectable(row) && inside(x, y, apnRowBounds(i).frame));
    if (hit < 0) return null;
    const row = rows[hit]!;
    if (state.preferredApnId !== row._id) {
      state.preferredApnId = row._id;
      writeHandsetState(dir, state);
    }
    return row.apn;
  });
}
