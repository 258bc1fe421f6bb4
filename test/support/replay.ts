/**
 * Replays a request captured from an official client (test/fixtures/vectors) against the real server.
 * The captures are signed at a past time, so the request is re-signed *now* with the client's own algorithm and
 * shape: the same URL bytes, header names in their captured case and order, the same date header kind (Go v3 V4
 * keeps `Date` and no `x-oss-date`), the same encodings (e.g. Go v3's `url.QueryEscape`d copy source). Only the
 * date values, the Host and the signature change.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { signV4 } from './oss-v4-sign.js';
import { signV1 } from './raw-client.js';

export const CAPTURE_BUCKET = 'examplebucket';

export interface Capture {
  label: string;
  method: string;
  url: string;
  rawHeaders: Array<[string, string]>;
  headers: Record<string, string>;
  body_b64?: string;
}

export function loadCaptures(file: string): Capture[] {
  return readFileSync(new URL(`../fixtures/vectors/${file}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Capture);
}

export interface Replayed {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

export interface ReplayOptions {
  /** Server base URL, e.g. http://127.0.0.1:1234 */
  baseUrl: string;
  accessKeyId: string;
  secret: string;
  region?: string;
  /** Edits applied to the URL before signing (e.g. the real uploadId). */
  url?: (url: string) => string;
  body?: (body: Buffer) => Buffer;
  /** Header value overrides by lowercase name (kept in the captured position and case). */
  headers?: Record<string, string>;
}

function isoBasic(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function decode(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

/** Bucket and decoded key the capture addresses: vhost when the Host names the bucket, else path-style. */
export function addressOf(c: Capture, url = c.url): { vhost: boolean; key?: string } {
  const path = url.split('?')[0] ?? '/';
  const vhost = (c.headers.host ?? '').startsWith(`${CAPTURE_BUCKET}.`);
  const rest = vhost ? path : path.slice(`/${CAPTURE_BUCKET}`.length);
  return { vhost, key: rest === '/' || rest === '' ? undefined : decodeURIComponent(rest.slice(1)) };
}

export function replay(c: Capture, opts: ReplayOptions): Promise<Replayed> {
  const base = new URL(opts.baseUrl);
  const url = opts.url ? opts.url(c.url) : c.url;
  const { vhost, key } = addressOf(c, url);
  const now = new Date();
  const headers: Array<[string, string]> = c.rawHeaders.map(([name, value]) => {
    const lower = name.toLowerCase();
    if (opts.headers?.[lower] !== undefined) return [name, opts.headers[lower]];
    if (lower === 'host') return [name, vhost ? `${CAPTURE_BUCKET}.oss-cn-hangzhou.aliyuncs.com:${base.port}` : base.host];
    if (lower === 'date') return [name, now.toUTCString()];
    if (lower === 'x-oss-date') return [name, isoBasic(now)];
    return [name, value];
  });
  let body: Buffer = Buffer.from(c.body_b64 ?? '', 'base64');
  if (opts.body) body = opts.body(body);
  const lowerMap = Object.fromEntries(headers.map(([n, v]) => [n.toLowerCase(), v]));
  const authIndex = headers.findIndex(([n]) => n.toLowerCase() === 'authorization');
  const original = authIndex < 0 ? '' : headers[authIndex]![1];
  let authorization: string | undefined;
  if (original.startsWith('OSS4-HMAC-SHA256')) {
    authorization = signV4({ method: c.method, rawUrl: url, headers: lowerMap, bucket: CAPTURE_BUCKET, key, accessKeyId: opts.accessKeyId, secret: opts.secret, region: opts.region ?? 'cn-hangzhou' });
  } else if (original.startsWith('OSS ')) {
    const q = url.indexOf('?');
    const query: Record<string, string> = {};
    if (q >= 0) {
      for (const part of url.slice(q + 1).split('&').filter((p) => p !== '')) {
        const eq = part.indexOf('=');
        query[decode(eq < 0 ? part : part.slice(0, eq))] = eq < 0 ? '' : decode(part.slice(eq + 1));
      }
    }
    const resource = key === undefined ? `/${CAPTURE_BUCKET}/` : `/${CAPTURE_BUCKET}/${key}`;
    authorization = `OSS ${opts.accessKeyId}:${signV1(opts.secret, c.method, lowerMap, resource, query)}`;
  }
  if (authorization !== undefined) headers[authIndex] = [headers[authIndex]![0], authorization];
  const chunked = (lowerMap['transfer-encoding'] ?? '').toLowerCase() === 'chunked';

  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, method: c.method, path: url, timeout: 30_000, setHost: false });
    for (const [name, value] of headers) {
      const lower = name.toLowerCase();
      // Node frames the body itself: keep chunked framing as captured, correct the length if the body was edited.
      if (lower === 'transfer-encoding' || lower === 'connection') continue;
      req.setHeader(name, lower === 'content-length' ? String(body.length) : value);
    }
    if (chunked) req.setHeader('Transfer-Encoding', 'chunked');
    req.on('timeout', () => req.destroy(new Error(`${c.label}: timeout`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.end(body.length > 0 || chunked ? body : undefined);
  });
}
