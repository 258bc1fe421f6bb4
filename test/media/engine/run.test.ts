import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMedleyError } from '../../../src/errors.js';
import { probe } from '../../../src/media/engine/probe.js';
import { FORMAT_WHITELIST, ProgressParser, assertSafeArgv, inputArgs, lastMeaningfulLine, runFfmpeg } from '../../../src/media/engine/run.js';
import { ffmpeg } from '../../support/media.js';

const require = createRequire(import.meta.url);
const FFMPEG = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const FFPROBE = (require('ffprobe-static') as { path: string }).path;

let dir = '';
/** Inputs are always opened with a forced single-file demuxer (assertSafeArgv refuses anything else). */
const wav = (file: string): string[] => [...inputArgs('wav'), '-i', file];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-run-'));
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1.5', join(dir, 'tone15.wav')]);
  ffmpeg(['-f', 'lavfi', '-i', 'sine=duration=0.5', join(dir, 'src.wav')]);
  ffmpeg(['-f', 'lavfi', '-i', 'sine=duration=20:sample_rate=8000', join(dir, 'long.wav')]);
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Pids of live processes whose command line mentions `marker` (Linux /proc; undefined elsewhere). */
async function processesMentioning(marker: string): Promise<number[] | undefined> {
  if (!existsSync('/proc/self/cmdline')) return undefined;
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const state = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    if (cmd.includes(marker) && !/\) Z /.test(state)) pids.push(Number(name));
  }
  return pids;
}

function isCode(e: unknown, immCode: string, re?: RegExp): boolean {
  assert.ok(isMedleyError(e), `expected MedleyError, got ${String(e)}`);
  assert.equal(e.entry.immCode, immCode, e.message);
  if (re) assert.match(e.message, re);
  return true;
}

describe('runFfmpeg', () => {
  it('encodes, reporting increasing progress up to 1', async () => {
    const out = join(dir, 'progress.mp3');
    const fractions: number[] = [];
    // -re paces the 1.5 s input in real time so ffmpeg emits several progress blocks (one per ~0.5 s).
    const r = await runFfmpeg({
      ffmpeg: FFMPEG,
      args: ['-re', ...wav(join(dir, 'tone15.wav')), '-c:a', 'libmp3lame', '-b:a', '64k', out],
      expectedDurationSec: 1.5,
      timeoutMs: 20_000,
      onProgress: (x) => fractions.push(x),
    });
    assert.equal(typeof r.stderrTail, 'string');
    assert.ok(fractions.length >= 3, `fractions: ${fractions.join(', ')}`);
    for (let i = 1; i < fractions.length; i++) assert.ok((fractions[i] as number) > (fractions[i - 1] as number), fractions.join(', '));
    assert.ok(fractions.every((x) => x > 0 && x <= 1));
    assert.equal(fractions[fractions.length - 1], 1);
    const info = await probe(FFPROBE, out);
    assert.equal(info.audio?.codec, 'mp3');
    assert.ok(Math.abs(info.durationSec - 1.5) < 0.1);
  });

  it('accepts the planner\'s per-input safety options', async () => {
    const src = join(dir, 'src.wav');
    const out = join(dir, 'safe.m4a');
    await runFfmpeg({ ffmpeg: FFMPEG, args: [...wav(src), '-c:a', 'aac', out], expectedDurationSec: 0.5, timeoutMs: 20_000, cwd: dir });
    assert.ok((await stat(out)).size > 0);
  });

  it('times out: MediaProcessingFailed within ~4 s, and the process is gone', async () => {
    const out = join(dir, 'timeout-marker-7f3a.mp3');
    const t0 = Date.now();
    await assert.rejects(
      runFfmpeg({ ffmpeg: FFMPEG, args: ['-re', '-stream_loop', '-1', ...wav(join(dir, 'long.wav')), out], expectedDurationSec: 600, timeoutMs: 300 }),
      (e) => isCode(e, 'InternalError', /timed out after 300 ms/),
    );
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 4000, `took ${elapsed} ms`);
    const left = await processesMentioning('timeout-marker-7f3a');
    if (left) assert.deepEqual(left, []);
  });

  it('cancels on abort: MediaCancelled, and the process is gone', async () => {
    const out = join(dir, 'abort-marker-9c1d.mp3');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const t0 = Date.now();
    await assert.rejects(
      runFfmpeg({ ffmpeg: FFMPEG, args: ['-re', '-stream_loop', '-1', ...wav(join(dir, 'long.wav')), out], expectedDurationSec: 600, timeoutMs: 60_000, signal: ac.signal }),
      (e) => isCode(e, 'Cancelled'),
    );
    assert.ok(Date.now() - t0 < 4000);
    const left = await processesMentioning('abort-marker-9c1d');
    if (left) assert.deepEqual(left, []);
  });

  it('does not start when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      runFfmpeg({ ffmpeg: FFMPEG, args: [...wav(join(dir, 'src.wav')), join(dir, 'never.mp3')], expectedDurationSec: 1, timeoutMs: 5000, signal: ac.signal }),
      (e) => isCode(e, 'Cancelled'),
    );
    assert.equal(existsSync(join(dir, 'never.mp3')), false);
  });

  it('a failing command rejects with ffmpeg\'s error', async () => {
    await assert.rejects(
      runFfmpeg({ ffmpeg: FFMPEG, args: [...wav(join(dir, 'missing.wav')), join(dir, 'x.mp3')], expectedDurationSec: 1, timeoutMs: 10_000 }),
      (e) => isCode(e, 'InternalError', /No such file or directory/),
    );
    await assert.rejects(
      runFfmpeg({ ffmpeg: FFMPEG, args: [...wav(join(dir, 'src.wav')), '-c:a', 'libfdk_aac', join(dir, 'x.m4a')], expectedDurationSec: 1, timeoutMs: 10_000 }),
      (e) => isCode(e, 'InternalError', /Unknown encoder 'libfdk_aac'/),
    );
  });

  it('a missing binary rejects with MediaProcessingFailed', async () => {
    await assert.rejects(
      runFfmpeg({ ffmpeg: join(dir, 'no-ffmpeg'), args: ['-version'], expectedDurationSec: 0, timeoutMs: 5000 }),
      (e) => isCode(e, 'InternalError', /could not start ffmpeg/),
    );
  });

  it('refuses unsafe argv before spawning', async () => {
    await assert.rejects(
      runFfmpeg({ ffmpeg: join(dir, 'no-ffmpeg'), args: ['-i', 'http://example.com/a.mp3', 'out.mp3'], expectedDurationSec: 0, timeoutMs: 5000 }),
      (e) => isCode(e, 'InternalError', /refusing to run/),
    );
  });
});

