// The IMM door: CreateMediaConvertTask parameters (spec imm.md 1.3, 4.9, 6) to MediaJob.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseMediaConvertRequest } from '../../../src/media/request/imm-request.js';
import { parseProcessString } from '../../../src/media/request/process-string.js';
import { MedleyError, errorCatalog, type ErrorName } from '../../../src/errors.js';
import type { AudioTarget, Clip, MediaJob, VideoTarget } from '../../../src/media/job.js';

const VECTORS = new URL('../../fixtures/vectors/', import.meta.url);

const clip = (bucket: string, key: string, startMs = 0, durationMs = 0): Clip => ({ source: { bucket, key }, startMs, durationMs, disableAudio: false, disableVideo: false });
const NO_VIDEO: VideoTarget = { disabled: true, fpsOption: 'fixed', resolutionOption: 'fixed', scaleType: 'stretch', adaptiveOrientation: false, bitrateOption: 'fixed' };
const audioOf = (x: Partial<AudioTarget>): AudioTarget => ({ disabled: false, bitrateOption: 'fixed', ...x });
const videoOf = (x: Partial<VideoTarget>): VideoTarget => ({ ...NO_VIDEO, disabled: false, ...x });

// Seed 000, first example, exactly as documented.
const SEED_000_A = {
  ProjectName: 'test-project',
  AlignmentIndex: 1,
  Notification: { MNS: { TopicName: 'test-mns-topic' } },
  Sources: [{ URI: 'oss://test-bucket/video-demo/head.mp3' }, { URI: 'oss://test-bucket/video-demo/test.mp3' }, { URI: 'oss://test-bucket/video-demo/tail.mp3' }],
  Targets: [{ Audio: { TranscodeAudio: { Bitrate: 96000, Channel: 2, Codec: 'aac', SampleRate: 44100 } }, Container: 'aac', URI: 'oss://test-bucket/video-demo/concat.{autoext}' }],
};
const SEED_000_B = {
  ProjectName: 'test-project',
  AlignmentIndex: 0,
  Notification: { MNS: { TopicName: 'test-mns-topic' } },
  Sources: [{ URI: 'oss://test-bucket/video-demo/test.mp3' }, { URI: 'oss://test-bucket/video-demo/test1.mp3' }],
  Targets: [{ Audio: { TranscodeAudio: { Bitrate: 128000, Channel: 2, Codec: 'mp3', SampleRate: 44100 } }, Container: 'mp3', URI: 'oss://test-bucket/video-demo/concat.{autoext}' }],
};

/** What an SDK puts on the wire: scalars as strings, complex parameters as JSON text. */
function wire(request: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(request).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]));
}

const SEED_000_A_JOB: MediaJob = {
  origin: 'imm',
  action: 'audio/concat',
  clips: [clip('test-bucket', 'video-demo/head.mp3'), clip('test-bucket', 'video-demo/test.mp3'), clip('test-bucket', 'video-demo/tail.mp3')],
  alignIndex: 1,
  output: {
    container: 'aac',
    audio: audioOf({ codec: 'aac', bitrate: 96000, channels: 2, sampleRate: 44100 }),
    video: NO_VIDEO,
    dropSubtitles: false,
    destination: { bucket: 'test-bucket', keyTemplate: 'video-demo/concat.{autoext}' },
  },
  notify: { topic: 'test-mns-topic' },
};

interface Capture {
  label: string;
  url: string;
  body_utf8: string;
}
const captures = (file: string): Capture[] =>
  readFileSync(new URL(file, VECTORS), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Capture);
/** imm.md 1.2: query and form body merged, percent-decoded, '+' as space. */
const paramsOf = (c: Capture): Record<string, string> => ({
  ...Object.fromEntries(new URL(c.url, 'http://x').searchParams),
  ...Object.fromEntries(new URLSearchParams(c.body_utf8)),
});

// ---------------------------------------------------------------------------------------------------------

