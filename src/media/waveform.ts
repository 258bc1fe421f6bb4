/**
 * Waveform peaks of a media file for the console: FFmpeg decodes the first audio stream to mono 16-bit PCM
 * at a low rate (PEAK_SAMPLE_RATE) on its stdout, and the samples are reduced to min/max pairs while they
 * stream, so memory stays at one bin whatever the length (a 1-hour file is 28.8 M samples, never held).
 *
 * The child is spawned through the engine sandbox (engine/sandbox.ts: engine user, prlimit, minimal
 * environment) and the input is opened exactly as tasks open theirs: the sniffed single-file demuxer and the
 * format whitelist (plan/input-args.ts), checked by assertSafeArgv. Only the output, `pipe:1`, is the
 * waveform's own: the PCM goes to Medley, never to a file.
 */
import type { MediaEngine } from './engine/index.js';
import { assertSafeArgv, lastMeaningfulLine } from './engine/run.js';
import { limitExceeded, shareWithEngine, spawnEngine } from './engine/sandbox.js';
import { inputArgs, inputDemuxer } from './plan/input-args.js';
import { fail } from '../errors.js';

/** Samples per second decoded for peaks: 8 kHz keeps every bin of a 1-hour/4000-bin waveform at 7200 samples. */
export const PEAK_SAMPLE_RATE = 8000;
export const DEFAULT_PEAK_BINS = 4000;
export const MIN_PEAK_BINS = 100;
export const MAX_PEAK_BINS = 20000;

export interface Waveform {
  /** Bins requested; `min.length` may differ by a few when the probed duration was off. */
  bins: number;
  sampleRate: number;
  samplesPerBin: number;
  /** Seconds actually decoded (samples / sampleRate). */
  durationSec: number;
  /** Per bin, the lowest and highest sample in [-1, 1], 4 decimals. */
  min: number[];
  max: number[];
}

/** Reduces a stream of s16le mono samples to min/max per `samplesPerBin` samples. Pure; exported for tests. */
export class PeakReducer {
  readonly min: number[] = [];
  readonly max: number[] = [];
  private lo = 1;
  private hi = -1;
  private inBin = 0;
  private carry: number | undefined;
  samples = 0;

  constructor(readonly samplesPerBin: number) {
    if (!Number.isSafeInteger(samplesPerBin) || samplesPerBin < 1) throw new Error(`samplesPerBin must be a whole number >= 1, not ${samplesPerBin}`);
  }

  push(chunk: Buffer): void {
    let i = 0;
    // A sample split across two chunks: its low byte came last time.
    if (this.carry !== undefined && chunk.length > 0) {
      this.sample(((chunk[0]! << 24) >> 16) | this.carry);
      this.carry = undefined;
      i = 1;
    }
    const end = chunk.length - ((chunk.length - i) % 2);
    for (; i < end; i += 2) this.sample(chunk.readInt16LE(i));
    if (end < chunk.length) this.carry = chunk[end]!;
  }

  private sample(s: number): void {
    const v = s / 32768;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
    this.samples++;
    if (++this.inBin === this.samplesPerBin) this.flush();
  }

  private flush(): void {
    if (this.inBin === 0) return;
    this.min.push(round4(this.lo));
    this.max.push(round4(this.hi));
    this.lo = 1;
    this.hi = -1;
    this.inBin = 0;
  }

  /** Closes the last, partial bin. */
  finish(): { min: number[]; max: number[]; samples: number } {
    this.flush();
    return { min: this.min, max: this.max, samples: this.samples };
  }
}

const round4 = (v: number) => Math.round(v * 10000) / 10000;

/** Samples per bin for `bins` bins over `durationSec` (at least 1). */
export function samplesPerBin(durationSec: number, bins: number, rate = PEAK_SAMPLE_RATE): number {
  return Math.max(1, Math.ceil((Math.max(0, durationSec) * rate) / bins));
}

/** The argv after the engine's fixed flags: the task-style input, first audio stream only, mono PCM on stdout. */
export function peakArgs(file: string, demuxer: Parameters<typeof inputArgs>[0], rate = PEAK_SAMPLE_RATE): string[] {
  return [...inputArgs(demuxer), '-i', file, '-map', '0:a:0', '-vn', '-sn', '-dn', '-ac', '1', '-ar', String(rate), '-f', 's16le', 'pipe:1'];
}

const STDERR_TAIL = 4096;
const WAVEFORM_PREFIX_ARGS = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error'];

/**
 * Peaks of a local file (a private copy of the object). MediaUnreadable when it has no audio stream or does
 * not decode; MediaProcessingFailed when FFmpeg is stopped (past `timeoutMs`, cancelled, a resource limit).
 */
export async function computeWaveform(engine: MediaEngine, file: string, displayName: string, opts: { bins: number; timeoutMs: number; signal?: AbortSignal }): Promise<Waveform> {
  const info = await engine.probe(file, displayName);
  if (!info.audio) fail('MediaUnreadable', `${displayName} has no audio stream to draw a waveform of.`);
  const perBin = samplesPerBin(info.durationSec, opts.bins);
  const ffmpeg = engine.choose({ encoders: [] }).ffmpeg;
  // The engine's fixed flags without -progress (stdout carries the samples) and -y (nothing is written).
  const args = [...WAVEFORM_PREFIX_ARGS, ...peakArgs(file, inputDemuxer(info))];
  // The inputs are judged as for every run; the one pipe is the PCM output, which this module reads itself.
  assertSafeArgv(args.slice(0, -1));
  await shareWithEngine(file, engine.sandbox);
  const reducer = new PeakReducer(perBin);
  await new Promise<void>((resolve, reject) => {
    const child = spawnEngine(ffmpeg, args, { sandbox: engine.sandbox, timeoutMs: opts.timeoutMs });
    let stderr = '';
    let why: string | undefined;
    const stop = (reason: string) => {
      why ??= reason;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(`timed out after ${Math.round(opts.timeoutMs / 1000)} s`), opts.timeoutMs);
    const onAbort = () => stop('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (d: Buffer) => reducer.push(d));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr = (stderr + d).slice(-STDERR_TAIL)));
    child.on('error', (e) => (why ??= `could not start ffmpeg: ${e.message}`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (code === 0 && !why) return resolve();
      const limit = why ?? limitExceeded(signal);
      try {
        // Stopped (timeout, cancel, a resource limit) is Medley's side; a decoder that gives up is the file's.
        if (limit) fail('MediaProcessingFailed', `computing the waveform of ${displayName} failed: ${limit}`);
        fail('MediaUnreadable', `${displayName} could not be decoded for its waveform: ${lastMeaningfulLine(stderr, [[file, displayName]]) || `ffmpeg exit ${code ?? signal}`}`);
      } catch (e) {
        reject(e as Error);
      }
    });
  });
  const { min, max, samples } = reducer.finish();
  return { bins: opts.bins, sampleRate: PEAK_SAMPLE_RATE, samplesPerBin: perBin, durationSec: samples / PEAK_SAMPLE_RATE, min, max };
}
