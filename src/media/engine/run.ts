/**
 * Running FFmpeg as a child process: argv safety check, `-progress` parsing, stderr tail, wall-clock
 * timeout and cancellation (SIGTERM, then SIGKILL).
 */
import { fail } from '../../errors.js';
import { FORMAT_WHITELIST, isSingleFileDemuxer } from './safe-args.js';
import { limitExceeded, spawnEngine, type EngineSandbox } from './sandbox.js';

export { FORMAT_WHITELIST, inputArgs } from './safe-args.js';

/** Options always put in front of the planner's argv. */
export const ENGINE_PREFIX_ARGS: readonly string[] = Object.freeze([
  '-hide_banner',
  '-nostdin',
  '-y',
  '-nostats',
  '-loglevel',
  'error',
  '-progress',
  'pipe:1',
]);

const UNSAFE_PROTOCOL =
  /^(concat|https?|data|subfile|tcp|udp|rtmp\w*|rtp|ftp|pipe|crypto|tls|gopher|sftp|srtp|unix|fd|async|cache|hls):/i;

/**
 * Throws MediaProcessingFailed ("refusing to run ...") when an argv element names a non-file protocol
 * (except `pipe:1` right after `-progress`) or is the concat demuxer's `-safe` option, or when an input
 * (`-i`) is not opened with a forced single-file demuxer (`-f <demuxer>`) and the single-file
 * `-format_whitelist` among its own options (plan/input-args.ts says why).
 */
export function assertSafeArgv(argv: readonly string[]): void {
  let groupStart = 0;
  argv.forEach((arg, i) => {
    if (arg === '-i') {
      const opts = argv.slice(groupStart, i);
      const f = opts.lastIndexOf('-f');
      const wl = opts.lastIndexOf('-format_whitelist');
      const demuxer = f >= 0 ? opts[f + 1] : undefined;
      if (demuxer === undefined || !isSingleFileDemuxer(demuxer)) {
        fail('MediaProcessingFailed', `refusing to run ffmpeg: input ${JSON.stringify((argv[i + 1] ?? '').slice(0, 60))} is not opened with a single-file demuxer (-f ${demuxer ?? 'missing'})`);
      }
      if (wl < 0 || opts[wl + 1] !== FORMAT_WHITELIST) {
        fail('MediaProcessingFailed', `refusing to run ffmpeg: input ${JSON.stringify((argv[i + 1] ?? '').slice(0, 60))} has no single-file -format_whitelist`);
      }
      groupStart = i + 2;
    }
    if (arg === '-safe') {
      fail('MediaProcessingFailed', `refusing to run ffmpeg: argument ${i} is the -safe option`);
    }
    if (UNSAFE_PROTOCOL.test(arg) && !(arg === 'pipe:1' && argv[i - 1] === '-progress')) {
      fail('MediaProcessingFailed', `refusing to run ffmpeg: argument ${i} (${JSON.stringify(arg.slice(0, 60))}) uses a protocol other than a local file`);
    }
  });
}

export interface RunFfmpegOptions {
  ffmpeg: string;
  /** Everything after the fixed prefix (inputs, filters, outputs). */
  args: string[];
  /** Duration of the output being produced, for progress fractions; <= 0 reports only the end. */
  expectedDurationSec: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called with a fraction in [0, 1], strictly increasing. */
  onProgress?: (fraction: number) => void;
  cwd?: string;
  /** Told the child's pid once it started (task workers record it to reap orphans after a crash). */
  onSpawn?: (pid: number) => void;
  /**
   * Local paths FFmpeg may print and the names users know them by (`/…/work/t.1/in-0` -> `oss://b/k`):
   * messages never carry a server path.
   */
  pathNames?: ReadonlyArray<readonly [path: string, name: string]>;
  /** User and limits ffmpeg runs under (sandbox.ts); `cwd` is the output directory it writes into. */
  sandbox?: EngineSandbox;
}

const STDERR_TAIL_BYTES = 8 * 1024;
const KILL_GRACE_MS = 3000;

/** Generic lines ffmpeg prints after the real error. */
const GENERIC_STDERR = /^(Conversion failed!|Exiting normally.*|Error splitting the argument list.*|Error opening (input|output) files?.*)$/i;

/**
 * The last stderr line that says something specific, with `[mp3 @ 0x5555...]` shortened to `mp3:` and every
 * path of `pathNames` (longest first, with or without `file:`) replaced by its name.
 */
export function lastMeaningfulLine(stderr: string, pathNames: ReadonlyArray<readonly [string, string]> = []): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const pick = [...lines].reverse().find((l) => !GENERIC_STDERR.test(l)) ?? lines[lines.length - 1] ?? '';
  return redactPaths(pick.replace(/^\[([\w-]+) @ 0x[0-9a-f]+\]\s*/i, '$1: '), pathNames);
}

/** Replaces each local path (longest first, optionally `file:`-prefixed) by the name users know it by. */
export function redactPaths(text: string, pathNames: ReadonlyArray<readonly [string, string]>): string {
  let out = text;
  for (const [path, name] of [...pathNames].filter(([p]) => p !== '').sort((a, b) => b[0].length - a[0].length)) {
    out = out.split(`file:${path}`).join(name).split(path).join(name);
  }
  return out;
}

