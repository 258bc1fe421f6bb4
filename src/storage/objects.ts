/**
 * Objects: write (put, append, copy), read (head, ranged stream), delete, ACL, listing.
 *
 * Every write follows one rule: bytes go to a fresh blob first; only then, in one index transaction,
 * the object row is swapped and old blobs released. A write that fails or is cut off at any point
 * before that transaction leaves the previous version as it was and nothing new listed.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Selectable, Transaction } from 'kysely';
import type { Database, ObjectTable } from '../db/schema.js';
import { fail } from '../errors.js';
import { combineCrc64 } from './crc64.js';
import { addBlob, release, removeFreed, retain } from './blob-refs.js';
import { ingest, type IngestLimits } from './ingest.js';
import { BufferedBody, STREAM_CHUNK } from './blob-store.js';
import { isInlineBlobId, readInlineBlob } from './inline-blobs.js';
import { bucketByName } from './buckets.js';
import { listObjects, type ListPage, type ListQuery } from './listing.js';
import { prepared } from '../db/prepared.js';
import type { Db } from '../db/connection.js';
import {
  attributeColumns,
  toBucket,
  toObject,
  type BucketRecord,
  type ObjectAcl,
  type ObjectAttributes,
  type ObjectRecord,
  type Segment,
  type StorageContext,
} from './records.js';

type Tx = Transaction<Database>;

/** The index row of one object version. */
function objectRow(
  bucket: string,
  key: string,
  v: { size: number; etag: string; crc64: string; attrs: ObjectAttributes; objectType: ObjectRecord['objectType']; lastModified: Date; segments: Segment[] },
) {
  return {
    bucket,
    key,
    size: v.size,
    etag: v.etag,
    crc64: v.crc64,
    ...attributeColumns(v.attrs),
    object_type: v.objectType,
    last_modified: v.lastModified.getTime(),
    segments: JSON.stringify(v.segments),
  };
}

/** The version being read was replaced before its bytes could be opened; re-read the record. */
/** A new object version: its attributes, digests and bytes (new blobs and/or blobs shared with others). */
export interface VersionInput {
  attrs: ObjectAttributes;
  size: number;
  etag: string;
  crc64: string;
  objectType: ObjectRecord['objectType'];
  segments: Segment[];
  newBlobs: NewBlob[];
  sharedBlobs?: string[];
}

/** A blob this version brings: its id, its size and, for an inline blob (inline-blobs.ts), its bytes. */
export type NewBlob = readonly [blobId: string, size: number, data?: Buffer];

export class ObjectChanged extends Error {
  constructor() {
    super('the object changed while it was being opened');
  }
}

export interface PutOptions {
  attrs: ObjectAttributes;
  expectedLength?: number;
  contentMd5?: string;
  forbidOverwrite?: boolean;
}

export interface CopyOptions {
  /** New attributes (REPLACE directive), or undefined to keep the source's (COPY). */
  attrs?: ObjectAttributes;
  /** ACL for the copy when the source's attributes are kept. */
  acl?: ObjectAcl;
  forbidOverwrite?: boolean;
  /** Checked against the source inside the same transaction that writes the copy. */
  precondition?: (source: ObjectRecord) => void;
}

/** The object lookup of every object request, compiled once (db/prepared.ts). */
const objectByKey = prepared(2, (db, bucket: string, key: string) => db.selectFrom('objects').selectAll().where('bucket', '=', bucket).where('key', '=', key));

/**
 * A bucket and the object at a key in one statement (the access gate needs both for every object read,
 * and a write's transaction both the bucket check and the version it replaces): the bucket row, and the
 * object's columns (null when there is no such object). No row: no such bucket.
 */
