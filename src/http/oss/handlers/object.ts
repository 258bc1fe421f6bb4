/** Object operations: Put, Get, Head, GetObjectMeta, Delete, DeleteMultiple, Copy, Append, ACL. */
import { fail } from '../../../errors.js';
import { header, readSmallBody, requireBodyLength, type OssContext } from '../context.js';
import { objectHeaders, quoteEtag, sendEmpty, sendXml } from '../responses.js';
import { parseXml, urlEncodeValue, xmlDate } from '../xml.js';
import { isTrue, objectAttributes, parseObjectAcl } from '../object-attributes.js';
import { checkConditions, parseRange } from '../conditions.js';
import { checkBucketName, checkObjectKey } from '../../../storage/names.js';
import { parseContentMd5 } from '../../../storage/ingest.js';
import type { ObjectRecord } from '../../../storage/records.js';
import { ObjectChanged } from '../../../storage/objects.js';
import { sendStream } from '../../../storage/blob-store.js';
import { OWNER } from './bucket.js';
import { LIMITS } from '../../../limits.js';

const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

function conditionsFrom(ctx: OssContext) {
  return {
    ifMatch: header(ctx, 'if-match'),
    ifNoneMatch: header(ctx, 'if-none-match'),
    ifModifiedSince: header(ctx, 'if-modified-since'),
    ifUnmodifiedSince: header(ctx, 'if-unmodified-since'),
  };
}

function writeResultHeaders(o: ObjectRecord): Record<string, string> {
  return { ETag: quoteEtag(o.etag), 'x-oss-hash-crc64ecma': o.crc64, 'Content-MD5': o.objectType === 'Normal' ? Buffer.from(o.etag, 'hex').toString('base64') : '' };
}

export async function putObject(ctx: OssContext, bucket: string, key: string): Promise<void> {
  const expectedLength = requireBodyLength(ctx);
  const o = await ctx.storage.objects.put(bucket, key, ctx.req, {
    attrs: objectAttributes(ctx.req.headers, key),
    expectedLength,
    contentMd5: parseContentMd5(header(ctx, 'content-md5')),
    forbidOverwrite: isTrue(header(ctx, 'x-oss-forbid-overwrite')),
  });
  const h = writeResultHeaders(o);
  if (!h['Content-MD5']) delete h['Content-MD5'];
  sendEmpty(ctx.res, 200, h);
}

/** GetObject and HeadObject share conditions, ranges and headers; HEAD sends no body. */
export async function getObject(ctx: OssContext, found: ObjectRecord, withBody: boolean): Promise<void> {
  let o = found;
  for (let attempt = 0; ; attempt++) {
    checkConditions(conditionsFrom(ctx), o);
    const standard = (header(ctx, 'x-oss-range-behavior') ?? '').toLowerCase() === 'standard';
    const range = withBody ? parseRange(header(ctx, 'range'), o.size, standard) : ({ kind: 'full' } as const);
    const h: Record<string, string | number> = { ...objectHeaders(o), 'Accept-Ranges': 'bytes' };
    // response-* overrides apply only to signed requests, as on OSS.
    if (ctx.principal.kind === 'signed') {
      for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
        const v = ctx.query.get(param);
        if (v !== undefined) h[name] = v;
      }
    }
    if (!withBody) {
      sendEmpty(ctx.res, 200, { ...h, 'Content-Length': o.size });
      return;
    }
    const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, o.size - 1];
    if (range.kind === 'partial') h['Content-Range'] = `bytes ${start}-${end}/${o.size}`;
    h['Content-Length'] = Math.max(0, end - start + 1);
    let body;
    try {
      body = await ctx.storage.objects.open(o, start, end);
    } catch (e) {
      // Overwritten between lookup and open: serve the new version instead (once).
      if (!(e instanceof ObjectChanged) || attempt > 0) throw e;
      o = await ctx.storage.objects.head(o.bucket, o.key);
      continue;
    }
    ctx.res.writeHead(range.kind === 'partial' ? 206 : 200, h);
    // If the client goes away, the streams are destroyed and the leases released.
    await sendStream(body, ctx.res).catch((e: unknown) => {
      ctx.log.debug({ err: e }, 'object download ended early');
    });
    return;
  }
}

