#!/usr/bin/env node
// The scale-out suite: the same integration tests, with object bytes in a real S3-protocol server
// (s3rver, from npm) instead of <data>/blobs. Starts it on a free loopback port with a temp dir, points
// every server the tests start at it (MEDLEY_BLOB_STORE=s3; test/support/server.ts gives each data dir
// its own prefix), runs the suite, stops it.
// Usage: node scripts/run-tests-scale.mjs [substring-filter ...]   (default: test/integration)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const S3rver = createRequire(import.meta.url)('s3rver');
const directory = mkdtempSync(join(tmpdir(), 'medley-s3-suite-'));
const bucket = 'medley-suite';
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
const { port } = await server.run();
const filters = process.argv.slice(2);
const env = {
  ...process.env,
  MEDLEY_BLOB_STORE: 's3',
  MEDLEY_S3_ENDPOINT: `http://127.0.0.1:${port}`,
  MEDLEY_S3_BUCKET: bucket,
  MEDLEY_S3_ACCESS_KEY_ID: 'S3RVER',
  MEDLEY_S3_SECRET_ACCESS_KEY: 'S3RVER',
  MEDLEY_S3_FORCE_PATH_STYLE: 'true',
};
console.log(`scale suite: blobs in s3rver at http://127.0.0.1:${port}/${bucket}`);
// The runner is asynchronous from here on: s3rver serves from this process's event loop.
const code = await new Promise((resolve) => {
  const child = spawn(process.execPath, ['scripts/run-tests.mjs', ...(filters.length ? filters : ['test/integration'])], { stdio: 'inherit', env });
  child.on('exit', (c) => resolve(c ?? 1));
});
await server.close().catch(() => undefined);
rmSync(directory, { recursive: true, force: true });
process.exit(code);
