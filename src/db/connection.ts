/**
 * Opens the database and runs migrations. SQLite (better-sqlite3) is the embedded default; PostgreSQL
 * (postgres.ts) serves installs spread over several machines. The query builder keeps one code path.
 */
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, Migrator, SqliteDialect, type DatabaseConnection, type Driver, type MigrationProvider } from 'kysely';
import type { Database } from './schema.js';
import { migrationsFor } from './migrations.js';
import { dialectOf, isPostgresUrl, registerDialect } from './dialect.js';
import { backoffMs, dbUnavailableReason, isDbUnavailable } from './errors.js';
import type { Logger } from 'pino';

export type Db = Kysely<Database>;

/**
 * SQLite with every transaction started as BEGIN IMMEDIATE. A deferred BEGIN that reads and then writes
 * fails with SQLITE_BUSY_SNAPSHOT (not retried by busy_timeout) when another process committed in
 * between, which `medley serve` and `medley worker` sharing one file would hit; taking the write lock up
 * front makes the second writer wait (busy_timeout) instead.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly sqlite: SQLite.Database) {
    super({ database: sqlite });
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection: DatabaseConnection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };
    // SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM, and a
    // failed COMMIT): an explicit ROLLBACK then fails with "cannot rollback - no transaction is active",
    // and that error would replace the real one (a full disk reported as an internal error). Roll back only
    // what is still open; the original error is what the caller sees.
    driver.rollbackTransaction = async (connection: DatabaseConnection) => {
      if (!this.sqlite.inTransaction) return;
      try {
        await connection.executeQuery(CompiledQuery.raw('rollback'));
      } catch (e) {
        if (this.sqlite.inTransaction) throw e;
      }
    };
    return driver;
  }
}

/**
 * `durable` (MEDLEY_FSYNC): every commit is synced before it is acknowledged (synchronous = FULL), so an
 * acknowledged write survives power loss. Without it, WAL with synchronous = NORMAL stays consistent but
 * the last commits can roll back after a power failure.
 */
export interface OpenDatabaseOptions {
  durable?: boolean;
  poolSize?: number;
  /**
   * PostgreSQL (MEDLEY_DATABASE_CONNECT_TIMEOUT): while the server is unreachable (not up yet, restarting),
   * keep retrying for this long, with backoff, before giving up; 0 = one try. Default 60 s.
   */
  connectTimeoutMs?: number;
  /** Where each retry is logged. */
  log?: Pick<Logger, 'warn' | 'info'>;
}

export async function openDatabase(target: string, opts: OpenDatabaseOptions = {}): Promise<Db> {
  if (!isPostgresUrl(target)) {
    const db = openSqlite(target, opts);
    await migrate(db);
    return db;
  }
  // Loaded only for PostgreSQL: the embedded default never maps the driver (a smaller process forks its
  // FFmpeg children faster, see src/tasks/runner.ts).
  const { openPostgresPool, postgresKysely } = await import('./postgres.js');
  const db = postgresKysely(openPostgresPool({ url: target, poolSize: opts.poolSize ?? 10 }));
  // A node may start before its database (containers started together, a database restarting): wait for it.
  const deadline = Date.now() + (opts.connectTimeoutMs ?? 60_000);
  for (let attempt = 1; ; attempt++) {
    try {
      await migrate(db, { keepOpen: true });
      if (attempt > 1) opts.log?.info({ attempts: attempt }, 'the database is reachable: started');
      return db;
    } catch (e) {
      const why = dbUnavailableReason(e);
      const wait = backoffMs(attempt, 250, 5000);
      if (why === undefined || Date.now() + wait > deadline) {
        await db.destroy();
        throw why === undefined ? e : new Error(`the database is unreachable: ${why} (gave up after ${attempt} attempts; MEDLEY_DATABASE_CONNECT_TIMEOUT)`, { cause: e });
      }
      opts.log?.warn({ attempt, retryInMs: wait, reason: why }, 'the database is unreachable; retrying');
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

function openSqlite(file: string, opts: { durable?: boolean }): Db {
  const sqlite = new SQLite(file);
  // WAL: readers never block the single writer.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(opts.durable === false ? 'synchronous = NORMAL' : 'synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  cachePreparedStatements(sqlite);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect(sqlite) });
  registerDialect(db as Kysely<unknown>, 'sqlite');
  return db;
}

/**
 * Kysely's SQLite driver prepares every statement on every call; preparing (parsing + planning) was ~2% of
 * a small-object PUT/GET loop. The hottest statements are the same SQL text each time, so prepared
 * statements are kept by SQL text (bounded, oldest dropped). Safe because the driver runs them with
 * all()/run(), which finish before returning; Medley never streams SQLite queries (iterate() on a shared
 * statement would be busy). Schema changes are handled by SQLite, which re-prepares a stale statement.
 */
const STATEMENT_CACHE_SIZE = 256;
function cachePreparedStatements(sqlite: SQLite.Database): void {
  const prepare = sqlite.prepare.bind(sqlite);
  const cache = new Map<string, SQLite.Statement>();
  sqlite.prepare = ((sql: string) => {
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = prepare(sql);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(sql, stmt);
    }
    return stmt;
  }) as typeof sqlite.prepare;
}

/** `keepOpen`: a failure leaves the database open (the caller retries an unreachable one). */
async function migrate(db: Db, opts: { keepOpen?: boolean } = {}): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrationsFor(dialectOf(db)) };
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    if (isDbUnavailable(error)) throw error;
    if (!opts.keepOpen) await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${String(error)}`);
  }
}
