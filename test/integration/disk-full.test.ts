/**
 * A full disk, for real: the server's data directory is on a 32 MiB tmpfs (mounting needs root; without it
 * only the reserve's refusal is checked, with a reserve above the real free space). Below the free-disk
 * reserve, writes, media tasks and MNS sends are 503 naming the shortage while reads keep working, and
 * writes come back by themselves once space is freed. A PUT bigger than the space left runs into ENOSPC
 * mid-stream: 503 (not 500), and the previous version is intact.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, rmdir, statfs, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EMBEDDED_BACKEND } from '../support/backend.js';
import { startServer, type TestServer } from '../support/server.js';
import { pathFor, rawRequest, signedHeaders, xmlTag, type RawRequest } from '../support/raw-client.js';
import { mnsClient, rawMns, type MnsClient } from '../support/mns.js';
import { b64, popClient } from '../support/tasks.js';
import { sampleValue } from '../support/metrics.js';

const MiB = 1024 * 1024;
const TOKEN = 'disk-full-metrics-token-01';
const BUCKET = 'full-bucket';
const RESERVE_MESSAGE = /^Free disk space \d+\.\d MiB is below the reserve of 6\.0 MiB \(MEDLEY_MIN_FREE_DISK\)/;

/** Mounts a tmpfs of `mib` MiB at a fresh directory; undefined when this machine does not allow it. */
function mountTmpfs(dir: string, mib: number): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', dir], { stdio: 'ignore' }).status === 0;
}

