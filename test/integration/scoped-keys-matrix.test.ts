/**
 * Scoped access keys over every door of the real server (`medley serve`): a key with `read` on bucket A,
 * `read-write` on bucket B and nothing on C may see and change exactly that, and nothing more, with the
 * exact OSS, IMM and MNS codes. OSS requests go through an independent V1 signer (test/support/raw-client)
 * so each row is exactly the request it names; IMM through pop-core; MNS through @alicloud/mns.
 *
 * Workers are off (MEDLEY_WORKERS=0): accepted tasks stay queued, which is all visibility and the queued
 * cap need, and nothing runs behind the assertions.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tone } from '../support/media.js';
import { mnsClient, mnsRejects } from '../support/mns.js';
import { rawRequest, xmlTag, type RawRequest, type RawResponse } from '../support/raw-client.js';
import { startServer, type TestServer } from '../support/server.js';
import { b64, popClient, type ImmCaller } from '../support/tasks.js';

const A = 'mx-a'; // APP: read
const B = 'mx-b'; // APP: read-write
const C = 'mx-c'; // APP: nothing; OTHER: read-write
const P = 'mx-p'; // public-read, no grants
const PROJECT = 'mx';
const MAX_QUEUED = 8;

const APP = { accessKeyId: 'LTAImxApp00000001', accessKeySecret: 'AppSecret0000000000000000000001', buckets: { [A]: 'read', [B]: 'read-write' } };
const OTHER = { accessKeyId: 'LTAImxOther000001', accessKeySecret: 'OtherSecret00000000000000000001', buckets: { [C]: 'read-write' } };
const BARE = { accessKeyId: 'LTAImxBare0000001', accessKeySecret: 'BareSecret000000000000000000001', buckets: {} };
type Key = typeof APP | typeof OTHER | typeof BARE;

let dataDir: string;
let fixtures: string;
let server: TestServer;
let wav: Buffer;
let rootImm: ImmCaller;
const tasks: Record<string, string> = {};

const auth = (k: Key | 'root') => (k === 'root' ? { id: server.keyId, secret: server.secret } : { id: k.accessKeyId, secret: k.accessKeySecret });
const oss = (k: Key | 'root', r: Omit<RawRequest, 'auth'>) => rawRequest(server.url, { ...r, auth: auth(k) });
const imm = (k: Key | 'root'): ImmCaller => (k === 'root' ? rootImm : popClient({ url: server.url, keyId: k.accessKeyId, secret: k.accessKeySecret }));

/** The OSS error code of a response: the XML body, or (HEAD) the x-oss-err header's base64 XML. */
function codeOf(r: RawResponse): string | undefined {
  const err = r.headers['x-oss-err'];
  const xml = r.text || (typeof err === 'string' ? Buffer.from(err, 'base64').toString('utf8') : '');
  return xmlTag(xml, 'Code');
}

/** Asserts a status and (for errors) the exact code; returns the response. */
function expect(r: RawResponse, status: number, code: string | undefined, what: string): RawResponse {
  assert.equal(r.status, status, `${what}: expected ${status} ${code ?? ''}, got ${r.status} ${r.text.slice(0, 300)}`);
  if (code !== undefined) assert.equal(codeOf(r), code, `${what}: code`);
  return r;
}

const contentMd5 = (body: string | Buffer) => createHash('md5').update(body).digest('base64');
const deleteBody = (keys: string[]) => `<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet>${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`;
const asyncBody = (p: string) => `x-oss-async-process=${p}`;
const saveas = (key: string, bucket: string) => `|sys/saveas,o_${b64(key)},b_${b64(bucket)}`;

/** The IMM error of a call: HTTP status and Code. */
async function immRejects(p: Promise<unknown>, status: number, code: string): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { data?: Record<string, unknown>; entry?: { response?: { statusCode?: number } } };
    assert.ok(err.data, `expected an IMM error body, got ${String(e)}`);
    assert.equal(err.data.Code, code, `code (${String(err.data.Message)})`);
    assert.equal(err.entry?.response?.statusCode, status, 'status');
    return err.data;
  }
  return assert.fail(`expected IMM ${code}, but the call succeeded`);
}

