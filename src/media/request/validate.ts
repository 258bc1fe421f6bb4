/**
 * The rules every MediaJob must satisfy, whichever front door built it (OSS process string or IMM
 * CreateMediaConvertTask). The doors check syntax and their own vocabulary (enums, required tokens,
 * "option needs value" on the tokens as written); everything that can be judged on the job itself — value
 * ranges, container x codec, per-codec limits, exclusive settings, clip count, align range — is judged here,
 * so one job gets one verdict.
 *
 * Messages name the offending argument as the caller wrote it: each door records, in an ArgumentBook, which
 * token set which job field (`ar_44101`, `Targets[0].Audio.TranscodeAudio.SampleRate=44101`).
 */
import { fail } from '../../errors.js';
import { MAX_KEY_BYTES, isValidBucketName, objectKeyProblem as keyProblem } from '../../storage/names.js';
import {
  AUDIO_CODECS,
  MAX_CLIPS,
  PIXEL_FORMATS,
  SAMPLE_RATES,
  VIDEO_CODECS,
  isAudioContainer,
  type AudioCodec,
  type AudioContainer,
  type AudioTarget,
  type Clip,
  type Container,
  type MediaJob,
  type OutputTarget,
  type Resolution,
  type SegmentTarget,
  type VideoCodec,
  type VideoContainer,
  type VideoTarget,
} from '../job.js';

/** A job field an argument can set. */
export type JobField =
  | 'container'
  | 'align'
  | `audio.${Exclude<keyof AudioTarget, 'disabled'>}`
  | 'audio.disabled'
  | `video.${Exclude<keyof VideoTarget, 'disabled'>}`
  | 'video.disabled'
  | 'segment'
  | 'segment.format'
  | 'segment.durationMs'
  | 'destination.bucket'
  | 'destination.keyTemplate'
  | 'notify.topic'
  | 'userData'
  | 'tags';

export type ClipPart = 'source' | 'startMs' | 'durationMs';

/** One argument as the caller wrote it. */
export interface ArgumentRef {
  /** `details.ArgumentName`: `ar`, `o`, `Targets[0].Audio.TranscodeAudio.SampleRate`. */
  name: string;
  /** `details.ArgumentValue`, as written. */
  value: string;
  /** What messages quote: `ar_44101`, `Targets[0].Audio.TranscodeAudio.SampleRate=44101`. */
  token: string;
}

/** Which argument set which field; filled by a door while it builds the job. */
export class ArgumentBook {
  private readonly fields = new Map<JobField, ArgumentRef>();
  private readonly clips = new Map<string, ArgumentRef>();

  /** @param context message prefix: the OSS action (`audio/concat`) or the IMM operation name. */
  constructor(readonly context: string) {}

  set(field: JobField, ref: ArgumentRef): void {
    this.fields.set(field, ref);
  }

  get(field: JobField): ArgumentRef | undefined {
    return this.fields.get(field);
  }

  setClip(index: number, part: ClipPart, ref: ArgumentRef): void {
    this.clips.set(`${index}.${part}`, ref);
  }

  getClip(index: number, part: ClipPart): ArgumentRef | undefined {
    return this.clips.get(`${index}.${part}`) ?? (part === 'source' ? undefined : this.clips.get(`${index}.source`));
  }

  /** The argument behind a field, or a stand-in naming the (defaulted) field and its value. */
  ref(field: JobField, value: unknown): ArgumentRef {
    return this.get(field) ?? { name: field, value: String(value), token: `${field}=${String(value)} (default)` };
  }

  clipRef(index: number, part: ClipPart, value: unknown): ArgumentRef {
    return this.getClip(index, part) ?? { name: `clip ${index}`, value: String(value), token: `clip ${index} ${part}=${String(value)}` };
  }

  /** Throw InvalidMediaArgument: `<context>: parameter "<token>" <problem>`. */
  reject(ref: ArgumentRef, problem: string): never {
    fail('InvalidMediaArgument', `${this.context}: parameter "${ref.token}" ${problem}`, { ArgumentName: ref.name, ArgumentValue: ref.value });
  }

