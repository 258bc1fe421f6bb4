/**
 * Who may do what (pure). Medley has one account. Its root key may do everything. Extra access keys
 * (the access-keys file, like RAM users) carry per-bucket grants: `read` (get, head, list, use as a media
 * source) or `read-write` (also put, delete, be a media output). Owner-level operations (create or delete
 * a bucket, change ACLs, manage IMM projects) need the root key. Anonymous requests, and scoped keys
 * outside their grants, are judged by the ACLs (object ACL `default` defers to the bucket's).
 */
import type { BucketAcl, ObjectAcl } from '../storage/records.js';

/** read: GET/HEAD an object or list a bucket; write: create/replace/delete objects; owner: everything else. */
export type Access = 'read' | 'write' | 'owner';

export type BucketGrant = 'read' | 'read-write';

export interface Principal {
  kind: 'anonymous' | 'signed';
  accessKeyId?: string;
  /** Per-bucket grants of a scoped key; undefined for the account's root key (and for anonymous). */
  grants?: Readonly<Record<string, BucketGrant>>;
}

export function effectiveAcl(bucketAcl: BucketAcl, objectAcl?: ObjectAcl): BucketAcl {
  return objectAcl === undefined || objectAcl === 'default' ? bucketAcl : objectAcl;
}

/** True for the account's root key: it may manage buckets, ACLs and IMM projects. */
export function isAccountOwner(principal: Principal): boolean {
  return principal.kind === 'signed' && principal.grants === undefined;
}

function aclAllows(access: Access, acl: BucketAcl | undefined): boolean {
  if (acl === undefined) return false;
  if (access === 'read') return acl === 'public-read' || acl === 'public-read-write';
  if (access === 'write') return acl === 'public-read-write';
  return false;
}

/** `bucket` names the bucket the access is on (needed to check a scoped key's grants). */
export function isAllowed(principal: Principal, access: Access, acl: BucketAcl | undefined, bucket?: string): boolean {
  if (isAccountOwner(principal)) return true;
  if (principal.kind === 'signed' && bucket !== undefined) {
    const grant = principal.grants?.[bucket];
    if (grant === 'read-write' && access !== 'owner') return true;
    if (grant === 'read' && access === 'read') return true;
  }
  return aclAllows(access, acl);
}

/**
 * Which media tasks the principal may see (GetTask/ListTasks): undefined = every task (the root key);
 * otherwise the tasks it submitted itself (`owner`) and those every bucket of which (each source, the
 * output) is readable under its grants. Judged on grants, not on public ACLs: a task's request definition
 * is its submitter's business, not that of whoever may read a public bucket. Anonymous callers see none.
 */
export function taskVisibility(principal: Principal): { buckets: readonly string[]; owner?: string } | undefined {
  if (isAccountOwner(principal)) return undefined;
  if (principal.kind !== 'signed') return { buckets: [] };
  const buckets = Object.entries(principal.grants ?? {})
    .filter(([, g]) => g === 'read' || g === 'read-write')
    .map(([bucket]) => bucket);
  return principal.accessKeyId ? { buckets, owner: principal.accessKeyId } : { buckets };
}
