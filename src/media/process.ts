/**
 * Running one media job end to end on local files: probe every input, plan, run FFmpeg into a private
 * output directory, verify the result probes as planned, and hand back the files. Callers (the CLI,
 * the task workers) decide where inputs come from and where outputs are committed; this module only
 * ever touches the job's own work directory.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { fail } from '../errors.js';
import type { MediaJob } from './job.js';
import type { MediaInfo } from './media-info.js';
import type { MediaEngine } from './engine/index.js';
import { checkInputSize, checkOutputDuration, checkSourceDuration, isTruncated, looksTruncated, outputBytesExceeded, truncatedMessage } from './limits.js';
import { inputArgs, inputDemuxer } from './plan/input-args.js';
import { planJob, type Plan } from './plan/index.js';
import { outputIsShort, verifyOutput } from './verify.js';

export interface LocalInput {
  /** A local file holding the clip's source bytes (once `fetch` resolved, when there is one). */
  path: string;
  /** How to name it in messages: oss://bucket/key or the CLI's file name. */
  displayName: string;
  /**
   * Brings the bytes to `path` (a task's source streamed from the object store). Called once per input,
   * at most one lane per core, and the input is probed as soon as it is there: the other inputs'
   * downloads overlap that probe. Inputs that share a file may share one fetch (it must be idempotent).
   */
  fetch?: () => Promise<void>;
  /**
   * Names the exact bytes (e.g. the object's immutable blob ids): inputs with the same identity probe
   * alike, so the engine may answer from its probe cache. Undefined: always probed.
   */
  identity?: string;
}

/**
 * Wall-clock milliseconds of a job's steps, filled in as they end. Sequential: `inputs` (fetching and
 * probing the sources, overlapped), `ffmpeg`, `outputs` (verifying and keeping the outputs, overlapped).
 * Spans inside them: `fetch` (until the last source was there), `probe` (the probes' own time, summed
 * over lanes), `verify`, `keep`.
 */
export type JobTimings = Partial<Record<'inputs' | 'ffmpeg' | 'outputs' | 'fetch' | 'probe' | 'verify' | 'keep', number>>;

export interface PreparedJob {
  plan: Plan;
  infos: MediaInfo[];
  outputDir: string;
}

export interface ProcessResult extends PreparedJob {
  /** Files produced, main output first (playlist/manifest first for segments), names relative to outputDir. */
  files: string[];
  output: MediaInfo;
  engine: string;
}

export interface ProcessOptions {
  engine: MediaEngine;
  job: MediaJob;
  inputs: LocalInput[];
  /** A directory owned by this job; outputs go to <workDir>/out. */
  workDir: string;
  /** The output files' stem (default `output`); a function is called once the inputs are there and probed. */
  outputName?: string | (() => string);
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  onSpawn?: (pid: number) => void;
  /** Filled in with the steps' times as they end (task phase timings). */
  timings?: JobTimings;
}

/**
 * What a caller does with the outputs while they are being verified (a task stores them as blobs): it
 * starts with the verification probe, both only reading the finished files, so the probe's time hides
 * behind the copy. When the verification fails, `undo` is awaited before the failure is thrown.
 */
export type KeepOutputs<T extends { undo(): Promise<void> }> = (files: readonly string[], outputDir: string) => Promise<T>;

/** Longest a decode check of one source may take. */
const DECODE_CHECK_MS = 60_000;

