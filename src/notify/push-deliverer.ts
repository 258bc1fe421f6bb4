/**
 * Delivers MNS HTTP pushes (spec/oss.md §6.2): every `mns_pushes` row is one topic message for one HTTP
 * subscription. The deliverer claims due rows with a lease (one conditional UPDATE, so two processes on
 * the database never send the same row at once), POSTs them signed, and records the outcome fenced on
 * its lease: a 2xx answer ⇒ `delivered`; anything else ⇒ retried per the subscription's NotifyStrategy
 * until the cap, then `failed` with the last error.
 *
 * Requests use node:http/https with a deadline over the whole exchange, and at most `concurrency` run at
 * once, so a slow or hanging endpoint delays only its own rows.
 */
import { retryWhileUnavailable } from '../db/errors.js';
import { BackgroundLoop } from '../db/background-loop.js';
import { claimSerially } from '../db/dialect.js';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { hostname } from 'node:os';
import { sql, type Selectable } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../db/connection.js';
import type { MnsPushTable } from '../db/schema.js';
import { signPush } from './push-signing.js';
import { md5HexUpper } from '../util/text.js';
import { formatNotification, notificationContentType } from './mns/formats.js';
import { isProcessAlive } from '../util/process.js';

export type PushRow = Selectable<MnsPushTable>;

/** Retry schedule of EXPONENTIAL_DECAY_RETRY: the delay doubles from baseMs up to maxMs. */
export interface ExponentialPolicy {
  baseMs: number;
  maxMs: number;
  /** Total delivery attempts (the first one included) before the row is `failed`. */
  maxAttempts: number;
}

/** Retry schedule of BACKOFF_RETRY: a random delay in [minMs, maxMs] between attempts. */
export interface BackoffRetryPolicy {
  minMs: number;
  maxMs: number;
  /** Total delivery attempts (the first one included) before the row is `failed`. */
  maxAttempts: number;
}

/**
 * MNS: intervals 1, 2, 4 ... 512 s, then 512 s; 176 attempts reach ~23.8 h after the first (≈ a day).
 */
export const DEFAULT_EXPONENTIAL: ExponentialPolicy = { baseMs: 1000, maxMs: 512_000, maxAttempts: 176 };
/** MNS: 3 retries, 10-20 s apart. */
export const DEFAULT_BACKOFF_RETRY: BackoffRetryPolicy = { minMs: 10_000, maxMs: 20_000, maxAttempts: 4 };

export interface RetryPolicies {
  exponential: ExponentialPolicy;
  backoffRetry: BackoffRetryPolicy;
}

/**
 * After `attempts` failed attempts of a row with this strategy: the delay before the next attempt, or
 * undefined when the cap is reached. Unknown strategies follow BACKOFF_RETRY (the MNS default).
 */
export function retryDelayMs(strategy: string, attempts: number, p: RetryPolicies, random: () => number = Math.random): number | undefined {
  if (strategy === 'EXPONENTIAL_DECAY_RETRY') {
    if (attempts >= p.exponential.maxAttempts) return undefined;
    return Math.min(p.exponential.maxMs, p.exponential.baseMs * 2 ** Math.min(Math.max(0, attempts - 1), 40));
  }
  if (attempts >= p.backoffRetry.maxAttempts) return undefined;
  return Math.round(p.backoffRetry.minMs + random() * (p.backoffRetry.maxMs - p.backoffRetry.minMs));
}


export interface PushContext {
  /** TopicOwner and Subscriber. */
  accountId: string;
}

export interface FormattedPush {
  body: string;
  contentType: string;
}

/** The request body in the subscription's NotifyContentFormat (XML, JSON, SIMPLIFIED): the one formatter of mns/formats.ts. */
export function formatPushBody(row: PushRow, ctx: PushContext): FormattedPush {
  const body = formatNotification(row.notify_content_format, {
    topicOwner: ctx.accountId,
    topicName: row.topic,
    subscriber: ctx.accountId,
    subscriptionName: row.subscription,
    messageId: row.message_id,
    message: row.message_body,
    messageTag: row.message_tag,
    publishTime: Number(row.published_at),
  });
  return { body, contentType: notificationContentType(row.notify_content_format) };
}

