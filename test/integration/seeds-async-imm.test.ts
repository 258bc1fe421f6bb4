/**
 * Seed 000 (IMM CreateMediaConvertTask, audio merging) end to end against a real `medley serve`, through the
 * official clients, the request unchanged but for endpoint and keys: the sources are uploaded with ali-oss,
 * the task is created and polled with @alicloud/pop-core (JSON strings and its flattened form) and
 * @alicloud/openapi-client (ACS3-HMAC-SHA256 and RPC v1), the output is downloaded with ali-oss and checked
 * with ffprobe and decoded audio (tone order, lengths, no silence at the joins).
 *
 * The four client variants write the same output (`concat.{autoext}` → concat.aac), so they run one after the
 * other (each deletes the previous output first); the seed's second example (concat.mp3) runs alongside.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OSS from 'ali-oss';
import { startServer, type TestServer } from '../support/server.js';
import { openApiClient, popClient, waitForTask, type ImmCaller, type TaskResult } from '../support/tasks.js';
import { assertToneSequence, audioStream, decode, ffprobe, tone } from '../support/media.js';

const PROJECT = 'test-project';
const BUCKET = 'test-bucket';
const UPPER_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const TASK_ID = /^MediaConvert-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const EVENT_ID = /^[0-9A-F]{3}-[0-9A-Za-z]{27}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** The seed's first example, verbatim (imm-client.json `seed_request`). */
const SEED_REQUEST = {
  ProjectName: 'test-project',
  AlignmentIndex: 1,
  Notification: { MNS: { TopicName: 'test-mns-topic' } },
  Sources: [{ URI: 'oss://test-bucket/video-demo/head.mp3' }, { URI: 'oss://test-bucket/video-demo/test.mp3' }, { URI: 'oss://test-bucket/video-demo/tail.mp3' }],
  Targets: [{ Audio: { TranscodeAudio: { Bitrate: 96000, Channel: 2, Codec: 'aac', SampleRate: 44100 } }, Container: 'aac', URI: 'oss://test-bucket/video-demo/concat.{autoext}' }],
};

/** The seed's second example, verbatim. */
const SEED_REQUEST_2 = {
  ProjectName: 'test-project',
  AlignmentIndex: 0,
  Notification: { MNS: { TopicName: 'test-mns-topic' } },
  Sources: [{ URI: 'oss://test-bucket/video-demo/test.mp3' }, { URI: 'oss://test-bucket/video-demo/test1.mp3' }],
  Targets: [{ Audio: { TranscodeAudio: { Bitrate: 128000, Channel: 2, Codec: 'mp3', SampleRate: 44100 } }, Container: 'mp3', URI: 'oss://test-bucket/video-demo/concat.{autoext}' }],
};

/** Complex parameters as JSON strings, as the SDKs send them (imm-client.json `params_sent`). */
function asJsonStrings(req: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(req).map(([k, v]) => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : v]));
}

/**
 * The same request in pop-core's flattened form: arrays passed as JS arrays (pop-core writes `Sources.1.URI`);
 * pop-core only flattens arrays one object deep, so deeper fields are given as dotted names.
 */
const FLATTENED_REQUEST = {
  ProjectName: 'test-project',
  AlignmentIndex: 1,
  'Notification.MNS.TopicName': 'test-mns-topic',
  Sources: [{ URI: 'oss://test-bucket/video-demo/head.mp3' }, { URI: 'oss://test-bucket/video-demo/test.mp3' }, { URI: 'oss://test-bucket/video-demo/tail.mp3' }],
  Targets: [
    {
      'Audio.TranscodeAudio.Bitrate': 96000,
      'Audio.TranscodeAudio.Channel': 2,
      'Audio.TranscodeAudio.Codec': 'aac',
      'Audio.TranscodeAudio.SampleRate': 44100,
      Container: 'aac',
      URI: 'oss://test-bucket/video-demo/concat.{autoext}',
    },
  ],
};

const USER_DATA = '{"origin":"seed-000","note":"echoed by GetTask"}';
const TAGS = { test: 'val1', seed: '000' };

