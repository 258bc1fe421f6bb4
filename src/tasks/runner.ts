/**
 * Runs one claimed media task against the object store: stream each source into the task's private work
 * directory, run the media engine, then commit every output object and the task's success in ONE
 * transaction (fenced on the lease). A crash or a lost lease at any point before that transaction leaves
 * nothing visible; a retry names its outputs from the stored task time, so it writes the same keys.
 */
import { createWriteStream, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import mime from 'mime-types';
import type { Logger } from 'pino';
import { fail } from '../errors.js';
import type { MediaEngine } from '../media/engine/index.js';
import { processJob, type LocalInput, type MediaPhase } from '../media/process.js';
import { checkInputSize } from '../media/limits.js';
import { outputFileKey, outputNames } from '../media/output-name.js';
import type { Storage } from '../storage/index.js';
import { ObjectChanged } from '../storage/objects.js';
import type { TaskRecord } from './records.js';
import type { TaskOutcome, TaskQueue } from './queue.js';
import { buildTaskNotification, type TaskNotificationContext } from './task-message.js';
import { createAttemptDir, FFMPEG_PID_FILE } from './work-dirs.js';

export interface RunnerDeps {
  storage: Storage;
  engine: MediaEngine;
  queue: TaskQueue;
  /** Parent of the per-task work directories. */
  workRoot: string;
  timeoutMs: number;
  log: Logger;
  /** Region and account id for notification subjects; without it no notification is written. */
  notify?: TaskNotificationContext;
  /** Told the wall-clock milliseconds of every phase of a succeeded attempt (metrics: medley_task_phase_seconds). */
  onPhases?: (phases: TaskPhases) => void;
}

/**
 * Where a task's time goes, in milliseconds: the private work directory (`setup`), sources into it
 * (`fetch`), input probes (`probe`), FFmpeg (`ffmpeg`), the output's verification (`verify`), outputs into
 * blobs with their hashes (`store`), the fenced commit (`commit`) and removing the work directory (`cleanup`).
 */
export type TaskPhase = 'setup' | 'fetch' | MediaPhase | 'store' | 'commit' | 'cleanup';
export type TaskPhases = Partial<Record<TaskPhase, number>>;

/** The outcome's completion message for the task's topic (spec/imm.md §5), or undefined when it has none. */
export function notificationFor(deps: Pick<RunnerDeps, 'notify'>, task: TaskRecord, outcome: { state: 'succeeded' | 'failed'; code: string; message: string; outputs: string[] }): TaskOutcome['notification'] {
  if (!task.notifyTopic || !deps.notify) return undefined;
  const ctx = deps.notify;
  return {
    topic: task.notifyTopic,
    body: (endedAt) => buildTaskNotification(task, { status: outcome.state === 'succeeded' ? 'Succeeded' : 'Failed', code: outcome.code, message: outcome.message, outputs: outcome.outputs, endedAt }, ctx),
  };
}

/** The lease was lost while running: someone else owns the task now; drop the result silently. */
export class LeaseLost extends Error {
  constructor(taskId: string) {
    super(`lost the lease on ${taskId}`);
  }
}

function contentTypeOf(name: string): string {
  if (name.endsWith('.m3u8')) return 'application/vnd.apple.mpegurl';
  if (name.endsWith('.m4s')) return 'video/iso.segment';
  return mime.lookup(name) || 'application/octet-stream';
}

/**
 * The work-dir name of source i: `in-<i>`, never the key's extension — FFmpeg lets a name like `x.m3u8` pick
 * a demuxer that reads other files; the engine sniffs the content and forces a single-file demuxer instead.
 */
function inputFileName(i: number): string {
  return `in-${i}`;
}

export interface RunControl {
  owner: string;
  signal: AbortSignal;
  onProgress(percent: number): void;
}

/** Runs the task to its final state (Succeeded/Failed committed), or throws LeaseLost / an abort. */
export async function runTask(deps: RunnerDeps, task: TaskRecord, ctl: RunControl): Promise<TaskPhases> {
  const { job, templateSource } = task.spec;
  const phases: TaskPhases = {};
  let mark = performance.now();
  const lap = (phase: TaskPhase): void => {
    const now = performance.now();
    phases[phase] = (phases[phase] ?? 0) + (now - mark);
    mark = now;
  };
  // A fresh private directory per attempt (unguessable name, 0700, owned by the FFmpeg user; owner recorded
  // inside for the crash reaper): no other task's input can name it, a retry never sees an earlier attempt's files.
  const workDir = await createAttemptDir(deps.workRoot, deps.engine.sandbox, { taskId: task.taskId, attempt: task.attempts });
  lap('setup');
  try {
    // 1. Sources, streamed to local files (ffmpeg needs seekable input; memory stays bounded).
    const inputs: LocalInput[] = [];
    let templateLastModified: Date | undefined;
    for (const [i, clip] of job.clips.entries()) {
      const { bucket, key } = clip.source;
      const uri = `oss://${bucket}/${key}`;
      const path = join(workDir, inputFileName(i));
      for (let attempt = 0; ; attempt++) {
        // Only a missing object is ResourceNotFound; a database error (SQLITE_BUSY, ...) propagates, so the
        // worker pool retries a transient one instead of failing the task for good.
        const obj = await deps.storage.objects.find(bucket, key);
        if (!obj) fail('MediaSourceNotFound', `The source ${uri} does not exist.`);
        // Refused before a byte is copied (MEDLEY_MAX_MEDIA_INPUT_BYTES).
        checkInputSize(obj.size, uri, deps.engine.limits);
        if (bucket === templateSource.bucket && key === templateSource.key) templateLastModified = obj.lastModified;
        try {
          await pipeline(await deps.storage.objects.open(obj), createWriteStream(path), { signal: ctl.signal });
          break;
        } catch (e) {
          // Overwritten between find and open: read the new version.
          if (!(e instanceof ObjectChanged) || attempt >= 2) throw e;
        }
      }
      inputs.push({ path, displayName: uri });
    }
    if (!templateLastModified) templateLastModified = (await deps.storage.objects.find(templateSource.bucket, templateSource.key))?.lastModified;
    ctl.onProgress(5);
    lap('fetch');

    // 2. Names first (a bad template fails before any work), then the media engine.
    const names = outputNames(job, templateSource, templateLastModified, task.createdAt);
    const result = await processJob({
      engine: deps.engine,
      job,
      inputs,
      workDir,
      outputName: names.fileStem,
      timeoutMs: deps.timeoutMs,
      signal: ctl.signal,
      onProgress: (f) => ctl.onProgress(5 + Math.floor(f * 85)),
      // Recorded so a restart can kill this FFmpeg if this process dies under it (see work-dirs.ts).
      onSpawn: (pid) => writeFileSync(join(workDir, FFMPEG_PID_FILE), String(pid)),
      onPhase: (phase, ms) => {
        phases[phase] = ms;
        mark = performance.now();
      },
    });
    ctl.onProgress(90);

    // 3. Bytes into unreferenced blobs, then one transaction: every object + Succeeded, or nothing.
    const items = [];
    const outputs: string[] = [];
    for (const [i, file] of result.files.entries()) {
      const key = outputFileKey(names, i, file);
      const blob = await deps.storage.objects.ingestBlob(createReadStream(join(result.outputDir, file)));
      items.push({
        bucket: names.bucket,
        key,
        attrs: { contentType: contentTypeOf(key), headers: {}, meta: {}, acl: 'default' as const, storageClass: 'Standard' },
        size: blob.size,
        etag: blob.etag,
        crc64: blob.crc64,
        objectType: 'Normal' as const,
        segments: blob.segments,
        newBlobs: blob.segments,
      });
      outputs.push(`oss://${names.bucket}/${key}`);
    }
    lap('store');
    await deps.storage.objects.commitBatch(items, async (tx) => {
      const outcome = { state: 'succeeded' as const, code: '', message: '', outputs };
      const mine = await deps.queue.finish(task.taskId, ctl.owner, { ...outcome, notification: notificationFor(deps, task, outcome) }, tx);
      if (!mine) throw new LeaseLost(task.taskId);
    });
    lap('commit');
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  lap('cleanup');
  deps.onPhases?.(phases);
  return phases;
}
