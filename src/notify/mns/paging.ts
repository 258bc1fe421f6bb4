/**
 * ListQueue, ListTopic and ListSubscriptionByTopic page the same way: by name, from the marker on
 * (inclusive: NextMarker is the first name not returned), optionally under a prefix. One query shape and
 * one page rule for all three.
 */
import { sql, type SelectQueryBuilder } from 'kysely';
import { fail } from '../../errors.js';
import type { Database } from '../../db/schema.js';
import { MAX_LIST } from './limits.js';
import type { ListOptions } from './records.js';

/** x-mns-ret-number: 1..1000, default 1000. */
export function listLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_LIST;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) fail('MnsInvalidArgument', `The value of x-mns-ret-number should between 1 and ${MAX_LIST}.`);
  return limit;
}

/**
 * Runs `query` (rows with a `name` column) as one page: ordered by name, prefix and marker applied, one row
 * beyond the limit fetched to know whether a next page exists. Validates the limit before any query.
 */
export async function pageByName<TB extends keyof Database, R extends { name: string }>(
  query: SelectQueryBuilder<Database, TB, R>,
  opts: ListOptions,
): Promise<{ rows: R[]; nextMarker?: string }> {
  const limit = listLimit(opts.limit);
  const name = sql.ref<string>('name');
  let q = query.orderBy(name).limit(limit + 1);
  if (opts.prefix) q = q.where(sql<boolean>`substr(name, 1, ${opts.prefix.length}) = ${opts.prefix}`);
  if (opts.marker) q = q.where(name, '>=', opts.marker);
  const rows = await q.execute();
  return { rows: rows.slice(0, limit), nextMarker: rows.length > limit ? rows[limit]!.name : undefined };
}
