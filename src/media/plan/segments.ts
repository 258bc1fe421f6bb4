/**
 * Segmented outputs (HLS / DASH) with the bundled 2018 muxers.
 *
 * HLS: `-f hls -hls_time T -hls_playlist_type vod -hls_list_size 0`, playlist `<name>.m3u8`.
 *   - container ts:  MPEG-TS segments `<name>-00000.ts`, ...
 *   - container mp4: fragmented-MP4 segments (`-hls_segment_type fmp4`): init `<name>-init.mp4` and
 *     `<name>-00000.m4s`, ... — the user asked for MP4, and HLS has carried fMP4 since protocol version 7
 *     (this muxer writes EXT-X-MAP and version 7 itself).
 * DASH: `-f dash -seg_duration T` (the 2018 option; min_seg_duration is deprecated), SegmentTemplate with
 *   timeline, ISO BMFF segments for both mp4 and ts (the DASH muxer writes mp4 or webm only):
 *   init `<name>-init-<rep>.m4s`, media `<name>-<rep>-00001.m4s`, manifest `<name>.mpd`.
 * Keyframes are forced at every multiple of T by the video encoder (video-encoders.ts), so segments split
 * exactly there.
 */
import { join } from 'node:path';
import type { Container, SegmentTarget } from '../job.js';
import { fmtSec, reEscape } from './util.js';

export interface SegmentPlan {
  args: string[];
  muxers: string[];
  mainOutput: string;
  extension: string;
  extraOutputPattern: RegExp;
  formatNames: string[];
  /** HLS with MPEG-TS segments. */
  tsSegments: boolean;
}

export function segmentPlan(seg: SegmentTarget, container: Container, outputDir: string, name: string, decisions: string[]): SegmentPlan {
  const t = fmtSec(seg.durationMs / 1000);
  const n = reEscape(name);
  if (seg.format === 'hls') {
    const fmp4 = container === 'mp4';
    const ext = fmp4 ? 'm4s' : 'ts';
    const pattern = `${name.replace(/%/g, '%%')}-%05d.${ext}`;
    const args = ['-f', 'hls', '-hls_time', t, '-hls_playlist_type', 'vod', '-hls_list_size', '0'];
    if (fmp4) args.push('-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', `${name}-init.mp4`);
    args.push('-hls_segment_filename', join(outputDir, pattern));
    decisions.push(`segments: HLS ${t} s, ${fmp4 ? 'fragmented MP4 (.m4s + init .mp4)' : 'MPEG-TS (.ts)'} segments, VOD playlist`);
    return {
      args,
      muxers: ['hls', fmp4 ? 'mp4' : 'mpegts'],
      mainOutput: `${name}.m3u8`,
      extension: 'm3u8',
      extraOutputPattern: new RegExp(fmp4 ? `^${n}-(init\\.mp4|\\d{5,}\\.m4s)$` : `^${n}-\\d{5,}\\.ts$`),
      formatNames: ['hls'],
      tsSegments: !fmp4,
    };
  }
  const d = name.replace(/\$/g, '$$$$');
  decisions.push(`segments: DASH ${t} s, ISO BMFF (.m4s) segments${container === 'ts' ? ' (the DASH muxer has no MPEG-TS segments)' : ''}`);
  return {
    args: [
      '-f', 'dash', '-seg_duration', t, '-use_template', '1', '-use_timeline', '1', '-dash_segment_type', 'mp4',
      '-init_seg_name', `${d}-init-$RepresentationID$.m4s`, '-media_seg_name', `${d}-$RepresentationID$-$Number%05d$.m4s`,
    ],
    muxers: ['dash', 'mp4'],
    mainOutput: `${name}.mpd`,
    extension: 'mpd',
    extraOutputPattern: new RegExp(`^${n}-(init-\\d+|\\d+-\\d{5,})\\.m4s$`),
    formatNames: ['dash'],
    tsSegments: false,
  };
}
