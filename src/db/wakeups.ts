/**
 * Wake-ups between the parts of Medley that wait for work: idle workers (a task was queued), MNS long polls
 * (a message became receivable in a queue), the outbox dispatcher (a task notification was written) and
 * the push deliverer (push rows were added). A wake-up only shortens a wait: every waiter still polls the
 * database (MEDLEY_POLL_MS and the loops' own intervals), so a lost wake-up delays work, never loses it.
 *
 * On SQLite every process shares one file on one machine and the in-process emitter is what there was
 * before. On PostgreSQL the nodes are separate processes, possibly on separate machines: a notification is
 * also sent with `pg_notify('medley_<channel>', …)` and every node LISTENs on a dedicated connection. The
 * listener reconnects with backoff when its connection drops, and a reconnect wakes every subscriber
 * (anything sent while it was away was missed).
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { dialectOf } from './dialect.js';

/** tasks: a task was queued. mns: a message may be receivable (payload: queue name). outbox, push: rows to handle. */
export type WakeupChannel = 'tasks' | 'mns' | 'outbox' | 'push';
const CHANNELS: readonly WakeupChannel[] = ['tasks', 'mns', 'outbox', 'push'];

/** `payload` undefined means "anything on this channel may have changed" (e.g. after a reconnect). */
export type WakeupListener = (payload: string | undefined) => void;

export interface Wakeups {
  /** Wakes the channel's subscribers on every node, this one included. Call it after the change committed. */
  notify(channel: WakeupChannel, payload?: string): void;
  /**
   * The same, for a change made in the open transaction `tx`: delivered once it commits where the database
   * can do that (PostgreSQL queues the notification with the transaction), else right after the current
   * turn of the event loop.
   */
  notifyInTx(tx: Kysely<never> | Kysely<unknown> | object, channel: WakeupChannel, payload?: string): Promise<void>;
  /** Returns the unsubscribe function. Listeners run synchronously from notify on this node. */
  subscribe(channel: WakeupChannel, fn: WakeupListener): () => void;
  close(): Promise<void>;
}

/** One node only: an emitter, as the in-process signals were. */
export class LocalWakeups implements Wakeups {
  protected readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  notify(channel: WakeupChannel, payload?: string): void {
    this.emitter.emit(channel, payload);
  }

  notifyInTx(_tx: object, channel: WakeupChannel, payload?: string): Promise<void> {
    setImmediate(() => this.notify(channel, payload));
    return Promise.resolve();
  }

  subscribe(channel: WakeupChannel, fn: WakeupListener): () => void {
    const listener = (p: string | undefined) => fn(p);
    this.emitter.on(channel, listener);
    return () => this.emitter.off(channel, listener);
  }

  /** Every subscriber of every channel, with "anything may have changed". */
  protected wakeEverything(): void {
    for (const c of CHANNELS) this.emitter.emit(c, undefined);
  }

  close(): Promise<void> {
    this.emitter.removeAllListeners();
    return Promise.resolve();
  }
}

/** PostgreSQL channel names: fixed, so never quoted from input. */
export function pgChannel(channel: WakeupChannel): string {
  return `medley_${channel}`;
}

/**
 * The wire payload: `<sender node id> <payload>`. The sender's own listener skips what it already delivered
 * in-process; `*` as the sender (notifyInTx) means "deliver here too", since nothing was delivered before
 * the commit. PostgreSQL limits a payload to 8000 bytes; queue names are far below that.
 */
export function encodeWakeup(sender: string, payload: string | undefined): string {
  return payload === undefined ? sender : `${sender} ${payload}`;
}

export function decodeWakeup(raw: string | undefined): { sender: string; payload: string | undefined } {
  const s = raw ?? '';
  const i = s.indexOf(' ');
  return i < 0 ? { sender: s, payload: undefined } : { sender: s.slice(0, i), payload: s.slice(i + 1) };
}

