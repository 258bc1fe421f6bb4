/**
 * Helpers for the notification tests against a real `medley serve`: the official @alicloud/mns client
 * (typed as it behaves; its subscription methods are stubs, so Subscribe goes through its own signed
 * `put`), raw signed/unsigned MNS requests, a scriptable HTTP push receiver, read-only looks at the
 * notification tables, and one checker for the IMM task-completion message (spec/imm.md §5.2-5.3).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { queryRows } from './backend.js';
import type { TestServer } from './server.js';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------------------------
// The official client
// ---------------------------------------------------------------------------------------------------------------

export interface MnsResponse<T = Record<string, string>> {
  code: number;
  headers: Record<string, string | undefined>;
  body: T;
}
export type MnsFields = Record<string, string>;

/** The slice of @alicloud/mns' Client the tests use (the package ships no types). */
export interface MnsClient {
  endpoint: string;
  createQueue(name: string, params?: Record<string, unknown>): Promise<MnsResponse<undefined>>;
  getQueueAttributes(name: string): Promise<MnsResponse>;
  sendMessage(queue: string, params: Record<string, unknown>): Promise<MnsResponse>;
  receiveMessage(queue: string, waitSeconds?: number): Promise<MnsResponse>;
  deleteMessage(queue: string, handle: string): Promise<MnsResponse<undefined>>;
  createTopic(name: string, params?: Record<string, unknown>): Promise<MnsResponse<undefined>>;
  getTopicAttributes(name: string): Promise<MnsResponse>;
  setTopicAttributes(name: string, params?: Record<string, unknown>): Promise<MnsResponse<undefined>>;
  publishMessage(topic: string, params: Record<string, unknown>): Promise<MnsResponse>;
  get<T = MnsFields>(resource: string, type: string, opts?: { headers?: Record<string, string | number> }): Promise<MnsResponse<T>>;
  put<T = undefined>(resource: string, type: string, body: Buffer | string, attentions?: string[]): Promise<MnsResponse<T>>;
  delete<T = undefined>(resource: string, type: string, body: Buffer | string): Promise<MnsResponse<T>>;
  sign(verb: string, headers: Record<string, string | number>, resource: string): string;
}

const MNSClient = require('@alicloud/mns') as new (accountId: string, opts: Record<string, unknown>) => MnsClient;
const { toXMLBuffer } = require('@alicloud/mns/lib/helper.js') as { toXMLBuffer(root: string, params: unknown, sub?: string): Buffer };

export const DEFAULT_ACCOUNT_ID = '1000000000000001';

/** The official client for the server's MNS endpoint, with its test key. */
export function mnsClient(server: TestServer, accountId = DEFAULT_ACCOUNT_ID): MnsClient {
  return new MNSClient(accountId, { accessKeyId: server.keyId, accessKeySecret: server.secret, endpoint: server.mnsUrl });
}

/** `acs:mns:cn-hangzhou:<account>:queues/<queue>`: a queue as a subscription endpoint. */
export const acsQueue = (accountId: string, queue: string): string => `acs:mns:cn-hangzhou:${accountId}:queues/${queue}`;

export interface SubscriptionFields {
  Endpoint: string;
  NotifyStrategy?: 'BACKOFF_RETRY' | 'EXPONENTIAL_DECAY_RETRY';
  NotifyContentFormat?: 'XML' | 'JSON' | 'SIMPLIFIED';
  FilterTag?: string;
}

/** Subscribe (PUT /topics/<t>/subscriptions/<s>) through the client's signed low-level request. */
export async function subscribe(c: MnsClient, topic: string, name: string, fields: SubscriptionFields): Promise<number> {
  const r = await c.put(`/topics/${topic}/subscriptions/${name}`, 'Subscription', toXMLBuffer('Subscription', fields));
  return r.code;
}

/** Asserts the client call fails with MNS error `code` (the client names its errors MNS<Code>Error). */
export async function mnsRejects(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof Error, String(e));
    assert.equal(e.name, `MNS${code}Error`, e.message);
    return e;
  }
  return assert.fail(`expected the MNS error ${code}`);
}

/** The queue holds nothing receivable now or within `waitSeconds`, and nothing in flight or delayed. */
export async function assertQueueEmpty(c: MnsClient, queue: string, waitSeconds = 1): Promise<void> {
  await mnsRejects(c.receiveMessage(queue, waitSeconds), 'MessageNotExist');
  const a = await c.getQueueAttributes(queue);
  assert.equal(a.body.ActiveMessages, '0', `${queue} ActiveMessages`);
  assert.equal(a.body.InactiveMessages, '0', `${queue} InactiveMessages`);
  assert.equal(a.body.DelayMessages, '0', `${queue} DelayMessages`);
}

