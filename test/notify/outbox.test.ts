/** The notification outbox over a real SQLite file, with an in-test Publisher writing inside the dispatcher's transaction. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { Transaction } from 'kysely';
import { pino } from 'pino';
import { openDatabase, type Db } from '../../src/db/connection.js';
import type { Database } from '../../src/db/schema.js';
import { MedleyError } from '../../src/errors.js';
import { enqueueTaskNotification, OutboxDispatcher } from '../../src/notify/outbox.js';
import type { PublishInput, PublishResult, Publisher } from '../../src/notify/types.js';

const log = pino({ level: 'silent' });
let dir: string;
let db: Db;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medley-outbox-'));
  db = await openDatabase(join(dir, 'm.db'), { durable: false });
});
after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** The error the real publisher (MnsService) raises for a topic that does not exist. */
function topicNotExist(topic: string): MedleyError {
  return new MedleyError('MnsTopicNotExist', `The topic ${topic} does not exist.`);
}

/** Publishes into mns_messages (queue = topic) inside the caller's transaction, like a queue subscription would. */
class TestPublisher implements Publisher {
  readonly topics = new Set<string>();
  readonly published: { topic: string; body: string; messageId: string }[] = [];
  /** Throw this many transient errors before succeeding. */
  transientFailures = 0;
  calls = 0;

  async publishInTx(tx: Transaction<Database>, input: PublishInput, now: Date): Promise<PublishResult> {
    this.calls++;
    if (!this.topics.has(input.topic)) throw topicNotExist(input.topic);
    if (this.transientFailures > 0) {
      this.transientFailures--;
      throw new Error('database is locked (simulated)');
    }
    const messageId = randomBytes(16).toString('hex').toUpperCase();
    const md5 = createHash('md5').update(input.body).digest('hex').toUpperCase();
    await tx
      .insertInto('mns_messages')
      .values({ id: messageId, queue: input.topic, body: input.body, body_md5: md5, priority: 8, enqueued_at: now.getTime(), first_dequeued_at: null, dequeue_count: 0, next_visible_at: now.getTime(), receipt_handle: null, expires_at: now.getTime() + 86_400_000 })
      .execute();
    this.published.push({ topic: input.topic, body: input.body, messageId });
    return { messageId, messageBodyMd5: md5 };
  }
}

let seq = 0;
/** Each test uses its own topic names. */
const topicName = (): string => `t${++seq}-${randomBytes(3).toString('hex')}`;

async function enqueue(topic: string, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(await db.transaction().execute((tx) => enqueueTaskNotification(tx, { taskId: `MediaConvert-${topic}-${i}`, topic, body: `{"n":${i},"topic":"${topic}"}`, now: new Date() })));
  }
  return ids;
}

async function rows(topic: string) {
  return db.selectFrom('notification_outbox').selectAll().where('topic', '=', topic).orderBy('id').execute();
}

