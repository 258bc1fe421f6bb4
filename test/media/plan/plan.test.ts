/**
 * Planner argv tests: table-driven, asserting the tokens that matter (not full-string equality).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isMedleyError } from '../../../src/errors.js';
import type { AudioTarget, Clip, Container, MediaJob, SegmentTarget, VideoTarget } from '../../../src/media/job.js';
import type { AudioStreamInfo, MediaInfo, VideoStreamInfo } from '../../../src/media/media-info.js';
import { assertSafeArgv } from '../../../src/media/engine/run.js';
import { SINGLE_FILE_DEMUXERS, inputArgs } from '../../../src/media/plan/input-args.js';
import { planJob, type Plan } from '../../../src/media/plan/index.js';

// ---------- builders ----------

function clip(over: Partial<Clip> = {}): Clip {
  return { source: { bucket: 'b', key: 'k' }, startMs: 0, durationMs: 0, disableAudio: false, disableVideo: false, ...over };
}

interface JobOpts {
  clips?: Clip[];
  n?: number;
  align?: number;
  audio?: Partial<AudioTarget>;
  video?: Partial<VideoTarget>;
  segment?: SegmentTarget;
}

function job(action: MediaJob['action'], container: Container, o: JobOpts = {}): MediaJob {
  const clips = o.clips ?? Array.from({ length: o.n ?? 1 }, () => clip());
  const audioJob = action.startsWith('audio/');
  return {
    origin: 'oss',
    action,
    clips,
    alignIndex: o.align ?? 0,
    output: {
      container,
      dropSubtitles: true,
      audio: { disabled: false, bitrateOption: 'fixed', ...o.audio },
      video: {
        disabled: audioJob,
        fpsOption: 'fixed',
        resolutionOption: 'fixed',
        scaleType: 'stretch',
        adaptiveOrientation: false,
        bitrateOption: 'fixed',
        ...(audioJob ? {} : { codec: 'h264' as const }),
        ...o.video,
      },
      ...(o.segment ? { segment: o.segment } : {}),
    },
  };
}

const A = (sampleRate: number, channels: number, extra: Partial<AudioStreamInfo> = {}): AudioStreamInfo => ({ index: 1, codec: 'aac', sampleRate, channels, ...extra });
const V = (width: number, height: number, fps: number, extra: Partial<VideoStreamInfo> = {}): VideoStreamInfo => ({
  index: 0,
  codec: 'h264',
  width,
  height,
  fps,
  pixelFormat: 'yuv420p',
  sar: [1, 1],
  rotation: 0,
  ...extra,
});
function info(durationSec: number, s: { audio?: AudioStreamInfo; video?: VideoStreamInfo; formatName?: string } = {}): MediaInfo {
  return { durationSec, formatName: s.formatName ?? 'mov,mp4,m4a,3gp,3g2,mj2', ...(s.audio ? { audio: s.audio } : {}), ...(s.video ? { video: s.video } : {}) };
}
/** Audio-only source (stream index 0). */
const audioSrc = (dur: number, rate: number, ch: number, formatName = 'wav', extra: Partial<AudioStreamInfo> = {}): MediaInfo =>
  info(dur, { audio: A(rate, ch, { index: 0, ...extra }), formatName });

function plan(j: MediaJob, infos: MediaInfo[]): Plan {
  return planJob({ job: j, inputs: infos.map((inf, i) => ({ path: `/work/in/${i}.src`, info: inf })), outputDir: '/work/out', outputName: 'out' });
}

