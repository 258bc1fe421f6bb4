/**
 * Task-completion notifications through MNS topics to MNS queues, against a real `medley serve` and only
 * official clients: queues, topics and subscriptions are made and read with @alicloud/mns, tasks are
 * submitted through ali-oss (x-oss-async-process with `/notify,topic_...`) and @alicloud/pop-core
 * (CreateMediaConvertTask with Notification.MNS.TopicName). Every field of the message (spec/imm.md
 * §5.2-5.3, spec/oss.md §6.1) is checked against the submit response and GetTask; the SIMPLIFIED, JSON and
 * XML subscription formats; a Failed task; a topic that does not exist (the task still Succeeds and the
 * outbox row is `undeliverable`) and one created on demand (MEDLEY_MNS_AUTO_CREATE_TOPICS). Malformed MNS
 * requests over raw HTTP are MNS error documents with a 4xx, never a 500.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import type OSS from 'ali-oss';
import { startServer, type TestServer } from '../support/server.js';
import { localhostAgent, makeAliClient } from '../support/alioss.js';
import { b64, popClient, submitAsyncProcess, waitForTask, type ImmCaller } from '../support/tasks.js';
import { tone } from '../support/media.js';
import {
  acsQueue,
  assertQueueEmpty,
  assertTaskNotification,
  md5Upper,
  mnsClient,
  mnsRejects,
  outboxRows,
  pushRows,
  queueMessagesContaining,
  rawMns,
  subscribe,
  waitForOutbox,
  type MnsClient,
  type RawResponse,
} from '../support/mns.js';

/** Not the default account id: the subject, TopicOwner and queue endpoints must follow the configuration. */
const ACCOUNT = '1234567890123456';
const SRC = 'nq-src';
const OUT = 'nq-out';
const PROJECT = 'nq-project';
const OSS_PROJECT = 'medley-default';
const A = 't440.wav';
const B = 't660.wav';

const agent = localhostAgent();
let fixtures: string;
let server: TestServer;
let imm: ImmCaller;
let mns: MnsClient;

before(async () => {
  fixtures = await mkdtemp(join(tmpdir(), 'medley-nq-fx-'));
  server = await startServer({ env: { MEDLEY_ACCOUNT_ID: ACCOUNT, MEDLEY_WORKERS: '2' } });
  imm = popClient(server);
  mns = mnsClient(server, ACCOUNT);
  const root = makeAliClient(server, agent, { bucket: SRC });
  await root.putBucket(SRC);
  await root.putBucket(OUT);
  for (const [name, freq] of [
    [A, 440],
    [B, 660],
  ] as const) {
    await root.put(name, await readFile(tone(join(fixtures, name), freq, 1)));
  }
  await imm.call('CreateProject', { ProjectName: PROJECT });
});
after(async () => {
  agent.destroy();
  await server?.dispose();
  if (fixtures) await rm(fixtures, { recursive: true, force: true });
});

/** GetTask once the task has ended (pop-core raises on Failed: waitForTask takes the body from the error). */
async function ended(project: string, taskId: string): Promise<Record<string, unknown>> {
  return (await waitForTask(imm, project, taskId, 30_000)) as Record<string, unknown>;
}

/** A topic with one queue subscribed per format; returns the queue names by format. */
async function topicWithQueues(topic: string, formats: Array<'SIMPLIFIED' | 'JSON' | 'XML'>): Promise<Record<string, string>> {
  assert.equal((await mns.createTopic(topic)).code, 201);
  const queues: Record<string, string> = {};
  for (const f of formats) {
    const q = `${topic}-${f.toLowerCase()}`;
    assert.equal((await mns.createQueue(q)).code, 201);
    assert.equal(await subscribe(mns, topic, `sub-${f.toLowerCase()}`, { Endpoint: acsQueue(ACCOUNT, q), NotifyContentFormat: f }), 201);
    queues[f] = q;
  }
  return queues;
}

