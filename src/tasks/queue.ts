/**
 * The durable task queue over the SQL index: insert, claim with a lease, heartbeat, progress, finish,
 * reads for GetTask/ListTasks, and retention purge.
 *
 * Claims are single UPDATE ... WHERE id = (SELECT ...) RETURNING statements, atomic on SQLite even when
 * `medley serve` and `medley worker` processes share the database file (PostgreSQL will add FOR UPDATE
 * SKIP LOCKED in the subquery). A lease that is not renewed runs out and the task is claimed again; every
 * write a worker makes afterwards is fenced on `lease_owner`, so a stalled worker that wakes up late can
 * neither overwrite the progress nor commit a result.
 *
 * Fairness: each task records the AccessKeyId that submitted it (`owner_key`). A claim takes, among the
 * keys below their running limit, the key with the fewest running tasks, and its oldest task: one key's
 * backlog of long tasks cannot hold every worker while another key waits. The count and the pick happen
 * inside the same UPDATE statement, so they are as atomic across processes as the claim itself.
 */
import { sql, type Expression, type ExpressionBuilder, type Insertable, type SqlBool, type Transaction } from 'kysely';
import { jsonFieldText, skipLocked } from '../db/dialect.js';
import type { Db } from '../db/connection.js';
import type { Database, TaskTable } from '../db/schema.js';
import { enqueueTaskNotification } from '../notify/outbox.js';
import { toTask, type TaskListQuery, type TaskPage, type TaskRecord } from './records.js';

type Tx = Transaction<Database>;

export interface TaskOutcome {
  state: 'succeeded' | 'failed';
  code: string;
  message: string;
  outputs: string[];
  /** The completion message for the task's topic: written to the outbox in the same transaction. */
  notification?: { topic: string; body: (endedAt: Date) => string };
}

/** Opaque page token: the sort value and task id of the last task returned. */
function encodeToken(sort: string, sortValue: string | number, id: string): string {
  return Buffer.from(JSON.stringify([sort, sortValue, id])).toString('base64url');
}

/** A token is only valid with the sort that issued it. */
function decodeToken(token: string, sort: string): [string | number, string] | undefined {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 3 && v[0] === sort && (typeof v[1] === 'string' || typeof v[1] === 'number') && typeof v[2] === 'string') return [v[1], v[2]];
  } catch {
    // fall through
  }
  return undefined;
}

export class InvalidPageToken extends Error {}

/** The submitting key already has `limit` tasks waiting (MEDLEY_MAX_QUEUED_PER_KEY). */
export class QueuedLimitReached extends Error {
  constructor(readonly limit: number) {
    super(`${limit} tasks queued`);
  }
}

/**
 * Which tasks a reader may see: undefined = all (the root key); otherwise its own tasks (`owner`, the
 * AccessKeyId that submitted them) and those every one of whose buckets (task_buckets) is in `buckets`.
 * A task with no recorded bucket is visible to its owner and the root key only.
 */
export type TaskVisibility = { buckets: readonly string[]; owner?: string } | undefined;

function visibleTo(eb: ExpressionBuilder<Database, 'tasks'>, v: NonNullable<TaskVisibility>): Expression<SqlBool> {
  const touched = eb.selectFrom('task_buckets').select('task_buckets.bucket').whereRef('task_buckets.task_id', '=', 'tasks.id');
  const covered = v.buckets.length === 0 ? sql<SqlBool>`0 = 1` : eb.and([eb.exists(touched), eb.not(eb.exists(touched.where('task_buckets.bucket', 'not in', [...v.buckets])))]);
  return v.owner ? eb.or([eb('tasks.owner_key', '=', v.owner), covered]) : covered;
}

export interface TaskQueueOptions {
  /** Most tasks one submitting key may have running at once (MEDLEY_MAX_RUNNING_PER_KEY); default unlimited. */
  maxRunningPerKey?: number;
  /**
   * Lease-owner prefix of this process (worker-pool.ts processOwnerPrefix): only the key's tasks running in
   * this process count towards `maxRunningPerKey`. The `auto` limit is a reservation of this process's own
   * slots (one stays free for other keys); counted over every process sharing the database it would cap a
   * key at one process's slots however many worker machines there are. Undefined: every process counts
   * (an explicit MEDLEY_MAX_RUNNING_PER_KEY is a cap over the whole installation).
   */
  limitScope?: string;
}

