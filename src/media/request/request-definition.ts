/**
 * The inverse of the IMM request reader (imm-request.ts): the CreateMediaConvertTask request a MediaJob
 * from an OSS process string amounts to, shown by GetTask as its TaskRequestDefinition (spec oss.md §5.4).
 * Pure.
 */
import { isAudioContainer, type MediaJob, type ObjectRef, type RateOption } from '../job.js';

const ossUri = (r: ObjectRef): string => `oss://${r.bucket}/${r.key}`;
const seconds = (ms: number): number => ms / 1000;
const IMM_OPTION: Record<RateOption, string> = { fixed: 'fixed', adaptive: 'adaptive', fall: 'fall' };

function defined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * What GetTask shows as TaskRequestDefinition for an x-oss-async-process task: an IMM
 * CreateMediaConvertTask-like request built from the job, plus `Process`, the string as sent.
 */
export function buildRequestDefinition(job: MediaJob, process: string, projectName: string, sourceBucket: string): Record<string, unknown> {
  const out = job.output;
  const target: Record<string, unknown> = {
    URI: out.destination ? ossUri({ bucket: out.destination.bucket ?? sourceBucket, key: out.destination.keyTemplate }) : undefined,
    Container: out.container,
  };
  if (!isAudioContainer(out.container)) {
    const v = out.video;
    if (v.disabled) target.Video = { DisableVideo: true };
    else {
      const r = v.resolution;
      target.Video = {
        TranscodeVideo: defined({
          Codec: v.codec,
          Resolution: r ? `${r.width ?? ''}x${r.height ?? ''}` : undefined,
          ResolutionOption: r ? IMM_OPTION[v.resolutionOption] : undefined,
          AdaptiveResolutionDirection: r ? v.adaptiveOrientation : undefined,
          ScaleType: r ? v.scaleType : undefined,
          FrameRate: v.fps,
          FrameRateOption: v.fps !== undefined ? IMM_OPTION[v.fpsOption] : undefined,
          PixelFormat: v.pixelFormat,
          Bitrate: v.bitrate,
          BitrateOption: v.bitrate !== undefined ? IMM_OPTION[v.bitrateOption] : undefined,
          CRF: v.crf,
          MaxBitrate: v.maxBitrate,
          BufferSize: v.bufferSize,
          GOPSize: v.gop,
        }),
      };
    }
  }
  const a = out.audio;
  if (a.disabled) target.Audio = { DisableAudio: true };
  else {
    target.Audio = {
      TranscodeAudio: defined({
        Codec: a.codec,
        SampleRate: a.sampleRate,
        Channel: a.channels,
        Bitrate: a.bitrate,
        BitrateOption: a.bitrate !== undefined ? IMM_OPTION[a.bitrateOption] : undefined,
        Quality: a.quality,
        BitsPerSample: a.bitsPerSample,
      }),
    };
  }
  if (out.segment) target.Segment = { Format: out.segment.format, Duration: seconds(out.segment.durationMs) };
  if (out.dropSubtitles) target.Subtitle = { DisableSubtitle: true };

  const def: Record<string, unknown> = {
    ProjectName: projectName,
    Sources: job.clips.map((c) =>
      defined({
        URI: ossUri(c.source),
        StartTime: c.startMs > 0 ? seconds(c.startMs) : undefined,
        Duration: c.durationMs > 0 ? seconds(c.durationMs) : undefined,
      }),
    ),
    Targets: [defined(target)],
  };
  if (job.alignIndex > 0) def.AlignmentIndex = job.alignIndex;
  if (job.notify) def.Notification = { MNS: { TopicName: job.notify.topic } };
  def.Process = process;
  return def;
}

// ---------------------------------------------------------------------------------------------------------
// Handlers.

