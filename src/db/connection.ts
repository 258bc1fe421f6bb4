/**
 * Opens the database and runs migrations. SQLite (better-sqlite3) is the embedded default; PostgreSQL
 * (postgres.ts) serves installs spread over several machines. The query builder keeps one code path.
 */
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, Migrator, SqliteDialect, type DatabaseConnection, type Driver, type MigrationProvider, type QueryResult } from 'kysely';
import type { Database } from './schema.js';
import { migrationsFor } from './migrations.js';
import { dialectOf, isPostgresUrl, registerDialect } from './dialect.js';
import { backoffMs, dbUnavailableReason, isDbUnavailable } from './errors.js';
import type { Logger } from 'pino';
import { fstatSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Coalescer } from '../util/coalesce.js';
import { syncPath } from '../util/fsync.js';

export type Db = Kysely<Database>;

/**
 * SQLite with every transaction started as BEGIN IMMEDIATE. A deferred BEGIN that reads and then writes
 * fails with SQLITE_BUSY_SNAPSHOT (not retried by busy_timeout) when another process committed in
 * between, which `medley serve` and `medley worker` sharing one file would hit; taking the write lock up
 * front makes the second writer wait (busy_timeout) instead.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly group: GroupSync | undefined,
  ) {
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
    const group = this.group;
    if (group) {
      // Group commit: statements run as before, but a commit no longer fsyncs while holding the event loop
      // and the write lock; the connection is released first and the caller then waits for the shared WAL
      // fsync (GroupSync) that covers its commit. Every use of the connection waits, readers included, so
      // no response is built from state that is not yet durable.
      const sqlite = this.sqlite;
      const patched = new WeakSet<DatabaseConnection>();
      const acquire = driver.acquireConnection.bind(driver);
      const release = driver.releaseConnection.bind(driver);
      driver.acquireConnection = async () => {
        const connection = await acquire();
        if (!patched.has(connection)) {
          patched.add(connection);
          const execute = connection.executeQuery.bind(connection);
          connection.executeQuery = (async <R>(query: CompiledQuery) => {
            const inTx = sqlite.inTransaction;
            const result = await execute<R>(query);
            if (!sqlite.inTransaction && (inTx || changedOutsideTransaction(query.sql, result))) group.noteCommit();
            return result;
          }) as typeof connection.executeQuery;
        }
        return connection;
      };
      driver.releaseConnection = async (connection: DatabaseConnection) => {
        await release(connection);
        await group.waitDurable();
      };
      const destroy = driver.destroy.bind(driver);
      driver.destroy = async () => {
        await group.waitDurable().catch(() => undefined);
        await group.close();
        await destroy();
      };
    }
    return driver;
  }
}

const DML = /^\s*(insert|update|delete|replace)\b/i;
const SELECT = /^\s*select\b/i;

/**
 * Whether a statement run outside a transaction (autocommit) committed something: DML that touched rows
 * (a periodic sweep updating nothing needs no fsync), and anything that is neither DML nor SELECT (DDL,
 * PRAGMA: a spare fsync, never a missing one). A COMMIT (or ROLLBACK) is counted by the caller.
 */
function changedOutsideTransaction(sql: string, result: QueryResult<unknown>): boolean {
  if (SELECT.test(sql)) return false;
  if (!DML.test(sql)) return true;
  return (result.numAffectedRows ?? 0n) > 0n || result.rows.length > 0;
}

/**
 * Group commit for SQLite in WAL mode (MEDLEY_FSYNC on). The connection commits with synchronous = NORMAL
 * (the commit is in the WAL, not yet synced; WAL stays consistent on power loss) and a commit is
 * acknowledged only after an fdatasync of the WAL that started after it. That fsync runs on the thread pool,
 * not the event loop, and one fsync covers every commit made before it started (Coalescer): 8 concurrent
 * writers pay for about 2 fsyncs instead of 8 serial ones. Checkpoints stay SQLite's own (they sync the WAL,
 * then the database file, before the WAL is reused). The WAL's directory entry is synced once, when the
 * WAL is first opened here.
 */
export class GroupSync {
  private wal: FileHandle | undefined;
  readonly syncs = new Coalescer(() => this.flush());

  constructor(private readonly dbFile: string) {}

  noteCommit(): void {
    this.syncs.note();
  }

  /** Resolves once every commit noted so far is on disk. */
  waitDurable(): Promise<void> {
    return this.syncs.idle ? Promise.resolve() : this.syncs.wait();
  }

  private async flush(): Promise<void> {
    if (!this.wal) {
      this.wal = await open(`${this.dbFile}-wal`, 'r');
      await syncPath(dirname(this.dbFile));
    }
    await this.wal.datasync();
    // The WAL file is only replaced when every connection closed it (ours is open) or the journal mode
    // changed; if that ever happens, sync the new one too. fstat of an open descriptor reads the inode in
    // memory and never waits for the disk, so it runs here rather than as a second thread-pool round trip.
    if (fstatSync(this.wal.fd).nlink === 0) {
      await this.wal.close();
      this.wal = undefined;
      await this.flush();
    }
  }

  async close(): Promise<void> {
    await this.wal?.close();
    this.wal = undefined;
  }
}

/**
 * `durable` (MEDLEY_FSYNC): every commit is synced before it is acknowledged (group commit, GroupSync), so
 * an acknowledged write survives power loss. Without it, WAL with synchronous = NORMAL stays consistent but
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
    await withSqliteMigrationLock(target, () => migrate(db));
    return db;
  }
  // Loaded only for PostgreSQL: the embedded default never maps the driver (~10 MB resident; a smaller
  // process also forks its FFmpeg children faster).
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
  // WAL: readers never block the single writer. synchronous = NORMAL: a commit does not fsync; with
  // MEDLEY_FSYNC on, GroupSync makes each commit durable before it is acknowledged (off the event loop).
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // A 4 MiB page cache (SQLite's negative cache_size is KiB). better-sqlite3 builds with 16 MB, which a busy
  // server fills within minutes and glibc then keeps: 16 MB more resident memory for no gain measured (4 KiB
  // PUT/GET through ali-oss at the same ops/s; the OS page cache serves what this one misses).
  sqlite.pragma('cache_size = -4096');
  cachePreparedStatements(sqlite);
  const group = opts.durable === false ? undefined : new GroupSync(file);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect(sqlite, group) });
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

/**
 * Kysely's SQLite adapter takes no lock around migrations (it assumes one connection), so two processes
 * (or two openDatabase calls) opening a new data dir at once both ran 0001 and one failed with "table
 * already exists". PostgreSQL's adapter holds an advisory lock; for SQLite the lock is a write
 * transaction on a small side file (`<index>.migrate-lock`), taken without blocking the event loop
 * (busy_timeout 0, retried asynchronously) and held until this process's migrations are done.
 */
const MIGRATION_LOCK_WAIT_MS = 60_000;
async function withSqliteMigrationLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  if (file === ':memory:' || file === '') return fn();
  const lock = new SQLite(`${file}.migrate-lock`);
  try {
    lock.pragma('busy_timeout = 0');
    const deadline = Date.now() + MIGRATION_LOCK_WAIT_MS;
    for (;;) {
      try {
        lock.exec('BEGIN IMMEDIATE');
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    try {
      return await fn();
    } finally {
      lock.exec('COMMIT');
    }
  } finally {
    lock.close();
  }
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
