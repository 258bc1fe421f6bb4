import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config.js';
import { isMedleyError } from '../../../src/errors.js';
import {
  chooseEngine,
  engineCacheFile,
  locateEngines,
  parseEncoders,
  parseFilters,
  parseMuxers,
  parseVersion,
  type DroppedEngine,
  type EngineCandidate,
} from '../../../src/media/engine/locate.js';
import { MediaEngine } from '../../../src/media/engine/index.js';

const require = createRequire(import.meta.url);
const FFMPEG = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const FFPROBE = (require('ffprobe-static') as { path: string }).path;
/** An environment with no ffmpeg on PATH, so the bundled engine is what remains. */
const NO_PATH = { PATH: '' };

let dir = '';
let bundled: EngineCandidate[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-locate-'));
  bundled = await locateEngines({ env: NO_PATH });
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('locateEngines', () => {
  it('finds the bundled engine with the encoders Medley relies on', () => {
    assert.equal(bundled.length, 1);
    const c = bundled[0] as EngineCandidate;
    assert.equal(c.source, 'bundled');
    assert.equal(c.ffmpeg, FFMPEG);
    assert.equal(c.ffprobe, FFPROBE);
    assert.match(c.capabilities.ffmpegVersion, /\S/);
    assert.match(c.capabilities.ffprobeVersion, /\S/);
    for (const e of ['libmp3lame', 'aac', 'libx264', 'libopus', 'flac']) assert.ok(c.capabilities.encoders.has(e), e);
    for (const m of ['mp4', 'mp3', 'adts', 'webm', 'ogg']) assert.ok(c.capabilities.muxers.has(m), m);
    for (const f of ['scale', 'aresample', 'atrim', 'concat']) assert.ok(c.capabilities.filters.has(f), f);
  });

  it('drops a configured MEDLEY_FFMPEG that does not exist, with a reason, and uses the next candidate', async () => {
    const config = loadConfig({}, { MEDLEY_FFMPEG: join(dir, 'no-such-ffmpeg') });
    const dropped: DroppedEngine[] = [];
    const found = await locateEngines({ ffmpeg: config.ffmpeg, ffprobe: config.ffprobe, env: NO_PATH, onDropped: (d) => dropped.push(d) });
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]?.source, 'config');
    assert.match(dropped[0]?.reason ?? '', /no-such-ffmpeg: not found/);
    assert.deepEqual(found.map((c) => c.source), ['bundled']);
  });

  it('drops a configured binary that is not ffmpeg', { skip: process.platform === 'win32' }, async () => {
    const dropped: DroppedEngine[] = [];
    const found = await locateEngines({ ffmpeg: '/bin/true', env: NO_PATH, onDropped: (d) => dropped.push(d) });
    assert.match(dropped[0]?.reason ?? '', /does not look like ffmpeg/);
    assert.deepEqual(found.map((c) => c.source), ['bundled']);
  });

  it('uses a working configured pair first', async () => {
    const found = await locateEngines({ ffmpeg: FFMPEG, ffprobe: FFPROBE, env: NO_PATH });
    // The bundled candidate is the same binaries, so it is not listed twice.
    assert.deepEqual(found.map((c) => c.source), ['config']);
  });

  it('finds ffmpeg/ffprobe on PATH before the bundled ones', { skip: process.platform === 'win32' }, async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await symlink(FFMPEG, join(bin, 'ffmpeg'));
    await symlink(FFPROBE, join(bin, 'ffprobe'));
    const found = await locateEngines({ env: { PATH: `${join(dir, 'empty')}:${bin}` } });
    assert.equal(found[0]?.source, 'path');
    assert.equal(found[0]?.ffmpeg, join(bin, 'ffmpeg'));
    assert.equal(found.length, 1, 'same binaries as the bundled ones: deduplicated');
  });
});

describe('chooseEngine', () => {
  it('returns the first engine with everything needed', () => {
    const c = chooseEngine(bundled, { encoders: ['libmp3lame', 'aac'], muxers: ['mp4'], filters: ['scale'] });
    assert.equal(c, bundled[0]);
  });

  it('names the missing encoder and the engines looked at', () => {
    assert.throws(
      () => chooseEngine(bundled, { encoders: ['aac', 'libfdk_aac'], muxers: ['mp4'] }),
      (e) => {
        assert.ok(isMedleyError(e));
        assert.equal(e.entry.immCode, 'UnsupportedFeature');
        assert.match(e.message, /no FFmpeg has encoder libfdk_aac/);
        assert.ok(e.message.includes(FFMPEG), e.message);
        assert.doesNotMatch(e.message, /encoder aac\b/);
        return true;
      },
    );
  });

  it('names missing muxers and filters too', () => {
    assert.throws(() => chooseEngine(bundled, { encoders: [], muxers: ['nosuchmux'], filters: ['nosuchfilter'] }), /muxer nosuchmux, filter nosuchfilter/);
  });

  it('with no usable engine, lists what was dropped', () => {
    const dropped: DroppedEngine[] = [{ source: 'config', ffmpeg: '/opt/ff/ffmpeg', ffprobe: '', reason: 'ffmpeg /opt/ff/ffmpeg: not found' }];
    assert.throws(() => chooseEngine([], { encoders: ['aac'] }, dropped), (e) => isMedleyError(e) && /No usable FFmpeg.*encoder aac.*\/opt\/ff\/ffmpeg: not found/.test(e.message));
  });
});

