/**
 * What the planner knows about an input after probing it (the engine's ffprobe fills this in).
 * Pure data so the planner stays free of I/O.
 */
export interface AudioStreamInfo {
  index: number;
  codec: string;
  sampleRate: number;
  channels: number;
  channelLayout?: string;
  /** bit/s, when known. */
  bitrate?: number;
  bitsPerSample?: number;
}

export interface VideoStreamInfo {
  index: number;
  codec: string;
  /** Coded size, before rotation. */
  width: number;
  height: number;
  /** Average frame rate (frames per second). */
  fps: number;
  pixelFormat: string;
  /** Sample aspect ratio as num/den; 1/1 when unknown. */
  sar: [number, number];
  /** Clockwise display rotation in degrees (0, 90, 180, 270). */
  rotation: number;
  bitrate?: number;
}

export interface MediaInfo {
  /** Container duration in seconds. */
  durationSec: number;
  formatName: string;
  /**
   * The single-file demuxer the engine's sniffer chose for a source (plan/input-args.ts): the planner opens
   * the input with exactly it. Unset on hand-made infos, where the first token of formatName stands in.
   */
  demuxer?: string;
  /** Overall bit rate, bit/s. */
  bitrate?: number;
  size?: number;
  audio?: AudioStreamInfo;
  video?: VideoStreamInfo;
}

/** What the located FFmpeg can do. */
export interface EngineCapabilities {
  ffmpegVersion: string;
  ffprobeVersion: string;
  /** Encoder names (libmp3lame, aac, libx264, ...). */
  encoders: Set<string>;
  muxers: Set<string>;
  filters: Set<string>;
}
