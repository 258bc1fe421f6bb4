/**
 * The message service's own listener (config.host:config.mnsPort; port 0 = any free port). Each request
 * gets an AbortSignal that fires when its client goes away or the server closes, so a long poll never
 * outlives either.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { CredentialLookup } from '../../auth/credentials.js';
import type { MnsService } from '../../notify/mns-service.js';
import { createMnsDialect } from './dialect.js';
import { LIMITS } from '../../limits.js';
import type { DiskSpace } from '../../storage/disk-space.js';
import type { Metrics } from '../../observability/metrics.js';
import { listen, tlsFiles, type MedleyServer } from '../listen.js';

export interface MnsServerDeps {
  config: Config;
  lookup: CredentialLookup;
  mns: MnsService;
  log: Logger;
  /** Tried first; returns true when it handled the request (health checks, the push certificate, ...). */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** The free-disk reserve: sends and publishes are refused (503) below it. */
  disk?: DiskSpace;
  /** Every request on this port is counted (api="mns"). */
  metrics?: Metrics;
}

export interface RunningMnsServer {
  server: MedleyServer;
  /** Base URL, e.g. http://127.0.0.1:9100 (https:// with MEDLEY_TLS_CERT / MEDLEY_TLS_KEY): the endpoint for MNS clients. */
  url: string;
  port: number;
  /** Stops accepting, ends long polls at once, lets other requests finish (up to `graceMs`), then closes the rest. */
  close(graceMs?: number): Promise<void>;
}

export async function startMnsServer(deps: MnsServerDeps): Promise<RunningMnsServer> {
  const handle = createMnsDialect({ config: deps.config, lookup: deps.lookup, mns: deps.mns, log: deps.log.child({ component: 'mns' }), disk: deps.disk });
  const inFlight = new Set<AbortController>();

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    deps.metrics?.track(req, res, 'mns');
    try {
      if (deps.extraRoutes?.(req, res)) return;
    } catch (err) {
      deps.log.error({ err }, 'an extra MNS route failed');
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('internal error');
      }
      return;
    }
    const ac = new AbortController();
    inFlight.add(ac);
    res.on('close', () => {
      inFlight.delete(ac);
      // Closed before the response was complete: the client went away.
      if (!res.writableFinished) ac.abort();
    });
    handle(req, res, ac.signal).catch((err: unknown) => {
      deps.log.error({ err }, 'MNS request handler crashed');
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('internal error');
      } else res.destroy();
    });
  };
  const listener = await listen({ host: deps.config.host, port: deps.config.mnsPort, maxHeaderSize: LIMITS.maxHeaderBytes, tls: tlsFiles(deps.config), log: deps.log, handler });
  const server = listener.server;
  // Requests are small: bound the whole request (headers and body); responses may wait up to 30 s (long poll).
  server.requestTimeout = LIMITS.mnsRequestTimeoutMs;
  server.headersTimeout = LIMITS.mnsHeadersTimeoutMs;
  server.keepAliveTimeout = LIMITS.keepAliveTimeoutMs;

  return {
    server,
    port: listener.port,
    url: listener.url,
    close(graceMs = 10_000) {
      return listener.close(graceMs, () => {
        for (const ac of inFlight) ac.abort();
      });
    },
  };
}