/**
 * CreateMediaConvertTask: the sources concatenated into one MP3 at `oss://OUT/<key>`. Notification as a JSON
 * string (what the SDKs send), or in pop-core's flattened form (`Notification.MNS.TopicName`).
 */
async function immTask(topic: string, sources: string[], key: string, userData: string, flattened = false): Promise<{ TaskId: string; EventId: string; RequestId: string }> {
  const r = await imm.call('CreateMediaConvertTask', {
    ProjectName: PROJECT,
    Sources: JSON.stringify(sources.map((URI) => ({ URI }))),
    Targets: JSON.stringify([{ URI: `oss://${OUT}/${key}`, Container: 'mp3', Audio: { TranscodeAudio: { Codec: 'mp3' } } }]),
    ...(flattened ? { 'Notification.MNS.TopicName': topic } : { Notification: JSON.stringify({ MNS: { TopicName: topic } }) }),
    UserData: userData,
  });
  return { TaskId: String(r.TaskId), EventId: String(r.EventId), RequestId: String(r.RequestId) };
}

/** Receives, checks the MD5 and the first dequeue, deletes with the receipt handle, and checks the queue is empty. */
async function takeOne(queue: string, waitSeconds: number): Promise<string> {
  const got = await mns.receiveMessage(queue, waitSeconds);
  assert.equal(got.code, 200);
  const m = got.body;
  assert.match(m.MessageId!, /^[0-9A-F]{32}$/);
  assert.equal(m.MessageBodyMD5, md5Upper(m.MessageBody!));
  assert.equal(m.DequeueCount, '1');
  assert.match(m.ReceiptHandle!, /\S/);
  const del = await mns.deleteMessage(queue, m.ReceiptHandle!);
  assert.equal(del.code, 204);
  await assertQueueEmpty(mns, queue);
  return m.MessageBody!;
}