export const md5Upper = (s: string | Buffer): string => createHash('md5').update(s).digest('hex').toUpperCase();

// ---------------------------------------------------------------------------------------------------------------
// Raw HTTP to the MNS endpoint
// ---------------------------------------------------------------------------------------------------------------

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RawMnsOptions {
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** 'good' (default): signed with the client's own sign(); 'bad': a wrong signature; 'none': no Authorization. */
  sign?: 'good' | 'bad' | 'none';
  /** Send the body chunked (no Content-Length), in several writes. A content-length in `headers` is sent as given. */
  chunked?: boolean;
}

/** One request to the MNS endpoint, signed as the official client would sign it (unless told otherwise). */
export function rawMns(server: TestServer, c: MnsClient, method: string, path: string, opts: RawMnsOptions = {}): Promise<RawResponse> {
  const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, 'utf8');
  const headers: Record<string, string> = { date: new Date().toUTCString(), 'x-mns-version': '2015-06-06', ...opts.headers };
  if (body !== undefined) {
    headers['content-type'] ??= 'text/xml';
    if (opts.chunked) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] ??= String(body.length);
  }
  if (opts.sign !== 'none') {
    const sig = opts.sign === 'bad' ? 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' : c.sign(method, headers, path);
    headers.authorization = `MNS ${server.keyId}:${sig}`;
  }
  const url = new URL(server.mnsUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // The server may answer (and close) before it has read a body it refuses: keep the answer.
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') reject(e);
    });
    req.setTimeout(15_000, () => req.destroy(new Error('raw MNS request timed out')));
    if (body !== undefined && opts.chunked) {
      const step = Math.max(1, Math.ceil(body.length / 8));
      for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
      req.end();
    } else req.end(body);
  });
}

