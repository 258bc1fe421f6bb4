/**
 * Group commit (MEDLEY_FSYNC on, SQLite): concurrent transactions share WAL fsyncs, none is answered before
 * a fsync that began after its commit, and everything acknowledged is in the database when reopened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from '../../src/db/connection.js';
import { Coalescer } from '../../src/util/coalesce.js';

test('Coalescer: a caller is covered only by a run that began after its request; callers share runs', async () => {
  const started: number[] = [];
  let release: (() => void) | undefined;
  let noted = 0;
  const c = new Coalescer(async () => {
    started.push(noted);
    await new Promise<void>((r) => (release = r));
  });
  noted = 1;
  const first = c.run(); // starts run 1 (covers request 1)
  noted = 2;
  let secondDone = false;
  const second = c.run().then(() => (secondDone = true)); // arrives during run 1: needs run 2
  noted = 3;
  const third = c.run(); // shares run 2
  await new Promise((r) => setImmediate(r));
  assert.equal(c.runs, 1);
  release!();
  await first;
  await new Promise((r) => setImmediate(r));
  assert.equal(secondDone, false, 'not answered by the run that began before its request');
  assert.equal(c.runs, 2);
  release!();
  await Promise.all([second, third]);
  assert.deepEqual(started, [1, 3]);
  assert.equal(c.idle, true);
});

test('Coalescer: a failed run rejects its callers; the next caller starts a new run', async () => {
  let fail = true;
  const c = new Coalescer(async () => {
    if (fail) throw new Error('EIO');
  });
  await assert.rejects(c.run(), /EIO/);
  fail = false;
  await c.run();
  assert.equal(c.runs, 2);
});

test('concurrent durable transactions share WAL fsyncs and are all there after reopening', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medley-group-'));
  try {
    const file = join(dir, 'medley.db');
    let db = await openDatabase(file);
    await sql`create table t (v integer not null)`.execute(db);
    const n = 40;
    await Promise.all(Array.from({ length: n }, (_, i) => db.transaction().execute((tx) => sql`insert into t (v) values (${i})`.execute(tx))));
    // Outside a transaction too (autocommit).
    await sql`insert into t (v) values (${n})`.execute(db);
    await db.destroy();
    db = await openDatabase(file);
    const rows = await sql<{ c: number }>`select count(*) as c from t`.execute(db);
    assert.equal(rows.rows[0]!.c, n + 1);
    await db.destroy();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
