/**
 * Data processing on an object (spec oss.md §5):
 *  - `x-oss-async-process` (POST): audio/video convert and concat become IMM MediaConvert tasks;
 *  - `x-oss-process` (GET, or POST with `|sys/saveas`): `video/info` and `audio/info`, the IMM
 *    DetectMediaMeta JSON of the object, returned or saved as an object.
 *
 * The dialect has already refused anonymous callers (IMM processing is never anonymous, §7.2), checked read
 * access on the URL object and that it exists. Pure helpers (body decoding, action routing, the sync grammar,
 * the TaskRequestDefinition) are exported for tests.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createPrivateDir } from '../../../media/engine/sandbox.js';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ServerResponse } from 'node:http';
import { fail } from '../../../errors.js';
import type { AccessGate } from '../../../auth/access.js';
import { isAudioContainer, type MediaJob, type ObjectRef, type RateOption } from '../../../media/job.js';
import { extractProcessBody, parseProcessString, type ProcessField } from '../../../media/request/process-string.js';
import { decodeBase64Name } from '../../../media/request/base64-name.js';
import { notAudioVisual, toDetectMediaMeta, type DetectMediaMeta } from '../../../media/media-meta.js';
import type { MediaEngine } from '../../../media/engine/index.js';
import type { ProjectService } from '../../../projects/service.js';
import type { TaskService } from '../../../tasks/service.js';
import type { ObjectRecord } from '../../../storage/records.js';
import { checkBucketName, checkObjectKey } from '../../../storage/names.js';
import { readSmallBody, type OssContext } from '../context.js';
import { quoteEtag } from '../responses.js';
import { LIMITS } from '../../../limits.js';

export interface ProcessDeps {
  tasks: TaskService;
  projects: ProjectService;
  engine: MediaEngine;
  /** Scratch space; each request works in its own mkdtemp directory below it and removes it. */
  workDir: string;
  /** The access gate (auth/access.ts) the dialect authorised the request with. */
  access: AccessGate;
  /** Throws 503 while free disk space is below the reserve (new tasks and saved outputs add data). */
  assertWritable?: () => void;
}

/** Process bodies are a single short string; anything longer is refused (400 EntityTooLarge). */
export const MAX_PROCESS_BODY = LIMITS.maxProcessBodyBytes;

const JSON_TYPE = 'application/json;charset=utf-8';

/** What x-oss-async-process runs (one IMM CreateMediaConvertTask each). */
export const ASYNC_ACTIONS = ['audio/convert', 'audio/concat', 'video/convert', 'video/concat'] as const;
/** Asynchronous actions IMM has but Medley does not implement: NotImplemented, not "Imm Client". */
const ASYNC_NOT_IMPLEMENTED = ['video/snapshots', 'video/sprite', 'video/animation', 'doc/convert'];
/** What x-oss-process runs. */
export const SYNC_ACTIONS = ['video/info', 'audio/info'] as const;
export type SyncAction = (typeof SYNC_ACTIONS)[number];

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The JSON `RequestId` of processing responses: an upper-case UUID, unlike the 24-hex x-oss-request-id (§5.2). */
export function newJsonRequestId(): string {
  return randomUUID().toUpperCase();
}

/**
 * The process string of a POST body (`<field>=<process>`, raw or percent-encoded; any Content-Type).
 * The body must be UTF-8.
 */
export function decodeProcessBody(body: Buffer, field: ProcessField): string {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return fail('InvalidMediaArgument', `${field}: the request body is not UTF-8 text`, { ArgumentName: field });
  }
  return extractProcessBody(text, field);
}

/**
 * The action a process string starts with: `video/convert` for `video/convert,f_mp4|sys/saveas,...`,
 * `image/resize` for `image/resize,w_100`, `style/thumb` for `style/thumb`.
 */
export function actionOf(process: string): string {
  const head = (process.split('|', 1)[0] ?? '').trim();
  const m = /^[^,/]*\/[^,/]*/.exec(head);
  return m ? m[0].trim() : (head.split(',', 1)[0] ?? '').trim();
}

/**
 * Routes an x-oss-async-process string by its action before it is parsed: actions IMM cannot run
 * asynchronously are `Imm Client` (404) as on OSS; IMM's image-sequence and document actions are
 * NotImplemented. Styles, `sys/...` and malformed heads are left to the parser, which explains them.
 */
