/**
 * The seam between task completion and the message service (MNS). The outbox dispatcher publishes a
 * task's notification through `Publisher.publishInTx`, in the same transaction that marks the outbox row
 * published, so a message is neither lost nor published twice by Medley.
 */
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.js';

export interface PublishInput {
  topic: string;
  /** The message body, UTF-8 text (IMM/OSS notifications: the JSON envelope). */
  body: string;
  /** MNS MessageTag (subscription FilterTag matches it); "" for none. */
  tag?: string;
}

export interface PublishResult {
  /** MNS MessageId: 32 upper-case hex characters. */
  messageId: string;
  /** Upper-case hex MD5 of the body. */
  messageBodyMd5: string;
}

export interface Publisher {
  /**
   * Publishes to every subscription of the topic: a queue subscription gets a message in its queue; an
   * HTTP subscription gets a row in mns_pushes for the push deliverer. Throws MedleyError
   * `MnsTopicNotExist` when there is no such topic (unless created on demand).
   */
  publishInTx(tx: Transaction<Database>, input: PublishInput, now: Date): Promise<PublishResult>;
}
