/**
 * Task-completion notifications pushed over HTTP (spec/oss.md §6.2) by a real `medley serve`: a local
 * node:http receiver is subscribed to the task's topic (EXPONENTIAL_DECAY_RETRY: 1, 2, 4 s ...) in the
 * JSON, SIMPLIFIED and XML formats, plus an endpoint without a path (→ /notifications) and one that hangs
 * on its first request. Each scripted path answers 500 three times, then 204: the message arrives exactly
 * once with a 2xx, the §6.2 headers are all there, x-mns-message-id is the same on every attempt, the
 * signature verifies against the certificate fetched from x-mns-signing-cert-url (with Medley's own
 * verifyPush and independently with node:crypto), the bodies follow the format, and the retries follow
 * the backoff.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verify, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import type OSS from 'ali-oss';
import { startServer, type TestServer } from '../support/server.js';
import { localhostAgent, makeAliClient } from '../support/alioss.js';
import { b64, popClient, submitAsyncProcess, waitForTask } from '../support/tasks.js';
import { tone } from '../support/media.js';
import { assertTaskNotification, DEFAULT_ACCOUNT_ID, httpGet, md5Upper, mnsClient, outboxRows, pushRows, startPushReceiver, subscribe, waitForOutbox, type MnsClient, type PushReceiver, type ReceivedPush } from '../support/mns.js';
import { verifyPush } from '../../src/notify/push-signing.js';
import { queryRows } from '../support/backend.js';

const ACCOUNT = DEFAULT_ACCOUNT_ID;
const BUCKET = 'np-bucket';
const SRC = 'np-tone.wav';
const TOPIC = 'np-task-done';
const FAILING = [500, 500, 500];

const agent = localhostAgent();
let fixtures: string;
let server: TestServer;
let mns: MnsClient;
let receiver: PushReceiver;

before(async () => {
  fixtures = await mkdtemp(join(tmpdir(), 'medley-np-fx-'));
  server = await startServer({ env: { MEDLEY_WORKERS: '1' } });
  mns = mnsClient(server);
  const oss = makeAliClient(server, agent, { bucket: BUCKET });
  await oss.putBucket(BUCKET);
  await oss.put(SRC, await readFile(tone(join(fixtures, SRC), 440, 1)));
  // The first request to /slow is never answered: the deliverer's 5 s deadline ends it.
  receiver = await startPushReceiver({ '/json': FAILING, '/simplified': FAILING, '/xml': FAILING, '/slow': [0] });
});
after(async () => {
  agent.destroy();
  await receiver?.close();
  await server?.dispose();
  if (fixtures) await rm(fixtures, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ok = (r: ReceivedPush) => r.answered >= 200 && r.answered < 300;
const header = (r: ReceivedPush, name: string): string | undefined => {
  const v = r.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** The §6.2 StringToSign, written out from the spec (not Medley's code). */
