/**
 * Verification of OSS request signatures (spec section 2): V1 header, V1 presigned URL, V4 header, V4 presigned URL,
 * plus the STS token, clock-skew and expiry rules around them.
 *
 * Pure: no I/O, no clock. The caller passes the resolved bucket/key (addressing decides those, and the signature
 * covers the *resolved* resource, not the URL form: a CNAME or ali-oss IP-endpoint request still signs
 * `/<bucket>/<key>`), the current time and a credential lookup.
 *
 * Every failure is a `MedleyError` (4xx); malformed input never escapes as a TypeError/URIError.
 */
import { canonicalizedPrefixedHeaders, compareCodeUnits, hmacSha1Base64, hmacSha256, percentEncode, sha256Hex } from './canonical.js';
import { fail } from '../errors.js';
import { constantTimeEqual, type Credential, type CredentialLookup } from './credentials.js';

export interface SignedRequest {
  /** 'GET', 'PUT', ... */
  method: string;
  /** Path + '?' + query exactly as received on the wire (undecoded), e.g. '/src1.mp3?x-oss-async-process='. */
  rawUrl: string;
  /** Lowercased names, as node's IncomingMessage.headers. */
  headers: Record<string, string | string[] | undefined>;
  /** Resolved by addressing (absent for service-level requests). */
  bucket?: string;
  /** Decoded object key (absent for bucket-level requests). */
  key?: string;
}

export type AuthResult =
  | { kind: 'anonymous' }
  | { kind: 'signed'; accessKeyId: string; scheme: 'v1' | 'v1-presigned' | 'v4' | 'v4-presigned'; securityToken?: string };

export interface VerifyOptions {
  now: Date;
  lookup: CredentialLookup;
  /** Allowed |request time - server time| for header-signed requests; default 15 min (spec 2.7). */
  maxSkewMs?: number;
  /** This server's region (e.g. cn-hangzhou): a V4 scope naming another is refused. Unset: not checked. */
  region?: string;
}

const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;
const V4_ALGORITHM = 'OSS4-HMAC-SHA256';
const V4_TERMINATOR = 'aliyun_v4_request';
const V4_MAX_EXPIRES_SECONDS = 604800;
const V4_PRODUCTS = new Set(['oss', 'oss-cloudbox']);
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const MISSING_V1_QUERY_PIECES = 'Query-string authentication requires the Signature, Expires and OSSAccessKeyId parameters';
const MISSING_V4_QUERY_PIECES =
  'Query-string authentication version 4 requires the x-oss-signature-version, x-oss-credential, x-oss-date, x-oss-expires and x-oss-signature parameters';

/** Query parameters that a V1 signature covers (spec 2.2: the union of what the SDKs sign). */
const V1_SUBRESOURCES = new Set([
  'acl', 'uploads', 'uploadId', 'partNumber', 'location', 'bucketInfo', 'stat', 'delete', 'append', 'position',
  'tagging', 'objectMeta', 'objectInfo', 'symlink', 'restore', 'security-token', 'response-content-type',
  'response-content-language', 'response-expires', 'response-cache-control', 'response-content-disposition',
  'response-content-encoding', 'x-oss-process', 'x-oss-async-process', 'x-oss-traffic-limit', 'x-oss-request-payer',
  'versions', 'versioning', 'versionId', 'policy', 'cors', 'lifecycle', 'logging', 'website', 'referer', 'encryption',
  'requestPayment', 'qos', 'qosInfo', 'continuation-token', 'sequential', 'callback', 'callback-var', 'style',
  'styleName', 'img', 'live', 'comp', 'status', 'vod', 'startTime', 'endTime', 'inventory', 'inventoryId',
  'asyncFetch', 'worm', 'wormId', 'wormExtend', 'replication', 'replicationProgress', 'replicationLocation',
  'transferAcceleration', 'cname', 'metaQuery', 'resourceGroup', 'rtc', 'regionList', 'cloudboxes', 'responseHeader',
  'accessPoint', 'accessPointPolicy', 'publicAccessBlock', 'httpsConfig',
]);

// ---------------------------------------------------------------------------------------------------------------
// Request view shared by all schemes
// ---------------------------------------------------------------------------------------------------------------

interface QueryParam {
  /** Decoded name. */
  name: string;
  /** Decoded value ('' when absent). */
  value: string;
  /** Whether the wire form had '=' (`k=` vs bare `k`): V4 tolerance (spec 2.8) needs it. */
  hasEquals: boolean;
}

interface RequestView {
  method: string;
  query: QueryParam[];
  /** Lowercased name → value; repeated headers joined with ',' (spec 2.2). */
  headers: Map<string, string>;
  bucket: string | undefined;
  key: string | undefined;
}

/** Normalizes the input once so that every scheme reads the same decoded query and header map. */
function viewOf(req: SignedRequest): RequestView {
  const q = req.rawUrl.indexOf('?');
  return {
    method: req.method.toUpperCase(),
    query: q < 0 ? [] : parseQuery(req.rawUrl.slice(q + 1)),
    headers: normalizeHeaders(req.headers),
    bucket: req.bucket === '' ? undefined : req.bucket,
    key: req.key === '' ? undefined : req.key,
  };
}

