/**
 * Which OSS operation a request is (pure): from the method, the addressing level (service, bucket,
 * object), the sub-resource query flags and a few headers. Table-tested.
 */
import { fail } from '../../errors.js';

export type Operation =
  | 'ListBuckets'
  | 'PutBucket'
  | 'DeleteBucket'
  | 'GetBucketAcl'
  | 'PutBucketAcl'
  | 'GetBucketInfo'
  | 'GetBucketLocation'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListMultipartUploads'
  | 'DeleteMultipleObjects'
  | 'PutObject'
  | 'CopyObject'
  | 'GetObject'
  | 'HeadObject'
  | 'GetObjectMeta'
  | 'DeleteObject'
  | 'AppendObject'
  | 'GetObjectAcl'
  | 'PutObjectAcl'
  | 'InitiateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'ProcessObject'
  | 'AsyncProcessObject';

export type Level = 'service' | 'bucket' | 'object';

/** OSS sub-resources Medley does not implement: refused by name rather than silently ignored. */
const UNSUPPORTED_SUBRESOURCES = [
  'policy', 'cors', 'lifecycle', 'logging', 'website', 'referer', 'encryption', 'requestPayment', 'qos', 'qosInfo',
  'tagging', 'symlink', 'restore', 'versions', 'versioning', 'versionId', 'inventory', 'worm', 'replication',
  'transferAcceleration', 'cname', 'metaQuery', 'resourceGroup', 'rtc', 'live', 'img', 'style', 'accessPoint',
  'publicAccessBlock', 'httpsConfig', 'objectInfo', 'stat', 'vod', 'asyncFetch', 'regionList', 'responseHeader',
  'cloudboxes', 'comp', 'udf',
];

function notSupported(what: string): never {
  return fail('NotImplemented', `Medley does not implement ${what}.`);
}

function methodNotAllowed(method: string, level: Level): never {
  return fail('MethodNotAllowed', `The ${method} method is not allowed against this ${level === 'service' ? 'service' : level} resource.`, {
    Method: method,
    ResourceType: level === 'service' ? 'Service' : level === 'bucket' ? 'Bucket' : 'Object',
  });
}

export function selectOperation(method: string, level: Level, query: ReadonlyMap<string, string>, headers: { copySource?: string }): Operation {
  for (const name of UNSUPPORTED_SUBRESOURCES) if (query.has(name)) notSupported(`the ?${name} sub-resource`);
  const has = (k: string) => query.has(k);

  if (level === 'service') {
    if (method === 'GET') return 'ListBuckets';
    return methodNotAllowed(method, level);
  }

  if (level === 'bucket') {
    switch (method) {
      case 'GET':
        if (has('acl')) return 'GetBucketAcl';
        if (has('bucketInfo')) return 'GetBucketInfo';
        if (has('location')) return 'GetBucketLocation';
        if (has('uploads')) return 'ListMultipartUploads';
        if (query.get('list-type') === '2') return 'ListObjectsV2';
        if (has('list-type') && query.get('list-type') !== '1' && query.get('list-type') !== '') {
          fail('InvalidArgument', `list-type must be 2 (or absent); got "${query.get('list-type')}".`, { ArgumentName: 'list-type' });
        }
        return 'ListObjects';
      case 'PUT':
        return has('acl') ? 'PutBucketAcl' : 'PutBucket';
      case 'DELETE':
        return 'DeleteBucket';
      case 'POST':
        if (has('delete')) return 'DeleteMultipleObjects';
        return notSupported('this POST on a bucket (browser form upload is not supported)');
      case 'HEAD':
        return 'GetBucketInfo';
      default:
        return methodNotAllowed(method, level);
    }
  }

  switch (method) {
    case 'GET':
      if (has('acl')) return 'GetObjectAcl';
      if (has('uploadId')) return 'ListParts';
      if (has('x-oss-process')) return 'ProcessObject';
      return 'GetObject';
    case 'HEAD':
      return has('objectMeta') ? 'GetObjectMeta' : 'HeadObject';
    case 'PUT':
      if (has('acl')) return 'PutObjectAcl';
      if (has('partNumber') || has('uploadId')) {
        if (!has('partNumber') || !has('uploadId')) fail('MissingArgument', 'UploadPart needs both partNumber and uploadId.', { ArgumentName: has('partNumber') ? 'uploadId' : 'partNumber' });
        return headers.copySource !== undefined ? 'UploadPartCopy' : 'UploadPart';
      }
      return headers.copySource !== undefined ? 'CopyObject' : 'PutObject';
    case 'DELETE':
      return has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'POST':
      if (has('uploads')) return 'InitiateMultipartUpload';
      if (has('uploadId')) return 'CompleteMultipartUpload';
      if (has('append')) return 'AppendObject';
      if (has('x-oss-async-process')) return 'AsyncProcessObject';
      if (has('x-oss-process')) return 'ProcessObject';
      return methodNotAllowed(method, level);
    default:
      return methodNotAllowed(method, level);
  }
}

/** The access each operation needs from an anonymous caller's point of view (signed callers may do all). */
export const operationAccess: Record<Operation, 'read' | 'write' | 'owner'> = {
  ListBuckets: 'owner',
  PutBucket: 'owner',
  DeleteBucket: 'owner',
  GetBucketAcl: 'owner',
  PutBucketAcl: 'owner',
  GetBucketInfo: 'owner',
  GetBucketLocation: 'owner',
  ListObjects: 'read',
  ListObjectsV2: 'read',
  ListMultipartUploads: 'owner',
  DeleteMultipleObjects: 'write',
  PutObject: 'write',
  CopyObject: 'write',
  GetObject: 'read',
  HeadObject: 'read',
  GetObjectMeta: 'read',
  DeleteObject: 'write',
  AppendObject: 'write',
  GetObjectAcl: 'owner',
  PutObjectAcl: 'owner',
  InitiateMultipartUpload: 'write',
  UploadPart: 'write',
  UploadPartCopy: 'write',
  CompleteMultipartUpload: 'write',
  AbortMultipartUpload: 'write',
  ListParts: 'write',
  // Media processing needs read on the object (scoped keys with a bucket grant may process); the dialect
  // refuses anonymous callers outright (spec §7.2) and the handlers check saveas targets and clips.
  ProcessObject: 'read',
  AsyncProcessObject: 'read',
};
