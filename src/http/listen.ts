/**
 * One listen/close helper for Medley's HTTP listeners (the OSS / IMM port and the MNS port): a plain
 * HTTP or, with MEDLEY_TLS_CERT / MEDLEY_TLS_KEY, an HTTPS server; listening on host:port; a graceful
 * close that drains connections; and reloading the certificate when its files change, without a restart.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';

export type MedleyServer = HttpServer | HttpsServer;

export interface TlsFiles {
  /** PEM: the server certificate, optionally followed by its intermediate CA certificates. */
  certFile: string;
  /** PEM: the certificate's private key. */
  keyFile: string;
}

/** What /-/health reports of the certificate being served. */
export interface CertificateInfo {
  subject: string;
  subjectAltName: string | null;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  fingerprint256: string;
}

export interface ListenOptions {
  host: string;
  port: number;
  /** Largest request header block accepted. */
  maxHeaderSize: number;
  tls?: TlsFiles;
  log: Logger;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface Listener {
  server: MedleyServer;
  port: number;
  /** Base URL, http(s)://host:port. */
  url: string;
  /** The certificate served now (undefined without TLS). */
  certificate(): CertificateInfo | undefined;
  /** Stops accepting, runs `beforeDrain` (e.g. ends long polls), lets in-flight requests finish (up to `graceMs`), then closes the rest. Idempotent. */
  close(graceMs: number, beforeDrain?: () => void): Promise<void>;
}

/** MEDLEY_TLS_CERT / MEDLEY_TLS_KEY (config.ts checks that both or neither are set). */
export function tlsFiles(config: { tlsCert?: string; tlsKey?: string }): TlsFiles | undefined {
  return config.tlsCert !== undefined && config.tlsKey !== undefined ? { certFile: config.tlsCert, keyFile: config.tlsKey } : undefined;
}

/** The key pair as TLS options; throws when a file is missing, unreadable, or the pair does not match. */
export function loadTlsPair(files: TlsFiles): { cert: Buffer; key: Buffer; info: CertificateInfo } {
  const cert = readFileSync(files.certFile);
  const key = readFileSync(files.keyFile);
  // createSecureContext checks that the key belongs to the certificate (and that both parse).
  createSecureContext({ cert, key });
  return { cert, key, info: describeCertificate(cert) };
}

/** The first (leaf) certificate of a PEM chain. */
export function describeCertificate(pem: Buffer | string, now = Date.now()): CertificateInfo {
  const x = new X509Certificate(pem);
  const notAfter = new Date(x.validTo);
  return {
    subject: x.subject,
    subjectAltName: x.subjectAltName ?? null,
    issuer: x.issuer,
    serialNumber: x.serialNumber,
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now) / 86_400_000),
    fingerprint256: x.fingerprint256,
  };
}

