/**
 * The OSS front door: an `x-oss-async-process` string (spec oss.md 5.2-5.7, 8) to a validated MediaJob.
 *
 *   <action>,<k_v>...[/pre,o_..[,ss_..][,t_..]]...[/sur,...]...[/segment,f_..,t_..]|sys/saveas,o_..[,b_..][/notify,topic_..]
 *
 * Clip order: the /pre clips as listed, then the object named in the URL, then the /sur clips as listed;
 * action-level ss/t trim that URL object (8.1); align is 0-based over that final list (8.2).
 * Pure: no I/O; the caller resolves the bucket and key of the request.
 */
import { fail } from '../../errors.js';
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
  type RateOption,
  type ScaleType,
  type SegmentTarget,
  type VideoCodec,
  type VideoTarget,
} from '../job.js';
import { decodeBase64Name } from './base64-name.js';
import { AUDIO_CONTAINER_CODEC, ArgumentBook, parseResolution, validateJob, type ArgumentRef, type JobField } from './validate.js';

export type ProcessField = 'x-oss-async-process' | 'x-oss-process';

type Action = MediaJob['action'];
const ACTIONS: readonly Action[] = ['audio/convert', 'audio/concat', 'video/convert', 'video/concat'];

/** Sub-operations: a `/` starts a new op only when one of these names and `,` (or the end) follow (5.3). */
const SUB_OP_AT = /\/(pre|sur|segment|notify|saveas)(?=,|$)/g;

const AUDIO_PARAMS: Readonly<Record<string, JobField | null>> = {
  ss: null,
  t: null,
  f: 'container',
  ar: 'audio.sampleRate',
  ac: 'audio.channels',
  ab: 'audio.bitrate',
  aq: 'audio.quality',
  abopt: 'audio.bitrateOption',
  adepth: 'audio.bitsPerSample',
};

const VIDEO_ONLY_PARAMS: Readonly<Record<string, JobField | null>> = {
  vn: 'video.disabled',
  vcodec: 'video.codec',
  fps: 'video.fps',
  fpsopt: 'video.fpsOption',
  pixfmt: 'video.pixelFormat',
  s: 'video.resolution',
  sopt: 'video.resolutionOption',
  scaletype: 'video.scaleType',
  arotate: 'video.adaptiveOrientation',
  g: 'video.gop',
  vb: 'video.bitrate',
  vbopt: 'video.bitrateOption',
  crf: 'video.crf',
  maxrate: 'video.maxBitrate',
  bufsize: 'video.bufferSize',
};

const VIDEO_PARAMS: Readonly<Record<string, JobField | null>> = {
  ...AUDIO_PARAMS,
  ...VIDEO_ONLY_PARAMS,
  an: 'audio.disabled',
  acodec: 'audio.codec',
  sn: null,
};

const CLIP_PARAMS = ['o', 'ss', 't'];
const SEGMENT_PARAMS = ['f', 't'];
const SAVEAS_PARAMS = ['o', 'b'];
const NOTIFY_PARAMS = ['topic'];

const OPTIONS: Readonly<Record<string, RateOption>> = { '0': 'fixed', '1': 'adaptive', '2': 'fall' };
const SCALE_TYPES: readonly ScaleType[] = ['stretch', 'crop', 'fill', 'fit'];

interface Param extends ArgumentRef {
  key: string;
}

interface Op {
  /** `/pre`, `/segment`, or the action for the head op. */
  label: string;
  /** The op as written, for messages. */
  text: string;
  params: Map<string, Param>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The process string of a POST body `x-oss-async-process=<process>` (or `x-oss-process=`): strip the field
 * prefix and percent-decode `%XX` runs, never turning `+` into a space (ali-oss percent-encodes the body,
 * oss2/Go send it raw; standard base64 values contain `+`). A `%` not followed by two hex digits is kept.
 */
export function extractProcessBody(rawBody: string, field: ProcessField): string {
  const body = rawBody.replace(/[\r\n]+$/, '');
  const prefix = `${field}=`;
  if (!body.startsWith(prefix)) {
    if (body === field || body === '') fail('MissingMediaParameter', `${field}: the request body carries no process string`, { ArgumentName: field });
    const got = /^[^=]{0,64}=/.exec(body)?.[0];
    fail('InvalidMediaArgument', `${field}: the request body must be "${prefix}<process>"${got ? `, not "${got}..."` : ''}`, { ArgumentName: field });
  }
  const encoded = body.slice(prefix.length);
  const decoded = encoded.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return utf8.decode(Buffer.from(run.replace(/%/g, ''), 'hex'));
    } catch {
      return fail('InvalidMediaArgument', `${field}: the percent-encoded body "${run}" is not UTF-8`, { ArgumentName: field, ArgumentValue: run });
    }
  });
  if (decoded.trim() === '') fail('MissingMediaParameter', `${field}: the process string is empty`, { ArgumentName: field });
  return decoded;
}