/** The request target: the endpoint's path and query; an endpoint without a path gets `/notifications`. */
export function pushTarget(endpoint: string): { url: URL; path: string } {
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`not an HTTP endpoint: ${endpoint}`);
  const hasPath = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*\//i.test(endpoint);
  const path = `${hasPath ? url.pathname : '/notifications'}${url.search}`;
  return { url, path };
}

export interface SignedPush {
  url: URL;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Everything sent for one attempt: body per format, the §6.2 headers, the signature. */
export function buildPushRequest(row: PushRow, opts: { accountId: string; privateKeyPem: string; certUrl: string; date: Date; requestId?: string }): SignedPush {
  const { url, path } = pushTarget(row.endpoint);
  const { body, contentType } = formatPushBody(row, { accountId: opts.accountId });
  const headers: Record<string, string> = {
    date: opts.date.toUTCString(),
    'content-type': contentType,
    'content-md5': md5HexUpper(body),
    'x-mns-version': '2015-06-06',
    'x-mns-request-id': opts.requestId ?? randomBytes(12).toString('hex').toUpperCase(),
    'x-mns-message-id': row.message_id,
    'x-mns-publish-time': String(Number(row.published_at)),
    'x-mns-signing-cert-url': Buffer.from(opts.certUrl, 'utf8').toString('base64'),
    'x-mns-topic-owner': opts.accountId,
    'x-mns-topic-name': row.topic,
    'x-mns-subscriber': opts.accountId,
    'x-mns-subscription-name': row.subscription,
  };
  if (row.notify_content_format === 'SIMPLIFIED') headers['x-mns-message-tag'] = row.message_tag;
  headers.authorization = signPush('POST', path, headers, opts.privateKeyPem);
  return { url, path, headers, body };
}

/** One POST; resolves with the status, rejects on connection errors and when `timeoutMs` runs out. */
function post(req: SignedPush, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(req.body, 'utf8');
    const mod = req.url.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (err: Error | undefined, status?: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(status ?? 0);
    };
    const r = mod.request(
      {
        protocol: req.url.protocol,
        hostname: req.url.hostname.replace(/^\[|\]$/g, ''),
        port: req.url.port || undefined,
        method: 'POST',
        path: req.path,
        headers: { ...req.headers, 'content-length': String(body.length), connection: 'close' },
        agent: false,
      },
      (res) => {
        // Drain (capped) so the exchange completes; only the status matters.
        let seen = 0;
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > 64 * 1024) res.destroy();
        });
        res.on('end', () => finish(undefined, res.statusCode ?? 0));
        res.on('close', () => finish(undefined, res.statusCode ?? 0));
        res.on('error', () => finish(undefined, res.statusCode ?? 0));
      },
    );
    const timer = setTimeout(() => {
      finish(new Error(`timed out after ${timeoutMs} ms`));
      r.destroy();
    }, timeoutMs);
    r.on('error', (e) => finish(e));
    r.end(body);
  });
}

export interface PushDelivererOptions {
  db: Db;
  log: Logger;
  signing: { privateKeyPem: string; certUrl: string };
  /** TopicOwner / Subscriber in headers and bodies. */
  accountId: string;
  /** How often to look for due rows written by other processes (default 1000 ms); `kick()` wakes it. */
  pollMs?: number;
  /** Per request, connect to response end (default 5000 ms, the MNS receiver contract). */
  timeoutMs?: number;
  /** EXPONENTIAL_DECAY_RETRY schedule (default DEFAULT_EXPONENTIAL). */
  backoff?: ExponentialPolicy;
  /** BACKOFF_RETRY schedule (default DEFAULT_BACKOFF_RETRY). */
  backoffRetry?: BackoffRetryPolicy;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** A claimed row is another deliverer's to take after this long (default timeoutMs + 30 s). */
  leaseMs?: number;
  /** Lease owner id (default host/pid/random). */
  owner?: string;
  now?: () => Date;
  /** Replaces the HTTP exchange (tests); resolves with the status code. */
  fetchImpl?: (req: SignedPush, timeoutMs: number) => Promise<number>;
}


