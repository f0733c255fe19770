#!/usr/bin/env node
// Installs the project's Appium driver for the virtual handsets into a project-local APPIUM_HOME
// (.appium/, or $APPIUM_HOME): `appium driver install --source=local ./drivers/v6lab-virtual`.
// Idempotent: does nothing when the driver is already installed there. Needs `npm run build` first
// (the driver's code is dist/appium).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const appiumHome = process.env.APPIUM_HOME ?? join(root, '.appium');
const appium = join(root, 'node_modules', 'appium', 'index.js');
// `--source=local` is `npm link`, which also links into npm's global prefix: keep that inside APPIUM_HOME.
const env = { ...process.env, APPIUM_HOME: appiumHome, npm_config_prefix: join(appiumHome, 'npm-prefix') };

mkdirSync(join(appiumHome, 'npm-prefix', 'lib', 'node_modules'), { recursive: true });
if (!existsSync(join(root, 'dist', 'appium', 'driver.js'))) {
  console.error('v6lab: dist/appium/driver.js is missing: run `npm run build` first');
  process.exit(1);
}
const listed = JSON.parse(execFileSync(process.execPath, [appium, 'driver', 'list', '--installed', '--json'], { cwd: root, env, encoding: 'utf8' }));
if (listed['v6lab-virtual']) {
  console.error(`v6lab: the v6lab-virtual driver is installed in ${appiumHome}`);
} else {
  console.error(`v6lab: installing the v6lab-virtual driver into ${appiumHome}`);
  execFileSync(process.execPath, [appium, 'driver', 'install', '--source=local', join(root, 'drivers', 'v6lab-virtual')], { cwd: root, env, stdio: 'inherit' });
}
