/**
 * The task runner under the real worker pool, over a real SQLite file, blob store and FFmpeg: how a
 * source lookup that fails is judged. Only a source that does not exist is ResourceNotFound; a database
 * that is busy (SQLITE_BUSY) is contention, and the task is handed back and retried, not failed for good.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import SQLite from 'better-sqlite3';
import { pino } from 'pino';
import type { Principal } from '../../src/auth/policy.js';
import { openDatabase, type Db } from '../../src/db/connection.js';
import { MediaEngine } from '../../src/media/engine/index.js';
import type { MediaJob } from '../../src/media/job.js';
import { openStorage, type Storage } from '../../src/storage/index.js';
import { TaskQueue } from '../../src/tasks/queue.js';
import type { TaskRecord } from '../../src/tasks/records.js';
import { TaskService, TaskSignal } from '../../src/tasks/service.js';
import { WorkerPool } from '../../src/tasks/worker-pool.js';
import { FFMPEG, FFPROBE, audioStream, ffprobe, tone } from '../support/media.js';

const root: Principal = { kind: 'signed', accessKeyId: 'root' };
const attrs = { contentType: 'audio/wav', headers: {}, meta: {}, acl: 'default' as const, storageClass: 'Standard' };

let dir: string;
let db: Db;
let storage: Storage;
let queue: TaskQueue;
let signal: TaskSignal;
let service: TaskService;
let engine: MediaEngine;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medley-runner-'));
  // The work root exists before workers start (app.ts prepares it; see prepareWorkRoot).
  mkdirSync(join(dir, 'work'), { mode: 0o700 });
  db = await openDatabase(join(dir, 'm.db'), { durable: false });
  storage = await openStorage(db, { dataDir: dir, fsync: false, maxObjectBytes: 1e9 });
  await storage.buckets.create('in', 'private', 'Standard');
  const wav = tone(join(dir, 'a.wav'), 440, 1);
  await storage.objects.put('in', 'dir/a.wav', createReadStream(wav), { attrs });
  queue = new TaskQueue(db);
  signal = new TaskSignal();
  service = new TaskService(queue, storage, { retentionMs: 3600_000, signal });
  engine = await MediaEngine.start({ ffmpeg: FFMPEG, ffprobe: FFPROBE, env: process.env });
});
after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** audio/convert of in/<key> to mp3, saved beside it. */
function job(key: string): MediaJob {
  return {
    origin: 'imm',
    action: 'audio/convert',
    clips: [{ source: { bucket: 'in', key }, startMs: 0, durationMs: 0, disableAudio: false, disableVideo: false }],
    alignIndex: 0,
    output: {
      container: 'mp3',
      audio: { disabled: false, codec: 'mp3', bitrate: 64000, bitrateOption: 'fixed' },
      video: { disabled: true, fpsOption: 'fixed', resolutionOption: 'fixed', scaleType: 'stretch', adaptiveOrientation: false, bitrateOption: 'fixed' },
      dropSubtitles: false,
      destination: { keyTemplate: '{dirname}/{barename}.{autoext}' },
    },
  };
}

/** A genuine SQLITE_BUSY from better-sqlite3: a second connection reads while the first holds an exclusive lock. */
function realBusyError(): Error {
  const file = join(dir, 'contended.db');
  const holder = new SQLite(file);
  holder.exec('CREATE TABLE IF NOT EXISTS t (x)');
  const reader = new SQLite(file, { timeout: 0 });
  holder.exec('BEGIN EXCLUSIVE');
  try {
    reader.prepare('SELECT * FROM t').all();
  } catch (e) {
    return e as Error;
  } finally {
    holder.exec('ROLLBACK');
    holder.close();
    reader.close();
  }
  throw new Error('expected SQLITE_BUSY from the second connection');
}

