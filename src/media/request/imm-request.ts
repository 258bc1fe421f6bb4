/**
 * The IMM front door: CreateMediaConvertTask parameters (spec imm.md 1.3, 4.9, 6) to a validated MediaJob.
 *
 * `params` is the flat string map of the request (query and form body merged). Complex parameters
 * (Sources, Targets, Notification, Tags, ...) arrive as JSON text, or — from pop-core callers passing
 * arrays — flattened as `Sources.1.URI=...`, `Targets.1.Audio.TranscodeAudio.Codec=...`, which is rebuilt.
 *
 * Medley always re-encodes (the MediaJob has no stream copy):
 * - `Audio`/`Video` (or their `TranscodeAudio`/`TranscodeVideo`) absent means "copy" in IMM (6.11); Medley
 *   transcodes instead, with the codec defaulted from the container (DEFAULT_AUDIO_CODEC/DEFAULT_VIDEO_CODEC)
 *   and every other setting left to the align clip / encoder defaults.
 * - An explicit Codec `copy` is refused: for concatenation as IMM does, and for a single source too, since
 *   Medley cannot honour a bit-exact stream copy and would rather say so than re-encode silently.
 */
import { z } from 'zod';
import { fail } from '../../errors.js';
import { MAX_JSON_DEPTH, jsonTooDeep } from '../../util/json.js';
import {
  AUDIO_CODECS,
  AUDIO_CONTAINERS,
  PIXEL_FORMATS,
  VIDEO_CODECS,
  VIDEO_CONTAINERS,
  isAudioContainer,
  type AudioCodec,
  type AudioTarget,
  type Clip,
  type Container,
  type MediaJob,
  type PixelFormat,
  type VideoCodec,
  type VideoTarget,
} from '../job.js';
import { AUDIO_CONTAINER_CODEC, ArgumentBook, parseResolution, validateJob, type ArgumentRef, type JobField } from './validate.js';

const OPERATION = 'CreateMediaConvertTask';

/**
 * Audio codec used when the target names none (IMM would copy the stream):
 * audio-only containers take their own codec; mp4/mkv/mov/ts/flv take aac (the codec every one of them
 * carries and every player decodes); asf/avi take mp3 (their classic pairing; no wma encoder in the model);
 * mxf takes pcm (the only codec it carries); webm takes opus.
 */
export const DEFAULT_AUDIO_CODEC: Readonly<Record<Container, AudioCodec>> = {
  ...AUDIO_CONTAINER_CODEC,
  mp4: 'aac',
  mkv: 'aac',
  mov: 'aac',
  ts: 'aac',
  flv: 'aac',
  asf: 'mp3',
  avi: 'mp3',
  mxf: 'pcm',
  webm: 'opus',
};

/** Video codec used when the target names none: h264 everywhere except webm (vp9). */
export function defaultVideoCodec(container: Container): VideoCodec {
  return container === 'webm' ? 'vp9' : 'h264';
}

/** IMM's documented default when neither Bitrate nor CRF is given (4.9 TranscodeVideo.CRF). */
const IMM_DEFAULT_CRF = 23;

// ---------------------------------------------------------------------------------------------------------
// Schemas: shape and scalar types only (ranges and cross-field rules are validate.ts's). Scalars accept their
// JSON type or the string form (flattened parameters are always strings).

const NUMERIC = /^-?\d+(\.\d+)?$/;
const num = z.preprocess((v) => (typeof v === 'string' && NUMERIC.test(v) ? Number(v) : v), z.number({ error: 'must be a number' }));
const int = z.preprocess((v) => (typeof v === 'string' && NUMERIC.test(v) ? Number(v) : v), z.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' }));
const bool = z.preprocess((v) => (typeof v === 'string' && /^(true|false)$/i.test(v) ? v.toLowerCase() === 'true' : v), z.boolean({ error: 'must be true or false' }));
const str = z.string({ error: 'must be a string' });
const option = z.enum(['fixed', 'adaptive', 'fall'], { error: 'must be fixed, adaptive or fall' });
const list = <T extends z.ZodType>(item: T) => z.array(item, { error: 'must be a list' });
const obj = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape, { error: 'must be an object' });
const anything = z.unknown();

