/**
 * `medley serve` with MEDLEY_WORKERS=0 (API only) beside separate `medley worker` processes on the same data
 * directory: the worker runs what the server accepts, and a worker stopped with SIGTERM mid-task hands the
 * task back so the next worker completes it, exactly once.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryRows } from '../support/backend.js';
import { startServer, startWorker, type TestServer, type TestWorker } from '../support/server.js';
import { localhostAgent, makeAliClient, type AliClient } from '../support/alioss.js';
import { b64, popClient, submitAsyncProcess, waitForTask, type ImmCaller, type TaskResult } from '../support/tasks.js';
import { assertToneSequence, audioStream, decode, ffprobe, tone } from '../support/media.js';
import type OSS from 'ali-oss';
import { rawRequest } from '../support/raw-client.js';
import { workRootOf } from '../support/work-root.js';

const SRC = 'worker-src';
const OUT = 'worker-out';
const PROJECT = 'worker';
const WORKER_ENV = { MEDLEY_WORKERS: '1', MEDLEY_POLL_MS: '100', MEDLEY_LOG_LEVEL: 'info' };

const agent = localhostAgent();
let dataDir: string;
let fixtures: string;
let server: TestServer;
let imm: ImmCaller;
let src: AliClient;
let out: AliClient;
const workers: TestWorker[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const asOss = (c: AliClient) => c as unknown as OSS;

type TaskRow = { state: string; attempts: number; lease_owner: string | null; lease_expires_at: number | null };
async function taskRow(taskId: string): Promise<TaskRow | undefined> {
  const rows = await queryRows<TaskRow>(dataDir, 'SELECT state, attempts, lease_owner, lease_expires_at FROM tasks WHERE id = ?', [taskId]);
  return rows[0] && { ...rows[0], attempts: Number(rows[0].attempts), lease_expires_at: rows[0].lease_expires_at === null ? null : Number(rows[0].lease_expires_at) };
}

/**
 * Waits for the task to end by reading the database (read-only), not through the API, so these tests do not
 * depend on API polling (the last test covers commits racing the server's writes). Ends with one GetTask,
 * which reports the outcome as the API sees it.
 */
