/**
 * The web console at /-/console: the built page (dist/console, by `npm run build`), sign-in with an access
 * key into a server-side session, and the console API. The API adds no permission of its own:
 *  - /-/console/api/oss/<bucket>/<key>?<query> is the OSS dialect itself (operation selection, the access
 *    gate, the handlers: listing pages, Range downloads, streamed uploads, audio/info, async processing),
 *    run as the session's principal (oss/dialect.ts `asPrincipal`);
 *  - /-/console/api/tasks and /-/console/api/events read tasks through the task service with that principal,
 *    so its visibility rule (auth/policy.ts taskVisibility) is the one that applies.
 * Security: HttpOnly SameSite=Strict session cookie scoped to /-/console; a CSRF token (double submit:
 * readable cookie + X-Medley-Csrf header, both equal to the session's) on every state-changing call; a strict
 * Content-Security-Policy (no inline script); failed sign-ins limited per client address.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile, readdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { CredentialLookup } from '../../auth/credentials.js';
import { isAccountOwner, type Principal } from '../../auth/policy.js';
import type { TaskService } from '../../tasks/service.js';
import type { ProjectService } from '../../projects/service.js';
import type { Storage } from '../../storage/index.js';
import type { TaskRecord } from '../../tasks/records.js';
import { constantTimeEqual } from '../../auth/credentials.js';
import { FailureLimiter, SessionStore } from './sessions.js';
import type { Db } from '../../db/connection.js';
import { createAdminApi } from './admin-api.js';
import type { MnsService } from '../../notify/mns-service.js';
import { settleUnreadBody } from '../drain.js';
import { readBodyText, sendJson } from './json.js';
import { createMediaApi, type MediaApiDeps } from './media-api.js';

export const CONSOLE_PREFIX = '/-/console';
const API = `${CONSOLE_PREFIX}/api`;
const SESSION_COOKIE = 'medley_console_session';
const CSRF_COOKIE = 'medley_console_csrf';
const CSRF_HEADER = 'x-medley-csrf';
const SIGN_IN_FAILURES_PER_MINUTE = 5;
/** How often the event stream re-reads the visible tasks. */
const EVENT_POLL_MS = 250;
const MAX_SIGN_IN_BODY = 4096;
/** How often an open event stream re-checks its session (sign-out or rotation elsewhere ends it). */
const SESSION_RECHECK_MS = 2000;

/** The page's policy: only this origin's files, no inline script or style, never framed. */
const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/**
 * wavesurfer.js draws in a shadow root with its own <style> element: it may carry this response's nonce (read by
 * the page from a meta tag), and only it. Markup injected into the page cannot know the nonce.
 */
function withStyleNonce(page: Buffer): { data: Buffer; csp: string } {
  const nonce = randomBytes(16).toString('base64');
  const html = page.toString('utf8').replace('<head>', `<head>\n<meta name="medley-style-nonce" content="${nonce}">`);
  return { data: Buffer.from(html), csp: PAGE_CSP.replace("style-src 'self'", `style-src 'self' 'nonce-${nonce}'`) };
}

/** Object bytes served to the console can be anything a user uploaded: never a document of this origin. */
const OBJECT_CSP = "sandbox; default-src 'none'";

/** Where `npm run build` puts the page: dist/console beside dist/http. */
const ASSET_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'console');

export interface ConsoleDeps {
  /** Where sessions live (shared by every node on the database). */
  db: Db;
  lookup: CredentialLookup;
  /** The message service (the notifications page); absent: those calls answer that it is not running. */
  mns?: MnsService;
  tasks: TaskService;
  projects: ProjectService;
  storage: Storage;
  log: Logger;
  /** The OSS dialect's console door (oss/dialect.ts). */
  oss: (principal: Principal, rawUrl: string, req: IncomingMessage, res: ServerResponse, requestId: string, log: Logger) => Promise<void>;
  assetDir?: string;
  /** True once the server is shutting down: open event streams end, so they never hold the shutdown. */
  closing?: () => boolean;
  /** MEDLEY_CONSOLE: false answers 404 everywhere below /-/console. */
  enabled?: boolean;
  /** MEDLEY_CONSOLE_SESSION_HOURS. */
  sessionTtlMs?: number;
  /** Waveforms, the validation tables, check and explain (media-api.ts); without it those answer 404. */
  media?: Pick<MediaApiDeps, 'engine' | 'workDir' | 'dataDir' | 'region'>;
}

