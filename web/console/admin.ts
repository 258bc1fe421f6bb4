/**
 * The console's admin calls as the page uses them: ACLs (the OSS dialect's ?acl), presigned URLs (signed on
 * the server for the session's key), resumable multipart uploads, task lists with filters and paging, and
 * the message service. Every failure is an ApiError with the server's code and message.
 */
import { ApiError, call, ossPath, type TaskView } from './api.js';

export type BucketAcl = 'private' | 'public-read' | 'public-read-write';
export type ObjectAcl = BucketAcl | 'default';
export const BUCKET_ACLS: readonly BucketAcl[] = ['private', 'public-read', 'public-read-write'];
export const OBJECT_ACLS: readonly ObjectAcl[] = ['default', 'private', 'public-read', 'public-read-write'];

const json = async <T>(r: Response) => (await r.json()) as T;
const post = (url: string, body: unknown, method = 'POST') => call(method, url, JSON.stringify(body), { 'Content-Type': 'application/json' });
const xml = async (r: Response) => new DOMParser().parseFromString(await r.text(), 'application/xml');

// ----- ACLs ---------------------------------------------------------------------------------------------------

export async function getAcl(bucket: string, key?: string): Promise<string> {
  const url = key === undefined ? `/-/console/api/oss/${encodeURIComponent(bucket)}?acl` : `${ossPath(bucket, key)}?acl`;
  return (await xml(await call('GET', url))).getElementsByTagName('Grant')[0]?.textContent ?? '';
}

export async function setAcl(acl: ObjectAcl, bucket: string, key?: string): Promise<void> {
  const url = key === undefined ? `/-/console/api/oss/${encodeURIComponent(bucket)}?acl` : `${ossPath(bucket, key)}?acl`;
  // PutBucketAcl reads x-oss-acl, PutObjectAcl x-oss-object-acl (as OSS).
  await call('PUT', url, undefined, { [key === undefined ? 'x-oss-acl' : 'x-oss-object-acl']: acl });
}

export const createBucketWithAcl = (name: string, acl: BucketAcl) => call('PUT', `/-/console/api/oss/${encodeURIComponent(name)}`, undefined, { 'x-oss-acl': acl });

// ----- presigned URLs -----------------------------------------------------------------------------------------

export interface Presigned {
  url: string;
  version: 'v1' | 'v4';
  expiresAt: string;
}

/** The longest expiry the server signs (a week, the V4 ceiling). */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export const presign = (bucket: string, key: string, expiresSeconds: number, version: 'v1' | 'v4') =>
  post('/-/console/api/presign', { bucket, key, expiresSeconds, version }).then((r) => json<Presigned>(r));

// ----- resumable multipart upload -----------------------------------------------------------------------------

/** Files this large go up in parts, so a dropped connection costs a part, not the file. */
export const MULTIPART_THRESHOLD = 32 * 1024 * 1024;
export const PART_SIZE = 8 * 1024 * 1024;

/**
 * What the page remembers of an unfinished multipart upload, in sessionStorage (this tab only; never a
 * credential): the upload id and the parts done. Keyed by bucket, key, file size and mtime, so picking the
 * same file again after a dropped connection (or a reload) continues it; the server's ListParts is the
 * truth of which parts arrived.
 */
interface Pending {
  uploadId: string;
  partSize: number;
  done: number[];
}
const pendingKey = (bucket: string, key: string, f: File) => `medley-upload:${bucket}/${key}:${f.size}:${f.lastModified}`;

function readPending(k: string): Pending | undefined {
  try {
    const v = JSON.parse(sessionStorage.getItem(k) ?? 'null') as Pending | null;
    return v && typeof v.uploadId === 'string' && typeof v.partSize === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Whether an unfinished upload of this file is remembered (the page offers "Resume"). */
export const hasPending = (bucket: string, key: string, f: File) => readPending(pendingKey(bucket, key, f)) !== undefined;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function csrfToken(): string {
  return document.cookie.replace(/(?:^|.*;\s*)medley_console_csrf=([^;]*).*$|^.*$/, '$1');
}

/** One XHR with upload progress (fetch has none). */
function xhr(method: string, url: string, body: Blob | string, onProgress: (loaded: number) => void, contentType?: string): Promise<XMLHttpRequest> {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open(method, url);
    x.setRequestHeader('X-Medley-Csrf', csrfToken());
    if (contentType) x.setRequestHeader('Content-Type', contentType);
    x.upload.onprogress = (e) => onProgress(e.loaded);
    x.onload = () => {
      if (x.status >= 200 && x.status < 300) return resolve(x);
      const doc = new DOMParser().parseFromString(x.responseText, 'application/xml');
      reject(new ApiError(x.status, doc.querySelector('Code')?.textContent ?? String(x.status), doc.querySelector('Message')?.textContent ?? x.statusText));
    };
    x.onerror = () => reject(new ApiError(0, 'NetworkError', 'The connection dropped during the upload: choose Resume (or pick the same file again) to continue from the parts already sent.'));
    x.send(body);
  });
}