async function waitForEnd(taskId: string, projectName: string, timeoutMs = 60_000): Promise<TaskResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = (await taskRow(taskId))?.state;
    if (state === 'succeeded' || state === 'failed') break;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${String(state)} after ${timeoutMs} ms`);
    await sleep(50);
  }
  return waitForTask(imm, projectName, taskId);
}

async function worker(): Promise<TestWorker> {
  const w = await startWorker(dataDir, WORKER_ENV);
  workers.push(w);
  return w;
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'medley-worker-'));
  fixtures = await mkdtemp(join(tmpdir(), 'medley-worker-fx-'));
  server = await startServer({ dataDir, env: { MEDLEY_WORKERS: '0' } });
  imm = popClient(server);
  src = makeAliClient(server, agent, { bucket: SRC });
  out = makeAliClient(server, agent, { bucket: OUT });
  await src.putBucket(SRC);
  await src.putBucket(OUT);
  await src.put('short.wav', await readFile(tone(join(fixtures, 'short.wav'), 440, 1, ['-ac', '1'])));
  for (const f of [440, 660, 880]) await src.put(`long-${f}.wav`, await readFile(tone(join(fixtures, `long-${f}.wav`), f, 20, ['-ac', '2'])));
  await imm.call('CreateProject', { ProjectName: PROJECT });
});

after(async () => {
  for (const w of workers) await w.kill();
  agent.destroy();
  await server?.dispose();
  await rm(dataDir, { recursive: true, force: true });
  await rm(fixtures, { recursive: true, force: true });
});

describe('serve with MEDLEY_WORKERS=0 and a separate medley worker', () => {
  // A test that fails half-way must not leave its worker claiming the next test's task.
  afterEach(async () => {
    for (const w of workers) await w.kill();
  });

  test('the server runs no workers: /-/health reports 0', async () => {
    // The details are for the root key (a signed request); anonymous callers only get {"status":"ok"}.
    const r = await rawRequest(server.url, { method: 'GET', bucket: '-', key: 'health', auth: { id: server.keyId, secret: server.secret } });
    assert.equal(r.status, 200);
    const body = JSON.parse(r.text) as { status: string; workers: number };
    assert.equal(body.status, 'ok');
    assert.equal(body.workers, 0);
    assert.match(server.output(), /0 media workers/);
  });

  test('a task accepted by the server waits, then a worker process runs it', async () => {
    const r = await submitAsyncProcess(asOss(src), 'short.wav', `audio/convert,f_mp3|sys/saveas,b_${b64(OUT)},o_${b64('converted/short.mp3')}`);
    await sleep(400);
    const waiting = await imm.call('GetTask', { ProjectName: 'medley-default', TaskId: r.TaskId, TaskType: 'MediaConvert' });
    assert.equal(waiting.Status, 'Running');
    assert.equal(waiting.Progress, 0, 'nobody runs it without a worker');

    const w = await worker();
    const t0 = Date.now();
    const done = await waitForEnd(r.TaskId, 'medley-default', 30_000);
    assert.equal(done.Status, 'Succeeded', `${JSON.stringify(done)}\nworker output:\n${w.output()}`);
    assert.ok(Date.now() - t0 < 15_000, `the worker picked the task up promptly (${Date.now() - t0} ms)`);
    await w.waitForOutput(new RegExp(`"taskId":"${r.TaskId}"[^\\n]*"msg":"task succeeded"`));
    const head = await out.head('converted/short.mp3');
    assert.equal(head.status, 200);
    assert.equal(await w.stop(), 0, `the worker exits cleanly on SIGTERM:\n${w.output()}`);
  });

  test('SIGTERM during a task hands it back; a second worker completes it, once', async () => {
    const first = await worker();
    const key = 'handback/long.aac';
    const r = await imm.call('CreateMediaConvertTask', {
      ProjectName: PROJECT,
      Sources: JSON.stringify([440, 660, 880].map((f) => ({ URI: `oss://${SRC}/long-${f}.wav` }))),
      Targets: JSON.stringify([{ URI: `oss://${OUT}/${key}`, Container: 'aac', Audio: { TranscodeAudio: { Codec: 'aac' } } }]),
    });
    const taskId = String(r.TaskId);
    await first.waitForOutput(new RegExp(`"taskId":"${taskId}"[^\\n]*"msg":"starting task"`));
    await sleep(500);
    assert.equal((await taskRow(taskId))?.state, 'running', 'the task is running when the worker is stopped');
    assert.equal(await first.stop(), 0, `the worker exits cleanly on SIGTERM:\n${first.output()}`);
    assert.match(first.output(), /task handed back on shutdown/);
    assert.doesNotMatch(first.output(), /task succeeded/, 'the task was still running when the worker stopped');

    // Handed back: still Running for the API, no lease, claimable at once; nothing written.
    const row = await taskRow(taskId);
    assert.equal(row?.state, 'running');
    assert.equal(row?.lease_owner, null);
    assert.equal(row?.lease_expires_at, 0);
    assert.equal(row?.attempts, 1);
    const between = await imm.call('GetTask', { ProjectName: PROJECT, TaskId: taskId, TaskType: 'MediaConvert' });
    assert.equal(between.Status, 'Running');
    assert.equal((await out.listV2({ prefix: 'handback/' })).objects.length, 0, 'no output from the stopped attempt');

    const second = await worker();
    const done = await waitForEnd(taskId, PROJECT);
    assert.equal(done.Status, 'Succeeded', `${JSON.stringify(done)}\nworker output:\n${second.output()}`);
    await second.waitForOutput(new RegExp(`"taskId":"${taskId}"[^\\n]*"msg":"resuming task"`));
    assert.equal((await taskRow(taskId))?.attempts, 2);

    const listed = await out.listV2({ prefix: 'handback/' });
    assert.deepEqual(
      listed.objects.map((o) => o.name),
      [key],
      'exactly one output object',
    );
    const file = join(fixtures, 'handback.aac');
    await writeFile(file, (await out.get(key)).content);
    const a = audioStream(ffprobe(file, ['-count_packets']));
    assert.equal(a?.codec_name, 'aac');
    const frames = (Number(a.nb_read_packets) * 1024) / Number(a.sample_rate);
    assert.ok(Math.abs(frames - 60) < 0.1, `probes as ${frames.toFixed(3)} s of AAC frames`);
    const pcm = decode(file, 8000);
    assert.ok(Math.abs(pcm.length / 8000 - 60) < 0.15, `decodes to ${pcm.length / 8000} s`);
    assertToneSequence(pcm, 8000, [
      { freq: 440, seconds: 20 },
      { freq: 660, seconds: 20 },
      { freq: 880, seconds: 20 },
    ]);
    assert.equal(await second.stop(), 0);
    assert.deepEqual(await readdir(workRootOf(dataDir)), [], 'the work directory is empty');
  });

  test(
    "a worker's output commit survives the server's concurrent writes (GetTask polling)",
    async () => {
      const w = await startWorker(dataDir, { ...WORKER_ENV, MEDLEY_WORKERS: '2' });
      workers.push(w);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await imm.call('CreateMediaConvertTask', {
          ProjectName: PROJECT,
          Sources: JSON.stringify([{ URI: `oss://${SRC}/short.wav` }]),
          Targets: JSON.stringify([{ URI: `oss://${OUT}/busy/${i}.mp3`, Container: 'mp3', Audio: { TranscodeAudio: { Codec: 'mp3' } } }]),
        });
        ids.push(String(r.TaskId));
      }
      // Clients polling GetTask (each call a signed request, so a nonce written) while the worker commits.
      const results = await Promise.all(ids.map((id) => waitForTask(imm, PROJECT, id, 60_000)));
      const failed = results.filter((t) => t.Status !== 'Succeeded');
      assert.deepEqual(
        failed.map((t) => `${String(t.TaskId)}: ${t.Code} ${t.Message}`),
        [],
        `worker output:\n${w.output()}`,
      );
    },
  );
});
