// ffprobe JSON -> IMM DetectMediaMeta (the body of x-oss-process=video/info and audio/info, spec oss.md §5.1).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FFPROBE, ffmpeg, ffprobe, tone } from '../support/media.js';
import { probeDetailed } from '../../src/media/engine/probe.js';
import { iso6709ToLatLong, normaliseProduceTime, notAudioVisual, toDetectMediaMeta, type DetectMediaMeta } from '../../src/media/media-meta.js';
import { MedleyError } from '../../src/errors.js';

const REQUEST_ID = '1D99637F-F59E-5B41-9200-C4892F52ABCD';

// JSON types of the IMM SDK models (DetectMediaMetaResponseBody, VideoStream, AudioStream, SubtitleStream):
// int64 -> whole number, float64 -> number, string -> string.
type Kind = 'int' | 'float' | 'string' | 'array';
const TOP: Record<string, Kind> = {
  RequestId: 'string', Size: 'int', Duration: 'float', FormatName: 'string', FormatLongName: 'string', StartTime: 'float', Bitrate: 'int',
  StreamCount: 'int', ProgramCount: 'int', Title: 'string', Artist: 'string', Album: 'string', AlbumArtist: 'string', Composer: 'string',
  Performer: 'string', Language: 'string', ProduceTime: 'string', LatLong: 'string', VideoWidth: 'int', VideoHeight: 'int',
  VideoStreams: 'array', AudioStreams: 'array', Subtitles: 'array',
};
const VIDEO: Record<string, Kind> = {
  Index: 'int', Language: 'string', CodecName: 'string', CodecLongName: 'string', Profile: 'string', CodecTimeBase: 'string', CodecTagString: 'string',
  CodecTag: 'string', Width: 'int', Height: 'int', HasBFrames: 'int', SampleAspectRatio: 'string', DisplayAspectRatio: 'string', PixelFormat: 'string',
  Level: 'int', BitDepth: 'int', ColorRange: 'string', ColorSpace: 'string', ColorTransfer: 'string', ColorPrimaries: 'string', FrameRate: 'string',
  AverageFrameRate: 'string', TimeBase: 'string', StartTime: 'float', Duration: 'float', Bitrate: 'int', FrameCount: 'int', Rotate: 'string',
};
const AUDIO: Record<string, Kind> = {
  Index: 'int', Language: 'string', CodecName: 'string', CodecLongName: 'string', CodecTimeBase: 'string', CodecTagString: 'string', CodecTag: 'string',
  TimeBase: 'string', StartTime: 'float', Duration: 'float', FrameCount: 'int', Bitrate: 'int', SampleFormat: 'string', SampleRate: 'int',
  Channels: 'int', ChannelLayout: 'string', Lyric: 'string',
};
const SUBTITLE: Record<string, Kind> = {
  Index: 'int', Language: 'string', CodecName: 'string', CodecLongName: 'string', CodecTagString: 'string', CodecTag: 'string', StartTime: 'float',
  Duration: 'float', Bitrate: 'int', Width: 'int', Height: 'int',
};

function checkKinds(where: string, o: object, schema: Record<string, Kind>, required: readonly string[]): void {
  for (const [k, v] of Object.entries(o)) {
    const kind = schema[k];
    assert.ok(kind, `${where}: unexpected field ${k}`);
    if (kind === 'int') assert.ok(Number.isInteger(v), `${where}.${k} = ${JSON.stringify(v)} is not a whole number`);
    if (kind === 'float') assert.ok(typeof v === 'number' && Number.isFinite(v), `${where}.${k} = ${JSON.stringify(v)} is not a number`);
    if (kind === 'string') assert.equal(typeof v, 'string', `${where}.${k}`);
    if (kind === 'array') assert.ok(Array.isArray(v), `${where}.${k}`);
  }
  for (const k of required) assert.ok(k in o, `${where}: missing ${k}`);
}