describe('assertSafeArgv', () => {
  const rejected: Array<[string, string[]]> = [
    ['concat: input', ['-i', 'concat:a.mp3|b.mp3', 'o.mp3']],
    ['http: input', ['-i', 'http://169.254.169.254/latest', 'o.mp3']],
    ['HTTPS: any case', ['-i', 'HTTPS://x/y', 'o.mp3']],
    ['data: input', ['-i', 'data:audio/mp3;base64,AAAA', 'o.mp3']],
    ['subfile: input', ['-i', 'subfile:start=0:end=10:/etc/passwd', 'o.mp3']],
    ['-safe option', ['-f', 'concat', '-safe', '0', '-i', 'list.txt', 'o.mp3']],
    ['pipe: output', ['-i', 'a.wav', 'pipe:1']],
    ['pipe:1 not after -progress', ['-i', 'a.wav', '-f', 'mp3', 'pipe:1']],
    ['tcp output', ['-i', 'a.wav', '-f', 'mp3', 'tcp://127.0.0.1:9/']],
    ['rtmps', ['-i', 'a.wav', 'rtmps://x/y']],
    ['fd:', ['-i', 'fd:3', 'o.mp3']],
    ['hls:', ['-i', 'hls:x.m3u8', 'o.mp3']],
    ['crypto:', ['-i', 'crypto:x', 'o.mp3']],
    ['an input without -f', ['-i', '/tmp/t/in.mp4', 'o.mp3']],
    ['an input without -format_whitelist', ['-f', 'mov', '-i', '/tmp/t/in.mp4', 'o.mp3']],
    ['a whitelist other than the single-file one', ['-f', 'mov', '-format_whitelist', 'mov,hls', '-i', '/tmp/t/in.mp4', 'o.mp3']],
    ['-f hls', ['-f', 'hls', '-format_whitelist', FORMAT_WHITELIST, '-i', '/tmp/t/x.m3u8', 'o.mp3']],
    ['-f concat', ['-f', 'concat', '-format_whitelist', FORMAT_WHITELIST, '-i', '/tmp/t/list.txt', 'o.mp3']],
    ['-f image2', ['-f', 'image2', '-format_whitelist', FORMAT_WHITELIST, '-i', '/tmp/t/%d.png', 'o.mp4']],
    ['lavfi input (movie= reads files)', ['-f', 'lavfi', '-format_whitelist', FORMAT_WHITELIST, '-i', 'movie=/etc/passwd', 'o.mp4']],
    ['a second input without -f', [...inputArgs('wav'), '-i', 'a.wav', '-i', 'b.m3u8', 'o.mp3']],
    ['the first input\'s -f does not cover the second', ['-f', 'wav', '-format_whitelist', FORMAT_WHITELIST, '-i', 'a.wav', '-format_whitelist', FORMAT_WHITELIST, '-i', 'b.m3u8', 'o.mp3']],
  ];
  for (const [name, argv] of rejected) {
    it(`rejects ${name}`, () => assert.throws(() => assertSafeArgv(argv), (e) => isCode(e, 'InternalError', /refusing to run/)));
  }
  const accepted: Array<[string, string[]]> = [
    ['normal argv with -progress pipe:1', ['-hide_banner', '-progress', 'pipe:1', ...inputArgs('mov'), '-i', '/tmp/t/in.mp4', '-vf', 'scale=320:-2', '-c:a', 'aac', '/tmp/t/out.mp4']],
    ['file: paths', [...inputArgs('mov'), '-i', 'file:/tmp/t/in.mp4', 'file:/tmp/t/o.mp3']],
    ['filter text with protocol-like words inside', [...inputArgs('wav'), '-i', 'a.wav', '-af', 'volume=0.5,aresample=async=1', 'o.mp3']],
    ['safe input args', [...inputArgs('wav'), '-i', 'a.wav', 'o.mp3']],
    ['two inputs, each with its own demuxer', [...inputArgs('wav'), '-i', 'a.wav', ...inputArgs('matroska'), '-ss', '40', '-i', 'b.mkv', '-f', 'mp4', 'o.mp4']],
    ['no input at all', ['-version']],
  ];
  for (const [name, argv] of accepted) {
    it(`accepts ${name}`, () => assert.doesNotThrow(() => assertSafeArgv(argv)));
  }
});

