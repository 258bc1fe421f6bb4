/** Service- and bucket-level operations: ListBuckets, Put/Get/DeleteBucket, ACL, info, location, ListObjects v1/v2. */
import { fail } from '../../../errors.js';
import { intParam, readSmallBody, type OssContext } from '../context.js';
import { sendEmpty, sendXml, quoteEtag } from '../responses.js';
import { parseXml, urlEncodeValue, xmlDate, type XmlObject } from '../xml.js';
import { parseBucketAcl, parseStorageClass } from '../object-attributes.js';
import { checkBucketName } from '../../../storage/names.js';
import type { BucketRecord } from '../../../storage/records.js';
import type { ListEntry } from '../../../storage/listing.js';

export const OWNER = { ID: 'medley', DisplayName: 'medley' };

function endpoints(ctx: OssContext) {
  const region = ctx.config.region;
  return { location: `oss-${region}`, extranet: `oss-${region}.aliyuncs.com`, intranet: `oss-${region}-internal.aliyuncs.com` };
}

export async function listBuckets(ctx: OssContext): Promise<void> {
  const prefix = ctx.query.get('prefix') ?? '';
  const marker = ctx.query.get('marker') ?? '';
  const maxKeys = intParam(ctx, 'max-keys', 1000, 1, 1000);
  const page = await ctx.storage.buckets.list({ prefix, marker, maxKeys });
  const ep = endpoints(ctx);
  sendXml(ctx.res, 200, {
    ListAllMyBucketsResult: {
      Prefix: prefix,
      Marker: marker,
      MaxKeys: maxKeys,
      IsTruncated: page.isTruncated,
      NextMarker: page.nextMarker,
      Owner: OWNER,
      Buckets: {
        Bucket: page.buckets.map((b) => ({
          CreationDate: xmlDate(b.createdAt),
          ExtranetEndpoint: ep.extranet,
          IntranetEndpoint: ep.intranet,
          Location: ep.location,
          Name: b.name,
          Region: ctx.config.region,
          StorageClass: b.storageClass,
        })),
      },
    },
  });
}

export async function putBucket(ctx: OssContext, bucket: string): Promise<void> {
  checkBucketName(bucket, 'create');
  const acl = parseBucketAcl(ctx.req.headers['x-oss-acl'] as string | undefined) ?? 'private';
  let storageClass = 'Standard';
  const body = await readSmallBody(ctx, ctx.config.maxXmlBodyBytes);
  if (body.length > 0) {
    const conf = parseXml(body, 'CreateBucketConfiguration');
    if (typeof conf.StorageClass === 'string') storageClass = parseStorageClass(conf.StorageClass);
  }
  await ctx.storage.buckets.create(bucket, acl, storageClass);
  sendEmpty(ctx.res, 200, { Location: `/${bucket}` });
}

export async function deleteBucket(ctx: OssContext, bucket: string): Promise<void> {
  await ctx.storage.buckets.delete(bucket);
  sendEmpty(ctx.res, 204);
}

function aclDoc(grant: string): XmlObject {
  return { AccessControlPolicy: { Owner: OWNER, AccessControlList: { Grant: grant } } };
}

export async function getBucketAcl(ctx: OssContext, bucket: BucketRecord): Promise<void> {
  sendXml(ctx.res, 200, aclDoc(bucket.acl));
}

export async function putBucketAcl(ctx: OssContext, bucket: BucketRecord): Promise<void> {
  const acl = parseBucketAcl(ctx.req.headers['x-oss-acl'] as string | undefined);
  if (!acl) fail('MissingArgument', 'PutBucketAcl needs the x-oss-acl header.', { ArgumentName: 'x-oss-acl' });
  await ctx.storage.buckets.setAcl(bucket.name, acl);
  sendEmpty(ctx.res, 200);
}

export async function getBucketInfo(ctx: OssContext, bucket: BucketRecord): Promise<void> {
  const ep = endpoints(ctx);
  sendXml(ctx.res, 200, {
    BucketInfo: {
      Bucket: {
        AccessMonitor: 'Disabled',
        CreationDate: xmlDate(bucket.createdAt),
        CrossRegionReplication: 'Disabled',
        DataRedundancyType: 'LRS',
        ExtranetEndpoint: ep.extranet,
        IntranetEndpoint: ep.intranet,
        Location: ep.location,
        Name: bucket.name,
        Region: ctx.config.region,
        StorageClass: bucket.storageClass,
        TransferAcceleration: 'Disabled',
        Owner: OWNER,
        AccessControlList: { Grant: bucket.acl },
        Comment: '',
        Versioning: undefined,
        ServerSideEncryptionRule: { SSEAlgorithm: 'None' },
      },
    },
  });
}

export async function getBucketLocation(ctx: OssContext): Promise<void> {
  sendXml(ctx.res, 200, { LocationConstraint: endpoints(ctx).location });
}

