/**
 * ffprobe's `-show_format -show_streams` JSON to the body of IMM DetectMediaMeta, which OSS returns for
 * `x-oss-process=video/info` and `audio/info` (spec oss.md 5.1). Pure: no I/O.
 *
 * Field names and JSON types follow the IMM 2020-09-30 SDK models (DetectMediaMetaResponseBody,
 * VideoStream, AudioStream, SubtitleStream): integers for sizes, counts, bit rates and pixels, floats for
 * times in seconds, strings for rationals ("25/1", "16:9"), codec tags and the rotation.
 *
 * Decisions where IMM says nothing:
 *  - Every top-level field is present (strings "" and numbers 0 when unknown; arrays may be empty), so the
 *    shape is stable; inside stream items, fields ffprobe does not know are omitted (the SDKs' omitempty).
 *  - `Duration` is the probe's corrected length when given (see engine/probe.ts), else ffprobe's.
 *  - `VideoWidth`/`VideoHeight` are the first video stream's displayed size (swapped for a quarter turn);
 *    the stream items keep ffprobe's coded `Width`/`Height` and report the turn as `Rotate`.
 *  - Cover art (attached pictures) is not listed among `VideoStreams`; `StreamCount` is ffprobe's count.
 *  - Languages are ffprobe's tags as written (ISO 639-2, e.g. `eng`); `und` counts as none.
 */
import { isObj, num, streamRotation, type Json } from './ffprobe-json.js';

export interface MetaVideoStream {
  Index: number;
  Language?: string;
  CodecName?: string;
  CodecLongName?: string;
  Profile?: string;
  CodecTimeBase?: string;
  CodecTagString?: string;
  CodecTag?: string;
  Width?: number;
  Height?: number;
  HasBFrames?: number;
  SampleAspectRatio?: string;
  DisplayAspectRatio?: string;
  PixelFormat?: string;
  Level?: number;
  BitDepth?: number;
  ColorRange?: string;
  ColorSpace?: string;
  ColorTransfer?: string;
  ColorPrimaries?: string;
  FrameRate?: string;
  AverageFrameRate?: string;
  TimeBase?: string;
  StartTime?: number;
  Duration?: number;
  Bitrate?: number;
  FrameCount?: number;
  /** Clockwise display rotation in degrees, as a string ("90"); only when the stream carries one. */
  Rotate?: string;
}

export interface MetaAudioStream {
  Index: number;
  Language?: string;
  CodecName?: string;
  CodecLongName?: string;
  CodecTimeBase?: string;
  CodecTagString?: string;
  CodecTag?: string;
  TimeBase?: string;
  StartTime?: number;
  Duration?: number;
  FrameCount?: number;
  Bitrate?: number;
  SampleFormat?: string;
  SampleRate?: number;
  Channels?: number;
  ChannelLayout?: string;
  Lyric?: string;
}

export interface MetaSubtitleStream {
  Index: number;
  Language?: string;
  CodecName?: string;
  CodecLongName?: string;
  CodecTagString?: string;
  CodecTag?: string;
  StartTime?: number;
  Duration?: number;
  Bitrate?: number;
  Width?: number;
  Height?: number;
}

export interface DetectMediaMeta {
  RequestId: string;
  /** Bytes. */
  Size: number;
  /** Seconds. */
  Duration: number;
  FormatName: string;
  FormatLongName: string;
  /** Seconds. */
  StartTime: number;
  /** bit/s. */
  Bitrate: number;
  StreamCount: number;
  ProgramCount: number;
  Title: string;
  Artist: string;
  Album: string;
  AlbumArtist: string;
  Composer: string;
  Performer: string;
  Language: string;
  /** RFC 3339 (UTC), "" when unknown. */
  ProduceTime: string;
  /** "latitude,longitude", "" when unknown. */
  LatLong: string;
  VideoWidth: number;
  VideoHeight: number;
  VideoStreams: MetaVideoStream[];
  AudioStreams: MetaAudioStream[];
  Subtitles: MetaSubtitleStream[];
}

export interface MediaMetaOptions {
  /** The JSON RequestId (an upper-case UUID). */
  requestId: string;
  /** The object's size in bytes; ffprobe's `format.size` otherwise. */
  size?: number;
  /** The corrected duration from the probe (MediaInfo.durationSec); ffprobe's `format.duration` otherwise. */
  durationSec?: number;
}


/** A whole number >= min (0 by default), else undefined. */
function int(v: unknown, min = 0): number | undefined {
  const n = num(v);
  if (n === undefined || n < min) return undefined;
  return Math.round(n);
}

function posInt(v: unknown): number | undefined {
  return int(v, 1);
}

function posFloat(v: unknown): number | undefined {
  const n = num(v);
  return n !== undefined && n > 0 ? n : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' && v !== 'N/A' && v !== 'unknown' ? v : undefined;
}

/** "25/1", "1/12800", "16:9": kept as written unless it is ffprobe's "unknown" ("0/0", "0:1"). */
function ratio(v: unknown): string | undefined {
  const s = str(v);
  if (!s) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*[/:]\s*(\d+(?:\.\d+)?)\s*$/.exec(s);
  if (!m) return undefined;
  return Number(m[1]) > 0 && Number(m[2]) > 0 ? s : undefined;
}

