/**
 * Data processing on an object (spec oss.md §5):
 *  - `x-oss-async-process` (POST): audio/video convert and concat become IMM MediaConvert tasks;
 *  - `x-oss-process` (GET, or POST with `|sys/saveas`): `video/info` and `audio/info`, the IMM
 *    DetectMediaMeta JSON of the object, returned or saved as an object.
 *
 * The dialect has already refused anonymous callers (IMM processing is never anonymous, §7.2), checked read
 * access on the URL object and that it exists. The grammar (body decoding, action routing, the sync grammar)
 * lives with the parser in media/request/process-actions.ts, the TaskRequestDefinition beside the IMM request
 * reader in media/request/request-definition.ts, the probing in media/detect-meta.ts: this handler only
 * translates the wire to them and back.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import type { AccessGate } from '../../../auth/access.js';
import { parseProcessString, type ProcessField } from '../../../media/request/process-string.js';
import { checkAsyncAction, decodeProcessBody, parseSyncProcess } from '../../../media/request/process-actions.js';
import { buildRequestDefinition } from '../../../media/request/request-definition.js';
import { detectMediaMeta } from '../../../media/detect-meta.js';
import type { MediaEngine } from '../../../media/engine/index.js';
import type { ProjectService } from '../../../projects/service.js';
import type { TaskService } from '../../../tasks/service.js';
import type { ObjectRecord } from '../../../storage/records.js';
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

/** The JSON `RequestId` of processing responses: an upper-case UUID, unlike the 24-hex x-oss-request-id (§5.2). */
export function newJsonRequestId(): string {
  return randomUUID().toUpperCase();
}

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

  // openKey re-reads the record, so the headers describe the very bytes probed.
  const open = async () => {
    const { record, stream } = await ctx.storage.objects.openKey(source.bucket, source.key);
    return { record, stream, displayName: `oss://${record.bucket}/${record.key}`, size: record.size };
  };
  const { opened: { record }, meta } = await detectMediaMeta(deps.engine, deps.workDir, open, newJsonRequestId());
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
