/**
 * Hot queries compiled once per database handle. Kysely builds and compiles a query's SQL on every call
 * (operation tree, visitor, string building); the per-request lookups (a bucket by name, an object by
 * bucket and key) are the same SQL every time, so they are compiled on first use and then run with the
 * request's own parameters bound. The SQLite driver also keeps the prepared statement by SQL text
 * (connection.ts), so a lookup is a bind and a step. Each handle compiles its own (SQLite and PostgreSQL
 * placeholders differ).
 */
import type { Compilable, CompiledQuery } from 'kysely';
import type { Db } from './connection.js';

/** Marks a parameter slot while compiling; replaced by the caller's values when run. */
class Slot {
  constructor(readonly index: number) {}
}

/**
 * `build(db, ...slots)` builds the query with a placeholder for each of the `arity` parameters; the
 * returned function runs it with `params` in their place (constants in the query stay as compiled).
 */
export function prepared<R, P extends unknown[]>(arity: P['length'], build: (db: Db, ...slots: P) => Compilable<R>): (db: Db, ...params: P) => Promise<R[]> {
  const cache = new WeakMap<Db, { compiled: CompiledQuery<R>; slots: Array<number | undefined> }>();
  return async (db, ...params) => {
    let entry = cache.get(db);
    if (entry === undefined) {
      const slots = Array.from({ length: arity }, (_, i) => new Slot(i)) as unknown as P;
      const compiled = build(db, ...slots).compile();
      const positions = compiled.parameters.map((p) => (p instanceof Slot ? p.index : undefined));
      if (new Set(positions.filter((i) => i !== undefined)).size !== arity) throw new Error('prepared: every parameter must appear in the query');
      entry = { compiled, slots: positions };
      cache.set(db, entry);
    }
    const { compiled, slots } = entry;
    const parameters = compiled.parameters.map((p, i) => (slots[i] === undefined ? p : params[slots[i]!]));
    const result = await db.executeQuery<R>({ ...compiled, parameters });
    return result.rows;
  };
}
