/**
 * The sniffer: byte-level cases (pure sniffBytes), every accepted format as the bundled FFmpeg writes it
 * (sniffFile, then the engine's probe opens it with the forced demuxer), data references in QuickTime movies.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_BOXES, adtsFrameLength, mpegAudioFrameLength, refusal, sniffBytes, sniffFile, type SniffVerdict } from '../../../src/media/engine/sniff.js';
import { probe } from '../../../src/media/engine/probe.js';
import { FFPROBE, ffmpeg } from '../../support/media.js';
import { withExternalDref } from '../../support/hostile.js';

const txt = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (...xs: Array<number | string | Uint8Array>): Uint8Array =>
  Buffer.concat(xs.map((x) => (typeof x === 'number' ? Buffer.from([x]) : typeof x === 'string' ? Buffer.from(x, 'latin1') : Buffer.from(x))));
const zeros = (n: number): Uint8Array => new Uint8Array(n);

/** MPEG-1 layer 3, 128 kbit/s, 44.1 kHz, no padding: 417-byte frames. */
const MP3_HEADER = [0xff, 0xfb, 0x90, 0x64];
const mp3Frames = (n: number): Uint8Array => bytes(...Array.from({ length: n }, () => bytes(...MP3_HEADER, zeros(413))));
/** ADTS AAC-LC, 44.1 kHz, stereo, frames of `len` bytes. */
function adts(len: number): Uint8Array {
  const h = [0xff, 0xf1, 0x50, 0x80 | ((len >> 11) & 3), (len >> 3) & 0xff, ((len & 7) << 5) | 0x1f, 0xfc];
  return bytes(...h, zeros(len - 7));
}
const id3 = (size: number): Uint8Array => bytes('ID3', 4, 0, 0, (size >> 21) & 0x7f, (size >> 14) & 0x7f, (size >> 7) & 0x7f, size & 0x7f, zeros(size));
const ts = (packets: number): Uint8Array => bytes(...Array.from({ length: packets }, () => bytes(0x47, zeros(187))));

