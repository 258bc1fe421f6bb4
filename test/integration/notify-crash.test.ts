/**
 * Crash safety of task notifications, with the real server as a process killed by SIGKILL:
 *  - the task ends while its HTTP subscriber is down (connection refused); the server is killed as soon as
 *    GetTask says Succeeded and the first refused attempt is recorded; after a restart on the same data
 *    directory and with the receiver up, the push arrives (acknowledged once) and the subscribed queue holds
 *    exactly one message for the task;
 *  - a notification still in the outbox at the kill (its publish failing: the topic's MaximumMessageSize
 *    is too small for it) is published exactly once after the restart, once the topic accepts it;
 *  - MNS queue messages survive the kill, including one received but not deleted (it comes back);
 *  - a push whose attempt was in flight at the kill is retried promptly after the restart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OSS from 'ali-oss';
import { startServer, type TestServer } from '../support/server.js';
import { queryRows } from '../support/backend.js';
import { localhostAgent, makeAliClient } from '../support/alioss.js';
import { b64, popClient, submitAsyncProcess, waitForTask, type ImmCaller } from '../support/tasks.js';
import { tone } from '../support/media.js';
import {
  acsQueue,
  assertQueueEmpty,
  assertTaskNotification,
  DEFAULT_ACCOUNT_ID,
  httpGet,
  md5Upper,
  mnsClient,
  outboxRows,
  pushRows,
  queueMessagesContaining,
  startPushReceiver,
  subscribe,
  unusedPort,
  waitForOutbox,
  type MnsClient,
  type PushReceiver,
} from '../support/mns.js';
import { verifyPush } from '../../src/notify/push-signing.js';

const ACCOUNT = DEFAULT_ACCOUNT_ID;
const BUCKET = 'nc-bucket';
const SRC = 'nc-tone.wav';
const PROJECT = 'nc-project';
const ENV = { MEDLEY_WORKERS: '1' };

const agent = localhostAgent();
let fixtures: string;
let dataDir: string;
let server: TestServer | undefined;
let receiver: PushReceiver | undefined;

before(async () => {
  fixtures = await mkdtemp(join(tmpdir(), 'medley-nc-fx-'));
  dataDir = await mkdtemp(join(tmpdir(), 'medley-nc-'));
});
after(async () => {
  agent.destroy();
  await receiver?.close();
  await server?.dispose();
  await rm(dataDir, { recursive: true, force: true });
  await rm(fixtures, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const running = (): TestServer => {
  assert.ok(server, 'the server is running');
  return server;
};

/** GetTask, fast, until the task is no longer Running (pop-core raises on Failed). */
async function pollUntilEnded(imm: ImmCaller, project: string, taskId: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    let status: string;
    try {
      status = String((await imm.call('GetTask', { ProjectName: project, TaskId: taskId, TaskType: 'MediaConvert' })).Status);
    } catch (e) {
      status = String((e as { data?: { Status?: unknown } }).data?.Status ?? 'error');
    }
    if (status !== 'Running') return status;
    assert.ok(Date.now() < deadline, `${taskId} still Running after 30 s`);
    await sleep(10);
  }
}

async function taskState(taskId: string): Promise<string | undefined> {
  return (await queryRows<{ state: string }>(dataDir, 'SELECT state FROM tasks WHERE id = ?', [taskId]))[0]?.state;
}

