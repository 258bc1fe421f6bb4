/**
 * The canonicalisation primitives the OSS, RPC and MNS signature verifiers share: RFC 3986 percent-encoding
 * over UTF-8 bytes, the code-unit order the SDKs sort names in, and HMAC-SHA1 in base64. One copy each.
 */
import { createHmac } from 'node:crypto';

/** RFC 3986 unreserved bytes: A-Z a-z 0-9 - _ . ~ */
function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x2d ||
    byte === 0x5f ||
    byte === 0x2e ||
    byte === 0x7e
  );
}

/**
 * RFC 3986 UriEncode over UTF-8 bytes: unreserved bytes literal (and '/' when `keepSlash`), every other byte
 * `%XY` (upper-case hex); space is `%20`, `*` is `%2A`, `~` stays literal.
 *
 * Byte-wise rather than `encodeURIComponent(...).replace(...)`: same output, but a lone surrogate (which a lenient
 * decoder upstream could produce) becomes the UTF-8 of U+FFFD instead of throwing URIError.
 */
export function percentEncode(s: string, keepSlash = false): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    out += isUnreserved(byte) || (keepSlash && byte === 0x2f) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Plain UTF-16 code-unit order, as the JS SDKs' `Object.keys(...).sort()`; equals byte order for ASCII names. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Base64(HMAC-SHA1(key, data)), the V1 OSS, RPC v1 and MNS signature. */
export function hmacSha1Base64(key: string, data: string): string {
  return createHmac('sha1', key).update(data, 'utf8').digest('base64');
}
