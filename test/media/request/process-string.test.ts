// The OSS door: x-oss-async-process strings (spec oss.md 5.2-5.7, 8) to MediaJob.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { extractProcessBody, parseProcessString } from '../../../src/media/request/process-string.js';
import { MedleyError, errorCatalog, type ErrorName } from '../../../src/errors.js';
import type { AudioTarget, Clip, MediaJob, VideoTarget } from '../../../src/media/job.js';

const VECTORS = new URL('../../fixtures/vectors/', import.meta.url);

const b64 = (s: string): string => Buffer.from(s).toString('base64url');
const clip = (bucket: string, key: string, startMs = 0, durationMs = 0): Clip => ({ source: { bucket, key }, startMs, durationMs, disableAudio: false, disableVideo: false });
const NO_VIDEO: VideoTarget = { disabled: true, fpsOption: 'fixed', resolutionOption: 'fixed', scaleType: 'stretch', adaptiveOrientation: false, bitrateOption: 'fixed' };
const audioOf = (x: Partial<AudioTarget>): AudioTarget => ({ disabled: false, bitrateOption: 'fixed', ...x });
const videoOf = (x: Partial<VideoTarget>): VideoTarget => ({ ...NO_VIDEO, disabled: false, ...x });

const SAVE = `|sys/saveas,o_${b64('out.aac')}`;
const VSAVE = `|sys/saveas,o_${b64('out.mp4')}`;
const CTX = { bucket: 'video-demo', key: 'example.mp3' };
const parse = (s: string, ctx = CTX): MediaJob => parseProcessString(s, ctx);

// ---------------------------------------------------------------------------------------------------------

