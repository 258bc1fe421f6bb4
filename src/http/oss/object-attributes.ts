/** Reading object attributes (type, content headers, user metadata, ACL, storage class) from request headers. */
import mime from 'mime-types';
import { fail } from '../../errors.js';
import { OBJECT_ACLS, BUCKET_ACLS, STORAGE_CLASSES, type BucketAcl, type ObjectAcl, type ObjectAttributes } from '../../storage/records.js';
import type { IncomingHttpHeaders } from 'node:http';

export const CONTENT_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'] as const;
const MAX_META_BYTES = 8 * 1024;

function one(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function parseObjectAcl(value: string | undefined): ObjectAcl | undefined {
  if (value === undefined) return undefined;
  if (!(OBJECT_ACLS as readonly string[]).includes(value)) {
    fail('InvalidArgument', `x-oss-object-acl must be one of ${OBJECT_ACLS.join(', ')}; got "${value}".`, { ArgumentName: 'x-oss-object-acl', ArgumentValue: value });
  }
  return value as ObjectAcl;
}

export function parseBucketAcl(value: string | undefined): BucketAcl | undefined {
  if (value === undefined) return undefined;
  if (!(BUCKET_ACLS as readonly string[]).includes(value)) {
    fail('InvalidArgument', `x-oss-acl must be one of ${BUCKET_ACLS.join(', ')}; got "${value}".`, { ArgumentName: 'x-oss-acl', ArgumentValue: value });
  }
  return value as BucketAcl;
}

export function parseStorageClass(value: string | undefined): string {
  if (value === undefined || value === '') return 'Standard';
  const found = STORAGE_CLASSES.find((c) => c.toLowerCase() === value.toLowerCase());
  if (!found) fail('InvalidArgument', `Storage class must be one of ${STORAGE_CLASSES.join(', ')}; got "${value}".`, { ArgumentName: 'x-oss-storage-class', ArgumentValue: value });
  return found;
}

/** The x-oss-meta-* headers, names lowercased, total size at most 8 KB as on OSS. */
export function userMetadata(headers: IncomingHttpHeaders): Record<string, string> {
  const meta: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-oss-meta-') || value === undefined) continue;
    const v = Array.isArray(value) ? value.join(',') : value;
    meta[name] = v;
    bytes += Buffer.byteLength(name) + Buffer.byteLength(v);
  }
  if (bytes > MAX_META_BYTES) fail('InvalidArgument', `User metadata (x-oss-meta-*) totals ${bytes} bytes; the limit is ${MAX_META_BYTES}.`, { ArgumentName: 'x-oss-meta-*' });
  return meta;
}

/** All attributes of a new object from the request headers; Content-Type defaults by the key's extension. */
export function objectAttributes(headers: IncomingHttpHeaders, key: string): ObjectAttributes {
  const content: Record<string, string> = {};
  for (const name of CONTENT_HEADERS) {
    const v = one(headers, name);
    if (v !== undefined && v !== '') content[name] = v;
  }
  const type = one(headers, 'content-type');
  return {
    contentType: type && type !== '' ? type : mime.lookup(key) || 'application/octet-stream',
    headers: content,
    meta: userMetadata(headers),
    acl: parseObjectAcl(one(headers, 'x-oss-object-acl')) ?? 'default',
    storageClass: parseStorageClass(one(headers, 'x-oss-storage-class')),
  };
}

export function isTrue(value: string | undefined): boolean {
  return value !== undefined && value.toLowerCase() === 'true';
}