const SourceSchema = obj({
  URI: str,
  StartTime: num.optional(),
  Duration: num.optional(),
  Attached: bool.optional(),
  AlignMode: str.optional(),
  DisableAudio: bool.optional(),
  DisableVideo: bool.optional(),
  Subtitles: anything.optional(),
});

const TranscodeAudioSchema = obj({
  Codec: str.optional(),
  Bitrate: int.optional(),
  BitrateOption: option.optional(),
  Quality: int.optional(),
  SampleRate: int.optional(),
  SampleRateOption: option.optional(),
  Channel: int.optional(),
  BitsPerSample: int.optional(),
});

const TranscodeVideoSchema = obj({
  Codec: str.optional(),
  Resolution: str.optional(),
  AdaptiveResolutionDirection: bool.optional(),
  ResolutionOption: option.optional(),
  ScaleType: z.enum(['stretch', 'crop', 'fill', 'fit'], { error: 'must be stretch, crop, fill or fit' }).optional(),
  FrameRate: num.optional(),
  FrameRateOption: option.optional(),
  PixelFormat: str.optional(),
  Bitrate: int.optional(),
  BitrateOption: option.optional(),
  CRF: num.optional(),
  MaxBitrate: int.optional(),
  BufferSize: int.optional(),
  GOPSize: int.optional(),
  BFrames: int.optional(),
  Refs: int.optional(),
  Rotation: int.optional(),
  /** Undocumented SDK field: accepted and ignored (imm.md 6.25). */
  VideoSlim: anything.optional(),
});

const TargetSchema = obj({
  URI: str.optional(),
  Container: str.optional(),
  Audio: obj({
    DisableAudio: bool.optional(),
    Stream: list(int).optional(),
    TranscodeAudio: TranscodeAudioSchema.optional(),
    FilterAudio: obj({ Mixing: bool.optional() }).optional(),
  }).optional(),
  Video: obj({
    DisableVideo: bool.optional(),
    Stream: list(int).optional(),
    TranscodeVideo: TranscodeVideoSchema.optional(),
    FilterVideo: obj({ Watermarks: anything.optional(), Delogos: anything.optional(), Desensitization: anything.optional(), Speed: num.optional() }).optional(),
  }).optional(),
  Subtitle: obj({ DisableSubtitle: bool.optional(), Stream: list(int).optional(), ExtractSubtitle: anything.optional() }).optional(),
  Segment: obj({ Format: str, Duration: num, StartNumber: int.optional() }).optional(),
  Speed: num.optional(),
  StripMetadata: bool.optional(),
  Image: anything.optional(),
  AttachedPicture: anything.optional(),
  Data: anything.optional(),
});

const NotificationSchema = obj({
  MNS: obj({ TopicName: str }).optional(),
  RocketMQ: anything.optional(),
  ExtendedMessageURI: anything.optional(),
});

const TagsSchema = z.record(z.string(), anything, { error: 'must be an object of tag names to values' });

type Target = z.infer<typeof TargetSchema>;

// ---------------------------------------------------------------------------------------------------------

