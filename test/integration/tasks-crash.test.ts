/**
 * Crash safety of media tasks, with the real server as a process: SIGKILL while tasks run (and others are
 * still queued), look at the database while the server is down (no output of an unfinished task is
 * visible), restart on the same data directory, and every task completes exactly once with correct media.
 * Also a restart with tasks that were queued but never started.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryRows } from '../support/backend.js';
import { startServer, type TestServer } from '../support/server.js';
import { localhostAgent, makeAliClient, type AliClient } from '../support/alioss.js';
import { b64, popClient, submitAsyncProcess, waitForTask, type ImmCaller } from '../support/tasks.js';
import { assertToneSequence, audioStream, decode, ffprobe, tone } from '../support/media.js';
import type OSS from 'ali-oss';
import { workRootOf } from '../support/work-root.js';

const SRC = 'crash-src';
const OUT = 'crash-out';
const OSS_PROJECT = 'medley-default';
const IMM_PROJECT = 'crash';
const ENV = { MEDLEY_WORKERS: '2', MEDLEY_TASK_LEASE: '3' };

interface Submitted {
  taskId: string;
  project: string;
  key: string;
  tones: Array<{ freq: number; seconds: number }>;
}

const agent = localhostAgent();
let fixtures: string;
after(async () => {
  agent.destroy();
  if (fixtures) await rm(fixtures, { recursive: true, force: true });
});
before(async () => {
  fixtures = await mkdtemp(join(tmpdir(), 'medley-crash-fx-'));
});

const asOss = (c: AliClient) => c as unknown as OSS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Submits task `i`: even ones through x-oss-async-process, odd ones through IMM CreateMediaConvertTask. */
async function submit(server: TestServer, imm: ImmCaller, i: number, names: [string, string, string], seconds: number, key: string): Promise<Submitted> {
  const tones = names.map((n) => ({ freq: Number(/\d+/.exec(n)![0]), seconds }));
  if (i % 2 === 0) {
    const src = makeAliClient(server, agent, { bucket: SRC });
    const p = `audio/concat,f_aac/pre,o_${b64(names[0])}/sur,o_${b64(names[2])}|sys/saveas,b_${b64(OUT)},o_${b64(key)}`;
    const r = await submitAsyncProcess(asOss(src), names[1], p);
    return { taskId: r.TaskId, project: OSS_PROJECT, key, tones };
  }
  const r = await imm.call('CreateMediaConvertTask', {
    ProjectName: IMM_PROJECT,
    Sources: JSON.stringify(names.map((n) => ({ URI: `oss://${SRC}/${n}` }))),
    Targets: JSON.stringify([{ URI: `oss://${OUT}/${key}`, Container: 'aac', Audio: { TranscodeAudio: { Codec: 'aac' } } }]),
  });
  return { taskId: String(r.TaskId), project: IMM_PROJECT, key, tones };
}

async function setUp(server: TestServer, imm: ImmCaller, seconds: number): Promise<[string, string, string]> {
  const root = makeAliClient(server, agent, { bucket: SRC });
  await root.putBucket(SRC);
  await root.putBucket(OUT);
  const names: [string, string, string] = [`t440-${seconds}.wav`, `t660-${seconds}.wav`, `t880-${seconds}.wav`];
  for (const n of names) {
    const file = tone(join(fixtures, n), Number(/\d+/.exec(n)![0]), seconds, ['-ac', '2']);
    await root.put(n, await readFile(file));
  }
  await imm.call('CreateProject', { ProjectName: IMM_PROJECT });
  return names;
}