async function waitFor(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('enqueue inside a transaction that rolls back leaves nothing', async () => {
  const topic = topicName();
  await assert.rejects(
    db.transaction().execute(async (tx) => {
      await enqueueTaskNotification(tx, { taskId: 'MediaConvert-x', topic, body: '{}', now: new Date() });
      throw new Error('task end failed');
    }),
  );
  assert.equal((await rows(topic)).length, 0);
});

test('pending rows are published once each, in id order, with their message ids', async () => {
  const topic = topicName();
  const pub = new TestPublisher();
  pub.topics.add(topic);
  const ids = await enqueue(topic, 5);
  const d = new OutboxDispatcher({ db, publisher: pub, log, pollMs: 20 });
  d.start();
  await waitFor(async () => (await rows(topic)).every((r) => r.state === 'published'));
  // More passes happen meanwhile; none republishes.
  await new Promise((r) => setTimeout(r, 100));
  await d.stop();
  const mine = pub.published.filter((p) => p.topic === topic);
  assert.deepEqual(
    mine.map((p) => (JSON.parse(p.body) as { n: number }).n),
    [0, 1, 2, 3, 4],
  );
  const rs = await rows(topic);
  assert.deepEqual(
    rs.map((r) => Number(r.id)),
    ids,
  );
  for (const [i, r] of rs.entries()) {
    assert.equal(r.message_id, mine[i]!.messageId);
    assert.ok(Number(r.published_at) > 0);
    assert.equal(r.detail, '');
  }
  // The publisher's write committed with the row.
  const msgs = await db.selectFrom('mns_messages').select('id').where('queue', '=', topic).execute();
  assert.equal(msgs.length, 5);
});

test('a missing topic makes the row undeliverable with a detail; later rows still go out', async () => {
  const missing = topicName();
  const ok = topicName();
  const pub = new TestPublisher();
  pub.topics.add(ok);
  await enqueue(missing, 1);
  await enqueue(ok, 1);
  const d = new OutboxDispatcher({ db, publisher: pub, log, pollMs: 20 });
  d.start();
  await waitFor(async () => (await rows(missing))[0]!.state !== 'pending' && (await rows(ok))[0]!.state === 'published');
  await d.stop();
  const [r] = await rows(missing);
  assert.equal(r!.state, 'undeliverable');
  assert.equal(r!.detail, `topic ${missing} does not exist`);
  assert.equal(r!.message_id, null);
  assert.equal(pub.published.filter((p) => p.topic === missing).length, 0);
});

test('a transient failure leaves the row pending and it is retried with backoff', async () => {
  const topic = topicName();
  const pub = new TestPublisher();
  pub.topics.add(topic);
  pub.transientFailures = 2;
  await enqueue(topic, 1);
  const d = new OutboxDispatcher({ db, publisher: pub, log, pollMs: 1000, backoff: { baseMs: 30, maxMs: 60 } });
  const started = Date.now();
  d.start();
  await waitFor(async () => pub.calls >= 1);
  assert.equal((await rows(topic))[0]!.state, 'pending');
  await waitFor(async () => (await rows(topic))[0]!.state === 'published');
  const elapsed = Date.now() - started;
  await d.stop();
  assert.equal(pub.calls, 3);
  assert.equal(pub.published.length, 1);
  // Two backoffs (30 + 60 ms), well before the 1 s poll.
  assert.ok(elapsed >= 80 && elapsed < 900, `elapsed ${elapsed}`);
  // The failed attempts rolled back: exactly one message exists.
  assert.equal((await db.selectFrom('mns_messages').select('id').where('queue', '=', topic).execute()).length, 1);
});

test('after a crash (stopped before processing) a new dispatcher on the same database publishes the pending rows', async () => {
  const topic = topicName();
  const pub = new TestPublisher();
  pub.topics.add(topic);
  await enqueue(topic, 3);
  const first = new OutboxDispatcher({ db, publisher: pub, log, pollMs: 20 });
  // Stopped before it ever ran a pass.
  first.start();
  await first.stop();
  // A second connection stands in for the restarted process.
  const db2 = await openDatabase(join(dir, 'm.db'), { durable: false });
  try {
    const pending = await db2.selectFrom('notification_outbox').select('id').where('topic', '=', topic).where('state', '=', 'pending').execute();
    assert.equal(pending.length, 3 - pub.published.length);
    const second = new OutboxDispatcher({ db: db2, publisher: pub, log, pollMs: 20 });
    second.start();
    await waitFor(async () => (await rows(topic)).every((r) => r.state === 'published'));
    await second.stop();
  } finally {
    await db2.destroy();
  }
  assert.equal(pub.published.filter((p) => p.topic === topic).length, 3);
});

test('kick() publishes promptly, without waiting for the poll interval', async () => {
  const topic = topicName();
  const pub = new TestPublisher();
  pub.topics.add(topic);
  const d = new OutboxDispatcher({ db, publisher: pub, log, pollMs: 60_000 });
  d.start();
  // Let the first (empty) pass finish so the dispatcher is asleep.
  await new Promise((r) => setTimeout(r, 50));
  await enqueue(topic, 1);
  const t0 = Date.now();
  d.kick();
  await waitFor(async () => (await rows(topic))[0]!.state === 'published', 2000);
  assert.ok(Date.now() - t0 < 1000);
  await d.stop();
});

/**
 * A dispatcher in a worker thread on its own connection: better-sqlite3 waits for locks synchronously, so
 * two connections racing in one thread would stall each other; threads behave like separate processes.
 * Its publisher writes the message into mns_messages inside the dispatcher's transaction.
 */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
// A worker does not get the parent's TypeScript loader hooks: register tsx's once.
const load = async (url) => {
  if (!globalThis.__tsxRegistered) {
    (await import('tsx/esm/api')).register();
    globalThis.__tsxRegistered = true;
  }
  return import(url);
};
(async () => {
  const { openDatabase } = await load(workerData.connection);
  const { OutboxDispatcher } = await load(workerData.outbox);
  const { pino } = await import('pino');
  const { createHash, randomBytes } = require('node:crypto');
  const db = await openDatabase(workerData.file, { durable: false });
  const publisher = {
    async publishInTx(tx, input, now) {
      const messageId = randomBytes(16).toString('hex').toUpperCase();
      const md5 = createHash('md5').update(input.body).digest('hex').toUpperCase();
      await tx.insertInto('mns_messages').values({ id: messageId, queue: input.topic, body: input.body, body_md5: md5, priority: 8,
        enqueued_at: now.getTime(), first_dequeued_at: null, dequeue_count: 0, next_visible_at: now.getTime(), receipt_handle: null,
        expires_at: now.getTime() + 86400000 }).execute();
      return { messageId, messageBodyMd5: md5 };
    },
  };
  const d = new OutboxDispatcher({ db, publisher, log: pino({ level: 'silent' }), pollMs: 5 });
  d.start();
  parentPort.once('message', async () => { await d.stop(); await db.destroy(); parentPort.postMessage('stopped'); });
  parentPort.postMessage('started');
})().catch((e) => parentPort.postMessage('error: ' + (e && e.stack || e)));
`;

async function workerDispatcher(file: string): Promise<{ stop(): Promise<void> }> {
  const here = new URL('.', import.meta.url);
  const w = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, connection: new URL('../../src/db/connection.ts', here).href, outbox: new URL('../../src/notify/outbox.ts', here).href },
  });
  const first = await new Promise<unknown>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  if (first !== 'started') {
    await w.terminate();
    throw new Error(String(first));
  }
  return {
    async stop() {
      const done = new Promise((resolve) => w.once('message', resolve));
      w.postMessage('stop');
      await done;
      await w.terminate();
    },
  };
}

test('two dispatchers in two threads (own connections) never publish a row twice', async () => {
  const topic = topicName();
  const [a, b] = await Promise.all([workerDispatcher(join(dir, 'm.db')), workerDispatcher(join(dir, 'm.db'))]);
  try {
    // All rows appear at once while both dispatchers are polling, so both go after the same rows.
    await db.transaction().execute(async (tx) => {
      for (let i = 0; i < 40; i++) await enqueueTaskNotification(tx, { taskId: `MediaConvert-${topic}-${i}`, topic, body: `{"n":${i}}`, now: new Date() });
    });
    await waitFor(async () => (await rows(topic)).every((r) => r.state === 'published'), 20_000);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  const msgs = await db.selectFrom('mns_messages').select(['id', 'body']).where('queue', '=', topic).execute();
  assert.equal(msgs.length, 40);
  assert.equal(new Set(msgs.map((m) => m.body)).size, 40);
  const rs = await rows(topic);
  assert.deepEqual(new Set(rs.map((r) => r.message_id)), new Set(msgs.map((m) => m.id)));
});
