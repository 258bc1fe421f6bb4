/**
 * The console's media API, below /-/console/api/media/ (the session and CSRF checks are index.ts's):
 *  - GET  rules     the validation tables the API judges requests with (media/request/validate.ts, media/job.ts),
 *                   as JSON, so the compose form offers only what the API accepts;
 *  - GET  waveform?bucket=&key=[&bins=]  min/max peaks of the object's audio, computed by FFmpeg
 *                   (media/waveform.ts) and cached by bucket + key + ETag + bins under <data-dir>/cache/waveforms,
 *                   each entry named by a SHA-256 of those, never by the key; the access check is GetObject's;
 *  - POST check     {bucket, key, process}: the process string parsed and validated as x-oss-async-process
 *                   would (pure, cheap), answering the normalized job or the API's own error;
 *  - POST explain   {bucket, key, process}: the plan `medley process --explain` prints (media/explain.ts) for the
 *                   objects of the bucket, after the submission's access rule (TaskService.authorize).
 * Errors are JSON {error, message} with the catalog's OSS code and status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBodyText, sendJson } from './json.js';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { MedleyError, fail } from '../../errors.js';
import { AccessGate } from '../../auth/access.js';
import type { Principal } from '../../auth/policy.js';
import type { Storage } from '../../storage/index.js';
import type { TaskService } from '../../tasks/service.js';
import type { MediaEngine } from '../../media/engine/index.js';
import { createPrivateDir } from '../../media/engine/sandbox.js';
import { AUDIO_CODECS, AUDIO_CONTAINERS, MAX_CLIPS, PIXEL_FORMATS, SAMPLE_RATES, VIDEO_CODECS, VIDEO_CONTAINERS, type MediaJob } from '../../media/job.js';
import { AUDIO_CONTAINER_CODEC, CODEC_LIMITS, LIMITS, VIDEO_CONTAINER_AUDIO, VIDEO_CONTAINER_VIDEO } from '../../media/request/validate.js';
import { containerSpec } from '../../media/plan/containers.js';
import { ASYNC_ACTIONS, checkAsyncAction } from '../../media/request/process-actions.js';
import { parseProcessString } from '../../media/request/process-string.js';
import { checkInputSize } from '../../media/limits.js';
import { prepareJob } from '../../media/process.js';
import { explainJob } from '../../media/explain.js';
import { DEFAULT_PEAK_BINS, MAX_PEAK_BINS, MIN_PEAK_BINS, computeWaveform, type Waveform } from '../../media/waveform.js';
import { LIMITS as SERVER_LIMITS } from '../../limits.js';

export interface MediaApiDeps {
  storage: Storage;
  tasks: TaskService;
  engine: MediaEngine;
  /** Parent of private scratch directories (the server's work root). */
  workDir: string;
  /** The data dir: waveforms are cached in <dataDir>/cache/waveforms. */
  dataDir: string;
  /** MEDLEY_REGION, for the SDK snippets' V4 signing. */
  region: string;
  log: Logger;
}

const PREFIX = '/-/console/api/media/';
/** A waveform of a 6-hour source decodes in well under this on one core. */
const WAVEFORM_TIMEOUT_MS = 10 * 60_000;
/** Waveforms computed at once (each is one FFmpeg decode); more wait for a turn. */
const WAVEFORM_CONCURRENCY = 2;
const MAX_JSON_BODY = SERVER_LIMITS.maxProcessBodyBytes + 4096;

/** The tables of the API's validation, as the compose form reads them (only what the validators use). */
export function mediaRules(region: string) {
  // The muxers' own restrictions (plan/containers.ts): sample rates per audio codec, MXF's frame rates.
  const video = Object.fromEntries(
    VIDEO_CONTAINERS.map((c) => {
      const spec = containerSpec(c);
      const rates = Object.fromEntries(VIDEO_CONTAINER_AUDIO[c].map((a) => [a, spec.audioRates?.(a) ?? null]));
      return [c, { audioCodecs: VIDEO_CONTAINER_AUDIO[c], videoCodecs: VIDEO_CONTAINER_VIDEO[c], audioRates: rates, frameRates: spec.frameRates ?? null }];
    }),
  );
  return {
    region,
    actions: ASYNC_ACTIONS,
    maxClips: MAX_CLIPS,
    audioContainers: Object.fromEntries(AUDIO_CONTAINERS.map((c) => [c, { codec: AUDIO_CONTAINER_CODEC[c] }])),
    videoContainers: video,
    audioCodecs: AUDIO_CODECS,
    videoCodecs: VIDEO_CODECS,
    pixelFormats: PIXEL_FORMATS,
    sampleRates: SAMPLE_RATES,
    codecLimits: CODEC_LIMITS,
    limits: LIMITS,
  };
}

