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
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import { fail } from '../errors.js';
import type { Publisher, PublishInput, PublishResult } from './types.js';
import { md5HexUpper } from '../util/text.js';
import { formatNotification } from './mns/formats.js';
import { newMessageId } from './mns/ids.js';
import { POLL_MS } from './mns/limits.js';
import { type MnsContext, type Tx } from './mns/context.js';
import { isHttpEndpoint, parseQueueEndpoint } from './mns/endpoints.js';
import { Messages } from './mns/messages.js';
import { Queues } from './mns/queues.js';
import { Subscriptions } from './mns/subscriptions.js';
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

export class MnsService implements Publisher {
  readonly accountId: string;
  readonly region: string;
  private readonly ctx: MnsContext;
  private readonly queues: Queues;
  private readonly messages: Messages;
  private readonly topics: Topics;
  private readonly subscriptions: Subscriptions;

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
    this.subscriptions = new Subscriptions(this.ctx, this.topics);
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

  // ----- subscriptions (mns/subscriptions.ts) ------------------------------------------------------------------

  /** Subscribe; `created: false` for an identical existing subscription (204), else SubscriptionAlreadyExist. */
  subscribe(topic: string, name: string, input: SubscriptionInput): Promise<{ created: boolean }> {
    return this.subscriptions.subscribe(topic, name, input);
  }

  /** Unsubscribe (idempotent), dropping its undelivered pushes. */
  unsubscribe(topic: string, name: string): Promise<void> {
    return this.subscriptions.unsubscribe(topic, name);
  }

  getSubscription(topic: string, name: string): Promise<SubscriptionInfo> {
    return this.subscriptions.get(topic, name);
  }

  /** SetSubscriptionAttributes: only NotifyStrategy can change (as on MNS). */
  setSubscriptionAttributes(topic: string, name: string, attrs: { notifyStrategy?: string }): Promise<void> {
    return this.subscriptions.setAttributes(topic, name, attrs);
  }

  listSubscriptions(topic: string, opts: ListOptions = {}): Promise<Page<SubscriptionInfo>> {
    return this.subscriptions.list(topic, opts);
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
    const subs = await this.subscriptions.ofTopic(tx, input.topic);
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
