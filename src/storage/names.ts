/**
 * The bucket and object key naming rules (spec oss.md 1.5), in one place: the OSS front door, IMM
 * AttachOSSBucket, the media request validator, output names and the local CLI all ask here, so a name one
 * accepts the others accept too. Pure; the callers turn a refusal into their own dialect's error.
 */
import { fail } from '../errors.js';

/**
 * A bucket name as created today: 3–63 of `[a-z0-9-]`, a letter or digit at both ends (ali-oss's create-time
 * check). Exported as source so the aliyuncs Host pattern embeds the same rule.
 */
export const BUCKET_NAME_CREATE_SOURCE = '[a-z0-9][a-z0-9-]{1,61}[a-z0-9]';
/**
 * A bucket name that may already exist: older naming rules allowed `_`, and refusing such a name on a read
 * path would strand its data (spec 1.5 [REC]). Every path but CreateBucket uses this rule.
 */
export const BUCKET_NAME_EXISTING_SOURCE = '[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]';

const BUCKET_NAME_CREATE = new RegExp(`^${BUCKET_NAME_CREATE_SOURCE}$`);
const BUCKET_NAME_EXISTING = new RegExp(`^${BUCKET_NAME_EXISTING_SOURCE}$`);

/** An object key is at most this many UTF-8 bytes. */
export const MAX_KEY_BYTES = 1023;

/** `create`: the rule for a new bucket; `existing` (default): the rule for naming a bucket that may exist. */
export type BucketNameRule = 'create' | 'existing';

export function isValidBucketName(name: string, rule: BucketNameRule = 'existing'): boolean {
  return (rule === 'create' ? BUCKET_NAME_CREATE : BUCKET_NAME_EXISTING).test(name);
}

/** Why a key is not a valid object key, or undefined when it is. */
export type ObjectKeyProblem = 'empty' | 'nul' | 'too-long' | 'leading-slash';

/** 1–1023 UTF-8 bytes, not starting with `/` or `\`, no NUL (NUL fits no file system nor XML body). */
export function objectKeyProblem(key: string): ObjectKeyProblem | undefined {
  if (key === '') return 'empty';
  if (key.includes('\0')) return 'nul';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return 'too-long';
  if (key.startsWith('/') || key.startsWith('\\')) return 'leading-slash';
  return undefined;
}

/** OSS's answer for a bad bucket name: 400 InvalidBucketName naming it. */
export function checkBucketName(name: string, rule: BucketNameRule = 'existing'): void {
  if (!isValidBucketName(name, rule)) fail('InvalidBucketName', undefined, { BucketName: name });
}

/** OSS's answer for a bad object key: 400 InvalidObjectName with the message OSS uses for each case. */
export function checkObjectKey(key: string): void {
  switch (objectKeyProblem(key)) {
    case undefined:
      return;
    case 'empty':
      return fail('InvalidObjectName', 'The object name must not be empty.');
    case 'nul':
      // Not echoed: a NUL cannot be written into the XML error body.
      return fail('InvalidObjectName', 'The object name must not contain a NUL character.');
    case 'too-long':
      return fail('InvalidObjectName', 'The Length of Object name must be less than 1024');
    case 'leading-slash':
      return fail('InvalidObjectName', 'The object name must not start with "/" or "\\".', { Key: key });
  }
}
