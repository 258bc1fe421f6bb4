/**
 * The HTTP push deliveries as the web console lists them: newest first, paged by id, never read whole.
 * (The push deliverer, src/notify/push-deliverer.ts, owns the rows' life; this is a read-only view.)
 */
import type { MnsContext } from './context.js';

export interface PushListOptions {
  topic?: string;
  state?: string;
  /** The `next` of the previous page. */
  before?: number;
  limit?: number;
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

export async function listPushes(ctx: MnsContext, opts: PushListOptions = {}): Promise<{ items: PushDeliveryInfo[]; next?: number }> {
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), 200);
  let q = ctx.db
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
