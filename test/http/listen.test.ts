/**
 * The one listen/close helper of both ports (src/http/listen.ts): plain HTTP and HTTPS, the URL it
 * reports, the scheme requests see, a close that lets an in-flight request finish, and what it says of a
 * certificate.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describeCertificate, listen, requestScheme, tlsFiles, urlHost } from '../../src/http/listen.js';
import { makeCa, makeServerPair, type ServerPair, type TestCa } from '../support/tls.js';

const log = pino({ level: 'silent' });
let dir: string;
let ca: TestCa;
let pair: ServerPair;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'medley-listen-'));
  ca = makeCa(dir);
  pair = makeServerPair(ca, { name: 'srv', serial: 77, days: 3 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function get(url: string): Promise<string> {
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    mod
      .get(url, { ca: ca.pem, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

test('tlsFiles: both files or nothing', () => {
  assert.equal(tlsFiles({}), undefined);
  assert.deepEqual(tlsFiles({ tlsCert: 'c.pem', tlsKey: 'k.pem' }), { certFile: 'c.pem', keyFile: 'k.pem' });
});

test('urlHost: wildcard listen addresses are reached over loopback, IPv6 goes in brackets', () => {
  const table: [string, string][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['0.0.0.0', '127.0.0.1'],
    ['::', '127.0.0.1'],
    ['::1', '[::1]'],
    ['medley.internal', 'medley.internal'],
  ];
  for (const [host, want] of table) assert.equal(urlHost(host), want, host);
});

test('describeCertificate reads the leaf of a chain', () => {
  const info = describeCertificate(pair.certPem);
  assert.equal(info.subject, 'CN=localhost');
  assert.equal(info.issuer, 'CN=Medley Test CA');
  assert.match(info.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.ok(info.daysLeft === 2 || info.daysLeft === 3, String(info.daysLeft));
});

for (const secure of [false, true]) {
  test(`${secure ? 'https' : 'http'}: the URL, the scheme requests see, and a close that drains`, async () => {
    let release: () => void = () => undefined;
    let arrived: () => void = () => undefined;
    const slowArrived = new Promise<void>((r) => (arrived = r));
    const l = await listen({
      host: '127.0.0.1',
      port: 0,
      maxHeaderSize: 16 * 1024,
      tls: secure ? { certFile: pair.certFile, keyFile: pair.keyFile } : undefined,
      log,
      handler: (req, res) => {
        if (req.url === '/slow') {
          release = () => res.end('slow done');
          arrived();
        }
        else res.end(requestScheme(req));
      },
    });
    assert.equal(l.url, `${secure ? 'https' : 'http'}://127.0.0.1:${l.port}`);
    assert.equal(l.certificate()?.serialNumber, secure ? describeCertificate(pair.certPem).serialNumber : undefined);
    assert.equal(await get(`${l.url}/`), secure ? 'https' : 'http');
    const slow = get(`${l.url}/slow`);
    await slowArrived;
    let drained = false;
    const hooks: string[] = [];
    const closed = l.close(5000, () => hooks.push('beforeDrain')).then(() => (drained = true));
    assert.equal(l.close(5000), l.close(5000), 'close is idempotent');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(drained, false, 'an in-flight request holds the close');
    release();
    assert.equal(await slow, 'slow done');
    await closed;
    assert.deepEqual(hooks, ['beforeDrain']);
  });
}

/** A raw request on a fresh connection; resolves with everything the server sent before it closed. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('error', reject);
    s.on('close', () => resolve(got));
    s.write(request);
  });
}

test('requests the HTTP parser refuses get a status naming the problem, readable even by a client still sending', async () => {
  const l = await listen({ host: '127.0.0.1', port: 0, maxHeaderSize: 16 * 1024, log, handler: (_req, res) => res.end('ok') });
  try {
    // A 2 MB URL: Node's own answer destroys the socket at once, so such a client often saw a reset instead.
    const huge = `${l.url}/?Action=ListTasks&x=${'%5B'.repeat(700_000)}`;
    const answers = await Promise.all(Array.from({ length: 8 }, async () => {
      const res = await fetch(huge);
      return `${res.status} ${await res.text()}`;
    }));
    for (const a of answers) assert.equal(a, '431 The request line and headers are larger than 16384 bytes.\n');
    const bad = await rawExchange(l.port, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    assert.match(bad, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(bad, /Connection: close/);
    assert.match(bad, /The request is not valid HTTP\/1\.1 \(HPE_[A-Z_]+\)\.\n$/);
    // The listener still serves.
    assert.equal(await (await fetch(`${l.url}/`)).text(), 'ok');
  } finally {
    await l.close(1000);
  }
});
