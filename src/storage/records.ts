/** Domain records of the storage layer and their mapping from table rows. */
import type { Selectable } from 'kysely';
import type { BucketTable, ObjectTable, UploadTable, PartTable } from '../db/schema.js';
import type { Db } from '../db/connection.js';
import type { BlobStore } from './blob-store.js';
import type { ReadLeases } from './blob-refs.js';

export type BucketAcl = 'private' | 'public-read' | 'public-read-write';
export type ObjectAcl = BucketAcl | 'default';
export const BUCKET_ACLS: readonly BucketAcl[] = ['private', 'public-read', 'public-read-write'];
export const OBJECT_ACLS: readonly ObjectAcl[] = ['default', ...BUCKET_ACLS];
export const STORAGE_CLASSES = ['Standard', 'IA', 'Archive', 'ColdArchive', 'DeepColdArchive'] as const;

/** A [blobId, length] pair; an object's bytes are its segments' bytes in order. */
export type Segment = [blobId: string, length: number];

export interface BucketRecord {
  name: string;
  acl: BucketAcl;
  storageClass: string;
  createdAt: Date;
}

/** What a writer sets on an object besides its bytes. */
export interface ObjectAttributes {
  contentType: string;
  /** Standard content headers: cache-control, content-disposition, content-encoding, content-language, expires. */
  headers: Record<string, string>;
  /** x-oss-meta-* headers with lowercase names. */
  meta: Record<string, string>;
  acl: ObjectAcl;
  storageClass: string;
}

export interface ObjectRecord extends ObjectAttributes {
  bucket: string;
  key: string;
  size: number;
  /** Uppercase hex without quotes. */
  etag: string;
  /** Unsigned decimal CRC-64/XZ. */
  crc64: string;
  objectType: 'Normal' | 'Appendable' | 'Multipart';
  lastModified: Date;
  segments: Segment[];
}

export interface UploadRecord extends ObjectAttributes {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: Date;
}

export interface PartRecord {
  partNumber: number;
  blobId: string;
  size: number;
  etag: string;
  crc64: string;
  lastModified: Date;
}

/** What every storage service works with. */
export interface StorageContext {
  db: Db;
  blobs: BlobStore;
  now: () => Date;
  maxObjectBytes: number;
  leases: ReadLeases;
}

export function toBucket(r: Selectable<BucketTable>): BucketRecord {
  return { name: r.name, acl: r.acl as BucketAcl, storageClass: r.storage_class, createdAt: new Date(Number(r.created_at)) };
}

export function toObject(r: Selectable<ObjectTable>): ObjectRecord {
  return {
    bucket: r.bucket,
    key: r.key,
    size: Number(r.size),
    etag: r.etag,
    crc64: r.crc64,
    contentType: r.content_type,
    headers: JSON.parse(r.headers) as Record<string, string>,
    meta: JSON.parse(r.meta) as Record<string, string>,
    acl: r.acl as ObjectAcl,
    objectType: r.object_type as ObjectRecord['objectType'],
    storageClass: r.storage_class,
    lastModified: new Date(Number(r.last_modified)),
    segments: JSON.parse(r.segments) as Segment[],
  };
}

export function toUpload(r: Selectable<UploadTable>): UploadRecord {
  return {
    uploadId: r.upload_id,
    bucket: r.bucket,
    key: r.key,
    initiated: new Date(Number(r.initiated)),
    contentType: r.content_type,
    headers: JSON.parse(r.headers) as Record<string, string>,
    meta: JSON.parse(r.meta) as Record<string, string>,
    acl: r.acl as ObjectAcl,
    storageClass: r.storage_class,
  };
}

export function toPart(r: Selectable<PartTable>): PartRecord {
  return {
    partNumber: r.part_number,
    blobId: r.blob_id,
    size: Number(r.size),
    etag: r.etag,
    crc64: r.crc64,
    lastModified: new Date(Number(r.last_modified)),
  };
}

export function attributeColumns(a: ObjectAttributes) {
  return {
    content_type: a.contentType,
    headers: JSON.stringify(a.headers),
    meta: JSON.stringify(a.meta),
    acl: a.acl,
    storage_class: a.storageClass,
  };
}
