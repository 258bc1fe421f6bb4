/**
 * A minimal raw-HTTP OSS client for negative tests: builds exactly the bytes we want (including broken
 * ones) and signs with an independent V1 implementation (spec oss.md §2.2), not the server's code.
 */
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

const SUBRESOURCES = new Set(['acl', 'uploads', 'uploadId', 'partNumber', 'location', 'bucketInfo', 'delete', 'append', 'position', 'objectMeta', 'continuation-token', 'x-oss-process', 'x-oss-async-process', 'response-content-type', 'response-content-disposition', 'security-token', 'cors']);

/** V1 signature over method, headers and the canonical resource `/<bucket>/<key>?subresources`. */
export function signV1(secret: string, method: string, headers: Record<string, string>, resource: string, query: Record<string, string> = {}): string {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const ossHeaders = Object.keys(lower)
    .filter((k) => k.startsWith('x-oss-'))
    .sort()
    .map((k) => `${k}:${lower[k]!.trim()}\n`)
    .join('');
  const sub = Object.keys(query)
    .filter((k) => SUBRESOURCES.has(k) || k.startsWith('x-oss-'))
    .sort()
    .map((k) => (query[k] === '' ? k : `${k}=${query[k]}`))
    .join('&');
  const date = lower['x-oss-date'] ?? lower['date'] ?? '';
  const sts = `${method}\n${lower['content-md5'] ?? ''}\n${lower['content-type'] ?? ''}\n${date}\n${ossHeaders}${resource}${sub ? `?${sub}` : ''}`;
  return createHmac('sha1', secret).update(sts).digest('base64');
}

export interface RawRequest {
  method: string;
  bucket?: string;
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Sign with this key pair; leave out for an anonymous request. */
  auth?: { id: string; secret: string };
  /** Override the Date header (for skew tests). */
  date?: Date;
}

/** Path-style URL path for bucket/key (key percent-encoded per segment, '/' kept). */
export function pathFor(bucket?: string, key?: string): string {
  if (!bucket) return '/';
  if (key === undefined) return `/${bucket}/`;
  return `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export function queryString(query: Record<string, string> = {}): string {
  const parts = Object.entries(query).map(([k, v]) => (v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`));
  return parts.length ? `?${parts.join('&')}` : '';
}

export function signedHeaders(r: RawRequest): Record<string, string> {
  const headers: Record<string, string> = { Date: (r.date ?? new Date()).toUTCString(), ...r.headers };
  if (r.auth) {
    const resource = r.bucket ? (r.key !== undefined ? `/${r.bucket}/${r.key}` : `/${r.bucket}/`) : '/';
    headers.Authorization = `OSS ${r.auth.id}:${signV1(r.auth.secret, r.method, headers, resource, r.query)}`;
  }
  return headers;
}

export function rawRequest(baseUrl: string, r: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const headers = signedHeaders(r);
  const body = r.body === undefined ? undefined : Buffer.from(r.body);
  if (body) headers['Content-Length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method: r.method, path: pathFor(r.bucket, r.key) + queryString(r.query), headers, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends raw bytes on a fresh socket and resolves with what came back when the server closes (or after `waitMs`). */
export function rawSocket(baseUrl: string, bytes: Buffer | string, waitMs = 2000): Promise<string> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(url.port), url.hostname);
    let out = '';
    const timer = setTimeout(() => sock.destroy(), waitMs);
    sock.on('data', (d) => (out += d.toString('latin1')));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    sock.on('error', reject);
    sock.write(bytes);
  });
}

/** Extracts <Tag>value</Tag> from an XML body. */
export function xmlTag(text: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(text)?.[1];
}
