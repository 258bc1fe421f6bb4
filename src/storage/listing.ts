/**
 * Object listing with prefix, delimiter and an exclusive start key, in UTF-8 byte order.
 * Keys that roll up into a common prefix are skipped in one jump (the query restarts after the prefix),
 * so a folder with a million objects costs one row, not a million.
 */
import type { Db } from '../db/connection.js';
import { toObject, type ObjectRecord } from './records.js';

export interface ListQuery {
  bucket: string;
  prefix: string;
  delimiter: string;
  /** Exclusive: only keys (and prefixes) strictly after this. */
  after: string;
  maxKeys: number;
}

export type ListEntry = { kind: 'object'; object: ObjectRecord } | { kind: 'prefix'; prefix: string };

export interface ListPage {
  entries: ListEntry[];
  isTruncated: boolean;
  /** The last entry returned (key or common prefix) when truncated. */
  next?: string;
}

/** The smallest string greater than every string that starts with `s` (code-point order = UTF-8 byte order). */
export function prefixSuccessor(s: string): string {
  const cps = Array.from(s);
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      let next = last + 1;
      if (next >= 0xd800 && next <= 0xdfff) next = 0xe000; // skip surrogates: not valid in UTF-8 keys
      return cps.join('') + String.fromCodePoint(next);
    }
  }
  return '\u{10FFFF}\u{10FFFF}';
}

export async function listObjects(db: Db, q: ListQuery): Promise<ListPage> {
  const entries: ListEntry[] = [];
  const want = q.maxKeys + 1; // one more than asked tells whether the listing is truncated
  const upper = q.prefix ? prefixSuccessor(q.prefix) : undefined;
  // Start strictly after `after` when it lies inside the prefix range, else at the prefix itself.
  let cursor = q.after >= q.prefix ? q.after : q.prefix;
  let inclusive = !(q.after >= q.prefix);
  const batch = Math.min(1000, want + 16);

  outer: while (entries.length < want) {
    let sel = db.selectFrom('objects').selectAll().where('bucket', '=', q.bucket).where('key', inclusive ? '>=' : '>', cursor);
    if (upper !== undefined) sel = sel.where('key', '<', upper);
    const rows = await sel.orderBy('key').limit(batch).execute();
    if (rows.length === 0) break;
    for (const row of rows) {
      if (q.delimiter) {
        const at = row.key.indexOf(q.delimiter, q.prefix.length);
        if (at >= 0) {
          const prefix = row.key.slice(0, at + q.delimiter.length);
          if (!(q.after !== '' && prefix <= q.after)) entries.push({ kind: 'prefix', prefix });
          cursor = prefixSuccessor(prefix);
          inclusive = true;
          continue outer;
        }
      }
      entries.push({ kind: 'object', object: toObject(row) });
      cursor = row.key;
      inclusive = false;
      if (entries.length >= want) break outer;
    }
    if (rows.length < batch) break;
  }

  const isTruncated = entries.length > q.maxKeys;
  const page = entries.slice(0, q.maxKeys);
  const last = page.at(-1);
  return {
    entries: page,
    isTruncated,
    next: isTruncated && last ? (last.kind === 'object' ? last.object.key : last.prefix) : undefined,
  };
}
