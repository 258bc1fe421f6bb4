/**
 * CreateMediaConvertTask, GetTask and ListTasks (spec/imm.md §4.9-4.11). Access to media is judged by the
 * task service (read on every source, write on the output bucket), so any signed key may call these; a
 * scoped key reads back only the tasks whose buckets its grants cover (others are ResourceNotFound).
 */
import { fail } from '../../../errors.js';
import { parseMediaConvertRequest } from '../../../media/request/imm-request.js';
import type { TaskListQuery, TaskStatus } from '../../../tasks/records.js';
import type { ImmOperation } from '../context.js';
import { invalidArgument } from '../errors.js';
import { optionalBool, optionalInt, optionalJson, optionalString, requiredString, type ParamMap } from '../params.js';
import { getTaskToWire, listTasksToWire } from '../wire.js';

const TASK_NOT_FOUND = 'The specified resource task is not found.';
const PROJECT_NOT_FOUND = 'The specified resource project is not found.';

/** JSON-encoded parameters of CreateMediaConvertTask (spec §1.3). */
export const MEDIA_CONVERT_COMPLEX = ['Sources', 'Targets', 'TargetGroups', 'Notification', 'Tags', 'CredentialConfig'] as const;
const MEDIA_CONVERT_INTEGERS = ['AlignmentIndex'] as const;

/** Gateway parameters: they describe the call, not the task, so TaskRequestDefinition leaves them out. */
export function isCommonParameter(name: string): boolean {
  return ['AccessKeyId', 'Action', 'Version', 'Format', 'Timestamp', 'SecurityToken', 'RegionId'].includes(name) || name.startsWith('Signature');
}

/**
 * TaskRequestDefinition: the API parameters with complex ones as real JSON (spec §4.10), whether they came
 * as JSON text or flattened; integer parameters as numbers, the rest as the strings they were.
 */
export function requestDefinition(params: ParamMap, complex: readonly string[], integers: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    if (isCommonParameter(name)) continue;
    const root = name.split('.', 1)[0]!;
    if (complex.includes(root)) {
      if (!Object.hasOwn(out, root)) {
        const v = optionalJson(params, root);
        if (v !== undefined) out[root] = v;
      }
      continue;
    }
    out[name] = integers.includes(name) && /^-?\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : value;
  }
  return out;
}

const createMediaConvertTask: ImmOperation = async (ctx) => {
  const { job, projectName } = parseMediaConvertRequest(ctx.params);
  // A valid request on a disk below the reserve: 503, after the 4xx checks of the request itself.
  ctx.assertWritable?.();
  if (!(await ctx.projects.find(projectName))) fail('ImmResourceNotFound', PROJECT_NOT_FOUND, { ProjectName: projectName });
  const first = job.clips[0];
  // parseMediaConvertRequest guarantees one source at least; this only satisfies the type checker.
  if (!first) return invalidArgument('Sources', 'must list 1-11 sources');
  const submitted = await ctx.tasks.submit({
    job,
    projectName,
    principal: ctx.principal,
    requestDefinition: requestDefinition(ctx.params, MEDIA_CONVERT_COMPLEX, MEDIA_CONVERT_INTEGERS),
    templateSource: first.source,
    origin: 'imm',
    requestId: ctx.requestId,
  });
  return { TaskId: submitted.taskId, EventId: submitted.eventId };
};

const getTask: ImmOperation = async (ctx) => {
  const projectName = requiredString(ctx.params, 'ProjectName');
  const taskId = requiredString(ctx.params, 'TaskId');
  const taskType = requiredString(ctx.params, 'TaskType');
  const withDefinition = optionalBool(ctx.params, 'RequestDefinition') ?? false;
  const task = await ctx.tasks.get(projectName, taskId, ctx.principal);
  if (!task || task.projectName !== projectName || task.taskType !== taskType) fail('ImmResourceNotFound', TASK_NOT_FOUND, { TaskId: taskId });
  return getTaskToWire(task, withDefinition);
};

