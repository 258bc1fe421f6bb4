/**
 * Golden tables: the exact FFmpeg argv the planner produces for each seed document's examples, from fixed
 * probe results. A planner change shows up as a reviewable diff of test/fixtures/golden/*.json; after
 * reviewing it, regenerate with `MEDLEY_UPDATE_GOLDEN=1 node --import tsx --test test/media/plan/golden.test.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MediaInfo } from '../../../src/media/media-info.js';
import type { MediaJob } from '../../../src/media/job.js';
import { planJob } from '../../../src/media/plan/index.js';
import { parseProcessString } from '../../../src/media/request/process-string.js';
import { parseMediaConvertRequest } from '../../../src/media/request/imm-request.js';

const GOLDEN_DIR = fileURLToPath(new URL('../../fixtures/golden/', import.meta.url));
const UPDATE = process.env.MEDLEY_UPDATE_GOLDEN === '1';

/** Probe results by source kind: what the bundled ffprobe reports for the test fixtures of each format. */
const AUDIO = (formatName: string, demuxer: string, codec: string, sampleRate: number, channels: number, durationSec: number): MediaInfo => ({
  durationSec,
  formatName,
  demuxer,
  audio: { index: 0, codec, sampleRate, channels, channelLayout: channels === 1 ? 'mono' : 'stereo' },
});
const MOVIE = (durationSec: number, width: number, height: number, fps: number): MediaInfo => ({
  durationSec,
  formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
  demuxer: 'mov',
  audio: { index: 1, codec: 'aac', sampleRate: 44100, channels: 2, channelLayout: 'stereo' },
  video: { index: 0, codec: 'h264', width, height, fps, pixelFormat: 'yuv420p', sar: [1, 1], rotation: 0 },
});
const INFO: Record<string, MediaInfo> = {
  mp3: AUDIO('mp3', 'mp3', 'mp3', 44100, 2, 30),
  wav: AUDIO('wav', 'wav', 'pcm_s16le', 48000, 1, 20),
  aac: AUDIO('aac', 'aac', 'aac', 44100, 2, 25),
  wma: AUDIO('asf', 'asf', 'wmav2', 44100, 2, 40),
  oga: AUDIO('ogg', 'ogg', 'vorbis', 48000, 2, 60),
  mov: MOVIE(12, 1280, 720, 30),
  mp4: MOVIE(15, 1920, 1080, 25),
  mkv: { ...MOVIE(90, 1280, 720, 25), formatName: 'matroska,webm', demuxer: 'matroska' },
};

function infoFor(key: string): MediaInfo {
  const ext = /\.([a-z0-9]+)$/i.exec(key)?.[1]?.toLowerCase() ?? '';
  const info = INFO[ext];
  if (!info) throw new Error(`no fixed probe result for ${key}`);
  return info;
}

const enc = (s: string) => Buffer.from(s).toString('base64url');

interface Case {
  name: string;
  job: () => MediaJob;
}

