/**
 * Operating Medley, against the real server: /-/health tells anonymous callers only that it is ready and
 * the root key (or the metrics token) the details; /-/metrics is Prometheus text for the root key or the
 * token only, and its counters follow the traffic of all three APIs; XML bodies with a DTD are 400.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../support/server.js';
import { rawRequest, xmlTag, type RawRequest } from '../support/raw-client.js';
import { mnsClient, rawMns, type MnsClient } from '../support/mns.js';
import { b64, popClient, waitForTask } from '../support/tasks.js';
import { tone } from '../support/media.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleValue, samples } from '../support/metrics.js';

const TOKEN = 'metrics-token-0123456789';
const BUCKET = 'ops-bucket';
const DTD = '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n';

let server: TestServer;
let auth: { id: string; secret: string };
let mns: MnsClient;
const send = (r: RawRequest) => rawRequest(server.url, r);

async function scrape(how: 'token' | 'root' = 'token'): Promise<string> {
  const r =
    how === 'token'
      ? await fetch(`${server.url}/-/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } }).then(async (x) => ({ status: x.status, text: await x.text(), type: x.headers.get('content-type') }))
      : await send({ method: 'GET', bucket: '-', key: 'metrics', auth }).then((x) => ({ status: x.status, text: x.text, type: x.headers['content-type'] as string }));
  assert.equal(r.status, 200, r.text);
  assert.match(r.type ?? '', /^text\/plain; version=0\.0\.4/);
  return r.text;
}

before(async () => {
  server = await startServer({ env: { MEDLEY_METRICS_TOKEN: TOKEN, MEDLEY_WORKERS: '1' } });
  auth = { id: server.keyId, secret: server.secret };
  mns = mnsClient(server);
  assert.equal((await send({ method: 'PUT', bucket: BUCKET, auth })).status, 200);
  await mns.createQueue('ops-queue');
});

after(async () => {
  await server?.dispose();
});

describe('/-/health', () => {
  test('anonymous: only the status, for GET and HEAD', async () => {
    const r = await fetch(`${server.url}/-/health`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { status: 'ok' });
    assert.equal((await fetch(`${server.url}/-/health`, { method: 'HEAD' })).status, 200);
    // A wrong token or a key that is not the root's is anonymous here.
    const wrong = await fetch(`${server.url}/-/health`, { headers: { Authorization: 'Bearer not-the-token-at-all' } });
    assert.deepEqual(await wrong.json(), { status: 'ok' });
  });

  test('the metrics token and the root key get the engine, versions, workers and disk', async () => {
    const byToken = (await (await fetch(`${server.url}/-/health`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as Record<string, unknown>;
    const byRoot = JSON.parse((await send({ method: 'GET', bucket: '-', key: 'health', auth })).text) as Record<string, unknown>;
    for (const body of [byToken, byRoot]) {
      assert.equal(body.status, 'ok');
      assert.match(String(body.version), /^\d+\.\d+\.\d+/);
      assert.equal(body.node, process.version);
      assert.equal(body.workers, 1);
      const disk = body.disk as { freeBytes: number; totalBytes: number; reserveBytes: number; writable: boolean };
      assert.ok(disk.freeBytes > 0 && disk.totalBytes >= disk.freeBytes);
      assert.equal(disk.reserveBytes, 1024 ** 3, 'the default reserve is 1 GiB');
      assert.equal(typeof disk.writable, 'boolean');
      assert.ok((body.engine as { version: string } | null)?.version);
    }
  });
});

describe('/-/metrics', () => {
  test('anonymous, a wrong token, and a wrongly signed request are 403', async () => {
    assert.equal((await fetch(`${server.url}/-/metrics`)).status, 403);
    assert.equal((await fetch(`${server.url}/-/metrics`, { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status, 403);
    assert.equal((await send({ method: 'GET', bucket: '-', key: 'metrics', auth: { id: auth.id, secret: 'not-the-secret-0000000000000000' } })).status, 403);
  });

  test('the token and a root-signed request both read it', async () => {
    const a = await scrape('token');
    const b = await scrape('root');
    for (const text of [a, b]) {
      assert.match(text, /^# HELP medley_http_requests_total /m);
      assert.ok(sampleValue(text, 'medley_disk_free_bytes') > 0);
      assert.equal(sampleValue(text, 'medley_disk_reserve_bytes'), 1024 ** 3);
      assert.equal(samples(text, 'medley_tasks').length, 4, 'queued, running, succeeded, failed');
    }
  });

  test('a media task moves the task gauges and the FFmpeg histogram', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'medley-ops-media-'));
    try {
      const wav = await readFile(tone(join(dir, 'a.wav'), 440, 1, ['-ac', '1']));
      assert.equal((await send({ method: 'PUT', bucket: BUCKET, key: 'a.wav', body: wav, auth })).status, 200);
      const before = await scrape();
      const r = await send({ method: 'POST', bucket: BUCKET, key: 'a.wav', query: { 'x-oss-async-process': '' }, body: `x-oss-async-process=audio/convert,f_mp3|sys/saveas,o_${b64('a.mp3')}`, auth });
      assert.equal(r.status, 200, r.text);
      const { TaskId } = JSON.parse(r.text) as { TaskId: string };
      const done = await waitForTask(popClient({ url: server.url, keyId: server.keyId, secret: server.secret }), 'medley-default', TaskId);
      assert.equal(done.Status, 'Succeeded');
      const after = await scrape();
      assert.equal(sampleValue(after, 'medley_tasks', { state: 'succeeded' }) - sampleValue(before, 'medley_tasks', { state: 'succeeded' }), 1);
      assert.ok(sampleValue(after, 'medley_ffmpeg_run_seconds_count', { outcome: 'ok' }) > sampleValue(before, 'medley_ffmpeg_run_seconds_count', { outcome: 'ok' }));
      assert.ok(sampleValue(after, 'medley_ffmpeg_run_seconds_sum', { outcome: 'ok' }) > 0);
      // The phase timings are recorded once the work directory is gone, just after Succeeded is visible.
      let phases = after;
      for (let i = 0; i < 50 && !(sampleValue(phases, 'medley_task_phase_seconds_count', { phase: 'commit' }) > sampleValue(before, 'medley_task_phase_seconds_count', { phase: 'commit' })); i++) {
        await new Promise((r) => setTimeout(r, 100));
        phases = await scrape();
      }
      for (const phase of ['setup', 'inputs', 'ffmpeg', 'outputs', 'commit', 'cleanup']) {
        assert.equal(sampleValue(phases, 'medley_task_phase_seconds_count', { phase }) - sampleValue(before, 'medley_task_phase_seconds_count', { phase }), 1, phase);
      }
      assert.equal(sampleValue(after, 'medley_http_requests_total', { api: 'oss', operation: 'AsyncProcessObject', status: '200' }), 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('requests, latency and bytes follow OSS, IMM and MNS traffic', async () => {
    const before = await scrape();
    const body = Buffer.alloc(10_000, 7);
    for (let i = 0; i < 3; i++) assert.equal((await send({ method: 'PUT', bucket: BUCKET, key: `m${i}.bin`, body, auth })).status, 200);
    assert.equal((await send({ method: 'GET', bucket: BUCKET, key: 'missing', auth })).status, 404);
    await popClient({ url: server.url, keyId: server.keyId, secret: server.secret }).call('ListProjects', {});
    assert.equal((await rawMns(server, mns, 'GET', '/queues')).status, 200);
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string>) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    assert.equal(delta('medley_http_requests_total', { api: 'oss', operation: 'PutObject', status: '200' }), 3);
    assert.equal(delta('medley_http_requests_total', { api: 'oss', operation: 'GetObject', status: '404' }), 1);
    assert.equal(delta('medley_http_requests_total', { api: 'imm', operation: 'ListProjects', status: '200' }), 1);
    assert.equal(delta('medley_http_requests_total', { api: 'mns', operation: 'listQueues', status: '200' }), 1);
    assert.equal(delta('medley_http_request_duration_seconds_count', { api: 'oss', operation: 'PutObject' }), 3);
    assert.ok(delta('medley_http_received_bytes_total', { api: 'oss', operation: 'PutObject' }) >= 3 * body.length);
    assert.ok(delta('medley_http_sent_bytes_total', { api: 'oss', operation: 'GetObject' }) > 0);
    assert.ok(delta('medley_http_requests_total', { api: 'medley', operation: '/-/metrics', status: '200' }) >= 1, 'scrapes count too');
  });
});

describe('XML bodies with a DTD are MalformedXML', () => {
  const assertMalformed = (r: { status: number; text: string }) => {
    assert.equal(r.status, 400, r.text);
    assert.equal(xmlTag(r.text, 'Code'), 'MalformedXML', r.text);
    assert.match(xmlTag(r.text, 'Message') ?? '', /DOCTYPE declarations .*not allowed/);
  };

  test('DeleteMultipleObjects', async () => {
    assertMalformed(await send({ method: 'POST', bucket: BUCKET, query: { delete: '' }, body: `${DTD}<Delete><Object><Key>&lol2;</Key></Object></Delete>`, auth }));
    assert.equal((await send({ method: 'HEAD', bucket: BUCKET, key: 'm0.bin', auth })).status, 200, 'nothing was deleted');
  });

  test('CompleteMultipartUpload', async () => {
    const init = await send({ method: 'POST', bucket: BUCKET, key: 'mp.bin', query: { uploads: '' }, auth });
    const uploadId = xmlTag(init.text, 'UploadId')!;
    const part = await send({ method: 'PUT', bucket: BUCKET, key: 'mp.bin', query: { partNumber: '1', uploadId }, body: 'part one', auth });
    const etag = String(part.headers.etag);
    assertMalformed(await send({ method: 'POST', bucket: BUCKET, key: 'mp.bin', query: { uploadId }, body: `${DTD}<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`, auth }));
    // The upload is still there and completes with a clean document.
    const ok = await send({ method: 'POST', bucket: BUCKET, key: 'mp.bin', query: { uploadId }, body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`, auth });
    assert.equal(ok.status, 200, ok.text);
  });

  test('an MNS SendMessage body', async () => {
    const r = await rawMns(server, mns, 'POST', '/queues/ops-queue/messages', { body: `${DTD}<Message xmlns="http://mns.aliyuncs.com/doc/v1/"><MessageBody>&lol2;</MessageBody></Message>` });
    assert.equal(r.status, 400, r.body);
    assert.equal(xmlTag(r.body, 'Code'), 'MalformedXML');
    assert.match(xmlTag(r.body, 'Message') ?? '', /DOCTYPE declarations .*not allowed/);
  });
});