function stringToSign(r: ReceivedPush): string {
  const mnsHeaders = Object.entries(r.headers)
    .filter(([k]) => k.startsWith('x-mns-'))
    .map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}:${v}\n`)
    .join('');
  return `${r.method}\n${header(r, 'content-md5') ?? ''}\n${header(r, 'content-type') ?? ''}\n${header(r, 'date') ?? ''}\n${mnsHeaders}${r.path}`;
}

describe('HTTP push of a task notification, retried until 2xx', () => {
  let sub: { EventId: string; RequestId: string; TaskId: string };
  let task: Record<string, unknown>;
  let envelope: string;
  let certPem: string;
  const paths = ['/json', '/simplified', '/xml', '/notifications', '/slow'];
  const subscriptionOf: Record<string, string> = { '/json': 'hook-json', '/simplified': 'hook-simplified', '/xml': 'hook-xml', '/notifications': 'hook-nopath', '/slow': 'hook-slow' };
  let t0: number;

  test('subscribe the receiver, run a task, and every endpoint ends with exactly one 2xx', async () => {
    assert.equal((await mns.createTopic(TOPIC)).code, 201);
    const strategy = 'EXPONENTIAL_DECAY_RETRY' as const;
    await subscribe(mns, TOPIC, 'hook-json', { Endpoint: `${receiver.url}/json`, NotifyStrategy: strategy, NotifyContentFormat: 'JSON' });
    await subscribe(mns, TOPIC, 'hook-simplified', { Endpoint: `${receiver.url}/simplified`, NotifyStrategy: strategy, NotifyContentFormat: 'SIMPLIFIED' });
    await subscribe(mns, TOPIC, 'hook-xml', { Endpoint: `${receiver.url}/xml`, NotifyStrategy: strategy, NotifyContentFormat: 'XML' });
    // No path in the endpoint: MNS posts to /notifications.
    await subscribe(mns, TOPIC, 'hook-nopath', { Endpoint: receiver.url, NotifyStrategy: strategy, NotifyContentFormat: 'SIMPLIFIED' });
    await subscribe(mns, TOPIC, 'hook-slow', { Endpoint: `${receiver.url}/slow`, NotifyStrategy: strategy, NotifyContentFormat: 'JSON' });

    t0 = Date.now();
    const oss = makeAliClient(server, agent, { bucket: BUCKET }) as unknown as OSS;
    sub = await submitAsyncProcess(oss, SRC, `audio/convert,f_mp3|sys/saveas,o_${b64('np-out.{autoext}')}/notify,topic_${b64(TOPIC)}`);
    task = (await waitForTask(popClient(server), 'medley-default', sub.TaskId, 30_000)) as Record<string, unknown>;
    assert.equal(task.Status, 'Succeeded', JSON.stringify(task));
    const [row] = await waitForOutbox(server.dataDir, sub.TaskId, (r) => r.length === 1 && r[0]!.state === 'published');
    envelope = row!.body;
    assertTaskNotification(envelope, {
      accountId: ACCOUNT,
      project: 'medley-default',
      eventId: sub.EventId,
      requestId: sub.RequestId,
      taskId: sub.TaskId,
      getTask: task,
      userData: '',
      sources: [`oss://${BUCKET}/${SRC}`],
      target: `oss://${BUCKET}/np-out.mp3`,
      status: 'Succeeded',
    });

    // Three failures take 1 + 2 + 4 s of backoff; the hanging request 5 s + 1 s.
    await receiver.waitFor((all) => paths.every((p) => all.some((r) => r.path === p && ok(r))), 20_000, 'a 2xx answer on every path');
    // Nothing more arrives once each endpoint has answered 2xx.
    await sleep(2500);
    for (const p of paths) {
      const got = receiver.to(p);
      assert.equal(got.filter(ok).length, 1, `${p}: exactly one 2xx (${JSON.stringify(got.map((r) => r.answered))})`);
      assert.ok(ok(got[got.length - 1]!), `${p}: the 2xx was the last request`);
    }
    assert.deepEqual(
      receiver.to('/json').map((r) => r.answered),
      [500, 500, 500, 204],
    );
    assert.deepEqual(
      receiver.to('/notifications').map((r) => r.answered),
      [204],
    );
    assert.deepEqual(
      receiver.to('/slow').map((r) => r.answered),
      [0, 204],
    );
    assert.deepEqual(
      receiver.requests.map((r) => r.path).filter((p) => !paths.includes(p)),
      [],
      'no request to any other path',
    );
    assert.ok(Date.now() - t0 < 30_000);
  });

  test('the retries follow EXPONENTIAL_DECAY_RETRY (1, 2, 4 s) and the 5 s request deadline', () => {
    for (const p of ['/json', '/simplified', '/xml']) {
      const at = receiver.to(p).map((r) => r.at);
      assert.equal(at.length, 4, p);
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      [1000, 2000, 4000].forEach((want, i) => {
        assert.ok(gaps[i]! >= want - 150, `${p}: retry ${i + 1} came ${gaps[i]} ms after the previous attempt, expected ≥ ${want} ms (${JSON.stringify(gaps)})`);
        assert.ok(gaps[i]! <= want + 2000, `${p}: retry ${i + 1} came ${gaps[i]} ms after the previous attempt, expected about ${want} ms (${JSON.stringify(gaps)})`);
      });
    }
    const [hung, second] = receiver.to('/slow');
    const gap = second!.at - hung!.at;
    assert.ok(gap >= 5000 + 1000 - 150 && gap <= 5000 + 1000 + 2500, `/slow retried ${gap} ms after the hanging request (5 s deadline + 1 s)`);
  });

  test('the MNS push headers (§6.2) are all there; x-mns-message-id is the same on every attempt', async () => {
    const [row] = await outboxRows(server.dataDir, sub.TaskId);
    const messageId = row!.message_id!;
    assert.match(messageId, /^[0-9A-F]{32}$/);
    const requestIds = new Set<string>();
    for (const r of receiver.requests) {
      const what = `${r.path} (answered ${r.answered})`;
      assert.equal(r.method, 'POST', what);
      const date = header(r, 'date');
      assert.ok(date && /GMT$/.test(date) && Math.abs(Date.parse(date) - r.at) < 10_000, `${what}: Date ${date}`);
      if (r.path === '/xml') assert.match(header(r, 'content-type') ?? '', /^text\/(plain|xml);charset=utf-8$/i, what);
      else assert.equal(header(r, 'content-type'), 'text/plain;charset=utf-8', what);
      assert.equal(header(r, 'content-md5'), md5Upper(r.body), `${what}: Content-MD5 is the upper-case hex MD5 of the body`);
      assert.equal(Number(header(r, 'content-length')), Buffer.byteLength(r.body), what);
      assert.ok(header(r, 'authorization'), what);
      assert.equal(header(r, 'x-mns-version'), '2015-06-06', what);
      const rid = header(r, 'x-mns-request-id');
      assert.match(rid ?? '', /^[0-9A-Za-z-]{16,}$/, what);
      requestIds.add(rid!);
      assert.equal(header(r, 'x-mns-message-id'), messageId, `${what}: one message id for every attempt and subscription`);
      assert.equal(header(r, 'x-mns-publish-time'), String(row!.published_at), what);
      assert.equal(Buffer.from(header(r, 'x-mns-signing-cert-url') ?? '', 'base64').toString('utf8'), `${server.mnsUrl}/-/mns-signing.crt`, what);
      assert.equal(header(r, 'x-mns-topic-owner'), ACCOUNT, what);
      assert.equal(header(r, 'x-mns-topic-name'), TOPIC, what);
      assert.equal(header(r, 'x-mns-subscriber'), ACCOUNT, what);
      assert.equal(header(r, 'x-mns-subscription-name'), subscriptionOf[r.path], what);
      const simplified = r.path === '/simplified' || r.path === '/notifications';
      assert.equal(header(r, 'x-mns-message-tag'), simplified ? '' : undefined, `${what}: x-mns-message-tag only with SIMPLIFIED`);
    }
    assert.equal(requestIds.size, receiver.requests.length, 'each attempt has its own x-mns-request-id');
  });

  test('every request verifies against the certificate fetched from x-mns-signing-cert-url', async () => {
    const url = Buffer.from(header(receiver.requests[0]!, 'x-mns-signing-cert-url')!, 'base64').toString('utf8');
    const cert = await httpGet(url);
    assert.equal(cert.status, 200, 'the certificate is served without authentication');
    certPem = cert.body;
    assert.match(certPem, /^-----BEGIN CERTIFICATE-----/);
    const x509 = new X509Certificate(certPem);
    assert.equal(x509.publicKey.asymmetricKeyType, 'rsa');
    // The pair lives in the database (shared by every node), no longer in the data dir.
    const [stored] = await queryRows<{ certificate_pem: string }>(server.dataDir, 'select certificate_pem from push_signing_keys');
    assert.equal(cert.body, stored?.certificate_pem);
    for (const r of receiver.requests) {
      assert.ok(verifyPush(r.method, r.path, r.headers, certPem), `${r.path}: verifyPush`);
      const sig = Buffer.from(header(r, 'authorization')!, 'base64');
      assert.ok(verify('sha1', Buffer.from(stringToSign(r), 'utf8'), x509.publicKey, sig), `${r.path}: RSA-SHA1 over the spec's StringToSign`);
    }
    // And a tampered request does not verify.
    const r = receiver.to('/json')[0]!;
    assert.equal(verifyPush(r.method, r.path, { ...r.headers, 'x-mns-topic-name': 'other' }, certPem), false);
    assert.equal(verifyPush(r.method, '/elsewhere', r.headers, certPem), false);
  });

  test('bodies per NotifyContentFormat; the same body on every attempt', async () => {
    const [row] = await outboxRows(server.dataDir, sub.TaskId);
    for (const p of paths) {
      const bodies = new Set(receiver.to(p).map((r) => r.body));
      assert.equal(bodies.size, 1, `${p}: identical body on every attempt`);
    }
    assert.equal(receiver.to('/simplified')[0]!.body, envelope, 'SIMPLIFIED: the message itself');
    assert.equal(receiver.to('/notifications')[0]!.body, envelope);

    for (const p of ['/json', '/slow']) {
      const json = JSON.parse(receiver.to(p)[0]!.body) as Record<string, string>;
      assert.deepEqual(Object.keys(json), ['TopicOwner', 'TopicName', 'Subscriber', 'SubscriptionName', 'MessageId', 'MessageMD5', 'MessageTag', 'PublishTime', 'Message'], p);
      assert.deepEqual(json, {
        TopicOwner: ACCOUNT,
        TopicName: TOPIC,
        Subscriber: ACCOUNT,
        SubscriptionName: subscriptionOf[p],
        MessageId: row!.message_id,
        MessageMD5: md5Upper(envelope),
        MessageTag: '',
        PublishTime: String(row!.published_at),
        Message: envelope,
      });
    }

    const xml = receiver.to('/xml')[0]!.body;
    assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\s*<Notification xmlns="http:\/\/mns.aliyuncs.com\/doc\/v1\/">/);
    const n = (new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: false }).parse(xml) as { Notification: Record<string, string> }).Notification;
    assert.equal(n.TopicOwner, ACCOUNT);
    assert.equal(n.TopicName, TOPIC);
    assert.equal(n.Subscriber, ACCOUNT);
    assert.equal(n.SubscriptionName, 'hook-xml');
    assert.equal(n.MessageId, row!.message_id);
    assert.equal(n.Message, envelope);
    assert.equal(n.MessageMD5, md5Upper(envelope));
    assert.equal(n.MessageTag ?? '', '');
    assert.equal(n.PublishTime, String(row!.published_at));
  });

  test('the push rows record the outcome: delivered, with the number of attempts', async () => {
    const rows = await pushRows(server.dataDir, TOPIC);
    assert.equal(rows.length, paths.length, 'one push row per HTTP subscription');
    const attempts = Object.fromEntries(rows.map((r) => [r.subscription, [r.state, Number(r.attempts)]]));
    assert.deepEqual(attempts, {
      'hook-json': ['delivered', 4],
      'hook-simplified': ['delivered', 4],
      'hook-xml': ['delivered', 4],
      'hook-nopath': ['delivered', 1],
      'hook-slow': ['delivered', 2],
    });
    for (const r of rows) assert.equal(r.lease_owner, null);
  });
});
