/**
 * Web console sessions (in the database, so every `medley serve` node on one SQLite data dir or one
 * PostgreSQL shares them: a load balancer needs no sticky sessions, and a restart signs nobody out) and the
 * sign-in rate limit (per process, per client address).
 *
 * A session is a random id (the HttpOnly cookie); the table keeps only its sha256, bound to an AccessKeyId
 * and a digest of the secret it was opened with, so it ends when the key is removed or its secret rotated
 * (checked on every request by `resolve`), when `medley keys revoke` deletes the key (and its sessions),
 * at sign-out, and after `ttlMs`.
 * The secret itself is never kept.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../db/connection.js';
import type { CredentialLookup } from '../../auth/credentials.js';
import { constantTimeEqual } from '../../auth/credentials.js';
import type { Principal } from '../../auth/policy.js';

export interface Session {
  /** The cookie value; never stored (the table has its sha256). */
  id: string;
  accessKeyId: string;
  /** sha256 of the secret the session was opened with. */
  secretDigest: string;
  /** The double-submit CSRF token (also in a readable cookie; state-changing calls send it as a header). */
  csrf: string;
  expiresAt: number;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const token = (): string => randomBytes(32).toString('base64url');
/** Expired rows are deleted at most this often (by the node that opens a session). */
const SWEEP_EVERY_MS = 60_000;

export class SessionStore {
  private lastSweep = 0;

  constructor(
    private readonly db: Db,
    private readonly lookup: CredentialLookup,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Checks the pair against the key lookup (the secret compared in constant time); undefined when wrong. */
  async open(accessKeyId: string, secret: string): Promise<Session | undefined> {
    const cred = this.lookup(accessKeyId);
    // Temporary (STS) credentials need their token on every request: they do not open console sessions.
    if (!cred || cred.securityToken !== undefined || !constantTimeEqual(cred.secret, secret)) return undefined;
    await this.sweep();
    const now = this.now();
    const s: Session = { id: token(), accessKeyId, secretDigest: sha256(secret), csrf: token(), expiresAt: now + this.ttlMs };
    await this.db
      .insertInto('console_sessions')
      .values({ id_hash: sha256(s.id), access_key_id: accessKeyId, secret_digest: s.secretDigest, csrf: s.csrf, created_at: now, expires_at: s.expiresAt })
      .execute();
    return s;
  }

  /** The live session and the principal it acts as (the key's grants as they are now), or undefined. */
  async resolve(id: string | undefined): Promise<{ session: Session; principal: Principal } | undefined> {
    // A cookie value is 43 base64url characters: anything else is no session (and costs no query).
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const hash = sha256(id);
    const row = await this.db.selectFrom('console_sessions').selectAll().where('id_hash', '=', hash).executeTakeFirst();
    if (!row) return undefined;
    const cred = this.lookup(row.access_key_id);
    const now = this.now();
    if (Number(row.expires_at) <= now) {
      await this.db.deleteFrom('console_sessions').where('id_hash', '=', hash).execute();
      return undefined;
    }
    // Refused, but not deleted: this node's key cache may lag another's by a refresh (a key just added, a
    // secret just rotated there), so what it sees now is no reason to end the session everywhere. Revoking
    // a key deletes its sessions (KeyStore.revoke); a rotated-away session is refused on every node that
    // knows the new secret and is swept at its expiry.
    if (!cred || !constantTimeEqual(sha256(cred.secret), row.secret_digest) || (cred.expiresAt && cred.expiresAt.getTime() <= now)) return undefined;
    const session: Session = { id, accessKeyId: row.access_key_id, secretDigest: row.secret_digest, csrf: row.csrf, expiresAt: Number(row.expires_at) };
    return { session, principal: { kind: 'signed', accessKeyId: row.access_key_id, grants: cred.grants } };
  }

  async close(id: string): Promise<void> {
    await this.db.deleteFrom('console_sessions').where('id_hash', '=', sha256(id)).execute();
  }

  private async sweep(): Promise<void> {
    const t = this.now();
    if (t - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = t;
    await this.db.deleteFrom('console_sessions').where('expires_at', '<=', t).execute();
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
