/** The task front office over a real SQLite file and blob store: authorisation, existence checks, the stored row, reads. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Principal } from '../../src/auth/policy.js';
import type { Db } from '../../src/db/connection.js';
import { openTestDatabase } from '../support/backend.js';
import { MedleyError } from '../../src/errors.js';
import type { MediaJob } from '../../src/media/job.js';
import { parseProcessString } from '../../src/media/request/process-string.js';
import { outputNames } from '../../src/media/output-name.js';
import { openStorage, type Storage } from '../../src/storage/index.js';
import { TaskQueue } from '../../src/tasks/queue.js';
import { TaskService, TaskSignal, type SubmitTaskInput } from '../../src/tasks/service.js';

const T0 = new Date('2025-06-07T08:09:10.123Z');
const RETENTION = 7 * 24 * 3600 * 1000;
const root: Principal = { kind: 'signed', accessKeyId: 'root' };
const attrs = { contentType: 'audio/wav', headers: {}, meta: {}, acl: 'default' as const, storageClass: 'Standard' };

let dir: string;
let db: Db;
let storage: Storage;
let queue: TaskQueue;
let signal: TaskSignal;
let service: TaskService;
let clock = T0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medley-q-'));
  db = await openTestDatabase(dir);
  storage = await openStorage(db, { dataDir: dir, fsync: false, maxObjectBytes: 1e9 });
  for (const b of ['in', 'out', 'src-bucket']) await storage.buckets.create(b, 'private', 'Standard');
  await storage.objects.put('in', 'a.wav', Readable.from(Buffer.from('RIFF....WAVE')), { attrs });
  await storage.objects.put('src-bucket', 'dir/song.wav', Readable.from(Buffer.from('RIFF....WAVE')), { attrs });
  queue = new TaskQueue(db, () => clock);
  signal = new TaskSignal();
  service = new TaskService(queue, storage, { retentionMs: RETENTION, signal, now: () => clock });
});
after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** audio/convert of in/a.wav to mp3, saved as `template` in `bucket` (the source's bucket when undefined). */
function job(opts: { source?: { bucket: string; key: string }; template?: string; bucket?: string; tags?: Record<string, string>; userData?: string; origin?: 'oss' | 'imm' } = {}): MediaJob {
  const source = opts.source ?? { bucket: 'in', key: 'a.wav' };
  return {
    origin: opts.origin ?? 'oss',
    action: 'audio/convert',
    clips: [{ source, startMs: 0, durationMs: 0, disableAudio: false, disableVideo: false }],
    alignIndex: 0,
    output: {
      container: 'mp3',
      audio: { disabled: false, codec: 'mp3', bitrate: 96000, bitrateOption: 'fixed' },
      video: { disabled: true, fpsOption: 'fixed', resolutionOption: 'fixed', scaleType: 'stretch', adaptiveOrientation: false, bitrateOption: 'fixed' },
      dropSubtitles: false,
      destination: { ...(opts.bucket === undefined ? {} : { bucket: opts.bucket }), keyTemplate: opts.template ?? 'out.{autoext}' },
    },
    ...(opts.tags ? { tags: opts.tags } : {}),
    ...(opts.userData !== undefined ? { userData: opts.userData } : {}),
  };
}

function input(j: MediaJob, over: Partial<SubmitTaskInput> = {}): SubmitTaskInput {
  return {
    job: j,
    projectName: 'proj',
    principal: root,
    requestDefinition: { ProjectName: 'proj', Sources: [{ URI: `oss://${j.clips[0]!.source.bucket}/${j.clips[0]!.source.key}` }] },
    templateSource: j.clips[0]!.source,
    origin: j.origin,
    requestId: 'REQ-1',
    ...over,
  };
}