const send = sendJson;

async function readJson(req: IncomingMessage): Promise<{ bucket: string; key: string; process: string }> {
  const text = (await readBodyText(req, MAX_JSON_BODY)) ?? fail('EntityTooLarge', `The body exceeds ${MAX_JSON_BODY} bytes.`);
  let body: { bucket?: unknown; key?: unknown; process?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return fail('InvalidArgument', 'The body must be JSON: {"bucket": "...", "key": "...", "process": "..."}.');
  }
  for (const f of ['bucket', 'key', 'process'] as const) {
    if (typeof body?.[f] !== 'string' || body[f] === '') fail('InvalidArgument', `The body needs "${f}" (a non-empty string): the bucket, the object the request is sent to, and its x-oss-async-process string.`);
  }
  return body as { bucket: string; key: string; process: string };
}

/** The job x-oss-async-process would build from `process` sent to bucket/key (the handler's own steps). */
function parseJob(b: { bucket: string; key: string; process: string }): MediaJob {
  checkAsyncAction(b.process);
  return parseProcessString(b.process, { bucket: b.bucket, key: b.key }, { requireSaveAs: true });
}

export function createMediaApi(deps: MediaApiDeps) {
  const gate = new AccessGate(deps.storage);
  const cacheDir = join(deps.dataDir, 'cache', 'waveforms');
  const inflight = new Map<string, Promise<Waveform>>();
  let running = 0;
  const waiting: Array<() => void> = [];
  const turn = async () => {
    while (running >= WAVEFORM_CONCURRENCY) await new Promise<void>((r) => waiting.push(r));
    running++;
  };
  const done = () => {
    running--;
    waiting.shift()?.();
  };

  /** Copies an object (streamed) into `dir` under a fixed name: no part of the key reaches the path. */
  async function materialize(dir: string, bucket: string, key: string, name: string): Promise<{ file: string; etag: string }> {
    const { record, stream } = await deps.storage.objects.openKey(bucket, key);
    const file = join(dir, name);
    await pipeline(stream, createWriteStream(file));
    return { file, etag: record.etag };
  }

  async function waveform(principal: Principal, bucket: string, key: string, bins: number): Promise<Waveform & { cached: boolean; computeMs?: number }> {
    // GetObject's check: read on the object, judged by its own ACL.
    const object = (await gate.require(principal, 'read', bucket, key)).object ?? fail('NoSuchKey', undefined, { Key: key });
    // Named by a hash of what the peaks depend on: never a path built from the key.
    const cacheFile = (etag: string) => join(cacheDir, `${createHash('sha256').update(JSON.stringify([bucket, key, etag, bins])).digest('hex')}.json`);
    const path = cacheFile(object.etag);
    const hit = await readFile(path, 'utf8').then((t) => JSON.parse(t) as Waveform, () => undefined);
    if (hit) return { ...hit, cached: true };
    let job = inflight.get(path);
    const t0 = performance.now();
    if (!job) {
      job = (async () => {
        // As for a task's source: no copy of an object larger than MEDLEY_MAX_MEDIA_INPUT_BYTES.
        checkInputSize(object.size, `oss://${bucket}/${key}`, deps.engine.limits);
        await turn();
        let dir: string | undefined;
        try {
          dir = await createPrivateDir(deps.workDir, deps.engine.sandbox);
          const { file, etag } = await materialize(dir, bucket, key, 'source');
          const w = await computeWaveform(deps.engine, file, `oss://${bucket}/${key}`, { bins, timeoutMs: WAVEFORM_TIMEOUT_MS });
          // Cached under the ETag of the bytes decoded (an overwrite in between gets its own entry).
          const at = etag === object.etag ? path : cacheFile(etag);
          await mkdir(cacheDir, { recursive: true });
          const tmp = `${at}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
          await writeFile(tmp, JSON.stringify(w));
          await rename(tmp, at);
          return w;
        } finally {
          if (dir) await rm(dir, { recursive: true, force: true });
          done();
        }
      })().finally(() => inflight.delete(path));
      inflight.set(path, job);
    }
    const w = await job;
    return { ...w, cached: false, computeMs: Math.round(performance.now() - t0) };
  }

  async function explain(principal: Principal, b: { bucket: string; key: string; process: string }) {
    const job = parseJob(b);
    const templateSource = { bucket: b.bucket, key: b.key };
    // The submission's own rule: read on every source, write on the output bucket.
    const output = await deps.tasks.authorize({ job, principal, templateSource, origin: 'oss' });
    const dir = await createPrivateDir(deps.workDir, deps.engine.sandbox);
    try {
      const inputs = [];
      const pathNames: Array<[string, string]> = [];
      for (const [i, clip] of job.clips.entries()) {
        const { bucket, key } = clip.source;
        const record = (await deps.storage.objects.find(bucket, key)) ?? fail('NoSuchKey', `The source object ${key} does not exist in bucket ${bucket}.`, { Key: key });
        checkInputSize(record.size, `oss://${bucket}/${key}`, deps.engine.limits);
        const { file } = await materialize(dir, bucket, key, `in-${i}`);
        inputs.push({ path: file, displayName: `oss://${bucket}/${key}` });
        pathNames.push([file, `oss://${bucket}/${key}`]);
      }
      const prepared = await prepareJob({ engine: deps.engine, job, inputs, workDir: dir, outputName: output.fileStem });
      pathNames.push([prepared.outputDir, '<output dir>'], [dir, '<work dir>']);
      return explainJob(job, prepared, { ffmpeg: 'ffmpeg', output: `oss://${output.bucket}/${output.key}`, names: inputs.map((i) => i.displayName), pathNames });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Answers true when the path was the media API's. */
  return async function handleMedia(req: IncomingMessage, res: ServerResponse, principal: Principal, method: string, path: string, rawUrl: string): Promise<boolean> {
    if (!path.startsWith(PREFIX)) return false;
    const name = path.slice(PREFIX.length);
    const query = new URLSearchParams(rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1) : '');
    try {
      if (name === 'rules' && method === 'GET') send(res, 200, mediaRules(deps.region));
      else if (name === 'waveform' && method === 'GET') {
        const bucket = query.get('bucket') ?? '';
        const key = query.get('key') ?? '';
        if (!bucket || !key) fail('InvalidArgument', 'waveform needs the query parameters bucket and key.');
        const raw = query.get('bins');
        const bins = raw === null ? DEFAULT_PEAK_BINS : Number(raw);
        if (!Number.isSafeInteger(bins) || bins < MIN_PEAK_BINS || bins > MAX_PEAK_BINS) fail('InvalidArgument', `bins must be a whole number from ${MIN_PEAK_BINS} to ${MAX_PEAK_BINS}, not ${JSON.stringify(raw)}.`);
        send(res, 200, await waveform(principal, bucket, key, bins));
      } else if (name === 'check' && method === 'POST') send(res, 200, { job: parseJob(await readJson(req)) });
      else if (name === 'explain' && method === 'POST') send(res, 200, await explain(principal, await readJson(req)));
      else send(res, 404, { error: 'NotFound', message: `No console media API at ${method} ${path}.` });
    } catch (e) {
      const err = e instanceof MedleyError ? e : undefined;
      if (!err) deps.log.error({ err: e, path }, 'console media API: unexpected error');
      if (!res.headersSent) send(res, err?.status ?? 500, { error: err?.code ?? 'InternalError', message: err?.message ?? 'The console media API failed; the server log has the details.' });
      else res.destroy();
    }
    return true;
  };
}
