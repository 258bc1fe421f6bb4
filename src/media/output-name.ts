/**
 * Output naming (pure): the variables of OSS sys/saveas and IMM TargetURI templates, e.g.
 * `outobj.{autoext}` or `{dirname}/{barename}_{resolution}.{autoext}`; `{{` and `}}` are literal braces.
 *
 * `outputNames` is the one place that turns a job into the names of its outputs: the task service (to
 * refuse a bad template synchronously), the task runner (to commit the objects) and `medley process`
 * (to name the local files) all call it, so the CLI names an output exactly as the server would.
 */
import { fail } from '../errors.js';
import type { MediaJob } from './job.js';
import { containerSpec } from './plan/containers.js';
import { objectKeyProblem } from '../storage/names.js';

export interface TemplateContext {
  /** The source object the request named (OSS: the URL object; IMM: the first source). */
  source: { bucket: string; key: string; lastModified?: Date };
  /** When the task was created. */
  taskTime: Date;
  /** Extension of the produced file, no dot (mp3, m3u8, ...). */
  autoext: string;
  /** e.g. 1280x720, for video outputs. */
  resolution?: string;
  tags?: Record<string, string>;
  /** 1-based output counter (segments, snapshots); default 1. */
  index?: number;
  /** 0-based stream index; default 0. */
  streamIndex?: number;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function timeVars(prefix: string, d: Date): Record<string, string> {
  return {
    [`${prefix}year`]: String(d.getUTCFullYear()),
    [`${prefix}mon`]: pad(d.getUTCMonth() + 1),
    [`${prefix}day`]: pad(d.getUTCDate()),
    [`${prefix}hour`]: pad(d.getUTCHours()),
    [`${prefix}min`]: pad(d.getUTCMinutes()),
    [`${prefix}sec`]: pad(d.getUTCSeconds()),
  };
}

export function templateVariables(ctx: TemplateContext): Record<string, string> {
  const key = ctx.source.key;
  const slash = key.lastIndexOf('/');
  const dirname = slash >= 0 ? key.slice(0, slash) : '';
  const basename = slash >= 0 ? key.slice(slash + 1) : key;
  const dot = basename.lastIndexOf('.');
  const barename = dot > 0 ? basename.slice(0, dot) : basename;
  const ext = dot > 0 ? basename.slice(dot + 1) : '';
  const vars: Record<string, string> = {
    bucket: ctx.source.bucket,
    key,
    dirname,
    basename,
    barename,
    ext,
    autoext: ctx.autoext,
    index: String(ctx.index ?? 1),
    streamindex: String(ctx.streamIndex ?? 0),
    ...timeVars('', ctx.source.lastModified ?? ctx.taskTime),
    ...timeVars('t_', ctx.taskTime),
  };
  if (ctx.resolution) vars.resolution = ctx.resolution;
  for (const [k, v] of Object.entries(ctx.tags ?? {})) vars[`tags.${k}`] = v;
  return vars;
}

/** Replaces `{name}` variables; an unknown variable or an unbalanced brace is InvalidMediaArgument. */
export function expandTemplate(template: string, vars: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '{' && template[i + 1] === '{') {
      out += '{';
      i++;
    } else if (c === '}' && template[i + 1] === '}') {
      out += '}';
      i++;
    } else if (c === '{') {
      const end = template.indexOf('}', i);
      if (end < 0) fail('InvalidMediaArgument', `The output name "${template}" has an unclosed "{".`);
      const name = template.slice(i + 1, end);
      const value = vars[name];
      if (value === undefined) fail('InvalidMediaArgument', `The output name "${template}" uses an unknown variable {${name}}; known: ${Object.keys(vars).map((k) => `{${k}}`).join(' ')}.`);
      out += value;
      i = end;
    } else if (c === '}') {
      fail('InvalidMediaArgument', `The output name "${template}" has an unmatched "}" (write "}}" for a literal brace).`);
    } else {
      out += c;
    }
  }
  return out;
}

/** Checks that an expanded name is a usable object key. */
export function checkOutputKey(key: string): string {
  if (objectKeyProblem(key) !== undefined) {
    fail('InvalidMediaArgument', `The output name "${key}" is not a valid object key (1-1023 bytes, not starting with / or \\, no NUL).`);
  }
  return key;
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

/** {tags.<k>}: IMM Tags values may be any JSON; strings are used as they are, others as their JSON. */
export function stringTags(tags: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** Where a job's outputs go. */
export interface OutputNames {
  bucket: string;
  /** The main output (the playlist or manifest for segment outputs). */
  key: string;
  /** Where the other files (segments) go: the main key up to and including its last "/" ('' at the root). */
  dir: string;
  /** The name, without extension, the engine gives its files (see `outputLayout`). */
  fileStem: string;
}

/**
 * The names of a job's outputs. `templateSource` is the object the variables describe (OSS: the URL
 * object; IMM: the first source), `lastModified` its upload time ({year}…; the task time when unknown),
 * `taskTime` when the task was created ({t_year}…): a retry names its outputs from the stored task time,
 * so it writes the same keys. An unknown variable or an unusable key is InvalidMediaArgument.
 */
export function outputNames(job: MediaJob, templateSource: { bucket: string; key: string }, lastModified: Date | undefined, taskTime: Date): OutputNames {
  const dest = job.output.destination;
  if (!dest) fail('InvalidMediaArgument', 'The task has no output: sys/saveas (or Targets[].URI) is required.');
  const vars = templateVariables({ source: { ...templateSource, lastModified }, taskTime, autoext: outputExtension(job), resolution: resolutionVariable(job), tags: stringTags(job.tags) });
  // An empty {dirname} (a source at the bucket root) would leave "/name" or "a//name": collapse those slashes.
  const key = checkOutputKey(expandTemplate(dest.keyTemplate, vars).replace(/\/{2,}/g, '/').replace(/^\/+/, ''));
  const bucket = dest.bucket === undefined ? templateSource.bucket : expandTemplate(dest.bucket, vars);
  return { bucket, key, ...outputLayout(job, key) };
}

/**
 * How the other files of an output are named, from the main output's name (an object key, or the file
 * path `medley process --out` was given). Segment files are named after the playlist (out.m3u8 →
 * out-00000.ts) and sit beside it, so its relative references hold; anything else is "output".
 */
export function outputLayout(job: MediaJob, mainName: string): { dir: string; fileStem: string } {
  const slash = mainName.lastIndexOf('/');
  const dir = slash >= 0 ? mainName.slice(0, slash + 1) : '';
  const base = mainName.slice(slash + 1);
  const bare = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
  return { dir, fileStem: job.output.segment && bare && !bare.startsWith('.') ? bare : 'output' };
}

/** The name of the engine's `index`-th file (main output first): the main name, or the file's own name in `dir`. */
export function outputFileKey(names: { key: string; dir: string }, index: number, file: string): string {
  return index === 0 ? names.key : names.dir + file;
}
