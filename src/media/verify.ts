/**
 * Output verification (pure): does what FFmpeg produced probe as the plan said it would? An output is
 * kept only when this returns no problems.
 */
import type { MediaInfo } from './media-info.js';
import type { ExpectedOutput } from './plan/index.js';

export function verifyOutput(info: MediaInfo, expect: ExpectedOutput): string[] {
  const problems: string[] = [];
  const formats = info.formatName.split(',');
  if (!expect.formatNames.some((f) => formats.includes(f))) problems.push(`container is ${info.formatName}, expected one of ${expect.formatNames.join(', ')}`);
  if (Math.abs(info.durationSec - expect.durationSec) > expect.toleranceSec) {
    problems.push(`duration is ${info.durationSec.toFixed(3)} s, expected ${expect.durationSec.toFixed(3)} s ± ${expect.toleranceSec.toFixed(3)}`);
  }
  if (expect.audio) {
    const a = info.audio;
    if (!a) problems.push('no audio stream');
    else {
      if (a.codec !== expect.audio.codec) problems.push(`audio codec is ${a.codec}, expected ${expect.audio.codec}`);
      if (a.sampleRate !== expect.audio.sampleRate) problems.push(`sample rate is ${a.sampleRate}, expected ${expect.audio.sampleRate}`);
      if (a.channels !== expect.audio.channels) problems.push(`channels are ${a.channels}, expected ${expect.audio.channels}`);
    }
  } else if (info.audio) problems.push('an audio stream that was not asked for');
  if (expect.video) {
    const v = info.video;
    if (!v) problems.push('no video stream');
    else {
      if (v.codec !== expect.video.codec) problems.push(`video codec is ${v.codec}, expected ${expect.video.codec}`);
      if (v.width !== expect.video.width || v.height !== expect.video.height) problems.push(`video is ${v.width}x${v.height}, expected ${expect.video.width}x${expect.video.height}`);
      if (Math.abs(v.fps - expect.video.fps) > 0.01 * expect.video.fps + 0.01) problems.push(`frame rate is ${v.fps}, expected ${expect.video.fps}`);
      if (v.pixelFormat !== expect.video.pixelFormat) problems.push(`pixel format is ${v.pixelFormat}, expected ${expect.video.pixelFormat}`);
    }
  } else if (info.video) problems.push('a video stream that was not asked for');
  return problems;
}

/** The output is shorter than planned, beyond the tolerance (a truncated source is one cause). */
export function outputIsShort(info: MediaInfo, expect: ExpectedOutput): boolean {
  return expect.durationSec - info.durationSec > expect.toleranceSec;
}
