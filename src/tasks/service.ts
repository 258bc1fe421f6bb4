/**
 * The task front office: accepting a media task (authorisation, existence checks, the durable insert and
 * waking a worker) and reading tasks back for GetTask/ListTasks. Workers live in worker-pool.ts.
 */
import { EventEmitter } from 'node:events';
import { LocalWakeups, type Wakeups } from '../db/wakeups.js';
import { AccessGate } from '../auth/access.js';
import { taskVisibility, type Principal } from '../auth/policy.js';
import { fail } from '../errors.js';
import type { MediaJob } from '../media/job.js';
import type { Storage } from '../storage/index.js';
import { newEventId, newTaskId } from './ids.js';
import { InvalidPageToken, QueuedLimitReached, TaskQueue } from './queue.js';
import { outputNames, type OutputNames } from '../media/output-name.js';
import type { TaskListQuery, TaskPage, TaskRecord, TaskSpec } from './records.js';

export interface SubmitTaskInput {
  job: MediaJob;
  projectName: string;
  /** Who asked: needs read on every source and write on the output bucket. */
  principal: Principal;
  /** TaskRequestDefinition: JSON-able (IMM: the request with complex parameters as real JSON). */
  requestDefinition: unknown;
  templateSource: TaskSpec['templateSource'];
  origin: TaskSpec['origin'];
  /** The RequestId the caller's response carries (IMM envelope / OSS JSON body). */
  requestId: string;
}

export interface SubmittedTask {
  taskId: string;
  eventId: string;
  requestId: string;
}

/**
 * Signal from the front office to idle workers, so an accepted task starts at once (no polling interval in
 * its latency): 'queued' is emitted here whenever a task was queued on any node sharing the wake-ups
 * (src/db/wakeups.ts: in-process on SQLite, LISTEN/NOTIFY on PostgreSQL).
 */
export class TaskSignal extends EventEmitter {
  private readonly unsubscribe: () => void;

  constructor(private readonly wakeups: Wakeups = new LocalWakeups()) {
    super();
    this.unsubscribe = wakeups.subscribe('tasks', () => this.emit('queued'));
  }

  notifyQueued(): void {
    this.wakeups.notify('tasks');
  }

  close(): void {
    this.unsubscribe();
  }
}

export interface TaskServiceOptions {
  retentionMs: number;
  signal: TaskSignal;
  now?: () => Date;
  /** Most tasks one access key may have queued (MEDLEY_MAX_QUEUED_PER_KEY); default unlimited. */
  maxQueuedPerKey?: number;
}

const NEVER_ANONYMOUS = 'Media processing is never anonymous: sign the request.';

export class TaskService {
  private readonly access: AccessGate;

  constructor(
    private readonly queue: TaskQueue,
    private readonly storage: Storage,
    private readonly opts: TaskServiceOptions,
  ) {
    this.access = new AccessGate(storage);
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  /**
   * The access rule of a submission, without submitting (the console's plan view asks it too): read on every
   * source (an OSS source must exist), write on the output bucket; answers the output's names.
   */
  async authorize(input: Pick<SubmitTaskInput, 'job' | 'principal' | 'templateSource' | 'origin'>): Promise<OutputNames> {
    const { job } = input;
    for (const clip of job.clips) {
      const { bucket, key } = clip.source;
      const { object } = await this.access.require(input.principal, 'read', bucket, key, { signedOnly: NEVER_ANONYMOUS, denied: `You may not read oss://${bucket}/${key}, a source of this task.` });
      if (input.origin === 'oss' && !object) {
        fail('NoSuchKey', `The source object ${key} of this task does not exist in bucket ${bucket}.`, { Key: key });
      }
    }
    // Expanding the output name now turns an unknown {variable} into a synchronous 400, not a failed task.
    const output = outputNames(job, input.templateSource, undefined, this.now());
    await this.access.require(input.principal, 'write', output.bucket, undefined, { signedOnly: NEVER_ANONYMOUS, denied: `You may not write to bucket ${output.bucket}, the output of this task.` });
    return output;
  }

  /**
   * Validates access and stores the task before returning (the caller answers 200 only after this).
   * Throws MedleyError: AccessDenied (no read on a source / no write on the output bucket), NoSuchBucket;
   * for origin 'oss' a missing source object is NoSuchKey naming it (IMM reports it as the task's failure).
   */
  async submit(input: SubmitTaskInput): Promise<SubmittedTask> {
    const { job } = input;
    const output = await this.authorize(input);

    const now = this.now().getTime();
    const taskId = newTaskId();
    const eventId = newEventId();
    const spec: TaskSpec = { job, templateSource: input.templateSource, origin: input.origin };
    const ownerKey = input.principal.accessKeyId ?? '';
    const row = {
      id: taskId,
      project: input.projectName,
      type: 'MediaConvert',
      event_id: eventId,
      request_id: input.requestId,
      state: 'queued',
      progress: 0,
      code: '',
      message: '',
      user_data: job.userData ?? '',
      tags: JSON.stringify(job.tags ?? {}),
      request_definition: JSON.stringify(input.requestDefinition),
      spec: JSON.stringify(spec),
      outputs: '[]',
      notify_topic: job.notify?.topic ?? null,
      created_at: now,
      started_at: null,
      ended_at: null,
      attempts: 0,
      lease_owner: null,
      lease_expires_at: null,
      expires_at: now + this.opts.retentionMs,
      owner_key: ownerKey,
    };
    try {
      await this.queue.insert(row, { buckets: [...job.clips.map((c) => c.source.bucket), output.bucket], maxQueuedPerKey: this.opts.maxQueuedPerKey });
    } catch (e) {
      if (e instanceof QueuedLimitReached) {
        fail('TaskQueueFull', `The access key ${ownerKey} already has ${e.limit} tasks waiting to run (MEDLEY_MAX_QUEUED_PER_KEY = ${e.limit}); submit more once some have started.`);
      }
      throw e;
    }
    this.opts.signal.notifyQueued();
    return { taskId, eventId, requestId: input.requestId };
  }

  /**
   * undefined when unknown, of another project, past retention, or not the reader's to see: a scoped key
   * sees its own tasks and those whose every bucket its grants cover (auth/policy.ts taskVisibility); a
   * task it may not see is as absent as one that never existed.
   */
  async get(projectName: string, taskId: string, reader: Principal): Promise<TaskRecord | undefined> {
    const t = await this.queue.get(taskId, taskVisibility(reader));
    return t && t.projectName === projectName ? t : undefined;
  }

  /** The reader's visible tasks only (see get), filtered in SQL so pages stay full. */
  async list(q: TaskListQuery, reader: Principal): Promise<TaskPage> {
    try {
      return await this.queue.list(q, taskVisibility(reader));
    } catch (e) {
      if (e instanceof InvalidPageToken) fail('InvalidMediaArgument', `NextToken "${q.nextToken}" is not a token this service issued.`);
      throw e;
    }
  }

  /** Tasks of the project not yet Succeeded/Failed. */
  hasActiveTasks(projectName: string): Promise<boolean> {
    return this.queue.hasActive(projectName);
  }
}
