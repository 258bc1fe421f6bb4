/**
 * Who may do what (pure). Medley has one account: a request signed with a valid key of that account may
 * do everything; an anonymous request is judged by the ACLs (object ACL `default` defers to the bucket).
 */
import type { BucketAcl, ObjectAcl } from '../storage/records.js';

/** read: GET/HEAD an object or list a bucket; write: create/replace/delete objects; owner: everything else. */
export type Access = 'read' | 'write' | 'owner';

export interface Principal {
  kind: 'anonymous' | 'signed';
  accessKeyId?: string;
}

export function effectiveAcl(bucketAcl: BucketAcl, objectAcl?: ObjectAcl): BucketAcl {
  return objectAcl === undefined || objectAcl === 'default' ? bucketAcl : objectAcl;
}

export function isAllowed(principal: Principal, access: Access, acl: BucketAcl | undefined): boolean {
  if (principal.kind === 'signed') return true;
  if (acl === undefined) return false;
  if (access === 'read') return acl === 'public-read' || acl === 'public-read-write';
  if (access === 'write') return acl === 'public-read-write';
  return false;
}