const send = sendJson;

const fault = (res: ServerResponse, status: number, error: string, message: string, headers: Record<string, string> = {}) => send(res, status, { error, message }, headers);

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name !== '' && !out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

function cookie(name: string, value: string, maxAgeSeconds: number, httpOnly: boolean): string {
  return `${name}=${value}; Path=${CONSOLE_PREFIX}; Max-Age=${maxAgeSeconds}; SameSite=Strict${httpOnly ? '; HttpOnly' : ''}`;
}

const CONTENT_TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json', '.svg': 'image/svg+xml' };

/** What the page shows of a task. */
export function taskView(t: TaskRecord) {
  let process: string | undefined;
  try {
    const def = JSON.parse(t.requestDefinition) as { Process?: unknown };
    if (typeof def.Process === 'string') process = def.Process;
  } catch {
    // An IMM task's definition need not carry a process string.
  }
  return {
    taskId: t.taskId,
    projectName: t.projectName,
    status: t.status,
    state: t.state,
    progress: t.progress,
    code: t.code,
    message: t.message,
    outputs: t.outputs,
    sources: t.spec.job.clips.map((c) => `oss://${c.source.bucket}/${c.source.key}`),
    process,
    createdAt: t.createdAt.toISOString(),
    startedAt: t.startedAt?.toISOString(),
    endedAt: t.endedAt?.toISOString(),
  };
}

