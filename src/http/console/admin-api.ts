/**
 * The console's admin API (JSON below /-/console/api): task lists with filters and NextToken paging,
 * presigned URLs, and the message service (topics, subscriptions, queues, peek, push deliveries). Like the
 * rest of the console it adds no permission of its own:
 *  - tasks go through the task service with the session principal (its visibility rule, its NextToken);
 *  - a presigned URL is signed with the session key's own secret on the server (the secret never reaches
 *    the page), so it can do exactly what that key can do over OSS, for at most a week;
 *  - the message service is the account's: the same rule as the MNS dialect (a key scoped to buckets is
 *    refused, MnsAccessDenied), then MnsService's own validation and errors.
 * Every refusal is `{ error, message }` with the catalog's status and wire code, never a bare 500.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBodyText, sendJson } from './json.js';
import type { Principal } from '../../auth/policy.js';
import { isAccountOwner } from '../../auth/policy.js';
import type { CredentialLookup } from '../../auth/credentials.js';
import { presignOssPath } from '../../auth/oss-signature.js';
import { databaseUnavailableError, fail, isMedleyError } from '../../errors.js';
import type { TaskService } from '../../tasks/service.js';
import type { TaskRecord, TaskStatus } from '../../tasks/records.js';
import { queueEndpoint, type MnsService } from '../../notify/mns-service.js';

export interface AdminApiDeps {
  lookup: CredentialLookup;
  tasks: TaskService;
  mns?: MnsService;
  /** The projects whose tasks the principal may list (index.ts). */
  projectsOf: (principal: Principal) => Promise<string[]>;
  /** What the page shows of a task (index.ts). */
  taskView: (t: TaskRecord) => Record<string, unknown>;
  /** Region of V4 presigned URLs (this server's). */
  region: string;
}

const MAX_JSON_BODY = 256 * 1024;
const TASK_STATUSES: readonly TaskStatus[] = ['Running', 'Succeeded', 'Failed'];

const send = sendJson;

/** A client mistake of this API's own (not a catalog error of a service): 400 with what is wrong. */
class BadRequest extends Error {}
const bad = (message: string): never => {
  throw new BadRequest(message);
};

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBodyText(req, MAX_JSON_BODY)) ?? bad(`The request body exceeds ${MAX_JSON_BODY} bytes.`);
  try {
    const v = JSON.parse(text === '' ? '{}' : text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) bad('The request body must be a JSON object.');
    return v as Record<string, unknown>;
  } catch (e) {
    if (e instanceof BadRequest) throw e;
    return bad('The request body must be JSON.');
  }
}

function str(body: Record<string, unknown>, name: string, required = true): string {
  const v = body[name];
  if (v === undefined || v === '') return required ? bad(`${name} is required (a string).`) : '';
  if (typeof v !== 'string') bad(`${name} must be a string.`);
  return v as string;
}

/** A `datetime-local` or ISO instant from the query; undefined when absent. */
function instant(q: URLSearchParams, name: string): Date | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) bad(`${name} "${v}" is not a date and time (ISO 8601, e.g. 2026-12-03T08:00).`);
  return d;
}