/** Plain GET of an absolute URL (the signing certificate). */
export function httpGet(url: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// An HTTP push receiver
// ---------------------------------------------------------------------------------------------------------------

export interface ReceivedPush {
  method: string;
  /** The request target as sent (path and query). */
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Date.now() when the request had been read. */
  at: number;
  /** The status this receiver answered; 0: it never answered (the request was left hanging). */
  answered: number;
}

export interface PushReceiver {
  url: string;
  port: number;
  /** Every request so far, in arrival order. */
  requests: ReceivedPush[];
  /** Requests to `path`. */
  to(path: string): ReceivedPush[];
  /** Resolves once `pred(requests)` holds (checked on every request), or rejects after `timeoutMs`. */
  waitFor(pred: (all: ReceivedPush[]) => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A local receiver: each path answers the statuses of `script[path]` in turn, then `fallback` (default 204);
 * a status of 0 leaves that request hanging (no answer until the receiver closes). `port` 0 = any free port.
 */
export async function startPushReceiver(script: Record<string, number[]> = {}, opts: { port?: number; fallback?: number } = {}): Promise<PushReceiver> {
  const requests: ReceivedPush[] = [];
  const served = new Map<string, number>();
  const listeners = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const path = req.url ?? '';
      const n = served.get(path) ?? 0;
      served.set(path, n + 1);
      const status = script[path]?.[n] ?? opts.fallback ?? 204;
      requests.push({ method: req.method ?? '', path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now(), answered: status });
      if (status !== 0) {
        res.writeHead(status, { 'content-length': '0' });
        res.end();
      }
      for (const l of [...listeners]) l();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    to: (path) => requests.filter((r) => r.path === path),
    waitFor(pred, timeoutMs, what) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!pred(requests)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`push receiver: ${what} did not happen in ${timeoutMs} ms; got ${requests.length} request(s): ${JSON.stringify(requests.map((r) => [r.path, r.answered, r.at]))}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (now): connections to it are refused. */
export async function unusedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------------------------
// The database, read-only
// ---------------------------------------------------------------------------------------------------------------

export interface OutboxRow {
  id: number;
  task_id: string;
  topic: string;
  body: string;
  state: string;
  detail: string;
  message_id: string | null;
  published_at: number | null;
}

export interface PushRow {
  id: number;
  topic: string;
  subscription: string;
  endpoint: string;
  message_id: string;
  message_body: string;
  state: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string;
  lease_owner: string | null;
  lease_expires_at: number | null;
}

export function outboxRows(dataDir: string, taskId?: string): Promise<OutboxRow[]> {
  return taskId === undefined
    ? queryRows<OutboxRow>(dataDir, 'SELECT * FROM notification_outbox ORDER BY id')
    : queryRows<OutboxRow>(dataDir, 'SELECT * FROM notification_outbox WHERE task_id = ? ORDER BY id', [taskId]);
}

export function pushRows(dataDir: string, topic?: string): Promise<PushRow[]> {
  return topic === undefined ? queryRows<PushRow>(dataDir, 'SELECT * FROM mns_pushes ORDER BY id') : queryRows<PushRow>(dataDir, 'SELECT * FROM mns_pushes WHERE topic = ? ORDER BY id', [topic]);
}

/** Queue messages (any state) whose body contains `needle` (an id: no LIKE wildcards in it). */
export function queueMessagesContaining(dataDir: string, needle: string): Promise<Array<{ queue: string; id: string }>> {
  return queryRows<{ queue: string; id: string }>(dataDir, 'SELECT queue, id FROM mns_messages WHERE body LIKE ? ORDER BY queue', [`%${needle}%`]);
}

/** Polls the task's outbox rows until `pred` holds (or fails after `timeoutMs`). */
export async function waitForOutbox(dataDir: string, taskId: string, pred: (rows: OutboxRow[]) => boolean, timeoutMs = 10_000): Promise<OutboxRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await outboxRows(dataDir, taskId);
    if (pred(rows)) return rows;
    if (Date.now() > deadline) assert.fail(`outbox rows of ${taskId} did not reach the expected state in ${timeoutMs} ms: ${JSON.stringify(rows.map((r) => ({ ...r, body: undefined })))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The task-completion message
// ---------------------------------------------------------------------------------------------------------------

export const ENVELOPE_KEYS = ['id', 'source', 'type', 'subject', 'time', 'content'];
export const CONTENT_KEYS = ['ProjectName', 'DatasetName', 'RequestId', 'StartTime', 'EndTime', 'UserData', 'TaskType', 'TaskId', 'Status', 'Code', 'Message', 'EventSourceId', 'Sources', 'Targets'];

export interface ExpectedNotification {
  accountId: string;
  project: string;
  /** From the submit response. */
  eventId: string;
  requestId: string;
  taskId: string;
  /** GetTask's body once the task ended. */
  getTask: Record<string, unknown>;
  userData: string;
  sources: string[];
  /** The resolved main output ("" when failed). */
  target: string;
  status: 'Succeeded' | 'Failed';
  code?: string;
  message?: string;
}

/**
 * Checks every field of a task-completion message body (the envelope JSON text) against what the task's
 * submit and GetTask said; returns the decoded content.
 */
export function assertTaskNotification(bodyText: string, x: ExpectedNotification): Record<string, unknown> {
  const env = JSON.parse(bodyText) as Record<string, unknown>;
  assert.deepEqual(Object.keys(env), ENVELOPE_KEYS, 'envelope keys in the documented order');
  assert.equal(env.id, x.eventId, 'envelope id is the task EventId');
  assert.equal(env.source, 'acs.imm');
  assert.equal(env.type, 'imm:Task:MediaConvert');
  assert.equal(env.subject, `acs:imm:cn-hangzhou:${x.accountId}:${x.project}/imm:Task:MediaConvert`);
  assert.equal(typeof env.time, 'string', 'time is a string');
  assert.match(env.time as string, /^\d{13}$/, 'time is epoch ms');
  assert.equal(typeof env.content, 'string', 'content is a JSON string');
  const content = JSON.parse(env.content as string) as Record<string, unknown>;
  assert.deepEqual(Object.keys(content), CONTENT_KEYS, 'content keys in the documented order');
  const t = x.getTask;
  assert.equal(typeof t.EndTime, 'string', `GetTask has an EndTime: ${JSON.stringify(t)}`);
  assert.equal(Number(env.time), Date.parse(t.EndTime as string), `time (${String(env.time)}) is the task's end (${String(t.EndTime)})`);
  assert.deepEqual(content, {
    ProjectName: x.project,
    DatasetName: '',
    RequestId: x.requestId,
    StartTime: t.StartTime,
    EndTime: t.EndTime,
    UserData: x.userData,
    TaskType: 'MediaConvert',
    TaskId: x.taskId,
    Status: x.status,
    Code: x.status === 'Succeeded' ? '' : x.code,
    Message: x.status === 'Succeeded' ? '' : x.message,
    EventSourceId: '',
    Sources: x.sources.map((URI) => ({ URI, SubtitleSources: null })),
    Targets: [{ URI: x.target, Subtitle: { Extract: { URI: '' } }, Image: { Sprites: null, Snapshots: null, Animations: null } }],
  });
  // And against GetTask itself.
  assert.equal(t.TaskId, x.taskId);
  assert.equal(t.EventId, x.eventId);
  assert.equal(t.Status, x.status);
  assert.equal(t.UserData ?? '', x.userData);
  if (x.status === 'Failed') {
    assert.equal(content.Code, t.Code);
    assert.equal(content.Message, t.Message);
  }
  return content;
}
