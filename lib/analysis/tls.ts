/**
 * TLS ClientHello server_name (RFC 8446 section 4.1.2, RFC 6066 section 3), read from the first
 * bytes a client sends. Pure: callers gather the bytes (a ClientHello can span TCP segments and
 * TLS records) and ask again when `needBytes` says more are coming.
 */

/** TLS content type handshake and handshake type client_hello (RFC 8446 appendix B). */
const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXTENSION_SERVER_NAME = 0;
const NAME_TYPE_HOST = 0;
/** A ClientHello larger than this is not one we will wait for. */
export const MAX_CLIENT_HELLO = 65536;

export type ClientHelloResult = { kind: 'not-tls' } | { kind: 'need-more'; needBytes: number } | { kind: 'client-hello'; sni: string | null };

/** Whether `bytes` could begin a TLS handshake record (type 22, version 3.x). */
export function looksLikeTlsHandshake(bytes: Uint8Array, offset: number, length: number): boolean {
  return length >= 3 && bytes[offset] === CONTENT_HANDSHAKE && bytes[offset + 1] === 3 && bytes[offset + 2]! <= 4;
}

/** Reads the SNI from the start of a client's byte stream (`bytes[0]` is a record header). */
export function parseClientHello(bytes: Uint8Array): ClientHelloResult {
  // The usual ClientHello: the whole handshake message in the first record, read in place (the
  // loop below gives the same answer with an array, views and maybe a copy per ClientHello).
  if (bytes.length >= 9 && bytes[0] === CONTENT_HANDSHAKE && bytes[1] === 3) {
    const recordLength = (bytes[3]! << 8) | bytes[4]!;
    if (recordLength >= 4 && recordLength <= 16384 + 256 && bytes.length - 5 >= recordLength) {
      if (bytes[5] !== HANDSHAKE_CLIENT_HELLO) return { kind: 'not-tls' };
      const wanted = 4 + ((bytes[6]! << 16) | (bytes[7]! << 8) | bytes[8]!);
      if (wanted > MAX_CLIENT_HELLO) return { kind: 'not-tls' };
      if (wanted <= recordLength) return { kind: 'client-hello', sni: serverName(bytes, 5, 5 + wanted) };
    }
  }
  // Join the handshake fragments of consecutive handshake records (RFC 8446 section 5.1); the
  // usual ClientHello sits in one record and is read in place.
  const fragments: Uint8Array[] = [];
  let gathered = 0;
  let at = 0;
  let wanted = -1;
  while (wanted < 0 || gathered < wanted) {
    if (bytes.length - at < 5) return { kind: 'need-more', needBytes: at + 5 };
    if (bytes[at] !== CONTENT_HANDSHAKE || bytes[at + 1] !== 3) return { kind: 'not-tls' };
    const recordLength = (bytes[at + 3]! << 8) | bytes[at + 4]!;
    if (recordLength === 0 || recordLength > 16384 + 256) return { kind: 'not-tls' };
    if (bytes.length - at - 5 < recordLength) return { kind: 'need-more', needBytes: at + 5 + recordLength };
    fragments.push(bytes.subarray(at + 5, at + 5 + recordLength));
    gathered += recordLength;
    at += 5 + recordLength;
    if (wanted < 0 && gathered >= 4) {
      const head = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return { kind: 'not-tls' };
      wanted = 4 + ((head[1]! << 16) | (head[2]! << 8) | head[3]!);
      if (wanted > MAX_CLIENT_HELLO) return { kind: 'not-tls' };
    }
  }
  const hello = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
  return { kind: 'client-hello', sni: serverName(hello, 0, wanted) };
}

/** server_name from a whole ClientHello handshake message in hello[start..end); null when it has none or is malformed. */
function serverName(hello: Uint8Array, start: number, end: number): string | null {
  // type(1) length(3) legacy_version(2) random(32)
  let at = start + 4 + 2 + 32;
  if (at + 1 > end) return null;
  at += 1 + hello[at]!; // legacy_session_id
  if (at + 2 > end) return null;
  at += 2 + ((hello[at]! << 8) | hello[at + 1]!); // cipher_suites
  if (at + 1 > end) return null;
  at += 1 + hello[at]!; // legacy_compression_methods
  if (at + 2 > end) return null;
  const extensionsEnd = Math.min(end, at + 2 + ((hello[at]! << 8) | hello[at + 1]!));
  at += 2;
  while (at + 4 <= extensionsEnd) {
    const type = (hello[at]! << 8) | hello[at + 1]!;
    const length = (hello[at + 2]! << 8) | hello[at + 3]!;
    const body = at + 4;
    if (body + length > extensionsEnd) return null;
    if (type === EXTENSION_SERVER_NAME) {
      // server_name_list length(2), then entries: name_type(1) length(2) name
      let entry = body + 2;
      const listEnd = Math.min(body + length, body + 2 + ((hello[body]! << 8) | hello[body + 1]!));
      while (entry + 3 <= listEnd) {
        const nameLength = (hello[entry + 1]! << 8) | hello[entry + 2]!;
        if (entry + 3 + nameLength > listEnd) return null;
        if (hello[entry] === NAME_TYPE_HOST) {
          const from = Buffer.isBuffer(hello) ? hello : Buffer.from(hello.buffer, hello.byteOffset, hello.byteLength);
          return from.toString('latin1', entry + 3, entry + 3 + nameLength);
        }
        entry += 3 + nameLength;
      }
      return null;
    }
    at = body + length;
  }
  return null;
}

/**
 * A QUIC long-header Initial packet (RFC 9000 section 17.2.2): header form and fixed bit set,
 * packet type 0, a known version. Recognised without decrypting it.
 */
export function looksLikeQuicInitial(bytes: Uint8Array, offset: number, length: number): boolean {
  if (length < 7) return false;
  const first = bytes[offset]!;
  if ((first & 0xc0) !== 0xc0) return false;
  const version = ((bytes[offset + 1]! << 24) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 8) | bytes[offset + 4]!) >>> 0;
  // QUIC v2 (RFC 9369) numbers the Initial type 1; v1 and drafts 0.
  const type = (first >> 4) & 0x03;
  if (version === 0x6b3343cf) return type === 1;
  if (version !== 0x00000001 && (version & 0xffffff00) !== 0xff000000) return false;
  const dcidLength = bytes[offset + 5]!;
  return type === 0 && dcidLength <= 20 && length >= 1200 - 64;
}
