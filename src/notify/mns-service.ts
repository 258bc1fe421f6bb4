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
import { LocalWakeups, type Wakeups } from '../db/wakeups.js';
import { sql, type Selectable } from 'kysely';
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import type { MnsSubscriptionTable } from '../db/schema.js';
import { fail } from '../errors.js';
import type { Publisher, PublishInput, PublishResult } from './types.js';
import { md5HexUpper } from '../util/text.js';
import { formatNotification } from './mns/formats.js';
import { newMessageId } from './mns/ids.js';
import { NOTIFY_CONTENT_FORMATS, NOTIFY_STRATEGIES, POLL_MS, type NotifyContentFormat, type NotifyStrategy } from './mns/limits.js';
import { nowMs, type MnsContext, type Tx } from './mns/context.js';
import { isHttpEndpoint, parseQueueEndpoint } from './mns/endpoints.js';
import { listLimit } from './mns/paging.js';
import { Messages } from './mns/messages.js';
import { Queues } from './mns/queues.js';
import { Topics } from './mns/topics.js';
import { TOPIC_DEFAULTS, type BatchDeleteFailure, type ListOptions, type Page, type QueueAttributes, type QueueInfo, type QueueMessage, type QueueStats, type ReceiveOptions, type SendInput, type SendResult, type SubscriptionInfo, type SubscriptionInput, type TopicAttributes, type TopicInfo } from './mns/records.js';
import { MnsSignals } from './mns/signals.js';
import { byteLength, checkName, checkTag } from './mns/validate.js';

// The public surface the dialect, the app and the tests import from here.
export * from './mns/limits.js';
export * from './mns/records.js';
export { newMessageId, receiptHandleMessageId } from './mns/ids.js';
export { formatNotification, MNS_XML_NAMESPACE, type NotificationFields } from './mns/formats.js';
export { parseQueueEndpoint, queueEndpoint, queueEndpointName } from './mns/endpoints.js';
export { checkName, checkRange } from './mns/validate.js';

type SubscriptionRow = Selectable<MnsSubscriptionTable>;

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

export class MnsService implements Publisher {
  readonly accountId: string;
  readonly region: string;
  private readonly ctx: MnsContext;
  private readonly queues: Queues;
  private readonly messages: Messages;
  private readonly topics: Topics;

  constructor(db: Db, opts: MnsServiceOptions) {
    this.accountId = opts.accountId;
    this.region = opts.region;
    this.ctx = {
      db,
      accountId: opts.accountId,
      region: opts.region,
      autoCreateTopics: opts.autoCreateTopics ?? false,
      pollMs: opts.pollMs ?? POLL_MS,
      clock: opts.now ?? (() => new Date()),
      signals: new MnsSignals(opts.wakeups ?? new LocalWakeups()),
    };
    this.queues = new Queues(this.ctx);
    this.messages = new Messages(this.ctx, this.queues);
    this.topics = new Topics(this.ctx);
  }

  /** The service as `medley serve` configures it (MEDLEY_ACCOUNT_ID, MEDLEY_REGION, MEDLEY_MNS_AUTO_CREATE_TOPICS). */
  static fromConfig(db: Db, config: Pick<Config, 'accountId' | 'region' | 'mnsAutoCreateTopics'>, wakeups?: Wakeups): MnsService {
    return new MnsService(db, { accountId: config.accountId, region: config.region, autoCreateTopics: config.mnsAutoCreateTopics, wakeups });
  }

  /** Ends every long poll now (they answer with what they have: nothing). */
  close(): void {
    this.ctx.signals.close();
  }

  /** Called (asynchronously) whenever mns_pushes rows were added in this process; returns an unsubscribe. */
  onPush(listener: () => void): () => void {
    return this.ctx.signals.onPush(listener);
  }

  // ----- queues (mns/queues.ts) --------------------------------------------------------------------------------

  /**
   * CreateQueue. `created: false` when the queue exists with the same attributes (MNS 204); a queue with
   * other attributes is QueueAlreadyExist. Unspecified attributes take the MNS defaults.
   */
  createQueue(name: string, attrs: Partial<QueueAttributes> = {}): Promise<{ created: boolean }> {
    return this.queues.create(name, attrs);
  }

