/**
 * The normalized media job, shared by both front doors (the OSS process string and the IMM
 * CreateMediaConvertTask request). Whatever door a request came through, the same MediaJob yields the
 * same output. Pure data: no I/O, no defaults from probing (those are the planner's job).
 */

export const AUDIO_CODECS = ['mp3', 'aac', 'flac', 'vorbis', 'ac3', 'opus', 'amr', 'pcm'] as const;
export type AudioCodec = (typeof AUDIO_CODECS)[number];

export const VIDEO_CODECS = ['h264', 'h265', 'vp9'] as const;
export type VideoCodec = (typeof VIDEO_CODECS)[number];

export const VIDEO_CONTAINERS = ['mp4', 'mkv', 'mov', 'asf', 'avi', 'mxf', 'ts', 'flv', 'webm'] as const;
export const AUDIO_CONTAINERS = ['mp3', 'aac', 'flac', 'oga', 'ac3', 'opus', 'amr'] as const;
export type VideoContainer = (typeof VIDEO_CONTAINERS)[number];
export type AudioContainer = (typeof AUDIO_CONTAINERS)[number];
export type Container = VideoContainer | AudioContainer;

export const SAMPLE_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000] as const;
export const PIXEL_FORMATS = ['yuv420p', 'yuv420p10le', 'yuv422p', 'yuv422p10le', 'yuv444p', 'yuv444p10le', 'yuva420p'] as const;
export type PixelFormat = (typeof PIXEL_FORMATS)[number];

/** 0 fixed (always the target value), 1 adaptive (the source's when lower), 2 fall (fail when the source is lower). */
export type RateOption = 'fixed' | 'adaptive' | 'fall';

export type ScaleType = 'stretch' | 'crop' | 'fill' | 'fit';

/** An object in the store: `oss://bucket/key`. */
export interface ObjectRef {
  bucket: string;
  key: string;
}

/** One input, in output order. */
export interface Clip {
  source: ObjectRef;
  /** Start offset in the source, milliseconds. */
  startMs: number;
  /** Length to take, milliseconds; 0 = to the end of the source. */
  durationMs: number;
  /** Drop this clip's audio (IMM Sources[].DisableAudio); it then contributes silence. */
  disableAudio: boolean;
  /** Drop this clip's video (IMM Sources[].DisableVideo); it then contributes black frames. */
  disableVideo: boolean;
}

export interface AudioTarget {
  /** vn/an, DisableAudio: no audio stream in the output. */
  disabled: boolean;
  /** Undefined only when disabled (copy is never allowed: every job re-encodes). */
  codec?: AudioCodec;
  /** Hz; undefined = from the align clip. */
  sampleRate?: number;
  /** 1-8; undefined = from the align clip. */
  channels?: number;
  /** bit/s; exclusive with quality. */
  bitrate?: number;
  bitrateOption: RateOption;
  /** 0-100, higher is better; exclusive with bitrate. */
  quality?: number;
  /** flac only. */
  bitsPerSample?: 16 | 24;
}

export interface Resolution {
  /** Pixels; undefined = follows the aspect ratio from the other side. */
  width?: number;
  height?: number;
}

export interface VideoTarget {
  disabled: boolean;
  codec?: VideoCodec;
  fps?: number;
  fpsOption: RateOption;
  pixelFormat?: PixelFormat;
  resolution?: Resolution;
  resolutionOption: RateOption;
  scaleType: ScaleType;
  /** arotate_1 / AdaptiveResolutionDirection: resolution is long side x short side. */
  adaptiveOrientation: boolean;
  /** Keyframe interval in frames. */
  gop?: number;
  bitrate?: number;
  bitrateOption: RateOption;
  crf?: number;
  maxBitrate?: number;
  bufferSize?: number;
}

export interface SegmentTarget {
  format: 'hls' | 'dash';
  /** Segment length in milliseconds. */
  durationMs: number;
}

export interface OutputTarget {
  container: Container;
  audio: AudioTarget;
  video: VideoTarget;
  segment?: SegmentTarget;
  /** sn_1: drop subtitles (the engine never carries subtitles through concat anyway). */
  dropSubtitles: boolean;
  /** Where to store the result: a URI template (variables such as {autoext} unexpanded). */
  destination?: { bucket?: string; keyTemplate: string };
}

export interface MediaJob {
  /** Which front door built it (for messages and defaults that differ). */
  origin: 'oss' | 'imm';
  /** The action: audio/convert, audio/concat, video/convert or video/concat (IMM: derived). */
  action: 'audio/convert' | 'audio/concat' | 'video/convert' | 'video/concat';
  clips: Clip[];
  /** 0-based index into clips whose properties supply the defaults. */
  alignIndex: number;
  output: OutputTarget;
  notify?: { topic: string };
  userData?: string;
  tags?: Record<string, string>;
}

export const MAX_CLIPS = 11;

export function isAudioContainer(c: Container): c is AudioContainer {
  return (AUDIO_CONTAINERS as readonly string[]).includes(c);
}