/** The real storage, except that looking up `key` throws `error` the first `times` times. */
function storageFailingFind(key: string, error: Error, times: number): { storage: Storage; thrown: () => number } {
  let thrown = 0;
  const objects = new Proxy(storage.objects, {
    get(target, prop) {
      if (prop === 'find') {
        return async (bucket: string, k: string) => {
          if (k === key && thrown < times) {
            thrown++;
            throw error;
          }
          return target.find(bucket, k);
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { storage: { ...storage, objects }, thrown: () => thrown };
}

async function runToEnd(deps: Storage, key: string): Promise<TaskRecord> {
  const j = job(key);
  const { taskId } = await service.submit({ job: j, projectName: 'p', principal: root, requestDefinition: {}, templateSource: j.clips[0]!.source, origin: 'imm', requestId: 'R' });
  const pool = new WorkerPool({ storage: deps, engine, queue, workRoot: join(dir, 'work'), timeoutMs: 60_000, log: pino({ level: 'silent' }), concurrency: 1, leaseMs: 30_000, pollMs: 50, signal });
  await pool.start();
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const t = await queue.get(taskId);
      assert.ok(t, 'the task exists');
      if (t.state === 'succeeded' || t.state === 'failed') return t;
      assert.ok(Date.now() < deadline, `task still ${t.state} after 60 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await pool.stop();
  }
}

test('a source lookup that hits SQLITE_BUSY is retried, and the task then succeeds', async () => {
  const busy = realBusyError();
  assert.equal((busy as { code?: string }).code, 'SQLITE_BUSY', String(busy));
  const failing = storageFailingFind('dir/a.wav', busy, 1);
  const t = await runToEnd(failing.storage, 'dir/a.wav');
  assert.equal(failing.thrown(), 1, 'the lookup failed once');
  assert.equal(t.state, 'succeeded', `${t.code}: ${t.message}`);
  assert.equal(t.code, '');
  assert.equal(t.attempts, 2, 'handed back after the busy attempt, then run again');
  assert.deepEqual(t.outputs, ['oss://in/dir/a.mp3']);
  const out = join(dir, 'out.mp3');
  await pipeline((await storage.objects.openKey('in', 'dir/a.mp3')).stream, createWriteStream(out));
  assert.equal(audioStream(ffprobe(out))?.codec_name, 'mp3');
});

test('a source that does not exist is still ResourceNotFound, at the first attempt', async () => {
  const t = await runToEnd(storage, 'dir/missing.wav');
  assert.equal(t.state, 'failed');
  assert.equal(t.code, 'ResourceNotFound');
  assert.match(t.message, /oss:\/\/in\/dir\/missing\.wav does not exist/);
  assert.equal(t.attempts, 1);
});

test('a source named by two clips is read from the store once; the concat is as long as both', async () => {
  let opened = 0;
  const objects = new Proxy(storage.objects, {
    get(target, prop) {
      if (prop === 'open') {
        return (...a: Parameters<Storage['objects']['open']>) => {
          opened++;
          return target.open(...a);
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const clip = { source: { bucket: 'in', key: 'dir/a.wav' }, startMs: 0, durationMs: 0, disableAudio: false, disableVideo: false };
  const j: MediaJob = { ...job('dir/a.wav'), action: 'audio/concat', clips: [clip, { ...clip }], output: { ...job('dir/a.wav').output, destination: { keyTemplate: 'twice/{barename}.{autoext}' } } };
  const { taskId } = await service.submit({ job: j, projectName: 'p', principal: root, requestDefinition: {}, templateSource: clip.source, origin: 'imm', requestId: 'R' });
  const pool = new WorkerPool({ storage: { ...storage, objects }, engine, queue, workRoot: join(dir, 'work'), timeoutMs: 60_000, log: pino({ level: 'silent' }), concurrency: 1, leaseMs: 30_000, pollMs: 50, signal });
  await pool.start();
  let t: TaskRecord | undefined;
  try {
    const deadline = Date.now() + 60_000;
    while (!t || (t.state !== 'succeeded' && t.state !== 'failed')) {
      assert.ok(Date.now() < deadline, 'the task ends within 60 s');
      await new Promise((r) => setTimeout(r, 50));
      t = await queue.get(taskId);
    }
  } finally {
    await pool.stop();
  }
  assert.equal(t.state, 'succeeded', `${t.code}: ${t.message}`);
  assert.equal(opened, 1, 'one read of the source');
  assert.deepEqual(t.outputs, ['oss://in/twice/a.mp3']);
  const out = join(dir, 'twice.mp3');
  await pipeline((await storage.objects.openKey('in', 'twice/a.mp3')).stream, createWriteStream(out));
  const seconds = Number(ffprobe(out).format.duration);
  assert.ok(Math.abs(seconds - 2) < 0.1, `2 s of output, got ${seconds}`);
});
