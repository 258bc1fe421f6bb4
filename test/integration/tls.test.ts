/**
 * TLS (MEDLEY_TLS_CERT / MEDLEY_TLS_KEY): the real server serves HTTPS on the OSS / IMM port and the MNS
 * port with a certificate chain signed by a test CA; ali-oss, @alicloud/pop-core and @alicloud/mns work
 * through it with that CA trusted; /-/health reports the certificate; replacing the files swaps the
 * certificate for new connections without a restart (a bad pair is refused and the old one kept); plain
 * HTTP to the TLS port fails without harming the server. Also: the S3 blob store through an https
 * endpoint with MEDLEY_S3_CA_BUNDLE, and pg reading sslrootcert from the database URL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import tls from 'node:tls';
import type { LookupFunction } from 'node:net';
import OSS from 'ali-oss';
import pg from 'pg';
import { startServer, type TestServer } from '../support/server.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { installPair, makeCa, makeServerPair, type ServerPair, type TestCa } from '../support/tls.js';
import { S3BlobStore } from '../../src/storage/s3-blob-store.js';
import { MedleyError } from '../../src/errors.js';

const require = createRequire(import.meta.url);
const TOKEN = 'tls-test-metrics-token-0001';

let dir: string;
let ca: TestCa;
let first: ServerPair;
let certFile: string;
let keyFile: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'medley-tls-'));
  ca = makeCa(dir);
  first = makeServerPair(ca, { name: 'first', serial: 1001, days: 10 });
  // The files Medley serves from; the test replaces them in place.
  certFile = join(dir, 'server.pem');
  keyFile = join(dir, 'server.key');
  installPair(first, certFile, keyFile);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A GET over https trusting only the test CA. */
function httpsGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: ca.pem, headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** The certificate a new TLS connection to `port` is given. */
async function peerCertificate(port: number): Promise<tls.PeerCertificate> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.pem, servername: 'localhost' });
  try {
    await once(socket, 'secureConnect');
    return socket.getPeerCertificate();
  } finally {
    socket.destroy();
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('HTTPS on both ports', () => {
  let server: TestServer;
  let agent: https.Agent;
  before(async () => {
    server = await startServer({ env: { MEDLEY_TLS_CERT: certFile, MEDLEY_TLS_KEY: keyFile, MEDLEY_METRICS_TOKEN: TOKEN } });
    // Trusts the test CA; resolves <bucket>.localhost to loopback, so virtual-hosted requests reach the server.
    const lookup = ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) =>
      opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as unknown as LookupFunction;
    agent = new https.Agent({ ca: ca.pem, keepAlive: true, lookup });
  });
  after(async () => {
    agent.destroy();
    await server.dispose();
  });

  test('the banner gives https:// URLs for the OSS / IMM and MNS ports', () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(server.mnsUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test('ali-oss puts and gets an object over https (path-style and virtual-hosted)', async () => {
    for (const sldEnable of [true, false]) {
      const client = new OSS({
        accessKeyId: server.keyId,
        accessKeySecret: server.secret,
        region: 'oss-cn-hangzhou',
        endpoint: `https://localhost:${server.port}`,
        bucket: 'tls-bucket',
        sldEnable,
        httpsAgent: agent,
      } as unknown as OSS.Options);
      if (sldEnable) await client.putBucket('tls-bucket');
      const key = `hello-${String(sldEnable)}.txt`;
      await client.put(key, Buffer.from('over TLS'));
      const got = await client.get(key);
      assert.equal((got.content as Buffer).toString(), 'over TLS');
    }
  });

  test('a CompleteMultipartUpload Location says https', async () => {
    const client = new OSS({ accessKeyId: server.keyId, accessKeySecret: server.secret, region: 'oss-cn-hangzhou', endpoint: `https://localhost:${server.port}`, bucket: 'tls-bucket', sldEnable: true, httpsAgent: agent } as unknown as OSS.Options);
    const r = (await client.multipartUpload('multi.bin', Buffer.alloc(200 * 1024, 7), { partSize: 100 * 1024 })) as unknown as { res: { status: number; data: Buffer } };
    assert.equal(r.res.status, 200);
    assert.match(r.res.data.toString(), /<Location>https:\/\/localhost:\d+\/multi\.bin<\/Location>/);
  });

  test('@alicloud/pop-core creates and lists IMM projects over https', async () => {
    const RPCClient = require('@alicloud/pop-core') as new (o: Record<string, unknown>) => { request(a: string, p: Record<string, unknown>, o?: Record<string, unknown>): Promise<Record<string, unknown>> };
    const client = new RPCClient({ accessKeyId: server.keyId, accessKeySecret: server.secret, endpoint: server.url, apiVersion: '2020-09-30', opts: { agent } });
    await client.request('CreateProject', { ProjectName: 'tls-project' }, { method: 'POST', timeout: 30_000 });
    const listed = (await client.request('ListProjects', {}, { method: 'POST', timeout: 30_000 })) as { Projects: { ProjectName: string }[] };
    assert.ok(listed.Projects.some((p) => p.ProjectName === 'tls-project'));
  });

  test('@alicloud/mns creates a queue, sends and receives over https; queue URLs say https', async () => {
    const MNSClient = require('@alicloud/mns') as new (account: string, o: Record<string, unknown>) => {
      request(...args: unknown[]): Promise<unknown>;
      createQueue(name: string): Promise<{ code: number; headers: Record<string, string> }>;
      sendMessage(q: string, p: Record<string, unknown>): Promise<{ code: number }>;
      receiveMessage(q: string, wait?: number): Promise<{ body: { MessageBody: string } }>;
    };
    const client = new MNSClient('1000000000000001', { accessKeyId: server.keyId, accessKeySecret: server.secret, endpoint: server.mnsUrl });
    // @alicloud/mns takes no agent option; its request() passes per-call options through to httpx.
    const request = client.request.bind(client);
    client.request = (method, resource, type, body, attentions, opts = {}) => request(method, resource, type, body, attentions, { ...(opts as object), agent });
    const created = await client.createQueue('tls-queue');
    assert.equal(created.code, 201);
    assert.match(created.headers.location ?? '', /^https:\/\//);
    assert.equal((await client.sendMessage('tls-queue', { MessageBody: 'secure hello' })).code, 201);
    assert.equal((await client.receiveMessage('tls-queue', 5)).body.MessageBody, 'secure hello');
  });

  test('clients that do not trust the CA are refused', async () => {
    await assert.rejects(
      new Promise((resolve, reject) => https.get(`${server.url}/-/health`, { agent: false }, resolve).on('error', reject)),
      (e: NodeJS.ErrnoException) => /certificate/i.test(e.message) || /CERT|SELF_SIGNED/.test(e.code ?? ''),
    );
  });

  test('plain HTTP to the TLS port fails at once and the server keeps serving', async () => {
    for (const port of [server.port, Number(new URL(server.mnsUrl).port)]) {
      const outcome = await new Promise<string>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/-/health', agent: false, timeout: 10_000 }, (res) => {
          res.resume();
          resolve(`status ${res.statusCode}`);
        });
        req.on('timeout', () => {
          req.destroy();
          resolve('timeout');
        });
        req.on('error', (e) => resolve(`error ${e.message}`));
      });
      assert.match(outcome, /^error /);
    }
    assert.equal((await httpsGet(`${server.url}/-/health`)).status, 200);
    assert.equal((await httpsGet(`${server.mnsUrl}${'/-/mns-signing.crt'}`)).status, 200);
  });

  test('the detailed /-/health reports the certificate; anonymous health does not', async () => {
    const anonymous = JSON.parse((await httpsGet(`${server.url}/-/health`)).body) as Record<string, unknown>;
    assert.deepEqual(anonymous, { status: 'ok' });
    const h = JSON.parse((await httpsGet(`${server.url}/-/health`, { Authorization: `Bearer ${TOKEN}` })).body) as { tls: Record<string, unknown> };
    const x = new X509Certificate(first.certPem);
    assert.equal(h.tls.subject, 'CN=localhost');
    assert.equal(h.tls.subjectAltName, 'IP Address:127.0.0.1, DNS:localhost, DNS:tls-bucket.localhost');
    assert.equal(h.tls.serialNumber, x.serialNumber);
    assert.equal(h.tls.notAfter, new Date(x.validTo).toISOString());
    assert.ok(h.tls.daysLeft === 9 || h.tls.daysLeft === 10, `daysLeft ${String(h.tls.daysLeft)}`);
  });

  test('replaced files are served to new connections without a restart; a bad pair is refused and the old one kept', async () => {
    const firstSerial = new X509Certificate(first.certPem).serialNumber;
    assert.equal((await peerCertificate(server.port)).serialNumber, firstSerial);

    // A broken pair (a certificate with another key) is logged and not served.
    const wrong = makeServerPair(ca, { name: 'wrong', serial: 1002, days: 5 });
    installPair({ certPem: wrong.certPem, keyPem: first.keyPem }, certFile, keyFile);
    await until('the refusal of a mismatched pair in the log', async () => /could not be loaded/.test(server.output()));
    assert.equal((await peerCertificate(server.port)).serialNumber, firstSerial);

    const second = makeServerPair(ca, { name: 'second', serial: 2002, days: 40 });
    installPair(second, certFile, keyFile);
    const secondSerial = new X509Certificate(second.certPem).serialNumber;
    await until('the new certificate on a new connection', async () => (await peerCertificate(server.port)).serialNumber === secondSerial);
    assert.equal((await peerCertificate(Number(new URL(server.mnsUrl).port))).serialNumber, secondSerial);
    const h = JSON.parse((await httpsGet(`${server.url}/-/health`, { Authorization: `Bearer ${TOKEN}` })).body) as { tls: Record<string, unknown> };
    assert.equal(h.tls.serialNumber, secondSerial);
    assert.equal(h.tls.notAfter, new Date(new X509Certificate(second.certPem).validTo).toISOString());
    assert.ok(Number(h.tls.daysLeft) >= 39, `daysLeft ${String(h.tls.daysLeft)}`);
  });
});

