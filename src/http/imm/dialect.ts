/**
 * The IMM RPC dialect (spec/imm.md §1-4): read parameters → authenticate (signature, then nonce replay) →
 * resolve Action and Version → run the operation. Every outcome is the IMM JSON envelope; nothing throws.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CredentialLookup } from '../../auth/credentials.js';
import type { NonceStore } from '../../auth/nonce-store.js';
import type { Principal } from '../../auth/policy.js';
import { verifyRpcRequest } from '../../auth/rpc-signature.js';
import type { Config } from '../../config.js';
import { fail } from '../../errors.js';
import type { ProjectService } from '../../projects/service.js';
import type { TaskService } from '../../tasks/service.js';
import type { ImmContext, ImmOperation } from './context.js';
import { toImmWire } from './errors.js';
import { projectOperations } from './operations/projects.js';
import { taskOperations } from './operations/tasks.js';
import { buildParamMap, isFormBody, queryString, readBody, requestPairs } from './params.js';
import { settleUnreadBody } from '../drain.js';
import type { DiskSpace } from '../../storage/disk-space.js';
import { labelRequest } from '../../observability/metrics.js';
import { claimImmResponse, newImmRequestId, sendImmError, sendImmSuccess } from './responses.js';

export const IMM_API_VERSION = '2020-09-30';

export interface ImmDialectDeps {
  config: Config;
  lookup: CredentialLookup;
  projects: ProjectService;
  tasks: TaskService;
  nonces: NonceStore;
  now?: () => Date;
  /** The free-disk reserve: new media tasks are refused (503 ServiceUnavailable) below it (ImmContext.assertWritable). */
  disk?: DiskSpace;
}

const operations: Readonly<Record<string, ImmOperation>> = { ...projectOperations, ...taskOperations };

/** The operation names this dialect serves. */
export const IMM_ACTIONS: readonly string[] = Object.keys(operations);

/** True for requests to path '/' carrying an Action query parameter or an x-acs-action header. */
export function isImmRequest(req: IncomingMessage): boolean {
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  if ((q >= 0 ? rawUrl.slice(0, q) : rawUrl) !== '/') return false;
  if (req.headers['x-acs-action'] !== undefined) return true;
  // No OSS request at '/' (ListBuckets) carries a parameter named Action, so its presence alone decides.
  return queryString(rawUrl)
    .split('&')
    .some((part) => part === 'Action' || part.startsWith('Action='));
}

/**
 * A request that can only be an RPC v1 call with every parameter in the form body (pop-core's POST, or any
 * client that sends no x-acs-action): POST to '/', a form-urlencoded body, and no Action in the query or
 * header. The caller also checks the Host names no bucket — on a bucket host POST / is OSS's PostObject, and
 * that is multipart/form-data anyway. On the service host OSS has no POST at all, so reading such a body to
 * look for Action can never take a body an OSS operation would have streamed.
 */
export function mayBeImmFormPost(req: IncomingMessage): boolean {
  if ((req.method ?? '').toUpperCase() !== 'POST' || !isFormBody(req.headers)) return false;
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  return (q >= 0 ? rawUrl.slice(0, q) : rawUrl) === '/';
}

/**
 * Reads the form body of a `mayBeImmFormPost` request (bounded like every IMM body) and returns it when it
 * carries an Action parameter; undefined when it does not, or is too large to be an IMM call (the OSS
 * dialect then answers, and drains what is left).
 */
export async function readImmFormBody(req: IncomingMessage): Promise<Buffer | undefined> {
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch {
    return undefined;
  }
  // Form names are never percent-encoded by the RPC signers; `Action` is matched on the raw bytes.
  const hasAction = body
    .toString('latin1')
    .split('&')
    .some((part) => part === 'Action' || part.startsWith('Action='));
  return hasAction ? body : undefined;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

export function createImmDialect(deps: ImmDialectDeps): (req: IncomingMessage, res: ServerResponse, log: Logger, preread?: Buffer) => Promise<void> {
  const now = deps.now ?? (() => new Date());

  /** `preread`: the body, when routing already read it (readImmFormBody). */
  return async function handle(req: IncomingMessage, res: ServerResponse, log: Logger, preread?: Buffer): Promise<void> {
    const requestId = newImmRequestId();
    claimImmResponse(res, requestId);
    labelRequest(res, 'unknown', 'imm');
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const host = headerOf(req, 'host') ?? '';
    let action: string | undefined;
    try {
      // The gateway answers other methods as it answers an unknown action: there is no such API.
      if (method !== 'GET' && method !== 'POST') fail('ImmInvalidActionNotFound');
      const body = preread ?? (await readBody(req));
      const { query, form } = requestPairs(rawUrl, req.headers, body);
      const params = buildParamMap(query, form);
      const at = now();
      const auth = verifyRpcRequest({ method, rawUrl, headers: req.headers, body, query, form }, { now: at, lookup: deps.lookup });
      if (!(await deps.nonces.remember(auth.accessKeyId, auth.nonce, at))) fail('ImmSignatureNonceUsed');

      action = params.Action || headerOf(req, 'x-acs-action');
      if (!action) fail('ImmMissingParameter', 'The input parameter "Action" that is mandatory for processing this request is not supplied.');
      const version = params.Version || headerOf(req, 'x-acs-version');
      if (!version) fail('ImmMissingParameter', 'The input parameter "Version" that is mandatory for processing this request is not supplied.');
      if (version !== IMM_API_VERSION) fail('ImmInvalidParameter', 'The specified parameter "Action or Version" is not valid.');
      const op = Object.hasOwn(operations, action) ? operations[action] : undefined;
      if (!op) fail('ImmInvalidActionNotFound');
      labelRequest(res, action, 'imm');

      const principal: Principal = { kind: 'signed', accessKeyId: auth.accessKeyId, grants: auth.credential.grants };
      const ctx: ImmContext = { params, principal, requestId, projects: deps.projects, tasks: deps.tasks, log, now, assertWritable: () => deps.disk?.assertWritable() };
      const fields = await op(ctx);
      sendImmSuccess(res, requestId, fields);
      log.debug({ action, accessKeyId: auth.accessKeyId }, 'imm request');
    } catch (e) {
      const wire = toImmWire(e);
      if (wire.unexpected) log.error({ err: e, action }, 'unexpected error');
      else log.debug({ code: wire.code, action, msg: wire.message }, 'imm request failed');
      // A body we stopped reading (oversize): drain it, bounded, so the client reads this error (drain.ts).
      if (!res.headersSent) settleUnreadBody(req, res);
      sendImmError(res, wire, { requestId, host });
    }
  };
}