/** ListParts, every page: part number → ETag of the parts the server has. */
async function listParts(url: string, uploadId: string): Promise<Map<number, { etag: string; size: number }>> {
  const out = new Map<number, { etag: string; size: number }>();
  let marker = '';
  for (;;) {
    const doc = await xml(await call('GET', `${url}?uploadId=${encodeURIComponent(uploadId)}&max-parts=1000${marker ? `&part-number-marker=${marker}` : ''}`));
    for (const p of doc.getElementsByTagName('Part')) {
      const n = Number(p.getElementsByTagName('PartNumber')[0]?.textContent);
      out.set(n, { etag: p.getElementsByTagName('ETag')[0]?.textContent ?? '', size: Number(p.getElementsByTagName('Size')[0]?.textContent) });
    }
    if (doc.getElementsByTagName('IsTruncated')[0]?.textContent !== 'true') return out;
    marker = doc.getElementsByTagName('NextPartNumberMarker')[0]?.textContent ?? '';
    if (!marker) return out;
  }
}

export interface UploadProgress {
  loaded: number;
  total: number;
  /** Parts found on the server when the upload continued. */
  resumedParts?: number;
}

/**
 * Uploads one file: a single streamed PUT below MULTIPART_THRESHOLD, else a multipart upload that continues
 * a remembered one (ListParts, then only the missing parts). A dropped connection keeps the upload for a
 * resume; a refusal from the server (4xx) aborts it.
 */