/** What every step of the parse needs: the action and the book that names arguments in errors. */
interface Step {
  action: Action;
  book: ArgumentBook;
  isAudioAction: boolean;
  isConcat: boolean;
}

/**
 * Parse and validate an asynchronous media process string for the object `ctx.key` in `ctx.bucket`.
 * `requireSaveAs` (default true): the APIs need `|sys/saveas`; the local CLI may name the output itself.
 *
 * The steps run in the order the string reads (pipes, the media pipe's head and sub-operations, clips,
 * audio, video, segment, sys/saveas), so the first thing wrong in that order is the error reported.
 */
export function parseProcessString(body: string, ctx: { bucket: string; key: string }, opts: { requireSaveAs?: boolean } = {}): MediaJob {
  const { step, media, saveas } = readPipes(body, opts.requireSaveAs !== false);
  const { action, book } = step;
  const allowed: Record<string, JobField | null> = { ...(step.isAudioAction ? AUDIO_PARAMS : VIDEO_PARAMS), ...(step.isConcat ? { align: 'align' } : {}) };
  const head = parseOp(action, media.headParams, Object.keys(allowed), book);
  for (const [key, p] of head.params) {
    const field = allowed[key];
    if (field) book.set(field, p);
  }
  const { pre, sur, segmentOp } = readSubOps(media.subs, step);

  const hp = head.params;
  const f = hp.get('f');
  if (!f) fail('MissingMediaParameter', `${action}: parameter "f" (the output container) is required`, { ArgumentName: 'f' });
  const containers: readonly string[] = step.isAudioAction ? AUDIO_CONTAINERS : [...VIDEO_CONTAINERS, ...AUDIO_CONTAINERS];
  const container = oneOf(f, containers, book) as Container;

  const clips = readClips(pre, hp, sur, ctx, step);
  const align = hp.get('align');
  const alignIndex = align ? intOf(align, book) : 0;
  const audio = readAudio(hp, f, container, step);
  const video = readVideo(hp, f, container, step);
  const segment = segmentOp ? readSegment(segmentOp, step) : undefined;
  const sn = hp.get('sn');
  const dropSubtitles = sn ? flagOf(sn, book) : false;
  const { destination, notify } = saveas ? readSaveAs(saveas, ctx.bucket, step) : {};

  const job: MediaJob = {
    origin: 'oss',
    action,
    clips,
    alignIndex,
    output: { container, audio, video, dropSubtitles, ...(destination ? { destination } : {}) },
  };
  if (segment) job.output.segment = segment;
  if (notify) job.notify = notify;
  return validateJob(job, book);
}

