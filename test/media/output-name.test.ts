/**
 * Output naming (src/media/output-name.ts): one table over every template variable, through
 * `outputNames`, the function the task service, the task runner and `medley process` all call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MedleyError } from '../../src/errors.js';
import type { Container, MediaJob, SegmentTarget } from '../../src/media/job.js';
import { checkOutputKey, expandTemplate, outputExtension, outputFileKey, outputLayout, outputNames, stringTags, templateVariables } from '../../src/media/output-name.js';

interface JobOptions {
  container?: Container;
  segment?: SegmentTarget;
  template?: string;
  bucket?: string;
  tags?: Record<string, string>;
  resolution?: { width?: number; height?: number };
  noDestination?: boolean;
}

function job(opts: JobOptions = {}): MediaJob {
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

const SRC = { bucket: 'src', key: 'a/b/movie.mkv' };
const UPLOADED = new Date('2024-03-05T06:07:08Z');
const TASK_TIME = new Date('2025-12-31T23:59:58Z');
const HLS: SegmentTarget = { format: 'hls', durationMs: 10_000 };
const DASH: SegmentTarget = { format: 'dash', durationMs: 6_000 };

// ----------------------------------------------------------------------------- every variable, one table

interface Case {
  name: string;
  job: JobOptions;
  /** Default SRC. */
  source?: { bucket: string; key: string };
  /** Default UPLOADED; null: unknown (the task service names before it reads the source). */
  lastModified?: Date | null;
  want: { bucket?: string; key: string; dir?: string; fileStem?: string };
}

