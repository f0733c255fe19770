#!/usr/bin/env node
// Installs the v6lab Appium plugin (plugins/v6lab) into the APPIUM_HOME that scripts/appium-setup.js
// fills: $APPIUM_HOME, else .appium/ under the working directory (never inside the installed package):
//   `appium plugin install --source=local ./plugins/v6lab` (needs `npm run build` first: its code
//   is dist/plugin). Then `appium --use-plugins=v6lab` serves `v6lab: startCapture` and the rest.
// Idempotent: a plugin already installed from this checkout is left as it is.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const appiumHome = resolve(process.env.APPIUM_HOME || '.appium');
// Appium is a peer dependency: in an installed package it sits beside v6lab, not inside it.
const appium = createRequire(import.meta.url).resolve('appium/index.js');
const plugin = join(root, 'plugins', 'v6lab');
// `--source=local` is `npm link`, which also links into npm's global prefix: keep that inside APPIUM_HOME.
const env = { ...process.env, APPIUM_HOME: appiumHome, npm_config_prefix: join(appiumHome, 'npm-prefix') };

mkdirSync(join(appiumHome, 'npm-prefix', 'lib', 'node_modules'), { recursive: true });
if (!existsSync(join(root, 'dist', 'plugin', 'plugin.js'))) {
  console.error('v6lab: dist/plugin/plugin.js is missing: run `npm run build` first');
  process.exit(1);
}

// Appium's manifest of installed extensions: when it already names this checkout's plugin, asking
// `appium plugin list` (about 2 s) is skipped.
const manifest = join(appiumHome, 'node_modules', '.cache', 'appium', 'extensions.yaml');
const manifestText = existsSync(manifest) ? readFileSync(manifest, 'utf8') : '';
const escaped = plugin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
if (new RegExp(`^  v6lab:\\n(    .*\\n)*?    installPath: ${escaped}\\n`, 'm').test(manifestText)) process.exit(0);

const listed = JSON.parse(execFileSync(process.execPath, [appium, 'plugin', 'list', '--installed', '--json'], { cwd: root, env, encoding: 'utf8' }));
if (listed.v6lab) {
  console.error(`v6lab: the v6lab plugin is installed in ${appiumHome}`);
} else {
  console.error(`v6lab: installing the v6lab plugin into ${appiumHome}`);
  execFileSync(process.execPath, [appium, 'plugin', 'install', '--source=local', plugin], { cwd: root, env, stdio: 'inherit' });
}