/** json-bigint (pop-core) builds null-prototype objects; plain ones compare with deepEqual. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
/** Every scalar leaf as a string: what a flattened request carries. */
const leavesAsStrings = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(leavesAsStrings) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, leavesAsStrings(x)])) : String(v);

const agent = new http.Agent({ keepAlive: true });
let server: TestServer;
let dir: string;

function oss(v4 = false): OSS {
  return new OSS({ accessKeyId: server.keyId, accessKeySecret: server.secret, endpoint: server.url, region: 'oss-cn-hangzhou', bucket: BUCKET, authorizationV4: v4, agent, timeout: 60_000 } as OSS.Options);
}
const keys = () => ({ url: server.url, keyId: server.keyId, secret: server.secret });

interface Run {
  created: Record<string, unknown>;
  task: TaskResult;
  /** Downloaded output, as a local file. */
  file: string;
  ms: number;
}

/** CreateMediaConvertTask through `imm`, GetTask (same client) until final, download `outputKey` with ali-oss. */
async function runImm(imm: ImmCaller, params: Record<string, unknown>, outputKey: string, local: string): Promise<Run> {
  const t0 = Date.now();
  const created = await imm.call('CreateMediaConvertTask', params);
  const task = await waitForTask(imm, PROJECT, String(created.TaskId), 90_000);
  assert.equal(task.Status, 'Succeeded', `task ${String(created.TaskId)} ended ${task.Status}: ${task.Code} ${task.Message}`);
  const got = await oss(true).get(outputKey);
  const file = join(dir, local);
  await writeFile(file, got.content as Buffer);
  return { created, task, file, ms: Date.now() - t0 };
}

/** Settles later but never counts as unhandled: the test awaiting it reports the failure. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

const runs = {} as Record<'popJson' | 'popFlat' | 'acs3' | 'rpcV1' | 'second', Promise<Run>>;

before(async () => {
  server = await startServer({ env: { MEDLEY_WORKERS: '2' } });
  dir = await mkdtemp(join(tmpdir(), 'medley-seeds-imm-'));
  // Distinct tones of known lengths (the recipes of cli-process.test.ts).
  tone(join(dir, 'head.mp3'), 400, 1, ['-c:a', 'libmp3lame']);
  tone(join(dir, 'test.mp3'), 800, 2, ['-c:a', 'libmp3lame']);
  tone(join(dir, 'tail.mp3'), 1200, 1, ['-c:a', 'libmp3lame']);
  tone(join(dir, 'test1.mp3'), 600, 2, ['-ar', '22050', '-c:a', 'libmp3lame']);
  const client = oss();
  await client.putBucket(BUCKET);
  for (const name of ['head.mp3', 'test.mp3', 'tail.mp3', 'test1.mp3']) await client.put(`video-demo/${name}`, await readFile(join(dir, name)));
  const pop = popClient(keys());
  await pop.call('CreateProject', { ProjectName: PROJECT });

  // One output name for the four variants: one after the other, each starting from no output.
  const fresh = async () => {
    await oss().delete('video-demo/concat.aac');
  };
  runs.popJson = quiet(fresh().then(() => runImm(pop, asJsonStrings(SEED_REQUEST), 'video-demo/concat.aac', 'pop-json.aac')));
  runs.popFlat = quiet(
    runs.popJson
      .catch(() => undefined)
      .then(fresh)
      .then(() => runImm(pop, FLATTENED_REQUEST, 'video-demo/concat.aac', 'pop-flat.aac')),
  );
  runs.acs3 = quiet(
    runs.popFlat
      .catch(() => undefined)
      .then(fresh)
      .then(() => runImm(openApiClient(keys()), { ...SEED_REQUEST, UserData: USER_DATA, Tags: TAGS }, 'video-demo/concat.aac', 'acs3.aac')),
  );
  runs.rpcV1 = quiet(
    runs.acs3
      .catch(() => undefined)
      .then(fresh)
      .then(() => runImm(openApiClient(keys(), 'v2'), SEED_REQUEST, 'video-demo/concat.aac', 'rpc-v1.aac')),
  );
  runs.second = quiet(runImm(pop, asJsonStrings(SEED_REQUEST_2), 'video-demo/concat.mp3', 'second.mp3'));
});

after(async () => {
  await Promise.allSettled(Object.values(runs));
  agent.destroy();
  await server?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** GetTask's fields and their JSON types for a finished, successful task (spec imm.md §4.10). */