/** Lowercases names (callers should already have) and flattens arrays, so lookups never miss on case. */
function normalizeHeaders(headers: SignedRequest['headers']): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    const lower = name.toLowerCase();
    const prev = out.get(lower);
    out.set(lower, prev === undefined ? value : `${prev},${value}`);
  }
  return out;
}

/** Splits `a=1&b&c=` into decoded params; empty segments (`&&`, trailing `&`) are skipped like Go's url.ParseQuery. */
function parseQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  for (const segment of rawQuery.split('&')) {
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    const rawName = eq < 0 ? segment : segment.slice(0, eq);
    const rawValue = eq < 0 ? '' : segment.slice(eq + 1);
    params.push({ name: decodeQueryComponent(rawName), value: decodeQueryComponent(rawValue), hasEquals: eq >= 0 });
  }
  return params;
}

/**
 * `%XX` → bytes → UTF-8, and a literal '+' → space (spec 1.4: Go v2 form-encodes spaces as '+' then signs `%20`;
 * no official SDK sends a bare '+' meaning plus — they all send `%2B`).
 */
function decodeQueryComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return fail('InvalidArgument', `Malformed percent-encoding in the query string: "${raw}".`, {
      ArgumentName: 'querystring',
      ArgumentValue: raw,
    });
  }
}

/** The single value of a query parameter; a repeated authentication parameter is ambiguous, so it is refused. */
function singleParam(view: RequestView, name: string): string | undefined {
  const found = view.query.filter((p) => p.name === name);
  if (found.length > 1) fail('InvalidArgument', `Query parameter ${name} must not be repeated.`, { ArgumentName: name });
  return found[0]?.value;
}

function hasParam(view: RequestView, name: string): boolean {
  return view.query.some((p) => p.name === name);
}

// ---------------------------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------------------------

/**
 * Classifies (spec 2.1) and verifies a request. Returns who signed it, or `anonymous` when nothing claims a
 * signature; throws a MedleyError when a claimed signature does not hold.
 */
export function verifyOssRequest(req: SignedRequest, opts: VerifyOptions): AuthResult {
  const view = viewOf(req);
  const authorization = view.headers.get('authorization');
  const v1Query = ['OSSAccessKeyId', 'Expires', 'Signature'].some((n) => hasParam(view, n));
  const v4Query = ['x-oss-signature-version', 'x-oss-credential', 'x-oss-signature'].some((n) => hasParam(view, n));
  const mechanisms = (authorization !== undefined ? 1 : 0) + (v1Query ? 1 : 0) + (v4Query ? 1 : 0);
  if (mechanisms > 1) {
    // Two claims over one request could disagree about who is asking; refuse rather than pick one.
    fail('InvalidArgument', 'Only one authentication mechanism is allowed: Authorization header, V1 query signature or V4 query signature.');
  }
  if (authorization !== undefined) return verifyAuthorizationHeader(view, authorization, opts);
  if (v4Query) return verifyV4Presigned(view, opts);
  if (v1Query) return verifyV1Presigned(view, opts);
  return { kind: 'anonymous' };
}

/** Dispatches on the scheme word of the Authorization header. */
function verifyAuthorizationHeader(view: RequestView, authorization: string, opts: VerifyOptions): AuthResult {
  const value = authorization.trim();
  const space = value.search(/\s/);
  const scheme = space < 0 ? value : value.slice(0, space);
  const rest = space < 0 ? '' : value.slice(space).trim();
  if (scheme === 'OSS') return verifyV1Header(view, rest, authorization, opts);
  if (scheme === V4_ALGORITHM) return verifyV4Header(view, rest, authorization, opts);
  if (scheme === 'OSS2') {
    fail('InvalidArgument', 'Signature version 2 (Authorization: OSS2 ...) is not supported; sign with V1 (OSS) or V4 (OSS4-HMAC-SHA256).', authzDetails(authorization));
  }
  return fail('InvalidArgument', 'Unsupported Authorization header: expected "OSS <AccessKeyId>:<Signature>" or "OSS4-HMAC-SHA256 Credential=...".', authzDetails(authorization));
}

function authzDetails(authorization: string): { ArgumentName: string; ArgumentValue: string } {
  return { ArgumentName: 'Authorization', ArgumentValue: authorization };
}

// ---------------------------------------------------------------------------------------------------------------
// Shared checks
// ---------------------------------------------------------------------------------------------------------------

/** AccessKeyId → credential; unknown ids and expired temporary credentials stop here. */
function resolveCredential(lookup: CredentialLookup, accessKeyId: string, now: Date): Credential {
  const credential = lookup(accessKeyId);
  if (credential === undefined) fail('InvalidAccessKeyId', undefined, { OSSAccessKeyId: accessKeyId });
  if (credential.expiresAt !== undefined && credential.expiresAt.getTime() <= now.getTime()) {
    fail('InvalidSecurityToken', 'The security token you provided has expired.', { OSSAccessKeyId: accessKeyId });
  }
  return credential;
}