const STATUSES: readonly TaskStatus[] = ['Running', 'Succeeded', 'Failed'];
const SORTS: readonly TaskListQuery['sort'][] = ['TaskId', 'StartTime', 'EndTime'];
/** RFC3339 (spec §3.3): a date, a time, optional fraction (IMM writes up to 9 digits), Z or an offset. */
const RFC3339 = /^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseRfc3339(name: string, raw: unknown): Date {
  const m = typeof raw === 'string' ? RFC3339.exec(raw.trim()) : null;
  // Date.parse takes milliseconds at most; finer digits cannot change a filter on millisecond times.
  const d = m ? new Date(`${m[1]!.replace(/[t ]/, 'T')}${(m[2] ?? '').slice(0, 4)}${m[3]!.toUpperCase()}`) : undefined;
  if (!d || Number.isNaN(d.getTime())) return invalidArgument(name, 'must be an RFC3339 time such as 2024-08-20T07:03:07Z', typeof raw === 'string' ? raw : JSON.stringify(raw));
  return d;
}

function timeRange(p: ParamMap, name: string): { start?: Date; end?: Date } | undefined {
  const raw = optionalJson(p, name);
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) return invalidArgument(name, 'must be a JSON object {"Start": "<RFC3339>", "End": "<RFC3339>"}');
  const r = raw as Record<string, unknown>;
  const range: { start?: Date; end?: Date } = {};
  if (r.Start !== undefined && r.Start !== null && r.Start !== '') range.start = parseRfc3339(`${name}.Start`, r.Start);
  if (r.End !== undefined && r.End !== null && r.End !== '') range.end = parseRfc3339(`${name}.End`, r.End);
  return range;
}

/** ListTasks' filters, validated and normalised (spec §4.11, §6 #10). */
export function parseListTasksQuery(p: ParamMap): TaskListQuery {
  const q: TaskListQuery = { projectName: requiredString(p, 'ProjectName'), sort: 'TaskId', order: 'asc', maxResults: 100 };
  const types = optionalJson(p, 'TaskTypes');
  if (types !== undefined) {
    if (!Array.isArray(types) || !types.every((t) => typeof t === 'string' && t !== '')) invalidArgument('TaskTypes', 'must be a JSON array of task type names such as ["MediaConvert"]');
    if (types.length > 0) q.taskTypes = types as string[];
  }
  const status = optionalString(p, 'Status');
  if (status !== undefined) q.status = STATUSES.find((s) => s.toLowerCase() === status.toLowerCase()) ?? invalidArgument('Status', `must be one of ${STATUSES.join(', ')}`, status);
  const start = timeRange(p, 'StartTimeRange');
  if (start) q.startTimeRange = start;
  const end = timeRange(p, 'EndTimeRange');
  if (end) q.endTimeRange = end;
  const selector = optionalString(p, 'TagSelector');
  if (selector !== undefined) {
    const eq = selector.indexOf('=');
    if (eq <= 0) invalidArgument('TagSelector', 'must be key=value', selector);
    q.tagSelector = { key: selector.slice(0, eq), value: selector.slice(eq + 1) };
  }
  const sort = optionalString(p, 'Sort');
  if (sort !== undefined) q.sort = SORTS.find((s) => s.toLowerCase() === sort.toLowerCase()) ?? invalidArgument('Sort', `must be one of ${SORTS.join(', ')}`, sort);
  const order = optionalString(p, 'Order');
  if (order !== undefined) {
    const o = order.toLowerCase();
    if (o === 'asc') q.order = 'asc';
    else if (o === 'desc' || o === 'des') q.order = 'desc';
    else invalidArgument('Order', 'must be asc or desc', order);
  }
  q.maxResults = optionalInt(p, 'MaxResults', { min: 1, max: 100 }) ?? 100;
  const nextToken = optionalString(p, 'NextToken');
  if (nextToken !== undefined) q.nextToken = nextToken;
  return q;
}

const listTasks: ImmOperation = async (ctx) => {
  const q = parseListTasksQuery(ctx.params);
  const withDefinition = optionalBool(ctx.params, 'RequestDefinition') ?? false;
  if (!(await ctx.projects.find(q.projectName))) fail('ImmResourceNotFound', PROJECT_NOT_FOUND, { ProjectName: q.projectName });
  return listTasksToWire(q.projectName, await ctx.tasks.list(q, ctx.principal), withDefinition);
};

export const taskOperations: Readonly<Record<string, ImmOperation>> = {
  CreateMediaConvertTask: createMediaConvertTask,
  GetTask: getTask,
  ListTasks: listTasks,
};
