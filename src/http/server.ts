/**
 * The HTTP edge: one listener, request ids and common headers, Medley's own `/-/` endpoints, and the
 * hand-off to a dialect. Start/stop are explicit so tests and the CLI control the lifecycle.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomFillSync } from 'node:crypto';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Storage } from '../storage/index.js';
import type { CredentialLookup } from '../auth/credentials.js';
import { createOssDialect } from './oss/dialect.js';
import { VERSION } from '../version.js';
import type { MediaEngine } from '../media/engine/index.js';
import type { TaskService } from '../tasks/service.js';
import type { ProjectService } from '../projects/service.js';
import type { NonceStore } from '../auth/nonce-store.js';
import { createImmDialect, isImmRequest, mayBeImmFormPost, readImmFormBody } from './imm/dialect.js';
import { resolveAddress } from './oss/addressing.js';
import { LIMITS } from '../limits.js';
import type { DiskSpace } from '../storage/disk-space.js';
import { labelRequest, type Metrics } from '../observability/metrics.js';
import { operatorOf, type OperatorAuthDeps } from '../observability/operator-auth.js';
import { listen, tlsFiles, type CertificateInfo, type MedleyServer } from './listen.js';
import { dbUnavailableReason } from '../db/errors.js';
import { CONSOLE_PREFIX, createConsole } from './console/index.js';
import type { Db } from '../db/connection.js';
import type { MnsService } from '../notify/mns-service.js';

export interface HttpDeps {
  config: Config;
  storage: Storage;
  lookup: CredentialLookup;
  log: Logger;
  engine: MediaEngine;
  tasks: TaskService;
  projects: ProjectService;
  nonces: NonceStore;
  /** Temp files of synchronous processing (x-oss-process info). */
  workDir: string;
  /** Workers in this process (reported by /-/health). */
  workers: number;
  /** The free-disk reserve: writes and new tasks are refused below it. */
  disk?: DiskSpace;
  /** Served at /-/metrics; every request is counted. */
  metrics?: Metrics;
  /** The root key may read /-/metrics and the detailed /-/health (as may MEDLEY_METRICS_TOKEN). */
  rootAccessKeyId?: string;
  /** The database (web console sessions) and the message service (the console's notifications page). */
  db: Db;
  mns: MnsService;
  /** A cheap query (`select 1`): /-/health is not ready while it fails (the database is unreachable). */
  pingDatabase?: () => Promise<void>;
}

/** /-/health re-checks the database at most this often; concurrent checks share one query. */
const DB_CHECK_CACHE_MS = 1000;
/** A health check never waits longer than this for the database (a probe must not hang). */
const DB_CHECK_TIMEOUT_MS = 2000;

/** The database check of /-/health: undefined when reachable, else why not. Cached for DB_CHECK_CACHE_MS. */
function databaseCheck(ping: (() => Promise<void>) | undefined): () => Promise<string | undefined> {
  let last: { at: number; result: Promise<string | undefined> } | undefined;
  return () => {
    if (!ping) return Promise.resolve(undefined);
    const now = Date.now();
    if (last && now - last.at < DB_CHECK_CACHE_MS) return last.result;
    const result = new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(`no answer within ${DB_CHECK_TIMEOUT_MS} ms`), DB_CHECK_TIMEOUT_MS);
      ping().then(
        () => resolve(undefined),
        (err: unknown) => resolve(dbUnavailableReason(err) ?? (err instanceof Error ? err.message : String(err))),
      ).finally(() => clearTimeout(timer));
    });
    last = { at: now, result };
    return result;
  };
}

export interface RunningServer {
  server: MedleyServer;
  /** Base URL, e.g. http://127.0.0.1:9000 (https:// with MEDLEY_TLS_CERT / MEDLEY_TLS_KEY) */
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes the rest. */
  close(graceMs?: number): Promise<void>;
}

/** Request ids are cut from a pool of random bytes refilled every ID_POOL_IDS ids: one getrandom call per 256 requests, not one each. */
const ID_BYTES = 12;
const ID_POOL_IDS = 256;
const idPool = Buffer.alloc(ID_BYTES * ID_POOL_IDS);
let idNext = ID_POOL_IDS;

