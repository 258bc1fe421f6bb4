/**
 * Buckets and objects driven by the official ali-oss client against the real server (dist/), over the
 * matrix {V1, V4} × {IP endpoint (bucket in a foreign aliyuncs Host), path style (sldEnable), virtual-hosted
 * (<bucket>.localhost, resolved by a custom agent lookup so the Host header really carries the bucket)}.
 * Spec: docs/spec/oss.md §1–4.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { aliOssHarness, type AliClient, type Seen, XML_DATE, crc, hdr, last, localhostAgent, lookedUp, md5Hex, recordResponses, rejectsWith, variants } from '../support/alioss.js';

// ---------------------------------------------------------------------------------------------------------
// Helpers

const md5B64 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const REQUEST_ID = /^[0-9A-F]{24}$/;

const VARIANTS = variants(['ip', 'path', 'vhost']);

/** Per-test bound, so a hang fails one test instead of the run. */
const T = { timeout: 20_000 };

const harness = aliOssHarness(localhostAgent(), 30_000);
const makeClient = harness.client;

// ---------------------------------------------------------------------------------------------------------

for (const v of VARIANTS) {
  describe(`ali-oss ${v.name}`, () => {
    const B = `ao-${v.tag}`;
    const B2 = `ao-${v.tag}-x`;
    let c: AliClient; // bound to B
    let c2: AliClient; // bound to B2
    let seen: Seen[];
    let seen2: Seen[];

    before(async () => {
      c = makeClient(v, B);
      c2 = makeClient(v, B2);
      seen = recordResponses(c);
      seen2 = recordResponses(c2);
      const r = await c.putBucket(B);
      assert.equal(r.res.status, 200);
      assert.equal(r.bucket, B, 'PutBucket answers Location: /<bucket>');
      const r2 = await c2.putBucket(B2, { storageClass: 'IA', acl: 'public-read' });
      assert.equal(r2.res.status, 200);
    });

    if (v.style === 'vhost') {
      test('requests really go to <bucket>.localhost (virtual-hosted Host header)', T, () => {
        assert.ok(lookedUp.includes(`${B}.localhost`), `expected a lookup of ${B}.localhost, saw ${lookedUp.join(', ')}`);
        const s = seen.find((x) => x.method === 'PUT');
        assert.ok(s);
        assert.equal(new URL(s.url).host, `${B}.localhost:${harness.server().port}`);
        assert.equal(new URL(s.url).pathname, '/');
      });
    }

    test('getBucketInfo, getBucketLocation, listBuckets (with paging)', T, async () => {
      const info = await c.getBucketInfo(B);
      assert.equal(info.res.status, 200);
      const b = info.bucket;
      assert.equal(b.Name, B);
      assert.equal(b.Location, 'oss-cn-hangzhou');
      assert.equal(b.StorageClass, 'Standard');
      assert.equal(b.ExtranetEndpoint, 'oss-cn-hangzhou.aliyuncs.com');
      assert.equal(b.IntranetEndpoint, 'oss-cn-hangzhou-internal.aliyuncs.com');
      assert.match(String(b.CreationDate), XML_DATE);
      assert.deepEqual(b.AccessControlList, { Grant: 'private' });
      assert.equal(typeof (b.Owner as Record<string, unknown>).ID, 'string');
      const raw = last(seen).body.toString();
      assert.match(raw, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
      assert.doesNotMatch(raw, /xmlns/);
      assert.match(hdr(last(seen).headers, 'content-type') ?? '', /application\/xml/);

      const info2 = await c2.getBucketInfo(B2);
      assert.equal(info2.bucket.StorageClass, 'IA', 'the CreateBucketConfiguration body sets the storage class');
      assert.deepEqual(info2.bucket.AccessControlList, { Grant: 'public-read' }, 'x-oss-acl on PutBucket');

      const loc = await c.getBucketLocation(B);
      assert.equal(loc.location, 'oss-cn-hangzhou');

      const all = await c.listBuckets({ prefix: `ao-${v.tag}` });
      assert.equal(all.res.status, 200);
      assert.deepEqual(
        (all.buckets ?? []).map((x) => x.name),
        [B, B2],
      );
      for (const x of all.buckets ?? []) {
        assert.equal(x.region, 'oss-cn-hangzhou');
        assert.match(x.creationDate, XML_DATE);
      }
      assert.equal(all.buckets?.[1]?.storageClass, 'IA');
      assert.equal(all.isTruncated, false);

      const p1 = await c.listBuckets({ prefix: `ao-${v.tag}`, 'max-keys': 1 });
      assert.deepEqual((p1.buckets ?? []).map((x) => x.name), [B]);
      assert.equal(p1.isTruncated, true);
      assert.equal(p1.nextMarker, B);
      const p2 = await c.listBuckets({ prefix: `ao-${v.tag}`, 'max-keys': 1, marker: p1.nextMarker ?? '' });
      assert.deepEqual((p2.buckets ?? []).map((x) => x.name), [B2]);
      assert.equal(p2.isTruncated, false);
    });

    test('putBucketACL / getBucketACL', T, async () => {
      const a0 = await c.getBucketACL(B);
      assert.equal(a0.acl, 'private');
      assert.equal(typeof a0.owner.id, 'string');
      for (const acl of ['public-read', 'public-read-write', 'private']) {
        const put = await c.putBucketACL(B, acl);
        assert.equal(put.res.status, 200);
        assert.equal((await c.getBucketACL(B)).acl, acl);
        assert.deepEqual((await c.getBucketInfo(B)).bucket.AccessControlList, { Grant: acl });
      }
      await rejectsWith(c.putBucketACL(B, 'world-writable'), 400, 'InvalidArgument');
    });

    const body = randomBytes(64 * 1024 + 7);
    const key = 'dir/objet à tester 文件.bin';

    test('put with x-oss-meta-*, Content-Type and Content-MD5', T, async () => {
      const r = await c.put(key, body, {
        meta: { author: 'alice', magic: 'abracadabra' },
        headers: { 'Content-Type': 'application/x-medley-test', 'Cache-Control': 'no-cache', 'Content-Disposition': 'inline; filename="t.bin"' },
      });
      assert.equal(r.res.status, 200);
      const s = last(seen);
      assert.equal(s.reqHeaders['Content-MD5'], md5B64(body), 'ali-oss sends Content-MD5 for a Buffer');
      assert.equal(r.res.headers.etag, `"${md5Hex(body)}"`);
      assert.equal(r.res.headers['x-oss-hash-crc64ecma'], crc(body));
      assert.equal(r.res.headers['content-md5'], md5B64(body));
      assert.match(r.res.headers['x-oss-request-id'] ?? '', REQUEST_ID);

      // A Content-MD5 that does not match the body is refused and nothing is stored.
      await rejectsWith(c.put('dir/bad-md5.bin', body, { headers: { 'Content-MD5': md5B64(Buffer.from('other')) } }), 400, 'InvalidDigest');
      await rejectsWith(c.head('dir/bad-md5.bin'), 404, 'NoSuchKey');
    });

    test('x-oss-forbid-overwrite: true → 409 FileAlreadyExists, object unchanged', T, async () => {
      const err = await rejectsWith(c.put(key, Buffer.from('replacement'), { headers: { 'x-oss-forbid-overwrite': 'true' } }), 409, 'FileAlreadyExists');
      assert.match(err.requestId ?? '', REQUEST_ID);
      const g = await c.get(key);
      assert.ok(g.content.equals(body));
      // On a new key the header is harmless; "false" never blocks.
      const fresh = await c.put('dir/forbid-new.txt', Buffer.from('new'), { headers: { 'x-oss-forbid-overwrite': 'true' } });
      assert.equal(fresh.res.status, 200);
      const again = await c.put('dir/forbid-new.txt', Buffer.from('newer'), { headers: { 'x-oss-forbid-overwrite': 'false' } });
      assert.equal(again.res.status, 200);
      assert.equal((await c.get('dir/forbid-new.txt')).content.toString(), 'newer');
    });

    test('get: bytes, ETag (uppercase MD5), CRC-64, content and user headers', T, async () => {
      const g = await c.get(key);
      assert.equal(g.res.status, 200);
      assert.ok(g.content.equals(body), 'same bytes back');
      const h = g.res.headers;
      assert.equal(h.etag, `"${md5Hex(body)}"`);
      assert.equal(h['x-oss-hash-crc64ecma'], crc(body));
      assert.equal(h['content-length'], String(body.length));
      assert.equal(h['content-type'], 'application/x-medley-test');
      assert.equal(h['cache-control'], 'no-cache');
      assert.equal(h['content-disposition'], 'inline; filename="t.bin"');
      assert.equal(h['x-oss-meta-author'], 'alice');
      assert.equal(h['x-oss-meta-magic'], 'abracadabra');
      assert.equal(h['x-oss-object-type'], 'Normal');
      assert.equal(h['x-oss-storage-class'], 'Standard');
      assert.equal(h['accept-ranges'], 'bytes');
      assert.match(h['last-modified'] ?? '', HTTP_DATE);
      assert.ok(Math.abs(Date.parse(h['last-modified'] ?? '') - Date.now()) < 120_000);
      assert.equal(h.server, 'AliyunOSS');
      assert.match(h['x-oss-request-id'] ?? '', REQUEST_ID);

      // Content-Type defaults from the key's extension when the client sends none.
      await c.put('dir/page.html', Buffer.from('<p>hi</p>'));
      assert.match((await c.get('dir/page.html')).res.headers['content-type'] ?? '', /^text\/html/);
    });

    test('range get → 206 with Content-Range', T, async () => {
      const size = body.length;
      const r = await c.get(key, { headers: { Range: 'bytes=10-19' } });
      assert.equal(r.res.status, 206);
      assert.equal(r.res.headers['content-range'], `bytes 10-19/${size}`);
      assert.equal(r.res.headers['content-length'], '10');
      assert.ok(r.content.equals(body.subarray(10, 20)));

      const open = await c.get(key, { headers: { Range: `bytes=${size - 100}-` } });
      assert.equal(open.res.status, 206);
      assert.equal(open.res.headers['content-range'], `bytes ${size - 100}-${size - 1}/${size}`);
      assert.ok(open.content.equals(body.subarray(size - 100)));

      const suffix = await c.get(key, { headers: { Range: 'bytes=-5' } });
      assert.equal(suffix.res.status, 206);
      assert.equal(suffix.res.headers['content-range'], `bytes ${size - 5}-${size - 1}/${size}`);
      assert.ok(suffix.content.equals(body.subarray(size - 5)));
    });

    test('range beyond the size: 200 full body by default, 416/clamped with x-oss-range-behavior: standard', T, async () => {
      const size = body.length;
      for (const range of [`bytes=${size}-${size + 10}`, `bytes=10-${size + 100}`, `bytes=${size + 5}-`]) {
        const r = await c.get(key, { headers: { Range: range } });
        assert.equal(r.res.status, 200, `${range} is ignored by default`);
        assert.equal(r.res.headers['content-range'], undefined);
        assert.ok(r.content.equals(body), `${range}: full body`);
      }
      await rejectsWith(c.get(key, { headers: { Range: `bytes=${size}-${size + 10}`, 'x-oss-range-behavior': 'standard' } }), 416, 'InvalidRange');
      const clamped = await c.get(key, { headers: { Range: `bytes=10-${size + 100}`, 'x-oss-range-behavior': 'standard' } });
      assert.equal(clamped.res.status, 206);
      assert.equal(clamped.res.headers['content-range'], `bytes 10-${size - 1}/${size}`);
      assert.ok(clamped.content.equals(body.subarray(10)));
    });

    test('conditional get: 304 / 412', T, async () => {
      const etag = `"${md5Hex(body)}"`;
      const future = new Date(Date.now() + 3600_000).toUTCString();
      const past = new Date(Date.now() - 3600_000).toUTCString();

      const inm = await c.get(key, { headers: { 'If-None-Match': etag } });
      assert.equal(inm.res.status, 304);
      assert.equal(inm.content?.length ?? 0, 0);
      const inmOther = await c.get(key, { headers: { 'If-None-Match': '"0123456789ABCDEF0123456789ABCDEF"' } });
      assert.equal(inmOther.res.status, 200);
      assert.ok(inmOther.content.equals(body));

      const e412 = await rejectsWith(c.get(key, { headers: { 'If-Match': '"0123456789ABCDEF0123456789ABCDEF"' } }), 412, 'PreconditionFailed');
      assert.match(e412.message, /If-Match/i, 'the Condition element names the header');
      const im = await c.get(key, { headers: { 'If-Match': etag } });
      assert.equal(im.res.status, 200);
      assert.ok(im.content.equals(body));

      const ims = await c.get(key, { headers: { 'If-Modified-Since': future } });
      assert.equal(ims.res.status, 304);
      const imsPast = await c.get(key, { headers: { 'If-Modified-Since': past } });
      assert.equal(imsPast.res.status, 200);

      await rejectsWith(c.get(key, { headers: { 'If-Unmodified-Since': past } }), 412, 'PreconditionFailed');
      const iusFuture = await c.get(key, { headers: { 'If-Unmodified-Since': future } });
      assert.equal(iusFuture.res.status, 200);

      const head304 = await c.head(key, { headers: { 'If-None-Match': etag } });
      assert.equal(head304.status, 304);
    });

    test('response-content-type / response-content-disposition overrides', T, async () => {
      const r = await c.get(key, {
        subres: { 'response-content-type': 'text/x-override', 'response-content-disposition': 'attachment; filename="dl.bin"', 'response-cache-control': 'max-age=60' },
      });
      assert.equal(r.res.status, 200);
      assert.equal(r.res.headers['content-type'], 'text/x-override');
      assert.equal(r.res.headers['content-disposition'], 'attachment; filename="dl.bin"');
      assert.equal(r.res.headers['cache-control'], 'max-age=60');
      assert.ok(r.content.equals(body));
      // Overrides are per request: the stored headers are unchanged.
      assert.equal((await c.head(key)).res.headers['content-type'], 'application/x-medley-test');
    });

    test('head: headers and meta (Content-Length is the object size)', T, async () => {
      const h = await c.head(key);
      assert.equal(h.status, 200);
      assert.deepEqual(h.meta, { author: 'alice', magic: 'abracadabra' });
      const rh = h.res.headers;
      assert.equal(rh.etag, `"${md5Hex(body)}"`);
      assert.equal(rh['x-oss-hash-crc64ecma'], crc(body));
      assert.equal(rh['content-type'], 'application/x-medley-test');
      assert.equal(rh['x-oss-object-type'], 'Normal');
      assert.equal(rh['x-oss-storage-class'], 'Standard');
      assert.match(rh['last-modified'] ?? '', HTTP_DATE);
      assert.equal(last(seen).body.length, 0, 'HEAD has no body');
      assert.equal(rh['content-length'], String(body.length), 'HEAD reports the object size as Content-Length');
    });

    test('head of a missing key → 404 NoSuchKey, error XML in x-oss-err', T, async () => {
      const err = await rejectsWith(c.head('dir/missing.bin'), 404, 'NoSuchKey');
      assert.match(err.requestId ?? '', REQUEST_ID);
      const s = last(seen);
      assert.equal(s.method, 'HEAD');
      assert.equal(s.body.length, 0);
      assert.equal(hdr(s.headers, 'x-oss-ec'), '0026-00000001');
      const xml = Buffer.from(hdr(s.headers, 'x-oss-err') ?? '', 'base64').toString('utf8');
      assert.match(xml, /<Code>NoSuchKey<\/Code>/);
      assert.match(xml, /<Key>dir\/missing\.bin<\/Key>/);
      assert.match(xml, new RegExp(`<RequestId>${hdr(s.headers, 'x-oss-request-id')}</RequestId>`));
      assert.doesNotMatch(xml, /xmlns/);

      // A missing key on GET carries the XML body.
      const gerr = await rejectsWith(c.get('dir/missing.bin'), 404, 'NoSuchKey');
      assert.equal(gerr.ecCode, '0026-00000001');
      assert.match(last(seen).body.toString(), /<Key>dir\/missing\.bin<\/Key>/);
    });

    test('getObjectMeta (Content-Length is the object size)', T, async () => {
      await rejectsWith(c.getObjectMeta('dir/missing.bin'), 404, 'NoSuchKey');
      const m = await c.getObjectMeta(key);
      assert.equal(m.status, 200);
      const h = m.res.headers;
      assert.equal(h.etag, `"${md5Hex(body)}"`);
      assert.equal(h['x-oss-hash-crc64ecma'], crc(body));
      assert.match(h['last-modified'] ?? '', HTTP_DATE);
      assert.equal(last(seen).body.length, 0);
      assert.equal(h['content-length'], String(body.length), 'GetObjectMeta reports the object size as Content-Length');
    });

    test('delete → 204, also for a missing key', T, async () => {
      await c.put('del/one.txt', Buffer.from('one'));
      const d = await c.delete('del/one.txt');
      assert.equal(d.res.status, 204);
      await rejectsWith(c.get('del/one.txt'), 404, 'NoSuchKey');
      const again = await c.delete('del/one.txt');
      assert.equal(again.res.status, 204);
      const never = await c.delete('del/never-existed.txt');
      assert.equal(never.res.status, 204);
    });

    test('deleteMulti verbose and quiet', T, async () => {
      const keys = ['dm/a.txt', 'dm/b & <c>.txt', 'dm/中文.txt', 'dm/sp ace.txt'];
      for (const k of keys) await c.put(k, Buffer.from(k));
      const verbose = await c.deleteMulti([...keys.slice(0, 2), 'dm/missing.txt']);
      assert.equal(verbose.res.status, 200);
      assert.deepEqual(
        verbose.deleted.map((d) => d.Key).sort(),
        ['dm/a.txt', 'dm/b & <c>.txt', 'dm/missing.txt'].sort(),
        'verbose mode lists every requested key, missing ones included',
      );
      assert.doesNotMatch(last(seen).body.toString(), /xmlns/);
      let left = await c.list({ prefix: 'dm/' });
      assert.deepEqual(left.objects.map((o) => o.name).sort(), ['dm/sp ace.txt', 'dm/中文.txt'].sort());

      const quiet = await c.deleteMulti(keys.slice(2), { quiet: true });
      assert.equal(quiet.res.status, 200);
      assert.deepEqual(quiet.deleted, []);
      assert.doesNotMatch(last(seen).body.toString(), /<Deleted>/);
      left = await c.list({ prefix: 'dm/' });
      assert.deepEqual(left.objects, []);
    });

    test("deleteMulti of keys ali-oss escapes as character references (' → &#39;)", T, async () => {
      const keys = ["dmq/it's.txt", 'dmq/say "hi".txt'];
      for (const k of keys) await c.put(k, Buffer.from(k));
      const r = await c.deleteMulti(keys);
      assert.match(last(seen).reqHeaders['Content-MD5'] ?? '', /^[A-Za-z0-9+/]{22}==$/);
      const left = await c.list({ prefix: 'dmq/' });
      for (const k of keys) await c.delete(k); // clean up whatever the server left behind
      assert.deepEqual(left.objects.map((o) => o.name), [], 'both objects are deleted');
      assert.deepEqual(r.deleted.map((d) => d.Key).sort(), [...keys].sort(), 'Deleted lists the real keys');
    });

    test('copy: same bucket, cross-bucket, COPY keeps meta, REPLACE replaces it, source conditions', T, async () => {
      const etag = `"${md5Hex(body)}"`;
      const same = await c.copy('copy/same.bin', key);
      assert.equal(same.res.status, 200);
      assert.equal(same.data?.etag, etag);
      assert.match(same.data?.lastModified ?? '', XML_DATE);
      const g = await c.get('copy/same.bin');
      assert.ok(g.content.equals(body));
      assert.equal(g.res.headers.etag, etag);
      assert.equal(g.res.headers['x-oss-hash-crc64ecma'], crc(body));
      assert.equal(g.res.headers['x-oss-meta-author'], 'alice', 'default directive COPY keeps user metadata');
      assert.equal(g.res.headers['content-type'], 'application/x-medley-test');

      // Cross-bucket: destination B2, source in B (ali-oss passes the source bucket as 3rd argument).
      const cross = await c2.copy('from-b.bin', key, B);
      assert.equal(cross.res.status, 200);
      assert.equal(hdr(last(seen2).reqHeaders, 'x-oss-copy-source'), `/${B}/${encodeURIComponent(key)}`);
      const g2 = await c2.get('from-b.bin');
      assert.ok(g2.content.equals(body));
      assert.equal(g2.res.headers['x-oss-meta-magic'], 'abracadabra');
      // ... and back, with the "/bucket/key" source form.
      const back = await c.copy('copy/back.bin', `/${B2}/from-b.bin`);
      assert.equal(back.res.status, 200);
      assert.ok((await c.get('copy/back.bin')).content.equals(body));

      const replaced = await c.copy('copy/replaced.bin', key, { meta: { color: 'blue' }, headers: { 'Content-Type': 'text/x-replaced' } });
      assert.equal(replaced.res.status, 200);
      assert.equal(hdr(last(seen).reqHeaders, 'x-oss-metadata-directive'), 'REPLACE');
      const h = await c.head('copy/replaced.bin');
      assert.deepEqual(h.meta, { color: 'blue' }, 'REPLACE drops the source metadata');
      assert.equal(h.res.headers['content-type'], 'text/x-replaced');
      assert.equal(h.res.headers.etag, etag, 'same bytes, same ETag');
      assert.ok((await c.get('copy/replaced.bin')).content.equals(body));

      await rejectsWith(c.copy('copy/cond.bin', key, { headers: { 'If-Match': '"0123456789ABCDEF0123456789ABCDEF"' } }), 412, 'PreconditionFailed');
      assert.equal(hdr(last(seen).reqHeaders, 'x-oss-copy-source-If-Match') ?? hdr(last(seen).reqHeaders, 'x-oss-copy-source-if-match'), '"0123456789ABCDEF0123456789ABCDEF"');
      await rejectsWith(c.head('copy/cond.bin'), 404, 'NoSuchKey');
      const condOk = await c.copy('copy/cond.bin', key, { headers: { 'If-Match': etag } });
      assert.equal(condOk.res.status, 200);

      await rejectsWith(c.copy('copy/nothing.bin', 'dir/missing.bin'), 404, 'NoSuchKey');
    });

    test('copy onto itself with REPLACE (putMeta) and x-oss-forbid-overwrite on copy', T, async () => {
      const k = 'copy/self.txt';
      const data = Buffer.from('self copy bytes');
      await c.put(k, data, { meta: { v: '1' } });
      const before = await c.head(k);
      const r = await c.putMeta(k, { v: '2', extra: 'yes' }, {});
      assert.equal(r.res.status, 200);
      const h = await c.head(k);
      assert.deepEqual(h.meta, { v: '2', extra: 'yes' });
      assert.equal(h.res.headers.etag, before.res.headers.etag);
      assert.ok((await c.get(k)).content.equals(data), 'bytes survive a copy onto itself');

      await rejectsWith(c.copy(k, key, { headers: { 'x-oss-forbid-overwrite': 'true' } }), 409, 'FileAlreadyExists');
      assert.ok((await c.get(k)).content.equals(data));
    });

    test('append: position 0 then next, wrong position, Normal object, final bytes and CRC', T, async () => {
      const a = randomBytes(1000);
      const b = randomBytes(2345);
      const k = 'app/log.bin';
      const r1 = await c.append(k, a, { position: 0 });
      assert.equal(r1.res.status, 200);
      assert.equal(r1.nextAppendPosition, String(a.length));
      assert.equal(r1.res.headers['x-oss-hash-crc64ecma'], crc(a));
      const r2 = await c.append(k, b, { position: a.length });
      assert.equal(r2.nextAppendPosition, String(a.length + b.length));
      const whole = Buffer.concat([a, b]);
      assert.equal(r2.res.headers['x-oss-hash-crc64ecma'], crc(whole), 'CRC of the whole object after append');

      await rejectsWith(c.append(k, Buffer.from('x'), { position: 5 }), 409, 'PositionNotEqualToLength');
      assert.equal(hdr(last(seen).headers, 'x-oss-next-append-position'), String(whole.length));
      assert.match(last(seen).body.toString(), /<Code>PositionNotEqualToLength<\/Code>/);
      await rejectsWith(c.append(k, Buffer.from('x'), { position: 0 }), 409, 'PositionNotEqualToLength');
      assert.equal(hdr(last(seen).headers, 'x-oss-next-append-position'), String(whole.length));

      const g = await c.get(k);
      assert.ok(g.content.equals(whole));
      assert.equal(g.res.headers['x-oss-object-type'], 'Appendable');
      assert.equal(g.res.headers['x-oss-hash-crc64ecma'], crc(whole));
      assert.equal(g.res.headers['x-oss-next-append-position'], String(whole.length));
      assert.equal((await c.head(k)).res.headers['x-oss-next-append-position'], String(whole.length));

      await rejectsWith(c.append(key, Buffer.from('x'), { position: body.length }), 409, 'ObjectNotAppendable');
      assert.ok((await c.get(key)).content.equals(body), 'the Normal object is untouched');
    });

    test('object ACL: put/get private, public-read, default', T, async () => {
      const k = 'acl/o.txt';
      await c.put(k, Buffer.from('acl'));
      assert.equal((await c.getACL(k)).acl, 'default', 'a new object inherits the bucket ACL');
      for (const acl of ['private', 'public-read', 'public-read-write', 'default']) {
        const p = await c.putACL(k, acl);
        assert.equal(p.res.status, 200);
        const g = await c.getACL(k);
        assert.equal(g.acl, acl);
        assert.equal(typeof g.owner.id, 'string');
      }
      await c.put('acl/born-public.txt', Buffer.from('p'), { headers: { 'x-oss-object-acl': 'public-read' } });
      assert.equal((await c.getACL('acl/born-public.txt')).acl, 'public-read');
      await rejectsWith(c.getACL('acl/missing.txt'), 404, 'NoSuchKey');
      await rejectsWith(c.putACL(k, 'nonsense'), 400, 'InvalidArgument');
    });

    test('list v1 and v2: prefix, delimiter, CommonPrefixes', T, async () => {
      const keys = ['ls/dir/a.txt', 'ls/dir/b.txt', 'ls/dir/sub/c.txt', 'ls/dir/sub/d.txt', 'ls/dir2/e.txt', 'ls/top.txt'];
      for (const k of keys) await c.put(k, Buffer.from(`content of ${k}`));

      const flat = await c.list({ prefix: 'ls/', 'max-keys': 100 });
      assert.deepEqual(flat.objects.map((o) => o.name), keys);
      assert.equal(flat.prefixes, null);
      assert.equal(flat.isTruncated, false);
      const o0 = flat.objects[0]!;
      assert.equal(o0.etag, `"${md5Hex(Buffer.from('content of ls/dir/a.txt'))}"`);
      assert.equal(o0.size, Buffer.byteLength('content of ls/dir/a.txt'));
      assert.equal(o0.type, 'Normal');
      assert.equal(o0.storageClass, 'Standard');
      assert.match(o0.lastModified, XML_DATE);
      assert.equal(typeof o0.owner?.id, 'string', 'ListObjects v1 always has Owner');

      const top = await c.list({ prefix: 'ls/', delimiter: '/' });
      assert.deepEqual(top.objects.map((o) => o.name), ['ls/top.txt']);
      assert.deepEqual(top.prefixes, ['ls/dir/', 'ls/dir2/']);
      const dir = await c.list({ prefix: 'ls/dir/', delimiter: '/' });
      assert.deepEqual(dir.objects.map((o) => o.name), ['ls/dir/a.txt', 'ls/dir/b.txt']);
      assert.deepEqual(dir.prefixes, ['ls/dir/sub/']);
      const raw = last(seen).body.toString();
      assert.match(raw, /<Prefix>ls\/dir\/<\/Prefix>/);
      assert.match(raw, /<Delimiter>\/<\/Delimiter>/);
      assert.doesNotMatch(raw, /xmlns/);

      const v2 = await c.listV2({ prefix: 'ls/', delimiter: '/' });
      assert.deepEqual(v2.objects.map((o) => o.name), ['ls/top.txt']);
      assert.deepEqual(v2.prefixes, ['ls/dir/', 'ls/dir2/']);
      assert.equal(v2.keyCount, 3, 'KeyCount = Contents + CommonPrefixes');
      assert.equal(v2.objects[0]?.owner, null, 'no Owner without fetch-owner');
      const v2o = await c.listV2({ prefix: 'ls/dir/sub/', 'fetch-owner': 'true' });
      assert.deepEqual(v2o.objects.map((o) => o.name), ['ls/dir/sub/c.txt', 'ls/dir/sub/d.txt']);
      assert.equal(typeof v2o.objects[0]?.owner?.id, 'string');
      const none = await c.listV2({ prefix: 'ls/nothing-here/' });
      assert.deepEqual(none.objects, []);
      assert.equal(none.keyCount, 0);
    });

    test('paging 25 keys by 7: v1 marker and v2 continuation-token, start-after', T, async () => {
      const keys = Array.from({ length: 25 }, (_, i) => `page/k${String(i).padStart(2, '0')}`);
      // Upload in a scrambled order: the listing order must be lexicographic, not insertion order.
      for (const k of [...keys].sort((x, y) => (x.split('').reverse().join('') < y.split('').reverse().join('') ? -1 : 1))) await c.put(k, Buffer.from(k));

      const v1: string[] = [];
      const v1Pages: number[] = [];
      let marker = '';
      for (let i = 0; ; i++) {
        assert.ok(i < 10, 'v1 paging does not end');
        const p = await c.list({ prefix: 'page/', 'max-keys': 7, marker });
        v1.push(...p.objects.map((o) => o.name));
        v1Pages.push(p.objects.length);
        if (!p.isTruncated) {
          assert.equal(p.nextMarker, null);
          break;
        }
        assert.equal(p.nextMarker, p.objects[p.objects.length - 1]?.name, 'NextMarker is the last key of the page');
        marker = p.nextMarker ?? '';
      }
      assert.deepEqual(v1, keys, 'every key exactly once, in order (v1)');
      assert.deepEqual(v1Pages, [7, 7, 7, 4]);

      const v2: string[] = [];
      const v2Pages: number[] = [];
      let token: string | undefined;
      for (let i = 0; ; i++) {
        assert.ok(i < 10, 'v2 paging does not end');
        const q: Record<string, string | number> = { prefix: 'page/', 'max-keys': 7 };
        if (token) q['continuation-token'] = token;
        const p = await c.listV2(q);
        v2.push(...p.objects.map((o) => o.name));
        v2Pages.push(p.objects.length);
        assert.equal(p.keyCount, p.objects.length);
        if (token) assert.equal(p.continuationToken, token, 'ContinuationToken is echoed');
        if (!p.isTruncated) {
          assert.equal(p.nextContinuationToken, null);
          break;
        }
        assert.ok(p.nextContinuationToken, 'NextContinuationToken when truncated');
        token = p.nextContinuationToken ?? undefined;
      }
      assert.deepEqual(v2, keys, 'every key exactly once, in order (v2)');
      assert.deepEqual(v2Pages, [7, 7, 7, 4]);

      const sa = await c.listV2({ prefix: 'page/', 'start-after': 'page/k19' });
      assert.deepEqual(sa.objects.map((o) => o.name), keys.slice(20));
      assert.match(last(seen).body.toString(), /<StartAfter>page\/k19<\/StartAfter>/);
      const saPaged = await c.listV2({ prefix: 'page/', 'start-after': 'page/k05', 'max-keys': 3 });
      assert.deepEqual(saPaged.objects.map((o) => o.name), ['page/k06', 'page/k07', 'page/k08']);
      assert.equal(saPaged.isTruncated, true);
      const mk = await c.list({ prefix: 'page/', marker: 'page/k22' });
      assert.deepEqual(mk.objects.map((o) => o.name), ['page/k23', 'page/k24']);
    });

    test('special keys round-trip; encoding-type=url in listings', T, async () => {
      const keys = ['enc/a b.txt', 'enc/a+b.txt', 'enc/100%.txt', 'enc/中文/🎵.mp3', 'enc/what?.txt', 'enc/hash#1.txt', 'enc/amp&eq=.txt', 'enc/tilde~quote\'.txt'];
      for (const k of keys) {
        const p = await c.put(k, Buffer.from(`body:${k}`));
        assert.equal(p.res.status, 200, k);
      }
      for (const k of keys) {
        const g = await c.get(k);
        assert.equal(g.content.toString(), `body:${k}`, `GET ${k}`);
      }
      const sorted = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));

      const plain = await c.list({ prefix: 'enc/' });
      assert.deepEqual(plain.objects.map((o) => o.name), sorted, 'listing is ordered by UTF-8 bytes');

      const enc = await c.list({ prefix: 'enc/', 'encoding-type': 'url' });
      const raw = last(seen).body.toString();
      assert.match(raw, /<EncodingType>url<\/EncodingType>/);
      assert.match(raw, /<Prefix>enc%2F<\/Prefix>/, 'Prefix is url-encoded too');
      const names = enc.objects.map((o) => o.name);
      assert.deepEqual(names.map((n) => decodeURIComponent(n)), sorted);
      assert.ok(names.includes('enc%2Fa%20b.txt'), `space → %20, '/' → %2F: ${names.join(' ')}`);
      assert.ok(names.includes('enc%2Fa%2Bb.txt'), "'+' → %2B");
      assert.ok(names.includes('enc%2F100%25.txt'), "'%' → %25");
      assert.ok(names.includes('enc%2Fwhat%3F.txt'));
      assert.ok(names.includes('enc%2Fhash%231.txt'));
      assert.ok(names.includes('enc%2F%E4%B8%AD%E6%96%87%2F%F0%9F%8E%B5.mp3'));
      for (const n of names) assert.doesNotMatch(n, /[ +?#]/, `no raw special characters in ${n}`);

      const encV2 = await c.listV2({ prefix: 'enc/', delimiter: '/', 'encoding-type': 'url' });
      assert.deepEqual(encV2.prefixes, ['enc%2F%E4%B8%AD%E6%96%87%2F']);
      assert.deepEqual(encV2.objects.map((o) => decodeURIComponent(o.name)), sorted.filter((k) => !k.startsWith('enc/中文/')));
      assert.match(last(seen).body.toString(), /<Delimiter>%2F<\/Delimiter>/);

      // Prefixes with special characters in the (signed in V4) query.
      const sp = await c.list({ prefix: 'enc/a ' });
      assert.deepEqual(sp.objects.map((o) => o.name), ['enc/a b.txt']);
      const plus = await c.listV2({ prefix: 'enc/a+' });
      assert.deepEqual(plus.objects.map((o) => o.name), ['enc/a+b.txt']);
      const uni = await c.listV2({ prefix: 'enc/中文/' });
      assert.deepEqual(uni.objects.map((o) => o.name), ['enc/中文/🎵.mp3']);

      for (const k of keys) assert.equal((await c.delete(k)).res.status, 204, `DELETE ${k}`);
      assert.deepEqual((await c.list({ prefix: 'enc/' })).objects, []);
    });

    test('deleteBucket: BucketNotEmpty while objects exist, then 204, then NoSuchBucket', T, async () => {
      for (const [client, name, rec] of [
        [c, B, seen],
        [c2, B2, seen2],
      ] as const) {
        await client.put('keep.txt', Buffer.from('x'));
        const e = await rejectsWith(client.deleteBucket(name), 409, 'BucketNotEmpty');
        assert.equal(e.ecCode, '0015-00000301');
        assert.ok((await client.getBucketInfo(name)).res.status === 200, 'still there');
        // Empty it page by page.
        for (let round = 0; ; round++) {
          const page = await client.list({ 'max-keys': 1000 });
          if (page.objects.length === 0) break;
          assert.ok(round < 3, `could not empty the bucket; still listed: ${page.objects.map((o) => o.name).join(', ')}`);
          await client.deleteMulti(page.objects.map((o) => o.name), { quiet: true });
          if (round > 0) for (const o of page.objects) await client.delete(o.name);
        }
        const d = await client.deleteBucket(name);
        assert.ok(d.res.status === 204 || d.res.status === 200, `DeleteBucket status ${d.res.status}`);
        const nb = await rejectsWith(client.getBucketInfo(name), 404, 'NoSuchBucket');
        assert.equal(nb.ecCode, '0015-00000101');
        assert.match(last(rec).body.toString(), new RegExp(`<BucketName>${name}</BucketName>`));
        await rejectsWith(client.put('after.txt', Buffer.from('x')), 404, 'NoSuchBucket');
        await rejectsWith(client.deleteBucket(name), 404, 'NoSuchBucket');
      }
      const remaining = await c.listBuckets({ prefix: `ao-${v.tag}` });
      assert.deepEqual(remaining.buckets ?? [], []);
    });
  });
}