/** PUT of `size` bytes streamed in 1 MiB chunks; the server may answer and close before it has read them all. */
function putLarge(baseUrl: string, auth: { id: string; secret: string }, bucket: string, key: string, size: number): Promise<{ status: number; text: string }> {
  const url = new URL(baseUrl);
  const headers = signedHeaders({ method: 'PUT', bucket, key, auth });
  headers['Content-Length'] = String(size);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request({ host: url.hostname, port: url.port, method: 'PUT', path: pathFor(bucket, key), headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (!(answered && (e.code === 'EPIPE' || e.code === 'ECONNRESET'))) reject(e);
    });
    const chunk = Buffer.alloc(MiB, 0x61);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** Retries `attempt` until `done` holds (the server samples free space about once a second). */
async function eventually<T>(attempt: () => Promise<T>, done: (r: T) => boolean, what: string, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await attempt();
    if (done(r)) return r;
    if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify(r).slice(0, 400)} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

const assert503 = (r: { status: number; text: string }, message: RegExp) => {
  assert.equal(r.status, 503, r.text);
  assert.equal(xmlTag(r.text, 'Code'), 'ServiceUnavailable', r.text);
  assert.match(xmlTag(r.text, 'Message') ?? '', message);
};

let mountDir: string;
let mounted = false;

before(async () => {
  mountDir = await mkdtemp(join(tmpdir(), 'medley-tmpfs-'));
  mounted = mountTmpfs(mountDir, 32);
});

after(async () => {
  if (mounted) spawnSync('umount', [mountDir], { stdio: 'ignore' });
  await rmdir(mountDir).catch(() => rm(mountDir, { recursive: true, force: true }));
});

describe('on a 32 MiB tmpfs with a 6 MiB reserve', () => {
  let server: TestServer;
  let auth: { id: string; secret: string };
  let mns: MnsClient;
  const send = (r: RawRequest) => rawRequest(server.url, { auth, ...r });
  const filler = () => join(mountDir, 'filler');

  before(async () => {
    if (!mounted) return;
    const dataDir = join(mountDir, 'data');
    await mkdir(dataDir);
    server = await startServer({ dataDir, env: { ...EMBEDDED_BACKEND, MEDLEY_MIN_FREE_DISK: '6MiB', MEDLEY_WORKERS: '0', MEDLEY_METRICS_TOKEN: TOKEN } });
    auth = { id: server.keyId, secret: server.secret };
    mns = mnsClient(server);
    assert.equal((await send({ method: 'PUT', bucket: BUCKET })).status, 200);
    assert.equal((await send({ method: 'PUT', bucket: BUCKET, key: 'keep.txt', body: 'version one' })).status, 200);
    await mns.createQueue('full-queue');
  });

  after(async () => {
    await server?.stop();
    await rm(filler(), { force: true });
  });

  test('below the reserve: writes, tasks and sends are 503 naming the shortage; reads work; then it recovers', async (t) => {
    if (!mounted) return t.skip('mounting a tmpfs needs root');
    const s = await statfs(mountDir);
    await writeFile(filler(), Buffer.alloc(s.bavail * s.bsize - 3 * MiB));

    const refused = await eventually(() => send({ method: 'PUT', bucket: BUCKET, key: 'probe.txt', body: 'x' }), (r) => r.status !== 200, 'a PUT below the reserve');
    assert503(refused, RESERVE_MESSAGE);
    assert503(await send({ method: 'PUT', bucket: BUCKET, key: 'keep.txt', body: 'version two' }), RESERVE_MESSAGE);
    assert503(await send({ method: 'POST', bucket: BUCKET, key: 'keep.txt', query: { append: '', position: '0' }, body: 'x' }), RESERVE_MESSAGE);
    assert503(await send({ method: 'POST', bucket: BUCKET, key: 'big.bin', query: { uploads: '' } }), RESERVE_MESSAGE);
    assert503(await send({ method: 'PUT', bucket: BUCKET, key: 'copy.txt', headers: { 'x-oss-copy-source': `/${BUCKET}/keep.txt` } }), RESERVE_MESSAGE);
    const task = await send({ method: 'POST', bucket: BUCKET, key: 'keep.txt', query: { 'x-oss-async-process': '' }, body: `x-oss-async-process=audio/convert,f_mp3|sys/saveas,o_${b64('out.mp3')}` });
    assert.equal(task.status, 503, task.text);
    assert.match(task.text, /below the reserve/);

    // IMM answers in its JSON envelope, MNS in its XML, both 503 ServiceUnavailable.
    const imm = popClient({ url: server.url, keyId: server.keyId, secret: server.secret });
    await assert.rejects(
      imm.call('CreateMediaConvertTask', { ProjectName: 'medley-default', Sources: JSON.stringify([{ URI: `oss://${BUCKET}/keep.txt` }]), Targets: JSON.stringify([{ URI: `oss://${BUCKET}/out.{autoext}`, Container: 'mp3' }]) }),
      (e: { code?: string; entry?: { response?: { statusCode?: number } }; message?: string }) => e.code === 'ServiceUnavailable' && e.entry?.response?.statusCode === 503 && /below the reserve/.test(e.message ?? ''),
    );
    const sendMsg = await rawMns(server, mns, 'POST', '/queues/full-queue/messages', { body: '<?xml version="1.0" encoding="UTF-8"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/"><MessageBody>hi</MessageBody></Message>' });
    assert.equal(sendMsg.status, 503, sendMsg.body);
    assert.equal(xmlTag(sendMsg.body, 'Code'), 'ServiceUnavailable');

    // Reads (and receiving, deleting) keep working.
    const got = await send({ method: 'GET', bucket: BUCKET, key: 'keep.txt' });
    assert.equal(got.status, 200);
    assert.equal(got.text, 'version one');
    assert.equal((await send({ method: 'GET', bucket: BUCKET })).status, 200);
    assert.equal((await rawMns(server, mns, 'GET', '/queues/full-queue/messages?waitseconds=0')).status, 404, 'an empty queue answers MessageNotExist');
    const anon = await fetch(`${server.url}/-/health`);
    assert.equal(anon.status, 200);
    const health = (await (await fetch(`${server.url}/-/health`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as { disk: { writable: boolean; reserveBytes: number } };
    assert.equal(health.disk.writable, false);
    assert.equal(health.disk.reserveBytes, 6 * MiB);
    const metrics = await (await fetch(`${server.url}/-/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
    assert.ok(sampleValue(metrics, 'medley_limit_refusals_total', { limit: 'min_free_disk' }) >= 8, 'every refusal is counted');
    assert.ok(sampleValue(metrics, 'medley_disk_free_bytes') < 6 * MiB);

    // Space comes back: writes are accepted again within a sample or two, without a restart.
    await rm(filler());
    await eventually(() => send({ method: 'PUT', bucket: BUCKET, key: 'keep.txt', body: 'version two' }), (r) => r.status === 200, 'a PUT after space returned');
    assert.equal((await send({ method: 'GET', bucket: BUCKET, key: 'keep.txt' })).text, 'version two');
  });

  test('a PUT larger than the space left hits ENOSPC mid-write: 503, the previous version intact', async (t) => {
    if (!mounted) return t.skip('mounting a tmpfs needs root');
    const s = await statfs(mountDir);
    const size = s.bavail * s.bsize + 4 * MiB;
    const r = await putLarge(server.url, auth, BUCKET, 'keep.txt', size);
    assert503(r, /disk holding the data directory is full: no space left on the device \(ENOSPC\)/);
    const got = await send({ method: 'GET', bucket: BUCKET, key: 'keep.txt' });
    assert.equal(got.status, 200);
    assert.equal(got.text, 'version two');
    // The partial blob was removed: the space is back and writes work.
    await eventually(() => send({ method: 'PUT', bucket: BUCKET, key: 'after.txt', body: 'fine' }), (x) => x.status === 200, 'a PUT after ENOSPC');
    assert.match(server.output(), /^(?![\s\S]*unexpected error)/, 'no internal error was logged');
  });
});

describe('without a tmpfs: a reserve above the free space', () => {
  test('refuses writes with 503 naming the reserve, and still answers reads', async (t) => {
    if (mounted) return t.skip('covered on the tmpfs');
    const server = await startServer({ env: { ...EMBEDDED_BACKEND, MEDLEY_MIN_FREE_DISK: '99.99%', MEDLEY_WORKERS: '0' } });
    try {
      const auth = { id: server.keyId, secret: server.secret };
      const r = await rawRequest(server.url, { method: 'PUT', bucket: 'nope', auth });
      assert503(r, /below the reserve of 99\.99% of the volume .* \(MEDLEY_MIN_FREE_DISK\)/);
      assert.equal((await rawRequest(server.url, { method: 'GET', auth })).status, 200, 'ListBuckets still works');
    } finally {
      await server.dispose();
    }
  });
});
