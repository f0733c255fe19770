/**
 * adb's RSA authentication, as pure functions: the public-key format of adbkey.pub and adb_keys,
 * and the token signature. No I/O here (./keys.ts reads and writes key files).
 *
 * References (Android 10, the adb 29 Debian ships): system/core/adb/protocol.txt (AUTH),
 * adb_auth.h (the three AUTH types, TOKEN_SIZE), daemon/auth.cpp (adbd_auth_verify: RSA_verify
 * with NID_sha1 over the token), client/auth.cpp (adb_auth_sign, the host side),
 * libcrypto_utils/android_pubkey.c (the RSAPublicKey struct).
 */
import { constants, createHash, createPublicKey, generateKeyPairSync, type KeyObject, privateEncrypt, publicDecrypt } from 'node:crypto';
import { AdbKeyError } from './errors.js';

/** AUTH's arg0 (adb_auth.h). */
export const AUTH_TYPE = {
  /** Device -> host: a token to sign. */
  TOKEN: 1,
  /** Host -> device: the token signed with one of its private keys. */
  SIGNATURE: 2,
  /** Host -> device: its public key (adbkey.pub's text and a NUL), for the user to accept. */
  RSAPUBLICKEY: 3,
} as const;

/** Bytes of a token (TOKEN_SIZE): the size of a SHA-1 digest, which the host signs it as. */
export const TOKEN_SIZE = 20;

/** Words of the modulus in the struct (ANDROID_PUBKEY_MODULUS_SIZE / 4): adb keys are 2048-bit. */
const MODULUS_WORDS = 64;
const MODULUS_BYTES = MODULUS_WORDS * 4;
/** sizeof(RSAPublicKey): len, n0inv, n[64], rr[64], exponent. */
export const ANDROID_PUBKEY_SIZE = 4 + 4 + MODULUS_BYTES + MODULUS_BYTES + 4;

/**
 * DER of DigestInfo { sha1, NULL } up to the digest (RFC 8017 section 9.2, note 1): what
 * RSA_sign(NID_sha1) puts before the 20 bytes it signs.
 */
const SHA1_DIGEST_INFO = Buffer.from('3021300906052b0e03021a05000414', 'hex');

export interface AdbPublicKey {
  key: KeyObject;
  /** The modulus, for comparing keys and for messages (its fingerprint). */
  modulus: bigint;
  exponent: number;
  /** What follows the base64 (adb writes `user@host`); '' if nothing. */
  comment: string;
}

const TWO_32 = 1n << 32n;

/** Little-endian u32 words from `offset` as one integer. */
function readWordsLE(buf: Buffer, offset: number, words: number): bigint {
  let value = 0n;
  for (let i = words - 1; i >= 0; i--) value = (value << 32n) | BigInt(buf.readUInt32LE(offset + 4 * i));
  return value;
}

function writeWordsLE(buf: Buffer, offset: number, words: number, value: bigint): void {
  let rest = value;
  for (let i = 0; i < words; i++) {
    buf.writeUInt32LE(Number(rest & 0xffffffffn), offset + 4 * i);
    rest >>= 32n;
  }
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

/** -1 / n mod 2^32 (android_pubkey.c's n0inv), n odd. */
function n0inv(modulus: bigint): bigint {
  // Newton's iteration for the inverse mod 2^32: each step doubles the correct low bits.
  const n0 = modulus % TWO_32;
  let inverse = 1n;
  for (let i = 0; i < 5; i++) inverse = (inverse * (2n - n0 * inverse)) % TWO_32;
  return (TWO_32 - ((inverse + TWO_32) % TWO_32)) % TWO_32;
}

function base64url(value: bigint): string {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex').toString('base64url');
}

/**
 * Decodes Android's RSAPublicKey struct (524 bytes) into a key. Checks what android_pubkey.c
 * relies on: len 64, an odd full-size modulus, n0inv and rr consistent with it, and an exponent
 * of 3 or 65537 (the two adb has ever written). `where` names the source for errors.
 */
export function decodeAndroidPublicKey(struct: Buffer, where: string, comment = ''): AdbPublicKey {
  if (struct.length !== ANDROID_PUBKEY_SIZE) throw new AdbKeyError(where, `key struct is ${struct.length} bytes, expected ${ANDROID_PUBKEY_SIZE}`);
  const len = struct.readUInt32LE(0);
  if (len !== MODULUS_WORDS) throw new AdbKeyError(where, `len is ${len} words, expected ${MODULUS_WORDS} (a 2048-bit key)`);
  const modulus = readWordsLE(struct, 8, MODULUS_WORDS);
  if (modulus >> BigInt(MODULUS_BYTES * 8 - 1) !== 1n || (modulus & 1n) === 0n) throw new AdbKeyError(where, 'modulus is not an odd 2048-bit number');
  if (BigInt(struct.readUInt32LE(4)) !== n0inv(modulus)) throw new AdbKeyError(where, 'n0inv does not match the modulus');
  const rr = readWordsLE(struct, 8 + MODULUS_BYTES, MODULUS_WORDS);
  if (rr !== modPow(2n, BigInt(2 * MODULUS_BYTES * 8), modulus)) throw new AdbKeyError(where, 'rr is not R^2 mod n');
  const exponent = struct.readUInt32LE(8 + 2 * MODULUS_BYTES);
  if (exponent !== 3 && exponent !== 65537) throw new AdbKeyError(where, `exponent ${exponent} is neither 3 nor 65537`);
  const key = createPublicKey({ key: { kty: 'RSA', n: base64url(modulus), e: base64url(BigInt(exponent)) }, format: 'jwk' });
  return { key, modulus, exponent, comment };
}

/** Android's RSAPublicKey struct of a 2048-bit RSA key (android_pubkey_encode). */
export function encodeAndroidPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || jwk.n === undefined || jwk.e === undefined) throw new AdbKeyError('key', 'not an RSA key');
  const modulus = BigInt(`0x${Buffer.from(jwk.n, 'base64url').toString('hex')}`);
  const exponent = Number(BigInt(`0x${Buffer.from(jwk.e, 'base64url').toString('hex')}`));
  if (modulus >> BigInt(MODULUS_BYTES * 8) !== 0n || modulus >> BigInt(MODULUS_BYTES * 8 - 1) !== 1n) throw new AdbKeyError('key', 'adb keys are 2048-bit');
  const out = Buffer.alloc(ANDROID_PUBKEY_SIZE);
  out.writeUInt32LE(MODULUS_WORDS, 0);
  out.writeUInt32LE(Number(n0inv(modulus)), 4);
  writeWordsLE(out, 8, MODULUS_WORDS, modulus);
  writeWordsLE(out, 8 + MODULUS_BYTES, MODULUS_WORDS, modPow(2n, BigInt(2 * MODULUS_BYTES * 8), modulus));
  out.writeUInt32LE(exponent, 8 + 2 * MODULUS_BYTES);
  return out;
}

