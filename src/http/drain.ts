/**
 * What to do with a request body nobody read, when the answer (usually an error: a bad signature, a missing
 * bucket) is sent before it. Closing the connection at once makes the kernel reset it under the client's
 * upload, and the client then reports `write: broken pipe` / ECONNRESET instead of the error it was sent.
 * So, as S3-compatible servers do, the rest of the body is read and dropped — up to a bound in bytes and
 * time, after which the connection is cut — and the connection stays usable when the body was small.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bodies up to this size are read to their end after an early answer, so the client sees the answer. */
export const DRAIN_MAX_BYTES = 8 * 1024 * 1024;
/** ...and for at most this long; a client still sending after that is cut off. */
export const DRAIN_MAX_MS = 5_000;

/**
 * Whether a request failed because its client went away (the connection closed before the body was
 * read): the error is then the client's, not Medley's or the database's (an aborted upload surfaces as
 * ECONNRESET, which would otherwise read as a lost database connection), and nobody is there for an answer.
 */
export function clientWentAway(req: IncomingMessage, res: ServerResponse): boolean {
  // The response, not the request: a request stream Medley destroyed itself (a pipeline failing on a full
  // disk) has no usable socket either, yet its client is there for the 503. The response is destroyed only
  // when the connection closed under it.
  return !req.complete && res.destroyed;
}

function hasBody(req: IncomingMessage): boolean {
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Call before sending an answer that did not consume the request body. The unread body is drained in the
 * background while the answer goes out. A small body keeps the connection usable (keep-alive). When the
 * connection is to be closed after the answer — the client asked for it, or the declared body is larger than
 * the bound (reading gigabytes to answer 403 is not worth it; the answer then says `Connection: close`) —
 * node's close is turned into a half-close: our side ends (FIN after the answer) and the socket is destroyed
 * only when the body has been read, or the bound or time limit is hit. Destroying with unread bytes pending
 * is what makes the kernel send a reset that can discard the answer before the client reads it.
 */
export function settleUnreadBody(req: IncomingMessage, res: ServerResponse, limits = { bytes: DRAIN_MAX_BYTES, ms: DRAIN_MAX_MS }): void {
  if (!hasBody(req) || req.readableEnded || req.destroyed) return;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.bytes && !res.headersSent) res.setHeader('Connection', 'close');
  const socket = req.socket;
  let drained = 0;
  let closeWhenDone = false;
  // node calls destroySoon() after the last response of a connection; end our half instead and destroy later.
  const destroySoon = Object.getOwnPropertyDescriptor(socket, 'destroySoon');
  socket.destroySoon = () => {
    closeWhenDone = true;
    socket.end();
  };
  const restore = () => {
    if (destroySoon) Object.defineProperty(socket, 'destroySoon', destroySoon);
    else delete (socket as { destroySoon?: unknown }).destroySoon;
  };
  const finish = (destroy: boolean) => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', onClose);
    restore();
    if (destroy) socket.destroy();
  };
  const timer = setTimeout(() => finish(true), limits.ms);
  timer.unref();
  const onData = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > limits.bytes) finish(true);
  };
  const onEnd = () => finish(closeWhenDone);
  const onClose = () => finish(false);
  // Listening puts the stream in flowing mode before the answer ends, so node does not start its own unbounded
  // dump of the body.
  req.on('data', onData);
  req.once('end', onEnd);
  req.once('close', onClose);
  req.resume();
}