describe('TLS configuration', () => {
  test('MEDLEY_TLS_CERT without MEDLEY_TLS_KEY is a configuration error naming both', async () => {
    await assert.rejects(startServer({ env: { MEDLEY_TLS_CERT: certFile } }), /MEDLEY_TLS_CERT and MEDLEY_TLS_KEY must be set together/);
  });

  test('a key that does not belong to the certificate stops the start with a message', async () => {
    const other = makeServerPair(ca, { name: 'other', serial: 3003, days: 5 });
    const mixed = join(dir, 'mixed.pem');
    writeFileSync(mixed, other.certPem);
    await assert.rejects(startServer({ env: { MEDLEY_TLS_CERT: mixed, MEDLEY_TLS_KEY: first.keyFile } }), /key values mismatch|KEY_VALUES_MISMATCH/i);
  });
});

describe('TLS to the blob store and the database', () => {
  let s3: TestS3;
  let s3Pair: ServerPair;
  before(async () => {
    s3Pair = makeServerPair(ca, { name: 's3', serial: 4004, days: 5 });
    s3 = await startS3('tls-blobs', { key: s3Pair.keyPem, cert: s3Pair.certPem });
  });
  after(async () => {
    await s3?.stop();
  });

  const store = (caBundle?: string) =>
    new S3BlobStore({ endpoint: s3.endpoint, bucket: s3.bucket, prefix: 'blobs/', region: 'us-east-1', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true, caBundle });

  async function write(s: S3BlobStore, bytes: Buffer): Promise<string> {
    const w = await s.create();
    w.stream.end(bytes);
    await w.finish();
    return w.id;
  }

  test('the S3 blob store works over https with MEDLEY_S3_CA_BUNDLE', async () => {
    assert.match(s3.endpoint, /^https:\/\//);
    const s = store(ca.certFile);
    const id = await write(s, Buffer.from('blob over TLS'));
    const chunks: Buffer[] = [];
    for await (const c of await s.open(id)) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'blob over TLS');
    await s.remove(id);
  });

  test('without the CA bundle the store refuses the certificate with a clear error', async () => {
    const s = store();
    await assert.rejects(write(s, Buffer.from('x')), (e: unknown) => {
      assert.ok(e instanceof MedleyError, String(e));
      assert.equal(e.key, 'BlobStoreUnavailable');
      assert.match(e.message, /certificate/i);
      return true;
    });
  });

  test('pg reads sslmode=verify-full and sslrootcert from MEDLEY_DATABASE_URL', () => {
    const client = new pg.Client({ connectionString: `postgres://u:p@db.example:5432/medley?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca.certFile)}` });
    const ssl = (client as unknown as { connectionParameters: { ssl: { ca?: string; rejectUnauthorized?: boolean } } }).connectionParameters.ssl;
    assert.equal(ssl.ca, ca.pem.toString());
    assert.notEqual(ssl.rejectUnauthorized, false);
  });
});
