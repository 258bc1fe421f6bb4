/**
 * Table types for the typed query builder. Times are epoch milliseconds; JSON columns are TEXT.
 * Keys compare as UTF-8 bytes (SQLite BINARY collation; PostgreSQL needs COLLATE "C"), which is the
 * order OSS lists objects in.
 */
import type { Generated } from 'kysely';

export interface BucketTable {
  name: string;
  acl: string;
  storage_class: string;
  created_at: number;
}

/** One stored byte sequence; `refs` counts the objects and parts that point at it. */
export interface BlobTable {
  id: string;
  size: number;
  refs: number;
  created_at: number;
}

export interface ObjectTable {
  id: Generated<number>;
  bucket: string;
  key: string;
  size: number;
  etag: string;
  /** Unsigned decimal CRC-64/XZ of the whole object. */
  crc64: string;
  content_type: string;
  /** JSON: standard content headers (cache-control, content-disposition, content-encoding, expires, content-language). */
  headers: string;
  /** JSON: x-oss-meta-* headers, lowercase names. */
  meta: string;
  acl: string;
  object_type: string;
  storage_class: string;
  last_modified: number;
  /** JSON: [[blobId, length], ...] — the object's bytes are the blobs' bytes in order. */
  segments: string;
}

export interface UploadTable {
  upload_id: string;
  bucket: string;
  key: string;
  initiated: number;
  content_type: string;
  headers: string;
  meta: string;
  acl: string;
  storage_class: string;
}

export interface PartTable {
  upload_id: string;
  part_number: number;
  blob_id: string;
  size: number;
  etag: string;
  crc64: string;
  last_modified: number;
}

export interface Database {
  buckets: BucketTable;
  blobs: BlobTable;
  objects: ObjectTable;
  uploads: UploadTable;
  parts: PartTable;
}
