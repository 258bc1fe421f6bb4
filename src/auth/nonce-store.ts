/**
 * RPC signature nonces seen recently (spec/imm.md §1.4: an (AccessKeyId, SignatureNonce) pair must not repeat
 * within 15 minutes). Kept in the database, not in memory, so every process serving the same database
 * refuses a replay that another one accepted.
 */
import type { Db } from '../db/connection.js';

/** Purge at most this often by count or by time, whichever comes first; expired rows are harmless meanwhile. */
const PURGE_EVERY_CALLS = 1000;
const PURGE_EVERY_MS = 60_000;

export class NonceStore {
  private calls = 0;
  private lastPurge = -Infinity;

  constructor(private readonly db: Db) {}

  /** false if (ak, nonce) was already seen and not expired */
  async remember(accessKeyId: string, nonce: string, now: Date, ttlMs = 15 * 60_000): Promise<boolean> {
    const t = now.getTime();
    this.calls++;
    if (this.calls >= PURGE_EVERY_CALLS || t - this.lastPurge >= PURGE_EVERY_MS) await this.purgeExpired(now);
    // One statement, decided by the primary key: of two concurrent requests with the same nonce exactly one
    // inserts (or revives an expired row); the other updates nothing and is the replay.
    const r = await this.db
      .insertInto('request_nonces')
      .values({ access_key_id: accessKeyId, nonce, expires_at: t + ttlMs })
      .onConflict((oc) =>
        oc
          .columns(['access_key_id', 'nonce'])
          .doUpdateSet((eb) => ({ expires_at: eb.ref('excluded.expires_at') }))
          .where('request_nonces.expires_at', '<=', t),
      )
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async purgeExpired(now: Date): Promise<number> {
    const t = now.getTime();
    this.calls = 0;
    this.lastPurge = t;
    const r = await this.db.deleteFrom('request_nonces').where('expires_at', '<=', t).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
