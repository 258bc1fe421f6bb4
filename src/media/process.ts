/**
 * Running one media job end to end on local files: probe every input, plan, run FFmpeg into a private
 * output directory, verify the result probes as planned, and hand back the files. Callers (the CLI,
 * the task workers) decide where inputs come from and where outputs are committed; this module only
 * ever touches the job's own work directory.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fail } from '../errors.js';
import type { MediaJob } from './job.js';
import type { MediaInfo } from './media-info.js';
import type { MediaEngine } from './engine/index.js';
import { planJob, type Plan } from './plan/index.js';
import { verifyOutput } from './verify.js';

export interface LocalInput {
  /** A local file holding the clip's source bytes. */
  path: string;
  /** How to name it in messages: oss://bucket/key or the CLI's file name. */
  displayName: string;
}

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
  outputName?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  onSpawn?: (pid: number) => void;
}

/** Probes the inputs and plans the job without running it (for --explain, and the first half of run). */
export async function prepareJob(opts: Omit<ProcessOptions, 'timeoutMs' | 'signal' | 'onProgress' | 'onSpawn'>): Promise<PreparedJob> {
  if (opts.inputs.length !== opts.job.clips.length) throw new Error('one local input per clip is required');
  const infos = await Promise.all(opts.inputs.map((i) => opts.engine.probe(i.path, i.displayName)));
  const outputDir = join(opts.workDir, 'out');
  const plan = planJob({
    job: opts.job,
    inputs: opts.inputs.map((input, i) => ({ path: input.path, info: infos[i]! })),
    outputDir,
    outputName: opts.outputName ?? 'output',
  });
  return { plan, infos, outputDir };
}

export async function processJob(opts: ProcessOptions): Promise<ProcessResult> {
  const prepared = await prepareJob(opts);
  const { plan, outputDir } = prepared;
  await rm(outputDir, { recursive: true, force: true });
  await mkdir(outputDir, { recursive: true });
  try {
    const { engine } = await opts.engine.run(plan.needs, {
      args: plan.args,
      expectedDurationSec: plan.expectedDurationSec,
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      onProgress: opts.onProgress,
      onSpawn: opts.onSpawn,
      cwd: outputDir,
    });
    const output = await opts.engine.probe(join(outputDir, plan.mainOutput), 'the output');
    const problems = verifyOutput(output, plan.expect);
    if (problems.length > 0) fail('MediaProcessingFailed', `The output did not come out as planned: ${problems.join('; ')}.`);
    const names = await readdir(outputDir);
    const extra = plan.extraOutputPattern ? names.filter((n) => n !== plan.mainOutput && plan.extraOutputPattern!.test(n)).sort() : [];
    return { ...prepared, files: [plan.mainOutput, ...extra], output, engine: engine.capabilities.ffmpegVersion };
  } catch (e) {
    await rm(outputDir, { recursive: true, force: true });
    throw e;
  }
}