describe('seed examples', () => {
  test('001 REST: five clips, /pre in order, source, /sur in order, align_2 -> example.oga', () => {
    const s =
      'audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2/pre,o_cHJlMS5tcDMK/pre,o_cHJlMi53YXYK,t_2000/sur,o_c3VyMS5hYWMK,ss_4000,t_10000/sur,o_c3VyMi53bWEK,ss_10000|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0';
    const job = parse(s, { bucket: 'video-demo', key: 'example.oga' });
    assert.deepEqual(job, {
      origin: 'oss',
      action: 'audio/concat',
      clips: [
        clip('video-demo', 'pre1.mp3'),
        clip('video-demo', 'pre2.wav', 0, 2000),
        clip('video-demo', 'example.oga'),
        clip('video-demo', 'sur1.aac', 4000, 10000), // t is a duration: 4-14 s (8.3)
        clip('video-demo', 'sur2.wma', 10000, 0),
      ],
      alignIndex: 2,
      output: {
        container: 'aac',
        audio: audioOf({ codec: 'aac', sampleRate: 44100, channels: 1, bitrate: 96000 }),
        video: NO_VIDEO,
        dropSubtitles: false,
        destination: { bucket: 'outbucket', keyTemplate: 'outobj.{autoext}' },
      },
      notify: { topic: 'AudioConvert' },
    } satisfies MediaJob);
  });

  // The Python/Java quick start (unpadded) is the ali-oss vector's string; the Go sample pads.
  const quickStart = (enc: (s: string) => string) =>
    `audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2/pre,o_${enc('src1.mp3')}/pre,o_${enc('src2.mp3')},t_0|sys/saveas,b_${enc('examplebucket')},o_${enc('dest.aac')}/notify,topic_QXVkaW9Db252ZXJ0`;
  const quickStartJob: MediaJob = {
    origin: 'oss',
    action: 'audio/concat',
    clips: [clip('examplebucket', 'src1.mp3'), clip('examplebucket', 'src2.mp3'), clip('examplebucket', 'src1.mp3')],
    alignIndex: 2,
    output: {
      container: 'aac',
      audio: audioOf({ codec: 'aac', sampleRate: 44100, channels: 1, bitrate: 96000 }),
      video: NO_VIDEO,
      dropSubtitles: false,
      destination: { bucket: 'examplebucket', keyTemplate: 'dest.aac' },
    },
    notify: { topic: 'AudioConvert' },
  };

  test('001 Python/Java quick start: src1.mp3 appears twice (8.4), align_2 is the URL object', () => {
    const s = 'audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2/pre,o_c3JjMS5tcDM/pre,o_c3JjMi5tcDM,t_0|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA,o_ZGVzdC5hYWM/notify,topic_QXVkaW9Db252ZXJ0';
    assert.equal(s, quickStart(b64));
    assert.deepEqual(parse(s, { bucket: 'examplebucket', key: 'src1.mp3' }), quickStartJob);
  });

  test('001 Go quick start: padded URL-safe base64', () => {
    const s = 'audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2/pre,o_c3JjMS5tcDM=/pre,o_c3JjMi5tcDM=,t_0|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA==,o_ZGVzdC5hYWM=/notify,topic_QXVkaW9Db252ZXJ0';
    assert.equal(s, quickStart((x) => Buffer.from(x).toString('base64')));
    assert.deepEqual(parse(s, { bucket: 'examplebucket', key: 'src1.mp3' }), quickStartJob);
  });

  test('002 REST mp3 -> aac: action-level ss/t trim the source', () => {
    const s = 'audio/convert,ss_10000,t_60000,f_aac,ab_96000|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqcHJlZml4LnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0';
    assert.deepEqual(parse(s, { bucket: 'video-demo', key: 'example.mp3' }), {
      origin: 'oss',
      action: 'audio/convert',
      clips: [clip('video-demo', 'example.mp3', 10000, 60000)],
      alignIndex: 0,
      output: {
        container: 'aac',
        audio: audioOf({ codec: 'aac', bitrate: 96000 }),
        video: NO_VIDEO,
        dropSubtitles: false,
        destination: { bucket: 'outbucket', keyTemplate: 'outobjprefix.{autoext}' },
      },
      notify: { topic: 'AudioConvert' },
    } satisfies MediaJob);
  });

  test('002 REST wav -> opus, with the stray space before o_', () => {
    const s = 'audio/convert,f_opus,ab_96000,ar_48000,ac_2|sys/saveas,b_b3V0YnVja2V0, o_b3V0b2JqLnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0';
    assert.deepEqual(parse(s, { bucket: 'video-demo', key: 'example.wav' }), {
      origin: 'oss',
      action: 'audio/convert',
      clips: [clip('video-demo', 'example.wav')],
      alignIndex: 0,
      output: {
        container: 'opus',
        audio: audioOf({ codec: 'opus', sampleRate: 48000, channels: 2, bitrate: 96000 }),
        video: NO_VIDEO,
        dropSubtitles: false,
        destination: { bucket: 'outbucket', keyTemplate: 'outobj.{autoext}' },
      },
      notify: { topic: 'AudioConvert' },
    } satisfies MediaJob);
  });

  test('002 SDK samples (unpadded Java/Python and padded Go) agree', () => {
    const java = 'audio/convert,ss_10000,t_60000,f_aac,ab_96000|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA,o_ZGVzdC5hYWM/notify,topic_QXVkaW9Db252ZXJ0';
    const go = 'audio/convert,ss_10000,t_60000,f_aac,ab_96000|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA==,o_ZGVzdC5hYWM=/notify,topic_QXVkaW9Db252ZXJ0';
    const ctx = { bucket: 'examplebucket', key: 'src.mp3' };
    const job = parse(java, ctx);
    assert.deepEqual(parse(go, ctx), job);
    assert.deepEqual(job.clips, [clip('examplebucket', 'src.mp3', 10000, 60000)]);
    assert.deepEqual(job.output.destination, { bucket: 'examplebucket', keyTemplate: 'dest.aac' });
  });

  const videoOutput = {
    container: 'mp4',
    audio: audioOf({ codec: 'aac', sampleRate: 48000, channels: 2, bitrate: 96000 }),
    video: videoOf({ codec: 'h264', fps: 25, bitrate: 1000000 }),
    dropSubtitles: false,
  } as const;

  test('003 REST video/concat: pre.mov, example.mkv from 10 s, sur 0-10 s; align_1 -> example.mkv', () => {
    const s =
      'video/concat,ss_10000,f_mp4,vcodec_h264,fps_25,vb_1000000,acodec_aac,ab_96000,ar_48000,ac_2,align_1/pre,o_cHJlLm1vdgo/sur,o_c3VyMS5hYWMK,t_10000|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0';
    assert.deepEqual(parse(s, { bucket: 'video-demo', key: 'example.mkv' }), {
      origin: 'oss',
      action: 'video/concat',
      // The payload's /sur decodes to "sur1.aac\n" although the prose says sur.mov (8.5).
      clips: [clip('video-demo', 'pre.mov'), clip('video-demo', 'example.mkv', 10000, 0), clip('video-demo', 'sur1.aac', 0, 10000)],
      alignIndex: 1,
      output: { ...videoOutput, destination: { bucket: 'outbucket', keyTemplate: 'outobj.{autoext}' } },
      notify: { topic: 'AudioConvert' },
    } satisfies MediaJob);
  });

  test('003 Java/Go SDK video/concat', () => {
    const s = `video/concat,ss_0,f_mp4,vcodec_h264,fps_25,vb_1000000,acodec_aac,ab_96000,ar_48000,ac_2,align_1/pre,o_Y29uY2F0MS5tcDQ/sur,o_Y29uY2F0Mi5tcDQ,t_0|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA,o_ZGVzdC5tcDQ/notify,topic_QXVkaW9Db252ZXJ0`;
    assert.deepEqual(parse(s, { bucket: 'examplebucket', key: 'src.mp4' }), {
      origin: 'oss',
      action: 'video/concat',
      clips: [clip('examplebucket', 'concat1.mp4'), clip('examplebucket', 'src.mp4'), clip('examplebucket', 'concat2.mp4')],
      alignIndex: 1,
      output: { ...videoOutput, destination: { bucket: 'examplebucket', keyTemplate: 'dest.mp4' } },
      notify: { topic: 'AudioConvert' },
    } satisfies MediaJob);
  });

  test('003 Python SDK video/concat', () => {
    const s = `video/concat,ss_0,f_mp4,vcodec_h264,fps_25,vb_1000000,acodec_aac,ab_96000,ar_48000,ac_2,align_1/pre,o_b3NzaGRmcy5tcDQ/sur,o_cHJvZHVjdC5tcDQ,t_0|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA,o_b3V0Lm1wNA/notify,topic_QXVkaW9Db252ZXJ0`;
    const job = parse(s, { bucket: 'examplebucket', key: 'emrfinal.mp4' });
    assert.deepEqual(
      job.clips.map((c) => c.source.key),
      ['osshdfs.mp4', 'emrfinal.mp4', 'product.mp4'],
    );
    assert.equal(job.alignIndex, 1);
    assert.deepEqual(job.output.destination, { bucket: 'examplebucket', keyTemplate: 'out.mp4' });
  });
});