/** Parse and validate CreateMediaConvertTask parameters. */
export function parseMediaConvertRequest(params: Record<string, string>): { job: MediaJob; projectName: string } {
  const book: ArgumentBook = new ArgumentBook(OPERATION);

  const projectName = params.ProjectName?.trim();
  if (!projectName) missing('ProjectName');

  if (complexParam(params, 'TargetGroups', 'array', book) !== undefined) unsupported(book, 'TargetGroups', undefined, 'HLS master-playlist target groups');

  // Sources.
  const rawSources = complexParam(params, 'Sources', 'array', book);
  if (rawSources === undefined) missing('Sources');
  const sources = parseWith(list(SourceSchema), rawSources, 'Sources', book);
  if (sources.length === 0) book.reject({ name: 'Sources', value: '[]', token: 'Sources=[]' }, 'must list 1-11 sources');

  const clips: Clip[] = sources.map((s, i) => {
    const at = `Sources[${i}]`;
    const uriRef = ref(`${at}.URI`, s.URI);
    book.setClip(i, 'source', uriRef);
    if (s.Attached === true) unsupported(book, `${at}.Attached`, true, 'attached (synchronized) sources');
    if (s.Subtitles !== undefined && !(Array.isArray(s.Subtitles) && s.Subtitles.length === 0)) unsupported(book, `${at}.Subtitles`, undefined, 'external subtitles');
    const source = parseOssUri(s.URI, uriRef, book);
    return {
      source,
      startMs: secondsToMs(s.StartTime, `${at}.StartTime`, (r) => book.setClip(i, 'startMs', r), book),
      durationMs: secondsToMs(s.Duration, `${at}.Duration`, (r) => book.setClip(i, 'durationMs', r), book),
      disableAudio: s.DisableAudio ?? false,
      disableVideo: s.DisableVideo ?? false,
    };
  });

  // Targets: exactly one.
  const rawTargets = complexParam(params, 'Targets', 'array', book);
  if (rawTargets === undefined) missing('Targets');
  const targets = parseWith(list(TargetSchema), rawTargets, 'Targets', book);
  if (targets.length !== 1) {
    book.reject({ name: 'Targets', value: String(targets.length), token: `Targets (${targets.length} items)` }, 'must hold exactly one target: Medley supports only one target per task for now');
  }
  const target = targets[0] as Target;
  const { container, destination, audio, video, segment, dropSubtitles } = parseTarget(target, clips.length > 1, book);

  // AlignmentIndex.
  let alignIndex = 0;
  if (params.AlignmentIndex !== undefined) {
    const r = ref('AlignmentIndex', params.AlignmentIndex);
    book.set('align', r);
    if (!/^\d{1,9}$/.test(params.AlignmentIndex.trim())) book.reject(r, 'must be a whole number >= 0');
    alignIndex = Number(params.AlignmentIndex.trim());
  }

  const isAudioOnly = isAudioContainer(container);
  const job: MediaJob = {
    origin: 'imm',
    action: `${isAudioOnly ? 'audio' : 'video'}/${clips.length > 1 ? 'concat' : 'convert'}`,
    clips,
    alignIndex,
    output: { container, audio, video, dropSubtitles, destination },
  };
  if (segment) job.output.segment = segment;

  // Notification.
  const rawNotification = complexParam(params, 'Notification', 'object', book);
  if (rawNotification !== undefined) {
    const n = parseWith(NotificationSchema, rawNotification, 'Notification', book);
    if (n.RocketMQ !== undefined) unsupported(book, 'Notification.RocketMQ', undefined, 'RocketMQ notifications (use MNS)');
    if (n.ExtendedMessageURI !== undefined) unsupported(book, 'Notification.ExtendedMessageURI', n.ExtendedMessageURI, 'extended result messages');
    if (n.MNS) {
      book.set('notify.topic', ref('Notification.MNS.TopicName', n.MNS.TopicName));
      job.notify = { topic: n.MNS.TopicName };
    }
  }

  if (params.UserData !== undefined) {
    book.set('userData', ref('UserData', params.UserData));
    job.userData = params.UserData;
  }

  const rawTags = complexParam(params, 'Tags', 'map', book);
  if (rawTags !== undefined) {
    const tags = parseWith(TagsSchema, rawTags, 'Tags', book);
    job.tags = Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)]));
  }
  // CredentialConfig: accepted and ignored (4.9); only its JSON must be readable.
  complexParam(params, 'CredentialConfig', 'object', book);

  return { job: validateJob(job, book), projectName };
}

/**
 * Targets[0] to the output half of the job. The steps run in the order the checks always ran (what Medley
 * does not support, container, destination, audio, video, segment): the first problem found is the error.
 */