/** ISO 8601 UTC with literal `.000` milliseconds (spec 3.2: oss2's parser insists on it). */
function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString();
}

/** Header-signed requests are only valid near their signing time, which bounds replay (spec 2.7). */
function checkSkew(requestMs: number, now: Date, maxSkewMs: number): void {
  if (Math.abs(requestMs - now.getTime()) <= maxSkewMs) return;
  fail('RequestTimeTooSkewed', undefined, {
    RequestTime: isoSeconds(requestMs),
    ServerTime: isoSeconds(now.getTime()),
    MaxAllowedSkewMilliseconds: maxSkewMs,
  });
}

/**
 * STS (spec 2.6): temporary credentials are only valid together with their token, and a token must never ride on a
 * key it was not issued for. Runs after the signature check, so the token value is known to be signed.
 */
function checkSecurityToken(view: RequestView, credential: Credential): string | undefined {
  const candidates = [
    view.headers.get('x-oss-security-token'),
    singleParam(view, 'security-token'),
    singleParam(view, 'x-oss-security-token'),
  ].filter((t): t is string => t !== undefined);
  const details = { OSSAccessKeyId: credential.accessKeyId };
  if (new Set(candidates).size > 1) fail('InvalidSecurityToken', 'The request carries conflicting security tokens.', details);
  const provided = candidates[0];
  if (credential.securityToken === undefined) {
    if (provided !== undefined) fail('InvalidSecurityToken', undefined, details);
    return undefined;
  }
  if (provided === undefined) {
    fail('AccessDenied', 'Temporary credentials require the security token (x-oss-security-token header, or security-token / x-oss-security-token query parameter).', details);
  }
  if (!constantTimeEqual(provided, credential.securityToken)) fail('InvalidSecurityToken', undefined, details);
  return provided;
}

function signed(scheme: 'v1' | 'v1-presigned' | 'v4' | 'v4-presigned', accessKeyId: string, token: string | undefined): AuthResult {
  return token === undefined
    ? { kind: 'signed', accessKeyId, scheme }
    : { kind: 'signed', accessKeyId, scheme, securityToken: token };
}

/** What the client must have signed, for one way of reading the request (see the 2.8 tolerance rules). */
interface Candidate {
  stringToSign: string;
  canonicalRequest?: string;
}

/**
 * Accepts when any candidate's signature equals the provided one. Every comparison is constant-time; the first
 * candidate is the canonical reading and is the one reported on mismatch.
 */
function verifyCandidates(
  candidates: Candidate[],
  sign: (stringToSign: string) => string,
  provided: string,
  accessKeyId: string,
): void {
  let matched = false;
  for (const c of candidates) {
    // No early exit: the time taken does not depend on which candidate matched.
    if (constantTimeEqual(sign(c.stringToSign), provided)) matched = true;
  }
  if (matched) return;
  const primary = candidates[0];
  if (primary === undefined) fail('InternalError', 'No canonical form to verify against.');
  signatureMismatch(accessKeyId, provided, primary);
}

/** SignatureDoesNotMatch with the debugging elements SDKs print (spec 2.8), in the documented order. */
function signatureMismatch(accessKeyId: string, provided: string, c: Candidate): never {
  const bytes = [...Buffer.from(c.stringToSign, 'utf8')].map((b) => b.toString(16).toUpperCase().padStart(2, '0'));
  const details: Record<string, string> = {
    OSSAccessKeyId: accessKeyId,
    SignatureProvided: provided,
    StringToSign: c.stringToSign,
    StringToSignBytes: bytes.join(' '),
  };
  if (c.canonicalRequest !== undefined) details.CanonicalRequest = c.canonicalRequest;
  return fail('SignatureDoesNotMatch', undefined, details);
}

/** Keeps the first occurrence of each string-to-sign, so tolerance retries never re-test the same thing. */
function dedupe(candidates: Candidate[]): Candidate[] {
  const byString = new Map<string, Candidate>();
  for (const c of candidates) if (!byString.has(c.stringToSign)) byString.set(c.stringToSign, c);
  return [...byString.values()];
}

// ---------------------------------------------------------------------------------------------------------------
// V1 (HMAC-SHA1, spec 2.2 / 2.3)
// ---------------------------------------------------------------------------------------------------------------

/** An HMAC-SHA1 digest is 20 bytes: exactly 28 base64 characters, the last one '='. */
const V1_SIGNATURE_SHAPE = /^[A-Za-z0-9+/]{27}=$/;

/** Sub-resources are signed by name: the fixed list, `udf*`, and (Go v2) every `x-oss-*` query key. */
function isV1SignedParam(name: string): boolean {
  return V1_SUBRESOURCES.has(name) || name.startsWith('x-oss-') || name.startsWith('udf');
}