/** Probes the inputs and plans the job without running it (for --explain, and the first half of run). */
export async function prepareJob(opts: Omit<ProcessOptions, 'timeoutMs' | 'onProgress' | 'onSpawn'>): Promise<PreparedJob> {
  if (opts.inputs.length !== opts.job.clips.length) throw new Error('one local input per clip is required');
  const t0 = performance.now();
  const limits = opts.engine.limits;
  const timings = opts.timings;
  let probeMs = 0;
  let fetchedAt = t0;
  // Each input is fetched (when it has to be) and probed in one lane, at most one lane per core (a 100-clip
  // concat must not fork 100 ffprobes at once): a probe runs while the other lanes are still downloading.
  const infos = await mapBounded(opts.inputs, availableParallelism(), async (input) => {
    if (input.fetch) {
      await input.fetch();
      fetchedAt = Math.max(fetchedAt, performance.now());
    }
    const size = await stat(input.path).then((st) => st.size, () => undefined);
    if (size !== undefined) checkInputSize(size, input.displayName, limits);
    const p0 = performance.now();
    const info = await opts.engine.probe(input.path, input.displayName, { identity: input.identity });
    probeMs += performance.now() - p0;
    checkSourceDuration(info, input.displayName, limits);
    return info;
  });
  // A source with far fewer bytes than its header's length needs is decoded once to learn its real length.
  for (const [i, input] of opts.inputs.entries()) {
    if (looksTruncated(infos[i]!)) await checkDecodedLength(opts.engine, input, infos[i]!, DECODE_CHECK_MS, opts.signal, [[input.path, input.displayName]]);
  }
  const outputDir = join(opts.workDir, 'out');
  const plan = planJob({
    job: opts.job,
    inputs: opts.inputs.map((input, i) => ({ path: input.path, info: infos[i]! })),
    outputDir,
    outputName: (typeof opts.outputName === 'function' ? opts.outputName() : opts.outputName) ?? 'output',
    maxOutputBytes: limits.maxOutputBytes,
  });
  checkOutputDuration(plan.expectedDurationSec, limits);
  if (timings) {
    timings.inputs = performance.now() - t0;
    timings.probe = probeMs;
    if (opts.inputs.some((i) => i.fetch)) timings.fetch = fetchedAt - t0;
  }
  return { plan, infos, outputDir };
}

/** How the verification probes a plan's main output: its own playlist/manifest with the HLS/DASH demuxer. */
export function outputProbeOptions(plan: Pick<Plan, 'mainOutput'>): { ownOutput: { segments?: 'hls' | 'dash' } } {
  const segments = plan.mainOutput.endsWith('.m3u8') ? 'hls' : plan.mainOutput.endsWith('.mpd') ? 'dash' : undefined;
  return { ownOutput: segments ? { segments } : {} };
}

/** Bytes of every file directly in `dir` (segment outputs are flat). */
async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const n of await readdir(dir).catch(() => [] as string[])) total += (await stat(join(dir, n)).catch(() => undefined))?.size ?? 0;
  return total;
}

/** How often the output directory's size is checked while FFmpeg runs. */
const OUTPUT_WATCH_MS = 500;