const cases: Case[] = [
  // Media-specific variables.
  { name: '{autoext}: the container extension', job: { template: 'out.{autoext}' }, want: { key: 'out.mp4' } },
  { name: '{autoext}: mp3', job: { template: 'out.{autoext}', container: 'mp3' }, want: { key: 'out.mp3' } },
  { name: '{autoext}: HLS ⇒ the playlist, segments named after it', job: { container: 'ts', segment: HLS, template: 'hls/{barename}.{autoext}' }, want: { key: 'hls/movie.m3u8', dir: 'hls/', fileStem: 'movie' } },
  { name: '{autoext}: DASH ⇒ the manifest', job: { container: 'mp4', segment: DASH, template: 'dash/{barename}.{autoext}' }, want: { key: 'dash/movie.mpd', dir: 'dash/', fileStem: 'movie' } },
  { name: '{resolution}', job: { template: '{dirname}/{barename}_{resolution}.{autoext}', resolution: { width: 1280, height: 720 } }, want: { key: 'a/b/movie_1280x720.mp4', dir: 'a/b/' } },
  { name: '{index} and {streamindex}: the first output, the first stream', job: { template: 'f_{streamindex}_{index}.{autoext}' }, want: { key: 'f_0_1.mp4' } },
  // Variables about the source object.
  { name: '{bucket}', job: { template: 'copies/{bucket}/{barename}.{autoext}' }, want: { key: 'copies/src/movie.mp4' } },
  { name: '{key}', job: { template: 'all/{key}.{autoext}' }, want: { key: 'all/a/b/movie.mkv.mp4' } },
  { name: '{dirname}/{barename}', job: { template: '{dirname}/{barename}.{autoext}', container: 'mp3' }, want: { key: 'a/b/movie.mp3', dir: 'a/b/' } },
  { name: '{basename} and {ext}', job: { template: '{basename}-{ext}.{autoext}' }, want: { key: 'movie.mkv-mkv.mp4' } },
  { name: '{dirname} of a root-level source: no leading slash', job: { template: '{dirname}/{barename}.{autoext}' }, source: { bucket: 'src', key: 'clip.wav' }, want: { key: 'clip.mp4', dir: '' } },
  { name: '{dirname} of a root-level source: no double slash', job: { template: 'x/{dirname}/{barename}.{autoext}' }, source: { bucket: 'src', key: 'clip.wav' }, want: { key: 'x/clip.mp4', dir: 'x/' } },
  { name: '{barename} of a name without extension', job: { template: '{barename}.{autoext}' }, source: { bucket: 'src', key: 'd/noext' }, want: { key: 'noext.mp4' } },
  { name: '{barename} of a dot file', job: { template: '{barename}-{ext}.{autoext}' }, source: { bucket: 'src', key: '.hidden' }, want: { key: '.hidden-.mp4' } },
  { name: 'the template source names the variables, not the clip', job: { template: '{dirname}/{barename}.{autoext}' }, source: { bucket: 'other', key: 'x/y.wav' }, want: { bucket: 'other', key: 'x/y.mp4' } },
  // Times: upload time and task time.
  { name: '{year}{mon}{day}{hour}{min}{sec}: the upload time', job: { template: '{year}{mon}{day}-{hour}{min}{sec}.{autoext}' }, want: { key: '20240305-060708.mp4' } },
  { name: '{t_year}…{t_sec}: the task time', job: { template: '{t_year}/{t_mon}/{t_day}/{t_hour}{t_min}{t_sec}.{autoext}' }, want: { key: '2025/12/31/235958.mp4', dir: '2025/12/31/' } },
  { name: '{year} without an upload time: the task time', job: { template: '{year}-{t_year}.{autoext}' }, lastModified: null, want: { key: '2025-2025.mp4' } },
  // Tags.
  { name: '{tags.x}', job: { template: '{tags.x}/{barename}.{autoext}', tags: { x: 'tv' } }, want: { key: 'tv/movie.mp4' } },
  // Escapes and literals.
  { name: '{{ and }}: literal braces', job: { template: '{{lit}}.{autoext}' }, want: { key: '{lit}.mp4' } },
  { name: 'no variables at all', job: { template: 'plain.mp3' }, want: { key: 'plain.mp3' } },
  // The output bucket.
  { name: 'no bucket: the source bucket', job: { template: 'x.{autoext}' }, want: { bucket: 'src', key: 'x.mp4' } },
  { name: 'an explicit bucket', job: { bucket: 'elsewhere', template: '{bucket}-{barename}.{autoext}' }, want: { bucket: 'elsewhere', key: 'src-movie.mp4' } },
  // spec/imm.md §4.9 example `oss://{bucket}/{tags.custom}/{dirname}/{barename}.{autoext}`; oss.md 5.3: "o/b accept variables".
  { name: 'a {bucket} bucket template', job: { bucket: '{bucket}', template: '{tags.custom}/{dirname}/{barename}.{autoext}', tags: { custom: 'c' } }, want: { bucket: 'src', key: 'c/a/b/movie.mp4', dir: 'c/a/b/' } },
  // Segment file naming.
  { name: 'HLS with a playlist at the root', job: { container: 'ts', segment: HLS, template: 'out.{autoext}' }, want: { key: 'out.m3u8', dir: '', fileStem: 'out' } },
  { name: 'HLS with an extensionless name: named after it', job: { container: 'ts', segment: HLS, template: 'v/stream' }, want: { key: 'v/stream', dir: 'v/', fileStem: 'stream' } },
  { name: 'HLS with a dot-file playlist: the engine default', job: { container: 'ts', segment: HLS, template: 'v/.m3u8' }, want: { key: 'v/.m3u8', dir: 'v/', fileStem: 'output' } },
  { name: 'no segments: the engine default stem', job: { template: 'v/{barename}.{autoext}' }, want: { key: 'v/movie.mp4', dir: 'v/', fileStem: 'output' } },
];

for (const c of cases) {
  test(`outputNames: ${c.name}`, () => {
    const lastModified = c.lastModified === null ? undefined : (c.lastModified ?? UPLOADED);
    const got = outputNames(job(c.job), c.source ?? SRC, lastModified, TASK_TIME);
    const key = c.want.key;
    const dir = c.want.dir ?? (key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '');
    assert.deepEqual(got, { bucket: c.want.bucket ?? (c.source ?? SRC).bucket, key, dir, fileStem: c.want.fileStem ?? 'output' });
  });
}