export function checkAsyncAction(process: string): void {
  const action = actionOf(process);
  if ((ASYNC_ACTIONS as readonly string[]).includes(action)) return;
  if (!action.includes('/') || action.startsWith('style/') || action.startsWith('sys/')) return;
  if (ASYNC_NOT_IMPLEMENTED.includes(action)) {
    fail('NotImplemented', `Medley does not implement the asynchronous action "${action}" (x-oss-async-process supports ${ASYNC_ACTIONS.join(', ')}).`, {
      ArgumentName: 'x-oss-async-process',
      ArgumentValue: action,
    });
  }
  const hint = (SYNC_ACTIONS as readonly string[]).includes(action) || action.startsWith('image/') ? `; send ${action} as x-oss-process instead` : '';
  fail('ImmClient', `${action} cannot run asynchronously: x-oss-async-process runs ${ASYNC_ACTIONS.join(', ')}${hint}.`);
}

export interface SyncProcess {
  action: SyncAction;
  /** `|sys/saveas,o_<b64>[,b_<b64>]`: `bucket` undefined when `b_` was omitted (the response then says ""). */
  saveAs?: { bucket?: string; key: string };
}

/**
 * Parses an x-oss-process string. Only `video/info` and `audio/info` (no parameters) are implemented;
 * asynchronous-only actions are InvalidArgument pointing at x-oss-async-process; other actions are
 * NotImplemented naming them. `|sys/saveas,o_..[,b_..]` is allowed last when `allowSaveAs` (POST).
 */
export function parseSyncProcess(process: string, opts: { allowSaveAs: boolean }): SyncProcess {
  const field = 'x-oss-process';
  const text = process.replace(/[\r\n]+$/, '').trim();
  if (text === '') fail('MissingMediaParameter', `${field}: the process string is empty`, { ArgumentName: field });
  const pipes = text.split('|');
  const head = (pipes[0] ?? '').trim();
  const action = actionOf(head);
  if ([...ASYNC_ACTIONS, ...ASYNC_NOT_IMPLEMENTED].includes(action)) {
    fail('InvalidMediaArgument', `${action} runs only asynchronously: send POST /<object>?x-oss-async-process with the body "x-oss-async-process=${action},...|sys/saveas,o_<base64 key>"`, {
      ArgumentName: field,
      ArgumentValue: action,
    });
  }
  if (!(SYNC_ACTIONS as readonly string[]).includes(action)) {
    const what = action === '' ? `"${head}"` : `"${action}"`;
    fail('NotImplemented', `Medley does not implement the process action ${what} (x-oss-process supports ${SYNC_ACTIONS.join(' and ')}).`, { ArgumentName: field, ArgumentValue: action || head });
  }
  const params = head.slice(action.length);
  if (params !== '' && params !== ',') {
    fail('InvalidMediaArgument', `${action} takes no parameters; got "${head}"`, { ArgumentName: field, ArgumentValue: head });
  }

  let saveAs: SyncProcess['saveAs'];
  for (let i = 1; i < pipes.length; i++) {
    const pipe = (pipes[i] ?? '').trim();
    if (pipe === '') fail('InvalidMediaArgument', `${field}: empty pipe ${i + 1} ("|" with nothing after it)`, { ArgumentName: field });
    if (/^sys\/saveas(,|$)/.test(pipe)) {
      if (i !== pipes.length - 1) fail('InvalidMediaArgument', `sys/saveas must be the last pipe, but "${pipes[i + 1] ?? ''}" follows it`, { ArgumentName: 'sys/saveas' });
      saveAs = parseSaveAs(pipe.slice('sys/saveas'.length));
    } else if (/^saveas(,|$)/.test(pipe)) {
      fail('InvalidMediaArgument', `"${pipe}" must be written "sys/saveas,..."`, { ArgumentName: 'saveas' });
    } else {
      fail('InvalidMediaArgument', `${action} cannot be followed by "${pipe}"; only "|sys/saveas,o_<base64 key>" can`, { ArgumentName: field, ArgumentValue: pipe });
    }
  }
  if (saveAs && !opts.allowSaveAs) {
    fail('InvalidMediaArgument', 'sys/saveas needs POST /<object>?x-oss-process with the process string in the body', { ArgumentName: 'sys/saveas' });
  }
  return { action: action as SyncAction, ...(saveAs ? { saveAs } : {}) };
}