describe('sniffBytes (pure)', () => {
  const cases: Array<[string, Uint8Array, Partial<SniffVerdict> & { kind: SniffVerdict['kind'] }]> = [
    ['empty', new Uint8Array(0), { kind: 'empty' }],
    ['HLS playlist, absolute segment', txt('#EXTM3U\n#EXTINF:10,\n/etc/passwd\n#EXT-X-ENDLIST\n'), { kind: 'playlist', what: 'an HLS/M3U playlist (#EXTM3U)' }],
    ['HLS playlist after a BOM and blank lines', txt('\uFEFF\n\n  #EXTM3U\nfile:///etc/passwd\n'), { kind: 'playlist' }],
    ['HLS with EXT-X-MAP / EXT-X-KEY', txt('#EXTM3U\n#EXT-X-MAP:URI="../../../etc/passwd"\n#EXT-X-KEY:METHOD=AES-128,URI="file:///etc/hostname"\n#EXTINF:1,\na.ts\n'), { kind: 'playlist' }],
    ['HLS fragment without the header', txt('#EXT-X-VERSION:3\n#EXTINF:1,\n../x.ts\n'), { kind: 'playlist' }],
    ['ffconcat script', txt("ffconcat version 1.0\nfile '/etc/passwd'\n"), { kind: 'playlist', what: 'an FFmpeg concat script (ffconcat)' }],
    ['concat list without the header', txt("# list\nfile '/tmp/a.mp3'\nfile '/tmp/b.mp3'\n"), { kind: 'playlist' }],
    ['DASH manifest', txt('<?xml version="1.0" encoding="utf-8"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static">\n'), { kind: 'playlist', what: 'a DASH manifest (MPD)' }],
    ['DASH manifest, no XML declaration', txt('<MPD type="static"><Period/></MPD>'), { kind: 'playlist' }],
    ['PLS playlist', txt('[playlist]\nFile1=/etc/passwd\nNumberOfEntries=1\n'), { kind: 'playlist', what: 'a PLS playlist' }],
    ['concat: as content', txt('concat:/etc/passwd|/etc/hosts'), { kind: 'playlist' }],
    ['subfile: as content', txt('subfile:,start,0,end,0,:/etc/passwd'), { kind: 'playlist' }],
    ['file:// URL as content', txt('file:///etc/passwd\n'), { kind: 'playlist' }],
    ['SRT subtitles', txt('1\n00:00:01,000 --> 00:00:02,000\nHello\n'), { kind: 'text', what: 'SubRip (SRT) subtitles' }],
    ['SRT with CRLF', txt('1\r\n00:00:01,000 --> 00:00:02,000\r\nHello\r\n'), { kind: 'text', what: 'SubRip (SRT) subtitles' }],
    ['ASS subtitles', txt('[Script Info]\nTitle: x\nScriptType: v4.00+\n'), { kind: 'text', what: 'ASS/SSA subtitles' }],
    ['WebVTT', txt('WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n'), { kind: 'text', what: 'WebVTT subtitles' }],
    ['plain text', txt('This is not an MP3.\n'.repeat(10)), { kind: 'text', what: 'a text file' }],
    ['HTML', txt('<!DOCTYPE html><html><body>x</body></html>'), { kind: 'text', what: 'an XML/HTML document' }],
    ['PNG', bytes(0x89, 'PNG\r\n\x1a\n', zeros(32)), { kind: 'unsupported', what: 'a PNG image' }],
    ['JPEG', bytes(0xff, 0xd8, 0xff, 0xe0, zeros(32)), { kind: 'unsupported', what: 'a JPEG image' }],
    ['YUV4MPEG 60000x60000 header', txt('YUV4MPEG2 W60000 H60000 F25:1 Ip A1:1 C420jpeg\nFRAME\n'), { kind: 'unsupported', what: 'raw YUV4MPEG video' }],
    ['HEIF (ftyp heic)', bytes(0, 0, 0, 24, 'ftypheic', zeros(12)), { kind: 'unsupported', what: 'a HEIF/AVIF image' }],
    ['unknown binary', bytes(0x00, 0x13, 0x37, 0x00, 0xde, 0xad, 0xbe, 0xef, zeros(8)), { kind: 'unsupported', what: 'its first bytes are 00 13 37 00 de ad be ef' }],
    ['ID3 tag, then a playlist', bytes(id3(20), '#EXTM3U\n/etc/passwd\n'), { kind: 'unsupported' }],
    ['ID3 tag, then MP3 frames', bytes(id3(100), mp3Frames(2)), { kind: 'media', demuxer: 'mp3' }],
    ['ID3 tag, then ADTS', bytes(id3(100), adts(200), adts(200)), { kind: 'media', demuxer: 'aac' }],
    ['ID3 tag, then FLAC', bytes(id3(30), 'fLaC', zeros(40)), { kind: 'media', demuxer: 'flac' }],
    ['MP3 frames (frame sync)', mp3Frames(3), { kind: 'media', demuxer: 'mp3' }],
    ['MP3 frames after zero padding', bytes(zeros(100), mp3Frames(2)), { kind: 'media', demuxer: 'mp3' }],
    ['zeros only', zeros(5000), { kind: 'unsupported', what: 'its first bytes are 00 00 00 00 00 00 00 00' }],
    ['one MP3 frame, cut short', mp3Frames(1).subarray(0, 300), { kind: 'media', demuxer: 'mp3' }],
    ['frame sync with a bad bit-rate index', bytes(0xff, 0xfb, 0xf0, 0x64, zeros(600)), { kind: 'unsupported' }],
    ['MP3 header but no second frame where it should be', bytes(...MP3_HEADER, zeros(413), 0x12, 0x34, zeros(100)), { kind: 'unsupported' }],
    ['ADTS frames', bytes(adts(300), adts(280)), { kind: 'media', demuxer: 'aac' }],
    ['WAVE', bytes('RIFF', 0, 0, 0, 0, 'WAVEfmt ', zeros(20)), { kind: 'media', demuxer: 'wav' }],
    ['RF64 WAVE', bytes('RF64', 0xff, 0xff, 0xff, 0xff, 'WAVEds64', zeros(20)), { kind: 'media', demuxer: 'wav' }],
    ['AVI', bytes('RIFF', 0, 0, 0, 0, 'AVI LIST', zeros(20)), { kind: 'media', demuxer: 'avi' }],
    ['WebP is not WAVE', bytes('RIFF', 0, 0, 0, 0, 'WEBPVP8 ', zeros(20)), { kind: 'unsupported', what: 'a WebP image' }],
    ['AIFF', bytes('FORM', 0, 0, 0, 0, 'AIFFCOMM', zeros(20)), { kind: 'media', demuxer: 'aiff' }],
    ['FLAC', bytes('fLaC', zeros(40)), { kind: 'media', demuxer: 'flac' }],
    ['Ogg', bytes('OggS', 0, 2, zeros(40)), { kind: 'media', demuxer: 'ogg' }],
    ['AMR-NB', txt('#!AMR\n\x3c'), { kind: 'media', demuxer: 'amr' }],
    ['AMR-WB', txt('#!AMR-WB\n'), { kind: 'media', demuxer: 'amr' }],
    ['ASF', bytes(0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11, 0xa6, 0xd9, 0x00, 0xaa, 0x00, 0x62, 0xce, 0x6c, zeros(16)), { kind: 'media', demuxer: 'asf' }],
    ['EBML (mkv/webm)', bytes(0x1a, 0x45, 0xdf, 0xa3, zeros(32)), { kind: 'media', demuxer: 'matroska' }],
    ['FLV', bytes('FLV', 1, 5, zeros(32)), { kind: 'media', demuxer: 'flv' }],
    ['ISO BMFF ftyp', bytes(0, 0, 0, 24, 'ftypisom', zeros(12)), { kind: 'media', demuxer: 'mov' }],
    ['QuickTime starting with mdat', bytes(0, 0, 0, 16, 'mdat', zeros(8)), { kind: 'media', demuxer: 'mov' }],
    ['QuickTime starting with wide', bytes(0, 0, 0, 8, 'wide', 0, 0, 0, 16, 'mdat', zeros(8)), { kind: 'media', demuxer: 'mov' }],
    ['MPEG-TS, 188-byte packets', ts(4), { kind: 'media', demuxer: 'mpegts' }],
    ['M2TS, 192-byte packets', bytes(...Array.from({ length: 4 }, () => bytes(0, 0, 0, 0, 0x47, zeros(187)))), { kind: 'media', demuxer: 'mpegts' }],
    ['a lone 0x47 is not MPEG-TS', bytes(0x47, zeros(187), 0x11, zeros(300)), { kind: 'unsupported' }],
    ['MPEG program stream', bytes(0, 0, 1, 0xba, 0x44, zeros(20)), { kind: 'media', demuxer: 'mpeg' }],
    ['AC-3', bytes(0x0b, 0x77, 0x12, 0x34, 0x14, 0x40, zeros(20)), { kind: 'media', demuxer: 'ac3' }],
    ['E-AC-3', bytes(0x0b, 0x77, 0x00, 0x3f, 0x3f, 0x80, zeros(20)), { kind: 'media', demuxer: 'eac3' }],
    ['MXF', bytes(0x06, 0x0e, 0x2b, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0d, 0x01, 0x02, 0x01, zeros(20)), { kind: 'media', demuxer: 'mxf' }],
  ];
  for (const [name, input, want] of cases) {
    test(name, () => {
      const got = sniffBytes(input);
      for (const [k, v] of Object.entries(want)) assert.equal((got as Record<string, unknown>)[k], v, `${k} of ${JSON.stringify(got)}`);
    });
  }

  test('frame lengths', () => {
    assert.equal(mpegAudioFrameLength(bytes(...MP3_HEADER), 0), 417);
    assert.equal(mpegAudioFrameLength(bytes(0xff, 0xfb, 0x92, 0x64), 0), 418, 'padding bit');
    assert.equal(mpegAudioFrameLength(bytes(0xff, 0xf3, 0x18, 0xc4), 0), 36, 'MPEG-2 layer 3, 8 kbit/s, 16 kHz: 72 * 8000 / 16000');
    assert.equal(mpegAudioFrameLength(bytes(0xff, 0xfb, 0x9c, 0x64), 0), undefined, 'reserved sample rate');
    assert.equal(adtsFrameLength(adts(321), 0), 321);
    assert.equal(adtsFrameLength(bytes(0xff, 0xf1, 0x7c, 0x80, 0, 0, 0), 0), undefined, 'sample-rate index 15');
  });

  test('refusal messages name the file and what it is', () => {
    assert.equal(
      refusal(sniffBytes(txt('#EXTM3U\n/etc/passwd\n')), 'oss://b/leak.mp3'),
      'oss://b/leak.mp3 could not be read as media: it is an HLS/M3U playlist (#EXTM3U); playlists, manifests and scripts that name other files are not accepted as sources',
    );
    assert.match(refusal(sniffBytes(txt('1\n00:00:01,000 --> 00:00:02,000\nx\n')), 'a.srt') ?? '', /^a\.srt could not be read as media: it is SubRip \(SRT\) subtitles, not audio or video; text files are not accepted as sources$/);
    assert.match(refusal(sniffBytes(bytes(0, 1, 2, 3, 4, 5, 6, 7)), 'x') ?? '', /^x could not be read as media: not a supported media format \(its first bytes are 00 01 02 03 04 05 06 07\); accepted are MP3, /);
    assert.equal(refusal(sniffBytes(new Uint8Array(0)), 'e'), 'e could not be read as media: the file is empty');
    assert.equal(refusal(sniffBytes(mp3Frames(2)), 'ok.mp3'), undefined);
  });
});

