/**
 * Resolving the output's target values: explicit job values, defaults from the align clip, the rate options
 * (fixed / adaptive / fall), and the codec's and container's legal values.
 *
 * Policy for values outside what a codec/container can take:
 *  - explicit (the user asked for it): InvalidMediaArgument (or MediaEngineUnsupported when only the bundled
 *    FFmpeg cannot do it) — the request parser should already have refused it;
 *  - inherited from the align clip (sample rate, channel count): InvalidMediaArgument naming the parameter to
 *    set (ar / ac) and its legal values, as OSS fails the task (spec oss.md §5.5); nothing is silently changed.
 *    The legal rates are the codec's intersected with the container's (flv mp3, mxf pcm 48 kHz).
 *  - no source has audio (silence only): a legal default, 44100 Hz where allowed, else 48000 (opus, mxf);
 *    AMR-NB 8000 Hz mono for amr.
 * The one value still snapped is the frame rate for MXF (only its content-package rates): a frame-rate
 * conversion, not a codec limit, recorded in `decisions`.
 *
 * Rate options compare against the align clip ("adaptive": take its value when it is lower than the target)
 * and against every contributing source ("fall": fail, naming the source and both values).
 */
import type { AudioCodec, MediaJob, PixelFormat, RateOption, VideoCodec } from '../job.js';
import { PIXEL_FORMATS, SAMPLE_RATES } from '../job.js';
import type { MediaInfo, VideoStreamInfo } from '../media-info.js';
import { fail } from '../../errors.js';
import { audioCodecSpec, channelLayout, type AudioEncoding } from './audio-encoders.js';
import type { ContainerSpec } from './containers.js';
import { displaySize, evenSize, fitInside, sizeStr, type Size } from './geometry.js';
import { even, ratString, ratValue, toRational, type Rational } from './util.js';
import { DEFAULT_GOP } from './video-encoders.js';

export interface PlanSource {
  index: number;
  info: MediaInfo;
  disableAudio: boolean;
  disableVideo: boolean;
}

/** A video stream the planner can use (cover art and other still "streams" have no frame rate). */
export function usableVideo(info: MediaInfo): VideoStreamInfo | undefined {
  const v = info.video;
  return v && v.width > 0 && v.height > 0 && Number.isFinite(v.fps) && v.fps > 0 ? v : undefined;
}

/** The clip that supplies defaults for a stream kind: the align clip, else the first clip that has one. */
function reference<T>(sources: PlanSource[], alignIndex: number, pick: (s: PlanSource) => T | undefined, kind: string, decisions: string[]): { index: number; value: T } | undefined {
  const align = sources[alignIndex];
  const own = align && pick(align);
  if (own !== undefined) return { index: alignIndex, value: own };
  const other = sources.find((s) => pick(s) !== undefined);
  if (!other) return undefined;
  decisions.push(`align clip #${alignIndex} has no ${kind}: ${kind} defaults come from clip #${other.index}`);
  return { index: other.index, value: pick(other) as T };
}

/** Output rate when no source has audio: 44100 Hz where legal, AMR-NB's 8000 for amr, else the next legal rate up. */
function defaultRate(legal: readonly number[], codec: AudioCodec): number {
  if (codec === 'amr') return 8000;
  return legal.includes(44100) ? 44100 : (legal.find((r) => r > 44100) ?? legal[legal.length - 1] ?? 44100);
}

function optionLabel(o: RateOption): string {
  return o === 'adaptive' ? '1 (adaptive)' : o === 'fall' ? '2 (fall)' : '0 (fixed)';
}

export interface AudioPlan {
  codec: AudioCodec;
  sampleRate: number;
  channels: number;
  layout: string;
  bitsPerSample?: 16 | 24;
  encoding: AudioEncoding;
}

