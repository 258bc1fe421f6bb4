/**
 * Inline blobs: the bytes of a small blob kept in its own `blobs` row (the `data` column) instead of the
 * blob store. A small object then costs no file at all — no create, write, fsync, close and directory
 * fsync on PUT, no open, read and close on GET: its bytes are committed in the same index transaction as
 * the object row (so with MEDLEY_FSYNC on they are durable exactly when the row is: the shared WAL sync of
 * the group commit) and read with the row's lookup. On S3 deployments a small PUT is one PostgreSQL
 * transaction instead of an S3 round trip. (MinIO inlines small objects into its metadata for the same
 * reason.) Everything above — segments, reference counts, copies sharing blobs, leases — is unchanged: an
 * inline blob is a blob whose id says where its bytes are.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/connection.js';
import { prepared } from '../db/prepared.js';

/**
 * Bodies up to this size are stored inline when their length is known up front (Content-Length). Small
 * enough that a row stays a few SQLite pages and a request buffers at most this much; large enough for
 * the bulk of small objects (manifests, thumbnails, TTS segments' metadata, JSON).
 */
export const INLINE_MAX_BYTES = 64 * 1024;

/** Inline ids are "i" + 32 hex digits: never a blob store id (32 hex), so no store is ever asked for one. */
const INLINE_ID = /^i[0-9a-f]{32}$/;

/** 122 random bits (a UUID's, drawn from Node's pooled random bytes: no system call per id). */
export const newInlineBlobId = (): string => `i${randomUUID().replaceAll('-', '')}`;

export const isInlineBlobId = (id: string): boolean => INLINE_ID.test(id);

const inlineData = prepared(1, (db, id: string) => db.selectFrom('blobs').select('data').where('id', '=', id));

/** The bytes of an inline blob, or undefined when its row is gone (the version was replaced meanwhile). */
export async function readInlineBlob(db: Db, id: string): Promise<Buffer | undefined> {
  const [row] = await inlineData(db, id);
  return row?.data ?? undefined;
}
