/**
 * The wake-ups of this service: "a message may be receivable in queue q" for long polls and "push rows
 * were added" for the push deliverer. Sends go through the shared Wakeups (src/db/wakeups.ts: every node
 * on the database hears them); this node's waiters listen on a local emitter fed from there. Close ends
 * every wait at once. The rest of the service only says what changed (`queue`, `push`, `inTx`) or waits.
 */
import { EventEmitter } from 'node:events';
import type { Wakeups } from '../../db/wakeups.js';
import type { Tx } from './context.js';

export class MnsSignals {
  /** Events: `queue:<name>` (a message may be receivable); 'push' (mns_pushes rows were added). */
  private readonly local = new EventEmitter();
  private readonly closing = new AbortController();
  private readonly off: () => void;

  constructor(private readonly wakeups: Wakeups) {
    this.local.setMaxListeners(0);
    // Undefined payload (the listener reconnected): any queue may have messages.
    const offMns = this.wakeups.subscribe('mns', (queue) => {
      if (queue !== undefined) this.local.emit(`queue:${queue}`);
      else for (const e of this.local.eventNames()) if (typeof e === 'string' && e.startsWith('queue:')) this.local.emit(e);
    });
    const offPush = this.wakeups.subscribe('push', () => this.local.emit('push'));
    this.off = () => {
      offMns();
      offPush();
    };
  }

  /** Whether close() was called: long polls stop waiting. */
  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Ends every wait now and stops listening. */
  close(): void {
    this.closing.abort();
    this.off();
  }

  /** After the commit that made a message receivable in queue `name` (on every node). */
  queue(name: string): void {
    this.wakeups.notify('mns', name);
  }

  /** After the commit that added mns_pushes rows. */
  push(): void {
    this.wakeups.notify('push');
  }

  /** The same wake-ups for rows written in the caller's open transaction: delivered once it commits. */
  async inTx(tx: Tx, queues: readonly string[], pushes: boolean): Promise<void> {
    // The rows are visible once the caller commits: PostgreSQL delivers the notifications at that commit;
    // in-process (one SQLite connection) a woken receiver's query waits for it.
    for (const q of queues) await this.wakeups.notifyInTx(tx, 'mns', q);
    if (pushes) await this.wakeups.notifyInTx(tx, 'push');
  }

  /** Called (asynchronously) whenever mns_pushes rows were added; returns an unsubscribe. */
  onPush(listener: () => void): () => void {
    this.local.on('push', listener);
    return () => this.local.off('push', listener);
  }

  /** Resolves on a wake-up for `queue`, after `ms`, when `signal` aborts or on close, whichever is first. */
  waitForQueue(queue: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const event = `queue:${queue}`;
      const done = (): void => {
        clearTimeout(timer);
        this.local.off(event, done);
        signal?.removeEventListener('abort', done);
        this.closing.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.local.on(event, done);
      signal?.addEventListener('abort', done);
      this.closing.signal.addEventListener('abort', done);
    });
  }
}