export function createConsole(deps: ConsoleDeps) {
  const sessions = new SessionStore(deps.db, deps.lookup, deps.sessionTtlMs !== undefined && Number.isFinite(deps.sessionTtlMs) && deps.sessionTtlMs > 0 ? deps.sessionTtlMs : 12 * 3_600_000);
  const limiter = new FailureLimiter(SIGN_IN_FAILURES_PER_MINUTE, 60_000);
  const assetDir = deps.assetDir ?? ASSET_DIR;
  const admin = createAdminApi({ ...deps, projectsOf: (p) => projectsOf(p), taskView, region: deps.mns?.region ?? '' });
  const files = new Map<string, Buffer>();
  const media = deps.media && createMediaApi({ ...deps.media, storage: deps.storage, tasks: deps.tasks, log: deps.log });

  async function asset(name: string): Promise<Buffer | undefined> {
    // Only names the build wrote: listed once, never a path built from the URL.
    if (files.size === 0) {
      for (const f of await readdir(assetDir).catch(() => [] as string[])) files.set(f, await readFile(join(assetDir, f)));
    }
    return files.get(name);
  }

  async function servePage(res: ServerResponse, name: string, method: string): Promise<void> {
    let data = await asset(name);
    let csp = PAGE_CSP;
    if (!data) {
      if (name === 'index.html') fault(res, 503, 'ConsoleNotBuilt', 'The console page is not built: run `npm run build` (it writes dist/console).');
      else fault(res, 404, 'NotFound', `No console file ${name}.`);
      return;
    }
    const isIndex = name === 'index.html';
    const ext = name.slice(name.lastIndexOf('.'));
    if (isIndex) ({ data, csp } = withStyleNonce(data));
    res.writeHead(200, {
      'Content-Security-Policy': csp,
      'Content-Type': isIndex ? 'text/html; charset=utf-8' : (CONTENT_TYPES[ext] ?? 'application/octet-stream'),
      'Content-Length': data.length,
      // index.html names the hashed files: always revalidated; the hashed files never change.
      'Cache-Control': isIndex ? 'no-cache' : 'public, max-age=31536000, immutable',
    });
    res.end(method === 'HEAD' ? undefined : data);
  }

  /** The projects whose tasks the principal may list: its buckets' projects (every project for the root key). */
  async function projectsOf(principal: Principal): Promise<string[]> {
    const names = new Set<string>();
    let buckets: string[];
    if (isAccountOwner(principal)) {
      for (const p of (await deps.projects.list({ maxResults: 200 })).projects) names.add(p.name);
      buckets = (await deps.storage.buckets.list({ prefix: '', marker: '', maxKeys: 200 })).buckets.map((b) => b.name);
    } else buckets = Object.keys(principal.grants ?? {});
    for (const b of buckets) names.add(await deps.projects.projectForBucket(b));
    return [...names];
  }

  async function listTasks(principal: Principal, max: number): Promise<TaskRecord[]> {
    const all: TaskRecord[] = [];
    for (const projectName of await projectsOf(principal)) {
      const page = await deps.tasks.list({ projectName, sort: 'StartTime', order: 'desc', maxResults: max }, principal);
      all.push(...page.tasks);
    }
    return all.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).slice(0, max);
  }

  /** Server-sent events: every task of the list whose state or progress changed since the last push. */
  function events(req: IncomingMessage, res: ServerResponse, principal: () => Promise<Principal | undefined>): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 1000\n\n');
    const seen = new Map<string, string>();
    let busy = false;
    let ticks = 0;
    const tick = async () => {
      if (busy) return;
      busy = true;
      try {
        if (deps.closing?.()) {
          res.end();
          return;
        }
        const p = await principal();
        if (!p) {
          res.end('event: signed-out\ndata: {}\n\n');
          return;
        }
        for (const t of await listTasks(p, 50)) {
          const v = taskView(t);
          const sig = `${v.state}|${v.progress}|${v.code}|${v.outputs.length}`;
          if (seen.get(v.taskId) === sig) continue;
          seen.set(v.taskId, sig);
          res.write(`event: task\ndata: ${JSON.stringify(v)}\n\n`);
        }
        // A comment now and then keeps proxies from closing an idle stream.
        if (++ticks % 60 === 0) res.write(': keep-alive\n\n');
      } catch (err) {
        deps.log.warn({ err }, 'console event stream: reading tasks failed');
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), EVENT_POLL_MS);
    void tick();
    const stop = () => clearInterval(timer);
    req.on('close', stop);
    res.on('close', stop);
  }

  return async function handleConsole(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '';
    const q = rawUrl.indexOf('?');
    const path = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    if (deps.enabled === false) {
      settleUnreadBody(req, res);
      return fault(res, 404, 'NotFound', 'The web console is turned off on this server (MEDLEY_CONSOLE=false).');
    }
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');

    if (!path.startsWith(`${API}/`)) {
      if (method !== 'GET' && method !== 'HEAD') return fault(res, 405, 'MethodNotAllowed', `${method} is not allowed on ${path}.`);
      if (path === CONSOLE_PREFIX || path === `${CONSOLE_PREFIX}/`) return servePage(res, 'index.html', method);
      const m = /^\/-\/console\/assets\/([A-Za-z0-9._-]+)$/.exec(path);
      if (m && m[1] !== 'index.html') return servePage(res, m[1]!, method);
      return fault(res, 404, 'NotFound', `No console page at ${path}.`);
    }

    const cookies = parseCookies(req.headers.cookie);
    const current = () => sessions.resolve(cookies.get(SESSION_COOKIE));
    const active = await current();
    const safe = method === 'GET' || method === 'HEAD';
    const client = req.socket.remoteAddress ?? '';

    if (path === `${API}/session`) {
      if (method === 'POST') {
        const wait = limiter.retryAfter(client);
        if (wait > 0) return fault(res, 429, 'TooManySignIns', `Too many failed sign-ins from this address: try again in ${wait} s.`, { 'Retry-After': String(wait) });
        const text = await readBodyText(req, MAX_SIGN_IN_BODY);
        if (text === undefined) return fault(res, 413, 'EntityTooLarge', `The sign-in body exceeds ${MAX_SIGN_IN_BODY} bytes.`);
        let body: { accessKeyId?: unknown; accessKeySecret?: unknown };
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          return fault(res, 400, 'MalformedJson', 'The sign-in body must be JSON: {"accessKeyId": "...", "accessKeySecret": "..."}.');
        }
        if (typeof body?.accessKeyId !== 'string' || typeof body.accessKeySecret !== 'string' || body.accessKeyId === '' || body.accessKeySecret === '') {
          return fault(res, 400, 'MissingArgument', 'Sign-in needs accessKeyId and accessKeySecret (strings).');
        }
        const s = await sessions.open(body.accessKeyId, body.accessKeySecret);
        if (!s) {
          limiter.fail(client);
          return fault(res, 401, 'SignInFailed', 'The AccessKeyId or AccessKeySecret is wrong (temporary STS credentials cannot sign in).');
        }
        const ttl = Math.floor(sessions.ttlMs / 1000);
        const resolved = (await sessions.resolve(s.id))!;
        return send(res, 200, sessionView(resolved.principal, s.csrf, s.expiresAt), { 'Set-Cookie': [cookie(SESSION_COOKIE, s.id, ttl, true), cookie(CSRF_COOKIE, s.csrf, ttl, false)] });
      }
      if (!active) return fault(res, 401, 'NotSignedIn', 'Sign in to the console first.');
      if (method === 'GET') return send(res, 200, sessionView(active.principal, active.session.csrf, active.session.expiresAt));
      if (method === 'DELETE') {
        if (!csrfOk(req, cookies, active.session.csrf)) return csrfFault(res);
        await sessions.close(active.session.id);
        return send(res, 200, { signedOut: true }, { 'Set-Cookie': [cookie(SESSION_COOKIE, '', 0, true), cookie(CSRF_COOKIE, '', 0, false)] });
      }
      return fault(res, 405, 'MethodNotAllowed', `${method} is not allowed on ${path}.`);
    }

    if (!active || (!safe && !csrfOk(req, cookies, active.session.csrf))) {
      // A refused upload's body: drained (bounded) so the client reads the refusal (drain.ts).
      settleUnreadBody(req, res);
      return active ? csrfFault(res) : fault(res, 401, 'NotSignedIn', 'Sign in to the console first.');
    }

    if (path === `${API}/oss` || path.startsWith(`${API}/oss/`)) {
      // Whatever the object is, it is never a page of the console's origin.
      res.setHeader('Content-Security-Policy', OBJECT_CSP);
      res.setHeader('Cache-Control', 'private, no-store');
      const rest = rawUrl.slice(`${API}/oss`.length) || '/';
      return deps.oss(active.principal, rest.startsWith('/') ? rest : `/${rest}`, req, res, requestId, deps.log);
    }
    if (await admin(req, res, method, path.slice(API.length), q >= 0 ? rawUrl.slice(q + 1) : '', active.principal)) return;
    if (path === `${API}/events` && safe) {
      return events(req, res, principalEvery(() => current().then((c) => c?.principal), SESSION_RECHECK_MS));
    }
    if (media && (await media(req, res, active.principal, method, path, rawUrl))) return;
    return fault(res, 404, 'NotFound', `No console API at ${method} ${path}.`);
  };
}

