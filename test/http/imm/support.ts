/**
 * An in-process IMM endpoint for the dialect tests: createImmDialect on a real node:http server on loopback,
 * a real ProjectService and NonceStore over a temp SQLite database, and a TaskService stand-in that records
 * what the dialect asks of it. Plus a tiny RPC v1 signer written from spec/imm.md §1.5.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openDatabase, type Db } from '../../../src/db/connection.js';
import { loadConfig } from '../../../src/config.js';
import type { Credential } from '../../../src/auth/credentials.js';
import { NonceStore } from '../../../src/auth/nonce-store.js';
import { ProjectService } from '../../../src/projects/service.js';
import type { SubmitTaskInput, TaskService } from '../../../src/tasks/service.js';
import type { TaskListQuery, TaskPage, TaskRecord } from '../../../src/tasks/records.js';
import { createImmDialect, isImmRequest } from '../../../src/http/imm/dialect.js';

export const ROOT_KEY = { id: 'testid', secret: 'testsecret' };
export const SCOPED_KEY = { id: 'scopedid', secret: 'scopedsecret' };

export interface TaskStandIn {
  submitted: SubmitTaskInput[];
  listed: TaskListQuery[];
  records: Map<string, TaskRecord>;
  nextPage?: TaskPage;
  /** Projects whose hasActiveTasks answers true. */
  busy: Set<string>;
  /** When set, every call throws it (an unexpected failure deep inside). */
  explode?: Error;
}

export interface ImmTestServer {
  url: string;
  port: number;
  db: Db;
  projects: ProjectService;
  tasks: TaskStandIn;
  close(): Promise<void>;
}

export async function startImmTestServer(): Promise<ImmTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'medley-imm-'));
  const db = await openDatabase(join(dir, 'm.db'), { durable: false });
  const projects = new ProjectService(db);
  const state: TaskStandIn = { submitted: [], listed: [], records: new Map(), busy: new Set() };
  const guard = () => {
    if (state.explode) throw state.explode;
  };
  const tasks: Pick<TaskService, 'submit' | 'get' | 'list' | 'hasActiveTasks'> = {
    async submit(input) {
      guard();
      state.submitted.push(input);
      return { taskId: `MediaConvert-${randomUUID()}`, eventId: '25E-1uBJUMOshisffTNk8Nr3GIj0000', requestId: input.requestId };
    },
    // Deliberately ignores the project, so the dialect's own project check is what the tests see.
    async get(_projectName, taskId) {
      guard();
      return state.records.get(taskId);
    },
    async list(q) {
      guard();
      state.listed.push(q);
      return state.nextPage ?? { tasks: [...state.records.values()].filter((t) => t.projectName === q.projectName), nextToken: '' };
    },
    async hasActiveTasks(project) {
      guard();
      return state.busy.has(project);
    },
  };
  const credentials = new Map<string, Credential>([
    [ROOT_KEY.id, { accessKeyId: ROOT_KEY.id, secret: ROOT_KEY.secret }],
    [SCOPED_KEY.id, { accessKeyId: SCOPED_KEY.id, secret: SCOPED_KEY.secret, grants: { 'in-bucket': 'read-write' } }],
  ]);
  const handle = createImmDialect({
    config: loadConfig({}, {}),
    lookup: (id) => credentials.get(id),
    projects,
    // The dialect calls only these four; the real service's private wiring is not needed here.
    tasks: tasks as TaskService,
    nonces: new NonceStore(db),
  });
  const log = pino({ level: 'silent' });
  const server: Server = createServer((req, res) => {
    // What the edge (src/http/server.ts) stamps on every response before choosing a dialect.
    res.setHeader('x-oss-request-id', 'OSS-ID');
    res.setHeader('Server', 'AliyunOSS');
    if (!isImmRequest(req)) {
      res.writeHead(418).end();
      return;
    }
    void handle(req, res, log);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    db,
    projects,
    tasks: state,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// RPC v1 signing, straight from spec §1.5.

export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/!/g, '%21').replace(/'/g, '%27').replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/\*/g, '%2A');
}

export function signV1(method: string, params: [string, string][], secret: string): string {
  const canonical = [...params]
    .filter(([k]) => k !== 'Signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
  const stringToSign = `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

const encodePairs = (pairs: [string, string][]) => pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT';
  /** Where the parameters go: the form body (pop-core POST), or the query (GET, newer SDKs' v2 mode). */
  placement?: 'form' | 'query';
  key?: { id: string; secret: string };
  nonce?: string;
  version?: string | null;
  /** Leave the Action parameter out (then only the header carries it, if any). */
  actionHeaderOnly?: boolean;
  headers?: Record<string, string>;
  /** Extra pairs added after signing (they break the signature) or raw extra query text. */
  extraQuery?: string;
  /** Corrupt the signature. */
  badSignature?: boolean;
  /** Replace the body entirely (after signing). */
  body?: Buffer | string;
  timestamp?: string;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

/** Signs and sends one RPC call; returns status, headers and the parsed JSON body. */
export async function call(base: string, action: string, params: Record<string, string>, opts: CallOptions = {}): Promise<CallResult> {
  const method = opts.method ?? 'POST';
  const key = opts.key ?? ROOT_KEY;
  const common: Record<string, string> = {
    Format: 'JSON',
    AccessKeyId: key.id,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: opts.nonce ?? randomUUID(),
    Timestamp: opts.timestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  if (opts.version !== null) common.Version = opts.version ?? '2020-09-30';
  if (!opts.actionHeaderOnly) common.Action = action;
  const pairs: [string, string][] = Object.entries({ ...common, ...params });
  let signature = signV1(method, pairs, key.secret);
  if (opts.badSignature) signature = signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
  pairs.push(['Signature', signature]);
  const headers: Record<string, string> = { 'x-acs-action': action, 'x-acs-version': '2020-09-30', ...opts.headers };
  let url = `${base}/`;
  let body: Buffer | string | undefined;
  if ((opts.placement ?? (method === 'GET' ? 'query' : 'form')) === 'form') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = encodePairs(pairs);
  } else {
    url += `?${encodePairs(pairs)}`;
  }
  if (opts.extraQuery) url += (url.includes('?') ? '&' : '?') + opts.extraQuery;
  if (opts.body !== undefined) body = opts.body;
  const res = await fetch(url, { method, headers, body: method === 'GET' ? undefined : body });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Left empty: the assertions on status/body report the problem better than a parse error here.
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}
