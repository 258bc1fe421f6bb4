/**
 * The OSS REST dialect: address → authenticate → select the operation → authorise → run the handler.
 * Handlers translate between the wire and the storage domain; every failure becomes the OSS error XML.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { MedleyError, databaseUnavailableError, diskFullError, fail } from '../../errors.js';
import { verifyOssRequest } from '../../auth/oss-signature.js';
import type { CredentialLookup } from '../../auth/credentials.js';
import { AccessGate } from '../../auth/access.js';
import type { Principal } from '../../auth/policy.js';
import type { Config } from '../../config.js';
import type { Storage } from '../../storage/index.js';
import { resolveAddress } from './addressing.js';
import { checkBucketName, checkObjectKey } from '../../storage/names.js';
import { header, parseQuery, type OssContext } from './context.js';
import { operationAccess, selectOperation, type Operation } from './operations.js';
import { sendOssError } from './responses.js';
import { clientWentAway, settleUnreadBody } from '../drain.js';
import * as bucketOps from './handlers/bucket.js';
import * as objectOps from './handlers/object.js';
import * as multipartOps from './handlers/multipart.js';
import * as processOps from './handlers/process.js';
import type { TaskService } from '../../tasks/service.js';
import type { ProjectService } from '../../projects/service.js';
import type { MediaEngine } from '../../media/engine/index.js';
import type { DiskSpace } from '../../storage/disk-space.js';
import { labelRequest } from '../../observability/metrics.js';

export interface OssDialectDeps {
  config: Config;
  storage: Storage;
  lookup: CredentialLookup;
  now?: () => Date;
  /** x-oss-async-process submits media tasks here. */
  tasks: TaskService;
  /** Which IMM project a bucket's tasks belong to. */
  projects: ProjectService;
  /** ffprobe for x-oss-process video/info and audio/info. */
  engine: MediaEngine;
  /** Scratch directory for processing (e.g. <dataDir>/work); requests use and remove subdirectories. */
  workDir: string;
  /** The free-disk reserve: operations that add data are refused (503) below it. */
  disk?: DiskSpace;
}

/** Operations that add data, refused while free disk space is below the reserve (deletes and aborts free space). */
const WRITE_OPERATIONS: ReadonlySet<Operation> = new Set<Operation>(['PutObject', 'CopyObject', 'UploadPartCopy', 'AppendObject', 'InitiateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']);