describe('ali-oss vector', () => {
  const client = JSON.parse(readFileSync(new URL('alioss-client.json', VECTORS), 'utf8')) as { async_process_string: string };
  const bodies = readFileSync(new URL('alioss-v1.jsonl', VECTORS), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { body_utf8: string }).body_utf8)
    .filter((b) => b.startsWith('x-oss-async-process=audio'));

  test('async_process_string parses like the quick start', () => {
    const job = parse(client.async_process_string, { bucket: 'examplebucket', key: 'src1.mp3' });
    assert.deepEqual(
      job.clips.map((c) => c.source.key),
      ['src1.mp3', 'src2.mp3', 'src1.mp3'],
    );
    assert.equal(job.alignIndex, 2);
    assert.deepEqual(job.output.destination, { bucket: 'examplebucket', keyTemplate: 'dest.aac' });
  });

  test('raw and url-encoded captured bodies extract to the same string', () => {
    assert.ok(bodies.some((b) => b.includes('%2F')) && bodies.some((b) => b.includes('/pre,')));
    for (const b of bodies) assert.equal(extractProcessBody(b, 'x-oss-async-process'), client.async_process_string);
  });
});

describe('encodings and grammar', () => {
  const std = 'YS/DvD8+fi5tcDM='; // "a/ü?>~.mp3": standard alphabet with '/' and '+', padded

  test("standard base64 with '/' and '+' in a /pre clip is not split at the '/'", () => {
    const job = parse(`audio/concat,f_aac/pre,o_${std},ss_1000/sur,o_${std}${SAVE}`);
    assert.deepEqual(job.clips, [clip('video-demo', 'a/ü?>~.mp3', 1000), clip('video-demo', 'example.mp3'), clip('video-demo', 'a/ü?>~.mp3')]);
  });

  test("standard base64 with '/' and '+' in sys/saveas o and b", () => {
    const job = parse(`audio/convert,f_aac|sys/saveas,o_${std},b_${Buffer.from('out-bucket').toString('base64')}/notify,topic_${Buffer.from('t1').toString('base64')}`);
    assert.deepEqual(job.output.destination, { bucket: 'out-bucket', keyTemplate: 'a/ü?>~.mp3' });
    assert.deepEqual(job.notify, { topic: 't1' });
  });

  test('padded and unpadded names give the same job', () => {
    assert.deepEqual(parse(`audio/concat,f_aac/pre,o_c3JjMS5tcDM=${SAVE}`), parse(`audio/concat,f_aac/pre,o_c3JjMS5tcDM${SAVE}`));
  });

  test('a trailing \\r\\n in an encoded name is stripped', () => {
    const job = parse(`audio/concat,f_aac/pre,o_${b64('a.mp3\r\n')}|sys/saveas,o_${b64('out.aac\n')}`);
    assert.equal(job.clips[0]?.source.key, 'a.mp3');
    assert.equal(job.output.destination?.keyTemplate, 'out.aac');
  });

  test("percent-encoded body: %2B decodes to '+', and a literal '+' stays '+'", () => {
    const process = `audio/concat,f_aac/pre,o_${std}${SAVE}`;
    const encoded = `x-oss-async-process=${encodeURIComponent(process)}`;
    assert.ok(encoded.includes('%2B'));
    assert.equal(extractProcessBody(encoded, 'x-oss-async-process'), process);
    const mixed = `x-oss-async-process=audio%2Fconcat%2Cf_aac%2Fpre%2Co_YS/DvD8+fi5tcDM=${encodeURIComponent(SAVE)}`;
    assert.equal(extractProcessBody(mixed, 'x-oss-async-process'), process);
  });

  test('raw body with a trailing newline; x-oss-process field; stray % kept', () => {
    assert.equal(extractProcessBody(`x-oss-async-process=audio/convert,f_aac${SAVE}\r\n`, 'x-oss-async-process'), `audio/convert,f_aac${SAVE}`);
    assert.equal(extractProcessBody('x-oss-process=image/resize,w_100%|sys/saveas,o_eA', 'x-oss-process'), 'image/resize,w_100%|sys/saveas,o_eA');
  });

  test('parameters are order-insensitive', () => {
    assert.deepEqual(parse(`audio/convert,ab_96000,f_aac,ar_44100${SAVE}`), parse(`audio/convert,f_aac,ar_44100,ab_96000${SAVE}`));
  });

  test('saveas without b writes to the request bucket; no notify', () => {
    const job = parse(`audio/convert,f_mp3${SAVE}`);
    assert.deepEqual(job.output.destination, { bucket: 'video-demo', keyTemplate: 'out.aac' });
    assert.equal(job.notify, undefined);
  });

  test('per-codec limits pass at their edges', () => {
    assert.equal(parse(`audio/convert,f_mp3,ar_48000,ac_2${SAVE}`).output.audio.sampleRate, 48000);
    assert.equal(parse(`audio/convert,f_ac3,ar_32000,ac_6${SAVE}`).output.audio.channels, 6);
    assert.equal(parse(`audio/convert,f_amr,ar_8000,ac_1${SAVE}`).output.audio.codec, 'amr');
    assert.equal(parse(`audio/convert,f_oga,aq_80${SAVE}`).output.audio.codec, 'vorbis');
    assert.equal(parse(`audio/convert,f_flac,adepth_24${SAVE}`).output.audio.bitsPerSample, 24);
  });

  test('abopt 0/1/2 map to fixed/adaptive/fall', () => {
    const opt = (n: number) => parse(`audio/convert,f_aac,ab_64000,abopt_${n}${SAVE}`).output.audio.bitrateOption;
    assert.deepEqual([opt(0), opt(1), opt(2)], ['fixed', 'adaptive', 'fall']);
  });

  test('video/convert with every video parameter and /segment', () => {
    const s = `video/convert,f_ts,vcodec_h265,fps_29.97,fpsopt_1,pixfmt_yuv420p10le,s_1280x,sopt_2,scaletype_crop,arotate_1,g_250,crf_23.5,maxrate_3000000,bufsize_6000000,acodec_mp3,ar_44100,ac_2,aq_60,sn_1,ss_500,t_30000/segment,f_hls,t_6000${VSAVE}`;
    const job = parse(s, { bucket: 'video-demo', key: 'in.mkv' });
    assert.deepEqual(job.clips, [clip('video-demo', 'in.mkv', 500, 30000)]);
    assert.deepEqual(job.output, {
      container: 'ts',
      audio: audioOf({ codec: 'mp3', sampleRate: 44100, channels: 2, quality: 60 }),
      video: videoOf({
        codec: 'h265',
        fps: 29.97,
        fpsOption: 'adaptive',
        pixelFormat: 'yuv420p10le',
        resolution: { width: 1280 },
        resolutionOption: 'fall',
        scaleType: 'crop',
        adaptiveOrientation: true,
        gop: 250,
        crf: 23.5,
        maxBitrate: 3000000,
        bufferSize: 6000000,
      }),
      segment: { format: 'hls', durationMs: 6000 },
      dropSubtitles: true,
      destination: { bucket: 'video-demo', keyTemplate: 'out.mp4' },
    });
  });

  test('video/convert vb + vbopt and xH resolution', () => {
    const v = parse(`video/convert,f_mp4,vcodec_h264,vb_2000000,vbopt_1,s_x720,an_1${VSAVE}`).output;
    assert.deepEqual(v.video, videoOf({ codec: 'h264', bitrate: 2000000, bitrateOption: 'adaptive', resolution: { height: 720 } }));
    assert.deepEqual(v.audio, { disabled: true, bitrateOption: 'fixed' });
  });

  test('video/convert to an audio container drops video', () => {
    const job = parse(`video/convert,f_mp3,ar_44100,vn_1${SAVE}`);
    assert.equal(job.action, 'video/convert');
    assert.deepEqual(job.output.video, NO_VIDEO);
    assert.equal(job.output.audio.codec, 'mp3');
  });

  test('vn_1 needs no vcodec and discards other video settings', () => {
    const job = parse(`video/convert,f_mkv,vn_1,fps_30,acodec_flac,adepth_16${VSAVE}`);
    assert.deepEqual(job.output.video, NO_VIDEO);
    assert.deepEqual(job.output.audio, audioOf({ codec: 'flac', bitsPerSample: 16 }));
  });

  test('webm with vp9 + opus; mxf with pcm; yuva420p with vp9', () => {
    assert.equal(parse(`video/convert,f_webm,vcodec_vp9,acodec_opus,pixfmt_yuva420p${VSAVE}`).output.video.pixelFormat, 'yuva420p');
    assert.equal(parse(`video/convert,f_mxf,vcodec_h264,acodec_pcm${VSAVE}`).output.audio.codec, 'pcm');
  });

  test('eleven clips are allowed', () => {
    const pre = Array.from({ length: 5 }, (_, i) => `/pre,o_${b64(`p${i}.mp3`)}`).join('');
    const sur = Array.from({ length: 5 }, (_, i) => `/sur,o_${b64(`s${i}.mp3`)}`).join('');
    const job = parse(`audio/concat,f_mp3,align_10${pre}${sur}${SAVE}`);
    assert.equal(job.clips.length, 11);
    assert.equal(job.clips[5]?.source.key, 'example.mp3');
    assert.equal(job.clips[10]?.source.key, 's4.mp3');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('bad requests', () => {
  const twelve = `audio/concat,f_aac${Array.from({ length: 6 }, (_, i) => `/pre,o_${b64(`p${i}.mp3`)}`).join('')}${Array.from({ length: 5 }, (_, i) => `/sur,o_${b64(`s${i}.mp3`)}`).join('')}${SAVE}`;
  const A = (params: string) => `audio/convert,f_aac,${params}${SAVE}`;
  const V = (params: string) => `video/convert,f_mp4,vcodec_h264,acodec_aac,${params}${VSAVE}`;
  const cases: { name: string; s: string; code: ErrorName; message: RegExp }[] = [
    { name: 'empty string', s: '', code: 'MissingMediaParameter', message: /process string is empty/ },
    { name: 'unknown action', s: `image/resize,w_100${SAVE}`, code: 'InvalidMediaArgument', message: /unknown or unsupported action "image\/resize"/ },
    { name: 'stored style', s: `style/mystyle${SAVE}`, code: 'InvalidMediaArgument', message: /stored styles \("style\/mystyle"\)/ },
    { name: 'sys/saveas first', s: `sys/saveas,o_eA|audio/convert,f_aac`, code: 'InvalidMediaArgument', message: /media action must come before sys\/saveas/ },
    { name: 'sys/saveas not last', s: `audio/convert,f_aac${SAVE}|video/convert,f_mp4`, code: 'InvalidMediaArgument', message: /sys\/saveas must be the last pipe, but "video\/convert,f_mp4"/ },
    { name: 'no sys/saveas', s: 'audio/convert,f_aac', code: 'MissingMediaParameter', message: /sys\/saveas,o_<base64 key>" is required/ },
    { name: 'saveas without sys/', s: `audio/convert,f_aac|saveas,o_eA`, code: 'InvalidMediaArgument', message: /"saveas,o_eA" must be written "sys\/saveas,\.\.\."/ },
    { name: 'two media actions', s: `audio/convert,f_aac|video/convert,f_mp4${SAVE}`, code: 'InvalidMediaArgument', message: /only one media action per request; unexpected pipe "video\/convert,f_mp4"/ },
    { name: 'empty pipe', s: `audio/convert,f_aac|${SAVE}`, code: 'InvalidMediaArgument', message: /empty pipe 2/ },
    { name: 'unknown op', s: `audio/convert/foo,x_1${SAVE}`, code: 'InvalidMediaArgument', message: /unknown operation "audio\/convert\/foo"/ },
    { name: 'unknown parameter', s: A('vcodec_h264'), code: 'InvalidMediaArgument', message: /^audio\/convert: unknown parameter "vcodec_h264"$/ },
    { name: 'align on convert', s: A('align_0'), code: 'InvalidMediaArgument', message: /unknown parameter "align_0"/ },
    { name: 'duplicate parameter', s: A('ar_44100,ar_48000'), code: 'InvalidMediaArgument', message: /parameter "ar_48000" repeats "ar_44100"/ },
    { name: 'parameter without _', s: A('ar'), code: 'InvalidMediaArgument', message: /parameter "ar" is not of the form key_value/ },
    { name: 'parameter without value', s: A('ar_'), code: 'InvalidMediaArgument', message: /parameter "ar_" has no value/ },
    { name: 'empty parameter', s: A(',ar_8000'), code: 'InvalidMediaArgument', message: /empty parameter/ },
    { name: 'missing f', s: `audio/convert,ar_44100${SAVE}`, code: 'MissingMediaParameter', message: /parameter "f" \(the output container\) is required/ },
    { name: 'video container for audio action', s: `audio/convert,f_mp4${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "f_mp4" is not one of mp3, aac, flac, oga, ac3, opus, amr$/ },
    { name: 'unknown container', s: `video/convert,f_gif,vcodec_h264${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "f_gif" is not one of mp4, mkv/ },
    { name: 'ar not in list', s: `audio/concat,f_aac,ar_44101${SAVE}`, code: 'InvalidMediaArgument', message: /^audio\/concat: parameter "ar_44101" is not one of 8000, 11025, 12000/ },
    { name: 'ar not a number', s: A('ar_44.1k'), code: 'InvalidMediaArgument', message: /parameter "ar_44\.1k" must be a whole number/ },
    { name: 'ac 9', s: A('ac_9'), code: 'InvalidMediaArgument', message: /parameter "ac_9" is out of range 1-8/ },
    { name: 'ac 0', s: A('ac_0'), code: 'InvalidMediaArgument', message: /parameter "ac_0" is out of range 1-8/ },
    { name: 'ab too low', s: A('ab_999'), code: 'InvalidMediaArgument', message: /parameter "ab_999" is out of range 1000-10000000/ },
    { name: 'aq too high', s: A('aq_101'), code: 'InvalidMediaArgument', message: /parameter "aq_101" is out of range 0-100/ },
    { name: 'ab with aq', s: A('ab_96000,aq_50'), code: 'InvalidMediaArgument', message: /parameter "aq_50" cannot be combined with "ab_96000"/ },
    { name: 'abopt without ab', s: A('abopt_1'), code: 'InvalidMediaArgument', message: /parameter "abopt_1" needs "ab"/ },
    { name: 'abopt out of set', s: A('ab_64000,abopt_3'), code: 'InvalidMediaArgument', message: /parameter "abopt_3" is not one of 0, 1, 2/ },
    { name: 'adepth without flac', s: A('adepth_16'), code: 'InvalidMediaArgument', message: /parameter "adepth_16" applies to flac only, not aac/ },
    { name: 'adepth 20', s: `audio/convert,f_flac,adepth_20${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "adepth_20" must be 16 or 24/ },
    { name: 'mp3 above 48 kHz', s: `audio/convert,f_mp3,ar_96000${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "ar_96000" is above 48000 Hz, the mp3 maximum/ },
    { name: 'mp3 six channels', s: `audio/convert,f_mp3,ac_6${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "ac_6" is above 2 channels, the mp3 maximum/ },
    { name: 'opus at 44.1 kHz', s: `audio/convert,f_opus,ar_44100${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "ar_44100" is not a sample rate opus supports \(8000, 12000, 16000, 24000, 48000\)/ },
    { name: 'ac3 at 22.05 kHz', s: `audio/convert,f_ac3,ar_22050${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "ar_22050" is not a sample rate ac3 supports/ },
    { name: 'ac3 eight channels', s: `audio/convert,f_ac3,ac_8${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "ac_8" is above 6 channels, the ac3 maximum/ },
    { name: 'amr at 44.1 kHz', s: `audio/convert,f_amr,ar_44100${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "ar_44100" is not a sample rate amr supports \(8000, 16000\)/ },
    { name: 'amr stereo', s: `audio/convert,f_amr,ac_2${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "ac_2" is not allowed: amr takes exactly 1 channel/ },
    { name: 'ss not a number', s: A('ss_abc'), code: 'InvalidMediaArgument', message: /parameter "ss_abc" must be a whole number/ },
    { name: 'negative t', s: A('t_-5'), code: 'InvalidMediaArgument', message: /parameter "t_-5" must be a whole number >= 0/ },
    { name: '/pre on convert', s: `audio/convert,f_aac/pre,o_eA${SAVE}`, code: 'InvalidMediaArgument', message: /"\/pre,o_eA" is only allowed with audio\/concat and video\/concat/ },
    { name: '/pre without o', s: `audio/concat,f_aac/pre,t_1000${SAVE}`, code: 'MissingMediaParameter', message: /parameter "o" of the 1st \/pre clip \("pre,t_1000"\) is required/ },
    { name: 'bad base64 in the 2nd /pre clip', s: `audio/concat,f_aac/pre,o_eA/pre,o_*bad*${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "o_\*bad\*" \(o of the 2nd \/pre clip\) is not base64/ },
    { name: 'unknown parameter in /sur', s: `audio/concat,f_aac/sur,o_eA,x_1${SAVE}`, code: 'InvalidMediaArgument', message: /unknown parameter "x_1" of \/sur/ },
    { name: 'duplicate o in /sur', s: `audio/concat,f_aac/sur,o_eA,o_eQ${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "o_eQ" of \/sur repeats "o_eA"/ },
    { name: 'clip key starting with /', s: `audio/concat,f_aac/pre,o_${b64('/abs.mp3')}${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "o_L2Ficy5tcDM" names an object starting with "\/"/ },
    { name: 'twelve clips', s: twelve, code: 'InvalidMediaArgument', message: new RegExp(`parameter "o_${b64('s4.mp3')}" is clip 12 of 12; at most 11 clips`) },
    { name: 'align out of range', s: `audio/concat,f_aac,align_3/pre,o_eA/sur,o_eQ${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "align_3" is out of range: there are 3 clips \(index 0-2\)/ },
    { name: 'vcodec missing', s: `video/convert,f_mp4,acodec_aac${VSAVE}`, code: 'MissingMediaParameter', message: /parameter "vcodec" is required for container "f_mp4" unless vn_1/ },
    { name: 'acodec missing', s: `video/convert,f_mp4,vcodec_h264${VSAVE}`, code: 'MissingMediaParameter', message: /parameter "acodec" is required for container "f_mp4" unless an_1/ },
    { name: 'vcodec copy in concat', s: `video/concat,f_mp4,vcodec_copy,acodec_aac${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "vcodec_copy" is not allowed with video\/concat/ },
    { name: 'acodec copy in concat', s: `video/concat,f_mp4,vcodec_h264,acodec_copy${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "acodec_copy" is not allowed with video\/concat/ },
    { name: 'vcodec copy in convert', s: `video/convert,f_mp4,vcodec_copy,acodec_aac${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "vcodec_copy" is not supported: Medley always re-encodes/ },
    { name: 'unknown vcodec', s: `video/convert,f_mp4,vcodec_av1,acodec_aac${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "vcodec_av1" is not one of h264, h265, vp9/ },
    { name: 'h265 in flv', s: `video/convert,f_flv,vcodec_h265,acodec_aac${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "vcodec_h265" cannot be stored in container "f_flv"/ },
    { name: 'h265 in mxf', s: `video/convert,f_mxf,vcodec_h265,acodec_pcm${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "vcodec_h265" cannot be stored in container "f_mxf"/ },
    { name: 'h264 in webm', s: `video/convert,f_webm,vcodec_h264,acodec_opus${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "vcodec_h264" cannot be stored in container "f_webm"/ },
    { name: 'aac in webm', s: `video/convert,f_webm,vcodec_vp9,acodec_aac${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "acodec_aac" cannot be stored in container "f_webm"/ },
    { name: 'flac in mov', s: `video/convert,f_mov,vcodec_h264,acodec_flac${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "acodec_flac" cannot be stored in container "f_mov"/ },
    { name: 'vorbis in ts', s: `video/convert,f_ts,vcodec_h264,acodec_vorbis${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "acodec_vorbis" cannot be stored in container "f_ts"/ },
    { name: 'aac in mxf', s: `video/convert,f_mxf,vcodec_h264,acodec_aac${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "acodec_aac" cannot be stored in container "f_mxf" \(mxf takes pcm\)/ },
    { name: 'pcm in mp4', s: V('ar_8000').replace('acodec_aac', 'acodec_pcm'), code: 'InvalidMediaArgument', message: /parameter "acodec_pcm" cannot be stored in container "f_mp4"/ },
    { name: 'opus in flv', s: `video/convert,f_flv,vcodec_h264,acodec_opus${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "acodec_opus" cannot be stored in container "f_flv"/ },
    { name: 'opus in avi', s: `video/convert,f_avi,vcodec_h264,acodec_opus${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "acodec_opus" cannot be stored in container "f_avi"/ },
    { name: 'acodec mismatching an audio container', s: `video/convert,f_mp3,acodec_aac${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "acodec_aac" cannot be stored in container "f_mp3", which takes mp3 only/ },
    { name: 'video parameter with an audio container', s: `video/convert,f_mp3,vcodec_h264${SAVE}`, code: 'InvalidMediaArgument', message: /parameter "vcodec_h264" cannot be used: container "f_mp3" holds audio only/ },
    { name: 'fps 0', s: V('fps_0'), code: 'InvalidMediaArgument', message: /parameter "fps_0" is out of range \(0, 240\]/ },
    { name: 'fps 241', s: V('fps_241'), code: 'InvalidMediaArgument', message: /parameter "fps_241" is out of range \(0, 240\]/ },
    { name: 'fpsopt without fps', s: V('fpsopt_1'), code: 'InvalidMediaArgument', message: /parameter "fpsopt_1" needs "fps"/ },
    { name: 'unknown pixfmt', s: V('pixfmt_rgb24'), code: 'InvalidMediaArgument', message: /parameter "pixfmt_rgb24" is not one of yuv420p/ },
    { name: 'yuva420p with h264', s: V('pixfmt_yuva420p'), code: 'InvalidMediaArgument', message: /parameter "pixfmt_yuva420p" needs vp9, not h264/ },
    { name: 'odd width', s: V('s_1281x720'), code: 'InvalidMediaArgument', message: /parameter "s_1281x720" needs even sides of 64-4096 pixels/ },
    { name: 'width above 4096', s: V('s_8192x'), code: 'InvalidMediaArgument', message: /parameter "s_8192x" needs even sides/ },
    { name: 'height below 64', s: V('s_x32'), code: 'InvalidMediaArgument', message: /parameter "s_x32" needs even sides/ },
    { name: 'resolution garbage', s: V('s_big'), code: 'InvalidMediaArgument', message: /parameter "s_big" is not WxH, Wx or xH/ },
    { name: 'resolution x only', s: V('s_x'), code: 'InvalidMediaArgument', message: /parameter "s_x" is not WxH, Wx or xH/ },
    { name: 'sopt without s', s: V('sopt_1'), code: 'InvalidMediaArgument', message: /parameter "sopt_1" needs "s"/ },
    { name: 'unknown scaletype', s: V('scaletype_zoom'), code: 'InvalidMediaArgument', message: /parameter "scaletype_zoom" is not one of stretch, crop, fill, fit/ },
    { name: 'arotate 2', s: V('arotate_2'), code: 'InvalidMediaArgument', message: /parameter "arotate_2" must be 0 or 1/ },
    { name: 'g 0', s: V('g_0'), code: 'InvalidMediaArgument', message: /parameter "g_0" is out of range 1-100000/ },
    { name: 'vb too low', s: V('vb_5000'), code: 'InvalidMediaArgument', message: /parameter "vb_5000" is out of range 10000-100000000/ },
    { name: 'vb with crf', s: V('vb_1000000,crf_23'), code: 'InvalidMediaArgument', message: /parameter "crf_23" cannot be combined with "vb_1000000"/ },
    { name: 'vbopt without vb', s: V('vbopt_2'), code: 'InvalidMediaArgument', message: /parameter "vbopt_2" needs "vb"/ },
    { name: 'crf 52', s: V('crf_52'), code: 'InvalidMediaArgument', message: /parameter "crf_52" is out of range 0-51/ },
    { name: 'crf negative', s: V('crf_-1'), code: 'InvalidMediaArgument', message: /parameter "crf_-1" must be a number >= 0/ },
    { name: 'maxrate without crf', s: V('maxrate_2000000,bufsize_4000000'), code: 'InvalidMediaArgument', message: /parameter "maxrate_2000000" needs crf/ },
    { name: 'bufsize without crf', s: V('bufsize_4000000'), code: 'InvalidMediaArgument', message: /parameter "bufsize_4000000" needs crf/ },
    { name: 'maxrate without bufsize', s: V('crf_23,maxrate_2000000'), code: 'InvalidMediaArgument', message: /parameter "maxrate_2000000" needs a buffer size/ },
    { name: 'bufsize too large', s: V('crf_23,bufsize_200000001'), code: 'InvalidMediaArgument', message: /parameter "bufsize_200000001" is out of range 10000-200000000/ },
    { name: 'an 2', s: V('an_2'), code: 'InvalidMediaArgument', message: /parameter "an_2" must be 0 or 1/ },
    { name: 'sn 2', s: V('sn_2'), code: 'InvalidMediaArgument', message: /parameter "sn_2" must be 0 or 1/ },
    { name: 'an_1 and vn_1', s: V('an_1,vn_1'), code: 'InvalidMediaArgument', message: /the output would have neither audio nor video/ },
    { name: '/segment with mkv', s: `video/convert,f_mkv,vcodec_h264,acodec_aac/segment,f_hls,t_5000${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "\/segment,f_hls,t_5000" needs container mp4 or ts, not "f_mkv"/ },
    { name: '/segment unknown format', s: `${V('g_10').split('|')[0]}/segment,f_smooth,t_5000${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "f_smooth" is not one of hls, dash/ },
    { name: '/segment too long', s: `${V('g_10').split('|')[0]}/segment,f_hls,t_3600001${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "t_3600001" is out of range 0-3600000 ms/ },
    { name: '/segment without t', s: `${V('g_10').split('|')[0]}/segment,f_hls${VSAVE}`, code: 'MissingMediaParameter', message: /parameter "t" of "\/segment,f_hls" is required/ },
    { name: '/segment dash in ts', s: `video/convert,f_ts,vcodec_h264,acodec_aac/segment,f_dash,t_5000${VSAVE}`, code: 'InvalidMediaArgument', message: /parameter "f_dash" needs container mp4, not "f_ts"/ },
    { name: '/segment on an audio action', s: `audio/convert,f_aac/segment,f_hls,t_5000${SAVE}`, code: 'InvalidMediaArgument', message: /"\/segment" is only allowed with video\/convert and video\/concat/ },
    { name: '/segment twice', s: `${V('g_10').split('|')[0]}/segment,f_hls,t_5000/segment,f_hls,t_6000${VSAVE}`, code: 'InvalidMediaArgument', message: /"\/segment" is given twice/ },
    { name: '/notify before saveas', s: `audio/convert,f_aac/notify,topic_eA${SAVE}`, code: 'InvalidMediaArgument', message: /"\/notify" must follow sys\/saveas/ },
    { name: 'saveas without o', s: `audio/convert,f_aac|sys/saveas,b_${b64('outbucket')}`, code: 'MissingMediaParameter', message: /parameter "o" of sys\/saveas \(the target object\) is required/ },
    { name: 'saveas unknown parameter', s: `audio/convert,f_aac|sys/saveas,o_eA,x_1`, code: 'InvalidMediaArgument', message: /unknown parameter "x_1" of sys\/saveas/ },
    { name: 'saveas bad bucket name', s: `audio/convert,f_aac|sys/saveas,o_eA,b_${b64('Bad Bucket')}`, code: 'InvalidMediaArgument', message: /parameter "b_QmFkIEJ1Y2tldA" names an invalid bucket "Bad Bucket"/ },
    { name: 'saveas key starting with \\', s: `audio/convert,f_aac|sys/saveas,o_${b64('\\out.aac')}`, code: 'InvalidMediaArgument', message: /names an object starting with "\/" or "\\"/ },
    { name: 'saveas b not base64', s: `audio/convert,f_aac|sys/saveas,o_eA,b_!!`, code: 'InvalidMediaArgument', message: /parameter "b_!!" \(b of sys\/saveas\) is not base64/ },
    { name: 'notify without topic', s: `audio/convert,f_aac${SAVE}/notify,x_1`, code: 'InvalidMediaArgument', message: /unknown parameter "x_1" of \/notify/ },
    { name: 'notify topic with NUL', s: `audio/convert,f_aac${SAVE}/notify,topic_${b64('a\0b')}`, code: 'InvalidMediaArgument', message: /parameter "topic_YQBi" \(topic of \/notify\) decodes to a name containing NUL/ },
    { name: 'notify topic not a topic name', s: `audio/convert,f_aac${SAVE}/notify,topic_${b64('my topic')}`, code: 'InvalidMediaArgument', message: /parameter "topic_bXkgdG9waWM" is not a valid topic name/ },
    { name: 'notify twice', s: `audio/convert,f_aac${SAVE}/notify,topic_dDE/notify,topic_dDI`, code: 'InvalidMediaArgument', message: /"\/notify" is given twice/ },
    { name: 'sub-op after saveas', s: `audio/convert,f_aac${SAVE}/segment,f_hls,t_1000`, code: 'InvalidMediaArgument', message: /"\/segment" cannot follow sys\/saveas/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.throws(
        () => parse(c.s),
        (e: unknown) => {
          assert.ok(e instanceof MedleyError, `expected MedleyError, got ${String(e)}`);
          assert.equal(e.entry, errorCatalog[c.code], `expected ${c.code}, got ${e.code}: ${e.message}`);
          assert.match(e.message, c.message);
          return true;
        },
      );
    });
  }

  test('errors carry ArgumentName and ArgumentValue', () => {
    assert.throws(
      () => parse(`audio/concat,f_aac,ar_44101${SAVE}`),
      (e: unknown) => e instanceof MedleyError && e.details.ArgumentName === 'ar' && e.details.ArgumentValue === '44101',
    );
  });

  describe('extractProcessBody', () => {
    const bad: { name: string; body: string; code: ErrorName; message: RegExp }[] = [
      { name: 'empty body', body: '', code: 'MissingMediaParameter', message: /no process string/ },
      { name: 'field with empty value', body: 'x-oss-async-process=', code: 'MissingMediaParameter', message: /process string is empty/ },
      { name: 'wrong field', body: 'x-oss-process=video/convert', code: 'InvalidMediaArgument', message: /must be "x-oss-async-process=<process>", not "x-oss-process=\.\.\."/ },
      { name: 'no field at all', body: 'audio/convert,f_aac', code: 'InvalidMediaArgument', message: /must be "x-oss-async-process=<process>"/ },
      { name: 'percent-encoded invalid UTF-8', body: 'x-oss-async-process=audio%FF', code: 'InvalidMediaArgument', message: /"%FF" is not UTF-8/ },
    ];
    for (const c of bad) {
      test(c.name, () => {
        assert.throws(
          () => extractProcessBody(c.body, 'x-oss-async-process'),
          (e: unknown) => e instanceof MedleyError && e.entry === errorCatalog[c.code] && c.message.test(e.message),
        );
      });
    }
  });
});
