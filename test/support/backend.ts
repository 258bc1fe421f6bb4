/**
 * Which database and blob store the servers of this test run use, and read-only inspection of them
 * for tests that check what a crash or a refused write left behind. `npm test` runs on the embedded
 * default (SQLite file + <data>/blobs); `npm run test:scale` sets MEDLEY_TEST_PG_ADMIN_URL (PostgreSQL)
 * and MEDLEY_BLOB_STORE=s3 (s3rver), and every data dir gets its own database and blob prefix.
 */
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createDatabaseIfMissing } from './postgres.js';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

/** The per-data-dir name of its database and blob prefix in the scale suite. */
function nameOf(dataDir: string): string {
  return basename(dataDir).toLowerCase().replace(/[^a-z0-9]/g, '_');
}

function pgUrl(dataDir: string): string | undefined {
  const admin = process.env.MEDLEY_TEST_PG_ADMIN_URL;
  if (!admin) return undefined;
  const url = new URL(admin);
  url.pathname = `/${nameOf(dataDir)}`;
  return url.toString();
}

/** Environment for a server or worker on `dataDir`: its own database and blob prefix under the scale suite. */
export async function backendEnv(dataDir: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  const name = nameOf(dataDir);
  if (process.env.MEDLEY_BLOB_STORE === 's3') env.MEDLEY_S3_PREFIX = `t/${name}/`;
  const admin = process.env.MEDLEY_TEST_PG_ADMIN_URL;
  if (admin) {
    await createDatabaseIfMissing(admin, name);
    env.MEDLEY_DATABASE_URL = pgUrl(dataDir)!;
  }
  return env;
}

/** Runs a read-only query (`?` placeholders) against the database of `dataDir`. */
export async function queryRows<T>(dataDir: string, query: string, params: unknown[] = []): Promise<T[]> {
  const url = pgUrl(dataDir);
  if (url) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      let i = 0;
      const r = await c.query(query.replace(/\?/g, () => `$${++i}`), params);
      return r.rows as T[];
    } finally {
      await c.end();
    }
  }
  const db = new Database(join(dataDir, 'medley.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(query).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** How many blobs the store of `dataDir` holds (files under blobs/, or objects under its S3 prefix). */
export async function blobCount(dataDir: string): Promise<number> {
  if (process.env.MEDLEY_BLOB_STORE === 's3') {
    const client = new S3Client({
      endpoint: process.env.MEDLEY_S3_ENDPOINT,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: process.env.MEDLEY_S3_ACCESS_KEY_ID ?? '', secretAccessKey: process.env.MEDLEY_S3_SECRET_ACCESS_KEY ?? '' },
    });
    try {
      let n = 0;
      let token: string | undefined;
      do {
        const r = await client.send(new ListObjectsV2Command({ Bucket: process.env.MEDLEY_S3_BUCKET, Prefix: `t/${nameOf(dataDir)}/`, ContinuationToken: token }));
        n += r.KeyCount ?? 0;
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return n;
    } finally {
      client.destroy();
    }
  }
  let n = 0;
  const root = join(dataDir, 'blobs');
  for (const a of await readdir(root)) for (const b of await readdir(join(root, a))) n += (await readdir(join(root, a, b))).length;
  return n;
}

/**
 * A fresh database for a repository test: a SQLite file in `dir` on the embedded default, or a new
 * PostgreSQL database (named after `dir`) under the scale-out suite, so the same repository tests run on
 * both dialects.
 */
export async function openTestDatabase(dir: string, opts: { durable?: boolean } = {}): Promise<import('../../src/db/connection.js').Db> {
  const { openDatabase } = await import('../../src/db/connection.js');
  if (process.env.MEDLEY_TEST_PG_ADMIN_URL) {
    const env = await backendEnv(dir);
    return openDatabase(env.MEDLEY_DATABASE_URL!, { poolSize: 4 });
  }
  return openDatabase(join(dir, 'medley.db'), opts);
}

/**
 * Environment that pins a server to the embedded backend (SQLite file + <data>/blobs) even under the
 * scale-out suite, for tests about the embedded backend's own files (a full disk under the data dir,
 * the blob files FFmpeg must not reach).
 */
export const EMBEDDED_BACKEND: Readonly<Record<string, string>> = Object.freeze({ MEDLEY_BLOB_STORE: 'fs', MEDLEY_DATABASE_URL: '' });
