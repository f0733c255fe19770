/**
 * The screen of a virtual handset as Android's UI tools show it: `uiautomator dump` prints the
 * foreground app's view hierarchy (its page, and one button per link, whose content-desc is the
 * link's page name: the accessibility id a spec taps), `input tap X Y` taps what is at (X, Y),
 * `input keyevent KEYCODE_BACK` goes back, `input swipe` and `input text` are taken as a phone
 * takes them on a screen with nothing to scroll and no text field: they change nothing. When
 * Settings' Access Point Names list is in front (./settings-app.ts) the dump is that list, a tap
 * on a row's radio button selects the APN, and Back closes it. A UI driver reaches them over adb
 * as on a phone.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveUnderRoot } from '../adbd/host.js';
import { askApp } from './activity.js';
import { apnSettingsViews, closeSettings, openSettingsScreen, SETTINGS_PACKAGE, tapApnSettings, type ViewNode } from './settings-app.js';
import { readHandsetState } from './state.js';

export const SCREEN = { width: 1080, height: 2340 } as const;
const LINK_TOP = 400;
const LINK_HEIGHT = 160;

export interface Screen {
  package: string;
  page: string;
  links: string[];
}

/** Where link `i` is drawn: `[left,top][right,bottom]`. */
export function linkBounds(i: number): [number, number, number, number] {
  const top = LINK_TOP + i * (LINK_HEIGHT + 40);
  return [40, top, SCREEN.width - 40, top + LINK_HEIGHT];
}

const attr = (value: string) => value.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');

function node(
  index: number,
  cls: string,
  pkg: string,
  options: {
    text?: string;
    desc?: string;
    resourceId?: string;
    clickable?: boolean;
    checkable?: boolean;
    checked?: boolean;
    bounds: [number, number, number, number];
  },
  children = '',
): string {
  const [l, t, r, b] = options.bounds;
  const tag =
    `<node index="${index}" text="${attr(options.text ?? '')}" resource-id="${attr(options.resourceId ?? '')}" class="${cls}" package="${attr(pkg)}" content-desc="${attr(options.desc ?? '')}" ` +
    `checkable="${options.checkable ? 'true' : 'false'}" checked="${options.checked ? 'true' : 'false'}" clickable="${options.clickable ? 'true' : 'false'}" enabled="true" focusable="${options.clickable ? 'true' : 'false'}" focused="false" ` +
    `scrollable="false" long-clickable="false" password="false" selected="false" bounds="[${l},${t}][${r},${b}]"`;
  return children === '' ? `${tag} />` : `${tag}>${children}</node>`;
}

/** A tree of views (a system screen) as dump nodes, each child indexed within its parent. */
function renderViews(view: ViewNode, pkg: string, index = 0): string {
  const children = (view.children ?? []).map((child, i) => renderViews(child, pkg, i)).join('');
  return node(index, view.cls, pkg, view, children);
}

/** Settings' Access Point Names list as `uiautomator dump` prints it. */
export function renderSettingsHierarchy(view: ViewNode): string {
  return `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation="0">${renderViews(view, SETTINGS_PACKAGE)}</hierarchy>`;
}

// <?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation="0"><node index="0" text="" resource-id="" class="android.widget.FrameLayout" package="com.android.settings" ... bounds="[0,0][1080,2340]">
export function renderHierarchy(screen: Screen | null): string {
  const head = `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation="0">`;
  if (screen === null)
    return `${head}${node(0, 'android.widget.FrameLayout', 'com.android.launcher3', { bounds: [0, 0, SCREEN.width, SCREEN.height] })}</hierarchy>`;
  const title = node(0, 'android.widget.TextView', screen.package, { text: screen.page, bounds: [40, 160, SCREEN.width - 40, 300] });
  const links = screen.links
    .map((link, i) => node(i + 1, 'android.widget.Button', screen.package, { text: link, desc: link, clickable: true, bounds: linkBounds(i) }))
    .join('');
  return `${head}${node(0, 'android.widget.FrameLayout', screen.package, { bounds: [0, 0, SCREEN.width, SCREEN.height] }, title + links)}</hierarchy>`;
}

/** The app in front: the one started (or brought to front) last. */
export function foregroundApp(dir: string): string | null {
  const running = Object.entries(readHandsetState(dir).running);
  running.sort((a, b) => a[1].startedAt.localeCompare(b[1].startedAt));
  return running.at(-1)?.[0] ?? null;
}