/** Every field of the right JSON type; every top-level field present; the JSON round-trips. */
function assertWellTyped(m: DetectMediaMeta): void {
  checkKinds('body', m, TOP, Object.keys(TOP));
  m.VideoStreams.forEach((s, i) => checkKinds(`VideoStreams[${i}]`, s, VIDEO, ['Index']));
  m.AudioStreams.forEach((s, i) => checkKinds(`AudioStreams[${i}]`, s, AUDIO, ['Index']));
  m.Subtitles.forEach((s, i) => checkKinds(`Subtitles[${i}]`, s, SUBTITLE, ['Index']));
  assert.deepEqual(JSON.parse(JSON.stringify(m)), m);
}

const near = (actual: number | undefined, expected: number, tolerance: number, what: string) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= tolerance, `${what}: ${String(actual)} is not within ${tolerance} of ${expected}`);

let dir = '';
const f = (name: string): string => join(dir, name);

async function meta(file: string, size = 1234): Promise<DetectMediaMeta> {
  const { info, json } = await probeDetailed(FFPROBE, file);
  return toDetectMediaMeta(json, { requestId: REQUEST_ID, size, durationSec: info.durationSec });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-media-meta-'));
  // 1 s mp3 with ID3 tags.
  tone(f('tone.mp3'), 440, 1, [
    '-c:a', 'libmp3lame', '-ar', '44100', '-ac', '2', '-b:a', '128k',
    '-metadata', 'title=Tone', '-metadata', 'artist=Medley', '-metadata', 'album=Tests', '-metadata', 'album_artist=Various',
    '-metadata', 'composer=Composer', '-metadata', 'performer=Performer', '-metadata', 'language=eng',
  ]);
  // 1 s mp4, h264 320x240 @ 25 fps + aac 48 kHz mono, with a creation time, a place and a title.
  ffmpeg([
    '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=1', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1:sample_rate=48000',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k',
    '-metadata', 'title=Clip', '-metadata', 'creation_time=2022-04-24T02:39:57Z', '-metadata', 'location=+30.2831+120.0290/',
    '-metadata:s:a:0', 'language=eng', '-shortest', f('clip.mp4'),
  ]);
  // The same with a display rotation (this 2018 build applies it on a remux only).
  ffmpeg(['-i', f('clip.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90', f('rotated.mp4')]);
  // Matroska with a subtitle stream (Chinese) next to the video and audio.
  await writeFile(f('subs.srt'), '1\n00:00:00,000 --> 00:00:00,800\nHello\n');
  ffmpeg(['-i', f('clip.mp4'), '-i', f('subs.srt'), '-map', '0', '-map', '1', '-c:v', 'copy', '-c:a', 'copy', '-c:s', 'srt', '-metadata:s:s:0', 'language=chi', f('subs.mkv')]);
  await writeFile(f('not-media.mp4'), 'this is plain text, not a video\n'.repeat(100));
  // Files ffprobe reads although they are not audio or video.
  await writeFile(f('notes.txt'), 'hello\n');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x64:duration=0.04', '-frames:v', '1', f('still.png')]);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x64:duration=0.04', '-frames:v', '1', f('still.jpg')]);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=5:duration=1', f('anim.gif')]);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('real ffprobe output', () => {
  test('1 s mp3 (audio/info): tags, one audio stream, no video', async () => {
    const m = await meta(f('tone.mp3'), 17000);
    assertWellTyped(m);
    assert.equal(m.RequestId, REQUEST_ID);
    assert.equal(m.Size, 17000, 'Size is the object size');
    assert.equal(m.FormatName, 'mp3');
    assert.equal(m.FormatLongName, 'MP2/3 (MPEG audio layer 2/3)');
    near(m.Duration, 1, 0.06, 'Duration');
    assert.ok(m.Bitrate > 100_000 && m.Bitrate < 200_000, `Bitrate ${m.Bitrate}`);
    assert.equal(m.StreamCount, 1);
    assert.equal(m.ProgramCount, 0);
    assert.deepEqual(
      [m.Title, m.Artist, m.Album, m.AlbumArtist, m.Composer, m.Performer, m.Language],
      ['Tone', 'Medley', 'Tests', 'Various', 'Composer', 'Performer', 'eng'],
    );
    assert.equal(m.ProduceTime, '');
    assert.equal(m.LatLong, '');
    assert.equal(m.VideoWidth, 0);
    assert.equal(m.VideoHeight, 0);
    assert.deepEqual(m.VideoStreams, []);
    assert.deepEqual(m.Subtitles, []);
    assert.equal(m.AudioStreams.length, 1);
    const a = m.AudioStreams[0]!;
    assert.equal(a.Index, 0);
    assert.equal(a.CodecName, 'mp3');
    assert.equal(a.CodecLongName, 'MP3 (MPEG audio layer 3)');
    assert.equal(a.SampleRate, 44100);
    assert.equal(a.Channels, 2);
    assert.equal(a.ChannelLayout, 'stereo');
    assert.equal(a.SampleFormat, 'fltp');
    assert.equal(a.Bitrate, 128000);
    assert.equal(a.TimeBase, '1/14112000');
    near(a.Duration, 1, 0.06, 'audio Duration');
  });

  test('1 s mp4 h264 + aac (video/info): streams, size, production time and place', async () => {
    const m = await meta(f('clip.mp4'));
    assertWellTyped(m);
    assert.equal(m.FormatName, 'mov,mp4,m4a,3gp,3g2,mj2');
    assert.equal(m.FormatLongName, 'QuickTime / MOV');
    near(m.Duration, 1, 0.03, 'Duration (edit-list corrected)');
    assert.equal(m.StartTime, 0);
    assert.equal(m.StreamCount, 2);
    assert.equal(m.Title, 'Clip');
    assert.equal(m.Language, 'eng', 'the first stream language that is not "und"');
    assert.equal(m.ProduceTime, '2022-04-24T02:39:57Z');
    assert.equal(m.LatLong, '+30.2831,+120.0290');
    assert.equal(m.VideoWidth, 320);
    assert.equal(m.VideoHeight, 240);

    assert.equal(m.VideoStreams.length, 1);
    const v = m.VideoStreams[0]!;
    assert.equal(v.Index, 0);
    assert.equal(v.CodecName, 'h264');
    assert.equal(v.CodecLongName, 'H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10');
    assert.equal(v.Profile, 'High');
    assert.equal(v.CodecTagString, 'avc1');
    assert.equal(v.CodecTag, '0x31637661');
    assert.equal(v.Width, 320);
    assert.equal(v.Height, 240);
    assert.equal(v.PixelFormat, 'yuv420p');
    assert.equal(v.SampleAspectRatio, '1:1');
    assert.equal(v.DisplayAspectRatio, '4:3');
    assert.equal(v.FrameRate, '25/1');
    assert.equal(v.AverageFrameRate, '25/1');
    assert.equal(v.TimeBase, '1/12800');
    assert.equal(v.FrameCount, 25);
    assert.equal(v.BitDepth, 8);
    assert.equal(typeof v.HasBFrames, 'number');
    assert.equal(typeof v.Level, 'number');
    assert.equal(v.Language, undefined, '"und" is no language');
    assert.equal(v.Rotate, undefined, 'no rotation metadata');
    assert.equal(v.Duration, 1);
    assert.ok((v.Bitrate ?? 0) > 0);

    assert.equal(m.AudioStreams.length, 1);
    const a = m.AudioStreams[0]!;
    assert.equal(a.Index, 1);
    assert.equal(a.CodecName, 'aac');
    assert.equal(a.CodecTagString, 'mp4a');
    assert.equal(a.SampleRate, 48000);
    assert.equal(a.Channels, 1);
    assert.equal(a.ChannelLayout, 'mono');
    assert.equal(a.Language, 'eng');
    assert.ok((a.FrameCount ?? 0) > 40);
  });

  test('a rotated mp4: Rotate on the stream, displayed size at the top level', async () => {
    const m = await meta(f('rotated.mp4'));
    assertWellTyped(m);
    const v = m.VideoStreams[0]!;
    assert.equal(v.Width, 320, 'stream size is the coded size');
    assert.equal(v.Height, 240);
    // The 2018 muxer stores rotate=90 as a -90 matrix, read back as a 270° clockwise turn (see probe.test.ts).
    assert.equal(v.Rotate, '270');
    assert.equal(m.VideoWidth, 240);
    assert.equal(m.VideoHeight, 320);
  });

  test('matroska with a subtitle stream', async () => {
    const m = await meta(f('subs.mkv'));
    assertWellTyped(m);
    assert.equal(m.FormatName, 'matroska,webm');
    assert.equal(m.StreamCount, 3);
    assert.equal(m.VideoStreams.length, 1);
    assert.equal(m.AudioStreams.length, 1);
    assert.equal(m.Subtitles.length, 1);
    const s = m.Subtitles[0]!;
    assert.equal(s.Index, 2);
    assert.equal(s.CodecName, 'subrip');
    assert.equal(s.Language, 'chi');
  });

  test('a non-media object cannot be probed: MediaUnreadable (400 InvalidArgument on OSS)', async () => {
    await assert.rejects(probeDetailed(FFPROBE, f('not-media.mp4'), { displayName: 'oss://b/not-media.mp4' }), (e: unknown) => {
      assert.ok(e instanceof MedleyError);
      assert.equal(e.status, 400);
      assert.equal(e.code, 'InvalidArgument');
      assert.match(e.message, /^oss:\/\/b\/not-media\.mp4 could not be read as media/);
      return true;
    });
  });
});