/**
 * The principal of a long-lived stream, re-read from the session table at most every `ms` (not on each
 * of its 4-a-second ticks): sign-out or key rotation on any node ends the stream within `ms`.
 */
function principalEvery(read: () => Promise<Principal | undefined>, ms: number): () => Promise<Principal | undefined> {
  let at = 0;
  let last: Promise<Principal | undefined> = Promise.resolve(undefined);
  return () => {
    if (Date.now() - at >= ms) {
      at = Date.now();
      last = read();
    }
    return last;
  };
}

function sessionView(p: Principal, csrf: string, expiresAt: number) {
  return { accessKeyId: p.accessKeyId, root: isAccountOwner(p), buckets: p.grants ?? {}, csrf, expiresAt: new Date(expiresAt).toISOString() };
}

function csrfOk(req: IncomingMessage, cookies: Map<string, string>, expected: string): boolean {
  const sent = req.headers[CSRF_HEADER];
  const fromCookie = cookies.get(CSRF_COOKIE);
  return typeof sent === 'string' && fromCookie !== undefined && constantTimeEqual(sent, expected) && constantTimeEqual(fromCookie, expected);
}

function csrfFault(res: ServerResponse): void {
  fault(res, 403, 'CsrfTokenMismatch', `State-changing console calls need the ${CSRF_HEADER} header equal to the ${CSRF_COOKIE} cookie of the session.`);
}