describe('seed 000 and captured clients', () => {
  test('seed 000 example 1: head, test, tail; AlignmentIndex 1; aac 96k stereo 44.1k; MNS topic', () => {
    assert.deepEqual(parseMediaConvertRequest(wire(SEED_000_A)), { job: SEED_000_A_JOB, projectName: 'test-project' });
  });

  test('seed 000 example 2: two mp3 sources to mp3', () => {
    const { job } = parseMediaConvertRequest(wire(SEED_000_B));
    assert.equal(job.action, 'audio/concat');
    assert.deepEqual(job.clips, [clip('test-bucket', 'video-demo/test.mp3'), clip('test-bucket', 'video-demo/test1.mp3')]);
    assert.equal(job.alignIndex, 0);
    assert.deepEqual(job.output.audio, audioOf({ codec: 'mp3', bitrate: 128000, channels: 2, sampleRate: 44100 }));
  });

  for (const c of captures('imm-popcore.jsonl').filter((x) => x.label.includes('CreateMediaConvertTask'))) {
    test(`pop-core capture ${c.label}`, () => {
      const { job, projectName } = parseMediaConvertRequest(paramsOf(c));
      assert.equal(projectName, 'test-project');
      if (c.label.includes('repeatlist')) {
        // The flattened capture carries Sources.1.URI... and no Notification.
        const { notify: _notify, ...withoutNotify } = SEED_000_A_JOB;
        assert.deepEqual(job, withoutNotify);
      } else {
        assert.deepEqual(job, SEED_000_A_JOB);
      }
    });
  }

  for (const c of captures('imm-openapi.jsonl').filter((x) => x.label.includes('CreateMediaConvertTask'))) {
    test(`openapi capture ${c.label}`, () => {
      assert.deepEqual(parseMediaConvertRequest(paramsOf(c)), { job: SEED_000_A_JOB, projectName: 'test-project' });
    });
  }

  test('fully flattened form (Targets and Notification too) equals the JSON form', () => {
    const flat = {
      ProjectName: 'test-project',
      AlignmentIndex: '1',
      'Notification.MNS.TopicName': 'test-mns-topic',
      'Sources.1.URI': 'oss://test-bucket/video-demo/head.mp3',
      'Sources.2.URI': 'oss://test-bucket/video-demo/test.mp3',
      'Sources.3.URI': 'oss://test-bucket/video-demo/tail.mp3',
      'Targets.1.Audio.TranscodeAudio.Bitrate': '96000',
      'Targets.1.Audio.TranscodeAudio.Channel': '2',
      'Targets.1.Audio.TranscodeAudio.Codec': 'aac',
      'Targets.1.Audio.TranscodeAudio.SampleRate': '44100',
      'Targets.1.Container': 'aac',
      'Targets.1.URI': 'oss://test-bucket/video-demo/concat.{autoext}',
    };
    assert.deepEqual(parseMediaConvertRequest(flat).job, SEED_000_A_JOB);
  });

  test('seed 000 and the equivalent OSS audio/concat string give the same clips and output', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    const oss = parseProcessString(
      `audio/concat,f_aac,ab_96000,ac_2,ar_44100,align_1/pre,o_${b64('video-demo/head.mp3')}/sur,o_${b64('video-demo/tail.mp3')}|sys/saveas,b_${b64('test-bucket')},o_${b64('video-demo/concat.{autoext}')}/notify,topic_${b64('test-mns-topic')}`,
      { bucket: 'test-bucket', key: 'video-demo/test.mp3' },
    );
    const imm = parseMediaConvertRequest(wire(SEED_000_A)).job;
    const normalize = (j: MediaJob) => ({ ...j, origin: 'x', output: { ...j.output, destination: undefined } });
    assert.deepEqual(oss.clips, imm.clips);
    assert.deepEqual(normalize(oss).output, normalize(imm).output);
    assert.deepEqual(oss.output.destination, imm.output.destination);
    assert.deepEqual(normalize(oss), normalize(imm));
  });
});

