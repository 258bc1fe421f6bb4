/**
 * Output naming (pure): the variables of OSS sys/saveas and IMM TargetURI templates, e.g.
 * `outobj.{autoext}` or `{dirname}/{barename}_{resolution}.{autoext}`; `{{` and `}}` are literal braces.
 */
import { fail } from '../errors.js';
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