/** Reads the data dir's database read-only (the server is down): task states and the output bucket's keys. */
async function inspect(dataDir: string): Promise<{ tasks: Map<string, { state: string; attempts: number; leaseOwner: string | null }>; outputKeys: string[] }> {
  const rows = await queryRows<{ id: string; state: string; attempts: number; lease_owner: string | null }>(dataDir, 'SELECT id, state, attempts, lease_owner FROM tasks');
  const keys = await queryRows<{ key: string }>(dataDir, 'SELECT key FROM objects WHERE bucket = ? ORDER BY key', [OUT]);
  return { tasks: new Map(rows.map((r) => [r.id, { state: r.state, attempts: Number(r.attempts), leaseOwner: r.lease_owner }])), outputKeys: keys.map((k) => k.key) };
}

/** Every task Succeeded; the output bucket holds exactly the expected keys; each output is right. */
async function assertAllComplete(server: TestServer, submitted: Submitted[]): Promise<void> {
  const imm = popClient(server);
  for (const s of submitted) {
    const t = await waitForTask(imm, s.project, s.taskId, 60_000);
    assert.equal(t.Status, 'Succeeded', `${s.taskId} (${s.key}): ${JSON.stringify(t)}`);
    assert.equal(t.Progress, 100);
  }
  const out = makeAliClient(server, agent, { bucket: OUT });
  const listed = await out.listV2({ 'max-keys': 1000 });
  assert.deepEqual(
    listed.objects.map((o) => o.name),
    submitted.map((s) => s.key).sort(),
    'exactly one object per task in the output bucket, nothing else',
  );
  for (const s of submitted) {
    const file = join(fixtures, `${s.taskId}.aac`);
    await writeFile(file, (await out.get(s.key)).content);
    // ADTS carries no duration (ffprobe estimates one from the bit rate): count the 1024-sample AAC frames.
    const probe = ffprobe(file, ['-count_packets']);
    const a = audioStream(probe);
    assert.equal(a?.codec_name, 'aac', `${s.key} is AAC`);
    const expected = s.tones.reduce((n, t) => n + t.seconds, 0);
    const probed = (Number(a.nb_read_packets) * 1024) / Number(a.sample_rate);
    assert.ok(Math.abs(probed - expected) < 0.1, `${s.key} probes as ${probed.toFixed(3)} s of AAC frames, expected ${expected} s`);
    const sr = 8000;
    const pcm = decode(file, sr);
    const decoded = pcm.length / sr;
    assert.ok(Math.abs(decoded - expected) < 0.15, `${s.key} decodes to ${decoded.toFixed(3)} s, expected ${expected} s`);
    assertToneSequence(pcm, sr, s.tones);
  }
}

async function waitForEmptyDir(dir: string, timeoutMs = 5000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await readdir(dir);
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(50);
  }
}