  /** Throw InvalidMediaArgument about the request as a whole. */
  rejectRequest(problem: string, details: { ArgumentName?: string; ArgumentValue?: string } = {}): never {
    fail('InvalidMediaArgument', `${this.context}: ${problem}`, details);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tables (oss.md 5.5, 5.7; imm.md 4.9)

export const AUDIO_CONTAINER_CODEC: Readonly<Record<AudioContainer, AudioCodec>> = {
  mp3: 'mp3',
  aac: 'aac',
  flac: 'flac',
  oga: 'vorbis',
  ac3: 'ac3',
  opus: 'opus',
  amr: 'amr',
};

/** Audio codecs each video container can carry (spec 5.5 "Audio codec x container"; webm per 8.16). */
export const VIDEO_CONTAINER_AUDIO: Readonly<Record<VideoContainer, readonly AudioCodec[]>> = {
  mp4: ['mp3', 'aac', 'flac', 'vorbis', 'ac3', 'opus', 'amr'],
  mkv: AUDIO_CODECS,
  mov: ['mp3', 'aac', 'vorbis', 'ac3', 'amr', 'pcm'],
  asf: ['mp3', 'aac', 'flac', 'vorbis', 'ac3', 'amr', 'pcm'],
  avi: ['mp3', 'aac', 'flac', 'vorbis', 'ac3', 'amr', 'pcm'],
  mxf: ['pcm'],
  ts: ['mp3', 'aac', 'ac3', 'opus'],
  flv: ['mp3', 'aac', 'ac3'],
  webm: ['opus', 'vorbis'],
};

/**
 * Video codecs each container can carry: mxf and flv cannot carry h265 (seed); webm is vp9 only (8.16).
 * vp9 outside webm [REC]: only mp4 and mkv, the other containers have no (or no portable) vp9 mapping.
 */
export const VIDEO_CONTAINER_VIDEO: Readonly<Record<VideoContainer, readonly VideoCodec[]>> = {
  mp4: ['h264', 'h265', 'vp9'],
  mkv: ['h264', 'h265', 'vp9'],
  mov: ['h264', 'h265'],
  asf: ['h264', 'h265'],
  avi: ['h264', 'h265'],
  mxf: ['h264'],
  ts: ['h264', 'h265'],
  flv: ['h264'],
  webm: ['vp9'],
};

/** Per-codec limits (spec 5.5 "Codec limits"). */
export const CODEC_LIMITS: Partial<Record<AudioCodec, { maxRate?: number; rates?: readonly number[]; maxChannels?: number; channels?: number }>> = {
  mp3: { maxRate: 48000, maxChannels: 2 },
  opus: { rates: [8000, 12000, 16000, 24000, 48000] },
  ac3: { rates: [32000, 44100, 48000], maxChannels: 6 },
  amr: { rates: [8000, 16000], channels: 1 },
};

export const SEGMENT_CONTAINERS: readonly Container[] = ['mp4', 'ts'];

export const LIMITS = {
  channels: [1, 8],
  audioBitrate: [1000, 10_000_000],
  audioQuality: [0, 100],
  fps: [0, 240], // (0, 240]
  resolutionSide: [64, 4096], // even
  gop: [1, 100_000],
  videoBitrate: [10_000, 100_000_000],
  crf: [0, 51],
  maxBitrate: [10_000, 100_000_000],
  bufferSize: [10_000, 200_000_000],
  segmentMs: [0, 3_600_000],
  userDataBytes: 2048,
} as const;

// ---------------------------------------------------------------------------------------------------------
// Shared syntax helpers

/**
 * `WxH`, `Wx` (height follows the aspect ratio) or `xH`; sides are decimal integers. Ranges are judged by
 * validateJob. Returns undefined when the text is not of that shape.
 */
export function parseResolution(text: string): Resolution | undefined {
  const m = /^(\d{1,9})?x(\d{1,9})?$/.exec(text);
  if (!m || (m[1] === undefined && m[2] === undefined)) return undefined;
  const r: Resolution = {};
  if (m[1] !== undefined) r.width = Number(m[1]);
  if (m[2] !== undefined) r.height = Number(m[2]);
  return r;
}

/** Why a key is not an object key (the rule is storage/names.ts), phrased for the request's error message. */
export function objectKeyProblem(key: string): string | undefined {
  switch (keyProblem(key)) {
    case undefined:
      return undefined;
    case 'empty':
      return 'is an empty object name';
    case 'leading-slash':
      return 'names an object starting with "/" or "\\"';
    case 'too-long':
      return `names an object longer than ${MAX_KEY_BYTES} bytes`;
    case 'nul':
      return 'names an object containing NUL';
  }
}

/** SMQ/MNS topic names [REC]: a letter, then letters, digits and '-', at most 256 characters. */
export function isValidTopicName(topic: string): boolean {
  return /^[A-Za-z][A-Za-z0-9-]{0,255}$/.test(topic);
}

function isInt(n: number): boolean {
  return Number.isSafeInteger(n);
}

function inRange(n: number, [lo, hi]: readonly [number, number]): boolean {
  return Number.isFinite(n) && n >= lo && n <= hi;
}

// ---------------------------------------------------------------------------------------------------------

/**
 * Judge a job built by a door and return it normalized: settings of a disabled stream are dropped, and no
 * property holds `undefined` (so jobs from both doors compare deep-equal).
 */
export function validateJob(job: MediaJob, book: ArgumentBook): MediaJob {
  validateClips(job, book);
  const container = job.output.container;
  const audioOnly = isAudioContainer(container);
  const containerRef = book.ref('container', container);

  if (job.action.startsWith('audio/')) {
    if (!audioOnly) book.reject(containerRef, `is not an audio container; ${job.action} writes one of ${listOf(Object.keys(AUDIO_CONTAINER_CODEC))}`);
    if (job.output.audio.disabled) book.rejectRequest(`${job.action} cannot disable audio`);
  }
  if (audioOnly && !job.output.video.disabled) {
    book.reject(book.ref('video.codec', job.output.video.codec ?? 'video'), `cannot be used: container "${containerRef.token}" holds audio only`);
  }
  if (job.action.endsWith('/convert') && job.clips.length !== 1) {
    book.rejectRequest(`${job.action} takes exactly one source, got ${job.clips.length}`);
  }

  const audio = validateAudio(job.output.audio, container, book);
  const video = validateVideo(job.output.video, container, book);
  if (audio.disabled && video.disabled) book.rejectRequest('the output would have neither audio nor video');

  const output: OutputTarget = { container, audio, video, dropSubtitles: job.output.dropSubtitles };
  if (job.output.segment) output.segment = validateSegment(job.output.segment, container, book);
  if (job.output.destination) output.destination = validateDestination(job.output.destination, book);

  const out: MediaJob = {
    origin: job.origin,
    action: job.action,
    clips: job.clips.map((c) => ({ ...c, source: { bucket: c.source.bucket, key: c.source.key } })),
    alignIndex: job.alignIndex,
    output,
  };
  if (job.notify) {
    if (!isValidTopicName(job.notify.topic)) {
      book.reject(book.ref('notify.topic', job.notify.topic), 'is not a valid topic name (a letter, then letters, digits or "-", at most 256)');
    }
    out.notify = { topic: job.notify.topic };
  }
  if (job.userData !== undefined) {
    if (Buffer.byteLength(job.userData, 'utf8') > LIMITS.userDataBytes) {
      book.reject(book.ref('userData', job.userData), `is longer than ${LIMITS.userDataBytes} bytes`);
    }
    out.userData = job.userData;
  }
  if (job.tags !== undefined) out.tags = { ...job.tags };
  return out;
}

function validateClips(job: MediaJob, book: ArgumentBook): void {
  const clips: Clip[] = job.clips;
  if (clips.length === 0) book.rejectRequest('at least one source is required');
  if (clips.length > MAX_CLIPS) {
    const extra = clips[MAX_CLIPS] as Clip;
    book.reject(book.clipRef(MAX_CLIPS, 'source', extra.source.key), `is clip ${MAX_CLIPS + 1} of ${clips.length}; at most ${MAX_CLIPS} clips can be merged`);
  }
  clips.forEach((clip, i) => {
    const src = book.clipRef(i, 'source', `${clip.source.bucket}/${clip.source.key}`);
    if (!isValidBucketName(clip.source.bucket)) book.reject(src, `names an invalid bucket "${clip.source.bucket}"`);
    const keyProblem = objectKeyProblem(clip.source.key);
    if (keyProblem) book.reject(src, keyProblem);
    if (!isInt(clip.startMs) || clip.startMs < 0) book.reject(book.clipRef(i, 'startMs', clip.startMs), 'must be a whole number of milliseconds >= 0');
    if (!isInt(clip.durationMs) || clip.durationMs < 0) book.reject(book.clipRef(i, 'durationMs', clip.durationMs), 'must be a whole number of milliseconds >= 0 (0 = to the end)');
  });
  const a = job.alignIndex;
  if (!isInt(a) || a < 0 || a >= clips.length) {
    book.reject(book.ref('align', a), `is out of range: there ${clips.length === 1 ? 'is 1 clip (index 0)' : `are ${clips.length} clips (index 0-${clips.length - 1})`}`);
  }
}

function validateAudio(a: AudioTarget, container: Container, book: ArgumentBook): AudioTarget {
  if (a.disabled) return { disabled: true, bitrateOption: 'fixed' };
  const cref = book.ref('container', container);
  if (a.codec === undefined) book.reject(cref, 'needs an audio codec (or disable audio)');
  const codec = a.codec;
  const codecRef = book.ref('audio.codec', codec);
  if (!(AUDIO_CODECS as readonly string[]).includes(codec)) book.reject(codecRef, `is not one of ${listOf(AUDIO_CODECS)}`);
  if (isAudioContainer(container)) {
    const want = AUDIO_CONTAINER_CODEC[container];
    if (codec !== want) book.reject(codecRef, `cannot be stored in container "${cref.token}", which takes ${want} only`);
  } else if (!VIDEO_CONTAINER_AUDIO[container].includes(codec)) {
    book.reject(codecRef, `cannot be stored in container "${cref.token}" (${container} takes ${listOf(VIDEO_CONTAINER_AUDIO[container])})`);
  }

  const out: AudioTarget = { disabled: false, codec, bitrateOption: a.bitrateOption };
  const limits = CODEC_LIMITS[codec];
  if (a.sampleRate !== undefined) {
    const ref = book.ref('audio.sampleRate', a.sampleRate);
    if (!(SAMPLE_RATES as readonly number[]).includes(a.sampleRate)) book.reject(ref, `is not one of ${listOf(SAMPLE_RATES)}`);
    if (limits?.maxRate !== undefined && a.sampleRate > limits.maxRate) book.reject(ref, `is above ${limits.maxRate} Hz, the ${codec} maximum`);
    if (limits?.rates && !limits.rates.includes(a.sampleRate)) book.reject(ref, `is not a sample rate ${codec} supports (${listOf(limits.rates)})`);
    out.sampleRate = a.sampleRate;
  }
  if (a.channels !== undefined) {
    const ref = book.ref('audio.channels', a.channels);
    if (!isInt(a.channels) || !inRange(a.channels, LIMITS.channels)) book.reject(ref, 'is out of range 1-8');
    if (limits?.maxChannels !== undefined && a.channels > limits.maxChannels) book.reject(ref, `is above ${limits.maxChannels} channels, the ${codec} maximum`);
    if (limits?.channels !== undefined && a.channels !== limits.channels) book.reject(ref, `is not allowed: ${codec} takes exactly ${limits.channels} channel`);
    out.channels = a.channels;
  }
  if (a.bitrate !== undefined) {
    const ref = book.ref('audio.bitrate', a.bitrate);
    if (!isInt(a.bitrate) || !inRange(a.bitrate, LIMITS.audioBitrate)) book.reject(ref, 'is out of range 1000-10000000 bit/s');
    out.bitrate = a.bitrate;
  }
  if (a.quality !== undefined) {
    const ref = book.ref('audio.quality', a.quality);
    if (!isInt(a.quality) || !inRange(a.quality, LIMITS.audioQuality)) book.reject(ref, 'is out of range 0-100');
    if (a.bitrate !== undefined) book.reject(ref, `cannot be combined with "${book.ref('audio.bitrate', a.bitrate).token}" (bitrate and quality are exclusive)`);
    out.quality = a.quality;
  }
  if (a.bitrateOption !== 'fixed' && a.bitrate === undefined) {
    book.reject(book.ref('audio.bitrateOption', a.bitrateOption), 'needs an audio bitrate');
  }
  if (a.bitsPerSample !== undefined) {
    const ref = book.ref('audio.bitsPerSample', a.bitsPerSample);
    if (a.bitsPerSample !== 16 && a.bitsPerSample !== 24) book.reject(ref, 'must be 16 or 24');
    if (codec !== 'flac') book.reject(ref, `applies to flac only, not ${codec}`);
    out.bitsPerSample = a.bitsPerSample;
  }
  return out;
}

function emptyVideo(): VideoTarget {
  return { disabled: true, fpsOption: 'fixed', resolutionOption: 'fixed', scaleType: 'stretch', adaptiveOrientation: false, bitrateOption: 'fixed' };
}

function validateVideo(v: VideoTarget, container: Container, book: ArgumentBook): VideoTarget {
  if (v.disabled) return emptyVideo();
  const cref = book.ref('container', container);
  if (isAudioContainer(container)) book.reject(cref, 'holds audio only; disable video');
  if (v.codec === undefined) book.reject(cref, 'needs a video codec (or disable video)');
  const codec = v.codec;
  const codecRef = book.ref('video.codec', codec);
  if (!(VIDEO_CODECS as readonly string[]).includes(codec)) book.reject(codecRef, `is not one of ${listOf(VIDEO_CODECS)}`);
  if (!VIDEO_CONTAINER_VIDEO[container].includes(codec)) {
    book.reject(codecRef, `cannot be stored in container "${cref.token}" (${container} takes ${listOf(VIDEO_CONTAINER_VIDEO[container])})`);
  }

  const out: VideoTarget = {
    disabled: false,
    codec,
    fpsOption: v.fpsOption,
    resolutionOption: v.resolutionOption,
    scaleType: v.scaleType,
    adaptiveOrientation: v.adaptiveOrientation,
    bitrateOption: v.bitrateOption,
  };
  if (v.fps !== undefined) {
    const ref = book.ref('video.fps', v.fps);
    if (!(Number.isFinite(v.fps) && v.fps > 0 && v.fps <= 240)) book.reject(ref, 'is out of range (0, 240]');
    out.fps = v.fps;
  }
  if (v.fpsOption !== 'fixed' && v.fps === undefined) book.reject(book.ref('video.fpsOption', v.fpsOption), 'needs a frame rate');
  if (v.pixelFormat !== undefined) {
    const ref = book.ref('video.pixelFormat', v.pixelFormat);
    if (!(PIXEL_FORMATS as readonly string[]).includes(v.pixelFormat)) book.reject(ref, `is not one of ${listOf(PIXEL_FORMATS)}`);
    if (v.pixelFormat === 'yuva420p' && codec !== 'vp9') book.reject(ref, `needs vp9, not ${codec}`);
    out.pixelFormat = v.pixelFormat;
  }
  if (v.resolution !== undefined) {
    const ref = book.ref('video.resolution', `${v.resolution.width ?? ''}x${v.resolution.height ?? ''}`);
    const { width, height } = v.resolution;
    if (width === undefined && height === undefined) book.reject(ref, 'gives neither width nor height');
    for (const side of [width, height]) {
      if (side === undefined) continue;
      if (!isInt(side) || !inRange(side, LIMITS.resolutionSide) || side % 2 !== 0) book.reject(ref, 'needs even sides of 64-4096 pixels');
    }
    out.resolution = {};
    if (width !== undefined) out.resolution.width = width;
    if (height !== undefined) out.resolution.height = height;
  }
  if (v.resolutionOption !== 'fixed' && v.resolution === undefined) book.reject(book.ref('video.resolutionOption', v.resolutionOption), 'needs a resolution');
  if (v.gop !== undefined) {
    if (!isInt(v.gop) || !inRange(v.gop, LIMITS.gop)) book.reject(book.ref('video.gop', v.gop), 'is out of range 1-100000');
    out.gop = v.gop;
  }
  if (v.bitrate !== undefined) {
    if (!isInt(v.bitrate) || !inRange(v.bitrate, LIMITS.videoBitrate)) book.reject(book.ref('video.bitrate', v.bitrate), 'is out of range 10000-100000000 bit/s');
    out.bitrate = v.bitrate;
  }
  if (v.bitrateOption !== 'fixed' && v.bitrate === undefined) book.reject(book.ref('video.bitrateOption', v.bitrateOption), 'needs a video bitrate');
  if (v.crf !== undefined) {
    const ref = book.ref('video.crf', v.crf);
    if (!inRange(v.crf, LIMITS.crf)) book.reject(ref, 'is out of range 0-51');
    if (v.bitrate !== undefined) book.reject(ref, `cannot be combined with "${book.ref('video.bitrate', v.bitrate).token}" (bitrate and crf are exclusive)`);
    out.crf = v.crf;
  }
  if (v.maxBitrate !== undefined) {
    const ref = book.ref('video.maxBitrate', v.maxBitrate);
    if (!isInt(v.maxBitrate) || !inRange(v.maxBitrate, LIMITS.maxBitrate)) book.reject(ref, 'is out of range 10000-100000000 bit/s');
    if (v.crf === undefined) book.reject(ref, 'needs crf');
    if (v.bufferSize === undefined) book.reject(ref, 'needs a buffer size');
    out.maxBitrate = v.maxBitrate;
  }
  if (v.bufferSize !== undefined) {
    const ref = book.ref('video.bufferSize', v.bufferSize);
    if (!isInt(v.bufferSize) || !inRange(v.bufferSize, LIMITS.bufferSize)) book.reject(ref, 'is out of range 10000-200000000 bits');
    if (v.crf === undefined) book.reject(ref, 'needs crf');
    out.bufferSize = v.bufferSize;
  }
  return out;
}

function validateSegment(s: SegmentTarget, container: Container, book: ArgumentBook): SegmentTarget {
  const ref = book.ref('segment', s.format);
  if (!SEGMENT_CONTAINERS.includes(container)) {
    book.reject(ref, `needs container mp4 or ts, not "${book.ref('container', container).token}"`);
  }
  if (s.format !== 'hls' && s.format !== 'dash') book.reject(book.ref('segment.format', s.format), 'is not one of hls, dash');
  // [REC] DASH segments are fragmented MP4; there is no DASH-in-TS packaging.
  if (s.format === 'dash' && container === 'ts') book.reject(book.ref('segment.format', s.format), `needs container mp4, not "${book.ref('container', container).token}"`);
  if (!isInt(s.durationMs) || !inRange(s.durationMs, LIMITS.segmentMs)) {
    book.reject(book.ref('segment.durationMs', s.durationMs), 'is out of range 0-3600000 ms');
  }
  return { format: s.format, durationMs: s.durationMs };
}

function validateDestination(d: { bucket?: string; keyTemplate: string }, book: ArgumentBook): { bucket?: string; keyTemplate: string } {
  const keyProblem = objectKeyProblem(d.keyTemplate);
  if (keyProblem) book.reject(book.ref('destination.keyTemplate', d.keyTemplate), keyProblem);
  const out: { bucket?: string; keyTemplate: string } = { keyTemplate: d.keyTemplate };
  if (d.bucket !== undefined) {
    // A bucket template such as `{bucket}` is expanded later; only literal names are judged here.
    if (!d.bucket.includes('{') && !isValidBucketName(d.bucket)) book.reject(book.ref('destination.bucket', d.bucket), `names an invalid bucket "${d.bucket}"`);
    out.bucket = d.bucket;
  }
  return out;
}

function listOf(values: readonly (string | number)[]): string {
  return values.join(', ');
}
