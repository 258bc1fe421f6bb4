/**
 * Web console sessions and the sign-in rate limit, held in this process's memory.
 *
 * A session is a random id (the HttpOnly cookie) bound to an AccessKeyId and a digest of the secret it was
 * opened with, so it ends when the key is removed or its secret rotated (checked on every request by
 * `resolve`), at sign-out, and after `ttlMs`. The secret itself is never kept. Scale-out (several `medley
 * serve` behind one address) needs these rows in the database; until then a user signs in per process.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CredentialLookup } from '../../auth/credentials.js';
import { constantTimeEqual } from '../../auth/credentials.js';
import type { Principal } from '../../auth/policy.js';

export interface Session {
  id: string;
  accessKeyId: string;
  /** sha256 of the secret the session was opened with. */
  secretDigest: string;
  /** The double-submit CSRF token (also in a readable cookie; state-changing calls send it as a header). */
  csrf: string;
  expiresAt: number;
}

const digest = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');
const token = (): string => randomBytes(32).toString('base64url');

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly lookup: CredentialLookup,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Checks the pair against the key lookup (the secret compared in constant time); undefined when wrong. */
  open(accessKeyId: string, secret: string): Session | undefined {
    const cred = this.lookup(accessKeyId);
    // Temporary (STS) credentials need their token on every request: they do not open console sessions.
    if (!cred || cred.securityToken !== undefined || !constantTimeEqual(cred.secret, secret)) return undefined;
    this.sweep();
    const s: Session = { id: token(), accessKeyId, secretDigest: digest(secret), csrf: token(), expiresAt: this.now() + this.ttlMs };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session and the principal it acts as (the key's grants as they are now), or undefined. */
  resolve(id: string | undefined): { session: Session; principal: Principal } | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const cred = this.lookup(s.accessKeyId);
    if (s.expiresAt <= this.now() || !cred || !constantTimeEqual(digest(cred.secret), s.secretDigest) || (cred.expiresAt && cred.expiresAt.getTime() <= this.now())) {
      this.sessions.delete(id);
      return undefined;
    }
    return { session: s, principal: { kind: 'signed', accessKeyId: s.accessKeyId, grants: cred.grants } };
  }

  close(id: string): void {
    this.sessions.delete(id);
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= t) this.sessions.delete(id);
  }
}

/** Failed sign-ins per client address: at most `max` in any `windowMs`. */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the address may try again, or 0 when it may now. */
  retryAfter(address: string): number {
    const recent = this.recent(address);
    if (recent.length < this.max) return 0;
    return Math.max(1, Math.ceil((recent[0]! + this.windowMs - this.now()) / 1000));
  }

  fail(address: string): void {
    const recent = this.recent(address);
    recent.push(this.now());
    this.failures.set(address, recent);
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
  }

  private recent(address: string): number[] {
    const t = this.now() - this.windowMs;
    const list = (this.failures.get(address) ?? []).filter((x) => x > t);
    if (list.length === 0) this.failures.delete(address);
    return list;
  }
}
