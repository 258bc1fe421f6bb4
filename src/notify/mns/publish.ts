/**
 * Publishing: a topic message fanned out to the topic's subscriptions inside one transaction, so either
 * every subscriber gets it or none does. A queue subscription gets a message in its queue (stored by
 * messages.ts, formatted by formats.ts), an HTTP subscription a `mns_pushes` row that the push deliverer
 * (../push-deliverer.ts) sends. Fan-out is its own module because it is where topics, subscriptions,
 * queues and messages meet; each of those stays about its own rows.
 */
import { md5HexUpper } from '../../util/text.js';
import type { PublishInput, PublishResult } from '../types.js';
import type { MnsContext, Tx } from './context.js';
import { isHttpEndpoint, parseQueueEndpoint } from './endpoints.js';
import { formatNotification } from './formats.js';
import { newMessageId } from './ids.js';
import type { Messages } from './messages.js';
import type { Queues } from './queues.js';
import { TOPIC_DEFAULTS } from './records.js';
import type { SubscriptionRow, Subscriptions } from './subscriptions.js';
import { noSuchTopic, type TopicRow, type Topics } from './topics.js';
import { checkBodyPresent, checkBodySize, checkName, checkTag } from './validate.js';

interface TopicMessage {
  topic: string;
  body: string;
  tag: string;
}

/** What a fan-out wrote: the result for the publisher and what to wake once it commits. */
interface FanOut {
  result: PublishResult;
  /** Queues that got a message (one entry per message). */
  queues: string[];
  /** mns_pushes rows added. */
  pushes: number;
}

/**
 * `strict`: a bad name is the name error (PublishMessage). Otherwise (the outbox publishing a task's
 * notification) a name that cannot be a topic names no topic, and cannot be created on demand.
 */
function checkTopicName(name: string, strict: boolean): void {
  if (strict) return checkName('topic', name);
  try {
    checkName('topic', name);
  } catch {
    noSuchTopic(name);
  }
}

export class Publishing {
  constructor(
    private readonly ctx: MnsContext,
    private readonly topics: Topics,
    private readonly subscriptions: Subscriptions,
    private readonly queues: Queues,
    private readonly messages: Messages,
  ) {}

  /** PublishMessage: validates the message, then fans out in its own transaction. */
  async publish(topic: string, input: { body: string; tag?: string }): Promise<PublishResult> {
    checkBodyPresent(input.body);
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

  /** The topic `name`; created with the defaults when missing and MEDLEY_MNS_AUTO_CREATE_TOPICS is on. */
  private async topicOrCreate(tx: Tx, name: string, nowMs: number): Promise<TopicRow> {
    const topic = await this.topics.find(tx, name);
    if (topic) return topic;
    if (!this.ctx.autoCreateTopics) noSuchTopic(name);
    await this.topics.insert(tx, name, TOPIC_DEFAULTS, nowMs);
    return this.topics.require(tx, name);
  }

  private async fanOut(tx: Tx, input: TopicMessage, now: Date, strictName: boolean): Promise<FanOut> {
    const nowMs = now.getTime();
    // Checked in this order (name, tag, topic, size): each bad request keeps its error.
    checkTopicName(input.topic, strictName);
    checkTag('MessageTag', input.tag);
    const topic = await this.topicOrCreate(tx, input.topic, nowMs);
    checkBodySize(input.body, topic.maximum_message_size);
    const messageId = newMessageId(nowMs);
    const queues: string[] = [];
    let pushes = 0;
    for (const s of await this.subscriptions.ofTopic(tx, input.topic)) {
      if (s.filter_tag !== '' && s.filter_tag !== input.tag) continue;
      const target = parseQueueEndpoint(s.endpoint);
      if (target) {
        const q = await this.queues.find(tx, target.queue);
        // A subscription whose queue is gone delivers nothing (MNS drops it after its retries).
        if (!q) continue;
        const body = formatNotification(s.notify_content_format, {
          topicOwner: this.ctx.accountId,
          topicName: input.topic,
          subscriber: this.ctx.accountId,
          subscriptionName: s.name,
          messageId,
          message: input.body,
          messageTag: input.tag,
          publishTime: nowMs,
        });
        await this.messages.insert(tx, q, { body }, nowMs);
        queues.push(q.name);
      } else if (isHttpEndpoint(s.endpoint)) {
        await this.insertPush(tx, s, input, messageId, nowMs);
        pushes++;
      }
    }
    return { result: { messageId, messageBodyMd5: md5HexUpper(input.body) }, queues, pushes };
  }

  /** One pending push of this message to the HTTP subscription `s`, due now. */
  private async insertPush(tx: Tx, s: SubscriptionRow, m: TopicMessage, messageId: string, nowMs: number): Promise<void> {
    await tx
      .insertInto('mns_pushes')
      .values({
        topic: m.topic,
        subscription: s.name,
        endpoint: s.endpoint,
        notify_strategy: s.notify_strategy,
        notify_content_format: s.notify_content_format,
        message_id: messageId,
        message_body: m.body,
        message_tag: m.tag,
        published_at: nowMs,
        attempts: 0,
        next_attempt_at: nowMs,
        state: 'pending',
        last_error: '',
        lease_owner: null,
        lease_expires_at: null,
      })
      .execute();
  }
}
