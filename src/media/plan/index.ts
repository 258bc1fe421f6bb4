/**
 * The planner: MediaJob + MediaInfo of every input -> FFmpeg argv (pure; no I/O, no spawning).
 *
 * Shape of every plan:
 *   [inputArgs(demuxer) -i <input>]...               one per clip, in clip order (input i = clip i): the
 *                                                     sniffed single-file demuxer forced (input-args.ts)
 *   -filter_complex <per-clip chains ; concat>        trim, reset, resample/scale, exact length (filters.ts)
 *   -map [vout] -map [aout]
 *   <video encoder> -r <fps> -vsync cfr               (video-encoders.ts)
 *   <audio encoder> -ar <rate> -ac <channels>         (audio-encoders.ts)
 *   -map_chapters -1 -max_muxing_queue_size 1024 <container options> -f <muxer> [segment options] [-fs <max bytes>] <output>
 *
 * Clip lengths: audio-only output: clip i = round(d_i * rate) samples; with video: clip i = round(d_i * fps)
 * frames, and its audio exactly that long in samples. The output lasts the sum of the clip lengths.
 * (d_i from timeline.ts; audio-only clips taken to the end of a raw MP3/ADTS/AMR source run to its real end.)
 *
 * Missing streams: in a video job a clip without video (or with DisableVideo) contributes black frames of its
 * own length — allowed, it is what IMM's DisableVideo means, and it lets an audio file sit in a video concat;
 * a clip without audio (or DisableAudio) contributes silence. A video output where no clip has video fails
 * (InvalidMediaArgument: nothing to take size/rate from). vn/an drop the stream entirely (no concat of it).
 * Rotated sources are autorotated by FFmpeg (its default, also for -filter_complex inputs) before the chain.
 */
import { join } from 'node:path';
import { fail } from '../../errors.js';
import { inputArgs, inputDemuxer } from './input-args.js';
import { approximateDuration, checkCodecs, containerArgs, containerSpec, durationTolerance, muxerFor, VIDEO_PROBE_NAMES, type ContainerSpec } from './containers.js';
import { audioClipChain, blackChain, concatFilter, filterNames, silenceChain, videoClipChain, type AudioFormat, type VideoFormat } from './filters.js';
import { clipGeometry, displaySize, framePixels, hasSquarePixels, sizeStr } from './geometry.js';
import { segmentPlan, type SegmentPlan } from './segments.js';
import { selectStrategy } from './strategy.js';
import { resolveAudio, resolveVideo, usableVideo, type AudioPlan, type PlanSource, type VideoPlan } from './targets.js';
import { clipWindow, type ClipWindow } from './timeline.js';
import type { ExpectedOutput, Plan, PlanInput } from './types.js';
import { fmtSec, ratString, ratValue, uniq } from './util.js';
import { probedPixelFormat, videoEncoding } from './video-encoders.js';

export type { ExpectedOutput, Plan, PlanInput } from './types.js';

/** An argv path FFmpeg will not mistake for a protocol URL (`name:rest` before the first slash). */
function fileArg(p: string): string {
  return /^[^/]*:/.test(p) ? `file:${p}` : p;
}

/** A clip's exact length: frames (with video), samples (with audio), and the seconds they last. */
interface ClipLength {
  frames: number;
  sec: number;
  samples: number;
}

/**
 * The steps in order: what the output holds, each clip's window and strategy, the resolved video and audio,
 * exact clip lengths, the filter graph, the output argv, what the output must probe as. `decisions` is
 * written in that order.
 */
