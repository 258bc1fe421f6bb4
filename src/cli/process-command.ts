/**
 * `medley process`: run a media request locally, where a folder stands for the bucket, so users can try
 * a request before sending it. Object names resolve inside the folder and can never escape it.
 *
 *   medley process '<process string>' --dir <folder> --source <name> [--out <file>] [--explain]
 *   medley process --imm <request.json> --dir <folder> [--out <file>] [--explain]
 */
import { readFile, realpath, rename, rm, copyFile, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createPrivateDir } from '../media/engine/sandbox.js';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { MedleyError, fail } from '../errors.js';
import type { MediaJob } from '../media/job.js';
import { MediaEngine } from '../media/engine/index.js';
import { prepareJob, processJob, type LocalInput } from '../media/process.js';
import { parseProcessString, extractProcessBody } from '../media/request/process-string.js';
import { parseMediaConvertRequest } from '../media/request/imm-request.js';
import { outputFileKey, outputLayout, outputNames } from '../media/output-name.js';
import { isValidBucketName } from '../storage/names.js';
import { explainJob, explanationText } from '../media/explain.js';

export interface ProcessCommandOptions {
  dir: string;
  source?: string;
  imm?: string;
  out?: string;
  explain?: boolean;
  timeout?: string;
  ffmpeg?: string;
  ffprobe?: string;
}

/** Resolves an object name inside the folder; refuses anything that would land outside it. */
export async function resolveInside(root: string, name: string, mustExist: boolean): Promise<string> {
  const base = await realpath(root);
  const target = resolve(base, name);
  if (target !== base && !target.startsWith(base + sep)) fail('InvalidMediaArgument', `"${name}" resolves outside the folder ${root}.`);
  if (mustExist) {
    const real = await realpath(target).catch(() => fail('MediaSourceNotFound', `${name} does not exist in ${root}.`));
    if (!real.startsWith(base + sep)) fail('InvalidMediaArgument', `"${name}" is a link that points outside the folder ${root}.`);
    if (!(await stat(real)).isFile()) fail('MediaSourceNotFound', `${name} in ${root} is not a file.`);
    return real;
  }
  return target;
}

function progressBar(fraction: number): string {
  const width = 30;
  const done = Math.round(fraction * width);
  return `\r[${'#'.repeat(done)}${' '.repeat(width - done)}] ${Math.floor(fraction * 100)}%`;
}

export async function runProcessCommand(processString: string | undefined, opts: ProcessCommandOptions, env: NodeJS.ProcessEnv): Promise<number> {
  const out = (s: string) => process.stdout.write(s);
  try {
    const folder = resolve(opts.dir);
    // The folder's name stands for the bucket name ({bucket}) when it is a valid one, else "local".
    const bucket = isValidBucketName(basename(folder)) ? basename(folder) : 'local';
    let job: MediaJob;
    // The object the name variables describe, as on the server: the first source (IMM), or the object the
    // request is sent to (OSS), whose bucket the folder stands for.
    let templateSource: { bucket: string; key: string };
    if (opts.imm) {
      if (processString) fail('InvalidMediaArgument', 'Give either a process string or --imm <request.json>, not both.');
      const raw = JSON.parse(await readFile(opts.imm, 'utf8')) as Record<string, unknown>;
      // The request file holds the API parameters; complex ones may be objects or JSON strings.
      const params = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
      ({ job } = parseMediaConvertRequest(params));
      templateSource = job.clips[0]!.source;
    } else {
      if (!processString) fail('InvalidMediaArgument', 'Give a process string (or --imm <request.json>).');
      if (!opts.source) fail('InvalidMediaArgument', '--source <name> is required with a process string: it is the object the request is sent to.');
      templateSource = { bucket, key: opts.source };
      // Accept the bare process string, or a request body copied whole (x-oss-async-process=...).
      const body = /^x-oss-(async-)?process=/.test(processString) ? extractProcessBody(processString, processString.startsWith('x-oss-process=') ? 'x-oss-process' : 'x-oss-async-process') : processString;
      job = parseProcessString(body, templateSource, { requireSaveAs: false });
    }
    const taskTime = new Date();

    // Every clip's object name resolves inside the folder (the bucket part of IMM URIs is ignored here).
    const inputs: LocalInput[] = [];
    for (const clip of job.clips) inputs.push({ path: await resolveInside(folder, clip.source.key, true), displayName: clip.source.key });

    // Names first, as on the server (a bad template fails before any work): --out, else the saveas/URI
    // template expanded by the server's own naming; the upload time is the source file's mtime.
    let main: string;
    let fileStem: string;
    if (opts.out) {
      main = resolve(opts.out);
      ({ fileStem } = outputLayout(job, basename(main)));
    } else {
      if (!job.output.destination) fail('InvalidMediaArgument', 'No output: add |sys/saveas,o_<name> to the request or pass --out <file>.');
      const sourceStat = await stat(await resolveInside(folder, templateSource.key, true));
      const names = outputNames(job, templateSource, sourceStat.mtime, taskTime);
      main = await resolveInside(folder, names.key, false);
      fileStem = names.fileStem;
    }
    // Files beside the main one (segments) keep the engine's names, as their objects do on the server.
    const targetOf = (i: number, file: string) => outputFileKey({ key: main, dir: dirname(main) + sep }, i, file);

    const engine = await MediaEngine.start({ ffmpeg: opts.ffmpeg, ffprobe: opts.ffprobe, env });
    // Private (0700, unguessable): see media/engine/sandbox.ts. The CLI runs FFmpeg as its own user.
    const workDir = await createPrivateDir(tmpdir());
    try {
      if (opts.explain) {
        const prepared = await prepareJob({ engine, job, inputs, workDir, outputName: fileStem });
        const ffmpeg = engine.choose(prepared.plan.needs).ffmpeg;
        out(explanationText(explainJob(job, prepared, { ffmpeg, output: main, names: job.clips.map((c) => c.source.key) })));
        return 0;
      }

      const tty = process.stderr.isTTY;
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      let result;
      try {
        result = await processJob({
          engine,
          job,
          inputs,
          workDir,
          outputName: fileStem,
          timeoutMs: Number(opts.timeout ?? 3600) * 1000,
          signal: controller.signal,
          onProgress: tty ? (f) => process.stderr.write(progressBar(f)) : undefined,
        });
      } finally {
        process.off('SIGINT', onSigint);
        if (tty) process.stderr.write('\n');
      }
      await mkdir(dirname(main), { recursive: true });
      for (const [i, f] of result.files.entries()) await moveFile(join(result.outputDir, f), targetOf(i, f));
      const o = result.output;
      out(`${main}: ${o.formatName}, ${o.durationSec.toFixed(3)} s${o.audio ? `, ${o.audio.codec} ${o.audio.sampleRate} Hz ${o.audio.channels} ch` : ''}${o.video ? `, ${o.video.codec} ${o.video.width}x${o.video.height} ${o.video.fps.toFixed(2)} fps` : ''}${result.files.length > 1 ? `, ${result.files.length - 1} segment files` : ''}\n`);
      return 0;
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  } catch (e) {
    if (e instanceof MedleyError) {
      process.stderr.write(`error: ${e.immCode}: ${e.message}\n`);
      return e.status >= 500 ? 1 : 2;
    }
    if (e instanceof SyntaxError) {
      process.stderr.write(`error: InvalidJSON: ${opts.imm}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    // Temp dir on another filesystem: copy then remove.
    await copyFile(from, to);
    await rm(from, { force: true });
  }
}
