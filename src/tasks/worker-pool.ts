/**
 * The worker pool: N slots, each claiming a runnable task (shared fairly between the submitting keys, see
 * TaskQueue.claim and MEDLEY_MAX_RUNNING_PER_KEY), running it under a lease it renews
 * while the task runs, and recording the outcome. Used by `medley serve` (beside the API) and by
 * `medley worker` (workers only, same database and blobs).
 *
 * Waking: a task accepted by this process wakes an idle slot at once (TaskSignal); tasks queued by other
 * processes, and tasks whose lease ran out, are found by polling every `pollMs`.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { MedleyError } from '../errors.js';
import type { TaskRecord } from './records.js';
import { LeaseLost, notificationFor, runTask, type RunnerDeps } from './runner.js';
import { liveAttempt, reapWorkDirs } from './work-dirs.js';
import type { TaskSignal } from './service.js';
import { isProcessAlive } from '../util/process.js';

/** A task claimed this many times without finishing (its worker keeps dying) is failed, not retried forever. */
export const MAX_ATTEMPTS = 3;

export interface WorkerPoolOptions extends RunnerDeps {
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  signal: TaskSignal;
  log: Logger;
  /** Called after a task reached its final state (e.g. to wake the notification dispatcher). */
  onFinished?: () => void;
}

/** Owner ids say which process holds a lease: host, pid and a per-start nonce (pids get reused). */
const BOOT = randomBytes(6).toString('hex');
const HOST = hostname();

export function ownerId(slot: number): string {
  return `${HOST}:${process.pid}:${BOOT}:${slot}`;
}

/** True when `owner` was a process on this machine that is gone (so its leases need not run out). */
export function isDeadLocalOwner(owner: string, alive: (pid: number) => boolean = isProcessAlive): boolean {
  const [host, pidText, boot] = owner.split(':');
  if (host !== HOST) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return boot !== BOOT;
  return !alive(pid);
}


/** SQLITE_BUSY / SQLITE_LOCKED: contention, not a property of the task. */
export function isTransientDbError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}

export class WorkerPool {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly active = new Map<string, { controller: AbortController; owner: string; reason?: 'shutdown' | 'lease' }>();
  private wake: (() => void)[] = [];
  /** A wake-up that found no sleeper (every slot between claims): the next sleep returns at once. */
  private missedWakes = 0;
  private purgeTimer?: NodeJS.Timeout;

  constructor(private readonly opts: WorkerPoolOptions) {}

  get concurrency(): number {
    return this.opts.concurrency;
  }

  async start(): Promise<void> {
    if (this.running || this.opts.concurrency <= 0) return;
    this.running = true;
    const released = await this.opts.queue.releaseDeadOwners((o) => isDeadLocalOwner(o));
    if (released > 0) this.opts.log.info({ tasks: released }, 'resuming tasks whose worker process died');
    const reap = () =>
      reapWorkDirs(this.opts.workRoot, liveAttempt(this.opts.queue, (o) => isDeadLocalOwner(o)), this.opts.log)
        .then((n) => n > 0 && this.opts.log.info({ dirs: n }, 'removed work directories left by crashed attempts'))
        .catch((err: unknown) => this.opts.log.warn({ err }, 'cleaning the work directory failed'));
    await reap();
    this.opts.signal.on('queued', this.onQueued);
    for (let slot = 0; slot < this.opts.concurrency; slot++) this.loops.push(this.loop(slot));
    const purge = () =>
      this.opts.queue
        .purgeExpired()
        .then((n) => n > 0 && this.opts.log.info({ tasks: n }, 'purged task records past retention'))
        .catch((err: unknown) => this.opts.log.warn({ err }, 'task purge failed'));
    void purge();
    this.purgeTimer = setInterval(() => {
      void purge();
      void reap();
    }, 60 * 60 * 1000);
    this.purgeTimer.unref();
  }

