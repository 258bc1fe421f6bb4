/**
 * Tenancy in the task queue, on real SQLite files: fair claims across submitting keys (fewest running,
 * then oldest; a per-key running limit), the per-key queued cap, task visibility by the buckets a task
 * touches (GetTask/ListTasks, with full pages under keyset paging), and the 0004 migration's backfill.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Insertable } from 'kysely';
import { openDatabase, type Db } from '../../src/db/connection.js';
import { migrationsFor } from '../../src/db/migrations.js';
import type { TaskTable } from '../../src/db/schema.js';
import { QueuedLimitReached, TaskQueue, type TaskQueueOptions, type TaskVisibility } from '../../src/tasks/queue.js';
import type { TaskListQuery } from '../../src/tasks/records.js';
import { taskVisibility } from '../../src/auth/policy.js';
import { maxRunningPerKey } from '../../src/app.js';
import { openTestDatabase } from '../support/backend.js';
import { ConfigError, loadConfig } from '../../src/config.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const LEASE = 30_000;
let clock = new Date(T0);
const dirs: string[] = [];
const dbs: Db[] = [];

after(async () => {
  for (const d of dbs) await d.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function fresh(opts: TaskQueueOptions = {}): Promise<{ q: TaskQueue; db: Db }> {
  const d = mkdtempSync(join(tmpdir(), 'medley-tenancy-'));
  dirs.push(d);
  const db = await openDatabase(join(d, 'm.db'), { durable: false });
  dbs.push(db);
  return { q: new TaskQueue(db, () => clock, opts), db };
}

function row(id: string, owner: string, createdAt: number, over: Partial<Insertable<TaskTable>> = {}): Insertable<TaskTable> {
  return {
    id,
    project: 'p',
    type: 'MediaConvert',
    event_id: 'E',
    request_id: 'R',
    state: 'queued',
    progress: 0,
    code: '',
    message: '',
    user_data: '',
    tags: '{}',
    request_definition: '{}',
    spec: JSON.stringify({ job: { clips: [] }, templateSource: { bucket: 'b', key: 'k' }, origin: 'oss' }),
    outputs: '[]',
    notify_topic: null,
    created_at: createdAt,
    started_at: null,
    ended_at: null,
    attempts: 0,
    lease_owner: null,
    lease_expires_at: null,
    expires_at: T0 + 7 * 24 * 3600 * 1000,
    owner_key: owner,
    ...over,
  };
}

const done = { state: 'succeeded' as const, code: '', message: '', outputs: [] };

test('claims alternate between keys: the key with fewest running tasks, then its oldest task', async () => {
  const { q } = await fresh();
  // Key A queued three tasks before key B queued one: FIFO would run all of A's first.
  await q.insert(row('a1', 'A', T0 + 1));
  await q.insert(row('a2', 'A', T0 + 2));
  await q.insert(row('a3', 'A', T0 + 3));
  await q.insert(row('b1', 'B', T0 + 4));
  const order = [];
  for (let i = 0; i < 4; i++) order.push((await q.claim(`w${i}`, LEASE))?.taskId);
  assert.deepEqual(order, ['a1', 'b1', 'a2', 'a3']);
  assert.equal(await q.claim('w9', LEASE), undefined);
});

test('a key at its running limit waits while other keys run; it resumes when one of its tasks ends', async () => {
  const { q } = await fresh({ maxRunningPerKey: 1 });
  await q.insert(row('long1', 'A', T0 + 1));
  await q.insert(row('long2', 'A', T0 + 2));
  await q.insert(row('short', 'B', T0 + 3));
  assert.equal((await q.claim('w1', LEASE))?.taskId, 'long1');
  // long2 is older, but A already runs its one task: B's goes first, a worker stays free for it.
  assert.equal((await q.claim('w2', LEASE))?.taskId, 'short');
  assert.equal(await q.claim('w3', LEASE), undefined, 'A is at its limit and B has nothing queued');
  assert.equal(await q.finish('long1', 'w1', done), true);
  assert.equal((await q.claim('w3', LEASE))?.taskId, 'long2');
});

test('a scoped limit (auto) counts the key\'s tasks running in this process only; the fairness order still counts every process', async () => {
  // Two worker processes on one database (SQLite, or PostgreSQL under the scale suite), limit 1 each.
  const d = mkdtempSync(join(tmpdir(), 'medley-tenancy-scope-'));
  dirs.push(d);
  const db = await openTestDatabase(d, { durable: false });
  dbs.push(db);
  const p1 = new TaskQueue(db, () => clock, { maxRunningPerKey: 1, limitScope: 'node:1:aa:' });
  const p2 = new TaskQueue(db, () => clock, { maxRunningPerKey: 1, limitScope: 'node:2:bb:' });
  const everywhere = new TaskQueue(db, () => clock, { maxRunningPerKey: 1 });
  for (let i = 1; i <= 3; i++) await p1.insert(row(`a${i}`, 'A', T0 + i));
  assert.equal((await p1.claim('node:1:aa:0', LEASE))?.taskId, 'a1');
  assert.equal(await p1.claim('node:1:aa:1', LEASE), undefined, 'A is at its limit in process 1');
  assert.equal(await everywhere.claim('other:9:cc:0', LEASE), undefined, 'an unscoped limit counts process 1\'s task');
  assert.equal((await p2.claim('node:2:bb:0', LEASE))?.taskId, 'a2', 'process 2 has its own share');
  assert.equal(await p2.claim('node:2:bb:1', LEASE), undefined);
  // B (nothing running) goes before A's a3 in either process.
  await p1.insert(row('b1', 'B', T0 + 10));
  assert.equal((await p2.claim('node:2:bb:1', LEASE))?.taskId, 'b1');
  assert.equal(await p1.finish('a1', 'node:1:aa:0', done), true);
  assert.equal((await p1.claim('node:1:aa:0', LEASE))?.taskId, 'a3');
});

test('a running task whose lease ran out frees its key\'s slot and is claimed again first', async () => {
  const { q } = await fresh({ maxRunningPerKey: 1 });
  await q.insert(row('a1', 'A', T0 + 1));
  await q.insert(row('a2', 'A', T0 + 2));
  assert.equal((await q.claim('w1', LEASE))?.taskId, 'a1');
  assert.equal(await q.claim('w2', LEASE), undefined);
  clock = new Date(T0 + LEASE + 1);
  try {
    const again = await q.claim('w2', LEASE);
    assert.equal(again?.taskId, 'a1', 'the stalled task (oldest) is retried, still one of A at a time');
    assert.equal(again?.attempts, 2);
    assert.equal(await q.claim('w3', LEASE), undefined);
    assert.equal(await q.heartbeat('a1', 'w1', LEASE), false, 'the stalled worker is fenced out');
  } finally {
    clock = new Date(T0);
  }
});

test('the queued cap counts only the key\'s queued tasks and refuses the next one', async () => {
  const { q, db } = await fresh();
  const cap = { maxQueuedPerKey: 2 };
  await q.insert(row('a1', 'A', T0 + 1), cap);
  await q.insert(row('a2', 'A', T0 + 2), cap);
  await assert.rejects(q.insert(row('a3', 'A', T0 + 3), cap), (e: unknown) => e instanceof QueuedLimitReached && e.limit === 2);
  const stored = await db.selectFrom('tasks').select('id').where('id', '=', 'a3').executeTakeFirst();
  assert.equal(stored, undefined, 'a refused task is not stored');
  await q.insert(row('b1', 'B', T0 + 4), cap);
  assert.equal((await q.claim('w1', LEASE))?.taskId, 'a1');
  await q.insert(row('a3', 'A', T0 + 5), cap);
  await assert.rejects(q.insert(row('a4', 'A', T0 + 6), cap), QueuedLimitReached);
});

test('taskVisibility: root sees all, a scoped key its own tasks and the buckets of its grants, anonymous none', () => {
  assert.equal(taskVisibility({ kind: 'signed', accessKeyId: 'root' }), undefined);
  assert.deepEqual(taskVisibility({ kind: 'signed', accessKeyId: 'k', grants: { a: 'read', b: 'read-write' } }), { buckets: ['a', 'b'], owner: 'k' });
  assert.deepEqual(taskVisibility({ kind: 'signed', accessKeyId: 'k', grants: {} }), { buckets: [], owner: 'k' });
  assert.deepEqual(taskVisibility({ kind: 'anonymous' }), { buckets: [] });
});

test('a task is visible only when every bucket it touches is in the reader\'s list', async () => {
  const { q } = await fresh();
  await q.insert(row('in-a', 'A', T0 + 1), { buckets: ['a'] });
  await q.insert(row('a-to-b', 'A', T0 + 2), { buckets: ['a', 'b'] });
  await q.insert(row('in-c', 'A', T0 + 3), { buckets: ['c'] });
  await q.insert(row('unrecorded', 'A', T0 + 4));
  await q.insert(row('mine-in-c', 'K', T0 + 5), { buckets: ['c'] });
  const ids = async (v: TaskVisibility) => (await q.list({ projectName: 'p', sort: 'TaskId', order: 'asc', maxResults: 100 }, v)).tasks.map((t) => t.taskId);
  assert.deepEqual(await ids(undefined), ['a-to-b', 'in-a', 'in-c', 'mine-in-c', 'unrecorded']);
  assert.deepEqual(await ids({ buckets: ['a'] }), ['in-a']);
  assert.deepEqual(await ids({ buckets: ['a', 'b'] }), ['a-to-b', 'in-a']);
  assert.deepEqual(await ids({ buckets: ['b', 'c'] }), ['in-c', 'mine-in-c']);
  assert.deepEqual(await ids({ buckets: [] }), []);
  assert.deepEqual(await ids({ buckets: ['a'], owner: 'K' }), ['in-a', 'mine-in-c'], 'a key sees its own tasks whatever their buckets');
  assert.deepEqual(await ids({ buckets: [], owner: 'K' }), ['mine-in-c']);
  assert.ok(await q.get('a-to-b', { buckets: ['a', 'b'] }));
  assert.equal(await q.get('a-to-b', { buckets: ['a'] }), undefined);
  assert.equal(await q.get('unrecorded', { buckets: ['a', 'b', 'c'] }), undefined, 'a task with no recorded bucket is the root key\'s only');
  assert.ok(await q.get('unrecorded', undefined));
  assert.deepEqual(await q.bucketsOf('a-to-b'), ['a', 'b']);
});

test('paging under visibility: every page is full, the token continues after the last visible task, nothing repeats or is lost', async () => {
  const { q } = await fresh();
  const visible: string[] = [];
  for (let i = 0; i < 40; i++) {
    const id = `t${String(i).padStart(2, '0')}`;
    // Mostly invisible tasks, with runs of them longer than a page, so short pages would show.
    const mine = i % 7 === 0 || i === 38 || i === 39;
    await q.insert(row(id, 'A', T0 + (i % 5) * 1000, { ended_at: i % 3 === 0 ? null : T0 + i }), { buckets: mine ? ['mine'] : ['other'] });
    if (mine) visible.push(id);
  }
  for (const sort of ['TaskId', 'StartTime', 'EndTime'] as const) {
    for (const order of ['asc', 'desc'] as const) {
      const all = (await q.list({ projectName: 'p', sort, order, maxResults: 100 }, { buckets: ['mine'] })).tasks.map((t) => t.taskId);
      assert.deepEqual([...all].sort(), visible, `${sort} ${order}: the unpaged list is the visible tasks`);
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const query: TaskListQuery = { projectName: 'p', sort, order, maxResults: 3, ...(token ? { nextToken: token } : {}) };
        const page = await q.list(query, { buckets: ['mine'] });
        seen.push(...page.tasks.map((t) => t.taskId));
        if (page.nextToken) assert.equal(page.tasks.length, 3, `${sort} ${order}: a page before the last is full`);
        token = page.nextToken || undefined;
        pages++;
      } while (token && pages < 20);
      assert.deepEqual(seen, all, `${sort} ${order}: paging yields the unpaged order`);
    }
  }
});

test('purge removes a task\'s recorded buckets with it', async () => {
  const { q, db } = await fresh();
  await q.insert(row('old', 'A', T0, { expires_at: T0 + 1 }), { buckets: ['a', 'b'] });
  await q.insert(row('kept', 'A', T0), { buckets: ['a'] });
  clock = new Date(T0 + 2);
  try {
    assert.equal(await q.purgeExpired(), 1);
  } finally {
    clock = new Date(T0);
  }
  const left = await db.selectFrom('task_buckets').select(['task_id', 'bucket']).execute();
  assert.deepEqual(left, [{ task_id: 'kept', bucket: 'a' }]);
});

test('migration 0004 gives existing tasks the owner "" and backfills their buckets from the stored spec and outputs', async () => {
  const d = mkdtempSync(join(tmpdir(), 'medley-tenancy-mig-'));
  dirs.push(d);
  const file = join(d, 'm.db');
  const old = new Kysely<Record<string, Record<string, unknown>>>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
  const migrator = new Migrator({ db: old, provider: { getMigrations: async () => migrationsFor('sqlite') } });
  const r = await migrator.migrateTo('0003_notify');
  assert.equal(r.error, undefined);
  const base = row('legacy', 'x', T0) as Record<string, unknown>;
  delete base.owner_key;
  const spec = {
    job: { clips: [{ source: { bucket: 'src1', key: 'a.wav' } }, { source: { bucket: 'src2', key: 'b.wav' } }], output: { destination: { bucket: 'dest', keyTemplate: 'o.{autoext}' } } },
    templateSource: { bucket: 'src1', key: 'a.wav' },
    origin: 'imm',
  };
  await old.insertInto('tasks').values({ ...base, spec: JSON.stringify(spec), outputs: JSON.stringify(['oss://dest/o.mp3']) }).execute();
  const templated = { ...spec, job: { ...spec.job, output: { destination: { bucket: '{bucket}', keyTemplate: 'o.{autoext}' } } } };
  await old.insertInto('tasks').values({ ...base, id: 'legacy-templated', spec: JSON.stringify(templated) }).execute();
  await old.destroy();

  const db = await openDatabase(file, { durable: false });
  dbs.push(db);
  const q = new TaskQueue(db, () => clock);
  assert.deepEqual(await q.bucketsOf('legacy'), ['dest', 'src1', 'src2']);
  assert.deepEqual(await q.bucketsOf('legacy-templated'), ['src1', 'src2'], '{bucket} means the template source\'s bucket');
  const owner = await db.selectFrom('tasks').select('owner_key').where('id', '=', 'legacy').executeTakeFirstOrThrow();
  assert.equal(owner.owner_key, '');
  assert.ok(await q.get('legacy', { buckets: ['src1', 'src2', 'dest'] }));
  assert.equal(await q.get('legacy', { buckets: ['src1', 'src2'] }), undefined);
  assert.equal(await q.get('legacy', { buckets: [], owner: 'x' }), undefined, 'legacy rows have no owner to match');
});

test('settings: MEDLEY_MAX_RUNNING_PER_KEY (auto = workers - 1, at least 1) and MEDLEY_MAX_QUEUED_PER_KEY, validated by name', () => {
  const defaults = loadConfig({}, {});
  assert.equal(defaults.maxRunningPerKey, 'auto');
  assert.equal(defaults.maxQueuedPerKey, 1000);
  for (const [workers, limit] of [[1, 1], [2, 1], [4, 3], [16, 15]] as const) assert.equal(maxRunningPerKey(defaults, workers), limit, `${workers} workers`);
  const set = loadConfig({ maxRunningPerKey: '5' }, { MEDLEY_MAX_QUEUED_PER_KEY: '20' });
  assert.equal(maxRunningPerKey(set, 2), 5);
  assert.equal(set.maxQueuedPerKey, 20);
  for (const [env, name] of [
    [{ MEDLEY_MAX_RUNNING_PER_KEY: '0' }, /MEDLEY_MAX_RUNNING_PER_KEY/],
    [{ MEDLEY_MAX_RUNNING_PER_KEY: 'lots' }, /MEDLEY_MAX_RUNNING_PER_KEY/],
    [{ MEDLEY_MAX_QUEUED_PER_KEY: '0' }, /MEDLEY_MAX_QUEUED_PER_KEY/],
    [{ MEDLEY_MAX_QUEUED_PER_KEY: '1.5' }, /MEDLEY_MAX_QUEUED_PER_KEY/],
  ] as const) {
    assert.throws(() => loadConfig({}, env), (e: unknown) => e instanceof ConfigError && name.test(e.message));
  }
});