describe('MediaEngine', () => {
  it('describes the engines for /-/health', async () => {
    const engine = await MediaEngine.start({ env: NO_PATH });
    const d = engine.describe();
    assert.equal(d.engines[0]?.source, 'bundled');
    assert.ok(d.engines[0]?.encoders.includes('libx264'));
    assert.deepEqual(d.dropped, []);
    assert.equal(engine.choose({ encoders: ['libmp3lame'] }), engine.candidates[0]);
  });
});

describe('listing parsers', () => {
  it('parses -version', () => {
    assert.equal(parseVersion('ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/  Copyright'), 'N-47683-g0e8eb07980-static');
    assert.equal(parseVersion('ffprobe version 6.1.1-3ubuntu5 Copyright (c) 2007-2023'), '6.1.1-3ubuntu5');
    assert.equal(parseVersion('hello'), undefined);
  });

  it('parses -encoders (legend skipped)', () => {
    const text = 'Encoders:\n V..... = Video\n A..... = Audio\n ------\n V..... libx264              libx264 H.264\n A..X.. opus                 Opus\n VFS... mjpeg                MJPEG\n';
    assert.deepEqual([...parseEncoders(text)], ['libx264', 'opus', 'mjpeg']);
  });

  it('parses -muxers (2018 and newer layouts, comma lists)', () => {
    const old = 'File formats:\n D. = Demuxing supported\n .E = Muxing supported\n --\n  E 3g2             3GP2\n  E stream_segment,ssegment streaming segment muxer\n DE wav             WAV\n';
    assert.deepEqual([...parseMuxers(old)], ['3g2', 'stream_segment', 'ssegment', 'wav']);
    const newer = 'Formats:\n D.. = Demuxing supported\n .E. = Muxing supported\n ..d = Is a device\n ---\n  E  mp4             MP4 (MPEG-4 Part 14)\n D   aa              Audible AA\n  Ed alsa            ALSA audio output\n';
    assert.deepEqual([...parseMuxers(newer)], ['mp4', 'alsa']);
  });

  it('parses -filters', () => {
    const text = 'Filters:\n  T.. = Timeline support\n  A = Audio input/output\n  | = Source or sink filter\n ... abench            A->A       Benchmark\n T.C scale             V->V       Scale\n ... sine              |->A       Generate\n ... amix              N->A       Mix\n';
    assert.deepEqual([...parseFilters(text)], ['abench', 'scale', 'sine', 'amix']);
  });
});

describe('engine capability cache', () => {
  it('remembers capabilities per binary (size, mtime) and re-interrogates when the stamp differs', async () => {
    const cacheHome = join(dir, 'cache');
    const env = { PATH: '', XDG_CACHE_HOME: cacheHome };
    const file = engineCacheFile(env)!;
    assert.equal(file, join(cacheHome, 'medley', 'engines.json'));
    const first = await locateEngines({ env });
    assert.deepEqual([...first[0]!.capabilities.encoders].sort(), [...bundled[0]!.capabilities.encoders].sort());
    const data = JSON.parse(await readFile(file, 'utf8')) as { engines: Record<string, { stamp: string; encoders: string[] }> };
    const [entry] = Object.values(data.engines);
    assert.ok(entry && entry.encoders.includes('libmp3lame'));
    // A planted encoder proves the second run reads the cache instead of running ffmpeg.
    entry.encoders.push('medley_cached_marker');
    await writeFile(file, JSON.stringify(data));
    const second = await locateEngines({ env });
    assert.ok(second[0]!.capabilities.encoders.has('medley_cached_marker'));
    // A different size/mtime (an upgraded binary) is interrogated again.
    entry.stamp = '1:2:3:4';
    await writeFile(file, JSON.stringify(data));
    const third = await locateEngines({ env });
    assert.ok(!third[0]!.capabilities.encoders.has('medley_cached_marker'));
  });

  it('works without a cache when the cache directory cannot be written or read', async () => {
    await writeFile(join(dir, 'not-a-dir'), 'x');
    const found = await locateEngines({ env: { PATH: '', XDG_CACHE_HOME: join(dir, 'not-a-dir') } });
    assert.ok(found.length > 0);
    assert.equal(engineCacheFile({ PATH: '' }), undefined);
  });
});
