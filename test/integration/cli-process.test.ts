/**
 * `medley process` end to end on the seeds' examples: fixtures generated with FFmpeg (tones of distinct
 * frequencies and known durations), the real CLI run as a process, outputs checked with ffprobe and
 * decoded audio (order of the clips, their lengths, no silence at the joins).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertToneSequence, audioStream, decode, ffmpeg, ffprobe, tone, videoStream } from '../support/media.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
let dir: string;

function medley(args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, 'process', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, MEDLEY_FFMPEG: '', MEDLEY_FFPROBE: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-cli-'));
  // The seed 001 clips, each a distinct tone; lengths chosen so every trim of the example applies.
  tone(join(dir, 'pre1.mp3'), 300, 3, ['-ar', '22050', '-c:a', 'libmp3lame']);
  tone(join(dir, 'pre2.wav'), 500, 3, ['-ac', '2']);
  tone(join(dir, 'example.oga'), 700, 4, ['-c:a', 'libvorbis']);
  tone(join(dir, 'sur1.aac'), 900, 16, ['-ar', '44100', '-c:a', 'aac']);
  tone(join(dir, 'sur2.wma'), 1100, 14, ['-ar', '44100', '-c:a', 'wmav2']);
  tone(join(dir, 'long.flac'), 440, 13, ['-ar', '44100', '-c:a', 'flac']);
});
after(async () => rm(dir, { recursive: true, force: true }));

describe('audio/concat (seed 001)', () => {
  test('the worked example: pre1, pre2 (first 2 s), example.oga, sur1 (4–14 s), sur2 (10 s to the end) to aac 44.1 kHz mono', () => {
    const s = 'audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2/pre,o_cHJlMS5tcDMK/pre,o_cHJlMi53YXYK,t_2000/sur,o_c3VyMS5hYWMK,ss_4000,t_10000/sur,o_c3VyMi53bWEK,ss_10000|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0';
    const r = medley([s, '--dir', dir, '--source', 'example.oga']);
    assert.equal(r.code, 0, r.stderr);
    const out = join(dir, 'outobj.aac');
    assert.ok(existsSync(out), 'saveas name with {autoext} expanded');
    const a = audioStream(ffprobe(out))!;
    assert.equal(a.codec_name, 'aac');
    assert.equal(a.sample_rate, '44100');
    assert.equal(a.channels, 1);
    const pcm = decode(out, 44100);
    // ADTS cannot signal the encoder's priming: allow one AAC frame (1024 samples) beyond the sum.
    const seconds = pcm.length / 44100;
    assert.ok(seconds >= 23 - 0.03 && seconds <= 23 + 0.06, `decoded ${seconds} s, expected 23 s`);
    assertToneSequence(pcm.subarray(0), 44100, [
      { freq: 300, seconds: 3 },
      { freq: 500, seconds: 2 },
      { freq: 700, seconds: 4 },
      { freq: 900, seconds: 10 },
      { freq: 1100, seconds: 4 - 0.05 },
    ]);
  });

  test('to mp3 with the defaults of the align clip (sample rate from pre2.wav, channels too)', () => {
    const s = `audio/concat,f_mp3,ab_128000,align_1/pre,o_${b64('pre1.mp3')}/pre,o_${b64('pre2.wav')}|sys/saveas,o_${b64('joined.{autoext}')}`;
    const r = medley([s, '--dir', dir, '--source', 'example.oga']);
    assert.equal(r.code, 0, r.stderr);
    const j = ffprobe(join(dir, 'joined.mp3'));
    const a = audioStream(j)!;
    assert.equal(a.codec_name, 'mp3');
    assert.equal(a.sample_rate, '48000', 'pre2.wav was generated at 48 kHz');
    assert.equal(a.channels, 2);
    assert.ok(Math.abs(Number(j.format.bit_rate) - 128000) < 12800, `bit rate ${j.format.bit_rate}`);
    const pcm = decode(join(dir, 'joined.mp3'), 48000);
    assert.ok(Math.abs(pcm.length / 48000 - 10) < 0.05, `decoded ${pcm.length / 48000} s, expected 10 s`);
    assertToneSequence(pcm, 48000, [
      { freq: 300, seconds: 3 },
      { freq: 500, seconds: 3 },
      { freq: 700, seconds: 4 },
    ]);
  });
});

describe('audio/convert (seed 002)', () => {
  test('ss_10000,t_60000 to aac: from 10 s to the end of a 13 s source', () => {
    const r = medley(['audio/convert,ss_10000,t_60000,f_aac,ab_96000', '--dir', dir, '--source', 'long.flac', '--out', join(dir, 'cut.aac')]);
    assert.equal(r.code, 0, r.stderr);
    const pcm = decode(join(dir, 'cut.aac'), 44100);
    assert.ok(Math.abs(pcm.length / 44100 - 3) < 0.06, `decoded ${pcm.length / 44100} s`);
  });

  test('f_opus,ab_96000,ar_48000,ac_2', () => {
    const r = medley([`audio/convert,f_opus,ab_96000,ar_48000,ac_2|sys/saveas,o_${b64('converted.{autoext}')}`, '--dir', dir, '--source', 'pre1.mp3']);
    assert.equal(r.code, 0, r.stderr);
    const a = audioStream(ffprobe(join(dir, 'converted.opus')))!;
    assert.equal(a.codec_name, 'opus');
    assert.equal(a.channels, 2);
    const pcm = decode(join(dir, 'converted.opus'), 48000);
    assert.ok(Math.abs(pcm.length / 48000 - 3) < 0.03);
    assertToneSequence(pcm, 48000, [{ freq: 300, seconds: 3 }]);
  });
});

describe('IMM CreateMediaConvertTask (seed 000) through --imm', () => {
  test('head + test + tail to aac 44.1 kHz stereo 96 kb/s, align 1', async () => {
    await mkdir(join(dir, 'video-demo'), { recursive: true });
    tone(join(dir, 'video-demo/head.mp3'), 400, 1, ['-c:a', 'libmp3lame']);
    tone(join(dir, 'video-demo/test.mp3'), 800, 2, ['-c:a', 'libmp3lame']);
    tone(join(dir, 'video-demo/tail.mp3'), 1200, 1, ['-c:a', 'libmp3lame']);
    const request = {
      ProjectName: 'test-project',
      AlignmentIndex: 1,
      Notification: { MNS: { TopicName: 'test-mns-topic' } },
      Sources: [{ URI: 'oss://test-bucket/video-demo/head.mp3' }, { URI: 'oss://test-bucket/video-demo/test.mp3' }, { URI: 'oss://test-bucket/video-demo/tail.mp3' }],
      Targets: [{ Audio: { TranscodeAudio: { Bitrate: 96000, Channel: 2, Codec: 'aac', SampleRate: 44100 } }, Container: 'aac', URI: 'oss://test-bucket/video-demo/concat.{autoext}' }],
    };
    await writeFile(join(dir, 'request.json'), JSON.stringify(request));
    const r = medley(['--imm', join(dir, 'request.json'), '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    const out = join(dir, 'video-demo/concat.aac');
    const a = audioStream(ffprobe(out))!;
    assert.equal(a.sample_rate, '44100');
    assert.equal(a.channels, 2);
    assertToneSequence(decode(out, 44100), 44100, [
      { freq: 400, seconds: 1 },
      { freq: 800, seconds: 2 },
      { freq: 1200, seconds: 1 - 0.05 },
    ]);
  });
});

describe('IMM CreateMediaConvertTask (seed 000, second example) through --imm', () => {
  test('test + test1 to mp3 128 kb/s stereo 44.1 kHz, align 0', async () => {
    await mkdir(join(dir, 'video-demo'), { recursive: true });
    tone(join(dir, 'video-demo/test1.mp3'), 600, 2, ['-ar', '22050', '-c:a', 'libmp3lame']);
    if (!existsSync(join(dir, 'video-demo/test.mp3'))) tone(join(dir, 'video-demo/test.mp3'), 800, 2, ['-c:a', 'libmp3lame']);
    const request = {
      ProjectName: 'test-project',
      AlignmentIndex: 0,
      Notification: { MNS: { TopicName: 'test-mns-topic' } },
      Sources: [{ URI: 'oss://test-bucket/video-demo/test.mp3' }, { URI: 'oss://test-bucket/video-demo/test1.mp3' }],
      Targets: [{ Audio: { TranscodeAudio: { Bitrate: 128000, Channel: 2, Codec: 'mp3', SampleRate: 44100 } }, Container: 'mp3', URI: 'oss://test-bucket/video-demo/concat.{autoext}' }],
    };
    await writeFile(join(dir, 'request2.json'), JSON.stringify(request));
    const r = medley(['--imm', join(dir, 'request2.json'), '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    const out = join(dir, 'video-demo/concat.mp3');
    const j = ffprobe(out);
    const a = audioStream(j)!;
    assert.equal(a.codec_name, 'mp3');
    assert.equal(a.sample_rate, '44100');
    assert.equal(a.channels, 2);
    assert.ok(Math.abs(Number(j.format.bit_rate) - 128000) < 12800, `bit rate ${j.format.bit_rate}`);
    const pcm = decode(out, 44100);
    assert.ok(Math.abs(pcm.length / 44100 - 4) < 0.03, `decoded ${pcm.length / 44100} s, expected 4 s`);
    assertToneSequence(pcm, 44100, [
      { freq: 800, seconds: 2 },
      { freq: 600, seconds: 2 - 0.05 },
    ]);
  });
});

describe('video/concat (seed 003)', () => {
  test('pre.mov (whole), example.mkv from 10 s, sur.mov first 10 s: h264 25 fps, aac 48 kHz stereo, size of the align clip', () => {
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30:duration=2', '-f', 'lavfi', '-i', 'sine=frequency=500:duration=2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', join(dir, 'pre.mov')]);
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=480x270:rate=25:duration=12', '-f', 'lavfi', '-i', 'sine=frequency=700:duration=12', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'libvorbis', '-shortest', join(dir, 'example.mkv')]);
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=24:duration=12', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', join(dir, 'sur.mov')]);
    const s = `video/concat,ss_10000,f_mp4,vcodec_h264,fps_25,vb_1000000,acodec_aac,ab_96000,ar_48000,ac_2,align_1/pre,o_${b64('pre.mov\n')}/sur,o_${b64('sur.mov')},t_10000|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQo`;
    const r = medley([s, '--dir', dir, '--source', 'example.mkv']);
    assert.equal(r.code, 0, r.stderr);
    const j = ffprobe(join(dir, 'outobj.mp4'), ['-count_frames']);
    const v = videoStream(j)!;
    const a = audioStream(j)!;
    assert.equal(v.codec_name, 'h264');
    assert.equal(v.width, 480);
    assert.equal(v.height, 270);
    assert.equal(v.r_frame_rate, '25/1');
    assert.equal(Number(v.nb_read_frames), 14 * 25, 'pre 2 s + example 2 s + sur 10 s at 25 fps');
    assert.equal(a.codec_name, 'aac');
    assert.equal(a.sample_rate, '48000');
    assert.equal(a.channels, 2);
    assert.ok(Math.abs(Number(a.duration) - Number(v.duration)) < 0.05, `audio ${a.duration} s vs video ${v.duration} s`);
    const pcm = decode(join(dir, 'outobj.mp4'), 48000);
    assertToneSequence(pcm.subarray(0, 4 * 48000), 48000, [
      { freq: 500, seconds: 2 },
      { freq: 700, seconds: 2 - 0.05 },
    ]);
  });
});

describe('refusals: before any FFmpeg run, with the code and the offending token', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['mp3 above 48 kHz', ['audio/convert,f_mp3,ar_96000', '--source', 'pre1.mp3', '--out', '/dev/null'], /InvalidArgument.*ar_96000|96000/],
    ['ab with aq', ['audio/convert,f_mp3,ab_96000,aq_50', '--source', 'pre1.mp3', '--out', '/dev/null'], /InvalidArgument.*(ab|aq)/],
    ['unknown action', ['audio/explode,f_mp3', '--source', 'pre1.mp3', '--out', '/dev/null'], /InvalidArgument.*audio\/explode/],
    ['a clip name escaping the folder', [`audio/concat,f_mp3/pre,o_${b64('../../etc/passwd')}`, '--source', 'pre1.mp3', '--out', '/dev/null'], /outside the folder/],
    ['a missing clip', [`audio/concat,f_mp3/pre,o_${b64('nothere.mp3')}`, '--source', 'pre1.mp3', '--out', '/dev/null'], /nothere\.mp3 does not exist/],
    ['no output named', ['audio/convert,f_mp3', '--source', 'pre1.mp3'], /sys\/saveas|--out/],
  ];
  for (const [name, args, message] of cases) {
    test(name, () => {
      const r = medley([...args.slice(0, 1), '--dir', dir, ...args.slice(1)]);
      assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
    });
  }

  test('a corrupt source fails with a clear code naming it', async () => {
    await writeFile(join(dir, 'corrupt.mp3'), 'this is not audio at all, just text pretending');
    const r = medley(['audio/convert,f_mp3', '--dir', dir, '--source', 'corrupt.mp3', '--out', join(dir, 'never.mp3')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /InvalidFile\.Media.*corrupt\.mp3/);
    assert.ok(!existsSync(join(dir, 'never.mp3')));
  });
});

describe('output names: the server\'s naming (src/media/output-name.ts), not a copy of it', () => {
  test('{dirname}/{barename}_{resolution}.{autoext} names the video by its configured size', () => {
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', join(dir, 'sized.mp4')]);
    const s = `video/convert,f_mp4,vcodec_h264,s_160x120,an_1|sys/saveas,o_${b64('{dirname}/{barename}_{resolution}.{autoext}')}`;
    const r = medley([s, '--dir', dir, '--source', 'sized.mp4']);
    assert.equal(r.code, 0, r.stderr);
    const v = videoStream(ffprobe(join(dir, 'sized_160x120.mp4')))!;
    assert.equal(v.width, 160);
    assert.equal(v.height, 120);
  });

  test('{dirname}/{barename}.{autoext} of a source at the folder root: clip.mp3, not "/clip.mp3"', () => {
    tone(join(dir, 'rootclip.wav'), 440, 1);
    const r = medley([`audio/convert,f_mp3|sys/saveas,o_${b64('{dirname}/{barename}.{autoext}')}`, '--dir', dir, '--source', 'rootclip.wav']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(audioStream(ffprobe(join(dir, 'rootclip.mp3')))!.codec_name, 'mp3');
  });

  test('HLS: the segment files are named after the playlist and sit beside it, as their objects do on the server', async () => {
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25:duration=3', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', join(dir, 'seg.mp4')]);
    const s = `video/convert,f_ts,vcodec_h264,fps_25,an_1/segment,f_hls,t_1000|sys/saveas,o_${b64('hls/{barename}.{autoext}')}`;
    const r = medley([s, '--dir', dir, '--source', 'seg.mp4']);
    assert.equal(r.code, 0, r.stderr);
    const playlist = await readFile(join(dir, 'hls/seg.m3u8'), 'utf8');
    const segments = playlist.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.ok(segments.length >= 3, playlist);
    for (const f of segments) {
      assert.match(f, /^seg-\d{5}\.ts$/);
      assert.ok(existsSync(join(dir, 'hls', f)), `${f} beside the playlist`);
    }
  });
});

test('--explain prints inputs, decisions and the exact command, and writes nothing', () => {
  const s = `audio/concat,f_mp3,ar_44100,ac_1/pre,o_${b64('pre1.mp3')}|sys/saveas,o_${b64('explained.{autoext}')}`;
  const r = medley([s, '--dir', dir, '--source', 'example.oga', '--explain']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /0 \(align\): pre1\.mp3 — mp3/);
  assert.match(r.stdout, /1 \(align\)|0 \(align\)/);
  assert.match(r.stdout, /Decisions:/);
  assert.match(r.stdout, /ffmpeg .*-protocol_whitelist file .*-i .*pre1\.mp3.*-c:a libmp3lame/);
  assert.ok(!existsSync(join(dir, 'explained.mp3')));
});

describe('hostile sources', () => {
  test('a truncated MP3 (its header promises 3 s) fails as InvalidFile.Media, exit 2, naming it and what is wrong', async () => {
    const full = tone(join(dir, 'full3.mp3'), 440, 3, ['-ar', '44100', '-c:a', 'libmp3lame']);
    await writeFile(join(dir, 'cut.mp3'), (await readFile(full)).subarray(0, 1000));
    for (const s of ['audio/convert,f_mp3', 'audio/concat,f_aac/sur,o_' + b64('pre1.mp3')]) {
      const r = medley([s, '--dir', dir, '--source', 'cut.mp3', '--out', join(dir, 'cut-out.mp3')]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^error: InvalidFile\.Media: cut\.mp3 could not be read as media: truncated: decodes \d\.\d{3} s of the 3\.\d{3} s its header declares\n$/);
      assert.ok(!r.stderr.includes(tmpdir()), `no local path in ${r.stderr}`);
      assert.equal(existsSync(join(dir, 'cut-out.mp3')), false);
    }
  });

  test('an HLS playlist named .mp3 is refused before FFmpeg sees it (exit 2)', async () => {
    await writeFile(join(dir, 'leak.mp3'), `#EXTM3U\n#EXTINF:3,\n${join(dir, 'pre1.mp3')}\n#EXT-X-ENDLIST\n`);
    const r = medley(['audio/convert,f_mp3', '--dir', dir, '--source', 'leak.mp3', '--out', join(dir, 'leak-out.mp3')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: InvalidFile\.Media: leak\.mp3 could not be read as media: it is an HLS\/M3U playlist \(#EXTM3U\); playlists, manifests and scripts that name other files are not accepted as sources\n$/);
    assert.equal(existsSync(join(dir, 'leak-out.mp3')), false);
  });
});
