/**
 * Several processes (or openDatabase calls) opening a new SQLite data dir at once: the migrations run once,
 * under the side-file lock, and every opener gets a migrated database (without the lock, the second one
 * failed with `table "buckets" already exists`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from '../../src/db/connection.js';

test('three openers of a new SQLite file at once all get the migrated schema, each migration applied once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medley-migrate-lock-'));
  try {
    const file = join(dir, 'index.db');
    const dbs = await Promise.all([openDatabase(file), openDatabase(file), openDatabase(file)]);
    try {
      const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(dbs[0]!);
      const names = applied.rows.map((r) => r.name);
      assert.ok(names.includes('0001_storage'), `migrations applied: ${names.join(', ')}`);
      assert.equal(new Set(names).size, names.length, 'no migration recorded twice');
      for (const db of dbs) await sql`select count(*) from buckets`.execute(db);
    } finally {
      for (const db of dbs) await db.destroy();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