const medleyError = (code: string, check?: (e: MedleyError) => void) => (e: unknown) => {
  assert.ok(e instanceof MedleyError, `expected a MedleyError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  check?.(e);
  return true;
};

const countTasks = async () => Number((await db.selectFrom('tasks').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

test('submit stores a queued task with every field and emits queued', async () => {
  let queued = 0;
  const onQueued = () => queued++;
  signal.on('queued', onQueued);
  try {
    const j = job({ bucket: 'out', tags: { env: 'prod', n: '1' }, userData: '{"who":"me"}' });
    const def = { ProjectName: 'proj', Sources: [{ URI: 'oss://in/a.wav' }], Targets: [{ URI: 'oss://out/out.{autoext}', Container: 'mp3' }] };
    const r = await service.submit(input(j, { requestDefinition: def, requestId: 'REQ-42' }));
    assert.match(r.taskId, /^MediaConvert-[0-9a-f-]{36}$/);
    assert.match(r.eventId, /^[0-9A-F]{3}-[0-9A-Za-z]{27}$/);
    assert.equal(r.requestId, 'REQ-42');
    assert.equal(queued, 1, 'one queued signal');

    const t = await service.get('proj', r.taskId, root);
    assert.ok(t);
    assert.equal(t.taskId, r.taskId);
    assert.equal(t.eventId, r.eventId);
    assert.equal(t.requestId, 'REQ-42');
    assert.equal(t.projectName, 'proj');
    assert.equal(t.taskType, 'MediaConvert');
    assert.equal(t.state, 'queued');
    assert.equal(t.status, 'Running');
    assert.equal(t.progress, 0);
    assert.equal(t.code, '');
    assert.equal(t.message, '');
    assert.equal(t.attempts, 0);
    assert.equal(t.leaseOwner, undefined);
    assert.equal(t.startedAt, undefined);
    assert.equal(t.endedAt, undefined);
    assert.deepEqual(t.outputs, []);
    assert.deepEqual(t.tags, { env: 'prod', n: '1' });
    assert.equal(t.userData, '{"who":"me"}');
    assert.deepEqual(JSON.parse(t.requestDefinition), def);
    assert.deepEqual(t.spec, { job: j, templateSource: { bucket: 'in', key: 'a.wav' }, origin: 'oss' });
    assert.equal(t.createdAt.getTime(), T0.getTime());
    assert.equal(t.expiresAt.getTime(), T0.getTime() + RETENTION);
    assert.equal(t.notifyTopic, undefined);
  } finally {
    signal.off('queued', onQueued);
  }
});

test('submit without tags or user data stores {} and ""; a notify topic is kept', async () => {
  const j: MediaJob = { ...job(), notify: { topic: 'my-topic' } };
  const r = await service.submit(input(j));
  const t = await service.get('proj', r.taskId, root);
  assert.deepEqual(t?.tags, {});
  assert.equal(t?.userData, '');
  assert.equal(t?.notifyTopic, 'my-topic');
});

test('every submit gets fresh ids', async () => {
  const a = await service.submit(input(job()));
  const b = await service.submit(input(job()));
  assert.notEqual(a.taskId, b.taskId);
  assert.notEqual(a.eventId, b.eventId);
});

test('a job from parseProcessString is accepted as is', async () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  const j = parseProcessString('audio/convert,f_mp3,ab_96000|sys/saveas,o_' + b64('{dirname}/{barename}.{autoext}'), { bucket: 'src-bucket', key: 'dir/song.wav' }, { requireSaveAs: true });
  const r = await service.submit(input(j, { origin: 'oss' }));
  const t = await service.get('proj', r.taskId, root);
  assert.deepEqual(t?.spec.job, j);
  assert.deepEqual(t?.spec.templateSource, { bucket: 'src-bucket', key: 'dir/song.wav' });
  assert.deepEqual(await outputOf(r.taskId), { bucket: 'src-bucket', key: 'dir/song.mp3' });
});

test('an anonymous principal is refused with AccessDenied and nothing is stored', async () => {
  const before = await countTasks();
  let queued = 0;
  const onQueued = () => queued++;
  signal.on('queued', onQueued);
  try {
    await assert.rejects(service.submit(input(job({ bucket: 'out' }), { principal: { kind: 'anonymous' } })), medleyError('AccessDenied'));
  } finally {
    signal.off('queued', onQueued);
  }
  assert.equal(await countTasks(), before);
  assert.equal(queued, 0);
});

test('a key granted read on the source only may not write to the output bucket', async () => {
  const before = await countTasks();
  const scoped: Principal = { kind: 'signed', accessKeyId: 'k', grants: { in: 'read' } };
  await assert.rejects(service.submit(input(job({ bucket: 'out' }), { principal: scoped })), medleyError('AccessDenied', (e) => assert.match(e.message, /out/)));
  assert.equal(await countTasks(), before);
});

test('a key with read on the source and read-write on the output bucket may submit', async () => {
  const scoped: Principal = { kind: 'signed', accessKeyId: 'k', grants: { in: 'read', out: 'read-write' } };
  const r = await service.submit(input(job({ bucket: 'out' }), { principal: scoped }));
  assert.equal((await service.get('proj', r.taskId, root))?.state, 'queued');
});

test('a key without read on the source is refused with AccessDenied', async () => {
  const scoped: Principal = { kind: 'signed', accessKeyId: 'k', grants: { out: 'read-write' } };
  await assert.rejects(service.submit(input(job({ bucket: 'out' }), { principal: scoped })), medleyError('AccessDenied', (e) => assert.match(e.message, /oss:\/\/in\/a\.wav/)));
});

test('a key with read only on the source bucket may not write outputs next to it', async () => {
  const scoped: Principal = { kind: 'signed', accessKeyId: 'k', grants: { in: 'read' } };
  await assert.rejects(service.submit(input(job(), { principal: scoped })), medleyError('AccessDenied'));
});

test('origin oss: a missing source is NoSuchKey naming the key', async () => {
  const before = await countTasks();
  const j = job({ source: { bucket: 'in', key: 'missing/nothing.wav' } });
  await assert.rejects(
    service.submit(input(j, { origin: 'oss' })),
    medleyError('NoSuchKey', (e) => {
      assert.match(e.message, /missing\/nothing\.wav/);
      assert.equal(e.details.Key, 'missing/nothing.wav');
    }),
  );
  assert.equal(await countTasks(), before);
});

test('origin imm: a missing source is accepted (the worker fails the task later)', async () => {
  const j = job({ source: { bucket: 'in', key: 'missing/nothing.wav' }, origin: 'imm' });
  const r = await service.submit(input(j, { origin: 'imm' }));
  const t = await service.get('proj', r.taskId, root);
  assert.equal(t?.state, 'queued');
  assert.equal(t?.spec.origin, 'imm');
});

test('a missing source or output bucket is NoSuchBucket', async () => {
  await assert.rejects(service.submit(input(job({ source: { bucket: 'nobucket', key: 'a.wav' } }))), medleyError('NoSuchBucket'));
  await assert.rejects(service.submit(input(job({ bucket: 'nobucket' }))), medleyError('NoSuchBucket'));
});

test('an output template with an unknown variable is InvalidArgument at submit time', async () => {
  const before = await countTasks();
  await assert.rejects(service.submit(input(job({ template: '{nope}.{autoext}' }))), medleyError('InvalidArgument', (e) => assert.match(e.message, /\{nope\}/)));
  assert.equal(await countTasks(), before);
});

/** The output the runner will write for a stored task: the names from its stored job, source and creation time. */
async function outputOf(taskId: string, projectName = 'proj'): Promise<{ bucket: string; key: string }> {
  const t = await service.get(projectName, taskId, root);
  assert.ok(t, `task ${taskId} exists`);
  const { bucket, key } = outputNames(t.spec.job, t.spec.templateSource, undefined, t.createdAt);
  return { bucket, key };
}

test('an output template using tags and task time is accepted and expands to the tag and the task year', async () => {
  const r = await service.submit(input(job({ template: '{tags.env}/{t_year}/{barename}.{autoext}', tags: { env: 'prod' } })));
  assert.deepEqual(await outputOf(r.taskId), { bucket: 'in', key: `prod/${T0.getUTCFullYear()}/a.mp3` });
});

test('get() of another project is undefined', async () => {
  const r = await service.submit(input(job()));
  assert.ok(await service.get('proj', r.taskId, root));
  assert.equal(await service.get('other-proj', r.taskId, root), undefined);
  assert.equal(await service.get('proj', 'MediaConvert-00000000-0000-4000-8000-000000000000', root), undefined);
});

test('get() after retention is undefined', async () => {
  const r = await service.submit(input(job(), { projectName: 'retained' }));
  clock = new Date(T0.getTime() + RETENTION - 1);
  try {
    assert.ok(await service.get('retained', r.taskId, root));
    clock = new Date(T0.getTime() + RETENTION);
    assert.equal(await service.get('retained', r.taskId, root), undefined);
  } finally {
    clock = T0;
  }
});

test('hasActiveTasks reflects queued tasks of the project', async () => {
  assert.equal(await service.hasActiveTasks('idle-proj'), false);
  await service.submit(input(job(), { projectName: 'idle-proj' }));
  assert.equal(await service.hasActiveTasks('idle-proj'), true);
});

test('list returns the project tasks; a bad token is MedleyError InvalidArgument', async () => {
  const a = await service.submit(input(job(), { projectName: 'listed' }));
  const b = await service.submit(input(job(), { projectName: 'listed' }));
  const page = await service.list({ projectName: 'listed', sort: 'TaskId', order: 'asc', maxResults: 100 }, root);
  assert.deepEqual(page.tasks.map((t) => t.taskId), [a.taskId, b.taskId].sort());
  await assert.rejects(service.list({ projectName: 'listed', sort: 'TaskId', order: 'asc', maxResults: 10, nextToken: 'garbage!' }, root), medleyError('InvalidArgument', (e) => assert.match(e.message, /garbage!/)));
});

test('an output bucket written as the {bucket} template (spec/imm.md §4.9 example) means the source bucket', async () => {
  // parseMediaConvertRequest keeps `oss://{bucket}/...` as destination bucket "{bucket}" for later expansion.
  const r = await service.submit(input(job({ bucket: '{bucket}', template: '{barename}.{autoext}', origin: 'imm' }), { origin: 'imm' }));
  assert.equal((await service.get('proj', r.taskId, root))?.state, 'queued');
  assert.deepEqual(await outputOf(r.taskId), { bucket: 'in', key: 'a.mp3' });
  assert.deepEqual(await queue.bucketsOf(r.taskId), ['in'], 'the task touches the source bucket only');
});