describe('task completion → topic → queue', () => {
  test('OSS x-oss-async-process with /notify,topic_: a SIMPLIFIED queue gets the documented message once', async () => {
    const topic = 'nq-oss-done';
    const { SIMPLIFIED: q } = await topicWithQueues(topic, ['SIMPLIFIED']);
    // The long poll is waiting before the task is even submitted.
    const polled = mns.receiveMessage(q!, 30);
    const t0 = Date.now();
    const src = makeAliClient(server, agent, { bucket: SRC }) as unknown as OSS;
    const p = `audio/concat,f_mp3/pre,o_${b64(A)}|sys/saveas,b_${b64(OUT)},o_${b64('oss/{barename}-joined.{autoext}')}/notify,topic_${b64(topic)}`;
    const sub = await submitAsyncProcess(src, B, p);
    assert.equal(sub.status, 200);
    const t = await ended(OSS_PROJECT, sub.TaskId);
    assert.equal(t.Status, 'Succeeded', JSON.stringify(t));

    const got = await polled;
    assert.ok(Date.now() - t0 < 25_000, 'the long poll returned with the message');
    const m = got.body;
    assert.equal(m.MessageBodyMD5, md5Upper(m.MessageBody!));
    assert.equal(m.DequeueCount, '1');
    assertTaskNotification(m.MessageBody!, {
      accountId: ACCOUNT,
      project: OSS_PROJECT,
      eventId: sub.EventId,
      requestId: sub.RequestId,
      taskId: sub.TaskId,
      getTask: t,
      userData: '',
      // /pre clips first, then the object in the URL.
      sources: [`oss://${SRC}/${A}`, `oss://${SRC}/${B}`],
      target: `oss://${OUT}/oss/t660-joined.mp3`,
      status: 'Succeeded',
    });
    assert.ok(Number(JSON.parse(m.MessageBody!).time) >= t0 - 1000, 'time is after the submit');
    // The resolved target really is where the output went.
    const head = await (makeAliClient(server, agent, { bucket: OUT }) as unknown as OSS).head('oss/t660-joined.mp3');
    assert.equal(head.status, 200);

    assert.equal((await mns.deleteMessage(q!, m.ReceiptHandle!)).code, 204);
    await assertQueueEmpty(mns, q!);
    const rows = await outboxRows(server.dataDir, sub.TaskId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.state, 'published');
    assert.equal(rows[0]!.topic, topic);
    assert.equal(rows[0]!.body, m.MessageBody);
    assert.match(rows[0]!.message_id!, /^[0-9A-F]{32}$/);
  });

  test('OSS route on a bucket attached to a project (AttachOSSBucket): the message names that project', async () => {
    const topic = 'nq-attached-done';
    const bucket = 'nq-attached';
    const { SIMPLIFIED: q } = await topicWithQueues(topic, ['SIMPLIFIED']);
    const oss = makeAliClient(server, agent, { bucket });
    await oss.putBucket(bucket);
    await oss.put('in/clip.wav', await readFile(join(fixtures, A)));
    await imm.call('AttachOSSBucket', { ProjectName: PROJECT, OSSBucket: bucket });
    // Standard padded base64 for the topic (what ali-oss users often write) is accepted as well.
    const p = `audio/convert,f_mp3|sys/saveas,o_${b64('out/{barename}.{autoext}')}/notify,topic_${Buffer.from(topic).toString('base64')}`;
    const sub = await submitAsyncProcess(oss as unknown as OSS, 'in/clip.wav', p);
    const t = await ended(PROJECT, sub.TaskId);
    assert.equal(t.Status, 'Succeeded', JSON.stringify(t));
    const body = await takeOne(q!, 10);
    assertTaskNotification(body, {
      accountId: ACCOUNT,
      project: PROJECT,
      eventId: sub.EventId,
      requestId: sub.RequestId,
      taskId: sub.TaskId,
      getTask: t,
      userData: '',
      sources: [`oss://${bucket}/in/clip.wav`],
      target: `oss://${bucket}/out/clip.mp3`,
      status: 'Succeeded',
    });
  });

  test('IMM CreateMediaConvertTask with Notification.MNS.TopicName: a SIMPLIFIED queue gets the documented message once', async () => {
    const topic = 'nq-imm-done';
    const { SIMPLIFIED: q } = await topicWithQueues(topic, ['SIMPLIFIED']);
    const userData = '{"job":"nq-imm","n":1,"quote":"a \\"b\\" <c> & d"}';
    const polled = mns.receiveMessage(q!, 30);
    const sub = await immTask(topic, [`oss://${SRC}/${B}`, `oss://${SRC}/${A}`], 'imm/{barename}-cat.{autoext}', userData);
    assert.match(sub.RequestId, /^[0-9A-F-]{36}$/);
    const t = await ended(PROJECT, sub.TaskId);
    assert.equal(t.Status, 'Succeeded', JSON.stringify(t));
    const m = (await polled).body;
    assertTaskNotification(m.MessageBody!, {
      accountId: ACCOUNT,
      project: PROJECT,
      eventId: sub.EventId,
      requestId: sub.RequestId,
      taskId: sub.TaskId,
      getTask: t,
      userData,
      sources: [`oss://${SRC}/${B}`, `oss://${SRC}/${A}`],
      target: `oss://${OUT}/imm/t660-cat.mp3`,
      status: 'Succeeded',
    });
    assert.equal((await mns.deleteMessage(q!, m.ReceiptHandle!)).code, 204);
    await assertQueueEmpty(mns, q!);
  });

  test('JSON and XML subscriptions wrap the same message in MNS notification fields', async () => {
    const topic = 'nq-formats';
    const queues = await topicWithQueues(topic, ['JSON', 'XML', 'SIMPLIFIED']);
    const sub = await immTask(topic, [`oss://${SRC}/${A}`], 'fmt/out.{autoext}', '');
    const t = await ended(PROJECT, sub.TaskId);
    assert.equal(t.Status, 'Succeeded', JSON.stringify(t));
    const expected = { accountId: ACCOUNT, project: PROJECT, eventId: sub.EventId, requestId: sub.RequestId, taskId: sub.TaskId, getTask: t, userData: '', sources: [`oss://${SRC}/${A}`], target: `oss://${OUT}/fmt/out.mp3`, status: 'Succeeded' as const };

    const simplified = await takeOne(queues.SIMPLIFIED!, 10);
    assertTaskNotification(simplified, expected);
    const [row] = await outboxRows(server.dataDir, sub.TaskId);
    assert.equal(row?.state, 'published');

    const jsonText = await takeOne(queues.JSON!, 10);
    const json = JSON.parse(jsonText) as Record<string, string>;
    assert.deepEqual(Object.keys(json), ['TopicOwner', 'TopicName', 'Subscriber', 'SubscriptionName', 'MessageId', 'MessageMD5', 'MessageTag', 'PublishTime', 'Message']);
    assert.deepEqual(json, {
      TopicOwner: ACCOUNT,
      TopicName: topic,
      Subscriber: ACCOUNT,
      SubscriptionName: 'sub-json',
      MessageId: row!.message_id,
      MessageMD5: md5Upper(simplified),
      MessageTag: '',
      PublishTime: String(row!.published_at),
      Message: simplified,
    });
    assert.ok(Number(json.PublishTime) >= Date.parse(t.EndTime as string), 'published after the task ended');

    const xmlText = await takeOne(queues.XML!, 10);
    assert.match(xmlText, /^<\?xml version="1.0" encoding="UTF-8"\?>\s*<Notification xmlns="http:\/\/mns.aliyuncs.com\/doc\/v1\/">/);
    const order = [...xmlText.matchAll(/<(\w+)>/g)].map((x) => x[1]);
    assert.deepEqual(order, ['TopicOwner', 'TopicName', 'Subscriber', 'SubscriptionName', 'MessageId', 'Message', 'MessageMD5', 'MessageTag', 'PublishTime']);
    const n = (new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: false }).parse(xmlText) as { Notification: Record<string, string> }).Notification;
    assert.equal(n.TopicOwner, ACCOUNT);
    assert.equal(n.TopicName, topic);
    assert.equal(n.Subscriber, ACCOUNT);
    assert.equal(n.SubscriptionName, 'sub-xml');
    assert.equal(n.MessageId, row!.message_id);
    assert.equal(n.Message, simplified, 'the XML Message unescapes to the very same envelope');
    assert.equal(n.MessageMD5, md5Upper(simplified));
    assert.equal(n.MessageTag ?? '', '');
    assert.equal(n.PublishTime, String(row!.published_at));
  });

  test('a Failed task (missing source; Notification in pop-core\'s flattened form) publishes Status Failed with its Code and Message', async () => {
    const topic = 'nq-failed';
    const { SIMPLIFIED: q } = await topicWithQueues(topic, ['SIMPLIFIED']);
    const missing = `oss://${SRC}/no-such-clip.wav`;
    const sub = await immTask(topic, [missing], 'failed/out.{autoext}', 'failing', true);
    const t = await ended(PROJECT, sub.TaskId);
    assert.equal(t.Status, 'Failed', JSON.stringify(t));
    assert.equal(t.Code, 'ResourceNotFound');
    const body = await takeOne(q!, 10);
    const content = assertTaskNotification(body, {
      accountId: ACCOUNT,
      project: PROJECT,
      eventId: sub.EventId,
      requestId: sub.RequestId,
      taskId: sub.TaskId,
      getTask: t,
      userData: 'failing',
      sources: [missing],
      target: '',
      status: 'Failed',
      code: 'ResourceNotFound',
      message: t.Message as string,
    });
    assert.ok(String(content.Message).includes(missing), `the message names the source: ${String(content.Message)}`);
  });

  test('a topic that does not exist: the task still Succeeds, nothing is delivered, the outbox row is undeliverable', async () => {
    // A bystander topic and queue: nothing may reach them.
    const { SIMPLIFIED: bystander } = await topicWithQueues('nq-bystander', ['SIMPLIFIED']);
    const topic = 'nq-no-such-topic';
    await mnsRejects(mns.getTopicAttributes(topic), 'TopicNotExist');
    const sub = await immTask(topic, [`oss://${SRC}/${A}`], 'nowhere/out.{autoext}', '');
    const t = await ended(PROJECT, sub.TaskId);
    assert.equal(t.Status, 'Succeeded', JSON.stringify(t));
    assert.equal(t.Code, '');
    const rows = await waitForOutbox(server.dataDir, sub.TaskId, (r) => r.length === 1 && r[0]!.state !== 'pending');
    assert.equal(rows[0]!.state, 'undeliverable');
    assert.equal(rows[0]!.topic, topic);
    assert.match(rows[0]!.detail, new RegExp(`${topic}.*not exist`));
    assert.equal(rows[0]!.message_id, null);
    // The body was still composed correctly (it is what would have been published).
    assertTaskNotification(rows[0]!.body, { accountId: ACCOUNT, project: PROJECT, eventId: sub.EventId, requestId: sub.RequestId, taskId: sub.TaskId, getTask: t, userData: '', sources: [`oss://${SRC}/${A}`], target: `oss://${OUT}/nowhere/out.mp3`, status: 'Succeeded' });
    assert.deepEqual(await queueMessagesContaining(server.dataDir, sub.TaskId), [], 'no queue holds the message');
    assert.deepEqual(
      (await pushRows(server.dataDir)).filter((p) => p.message_body.includes(sub.TaskId)),
      [],
      'no push was queued',
    );
    await assertQueueEmpty(mns, bystander!);
    await mnsRejects(mns.getTopicAttributes(topic), 'TopicNotExist');
    // GetTask stays Succeeded after the notification failed.
    assert.equal((await ended(PROJECT, sub.TaskId)).Status, 'Succeeded');
  });
});