/** `/`, `/<bucket>/` or `/<bucket>/<decoded key>`, then `?` + sorted sub-resources (`k=v`, or bare `k` if empty). */
function v1CanonicalResource(view: RequestView): string {
  let resource = view.bucket === undefined ? '/' : `/${view.bucket}/${view.key ?? ''}`;
  const subresources = view.query
    .filter((p) => isV1SignedParam(p.name))
    .sort((a, b) => compareCodeUnits(a.name, b.name))
    .map((p) => (p.value === '' ? p.name : `${p.name}=${p.value}`));
  if (subresources.length > 0) resource += `?${subresources.join('&')}`;
  return resource;
}

/** Every `x-oss-*` header as `name:trimmed value\n`, sorted by name. */
function v1CanonicalHeaders(view: RequestView): string {
  return canonicalizedPrefixedHeaders(new Map([...view.headers].map(([name, value]) => [name, value.trim()])), 'x-oss-');
}

function v1StringToSign(view: RequestView, dateLine: string): string {
  const md5 = view.headers.get('content-md5') ?? '';
  const type = view.headers.get('content-type') ?? '';
  return `${view.method}\n${md5}\n${type}\n${dateLine}\n${v1CanonicalHeaders(view)}${v1CanonicalResource(view)}`;
}

/** `OSS <AccessKeyId>:<Signature>` → its two parts, or a clean InvalidArgument naming what is wrong. */
function parseV1Authorization(rest: string, authorization: string): { accessKeyId: string; signature: string } {
  const colon = rest.lastIndexOf(':');
  const accessKeyId = colon < 0 ? '' : rest.slice(0, colon).trim();
  const signature = colon < 0 ? '' : rest.slice(colon + 1).trim();
  if (accessKeyId === '' || signature === '') {
    fail('InvalidArgument', 'Authorization header must have the form "OSS <AccessKeyId>:<Signature>".', authzDetails(authorization));
  }
  if (!V1_SIGNATURE_SHAPE.test(signature)) {
    fail('InvalidArgument', 'The signature in the Authorization header is not a base64 HMAC-SHA1 value (28 characters).', authzDetails(authorization));
  }
  return { accessKeyId, signature };
}

/**
 * The DateLine values to try (spec 2.2 + 2.8): `x-oss-date` first (what ali-oss and oss2 sign when present),
 * then `Date` — some clients send both but sign the other one.
 */
function v1DateLines(view: RequestView): string[] {
  const lines = [view.headers.get('x-oss-date'), view.headers.get('date')].filter((d): d is string => d !== undefined && d !== '');
  return [...new Set(lines)];
}

/** The signing time of a V1 header request: the first date header that parses as an HTTP date. */
function v1RequestTime(dateLines: string[]): number {
  for (const line of dateLines) {
    const ms = Date.parse(line);
    if (!Number.isNaN(ms)) return ms;
  }
  return fail('AccessDenied', 'OSS authentication requires a valid Date (x-oss-date or Date header, RFC 1123).');
}

function verifyV1Header(view: RequestView, rest: string, authorization: string, opts: VerifyOptions): AuthResult {
  const { accessKeyId, signature } = parseV1Authorization(rest, authorization);
  const credential = resolveCredential(opts.lookup, accessKeyId, opts.now);
  const dateLines = v1DateLines(view);
  checkSkew(v1RequestTime(dateLines), opts.now, opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);
  const candidates = dedupe(dateLines.map((line) => ({ stringToSign: v1StringToSign(view, line) })));
  verifyCandidates(candidates, (s) => hmacSha1Base64(credential.secret, s), signature, accessKeyId);
  return signed('v1', accessKeyId, checkSecurityToken(view, credential));
}

/** Expires is unix seconds: digits only (a sign or exponent would be a different signed string anyway). */
function parseExpiresSeconds(raw: string, name: string): number {
  if (!/^\d{1,12}$/.test(raw)) fail('InvalidArgument', `${name} must be a whole number of seconds.`, { ArgumentName: name, ArgumentValue: raw });
  return Number(raw);
}

function verifyV1Presigned(view: RequestView, opts: VerifyOptions): AuthResult {
  const accessKeyId = singleParam(view, 'OSSAccessKeyId');
  const expires = singleParam(view, 'Expires');
  // Base64 never contains a space: a space here is a literal '+' that the URL did not percent-encode.
  const signature = singleParam(view, 'Signature')?.replace(/ /g, '+');
  if (!accessKeyId || !expires || !signature) return fail('AccessDenied', MISSING_V1_QUERY_PIECES);
  if (!V1_SIGNATURE_SHAPE.test(signature)) {
    fail('InvalidArgument', 'The Signature query parameter is not a base64 HMAC-SHA1 value (28 characters).', { ArgumentName: 'Signature', ArgumentValue: signature });
  }
  const expiresMs = parseExpiresSeconds(expires, 'Expires') * 1000;
  const credential = resolveCredential(opts.lookup, accessKeyId, opts.now);
  if (opts.now.getTime() > expiresMs) {
    fail('AccessDenied', 'Request has expired.', { Expires: isoSeconds(expiresMs), ServerTime: isoSeconds(opts.now.getTime()) });
  }
  // Presigned V1: the DateLine is the Expires value exactly as sent (spec 2.3).
  const candidates = [{ stringToSign: v1StringToSign(view, expires) }];
  verifyCandidates(candidates, (s) => hmacSha1Base64(credential.secret, s), signature, accessKeyId);
  return signed('v1-presigned', accessKeyId, checkSecurityToken(view, credential));
}