function bucketAndObjectQuery(db: Db | Tx, bucket: string, key: string) {
  return db
    .selectFrom('buckets')
    .leftJoin('objects', (j) => j.onRef('objects.bucket', '=', 'buckets.name').on('objects.key', '=', key))
    .select([
      'buckets.name as b_name',
      'buckets.acl as b_acl',
      'buckets.storage_class as b_storage_class',
      'buckets.created_at as b_created_at',
      'objects.id',
      'objects.bucket',
      'objects.key',
      'objects.size',
      'objects.etag',
      'objects.crc64',
      'objects.content_type',
      'objects.headers',
      'objects.meta',
      'objects.acl',
      'objects.object_type',
      'objects.storage_class',
      'objects.last_modified',
      'objects.segments',
    ])
    .where('buckets.name', '=', bucket);
}
const bucketAndObject = prepared(2, bucketAndObjectQuery);
type BucketAndObjectRow = Awaited<ReturnType<typeof bucketAndObject>>[number];
/** The object columns of a bucketAndObject row, when it has an object. */
const objectOf = (row: BucketAndObjectRow): Selectable<ObjectTable> | undefined => (row.id === null || row.bucket === null ? undefined : (row as Selectable<ObjectTable>));

/** Inside a write's transaction: NoSuchBucket, or the row of the version being replaced (if any). */
async function versionToReplace(tx: Tx, bucket: string, key: string): Promise<Selectable<ObjectTable> | undefined> {
  const row = await bucketAndObjectQuery(tx, bucket, key).executeTakeFirst();
  if (!row) fail('NoSuchBucket', undefined, { BucketName: bucket });
  return objectOf(row);
}

export class ObjectService {
  constructor(private readonly ctx: StorageContext) {}

  private async requireBucket(tx: Tx | StorageContext['db'], bucket: string): Promise<void> {
    const [row] = tx === this.ctx.db ? await bucketByName(tx, bucket) : await tx.selectFrom('buckets').select('name').where('name', '=', bucket).execute();
    if (!row) fail('NoSuchBucket', undefined, { BucketName: bucket });
  }

  async find(bucket: string, key: string): Promise<ObjectRecord | undefined> {
    const [row] = await objectByKey(this.ctx.db, bucket, key);
    return row ? toObject(row) : undefined;
  }

  /** The bucket (undefined if it does not exist) and the object at `key` in it (if any), read together. */
  async findWithBucket(bucket: string, key: string): Promise<{ bucket?: BucketRecord; object?: ObjectRecord }> {
    const [row] = await bucketAndObject(this.ctx.db, bucket, key);
    if (!row) return {};
    const b = toBucket({ name: row.b_name, acl: row.b_acl, storage_class: row.b_storage_class, created_at: row.b_created_at });
    const o = objectOf(row);
    return o ? { bucket: b, object: toObject(o) } : { bucket: b };
  }

  /** The object's record, or NoSuchBucket / NoSuchKey. */
  async head(bucket: string, key: string): Promise<ObjectRecord> {
    const found = await this.find(bucket, key);
    if (found) return found;
    await this.requireBucket(this.ctx.db, bucket);
    return fail('NoSuchKey', undefined, { Key: key });
  }

  /**
   * Streams bytes [start, end] (inclusive) of the object, across its segments. The segments are leased
   * for the stream's lifetime (a concurrent overwrite cannot remove them mid-stream), and the first one
   * is opened before this resolves, so a failure surfaces before any header is sent. If the version was
   * replaced between reading the record and leasing it, this throws `ObjectChanged`: re-read and retry.
   */
  async open(obj: ObjectRecord, start = 0, end = obj.size - 1): Promise<Readable> {
    const wanted: Array<[string, number, number]> = [];
    let offset = 0;
    for (const [blobId, length] of obj.segments) {
      const segStart = offset;
      const segEnd = offset + length - 1;
      offset += length;
      if (length === 0 || segEnd < start || segStart > end) continue;
      wanted.push([blobId, Math.max(start, segStart) - segStart, Math.min(end, segEnd) - segStart]);
    }
    // An inline blob (the common small object) is always an object's only segment (PutObject makes them):
    // its bytes come with one lookup, nothing to lease.
    if (wanted.length === 1 && isInlineBlobId(wanted[0]![0])) {
      const [id, from, to] = wanted[0]!;
      return new BufferedBody(await this.inlineBytes(id, from, to));
    }
    const ids = wanted.map((w) => w[0]);
    const { blobs, leases } = this.ctx;
    leases.acquire(ids);
    let released = false;
    const releaseLeases = () => {
      if (released) return;
      released = true;
      // Blobs freed while we were reading them are removed now that the last reader is done.
      void removeFreed(blobs, leases, leases.release(ids));
    };
    let first: Readable | undefined;
    if (wanted.length > 0) {
      const [id, from, to] = wanted[0]!;
      try {
        first = await blobs.open(id, from, to);
      } catch (e) {
        releaseLeases();
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectChanged();
        throw e;
      }
    }
    // One segment (the common case): hand out the file stream itself, no re-chunking generator.
    if (wanted.length === 1) {
      first!.once('close', releaseLeases);
      return first!;
    }
    async function* bytes() {
      try {
        for (let i = 0; i < wanted.length; i++) {
          const [id, from, to] = wanted[i]!;
          yield* i === 0 ? first! : await blobs.open(id, from, to);
        }
      } finally {
        first?.destroy();
        releaseLeases();
      }
    }
    const stream = Readable.from(bytes(), { objectMode: false, highWaterMark: STREAM_CHUNK });
    stream.once('close', releaseLeases);
    return stream;
  }

