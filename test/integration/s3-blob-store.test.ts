/**
 * Medley with MEDLEY_BLOB_STORE=s3 against a real S3-protocol server (s3rver): object bytes live in the
 * S3 bucket under generated ids (none in the data dir), reads and ranged reads stream from it, a media
 * task reads its sources from it and writes its output to it, and a store that goes away answers 503
 * ServiceUnavailable (never a 500, never a hang) while the server stays up.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../support/server.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { rawRequest, xmlTag } from '../support/raw-client.js';
import { ffprobe, tone } from '../support/media.js';
import { INLINE_MAX_BYTES } from '../../src/storage/inline-blobs.js';

let s3: TestS3;
let server: TestServer;
let auth: { id: string; secret: string };
const PREFIX = 'medley/blobs/';

async function s3Keys(): Promise<string[]> {
  const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  const r = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
  client.destroy();
  return (r.Contents ?? []).map((o) => o.Key ?? '');
}

before(async () => {
  s3 = await startS3();
  server = await startServer({
    env: {
      MEDLEY_BLOB_STORE: 's3',
      MEDLEY_S3_ENDPOINT: s3.endpoint,
      MEDLEY_S3_BUCKET: s3.bucket,
      MEDLEY_S3_PREFIX: PREFIX,
      MEDLEY_S3_ACCESS_KEY_ID: s3.accessKeyId,
      MEDLEY_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      MEDLEY_WORKERS: '1',
    },
  });
  auth = { id: server.keyId, secret: server.secret };
  assert.equal((await rawRequest(server.url, { method: 'PUT', bucket: 's3b', auth })).status, 200);
});

after(async () => {
  await server?.dispose();
  await s3?.stop();
});

test('a PUT stores its bytes in the S3 bucket under a generated id, not in the data dir', async () => {
  const body = randomBytes(300_000);
  const put = await rawRequest(server.url, { method: 'PUT', bucket: 's3b', key: 'dir/a b.bin', body, auth });
  assert.equal(put.status, 200);
  assert.equal(put.headers.etag, `"${createHash('md5').update(body).digest('hex').toUpperCase()}"`);
  const keys = await s3Keys();
  assert.ok(keys.length >= 1 && keys.every((k) => /^medley\/blobs\/[0-9a-f]{32}$/.test(k)), `S3 keys: ${keys.join(', ')}`);
  assert.ok(!existsSync(join(server.dataDir, 'blobs')), 'no local blobs directory');

  const get = await rawRequest(server.url, { method: 'GET', bucket: 's3b', key: 'dir/a b.bin', auth });
  assert.equal(get.status, 200);
  assert.deepEqual(get.body, body);
  const range = await rawRequest(server.url, { method: 'GET', bucket: 's3b', key: 'dir/a b.bin', headers: { Range: 'bytes=1000-1999' }, auth });
  assert.equal(range.status, 206);
  assert.deepEqual(range.body, body.subarray(1000, 2000));
});

test('a copy shares the blob (no second S3 object); deleting both removes it', async () => {
  const before = (await s3Keys()).length;
  const copy = await rawRequest(server.url, { method: 'PUT', bucket: 's3b', key: 'copy.bin', headers: { 'x-oss-copy-source': '/s3b/dir/a%20b.bin' }, auth });
  assert.equal(copy.status, 200, copy.text);
  assert.equal((await s3Keys()).length, before);
  assert.equal((await rawRequest(server.url, { method: 'DELETE', bucket: 's3b', key: 'copy.bin', auth })).status, 204);
  assert.equal((await rawRequest(server.url, { method: 'DELETE', bucket: 's3b', key: 'dir/a b.bin', auth })).status, 204);
  for (let i = 0; i < 50 && (await s3Keys()).length >= before; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal((await s3Keys()).length, before - 1);
});

test('a media task reads its source from S3 and commits its output there', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medley-s3-media-'));
  try {
    const wav = tone(join(dir, 'src.wav'), 440, 1);
    assert.equal((await rawRequest(server.url, { method: 'PUT', bucket: 's3b', key: 'src.wav', body: readFileSync(wav), auth })).status, 200);
    const saveas = Buffer.from('out.mp3').toString('base64url');
    const r = await rawRequest(server.url, { method: 'POST', bucket: 's3b', key: 'src.wav', query: { 'x-oss-async-process': '' }, body: `x-oss-async-process=audio/convert,f_mp3,ab_64000|sys/saveas,o_${saveas}`, auth });
    assert.equal(r.status, 200, r.text);
    let got;
    for (let i = 0; i < 200; i++) {
      got = await rawRequest(server.url, { method: 'GET', bucket: 's3b', key: 'out.mp3', auth });
      if (got.status === 200) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(got?.status, 200, 'the output object appears');
    const file = join(dir, 'out.mp3');
    (await import('node:fs')).writeFileSync(file, got!.body);
    const probe = ffprobe(file);
    assert.equal(probe.streams[0]?.codec_name, 'mp3');
    assert.ok(Math.abs(Number(probe.format.duration) - 1) < 0.1, `duration ${probe.format.duration}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('with the store gone, reads and writes answer 503 ServiceUnavailable and the server stays up', async () => {
  // Bodies over INLINE_MAX_BYTES live in the store; smaller ones are inline (in the index) and do not need it.
  const big = 'kept'.repeat(INLINE_MAX_BYTES / 2);
  assert.equal((await rawRequest(server.url, { method: 'PUT', bucket: 's3b', key: 'kept.txt', body: big, auth })).status, 200);
  assert.equal((await rawRequest(server.url, { method: 'PUT', bucket: 's3b', key: 'small.txt', body: 'inline', auth })).status, 200);
  await s3.stop();
  const get = await rawRequest(server.url, { method: 'GET', bucket: 's3b', key: 'kept.txt', auth });
  assert.equal(get.status, 503, get.text);
  assert.equal(xmlTag(get.text, 'Code'), 'ServiceUnavailable');
  assert.match(xmlTag(get.text, 'Message') ?? '', /blob [0-9a-f]{32}/);
  const put = await rawRequest(server.url, { method: 'PUT', bucket: 's3b', key: 'new.txt', body: 'x'.repeat(INLINE_MAX_BYTES + 1), auth });
  assert.equal(put.status, 503, put.text);
  const small = await rawRequest(server.url, { method: 'GET', bucket: 's3b', key: 'small.txt', auth });
  assert.equal(small.status, 200, 'an inline object is read from the index alone');
  assert.equal(small.text, 'inline');
  // The index is untouched by the failed write: the old object is still listed, the new one is not.
  const list = await rawRequest(server.url, { method: 'GET', bucket: 's3b', query: { 'list-type': '2' }, auth });
  assert.equal(list.status, 200);
  assert.match(list.text, /<Key>kept.txt<\/Key>/);
  assert.doesNotMatch(list.text, /<Key>new.txt<\/Key>/);
});
