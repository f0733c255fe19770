#!/usr/bin/env node
// Installs the Appium drivers v6lab uses into APPIUM_HOME: $APPIUM_HOME, else .appium/ under the
// working directory (the user's project, never inside the installed package; a checkout run from
// its root keeps its own .appium/, as lib/harness/appium-server.ts appiumHome() says):
//   - always: the project's driver for the virtual handsets
//     (`appium driver install --source=local ./drivers/v6lab-virtual`; needs `npm run build` first,
//     its code is dist/appium);
//   - with --uiautomator2: the UiAutomator2 driver for real phones and emulators, from npm
//     (`appium driver install uiautomator2@VERSION`), pinned below.
// Idempotent: a driver already installed there is left as it is. `v6lab certify` runs this itself.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const appiumHome = resolve(process.env.APPIUM_HOME || '.appium');
const appium = join(root, 'node_modules', 'appium', 'index.js');
// `--source=local` is `npm link`, which also links into npm's global prefix: keep that inside APPIUM_HOME.
const env = { ...process.env, APPIUM_HOME: appiumHome, npm_config_prefix: join(appiumHome, 'npm-prefix') };

mkdirSync(join(appiumHome, 'npm-prefix', 'lib', 'node_modules'), { recursive: true });
if (!existsSync(join(root, 'dist', 'appium', 'driver.js'))) {
  console.error('v6lab: dist/appium/driver.js is missing: run `npm run build` first');
  process.exit(1);
}
/** The UiAutomator2 driver release this project is tested with (Appium 3). */
const UIAUTOMATOR2 = 'uiautomator2@8.7.0';

// Appium's manifest of installed extensions: when it already names both drivers (this checkout's
// v6lab-virtual, and uiautomator2 if asked), asking `appium driver list` (about 2 s) is skipped.
const manifest = join(appiumHome, 'node_modules', '.cache', 'appium', 'extensions.yaml');
const manifestText = existsSync(manifest) ? readFileSync(manifest, 'utf8') : '';
const inManifest = (name, path) => new RegExp(`^  ${name}:\\n(    .*\\n)*?    installPath: ${path ?? '.+'}\\n`, 'm').test(manifestText);
const wanted = [
  inManifest('v6lab-virtual', join(root, 'drivers', 'v6lab-virtual').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
  ...(process.argv.includes('--uiautomator2') ? [inManifest('uiautomator2')] : []),
];
if (wanted.every(Boolean)) process.exit(0);

const listed = JSON.parse(execFileSync(process.execPath, [appium, 'driver', 'list', '--installed', '--json'], { cwd: root, env, encoding: 'utf8' }));
if (listed['v6lab-virtual']) {
  console.error(`v6lab: the v6lab-virtual driver is installed in ${appiumHome}`);
} else {
  console.error(`v6lab: installing the v6lab-virtual driver into ${appiumHome}`);
  execFileSync(process.execPath, [appium, 'driver', 'install', '--source=local', join(root, 'drivers', 'v6lab-virtual')], { cwd: root, env, stdio: 'inherit' });
}

if (process.argv.includes('--uiautomator2')) {
  if (listed.uiautomator2) {
    console.error(`v6lab: the uiautomator2 driver is installed in ${appiumHome}`);
  } else {
    console.error(`v6lab: installing the ${UIAUTOMATOR2} driver into ${appiumHome} (from npm)`);
    execFileSync(process.execPath, [appium, 'driver', 'install', UIAUTOMATOR2], { cwd: root, env, stdio: 'inherit' });
  }
}