  /** Bytes [from, to] of an inline blob; ObjectChanged if its row is gone (the version was replaced). */
  private async inlineBytes(id: string, from: number, to: number): Promise<Buffer> {
    const data = await readInlineBlob(this.ctx.db, id);
    if (data === undefined) throw new ObjectChanged();
    return data.subarray(from, to + 1);
  }

  /** Reads the current version of a key as a stream (head + open, retried once if it changed underneath). */
  async openKey(bucket: string, key: string, start?: number, end?: number): Promise<{ record: ObjectRecord; stream: Readable }> {
    for (let attempt = 0; ; attempt++) {
      const record = await this.head(bucket, key);
      try {
        return { record, stream: await this.open(record, start, end) };
      } catch (e) {
        if (!(e instanceof ObjectChanged) || attempt > 0) throw e;
      }
    }
  }

  async put(bucket: string, key: string, body: Readable, opts: PutOptions): Promise<ObjectRecord> {
    // Fail fast before reading a byte; the same checks run again inside the commit transaction.
    await this.requireBucket(this.ctx.db, bucket);
    if (opts.forbidOverwrite && (await this.find(bucket, key))) fail('FileAlreadyExists', undefined, { Key: key });

    // A small object is stored inline (inline-blobs.ts): it is always one segment, read whole or not at all.
    const limits: IngestLimits = { maxBytes: this.ctx.maxObjectBytes, expectedLength: opts.expectedLength, contentMd5: opts.contentMd5, inline: true };
    const blob = await ingest(this.ctx.blobs, body, limits);
    return this.commit(bucket, key, {
      attrs: opts.attrs,
      size: blob.size,
      etag: blob.md5.toString('hex').toUpperCase(),
      crc64: blob.crc64.toString(),
      objectType: 'Normal',
      segments: [[blob.blobId, blob.size]],
      newBlobs: [[blob.blobId, blob.size, blob.data]],
      forbidOverwrite: opts.forbidOverwrite,
    });
  }

  /**
   * Swaps in a new version in one transaction: registers new blobs, retains shared ones, replaces the
   * row, releases the old version's blobs. If the transaction fails, the new blobs are removed.
   */
  async commit(
    bucket: string,
    key: string,
    v: VersionInput & {
      forbidOverwrite?: boolean;
      /** Runs first inside the transaction (append's position check, multipart's part validation). */
      check?: (tx: Tx, current: ObjectRecord | undefined) => Promise<void>;
      /** More blob releases to make in the same transaction (multipart's consumed parts). */
      extraRelease?: (tx: Tx) => Promise<string[]>;
    },
  ): Promise<ObjectRecord> {
    const now = this.ctx.now();
    let freed: string[] = [];
    try {
      const row = await this.ctx.db.transaction().execute(async (tx) => {
        const oldRow = await versionToReplace(tx, bucket, key);
        const old = oldRow ? toObject(oldRow) : undefined;
        if (v.forbidOverwrite && old) fail('FileAlreadyExists', undefined, { Key: key });
        if (v.check) await v.check(tx, old);
        const written = await this.writeVersion(tx, bucket, key, v, now, oldRow, freed);
        if (v.extraRelease) freed.push(...(await v.extraRelease(tx)));
        return written;
      });
      await removeFreed(this.ctx.blobs, this.ctx.leases, freed);
      return toObject(row);
    } catch (e) {
      freed = [];
      await removeFreed(this.ctx.blobs, this.ctx.leases, v.newBlobs.map((s) => s[0]));
      throw e;
    }
  }

