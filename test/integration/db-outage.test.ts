/**
 * PostgreSQL going away and coming back (MEDLEY_DATABASE_URL; an embedded server of its own, stopped with a
 * fast shutdown, which terminates every connection as a restart does, then started again on the same port
 * and data dir). During the outage every front door answers 503 ServiceUnavailable in its own format (never
 * another 5xx, never a hang) and /-/health is not ready; afterwards everything acknowledged is there and
 * every task, including those running when the database went away, Succeeds with exactly one output.
 * Also: a node started before its database waits for it and then serves.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { startServer, type TestServer } from '../support/server.js';
import { rawRequest, xmlTag, type RawRequest, type RawResponse } from '../support/raw-client.js';
import { mnsClient, rawMns, type MnsClient } from '../support/mns.js';
import { b64, popClient, waitForTask, type ImmCaller } from '../support/tasks.js';
import { tone } from '../support/media.js';

const TOKEN = 'db-outage-metrics-token-01';
const BUCKET = 'outage';
const NODE = 'outage-node-1';
const SEND_XML = (body: string) => `<?xml version="1.0" encoding="UTF-8"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/"><MessageBody>${body}</MessageBody></Message>`;

/** Retries `attempt` until `done` holds. */
async function eventually<T>(attempt: () => Promise<T>, done: (r: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await attempt();
    if (done(r)) return r;
    if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify(r).slice(0, 400)} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

function assertXml503(r: { status: number; text?: string; body?: unknown }, what: string): void {
  const text = typeof r.body === 'string' ? r.body : (r.text ?? '');
  assert.equal(r.status, 503, `${what}: ${text}`);
  assert.equal(xmlTag(text, 'Code'), 'ServiceUnavailable', `${what}: ${text}`);
  assert.match(xmlTag(text, 'Message') ?? '', /^The database is unreachable: .+; retry\.$/, what);
}

describe('PostgreSQL stops for ~10 s mid-run, then comes back', () => {
  let pg: TestPostgres;
  let server: TestServer;
  let fixtures: string;
  let imm: ImmCaller;
  let mns: MnsClient;
  const auth = () => ({ id: server.keyId, secret: server.secret });
  const send = (r: RawRequest): Promise<RawResponse> => rawRequest(server.url, { auth: auth(), ...r });

  before(async () => {
    fixtures = await mkdtemp(join(tmpdir(), 'medley-outage-fx-'));
    pg = await startPostgres();
    const url = await pg.createDatabase('outage');
    server = await startServer({ env: { MEDLEY_DATABASE_URL: url, MEDLEY_WORKERS: '2', MEDLEY_TASK_LEASE: '4', MEDLEY_METRICS_TOKEN: TOKEN, MEDLEY_NODE_NAME: NODE } });
    imm = popClient({ url: server.url, keyId: server.keyId, secret: server.secret });
    mns = mnsClient(server);
  });

  after(async () => {
    await server?.dispose();
    await pg?.stop();
    if (fixtures) await rm(fixtures, { recursive: true, force: true });
  });

  test('503 in each dialect during the outage, /-/health not ready, then everything completes and nothing acknowledged is lost', async (t) => {
    t.after(() => {
      if (process.env.MEDLEY_TEST_DUMP) console.error(`server output:\n${server.output()}`);
      if (server.process.exitCode !== null || server.process.signalCode !== null) console.error(`the server exited:\n${server.output()}`);
    });
    assert.equal((await send({ method: 'PUT', bucket: BUCKET })).status, 200);
    const wav = readFileSync(tone(join(fixtures, 'src.wav'), 440, 20, ['-ac', '2']));
    assert.equal((await send({ method: 'PUT', bucket: BUCKET, key: 'src.wav', body: wav })).status, 200);
    await mns.createQueue('outage-queue');

    // Objects and tasks acknowledged before the outage.
    const acked = new Map<string, string>();
    for (let i = 0; i < 5; i++) {
      const r = await send({ method: 'PUT', bucket: BUCKET, key: `before/${i}.txt`, body: `before ${i}` });
      assert.equal(r.status, 200, r.text);
      acked.set(`before/${i}.txt`, `before ${i}`);
    }
    const tasks: Array<{ taskId: string; out: string }> = [];
    for (let i = 0; i < 6; i++) {
      const out = `out/${i}.mp3`;
      const r = await send({ method: 'POST', bucket: BUCKET, key: 'src.wav', query: { 'x-oss-async-process': '' }, body: `x-oss-async-process=audio/convert,f_mp3|sys/saveas,o_${b64(out)}` });
      assert.equal(r.status, 200, r.text);
      tasks.push({ taskId: (JSON.parse(r.text) as { TaskId: string }).TaskId, out });
    }
    const health0 = await fetch(`${server.url}/-/health`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(health0.status, 200);
    const detail0 = (await health0.json()) as { nodeName: string; database: { reachable: boolean } };
    assert.equal(detail0.nodeName, NODE);
    assert.equal(detail0.database.reachable, true);

    // A writer that keeps going through the outage: every answer is 200 (acknowledged: must survive) or 503.
    let writing = true;
    const statuses: number[] = [];
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const key = `during/${i}.txt`;
        const r = await send({ method: 'PUT', bucket: BUCKET, key, body: `during ${i}` });
        statuses.push(r.status);
        if (r.status === 200) acked.set(key, `during ${i}`);
        else assertXml503(r, `PUT ${key}`);
        await sleep(100);
      }
    })();

    await pg.pause();
    const downAt = Date.now();

    // OSS: PUT and GET answer the OSS error XML.
    assertXml503(await send({ method: 'PUT', bucket: BUCKET, key: 'refused.txt', body: 'no' }), 'OSS PUT');
    assertXml503(await send({ method: 'GET', bucket: BUCKET, key: 'before/0.txt' }), 'OSS GET');
    // IMM: its JSON envelope.
    await assert.rejects(imm.call('GetTask', { ProjectName: 'medley-default', TaskId: tasks[0]!.taskId, TaskType: 'MediaConvert' }), (e: { code?: string; data?: { Code?: string; Message?: string }; entry?: { response?: { statusCode?: number } } }) => {
      assert.equal(e.entry?.response?.statusCode, 503);
      assert.equal(e.code, 'ServiceUnavailable');
      assert.match(e.data?.Message ?? '', /^The database is unreachable: .+; retry\.$/);
      return true;
    });
    // MNS: its own error XML.
    assertXml503(await rawMns(server, mns, 'POST', '/queues/outage-queue/messages', { body: SEND_XML('lost?') }), 'MNS SendMessage');
    // Health: not ready (once its 1 s cache has run out); the anonymous body says only that, the operator learns why.
    const anon = await eventually(() => fetch(`${server.url}/-/health`), (r) => r.status !== 200, '/-/health during the outage', 5000);
    assert.equal(anon.status, 503);
    assert.deepEqual(await anon.json(), { status: 'unavailable' });
    const detailed = await fetch(`${server.url}/-/health`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(detailed.status, 503);
    const why = (await detailed.json()) as { status: string; reason: string; nodeName: string; database: { reachable: boolean; error: string } };
    assert.equal(why.status, 'unavailable');
    assert.match(why.reason, /the database is unreachable/);
    assert.equal(why.nodeName, NODE);
    assert.equal(why.database.reachable, false);
    // The metrics read task counts from the database: 503 too, not a 500.
    assert.equal((await fetch(`${server.url}/-/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 503);

    await sleep(Math.max(0, 10_000 - (Date.now() - downAt)));
    await pg.resume();

    // Back: health ready again, writes acknowledged again.
    await eventually(() => fetch(`${server.url}/-/health`).then((r) => r.status), (s) => s === 200, '/-/health after the restart');
    await eventually(() => send({ method: 'PUT', bucket: BUCKET, key: 'after.txt', body: 'after' }).then((r) => r.status), (s) => s === 200, 'PUT after the restart');
    acked.set('after.txt', 'after');
    await sleep(500);
    writing = false;
    await writer;
    assert.ok(statuses.includes(503), `the writer saw the outage: ${statuses.join(',')}`);
    assert.ok(statuses.every((s) => s === 200 || s === 503), `only 200 or 503: ${statuses.join(',')}`);

    // Every task Succeeded, exactly one output each and nothing else under out/.
    for (const t of tasks) {
      const r = await waitForTask(imm, 'medley-default', t.taskId, 90_000);
      assert.equal(r.Status, 'Succeeded', JSON.stringify(r));
    }
    const listed = await send({ method: 'GET', bucket: BUCKET, query: { prefix: 'out/', 'max-keys': '1000' } });
    assert.equal(listed.status, 200);
    const keys = [...listed.text.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]!).sort();
    assert.deepEqual(keys, tasks.map((t) => t.out).sort());
    for (const t of tasks) {
      const got = await send({ method: 'GET', bucket: BUCKET, key: t.out });
      assert.equal(got.status, 200);
      assert.ok(got.body.length > 10_000, `${t.out} is an MP3 (${got.body.length} bytes)`);
    }
    // Every acknowledged object is there with its bytes.
    for (const [key, body] of acked) {
      const got = await send({ method: 'GET', bucket: BUCKET, key });
      assert.equal(got.status, 200, key);
      assert.equal(got.text, body, key);
    }
    // MNS works again.
    assert.equal((await rawMns(server, mns, 'POST', '/queues/outage-queue/messages', { body: SEND_XML('back') })).status, 201);
    // Logs name the node.
    assert.match(server.output(), new RegExp(`"node":"${NODE}"`));
  });
});

describe('a node started before its PostgreSQL', () => {
  let pg: TestPostgres;
  let server: TestServer | undefined;

  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await server?.dispose();
    await pg?.stop();
  });

  test('waits for the database (logging each retry), then serves', async () => {
    const url = await pg.createDatabase('late');
    await pg.pause();
    const starting = startServer({ env: { MEDLEY_DATABASE_URL: url, MEDLEY_WORKERS: '1', MEDLEY_DATABASE_CONNECT_TIMEOUT: '60' } });
    await sleep(3000);
    await pg.resume();
    server = await starting;
    assert.match(server.output(), /the database is unreachable; retrying/);
    const auth = { id: server.keyId, secret: server.secret };
    assert.equal((await rawRequest(server.url, { method: 'PUT', bucket: 'late', auth })).status, 200);
    assert.equal((await rawRequest(server.url, { method: 'PUT', bucket: 'late', key: 'k', body: 'v', auth })).status, 200);
    assert.equal((await rawRequest(server.url, { method: 'GET', bucket: 'late', key: 'k', auth })).text, 'v');
    assert.equal((await fetch(`${server.url}/-/health`)).status, 200);
  });
});