export class TaskQueue {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
    private readonly opts: TaskQueueOptions = {},
  ) {}

  /**
   * Stores the task and the buckets it touches, in one transaction. With `maxQueuedPerKey`, refuses
   * (QueuedLimitReached) when the row's owner already has that many tasks queued; the count and the insert
   * share the transaction (BEGIN IMMEDIATE), so concurrent submitters cannot overshoot the cap.
   */
  async insert(row: Insertable<TaskTable>, opts: { buckets?: readonly string[]; maxQueuedPerKey?: number } = {}): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (opts.maxQueuedPerKey !== undefined) {
        const r = await tx
          .selectFrom('tasks')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('owner_key', '=', row.owner_key ?? '')
          .where('state', '=', 'queued')
          .executeTakeFirst();
        if (Number(r?.n ?? 0) >= opts.maxQueuedPerKey) throw new QueuedLimitReached(opts.maxQueuedPerKey);
      }
      await tx.insertInto('tasks').values(row).execute();
      const buckets = [...new Set(opts.buckets ?? [])];
      if (buckets.length > 0) await tx.insertInto('task_buckets').values(buckets.map((bucket) => ({ task_id: row.id, bucket }))).execute();
    });
  }

  /** undefined when unknown, past retention, or not visible to the reader. */
  async get(taskId: string, visibility?: TaskVisibility): Promise<TaskRecord | undefined> {
    let q = this.db.selectFrom('tasks').selectAll().where('id', '=', taskId).where('expires_at', '>', this.now().getTime());
    if (visibility !== undefined) q = q.where((eb) => visibleTo(eb, visibility));
    const row = await q.executeTakeFirst();
    return row ? toTask(row) : undefined;
  }

  /** The buckets recorded for a task (sources and output). */
  async bucketsOf(taskId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('task_buckets').select('bucket').where('task_id', '=', taskId).orderBy('bucket').execute();
    return rows.map((r) => r.bucket);
  }

  /**
   * Claims a runnable task (queued, or running with a lapsed lease: its worker died or stalled): among
   * the submitting keys below `maxRunningPerKey` running tasks, the key with the fewest running, then its
   * oldest task. Returns undefined when there is nothing this worker may take.
   */
  async claim(owner: string, leaseMs: number): Promise<TaskRecord | undefined> {
    const now = this.now().getTime();
    const limit = this.opts.maxRunningPerKey;
    const scope = this.opts.limitScope;
    // Tasks that hold a worker now, per submitting key: everywhere (n, the fairness order) and in this
    // process's scope (m, the limit when scoped).
    const running = this.db
      .selectFrom('tasks')
      .select((eb) => [
        'owner_key',
        eb.fn.countAll<number>().as('n'),
        (scope === undefined ? sql<number>`count(*)` : sql<number>`sum(case when substr(lease_owner, 1, ${sql.lit(scope.length)}) = ${scope} then 1 else 0 end)`).as('m'),
      ])
      .where('state', '=', 'running')
      .where('lease_expires_at', '>=', now)
      .groupBy('owner_key')
      .as('r');
    const load = sql<number>`coalesce(r.n, 0)`;
    let pick = this.db
      .selectFrom('tasks as t')
      .leftJoin(running, 'r.owner_key', 't.owner_key')
      .select('t.id')
      .where((eb) => eb.or([eb('t.state', '=', 'queued'), eb.and([eb('t.state', '=', 'running'), eb('t.lease_expires_at', '<', now)])]));
    if (limit !== undefined) pick = pick.where(sql<number>`coalesce(r.m, 0)`, '<', limit);
    const candidate = skipLocked(this.db, pick.orderBy(load).orderBy('t.created_at').orderBy('t.id').limit(1), 't');
    const row = await this.db
      .updateTable('tasks')
      .set((eb) => ({
        state: 'running',
        lease_owner: owner,
        lease_expires_at: now + leaseMs,
        attempts: eb('attempts', '+', 1),
        started_at: eb.fn.coalesce('started_at', sql.lit(now)),
      }))
      .where('id', '=', candidate)
      // Re-checked here so two claimers racing for the same row cannot both win.
      .where((eb) => eb.or([eb('state', '=', 'queued'), eb.and([eb('state', '=', 'running'), eb('lease_expires_at', '<', now)])]))
      .returningAll()
      .executeTakeFirst();
    return row ? toTask(row) : undefined;
  }

  /** Extends the lease; false when the task is no longer ours (lease lost, or finished elsewhere). */
  async heartbeat(taskId: string, owner: string, leaseMs: number, progress?: number): Promise<boolean> {
    const r = await this.db
      .updateTable('tasks')
      .set({ lease_expires_at: this.now().getTime() + leaseMs, ...(progress === undefined ? {} : { progress }) })
      .where('id', '=', taskId)
      .where('lease_owner', '=', owner)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Ends the task. Inside `tx` when given (so outputs and the final state commit together). Returns
   * false, changing nothing, when the lease is no longer ours.
   */
  async finish(taskId: string, owner: string, outcome: TaskOutcome, tx?: Tx): Promise<boolean> {
    if (!tx) return this.db.transaction().execute((t) => this.finish(taskId, owner, outcome, t));
    const now = this.now();
    const r = await tx
      .updateTable('tasks')
      .set({
        state: outcome.state,
        code: outcome.code,
        message: outcome.message,
        outputs: JSON.stringify(outcome.outputs),
        progress: 100,
        ended_at: now.getTime(),
        lease_owner: null,
        lease_expires_at: null,
      })
      .where('id', '=', taskId)
      .where('lease_owner', '=', owner)
      .where('state', '=', 'running')
      .executeTakeFirst();
    const mine = Number(r.numUpdatedRows) === 1;
    // The outbox row commits with the final state: a crash can lose neither one without the other.
    if (mine && outcome.notification) await enqueueTaskNotification(tx, { taskId, topic: outcome.notification.topic, body: outcome.notification.body(now), now });
    return mine;
  }

  /**
   * Gives a claimed task back (graceful shutdown): another worker may take it at once. `refundAttempt`: the
   * attempt does not count towards MAX_ATTEMPTS (the database went away under it; the task did not fail).
   */
  async release(taskId: string, owner: string, opts: { refundAttempt?: boolean } = {}): Promise<void> {
    await this.db
      .updateTable('tasks')
      .set((eb) => ({ lease_expires_at: 0, lease_owner: null, ...(opts.refundAttempt ? { attempts: eb('attempts', '-', 1) } : {}) }))
      .where('id', '=', taskId)
      .where('lease_owner', '=', owner)
      .where('state', '=', 'running')
      .execute();
  }

  /**
   * Running tasks leased by processes on this machine that no longer exist (kill -9, power loss) are
   * made claimable now instead of after their lease: `isDead(owner)` decides from the owner string.
   */
  async releaseDeadOwners(isDead: (owner: string) => boolean): Promise<number> {
    const rows = await this.db.selectFrom('tasks').select(['id', 'lease_owner']).where('state', '=', 'running').where('lease_owner', 'is not', null).execute();
    let n = 0;
    for (const r of rows) {
      if (r.lease_owner && isDead(r.lease_owner)) {
        await this.release(r.id, r.lease_owner);
        n++;
      }
    }
    return n;
  }

  async hasActive(projectName: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('tasks')
      .select('id')
      .where('project', '=', projectName)
      .where('state', 'in', ['queued', 'running'])
      .where('expires_at', '>', this.now().getTime())
      .executeTakeFirst();
    return row !== undefined;
  }

  /** When the next lease runs out, for a worker deciding how long it may sleep. */
  async nextLeaseExpiry(): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('tasks')
      .select((eb) => eb.fn.min('lease_expires_at').as('t'))
      .where('state', '=', 'running')
      .executeTakeFirst();
    return row?.t === null || row?.t === undefined ? undefined : Number(row.t);
  }

  async purgeExpired(): Promise<number> {
    const now = this.now().getTime();
    return this.db.transaction().execute(async (tx) => {
      await tx
        .deleteFrom('task_buckets')
        .where('task_id', 'in', tx.selectFrom('tasks').select('id').where('expires_at', '<=', now))
        .execute();
      const r = await tx.deleteFrom('tasks').where('expires_at', '<=', now).executeTakeFirst();
      return Number(r.numDeletedRows);
    });
  }

  /**
   * ListTasks: filters, a stable sort (sort column, then task id) and keyset paging. Visibility is one more
   * SQL filter, so every page is full and the token is the last visible task: paging never stops early.
   */
  async list(q: TaskListQuery, visibility?: TaskVisibility): Promise<TaskPage> {
    const column = q.sort === 'StartTime' ? 'created_at' : q.sort === 'EndTime' ? 'ended_at' : 'id';
    const dir = q.order;
    const cmp = dir === 'asc' ? '>' : '<';
    let query = this.db.selectFrom('tasks').selectAll().where('project', '=', q.projectName).where('expires_at', '>', this.now().getTime());
    if (visibility !== undefined) query = query.where((eb) => visibleTo(eb, visibility));
    if (q.taskTypes && q.taskTypes.length > 0) query = query.where('type', 'in', q.taskTypes);
    if (q.status) query = query.where('state', 'in', q.status === 'Running' ? ['queued', 'running'] : [q.status === 'Succeeded' ? 'succeeded' : 'failed']);
    if (q.startTimeRange?.start) query = query.where('created_at', '>=', q.startTimeRange.start.getTime());
    if (q.startTimeRange?.end) query = query.where('created_at', '<=', q.startTimeRange.end.getTime());
    if (q.endTimeRange?.start) query = query.where('ended_at', '>=', q.endTimeRange.start.getTime());
    if (q.endTimeRange?.end) query = query.where('ended_at', '<=', q.endTimeRange.end.getTime());
    if (q.tagSelector) {
      const { key, value } = q.tagSelector;
      // Tags are a JSON object; compare the value as text so {"n":1} matches "n=1".
      query = query.where(jsonFieldText(this.db, 'tags', key), '=', value);
    }
    if (q.nextToken) {
      const token = decodeToken(q.nextToken, q.sort);
      if (!token) throw new InvalidPageToken(q.nextToken);
      const [after, afterId] = token;
      if (column === 'id') query = query.where('id', cmp, String(afterId));
      else if (column === 'ended_at' && after === -1) {
        // Paging through tasks without an end time (they sort as lowest).
        query = query.where((eb) => (dir === 'asc' ? eb.or([eb.and([eb('ended_at', 'is', null), eb('id', '>', afterId)]), eb('ended_at', 'is not', null)]) : eb.and([eb('ended_at', 'is', null), eb('id', '<', afterId)])));
      } else {
        const v = Number(after);
        query = query.where((eb) =>
          eb.or([
            eb(column, cmp, v),
            eb.and([eb(column, '=', v), eb('id', cmp, afterId)]),
            ...(column === 'ended_at' && dir === 'desc' ? [eb('ended_at', 'is', null)] : []),
          ]),
        );
      }
    }
    const nullsFirst = column === 'ended_at' ? sql`CASE WHEN ended_at IS NULL THEN 0 ELSE 1 END` : undefined;
    if (nullsFirst) query = query.orderBy(nullsFirst, dir);
    query = query.orderBy(column, dir);
    if (column !== 'id') query = query.orderBy('id', dir);
    const rows = await query.limit(q.maxResults + 1).execute();
    const more = rows.length > q.maxResults;
    const page = rows.slice(0, q.maxResults).map(toTask);
    const last = page[page.length - 1];
    let nextToken = '';
    if (more && last) {
      const sortValue = column === 'id' ? last.taskId : column === 'created_at' ? last.createdAt.getTime() : (last.endedAt?.getTime() ?? -1);
      nextToken = encodeToken(q.sort, sortValue, last.taskId);
    }
    return { tasks: page, nextToken };
  }
}