export async function getObjectMeta(ctx: OssContext, o: ObjectRecord): Promise<void> {
  sendEmpty(ctx.res, 200, {
    ETag: quoteEtag(o.etag),
    'Content-Length': o.size,
    'Last-Modified': o.lastModified.toUTCString(),
    'x-oss-last-access-time': o.lastModified.toUTCString(),
    'x-oss-hash-crc64ecma': o.crc64,
  });
}

export async function deleteObject(ctx: OssContext, bucket: string, key: string): Promise<void> {
  await ctx.storage.objects.delete(bucket, key);
  sendEmpty(ctx.res, 204);
}

const MAX_DELETE_KEYS = LIMITS.maxDeleteKeys;

/** DeleteMultipleObjects: `<Delete><Quiet/><Object><Key/></Object>...</Delete>`. */
export async function deleteMultiple(ctx: OssContext, bucket: string): Promise<void> {
  const encodingType = ctx.query.get('encoding-type');
  const body = await readSmallBody(ctx, LIMITS.maxDeleteBodyBytes);
  const contentMd5 = parseContentMd5(header(ctx, 'content-md5'));
  if (contentMd5 !== undefined) {
    const { createHash } = await import('node:crypto');
    if (createHash('md5').update(body).digest('base64') !== contentMd5) fail('InvalidDigest', 'The Content-MD5 you specified did not match the request body.');
  }
  const doc = parseXml(body, 'Delete', ['Object']);
  const objects = (doc.Object ?? []) as Array<{ Key?: unknown }>;
  if (objects.length === 0) fail('MalformedXML', 'The <Delete> document must list at least one <Object><Key>.');
  if (objects.length > MAX_DELETE_KEYS) fail('MalformedXML', `At most ${MAX_DELETE_KEYS} objects can be deleted in one request; got ${objects.length}.`);
  const keys = objects.map((o, i) => {
    if (typeof o !== 'object' || typeof o.Key !== 'string') fail('MalformedXML', `<Object> number ${i + 1} has no <Key>.`);
    const key = encodingType === 'url' ? decodeURIComponentSafe(o.Key) : o.Key;
    checkObjectKey(key);
    return key;
  });
  await ctx.storage.objects.deleteMany(bucket, keys);
  const quiet = String(doc.Quiet ?? 'false').toLowerCase() === 'true';
  const enc = encodingType === 'url' ? urlEncodeValue : (s: string) => s;
  sendXml(ctx.res, 200, {
    DeleteResult: {
      EncodingType: encodingType === 'url' ? 'url' : undefined,
      Deleted: quiet ? undefined : keys.map((k) => ({ Key: enc(k) })),
    },
  });
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return fail('InvalidArgument', `The url-encoded key "${s}" is not valid percent-encoding.`);
  }
}

/**
 * Parses `x-oss-copy-source: /<bucket>/<url-encoded key>[?versionId=...]` (CopyObject and UploadPartCopy).
 * The key is URL-decoded with `+` as a space: the Go SDK v3 builds the header with `url.QueryEscape`
 * (`dir%2Fhello+world%2B%C3%BC.txt`), and every SDK sends a real plus as `%2B` (ali-oss encodeURIComponent, oss2,
 * Java, Go v2), so a bare `+` never means plus. The split on `?` happens before decoding, so an encoded `%3F`
 * stays inside the key.
 */
export function parseCopySource(value: string): { bucket: string; key: string } {
  const noVersion = value.split('?')[0]!;
  const m = /^\/?([^/]+)\/(.+)$/.exec(noVersion);
  if (!m) fail('InvalidArgument', `x-oss-copy-source must look like /<bucket>/<key>; got "${value}".`, { ArgumentName: 'x-oss-copy-source', ArgumentValue: value });
  const bucket = m[1]!;
  const key = decodeURIComponentSafe(m[2]!.replace(/\+/g, ' '));
  checkBucketName(bucket);
  checkObjectKey(key);
  return { bucket, key };
}

