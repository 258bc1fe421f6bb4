/**
 * Scale-out end to end: embedded PostgreSQL and s3rver, two `medley serve` nodes (API only, no workers) and
 * two `medley worker` processes, each with its own data directory, sharing one database, one blob prefix
 * and the root key. Official clients (ali-oss, @alicloud/pop-core, @alicloud/mns) alternate between the
 * API nodes. MEDLEY_POLL_MS is 5 s, so a task that starts quickly on a worker was woken by LISTEN/NOTIFY.
 *
 * Checked: an MNS long poll on one node wakes when a message is sent through the other; 20 concat tasks all
 * succeed with exactly one output each; a worker SIGKILLed mid-task has its task finished by the other
 * worker; every task's notification reaches a queue subscription and an HTTP push endpoint exactly once,
 * signed with the one key pair every node shares;
 * the cross-node pickup latency (started_at - created_at) is printed and its median is far below the poll;
 * PostgreSQL stopped for 10 s mid-run (tasks running and queued) and started again while clients keep
 * sending through both API nodes: every answer is the operation's success or 503 ServiceUnavailable (no
 * other 5xx, no hang, no dropped connection), both nodes' /-/health go not ready and come back, the killed
 * worker's node is restarted and both workers resume (LISTEN/NOTIFY reconnected: pickups and long polls
 * are fast again), and every acknowledged object, message and task is there afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, startWorker, type TestServer, type TestWorker } from '../support/server.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { localhostAgent, makeAliClient } from '../support/alioss.js';
import { popClient, waitForTask, type ImmCaller } from '../support/tasks.js';
import { tone } from '../support/media.js';
import { verifyPush } from '../../src/notify/push-signing.js';
import { acsQueue, DEFAULT_ACCOUNT_ID, httpGet, mnsClient, rawMns, startPushReceiver, subscribe, type MnsClient, type PushReceiver } from '../support/mns.js';
import { xmlTag } from '../support/raw-client.js';

const SRC = 'mn-src';
const OUT = 'mn-out';
const PROJECT = 'mn-project';
const TOPIC = 'mn-done';
const QUEUE = 'mn-done-q';
/** Messages sent by the clients during the database outage (not task notifications). */
const OUTAGE_QUEUE = 'mn-outage-q';
const CLIPS = ['a.wav', 'b.wav', 'c.wav'];
const LONG = 'long.wav';
/** 30 s: a task that is still running a moment after it started (the outage test). */
const MID = 'mid.wav';
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
let workerEnv: Record<string, string>;
let killedDir = '';

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
  workerEnv = { ...env, MEDLEY_WORKERS: '1', MEDLEY_MNS_PORT: String(servers[0]!.port), ...(process.env.MEDLEY_TEST_DUMP ? { MEDLEY_LOG_LEVEL: 'info' } : {}) };
  for (const d of dirs.slice(2)) workers.push(await startWorker(d, workerEnv));
  imm = servers.map((s) => popClient(s));
  mns = servers.map((s) => mnsClient(s));

  const oss = makeAliClient(servers[0]!, agent, { bucket: SRC });
  await oss.putBucket(SRC);
  await oss.putBucket(OUT);
  const ossB = makeAliClient(servers[1]!, agent, { bucket: SRC });
  for (const [i, name] of CLIPS.entries()) await (i % 2 ? ossB : oss).put(name, await readFile(tone(join(tmp, name), 330 + 110 * i, 1)));
  await ossB.put(LONG, await readFile(tone(join(tmp, LONG), 440, 120)));
  await oss.put(MID, await readFile(tone(join(tmp, MID), 550, 30)));
  await imm[1]!.call('CreateProject', { ProjectName: PROJECT });
  assert.equal((await mns[0]!.createTopic(TOPIC)).code, 201);
  assert.equal((await mns[1]!.createQueue(QUEUE)).code, 201);
  assert.equal((await mns[0]!.createQueue(OUTAGE_QUEUE)).code, 201);
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
/** Task id -> its one output key. */
const outputs = new Map<string, string>();

