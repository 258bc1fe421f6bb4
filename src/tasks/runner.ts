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
import type { MediaJob } from '../media/job.js';
import { containerSpec } from '../media/plan/containers.js';
import { processJob, type LocalInput } from '../media/process.js';
import { checkOutputKey, expandTemplate, templateVariables } from '../media/output-name.js';
import type { Storage } from '../storage/index.js';
import { ObjectChanged } from '../storage/objects.js';
import type { TaskRecord } from './records.js';
import type { TaskOutcome, TaskQueue } from './queue.js';
import { buildTaskNotification, type TaskNotificationContext } from '../notify/task-message.js';
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
}

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

/** The extension {autoext} stands for: the playlist/manifest for segment outputs, else the container's. */
export function outputExtension(job: MediaJob): string {
  if (job.output.segment) return job.output.segment.format === 'hls' ? 'm3u8' : 'mpd';
  return containerSpec(job.output.container).extension;
}

/** {resolution}: the configured size, when both sides are given. */
function resolutionVariable(job: MediaJob): string | undefined {
  const r = job.output.video.resolution;
  return r?.width && r.height ? `${r.width}x${r.height}` : undefined;
}

/** Where the main output goes: bucket and expanded key. Pure apart from the source's upload time. */
export function mainOutputKey(job: MediaJob, templateSource: { bucket: string; key: string }, lastModified: Date | undefined, taskTime: Date): { bucket: string; key: string } {
  const dest = job.output.destination;
  if (!dest) fail('InvalidMediaArgument', 'The task has no output: sys/saveas (or Targets[].URI) is required.');
  const vars = templateVariables({ source: { ...templateSource, lastModified }, taskTime, autoext: outputExtension(job), resolution: resolutionVariable(job), tags: stringTags(job.tags) });
  // An empty {dirname} (a source at the bucket root) would leave "/name" or "a//name": collapse those slashes.
  const key = expandTemplate(dest.keyTemplate, vars).replace(/\/{2,}/g, '/').replace(/^\/+/, '');
  return { bucket: dest.bucket === undefined ? templateSource.bucket : expandTemplate(dest.bucket, vars), key: checkOutputKey(key) };
}

export function stringTags(tags: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

function contentTypeOf(name: string): string {
  if (name.endsWith('.m3u8')) return 'application/vnd.apple.mpegurl';
  if (name.endsWith('.m4s')) return 'video/iso.segment';
  return mime.lookup(name) || 'application/octet-stream';
}

/** A short, safe file suffix from the source key, to help the prober (content decides anyway). */
function inputSuffix(key: string): string {
  const m = /\.([A-Za-z0-9]{1,8})$/.exec(key);
  return m ? `.${m[1]!.toLowerCase()}` : '';
}

export interface RunControl {
  owner: string;
  signal: AbortSignal;
  onProgress(percent: number): void;
}

/** Runs the task to its final state (Succeeded/Failed committed), or throws LeaseLost / an abort. */
export async function runTask(deps: RunnerDeps, task: TaskRecord, ctl: RunControl): Promise<void> {
  const { job, templateSource } = task.spec;
  // A fresh private directory per attempt (unguessable name, 0700, owned by the FFmpeg user; owner recorded
  // inside for the crash reaper): no other task's input can name it, a retry never sees an earlier attempt's files.
  const workDir = await createAttemptDir(deps.workRoot, deps.engine.sandbox, { taskId: task.taskId, attempt: task.attempts });
  try {
    // 1. Sources, streamed to local files (ffmpeg needs seekable input; memory stays bounded).
    const inputs: LocalInput[] = [];
    let templateLastModified: Date | undefined;
    for (const [i, clip] of job.clips.entries()) {
      const { bucket, key } = clip.source;
      const uri = `oss://${bucket}/${key}`;
      const path = join(workDir, `in-${i}${inputSuffix(key)}`);
      for (let attempt = 0; ; attempt++) {
        const obj = await deps.storage.objects.find(bucket, key).catch(() => undefined);
        if (!obj) fail('MediaSourceNotFound', `The source ${uri} does not exist.`);
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

    // 2. Names first (a bad template fails before any work), then the media engine.
    const main = mainOutputKey(job, templateSource, templateLastModified, task.createdAt);
    const slash = main.key.lastIndexOf('/');
    const dir = slash >= 0 ? main.key.slice(0, slash + 1) : '';
    const base = main.key.slice(slash + 1);
    const bare = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
    // Segment files are named after the playlist (out.m3u8 → out-00000.ts) so its relative references hold.
    const outputName = job.output.segment && bare && !bare.startsWith('.') ? bare : 'output';
    const result = await processJob({
      engine: deps.engine,
      job,
      inputs,
      workDir,
      outputName,
      timeoutMs: deps.timeoutMs,
      signal: ctl.signal,
      onProgress: (f) => ctl.onProgress(5 + Math.floor(f * 85)),
      // Recorded so a restart can kill this FFmpeg if this process dies under it (see work-dirs.ts).
      onSpawn: (pid) => writeFileSync(join(workDir, FFMPEG_PID_FILE), String(pid)),
    });
    ctl.onProgress(90);

    // 3. Bytes into unreferenced blobs, then one transaction: every object + Succeeded, or nothing.
    const items = [];
    const outputs: string[] = [];
    for (const [i, file] of result.files.entries()) {
      const key = i === 0 ? main.key : dir + file;
      const blob = await deps.storage.objects.ingestBlob(createReadStream(join(result.outputDir, file)));
      items.push({
        bucket: main.bucket,
        key,
        attrs: { contentType: contentTypeOf(key), headers: {}, meta: {}, acl: 'default' as const, storageClass: 'Standard' },
        size: blob.size,
        etag: blob.etag,
        crc64: blob.crc64,
        objectType: 'Normal' as const,
        segments: blob.segments,
        newBlobs: blob.segments,
      });
      outputs.push(`oss://${main.bucket}/${key}`);
    }
    await deps.storage.objects.commitBatch(items, async (tx) => {
      const outcome = { state: 'succeeded' as const, code: '', message: '', outputs };
      const mine = await deps.queue.finish(task.taskId, ctl.owner, { ...outcome, notification: notificationFor(deps, task, outcome) }, tx);
      if (!mine) throw new LeaseLost(task.taskId);
    });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
