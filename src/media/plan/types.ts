/**
 * Planner input and output shapes. The planner is a pure function: MediaJob + probe results in, FFmpeg argv
 * and the expectations the runner checks the output against out. No I/O anywhere under plan/.
 */
import type { MediaJob } from '../job.js';
import type { MediaInfo } from '../media-info.js';

export interface PlanInput {
  job: MediaJob;
  /** One entry per job clip, same order: the local file the runner materialised and its probe result. */
  inputs: Array<{ path: string; info: MediaInfo }>;
  /** Directory the output (and segment files) are written to. */
  outputDir: string;
  /** Base name of the output, without extension. */
  outputName: string;
  /** FFmpeg stops writing the output at this many bytes (`-fs`; MEDLEY_MAX_OUTPUT_BYTES). */
  maxOutputBytes?: number;
}

export interface ExpectedOutput {
  /**
   * Acceptable ffprobe `format_name` tokens: the output is right when at least one token of its comma-separated
   * format_name is in this list (ffprobe says `mov,mp4,m4a,3gp,3g2,mj2` for mp4, `matroska,webm` for mkv/webm).
   */
  formatNames: string[];
  durationSec: number;
  /**
   * Allowed |probed duration - durationSec|: one codec frame of the audio codec plus the encoder priming (and
   * end padding) that the container cannot signal, plus one video frame when there is video, plus 5 ms for
   * container timestamp rounding (raw ADTS/AMR outputs are measured by the engine's probe from their packet
   * count, not from ffprobe's bit-rate estimate). See `durationTolerance` in containers.ts.
   */
  toleranceSec: number;
  audio?: {
    /** ffprobe codec_name. */
    codec: string;
    /** As ffprobe reports it (always 48000 for Opus, whatever rate the encoder ran at). */
    sampleRate: number;
    channels: number;
    /** Nominal requested bit rate (-b:a); encoders average around it, compare with a generous margin. */
    bitrate?: number;
  };
  video?: { codec: string; width: number; height: number; fps: number; pixelFormat: string };
}

export interface Plan {
  /** Everything after the ffmpeg binary and the runner's global flags (-hide_banner -nostdin -y -progress ...). */
  args: string[];
  /** File name in outputDir: the media file, or the playlist/manifest for segments. */
  mainOutput: string;
  /** Segment (and init segment) files written next to mainOutput. */
  extraOutputPattern?: RegExp;
  /** The {autoext} value. */
  extension: string;
  expectedDurationSec: number;
  expect: ExpectedOutput;
  needs: { encoders: string[]; muxers: string[]; filters: string[] };
  /** Human-readable: which defaults came from the align clip, which clips are resampled/padded/scaled, ... */
  decisions: string[];
}
