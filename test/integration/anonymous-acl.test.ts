/**
 * Anonymous (unsigned) access judged by bucket and object ACLs (spec oss.md §2.7, §3.3, §4.1, §4.10, §7.2).
 * Set-up goes through ali-oss (signed); every anonymous request is a raw http.request with no signature, so the
 * Host header (path style, virtual-hosted `<bucket>.localhost`, the aliyuncs form) is exactly what we send.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { XMLParser } from 'fast-xml-parser';
import { startServer, type TestServer } from '../support/server.js';
import { type AliClient, crc, makeAliClient, md5Hex } from '../support/alioss.js';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

let server: TestServer;
let admin: AliClient;
const agent = new http.Agent({ keepAlive: true });
const T = { timeout: 20_000 };

/** One unsigned request to the server; `host` is the Host header (default: the IP endpoint itself). */
function anon(method: string, path: string, opts: { host?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Host: opts.host ?? `127.0.0.1:${server.port}`, ...opts.headers };
    if (opts.body) headers['Content-Length'] = opts.body.length;
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false });

/** Asserts the OSS error shape (§3.3) and returns its elements. */
function assertOssError(r: RawResponse, status: number, code: string, host: string): Record<string, string> {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status}: ${r.body.toString()}`);
  assert.match(String(r.headers['content-type']), /application\/xml/);
  const text = r.body.toString('utf8');
  assert.match(text, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
  assert.doesNotMatch(text, /xmlns/, 'no namespace on the error root');
  const doc = parser.parse(text) as { Error?: Record<string, string> };
  assert.ok(doc.Error, `root element is <Error>: ${text}`);
  const e = doc.Error;
  assert.equal(e.Code, code);
  assert.ok(typeof e.Message === 'string' && e.Message.length > 0, 'a Message');
  assert.match(e.RequestId ?? '', /^[0-9A-F]{24}$/);
  assert.equal(e.RequestId, r.headers['x-oss-request-id'], 'RequestId matches the x-oss-request-id header');
  assert.equal(e.HostId, host, 'HostId echoes the request Host');
  return e;
}

/** HEAD errors: no body, the error XML in base64 in x-oss-err. */
function assertHeadError(r: RawResponse, status: number, code: string): void {
  assert.equal(r.status, status);
  assert.equal(r.body.length, 0);
  const xml = Buffer.from(String(r.headers['x-oss-err'] ?? ''), 'base64').toString('utf8');
  assert.match(xml, new RegExp(`<Code>${code}</Code>`), `x-oss-err carries the error XML: ${xml}`);
  assert.doesNotMatch(xml, /xmlns/);
}

const PRIV = 'anon-private';
const PUB = 'anon-public-read';
const PRW = 'anon-public-rw';
const data = Buffer.from('anonymous access test bytes\n'.repeat(50));
const ip = () => `127.0.0.1:${server.port}`;

function bucketClient(bucket: string): AliClient {
  return makeAliClient(server, agent, { bucket });
}

before(async () => {
  server = await startServer();
  admin = bucketClient(PRIV);
  for (const b of [PRIV, PUB, PRW]) assert.equal((await admin.putBucket(b)).res.status, 200);
  for (const b of [PRIV, PUB, PRW]) {
    const c = bucketClient(b);
    await c.put('o.txt', data, { headers: { 'Content-Type': 'text/plain' } });
    await c.put('other.txt', Buffer.from('other'));
  }
});

after(async () => {
  agent.destroy();
  await server?.dispose();
});

describe('private bucket', () => {
  test('anonymous GET → 403 AccessDenied with the OSS error XML (path style)', T, async () => {
    const r = await anon('GET', `/${PRIV}/o.txt`);
    const e = assertOssError(r, 403, 'AccessDenied', ip());
    assert.doesNotMatch(r.body.toString(), new RegExp(data.toString().slice(0, 20)), 'no object bytes leak');
    assert.equal(e.EC, r.headers['x-oss-ec'], 'EC element and x-oss-ec header agree');
  });

  test('anonymous GET → 403 also when virtual-hosted (<bucket>.localhost, aliyuncs Host)', T, async () => {
    const vh = `${PRIV}.localhost:${server.port}`;
    assertOssError(await anon('GET', '/o.txt', { host: vh }), 403, 'AccessDenied', vh);
    const ali = `${PRIV}.oss-cn-hangzhou.aliyuncs.com`;
    assertOssError(await anon('GET', '/o.txt', { host: ali }), 403, 'AccessDenied', ali);
  });

  test('anonymous HEAD → 403, error in x-oss-err', T, async () => {
    assertHeadError(await anon('HEAD', `/${PRIV}/o.txt`), 403, 'AccessDenied');
  });

  test('anonymous list (v1, v2), GetBucketAcl, GetBucketInfo → 403', T, async () => {
    assertOssError(await anon('GET', `/${PRIV}`), 403, 'AccessDenied', ip());
    assertOssError(await anon('GET', `/${PRIV}/?list-type=2`), 403, 'AccessDenied', ip());
    assertOssError(await anon('GET', `/${PRIV}/?acl`), 403, 'AccessDenied', ip());
    assertOssError(await anon('GET', `/${PRIV}/?bucketInfo`), 403, 'AccessDenied', ip());
  });

  test('anonymous PUT → 403 and nothing is stored', T, async () => {
    assertOssError(await anon('PUT', `/${PRIV}/anon-upload.txt`, { body: Buffer.from('x') }), 403, 'AccessDenied', ip());
    await assert.rejects(bucketClient(PRIV).head('anon-upload.txt'), (e: { status?: number }) => e.status === 404);
  });
});

describe('public-read bucket', () => {
  before(async () => {
    await admin.putBucketACL(PUB, 'public-read');
    assert.equal((await admin.getBucketACL(PUB)).acl, 'public-read');
  });

  test('anonymous GET → 200 with the bytes and object headers', T, async () => {
    const r = await anon('GET', `/${PUB}/o.txt`);
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(data));
    assert.equal(r.headers.etag, `"${md5Hex(data)}"`);
    assert.equal(r.headers['x-oss-hash-crc64ecma'], crc(data));
    assert.equal(r.headers['content-type'], 'text/plain');
    const vh = await anon('GET', '/o.txt', { host: `${PUB}.localhost:${server.port}` });
    assert.equal(vh.status, 200);
    assert.ok(vh.body.equals(data));
    const range = await anon('GET', `/${PUB}/o.txt`, { headers: { Range: 'bytes=0-9' } });
    assert.equal(range.status, 206);
    assert.ok(range.body.equals(data.subarray(0, 10)));
  });

  test('anonymous HEAD → 200 with ETag and CRC, no body', T, async () => {
    const r = await anon('HEAD', `/${PUB}/o.txt`);
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 0);
    assert.equal(r.headers.etag, `"${md5Hex(data)}"`);
    assert.equal(r.headers['x-oss-hash-crc64ecma'], crc(data));
    assert.equal(r.headers['x-oss-object-type'], 'Normal');
  });

  test('anonymous GET of a missing key on a readable bucket → 404 NoSuchKey', T, async () => {
    const e = assertOssError(await anon('GET', `/${PUB}/nope.txt`), 404, 'NoSuchKey', ip());
    assert.equal(e.Key, 'nope.txt');
  });

  test('anonymous list v1 and v2 → 200 with the keys', T, async () => {
    const v1 = await anon('GET', `/${PUB}/?prefix=o.`);
    assert.equal(v1.status, 200);
    const d1 = parser.parse(v1.body.toString()) as { ListBucketResult: { Name: string; Contents: { Key: string; Size: string; ETag: string } } };
    assert.equal(d1.ListBucketResult.Name, PUB);
    assert.equal(d1.ListBucketResult.Contents.Key, 'o.txt');
    assert.equal(d1.ListBucketResult.Contents.Size, String(data.length));
    assert.equal(d1.ListBucketResult.Contents.ETag, `"${md5Hex(data)}"`);
    const v2 = await anon('GET', '/?list-type=2', { host: `${PUB}.localhost:${server.port}` });
    assert.equal(v2.status, 200);
    const d2 = parser.parse(v2.body.toString()) as { ListBucketResult: { KeyCount: string; Contents: Array<{ Key: string }> } };
    assert.equal(d2.ListBucketResult.KeyCount, '2');
    assert.deepEqual(
      d2.ListBucketResult.Contents.map((c) => c.Key),
      ['o.txt', 'other.txt'],
    );
  });

  test('anonymous writes are denied: PUT, DELETE, DeleteMultiple, append, copy, multipart, ACL changes', T, async () => {
    assertOssError(await anon('PUT', `/${PUB}/o.txt`, { body: Buffer.from('overwritten') }), 403, 'AccessDenied', ip());
    assertOssError(await anon('PUT', `/${PUB}/new.txt`, { body: Buffer.from('new') }), 403, 'AccessDenied', ip());
    assertOssError(await anon('DELETE', `/${PUB}/o.txt`), 403, 'AccessDenied', ip());
    const del = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>false</Quiet><Object><Key>o.txt</Key></Object></Delete>');
    assertOssError(await anon('POST', `/${PUB}/?delete`, { body: del, headers: { 'Content-Type': 'application/xml', 'Content-MD5': createHash('md5').update(del).digest('base64') } }), 403, 'AccessDenied', ip());
    assertOssError(await anon('POST', `/${PUB}/app.txt?append&position=0`, { body: Buffer.from('a') }), 403, 'AccessDenied', ip());
    assertOssError(await anon('PUT', `/${PUB}/copied.txt`, { headers: { 'x-oss-copy-source': `/${PUB}/o.txt` } }), 403, 'AccessDenied', ip());
    assertOssError(await anon('POST', `/${PUB}/mp.txt?uploads`), 403, 'AccessDenied', ip());
    assertOssError(await anon('PUT', `/${PUB}/?acl`, { headers: { 'x-oss-acl': 'public-read-write' } }), 403, 'AccessDenied', ip());
    assertOssError(await anon('PUT', `/${PUB}/o.txt?acl`, { headers: { 'x-oss-object-acl': 'public-read-write' } }), 403, 'AccessDenied', ip());

    const c = bucketClient(PUB);
    assert.ok((await c.get('o.txt')).content.equals(data), 'object unchanged');
    await assert.rejects(c.head('new.txt'), (e: { status?: number }) => e.status === 404);
    await assert.rejects(c.head('copied.txt'), (e: { status?: number }) => e.status === 404);
    assert.equal((await admin.getBucketACL(PUB)).acl, 'public-read');
    assert.equal((await c.getACL('o.txt')).acl, 'default');
  });

  test('anonymous response-* overrides are ignored; anonymous media processing is refused', T, async () => {
    const r = await anon('GET', `/${PUB}/o.txt?response-content-type=text%2Fhtml&response-content-disposition=attachment`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain', 'overrides need a signed request');
    assert.equal(r.headers['content-disposition'], undefined);
    assert.ok(r.body.equals(data));
    assertOssError(await anon('GET', `/${PUB}/o.txt?x-oss-process=video%2Finfo`), 403, 'AccessDenied', ip());
  });

  test('object ACL private on a public-read bucket denies anonymous GET/HEAD of that object only', T, async () => {
    const c = bucketClient(PUB);
    await c.put('secret.txt', Buffer.from('secret'));
    await c.putACL('secret.txt', 'private');
    assertOssError(await anon('GET', `/${PUB}/secret.txt`), 403, 'AccessDenied', ip());
    assertHeadError(await anon('HEAD', `/${PUB}/secret.txt`), 403, 'AccessDenied');
    const other = await anon('GET', `/${PUB}/other.txt`);
    assert.equal(other.status, 200);
    assert.equal(other.body.toString(), 'other');
    // Back to default: readable again.
    await c.putACL('secret.txt', 'default');
    const again = await anon('GET', `/${PUB}/secret.txt`);
    assert.equal(again.status, 200);
    assert.equal(again.body.toString(), 'secret');
  });
});

describe('public-read-write bucket', () => {
  before(async () => {
    await admin.putBucketACL(PRW, 'public-read-write');
  });

  test('anonymous PUT → 200, stored bytes readable by the owner', T, async () => {
    const body = Buffer.from('written anonymously');
    const r = await anon('PUT', `/${PRW}/anon.txt`, { body, headers: { 'Content-Type': 'text/x-anon' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.etag, `"${md5Hex(body)}"`);
    assert.equal(r.headers['x-oss-hash-crc64ecma'], crc(body));
    const g = await bucketClient(PRW).get('anon.txt');
    assert.ok(g.content.equals(body));
    assert.equal(g.res.headers['content-type'], 'text/x-anon');
    const vh = await anon('PUT', '/vh.txt', { host: `${PRW}.localhost:${server.port}`, body: Buffer.from('vh') });
    assert.equal(vh.status, 200);
    assert.equal((await bucketClient(PRW).get('vh.txt')).content.toString(), 'vh');
  });

  test('anonymous GET and DELETE → 200 / 204', T, async () => {
    const g = await anon('GET', `/${PRW}/o.txt`);
    assert.equal(g.status, 200);
    assert.ok(g.body.equals(data));
    const d = await anon('DELETE', `/${PRW}/anon.txt`);
    assert.equal(d.status, 204);
    await assert.rejects(bucketClient(PRW).head('anon.txt'), (e: { status?: number }) => e.status === 404);
  });

  test('anonymous owner operations stay denied: bucket ACL, object ACL, ListMultipartUploads', T, async () => {
    assertOssError(await anon('GET', `/${PRW}/?acl`), 403, 'AccessDenied', ip());
    assertOssError(await anon('PUT', `/${PRW}/?acl`, { headers: { 'x-oss-acl': 'private' } }), 403, 'AccessDenied', ip());
    assertOssError(await anon('PUT', `/${PRW}/o.txt?acl`, { headers: { 'x-oss-object-acl': 'private' } }), 403, 'AccessDenied', ip());
    assertOssError(await anon('GET', `/${PRW}/?uploads`), 403, 'AccessDenied', ip());
    assert.equal((await admin.getBucketACL(PRW)).acl, 'public-read-write');
  });

  test('object ACL private on a public-read-write bucket also protects it from anonymous overwrite (§7.2)', T, async () => {
    const c = bucketClient(PRW);
    await c.put('locked.txt', Buffer.from('locked'));
    await c.putACL('locked.txt', 'private');
    assertOssError(await anon('GET', `/${PRW}/locked.txt`), 403, 'AccessDenied', ip());
    const put = await anon('PUT', `/${PRW}/locked.txt`, { body: Buffer.from('overwritten') });
    const del = await anon('DELETE', `/${PRW}/locked.txt`);
    const now = await c.get('locked.txt').catch(() => undefined);
    assertOssError(put, 403, 'AccessDenied', ip());
    assertOssError(del, 403, 'AccessDenied', ip());
    assert.equal(now?.content.toString(), 'locked', 'the private object keeps its bytes');
  });
});

describe('object ACL on a private bucket', () => {
  test('object ACL public-read allows anonymous GET/HEAD of that object only', T, async () => {
    const c = bucketClient(PRIV);
    await c.put('shared.txt', Buffer.from('shared'), { headers: { 'Content-Type': 'text/plain' } });
    await c.putACL('shared.txt', 'public-read');
    const g = await anon('GET', `/${PRIV}/shared.txt`);
    assert.equal(g.status, 200);
    assert.equal(g.body.toString(), 'shared');
    assert.equal(g.headers.etag, `"${md5Hex(Buffer.from('shared'))}"`);
    const h = await anon('HEAD', `/${PRIV}/shared.txt`);
    assert.equal(h.status, 200);
    assert.equal(h.headers.etag, `"${md5Hex(Buffer.from('shared'))}"`);
    assertOssError(await anon('GET', `/${PRIV}/o.txt`), 403, 'AccessDenied', ip());
    assertOssError(await anon('GET', `/${PRIV}/`), 403, 'AccessDenied', ip());
    assertOssError(await anon('PUT', `/${PRIV}/shared.txt`, { body: Buffer.from('no') }), 403, 'AccessDenied', ip());
    assert.equal((await c.get('shared.txt')).content.toString(), 'shared');
  });

  test('object ACL public-read-write allows anonymous overwrite of that object (§7.2)', T, async () => {
    const c = bucketClient(PRIV);
    await c.put('open.txt', Buffer.from('open v1'));
    await c.putACL('open.txt', 'public-read-write');
    const g = await anon('GET', `/${PRIV}/open.txt`);
    assert.equal(g.status, 200);
    assert.equal(g.body.toString(), 'open v1');
    const put = await anon('PUT', `/${PRIV}/open.txt`, { body: Buffer.from('open v2') });
    assert.equal(put.status, 200, `anonymous PUT on a public-read-write object: ${put.status} ${put.body.toString()}`);
    assert.equal((await c.get('open.txt')).content.toString(), 'open v2');
  });
});

describe('service and bucket level', () => {
  test('anonymous ListBuckets → 403 AccessDenied', T, async () => {
    const r = await anon('GET', '/');
    const e = assertOssError(r, 403, 'AccessDenied', ip());
    for (const b of [PRIV, PUB, PRW]) assert.doesNotMatch(r.body.toString(), new RegExp(b), 'no bucket names leak');
    assert.equal(e.Code, 'AccessDenied');
    assertOssError(await anon('GET', '/', { host: `localhost:${server.port}` }), 403, 'AccessDenied', `localhost:${server.port}`);
  });

  test('anonymous DeleteBucket → 403 AccessDenied, even on a public-read-write bucket', T, async () => {
    // Make PRW deletable (empty) so only the ACL can stop it.
    const c = bucketClient(PRW);
    for (const k of ['o.txt', 'other.txt', 'vh.txt', 'locked.txt']) assert.equal((await c.delete(k)).res.status, 204);
    assertOssError(await anon('DELETE', `/${PRW}`), 403, 'AccessDenied', ip());
    assertOssError(await anon('DELETE', '/', { host: `${PRW}.localhost:${server.port}` }), 403, 'AccessDenied', `${PRW}.localhost:${server.port}`);
    assertOssError(await anon('DELETE', `/${PRIV}`), 403, 'AccessDenied', ip());
    assert.equal((await admin.getBucketInfo(PRW)).res.status, 200, 'the bucket still exists');
    assert.equal((await admin.getBucketInfo(PRIV)).res.status, 200);
  });

  test('anonymous PutBucket → 403, no bucket created', T, async () => {
    assertOssError(await anon('PUT', '/anon-made-bucket'), 403, 'AccessDenied', ip());
    await assert.rejects(admin.getBucketInfo('anon-made-bucket'), (e: { status?: number; code?: string }) => e.status === 404 && e.code === 'NoSuchBucket');
  });
});
