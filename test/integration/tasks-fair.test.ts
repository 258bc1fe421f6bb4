/**
 * Fair scheduling on the real server: with 2 workers (the default per-key limit is then 1), one key's
 * backlog of long tasks holds one worker, and another key's short task starts on the other at once
 * instead of waiting behind the backlog (FIFO would have run both long tasks first).
 *
 * The assertions are on the order the server recorded (started_at / ended_at), not on wall-clock
 * durations, so a loaded machine does not make them flaky.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tone } from '../support/media.js';
import { queryRows } from '../support/backend.js';
import { rawRequest } from '../support/raw-client.js';
import { startServer, type TestServer } from '../support/server.js';
import { popClient, waitForTask } from '../support/tasks.js';

const BUCKET = 'fair-media';
const PROJECT = 'fair';
const BULK = { accessKeyId: 'LTAIfairBulk00001', accessKeySecret: 'BulkSecret000000000000000000001', buckets: { [BUCKET]: 'read-write' } };
const SMALL = { accessKeyId: 'LTAIfairSmall0001', accessKeySecret: 'SmallSecret00000000000000000001', buckets: { [BUCKET]: 'read-write' } };

let dataDir: string;
let fixtures: string;
let server: TestServer;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'medley-fair-'));
  fixtures = await mkdtemp(join(tmpdir(), 'medley-fair-fx-'));
  await writeFile(join(dataDir, 'access-keys.json'), JSON.stringify({ keys: [BULK, SMALL] }));
  server = await startServer({ dataDir, env: { MEDLEY_WORKERS: '2' } });
  const root = { id: server.keyId, secret: server.secret };
  assert.equal((await rawRequest(server.url, { method: 'PUT', bucket: BUCKET, auth: root })).status, 200);
  // Long: minutes of audio to encode. Short: one second.
  for (const [key, seconds] of [['long.wav', 90], ['short.wav', 1]] as const) {
    const body = await readFile(tone(join(fixtures, key), 440, seconds, ['-ac', '1', '-ar', '22050']));
    assert.equal((await rawRequest(server.url, { method: 'PUT', bucket: BUCKET, key, body, auth: root })).status, 200);
  }
  await popClient(server).call('CreateProject', { ProjectName: PROJECT });
});

after(async () => {
  await server?.dispose();
  await rm(dataDir, { recursive: true, force: true });
  await rm(fixtures, { recursive: true, force: true });
});

test('another key\'s short task starts before the second of one key\'s long tasks; that key never holds both workers', async () => {
  const as = (k: typeof BULK) => popClient({ url: server.url, keyId: k.accessKeyId, secret: k.accessKeySecret });
  const submit = async (k: typeof BULK, source: string, out: string) =>
    (
      (await as(k).call('CreateMediaConvertTask', {
        ProjectName: PROJECT,
        Sources: JSON.stringify([{ URI: `oss://${BUCKET}/${source}` }]),
        Targets: JSON.stringify([{ URI: `oss://${BUCKET}/${out}`, Container: 'mp3', Audio: { TranscodeAudio: { Codec: 'mp3' } } }]),
      })) as { TaskId: string }
    ).TaskId;
  const long1 = await submit(BULK, 'long.wav', 'out/long1.mp3');
  const long2 = await submit(BULK, 'long.wav', 'out/long2.mp3');
  const short = await submit(SMALL, 'short.wav', 'out/short.mp3');

  for (const [id, k] of [[short, SMALL], [long1, BULK], [long2, BULK]] as const) assert.equal((await waitForTask(as(k), PROJECT, id, 120_000)).Status, 'Succeeded');

  const rows = (await queryRows<{ id: string; owner_key: string; started_at: number; ended_at: number }>(dataDir, 'SELECT id, owner_key, started_at, ended_at FROM tasks')).map((r) => ({ ...r, started_at: Number(r.started_at), ended_at: Number(r.ended_at) }));
  const at = (id: string) => rows.find((r) => r.id === id)!;
  assert.equal(at(long1).owner_key, BULK.accessKeyId, 'the submitting key is recorded');
  assert.equal(at(short).owner_key, SMALL.accessKeyId);
  assert.ok(at(long2).started_at >= at(long1).ended_at, 'the bulk key ran one task at a time (MEDLEY_MAX_RUNNING_PER_KEY auto = workers - 1)');
  assert.ok(at(short).started_at < at(long2).started_at, 'the short task did not wait behind the older long task');
  assert.ok(at(short).started_at <= at(long1).ended_at, 'the short task started while the first long task was running');
});
