/**
 * Bounds on what a media task may read and produce (pure). A hostile source can claim any length: a 16 KB
 * Matroska file with one packet stamped at 100 h probes as a 100-hour file, and the planner pads every clip to
 * its probed length, so without these a few KB in become gigabytes out. The checks, in the order they run:
 *  - the source object's size (MEDLEY_MAX_MEDIA_INPUT_BYTES), before it is copied;
 *  - plausibility (probe): the claimed duration against the bytes that would have to hold it, and the frame size;
 *  - the source's duration (MEDLEY_MAX_SOURCE_DURATION) and the planned output's (MEDLEY_MAX_OUTPUT_DURATION);
 *  - the bytes written (MEDLEY_MAX_OUTPUT_BYTES): FFmpeg's -fs on the output plus a watch on the output
 *    directory (segment files are not counted by -fs), which stops FFmpeg;
 *  - truncation: a source that decodes shorter than its header declares is reported as such.
 */
import { fail } from '../errors.js';
import type { MediaInfo } from './media-info.js';

export interface MediaLimits {
  /** Longest source accepted, seconds (MEDLEY_MAX_SOURCE_DURATION). */
  maxSourceDurationSec: number;
  /** Longest output planned, seconds (MEDLEY_MAX_OUTPUT_DURATION). */
  maxOutputDurationSec: number;
  /** Most bytes all files of one output may take (MEDLEY_MAX_OUTPUT_BYTES). */
  maxOutputBytes: number;
  /** Largest source object a media task reads (MEDLEY_MAX_MEDIA_INPUT_BYTES). */
  maxMediaInputBytes: number;
}

export const DEFAULT_MEDIA_LIMITS: Readonly<MediaLimits> = Object.freeze({
  maxSourceDurationSec: 6 * 3600,
  maxOutputDurationSec: 6 * 3600,
  maxOutputBytes: 8 * 1024 ** 3,
  maxMediaInputBytes: 5 * 1024 ** 3,
});

/**
 * Least bytes per second of claimed duration a compressed stream can take. The lowest-rate codecs Medley reads
 * need far more (MP3 8 kbit/s = 1000 B/s, Opus 6 kbit/s = 750 B/s, AMR-NB 4.75 kbit/s = 594 B/s); a
 * sparse-timestamp file claiming 100 h in 16 KB is 0.05 B/s.
 */
export const MIN_BYTES_PER_SECOND = 100;
/** Raw ADTS / AMR durations are counted from the packets present (engine/probe.ts), so they cannot lie. */
const COUNTED_FORMATS = ['aac', 'amr'];
/** Largest video frame accepted: 16384 on a side and 64 Mpixel (8192 x 8192). */
export const MAX_VIDEO_SIDE = 16384;
export const MAX_VIDEO_PIXELS = 8192 * 8192;

const sec = (s: number): string => `${Math.round(s * 1000) / 1000} s`;
const gib = (n: number): string => (n >= 1024 ** 3 ? `${Math.round((n / 1024 ** 3) * 100) / 100} GiB` : n >= 1024 ** 2 ? `${Math.round((n / 1024 ** 2) * 100) / 100} MiB` : `${n} bytes`);

/** Why a probed source cannot be what it claims (its size cannot hold its duration), else undefined. */
export function implausibility(info: MediaInfo, size: number): string | undefined {
  const d = info.durationSec;
  if (!(d > 0) || !(size > 0)) return undefined;
  if (info.formatName.split(',').some((f) => COUNTED_FORMATS.includes(f.trim())) && !info.video) return undefined;
  const a = info.audio;
  let min = MIN_BYTES_PER_SECOND;
  let what = `compressed media needs at least ${MIN_BYTES_PER_SECOND}`;
  if (!info.video && a && /^pcm_/.test(a.codec) && a.bitsPerSample) {
    // PCM is exactly rate x channels x sample size; half of that allows for any container arithmetic.
    min = (a.sampleRate * a.channels * a.bitsPerSample) / 8 / 2;
    what = `${a.codec} at ${a.sampleRate} Hz x ${a.channels} ch takes ${Math.round(min * 2)}`;
  }
  if (size >= d * min) return undefined;
  const bps = size / d;
  return `implausible: ${size} bytes cannot hold the ${sec(d)} it claims (${bps < 1 ? bps.toFixed(3) : Math.round(bps)} bytes per second; ${what} bytes per second)`;
}

/** Refuses a frame size no source of Medley's should have (MediaLimitExceeded). */
export function checkVideoSize(info: MediaInfo, displayName: string): void {
  const v = info.video;
  if (!v) return;
  if (v.width > MAX_VIDEO_SIDE || v.height > MAX_VIDEO_SIDE || v.width * v.height > MAX_VIDEO_PIXELS) {
    fail('MediaLimitExceeded', `${displayName} has ${v.width}x${v.height} video frames, more than Medley decodes (at most ${MAX_VIDEO_SIDE} pixels on a side and ${MAX_VIDEO_PIXELS} pixels per frame)`);
  }
}

/** The source object is too large to be read by a media task. */
export function checkInputSize(size: number, displayName: string, limits: MediaLimits): void {
  if (size > limits.maxMediaInputBytes) {
    fail('MediaLimitExceeded', `${displayName} is ${gib(size)}, more than the ${gib(limits.maxMediaInputBytes)} a media task reads (MEDLEY_MAX_MEDIA_INPUT_BYTES)`);
  }
}

export function checkSourceDuration(info: MediaInfo, displayName: string, limits: MediaLimits): void {
  if (info.durationSec > limits.maxSourceDurationSec) {
    fail('MediaLimitExceeded', `${displayName} lasts ${sec(info.durationSec)}, more than the ${sec(limits.maxSourceDurationSec)} a source may last (MEDLEY_MAX_SOURCE_DURATION)`);
  }
}

export function checkOutputDuration(durationSec: number, limits: MediaLimits): void {
  if (durationSec > limits.maxOutputDurationSec) {
    fail('MediaLimitExceeded', `the output would last ${sec(durationSec)}, more than the ${sec(limits.maxOutputDurationSec)} an output may last (MEDLEY_MAX_OUTPUT_DURATION)`);
  }
}

export function outputBytesExceeded(limits: MediaLimits): never {
  fail('MediaLimitExceeded', `the output reached the ${gib(limits.maxOutputBytes)} an output may take (MEDLEY_MAX_OUTPUT_BYTES) and was stopped`);
}

/**
 * An audio-only source holding less than half the bytes its nominal bit rate needs for its declared duration
 * (a cut MP3 whose Xing header still promises the whole): worth a decode check before any work.
 */
export function looksTruncated(info: MediaInfo): boolean {
  const a = info.audio;
  if (info.video || !a?.bitrate || !info.size || !(info.durationSec > 0)) return false;
  return info.size * 8 < 0.5 * a.bitrate * info.durationSec;
}

/**
 * A source whose decodable length falls short of what its header declares, by more than a frame's worth of
 * slack (the larger of 0.1 s and 2 %), is truncated.
 */
export function isTruncated(declaredSec: number, decodedSec: number): boolean {
  return declaredSec - decodedSec > Math.max(0.1, declaredSec * 0.02);
}

export function truncatedMessage(displayName: string, declaredSec: number, decodedSec: number): string {
  return `${displayName} could not be read as media: truncated: decodes ${decodedSec.toFixed(3)} s of the ${declaredSec.toFixed(3)} s its header declares`;
}
