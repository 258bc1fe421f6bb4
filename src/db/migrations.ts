/**
 * Schema migrations, run at start in order. Each is written with the query builder's schema API so the
 * same code path serves SQLite and (later) PostgreSQL. Never edit a shipped migration: add a new one.
 */
import type { Kysely, Migration } from 'kysely';

export const migrations: Record<string, Migration> = {
  '0001_storage': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('buckets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('acl', 'text', (c) => c.notNull())
        .addColumn('storage_class', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('blobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('refs', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('blobs_unreferenced').on('blobs').column('refs').execute();
      await db.schema
        .createTable('objects')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('etag', 'text', (c) => c.notNull())
        .addColumn('crc64', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('meta', 'text', (c) => c.notNull())
        .addColumn('acl', 'text', (c) => c.notNull())
        .addColumn('object_type', 'text', (c) => c.notNull())
        .addColumn('storage_class', 'text', (c) => c.notNull())
        .addColumn('last_modified', 'bigint', (c) => c.notNull())
        .addColumn('segments', 'text', (c) => c.notNull())
        .addUniqueConstraint('objects_bucket_key', ['bucket', 'key'])
        .execute();
      await db.schema
        .createTable('uploads')
        .addColumn('upload_id', 'text', (c) => c.primaryKey())
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('initiated', 'bigint', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('meta', 'text', (c) => c.notNull())
        .addColumn('acl', 'text', (c) => c.notNull())
        .addColumn('storage_class', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uploads_bucket_key').on('uploads').columns(['bucket', 'key', 'upload_id']).execute();
      await db.schema
        .createTable('parts')
        .addColumn('upload_id', 'text', (c) => c.notNull())
        .addColumn('part_number', 'integer', (c) => c.notNull())
        .addColumn('blob_id', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('etag', 'text', (c) => c.notNull())
        .addColumn('crc64', 'text', (c) => c.notNull())
        .addColumn('last_modified', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('parts_pk', ['upload_id', 'part_number'])
        .execute();
    },
  },
};
