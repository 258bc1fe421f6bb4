/**
 * Container strategies: muxer, {autoext}, the ffprobe names of the result, which codecs the container takes
 * (the SEED table of spec 5.5, plus what the bundled 2018 muxers really accept), muxer options and how much
 * encoder priming ffprobe counts into the duration of the result.
 */
import type { AudioCodec, Container, VideoCodec } from '../job.js';
import { AUDIO_CODECS } from '../job.js';
import { fail } from '../../errors.js';

export interface ContainerSpec {
  name: Container;
  muxer: string;
  extension: string;
  formatNames: string[];
  audioOnly: boolean;
  /** Audio codecs the container takes (SEED table). */
  audioCodecs: readonly AudioCodec[];
  videoCodecs: readonly VideoCodec[];
  /** Output rates the bundled muxer accepts for a codec, when it restricts them (null = any). */
  audioRates?: (codec: AudioCodec) => readonly number[] | null;
  /** Frame rates the muxer accepts (MXF), as exact `num/den` strings. */
  frameRates?: readonly string[];
  /** ffprobe reports the duration without encoder priming (edit list), for these codecs. */
  signalsPriming?: readonly AudioCodec[];
  /** Extra seconds of probe slack (AVI: compressed-audio durations come from byte counts, ~0.1 s off). */
  durationSlackSec?: number;
  /** The B-frame reorder delay shows up in the probed duration (ASF, FLV: ~2 frames with x264 defaults). */
  reorderDelayInDuration?: boolean;
}

const ALL_AUDIO = AUDIO_CODECS;
const without = (...xs: AudioCodec[]): AudioCodec[] => ALL_AUDIO.filter((c) => !xs.includes(c));

const SPECS: Record<Container, ContainerSpec> = {
  mp4: {
    name: 'mp4',
    muxer: 'mp4',
    extension: 'mp4',
    formatNames: ['mp4'],
    audioOnly: false,
    audioCodecs: without('pcm'),
    videoCodecs: ['h264', 'h265', 'vp9'],
    signalsPriming: ['aac', 'mp3', 'opus'],
  },
  mkv: { name: 'mkv', muxer: 'matroska', extension: 'mkv', formatNames: ['matroska'], audioOnly: false, audioCodecs: ALL_AUDIO, videoCodecs: ['h264', 'h265', 'vp9'] },
  mov: {
    name: 'mov',
    muxer: 'mov',
    extension: 'mov',
    formatNames: ['mov'],
    audioOnly: false,
    audioCodecs: without('flac', 'opus'),
    videoCodecs: ['h264', 'h265'],
    signalsPriming: ['aac', 'mp3'],
  },
  asf: {
    name: 'asf',
    muxer: 'asf',
    extension: 'asf',
    formatNames: ['asf'],
    audioOnly: false,
    audioCodecs: without('opus'),
    videoCodecs: ['h264', 'h265'],
    reorderDelayInDuration: true,
  },
  avi: {
    name: 'avi',
    muxer: 'avi',
    extension: 'avi',
    formatNames: ['avi'],
    audioOnly: false,
    audioCodecs: without('opus'),
    videoCodecs: ['h264', 'h265'],
    durationSlackSec: 0.15,
  },
  mxf: {
    name: 'mxf',
    muxer: 'mxf',
    extension: 'mxf',
    formatNames: ['mxf'],
    audioOnly: false,
    audioCodecs: ['pcm'],
    videoCodecs: ['h264'],
    // The bundled mxf muxer: "only 48khz is implemented"; video only at the MXF content-package rates.
    audioRates: () => [48000],
    frameRates: ['24000/1001', '24', '25', '30000/1001', '30', '50', '60000/1001', '60'],
  },
  ts: { name: 'ts', muxer: 'mpegts', extension: 'ts', formatNames: ['mpegts'], audioOnly: false, audioCodecs: ['mp3', 'aac', 'ac3', 'opus'], videoCodecs: ['h264', 'h265'] },
  flv: {
    name: 'flv',
    muxer: 'flv',
    extension: 'flv',
    formatNames: ['flv'],
    audioOnly: false,
    audioCodecs: ['mp3', 'aac', 'ac3'],
    videoCodecs: ['h264'],
    reorderDelayInDuration: true,
    // FLV's sound-rate field: 11025/22050/44100 (48 kHz mp3 is stored flagged as 44.1 kHz); AAC carries its own.
    audioRates: (c) => (c === 'mp3' ? [11025, 22050, 44100, 48000] : null),
  },
  webm: { name: 'webm', muxer: 'webm', extension: 'webm', formatNames: ['webm'], audioOnly: false, audioCodecs: ['opus', 'vorbis'], videoCodecs: ['vp9'] },
  mp3: { name: 'mp3', muxer: 'mp3', extension: 'mp3', formatNames: ['mp3'], audioOnly: true, audioCodecs: ['mp3'], videoCodecs: [] },
  aac: { name: 'aac', muxer: 'adts', extension: 'aac', formatNames: ['aac'], audioOnly: true, audioCodecs: ['aac'], videoCodecs: [] },
  flac: { name: 'flac', muxer: 'flac', extension: 'flac', formatNames: ['flac'], audioOnly: true, audioCodecs: ['flac'], videoCodecs: [] },
  oga: { name: 'oga', muxer: 'ogg', extension: 'oga', formatNames: ['ogg'], audioOnly: true, audioCodecs: ['vorbis'], videoCodecs: [] },
  ac3: { name: 'ac3', muxer: 'ac3', extension: 'ac3', formatNames: ['ac3'], audioOnly: true, audioCodecs: ['ac3'], videoCodecs: [] },
  opus: { name: 'opus', muxer: 'opus', extension: 'opus', formatNames: ['ogg'], audioOnly: true, audioCodecs: ['opus'], videoCodecs: [] },
  amr: { name: 'amr', muxer: 'amr', extension: 'amr', formatNames: ['amr'], audioOnly: true, audioCodecs: ['amr'], videoCodecs: [] },
};

