/**
 * The message service on a real SQLite file with a controllable clock: queue attributes, visibility, delay,
 * retention, receipt handles, priority order, long polling, topics, subscriptions and fan-out (FilterTag and
 * the three NotifyContentFormats, queue and HTTP endpoints), publishInTx inside the caller's transaction.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import type { Db } from '../../src/db/connection.js';
import { openTestDatabase } from '../support/backend.js';
import { MedleyError } from '../../src/errors.js';
import {
  MnsService,
  formatNotification,
  newMessageId,
  parseQueueEndpoint,
  queueEndpoint,
  queueEndpointName,
  receiptHandleMessageId,
  type QueueMessage,
} from '../../src/notify/mns-service.js';

const ACCOUNT = '1234567890123456';
const REGION = 'cn-hangzhou';
const T0 = Date.parse('2025-03-01T00:00:00Z');

let dir: string;
let db: Db;
let now = T0;
let mns: MnsService;
let auto: MnsService;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medley-mns-'));
  db = await openTestDatabase(dir);
  mns = new MnsService(db, { accountId: ACCOUNT, region: REGION, now: () => new Date(now), pollMs: 50 });
  auto = new MnsService(db, { accountId: ACCOUNT, region: REGION, autoCreateTopics: true, now: () => new Date(now), pollMs: 50 });
});
after(async () => {
  mns.close();
  auto.close();
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
/** A fresh name per test so rows of other tests never interfere. */
function fresh(prefix: string): string {
  return `${prefix}-${++seq}`;
}

function advance(seconds: number): void {
  now += seconds * 1000;
}