function parseTarget(t: Target, isConcat: boolean, book: ArgumentBook) {
  refuseUnsupportedTarget(t, book);
  const { container, containerRef, uri } = targetContainer(t, book);
  const destination = targetDestination(uri, book);
  const audio = targetAudio(t, container, isConcat, book);
  const video = targetVideo(t, container, containerRef, isConcat, book);
  const segment = targetSegment(t, book);
  return { container, destination, audio, video, segment, dropSubtitles: t.Subtitle?.DisableSubtitle === true };
}

const TARGET = 'Targets[0]';

/** Target features IMM has and Medley does not: refused by name rather than ignored. */
function refuseUnsupportedTarget(t: Target, book: ArgumentBook): void {
  const at = TARGET;
  if (t.Image !== undefined) unsupported(book, `${at}.Image`, undefined, 'snapshots, sprites and animations');
  if (nonEmptyStreams(t.AttachedPicture)) unsupported(book, `${at}.AttachedPicture`, undefined, 'keeping attached pictures');
  if (nonEmptyStreams(t.Data)) unsupported(book, `${at}.Data`, undefined, 'keeping data streams');
  if (t.Speed !== undefined && t.Speed !== 1) unsupported(book, `${at}.Speed`, t.Speed, 'playback speed changes');
  if (t.StripMetadata === true) unsupported(book, `${at}.StripMetadata`, true, 'stripping metadata');
  if (t.Subtitle?.ExtractSubtitle !== undefined) unsupported(book, `${at}.Subtitle.ExtractSubtitle`, undefined, 'subtitle extraction');
  if (t.Subtitle?.Stream !== undefined) unsupported(book, `${at}.Subtitle.Stream`, undefined, 'subtitle stream selection');
}

/** URI and Container come together; the container is one Medley writes. */
function targetContainer(t: Target, book: ArgumentBook): { container: Container; containerRef: ArgumentRef; uri: string } {
  const at = TARGET;
  if (t.URI === undefined || t.Container === undefined) {
    if (t.URI === undefined && t.Container === undefined) book.rejectRequest(`${at} needs URI and Container (targets that only extract subtitles or capture images are not supported)`, { ArgumentName: `${at}.URI` });
    const given = t.URI === undefined ? ref(`${at}.Container`, t.Container) : ref(`${at}.URI`, t.URI);
    book.reject(given, `needs ${t.URI === undefined ? 'URI' : 'Container'}: URI and Container must be given together`);
  }
  const containerRef = ref(`${at}.Container`, t.Container);
  book.set('container', containerRef);
  const containers: readonly string[] = [...VIDEO_CONTAINERS, ...AUDIO_CONTAINERS];
  if (!containers.includes(t.Container)) book.reject(containerRef, `is not one of ${containers.join(', ')}`);
  const container = t.Container as Container;
  return { container, containerRef, uri: t.URI };
}

/** `oss://<bucket>/<key>`; a key without an extension gets the container's. */
function targetDestination(uri: string, book: ArgumentBook): { bucket: string; keyTemplate: string } {
  const uriRef = ref(`${TARGET}.URI`, uri);
  const m = /^oss:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) book.reject(uriRef, 'must be oss://<bucket>/<key>');
  book.set('destination.bucket', uriRef);
  book.set('destination.keyTemplate', uriRef);
  let keyTemplate = m[2] as string;
  // A URI without an extension gets the container's (imm.md 4.9: oss://b/out + mp4 => oss://b/out.mp4).
  if (!/\.[^/]*$/.test(keyTemplate)) keyTemplate += '.{autoext}';
  const destination = { bucket: m[1] as string, keyTemplate };

  return destination;
}

