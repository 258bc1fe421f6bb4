/**
 * Seeds 001 (audio/concat), 002 (audio/convert) and 003 (video/concat) end to end against a real
 * `medley serve`: every process-string example of the documents (the worked REST examples and the
 * Java/Python/Go SDK sample strings, byte for byte) sent with ali-oss as POST /<object>?x-oss-async-process,
 * the task polled with pop-core GetTask in the default project, the output downloaded with ali-oss and
 * checked as cli-process.test.ts checks the same examples run locally (codec, rate, channels, decoded tone
 * order and lengths, no silence at the joins; video: codec, size, fps, frame count, A/V durations).
 *
 * The documents' quirks are kept (spec oss.md §8): base64 of "pre1.mp3\n", padded base64 in the Go samples,
 * /pre clips before the URL object, `t` as a duration, ss/t on the URL object, "b_..., o_..." with a space,
 * `sur1.aac` as the seed 003 example's /sur clip. The source bucket of the REST examples is the one in their
 * Host header (video-demo), the output bucket the one their b_ names (outbucket); the SDK samples use
 * examplebucket for both. All tasks are submitted at once in before(); examples that write the same output
 * object run one after the other, each deleting the previous output first.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OSS from 'ali-oss';
import { startServer, type TestServer } from '../support/server.js';
import { b64, popClient, submitAsyncProcess, waitForTask, type ImmCaller, type TaskResult } from '../support/tasks.js';
import { DEFAULT_ACCOUNT_ID, acsQueue, assertTaskNotification, mnsClient, subscribe, type MnsClient } from '../support/mns.js';
import { FFMPEG, assertToneSequence, audioStream, decode, ffprobe, rms, videoStream, type ProbeJson } from '../support/media.js';

const PROJECT = 'medley-default';
const UPPER_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const TASK_ID = /^MediaConvert-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const EVENT_ID = /^[0-9A-F]{3}-[0-9A-Za-z]{27}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

// ---------------------------------------------------------------------------------------------------------
// The process strings, as the documents write them (REST) or as their SDK samples build them.

/** Seed 001, "Merge five clips into an AAC file (REST API)", verbatim. */
const S001_REST =
  'audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2/pre,o_cHJlMS5tcDMK/pre,o_cHJlMi53YXYK,t_2000/sur,o_c3VyMS5hYWMK,ss_4000,t_10000/sur,o_c3VyMi53bWEK,ss_10000|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0';

/** Python: urlsafe_b64encode(...).rstrip('='); Java: getUrlEncoder()...replace("=", ""). */
const unpadded = (s: string) => Buffer.from(s).toString('base64url');
/** Go: base64.URLEncoding.EncodeToString (padded URL-safe). */
const padded = (s: string) => Buffer.from(s).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

/** Seed 001 SDK samples (Java = Python; Go pads). Source object src1.mp3 in examplebucket. */
function s001Sdk(enc: (s: string) => string): string {
  const style = `audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2/pre,o_${enc('src1.mp3')}/pre,o_${enc('src2.mp3')},t_0`;
  return `${style}|sys/saveas,b_${enc('examplebucket')},o_${enc('dest.aac')}/notify,topic_QXVkaW9Db252ZXJ0`;
}

/** Seed 002, "Convert MP3 into AAC", verbatim. */
const S002_REST_AAC = 'audio/convert,ss_10000,t_60000,f_aac,ab_96000|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqcHJlZml4LnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0';
/** Seed 002, "Convert WAV into Opus", verbatim (with its space after "b_b3V0YnVja2V0,"). */
const S002_REST_OPUS = 'audio/convert,f_opus,ab_96000,ar_48000,ac_2|sys/saveas,b_b3V0YnVja2V0, o_b3V0b2JqLnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0';

/** Seed 002 SDK samples (Java withoutPadding = Python rstrip; Go pads). Source object src.mp3. */
function s002Sdk(enc: (s: string) => string): string {
  return `audio/convert,ss_10000,t_60000,f_aac,ab_96000|sys/saveas,b_${enc('examplebucket')},o_${enc('dest.aac')}/notify,topic_QXVkaW9Db252ZXJ0`;
}

/** Seed 003 (zh), "视频拼接为mp4", verbatim: /pre "pre.mov\n", /sur "sur1.aac\n" (the copy/paste of spec §8 #5). */
const S003_REST =
  'video/concat,ss_10000,f_mp4,vcodec_h264,fps_25,vb_1000000,acodec_aac,ab_96000,ar_48000,ac_2,align_1/pre,o_cHJlLm1vdgo/sur,o_c3VyMS5hYWMK,t_10000|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0';
