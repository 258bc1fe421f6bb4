/**
 * An upload refused before its body is read (here a 1.2 MB PUT with a bad signature) must reach the client as
 * the 403 error XML, never as `write: broken pipe` / ECONNRESET: the server drains the body (bounded) instead of
 * closing the connection under the upload (src/http/drain.ts). The client behaves like Go's net/http: it writes
 * the whole request (64 KiB, a pause in which the server certainly answers, then the rest) before it reads
 * anything, so an answer followed by a close reaches it as a reset that discards the answer.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startServer, type TestServer } from '../support/server.js';
import { rawRequest, signV1 } from '../support/raw-client.js';

const BUCKET = 'early-refusal';
const BODY = Buffer.alloc(1_200_000, 0x61);
const T = { timeout: 60_000 };

let server: TestServer;

before(async () => {
  server = await startServer();
  const r = await rawRequest(server.url, { method: 'PUT', bucket: BUCKET, auth: { id: server.keyId, secret: server.secret } });
  assert.equal(r.status, 200, r.text);
});
after(async () => server?.dispose());

interface Outcome {
  status?: number;
  connection?: string;
  body?: string;
  error?: string;
}

function refusedPutBytes(key: string, extraHeaders: Record<string, string>): { head: Buffer; body: Buffer } {
  const headers: Record<string, string> = { Host: new URL(server.url).host, Date: new Date().toUTCString(), 'Content-Type': 'application/octet-stream', ...extraHeaders };
  headers.Authorization = `OSS ${server.keyId}:${signV1('not-the-secret', 'PUT', headers, `/${BUCKET}/${key}`)}`;
  headers['Content-Length'] = String(BODY.length);
  const lines = [`PUT /${BUCKET}/${key} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
  return { head: Buffer.from(lines.join('\r\n')), body: BODY };
}

function write(socket: Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
}

/** Reads one response (status line, headers, Content-Length body) from a paused socket. */
function readResponse(socket: Socket): Promise<Outcome> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const finish = (o: Outcome) => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.pause();
      resolve(o);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      finish({
        status: Number(head.slice(9, 12)),
        connection: /\r\nconnection: *([^\r]*)/i.exec(head)?.[1]?.toLowerCase(),
        body: buf.subarray(end + 4, end + 4 + length).toString('utf8'),
      });
    };
    const onError = (e: NodeJS.ErrnoException) => finish({ error: e.code ?? e.message });
    const onClose = () => finish({ error: `connection closed after ${buf.length} response bytes` });
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.resume();
  });
}

/** Writes the whole refused upload, then reads the answer. */
async function refusedPut(socket: Socket, key: string, extraHeaders: Record<string, string> = {}): Promise<Outcome> {
  const { head, body } = refusedPutBytes(key, extraHeaders);
  try {
    await write(socket, Buffer.concat([head, body.subarray(0, 65_536)]));
    await new Promise((r) => setTimeout(r, 100));
    await write(socket, body.subarray(65_536));
  } catch (e) {
    return { error: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
  return readResponse(socket);
}

function open(): Promise<Socket> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => resolve(socket));
    socket.pause(); // like Go: nothing is read until the request is written
    socket.once('error', reject);
  });
}

function assertRefused(o: Outcome, what: string): void {
  assert.equal(o.error, undefined, `${what}: the client saw ${o.error}`);
  assert.equal(o.status, 403, what);
  assert.match(o.body ?? '', /<Code>SignatureDoesNotMatch<\/Code>/, what);
}

test('30 sequential refused 1.2 MB uploads all read the 403 (half asking Connection: close)', T, async () => {
  for (let i = 0; i < 30; i++) {
    const socket = await open();
    try {
      const close = i % 2 === 1;
      const o = await refusedPut(socket, `seq-${i}`, close ? { Connection: 'close' } : {});
      assertRefused(o, `upload ${i}`);
      if (close) assert.equal(o.connection, 'close', `upload ${i}`);
    } finally {
      socket.destroy();
    }
  }
});

test('10 concurrent refused 1.2 MB uploads all read the 403', T, async () => {
  const outcomes = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const socket = await open();
      try {
        return await refusedPut(socket, `conc-${i}`);
      } finally {
        socket.destroy();
      }
    }),
  );
  outcomes.forEach((o, i) => assertRefused(o, `upload ${i}`));
});

test('the drained connection stays open: three refused uploads in a row on one keep-alive connection', T, async () => {
  const socket = await open();
  try {
    for (let i = 0; i < 3; i++) {
      const o = await refusedPut(socket, `keepalive-${i}`);
      assertRefused(o, `upload ${i}`);
      assert.notEqual(o.connection, 'close', `upload ${i}`);
    }
  } finally {
    socket.destroy();
  }
});
