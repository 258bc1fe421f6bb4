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
import { dbUnavailableReason, isDbUnavailable, isTransientDbError, retryWhileUnavailable } from '../db/errors.js';
import { BackgroundLoop } from '../db/background-loop.js';

export { isTransientDbError };

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
  /** This node's name (MEDLEY_NODE_NAME), the first part of its lease owner ids; default the host name. */
  nodeName?: string;
}

/**
 * Owner ids say which process holds a lease: node name (MEDLEY_NODE_NAME, default the host name), pid and a
 * per-start nonce (pids get reused). A node recognizes its own dead processes by the node name, so a node
 * name must not be shared by two machines (two processes of one machine may share one: their pids differ).
 */
const BOOT = randomBytes(6).toString('hex');
const HOST = hostname();

export function ownerId(slot: number, node: string = HOST): string {
  return `${processOwnerPrefix(node)}${slot}`;
}

/** What every owner id of this process starts with (TaskQueue's limitScope). */
export function processOwnerPrefix(node: string = HOST): string {
  return `${node}:${process.pid}:${BOOT}:`;
}

/** True when `owner` was a process of this node (machine) that is gone (so its leases need not run out). */
export function isDeadLocalOwner(owner: string, alive: (pid: number) => boolean = isProcessAlive, node: string = HOST): boolean {
  const [host, pidText, boot] = owner.split(':');
  if (host !== node) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return boot !== BOOT;
  return !alive(pid);
}


/** Phase timings for the log line: whole tenths of a millisecond. */
function roundPhases(phases: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round((v ?? 0) * 10) / 10]));
}

export class WorkerPool {
  private running = false;
  private readonly active = new Map<string, { controller: AbortController; owner: string; reason?: 'shutdown' | 'lease' }>();
  private purgeTimer?: NodeJS.Timeout;
  private readonly node: string;
  /** One slot per concurrent task; a queued task kicks one idle slot. */
  private readonly slots: BackgroundLoop;

  constructor(private readonly opts: WorkerPoolOptions) {
    this.node = opts.nodeName ?? HOST;
    this.slots = new BackgroundLoop({
      pass: (slot) => this.claimAndRun(ownerId(slot, this.node)),
      slots: opts.concurrency,
      pollMs: opts.pollMs,
      log: opts.log,
      messages: { unreachable: 'the database is unreachable: workers wait and retry', failed: 'claiming a task failed; retrying', recovered: 'the database is reachable again: workers resume' },
    });
  }

  private isDeadOwner = (o: string) => isDeadLocalOwner(o, isProcessAlive, this.node);

  get concurrency(): number {
    return this.opts.concurrency;
  }

  async start(): Promise<void> {
    if (this.running || this.opts.concurrency <= 0) return;
    this.running = true;
    // Not fatal: the database may be briefly unreachable; crashed leases then run out and are claimed anyway.
    const released = await this.opts.queue.releaseDeadOwners(this.isDeadOwner).catch((err: unknown) => {
      this.opts.log.warn({ err }, 'releasing the tasks of dead workers failed; their leases will run out');
      return 0;
    });
    if (released > 0) this.opts.log.info({ tasks: released }, 'resuming tasks whose worker process died');
    const reap = () =>
      reapWorkDirs(this.opts.workRoot, liveAttempt(this.opts.queue, this.isDeadOwner), this.opts.log)
        .then((n) => n > 0 && this.opts.log.info({ dirs: n }, 'removed work directories left by crashed attempts'))
        .catch((err: unknown) => this.opts.log.warn({ err }, 'cleaning the work directory failed'));
    await reap();
    // Stopped while the dead workers' leftovers were being cleared: start nothing.
    if (!this.running) return;
    this.opts.signal.on('queued', this.onQueued);
    this.slots.start();
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
    await this.slots.stop();
  }

  /** One task: one idle slot is enough; it claims, and the others keep sleeping. */
  private readonly onQueued = () => this.slots.kick();