/** The same example with the /sur clip its prose names (sur.mov), encoded in the document's style. */
const S003_REST_SUR_MOV = S003_REST.replace('o_c3VyMS5hYWMK', `o_${b64('sur.mov\n')}`);

/** Seed 003 SDK samples: Java and Go build the same string; Python uses other names. */
function s003Sdk(names: { pre: string; sur: string; target: string }): string {
  const style = `video/concat,ss_0,f_mp4,vcodec_h264,fps_25,vb_1000000,acodec_aac,ab_96000,ar_48000,ac_2,align_1/pre,o_${unpadded(names.pre)}/sur,o_${unpadded(names.sur)},t_0`;
  return `${style}|sys/saveas,b_${unpadded('examplebucket')},o_${unpadded(names.target)}/notify,topic_QXVkaW9Db252ZXJ0`;
}

/**
 * Seed 003 documents /segment (f hls|dash, t ms; mp4 or ts only) without a worked string: the Java/Go sample
 * with f_ts, its parameters, and "/segment,f_hls,t_1000", saved under a folder.
 */
const S003_HLS = `video/concat,ss_0,f_ts,vcodec_h264,fps_25,vb_1000000,acodec_aac,ab_96000,ar_48000,ac_2,align_1/pre,o_${unpadded('concat1.mp4')}/sur,o_${unpadded('concat2.mp4')},t_0/segment,f_hls,t_1000|sys/saveas,b_${unpadded('examplebucket')},o_${unpadded('hls/dest.{autoext}')}/notify,topic_QXVkaW9Db252ZXJ0`;

// ---------------------------------------------------------------------------------------------------------
// Server, clients, runs.

const agent = new http.Agent({ keepAlive: true });
let server: TestServer;
let dir: string;
let pop: ImmCaller;

function oss(bucket: string, v4: boolean): OSS {
  return new OSS({ accessKeyId: server.keyId, accessKeySecret: server.secret, endpoint: server.url, region: 'oss-cn-hangzhou', bucket, authorizationV4: v4, agent, timeout: 60_000 } as OSS.Options);
}

interface Example {
  /** Bucket of the URL object (the Host of the REST examples, bucketName of the SDK samples). */
  bucket: string;
  /** The URL object. */
  source: string;
  process: string;
  /** ali-oss authorizationV4. */
  v4: boolean;
  /** Percent-encoded body (URLSearchParams) instead of the raw string. */
  urlencoded?: boolean;
  /** The object the task writes (downloaded after success). */
  output: { bucket: string; key: string };
}

interface Run {
  example: Example;
  submitted: { EventId: string; RequestId: string; TaskId: string; status: number };
  task: TaskResult;
  /** The output, downloaded. */
  file: string;
  ms: number;
}

async function runExample(e: Example): Promise<Run> {
  const t0 = Date.now();
  const submitted = await submitAsyncProcess(oss(e.bucket, e.v4), e.source, e.process, { urlencoded: e.urlencoded ?? false });
  const task = await waitForTask(pop, PROJECT, submitted.TaskId, 90_000);
  assert.equal(task.Status, 'Succeeded', `task ${submitted.TaskId} (${e.process}) ended ${task.Status}: ${task.Code} ${task.Message}`);
  const got = await oss(e.output.bucket, false).get(e.output.key);
  const file = join(dir, `${submitted.TaskId}-${e.output.key.replace(/\//g, '_')}`);
  await writeFile(file, got.content as Buffer);
  return { example: e, submitted, task, file, ms: Date.now() - t0 };
}

/** Settles later but never counts as unhandled: the test awaiting it reports the failure. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Runs `e` after `prev` settled, starting from no output object (the examples share its name). */
function runAfter(prev: Promise<unknown>, e: Example): Promise<Run> {
  return quiet(
    prev
      .catch(() => undefined)
      .then(() => oss(e.output.bucket, false).delete(e.output.key))
      .then(() => runExample(e)),
  );
}

const runs = new Map<string, Promise<Run>>();
const run = (name: string): Promise<Run> => runs.get(name) ?? assert.fail(`no run ${name}`);