describe('SIGKILL while tasks run, then restart on the same data dir', () => {
  let dataDir: string;
  let server: TestServer | undefined;
  const submitted: Submitted[] = [];
  let atKill: Awaited<ReturnType<typeof inspect>> | undefined;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'medley-crash-'));
  });
  after(async () => {
    await server?.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('six tasks are submitted, one reports progress, and the server is killed', async () => {
    server = await startServer({ dataDir, env: ENV });
    const imm = popClient(server);
    const names = await setUp(server, imm, 20);
    for (let i = 0; i < 6; i++) submitted.push(await submit(server, imm, i, names, 20, `out/${i % 2 === 0 ? 'oss' : 'imm'}-${i}.aac`));

    const deadline = Date.now() + 30_000;
    let progressed: string | undefined;
    while (!progressed) {
      for (const s of submitted) {
        const t = await imm.call('GetTask', { ProjectName: s.project, TaskId: s.taskId, TaskType: 'MediaConvert' });
        assert.equal(t.Status === 'Failed', false, JSON.stringify(t));
        if (t.Status === 'Running' && Number(t.Progress) > 0) progressed = s.taskId;
      }
      assert.ok(Date.now() < deadline, 'no task reported progress within 30 s');
      if (!progressed) await sleep(50);
    }
    await server.kill();
    server = undefined;
  });

  test('while the server is down, no output of an unfinished task is visible', async () => {
    const snap = await inspect(dataDir);
    atKill = snap;
    assert.equal(snap.tasks.size, submitted.length, 'every task is recorded');
    const unfinished = submitted.filter((s) => snap.tasks.get(s.taskId)?.state !== 'succeeded');
    assert.ok(unfinished.length >= 3, `most tasks were unfinished at the kill (${unfinished.length})`);
    assert.ok(
      submitted.some((s) => snap.tasks.get(s.taskId)?.state === 'running'),
      'a task was running when the server died',
    );
    for (const s of submitted) {
      const state = snap.tasks.get(s.taskId)?.state;
      const visible = snap.outputKeys.filter((k) => k === s.key).length;
      assert.equal(visible, state === 'succeeded' ? 1 : 0, `${s.key} (task ${state}) is listed ${visible} times`);
    }
    const expected = new Set(submitted.map((s) => s.key));
    assert.deepEqual(snap.outputKeys.filter((k) => !expected.has(k)), [], 'no stray objects in the output bucket');
  });

  test('after a restart every task Succeeds exactly once with the right media', async () => {
    server = await startServer({ dataDir, env: ENV });
    await assertAllComplete(server, submitted);
    // The tasks that were running at the kill were claimed again (a second attempt), the rest once.
    const after = await inspect(dataDir);
    for (const s of submitted) {
      const before = atKill!.tasks.get(s.taskId)!;
      const now = after.tasks.get(s.taskId)!;
      assert.equal(now.state, 'succeeded');
      if (before.state === 'running') assert.ok(now.attempts >= 2, `${s.taskId} was resumed (attempts ${now.attempts})`);
      if (before.state === 'queued') assert.equal(now.attempts, 1, `${s.taskId} ran once`);
    }
  });

  test('no task was lost: ListTasks counts every submitted task', async () => {
    assert.ok(server, 'the restarted server is running');
    const imm = popClient(server);
    for (const project of [OSS_PROJECT, IMM_PROJECT]) {
      const r = await imm.call('ListTasks', { ProjectName: project, MaxResults: 100 });
      const listed = (r.Tasks as Array<{ TaskId: string; Status: string }>).map((t) => t.TaskId).sort();
      assert.deepEqual(listed, submitted.filter((s) => s.project === project).map((s) => s.taskId).sort(), project);
      for (const t of r.Tasks as Array<{ Status: string }>) assert.equal(t.Status, 'Succeeded');
    }
  });

  test('the work directory is empty once every task has finished (attempts killed by the crash are cleaned up at restart)', async () => {
    const left = await waitForEmptyDir(workRootOf(dataDir));
    assert.deepEqual(left, [], 'work/ holds leftovers');
  });
});

test('tasks queued but never started (no workers) all complete after a restart with workers', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'medley-crash-queued-'));
  let server: TestServer | undefined;
  try {
    server = await startServer({ dataDir, env: { ...ENV, MEDLEY_WORKERS: '0' } });
    const imm = popClient(server);
    const names = await setUp(server, imm, 1);
    const submitted: Submitted[] = [];
    for (let i = 0; i < 4; i++) submitted.push(await submit(server, imm, i, names, 1, `queued/${i}.aac`));
    await sleep(300);
    for (const s of submitted) {
      const t = await imm.call('GetTask', { ProjectName: s.project, TaskId: s.taskId, TaskType: 'MediaConvert' });
      assert.equal(t.Status, 'Running');
      assert.equal(t.Progress, 0, 'nothing runs without workers');
    }
    await server.kill();
    const down = await inspect(dataDir);
    for (const s of submitted) assert.equal(down.tasks.get(s.taskId)?.state, 'queued');
    assert.deepEqual(down.outputKeys, []);

    server = await startServer({ dataDir, env: ENV });
    await assertAllComplete(server, submitted);
    assert.deepEqual(await waitForEmptyDir(workRootOf(dataDir)), []);
  } finally {
    await server?.dispose();
    await rm(dataDir, { recursive: true, force: true });
  }
});
