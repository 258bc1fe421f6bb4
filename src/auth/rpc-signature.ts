/**
 * Verification of IMM RPC request signatures (spec/imm.md §1.5 RPC v1 HMAC-SHA1, §1.6 ACS3-HMAC-SHA256), with the
 * gateway error codes of §2.3.
 *
 * Pure: no I/O, no clock, no nonce store. The caller passes the decoded query/form pairs, the current time and a
 * credential lookup, and records the returned nonce itself (replay detection lives in the database).
 *
 * Every failure is a `MedleyError` with an `Imm*` catalog entry; malformed input never escapes as a
 * TypeError/URIError.
 */
import { compareCodeUnits, headerValue, hmacSha1Base64, hmacSha256, percentEncode, sha256Hex } from './canonical.js';
import type { IncomingHttpHeaders } from 'node:http';
import { fail } from '../errors.js';
import { constantTimeEqual, type Credential, type CredentialLookup } from './credentials.js';

export interface RpcSignedRequest {
  /** Upper case, e.g. 'POST' (upper-cased again here, defensively). */
  method: string;
  /** Path + raw query exactly as received, e.g. '/?Action=GetTask&...'. */
  rawUrl: string;
  headers: IncomingHttpHeaders;
  /** Raw body bytes (empty when none). */
  body: Buffer;
  /** Decoded query pairs in order (percent-decoded, '+' as space). */
  query: [string, string][];
  /** Decoded form-body pairs (only when content-type is application/x-www-form-urlencoded), else []. */
  form: [string, string][];
}

export interface RpcAuth {
  accessKeyId: string;
  credential: Credential;
  algorithm: 'HMAC-SHA1' | 'ACS3-HMAC-SHA256';
  nonce: string;
  /** Signing time from Timestamp / x-acs-date. */
  signedAt: Date;
}

export interface RpcVerifyOptions {
  now: Date;
  lookup: CredentialLookup;
  /** Allowed |signing time - server time|; default 15 min (spec §1.4, §1.6 step 9). */
  maxSkewMs?: number;
}

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';
const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

/** Spec §1.6 step 4 [REC]: a V3 signature that leaves any of these out does not bind the request. */
export const ACS3_REQUIRED_SIGNED_HEADERS: readonly string[] = [
  'host',
  'x-acs-action',
  'x-acs-version',
  'x-acs-date',
  'x-acs-signature-nonce',
  'x-acs-content-sha256',
];

const INCOMPLETE_SIGNATURE = 'The request signature does not conform to Aliyun standards.';
const ACS3_AUTHORIZATION_SHAPE = 'Authorization must be "ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2;...>,Signature=<hex>"';

// ---------------------------------------------------------------------------------------------------------------
// Primitives (exported for tests and for anyone who has to produce the same strings)
// ---------------------------------------------------------------------------------------------------------------

export { percentEncode } from './canonical.js';

/**
 * Spec §1.5 steps 2-5. `params` are decoded pairs; the caller leaves `Signature` out. `method` is used verbatim (the
 * Darabonba unit test signs with method '').
 */
export function rpcV1StringToSign(method: string, params: [string, string][]): string {
  // Array.prototype.sort is stable, so a repeated name keeps its arrival order.
  const canonical = [...params]
    .sort(([a], [b]) => compareCodeUnits(a, b))
    .map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`)
    .join('&');
  return `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
}

/** Spec §1.5 step 6: Base64(HMAC-SHA1(secret + '&', StringToSign)). The '&' is where an RSA-era token secret went. */
export function rpcV1Signature(secret: string, stringToSign: string): string {
  return hmacSha1Base64(`${secret}&`, stringToSign);
}

/**
 * `%XX` → bytes → UTF-8 and '+' → space. A malformed escape or invalid UTF-8 is refused (a MedleyError, never a
 * URIError): no SDK produces one, and guessing how the client meant it would only turn it into a confusing
 * SignatureDoesNotMatch.
 */
function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return fail('ImmInvalidParameter', `The specified parameter "querystring" is not valid: malformed percent-encoding in "${raw}".`);
  }
}

/**
 * Splits a raw `a=1&b&c=` query (or form body) into decoded pairs, in order. Empty segments (`&&`, a trailing `&`)
 * are skipped; a bare `b` is `['b', '']`.
 */
export function parseQueryPairs(rawQuery: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const segment of rawQuery.split('&')) {
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    const name = eq < 0 ? segment : segment.slice(0, eq);
    const value = eq < 0 ? '' : segment.slice(eq + 1);
    pairs.push([decodeComponent(name), decodeComponent(value)]);
  }
  return pairs;
}