const target = (bucket: string, key: string) => JSON.stringify([{ URI: `oss://${bucket}/${key}`, Container: 'mp3', Audio: { TranscodeAudio: { Codec: 'mp3' } } }]);
const sources = (...uris: string[]) => JSON.stringify(uris.map((URI) => ({ URI })));
const convert = (k: Key | 'root', src: string[], out: [string, string], project = PROJECT) =>
  imm(k).call('CreateMediaConvertTask', { ProjectName: project, Sources: sources(...src), Targets: target(...out) }) as Promise<{ TaskId: string }>;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'medley-matrix-'));
  fixtures = await mkdtemp(join(tmpdir(), 'medley-matrix-fx-'));
  await writeFile(join(dataDir, 'access-keys.json'), JSON.stringify({ keys: [APP, OTHER, BARE] }));
  server = await startServer({ dataDir, env: { MEDLEY_WORKERS: '0', MEDLEY_MAX_QUEUED_PER_KEY: String(MAX_QUEUED) } });
  rootImm = popClient(server);
  wav = await readFile(tone(join(fixtures, 'tone.wav'), 440, 1, ['-ac', '1']));
  for (const b of [A, B, C, P]) {
    expect(await oss('root', { method: 'PUT', bucket: b }), 200, undefined, `create ${b}`);
    expect(await oss('root', { method: 'PUT', bucket: b, key: 'tone.wav', body: wav }), 200, undefined, `tone in ${b}`);
    expect(await oss('root', { method: 'PUT', bucket: b, key: 'k.txt', body: `text of ${b}` }), 200, undefined, `k.txt in ${b}`);
  }
  expect(await oss('root', { method: 'PUT', bucket: P, query: { acl: '' }, headers: { 'x-oss-acl': 'public-read' } }), 200, undefined, 'P public-read');
  expect(await oss('root', { method: 'PUT', bucket: P, key: 'private.wav', body: wav, headers: { 'x-oss-object-acl': 'private' } }), 200, undefined, 'private clip');
  await rootImm.call('CreateProject', { ProjectName: PROJECT });

  // Tasks of three submitters, touching different buckets (they stay queued: no workers).
  tasks.rootAB = (await convert('root', [`oss://${A}/tone.wav`], [B, 'root/ab.mp3'])).TaskId;
  tasks.rootC = (await convert('root', [`oss://${C}/tone.wav`], [C, 'root/c.mp3'])).TaskId;
  tasks.rootAC = (await convert('root', [`oss://${A}/tone.wav`], [C, 'root/ac.mp3'])).TaskId;
  tasks.rootAandC = (await convert('root', [`oss://${A}/tone.wav`, `oss://${C}/tone.wav`], [B, 'root/a-and-c.mp3'])).TaskId;
  tasks.otherC = (await convert(OTHER, [`oss://${C}/tone.wav`], [C, 'other/c.mp3'])).TaskId;
  tasks.appAB = (await convert(APP, [`oss://${A}/tone.wav`], [B, 'app/ab.mp3'])).TaskId;
});

after(async () => {
  await server?.dispose();
  await rm(dataDir, { recursive: true, force: true });
  await rm(fixtures, { recursive: true, force: true });
});

