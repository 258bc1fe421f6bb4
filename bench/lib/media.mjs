/** Shared by the benchmark scripts: the bundled FFmpeg, fixture generation, timing a command, small statistics. */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
export const FFMPEG = require('@ffmpeg-installer/ffmpeg').path;

export const b64 = (s) => Buffer.from(s).toString('base64url');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Generates a fixture with the bundled FFmpeg; `args` end with the output path. */
export function gen(args) {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fixture generation failed: ${r.stderr}`);
}

/** Runs `bin args` (stdout/stderr discarded), resolving with its wall-clock seconds; rejects on a non-zero exit. */
export function timeCommand(bin, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t0) / 1e9) : reject(new Error(`${bin} exited ${code}: ${err.slice(-2000)}`))));
  });
}

/**
 * The issue-14 workload: three 100 s MP3 clips (44.1 kHz stereo, 128 kb/s; 5 minutes in all) named
 * a.mp3, b.mp3, c.mp3 in `dir`, and the command a user would write to concatenate them with FFmpeg.
 */
export function concatFixtures(dir) {
  const names = ['a.mp3', 'b.mp3', 'c.mp3'];
  names.forEach((n, i) => gen(['-f', 'lavfi', '-i', `sine=frequency=${330 * (i + 1)}:duration=100`, '-ar', '44100', '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k', join(dir, n)]));
  return {
    names,
    paths: names.map((n) => join(dir, n)),
    /** `ffmpeg -i a.mp3 -i b.mp3 -i c.mp3 -filter_complex concat=n=3:v=0:a=1 -c:a libmp3lame -b:a 128k <out>` */
    plainArgs: (out) => ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', ...names.flatMap((n) => ['-i', join(dir, n)]), '-filter_complex', 'concat=n=3:v=0:a=1', '-c:a', 'libmp3lame', '-b:a', '128k', out],
    /** The same request as a Medley process string, sent to b.mp3 (saveas appended by the caller when needed). */
    processString: `audio/concat,f_mp3,ab_128000/pre,o_${b64('a.mp3')}/sur,o_${b64('c.mp3')}`,
    source: 'b.mp3',
  };
}

/**
 * Runs `a` and `b` (async, each resolving with seconds) `runs` times, alternating which goes first so load
 * drift cancels, and returns both medians and the median of the per-pair ratios a/b.
 */
export async function alternate(runs, a, b) {
  const as = [];
  const bs = [];
  const ratios = [];
  for (let i = 0; i < runs; i++) {
    let x;
    let y;
    if (i % 2 === 0) {
      x = await a(i);
      y = await b(i);
    } else {
      y = await b(i);
      x = await a(i);
    }
    as.push(x);
    bs.push(y);
    ratios.push(x / y);
  }
  return { a: median(as), b: median(bs), ratio: median(ratios), as, bs, ratios };
}