/** The media pipe (its action first), then at most one more pipe: sys/saveas, last. */
function readPipes(body: string, requireSaveAs: boolean): { step: Step; media: SplitPipe; saveas?: SplitPipe } {
  const text = body.replace(/[\r\n]+$/, '');
  const outer: ArgumentBook = new ArgumentBook('x-oss-async-process');
  if (text.trim() === '') fail('MissingMediaParameter', 'x-oss-async-process: the process string is empty', { ArgumentName: 'x-oss-async-process' });

  const pipes = text.split('|');
  const media = splitPipe(pipes[0] as string, outer);
  if (media.head.startsWith('style/')) outer.rejectRequest(`stored styles ("${media.head}") are not supported in asynchronous processing; write the actions out`, { ArgumentName: 'style', ArgumentValue: media.head });
  if (media.head === 'sys/saveas') outer.rejectRequest('the media action must come before sys/saveas', { ArgumentName: 'sys/saveas' });
  const action = ACTIONS.find((a) => a === media.head);
  if (!action) {
    outer.rejectRequest(`unknown or unsupported action "${media.head}" (supported: ${ACTIONS.join(', ')})`, { ArgumentName: 'action', ArgumentValue: media.head });
  }
  const book: ArgumentBook = new ArgumentBook(action);

  let saveas: SplitPipe | undefined;
  for (let i = 1; i < pipes.length; i++) {
    const pipe = pipes[i] as string;
    if (pipe.trim() === '') book.rejectRequest(`empty pipe ${i + 1} ("|" with nothing after it)`);
    const split = splitPipe(pipe, book);
    if (split.head === 'sys/saveas') {
      if (i !== pipes.length - 1) book.rejectRequest(`sys/saveas must be the last pipe, but "${pipes[i + 1] ?? ''}" follows it`, { ArgumentName: 'sys/saveas' });
      saveas = split;
    } else if (split.head === 'saveas' || split.head.startsWith('saveas,')) {
      book.rejectRequest(`"${pipe}" must be written "sys/saveas,..."`, { ArgumentName: 'saveas' });
    } else {
      book.rejectRequest(`only one media action per request; unexpected pipe "${pipe}"`, { ArgumentName: 'pipe', ArgumentValue: pipe });
    }
  }
  if (!saveas && requireSaveAs) fail('MissingMediaParameter', `${action}: "|sys/saveas,o_<base64 key>" is required for asynchronous processing`, { ArgumentName: 'sys/saveas' });
  const step: Step = { action, book, isAudioAction: action.startsWith('audio/'), isConcat: action.endsWith('/concat') };
  return saveas ? { step, media, saveas } : { step, media };
}

/** The media pipe's sub-operations: /pre and /sur clips (concat only), one /segment (video only). */
function readSubOps(subs: SplitPipe['subs'], { book, isAudioAction, isConcat }: Step): { pre: Op[]; sur: Op[]; segmentOp?: Op } {
  const pre: Op[] = [];
  const sur: Op[] = [];
  let segmentOp: Op | undefined;
  for (const sub of subs) {
    const label = `/${sub.name}`;
    if (sub.name === 'pre' || sub.name === 'sur') {
      if (!isConcat) book.rejectRequest(`"${label},${sub.params}" is only allowed with audio/concat and video/concat`, { ArgumentName: sub.name });
      (sub.name === 'pre' ? pre : sur).push(parseOp(label, sub.params, CLIP_PARAMS, book));
    } else if (sub.name === 'segment') {
      if (isAudioAction) book.rejectRequest(`"${label}" is only allowed with video/convert and video/concat`, { ArgumentName: 'segment' });
      if (segmentOp) book.rejectRequest('"/segment" is given twice', { ArgumentName: 'segment' });
      segmentOp = parseOp(label, sub.params, SEGMENT_PARAMS, book);
    } else if (sub.name === 'notify') {
      book.rejectRequest('"/notify" must follow sys/saveas ("|sys/saveas,o_.../notify,topic_...")', { ArgumentName: 'notify' });
    } else {
      book.rejectRequest(`"/saveas" must be a separate pipe written "|sys/saveas,..."`, { ArgumentName: 'saveas' });
    }
  }
  return segmentOp ? { pre, sur, segmentOp } : { pre, sur };
}

/** Clips: /pre..., the URL object (trimmed by the action's own ss/t), /sur... */
function readClips(pre: Op[], hp: Map<string, Param>, sur: Op[], ctx: { bucket: string; key: string }, { action, book }: Step): Clip[] {
  const clips: Clip[] = [];
  const addClip = (op: Op, ordinal: string): void => {
    const o = op.params.get('o');
    if (!o) fail('MissingMediaParameter', `${action}: parameter "o" of the ${ordinal} ${op.label} clip ("${op.label.slice(1)},${op.text}") is required`, { ArgumentName: 'o' });
    const key = decodeBase64Name(o.value, { parameter: `o of the ${ordinal} ${op.label} clip`, token: o.token, context: action, argumentName: 'o' });
    const i = clips.length;
    book.setClip(i, 'source', o);
    clips.push({ source: { bucket: ctx.bucket, key }, startMs: msOf(op.params.get('ss'), i, 'startMs', book), durationMs: msOf(op.params.get('t'), i, 'durationMs', book), disableAudio: false, disableVideo: false });
  };
  pre.forEach((op, n) => addClip(op, ordinalOf(n + 1)));
  const sourceIndex = clips.length;
  book.setClip(sourceIndex, 'source', { name: 'object', value: ctx.key, token: `source object ${ctx.key}` });
  clips.push({
    source: { bucket: ctx.bucket, key: ctx.key },
    startMs: msOf(hp.get('ss'), sourceIndex, 'startMs', book),
    durationMs: msOf(hp.get('t'), sourceIndex, 'durationMs', book),
    disableAudio: false,
    disableVideo: false,
  });
  sur.forEach((op, n) => addClip(op, ordinalOf(n + 1)));
  return clips;
}

