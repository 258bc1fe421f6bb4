/**
 * Scoped access keys kept in the database, so every node on one PostgreSQL (or every process on one SQLite
 * data dir) knows the same keys. Managed by `medley keys`; served to the signature verifiers from an
 * in-memory cache refreshed every couple of seconds (the verifiers' lookup is synchronous).
 *
 * Secrets are stored as they are: HMAC verification (OSS V1/V4, RPC, MNS) needs the plaintext secret, so a
 * hash would not do, and encrypting with a key from the environment would only move the secret that matters
 * into every node's (and every CLI run's) environment. Protect the database like `credentials.json`.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/connection.js';
import { isValidBucketName } from '../storage/names.js';
import type { Credential } from './credentials.js';
import type { BucketGrant } from './policy.js';

export const ACCESS_KEY_ID_PATTERN = /^[A-Za-z0-9_.-]{8,128}$/;
/** How often each node re-reads the keys: an added or revoked key is in force everywhere within this. */
export const KEY_REFRESH_MS = 2000;

export class KeyStoreError extends Error {}

export interface StoredKeyInfo {
  accessKeyId: string;
  grants: Record<string, BucketGrant>;
  createdAt: Date;
}

/** `media-in=read` → ['media-in', 'read']; the message names what is wrong. */
export function parseBucketGrant(text: string): [string, BucketGrant] {
  const eq = text.lastIndexOf('=');
  if (eq <= 0) throw new KeyStoreError(`--bucket ${text}: expected <bucket>=read or <bucket>=read-write`);
  const bucket = text.slice(0, eq);
  const grant = text.slice(eq + 1);
  if (!isValidBucketName(bucket)) throw new KeyStoreError(`--bucket ${text}: "${bucket}" is not a valid bucket name`);
  if (grant !== 'read' && grant !== 'read-write') throw new KeyStoreError(`--bucket ${text}: the grant must be read or read-write, not "${grant}"`);
  return [bucket, grant];
}

/** A 30-character random secret (base64url, ~180 bits), the shape of an AccessKeySecret. */
export function generateSecret(): string {
  return randomBytes(23).toString('base64url').slice(0, 30);
}

function parseGrants(text: string): Record<string, BucketGrant> {
  try {
    const g = JSON.parse(text) as Record<string, unknown>;
    const out: Record<string, BucketGrant> = {};
    for (const [b, v] of Object.entries(g)) if (v === 'read' || v === 'read-write') out[b] = v;
    return out;
  } catch {
    // A damaged row grants nothing rather than stopping the server.
    return {};
  }
}

export class KeyStore {
  constructor(private readonly db: Db) {}

  /** Adds a key; refuses a malformed id or secret and an id already stored. */
  async add(accessKeyId: string, secret: string, grants: Record<string, BucketGrant>): Promise<void> {
    if (!ACCESS_KEY_ID_PATTERN.test(accessKeyId)) throw new KeyStoreError(`the AccessKeyId "${accessKeyId}" must be 8-128 characters of A-Z a-z 0-9 _ . -`);
    if (secret.length < 16 || secret.length > 256) throw new KeyStoreError('the secret must be 16-256 characters');
    for (const b of Object.keys(grants)) if (!isValidBucketName(b)) throw new KeyStoreError(`"${b}" is not a valid bucket name`);
    const inserted = await this.db
      .insertInto('access_keys')
      .values({ access_key_id: accessKeyId, secret, grants: JSON.stringify(grants), created_at: Date.now() })
      .onConflict((oc) => oc.column('access_key_id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) throw new KeyStoreError(`the AccessKeyId ${accessKeyId} already exists`);
  }

  /** Removes a key; false when there was none. */
  async revoke(accessKeyId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('access_keys').where('access_key_id', '=', accessKeyId).executeTakeFirst();
    // Its web console sessions end now (every node would refuse them anyway once its key cache refreshes).
    await this.db.deleteFrom('console_sessions').where('access_key_id', '=', accessKeyId).execute();
    return Number(r.numDeletedRows) > 0;
  }

  /** Everything but the secrets, by id. */
  async list(): Promise<StoredKeyInfo[]> {
    const rows = await this.db.selectFrom('access_keys').select(['access_key_id', 'grants', 'created_at']).orderBy('access_key_id').execute();
    return rows.map((r) => ({ accessKeyId: r.access_key_id, grants: parseGrants(r.grants), createdAt: new Date(Number(r.created_at)) }));
  }

  async show(accessKeyId: string): Promise<StoredKeyInfo | undefined> {
    return (await this.list()).find((k) => k.accessKeyId === accessKeyId);
  }

  /** With secrets: what the verifiers need. */
  async credentials(): Promise<Credential[]> {
    const rows = await this.db.selectFrom('access_keys').select(['access_key_id', 'secret', 'grants']).execute();
    return rows.map((r) => ({ accessKeyId: r.access_key_id, secret: r.secret, grants: parseGrants(r.grants) }));
  }
}

/**
 * The stored keys in memory, re-read every `refreshMs`. A failed refresh keeps the last good set (a brief
 * database outage must not lock every scoped key out) and is reported through `onError`.
 */
export class KeyCache {
  private keys = new Map<string, Credential>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: KeyStore,
    private readonly opts: { refreshMs?: number; onError?: (err: unknown) => void } = {},
  ) {}

  get(accessKeyId: string): Credential | undefined {
    return this.keys.get(accessKeyId);
  }

  async refresh(): Promise<void> {
    this.running ??= this.store
      .credentials()
      .then((list) => {
        this.keys = new Map(list.map((k) => [k.accessKeyId, k]));
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** Loads once (errors propagate: a server must not start blind), then refreshes in the background. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch((err: unknown) => this.opts.onError?.(err)), this.opts.refreshMs ?? KEY_REFRESH_MS);
    this.timer.unref();
  }

  /** Stops refreshing and waits for a refresh in flight (call before closing the database). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
