/** The durable task queue on a real SQLite file: claims and leases, fencing, retention, ListTasks filters and keyset paging. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Insertable } from 'kysely';
import type { Db } from '../../src/db/connection.js';
import { openTestDatabase } from '../support/backend.js';
import type { TaskTable } from '../../src/db/schema.js';
import { InvalidPageToken, TaskQueue, type TaskOutcome } from '../../src/tasks/queue.js';
import type { TaskListQuery, TaskRecord } from '../../src/tasks/records.js';

let dir: string;
let db: Db;
let clock = new Date('2025-01-01T00:00:00Z');
let queue: TaskQueue;

const T0 = Date.parse('2025-01-01T00:00:00Z');
const DAY = 24 * 3600 * 1000;
const LEASE = 30_000;
const ok: TaskOutcome = { state: 'succeeded', code: '', message: '', outputs: ['oss://b/out.mp3'] };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medley-q-'));
  db = await openTestDatabase(dir);
  queue = new TaskQueue(db, () => clock);
});
after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
/** Every test works in its own project so rows of other tests never interfere. */
function project(): string {
  return `p${++seq}`;
}

function row(p: string, id: string, over: Partial<Insertable<TaskTable>> = {}): Insertable<TaskTable> {
  return {
    id,
    project: p,
    type: 'MediaConvert',
    event_id: '25E-1uBJUMOshisffTNk8Nr3GIj0000',
    request_id: 'REQ',
    state: 'queued',
    progress: 0,
    code: '',
    message: '',
    user_data: '',
    tags: '{}',
    request_definition: '{}',
    spec: JSON.stringify({ job: {}, templateSource: { bucket: 'b', key: 'k' }, origin: 'oss' }),
    outputs: '[]',
    notify_topic: null,
    created_at: T0,
    started_at: null,
    ended_at: null,
    attempts: 0,
    lease_owner: null,
    lease_expires_at: null,
    expires_at: T0 + 7 * DAY,
    ...over,
  };
}

/** Runnable tasks of other tests would be claimed too: claim tests get a queue of their own database. */
async function freshQueue(): Promise<{ q: TaskQueue; fdb: Db; close: () => Promise<void> }> {
  const d = mkdtempSync(join(tmpdir(), 'medley-q-'));
  const fdb = await openTestDatabase(d);
  return {
    q: new TaskQueue(fdb, () => clock),
    fdb,
    close: async () => {
      await fdb.destroy();
      rmSync(d, { recursive: true, force: true });
    },
  };
}

async function withQueue(fn: (q: TaskQueue, qdb: Db) => Promise<void>): Promise<void> {
  clock = new Date(T0 + 1000);
  const { q, fdb, close } = await freshQueue();
  try {
    await fn(q, fdb);
  } finally {
    await close();
  }
}

// ---------------------------------------------------------------------------------------------- claims

test('claim returns the oldest queued task and marks it running with attempts 1 and the lease owner', () =>
  withQueue(async (q) => {
    await q.insert(row('p', 'c-newer', { created_at: T0 + 500 }));
    await q.insert(row('p', 'z-oldest', { created_at: T0 }));
    await q.insert(row('p', 'a-newest', { created_at: T0 + 900 }));
    const t = await q.claim('w1', LEASE);
    assert.ok(t);
    assert.equal(t.taskId, 'z-oldest');
    assert.equal(t.state, 'running');
    assert.equal(t.status, 'Running');
    assert.equal(t.attempts, 1);
    assert.equal(t.leaseOwner, 'w1');
    assert.equal(t.leaseExpiresAt?.getTime(), clock.getTime() + LEASE);
    assert.equal(t.startedAt?.getTime(), clock.getTime());
    const stored = await q.get('z-oldest');
    assert.equal(stored?.state, 'running');
    assert.equal(stored?.leaseOwner, 'w1');
    assert.equal(stored?.attempts, 1);
  }));

test('equal creation times are claimed in task id order', () =>
  withQueue(async (q) => {
    await q.insert(row('p', 'b', { created_at: T0 }));
    await q.insert(row('p', 'a', { created_at: T0 }));
    assert.equal((await q.claim('w', LEASE))?.taskId, 'a');
    assert.equal((await q.claim('w', LEASE))?.taskId, 'b');
  }));