export function planJob(input: PlanInput): Plan {
  const { job, inputs, outputDir, outputName } = input;
  if (!outputName || /[/\\]/.test(outputName)) throw new Error(`planJob: bad output name ${JSON.stringify(outputName)}`);
  if (job.clips.length === 0) fail('InvalidMediaArgument', 'the job has no clips');
  if (inputs.length !== job.clips.length) throw new Error(`planJob: ${job.clips.length} clips but ${inputs.length} inputs`);
  if (job.alignIndex < 0 || job.alignIndex >= job.clips.length) {
    fail('InvalidMediaArgument', `align index ${job.alignIndex} is outside the ${job.clips.length} clips`);
  }

  const decisions: string[] = [];
  const out = job.output;
  const cspec = containerSpec(out.container);
  const { wantVideo, wantAudio } = outputStreams(job, cspec, decisions);

  const sources: PlanSource[] = job.clips.map((c, i) => ({
    index: i,
    info: (inputs[i] as PlanInput['inputs'][number]).info,
    disableAudio: c.disableAudio,
    disableVideo: c.disableVideo,
  }));
  const windows = job.clips.map((c, i) => clipWindow(i, c, (sources[i] as PlanSource).info, decisions));
  const strategies = job.clips.map((c, i) => selectStrategy(c, (sources[i] as PlanSource).info));
  if (strategies.every((s) => s === strategies[0])) decisions.push(`all ${strategies.length} clip(s): ${strategies[0]} (decode + re-encode)`);
  else strategies.forEach((s, i) => decisions.push(`clip #${i}: ${s}`));

  // The codec x container table first: a request error there comes before any complaint about values
  // inherited from the sources (an audio codec implied by an audio-only container is always its own).
  checkCodecs(cspec, wantAudio ? out.audio.codec : undefined, wantVideo ? out.video.codec : undefined);
  const video: VideoPlan | undefined = wantVideo ? resolveVideo(job, sources, cspec, decisions) : undefined;
  const audio: AudioPlan | undefined = wantAudio ? resolveAudio(job, sources, cspec, decisions) : undefined;

  const lengths = clipLengths(windows, video, audio);
  const expectedDurationSec = lengths.reduce((a, l) => a + l.sec, 0);
  const { graph, openEnded } = filterGraph(windows, sources, lengths, video, audio, decisions);

  // Output side.
  const seg = out.segment ? segmentPlan(out.segment, out.container, outputDir, outputName, decisions) : undefined;
  const args: string[] = [];
  inputs.forEach((inp, i) => {
    const pre = (windows[i] as ClipWindow).preSeekSec;
    args.push(...inputArgs(inputDemuxer(inp.info)), ...(pre > 0 ? ['-ss', fmtSec(pre)] : []), '-i', fileArg(inp.path));
  });
  args.push('-filter_complex', graph);
  if (video) args.push('-map', '[vout]');
  if (audio) args.push('-map', '[aout]');
  const encoders = encoderArgs(args, job, video, audio, seg);
  args.push('-map_chapters', '-1', '-max_muxing_queue_size', '1024');
  args.push(...containerArgs(cspec, audio?.codec, seg !== undefined));

  let mainOutput: string;
  let extension: string;
  let muxers: string[];
  if (seg) {
    args.push(...seg.args);
    mainOutput = seg.mainOutput;
    extension = seg.extension;
    muxers = seg.muxers;
  } else {
    const muxer = muxerFor(cspec, audio?.codec, decisions);
    args.push('-f', muxer);
    mainOutput = `${outputName}.${cspec.extension}`;
    extension = cspec.extension;
    muxers = [muxer];
  }
  if (input.maxOutputBytes !== undefined) args.push('-fs', String(Math.floor(input.maxOutputBytes)));
  args.push(fileArg(join(outputDir, mainOutput)));

  return {
    args,
    mainOutput,
    ...(seg ? { extraOutputPattern: seg.extraOutputPattern } : {}),
    extension,
    expectedDurationSec,
    expect: expectedOutput(cspec, seg, expectedDurationSec, video, audio, openEnded),
    needs: { encoders: uniq(encoders), muxers: uniq(muxers), filters: filterNames(graph) },
    decisions,
  };
}