export class PushDeliverer {
  private readonly db: Db;
  private readonly log: Logger;
  private readonly signing: { privateKeyPem: string; certUrl: string };
  private readonly accountId: string;
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  private readonly policies: RetryPolicies;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  readonly owner: string;
  private readonly now: () => Date;
  private readonly send: (req: SignedPush, timeoutMs: number) => Promise<number>;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly loop: BackgroundLoop;

  constructor(opts: PushDelivererOptions) {
    this.db = opts.db;
    this.log = opts.log;
    this.signing = opts.signing;
    this.accountId = opts.accountId;
    this.pollMs = opts.pollMs ?? 1000;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.policies = { exponential: opts.backoff ?? DEFAULT_EXPONENTIAL, backoffRetry: opts.backoffRetry ?? DEFAULT_BACKOFF_RETRY };
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    this.leaseMs = opts.leaseMs ?? this.timeoutMs + 30_000;
    this.owner = opts.owner ?? `push/${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
    this.now = opts.now ?? (() => new Date());
    this.send = opts.fetchImpl ?? post;
    this.loop = new BackgroundLoop({
      pass: () => this.pass(),
      pollMs: this.pollMs,
      log: this.log,
      messages: { unreachable: 'the database is unreachable: MNS pushes wait', failed: 'claiming MNS pushes failed; will retry', recovered: 'claiming MNS pushes works again' },
    });
  }

  start(): void {
    this.loop.start(() => this.releaseDeadOwners().then(
      () => undefined,
      (err: unknown) => this.log.warn({ err }, 'releasing pushes of dead deliverers failed'),
    ));
  }

  /**
   * Pushes leased by a deliverer of this machine whose process is gone (kill -9 mid-request) are made due
   * now rather than after their lease: the endpoint may have missed the request.
   */
  async releaseDeadOwners(alive: (pid: number) => boolean = isProcessAlive): Promise<number> {
    const host = hostname();
    const rows = await this.db.selectFrom('mns_pushes').select(['id', 'lease_owner']).where('state', '=', 'pending').where('lease_owner', 'is not', null).execute();
    let released = 0;
    for (const r of rows) {
      const [tag, h, pidText] = (r.lease_owner ?? '').split('/');
      const pid = Number(pidText);
      if (tag !== 'push' || h !== host || !Number.isInteger(pid) || pid <= 0) continue;
      // Same pid: a previous incarnation (pids repeat, e.g. pid 1 in containers) unless it is this deliverer.
      const dead = pid === process.pid ? r.lease_owner !== this.owner : !alive(pid);
      if (!dead) continue;
      await this.db.updateTable('mns_pushes').set({ lease_owner: null, lease_expires_at: null }).where('id', '=', r.id).where('lease_owner', '=', r.lease_owner).execute();
      released++;
    }
    if (released > 0) this.log.info({ pushes: released }, 'retrying pushes whose deliverer process died');
    return released;
  }

  /** Stops claiming; resolves when the requests in flight have finished and been recorded. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Look for due rows now (a message was just published in this process). */
  kick(): void {
    this.loop.kick();
  }

  /** Claims up to `limit` due rows for this deliverer (one statement: atomic against other deliverers). */
  private async claim(limit: number): Promise<PushRow[]> {
    const now = this.now().getTime();
    return claimSerially(this.db, (db) => {
      const due = db
        .selectFrom('mns_pushes')
        .select('id')
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]))
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(limit);
      return db
      .updateTable('mns_pushes')
      .set({ lease_owner: this.owner, lease_expires_at: now + this.leaseMs })
      .where('id', 'in', due)
      // Re-checked on the row itself so two claimers racing for it cannot both win.
      .where('state', '=', 'pending')
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]))
      .returningAll()
      .execute();
    });
  }

  /** Claims what the free slots can take; the next pass comes when a row is due or a request ends. */
  private async pass(): Promise<number> {
    const free = this.concurrency - this.inFlight.size;
    if (free > 0) for (const row of await this.claim(free)) this.launch(row);
    // When every slot is busy, a finishing request kicks the loop (launch) to claim more.
    return this.sleepMs();
  }

  private launch(row: PushRow): void {
    const p = this.deliver(row)
      .catch((e: unknown) => this.log.error({ err: e, pushId: row.id }, 'recording an MNS push outcome failed'))
      .finally(() => {
        this.inFlight.delete(p);
        if (this.loop.running) this.kick();
      });
    this.inFlight.add(p);
  }

  /** Until the next poll, or sooner when a pending row becomes due (and its lease, if any, has run out). */
  private async sleepMs(): Promise<number> {
    if (this.inFlight.size >= this.concurrency) return this.pollMs;
    try {
      const r = await this.db
        .selectFrom('mns_pushes')
        .select(sql<number | null>`min(CASE WHEN lease_expires_at IS NOT NULL AND lease_expires_at >= next_attempt_at THEN lease_expires_at + 1 ELSE next_attempt_at END)`.as('t'))
        .where('state', '=', 'pending')
        .executeTakeFirst();
      if (r?.t === null || r?.t === undefined) return this.pollMs;
      return Math.min(this.pollMs, Math.max(0, Number(r.t) - this.now().getTime()));
    } catch {
      return this.pollMs;
    }
  }

  /** One attempt for a claimed row, and its record. */
  private async deliver(row: PushRow): Promise<void> {
    try {
      pushTarget(row.endpoint);
    } catch (e) {
      // Not an HTTP(S) URL: no retry can help.
      const msg = e instanceof Error ? e.message : String(e);
      await this.record(row, { state: 'failed', last_error: msg });
      this.log.warn({ pushId: row.id, endpoint: row.endpoint }, `MNS push cannot be sent (${msg}); failed`);
      return;
    }
    let status: number | undefined;
    let error = '';
    try {
      const req = buildPushRequest(row, { accountId: this.accountId, privateKeyPem: this.signing.privateKeyPem, certUrl: this.signing.certUrl, date: this.now() });
      status = await this.send(req, this.timeoutMs);
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (e) {
      error = (e instanceof Error ? e.message || e.name : String(e)) || 'request failed';
    }
    if (!error) {
      await this.record(row, { state: 'delivered', last_error: '' });
      this.log.debug({ pushId: row.id, topic: row.topic, subscription: row.subscription, messageId: row.message_id, status }, 'MNS push delivered');
      return;
    }
    const attempts = Number(row.attempts) + 1;
    const delay = retryDelayMs(row.notify_strategy, attempts, this.policies);
    if (delay === undefined) {
      await this.record(row, { state: 'failed', last_error: error });
      this.log.warn({ pushId: row.id, endpoint: row.endpoint, attempts, error }, 'MNS push gave up after the last retry');
    } else {
      await this.record(row, { state: 'pending', last_error: error, next_attempt_at: this.now().getTime() + delay });
      this.log.info({ pushId: row.id, endpoint: row.endpoint, attempts, error, retryInMs: delay }, 'MNS push failed; will retry');
    }
  }

  /**
   * Records an attempt, fenced on our lease (a row we lost to another deliverer is left alone). While the
   * database is unreachable it retries (with backoff, within the lease): an unrecorded delivery would be
   * sent again once the lease runs out.
   */
  private async record(row: PushRow, set: { state: string; last_error: string; next_attempt_at?: number }): Promise<void> {
    // Stopping: give up (the lease runs out and the push is retried) rather than hold the shutdown.
    await retryWhileUnavailable(() => this.recordOnce(row, set), { untilMs: Date.now() + this.leaseMs, keepGoing: () => this.loop.running });
  }

  private async recordOnce(row: PushRow, set: { state: string; last_error: string; next_attempt_at?: number }): Promise<void> {
    const r = await this.db
      .updateTable('mns_pushes')
      .set((eb) => ({ ...set, attempts: eb('attempts', '+', 1), lease_owner: null, lease_expires_at: null }))
      .where('id', '=', row.id)
      .where('lease_owner', '=', this.owner)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) this.log.warn({ pushId: row.id }, 'MNS push lease was lost before its outcome was recorded');
  }
}