/** Audio.TranscodeAudio (a codec defaulted from the container when absent). */
function targetAudio(t: Target, container: Container, isConcat: boolean, book: ArgumentBook): AudioTarget {
  const at = TARGET;
  const a = t.Audio;
  const ta = a?.TranscodeAudio;
  if (a?.Stream !== undefined && !isFirstStreamOnly(a.Stream)) unsupported(book, `${at}.Audio.Stream`, JSON.stringify(a.Stream), 'audio stream selection');
  if (a?.FilterAudio?.Mixing === true) unsupported(book, `${at}.Audio.FilterAudio.Mixing`, true, 'mixing audio tracks');
  const audio: AudioTarget = { disabled: a?.DisableAudio === true, bitrateOption: 'fixed' };
  if (a?.DisableAudio !== undefined) book.set('audio.disabled', ref(`${at}.Audio.DisableAudio`, a.DisableAudio));
  if (!audio.disabled) {
    const p = `${at}.Audio.TranscodeAudio`;
    if (ta?.Codec !== undefined) {
      audio.codec = codecOf(ta.Codec, AUDIO_CODECS, ref(`${p}.Codec`, ta.Codec), 'audio.codec', isConcat, book) as AudioCodec;
    } else {
      audio.codec = DEFAULT_AUDIO_CODEC[container];
    }
    if (ta?.SampleRateOption !== undefined && ta.SampleRateOption !== 'fixed') unsupported(book, `${p}.SampleRateOption`, ta.SampleRateOption, 'sample-rate options other than fixed');
    if (ta?.SampleRate !== undefined) {
      book.set('audio.sampleRate', ref(`${p}.SampleRate`, ta.SampleRate));
      // imm.md 6.17: the documented 12025 and the SDK example's 12050 are typos for 11025.
      audio.sampleRate = ta.SampleRate === 12025 || ta.SampleRate === 12050 ? 11025 : ta.SampleRate;
    }
    setNumber(audio, 'channels', ta?.Channel, 'audio.channels', `${p}.Channel`, book);
    setNumber(audio, 'bitrate', ta?.Bitrate, 'audio.bitrate', `${p}.Bitrate`, book);
    setNumber(audio, 'quality', ta?.Quality, 'audio.quality', `${p}.Quality`, book);
    if (ta?.BitrateOption !== undefined) {
      book.set('audio.bitrateOption', ref(`${p}.BitrateOption`, ta.BitrateOption));
      audio.bitrateOption = ta.BitrateOption;
    }
    if (ta?.BitsPerSample !== undefined) {
      const r = ref(`${p}.BitsPerSample`, ta.BitsPerSample);
      book.set('audio.bitsPerSample', r);
      if (ta.BitsPerSample !== 16 && ta.BitsPerSample !== 24) book.reject(r, 'must be 16 or 24');
      audio.bitsPerSample = ta.BitsPerSample;
    }
  }

  return audio;
}

