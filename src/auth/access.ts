/**
 * The one access gate: every door (the OSS dialect, its media-processing handlers, the task service) asks
 * here before touching a bucket or an object, so the load-bucket → load-object → decide → deny sequence and
 * its order exist once:
 *
 *   1. the bucket must exist (NoSuchBucket comes before AccessDenied: OSS reveals that a bucket is missing,
 *      and it is what clients and today's tests expect);
 *   2. with a key, the object is loaded, because its own ACL overrides the bucket's for anonymous callers
 *      and scoped keys outside their grants (a missing object is the caller's to report: NoSuchKey comes
 *      after AccessDenied, so a refused caller cannot probe which keys exist);
 *   3. (media processing only) anonymous callers are refused outright;
 *   4. auth/policy.ts `isAllowed` decides; a refusal is AccessDenied with the caller's message, or the
 *      ACL message for anonymous callers.
 */
import { fail } from '../errors.js';
import type { Storage } from '../storage/index.js';
import type { BucketRecord, ObjectRecord } from '../storage/records.js';
import { effectiveAcl, isAllowed, type Access, type Principal } from './policy.js';

const ANONYMOUS_DENIED = 'You have no right to access this resource because of bucket acl: anonymous access is not allowed here.';

export interface Granted {
  bucket: BucketRecord;
  /** The object at `key`, when a key was given and it exists. */
  object?: ObjectRecord;
}

export interface AccessOptions {
  /** The AccessDenied message (default: the catalog's, or the anonymous ACL message for anonymous callers). */
  denied?: string;
  /** Refuse anonymous callers with this message whatever the ACLs say (media processing, spec/oss.md §7.2); checked once the bucket is known to exist. */
  signedOnly?: string;
  /**
   * The caller does not use the object (writes, deletes): it is loaded only when its ACL can change the
   * decision, i.e. not for the root key or a key whose grant on the bucket already allows the access.
   */
  objectUnused?: boolean;
}

/** The refusal every door answers. */
export function deny(principal: Principal, message?: string): never {
  return fail('AccessDenied', message ?? (principal.kind === 'anonymous' ? ANONYMOUS_DENIED : undefined));
}

export class AccessGate {
  constructor(private readonly storage: Pick<Storage, 'buckets' | 'objects'>) {}

  /** Account-level operations (ListBuckets, PutBucket): no bucket ACL or grant can allow them. */
  requireAccount(principal: Principal, access: Access, opts: AccessOptions = {}): void {
    if (!isAllowed(principal, access, undefined)) deny(principal, opts.denied);
  }

  /** Checks `access` on the bucket (and on the object at `key`, judged by its own ACL); see the module comment for the order. */
  async require(principal: Principal, access: Access, bucketName: string, key?: string, opts: AccessOptions = {}): Promise<Granted> {
    // An object read needs both rows: one statement reads them together (same order of checks below).
    const loadObject = key !== undefined && !(opts.objectUnused && isAllowed(principal, access, undefined, bucketName));
    const found = loadObject ? await this.storage.objects.findWithBucket(bucketName, key) : { bucket: await this.storage.buckets.find(bucketName) };
    const bucket = found.bucket ?? fail('NoSuchBucket', undefined, { BucketName: bucketName });
    if (opts.signedOnly !== undefined && principal.kind === 'anonymous') fail('AccessDenied', opts.signedOnly);
    const object = found.object;
    if (!isAllowed(principal, access, effectiveAcl(bucket.acl, object?.acl), bucketName)) deny(principal, opts.denied);
    return object ? { bucket, object } : { bucket };
  }
}
