/**
 * The message service (Simple Message Queue, formerly MNS): queues, messages, topics, subscriptions and
 * publishing, over the SQL index (tables mns_*). No HTTP here: src/http/mns is the wire dialect.
 *
 * Semantics follow the cloud service:
 * - A message is Delayed (dequeue_count 0, next_visible_at in the future), Active (next_visible_at <= now)
 *   or Inactive (received, next_visible_at = end of its visibility timeout). Receiving claims Active
 *   messages in one conditional UPDATE (priority 1 first, then FIFO) and gives each a new receipt handle.
 * - A receipt handle is valid until the message's next visible time; after that (or once superseded by a
 *   later receive or ChangeMessageVisibility) DeleteMessage answers MessageNotExist, as MNS documents.
 *   A handle Medley never issued is ReceiptHandleError.
 * - Retention: a message is gone `MessageRetentionPeriod` after it was sent, received or not. Expired
 *   rows are never returned and are purged lazily.
 * - Long polling waits on a wake-up (src/db/wakeups.ts: a send or publish on any node sharing the
 *   database wakes the waiters at once) and re-reads the database every POLL_MS for messages becoming
 *   visible or whose wake-up was lost; every wait ends by its deadline.
 * - Publishing fans out inside one transaction: queue subscriptions get a message in their queue, HTTP
 *   subscriptions a `mns_pushes` row for the push deliverer.
 */
import { isDbUnavailable } from '../db/errors.js';
import { claimSerially } from '../db/dialect.js';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { LocalWakeups, type Wakeups } from '../db/wakeups.js';
import { sql, type Selectable, type Transaction, type Updateable } from 'kysely';
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import type { Database, MnsMessageTable, MnsQueueTable, MnsSubscriptionTable, MnsTopicTable } from '../db/schema.js';
import { fail, isMedleyError } from '../errors.js';
import type { Publisher, PublishInput, PublishResult } from './types.js';
import { md5HexUpper } from '../util/text.js';
import { formatNotification } from './mns/formats.js';
import { newMessageId, newReceiptHandle, receiptHandleMessageId } from './mns/ids.js';
import { DEFAULT_PRIORITY, MAX_BATCH, MAX_BATCH_BODY_BYTES, MAX_LIST, MAX_NAME_LENGTH, MAX_TAG_LENGTH, MESSAGE_RANGES, NOTIFY_CONTENT_FORMATS, NOTIFY_STRATEGIES, POLL_MS, QUEUE_RANGES, TOPIC_RANGES, type NotifyContentFormat, type NotifyStrategy, type Range } from './mns/limits.js';

export * from './mns/limits.js';
export { newMessageId, receiptHandleMessageId } from './mns/ids.js';

export { formatNotification, MNS_XML_NAMESPACE, type NotificationFields } from './mns/formats.js';

type Tx = Transaction<Database>;
type Executor = Db | Tx;
type QueueRow = Selectable<MnsQueueTable>;
type MessageRow = Selectable<MnsMessageTable>;
type TopicRow = Selectable<MnsTopicTable>;
type SubscriptionRow = Selectable<MnsSubscriptionTable>;

// ---------------------------------------------------------------------------------------------------------------
// Limits and defaults (MNS API reference)
// ---------------------------------------------------------------------------------------------------------------

// In ./mns/limits.ts.

// ---------------------------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------------------------

export interface QueueAttributes {
  delaySeconds: number;
  maximumMessageSize: number;
  messageRetentionPeriod: number;
  visibilityTimeout: number;
  pollingWaitSeconds: number;
  loggingEnabled: boolean;
}

export const QUEUE_DEFAULTS: Readonly<QueueAttributes> = {
  delaySeconds: 0,
  maximumMessageSize: 65536,
  messageRetentionPeriod: 345600,
  visibilityTimeout: 30,
  pollingWaitSeconds: 0,
  loggingEnabled: false,
};

export interface QueueInfo extends QueueAttributes {
  name: string;
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
}

export interface QueueStats {
  activeMessages: number;
  inactiveMessages: number;
  delayMessages: number;
}

export interface TopicAttributes {
  maximumMessageSize: number;
  loggingEnabled: boolean;
}

export const TOPIC_DEFAULTS: Readonly<TopicAttributes> = { maximumMessageSize: 65536, loggingEnabled: false };

export interface TopicInfo extends TopicAttributes {
  name: string;
  createdAt: number;
  updatedAt: number;
  /** Messages published but not yet delivered to every HTTP subscriber. */
  messageCount: number;
}

export interface SubscriptionInput {
  endpoint: string;
  notifyStrategy?: string;
  notifyContentFormat?: string;
  filterTag?: string;
}

export interface SubscriptionInfo {
  topic: string;
  name: string;
  endpoint: string;
  notifyStrategy: NotifyStrategy;
  notifyContentFormat: NotifyContentFormat;
  filterTag: string;
  createdAt: number;
  updatedAt: number;
}

export interface SendInput {
  body: string;
  /** Default: the queue's DelaySeconds. */
  delaySeconds?: number;
  /** 1 (highest) .. 16; default 8. */
  priority?: number;
}

export interface SendResult {
  messageId: string;
  messageBodyMd5: string;
  /** Only for a delayed message: lets the sender delete it or change its visibility before it is due. */
  receiptHandle?: string;
}

export interface QueueMessage {
  messageId: string;
  body: string;
  bodyMd5: string;
  priority: number;
  /** Epoch ms. */
  enqueueTime: number;
  /** Epoch ms; 0 when never received. */
  firstDequeueTime: number;
  dequeueCount: number;
  nextVisibleTime: number;
  /** Set by receive (the handle of this receive). */
  receiptHandle?: string;
}

export interface BatchDeleteFailure {
  receiptHandle: string;
  errorCode: string;
  errorMessage: string;
}

export interface ListOptions {
  prefix?: string;
  marker?: string;
  /** 1..1000, default 1000. */
  limit?: number;
}

export interface Page<T> {
  items: T[];
  /** The marker of the next page (the first name not returned); undefined on the last page. */
  nextMarker?: string;
}