/** The audio parameters; an audio-only container implies its codec. */
function readAudio(hp: Map<string, Param>, f: Param, container: Container, { action, isConcat, ...step }: Step): AudioTarget {
  // Declared with its type so that `book.reject` (never returns) narrows.
  const book: ArgumentBook = step.book;
  const an = hp.get('an');
  const audioDisabled = an ? flagOf(an, book) : false;
  const audio: AudioTarget = { disabled: audioDisabled, bitrateOption: 'fixed' };
  const acodec = hp.get('acodec');
  if (acodec) {
    audio.codec = codecOf(acodec, AUDIO_CODECS, isConcat, action, book) as AudioCodec;
  } else if (isAudioContainer(container)) {
    audio.codec = AUDIO_CONTAINER_CODEC[container as keyof typeof AUDIO_CONTAINER_CODEC];
    book.set('audio.codec', f);
  } else if (!audioDisabled) {
    fail('MissingMediaParameter', `${action}: parameter "acodec" is required for container "${f.token}" unless an_1`, { ArgumentName: 'acodec' });
  }
  const ar = hp.get('ar');
  if (ar) audio.sampleRate = intOf(ar, book);
  const ac = hp.get('ac');
  if (ac) audio.channels = intOf(ac, book);
  const ab = hp.get('ab');
  if (ab) audio.bitrate = intOf(ab, book);
  const aq = hp.get('aq');
  if (aq) audio.quality = intOf(aq, book);
  const abopt = hp.get('abopt');
  if (abopt) audio.bitrateOption = optionOf(abopt, book, ab, 'ab');
  const adepth = hp.get('adepth');
  if (adepth) {
    const d = intOf(adepth, book);
    if (d !== 16 && d !== 24) book.reject(adepth, 'must be 16 or 24');
    audio.bitsPerSample = d;
  }
  return audio;
}

/** The video parameters (none with an audio action; refused with an audio-only container). */
function readVideo(hp: Map<string, Param>, f: Param, container: Container, { action, book, isAudioAction, isConcat }: Step): VideoTarget {
  const video: VideoTarget = { disabled: true, fpsOption: 'fixed', resolutionOption: 'fixed', scaleType: 'stretch', adaptiveOrientation: false, bitrateOption: 'fixed' };
  if (isAudioContainer(container)) {
    for (const key of Object.keys(VIDEO_ONLY_PARAMS)) {
      const p = hp.get(key);
      if (p && !(key === 'vn' && p.value === '1')) book.reject(p, `cannot be used: container "${f.token}" holds audio only`);
    }
  } else if (!isAudioAction) {
    const vn = hp.get('vn');
    video.disabled = vn ? flagOf(vn, book) : false;
    const vcodec = hp.get('vcodec');
    if (vcodec) video.codec = codecOf(vcodec, VIDEO_CODECS, isConcat, action, book) as VideoCodec;
    else if (!video.disabled) fail('MissingMediaParameter', `${action}: parameter "vcodec" is required for container "${f.token}" unless vn_1`, { ArgumentName: 'vcodec' });
    const fps = hp.get('fps');
    if (fps) video.fps = floatOf(fps, book);
    const fpsopt = hp.get('fpsopt');
    if (fpsopt) video.fpsOption = optionOf(fpsopt, book, fps, 'fps');
    const pixfmt = hp.get('pixfmt');
    if (pixfmt) video.pixelFormat = oneOf(pixfmt, PIXEL_FORMATS, book) as PixelFormat;
    const s = hp.get('s');
    if (s) video.resolution = parseResolution(s.value) ?? book.reject(s, 'is not WxH, Wx or xH');
    const sopt = hp.get('sopt');
    if (sopt) video.resolutionOption = optionOf(sopt, book, s, 's');
    const scaletype = hp.get('scaletype');
    if (scaletype) video.scaleType = oneOf(scaletype, SCALE_TYPES, book) as ScaleType;
    const arotate = hp.get('arotate');
    if (arotate) video.adaptiveOrientation = flagOf(arotate, book);
    const g = hp.get('g');
    if (g) video.gop = intOf(g, book);
    const vb = hp.get('vb');
    if (vb) video.bitrate = intOf(vb, book);
    const vbopt = hp.get('vbopt');
    if (vbopt) video.bitrateOption = optionOf(vbopt, book, vb, 'vb');
    const crf = hp.get('crf');
    if (crf) video.crf = floatOf(crf, book);
    const maxrate = hp.get('maxrate');
    if (maxrate) video.maxBitrate = intOf(maxrate, book);
    const bufsize = hp.get('bufsize');
    if (bufsize) video.bufferSize = intOf(bufsize, book);
  }
  return video;
}

