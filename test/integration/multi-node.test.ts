/**
 * Scale-out end to end: embedded PostgreSQL and s3rver, two `medley serve` nodes (API only, no workers) and
 * two `medley worker` processes, each with its own data directory, sharing one database, one blob prefix
 * and the root key. Official clients (ali-oss, @alicloud/pop-core, @alicloud/mns) alternate between the
 * API nodes. MEDLEY_POLL_MS is 5 s, so a task that starts quickly on a worker was woken by LISTEN/NOTIFY.
 *
 * Checked: an MNS long poll on one node wakes when a message is sent through the other; 20 concat tasks all
 * succeed with exactly one output each; a worker SIGKILLed mid-task has its task finished by the other
 * worker; every task's notification reaches a queue subscription and an HTTP push endpoint exactly once;
 * the cross-node pickup latency (started_at - created_at) is printed and its median is far below the poll.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startServer, startWorker, type TestServer, type TestWorker } from '../support/server.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { localhostAgent, makeAliClient } from '../support/alioss.js';
import { popClient, waitForTask, type ImmCaller } from '../support/tasks.js';
import { tone } from '../support/media.js';
import { acsQueue, DEFAULT_ACCOUNT_ID, mnsClient, startPushReceiver, subscribe, type MnsClient, type PushReceiver } from '../support/mns.js';

const SRC = 'mn-src';
const OUT = 'mn-out';
const PROJECT = 'mn-project';
const TOPIC = 'mn-done';
const QUEUE = 'mn-done-q';
const CLIPS = ['a.wav', 'b.wav', 'c.wav'];
const LONG = 'long.wav';
const POLL_MS = 5000;

const agent = localhostAgent();
let tmp: string;
let pgs: TestPostgres;
let s3: TestS3;
let dbUrl: string;
let receiver: PushReceiver;
const servers: TestServer[] = [];
const workers: TestWorker[] = [];
let imm: ImmCaller[] = [];
let mns: MnsClient[] = [];

async function rows<T>(query: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    return (await c.query(query, params)).rows as T[];
  } finally {
    await c.end();
  }
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'medley-mn-'));
  [pgs, s3, receiver] = await Promise.all([startPostgres(), startS3(), startPushReceiver()]);
  dbUrl = await pgs.createDatabase('multinode');
  // MEDLEY_DATABASE_URL and the S3 prefix given here win over backendEnv's per-data-dir ones (server.ts).
  const env = {
    MEDLEY_DATABASE_URL: dbUrl,
    MEDLEY_BLOB_STORE: 's3',
    MEDLEY_S3_ENDPOINT: s3.endpoint,
    MEDLEY_S3_BUCKET: s3.bucket,
    MEDLEY_S3_PREFIX: 'multinode/',
    MEDLEY_S3_ACCESS_KEY_ID: s3.accessKeyId,
    MEDLEY_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    MEDLEY_POLL_MS: String(POLL_MS),
    MEDLEY_TASK_LEASE: '3',
  };
  const dirs = ['api-a', 'api-b', 'worker-1', 'worker-2'].map((d) => join(tmp, d));
  servers.push(await startServer({ dataDir: dirs[0], env: { ...env, MEDLEY_WORKERS: '0' } }));
  // Every node has its own data dir; the push signing key pair is shared through the database.
  for (const d of dirs.slice(1)) await mkdir(d, { recursive: true });
  servers.push(await startServer({ dataDir: dirs[1], env: { ...env, MEDLEY_WORKERS: '0' } }));
  for (const d of dirs.slice(2)) workers.push(await startWorker(d!, { ...env, MEDLEY_WORKERS: '1', MEDLEY_MNS_PORT: String(servers[0]!.port) }));
  imm = servers.map((s) => popClient(s));
  mns = servers.map((s) => mnsClient(s));

  const oss = makeAliClient(servers[0]!, agent, { bucket: SRC });
  await oss.putBucket(SRC);
  await oss.putBucket(OUT);
  const ossB = makeAliClient(servers[1]!, agent, { bucket: SRC });
  for (const [i, name] of CLIPS.entries()) await (i % 2 ? ossB : oss).put(name, await readFile(tone(join(tmp, name), 330 + 110 * i, 1)));
  await ossB.put(LONG, await readFile(tone(join(tmp, LONG), 440, 120)));
  await imm[1]!.call('CreateProject', { ProjectName: PROJECT });
  assert.equal((await mns[0]!.createTopic(TOPIC)).code, 201);
  assert.equal((await mns[1]!.createQueue(QUEUE)).code, 201);
  assert.equal(await subscribe(mns[0]!, TOPIC, 'to-queue', { Endpoint: acsQueue(DEFAULT_ACCOUNT_ID, QUEUE), NotifyContentFormat: 'SIMPLIFIED' }), 201);
  assert.equal(await subscribe(mns[1]!, TOPIC, 'to-http', { Endpoint: `${receiver.url}/push`, NotifyContentFormat: 'JSON' }), 201);
});

after(async () => {
  agent.destroy();
  await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
  await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
  await receiver?.close();
  await s3?.stop();
  await pgs?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const taskIds: string[] = [];

async function submit(node: number, key: string, sources: string[]): Promise<string> {
  const r = await imm[node]!.call('CreateMediaConvertTask', {
    ProjectName: PROJECT,
    Sources: JSON.stringify(sources.map((s) => ({ URI: `oss://${SRC}/${s}` }))),
    Targets: JSON.stringify([{ URI: `oss://${OUT}/${key}`, Container: 'mp3', Audio: { TranscodeAudio: { Codec: 'mp3' } } }]),
    Notification: JSON.stringify({ MNS: { TopicName: TOPIC } }),
  });
  const id = String(r.TaskId);
  taskIds.push(id);
  return id;
}

async function succeeded(node: number, id: string): Promise<void> {
  const t = await waitForTask(imm[node]!, PROJECT, id, 60_000);
  assert.equal(t.Status, 'Succeeded', JSON.stringify(t));
}

test('an MNS long poll on one node wakes when a message is sent through the other', async () => {
  const t0 = Date.now();
  const polled = mns[1]!.receiveMessage(QUEUE, 10);
  await new Promise((r) => setTimeout(r, 300));
  const sentAt = Date.now();
  assert.equal((await mns[0]!.sendMessage(QUEUE, { MessageBody: 'cross-node' })).code, 201);
  const got = await polled;
  const waited = Date.now() - sentAt;
  console.log(`# long poll woke ${waited} ms after the send on the other node (poll started ${sentAt - t0} ms before)`);
  assert.equal(got.code, 200);
  assert.equal(got.body.MessageBody, 'cross-node');
  assert.ok(waited < 2000, `woke after ${waited} ms`);
  assert.equal((await mns[1]!.deleteMessage(QUEUE, got.body.ReceiptHandle!)).code, 204);
});

test('a task accepted on one node starts on an idle worker process at once (LISTEN/NOTIFY, not the 5 s poll)', async () => {
  const latencies: number[] = [];
  for (let i = 0; i < 6; i++) {
    // Let both workers go idle (they sleep up to the poll interval, so only a wake-up starts them early).
    await new Promise((r) => setTimeout(r, 300));
    const id = await submit(i % 2, `seq-${i}.mp3`, CLIPS);
    await succeeded((i + 1) % 2, id);
    const [row] = await rows<{ created_at: number; started_at: number }>('select created_at, started_at from tasks where id = $1', [id]);
    latencies.push(Number(row!.started_at) - Number(row!.created_at));
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length / 2)]!;
  console.log(`# cross-node pickup latency (ms, started_at - created_at): ${latencies.join(', ')}; p50 ${p50}, max ${sorted.at(-1)}; poll interval ${POLL_MS}`);
  assert.ok(p50 < 500, `p50 ${p50} ms`);
});

test('a worker killed mid-task: the other worker finishes the task after the lease', async () => {
  const id = await submit(0, 'long.mp3', [LONG, LONG, LONG]);
  let owner = '';
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const [r] = await rows<{ state: string; lease_owner: string | null }>('select state, lease_owner from tasks where id = $1', [id]);
    if (r?.state === 'running' && r.lease_owner) {
      owner = r.lease_owner;
      break;
    }
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.ok(owner, 'the long task never started');
  const pid = Number(owner.split(':')[1]);
  const victim = workers.findIndex((w) => w.process.pid === pid);
  assert.ok(victim >= 0, `lease owner ${owner} is not one of the worker processes`);
  await new Promise((res) => setTimeout(res, 500));
  await workers[victim]!.kill();
  await succeeded(1, id);
  const [r] = await rows<{ attempts: number; lease_owner: string | null }>('select attempts, lease_owner from tasks where id = $1', [id]);
  assert.equal(Number(r!.attempts), 2);
  // The survivor takes the remaining tasks.
  workers.splice(victim, 1);
});

test('20 tasks in all, submitted through both nodes: each succeeds with one output and one notification per subscription', async () => {
  const bulk: string[] = [];
  for (let i = 0; taskIds.length < 20; i++) bulk.push(await submit(i % 2, `bulk-${i}.mp3`, CLIPS));
  for (const [i, id] of bulk.entries()) await succeeded(i % 2, id);

  // IMM ListTasks (through the other node) shows every task Succeeded.
  const listed = new Map<string, string>();
  let token: string | undefined;
  do {
    const r = (await imm[1]!.call('ListTasks', { ProjectName: PROJECT, MaxResults: 100, ...(token ? { NextToken: token } : {}) })) as { Tasks?: Array<{ TaskId: string; Status: string }>; NextToken?: string };
    for (const t of r.Tasks ?? []) listed.set(t.TaskId, t.Status);
    token = r.NextToken || undefined;
  } while (token);
  for (const id of taskIds) assert.equal(listed.get(id), 'Succeeded', id);

  // Exactly one output object per task in the output bucket.
  const out = makeAliClient(servers[1]!, agent, { bucket: OUT });
  const keys = ((await out.list({ 'max-keys': 1000 }, {})).objects ?? []).map((o) => o.name).sort();
  const expected = ['long.mp3', ...Array.from({ length: 6 }, (_, i) => `seq-${i}.mp3`), ...Array.from({ length: 13 }, (_, i) => `bulk-${i}.mp3`)].sort();
  assert.deepEqual(keys, expected);

  // The queue subscription: one message per task (received alternately through both nodes).
  const seen = new Map<string, number>();
  for (let i = 0; ; i++) {
    const got = await mns[i % 2]!.receiveMessage(QUEUE, 2).catch((e: { code?: string; name?: string }) => {
      // The queue is drained (the client throws MNSMessageNotExistError).
      if (e.code === 'MessageNotExist' || e.name === 'MNSMessageNotExistError') return undefined;
      throw e;
    });
    if (!got || got.code !== 200) break;
    const id = taskIds.find((t) => got.body.MessageBody!.includes(t));
    assert.ok(id, `a message for no task: ${got.body.MessageBody}`);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    await mns[i % 2]!.deleteMessage(QUEUE, got.body.ReceiptHandle!);
  }
  for (const id of taskIds) assert.equal(seen.get(id), 1, `queue messages for ${id}`);

  // The HTTP push endpoint: one delivery per task (the receiver answers 204, so there is no retry).
  await receiver.waitFor((all) => taskIds.every((id) => all.some((r) => r.body.includes(id))), 30_000, 'a push for every task');
  await new Promise((r) => setTimeout(r, 1000));
  for (const id of taskIds) assert.equal(receiver.to('/push').filter((r) => r.body.includes(id)).length, 1, `pushes for ${id}`);
});
