/**
 * Where adb keys live and how a handset learns which hosts it accepts: the adb server's own key
 * ($HOME/.android/adbkey, made if missing as the server would make it), the keys of
 * ADB_VENDOR_KEYS, key files a user names, and the accepted-keys file (Android's
 * /data/misc/adb/adb_keys format: one adbkey.pub line per key) the daemon is started with.
 *
 * What adb 29 does (client/auth.cpp): the server signs with $HOME/.android/adbkey (made by
 * generate_key at its first start, with adbkey.pub beside it), then with each key of
 * ADB_VENDOR_KEYS (colon-separated files, or directories whose `*.adb_key` files are keys). The
 * variable is ADB_VENDOR_KEYS, as `adb help` says; measured with Debian's adb 29: a server given
 * ANDROID_VENDOR_KEYS loads nothing from it.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import debug from 'debug';
import { writeFileWhole } from '../../config/files.js';
import { type AdbPublicKey, decodeAndroidPublicKey, encodeAndroidPublicKey, formatAdbPublicKey, generateAdbKeyPair, parseAdbKeys } from './auth.js';
import { AdbKeyError } from './errors.js';

const log = debug('v6lab:adbd:keys');

/** The adb server's own private key for this environment: $HOME/.android/adbkey (adb_get_android_dir_path). */
export function userAdbKeyPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.HOME || homedir(), '.android', 'adbkey');
}

/**
 * The public key of a key file: a private or public PEM key (adbkey, a vendor `.adb_key`), or
 * adb's public form (adbkey.pub, or an adb_keys file of several lines).
 */
export function readKeyFile(file: string): AdbPublicKey[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AdbKeyError(file, `cannot read it: ${(error as Error).message}`);
  }
  if (!text.includes('-----BEGIN')) return parseAdbKeys(text, file);
  let publicKey: ReturnType<typeof createPublicKey>;
  try {
    publicKey = text.includes('PRIVATE KEY-----') ? createPublicKey(createPrivateKey(text)) : createPublicKey(text);
  } catch (error) {
    throw new AdbKeyError(file, `not a PEM RSA key: ${(error as Error).message}`);
  }
  // Through the struct and back: the same checks as a key that came in adb's own form.
  return [decodeAndroidPublicKey(encodeAndroidPublicKey(publicKey), file, file)];
}

/** The key files ADB_VENDOR_KEYS names: files as they are, `*.adb_key` in directories; missing ones skipped, as adb does. */
export function vendorKeyFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const files: string[] = [];
  for (const path of (env.ADB_VENDOR_KEYS ?? '').split(':')) {
    if (path === '' || !existsSync(path)) continue;
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) if (name.endsWith('.adb_key')) files.push(join(path, name));
    } else {
      files.push(path);
    }
  }
  return files;
}

/**
 * Makes $HOME/.android/adbkey (and adbkey.pub) when it does not exist yet, as the adb server
 * would at its first start: with `adb keygen` when adb is installed, else the same way (2048-bit
 * RSA, exponent 65537, PKCS#8 PEM, mode 0600; adbkey.pub with `user@host`). Done before any adb
 * server starts, so the server uses the key the handsets accept. When HOME belongs to another
 * user (`sudo -E`), the files are given to that user, whose adb server must read them.
 */
export function ensureUserAdbKey(env: NodeJS.ProcessEnv = process.env): string {
  const file = userAdbKeyPath(env);
  if (existsSync(file)) return file;
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  let made = false;
  try {
    execFileSync('adb', ['keygen', file], { env: { ...env }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    made = existsSync(file);
  } catch (error) {
    log('adb keygen %s: %s; generating the key here', file, (error as Error).message);
  }
  if (!made) {
    const { privateKey, publicKey } = generateAdbKeyPair();
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    writeFileSync(`${file}.pub`, formatAdbPublicKey(publicKey, `${userInfo().username}@${hostname()}`), { mode: 0o644, flag: 'wx' });
  }
  const owner = statSync(dirname(dir));
  if (owner.uid !== process.getuid?.()) {
    for (const path of [dir, file, `${file}.pub`]) if (existsSync(path)) chownSync(path, owner.uid, owner.gid);
  }
  return file;
}

/**
 * The keys a handset accepts unless told more: the adb server's own key of this environment
 * (made first if missing) and those of ADB_VENDOR_KEYS.
 */
export function defaultAcceptedKeys(env: NodeJS.ProcessEnv = process.env): AdbPublicKey[] {
  return [ensureUserAdbKey(env), ...vendorKeyFiles(env)].flatMap(readKeyFile);
}

/** Writes the accepted keys in adb_keys form, one `base64 comment` line each (mode 0644: public keys). */
export function writeAcceptedKeys(file: string, keys: readonly AdbPublicKey[]): void {
  // A comment may not hold a line end: the file is one key per line.
  const lines = keys.map((k) => `${formatAdbPublicKey(k.key, k.comment.replace(/[\r\n\0]/g, ' '))}\n`);
  writeFileWhole(file, lines.join(''), { mode: 0o644 });
}

/** The accepted keys as writeAcceptedKeys wrote them; AdbKeyError naming file and line if damaged, or if there is none. */
export function readAcceptedKeys(file: string): AdbPublicKey[] {
  const keys = readKeyFile(file);
  if (keys.length === 0) throw new AdbKeyError(file, 'no key: the handsets would accept no adb server (v6lab lab up writes it)');
  return keys;
}
