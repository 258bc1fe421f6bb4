/**
 * Access keys as the signature verifiers see them, and the one comparison primitive they share.
 *
 * Where credentials come from (config file, database, STS issuer) is not this module's business: verifiers get a
 * `CredentialLookup` and stay pure.
 */
import { timingSafeEqual } from 'node:crypto';
import type { BucketGrant } from './policy.js';

export interface Credential {
  accessKeyId: string;
  /** AccessKeySecret: the HMAC key. Never logged, never echoed in errors. */
  secret: string;
  /** Set for temporary (STS) credentials: requests must carry this exact token (spec 2.6). */
  securityToken?: string;
  /** Temporary credentials stop working at this instant. */
  expiresAt?: Date;
  /** Per-bucket grants of a scoped key (see auth/policy.ts); undefined = the account's root key. */
  grants?: Readonly<Record<string, BucketGrant>>;
}

/** Resolves an AccessKeyId; `undefined` means "no such key" (→ InvalidAccessKeyId). */
export type CredentialLookup = (accessKeyId: string) => Credential | undefined;

/**
 * Compares two strings without leaking, through timing, how many leading bytes match.
 *
 * `timingSafeEqual` throws on buffers of different lengths, so unequal lengths are answered `false` up front:
 * that reveals only the length, which for signatures is public anyway (fixed by the algorithm).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ab.length !== bb.length) return false;
  return timingSafeEqual(ab, bb);
}
