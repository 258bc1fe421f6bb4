/**
 * Medley's metrics, in one prom-client Registry of its own (never the global one, so two apps in one
 * process — tests — do not mix), served as Prometheus text at GET /-/metrics (src/http/server.ts).
 *
 * - requests by port/dialect (`api`: oss, imm, mns, medley), operation (the OSS operation name, the IMM
 *   Action, the MNS operation) and status; latency histograms; bytes received and sent;
 * - task records by state and failed tasks by code, counted from the database on each scrape;
 * - refusals by limit (`limitRefused('min_free_disk')`, callable by any module holding the Metrics);
 * - free and reserved disk space; FFmpeg run time.
 *
 * Label values are bounded: operation names come from fixed tables (anything else is `unknown`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/connection.js';
import type { DiskSpace } from '../storage/disk-space.js';

export type Api = 'oss' | 'imm' | 'mns' | 'medley';

interface RequestLabels {
  api: Api;
  operation: string;
}

interface RequestSeries {
  requests(status: string): { inc(): void };
  duration: { observe(value: number): void };
  bytesIn: { inc(value: number): void };
  bytesOut: { inc(value: number): void };
}

/** Per-response labels, set by whichever layer knows them (the dialect, once it has selected the operation). */
const labels = new WeakMap<ServerResponse, RequestLabels>();

/** Per connection: the byte counters already attributed to the requests it carried. */
const accounted = new WeakMap<Socket, { read: number; written: number }>();

/** Names the operation (and, when the dialect is only known later, the api) of the request `res` answers. */
export function labelRequest(res: ServerResponse, operation: string, api?: Api): void {
  const cur = labels.get(res);
  labels.set(res, { api: api ?? cur?.api ?? 'oss', operation });
}