test('claim returns undefined when nothing is runnable', () =>
  withQueue(async (q) => {
    assert.equal(await q.claim('w', LEASE), undefined);
    await q.insert(row('p', 'done', { state: 'succeeded', ended_at: T0 }));
    await q.insert(row('p', 'leased', { state: 'running', lease_owner: 'other', lease_expires_at: clock.getTime() + 1, attempts: 1 }));
    assert.equal(await q.claim('w', LEASE), undefined);
  }));

test('20 concurrent claims over 5 tasks: each task is claimed exactly once', () =>
  withQueue(async (q) => {
    for (let i = 0; i < 5; i++) await q.insert(row('p', `t${i}`, { created_at: T0 + i }));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => q.claim(`w${i}`, LEASE)));
    const won = results.filter((r): r is TaskRecord => r !== undefined);
    assert.equal(won.length, 5);
    assert.deepEqual(won.map((t) => t.taskId).sort(), ['t0', 't1', 't2', 't3', 't4']);
    assert.equal(new Set(won.map((t) => t.leaseOwner)).size, 5, 'five different winners');
    for (const t of won) assert.equal(t.attempts, 1);
    for (let i = 0; i < 5; i++) {
      const stored = await q.get(`t${i}`);
      assert.equal(stored?.attempts, 1);
      assert.equal(stored?.leaseOwner, won.find((t) => t.taskId === `t${i}`)?.leaseOwner);
    }
  }));

test('a running task whose lease lapsed is claimed again (attempts 2) by another owner; an unexpired one is not', () =>
  withQueue(async (q) => {
    await q.insert(row('p', 'lapsing', { created_at: T0 }));
    await q.insert(row('p', 'healthy', { created_at: T0 + 1 }));
    const first = await q.claim('w1', 1_000);
    assert.equal(first?.taskId, 'lapsing');
    const second = await q.claim('w2', 60_000);
    assert.equal(second?.taskId, 'healthy');
    assert.equal(await q.claim('w3', LEASE), undefined, 'both leases still run');

    clock = new Date(clock.getTime() + 1_001);
    const again = await q.claim('w3', LEASE);
    assert.equal(again?.taskId, 'lapsing');
    assert.equal(again?.attempts, 2);
    assert.equal(again?.leaseOwner, 'w3');
    assert.equal(again?.startedAt?.getTime(), first?.startedAt?.getTime(), 'started_at keeps the first claim');
    assert.equal(await q.claim('w4', LEASE), undefined, 'healthy is still leased by w2');
    assert.equal((await q.get('healthy'))?.leaseOwner, 'w2');
  }));

test('a lease expiring exactly now is not yet lapsed', () =>
  withQueue(async (q) => {
    await q.insert(row('p', 't'));
    await q.claim('w1', 1_000);
    clock = new Date(clock.getTime() + 1_000);
    assert.equal(await q.claim('w2', LEASE), undefined);
    clock = new Date(clock.getTime() + 1);
    assert.equal((await q.claim('w2', LEASE))?.leaseOwner, 'w2');
  }));

// ------------------------------------------------------------------------------------ heartbeat / fencing

test('heartbeat by the owner extends the lease and records progress', () =>
  withQueue(async (q) => {
    await q.insert(row('p', 't'));
    await q.claim('w1', 1_000);
    clock = new Date(clock.getTime() + 900);
    assert.equal(await q.heartbeat('t', 'w1', 1_000, 42), true);
    const t = await q.get('t');
    assert.equal(t?.leaseExpiresAt?.getTime(), clock.getTime() + 1_000);
    assert.equal(t?.progress, 42);
    clock = new Date(clock.getTime() + 900);
    assert.equal(await q.claim('w2', LEASE), undefined, 'the extended lease still holds');
    assert.equal(await q.heartbeat('t', 'w1', 1_000), true);
    assert.equal((await q.get('t'))?.progress, 42, 'no progress given: unchanged');
  }));

test('heartbeat by a non-owner is refused and changes nothing', () =>
  withQueue(async (q) => {
    await q.insert(row('p', 't'));
    await q.claim('w1', 1_000);
    const before = await q.get('t');
    assert.equal(await q.heartbeat('t', 'intruder', 60_000, 50), false);
    const afterwards = await q.get('t');
    assert.equal(afterwards?.leaseExpiresAt?.getTime(), before?.leaseExpiresAt?.getTime());
    assert.equal(afterwards?.progress, 0);
    assert.equal(await q.heartbeat('unknown-task', 'w1', 1_000), false);
  }));