function convertParams(key: string, sources: string[]): Record<string, unknown> {
  return {
    ProjectName: PROJECT,
    Sources: JSON.stringify(sources.map((s) => ({ URI: `oss://${SRC}/${s}` }))),
    Targets: JSON.stringify([{ URI: `oss://${OUT}/${key}`, Container: 'mp3', Audio: { TranscodeAudio: { Codec: 'mp3' } } }]),
    Notification: JSON.stringify({ MNS: { TopicName: TOPIC } }),
  };
}

function accepted(id: string, key: string): string {
  taskIds.push(id);
  outputs.set(id, key);
  return id;
}

async function submit(node: number, key: string, sources: string[]): Promise<string> {
  const r = await imm[node]!.call('CreateMediaConvertTask', convertParams(key, sources));
  return accepted(String(r.TaskId), key);
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
  // The survivor takes the next tasks; the killed node comes back in the outage test.
  killedDir = workers[victim]!.dataDir;
  workers.splice(victim, 1);
});

/** One answer a client got while the database went away and came back. */
interface Seen {
  node: number;
  op: string;
  /** When the request was sent and answered: 'up', 'down', 'back', or e.g. 'up>down' when it spanned a change. */
  phase: string;
  /** HTTP status; 0 = no HTTP answer (a timeout or a dropped connection). */
  status: number;
  /** The error code of a non-success answer (or the client error's message). */
  code: string;
}

const SEND_XML = (body: string) => `<?xml version="1.0" encoding="UTF-8"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/"><MessageBody>${body}</MessageBody></Message>`;
/** The success status of each operation the clients run. */
const SUCCESS: Record<string, number> = { PutObject: 200, GetObject: 200, GetTask: 200, CreateMediaConvertTask: 200, SendMessage: 201, health: 200 };

