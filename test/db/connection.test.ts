/**
 * A full database (SQLITE_FULL) inside a transaction: the caller sees SQLITE_FULL — mapped to 503
 * InsufficientStorage — not "cannot rollback - no transaction is active", and the previous state stays.
 * The disk is made "full" for real with max_page_count, which SQLite enforces as it would a full disk.
 * Also the connection's settings that are not visible otherwise (the page cache's size).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type Db } from '../../src/db/connection.js';
import { diskFullError } from '../../src/errors.js';

let dir: string;
let db: Db;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-db-full-'));
  db = await openDatabase(join(dir, 'medley.db'));
  await sql`create table t (v text not null)`.execute(db);
  await sql`insert into t (v) values ('before')`.execute(db);
});

after(async () => {
  await db.destroy();
  await rm(dir, { recursive: true, force: true });
});

test('a transaction that fills the database fails with SQLITE_FULL and leaves the previous rows', async () => {
  const pages = await sql<{ page_count: number }>`pragma page_count`.execute(db);
  await sql.raw(`pragma max_page_count = ${pages.rows[0]!.page_count + 2}`).execute(db);
  const big = 'x'.repeat(64 * 1024);
  const err = await db
    .transaction()
    .execute(async (tx) => {
      await sql`update t set v = 'during'`.execute(tx);
      for (let i = 0; i < 50; i++) await sql`insert into t (v) values (${big})`.execute(tx);
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(err instanceof Error, 'the transaction failed');
  assert.equal((err as { code?: string }).code, 'SQLITE_FULL', String(err));
  assert.doesNotMatch(String(err), /no transaction is active/);
  const mapped = diskFullError(err);
  assert.equal(mapped?.status, 503);
  assert.match(mapped?.message ?? '', /SQLITE_FULL/);

  await sql.raw('pragma max_page_count = 1073741823').execute(db);
  const rows = await sql<{ v: string }>`select v from t`.execute(db);
  assert.deepEqual(rows.rows, [{ v: 'before' }]);
  // The connection is usable again: no transaction was left open.
  await db.transaction().execute(async (tx) => {
    await sql`update t set v = 'after'`.execute(tx);
  });
  assert.deepEqual((await sql<{ v: string }>`select v from t`.execute(db)).rows, [{ v: 'after' }]);
});

test('diskFullError recognises ENOSPC through a cause chain and ignores other errors', () => {
  const enospc = Object.assign(new Error('write ENOSPC'), { code: 'ENOSPC' });
  assert.equal(diskFullError(enospc)?.code, 'ServiceUnavailable');
  assert.equal(diskFullError(new Error('wrapped', { cause: enospc }))?.status, 503);
  assert.equal(diskFullError(Object.assign(new Error('x'), { code: 'EACCES' })), undefined);
  assert.equal(diskFullError('ENOSPC'), undefined);
});

test('the page cache is 4 MiB, not the 16 MB better-sqlite3 is built with', async () => {
  const r = await sql<{ cache_size: number }>`pragma cache_size`.execute(db);
  assert.equal(r.rows[0]!.cache_size, -4096);
});