/** Which streams the output holds (vn, an, an audio-only container), and the output-shape checks. */
function outputStreams(job: PlanInput['job'], cspec: ContainerSpec, decisions: string[]): { wantVideo: boolean; wantAudio: boolean } {
  const out = job.output;
  const videoAction = job.action.startsWith('video/');
  const wantVideo = videoAction && !cspec.audioOnly && !out.video.disabled;
  const wantAudio = !out.audio.disabled;
  if (videoAction && cspec.audioOnly && !out.video.disabled) decisions.push(`container ${cspec.name} is audio-only: no video stream`);
  if (videoAction && out.video.disabled) decisions.push('video disabled (vn): audio only');
  if (out.audio.disabled) decisions.push('audio disabled (an): no audio stream');
  if (!wantVideo && !wantAudio) fail('InvalidMediaArgument', 'both audio and video are disabled: nothing to produce');
  if (out.segment && out.container !== 'mp4' && out.container !== 'ts') {
    fail('InvalidMediaArgument', `segmenting (${out.segment.format}) needs container mp4 or ts, not ${out.container}`);
  }
  if (out.segment && !(out.segment.durationMs > 0)) fail('InvalidMediaArgument', 'the segment length must be greater than 0');
  return { wantVideo, wantAudio };
}

/** Exact clip lengths: whole frames with video (and as many samples as they last), else whole samples. */
function clipLengths(windows: ClipWindow[], video: VideoPlan | undefined, audio: AudioPlan | undefined): ClipLength[] {
  const fpsVal = video ? ratValue(video.fps) : 0;
  return windows.map((w) => {
    if (video) {
      const frames = Math.max(1, Math.round(w.durationSec * fpsVal));
      const sec = frames / fpsVal;
      return { frames, sec, samples: audio ? Math.round(sec * audio.sampleRate) : 0 };
    }
    const samples = Math.max(1, Math.round(w.durationSec * (audio as AudioPlan).sampleRate));
    return { frames: 0, sec: samples / (audio as AudioPlan).sampleRate, samples };
  });
}

/** One chain per clip and stream (black frames / silence where a clip has none), then the concat. */
function filterGraph(
  windows: ClipWindow[],
  sources: PlanSource[],
  lengths: ClipLength[],
  video: VideoPlan | undefined,
  audio: AudioPlan | undefined,
  decisions: string[],
): { graph: string; openEnded: Array<{ sec: number; formatName: string }> } {
  const fpsVal = video ? ratValue(video.fps) : 0;
  const chains: string[] = [];
  const single = windows.length === 1;
  const vLabel = (i: number): string => (single ? 'vout' : `v${i}`);
  const aLabel = (i: number): string => (single ? 'aout' : `a${i}`);
  const vf: VideoFormat | undefined = video && { size: video.size, fps: video.fps, pixelFormat: video.pixelFormat };
  const af: AudioFormat | undefined = audio && { sampleRate: audio.sampleRate, layout: audio.layout, sampleFmt: audio.encoding.sampleFmt };

  const openEnded: Array<{ sec: number; formatName: string }> = [];
  windows.forEach((w, i) => {
    const src = sources[i] as PlanSource;
    const len = lengths[i] as (typeof lengths)[number];
    if (video && vf) {
      const v = usableVideo(src.info);
      if (v && !src.disableVideo) {
        const g = clipGeometry(displaySize(v), framePixels(v), hasSquarePixels(v), video.size, video.mode);
        chains.push(videoClipChain(`${i}:${v.index}`, w.startSec, len.sec, g.filters, vf, len.frames, vLabel(i)));
        const conv = [g.note];
        if (Math.abs(v.fps - fpsVal) > 0.001) conv.push(`${Math.round(v.fps * 1000) / 1000} -> ${ratString(video.fps)} fps`);
        if (v.rotation % 360 !== 0) conv.push(`autorotated ${v.rotation}°`);
        decisions.push(`clip #${i} video: ${conv.join(', ')}; ${len.frames} frames`);
      } else {
        chains.push(blackChain(vf, len.frames, vLabel(i)));
        decisions.push(`clip #${i} video: ${src.disableVideo ? 'disabled' : 'none in source'}: ${len.frames} black frames ${sizeStr(video.size)}`);
      }
    }
    if (audio && af) {
      const a = src.info.audio;
      if (a && !src.disableAudio) {
        // Audio-only output, clip taken to the end of a source whose probed duration is approximate: open
        // end (see audioClipChain). Sources with exact durations (mp4, mkv, wav, flac, ogg...) are cut to
        // them, which also drops the end padding the 2018 decoder leaves on AAC-in-MP4.
        const open = !video && w.toEnd && approximateDuration(src.info.formatName);
        if (open) openEnded.push({ sec: len.sec, formatName: src.info.formatName });
        chains.push(audioClipChain(`${i}:${a.index}`, w.startSec, open ? undefined : len.sec, af, open ? undefined : len.samples, aLabel(i)));
        const conv: string[] = [];
        if (a.sampleRate !== audio.sampleRate) conv.push(`resampled ${a.sampleRate} -> ${audio.sampleRate} Hz`);
        if (a.channels !== audio.channels) conv.push(`${a.channels} -> ${audio.channels} channels`);
        const length = open ? `to the end of the source (probed ${fmtSec(len.sec)} s)` : `${len.samples} samples (${fmtSec(len.sec)} s)`;
        decisions.push(`clip #${i} audio: ${conv.length ? conv.join(', ') : 'same rate and channels'}; ${length}`);
      } else {
        chains.push(silenceChain(af, len.samples, aLabel(i)));
        decisions.push(`clip #${i} audio: ${src.disableAudio ? 'disabled' : 'none in source'}: ${len.samples} samples of silence (${fmtSec(len.sec)} s)`);
      }
    }
  });
  if (!single) {
    const segs = windows.map((_, i) => [...(video ? [vLabel(i)] : []), ...(audio ? [aLabel(i)] : [])]);
    chains.push(concatFilter(segs, video ? 1 : 0, audio ? 1 : 0, [...(video ? ['vout'] : []), ...(audio ? ['aout'] : [])]));
  }
  return { graph: chains.join(';'), openEnded };
}

