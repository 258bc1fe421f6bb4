/**
 * What every role module of the message service shares (the service front builds one): the database, the
 * account it answers as, the clock and the wake-ups. Passing this one object keeps the modules free of
 * each other's state, the way undici's client parts share their client.
 */
import type { Transaction } from 'kysely';
import type { Db } from '../../db/connection.js';
import type { Database } from '../../db/schema.js';
import type { MnsSignals } from './signals.js';

export type Tx = Transaction<Database>;
/** The service's database or an open transaction (steps that run inside fan-out or a batch). */
export type Executor = Db | Tx;

export interface MnsContext {
  readonly db: Db;
  /** TopicOwner/Subscriber in notifications, the account of acs:mns queue endpoints. */
  readonly accountId: string;
  readonly region: string;
  /** Publishing to a missing topic creates it (else TopicNotExist). */
  readonly autoCreateTopics: boolean;
  /** Long-poll database re-read interval. */
  readonly pollMs: number;
  /** Clock for message times (tests replace it). Waits always use real time. */
  readonly clock: () => Date;
  readonly signals: MnsSignals;
}

/** The context's clock in epoch ms (every stored time). */
export function nowMs(ctx: MnsContext): number {
  return ctx.clock().getTime();
}
