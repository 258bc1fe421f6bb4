/**
 * processJob with the real engine against the media limits (src/media/limits.ts): output bytes (-fs and the
 * output-directory watch, segment files included), source and output durations, source size, implausible
 * and truncated sources, and what the messages say.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMedleyError } from '../../src/errors.js';
import { MediaEngine } from '../../src/media/engine/index.js';
import { processJob } from '../../src/media/process.js';
import { parseProcessString } from '../../src/media/request/process-string.js';
import { DEFAULT_MEDIA_LIMITS, implausibility, isTruncated, looksTruncated, type MediaLimits } from '../../src/media/limits.js';
import { FFMPEG, FFPROBE, tone } from '../support/media.js';
import { sparseMkv } from '../support/hostile.js';

let dir = '';
const f = (n: string): string => join(dir, n);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-limits-'));
  tone(f('noise.wav'), 440, 6, ['-ar', '48000', '-ac', '2']);
  tone(f('a.mp3'), 440, 3, ['-ar', '44100', '-c:a', 'libmp3lame']);
  await writeFile(f('cut.mp3'), (await readFile(f('a.mp3'))).subarray(0, 1000));
  sparseMkv(f('sparse.mkv'));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function run(process: string, source: string, limits: Partial<MediaLimits>, name = 'oss://b/src') {
  const engine = await MediaEngine.start({ ffmpeg: FFMPEG, ffprobe: FFPROBE, env: {}, limits });
  const job = parseProcessString(process, { bucket: 'bkt', key: 'src' }, { requireSaveAs: false });
  const workDir = await mkdtemp(join(dir, 'job-'));
  return processJob({ engine, job, inputs: [{ path: f(source), displayName: name }], workDir, timeoutMs: 60_000 }).finally(() => rm(workDir, { recursive: true, force: true }));
}

function refused(immCode: string, re: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(isMedleyError(e), String(e));
    assert.equal(e.entry.immCode, immCode, e.message);
    assert.match(e.message, re);
    assert.ok(!e.message.includes(dir), `no local path: ${e.message}`);
    return true;
  };
}

describe('media limits on a real engine', () => {
  test('defaults', async () => {
    const engine = await MediaEngine.start({ ffmpeg: FFMPEG, ffprobe: FFPROBE, env: {} });
    assert.deepEqual(engine.limits, DEFAULT_MEDIA_LIMITS);
  });

  test('MEDLEY_MAX_OUTPUT_BYTES: -fs stops FFmpeg and the task fails (LimitExceededError)', async () => {
    await assert.rejects(run('audio/convert,f_flac', 'noise.wav', { maxOutputBytes: 50_000 }), refused('LimitExceededError', /the output reached the 50000 bytes an output may take \(MEDLEY_MAX_OUTPUT_BYTES\)/));
  });

  test('MEDLEY_MAX_OUTPUT_BYTES counts segment files too (HLS, where -fs does not apply)', async () => {
    await assert.rejects(
      run('video/convert,f_ts,vn_1,acodec_aac,ab_128000/segment,f_hls,t_1000', 'noise.wav', { maxOutputBytes: 20_000 }),
      refused('LimitExceededError', /MEDLEY_MAX_OUTPUT_BYTES/),
    );
  });

  test('MEDLEY_MAX_SOURCE_DURATION', async () => {
    await assert.rejects(run('audio/convert,f_mp3', 'noise.wav', { maxSourceDurationSec: 5 }, 'oss://b/long.wav'), refused('LimitExceededError', /^oss:\/\/b\/long\.wav lasts 6 s, more than the 5 s a source may last \(MEDLEY_MAX_SOURCE_DURATION\)$/));
  });

  test('MEDLEY_MAX_OUTPUT_DURATION', async () => {
    await assert.rejects(run('audio/convert,f_mp3', 'noise.wav', { maxOutputDurationSec: 2 }), refused('LimitExceededError', /^the output would last 6 s, more than the 2 s an output may last \(MEDLEY_MAX_OUTPUT_DURATION\)$/));
  });

  test('MEDLEY_MAX_MEDIA_INPUT_BYTES', async () => {
    await assert.rejects(run('audio/convert,f_mp3', 'noise.wav', { maxMediaInputBytes: 1000 }, 'oss://b/big.wav'), refused('LimitExceededError', /^oss:\/\/b\/big\.wav is 1\.1 MiB, more than the 1000 bytes a media task reads \(MEDLEY_MAX_MEDIA_INPUT_BYTES\)$/));
  });

  test('a sparse-timestamp MKV claiming 100 h is implausible (InvalidFile.Media), before any work', async () => {
    const t0 = Date.now();
    await assert.rejects(run('audio/convert,f_flac', 'sparse.mkv', {}, 'oss://b/sparse.mkv'), refused('InvalidFile.Media', /^oss:\/\/b\/sparse\.mkv could not be read as media: implausible: \d+ bytes cannot hold the 360000\.5\d* s it claims/));
    assert.ok(Date.now() - t0 < 10_000);
  });

  test('a truncated MP3 is InvalidFile.Media naming what is wrong; no output is left', async () => {
    await assert.rejects(run('audio/convert,f_mp3', 'cut.mp3', {}, 'oss://b/cut.mp3'), refused('InvalidFile.Media', /^oss:\/\/b\/cut\.mp3 could not be read as media: truncated: decodes 0\.\d{3} s of the 3\.\d{3} s its header declares$/));
  });

  test('a good source still converts', async () => {
    const r = await run('audio/convert,f_mp3', 'a.mp3', {});
    assert.ok(existsSync(join(r.outputDir, r.files[0]!)) || r.files.length === 1);
    assert.ok(Math.abs(r.output.durationSec - 3) < 0.1);
  });
});

describe('limits (pure)', () => {
  const info = (durationSec: number, audio?: { codec: string; sampleRate?: number; channels?: number; bitsPerSample?: number; bitrate?: number }, extra: { video?: boolean; formatName?: string; size?: number } = {}) => ({
    durationSec,
    formatName: extra.formatName ?? 'matroska,webm',
    ...(extra.size !== undefined ? { size: extra.size } : {}),
    ...(audio ? { audio: { index: 0, sampleRate: 48000, channels: 2, ...audio } } : {}),
    ...(extra.video ? { video: { index: 1, codec: 'h264', width: 64, height: 48, fps: 25, pixelFormat: 'yuv420p', sar: [1, 1] as [number, number], rotation: 0 } } : {}),
  });
  const table: Array<[string, ReturnType<typeof info>, number, boolean]> = [
    ['16 KB claiming 100 h', info(360000, { codec: 'mp3' }), 16384, true],
    ['16 KB of mp3 claiming 10 s', info(10, { codec: 'mp3' }), 16384, false],
    ['100 B/s exactly is plausible', info(10, { codec: 'opus' }), 1000, false],
    ['video at 50 B/s', info(100, undefined, { video: true }), 5000, true],
    ['AMR (packet-counted) at 50 B/s', info(100, { codec: 'amr_nb' }, { formatName: 'amr' }), 5000, false],
    ['PCM wav holding its length', info(1, { codec: 'pcm_s16le', bitsPerSample: 16 }, { formatName: 'wav' }), 192_044, false],
    ['PCM wav header claiming 10x its bytes', info(10, { codec: 'pcm_s16le', bitsPerSample: 16 }, { formatName: 'wav' }), 192_044, true],
  ];
  for (const [name, i, size, bad] of table) test(`implausibility: ${name}`, () => assert.equal(implausibility(i, size) !== undefined, bad, implausibility(i, size)));
  test('looksTruncated / isTruncated', () => {
    assert.equal(looksTruncated(info(3.03, { codec: 'mp3', bitrate: 128000 }, { formatName: 'mp3', size: 1000 })), true);
    assert.equal(looksTruncated(info(3.03, { codec: 'mp3', bitrate: 128000 }, { formatName: 'mp3', size: 48_500 })), false);
    assert.equal(isTruncated(3.03, 0.078), true);
    assert.equal(isTruncated(3.03, 3.0), false);
    assert.equal(isTruncated(100, 97.5), true);
  });
});
