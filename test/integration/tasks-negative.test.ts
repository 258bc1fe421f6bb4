/**
 * Media tasks that must be refused, or that must fail cleanly, against the real server: x-oss-async-process
 * through ali-oss (and raw HTTP for anonymous callers), the IMM API through pop-core (RPC v1),
 * @alicloud/openapi-client (ACS3) and a hand-built RPC v1 request (spec/imm.md §1.5) for the gateway checks
 * (replayed nonce, bad Version, expired Timestamp). Each refusal is asserted on status, code and a message
 * that names the problem; no error is ever a 500, and every IMM error body has RequestId, HostId, Code and
 * Message. Also ListTasks paging with NextToken.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../support/server.js';
import { localhostAgent, makeAliClient, type AliClient, type OssError } from '../support/alioss.js';
import { rawRequest, xmlTag } from '../support/raw-client.js';
import { b64, openApiClient, popClient, submitAsyncProcess, waitForTask, type ImmCaller } from '../support/tasks.js';
import { tone } from '../support/media.js';
import type OSS from 'ali-oss';

const SRC = 'tneg-src';
const OUT = 'tneg-out';
const PUB = 'tneg-pub';
const PROJECT = 'tneg';
const LIST_PROJECT = 'tneg-list';
const OSS_PROJECT = 'medley-default';

/** Scoped keys (access-keys.json): one may only read the source bucket, the other may also write the output bucket. */
const READER = { accessKeyId: 'LTAItnegReader0001', accessKeySecret: 'ReaderSecret000000000000000001', buckets: { [SRC]: 'read' } };
const WRITER = { accessKeyId: 'LTAItnegWriter0001', accessKeySecret: 'WriterSecret000000000000000001', buckets: { [SRC]: 'read', [OUT]: 'read-write' } };
const WRONG_SECRET = 'WrongSecret00000000000000000000000';

const UPPER_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

let dataDir: string;
let fixtures: string;
let server: TestServer;
let root: AliClient;
let imm: ImmCaller;
const agent = localhostAgent();

const asOss = (c: AliClient) => c as unknown as OSS;
const saveas = (key: string, bucket?: string) => `|sys/saveas,${bucket ? `b_${b64(bucket)},` : ''}o_${b64(key)}`;

// ---------------------------------------------------------------------------------------------------------
// OSS error assertions.

/** The ali-oss error of a refused request: status, code, a message matching `message`, RequestId and HostId. */
async function ossRefusal(p: Promise<unknown>, status: number, code: string, message: RegExp): Promise<OssError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Error, `expected ${status} ${code}, but the request succeeded`);
  const err = caught as OssError;
  assert.ok(err.status < 500, `a ${err.status} (${err.code}): ${err.message}`);
  assert.equal(err.code, code, `expected code ${code}, got ${err.code} (${err.status}): ${err.message}`);
  assert.equal(err.status, status, `expected status ${status} for ${code}, got ${err.status}: ${err.message}`);
  assert.match(err.message, message);
  assert.match(err.requestId ?? '', /^[0-9A-F]{24}$/, 'the error carries the RequestId');
  assert.ok(err.hostId, 'the error carries the HostId');
  return err;
}

// ---------------------------------------------------------------------------------------------------------
// IMM error assertions.

type Body = Record<string, unknown>;
const plain = (v: unknown): Body => JSON.parse(JSON.stringify(v)) as Body;

/** Asserts an IMM error envelope: status (when known), Code, a Message matching `message`, RequestId and HostId. */
function assertImmError(status: number | undefined, body: Body, expected: { status: number; code: string; message: RegExp }): void {
  assert.equal(body.Code, expected.code, `expected ${expected.code}, got ${JSON.stringify(body)}`);
  if (status !== undefined) {
    assert.ok(status < 500, `HTTP ${status}: ${JSON.stringify(body)}`);
    assert.equal(status, expected.status, `HTTP status for ${expected.code}: ${JSON.stringify(body)}`);
  }
  assert.match(String(body.RequestId), UPPER_UUID, 'RequestId');
  assert.equal(typeof body.HostId, 'string', 'HostId');
  assert.notEqual(body.HostId, '', 'HostId');
  assert.equal(typeof body.Message, 'string', 'Message');
  assert.match(String(body.Message), expected.message);
}

