/**
 * ffprobe -> MediaInfo. Probing is bounded (probesize, analyzeduration, wall clock) and limited to local
 * files; anything ffprobe cannot read, or that has neither an audio nor a video stream, is MediaUnreadable.
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { fail, isMedleyError } from '../../errors.js';
import type { AudioStreamInfo, MediaInfo, VideoStreamInfo } from '../media-info.js';

export interface ProbeOptions {
  /** Wall-clock limit; ffprobe is killed when it expires (default 30 s). */
  timeoutMs?: number;
  /** How the file is named in error messages (`oss://bucket/key`); defaults to the path. */
  displayName?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_STDOUT = 16 * 1024 * 1024;

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** ffprobe prints most numbers as strings ("44100", "N/A"); undefined unless finite. */
function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

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

/** Any angle -> the nearest of 0, 90, 180, 270. */
function normaliseAngle(deg: number): number {
  const q = Math.round(deg / 90) * 90;
  return ((q % 360) + 360) % 360;
}

/**
 * Clockwise display rotation. ffprobe's display-matrix `rotation` is counter-clockwise (iPhone portrait:
 * -90), the legacy `rotate` tag is clockwise (iPhone portrait: 90).
 */
export function streamRotation(stream: Json): number {
  const sideData = Array.isArray(stream.side_data_list) ? stream.side_data_list : [];
  for (const sd of sideData) {
    if (!isObj(sd)) continue;
    const r = num(sd.rotation);
    if (r !== undefined && (sd.side_data_type === undefined || /display ?matrix/i.test(String(sd.side_data_type)))) {
      return normaliseAngle(-r);
    }
  }
  const tags = isObj(stream.tags) ? stream.tags : {};
  const rotate = num(tags.rotate);
  return rotate === undefined ? 0 : normaliseAngle(rotate);
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
    fail('MediaUnreadable', `${displayName} could not be read as media: it has no audio or video stream`);
  }

  const streamDurations = streams.filter((s) => !isAttachedPic(s)).map((s) => posNum(s.duration) ?? 0);
  const durationSec = posNum(format.duration) ?? Math.max(0, ...streamDurations);
  const info: MediaInfo = { durationSec, formatName: str(format.format_name) ?? '' };
  const bitrate = posNum(format.bit_rate);
  if (bitrate !== undefined) info.bitrate = bitrate;
  const size = posNum(format.size);
  if (size !== undefined) info.size = size;
  if (audio) info.audio = audio;
  if (video) info.video = video;
  return info;
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

  const args = [
    '-v', 'error',
    '-probesize', '20000000',
    '-analyzeduration', '20000000',
    '-protocol_whitelist', 'file',
    '-print_format', 'json',
    '-show_format',
    '-show_streams',
    // The file: prefix keeps colons in the name from being read as a protocol, and a leading '-' as an option.
    `file:${localPath}`,
  ];

  const { code, stdout, stderr, timedOut, spawnError } = await new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
    timedOut: boolean;
    spawnError?: Error;
  }>((resolve) => {
    const child = spawn(ffprobePath, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
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

  if (spawnError) fail('MediaProcessingFailed', `could not start ffprobe (${ffprobePath}): ${spawnError.message}`);
  if (timedOut) fail('MediaUnreadable', `${displayName} could not be read as media: ffprobe did not finish within ${timeoutMs / 1000} s`);
  if (code !== 0) {
    const why = firstErrorLine(stderr, localPath, displayName) || `ffprobe exited with code ${code}`;
    fail('MediaUnreadable', `${displayName} could not be read as media: ${why}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    fail('MediaUnreadable', `${displayName} could not be read as media: ffprobe printed no usable description`);
  }
  return parseProbeJson(json, displayName);
}