describe('SIGKILL between task end and delivery, then restart on the same data dir', () => {
  const TOPIC = 'nc-done';
  const QUEUE = 'nc-done-q';
  const DURABLE = 'nc-durable';
  let downPort: number;
  let sub: { EventId: string; RequestId: string; TaskId: string };
  let mns: MnsClient;
  const durable: Record<string, string> = {};
  let atKill: { outbox: string[]; pushes: Array<{ state: string; attempts: number; leaseExpiresAt: number | null }> };

  test('set up, run a task whose HTTP subscriber is down (connection refused), SIGKILL once it Succeeded and the push awaits its retry', async () => {
    downPort = await unusedPort();
    server = await startServer({ dataDir, env: ENV });
    mns = mnsClient(server);
    await mns.createQueue(QUEUE);
    await mns.createTopic(TOPIC);
    await subscribe(mns, TOPIC, 'to-queue', { Endpoint: acsQueue(ACCOUNT, QUEUE), NotifyContentFormat: 'SIMPLIFIED' });
    await subscribe(mns, TOPIC, 'to-http', { Endpoint: `http://127.0.0.1:${downPort}/hook`, NotifyContentFormat: 'JSON', NotifyStrategy: 'EXPONENTIAL_DECAY_RETRY' });

    // Queue messages that must outlive the crash: one untouched, one received (in flight) but not deleted.
    await mns.createQueue(DURABLE, { VisibilityTimeout: 2 });
    durable.first = (await mns.sendMessage(DURABLE, { MessageBody: 'kept-first', Priority: 1 })).body.MessageId!;
    durable.second = (await mns.sendMessage(DURABLE, { MessageBody: 'kept-second', Priority: 2 })).body.MessageId!;
    const inFlight = await mns.receiveMessage(DURABLE);
    assert.equal(inFlight.body.MessageId, durable.first);

    const oss = makeAliClient(server, agent, { bucket: BUCKET });
    await oss.putBucket(BUCKET);
    await oss.put(SRC, await readFile(tone(join(fixtures, SRC), 440, 1)));
    sub = await submitAsyncProcess(oss as unknown as OSS, SRC, `audio/convert,f_mp3|sys/saveas,o_${b64('nc-out.mp3')}/notify,topic_${b64(TOPIC)}`);
    assert.equal(await pollUntilEnded(popClient(server), 'medley-default', sub.TaskId), 'Succeeded');
    // Kill in the backoff after the first refused attempt (not while an attempt holds its lease: see the
    // last describe), i.e. with the push certainly pending.
    const deadline = Date.now() + 10_000;
    while (!(await pushRows(dataDir, TOPIC)).some((p) => Number(p.attempts) >= 1 && p.lease_owner === null && p.state === 'pending')) {
      assert.ok(Date.now() < deadline, `no refused attempt recorded: ${JSON.stringify(await pushRows(dataDir, TOPIC))}`);
      await sleep(5);
    }
    await server.kill();
    server = undefined;

    assert.equal(await taskState(sub.TaskId), 'succeeded');
    const outbox = await outboxRows(dataDir, sub.TaskId);
    assert.equal(outbox.length, 1, 'the outbox row committed with the final task state');
    const pushes = await pushRows(dataDir, TOPIC);
    atKill = { outbox: outbox.map((r) => r.state), pushes: pushes.map((p) => ({ state: p.state, attempts: Number(p.attempts), leaseExpiresAt: p.lease_expires_at === null ? null : Number(p.lease_expires_at) })) };
    assert.equal(pushes.length, 1, `one push row: ${JSON.stringify(atKill)}`);
    assert.equal(outbox[0]!.state, 'published', 'the push row exists, so the outbox row was published');
    assert.deepEqual(
      (await queueMessagesContaining(dataDir, sub.TaskId)).map((m) => m.queue),
      [QUEUE],
      'the queue got its copy in the same publish',
    );
    assert.ok(
      pushes.every((p) => p.state === 'pending'),
      `nothing delivered while the receiver was down: ${JSON.stringify(atKill)}`,
    );
  });

  test('after the restart, with the receiver up, the push is delivered and acknowledged once', async () => {
    server = await startServer({ dataDir, env: ENV });
    receiver = await startPushReceiver({}, { port: downPort });
    assert.equal(atKill.pushes[0]?.leaseExpiresAt, null, JSON.stringify(atKill));
    await receiver.waitFor((all) => all.some((r) => r.answered === 204), 15_000, 'the push after the restart');
    await sleep(2000);
    assert.equal(receiver.requests.length, 1, `exactly one request once the receiver is up: ${JSON.stringify(receiver.requests.map((r) => r.answered))}`);
    const r = receiver.requests[0]!;
    assert.equal(r.path, '/hook');
    const [row] = await outboxRows(dataDir, sub.TaskId);
    assert.equal(row!.state, 'published');
    assert.equal(r.headers['x-mns-message-id'], row!.message_id);
    assert.equal(r.headers['x-mns-subscription-name'], 'to-http');
    assert.equal(r.headers['content-md5'], md5Upper(r.body));
    const json = JSON.parse(r.body) as Record<string, string>;
    assert.equal(json.Message, row!.body);
    assert.equal(json.MessageId, row!.message_id);
    const task = (await waitForTask(popClient(server), 'medley-default', sub.TaskId)) as Record<string, unknown>;
    assertTaskNotification(json.Message!, {
      accountId: ACCOUNT,
      project: 'medley-default',
      eventId: sub.EventId,
      requestId: sub.RequestId,
      taskId: sub.TaskId,
      getTask: task,
      userData: '',
      sources: [`oss://${BUCKET}/${SRC}`],
      target: `oss://${BUCKET}/nc-out.mp3`,
      status: 'Succeeded',
    });
    // Signed with the key kept in the data dir; the certificate is at the restarted server's URL.
    const certUrl = Buffer.from(String(r.headers['x-mns-signing-cert-url']), 'base64').toString('utf8');
    assert.equal(certUrl, `${server.mnsUrl}/-/mns-signing.crt`);
    const cert = await httpGet(certUrl);
    assert.equal(cert.status, 200);
    assert.ok(verifyPush(r.method, r.path, r.headers, cert.body), 'the push verifies');

    const pushes = await pushRows(dataDir, TOPIC);
    assert.equal(pushes.length, 1, 'published once: one push row');
    assert.equal(pushes[0]!.state, 'delivered');
    // Refused attempts before and maybe after the restart, then the one that was answered.
    assert.ok(Number(pushes[0]!.attempts) >= (atKill.pushes[0]?.attempts ?? 0) + 1, JSON.stringify({ atKill, now: pushes[0] }));
    assert.equal(pushes[0]!.lease_owner, null);
  });

  test('the subscribed queue holds exactly one message for the task (no duplicate publish)', async () => {
    const c = mnsClient(running());
    const got = await c.receiveMessage(QUEUE, 5);
    assert.equal(JSON.parse(got.body.MessageBody!).id, sub.EventId);
    assert.equal(got.body.MessageBody, (await outboxRows(dataDir, sub.TaskId))[0]!.body);
    assert.equal(got.body.DequeueCount, '1');
    await c.deleteMessage(QUEUE, got.body.ReceiptHandle!);
    await assertQueueEmpty(c, QUEUE, 2);
    assert.deepEqual(await queueMessagesContaining(dataDir, sub.TaskId), []);
    assert.equal((await outboxRows(dataDir, sub.TaskId)).length, 1);
  });

  test('queue messages survive the kill; the one in flight comes back after its visibility timeout', async () => {
    const c = mnsClient(running());
    const a = await c.receiveMessage(DURABLE, 5);
    const b = await c.receiveMessage(DURABLE, 5);
    const got = new Map([a.body, b.body].map((m) => [m.MessageId!, m]));
    assert.deepEqual([...got.keys()].sort(), [durable.first!, durable.second!].sort());
    assert.equal(got.get(durable.first!)!.MessageBody, 'kept-first');
    assert.equal(got.get(durable.first!)!.DequeueCount, '2', 'received before the kill and again after');
    assert.equal(got.get(durable.second!)!.MessageBody, 'kept-second');
    assert.equal(got.get(durable.second!)!.DequeueCount, '1');
    for (const m of got.values()) await c.deleteMessage(DURABLE, m.ReceiptHandle!);
    await assertQueueEmpty(c, DURABLE, 0);
  });
});

