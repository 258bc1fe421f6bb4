/**
 * Per-clip processing strategy. Today every clip is decoded and re-encoded ('transcode'): concatenation needs
 * identical stream parameters and exact clip lengths, which only a filter graph guarantees.
 *
 * Extension point: a 'copy' strategy (stream copy through the concat demuxer, no decode) could be returned
 * here for inputs that already match the target exactly — same codec, sample rate, channels, size, frame
 * rate, pixel format and time base, no trim or a trim on keyframes — once the runner can split a job into a
 * copy pass and a transcode pass. Nothing else in the planner needs to change to add it: planJob asks this
 * function per clip and records the answer in `decisions`.
 */
import type { Clip } from '../job.js';
import type { MediaInfo } from '../media-info.js';

export type ClipStrategy = 'transcode';

export function selectStrategy(_clip: Clip, _info: MediaInfo): ClipStrategy {
  return 'transcode';
}
