/**
 * The storage layer as one object: buckets, objects and multipart over the SQL index and a BlobStore,
 * plus the orphan sweep that collects blob files no index row points at.
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { Db } from '../db/connection.js';
import { FsBlobStore, type BlobStore } from './blob-store.js';
import type { S3BlobStoreOptions } from './s3-blob-store.js';
import { ReadLeases } from './blob-refs.js';
import { BucketService } from './buckets.js';
import { ObjectService } from './objects.js';
import { MultipartService } from './multipart.js';
import type { StorageContext } from './records.js';

export interface Storage {
  buckets: BucketService;
  objects: ObjectService;
  multipart: MultipartService;
  blobs: BlobStore;
  /** Removes blob files older than `graceMs` that no index row references. Returns how many. */
  sweepOrphans(graceMs?: number): Promise<number>;
}

export interface StorageOptions {
  dataDir: string;
  fsync: boolean;
  maxObjectBytes: number;
  /** Blobs in an S3-compatible store instead of `<dataDir>/blobs`. */
  s3?: S3BlobStoreOptions;
  now?: () => Date;
}

async function openBlobStore(opts: StorageOptions): Promise<BlobStore> {
  if (opts.s3) {
    // The AWS SDK (some 26 MB resident) is loaded only when blobs live in S3: the embedded default stays small.
    const { S3BlobStore } = await import('./s3-blob-store.js');
    return new S3BlobStore(opts.s3);
  }
  const root = join(opts.dataDir, 'blobs');
  await mkdir(root, { recursive: true });
  return new FsBlobStore(root, opts.fsync);
}

export async function openStorage(db: Db, opts: StorageOptions): Promise<Storage> {
  const blobs = await openBlobStore(opts);
  const ctx: StorageContext = { db, blobs, now: opts.now ?? (() => new Date()), maxObjectBytes: opts.maxObjectBytes, leases: new ReadLeases() };
  const objects = new ObjectService(ctx);
  return {
    buckets: new BucketService(ctx),
    objects,
    multipart: new MultipartService(ctx, objects),
    blobs,
    async sweepOrphans(graceMs = 60 * 60 * 1000) {
      // A blob being written has no row yet: only files older than the grace period are orphans.
      const cutoff = Date.now() - graceMs;
      let removed = 0;
      for await (const { id, mtimeMs } of blobs.list()) {
        if (mtimeMs > cutoff) continue;
        const row = await db.selectFrom('blobs').select('id').where('id', '=', id).executeTakeFirst();
        if (!row) {
          await blobs.remove(id);
          removed++;
        }
      }
      return removed;
    },
  };
}
