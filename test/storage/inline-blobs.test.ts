/**
 * Inline blobs (src/storage/inline-blobs.ts): a PutObject body of announced length up to INLINE_MAX_BYTES
 * is kept in its blobs row, not the blob store — same answers, digests, sharing and freeing as a stored
 * blob, no file. Against a real index (SQLite, or PostgreSQL under the scale suite) and blob directory.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash, randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import type { Db } from '../../src/db/connection.js';
import { openTestDatabase } from '../support/backend.js';
import { openStorage, type Storage } from '../../src/storage/index.js';
import { crc64 } from '../../src/storage/crc64.js';
import { INLINE_MAX_BYTES, isInlineBlobId } from '../../src/storage/inline-blobs.js';
import { ObjectChanged } from '../../src/storage/objects.js';
import { BufferedBody } from '../../src/storage/blob-store.js';
import { MedleyError } from '../../src/errors.js';

let db: Db;
let storage: Storage;
let dir: string;
const attrs = { contentType: 'application/octet-stream', headers: {}, meta: {}, acl: 'default' as const, storageClass: 'Standard' };
const put = (key: string, bytes: Buffer, opts: { expectedLength?: number; contentMd5?: string } = { expectedLength: bytes.length }) =>
  storage.objects.put('bkt', key, Readable.from([bytes]), { attrs, ...opts });
const read = async (key: string, start?: number, end?: number) => buffer((await storage.objects.openKey('bkt', key, start, end)).stream);
const isCode = (code: string) => (e: unknown) => e instanceof MedleyError && e.code === code;

async function blobFiles(): Promise<number> {
  let n = 0;
  const root = join(dir, 'blobs');
  for (const a of await readdir(root)) for (const b of await readdir(join(root, a))) n += (await readdir(join(root, a, b))).length;
  return n;
}
const blobRows = async () => (await db.selectFrom('blobs').select(['id', 'refs']).execute()).map((r) => ({ id: r.id, refs: Number(r.refs) }));
const segmentsOf = async (key: string) => (await storage.objects.head('bkt', key)).segments;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-inline-'));
  db = await openTestDatabase(dir);
  storage = await openStorage(db, { dataDir: dir, fsync: false, maxObjectBytes: 1024 * 1024 });
  await storage.buckets.create('bkt', 'private', 'Standard');
});
after(async () => {
  await db.destroy();
  await rm(dir, { recursive: true, force: true });
});

const sizes: Array<[name: string, size: number, inline: boolean]> = [
  ['an empty body', 0, true],
  ['a 4 KiB body', 4096, true],
  ['a body of exactly the limit', INLINE_MAX_BYTES, true],
  ['a body one byte over the limit', INLINE_MAX_BYTES + 1, false],
];
for (const [name, size, inline] of sizes) {
  test(`${name} (${size} B) is ${inline ? 'inline: no blob file' : 'a blob file'}, with the same digests and bytes`, async () => {
    const bytes = randomBytes(size);
    const files = await blobFiles();
    const o = await put(`size-${size}`, bytes);
    assert.equal(isInlineBlobId(o.segments[0]![0]), inline);
    assert.equal(await blobFiles(), files + (inline ? 0 : 1));
    assert.equal(o.etag, createHash('md5').update(bytes).digest('hex').toUpperCase());
    assert.equal(o.crc64, crc64(bytes).toString());
    assert.deepEqual(await read(`size-${size}`), bytes);
  });
}

test('without an announced length the body is streamed to a blob file (a chunked upload)', async () => {
  const files = await blobFiles();
  const o = await put('chunked', Buffer.from('no content-length'), {});
  assert.equal(isInlineBlobId(o.segments[0]![0]), false);
  assert.equal(await blobFiles(), files + 1);
});

test('ranges of an inline object are its bytes, sent from memory', async () => {
  const bytes = randomBytes(1000);
  const o = await put('ranged', bytes);
  assert.deepEqual(await read('ranged', 10, 19), bytes.subarray(10, 20));
  assert.deepEqual(await read('ranged', 999, 999), bytes.subarray(999));
  assert.ok((await storage.objects.open(o, 0, 99)) instanceof BufferedBody);
});

test('overwriting an inline object frees its row; the new version may be either kind', async () => {
  await put('over', Buffer.from('first'));
  const [firstId] = (await segmentsOf('over'))[0]!;
  await put('over', Buffer.from('second'));
  const rows = await blobRows();
  assert.ok(!rows.some((r) => r.id === firstId), 'the first version row is gone');
  const big = randomBytes(INLINE_MAX_BYTES + 10);
  await put('over', big);
  assert.deepEqual(await read('over'), big);
  const files = await blobFiles();
  await put('over', Buffer.from('small again'));
  assert.equal(await blobFiles(), files - 1, 'the big version file is removed');
  assert.equal((await read('over')).toString(), 'small again');
});

test('a record read before an overwrite no longer opens: ObjectChanged (the caller re-reads)', async () => {
  const old = await put('race', Buffer.from('old'));
  await put('race', Buffer.from('new'));
  await assert.rejects(storage.objects.open(old), (e: unknown) => e instanceof ObjectChanged);
  assert.equal((await read('race')).toString(), 'new');
});

test('copies share the inline blob; deleting the source keeps the copy; deleting both drops the row', async () => {
  const o = await put('src', Buffer.from('shared bytes'));
  const id = o.segments[0]![0];
  await storage.objects.copy({ bucket: 'bkt', key: 'src' }, { bucket: 'bkt', key: 'dst' }, {});
  assert.equal((await blobRows()).find((r) => r.id === id)?.refs, 2);
  await storage.objects.delete('bkt', 'src');
  assert.equal((await read('dst')).toString(), 'shared bytes');
  await storage.objects.delete('bkt', 'dst');
  assert.equal((await blobRows()).find((r) => r.id === id), undefined);
});

test('refused small bodies leave the previous version and add no row', async () => {
  await put('keep', Buffer.from('kept'));
  const rows = (await blobRows()).length;
  const wrongMd5 = createHash('md5').update('something else').digest('base64');
  await assert.rejects(put('keep', Buffer.from('new!'), { expectedLength: 4, contentMd5: wrongMd5 }), isCode('InvalidDigest'));
  await assert.rejects(put('keep', Buffer.from('short'), { expectedLength: 10 }), isCode('IncompleteBody'));
  await assert.rejects(put('keep', Buffer.from('longer than announced'), { expectedLength: 4 }), isCode('IncompleteBody'));
  const broken = new Readable({
    read() {
      this.destroy(new Error('connection reset'));
    },
  });
  await assert.rejects(storage.objects.put('bkt', 'keep', broken, { attrs, expectedLength: 100 }), /connection reset/);
  assert.equal((await read('keep')).toString(), 'kept');
  assert.equal((await blobRows()).length, rows);
});

test('appends and multipart parts stay blob files (an inline segment among others could not be leased)', async () => {
  const files = await blobFiles();
  await storage.objects.append('bkt', 'ap', 0, Readable.from([Buffer.from('a')]), { attrs, expectedLength: 1 });
  const upload = await storage.multipart.initiate('bkt', 'mp', attrs, false);
  await storage.multipart.uploadPart('bkt', 'mp', upload.uploadId, 1, Readable.from([Buffer.from('part')]), { expectedLength: 4 });
  assert.equal(await blobFiles(), files + 2);
});

test('the orphan sweep leaves inline objects alone', async () => {
  await put('swept?', Buffer.from('still here'));
  await storage.sweepOrphans(0);
  assert.equal((await read('swept?')).toString(), 'still here');
});
