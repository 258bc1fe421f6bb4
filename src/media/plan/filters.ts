/**
 * Filter-graph pieces: one chain per clip and stream, then `concat`.
 *
 * The cut is made in the graph (`trim`/`atrim` on the decoded frames), not by input-side `-ss`/`-t`: seeking
 * in raw audio (MP3 without a TOC, ADTS, AMR) lands on estimated timestamps, so an input-side cut is not
 * sample-accurate there even with FFmpeg's accurate_seek; `atrim` cuts decoded frames at the exact sample (its
 * time base is 1/sample_rate). The cost is decoding the skipped head of a source, which timeline.ts avoids
 * for far starts in indexed containers with an input-side pre-seek that stops short of the cut. No `-t` is
 * needed: `concat` stops requesting from an input once its segment is over.
 *
 * Every clip then has an exact length: audio is resampled and re-laid-out, padded with silence (`apad`
 * whole_len) and cut (`atrim` end_sample) to exactly `samples`; video is brought to the output size, rate
 * (`fps`), pixel format and SAR 1 and cut to exactly `frames` (`trim` end_frame). In video jobs a clip's audio
 * length is its video length (frames / fps, in samples), so audio and video stay in sync at every join.
 * Only filters and options of the bundled 2018 build (N-47683) are used: its `apad` counts in samples only
 * (no pad_dur/whole_dur), and `tpad`, although this particular build has it, is avoided (older 4.x builds
 * lack it; black clips use `color` + `trim` instead).
 */
import { fmtSec, ratString, type Rational } from './util.js';
import type { Size } from './geometry.js';

export interface AudioFormat {
  sampleRate: number;
  layout: string;
  sampleFmt: string;
}

function aformat(f: AudioFormat): string {
  return `aformat=sample_fmts=${f.sampleFmt}:sample_rates=${f.sampleRate}:channel_layouts=${f.layout}`;
}

/**
 * A clip's audio: trimmed, timestamps reset, resampled + re-laid-out, padded/cut to exactly `samples`.
 * `samples` undefined = open end: the clip runs to the real end of the decoded source (audio-only jobs, clips
 * taken "to the end": probed durations of MP3/ADTS/AMR sources include priming/padding or are bit-rate
 * estimates, so padding to them would put silence at the join and cutting to them could lose the tail).
 */
export function audioClipChain(input: string, startSec: number, durationSec: number | undefined, f: AudioFormat, samples: number | undefined, out: string): string {
  const trim = durationSec === undefined ? `atrim=start=${fmtSec(startSec)}` : `atrim=start=${fmtSec(startSec)}:duration=${fmtSec(durationSec)}`;
  const exact = samples === undefined ? '' : `,apad=whole_len=${samples},atrim=end_sample=${samples}`;
  return `[${input}]${trim},asetpts=PTS-STARTPTS,aresample=${f.sampleRate},${aformat(f)}${exact}[${out}]`;
}

/** Silence of exactly `samples` (a clip without audio, or with its audio disabled). */
export function silenceChain(f: AudioFormat, samples: number, out: string): string {
  return `anullsrc=r=${f.sampleRate}:cl=${f.layout},${aformat(f)},atrim=end_sample=${samples}[${out}]`;
}

export interface VideoFormat {
  size: Size;
  fps: Rational;
  pixelFormat: string;
}

/** A clip's video: trimmed, timestamps reset, scaled/cropped/padded, frame rate, pixel format, SAR 1, `frames` frames. */
export function videoClipChain(input: string, startSec: number, durationSec: number, geometry: string[], f: VideoFormat, frames: number, out: string): string {
  return [
    `[${input}]trim=start=${fmtSec(startSec)}:duration=${fmtSec(durationSec)}`,
    'setpts=PTS-STARTPTS',
    ...geometry,
    `fps=fps=${ratString(f.fps)}`,
    `format=${f.pixelFormat}`,
    'setsar=1',
    `trim=end_frame=${frames}[${out}]`,
  ].join(',');
}

/** Black frames (a clip without video, or with its video disabled). */
export function blackChain(f: VideoFormat, frames: number, out: string): string {
  return `color=c=black:s=${f.size.w}x${f.size.h}:r=${ratString(f.fps)},format=${f.pixelFormat},setsar=1,trim=end_frame=${frames}[${out}]`;
}

/** concat over n segments; `segments[i]` lists segment i's labels in output-stream order ([v][a]). */
export function concatFilter(segments: string[][], v: number, a: number, outs: string[]): string {
  return `${segments.map((seg) => seg.map((l) => `[${l}]`).join('')).join('')}concat=n=${segments.length}:v=${v}:a=${a}${outs.map((o) => `[${o}]`).join('')}`;
}

/** Names of the filters a graph uses (for the engine's capability check). */
export function filterNames(graph: string): string[] {
  const names = new Set<string>();
  for (const chain of graph.split(';')) {
    for (const raw of chain.split(',')) {
      const name = raw.replace(/^(\[[^\]]*\])+/, '').split(/[=[]/)[0]?.trim();
      if (name) names.add(name);
    }
  }
  return [...names];
}
