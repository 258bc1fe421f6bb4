/**
 * Queues as resources: create, read, change, list and delete them (CreateQueue, GetQueueAttributes,
 * SetQueueAttributes, ListQueue, DeleteQueue), their message counts, and the lazy retention purge. What
 * happens to the messages in a queue is messages.ts; this module owns the mns_queues rows.
 */
import { sql, type Selectable, type Updateable } from 'kysely';
import { fail } from '../../errors.js';
import type { MnsQueueTable } from '../../db/schema.js';
import { nowMs, type Executor, type MnsContext } from './context.js';
import { QUEUE_RANGES } from './limits.js';
import { pageByName } from './paging.js';
import { QUEUE_DEFAULTS, sameAttributes, withDefaults, type ListOptions, type Page, type QueueAttributes, type QueueInfo, type QueueStats } from './records.js';
import { checkAttributes, checkName } from './validate.js';

export type QueueRow = Selectable<MnsQueueTable>;

/** QueueNotExist for `name`, in MNS's words. */
export function noSuchQueue(name: string): never {
  return fail('MnsQueueNotExist', `The queue name you provided is not exist: "${name}".`);
}

function queueInfo(r: QueueRow): QueueInfo {
  return {
    name: r.name,
    delaySeconds: r.delay_seconds,
    maximumMessageSize: r.maximum_message_size,
    messageRetentionPeriod: r.message_retention_period,
    visibilityTimeout: r.visibility_timeout,
    pollingWaitSeconds: r.polling_wait_seconds,
    loggingEnabled: r.logging_enabled !== 0,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

type QueueColumns = Omit<MnsQueueTable, 'name' | 'created_at' | 'updated_at'>;

/** The columns of the attributes given: all of them for CreateQueue, the changed ones for SetQueueAttributes. */
function queueColumns(a: QueueAttributes): QueueColumns;
function queueColumns(a: Partial<QueueAttributes>): Partial<QueueColumns>;
function queueColumns(a: Partial<QueueAttributes>): Partial<QueueColumns> {
  const c: Partial<QueueColumns> = {};
  if (a.delaySeconds !== undefined) c.delay_seconds = a.delaySeconds;
  if (a.maximumMessageSize !== undefined) c.maximum_message_size = a.maximumMessageSize;
  if (a.messageRetentionPeriod !== undefined) c.message_retention_period = a.messageRetentionPeriod;
  if (a.visibilityTimeout !== undefined) c.visibility_timeout = a.visibilityTimeout;
  if (a.pollingWaitSeconds !== undefined) c.polling_wait_seconds = a.pollingWaitSeconds;
  if (a.loggingEnabled !== undefined) c.logging_enabled = a.loggingEnabled ? 1 : 0;
  return c;
}

export class Queues {
  /** When each queue was last purged of expired messages (epoch ms), to purge at most once a second. */
  private readonly lastPurge = new Map<string, number>();

  constructor(private readonly ctx: MnsContext) {}

  /**
   * CreateQueue. `created: false` when the queue exists with the same attributes (MNS 204); a queue with
   * other attributes is QueueAlreadyExist. Unspecified attributes take the MNS defaults.
   */
  async create(name: string, attrs: Partial<QueueAttributes>): Promise<{ created: boolean }> {
    checkName('queue', name);
    checkAttributes(attrs, QUEUE_RANGES);
    const want = withDefaults(QUEUE_DEFAULTS, attrs);
    const now = nowMs(this.ctx);
    const r = await this.ctx.db
      .insertInto('mns_queues')
      .values({ name, ...queueColumns(want), created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0n) === 1) return { created: true };
    const existing = await this.find(this.ctx.db, name);
    if (existing && sameAttributes(QUEUE_DEFAULTS, queueInfo(existing), want)) return { created: false };
    return fail('MnsQueueAlreadyExist', `The queue you want to create is already exist: "${name}" has other attributes.`);
  }

  /** DeleteQueue, with its messages. Deleting a missing queue succeeds (idempotent). */
  async delete(name: string): Promise<void> {
    checkName('queue', name);
    await this.ctx.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('mns_queues').where('name', '=', name).execute();
      await tx.deleteFrom('mns_messages').where('queue', '=', name).execute();
    });
    this.lastPurge.delete(name);
    // Long polls on the queue re-read it and answer QueueNotExist.
    this.ctx.signals.queue(name);
  }

  async get(name: string): Promise<QueueInfo & QueueStats> {
    const q = await this.require(name);
    await this.purgeExpired(name, true);
    return { ...queueInfo(q), ...(await this.stats(name)) };
  }

  /** SetQueueAttributes: changes only what is given. */
  async setAttributes(name: string, attrs: Partial<QueueAttributes>): Promise<void> {
    checkName('queue', name);
    checkAttributes(attrs, QUEUE_RANGES);
    const set: Updateable<MnsQueueTable> = { updated_at: nowMs(this.ctx), ...queueColumns(attrs) };
    const r = await this.ctx.db.updateTable('mns_queues').set(set).where('name', '=', name).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) fail('MnsQueueNotExist');
  }

  /** ListQueue, by name. `withStats` adds the message counts (x-mns-with-meta). */
  async list(opts: ListOptions, withStats: boolean): Promise<Page<QueueInfo & Partial<QueueStats>>> {
    const { rows, nextMarker } = await pageByName(this.ctx.db.selectFrom('mns_queues').selectAll(), opts);
    const items: (QueueInfo & Partial<QueueStats>)[] = [];
    for (const r of rows) items.push(withStats ? { ...queueInfo(r), ...(await this.stats(r.name)) } : queueInfo(r));
    return { items, nextMarker };
  }

  find(ex: Executor, name: string): Promise<QueueRow | undefined> {
    return ex.selectFrom('mns_queues').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /** The queue, or the error for a bad or unknown name. */
  async require(name: string): Promise<QueueRow> {
    checkName('queue', name);
    const q = await this.find(this.ctx.db, name);
    if (!q) noSuchQueue(name);
    return q;
  }

  private async stats(name: string): Promise<QueueStats> {
    const now = nowMs(this.ctx);
    const r = await this.ctx.db
      .selectFrom('mns_messages')
      .select([
        sql<number>`coalesce(sum(case when next_visible_at <= ${now} then 1 else 0 end), 0)`.as('active'),
        sql<number>`coalesce(sum(case when next_visible_at > ${now} and dequeue_count > 0 then 1 else 0 end), 0)`.as('inactive'),
        sql<number>`coalesce(sum(case when next_visible_at > ${now} and dequeue_count = 0 then 1 else 0 end), 0)`.as('delayed'),
      ])
      .where('queue', '=', name)
      .where('expires_at', '>', now)
      .executeTakeFirstOrThrow();
    return { activeMessages: Number(r.active), inactiveMessages: Number(r.inactive), delayMessages: Number(r.delayed) };
  }

  /** Deletes messages past retention; at most once a second per queue unless forced. */
  async purgeExpired(queue: string, force = false): Promise<void> {
    const now = nowMs(this.ctx);
    const last = this.lastPurge.get(queue) ?? 0;
    if (!force && now - last < 1000 && now >= last) return;
    this.lastPurge.set(queue, now);
    await this.ctx.db.deleteFrom('mns_messages').where('queue', '=', queue).where('expires_at', '<=', now).execute();
  }

  /** Deletes every message past retention (housekeeping); returns how many. */
  async purgeAllExpired(): Promise<number> {
    const r = await this.ctx.db.deleteFrom('mns_messages').where('expires_at', '<=', nowMs(this.ctx)).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