/** `,o_<b64>[,b_<b64>]` (the text after `sys/saveas`). */
function parseSaveAs(rest: string): { bucket?: string; key: string } {
  const context = 'sys/saveas';
  if (/\/notify(,|$)/.test(rest)) fail('InvalidMediaArgument', '"/notify" is only available with x-oss-async-process', { ArgumentName: 'notify' });
  const values = new Map<string, { value: string; token: string }>();
  for (const raw of rest.replace(/^,/, '').split(',')) {
    const token = raw.trim();
    if (token === '') {
      if (rest === '') break;
      fail('InvalidMediaArgument', `empty parameter of sys/saveas in "${rest}"`, { ArgumentName: 'sys/saveas' });
    }
    const us = token.indexOf('_');
    const key = us > 0 ? token.slice(0, us) : token;
    if (us <= 0 || (key !== 'o' && key !== 'b')) fail('InvalidMediaArgument', `unknown parameter "${token}" of sys/saveas (it takes o_ and b_)`, { ArgumentName: key });
    if (values.has(key)) fail('InvalidMediaArgument', `parameter "${token}" of sys/saveas repeats "${values.get(key)?.token ?? ''}"`, { ArgumentName: key });
    values.set(key, { value: token.slice(us + 1), token });
  }
  const o = values.get('o');
  if (!o) fail('MissingMediaParameter', 'parameter "o" of sys/saveas (the target object) is required', { ArgumentName: 'o' });
  const key = decodeBase64Name(o.value, { parameter: 'o of sys/saveas', token: o.token, context, argumentName: 'o' });
  checkObjectKey(key);
  const b = values.get('b');
  if (!b) return { key };
  const bucket = decodeBase64Name(b.value, { parameter: 'b of sys/saveas', token: b.token, context, argumentName: 'b' });
  checkBucketName(bucket);
  return { bucket, key };
}

// ---------------------------------------------------------------------------------------------------------
// TaskRequestDefinition of an OSS task: the CreateMediaConvertTask request the job amounts to (spec §5.4).

const ossUri = (r: ObjectRef): string => `oss://${r.bucket}/${r.key}`;
const seconds = (ms: number): number => ms / 1000;
const IMM_OPTION: Record<RateOption, string> = { fixed: 'fixed', adaptive: 'adaptive', fall: 'fall' };

function defined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * What GetTask shows as TaskRequestDefinition for an x-oss-async-process task: an IMM
 * CreateMediaConvertTask-like request built from the job, plus `Process`, the string as sent.
 */
export function buildRequestDefinition(job: MediaJob, process: string, projectName: string, sourceBucket: string): Record<string, unknown> {
  const out = job.output;
  const target: Record<string, unknown> = {
    URI: out.destination ? ossUri({ bucket: out.destination.bucket ?? sourceBucket, key: out.destination.keyTemplate }) : undefined,
    Container: out.container,
  };
  if (!isAudioContainer(out.container)) {
    const v = out.video;
    if (v.disabled) target.Video = { DisableVideo: true };
    else {
      const r = v.resolution;
      target.Video = {
        TranscodeVideo: defined({
          Codec: v.codec,
          Resolution: r ? `${r.width ?? ''}x${r.height ?? ''}` : undefined,
          ResolutionOption: r ? IMM_OPTION[v.resolutionOption] : undefined,
          AdaptiveResolutionDirection: r ? v.adaptiveOrientation : undefined,
          ScaleType: r ? v.scaleType : undefined,
          FrameRate: v.fps,
          FrameRateOption: v.fps !== undefined ? IMM_OPTION[v.fpsOption] : undefined,
          PixelFormat: v.pixelFormat,
          Bitrate: v.bitrate,
          BitrateOption: v.bitrate !== undefined ? IMM_OPTION[v.bitrateOption] : undefined,
          CRF: v.crf,
          MaxBitrate: v.maxBitrate,
          BufferSize: v.bufferSize,
          GOPSize: v.gop,
        }),
      };
    }
  }
  const a = out.audio;
  if (a.disabled) target.Audio = { DisableAudio: true };
  else {
    target.Audio = {
      TranscodeAudio: defined({
        Codec: a.codec,
        SampleRate: a.sampleRate,
        Channel: a.channels,
        Bitrate: a.bitrate,
        BitrateOption: a.bitrate !== undefined ? IMM_OPTION[a.bitrateOption] : undefined,
        Quality: a.quality,
        BitsPerSample: a.bitsPerSample,
      }),
    };
  }
  if (out.segment) target.Segment = { Format: out.segment.format, Duration: seconds(out.segment.durationMs) };
  if (out.dropSubtitles) target.Subtitle = { DisableSubtitle: true };

  const def: Record<string, unknown> = {
    ProjectName: projectName,
    Sources: job.clips.map((c) =>
      defined({
        URI: ossUri(c.source),
        StartTime: c.startMs > 0 ? seconds(c.startMs) : undefined,
        Duration: c.durationMs > 0 ? seconds(c.durationMs) : undefined,
      }),
    ),
    Targets: [defined(target)],
  };
  if (job.alignIndex > 0) def.AlignmentIndex = job.alignIndex;
  if (job.notify) def.Notification = { MNS: { TopicName: job.notify.topic } };
  def.Process = process;
  return def;
}

// ---------------------------------------------------------------------------------------------------------
// Handlers.

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, 'Content-Type': JSON_TYPE, 'Content-Length': data.length });
  res.end(data);
}