  /** DeleteQueue, with its messages. Deleting a missing queue succeeds (idempotent). */
  deleteQueue(name: string): Promise<void> {
    return this.queues.delete(name);
  }

  getQueue(name: string): Promise<QueueInfo & QueueStats> {
    return this.queues.get(name);
  }

  /** SetQueueAttributes: changes only what is given. */
  setQueueAttributes(name: string, attrs: Partial<QueueAttributes>): Promise<void> {
    return this.queues.setAttributes(name, attrs);
  }

  /** ListQueue, by name. `withStats` adds the message counts (x-mns-with-meta). */
  listQueues(opts: ListOptions = {}, withStats = false): Promise<Page<QueueInfo & Partial<QueueStats>>> {
    return this.queues.list(opts, withStats);
  }

  /** Deletes every message past retention (housekeeping); returns how many. */
  purgeAllExpired(): Promise<number> {
    return this.queues.purgeAllExpired();
  }


  // ----- messages (mns/messages.ts) ----------------------------------------------------------------------------

  /** SendMessage. */
  sendMessage(queue: string, input: SendInput): Promise<SendResult> {
    return this.messages.send(queue, input);
  }

  /** BatchSendMessage: 1-16 messages, bodies ≤ 64 KiB in all; all or nothing. */
  sendMessages(queue: string, inputs: SendInput[]): Promise<SendResult[]> {
    return this.messages.sendBatch(queue, inputs);
  }

  /**
   * ReceiveMessage / BatchReceiveMessage with long polling: returns as soon as at least one message is
   * claimed, or [] when the wait (waitSeconds, else the queue's PollingWaitSeconds) ends empty.
   */
  receiveMessages(queue: string, opts: ReceiveOptions = {}): Promise<QueueMessage[]> {
    return this.messages.receive(queue, opts);
  }

  /** PeekMessage / BatchPeekMessage: the next Active messages, unchanged. */
  peekMessages(queue: string, max = 1): Promise<QueueMessage[]> {
    return this.messages.peek(queue, max);
  }

  /**
   * DeleteMessage. ReceiptHandleError for a handle Medley never issued; MessageNotExist when the handle is
   * no longer the message's current one (visibility timeout over, received again, already deleted).
   */
  deleteMessage(queue: string, receiptHandle: string): Promise<void> {
    return this.messages.delete(queue, receiptHandle);
  }

  /** BatchDeleteMessage (≤ 16 handles): the failures, [] when every message was deleted. */
  deleteMessages(queue: string, receiptHandles: string[]): Promise<BatchDeleteFailure[]> {
    return this.messages.deleteBatch(queue, receiptHandles);
  }

  /** ChangeMessageVisibility: the message becomes visible `visibilityTimeout` s from now; returns its new handle. */
  changeMessageVisibility(queue: string, receiptHandle: string, visibilityTimeout: number): Promise<{ receiptHandle: string; nextVisibleTime: number }> {
    return this.messages.changeVisibility(queue, receiptHandle, visibilityTimeout);
  }

  // ----- topics (mns/topics.ts) --------------------------------------------------------------------------------

  /** CreateTopic; `created: false` for an existing topic with the same attributes (204), else TopicAlreadyExist. */
  createTopic(name: string, attrs: Partial<TopicAttributes> = {}): Promise<{ created: boolean }> {
    return this.topics.create(name, attrs);
  }

  /** DeleteTopic, with its subscriptions and undelivered pushes. Deleting a missing topic succeeds. */
  deleteTopic(name: string): Promise<void> {
    return this.topics.delete(name);
  }

  getTopic(name: string): Promise<TopicInfo> {
    return this.topics.get(name);
  }

  setTopicAttributes(name: string, attrs: Partial<TopicAttributes>): Promise<void> {
    return this.topics.setAttributes(name, attrs);
  }

  listTopics(opts: ListOptions = {}): Promise<Page<TopicInfo>> {
    return this.topics.list(opts);
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
    const now = nowMs(this.ctx);
    return this.ctx.db.transaction().execute(async (tx) => {
      await this.topics.require(tx, topic);
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
    await this.ctx.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('mns_subscriptions').where('topic', '=', topic).where('name', '=', name).execute();
      await tx.deleteFrom('mns_pushes').where('topic', '=', topic).where('subscription', '=', name).where('state', '=', 'pending').execute();
    });
  }

