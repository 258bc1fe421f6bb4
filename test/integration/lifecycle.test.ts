/**
 * The server as a process: start-up banner and generated keys, health, persistence across restarts,
 * configuration errors, and graceful shutdown letting an in-flight upload finish.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../support/server.js';
import { rawRequest, signedHeaders } from '../support/raw-client.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

test('without configured keys, a key pair is generated once, printed, kept 0600 and reused', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'medley-keys-'));
  try {
    const env = { MEDLEY_ACCESS_KEY_ID: '', MEDLEY_ACCESS_KEY_SECRET: '' };
    const first = await startServer({ dataDir, env });
    const saved = JSON.parse(await readFile(join(dataDir, 'credentials.json'), 'utf8')) as { accessKeyId: string; accessKeySecret: string };
    assert.match(saved.accessKeyId, /^LTAI[A-Za-z0-9]{20}$/);
    assert.ok(saved.accessKeySecret.length >= 30);
    assert.equal((await stat(join(dataDir, 'credentials.json'))).mode & 0o777, 0o600);
    assert.match(first.output(), new RegExp(`AccessKeyId ${saved.accessKeyId}`));
    assert.match(first.output(), new RegExp(`AccessKeySecret ${saved.accessKeySecret}`));
    assert.match(first.output(), new RegExp(`data dir ${dataDir}`));
    const auth = { id: saved.accessKeyId, secret: saved.accessKeySecret };
    assert.equal((await rawRequest(first.url, { method: 'PUT', bucket: 'persist', auth })).status, 200);
    assert.equal((await rawRequest(first.url, { method: 'PUT', bucket: 'persist', key: 'k', body: 'survives restarts', auth })).status, 200);
    await first.stop();

    const second = await startServer({ dataDir, env });
    assert.match(second.output(), new RegExp(`AccessKeyId ${saved.accessKeyId}`));
    const got = await rawRequest(second.url, { method: 'GET', bucket: 'persist', key: 'k', auth });
    assert.equal(got.text, 'survives restarts');
    await second.stop();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('health answers 200 JSON; the version and engine only to the root key', async () => {
  const s = await startServer();
  try {
    // Anonymous callers learn that the server is ready, nothing about its software.
    const anon = await fetch(`${s.url}/-/health`);
    assert.equal(anon.status, 200);
    assert.deepEqual(await anon.json(), { status: 'ok' });
    const r = await rawRequest(s.url, { method: 'GET', bucket: '-', key: 'health', auth: { id: s.keyId, secret: s.secret } });
    assert.equal(r.status, 200);
    const body = JSON.parse(r.text) as { status: string; version: string; engine: { version: string; encoders: string[] } | null };
    assert.equal(body.status, 'ok');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.ok(body.engine, 'the media engine is reported');
    assert.match(body.engine.version, /\S/);
    for (const e of ['libmp3lame', 'aac', 'libx264', 'libopus']) assert.ok(body.engine.encoders.includes(e), `encoder ${e}`);
  } finally {
    await s.dispose();
  }
});

test('medley doctor reports the engine and every encoder Medley needs', () => {
  const r = spawnSync(process.execPath, [MAIN, 'doctor'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, MEDLEY_FFMPEG: '', MEDLEY_FFPROBE: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Preferred engine/);
  assert.match(r.stdout, /^Medley \d+\.\d+\.\d+ on Node\.js v\d+/m);
  assert.match(r.stdout, /^Data volume \(.+\): .+ free of .+; reserve 1GiB = 1\.0 GiB: writes accepted$/m);
  const full = spawnSync(process.execPath, [MAIN, 'doctor', '--json', '--min-free-disk', '99.99%'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, MEDLEY_FFMPEG: '', MEDLEY_FFPROBE: '' } });
  const report = JSON.parse(full.stdout) as { node: string; disk: { writable: boolean; freeBytes: number } };
  assert.equal(report.node, process.version);
  assert.equal(report.disk.writable, false, 'a reserve above the free space is reported');
  for (const codec of ['mp3', 'aac', 'flac', 'vorbis', 'ac3', 'opus', 'h264', 'h265', 'vp9']) assert.match(r.stdout, new RegExp(`ok +${codec} `));
  const missing = spawnSync(process.execPath, [MAIN, 'doctor', '--ffmpeg', '/nonexistent/ffmpeg'], { encoding: 'utf8', timeout: 30_000 });
  assert.match(missing.stdout, /Not usable: .*nonexistent/);
});

test('invalid configuration exits with code 2 naming the variable', () => {
  const r = spawnSync(process.execPath, [MAIN, 'serve'], { env: { ...process.env, MEDLEY_PORT: 'ninety', MEDLEY_DATA_DIR: tmpdir() }, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /MEDLEY_PORT/);
  const half = spawnSync(process.execPath, [MAIN, 'serve'], { env: { ...process.env, MEDLEY_ACCESS_KEY_ID: 'LTAIonlyTheId', MEDLEY_ACCESS_KEY_SECRET: '', MEDLEY_DATA_DIR: tmpdir() }, encoding: 'utf8', timeout: 20_000 });
  assert.equal(half.status, 2);
  assert.match(half.stderr, /MEDLEY_ACCESS_KEY_ID and MEDLEY_ACCESS_KEY_SECRET/);
});

test('SIGTERM lets an in-flight upload finish, then exits 0 with the data committed', async () => {
  const s = await startServer();
  const auth = { id: s.keyId, secret: s.secret };
  try {
    assert.equal((await rawRequest(s.url, { method: 'PUT', bucket: 'graceful', auth })).status, 200);
    const size = 2 * 1024 * 1024;
    const headers = signedHeaders({ method: 'PUT', bucket: 'graceful', key: 'slow.bin', auth });
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: s.port, method: 'PUT', path: '/graceful/slow.bin', headers: { ...headers, 'Content-Length': size } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(Buffer.alloc(size / 2, 1), () => {
        // Half the body is in flight: ask the server to stop, then send the rest.
        s.process.kill('SIGTERM');
        setTimeout(() => req.end(Buffer.alloc(size / 2, 2)), 300);
      });
    });
    assert.equal(status, 200);
    const code = await new Promise<number | null>((resolve) => (s.process.exitCode !== null ? resolve(s.process.exitCode) : s.process.once('exit', (c) => resolve(c))));
    assert.equal(code, 0);
    const again = await startServer({ dataDir: s.dataDir });
    try {
      const got = await rawRequest(again.url, { method: 'GET', bucket: 'graceful', key: 'slow.bin', auth });
      assert.equal(got.body.length, size);
      assert.equal(got.body[0], 1);
      assert.equal(got.body[size - 1], 2);
    } finally {
      await again.stop();
    }
  } finally {
    await s.dispose();
  }
});