/** `/segment,f_<hls|dash>,t_<ms>`. */
function readSegment(segmentOp: Op, { action, book }: Step): SegmentTarget {
  const sf = segmentOp.params.get('f');
  const st = segmentOp.params.get('t');
  const token = `/segment,${segmentOp.text}`;
  book.set('segment', { name: 'segment', value: segmentOp.text, token });
  if (!sf) fail('MissingMediaParameter', `${action}: parameter "f" of "${token}" is required (hls or dash)`, { ArgumentName: 'f' });
  if (!st) fail('MissingMediaParameter', `${action}: parameter "t" of "${token}" is required (segment length, ms)`, { ArgumentName: 't' });
  book.set('segment.format', sf);
  book.set('segment.durationMs', st);
  return { format: oneOf(sf, ['hls', 'dash'], book) as 'hls' | 'dash', durationMs: intOf(st, book) };
}

/** `sys/saveas,o_<base64 key>[,b_<base64 bucket>][/notify,topic_<base64 topic>]`. */
function readSaveAs(saveas: SplitPipe, sourceBucket: string, { action, book }: Step): { destination: NonNullable<MediaJob['output']['destination']>; notify?: { topic: string } } {
  const save = parseOp('sys/saveas', saveas.headParams, SAVEAS_PARAMS, book);
  const so = save.params.get('o');
  if (!so) fail('MissingMediaParameter', `${action}: parameter "o" of sys/saveas (the target object) is required`, { ArgumentName: 'o' });
  const keyTemplate = decodeBase64Name(so.value, { parameter: 'o of sys/saveas', token: so.token, context: action, argumentName: 'o' });
  book.set('destination.keyTemplate', so);
  const sb = save.params.get('b');
  let bucket = sourceBucket;
  if (sb) {
    bucket = decodeBase64Name(sb.value, { parameter: 'b of sys/saveas', token: sb.token, context: action, argumentName: 'b' });
    book.set('destination.bucket', sb);
  }
  let notify: { topic: string } | undefined;
  for (const sub of saveas.subs) {
    if (sub.name !== 'notify') book.rejectRequest(`"/${sub.name}" cannot follow sys/saveas; only "/notify,topic_..." can`, { ArgumentName: sub.name });
    if (notify) book.rejectRequest('"/notify" is given twice', { ArgumentName: 'notify' });
    const n = parseOp('/notify', sub.params, NOTIFY_PARAMS, book);
    const topic = n.params.get('topic');
    if (!topic) fail('MissingMediaParameter', `${action}: parameter "topic" of /notify is required`, { ArgumentName: 'topic' });
    notify = { topic: decodeBase64Name(topic.value, { parameter: 'topic of /notify', token: topic.token, context: action, argumentName: 'topic' }) };
    book.set('notify.topic', topic);
  }
  const destination = { bucket, keyTemplate };
  return notify ? { destination, notify } : { destination };
}

// ---------------------------------------------------------------------------------------------------------

interface SplitPipe {
  /** `audio/concat`, `sys/saveas`, or whatever stands before the first `,` or sub-op. */
  head: string;
  /** The head op's parameter text (after its first `,`), `''` when none. */
  headParams: string;
  subs: { name: string; params: string }[];
}