/**
 * Spec §1.6 step 3: the raw query decoded, sorted by name, rendered `name=percentEncode(value)` and joined with '&'.
 * Names are not re-encoded, as the Node SDK does (identical for IMM's ASCII names).
 */
export function acs3CanonicalQuery(rawQuery: string): string {
  return parseQueryPairs(rawQuery)
    .sort(([a], [b]) => compareCodeUnits(a, b))
    .map(([name, value]) => `${name}=${percentEncode(value)}`)
    .join('&');
}

export interface Acs3CanonicalInput {
  method: string;
  /** Path + raw query as received. */
  rawUrl: string;
  headers: IncomingHttpHeaders;
  /** Lower-case header names from the Authorization header's SignedHeaders. */
  signedHeaders: readonly string[];
  /** Lower-case hex SHA-256 of the raw body. */
  hashedPayload: string;
}

/**
 * Canonical value of one signed header (spec §1.6 step 4): trimmed; several values are trimmed, sorted and joined
 * with ','. Node's IncomingMessage already joins most repeated headers with ', ' into one string, which is then
 * signed as that one string; only a caller that passes an array (headersDistinct) gets the sorted form.
 */
function canonicalHeaderValue(headers: Map<string, string[]>, name: string): string {
  const values = headers.get(name) ?? [];
  if (values.length === 1) return (values[0] ?? '').trim();
  return values
    .map((v) => v.trim())
    .sort(compareCodeUnits)
    .join(',');
}

/** Lower-cased names (callers should already have) → every value, so lookups never miss on case or arrays. */
function normalizeHeaders(headers: IncomingHttpHeaders): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const lower = name.toLowerCase();
    const values = out.get(lower) ?? [];
    values.push(...(Array.isArray(raw) ? raw : [raw]));
    out.set(lower, values);
  }
  return out;
}

/** Signed headers in the order they are canonicalized: lower case, sorted, no repeats. */
function sortedSignedHeaders(names: readonly string[]): string[] {
  return [...new Set(names.map((n) => n.toLowerCase()))].sort(compareCodeUnits);
}

/** Spec §1.6 step 6. */
export function acs3CanonicalRequest(input: Acs3CanonicalInput): string {
  const q = input.rawUrl.indexOf('?');
  const path = q < 0 ? input.rawUrl : input.rawUrl.slice(0, q);
  const rawQuery = q < 0 ? '' : input.rawUrl.slice(q + 1);
  const headers = normalizeHeaders(input.headers);
  const signed = sortedSignedHeaders(input.signedHeaders);
  const canonicalHeaders = signed.map((name) => `${name}:${canonicalHeaderValue(headers, name)}\n`).join('');
  return [
    input.method,
    path === '' ? '/' : path,
    acs3CanonicalQuery(rawQuery),
    // canonicalHeaders already ends with '\n', so the join leaves a blank line before SignedHeaders.
    canonicalHeaders,
    signed.join(';'),
    input.hashedPayload,
  ].join('\n');
}

