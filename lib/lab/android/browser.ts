/**
 * The handset's built-in browser, `com.android.browser`: what a VIEW intent for an http(s) URL
 * opens (`am start -a android.intent.action.VIEW -d URL`, Appium's "navigate to"), as a phone's
 * default browser does. It is an emulated app like the lab's others (./app.ts), started as its own
 * uid, whose one page is synthesised at launch from the URL: one request to the URL's host, with
 * getaddrinfo's order and one address after another (`system`), as a browser's first connection
 * goes.
 */
import net from 'node:net';
import type { EmulatedApp } from '../world.js';
import type { HandsetState, InstalledApp } from './state.js';

export const BROWSER_PACKAGE = 'com.android.browser';
export const BROWSER_LABEL = 'Browser';
/** Below the lab's installed apps (10100 and up, lib/lab/lab.ts): a system app's fixed uid. */
export const BROWSER_UID = 10099;
/** What one page load of the browser transfers (`GET /bytes/N` from the world's servers). */
export const BROWSER_PAGE_BYTES = 20_000;
export const ACTION_VIEW = 'android.intent.action.VIEW';
/** The categories a browser's VIEW filter declares. */
export const CATEGORY_BROWSABLE = 'android.intent.category.BROWSABLE';
export const CATEGORY_DEFAULT = 'android.intent.category.DEFAULT';

export const BROWSER_APP: InstalledApp = { package: BROWSER_PACKAGE, label: BROWSER_LABEL, uid: BROWSER_UID };

/** Every package on the handset: the lab's apps, then the built-in browser (unless an app took its name). */
export function installedApps(state: HandsetState): InstalledApp[] {
  return state.apps.some((a) => a.package === BROWSER_PACKAGE) ? state.apps : [...state.apps, BROWSER_APP];
}

/** What a browser connects to for a URL. */
export interface WebTarget {
  /** The host name, or the address of a literal (no brackets). */
  host: string;
  port: number;
  scheme: 'http' | 'https';
}

/** An http or https URL with a host, as a browser's VIEW filter accepts it; null for anything else. */
export function webTarget(url: string): WebTarget | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '') return null;
  const scheme = parsed.protocol === 'https:' ? 'https' : 'http';
  // [2001:db8::1] in a URL is the address 2001:db8::1.
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  if (host.startsWith('[') || (net.isIP(host) === 0 && !/^[a-z0-9.-]+$/.test(host))) return null;
  return { host, scheme, port: parsed.port === '' ? (scheme === 'https' ? 443 : 80) : Number(parsed.port) };
}

/**
 * The browser as an emulated app (CONTRACTS.md section 5) showing `url`: one page, `home`, with
 * one request to the URL's host; with no URL (launched from the launcher), a blank page.
 */
export function browserApp(url: string | null): EmulatedApp {
  const target = url === null ? null : webTarget(url);
  if (url !== null && target === null) throw new Error(`${BROWSER_PACKAGE} cannot load ${JSON.stringify(url)}: not an http or https URL with a host`);
  const requests =
    target === null ? [] : [{ host: target.host, transport: 'tcp' as const, port: target.port, mode: 'system' as const, bytes: BROWSER_PAGE_BYTES, repeat: 1 }];
  return { file: `(built in: ${BROWSER_PACKAGE})`, package: BROWSER_PACKAGE, label: BROWSER_LABEL, start: 'home', pages: { home: { requests, links: [] } } };
}
