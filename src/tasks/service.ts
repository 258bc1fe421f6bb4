/**
 * The task front office: accepting a media task (authorisation, existence checks, the durable insert and
 * waking a worker) and reading tasks back for GetTask/ListTasks. Workers live in worker-pool.ts.
 */
import { EventEmitter } from 'node:events';
import { effectiveAcl, isAllowed, type Access, type Principal } from '../auth/policy.js';
import { fail } from '../errors.js';
import type { MediaJob } from '../media/job.js';
import type { Storage } from '../storage/index.js';
import { newEventId, newTaskId } from './ids.js';
import { InvalidPageToken, TaskQueue } from './queue.js';
import { outputNames } from '../media/output-name.js';
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
 * In-process signal from the front office to idle workers, so a task accepted by this process starts at
 * once (no polling interval in its latency). Other processes find it by polling.
 */
export class TaskSignal extends EventEmitter {
  notifyQueued(): void {
    this.emit('queued');
  }
}

export class TaskService {
  constructor(
    private readonly queue: TaskQueue,
    private readonly storage: Storage,
    private readonly opts: { retentionMs: number; signal: TaskSignal; now?: () => Date },
  ) {}

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  private async requireAccess(principal: Principal, access: Access, bucketName: string, key?: string): Promise<void> {
    if (principal.kind === 'anonymous') fail('AccessDenied', 'Media processing is never anonymous: sign the request.');
    const bucket = await this.storage.buckets.get(bucketName);
    const object = key === undefined ? undefined : await this.storage.objects.find(bucketName, key);
    if (!isAllowed(principal, access, effectiveAcl(bucket.acl, object?.acl), bucketName)) {
      fail('AccessDenied', access === 'read' ? `You may not read oss://${bucketName}/${key ?? ''}, a source of this task.` : `You may not write to bucket ${bucketName}, the output of this task.`);
    }
  }

  /**
   * Validates access and stores the task before returning (the caller answers 200 only after this).
   * Throws MedleyError: AccessDenied (no read on a source / no write on the output bucket), NoSuchBucket;
   * for origin 'oss' a missing source object is NoSuchKey naming it (IMM reports it as the task's failure).
   */
  async submit(input: SubmitTaskInput): Promise<SubmittedTask> {
    const { job } = input;
    for (const clip of job.clips) {
      const { bucket, key } = clip.source;
      await this.requireAccess(input.principal, 'read', bucket, key);
      if (input.origin === 'oss' && !(await this.storage.objects.find(bucket, key))) {
        fail('NoSuchKey', `The source object ${key} of this task does not exist in bucket ${bucket}.`, { Key: key });
      }
    }
    // Expanding the output name now turns an unknown {variable} into a synchronous 400, not a failed task.
    const output = outputNames(job, input.templateSource, undefined, this.now());
    await this.requireAccess(input.principal, 'write', output.bucket);

    const now = this.now().getTime();
    const taskId = newTaskId();
    const eventId = newEventId();
    const spec: TaskSpec = { job, templateSource: input.templateSource, origin: input.origin };
    await this.queue.insert({
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
    });
    this.opts.signal.notifyQueued();
    return { taskId, eventId, requestId: input.requestId };
  }

  /** undefined when unknown, of another project, or past retention. */
  async get(projectName: string, taskId: string): Promise<TaskRecord | undefined> {
    const t = await this.queue.get(taskId);
    return t && t.projectName === projectName ? t : undefined;
  }

  async list(q: TaskListQuery): Promise<TaskPage> {
    try {
      return await this.queue.list(q);
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