function listParams(ctx: OssContext) {
  const encodingType = ctx.query.get('encoding-type');
  if (encodingType !== undefined && encodingType !== '' && encodingType !== 'url') {
    fail('InvalidArgument', `encoding-type must be "url"; got "${encodingType}".`, { ArgumentName: 'encoding-type', ArgumentValue: encodingType });
  }
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  if (Buffer.byteLength(prefix) > 1023) fail('InvalidArgument', 'prefix must be at most 1023 bytes.', { ArgumentName: 'prefix' });
  if (Buffer.byteLength(delimiter) > 1023) fail('InvalidArgument', 'delimiter must be at most 1023 bytes.', { ArgumentName: 'delimiter' });
  return {
    url: encodingType === 'url',
    prefix,
    delimiter,
    maxKeys: intParam(ctx, 'max-keys', 100, 0, 1000),
  };
}

function contents(entries: ListEntry[], enc: (s: string) => string, withOwner: boolean) {
  const objects = entries.flatMap((e) => (e.kind === 'object' ? [e.object] : []));
  const prefixes = entries.flatMap((e) => (e.kind === 'prefix' ? [e.prefix] : []));
  return {
    Contents: objects.map((o) => ({
      Key: enc(o.key),
      LastModified: xmlDate(o.lastModified),
      ETag: quoteEtag(o.etag),
      Type: o.objectType,
      Size: o.size,
      StorageClass: o.storageClass,
      Owner: withOwner ? OWNER : undefined,
    })),
    CommonPrefixes: prefixes.map((p) => ({ Prefix: enc(p) })),
    count: entries.length,
  };
}

/** ListObjects (v1): marker-based. */
export async function listObjectsV1(ctx: OssContext, bucket: BucketRecord): Promise<void> {
  const p = listParams(ctx);
  const marker = ctx.query.get('marker') ?? '';
  const enc = p.url ? urlEncodeValue : (s: string) => s;
  const page = p.maxKeys === 0 ? { entries: [], isTruncated: false, next: undefined } : await ctx.storage.objects.list({ bucket: bucket.name, prefix: p.prefix, delimiter: p.delimiter, after: marker, maxKeys: p.maxKeys });
  const c = contents(page.entries, enc, true);
  sendXml(ctx.res, 200, {
    ListBucketResult: {
      Name: bucket.name,
      Prefix: enc(p.prefix),
      Marker: enc(marker),
      MaxKeys: p.maxKeys,
      Delimiter: enc(p.delimiter),
      EncodingType: p.url ? 'url' : undefined,
      IsTruncated: page.isTruncated,
      NextMarker: page.next !== undefined ? enc(page.next) : undefined,
      Contents: c.Contents,
      CommonPrefixes: c.CommonPrefixes,
    },
  });
}

/** Continuation tokens are opaque base64url of the last key returned, so url-encoding never changes them. */
function decodeToken(token: string): string {
  const key = Buffer.from(token, 'base64url').toString('utf8');
  if (token === '' || Buffer.from(key, 'utf8').toString('base64url') !== token.replace(/=+$/, '')) {
    fail('InvalidArgument', 'The continuation-token is not valid.', { ArgumentName: 'continuation-token', ArgumentValue: token });
  }
  return key;
}

/** ListObjectsV2: continuation-token / start-after, KeyCount, fetch-owner. */
export async function listObjectsV2(ctx: OssContext, bucket: BucketRecord): Promise<void> {
  const p = listParams(ctx);
  const token = ctx.query.get('continuation-token') || undefined;
  const startAfter = ctx.query.get('start-after') ?? '';
  const fetchOwner = (ctx.query.get('fetch-owner') ?? '').toLowerCase() === 'true';
  const after = token !== undefined ? decodeToken(token) : startAfter;
  const enc = p.url ? urlEncodeValue : (s: string) => s;
  const page = p.maxKeys === 0 ? { entries: [], isTruncated: false, next: undefined } : await ctx.storage.objects.list({ bucket: bucket.name, prefix: p.prefix, delimiter: p.delimiter, after, maxKeys: p.maxKeys });
  const c = contents(page.entries, enc, fetchOwner);
  sendXml(ctx.res, 200, {
    ListBucketResult: {
      Name: bucket.name,
      Prefix: enc(p.prefix),
      StartAfter: startAfter !== '' ? enc(startAfter) : undefined,
      ContinuationToken: token,
      MaxKeys: p.maxKeys,
      Delimiter: enc(p.delimiter),
      EncodingType: p.url ? 'url' : undefined,
      IsTruncated: page.isTruncated,
      NextContinuationToken: page.next !== undefined ? Buffer.from(page.next, 'utf8').toString('base64url') : undefined,
      KeyCount: c.count,
      Contents: c.Contents,
      CommonPrefixes: c.CommonPrefixes,
    },
  });
}
