/**
 * The loop behind every background worker that polls the database: the notification outbox dispatcher,
 * the MNS push deliverer and the task worker pool (one loop per slot). start / kick / sleep / stop:
 *
 * - A pass runs, then the loop sleeps for as long as the pass asked (`'again'`: no sleep), or until a
 *   wake-up (`kick()`: work arrived, from this process or from another node through db/wakeups.ts).
 * - `kick()` wakes one sleeping slot. A kick that finds no slot asleep is remembered (up to one per slot):
 *   the next pass to start absorbs it (it sees the change the kick announced), and a slot about to sleep
 *   with a remembered kick runs again at once, so a kick during a pass is never lost.
 * - A pass that throws is retried after an exponential back-off (db/errors.ts backoffMs, never shorter than
 *   the poll interval), so a database that is down is not hammered; a kick still wakes the back-off sleep,
 *   a remembered one does not cut it short. The database being unreachable is logged once per outage (over
 *   every slot) and its end once; any other failure is logged each time.
 * - `stop()` wakes every sleeper and resolves when every slot has finished the pass in hand.
 */
import type { Logger } from 'pino';
import { backoffMs, dbUnavailableReason } from './errors.js';

/** What a pass asks for: sleep this many ms (a kick ends the sleep early), or run the next pass at once. */
export type PassNext = number | 'again';

export interface BackgroundLoopOptions {
  /** One pass of slot `slot` (0-based). Throws when it failed: the slot backs off and tries again. */
  pass: (slot: number) => Promise<PassNext>;
  /** The shortest sleep after a failed pass (the worker's poll interval). */
  pollMs: number;
  log: Logger;
  /** The log lines: the database unreachable, another failure, the database reachable again. */
  messages: { unreachable: string; failed: string; recovered: string };
  /** Passes running side by side (the worker pool's slots); default 1. */
  slots?: number;
}

export class BackgroundLoop {
  private active = false;
  private loops: Promise<void>[] = [];
  private readonly sleepers = new Set<() => void>();
  /** Kicks that found no slot asleep (at most one per slot). */
  private pendingKicks = 0;
  /** An outage was logged and its end not yet. */
  private outage = false;
  private readonly slots: number;

  constructor(private readonly opts: BackgroundLoopOptions) {
    this.slots = Math.max(1, opts.slots ?? 1);
  }

  get running(): boolean {
    return this.active;
  }

  /** Starts every slot; `before` (if given) runs first, once, and must not throw. No-op when running. */
  start(before?: () => Promise<void>): void {
    if (this.active) return;
    this.active = true;
    const ready = before ? before() : Promise.resolve();
    for (let slot = 0; slot < this.slots; slot++) this.loops.push(ready.then(() => this.run(slot)));
  }

  /** Resolves when every slot has returned from the pass in hand (if any). */
  async stop(): Promise<void> {
    this.active = false;
    for (const wake of [...this.sleepers]) wake();
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** Work arrived: wake one sleeping slot, or make the next pass happen without sleeping. */
  kick(): void {
    const sleeper = this.sleepers.values().next();
    if (!sleeper.done) sleeper.value();
    else this.pendingKicks = Math.min(this.pendingKicks + 1, this.slots);
  }

  private async run(slot: number): Promise<void> {
    let failures = 0;
    while (this.active) {
      if (this.pendingKicks > 0) this.pendingKicks--;
      let next: PassNext;
      try {
        next = await this.opts.pass(slot);
      } catch (e) {
        failures++;
        this.failed(e);
        if (!this.active) break;
        await this.sleep(Math.max(this.opts.pollMs, backoffMs(failures)), false);
        continue;
      }
      if (failures > 0) {
        failures = 0;
        this.recovered();
      }
      if (!this.active) break;
      if (next !== 'again') await this.sleep(next, true);
    }
  }

  private failed(e: unknown): void {
    const reason = dbUnavailableReason(e);
    if (reason === undefined) {
      this.opts.log.warn({ err: e }, this.opts.messages.failed);
    } else if (!this.outage) {
      this.outage = true;
      this.opts.log.warn({ reason }, this.opts.messages.unreachable);
    }
  }

  private recovered(): void {
    if (!this.outage) return;
    this.outage = false;
    this.opts.log.info(this.opts.messages.recovered);
  }

  private sleep(ms: number, takeKick: boolean): Promise<void> {
    if (takeKick && this.pendingKicks > 0) {
      this.pendingKicks--;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(ms, 1));
      this.sleepers.add(done);
    });
  }
}