/** Spec §1.6 step 7. */
export function acs3StringToSign(canonicalRequest: string): string {
  return `${ACS3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
}

/** Spec §1.6 step 8: hex(HMAC-SHA256(secret, StringToSign)); unlike v1 the key has no '&' suffix. */
export function acs3Signature(secret: string, stringToSign: string): string {
  return hmacSha256(secret, stringToSign).toString('hex');
}

// ---------------------------------------------------------------------------------------------------------------
// Shared checks
// ---------------------------------------------------------------------------------------------------------------

function missing(name: string): never {
  return fail('ImmMissingParameter', `The input parameter "${name}" that is mandatory for processing this request is not supplied.`);
}

function incomplete(why: string): never {
  return fail('ImmIncompleteSignature', `${INCOMPLETE_SIGNATURE} ${why}`);
}

function mismatch(stringToSign: string, details?: Record<string, string>): never {
  return fail('SignatureDoesNotMatch', `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`, details);
}

/** `yyyy-MM-ddTHH:mm:ssZ`, optionally with fractional seconds; UTC only (no offsets). */
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** Timestamp / x-acs-date → Date, or InvalidTimeStamp.Format. Rejects impossible dates (month 13, Feb 30, ...). */
function parseSigningTime(raw: string, name: string): Date {
  const m = ISO_UTC.exec(raw);
  const bad = (): never =>
    fail('ImmInvalidTimeStampFormat', `Specified time stamp or date value is not well formatted. ${name} "${raw}" must be UTC ISO-8601, yyyy-MM-ddTHH:mm:ssZ.`);
  if (!m) return bad();
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC rolls over out-of-range fields (and maps years 0-99 to 19xx); a round trip that changes a field means
  // the input named no real instant.
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  ) {
    return bad();
  }
  const fractionMs = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  return new Date(ms + fractionMs);
}

/** The signing time bounds replay together with the nonce window (spec §1.4), so both directions count. */
function checkSkew(signedAt: Date, raw: string, name: string, opts: RpcVerifyOptions): void {
  const maxSkewMs = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (Math.abs(signedAt.getTime() - opts.now.getTime()) <= maxSkewMs) return;
  fail(
    'ImmInvalidTimeStampExpired',
    `Specified time stamp or date value is expired. ${name} ${raw} is more than ${Math.round(maxSkewMs / 1000)} seconds away from the server time ${opts.now.toISOString()}.`,
  );
}

/** AccessKeyId → credential; unknown ids and expired temporary credentials both read as "not found". */
function resolveCredential(lookup: CredentialLookup, accessKeyId: string, now: Date): Credential {
  const credential = lookup(accessKeyId);
  if (credential === undefined) return fail('InvalidAccessKeyId', 'Specified access key is not found.');
  if (credential.expiresAt !== undefined && credential.expiresAt.getTime() <= now.getTime()) {
    fail('InvalidAccessKeyId', 'Specified access key is not found: the temporary access key has expired.');
  }
  return credential;
}

/**
 * STS: a temporary key is only valid with its token, and a token must not ride on a key it was not issued for.
 * Runs after the signature check, so the token compared here is known to be the one the client signed.
 * An empty value counts as absent.
 */
function checkSecurityToken(provided: string | undefined, credential: Credential, name: string): void {
  const token = provided === '' ? undefined : provided;
  if (credential.securityToken === undefined) {
    if (token !== undefined) fail('InvalidSecurityToken', `Specified SecurityToken is not valid: ${name} was sent with an access key that is not temporary.`);
    return;
  }
  if (token === undefined) fail('InvalidSecurityToken', `Specified SecurityToken is not valid: temporary credentials require ${name}.`);
  if (!constantTimeEqual(token, credential.securityToken)) fail('InvalidSecurityToken', `Specified SecurityToken is not valid: ${name} does not match the access key.`);
}

// ---------------------------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------------------------

/**
 * Detects the signing mode (spec §1.6, end) and verifies it. Does NOT check nonce replay: the caller records
 * `nonce` for `accessKeyId` and refuses a repeat.
 */
export function verifyRpcRequest(req: RpcSignedRequest, opts: RpcVerifyOptions): RpcAuth {
  const authorization = headerValue(req.headers, 'authorization')?.trim();
  if (authorization?.startsWith('ACS3-')) return verifyAcs3(req, authorization, opts);
  if ([...req.query, ...req.form].some(([name]) => name === 'Signature')) return verifyV1(req, opts);
  return missing('Signature');
}

// ---------------------------------------------------------------------------------------------------------------
// RPC v1 (HMAC-SHA1, spec §1.5)
// ---------------------------------------------------------------------------------------------------------------

/** The single value of a parameter; a repeated authentication parameter would be ambiguous, so it is refused. */
function singleParam(params: [string, string][], name: string): string | undefined {
  const found = params.filter(([n]) => n === name);
  if (found.length > 1) fail('ImmInvalidParameter', `The specified parameter "${name}" is not valid: it must not be repeated.`);
  return found[0]?.[1];
}

/** Present and non-empty, else MissingParameter naming it (the gateway treats `Name=` as not supplied). */
function requiredParam(params: [string, string][], name: string): string {
  const value = singleParam(params, name);
  if (value === undefined || value === '') return missing(name);
  return value;
}

function verifyV1(req: RpcSignedRequest, opts: RpcVerifyOptions): RpcAuth {
  const params = [...req.query, ...req.form];
  const accessKeyId = requiredParam(params, 'AccessKeyId');
  // Base64 never contains a space: a space here is a '+' the client left unencoded and the decoder turned to ' '.
  const signature = requiredParam(params, 'Signature').replace(/ /g, '+');
  const nonce = requiredParam(params, 'SignatureNonce');
  const timestamp = requiredParam(params, 'Timestamp');

  const method = singleParam(params, 'SignatureMethod');
  if (method !== undefined && method !== 'HMAC-SHA1') incomplete(`Unsupported SignatureMethod "${method}": only HMAC-SHA1 is supported.`);
  const version = singleParam(params, 'SignatureVersion');
  if (version !== undefined && version !== '1.0') incomplete(`Unsupported SignatureVersion "${version}": only 1.0 is supported.`);

  const signedAt = parseSigningTime(timestamp, 'Timestamp');
  checkSkew(signedAt, timestamp, 'Timestamp', opts);
  const credential = resolveCredential(opts.lookup, accessKeyId, opts.now);

  const stringToSign = rpcV1StringToSign(
    req.method.toUpperCase(),
    params.filter(([name]) => name !== 'Signature'),
  );
  if (!constantTimeEqual(rpcV1Signature(credential.secret, stringToSign), signature)) mismatch(stringToSign);
  checkSecurityToken(singleParam(params, 'SecurityToken'), credential, 'SecurityToken');
  return { accessKeyId, credential, algorithm: 'HMAC-SHA1', nonce, signedAt };
}

// ---------------------------------------------------------------------------------------------------------------
// ACS3-HMAC-SHA256 (spec §1.6)
// ---------------------------------------------------------------------------------------------------------------

interface Acs3Authorization {
  accessKeyId: string;
  /** Lower case, sorted, no repeats. */
  signedHeaders: string[];
  /** Lower-case hex. */
  signature: string;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Spec §1.6 step 1. Anything but the exact three fields (spaces after commas tolerated) is IncompleteSignature. */
export function parseAcs3Authorization(authorization: string): Acs3Authorization {
  const value = authorization.trim();
  const space = value.search(/\s/);
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== ACS3_ALGORITHM) incomplete(`Unsupported signature algorithm "${algorithm}": only ${ACS3_ALGORITHM} is supported.`);
  if (space < 0) incomplete(`${ACS3_AUTHORIZATION_SHAPE}.`);

  const fields = new Map<string, string>();
  for (const part of value.slice(space).split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? '' : part.slice(0, eq).trim();
    if (!['Credential', 'SignedHeaders', 'Signature'].includes(key) || fields.has(key)) {
      incomplete(`${ACS3_AUTHORIZATION_SHAPE}; got the field "${part.trim()}".`);
    }
    fields.set(key, part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKeyId) incomplete(`${ACS3_AUTHORIZATION_SHAPE}; Credential is missing.`);
  if (!signedHeaders) incomplete(`${ACS3_AUTHORIZATION_SHAPE}; SignedHeaders is missing.`);
  if (!signature) incomplete(`${ACS3_AUTHORIZATION_SHAPE}; Signature is missing.`);
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) incomplete('The Signature in the Authorization header is not a hex HMAC-SHA256 value (64 characters).');
  const names = signedHeaders.split(';');
  if (names.some((n) => !HEADER_NAME.test(n))) incomplete(`SignedHeaders "${signedHeaders}" is not a ';'-separated list of header names.`);
  return { accessKeyId, signedHeaders: sortedSignedHeaders(names), signature: signature.toLowerCase() };
}

function requiredHeader(headers: IncomingHttpHeaders, name: string): string {
  const value = headerValue(headers, name)?.trim();
  if (value === undefined || value === '') return missing(name);
  return value;
}

function verifyAcs3(req: RpcSignedRequest, authorization: string, opts: RpcVerifyOptions): RpcAuth {
  const auth = parseAcs3Authorization(authorization);
  for (const name of ACS3_REQUIRED_SIGNED_HEADERS) {
    if (!auth.signedHeaders.includes(name)) incomplete(`SignedHeaders must include "${name}".`);
  }
  const date = requiredHeader(req.headers, 'x-acs-date');
  const nonce = requiredHeader(req.headers, 'x-acs-signature-nonce');
  const contentSha256 = requiredHeader(req.headers, 'x-acs-content-sha256');

  const signedAt = parseSigningTime(date, 'x-acs-date');
  checkSkew(signedAt, date, 'x-acs-date', opts);
  const credential = resolveCredential(opts.lookup, auth.accessKeyId, opts.now);

  // The signature covers the header, not the body: without this check any body would ride on a valid signature.
  const hashedPayload = sha256Hex(req.body);
  if (contentSha256.toLowerCase() !== hashedPayload) {
    fail('SignatureDoesNotMatch', `Specified signature is not matched with our calculation. The x-acs-content-sha256 header ${contentSha256} does not match the SHA-256 of the request body (${hashedPayload}).`);
  }
  const canonicalRequest = acs3CanonicalRequest({
    method: req.method.toUpperCase(),
    rawUrl: req.rawUrl,
    headers: req.headers,
    signedHeaders: auth.signedHeaders,
    hashedPayload,
  });
  const stringToSign = acs3StringToSign(canonicalRequest);
  if (!constantTimeEqual(acs3Signature(credential.secret, stringToSign), auth.signature)) {
    // The string to sign is only a hash here; the canonical request is what a client can actually compare.
    mismatch(stringToSign, { CanonicalRequest: canonicalRequest });
  }
  checkSecurityToken(headerValue(req.headers, 'x-acs-security-token')?.trim(), credential, 'x-acs-security-token');
  return { accessKeyId: auth.accessKeyId, credential, algorithm: ACS3_ALGORITHM, nonce, signedAt };
}