export interface ReceiveOptions {
  /** 1..16 (default 1). */
  max?: number;
  /** 0..30; default the queue's PollingWaitSeconds. */
  waitSeconds?: number;
  /** Ends the wait early (the client went away, the server is closing). */
  signal?: AbortSignal;
}

export interface MnsServiceOptions {
  /** Account id: TopicOwner/Subscriber in notifications, the account of acs:mns queue endpoints. */
  accountId: string;
  region: string;
  /** PublishMessage/publishInTx on a missing topic creates it (default false: TopicNotExist). */
  autoCreateTopics?: boolean;
  /** Clock for message times (tests). Waits always use real time. */
  now?: () => Date;
  /** Long-poll database re-read interval (default POLL_MS). */
  pollMs?: number;
  /** Wake-ups shared with the other nodes (default in-process only): long polls wake on any node's send. */
  wakeups?: Wakeups;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------



function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

/** Queue, topic and subscription names: 1-256 letters, digits and hyphens, not starting with a hyphen. */
export function checkName(kind: 'queue' | 'topic' | 'subscription', name: string): void {
  const length = { queue: 'MnsQueueNameLengthError', topic: 'MnsTopicNameLengthError', subscription: 'MnsSubscriptionNameLengthError' } as const;
  const invalid = { queue: 'MnsInvalidQueueName', topic: 'MnsTopicNameInvalid', subscription: 'MnsSubscriptionNameInvalid' } as const;
  if (name.length < 1 || name.length > MAX_NAME_LENGTH) fail(length[kind]);
  if (!NAME_RE.test(name)) fail(invalid[kind], `The ${kind} name "${name}" is invalid: use letters, digits and hyphens, starting with a letter or digit.`);
}

/** InvalidArgument in MNS's words unless `value` is an integer in range. */
export function checkRange(element: string, value: number, range: Range): void {
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    const unit = element === 'Priority' || element === 'numOfMessages' ? '' : ` ${range.unit}`;
    fail('MnsInvalidArgument', `The value of ${element} should between ${range.min} and ${range.max}${unit}.`);
  }
}

function checkQueueAttributes(a: Partial<QueueAttributes>): void {
  if (a.delaySeconds !== undefined) checkRange('DelaySeconds', a.delaySeconds, QUEUE_RANGES.DelaySeconds);
  if (a.maximumMessageSize !== undefined) checkRange('MaximumMessageSize', a.maximumMessageSize, QUEUE_RANGES.MaximumMessageSize);
  if (a.messageRetentionPeriod !== undefined) checkRange('MessageRetentionPeriod', a.messageRetentionPeriod, QUEUE_RANGES.MessageRetentionPeriod);
  if (a.visibilityTimeout !== undefined) checkRange('VisibilityTimeout', a.visibilityTimeout, QUEUE_RANGES.VisibilityTimeout);
  if (a.pollingWaitSeconds !== undefined) checkRange('PollingWaitSeconds', a.pollingWaitSeconds, QUEUE_RANGES.PollingWaitSeconds);
}

function checkTopicAttributes(a: Partial<TopicAttributes>): void {
  if (a.maximumMessageSize !== undefined) checkRange('MaximumMessageSize', a.maximumMessageSize, TOPIC_RANGES.MaximumMessageSize);
}

function checkTag(element: 'MessageTag' | 'FilterTag', tag: string): void {
  if (tag.length > MAX_TAG_LENGTH) fail('MnsInvalidArgument', `The length of ${element} should be between 1 and ${MAX_TAG_LENGTH}.`);
}