/** Video.TranscodeVideo (none in an audio-only container). */
function targetVideo(t: Target, container: Container, containerRef: ArgumentRef, isConcat: boolean, book: ArgumentBook): VideoTarget {
  const at = TARGET;
  const audioOnly = isAudioContainer(container);
  const v = t.Video;
  const tv = v?.TranscodeVideo;
  const video: VideoTarget = { disabled: true, fpsOption: 'fixed', resolutionOption: 'fixed', scaleType: 'stretch', adaptiveOrientation: false, bitrateOption: 'fixed' };
  if (v?.Stream !== undefined && !isFirstStreamOnly(v.Stream)) unsupported(book, `${at}.Video.Stream`, JSON.stringify(v.Stream), 'video stream selection');
  const fv = v?.FilterVideo;
  if (fv) {
    for (const [k, label] of [['Watermarks', 'watermarks'], ['Delogos', 'logo removal'], ['Desensitization', 'face and licence-plate blurring']] as const) {
      const x = fv[k];
      if (x !== undefined && !(Array.isArray(x) && x.length === 0)) unsupported(book, `${at}.Video.FilterVideo.${k}`, undefined, label);
    }
    if (fv.Speed !== undefined && fv.Speed !== 1) unsupported(book, `${at}.Video.FilterVideo.Speed`, fv.Speed, 'playback speed changes');
  }
  if (audioOnly) {
    if (tv !== undefined && v?.DisableVideo !== true) book.reject({ name: `${at}.Video.TranscodeVideo`, value: '', token: `${at}.Video.TranscodeVideo` }, `cannot be used: container "${containerRef.token}" holds audio only`);
  } else {
    video.disabled = v?.DisableVideo === true;
    if (v?.DisableVideo !== undefined) book.set('video.disabled', ref(`${at}.Video.DisableVideo`, v.DisableVideo));
  }
  if (!video.disabled) {
    const p = `${at}.Video.TranscodeVideo`;
    video.codec = tv?.Codec !== undefined ? (codecOf(tv.Codec, VIDEO_CODECS, ref(`${p}.Codec`, tv.Codec), 'video.codec', isConcat, book) as VideoCodec) : defaultVideoCodec(container);
    if (tv?.BFrames !== undefined) unsupported(book, `${p}.BFrames`, tv.BFrames, 'setting B-frames');
    if (tv?.Refs !== undefined) unsupported(book, `${p}.Refs`, tv.Refs, 'setting reference frames');
    if (tv?.Rotation !== undefined && tv.Rotation !== 0) unsupported(book, `${p}.Rotation`, tv.Rotation, 'rotation');
    if (tv?.Resolution !== undefined) {
      const r = ref(`${p}.Resolution`, tv.Resolution);
      book.set('video.resolution', r);
      video.resolution = parseResolution(tv.Resolution) ?? book.reject(r, 'is not WxH, Wx or xH');
    }
    if (tv?.ResolutionOption !== undefined) {
      book.set('video.resolutionOption', ref(`${p}.ResolutionOption`, tv.ResolutionOption));
      video.resolutionOption = tv.ResolutionOption;
    }
    // [REC, oss.md 8.14] false (width x height) by default on both doors, although IMM documents true.
    if (tv?.AdaptiveResolutionDirection !== undefined) {
      book.set('video.adaptiveOrientation', ref(`${p}.AdaptiveResolutionDirection`, tv.AdaptiveResolutionDirection));
      video.adaptiveOrientation = tv.AdaptiveResolutionDirection;
    }
    if (tv?.ScaleType !== undefined) {
      book.set('video.scaleType', ref(`${p}.ScaleType`, tv.ScaleType));
      video.scaleType = tv.ScaleType;
    }
    setNumber(video, 'fps', tv?.FrameRate, 'video.fps', `${p}.FrameRate`, book);
    if (tv?.FrameRateOption !== undefined) {
      book.set('video.fpsOption', ref(`${p}.FrameRateOption`, tv.FrameRateOption));
      video.fpsOption = tv.FrameRateOption;
    }
    if (tv?.PixelFormat !== undefined) {
      const r = ref(`${p}.PixelFormat`, tv.PixelFormat);
      book.set('video.pixelFormat', r);
      if (!(PIXEL_FORMATS as readonly string[]).includes(tv.PixelFormat)) book.reject(r, `is not one of ${PIXEL_FORMATS.join(', ')}`);
      video.pixelFormat = tv.PixelFormat as PixelFormat;
    }
    setNumber(video, 'bitrate', tv?.Bitrate, 'video.bitrate', `${p}.Bitrate`, book);
    if (tv?.BitrateOption !== undefined) {
      book.set('video.bitrateOption', ref(`${p}.BitrateOption`, tv.BitrateOption));
      video.bitrateOption = tv.BitrateOption;
    }
    setNumber(video, 'crf', tv?.CRF, 'video.crf', `${p}.CRF`, book);
    setNumber(video, 'maxBitrate', tv?.MaxBitrate, 'video.maxBitrate', `${p}.MaxBitrate`, book);
    setNumber(video, 'bufferSize', tv?.BufferSize, 'video.bufferSize', `${p}.BufferSize`, book);
    setNumber(video, 'gop', tv?.GOPSize, 'video.gop', `${p}.GOPSize`, book);
    // IMM encodes at CRF 23 when neither Bitrate nor CRF is given, so a VBV cap alone is legal there.
    if ((video.maxBitrate !== undefined || video.bufferSize !== undefined) && video.crf === undefined && video.bitrate === undefined) video.crf = IMM_DEFAULT_CRF;
  }

  return video;
}