// ---------------------------------------------------------------------------------------------------------------
// V4 (OSS4-HMAC-SHA256, spec 2.4 / 2.5)
// ---------------------------------------------------------------------------------------------------------------

interface V4Scope {
  accessKeyId: string;
  /** yyyymmdd */
  date: string;
  region: string;
  product: string;
}

interface V4Authorization {
  scope: V4Scope;
  signature: string;
  additionalHeaders: string[];
}

/** `<AK>/<yyyymmdd>/<region>/<product>/aliyun_v4_request`. */
function parseV4Credential(value: string, argumentName: string): V4Scope {
  const parts = value.split('/');
  const [accessKeyId, date, region, product, terminator] = parts;
  const ok =
    parts.length === 5 && !!accessKeyId && !!region && /^\d{8}$/.test(date ?? '') &&
    V4_PRODUCTS.has(product ?? '') && terminator === V4_TERMINATOR;
  if (!ok || accessKeyId === undefined || date === undefined || region === undefined || product === undefined) {
    return fail('InvalidArgument', `Invalid credential "${value}": expected <AccessKeyId>/<yyyymmdd>/<region>/oss/aliyun_v4_request.`, {
      ArgumentName: argumentName,
      ArgumentValue: value,
    });
  }
  return { accessKeyId, date, region, product };
}

/**
 * `abc;ZAbc` → `['abc', 'zabc']`: lowercased, deduplicated, sorted, default-signed names dropped (the SDKs do the
 * same before signing, so normalizing again is harmless). An empty list or element is refused (spec 2.4).
 */
function parseAdditionalHeaders(value: string, argumentName: string): string[] {
  const names = value.split(';').map((n) => n.trim().toLowerCase());
  if (names.some((n) => n === '')) {
    fail('InvalidArgument', `${argumentName} must not be empty or contain an empty header name.`, { ArgumentName: argumentName, ArgumentValue: value });
  }
  return [...new Set(names)].filter((n) => !isDefaultSignedHeader(n)).sort(compareCodeUnits);
}

function isDefaultSignedHeader(name: string): boolean {
  return name === 'content-type' || name === 'content-md5' || name.startsWith('x-oss-');
}

/**
 * `Credential=..,AdditionalHeaders=..,Signature=..` in any order, separated by ',' or ', ' (ali-oss and oss2 differ,
 * spec 8.11). Unknown fields are ignored; repeated ones are refused as ambiguous.
 */