const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const PHASE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600];
const FFMPEG_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export interface MetricsOptions {
  /** Task counts are read from here on each scrape. */
  db?: Db;
  disk?: DiskSpace;
  /** Node's process metrics (CPU, memory, event loop lag, handles); default true. */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'api' | 'operation' | 'status'>;
  private readonly duration: Histogram<'api' | 'operation'>;
  private readonly bytesIn: Counter<'api' | 'operation'>;
  private readonly bytesOut: Counter<'api' | 'operation'>;
  private readonly refusals: Counter<'limit'>;
  private readonly ffmpeg: Histogram<'outcome'>;
  private readonly taskPhases: Histogram<'phase'>;

  constructor(opts: MetricsOptions = {}) {
    const registers = [this.registry];
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'medley_' });
    this.requests = new Counter({ name: 'medley_http_requests_total', help: 'HTTP requests answered, by api (oss, imm, mns, medley), operation and status (aborted: the connection closed first)', labelNames: ['api', 'operation', 'status'], registers });
    this.duration = new Histogram({ name: 'medley_http_request_duration_seconds', help: 'Time from the request headers to the end of the response', labelNames: ['api', 'operation'], buckets: LATENCY_BUCKETS, registers });
    this.bytesIn = new Counter({ name: 'medley_http_received_bytes_total', help: 'Bytes received (request headers and bodies)', labelNames: ['api', 'operation'], registers });
    this.bytesOut = new Counter({ name: 'medley_http_sent_bytes_total', help: 'Bytes sent (headers and bodies)', labelNames: ['api', 'operation'], registers });
    this.refusals = new Counter({ name: 'medley_limit_refusals_total', help: 'Requests refused because a limit was reached, by limit (min_free_disk, ...)', labelNames: ['limit'], registers });
    this.ffmpeg = new Histogram({ name: 'medley_ffmpeg_run_seconds', help: 'Wall-clock time of FFmpeg runs, by outcome (ok, error)', labelNames: ['outcome'], buckets: FFMPEG_BUCKETS, registers });

    this.taskPhases = new Histogram({ name: 'medley_task_phase_seconds', help: 'Wall-clock time of the phases of succeeded media tasks: setup, inputs, ffmpeg, outputs, commit, cleanup one after the other; fetch (sources into the work dir), probe, verify, store (outputs into blobs) overlapping inside them', labelNames: ['phase'], buckets: PHASE_BUCKETS, registers });

    const db = opts.db;
    if (db) {
      new Gauge({
        name: 'medley_tasks',
        help: 'Media task records by state (queued, running, succeeded, failed); ended tasks count until purged (MEDLEY_TASK_RETENTION_DAYS)',
        labelNames: ['state'],
        registers,
        async collect() {
          const rows = await db.selectFrom('tasks').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
          this.reset();
          for (const s of ['queued', 'running', 'succeeded', 'failed']) this.set({ state: s }, 0);
          for (const r of rows) this.set({ state: r.state }, Number(r.n));
        },
      });
      new Gauge({
        name: 'medley_tasks_failed',
        help: 'Failed media task records by error code (until purged)',
        labelNames: ['code'],
        registers,
        async collect() {
          const rows = await db.selectFrom('tasks').select(['code', (eb) => eb.fn.countAll<number>().as('n')]).where('state', '=', 'failed').groupBy('code').execute();
          this.reset();
          for (const r of rows) this.set({ code: r.code || 'unknown' }, Number(r.n));
        },
      });
    }
    const disk = opts.disk;
    if (disk) {
      new Gauge({
        name: 'medley_disk_free_bytes',
        help: 'Free space on the data volume (latest sample)',
        registers,
        collect() {
          const s = disk.current;
          if (s) this.set(s.freeBytes);
        },
      });
      new Gauge({
        name: 'medley_disk_reserve_bytes',
        help: 'The free-disk reserve (MEDLEY_MIN_FREE_DISK): below it writes are refused',
        registers,
        collect() {
          const s = disk.current;
          if (s) this.set(s.reserveBytes);
        },
      });
    }
  }

  /** Counts one refusal by the limit named (e.g. `min_free_disk`). */
  limitRefused(limit: string): void {
    this.refusals.inc({ limit });
  }

  observeFfmpeg(seconds: number, ok = true): void {
    this.ffmpeg.observe({ outcome: ok ? 'ok' : 'error' }, seconds);
  }

  /** Observes the phase timings (milliseconds) of one succeeded task. */
  observeTaskPhases(phases: Readonly<Record<string, number | undefined>>): void {
    for (const [phase, ms] of Object.entries(phases)) if (ms !== undefined) this.taskPhases.observe({ phase }, ms / 1000);
  }

  /**
   * Observes one request when its response closes. `api` is the default; a dialect may refine it and
   * name the operation with `labelRequest`. Bytes are the connection's counters since the previous request
   * on it ended (headers and bodies): the request's own listeners cannot count its body without
   * changing how it flows, and Node may have read the whole body with the headers.
   */
  track(req: IncomingMessage, res: ServerResponse, api: Api): void {
    const t0 = process.hrtime.bigint();
    const socket = req.socket;
    if (!labels.has(res)) labels.set(res, { api, operation: 'unknown' });
    res.once('close', () => {
      const l = labels.get(res) ?? { api, operation: 'unknown' };
      const status = res.writableFinished ? String(res.statusCode) : 'aborted';
      const series = this.seriesOf(l.api, l.operation);
      series.requests(status).inc();
      series.duration.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      const seen = accounted.get(socket);
      const inBytes = socket.bytesRead - (seen?.read ?? 0);
      const outBytes = socket.bytesWritten - (seen?.written ?? 0);
      if (seen) {
        seen.read = socket.bytesRead;
        seen.written = socket.bytesWritten;
      } else accounted.set(socket, { read: socket.bytesRead, written: socket.bytesWritten });
      if (inBytes > 0) series.bytesIn.inc(inBytes);
      if (outBytes > 0) series.bytesOut.inc(outBytes);
    });
  }

  /**
   * The labelled children of one (api, operation), kept: prom-client hashes a label object on every
   * inc/observe, four times a request; a child has its hash already. The label sets are bounded (the
   * operation names and statuses are fixed lists), so the cache is too.
   */
  private readonly series = new Map<string, RequestSeries>();
  private seriesOf(api: Api, operation: string): RequestSeries {
    const id = `${api}\0${operation}`;
    let s = this.series.get(id);
    if (s === undefined) {
      const byStatus = new Map<string, { inc(): void }>();
      s = {
        requests: (status) => {
          let c = byStatus.get(status);
          if (c === undefined) byStatus.set(status, (c = this.requests.labels({ api, operation, status })));
          return c;
        },
        duration: this.duration.labels({ api, operation }),
        bytesIn: this.bytesIn.labels({ api, operation }),
        bytesOut: this.bytesOut.labels({ api, operation }),
      };
      this.series.set(id, s);
    }
    return s;
  }

  /** The Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
