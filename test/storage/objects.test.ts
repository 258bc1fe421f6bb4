/** Object writes against a real SQLite index and blob directory: atomic swaps, shared blobs, collection. */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, mkdir, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { text } from 'node:stream/consumers';
import type { Db } from '../../src/db/connection.js';
import { openTestDatabase } from '../support/backend.js';
import { openStorage, type Storage } from '../../src/storage/index.js';
import { crc64 } from '../../src/storage/crc64.js';
import { MedleyError } from '../../src/errors.js';

let db: Db;
let storage: Storage;
let dir: string;
const attrs = { contentType: 'text/plain', headers: {}, meta: {}, acl: 'default' as const, storageClass: 'Standard' };
const body = (s: string) => Readable.from([Buffer.from(s)]);
const read = async (key: string) => text((await storage.objects.openKey('bkt', key)).stream);

async function blobFiles(): Promise<number> {
  let n = 0;
  const root = join(dir, 'blobs');
  for (const a of await readdir(root)) for (const b of await readdir(join(root, a))) n += (await readdir(join(root, a, b))).length;
  return n;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-objects-'));
  db = await openTestDatabase(dir);
  storage = await openStorage(db, { dataDir: dir, fsync: false, maxObjectBytes: 1024 });
  await storage.buckets.create('bkt', 'private', 'Standard');
});
after(async () => {
  await db.destroy();
  await rm(dir, { recursive: true, force: true });
});

test('overwrite swaps versions and frees the old blob', async () => {
  await storage.objects.put('bkt', 'k', body('one'), { attrs });
  const files = await blobFiles();
  const o = await storage.objects.put('bkt', 'k', body('two!'), { attrs });
  assert.equal(await read('k'), 'two!');
  assert.equal(o.crc64, crc64(Buffer.from('two!')).toString());
  assert.equal(o.etag, createHash('md5').update('two!').digest('hex').toUpperCase());
  assert.equal(await blobFiles(), files, 'old blob removed');
});

test('a failed write (too large) leaves the old version and no new blob', async () => {
  const files = await blobFiles();
  await assert.rejects(storage.objects.put('bkt', 'k', body('x'.repeat(2000)), { attrs }), (e: unknown) => e instanceof MedleyError && e.code === 'EntityTooLarge');
  assert.equal(await read('k'), 'two!');
  assert.equal(await blobFiles(), files);
});

test('a body that errors midway leaves the old version', async () => {
  const broken = new Readable({
    read() {
      this.push(Buffer.from('partial'));
      this.destroy(new Error('client went away'));
    },
  });
  await assert.rejects(storage.objects.put('bkt', 'k', broken, { attrs }));
  assert.equal(await read('k'), 'two!');
});

test('a short body is IncompleteBody', async () => {
  await assert.rejects(storage.objects.put('bkt', 'k', body('abc'), { attrs, expectedLength: 10 }), (e: unknown) => e instanceof MedleyError && e.code === 'IncompleteBody');
  assert.equal(await read('k'), 'two!');
});

test('copies share blobs; deleting the source keeps the copy readable', async () => {
  await storage.objects.put('bkt', 'src', body('shared bytes'), { attrs });
  const files = await blobFiles();
  await storage.objects.copy({ bucket: 'bkt', key: 'src' }, { bucket: 'bkt', key: 'dst' }, {});
  assert.equal(await blobFiles(), files, 'no bytes copied');
  await storage.objects.delete('bkt', 'src');
  assert.equal(await read('dst'), 'shared bytes');
  await storage.objects.delete('bkt', 'dst');
  assert.equal(await blobFiles(), files - 1, 'last reference frees the blob');
});

test('append extends the object; its CRC is that of the whole', async () => {
  await storage.objects.append('bkt', 'ap', 0, body('hello '), { attrs });
  const o = await storage.objects.append('bkt', 'ap', 6, body('world'), { attrs });
  assert.equal(await read('ap'), 'hello world');
  assert.equal(o.crc64, crc64(Buffer.from('hello world')).toString());
  assert.equal(o.objectType, 'Appendable');
  await assert.rejects(storage.objects.append('bkt', 'ap', 3, body('x'), { attrs }), (e: unknown) => e instanceof MedleyError && e.code === 'PositionNotEqualToLength' && e.headers['x-oss-next-append-position'] === '11');
  await assert.rejects(storage.objects.append('bkt', 'k', 4, body('x'), { attrs }), (e: unknown) => e instanceof MedleyError && e.code === 'ObjectNotAppendable');
});

test('ranged reads across append segments', async () => {
  const o = await storage.objects.head('bkt', 'ap');
  assert.equal(await text(await storage.objects.open(o, 4, 7)), 'o wo');
  assert.equal(await text(await storage.objects.open(o, 6, 10)), 'world');
});

test('a blob freed while being read stays until the reader finishes', async () => {
  await storage.objects.put('bkt', 'race', body('first version'), { attrs });
  const { stream } = await storage.objects.openKey('bkt', 'race');
  const files = await blobFiles();
  await storage.objects.put('bkt', 'race', body('second version'), { attrs });
  assert.equal(await blobFiles(), files + 1, 'old blob kept while leased');
  assert.equal(await text(stream), 'first version');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(await blobFiles(), files, 'old blob removed after the read');
  assert.equal(await read('race'), 'second version');
  await storage.objects.delete('bkt', 'race');
});

test('the sweep removes old unreferenced blob files only', async () => {
  const orphan = join(dir, 'blobs', 'ff', 'ee', 'ffee0000000000000000000000000000');
  await mkdir(join(dir, 'blobs', 'ff', 'ee'), { recursive: true });
  await writeFile(orphan, 'left by a crash');
  const fresh = join(dir, 'blobs', 'ff', 'ee', 'ffee0000000000000000000000000001');
  await writeFile(fresh, 'being written now');
  const old = new Date(Date.now() - 2 * 3600 * 1000);
  await utimes(orphan, old, old);
  const before = await blobFiles();
  assert.equal(await storage.sweepOrphans(), 1);
  assert.equal(await blobFiles(), before - 1);
  assert.equal(await read('ap'), 'hello world', 'live blobs untouched');
  await rm(fresh);
});

test('deleting a bucket with objects is BucketNotEmpty', async () => {
  await assert.rejects(storage.buckets.delete('bkt'), (e: unknown) => e instanceof MedleyError && e.code === 'BucketNotEmpty');
});
