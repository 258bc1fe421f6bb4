/** The console API as the page uses it: the OSS dialect below /-/console/api/oss (XML), tasks as JSON. */
export interface SessionInfo {
  accessKeyId: string;
  root: boolean;
  buckets: Record<string, string>;
  csrf: string;
  expiresAt: string;
}

export interface TaskView {
  taskId: string;
  projectName: string;
  status: string;
  state: string;
  progress: number;
  code: string;
  message: string;
  outputs: string[];
  sources: string[];
  process?: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
}

export interface ObjectEntry {
  key: string;
  size: number;
  lastModified: string;
  etag: string;
}

export interface Listing {
  prefixes: string[];
  objects: ObjectEntry[];
  next?: string;
}

let csrf = '';
export const setCsrf = (t: string) => (csrf = t);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const enc = (s: string) => s.split('/').map(encodeURIComponent).join('/');
export const ossPath = (bucket: string, key = '') => `/-/console/api/oss/${encodeURIComponent(bucket)}/${enc(key)}`;

async function fail(r: Response): Promise<never> {
  const text = await r.text();
  if (text.startsWith('{')) {
    const j = JSON.parse(text) as { error?: string; message?: string; Code?: string; Message?: string };
    throw new ApiError(r.status, j.error ?? j.Code ?? String(r.status), j.message ?? j.Message ?? text);
  }
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  const code = doc.querySelector('Code')?.textContent ?? String(r.status);
  throw new ApiError(r.status, code, doc.querySelector('Message')?.textContent ?? r.statusText);
}

export async function call(method: string, url: string, body?: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
  const h: Record<string, string> = { ...headers };
  if (method !== 'GET' && method !== 'HEAD') h['X-Medley-Csrf'] = csrf;
  const r = await fetch(url, { method, body, headers: h, credentials: 'same-origin' });
  if (!r.ok) await fail(r);
  return r;
}

export async function signIn(accessKeyId: string, accessKeySecret: string): Promise<SessionInfo> {
  const r = await call('POST', '/-/console/api/session', JSON.stringify({ accessKeyId, accessKeySecret }), { 'Content-Type': 'application/json' });
  const s = (await r.json()) as SessionInfo;
  setCsrf(s.csrf);
  return s;
}

export async function session(): Promise<SessionInfo | undefined> {
  const r = await fetch('/-/console/api/session', { credentials: 'same-origin' });
  if (r.status === 401) return undefined;
  if (!r.ok) await fail(r);
  const s = (await r.json()) as SessionInfo;
  setCsrf(s.csrf);
  return s;
}

export const signOut = () => call('DELETE', '/-/console/api/session');

const xml = async (r: Response) => new DOMParser().parseFromString(await r.text(), 'application/xml');
const text = (el: Element, tag: string) => el.getElementsByTagName(tag)[0]?.textContent ?? '';

export async function listBuckets(s: SessionInfo): Promise<string[]> {
  if (!s.root) return Object.keys(s.buckets).sort();
  const doc = await xml(await call('GET', '/-/console/api/oss/?max-keys=1000'));
  return [...doc.getElementsByTagName('Bucket')].map((b) => text(b, 'Name'));
}

export const createBucket = (name: string) => call('PUT', `/-/console/api/oss/${encodeURIComponent(name)}`);
export const deleteBucket = (name: string) => call('DELETE', `/-/console/api/oss/${encodeURIComponent(name)}`);

/** One page of a folder (delimiter '/'): ListObjectsV2 with max-keys and the continuation token. */
export async function listFolder(bucket: string, prefix: string, token?: string, maxKeys = 100): Promise<Listing> {
  const q = new URLSearchParams({ 'list-type': '2', delimiter: '/', prefix, 'max-keys': String(maxKeys) });
  if (token) q.set('continuation-token', token);
  const doc = await xml(await call('GET', `/-/console/api/oss/${encodeURIComponent(bucket)}?${q}`));
  const next = doc.getElementsByTagName('NextContinuationToken')[0]?.textContent ?? undefined;
  return {
    prefixes: [...doc.getElementsByTagName('CommonPrefixes')].map((p) => text(p, 'Prefix')),
    objects: [...doc.getElementsByTagName('Contents')].map((c) => ({ key: text(c, 'Key'), size: Number(text(c, 'Size')), lastModified: text(c, 'LastModified'), etag: text(c, 'ETag').replace(/"/g, '') })),
    next: next || undefined,
  };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function deleteObjects(bucket: string, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const body = `<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet>${keys
      .slice(i, i + 1000)
      .map((k) => `<Object><Key>${esc(k)}</Key></Object>`)
      .join('')}</Delete>`;
    await call('POST', `/-/console/api/oss/${encodeURIComponent(bucket)}?delete`, body, { 'Content-Type': 'application/xml' });
  }
}

export async function headObject(bucket: string, key: string): Promise<Record<string, string>> {
  const r = await call('HEAD', ossPath(bucket, key));
  const out: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    if (/^(content-|etag|last-modified|x-oss-)/.test(k) && k !== 'content-security-policy' && k !== 'x-oss-request-id') out[k] = v;
  });
  return out;
}

export async function mediaInfo(bucket: string, key: string, kind: 'audio' | 'video'): Promise<unknown> {
  return (await call('GET', `${ossPath(bucket, key)}?x-oss-process=${kind}/info`)).json();
}

// Uploads (resumable multipart) and task lists with filters: admin.ts.

/** Submits an x-oss-async-process string on `bucket/key`; answers the TaskId. */
export async function submitProcess(bucket: string, key: string, process: string): Promise<string> {
  const r = await call('POST', `${ossPath(bucket, key)}?x-oss-async-process`, `x-oss-async-process=${process}`, { 'Content-Type': 'text/plain' });
  return ((await r.json()) as { TaskId: string }).TaskId;
}

/** base64url without padding, as OSS process strings name objects. */
export function b64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