describe('OSS: reads', () => {
  test('listing: A and B yes, C no; ListBuckets is the root key\'s', async () => {
    expect(await oss(APP, { method: 'GET' }), 403, 'AccessDenied', 'ListBuckets');
    for (const b of [A, B]) {
      expect(await oss(APP, { method: 'GET', bucket: b }), 200, undefined, `ListObjects ${b}`);
      expect(await oss(APP, { method: 'GET', bucket: b, query: { 'list-type': '2' } }), 200, undefined, `ListObjectsV2 ${b}`);
    }
    expect(await oss(APP, { method: 'GET', bucket: C }), 403, 'AccessDenied', 'ListObjects C');
    expect(await oss(APP, { method: 'GET', bucket: C, query: { 'list-type': '2' } }), 403, 'AccessDenied', 'ListObjectsV2 C');
    expect(await oss(APP, { method: 'GET', bucket: 'mx-none' }), 404, 'NoSuchBucket', 'a missing bucket is NoSuchBucket, before any grant check');
    expect(await oss('root', { method: 'GET' }), 200, undefined, 'root ListBuckets');
  });

  test('get/head/meta: A and B yes, C no; a missing key is NoSuchKey only where the key may read', async () => {
    for (const b of [A, B]) {
      const r = expect(await oss(APP, { method: 'GET', bucket: b, key: 'k.txt' }), 200, undefined, `GET ${b}`);
      assert.equal(r.text, `text of ${b}`);
      expect(await oss(APP, { method: 'HEAD', bucket: b, key: 'k.txt' }), 200, undefined, `HEAD ${b}`);
      expect(await oss(APP, { method: 'HEAD', bucket: b, key: 'k.txt', query: { objectMeta: '' } }), 200, undefined, `GetObjectMeta ${b}`);
      expect(await oss(APP, { method: 'GET', bucket: b, key: 'missing' }), 404, 'NoSuchKey', `GET ${b}/missing`);
    }
    const r = expect(await oss(APP, { method: 'GET', bucket: C, key: 'k.txt' }), 403, 'AccessDenied', 'GET C');
    assert.doesNotMatch(r.text, /text of/);
    expect(await oss(APP, { method: 'HEAD', bucket: C, key: 'k.txt' }), 403, 'AccessDenied', 'HEAD C');
    expect(await oss(APP, { method: 'HEAD', bucket: C, key: 'k.txt', query: { objectMeta: '' } }), 403, 'AccessDenied', 'GetObjectMeta C');
    expect(await oss(APP, { method: 'GET', bucket: C, key: 'missing' }), 403, 'AccessDenied', 'C/missing: no probing for keys');
  });

  test('a public-read bucket reads as for anyone; an object\'s private ACL there still refuses', async () => {
    expect(await oss(APP, { method: 'GET', bucket: P, key: 'k.txt' }), 200, undefined, 'GET P');
    expect(await oss(APP, { method: 'GET', bucket: P, key: 'private.wav' }), 403, 'AccessDenied', 'GET P/private.wav');
    expect(await oss(APP, { method: 'PUT', bucket: P, key: 'w.txt', body: 'x' }), 403, 'AccessDenied', 'PUT P');
  });
});