/** A tag by name, case-insensitively (Matroska writes ARTIST, MP4 artist). */
function tag(tags: Json, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(tags)) {
    if (k.toLowerCase() === want) {
      const s = typeof v === 'string' ? v.trim() : undefined;
      if (s) return s;
    }
  }
  return undefined;
}

/** The first tag whose name starts with `prefix` (ID3 lyrics come as `lyrics-eng`). */
function tagWithPrefix(tags: Json, prefix: string): string | undefined {
  for (const [k, v] of Object.entries(tags)) {
    if (k.toLowerCase().startsWith(prefix) && typeof v === 'string' && v.trim() !== '') return v;
  }
  return undefined;
}

function tagsOf(o: Json): Json {
  return isObj(o.tags) ? o.tags : {};
}

function languageOf(tags: Json): string | undefined {
  const l = tag(tags, 'language');
  return l && l.toLowerCase() !== 'und' ? l : undefined;
}

function isAttachedPic(stream: Json): boolean {
  return isObj(stream.disposition) && num(stream.disposition.attached_pic) === 1;
}

function hasRotation(stream: Json): boolean {
  const sideData = Array.isArray(stream.side_data_list) ? stream.side_data_list : [];
  if (sideData.some((sd) => isObj(sd) && num(sd.rotation) !== undefined)) return true;
  return num(tagsOf(stream).rotate) !== undefined;
}

/** Drops undefined members so the JSON has only what is known. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * A date-time tag to RFC 3339 in UTC with the fraction trimmed ("2022-04-24T02:39:57Z"). Only full
 * date-times count: a bare year ("2020", ID3 `date`) is not a production time.
 */
export function normaliseProduceTime(v: string | undefined): string | undefined {
  if (!v || !/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(v)) return undefined;
  // QuickTime writes "2022-04-24T10:39:57+0800": Date wants the offset as +08:00. No zone at all: UTC.
  let text = v.trim().replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  if (!/(Z|[+-]\d{2}:\d{2})$/i.test(text)) text += 'Z';
  const t = Date.parse(text);
  if (!Number.isFinite(t)) return undefined;
  return new Date(t).toISOString().replace(/\.?0+Z$/, 'Z');
}

/** ISO 6709 ("+30.2831+120.0290+010.000/") to "latitude,longitude" ("+30.2831,+120.0290"). */
export function iso6709ToLatLong(v: string | undefined): string | undefined {
  const m = v ? /^\s*([+-]\d{1,2}(?:\.\d+)?)([+-]\d{1,3}(?:\.\d+)?)/.exec(v) : null;
  if (!m) return undefined;
  const lat = Number(m[1]);
  const long = Number(m[2]);
  if (!(Math.abs(lat) <= 90) || !(Math.abs(long) <= 180)) return undefined;
  return `${m[1]},${m[2]}`;
}

function videoStream(s: Json): MetaVideoStream {
  const tags = tagsOf(s);
  return compact<MetaVideoStream>({
    Index: int(s.index) ?? 0,
    Language: languageOf(tags),
    CodecName: str(s.codec_name),
    CodecLongName: str(s.codec_long_name),
    Profile: str(s.profile),
    CodecTimeBase: ratio(s.codec_time_base),
    CodecTagString: str(s.codec_tag_string),
    CodecTag: str(s.codec_tag),
    Width: posInt(s.width),
    Height: posInt(s.height),
    HasBFrames: int(s.has_b_frames),
    SampleAspectRatio: ratio(s.sample_aspect_ratio),
    DisplayAspectRatio: ratio(s.display_aspect_ratio),
    PixelFormat: str(s.pix_fmt),
    // ffprobe prints -99 for an unknown level.
    Level: int(s.level),
    BitDepth: posInt(s.bits_per_raw_sample),
    ColorRange: str(s.color_range),
    ColorSpace: str(s.color_space),
    ColorTransfer: str(s.color_transfer),
    ColorPrimaries: str(s.color_primaries),
    FrameRate: ratio(s.r_frame_rate),
    AverageFrameRate: ratio(s.avg_frame_rate),
    TimeBase: ratio(s.time_base),
    StartTime: num(s.start_time),
    Duration: posFloat(s.duration),
    Bitrate: posInt(s.bit_rate),
    FrameCount: posInt(s.nb_frames),
    Rotate: hasRotation(s) ? String(streamRotation(s)) : undefined,
  });
}

