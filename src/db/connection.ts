/**
 * Opens the database and runs migrations. SQLite (better-sqlite3) is the embedded default; the query
 * builder keeps one code path so PostgreSQL can be added as a second dialect for scale-out.
 */
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type MigrationProvider } from 'kysely';
import type { Database } from './schema.js';
import { migrations } from './migrations.js';

export type Db = Kysely<Database>;

/**
 * `durable` (MEDLEY_FSYNC): every commit is synced before it is acknowledged (synchronous = FULL), so an
 * acknowledged write survives power loss. Without it, WAL with synchronous = NORMAL stays consistent but
 * the last commits can roll back after a power failure.
 */
export async function openDatabase(file: string, opts: { durable?: boolean } = {}): Promise<Db> {
  const sqlite = new SQLite(file);
  // WAL: readers never block the single writer.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(opts.durable === false ? 'synchronous = NORMAL' : 'synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${String(error)}`);
  }
  return db;
}
