/**
 * The message service (Simple Message Queue, formerly MNS): queues, messages, topics, subscriptions and
 * publishing, over the SQL index (tables mns_*). No HTTP here: src/http/mns is the wire dialect.
 *
 * This file is the front: the one class the dialect, the app, the outbox and the tests hold. Each concern
 * lives in its own module under ./mns/ and the front only wires them and delegates:
 * - queues.ts         queues as resources (create/get/set/list/delete), message counts, retention purge
 * - messages.ts       send and batch send, receive with long polling, peek, delete and change visibility
 *                     by receipt handle
 * - topics.ts         topics as resources
 * - subscriptions.ts  subscribe/unsubscribe/get/set/list, endpoint and setting validation
 * - publish.ts        fan-out of a topic message to queue subscriptions and push outbox rows, in one
 *                     transaction (PublishMessage and the outbox's publishInTx)
 * - signals.ts        wake-ups for long polls and the push deliverer; context.ts what the modules share
 * - pushes.ts         the HTTP push deliveries as the console lists them (read-only)
 * - records.ts, validate.ts, endpoints.ts, paging.ts, limits.ts, ids.ts, formats.ts: the shapes, rules,
 *   endpoint forms, list paging, limits, identifiers and notification formats they all use
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
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import { LocalWakeups, type Wakeups } from '../db/wakeups.js';
import type { Publisher, PublishInput, PublishResult } from './types.js';
import type { MnsContext, Tx } from './mns/context.js';
import { POLL_MS } from './mns/limits.js';
import { Messages } from './mns/messages.js';
import { Publishing } from './mns/publish.js';
import { listPushes, type PushDeliveryInfo, type PushListOptions } from './mns/pushes.js';
import { Queues } from './mns/queues.js';
import type { BatchDeleteFailure, ListOptions, Page, QueueAttributes, QueueInfo, QueueMessage, QueueStats, ReceiveOptions, SendInput, SendResult, SubscriptionInfo, SubscriptionInput, TopicAttributes, TopicInfo } from './mns/records.js';
import { MnsSignals } from './mns/signals.js';
import { Subscriptions } from './mns/subscriptions.js';
import { Topics } from './mns/topics.js';

// The public surface, as before the split: the dialect, the app and the tests import it from here.
export * from './mns/limits.js';
export { QUEUE_DEFAULTS, TOPIC_DEFAULTS } from './mns/records.js';
export type { BatchDeleteFailure, ListOptions, Page, QueueAttributes, QueueInfo, QueueMessage, QueueStats, ReceiveOptions, SendInput, SendResult, SubscriptionInfo, SubscriptionInput, TopicAttributes, TopicInfo } from './mns/records.js';
export { newMessageId, receiptHandleMessageId } from './mns/ids.js';
export { formatNotification, MNS_XML_NAMESPACE, type NotificationFields } from './mns/formats.js';
export { parseQueueEndpoint, queueEndpoint, queueEndpointName } from './mns/endpoints.js';
export { checkName, checkRange } from './mns/validate.js';
export type { PushDeliveryInfo, PushListOptions } from './mns/pushes.js';

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
  private readonly publishing: Publishing;

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
    this.publishing = new Publishing(this.ctx, this.topics, this.subscriptions, this.queues, this.messages);
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

  // ----- publishing (mns/publish.ts) ----------------------------------------------------------------------------

  /** PublishMessage: validates the message, then fans out in its own transaction. */
  publish(topic: string, input: { body: string; tag?: string }): Promise<PublishResult> {
    return this.publishing.publish(topic, input);
  }

  /** Publisher: fans out inside the caller's transaction (the outbox dispatcher's). */
  publishInTx(tx: Tx, input: PublishInput, now: Date): Promise<PublishResult> {
    return this.publishing.publishInTx(tx, input, now);
  }

  // ----- push deliveries (mns/pushes.ts: the web console's view) -------------------------------------------------

  /** HTTP push deliveries, newest first, paged by id (`before`: the `next` of the previous page). */
  listPushes(opts: PushListOptions = {}): Promise<{ items: PushDeliveryInfo[]; next?: number }> {
    return listPushes(this.ctx, opts);
  }
}