/** One FFmpeg run, asynchronously (fixtures are generated several at a time). */
function ffmpegAsync(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(FFMPEG, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg failed (${String(code)}): ${err}\nargs: ${args.join(' ')}`))));
  });
}

/** Runs `jobs` with at most `width` at a time. */
async function pool(jobs: Array<() => Promise<void>>, width: number): Promise<void> {
  const queue = [...jobs];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await job();
    }),
  );
}

/** Generates the fixtures into `dir`; returns what to upload: file → bucket and the keys it is stored as. */
async function makeFixtures(): Promise<Array<{ file: string; bucket: string; keys: string[] }>> {
  const f = (n: string) => join(dir, n);
  const tone = (file: string, freq: number, seconds: number, codec: string[]) => ['-f', 'lavfi', '-i', `sine=frequency=${freq}:duration=${seconds}:sample_rate=48000`, ...codec, f(file)];
  const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
  const av = (file: string, size: string, rate: number, seconds: number, freq: number | undefined, audio: string[]) => [
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`,
    ...(freq === undefined ? [] : ['-f', 'lavfi', '-i', `sine=frequency=${freq}:duration=${seconds}`]),
    ...x264, ...audio, ...(freq === undefined ? [] : ['-shortest']), f(file),
  ];
  const commands = [
    // Seed 003 worked example (longest first): pre.mov 2 s 320x240@30, example.mkv 12 s 480x270@25 (vorbis), sur.mov 12 s 640x360@24 silent.
    av('example.mkv', '480x270', 25, 12, 700, ['-c:a', 'libvorbis']),
    av('sur.mov', '640x360', 24, 12, undefined, []),
    av('pre.mov', '320x240', 30, 2, 500, ['-c:a', 'aac']),
    // Seed 003 SDK clips: 1 s + 2 s + 1 s, three sizes and rates; the URL object (align 1) is 352x288@25.
    av('concat1.mp4', '320x240', 30, 1, 550, ['-c:a', 'aac']),
    av('src.mp4', '352x288', 25, 2, 1000, ['-c:a', 'aac', '-ar', '44100']),
    av('concat2.mp4', '640x360', 24, 1, 1300, ['-c:a', 'libmp3lame']),
    // Seed 001 clips (the cli-process recipes): each a distinct tone, long enough for every trim to apply.
    tone('pre1.mp3', 300, 3, ['-ar', '22050', '-c:a', 'libmp3lame']),
    tone('pre2.wav', 500, 3, ['-ac', '2']),
    tone('example.oga', 700, 4, ['-c:a', 'libvorbis']),
    tone('sur1.aac', 900, 16, ['-ar', '44100', '-c:a', 'aac']),
    tone('sur2.wma', 1100, 14, ['-ar', '44100', '-c:a', 'wmav2']),
    // Seed 001 SDK clips.
    tone('src1.mp3', 450, 2, ['-ar', '44100', '-ac', '2', '-c:a', 'libmp3lame']),
    tone('src2.mp3', 650, 1, ['-ar', '22050', '-c:a', 'libmp3lame']),
    // Seed 002: 13 s at 32 kHz stereo (the output keeps both), 3 s of WAV, 12 s for the SDK samples.
    tone('example.mp3', 600, 13, ['-ar', '32000', '-ac', '2', '-c:a', 'libmp3lame']),
    tone('example.wav', 400, 3, ['-ar', '44100']),
    tone('src.mp3', 750, 12, ['-ar', '44100', '-c:a', 'libmp3lame']),
  ];
  await pool(
    commands.map((args) => () => ffmpegAsync(args)),
    3,
  );
  const demo = (file: string) => ({ file, bucket: 'video-demo', keys: [file] });
  const ex = (file: string, ...keys: string[]) => ({ file, bucket: 'examplebucket', keys: keys.length ? keys : [file] });
  return [
    ...['pre1.mp3', 'pre2.wav', 'example.oga', 'sur1.aac', 'sur2.wma', 'example.mp3', 'example.wav', 'pre.mov', 'example.mkv', 'sur.mov'].map(demo),
    ex('src1.mp3'),
    ex('src2.mp3'),
    ex('src.mp3'),
    // The Python sample's names for the same three clips.
    ex('concat1.mp4', 'concat1.mp4', 'osshdfs.mp4'),
    ex('src.mp4', 'src.mp4', 'emrfinal.mp4'),
    ex('concat2.mp4', 'concat2.mp4', 'product.mp4'),
  ];
}

const NOTIFY_QUEUE = 'seed-notifications';
let mns: MnsClient;

const OUT = (key: string) => ({ bucket: 'outbucket', key });
const EX = (key: string) => ({ bucket: 'examplebucket', key });