export function resolveAudio(job: MediaJob, sources: PlanSource[], container: ContainerSpec, decisions: string[]): AudioPlan {
  const t = job.output.audio;
  let codec = t.codec;
  if (!codec) {
    if (container.audioOnly && container.audioCodecs.length === 1) {
      codec = container.audioCodecs[0] as AudioCodec;
      decisions.push(`audio codec ${codec} implied by container ${container.name}`);
    } else {
      fail('InvalidMediaArgument', 'an audio codec is required unless audio is disabled (an_1)');
    }
  }
  const spec = audioCodecSpec(codec);
  const containerRates = container.audioRates?.(codec) ?? null;
  const legal = (SAMPLE_RATES as readonly number[]).filter((r) => (spec.rates ?? SAMPLE_RATES).includes(r) && (!containerRates || containerRates.includes(r)));
  const ref = reference(sources, job.alignIndex, (s) => s.info.audio, 'audio', decisions);
  const refLabel = (i: number): string => (i === job.alignIndex ? `align clip #${i}` : `clip #${i} (the align clip has no audio)`);

  // Sample rate.
  let sampleRate: number;
  if (t.sampleRate !== undefined) {
    sampleRate = t.sampleRate;
    if (spec.rates && !spec.rates.includes(sampleRate)) {
      fail('InvalidMediaArgument', `${codec} cannot be encoded at ${sampleRate} Hz (allowed: ${spec.rates.join(', ')})`);
    }
    if (containerRates && !containerRates.includes(sampleRate)) {
      fail('MediaEngineUnsupported', `the ${container.name} muxer cannot carry ${codec} at ${sampleRate} Hz (allowed: ${containerRates.join(', ')})`);
    }
  } else if (ref) {
    const src = ref.value.sampleRate;
    // As on OSS, an inherited value the format cannot carry fails the task (spec oss.md §5.5) rather
    // than silently becoming another rate: the message says which parameter to set.
    if (!legal.includes(src)) {
      fail('InvalidMediaArgument', `the sample rate comes from ${refLabel(ref.index)}, which has ${src} Hz, and ${codec} in ${container.name} cannot carry that: set ar (SampleRate) to one of ${legal.join(', ')}`);
    }
    sampleRate = src;
    decisions.push(`sample rate ${sampleRate} Hz from align clip #${ref.index}`);
  } else {
    sampleRate = defaultRate(legal, codec);
    decisions.push(`sample rate ${sampleRate} Hz: no source has audio, codec default`);
  }

  // Channels.
  let channels: number;
  if (t.channels !== undefined) {
    channels = t.channels;
    if (channels < 1 || channels > spec.maxChannels) fail('InvalidMediaArgument', `${codec} takes 1-${spec.maxChannels} channels, not ${channels}`);
  } else if (ref) {
    const src = ref.value.channels;
    if (src > spec.maxChannels) {
      const allowed = spec.maxChannels === 1 ? '1' : `1-${spec.maxChannels}`;
      fail('InvalidMediaArgument', `the channel count comes from ${refLabel(ref.index)}, which has ${src} channels, and ${codec} takes ${allowed}: set ac (Channel) to ${allowed}`);
    }
    channels = src;
    decisions.push(`channels ${channels} from align clip #${ref.index}`);
  } else {
    channels = Math.min(2, spec.maxChannels);
    decisions.push(`channels ${channels}: no source has audio, codec default`);
  }

  // Bit rate and its option.
  let bitrate = t.bitrate;
  if (bitrate !== undefined && t.bitrateOption !== 'fixed') {
    if (t.bitrateOption === 'fall') {
      for (const s of sources) {
        const b = s.info.audio?.bitrate;
        if (s.disableAudio || !s.info.audio || !b) continue;
        if (b < bitrate) {
          fail('MediaSourceBelowTarget', `source #${s.index} audio bit rate ${b} bit/s is below the requested ${bitrate} bit/s (abopt ${optionLabel('fall')})`);
        }
      }
    } else {
      const b = ref?.value.bitrate;
      if (ref && b && b < bitrate) {
        decisions.push(`audio bit rate ${b} bit/s from align clip #${ref.index} (below the requested ${bitrate}, abopt ${optionLabel('adaptive')})`);
        bitrate = b;
      } else if (ref && !b) {
        decisions.push(`abopt adaptive: align clip #${ref.index} audio bit rate unknown, using the requested ${bitrate} bit/s`);
      }
    }
  }

  // Bit depth (flac: inherited from the align clip when not given; pcm: 16 unless 24 asked).
  let bitsPerSample = t.bitsPerSample;
  if (bitsPerSample === undefined && codec === 'flac') {
    const srcBits = ref?.value.bitsPerSample;
    bitsPerSample = srcBits && srcBits > 16 ? 24 : 16;
    decisions.push(`flac bit depth ${bitsPerSample}${ref ? ` from align clip #${ref.index}${srcBits ? ` (${srcBits} bit)` : ' (unknown: 16)'}` : ''}`);
  }

  const encoding = spec.encode({ sampleRate, channels, bitrate, quality: bitrate === undefined ? t.quality : undefined, bitsPerSample }, decisions);
  return { codec, sampleRate, channels, layout: channelLayout(channels), bitsPerSample, encoding };
}

export interface VideoPlan {
  codec: VideoCodec;
  pixelFormat: PixelFormat;
  fps: Rational;
  /** Output frame size. */
  size: Size;
  /** How every clip is brought to `size` (fit is fill into the fitted size). */
  mode: 'stretch' | 'crop' | 'fill';
  gop: number;
  bitrate?: number;
  crf?: number;
  maxBitrate?: number;
  bufferSize?: number;
}

const JPEG_RANGE: Record<string, PixelFormat> = { yuvj420p: 'yuv420p', yuvj422p: 'yuv422p', yuvj444p: 'yuv444p' };

function checkFall(sources: PlanSource[], what: string, opt: string, target: number, value: (v: VideoStreamInfo) => number | undefined, show: (n: number) => string, eps = 0): void {
  for (const s of sources) {
    const v = usableVideo(s.info);
    if (s.disableVideo || !v) continue;
    const x = value(v);
    if (x !== undefined && x > 0 && x < target - eps) {
      fail('MediaSourceBelowTarget', `source #${s.index} ${what} ${show(x)} is below the requested ${show(target)} (${opt} 2 (fall))`);
    }
  }
}

export function resolveVideo(job: MediaJob, sources: PlanSource[], container: ContainerSpec, decisions: string[]): VideoPlan {
  const t = job.output.video;
  const codec = t.codec;
  if (!codec) fail('InvalidMediaArgument', 'a video codec is required unless video is disabled (vn_1)');
  const ref = reference(sources, job.alignIndex, (s) => usableVideo(s.info), 'video', decisions);
  if (!ref) fail('InvalidMediaArgument', 'video output requested but no source has a video stream (drop video with vn_1 / DisableVideo)');
  const rv = ref.value;
  const refLabel = `align clip #${ref.index}`;

  // Frame rate.
  let fps: Rational;
  if (t.fps !== undefined) {
    let target = t.fps;
    if (t.fpsOption === 'fall') checkFall(sources, 'frame rate', 'fpsopt', target, (v) => v.fps, (n) => `${Math.round(n * 1000) / 1000} fps`, 0.01);
    if (t.fpsOption === 'adaptive' && rv.fps < target - 0.01) {
      decisions.push(`frame rate ${ratString(toRational(rv.fps))} from ${refLabel} (below the requested ${target}, fpsopt 1 (adaptive))`);
      target = rv.fps;
    }
    fps = toRational(target);
  } else {
    fps = toRational(rv.fps);
    decisions.push(`frame rate ${ratString(fps)} from ${refLabel}`);
  }
  if (container.frameRates && !container.frameRates.includes(ratString(fps))) {
    if (t.fps !== undefined && t.fpsOption === 'fixed') {
      fail('MediaEngineUnsupported', `the ${container.name} muxer cannot carry ${ratString(fps)} fps (allowed: ${container.frameRates.join(', ')})`);
    }
    const want = ratValue(fps);
    const parse = (r: string): Rational => {
      const [n, d] = r.split('/');
      return { num: Number(n), den: Number(d ?? 1) };
    };
    const best = container.frameRates.map(parse).reduce((a, b) => (Math.abs(ratValue(b) - want) < Math.abs(ratValue(a) - want) ? b : a));
    decisions.push(`frame rate ${ratString(fps)} is not an ${container.name} rate: using ${ratString(best)}`);
    fps = best;
  }

  // Pixel format.
  let pixelFormat: PixelFormat;
  if (t.pixelFormat !== undefined) {
    pixelFormat = t.pixelFormat;
    if (pixelFormat === 'yuva420p' && codec !== 'vp9') fail('InvalidMediaArgument', 'pixel format yuva420p is only available with vp9');
  } else {
    const src = rv.pixelFormat;
    const known = (PIXEL_FORMATS as readonly string[]).includes(src) && (src !== 'yuva420p' || codec === 'vp9');
    pixelFormat = known ? (src as PixelFormat) : (JPEG_RANGE[src] ?? 'yuv420p');
    decisions.push(known ? `pixel format ${pixelFormat} from ${refLabel}` : `pixel format: ${refLabel} has ${src}, using ${pixelFormat}`);
  }

  // Resolution.
  const refDisp = displaySize(rv);
  const portrait = refDisp.h > refDisp.w;
  const req = t.resolution;
  let box: Size;
  if (!req || (req.width === undefined && req.height === undefined)) {
    box = evenSize(refDisp);
    decisions.push(`resolution ${sizeStr(box)} from ${refLabel}`);
  } else {
    const { width: W, height: H } = req;
    if (t.adaptiveOrientation) {
      // s is long side x short side; the orientation follows the align clip.
      const ratio = Math.max(refDisp.w, refDisp.h) / Math.min(refDisp.w, refDisp.h);
      let long: number;
      let short: number;
      if (W !== undefined && H !== undefined) [long, short] = [Math.max(W, H), Math.min(W, H)];
      else if (W !== undefined) [long, short] = [W, even(W / ratio)];
      else [long, short] = [even((H as number) * ratio), H as number];
      box = portrait ? { w: short, h: long } : { w: long, h: short };
      decisions.push(`arotate: ${refLabel} is ${portrait ? 'portrait' : 'landscape'} (${sizeStr(refDisp)}): box ${sizeStr(box)}`);
    } else if (W !== undefined && H !== undefined) box = { w: W, h: H };
    else if (W !== undefined) box = { w: W, h: even((W * refDisp.h) / refDisp.w) };
    else box = { w: even(((H as number) * refDisp.w) / refDisp.h), h: H as number };
    if (W === undefined || H === undefined) decisions.push(`resolution ${sizeStr(box)}: missing side follows the aspect of ${refLabel} (${sizeStr(refDisp)})`);
    if (box.w % 2 || box.h % 2) {
      // 4:2:0 (and the encoders' defaults) need even sizes; IMM allows any size in (0, 4096].
      const e = { w: even(box.w), h: even(box.h) };
      decisions.push(`resolution ${sizeStr(box)} rounded to even ${sizeStr(e)}`);
      box = e;
    }

    const px = (s: Size): number => s.w * s.h;
    if (t.resolutionOption === 'fall') {
      for (const s of sources) {
        const v = usableVideo(s.info);
        if (s.disableVideo || !v) continue;
        const d = displaySize(v);
        if (px(d) < px(box)) fail('MediaSourceBelowTarget', `source #${s.index} resolution ${sizeStr(d)} is below the requested ${sizeStr(box)} (sopt 2 (fall))`);
      }
    } else if (t.resolutionOption === 'adaptive' && px(refDisp) < px(box)) {
      const own = evenSize(refDisp);
      decisions.push(`resolution ${sizeStr(own)} from ${refLabel} (below the requested ${sizeStr(box)}, sopt 1 (adaptive))`);
      box = own;
    }
  }
  let size = box;
  const mode: VideoPlan['mode'] = t.scaleType === 'fit' ? 'fill' : t.scaleType;
  if (t.scaleType === 'fit') {
    size = fitInside(refDisp, box);
    decisions.push(`scaletype fit: output ${sizeStr(size)} = ${refLabel} (${sizeStr(refDisp)}) fitted into ${sizeStr(box)}; clips of another aspect are fitted inside that and padded black`);
  } else {
    decisions.push(`scaletype ${t.scaleType}: output ${sizeStr(size)}`);
  }

  // Rate control.
  let bitrate = t.bitrate;
  if (bitrate !== undefined && t.bitrateOption === 'fall') {
    checkFall(sources, 'video bit rate', 'vbopt', bitrate, (v) => v.bitrate, (n) => `${n} bit/s`);
  } else if (bitrate !== undefined && t.bitrateOption === 'adaptive') {
    if (rv.bitrate && rv.bitrate < bitrate) {
      decisions.push(`video bit rate ${rv.bitrate} bit/s from ${refLabel} (below the requested ${bitrate}, vbopt 1 (adaptive))`);
      bitrate = rv.bitrate;
    } else if (!rv.bitrate) decisions.push(`vbopt adaptive: ${refLabel} video bit rate unknown, using the requested ${bitrate} bit/s`);
  }
  const crf = bitrate === undefined ? t.crf : undefined;
  if (bitrate === undefined && t.crf === undefined) decisions.push('video rate control: CRF 23 (no vb/crf given)');

  return { codec, pixelFormat, fps, size, mode, gop: t.gop ?? DEFAULT_GOP, bitrate, crf, maxBitrate: t.maxBitrate, bufferSize: t.bufferSize };
}
