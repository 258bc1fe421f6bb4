import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isMedleyError } from '../../../src/errors.js';
import { parseProbeJson, parseRate, parseSar, probe } from '../../../src/media/engine/probe.js';

const require = createRequire(import.meta.url);
const FFMPEG = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const FFPROBE = (require('ffprobe-static') as { path: string }).path;
const exec = promisify(execFile);

let dir = '';
const f = (name: string): string => join(dir, name);

async function ffmpeg(...args: string[]): Promise<{ stderr: string }> {
  return exec(FFMPEG, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', ...args]);
}

/** The rotation the 2018 ffmpeg itself reads back (its `rotate` tag, clockwise), or undefined. */
async function ffmpegSeesRotation(file: string): Promise<number | undefined> {
  const r = await exec(FFMPEG, ['-hide_banner', '-i', file]).catch((e: { stderr: string }) => e);
  const m = /rotate\s*:\s*(\d+)/.exec(r.stderr);
  return m ? Number(m[1]) : undefined;
}

function assertUnreadable(e: unknown, ...mustContain: string[]): true {
  assert.ok(isMedleyError(e), `expected MedleyError, got ${String(e)}`);
  assert.equal(e.entry.immCode, 'InvalidFile.Media');
  for (const s of mustContain) assert.ok(e.message.includes(s), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(s)}`);
  assert.ok(!e.message.includes(dir), `message leaks the temp path: ${e.message}`);
  return true;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-probe-'));
  await Promise.all([
    ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-c:a', 'pcm_s16le', f('sine.wav')),
    ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'libmp3lame', '-b:a', '128k', f('a.mp3')),
    ffmpeg(
      '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=2',
      '-f', 'lavfi', '-i', 'sine=duration=2',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', f('av.mp4'),
    ),
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', f('v.mp4')),
    writeFile(f('empty.mp3'), ''),
    writeFile(f('text.mp3'), 'This is a plain text file, not an MP3 at all.\n'.repeat(20)),
  ]);
  // Rotation: this 2018 build drops `-metadata:s:v rotate=` when encoding from lavfi, but applies it on a remux.
  await ffmpeg('-i', f('v.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90', f('rotated.mp4'));
  // Cover art: a PNG picture stream in an MP3 (ID3 APIC) is an attached picture, not video.
  await ffmpeg('-i', f('a.mp3'), '-f', 'lavfi', '-i', 'color=c=red:s=64x64:d=1', '-frames:v', '1', '-map', '0:a', '-map', '1:v', '-c:a', 'copy', '-c:v', 'png', '-disposition:v', 'attached_pic', f('cover.mp3'));
  await writeFile(f('truncated.mp3'), (await readFile(f('a.mp3'))).subarray(0, 200));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('probe (real files, bundled ffprobe)', () => {
  it('reads a 2 s sine wav', async () => {
    const info = await probe(FFPROBE, f('sine.wav'));
    assert.equal(info.formatName, 'wav');
    assert.ok(Math.abs(info.durationSec - 2) < 0.01, String(info.durationSec));
    assert.equal(info.video, undefined);
    assert.deepEqual(info.audio, { index: 0, codec: 'pcm_s16le', sampleRate: 44100, channels: 1, bitrate: 705600, bitsPerSample: 16 });
    assert.ok(info.size && info.size > 170_000);
  });

  it('reads a 1 s mp3', async () => {
    const info = await probe(FFPROBE, f('a.mp3'));
    assert.equal(info.formatName, 'mp3');
    assert.ok(Math.abs(info.durationSec - 1) < 0.1, String(info.durationSec));
    assert.equal(info.audio?.codec, 'mp3');
    assert.equal(info.audio?.sampleRate, 44100);
    assert.equal(info.audio?.bitrate, 128000);
    assert.equal(info.video, undefined);
  });

  it('reads a 320x240 h264 mp4 with audio', async () => {
    const info = await probe(FFPROBE, f('av.mp4'));
    assert.match(info.formatName, /mp4/);
    assert.ok(Math.abs(info.durationSec - 2) < 0.1, String(info.durationSec));
    assert.deepEqual(
      { ...info.video, bitrate: undefined },
      { index: 0, codec: 'h264', width: 320, height: 240, fps: 25, pixelFormat: 'yuv420p', sar: [1, 1], rotation: 0, bitrate: undefined },
    );
    assert.ok((info.video?.bitrate ?? 0) > 0);
    assert.equal(info.audio?.codec, 'aac');
    assert.equal(info.audio?.index, 1);
    assert.ok((info.bitrate ?? 0) > 0);
  });

  it('reads an mp4 without audio', async () => {
    const info = await probe(FFPROBE, f('v.mp4'));
    assert.equal(info.audio, undefined);
    assert.equal(info.video?.width, 320);
    assert.ok(Math.abs(info.durationSec - 2) < 0.1);
  });

  it('reports display rotation clockwise, as ffmpeg itself applies it', async (t) => {
    const seen = await ffmpegSeesRotation(f('rotated.mp4'));
    if (seen === undefined) return t.skip('this ffmpeg build does not write rotation metadata');
    const info = await probe(FFPROBE, f('rotated.mp4'));
    assert.equal(info.video?.rotation, seen);
    assert.ok([90, 270].includes(info.video?.rotation ?? -1));
    assert.equal(info.video?.width, 320, 'coded size, before rotation');
    assert.equal(info.video?.height, 240);
  });

  it('ignores cover art (attached picture) in an mp3', async () => {
    const info = await probe(FFPROBE, f('cover.mp3'));
    assert.equal(info.audio?.codec, 'mp3');
    assert.equal(info.video, undefined);
  });

  it('rejects an empty file', async () => {
    await assert.rejects(probe(FFPROBE, f('empty.mp3'), { displayName: 'oss://bkt/empty.mp3' }), (e) =>
      assertUnreadable(e, 'oss://bkt/empty.mp3', 'empty'),
    );
  });

  it('rejects a truncated mp3 with ffprobe\'s error', async () => {
    await assert.rejects(probe(FFPROBE, f('truncated.mp3'), { displayName: 'oss://bkt/cut.mp3' }), (e) =>
      assertUnreadable(e, 'oss://bkt/cut.mp3', 'could not be read as media: '),
    );
  });

  it('rejects a text file named .mp3', async () => {
    await assert.rejects(probe(FFPROBE, f('text.mp3'), { displayName: 'oss://bkt/text.mp3' }), (e) =>
      assertUnreadable(e, 'oss://bkt/text.mp3', 'could not be read as media: '),
    );
  });

  it('rejects a missing file', async () => {
    await assert.rejects(probe(FFPROBE, f('nope.mp4'), { displayName: 'oss://bkt/nope.mp4' }), (e) =>
      assertUnreadable(e, 'oss://bkt/nope.mp4', 'does not exist'),
    );
  });

  it('kills ffprobe at the wall-clock timeout', async () => {
    await assert.rejects(probe(FFPROBE, f('av.mp4'), { timeoutMs: 1, displayName: 'x.mp4' }), (e) => assertUnreadable(e, 'x.mp4', 'did not finish'));
  });
});

describe('parseProbeJson', () => {
  const audio = { index: 0, codec_type: 'audio', codec_name: 'aac', sample_rate: '48000', channels: 2, channel_layout: 'stereo', bit_rate: '128000', bits_per_sample: 0, duration: '3.5' };
  const video = (extra: Record<string, unknown> = {}) => ({
    index: 1, codec_type: 'video', codec_name: 'h264', width: 1920, height: 1080, pix_fmt: 'yuv420p',
    avg_frame_rate: '30000/1001', r_frame_rate: '30/1', sample_aspect_ratio: '1:1', duration: '4.0', ...extra,
  });
  const one = (streams: unknown[], format: Record<string, unknown> = { format_name: 'mov,mp4', duration: '4.0' }) => parseProbeJson({ streams, format });

  const cases: Array<[string, () => unknown, unknown]> = [
    ['fps from avg_frame_rate', () => one([video()]).video?.fps, 30000 / 1001],
    ['fps falls back to r_frame_rate', () => one([video({ avg_frame_rate: '0/0' })]).video?.fps, 30],
    ['fps 0 when unknown', () => one([video({ avg_frame_rate: '0/0', r_frame_rate: 'N/A' })]).video?.fps, 0],
    ['displaymatrix -90 (ccw) is 90 clockwise', () => one([video({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] })]).video?.rotation, 90],
    ['displaymatrix 90 (ccw) is 270 clockwise', () => one([video({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: 90 }] })]).video?.rotation, 270],
    ['displaymatrix 180', () => one([video({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -180 }] })]).video?.rotation, 180],
    ['legacy rotate tag is clockwise', () => one([video({ tags: { rotate: '90' } })]).video?.rotation, 90],
    ['rotate tag -90 normalised', () => one([video({ tags: { rotate: '-90' } })]).video?.rotation, 270],
    ['no rotation', () => one([video()]).video?.rotation, 0],
    ['sar 16:15', () => one([video({ sample_aspect_ratio: '16:15' })]).video?.sar, [16, 15]],
    ['sar 0:1 means unknown', () => one([video({ sample_aspect_ratio: '0:1' })]).video?.sar, [1, 1]],
    ['sar absent', () => one([video({ sample_aspect_ratio: undefined })]).video?.sar, [1, 1]],
    ['audio fields', () => one([audio]).audio, { index: 0, codec: 'aac', sampleRate: 48000, channels: 2, channelLayout: 'stereo', bitrate: 128000 }],
    ['bitrate N/A is absent', () => one([{ ...audio, bit_rate: 'N/A' }]).audio?.bitrate, undefined],
    ['format numbers', () => { const i = one([audio], { format_name: 'mp3', duration: '3.5', bit_rate: '130000', size: '56875' }); return [i.durationSec, i.bitrate, i.size, i.formatName]; }, [3.5, 130000, 56875, 'mp3']],
    ['duration: longest stream when format has none', () => one([audio, video()], { format_name: 'matroska,webm' }).durationSec, 4],
    ['duration 0 when nothing knows', () => one([{ ...audio, duration: undefined }], { format_name: 'x', duration: 'N/A' }).durationSec, 0],
    ['first audio and first video win', () => { const i = one([video(), { ...audio, index: 1 }, video({ index: 2, width: 640 }), { ...audio, index: 3 }]); return [i.video?.index, i.audio?.index]; }, [1, 1]],
    ['cover art is not video', () => one([audio, video({ codec_name: 'mjpeg', disposition: { attached_pic: 1 } })]).video, undefined],
    ['cover art before real video is skipped', () => one([video({ index: 0, codec_name: 'png', disposition: { attached_pic: 1 } }), video({ index: 1 })]).video?.index, 1],
  ];
  for (const [name, fn, want] of cases) {
    it(name, () => assert.deepEqual(fn(), want));
  }

  const unreadable: Array<[string, unknown]> = [
    ['no streams', { streams: [], format: { format_name: 'mp3' } }],
    ['only data streams', { streams: [{ index: 0, codec_type: 'data' }], format: {} }],
    ['only cover art', { streams: [video({ disposition: { attached_pic: 1 } })], format: {} }],
    ['audio without sample rate', { streams: [{ ...audio, sample_rate: '0', channels: 0 }], format: {} }],
    ['not an object', 'garbage'],
  ];
  for (const [name, json] of unreadable) {
    it(`MediaUnreadable: ${name}`, () => assert.throws(() => parseProbeJson(json), (e) => isMedleyError(e) && /no audio or video stream/.test(e.message)));
  }

  it('parseRate / parseSar', () => {
    assert.equal(parseRate('25/1'), 25);
    assert.equal(parseRate('24'), 24);
    assert.equal(parseRate('0/0'), undefined);
    assert.equal(parseRate('1/0'), undefined);
    assert.deepEqual(parseSar('4:3'), [4, 3]);
    assert.deepEqual(parseSar('N/A'), [1, 1]);
  });
});