test('submit records the submitting key and the buckets the task touches; reads follow the reader\'s grants', async () => {
  const app: Principal = { kind: 'signed', accessKeyId: 'app-key', grants: { in: 'read', out: 'read-write' } };
  const r = await service.submit(input(job({ bucket: 'out' }), { principal: app, projectName: 'tenancy' }));
  const row = await db.selectFrom('tasks').select('owner_key').where('id', '=', r.taskId).executeTakeFirstOrThrow();
  assert.equal(row.owner_key, 'app-key');
  assert.deepEqual(await queue.bucketsOf(r.taskId), ['in', 'out']);
  const inOnly: Principal = { kind: 'signed', accessKeyId: 'reader', grants: { in: 'read' } };
  const both: Principal = { kind: 'signed', accessKeyId: 'reader', grants: { in: 'read', out: 'read' } };
  assert.equal(await service.get('tenancy', r.taskId, inOnly), undefined, 'no grant on the output bucket: not visible');
  assert.ok(await service.get('tenancy', r.taskId, both));
  assert.ok(await service.get('tenancy', r.taskId, app), 'its submitter sees it');
  assert.deepEqual((await service.list({ projectName: 'tenancy', sort: 'TaskId', order: 'asc', maxResults: 10 }, inOnly)).tasks, []);
});

test('the per-key queued cap is MedleyError TaskQueueFull naming the setting; other keys still submit', async () => {
  const capped = new TaskService(queue, storage, { retentionMs: RETENTION, signal, now: () => clock, maxQueuedPerKey: 2 });
  const k: Principal = { kind: 'signed', accessKeyId: 'busy-key', grants: { in: 'read', out: 'read-write' } };
  await capped.submit(input(job({ bucket: 'out' }), { principal: k }));
  await capped.submit(input(job({ bucket: 'out' }), { principal: k }));
  await assert.rejects(
    capped.submit(input(job({ bucket: 'out' }), { principal: k })),
    medleyError('TooManyRequests', (e) => {
      assert.equal(e.entry.immCode, 'LimitExceededError');
      assert.match(e.message, /busy-key.*MEDLEY_MAX_QUEUED_PER_KEY = 2/);
    }),
  );
  await capped.submit(input(job({ bucket: 'out' }), { principal: { kind: 'signed', accessKeyId: 'calm-key', grants: { in: 'read', out: 'read-write' } } }));
});