describe('ProgressParser', () => {
  const feed = (dur: number, chunks: string[]): number[] => {
    const got: number[] = [];
    const p = new ProgressParser(dur, (x) => got.push(x));
    for (const c of chunks) p.push(c);
    return got;
  };
  it('parses blocks split across chunks, preferring out_time_us', () => {
    assert.deepEqual(feed(10, ['frame=1\nout_time_us=2500000\nout_time_ms=2500000\nout_ti', 'me=00:00:02.500000\nprogress=cont', 'inue\nout_time_us=5000000\nprogress=continue\n']), [0.25, 0.5]);
  });
  it('falls back to out_time_ms (microseconds) and out_time', () => {
    assert.deepEqual(feed(4, ['out_time_ms=1000000\nprogress=continue\n', 'out_time=00:00:03.000000\nprogress=continue\n']), [0.25, 0.75]);
    assert.deepEqual(feed(7200, ['out_time=01:00:00.000000\nprogress=continue\n']), [0.5]);
  });
  it('ignores N/A and negative times, clamps to 1 and never goes back', () => {
    assert.deepEqual(
      feed(2, ['out_time_us=N/A\nout_time=-00:00:00.023\nprogress=continue\n', 'out_time_us=1000000\nprogress=continue\n', 'out_time_us=500000\nprogress=continue\n', 'out_time_us=9000000\nprogress=end\n']),
      [0.5, 1],
    );
  });
  it('reports only the end when the duration is unknown', () => {
    const got: number[] = [];
    const p = new ProgressParser(0, (x) => got.push(x));
    p.push('out_time_us=1000000\nprogress=continue\n');
    p.finish();
    assert.deepEqual(got, [1]);
  });
});

describe('lastMeaningfulLine', () => {
  it('skips generic trailers and shortens component prefixes', () => {
    assert.equal(lastMeaningfulLine('[mp3 @ 0x55d0c8a0] Invalid data\nConversion failed!\n'), 'mp3: Invalid data');
    assert.equal(lastMeaningfulLine("Unrecognized option 'foo'.\nError splitting the argument list: Option not found\n"), "Unrecognized option 'foo'.");
    assert.equal(lastMeaningfulLine('Conversion failed!\n'), 'Conversion failed!');
    assert.equal(lastMeaningfulLine(''), '');
  });
  it('names local paths as the user knows them, longest path first', () => {
    const names: Array<[string, string]> = [['/data/work/t.1/in-0', 'oss://b/leak.mp3'], ['/data/work/t.1/out', 'the output'], ['/data/work/t.1', 'the work directory']];
    assert.equal(lastMeaningfulLine('[mp3 @ 0x55d0c8a0] file:/data/work/t.1/in-0: Invalid data\n', names), 'mp3: oss://b/leak.mp3: Invalid data');
    assert.equal(lastMeaningfulLine('/data/work/t.1/out/output.mp3: No space left on device\nConversion failed!\n', names), 'the output/output.mp3: No space left on device');
  });
});
