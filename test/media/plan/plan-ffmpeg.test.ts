/**
 * Real runs of planned argv on the bundled FFmpeg (2018 build) and checks with the bundled ffprobe (4.0.2):
 * audio concat joins (order, frequencies, no silence, exact length), a video concat with A/V in sync,
 * and one tiny run per container/codec family to prove every emitted option exists in the build.
 * Inputs are described and outputs verified the way the runner does it (src/media/process.ts): the engine's
 * probe (which corrects ffprobe's durations where they are estimates) and verifyOutput against plan.expect.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AudioTarget, Clip, Container, MediaJob, SegmentTarget, VideoTarget } from '../../../src/media/job.js';
import { probe } from '../../../src/media/engine/probe.js';
import { outputProbeOptions } from '../../../src/media/process.js';
import type { MediaInfo } from '../../../src/media/media-info.js';
import { planJob, type Plan } from '../../../src/media/plan/index.js';
import { verifyOutput } from '../../../src/media/verify.js';

const require = createRequire(import.meta.url);
const FFMPEG = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const FFPROBE = (require('ffprobe-static') as { path: string }).path;

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'medley-plan-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------- helpers ----------

function ffmpeg(args: string[], cwd?: string): void {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', ...args], { encoding: 'utf8', cwd, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `ffmpeg failed (${String(r.status)}): ${r.stderr}\nargs: ${args.join(' ')}`);
}

interface ProbeStream {
  index: number;
  codec_type: string;
  codec_name: string;
  sample_rate?: string;
  channels?: number;
  bit_rate?: string;
  bits_per_raw_sample?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  pix_fmt?: string;
  duration?: string;
  nb_read_frames?: string;
  disposition?: { attached_pic?: number };
  side_data_list?: Array<{ rotation?: number }>;
}
interface ProbeJson {
  format: { format_name: string; duration: string; bit_rate?: string };
  streams: ProbeStream[];
}

function ffprobe(file: string, extra: string[] = [], cwd?: string): ProbeJson {
  const r = spawnSync(FFPROBE, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...extra, file], { encoding: 'utf8', cwd, maxBuffer: 16 << 20 });
  assert.equal(r.status, 0, `ffprobe failed (${String(r.status)}) on ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ProbeJson;
}

const rate = (r: string | undefined): number => {
  const [n, d] = (r ?? '0/1').split('/').map(Number);
  return d ? (n ?? 0) / d : 0;
};

/** What the runner plans with: the engine's probe. */
function toInfo(file: string): Promise<MediaInfo> {
  return probe(FFPROBE, file);
}