/** Asserts that `p` rejects with the MedleyError `code` (and HTTP status). */
async function rejectsWith(p: Promise<unknown>, code: string, status?: number): Promise<MedleyError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof MedleyError, `expected a MedleyError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (status !== undefined) assert.equal(e.status, status);
    return e;
  }
  return assert.fail(`expected ${code}`);
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex').toUpperCase();

describe('queues', () => {
  test('CreateQueue applies the MNS defaults and reports them', async () => {
    const q = fresh('q');
    assert.deepEqual(await mns.createQueue(q), { created: true });
    const a = await mns.getQueue(q);
    assert.equal(a.delaySeconds, 0);
    assert.equal(a.maximumMessageSize, 65536);
    assert.equal(a.messageRetentionPeriod, 345600);
    assert.equal(a.visibilityTimeout, 30);
    assert.equal(a.pollingWaitSeconds, 0);
    assert.equal(a.loggingEnabled, false);
    assert.equal(a.createdAt, now);
    assert.deepEqual([a.activeMessages, a.inactiveMessages, a.delayMessages], [0, 0, 0]);
  });

  test('CreateQueue again: same attributes is idempotent, other attributes QueueAlreadyExist (409)', async () => {
    const q = fresh('q');
    await mns.createQueue(q, { visibilityTimeout: 60, loggingEnabled: true });
    assert.deepEqual(await mns.createQueue(q, { visibilityTimeout: 60, loggingEnabled: true }), { created: false });
    await rejectsWith(mns.createQueue(q, { visibilityTimeout: 61 }), 'QueueAlreadyExist', 409);
    // Unspecified attributes are the defaults, which differ from the queue's.
    await rejectsWith(mns.createQueue(q), 'QueueAlreadyExist', 409);
  });

  test('attribute ranges and queue names are checked', async () => {
    const q = fresh('q');
    const cases: [Parameters<MnsService['createQueue']>[1], string][] = [
      [{ delaySeconds: 604801 }, 'DelaySeconds'],
      [{ maximumMessageSize: 1023 }, 'MaximumMessageSize'],
      [{ maximumMessageSize: 65537 }, 'MaximumMessageSize'],
      [{ messageRetentionPeriod: 59 }, 'MessageRetentionPeriod'],
      [{ visibilityTimeout: 0 }, 'VisibilityTimeout'],
      [{ visibilityTimeout: 43201 }, 'VisibilityTimeout'],
      [{ pollingWaitSeconds: 31 }, 'PollingWaitSeconds'],
      [{ visibilityTimeout: 1.5 }, 'VisibilityTimeout'],
    ];
    for (const [attrs, element] of cases) {
      const e = await rejectsWith(mns.createQueue(q, attrs), 'InvalidArgument', 400);
      assert.match(e.message, new RegExp(`The value of ${element} should between`));
    }
    await rejectsWith(mns.createQueue('bad_name'), 'InvalidQueueName', 400);
    await rejectsWith(mns.createQueue('-lead'), 'InvalidQueueName', 400);
    await rejectsWith(mns.createQueue('x'.repeat(257)), 'QueueNameLengthError', 400);
    await rejectsWith(mns.getQueue(fresh('missing')), 'QueueNotExist', 404);
  });

  test('SetQueueAttributes changes only what is given; DeleteQueue removes the queue and its messages', async () => {
    const q = fresh('q');
    await mns.createQueue(q, { delaySeconds: 5 });
    advance(1);
    await mns.setQueueAttributes(q, { visibilityTimeout: 120, pollingWaitSeconds: 10 });
    const a = await mns.getQueue(q);
    assert.equal(a.delaySeconds, 5);
    assert.equal(a.visibilityTimeout, 120);
    assert.equal(a.pollingWaitSeconds, 10);
    assert.equal(a.updatedAt, now);
    assert.ok(a.updatedAt > a.createdAt);
    await rejectsWith(mns.setQueueAttributes(fresh('missing'), { delaySeconds: 1 }), 'QueueNotExist', 404);

    await mns.sendMessage(q, { body: 'x' });
    await mns.deleteQueue(q);
    await rejectsWith(mns.getQueue(q), 'QueueNotExist');
    const left = await db.selectFrom('mns_messages').select('id').where('queue', '=', q).execute();
    assert.equal(left.length, 0);
    await mns.deleteQueue(q); // idempotent
  });

  test('ListQueue: prefix, marker and NextMarker page through names in order', async () => {
    const p = fresh('lst');
    for (const n of ['c', 'a', 'b', 'd']) await mns.createQueue(`${p}-${n}`);
    const first = await mns.listQueues({ prefix: `${p}-`, limit: 3 });
    assert.deepEqual(
      first.items.map((q) => q.name),
      ['a', 'b', 'c'].map((n) => `${p}-${n}`),
    );
    assert.equal(first.nextMarker, `${p}-d`);
    const second = await mns.listQueues({ prefix: `${p}-`, limit: 3, marker: first.nextMarker });
    assert.deepEqual(
      second.items.map((q) => q.name),
      [`${p}-d`],
    );
    assert.equal(second.nextMarker, undefined);
    const withStats = await mns.listQueues({ prefix: `${p}-a` }, true);
    assert.equal(withStats.items[0]!.activeMessages, 0);
    await rejectsWith(mns.listQueues({ limit: 1001 }), 'InvalidArgument');
  });
});

describe('messages', () => {
  test('SendMessage returns a 32-hex id and the upper-case MD5; the message is Active', async () => {
    const q = fresh('q');
    await mns.createQueue(q);
    const r = await mns.sendMessage(q, { body: 'héllo wörld' });
    assert.match(r.messageId, /^[0-9A-F]{32}$/);
    assert.equal(r.messageBodyMd5, md5('héllo wörld'));
    assert.equal(r.receiptHandle, undefined);
    const a = await mns.getQueue(q);
    assert.equal(a.activeMessages, 1);
  });

  test('visibility: a received message is Inactive until its timeout, then receivable again with DequeueCount 2', async () => {
    const q = fresh('q');
    await mns.createQueue(q, { visibilityTimeout: 10 });
    const sent = await mns.sendMessage(q, { body: 'v' });
    advance(1);
    const [m1] = await mns.receiveMessages(q);
    assert.ok(m1);
    assert.equal(m1.messageId, sent.messageId);
    assert.equal(m1.dequeueCount, 1);
    assert.equal(m1.firstDequeueTime, now);
    assert.equal(m1.enqueueTime, now - 1000);
    assert.equal(m1.nextVisibleTime, now + 10_000);
    assert.match(m1.receiptHandle!, /^1-[0-9A-F]{32}-[0-9a-f]{16}$/);
    assert.equal(receiptHandleMessageId(m1.receiptHandle!), sent.messageId);
    assert.deepEqual(await mns.receiveMessages(q), []);
    const stats = await mns.getQueue(q);
    assert.deepEqual([stats.activeMessages, stats.inactiveMessages, stats.delayMessages], [0, 1, 0]);

    advance(10);
    const [m2] = await mns.receiveMessages(q);
    assert.ok(m2);
    assert.equal(m2.dequeueCount, 2);
    assert.equal(m2.firstDequeueTime, m1.firstDequeueTime);
    assert.notEqual(m2.receiptHandle, m1.receiptHandle);
    // The first handle is stale: the message is still there, but not for that handle.
    await rejectsWith(mns.deleteMessage(q, m1.receiptHandle!), 'MessageNotExist', 404);
    await mns.deleteMessage(q, m2.receiptHandle!);
    await rejectsWith(mns.deleteMessage(q, m2.receiptHandle!), 'MessageNotExist', 404);
  });

  test('a handle whose visibility timeout is over no longer deletes the message', async () => {
    const q = fresh('q');
    await mns.createQueue(q, { visibilityTimeout: 5 });
    await mns.sendMessage(q, { body: 'x' });
    const [m] = await mns.receiveMessages(q);
    advance(5);
    await rejectsWith(mns.deleteMessage(q, m!.receiptHandle!), 'MessageNotExist', 404);
    assert.equal((await mns.peekMessages(q)).length, 1);
  });

  test('malformed receipt handles are ReceiptHandleError (400); an empty one MissingReceiptHandle', async () => {
    const q = fresh('q');
    await mns.createQueue(q);
    await rejectsWith(mns.deleteMessage(q, 'not-a-handle'), 'ReceiptHandleError', 400);
    await rejectsWith(mns.deleteMessage(q, '1-ODU4OTkzNDU5My0xNDM1MTk3NjAwLTItNg=='), 'ReceiptHandleError', 400);
    await rejectsWith(mns.changeMessageVisibility(q, 'nope', 10), 'ReceiptHandleError', 400);
    await rejectsWith(mns.deleteMessage(q, ''), 'MissingReceiptHandle', 400);
    // Well-formed, never issued: the message does not exist.
    await rejectsWith(mns.deleteMessage(q, `1-${newMessageId(now)}-0123456789abcdef`), 'MessageNotExist', 404);
    await rejectsWith(mns.deleteMessage(fresh('missing'), 'x'), 'QueueNotExist', 404);
  });

  test('a handle only works on its own queue', async () => {
    const q1 = fresh('q');
    const q2 = fresh('q');
    await mns.createQueue(q1);
    await mns.createQueue(q2);
    await mns.sendMessage(q1, { body: 'x' });
    const [m] = await mns.receiveMessages(q1);
    await rejectsWith(mns.deleteMessage(q2, m!.receiptHandle!), 'MessageNotExist');
    await mns.deleteMessage(q1, m!.receiptHandle!);
  });

  test('delay: per message or the queue default; a delayed message is DelayMessages and has a handle', async () => {
    const q = fresh('q');
    await mns.createQueue(q, { delaySeconds: 30, visibilityTimeout: 100 });
    const byQueue = await mns.sendMessage(q, { body: 'queue-delay' });
    const byMessage = await mns.sendMessage(q, { body: 'msg-delay', delaySeconds: 5 });
    const immediate = await mns.sendMessage(q, { body: 'now', delaySeconds: 0 });
    assert.ok(byQueue.receiptHandle);
    assert.ok(byMessage.receiptHandle);
    assert.equal(immediate.receiptHandle, undefined);
    let s = await mns.getQueue(q);
    assert.deepEqual([s.activeMessages, s.inactiveMessages, s.delayMessages], [1, 0, 2]);
    assert.deepEqual(
      (await mns.receiveMessages(q, { max: 16 })).map((m) => m.body),
      ['now'],
    );
    advance(5);
    assert.deepEqual(
      (await mns.receiveMessages(q, { max: 16 })).map((m) => m.body),
      ['msg-delay'],
    );
    // The send-time handle of a delayed message deletes it before it is due.
    await mns.deleteMessage(q, byQueue.receiptHandle!);
    advance(30);
    assert.deepEqual(await mns.receiveMessages(q, { max: 16 }), []);
    s = await mns.getQueue(q);
    assert.equal(s.delayMessages, 0);
  });

  test('retention: a message is gone MessageRetentionPeriod after it was sent, received or not', async () => {
    const q = fresh('q');
    await mns.createQueue(q, { messageRetentionPeriod: 60, visibilityTimeout: 100 });
    await mns.sendMessage(q, { body: 'old' });
    const [m] = await mns.receiveMessages(q);
    advance(30);
    await mns.sendMessage(q, { body: 'young' });
    advance(31);
    // 'old' (61 s) expired even though it was Inactive; 'young' (31 s) is still there.
    await rejectsWith(mns.deleteMessage(q, m!.receiptHandle!), 'MessageNotExist');
    const peek = await mns.peekMessages(q, 16);
    assert.deepEqual(
      peek.map((x) => x.body),
      ['young'],
    );
    const s = await mns.getQueue(q);
    assert.equal(s.activeMessages + s.inactiveMessages + s.delayMessages, 1);
    const rows = await db.selectFrom('mns_messages').select('body').where('queue', '=', q).execute();
    assert.deepEqual(
      rows.map((r) => r.body),
      ['young'],
    );
  });

  test('priority 1 is received first; equal priorities in send order (also within one batch)', async () => {
    const q = fresh('q');
    await mns.createQueue(q);
    await mns.sendMessage(q, { body: 'p8-a' });
    await mns.sendMessage(q, { body: 'p1-a', priority: 1 });
    await mns.sendMessage(q, { body: 'p16', priority: 16 });
    await mns.sendMessages(q, [{ body: 'b1', priority: 1 }, { body: 'b2', priority: 1 }, { body: 'b3' }]);
    const got: QueueMessage[] = [];
    for (;;) {
      const m = await mns.receiveMessages(q, { max: 2 });
      if (m.length === 0) break;
      got.push(...m);
    }
    assert.deepEqual(
      got.map((m) => m.body),
      ['p1-a', 'b1', 'b2', 'p8-a', 'b3', 'p16'],
    );
    assert.deepEqual(
      got.map((m) => m.priority),
      [1, 1, 1, 8, 8, 16],
    );
    await rejectsWith(mns.sendMessage(q, { body: 'x', priority: 0 }), 'InvalidArgument');
    await rejectsWith(mns.sendMessage(q, { body: 'x', priority: 17 }), 'InvalidArgument');
  });

  test('message size: MaximumMessageSize per message, 16 messages and 64 KiB per batch', async () => {
    const q = fresh('q');
    await mns.createQueue(q, { maximumMessageSize: 1024 });
    await mns.sendMessage(q, { body: 'x'.repeat(1024) });
    await rejectsWith(mns.sendMessage(q, { body: 'x'.repeat(1025) }), 'InvalidArgument');
    // Bytes, not characters.
    await rejectsWith(mns.sendMessage(q, { body: 'é'.repeat(513) }), 'InvalidArgument');
    await rejectsWith(mns.sendMessage(q, { body: '' }), 'InvalidArgument');
    await rejectsWith(
      mns.sendMessages(
        q,
        Array.from({ length: 17 }, () => ({ body: 'x' })),
      ),
      'InvalidArgument',
    );
    const big = fresh('q');
    await mns.createQueue(big);
    await rejectsWith(
      mns.sendMessages(
        big,
        Array.from({ length: 2 }, () => ({ body: 'x'.repeat(40000) })),
      ),
      'InvalidArgument',
    );
    // All or nothing: nothing of the rejected batches was stored.
    assert.equal((await mns.getQueue(big)).activeMessages, 0);
  });

  test('ChangeMessageVisibility returns a new handle and NextVisibleTime; the old handle is void', async () => {
    const q = fresh('q');
    await mns.createQueue(q, { visibilityTimeout: 30 });
    await mns.sendMessage(q, { body: 'x' });
    const [m] = await mns.receiveMessages(q);
    const c = await mns.changeMessageVisibility(q, m!.receiptHandle!, 5);
    assert.equal(c.nextVisibleTime, now + 5000);
    assert.notEqual(c.receiptHandle, m!.receiptHandle);
    await rejectsWith(mns.deleteMessage(q, m!.receiptHandle!), 'MessageNotExist');
    await rejectsWith(mns.changeMessageVisibility(q, c.receiptHandle, 0), 'InvalidArgument');
    await rejectsWith(mns.changeMessageVisibility(q, c.receiptHandle, 43201), 'InvalidArgument');
    advance(5);
    const [again] = await mns.receiveMessages(q);
    assert.equal(again!.dequeueCount, 2);
    await rejectsWith(mns.changeMessageVisibility(q, c.receiptHandle, 10), 'MessageNotExist');
  });

  test('PeekMessage leaves the message as it is', async () => {
    const q = fresh('q');
    await mns.createQueue(q);
    await mns.sendMessage(q, { body: 'a' });
    await mns.sendMessage(q, { body: 'b' });
    const p1 = await mns.peekMessages(q, 16);
    const p2 = await mns.peekMessages(q, 1);
    assert.deepEqual(
      p1.map((m) => m.body),
      ['a', 'b'],
    );
    assert.equal(p2[0]!.messageId, p1[0]!.messageId);
    assert.equal(p1[0]!.dequeueCount, 0);
    assert.equal(p1[0]!.firstDequeueTime, 0);
    assert.equal(p1[0]!.receiptHandle, undefined);
    const [r] = await mns.receiveMessages(q);
    assert.equal(r!.body, 'a');
    assert.deepEqual(
      (await mns.peekMessages(q, 16)).map((m) => m.body),
      ['b'],
    );
  });

  test('BatchDeleteMessage reports each failing handle', async () => {
    const q = fresh('q');
    await mns.createQueue(q);
    await mns.sendMessages(q, [{ body: '1' }, { body: '2' }]);
    const got = await mns.receiveMessages(q, { max: 16 });
    assert.equal(got.length, 2);
    const failures = await mns.deleteMessages(q, [got[0]!.receiptHandle!, 'garbage', got[1]!.receiptHandle!, got[0]!.receiptHandle!]);
    assert.deepEqual(
      failures.map((f) => [f.receiptHandle, f.errorCode]),
      [
        ['garbage', 'ReceiptHandleError'],
        [got[0]!.receiptHandle!, 'MessageNotExist'],
      ],
    );
    assert.deepEqual(await mns.deleteMessages(q, []).catch((e: MedleyError) => e.code), 'InvalidArgument');
  });

  test('two receivers never get the same message', async () => {
    const q = fresh('q');
    await mns.createQueue(q);
    await mns.sendMessages(
      q,
      Array.from({ length: 16 }, (_, i) => ({ body: String(i) })),
    );
    const batches = await Promise.all(Array.from({ length: 8 }, () => mns.receiveMessages(q, { max: 3 })));
    const ids = batches.flat().map((m) => m.messageId);
    assert.equal(ids.length, 16);
    assert.equal(new Set(ids).size, 16);
  });
});

describe('long polling', () => {
  test('a waiting receive returns as soon as a message is sent in this process', async () => {
    const q = fresh('q');
    await mns.createQueue(q);
    const t0 = Date.now();
    const waiting = mns.receiveMessages(q, { waitSeconds: 5 });
    setTimeout(() => void mns.sendMessage(q, { body: 'wake' }), 100);
    const got = await waiting;
    assert.equal(got[0]?.body, 'wake');
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
  });

  test('a message written by another process (another service instance) is found by the poll', async () => {
    const q = fresh('q');
    await mns.createQueue(q);
    const other = new MnsService(db, { accountId: ACCOUNT, region: REGION, now: () => new Date(now) });
    const waiting = mns.receiveMessages(q, { waitSeconds: 5 });
    setTimeout(() => void other.sendMessage(q, { body: 'elsewhere' }), 100);
    const got = await waiting;
    assert.equal(got[0]?.body, 'elsewhere');
  });

  test('an empty wait ends after waitSeconds with nothing; the queue PollingWaitSeconds is the default', async () => {
    const q = fresh('q');
    await mns.createQueue(q, { pollingWaitSeconds: 1 });
    let t0 = Date.now();
    assert.deepEqual(await mns.receiveMessages(q), []);
    let ms = Date.now() - t0;
    assert.ok(ms >= 950 && ms < 3000, `took ${ms} ms`);
    t0 = Date.now();
    assert.deepEqual(await mns.receiveMessages(q, { waitSeconds: 0 }), []);
    ms = Date.now() - t0;
    assert.ok(ms < 500, `took ${ms} ms`);
    await rejectsWith(mns.receiveMessages(q, { waitSeconds: 31 }), 'InvalidArgument');
    await rejectsWith(mns.receiveMessages(q, { max: 17 }), 'InvalidArgument');
  });

  test('an abort signal ends the wait early', async () => {
    const q = fresh('q');
    await mns.createQueue(q);
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 100);
    assert.deepEqual(await mns.receiveMessages(q, { waitSeconds: 10, signal: ac.signal }), []);
    assert.ok(Date.now() - t0 < 2000);
  });

  test('deleting the queue ends a wait with QueueNotExist', async () => {
    const q = fresh('q');
    await mns.createQueue(q);
    const waiting = mns.receiveMessages(q, { waitSeconds: 5 });
    setTimeout(() => void mns.deleteQueue(q), 100);
    await rejectsWith(waiting, 'QueueNotExist');
  });
});

describe('topics and subscriptions', () => {
  test('CreateTopic defaults, idempotency, attributes; DeleteTopic removes its subscriptions', async () => {
    const t = fresh('t');
    assert.deepEqual(await mns.createTopic(t), { created: true });
    assert.deepEqual(await mns.createTopic(t), { created: false });
    await rejectsWith(mns.createTopic(t, { maximumMessageSize: 2048 }), 'TopicAlreadyExist', 409);
    let info = await mns.getTopic(t);
    assert.equal(info.maximumMessageSize, 65536);
    assert.equal(info.loggingEnabled, false);
    assert.equal(info.messageCount, 0);
    await mns.setTopicAttributes(t, { maximumMessageSize: 2048, loggingEnabled: true });
    info = await mns.getTopic(t);
    assert.equal(info.maximumMessageSize, 2048);
    assert.equal(info.loggingEnabled, true);
    await rejectsWith(mns.setTopicAttributes(t, { maximumMessageSize: 100 }), 'InvalidArgument');
    await mns.subscribe(t, 's1', { endpoint: 'http://example.com/hook' });
    await mns.deleteTopic(t);
    await rejectsWith(mns.getTopic(t), 'TopicNotExist', 404);
    const subs = await db.selectFrom('mns_subscriptions').select('name').where('topic', '=', t).execute();
    assert.equal(subs.length, 0);
    await rejectsWith(mns.createTopic('bad_topic'), 'TopicNameInvalid', 400);
    await rejectsWith(mns.createTopic('t'.repeat(257)), 'TopicNameLengthError', 400);
  });

  test('Subscribe validates and defaults; same again is idempotent, different SubscriptionAlreadyExist', async () => {
    const t = fresh('t');
    await mns.createTopic(t);
    const ep = queueEndpoint(REGION, ACCOUNT, 'some-queue');
    assert.deepEqual(await mns.subscribe(t, 's', { endpoint: ep }), { created: true });
    const s = await mns.getSubscription(t, 's');
    assert.equal(s.endpoint, ep);
    assert.equal(s.notifyStrategy, 'BACKOFF_RETRY');
    assert.equal(s.notifyContentFormat, 'XML');
    assert.equal(s.filterTag, '');
    assert.deepEqual(await mns.subscribe(t, 's', { endpoint: ep, notifyStrategy: 'BACKOFF_RETRY' }), { created: false });
    await rejectsWith(mns.subscribe(t, 's', { endpoint: ep, notifyContentFormat: 'JSON' }), 'SubscriptionAlreadyExist', 409);
    await rejectsWith(mns.subscribe(t, 'x', { endpoint: 'mail:directmail:a@b.c' }), 'EndpointInvalid', 400);
    await rejectsWith(mns.subscribe(t, 'x', { endpoint: 'ftp://host/x' }), 'EndpointInvalid', 400);
    await rejectsWith(mns.subscribe(t, 'x', { endpoint: queueEndpoint(REGION, '999', 'q') }), 'EndpointInvalid', 400);
    await rejectsWith(mns.subscribe(t, 'x', { endpoint: ep, notifyStrategy: 'SOMETIMES' }), 'InvalidArgument', 400);
    await rejectsWith(mns.subscribe(t, 'x', { endpoint: ep, notifyContentFormat: 'YAML' }), 'InvalidArgument', 400);
    await rejectsWith(mns.subscribe(t, 'x', { endpoint: ep, filterTag: 'x'.repeat(17) }), 'InvalidArgument', 400);
    await rejectsWith(mns.subscribe(t, 'bad_name', { endpoint: ep }), 'SubscriptionNameInvalid', 400);
    await rejectsWith(mns.subscribe(fresh('missing'), 's', { endpoint: ep }), 'TopicNotExist', 404);

    await mns.setSubscriptionAttributes(t, 's', { notifyStrategy: 'EXPONENTIAL_DECAY_RETRY' });
    assert.equal((await mns.getSubscription(t, 's')).notifyStrategy, 'EXPONENTIAL_DECAY_RETRY');
    await mns.subscribe(t, 'http', { endpoint: 'https://example.com/notify', notifyContentFormat: 'SIMPLIFIED', filterTag: 'tag' });
    const page = await mns.listSubscriptions(t, { limit: 1 });
    assert.deepEqual(
      page.items.map((x) => x.name),
      ['http'],
    );
    assert.equal(page.nextMarker, 's');
    await mns.unsubscribe(t, 's');
    await rejectsWith(mns.getSubscription(t, 's'), 'SubscriptionNotExist', 404);
    await mns.unsubscribe(t, 's'); // idempotent
  });

  test('ListTopic and ListSubscriptionByTopic page like ListQueue: prefix, marker, NextMarker, ret-number range', async () => {
    const p = fresh('lst');
    for (const n of ['c', 'a', 'b', 'd']) await mns.createTopic(`${p}-${n}`);
    const first = await mns.listTopics({ prefix: `${p}-`, limit: 3 });
    assert.deepEqual(
      first.items.map((t) => t.name),
      ['a', 'b', 'c'].map((n) => `${p}-${n}`),
    );
    assert.equal(first.nextMarker, `${p}-d`);
    const second = await mns.listTopics({ prefix: `${p}-`, limit: 3, marker: first.nextMarker });
    assert.deepEqual(
      second.items.map((t) => t.name),
      [`${p}-d`],
    );
    assert.equal(second.nextMarker, undefined);
    await rejectsWith(mns.listTopics({ limit: 0 }), 'InvalidArgument');

    const t = `${p}-a`;
    for (const n of ['y-2', 'x-1', 'y-1', 'x-2']) await mns.subscribe(t, n, { endpoint: 'https://example.com/hook' });
    // Another topic's subscriptions never show up.
    await mns.subscribe(`${p}-b`, 'y-0', { endpoint: 'https://example.com/hook' });
    const ys = await mns.listSubscriptions(t, { prefix: 'y-', limit: 1 });
    assert.deepEqual(
      ys.items.map((s) => s.name),
      ['y-1'],
    );
    assert.equal(ys.nextMarker, 'y-2');
    const rest = await mns.listSubscriptions(t, { prefix: 'y-', marker: ys.nextMarker });
    assert.deepEqual(
      rest.items.map((s) => s.name),
      ['y-2'],
    );
    assert.equal(rest.nextMarker, undefined);
    await rejectsWith(mns.listSubscriptions(t, { limit: 1001 }), 'InvalidArgument');
    await rejectsWith(mns.listSubscriptions(fresh('missing'), { limit: 1001 }), 'TopicNotExist');
  });

  test('queue endpoints: acs:mns form and the http(s) account URL form', () => {
    assert.deepEqual(parseQueueEndpoint('acs:mns:cn-hangzhou:123:queues/q-1'), { region: 'cn-hangzhou', accountId: '123', queue: 'q-1' });
    assert.deepEqual(parseQueueEndpoint('http://123.mns.cn-beijing.aliyuncs.com/queues/q-2'), { region: 'cn-beijing', accountId: '123', queue: 'q-2' });
    assert.equal(queueEndpointName('https://123.mns.cn-beijing-internal.aliyuncs.com/queues/q3/'), 'q3');
    assert.equal(queueEndpointName('http://example.com/queues/q'), undefined);
    assert.equal(queueEndpointName('http://example.com/hook'), undefined);
  });
});

describe('publishing', () => {
  const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: false, processEntities: true, htmlEntities: true });

  async function setup(): Promise<{ t: string; qx: string; qj: string; qs: string }> {
    const t = fresh('t');
    const qx = fresh('qx');
    const qj = fresh('qj');
    const qs = fresh('qs');
    await mns.createTopic(t);
    for (const q of [qx, qj, qs]) await mns.createQueue(q);
    await mns.subscribe(t, 'to-xml', { endpoint: queueEndpoint(REGION, ACCOUNT, qx), notifyContentFormat: 'XML' });
    await mns.subscribe(t, 'to-json', { endpoint: queueEndpoint(REGION, ACCOUNT, qj), notifyContentFormat: 'JSON', filterTag: 'important' });
    await mns.subscribe(t, 'to-simple', { endpoint: `http://${ACCOUNT}.mns.${REGION}.aliyuncs.com/queues/${qs}`, notifyContentFormat: 'SIMPLIFIED' });
    await mns.subscribe(t, 'to-http', { endpoint: 'http://127.0.0.1:1/hook', notifyContentFormat: 'JSON', notifyStrategy: 'EXPONENTIAL_DECAY_RETRY', filterTag: 'important' });
    return { t, qx, qj, qs };
  }

  test('fan-out: each queue subscription gets its format; FilterTag selects; HTTP subscriptions get a push row', async () => {
    const { t, qx, qj, qs } = await setup();
    const body = 'a <b> & "c" \r\n{"k":1}';
    const r = await mns.publish(t, { body, tag: 'important' });
    assert.match(r.messageId, /^[0-9A-F]{32}$/);
    assert.equal(r.messageBodyMd5, md5(body));

    const [simple] = await mns.receiveMessages(qs);
    assert.equal(simple!.body, body);

    const [json] = await mns.receiveMessages(qj);
    const j = JSON.parse(json!.body) as Record<string, unknown>;
    assert.deepEqual(j, {
      TopicOwner: ACCOUNT,
      TopicName: t,
      Subscriber: ACCOUNT,
      SubscriptionName: 'to-json',
      MessageId: r.messageId,
      MessageMD5: md5(body),
      MessageTag: 'important',
      PublishTime: String(now),
      Message: body,
    });

    const [xml] = await mns.receiveMessages(qx);
    const doc = parser.parse(xml!.body) as { Notification: Record<string, string> };
    const n = doc.Notification;
    assert.equal(n['@_xmlns'], 'http://mns.aliyuncs.com/doc/v1/');
    assert.equal(n.TopicOwner, ACCOUNT);
    assert.equal(n.TopicName, t);
    assert.equal(n.SubscriptionName, 'to-xml');
    assert.equal(n.MessageId, r.messageId);
    assert.equal(n.Message, body);
    assert.equal(n.MessageMD5, md5(body));
    assert.equal(n.MessageTag, 'important');
    assert.equal(n.PublishTime, String(now));

    const pushes = await db.selectFrom('mns_pushes').selectAll().where('topic', '=', t).execute();
    assert.equal(pushes.length, 1);
    const p = pushes[0]!;
    assert.equal(p.subscription, 'to-http');
    assert.equal(p.endpoint, 'http://127.0.0.1:1/hook');
    assert.equal(p.notify_strategy, 'EXPONENTIAL_DECAY_RETRY');
    assert.equal(p.notify_content_format, 'JSON');
    assert.equal(p.message_id, r.messageId);
    assert.equal(p.message_body, body);
    assert.equal(p.message_tag, 'important');
    assert.equal(Number(p.published_at), now);
    assert.equal(p.state, 'pending');
    assert.equal(p.attempts, 0);
    assert.equal(Number(p.next_attempt_at), now);
    assert.equal((await mns.getTopic(t)).messageCount, 1);
  });

  test('a tag that does not match skips the filtered subscriptions; no tag reaches only unfiltered ones', async () => {
    const { t, qx, qj, qs } = await setup();
    await mns.publish(t, { body: 'other', tag: 'routine' });
    await mns.publish(t, { body: 'untagged' });
    assert.deepEqual(
      (await mns.peekMessages(qj, 16)).map((m) => m.body),
      [],
    );
    assert.deepEqual(
      (await mns.peekMessages(qs, 16)).map((m) => m.body),
      ['other', 'untagged'],
    );
    assert.equal((await mns.peekMessages(qx, 16)).length, 2);
    assert.equal((await db.selectFrom('mns_pushes').select('id').where('topic', '=', t).execute()).length, 0);
  });

  test('a subscription whose queue is gone delivers nothing; the others still do', async () => {
    const { t, qx, qs } = await setup();
    await mns.deleteQueue(qx);
    await mns.publish(t, { body: 'x' });
    assert.equal((await mns.peekMessages(qs)).length, 1);
  });

  test('publish checks the body, the tag and the topic size', async () => {
    const t = fresh('t');
    await mns.createTopic(t, { maximumMessageSize: 1024 });
    await rejectsWith(mns.publish(t, { body: '' }), 'InvalidArgument');
    await rejectsWith(mns.publish(t, { body: 'x'.repeat(1025) }), 'InvalidArgument');
    await rejectsWith(mns.publish(t, { body: 'x', tag: 'y'.repeat(17) }), 'InvalidArgument');
    await rejectsWith(mns.publish(fresh('missing'), { body: 'x' }), 'TopicNotExist', 404);
  });

  test('publishInTx: part of the caller transaction (rolled back with it), TopicNotExist unless auto-created', async () => {
    const { t, qs } = await setup();
    await assert.rejects(
      db.transaction().execute(async (tx) => {
        await mns.publishInTx(tx, { topic: t, body: 'rolled back' }, new Date(now));
        throw new Error('abort');
      }),
      /abort/,
    );
    assert.equal((await mns.peekMessages(qs)).length, 0);

    const res = await db.transaction().execute((tx) => mns.publishInTx(tx, { topic: t, body: 'committed', tag: '' }, new Date(now)));
    assert.match(res.messageId, /^[0-9A-F]{32}$/);
    assert.equal(res.messageBodyMd5, md5('committed'));
    assert.equal((await mns.peekMessages(qs))[0]!.body, 'committed');

    const missing = fresh('t');
    const e = await rejectsWith(
      db.transaction().execute((tx) => mns.publishInTx(tx, { topic: missing, body: 'x' }, new Date(now))),
      'TopicNotExist',
      404,
    );
    assert.equal((e as { code: string }).code, 'TopicNotExist');
    await rejectsWith(
      db.transaction().execute((tx) => mns.publishInTx(tx, { topic: 'not a topic!', body: 'x' }, new Date(now))),
      'TopicNotExist',
    );
    await db.transaction().execute((tx) => auto.publishInTx(tx, { topic: missing, body: 'x' }, new Date(now)));
    const created = await mns.getTopic(missing);
    assert.equal(created.maximumMessageSize, 65536);
  });

  test('publishInTx wakes a receiver waiting in this process', async () => {
    const { t, qs } = await setup();
    const t0 = Date.now();
    const waiting = mns.receiveMessages(qs, { waitSeconds: 5 });
    setTimeout(() => void db.transaction().execute((tx) => mns.publishInTx(tx, { topic: t, body: 'task done' }, new Date(now))), 100);
    const got = await waiting;
    assert.equal(got[0]?.body, 'task done');
    assert.ok(Date.now() - t0 < 2000);
  });

  test('onPush fires when HTTP pushes were queued', async () => {
    const { t } = await setup();
    let fired = 0;
    const off = mns.onPush(() => fired++);
    await mns.publish(t, { body: 'x', tag: 'important' });
    await new Promise((r) => setImmediate(r));
    off();
    assert.equal(fired, 1);
  });

  test('formatNotification keeps the body verbatim in every format', () => {
    const fields = { topicOwner: '1', topicName: 't', subscriber: '1', subscriptionName: 's', messageId: 'M', message: 'x\r\ny & <z>', messageTag: '', publishTime: 5 };
    assert.equal(formatNotification('SIMPLIFIED', fields), 'x\r\ny & <z>');
    assert.equal((JSON.parse(formatNotification('JSON', fields)) as { Message: string }).Message, 'x\r\ny & <z>');
    const xml = formatNotification('XML', fields);
    assert.match(xml, /<Message>x&#13;\ny &amp; &lt;z&gt;<\/Message>/);
    assert.match(xml, /<PublishTime>5<\/PublishTime><\/Notification>$/);
  });
});
