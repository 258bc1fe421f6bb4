/**
 * Raw-HTTP negative tests against the real server: bad credentials, clocks and signatures, anonymous
 * access, missing resources, malformed input — each a 4xx with the OSS error XML, never a 500 — and a
 * PUT cut off mid-body that must leave the previous object intact.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { blobCount, queryRows } from '../support/backend.js';
import { startServer, type TestServer } from '../support/server.js';
import { rawRequest, rawSocket, signedHeaders, xmlTag, type RawRequest } from '../support/raw-client.js';

let server: TestServer;
let auth: { id: string; secret: string };
const BUCKET = 'negative-tests';

const send = (r: RawRequest) => rawRequest(server.url, r);
const signed = (r: Omit<RawRequest, 'auth'>) => send({ ...r, auth });

function assertOssError(res: { status: number; text: string; headers: Record<string, unknown> }, status: number, code: string) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.equal(xmlTag(res.text, 'Code'), code, res.text);
  assert.ok(xmlTag(res.text, 'Message'), 'error has a Message');
  assert.equal(xmlTag(res.text, 'RequestId'), res.headers['x-oss-request-id'], 'RequestId matches the header');
  assert.ok(!res.text.includes('xmlns'), 'no namespace on the error root');
}

const blobFileCount = () => blobCount(server.dataDir);
const blobRowCount = async () => Number((await queryRows<{ n: number | string }>(server.dataDir, 'select count(*) as n from blobs'))[0]!.n);

before(async () => {
  server = await startServer();
  auth = { id: server.keyId, secret: server.secret };
  const r = await signed({ method: 'PUT', bucket: BUCKET });
  assert.equal(r.status, 200);
  assert.equal((await signed({ method: 'PUT', bucket: BUCKET, key: 'keep.txt', body: 'original contents' })).status, 200);
});
after(async () => server.dispose());

describe('authentication', () => {
  test('a wrong secret is SignatureDoesNotMatch with the StringToSign', async () => {
    const r = await send({ method: 'GET', bucket: BUCKET, key: 'keep.txt', auth: { id: auth.id, secret: 'WrongSecret000000000000000000000' } });
    assertOssError(r, 403, 'SignatureDoesNotMatch');
    assert.match(xmlTag(r.text, 'StringToSign') ?? '', /^GET\n/);
    assert.equal(xmlTag(r.text, 'OSSAccessKeyId'), auth.id);
  });

  test('an unknown AccessKeyId is InvalidAccessKeyId', async () => {
    const r = await send({ method: 'GET', bucket: BUCKET, key: 'keep.txt', auth: { id: 'LTAI5tNobodyKnowsMe', secret: auth.secret } });
    assertOssError(r, 403, 'InvalidAccessKeyId');
  });

  test('a Date 20 minutes off is RequestTimeTooSkewed with ServerTime', async () => {
    const r = await signed({ method: 'GET', bucket: BUCKET, key: 'keep.txt', date: new Date(Date.now() - 20 * 60 * 1000) });
    assertOssError(r, 403, 'RequestTimeTooSkewed');
    assert.ok(xmlTag(r.text, 'ServerTime'));
  });

  test('an expired V1 presigned URL is AccessDenied; a valid one works', async () => {
    const url = (expires: number) => {
      const sig = createHmac('sha1', auth.secret).update(`GET\n\n\n${expires}\n/${BUCKET}/keep.txt`).digest('base64');
      return `${server.url}/${BUCKET}/keep.txt?OSSAccessKeyId=${auth.id}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
    };
    const expired = await fetch(url(Math.floor(Date.now() / 1000) - 60));
    assertOssError({ status: expired.status, text: await expired.text(), headers: Object.fromEntries(expired.headers) }, 403, 'AccessDenied');
    const valid = await fetch(url(Math.floor(Date.now() / 1000) + 300));
    assert.equal(valid.status, 200);
    assert.equal(await valid.text(), 'original contents');
  });

  test('a presigned URL missing its Signature is AccessDenied', async () => {
    const r = await fetch(`${server.url}/${BUCKET}/keep.txt?OSSAccessKeyId=${auth.id}&Expires=${Math.floor(Date.now() / 1000) + 60}`);
    assert.equal(r.status, 403);
    assert.equal(xmlTag(await r.text(), 'Code'), 'AccessDenied');
  });

  test('garbage Authorization headers are 4xx, never 500', async () => {
    for (const value of ['OSS', 'OSS nocolon', 'OSS4-HMAC-SHA256 garbage', 'OSS4-HMAC-SHA256 Credential=a/b,Signature=', 'Bearer x', 'OSS :', 'OSS4-HMAC-SHA256 Credential=x/20250101/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=,Signature=00']) {
      const r = await send({ method: 'GET', bucket: BUCKET, key: 'keep.txt', headers: { Authorization: value } });
      assert.ok(r.status >= 400 && r.status < 500, `${value} → ${r.status} ${r.text}`);
      assert.ok(xmlTag(r.text, 'Code'), `${value} has an error code`);
    }
  });

  test('anonymous access to a private bucket is AccessDenied', async () => {
    assertOssError(await send({ method: 'GET', bucket: BUCKET, key: 'keep.txt' }), 403, 'AccessDenied');
    assertOssError(await send({ method: 'PUT', bucket: BUCKET, key: 'anon.txt', body: 'x' }), 403, 'AccessDenied');
    assertOssError(await send({ method: 'GET', bucket: BUCKET }), 403, 'AccessDenied');
  });
});

describe('missing and invalid resources', () => {
  test('a missing bucket is NoSuchBucket with BucketName', async () => {
    const r = await signed({ method: 'GET', bucket: 'no-such-bucket-here', key: 'x' });
    assertOssError(r, 404, 'NoSuchBucket');
    assert.equal(xmlTag(r.text, 'BucketName'), 'no-such-bucket-here');
    assert.equal(xmlTag(r.text, 'EC'), '0015-00000101');
  });

  test('a missing key is NoSuchKey; on HEAD the error travels in x-oss-err', async () => {
    const r = await signed({ method: 'GET', bucket: BUCKET, key: 'absent.txt' });
    assertOssError(r, 404, 'NoSuchKey');
    const h = await signed({ method: 'HEAD', bucket: BUCKET, key: 'absent.txt' });
    assert.equal(h.status, 404);
    assert.equal(h.body.length, 0);
    const decoded = Buffer.from(String(h.headers['x-oss-err']), 'base64').toString('utf8');
    assert.equal(xmlTag(decoded, 'Code'), 'NoSuchKey');
    assert.equal(h.headers['x-oss-ec'], '0026-00000001');
  });

  test('invalid bucket names are InvalidBucketName', async () => {
    for (const name of ['ab', 'UPPER', 'has_underscore-on-create', '-lead', 'trail-', 'a'.repeat(64)]) {
      const r = await signed({ method: 'PUT', bucket: name });
      assertOssError(r, 400, 'InvalidBucketName');
    }
  });

  test('invalid object keys are InvalidObjectName', async () => {
    const long = 'k'.repeat(1024);
    assertOssError(await signed({ method: 'PUT', bucket: BUCKET, key: long, body: 'x' }), 400, 'InvalidObjectName');
    const ok = await signed({ method: 'PUT', bucket: BUCKET, key: 'k'.repeat(1023), body: 'x' });
    assert.equal(ok.status, 200);
    // A key starting with a backslash, and one with NUL, sent raw.
    for (const path of [`/${BUCKET}/%5Cback`, `/${BUCKET}/nul%00byte`, `/${BUCKET}/bad%ZZescape`]) {
      const res = await fetch(`${server.url}${path}`, { headers: signedHeaders({ method: 'GET', auth, bucket: BUCKET, key: 'unused' }) });
      assert.equal(res.status, 400, `${path} → ${res.status}`);
      assert.match(xmlTag(await res.text(), 'Code') ?? '', /InvalidObjectName|InvalidArgument/);
    }
  });

  test('unsupported sub-resources are refused by name', async () => {
    const r = await signed({ method: 'GET', bucket: BUCKET, query: { cors: '' } });
    assertOssError(r, 400, 'NotImplemented');
    assert.match(xmlTag(r.text, 'Message') ?? '', /cors/);
  });

  test('a method a resource does not support is MethodNotAllowed', async () => {
    assertOssError(await signed({ method: 'POST', bucket: BUCKET, key: 'keep.txt' }), 405, 'MethodNotAllowed');
    assertOssError(await signed({ method: 'PUT' }), 405, 'MethodNotAllowed');
  });

  test('the reserved /-/ prefix is not a bucket, and health answers', async () => {
    const h = await fetch(`${server.url}/-/health`);
    assert.equal(h.status, 200);
    assert.equal(((await h.json()) as { status: string }).status, 'ok');
    assert.equal((await fetch(`${server.url}/-/nothing`)).status, 404);
  });
});

describe('malformed bodies and parameters', () => {
  test('malformed XML is MalformedXML', async () => {
    for (const body of ['<Delete><Object><Key>a</Key>', 'not xml at all', '<Wrong/>', '<Delete></Delete>', '<Delete><Object></Object></Delete>']) {
      const r = await signed({ method: 'POST', bucket: BUCKET, query: { delete: '' }, body, headers: { 'Content-MD5': createHash('md5').update(body).digest('base64') } });
      assertOssError(r, 400, 'MalformedXML');
    }
  });

  test('an oversized XML body is refused without reading it all', async () => {
    const body = `<CompleteMultipartUpload>${'<Part><PartNumber>1</PartNumber><ETag>x</ETag></Part>'.repeat(40000)}</CompleteMultipartUpload>`;
    const r = await signed({ method: 'POST', bucket: BUCKET, key: 'big.xml', query: { uploadId: 'ABC' }, body });
    assert.equal(r.status, 400);
    assert.equal(xmlTag(r.text, 'Code'), 'EntityTooLarge');
  });

  test('a Content-MD5 that does not match is InvalidDigest, and the old object stays', async () => {
    const r = await signed({ method: 'PUT', bucket: BUCKET, key: 'keep.txt', body: 'new contents', headers: { 'Content-MD5': createHash('md5').update('other').digest('base64') } });
    assertOssError(r, 400, 'InvalidDigest');
    const g = await signed({ method: 'GET', bucket: BUCKET, key: 'keep.txt' });
    assert.equal(g.text, 'original contents');
    const bad = await signed({ method: 'PUT', bucket: BUCKET, key: 'keep.txt', body: 'x', headers: { 'Content-MD5': 'not-base64!' } });
    assertOssError(bad, 400, 'InvalidDigest');
  });

  test('bad list parameters are InvalidArgument', async () => {
    for (const query of <Array<Record<string, string>>>[{ 'max-keys': 'abc' }, { 'max-keys': '5000' }, { 'encoding-type': 'base64' }, { 'list-type': '2', 'continuation-token': '!!!' }]) {
      const r = await signed({ method: 'GET', bucket: BUCKET, query });
      assertOssError(r, 400, 'InvalidArgument');
    }
  });

  test('bad ranges: ignored by default, 416 InvalidRange in standard mode', async () => {
    const lax = await signed({ method: 'GET', bucket: BUCKET, key: 'keep.txt', headers: { Range: 'bytes=100-200' } });
    assert.equal(lax.status, 200);
    assert.equal(lax.text, 'original contents');
    const strict = await signed({ method: 'GET', bucket: BUCKET, key: 'keep.txt', headers: { Range: 'bytes=100-200', 'x-oss-range-behavior': 'standard' } });
    assertOssError(strict, 416, 'InvalidRange');
    const garbage = await signed({ method: 'GET', bucket: BUCKET, key: 'keep.txt', headers: { Range: 'pages=1-2' } });
    assert.equal(garbage.status, 200);
  });

  test('append without a valid position is MissingArgument', async () => {
    const r = await signed({ method: 'POST', bucket: BUCKET, key: 'ap.txt', query: { append: '', position: 'x' }, body: 'a' });
    assertOssError(r, 411, 'MissingArgument');
  });

  test('a malformed HTTP request line gets a 400 and does not take the server down', async () => {
    const reply = await rawSocket(server.url, 'GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.equal((await fetch(`${server.url}/-/health`)).status, 200);
  });
});

describe('interrupted writes', () => {
  // 4 MiB streams into a blob file; 32 KiB is collected in memory for an inline blob (storage/inline-blobs.ts).
  for (const [what, total] of [['a streamed', 4 * 1024 * 1024], ['a small (inline)', 32 * 1024]] as const) {
    test(`${what} PUT whose connection drops halfway leaves the old object intact and no partial blob`, async () => {
      const before = await blobFileCount();
      const rowsBefore = await blobRowCount();
      const headers = signedHeaders({ method: 'PUT', bucket: BUCKET, key: 'keep.txt', auth, headers: { 'Content-Type': 'application/octet-stream' } });
      const head = [`PUT /${BUCKET}/keep.txt HTTP/1.1`, `Host: 127.0.0.1:${server.port}`, `Content-Length: ${total}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
      await new Promise<void>((resolve, reject) => {
        const sock = connect(server.port, '127.0.0.1', () => {
          sock.write(head);
          sock.write(Buffer.alloc(total / 2, 0x61), () => setTimeout(() => (sock.destroy(), resolve()), 200));
        });
        sock.on('error', reject);
      });
      // Give the server a moment to notice the abort and discard the partial blob.
      let after = await blobFileCount();
      for (let i = 0; i < 20 && after !== before; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await blobFileCount();
      }
      const g = await signed({ method: 'GET', bucket: BUCKET, key: 'keep.txt' });
      assert.equal(g.status, 200);
      assert.equal(g.text, 'original contents');
      assert.equal(after, before, 'the partial upload left no blob file behind');
      assert.equal(await blobRowCount(), rowsBefore, 'and no blob row');
      const list = await signed({ method: 'GET', bucket: BUCKET, query: { prefix: 'keep' } });
      assert.equal(xmlTag(list.text, 'Size'), String('original contents'.length));
      assert.equal((await fetch(`${server.url}/-/health`)).status, 200);
      // The client's abort is not misread as a lost database connection (both surface as ECONNRESET).
      assert.doesNotMatch(server.output(), /database is unreachable/);
    });
  }

  test('a body shorter than its Content-Length (client half-closes) is not stored', async () => {
    const headers = signedHeaders({ method: 'PUT', bucket: BUCKET, key: 'short.txt', auth });
    const head = [`PUT /${BUCKET}/short.txt HTTP/1.1`, `Host: 127.0.0.1:${server.port}`, 'Content-Length: 100', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
    await new Promise<void>((resolve, reject) => {
      const sock = connect(server.port, '127.0.0.1', () => sock.end(`${head}only ten b`));
      sock.on('close', () => resolve());
      sock.on('error', reject);
      sock.resume();
    });
    const g = await signed({ method: 'HEAD', bucket: BUCKET, key: 'short.txt' });
    assert.equal(g.status, 404);
  });
});
