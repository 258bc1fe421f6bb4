/**
 * The MNS dialect end to end: `startMnsServer` in-process on port 0 over a temp database, driven by the official
 * `@alicloud/mns` client with only its endpoint changed. Every queue, message, topic and subscription operation
 * (the client's stubbed subscription methods through its own signed `get/put/delete`), long polling, visibility
 * expiry, stale receipt handles, topic → queue delivery in each NotifyContentFormat, durability across a restart,
 * and malformed requests over raw HTTP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../../src/config.js';
import { openDatabase, type Db } from '../../../src/db/connection.js';
import { MnsService } from '../../../src/notify/mns-service.js';
import { startMnsServer, type RunningMnsServer } from '../../../src/http/mns/server.js';
import type { CredentialLookup } from '../../../src/auth/credentials.js';

// ---------------------------------------------------------------------------------------------------------------
// The official client (CommonJS, untyped)
// ---------------------------------------------------------------------------------------------------------------

interface MnsResponse<T = Record<string, string>> {
  code: number;
  headers: Record<string, string | undefined>;
  body: T;
}
type Msg = Record<string, string>;
interface MnsClient {
  endpoint: string;
  createQueue(name: string, params?: Record<string, unknown>): Promise<MnsResponse<undefined>>;
  deleteQueue(name: string): Promise<MnsResponse<undefined>>;
  listQueue(start?: string, limit?: number, prefix?: string): Promise<MnsResponse<Msg[] | undefined>>;
  getQueueAttributes(name: string): Promise<MnsResponse>;
  setQueueAttributes(name: string, params?: Record<string, unknown>): Promise<MnsResponse<undefined>>;
  sendMessage(queue: string, params: Record<string, unknown>): Promise<MnsResponse>;
  batchSendMessage(queue: string, params: Record<string, unknown>[]): Promise<MnsResponse<Msg[]>>;
  receiveMessage(queue: string, waitSeconds?: number): Promise<MnsResponse>;
  batchReceiveMessage(queue: string, n: number, waitSeconds?: number): Promise<MnsResponse<Msg[]>>;
  peekMessage(queue: string): Promise<MnsResponse>;
  batchPeekMessage(queue: string, n: number): Promise<MnsResponse<Msg[]>>;
  deleteMessage(queue: string, handle: string): Promise<MnsResponse<undefined>>;
  batchDeleteMessage(queue: string, handles: string[]): Promise<MnsResponse<Msg[] | undefined>>;
  changeMessageVisibility(queue: string, handle: string, seconds: number): Promise<MnsResponse>;
  createTopic(name: string, params?: Record<string, unknown>): Promise<MnsResponse<undefined>>;
  listTopic(start?: string, limit?: number, prefix?: string): Promise<MnsResponse<Msg[] | undefined>>;
  getTopicAttributes(name: string): Promise<MnsResponse>;
  setTopicAttributes(name: string, params?: Record<string, unknown>): Promise<MnsResponse<undefined>>;
  publishMessage(topic: string, params: Record<string, unknown>): Promise<MnsResponse>;
  // The low-level signed requests (the client's subscription methods are empty stubs).
  get<T = Msg>(resource: string, type: string, opts?: { headers?: Record<string, string | number> }): Promise<MnsResponse<T>>;
  put<T = undefined>(resource: string, type: string, body: Buffer | string, attentions?: string[]): Promise<MnsResponse<T>>;
  delete<T = undefined>(resource: string, type: string, body: Buffer | string): Promise<MnsResponse<T>>;
  sign(verb: string, headers: Record<string, string | number>, resource: string): string;
}
const require = createRequire(import.meta.url);
const MNSClient = require('@alicloud/mns') as new (accountId: string, opts: Record<string, unknown>) => MnsClient;
const { toXMLBuffer } = require('@alicloud/mns/lib/helper.js') as { toXMLBuffer(root: string, params: unknown, sub?: string): Buffer };

// ---------------------------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------------------------

const ACCOUNT = '1000000000000001';
const KEY_ID = 'LTAI5tMnsClientKey1';
const SECRET = 'MnsClientSecret0000000000000001';
const lookup: CredentialLookup = (id) => (id === KEY_ID ? { accessKeyId: KEY_ID, secret: SECRET } : undefined);

interface Harness {
  db: Db;
  mns: MnsService;
  server: RunningMnsServer;
  client: MnsClient;
  stop(): Promise<void>;
}

function testConfig(dataDir: string): Config {
  return loadConfig({ host: '127.0.0.1', mnsPort: '0', dataDir, accountId: ACCOUNT, logLevel: 'silent' }, {});
}

async function startHarness(dbFile: string): Promise<Harness> {
  const config = testConfig(join(dbFile, '..'));
  const db = await openDatabase(dbFile);
  const mns = new MnsService(db, { accountId: config.accountId, region: config.region, autoCreateTopics: config.mnsAutoCreateTopics });
  const server = await startMnsServer({ config, lookup, mns, log: pino({ level: 'silent' }) });
  const client = new MNSClient(ACCOUNT, { accessKeyId: KEY_ID, accessKeySecret: SECRET, endpoint: server.url });
  return {
    db,
    mns,
    server,
    client,
    async stop() {
      await server.close(1000);
      mns.close();
      await db.destroy();
    },
  };
}

let dir: string;
let h: Harness;
let c: MnsClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medley-mns-http-'));
  h = await startHarness(join(dir, 'medley.db'));
  c = h.client;
});
after(async () => {
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
function fresh(prefix: string): string {
  return `${prefix}-${++seq}`;
}

/** Asserts the client call fails with the MNS error `code` (the client names errors MNS<Code>Error). */
async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof Error);
    assert.equal(e.name, `MNS${code}Error`, e.message);
    return e;
  }
  return assert.fail(`expected ${code}`);
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex').toUpperCase();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function subscriptionBody(fields: Record<string, string>): Buffer {
  return toXMLBuffer('Subscription', fields);
}