before(async () => {
  server = await startServer({ env: { MEDLEY_WORKERS: '2' } });
  dir = await mkdtemp(join(tmpdir(), 'medley-seeds-oss-'));
  pop = popClient({ url: server.url, keyId: server.keyId, secret: server.secret });
  const fixtures = await makeFixtures();
  // The seeds' notify topic (topic_QXVkaW9Db252ZXJ0 = AudioConvert), subscribed by a queue before any task runs.
  mns = mnsClient(server);
  await mns.createQueue(NOTIFY_QUEUE);
  await mns.createTopic('AudioConvert');
  await subscribe(mns, 'AudioConvert', 'to-queue', { Endpoint: acsQueue(DEFAULT_ACCOUNT_ID, NOTIFY_QUEUE), NotifyContentFormat: 'SIMPLIFIED' });
  for (const b of ['video-demo', 'outbucket', 'examplebucket']) await oss(b, false).putBucket(b);
  await Promise.all(fixtures.flatMap((x) => x.keys.map(async (k) => oss(x.bucket, false).put(k, await readFile(join(dir, x.file))))));

  const start = (name: string, e: Example) => runs.set(name, quiet(runExample(e)));
  const chain = (name: string, prev: string, e: Example) => runs.set(name, runAfter(run(prev), e));
  // Seed 001.
  start('001 REST', { bucket: 'video-demo', source: 'example.oga', process: S001_REST, v4: true, output: OUT('outobj.aac') });
  start('001 SDK Java/Python', { bucket: 'examplebucket', source: 'src1.mp3', process: s001Sdk(unpadded), v4: false, urlencoded: true, output: EX('dest.aac') });
  chain('001 SDK Go', '001 SDK Java/Python', { bucket: 'examplebucket', source: 'src1.mp3', process: s001Sdk(padded), v4: true, urlencoded: true, output: EX('dest.aac') });
  // Seed 002.
  start('002 REST aac', { bucket: 'video-demo', source: 'example.mp3', process: S002_REST_AAC, v4: false, output: OUT('outobjprefix.aac') });
  start('002 REST opus', { bucket: 'video-demo', source: 'example.wav', process: S002_REST_OPUS, v4: true, output: OUT('outobj.opus') });
  chain('002 SDK Java/Python', '001 SDK Go', { bucket: 'examplebucket', source: 'src.mp3', process: s002Sdk(unpadded), v4: false, output: EX('dest.aac') });
  chain('002 SDK Go', '002 SDK Java/Python', { bucket: 'examplebucket', source: 'src.mp3', process: s002Sdk(padded), v4: true, urlencoded: true, output: EX('dest.aac') });
  // Seed 003.
  start('003 REST', { bucket: 'video-demo', source: 'example.mkv', process: S003_REST, v4: true, output: OUT('outobj.mp4') });
  chain('003 REST sur.mov', '003 REST', { bucket: 'video-demo', source: 'example.mkv', process: S003_REST_SUR_MOV, v4: false, urlencoded: true, output: OUT('outobj.mp4') });
  start('003 SDK Java/Go', { bucket: 'examplebucket', source: 'src.mp4', process: s003Sdk({ pre: 'concat1.mp4', sur: 'concat2.mp4', target: 'dest.mp4' }), v4: true, output: EX('dest.mp4') });
  start('003 SDK Python', { bucket: 'examplebucket', source: 'emrfinal.mp4', process: s003Sdk({ pre: 'osshdfs.mp4', sur: 'product.mp4', target: 'out.mp4' }), v4: false, output: EX('out.mp4') });
  start('003 HLS', { bucket: 'examplebucket', source: 'src.mp4', process: S003_HLS, v4: true, urlencoded: true, output: EX('hls/dest.m3u8') });
});

