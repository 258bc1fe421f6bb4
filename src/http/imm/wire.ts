/**
 * Domain records → IMM JSON with the exact field types of spec/imm.md §3: typed clients (Go) decode into
 * structs, so an int64 must be a JSON number, a time a string, ListTasks' MaxResults a string.
 */
import type { AttachmentRecord, ProjectRecord } from '../../projects/types.js';
import type { TaskPage, TaskRecord } from '../../tasks/records.js';

/** Read-only project capacities IMM reports (spec §3.1); Medley enforces neither. */
export const PROJECT_QUERIES_PER_SECOND = 100;
export const ENGINE_CONCURRENCY = 100;

/** UTC ISO-8601 with milliseconds for every resource and task time (spec §6 #21). */
export const wireTime = (d: Date): string => d.toISOString();

export function projectToWire(p: ProjectRecord): Record<string, unknown> {
  return {
    ProjectName: p.name,
    Description: p.description,
    ServiceRole: p.serviceRole,
    TemplateId: p.templateId,
    CreateTime: wireTime(p.createdAt),
    UpdateTime: wireTime(p.updatedAt),
    // Medley has no datasets: the statistics are honestly zero.
    DatasetCount: 0,
    FileCount: 0,
    TotalFileSize: 0,
    DatasetMaxBindCount: p.limits.DatasetMaxBindCount,
    DatasetMaxFileCount: p.limits.DatasetMaxFileCount,
    DatasetMaxEntityCount: p.limits.DatasetMaxEntityCount,
    DatasetMaxRelationCount: p.limits.DatasetMaxRelationCount,
    DatasetMaxTotalFileSize: p.limits.DatasetMaxTotalFileSize,
    ProjectMaxDatasetCount: p.limits.ProjectMaxDatasetCount,
    ProjectQueriesPerSecond: PROJECT_QUERIES_PER_SECOND,
    EngineConcurrency: ENGINE_CONCURRENCY,
    Tags: p.tags.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue })),
  };
}

/** GetOSSBucketAttachment's fields (siblings of RequestId). */
export function attachmentToWire(a: AttachmentRecord): Record<string, unknown> {
  return {
    ProjectName: a.projectName,
    Description: a.description,
    CreateTime: wireTime(a.createdAt),
    UpdateTime: wireTime(a.updatedAt),
  };
}

function progressOf(t: TaskRecord): number {
  // A final task is complete whatever the worker last reported (spec §6 #8).
  if (t.status !== 'Running') return 100;
  const p = Math.round(Number(t.progress));
  return Number.isFinite(p) ? Math.min(100, Math.max(0, p)) : 0;
}

/** The TaskInfo fields both GetTask and ListTasks carry, in SDK order. */
function taskFields(t: TaskRecord, withDefinition: boolean): Record<string, unknown> {
  const failed = t.status === 'Failed';
  const out: Record<string, unknown> = {
    Status: t.status,
    // Non-empty only when Failed: pop-core raises on any top-level Code (spec §6 #18).
    Code: failed ? t.code : '',
    Message: failed ? t.message : '',
    StartTime: wireTime(t.createdAt),
  };
  if (t.status !== 'Running' && t.endedAt) out.EndTime = wireTime(t.endedAt);
  out.Progress = progressOf(t);
  out.Tags = t.tags;
  out.UserData = t.userData;
  if (withDefinition) out.TaskRequestDefinition = t.requestDefinition;
  return out;
}

/** GetTask's fields (siblings of RequestId). */
export function getTaskToWire(t: TaskRecord, withDefinition: boolean): Record<string, unknown> {
  return {
    ProjectName: t.projectName,
    TaskId: t.taskId,
    TaskType: t.taskType,
    EventId: t.eventId,
    ...taskFields(t, withDefinition),
  };
}

/** One ListTasks item (TaskInfo, spec §3.2). */
export function taskInfoToWire(t: TaskRecord, withDefinition: boolean): Record<string, unknown> {
  return { TaskId: t.taskId, TaskType: t.taskType, ...taskFields(t, withDefinition) };
}

/** ListTasks' fields; MaxResults is the page length as a decimal string (spec §6 #9). */
export function listTasksToWire(projectName: string, page: TaskPage, withDefinition: boolean): Record<string, unknown> {
  return {
    ProjectName: projectName,
    NextToken: page.nextToken,
    MaxResults: String(page.tasks.length),
    Tasks: page.tasks.map((t) => taskInfoToWire(t, withDefinition)),
  };
}