// ---------------------------------------------------------------------------------------------------------------
// Queues
// ---------------------------------------------------------------------------------------------------------------

describe('queues through the official client', () => {
  test('CreateQueue: 201 + Location; same attributes 204; other attributes QueueAlreadyExist', async () => {
    const q = fresh('cq');
    const r = await c.createQueue(q, { VisibilityTimeout: 60, DelaySeconds: 0, LoggingEnabled: 'True' });
    assert.equal(r.code, 201);
    assert.equal(r.headers.location, `${h.server.url}/queues/${q}`);
    const again = await c.createQueue(q, { VisibilityTimeout: 60, LoggingEnabled: 'True' });
    assert.equal(again.code, 204);
    assert.equal(again.headers.location, `${h.server.url}/queues/${q}`);
    await rejectsWith(c.createQueue(q, { VisibilityTimeout: 61, LoggingEnabled: 'True' }), 'QueueAlreadyExist');
    await rejectsWith(c.createQueue(fresh('cq'), { VisibilityTimeout: 0 }), 'InvalidArgument');
    await rejectsWith(c.createQueue('bad_name'), 'InvalidQueueName');
    await rejectsWith(c.createQueue(fresh('cq'), { VisibilityTimeout: 'soon' }), 'InvalidArgument');
  });

  test('GetQueueAttributes, SetQueueAttributes, DeleteQueue', async () => {
    const q = fresh('aq');
    await c.createQueue(q, { MaximumMessageSize: 2048, PollingWaitSeconds: 1 });
    let a = await c.getQueueAttributes(q);
    assert.equal(a.code, 200);
    assert.equal(a.body.QueueName, q);
    assert.equal(a.body.MaximumMessageSize, '2048');
    assert.equal(a.body.PollingWaitSeconds, '1');
    assert.equal(a.body.VisibilityTimeout, '30');
    assert.equal(a.body.DelaySeconds, '0');
    assert.equal(a.body.MessageRetentionPeriod, '345600');
    assert.equal(a.body.LoggingEnabled, 'False');
    assert.equal(a.body.ActiveMessages, '0');
    assert.equal(a.body.InactiveMessages, '0');
    assert.equal(a.body.DelayMessages, '0');
    assert.match(a.body.CreateTime!, /^\d{10}$/);
    assert.ok(Math.abs(Number(a.body.CreateTime) - Date.now() / 1000) < 60);

    const s = await c.setQueueAttributes(q, { VisibilityTimeout: 90, LoggingEnabled: true });
    assert.equal(s.code, 204);
    a = await c.getQueueAttributes(q);
    assert.equal(a.body.VisibilityTimeout, '90');
    assert.equal(a.body.LoggingEnabled, 'True');
    assert.equal(a.body.MaximumMessageSize, '2048');

    const d = await c.deleteQueue(q);
    assert.equal(d.code, 204);
    await rejectsWith(c.getQueueAttributes(q), 'QueueNotExist');
    await rejectsWith(c.setQueueAttributes(q, { VisibilityTimeout: 10 }), 'QueueNotExist');
    await rejectsWith(c.sendMessage(q, { MessageBody: 'x' }), 'QueueNotExist');
  });

  test('ListQueue: QueueURLs, prefix, marker and NextMarker; with meta', async () => {
    const p = fresh('lq');
    for (const n of ['a', 'b', 'c']) await c.createQueue(`${p}-${n}`);
    const all = await c.listQueue('', 10, `${p}-`);
    assert.equal(all.code, 200);
    assert.deepEqual(
      all.body!.map((x) => x.QueueURL),
      ['a', 'b', 'c'].map((n) => `${h.server.url}/queues/${p}-${n}`),
    );
    // NextMarker (the client drops it from listQueue's result, so read the document directly).
    const page1 = await c.get<{ Queue: Msg[]; NextMarker: string }>('/queues', 'Queues', { headers: { 'x-mns-prefix': `${p}-`, 'x-mns-ret-number': 2 } });
    assert.equal(page1.body.Queue.length, 2);
    assert.equal(page1.body.NextMarker, `${p}-c`);
    const page2 = await c.listQueue(page1.body.NextMarker, 2, `${p}-`);
    assert.deepEqual(
      page2.body!.map((x) => x.QueueURL),
      [`${h.server.url}/queues/${p}-c`],
    );
    const meta = await c.get<{ Queue: Msg[] }>('/queues', 'Queues', { headers: { 'x-mns-prefix': `${p}-a`, 'x-mns-with-meta': 'true' } });
    assert.equal(meta.body.Queue[0]!.QueueName, `${p}-a`);
    assert.equal(meta.body.Queue[0]!.VisibilityTimeout, '30');
    const none = await c.listQueue('', 10, 'no-such-prefix');
    assert.equal(none.body, undefined);
    await rejectsWith(c.listQueue('', 1001, ''), 'InvalidArgument');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------------------------

describe('messages through the official client', () => {
  test('SendMessage, PeekMessage, ReceiveMessage, ChangeMessageVisibility, DeleteMessage', async () => {
    const q = fresh('mq');
    await c.createQueue(q, { VisibilityTimeout: 60 });
    const sent = await c.sendMessage(q, { MessageBody: 'hello world', Priority: 3 });
    assert.equal(sent.code, 201);
    assert.match(sent.body.MessageId!, /^[0-9A-F]{32}$/);
    assert.equal(sent.body.MessageBodyMD5, md5('hello world'));

    const peek = await c.peekMessage(q);
    assert.equal(peek.code, 200);
    assert.equal(peek.body.MessageId, sent.body.MessageId);
    assert.equal(peek.body.MessageBody, 'hello world');
    assert.equal(peek.body.DequeueCount, '0');
    assert.equal(peek.body.Priority, '3');
    assert.equal(peek.body.ReceiptHandle, undefined);

    const t0 = Date.now();
    const got = await c.receiveMessage(q);
    assert.equal(got.code, 200);
    const m = got.body;
    assert.equal(m.MessageId, sent.body.MessageId);
    assert.equal(m.MessageBody, 'hello world');
    assert.equal(m.MessageBodyMD5, md5('hello world'));
    assert.equal(m.DequeueCount, '1');
    assert.equal(m.Priority, '3');
    assert.match(m.ReceiptHandle!, /^1-/);
    for (const k of ['EnqueueTime', 'NextVisibleTime', 'FirstDequeueTime']) assert.match(m[k]!, /^\d{13}$/, k);
    assert.ok(Math.abs(Number(m.NextVisibleTime) - (t0 + 60_000)) < 5000);
    await rejectsWith(c.receiveMessage(q), 'MessageNotExist');
    await rejectsWith(c.peekMessage(q), 'MessageNotExist');

    const changed = await c.changeMessageVisibility(q, m.ReceiptHandle!, 100);
    assert.equal(changed.code, 200);
    assert.notEqual(changed.body.ReceiptHandle, m.ReceiptHandle);
    assert.ok(Number(changed.body.NextVisibleTime) > Number(m.NextVisibleTime));
    // The handle before the change is stale now.
    await rejectsWith(c.deleteMessage(q, m.ReceiptHandle!), 'MessageNotExist');
    await rejectsWith(c.changeMessageVisibility(q, changed.body.ReceiptHandle!, 43201), 'InvalidArgument');
    const del = await c.deleteMessage(q, changed.body.ReceiptHandle!);
    assert.equal(del.code, 204);
    await rejectsWith(c.deleteMessage(q, changed.body.ReceiptHandle!), 'MessageNotExist');
    await rejectsWith(c.deleteMessage(q, 'garbage'), 'ReceiptHandleError');
    assert.equal((await c.getQueueAttributes(q)).body.ActiveMessages, '0');
  });

  test('BatchSendMessage, BatchPeekMessage, BatchReceiveMessage, BatchDeleteMessage', async () => {
    const q = fresh('bq');
    await c.createQueue(q);
    const sent = await c.batchSendMessage(q, [{ MessageBody: 'one' }, { MessageBody: 'two', Priority: 1 }, { MessageBody: 'three', DelaySeconds: 0 }]);
    assert.equal(sent.code, 201);
    assert.equal(sent.body.length, 3);
    assert.deepEqual(
      sent.body.map((x) => x.MessageBodyMD5),
      ['one', 'two', 'three'].map(md5),
    );
    const peek = await c.batchPeekMessage(q, 16);
    assert.deepEqual(
      peek.body.map((x) => x.MessageBody),
      ['two', 'one', 'three'],
    );
    const got = await c.batchReceiveMessage(q, 2);
    assert.deepEqual(
      got.body.map((x) => x.MessageBody),
      ['two', 'one'],
    );
    const rest = await c.batchReceiveMessage(q, 16, 1);
    assert.deepEqual(
      rest.body.map((x) => x.MessageBody),
      ['three'],
    );
    await rejectsWith(c.batchReceiveMessage(q, 16), 'MessageNotExist');
    await rejectsWith(c.batchPeekMessage(q, 16), 'MessageNotExist');

    const ok = await c.batchDeleteMessage(q, [got.body[0]!.ReceiptHandle!]);
    assert.equal(ok.code, 204);
    assert.equal(ok.body, undefined);
    const partial = await c.batchDeleteMessage(q, [got.body[1]!.ReceiptHandle!, got.body[0]!.ReceiptHandle!, 'nonsense']);
    assert.equal(partial.code, 404);
    assert.deepEqual(
      partial.body!.map((e) => [e.ErrorCode, e.ReceiptHandle]),
      [
        ['MessageNotExist', got.body[0]!.ReceiptHandle],
        ['ReceiptHandleError', 'nonsense'],
      ],
    );
    await c.deleteMessage(q, rest.body[0]!.ReceiptHandle!);
    const attrs = await c.getQueueAttributes(q);
    assert.equal(Number(attrs.body.ActiveMessages) + Number(attrs.body.InactiveMessages), 0);

    await rejectsWith(c.batchSendMessage(q, Array.from({ length: 17 }, () => ({ MessageBody: 'x' }))), 'InvalidArgument');
    await rejectsWith(c.batchReceiveMessage(q, 17), 'InvalidArgument');
  });

  test('delayed messages count as DelayMessages and arrive after DelaySeconds', async () => {
    const q = fresh('dq');
    await c.createQueue(q);
    const sent = await c.sendMessage(q, { MessageBody: 'later', DelaySeconds: 1 });
    assert.ok(sent.body.ReceiptHandle, 'a delayed message comes with a receipt handle');
    assert.equal((await c.getQueueAttributes(q)).body.DelayMessages, '1');
    await rejectsWith(c.receiveMessage(q), 'MessageNotExist');
    const t0 = Date.now();
    const got = await c.receiveMessage(q, 5);
    assert.equal(got.body.MessageBody, 'later');
    assert.ok(Date.now() - t0 < 3000);
  });

  test('long polling: a receive with waitseconds=3 returns as soon as another send lands', async () => {
    const q = fresh('lp');
    await c.createQueue(q);
    const other = new MNSClient(ACCOUNT, { accessKeyId: KEY_ID, accessKeySecret: SECRET, endpoint: h.server.url });
    const t0 = Date.now();
    const waiting = c.receiveMessage(q, 3);
    await sleep(300);
    await other.sendMessage(q, { MessageBody: 'ping' });
    const got = await waiting;
    const ms = Date.now() - t0;
    assert.equal(got.body.MessageBody, 'ping');
    assert.ok(ms >= 250 && ms < 1500, `the receive took ${ms} ms`);
  });

  test('long polling: an empty wait answers MessageNotExist after waitseconds; the queue PollingWaitSeconds applies', async () => {
    const q = fresh('lp');
    await c.createQueue(q, { PollingWaitSeconds: 1 });
    let t0 = Date.now();
    await rejectsWith(c.receiveMessage(q, 1), 'MessageNotExist');
    let ms = Date.now() - t0;
    assert.ok(ms >= 900 && ms < 2500, `took ${ms} ms`);
    t0 = Date.now();
    await rejectsWith(c.receiveMessage(q), 'MessageNotExist');
    ms = Date.now() - t0;
    assert.ok(ms >= 900 && ms < 2500, `PollingWaitSeconds: took ${ms} ms`);
    await rejectsWith(c.receiveMessage(q, 31), 'InvalidArgument');
  });

  test('visibility timeout expiry makes a message receivable again (DequeueCount 2); the first handle is stale', async () => {
    const q = fresh('vq');
    await c.createQueue(q, { VisibilityTimeout: 1 });
    await c.sendMessage(q, { MessageBody: 'again' });
    const first = await c.receiveMessage(q);
    assert.equal(first.body.DequeueCount, '1');
    await rejectsWith(c.receiveMessage(q), 'MessageNotExist');
    const second = await c.receiveMessage(q, 3);
    assert.equal(second.body.MessageId, first.body.MessageId);
    assert.equal(second.body.DequeueCount, '2');
    assert.equal(second.body.FirstDequeueTime, first.body.FirstDequeueTime);
    assert.notEqual(second.body.ReceiptHandle, first.body.ReceiptHandle);
    await rejectsWith(c.deleteMessage(q, first.body.ReceiptHandle!), 'MessageNotExist');
    await c.changeMessageVisibility(q, second.body.ReceiptHandle!, 30).then((r) => c.deleteMessage(q, r.body.ReceiptHandle!));
    await rejectsWith(c.peekMessage(q), 'MessageNotExist');
  });

  test('message bodies survive XML escaping, Unicode and CR LF; oversize bodies are InvalidArgument', async () => {
    const q = fresh('eq');
    await c.createQueue(q, { MaximumMessageSize: 1024 });
    // The Node client does not escape MessageBody: escape it as XML requires.
    const body = 'a & b < c > d "e" \'f\' ünï 漢字 \r\n end  ';
    const escaped = body.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
    const sent = await c.sendMessage(q, { MessageBody: escaped });
    assert.equal(sent.body.MessageBodyMD5, md5(body));
    const got = await c.receiveMessage(q);
    assert.equal(got.body.MessageBody, body);
    assert.equal(got.body.MessageBodyMD5, md5(body));
    await rejectsWith(c.sendMessage(q, { MessageBody: 'x'.repeat(1025) }), 'InvalidArgument');
    await rejectsWith(c.sendMessage(q, { MessageBody: '' }), 'InvalidArgument');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Topics and subscriptions
// ---------------------------------------------------------------------------------------------------------------

describe('topics and subscriptions through the official client', () => {
  test('CreateTopic, GetTopicAttributes, SetTopicAttributes, ListTopic, DeleteTopic', async () => {
    const t = fresh('tp');
    const r = await c.createTopic(t, { MaximumMessageSize: 4096 });
    assert.equal(r.code, 201);
    assert.equal(r.headers.location, `${h.server.url}/topics/${t}`);
    assert.equal((await c.createTopic(t, { MaximumMessageSize: 4096 })).code, 204);
    await rejectsWith(c.createTopic(t, { MaximumMessageSize: 8192 }), 'TopicAlreadyExist');
    let a = await c.getTopicAttributes(t);
    assert.equal(a.body.TopicName, t);
    assert.equal(a.body.MaximumMessageSize, '4096');
    assert.equal(a.body.MessageRetentionPeriod, '86400');
    assert.equal(a.body.MessageCount, '0');
    assert.equal(a.body.LoggingEnabled, 'False');
    assert.match(a.body.CreateTime!, /^\d{10}$/);
    assert.equal((await c.setTopicAttributes(t, { MaximumMessageSize: 8192, LoggingEnabled: 'True' })).code, 204);
    a = await c.getTopicAttributes(t);
    assert.equal(a.body.MaximumMessageSize, '8192');
    assert.equal(a.body.LoggingEnabled, 'True');
    const list = await c.listTopic('', 10, t);
    assert.deepEqual(
      list.body!.map((x) => x.TopicURL),
      [`${h.server.url}/topics/${t}`],
    );
    const meta = await c.get<{ Topic: Msg[] }>('/topics', 'Topics', { headers: { 'x-mns-prefix': t, 'x-mns-with-meta': 'true' } });
    assert.equal(meta.body.Topic[0]!.MaximumMessageSize, '8192');

    await c.put(`/topics/${t}/subscriptions/s1`, 'Subscription', subscriptionBody({ Endpoint: 'http://127.0.0.1:9/hook' }));
    const del = await c.delete(`/topics/${t}`, 'Topic', '');
    assert.equal(del.code, 204);
    await rejectsWith(c.getTopicAttributes(t), 'TopicNotExist');
    await rejectsWith(c.get(`/topics/${t}/subscriptions/s1`, 'Subscription'), 'TopicNotExist');
    await rejectsWith(c.publishMessage(t, { MessageBody: 'x' }), 'TopicNotExist');
  });

  test('Subscribe, GetSubscriptionAttributes, SetSubscriptionAttributes, ListSubscriptionByTopic, Unsubscribe', async () => {
    const t = fresh('st');
    await c.createTopic(t);
    const ep = `acs:mns:cn-hangzhou:${ACCOUNT}:queues/some-queue`;
    const r = await c.put(`/topics/${t}/subscriptions/sub-a`, 'Subscription', subscriptionBody({ Endpoint: ep, NotifyStrategy: 'BACKOFF_RETRY', NotifyContentFormat: 'JSON', FilterTag: 'tag1' }), ['location']);
    assert.equal(r.code, 201);
    assert.equal(r.headers.location, `${h.server.url}/topics/${t}/subscriptions/sub-a`);
    const same = await c.put(`/topics/${t}/subscriptions/sub-a`, 'Subscription', subscriptionBody({ Endpoint: ep, NotifyStrategy: 'BACKOFF_RETRY', NotifyContentFormat: 'JSON', FilterTag: 'tag1' }));
    assert.equal(same.code, 204);
    await rejectsWith(c.put(`/topics/${t}/subscriptions/sub-a`, 'Subscription', subscriptionBody({ Endpoint: ep })), 'SubscriptionAlreadyExist');
    await rejectsWith(c.put(`/topics/${t}/subscriptions/sub-x`, 'Subscription', subscriptionBody({ Endpoint: 'mail:directmail:a@example.com' })), 'EndpointInvalid');
    await rejectsWith(c.put(`/topics/${t}/subscriptions/sub-x`, 'Subscription', subscriptionBody({ Endpoint: ep, NotifyContentFormat: 'CSV' })), 'InvalidArgument');

    const g = await c.get(`/topics/${t}/subscriptions/sub-a`, 'Subscription');
    assert.equal(g.body.SubscriptionName, 'sub-a');
    assert.equal(g.body.TopicName, t);
    assert.equal(g.body.TopicOwner, ACCOUNT);
    assert.equal(g.body.Subscriber, ACCOUNT);
    assert.equal(g.body.Endpoint, ep);
    assert.equal(g.body.NotifyStrategy, 'BACKOFF_RETRY');
    assert.equal(g.body.NotifyContentFormat, 'JSON');
    assert.equal(g.body.FilterTag, 'tag1');
    assert.match(g.body.CreateTime!, /^\d{10}$/);

    const s = await c.put(`/topics/${t}/subscriptions/sub-a?metaoverride=true`, 'Subscription', subscriptionBody({ NotifyStrategy: 'EXPONENTIAL_DECAY_RETRY' }));
    assert.equal(s.code, 204);
    assert.equal((await c.get(`/topics/${t}/subscriptions/sub-a`, 'Subscription')).body.NotifyStrategy, 'EXPONENTIAL_DECAY_RETRY');

    await c.put(`/topics/${t}/subscriptions/sub-b`, 'Subscription', subscriptionBody({ Endpoint: 'https://example.com/notify' }));
    const list = await c.get<{ Subscription: Msg[]; NextMarker?: string }>(`/topics/${t}/subscriptions`, 'Subscriptions', { headers: { 'x-mns-ret-number': 1 } });
    assert.deepEqual(
      list.body.Subscription.map((x) => x.SubscriptionURL),
      [`${h.server.url}/topics/${t}/subscriptions/sub-a`],
    );
    assert.equal(list.body.NextMarker, 'sub-b');

    const u = await c.delete(`/topics/${t}/subscriptions/sub-a`, 'Subscription', '');
    assert.equal(u.code, 204);
    await rejectsWith(c.get(`/topics/${t}/subscriptions/sub-a`, 'Subscription'), 'SubscriptionNotExist');
  });

  test('PublishMessage delivers to queue subscriptions in each NotifyContentFormat, honouring FilterTag', async () => {
    const t = fresh('pt');
    const [qx, qj, qs, qf, qu] = ['px', 'pj', 'ps', 'pf', 'pu'].map(fresh) as [string, string, string, string, string];
    await c.createTopic(t);
    for (const q of [qx, qj, qs, qf, qu]) await c.createQueue(q);
    const acs = (q: string) => `acs:mns:cn-hangzhou:${ACCOUNT}:queues/${q}`;
    await c.put(`/topics/${t}/subscriptions/xml`, 'Subscription', subscriptionBody({ Endpoint: acs(qx), NotifyContentFormat: 'XML' }));
    await c.put(`/topics/${t}/subscriptions/json`, 'Subscription', subscriptionBody({ Endpoint: acs(qj), NotifyContentFormat: 'JSON' }));
    await c.put(`/topics/${t}/subscriptions/simple`, 'Subscription', subscriptionBody({ Endpoint: acs(qs), NotifyContentFormat: 'SIMPLIFIED' }));
    await c.put(`/topics/${t}/subscriptions/filtered`, 'Subscription', subscriptionBody({ Endpoint: acs(qf), NotifyContentFormat: 'SIMPLIFIED', FilterTag: 'other' }));
    // The queue URL of this very server is accepted as a queue endpoint.
    await c.put(`/topics/${t}/subscriptions/by-url`, 'Subscription', subscriptionBody({ Endpoint: `${h.server.url}/queues/${qu}`, NotifyContentFormat: 'SIMPLIFIED' }));
    assert.equal((await c.get(`/topics/${t}/subscriptions/by-url`, 'Subscription')).body.Endpoint, `acs:mns:cn-hangzhou:${ACCOUNT}:queues/${qu}`);

    const body = '{"id":"evt-1","source":"acs.imm","content":"{\\"Status\\":\\"Succeeded\\"}"}';
    const pub = await c.publishMessage(t, { MessageBody: body, MessageTag: 'done' });
    assert.equal(pub.code, 201);
    assert.match(pub.body.MessageId!, /^[0-9A-F]{32}$/);
    assert.equal(pub.body.MessageBodyMD5, md5(body));

    const simple = await c.receiveMessage(qs, 1);
    assert.equal(simple.body.MessageBody, body);
    assert.equal((await c.receiveMessage(qu, 1)).body.MessageBody, body);

    const json = JSON.parse((await c.receiveMessage(qj, 1)).body.MessageBody!) as Record<string, string>;
    assert.deepEqual(json, {
      TopicOwner: ACCOUNT,
      TopicName: t,
      Subscriber: ACCOUNT,
      SubscriptionName: 'json',
      MessageId: pub.body.MessageId,
      MessageMD5: md5(body),
      MessageTag: 'done',
      PublishTime: json.PublishTime,
      Message: body,
    });
    assert.match(json.PublishTime!, /^\d{13}$/);

    const xmlBody = (await c.receiveMessage(qx, 1)).body.MessageBody!;
    const n = (new XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(xmlBody) as { Notification: Record<string, string> }).Notification;
    assert.equal(n['@_xmlns'], 'http://mns.aliyuncs.com/doc/v1/');
    assert.equal(n.TopicOwner, ACCOUNT);
    assert.equal(n.TopicName, t);
    assert.equal(n.SubscriptionName, 'xml');
    assert.equal(n.MessageId, pub.body.MessageId);
    assert.equal(n.Message, body);
    assert.equal(n.MessageMD5, md5(body));
    assert.equal(n.MessageTag, 'done');

    await rejectsWith(c.receiveMessage(qf), 'MessageNotExist');
    await c.publishMessage(t, { MessageBody: 'for other', MessageTag: 'other' });
    assert.equal((await c.receiveMessage(qf, 1)).body.MessageBody, 'for other');
    await rejectsWith(c.publishMessage(t, { MessageBody: 'x', MessageTag: 'x'.repeat(17) }), 'InvalidArgument');
  });

  test('an HTTP subscription gets a pending push row (for the push deliverer); MessageCount counts it', async () => {
    const t = fresh('ht');
    await c.createTopic(t);
    await c.put(`/topics/${t}/subscriptions/hook`, 'Subscription', subscriptionBody({ Endpoint: 'http://127.0.0.1:9/notify', NotifyContentFormat: 'XML' }));
    const pub = await c.publishMessage(t, { MessageBody: 'push me' });
    const rows = await h.db.selectFrom('mns_pushes').selectAll().where('topic', '=', t).execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.message_id, pub.body.MessageId);
    assert.equal(rows[0]!.state, 'pending');
    assert.equal(rows[0]!.notify_content_format, 'XML');
    assert.equal((await c.getTopicAttributes(t)).body.MessageCount, '1');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Durability
// ---------------------------------------------------------------------------------------------------------------

describe('durability', () => {
  test('a message survives closing and reopening the database', async () => {
    const d = mkdtempSync(join(tmpdir(), 'medley-mns-dur-'));
    try {
      const file = join(d, 'medley.db');
      let one = await startHarness(file);
      await one.client.createQueue('durable', { VisibilityTimeout: 5 });
      const sent = await one.client.sendMessage('durable', { MessageBody: 'still here' });
      await one.client.createTopic('durable-topic');
      await one.stop();

      one = await startHarness(file);
      try {
        const got = await one.client.receiveMessage('durable');
        assert.equal(got.body.MessageId, sent.body.MessageId);
        assert.equal(got.body.MessageBody, 'still here');
        assert.equal((await one.client.getTopicAttributes('durable-topic')).body.TopicName, 'durable-topic');
      } finally {
        await one.stop();
      }
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Raw HTTP: what the client would never send
// ---------------------------------------------------------------------------------------------------------------

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface RawOptions {
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** 'good' (default): signed with the client's own sign(); 'bad': a wrong signature; 'none': no Authorization. */
  sign?: 'good' | 'bad' | 'none';
  date?: string;
  keyId?: string;
}

function raw(method: string, path: string, opts: RawOptions = {}): Promise<RawResponse> {
  const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, 'utf8');
  const headers: Record<string, string> = { date: opts.date ?? new Date().toUTCString(), 'x-mns-version': '2015-06-06', ...opts.headers };
  if (body !== undefined) {
    headers['content-type'] ??= 'text/xml';
    headers['content-length'] = String(body.length);
  }
  if (opts.sign !== 'none') {
    const sig = opts.sign === 'bad' ? 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' : c.sign(method, headers, path);
    headers.authorization = `MNS ${opts.keyId ?? KEY_ID}:${sig}`;
  }
  const url = new URL(h.server.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('raw request timed out')));
    req.end(body);
  });
}

const errorParser = new XMLParser({ ignoreAttributes: false, parseTagValue: false });

/** Asserts an MNS error document with `status` and `code`. */
function assertMnsError(r: RawResponse, status: number, code: string): Record<string, string> {
  assert.equal(r.status, status, r.body);
  assert.match(String(r.headers['content-type']), /^text\/xml/);
  assert.match(String(r.headers['x-mns-request-id']), /^[0-9A-F]{24}$/);
  const e = (errorParser.parse(r.body) as { Error: Record<string, string> }).Error;
  assert.equal(e['@_xmlns'], 'http://mns.aliyuncs.com/doc/v1/');
  assert.equal(e.Code, code, e.Message);
  assert.ok(e.Message);
  assert.equal(e.RequestId, r.headers['x-mns-request-id']);
  assert.equal(e.HostId, h.server.url);
  return e;
}

describe('malformed requests over raw HTTP', () => {
  const q = 'raw-queue';
  before(async () => {
    await c.createQueue(q);
  });

  test('authentication: bad signature 403, unknown key 403, no Authorization 400, stale Date 408', async () => {
    assertMnsError(await raw('GET', `/queues/${q}`, { sign: 'bad' }), 403, 'SignatureDoesNotMatch');
    assertMnsError(await raw('GET', `/queues/${q}`, { keyId: 'LTAI5tNobody' }), 403, 'InvalidAccessKeyId');
    assertMnsError(await raw('GET', `/queues/${q}`, { sign: 'none' }), 400, 'MissingAuthorizationHeader');
    assertMnsError(await raw('GET', `/queues/${q}`, { headers: { authorization: 'OSS a:b' }, sign: 'none' }), 400, 'InvalidAuthorizationHeader');
    assertMnsError(await raw('GET', `/queues/${q}`, { date: new Date(Date.now() - 20 * 60_000).toUTCString() }), 408, 'TimeExpired');
    // A body with a bad signature is refused without being read.
    assertMnsError(await raw('POST', `/queues/${q}/messages`, { sign: 'bad', body: '<Message><MessageBody>x</MessageBody></Message>' }), 403, 'SignatureDoesNotMatch');
  });

  test('bad XML 400 MalformedXML; wrong root or element 400 InvalidArgument', async () => {
    assertMnsError(await raw('POST', `/queues/${q}/messages`, { body: '<Message><MessageBody>x</Message>' }), 400, 'MalformedXML');
    assertMnsError(await raw('POST', `/queues/${q}/messages`, { body: 'not xml at all' }), 400, 'MalformedXML');
    assertMnsError(await raw('POST', `/queues/${q}/messages`, { body: '' }), 400, 'MalformedXML');
    assertMnsError(await raw('POST', `/queues/${q}/messages`, { body: '<!DOCTYPE x [<!ENTITY a "b">]><Message><MessageBody>&a;</MessageBody></Message>' }), 400, 'MalformedXML');
    assertMnsError(await raw('POST', `/queues/${q}/messages`, { body: '<Queue><VisibilityTimeout>1</VisibilityTimeout></Queue>' }), 400, 'InvalidArgument');
    assertMnsError(await raw('PUT', `/queues/${fresh('rq')}`, { body: '<Queue><VisibilityTimeout>1</VisibilityTimeout><VisibilityTimeout>2</VisibilityTimeout></Queue>' }), 400, 'InvalidArgument');
    assertMnsError(await raw('PUT', `/queues/${fresh('rq')}`, { body: '<Topic/>' }), 400, 'InvalidArgument');
    assertMnsError(await raw('POST', `/queues/${q}/messages`, { body: '<Message><MessageBody><b>x</b></MessageBody></Message>' }), 400, 'InvalidArgument');
  });

  test('unknown paths and methods 404 InvalidRequestURL', async () => {
    assertMnsError(await raw('GET', '/'), 404, 'InvalidRequestURL');
    assertMnsError(await raw('GET', '/nothing/here'), 404, 'InvalidRequestURL');
    assertMnsError(await raw('POST', `/queues/${q}`, { body: '<Queue/>' }), 404, 'InvalidRequestURL');
    assertMnsError(await raw('GET', `/queues/${q}/messages/extra`), 404, 'InvalidRequestURL');
    assertMnsError(await raw('GET', '/topics/t/subscriptions/s/x'), 404, 'InvalidRequestURL');
    assertMnsError(await raw('GET', '/queues//messages'), 404, 'InvalidRequestURL');
  });

  test('oversized bodies, bad Content-MD5 and bad query parameters are 4xx', async () => {
    const huge = `<Message><MessageBody>${'x'.repeat(600 * 1024)}</MessageBody></Message>`;
    assertMnsError(await raw('POST', `/queues/${q}/messages`, { body: huge }), 400, 'InvalidArgument');
    const large = `<Message><MessageBody>${'x'.repeat(65 * 1024)}</MessageBody></Message>`;
    assertMnsError(await raw('POST', `/queues/${q}/messages`, { body: large }), 400, 'InvalidArgument');
    const body = '<Message><MessageBody>x</MessageBody></Message>';
    assertMnsError(await raw('POST', `/queues/${q}/messages`, { body, headers: { 'content-md5': Buffer.from('0'.repeat(32)).toString('base64') } }), 400, 'InvalidDegist');
    // The SDKs' form (base64 of the hex digest) and the plain base64 digest are both accepted.
    const digest = createHash('md5').update(body).digest();
    assert.equal((await raw('POST', `/queues/${q}/messages`, { body, headers: { 'content-md5': Buffer.from(digest.toString('hex')).toString('base64') } })).status, 201);
    assert.equal((await raw('POST', `/queues/${q}/messages`, { body, headers: { 'content-md5': digest.toString('base64') } })).status, 201);
    assertMnsError(await raw('GET', `/queues/${q}/messages?waitseconds=abc`), 400, 'InvalidArgument');
    assertMnsError(await raw('GET', `/queues/${q}/messages?numOfMessages=0`), 400, 'InvalidArgument');
    assertMnsError(await raw('GET', `/queues/${q}/messages?waitseconds=1&waitseconds=2`), 400, 'InvalidQueryString');
    assertMnsError(await raw('GET', `/queues/${q}/messages?waitseconds=%zz`), 400, 'InvalidQueryString');
    assertMnsError(await raw('DELETE', `/queues/${q}/messages`), 400, 'MissingReceiptHandle');
    assertMnsError(await raw('PUT', `/queues/${q}/messages?receiptHandle=1-x`), 400, 'MissingVisibilityTimeout');
    assertMnsError(await raw('GET', '/queues/no-such-queue/messages'), 404, 'QueueNotExist');
    // Drain what this test sent.
    for (;;) {
      const r = await raw('GET', `/queues/${q}/messages?numOfMessages=16`);
      if (r.status !== 200) break;
      const handles = [...r.body.matchAll(/<ReceiptHandle>([^<]+)<\/ReceiptHandle>/g)].map((m) => m[1]!);
      for (const handle of handles) assert.equal((await raw('DELETE', `/queues/${q}/messages?ReceiptHandle=${handle}`)).status, 204);
    }
  });

  test('Python-SDK style: capitalised query names, Content-Type with charset, successful responses carry MNS headers', async () => {
    const sent = await raw('POST', `/queues/${q}/messages`, { body: '<?xml version="1.0" ?><Message xmlns="http://mns.aliyuncs.com/doc/v1/"><MessageBody>py</MessageBody><DelaySeconds>0</DelaySeconds><Priority>8</Priority></Message>', headers: { 'content-type': 'text/xml;charset=UTF-8' } });
    assert.equal(sent.status, 201);
    assert.match(sent.body, /<MessageBodyMD5>[0-9A-F]{32}<\/MessageBodyMD5>/);
    assert.equal(sent.headers['x-mns-version'], '2015-06-06');
    assert.match(String(sent.headers['x-mns-request-id']), /^[0-9A-F]{24}$/);
    const got = await raw('GET', `/queues/${q}/messages?waitseconds=1`);
    assert.equal(got.status, 200);
    const handle = /<ReceiptHandle>([^<]+)<\/ReceiptHandle>/.exec(got.body)![1]!;
    const changed = await raw('PUT', `/queues/${q}/messages?ReceiptHandle=${handle}&VisibilityTimeout=10`);
    assert.equal(changed.status, 200, changed.body);
    assert.match(changed.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<ChangeVisibility xmlns="http:\/\/mns.aliyuncs.com\/doc\/v1\/"><ReceiptHandle>/);
    const newHandle = /<ReceiptHandle>([^<]+)<\/ReceiptHandle>/.exec(changed.body)![1]!;
    const del = await raw('DELETE', `/queues/${q}/messages`, { body: `<?xml version="1.0" ?><ReceiptHandles xmlns="http://mns.aliyuncs.com/doc/v1/"><ReceiptHandle>${newHandle}</ReceiptHandle></ReceiptHandles>` });
    assert.equal(del.status, 204);
    assert.equal(del.body, '');
  });

  test('a long poll in flight ends when the server closes', async () => {
    const d = mkdtempSync(join(tmpdir(), 'medley-mns-close-'));
    const other = await startHarness(join(d, 'medley.db'));
    try {
      await other.client.createQueue('waiting');
      const t0 = Date.now();
      const pending = other.client.receiveMessage('waiting', 30).then(
        () => 'message',
        (e: Error) => e.name,
      );
      await sleep(200);
      await other.stop();
      const outcome = await pending;
      assert.ok(Date.now() - t0 < 5000, `the long poll outlived the server by ${Date.now() - t0} ms`);
      assert.notEqual(outcome, 'message');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
