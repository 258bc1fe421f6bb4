/**
 * The task model as the rest of Medley sees it (the SQL row is tasks table in db/schema.ts).
 * Pure types and conversions; no I/O.
 */
import type { Selectable } from 'kysely';
import type { TaskTable } from '../db/schema.js';
import type { MediaJob, ObjectRef } from '../media/job.js';

/** Internal states. On the wire `queued` and `running` are both `Running` (spec/imm.md §4.13). */
export type TaskState = 'queued' | 'running' | 'succeeded' | 'failed';
export type TaskStatus = 'Running' | 'Succeeded' | 'Failed';

/** What a worker needs to run the task, stored with it (JSON in tasks.spec). */
export interface TaskSpec {
  job: MediaJob;
  /**
   * The object whose name feeds {bucket} {key} {dirname} ... in output templates: OSS, the object the
   * request was sent to; IMM, the first source.
   */
  templateSource: ObjectRef;
  /** Which front door: decides how a missing source is reported and how the definition reads. */
  origin: 'oss' | 'imm';
}

export interface TaskRecord {
  taskId: string;
  taskType: string;
  projectName: string;
  eventId: string;
  /** RequestId of the call that created the task. */
  requestId: string;
  state: TaskState;
  status: TaskStatus;
  /** 0-100. */
  progress: number;
  /** "" unless Failed. */
  code: string;
  message: string;
  userData: string;
  tags: Record<string, unknown>;
  /** JSON text (TaskRequestDefinition). */
  requestDefinition: string;
  spec: TaskSpec;
  /** Resolved oss:// URIs of what the task wrote, main output first. */
  outputs: string[];
  notifyTopic?: string;
  /** Accepted: IMM StartTime. */
  createdAt: Date;
  startedAt?: Date;
  endedAt?: Date;
  attempts: number;
  leaseOwner?: string;
  leaseExpiresAt?: Date;
  expiresAt: Date;
}

export function statusOf(state: TaskState): TaskStatus {
  return state === 'succeeded' ? 'Succeeded' : state === 'failed' ? 'Failed' : 'Running';
}

const ms = (v: number | null): Date | undefined => (v === null ? undefined : new Date(Number(v)));

export function toTask(r: Selectable<TaskTable>): TaskRecord {
  const state = r.state as TaskState;
  return {
    taskId: r.id,
    taskType: r.type,
    projectName: r.project,
    eventId: r.event_id,
    requestId: r.request_id,
    state,
    status: statusOf(state),
    progress: Number(r.progress),
    code: r.code,
    message: r.message,
    userData: r.user_data,
    tags: JSON.parse(r.tags) as Record<string, unknown>,
    requestDefinition: r.request_definition,
    spec: JSON.parse(r.spec) as TaskSpec,
    outputs: JSON.parse(r.outputs) as string[],
    notifyTopic: r.notify_topic ?? undefined,
    createdAt: new Date(Number(r.created_at)),
    startedAt: ms(r.started_at),
    endedAt: ms(r.ended_at),
    attempts: Number(r.attempts),
    leaseOwner: r.lease_owner ?? undefined,
    leaseExpiresAt: ms(r.lease_expires_at),
    expiresAt: new Date(Number(r.expires_at)),
  };
}

/** ListTasks filters (spec/imm.md §4.11), already validated by the dialect. */
export interface TaskListQuery {
  projectName: string;
  taskTypes?: string[];
  status?: TaskStatus;
  startTimeRange?: { start?: Date; end?: Date };
  endTimeRange?: { start?: Date; end?: Date };
  /** key=value against creation Tags (values compared as strings). */
  tagSelector?: { key: string; value: string };
  sort: 'TaskId' | 'StartTime' | 'EndTime';
  order: 'asc' | 'desc';
  /** 1-100. */
  maxResults: number;
  /** Opaque token from a previous page ("" or undefined for the first). */
  nextToken?: string;
}

export interface TaskPage {
  tasks: TaskRecord[];
  /** "" when there are no more. */
  nextToken: string;
}