/** Segment (HLS or DASH), when given. */
function targetSegment(t: Target, book: ArgumentBook): { format: 'hls' | 'dash'; durationMs: number } | undefined {
  const at = TARGET;
  let segment: { format: 'hls' | 'dash'; durationMs: number } | undefined;
  if (t.Segment) {
    const p = `${at}.Segment`;
    const fr = ref(`${p}.Format`, t.Segment.Format);
    book.set('segment', fr);
    book.set('segment.format', fr);
    if (t.Segment.Format !== 'hls' && t.Segment.Format !== 'dash') book.reject(fr, 'is not one of hls, dash');
    if (t.Segment.StartNumber !== undefined && t.Segment.StartNumber !== 0) unsupported(book, `${p}.StartNumber`, t.Segment.StartNumber, 'a segment start number other than 0');
    const durationMs = secondsToMs(t.Segment.Duration, `${p}.Duration`, (r) => book.set('segment.durationMs', r), book);
    segment = { format: t.Segment.Format, durationMs };
  }

  return segment;
}

// ---------------------------------------------------------------------------------------------------------

function ref(name: string, value: unknown): ArgumentRef {
  const shown = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return { name, value: shown, token: `${name}=${shown}` };
}

function missing(name: string): never {
  fail('MissingMediaParameter', `The parameter ${name} is required but not provided.`, { ArgumentName: name });
}

function unsupported(book: ArgumentBook, name: string, value: unknown, what: string): never {
  const r = value === undefined ? { name, value: '', token: name } : ref(name, value);
  book.reject(r, `is not supported: Medley does not support ${what}`);
}

function nonEmptyStreams(x: unknown): boolean {
  if (x === undefined) return false;
  if (typeof x === 'object' && x !== null && !Array.isArray(x)) {
    const keys = Object.keys(x);
    const stream = (x as Record<string, unknown>).Stream;
    return !(keys.every((k) => k === 'Stream') && (stream === undefined || (Array.isArray(stream) && stream.length === 0)));
  }
  return true;
}

function isFirstStreamOnly(stream: number[]): boolean {
  return stream.length === 0 || (stream.length === 1 && stream[0] === 0);
}

function setNumber<T extends object, K extends keyof T>(target: T, key: K, value: number | undefined, field: JobField, name: string, book: ArgumentBook): void {
  if (value === undefined) return;
  book.set(field, ref(name, value));
  target[key] = value as T[K];
}

function codecOf(codec: string, values: readonly string[], r: ArgumentRef, field: JobField, isConcat: boolean, book: ArgumentBook): string {
  book.set(field, r);
  if (codec === 'copy') {
    book.reject(r, isConcat ? 'is not allowed when concatenating: every source must be re-encoded' : 'is not supported: Medley always re-encodes; name a codec or omit it to use the container default');
  }
  if (!values.includes(codec)) book.reject(r, `is not one of ${values.join(', ')}`);
  return codec;
}

function secondsToMs(seconds: number | undefined, name: string, record: (r: ArgumentRef) => void, book: ArgumentBook): number {
  if (seconds === undefined) return 0;
  const r = ref(name, seconds);
  record(r);
  if (!Number.isFinite(seconds) || seconds < 0) book.reject(r, 'must be a number of seconds >= 0');
  return Math.round(seconds * 1000);
}

function parseOssUri(uri: string, r: ArgumentRef, book: ArgumentBook): { bucket: string; key: string } {
  const m = /^oss:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) book.reject(r, 'must be oss://<bucket>/<key>');
  return { bucket: m[1] as string, key: m[2] as string };
}

/**
 * A complex parameter: JSON text under `name`, or the flattened pop-core form (`name.1.Key.Sub=...`)
 * rebuilt into the same value (1-based numeric segments become arrays, except at the root of a map).
 */