function parseRequestDefinition(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function createAdminApi(deps: AdminApiDeps) {
  async function tasks(principal: Principal, q: URLSearchParams) {
    const status = q.get('status') || undefined;
    if (status !== undefined && !(TASK_STATUSES as readonly string[]).includes(status)) bad(`status must be one of ${TASK_STATUSES.join(', ')}, not "${status}".`);
    const max = q.get('max') ? Number(q.get('max')) : 20;
    if (!Number.isInteger(max) || max < 1 || max > 100) bad(`max must be a whole number from 1 to 100, not "${q.get('max')}".`);
    const from = instant(q, 'from');
    const to = instant(q, 'to');
    if (from && to && from > to) bad('from must not be after to.');
    const projects = await deps.projectsOf(principal);
    const project = q.get('project') || undefined;
    const view = (t: TaskRecord) => ({ ...deps.taskView(t), type: t.taskType, attempts: t.attempts, userData: t.userData, notifyTopic: t.notifyTopic, request: parseRequestDefinition(t.requestDefinition) });
    const query = { status: status as TaskStatus | undefined, startTimeRange: from || to ? { start: from, end: to } : undefined, sort: 'StartTime' as const, order: 'desc' as const, maxResults: max };
    if (project !== undefined) {
      // One project: ListTasks itself, its NextToken handed through unchanged.
      const page = await deps.tasks.list({ ...query, projectName: project, nextToken: q.get('nextToken') ?? undefined }, principal);
      return { tasks: page.tasks.map(view), nextToken: page.nextToken, projects };
    }
    if (q.get('nextToken')) bad('nextToken pages one project: choose the project (ListTasks pages per project).');
    // Every project: the newest `max` of each, merged (a first page only; paging needs a project).
    const all: TaskRecord[] = [];
    for (const projectName of projects) all.push(...(await deps.tasks.list({ ...query, projectName }, principal)).tasks);
    const merged = all.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    return { tasks: merged.slice(0, max).map(view), nextToken: '', more: merged.length > max, projects };
  }

  async function presign(principal: Principal, req: IncomingMessage, body: Record<string, unknown>) {
    const bucket = str(body, 'bucket');
    const key = str(body, 'key');
    const version = str(body, 'version', false) || 'v4';
    if (version !== 'v1' && version !== 'v4') bad(`version must be v1 or v4, not "${version}".`);
    const method = str(body, 'method', false) || 'GET';
    if (method !== 'GET' && method !== 'HEAD' && method !== 'PUT') bad(`method must be GET, HEAD or PUT, not "${method}".`);
    const expiresSeconds = body.expiresSeconds;
    if (typeof expiresSeconds !== 'number') bad('expiresSeconds is required (a number of seconds).');
    const credential = principal.accessKeyId ? deps.lookup(principal.accessKeyId) : undefined;
    if (!credential) return fail('InvalidAccessKeyId');
    const now = new Date();
    const path = presignOssPath({ method: method as 'GET', bucket, key, credential, expiresSeconds: expiresSeconds as number, version: version as 'v1', now, region: deps.region });
    const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
    return { url: `${tls ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}${path}`, method, version, expiresAt: new Date(now.getTime() + (expiresSeconds as number) * 1000).toISOString() };
  }

  async function mnsCall(method: string, parts: string[], q: URLSearchParams, req: IncomingMessage, principal: Principal): Promise<unknown> {
    const mns = deps.mns;
    if (!mns) return fail('MnsInvalidRequestURL', 'The message service is not running in this process.');
    // The MNS dialect's rule (http/mns/dialect.ts): the message service belongs to the account.
    if (!isAccountOwner(principal)) fail('MnsAccessDenied', 'This access key is scoped to buckets; the message service needs the account key.');
    const [kind, name, sub, subName] = parts.map((p) => decodeURIComponent(p));
    const limit = 100;
    if (kind === 'topics' && parts.length === 1) {
      if (method === 'GET') {
        const page = await mns.listTopics({ marker: q.get('marker') || undefined, limit });
        const topics = [];
        for (const t of page.items) topics.push({ ...t, subscriptions: (await mns.listSubscriptions(t.name, { limit: 1000 })).items });
        return { topics, nextMarker: page.nextMarker ?? '' };
      }
      if (method === 'POST') {
        const body = await jsonBody(req);
        return mns.createTopic(str(body, 'name'));
      }
    }
    if (kind === 'topics' && name !== undefined && parts.length === 2 && method === 'DELETE') return mns.deleteTopic(name).then(() => ({ deleted: true }));
    if (kind === 'topics' && name !== undefined && sub === 'subscriptions') {
      if (parts.length === 3 && method === 'POST') {
        const body = await jsonBody(req);
        const target = str(body, 'endpoint').trim();
        // A bare queue name subscribes that queue of this account; otherwise an http(s) URL or an acs:mns endpoint.
        const endpoint = /^[A-Za-z0-9][A-Za-z0-9-]*$/.test(target) ? queueEndpoint(mns.region, mns.accountId, target) : target;
        return mns.subscribe(name, str(body, 'name'), { endpoint, notifyContentFormat: str(body, 'notifyContentFormat', false) || undefined, filterTag: str(body, 'filterTag', false) || undefined });
      }
      if (parts.length === 4 && subName !== undefined && method === 'DELETE') return mns.unsubscribe(name, subName).then(() => ({ deleted: true }));
    }
    if (kind === 'topics' && name !== undefined && sub === 'messages' && parts.length === 3 && method === 'POST') {
      const body = await jsonBody(req);
      return mns.publish(name, { body: str(body, 'body'), tag: str(body, 'tag', false) || undefined });
    }
    if (kind === 'queues' && parts.length === 1) {
      if (method === 'GET') {
        const page = await mns.listQueues({ marker: q.get('marker') || undefined, limit }, true);
        return { queues: page.items, nextMarker: page.nextMarker ?? '' };
      }
      if (method === 'POST') {
        const body = await jsonBody(req);
        return mns.createQueue(str(body, 'name'));
      }
    }
    if (kind === 'queues' && name !== undefined && parts.length === 2 && method === 'DELETE') return mns.deleteQueue(name).then(() => ({ deleted: true }));
    if (kind === 'queues' && name !== undefined && sub === 'messages' && parts.length === 3) {
      // Peek: looks without receiving (no visibility change, no dequeue count).
      if (method === 'GET') return { messages: await mns.peekMessages(name, 16) };
      if (method === 'POST') {
        const body = await jsonBody(req);
        return mns.sendMessage(name, { body: str(body, 'body') });
      }
    }
    if (kind === 'pushes' && parts.length === 1 && method === 'GET') {
      const before = q.get('before');
      if (before !== null && !/^\d{1,15}$/.test(before)) bad(`before must be a delivery id, not "${before}".`);
      return mns.listPushes({ topic: q.get('topic') || undefined, state: q.get('state') || undefined, before: before === null ? undefined : Number(before) });
    }
    return undefined;
  }

  /**
   * Serves `path` (below /-/console/api) when it is one of this module's; false otherwise. The caller has
   * checked the session and, for state-changing methods, the CSRF token.
   */
  return async function handleAdmin(req: IncomingMessage, res: ServerResponse, method: string, path: string, query: string, principal: Principal): Promise<boolean> {
    const parts = path.split('/').filter(Boolean);
    const q = new URLSearchParams(query);
    try {
      if (parts.length === 1 && parts[0] === 'tasks' && method === 'GET') return (send(res, 200, await tasks(principal, q)), true);
      if (parts.length === 1 && parts[0] === 'presign' && method === 'POST') return (send(res, 200, await presign(principal, req, await jsonBody(req))), true);
      if (parts[0] === 'mns' && parts.length >= 2) {
        const out = await mnsCall(method, parts.slice(1), q, req, principal);
        if (out === undefined) return false;
        send(res, 200, out);
        return true;
      }
      return false;
    } catch (e) {
      if (e instanceof BadRequest) return (send(res, 400, { error: 'InvalidArgument', message: e.message }), true);
      const known = isMedleyError(e) ? e : databaseUnavailableError(e);
      if (!known) throw e;
      send(res, known.status, { error: known.code, message: known.message });
      return true;
    }
  };
}
