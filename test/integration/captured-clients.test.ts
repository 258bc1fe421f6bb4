/**
 * The requests captured from the Go SDK v3 (V4 and V1), the Go SDK v2 and the Java SDK (V4 and V1)
 * (test/fixtures/vectors), replayed against the real server (dist/). Each is re-signed at the current time
 * with the client's own algorithm and header shapes (test/support/replay.ts): Go v3 V4 keeps signing the
 * RFC 1123 `Date` header with no x-oss-date, Go v3 keeps its `url.QueryEscape`d copy source
 * (`dir%2Fhello+world%2B%C3%BC.txt`). The seeds' async-process posts are accepted (workers are off: the
 * placeholder sources are not media, only the synchronous acceptance is checked). Presigned URLs and the
 * recorder's continuation token are covered by test/auth/vectors.test.ts instead.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startServer, type TestServer } from '../support/server.js';
import { rawRequest } from '../support/raw-client.js';
import { CAPTURE_BUCKET, loadCaptures, replay, type Capture, type Replayed } from '../support/replay.js';

const T = { timeout: 30_000 };
const TRICKY_KEY = 'dir/hello world+ü.txt';
const FILES = ['go-v3-v4.jsonl', 'go-v3-v1.jsonl', 'go-v2-v4.jsonl', 'java-v4.jsonl', 'java-v1.jsonl'];
const SKIPPED = /sign_url|presign|continuation/;
/** Every object the seeds' process strings name as a source or clip. */
const SEED_SOURCES = ['src.mp3', 'src.mp4', 'src1.mp3', 'src2.mp3', 'concat1.mp4', 'concat2.mp4'];
const md5Hex = (b: Buffer) => createHash('md5').update(b).digest('hex').toUpperCase();
/** `<ETag>"MD5"</ETag>`, the quotes written as is or escaped. */
const etagElement = (b: Buffer) => new RegExp(`<ETag>(&quot;|")${md5Hex(b)}(&quot;|")</ETag>`);

let server: TestServer;

before(async () => {
  server = await startServer({ env: { MEDLEY_WORKERS: '0' } });
  const r = await rawRequest(server.url, { method: 'PUT', bucket: CAPTURE_BUCKET, auth: { id: server.keyId, secret: server.secret } });
  assert.equal(r.status, 200, r.text);
});

/** Each capture file ends by deleting src1.mp3: every file starts with all seed sources present. */
async function putSeedSources(): Promise<void> {
  for (const key of SEED_SOURCES) {
    const put = await rawRequest(server.url, { method: 'PUT', bucket: CAPTURE_BUCKET, key, body: 'placeholder', auth: { id: server.keyId, secret: server.secret } });
    assert.equal(put.status, 200, put.text);
  }
}
after(async () => server?.dispose());

function send(c: Capture, opts: Partial<Parameters<typeof replay>[1]> = {}): Promise<Replayed> {
  return replay(c, { baseUrl: server.url, accessKeyId: server.keyId, secret: server.secret, ...opts });
}

async function getObject(key: string): Promise<Buffer> {
  const r = await rawRequest(server.url, { method: 'GET', bucket: CAPTURE_BUCKET, key, auth: { id: server.keyId, secret: server.secret } });
  assert.equal(r.status, 200, `GET ${key}: ${r.text}`);
  return r.body;
}

for (const file of FILES) {
  describe(file, () => {
    const captures = loadCaptures(file).filter((c) => !SKIPPED.test(c.label));
    const trickyBody = Buffer.from(captures.find((c) => c.label.endsWith('/put_object_tricky_key'))!.body_b64!, 'base64');
    let uploadId = '';
    const partEtags: string[] = [];

    before(putSeedSources);

    for (const c of captures) {
      test(`${c.label} is accepted`, T, async () => {
        const withUpload = (u: string) => u.replace(/uploadId=[0-9A-F]+/, `uploadId=${uploadId}`);
        if (c.label.endsWith('/complete_multipart_upload')) {
          // The captured part list names the recorder's ETags and a 19-byte part 1 (too small to be followed by
          // another part): complete with part 1 alone, in the client's own XML (Go escapes quotes as &#34;).
          const xml = Buffer.from(c.body_b64!, 'base64').toString('utf8');
          const quote = xml.includes('&#34;') ? '&#34;' : '&quot;';
          const body = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${quote}${partEtags[0]}${quote}</ETag></Part></CompleteMultipartUpload>`;
          const r = await send(c, { url: withUpload, body: () => Buffer.from(body) });
          assert.equal(r.status, 200, r.text);
          assert.match(r.text, /<ETag>(&quot;|")[0-9A-F]{32}-1(&quot;|")<\/ETag>/);
          return;
        }
        const r = await send(c, { url: withUpload });
        assert.ok(r.status === 200 || r.status === 204 || r.status === 206, `${c.label}: ${r.status} ${r.text}`);
        if (c.label.endsWith('/initiate_multipart_upload')) uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(r.text)![1]!;
        if (/upload_part_\d$/.test(c.label)) partEtags.push(String(r.headers.etag).replace(/"/g, ''));
        if (c.label.endsWith('/get_object_range')) assert.equal(r.status, 206);
        if (c.label.endsWith('_async_process')) assert.match(JSON.parse(r.text).TaskId as string, /^MediaConvert-/, r.text);
        if (c.label.endsWith('/list_objects_v2')) {
          // Go v3 asks for encoding-type=url; Java gets the key as is.
          assert.ok(r.text.includes(c.url.includes('encoding-type=url') ? 'dir%2Fhello%20world%2B%C3%BC.txt' : TRICKY_KEY), r.text);
        }
        if (c.label.endsWith('/copy_object_tricky_source')) {
          assert.match(r.text, etagElement(trickyBody));
          assert.deepEqual(await getObject('dir/copy of hello.txt'), trickyBody);
        }
      });
    }

    if (file.startsWith('go-v3')) {
      test('UploadPartCopy with the Go v3 (url.QueryEscape) copy source copies the tricky key', T, async () => {
        const init = captures.find((c) => c.label.endsWith('/initiate_multipart_upload'))!;
        const r0 = await send(init);
        assert.equal(r0.status, 200, r0.text);
        const id = /<UploadId>([^<]+)<\/UploadId>/.exec(r0.text)![1]!;
        // UploadPart as Go v3 sends it, plus the copy-source header it builds for UploadPartCopy.
        const part = captures.find((c) => c.label.endsWith('/upload_part_1'))!;
        const copySource = '/examplebucket/dir%2Fhello+world%2B%C3%BC.txt';
        const at = part.rawHeaders.findIndex(([n]) => n.toLowerCase() === 'accept-encoding');
        const rawHeaders: Array<[string, string]> = [...part.rawHeaders.slice(0, at), ['X-Oss-Copy-Source', copySource], ...part.rawHeaders.slice(at)];
        const copyPart: Capture = { ...part, rawHeaders, headers: { ...part.headers, 'x-oss-copy-source': copySource }, body_b64: '' };
        const r = await send(copyPart, { url: (u) => u.replace(/uploadId=[0-9A-F]+/, `uploadId=${id}`) });
        assert.equal(r.status, 200, r.text);
        assert.match(r.text, etagElement(trickyBody));
      });
    }
  });
}