/** Whether Settings is in front: opened after the app in front was started. */
function settingsInFront(dir: string): boolean {
  const settings = openSettingsScreen(dir);
  if (settings === null) return false;
  const app = foregroundApp(dir);
  return app === null || readHandsetState(dir).running[app]!.startedAt <= settings.openedAt;
}

async function currentScreen(dir: string): Promise<Screen | null> {
  const pkg = foregroundApp(dir);
  if (pkg === null) return null;
  const view = await askApp(dir, pkg, { page: null });
  return { package: pkg, page: String(view.page), links: Array.isArray(view.links) ? view.links.map(String) : [] };
}

export interface UiResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** `uiautomator dump [FILE]` (default /sdcard/window_dump.xml; /dev/tty prints it). */
export async function uiautomator(dir: string, args: readonly string[]): Promise<UiResult> {
  if (args[0] !== 'dump') return { stdout: '', stderr: `Unknown command: ${args[0] ?? ''}\n`, code: 1 };
  const target = args.find((a, i) => i > 0 && !a.startsWith('--')) ?? '/sdcard/window_dump.xml';
  const xml = settingsInFront(dir) ? renderSettingsHierarchy(apnSettingsViews(readHandsetState(dir))) : renderHierarchy(await currentScreen(dir));
  // Android's own message, typo included.
  const done = `UI hierchary dumped to: ${target}\n`;
  if (target === '/dev/tty' || target === '/dev/stdout') return { stdout: `${xml}${done}`, stderr: '', code: 0 };
  // Inside a handset's container its `/` is its own (V6LAB_HANDSET_ROOT=/); elsewhere `fs/`.
  const path = resolveUnderRoot(process.env.V6LAB_HANDSET_ROOT ?? join(dir, 'fs'), target);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, xml);
  return { stdout: done, stderr: '', code: 0 };
}

/** `input tap X Y`, `input keyevent KEYCODE_BACK` (or 4), `input swipe X1 Y1 X2 Y2 [MS]`, `input text TEXT`. */
export async function input(dir: string, args: readonly string[]): Promise<UiResult> {
  const pkg = foregroundApp(dir);
  const settings = settingsInFront(dir);
  if (args[0] === 'keyevent' && (args[1] === 'KEYCODE_BACK' || args[1] === '4')) {
    // Back on Settings' one screen leaves Settings; the app under it is in front again.
    if (settings) closeSettings(dir);
    else if (pkg !== null) await askApp(dir, pkg, { back: true });
    return { stdout: '', stderr: '', code: 0 };
  }
  if (args[0] === 'tap' && args.length === 3) {
    const [x, y] = [Number(args[1]), Number(args[2])];
    if (!Number.isFinite(x) || !Number.isFinite(y)) return { stdout: '', stderr: `Error: Invalid arguments for command: tap\n`, code: 1 };
    if (settings) {
      tapApnSettings(dir, x, y);
      return { stdout: '', stderr: '', code: 0 };
    }
    const screen = await currentScreen(dir);
    const hit =
      screen?.links.findIndex((_, i) => {
        const [l, t, r, b] = linkBounds(i);
        return x >= l && x <= r && y >= t && y <= b;
      }) ?? -1;
    // A tap on nothing does nothing, as on a phone.
    if (screen && hit >= 0) await askApp(dir, screen.package, { open: screen.links[hit] }, 30_000);
    return { stdout: '', stderr: '', code: 0 };
  }
  // The emulated pages fit the screen and have no text field: a swipe scrolls nothing and typed
  // text goes nowhere, as on a phone; malformed arguments are refused as input refuses them.
  if (args[0] === 'swipe' && (args.length === 5 || args.length === 6)) {
    if (args.slice(1).some((a) => !/^\d+(\.\d+)?$/.test(a))) return { stdout: '', stderr: 'Error: Invalid arguments for command: swipe\n', code: 1 };
    return { stdout: '', stderr: '', code: 0 };
  }
  if (args[0] === 'text' && args.length === 2) return { stdout: '', stderr: '', code: 0 };
  return { stdout: '', stderr: `Error: Unknown command: ${args.join(' ')}\n`, code: 1 };
}
