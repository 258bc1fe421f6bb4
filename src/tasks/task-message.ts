/**
 * The notification IMM publishes when a task ends (spec/imm.md §5.2-5.3, spec/oss.md §6.1): a JSON
 * envelope whose `content` is itself a JSON string. Pure: the same task and outcome always give the same
 * text, key order included (consumers of the cloud service sometimes compare or log it verbatim).
 */
import type { TaskRecord } from './records.js';

export interface TaskNotificationOutcome {
  status: 'Succeeded' | 'Failed';
  /** "" on success. */
  code: string;
  message: string;
  /** Resolved oss:// URIs of what the task wrote, main output first ([] when failed). */
  outputs: string[];
  endedAt: Date;
}

export interface TaskNotificationContext {
  region: string;
  accountId: string;
}

/** StartTime/EndTime: UTC ISO-8601 with milliseconds, as GetTask reports them (spec/imm.md §6 #21). */
const isoTime = (d: Date): string => d.toISOString();

const ossUri = (r: { bucket: string; key: string }): string => `oss://${r.bucket}/${r.key}`;

/**
 * The decoded §5.3 `content` object, keys in the documented order. `Targets` has one entry (Medley's
 * jobs have one output): its URI is the main output, "" when the task failed or wrote nothing.
 */
export function buildTaskContent(task: TaskRecord, outcome: TaskNotificationOutcome): Record<string, unknown> {
  const succeeded = outcome.status === 'Succeeded';
  return {
    ProjectName: task.projectName,
    DatasetName: '',
    RequestId: task.requestId,
    StartTime: isoTime(task.createdAt),
    EndTime: isoTime(outcome.endedAt),
    UserData: task.userData,
    TaskType: task.taskType,
    TaskId: task.taskId,
    Status: outcome.status,
    Code: succeeded ? '' : outcome.code,
    Message: succeeded ? '' : outcome.message,
    EventSourceId: '',
    Sources: (task.spec.job.clips ?? []).map((c) => ({ URI: ossUri(c.source), SubtitleSources: null })),
    Targets: [
      {
        URI: succeeded ? (outcome.outputs[0] ?? '') : '',
        Subtitle: { Extract: { URI: '' } },
        Image: { Sprites: null, Snapshots: null, Animations: null },
      },
    ],
  };
}

/** The §5.2 envelope as the exact message body text published to the task's topic. */
export function buildTaskNotification(task: TaskRecord, outcome: TaskNotificationOutcome, ctx: TaskNotificationContext): string {
  const type = `imm:Task:${task.taskType}`;
  return JSON.stringify({
    id: task.eventId,
    source: 'acs.imm',
    type,
    subject: `acs:imm:${ctx.region}:${ctx.accountId}:${task.projectName}/${type}`,
    time: String(outcome.endedAt.getTime()),
    content: JSON.stringify(buildTaskContent(task, outcome)),
  });
}
