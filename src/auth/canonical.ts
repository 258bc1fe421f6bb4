/**
 * The canonicalisation primitives the OSS, RPC and MNS signature verifiers (and the MNS push signer) share:
 * RFC 3986 percent-encoding over UTF-8 bytes, the code-unit order the SDKs sort names in, header lookup
 * whatever the case of the name, the V1-style `x-oss-*` / `x-mns-*` header block, and the hashes. One copy each.
 */
import { createHash, createHmac } from 'node:crypto';

/** Headers as Node gives them (IncomingHttpHeaders) or as a caller builds them (any case, numbers allowed). */
export type HeaderRecord = Readonly<Record<string, string | number | readonly string[] | undefined>>;

const joined = (v: string | number | readonly string[]): string => (Array.isArray(v) ? v.join(',') : String(v));

/** A header's value whatever the case of its name (repeated values joined with ','); undefined when absent. */
export function headerValue(headers: HeaderRecord, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [key, raw] of Object.entries(headers)) {
    if (raw !== undefined && key.toLowerCase() === want) return joined(raw);
  }
  return undefined;
}

/** Every header as [lower-cased name, value] (repeated values joined with ','); a later spelling of a name wins. */
export function lowerCasedHeaders(headers: HeaderRecord): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, raw] of Object.entries(headers)) if (raw !== undefined) out.set(key.toLowerCase(), joined(raw));
  return out;
}

/**
 * The V1 header block of the OSS and MNS string-to-sign: every header whose (lower-case) name starts with
 * `prefix`, sorted by name, each as `name:value\n`.
 */
export function canonicalizedPrefixedHeaders(headers: ReadonlyMap<string, string>, prefix: string): string {
  return [...headers.entries()]
    .filter(([name]) => name.startsWith(prefix))
    .sort(([a], [b]) => compareCodeUnits(a, b))
    .map(([name, value]) => `${name}:${value}\n`)
    .join('');
}

/** Hex SHA-256 (the ACS3 and OSS V4 canonical-request and payload hashes). */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** HMAC-SHA256 (the ACS3 signature, the OSS V4 signing-key chain). */
export function hmacSha256(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

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