/** Parses an `out_time=HH:MM:SS.micro` value into microseconds (undefined for N/A or negative). */
function parseOutTime(v: string): number | undefined {
  const m = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(v.trim());
  if (!m) return undefined;
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1e6;
}

/**
 * Turns ffmpeg `-progress` output (key=value lines, blocks ending in `progress=continue|end`) into
 * fractions. Exported for tests.
 */
export class ProgressParser {
  private partial = '';
  private timeUs: number | undefined;
  private last = 0;
  /** The last out_time reported, seconds (how far the output got: a decode check reads it). */
  lastOutTimeSec: number | undefined;
  constructor(
    private readonly expectedDurationSec: number,
    private readonly onProgress?: (fraction: number) => void,
  ) {}

  push(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line.trim());
  }

  /** Reports 1 (the run succeeded). */
  finish(): void {
    this.emit(1);
  }

  private line(line: string): void {
    const eq = line.indexOf('=');
    if (eq < 0) return;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'out_time_us' || key === 'out_time_ms') {
      // out_time_ms is microseconds too (a long-standing FFmpeg quirk); out_time_us is preferred.
      const n = Number(value);
      if (value !== '' && Number.isFinite(n) && n >= 0 && (key === 'out_time_us' || this.timeUs === undefined)) this.timeUs = n;
    } else if (key === 'out_time') {
      if (this.timeUs === undefined) this.timeUs = parseOutTime(value);
    } else if (key === 'progress') {
      if (this.timeUs !== undefined) this.lastOutTimeSec = this.timeUs / 1e6;
      if (this.timeUs !== undefined && this.expectedDurationSec > 0) {
        this.emit(this.timeUs / 1e6 / this.expectedDurationSec);
      }
      this.timeUs = undefined;
    }
  }

  private emit(f: number): void {
    const clamped = Math.min(1, Math.max(0, f));
    if (clamped > this.last) {
      this.last = clamped;
      this.onProgress?.(clamped);
    }
  }
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

/**
 * Runs ffmpeg with ENGINE_PREFIX_ARGS + args. Resolves with the stderr tail on exit code 0; rejects with
 * MediaProcessingFailed (non-zero exit, timeout, spawn failure, unsafe argv) or MediaCancelled (signal).
 * On rejection the child process has already exited.
 */
export async function runFfmpeg(opts: RunFfmpegOptions): Promise<{ stderrTail: string; outTimeSec?: number }> {
  const argv = [...ENGINE_PREFIX_ARGS, ...opts.args];
  assertSafeArgv(argv);
  if (opts.signal?.aborted) fail('MediaCancelled', 'The media task was cancelled before ffmpeg started.');

  return new Promise((resolve, reject) => {
    const child = spawnEngine(opts.ffmpeg, argv, { sandbox: opts.sandbox, cwd: opts.cwd, writableDir: opts.cwd, timeoutMs: opts.timeoutMs });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    const progress = new ProgressParser(opts.expectedDurationSec, opts.onProgress);
    let stderr = '';
    let stopReason: 'timeout' | 'abort' | undefined;
    let spawnError: Error | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      try {
        progress.push(d);
      } catch {
        // a throwing progress callback must not break the run
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (stderr.length > STDERR_TAIL_BYTES * 2) stderr = stderr.slice(-STDERR_TAIL_BYTES);
    });

    const stop = (reason: 'timeout' | 'abort'): void => {
      if (stopReason || child.exitCode !== null || child.signalCode !== null) return;
      stopReason = reason;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => stop('timeout'), opts.timeoutMs);
    const onAbort = (): void => stop('abort');
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      const stderrTail = stderr.slice(-STDERR_TAIL_BYTES);
      const settle = (f: () => never): void => {
        try {
          f();
        } catch (e) {
          reject(e);
        }
      };
      if (stopReason === 'abort') {
        settle(() => fail('MediaCancelled', 'The media task was cancelled; ffmpeg was stopped.'));
      } else if (stopReason === 'timeout') {
        settle(() => fail('MediaProcessingFailed', `ffmpeg timed out after ${formatDuration(opts.timeoutMs)} and was stopped`));
      } else if (spawnError) {
        settle(() => fail('MediaProcessingFailed', `could not start ffmpeg (${opts.ffmpeg}): ${spawnError?.message ?? ''}`));
      } else if (code !== 0) {
        const why = limitExceeded(signal) ?? (lastMeaningfulLine(stderrTail, opts.pathNames) || (signal ? `killed by ${signal}` : 'no error output'));
        settle(() => fail('MediaProcessingFailed', `ffmpeg failed (exit ${code ?? signal}): ${why}`));
      } else {
        try {
          progress.finish();
        } catch {
          // ignore callback errors
        }
        resolve({ stderrTail, ...(progress.lastOutTimeSec !== undefined ? { outTimeSec: progress.lastOutTimeSec } : {}) });
      }
    });
  });
}