describe('OSS: writes', () => {
  test('put/append/delete: only in B', async () => {
    for (const b of [A, C, P]) {
      expect(await oss(APP, { method: 'PUT', bucket: b, key: 'w.txt', body: 'x' }), 403, 'AccessDenied', `PUT ${b}`);
      expect(await oss(APP, { method: 'POST', bucket: b, key: 'app.log', query: { append: '', position: '0' }, body: 'x' }), 403, 'AccessDenied', `append ${b}`);
      expect(await oss(APP, { method: 'DELETE', bucket: b, key: 'k.txt' }), 403, 'AccessDenied', `DELETE ${b}`);
      const body = deleteBody(['k.txt']);
      expect(await oss(APP, { method: 'POST', bucket: b, query: { delete: '' }, headers: { 'Content-MD5': contentMd5(body), 'Content-Type': 'application/xml' }, body }), 403, 'AccessDenied', `DeleteMultipleObjects ${b}`);
    }
    expect(await oss(APP, { method: 'PUT', bucket: B, key: 'w.txt', body: 'written' }), 200, undefined, 'PUT B');
    expect(await oss(APP, { method: 'POST', bucket: B, key: 'app.log', query: { append: '', position: '0' }, body: 'x' }), 200, undefined, 'append B');
    expect(await oss(APP, { method: 'DELETE', bucket: B, key: 'w.txt' }), 204, undefined, 'DELETE B');
    const body = deleteBody(['app.log']);
    expect(await oss(APP, { method: 'POST', bucket: B, query: { delete: '' }, headers: { 'Content-MD5': contentMd5(body), 'Content-Type': 'application/xml' }, body }), 200, undefined, 'DeleteMultipleObjects B');
    // What the refused writes did not do.
    for (const b of [A, C]) assert.equal((await oss('root', { method: 'GET', bucket: b, key: 'k.txt' })).text, `text of ${b}`);
    expect(await oss('root', { method: 'HEAD', bucket: A, key: 'w.txt' }), 404, 'NoSuchKey', 'nothing written to A');
  });

  test('copy: read on the source and write on the destination, both checked', async () => {
    const copy = (bucket: string, key: string, source: string) => oss(APP, { method: 'PUT', bucket, key, headers: { 'x-oss-copy-source': source } });
    expect(await copy(B, 'copy-from-a.txt', `/${A}/k.txt`), 200, undefined, 'A → B');
    assert.equal((await oss(APP, { method: 'GET', bucket: B, key: 'copy-from-a.txt' })).text, `text of ${A}`);
    expect(await copy(B, 'copy-from-c.txt', `/${C}/k.txt`), 403, 'AccessDenied', 'C → B (no read on C)');
    expect(await copy(A, 'copy-to-a.txt', `/${B}/k.txt`), 403, 'AccessDenied', 'B → A (no write on A)');
    expect(await copy(C, 'copy-to-c.txt', `/${A}/k.txt`), 403, 'AccessDenied', 'A → C (no write on C)');
    expect(await copy(B, 'copy-missing.txt', `/${A}/missing`), 404, 'NoSuchKey', 'a missing readable source');
    expect(await copy(B, 'copy-missing-c.txt', `/${C}/missing`), 403, 'AccessDenied', 'a missing unreadable source is still AccessDenied');
    expect(await copy(B, 'copy-nobucket.txt', '/mx-none/k.txt'), 404, 'NoSuchBucket', 'a missing source bucket');
    expect(await oss('root', { method: 'HEAD', bucket: B, key: 'copy-from-c.txt' }), 404, 'NoSuchKey', 'the refused copy wrote nothing');
  });

  test('multipart: upload in B (parts and part copies from readable sources), nowhere else; listing uploads is the root key\'s', async () => {
    for (const b of [A, C]) expect(await oss(APP, { method: 'POST', bucket: b, key: 'mp.bin', query: { uploads: '' } }), 403, 'AccessDenied', `initiate in ${b}`);
    const init = expect(await oss(APP, { method: 'POST', bucket: B, key: 'mp.bin', query: { uploads: '' } }), 200, undefined, 'initiate in B');
    const uploadId = xmlTag(init.text, 'UploadId')!;
    const part1 = Buffer.alloc(100 * 1024, 7);
    const p1 = expect(await oss(APP, { method: 'PUT', bucket: B, key: 'mp.bin', query: { partNumber: '1', uploadId }, body: part1 }), 200, undefined, 'part 1');
    expect(await oss(APP, { method: 'PUT', bucket: B, key: 'mp.bin', query: { partNumber: '2', uploadId }, headers: { 'x-oss-copy-source': `/${C}/k.txt` } }), 403, 'AccessDenied', 'UploadPartCopy from C');
    const p2 = expect(await oss(APP, { method: 'PUT', bucket: B, key: 'mp.bin', query: { partNumber: '2', uploadId }, headers: { 'x-oss-copy-source': `/${A}/k.txt` } }), 200, undefined, 'UploadPartCopy from A');
    expect(await oss(APP, { method: 'GET', bucket: B, key: 'mp.bin', query: { uploadId } }), 200, undefined, 'ListParts');
    expect(await oss(APP, { method: 'GET', bucket: B, query: { uploads: '' } }), 403, 'AccessDenied', 'ListMultipartUploads');
    const etag = (r: RawResponse) => String(r.headers.etag);
    const complete = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag(p1)}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>${xmlTag(p2.text, 'ETag')}</ETag></Part></CompleteMultipartUpload>`;
    expect(await oss(APP, { method: 'POST', bucket: B, key: 'mp.bin', query: { uploadId }, body: complete }), 200, undefined, 'complete');
    const got = await oss(APP, { method: 'GET', bucket: B, key: 'mp.bin' });
    assert.deepEqual(got.body, Buffer.concat([part1, Buffer.from(`text of ${A}`)]));
    const again = xmlTag((await oss(APP, { method: 'POST', bucket: B, key: 'mp2.bin', query: { uploads: '' } })).text, 'UploadId')!;
    expect(await oss(APP, { method: 'DELETE', bucket: B, key: 'mp2.bin', query: { uploadId: again } }), 204, undefined, 'abort');
    // An upload the root key started in C is out of reach.
    const rootUpload = xmlTag((await oss('root', { method: 'POST', bucket: C, key: 'r.bin', query: { uploads: '' } })).text, 'UploadId')!;
    expect(await oss(APP, { method: 'PUT', bucket: C, key: 'r.bin', query: { partNumber: '1', uploadId: rootUpload }, body: 'x' }), 403, 'AccessDenied', 'part into C');
    expect(await oss(APP, { method: 'GET', bucket: C, key: 'r.bin', query: { uploadId: rootUpload } }), 403, 'AccessDenied', 'ListParts in C');
    expect(await oss(APP, { method: 'DELETE', bucket: C, key: 'r.bin', query: { uploadId: rootUpload } }), 403, 'AccessDenied', 'abort in C');
  });

  test('ACLs and bucket operations are the root key\'s, even on B', async () => {
    for (const b of [A, B, C]) {
      expect(await oss(APP, { method: 'GET', bucket: b, query: { acl: '' } }), 403, 'AccessDenied', `GetBucketAcl ${b}`);
      expect(await oss(APP, { method: 'PUT', bucket: b, query: { acl: '' }, headers: { 'x-oss-acl': 'public-read-write' } }), 403, 'AccessDenied', `PutBucketAcl ${b}`);
      expect(await oss(APP, { method: 'GET', bucket: b, query: { bucketInfo: '' } }), 403, 'AccessDenied', `GetBucketInfo ${b}`);
      expect(await oss(APP, { method: 'GET', bucket: b, query: { location: '' } }), 403, 'AccessDenied', `GetBucketLocation ${b}`);
      expect(await oss(APP, { method: 'GET', bucket: b, key: 'k.txt', query: { acl: '' } }), 403, 'AccessDenied', `GetObjectAcl ${b}`);
      expect(await oss(APP, { method: 'PUT', bucket: b, key: 'k.txt', query: { acl: '' }, headers: { 'x-oss-object-acl': 'public-read' } }), 403, 'AccessDenied', `PutObjectAcl ${b}`);
      expect(await oss(APP, { method: 'DELETE', bucket: b }), 403, 'AccessDenied', `DeleteBucket ${b}`);
    }
    expect(await oss(APP, { method: 'PUT', bucket: 'mx-new' }), 403, 'AccessDenied', 'PutBucket');
    expect(await oss(APP, { method: 'DELETE', bucket: 'mx-none' }), 404, 'NoSuchBucket', 'DeleteBucket of a missing bucket');
    expect(await oss('root', { method: 'GET', bucket: 'mx-new' }), 404, 'NoSuchBucket', 'the refused PutBucket created nothing');
    const acl = await oss('root', { method: 'GET', bucket: B, query: { acl: '' } });
    assert.equal(xmlTag(acl.text, 'Grant'), 'private', 'the refused PutBucketAcl changed nothing');
  });
});

describe('OSS: media processing', () => {
  test('x-oss-process info: readable sources only; sys/saveas only into B', async () => {
    const info = (b: string) => oss(APP, { method: 'GET', bucket: b, key: 'tone.wav', query: { 'x-oss-process': 'audio/info' } });
    for (const b of [A, B]) {
      const r = expect(await info(b), 200, undefined, `audio/info ${b}`);
      assert.ok((JSON.parse(r.text) as Record<string, unknown>).RequestId);
    }
    expect(await info(C), 403, 'AccessDenied', 'audio/info C');
    const save = (src: string, out: string) => oss(APP, { method: 'POST', bucket: src, key: 'tone.wav', query: { 'x-oss-process': '' }, body: `x-oss-process=audio/info${saveas('info/tone.json', out)}` });
    expect(await save(A, B), 200, undefined, 'info of A saved into B');
    expect(await oss(APP, { method: 'GET', bucket: B, key: 'info/tone.json' }), 200, undefined, 'the saved info');
    expect(await save(A, A), 403, 'AccessDenied', 'saveas into A');
    expect(await save(A, C), 403, 'AccessDenied', 'saveas into C');
    expect(await save(C, B), 403, 'AccessDenied', 'info of C');
    expect(await oss('root', { method: 'HEAD', bucket: C, key: 'info/tone.json' }), 404, 'NoSuchKey', 'nothing saved into C');
  });

  test('x-oss-async-process: read on the source and every clip, write on the saveas bucket', async () => {
    const submit = (src: string, p: string) => oss(APP, { method: 'POST', bucket: src, key: 'tone.wav', query: { 'x-oss-async-process': '' }, body: asyncBody(p) });
    const ok = expect(await submit(A, `audio/convert,f_mp3${saveas('async/a.mp3', B)}`), 200, undefined, 'A → B');
    tasks.appOss = (JSON.parse(ok.text) as { TaskId: string }).TaskId;
    const denied = (r: RawResponse, what: string, names: RegExp) => assert.match(expect(r, 403, 'AccessDenied', what).text, names, `${what}: the message names what is refused`);
    denied(await submit(A, `audio/convert,f_mp3${saveas('async/a.mp3', A)}`), 'saveas into A', new RegExp(A));
    denied(await submit(A, `audio/convert,f_mp3${saveas('async/c.mp3', C)}`), 'saveas into C', new RegExp(C));
    expect(await submit(C, `audio/convert,f_mp3${saveas('async/c.mp3', B)}`), 403, 'AccessDenied', 'source in C');
    expect(await submit(A, `audio/concat,f_mp3/sur,o_${b64('k.txt')}${saveas('async/concat.mp3', B)}`), 200, undefined, 'a readable clip');
    expect(await submit(A, `audio/concat,f_mp3/pre,o_${b64('missing.wav')}${saveas('async/m.mp3', B)}`), 404, 'NoSuchKey', 'a missing clip');
    // P is readable through its public ACL, but its private clip is not.
    denied(await submit(P, `audio/concat,f_mp3/pre,o_${b64('private.wav')}${saveas('async/p.mp3', B)}`), 'a clip with a private ACL', /private\.wav/);
    expect(await submit(P, `audio/convert,f_mp3${saveas('async/p.mp3', B)}`), 200, undefined, 'a public-read source');
    expect(await oss('root', { method: 'POST', bucket: C, key: 'tone.wav', query: { 'x-oss-async-process': '' }, body: asyncBody(`audio/convert,f_mp3${saveas('async/root.mp3', C)}`) }), 200, undefined, 'root');
  });
});

describe('IMM', () => {
  test('CreateMediaConvertTask: sources readable, targets writable, each bucket checked', async () => {
    tasks.appBB = (await convert(APP, [`oss://${B}/tone.wav`], [B, 'imm/b.mp3'])).TaskId;
    await immRejects(convert(APP, [`oss://${C}/tone.wav`], [B, 'imm/x.mp3']), 403, 'Forbidden.RAM');
    await immRejects(convert(APP, [`oss://${A}/tone.wav`, `oss://${C}/tone.wav`], [B, 'imm/x.mp3']), 403, 'Forbidden.RAM');
    await immRejects(convert(APP, [`oss://${A}/tone.wav`], [A, 'imm/x.mp3']), 403, 'Forbidden.RAM');
    await immRejects(convert(APP, [`oss://${A}/tone.wav`], [C, 'imm/x.mp3']), 403, 'Forbidden.RAM');
    await immRejects(convert(APP, [`oss://mx-none/tone.wav`], [B, 'imm/x.mp3']), 400, 'ResourceNotFound');
    await immRejects(convert(BARE, [`oss://${A}/tone.wav`], [B, 'imm/x.mp3']), 403, 'Forbidden.RAM');
  });

  test('GetTask: a scoped key sees its own tasks and those whose buckets it may all read; others are ResourceNotFound', async () => {
    const get = (k: Key | 'root', id: string) => imm(k).call('GetTask', { ProjectName: PROJECT, TaskId: id, TaskType: 'MediaConvert', RequestDefinition: true });
    const visible: Record<string, string[]> = {
      [APP.accessKeyId]: ['rootAB', 'appAB', 'appBB'],
      [OTHER.accessKeyId]: ['rootC', 'otherC'],
      [BARE.accessKeyId]: [],
    };
    for (const k of [APP, OTHER, BARE]) {
      for (const [name, id] of Object.entries(tasks)) {
        if (name === 'appOss') continue; // project medley-default
        if (visible[k.accessKeyId]!.includes(name)) {
          const t = await get(k, id);
          assert.equal(t.TaskId, id, `${k.accessKeyId} sees ${name}`);
        } else {
          const body = await immRejects(get(k, id), 400, 'ResourceNotFound');
          assert.doesNotMatch(JSON.stringify(body), new RegExp(`${C}|${A}|${B}`), 'the refusal leaks no bucket');
        }
      }
    }
    for (const id of Object.values(tasks).filter((id) => id !== tasks.appOss)) assert.equal((await get('root', id)).TaskId, id, 'root sees every task');
    // The OSS door's task lives in medley-default.
    const t = await imm(APP).call('GetTask', { ProjectName: 'medley-default', TaskId: tasks.appOss!, TaskType: 'MediaConvert' });
    assert.equal(t.TaskId, tasks.appOss);
    await immRejects(imm(OTHER).call('GetTask', { ProjectName: 'medley-default', TaskId: tasks.appOss!, TaskType: 'MediaConvert' }), 400, 'ResourceNotFound');
  });

  test('ListTasks: only visible tasks, every page full, NextToken paging to the end', async () => {
    const list = async (k: Key | 'root', extra: Record<string, unknown> = {}) => {
      const ids: string[] = [];
      const definitions: string[] = [];
      let token = '';
      for (let pages = 0; pages < 50; pages++) {
        const r = (await imm(k).call('ListTasks', { ProjectName: PROJECT, MaxResults: 1, RequestDefinition: true, ...(token ? { NextToken: token } : {}), ...extra })) as { Tasks?: { TaskId: string; TaskRequestDefinition?: string }[]; NextToken?: string };
        const page = r.Tasks ?? [];
        if (r.NextToken) assert.equal(page.length, 1, 'a page before the last is full');
        ids.push(...page.map((t) => t.TaskId));
        definitions.push(...page.map((t) => t.TaskRequestDefinition ?? ''));
        token = r.NextToken ?? '';
        if (!token) break;
      }
      return { ids: ids.sort(), definitions };
    };
    const app = await list(APP);
    assert.deepEqual(app.ids, [tasks.rootAB!, tasks.appAB!, tasks.appBB!].sort());
    for (const d of app.definitions) assert.doesNotMatch(d, new RegExp(C), 'no definition of a task touching C');
    assert.deepEqual((await list(OTHER)).ids, [tasks.rootC!, tasks.otherC!].sort());
    assert.deepEqual((await list(BARE)).ids, []);
    const all = await list('root');
    for (const name of ['rootAB', 'rootC', 'rootAC', 'rootAandC', 'otherC', 'appAB', 'appBB']) assert.ok(all.ids.includes(tasks[name]!), `root lists ${name}`);
    assert.deepEqual((await list(APP, { Sort: 'StartTime', Order: 'desc' })).ids, app.ids, 'the same set under another sort');
  });

  test('projects are the root key\'s: Forbidden.RAM for scoped keys', async () => {
    for (const [action, params] of [
      ['CreateProject', { ProjectName: 'mx-app' }],
      ['GetProject', { ProjectName: PROJECT }],
      ['ListProjects', {}],
      ['UpdateProject', { ProjectName: PROJECT, Description: 'x' }],
      ['DeleteProject', { ProjectName: PROJECT }],
      ['AttachOSSBucket', { ProjectName: PROJECT, OSSBucket: B }],
      ['DetachOSSBucket', { OSSBucket: B }],
      ['GetOSSBucketAttachment', { OSSBucket: B }],
    ] as const) {
      await immRejects(imm(APP).call(action, params), 403, 'Forbidden.RAM');
    }
    assert.equal(((await rootImm.call('GetProject', { ProjectName: PROJECT })).Project as { ProjectName: string }).ProjectName, PROJECT);
  });
});

