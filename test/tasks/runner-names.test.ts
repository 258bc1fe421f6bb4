/** Pure naming helpers of the task runner and the dead-owner test of the worker pool. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { MedleyError } from '../../src/errors.js';
import type { Container, MediaJob, SegmentTarget } from '../../src/media/job.js';
import { mainOutputKey, outputExtension, stringTags } from '../../src/tasks/runner.js';
import { isDeadLocalOwner, ownerId } from '../../src/tasks/worker-pool.js';

function job(opts: { container?: Container; segment?: SegmentTarget; template?: string; bucket?: string; tags?: Record<string, string>; resolution?: { width?: number; height?: number }; noDestination?: boolean } = {}): MediaJob {
  const container = opts.container ?? 'mp4';
  const audioOnly = ['mp3', 'aac', 'flac', 'oga', 'ac3', 'opus', 'amr'].includes(container);
  return {
    origin: 'imm',
    action: audioOnly ? 'audio/convert' : 'video/convert',
    clips: [{ source: { bucket: 'src', key: 'a/b/movie.mkv' }, startMs: 0, durationMs: 0, disableAudio: false, disableVideo: false }],
    alignIndex: 0,
    output: {
      container,
      audio: { disabled: false, codec: 'aac', bitrateOption: 'fixed' },
      video: audioOnly
        ? { disabled: true, fpsOption: 'fixed', resolutionOption: 'fixed', scaleType: 'stretch', adaptiveOrientation: false, bitrateOption: 'fixed' }
        : { disabled: false, codec: 'h264', fpsOption: 'fixed', resolutionOption: 'fixed', scaleType: 'stretch', adaptiveOrientation: false, bitrateOption: 'fixed', ...(opts.resolution ? { resolution: opts.resolution } : {}) },
      dropSubtitles: false,
      ...(opts.segment ? { segment: opts.segment } : {}),
      ...(opts.noDestination ? {} : { destination: { ...(opts.bucket === undefined ? {} : { bucket: opts.bucket }), keyTemplate: opts.template ?? 'out.{autoext}' } }),
    },
    ...(opts.tags ? { tags: opts.tags } : {}),
  };
}

// ------------------------------------------------------------------------------------ outputExtension

const extensionCases: Array<[string, MediaJob, string]> = [
  ['mp4', job({ container: 'mp4' }), 'mp4'],
  ['mkv', job({ container: 'mkv' }), 'mkv'],
  ['ts', job({ container: 'ts' }), 'ts'],
  ['webm', job({ container: 'webm' }), 'webm'],
  ['mp3', job({ container: 'mp3' }), 'mp3'],
  ['aac', job({ container: 'aac' }), 'aac'],
  ['oga', job({ container: 'oga' }), 'oga'],
  ['opus', job({ container: 'opus' }), 'opus'],
  ['ts + HLS', job({ container: 'ts', segment: { format: 'hls', durationMs: 10_000 } }), 'm3u8'],
  ['mp4 + HLS', job({ container: 'mp4', segment: { format: 'hls', durationMs: 10_000 } }), 'm3u8'],
  ['mp4 + DASH', job({ container: 'mp4', segment: { format: 'dash', durationMs: 6_000 } }), 'mpd'],
];
for (const [name, j, want] of extensionCases) {
  test(`outputExtension: ${name} → ${want}`, () => assert.equal(outputExtension(j), want));
}

// -------------------------------------------------------------------------------------- mainOutputKey

const SRC = { bucket: 'src', key: 'a/b/movie.mkv' };
const UPLOADED = new Date('2024-03-05T06:07:08Z');
const TASK_TIME = new Date('2025-12-31T23:59:58Z');

const keyCases: Array<[string, MediaJob, { bucket: string; key: string }]> = [
  ['{autoext} of an mp4', job({ template: 'out.{autoext}' }), { bucket: 'src', key: 'out.mp4' }],
  ['{dirname}/{barename}', job({ template: '{dirname}/{barename}.{autoext}', container: 'mp3' }), { bucket: 'src', key: 'a/b/movie.mp3' }],
  ['{bucket} in the key', job({ template: 'copies/{bucket}/{barename}.{autoext}' }), { bucket: 'src', key: 'copies/src/movie.mp4' }],
  ['{t_year} and friends: the task time', job({ template: '{t_year}/{t_mon}/{t_day}/{t_hour}{t_min}{t_sec}.{autoext}' }), { bucket: 'src', key: '2025/12/31/235958.mp4' }],
  ['{year}: the upload time', job({ template: '{year}{mon}{day}.{autoext}' }), { bucket: 'src', key: '20240305.mp4' }],
  ['{tags.x}', job({ template: '{tags.x}/{barename}.{autoext}', tags: { x: 'tv' } }), { bucket: 'src', key: 'tv/movie.mp4' }],
  ['{resolution}', job({ template: '{barename}_{resolution}.{autoext}', resolution: { width: 1280, height: 720 } }), { bucket: 'src', key: 'movie_1280x720.mp4' }],
  ['HLS ⇒ m3u8', job({ container: 'ts', segment: { format: 'hls', durationMs: 10_000 }, template: 'hls/{barename}.{autoext}' }), { bucket: 'src', key: 'hls/movie.m3u8' }],
  ['DASH ⇒ mpd', job({ container: 'mp4', segment: { format: 'dash', durationMs: 6_000 }, template: 'dash/{barename}.{autoext}' }), { bucket: 'src', key: 'dash/movie.mpd' }],
  ['an explicit bucket', job({ bucket: 'elsewhere', template: '{bucket}-{barename}.{autoext}' }), { bucket: 'elsewhere', key: 'src-movie.mp4' }],
  ['no bucket: the source bucket', job({ template: 'x.{autoext}' }), { bucket: 'src', key: 'x.mp4' }],
  ['literal braces', job({ template: '{{lit}}.{autoext}' }), { bucket: 'src', key: '{lit}.mp4' }],
  // spec/imm.md §4.9 example `oss://{bucket}/{tags.custom}/{dirname}/{barename}.{autoext}`; oss.md 5.3: "o/b accept variables".
  ['a {bucket} bucket template', job({ bucket: '{bucket}', template: '{tags.custom}/{dirname}/{barename}.{autoext}', tags: { custom: 'c' } }), { bucket: 'src', key: 'c/a/b/movie.mp4' }],
];
for (const [name, j, want] of keyCases) {
  test(`mainOutputKey: ${name}`, () => assert.deepEqual(mainOutputKey(j, SRC, UPLOADED, TASK_TIME), want));
}

test('mainOutputKey: without an upload time, {year} falls back to the task time', () => {
  assert.equal(mainOutputKey(job({ template: '{year}-{t_year}.{autoext}' }), SRC, undefined, TASK_TIME).key, '2025-2025.mp4');
});

test('mainOutputKey: the template source names the variables, not the clip', () => {
  assert.deepEqual(mainOutputKey(job({ template: '{dirname}/{barename}.{autoext}' }), { bucket: 'other', key: 'x/y.wav' }, UPLOADED, TASK_TIME), { bucket: 'other', key: 'x/y.mp4' });
});

const badTemplates: Array<[string, MediaJob]> = [
  ['an unknown variable', job({ template: '{nope}.{autoext}' })],
  ['an unknown tag', job({ template: '{tags.missing}.{autoext}', tags: { x: '1' } })],
  ['{resolution} without a resolution', job({ template: '{resolution}.{autoext}' })],
  ['an unclosed brace', job({ template: 'out.{autoext' })],
  ['no destination at all', job({ noDestination: true })],
];
test('mainOutputKey: an empty {dirname} (source at the bucket root) leaves no leading or double slash', () => {
  const root = { bucket: SRC.bucket, key: 'a.wav' };
  assert.equal(mainOutputKey(job({ template: '{dirname}/{barename}.{autoext}' }), root, UPLOADED, TASK_TIME).key, 'a.mp4');
  assert.equal(mainOutputKey(job({ template: 'x/{dirname}/{barename}.{autoext}' }), root, UPLOADED, TASK_TIME).key, 'x/a.mp4');
});

for (const [name, j] of badTemplates) {
  test(`mainOutputKey: ${name} is InvalidArgument`, () => {
    assert.throws(
      () => mainOutputKey(j, SRC, UPLOADED, TASK_TIME),
      (e: unknown) => e instanceof MedleyError && e.code === 'InvalidArgument',
    );
  });
}

test('stringTags: strings kept, other values as JSON', () => {
  assert.deepEqual(stringTags({ a: 'x', n: 1, b: true, o: { k: 1 } }), { a: 'x', n: '1', b: 'true', o: '{"k":1}' });
  assert.deepEqual(stringTags(undefined), {});
});

// ----------------------------------------------------------------------------------- isDeadLocalOwner

const HOST = hostname();
const never = (): boolean => {
  throw new Error('alive() must not be asked');
};

test('ownerId: host, pid, boot nonce and slot', () => {
  const parts = ownerId(3).split(':');
  assert.equal(parts.length, 4);
  assert.equal(parts[0], HOST);
  assert.equal(parts[1], String(process.pid));
  assert.match(parts[2]!, /^[0-9a-f]{12}$/);
  assert.equal(parts[3], '3');
  assert.equal(ownerId(0).split(':')[2], parts[2], 'one boot nonce per process');
});

test('isDeadLocalOwner: an owner on another host is never dead here', () => {
  assert.equal(isDeadLocalOwner(`not-${HOST}:${process.pid}:abcdef012345:0`, () => false), false);
  assert.equal(isDeadLocalOwner(`not-${HOST}:999999:abcdef012345:0`, () => false), false);
});

test('isDeadLocalOwner: this pid with this boot is alive', () => {
  assert.equal(isDeadLocalOwner(ownerId(0), never), false);
  assert.equal(isDeadLocalOwner(ownerId(7)), false);
});

test('isDeadLocalOwner: this pid with another boot id is a previous process that reused the pid: dead', () => {
  const [host, pid] = ownerId(0).split(':');
  const boot = ownerId(0).split(':')[2] === 'ffffffffffff' ? '000000000000' : 'ffffffffffff';
  assert.equal(isDeadLocalOwner(`${host}:${pid}:${boot}:0`, never), true);
});

test('isDeadLocalOwner: another local pid is judged by alive()', () => {
  const other = process.pid + 1;
  const asked: number[] = [];
  assert.equal(
    isDeadLocalOwner(`${HOST}:${other}:abcdef012345:0`, (pid) => {
      asked.push(pid);
      return false;
    }),
    true,
    'a pid that does not exist',
  );
  assert.deepEqual(asked, [other]);
  assert.equal(isDeadLocalOwner(`${HOST}:${other}:abcdef012345:0`, () => true), false, 'a live process');
});

test('isDeadLocalOwner: the default alive() check finds a pid that does not exist', () => {
  // Far above any pid_max (4194304 on Linux).
  assert.equal(isDeadLocalOwner(`${HOST}:2147483646:abcdef012345:0`), true);
  assert.equal(isDeadLocalOwner(`${HOST}:${process.ppid}:abcdef012345:0`), false, 'the parent process exists');
});

test('isDeadLocalOwner: an unparsable pid is never called dead', () => {
  for (const owner of [`${HOST}:abc:x:0`, `${HOST}:0:x:0`, `${HOST}:-5:x:0`, `${HOST}`, `${HOST}:1.5:x:0`]) {
    assert.equal(isDeadLocalOwner(owner, never), false, owner);
  }
});