describe('MEDLEY_MNS_AUTO_CREATE_TOPICS=true', () => {
  let auto: TestServer;
  before(async () => {
    auto = await startServer({ env: { MEDLEY_MNS_AUTO_CREATE_TOPICS: 'true', MEDLEY_WORKERS: '1' } });
  });
  after(async () => {
    await auto?.dispose();
  });

  test('a task naming a missing topic creates it on demand', async () => {
    const c = mnsClient(auto);
    const topic = 'nq-made-on-demand';
    await mnsRejects(c.getTopicAttributes(topic), 'TopicNotExist');
    const oss = makeAliClient(auto, agent, { bucket: 'nq-auto' });
    await oss.putBucket('nq-auto');
    await oss.put(A, await readFile(join(fixtures, A)));
    const sub = await submitAsyncProcess(oss as unknown as OSS, A, `audio/convert,f_mp3|sys/saveas,o_${b64('auto.mp3')}/notify,topic_${b64(topic)}`, { urlencoded: true });
    const t = (await waitForTask(popClient(auto), OSS_PROJECT, sub.TaskId, 30_000)) as Record<string, unknown>;
    assert.equal(t.Status, 'Succeeded', JSON.stringify(t));
    const rows = await waitForOutbox(auto.dataDir, sub.TaskId, (r) => r.length === 1 && r[0]!.state !== 'pending');
    assert.equal(rows[0]!.state, 'published', rows[0]!.detail);
    assertTaskNotification(rows[0]!.body, {
      accountId: '1000000000000001',
      project: OSS_PROJECT,
      eventId: sub.EventId,
      requestId: sub.RequestId,
      taskId: sub.TaskId,
      getTask: t,
      userData: '',
      sources: [`oss://nq-auto/${A}`],
      target: 'oss://nq-auto/auto.mp3',
      status: 'Succeeded',
    });
    const attrs = await c.getTopicAttributes(topic);
    assert.equal(attrs.code, 200);
    assert.equal(attrs.body.TopicName, topic);
    assert.equal(attrs.body.MaximumMessageSize, '65536');
    // It is an ordinary topic from now on: subscribe a queue and publish to it.
    await c.createQueue('nq-auto-q');
    await subscribe(c, topic, 's', { Endpoint: acsQueue('1000000000000001', 'nq-auto-q'), NotifyContentFormat: 'SIMPLIFIED' });
    await c.publishMessage(topic, { MessageBody: 'after' });
    assert.equal((await c.receiveMessage('nq-auto-q', 5)).body.MessageBody, 'after');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Malformed MNS requests over raw HTTP, to the real server's MNS endpoint
// ---------------------------------------------------------------------------------------------------------------

const errorParser = new XMLParser({ ignoreAttributes: false, parseTagValue: false });

/** An MNS `<Error>` document with a 4xx status (and, when given, exactly `status` and `code`). */
function assertMnsError(r: RawResponse, status?: number, code?: string): Record<string, string> {
  assert.ok(r.status >= 400 && r.status < 500, `a 4xx, not ${r.status}: ${r.body}`);
  if (status !== undefined) assert.equal(r.status, status, r.body);
  assert.match(String(r.headers['content-type']), /^text\/xml/);
  assert.match(String(r.headers['x-mns-request-id']), /^[0-9A-F]{24}$/);
  const e = (errorParser.parse(r.body) as { Error?: Record<string, string> }).Error;
  assert.ok(e, `an <Error> document: ${r.body}`);
  assert.equal(e['@_xmlns'], 'http://mns.aliyuncs.com/doc/v1/');
  if (code !== undefined) assert.equal(e.Code, code, e.Message);
  assert.ok(e.Code && e.Message, r.body);
  assert.equal(e.RequestId, r.headers['x-mns-request-id']);
  return e;
}

describe('malformed MNS requests to the server (raw HTTP): MNS error XML, 4xx, never 500', () => {
  const q = 'nq-raw';
  before(async () => {
    await mns.createQueue(q);
    await mns.createTopic('nq-raw-topic');
  });

  test('no signature, bad signature, unknown key', async () => {
    assertMnsError(await rawMns(server, mns, 'GET', `/queues/${q}`, { sign: 'none' }), 400, 'MissingAuthorizationHeader');
    assertMnsError(await rawMns(server, mns, 'GET', `/queues/${q}`, { sign: 'bad' }), 403, 'SignatureDoesNotMatch');
    assertMnsError(await rawMns(server, mns, 'POST', `/queues/${q}/messages`, { sign: 'bad', body: '<Message><MessageBody>x</MessageBody></Message>' }), 403, 'SignatureDoesNotMatch');
    assertMnsError(await rawMns(server, mns, 'POST', '/topics/nq-raw-topic/messages', { sign: 'none', body: '<Message><MessageBody>x</MessageBody></Message>' }), 400, 'MissingAuthorizationHeader');
    assertMnsError(await rawMns(server, mns, 'GET', `/queues/${q}`, { headers: { authorization: 'MNS LTAI5tNobodyKnows:AAAA' }, sign: 'none' }), 403, 'InvalidAccessKeyId');
    assertMnsError(await rawMns(server, mns, 'GET', `/queues/${q}`, { headers: { authorization: 'garbage' }, sign: 'none' }), 400);
    // The OSS key pair is not an OSS signature scheme here.
    assertMnsError(await rawMns(server, mns, 'GET', `/queues/${q}`, { headers: { authorization: `OSS ${server.keyId}:AAAA` }, sign: 'none' }), 400);
  });

  test('bad XML', async () => {
    assertMnsError(await rawMns(server, mns, 'POST', `/queues/${q}/messages`, { body: '<Message><MessageBody>x</Message>' }), 400, 'MalformedXML');
    assertMnsError(await rawMns(server, mns, 'POST', `/queues/${q}/messages`, { body: '{"MessageBody":"json?"}' }), 400, 'MalformedXML');
    assertMnsError(await rawMns(server, mns, 'POST', '/topics/nq-raw-topic/messages', { body: '<Message><MessageBody>x' }), 400, 'MalformedXML');
    assertMnsError(await rawMns(server, mns, 'PUT', '/topics/nq-raw-topic/subscriptions/s', { body: '<Subscription><Endpoint>' }), 400, 'MalformedXML');
    assertMnsError(await rawMns(server, mns, 'PUT', '/topics/nq-raw-topic/subscriptions/s', { body: '<Subscription><Endpoint>ftp://x/y</Endpoint></Subscription>' }), 400);
    assertMnsError(await rawMns(server, mns, 'PUT', `/queues/nq-raw-bad`, { body: '<Queue><VisibilityTimeout>soon</VisibilityTimeout></Queue>' }), 400, 'InvalidArgument');
    assertMnsError(await rawMns(server, mns, 'POST', '/topics/nq-raw-topic/messages', { body: '<!DOCTYPE x [<!ENTITY a "b">]><Message><MessageBody>&a;</MessageBody></Message>' }), 400, 'MalformedXML');
    assertMnsError(await rawMns(server, mns, 'POST', `/queues/${q}/messages`, { body: Buffer.from([0x3c, 0xff, 0xfe, 0x00, 0x3e]) }), 400);
  });

  test('unknown paths and methods', async () => {
    assertMnsError(await rawMns(server, mns, 'GET', '/'), 404, 'InvalidRequestURL');
    assertMnsError(await rawMns(server, mns, 'GET', '/buckets/x'), 404, 'InvalidRequestURL');
    assertMnsError(await rawMns(server, mns, 'PATCH', `/queues/${q}`), 404, 'InvalidRequestURL');
    assertMnsError(await rawMns(server, mns, 'GET', '/topics/nq-raw-topic/subscriptions/s/extra'), 404, 'InvalidRequestURL');
    assertMnsError(await rawMns(server, mns, 'GET', '/queues/%zz'));
    assertMnsError(await rawMns(server, mns, 'POST', '/topics/nq-raw-missing/messages', { body: '<Message><MessageBody>x</MessageBody></Message>' }), 404, 'TopicNotExist');
    assertMnsError(await rawMns(server, mns, 'GET', '/queues/nq-raw-missing/messages'), 404, 'QueueNotExist');
  });

  test('huge bodies, declared or chunked, signed or not', async () => {
    const huge = Buffer.from(`<Message><MessageBody>${'x'.repeat(2 * 1024 * 1024)}</MessageBody></Message>`);
    assertMnsError(await rawMns(server, mns, 'POST', `/queues/${q}/messages`, { body: huge }), 400, 'InvalidArgument');
    assertMnsError(await rawMns(server, mns, 'POST', `/queues/${q}/messages`, { body: huge, chunked: true }), 400, 'InvalidArgument');
    assertMnsError(await rawMns(server, mns, 'POST', '/topics/nq-raw-topic/messages', { body: huge, sign: 'none' }), 400, 'MissingAuthorizationHeader');
    // A declared length far over the limit is refused before any of the body is read.
    assertMnsError(await rawMns(server, mns, 'POST', `/queues/${q}/messages`, { body: '<Message>', headers: { 'content-length': String(100 * 1024 * 1024) } }), 400, 'InvalidArgument');
    // Over the message limit but under the request limit: the message is refused, not the request.
    const large = `<Message><MessageBody>${'y'.repeat(70 * 1024)}</MessageBody></Message>`;
    assertMnsError(await rawMns(server, mns, 'POST', '/topics/nq-raw-topic/messages', { body: large }), 400, 'InvalidArgument');
    assertMnsError(await rawMns(server, mns, 'POST', `/queues/${q}/messages`, { body: large }), 400, 'InvalidArgument');
  });

  test('the server is unharmed: a proper request still works and nothing was enqueued', async () => {
    await assertQueueEmpty(mns, q, 0);
    const sent = await mns.sendMessage(q, { MessageBody: 'fine' });
    assert.equal(sent.code, 201);
    const got = await mns.receiveMessage(q, 1);
    assert.equal(got.body.MessageBody, 'fine');
    await mns.deleteMessage(q, got.body.ReceiptHandle!);
    assert.doesNotMatch(server.output(), /MNS request (failed|handler crashed)/);
  });
});