test('heartbeat after someone else re-claimed the lapsed task returns false', () =>
  withQueue(async (q) => {
    await q.insert(row('p', 't'));
    await q.claim('w1', 1_000);
    clock = new Date(clock.getTime() + 2_000);
    assert.equal((await q.claim('w2', LEASE))?.leaseOwner, 'w2');
    assert.equal(await q.heartbeat('t', 'w1', 1_000, 80), false);
    const t = await q.get('t');
    assert.equal(t?.leaseOwner, 'w2');
    assert.equal(t?.progress, 0);
    assert.equal(t?.leaseExpiresAt?.getTime(), clock.getTime() + LEASE);
  }));

test('heartbeat on a finished task returns false', () =>
  withQueue(async (q) => {
    await q.insert(row('p', 't'));
    await q.claim('w1', LEASE);
    assert.equal(await q.finish('t', 'w1', ok), true);
    assert.equal(await q.heartbeat('t', 'w1', LEASE), false);
  }));

test('finish by the owner records the outcome and clears the lease', () =>
  withQueue(async (q) => {
    await q.insert(row('p', 't'));
    await q.claim('w1', LEASE);
    clock = new Date(clock.getTime() + 5_000);
    assert.equal(await q.finish('t', 'w1', { state: 'failed', code: 'InvalidFile.Media', message: 'bad', outputs: [] }), true);
    const t = await q.get('t');
    assert.equal(t?.state, 'failed');
    assert.equal(t?.status, 'Failed');
    assert.equal(t?.code, 'InvalidFile.Media');
    assert.equal(t?.message, 'bad');
    assert.equal(t?.progress, 100);
    assert.equal(t?.endedAt?.getTime(), clock.getTime());
    assert.equal(t?.leaseOwner, undefined);
    assert.equal(t?.leaseExpiresAt, undefined);
    assert.equal(await q.claim('w2', LEASE), undefined, 'a finished task is never claimed again');
  }));

test('finish by a stale owner changes nothing and returns false', () =>
  withQueue(async (q) => {
    await q.insert(row('p', 't'));
    await q.claim('w1', 1_000);
    clock = new Date(clock.getTime() + 2_000);
    await q.claim('w2', LEASE);
    const before = await q.get('t');
    assert.equal(await q.finish('t', 'w1', ok), false);
    assert.deepEqual(await q.get('t'), before);
    assert.equal(await q.finish('t', 'w2', ok), true);
    assert.equal(await q.finish('t', 'w2', ok), false, 'finishing twice: the second is refused');
  }));

