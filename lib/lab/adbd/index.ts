/** The device side of adb for virtual handsets: see daemon.ts. */
export { AdbDaemon, DEFAULT_REBOOT_MS, deviceBanner, type AdbBanner, type AdbDaemonOptions } from './daemon.js';
export { AdbProtocolError, HandsetPathError } from './errors.js';
export { LocalHandsetHost, resolveUnderRoot, type HandsetHost, type LocalHandsetHostOptions } from './host.js';
