import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isMedleyError } from '../../../src/errors.js';
import { packetSeconds, parseProbeJson, parseRate, parseSar, probe, streamToCount } from '../../../src/media/engine/probe.js';

const require = createRequire(import.meta.url);
const FFMPEG = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const FFPROBE = (require('ffprobe-static') as { path: string }).path;
const exec = promisify(execFile);

let dir = '';
const f = (name: string): string => join(dir, name);

async function ffmpeg(...args: string[]): Promise<{ stderr: string }> {
  return exec(FFMPEG, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', ...args]);
}

/** Samples the bundled ffmpeg decodes from a file's first audio stream (mono s16le at the stream's own rate). */
async function decodedSamples(file: string): Promise<number> {
  const r = await exec(FFMPEG, ['-v', 'error', '-nostdin', '-i', file, '-map', '0:a:0', '-ac', '1', '-f', 's16le', '-'], { encoding: 'buffer', maxBuffer: 64 << 20 });
  return r.stdout.byteLength / 2;
}

/** The first frame as ffmpeg decodes it, autorotation on (its default): gray pixels and size. */
async function firstFrame(file: string): Promise<{ w: number; h: number; px: Buffer }> {
  const r = await exec(FFMPEG, ['-hide_banner', '-nostdin', '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { encoding: 'buffer', maxBuffer: 16 << 20 });
  const m = /Video: rawvideo.*?, (\d+)x(\d+)/.exec(r.stderr.toString('utf8').split('Output #0')[1] ?? '');
  assert.ok(m, 'output frame size');
  return { w: Number(m[1]), h: Number(m[2]), px: r.stdout };
}

/** Centre of the bright pixels, as fractions of width and height. */
function brightCentre(f: { w: number; h: number; px: Buffer }): [number, number] {
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < f.h; y++) {
    for (let x = 0; x < f.w; x++) {
      if ((f.px[y * f.w + x] ?? 0) > 128) {
        n++;
        sx += x + 0.5;
        sy += y + 0.5;
      }
    }
  }
  assert.ok(n > 0, 'the marker is visible');
  return [sx / n / f.w, sy / n / f.h];
}

/** Where a point (fractions of width/height) lands when the picture is turned `deg` clockwise. */
function turnClockwise([u, v]: [number, number], deg: number): [number, number] {
  switch (((deg % 360) + 360) % 360) {
    case 90:
      return [1 - v, u];
    case 180:
      return [1 - u, 1 - v];
    case 270:
      return [v, 1 - u];
    default:
      return [u, v];
  }
}

/** A copy of an mp4 with the (only) track's tkhd matrix replaced by a, b, c, d (16.16). */
async function withMatrix(src: string, dst: string, [a, b, c, d]: [number, number, number, number]): Promise<void> {
  const buf = Buffer.from(await readFile(src));
  const at = buf.indexOf('tkhd');
  assert.ok(at > 0 && buf.indexOf('tkhd', at + 4) < 0, 'one track');
  assert.equal(buf[at + 4], 0, 'tkhd version 0');
  // type(4) version/flags(4) times, id, reserved, duration (20) reserved (8) layer, group, volume, reserved (8)
  const m = at + 4 + 4 + 20 + 8 + 8;
  [a, b, 0, c, d, 0, 0, 0, 0x40000000].forEach((x, i) => buf.writeInt32BE(x * (i === 8 ? 1 : 65536), m + 4 * i));
  await writeFile(dst, buf);
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
    // Raw elementary streams, whose duration ffprobe 4.0.2 estimates from the bit rate: CBR ADTS, a quality-mode
    // ADTS with a quiet (cheap) start, AMR-NB, AMR-WB, and AMR-NB with DTX (0.5 s tone, then 3.5 s of silence
    // coded as SID/NO_DATA frames).
    ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=4.5:sample_rate=44100', '-c:a', 'aac', '-b:a', '96k', f('cbr.aac')),
    ffmpeg('-f', 'lavfi', '-i', 'aevalsrc=if(lt(t\\,0.5)\\,0\\,0.5*sin(2*PI*440*t)):s=44100:d=1', '-c:a', 'aac', '-q:a', '0.5', f('vbr.aac')),
    ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=3:sample_rate=8000', '-c:a', 'libopencore_amrnb', '-b:a', '7.4k', f('nb.amr')),
    ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=3:sample_rate=16000', '-c:a', 'libvo_amrwbenc', '-b:a', '23.85k', f('wb.amr')),
    ffmpeg('-f', 'lavfi', '-i', 'aevalsrc=if(lt(t\\,0.5)\\,0.5*sin(2*PI*440*t)\\,0):s=8000:d=4', '-c:a', 'libopencore_amrnb', '-dtx', '1', '-b:a', '12.2k', f('dtx.amr')),
    // Rotation marker: a white 16x8 box in the top-left corner of a black 64x32 picture.
    ffmpeg('-f', 'lavfi', '-i', 'color=c=black:s=64x32:r=25:d=0.2', '-vf', 'drawbox=x=0:y=0:w=16:h=8:color=white:t=fill', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', f('marker.mp4')),
    writeFile(f('empty.mp3'), ''),
    writeFile(f('text.mp3'), 'This is a plain text file, not an MP3 at all.\n'.repeat(20)),
  ]);
  // Rotation: this 2018 build drops `-metadata:s:v rotate=` when encoding from lavfi, but applies it on a remux.
  await ffmpeg('-i', f('v.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90', f('rotated.mp4'));
  // Cover art: a PNG picture stream in an MP3 (ID3 APIC) is an attached picture, not video.
  await ffmpeg('-i', f('a.mp3'), '-f', 'lavfi', '-i', 'color=c=red:s=64x64:d=1', '-frames:v', '1', '-map', '0:a', '-map', '1:v', '-c:a', 'copy', '-c:v', 'png', '-disposition:v', 'attached_pic', f('cover.mp3'));
  await writeFile(f('truncated.mp3'), (await readFile(f('a.mp3'))).subarray(0, 200));
  await Promise.all([
    ...[90, 180, 270].map((r) => ffmpeg('-i', f('marker.mp4'), '-c', 'copy', '-metadata:s:v:0', `rotate=${r}`, f(`marker-rotate${r}.mp4`))),
    // What an iPhone writes for portrait video (QuickTime: x' = -y, y' = x, a quarter turn clockwise) and its
    // mirror image of a matrix (a quarter turn counter-clockwise).
    withMatrix(f('marker.mp4'), f('marker-iphone.mp4'), [0, 1, -1, 0]),
    withMatrix(f('marker.mp4'), f('marker-ccw.mp4'), [0, -1, 1, 0]),
    copyFile(f('sine.wav'), f('-a:b.wav')),
    ffmpeg('-i', f('av.mp4'), '-c', 'copy', '-f', 'dash', '-seg_duration', '1', f('m.mpd')),
  ]);
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
    // Where the tracks end (2 s), not the movie header's 2.024 s (the 2018 muxer counts the AAC priming there).
    assert.ok(Math.abs(info.durationSec - 2) < 0.001, String(info.durationSec));
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

  it('reports the coded size and a quarter turn for a rotate=90 remux', async () => {
    const info = await probe(FFPROBE, f('rotated.mp4'));
    assert.ok([90, 270].includes(info.video?.rotation ?? -1), String(info.video?.rotation));
    assert.equal(info.video?.width, 320, 'coded size, before rotation');
    assert.equal(info.video?.height, 240);
  });

  // The rotation is what ffmpeg's autorotation does to the picture: the marker in the top-left corner of the
  // coded frame must land where a clockwise turn by the probed angle puts it, in a frame of the turned size.
  // (The 2018 muxer writes `rotate=R` as the matrix of a turn by -R, which both 2018 readers then report as
  // rotate=360-R; what counts is that probe and autorotation agree. The iPhone matrix pins the absolute sense.)
  const rotations: Array<[string, number | undefined]> = [
    ['marker.mp4', 0],
    ['marker-rotate90.mp4', undefined],
    ['marker-rotate180.mp4', 180],
    ['marker-rotate270.mp4', undefined],
    ['marker-iphone.mp4', 90],
    ['marker-ccw.mp4', 270],
  ];
  for (const [name, want] of rotations) {
    it(`rotation of ${name} is the clockwise turn ffmpeg's autorotation applies`, async () => {
      const info = await probe(FFPROBE, f(name));
      const r = info.video?.rotation ?? -1;
      if (want !== undefined) assert.equal(r, want);
      assert.ok([0, 90, 180, 270].includes(r), String(r));
      const frame = await firstFrame(f(name));
      assert.deepEqual([frame.w, frame.h], r % 180 === 0 ? [64, 32] : [32, 64], 'autorotated size');
      const [u, v] = brightCentre(frame);
      const [eu, ev] = turnClockwise([8 / 64, 4 / 32], r);
      assert.ok(Math.abs(u - eu) < 0.08 && Math.abs(v - ev) < 0.08, `marker at ${u.toFixed(2)},${v.toFixed(2)}, want ${eu},${ev} for ${r}°`);
    });
  }

  // ADTS/AMR: ffprobe's duration is a bit-rate estimate (4.0.2: 4.76 s for cbr.aac, 4.54 s for the 1 s vbr.aac,
  // 1.27 s for dtx.amr); the probe counts packets instead. Truth = what the decoder gives (ADTS cannot signal
  // the encoder priming, so that is in both).
  const raw: Array<[string, string, number]> = [
    ['cbr.aac', 'aac', 1024 / 44100],
    ['vbr.aac', 'aac', 1024 / 44100],
    ['nb.amr', 'amr_nb', 160 / 8000],
    ['wb.amr', 'amr_wb', 320 / 16000],
  ];
  for (const [name, codec, frame] of raw) {
    it(`${name}: exact duration from the packet count (within one frame of the decoded length)`, async () => {
      const info = await probe(FFPROBE, f(name));
      assert.equal(info.audio?.codec, codec);
      const decoded = (await decodedSamples(f(name))) / (info.audio?.sampleRate ?? 1);
      assert.ok(Math.abs(info.durationSec - decoded) <= frame + 1e-6, `probed ${info.durationSec} s, decoded ${decoded} s`);
    });
  }

  it('dtx.amr (SID/NO_DATA frames): 4 s within one frame', async () => {
    // The 2018 decoder cannot decode SID frames, so the truth here is the 4 s the encoder was fed.
    const info = await probe(FFPROBE, f('dtx.amr'));
    assert.equal(info.audio?.codec, 'amr_nb');
    assert.ok(Math.abs(info.durationSec - 4) <= 0.02 + 1e-6, String(info.durationSec));
  });

  it('the packet count shares the wall-clock limit', async () => {
    await assert.rejects(probe(FFPROBE, f('cbr.aac'), { timeoutMs: 1, displayName: 'x.aac' }), (e) => assertUnreadable(e, 'x.aac', 'did not finish'));
  });

  it('reads a file whose name has a colon and a leading dash', async () => {
    const info = await probe(FFPROBE, f('-a:b.wav'));
    assert.equal(info.formatName, 'wav');
  });

  it('refuses a DASH manifest as a source', async () => {
    await assert.rejects(probe(FFPROBE, f('m.mpd'), { displayName: 'oss://bkt/m.mpd' }), (e) =>
      assertUnreadable(e, 'oss://bkt/m.mpd', 'a DASH manifest (MPD); playlists, manifests and scripts that name other files are not accepted as sources'),
    );
  });

  it('reads a DASH manifest and its segments when it is Medley\'s own output (local files only)', async () => {
    const info = await probe(FFPROBE, f('m.mpd'), { ownOutput: { segments: 'dash' } });
    assert.equal(info.formatName, 'dash');
    assert.equal(info.video?.codec, 'h264');
    assert.equal(info.audio?.codec, 'aac');
    assert.ok(Math.abs(info.durationSec - 2) < 0.05, String(info.durationSec));
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
      assertUnreadable(e, 'oss://bkt/text.mp3', 'could not be read as media: it is a text file'),
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
    ['mp4 duration: where the last track ends, not the movie header', () => one([{ ...audio, duration: '2.000000', start_time: '0.000000' }, video({ duration: '2.000000', start_time: '0.000000' })], { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '2.024000', start_time: '0.000000' }).durationSec, 2],
    ['mp4 duration: track start times count', () => one([{ ...audio, duration: '2.0', start_time: '0' }, video({ duration: '2.0', start_time: '0.1' })], { format_name: 'mov,mp4', duration: '2.2', start_time: '0' }).durationSec, 2.1],
    ['mp4 duration: movie header when a track has none', () => one([{ ...audio, duration: undefined }, video()], { format_name: 'mov,mp4', duration: '4.5' }).durationSec, 4.5],
    ['other containers keep the format duration', () => one([{ ...audio, duration: '2.0' }, video({ duration: '2.0' })], { format_name: 'matroska,webm', duration: '2.021' }).durationSec, 2.021],
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

  it('packetSeconds / streamToCount: raw ADTS and AMR only', () => {
    assert.equal(packetSeconds('aac', { codec_name: 'aac', sample_rate: '44100', profile: 'LC' }), 1024 / 44100);
    assert.equal(packetSeconds('aac', { codec_name: 'aac', sample_rate: '44100', profile: 'HE-AAC' }), 2048 / 44100);
    assert.equal(packetSeconds('aac', { codec_name: 'aac', sample_rate: '48000', profile: 'HE-AACv2' }), 2048 / 48000);
    assert.equal(packetSeconds('amr', { codec_name: 'amr_nb', sample_rate: '8000' }), 0.02);
    assert.equal(packetSeconds('amr', { codec_name: 'amr_wb', sample_rate: '16000' }), 0.02);
    assert.equal(packetSeconds('mov,mp4,m4a,3gp,3g2,mj2', { codec_name: 'aac', sample_rate: '44100' }), undefined);
    assert.equal(packetSeconds('mp3', { codec_name: 'mp3', sample_rate: '44100' }), undefined);
    assert.equal(packetSeconds('aac', { codec_name: 'aac', sample_rate: 'N/A' }), undefined);
    const adts = { index: 0, codec_type: 'audio', codec_name: 'aac', sample_rate: '44100' };
    assert.deepEqual(streamToCount({ streams: [adts], format: { format_name: 'aac' } }), { index: 0, secondsPerPacket: 1024 / 44100 });
    assert.equal(streamToCount({ streams: [adts], format: { format_name: 'mov,mp4' } }), undefined);
    assert.equal(streamToCount({ streams: [adts, video()], format: { format_name: 'aac' } }), undefined);
    assert.equal(streamToCount('garbage'), undefined);
  });

  it('parseRate / parseSar', () => {
    assert.equal(parseRate('25/1'), 25);
    assert.equal(parseRate('24'), 24);
    assert.equal(parseRate('0/0'), undefined);
    assert.equal(parseRate('1/0'), undefined);
    assert.deepEqual(parseSar('4:3'), [4, 3]);
    assert.deepEqual(parseSar('N/A'), [1, 1]);
  });
});
