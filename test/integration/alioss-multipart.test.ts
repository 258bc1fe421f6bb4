/**
 * Multipart uploads driven by the official ali-oss client against the real server (dist/), with V1 and V4
 * signatures on the IP-endpoint and path-style (sldEnable) addressing forms. Spec: oss.md §3.1, §3.4, §4.9.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { aliOssHarness, type AliClient, type OssError, type RawPart, type Seen, XML_DATE, crc, hdr, last, md5Hex, recordResponses, rejectsWith, variants } from '../support/alioss.js';

// ---------------------------------------------------------------------------------------------------------

const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const KB = 1024;
const T = { timeout: 30_000 };

const toArray = <X>(x: X | X[] | undefined | null): X[] => (x === undefined || x === null ? [] : Array.isArray(x) ? x : [x]);

/** S3-style multipart ETag (spec §3.1): MD5 of the concatenated binary part MD5s, uppercase, "-<count>". */
function multipartEtag(parts: Buffer[]): string {
  return `"${md5Hex(Buffer.concat(parts.map(md5)))}-${parts.length}"`;
}

function completeXml(parts: Array<{ number: number; etag: string }>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload>\n${parts.map((p) => `<Part><PartNumber>${p.number}</PartNumber><ETag>${p.etag}</ETag></Part>`).join('\n')}\n</CompleteMultipartUpload>`;
}

const VARIANTS = variants(['ip', 'path']);

const harness = aliOssHarness(new http.Agent({ keepAlive: true }), 30_000);
const makeClient = harness.client;

for (const v of VARIANTS) {
  describe(`ali-oss multipart ${v.name}`, () => {
    const B = `mp-${v.tag}`;
    let c: AliClient;
    let seen: Seen[];

    before(async () => {
      c = makeClient(v, B);
      seen = recordResponses(c);
      assert.equal((await c.putBucket(B)).res.status, 200);
    });

    test('multipartUpload of 1 MiB in 200 KiB parts: bytes, -N ETag, CRC of the whole', T, async () => {
      const data = randomBytes(1024 * KB);
      const partSize = 200 * KB;
      const r = await c.multipartUpload('mp/big.bin', data, { partSize, meta: { origin: 'multipart' }, mime: 'application/x-big' });
      assert.equal(r.res.status, 200);

      const partRequests = seen.filter((s) => s.method === 'PUT' && /[?&]partNumber=/.test(s.url));
      assert.equal(partRequests.length, 6, '5 × 200 KiB + 24 KiB');
      for (const p of partRequests) {
        const n = Number(new URL(p.url).searchParams.get('partNumber'));
        const slice = data.subarray((n - 1) * partSize, Math.min(n * partSize, data.length));
        assert.equal(hdr(p.headers, 'etag'), `"${md5Hex(slice)}"`, `part ${n} ETag is its MD5`);
        assert.equal(hdr(p.headers, 'x-oss-hash-crc64ecma'), crc(slice), `part ${n} CRC`);
      }
      const slices = Array.from({ length: 6 }, (_, i) => data.subarray(i * partSize, Math.min((i + 1) * partSize, data.length)));

      assert.equal(r.res.headers['x-oss-hash-crc64ecma'], crc(data), 'CompleteMultipartUpload carries the CRC of the whole object');
      const completeBody = last(seen).body.toString();
      assert.match(completeBody, /<CompleteMultipartUploadResult>/);
      assert.match(completeBody, new RegExp(`<Bucket>${B}</Bucket>`));
      assert.match(completeBody, /<Key>mp\/big\.bin<\/Key>/);
      const bodyEtag = /<ETag>(?:&quot;|")([0-9A-F]{32}-\d+)(?:&quot;|")<\/ETag>/.exec(completeBody)?.[1];
      assert.equal(`"${bodyEtag}"`, multipartEtag(slices), 'S3-style multipart ETag in the XML');
      assert.doesNotMatch(completeBody, /xmlns/);

      const g = await c.get('mp/big.bin');
      assert.ok(g.content.equals(data), 'object bytes equal the uploaded data');
      assert.match(g.res.headers.etag ?? '', /^"[0-9A-F]{32}-6"$/, `multipart ETag ${g.res.headers.etag}`);
      assert.equal(g.res.headers.etag, multipartEtag(slices));
      assert.equal(g.res.headers['x-oss-hash-crc64ecma'], crc(data));
      assert.equal(g.res.headers['x-oss-object-type'], 'Multipart');
      assert.equal(g.res.headers['content-length'], String(data.length));
      assert.equal(g.res.headers['content-type'], 'application/x-big');
      assert.equal(g.res.headers['x-oss-meta-origin'], 'multipart');

      // A range across the boundary between parts 1 and 2.
      const rg = await c.get('mp/big.bin', { headers: { Range: `bytes=${partSize - 100}-${partSize + 99}` } });
      assert.equal(rg.res.status, 206);
      assert.ok(rg.content.equals(data.subarray(partSize - 100, partSize + 100)));

      // ali-oss (and oss2) take the result's ETag from the CompleteMultipartUpload response *header*.
      assert.equal(r.etag, multipartEtag(slices), 'multipartUpload() result etag (from the ETag response header)');
    });

    test('by hand: out-of-order list → InvalidPartOrder, wrong ETag/missing part → InvalidPart, then a good complete', T, async () => {
      const k = 'mp/hand.bin';
      const init = await c.initMultipartUpload(k);
      assert.equal(init.res.status, 200);
      assert.equal(init.bucket, B);
      assert.equal(init.name, k);
      assert.match(init.uploadId, /^[0-9A-F]{32}$/, 'UploadId: 32 uppercase hex');
      const id = init.uploadId;
      const bufs = [randomBytes(150 * KB), randomBytes(120 * KB), randomBytes(10 * KB)];
      const parts: Array<{ number: number; etag: string }> = [];
      for (const [i, b] of bufs.entries()) {
        const p = await c.uploadPart(k, id, i + 1, b, 0, b.length);
        assert.equal(p.etag, `"${md5Hex(b)}"`);
        assert.equal(p.res.headers['x-oss-hash-crc64ecma'], crc(b));
        parts.push({ number: i + 1, etag: p.etag });
      }

      const raw = (list: Array<{ number: number; etag: string }>) =>
        c.request({ method: 'POST', bucket: B, object: k, subres: { uploadId: id }, content: completeXml(list), mime: 'xml', successStatuses: [200], xmlResponse: true });
      await rejectsWith(raw([parts[1]!, parts[0]!, parts[2]!]), 400, 'InvalidPartOrder');
      await rejectsWith(c.completeMultipartUpload(k, id, [parts[0]!, { number: 2, etag: '"0123456789ABCDEF0123456789ABCDEF"' }, parts[2]!]), 400, 'InvalidPart');
      await rejectsWith(c.completeMultipartUpload(k, id, [...parts, { number: 4, etag: parts[2]!.etag }]), 400, 'InvalidPart');
      await rejectsWith(c.head(k), 404, 'NoSuchKey');

      // The upload survives the refused completions.
      const done = await raw(parts);
      assert.equal(done.status, 200);
      const whole = Buffer.concat(bufs);
      assert.equal(done.res.headers['x-oss-hash-crc64ecma'], crc(whole));
      const g = await c.get(k);
      assert.ok(g.content.equals(whole));
      assert.equal(g.res.headers['x-oss-hash-crc64ecma'], crc(whole));
      assert.equal(g.res.headers.etag, multipartEtag(bufs));

      // A completed upload is gone.
      await rejectsWith(c.listParts(k, id), 404, 'NoSuchUpload');
      await rejectsWith(c.uploadPart(k, id, 4, bufs[2]!, 0, bufs[2]!.length), 404, 'NoSuchUpload');
      assert.equal(done.res.headers.etag, multipartEtag(bufs), 'CompleteMultipartUpload answers with an ETag header');
    });

    test('a non-last part under 100 KB → EntityTooSmall; exactly 100 KB is fine', T, async () => {
      const k = 'mp/small.bin';
      const { uploadId } = await c.initMultipartUpload(k);
      const p1 = randomBytes(50 * KB);
      const p2 = randomBytes(150 * KB);
      const e1 = await c.uploadPart(k, uploadId, 1, p1, 0, p1.length);
      const e2 = await c.uploadPart(k, uploadId, 2, p2, 0, p2.length);
      const err = await rejectsWith(
        c.completeMultipartUpload(k, uploadId, [
          { number: 1, etag: e1.etag },
          { number: 2, etag: e2.etag },
        ]),
        400,
        'EntityTooSmall',
      );
      assert.match(err.requestId ?? '', /^[0-9A-F]{24}$/);
      await rejectsWith(c.head(k), 404, 'NoSuchKey');
      assert.equal((await c.abortMultipartUpload(k, uploadId)).res.status, 204);

      const k2 = 'mp/exact.bin';
      const u2 = await c.initMultipartUpload(k2);
      const q1 = randomBytes(100 * KB);
      const q2 = randomBytes(1);
      const f1 = await c.uploadPart(k2, u2.uploadId, 1, q1, 0, q1.length);
      const f2 = await c.uploadPart(k2, u2.uploadId, 2, q2, 0, q2.length);
      const done = await c.completeMultipartUpload(k2, u2.uploadId, [
        { number: 1, etag: f1.etag },
        { number: 2, etag: f2.etag },
      ]);
      assert.equal(done.res.status, 200);
      assert.ok((await c.get(k2)).content.equals(Buffer.concat([q1, q2])));
    });

    test('abortMultipartUpload then uploadPart → NoSuchUpload', T, async () => {
      const k = 'mp/aborted.bin';
      const { uploadId } = await c.initMultipartUpload(k);
      const b = randomBytes(10 * KB);
      const p = await c.uploadPart(k, uploadId, 1, b, 0, b.length);
      const a = await c.abortMultipartUpload(k, uploadId);
      assert.equal(a.res.status, 204);
      const err = await rejectsWith(c.uploadPart(k, uploadId, 2, b, 0, b.length), 404, 'NoSuchUpload');
      assert.equal(err.ecCode, '0042-00000002');
      assert.match(last(seen).body.toString(), new RegExp(`<UploadId>${uploadId}</UploadId>|<Code>NoSuchUpload</Code>`));
      await rejectsWith(c.listParts(k, uploadId), 404, 'NoSuchUpload');
      await rejectsWith(c.completeMultipartUpload(k, uploadId, [{ number: 1, etag: p.etag }]), 404, 'NoSuchUpload');
      await rejectsWith(c.abortMultipartUpload(k, uploadId), 404, 'NoSuchUpload');
      await rejectsWith(c.uploadPart(k, '0123456789ABCDEF0123456789ABCDEF', 1, b, 0, b.length), 404, 'NoSuchUpload');
      const ups = await c.listUploads({ prefix: k });
      assert.deepEqual(ups.uploads, []);
      await rejectsWith(c.head(k), 404, 'NoSuchKey');
    });

    test('listUploads with prefix, delimiter and paging', T, async () => {
      const started: Array<{ key: string; id: string }> = [];
      for (const key of ['lu/b', 'lu/a', 'lu/b', 'lu/c/d', 'other/x']) {
        const r = await c.initMultipartUpload(key);
        started.push({ key, id: r.uploadId });
      }
      const mine = started.filter((s) => s.key.startsWith('lu/'));

      const all = await c.listUploads({ prefix: 'lu/' });
      assert.equal(all.res.status, 200);
      assert.equal(all.bucket, B);
      assert.equal(all.isTruncated, false);
      assert.deepEqual(
        all.uploads.map((u) => u.name),
        ['lu/a', 'lu/b', 'lu/b', 'lu/c/d'],
        'sorted by key, other/x excluded',
      );
      assert.deepEqual(all.uploads.map((u) => `${u.name} ${u.uploadId}`).sort(), mine.map((s) => `${s.key} ${s.id}`).sort());
      for (const u of all.uploads) assert.match(u.initiated, XML_DATE);
      const rawAll = last(seen).body.toString();
      assert.match(rawAll, /<NextKeyMarker>/, 'NextKeyMarker is always present (oss2 needs it)');
      assert.match(rawAll, /<NextUploadIdMarker>/);

      const grouped = await c.listUploads({ prefix: 'lu/', delimiter: '/' });
      assert.deepEqual(grouped.uploads.map((u) => u.name), ['lu/a', 'lu/b', 'lu/b']);
      assert.match(last(seen).body.toString(), /<CommonPrefixes><Prefix>lu\/c\/<\/Prefix><\/CommonPrefixes>/);

      const collected: string[] = [];
      let keyMarker = '';
      let idMarker = '';
      for (let i = 0; ; i++) {
        assert.ok(i < 5, 'listUploads paging does not end');
        const q: Record<string, string | number> = { prefix: 'lu/', 'max-uploads': 3 };
        if (keyMarker) q['key-marker'] = keyMarker;
        if (idMarker) q['upload-id-marker'] = idMarker;
        const page = await c.listUploads(q);
        assert.ok(page.uploads.length <= 3);
        collected.push(...page.uploads.map((u) => `${u.name} ${u.uploadId}`));
        if (!page.isTruncated) break;
        const lastUp = page.uploads[page.uploads.length - 1]!;
        assert.equal(page.nextKeyMarker, lastUp.name);
        assert.equal(page.nextUploadIdMarker, lastUp.uploadId);
        keyMarker = page.nextKeyMarker;
        idMarker = page.nextUploadIdMarker;
      }
      assert.deepEqual(collected, all.uploads.map((u) => `${u.name} ${u.uploadId}`), 'every upload exactly once, in order');

      for (const s of started) assert.equal((await c.abortMultipartUpload(s.key, s.id)).res.status, 204);
      assert.deepEqual((await c.listUploads({ prefix: 'lu/' })).uploads, []);
    });

    test('listParts with max-parts paging; re-uploading a part replaces it', T, async () => {
      const k = 'mp/parts.bin';
      const { uploadId } = await c.initMultipartUpload(k);
      const bufs = new Map<number, Buffer>();
      for (const n of [3, 1, 5, 2, 4]) {
        const b = randomBytes(1000 + n);
        bufs.set(n, b);
        await c.uploadPart(k, uploadId, n, b, 0, b.length);
      }
      const check = (p: RawPart) => {
        const b = bufs.get(Number(p.PartNumber))!;
        assert.equal(p.ETag, `"${md5Hex(b)}"`, `part ${p.PartNumber} ETag`);
        assert.equal(p.Size, String(b.length));
        assert.equal(p.HashCrc64ecma, crc(b));
        assert.match(p.LastModified, XML_DATE);
      };

      const pages: string[][] = [];
      let marker: string | undefined;
      for (let i = 0; ; i++) {
        assert.ok(i < 6, 'listParts paging does not end');
        const q: Record<string, string | number> = { 'max-parts': 2 };
        if (marker !== undefined) q['part-number-marker'] = marker;
        const r = await c.listParts(k, uploadId, q);
        assert.equal(r.uploadId, uploadId);
        assert.equal(r.name, k);
        assert.equal(r.maxParts, '2');
        assert.equal(r.partNumberMarker, marker ?? '0');
        const parts = toArray(r.parts);
        parts.forEach(check);
        pages.push(parts.map((p) => p.PartNumber));
        assert.ok(r.nextPartNumberMarker !== undefined, 'NextPartNumberMarker is always present');
        if (r.isTruncated !== 'true') {
          assert.equal(r.isTruncated, 'false');
          break;
        }
        assert.equal(r.nextPartNumberMarker, parts[parts.length - 1]?.PartNumber);
        marker = r.nextPartNumberMarker;
      }
      assert.deepEqual(pages, [['1', '2'], ['3', '4'], ['5']]);

      const again = randomBytes(2222);
      bufs.set(3, again);
      const re = await c.uploadPart(k, uploadId, 3, again, 0, again.length);
      assert.equal(re.etag, `"${md5Hex(again)}"`);
      const full = await c.listParts(k, uploadId, {});
      const parts = toArray(full.parts);
      assert.deepEqual(parts.map((p) => p.PartNumber), ['1', '2', '3', '4', '5']);
      parts.forEach(check);
      assert.equal((await c.abortMultipartUpload(k, uploadId)).res.status, 204);
    });

    test('uploadPartCopy of a byte range of an existing object', T, async () => {
      const src = randomBytes(300 * KB);
      await c.put('mp/src.bin', src);
      const k = 'mp/composed.bin';
      const { uploadId } = await c.initMultipartUpload(k);
      const p1 = await c.uploadPartCopy(k, uploadId, 1, '1000-150999', { sourceKey: 'mp/src.bin', sourceBucketName: B });
      const slice = src.subarray(1000, 151000);
      assert.equal(p1.res.status, 200);
      assert.equal(hdr(last(seen).reqHeaders, 'x-oss-copy-source-range'), 'bytes=1000-150999');
      assert.equal(p1.res.headers['x-oss-hash-crc64ecma'], crc(slice));
      const body = last(seen).body.toString();
      assert.match(body, /<CopyPartResult>/);
      assert.match(body, new RegExp(`<ETag>&quot;${md5Hex(slice)}&quot;</ETag>|<ETag>"${md5Hex(slice)}"</ETag>`));
      assert.match(body, /<LastModified>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z<\/LastModified>/);

      const tail = randomBytes(3 * KB);
      const p2 = await c.uploadPart(k, uploadId, 2, tail, 0, tail.length);
      const listed = toArray((await c.listParts(k, uploadId, {})).parts);
      assert.deepEqual(listed.map((p) => [p.PartNumber, p.Size, p.ETag]), [
        ['1', String(slice.length), `"${md5Hex(slice)}"`],
        ['2', String(tail.length), `"${md5Hex(tail)}"`],
      ]);
      const done = await c.completeMultipartUpload(k, uploadId, [
        { number: 1, etag: `"${md5Hex(slice)}"` },
        { number: 2, etag: p2.etag },
      ]);
      const whole = Buffer.concat([slice, tail]);
      assert.equal(done.res.headers['x-oss-hash-crc64ecma'], crc(whole));
      const g = await c.get(k);
      assert.ok(g.content.equals(whole), 'copied range + uploaded tail');
      assert.equal(g.res.headers['x-oss-hash-crc64ecma'], crc(whole));
      assert.ok((await c.get('mp/src.bin')).content.equals(src), 'the source is untouched');
      // ali-oss's uploadPartCopy() (and multipartUploadCopy) take the part ETag from the response *header*.
      assert.equal(p1.etag, `"${md5Hex(slice)}"`, 'uploadPartCopy() result etag (from the ETag response header)');
    });

    test('multipartUploadCopy (ali-oss managed copy: GetObjectMeta size + UploadPartCopy ETag headers)', T, async () => {
      const src = randomBytes(250 * KB);
      await c.put('mp/copy-src.bin', src);
      const r = await c.multipartUploadCopy('mp/copy-dst.bin', { sourceKey: 'mp/copy-src.bin', sourceBucketName: B }, { partSize: 100 * KB });
      assert.equal(r.res.status, 200);
      const g = await c.get('mp/copy-dst.bin');
      assert.ok(g.content.equals(src), 'the copy has the source bytes');
      assert.equal(g.res.headers['x-oss-hash-crc64ecma'], crc(src));
      assert.equal(g.res.headers['x-oss-object-type'], 'Multipart');
      assert.match(g.res.headers.etag ?? '', /^"[0-9A-F]{32}-3"$/);
    });

    test('multipartUpload into an existing key replaces the old version', T, async () => {
      const k = 'mp/replace.bin';
      await c.put(k, Buffer.from('old version'), { meta: { generation: '1' } });
      const data = randomBytes(300 * KB);
      const r = await c.multipartUpload(k, data, { partSize: 100 * KB, meta: { generation: '2' } });
      assert.equal(r.res.status, 200);
      const g = await c.get(k);
      assert.match(g.res.headers.etag ?? '', /^"[0-9A-F]{32}-3"$/);
      assert.ok(g.content.equals(data));
      assert.equal(g.res.headers['x-oss-object-type'], 'Multipart');
      assert.equal(g.res.headers['x-oss-meta-generation'], '2');
      assert.equal(g.res.headers['x-oss-hash-crc64ecma'], crc(data));
      const listed = (await c.list({ prefix: k })).objects;
      assert.deepEqual(
        listed.map((o) => [o.name, o.size, o.type, o.etag]),
        [[k, data.length, 'Multipart', g.res.headers.etag]],
        'exactly one listing entry, the new version',
      );
    });

    test('x-oss-forbid-overwrite on a multipart upload does not replace an existing key', T, async () => {
      const k = 'mp/protected.bin';
      const old = Buffer.from('protected');
      await c.put(k, old);
      const data = randomBytes(10 * KB);
      let refused: OssError | undefined;
      try {
        const { uploadId } = await c.initMultipartUpload(k, { headers: { 'x-oss-forbid-overwrite': 'true' } });
        const p = await c.uploadPart(k, uploadId, 1, data, 0, data.length);
        try {
          await c.completeMultipartUpload(k, uploadId, [{ number: 1, etag: p.etag }], { headers: { 'x-oss-forbid-overwrite': 'true' } });
        } finally {
          await c.abortMultipartUpload(k, uploadId).catch(() => undefined);
        }
      } catch (e) {
        refused = e as OssError;
      }
      assert.ok(refused, 'the initiate or the complete is refused');
      assert.equal(refused.code, 'FileAlreadyExists');
      assert.equal(refused.status, 409);
      assert.ok((await c.get(k)).content.equals(old));
    });

    test('deleteBucket with an upload in progress → BucketNotEmpty', T, async () => {
      const E = `mp-${v.tag}-e`;
      const ce = makeClient(v, E);
      await ce.putBucket(E);
      const { uploadId } = await ce.initMultipartUpload('pending.bin');
      await rejectsWith(ce.deleteBucket(E), 409, 'BucketNotEmpty');
      await ce.abortMultipartUpload('pending.bin', uploadId);
      const d = await ce.deleteBucket(E);
      assert.ok(d.res.status === 204 || d.res.status === 200);
    });
  });
}
