/**
 * The notification outbox: a task's completion message is written in the same transaction that ends the
 * task (`enqueueTaskNotification`), and the dispatcher publishes it to its MNS topic later. Publishing and
 * marking the row `published` commit together, so a message is neither lost (crash before publishing:
 * the row is still pending) nor published twice by Medley (crash after: both or neither committed).
 *
 * Several processes may run a dispatcher on one database: each row is handled in one transaction whose
 * first statement is a conditional UPDATE of that row (still pending). On SQLite that statement takes the
 * database write lock, so the whole claim-publish-mark sequence is serialized; on PostgreSQL it takes the
 * row lock and a concurrent dispatcher re-checks `state` after the first one commits and finds nothing.
 */
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../db/connection.js';
import type { Database } from '../db/schema.js';
import { MedleyError } from '../errors.js';
import { backoffMs, isDbUnavailable } from '../db/errors.js';
import { BackgroundLoop } from '../db/background-loop.js';
import type { Publisher } from './types.js';

type Tx = Transaction<Database>;

export interface OutboxRowInput {
  taskId: string;
  topic: string;
  /** The message body (the §5.2 envelope from buildTaskNotification). */
  body: string;
  now: Date;
}

/** Adds a pending notification; call it inside the transaction that ends the task. Returns the row id. */
export async function enqueueTaskNotification(tx: Tx | Db, row: OutboxRowInput): Promise<number> {
  const r = await tx
    .insertInto('notification_outbox')
    .values({ task_id: row.taskId, topic: row.topic, body: row.body, created_at: row.now.getTime(), state: 'pending', detail: '', message_id: null, published_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(r.id);
}

/** The MNS error a publisher raises for a topic that does not exist (MedleyError `MnsTopicNotExist`). */
export function isTopicNotExist(e: unknown): boolean {
  return e instanceof MedleyError && e.key === 'MnsTopicNotExist';
}

export interface OutboxDispatcherOptions {
  db: Db;
  publisher: Publisher;
  log: Logger;
  /** How often to look for rows written by other processes (default 500 ms); `kick()` wakes it at once. */
  pollMs?: number;
  now?: () => Date;
  /** Retry delay after a failed publish: doubles from baseMs up to maxMs (defaults 1 s, 60 s). */
  backoff?: { baseMs: number; maxMs: number };
  /** Rows read per pass (default 100). */
  batchSize?: number;
}

type Outcome = 'published' | 'undeliverable' | 'gone' | 'retry';

export class OutboxDispatcher {
  private readonly db: Db;
  private readonly publisher: Publisher;
  private readonly log: Logger;
  private readonly pollMs: number;
  private readonly now: () => Date;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly batchSize: number;
  /** Rows whose last publish failed: not retried before `notBefore` (per process, in memory). */
  private readonly retries = new Map<number, { failures: number; notBefore: number }>();
  private stopping = false;
  private readonly loop: BackgroundLoop;

  constructor(opts: OutboxDispatcherOptions) {
    this.db = opts.db;
    this.publisher = opts.publisher;
    this.log = opts.log;
    this.pollMs = opts.pollMs ?? 500;
    this.now = opts.now ?? (() => new Date());
    this.backoff = opts.backoff ?? { baseMs: 1000, maxMs: 60_000 };
    this.batchSize = opts.batchSize ?? 100;
    this.loop = new BackgroundLoop({
      pass: async () => {
        await this.dispatchOnce();
        return this.sleepMs();
      },
      pollMs: this.pollMs,
      log: this.log,
      messages: { unreachable: 'the database is unreachable: task notifications wait', failed: 'outbox pass failed; will retry', recovered: 'outbox passes work again' },
    });
  }

  start(): void {
    if (this.loop.running) return;
    this.stopping = false;
    this.loop.start();
  }

  /** Stops after the row in hand (if any) is done; pending rows stay for the next dispatcher. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop.stop();
    this.stopping = false;
  }

  /** Look for pending rows now (a task just ended in this process). */
  kick(): void {
    this.loop.kick();
  }

  /** One pass over the pending rows, in id order. Returns how many were published. Exposed for tests and tools. */
  async dispatchOnce(): Promise<number> {
    let published = 0;
    let afterId = 0;
    const seen = new Set<number>();
    for (;;) {
      const rows = await this.db
        .selectFrom('notification_outbox')
        .select('id')
        .where('state', '=', 'pending')
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(this.batchSize)
        .execute();
      for (const { id } of rows) {
        if (this.stopping) return published;
        afterId = Number(id);
        seen.add(afterId);
        const r = this.retries.get(afterId);
        // A row in backoff does not hold up the rows after it.
        if (r && r.notBefore > Date.now()) continue;
        if ((await this.dispatchRow(afterId)) === 'published') published++;
      }
      if (rows.length < this.batchSize) break;
    }
    // Forget backoff state of rows another dispatcher has finished meanwhile.
    for (const id of this.retries.keys()) if (!seen.has(id)) this.retries.delete(id);
    return published;
  }

  private async dispatchRow(id: number): Promise<Outcome> {
    try {
      const outcome = await this.db.transaction().execute(async (tx): Promise<Outcome> => {
        // The claim: a write first, so the transaction holds the write lock (SQLite) / row lock (PostgreSQL).
        const row = await tx
          .updateTable('notification_outbox')
          .set({ state: 'pending' })
          .where('id', '=', id)
          .where('state', '=', 'pending')
          .returning(['id', 'task_id', 'topic', 'body'])
          .executeTakeFirst();
        if (!row) return 'gone';
        const now = this.now();
        const res = await this.publisher.publishInTx(tx, { topic: row.topic, body: row.body, tag: '' }, now);
        await tx.updateTable('notification_outbox').set({ state: 'published', message_id: res.messageId, published_at: now.getTime(), detail: '' }).where('id', '=', id).execute();
        this.log.debug({ outboxId: id, taskId: row.task_id, topic: row.topic, messageId: res.messageId }, 'task notification published');
        return 'published';
      });
      this.retries.delete(id);
      return outcome;
    } catch (e) {
      if (isTopicNotExist(e)) return this.markUndeliverable(id);
      // The database went away: not this row's fault (no per-row backoff); the pass stops and backs off.
      if (isDbUnavailable(e)) throw e;
      const prev = this.retries.get(id)?.failures ?? 0;
      const delay = backoffMs(prev + 1, this.backoff.baseMs, this.backoff.maxMs);
      this.retries.set(id, { failures: prev + 1, notBefore: Date.now() + delay });
      this.log.warn({ err: e, outboxId: id, failures: prev + 1, retryInMs: delay }, 'publishing a task notification failed; will retry');
      return 'retry';
    }
  }

  /** The publish transaction rolled back; record why, unless another dispatcher finished the row meanwhile. */
  private async markUndeliverable(id: number): Promise<Outcome> {
    this.retries.delete(id);
    const row = await this.db.selectFrom('notification_outbox').select(['topic', 'task_id']).where('id', '=', id).executeTakeFirst();
    if (!row) return 'gone';
    const detail = `topic ${row.topic} does not exist`;
    const r = await this.db.updateTable('notification_outbox').set({ state: 'undeliverable', detail }).where('id', '=', id).where('state', '=', 'pending').executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) this.log.warn({ outboxId: id, taskId: row.task_id, topic: row.topic }, `task notification undeliverable: ${detail}`);
    return 'undeliverable';
  }

  /** Until the next poll, or sooner when a row in backoff becomes due. */
  private sleepMs(): number {
    let ms = this.pollMs;
    const now = Date.now();
    for (const r of this.retries.values()) ms = Math.min(ms, Math.max(0, r.notBefore - now));
    return ms;
  }
}