export function copySourceConditions(ctx: OssContext) {
  return {
    ifMatch: header(ctx, 'x-oss-copy-source-if-match'),
    ifNoneMatch: header(ctx, 'x-oss-copy-source-if-none-match'),
    ifModifiedSince: header(ctx, 'x-oss-copy-source-if-modified-since'),
    ifUnmodifiedSince: header(ctx, 'x-oss-copy-source-if-unmodified-since'),
  };
}

export const COPY_CONDITION_NAMES = {
  ifMatch: 'x-oss-copy-source-if-match',
  ifNoneMatch: 'x-oss-copy-source-if-none-match',
  ifModifiedSince: 'x-oss-copy-source-if-modified-since',
  ifUnmodifiedSince: 'x-oss-copy-source-if-unmodified-since',
};

/**
 * CopyObject. With the REPLACE directive the destination takes the request's headers; with COPY
 * (default) the source's, except an explicit x-oss-object-acl. `source` was already authorised for read.
 */
export async function copyObject(ctx: OssContext, bucket: string, key: string, source: { bucket: string; key: string }): Promise<void> {
  const directive = (header(ctx, 'x-oss-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    fail('InvalidArgument', `x-oss-metadata-directive must be COPY or REPLACE; got "${directive}".`, { ArgumentName: 'x-oss-metadata-directive', ArgumentValue: directive });
  }
  const conditions = copySourceConditions(ctx);
  const o = await ctx.storage.objects.copy(source, { bucket, key }, {
    attrs: directive === 'REPLACE' ? objectAttributes(ctx.req.headers, key) : undefined,
    acl: parseObjectAcl(header(ctx, 'x-oss-object-acl')),
    forbidOverwrite: isTrue(header(ctx, 'x-oss-forbid-overwrite')),
    precondition: (src) => checkConditions(conditions, src, COPY_CONDITION_NAMES),
  });
  sendXml(ctx.res, 200, { CopyObjectResult: { ETag: quoteEtag(o.etag), LastModified: xmlDate(o.lastModified) } }, { ETag: quoteEtag(o.etag), 'x-oss-hash-crc64ecma': o.crc64 });
}

/** AppendObject: `POST /<key>?append&position=<n>`. */
export async function appendObject(ctx: OssContext, bucket: string, key: string): Promise<void> {
  const raw = ctx.query.get('position');
  if (raw === undefined || !/^\d{1,16}$/.test(raw)) {
    fail('MissingArgument', `AppendObject needs a position query parameter that is a non-negative integer; got "${raw ?? ''}".`, { ArgumentName: 'position', ArgumentValue: raw });
  }
  const expectedLength = requireBodyLength(ctx);
  const o = await ctx.storage.objects.append(bucket, key, Number(raw), ctx.req, {
    attrs: objectAttributes(ctx.req.headers, key),
    expectedLength,
    contentMd5: parseContentMd5(header(ctx, 'content-md5')),
  });
  sendEmpty(ctx.res, 200, { ETag: quoteEtag(o.etag), 'x-oss-next-append-position': String(o.size), 'x-oss-hash-crc64ecma': o.crc64 });
}

export async function getObjectAcl(ctx: OssContext, o: ObjectRecord): Promise<void> {
  sendXml(ctx.res, 200, { AccessControlPolicy: { Owner: OWNER, AccessControlList: { Grant: o.acl } } });
}

export async function putObjectAcl(ctx: OssContext, bucket: string, key: string): Promise<void> {
  const acl = parseObjectAcl(header(ctx, 'x-oss-object-acl'));
  if (!acl) fail('MissingArgument', 'PutObjectAcl needs the x-oss-object-acl header.', { ArgumentName: 'x-oss-object-acl' });
  await ctx.storage.objects.setAcl(bucket, key, acl);
  sendEmpty(ctx.res, 200);
}