describe('notAudioVisual: what ffprobe reads but video/info refuses', () => {
  const cases: Array<[string, RegExp | undefined]> = [
    ['notes.txt', /^it is text \(ffprobe reads it as .*tty\)$/],
    ['still.png', /^it is a still image \(ffprobe reads it as .*png_pipe\)$/],
    ['still.jpg', /^it is a still image \(ffprobe reads it as .*image2\)$/],
    ['anim.gif', undefined],
    ['tone.mp3', undefined],
    ['clip.mp4', undefined],
    ['subs.mkv', undefined],
  ];
  // ffprobe's own reading (the engine's probe refuses text and images before ffprobe runs: see below).
  for (const [name, want] of cases) {
    test(name, () => {
      const why = notAudioVisual(ffprobe(f(name)));
      if (want) assert.match(why ?? '', want);
      else assert.equal(why, undefined);
    });
  }
  for (const [name, what] of [['notes.txt', /a text file/], ['still.png', /a PNG image/], ['still.jpg', /a JPEG image/], ['anim.gif', /a GIF image/]] as const) {
    test(`the engine's probe refuses ${name} from its first bytes (InvalidFile.Media)`, async () => {
      await assert.rejects(probeDetailed(FFPROBE, f(name), { displayName: name }), (e) => e instanceof MedleyError && e.entry.immCode === 'InvalidFile.Media' && what.test(e.message) && e.message.startsWith(`${name} could not be read as media`));
    });
  }
  test('garbage input', () => assert.equal(notAudioVisual(null), undefined));
});

