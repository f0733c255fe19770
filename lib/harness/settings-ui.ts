/**
 * Selecting an APN the way a person does on a retail phone (`apnSwitch: "settings-ui"`): Android's
 * own Settings, Access Point Names, the radio button of the row whose summary is the APN. No root
 * and no access to the APN table are needed: Settings holds WRITE_APN_SETTINGS and writes the
 * preferred APN itself, and the modem re-attaches as it would for the person.
 *
 * The screen is AOSP's (packages/apps/Settings, ApnSettings and ApnPreference,
 * res/layout/apn_preference_layout.xml): each row has the APN's name as `android:id/title`, the
 * APN as `android:id/summary`, and a RadioButton `com.android.settings:id/apn_radiobutton` (shown
 * only for rows that may be the default APN; an MMS-only row has none). Elements are found by
 * resource id only, which UiAutomator2 and the lab's V6labVirtual driver both support; a row's
 * radio button is the one on the same line of the screen as its summary.
 */
import createDebug from 'debug';
import { message, said, type ReasonMessage } from '../checks/messages.js';
import type { DeviceBackend } from '../device/adb.js';

const log = createDebug('v6lab:settings-ui');

/** The intent action Settings answers with its Access Point Names list (android.provider.Settings.ACTION_APN_SETTINGS). */
export const APN_SETTINGS_ACTION = 'android.settings.APN_SETTINGS';
export const APN_TITLE_ID = 'android:id/title';
export const APN_SUMMARY_ID = 'android:id/summary';
export const APN_RADIO_ID = 'com.android.settings:id/apn_radiobutton';

/** An element on screen as Appium reports it: its reference, text, checked state and where it is. */
export interface ScreenElement {
  ref: string;
  text: string;
  checked: boolean;
  /** Top and bottom edges on screen, in pixels. */
  top: number;
  bottom: number;
}

/** What the harness needs from the device's Appium session to work a Settings screen. */
export interface SettingsScreens {
  /** Elements with this resource id now on screen, in the order of the view hierarchy. */
  elementsById(resourceId: string): Promise<ScreenElement[]>;
  tap(ref: string): Promise<void>;
  back(): Promise<void>;
}

export type SelectOutcome = { selected: true; already: boolean } | { selected: false; detail: string; messages?: ReasonMessage[] };

/** How long the Access Point Names list may take to show, and to show a tapped row as checked. */
export interface SettingsTiming {
  /** @default 10000 */
  screenMs?: number;
  /** @default 250 */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const overlaps = (a: Pick<ScreenElement, 'top' | 'bottom'>, b: Pick<ScreenElement, 'top' | 'bottom'>) => a.top < b.bottom && b.top < a.bottom;

/** The row for `apn`: its summary and the radio button on its line, or what the list shows instead. */
export function findApnRow(
  apn: string,
  summaries: readonly ScreenElement[],
  radios: readonly ScreenElement[],
): { summary: ScreenElement; radio: ScreenElement | null } | { shown: string[] } {
  const summary = summaries.find((s) => s.text.trim().toLowerCase() === apn.toLowerCase());
  if (summary === undefined) return { shown: summaries.map((s) => s.text) };
  return { summary, radio: radios.find((r) => overlaps(r, summary)) ?? null };
}

/**
 * Opens Settings' Access Point Names list, taps the radio button of the row whose summary is
 * `apn`, checks that it shows as checked, and goes back. Says what stood in the way otherwise.
 */
export async function selectApnInSettings(backend: DeviceBackend, screens: SettingsScreens, apn: string, timing: SettingsTiming = {}): Promise<SelectOutcome> {
  const screenMs = timing.screenMs ?? 10_000;
  const pollMs = timing.pollMs ?? 250;
  const sleep = timing.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const argv = ['am', 'start', '-W', '-a', APN_SETTINGS_ACTION];
  log('%s: %j', backend.serial, argv);
  const started = await backend.run(argv);
  // am reports a start it could not make on stdout, with exit 0 on some versions.
  if (started.exitCode !== 0 || /^Error/m.test(started.output))
    return {
      selected: false,
      ...said(message('settings.notOpened', { action: APN_SETTINGS_ACTION, said: started.output.trim().split('\n').pop() ?? '' })),
    };
  try {
    const read = async () => {
      const [summaries, radios] = await Promise.all([screens.elementsById(APN_SUMMARY_ID), screens.elementsById(APN_RADIO_ID)]);
      return findApnRow(apn, summaries, radios);
    };
    // The list fills in once Settings has read the table: wait for rows, to a deadline.
    const deadline = Date.now() + screenMs;
    let row = await read();
    while ('shown' in row && row.shown.length === 0 && Date.now() < deadline) {
      await sleep(pollMs);
      row = await read();
    }
    if ('shown' in row)
      return {
        selected: false,
        ...said(
          row.shown.length === 0
            ? message('settings.noApnShown', { seconds: screenMs / 1000, id: APN_SUMMARY_ID })
            : message('settings.noRow', { apn, shown: row.shown.join(', ') }),
        ),
      };
    if (row.radio === null)
      return {
        selected: false,
        ...said(message('settings.noRadio', { apn })),
      };
    if (row.radio.checked) return { selected: true, already: true };
    await screens.tap(row.radio.ref);
    // Checked once Settings has written the preference: read it back, to a deadline.
    const checkedBy = Date.now() + screenMs;
    for (;;) {
      const now = await read();
      if (!('shown' in now) && now.radio?.checked === true) return { selected: true, already: false };
      if (Date.now() >= checkedBy)
        return {
          selected: false,
          ...said(message('settings.notChecked', { apn, seconds: screenMs / 1000 })),
        };
      await sleep(pollMs);
    }
  } finally {
    await screens.back().catch((error: unknown) => log('%s: back from Access Point Names failed: %s', backend.serial, (error as Error).message));
  }
}
