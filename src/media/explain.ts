/**
 * The explanation of a planned job, as `medley process --explain` prints it and the console's plan view
 * shows it: the inputs in output order (what ffprobe found, the trim), the planner's decisions, the output
 * and its expected duration, and the FFmpeg command. Pure: it reads the prepared job (process.ts
 * prepareJob), never the disk.
 */
import type { MediaJob } from './job.js';
import type { PreparedJob } from './process.js';
import { ENGINE_PREFIX_ARGS, redactPaths } from './engine/run.js';

export interface ExplainedInput {
  index: number;
  align: boolean;
  name: string;
  formatName: string;
  durationSec: number;
  audio?: string;
  video?: string;
  /** The clip's trim, in words (`from 1 s, 2 s long`), when it has one. */
  trim?: string;
  /** The input's line as the CLI prints it. */
  line: string;
}

export interface Explanation {
  inputs: ExplainedInput[];
  decisions: string[];
  output: string;
  expectedDurationSec: number;
  /** The full argv, binary first. */
  argv: string[];
  /** `argv` quoted for a POSIX shell. */
  command: string;
}

export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * `names` are the clips' display names (object keys, `oss://b/k`); `pathNames` replace local paths in the
 * command by names the reader knows (the console never shows a server path).
 */
export function explainJob(job: MediaJob, prepared: Pick<PreparedJob, 'plan' | 'infos'>, opts: { ffmpeg: string; output: string; names: string[]; pathNames?: ReadonlyArray<readonly [string, string]> }): Explanation {
  const inputs = prepared.infos.map((info, i): ExplainedInput => {
    const c = job.clips[i]!;
    const audio = info.audio ? `audio ${info.audio.codec} ${info.audio.sampleRate} Hz ${info.audio.channels} ch` : undefined;
    const video = info.video ? `video ${info.video.codec} ${info.video.width}x${info.video.height} ${info.video.fps.toFixed(3)} fps` : undefined;
    const trim = c.startMs || c.durationMs ? `from ${c.startMs / 1000} s${c.durationMs ? `, ${c.durationMs / 1000} s long` : ' to the end'}` : undefined;
    const name = opts.names[i] ?? c.source.key;
    const align = i === job.alignIndex;
    const line = `${i}${align ? ' (align)' : ''}: ${name} — ${info.formatName}, ${info.durationSec.toFixed(3)} s, ${audio ?? 'no audio'}${video ? `, ${video}` : ''}${trim ? ` [${trim}]` : ''}`;
    return { index: i, align, name, formatName: info.formatName, durationSec: info.durationSec, ...(audio ? { audio } : {}), ...(video ? { video } : {}), ...(trim ? { trim } : {}), line };
  });
  const argv = [opts.ffmpeg, ...ENGINE_PREFIX_ARGS, ...prepared.plan.args].map((a) => (opts.pathNames ? redactPaths(a, opts.pathNames) : a));
  return { inputs, decisions: [...prepared.plan.decisions], output: opts.output, expectedDurationSec: prepared.plan.expectedDurationSec, argv, command: argv.map(shellQuote).join(' ') };
}

/** The CLI's text (`medley process --explain`). */
export function explanationText(e: Explanation): string {
  return [
    'Inputs (in output order):',
    ...e.inputs.map((i) => `  ${i.line}`),
    'Decisions:',
    ...e.decisions.map((d) => `  - ${d}`),
    `Output: ${e.output} (expected ${e.expectedDurationSec.toFixed(3)} s)`,
    'Command:',
    `  ${e.command}`,
    '',
  ].join('\n');
}
