/**
 * One small strategy per video codec: encoder, rate control (-b:v or CRF, VBV), keyframe interval, and the
 * keyframe alignment segmenting needs. Options checked against the bundled 2018 build.
 */
import type { Container, PixelFormat, VideoCodec } from '../job.js';
import { fmtSec } from './util.js';

export interface VideoEncodeParams {
  codec: VideoCodec;
  pixelFormat: PixelFormat;
  /** Keyframe interval in frames. */
  gop: number;
  /** bit/s after vbopt was applied; exclusive with crf. */
  bitrate?: number;
  crf?: number;
  maxBitrate?: number;
  bufferSize?: number;
  container: Container;
  /** Segment length in seconds when segmenting: forced keyframes at every multiple. */
  segmentSec?: number;
  /** HLS with MPEG-TS segments (no hvc1 tag there). */
  tsSegments?: boolean;
}

export interface VideoEncoding {
  encoder: string;
  probeCodec: string;
  args: string[];
}

export const DEFAULT_CRF = 23;
export const DEFAULT_GOP = 150;

function forcedKeyframes(segmentSec: number | undefined): string[] {
  return segmentSec ? ['-force_key_frames', `expr:gte(t,n_forced*${fmtSec(segmentSec)})`] : [];
}

function h264(p: VideoEncodeParams): VideoEncoding {
  const rc = p.bitrate !== undefined ? ['-b:v', String(p.bitrate)] : ['-crf', String(p.crf ?? DEFAULT_CRF)];
  const vbv = [...(p.maxBitrate ? ['-maxrate', String(p.maxBitrate)] : []), ...(p.bufferSize ? ['-bufsize', String(p.bufferSize)] : [])];
  // Segments: no scene-cut keyframes, so the forced ones at the segment boundaries are the only extra ones.
  const seg = p.segmentSec ? ['-sc_threshold', '0', ...forcedKeyframes(p.segmentSec)] : [];
  return {
    encoder: 'libx264',
    probeCodec: 'h264',
    args: ['-c:v', 'libx264', '-pix_fmt', p.pixelFormat, '-g', String(p.gop), ...rc, ...vbv, ...seg],
  };
}

function h265(p: VideoEncodeParams): VideoEncoding {
  const rc = p.bitrate !== undefined ? ['-b:v', String(p.bitrate)] : ['-crf', String(p.crf ?? DEFAULT_CRF)];
  // libx265 of this build takes keyframe interval and VBV through x265-params (kbit/s, kbit).
  const params = [`keyint=${p.gop}`, 'log-level=error'];
  if (p.maxBitrate) params.push(`vbv-maxrate=${Math.round(p.maxBitrate / 1000)}`);
  if (p.bufferSize) params.push(`vbv-bufsize=${Math.round(p.bufferSize / 1000)}`);
  if (p.segmentSec) params.push('scenecut=0');
  const seg = p.segmentSec ? ['-forced-idr', '1', ...forcedKeyframes(p.segmentSec)] : [];
  // Apple players need the hvc1 sample entry in ISO BMFF (mp4/mov, fMP4 HLS, DASH). The 2018 AVI muxer has
  // no HEVC fourcc (it writes 0, which reads back as rawvideo), and the 2018 demuxers (ffmpeg N-47683,
  // ffprobe 4.0.2) know none of the RIFF ones ('HEVC', 'H265', 'x265', 'X265', 'HM10', 'DXHE' all read back
  // as codec "none"). Their AVI demuxer falls back to the QuickTime tags, so 'hev1' reads as hevc there and in
  // later FFmpeg (with a "mov tag found in avi" warning); it is also the right QuickTime entry for this
  // stream, which carries its parameter sets in-band (Annex B, no global header in AVI).
  const isoBmff = (p.container === 'mp4' || p.container === 'mov') && !p.tsSegments;
  const tag = isoBmff ? ['-tag:v', 'hvc1'] : p.container === 'avi' ? ['-tag:v', 'hev1'] : [];
  return {
    encoder: 'libx265',
    probeCodec: 'hevc',
    args: ['-c:v', 'libx265', '-pix_fmt', p.pixelFormat, ...rc, '-x265-params', params.join(':'), ...seg, ...tag],
  };
}

function vp9(p: VideoEncodeParams): VideoEncoding {
  let rc: string[];
  if (p.bitrate !== undefined) rc = ['-b:v', String(p.bitrate)];
  else {
    // libvpx: -crf with -b:v 0 is constant quality; with a cap it is constrained quality (-b:v = the cap).
    const crf = Math.round(p.crf ?? DEFAULT_CRF);
    rc = ['-crf', String(crf), '-b:v', String(p.maxBitrate ?? 0)];
  }
  const vbv = [...(p.maxBitrate ? ['-maxrate', String(p.maxBitrate)] : []), ...(p.bufferSize ? ['-bufsize', String(p.bufferSize)] : [])];
  return {
    encoder: 'libvpx-vp9',
    probeCodec: 'vp9',
    args: [
      '-c:v', 'libvpx-vp9', '-pix_fmt', p.pixelFormat, '-g', String(p.gop), ...rc, ...vbv,
      '-deadline', 'good', '-cpu-used', '4', '-row-mt', '1', ...forcedKeyframes(p.segmentSec),
    ],
  };
}

export function videoEncoding(p: VideoEncodeParams): VideoEncoding {
  switch (p.codec) {
    case 'h264':
      return h264(p);
    case 'h265':
      return h265(p);
    case 'vp9':
      return vp9(p);
  }
}

/** Pixel format ffprobe reports for the output (VP9 alpha travels in side data: the stream probes yuv420p). */
export function probedPixelFormat(codec: VideoCodec, pix: PixelFormat): string {
  return codec === 'vp9' && pix === 'yuva420p' ? 'yuv420p' : pix;
}