export function containerSpec(c: Container): ContainerSpec {
  return SPECS[c];
}

/**
 * Codec x container checks. Violations of the SEED table are request errors (InvalidMediaArgument); pairs the
 * table allows but the bundled 2018 muxers cannot write are engine limits (MediaEngineUnsupported).
 */
export function checkCodecs(spec: ContainerSpec, audio: AudioCodec | undefined, video: VideoCodec | undefined): void {
  if (audio && !spec.audioCodecs.includes(audio)) {
    fail('InvalidMediaArgument', `container ${spec.name} cannot carry ${audio} audio (allowed: ${spec.audioCodecs.join(', ')})`);
  }
  if (video && !spec.videoCodecs.includes(video)) {
    fail('InvalidMediaArgument', `container ${spec.name} cannot carry ${video} video (allowed: ${spec.videoCodecs.join(', ') || 'none'})`);
  }
  // Engine limits of the bundled build (verified against its muxers):
  if (spec.name === 'flv' && audio === 'ac3') fail('MediaEngineUnsupported', 'the bundled flv muxer cannot carry ac3 audio');
  if (spec.name === 'asf' && video === 'h265') fail('MediaEngineUnsupported', 'the bundled asf muxer cannot carry h265 video');
  if (spec.name === 'mp4' && audio === 'amr' && video !== undefined && video !== 'h264') {
    fail('MediaEngineUnsupported', `the bundled mp4 muxer has no AMR tag (AMR goes through the 3gp muxer, which cannot carry ${video})`);
  }
}

/** The muxer actually used: mp4 with AMR audio is written by the 3GP flavour of the ISO BMFF muxer. */
export function muxerFor(spec: ContainerSpec, audio: AudioCodec | undefined, decisions: string[]): string {
  if (spec.name === 'mp4' && audio === 'amr') {
    decisions.push('container: mp4 with AMR audio written by the 3gp muxer (same ISO BMFF family; the mp4 muxer has no AMR tag)');
    return '3gp';
  }
  return spec.muxer;
}

/** Muxer-side output options. */
export function containerArgs(spec: ContainerSpec, audio: AudioCodec | undefined, segmented: boolean): string[] {
  const args: string[] = [];
  if (!segmented && (spec.name === 'mp4' || spec.name === 'mov')) args.push('-movflags', '+faststart');
  // FLAC and Opus in MP4 are "experimental" in this muxer version.
  if (spec.name === 'mp4' && (audio === 'flac' || audio === 'opus')) args.push('-strict', 'experimental');
  return args;
}

/** ffprobe codec_name per video codec. */
export const VIDEO_PROBE_NAMES: Record<VideoCodec, string> = { h264: 'h264', h265: 'hevc', vp9: 'vp9' };

/** Raw audio formats whose probed duration is approximate (priming/padding counted, or a bit-rate estimate). */
const APPROXIMATE_SOURCES = ['mp3', 'aac', 'amr', 'ac3', 'eac3', 'mp2', 'dts'];

export function approximateDuration(formatName: string): boolean {
  return formatName.split(',').some((n) => APPROXIMATE_SOURCES.includes(n.trim()));
}

/**
 * Duration tolerance (seconds) of the probed output against the planned duration:
 *  - one audio frame + the encoder priming unless the container signals it (ffprobe then reports the duration
 *    without it; ffprobe counts MP3 delay + padding from the Xing frame count, Opus pre-skip in Ogg, ...);
 *  - one video frame (three more where the container puts the B-frame reorder delay into the timeline: ASF,
 *    FLV);
 *  - AVI: 0.15 s, ffprobe derives compressed-audio durations there from byte counts;
 *  - 5 ms for container timestamp rounding (ms-based flv/asf/mkv timestamps);
 *  - outputs without a duration field (ADTS, AMR) need nothing extra: ffprobe's own number is a bit-rate
 *    estimate there, but the engine's probe counts their packets (engine/probe.ts), which is exact to the frame;
 *  - audio clips with an open end (raw MP3/ADTS/AMR/AC-3 sources taken to their end, audio-only jobs): the
 *    uncertainty of the probed source duration, 0.1 s + 5 % each.
 */
export function durationTolerance(opts: {
  spec: ContainerSpec;
  segmented: boolean;
  durationSec: number;
  audio?: { codec: AudioCodec; sampleRate: number; frameSamples: number; primingSamples: number };
  videoFps?: number;
  openEnded?: Array<{ sec: number; formatName: string }>;
}): number {
  let tol = 0.005;
  const a = opts.audio;
  if (a) {
    const signalled = !opts.segmented && (opts.spec.signalsPriming ?? []).includes(a.codec);
    tol += (a.frameSamples + (signalled ? 0 : a.primingSamples)) / a.sampleRate;
  }
  if (opts.videoFps) tol += (opts.spec.reorderDelayInDuration ? 4 : 1) / opts.videoFps;
  tol += opts.spec.durationSlackSec ?? 0;
  for (const c of opts.openEnded ?? []) {
    tol += approximateDuration(c.formatName) ? 0.1 + 0.05 * c.sec : 0.02;
  }
  return Math.round(tol * 1e6) / 1e6;
}