const badTemplates: Array<[string, JobOptions, string]> = [
  ['an unknown variable', { template: '{nope}.{autoext}' }, '{nope}'],
  ['an unknown tag', { template: '{tags.missing}.{autoext}', tags: { x: '1' } }, '{tags.missing}'],
  ['{resolution} without a resolution', { template: '{resolution}.{autoext}' }, '{resolution}'],
  ['{resolution} with one side only', { template: '{resolution}.{autoext}', resolution: { width: 640 } }, '{resolution}'],
  ['an unclosed brace', { template: 'out.{autoext' }, 'unclosed'],
  ['an unmatched closing brace', { template: 'out}.{autoext}' }, 'unmatched'],
  ['a name that expands to nothing', { template: '{dirname}' }, 'not a valid object key'],
  ['a bad variable in the bucket', { bucket: '{nope}', template: 'x.mp4' }, '{nope}'],
  ['no destination at all', { noDestination: true }, 'no output'],
];
for (const [name, opts, mentions] of badTemplates) {
  test(`outputNames: ${name} is InvalidMediaArgument naming it`, () => {
    assert.throws(
      () => outputNames(job(opts), { bucket: 'src', key: 'root.wav' }, UPLOADED, TASK_TIME),
      (e: unknown) => e instanceof MedleyError && e.key === 'InvalidMediaArgument' && e.code === 'InvalidArgument' && e.message.includes(mentions),
    );
  });
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
  ['ts + HLS', job({ container: 'ts', segment: HLS }), 'm3u8'],
  ['mp4 + HLS', job({ container: 'mp4', segment: HLS }), 'm3u8'],
  ['mp4 + DASH', job({ container: 'mp4', segment: DASH }), 'mpd'],
];
for (const [name, j, want] of extensionCases) {
  test(`outputExtension: ${name} → ${want}`, () => assert.equal(outputExtension(j), want));
}

// ---------------------------------------------------------------------- files beside the main output

test('outputFileKey: the main output takes the name, the others sit in its directory under their own', () => {
  const names = outputNames(job({ container: 'ts', segment: HLS, template: 'v/{barename}.{autoext}' }), SRC, UPLOADED, TASK_TIME);
  assert.equal(outputFileKey(names, 0, 'movie.m3u8'), 'v/movie.m3u8');
  assert.equal(outputFileKey(names, 1, 'movie-00000.ts'), 'v/movie-00000.ts');
});

test('outputLayout: a local path (medley process --out) is laid out like a key', () => {
  assert.deepEqual(outputLayout(job({ container: 'ts', segment: HLS }), '/tmp/x/play.m3u8'), { dir: '/tmp/x/', fileStem: 'play' });
  assert.deepEqual(outputLayout(job(), '/tmp/x/play.mp4'), { dir: '/tmp/x/', fileStem: 'output' });
});

// ------------------------------------------------------------------------- the lower-level helpers

test('stringTags: strings kept, other values as JSON', () => {
  assert.deepEqual(stringTags({ a: 'x', n: 1, b: true, o: { k: 1 } }), { a: 'x', n: '1', b: 'true', o: '{"k":1}' });
  assert.deepEqual(stringTags(undefined), {});
});

test('templateVariables + expandTemplate: every variable of the spec is defined', () => {
  const vars = templateVariables({ source: { bucket: 'b', key: 'p/n.oga', lastModified: UPLOADED }, taskTime: TASK_TIME, autoext: 'aac', resolution: '1x2', tags: { k: 'v' } });
  const spec = ['bucket', 'key', 'dirname', 'barename', 'basename', 'ext', 'year', 'mon', 'day', 'hour', 'min', 'sec', 't_year', 't_mon', 't_day', 't_hour', 't_min', 't_sec', 'autoext', 'index', 'streamindex', 'resolution', 'tags.k'];
  assert.deepEqual(Object.keys(vars).sort(), [...spec].sort());
  for (const bad of ['{nope}.mp3', '{autoext', 'a}b', '{tags.missing}']) {
    assert.throws(() => expandTemplate(bad, vars), (e: unknown) => e instanceof MedleyError && e.message.includes(bad), bad);
  }
});

test('checkOutputKey refuses empty, leading slash and oversize keys', () => {
  for (const k of ['', '/a', '\\a', 'a\0b', 'x'.repeat(1024)]) assert.throws(() => checkOutputKey(k), MedleyError);
  assert.equal(checkOutputKey('ok/name.mp3'), 'ok/name.mp3');
});
