/** Buckets: create, read, list, ACL and delete. */
import { fail } from '../errors.js';
import { toBucket, type BucketAcl, type BucketRecord, type StorageContext } from './records.js';
import { prepared } from '../db/prepared.js';

/** The bucket lookup of every bucket and object request, compiled once (db/prepared.ts). */
export const bucketByName = prepared(1, (db, name: string) => db.selectFrom('buckets').selectAll().where('name', '=', name));

export interface BucketListing {
  buckets: BucketRecord[];
  isTruncated: boolean;
  nextMarker?: string;
}

export class BucketService {
  constructor(private readonly ctx: StorageContext) {}

  /** Creates the bucket; re-creating an existing bucket is a no-op for its (single) owner, as on OSS. */
  async create(name: string, acl: BucketAcl, storageClass: string): Promise<{ created: boolean }> {
    const result = await this.ctx.db
      .insertInto('buckets')
      .values({ name, acl, storage_class: storageClass, created_at: this.ctx.now().getTime() })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return { created: Number(result.numInsertedOrUpdatedRows ?? 0) > 0 };
  }

  async find(name: string): Promise<BucketRecord | undefined> {
    const [row] = await bucketByName(this.ctx.db, name);
    return row ? toBucket(row) : undefined;
  }

  async get(name: string): Promise<BucketRecord> {
    return (await this.find(name)) ?? fail('NoSuchBucket', undefined, { BucketName: name });
  }

  async list(opts: { prefix: string; marker: string; maxKeys: number }): Promise<BucketListing> {
    let q = this.ctx.db.selectFrom('buckets').selectAll().where('name', '>', opts.marker);
    if (opts.prefix) q = q.where('name', '>=', opts.prefix);
    const rows = await q.orderBy('name').execute();
    const matching = rows.filter((r) => r.name.startsWith(opts.prefix));
    const page = matching.slice(0, opts.maxKeys).map(toBucket);
    const isTruncated = matching.length > opts.maxKeys;
    return { buckets: page, isTruncated, nextMarker: isTruncated ? page.at(-1)?.name : undefined };
  }

  async setAcl(name: string, acl: BucketAcl): Promise<void> {
    const r = await this.ctx.db.updateTable('buckets').set({ acl }).where('name', '=', name).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) fail('NoSuchBucket', undefined, { BucketName: name });
  }

  /** Deletes an empty bucket: no objects and no multipart uploads in progress. */
  async delete(name: string): Promise<void> {
    await this.ctx.db.transaction().execute(async (tx) => {
      const bucket = await tx.selectFrom('buckets').select('name').where('name', '=', name).executeTakeFirst();
      if (!bucket) fail('NoSuchBucket', undefined, { BucketName: name });
      const obj = await tx.selectFrom('objects').select('id').where('bucket', '=', name).limit(1).executeTakeFirst();
      const upl = await tx.selectFrom('uploads').select('upload_id').where('bucket', '=', name).limit(1).executeTakeFirst();
      if (obj || upl) fail('BucketNotEmpty', obj ? undefined : 'The bucket has multipart uploads in progress. Please abort them first.', { BucketName: name });
      await tx.deleteFrom('buckets').where('name', '=', name).execute();
    });
  }
}