function queueInfo(r: QueueRow): QueueInfo {
  return {
    name: r.name,
    delaySeconds: r.delay_seconds,
    maximumMessageSize: r.maximum_message_size,
    messageRetentionPeriod: r.message_retention_period,
    visibilityTimeout: r.visibility_timeout,
    pollingWaitSeconds: r.polling_wait_seconds,
    loggingEnabled: r.logging_enabled !== 0,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function sameQueueAttributes(a: QueueAttributes, b: QueueAttributes): boolean {
  return (
    a.delaySeconds === b.delaySeconds &&
    a.maximumMessageSize === b.maximumMessageSize &&
    a.messageRetentionPeriod === b.messageRetentionPeriod &&
    a.visibilityTimeout === b.visibilityTimeout &&
    a.pollingWaitSeconds === b.pollingWaitSeconds &&
    a.loggingEnabled === b.loggingEnabled
  );
}

function toMessage(r: MessageRow, withHandle: boolean): QueueMessage {
  const m: QueueMessage = {
    messageId: r.id,
    body: r.body,
    bodyMd5: r.body_md5,
    priority: r.priority,
    enqueueTime: Number(r.enqueued_at),
    firstDequeueTime: r.first_dequeued_at === null ? 0 : Number(r.first_dequeued_at),
    dequeueCount: r.dequeue_count,
    nextVisibleTime: Number(r.next_visible_at),
  };
  if (withHandle && r.receipt_handle !== null) m.receiptHandle = r.receipt_handle;
  return m;
}

function subscriptionInfo(r: SubscriptionRow): SubscriptionInfo {
  return {
    topic: r.topic,
    name: r.name,
    endpoint: r.endpoint,
    notifyStrategy: r.notify_strategy as NotifyStrategy,
    notifyContentFormat: r.notify_content_format as NotifyContentFormat,
    filterTag: r.filter_tag,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function listLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_LIST;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) fail('MnsInvalidArgument', `The value of x-mns-ret-number should between 1 and ${MAX_LIST}.`);
  return limit;
}

/**
 * The queue an `acs:mns:<region>:<account>:queues/<queue>` endpoint (or its URL form
 * `http(s)://<account>.mns.<region>.aliyuncs.com/queues/<queue>`) names, with the account it belongs to;
 * undefined for any other endpoint.
 */
export function parseQueueEndpoint(endpoint: string): { queue: string; accountId: string; region: string } | undefined {
  const acs = /^acs:mns:([^:/]*):([^:/]*):queues\/([^/?#]+)$/.exec(endpoint);
  if (acs) return { region: acs[1]!, accountId: acs[2]!, queue: acs[3]! };
  const url = /^https?:\/\/(\d+)\.mns\.([a-z0-9-]+)(?:\.[a-z0-9.-]+)?(?::\d+)?\/queues\/([^/?#]+)\/?$/i.exec(endpoint);
  if (url) return { accountId: url[1]!, region: url[2]!, queue: url[3]! };
  return undefined;
}

/** The queue name of a queue endpoint; undefined for anything else (HTTP endpoints). */
export function queueEndpointName(endpoint: string): string | undefined {
  return parseQueueEndpoint(endpoint)?.queue;
}

/** `acs:mns:<region>:<account>:queues/<queue>`. */
export function queueEndpoint(region: string, accountId: string, queue: string): string {
  return `acs:mns:${region}:${accountId}:queues/${queue}`;
}

function isHttpEndpoint(endpoint: string): boolean {
  if (!/^https?:\/\//i.test(endpoint)) return false;
  try {
    const u = new URL(endpoint);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}


// ---------------------------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------------------------

export class MnsService implements Publisher {
  readonly accountId: string;
  readonly region: string;
  private readonly autoCreateTopics: boolean;
  private readonly clock: () => Date;
  private readonly pollMs: number;
  /** Wake-ups: event = queue name (a message may be receivable); 'push' (mns_pushes rows were added). */
  private readonly signal = new EventEmitter();
  private readonly lastPurge = new Map<string, number>();
  private readonly closing = new AbortController();
  private readonly wakeups: Wakeups;
  private readonly offWakeups: () => void;

  constructor(
    private readonly db: Db,
    opts: MnsServiceOptions,
  ) {
    this.accountId = opts.accountId;
    this.region = opts.region;
    this.autoCreateTopics = opts.autoCreateTopics ?? false;
    this.clock = opts.now ?? (() => new Date());
    this.pollMs = opts.pollMs ?? POLL_MS;
    this.signal.setMaxListeners(0);
    this.wakeups = opts.wakeups ?? new LocalWakeups();
    // Undefined payload (the listener reconnected): any queue may have messages.
    const offMns = this.wakeups.subscribe('mns', (queue) => {
      if (queue !== undefined) this.signal.emit(`queue:${queue}`);
      else for (const e of this.signal.eventNames()) if (typeof e === 'string' && e.startsWith('queue:')) this.signal.emit(e);
    });
    const offPush = this.wakeups.subscribe('push', () => this.signal.emit('push'));
    this.offWakeups = () => {
      offMns();
      offPush();
    };
  }

  /** The service as `medley serve` configures it (MEDLEY_ACCOUNT_ID, MEDLEY_REGION, MEDLEY_MNS_AUTO_CREATE_TOPICS). */
  static fromConfig(db: Db, config: Pick<Config, 'accountId' | 'region' | 'mnsAutoCreateTopics'>, wakeups?: Wakeups): MnsService {
    return new MnsService(db, { accountId: config.accountId, region: config.region, autoCreateTopics: config.mnsAutoCreateTopics, wakeups });
  }

  /** Ends every long poll now (they answer with what they have: nothing). */
  close(): void {
    this.closing.abort();
    this.offWakeups();
  }

  /** Called (asynchronously) whenever mns_pushes rows were added in this process; returns an unsubscribe. */
  onPush(listener: () => void): () => void {
    this.signal.on('push', listener);
    return () => this.signal.off('push', listener);
  }

  private nowMs(): number {
    return this.clock().getTime();
  }

  /** After the commit that made a message receivable in queue `name` (on every node). */
  private wakeQueue(name: string): void {
    this.wakeups.notify('mns', name);
  }

  private wakePush(): void {
    this.wakeups.notify('push');
  }

  // ----- queues ------------------------------------------------------------------------------------------------

  /**
   * CreateQueue. `created: false` when the queue exists with the same attributes (MNS 204); a queue with
   * other attributes is QueueAlreadyExist. Unspecified attributes take the MNS defaults.
   */
  async createQueue(name: string, attrs: Partial<QueueAttributes> = {}): Promise<{ created: boolean }> {
    checkName('queue', name);
    checkQueueAttributes(attrs);
    const want: QueueAttributes = { ...QUEUE_DEFAULTS, ...stripUndefined(attrs) };
    const now = this.nowMs();
    const r = await this.db
      .insertInto('mns_queues')
      .values({
        name,
        delay_seconds: want.delaySeconds,
        maximum_message_size: want.maximumMessageSize,
        message_retention_period: want.messageRetentionPeriod,
        visibility_timeout: want.visibilityTimeout,
        polling_wait_seconds: want.pollingWaitSeconds,
        logging_enabled: want.loggingEnabled ? 1 : 0,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0n) === 1) return { created: true };
    const existing = await this.findQueue(this.db, name);
    if (existing && sameQueueAttributes(queueInfo(existing), want)) return { created: false };
    return fail('MnsQueueAlreadyExist', `The queue you want to create is already exist: "${name}" has other attributes.`);
  }

  /** DeleteQueue, with its messages. Deleting a missing queue succeeds (idempotent). */
  async deleteQueue(name: string): Promise<void> {
    checkName('queue', name);
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('mns_queues').where('name', '=', name).execute();
      await tx.deleteFrom('mns_messages').where('queue', '=', name).execute();
    });
    this.lastPurge.delete(name);
    this.wakeQueue(name);
  }

  async getQueue(name: string): Promise<QueueInfo & QueueStats> {
    const q = await this.requireQueue(name);
    await this.purgeExpired(name, true);
    return { ...queueInfo(q), ...(await this.queueStats(name)) };
  }

  /** SetQueueAttributes: changes only what is given. */
  async setQueueAttributes(name: string, attrs: Partial<QueueAttributes>): Promise<void> {
    checkName('queue', name);
    checkQueueAttributes(attrs);
    const set: Updateable<MnsQueueTable> = { updated_at: this.nowMs() };
    if (attrs.delaySeconds !== undefined) set.delay_seconds = attrs.delaySeconds;
    if (attrs.maximumMessageSize !== undefined) set.maximum_message_size = attrs.maximumMessageSize;
    if (attrs.messageRetentionPeriod !== undefined) set.message_retention_period = attrs.messageRetentionPeriod;
    if (attrs.visibilityTimeout !== undefined) set.visibility_timeout = attrs.visibilityTimeout;
    if (attrs.pollingWaitSeconds !== undefined) set.polling_wait_seconds = attrs.pollingWaitSeconds;
    if (attrs.loggingEnabled !== undefined) set.logging_enabled = attrs.loggingEnabled ? 1 : 0;
    const r = await this.db.updateTable('mns_queues').set(set).where('name', '=', name).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) fail('MnsQueueNotExist');
  }

  /** ListQueue, by name. `withStats` adds the message counts (x-mns-with-meta). */
  async listQueues(opts: ListOptions = {}, withStats = false): Promise<Page<QueueInfo & Partial<QueueStats>>> {
    const limit = listLimit(opts.limit);
    let q = this.db.selectFrom('mns_queues').selectAll().orderBy('name').limit(limit + 1);
    if (opts.prefix) q = q.where(sql<boolean>`substr(name, 1, ${opts.prefix.length}) = ${opts.prefix}`);
    if (opts.marker) q = q.where('name', '>=', opts.marker);
    const rows = await q.execute();
    const page = rows.slice(0, limit);
    const items: (QueueInfo & Partial<QueueStats>)[] = [];
    for (const r of page) items.push(withStats ? { ...queueInfo(r), ...(await this.queueStats(r.name)) } : queueInfo(r));
    return { items, nextMarker: rows.length > limit ? rows[limit]!.name : undefined };
  }

  private async findQueue(ex: Executor, name: string): Promise<QueueRow | undefined> {
    return ex.selectFrom('mns_queues').selectAll().where('name', '=', name).executeTakeFirst();
  }

  private async requireQueue(name: string): Promise<QueueRow> {
    checkName('queue', name);
    const q = await this.findQueue(this.db, name);
    if (!q) fail('MnsQueueNotExist', `The queue name you provided is not exist: "${name}".`);
    return q;
  }

  private async queueStats(name: string): Promise<QueueStats> {
    const now = this.nowMs();
    const r = await this.db
      .selectFrom('mns_messages')
      .select([
        sql<number>`coalesce(sum(case when next_visible_at <= ${now} then 1 else 0 end), 0)`.as('active'),
        sql<number>`coalesce(sum(case when next_visible_at > ${now} and dequeue_count > 0 then 1 else 0 end), 0)`.as('inactive'),
        sql<number>`coalesce(sum(case when next_visible_at > ${now} and dequeue_count = 0 then 1 else 0 end), 0)`.as('delayed'),
      ])
      .where('queue', '=', name)
      .where('expires_at', '>', now)
      .executeTakeFirstOrThrow();
    return { activeMessages: Number(r.active), inactiveMessages: Number(r.inactive), delayMessages: Number(r.delayed) };
  }

  /** Deletes messages past retention; at most once a second per queue unless forced. */
  private async purgeExpired(queue: string, force = false): Promise<void> {
    const now = this.nowMs();
    const last = this.lastPurge.get(queue) ?? 0;
    if (!force && now - last < 1000 && now >= last) return;
    this.lastPurge.set(queue, now);
    await this.db.deleteFrom('mns_messages').where('queue', '=', queue).where('expires_at', '<=', now).execute();
  }

  /** Deletes every message past retention (housekeeping); returns how many. */
  async purgeAllExpired(): Promise<number> {
    const r = await this.db.deleteFrom('mns_messages').where('expires_at', '<=', this.nowMs()).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // ----- messages ----------------------------------------------------------------------------------------------

  private checkSend(q: QueueRow, input: SendInput): void {
    if (input.body.length === 0) fail('MnsInvalidArgument', 'The MessageBody should not be empty.');
    if (byteLength(input.body) > q.maximum_message_size) {
      fail('MnsInvalidArgument', `The length of message should not be larger than MaximumMessageSize (${q.maximum_message_size} bytes).`);
    }
    if (input.delaySeconds !== undefined) checkRange('DelaySeconds', input.delaySeconds, MESSAGE_RANGES.DelaySeconds);
    if (input.priority !== undefined) checkRange('Priority', input.priority, MESSAGE_RANGES.Priority);
  }

  private async insertMessage(ex: Executor, q: QueueRow, input: SendInput, now: number): Promise<SendResult> {
    const id = newMessageId(now);
    const md5 = md5HexUpper(input.body);
    const delay = input.delaySeconds ?? q.delay_seconds;
    const handle = delay > 0 ? newReceiptHandle(id) : null;
    await ex
      .insertInto('mns_messages')
      .values({
        id,
        queue: q.name,
        body: input.body,
        body_md5: md5,
        priority: input.priority ?? DEFAULT_PRIORITY,
        enqueued_at: now,
        first_dequeued_at: null,
        dequeue_count: 0,
        next_visible_at: now + delay * 1000,
        receipt_handle: handle,
        expires_at: now + q.message_retention_period * 1000,
      })
      .execute();
    return handle === null ? { messageId: id, messageBodyMd5: md5 } : { messageId: id, messageBodyMd5: md5, receiptHandle: handle };
  }

  /** SendMessage. */
  async sendMessage(queue: string, input: SendInput): Promise<SendResult> {
    const q = await this.requireQueue(queue);
    this.checkSend(q, input);
    const res = await this.insertMessage(this.db, q, input, this.nowMs());
    this.wakeQueue(queue);
    return res;
  }

  /** BatchSendMessage: 1-16 messages, bodies ≤ 64 KiB in all; all or nothing. */
  async sendMessages(queue: string, inputs: SendInput[]): Promise<SendResult[]> {
    const q = await this.requireQueue(queue);
    if (inputs.length < 1 || inputs.length > MAX_BATCH) fail('MnsInvalidArgument', `The count of messages should between 1 and ${MAX_BATCH}.`);
    for (const m of inputs) this.checkSend(q, m);
    const total = inputs.reduce((n, m) => n + byteLength(m.body), 0);
    if (total > MAX_BATCH_BODY_BYTES) fail('MnsInvalidArgument', `The total size of the messages should not be larger than ${MAX_BATCH_BODY_BYTES} bytes.`);
    const now = this.nowMs();
    const out = await this.db.transaction().execute(async (tx) => {
      const results: SendResult[] = [];
      for (const m of inputs) results.push(await this.insertMessage(tx, q, m, now));
      return results;
    });
    this.wakeQueue(queue);
    return out;
  }

  /**
   * Claims up to `max` Active messages (priority 1 first, then oldest): one conditional UPDATE, so two
   * receivers (or processes) never get the same message. Each gets a new receipt handle.
   */
  private async claim(q: QueueRow, max: number): Promise<QueueMessage[]> {
    await this.purgeExpired(q.name);
    const now = this.nowMs();
    const suffix = randomBytes(8).toString('hex');
    const rows = await claimSerially(this.db, (db) => db
      .updateTable('mns_messages')
      .set((eb) => ({
        next_visible_at: now + q.visibility_timeout * 1000,
        dequeue_count: eb('dequeue_count', '+', 1),
        first_dequeued_at: eb.fn.coalesce('first_dequeued_at', sql.lit(now)),
        receipt_handle: sql<string>`${'1-'} || id || ${`-${suffix}`}`,
      }))
      .where(
        'id',
        'in',
        db
          .selectFrom('mns_messages')
          .select('id')
          .where('queue', '=', q.name)
          .where('next_visible_at', '<=', now)
          .where('expires_at', '>', now)
          .orderBy('priority')
          .orderBy('enqueued_at')
          .orderBy('id')
          .limit(max),
      )
      // Re-checked so two claimers racing for the same rows cannot both win.
      .where('queue', '=', q.name)
      .where('next_visible_at', '<=', now)
      .where('expires_at', '>', now)
      .returningAll()
      .execute());
    rows.sort((a, b) => a.priority - b.priority || Number(a.enqueued_at) - Number(b.enqueued_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return rows.map((r) => toMessage(r, true));
  }

  /**
   * ReceiveMessage / BatchReceiveMessage with long polling: returns as soon as at least one message is
   * claimed, or [] when the wait (waitSeconds, else the queue's PollingWaitSeconds) ends empty.
   */
  async receiveMessages(queue: string, opts: ReceiveOptions = {}): Promise<QueueMessage[]> {
    const max = opts.max ?? 1;
    checkRange('numOfMessages', max, MESSAGE_RANGES.BatchSize);
    if (opts.waitSeconds !== undefined) checkRange('waitseconds', opts.waitSeconds, MESSAGE_RANGES.WaitSeconds);
    let q = await this.requireQueue(queue);
    const waitMs = (opts.waitSeconds ?? q.polling_wait_seconds) * 1000;
    const deadline = Date.now() + waitMs;
    // A database outage during the wait does not end the long poll: it keeps polling until the wait ends,
    // then answers 503 (the dialect maps the error) if the database is still unreachable.
    let down: unknown;
    for (;;) {
      let got: QueueMessage[] = [];
      try {
        got = await this.claim(q, max);
        down = undefined;
      } catch (e) {
        if (!isDbUnavailable(e) || Date.now() >= deadline) throw e;
        down = e;
      }
      if (got.length > 0) return got;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || opts.signal?.aborted || this.closing.signal.aborted) {
        if (down !== undefined) throw down;
        return [];
      }
      await this.waitForWake(queue, Math.min(remaining, this.pollMs), opts.signal);
      let again: Awaited<ReturnType<typeof this.findQueue>>;
      try {
        again = await this.findQueue(this.db, queue);
      } catch (e) {
        if (!isDbUnavailable(e)) throw e;
        down = e;
        continue;
      }
      if (!again) fail('MnsQueueNotExist', `The queue name you provided is not exist: "${queue}".`);
      q = again;
    }
  }

  private waitForWake(queue: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const event = `queue:${queue}`;
      const done = (): void => {
        clearTimeout(timer);
        this.signal.off(event, done);
        signal?.removeEventListener('abort', done);
        this.closing.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.signal.on(event, done);
      signal?.addEventListener('abort', done);
      this.closing.signal.addEventListener('abort', done);
    });
  }

  /** PeekMessage / BatchPeekMessage: the next Active messages, unchanged. */
  async peekMessages(queue: string, max = 1): Promise<QueueMessage[]> {
    checkRange('numOfMessages', max, MESSAGE_RANGES.BatchSize);
    await this.requireQueue(queue);
    await this.purgeExpired(queue);
    const now = this.nowMs();
    const rows = await this.db
      .selectFrom('mns_messages')
      .selectAll()
      .where('queue', '=', queue)
      .where('next_visible_at', '<=', now)
      .where('expires_at', '>', now)
      .orderBy('priority')
      .orderBy('enqueued_at')
      .orderBy('id')
      .limit(max)
      .execute();
    return rows.map((r) => toMessage(r, false));
  }

  /**
   * DeleteMessage. ReceiptHandleError for a handle Medley never issued; MessageNotExist when the handle is
   * no longer the message's current one (visibility timeout over, received again, already deleted).
   */
  async deleteMessage(queue: string, receiptHandle: string): Promise<void> {
    await this.requireQueue(queue);
    await this.deleteByHandle(queue, receiptHandle);
  }

  private async deleteByHandle(queue: string, receiptHandle: string): Promise<void> {
    if (receiptHandle === '') fail('MnsMissingReceiptHandle');
    const id = receiptHandleMessageId(receiptHandle);
    const now = this.nowMs();
    const r = await this.db
      .deleteFrom('mns_messages')
      .where('id', '=', id)
      .where('queue', '=', queue)
      .where('receipt_handle', '=', receiptHandle)
      .where('next_visible_at', '>', now)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) !== 1) fail('MnsMessageNotExist', 'Message not exist or the receipt handle has expired.');
  }

  /** BatchDeleteMessage (≤ 16 handles): the failures, [] when every message was deleted. */
  async deleteMessages(queue: string, receiptHandles: string[]): Promise<BatchDeleteFailure[]> {
    await this.requireQueue(queue);
    if (receiptHandles.length < 1 || receiptHandles.length > MAX_BATCH) fail('MnsInvalidArgument', `The count of receipt handles should between 1 and ${MAX_BATCH}.`);
    const failures: BatchDeleteFailure[] = [];
    for (const h of receiptHandles) {
      try {
        await this.deleteByHandle(queue, h);
      } catch (e) {
        if (!isMedleyError(e)) throw e;
        failures.push({ receiptHandle: h, errorCode: e.code, errorMessage: e.message });
      }
    }
    return failures;
  }

  /** ChangeMessageVisibility: the message becomes visible `visibilityTimeout` s from now; returns its new handle. */
  async changeMessageVisibility(queue: string, receiptHandle: string, visibilityTimeout: number): Promise<{ receiptHandle: string; nextVisibleTime: number }> {
    await this.requireQueue(queue);
    if (receiptHandle === '') fail('MnsMissingReceiptHandle');
    checkRange('VisibilityTimeout', visibilityTimeout, MESSAGE_RANGES.VisibilityTimeout);
    const id = receiptHandleMessageId(receiptHandle);
    const now = this.nowMs();
    const next = now + visibilityTimeout * 1000;
    const handle = newReceiptHandle(id);
    const r = await this.db
      .updateTable('mns_messages')
      .set({ next_visible_at: next, receipt_handle: handle })
      .where('id', '=', id)
      .where('queue', '=', queue)
      .where('receipt_handle', '=', receiptHandle)
      .where('next_visible_at', '>', now)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) fail('MnsMessageNotExist', 'Message not exist or the receipt handle has expired.');
    return { receiptHandle: handle, nextVisibleTime: next };
  }

  // ----- topics ------------------------------------------------------------------------------------------------

  /** CreateTopic; `created: false` for an existing topic with the same attributes (204), else TopicAlreadyExist. */
  async createTopic(name: string, attrs: Partial<TopicAttributes> = {}): Promise<{ created: boolean }> {
    checkName('topic', name);
    checkTopicAttributes(attrs);
    const want: TopicAttributes = { ...TOPIC_DEFAULTS, ...stripUndefined(attrs) };
    const inserted = await this.insertTopic(this.db, name, want, this.nowMs());
    if (inserted) return { created: true };
    const existing = await this.db.selectFrom('mns_topics').selectAll().where('name', '=', name).executeTakeFirst();
    if (existing && existing.maximum_message_size === want.maximumMessageSize && (existing.logging_enabled !== 0) === want.loggingEnabled) return { created: false };
    return fail('MnsTopicAlreadyExist', `The topic you want to create is already exist: "${name}" has other attributes.`);
  }

  private async insertTopic(ex: Executor, name: string, a: TopicAttributes, now: number): Promise<boolean> {
    const r = await ex
      .insertInto('mns_topics')
      .values({ name, maximum_message_size: a.maximumMessageSize, logging_enabled: a.loggingEnabled ? 1 : 0, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** DeleteTopic, with its subscriptions and undelivered pushes. Deleting a missing topic succeeds. */
  async deleteTopic(name: string): Promise<void> {
    checkName('topic', name);
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('mns_topics').where('name', '=', name).execute();
      await tx.deleteFrom('mns_subscriptions').where('topic', '=', name).execute();
      await tx.deleteFrom('mns_pushes').where('topic', '=', name).where('state', '=', 'pending').execute();
    });
  }

  private async requireTopic(ex: Executor, name: string): Promise<TopicRow> {
    checkName('topic', name);
    const t = await ex.selectFrom('mns_topics').selectAll().where('name', '=', name).executeTakeFirst();
    if (!t) fail('MnsTopicNotExist', `The topic name you provided is not exist: "${name}".`);
    return t;
  }

  private async topicInfo(t: TopicRow): Promise<TopicInfo> {
    const c = await this.db
      .selectFrom('mns_pushes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('topic', '=', t.name)
      .where('state', '=', 'pending')
      .executeTakeFirstOrThrow();
    return {
      name: t.name,
      maximumMessageSize: t.maximum_message_size,
      loggingEnabled: t.logging_enabled !== 0,
      createdAt: Number(t.created_at),
      updatedAt: Number(t.updated_at),
      messageCount: Number(c.n),
    };
  }

  async getTopic(name: string): Promise<TopicInfo> {
    return this.topicInfo(await this.requireTopic(this.db, name));
  }

  async setTopicAttributes(name: string, attrs: Partial<TopicAttributes>): Promise<void> {
    checkName('topic', name);
    checkTopicAttributes(attrs);
    const set: Updateable<MnsTopicTable> = { updated_at: this.nowMs() };
    if (attrs.maximumMessageSize !== undefined) set.maximum_message_size = attrs.maximumMessageSize;
    if (attrs.loggingEnabled !== undefined) set.logging_enabled = attrs.loggingEnabled ? 1 : 0;
    const r = await this.db.updateTable('mns_topics').set(set).where('name', '=', name).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) fail('MnsTopicNotExist');
  }

  async listTopics(opts: ListOptions = {}): Promise<Page<TopicInfo>> {
    const limit = listLimit(opts.limit);
    let q = this.db.selectFrom('mns_topics').selectAll().orderBy('name').limit(limit + 1);
    if (opts.prefix) q = q.where(sql<boolean>`substr(name, 1, ${opts.prefix.length}) = ${opts.prefix}`);
    if (opts.marker) q = q.where('name', '>=', opts.marker);
    const rows = await q.execute();
    const items: TopicInfo[] = [];
    for (const r of rows.slice(0, limit)) items.push(await this.topicInfo(r));
    return { items, nextMarker: rows.length > limit ? rows[limit]!.name : undefined };
  }

  // ----- subscriptions -----------------------------------------------------------------------------------------

  /** Validated, defaulted subscription attributes. */
  private subscriptionValues(input: SubscriptionInput): { endpoint: string; notify_strategy: NotifyStrategy; notify_content_format: NotifyContentFormat; filter_tag: string } {
    const endpoint = input.endpoint.trim();
    if (endpoint === '') fail('MnsEndpointInvalid', 'The Endpoint is required.');
    const queue = parseQueueEndpoint(endpoint);
    if (queue) {
      if (queue.accountId !== this.accountId) fail('MnsEndpointInvalid', `The queue endpoint belongs to account ${queue.accountId}; this service is account ${this.accountId}.`);
      checkName('queue', queue.queue);
    } else if (!isHttpEndpoint(endpoint)) {
      fail('MnsEndpointInvalid', `The endpoint "${endpoint.slice(0, 200)}" is not supported: use acs:mns:<region>:<account>:queues/<queue> or an http(s) URL.`);
    }
    const strategy = input.notifyStrategy === undefined || input.notifyStrategy === '' ? 'BACKOFF_RETRY' : input.notifyStrategy;
    if (!(NOTIFY_STRATEGIES as readonly string[]).includes(strategy)) fail('MnsInvalidArgument', `The NotifyStrategy should be one of ${NOTIFY_STRATEGIES.join(', ')}.`);
    const format = input.notifyContentFormat === undefined || input.notifyContentFormat === '' ? 'XML' : input.notifyContentFormat;
    if (!(NOTIFY_CONTENT_FORMATS as readonly string[]).includes(format)) fail('MnsInvalidArgument', `The NotifyContentFormat should be one of ${NOTIFY_CONTENT_FORMATS.join(', ')}.`);
    const tag = input.filterTag ?? '';
    checkTag('FilterTag', tag);
    return { endpoint, notify_strategy: strategy as NotifyStrategy, notify_content_format: format as NotifyContentFormat, filter_tag: tag };
  }

  /** Subscribe; `created: false` for an identical existing subscription (204), else SubscriptionAlreadyExist. */
  async subscribe(topic: string, name: string, input: SubscriptionInput): Promise<{ created: boolean }> {
    checkName('topic', topic);
    checkName('subscription', name);
    const v = this.subscriptionValues(input);
    const now = this.nowMs();
    return this.db.transaction().execute(async (tx) => {
      await this.requireTopic(tx, topic);
      const r = await tx
        .insertInto('mns_subscriptions')
        .values({ topic, name, ...v, created_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(['topic', 'name']).doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0n) === 1) return { created: true };
      const s = await tx.selectFrom('mns_subscriptions').selectAll().where('topic', '=', topic).where('name', '=', name).executeTakeFirstOrThrow();
      if (s.endpoint === v.endpoint && s.notify_strategy === v.notify_strategy && s.notify_content_format === v.notify_content_format && s.filter_tag === v.filter_tag) {
        return { created: false };
      }
      return fail('MnsSubscriptionAlreadyExist', `The subscription you want to create is already exist: "${name}" has other attributes.`);
    });
  }

  /** Unsubscribe (idempotent), dropping its undelivered pushes. */
  async unsubscribe(topic: string, name: string): Promise<void> {
    checkName('topic', topic);
    checkName('subscription', name);
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('mns_subscriptions').where('topic', '=', topic).where('name', '=', name).execute();
      await tx.deleteFrom('mns_pushes').where('topic', '=', topic).where('subscription', '=', name).where('state', '=', 'pending').execute();
    });
  }

  async getSubscription(topic: string, name: string): Promise<SubscriptionInfo> {
    await this.requireTopic(this.db, topic);
    checkName('subscription', name);
    const s = await this.db.selectFrom('mns_subscriptions').selectAll().where('topic', '=', topic).where('name', '=', name).executeTakeFirst();
    if (!s) fail('MnsSubscriptionNotExist', `The subscription name you provided is not exist: "${name}".`);
    return subscriptionInfo(s);
  }

  /** SetSubscriptionAttributes: only NotifyStrategy can change (as on MNS). */
  async setSubscriptionAttributes(topic: string, name: string, attrs: { notifyStrategy?: string }): Promise<void> {
    const cur = await this.getSubscription(topic, name);
    const strategy = attrs.notifyStrategy === undefined || attrs.notifyStrategy === '' ? cur.notifyStrategy : attrs.notifyStrategy;
    if (!(NOTIFY_STRATEGIES as readonly string[]).includes(strategy)) fail('MnsInvalidArgument', `The NotifyStrategy should be one of ${NOTIFY_STRATEGIES.join(', ')}.`);
    await this.db
      .updateTable('mns_subscriptions')
      .set({ notify_strategy: strategy, updated_at: this.nowMs() })
      .where('topic', '=', topic)
      .where('name', '=', name)
      .execute();
  }

  async listSubscriptions(topic: string, opts: ListOptions = {}): Promise<Page<SubscriptionInfo>> {
    await this.requireTopic(this.db, topic);
    const limit = listLimit(opts.limit);
    let q = this.db.selectFrom('mns_subscriptions').selectAll().where('topic', '=', topic).orderBy('name').limit(limit + 1);
    if (opts.prefix) q = q.where(sql<boolean>`substr(name, 1, ${opts.prefix.length}) = ${opts.prefix}`);
    if (opts.marker) q = q.where('name', '>=', opts.marker);
    const rows = await q.execute();
    return { items: rows.slice(0, limit).map(subscriptionInfo), nextMarker: rows.length > limit ? rows[limit]!.name : undefined };
  }

  // ----- publishing --------------------------------------------------------------------------------------------

  /** PublishMessage: validates the message, then fans out in its own transaction. */
  async publish(topic: string, input: { body: string; tag?: string }): Promise<PublishResult> {
    if (input.body.length === 0) fail('MnsInvalidArgument', 'The MessageBody should not be empty.');
    const now = this.clock();
    const touched = new Set<string>();
    let pushes = 0;
    const res = await this.db.transaction().execute(async (tx) => {
      const r = await this.fanOut(tx, { topic, body: input.body, tag: input.tag ?? '' }, now, true);
      r.queues.forEach((q) => touched.add(q));
      pushes = r.pushes;
      return r.result;
    });
    for (const q of touched) this.wakeQueue(q);
    if (pushes > 0) this.wakePush();
    return res;
  }

  /** Publisher: fans out inside the caller's transaction (the outbox dispatcher's). */
  async publishInTx(tx: Tx, input: PublishInput, now: Date): Promise<PublishResult> {
    const r = await this.fanOut(tx, { topic: input.topic, body: input.body, tag: input.tag ?? '' }, now, false);
    // The rows are visible once the caller commits: PostgreSQL delivers the notifications at that commit;
    // in-process (one SQLite connection) a woken receiver's query waits for it.
    for (const q of r.queues) await this.wakeups.notifyInTx(tx, 'mns', q);
    if (r.pushes > 0) await this.wakeups.notifyInTx(tx, 'push');
    return r.result;
  }

  private async fanOut(tx: Tx, input: { topic: string; body: string; tag: string }, now: Date, strictName: boolean): Promise<{ result: PublishResult; queues: string[]; pushes: number }> {
    if (strictName) checkName('topic', input.topic);
    else {
      // A name that cannot be a topic names no topic (and cannot be created on demand).
      try {
        checkName('topic', input.topic);
      } catch {
        fail('MnsTopicNotExist', `The topic name you provided is not exist: "${input.topic}".`);
      }
    }
    checkTag('MessageTag', input.tag);
    const nowMs = now.getTime();
    let topic = await tx.selectFrom('mns_topics').selectAll().where('name', '=', input.topic).executeTakeFirst();
    if (!topic) {
      if (!this.autoCreateTopics) fail('MnsTopicNotExist', `The topic name you provided is not exist: "${input.topic}".`);
      await this.insertTopic(tx, input.topic, TOPIC_DEFAULTS, nowMs);
      topic = await this.requireTopic(tx, input.topic);
    }
    if (byteLength(input.body) > topic.maximum_message_size) {
      fail('MnsInvalidArgument', `The length of message should not be larger than MaximumMessageSize (${topic.maximum_message_size} bytes).`);
    }
    const messageId = newMessageId(nowMs);
    const md5 = md5HexUpper(input.body);
    const subs = await tx.selectFrom('mns_subscriptions').selectAll().where('topic', '=', input.topic).orderBy('name').execute();
    const queues: string[] = [];
    let pushes = 0;
    for (const s of subs) {
      if (s.filter_tag !== '' && s.filter_tag !== input.tag) continue;
      const target = parseQueueEndpoint(s.endpoint);
      if (target) {
        const q = await this.findQueue(tx, target.queue);
        // A subscription whose queue is gone delivers nothing (MNS drops it after its retries).
        if (!q) continue;
        const body = formatNotification(s.notify_content_format, {
          topicOwner: this.accountId,
          topicName: input.topic,
          subscriber: this.accountId,
          subscriptionName: s.name,
          messageId,
          message: input.body,
          messageTag: input.tag,
          publishTime: nowMs,
        });
        await this.insertMessage(tx, q, { body }, nowMs);
        queues.push(q.name);
      } else if (isHttpEndpoint(s.endpoint)) {
        await tx
          .insertInto('mns_pushes')
          .values({
            topic: input.topic,
            subscription: s.name,
            endpoint: s.endpoint,
            notify_strategy: s.notify_strategy,
            notify_content_format: s.notify_content_format,
            message_id: messageId,
            message_body: input.body,
            message_tag: input.tag,
            published_at: nowMs,
            attempts: 0,
            next_attempt_at: nowMs,
            state: 'pending',
            last_error: '',
            lease_owner: null,
            lease_expires_at: null,
          })
          .execute();
        pushes++;
      }
    }
    return { result: { messageId, messageBodyMd5: md5 }, queues, pushes };
  }

  // ----- push deliveries (the web console's view) ----------------------------------------------------------------

  /**
   * HTTP push deliveries, newest first: attempts so far, state (pending | delivered | failed) and the last
   * error. Paged by id (`before`: the `next` of the previous page), so a long history is never read whole.
   */
  async listPushes(opts: { topic?: string; state?: string; before?: number; limit?: number } = {}): Promise<{ items: PushDeliveryInfo[]; next?: number }> {
    const limit = Math.min(Math.max(opts.limit ?? 50, 1), 200);
    let q = this.db
      .selectFrom('mns_pushes')
      .select(['id', 'topic', 'subscription', 'endpoint', 'message_id', 'message_tag', 'published_at', 'attempts', 'next_attempt_at', 'state', 'last_error'])
      .orderBy('id', 'desc')
      .limit(limit + 1);
    if (opts.topic) q = q.where('topic', '=', opts.topic);
    if (opts.state) q = q.where('state', '=', opts.state);
    if (opts.before !== undefined) q = q.where('id', '<', opts.before);
    const rows = await q.execute();
    const items = rows.slice(0, limit).map((r) => ({
      id: Number(r.id),
      topic: r.topic,
      subscription: r.subscription,
      endpoint: r.endpoint,
      messageId: r.message_id,
      messageTag: r.message_tag,
      publishedAt: Number(r.published_at),
      attempts: Number(r.attempts),
      nextAttemptAt: Number(r.next_attempt_at),
      state: r.state,
      lastError: r.last_error,
    }));
    return { items, next: rows.length > limit ? items.at(-1)!.id : undefined };
  }
}

export interface PushDeliveryInfo {
  id: number;
  topic: string;
  subscription: string;
  endpoint: string;
  messageId: string;
  messageTag: string;
  publishedAt: number;
  attempts: number;
  nextAttemptAt: number;
  state: string;
  lastError: string;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