/** The scheme a request arrived over, for the URLs Medley returns (Location headers, queue URLs). */
export function requestScheme(req: IncomingMessage): 'http' | 'https' {
  return (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
}

/** Host part of a URL for a listen address (IPv6 in brackets; a wildcard address reached via loopback). */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Certificate renewals often write the two files one after the other: wait for both before reloading. */
const RELOAD_DEBOUNCE_MS = 300;
const WATCH_INTERVAL_MS = 1000;

/** How long a refused connection keeps reading (and discarding) what the client still sends, before it is closed. */
const LINGER_MS = 2000;
const answered = new WeakSet<Socket>();

/**
 * A request Node's HTTP parser refuses before Medley sees it: headers over the limit (431), a malformed
 * request (400), headers too slow (408). Node's own answer destroys the socket at once, so a client still
 * sending (a 2 MB URL) meets a reset before it reads the status; here the answer names the problem, the
 * write side is ended, and the socket is closed only after LINGER_MS of discarding what still arrives.
 * The parser reports each later read as the same error again: answered once, ignored after.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket, maxHeaderSize: number): void {
  if (answered.has(socket)) return;
  const code = err.code ?? '';
  if (!socket.writable || !(code.startsWith('HPE_') || code === 'ERR_HTTP_REQUEST_TIMEOUT')) {
    socket.destroy();
    return;
  }
  answered.add(socket);
  const [status, reason, text] =
    code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', `The request line and headers are larger than ${maxHeaderSize} bytes.`]
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'The request headers did not arrive in time.']
        : [400, 'Bad Request', `The request is not valid HTTP/1.1 (${code}).`];
  const body = `${text}\n`;
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

export async function listen(opts: ListenOptions): Promise<Listener> {
  let info: CertificateInfo | undefined;
  let server: MedleyServer;
  if (opts.tls) {
    let pair: ReturnType<typeof loadTlsPair>;
    try {
      pair = loadTlsPair(opts.tls);
    } catch (e) {
      throw new Error(`MEDLEY_TLS_CERT (${opts.tls.certFile}) / MEDLEY_TLS_KEY (${opts.tls.keyFile}) could not be loaded: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    info = pair.info;
    server = createHttpsServer({ cert: pair.cert, key: pair.key, maxHeaderSize: opts.maxHeaderSize }, opts.handler);
    // A client speaking plain HTTP (or garbage) to the TLS port: drop that socket, nothing else.
    server.on('tlsClientError', (err, socket) => {
      opts.log.debug({ err: err.message }, 'TLS handshake failed');
      socket.destroy();
    });
  } else {
    server = createHttpServer({ maxHeaderSize: opts.maxHeaderSize }, opts.handler);
  }
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket as Socket, opts.maxHeaderSize));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const stopWatching = opts.tls ? watchTlsFiles(server as HttpsServer, opts.tls, opts.log, (i) => (info = i)) : () => undefined;

  let closing: Promise<void> | undefined;
  const hostPart = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    server,
    port,
    url: `${opts.tls ? 'https' : 'http'}://${hostPart}:${port}`,
    certificate: () => info && { ...info, daysLeft: Math.floor((Date.parse(info.notAfter) - Date.now()) / 86_400_000) },
    close(graceMs, beforeDrain) {
      closing ??= new Promise<void>((resolve) => {
        stopWatching();
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        beforeDrain?.();
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/**
 * Polls both files (fs.watchFile survives the rename-into-place that certificate tools use, which fs.watch
 * does not) and swaps the secure context when either changes. New connections get the new certificate;
 * open ones keep theirs. A pair that does not load (half-written, key and certificate not matching) is
 * logged and the one being served is kept.
 */
function watchTlsFiles(server: HttpsServer, files: TlsFiles, log: Logger, onLoaded: (info: CertificateInfo) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    timer = undefined;
    try {
      const pair = loadTlsPair(files);
      server.setSecureContext({ cert: pair.cert, key: pair.key });
      onLoaded(pair.info);
      log.info({ subject: pair.info.subject, notAfter: pair.info.notAfter, serialNumber: pair.info.serialNumber }, 'TLS certificate reloaded');
    } catch (err) {
      log.error({ err, certFile: files.certFile, keyFile: files.keyFile }, 'the new TLS certificate/key could not be loaded; still serving the previous one');
    }
  };
  const changed = (cur: { mtimeMs: number; ino: number; size: number }, prev: { mtimeMs: number; ino: number; size: number }) => {
    if (cur.mtimeMs === prev.mtimeMs && cur.ino === prev.ino && cur.size === prev.size) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, RELOAD_DEBOUNCE_MS);
    timer.unref();
  };
  const opts = { interval: WATCH_INTERVAL_MS, persistent: false };
  watchFile(files.certFile, opts, changed);
  watchFile(files.keyFile, opts, changed);
  return () => {
    if (timer) clearTimeout(timer);
    unwatchFile(files.certFile, changed);
    unwatchFile(files.keyFile, changed);
  };
}