test('PostgreSQL stopped for 10 s mid-run, then started again: only 503s meanwhile, nothing lost, both workers resume', async (t) => {
  t.after(() => {
    if (process.env.MEDLEY_TEST_DUMP) for (const n of [...servers, ...workers]) console.error(n.output());
  });
  const t0 = Date.now();
  const marks: string[] = [];
  const mark = (what: string) => marks.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  t.after(() => console.log(`# outage test timeline: ${marks.join(', ')}`));
  // The node of the worker killed above restarts on its own data dir.
  workers.push(await startWorker(killedDir, workerEnv));
  mark('worker restarted');
  const inFlight: string[] = [];
  for (let i = 0; i < 6; i++) inFlight.push(await submit(i % 2, `outage-${i}.mp3`, i < 2 ? [MID] : CLIPS));
  // The outage must catch work in flight: wait for a task running.
  for (const end = Date.now() + 20_000; ; await sleep(50)) {
    const [r] = await rows<{ n: number }>(`select count(*)::int as n from tasks where state = 'running' and id = any($1)`, [inFlight]);
    if (r!.n > 0) break;
    assert.ok(Date.now() < end, 'no task started');
  }

  mark('a task runs');
  const seen: Seen[] = [];
  const ackedObjects = new Map<string, string>();
  const ackedMessages: string[] = [];
  let phase: 'up' | 'down' | 'back' = 'up';
  let running = true;
  const oss = servers.map((s) => makeAliClient(s, agent, { bucket: SRC, timeout: 20_000 }));
  const call = async (node: number, op: string, f: () => Promise<number>): Promise<void> => {
    const sent = phase;
    const during = () => (phase === sent ? sent : `${sent}>${phase}`);
    try {
      const status = await f();
      seen.push({ node, op, phase: during(), status, code: '' });
    } catch (e) {
      // ali-oss: status + code; pop-core: entry.response.statusCode + code; otherwise no HTTP answer at all.
      const err = e as { status?: number; code?: string; message?: string; entry?: { response?: { statusCode?: number } } };
      const status = err.entry?.response?.statusCode ?? (typeof err.status === 'number' && err.status > 0 ? err.status : 0);
      seen.push({ node, op, phase: during(), status, code: status ? String(err.code) : String(err.message) });
    }
  };
  // Each client sends every kind of request through its own API node, over and over, and records every answer.
  const client = async (node: number): Promise<void> => {
    for (let i = 0; running; i++) {
      const key = `outage/${node}-${i}.txt`;
      const body = `node ${node} round ${i}`;
      await call(node, 'PutObject', async () => {
        const r = await oss[node]!.put(key, Buffer.from(body));
        ackedObjects.set(key, body);
        return r.res.status;
      });
      await call(node, 'GetObject', async () => (await oss[node]!.get(CLIPS[0]!)).res.status);
      await call(node, 'GetTask', async () => {
        await imm[node]!.call('GetTask', { ProjectName: PROJECT, TaskId: inFlight[0], TaskType: 'MediaConvert' });
        return 200;
      });
      await call(node, 'SendMessage', async () => {
        const r = await rawMns(servers[node]!, mns[node]!, 'POST', `/queues/${OUTAGE_QUEUE}/messages`, { body: SEND_XML(body) });
        if (r.status === 201) ackedMessages.push(body);
        else throw Object.assign(new Error(r.body), { status: r.status, code: xmlTag(r.body, 'Code') });
        return r.status;
      });
      await call(node, 'health', async () => (await fetch(`${servers[node]!.url}/-/health`, { signal: AbortSignal.timeout(20_000) })).status);
      if (i % 4 === 0) {
        await call(node, 'CreateMediaConvertTask', async () => {
          const r = await imm[node]!.call('CreateMediaConvertTask', convertParams(`during-${node}-${i}.mp3`, CLIPS));
          inFlight.push(accepted(String(r.TaskId), `during-${node}-${i}.mp3`));
          return 200;
        });
      }
      await sleep(100);
    }
  };
  const clients = [client(0), client(1)];
  await sleep(500);

  // 'down' from the moment the shutdown begins (requests then already see connections terminated).
  phase = 'down';
  const downAt = Date.now();
  await pgs.pause();
  mark('database stopped');
  await sleep(Math.max(0, 10_000 - (Date.now() - downAt)));
  await pgs.resume();
  mark('database started');
  const downMs = Date.now() - downAt;
  phase = 'back';
  // Back when every kind of request succeeds again through both nodes; then a little more traffic.
  for (const end = Date.now() + 30_000; ; await sleep(100)) {
    const back = seen.filter((s) => s.phase === 'back');
    const ok = [0, 1].every((n) => Object.keys(SUCCESS).every((op) => op === 'CreateMediaConvertTask' || back.some((s) => s.node === n && s.op === op && s.status === SUCCESS[op])));
    if (ok) break;
    assert.ok(Date.now() < end, `not every request succeeds again 30 s after the restart: ${JSON.stringify(back.slice(-20))}`);
  }
  mark('every request succeeds');
  await sleep(1000);
  running = false;
  await Promise.all(clients);

  const tally = (list: Seen[]): string[] => {
    const counts = new Map<string, number>();
    for (const s of list) {
      const k = `${s.phase} node ${s.node} ${s.op} ${s.status}${s.code ? ` ${s.code}` : ''}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return [...counts].map(([k, n]) => `${k} x${n}`);
  };
  console.log(`# database down ${downMs} ms; ${seen.length} requests: ${tally(seen).join('; ')}`);
  // Every answer is the operation's success or a 503 ServiceUnavailable (the health check: 503 with no code).
  const wrong = seen.filter((s) => !(s.status === SUCCESS[s.op] || (s.status === 503 && (s.op === 'health' || s.code === 'ServiceUnavailable'))));
  assert.deepEqual(tally(wrong), [], 'answers other than success or 503 ServiceUnavailable');
  // Before the outage everything succeeded; during it both nodes refused every kind of request with a 503.
  assert.deepEqual(tally(seen.filter((s) => s.phase === 'up' && s.status !== SUCCESS[s.op])), []);
  for (const node of [0, 1]) for (const op of Object.keys(SUCCESS)) {
    if (op === 'CreateMediaConvertTask') continue;
    assert.ok(seen.some((s) => s.phase === 'down' && s.node === node && s.op === op && s.status === 503), `node ${node} ${op}: no 503 during the outage`);
  }
  assert.ok(seen.some((s) => s.phase === 'down' && s.op === 'CreateMediaConvertTask' && s.status === 503), 'CreateMediaConvertTask: no 503 during the outage');

  // Every task accepted before or during the outage succeeds (the 20-task test below checks outputs and notifications).
  for (const [i, id] of inFlight.entries()) await succeeded(i % 2, id);
  mark('tasks done');
  const attempts = await rows<{ id: string; attempts: number }>('select id, attempts from tasks where id = any($1) order by created_at', [inFlight]);
  console.log(`# claims per task accepted before/during the outage: ${attempts.map((r) => r.attempts).join(', ')}`);
  // Every acknowledged object has its bytes, read through the other node.
  for (const [key, body] of ackedObjects) {
    const node = Number(key.split('/')[1]!.split('-')[0]) ^ 1;
    assert.equal((await oss[node]!.get(key)).content.toString(), body, key);
  }
  // Every acknowledged message is in the queue once.
  const received: string[] = [];
  for (let i = 0; ; i++) {
    const got = await mns[i % 2]!.receiveMessage(OUTAGE_QUEUE, 1).catch((e: { code?: string; name?: string }) => {
      if (e.code === 'MessageNotExist' || e.name === 'MNSMessageNotExistError') return undefined;
      throw e;
    });
    if (!got || got.code !== 200) break;
    received.push(got.body.MessageBody!);
    await mns[i % 2]!.deleteMessage(OUTAGE_QUEUE, got.body.ReceiptHandle!);
  }
  assert.deepEqual(received.sort(), [...ackedMessages].sort());

  // Both workers resumed: two long tasks at once run on the two worker processes side by side.
  const pair = [await submit(0, 'after-0.mp3', [MID]), await submit(1, 'after-1.mp3', [MID])];
  const owners = new Set<string>();
  for (const end = Date.now() + 20_000; owners.size < 2 && Date.now() < end; await sleep(50)) {
    for (const r of await rows<{ lease_owner: string | null }>(`select lease_owner from tasks where state = 'running' and id = any($1)`, [pair])) if (r.lease_owner) owners.add(r.lease_owner);
  }
  assert.equal(owners.size, 2, `the two tasks ran on ${[...owners].join(', ')}`);
  for (const id of pair) await succeeded(0, id);
  mark('both workers ran');

  // The wake-up listeners reconnected: pickups and long polls across nodes are immediate again, not the 5 s poll.
  const pickups: number[] = [];
  for (let i = 0; i < 2; i++) {
    await sleep(300);
    const id = await submit(i, `after-seq-${i}.mp3`, CLIPS);
    await succeeded(i ^ 1, id);
    const [row] = await rows<{ created_at: number; started_at: number }>('select created_at, started_at from tasks where id = $1', [id]);
    pickups.push(Number(row!.started_at) - Number(row!.created_at));
  }
  console.log(`# pickup latency after the restart (ms): ${pickups.join(', ')}`);
  assert.ok(pickups.every((ms) => ms < 2000), `pickups ${pickups.join(', ')} ms`);
  const polled = mns[1]!.receiveMessage(OUTAGE_QUEUE, 10);
  await sleep(300);
  const sentAt = Date.now();
  assert.equal((await mns[0]!.sendMessage(OUTAGE_QUEUE, { MessageBody: 'after the restart' })).code, 201);
  const got = await polled;
  assert.equal(got.body.MessageBody, 'after the restart');
  assert.ok(Date.now() - sentAt < 2000, `the long poll woke after ${Date.now() - sentAt} ms`);
  await mns[1]!.deleteMessage(OUTAGE_QUEUE, got.body.ReceiptHandle!);
});

test('20 tasks or more in all, submitted through both nodes: each succeeds with one output and one notification per subscription', async () => {
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
  const expected = [...outputs.values()].sort();
  assert.equal(expected.length, taskIds.length);
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

  // One push signing key pair in the database for every node: both API nodes serve the same certificate,
  // and every push, whichever node delivered it, verifies against it.
  const certs = await Promise.all(servers.map((s) => httpGet(`${s.mnsUrl}/-/mns-signing.crt`)));
  assert.equal(certs[0]!.status, 200);
  assert.equal(certs[1]!.body, certs[0]!.body, 'both nodes serve one certificate');
  for (const r of receiver.to('/push')) assert.ok(verifyPush(r.method, r.path, r.headers, certs[0]!.body), `push ${r.path} verifies`);
});
