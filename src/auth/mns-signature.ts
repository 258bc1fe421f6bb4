/**
 * The MNS request signature (what `@alicloud/mns` `Client#sign` and the Python SDK's `get_signature` compute):
 *
 *   Authorization: MNS <AccessKeyId>:<base64(HMAC-SHA1(secret, StringToSign))>
 *   StringToSign  = VERB + "\n" + Content-MD5 + "\n" + Content-Type + "\n" + Date + "\n"
 *                   + CanonicalizedMNSHeaders + CanonicalizedResource
 *
 * CanonicalizedMNSHeaders: every `x-mns-*` header, name lowercased, sorted, as `name:value\n`.
 * CanonicalizedResource: the request target exactly as sent (path and query, not re-encoded): the SDKs sign
 * the string they put on the request line.
 *
 * Pure: the caller passes the headers, the raw request target, a CredentialLookup and the time. Failures are
 * MedleyErrors from the Mns* catalog entries.
 */
import { canonicalizedPrefixedHeaders, headerValue, hmacSha1Base64, lowerCasedHeaders, type HeaderRecord } from './canonical.js';
import type { IncomingHttpHeaders } from 'node:http';
import { constantTimeEqual, type Credential, type CredentialLookup } from './credentials.js';
import { fail } from '../errors.js';

/** A request's Date may be this far from the server's clock (either way). */
export const MNS_MAX_SKEW_MS = 15 * 60 * 1000;

export interface MnsSignedRequest {
  method: string;
  /** The raw request target (`req.url`): path plus query string, exactly as received. */
  url: string;
  headers: IncomingHttpHeaders;
}

export interface MnsVerifyOptions {
  lookup: CredentialLookup;
  now: Date;
  /** Default MNS_MAX_SKEW_MS. */
  maxSkewMs?: number;
}

export interface MnsAuth {
  accessKeyId: string;
  credential: Credential;
}

/** `x-mns-*` headers, lowercased and sorted, each as `name:value\n`. */
export function canonicalizedMnsHeaders(headers: HeaderRecord): string {
  return canonicalizedPrefixedHeaders(lowerCasedHeaders(headers), 'x-mns-');
}

/** The StringToSign; `headers` keys may be in any case. The MNS push signer signs the same string. */
export function mnsStringToSign(method: string, headers: HeaderRecord, resource: string): string {
  const get = (name: string): string => headerValue(headers, name) ?? '';
  return `${method.toUpperCase()}\n${get('content-md5')}\n${get('content-type')}\n${get('date')}\n${canonicalizedMnsHeaders(headers)}${resource}`;
}

/** base64(HMAC-SHA1(secret, stringToSign)). */
export function mnsSignature(secret: string, stringToSign: string): string {
  return hmacSha1Base64(secret, stringToSign);
}

/** `MNS <AccessKeyId>:<Signature>` → its parts; InvalidAuthorizationHeader otherwise. */
export function parseMnsAuthorization(value: string): { accessKeyId: string; signature: string } {
  const m = /^MNS ([^:\s]+):(\S+)$/.exec(value.trim());
  if (!m) fail('MnsInvalidAuthorizationHeader', 'The Authorization header format is invalid: expected "MNS <AccessKeyId>:<Signature>".');
  return { accessKeyId: m[1]!, signature: m[2]! };
}

/**
 * Authenticates a request: Authorization header, Date within the skew window, the key, STS token, signature.
 * Returns the credential; throws the MNS error otherwise.
 */
export function verifyMnsRequest(req: MnsSignedRequest, opts: MnsVerifyOptions): MnsAuth {
  const authorization = headerValue(req.headers, 'authorization');
  if (authorization === undefined || authorization.trim() === '') fail('MnsMissingAuthorizationHeader');
  const { accessKeyId, signature } = parseMnsAuthorization(authorization);

  const date = headerValue(req.headers, 'date');
  if (date === undefined || date.trim() === '') fail('MnsMissingDateHeader');
  const t = Date.parse(date);
  if (!Number.isFinite(t)) fail('MnsInvalidDateHeader', `The Date header format is invalid: "${date}" (expected RFC 1123, e.g. "Tue, 20 Aug 2024 07:03:09 GMT").`);
  const skew = opts.maxSkewMs ?? MNS_MAX_SKEW_MS;
  if (Math.abs(t - opts.now.getTime()) > skew) {
    fail('MnsTimeExpired', `The http request you sent is expired: its Date (${new Date(t).toISOString()}) is more than ${Math.round(skew / 60000)} minutes from the server time (${opts.now.toISOString()}).`);
  }

  const credential = opts.lookup(accessKeyId);
  if (credential === undefined) fail('MnsInvalidAccessKeyId');
  if (credential.expiresAt !== undefined && credential.expiresAt.getTime() <= opts.now.getTime()) {
    fail('MnsInvalidSecurityToken', 'The temporary access key has expired.');
  }
  if (credential.securityToken !== undefined) {
    const token = headerValue(req.headers, 'security-token');
    if (token === undefined || token === '') fail('MnsInvalidSecurityToken', 'Temporary credentials require the security-token header.');
    if (!constantTimeEqual(token, credential.securityToken)) fail('MnsInvalidSecurityToken');
  }

  const expected = mnsSignature(credential.secret, mnsStringToSign(req.method, req.headers, req.url));
  if (!constantTimeEqual(signature, expected)) fail('MnsSignatureDoesNotMatch');
  return { accessKeyId, credential };
}