describe('SIGKILL while the notification is still in the outbox', () => {
  const TOPIC = 'nc-small';
  const QUEUE = 'nc-small-q';

  test('a notification whose publish keeps failing at the kill is published exactly once after the restart', async () => {
    const s = running();
    const c = mnsClient(s);
    const imm = popClient(s);
    await imm.call('CreateProject', { ProjectName: PROJECT });
    // Too small for the message (the envelope carries 1.5 KB of UserData): publishing fails and is retried.
    await c.createTopic(TOPIC, { MaximumMessageSize: 1024 });
    await c.createQueue(QUEUE);
    await subscribe(c, TOPIC, 'q', { Endpoint: acsQueue(ACCOUNT, QUEUE), NotifyContentFormat: 'SIMPLIFIED' });
    const userData = JSON.stringify({ pad: 'u'.repeat(1500) });
    const r = await imm.call('CreateMediaConvertTask', {
      ProjectName: PROJECT,
      Sources: JSON.stringify([{ URI: `oss://${BUCKET}/${SRC}` }]),
      Targets: JSON.stringify([{ URI: `oss://${BUCKET}/nc-imm.mp3`, Container: 'mp3', Audio: { TranscodeAudio: { Codec: 'mp3' } } }]),
      Notification: JSON.stringify({ MNS: { TopicName: TOPIC } }),
      UserData: userData,
    });
    const taskId = String(r.TaskId);
    assert.equal(await pollUntilEnded(imm, PROJECT, taskId), 'Succeeded');
    // Wait until the dispatcher has tried (and failed) to publish it.
    const deadline = Date.now() + 10_000;
    while (!/publishing a task notification failed/.test(s.output())) {
      assert.ok(Date.now() < deadline, `no failed publish logged:\n${s.output()}`);
      await sleep(50);
    }
    await s.kill();
    server = undefined;
    const down = await outboxRows(dataDir, taskId);
    assert.deepEqual(
      down.map((x) => x.state),
      ['pending'],
    );
    assert.deepEqual(await queueMessagesContaining(dataDir, taskId), []);

    server = await startServer({ dataDir, env: ENV });
    const c2 = mnsClient(server);
    const polled = c2.receiveMessage(QUEUE, 20);
    await sleep(300);
    assert.equal((await c2.setTopicAttributes(TOPIC, { MaximumMessageSize: 65536 })).code, 204);
    const got = await polled;
    const task = (await waitForTask(popClient(server), PROJECT, taskId)) as Record<string, unknown>;
    assertTaskNotification(got.body.MessageBody!, {
      accountId: ACCOUNT,
      project: PROJECT,
      eventId: String(r.EventId),
      requestId: String(r.RequestId),
      taskId,
      getTask: task,
      userData,
      sources: [`oss://${BUCKET}/${SRC}`],
      target: `oss://${BUCKET}/nc-imm.mp3`,
      status: 'Succeeded',
    });
    await c2.deleteMessage(QUEUE, got.body.ReceiptHandle!);
    await assertQueueEmpty(c2, QUEUE, 2);
    const rows = await waitForOutbox(dataDir, taskId, (x) => x.length === 1 && x[0]!.state === 'published');
    assert.match(rows[0]!.message_id!, /^[0-9A-F]{32}$/);
  });
});