function audioStream(s: Json, formatTags: Json | undefined): MetaAudioStream {
  const tags = tagsOf(s);
  return compact<MetaAudioStream>({
    Index: int(s.index) ?? 0,
    Language: languageOf(tags),
    CodecName: str(s.codec_name),
    CodecLongName: str(s.codec_long_name),
    CodecTimeBase: ratio(s.codec_time_base),
    CodecTagString: str(s.codec_tag_string),
    CodecTag: str(s.codec_tag),
    TimeBase: ratio(s.time_base),
    StartTime: num(s.start_time),
    Duration: posFloat(s.duration),
    FrameCount: posInt(s.nb_frames),
    Bitrate: posInt(s.bit_rate),
    SampleFormat: str(s.sample_fmt),
    SampleRate: posInt(s.sample_rate),
    Channels: posInt(s.channels),
    ChannelLayout: str(s.channel_layout),
    // MP3 keeps its ID3 lyrics at the file level: they belong to its (only) audio stream.
    Lyric: tagWithPrefix(tags, 'lyrics') ?? (formatTags ? tagWithPrefix(formatTags, 'lyrics') : undefined),
  });
}

function subtitleStream(s: Json): MetaSubtitleStream {
  return compact<MetaSubtitleStream>({
    Index: int(s.index) ?? 0,
    Language: languageOf(tagsOf(s)),
    CodecName: str(s.codec_name),
    CodecLongName: str(s.codec_long_name),
    CodecTagString: str(s.codec_tag_string),
    CodecTag: str(s.codec_tag),
    StartTime: num(s.start_time),
    Duration: posFloat(s.duration),
    Bitrate: posInt(s.bit_rate),
    Width: posInt(s.width),
    Height: posInt(s.height),
  });
}

/**
 * Why ffprobe's reading of a file is not audio or video although it found a stream, else undefined:
 * text shown as ANSI art (`tty`, which claims .txt/.nfo/... by extension) and still images (`image2`,
 * `png_pipe`, `jpeg_pipe`, ...). Animated GIF counts as video.
 */
export function notAudioVisual(json: unknown): string | undefined {
  const format = isObj(json) && isObj(json.format) ? json.format : {};
  const names = (str(format.format_name) ?? '').split(',').map((n) => n.trim());
  const long = str(format.format_long_name);
  const what = (kind: string, name: string) => `it is ${kind} (ffprobe reads it as ${long ? `${long}, ` : ''}${name})`;
  for (const name of names) {
    if (name === 'tty') return what('text', name);
    if (name === 'image2' || name.endsWith('_pipe')) return what('a still image', name);
  }
  return undefined;
}

/** Maps ffprobe's JSON (`-show_format -show_streams`) to the DetectMediaMeta body. */
export function toDetectMediaMeta(json: unknown, opts: MediaMetaOptions): DetectMediaMeta {
  const root = isObj(json) ? json : {};
  const streams = (Array.isArray(root.streams) ? root.streams : []).filter(isObj);
  const format = isObj(root.format) ? root.format : {};
  const ftags = tagsOf(format);

  const video = streams.filter((s) => s.codec_type === 'video' && !isAttachedPic(s));
  const audio = streams.filter((s) => s.codec_type === 'audio');
  const subtitles = streams.filter((s) => s.codec_type === 'subtitle');

  let videoWidth = 0;
  let videoHeight = 0;
  const first = video[0];
  if (first) {
    const w = posInt(first.width) ?? 0;
    const h = posInt(first.height) ?? 0;
    const quarterTurn = streamRotation(first) % 180 === 90;
    [videoWidth, videoHeight] = quarterTurn ? [h, w] : [w, h];
  }

  const language = languageOf(ftags) ?? streams.map((s) => languageOf(tagsOf(s))).find((l) => l !== undefined) ?? '';
  const produceTime =
    normaliseProduceTime(tag(ftags, 'com.apple.quicktime.creationdate')) ??
    normaliseProduceTime(tag(ftags, 'creation_time')) ??
    normaliseProduceTime(tag(ftags, 'date')) ??
    '';
  const latLong = iso6709ToLatLong(tag(ftags, 'com.apple.quicktime.location.ISO6709')) ?? iso6709ToLatLong(tag(ftags, 'location')) ?? '';
  const duration = opts.durationSec ?? posFloat(format.duration) ?? 0;

  return {
    RequestId: opts.requestId,
    Size: opts.size ?? int(format.size) ?? 0,
    Duration: duration,
    FormatName: str(format.format_name) ?? '',
    FormatLongName: str(format.format_long_name) ?? '',
    StartTime: num(format.start_time) ?? 0,
    Bitrate: posInt(format.bit_rate) ?? 0,
    StreamCount: int(format.nb_streams) ?? streams.length,
    ProgramCount: int(format.nb_programs) ?? 0,
    Title: tag(ftags, 'title') ?? '',
    Artist: tag(ftags, 'artist') ?? '',
    Album: tag(ftags, 'album') ?? '',
    AlbumArtist: tag(ftags, 'album_artist') ?? '',
    Composer: tag(ftags, 'composer') ?? '',
    Performer: tag(ftags, 'performer') ?? '',
    Language: language,
    ProduceTime: produceTime,
    LatLong: latLong,
    VideoWidth: videoWidth,
    VideoHeight: videoHeight,
    VideoStreams: video.map(videoStream),
    AudioStreams: audio.map((s, i) => audioStream(s, i === 0 && audio.length === 1 ? ftags : undefined)),
    Subtitles: subtitles.map(subtitleStream),
  };
}
