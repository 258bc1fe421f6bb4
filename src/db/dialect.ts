/**
 * The few places where SQLite and PostgreSQL differ, in one module: column types of the migrations, the
 * JSON field read of the task-tag filter, and which engine a `Db` runs on. Every query elsewhere is the
 * same builder code for both.
 */
import { sql, type ColumnDataType, type ColumnDefinitionBuilder, type Expression, type Kysely, type RawBuilder } from 'kysely';

/** What `addColumn` takes as a type (kysely does not export its own name for it). */
type DataTypeExpression = ColumnDataType | Expression<unknown>;

export type DialectName = 'sqlite' | 'postgres';

const dialects = new WeakMap<object, DialectName>();

/** Called by openDatabase for each Db it opens. */
export function registerDialect(db: Kysely<unknown>, name: DialectName): void {
  dialects.set(db, name);
}

/** `postgres://` or `postgresql://`. Here rather than in postgres.ts, so telling needs no PostgreSQL driver loaded. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

export function dialectOf(db: Kysely<never> | Kysely<unknown> | object): DialectName {
  return dialects.get(db) ?? 'sqlite';
}

export interface ColumnTypes {
  /**
   * Text that compares as UTF-8 bytes, the order OSS lists keys in: SQLite's BINARY collation is that
   * already; PostgreSQL's default collation follows the locale, so its text columns are COLLATE "C".
   */
  text: DataTypeExpression;
  /** A generated integer primary key. */
  id: DataTypeExpression;
  idColumn: (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;
  /** Raw bytes (a Buffer either way): BLOB in SQLite, bytea in PostgreSQL. */
  bytes: DataTypeExpression;
}

export function columnTypes(dialect: DialectName): ColumnTypes {
  if (dialect === 'postgres') {
    return { text: sql`text collate "C"`, id: 'bigserial', idColumn: (c) => c.primaryKey(), bytes: 'bytea' };
  }
  return { text: 'text', id: 'integer', idColumn: (c) => c.primaryKey().autoIncrement(), bytes: 'blob' };
}

/** The value of `key` in a JSON-object text column, as text (a number 1 reads as "1"). */
export function jsonFieldText(db: object, column: string, key: string): RawBuilder<string> | Expression<string> {
  if (dialectOf(db) === 'postgres') return sql<string>`(${sql.ref(column)}::jsonb ->> ${key})`;
  return sql<string>`CAST(json_extract(${sql.ref(column)}, ${'$.' + JSON.stringify(key)}) AS TEXT)`;
}

/**
 * The single-row claim subquery of a queue-like table (`WHERE id = (subquery)`, evaluated once), with `FOR
 * UPDATE SKIP LOCKED` on PostgreSQL: concurrent claimers on other nodes skip the row another claim holds
 * instead of waiting for it and then finding it taken. SQLite has a single writer, so claims never overlap.
 * Not for `WHERE id IN (subquery ... LIMIT n)`: PostgreSQL may rescan such a subquery, and with SKIP LOCKED
 * each rescan can pick other rows; multi-row claims use `claimSerially` instead.
 */
export function skipLocked<Q extends { forUpdate(of?: never): Q; skipLocked(): Q }>(db: object, query: Q, of?: string): Q {
  if (dialectOf(db) !== 'postgres') return query;
  return (of === undefined ? query.forUpdate() : query.forUpdate(of as never)).skipLocked();
}

/**
 * Runs a multi-row claim (`UPDATE ... WHERE id IN (SELECT ... LIMIT n)`) so that concurrent claimers on
 * other nodes each see the rows the others took: on PostgreSQL inside a transaction (which holds the write
 * lock, see postgres.ts), on SQLite as the single statement it is (one writer: claims never overlap).
 */
export async function claimSerially<DB, T>(db: Kysely<DB>, claim: (db: Kysely<DB>) => Promise<T>): Promise<T> {
  if (dialectOf(db) !== 'postgres') return claim(db);
  return db.transaction().execute((tx) => claim(tx));
}