const cases: Case[] = [
  // Seed 000: IMM CreateMediaConvertTask, audio merging (both examples of the document).
  {
    name: 'seed000-imm-concat-aac',
    job: () =>
      parseMediaConvertRequest({
        ProjectName: 'test-project',
        AlignmentIndex: '1',
        Sources: JSON.stringify([{ URI: 'oss://test-bucket/video-demo/head.mp3' }, { URI: 'oss://test-bucket/video-demo/test.mp3' }, { URI: 'oss://test-bucket/video-demo/tail.mp3' }]),
        Targets: JSON.stringify([{ Audio: { TranscodeAudio: { Bitrate: 96000, Channel: 2, Codec: 'aac', SampleRate: 44100 } }, Container: 'aac', URI: 'oss://test-bucket/video-demo/concat.{autoext}' }]),
      }).job,
  },
  {
    name: 'seed000-imm-concat-mp3',
    job: () =>
      parseMediaConvertRequest({
        ProjectName: 'test-project',
        AlignmentIndex: '0',
        Sources: JSON.stringify([{ URI: 'oss://test-bucket/video-demo/test.mp3' }, { URI: 'oss://test-bucket/video-demo/test1.mp3' }]),
        Targets: JSON.stringify([{ Audio: { TranscodeAudio: { Bitrate: 128000, Channel: 2, Codec: 'mp3', SampleRate: 44100 } }, Container: 'mp3', URI: 'oss://test-bucket/video-demo/concat.{autoext}' }]),
      }).job,
  },
  // Seed 001: audio/concat with /pre and /sur clips and per-clip trims (the document's worked example).
  {
    name: 'seed001-audio-concat',
    job: () =>
      parseProcessString(
        'audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2/pre,o_cHJlMS5tcDMK/pre,o_cHJlMi53YXYK,t_2000/sur,o_c3VyMS5hYWMK,ss_4000,t_10000/sur,o_c3VyMi53bWEK,ss_10000|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0',
        { bucket: 'examplebucket', key: 'example.oga' },
      ),
  },
  // Seed 001's SDK examples (Python, Java, Go): two /pre clips before the URL object, the second with t_0.
  {
    name: 'seed001-sdk-audio-concat',
    job: () =>
      parseProcessString(
        `audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2/pre,o_${enc('src1.mp3')}/pre,o_${enc('src2.mp3')},t_0|sys/saveas,b_${enc('examplebucket')},o_${enc('dest.aac')}/notify,topic_QXVkaW9Db252ZXJ0`,
        { bucket: 'examplebucket', key: 'src1.mp3' },
      ),
  },
  // Seed 002: audio/convert (trim + AAC, and Opus with rate and channels; the second as printed, with the
  // space before o_).
  {
    name: 'seed002-audio-convert-aac',
    job: () => parseProcessString('audio/convert,ss_10000,t_60000,f_aac,ab_96000|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqcHJlZml4LnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0', { bucket: 'examplebucket', key: 'example.mp3' }),
  },
  {
    name: 'seed002-audio-convert-opus',
    job: () => parseProcessString('audio/convert,f_opus,ab_96000,ar_48000,ac_2|sys/saveas,b_b3V0YnVja2V0, o_b3V0b2JqLnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0', { bucket: 'examplebucket', key: 'example.wav' }),
  },
  // Seed 003: video/concat to MP4 (the worked example and the SDK examples), and to HLS segments.
  {
    name: 'seed003-video-concat-mp4',
    job: () =>
      parseProcessString(
        'video/concat,ss_10000,f_mp4,vcodec_h264,fps_25,vb_1000000,acodec_aac,ab_96000,ar_48000,ac_2,align_1/pre,o_cHJlLm1vdgo/sur,o_c3VyMS5hYWMK,t_10000|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0',
        { bucket: 'examplebucket', key: 'example.mkv' },
      ),
  },
  {
    name: 'seed003-sdk-video-concat-mp4',
    job: () =>
      parseProcessString(
        `video/concat,ss_0,f_mp4,vcodec_h264,fps_25,vb_1000000,acodec_aac,ab_96000,ar_48000,ac_2,align_1/pre,o_${enc('concat1.mp4')}/sur,o_${enc('concat2.mp4')},t_0|sys/saveas,b_${enc('examplebucket')},o_${enc('dest.mp4')}/notify,topic_QXVkaW9Db252ZXJ0`,
        { bucket: 'examplebucket', key: 'src.mp4' },
      ),
  },
  {
    name: 'seed003-video-concat-hls',
    job: () =>
      parseProcessString(
        `video/concat,ss_0,f_ts,vcodec_h264,fps_25,vb_1000000,acodec_aac,ab_96000,ar_48000,ac_2,align_1/pre,o_${enc('concat1.mp4')}/sur,o_${enc('concat2.mp4')},t_0/segment,f_hls,t_1000|sys/saveas,o_${enc('hls/dest.{autoext}')}`,
        { bucket: 'examplebucket', key: 'example.mp4' },
      ),
  },
];

for (const c of cases) {
  test(`golden argv: ${c.name}`, () => {
    const job = c.job();
    const inputs = job.clips.map((clip, i) => ({ path: `/work/in-${i}`, info: infoFor(clip.source.key) }));
    const plan = planJob({ job, inputs, outputDir: '/work/out', outputName: 'output', maxOutputBytes: 8 * 2 ** 30 });
    const got = { clips: job.clips.map((k) => `${k.source.bucket}/${k.source.key}`), args: plan.args, mainOutput: plan.mainOutput, expectedDurationSec: plan.expectedDurationSec, decisions: plan.decisions };
    const file = join(GOLDEN_DIR, `${c.name}.json`);
    if (UPDATE || !existsSync(file)) {
      if (!UPDATE) assert.fail(`no golden file ${file}: run with MEDLEY_UPDATE_GOLDEN=1 to create it, then review it`);
      writeFileSync(file, `${JSON.stringify(got, null, 2)}\n`);
    }
    assert.deepEqual(got, JSON.parse(readFileSync(file, 'utf8')));
  });
}