export function createOssDialect(deps: OssDialectDeps) {
  const now = deps.now ?? (() => new Date());
  const gate = new AccessGate(deps.storage);
  const assertWritable = () => deps.disk?.assertWritable();
  const processDeps: processOps.ProcessDeps = { tasks: deps.tasks, projects: deps.projects, engine: deps.engine, workDir: deps.workDir, access: gate, assertWritable };

  async function run(ctx: OssContext, op: Operation): Promise<void> {
    const b = ctx.bucket;
    const k = ctx.key;
    if (op === 'ListBuckets') {
      gate.requireAccount(ctx.principal, operationAccess[op]);
      return bucketOps.listBuckets(ctx);
    }
    if (b === undefined) return fail('InvalidRequest', 'This operation needs a bucket.');
    if (op === 'PutBucket') {
      gate.requireAccount(ctx.principal, operationAccess[op]);
      assertWritable();
      return bucketOps.putBucket(ctx, b);
    }
    if (k === undefined) {
      const { bucket } = await gate.require(ctx.principal, operationAccess[op], b);
      switch (op) {
        case 'DeleteBucket':
          return bucketOps.deleteBucket(ctx, b);
        case 'GetBucketAcl':
          return bucketOps.getBucketAcl(ctx, bucket);
        case 'PutBucketAcl':
          return bucketOps.putBucketAcl(ctx, bucket);
        case 'GetBucketInfo':
          return bucketOps.getBucketInfo(ctx, bucket);
        case 'GetBucketLocation':
          return bucketOps.getBucketLocation(ctx);
        case 'ListObjects':
          return bucketOps.listObjectsV1(ctx, bucket);
        case 'ListObjectsV2':
          return bucketOps.listObjectsV2(ctx, bucket);
        case 'ListMultipartUploads':
          return multipartOps.listUploads(ctx, b);
        case 'DeleteMultipleObjects':
          return objectOps.deleteMultiple(ctx, b);
        default:
          return fail('InvalidRequest', `${op} needs an object key.`);
      }
    }

    // Object level: the gate judges by the object's own ACL (it overrides the bucket's), reads and writes alike.
    if (op === 'GetObject' || op === 'HeadObject' || op === 'GetObjectMeta' || op === 'GetObjectAcl') {
      const found = (await gate.require(ctx.principal, operationAccess[op], b, k)).object;
      if (!found) fail('NoSuchKey', undefined, { Key: k });
      if (op === 'GetObjectAcl') return objectOps.getObjectAcl(ctx, found);
      if (op === 'GetObjectMeta') return objectOps.getObjectMeta(ctx, found);
      return objectOps.getObject(ctx, found, op === 'GetObject');
    }
    // Media processing: never anonymous, whatever the ACLs say (spec §7.2); otherwise read on the object,
    // as for GetObject. The handlers check the rest (saveas target, clips) themselves.
    if (op === 'ProcessObject' || op === 'AsyncProcessObject') {
      const found = (await gate.require(ctx.principal, operationAccess[op], b, k, { signedOnly: 'Media processing (x-oss-process, x-oss-async-process) is not available to anonymous requests.' })).object;
      if (!found) fail('NoSuchKey', undefined, { Key: k });
      return op === 'ProcessObject' ? processOps.processObject(ctx, processDeps, found) : processOps.asyncProcessObject(ctx, processDeps, found);
    }
    await gate.require(ctx.principal, operationAccess[op], b, k, { objectUnused: true });
    if (WRITE_OPERATIONS.has(op)) assertWritable();
    switch (op) {
      case 'PutObject':
        return objectOps.putObject(ctx, b, k);
      case 'CopyObject':
      case 'UploadPartCopy': {
        const src = objectOps.parseCopySource(header(ctx, 'x-oss-copy-source')!);
        const source = (await gate.require(ctx.principal, 'read', src.bucket, src.key)).object;
        if (!source) fail('NoSuchKey', 'The specified copy source key does not exist.', { Key: src.key });
        if (op === 'CopyObject') return objectOps.copyObject(ctx, b, k, src);
        return multipartOps.uploadPartCopy(ctx, b, k, source);
      }
      case 'DeleteObject':
        return objectOps.deleteObject(ctx, b, k);
      case 'AppendObject':
        return objectOps.appendObject(ctx, b, k);
      case 'PutObjectAcl':
        return objectOps.putObjectAcl(ctx, b, k);
      case 'InitiateMultipartUpload':
        return multipartOps.initiate(ctx, b, k);
      case 'UploadPart':
        return multipartOps.uploadPart(ctx, b, k);
      case 'CompleteMultipartUpload':
        return multipartOps.complete(ctx, b, k);
      case 'AbortMultipartUpload':
        return multipartOps.abort(ctx, b, k);
      case 'ListParts':
        return multipartOps.listParts(ctx, b, k);
      default:
        return fail('InvalidRequest', `${op} does not take an object key.`);
    }
  }

  /**
   * Serves one request; never throws. `as` is the web console's door (http/console): the request is addressed
   * path-style below its prefix and made by the principal of the console session, which the console
   * established from the same key lookup; everything after that (operation selection, the gate, handlers,
   * errors) is this dialect's own, so the console can never do more than the key could over OSS.
   */
  async function serve(req: IncomingMessage, res: ServerResponse, requestId: string, log: Logger, as?: { rawUrl: string; principal: Principal }): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = as?.rawUrl ?? req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    const host = as ? '' : (req.headers.host ?? '');
    let op: Operation | undefined;
    try {
      const address = resolveAddress({ host, rawPath, domain: as ? '' : deps.config.domain });
      if (address.bucket !== undefined) checkBucketName(address.bucket);
      if (address.key !== undefined) checkObjectKey(address.key);
      let principal: Principal;
      if (as) principal = as.principal;
      else {
        const auth = verifyOssRequest({ method, rawUrl, headers: req.headers, bucket: address.bucket, key: address.key }, { now: now(), lookup: deps.lookup, region: deps.config.region });
        principal = auth.kind === 'signed' ? { kind: 'signed', accessKeyId: auth.accessKeyId, grants: deps.lookup(auth.accessKeyId)?.grants } : { kind: 'anonymous' };
      }
      const ctx: OssContext = {
        req,
        res,
        requestId,
        config: deps.config,
        storage: deps.storage,
        log,
        method,
        query: parseQuery(q >= 0 ? rawUrl.slice(q + 1) : ''),
        bucket: address.bucket,
        key: address.key,
        principal,
      };
      const level = address.key !== undefined ? 'object' : address.bucket !== undefined ? 'bucket' : 'service';
      op = selectOperation(method, level, ctx.query, { copySource: header(ctx, 'x-oss-copy-source') });
      labelRequest(res, op);
      await run(ctx, op);
    } catch (e) {
      if (!(e instanceof MedleyError) && clientWentAway(req, res)) {
        log.debug({ op, err: e }, 'the client closed the connection before its request was read');
        res.destroy();
        return;
      }
      const full = diskFullError(e);
      const down = full ? undefined : databaseUnavailableError(e);
      const err = full ?? down ?? (e instanceof MedleyError ? e : new MedleyError('InternalError'));
      if (full && !(e instanceof MedleyError)) log.warn({ err: e, op }, 'the disk is full: the write was refused');
      else if (down && !(e instanceof MedleyError)) log.warn({ op, reason: down.message }, 'the database is unreachable: the request was refused');
      else if (!(e instanceof MedleyError)) log.error({ err: e, op }, 'unexpected error');
      else log.debug({ code: err.code, op, msg: err.message }, 'request failed');
      // A body we did not read (a refused upload): drain it, bounded, so the client reads this error (drain.ts).
      settleUnreadBody(req, res);
      sendOssError(res, err, { method, requestId, host });
    }
  }

  /** Handles one request; never throws. */
  const handle = (req: IncomingMessage, res: ServerResponse, requestId: string, log: Logger): Promise<void> => serve(req, res, requestId, log);
  /** The console's door (see `serve`): `rawUrl` is `/<bucket>/<key>?<query>`, path-style. */
  const asPrincipal = (principal: Principal, rawUrl: string, req: IncomingMessage, res: ServerResponse, requestId: string, log: Logger): Promise<void> => serve(req, res, requestId, log, { rawUrl, principal });
  return Object.assign(handle, { asPrincipal });
}