function assertSucceededTask(run: Run): void {
  const { task, created } = run;
  assert.match(String(created.RequestId), UPPER_UUID);
  assert.match(String(created.TaskId), TASK_ID);
  assert.match(String(created.EventId), EVENT_ID);
  assert.match(String(task.RequestId), UPPER_UUID);
  assert.equal(task.ProjectName, PROJECT);
  assert.equal(task.TaskId, created.TaskId);
  assert.equal(task.TaskType, 'MediaConvert');
  assert.equal(task.EventId, created.EventId);
  assert.equal(task.Status, 'Succeeded');
  assert.equal(typeof task.Progress, 'number');
  assert.equal(task.Progress, 100);
  assert.equal(task.Code, '');
  assert.equal(task.Message, '');
  assert.equal(typeof task.StartTime, 'string');
  assert.equal(typeof task.EndTime, 'string');
  assert.match(String(task.StartTime), ISO_TIME);
  assert.match(String(task.EndTime), ISO_TIME);
  assert.ok(Date.parse(String(task.EndTime)) >= Date.parse(String(task.StartTime)), `EndTime ${String(task.EndTime)} before StartTime ${String(task.StartTime)}`);
  assert.equal(typeof task.UserData, 'string');
  assert.equal(typeof task.Tags, 'object');
  assert.equal(typeof task.TaskRequestDefinition, 'string');
}

/** The first example's output: aac, 44.1 kHz stereo, head (1 s) + test (2 s) + tail (1 s) in order. */
function assertFirstExampleOutput(file: string): void {
  const j = ffprobe(file);
  const a = audioStream(j);
  assert.ok(a, 'the output has an audio stream');
  assert.equal(j.streams.length, 1, 'audio only');
  assert.equal(a.codec_name, 'aac');
  assert.equal(a.sample_rate, '44100');
  assert.equal(a.channels, 2);
  const pcm = decode(file, 44100);
  // ADTS cannot signal the encoder's priming: allow one AAC frame beyond the sum.
  const seconds = pcm.length / 44100;
  assert.ok(seconds >= 4 - 0.03 && seconds <= 4 + 0.06, `decoded ${seconds} s, expected 4 s`);
  assertToneSequence(pcm, 44100, [
    { freq: 400, seconds: 1 },
    { freq: 800, seconds: 2 },
    { freq: 1200, seconds: 1 - 0.05 },
  ]);
}

describe('seed 000: IMM CreateMediaConvertTask audio merge (head + test + tail → concat.aac)', () => {
  test('pop-core POST, complex parameters as JSON strings: Succeeded, request definition = the seed request', async () => {
    const run = await runs.popJson;
    assertSucceededTask(run);
    assert.equal(run.task.UserData, '');
    assert.deepEqual(plain(run.task.Tags), {});
    assert.deepEqual(plain(JSON.parse(String(run.task.TaskRequestDefinition))), SEED_REQUEST);
    // Without RequestDefinition the definition is left out; the rest is the same.
    const bare = await popClient(keys()).call('GetTask', { ProjectName: PROJECT, TaskId: run.created.TaskId, TaskType: 'MediaConvert' });
    assert.equal(bare.TaskRequestDefinition, undefined);
    assert.equal(bare.Status, 'Succeeded');
    assert.equal(bare.EndTime, run.task.EndTime);
    assertFirstExampleOutput(run.file);
  });

  test('pop-core POST, flattened (Sources.1.URI, Targets.1.Audio.TranscodeAudio.Codec, ...)', async () => {
    const run = await runs.popFlat;
    assertSucceededTask(run);
    // Rebuilt as real JSON; a flattened request carries every scalar as text.
    const def = plain(JSON.parse(String(run.task.TaskRequestDefinition))) as Record<string, unknown>;
    assert.deepEqual(leavesAsStrings(def), leavesAsStrings(SEED_REQUEST));
    assertFirstExampleOutput(run.file);
  });

  test('openapi-client ACS3-HMAC-SHA256 (query parameters, JSON strings), with UserData and Tags echoed', async () => {
    const run = await runs.acs3;
    assertSucceededTask(run);
    assert.equal(run.task.UserData, USER_DATA);
    assert.deepEqual(plain(run.task.Tags), TAGS);
    assert.deepEqual(plain(JSON.parse(String(run.task.TaskRequestDefinition))), { ...SEED_REQUEST, UserData: USER_DATA, Tags: TAGS });
    assertFirstExampleOutput(run.file);
  });

  test('openapi-client RPC v1 signature (signatureAlgorithm v2, parameters in the query)', async () => {
    const run = await runs.rpcV1;
    assertSucceededTask(run);
    assert.deepEqual(plain(JSON.parse(String(run.task.TaskRequestDefinition))), SEED_REQUEST);
    assertFirstExampleOutput(run.file);
  });
});

