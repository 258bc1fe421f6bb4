/**
 * db/prepared.ts: a query compiled once and run with the caller's parameters, whatever their order in the
 * SQL, constants kept as compiled, each database handle compiling its own statement.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTestDatabase } from '../support/backend.js';
import { prepared } from '../../src/db/prepared.js';
import type { Db } from '../../src/db/connection.js';

let dir: string;
let dbs: Db[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-prepared-'));
  dbs = [];
  for (const sub of ['a', 'b']) {
    await mkdir(join(dir, sub));
    dbs.push(await openTestDatabase(join(dir, sub)));
  }
  for (const [i, db] of dbs.entries()) {
    await db
      .insertInto('buckets')
      .values(['x', 'y', 'z'].map((name, j) => ({ name, acl: j === 1 ? 'public-read' : 'private', storage_class: `db${i}`, created_at: j })))
      .execute();
  }
});

after(async () => {
  for (const db of dbs ?? []) await db.destroy();
  await rm(dir, { recursive: true, force: true });
});

// The second parameter appears first in the SQL; 'private' is a constant of the query, not a parameter.
const byAclAndName = prepared(2, (db, name: string, acl: string) =>
  db.selectFrom('buckets').select(['name', 'storage_class']).where('acl', '=', acl).where('storage_class', '!=', 'none').where('name', '>=', name).orderBy('name'),
);

const cases: Array<{ name: string; acl: string; want: string[] }> = [
  { name: 'a', acl: 'private', want: ['x', 'z'] },
  { name: 'y', acl: 'private', want: ['z'] },
  { name: 'a', acl: 'public-read', want: ['y'] },
  { name: 'zz', acl: 'private', want: [] },
];

for (const c of cases) {
  test(`prepared query: name >= ${c.name}, acl ${c.acl} on both handles`, async () => {
    for (const [i, db] of dbs.entries()) {
      const rows = await byAclAndName(db, c.name, c.acl);
      assert.deepEqual(rows.map((r) => r.name), c.want);
      for (const r of rows) assert.equal(r.storage_class, `db${i}`);
    }
  });
}

test('prepared query: a parameter missing from the query is refused at first use', async () => {
  const unused = prepared(2, (db, name: string, _never: string) => db.selectFrom('buckets').selectAll().where('name', '=', name));
  await assert.rejects(unused(dbs[0]!, 'x', 'y'), /every parameter must appear/);
});