// One line of adbkey.pub or adb_keys: "QAAAAB...AQA= user@host" (adb writes no newline after it).
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * One public key in adb's text form: the struct in base64, then optionally a space and a comment.
 * A trailing NUL (as the host sends it in AUTH RSAPUBLICKEY) and line end are ignored.
 */
export function parseAdbPublicKey(line: string, where: string): AdbPublicKey {
  const text = line.replace(/\0+$/, '').trim();
  const space = text.search(/\s/);
  const encoded = space < 0 ? text : text.slice(0, space);
  const comment = space < 0 ? '' : text.slice(space).trim();
  if (encoded === '') throw new AdbKeyError(where, 'no key');
  if (encoded.length > 1024 || !BASE64.test(encoded)) throw new AdbKeyError(where, 'the key is not base64 (expected the text of an adbkey.pub)');
  return decodeAndroidPublicKey(Buffer.from(encoded, 'base64'), where, comment);
}

/** adbkey.pub's text for `key`: base64 of the struct, a space, the comment (adb writes `user@host`). */
export function formatAdbPublicKey(key: KeyObject, comment: string): string {
  return `${encodeAndroidPublicKey(key).toString('base64')} ${comment}`;
}

/**
 * Every key of an adb_keys-style text: one key per line (an adbkey.pub is one such line); blank
 * lines and `#` comments are skipped. `file` names the source in errors, with the line number.
 */
export function parseAdbKeys(text: string, file: string): AdbPublicKey[] {
  const keys: AdbPublicKey[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    keys.push(parseAdbPublicKey(line, `${file} line ${i + 1}`));
  });
  return keys;
}

/**
 * Whether `signature` is `token` signed by `key` as adb signs it: RSA PKCS#1 v1.5 with the token
 * as a SHA-1 digest (RSA_sign(NID_sha1, token)). The block is recovered with the public key and
 * compared whole, so a signature of anything else, or of the token under another hash, fails.
 */
export function verifyTokenSignature(key: AdbPublicKey, token: Buffer, signature: Buffer): boolean {
  if (token.length !== TOKEN_SIZE || signature.length !== MODULUS_BYTES) return false;
  let block: Buffer;
  try {
    block = publicDecrypt({ key: key.key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
  return block.length === SHA1_DIGEST_INFO.length + TOKEN_SIZE && block.equals(Buffer.concat([SHA1_DIGEST_INFO, token]));
}

/** The first of `keys` whose signature `signature` is, or null. */
export function findSigner(keys: readonly AdbPublicKey[], token: Buffer, signature: Buffer): AdbPublicKey | null {
  return keys.find((key) => verifyTokenSignature(key, token, signature)) ?? null;
}

/** `token` signed as the adb host signs it (adb_auth_sign): for the lab's own client and tests. */
export function signToken(privateKey: KeyObject, token: Buffer): Buffer {
  if (token.length !== TOKEN_SIZE) throw new AdbKeyError('token', `is ${token.length} bytes, expected ${TOKEN_SIZE}`);
  return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA1_DIGEST_INFO, token]));
}

/** A key pair as adb keygen makes one: 2048-bit RSA, exponent 65537. */
export function generateAdbKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: MODULUS_BYTES * 8, publicExponent: 65537 });
}

/** The fingerprint a phone's "Allow USB debugging?" prompt shows: MD5 of the key struct, as AA:BB:... */
export function keyFingerprint(key: AdbPublicKey): string {
  const digest = createHash('md5').update(encodeAndroidPublicKey(key.key)).digest('hex').toUpperCase();
  return digest.match(/../g)!.join(':');
}
