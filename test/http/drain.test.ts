// settleUnreadBody on a real node:http server: small unread bodies are drained and keep-alive holds; the drain
// is bounded in bytes and in time.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { settleUnreadBody } from '../../src/http/drain.js';

const LIMITS = { bytes: 64 * 1024, ms: 400 };
let server: Server;
let port: number;

before(async () => {
  server = createServer((req, res) => {
    // Answer at once, without reading the body, as a refused request does.
    settleUnreadBody(req, res, LIMITS);
    res.writeHead(403, { 'Content-Length': 6 });
    res.end('denied');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function open(): Promise<Socket> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
  });
}

function closed(s: Socket): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    s.on('error', () => undefined);
    s.on('close', () => resolve(Date.now() - t0));
  });
}

test('a body within the bound is read to its end and the connection serves the next request', async () => {
  const s = await open();
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString('latin1')));
  const body = Buffer.alloc(32 * 1024, 0x62);
  s.write(`PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
  s.write(body);
  s.write('GET /b HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(text.match(/HTTP\/1\.1 403/g)?.length, 2, text);
  assert.doesNotMatch(text, /connection: close/i);
  s.destroy();
});

test('a declared body larger than the bound is answered with Connection: close and cut after the bound', async () => {
  const s = await open();
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString('latin1')));
  const done = closed(s);
  s.write(`PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`);
  // Keep writing well past the bound; the server stops reading and closes.
  const chunk = Buffer.alloc(16 * 1024, 0x63);
  for (let i = 0; i < 64 && !s.destroyed; i++) {
    s.write(chunk);
    await new Promise((r) => setTimeout(r, 2));
  }
  await done;
  assert.match(text, /^HTTP\/1\.1 403/);
  assert.match(text, /connection: close/i);
});

test('a body that never ends is cut after the time bound', async () => {
  const s = await open();
  const done = closed(s);
  s.write('PUT /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
  const timer = setInterval(() => {
    if (!s.destroyed) s.write('1\r\nx\r\n');
  }, 20);
  const ms = await done;
  clearInterval(timer);
  assert.ok(ms >= LIMITS.ms - 50 && ms < LIMITS.ms + 2000, `closed after ${ms} ms`);
});
