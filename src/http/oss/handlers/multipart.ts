/** Multipart operations: Initiate, UploadPart, UploadPartCopy, Complete, Abort, ListMultipartUploads, ListParts. */
import { fail } from '../../../errors.js';
import { header, intParam, readSmallBody, requireBodyLength, type OssContext } from '../context.js';
import { quoteEtag, sendEmpty, sendXml } from '../responses.js';
import { parseXml, urlEncodeValue, xmlDate } from '../xml.js';
import { isTrue, objectAttributes } from '../object-attributes.js';
import { checkConditions } from '../conditions.js';
import { parseContentMd5 } from '../../../storage/ingest.js';
import { MAX_PART_NUMBER, type CompletePart } from '../../../storage/multipart.js';
import type { ObjectRecord } from '../../../storage/records.js';
import { COPY_CONDITION_NAMES, copySourceConditions } from './object.js';
import { requestScheme } from '../../listen.js';

function encoder(ctx: OssContext) {
  const t = ctx.query.get('encoding-type');
  if (t !== undefined && t !== '' && t !== 'url') fail('InvalidArgument', `encoding-type must be "url"; got "${t}".`, { ArgumentName: 'encoding-type', ArgumentValue: t });
  return { url: t === 'url', enc: t === 'url' ? urlEncodeValue : (s: string) => s };
}

export async function initiate(ctx: OssContext, bucket: string, key: string): Promise<void> {
  const { url, enc } = encoder(ctx);
  const u = await ctx.storage.multipart.initiate(bucket, key, objectAttributes(ctx.req.headers, key), isTrue(header(ctx, 'x-oss-forbid-overwrite')));
  sendXml(ctx.res, 200, { InitiateMultipartUploadResult: { EncodingType: url ? 'url' : undefined, Bucket: bucket, Key: enc(key), UploadId: u.uploadId } });
}

function partNumber(ctx: OssContext): number {
  return intParam(ctx, 'partNumber', 0, 1, MAX_PART_NUMBER);
}

export async function uploadPart(ctx: OssContext, bucket: string, key: string): Promise<void> {
  const n = partNumber(ctx);
  const expectedLength = requireBodyLength(ctx);
  const p = await ctx.storage.multipart.uploadPart(bucket, key, ctx.query.get('uploadId')!, n, ctx.req, {
    expectedLength,
    contentMd5: parseContentMd5(header(ctx, 'content-md5')),
  });
  sendEmpty(ctx.res, 200, { ETag: quoteEtag(p.etag), 'x-oss-hash-crc64ecma': p.crc64 });
}

/** `x-oss-copy-source-range: bytes=a-b` (both ends required, inclusive, within the source). */
export function parseCopyRange(value: string | undefined, size: number): [number, number] | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) >= size) {
    fail('InvalidArgument', `x-oss-copy-source-range must be bytes=<first>-<last> within the ${size}-byte source; got "${value}".`, { ArgumentName: 'x-oss-copy-source-range', ArgumentValue: value });
  }
  return [Number(m[1]), Number(m[2])];
}

export async function uploadPartCopy(ctx: OssContext, bucket: string, key: string, source: ObjectRecord): Promise<void> {
  const n = partNumber(ctx);
  checkConditions(copySourceConditions(ctx), source, COPY_CONDITION_NAMES);
  const range = parseCopyRange(header(ctx, 'x-oss-copy-source-range'), source.size);
  const p = await ctx.storage.multipart.uploadPartCopy(bucket, key, ctx.query.get('uploadId')!, n, source, range);
  // ali-oss and oss2 read the ETag from the header, not the body.
  sendXml(ctx.res, 200, { CopyPartResult: { LastModified: xmlDate(p.lastModified), ETag: quoteEtag(p.etag) } }, { ETag: quoteEtag(p.etag), 'x-oss-hash-crc64ecma': p.crc64 });
}

