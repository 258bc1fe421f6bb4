/**
 * ffprobe -> MediaInfo. Probing is bounded (probesize, analyzeduration, wall clock) and limited to local
 * files; anything ffprobe cannot read, or that has neither an audio nor a video stream, is MediaUnreadable.
 *
 * Durations, as the bundled ffprobe 4.0.2 reports them, corrected where they are not the content's length:
 *  - raw ADTS AAC and AMR: no duration field, so ffprobe estimates one from the bit rate of the first frames
 *    (3.55 s for 4.56 s of ADTS, 1.3 s for 4 s of AMR with DTX). A second, demux-only pass counts the packets
 *    (`-count_packets`); every packet is one codec frame of a fixed number of samples (see `packetSeconds`);
 *  - ISO BMFF (mp4/mov/m4a/3gp): the movie header's duration, which the 2018 muxer writes including the AAC
 *    priming its own edit list removes (2.024 s for 2 s of audio and video). The tracks' durations honour the
 *    edit lists: the duration is where the last audio/video track ends.
 */
import { stat } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { fail, isMedleyError } from '../../errors.js';
import type { AudioStreamInfo, MediaInfo, VideoStreamInfo } from '../media-info.js';
import { isObj, num, streamRotation, type Json } from '../ffprobe-json.js';
import { checkVideoSize, implausibility } from '../limits.js';
import { FORMAT_WHITELIST, inputArgs } from '../plan/input-args.js';
import { refusal, sniffFile } from './sniff.js';
import { spawnEngine, type EngineSandbox } from './sandbox.js';

