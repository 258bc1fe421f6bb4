/**
 * One contract, every BlobStore: the local-disk store and the S3-compatible store (against a real
 * s3rver) must behave the same for writes, ranged reads, listing, removal, discards and missing blobs.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash, randomBytes } from 'node:crypto';
import { FsBlobStore, sendStream, type BlobStore } from '../../src/storage/blob-store.js';
import { S3BlobStore } from '../../src/storage/s3-blob-store.js';
import { isMedleyError } from '../../src/errors.js';
import { startS3, type TestS3 } from '../support/s3.js';

async function write(store: BlobStore, bytes: Buffer): Promise<string> {
  const w = await store.create();
  await pipeline(Readable.from([bytes.subarray(0, 7), bytes.subarray(7)]), w.stream);
  await w.finish();
  return w.id;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function ids(store: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const { id } of store.list()) out.push(id);
  return out.sort();
}

const backends: Array<{ name: string; open(): Promise<{ store: BlobStore; close(): Promise<void> }> }> = [
  {
    name: 'FsBlobStore',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'medley-blobs-'));
      return { store: new FsBlobStore(dir, true), close: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'S3BlobStore (s3rver)',
    async open() {
      const s3: TestS3 = await startS3();
      const store = new S3BlobStore({ endpoint: s3.endpoint, bucket: s3.bucket, prefix: 'p/', region: 'us-east-1', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true });
      return { store, close: async () => (store.close(), await s3.stop()) };
    },
  },
];

for (const backend of backends) {
  describe(`BlobStore contract: ${backend.name}`, () => {
    let store: BlobStore;
    let close: () => Promise<void>;
    before(async () => ({ store, close } = await backend.open()));
    after(() => close());

    test('sendStream delivers whole blobs and ranges larger than one read, and ends the destination', async () => {
      const bytes = randomBytes(3 * 1024 * 1024 + 12_345);
      const id = await write(store, bytes);
      for (const [from, to] of [[undefined, undefined], [0, bytes.length - 1], [70_000, 2 * 1024 * 1024 + 5], [1024 * 1024, 2 * 1024 * 1024 - 1]] as const) {
        const chunks: Buffer[] = [];
        let ended = false;
        const sink = new Writable({
          write(c: Buffer, _e, done) {
            chunks.push(Buffer.from(c)); // a copy: the sender reuses its buffers once a write completes
            done();
          },
          final(done) {
            ended = true;
            done();
          },
        });
        const source = await store.open(id, from, to);
        const closed = new Promise((r) => source.once('close', r));
        await sendStream(source, sink);
        await closed;
        assert.ok(ended, 'the destination was ended');
        assert.deepEqual(Buffer.concat(chunks), bytes.subarray(from ?? 0, (to ?? bytes.length - 1) + 1));
      }
    });

    test('concurrent sendStreams each deliver their own bytes; beyond two in flight, local blobs are read in 256 KiB pieces', async () => {
      const bodies = Array.from({ length: 4 }, () => randomBytes(2 * 1024 * 1024 + 999));
      const blobIds = await Promise.all(bodies.map((b) => write(store, b)));
      const sources = await Promise.all(blobIds.map((id) => store.open(id)));
      const received = await Promise.all(
        sources.map(async (source) => {
          const chunks: Buffer[] = [];
          const sink = new Writable({
            write(c: Buffer, _e, done) {
              chunks.push(Buffer.from(c));
              setImmediate(done); // a slow client: every send is still in flight when the next starts
            },
          });
          await sendStream(source, sink);
          return chunks;
        }),
      );
      received.forEach((chunks, i) => assert.deepEqual(Buffer.concat(chunks), bodies[i]));
      if (backend.name === 'FsBlobStore') {
        const largest = received.map((chunks) => Math.max(...chunks.map((c) => c.length)));
        assert.deepEqual(largest, [1024 * 1024, 1024 * 1024, 256 * 1024, 256 * 1024]);
      }
    });

    test('sendStream rejects and closes the source when the destination fails', async () => {
      const id = await write(store, randomBytes(3 * 1024 * 1024));
      const source = await store.open(id);
      const closed = new Promise((r) => source.once('close', r));
      const sink = new Writable({ write: (_c, _e, done) => done(new Error('client went away')) });
      sink.on('error', () => undefined);
      await assert.rejects(sendStream(source, sink));
      await closed;
    });

    test('a finished write reads back whole and by inclusive ranges', async () => {
      const bytes = randomBytes(100_000);
      const id = await write(store, bytes);
      assert.match(id, /^[0-9a-f]{32}$/);
      assert.deepEqual(await readAll(await store.open(id)), bytes);
      assert.deepEqual(await readAll(await store.open(id, 10, 19)), bytes.subarray(10, 20));
      assert.deepEqual(await readAll(await store.open(id, 99_999, 99_999)), bytes.subarray(99_999));
    });

    test('an empty blob is stored and read as zero bytes', async () => {
      const w = await store.create();
      w.stream.end();
      await new Promise((r) => w.stream.once('finish', r));
      await w.finish();
      assert.equal((await readAll(await store.open(w.id))).length, 0);
    });

    test('list names every finished blob; remove deletes it and is idempotent', async () => {
      const id = await write(store, Buffer.from('listed'));
      assert.ok((await ids(store)).includes(id));
      await store.remove(id);
      await store.remove(id);
      assert.ok(!(await ids(store)).includes(id));
    });

    test('a missing blob rejects with ENOENT', async () => {
      await assert.rejects(store.open('0'.repeat(32)), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    });

    test('discard leaves nothing behind', async () => {
      const before = await ids(store);
      const w = await store.create();
      w.stream.write(Buffer.alloc(1000, 1));
      await w.discard();
      await w.discard();
      assert.deepEqual(await ids(store), before);
    });

    test('ids that the store did not generate are refused', async () => {
      await assert.rejects(store.open('../../etc/passwd'), /invalid blob id/);
    });
  });
}

// A big blob is flushed by early fdatasyncs while it arrives (FileSink): the bytes must come back exactly,
// and a discard with an early sync in flight must still leave nothing behind.
describe('FsBlobStore: blobs larger than the early-sync interval (32 MiB)', () => {
  let dir: string;
  let store: FsBlobStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'medley-blobs-big-'));
    store = new FsBlobStore(dir, true);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const chunks = (n: number, seed: Buffer) => Readable.from((function* () {
    for (let i = 0; i < n; i++) yield Buffer.concat([Buffer.from([i & 0xff]), seed.subarray(1)]);
  })());

  test('a 72 MiB write reads back byte for byte', async () => {
    const seed = randomBytes(1024 * 1024);
    const w = await store.create();
    await pipeline(chunks(72, seed), w.stream);
    await w.finish();
    const expected = createHash('md5');
    for await (const c of chunks(72, seed)) expected.update(c as Buffer);
    const got = createHash('md5');
    let size = 0;
    for await (const c of await store.open(w.id)) {
      size += (c as Buffer).length;
      got.update(c as Buffer);
    }
    assert.equal(size, 72 * 1024 * 1024);
    assert.equal(got.digest('hex'), expected.digest('hex'));
  });

  test('discarding after 40 MiB (an early sync started) removes the file', async () => {
    const before = await ids(store);
    const w = await store.create();
    const seed = randomBytes(1024 * 1024);
    for (let i = 0; i < 40; i++) {
      if (!w.stream.write(seed)) await new Promise((r) => w.stream.once('drain', r));
    }
    await w.discard();
    assert.deepEqual(await ids(store), before);
  });
});

test('S3BlobStore: an unreachable store is BlobStoreUnavailable (503) naming the blob, within the timeouts', async () => {
  const store = new S3BlobStore({ endpoint: 'http://127.0.0.1:1', bucket: 'b', prefix: '', region: 'us-east-1', accessKeyId: 'x', secretAccessKey: 'y', forcePathStyle: true });
  const id = 'a'.repeat(32);
  await assert.rejects(store.open(id), (e: unknown) => isMedleyError(e) && e.status === 503 && e.message.includes(id));
  const w = await store.create();
  await assert.rejects(pipeline(Readable.from([Buffer.alloc(10)]), w.stream).then(() => w.finish()), (e: unknown) => isMedleyError(e) && e.status === 503);
  store.close();
});
