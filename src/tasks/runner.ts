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
import { mapBounded, processJob, type JobTimings, type LocalInput } from '../media/process.js';
import { checkInputSize } from '../media/limits.js';
import { outputFileKey, outputNames } from '../media/output-name.js';
import type { Storage } from '../storage/index.js';
import type { ObjectRecord } from '../storage/records.js';
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
 * Where a task's time goes, in milliseconds. One after the other: the private work directory (`setup`),
 * the sources streamed into it and probed (`inputs`), FFmpeg (`ffmpeg`), the output verified while it is
 * stored into blobs with its hashes (`outputs`), the fenced commit (`commit`, after which Succeeded is
 * visible), removing the work directory (`cleanup`). Overlapping spans inside them: `fetch` (until the last
 * source was there), `probe` (probes' own time, summed), `verify`, `store`.
 */
export type TaskPhase = 'setup' | 'inputs' | 'ffmpeg' | 'outputs' | 'commit' | 'cleanup' | 'fetch' | 'probe' | 'verify' | 'store';
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

/** Outputs stored in parallel (segment outputs are many files, each made durable on its own). */
const STORE_LANES = 4;

/** A name for an object version's exact bytes: its blob ids are never reused or rewritten. */
function bytesIdentity(obj: ObjectRecord): string {
  return `${obj.size}:${obj.segments.map(([id, length]) => `${id}/${length}`).join(',')}`;
}

/** Runs the task to its final state (Succeeded/Failed committed), or throws LeaseLost / an abort. */
export async function runTask(deps: RunnerDeps, task: TaskRecord, ctl: RunControl): Promise<TaskPhases> {
  const { job, templateSource } = task.spec;
  const phases: TaskPhases = {};
  let mark = performance.now();
  const lap = (phase: TaskPhase): void => {
    const now = performance.now();
    phases[phase] = now - mark;
    mark = now;
  };
  // A fresh private directory per attempt (unguessable name, 0700, owned by the FFmpeg user; owner recorded
  // inside for the crash reaper): no other task's input can name it, a retry never sees an earlier attempt's files.
  const workDir = await createAttemptDir(deps.workRoot, deps.engine.sandbox, { taskId: task.taskId, attempt: task.attempts });
  lap('setup');
  try {
    // 1. Sources, streamed to local files (ffmpeg needs seekable input; memory stays bounded), each probed
    //    as soon as it is there while the others still stream (processJob runs the fetches, one lane per core).
    //    A source named by several clips is fetched once.
    const records = new Map<string, ObjectRecord>();
    const fetches = new Map<string, { path: string; uri: string; fetched?: Promise<void> }>();
    const fetchSource = (sourceKey: string, bucket: string, key: string) => {
      const f = fetches.get(sourceKey)!;
      f.fetched ??= (async () => {
        for (let attempt = 0; ; attempt++) {
          // Only a missing object is ResourceNotFound; a database error (SQLITE_BUSY, ...) propagates, so the
          // worker pool retries a transient one instead of failing the task for good.
          const obj = await deps.storage.objects.find(bucket, key);
          if (!obj) fail('MediaSourceNotFound', `The source ${f.uri} does not exist.`);
          // Refused before a byte is copied (MEDLEY_MAX_MEDIA_INPUT_BYTES).
          checkInputSize(obj.size, f.uri, deps.engine.limits);
          try {
            await pipeline(await deps.storage.objects.open(obj), createWriteStream(f.path), { signal: ctl.signal });
            records.set(sourceKey, obj);
            return;
          } catch (e) {
            // Overwritten between find and open: read the new version.
            if (!(e instanceof ObjectChanged) || attempt >= 2) throw e;
          }
        }
      })();
      return f.fetched;
    };
    const inputs: LocalInput[] = job.clips.map((clip) => {
      const { bucket, key } = clip.source;
      const sourceKey = JSON.stringify([bucket, key]);
      if (!fetches.has(sourceKey)) fetches.set(sourceKey, { path: join(workDir, inputFileName(fetches.size)), uri: `oss://${bucket}/${key}` });
      const f = fetches.get(sourceKey)!;
      const input: LocalInput = {
        path: f.path,
        displayName: f.uri,
        fetch: async () => {
          await fetchSource(sourceKey, bucket, key);
          // Set once the bytes are there: the probe cache is keyed by the version actually read.
          input.identity = bytesIdentity(records.get(sourceKey)!);
        },
      };
      return input;
    });

    // 2. The media engine; meanwhile the output is verified, its bytes go into unreferenced blobs (hashed
    //    as they are copied: one read of each output file). Names are expanded once the sources are there
    //    (from the template source's upload time; a template source the job does not read is looked up).
    const templateKey = JSON.stringify([templateSource.bucket, templateSource.key]);
    const templateLastModified = fetches.has(templateKey) ? undefined : (await deps.storage.objects.find(templateSource.bucket, templateSource.key))?.lastModified;
    let names: ReturnType<typeof outputNames> | undefined;
    const timings: JobTimings = {};
    const stored: StoredOutput[] = [];
    const undo = () => deps.storage.objects.discardBlobs(stored.flatMap((o) => o.segments));
    await processJob(
      {
        engine: deps.engine,
        job,
        inputs,
        workDir,
        outputName: () => {
          names = outputNames(job, templateSource, records.get(templateKey)?.lastModified ?? templateLastModified, task.createdAt);
          ctl.onProgress(5);
          return names.fileStem;
        },
        timeoutMs: deps.timeoutMs,
        signal: ctl.signal,
        onProgress: (f) => ctl.onProgress(5 + Math.floor(f * 85)),
        // Recorded so a restart can kill this FFmpeg if this process dies under it (see work-dirs.ts).
        onSpawn: (pid) => writeFileSync(join(workDir, FFMPEG_PID_FILE), String(pid)),
        timings,
      },
      async (files, outputDir) => {
        try {
          await mapBounded(files.map((file, i) => ({ file, i })), STORE_LANES, async ({ file, i }) => {
            const blob = await deps.storage.objects.ingestBlob(createReadStream(join(outputDir, file)));
            stored[i] = { file, ...blob };
          });
        } catch (e) {
          await undo();
          throw e;
        }
        return { undo };
      },
    );
    phases.inputs = timings.inputs;
    phases.ffmpeg = timings.ffmpeg;
    phases.outputs = timings.outputs;
    Object.assign(phases, { fetch: timings.fetch, probe: timings.probe, verify: timings.verify, store: timings.keep });
    ctl.onProgress(90);
    mark = performance.now();

    // 3. One transaction: every object + Succeeded, or nothing (fenced on the lease).
    const out = names!;
    const items = stored.map((o, i) => {
      const key = outputFileKey(out, i, o.file);
      return {
        bucket: out.bucket,
        key,
        attrs: { contentType: contentTypeOf(key), headers: {}, meta: {}, acl: 'default' as const, storageClass: 'Standard' },
        size: o.size,
        etag: o.etag,
        crc64: o.crc64,
        objectType: 'Normal' as const,
        segments: o.segments,
        newBlobs: o.segments,
      };
    });
    const outputs = items.map((item) => `oss://${item.bucket}/${item.key}`);
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

interface StoredOutput {
  file: string;
  size: number;
  etag: string;
  crc64: string;
  segments: Array<[string, number]>;
}