let dir = '';
const f = (n: string): string => join(dir, n);

describe('sniffFile on what the bundled FFmpeg writes', () => {
  const tone = ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.3'];
  const video = ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10:duration=0.3'];
  const files: Array<[string, string[], string]> = [
    ['a.mp3', [...tone, '-c:a', 'libmp3lame'], 'mp3'],
    ['a.mp2', [...tone, '-c:a', 'mp2', '-f', 'mp2'], 'mp3'],
    ['a.aac', [...tone, '-c:a', 'aac', '-f', 'adts'], 'aac'],
    ['a.m4a', [...tone, '-c:a', 'aac'], 'mov'],
    ['a.wav', tone, 'wav'],
    ['a.flac', tone, 'flac'],
    ['a.oga', [...tone, '-c:a', 'libvorbis'], 'ogg'],
    ['a.opus', [...tone, '-c:a', 'libopus'], 'ogg'],
    ['a.amr', [...tone, '-ar', '8000', '-ac', '1', '-c:a', 'libopencore_amrnb'], 'amr'],
    ['a.awb', [...tone, '-ar', '16000', '-ac', '1', '-c:a', 'libvo_amrwbenc', '-f', 'amr'], 'amr'],
    ['a.wma', [...tone, '-c:a', 'wmav2'], 'asf'],
    ['a.ac3', [...tone, '-c:a', 'ac3'], 'ac3'],
    ['a.eac3', [...tone, '-c:a', 'eac3'], 'eac3'],
    ['a.aiff', tone, 'aiff'],
    ['v.mp4', [...video, '-c:v', 'libx264', '-pix_fmt', 'yuv420p'], 'mov'],
    ['v.mov', [...video, '-c:v', 'mpeg4'], 'mov'],
    ['v.3gp', [...video, ...tone, '-c:v', 'mpeg4', '-c:a', 'libopencore_amrnb', '-ar', '8000', '-ac', '1', '-s', '176x144'], 'mov'],
    ['v.mkv', [...video, '-c:v', 'mpeg4'], 'matroska'],
    ['v.webm', [...video, '-c:v', 'libvpx-vp9', '-deadline', 'realtime'], 'matroska'],
    ['v.flv', [...video, '-c:v', 'flv'], 'flv'],
    ['v.ts', [...video, '-c:v', 'mpeg2video'], 'mpegts'],
    ['v.mpg', [...video, '-c:v', 'mpeg2video', '-f', 'vob'], 'mpeg'],
    ['v.avi', [...video, '-c:v', 'mpeg4'], 'avi'],
    ['v.mxf', [...video, '-c:v', 'mpeg2video', '-r', '25'], 'mxf'],
    ['v.wmv', [...video, '-c:v', 'wmv2'], 'asf'],
  ];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'medley-sniff-'));
    for (const [name, args] of files) ffmpeg([...args, f(name)]);
    // An MP3 whose ID3 tag (a 300 KB noise picture) is longer than the sniffed head.
    ffmpeg(['-i', f('a.mp3'), '-f', 'lavfi', '-i', 'nullsrc=s=320x320:d=0.04,geq=random(1)*255:128:128', '-frames:v', '1', '-map', '0:a', '-map', '1:v', '-c:a', 'copy', '-c:v', 'png', '-disposition:v', 'attached_pic', f('cover.mp3')]);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const [name, , demuxer] of files) {
    test(`${name}: ${demuxer}, and the probe opens it so`, async () => {
      const v = await sniffFile(f(name));
      assert.equal(v.kind, 'media', JSON.stringify(v));
      assert.equal(v.kind === 'media' && v.demuxer, demuxer);
      assert.equal(v.kind === 'media' && v.externalRefs, undefined);
      const info = await probe(FFPROBE, f(name));
      assert.equal(info.demuxer, demuxer);
      assert.ok(info.durationSec > 0.2, `${info.durationSec}`);
    });
  }

  test('an MP3 with an ID3 tag larger than the sniffed head is still MP3', async () => {
    const head = await readFile(f('cover.mp3'));
    assert.ok(head.length > 128 * 1024, `cover.mp3 is only ${head.length} bytes`);
    const v = await sniffFile(f('cover.mp3'));
    assert.equal(v.kind === 'media' && v.demuxer, 'mp3', JSON.stringify(v));
  });

  test('a movie whose boxes outnumber what is checked is refused, not left partly unchecked', async () => {
    const free = Buffer.from([0, 0, 0, 8, 0x66, 0x72, 0x65, 0x65]);
    await writeFile(f('boxes.mp4'), Buffer.concat([Buffer.concat(Array.from({ length: MAX_BOXES + 1 }, () => free)), await readFile(f('v.mp4'))]));
    const v = await sniffFile(f('boxes.mp4'));
    assert.match(refusal(v, 'b.mp4') ?? '', /more than 100000 boxes/);
  });

  for (const type of ['url ', 'alis'] as const) {
    test(`a movie with an external '${type}' data reference is refused`, async () => {
      const name = `dref-${type.trim()}.mp4`;
      await writeFile(f(name), withExternalDref(await readFile(f('v.mp4')), type, '/etc/passwd'));
      const v = await sniffFile(f(name));
      assert.deepEqual(v.kind === 'media' && v.externalRefs, [type]);
      assert.match(refusal(v, 'oss://b/x.mov') ?? '', /^oss:\/\/b\/x\.mov could not be read as media: a QuickTime\/MP4 movie with data references to other files \('(url |alis)' entries\); only self-contained movies/);
      await assert.rejects(probe(FFPROBE, f(name), { displayName: 'oss://b/x.mov' }), (e: Error & { entry?: { immCode?: string } }) => e.entry?.immCode === 'InvalidFile.Media' && /data references/.test(e.message));
    });
  }
});