describe('mapping', () => {
  const base = (target: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    wire({ ProjectName: 'p', Sources: [{ URI: 'oss://b-1/in.mov' }], Targets: [{ URI: 'oss://b-1/out.{autoext}', ...target }], ...extra });

  test('Audio and Video absent: re-encode with the container defaults (mp4 -> aac + h264)', () => {
    const { job } = parseMediaConvertRequest(base({ Container: 'mp4' }));
    assert.equal(job.action, 'video/convert');
    assert.deepEqual(job.output.audio, audioOf({ codec: 'aac' }));
    assert.deepEqual(job.output.video, videoOf({ codec: 'h264' }));
  });

  const defaults: [string, string, string][] = [
    ['webm', 'opus', 'vp9'],
    ['mxf', 'pcm', 'h264'],
    ['avi', 'mp3', 'h264'],
    ['flv', 'aac', 'h264'],
  ];
  for (const [container, a, v] of defaults) {
    test(`container ${container} defaults to ${a} + ${v}`, () => {
      const { job } = parseMediaConvertRequest(base({ Container: container }));
      assert.deepEqual([job.output.audio.codec, job.output.video.codec], [a, v]);
    });
  }

  test('audio container oga defaults to vorbis and drops video', () => {
    const { job } = parseMediaConvertRequest(base({ Container: 'oga' }));
    assert.equal(job.action, 'audio/convert');
    assert.deepEqual(job.output.audio, audioOf({ codec: 'vorbis' }));
    assert.deepEqual(job.output.video, NO_VIDEO);
  });

  test('every TranscodeVideo / TranscodeAudio field, Segment and Subtitle', () => {
    const { job } = parseMediaConvertRequest(
      base({
        Container: 'mp4',
        Audio: { TranscodeAudio: { Codec: 'flac', SampleRate: 48000, Channel: 6, Quality: 90, BitsPerSample: 24 } },
        Video: {
          TranscodeVideo: {
            Codec: 'h265',
            Resolution: '1920x1080',
            AdaptiveResolutionDirection: true,
            ResolutionOption: 'adaptive',
            ScaleType: 'fit',
            FrameRate: 30,
            FrameRateOption: 'fall',
            PixelFormat: 'yuv444p',
            Bitrate: 4000000,
            BitrateOption: 'adaptive',
            GOPSize: 60,
            VideoSlim: 1,
          },
        },
        Segment: { Format: 'dash', Duration: 4.5 },
        Subtitle: { DisableSubtitle: true },
      }),
    );
    assert.deepEqual(job.output, {
      container: 'mp4',
      audio: audioOf({ codec: 'flac', sampleRate: 48000, channels: 6, quality: 90, bitsPerSample: 24 }),
      video: videoOf({
        codec: 'h265',
        resolution: { width: 1920, height: 1080 },
        adaptiveOrientation: true,
        resolutionOption: 'adaptive',
        scaleType: 'fit',
        fps: 30,
        fpsOption: 'fall',
        pixelFormat: 'yuv444p',
        bitrate: 4000000,
        bitrateOption: 'adaptive',
        gop: 60,
      }),
      segment: { format: 'dash', durationMs: 4500 },
      dropSubtitles: true,
      destination: { bucket: 'b-1', keyTemplate: 'out.{autoext}' },
    });
  });

  test('StartTime / Duration seconds become milliseconds; per-source DisableAudio/DisableVideo', () => {
    const { job } = parseMediaConvertRequest(
      wire({
        ProjectName: 'p',
        Sources: [{ URI: 'oss://b-1/a.mp4', StartTime: 1.5, Duration: 10 }, { URI: 'oss://b-1/b.mp4', DisableAudio: true, DisableVideo: 'true' }],
        Targets: [{ URI: 'oss://b-1/out.mp4', Container: 'mp4' }],
      }),
    );
    assert.equal(job.action, 'video/concat');
    assert.deepEqual(job.clips, [clip('b-1', 'a.mp4', 1500, 10000), { ...clip('b-1', 'b.mp4'), disableAudio: true, disableVideo: true }]);
  });

  test('CRF with MaxBitrate/BufferSize; MaxBitrate alone gets IMM default CRF 23', () => {
    const v1 = parseMediaConvertRequest(base({ Container: 'mkv', Video: { TranscodeVideo: { CRF: 28, MaxBitrate: 3000000, BufferSize: 6000000 } } })).job.output.video;
    assert.deepEqual([v1.crf, v1.maxBitrate, v1.bufferSize], [28, 3000000, 6000000]);
    const v2 = parseMediaConvertRequest(base({ Container: 'mkv', Video: { TranscodeVideo: { MaxBitrate: 3000000, BufferSize: 6000000 } } })).job.output.video;
    assert.equal(v2.crf, 23);
  });

  test('DisableAudio / DisableVideo on the target', () => {
    const a = parseMediaConvertRequest(base({ Container: 'mp4', Audio: { DisableAudio: true, TranscodeAudio: { Codec: 'aac', Bitrate: 64000 } } })).job.output.audio;
    assert.deepEqual(a, { disabled: true, bitrateOption: 'fixed' });
    const v = parseMediaConvertRequest(base({ Container: 'mp4', Video: { DisableVideo: true } })).job.output.video;
    assert.deepEqual(v, NO_VIDEO);
  });

  test('the documented 12025 sample rate is read as 11025', () => {
    const a = parseMediaConvertRequest(base({ Container: 'aac', Audio: { TranscodeAudio: { SampleRate: 12025 } } })).job.output.audio;
    assert.equal(a.sampleRate, 11025);
  });

  test('a target URI without an extension gets .{autoext}', () => {
    const d = parseMediaConvertRequest(base({ Container: 'mp4', URI: 'oss://b-1/dir.v2/out' })).job.output.destination;
    assert.deepEqual(d, { bucket: 'b-1', keyTemplate: 'dir.v2/out.{autoext}' });
  });

  test('a bucket template in the target URI is kept', () => {
    const d = parseMediaConvertRequest(base({ Container: 'mp4', URI: 'oss://{bucket}/{tags.custom}/{barename}.{autoext}' })).job.output.destination;
    assert.deepEqual(d, { bucket: '{bucket}', keyTemplate: '{tags.custom}/{barename}.{autoext}' });
  });

  test('UserData, Tags (values to strings), null fields, string scalars in JSON', () => {
    const { job } = parseMediaConvertRequest(
      base(
        { Container: 'mp3', Audio: { TranscodeAudio: { Bitrate: '128000', Quality: null } }, Video: null },
        { UserData: '{"k":"v"}', Tags: { a: 'x', n: 1, b: true, o: { z: 1 } } },
      ),
    );
    assert.equal(job.userData, '{"k":"v"}');
    assert.deepEqual(job.tags, { a: 'x', n: '1', b: 'true', o: '{"z":1}' });
    assert.equal(job.output.audio.bitrate, 128000);
  });

  test('flattened Tags keep numeric-looking keys as a map', () => {
    const params = { ...base({ Container: 'mp3' }), 'Tags.1': 'one', 'Tags.env': 'prod' };
    assert.deepEqual(parseMediaConvertRequest(params).job.tags, { '1': 'one', env: 'prod' });
  });

  test('Audio.Stream [0] and Rotation 0 are accepted as the defaults', () => {
    const { job } = parseMediaConvertRequest(base({ Container: 'mp4', Audio: { Stream: [0] }, Video: { TranscodeVideo: { Rotation: 0 } } }));
    assert.equal(job.output.video.codec, 'h264');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('bad requests', () => {
  const req = (over: Record<string, unknown>) => wire({ ProjectName: 'p', Sources: [{ URI: 'oss://b-1/in.mp4' }], Targets: [{ URI: 'oss://b-1/out.mp4', Container: 'mp4' }], ...over });
  const target = (t: Record<string, unknown>) => req({ Targets: [{ URI: 'oss://b-1/out.mp4', Container: 'mp4', ...t }] });
  const sources = (n: number) => Array.from({ length: n }, (_, i) => ({ URI: `oss://b-1/in${i}.mp4` }));

  const cases: { name: string; params: Record<string, string>; code: ErrorName; message: RegExp }[] = [
    { name: 'missing ProjectName', params: (({ ProjectName: _p, ...r }) => r)(req({})), code: 'MissingMediaParameter', message: /The parameter ProjectName is required but not provided\./ },
    { name: 'blank ProjectName', params: req({ ProjectName: '  ' }), code: 'MissingMediaParameter', message: /ProjectName/ },
    { name: 'missing Sources', params: (({ Sources: _s, ...r }) => r)(req({})), code: 'MissingMediaParameter', message: /The parameter Sources is required/ },
    { name: 'missing Targets', params: (({ Targets: _t, ...r }) => r)(req({})), code: 'MissingMediaParameter', message: /The parameter Targets is required/ },
    { name: 'bad JSON in Sources', params: { ...req({}), Sources: '[{"URI":' }, code: 'InvalidJson', message: /^Array parsing error, Sources$/ },
    { name: 'bad JSON in Notification', params: { ...req({}), Notification: '{MNS}' }, code: 'InvalidJson', message: /^Object parsing error, Notification$/ },
    { name: 'Sources not an array', params: req({ Sources: { URI: 'oss://b-1/a.mp4' } }), code: 'InvalidMediaArgument', message: /parameter "Sources=\{"URI":"oss:\/\/b-1\/a.mp4"\}" must be a list/ },
    { name: 'empty Sources', params: req({ Sources: [] }), code: 'InvalidMediaArgument', message: /parameter "Sources=\[\]" must list 1-11 sources/ },
    { name: 'twelve sources', params: req({ Sources: sources(12) }), code: 'InvalidMediaArgument', message: /parameter "Sources\[11\]\.URI=oss:\/\/b-1\/in11\.mp4" is clip 12 of 12; at most 11/ },
    { name: 'source without URI', params: req({ Sources: [{ StartTime: 1 }] }), code: 'MissingMediaParameter', message: /parameter "Sources\[0\]\.URI" is required/ },
    { name: 'http URI', params: req({ Sources: [{ URI: 'http://b-1/a.mp4' }] }), code: 'InvalidMediaArgument', message: /parameter "Sources\[0\]\.URI=http:\/\/b-1\/a\.mp4" must be oss:\/\/<bucket>\/<key>/ },
    { name: 'URI without key', params: req({ Sources: [{ URI: 'oss://b-1/' }] }), code: 'InvalidMediaArgument', message: /must be oss:\/\/<bucket>\/<key>/ },
    { name: 'invalid bucket', params: req({ Sources: [{ URI: 'oss://B!/a.mp4' }] }), code: 'InvalidMediaArgument', message: /parameter "Sources\[0\]\.URI=oss:\/\/B!\/a\.mp4" names an invalid bucket "B!"/ },
    { name: 'negative StartTime', params: req({ Sources: [{ URI: 'oss://b-1/a.mp4', StartTime: -1 }] }), code: 'InvalidMediaArgument', message: /parameter "Sources\[0\]\.StartTime=-1" must be a number of seconds >= 0/ },
    { name: 'StartTime not a number', params: req({ Sources: [{ URI: 'oss://b-1/a.mp4', StartTime: 'soon' }] }), code: 'InvalidMediaArgument', message: /parameter "Sources\[0\]\.StartTime=soon" must be a number/ },
    { name: 'unknown source field', params: req({ Sources: [{ URI: 'oss://b-1/a.mp4', Uri: 'x' }] }), code: 'InvalidMediaArgument', message: /unknown field "Sources\[0\]\.Uri"/ },
    { name: 'AlignmentIndex out of range', params: req({ Sources: sources(3), AlignmentIndex: 3 }), code: 'InvalidMediaArgument', message: /parameter "AlignmentIndex=3" is out of range: there are 3 clips \(index 0-2\)/ },
    { name: 'AlignmentIndex negative', params: req({ AlignmentIndex: -1 }), code: 'InvalidMediaArgument', message: /parameter "AlignmentIndex=-1" must be a whole number >= 0/ },
    { name: 'Attached source', params: req({ Sources: [{ URI: 'oss://b-1/a.mp4' }, { URI: 'oss://b-1/bgm.mp3', Attached: true }] }), code: 'InvalidMediaArgument', message: /parameter "Sources\[1\]\.Attached=true" is not supported/ },
    { name: 'source Subtitles', params: req({ Sources: [{ URI: 'oss://b-1/a.mp4', Subtitles: [{ URI: 'oss://b-1/a.srt' }] }] }), code: 'InvalidMediaArgument', message: /parameter "Sources\[0\]\.Subtitles" is not supported/ },
    { name: 'two targets', params: req({ Targets: [{ URI: 'oss://b-1/o1.mp4', Container: 'mp4' }, { URI: 'oss://b-1/o2.mp4', Container: 'mp4' }] }), code: 'InvalidMediaArgument', message: /only one target per task/ },
    { name: 'TargetGroups', params: req({ TargetGroups: [{ URI: 'oss://b-1/master.m3u8' }] }), code: 'InvalidMediaArgument', message: /parameter "TargetGroups" is not supported/ },
    { name: 'Image target', params: target({ Image: { Snapshots: [{ URI: 'oss://b-1/s.jpg', Format: 'jpg' }] } }), code: 'InvalidMediaArgument', message: /parameter "Targets\[0\]\.Image" is not supported/ },
    { name: 'watermarks', params: target({ Video: { FilterVideo: { Watermarks: [{ Content: 'hi' }] } } }), code: 'InvalidMediaArgument', message: /parameter "Targets\[0\]\.Video\.FilterVideo\.Watermarks" is not supported: Medley does not support watermarks/ },
    { name: 'Speed', params: target({ Speed: 0.5 }), code: 'InvalidMediaArgument', message: /parameter "Targets\[0\]\.Speed=0\.5" is not supported/ },
    { name: 'audio stream selection', params: target({ Audio: { Stream: [1, 2] } }), code: 'InvalidMediaArgument', message: /parameter "Targets\[0\]\.Audio\.Stream=\[1,2\]" is not supported/ },
    { name: 'RocketMQ notification', params: req({ Notification: { RocketMQ: { InstanceId: 'i', TopicName: 't' } } }), code: 'InvalidMediaArgument', message: /parameter "Notification\.RocketMQ" is not supported/ },
    { name: 'URI without Container', params: req({ Targets: [{ URI: 'oss://b-1/out.mp4' }] }), code: 'InvalidMediaArgument', message: /parameter "Targets\[0\]\.URI=oss:\/\/b-1\/out\.mp4" needs Container/ },
    { name: 'neither URI nor Container', params: req({ Targets: [{ Audio: {} }] }), code: 'InvalidMediaArgument', message: /Targets\[0\] needs URI and Container/ },
    { name: 'unknown container', params: target({ Container: 'gif' }), code: 'InvalidMediaArgument', message: /parameter "Targets\[0\]\.Container=gif" is not one of mp4, mkv/ },
    { name: 'target URI scheme', params: target({ URI: 's3://b-1/out.mp4' }), code: 'InvalidMediaArgument', message: /parameter "Targets\[0\]\.URI=s3:\/\/b-1\/out\.mp4" must be oss:\/\/<bucket>\/<key>/ },
    { name: 'audio copy when concatenating', params: req({ Sources: sources(2), Targets: [{ URI: 'oss://b-1/o.mp4', Container: 'mp4', Audio: { TranscodeAudio: { Codec: 'copy' } } }] }), code: 'InvalidMediaArgument', message: /parameter "Targets\[0\]\.Audio\.TranscodeAudio\.Codec=copy" is not allowed when concatenating/ },
    { name: 'video copy on a single source', params: target({ Video: { TranscodeVideo: { Codec: 'copy' } } }), code: 'InvalidMediaArgument', message: /parameter "Targets\[0\]\.Video\.TranscodeVideo\.Codec=copy" is not supported: Medley always re-encodes/ },
    { name: 'unknown audio codec', params: target({ Audio: { TranscodeAudio: { Codec: 'wma' } } }), code: 'InvalidMediaArgument', message: /Codec=wma" is not one of mp3, aac/ },
    { name: 'sample rate not in list', params: target({ Audio: { TranscodeAudio: { SampleRate: 44101 } } }), code: 'InvalidMediaArgument', message: /^CreateMediaConvertTask: parameter "Targets\[0\]\.Audio\.TranscodeAudio\.SampleRate=44101" is not one of 8000, 11025/ },
    { name: 'Bitrate with Quality', params: target({ Audio: { TranscodeAudio: { Bitrate: 96000, Quality: 50 } } }), code: 'InvalidMediaArgument', message: /Quality=50" cannot be combined with "Targets\[0\]\.Audio\.TranscodeAudio\.Bitrate=96000"/ },
    { name: 'BitrateOption adaptive without Bitrate', params: target({ Audio: { TranscodeAudio: { BitrateOption: 'adaptive' } } }), code: 'InvalidMediaArgument', message: /BitrateOption=adaptive" needs an audio bitrate/ },
    { name: 'bad BitrateOption', params: target({ Audio: { TranscodeAudio: { BitrateOption: 'sometimes' } } }), code: 'InvalidMediaArgument', message: /BitrateOption=sometimes" must be fixed, adaptive or fall/ },
    { name: 'mp3 codec in aac container', params: req({ Targets: [{ URI: 'oss://b-1/o.aac', Container: 'aac', Audio: { TranscodeAudio: { Codec: 'mp3' } } }] }), code: 'InvalidMediaArgument', message: /Codec=mp3" cannot be stored in container "Targets\[0\]\.Container=aac", which takes aac only/ },
    { name: 'opus in mov', params: target({ Container: 'mov', Audio: { TranscodeAudio: { Codec: 'opus' } } }), code: 'InvalidMediaArgument', message: /Codec=opus" cannot be stored in container "Targets\[0\]\.Container=mov"/ },
    { name: 'h265 in flv', params: target({ Container: 'flv', Video: { TranscodeVideo: { Codec: 'h265' } } }), code: 'InvalidMediaArgument', message: /Codec=h265" cannot be stored in container "Targets\[0\]\.Container=flv"/ },
    { name: 'video settings with an audio container', params: req({ Targets: [{ URI: 'oss://b-1/o.mp3', Container: 'mp3', Video: { TranscodeVideo: { Codec: 'h264' } } }] }), code: 'InvalidMediaArgument', message: /parameter "Targets\[0\]\.Video\.TranscodeVideo" cannot be used: container "Targets\[0\]\.Container=mp3" holds audio only/ },
    { name: 'bad Resolution', params: target({ Video: { TranscodeVideo: { Resolution: '1080p' } } }), code: 'InvalidMediaArgument', message: /Resolution=1080p" is not WxH, Wx or xH/ },
    { name: 'odd Resolution', params: target({ Video: { TranscodeVideo: { Resolution: '641x480' } } }), code: 'InvalidMediaArgument', message: /Resolution=641x480" needs even sides of 64-4096 pixels/ },
    { name: 'Bitrate with CRF', params: target({ Video: { TranscodeVideo: { Bitrate: 1000000, CRF: 23 } } }), code: 'InvalidMediaArgument', message: /CRF=23" cannot be combined with "Targets\[0\]\.Video\.TranscodeVideo\.Bitrate=1000000"/ },
    { name: 'MaxBitrate with Bitrate', params: target({ Video: { TranscodeVideo: { Bitrate: 1000000, MaxBitrate: 2000000, BufferSize: 4000000 } } }), code: 'InvalidMediaArgument', message: /MaxBitrate=2000000" needs crf/ },
    { name: 'bad PixelFormat', params: target({ Video: { TranscodeVideo: { PixelFormat: 'nv12' } } }), code: 'InvalidMediaArgument', message: /PixelFormat=nv12" is not one of yuv420p/ },
    { name: 'bad ScaleType', params: target({ Video: { TranscodeVideo: { ScaleType: 'zoom' } } }), code: 'InvalidMediaArgument', message: /ScaleType=zoom" must be stretch, crop, fill or fit/ },
    { name: 'BitsPerSample 20', params: target({ Container: 'mkv', Audio: { TranscodeAudio: { Codec: 'flac', BitsPerSample: 20 } } }), code: 'InvalidMediaArgument', message: /BitsPerSample=20" must be 16 or 24/ },
    { name: 'Segment in mkv', params: target({ Container: 'mkv', Segment: { Format: 'hls', Duration: 10 } }), code: 'InvalidMediaArgument', message: /parameter "Targets\[0\]\.Segment\.Format=hls" needs container mp4 or ts, not "Targets\[0\]\.Container=mkv"/ },
    { name: 'Segment without Duration', params: target({ Segment: { Format: 'hls' } }), code: 'MissingMediaParameter', message: /parameter "Targets\[0\]\.Segment\.Duration" is required/ },
    { name: 'Bitrate not a whole number', params: target({ Audio: { TranscodeAudio: { Bitrate: 96000.5 } } }), code: 'InvalidMediaArgument', message: /Bitrate=96000\.5" must be a whole number/ },
    { name: 'unknown TranscodeVideo field', params: target({ Video: { TranscodeVideo: { Preset: 'slow' } } }), code: 'InvalidMediaArgument', message: /unknown field "Targets\[0\]\.Video\.TranscodeVideo\.Preset"/ },
    { name: 'both audio and video disabled', params: target({ Audio: { DisableAudio: true }, Video: { DisableVideo: true } }), code: 'InvalidMediaArgument', message: /neither audio nor video/ },
    { name: 'UserData over 2048 bytes', params: req({ UserData: 'é'.repeat(1025) }), code: 'InvalidMediaArgument', message: /parameter "UserData=é+" is longer than 2048 bytes/ },
    { name: 'topic name invalid', params: req({ Notification: { MNS: { TopicName: 'bad topic' } } }), code: 'InvalidMediaArgument', message: /parameter "Notification\.MNS\.TopicName=bad topic" is not a valid topic name/ },
    { name: 'Tags not an object', params: req({ Tags: ['a'] }), code: 'InvalidMediaArgument', message: /parameter "Tags=\["a"\]" must be an object of tag names to values/ },
    { name: 'JSON and flattened together', params: { ...req({}), 'Sources.1.URI': 'oss://b-1/x.mp4' }, code: 'InvalidMediaArgument', message: /Sources is given both as JSON and flattened/ },
    { name: 'flattened gap', params: { ...(({ Sources: _s, ...r }) => r)(req({})), 'Sources.1.URI': 'oss://b-1/a.mp4', 'Sources.3.URI': 'oss://b-1/c.mp4' }, code: 'InvalidMediaArgument', message: /flattened parameter Sources\.2 is missing/ },
    { name: 'flattened [object Object]', params: { ...(({ Targets: _t, ...r }) => r)(req({})), 'Targets.1.Audio': '[object Object]', 'Targets.1.URI': 'oss://b-1/o.mp4', 'Targets.1.Container': 'mp4' }, code: 'InvalidMediaArgument', message: /"Targets\.1\.Audio" holds "\[object Object\]": pass Targets as JSON text/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.throws(
        () => parseMediaConvertRequest(c.params),
        (e: unknown) => {
          assert.ok(e instanceof MedleyError, `expected MedleyError, got ${String(e)}`);
          assert.equal(e.entry, errorCatalog[c.code], `expected ${c.code}, got: ${e.message}`);
          assert.match(e.message, c.message);
          return true;
        },
      );
    });
  }

  test('missing ProjectName names it in details', () => {
    assert.throws(
      () => parseMediaConvertRequest({}),
      (e: unknown) => e instanceof MedleyError && e.details.ArgumentName === 'ProjectName',
    );
  });
});