describe('mapping rules (synthetic ffprobe JSON)', () => {
  const base = (over: Record<string, unknown> = {}, streams: unknown[] = []) => ({
    streams,
    format: { nb_streams: streams.length, nb_programs: 0, format_name: 'x', format_long_name: 'X', start_time: '0.000000', duration: '2.500000', size: '1000', bit_rate: '3200', ...over },
  });

  test('empty / garbage input still yields the full, well-typed top level', () => {
    for (const input of [undefined, null, 42, 'text', {}, { streams: 'no', format: [] }]) {
      const m = toDetectMediaMeta(input, { requestId: REQUEST_ID });
      assertWellTyped(m);
      assert.deepEqual(
        { ...m, RequestId: undefined },
        {
          RequestId: undefined, Size: 0, Duration: 0, FormatName: '', FormatLongName: '', StartTime: 0, Bitrate: 0, StreamCount: 0, ProgramCount: 0,
          Title: '', Artist: '', Album: '', AlbumArtist: '', Composer: '', Performer: '', Language: '', ProduceTime: '', LatLong: '',
          VideoWidth: 0, VideoHeight: 0, VideoStreams: [], AudioStreams: [], Subtitles: [],
        },
      );
    }
  });

  test('Size and Duration: the options win over ffprobe; ffprobe otherwise', () => {
    assert.deepEqual(
      (({ Size, Duration, Bitrate }) => ({ Size, Duration, Bitrate }))(toDetectMediaMeta(base(), { requestId: 'r' })),
      { Size: 1000, Duration: 2.5, Bitrate: 3200 },
    );
    const m = toDetectMediaMeta(base(), { requestId: 'r', size: 999, durationSec: 2.25 });
    assert.equal(m.Size, 999);
    assert.equal(m.Duration, 2.25);
  });

  test('unknown values are left out of stream items ("N/A", "0/0", "0:1", level -99)', () => {
    const m = toDetectMediaMeta(
      base({}, [
        {
          index: 0, codec_type: 'video', codec_name: 'mjpeg', width: 0, height: 0, r_frame_rate: '0/0', avg_frame_rate: '0/0', sample_aspect_ratio: '0:1',
          level: -99, bit_rate: 'N/A', nb_frames: 'N/A', duration: 'N/A', start_time: 'N/A', has_b_frames: 0, tags: { language: 'und' },
        },
      ]),
      { requestId: 'r' },
    );
    assertWellTyped(m);
    assert.deepEqual(m.VideoStreams, [{ Index: 0, CodecName: 'mjpeg', HasBFrames: 0 }]);
  });

  test('cover art is not a video stream; an MP3 file-level lyric goes to its only audio stream', () => {
    const m = toDetectMediaMeta(
      base({ tags: { TITLE: 'Song', 'lyrics-eng': 'la la' } }, [
        { index: 0, codec_type: 'audio', codec_name: 'mp3', sample_rate: '44100', channels: 2 },
        { index: 1, codec_type: 'video', codec_name: 'mjpeg', width: 500, height: 500, disposition: { attached_pic: 1 } },
      ]),
      { requestId: 'r' },
    );
    assertWellTyped(m);
    assert.equal(m.Title, 'Song', 'tags are matched case-insensitively');
    assert.deepEqual(m.VideoStreams, []);
    assert.equal(m.VideoWidth, 0);
    assert.equal(m.StreamCount, 2);
    assert.deepEqual(m.AudioStreams, [{ Index: 0, CodecName: 'mp3', SampleRate: 44100, Channels: 2, Lyric: 'la la' }]);
  });

  test('an iPhone-style portrait video: display matrix -90 → Rotate "90", displayed size swapped', () => {
    const m = toDetectMediaMeta(
      base({ tags: { 'com.apple.quicktime.creationdate': '2022-04-24T10:39:57+0800', 'com.apple.quicktime.location.ISO6709': '+30.2831+120.0290+010.000/' } }, [
        { index: 0, codec_type: 'video', codec_name: 'hevc', width: 1920, height: 1080, side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }], tags: { rotate: '90' } },
      ]),
      { requestId: 'r' },
    );
    assertWellTyped(m);
    assert.equal(m.VideoStreams[0]?.Rotate, '90');
    assert.deepEqual([m.VideoWidth, m.VideoHeight], [1080, 1920]);
    assert.equal(m.ProduceTime, '2022-04-24T02:39:57Z');
    assert.equal(m.LatLong, '+30.2831,+120.0290');
  });

  const times: Array<[string | undefined, string | undefined]> = [
    ['2022-04-24T02:39:57.000000Z', '2022-04-24T02:39:57Z'],
    ['2022-04-24T02:39:57.250000Z', '2022-04-24T02:39:57.25Z'],
    ['2022-04-24T10:39:57+0800', '2022-04-24T02:39:57Z'],
    ['2022-04-24T10:39:57+08:00', '2022-04-24T02:39:57Z'],
    ['2022-04-24 02:39:57', '2022-04-24T02:39:57Z'],
    ['2022-04-24T02:40:00Z', '2022-04-24T02:40:00Z'],
    ['2020', undefined],
    ['2022-04-24', undefined],
    ['yesterday', undefined],
    [undefined, undefined],
  ];
  for (const [input, want] of times) test(`normaliseProduceTime(${JSON.stringify(input)})`, () => assert.equal(normaliseProduceTime(input), want));

  const places: Array<[string | undefined, string | undefined]> = [
    ['+30.2831+120.0290/', '+30.2831,+120.0290'],
    ['+30.2831+120.0290+010.000/', '+30.2831,+120.0290'],
    ['-33.8688+151.2093/', '-33.8688,+151.2093'],
    ['+91.0000+000.0000/', undefined],
    ['somewhere', undefined],
    [undefined, undefined],
  ];
  for (const [input, want] of places) test(`iso6709ToLatLong(${JSON.stringify(input)})`, () => assert.equal(iso6709ToLatLong(input), want));
});