const graph = (p: Plan): string => p.args[p.args.indexOf('-filter_complex') + 1] ?? '';
const chains = (p: Plan): string[] => graph(p).split(';');
const chainFor = (p: Plan, label: string): string => chains(p).find((c) => c.endsWith(`[${label}]`)) ?? '';
const after = (p: Plan, flag: string): string | undefined => {
  const i = p.args.indexOf(flag);
  return i < 0 ? undefined : p.args[i + 1];
};
function hasSeq(args: readonly string[], seq: readonly string[]): boolean {
  for (let i = 0; i + seq.length <= args.length; i++) if (seq.every((s, k) => args[i + k] === s)) return true;
  return false;
}
function throwsCode(fn: () => unknown, immCode: string, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isMedleyError(e), `expected MedleyError, got ${String(e)}`);
    assert.equal(e.entry.immCode, immCode, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

/** Invariants every plan must satisfy. */
function common(p: Plan, nInputs: number): void {
  assertSafeArgv(p.args);
  const iIdx = p.args.flatMap((a, i) => (a === '-i' ? [i] : []));
  assert.equal(iIdx.length, nInputs);
  iIdx.forEach((i, k) => {
    const seek = p.args[i - 2] === '-ss' ? 2 : 0;
    // Exactly one demuxer's per-input options (forced -f, whitelists, bounds) right before -ss/-i.
    const opened = SINGLE_FILE_DEMUXERS.filter((d) => {
      const want = inputArgs(d);
      return JSON.stringify(p.args.slice(i - seek - want.length, i - seek)) === JSON.stringify(want);
    });
    assert.equal(opened.length, 1, `safe args before input ${k}: ${p.args.slice(Math.max(0, i - seek - 16), i).join(' ')}`);
    assert.equal(p.args[i + 1], `/work/in/${k}.src`);
  });
  for (const a of p.args) {
    assert.ok(!/^concat:/.test(a) && a !== '-safe' && !/^\w+:\/\//.test(a), `unsafe arg ${a}`);
  }
  assert.equal(p.args[p.args.length - 1], `/work/out/${p.mainOutput}`);
  assert.ok(p.args.includes('-filter_complex'));
  assert.ok(!p.args.includes('-c:a') || after(p, '-c:a') !== 'copy');
  assert.ok(!p.args.includes('-c:v') || after(p, '-c:v') !== 'copy');
  assert.ok(Math.abs(p.expect.durationSec - p.expectedDurationSec) < 1e-9);
  assert.ok(p.expect.toleranceSec > 0);
  for (const f of ['tpad']) assert.ok(!p.needs.filters.includes(f), `${f} is not in the 2018 build`);
}

// ---------- audio ----------

describe('audio/concat', () => {
  // 5 clips of mixed rates/channels; align = clip 2.
  const infos = [
    audioSrc(1.0, 8000, 1, 'wav'),
    audioSrc(2.0, 22050, 2, 'mp3', { codec: 'mp3' }),
    info(3.0, { audio: A(44100, 2), video: V(640, 360, 25) }),
    audioSrc(4.0, 48000, 6, 'flac', { codec: 'flac' }),
    audioSrc(1.25, 16000, 1, 'ogg', { codec: 'vorbis' }),
  ];
  const clips = [clip(), clip(), clip(), clip({ startMs: 500, durationMs: 1000 }), clip()];

  it('aac 44100 mono with align: every clip resampled + re-laid-out, trimmed, then concat', () => {
    const p = plan(job('audio/concat', 'aac', { clips, align: 2, audio: { codec: 'aac', sampleRate: 44100, channels: 1, bitrate: 96000 } }), infos);
    common(p, 5);
    const cs = chains(p);
    assert.equal(cs.length, 6);
    for (let i = 0; i < 5; i++) {
      const c = chainFor(p, `a${i}`);
      assert.ok(c.startsWith(`[${i}:${i === 2 ? 1 : 0}]atrim=start=`), c);
      assert.match(c, /asetpts=PTS-STARTPTS,aresample=44100,aformat=sample_fmts=fltp:sample_rates=44100:channel_layouts=mono/);
    }
    // exact lengths for clips with reliable durations, open end for the raw mp3 clip
    assert.match(chainFor(p, 'a0'), /atrim=start=0:duration=1,.*apad=whole_len=44100,atrim=end_sample=44100\[a0\]$/);
    assert.doesNotMatch(chainFor(p, 'a1'), /apad|duration=|end_sample/);
    assert.match(chainFor(p, 'a3'), /^\[3:0\]atrim=start=0\.5:duration=1,.*apad=whole_len=44100,atrim=end_sample=44100/);
    assert.match(chainFor(p, 'a4'), /whole_len=55125,atrim=end_sample=55125/);
    assert.ok(cs[5]?.startsWith('[a0][a1][a2][a3][a4]concat=n=5:v=0:a=1[aout]'));
    assert.ok(hasSeq(p.args, ['-map', '[aout]']));
    assert.ok(hasSeq(p.args, ['-c:a', 'aac', '-b:a', '96000']));
    assert.ok(hasSeq(p.args, ['-ar', '44100', '-ac', '1']));
    assert.ok(hasSeq(p.args, ['-f', 'adts']));
    assert.ok(!p.args.includes('-map') || !p.args.includes('[vout]'));
    assert.equal(p.mainOutput, 'out.aac');
    assert.equal(p.extension, 'aac');
    assert.equal(p.expectedDurationSec, 1 + 2 + 3 + 1 + 1.25);
    assert.deepEqual(p.expect.formatNames, ['aac']);
    assert.deepEqual(p.expect.audio, { codec: 'aac', sampleRate: 44100, channels: 1, bitrate: 96000 });
    assert.deepEqual(p.needs, { encoders: ['aac'], muxers: ['adts'], filters: ['atrim', 'asetpts', 'aresample', 'aformat', 'apad', 'concat'] });
    assert.ok(p.decisions.includes('clip #3 audio: resampled 48000 -> 44100 Hz, 6 -> 1 channels; 44100 samples (1 s)'));
    // tolerance: frame + priming + 5 ms + open-ended mp3 clip (0.1 s + 5 %); no bit-rate estimate slack for the
    // ADTS output: the engine's probe counts its packets
    const tol = (1024 + 1024) / 44100 + 0.005 + 0.1 + 0.05 * 2;
    assert.ok(Math.abs(p.expect.toleranceSec - tol) < 1e-5, `${p.expect.toleranceSec} vs ${tol}`);
  });

  it('ar/ac default to the align clip and are recorded', () => {
    const p = plan(job('audio/concat', 'aac', { clips, align: 3, audio: { codec: 'aac' } }), infos);
    assert.ok(hasSeq(p.args, ['-ar', '48000', '-ac', '6']));
    assert.match(chainFor(p, 'a0'), /channel_layouts=5\.1/);
    assert.ok(p.decisions.includes('sample rate 48000 Hz from align clip #3'));
    assert.ok(p.decisions.includes('channels 6 from align clip #3'));
  });

  it('channel layouts for 1..8 channels', () => {
    const want = ['mono', 'stereo', '3.0', 'quad', '5.0', '5.1', '6.1', '7.1'];
    want.forEach((layout, k) => {
      const p = plan(job('audio/convert', 'flac', { audio: { codec: 'flac', channels: k + 1 } }), [audioSrc(1, 48000, 2)]);
      assert.match(graph(p), new RegExp(`channel_layouts=${layout.replace('.', '\\.')}[,\\[]`));
    });
  });

  it('a video-only source contributes silence of its own length', () => {
    const p = plan(job('audio/concat', 'mp3', { n: 2, audio: { codec: 'mp3', sampleRate: 44100, channels: 2 } }), [audioSrc(1, 44100, 2), info(2.5, { video: V(320, 240, 25) })]);
    assert.equal(chainFor(p, 'a1'), 'anullsrc=r=44100:cl=stereo,aformat=sample_fmts=fltp:sample_rates=44100:channel_layouts=stereo,atrim=end_sample=110250[a1]');
    assert.equal(p.expectedDurationSec, 3.5);
  });

  it('a disabled clip audio contributes silence', () => {
    const p = plan(job('audio/concat', 'mp3', { clips: [clip(), clip({ disableAudio: true })], audio: { codec: 'mp3' } }), [audioSrc(1, 44100, 2), audioSrc(2, 44100, 2)]);
    assert.match(chainFor(p, 'a1'), /^anullsrc=r=44100:cl=stereo,.*atrim=end_sample=88200\[a1\]$/);
  });

  it('far starts in indexed containers get an input-side pre-seek; the exact cut stays in the graph', () => {
    const p = plan(
      job('audio/concat', 'mp3', { clips: [clip({ startMs: 95250, durationMs: 2000 }), clip({ startMs: 95250, durationMs: 2000 }), clip({ startMs: 20000 })], audio: { codec: 'mp3' } }),
      [info(120, { audio: A(44100, 2), video: V(640, 360, 25) }), audioSrc(120, 44100, 2, 'mp3'), info(60, { audio: A(44100, 2) })],
    );
    common(p, 3);
    const inputs = p.args.flatMap((a, i) => (a === '-i' ? [p.args.slice(i - 2, i)] : []));
    assert.deepEqual(inputs[0], ['-ss', '85.25']);
    assert.notEqual(inputs[1]?.[0], '-ss', 'raw mp3: no input seek (its timestamps after a seek are estimates)');
    assert.notEqual(inputs[2]?.[0], '-ss', 'near start: no input seek');
    assert.match(chainFor(p, 'a0'), /^\[0:1\]atrim=start=10:duration=2,/);
    assert.match(chainFor(p, 'a1'), /^\[1:0\]atrim=start=95\.25:duration=2,/);
    assert.match(chainFor(p, 'a2'), /^\[2:1\]atrim=start=20:duration=40,/);
    assert.ok(p.decisions.some((d) => /clip #0: fast input seek to 85\.25 s/.test(d)));
  });

  it('clip windows: t clamped to the source, ss beyond the end fails', () => {
    const p = plan(job('audio/concat', 'mp3', { clips: [clip({ startMs: 1500, durationMs: 5000 })], audio: { codec: 'mp3', sampleRate: 44100 } }), [audioSrc(2, 44100, 2)]);
    assert.match(chainFor(p, 'aout'), /atrim=start=1\.5:duration=0\.5,.*whole_len=22050,atrim=end_sample=22050\[aout\]$/);
    assert.ok(p.decisions.some((d) => /clamped/.test(d)));
    throwsCode(() => plan(job('audio/convert', 'mp3', { clips: [clip({ startMs: 3000 })], audio: { codec: 'mp3' } }), [audioSrc(2, 44100, 2)]), 'InvalidArgument', /beyond the end/);
  });
});

describe('audio/convert encoders', () => {
  const src = [audioSrc(10, 44100, 2, 'mp3', { codec: 'mp3', bitrate: 64000 })];
  const mp3 = (a: Partial<AudioTarget>): Plan => plan(job('audio/convert', 'mp3', { audio: { codec: 'mp3', ...a } }), src);

  const table: Array<{ name: string; a: Partial<AudioTarget>; want: string[]; decision?: RegExp }> = [
    { name: 'ab fixed', a: { bitrate: 128000 }, want: ['-c:a', 'libmp3lame', '-b:a', '128000'] },
    { name: 'abopt 1 adaptive: source bitrate is lower', a: { bitrate: 128000, bitrateOption: 'adaptive' }, want: ['-b:a', '64000'], decision: /audio bit rate 64000 bit\/s from align clip #0/ },
    { name: 'abopt 1 adaptive: source is higher', a: { bitrate: 48000, bitrateOption: 'adaptive' }, want: ['-b:a', '48000'] },
    { name: 'abopt 2 fall: source not below', a: { bitrate: 64000, bitrateOption: 'fall' }, want: ['-b:a', '64000'] },
    { name: 'aq 100 -> -q:a 0', a: { quality: 100 }, want: ['-q:a', '0'] },
    { name: 'aq 0 -> -q:a 9', a: { quality: 0 }, want: ['-q:a', '9'] },
  ];
  for (const t of table) {
    it(`mp3 ${t.name}`, () => {
      const p = mp3(t.a);
      common(p, 1);
      assert.ok(hasSeq(p.args, t.want), p.args.join(' '));
      assert.ok(hasSeq(p.args, ['-f', 'mp3']));
      if (t.decision) assert.ok(p.decisions.some((d) => t.decision?.test(d)), p.decisions.join('\n'));
    });
  }

  it('mp3 abopt 2 (fall) throws MediaSourceBelowTarget naming the source', () => {
    throwsCode(() => mp3({ bitrate: 128000, bitrateOption: 'fall' }), 'InvalidArgument.SourceBelowTarget', /source #0 audio bit rate 64000 bit\/s is below the requested 128000/);
  });

  it('mp3 inherited 96 kHz / 6 ch fail naming ar / ac and the legal values; explicit legal values work; explicit illegal values fail', () => {
    throwsCode(
      () => plan(job('audio/convert', 'mp3', { audio: { codec: 'mp3' } }), [audioSrc(1, 96000, 6)]),
      'InvalidArgument',
      /align clip #0, which has 96000 Hz, and mp3 in mp3 cannot carry that: set ar \(SampleRate\) to one of 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000$/,
    );
    throwsCode(
      () => plan(job('audio/convert', 'mp3', { audio: { codec: 'mp3', sampleRate: 48000 } }), [audioSrc(1, 96000, 6)]),
      'InvalidArgument',
      /align clip #0, which has 6 channels, and mp3 takes 1-2: set ac \(Channel\) to 1-2$/,
    );
    const p = plan(job('audio/convert', 'mp3', { audio: { codec: 'mp3', sampleRate: 48000, channels: 2 } }), [audioSrc(1, 96000, 6)]);
    assert.ok(hasSeq(p.args, ['-ar', '48000', '-ac', '2']));
    assert.match(graph(p), /aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo/);
    throwsCode(() => plan(job('audio/convert', 'mp3', { audio: { codec: 'mp3', channels: 6 } }), [audioSrc(1, 44100, 2)]), 'InvalidArgument', /1-2 channels/);
    throwsCode(() => plan(job('audio/convert', 'mp3', { audio: { codec: 'mp3', sampleRate: 96000 } }), [audioSrc(1, 44100, 2)]), 'InvalidArgument', /96000 Hz/);
  });

  it('flac adepth 24 -> s32 + bits_per_raw_sample 24; 16 -> s16', () => {
    const p24 = plan(job('audio/convert', 'flac', { audio: { codec: 'flac', bitsPerSample: 24 } }), [audioSrc(1, 48000, 2)]);
    common(p24, 1);
    assert.ok(hasSeq(p24.args, ['-c:a', 'flac', '-sample_fmt', 's32', '-bits_per_raw_sample', '24']));
    assert.match(graph(p24), /aformat=sample_fmts=s32:/);
    assert.ok(hasSeq(p24.args, ['-f', 'flac']));
    const p16 = plan(job('audio/convert', 'flac', { audio: { codec: 'flac', bitsPerSample: 16 } }), [audioSrc(1, 48000, 2)]);
    assert.ok(hasSeq(p16.args, ['-sample_fmt', 's16']));
    assert.match(graph(p16), /sample_fmts=s16:/);
    const pInherit = plan(job('audio/convert', 'flac', { audio: { codec: 'flac' } }), [audioSrc(1, 48000, 2, 'flac', { bitsPerSample: 24 })]);
    assert.ok(hasSeq(pInherit.args, ['-bits_per_raw_sample', '24']));
  });

  it('opus: requested rate respected, probes as 48000; inherited 48000 kept; inherited 44100 fails naming ar; explicit 44100 fails', () => {
    const p = plan(job('audio/convert', 'opus', { audio: { codec: 'opus', sampleRate: 16000, channels: 1, bitrate: 32000 } }), [audioSrc(1, 44100, 2)]);
    common(p, 1);
    assert.ok(hasSeq(p.args, ['-c:a', 'libopus', '-b:a', '32000', '-ar', '16000', '-ac', '1']));
    assert.match(graph(p), /aresample=16000,aformat=sample_fmts=flt:sample_rates=16000:channel_layouts=mono/);
    assert.ok(hasSeq(p.args, ['-f', 'opus']));
    assert.equal(p.expect.audio?.sampleRate, 48000);
    assert.deepEqual(p.expect.formatNames, ['ogg']);
    // ffprobe reports every Opus source at 48000 Hz: inheriting from one is legal.
    const inh = plan(job('audio/convert', 'opus', { audio: { codec: 'opus' } }), [audioSrc(1, 48000, 2, 'ogg', { codec: 'opus' })]);
    assert.ok(hasSeq(inh.args, ['-ar', '48000', '-ac', '2']));
    assert.ok(inh.decisions.includes('sample rate 48000 Hz from align clip #0'));
    throwsCode(
      () => plan(job('audio/convert', 'opus', { audio: { codec: 'opus' } }), [audioSrc(1, 44100, 2)]),
      'InvalidArgument',
      /align clip #0, which has 44100 Hz, and opus in opus cannot carry that: set ar \(SampleRate\) to one of 8000, 12000, 16000, 24000, 48000$/,
    );
    throwsCode(() => plan(job('audio/convert', 'opus', { audio: { codec: 'opus', sampleRate: 44100 } }), [audioSrc(1, 44100, 2)]), 'InvalidArgument', /opus cannot be encoded at 44100/);
  });

  it('amr: AMR-NB 8000 Hz mono at the nearest legal mode; 16000 Hz -> AMR-WB; inherited 44100 Hz / stereo fail naming ar / ac', () => {
    const nb = plan(job('audio/convert', 'amr', { audio: { codec: 'amr', bitrate: 7000, sampleRate: 8000, channels: 1 } }), [audioSrc(1, 44100, 2)]);
    common(nb, 1);
    assert.ok(hasSeq(nb.args, ['-c:a', 'libopencore_amrnb', '-b:a', '6700', '-ar', '8000', '-ac', '1']));
    assert.ok(hasSeq(nb.args, ['-f', 'amr']));
    assert.equal(nb.expect.audio?.codec, 'amr_nb');
    assert.ok(nb.decisions.some((d) => /nearest mode 6700/.test(d)));
    const def = plan(job('audio/convert', 'amr', { audio: { codec: 'amr' } }), [audioSrc(1, 8000, 1)]);
    assert.ok(hasSeq(def.args, ['-b:a', '12200']));
    const wb = plan(job('audio/convert', 'amr', { audio: { codec: 'amr', sampleRate: 16000, channels: 1, bitrate: 24000 } }), [audioSrc(1, 44100, 2)]);
    assert.ok(hasSeq(wb.args, ['-c:a', 'libvo_amrwbenc', '-b:a', '23850', '-ar', '16000', '-ac', '1']));
    assert.equal(wb.expect.audio?.codec, 'amr_wb');
    // an inherited 16000 Hz mono source is legal and gives AMR-WB
    const wbInh = plan(job('audio/convert', 'amr', { audio: { codec: 'amr' } }), [audioSrc(1, 16000, 1)]);
    assert.ok(hasSeq(wbInh.args, ['-c:a', 'libvo_amrwbenc']) && hasSeq(wbInh.args, ['-ar', '16000', '-ac', '1']));
    throwsCode(
      () => plan(job('audio/convert', 'amr', { audio: { codec: 'amr', channels: 1 } }), [audioSrc(1, 44100, 2)]),
      'InvalidArgument',
      /align clip #0, which has 44100 Hz, and amr in amr cannot carry that: set ar \(SampleRate\) to one of 8000, 16000$/,
    );
    throwsCode(
      () => plan(job('audio/convert', 'amr', { audio: { codec: 'amr', sampleRate: 8000 } }), [audioSrc(1, 44100, 2)]),
      'InvalidArgument',
      /align clip #0, which has 2 channels, and amr takes 1: set ac \(Channel\) to 1$/,
    );
  });

  it('aac aq maps to a bit rate; vorbis aq -> -q:a; ac3 snaps to an AC-3 rate; pcm 24 bit; inherited rates ac3 / mxf cannot carry fail', () => {
    const aacQ = plan(job('audio/convert', 'aac', { audio: { codec: 'aac', quality: 50, channels: 2 } }), [audioSrc(1, 44100, 2)]);
    assert.ok(hasSeq(aacQ.args, ['-c:a', 'aac', '-b:a', '160000']));
    assert.ok(aacQ.decisions.some((d) => /aq 50 for aac mapped to -b:a 160000/.test(d)));
    const vorbis = plan(job('audio/convert', 'oga', { audio: { codec: 'vorbis', quality: 70 } }), [audioSrc(1, 44100, 2)]);
    assert.ok(hasSeq(vorbis.args, ['-c:a', 'libvorbis', '-q:a', '7']));
    assert.ok(hasSeq(vorbis.args, ['-f', 'ogg']));
    assert.equal(vorbis.extension, 'oga');
    assert.equal(vorbis.mainOutput, 'out.oga');
    const ac3 = plan(job('audio/convert', 'ac3', { audio: { codec: 'ac3', bitrate: 100000, sampleRate: 32000 } }), [audioSrc(1, 22050, 2)]);
    assert.ok(hasSeq(ac3.args, ['-c:a', 'ac3', '-b:a', '96000', '-ar', '32000']));
    throwsCode(
      () => plan(job('audio/convert', 'ac3', { audio: { codec: 'ac3', bitrate: 100000 } }), [audioSrc(1, 22050, 2)]),
      'InvalidArgument',
      /align clip #0, which has 22050 Hz, and ac3 in ac3 cannot carry that: set ar \(SampleRate\) to one of 32000, 44100, 48000$/,
    );
    throwsCode(
      () => plan(job('audio/convert', 'ac3', { audio: { codec: 'ac3' } }), [audioSrc(1, 48000, 8)]),
      'InvalidArgument',
      /align clip #0, which has 8 channels, and ac3 takes 1-6: set ac \(Channel\) to 1-6$/,
    );
    throwsCode(() => plan(job('audio/convert', 'ac3', { audio: { codec: 'ac3', channels: 8 } }), [audioSrc(1, 48000, 2)]), 'InvalidArgument', /1-6 channels/);
    const pcm = plan(job('video/convert', 'mxf', { audio: { codec: 'pcm', bitsPerSample: 24, sampleRate: 48000 } }), [info(1, { audio: A(44100, 2), video: V(320, 240, 25) })]);
    assert.ok(hasSeq(pcm.args, ['-c:a', 'pcm_s24le', '-ar', '48000']));
    // pcm takes any rate, the bundled mxf muxer only 48 kHz: an inherited 44100 fails too
    throwsCode(
      () => plan(job('video/convert', 'mxf', { audio: { codec: 'pcm', bitsPerSample: 24 } }), [info(1, { audio: A(44100, 2), video: V(320, 240, 25) })]),
      'InvalidArgument',
      /align clip #0, which has 44100 Hz, and pcm in mxf cannot carry that: set ar \(SampleRate\) to one of 48000$/,
    );
  });

  it('codec x container table is enforced', () => {
    throwsCode(() => plan(job('video/convert', 'mov', { audio: { codec: 'opus' } }), [info(1, { audio: A(48000, 2), video: V(320, 240, 25) })]), 'InvalidArgument', /mov cannot carry opus/);
    throwsCode(() => plan(job('video/convert', 'flv', { video: { codec: 'h265' }, audio: { codec: 'aac' } }), [info(1, { audio: A(48000, 2), video: V(320, 240, 25) })]), 'InvalidArgument', /flv cannot carry h265/);
    throwsCode(() => plan(job('video/convert', 'flv', { audio: { codec: 'ac3' } }), [info(1, { audio: A(48000, 2), video: V(320, 240, 25) })]), 'UnsupportedFeature', /flv muxer cannot carry ac3/);
    const mp4Flac = plan(job('video/convert', 'mp4', { audio: { codec: 'flac' } }), [info(1, { audio: A(48000, 2), video: V(320, 240, 25) })]);
    assert.ok(hasSeq(mp4Flac.args, ['-strict', 'experimental']));
    const aviHevc = plan(job('video/convert', 'avi', { video: { codec: 'h265' }, audio: { codec: 'ac3' } }), [info(1, { audio: A(48000, 2), video: V(320, 240, 25) })]);
    assert.ok(hasSeq(aviHevc.args, ['-tag:v', 'hev1']), 'h265 in avi: a fourcc the 2018 demuxers read as hevc');
    assert.equal(aviHevc.expect.video?.codec, 'hevc');
    const mp4Amr = plan(job('video/convert', 'mp4', { audio: { codec: 'amr', sampleRate: 8000, channels: 1 } }), [info(1, { audio: A(48000, 2), video: V(320, 240, 25) })]);
    assert.ok(hasSeq(mp4Amr.args, ['-f', '3gp']));
    assert.deepEqual(mp4Amr.expect.formatNames, ['mp4']);
  });

  it('container rate lists apply to inherited rates too: flv mp3', () => {
    const src32k = [info(1, { audio: A(32000, 2, { codec: 'mp3' }), video: V(320, 240, 25) })];
    // mp3 takes 32000 Hz, the flv sound-rate field does not
    const mp4Mp3 = plan(job('video/convert', 'mp4', { audio: { codec: 'mp3' } }), src32k);
    assert.ok(hasSeq(mp4Mp3.args, ['-ar', '32000', '-ac', '2']));
    throwsCode(
      () => plan(job('video/convert', 'flv', { audio: { codec: 'mp3' } }), src32k),
      'InvalidArgument',
      /align clip #0, which has 32000 Hz, and mp3 in flv cannot carry that: set ar \(SampleRate\) to one of 11025, 22050, 44100, 48000$/,
    );
    throwsCode(() => plan(job('video/convert', 'flv', { audio: { codec: 'mp3', sampleRate: 32000 } }), src32k), 'UnsupportedFeature', /flv muxer cannot carry mp3 at 32000 Hz/);
    const flv = plan(job('video/convert', 'flv', { audio: { codec: 'mp3', sampleRate: 44100 } }), src32k);
    assert.ok(hasSeq(flv.args, ['-ar', '44100', '-ac', '2']));
  });

  it('audio defaults from another clip when the align clip has none: a failure names that clip', () => {
    const srcs = [info(1, { video: V(320, 240, 25) }), info(1, { audio: A(44100, 2), video: V(320, 240, 25) })];
    throwsCode(
      () => plan(job('video/concat', 'mp4', { n: 2, audio: { codec: 'opus', channels: 2 } }), srcs),
      'InvalidArgument',
      /the sample rate comes from clip #1 \(the align clip has no audio\), which has 44100 Hz.*set ar \(SampleRate\) to one of 8000, 12000, 16000, 24000, 48000$/,
    );
  });

  it('no source has audio: legal codec defaults (silence)', () => {
    const silent = [info(1, { video: V(320, 240, 25) })];
    const cases: Array<{ container: Container; codec: AudioTarget['codec']; ar: string; ac: string }> = [
      { container: 'mp4', codec: 'aac', ar: '44100', ac: '2' },
      { container: 'flv', codec: 'mp3', ar: '44100', ac: '2' },
      { container: 'mp4', codec: 'opus', ar: '48000', ac: '2' },
      { container: 'mxf', codec: 'pcm', ar: '48000', ac: '2' },
      { container: 'mp4', codec: 'amr', ar: '8000', ac: '1' },
    ];
    for (const c of cases) {
      const p = plan(job('video/convert', c.container, { audio: { codec: c.codec } }), silent);
      assert.ok(hasSeq(p.args, ['-ar', c.ar, '-ac', c.ac]), `${c.codec} in ${c.container}: ${p.args.join(' ')}`);
      assert.ok(p.decisions.includes(`sample rate ${c.ar} Hz: no source has audio, codec default`));
    }
  });
});

// ---------- video ----------

describe('video/concat', () => {
  // 640x360@25 with audio, 320x240@30 without audio, 1280x720@24 with audio; 2 s each.
  const infos = [
    info(2, { video: V(640, 360, 25), audio: A(44100, 2) }),
    info(2, { video: V(320, 240, 30) }),
    info(2, { video: V(1280, 720, 24), audio: A(48000, 1), formatName: 'matroska,webm' }),
  ];
  const base = (video: Partial<VideoTarget>, o: Partial<JobOpts> = {}): MediaJob =>
    job('video/concat', 'mp4', {
      n: 3,
      audio: { codec: 'aac', sampleRate: 48000, channels: 2, bitrate: 96000 },
      video: { codec: 'h264', fps: 25, resolution: { width: 1280, height: 720 }, ...video },
      ...o,
    });

  const scaleTable: Array<{ scaleType: VideoTarget['scaleType']; align?: number; size: [number, number]; c0: string[]; c1: string[]; c2: string[] }> = [
    { scaleType: 'stretch', size: [1280, 720], c0: ['scale=1280:720:flags=bicubic'], c1: ['scale=1280:720:flags=bicubic'], c2: [] },
    {
      scaleType: 'crop',
      size: [1280, 720],
      c0: ['scale=1280:720:flags=bicubic'],
      c1: ['scale=1280:960:flags=bicubic', 'crop=1280:720:0:120'],
      c2: [],
    },
    {
      scaleType: 'fill',
      size: [1280, 720],
      c0: ['scale=1280:720:flags=bicubic'],
      c1: ['scale=960:720:flags=bicubic', 'pad=1280:720:160:0:color=black'],
      c2: [],
    },
    {
      scaleType: 'fit',
      size: [1280, 720],
      c0: ['scale=1280:720:flags=bicubic'],
      c1: ['scale=960:720:flags=bicubic', 'pad=1280:720:160:0:color=black'],
      c2: [],
    },
    {
      // fit with a 4:3 align clip: the output is the align clip fitted into the box (960x720), no bars for it
      scaleType: 'fit',
      align: 1,
      size: [960, 720],
      c0: ['scale=960:540:flags=bicubic', 'pad=960:720:0:90:color=black'],
      c1: ['scale=960:720:flags=bicubic'],
      c2: ['scale=960:540:flags=bicubic', 'pad=960:720:0:90:color=black'],
    },
  ];
  for (const t of scaleTable) {
    it(`mp4 h264 1280x720 scaletype ${t.scaleType}${t.align ? ` align ${t.align}` : ''}`, () => {
      const p = plan(base({ scaleType: t.scaleType }, { align: t.align ?? 0 }), infos);
      common(p, 3);
      const geo = (label: string): string[] =>
        chainFor(p, label)
          .split(',')
          .filter((f) => /^(scale|crop|pad)=/.test(f));
      assert.deepEqual(geo('v0'), t.c0);
      assert.deepEqual(geo('v1'), t.c1);
      assert.deepEqual(geo('v2'), t.c2);
      for (let i = 0; i < 3; i++) {
        const c = chainFor(p, `v${i}`);
        assert.ok(c.startsWith(`[${i}:0]trim=start=0:duration=2,setpts=PTS-STARTPTS,`), c);
        assert.match(c, /,fps=fps=25,format=yuv420p,setsar=1,trim=end_frame=50\[v\d\]$/);
      }
      // audio: padded/trimmed to each clip's video length; clip 1 has no audio -> silence
      assert.match(chainFor(p, 'a0'), /^\[0:1\]atrim=start=0:duration=2,.*aresample=48000,.*channel_layouts=stereo,apad=whole_len=96000,atrim=end_sample=96000\[a0\]$/);
      assert.match(chainFor(p, 'a1'), /^anullsrc=r=48000:cl=stereo,.*atrim=end_sample=96000\[a1\]$/);
      assert.match(chainFor(p, 'a2'), /^\[2:1\]atrim=start=0:duration=2,.*apad=whole_len=96000,atrim=end_sample=96000\[a2\]$/);
      assert.ok(graph(p).endsWith('[v0][a0][v1][a1][v2][a2]concat=n=3:v=1:a=1[vout][aout]'));
      assert.ok(hasSeq(p.args, ['-map', '[vout]', '-map', '[aout]']));
      assert.ok(hasSeq(p.args, ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '150', '-crf', '23']));
      assert.ok(hasSeq(p.args, ['-r', '25', '-vsync', 'cfr']));
      assert.ok(hasSeq(p.args, ['-c:a', 'aac', '-b:a', '96000', '-ar', '48000', '-ac', '2']));
      assert.ok(hasSeq(p.args, ['-movflags', '+faststart']));
      assert.ok(hasSeq(p.args, ['-f', 'mp4']));
      assert.equal(p.mainOutput, 'out.mp4');
      assert.equal(p.expectedDurationSec, 6);
      assert.deepEqual(p.expect.video, { codec: 'h264', width: t.size[0], height: t.size[1], fps: 25, pixelFormat: 'yuv420p' });
      assert.deepEqual(p.expect.audio, { codec: 'aac', sampleRate: 48000, channels: 2, bitrate: 96000 });
      // aac in mp4: priming signalled -> one aac frame + one video frame + 5 ms
      assert.ok(Math.abs(p.expect.toleranceSec - (1024 / 48000 + 1 / 25 + 0.005)) < 1e-5);
      assert.deepEqual(new Set(p.needs.filters), new Set(['trim', 'setpts', 'fps', 'format', 'setsar', 'atrim', 'asetpts', 'aresample', 'aformat', 'apad', 'anullsrc', 'concat', ...(t.c0.length + t.c1.length + t.c2.length ? ['scale'] : []), ...(t.scaleType === 'crop' ? ['crop'] : []), ...(t.c1.some((f) => f.startsWith('pad')) || t.c0.some((f) => f.startsWith('pad')) ? ['pad'] : [])]));
      assert.deepEqual(p.needs.encoders, ['libx264', 'aac']);
    });
  }

  it('frame-aligned clip lengths: audio follows the video length', () => {
    const p = plan(base({ fps: 30000 / 1001 }, { clips: [clip({ durationMs: 1000 }), clip({ startMs: 250, durationMs: 1500 }), clip()] }), infos);
    // 1 s at 29.97 fps -> 30 frames = 1.001 s -> 48048 samples
    assert.match(chainFor(p, 'v0'), /fps=fps=30000\/1001,.*trim=end_frame=30\[v0\]$/);
    assert.match(chainFor(p, 'a0'), /atrim=start=0:duration=1\.001,.*whole_len=48048,atrim=end_sample=48048/);
    assert.match(chainFor(p, 'v1'), /^\[1:0\]trim=start=0\.25:duration=1\.5015,/);
    assert.match(chainFor(p, 'v1'), /trim=end_frame=45\[v1\]$/);
    assert.ok(hasSeq(p.args, ['-r', '30000/1001']));
    assert.ok(Math.abs(p.expectedDurationSec - (30 + 45 + 60) * (1001 / 30000)) < 1e-9);
  });

  it('defaults (fps, resolution, pixel format) from the align clip are recorded', () => {
    const p = plan(base({ fps: undefined, resolution: undefined }, { align: 2 }), infos);
    assert.ok(p.decisions.includes('frame rate 24 from align clip #2'));
    assert.ok(p.decisions.includes('resolution 1280x720 from align clip #2'));
    assert.ok(p.decisions.includes('pixel format yuv420p from align clip #2'));
    assert.ok(hasSeq(p.args, ['-r', '24']));
    assert.match(chainFor(p, 'v2'), /trim=end_frame=48\[v2\]$/);
  });

  it('s_Wx / s_xH keep the align aspect with even sizes', () => {
    const w = plan(base({ resolution: { width: 852 } }, { align: 1 }), infos);
    assert.deepEqual([w.expect.video?.width, w.expect.video?.height], [852, 640]);
    // odd sizes (IMM allows them) are rounded to even
    const odd = plan(base({ resolution: { width: 853, height: 481 } }), infos);
    assert.deepEqual([odd.expect.video?.width, odd.expect.video?.height], [854, 482]);
    assert.ok(odd.decisions.includes('resolution 853x481 rounded to even 854x482'));
    const h = plan(base({ resolution: { height: 480 } }), infos);
    assert.deepEqual([h.expect.video?.width, h.expect.video?.height], [854, 480]);
  });

  it('portrait align clip with arotate: s is long x short, box swapped', () => {
    const portrait = [info(2, { video: V(1280, 720, 30, { rotation: 90 }), audio: A(48000, 2) }), infos[0] as MediaInfo];
    const p = plan(
      job('video/concat', 'mp4', { n: 2, audio: { codec: 'aac' }, video: { codec: 'h264', resolution: { width: 1280, height: 720 }, adaptiveOrientation: true, scaleType: 'fill' } }),
      portrait,
    );
    common(p, 2);
    assert.deepEqual([p.expect.video?.width, p.expect.video?.height], [720, 1280]);
    assert.equal(chainFor(p, 'v0').split(',').filter((f) => /^(scale|pad)=/.test(f)).length, 0, 'the autorotated 720x1280 align clip needs no scaling');
    assert.match(chainFor(p, 'v1'), /scale=720:406:flags=bicubic,pad=720:1280:0:436:color=black/);
    assert.ok(p.decisions.some((d) => /arotate: align clip #0 is portrait/.test(d)));
    // without arotate the box stays landscape
    const q = plan(job('video/concat', 'mp4', { n: 2, audio: { codec: 'aac' }, video: { codec: 'h264', resolution: { width: 1280, height: 720 }, scaleType: 'fill' } }), portrait);
    assert.deepEqual([q.expect.video?.width, q.expect.video?.height], [1280, 720]);
    // single side with arotate: the long side
    const r = plan(job('video/convert', 'mp4', { audio: { codec: 'aac' }, video: { codec: 'h264', resolution: { width: 640 }, adaptiveOrientation: true } }), [portrait[0] as MediaInfo]);
    assert.deepEqual([r.expect.video?.width, r.expect.video?.height], [360, 640]);
  });

  it('vn_1: audio only, no video concat', () => {
    const p = plan(base({ disabled: true }), infos);
    common(p, 3);
    assert.ok(!p.args.includes('[vout]') && !p.args.includes('libx264') && !p.args.includes('-r'));
    assert.ok(graph(p).endsWith('[a0][a1][a2]concat=n=3:v=0:a=1[aout]'));
    assert.ok(!/trim=start=0:duration=2,setpts|color=/.test(graph(p)));
    assert.equal(p.expect.video, undefined);
  });

  it('an_1: video only, no audio concat', () => {
    const p = plan(base({}, { audio: { disabled: true } }), infos);
    common(p, 3);
    assert.ok(!p.args.includes('[aout]') && !p.args.includes('-c:a'));
    assert.ok(graph(p).endsWith('[v0][v1][v2]concat=n=3:v=1:a=0[vout]'));
    assert.ok(!/anullsrc|atrim/.test(graph(p)));
    assert.equal(p.expect.audio, undefined);
  });

  it('a clip without video (or disabled video) gets black frames', () => {
    const p = plan(base({}, { clips: [clip(), clip({ disableVideo: true }), clip()] }), [infos[0] as MediaInfo, info(1.5, { audio: A(44100, 2), formatName: 'mp3' }), infos[2] as MediaInfo]);
    assert.equal(chainFor(p, 'v1'), 'color=c=black:s=1280x720:r=25,format=yuv420p,setsar=1,trim=end_frame=38[v1]');
    assert.match(chainFor(p, 'a1'), /whole_len=72960,atrim=end_sample=72960\[a1\]$/);
    throwsCode(() => plan(base({}, { n: 1 }), [info(1, { audio: A(44100, 2) })]), 'InvalidArgument', /no source has a video stream/);
  });

  it('crf with maxrate/bufsize (h264, h265, vp9)', () => {
    const v = { crf: 20, maxBitrate: 2000000, bufferSize: 4000000 };
    const p = plan(base(v), infos);
    assert.ok(hasSeq(p.args, ['-crf', '20', '-maxrate', '2000000', '-bufsize', '4000000']));
    const h = plan(base({ ...v, codec: 'h265', gop: 50 }), infos);
    assert.ok(hasSeq(h.args, ['-c:v', 'libx265', '-pix_fmt', 'yuv420p', '-crf', '20', '-x265-params', 'keyint=50:log-level=error:vbv-maxrate=2000:vbv-bufsize=4000']));
    assert.ok(hasSeq(h.args, ['-tag:v', 'hvc1']));
    assert.equal(h.expect.video?.codec, 'hevc');
    const b = plan(base({ bitrate: 1000000 }), infos);
    assert.ok(hasSeq(b.args, ['-b:v', '1000000']) && !b.args.includes('-crf'));
  });

  it('vbopt / fpsopt / sopt adaptive and fall', () => {
    const src = [info(2, { video: V(640, 360, 24, { bitrate: 500000 }), audio: A(44100, 2) }), info(2, { video: V(1280, 720, 30, { bitrate: 3000000 }), audio: A(44100, 2) })];
    const j = (v: Partial<VideoTarget>): MediaJob => job('video/concat', 'mp4', { n: 2, audio: { codec: 'aac' }, video: { codec: 'h264', ...v } });
    const a = plan(j({ bitrate: 1000000, bitrateOption: 'adaptive', fps: 30, fpsOption: 'adaptive', resolution: { width: 1280, height: 720 }, resolutionOption: 'adaptive' }), src);
    assert.ok(hasSeq(a.args, ['-b:v', '500000']));
    assert.ok(hasSeq(a.args, ['-r', '24']));
    assert.deepEqual([a.expect.video?.width, a.expect.video?.height], [640, 360]);
    throwsCode(() => plan(j({ bitrate: 1000000, bitrateOption: 'fall' }), src), 'InvalidArgument.SourceBelowTarget', /source #0 video bit rate 500000/);
    throwsCode(() => plan(j({ fps: 25, fpsOption: 'fall' }), src), 'InvalidArgument.SourceBelowTarget', /source #0 frame rate 24 fps/);
    throwsCode(() => plan(j({ resolution: { width: 1280, height: 720 }, resolutionOption: 'fall' }), src), 'InvalidArgument.SourceBelowTarget', /source #0 resolution 640x360/);
  });
});

describe('segments', () => {
  const src = [info(10, { video: V(1280, 720, 25), audio: A(48000, 2) })];
  const j = (container: Container, segment: SegmentTarget): MediaJob =>
    job('video/convert', container, { audio: { codec: 'aac' }, video: { codec: 'h264', gop: 250 }, segment });

  it('hls + ts: .m3u8 playlist, .ts segments, keyframes forced at the segment length', () => {
    const p = plan(j('ts', { format: 'hls', durationMs: 4000 }), src);
    common(p, 1);
    assert.ok(hasSeq(p.args, ['-f', 'hls', '-hls_time', '4', '-hls_playlist_type', 'vod', '-hls_list_size', '0']));
    assert.ok(hasSeq(p.args, ['-hls_segment_filename', '/work/out/out-%05d.ts']));
    assert.ok(!p.args.includes('-hls_segment_type'));
    assert.ok(hasSeq(p.args, ['-sc_threshold', '0', '-force_key_frames', 'expr:gte(t,n_forced*4)']));
    assert.ok(hasSeq(p.args, ['-g', '250']));
    assert.equal(p.mainOutput, 'out.m3u8');
    assert.equal(p.extension, 'm3u8');
    const re = p.extraOutputPattern;
    assert.ok(re);
    assert.ok(re.test('out-00000.ts') && re.test('out-00012.ts'));
    assert.ok(!re.test('out.m3u8') && !re.test('other-00000.ts'));
    assert.deepEqual(p.expect.formatNames, ['hls']);
    assert.deepEqual(p.needs.muxers, ['hls', 'mpegts']);
    assert.ok(!p.args.includes('-movflags'));
  });

  it('hls + mp4: fragmented MP4 segments', () => {
    const p = plan(j('mp4', { format: 'hls', durationMs: 6000 }), src);
    assert.ok(hasSeq(p.args, ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'out-init.mp4', '-hls_segment_filename', '/work/out/out-%05d.m4s']));
    assert.ok(p.extraOutputPattern?.test('out-init.mp4') && p.extraOutputPattern.test('out-00001.m4s'));
    assert.deepEqual(p.needs.muxers, ['hls', 'mp4']);
  });

  it('dash: .mpd manifest, .m4s segments, seg_duration', () => {
    const p = plan(j('mp4', { format: 'dash', durationMs: 2500 }), src);
    common(p, 1);
    assert.ok(hasSeq(p.args, ['-f', 'dash', '-seg_duration', '2.5', '-use_template', '1', '-use_timeline', '1', '-dash_segment_type', 'mp4']));
    assert.ok(hasSeq(p.args, ['-init_seg_name', 'out-init-$RepresentationID$.m4s', '-media_seg_name', 'out-$RepresentationID$-$Number%05d$.m4s']));
    assert.ok(hasSeq(p.args, ['-force_key_frames', 'expr:gte(t,n_forced*2.5)']));
    assert.equal(p.mainOutput, 'out.mpd');
    assert.equal(p.extension, 'mpd');
    assert.ok(p.extraOutputPattern?.test('out-init-0.m4s') && p.extraOutputPattern.test('out-1-00003.m4s'));
    assert.deepEqual(p.expect.formatNames, ['dash']);
  });

  it('segments only with mp4/ts', () => {
    throwsCode(() => plan(j('mkv', { format: 'hls', durationMs: 4000 }), src), 'InvalidArgument', /needs container mp4 or ts/);
  });
});

describe('webm', () => {
  it('vp9 + opus, constant-quality crf with -b:v 0', () => {
    const p = plan(job('video/convert', 'webm', { audio: { codec: 'opus', sampleRate: 48000 }, video: { codec: 'vp9' } }), [info(3, { video: V(640, 360, 30), audio: A(44100, 2) })]);
    common(p, 1);
    assert.ok(hasSeq(p.args, ['-c:v', 'libvpx-vp9', '-pix_fmt', 'yuv420p', '-g', '150', '-crf', '23', '-b:v', '0']));
    assert.ok(hasSeq(p.args, ['-c:a', 'libopus']));
    assert.ok(hasSeq(p.args, ['-ar', '48000']));
    assert.ok(hasSeq(p.args, ['-f', 'webm']));
    assert.equal(p.mainOutput, 'out.webm');
    assert.equal(p.expect.video?.codec, 'vp9');
    // single clip: no concat, chains end in vout/aout
    assert.ok(!graph(p).includes('concat'));
    assert.ok(chainFor(p, 'vout') && chainFor(p, 'aout'));
    throwsCode(() => plan(job('video/convert', 'webm', { audio: { codec: 'opus' }, video: { codec: 'h264' } }), [info(3, { video: V(640, 360, 30), audio: A(44100, 2) })]), 'InvalidArgument', /webm cannot carry h264/);
  });
});