  /**
   * Writes several objects in ONE transaction, together with `alsoInTx` (a task marking itself done):
   * either every object and the caller's change become visible, or none. Media tasks use it so a
   * playlist never appears without its segments and a retried task never shows a half-written result.
   * The blobs must already be ingested (see ingestBlob); on failure they are removed.
   */
  async commitBatch(items: Array<{ bucket: string; key: string } & VersionInput>, alsoInTx?: (tx: Tx) => Promise<void>): Promise<ObjectRecord[]> {
    const now = this.ctx.now();
    const freed: string[] = [];
    try {
      const rows = await this.ctx.db.transaction().execute(async (tx) => {
        const out = [];
        for (const item of items) {
          const oldRow = await versionToReplace(tx, item.bucket, item.key);
          out.push(await this.writeVersion(tx, item.bucket, item.key, item, now, oldRow, freed));
        }
        if (alsoInTx) await alsoInTx(tx);
        return out;
      });
      await removeFreed(this.ctx.blobs, this.ctx.leases, freed);
      return rows.map(toObject);
    } catch (e) {
      await removeFreed(this.ctx.blobs, this.ctx.leases, items.flatMap((i) => i.newBlobs.map((s) => s[0])));
      throw e;
    }
  }

  /** Stores a stream as a new, not yet referenced blob (hashing it): the first half of commitBatch. */
  async ingestBlob(body: Readable): Promise<{ size: number; etag: string; crc64: string; segments: Segment[] }> {
    const blob = await ingest(this.ctx.blobs, body, { maxBytes: this.ctx.maxObjectBytes });
    return { size: blob.size, etag: blob.md5.toString('hex').toUpperCase(), crc64: blob.crc64.toString(), segments: [[blob.blobId, blob.size]] };
  }

  /** Removes blobs stored by ingestBlob that will not be committed (an output that failed its verification). */
  async discardBlobs(segments: readonly Segment[]): Promise<void> {
    await removeFreed(this.ctx.blobs, this.ctx.leases, segments.map((s) => s[0]));
  }

  /** Inside a transaction: registers the new blobs, retains shared ones, replaces or inserts the row, releases the old blobs (into `freed`). */
  private async writeVersion(
    tx: Tx,
    bucket: string,
    key: string,
    v: VersionInput,
    now: Date,
    oldRow: Selectable<Database['objects']> | undefined,
    freed: string[],
  ) {
    for (const [id, size, data] of v.newBlobs) await addBlob(tx, id, size, now, data);
    if (v.sharedBlobs) await retain(tx, v.sharedBlobs);
    const values = objectRow(bucket, key, { ...v, lastModified: now });
    const written = oldRow
      ? await tx.updateTable('objects').set(values).where('id', '=', oldRow.id).returningAll().executeTakeFirstOrThrow()
      : await tx.insertInto('objects').values(values).returningAll().executeTakeFirstOrThrow();
    if (oldRow) freed.push(...(await release(tx, toObject(oldRow).segments.map((s) => s[0]))));
    return written;
  }

  /** AppendObject: position must equal the current length; the first append (position 0) creates it. */
  async append(bucket: string, key: string, position: number, body: Readable, opts: PutOptions): Promise<ObjectRecord> {
    await this.requireBucket(this.ctx.db, bucket);
    const checkPosition = (current: ObjectRecord | undefined) => {
      if (current && current.objectType !== 'Appendable') fail('ObjectNotAppendable', undefined, { Key: key });
      const length = current?.size ?? 0;
      if (position !== length) {
        fail('PositionNotEqualToLength', undefined, { Key: key }, { 'x-oss-next-append-position': String(length) });
      }
    };
    checkPosition(await this.find(bucket, key));
    const blob = await ingest(this.ctx.blobs, body, { maxBytes: this.ctx.maxObjectBytes, expectedLength: opts.expectedLength, contentMd5: opts.contentMd5 });
    let current: ObjectRecord | undefined;
    const crcOf = () => (current ? combineCrc64(BigInt(current.crc64), blob.crc64, blob.size) : blob.crc64);
    // The row is re-read inside the transaction: concurrent appends at the same position lose cleanly.
    return this.commitAppend(bucket, key, blob, async (tx) => {
      const row = await tx.selectFrom('objects').selectAll().where('bucket', '=', bucket).where('key', '=', key).executeTakeFirst();
      current = row ? toObject(row) : undefined;
      checkPosition(current);
      const segments: Segment[] = [...(current?.segments ?? []), [blob.blobId, blob.size]];
      const size = (current?.size ?? 0) + blob.size;
      const crc64 = crcOf().toString();
      // Appendable ETags are opaque on OSS: derive one from the content's CRC and length.
      const etag = createHash('md5').update(`${crc64}:${size}`).digest('hex').toUpperCase();
      return { segments, size, crc64, etag, attrs: current ?? opts.attrs };
    });
  }

