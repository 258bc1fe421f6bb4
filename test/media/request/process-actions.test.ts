// x-oss-process / x-oss-async-process requests (spec oss.md §5): the process-string grammar around the parser
// (media/request/process-actions.ts) and the TaskRequestDefinition of an OSS task (request-definition.ts).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { actionOf, checkAsyncAction, decodeProcessBody, parseSyncProcess } from '../../../src/media/request/process-actions.js';
import { buildRequestDefinition } from '../../../src/media/request/request-definition.js';
import { newJsonRequestId, MAX_PROCESS_BODY } from '../../../src/http/oss/handlers/process.js';
import { parseProcessString } from '../../../src/media/request/process-string.js';
import { MedleyError } from '../../../src/errors.js';

const b64url = (s: string): string => Buffer.from(s).toString('base64url');
const b64std = (s: string): string => Buffer.from(s).toString('base64');

/** Asserts a MedleyError with this OSS code (and status), whose message matches `message`. */
function throwsOss(fn: () => unknown, code: string, status: number, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MedleyError, `expected a MedleyError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.status, status, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('decodeProcessBody', () => {
  const process = `video/convert,f_mp4,vcodec_h264,acodec_aac|sys/saveas,o_${b64std('x?>/x.mp4')},b_${b64std('dest-bucket')}`;

  test('raw body (oss2, Go)', () => {
    assert.equal(decodeProcessBody(Buffer.from(`x-oss-async-process=${process}`), 'x-oss-async-process'), process);
  });

  test('percent-encoded body (ali-oss querystring.stringify): "+" in base64 stays "+"', () => {
    const encoded = `x-oss-async-process=${encodeURIComponent(process)}`;
    assert.ok(encoded.includes('%2B'), 'the fixture has an encoded "+"');
    assert.equal(decodeProcessBody(Buffer.from(encoded), 'x-oss-async-process'), process);
    // A literal "+" (raw body) is never a space.
    assert.equal(decodeProcessBody(Buffer.from('x-oss-process=video/info|sys/saveas,o_YS+b'), 'x-oss-process'), 'video/info|sys/saveas,o_YS+b');
  });

  test('a trailing newline is dropped', () => {
    assert.equal(decodeProcessBody(Buffer.from('x-oss-process=video/info\r\n'), 'x-oss-process'), 'video/info');
  });

  test('UTF-8 keys survive both encodings', () => {
    const p = `video/info|sys/saveas,o_${b64url('视频/信息.json')}`;
    assert.equal(decodeProcessBody(Buffer.from(`x-oss-process=${encodeURIComponent(p)}`), 'x-oss-process'), p);
  });

  const bad: Array<[string, Buffer, string, RegExp]> = [
    ['not UTF-8', Buffer.from([0x78, 0x2d, 0x6f, 0x73, 0x73, 0x2d, 0x70, 0x72, 0x6f, 0x63, 0x65, 0x73, 0x73, 0x3d, 0xff, 0xfe]), 'x-oss-process', /not UTF-8/],
    ['empty body', Buffer.alloc(0), 'x-oss-async-process', /no process string/],
    ['empty value', Buffer.from('x-oss-async-process='), 'x-oss-async-process', /empty/],
    ['other field', Buffer.from('x-oss-process=video/convert,f_mp4'), 'x-oss-async-process', /must be "x-oss-async-process=<process>"/],
    ['bare string', Buffer.from('video/info'), 'x-oss-process', /must be "x-oss-process=<process>"/],
  ];
  for (const [name, body, field, message] of bad) {
    test(`refuses: ${name} (400 InvalidArgument)`, () => throwsOss(() => decodeProcessBody(body, field as 'x-oss-process'), 'InvalidArgument', 400, message));
  }

  test('the body limit is 64 KiB', () => assert.equal(MAX_PROCESS_BODY, 65536));
});

describe('actionOf', () => {
  const cases: Array<[string, string]> = [
    ['video/info', 'video/info'],
    ['video/convert,f_mp4,vcodec_h264|sys/saveas,o_b3V0', 'video/convert'],
    ['audio/concat,f_aac/pre,o_cHJl|sys/saveas,o_b3V0', 'audio/concat'],
    ['image/resize,w_100', 'image/resize'],
    ['style/thumb', 'style/thumb'],
    ['sys/saveas,o_b3V0', 'sys/saveas'],
    [' video/info ', 'video/info'],
    ['f_mp4', 'f_mp4'],
    ['', ''],
  ];
  for (const [input, want] of cases) test(JSON.stringify(input), () => assert.equal(actionOf(input), want));
});

describe('checkAsyncAction', () => {
  for (const ok of ['audio/convert,f_mp3', 'audio/concat,f_aac', 'video/convert,f_mp4', 'video/concat,f_mp4', 'style/mine', 'sys/saveas,o_eA', 'nonsense']) {
    test(`passes ${ok} on to the parser`, () => assert.doesNotThrow(() => checkAsyncAction(ok)));
  }
  const immClient: Array<[string, RegExp]> = [
    ['image/resize,w_100|sys/saveas,o_eA', /^image\/resize cannot run asynchronously.*x-oss-process instead/],
    ['video/info', /^video\/info cannot run asynchronously.*x-oss-process instead/],
    ['video/snapshot,t_1000', /^video\/snapshot cannot run asynchronously/],
    ['audio/info', /audio\/info cannot run asynchronously/],
    ['foo/bar', /^foo\/bar cannot run asynchronously: x-oss-async-process runs audio\/convert, audio\/concat, video\/convert, video\/concat\.$/],
  ];
  for (const [input, message] of immClient) {
    test(`${input} -> 404 "Imm Client"`, () => throwsOss(() => checkAsyncAction(input), 'Imm Client', 404, message));
  }
  for (const action of ['video/snapshots', 'video/sprite', 'video/animation', 'doc/convert']) {
    test(`${action} -> NotImplemented naming it`, () => throwsOss(() => checkAsyncAction(`${action},f_jpg`), 'NotImplemented', 400, new RegExp(`"${action}"`)));
  }
});

describe('parseSyncProcess', () => {
  const POST = { allowSaveAs: true };
  const GET = { allowSaveAs: false };

  const good: Array<[string, { allowSaveAs: boolean }, unknown]> = [
    ['video/info', GET, { action: 'video/info' }],
    ['audio/info', GET, { action: 'audio/info' }],
    ['video/info,', GET, { action: 'video/info' }],
    ['video/info\n', POST, { action: 'video/info' }],
    [`video/info|sys/saveas,o_${b64url('meta/a.json')}`, POST, { action: 'video/info', saveAs: { key: 'meta/a.json' } }],
    [`audio/info|sys/saveas,o_${b64url('a.json')},b_${b64url('other-bucket')}`, POST, { action: 'audio/info', saveAs: { bucket: 'other-bucket', key: 'a.json' } }],
    // ali-oss: standard, padded base64 ("/" and "+" inside values; not op separators).
    [`video/info|sys/saveas,b_${b64std('dest')},o_${b64std('x?>/x.json')}`, POST, { action: 'video/info', saveAs: { bucket: 'dest', key: 'x?>/x.json' } }],
    // Documentation examples encode a trailing newline.
    [`video/info|sys/saveas,o_${b64url('out.json\n')}`, POST, { action: 'video/info', saveAs: { key: 'out.json' } }],
  ];
  for (const [input, opts, want] of good) test(`accepts ${JSON.stringify(input)}`, () => assert.deepEqual(parseSyncProcess(input, opts), want));

  const bad: Array<[string, { allowSaveAs: boolean }, string, number, RegExp]> = [
    ['', GET, 'InvalidArgument', 400, /empty/],
    ['video/convert,f_mp4,vcodec_h264', GET, 'InvalidArgument', 400, /video\/convert runs only asynchronously.*x-oss-async-process/],
    ['audio/concat,f_aac', POST, 'InvalidArgument', 400, /audio\/concat runs only asynchronously/],
    ['video/snapshots,f_jpg', GET, 'InvalidArgument', 400, /only asynchronously/],
    ['video/snapshot,t_1000,f_jpg', GET, 'NotImplemented', 400, /"video\/snapshot"/],
    ['image/resize,w_100', GET, 'NotImplemented', 400, /"image\/resize"/],
    ['style/thumb', GET, 'NotImplemented', 400, /"style\/thumb"/],
    ['info', GET, 'NotImplemented', 400, /"info"/],
    ['video/info,t_1', GET, 'InvalidArgument', 400, /takes no parameters/],
    [`video/info|sys/saveas,o_${b64url('a.json')}`, GET, 'InvalidArgument', 400, /needs POST/],
    [`video/info|saveas,o_${b64url('a.json')}`, POST, 'InvalidArgument', 400, /sys\/saveas/],
    [`video/info|sys/saveas,o_${b64url('a.json')}|image/resize`, POST, 'InvalidArgument', 400, /must be the last pipe/],
    ['video/info|image/resize,w_1', POST, 'InvalidArgument', 400, /cannot be followed/],
    ['video/info|', POST, 'InvalidArgument', 400, /empty pipe/],
    ['video/info|sys/saveas', POST, 'InvalidArgument', 400, /"o" of sys\/saveas/],
    [`video/info|sys/saveas,b_${b64url('b')}`, POST, 'InvalidArgument', 400, /"o" of sys\/saveas/],
    [`video/info|sys/saveas,o_${b64url('a')},x_1`, POST, 'InvalidArgument', 400, /unknown parameter "x_1"/],
    [`video/info|sys/saveas,o_${b64url('a')},o_${b64url('b')}`, POST, 'InvalidArgument', 400, /repeats/],
    [`video/info|sys/saveas,o_${b64url('a')}/notify,topic_${b64url('t')}`, POST, 'InvalidArgument', 400, /notify.*x-oss-async-process/],
    ['video/info|sys/saveas,o_!!', POST, 'InvalidArgument', 400, /not base64/],
    [`video/info|sys/saveas,o_${b64url('a')},b_${b64url('Bad_Bucket')}`, POST, 'InvalidBucketName', 400, /./],
  ];
  for (const [input, opts, code, status, message] of bad) {
    test(`refuses ${JSON.stringify(input)} (${code})`, () => throwsOss(() => parseSyncProcess(input, opts), code, status, message));
  }
});

describe('buildRequestDefinition', () => {
  test('video/concat (spec §5.6 example): sources in order with seconds, target, options, align, notify, Process', () => {
    const process = `video/concat,ss_10000,f_mp4,vcodec_h264,fps_25,vb_1000000,acodec_aac,ab_96000,ar_48000,ac_2,align_1/pre,o_${b64url('pre.mov')}/sur,o_${b64url('sur.mov')},t_10000|sys/saveas,b_${b64url('outbucket')},o_${b64url('outobj.{autoext}')}/notify,topic_QXVkaW9Db252ZXJ0`;
    const job = parseProcessString(process, { bucket: 'src', key: 'example.mkv' }, { requireSaveAs: true });
    const def = buildRequestDefinition(job, process, 'proj', 'src');
    assert.deepEqual(def, {
      ProjectName: 'proj',
      Sources: [{ URI: 'oss://src/pre.mov' }, { URI: 'oss://src/example.mkv', StartTime: 10 }, { URI: 'oss://src/sur.mov', Duration: 10 }],
      Targets: [
        {
          URI: 'oss://outbucket/outobj.{autoext}',
          Container: 'mp4',
          Video: { TranscodeVideo: { Codec: 'h264', FrameRate: 25, FrameRateOption: 'fixed', Bitrate: 1000000, BitrateOption: 'fixed' } },
          Audio: { TranscodeAudio: { Codec: 'aac', SampleRate: 48000, Channel: 2, Bitrate: 96000, BitrateOption: 'fixed' } },
        },
      ],
      AlignmentIndex: 1,
      Notification: { MNS: { TopicName: 'AudioConvert' } },
      Process: process,
    });
    // It is what GetTask stores: plain JSON.
    assert.deepEqual(JSON.parse(JSON.stringify(def)), def);
  });

  test('audio/convert: no Video, target in the source bucket, options only with their values', () => {
    const process = `audio/convert,ss_1500,t_2000,f_mp3,ar_44100,ac_1,ab_64000,abopt_1|sys/saveas,o_${b64url('dir/out.mp3')}`;
    const job = parseProcessString(process, { bucket: 'music', key: 'in.flac' }, { requireSaveAs: true });
    assert.deepEqual(buildRequestDefinition(job, process, 'medley-default', 'music'), {
      ProjectName: 'medley-default',
      Sources: [{ URI: 'oss://music/in.flac', StartTime: 1.5, Duration: 2 }],
      Targets: [{ URI: 'oss://music/dir/out.mp3', Container: 'mp3', Audio: { TranscodeAudio: { Codec: 'mp3', SampleRate: 44100, Channel: 1, Bitrate: 64000, BitrateOption: 'adaptive' } } }],
      Process: process,
    });
  });

  test('video/convert: resolution, crf, disabled audio, segments, dropped subtitles', () => {
    const process = `video/convert,f_ts,vcodec_h265,s_1280x,sopt_2,scaletype_fit,arotate_1,crf_28,maxrate_2000000,bufsize_4000000,g_50,pixfmt_yuv420p,an_1,sn_1/segment,f_hls,t_6000|sys/saveas,o_${b64url('hls/{barename}')}`;
    const job = parseProcessString(process, { bucket: 'vids', key: 'a/b.mp4' }, { requireSaveAs: true });
    const def = buildRequestDefinition(job, process, 'p', 'vids');
    assert.deepEqual(def.Targets, [
      {
        URI: 'oss://vids/hls/{barename}',
        Container: 'ts',
        Video: {
          TranscodeVideo: {
            Codec: 'h265',
            Resolution: '1280x',
            ResolutionOption: 'fall',
            AdaptiveResolutionDirection: true,
            ScaleType: 'fit',
            PixelFormat: 'yuv420p',
            CRF: 28,
            MaxBitrate: 2000000,
            BufferSize: 4000000,
            GOPSize: 50,
          },
        },
        Audio: { DisableAudio: true },
        Segment: { Format: 'hls', Duration: 6 },
        Subtitle: { DisableSubtitle: true },
      },
    ]);
    assert.equal(def.AlignmentIndex, undefined);
    assert.equal(def.Notification, undefined);
  });
});

describe('the async request pipeline (pure steps)', () => {
  test('a Go SDK body becomes a job; an ali-oss body of the same request gives the same job', () => {
    const raw = `x-oss-async-process=audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2/pre,o_${b64url('src1.mp3')}=/pre,o_${b64url('src2.mp3')},t_0|sys/saveas,b_${b64url('examplebucket')},o_${b64url('dest.aac')}/notify,topic_QXVkaW9Db252ZXJ0`;
    const fromRaw = decodeProcessBody(Buffer.from(raw), 'x-oss-async-process');
    checkAsyncAction(fromRaw);
    const job = parseProcessString(fromRaw, { bucket: 'examplebucket', key: 'src1.mp3' }, { requireSaveAs: true });
    assert.deepEqual(
      job.clips.map((c) => c.source.key),
      ['src1.mp3', 'src2.mp3', 'src1.mp3'],
    );
    const fromEncoded = decodeProcessBody(Buffer.from(`x-oss-async-process=${encodeURIComponent(fromRaw)}`), 'x-oss-async-process');
    assert.equal(fromEncoded, fromRaw);
  });

  test('an async body without sys/saveas is refused by the parser', () => {
    throwsOss(() => parseProcessString('video/convert,f_mp4,vcodec_h264,acodec_aac', { bucket: 'b', key: 'k.mp4' }, { requireSaveAs: true }), 'InvalidArgument', 400, /sys\/saveas/);
  });
});

describe('small helpers', () => {
  test('newJsonRequestId is an upper-case UUID, new each time', () => {
    const a = newJsonRequestId();
    assert.match(a, /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    assert.notEqual(a, newJsonRequestId());
  });
});