/** The encoder options of each stream (appended to `args`); returns the encoder names. */
function encoderArgs(args: string[], job: PlanInput['job'], video: VideoPlan | undefined, audio: AudioPlan | undefined, seg: SegmentPlan | undefined): string[] {
  const out = job.output;
  const encoders: string[] = [];
  if (video) {
    const enc = videoEncoding({
      codec: video.codec,
      pixelFormat: video.pixelFormat,
      gop: video.gop,
      bitrate: video.bitrate,
      crf: video.crf,
      maxBitrate: video.maxBitrate,
      bufferSize: video.bufferSize,
      container: out.container,
      segmentSec: out.segment ? out.segment.durationMs / 1000 : undefined,
      tsSegments: seg?.tsSegments,
    });
    encoders.push(enc.encoder);
    args.push(...enc.args, '-r', ratString(video.fps), '-vsync', 'cfr');
  }
  if (audio) {
    encoders.push(audio.encoding.encoder);
    args.push(...audio.encoding.args, '-ar', String(audio.sampleRate), '-ac', String(audio.channels));
  }
  return encoders;
}

/** What the output must probe as (media/verify.ts): format, duration within tolerance, streams. */
function expectedOutput(
  cspec: ContainerSpec,
  seg: SegmentPlan | undefined,
  expectedDurationSec: number,
  video: VideoPlan | undefined,
  audio: AudioPlan | undefined,
  openEnded: Array<{ sec: number; formatName: string }>,
): ExpectedOutput {
  const fpsVal = video ? ratValue(video.fps) : 0;
  const expect: ExpectedOutput = {
    formatNames: seg ? seg.formatNames : cspec.formatNames,
    durationSec: expectedDurationSec,
    toleranceSec: durationTolerance({
      spec: cspec,
      segmented: seg !== undefined,
      durationSec: expectedDurationSec,
      audio: audio && { codec: audio.codec, sampleRate: audio.sampleRate, frameSamples: audio.encoding.frameSamples, primingSamples: audio.encoding.primingSamples },
      videoFps: video ? fpsVal : undefined,
      openEnded,
    }),
  };
  if (audio) {
    expect.audio = {
      codec: audio.encoding.probeCodec,
      sampleRate: audio.codec === 'opus' ? 48000 : audio.sampleRate,
      channels: audio.channels,
      ...(audio.encoding.nominalBitrate !== undefined ? { bitrate: audio.encoding.nominalBitrate } : {}),
    };
  }
  if (video) {
    expect.video = {
      codec: VIDEO_PROBE_NAMES[video.codec],
      width: video.size.w,
      height: video.size.h,
      fps: fpsVal,
      pixelFormat: probedPixelFormat(video.codec, video.pixelFormat),
    };
  }
  return expect;
}