export async function uploadFile(bucket: string, key: string, file: File, onProgress: (p: UploadProgress) => void): Promise<void> {
  const url = ossPath(bucket, key);
  if (file.size < MULTIPART_THRESHOLD) {
    await xhr('PUT', url, file, (n) => onProgress({ loaded: n, total: file.size }), file.type || undefined);
    return;
  }
  const memo = pendingKey(bucket, key, file);
  let pending = readPending(memo);
  let have = new Map<number, { etag: string; size: number }>();
  if (pending) {
    try {
      have = await listParts(url, pending.uploadId);
    } catch (e) {
      // The upload was completed or aborted meanwhile (NoSuchUpload): start over.
      if (!(e instanceof ApiError) || e.status === 0) throw e;
      pending = undefined;
      have = new Map();
    }
  }
  if (!pending) {
    const init = await xhr('POST', `${url}?uploads`, '', () => undefined, file.type || undefined);
    const uploadId = new DOMParser().parseFromString(init.responseText, 'application/xml').querySelector('UploadId')?.textContent ?? '';
    pending = { uploadId, partSize: PART_SIZE, done: [] };
  }
  const { uploadId, partSize } = pending;
  const save = () => sessionStorage.setItem(memo, JSON.stringify(pending));
  save();
  const count = Math.ceil(file.size / partSize);
  const etags = new Map<number, string>();
  let sent = 0;
  for (let n = 1; n <= count; n++) {
    const part = have.get(n);
    const expected = Math.min(partSize, file.size - (n - 1) * partSize);
    if (part && part.size === expected) {
      etags.set(n, part.etag);
      sent += expected;
    }
  }
  onProgress({ loaded: sent, total: file.size, resumedParts: etags.size });
  try {
    for (let n = 1; n <= count; n++) {
      if (etags.has(n)) continue;
      const at = (n - 1) * partSize;
      const base = sent;
      const r = await xhr('PUT', `${url}?partNumber=${n}&uploadId=${encodeURIComponent(uploadId)}`, file.slice(at, at + partSize), (loaded) => onProgress({ loaded: base + loaded, total: file.size, resumedParts: have.size }));
      etags.set(n, r.getResponseHeader('ETag') ?? '');
      sent += Math.min(partSize, file.size - at);
      pending.done = [...etags.keys()].sort((a, b) => a - b);
      save();
    }
    const parts = [...etags.entries()].sort(([a], [b]) => a - b).map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${esc(e)}</ETag></Part>`);
    await xhr('POST', `${url}?uploadId=${encodeURIComponent(uploadId)}`, `<CompleteMultipartUpload>${parts.join('')}</CompleteMultipartUpload>`, () => undefined, 'application/xml');
    sessionStorage.removeItem(memo);
  } catch (e) {
    if (e instanceof ApiError && e.status !== 0) {
      // Refused (not dropped): nothing to resume.
      sessionStorage.removeItem(memo);
      await call('DELETE', `${url}?uploadId=${encodeURIComponent(uploadId)}`).catch(() => undefined);
    }
    throw e;
  }
}

// ----- tasks --------------------------------------------------------------------------------------------------

export interface TaskDetail extends TaskView {
  type: string;
  attempts: number;
  userData: string;
  notifyTopic?: string;
  request: unknown;
}

export interface TaskFilter {
  project?: string;
  status?: string;
  from?: string;
  to?: string;
  max?: number;
}

export interface TaskPage {
  tasks: TaskDetail[];
  nextToken: string;
  more?: boolean;
  projects: string[];
}

export function listTaskPage(f: TaskFilter, nextToken?: string): Promise<TaskPage> {
  const q = new URLSearchParams();
  if (f.project) q.set('project', f.project);
  if (f.status) q.set('status', f.status);
  // datetime-local is the browser's local time: sent as an instant.
  if (f.from) q.set('from', new Date(f.from).toISOString());
  if (f.to) q.set('to', new Date(f.to).toISOString());
  q.set('max', String(f.max ?? 20));
  if (nextToken) q.set('nextToken', nextToken);
  return call('GET', `/-/console/api/tasks?${q}`).then((r) => json<TaskPage>(r));
}

// ----- message service ----------------------------------------------------------------------------------------

export interface Subscription {
  topic: string;
  name: string;
  endpoint: string;
  notifyStrategy: string;
  notifyContentFormat: string;
  filterTag: string;
}
export interface Topic {
  name: string;
  messageCount: number;
  createdAt: number;
  subscriptions: Subscription[];
}
export interface Queue {
  name: string;
  activeMessages?: number;
  inactiveMessages?: number;
  delayMessages?: number;
  createdAt: number;
}
export interface PeekedMessage {
  messageId: string;
  body: string;
  enqueueTime: number;
  dequeueCount: number;
  priority: number;
}
export interface PushDelivery {
  id: number;
  topic: string;
  subscription: string;
  endpoint: string;
  messageId: string;
  publishedAt: number;
  attempts: number;
  nextAttemptAt: number;
  state: string;
  lastError: string;
}

const MNS = '/-/console/api/mns';
const seg = encodeURIComponent;
export const mns = {
  topics: () => call('GET', `${MNS}/topics`).then((r) => json<{ topics: Topic[]; nextMarker: string }>(r)),
  createTopic: (name: string) => post(`${MNS}/topics`, { name }),
  deleteTopic: (name: string) => call('DELETE', `${MNS}/topics/${seg(name)}`),
  subscribe: (topic: string, name: string, endpoint: string, notifyContentFormat: string) => post(`${MNS}/topics/${seg(topic)}/subscriptions`, { name, endpoint, notifyContentFormat }),
  unsubscribe: (topic: string, name: string) => call('DELETE', `${MNS}/topics/${seg(topic)}/subscriptions/${seg(name)}`),
  publish: (topic: string, body: string) => post(`${MNS}/topics/${seg(topic)}/messages`, { body }),
  queues: () => call('GET', `${MNS}/queues`).then((r) => json<{ queues: Queue[]; nextMarker: string }>(r)),
  createQueue: (name: string) => post(`${MNS}/queues`, { name }),
  deleteQueue: (name: string) => call('DELETE', `${MNS}/queues/${seg(name)}`),
  peek: (queue: string) => call('GET', `${MNS}/queues/${seg(queue)}/messages`).then((r) => json<{ messages: PeekedMessage[] }>(r)),
  send: (queue: string, body: string) => post(`${MNS}/queues/${seg(queue)}/messages`, { body }),
  pushes: (state?: string, before?: number) => {
    const q = new URLSearchParams();
    if (state) q.set('state', state);
    if (before !== undefined) q.set('before', String(before));
    return call('GET', `${MNS}/pushes?${q}`).then((r) => json<{ items: PushDelivery[]; next?: number }>(r));
  },
};