export async function processJob(opts: ProcessOptions): Promise<ProcessResult>;
export async function processJob<T extends { undo(): Promise<void> }>(opts: ProcessOptions, keep: KeepOutputs<T>): Promise<ProcessResult & { kept: T }>;
export async function processJob<T extends { undo(): Promise<void> }>(opts: ProcessOptions, keep?: KeepOutputs<T>): Promise<ProcessResult & { kept?: T }> {
  const prepared = await prepareJob(opts);
  const { plan, outputDir } = prepared;
  const limits = opts.engine.limits;
  const timings = opts.timings;
  await rm(outputDir, { recursive: true, force: true });
  await mkdir(outputDir, { recursive: true });
  // Paths FFmpeg may print, as the user knows them.
  const pathNames: Array<[string, string]> = [...opts.inputs.map((i): [string, string] => [i.path, i.displayName]), [outputDir, 'the output'], [opts.workDir, 'the work directory']];
  // -fs bounds the main output file; this watch also counts segment files, and stops FFmpeg past the limit.
  const stopper = new AbortController();
  let overLimit = false;
  const onAbort = (): void => stopper.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stopper.abort();
  let watching = false;
  const watch = setInterval(() => {
    if (watching) return;
    watching = true;
    void dirBytes(outputDir)
      .then((n) => {
        if (n > limits.maxOutputBytes) {
          overLimit = true;
          stopper.abort();
        }
      })
      .finally(() => (watching = false));
  }, OUTPUT_WATCH_MS);
  try {
    let engine;
    const t0 = performance.now();
    try {
      ({ engine } = await opts.engine.run(plan.needs, {
        args: plan.args,
        expectedDurationSec: plan.expectedDurationSec,
        timeoutMs: opts.timeoutMs,
        signal: stopper.signal,
        onProgress: opts.onProgress,
        onSpawn: opts.onSpawn,
        cwd: outputDir,
        pathNames,
      }));
    } catch (e) {
      if (overLimit) outputBytesExceeded(limits);
      throw e;
    } finally {
      clearInterval(watch);
      opts.signal?.removeEventListener('abort', onAbort);
    }
    const t1 = performance.now();
    if (timings) timings.ffmpeg = t1 - t0;
    // FFmpeg ends normally when -fs stops it: an output at the limit was cut short.
    if ((await dirBytes(outputDir)) >= limits.maxOutputBytes) outputBytesExceeded(limits);
    const names = await readdir(outputDir);
    const extra = plan.extraOutputPattern ? names.filter((n) => n !== plan.mainOutput && plan.extraOutputPattern!.test(n)).sort() : [];
    const files = [plan.mainOutput, ...extra];
    // The verification probe and the caller's keeping of the outputs run together (both only read them).
    const verifying = (async () => {
      const output = await opts.engine.probe(join(outputDir, plan.mainOutput), 'the output', outputProbeOptions(plan));
      if (timings) timings.verify = performance.now() - t1;
      return output;
    })();
    const keeping = keep
      ? keep(files, outputDir).then((k) => {
          if (timings) timings.keep = performance.now() - t1;
          return k;
        })
      : undefined;
    const [probed, kept] = await Promise.allSettled([verifying, keeping]);
    try {
      if (probed.status === 'rejected') throw probed.reason;
      const output = probed.value;
      const problems = verifyOutput(output, plan.expect);
      if (problems.length > 0) {
        // Short output: a source that decodes shorter than its header declares is the source's fault.
        if (outputIsShort(output, plan.expect)) await findTruncatedInput(opts, prepared.infos, pathNames);
        fail('MediaProcessingFailed', `The output did not come out as planned: ${problems.join('; ')}.`);
      }
      if (kept.status === 'rejected') throw kept.reason;
      if (timings) timings.outputs = performance.now() - t1;
      return { ...prepared, files, output, engine: engine.capabilities.ffmpegVersion, ...(kept.value !== undefined ? { kept: kept.value } : {}) };
    } catch (e) {
      if (kept.status === 'fulfilled' && kept.value) await kept.value.undo();
      throw e;
    }
  } catch (e) {
    clearInterval(watch);
    await rm(outputDir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Decodes a source (its first audio stream, else its first video stream) to nothing and compares how far it
 * got with the probed duration: MediaUnreadable ("truncated: decodes 0.078 s of the 3.030 s its header
 * declares") when it falls short. A decode that fails or times out decides nothing (returns).
 */
async function checkDecodedLength(engine: MediaEngine, input: LocalInput, info: MediaInfo, timeoutMs: number, signal: AbortSignal | undefined, pathNames: Array<[string, string]>): Promise<void> {
  let decoded: number;
  try {
    const r = await engine.run(
      { encoders: [] },
      {
        args: [...inputArgs(inputDemuxer(info)), '-i', input.path, '-map', info.audio ? '0:a:0' : '0:v:0', '-f', 'null', '-'],
        expectedDurationSec: info.durationSec,
        timeoutMs,
        signal,
        pathNames,
      },
    );
    decoded = r.outTimeSec ?? 0;
  } catch (e) {
    if (signal?.aborted) throw e;
    return;
  }
  if (isTruncated(info.durationSec, decoded)) fail('MediaUnreadable', truncatedMessage(input.displayName, info.durationSec, decoded));
}

/** After a short output: the first truncated source is to blame (MediaUnreadable), if there is one. */
async function findTruncatedInput(opts: ProcessOptions, infos: MediaInfo[], pathNames: Array<[string, string]>): Promise<void> {
  for (const [i, input] of opts.inputs.entries()) {
    await checkDecodedLength(opts.engine, input, infos[i]!, Math.min(opts.timeoutMs, DECODE_CHECK_MS), opts.signal, pathNames);
  }
}

/**
 * `items.map(fn)` with at most `limit` calls in flight; results in input order. After a failure no new call
 * starts, and the first failure is thrown once the calls in flight have settled (nothing keeps running
 * in a directory the caller is about to remove).
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure) throw failure.error;
  return out;
}