/** The process string of a POST: the body; if that is empty, a non-empty query value (`?<field>=<process>`). */
async function readProcessString(ctx: OssContext, field: ProcessField): Promise<string> {
  const body = await readSmallBody(ctx, MAX_PROCESS_BODY);
  const fromQuery = ctx.query.get(field);
  if (body.length === 0 && fromQuery) return fromQuery;
  return decodeProcessBody(body, field);
}

/** `POST /<key>?x-oss-async-process`: validate, submit the task, answer `{EventId, RequestId, TaskId}`. */
export async function asyncProcessObject(ctx: OssContext, deps: ProcessDeps, source: ObjectRecord): Promise<void> {
  const process = await readProcessString(ctx, 'x-oss-async-process');
  checkAsyncAction(process);
  const job = parseProcessString(process, { bucket: source.bucket, key: source.key }, { requireSaveAs: true });
  deps.assertWritable?.();
  const projectName = await deps.projects.projectForBucket(source.bucket);
  // TaskService checks read on every source, write on the output bucket, and that every source exists.
  const submitted = await deps.tasks.submit({
    job,
    projectName,
    principal: ctx.principal,
    requestDefinition: buildRequestDefinition(job, process, projectName, source.bucket),
    templateSource: { bucket: source.bucket, key: source.key },
    origin: 'oss',
    requestId: newJsonRequestId(),
  });
  sendJson(ctx.res, 200, { EventId: submitted.eventId, RequestId: submitted.requestId, TaskId: submitted.taskId });
}

/** `x-oss-process` on an object: video/info and audio/info, returned (GET/POST) or saved (POST + sys/saveas). */
export async function processObject(ctx: OssContext, deps: ProcessDeps, source: ObjectRecord): Promise<void> {
  const post = ctx.method === 'POST';
  const process = post ? await readProcessString(ctx, 'x-oss-process') : (ctx.query.get('x-oss-process') ?? '');
  const request = parseSyncProcess(process, { allowSaveAs: post });

  // The saveas target is authorised before the (costly) probe.
  let target: { bucket: string; key: string } | undefined;
  if (request.saveAs) {
    target = { bucket: request.saveAs.bucket ?? source.bucket, key: request.saveAs.key };
    await deps.access.require(ctx.principal, 'write', target.bucket, target.key, { denied: `You have no right to write the sys/saveas target oss://${target.bucket}/${target.key}.` });
    deps.assertWritable?.();
  }

  const { record, meta } = await detectMediaMeta(ctx, deps, source);
  const body = Buffer.from(JSON.stringify(meta));
  if (!target) {
    ctx.res.writeHead(200, {
      'Content-Type': JSON_TYPE,
      'Content-Length': body.length,
      ETag: quoteEtag(record.etag),
      'Last-Modified': record.lastModified.toUTCString(),
      'x-oss-object-type': record.objectType,
      'x-oss-hash-crc64ecma': record.crc64,
    });
    ctx.res.end(body);
    return;
  }
  // The saved object takes the bucket's ACL (spec §5.3: no custom ACL).
  const saved = await ctx.storage.objects.put(target.bucket, target.key, Readable.from([body]), {
    attrs: { contentType: 'application/json', headers: {}, meta: {}, acl: 'default', storageClass: 'Standard' },
    expectedLength: body.length,
  });
  sendJson(ctx.res, 200, { bucket: request.saveAs?.bucket ?? '', fileSize: saved.size, object: target.key, status: 'OK' });
}

/** Copies the object (streamed) to a private temp directory, probes it, and removes the copy. */
async function detectMediaMeta(ctx: OssContext, deps: ProcessDeps, source: ObjectRecord): Promise<{ record: ObjectRecord; meta: DetectMediaMeta }> {
  await mkdir(deps.workDir, { recursive: true });
  // Private (0700, unguessable, owned by the FFmpeg user): see media/engine/sandbox.ts.
  const dir = await createPrivateDir(deps.workDir, deps.engine.sandbox);
  try {
    // openKey re-reads the record, so the headers describe the very bytes probed.
    const { record, stream } = await ctx.storage.objects.openKey(source.bucket, source.key);
    // No extension from the key: the engine sniffs the content and forces a single-file demuxer (a name like
    // `x.m3u8` would otherwise let FFmpeg pick a demuxer that reads other files).
    const file = join(dir, 'source');
    await pipeline(stream, createWriteStream(file));
    const name = `oss://${record.bucket}/${record.key}`;
    const { info, json } = await deps.engine.probeDetailed(file, name);
    const not = notAudioVisual(json);
    if (not) fail('MediaUnreadable', `${name} could not be read as media: ${not}`);
    return { record, meta: toDetectMediaMeta(json, { requestId: newJsonRequestId(), size: record.size, durationSec: info.durationSec }) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
