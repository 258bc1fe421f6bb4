/**
 * An OSS V4 header signer written from the spec (section 2.4), independent of src/auth, so tests can re-sign a
 * captured client request at another time or for another region while keeping its exact header shapes: the
 * date line is `x-oss-date` when the request has one, else its `Date` header verbatim (as the Go SDK v3 signs).
 */
import { createHash, createHmac } from 'node:crypto';

export interface V4SignInput {
  method: string;
  /** Path + query as sent on the wire. */
  rawUrl: string;
  /** Header name → value (any case); the Authorization header is ignored. */
  headers: Record<string, string>;
  bucket: string;
  /** Decoded key, absent for bucket-level requests. */
  key?: string;
  accessKeyId: string;
  secret: string;
  region: string;
}

function uriEncode(s: string, keepSlash: boolean): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/') ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function canonicalQuery(rawQuery: string): string {
  const params = rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const dec = (x: string) => decodeURIComponent(x.replace(/\+/g, ' '));
      return { name: uriEncode(dec(eq < 0 ? p : p.slice(0, eq)), false), value: uriEncode(dec(eq < 0 ? '' : p.slice(eq + 1)), false) };
    });
  params.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return params.map((p) => (p.value === '' ? p.name : `${p.name}=${p.value}`)).join('&');
}

/** The `Authorization` value for the request as it stands (its current Date / x-oss-date). */
export function signV4(input: V4SignInput): string {
  const lower = new Map(Object.entries(input.headers).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const dateLine = lower.get('x-oss-date') ?? lower.get('date');
  if (dateLine === undefined) throw new Error('no date line to sign');
  const ms = /^\d{8}T\d{6}Z$/.test(dateLine)
    ? Date.UTC(+dateLine.slice(0, 4), +dateLine.slice(4, 6) - 1, +dateLine.slice(6, 8), +dateLine.slice(9, 11), +dateLine.slice(11, 13), +dateLine.slice(13, 15))
    : Date.parse(dateLine);
  const day = new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');
  const q = input.rawUrl.indexOf('?');
  const headers = [...lower.entries()]
    .filter(([n]) => n.startsWith('x-oss-') || n === 'content-type' || n === 'content-md5')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([n, v]) => `${n}:${v}\n`)
    .join('');
  const canonicalRequest = [
    input.method.toUpperCase(),
    uriEncode(`/${input.bucket}/${input.key ?? ''}`, true),
    q < 0 ? '' : canonicalQuery(input.rawUrl.slice(q + 1)),
    headers,
    '',
    lower.get('x-oss-content-sha256') ?? 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${day}/${input.region}/oss/aliyun_v4_request`;
  const stringToSign = `OSS4-HMAC-SHA256\n${dateLine}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`aliyun_v4${input.secret}`, day), input.region), 'oss'), 'aliyun_v4_request');
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  // The Go SDK's shape: ',' with no space, no AdditionalHeaders.
  return `OSS4-HMAC-SHA256 Credential=${input.accessKeyId}/${scope},Signature=${signature}`;
}