describe('seed 000, second example: test + test1 → concat.mp3 (128 kb/s, stereo, 44.1 kHz, align 0)', () => {
  test('pop-core POST: Succeeded, mp3 44.1 kHz stereo ~128 kb/s, test (2 s) then test1 (2 s)', async () => {
    const run = await runs.second;
    assertSucceededTask(run);
    assert.deepEqual(plain(JSON.parse(String(run.task.TaskRequestDefinition))), SEED_REQUEST_2);
    const j = ffprobe(run.file);
    const a = audioStream(j);
    assert.ok(a);
    assert.equal(a.codec_name, 'mp3');
    assert.equal(a.sample_rate, '44100');
    assert.equal(a.channels, 2);
    assert.ok(Math.abs(Number(j.format.bit_rate) - 128000) < 12800, `bit rate ${j.format.bit_rate}`);
    const pcm = decode(run.file, 44100);
    assert.ok(Math.abs(pcm.length / 44100 - 4) < 0.03, `decoded ${pcm.length / 44100} s, expected 4 s`);
    assertToneSequence(pcm, 44100, [
      { freq: 800, seconds: 2 },
      { freq: 600, seconds: 2 - 0.05 },
    ]);
  });
});

describe('ListTasks on the seed project', () => {
  test('lists every task of this file, Succeeded, MaxResults a string equal to the page length', async () => {
    const all = await Promise.all(Object.values(runs));
    const pop = popClient(keys());
    const r = (await pop.call('ListTasks', { ProjectName: PROJECT, TaskTypes: JSON.stringify(['MediaConvert']), MaxResults: 100, RequestDefinition: true })) as Record<string, unknown>;
    assert.equal(r.ProjectName, PROJECT);
    assert.equal(typeof r.MaxResults, 'string');
    const tasks = r.Tasks as Array<Record<string, unknown>>;
    assert.ok(Array.isArray(tasks));
    assert.equal(r.MaxResults, String(tasks.length));
    assert.equal(r.NextToken, '');
    const byId = new Map(tasks.map((t) => [t.TaskId, t]));
    for (const run of all) {
      const t = byId.get(run.created.TaskId);
      assert.ok(t, `ListTasks shows ${String(run.created.TaskId)}`);
      assert.equal(t.TaskType, 'MediaConvert');
      assert.equal(t.Status, 'Succeeded');
      assert.equal(t.Progress, 100);
      assert.equal(t.Code, '');
      assert.match(String(t.StartTime), ISO_TIME);
      assert.match(String(t.EndTime), ISO_TIME);
      assert.equal(t.TaskRequestDefinition, run.task.TaskRequestDefinition);
    }
    assert.equal(tasks.length, all.length, 'only this file\'s tasks are in the project');
    // A page of one is MaxResults "1" with a token to the rest.
    const one = (await pop.call('ListTasks', { ProjectName: PROJECT, MaxResults: 1 })) as Record<string, unknown>;
    assert.equal(one.MaxResults, '1');
    assert.equal((one.Tasks as unknown[]).length, 1);
    assert.notEqual(one.NextToken, '');
  });
});
