import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectOperation, type Level } from '../../../src/http/oss/operations.js';
import { MedleyError } from '../../../src/errors.js';

const q = (s: string) => new Map([...new URLSearchParams(s)]);
const cases: Array<[string, Level, string, { copySource?: string }, string]> = [
  ['GET', 'service', '', {}, 'ListBuckets'],
  ['PUT', 'service', '', {}, 'MethodNotAllowed'],
  ['PUT', 'bucket', '', {}, 'PutBucket'],
  ['PUT', 'bucket', 'acl', {}, 'PutBucketAcl'],
  ['GET', 'bucket', 'acl', {}, 'GetBucketAcl'],
  ['GET', 'bucket', 'bucketInfo', {}, 'GetBucketInfo'],
  ['GET', 'bucket', 'location', {}, 'GetBucketLocation'],
  ['GET', 'bucket', 'uploads', {}, 'ListMultipartUploads'],
  ['GET', 'bucket', 'list-type=2&prefix=a', {}, 'ListObjectsV2'],
  ['GET', 'bucket', 'prefix=a&marker=b', {}, 'ListObjects'],
  ['GET', 'bucket', 'list-type=3', {}, 'InvalidArgument'],
  ['DELETE', 'bucket', '', {}, 'DeleteBucket'],
  ['POST', 'bucket', 'delete', {}, 'DeleteMultipleObjects'],
  ['GET', 'bucket', 'cors', {}, 'NotImplemented'],
  ['GET', 'bucket', 'lifecycle', {}, 'NotImplemented'],
  ['PUT', 'object', '', {}, 'PutObject'],
  ['PUT', 'object', '', { copySource: '/b/k' }, 'CopyObject'],
  ['PUT', 'object', 'acl', {}, 'PutObjectAcl'],
  ['PUT', 'object', 'partNumber=1&uploadId=X', {}, 'UploadPart'],
  ['PUT', 'object', 'partNumber=1&uploadId=X', { copySource: '/b/k' }, 'UploadPartCopy'],
  ['PUT', 'object', 'partNumber=1', {}, 'MissingArgument'],
  ['GET', 'object', '', {}, 'GetObject'],
  ['GET', 'object', 'acl', {}, 'GetObjectAcl'],
  ['GET', 'object', 'uploadId=X', {}, 'ListParts'],
  ['GET', 'object', 'x-oss-process=video/info', {}, 'ProcessObject'],
  ['GET', 'object', 'response-content-type=text/plain', {}, 'GetObject'],
  ['HEAD', 'object', '', {}, 'HeadObject'],
  ['HEAD', 'object', 'objectMeta', {}, 'GetObjectMeta'],
  ['DELETE', 'object', '', {}, 'DeleteObject'],
  ['DELETE', 'object', 'uploadId=X', {}, 'AbortMultipartUpload'],
  ['POST', 'object', 'uploads', {}, 'InitiateMultipartUpload'],
  ['POST', 'object', 'uploadId=X', {}, 'CompleteMultipartUpload'],
  ['POST', 'object', 'append&position=0', {}, 'AppendObject'],
  ['POST', 'object', 'x-oss-async-process', {}, 'AsyncProcessObject'],
  ['POST', 'object', '', {}, 'MethodNotAllowed'],
  ['PATCH', 'object', '', {}, 'MethodNotAllowed'],
  ['GET', 'object', 'tagging', {}, 'NotImplemented'],
];

for (const [method, level, query, headers, want] of cases) {
  test(`${method} ${level}${query ? `?${query}` : ''}${headers.copySource ? ' +copy-source' : ''} → ${want}`, () => {
    let got: string;
    try {
      got = selectOperation(method, level, q(query), headers);
    } catch (e) {
      assert.ok(e instanceof MedleyError, String(e));
      got = e.code;
    }
    assert.equal(got, want);
  });
}