/** The failure of an IMM call through pop-core or openapi-client: the HTTP status and the parsed body. */
async function immRefusal(p: Promise<unknown>, expected: { status: number; code: string; message: RegExp }): Promise<Body> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Error, `expected ${expected.code}, but the call succeeded`);
  const err = caught as Error & { data?: Body; statusCode?: number; entry?: { response?: { statusCode?: number } } };
  assert.ok(err.data, `expected an IMM error body, got ${String(caught)}`);
  // pop-core keeps the response in `entry`; openapi-client puts the status on the error.
  const status = err.entry?.response?.statusCode ?? err.statusCode;
  assert.ok(status !== undefined, 'the client exposes the HTTP status');
  const body = plain(err.data);
  assertImmError(status, body, expected);
  return body;
}

// ---------------------------------------------------------------------------------------------------------
// A hand-built RPC v1 request (spec/imm.md §1.4-1.5), independent of the server's and the SDKs' signers.

const percentEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function rpcV1Signature(method: string, params: Record<string, string>, secret: string): string {
  const canonical = Object.keys(params)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k]!)}`)
    .join('&');
  return createHmac('sha1', `${secret}&`)
    .update(`${method}&${percentEncode('/')}&${percentEncode(canonical)}`)
    .digest('base64');
}

/** `2024-08-20T07:03:07Z` (whole seconds, as the gateway expects). */
const rpcTimestamp = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A signed GET URL; `common` overrides the common parameters (Version, Timestamp, SignatureNonce, ...). */
function signedGetUrl(action: string, params: Record<string, string>, common: Record<string, string> = {}): string {
  const all: Record<string, string> = {
    Action: action,
    Version: '2020-09-30',
    Format: 'JSON',
    AccessKeyId: server.keyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    Timestamp: rpcTimestamp(new Date()),
    ...common,
    ...params,
  };
  const signature = rpcV1Signature('GET', all, server.secret);
  const query = Object.entries({ ...all, Signature: signature })
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
  return `${server.url}/?${query}`;
}

async function httpGet(url: string): Promise<{ status: number; body: Body }> {
  const r = await fetch(url);
  const text = await r.text();
  return { status: r.status, body: JSON.parse(text) as Body };
}

// ---------------------------------------------------------------------------------------------------------

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'medley-tneg-'));
  fixtures = await mkdtemp(join(tmpdir(), 'medley-tneg-fx-'));
  await writeFile(join(dataDir, 'access-keys.json'), JSON.stringify({ keys: [READER, WRITER] }));
  server = await startServer({ dataDir, env: { MEDLEY_WORKERS: '2' } });
  root = makeAliClient(server, agent, { bucket: SRC });
  imm = popClient(server);

  for (const b of [SRC, OUT]) await root.putBucket(b);
  await root.putBucket(PUB);
  await root.putBucketACL(PUB, 'public-read-write');
  for (const [name, freq] of [['a.wav', 440], ['b.wav', 660]] as const) {
    const file = tone(join(fixtures, name), freq, 1, ['-ac', '1']);
    await root.put(name, await readFile(file));
  }
  const pub = makeAliClient(server, agent, { bucket: PUB });
  await pub.put('a.wav', await readFile(join(fixtures, 'a.wav')));
  await root.put('text.wav', Buffer.from('This is plain text, not audio. '.repeat(200)));
  await imm.call('CreateProject', { ProjectName: PROJECT });
  await imm.call('CreateProject', { ProjectName: LIST_PROJECT });
});

after(async () => {
  agent.destroy();
  await server?.dispose();
  await rm(dataDir, { recursive: true, force: true });
  await rm(fixtures, { recursive: true, force: true });
});

describe('x-oss-async-process refusals', () => {
  test('an unknown parameter is a synchronous 400 InvalidArgument naming it', async () => {
    await ossRefusal(submitAsyncProcess(asOss(root), 'a.wav', `audio/convert,f_mp3,zzz_1${saveas('x/unknown.mp3')}`), 400, 'InvalidArgument', /zzz/);
  });

  test('a bad parameter value is a synchronous 400 InvalidArgument naming it', async () => {
    await ossRefusal(submitAsyncProcess(asOss(root), 'a.wav', `audio/convert,f_mp3,ar_12345${saveas('x/badvalue.mp3')}`), 400, 'InvalidArgument', /ar_12345|12345/);
    await ossRefusal(submitAsyncProcess(asOss(root), 'a.wav', `audio/convert,f_xyz${saveas('x/badformat.mp3')}`), 400, 'InvalidArgument', /xyz/);
  });

  test('no sys/saveas is 400 saying it is required', async () => {
    await ossRefusal(submitAsyncProcess(asOss(root), 'a.wav', 'audio/convert,f_mp3'), 400, 'InvalidArgument', /sys\/saveas/);
  });

  test('a missing URL object is 404 NoSuchKey', async () => {
    await ossRefusal(submitAsyncProcess(asOss(root), 'no-such-object.wav', `audio/convert,f_mp3${saveas('x/nokey.mp3')}`), 404, 'NoSuchKey', /key does not exist/i);
  });

  test('a missing /pre clip is 404 NoSuchKey naming the clip', async () => {
    const p = `audio/concat,f_mp3/pre,o_${b64('missing-pre.wav')}${saveas('x/nopre.mp3')}`;
    await ossRefusal(submitAsyncProcess(asOss(root), 'a.wav', p), 404, 'NoSuchKey', /missing-pre\.wav/);
  });

  test('a missing bucket is 404 NoSuchBucket', async () => {
    const client = makeAliClient(server, agent, { bucket: 'tneg-no-such-bucket' });
    await ossRefusal(submitAsyncProcess(asOss(client), 'a.wav', `audio/convert,f_mp3${saveas('x/nobucket.mp3')}`), 404, 'NoSuchBucket', /bucket does not exist/i);
  });

  test('an anonymous request is 403 AccessDenied, even on a public-read-write bucket', async () => {
    const body = `x-oss-async-process=audio/convert,f_mp3${saveas('x/anon.mp3')}`;
    const r = await rawRequest(server.url, { method: 'POST', bucket: PUB, key: 'a.wav', query: { 'x-oss-async-process': '' }, body });
    assert.equal(r.status, 403, r.text);
    assert.equal(xmlTag(r.text, 'Code'), 'AccessDenied', r.text);
    assert.match(xmlTag(r.text, 'Message') ?? '', /anonymous/i);
    assert.ok(xmlTag(r.text, 'RequestId'));
    assert.ok(xmlTag(r.text, 'HostId'));
    // The same request signed is accepted: the refusal was about the caller, not the request.
    const pub = makeAliClient(server, agent, { bucket: PUB });
    const ok = await submitAsyncProcess(asOss(pub), 'a.wav', `audio/convert,f_mp3${saveas('x/anon.mp3')}`);
    assert.match(ok.TaskId, /^MediaConvert-/);
  });

  test('more than 11 clips is 400 InvalidArgument', async () => {
    const pre = Array.from({ length: 11 }, () => `/pre,o_${b64('b.wav')}`).join('');
    await ossRefusal(submitAsyncProcess(asOss(root), 'a.wav', `audio/concat,f_mp3${pre}${saveas('x/twelve.mp3')}`), 400, 'InvalidArgument', /at most 11/);
  });

  test('a wrong secret is 403 SignatureDoesNotMatch', async () => {
    const client = makeAliClient({ ...server, secret: WRONG_SECRET }, agent, { bucket: SRC });
    await ossRefusal(submitAsyncProcess(asOss(client), 'a.wav', `audio/convert,f_mp3${saveas('x/badsig.mp3')}`), 403, 'SignatureDoesNotMatch', /signature/i);
  });

  test('saveas to a bucket the key may not write is 403 AccessDenied; with read-write it is accepted and runs', async () => {
    const asKey = (k: typeof READER) => makeAliClient({ ...server, keyId: k.accessKeyId, secret: k.accessKeySecret }, agent, { bucket: SRC });
    const p = `audio/convert,f_mp3${saveas('scoped/out.mp3', OUT)}`;
    await ossRefusal(submitAsyncProcess(asOss(asKey(READER)), 'a.wav', p), 403, 'AccessDenied', new RegExp(OUT));
    // Nor may it write next to the source (saveas without b_ means the source bucket, where it only reads).
    await ossRefusal(submitAsyncProcess(asOss(asKey(READER)), 'a.wav', `audio/convert,f_mp3${saveas('scoped/here.mp3')}`), 403, 'AccessDenied', new RegExp(SRC));
    const ok = await submitAsyncProcess(asOss(asKey(WRITER)), 'a.wav', p);
    assert.equal(ok.status, 200);
    const done = await waitForTask(imm, OSS_PROJECT, ok.TaskId);
    assert.equal(done.Status, 'Succeeded', JSON.stringify(done));
    const head = await makeAliClient(server, agent, { bucket: OUT }).head('scoped/out.mp3');
    assert.equal(head.status, 200);
  });

  test('image/resize cannot run asynchronously: 404 "Imm Client"', async () => {
    await ossRefusal(submitAsyncProcess(asOss(root), 'a.wav', `image/resize,w_100${saveas('x/resized.jpg')}`), 404, 'Imm Client', /image\/resize/);
  });
});

describe('IMM refusals and failed tasks', () => {
  const target = (key: string) => JSON.stringify([{ URI: `oss://${SRC}/${key}`, Container: 'mp3', Audio: { TranscodeAudio: { Codec: 'mp3' } } }]);
  const create = (params: Record<string, unknown>) => imm.call('CreateMediaConvertTask', { ProjectName: PROJECT, ...params });

  test('the hand-built signer matches the spec/imm.md §1.5 test vector', () => {
    const params = {
      AccessKeyId: 'testid',
      Action: 'GetTask',
      Format: 'JSON',
      ProjectName: 'test-project',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      SignatureVersion: '1.0',
      TaskId: 'MediaConvert-db7faf5a-99c5-4afe-8309-d167fe530000',
      TaskType: 'MediaConvert',
      Timestamp: '2024-08-20T07:03:07Z',
      Version: '2020-09-30',
    };
    assert.equal(rpcV1Signature('GET', params, 'testsecret'), 'Syxxklb+bwiAHfIxGWYVPCI/WjM=');
  });

  test('more than 11 Sources is 400 InvalidArgument', async () => {
    const sources = JSON.stringify(Array.from({ length: 12 }, () => ({ URI: `oss://${SRC}/a.wav` })));
    await immRefusal(create({ Sources: sources, Targets: target('imm/twelve.mp3') }), { status: 400, code: 'InvalidArgument', message: /Sources.*11|11.*Sources|at most 11/ });
  });

  test('a missing source object: the call succeeds, the task fails with ResourceNotFound naming the URI', async () => {
    const uri = `oss://${SRC}/imm-missing.wav`;
    const r = await create({ Sources: JSON.stringify([{ URI: uri }]), Targets: target('imm/missing.mp3') });
    assert.match(String(r.TaskId), /^MediaConvert-/);
    const t = await waitForTask(imm, PROJECT, String(r.TaskId));
    assert.equal(t.Status, 'Failed', JSON.stringify(t));
    assert.equal(t.Code, 'ResourceNotFound');
    assert.ok(t.Message.includes(uri), `message names ${uri}: ${t.Message}`);
    assert.equal(t.Progress, 100);
    // As with real IMM, the GetTask of a Failed task is an HTTP 200 whose body carries the task's Code, so
    // pop-core raises: the body is on err.data.
    let raised: (Error & { code?: string; data?: Body; entry?: { response?: { statusCode?: number } } }) | undefined;
    try {
      await imm.call('GetTask', { ProjectName: PROJECT, TaskId: r.TaskId, TaskType: 'MediaConvert' });
    } catch (e) {
      raised = e as typeof raised;
    }
    assert.ok(raised?.data, 'pop-core raises on the Failed task');
    assert.equal(raised.code, 'ResourceNotFound');
    assert.equal(raised.entry?.response?.statusCode, 200);
    assert.equal(raised.data.Status, 'Failed');
    assert.equal(raised.data.TaskId, r.TaskId);
  });

  test('an unknown project is ResourceNotFound', async () => {
    const p = imm.call('CreateMediaConvertTask', { ProjectName: 'tneg-no-such-project', Sources: JSON.stringify([{ URI: `oss://${SRC}/a.wav` }]), Targets: target('imm/noproj.mp3') });
    await immRefusal(p, { status: 400, code: 'ResourceNotFound', message: /project/ });
    await immRefusal(imm.call('ListTasks', { ProjectName: 'tneg-no-such-project' }), { status: 400, code: 'ResourceNotFound', message: /project/ });
  });

  test('a wrong secret is SignatureDoesNotMatch, through pop-core (v1) and openapi-client (ACS3)', async () => {
    const bad = { url: server.url, keyId: server.keyId, secret: WRONG_SECRET };
    const v1 = await immRefusal(popClient(bad).call('GetProject', { ProjectName: PROJECT }), { status: 400, code: 'SignatureDoesNotMatch', message: /signature/i });
    assert.match(String(v1.Message), /string to sign is:GET&%2F&|string to sign is:POST&%2F&/);
    const v3 = await immRefusal(openApiClient(bad).call('GetProject', { ProjectName: PROJECT }), { status: 400, code: 'SignatureDoesNotMatch', message: /signature/i });
    assert.match(String(v3.Message), /ACS3-HMAC-SHA256/);
  });

  test('an unknown AccessKeyId is InvalidAccessKeyId.NotFound', async () => {
    const unknown = { url: server.url, keyId: 'LTAItnegNobody0001', secret: server.secret };
    await immRefusal(popClient(unknown).call('GetProject', { ProjectName: PROJECT }), { status: 404, code: 'InvalidAccessKeyId.NotFound', message: /access key/i });
  });

  test('a replayed request (same SignatureNonce) is refused the second time: 400 SignatureNonceUsed', async () => {
    const url = signedGetUrl('GetProject', { ProjectName: PROJECT }, { SignatureNonce: `tneg-replay-${randomUUID()}` });
    const first = await httpGet(url);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal((first.body.Project as Body).ProjectName, PROJECT);
    const second = await httpGet(url);
    assertImmError(second.status, second.body, { status: 400, code: 'SignatureNonceUsed', message: /nonce/i });
  });

  test('a bad Version is 400 InvalidParameter', async () => {
    const r = await httpGet(signedGetUrl('GetProject', { ProjectName: PROJECT }, { Version: '2017-09-06' }));
    assertImmError(r.status, r.body, { status: 400, code: 'InvalidParameter', message: /Version/ });
  });

  test('an unknown Action is 404 InvalidAction.NotFound', async () => {
    await immRefusal(imm.call('DeleteVideoTask', { ProjectName: PROJECT }), { status: 404, code: 'InvalidAction.NotFound', message: /api is not found/i });
  });

  test('an expired Timestamp is 400 InvalidTimeStamp.Expired', async () => {
    const r = await httpGet(signedGetUrl('GetProject', { ProjectName: PROJECT }, { Timestamp: rpcTimestamp(new Date(Date.now() - 20 * 60 * 1000)) }));
    assertImmError(r.status, r.body, { status: 400, code: 'InvalidTimeStamp.Expired', message: /expired/i });
  });

  test('invalid JSON in Sources is 400 InvalidJSON naming Sources', async () => {
    await immRefusal(create({ Sources: '[{"URI":"oss://tneg-src/a.wav"', Targets: target('imm/badjson.mp3') }), { status: 400, code: 'InvalidJSON', message: /Sources/ });
  });

  test('a source that is not media fails the task with InvalidFile.Media', async () => {
    const uri = `oss://${SRC}/text.wav`;
    const r = await create({ Sources: JSON.stringify([{ URI: uri }]), Targets: target('imm/text.mp3') });
    const t = await waitForTask(imm, PROJECT, String(r.TaskId));
    assert.equal(t.Status, 'Failed', JSON.stringify(t));
    assert.equal(t.Code, 'InvalidFile.Media');
    assert.ok(t.Message.includes(uri), `message names ${uri}: ${t.Message}`);
    // Nothing was written for it.
    await assert.rejects(root.head('imm/text.mp3'), (e: OssError) => e.status === 404);
  });

  test('GetTask with a wrong TaskType or another project is ResourceNotFound', async () => {
    const r = await create({ Sources: JSON.stringify([{ URI: `oss://${SRC}/a.wav` }]), Targets: target('imm/gettask.mp3') });
    const taskId = String(r.TaskId);
    const done = await waitForTask(imm, PROJECT, taskId);
    assert.equal(done.Status, 'Succeeded', JSON.stringify(done));
    const expected = { status: 400, code: 'ResourceNotFound', message: /task/ };
    await immRefusal(imm.call('GetTask', { ProjectName: PROJECT, TaskId: taskId, TaskType: 'VideoLabelClassification' }), expected);
    await immRefusal(imm.call('GetTask', { ProjectName: LIST_PROJECT, TaskId: taskId, TaskType: 'MediaConvert' }), expected);
    await immRefusal(imm.call('GetTask', { ProjectName: PROJECT, TaskId: 'MediaConvert-00000000-0000-4000-8000-000000000000', TaskType: 'MediaConvert' }), expected);
  });

  test('ListTasks pages with MaxResults and NextToken (ACS3), Order=desc reverses, a garbage NextToken is 400', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await imm.call('CreateMediaConvertTask', {
        ProjectName: LIST_PROJECT,
        Sources: JSON.stringify([{ URI: `oss://${SRC}/a.wav` }]),
        Targets: JSON.stringify([{ URI: `oss://${OUT}/list/${i}.mp3`, Container: 'mp3', Audio: { TranscodeAudio: { Codec: 'mp3' } } }]),
      });
      ids.push(String(r.TaskId));
    }
    const acs3 = openApiClient(server);
    const walk = async (order?: 'desc') => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let token = '';
      for (let page = 0; page < 10; page++) {
        const r = await acs3.call('ListTasks', { ProjectName: LIST_PROJECT, MaxResults: 2, ...(token ? { NextToken: token } : {}), ...(order ? { Order: order } : {}) });
        const tasks = r.Tasks as Body[];
        sizes.push(tasks.length);
        assert.equal(r.MaxResults, String(tasks.length), 'MaxResults is the page length, as a string');
        seen.push(...tasks.map((t) => String(t.TaskId)));
        token = String(r.NextToken ?? '');
        if (!token) break;
      }
      return { seen, sizes };
    };
    const asc = await walk();
    assert.deepEqual(asc.sizes, [2, 2, 1]);
    assert.deepEqual([...asc.seen].sort(), [...ids].sort(), 'every task exactly once');
    assert.deepEqual(asc.seen, [...asc.seen].sort(), 'ascending by TaskId');
    const desc = await walk('desc');
    assert.deepEqual(desc.sizes, [2, 2, 1]);
    assert.deepEqual(desc.seen, [...asc.seen].reverse(), 'Order=desc reverses');

    await immRefusal(acs3.call('ListTasks', { ProjectName: LIST_PROJECT, MaxResults: 2, NextToken: 'not-a-token!!' }), { status: 400, code: 'InvalidArgument', message: /NextToken/ });
    await immRefusal(imm.call('ListTasks', { ProjectName: LIST_PROJECT, NextToken: Buffer.from('["TaskId"]').toString('base64url') }), { status: 400, code: 'InvalidArgument', message: /NextToken/ });
    // Let them finish so the server stops with idle workers.
    for (const id of ids) assert.equal((await waitForTask(imm, LIST_PROJECT, id)).Status, 'Succeeded');
  });
});
