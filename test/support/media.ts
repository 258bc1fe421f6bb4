/**
 * Media test helpers: the bundled ffmpeg/ffprobe, fixture generation with lavfi, probing, decoding to
 * PCM, and measurements on decoded audio (dominant frequency, RMS, silence at joins).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const FFMPEG = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
export const FFPROBE = (require('ffprobe-static') as { path: string }).path;

export function ffmpeg(args: string[], cwd?: string): void {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', ...args], { encoding: 'utf8', cwd, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `ffmpeg failed (${String(r.status)}): ${r.stderr}\nargs: ${args.join(' ')}`);
}

/** A sine tone of `freq` Hz lasting `seconds`, encoded per `codecArgs` (e.g. ['-ar','22050','-c:a','libmp3lame']). */
export function tone(file: string, freq: number, seconds: number, codecArgs: string[] = []): string {
  ffmpeg(['-f', 'lavfi', '-i', `sine=frequency=${freq}:duration=${seconds}:sample_rate=48000`, ...codecArgs, file]);
  return file;
}

export interface ProbeStream {
  codec_type: string;
  codec_name: string;
  sample_rate?: string;
  channels?: number;
  bit_rate?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  pix_fmt?: string;
  duration?: string;
  nb_read_frames?: string;
  nb_read_packets?: string;
}
export interface ProbeJson {
  format: { format_name: string; duration: string; bit_rate?: string };
  streams: ProbeStream[];
}

export function ffprobe(file: string, extra: string[] = []): ProbeJson {
  const r = spawnSync(FFPROBE, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...extra, file], { encoding: 'utf8', maxBuffer: 16 << 20 });
  assert.equal(r.status, 0, `ffprobe failed (${String(r.status)}) on ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ProbeJson;
}

export const audioStream = (j: ProbeJson) => j.streams.find((s) => s.codec_type === 'audio');
export const videoStream = (j: ProbeJson) => j.streams.find((s) => s.codec_type === 'video');

/** Decoded mono s16le PCM of a file's first audio stream at `sr` Hz. */
export function decode(file: string, sr: number): Int16Array {
  const r = spawnSync(FFMPEG, ['-v', 'error', '-nostdin', '-i', file, '-map', '0:a:0', '-ac', '1', '-ar', String(sr), '-f', 's16le', '-'], { maxBuffer: 512 << 20 });
  assert.equal(r.status, 0, String(r.stderr));
  const b = r.stdout;
  return new Int16Array(b.buffer, b.byteOffset, Math.floor(b.byteLength / 2));
}

/** Dominant frequency in [from, to) seconds, by zero crossings. */
export function frequency(pcm: Int16Array, sr: number, from: number, to: number): number {
  const a = Math.round(from * sr);
  const b = Math.min(pcm.length, Math.round(to * sr));
  let crossings = 0;
  for (let i = a + 1; i < b; i++) if (((pcm[i - 1] ?? 0) < 0) !== ((pcm[i] ?? 0) < 0)) crossings++;
  return crossings / 2 / ((b - a) / sr);
}

export function rms(pcm: Int16Array, a: number, b: number): number {
  let s = 0;
  for (let i = a; i < b; i++) s += (pcm[i] ?? 0) ** 2;
  return Math.sqrt(s / Math.max(1, b - a));
}

/** Smallest RMS over consecutive 10 ms windows in [from, to) seconds: a gap at a join shows up here. */
export function minWindowRms(pcm: Int16Array, sr: number, from: number, to: number): { min: number; at: number } {
  const w = Math.round(sr / 100);
  let min = Infinity;
  let at = 0;
  for (let i = Math.round(from * sr); i + w <= Math.min(pcm.length, Math.round(to * sr)); i += w) {
    const r = rms(pcm, i, i + w);
    if (r < min) [min, at] = [r, i / sr];
  }
  return { min, at };
}

/**
 * Checks that decoded audio is the given tones in order, each lasting its duration (seconds), with no
 * silence anywhere (so none at the joins either). Edges of each segment (±60 ms) are left out of the
 * frequency check, where codecs smear the transition.
 */
export function assertToneSequence(pcm: Int16Array, sr: number, segments: Array<{ freq: number; seconds: number }>): void {
  let t = 0;
  for (const [i, s] of segments.entries()) {
    const f = frequency(pcm, sr, t + 0.06, t + s.seconds - 0.06);
    assert.ok(Math.abs(f - s.freq) < Math.max(6, s.freq * 0.02), `segment ${i} (${t.toFixed(2)}–${(t + s.seconds).toFixed(2)} s) is ${f.toFixed(1)} Hz, expected ${s.freq} Hz`);
    t += s.seconds;
  }
  const quiet = minWindowRms(pcm, sr, 0.05, t - 0.05);
  assert.ok(quiet.min > 300, `silence (RMS ${quiet.min.toFixed(0)}) at ${quiet.at.toFixed(3)} s`);
}