  private async commitAppend(
    bucket: string,
    key: string,
    blob: { blobId: string; size: number },
    next: (tx: Tx) => Promise<{ segments: Segment[]; size: number; crc64: string; etag: string; attrs: ObjectAttributes }>,
  ): Promise<ObjectRecord> {
    const now = this.ctx.now();
    try {
      const row = await this.ctx.db.transaction().execute(async (tx) => {
        const v = await next(tx);
        await addBlob(tx, blob.blobId, blob.size, now);
        const values = objectRow(bucket, key, { ...v, objectType: 'Appendable', lastModified: now });
        // The previous segments stay referenced by the new row: no retain/release needed.
        return tx
          .insertInto('objects')
          .values(values)
          .onConflict((oc) => oc.columns(['bucket', 'key']).doUpdateSet(values))
          .returningAll()
          .executeTakeFirstOrThrow();
      });
      return toObject(row);
    } catch (e) {
      await removeFreed(this.ctx.blobs, this.ctx.leases, [blob.blobId]);
      throw e;
    }
  }

  /** CopyObject: the copy shares the source's blobs (no bytes are copied). */
  async copy(src: { bucket: string; key: string }, dst: { bucket: string; key: string }, opts: CopyOptions): Promise<ObjectRecord> {
    const source = await this.head(src.bucket, src.key);
    opts.precondition?.(source);
    const attrs = opts.attrs ?? { ...source, acl: opts.acl ?? source.acl };
    return this.commit(dst.bucket, dst.key, {
      attrs,
      size: source.size,
      etag: source.etag,
      crc64: source.crc64,
      objectType: source.objectType === 'Appendable' ? 'Normal' : source.objectType,
      segments: source.segments,
      newBlobs: [],
      sharedBlobs: source.segments.map((s) => s[0]),
      forbidOverwrite: opts.forbidOverwrite,
      check: async (tx) => {
        // The source may have changed since it was read: copy only the version the precondition saw.
        const now = await tx.selectFrom('objects').select(['etag', 'segments']).where('bucket', '=', src.bucket).where('key', '=', src.key).executeTakeFirst();
        if (!now || now.segments !== JSON.stringify(source.segments)) fail('NoSuchKey', 'The source object changed during the copy; please retry.', { Key: src.key });
      },
    });
  }

  /** DeleteObject: succeeds whether or not the key exists. */
  async delete(bucket: string, key: string): Promise<void> {
    await this.deleteMany(bucket, [key]);
  }

  async deleteMany(bucket: string, keys: readonly string[]): Promise<void> {
    let freed: string[] = [];
    await this.ctx.db.transaction().execute(async (tx) => {
      await this.requireBucket(tx, bucket);
      for (const key of keys) {
        const row = await tx.deleteFrom('objects').where('bucket', '=', bucket).where('key', '=', key).returning('segments').executeTakeFirst();
        if (row) freed = freed.concat(await release(tx, (JSON.parse(row.segments) as Segment[]).map((s) => s[0])));
      }
    });
    await removeFreed(this.ctx.blobs, this.ctx.leases, freed);
  }

  async setAcl(bucket: string, key: string, acl: ObjectAcl): Promise<void> {
    const r = await this.ctx.db.updateTable('objects').set({ acl }).where('bucket', '=', bucket).where('key', '=', key).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) await this.head(bucket, key);
  }

  async list(q: ListQuery): Promise<ListPage> {
    await this.requireBucket(this.ctx.db, q.bucket);
    return listObjects(this.ctx.db, q);
  }
}
