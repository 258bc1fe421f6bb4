/**
 * Multipart uploads: initiate, upload (or copy) parts, complete, abort, list.
 * Parts are blobs of their own; Complete makes the object's segments point at the listed parts' blobs,
 * so no byte is copied and the object appears in one transaction.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { fail } from '../errors.js';
import { combineCrc64 } from './crc64.js';
import { addBlob, release, removeFreed } from './blob-refs.js';
import { ingest } from './ingest.js';
import type { ObjectService } from './objects.js';
import { prefixSuccessor } from './listing.js';
import { LIMITS } from '../limits.js';
import {
  attributeColumns,
  toPart,
  toUpload,
  type ObjectAttributes,
  type ObjectRecord,
  type PartRecord,
  type Segment,
  type StorageContext,
  type UploadRecord,
} from './records.js';

export const MIN_PART_BYTES = LIMITS.minPartBytes;
export const MAX_PART_NUMBER = LIMITS.maxPartNumber;

export interface CompletePart {
  partNumber: number;
  /** Uppercase hex, quotes removed. */
  etag: string;
}

export interface UploadListing {
  uploads: UploadRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker: string;
  nextUploadIdMarker: string;
}

export class MultipartService {
  constructor(
    private readonly ctx: StorageContext,
    private readonly objects: ObjectService,
  ) {}

  async initiate(bucket: string, key: string, attrs: ObjectAttributes, forbidOverwrite: boolean): Promise<UploadRecord> {
    const b = await this.ctx.db.selectFrom('buckets').select('name').where('name', '=', bucket).executeTakeFirst();
    if (!b) fail('NoSuchBucket', undefined, { BucketName: bucket });
    if (forbidOverwrite && (await this.objects.find(bucket, key))) fail('FileAlreadyExists', undefined, { Key: key });
    const uploadId = randomBytes(16).toString('hex').toUpperCase();
    const initiated = this.ctx.now();
    await this.ctx.db
      .insertInto('uploads')
      .values({ upload_id: uploadId, bucket, key, initiated: initiated.getTime(), ...attributeColumns(attrs) })
      .execute();
    return { uploadId, bucket, key, initiated, ...attrs };
  }

  async get(bucket: string, key: string, uploadId: string): Promise<UploadRecord> {
    const row = await this.ctx.db
      .selectFrom('uploads')
      .selectAll()
      .where('upload_id', '=', uploadId)
      .where('bucket', '=', bucket)
      .where('key', '=', key)
      .executeTakeFirst();
    if (row) return toUpload(row);
    const b = await this.ctx.db.selectFrom('buckets').select('name').where('name', '=', bucket).executeTakeFirst();
    if (!b) fail('NoSuchBucket', undefined, { BucketName: bucket });
    return fail('NoSuchUpload', undefined, { UploadId: uploadId });
  }