  async getSubscription(topic: string, name: string): Promise<SubscriptionInfo> {
    await this.topics.require(this.ctx.db, topic);
    checkName('subscription', name);
    const s = await this.ctx.db.selectFrom('mns_subscriptions').selectAll().where('topic', '=', topic).where('name', '=', name).executeTakeFirst();
    if (!s) fail('MnsSubscriptionNotExist', `The subscription name you provided is not exist: "${name}".`);
    return subscriptionInfo(s);
  }

  /** SetSubscriptionAttributes: only NotifyStrategy can change (as on MNS). */
  async setSubscriptionAttributes(topic: string, name: string, attrs: { notifyStrategy?: string }): Promise<void> {
    const cur = await this.getSubscription(topic, name);
    const strategy = attrs.notifyStrategy === undefined || attrs.notifyStrategy === '' ? cur.notifyStrategy : attrs.notifyStrategy;
    if (!(NOTIFY_STRATEGIES as readonly string[]).includes(strategy)) fail('MnsInvalidArgument', `The NotifyStrategy should be one of ${NOTIFY_STRATEGIES.join(', ')}.`);
    await this.ctx.db
      .updateTable('mns_subscriptions')
      .set({ notify_strategy: strategy, updated_at: nowMs(this.ctx) })
      .where('topic', '=', topic)
      .where('name', '=', name)
      .execute();
  }

  async listSubscriptions(topic: string, opts: ListOptions = {}): Promise<Page<SubscriptionInfo>> {
    await this.topics.require(this.ctx.db, topic);
    const limit = listLimit(opts.limit);
    let q = this.ctx.db.selectFrom('mns_subscriptions').selectAll().where('topic', '=', topic).orderBy('name').limit(limit + 1);
    if (opts.prefix) q = q.where(sql<boolean>`substr(name, 1, ${opts.prefix.length}) = ${opts.prefix}`);
    if (opts.marker) q = q.where('name', '>=', opts.marker);
    const rows = await q.execute();
    return { items: rows.slice(0, limit).map(subscriptionInfo), nextMarker: rows.length > limit ? rows[limit]!.name : undefined };
  }

  // ----- publishing --------------------------------------------------------------------------------------------

  /** PublishMessage: validates the message, then fans out in its own transaction. */
  async publish(topic: string, input: { body: string; tag?: string }): Promise<PublishResult> {
    if (input.body.length === 0) fail('MnsInvalidArgument', 'The MessageBody should not be empty.');
    const now = this.ctx.clock();
    const touched = new Set<string>();
    let pushes = 0;
    const res = await this.ctx.db.transaction().execute(async (tx) => {
      const r = await this.fanOut(tx, { topic, body: input.body, tag: input.tag ?? '' }, now, true);
      r.queues.forEach((q) => touched.add(q));
      pushes = r.pushes;
      return r.result;
    });
    for (const q of touched) this.ctx.signals.queue(q);
    if (pushes > 0) this.ctx.signals.push();
    return res;
  }

  /** Publisher: fans out inside the caller's transaction (the outbox dispatcher's). */
  async publishInTx(tx: Tx, input: PublishInput, now: Date): Promise<PublishResult> {
    const r = await this.fanOut(tx, { topic: input.topic, body: input.body, tag: input.tag ?? '' }, now, false);
    await this.ctx.signals.inTx(tx, r.queues, r.pushes > 0);
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
    let topic = await this.topics.find(tx, input.topic);
    if (!topic) {
      if (!this.ctx.autoCreateTopics) fail('MnsTopicNotExist', `The topic name you provided is not exist: "${input.topic}".`);
      await this.topics.insert(tx, input.topic, TOPIC_DEFAULTS, nowMs);
      topic = await this.topics.require(tx, input.topic);
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
        const q = await this.queues.find(tx, target.queue);
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
        await this.messages.insert(tx, q, { body }, nowMs);
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
}