after(async () => {
  await Promise.allSettled(runs.values());
  agent.destroy();
  await server?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// Checks.

type Source = { URI: string; StartTime?: number; Duration?: number };

/**
 * The submit answer, GetTask's fields and JSON types, and the request the task amounts to (spec oss.md §5.4):
 * the clips in order with their trims, align, the output URI template and the notify topic.
 */
function assertTask(r: Run, expected: { sources: Source[]; align?: number; targetUri: string; container: string }): Record<string, unknown> {
  const { submitted, task } = r;
  assert.equal(submitted.status, 200);
  assert.match(submitted.TaskId, TASK_ID);
  assert.match(submitted.EventId, EVENT_ID);
  assert.match(submitted.RequestId, UPPER_UUID);
  assert.equal(task.ProjectName, PROJECT);
  assert.equal(task.TaskId, submitted.TaskId);
  assert.equal(task.TaskType, 'MediaConvert');
  assert.equal(task.EventId, submitted.EventId);
  assert.equal(task.Status, 'Succeeded');
  assert.equal(task.Progress, 100);
  assert.equal(task.Code, '');
  assert.equal(task.Message, '');
  assert.match(String(task.StartTime), ISO_TIME);
  assert.match(String(task.EndTime), ISO_TIME);
  assert.equal(task.UserData, '');
  const def = JSON.parse(String(task.TaskRequestDefinition)) as Record<string, unknown>;
  assert.equal(def.ProjectName, PROJECT);
  assert.equal(def.Process, r.example.process, 'the process string as sent (after percent-decoding)');
  assert.deepEqual(def.Sources, expected.sources);
  assert.equal(def.AlignmentIndex, expected.align, 'AlignmentIndex');
  assert.deepEqual(def.Notification, { MNS: { TopicName: 'AudioConvert' } });
  const target = (def.Targets as Array<Record<string, unknown>>)[0];
  assert.ok(target);
  assert.equal(target.URI, expected.targetUri);
  assert.equal(target.Container, expected.container);
  return def;
}

function audioOf(file: string): { j: ProbeJson; a: NonNullable<ReturnType<typeof audioStream>> } {
  const j = ffprobe(file);
  const a = audioStream(j);
  assert.ok(a, `${file} has an audio stream`);
  return { j, a };
}

/** Milliseconds of [from, to) s whose 1 ms windows are near-silent (RMS below what assertToneSequence allows). */
function quietMs(pcm: Int16Array, sr: number, from: number, to: number): number {
  const w = Math.round(sr / 1000);
  let n = 0;
  for (let i = Math.round(from * sr); i + w <= Math.round(to * sr); i += w) if (rms(pcm, i, i + w) <= 300) n++;
  return n;
}

function assertDecodedLength(pcm: Int16Array, sr: number, seconds: number, over = 0.03): void {
  const got = pcm.length / sr;
  assert.ok(got >= seconds - 0.03 && got <= seconds + over, `decoded ${got} s, expected ${seconds} s`);
}

/** h264 + aac 48 kHz stereo at `width`x`height`, 25 fps, `seconds` of frames, audio as long as video. */
function assertVideo(file: string, want: { width: number; height: number; seconds: number }): ProbeJson {
  const j = ffprobe(file, ['-count_frames']);
  const v = videoStream(j);
  const a = audioStream(j);
  assert.ok(v && a, 'video and audio streams');
  assert.equal(j.streams.length, 2, 'one video and one audio stream');
  assert.equal(v.codec_name, 'h264');
  assert.equal(v.width, want.width);
  assert.equal(v.height, want.height);
  assert.equal(v.r_frame_rate, '25/1');
  assert.equal(Number(v.nb_read_frames), want.seconds * 25, `${want.seconds} s at 25 fps`);
  assert.equal(a.codec_name, 'aac');
  assert.equal(a.sample_rate, '48000');
  assert.equal(a.channels, 2);
  assert.ok(Math.abs(Number(a.duration) - Number(v.duration)) < 0.05, `audio ${a.duration} s vs video ${v.duration} s`);
  return j;
}

const demo = (key: string, trims: { StartTime?: number; Duration?: number } = {}): Source => ({ URI: `oss://video-demo/${key}`, ...trims });
const exb = (key: string, trims: { StartTime?: number; Duration?: number } = {}): Source => ({ URI: `oss://examplebucket/${key}`, ...trims });

describe('seed 001: audio/concat', () => {
  test('REST example: pre1, pre2 (first 2 s), example.oga, sur1 (4–14 s), sur2 (10 s to the end) → oss://outbucket/outobj.aac, 44.1 kHz mono', async (t) => {
    const r = await run('001 REST');
    t.diagnostic(`task ${r.ms} ms`);
    assertTask(r, {
      sources: [demo('pre1.mp3'), demo('pre2.wav', { Duration: 2 }), demo('example.oga'), demo('sur1.aac', { StartTime: 4, Duration: 10 }), demo('sur2.wma', { StartTime: 10 })],
      align: 2,
      targetUri: 'oss://outbucket/outobj.{autoext}',
      container: 'aac',
    });
    const { j, a } = audioOf(r.file);
    assert.equal(j.streams.length, 1);
    assert.equal(a.codec_name, 'aac');
    assert.equal(a.sample_rate, '44100');
    assert.equal(a.channels, 1);
    const pcm = decode(r.file, 44100);
    // ADTS cannot signal the encoder's priming: allow one AAC frame (1024 samples) beyond the sum.
    assertDecodedLength(pcm, 44100, 23, 0.06);
    assertToneSequence(pcm, 44100, [
      { freq: 300, seconds: 3 },
      { freq: 500, seconds: 2 },
      { freq: 700, seconds: 4 },
      { freq: 900, seconds: 10 },
      { freq: 1100, seconds: 4 - 0.05 },
    ]);
  });

  const sdk = (name: string, note: string): void => {
    test(`SDK sample (${note}): src1.mp3 as /pre and as the URL object → examplebucket/dest.aac, concatenated literally`, async (t) => {
      const r = await run(name);
      t.diagnostic(`task ${r.ms} ms`);
      assertTask(r, { sources: [exb('src1.mp3'), exb('src2.mp3'), exb('src1.mp3')], align: 2, targetUri: 'oss://examplebucket/dest.aac', container: 'aac' });
      const { a } = audioOf(r.file);
      assert.equal(a.codec_name, 'aac');
      assert.equal(a.sample_rate, '44100');
      assert.equal(a.channels, 1);
      const pcm = decode(r.file, 44100);
      assertDecodedLength(pcm, 44100, 5, 0.06);
      assertToneSequence(pcm, 44100, [
        { freq: 450, seconds: 2 },
        { freq: 650, seconds: 1 },
        { freq: 450, seconds: 2 - 0.05 },
      ]);
    });
  };
  sdk('001 SDK Java/Python', 'Java/Python, unpadded base64; V1, percent-encoded body');
  sdk('001 SDK Go', 'Go, padded base64; V4, percent-encoded body');
});

describe('seed 002: audio/convert', () => {
  test('REST "Convert MP3 into AAC": ss_10000,t_60000 of a 13 s source → outbucket/outobjprefix.aac, rate and channels of the source', async (t) => {
    const r = await run('002 REST aac');
    t.diagnostic(`task ${r.ms} ms`);
    assertTask(r, { sources: [demo('example.mp3', { StartTime: 10, Duration: 60 })], targetUri: 'oss://outbucket/outobjprefix.{autoext}', container: 'aac' });
    const { a } = audioOf(r.file);
    assert.equal(a.codec_name, 'aac');
    assert.equal(a.sample_rate, '32000', 'the source is 32 kHz');
    assert.equal(a.channels, 2, 'the source is stereo');
    const pcm = decode(r.file, 32000);
    assertDecodedLength(pcm, 32000, 3, 0.06);
    assertToneSequence(pcm, 32000, [{ freq: 600, seconds: 3 - 0.05 }]);
  });

  test('REST "Convert WAV into Opus": f_opus,ab_96000,ar_48000,ac_2, "b_..., o_..." with its space → outbucket/outobj.opus', async (t) => {
    const r = await run('002 REST opus');
    t.diagnostic(`task ${r.ms} ms`);
    assertTask(r, { sources: [demo('example.wav')], targetUri: 'oss://outbucket/outobj.{autoext}', container: 'opus' });
    const { a } = audioOf(r.file);
    assert.equal(a.codec_name, 'opus');
    assert.equal(a.sample_rate, '48000');
    assert.equal(a.channels, 2);
    const pcm = decode(r.file, 48000);
    assertDecodedLength(pcm, 48000, 3);
    assertToneSequence(pcm, 48000, [{ freq: 400, seconds: 3 - 0.05 }]);
  });

  const sdk = (name: string, note: string): void => {
    test(`SDK sample (${note}): ss_10000,t_60000 of a 12 s src.mp3 → examplebucket/dest.aac`, async (t) => {
      const r = await run(name);
      t.diagnostic(`task ${r.ms} ms`);
      assertTask(r, { sources: [exb('src.mp3', { StartTime: 10, Duration: 60 })], targetUri: 'oss://examplebucket/dest.aac', container: 'aac' });
      const { a } = audioOf(r.file);
      assert.equal(a.codec_name, 'aac');
      assert.equal(a.sample_rate, '44100');
      assert.equal(a.channels, 1);
      const pcm = decode(r.file, 44100);
      assertDecodedLength(pcm, 44100, 2, 0.06);
      assertToneSequence(pcm, 44100, [{ freq: 750, seconds: 2 - 0.05 }]);
    });
  };
  sdk('002 SDK Java/Python', 'Java/Python, unpadded base64; V1, raw body as oss2.Auth sends it');
  sdk('002 SDK Go', 'Go, padded base64; V4, percent-encoded body');
});

describe('seed 003: video/concat', () => {
  test('REST example verbatim: pre.mov, example.mkv from 10 s, sur1.aac (audio only) first 10 s → outbucket/outobj.mp4, size of the align clip', async (t) => {
    const r = await run('003 REST');
    t.diagnostic(`task ${r.ms} ms`);
    assertTask(r, { sources: [demo('pre.mov'), demo('example.mkv', { StartTime: 10 }), demo('sur1.aac', { Duration: 10 })], align: 1, targetUri: 'oss://outbucket/outobj.{autoext}', container: 'mp4' });
    assertVideo(r.file, { width: 480, height: 270, seconds: 14 });
    const pcm = decode(r.file, 48000);
    assertToneSequence(pcm.subarray(0, 4 * 48000), 48000, [
      { freq: 500, seconds: 2 },
      { freq: 700, seconds: 2 - 0.05 },
    ]);
    // sur1.aac is raw ADTS, which cannot signal its encoder priming: decoded from its start it opens with about
    // one AAC frame (1024 samples, 23 ms at 44.1 kHz) of near-silence of its own. No more than that at the join.
    const own = quietMs(decode(join(dir, 'sur1.aac'), 48000), 48000, 0, 0.15);
    const gap = quietMs(pcm, 48000, 3.95, 4.1);
    t.diagnostic(`${gap} ms quiet at the join into sur1.aac, which opens with ${own} ms of its own`);
    assert.ok(own <= 30, `the fixture opens with ${own} ms of silence`);
    assert.ok(gap <= own + 1, `${gap} ms of silence at the join at 4 s, sur1.aac itself opens with ${own} ms`);
    assertToneSequence(pcm.subarray(Math.round(4.03 * 48000)), 48000, [{ freq: 900, seconds: 10 - 0.03 - 0.05 }]);
  });

  test('REST example with the /sur clip its prose names (sur.mov, silent, 640x360@24) → outobj.mp4', async (t) => {
    const r = await run('003 REST sur.mov');
    t.diagnostic(`task ${r.ms} ms`);
    assertTask(r, { sources: [demo('pre.mov'), demo('example.mkv', { StartTime: 10 }), demo('sur.mov', { Duration: 10 })], align: 1, targetUri: 'oss://outbucket/outobj.{autoext}', container: 'mp4' });
    assertVideo(r.file, { width: 480, height: 270, seconds: 14 });
    const pcm = decode(r.file, 48000);
    assertToneSequence(pcm.subarray(0, 4 * 48000), 48000, [
      { freq: 500, seconds: 2 },
      { freq: 700, seconds: 2 - 0.05 },
    ]);
  });

  const sdk = (name: string, note: string, n: { pre: string; src: string; sur: string; target: string }): void => {
    test(`SDK sample (${note}): ${n.pre} + ${n.src} + ${n.sur} → examplebucket/${n.target}, h264 25 fps, aac 48 kHz stereo`, async (t) => {
      const r = await run(name);
      t.diagnostic(`task ${r.ms} ms`);
      assertTask(r, { sources: [exb(n.pre), exb(n.src), exb(n.sur)], align: 1, targetUri: `oss://examplebucket/${n.target}`, container: 'mp4' });
      assertVideo(r.file, { width: 352, height: 288, seconds: 4 });
      const pcm = decode(r.file, 48000);
      assertToneSequence(pcm, 48000, [
        { freq: 550, seconds: 1 },
        { freq: 1000, seconds: 2 },
        { freq: 1300, seconds: 1 - 0.05 },
      ]);
    });
  };
  sdk('003 SDK Java/Go', 'Java = Go', { pre: 'concat1.mp4', src: 'src.mp4', sur: 'concat2.mp4', target: 'dest.mp4' });
  sdk('003 SDK Python', 'Python', { pre: 'osshdfs.mp4', src: 'emrfinal.mp4', sur: 'product.mp4', target: 'out.mp4' });

  test('/segment,f_hls,t_1000 with f_ts: a playlist whose every segment is a listed object, together the whole concatenation', async (t) => {
    const r = await run('003 HLS');
    t.diagnostic(`task ${r.ms} ms`);
    const def = assertTask(r, { sources: [exb('concat1.mp4'), exb('src.mp4'), exb('concat2.mp4')], align: 1, targetUri: 'oss://examplebucket/hls/dest.{autoext}', container: 'ts' });
    assert.deepEqual((def.Targets as Array<Record<string, unknown>>)[0]?.Segment, { Format: 'hls', Duration: 1 });

    const client = oss('examplebucket', false);
    const listed = await client.list({ prefix: 'hls/', 'max-keys': 1000 }, {});
    const names = (listed.objects ?? []).map((o) => o.name).sort();
    assert.ok(names.includes('hls/dest.m3u8'), `the playlist is listed: ${names.join(', ')}`);
    const playlist = await readFile(r.file, 'utf8');
    const lines = playlist.split(/\r?\n/).filter((l) => l !== '');
    assert.equal(lines[0], '#EXTM3U');
    assert.ok(lines.includes('#EXT-X-ENDLIST'), 'a finished (VOD) playlist');
    const refs = lines.filter((l) => !l.startsWith('#'));
    const durations = lines.filter((l) => l.startsWith('#EXTINF:')).map((l) => Number.parseFloat(l.slice('#EXTINF:'.length)));
    assert.equal(durations.length, refs.length);
    t.diagnostic(`${refs.length} segments: ${durations.join(' + ')} s`);
    assert.ok(refs.length >= 2, `segmented: ${refs.length} segment(s)`);
    const target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(playlist)?.[1]);
    for (const d of durations) assert.ok(d <= target + 0.5, `segment of ${d} s exceeds the target duration ${target}`);
    assert.ok(Math.abs(durations.reduce((s, d) => s + d, 0) - 4) < 0.1, `segments sum to ${durations.join('+')} s, expected 4 s`);

    // Every reference resolves (relative to the playlist) to a listed object, and every listed segment is referenced.
    const resolved = refs.map((ref) => new URL(ref, 'http://x/hls/dest.m3u8').pathname.slice(1));
    for (const key of resolved) assert.ok(names.includes(key), `${key} is referenced but not listed`);
    assert.deepEqual(names.filter((n) => n !== 'hls/dest.m3u8').sort(), [...new Set(resolved)].sort(), 'no unreferenced object next to the playlist');

    // The downloaded set plays as the whole concatenation.
    const local = join(dir, 'hls');
    await mkdir(local, { recursive: true });
    await writeFile(join(local, 'dest.m3u8'), playlist);
    for (const key of resolved) {
      const got = await client.get(key);
      await writeFile(join(local, key.slice('hls/'.length)), got.content as Buffer);
      const seg = ffprobe(join(local, key.slice('hls/'.length)));
      assert.match(seg.format.format_name, /mpegts/);
      assert.equal(videoStream(seg)?.codec_name, 'h264');
      assert.equal(audioStream(seg)?.codec_name, 'aac');
    }
    const j = ffprobe(join(local, 'dest.m3u8'), ['-count_frames']);
    const v = videoStream(j);
    assert.ok(v);
    assert.equal(v.width, 352);
    assert.equal(v.height, 288);
    assert.equal(Number(v.nb_read_frames), 100, '4 s at 25 fps over all segments');
    const pcm = decode(join(local, 'dest.m3u8'), 48000);
    assertToneSequence(pcm, 48000, [
      { freq: 550, seconds: 1 },
      { freq: 1000, seconds: 2 },
      { freq: 1300, seconds: 1 - 0.05 },
    ]);
  });
});

describe('ListTasks on the default project', () => {
  test('shows every x-oss-async-process task of this file, Succeeded; MaxResults is a string', async () => {
    const all = await Promise.all(runs.values());
    const r = await pop.call('ListTasks', { ProjectName: PROJECT, MaxResults: 100 });
    assert.equal(r.ProjectName, PROJECT);
    assert.equal(typeof r.MaxResults, 'string');
    const tasks = r.Tasks as Array<Record<string, unknown>>;
    assert.equal(r.MaxResults, String(tasks.length));
    const byId = new Map(tasks.map((t) => [t.TaskId, t]));
    for (const x of all) {
      const t = byId.get(x.submitted.TaskId);
      assert.ok(t, `ListTasks shows ${x.submitted.TaskId}`);
      assert.equal(t.Status, 'Succeeded');
      assert.equal(t.Progress, 100);
    }
    assert.equal(tasks.length, all.length);
  });
});

describe("the seeds' notify topic", () => {
  test('AudioConvert delivers exactly one documented message per task to a subscribed queue (read with @alicloud/mns)', async () => {
    const all = await Promise.all(runs.values());
    const byTask = new Map(all.map((x) => [x.submitted.TaskId, x]));
    const seen = new Set<string>();
    while (seen.size < all.length) {
      const m = await mns.receiveMessage(NOTIFY_QUEUE, 10);
      const content = JSON.parse((JSON.parse(m.body.MessageBody!) as { content: string }).content) as { TaskId: string };
      const x = byTask.get(content.TaskId);
      assert.ok(x, `a message for a task of this file (${content.TaskId})`);
      assert.ok(!seen.has(content.TaskId), `one message per task (${content.TaskId} twice)`);
      seen.add(content.TaskId);
      const definition = JSON.parse(x.task.TaskRequestDefinition as string) as { Sources: Array<{ URI: string }> };
      assertTaskNotification(m.body.MessageBody!, {
        accountId: DEFAULT_ACCOUNT_ID,
        project: PROJECT,
        eventId: x.submitted.EventId,
        requestId: x.submitted.RequestId,
        taskId: x.submitted.TaskId,
        getTask: x.task,
        userData: '',
        sources: definition.Sources.map((src) => src.URI),
        target: `oss://${x.example.output.bucket}/${x.example.output.key}`,
        status: 'Succeeded',
      });
      await mns.deleteMessage(NOTIFY_QUEUE, m.body.ReceiptHandle!);
    }
    await assert.rejects(mns.receiveMessage(NOTIFY_QUEUE, 1), /MessageNotExist/);
  });
});