describe('SIGKILL while a push attempt is in flight', () => {
  const TOPIC = 'nc-hang';

  test(
    'the push is retried soon after the restart, not only when the dead process\'s lease (request deadline + 30 s) runs out',
    async () => {
      const s = running();
      const c = mnsClient(s);
      // The first request is never answered: the attempt is in flight (its lease held) when the server dies.
      const hang = await startPushReceiver({ '/hang': [0] });
      try {
        await c.createTopic(TOPIC);
        await subscribe(c, TOPIC, 'hang', { Endpoint: `${hang.url}/hang`, NotifyContentFormat: 'SIMPLIFIED', NotifyStrategy: 'EXPONENTIAL_DECAY_RETRY' });
        const pub = await c.publishMessage(TOPIC, { MessageBody: 'in flight at the crash' });
        await hang.waitFor((all) => all.length === 1, 10_000, 'the first attempt');
        await s.kill();
        server = undefined;
        const [row] = await pushRows(dataDir, TOPIC);
        assert.equal(row?.state, 'pending');
        assert.notEqual(row?.lease_expires_at, null, 'the attempt held its lease at the kill');

        server = await startServer({ dataDir, env: ENV });
        const t0 = Date.now();
        // The owner (this host, a pid that no longer exists) is dead: nothing is gained by waiting out its lease.
        await hang.waitFor((all) => all.some((r) => r.answered === 204), 10_000, 'the retry after the restart');
        assert.ok(Date.now() - t0 < 10_000);
        assert.equal(hang.requests[1]!.headers['x-mns-message-id'], pub.body.MessageId);
      } finally {
        await hang.close();
      }
    },
  );
});
