/**
 * Topics as resources: CreateTopic, GetTopicAttributes, SetTopicAttributes, ListTopic, DeleteTopic. What a
 * topic does with a message is publish.ts; who receives it is subscriptions.ts. This module owns the
 * mns_topics rows (and drops a deleted topic's subscriptions and undelivered pushes with it).
 */
import type { Selectable } from 'kysely';
import { fail } from '../../errors.js';
import type { MnsTopicTable } from '../../db/schema.js';
import { nowMs, type Executor, type MnsContext } from './context.js';
import { TOPIC_RANGES } from './limits.js';
import { pageByName } from './paging.js';
import { TOPIC_DEFAULTS, sameAttributes, withDefaults, type ListOptions, type Page, type TopicAttributes, type TopicInfo } from './records.js';
import { checkAttributes, checkName } from './validate.js';

export type TopicRow = Selectable<MnsTopicTable>;

/** TopicNotExist for `name`, in MNS's words. */
export function noSuchTopic(name: string): never {
  return fail('MnsTopicNotExist', `The topic name you provided is not exist: "${name}".`);
}

function topicAttributes(t: TopicRow): TopicAttributes {
  return { maximumMessageSize: t.maximum_message_size, loggingEnabled: t.logging_enabled !== 0 };
}

type TopicColumns = Pick<MnsTopicTable, 'maximum_message_size' | 'logging_enabled'>;

/** The columns of the attributes given: all of them for CreateTopic, the changed ones for SetTopicAttributes. */
function topicColumns(a: TopicAttributes): TopicColumns;
function topicColumns(a: Partial<TopicAttributes>): Partial<TopicColumns>;
function topicColumns(a: Partial<TopicAttributes>): Partial<TopicColumns> {
  const c: Partial<TopicColumns> = {};
  if (a.maximumMessageSize !== undefined) c.maximum_message_size = a.maximumMessageSize;
  if (a.loggingEnabled !== undefined) c.logging_enabled = a.loggingEnabled ? 1 : 0;
  return c;
}

export class Topics {
  constructor(private readonly ctx: MnsContext) {}

  /** CreateTopic; `created: false` for an existing topic with the same attributes (204), else TopicAlreadyExist. */
  async create(name: string, attrs: Partial<TopicAttributes>): Promise<{ created: boolean }> {
    checkName('topic', name);
    checkAttributes(attrs, TOPIC_RANGES);
    const want = withDefaults(TOPIC_DEFAULTS, attrs);
    const inserted = await this.insert(this.ctx.db, name, want, nowMs(this.ctx));
    if (inserted) return { created: true };
    const existing = await this.find(this.ctx.db, name);
    if (existing && sameAttributes(TOPIC_DEFAULTS, topicAttributes(existing), want)) return { created: false };
    return fail('MnsTopicAlreadyExist', `The topic you want to create is already exist: "${name}" has other attributes.`);
  }

  /** Inserts the topic unless one by that name exists; whether it did. Also publishing's create-on-demand. */
  async insert(ex: Executor, name: string, a: TopicAttributes, now: number): Promise<boolean> {
    const r = await ex
      .insertInto('mns_topics')
      .values({ name, ...topicColumns(a), created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** DeleteTopic, with its subscriptions and undelivered pushes. Deleting a missing topic succeeds. */
  async delete(name: string): Promise<void> {
    checkName('topic', name);
    await this.ctx.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('mns_topics').where('name', '=', name).execute();
      await tx.deleteFrom('mns_subscriptions').where('topic', '=', name).execute();
      await tx.deleteFrom('mns_pushes').where('topic', '=', name).where('state', '=', 'pending').execute();
    });
  }

  find(ex: Executor, name: string): Promise<TopicRow | undefined> {
    return ex.selectFrom('mns_topics').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /** The topic, or the error for a bad or unknown name. */
  async require(ex: Executor, name: string): Promise<TopicRow> {
    checkName('topic', name);
    const t = await this.find(ex, name);
    if (!t) noSuchTopic(name);
    return t;
  }

  private async info(t: TopicRow): Promise<TopicInfo> {
    const c = await this.ctx.db
      .selectFrom('mns_pushes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('topic', '=', t.name)
      .where('state', '=', 'pending')
      .executeTakeFirstOrThrow();
    return { name: t.name, ...topicAttributes(t), createdAt: Number(t.created_at), updatedAt: Number(t.updated_at), messageCount: Number(c.n) };
  }

  async get(name: string): Promise<TopicInfo> {
    return this.info(await this.require(this.ctx.db, name));
  }

  async setAttributes(name: string, attrs: Partial<TopicAttributes>): Promise<void> {
    checkName('topic', name);
    checkAttributes(attrs, TOPIC_RANGES);
    const r = await this.ctx.db
      .updateTable('mns_topics')
      .set({ updated_at: nowMs(this.ctx), ...topicColumns(attrs) })
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) fail('MnsTopicNotExist');
  }

  async list(opts: ListOptions): Promise<Page<TopicInfo>> {
    const { rows, nextMarker } = await pageByName(this.ctx.db.selectFrom('mns_topics').selectAll(), opts);
    const items: TopicInfo[] = [];
    for (const r of rows) items.push(await this.info(r));
    return { items, nextMarker };
  }
}