export interface PostgresWakeupsOptions {
  url: string;
  /** Sends the notifications (the application's pool; the listener connection only listens). */
  db: Kysely<never> | Kysely<unknown> | object;
  log: Logger;
  /** Reconnect backoff bounds (defaults 100 ms .. 5 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class PostgresWakeups extends LocalWakeups {
  /** This node's id on the wire (random per process). */
  readonly nodeId = randomBytes(6).toString('hex');
  private client: pg.Client | undefined;
  private closed = false;
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Set once a listener connection is up: every later connect is a reconnect (wakes everything). */
  private connectedOnce = false;

  constructor(private readonly opts: PostgresWakeupsOptions) {
    super();
    this.backoffMs = opts.minBackoffMs ?? 100;
  }

  /** Connects the listener; when that fails, keeps retrying in the background (polling still works). */
  async start(): Promise<void> {
    await this.connect();
  }

  override notify(channel: WakeupChannel, payload?: string): void {
    super.notify(channel, payload);
    this.send(this.opts.db, channel, encodeWakeup(this.nodeId, payload)).catch((err: unknown) => this.opts.log.warn({ err, channel }, 'could not send a wake-up to the other nodes'));
  }

  override async notifyInTx(tx: object, channel: WakeupChannel, payload?: string): Promise<void> {
    await this.send(tx, channel, encodeWakeup('*', payload));
  }

  private async send(db: object, channel: WakeupChannel, wire: string): Promise<void> {
    await sql`select pg_notify(${pgChannel(channel)}, ${wire})`.execute(db as Kysely<unknown>);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    // Loaded here, not at start: the embedded (SQLite) default never needs the driver.
    const { default: driver } = await import('pg');
    const client = new driver.Client({ connectionString: this.opts.url, application_name: 'medley-wakeups', connectionTimeoutMillis: 5000, keepAlive: true });
    let dropped = false;
    const lost = (err?: unknown) => {
      if (dropped) return;
      dropped = true;
      if (this.client === client) this.client = undefined;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (this.closed) return;
      this.opts.log.warn({ err, retryMs: this.backoffMs }, 'the wake-up listener lost its database connection; reconnecting');
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (msg) => {
      const channel = CHANNELS.find((c) => pgChannel(c) === msg.channel);
      if (!channel) return;
      const { sender, payload } = decodeWakeup(msg.payload);
      if (sender === this.nodeId) return; // delivered in-process already
      super.notify(channel, payload);
    });
    try {
      await client.connect();
      for (const c of CHANNELS) await client.query(`LISTEN ${pgChannel(c)}`);
    } catch (err) {
      lost(err);
      return;
    }
    if (this.closed) {
      dropped = true;
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.backoffMs = this.opts.minBackoffMs ?? 100;
    if (this.connectedOnce) {
      this.opts.log.info('the wake-up listener is connected again');
      this.wakeEverything();
    }
    this.connectedOnce = true;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 5000);
    // Something may have been sent while no listener was connected: treat reconnecting as a wake-up,
    // whether or not the first connection ever succeeded.
    this.connectedOnce = true;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, wait);
    this.reconnectTimer.unref();
  }

  /** Test hook: whether the listener connection is up. */
  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Test hook: the listener's backend pid (to terminate it from another connection). */
  async listenerPid(): Promise<number | undefined> {
    const r = await this.client?.query<{ pid: number }>('select pg_backend_pid() as pid');
    return r?.rows[0]?.pid;
  }

  override async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const c = this.client;
    this.client = undefined;
    if (c) {
      c.removeAllListeners('end');
      c.removeAllListeners('notification');
      c.on('error', () => undefined);
      await c.end().catch(() => undefined);
    }
    await super.close();
  }
}

/** The wake-ups for `db`'s dialect: PostgreSQL LISTEN/NOTIFY across nodes, or in-process on SQLite. */
export async function openWakeups(db: object, url: string | undefined, log: Logger): Promise<Wakeups> {
  if (dialectOf(db) !== 'postgres' || url === undefined) return new LocalWakeups();
  const w = new PostgresWakeups({ url, db, log: log.child({ component: 'wakeups' }) });
  await w.start();
  return w;
}