  /** One pass of a slot: claim a task (a failed claim backs off), run it, and claim again at once. */
  private async claimAndRun(owner: string): Promise<number | 'again'> {
    const task = await this.opts.queue.claim(owner, this.opts.leaseMs);
    if (!task) return this.opts.pollMs;
    try {
      await this.execute(task, owner);
    } catch (err) {
      // Recording an outcome failed (the database went away): the task stays leased to us; handing it
      // back, or its lease running out, makes it run again. The slot lives on.
      this.opts.log.warn({ err, taskId: task.taskId }, 'recording a task outcome failed; the task will run again');
      await this.handBack(task.taskId, owner);
    }
    return 'again';
  }

  /**
   * Hands a task back after the database was unreachable or busy, retrying while the database is down
   * (up to the lease time: after that another worker may claim it anyway). `refundAttempt`: not counted
   * as an attempt (the database went away; the task is not what failed).
   */
  private async handBack(taskId: string, owner: string, refundAttempt = true): Promise<boolean> {
    return retryWhileUnavailable(() => this.opts.queue.release(taskId, owner, { refundAttempt }), {
      untilMs: Date.now() + this.opts.leaseMs,
      keepGoing: () => this.running,
      retryable: (err) => isDbUnavailable(err) || isTransientDbError(err),
    }).then(
      () => true,
      () => false,
    );
  }

  private async execute(task: TaskRecord, owner: string): Promise<void> {
    const { queue, log } = this.opts;
    const tlog = log.child({ taskId: task.taskId, attempt: task.attempts });
    if (task.attempts > MAX_ATTEMPTS) {
      tlog.error('task interrupted too many times; failing it');
      const given = new MedleyError('TaskInterrupted', `The task was interrupted ${task.attempts - 1} times (its worker stopped) and was given up.`);
      const outcome = { state: 'failed' as const, code: given.immCode, message: given.message, outputs: [] };
      // Throws when the database is unreachable: the loop hands the task back.
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
        // The database may be down for a while: the task keeps running; if the lease runs out meanwhile and
        // another worker claims the task, the next heartbeat finds it lost and stops this run.
        (err: unknown) => (isDbUnavailable(err) ? tlog.debug({ reason: dbUnavailableReason(err) }, 'heartbeat failed: the database is unreachable') : tlog.warn({ err }, 'heartbeat failed')),
      );
    }, Math.max(200, Math.floor(this.opts.leaseMs / 3)));
    const started = Date.now();
    try {
      const phases = await runTask(this.opts, task, { owner, signal: controller.signal, onProgress: (p) => (progress = Math.max(progress, Math.min(99, p))) });
      tlog.info({ ms: Date.now() - started, phases: roundPhases(phases) }, 'task succeeded');
      this.opts.onFinished?.();
    } catch (e) {
      if (e instanceof LeaseLost || entry.reason === 'lease') {
        tlog.warn('lost the lease: another worker owns the task now');
      } else if (isDbUnavailable(e)) {
        // The database went away (restart, outage) while the task ran or committed: nothing of it was
        // acknowledged (or, if the commit did land, the hand-back changes nothing). Run it again later.
        tlog.warn({ reason: dbUnavailableReason(e) }, 'the database is unreachable: handing the task back for a retry');
        await this.handBack(task.taskId, owner);
      } else if (isTransientDbError(e)) {
        // The database was busy (another process held the write lock too long): try the task again later.
        tlog.warn({ err: e }, 'database busy: handing the task back for a retry');
        // Counted as an attempt (as before): busy errors that never end must not retry the task forever.
        await this.handBack(task.taskId, owner, false);
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
        // Unrecorded (the database went away): the lease stays ours; handing back lets the task run again.
        const recorded = await queue.finish(task.taskId, owner, { ...outcome, notification: notificationFor(this.opts, task, outcome) }).then(
          () => true,
          (err: unknown) => {
            tlog.warn({ err }, 'recording the failure failed; the task will run again');
            return false;
          },
        );
        if (!recorded) await this.handBack(task.taskId, owner);
        this.opts.onFinished?.();
      }
    } finally {
      clearInterval(beat);
      this.active.delete(task.taskId);
    }
  }
}
