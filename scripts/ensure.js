#!/usr/bin/env node
// Installs what a fresh machine lacks before `npm start` / `npm test`: the npm dependencies
// (npm ci) and, when running as root, the Debian packages the lab and the cross-check tests use.
// Everything is run as argv arrays; nothing here changes the host's network settings.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Debian package -> a program it provides, to tell whether it is installed. */
const DEBIAN = {
  tshark: 'tshark',
  tcpdump: 'tcpdump',
  tayga: 'tayga',
  unbound: 'unbound',
  radvd: 'radvd',
  'bind9-dnsutils': 'dig',
  iproute2: 'ip',
  procps: 'sysctl',
  openssl: 'openssl',
  adb: 'adb',
  curl: 'curl',
  // The real-client lab apps (devices/lab/apps-real): wget -4 and Python's urllib beside curl,
  // Node and Chromium.
  wget: 'wget',
  'python3-minimal': '/usr/bin/python3',
  nftables: 'nft',
  'dnsmasq-base': 'dnsmasq',
  busybox: 'busybox',
  // The report tests: the report opened in a real browser, JUnit checked against its schema,
  // and allure-commandline's Java.
  chromium: 'chromium',
  'chromium-driver': 'chromedriver',
  'libxml2-utils': 'xmllint',
  'default-jre-headless': 'java',
  // report --pdf's tests read the PDF back (pdftotext) and render its first page (pdftoppm).
  'poppler-utils': 'pdftotext',
  // A CJK font, so the zh-CN report prints its Chinese in Chromium's PDF, not as empty boxes.
  'fonts-wqy-microhei': '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
};

/** Whether a program is on PATH (or in a system bin directory), or, given an absolute path, whether that file exists. */
function onPath(program) {
  if (program.startsWith('/')) return existsSync(program);
  return (
    spawnSync('sh', ['-c', 'command -v "$1"', 'sh', program], { stdio: 'ignore' }).status === 0 ||
    ['/usr/sbin', '/sbin', '/usr/bin'].some((dir) => existsSync(join(dir, program)))
  );
}

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  console.error('v6lab: installing npm dependencies (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

const missing = Object.entries(DEBIAN)
  .filter(([, program]) => !onPath(program))
  .map(([pkg]) => pkg);
if (missing.length > 0) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.error(`v6lab: installing Debian packages: ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  } else {
    console.error(`v6lab: missing Debian packages (install them as root): ${missing.join(' ')}`);
  }
}