describe('MNS', () => {
  test('scoped keys have no message-service access; the root key does', async () => {
    const app = mnsClient({ ...server, keyId: APP.accessKeyId, secret: APP.accessKeySecret });
    await mnsRejects(app.createQueue('mx-q'), 'AccessDenied');
    await mnsRejects(app.get('/queues', 'Queues'), 'AccessDenied');
    await mnsRejects(app.createTopic('mx-t'), 'AccessDenied');
    const root = mnsClient(server);
    await root.createQueue('mx-q');
    await mnsRejects(app.sendMessage('mx-q', { MessageBody: 'hello' }), 'AccessDenied');
    await mnsRejects(app.receiveMessage('mx-q', 0), 'AccessDenied');
    await mnsRejects(app.delete('/queues/mx-q', 'Queue', ''), 'AccessDenied');
    await root.sendMessage('mx-q', { MessageBody: 'from root' });
    assert.equal((await root.receiveMessage('mx-q', 1)).body.MessageBody, 'from root', 'the refused calls changed nothing; root works');
  });
});

describe('per-key queued cap', () => {
  test(`a key with ${MAX_QUEUED} queued tasks is refused more (OSS 429 TooManyRequests, IMM LimitExceededError); other keys are not`, async () => {
    // OTHER has otherC queued already.
    for (let i = 1; i < MAX_QUEUED; i++) await convert(OTHER, [`oss://${C}/tone.wav`], [C, `cap/${i}.mp3`]);
    const body = await immRejects(convert(OTHER, [`oss://${C}/tone.wav`], [C, 'cap/over.mp3']), 400, 'LimitExceededError');
    assert.match(String(body.Message), new RegExp(`MEDLEY_MAX_QUEUED_PER_KEY = ${MAX_QUEUED}`));
    const r = await oss(OTHER, { method: 'POST', bucket: C, key: 'tone.wav', query: { 'x-oss-async-process': '' }, body: asyncBody(`audio/convert,f_mp3${saveas('cap/oss.mp3', C)}`) });
    assert.match(expect(r, 429, 'TooManyRequests', 'OSS over the cap').text, /MEDLEY_MAX_QUEUED_PER_KEY/);
    await convert(APP, [`oss://${A}/tone.wav`], [B, 'cap/app.mp3']);
    await convert('root', [`oss://${C}/tone.wav`], [C, 'cap/root.mp3']);
  });
});
