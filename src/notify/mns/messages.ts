/**
 * The messages in a queue: sending (one or a batch), receiving with long polling, peeking, deleting by
 * receipt handle and changing visibility. Fan-out (publish.ts) sends through `insert` here, so a message a
 * topic delivers is stored exactly like one sent to the queue.
 *
 * A message is Delayed (dequeue_count 0, next_visible_at in the future), Active (next_visible_at <= now) or
 * Inactive (received, next_visible_at = end of its visibility timeout). A receipt handle is valid until
 * the message's next visible time; after that (or once superseded by a later receive or
 * ChangeMessageVisibility) it no longer names the message: MessageNotExist, as MNS documents. A handle
 * Medley never issued is ReceiptHandleError.
 */
import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import { claimSerially } from '../../db/dialect.js';
import { isDbUnavailable } from '../../db/errors.js';
import type { Database, MnsMessageTable } from '../../db/schema.js';
import { fail, isMedleyError } from '../../errors.js';
import { md5HexUpper } from '../../util/text.js';
import { nowMs, type Executor, type MnsContext } from './context.js';
import { newMessageId, newReceiptHandle, receiptHandleAffixes, receiptHandleMessageId } from './ids.js';
import { DEFAULT_PRIORITY, MAX_BATCH, MAX_BATCH_BODY_BYTES, MESSAGE_RANGES } from './limits.js';
import { noSuchQueue, type QueueRow, type Queues } from './queues.js';
import type { BatchDeleteFailure, QueueMessage, ReceiveOptions, SendInput, SendResult } from './records.js';
import { byteLength, checkBodyPresent, checkBodySize, checkRange } from './validate.js';

type MessageRow = Selectable<MnsMessageTable>;
type Where = ExpressionBuilder<Database, 'mns_messages'>;

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

/** Active in `queue` at `now`: visible and within retention (what receive and peek may return). */
function isActive(eb: Where, queue: string, now: number) {
  return eb.and([eb('queue', '=', queue), eb('next_visible_at', '<=', now), eb('expires_at', '>', now)]);
}

/** The message `handle` was issued for, while it is still that message's current handle. */
function heldBy(eb: Where, queue: string, id: string, handle: string, now: number) {
  return eb.and([eb('id', '=', id), eb('queue', '=', queue), eb('receipt_handle', '=', handle), eb('next_visible_at', '>', now), eb('expires_at', '>', now)]);
}

/** The next `max` Active messages in delivery order: priority 1 first, then oldest, then by id. */
function nextActive(ex: Executor, queue: string, now: number, max: number) {
  return ex.selectFrom('mns_messages').where((eb) => isActive(eb, queue, now)).orderBy('priority').orderBy('enqueued_at').orderBy('id').limit(max);
}