test('finish inside a transaction rolls back with it', () =>
  withQueue(async (q, qdb) => {
    await q.insert(row('p', 't'));
    await q.claim('w1', LEASE);
    const before = await q.get('t');
    await assert.rejects(
      qdb.transaction().execute(async (tx) => {
        assert.equal(await q.finish('t', 'w1', ok, tx), true);
        const inside = await tx.selectFrom('tasks').select('state').where('id', '=', 't').executeTakeFirstOrThrow();
        assert.equal(inside.state, 'succeeded', 'visible inside the transaction');
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual(await q.get('t'), before, 'rolled back: still running under w1');
    assert.equal(await q.heartbeat('t', 'w1', LEASE), true);

    await qdb.transaction().execute(async (tx) => {
      assert.equal(await q.finish('t', 'w1', ok, tx), true);
    });
    const done = await q.get('t');
    assert.equal(done?.state, 'succeeded', 'committed with the transaction');
    assert.deepEqual(done?.outputs, ok.outputs);
  }));

test('release makes a task claimable at once', () =>
  withQueue(async (q) => {
    await q.insert(row('p', 't'));
    await q.claim('w1', 3_600_000);
    assert.equal(await q.claim('w2', LEASE), undefined);
    await q.release('t', 'w1');
    const released = await q.get('t');
    assert.equal(released?.state, 'running');
    assert.equal(released?.leaseOwner, undefined);
    const again = await q.claim('w2', LEASE);
    assert.equal(again?.taskId, 't');
    assert.equal(again?.leaseOwner, 'w2');
    assert.equal(again?.attempts, 2);
  }));

test('release by a non-owner changes nothing', () =>
  withQueue(async (q) => {
    await q.insert(row('p', 't'));
    await q.claim('w1', 3_600_000);
    await q.release('t', 'w2');
    assert.equal((await q.get('t'))?.leaseOwner, 'w1');
    assert.equal(await q.claim('w3', LEASE), undefined);
  }));

test('releaseDeadOwners releases exactly the running tasks whose owner the predicate calls dead', () =>
  withQueue(async (q) => {
    await q.insert(row('p', 'a', { created_at: T0 }));
    await q.insert(row('p', 'b', { created_at: T0 + 1 }));
    await q.insert(row('p', 'c', { created_at: T0 + 2 }));
    await q.insert(row('p', 'q', { created_at: T0 + 3 }));
    await q.claim('dead:1', 3_600_000);
    await q.claim('alive:2', 3_600_000);
    await q.claim('dead:3', 3_600_000);
    const asked: string[] = [];
    const n = await q.releaseDeadOwners((o) => {
      asked.push(o);
      return o.startsWith('dead:');
    });
    assert.equal(n, 2);
    assert.deepEqual(asked.sort(), ['alive:2', 'dead:1', 'dead:3'], 'only leased running tasks are judged');
    assert.equal((await q.get('a'))?.leaseOwner, undefined);
    assert.equal((await q.get('b'))?.leaseOwner, 'alive:2');
    assert.equal((await q.get('c'))?.leaseOwner, undefined);
    const claimed = [(await q.claim('w', LEASE))?.taskId, (await q.claim('w', LEASE))?.taskId, (await q.claim('w', LEASE))?.taskId];
    assert.deepEqual(claimed, ['a', 'c', 'q']);
    assert.equal(await q.claim('w', LEASE), undefined);
    assert.equal(await q.releaseDeadOwners(() => false), 0);
  }));

// -------------------------------------------------------------------------------- retention, hasActive

test('get() hides expired rows and purgeExpired removes only them', async () => {
  const p = project();
  clock = new Date(T0 + 10 * DAY);
  const now = clock.getTime();
  await queue.insert(row(p, `${p}-past`, { expires_at: now - 1 }));
  await queue.insert(row(p, `${p}-now`, { expires_at: now }));
  await queue.insert(row(p, `${p}-future`, { expires_at: now + 1 }));
  assert.equal(await queue.get(`${p}-past`), undefined);
  assert.equal(await queue.get(`${p}-now`), undefined, 'expiring at this instant counts as expired');
  assert.equal((await queue.get(`${p}-future`))?.taskId, `${p}-future`);
  assert.equal(await queue.get('never-existed'), undefined);

  const listed = await queue.list({ projectName: p, sort: 'TaskId', order: 'asc', maxResults: 100 });
  assert.deepEqual(
    listed.tasks.map((t) => t.taskId),
    [`${p}-future`],
    'ListTasks omits expired tasks',
  );

  const purged = await queue.purgeExpired();
  assert.ok(purged >= 2);
  const left = await db.selectFrom('tasks').select('id').where('project', '=', p).execute();
  assert.deepEqual(left.map((r) => r.id), [`${p}-future`]);
  assert.equal(await queue.purgeExpired(), 0, 'nothing left to purge');
  clock = new Date(T0);
});

test('hasActive: queued or running tasks of the project that have not expired', async () => {
  const p = project();
  const other = project();
  clock = new Date(T0);
  assert.equal(await queue.hasActive(p), false);
  await queue.insert(row(p, `${p}-done`, { state: 'succeeded', ended_at: T0 }));
  await queue.insert(row(p, `${p}-failed`, { state: 'failed', ended_at: T0 }));
  assert.equal(await queue.hasActive(p), false, 'finished tasks are not active');
  await queue.insert(row(other, `${other}-q`));
  assert.equal(await queue.hasActive(p), false, 'another project');
  await queue.insert(row(p, `${p}-expired`, { expires_at: T0 }));
  assert.equal(await queue.hasActive(p), false, 'expired tasks are not active');
  await queue.insert(row(p, `${p}-running`, { state: 'running', lease_owner: 'w', lease_expires_at: T0 + LEASE, attempts: 1 }));
  assert.equal(await queue.hasActive(p), true, 'running');
  const p2 = project();
  await queue.insert(row(p2, `${p2}-queued`));
  assert.equal(await queue.hasActive(p2), true, 'queued');
});

// --------------------------------------------------------------------------------------------- list

const q0 = (projectName: string, over: Partial<TaskListQuery> = {}): TaskListQuery => ({ projectName, sort: 'TaskId', order: 'asc', maxResults: 100, ...over });
const ids = async (q: TaskListQuery) => (await queue.list(q)).tasks.map((t) => t.taskId);

test('list filters by project and task types', async () => {
  const p = project();
  clock = new Date(T0);
  await queue.insert(row(p, `${p}-a`));
  await queue.insert(row(p, `${p}-b`, { type: 'Other' }));
  await queue.insert(row(project(), 'elsewhere'));
  assert.deepEqual(await ids(q0(p)), [`${p}-a`, `${p}-b`]);
  assert.deepEqual(await ids(q0(p, { taskTypes: ['MediaConvert'] })), [`${p}-a`]);
  assert.deepEqual(await ids(q0(p, { taskTypes: ['Other', 'MediaConvert'] })), [`${p}-a`, `${p}-b`]);
  assert.deepEqual(await ids(q0(p, { taskTypes: ['Nope'] })), []);
  assert.deepEqual(await ids(q0(p, { taskTypes: [] })), [`${p}-a`, `${p}-b`], 'an empty list does not filter');
});

test('list status: Running covers queued and running; Succeeded and Failed their own', async () => {
  const p = project();
  clock = new Date(T0);
  await queue.insert(row(p, `${p}-1q`));
  await queue.insert(row(p, `${p}-2r`, { state: 'running', lease_owner: 'w', lease_expires_at: T0 + LEASE, attempts: 1 }));
  await queue.insert(row(p, `${p}-3s`, { state: 'succeeded', ended_at: T0 + 5 }));
  await queue.insert(row(p, `${p}-4f`, { state: 'failed', ended_at: T0 + 6 }));
  assert.deepEqual(await ids(q0(p, { status: 'Running' })), [`${p}-1q`, `${p}-2r`]);
  assert.deepEqual(await ids(q0(p, { status: 'Succeeded' })), [`${p}-3s`]);
  assert.deepEqual(await ids(q0(p, { status: 'Failed' })), [`${p}-4f`]);
  const statuses = (await queue.list(q0(p))).tasks.map((t) => t.status);
  assert.deepEqual(statuses, ['Running', 'Running', 'Succeeded', 'Failed']);
});

test('list time ranges are inclusive at both ends; an end-time range drops tasks without an end', async () => {
  const p = project();
  clock = new Date(T0);
  const at = (n: number) => new Date(T0 + n * 1000);
  await queue.insert(row(p, `${p}-1`, { created_at: at(1).getTime(), state: 'succeeded', ended_at: at(11).getTime() }));
  await queue.insert(row(p, `${p}-2`, { created_at: at(2).getTime(), state: 'succeeded', ended_at: at(12).getTime() }));
  await queue.insert(row(p, `${p}-3`, { created_at: at(3).getTime(), state: 'failed', ended_at: at(13).getTime() }));
  await queue.insert(row(p, `${p}-4`, { created_at: at(4).getTime() }));
  assert.deepEqual(await ids(q0(p, { startTimeRange: { start: at(2), end: at(3) } })), [`${p}-2`, `${p}-3`]);
  assert.deepEqual(await ids(q0(p, { startTimeRange: { start: at(3) } })), [`${p}-3`, `${p}-4`]);
  assert.deepEqual(await ids(q0(p, { startTimeRange: { end: at(1) } })), [`${p}-1`]);
  assert.deepEqual(await ids(q0(p, { startTimeRange: { start: at(2), end: at(2) } })), [`${p}-2`], 'a single instant');
  assert.deepEqual(await ids(q0(p, { endTimeRange: { start: at(11), end: at(12) } })), [`${p}-1`, `${p}-2`]);
  assert.deepEqual(await ids(q0(p, { endTimeRange: { start: at(12) } })), [`${p}-2`, `${p}-3`]);
  assert.deepEqual(await ids(q0(p, { endTimeRange: { end: at(13) } })), [`${p}-1`, `${p}-2`, `${p}-3`]);
  assert.deepEqual(await ids(q0(p, { startTimeRange: { start: at(1) }, endTimeRange: { end: at(12) } })), [`${p}-1`, `${p}-2`]);
  assert.deepEqual(await ids(q0(p, { startTimeRange: {} })), [`${p}-1`, `${p}-2`, `${p}-3`, `${p}-4`], 'an empty range does not filter');
});

test('list tagSelector matches key=value against creation tags, numeric values as text', async () => {
  const p = project();
  clock = new Date(T0);
  await queue.insert(row(p, `${p}-1`, { tags: JSON.stringify({ env: 'prod', n: 1 }) }));
  await queue.insert(row(p, `${p}-2`, { tags: JSON.stringify({ env: 'dev', n: '1' }) }));
  await queue.insert(row(p, `${p}-3`, { tags: JSON.stringify({ env: 'prod', n: 2, 'a.b': 'dotted' }) }));
  await queue.insert(row(p, `${p}-4`, { tags: '{}' }));
  assert.deepEqual(await ids(q0(p, { tagSelector: { key: 'env', value: 'prod' } })), [`${p}-1`, `${p}-3`]);
  assert.deepEqual(await ids(q0(p, { tagSelector: { key: 'n', value: '1' } })), [`${p}-1`, `${p}-2`], 'number 1 and string "1"');
  assert.deepEqual(await ids(q0(p, { tagSelector: { key: 'n', value: '2' } })), [`${p}-3`]);
  assert.deepEqual(await ids(q0(p, { tagSelector: { key: 'env', value: 'Prod' } })), [], 'values are case-sensitive');
  assert.deepEqual(await ids(q0(p, { tagSelector: { key: 'missing', value: '' } })), [], 'an absent tag matches nothing');
  assert.deepEqual(await ids(q0(p, { tagSelector: { key: 'a.b', value: 'dotted' } })), [`${p}-3`], 'a key with a dot is one key');
});

test('list sorts by TaskId, StartTime and EndTime in both orders (ties by task id)', async () => {
  const p = project();
  clock = new Date(T0);
  await queue.insert(row(p, `${p}-a`, { created_at: T0 + 30, state: 'succeeded', ended_at: T0 + 100 }));
  await queue.insert(row(p, `${p}-b`, { created_at: T0 + 10, state: 'succeeded', ended_at: T0 + 300 }));
  await queue.insert(row(p, `${p}-c`, { created_at: T0 + 20 }));
  await queue.insert(row(p, `${p}-d`, { created_at: T0 + 10, state: 'failed', ended_at: T0 + 200 }));
  const s = (x: string) => x.split(',').map((c) => `${p}-${c}`);
  assert.deepEqual(await ids(q0(p, { sort: 'TaskId', order: 'asc' })), s('a,b,c,d'));
  assert.deepEqual(await ids(q0(p, { sort: 'TaskId', order: 'desc' })), s('d,c,b,a'));
  assert.deepEqual(await ids(q0(p, { sort: 'StartTime', order: 'asc' })), s('b,d,c,a'));
  assert.deepEqual(await ids(q0(p, { sort: 'StartTime', order: 'desc' })), s('a,c,d,b'));
  // Tasks without an end time sort as lowest (queue.ts).
  assert.deepEqual(await ids(q0(p, { sort: 'EndTime', order: 'asc' })), s('c,a,d,b'));
  assert.deepEqual(await ids(q0(p, { sort: 'EndTime', order: 'desc' })), s('b,d,a,c'));
});

test('list: a full page has no NextToken; maxResults cuts the page and issues one', async () => {
  const p = project();
  clock = new Date(T0);
  for (const c of ['a', 'b', 'c']) await queue.insert(row(p, `${p}-${c}`));
  assert.equal((await queue.list(q0(p, { maxResults: 3 }))).nextToken, '');
  assert.equal((await queue.list(q0(p, { maxResults: 100 }))).nextToken, '');
  const first = await queue.list(q0(p, { maxResults: 2 }));
  assert.equal(first.tasks.length, 2);
  assert.notEqual(first.nextToken, '');
  const second = await queue.list(q0(p, { maxResults: 2, nextToken: first.nextToken }));
  assert.deepEqual(second.tasks.map((t) => t.taskId), [`${p}-c`]);
  assert.equal(second.nextToken, '');
  assert.deepEqual(await ids(q0(p, { nextToken: '' })), [`${p}-a`, `${p}-b`, `${p}-c`], '"" is the first page');
});

test('list paging: pages of size 1..5 yield every task exactly once, in the one-page order, for every sort and order', async () => {
  const p = project();
  clock = new Date(T0);
  // 13 tasks: ids deliberately not in creation order, equal creation times, equal end times, some without an end.
  const spec: Array<[string, number, number | null]> = [
    ['m', 5, 50],
    ['c', 1, null],
    ['x', 5, 20],
    ['a', 3, 20],
    ['k', 1, 90],
    ['e', 5, null],
    ['z', 2, 50],
    ['b', 3, 70],
    ['q', 4, null],
    ['f', 1, 20],
    ['t', 2, 10],
    ['h', 5, null],
    ['r', 3, 90],
  ];
  for (const [c, created, ended] of spec) {
    await queue.insert(
      row(p, `${p}-${c}`, {
        created_at: T0 + created * 1000,
        ended_at: ended === null ? null : T0 + ended * 1000,
        state: ended === null ? 'queued' : 'succeeded',
      }),
    );
  }
  // Another project's tasks and an expired task of this project never show up in any page.
  await queue.insert(row(project(), `${p}-zz-other`, { created_at: T0 + 3000 }));
  await queue.insert(row(p, `${p}-expired`, { created_at: T0 + 3000, expires_at: T0 }));

  const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const tuples = spec.map(([c, created, ended]) => ({ id: `${p}-${c}`, created, ended }));
  const expected = (sort: TaskListQuery['sort'], order: TaskListQuery['order']): string[] => {
    const sorted = [...tuples].sort((x, y) => {
      if (sort === 'StartTime') return x.created - y.created || byId(x.id, y.id);
      if (sort === 'EndTime') {
        const ex = x.ended ?? -Infinity;
        const ey = y.ended ?? -Infinity;
        return ex === ey ? byId(x.id, y.id) : ex < ey ? -1 : 1;
      }
      return byId(x.id, y.id);
    });
    if (order === 'desc') sorted.reverse();
    return sorted.map((t) => t.id);
  };

  for (const sort of ['TaskId', 'StartTime', 'EndTime'] as const) {
    for (const order of ['asc', 'desc'] as const) {
      const whole = await queue.list(q0(p, { sort, order, maxResults: 100 }));
      assert.equal(whole.nextToken, '');
      const oneBigPage = whole.tasks.map((t) => t.taskId);
      assert.deepEqual(oneBigPage, expected(sort, order), `${sort} ${order}: one big page`);
      for (let size = 1; size <= 5; size++) {
        const walked: string[] = [];
        let token = '';
        for (let pages = 0; ; pages++) {
          assert.ok(pages <= 20, `${sort} ${order} size ${size}: paging does not terminate`);
          const page = await queue.list(q0(p, { sort, order, maxResults: size, nextToken: token }));
          assert.ok(page.tasks.length <= size);
          walked.push(...page.tasks.map((t) => t.taskId));
          if (page.nextToken === '') break;
          assert.equal(page.tasks.length, size, 'only the last page may be short');
          token = page.nextToken;
        }
        assert.deepEqual(walked, oneBigPage, `${sort} ${order} pages of ${size}`);
      }
    }
  }
});

test('list: a garbage NextToken throws InvalidPageToken', async () => {
  const p = project();
  clock = new Date(T0);
  await queue.insert(row(p, `${p}-a`));
  const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
  for (const token of ['garbage', '!!!', b64('not json'), b64({ a: 1 }), b64([1]), b64([1, 2]), b64([null, 'x']), b64([1, 'x', 3])]) {
    for (const sort of ['TaskId', 'StartTime', 'EndTime'] as const) {
      await assert.rejects(queue.list(q0(p, { sort, nextToken: token })), InvalidPageToken, `${sort} token ${token}`);
    }
  }
});
