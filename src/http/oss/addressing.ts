/**
 * Which bucket and key a request addresses (spec 1.3–1.5). Pure: the caller passes the Host header, the raw path
 * and the configured service domain; CNAME mapping (step 3 of 1.3) needs configuration and stays with the caller.
 */
import { fail } from '../../errors.js';
import { BUCKET_NAME_EXISTING_SOURCE } from '../../storage/names.js';

export interface Address {
  style: 'service' | 'virtual-hosted' | 'path';
  bucket?: string;
  key?: string;
}

/**
 * The ali-oss IP-endpoint quirk (spec 1.2, 8.21): the URL carries no bucket, but the SDK rewrites Host to
 * `<bucket>.oss-<region>[-internal].aliyuncs.com`. `_` is accepted like on every read path (spec 1.5).
 */
const ALIYUN_HOST = new RegExp(`^(${BUCKET_NAME_EXISTING_SOURCE})\\.oss-[a-z0-9-]+(-internal)?\\.aliyuncs\\.com$`);


/**
 * Resolution order (spec 1.3): `<label>.<domain>` → virtual-hosted; aliyuncs-style Host → virtual-hosted;
 * otherwise path style (`/` alone = service level).
 */
export function resolveAddress(input: { host: string | undefined; rawPath: string; domain: string }): Address {
  const hostname = normalizeHost(input.host);
  const bucket = bucketFromHost(hostname, normalizeHost(input.domain));
  if (bucket !== undefined) return virtualHosted(bucket, input.rawPath);
  return pathStyle(input.rawPath);
}

/** `Bucket.LocalHost:9000.` → `bucket.localhost`: ports, case and a trailing root dot do not change the name. */
function normalizeHost(host: string | undefined): string {
  if (host === undefined) return '';
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h; // IPv6 literal: never a bucket host, and its colons are not a port separator.
  const colon = h.lastIndexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

function bucketFromHost(hostname: string, domain: string): string | undefined {
  if (domain !== '' && hostname.endsWith(`.${domain}`)) {
    const label = hostname.slice(0, -(domain.length + 1));
    // Exactly one extra DNS label: `a.b.localhost` is not `<bucket>.localhost`.
    if (label !== '' && !label.includes('.')) return label;
  }
  return ALIYUN_HOST.exec(hostname)?.[1];
}

/** In a virtual-hosted request the whole path is the key; `/` is the bucket itself. */
function virtualHosted(bucket: string, rawPath: string): Address {
  const rawKey = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (rawKey === '') return { style: 'virtual-hosted', bucket };
  return { style: 'virtual-hosted', bucket, key: decodePathPart(rawKey, 'InvalidObjectName') };
}

/**
 * `/bucket/key...`: split on the first raw '/' *before* decoding, so a `%2F` (oss2 encodes '/' that way) can only
 * ever land inside the key, never move the bucket/key boundary.
 */
function pathStyle(rawPath: string): Address {
  const rest = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (rest === '') return { style: 'service' };
  const slash = rest.indexOf('/');
  const rawBucket = slash < 0 ? rest : rest.slice(0, slash);
  const rawKey = slash < 0 ? '' : rest.slice(slash + 1);
  const bucket = decodePathPart(rawBucket, 'InvalidBucketName');
  if (rawKey === '') return { style: 'path', bucket };
  return { style: 'path', bucket, key: decodePathPart(rawKey, 'InvalidObjectName') };
}

/**
 * Percent-decodes once. Unlike query strings, a '+' in a path is a plus (spec 1.4): decodeURIComponent keeps it.
 * Malformed escapes and invalid UTF-8 become a client error instead of a URIError.
 */
function decodePathPart(raw: string, errorName: 'InvalidObjectName' | 'InvalidBucketName'): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    const what = errorName === 'InvalidObjectName' ? 'object name' : 'bucket name';
    return fail(errorName, `The ${what} in the request path has malformed percent-encoding: "${raw}".`);
  }
}