export async function complete(ctx: OssContext, bucket: string, key: string): Promise<void> {
  const { url, enc } = encoder(ctx);
  const uploadId = ctx.query.get('uploadId')!;
  const body = await readSmallBody(ctx, ctx.config.maxXmlBodyBytes);
  const all = (header(ctx, 'x-oss-complete-all') ?? '').toLowerCase() === 'yes';
  if (all && body.length > 0) fail('InvalidArgument', 'Should not speficy both complete all header and http body.', { ArgumentName: 'x-oss-complete-all' });
  let parts: CompletePart[] | 'all' = 'all';
  if (!all) {
    const doc = parseXml(body, 'CompleteMultipartUpload', ['Part']);
    const list = (doc.Part ?? []) as Array<Record<string, unknown>>;
    parts = list.map((p, i) => {
      const num = typeof p.PartNumber === 'string' && /^\d{1,5}$/.test(p.PartNumber) ? Number(p.PartNumber) : NaN;
      if (!(num >= 1 && num <= MAX_PART_NUMBER)) fail('MalformedXML', `<Part> number ${i + 1} needs a <PartNumber> from 1 to ${MAX_PART_NUMBER}.`);
      if (typeof p.ETag !== 'string' || p.ETag === '') fail('MalformedXML', `<Part> number ${i + 1} needs an <ETag>.`);
      return { partNumber: num, etag: p.ETag.replace(/"/g, '').trim() };
    });
    if (parts.length === 0) fail('MalformedXML', 'The <CompleteMultipartUpload> document must list at least one <Part>.');
  }
  const o = await ctx.storage.multipart.complete(bucket, key, uploadId, parts, isTrue(header(ctx, 'x-oss-forbid-overwrite')));
  sendXml(
    ctx.res,
    200,
    {
      CompleteMultipartUploadResult: {
        EncodingType: url ? 'url' : undefined,
        Location: `${requestScheme(ctx.req)}://${header(ctx, 'host') ?? ''}/${enc(key)}`,
        Bucket: bucket,
        Key: enc(key),
        ETag: quoteEtag(o.etag),
      },
    },
    { ETag: quoteEtag(o.etag), 'x-oss-hash-crc64ecma': o.crc64 },
  );
}

export async function abort(ctx: OssContext, bucket: string, key: string): Promise<void> {
  await ctx.storage.multipart.abort(bucket, key, ctx.query.get('uploadId')!);
  sendEmpty(ctx.res, 204);
}

export async function listUploads(ctx: OssContext, bucket: string): Promise<void> {
  const { url, enc } = encoder(ctx);
  const q = {
    prefix: ctx.query.get('prefix') ?? '',
    delimiter: ctx.query.get('delimiter') ?? '',
    keyMarker: ctx.query.get('key-marker') ?? '',
    uploadIdMarker: ctx.query.get('upload-id-marker') ?? '',
    maxUploads: intParam(ctx, 'max-uploads', 1000, 1, 1000),
  };
  const r = await ctx.storage.multipart.list(bucket, q);
  sendXml(ctx.res, 200, {
    ListMultipartUploadsResult: {
      EncodingType: url ? 'url' : undefined,
      Bucket: bucket,
      KeyMarker: enc(q.keyMarker),
      UploadIdMarker: q.uploadIdMarker,
      NextKeyMarker: enc(r.nextKeyMarker),
      NextUploadIdMarker: r.nextUploadIdMarker,
      Delimiter: enc(q.delimiter),
      Prefix: enc(q.prefix),
      MaxUploads: q.maxUploads,
      IsTruncated: r.isTruncated,
      Upload: r.uploads.map((u) => ({ Key: enc(u.key), UploadId: u.uploadId, StorageClass: u.storageClass, Initiated: xmlDate(u.initiated) })),
      CommonPrefixes: r.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
    },
  });
}

export async function listParts(ctx: OssContext, bucket: string, key: string): Promise<void> {
  const { url, enc } = encoder(ctx);
  const uploadId = ctx.query.get('uploadId')!;
  const marker = intParam(ctx, 'part-number-marker', 0, 0, MAX_PART_NUMBER);
  const maxParts = intParam(ctx, 'max-parts', 1000, 1, 1000);
  const r = await ctx.storage.multipart.listParts(bucket, key, uploadId, marker, maxParts);
  sendXml(ctx.res, 200, {
    ListPartsResult: {
      EncodingType: url ? 'url' : undefined,
      Bucket: bucket,
      Key: enc(key),
      UploadId: uploadId,
      StorageClass: 'Standard',
      PartNumberMarker: marker,
      NextPartNumberMarker: r.nextMarker,
      MaxParts: maxParts,
      IsTruncated: r.isTruncated,
      Part: r.parts.map((p) => ({ PartNumber: p.partNumber, LastModified: xmlDate(p.lastModified), ETag: quoteEtag(p.etag), HashCrc64ecma: p.crc64, Size: p.size })),
    },
  });
}