export interface ProbeOptions {
  /** Wall-clock limit; ffprobe is killed when it expires (default 30 s). */
  timeoutMs?: number;
  /** How the file is named in error messages (`oss://bucket/key`); defaults to the path. */
  displayName?: string;
  /**
   * The file is Medley's own output, being verified: it may be the HLS playlist or DASH manifest Medley just
   * wrote (`segments`), which is then opened with that demuxer, and the plausibility checks do not apply.
   * Sources are never probed this way.
   */
  ownOutput?: { segments?: 'hls' | 'dash' };
  /** User and limits ffprobe runs under (sandbox.ts); its cwd is the file's directory. */
  sandbox?: EngineSandbox;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_STDOUT = 16 * 1024 * 1024;


function posNum(v: unknown): number | undefined {
  const n = num(v);
  return n !== undefined && n > 0 ? n : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** "30000/1001" -> 29.97; "0/0" and garbage -> undefined. */
export function parseRate(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(\d+(?:\.\d+)?))?\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const d = m[2] === undefined ? 1 : Number(m[2]);
  if (!(n > 0) || !(d > 0)) return undefined;
  return n / d;
}

/** "16:15" -> [16, 15]; "0:1", "N/A" -> [1, 1]. */
export function parseSar(v: unknown): [number, number] {
  if (typeof v === 'string') {
    const m = /^\s*(\d+)\s*[:/]\s*(\d+)\s*$/.exec(v);
    if (m) {
      const n = Number(m[1]);
      const d = Number(m[2]);
      if (n > 0 && d > 0) return [n, d];
    }
  }
  return [1, 1];
}

// Display rotation is read by the pure DetectMediaMeta formatter too: it lives with the ffprobe JSON readers.
export { streamRotation };

/**
 * Seconds per packet of a raw elementary stream whose probed duration is a bit-rate estimate, else undefined.
 *  - ADTS AAC: one raw data block of 1024 samples per ADTS frame (encoders write one block per frame), at the
 *    core rate; HE-AAC (SBR, as the decoder found it) reports the doubled output rate: 2048 samples at it.
 *  - AMR: one 20 ms frame per packet, NO_DATA/SID frames (DTX) included: AMR-NB 160 @ 8 kHz, AMR-WB 320 @ 16 kHz.
 * Not counted: MP3 (the Xing/Info frame count gives ffprobe the exact duration, and without it the stream is
 * CBR, where the estimate is exact) and AC-3 (constant bit rate by design); E-AC-3 and DTS vary in samples per
 * frame, so a packet count would not be exact either.
 */
export function packetSeconds(formatName: string, stream: Json): number | undefined {
  const formats = formatName.split(',').map((n) => n.trim());
  const codec = str(stream.codec_name);
  if (formats.includes('aac') && codec === 'aac') {
    const rate = posNum(stream.sample_rate);
    if (rate === undefined) return undefined;
    const sbr = /^HE-AAC/i.test(str(stream.profile) ?? '');
    return (sbr ? 2048 : 1024) / rate;
  }
  if (formats.includes('amr')) {
    if (codec === 'amr_nb') return 160 / 8000;
    if (codec === 'amr_wb') return 320 / 16000;
  }
  return undefined;
}

/** The stream of a raw ADTS/AMR file whose packets must be counted for an exact duration, else undefined. */
export function streamToCount(json: unknown): { index: number; secondsPerPacket: number } | undefined {
  const root = isObj(json) ? json : {};
  const streams = (Array.isArray(root.streams) ? root.streams : []).filter(isObj);
  const format = isObj(root.format) ? root.format : {};
  const formatName = str(format.format_name) ?? '';
  const audio = streams.filter((s) => s.codec_type === 'audio');
  // A raw elementary stream file has exactly one stream.
  if (streams.length !== 1 || audio.length !== 1) return undefined;
  const s = audio[0] as Json;
  const secondsPerPacket = packetSeconds(formatName, s);
  const index = num(s.index);
  return secondsPerPacket === undefined || index === undefined ? undefined : { index, secondsPerPacket };
}

/** ISO BMFF family (`mov,mp4,m4a,3gp,3g2,mj2`). */
function isIsoBmff(formatName: string): boolean {
  return formatName.split(',').some((n) => n.trim() === 'mov' || n.trim() === 'mp4');
}

/**
 * Where the last audio/video stream ends, counted from the container's start time; undefined unless every
 * such stream has a duration.
 */
function streamsEnd(streams: Json[], format: Json): number | undefined {
  const av = streams.filter((s) => (s.codec_type === 'audio' || s.codec_type === 'video') && !isAttachedPic(s));
  if (av.length === 0) return undefined;
  let end = -Infinity;
  let first = Infinity;
  for (const s of av) {
    const d = posNum(s.duration);
    if (d === undefined) return undefined;
    const start = num(s.start_time) ?? 0;
    first = Math.min(first, start);
    end = Math.max(end, start + d);
  }
  const base = num(format.start_time) ?? first;
  const extent = end - base;
  return extent > 0 ? Math.round(extent * 1e6) / 1e6 : undefined;
}

function isAttachedPic(stream: Json): boolean {
  return isObj(stream.disposition) && num(stream.disposition.attached_pic) === 1;
}

function audioInfo(s: Json): AudioStreamInfo | undefined {
  const codec = str(s.codec_name);
  const sampleRate = posNum(s.sample_rate);
  const channels = posNum(s.channels);
  if (!codec || sampleRate === undefined || channels === undefined) return undefined;
  const info: AudioStreamInfo = { index: num(s.index) ?? 0, codec, sampleRate, channels };
  const layout = str(s.channel_layout);
  if (layout) info.channelLayout = layout;
  const bitrate = posNum(s.bit_rate);
  if (bitrate !== undefined) info.bitrate = bitrate;
  const bits = posNum(s.bits_per_sample) ?? posNum(s.bits_per_raw_sample);
  if (bits !== undefined) info.bitsPerSample = bits;
  return info;
}

function videoInfo(s: Json): VideoStreamInfo | undefined {
  const codec = str(s.codec_name);
  const width = posNum(s.width);
  const height = posNum(s.height);
  if (!codec || width === undefined || height === undefined) return undefined;
  const info: VideoStreamInfo = {
    index: num(s.index) ?? 0,
    codec,
    width,
    height,
    fps: parseRate(s.avg_frame_rate) ?? parseRate(s.r_frame_rate) ?? 0,
    pixelFormat: str(s.pix_fmt) ?? '',
    sar: parseSar(s.sample_aspect_ratio),
    rotation: streamRotation(s),
  };
  const bitrate = posNum(s.bit_rate);
  if (bitrate !== undefined) info.bitrate = bitrate;
  return info;
}

/**
 * Maps `ffprobe -print_format json -show_format -show_streams` output to MediaInfo: the first usable
 * audio stream and the first usable video stream (cover art excluded). Throws MediaUnreadable when
 * there is neither.
 */
export function parseProbeJson(json: unknown, displayName = 'the source'): MediaInfo {
  const root = isObj(json) ? json : {};
  const streams = (Array.isArray(root.streams) ? root.streams : []).filter(isObj);
  const format = isObj(root.format) ? root.format : {};

  let audio: AudioStreamInfo | undefined;
  let video: VideoStreamInfo | undefined;
  for (const s of streams) {
    if (!audio && s.codec_type === 'audio') audio = audioInfo(s);
    else if (!video && s.codec_type === 'video' && !isAttachedPic(s)) video = videoInfo(s);
  }
  if (!audio && !video) {
    // A video stream whose header's frame size FFmpeg itself refuses (60000x60000) probes as width 0.
    const sizeless = streams.some((s) => s.codec_type === 'video' && !isAttachedPic(s) && !(posNum(s.width) && posNum(s.height)));
    fail('MediaUnreadable', `${displayName} could not be read as media: ${sizeless ? 'its video stream has no valid frame size' : 'it has no audio or video stream'}`);
  }

  const formatName = str(format.format_name) ?? '';
  const streamDurations = streams.filter((s) => !isAttachedPic(s)).map((s) => posNum(s.duration) ?? 0);
  const durationSec = (isIsoBmff(formatName) ? streamsEnd(streams, format) : undefined) ?? posNum(format.duration) ?? Math.max(0, ...streamDurations);
  const info: MediaInfo = { durationSec, formatName };
  const bitrate = posNum(format.bit_rate);
  if (bitrate !== undefined) info.bitrate = bitrate;
  const size = posNum(format.size);
  if (size !== undefined) info.size = size;
  if (audio) info.audio = audio;
  if (video) info.video = video;
  return info;
}

function unreadableFile(displayName: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  return fail('MediaUnreadable', `${displayName} could not be read as media: ${code ? `the file cannot be opened (${code})` : 'the file cannot be read'}`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** First non-empty stderr line, `[mp3 @ 0x...]` shortened and the local path replaced by the display name. */
function firstErrorLine(stderr: string, localPath: string, displayName: string): string {
  const line = stderr.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '') ?? '';
  return line
    .replace(/^\[([\w-]+) @ 0x[0-9a-f]+\]\s*/i, '$1: ')
    .replace(new RegExp(`(file:)?${escapeRegExp(localPath)}`, 'g'), displayName);
}

/** Runs ffprobe on a local file and maps the result; MediaUnreadable for anything that is not readable media. */
export async function probe(ffprobePath: string, file: string, opts: ProbeOptions = {}): Promise<MediaInfo> {
  return (await probeDetailed(ffprobePath, file, opts)).info;
}

/**
 * As `probe`, plus ffprobe's own `-show_format -show_streams` JSON (for DetectMediaMeta-style reports).
 * `info.durationSec` carries the corrections described above; `json` is ffprobe's output as printed.
 */
export async function probeDetailed(ffprobePath: string, file: string, opts: ProbeOptions = {}): Promise<{ info: MediaInfo; json: unknown }> {
  const displayName = opts.displayName ?? file;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const localPath = resolvePath(file);

  let size: number;
  try {
    const st = await stat(localPath);
    if (!st.isFile()) fail('MediaUnreadable', `${displayName} could not be read as media: not a regular file`);
    size = st.size;
  } catch (e) {
    if (isMedleyError(e)) throw e;
    fail('MediaUnreadable', `${displayName} could not be read as media: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file does not exist' : String(e)}`);
  }
  if (size === 0) fail('MediaUnreadable', `${displayName} could not be read as media: the file is empty`);

  // The demuxer comes from the file's first bytes (sniff.ts): playlists, text, unknown bytes and movies with
  // external data references are refused here, before ffprobe runs.
  const sniffed = await sniffFile(localPath).catch((e: unknown) => unreadableFile(displayName, e));
  let openArgs: string[];
  const segments = opts.ownOutput?.segments;
  if (segments && sniffed.kind === 'playlist') {
    // Medley's own playlist/manifest, naming the segment files it wrote next to it.
    openArgs = ['-f', segments, '-format_whitelist', `${FORMAT_WHITELIST},${segments}`, '-protocol_whitelist', 'file', '-probesize', '20000000', '-analyzeduration', '20000000'];
  } else {
    const refused = refusal(sniffed, displayName);
    if (refused !== undefined || sniffed.kind !== 'media') fail('MediaUnreadable', refused ?? `${displayName} could not be read as media`);
    openArgs = inputArgs(sniffed.demuxer);
  }
  const common = ['-v', 'error', ...openArgs, '-print_format', 'json'];
  // localPath is absolute: it cannot start with '-', and FFmpeg reads a name as `protocol:` only when the
  // colon comes before the first '/', which the file: prefix is needed for then (C:\... on Windows). It is
  // not used otherwise: the DASH demuxer of ffprobe 4.0.2 resolves segment names against a file: URL wrongly
  // ("Error when loading first fragment"), so .mpd outputs could not be verified.
  const input = /^[^/]*:/.test(localPath) ? `file:${localPath}` : localPath;
  // One wall-clock budget for both passes.
  const deadline = Date.now() + timeoutMs;
  const unreadable = (why: string): never => fail('MediaUnreadable', `${displayName} could not be read as media: ${why}`);

  const pass = async (args: string[]): Promise<unknown> => {
    const r = await runFfprobe(ffprobePath, [...common, ...args, input], Math.max(1, deadline - Date.now()), opts.sandbox, dirname(localPath));
    if (r.spawnError) fail('MediaProcessingFailed', `could not start ffprobe (${ffprobePath}): ${r.spawnError.message}`);
    if (r.timedOut) unreadable(`ffprobe did not finish within ${timeoutMs / 1000} s`);
    if (r.code !== 0) unreadable(firstErrorLine(r.stderr, localPath, displayName) || `ffprobe exited with code ${r.code}`);
    try {
      return JSON.parse(r.stdout) as unknown;
    } catch {
      return unreadable('ffprobe printed no usable description');
    }
  };

  const json = await pass(['-show_format', '-show_streams']);
  const info = parseProbeJson(json, displayName);

  // Raw ADTS/AMR: the duration above is a bit-rate estimate; count the packets (demux only, no decoding).
  const counted = streamToCount(json);
  if (counted) {
    const c = await pass(['-count_packets', '-select_streams', String(counted.index), '-show_entries', 'stream=index,nb_read_packets']);
    const s = (isObj(c) && Array.isArray(c.streams) ? c.streams : []).filter(isObj).find((x) => num(x.index) === counted.index);
    const packets = s && posNum(s.nb_read_packets);
    if (packets !== undefined) info.durationSec = Math.round(packets * counted.secondsPerPacket * 1e6) / 1e6;
  }
  if (sniffed.kind === 'media') info.demuxer = sniffed.demuxer;
  if (!opts.ownOutput) {
    // A source that claims more than its bytes can hold (sparse timestamps, a lying header) or frames no
    // source has is refused before any work is planned on it.
    const implausible = implausibility(info, size);
    if (implausible) unreadable(implausible);
    checkVideoSize(info, displayName);
  }
  return { info, json };
}

interface FfprobeResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  spawnError?: Error;
}

function runFfprobe(ffprobePath: string, args: string[], timeoutMs: number, sandbox?: EngineSandbox, cwd?: string): Promise<FfprobeResult> {
  return new Promise((resolve) => {
    const child = spawnEngine(ffprobePath, args, { sandbox, cwd, timeoutMs });
    let out = '';
    let err = '';
    let timedOut = false;
    let spawnError: Error | undefined;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      if (out.length > MAX_STDOUT) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: string) => {
      if (err.length < 64 * 1024) err += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve({ code: c, stdout: out, stderr: err, timedOut, spawnError });
    });
  });
}