/** Decoded mono s16le PCM of a file at `sr` Hz. */
function decode(file: string, sr: number, cwd?: string): Int16Array {
  const r = spawnSync(FFMPEG, ['-v', 'error', '-nostdin', '-i', file, '-map', '0:a:0', '-ac', '1', '-ar', String(sr), '-f', 's16le', '-'], { cwd, maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, String(r.stderr));
  const b = r.stdout;
  return new Int16Array(b.buffer, b.byteOffset, Math.floor(b.byteLength / 2));
}

/** Dominant frequency in [from, to) seconds by zero crossings. */
function frequency(pcm: Int16Array, sr: number, from: number, to: number): number {
  const a = Math.round(from * sr);
  const b = Math.round(to * sr);
  let crossings = 0;
  for (let i = a + 1; i < b; i++) if (((pcm[i - 1] ?? 0) < 0) !== ((pcm[i] ?? 0) < 0)) crossings++;
  return crossings / 2 / ((b - a) / sr);
}

function rms(pcm: Int16Array, a: number, b: number): number {
  let s = 0;
  for (let i = a; i < b; i++) s += (pcm[i] ?? 0) ** 2;
  return Math.sqrt(s / Math.max(1, b - a));
}

/** Smallest RMS over consecutive 10 ms windows in [from, to) seconds. */
function minWindowRms(pcm: Int16Array, sr: number, from: number, to: number): { min: number; at: number } {
  const w = Math.round(sr / 100);
  let min = Infinity;
  let at = 0;
  for (let i = Math.round(from * sr); i + w <= Math.round(to * sr); i += w) {
    const r = rms(pcm, i, i + w);
    if (r < min) [min, at] = [r, i / sr];
  }
  return { min, at };
}

/**
 * What the runner does before keeping an output: the engine's probe compared with plan.expect (verifyOutput);
 * then the same fields once more from ffprobe's own JSON, plus the exact r_frame_rate.
 */
async function checkExpect(p: Plan, file: string, cwd?: string): Promise<MediaInfo> {
  const info = await probe(FFPROBE, cwd ? join(cwd, file) : file, outputProbeOptions(p));
  assert.deepEqual(verifyOutput(info, p.expect), [], `${file}: ${JSON.stringify(info)}`);
  const j = ffprobe(file, [], cwd);
  const tokens = j.format.format_name.split(',');
  assert.ok(p.expect.formatNames.some((n) => tokens.includes(n)), `format ${j.format.format_name} vs ${p.expect.formatNames.join('|')}`);
  const a = j.streams.find((s) => s.codec_type === 'audio');
  const v = j.streams.find((s) => s.codec_type === 'video');
  if (p.expect.audio) {
    assert.ok(a, 'audio stream');
    assert.equal(a.codec_name, p.expect.audio.codec);
    assert.equal(Number(a.sample_rate), p.expect.audio.sampleRate);
    assert.equal(a.channels, p.expect.audio.channels);
  } else assert.equal(a, undefined);
  if (p.expect.video) {
    assert.ok(v, 'video stream');
    assert.equal(v.codec_name, p.expect.video.codec);
    assert.equal(v.width, p.expect.video.width);
    assert.equal(v.height, p.expect.video.height);
    assert.ok(Math.abs(rate(v.r_frame_rate) - p.expect.video.fps) < 0.01, `fps ${v.r_frame_rate}`);
    assert.equal(v.pix_fmt, p.expect.video.pixelFormat);
  } else assert.equal(v, undefined);
  return info;
}

function clip(over: Partial<Clip> = {}): Clip {
  return { source: { bucket: 'b', key: 'k' }, startMs: 0, durationMs: 0, disableAudio: false, disableVideo: false, ...over };
}
function job(action: MediaJob['action'], container: Container, n: number, audio: Partial<AudioTarget>, video: Partial<VideoTarget> = {}, segment?: SegmentTarget): MediaJob {
  return {
    origin: 'oss',
    action,
    clips: Array.from({ length: n }, () => clip()),
    alignIndex: 0,
    output: {
      container,
      dropSubtitles: true,
      audio: { disabled: false, bitrateOption: 'fixed', ...audio },
      video: { disabled: action.startsWith('audio/'), fpsOption: 'fixed', resolutionOption: 'fixed', scaleType: 'stretch', adaptiveOrientation: false, bitrateOption: 'fixed', ...video },
      ...(segment ? { segment } : {}),
    },
  };
}

async function runPlan(j: MediaJob, files: string[], outputDir: string, outputName: string): Promise<Plan> {
  mkdirSync(outputDir, { recursive: true });
  const infos = await Promise.all(files.map((f) => toInfo(f)));
  const p = planJob({ job: j, inputs: files.map((f, i) => ({ path: f, info: infos[i] as MediaInfo })), outputDir, outputName });
  ffmpeg(p.args);
  assert.ok(existsSync(join(outputDir, p.mainOutput)), `${p.mainOutput} written`);
  return p;
}

// ---------- audio concat ----------

describe('audio concat on the bundled ffmpeg', () => {
  const files: string[] = [];
  before(() => {
    // 440 Hz 1.0 s 22050 Hz mono WAV; 880 Hz 1.5 s 44100 Hz stereo MP3; 1320 Hz 2.0 s 48000 Hz 5.1 AAC-in-MP4
    const specs = [
      { f: 440, d: 1.0, r: 22050, ac: 1, name: 'c0.wav', codec: ['-c:a', 'pcm_s16le'] },
      { f: 880, d: 1.5, r: 44100, ac: 2, name: 'c1.mp3', codec: ['-c:a', 'libmp3lame', '-b:a', '128k'] },
      { f: 1320, d: 2.0, r: 48000, ac: 6, name: 'c2.m4a', codec: ['-c:a', 'aac', '-b:a', '256k'] },
    ];
    for (const s of specs) {
      const out = join(dir, s.name);
      ffmpeg(['-f', 'lavfi', '-i', `sine=frequency=${s.f}:duration=${s.d}:sample_rate=${s.r}`, '-ac', String(s.ac), ...s.codec, out]);
      files.push(out);
    }
  });

  const cases: Array<{ name: string; container: Container; audio: Partial<AudioTarget>; frame: number; priming: number; codec: string }> = [
    { name: 'mp3 44100 stereo', container: 'mp3', audio: { codec: 'mp3', sampleRate: 44100, channels: 2, bitrate: 128000 }, frame: 1152, priming: 0, codec: 'mp3' },
    // ADTS cannot signal the encoder priming: decoders play the 1024 priming samples too.
    { name: 'aac (ADTS) 44100 mono', container: 'aac', audio: { codec: 'aac', sampleRate: 44100, channels: 1, bitrate: 96000 }, frame: 1024, priming: 1024, codec: 'aac' },
  ];
  for (const c of cases) {
    it(`${c.name}: codec, rate, channels, 4.5 s, clips in order, no silence at the joins`, async () => {
      const out = join(dir, `a-${c.container}`);
      const p = await runPlan(job('audio/concat', c.container, 3, c.audio), files, out, 'concat');
      const info = await checkExpect(p, join(out, p.mainOutput));
      const j = ffprobe(join(out, p.mainOutput));
      const a = j.streams[0] as ProbeStream;
      assert.equal(a.codec_name, c.codec);
      assert.equal(Number(a.sample_rate), 44100);
      assert.equal(a.channels, c.audio.channels);

      const sr = 44100;
      const pcm = decode(join(out, p.mainOutput), sr);
      const decodedSec = pcm.length / sr;
      // Decoded length: 4.5 s within one codec frame (+ the priming ADTS cannot signal).
      assert.ok(decodedSec >= 4.5 - 1e-6 && decodedSec - 4.5 <= (c.frame + c.priming) / sr, `decoded ${decodedSec} s`);
      // The probed duration: MP3 counts the encoder delay + padding from the Xing frame count (within
      // frame + 1105 samples); ADTS is counted in packets by the engine's probe (ffprobe 4.0.2 itself estimates
      // 3.55 s from the bit rate), so it is the decoded length, priming included, to the sample.
      assert.ok(Math.abs(info.durationSec - 4.5) <= (c.frame + 1105 + c.priming) / sr, `probed ${info.durationSec}`);
      if (c.container === 'aac') assert.ok(Math.abs(info.durationSec - decodedSec) < 1 / sr, `probed ${info.durationSec}, decoded ${decodedSec}`);

      for (const [from, to, hz] of [
        [0.1, 0.9, 440],
        [1.1, 2.4, 880],
        [2.6, 4.4, 1320],
      ] as const) {
        const f = frequency(pcm, sr, from, to);
        assert.ok(Math.abs(f - hz) / hz < 0.02, `${from}-${to} s: ${f.toFixed(1)} Hz, want ${hz}`);
      }
      const { min, at } = minWindowRms(pcm, sr, 0.05, 4.45);
      assert.ok(min > 300, `10 ms window at ${at.toFixed(3)} s has RMS ${min.toFixed(1)} (silence at a join?)`);
    });
  }
  it('a far start in an mp4 (input pre-seek + graph cut) is still sample-exact', async () => {
    const src = join(dir, 'long.mp4');
    // 40 s: 440 Hz until 35 s, 880 Hz after.
    ffmpeg([
      '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=40',
      '-f', 'lavfi', '-i', 'aevalsrc=0.125*sin(2*PI*if(lt(t\\,35)\\,440\\,880)*t):s=44100:d=40',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-shortest', src,
    ]);
    const out = join(dir, 'a-seek');
    const j = job('audio/convert', 'flac', 1, { codec: 'flac', sampleRate: 44100, channels: 1 });
    j.clips = [clip({ startMs: 34500, durationMs: 1000 })];
    const p = await runPlan(j, [src], out, 'seek');
    assert.ok(p.args.includes('-ss'), 'pre-seek used');
    const pcm = decode(join(out, p.mainOutput), 44100);
    assert.equal(pcm.length, 44100);
    // the 440 -> 880 Hz change sits at 0.5 s (to within one 20 ms analysis window)
    let change = -1;
    for (let t = 0.02; t < 0.98; t += 0.02) {
      if (frequency(pcm, 44100, t, t + 0.02) > 660) {
        change = t;
        break;
      }
    }
    assert.ok(Math.abs(change - 0.5) <= 0.03, `tone change at ${change} s`);
  });

  it('ss/t trims are sample-exact: flac output of 0.5 + 1.0 + 1.25 s is exactly 121275 samples at 44.1 kHz', async () => {
    const out = join(dir, 'a-trim');
    const j = job('audio/concat', 'flac', 3, { codec: 'flac', sampleRate: 44100, channels: 2 });
    j.clips = [clip({ startMs: 100, durationMs: 500 }), clip({ startMs: 250, durationMs: 1000 }), clip({ startMs: 500, durationMs: 1250 })];
    const p = await runPlan(j, files, out, 'trim');
    await checkExpect(p, join(out, p.mainOutput));
    const pcm = decode(join(out, p.mainOutput), 44100);
    assert.equal(pcm.length, 121275);
    assert.equal(p.expectedDurationSec, 2.75);
    for (const [from, to, hz] of [
      [0.05, 0.45, 440],
      [0.55, 1.45, 880],
      [1.55, 2.7, 1320],
    ] as const) {
      const f = frequency(pcm, 44100, from, to);
      assert.ok(Math.abs(f - hz) / hz < 0.02, `${from}-${to} s: ${f.toFixed(1)} Hz, want ${hz}`);
    }
    assert.ok(minWindowRms(pcm, 44100, 0.01, 2.74).min > 300);
  });
});

// ---------- video concat ----------

describe('video concat on the bundled ffmpeg', () => {
  it('640x360@25 + 320x240@30 (no audio) + 1280x720@24 -> mp4 1280x720 25 fps, A/V in sync', async () => {
    const srcs = [
      { name: 'v0.mp4', v: 'testsrc=size=640x360:rate=25:duration=2', a: 'sine=frequency=440:duration=2:sample_rate=44100', ac: 2 },
      { name: 'v1.mp4', v: 'testsrc2=size=320x240:rate=30:duration=2' },
      { name: 'v2.mkv', v: 'smptebars=size=1280x720:rate=24:duration=2', a: 'sine=frequency=880:duration=2:sample_rate=48000', ac: 1 },
    ];
    const files = srcs.map((s) => {
      const out = join(dir, s.name);
      const audio = s.a ? ['-f', 'lavfi', '-i', s.a, '-ac', String(s.ac), '-c:a', 'aac', '-shortest'] : [];
      ffmpeg(['-f', 'lavfi', '-i', s.v, ...audio, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out]);
      return out;
    });
    const out = join(dir, 'v-mp4');
    const p = await runPlan(
      job('video/concat', 'mp4', 3, { codec: 'aac', sampleRate: 48000, channels: 2, bitrate: 96000 }, { codec: 'h264', fps: 25, resolution: { width: 1280, height: 720 }, scaleType: 'fill' }),
      files,
      out,
      'concat',
    );
    await checkExpect(p, join(out, p.mainOutput));
    const j = ffprobe(join(out, p.mainOutput), ['-count_frames']);
    const v = j.streams.find((s) => s.codec_type === 'video') as ProbeStream;
    const a = j.streams.find((s) => s.codec_type === 'audio') as ProbeStream;
    // Clip lengths are the probed source durations in whole frames: the mp4 clips end at 2 s (their movie
    // header says 2.024 s: the 2018 muxer counts the AAC priming its edit list drops; the engine's probe takes
    // where the tracks end), the mkv clip probes 2.021 s (its AAC priming is not signalled and runs ahead of the
    // video), so it gets 51 frames; audio is exactly as long as the video.
    const frames = Math.round(p.expectedDurationSec * 25);
    assert.equal(frames, 151, `planned ${frames} frames`);
    assert.equal(Number(v.nb_read_frames), frames);
    assert.equal(v.r_frame_rate, '25/1');
    const vd = Number(v.duration);
    const ad = Number(a.duration);
    assert.ok(Math.abs(vd - frames / 25) <= 1 / 25 && Math.abs(ad - vd) <= 1 / 25, `video ${vd} s, audio ${ad} s`);
    // The audio follows the clips: 440 Hz, silence (clip without audio), 880 Hz — 2 s, 2 s, 2.04 s. The mkv's
    // unsignalled AAC priming (1024 samples, 21 ms) is the start of the third clip's audio: 4.00-4.02 s.
    const pcm = decode(join(out, p.mainOutput), 48000);
    assert.ok(Math.abs(frequency(pcm, 48000, 0.1, 1.9) - 440) < 9);
    assert.ok(rms(pcm, Math.round(2.05 * 48000), Math.round(3.95 * 48000)) < 30, 'clip 1 is silent');
    assert.ok(Math.abs(frequency(pcm, 48000, 4.1, 5.9) - 880) < 18);
    assert.ok(minWindowRms(pcm, 48000, 0.1, 1.95).min > 300 && minWindowRms(pcm, 48000, 4.05, 5.9).min > 300);
  });
});

// ---------- every family of plan runs ----------

describe('plans run on the bundled ffmpeg (one tiny run per container/codec family)', () => {
  let av = '';
  let mono = '';
  before(() => {
    av = join(dir, 'tiny.mp4');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=1', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1:sample_rate=44100', '-ac', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', av]);
    mono = join(dir, 'tiny.wav');
    ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1:sample_rate=44100', '-c:a', 'pcm_s16le', mono]);
  });

  it('a rotated (portrait) align clip with arotate: autorotated, box long x short swapped', async () => {
    const plain = join(dir, 'landscape.mp4');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25:duration=1', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', plain]);
    const rotated = join(dir, 'portrait.mp4');
    ffmpeg(['-i', plain, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
    const infos = await Promise.all([rotated, av].map((f) => toInfo(f)));
    // A quarter turn (the 2018 muxer stores `rotate=90` as a matrix both 2018 readers take for 270 clockwise;
    // the direction itself is checked against ffmpeg's autorotation in test/media/engine/probe.test.ts).
    assert.ok([90, 270].includes(infos[0]?.video?.rotation ?? -1), String(infos[0]?.video?.rotation));
    const out = join(dir, 'rot');
    mkdirSync(out, { recursive: true });
    const p = planJob({
      job: job('video/concat', 'mp4', 2, { codec: 'aac' }, { codec: 'h264', resolution: { width: 320, height: 180 }, adaptiveOrientation: true, scaleType: 'fill' }),
      inputs: [rotated, av].map((f, i) => ({ path: f, info: infos[i] as MediaInfo })),
      outputDir: out,
      outputName: 'rot',
    });
    ffmpeg(p.args);
    assert.deepEqual([p.expect.video?.width, p.expect.video?.height], [180, 320]);
    await checkExpect(p, join(out, p.mainOutput));
  });

  const vid = (codec: VideoTarget['codec'], extra: Partial<VideoTarget> = {}): Partial<VideoTarget> => ({ codec, fps: 25, resolution: { width: 160, height: 120 }, ...extra });
  const cases: Array<{ name: string; action: MediaJob['action']; container: Container; audio: Partial<AudioTarget>; video?: Partial<VideoTarget>; segment?: SegmentTarget }> = [
    { name: 'mp3', action: 'audio/convert', container: 'mp3', audio: { codec: 'mp3', quality: 60 } },
    { name: 'aac adts', action: 'audio/convert', container: 'aac', audio: { codec: 'aac', quality: 50 } },
    { name: 'flac 24 bit', action: 'audio/convert', container: 'flac', audio: { codec: 'flac', bitsPerSample: 24, channels: 6 } },
    { name: 'oga vorbis', action: 'audio/convert', container: 'oga', audio: { codec: 'vorbis', quality: 40, channels: 3 } },
    { name: 'ac3', action: 'audio/convert', container: 'ac3', audio: { codec: 'ac3', bitrate: 100000, channels: 5 } },
    { name: 'opus 16 kHz', action: 'audio/convert', container: 'opus', audio: { codec: 'opus', sampleRate: 16000, channels: 1, bitrate: 24000 } },
    { name: 'amr-nb', action: 'audio/convert', container: 'amr', audio: { codec: 'amr', sampleRate: 8000, channels: 1, bitrate: 7000 } },
    { name: 'amr-wb', action: 'audio/convert', container: 'amr', audio: { codec: 'amr', sampleRate: 16000 } },
    { name: 'mp4 h264 + aac', action: 'video/convert', container: 'mp4', audio: { codec: 'aac' }, video: vid('h264', { crf: 28, maxBitrate: 500000, bufferSize: 1000000 }) },
    { name: 'mp4 h265 + opus', action: 'video/convert', container: 'mp4', audio: { codec: 'opus', sampleRate: 48000 }, video: vid('h265', { maxBitrate: 500000, bufferSize: 1000000 }) },
    { name: 'mp4 vp9 + flac', action: 'video/convert', container: 'mp4', audio: { codec: 'flac' }, video: vid('vp9') },
    { name: 'mp4 h264 + amr (3gp muxer)', action: 'video/convert', container: 'mp4', audio: { codec: 'amr', sampleRate: 8000, channels: 1 }, video: vid('h264') },
    { name: 'mkv h265 + vorbis', action: 'video/convert', container: 'mkv', audio: { codec: 'vorbis' }, video: vid('h265', { pixelFormat: 'yuv420p10le' }) },
    { name: 'mov h264 + pcm', action: 'video/convert', container: 'mov', audio: { codec: 'pcm' }, video: vid('h264', { pixelFormat: 'yuv422p' }) },
    { name: 'asf h264 + mp3', action: 'video/convert', container: 'asf', audio: { codec: 'mp3' }, video: vid('h264') },
    { name: 'avi h265 + ac3', action: 'video/convert', container: 'avi', audio: { codec: 'ac3' }, video: vid('h265') },
    { name: 'mxf h264 + pcm', action: 'video/convert', container: 'mxf', audio: { codec: 'pcm', sampleRate: 48000 }, video: vid('h264') },
    { name: 'flv h264 + mp3', action: 'video/convert', container: 'flv', audio: { codec: 'mp3' }, video: vid('h264') },
    { name: 'webm vp9 + opus', action: 'video/convert', container: 'webm', audio: { codec: 'opus', sampleRate: 48000 }, video: vid('vp9', { pixelFormat: 'yuva420p' }) },
    { name: 'ts h264 + aac', action: 'video/convert', container: 'ts', audio: { codec: 'aac' }, video: vid('h264') },
    { name: 'hls ts', action: 'video/convert', container: 'ts', audio: { codec: 'aac' }, video: vid('h264'), segment: { format: 'hls', durationMs: 400 } },
    { name: 'hls fmp4', action: 'video/convert', container: 'mp4', audio: { codec: 'aac' }, video: vid('h264'), segment: { format: 'hls', durationMs: 400 } },
    { name: 'dash', action: 'video/convert', container: 'mp4', audio: { codec: 'aac' }, video: vid('h265'), segment: { format: 'dash', durationMs: 400 } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const out = join(dir, `m-${c.name.replace(/\W+/g, '_')}`);
      const p = await runPlan(job(c.action, c.container, 1, c.audio, c.video ?? {}, c.segment), [c.action.startsWith('audio/') && c.name !== 'mp3' ? mono : av], out, 'o');
      if (p.extraOutputPattern) {
        const extra = readdirSync(out).filter((f) => f !== p.mainOutput);
        assert.ok(extra.length >= 2, `segments: ${extra.join(', ')}`);
        for (const f of extra) assert.match(f, p.extraOutputPattern);
      }
      await checkExpect(p, p.mainOutput, out);
    });
  }
});