function splitPipe(pipe: string, book: ArgumentBook): SplitPipe {
  const m = /^[^/,]*\/[^/,]*/.exec(pipe);
  const head = m ? m[0] : (pipe.split(',', 1)[0] as string);
  const rest = pipe.slice(head.length);
  const cuts = [...rest.matchAll(SUB_OP_AT)].map((x) => x.index);
  const headText = rest.slice(0, cuts[0] ?? rest.length);
  if (headText !== '' && !headText.startsWith(',')) {
    const what = `${head}${headText.split(',', 1)[0] ?? ''}`;
    book.rejectRequest(`unknown operation "${what}"`, { ArgumentName: what });
  }
  const subs = cuts.map((at, i) => {
    const opText = rest.slice(at + 1, cuts[i + 1] ?? rest.length);
    const comma = opText.indexOf(',');
    return comma < 0 ? { name: opText, params: '' } : { name: opText.slice(0, comma), params: opText.slice(comma + 1) };
  });
  return { head: head.trim(), headParams: headText.slice(1), subs };
}

/** Split `k_v,k_v` into parameters, rejecting unknown keys, malformed tokens and repeats. */
function parseOp(label: string, text: string, allowed: readonly string[], book: ArgumentBook): Op {
  const params = new Map<string, Param>();
  if (text === '') return { label, text, params };
  const where = label.startsWith('/') || label === 'sys/saveas' ? ` of ${label}` : '';
  for (const raw of text.split(',')) {
    // Spaces around a token are tolerated (a documentation example writes "b_..., o_...").
    const token = raw.trim();
    if (token === '') book.rejectRequest(`empty parameter${where} in "${text}"`, { ArgumentName: label });
    const us = token.indexOf('_');
    if (us <= 0) book.rejectRequest(`parameter "${token}"${where} is not of the form key_value`, { ArgumentName: token });
    const key = token.slice(0, us);
    const value = token.slice(us + 1);
    if (!allowed.includes(key)) book.rejectRequest(`unknown parameter "${token}"${where}`, { ArgumentName: key, ArgumentValue: value });
    if (value === '') book.rejectRequest(`parameter "${token}"${where} has no value`, { ArgumentName: key });
    const prior = params.get(key);
    if (prior) book.rejectRequest(`parameter "${token}"${where} repeats "${prior.token}"`, { ArgumentName: key, ArgumentValue: value });
    params.set(key, { key, name: key, value, token });
  }
  return { label, text, params };
}

function intOf(p: Param, book: ArgumentBook): number {
  if (!/^\d{1,15}$/.test(p.value)) book.reject(p, 'must be a whole number >= 0');
  return Number(p.value);
}

function floatOf(p: Param, book: ArgumentBook): number {
  if (!/^\d{1,9}(\.\d{1,9})?$/.test(p.value)) book.reject(p, 'must be a number >= 0');
  return Number(p.value);
}

function flagOf(p: Param, book: ArgumentBook): boolean {
  if (p.value !== '0' && p.value !== '1') book.reject(p, 'must be 0 or 1');
  return p.value === '1';
}

function oneOf(p: Param, values: readonly string[], book: ArgumentBook): string {
  if (!values.includes(p.value)) book.reject(p, `is not one of ${values.join(', ')}`);
  return p.value;
}

function optionOf(p: Param, book: ArgumentBook, needs: Param | undefined, needsKey: string): RateOption {
  const o = OPTIONS[p.value] ?? book.reject(p, 'is not one of 0, 1, 2');
  if (!needs) book.reject(p, `needs "${needsKey}"`);
  return o;
}

function codecOf(p: Param, values: readonly string[], isConcat: boolean, action: Action, book: ArgumentBook): string {
  if (p.value === 'copy') {
    book.reject(p, isConcat ? `is not allowed with ${action}: clips must be re-encoded to be joined` : 'is not supported: Medley always re-encodes; name a codec');
  }
  return oneOf(p, values, book);
}

function msOf(p: Param | undefined, clipIndex: number, part: 'startMs' | 'durationMs', book: ArgumentBook): number {
  if (!p) return 0;
  book.setClip(clipIndex, part, p);
  return intOf(p, book);
}

function ordinalOf(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}
