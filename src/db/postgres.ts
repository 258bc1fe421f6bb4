/**
 * PostgreSQL for scale-out (MEDLEY_DATABASE_URL=postgres://…): Kysely's PostgreSQL dialect over a `pg`
 * pool. The same repositories and migrations serve it as SQLite (the differences live in dialect.ts).
 * TLS comes from the URL as `pg` reads it (`sslmode=require|verify-full`, `sslrootcert=<CA file>`).
 *
 * Transactions: the repositories were written for SQLite's single writer (BEGIN IMMEDIATE): a transaction
 * reads rows (an object's current version, a blob's reference count) and writes on what it read. Under
 * PostgreSQL's READ COMMITTED two such transactions could interleave (two PUTs of one key both releasing
 * the old version's blobs), so every transaction takes one transaction-scoped advisory lock first: write
 * transactions run one at a time across every node, as they do on SQLite, and reads and single-statement
 * writes (claims, heartbeats, GETs, listings) run concurrently. The lock waits asynchronously, never on the
 * event loop.
 */
import pg from 'pg';
import { CompiledQuery, Kysely, PostgresDialect, type DatabaseConnection, type Driver } from 'kysely';
import type { Database } from './schema.js';
import { registerDialect } from './dialect.js';

/** int8 (bigint) columns hold epoch milliseconds and sizes: all below 2^53, so numbers, as on SQLite. */
const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export interface PostgresOptions {
  url: string;
  /** Connections in the pool (MEDLEY_DATABASE_POOL). */
  poolSize: number;
}

export function openPostgresPool(opts: PostgresOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize,
    types,
    // Bounded waits: a database that is down fails requests (503) instead of hanging them.
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 60_000,
    application_name: 'medley',
  });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => undefined);
  // Nor a checked-out client between two queries (inside a transaction): pg-pool removes its own listener
  // while a client is lent out, and pg emits 'error' when the connection ends with no query running, which
  // without a listener is an uncaught exception. The client's next query fails instead (a 503, errors.ts).
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** The advisory lock every transaction holds (an arbitrary constant of Medley's). */
export const WRITE_LOCK_ID = 0x6d65646c; // "medl"

class SerialWritePostgresDialect extends PostgresDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    const begin = driver.beginTransaction.bind(driver);
    driver.beginTransaction = async (connection: DatabaseConnection, settings) => {
      await begin(connection, settings);
      await connection.executeQuery(CompiledQuery.raw(`select pg_advisory_xact_lock(${WRITE_LOCK_ID})`));
    };
    return driver;
  }
}

export function postgresKysely(pool: pg.Pool): Kysely<Database> {
  const db = new Kysely<Database>({ dialect: new SerialWritePostgresDialect({ pool }) });
  registerDialect(db as Kysely<unknown>, 'postgres');
  return db;
}

export { isPostgresUrl } from './dialect.js';