function complexParam(params: Record<string, string>, name: string, kind: 'array' | 'object' | 'map', book: ArgumentBook): unknown {
  const prefix = `${name}.`;
  const flat = Object.keys(params).filter((k) => k.startsWith(prefix));
  const json = params[name];
  if (json !== undefined && flat.length > 0) book.rejectRequest(`${name} is given both as JSON and flattened (${flat[0]})`, { ArgumentName: name });
  if (json !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      fail('InvalidJson', `${kind === 'array' ? 'Array' : 'Object'} parsing error, ${name}`, { ArgumentName: name, ArgumentValue: json.slice(0, 200) });
    }
    if (jsonTooDeep(value)) tooDeep(name, book);
    return stripNulls(value);
  }
  if (flat.length === 0) return undefined;

  type Tree = { [k: string]: Tree | string };
  // Null-prototype nodes: path segments come from the caller, and `Sources.__proto__.URI` must be just a name
  // (on a plain object it would walk into Object.prototype and set URI on every object of the process).
  const root: Tree = Object.create(null) as Tree;
  for (const key of flat.sort()) {
    const path = key.slice(prefix.length).split('.');
    if (path.some((s) => s === '')) book.rejectRequest(`malformed flattened parameter "${key}"`, { ArgumentName: key });
    if (path.length > MAX_JSON_DEPTH) tooDeep(name, book);
    let node = root;
    path.forEach((seg, i) => {
      const last = i === path.length - 1;
      const existing = node[seg];
      if (last) {
        if (existing !== undefined) book.rejectRequest(`flattened parameter "${key}" conflicts with another ${name}.* parameter`, { ArgumentName: key });
        node[seg] = params[key] as string;
      } else {
        if (typeof existing === 'string') book.rejectRequest(`flattened parameter "${key}" conflicts with "${prefix}${path.slice(0, i + 1).join('.')}"`, { ArgumentName: key });
        node = existing ?? (node[seg] = Object.create(null) as Tree);
      }
    });
  }
  const build = (node: Tree | string, at: string, isMapRoot: boolean): unknown => {
    if (typeof node === 'string') {
      if (node === '[object Object]') {
        book.rejectRequest(`flattened parameter "${at}" holds "[object Object]": pass ${name} as JSON text (JSON.stringify) instead`, { ArgumentName: at });
      }
      return node;
    }
    const keys = Object.keys(node);
    if (!isMapRoot && keys.every((k) => /^[1-9]\d*$/.test(k))) {
      const indexes = keys.map(Number).sort((x, y) => x - y);
      indexes.forEach((n, i) => {
        if (n !== i + 1) book.rejectRequest(`flattened parameter ${at}.${i + 1} is missing (items are numbered from 1 without gaps)`, { ArgumentName: `${at}.${i + 1}` });
      });
      return indexes.map((n) => build(node[String(n)] as Tree | string, `${at}.${n}`, false));
    }
    return Object.fromEntries(keys.map((k) => [k, build(node[k] as Tree | string, `${at}.${k}`, false)]));
  };
  return build(root, name, kind === 'map');
}

/** The value is walked recursively below (and stored as JSON): a depth no request needs is refused first. */
function tooDeep(name: string, book: ArgumentBook): never {
  book.rejectRequest(`${name} is nested more than ${MAX_JSON_DEPTH} levels deep`, { ArgumentName: name });
}

/** JSON `null` means "not given". */
function stripNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripNulls);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, stripNulls(v)]));
  }
  return value;
}

/** Run a schema; turn its first issue into InvalidMediaArgument / MissingMediaParameter naming the path. */
function parseWith<T extends z.ZodType>(schema: T, data: unknown, root: string, book: ArgumentBook): z.output<T> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0] as z.core.$ZodIssue;
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const name = pathName(root, [...path, issue.keys[0] ?? '']);
    book.rejectRequest(`unknown field "${name}"`, { ArgumentName: name });
  }
  const name = pathName(root, path);
  const value = valueAt(data, path);
  if (value === undefined) fail('MissingMediaParameter', `${OPERATION}: parameter "${name}" is required`, { ArgumentName: name });
  const shown = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)).slice(0, 200);
  book.reject({ name, value: shown, token: `${name}=${shown}` }, issue.message);
}

function pathName(root: string, path: (string | number)[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${p}`), root);
}

function valueAt(data: unknown, path: (string | number)[]): unknown {
  let v = data;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}
