/** Shared by the benchmark scripts: the bundled FFmpeg, fixture generation, small statistics. */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

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