/** 24 uppercase hex characters, like OSS request ids. */
export function newRequestId(): string {
  if (idNext === ID_POOL_IDS) {
    randomFillSync(idPool);
    idNext = 0;
  }
  const at = idNext++ * ID_BYTES;
  return idPool.toString('hex', at, at + ID_BYTES).toUpperCase();
}

/** The Date header, formatted once per second (as Node's own Date header is) rather than per request. */
let dateSecond = -1;
let dateText = '';
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length });
  res.end(data);
}

/** The listener limits of the OSS / IMM port (src/limits.ts). Large uploads may take long: bound idleness, not total time. */
function applyServerLimits(server: MedleyServer): void {
  server.requestTimeout = LIMITS.ossRequestTimeoutMs;
  server.headersTimeout = LIMITS.ossHeadersTimeoutMs;
  server.timeout = LIMITS.ossSocketIdleTimeoutMs;
  server.keepAliveTimeout = LIMITS.keepAliveTimeoutMs;
}

/** Medley's own endpoints, as metric operation names (anything else is "unknown", bounding the labels). */
const MEDLEY_ENDPOINTS = new Set(['/-/health', '/-/metrics']);

export async function startHttpServer(deps: HttpDeps): Promise<RunningServer> {
  const oss = createOssDialect({ config: deps.config, storage: deps.storage, lookup: deps.lookup, tasks: deps.tasks, projects: deps.projects, engine: deps.engine, workDir: deps.workDir, disk: deps.disk });
  const imm = createImmDialect({ config: deps.config, lookup: deps.lookup, projects: deps.projects, tasks: deps.tasks, nonces: deps.nonces, disk: deps.disk });
  const webConsole = createConsole({ db: deps.db, mns: deps.mns, lookup: deps.lookup, tasks: deps.tasks, projects: deps.projects, storage: deps.storage, log: deps.log, oss: oss.asPrincipal, closing: () => !ready, enabled: deps.config.console, sessionTtlMs: deps.config.consoleSessionHours * 3_600_000, media: { engine: deps.engine, workDir: deps.workDir, dataDir: resolve(deps.config.dataDir), region: deps.config.region } });
  const started = Date.now();

  const authDeps: OperatorAuthDeps = { lookup: deps.lookup, rootAccessKeyId: deps.rootAccessKeyId ?? '', metricsToken: deps.config.metricsToken, domain: deps.config.domain };
  const isOperator = (req: IncomingMessage) => deps.rootAccessKeyId !== undefined && operatorOf(req, authDeps) !== undefined;
  let ready = true;
  /** The certificate served (MEDLEY_TLS_CERT), for the detailed /-/health; set once listening. */
  let certificate: () => CertificateInfo | undefined = () => undefined;
  const checkDatabase = databaseCheck(deps.pingDatabase);

  /**
   * /-/health: anonymous callers learn only whether the server is ready (200 {"status":"ok"}, 503 while it
   * shuts down), nothing about its software; the root key or the metrics token also get the details.
   * /-/metrics: Prometheus text, for the root key or the metrics token only.
   */
  async function medleyEndpoint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    labelRequest(res, MEDLEY_ENDPOINTS.has(path) ? path : 'unknown', 'medley');
    if (path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`)) return webConsole(req, res, res.getHeader('x-oss-request-id') as string);
    if (path === '/-/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      // Not ready while shutting down or while the database is unreachable (requests would answer 503).
      const dbProblem = await checkDatabase();
      const up = ready && dbProblem === undefined;
      const status = up ? 'ok' : 'unavailable';
      if (!isOperator(req)) {
        sendJson(res, up ? 200 : 503, { status });
        return;
      }
      const media = deps.engine.describe();
      const disk = deps.disk?.current;
      sendJson(res, up ? 200 : 503, {
        status,
        ...(up ? {} : { reason: !ready ? 'shutting down' : `the database is unreachable: ${dbProblem}` }),
        nodeName: deps.config.nodeName,
        database: deps.pingDatabase ? { reachable: dbProblem === undefined, ...(dbProblem === undefined ? {} : { error: dbProblem }) } : null,
        version: VERSION,
        node: process.version,
        region: deps.config.region,
        uptimeSeconds: Math.round((Date.now() - started) / 1000),
        engine: media.engines[0] ? { ffmpeg: media.engines[0].ffmpeg, version: media.engines[0].version, ffprobeVersion: media.engines[0].ffprobeVersion, source: media.engines[0].source, encoders: media.engines[0].encoders } : null,
        engines: media.engines.length,
        workers: deps.workers,
        disk: disk ? { freeBytes: disk.freeBytes, totalBytes: disk.totalBytes, reserveBytes: disk.reserveBytes, writable: disk.freeBytes >= disk.reserveBytes } : null,
        tls: certificate() ?? null,
      });
      return;
    }
    if (path === '/-/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      if (!deps.metrics || !isOperator(req)) {
        sendJson(res, 403, { error: 'AccessDenied', message: 'GET /-/metrics needs a request signed by the root key or the header Authorization: Bearer <MEDLEY_METRICS_TOKEN>.' });
        return;
      }
      // The task gauges read the database: while it is unreachable, 503 (as /-/health), not a 500.
      const m = await deps.metrics.render().catch((err: unknown) => {
        const why = dbUnavailableReason(err);
        if (why === undefined) throw err;
        return undefined;
      });
      if (!m) {
        sendJson(res, 503, { error: 'ServiceUnavailable', message: 'The database is unreachable; retry.' });
        return;
      }
      const data = Buffer.from(m.body);
      res.writeHead(200, { 'Content-Type': m.contentType, 'Content-Length': data.length, 'Cache-Control': 'no-store' });
      res.end(data);
      return;
    }
    sendJson(res, 404, { error: 'NotFound', message: `No Medley endpoint at ${path}; the /-/ prefix is reserved for Medley's own endpoints.` });
  }

  /**
   * IMM RPC requests share the port with OSS: an Action parameter or x-acs-action header on "/", or (RPC v1
   * with every parameter in the form body, no header) an Action in the form body of a POST "/" to the service
   * host — only that request shape is read ahead, so no OSS request is buffered or misrouted.
   */
  async function dispatch(req: IncomingMessage, res: ServerResponse, requestId: string, log: Logger): Promise<void> {
    if (isImmRequest(req)) return imm(req, res, log);
    if (mayBeImmFormPost(req) && resolveAddress({ host: req.headers.host, rawPath: '/', domain: deps.config.domain }).bucket === undefined) {
      const body = await readImmFormBody(req);
      if (body !== undefined) return imm(req, res, log, body);
    }
    return oss(req, res, requestId, log);
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    deps.metrics?.track(req, res, 'oss');
    const requestId = newRequestId();
    const log = deps.log.child({ reqId: requestId });
    res.setHeader('x-oss-request-id', requestId);
    res.setHeader('Server', 'AliyunOSS');
    res.setHeader('Date', httpDate());
    // The access line is a debug message: below debug, no timer and no listener per request.
    if (log.isLevelEnabled('debug')) {
      const t0 = process.hrtime.bigint();
      res.on('finish', () => {
        log.debug({ method: req.method, url: req.url, status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }, 'request');
      });
    }
    const task = (req.url ?? '').startsWith('/-/') ? medleyEndpoint(req, res) : dispatch(req, res, requestId, log);
    task.catch((err: unknown) => {
      log.error({ err }, 'request handler crashed');
      if (!res.headersSent) sendJson(res, 500, { error: 'InternalError' });
      else res.destroy();
    });
  };
  const listener = await listen({ host: deps.config.host, port: deps.config.port, maxHeaderSize: LIMITS.maxHeaderBytes, tls: tlsFiles(deps.config), log: deps.log, handler });
  const server = listener.server;
  applyServerLimits(server);
  certificate = listener.certificate;
  return {
    server,
    port: listener.port,
    url: listener.url,
    close(graceMs = 10_000) {
      ready = false;
      return listener.close(graceMs);
    },
  };
}