  /** Stops claiming; running tasks are cancelled and handed back (claimable at once by another worker). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.purgeTimer);
    this.opts.signal.off('queued', this.onQueued);
    for (const a of this.active.values()) {
      a.reason = 'shutdown';
      a.controller.abort();
    }
    this.wakeAll();
    await Promise.all(this.loops);
  }

  private readonly onQueued = () => {
    // One task: one sleeper is enough; it claims, and the others keep sleeping.
    const sleeper = this.wake.shift();
    if (sleeper) sleeper();
    else this.missedWakes = Math.min(this.missedWakes + 1, this.opts.concurrency);
  };

  private wakeAll(): void {
    for (const w of this.wake.splice(0)) w();
  }

  private sleep(ms: number): Promise<void> {
    if (this.missedWakes > 0) {
      this.missedWakes--;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = this.wake.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake.push(done);
    });
  }

  private async loop(slot: number): Promise<void> {
    const owner = ownerId(slot);
    while (this.running) {
      let task: TaskRecord | undefined;
      try {
        task = await this.opts.queue.claim(owner, this.opts.leaseMs);
      } catch (err) {
        this.opts.log.warn({ err }, 'claiming a task failed; retrying');
      }
      if (!task) {
        await this.sleep(this.opts.pollMs);
        continue;
      }
      await this.execute(task, owner);
    }
  }

  private async execute(task: TaskRecord, owner: string): Promise<void> {
    const { queue, log } = this.opts;
    const tlog = log.child({ taskId: task.taskId, attempt: task.attempts });
    if (task.attempts > MAX_ATTEMPTS) {
      tlog.error('task interrupted too many times; failing it');
      const given = new MedleyError('TaskInterrupted', `The task was interrupted ${task.attempts - 1} times (its worker stopped) and was given up.`);
      const outcome = { state: 'failed' as const, code: given.immCode, message: given.message, outputs: [] };
      await queue.finish(task.taskId, owner, { ...outcome, notification: notificationFor(this.opts, task, outcome) });
      this.opts.onFinished?.();
      return;
    }
    tlog.info({ project: task.projectName }, task.attempts > 1 ? 'resuming task' : 'starting task');
    const controller = new AbortController();
    const entry: { controller: AbortController; owner: string; reason?: 'shutdown' | 'lease' } = { controller, owner };
    this.active.set(task.taskId, entry);
    let progress = 0;
    let reported = 0;
    const beat = setInterval(() => {
      const p = progress > reported ? progress : undefined;
      queue.heartbeat(task.taskId, owner, this.opts.leaseMs, p).then(
        (mine) => {
          if (p !== undefined) reported = p;
          if (!mine && !controller.signal.aborted) {
            entry.reason = 'lease';
            controller.abort();
          }
        },
        (err: unknown) => tlog.warn({ err }, 'heartbeat failed'),
      );
    }, Math.max(200, Math.floor(this.opts.leaseMs / 3)));
    const started = Date.now();
    try {
      await runTask(this.opts, task, { owner, signal: controller.signal, onProgress: (p) => (progress = Math.max(progress, Math.min(99, p))) });
      tlog.info({ ms: Date.now() - started }, 'task succeeded');
      this.opts.onFinished?.();
    } catch (e) {
      if (e instanceof LeaseLost || entry.reason === 'lease') {
        tlog.warn('lost the lease: another worker owns the task now');
      } else if (isTransientDbError(e)) {
        // The database was busy (another process held the write lock too long): try the task again later.
        tlog.warn({ err: e }, 'database busy: handing the task back for a retry');
        await queue.release(task.taskId, owner).catch(() => undefined);
      } else if (entry.reason === 'shutdown') {
        await queue.release(task.taskId, owner).catch(() => undefined);
        tlog.info('task handed back on shutdown');
      } else {
        const known = e instanceof MedleyError;
        const code = known ? e.immCode : 'InternalError';
        const message = known ? e.message : 'The media task failed because of an internal error.';
        if (!known) tlog.error({ err: e }, 'task crashed');
        else tlog.info({ code, msg: message }, 'task failed');
        const outcome = { state: 'failed' as const, code, message, outputs: [] };
        await queue.finish(task.taskId, owner, { ...outcome, notification: notificationFor(this.opts, task, outcome) }).catch((err: unknown) => tlog.error({ err }, 'recording the failure failed'));
        this.opts.onFinished?.();
      }
    } finally {
      clearInterval(beat);
      this.active.delete(task.taskId);
    }
  }
}
