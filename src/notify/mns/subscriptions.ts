/**
 * Subscriptions of a topic: Subscribe, Unsubscribe, GetSubscriptionAttributes, SetSubscriptionAttributes,
 * ListSubscriptionByTopic. The endpoint, strategy, format and filter tag are validated here once, at
 * subscribe time; publish.ts reads the stored rows (`ofTopic`) and routes by the same endpoint rules.
 */
import type { Selectable } from 'kysely';
import { fail } from '../../errors.js';
import type { MnsSubscriptionTable } from '../../db/schema.js';
import { nowMs, type Executor, type MnsContext } from './context.js';
import { isHttpEndpoint, parseQueueEndpoint } from './endpoints.js';
import { NOTIFY_CONTENT_FORMATS, NOTIFY_STRATEGIES, type NotifyContentFormat, type NotifyStrategy } from './limits.js';
import { pageByName } from './paging.js';
import type { ListOptions, Page, SubscriptionInfo, SubscriptionInput } from './records.js';
import type { Topics } from './topics.js';
import { checkChoice, checkName, checkTag } from './validate.js';

export type SubscriptionRow = Selectable<MnsSubscriptionTable>;

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

export class Subscriptions {
  constructor(
    private readonly ctx: MnsContext,
    private readonly topics: Topics,
  ) {}

  /** Validated, defaulted subscription attributes, as columns. */
  private values(input: SubscriptionInput): { endpoint: string; notify_strategy: NotifyStrategy; notify_content_format: NotifyContentFormat; filter_tag: string } {
    const { accountId } = this.ctx;
    const endpoint = input.endpoint.trim();
    if (endpoint === '') fail('MnsEndpointInvalid', 'The Endpoint is required.');
    const queue = parseQueueEndpoint(endpoint);
    if (queue) {
      // Fan-out writes only into this account's queues.
      if (queue.accountId !== accountId) fail('MnsEndpointInvalid', `The queue endpoint belongs to account ${queue.accountId}; this service is account ${accountId}.`);
      checkName('queue', queue.queue);
    } else if (!isHttpEndpoint(endpoint)) {
      fail('MnsEndpointInvalid', `The endpoint "${endpoint.slice(0, 200)}" is not supported: use acs:mns:<region>:<account>:queues/<queue> or an http(s) URL.`);
    }
    const strategy = checkChoice('NotifyStrategy', input.notifyStrategy, 'BACKOFF_RETRY', NOTIFY_STRATEGIES);
    const format = checkChoice('NotifyContentFormat', input.notifyContentFormat, 'XML', NOTIFY_CONTENT_FORMATS);
    const tag = input.filterTag ?? '';
    checkTag('FilterTag', tag);
    return { endpoint, notify_strategy: strategy, notify_content_format: format, filter_tag: tag };
  }

  private find(ex: Executor, topic: string, name: string): Promise<SubscriptionRow | undefined> {
    return ex.selectFrom('mns_subscriptions').selectAll().where('topic', '=', topic).where('name', '=', name).executeTakeFirst();
  }

  /** Subscribe; `created: false` for an identical existing subscription (204), else SubscriptionAlreadyExist. */
  async subscribe(topic: string, name: string, input: SubscriptionInput): Promise<{ created: boolean }> {
    checkName('topic', topic);
    checkName('subscription', name);
    const v = this.values(input);
    const now = nowMs(this.ctx);
    return this.ctx.db.transaction().execute(async (tx) => {
      await this.topics.require(tx, topic);
      const r = await tx
        .insertInto('mns_subscriptions')
        .values({ topic, name, ...v, created_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(['topic', 'name']).doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0n) === 1) return { created: true };
      const s = await this.find(tx, topic, name);
      if (s && s.endpoint === v.endpoint && s.notify_strategy === v.notify_strategy && s.notify_content_format === v.notify_content_format && s.filter_tag === v.filter_tag) {
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

  async get(topic: string, name: string): Promise<SubscriptionInfo> {
    await this.topics.require(this.ctx.db, topic);
    checkName('subscription', name);
    const s = await this.find(this.ctx.db, topic, name);
    if (!s) fail('MnsSubscriptionNotExist', `The subscription name you provided is not exist: "${name}".`);
    return subscriptionInfo(s);
  }

  /** SetSubscriptionAttributes: only NotifyStrategy can change (as on MNS). */
  async setAttributes(topic: string, name: string, attrs: { notifyStrategy?: string }): Promise<void> {
    const cur = await this.get(topic, name);
    const strategy = checkChoice('NotifyStrategy', attrs.notifyStrategy, cur.notifyStrategy, NOTIFY_STRATEGIES);
    await this.ctx.db
      .updateTable('mns_subscriptions')
      .set({ notify_strategy: strategy, updated_at: nowMs(this.ctx) })
      .where('topic', '=', topic)
      .where('name', '=', name)
      .execute();
  }

  async list(topic: string, opts: ListOptions): Promise<Page<SubscriptionInfo>> {
    await this.topics.require(this.ctx.db, topic);
    const { rows, nextMarker } = await pageByName(this.ctx.db.selectFrom('mns_subscriptions').selectAll().where('topic', '=', topic), opts);
    return { items: rows.map(subscriptionInfo), nextMarker };
  }

  /** Every subscription of `topic`, by name: the order fan-out delivers in. */
  ofTopic(ex: Executor, topic: string): Promise<SubscriptionRow[]> {
    return ex.selectFrom('mns_subscriptions').selectAll().where('topic', '=', topic).orderBy('name').execute();
  }
}