function parseV4Authorization(rest: string, authorization: string): V4Authorization {
  const fields = new Map<string, string>();
  for (const part of rest.split(',')) {
    const item = part.trim();
    const eq = item.indexOf('=');
    if (item === '' || eq <= 0) {
      fail('InvalidArgument', `Malformed V4 Authorization field "${item}": expected Name=Value.`, authzDetails(authorization));
    }
    const name = item.slice(0, eq).trim();
    if (fields.has(name)) fail('InvalidArgument', `V4 Authorization field ${name} is repeated.`, authzDetails(authorization));
    fields.set(name, item.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signature = fields.get('Signature');
  if (!credential || !signature) {
    fail('InvalidArgument', 'V4 Authorization header requires Credential and Signature fields.', authzDetails(authorization));
  }
  const additional = fields.get('AdditionalHeaders');
  return {
    scope: parseV4Credential(credential, 'Credential'),
    signature: parseV4Signature(signature, 'Signature'),
    additionalHeaders: additional === undefined ? [] : parseAdditionalHeaders(additional, 'AdditionalHeaders'),
  };
}

/** A V4 signature is 64 hex characters; compared lowercase since that is what every SDK emits. */
function parseV4Signature(value: string, argumentName: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(value)) {
    fail('InvalidArgument', `${argumentName} is not a 64-character hex HMAC-SHA256 value.`, { ArgumentName: argumentName, ArgumentValue: value });
  }
  return value.toLowerCase();
}

/** `YYYYMMDDTHHMMSSZ` → epoch ms, or undefined when malformed or not a real calendar instant. */
function parseIsoBasic(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC silently rolls over (month 13, second 60): reject anything that does not round-trip.
  return back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && back.getUTCHours() === h && back.getUTCMinutes() === mi && back.getUTCSeconds() === s
    ? ms
    : undefined;
}

/** RFC 1123 / RFC 7231 IMF-fixdate, e.g. `Wed, 02 Dec 2026 18:48:21 GMT` (the only form Go v3 sends). */
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Wed, 02 Dec 2026 18:48:21 GMT` → epoch ms, or undefined when malformed or not a real calendar instant. */
function parseImfFixdate(value: string): number | undefined {
  const m = IMF_FIXDATE.exec(value);
  if (!m) return undefined;
  const [d, mon, y, h, mi, s] = m.slice(1) as [string, string, string, string, string, string];
  const iso = `${y}${String(MONTHS.indexOf(mon) + 1).padStart(2, '0')}${d}T${h}${mi}${s}Z`;
  return parseIsoBasic(iso);
}

/** yyyymmdd of an instant, in UTC: the credential-scope day. */
function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');
}

/** The date line of a V4 request: what is signed verbatim, and the instant it names. */
interface V4DateLine {
  line: string;
  ms: number;
}

/**
 * The date line of a header-signed V4 request (spec 2.4 correction): `x-oss-date` (`YYYYMMDDTHHMMSSZ`) when
 * present, else the RFC 1123 `Date` header verbatim — the Go SDK v3 sends no x-oss-date and signs `Date`.
 * A present but malformed x-oss-date is refused rather than silently replaced by `Date`: it is a signed header,
 * so the client meant it.
 */
function v4HeaderDateLine(view: RequestView): V4DateLine {
  const xOssDate = view.headers.get('x-oss-date');
  if (xOssDate !== undefined) {
    const ms = parseIsoBasic(xOssDate.trim());
    if (ms === undefined) return fail('AccessDenied', 'OSS V4 authentication requires a valid x-oss-date header (YYYYMMDDTHHMMSSZ).');
    return { line: xOssDate.trim(), ms };
  }
  const date = view.headers.get('date');
  const ms = date === undefined ? undefined : parseImfFixdate(date.trim());
  if (date === undefined || ms === undefined) {
    return fail('AccessDenied', 'OSS V4 authentication requires a valid x-oss-date header (YYYYMMDDTHHMMSSZ) or, without it, a Date header (RFC 1123, e.g. "Wed, 02 Dec 2026 18:48:21 GMT").');
  }
  return { line: date.trim(), ms };
}

/** The x-oss-date query parameter of a V4 presigned URL (always the compact ISO form). */
function v4PresignedDateLine(xOssDate: string): V4DateLine {
  const ms = parseIsoBasic(xOssDate);
  if (ms === undefined) return fail('AccessDenied', 'OSS V4 authentication requires a valid x-oss-date parameter (YYYYMMDDTHHMMSSZ).');
  return { line: xOssDate, ms };
}

/** The credential scope must name the day of the date line (spec 2.7). */
function checkScopeDate(date: V4DateLine, scope: V4Scope, source: string): void {
  if (utcDay(date.ms) === scope.date) return;
  fail('InvalidArgument', `Invalid credential date "${scope.date}": it is not the date of ${source} "${date.line}".`, {
    ArgumentName: 'Credential',
    ArgumentValue: scope.date,
  });
}

/**
 * The scope's region must be this server's region (spec 2.7): the signing key is derived from it, so a key for
 * another region does not sign for this one — OSS answers 403 SignatureDoesNotMatch. Cloud-box scopes put a box
 * id in that place, so they are not compared.
 */
function checkScopeRegion(scope: V4Scope, region: string | undefined, argumentName: string): void {
  if (region === undefined || scope.product !== 'oss' || scope.region === region) return;
  fail('SignatureDoesNotMatch', `Invalid signing region in ${argumentName}: the credential scope names "${scope.region}", this endpoint is "${region}".`, {
    OSSAccessKeyId: scope.accessKeyId,
    Region: scope.region,
    ServerRegion: region,
  });
}

function v4CanonicalUri(view: RequestView): string {
  const path = view.bucket === undefined ? '/' : `/${view.bucket}/${view.key ?? ''}`;
  return percentEncode(path, true);
}

/** How an empty-valued parameter is written in the canonical query (spec 2.8). */
type EmptyValueStyle = 'bare' | 'equals' | 'as-sent';

/** How parameter names are ordered: byte order of encoded names (spec), or ali-oss's localeCompare of raw names. */
type NameOrder = 'encoded-bytes' | 'raw-locale';

function v4CanonicalQuery(params: QueryParam[], empty: EmptyValueStyle, order: NameOrder): string {
  const encoded = params.map((p) => ({ raw: p.name, name: percentEncode(p.name, false), value: percentEncode(p.value, false), hasEquals: p.hasEquals }));
  encoded.sort((a, b) => (order === 'encoded-bytes' ? compareCodeUnits(a.name, b.name) : a.raw.localeCompare(b.raw)));
  return encoded
    .map((p) => {
      if (p.value !== '') return `${p.name}=${p.value}`;
      const withEquals = empty === 'equals' || (empty === 'as-sent' && p.hasEquals);
      return withEquals ? `${p.name}=` : p.name;
    })
    .join('&');
}

/**
 * Canonical query strings to try, canonical first: bare `k` for empty values (Go, oss2), then `k=` (ali-oss for
 * `''` values), then the wire form, each also in ali-oss's localeCompare order when that differs.
 */
function v4CanonicalQueries(params: QueryParam[]): string[] {
  const out: string[] = [];
  for (const order of ['encoded-bytes', 'raw-locale'] as const) {
    for (const empty of ['bare', 'equals', 'as-sent'] as const) out.push(v4CanonicalQuery(params, empty, order));
  }
  return [...new Set(out)];
}

/** `x-oss-*`, content-type, content-md5 and the listed additional headers that are present, sorted. */
function v4CanonicalHeaders(view: RequestView, additional: string[]): string {
  const listed = new Set(additional);
  return [...view.headers.entries()]
    .filter(([name]) => isDefaultSignedHeader(name) || listed.has(name))
    .sort(([a], [b]) => compareCodeUnits(a, b))
    .map(([name, value]) => `${name}:${value.trim()}\n`)
    .join('');
}

function v4Candidates(view: RequestView, params: QueryParam[], additional: string[], payloadHash: string, xOssDate: string, scope: V4Scope): Candidate[] {
  const uri = v4CanonicalUri(view);
  const headers = v4CanonicalHeaders(view, additional);
  return dedupe(
    v4CanonicalQueries(params).map((query) => {
      const canonicalRequest = [view.method, uri, query, headers, additional.join(';'), payloadHash].join('\n');
      return { canonicalRequest, stringToSign: v4StringToSign(canonicalRequest, xOssDate, scope) };
    }),
  );
}

function v4StringToSign(canonicalRequest: string, xOssDate: string, scope: V4Scope): string {
  const scopeString = `${scope.date}/${scope.region}/${scope.product}/${V4_TERMINATOR}`;
  const hash = sha256Hex(canonicalRequest);
  return `${V4_ALGORITHM}\n${xOssDate}\n${scopeString}\n${hash}`;
}

/** HMAC chain "aliyun_v4"+SK → date → region → product → "aliyun_v4_request" (spec 2.4). */
function v4SigningKey(secret: string, scope: V4Scope): Buffer {
  return hmacSha256(hmacSha256(hmacSha256(hmacSha256(`aliyun_v4${secret}`, scope.date), scope.region), scope.product), V4_TERMINATOR);
}

function v4Signer(secret: string, scope: V4Scope): (stringToSign: string) => string {
  const key = v4SigningKey(secret, scope);
  return (s) => hmacSha256(key, s).toString('hex');
}

function verifyV4Header(view: RequestView, rest: string, authorization: string, opts: VerifyOptions): AuthResult {
  const auth = parseV4Authorization(rest, authorization);
  const { scope } = auth;
  const credential = resolveCredential(opts.lookup, scope.accessKeyId, opts.now);
  checkScopeRegion(scope, opts.region, 'Authorization header');
  const date = v4HeaderDateLine(view);
  checkScopeDate(date, scope, view.headers.has('x-oss-date') ? 'x-oss-date' : 'Date');
  checkSkew(date.ms, opts.now, opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);
  const payloadHash = view.headers.get('x-oss-content-sha256')?.trim() || UNSIGNED_PAYLOAD;
  const candidates = v4Candidates(view, view.query, auth.additionalHeaders, payloadHash, date.line, scope);
  verifyCandidates(candidates, v4Signer(credential.secret, scope), auth.signature, scope.accessKeyId);
  return signed('v4', scope.accessKeyId, checkSecurityToken(view, credential));
}

/** x-oss-expires: whole seconds, at most a week (spec 2.5). */
function parseV4Expires(raw: string): number {
  const seconds = parseExpiresSeconds(raw, 'x-oss-expires');
  if (seconds > V4_MAX_EXPIRES_SECONDS) {
    fail('InvalidArgument', `x-oss-expires must be at most ${V4_MAX_EXPIRES_SECONDS} seconds (one week).`, { ArgumentName: 'x-oss-expires', ArgumentValue: raw });
  }
  return seconds;
}

/**
 * A presigned URL is usable from its x-oss-date until x-oss-date + x-oss-expires. The start tolerates the usual
 * skew, since the URL was stamped by the client's clock, not ours.
 */
function checkPresignedWindow(dateMs: number, expiresSeconds: number, opts: VerifyOptions): void {
  const now = opts.now.getTime();
  const endMs = dateMs + expiresSeconds * 1000;
  if (now > endMs) fail('AccessDenied', 'Request has expired.', { Expires: isoSeconds(endMs), ServerTime: isoSeconds(now) });
  if (now < dateMs - (opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS)) {
    fail('AccessDenied', 'Request is not yet valid: x-oss-date is in the future.', { RequestTime: isoSeconds(dateMs), ServerTime: isoSeconds(now) });
  }
}

function verifyV4Presigned(view: RequestView, opts: VerifyOptions): AuthResult {
  const version = singleParam(view, 'x-oss-signature-version');
  const credentialParam = singleParam(view, 'x-oss-credential');
  const xOssDate = singleParam(view, 'x-oss-date');
  const expires = singleParam(view, 'x-oss-expires');
  const signatureParam = singleParam(view, 'x-oss-signature');
  if (!version || !credentialParam || !xOssDate || !expires || !signatureParam) return fail('AccessDenied', MISSING_V4_QUERY_PIECES);
  if (version !== V4_ALGORITHM) {
    fail('InvalidArgument', `Unsupported x-oss-signature-version "${version}"; expected ${V4_ALGORITHM}.`, { ArgumentName: 'x-oss-signature-version', ArgumentValue: version });
  }
  const scope = parseV4Credential(credentialParam, 'x-oss-credential');
  const signature = parseV4Signature(signatureParam, 'x-oss-signature');
  const expiresSeconds = parseV4Expires(expires);
  const additionalParam = singleParam(view, 'x-oss-additional-headers');
  const additional = additionalParam === undefined ? [] : parseAdditionalHeaders(additionalParam, 'x-oss-additional-headers');
  const credential = resolveCredential(opts.lookup, scope.accessKeyId, opts.now);
  checkScopeRegion(scope, opts.region, 'x-oss-credential');
  const date = v4PresignedDateLine(xOssDate);
  checkScopeDate(date, scope, 'x-oss-date');
  checkPresignedWindow(date.ms, expiresSeconds, opts);
  // Every query parameter is signed except the signature itself; the payload is never hashed (spec 2.5).
  const params = view.query.filter((p) => p.name !== 'x-oss-signature');
  const candidates = v4Candidates(view, params, additional, UNSIGNED_PAYLOAD, xOssDate, scope);
  verifyCandidates(candidates, v4Signer(credential.secret, scope), signature, scope.accessKeyId);
  return signed('v4-presigned', scope.accessKeyId, checkSecurityToken(view, credential));
}


// ---------------------------------------------------------------------------------------------------------------
// Presigning (the web console's "copy a presigned URL"): built from the same canonical forms the verifier
// checks, so a URL this module signs is one this module accepts.
// ---------------------------------------------------------------------------------------------------------------

/** The longest presigned URL Medley signs, V1 or V4: a week (the V4 ceiling, spec 2.5). */
export const PRESIGN_MAX_EXPIRES_SECONDS = V4_MAX_EXPIRES_SECONDS;

export interface PresignInput {
  method: 'GET' | 'HEAD' | 'PUT';
  bucket: string;
  /** Decoded object key. */
  key: string;
  credential: Pick<Credential, 'accessKeyId' | 'secret'>;
  /** 1..PRESIGN_MAX_EXPIRES_SECONDS. */
  expiresSeconds: number;
  version: 'v1' | 'v4';
  /** The signing instant. */
  now: Date;
  /** V4: the region of the credential scope (this server's). */
  region: string;
}

/** Path + query of a presigned URL for `/<bucket>/<key>` (path-style; prefix it with the endpoint's origin). */
export function presignOssPath(input: PresignInput): string {
  if (!Number.isInteger(input.expiresSeconds) || input.expiresSeconds < 1 || input.expiresSeconds > PRESIGN_MAX_EXPIRES_SECONDS) {
    fail('InvalidArgument', `The expiry must be a whole number of seconds from 1 to ${PRESIGN_MAX_EXPIRES_SECONDS} (one week).`, { ArgumentName: 'expires', ArgumentValue: String(input.expiresSeconds) });
  }
  const path = `/${percentEncode(input.bucket, false)}/${percentEncode(input.key, true)}`;
  const base = { method: input.method, headers: new Map<string, string>(), bucket: input.bucket, key: input.key };
  const { accessKeyId, secret } = input.credential;
  if (input.version === 'v1') {
    const expires = String(Math.floor(input.now.getTime() / 1000) + input.expiresSeconds);
    const signature = hmacSha1Base64(secret, v1StringToSign({ ...base, query: [] }, expires));
    return `${path}?OSSAccessKeyId=${percentEncode(accessKeyId)}&Expires=${expires}&Signature=${percentEncode(signature)}`;
  }
  const xOssDate = new Date(Math.floor(input.now.getTime() / 1000) * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const scope: V4Scope = { accessKeyId, date: xOssDate.slice(0, 8), region: input.region, product: 'oss' };
  const params: QueryParam[] = [
    { name: 'x-oss-signature-version', value: V4_ALGORITHM, hasEquals: true },
    { name: 'x-oss-credential', value: `${accessKeyId}/${scope.date}/${scope.region}/oss/${V4_TERMINATOR}`, hasEquals: true },
    { name: 'x-oss-date', value: xOssDate, hasEquals: true },
    { name: 'x-oss-expires', value: String(input.expiresSeconds), hasEquals: true },
  ];
  const view: RequestView = { ...base, query: params };
  const query = v4CanonicalQuery(params, 'bare', 'encoded-bytes');
  const canonicalRequest = [view.method, v4CanonicalUri(view), query, v4CanonicalHeaders(view, []), '', UNSIGNED_PAYLOAD].join('\n');
  const signature = v4Signer(secret, scope)(v4StringToSign(canonicalRequest, xOssDate, scope));
  return `${path}?${query}&x-oss-signature=${signature}`;
}
