/** Listing against a real (in-memory) SQLite index: prefix, delimiter roll-up, markers and truncation. */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Db } from '../../src/db/connection.js';
import { openTestDatabase } from '../support/backend.js';
import { openStorage, type Storage } from '../../src/storage/index.js';
import { prefixSuccessor } from '../../src/storage/listing.js';

let db: Db;
let storage: Storage;
let dir: string;
const KEYS = ['a.txt', 'dir/1', 'dir/2', 'dir/sub/3', 'dir/sub/4', 'dir2/5', 'e/f/g', 'z', '音/1', 'ü'];
const attrs = { contentType: 'text/plain', headers: {}, meta: {}, acl: 'default' as const, storageClass: 'Standard' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-listing-'));
  db = await openTestDatabase(dir);
  storage = await openStorage(db, { dataDir: dir, fsync: false, maxObjectBytes: 1 << 20 });
  await storage.buckets.create('bkt', 'private', 'Standard');
  for (const k of KEYS) await storage.objects.put('bkt', k, Readable.from([Buffer.from(k)]), { attrs });
});
after(async () => {
  await db.destroy();
  await rm(dir, { recursive: true, force: true });
});

const names = async (q: { prefix?: string; delimiter?: string; after?: string; maxKeys?: number }) => {
  const page = await storage.objects.list({ bucket: 'bkt', prefix: q.prefix ?? '', delimiter: q.delimiter ?? '', after: q.after ?? '', maxKeys: q.maxKeys ?? 100 });
  return { names: page.entries.map((e) => (e.kind === 'object' ? e.object.key : `[${e.prefix}]`)), truncated: page.isTruncated, next: page.next };
};

const sortedKeys = [...KEYS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

const cases: Array<[string, Parameters<typeof names>[0], string[], boolean?]> = [
  ['everything in UTF-8 byte order', {}, sortedKeys],
  ['prefix', { prefix: 'dir/' }, ['dir/1', 'dir/2', 'dir/sub/3', 'dir/sub/4']],
  ['delimiter at top level', { delimiter: '/' }, ['a.txt', '[dir/]', '[dir2/]', '[e/]', 'z', 'ü', '[音/]']],
  ['prefix and delimiter', { prefix: 'dir/', delimiter: '/' }, ['dir/1', 'dir/2', '[dir/sub/]']],
  ['marker inside a rolled-up prefix skips the prefix', { delimiter: '/', after: 'dir/' }, ['[dir2/]', '[e/]', 'z', 'ü', '[音/]']],
  ['marker on a key', { after: 'dir/2' }, ['dir/sub/3', 'dir/sub/4', 'dir2/5', 'e/f/g', 'z', 'ü', '音/1']],
  ['marker before prefix starts at prefix', { prefix: 'dir2', after: 'a' }, ['dir2/5']],
  ['marker after prefix range is empty', { prefix: 'dir/', after: 'zzz' }, []],
  ['truncation', { maxKeys: 3 }, sortedKeys.slice(0, 3), true],
  ['truncation counts prefixes', { delimiter: '/', maxKeys: 2 }, ['a.txt', '[dir/]'], true],
  ['no match', { prefix: 'nothing' }, []],
];
for (const [name, q, want, truncated] of cases) {
  test(name, async () => {
    const got = await names(q);
    assert.deepEqual(got.names, want);
    assert.equal(got.truncated, truncated ?? false);
  });
}

test('paging with next markers returns every key exactly once', async () => {
  const seen: string[] = [];
  let after = '';
  for (let i = 0; i < 20; i++) {
    const page = await names({ after, maxKeys: 3, delimiter: '/' });
    seen.push(...page.names);
    if (!page.truncated) break;
    after = page.next!;
  }
  assert.deepEqual(seen, ['a.txt', '[dir/]', '[dir2/]', '[e/]', 'z', 'ü', '[音/]']);
});

test('prefixSuccessor bounds every string with the prefix', () => {
  for (const p of ['a', 'dir/', '音', 'z\u{10FFFF}']) {
    const s = prefixSuccessor(p);
    assert.ok(s > p && s > `${p}\u{10FFFF}zzzz`.slice(0, p.length + 1), `${p} → ${s}`);
  }
});