/** The same delivery order in JavaScript (an UPDATE ... RETURNING has no order). */
function deliveryOrder(a: MessageRow, b: MessageRow): number {
  return a.priority - b.priority || Number(a.enqueued_at) - Number(b.enqueued_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function requireHandle(receiptHandle: string): void {
  if (receiptHandle === '') fail('MnsMissingReceiptHandle');
}

function handleGone(): never {
  return fail('MnsMessageNotExist', 'Message not exist or the receipt handle has expired.');
}

/** SendMessage's checks against the queue (BatchSendMessage applies them to each message). */
function checkSend(q: QueueRow, input: SendInput): void {
  checkBodyPresent(input.body);
  checkBodySize(input.body, q.maximum_message_size);
  if (input.delaySeconds !== undefined) checkRange('DelaySeconds', input.delaySeconds, MESSAGE_RANGES.DelaySeconds);
  if (input.priority !== undefined) checkRange('Priority', input.priority, MESSAGE_RANGES.Priority);
}

export class Messages {
  constructor(
    private readonly ctx: MnsContext,
    private readonly queues: Queues,
  ) {}

  /** Stores one message in `q` (already validated); a delayed one gets a handle at once. */
  async insert(ex: Executor, q: QueueRow, input: SendInput, now: number): Promise<SendResult> {
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
  async send(queue: string, input: SendInput): Promise<SendResult> {
    const q = await this.queues.require(queue);
    checkSend(q, input);
    const res = await this.insert(this.ctx.db, q, input, nowMs(this.ctx));
    this.ctx.signals.queue(queue);
    return res;
  }

  /** BatchSendMessage: 1-16 messages, bodies ≤ 64 KiB in all; all or nothing. */
  async sendBatch(queue: string, inputs: SendInput[]): Promise<SendResult[]> {
    const q = await this.queues.require(queue);
    if (inputs.length < 1 || inputs.length > MAX_BATCH) fail('MnsInvalidArgument', `The count of messages should between 1 and ${MAX_BATCH}.`);
    for (const m of inputs) checkSend(q, m);
    const total = inputs.reduce((n, m) => n + byteLength(m.body), 0);
    if (total > MAX_BATCH_BODY_BYTES) fail('MnsInvalidArgument', `The total size of the messages should not be larger than ${MAX_BATCH_BODY_BYTES} bytes.`);
    const now = nowMs(this.ctx);
    const out = await this.ctx.db.transaction().execute(async (tx) => {
      const results: SendResult[] = [];
      for (const m of inputs) results.push(await this.insert(tx, q, m, now));
      return results;
    });
    this.ctx.signals.queue(queue);
    return out;
  }

  /**
   * Claims up to `max` Active messages (priority 1 first, then oldest): one conditional UPDATE, so two
   * receivers (or processes) never get the same message. Each gets a new receipt handle.
   */
  private async claim(q: QueueRow, max: number): Promise<QueueMessage[]> {
    await this.queues.purgeExpired(q.name);
    const now = nowMs(this.ctx);
    const { prefix, suffix } = receiptHandleAffixes();
    const rows = await claimSerially(this.ctx.db, (db) =>
      db
        .updateTable('mns_messages')
        .set((eb) => ({
          next_visible_at: now + q.visibility_timeout * 1000,
          dequeue_count: eb('dequeue_count', '+', 1),
          first_dequeued_at: eb.fn.coalesce('first_dequeued_at', sql.lit(now)),
          receipt_handle: sql<string>`${prefix} || id || ${suffix}`,
        }))
        .where('id', 'in', nextActive(db, q.name, now, max).select('id'))
        // Re-checked so two claimers racing for the same rows cannot both win.
        .where((eb) => isActive(eb, q.name, now))
        .returningAll()
        .execute(),
    );
    rows.sort(deliveryOrder);
    return rows.map((r) => toMessage(r, true));
  }

  /**
   * ReceiveMessage / BatchReceiveMessage with long polling: returns as soon as at least one message is
   * claimed, or [] when the wait (waitSeconds, else the queue's PollingWaitSeconds) ends empty. The wait
   * sleeps until a wake-up for the queue (any node's send or publish) or POLL_MS, then claims again:
   * messages whose delay ends, or whose wake-up was lost, are found by the re-read.
   */
  async receive(queue: string, opts: ReceiveOptions): Promise<QueueMessage[]> {
    const max = opts.max ?? 1;
    checkRange('numOfMessages', max, MESSAGE_RANGES.BatchSize);
    if (opts.waitSeconds !== undefined) checkRange('waitseconds', opts.waitSeconds, MESSAGE_RANGES.WaitSeconds);
    let q = await this.queues.require(queue);
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
      if (remaining <= 0 || opts.signal?.aborted || this.ctx.signals.closed) {
        if (down !== undefined) throw down;
        return [];
      }
      await this.ctx.signals.waitForQueue(queue, Math.min(remaining, this.ctx.pollMs), opts.signal);
      let again: QueueRow | undefined;
      try {
        again = await this.queues.find(this.ctx.db, queue);
      } catch (e) {
        if (!isDbUnavailable(e)) throw e;
        down = e;
        continue;
      }
      // The queue was deleted during the wait.
      if (!again) noSuchQueue(queue);
      q = again;
    }
  }

  /** PeekMessage / BatchPeekMessage: the next Active messages, unchanged. */
  async peek(queue: string, max: number): Promise<QueueMessage[]> {
    checkRange('numOfMessages', max, MESSAGE_RANGES.BatchSize);
    await this.queues.require(queue);
    await this.queues.purgeExpired(queue);
    const rows = await nextActive(this.ctx.db, queue, nowMs(this.ctx), max).selectAll().execute();
    return rows.map((r) => toMessage(r, false));
  }

  /**
   * DeleteMessage. ReceiptHandleError for a handle Medley never issued; MessageNotExist when the handle is
   * no longer the message's current one (visibility timeout over, received again, already deleted).
   */
  async delete(queue: string, receiptHandle: string): Promise<void> {
    await this.queues.require(queue);
    await this.deleteByHandle(queue, receiptHandle);
  }

  private async deleteByHandle(queue: string, receiptHandle: string): Promise<void> {
    requireHandle(receiptHandle);
    const id = receiptHandleMessageId(receiptHandle);
    const now = nowMs(this.ctx);
    const r = await this.ctx.db
      .deleteFrom('mns_messages')
      .where((eb) => heldBy(eb, queue, id, receiptHandle, now))
      .executeTakeFirst();
    if (Number(r.numDeletedRows) !== 1) handleGone();
  }

  /** BatchDeleteMessage (≤ 16 handles): the failures, [] when every message was deleted. */
  async deleteBatch(queue: string, receiptHandles: string[]): Promise<BatchDeleteFailure[]> {
    await this.queues.require(queue);
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
  async changeVisibility(queue: string, receiptHandle: string, visibilityTimeout: number): Promise<{ receiptHandle: string; nextVisibleTime: number }> {
    await this.queues.require(queue);
    // Checked in this order (missing handle, timeout, malformed handle): each bad request keeps its error.
    requireHandle(receiptHandle);
    checkRange('VisibilityTimeout', visibilityTimeout, MESSAGE_RANGES.VisibilityTimeout);
    const id = receiptHandleMessageId(receiptHandle);
    const now = nowMs(this.ctx);
    const next = now + visibilityTimeout * 1000;
    const handle = newReceiptHandle(id);
    const r = await this.ctx.db
      .updateTable('mns_messages')
      .set({ next_visible_at: next, receipt_handle: handle })
      .where((eb) => heldBy(eb, queue, id, receiptHandle, now))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) handleGone();
    return { receiptHandle: handle, nextVisibleTime: next };
  }
}