  /** Stores a part from a request body; re-uploading a part number replaces it. */
  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Readable, opts: { expectedLength?: number; contentMd5?: string }): Promise<PartRecord> {
    await this.get(bucket, key, uploadId);
    const blob = await ingest(this.ctx.blobs, body, { maxBytes: this.ctx.maxObjectBytes, ...opts });
    return this.savePart(uploadId, partNumber, {
      blobId: blob.blobId,
      size: blob.size,
      etag: blob.md5.toString('hex').toUpperCase(),
      crc64: blob.crc64.toString(),
    });
  }

  /** UploadPartCopy: the part's bytes are a range of another object (copied into a new blob). */
  async uploadPartCopy(bucket: string, key: string, uploadId: string, partNumber: number, source: ObjectRecord, range?: [number, number]): Promise<PartRecord> {
    await this.get(bucket, key, uploadId);
    const [start, end] = range ?? [0, source.size - 1];
    const size = Math.max(0, end - start + 1);
    const body = await this.objects.open(source, start, end);
    const blob = await ingest(this.ctx.blobs, body, { maxBytes: this.ctx.maxObjectBytes, expectedLength: size });
    return this.savePart(uploadId, partNumber, {
      blobId: blob.blobId,
      size: blob.size,
      etag: blob.md5.toString('hex').toUpperCase(),
      crc64: blob.crc64.toString(),
    });
  }

  private async savePart(uploadId: string, partNumber: number, p: Omit<PartRecord, 'partNumber' | 'lastModified'>): Promise<PartRecord> {
    const now = this.ctx.now();
    let freed: string[] = [];
    try {
      await this.ctx.db.transaction().execute(async (tx) => {
        const upload = await tx.selectFrom('uploads').select('upload_id').where('upload_id', '=', uploadId).executeTakeFirst();
        if (!upload) fail('NoSuchUpload', undefined, { UploadId: uploadId });
        await addBlob(tx, p.blobId, p.size, now);
        const old = await tx.selectFrom('parts').select('blob_id').where('upload_id', '=', uploadId).where('part_number', '=', partNumber).executeTakeFirst();
        const values = { upload_id: uploadId, part_number: partNumber, blob_id: p.blobId, size: p.size, etag: p.etag, crc64: p.crc64, last_modified: now.getTime() };
        await tx
          .insertInto('parts')
          .values(values)
          .onConflict((oc) => oc.columns(['upload_id', 'part_number']).doUpdateSet(values))
          .execute();
        if (old) freed = await release(tx, [old.blob_id]);
      });
    } catch (e) {
      await removeFreed(this.ctx.blobs, this.ctx.leases, [p.blobId]);
      throw e;
    }
    await removeFreed(this.ctx.blobs, this.ctx.leases, freed);
    return { partNumber, lastModified: now, ...p };
  }

  async listParts(bucket: string, key: string, uploadId: string, marker: number, maxParts: number): Promise<{ parts: PartRecord[]; isTruncated: boolean; nextMarker: number }> {
    await this.get(bucket, key, uploadId);
    const rows = await this.ctx.db
      .selectFrom('parts')
      .selectAll()
      .where('upload_id', '=', uploadId)
      .where('part_number', '>', marker)
      .orderBy('part_number')
      .limit(maxParts + 1)
      .execute();
    const parts = rows.slice(0, maxParts).map(toPart);
    return { parts, isTruncated: rows.length > maxParts, nextMarker: parts.at(-1)?.partNumber ?? marker };
  }

  /**
   * Complete: validates the listed parts (ascending, existing, matching ETags, all but the last
   * ≥ 100 KB) and makes the object from them in one transaction; unlisted parts are released.
   * `all` (x-oss-complete-all) takes every uploaded part in order.
   */
  async complete(bucket: string, key: string, uploadId: string, listed: CompletePart[] | 'all', forbidOverwrite: boolean): Promise<ObjectRecord> {
    const upload = await this.get(bucket, key, uploadId);
    const plan = async (tx: Parameters<NonNullable<Parameters<ObjectService['commit']>[2]['check']>>[0]) => {
      const rows = (await tx.selectFrom('parts').selectAll().where('upload_id', '=', uploadId).orderBy('part_number').execute()).map(toPart);
      const byNumber = new Map(rows.map((r) => [r.partNumber, r]));
      const chosen: PartRecord[] =
        listed === 'all'
          ? rows
          : listed.map((l, i) => {
              if (i > 0 && l.partNumber <= listed[i - 1]!.partNumber) fail('InvalidPartOrder', undefined, { UploadId: uploadId, PartNumber: l.partNumber });
              const part = byNumber.get(l.partNumber);
              if (!part || part.etag !== l.etag.toUpperCase()) fail('InvalidPart', undefined, { UploadId: uploadId, PartNumber: l.partNumber, ETag: l.etag });
              return part;
            });
      if (chosen.length === 0) fail('InvalidPart', 'You must specify at least one part.', { UploadId: uploadId });
      chosen.forEach((p, i) => {
        if (i < chosen.length - 1 && p.size < MIN_PART_BYTES) {
          fail('EntityTooSmall', `Part ${p.partNumber} is ${p.size} bytes; every part but the last must be at least ${MIN_PART_BYTES} bytes.`, { UploadId: uploadId, PartNumber: p.partNumber });
        }
      });
      return { rows, chosen };
    };

    // Validate outside the commit first so a bad request fails before any write; then again inside.
    const { chosen } = await this.ctx.db.transaction().execute(plan);
    const segments: Segment[] = chosen.map((p) => [p.blobId, p.size]);
    const size = chosen.reduce((n, p) => n + p.size, 0);
    const crc64 = chosen.reduce((crc, p) => combineCrc64(crc, BigInt(p.crc64), p.size), 0n).toString();
    const md5s = Buffer.concat(chosen.map((p) => Buffer.from(p.etag, 'hex')));
    const etag = `${createHash('md5').update(md5s).digest('hex').toUpperCase()}-${chosen.length}`;

    return this.objects.commit(bucket, key, {
      attrs: upload,
      size,
      etag,
      crc64,
      objectType: 'Multipart',
      segments,
      newBlobs: [],
      forbidOverwrite,
      check: async (tx) => {
        const again = await plan(tx);
        if (again.chosen.map((p) => p.blobId).join() !== chosen.map((p) => p.blobId).join()) {
          fail('InvalidPart', 'The parts changed while the upload was being completed; please retry.', { UploadId: uploadId });
        }
      },
      // The chosen parts' references move to the object; the unlisted parts are released.
      extraRelease: async (tx) => {
        const used = new Set(chosen.map((p) => p.blobId));
        const all = await tx.selectFrom('parts').select('blob_id').where('upload_id', '=', uploadId).execute();
        await tx.deleteFrom('parts').where('upload_id', '=', uploadId).execute();
        await tx.deleteFrom('uploads').where('upload_id', '=', uploadId).execute();
        return release(tx, all.map((r) => r.blob_id).filter((id) => !used.has(id)));
      },
    });
  }

  async abort(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.get(bucket, key, uploadId);
    let freed: string[] = [];
    await this.ctx.db.transaction().execute(async (tx) => {
      const parts = await tx.selectFrom('parts').select('blob_id').where('upload_id', '=', uploadId).execute();
      await tx.deleteFrom('parts').where('upload_id', '=', uploadId).execute();
      await tx.deleteFrom('uploads').where('upload_id', '=', uploadId).execute();
      freed = await release(tx, parts.map((p) => p.blob_id));
    });
    await removeFreed(this.ctx.blobs, this.ctx.leases, freed);
  }

  /** ListMultipartUploads, ordered by key then upload id, with prefix/delimiter roll-up. */
  async list(bucket: string, q: { prefix: string; delimiter: string; keyMarker: string; uploadIdMarker: string; maxUploads: number }): Promise<UploadListing> {
    const b = await this.ctx.db.selectFrom('buckets').select('name').where('name', '=', bucket).executeTakeFirst();
    if (!b) fail('NoSuchBucket', undefined, { BucketName: bucket });
    let sel = this.ctx.db.selectFrom('uploads').selectAll().where('bucket', '=', bucket);
    if (q.prefix) sel = sel.where('key', '>=', q.prefix).where('key', '<', prefixSuccessor(q.prefix));
    if (q.keyMarker) {
      sel = q.uploadIdMarker
        ? sel.where((eb) => eb.or([eb('key', '>', q.keyMarker), eb.and([eb('key', '=', q.keyMarker), eb('upload_id', '>', q.uploadIdMarker)])]))
        : sel.where('key', '>', q.keyMarker);
    }
    const rows = await sel.orderBy('key').orderBy('upload_id').execute();
    const uploads: UploadRecord[] = [];
    const commonPrefixes: string[] = [];
    let count = 0;
    let isTruncated = false;
    let nextKeyMarker = '';
    let nextUploadIdMarker = '';
    for (const row of rows) {
      const at = q.delimiter ? row.key.indexOf(q.delimiter, q.prefix.length) : -1;
      const cp = at >= 0 ? row.key.slice(0, at + q.delimiter.length) : undefined;
      if (cp !== undefined && commonPrefixes.at(-1) === cp) continue;
      if (count === q.maxUploads) {
        isTruncated = true;
        break;
      }
      count++;
      if (cp !== undefined) {
        commonPrefixes.push(cp);
        nextKeyMarker = cp;
        nextUploadIdMarker = '';
      } else {
        uploads.push(toUpload(row));
        nextKeyMarker = row.key;
        nextUploadIdMarker = row.upload_id;
      }
    }
    return { uploads, commonPrefixes, isTruncated, nextKeyMarker, nextUploadIdMarker };
  }
}
