/**
 * The message service's own listener (config.host:config.mnsPort; port 0 = any free port). Each request
 * gets an AbortSignal that fires when its client goes away or the server closes, so a long poll never
 * outlives either.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { CredentialLookup } from '../../auth/credentials.js';
import type { MnsService } from '../../notify/mns-service.js';
import { createMnsDialect } from './dialect.js';
import { LIMITS } from '../../limits.js';
import type { DiskSpace } from '../../storage/disk-space.js';
import type { Metrics } from '../../observability/metrics.js';

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
  server: Server;
  /** Base URL, e.g. http://127.0.0.1:9100: the endpoint for MNS clients. */
  url: string;
  port: number;
  /** Stops accepting, ends long polls at once, lets other requests finish (up to `graceMs`), then closes the rest. */
  close(graceMs?: number): Promise<void>;
}

export async function startMnsServer(deps: MnsServerDeps): Promise<RunningMnsServer> {
  const handle = createMnsDialect({ config: deps.config, lookup: deps.lookup, mns: deps.mns, log: deps.log.child({ component: 'mns' }), disk: deps.disk });
  const inFlight = new Set<AbortController>();

  const server = createServer({ maxHeaderSize: LIMITS.maxHeaderBytes }, (req, res) => {
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
  });
  // Requests are small: bound the whole request (headers and body); responses may wait up to 30 s (long poll).
  server.requestTimeout = LIMITS.mnsRequestTimeoutMs;
  server.headersTimeout = LIMITS.mnsHeadersTimeoutMs;
  server.keepAliveTimeout = LIMITS.keepAliveTimeoutMs;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.config.mnsPort, deps.config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = deps.config.host.includes(':') ? `[${deps.config.host}]` : deps.config.host;
  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    url: `http://${hostForUrl}:${port}`,
    close(graceMs = 10_000) {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        for (const ac of inFlight) ac.abort();
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
