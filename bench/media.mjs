#!/usr/bin/env node
/**
 * npm run bench:media — Medley's media engine end to end (probe every input, plan, run FFmpeg, probe
 * and verify the output) beside the bare FFmpeg command it runs (same argv, same inputs), as a ratio.
 *
 *   1. 3-clip audio concat, 5 minutes in all, to mp3
 *   2. the same to aac
 *   3. 3-clip video concat, 1 minute of 720p in all, to mp4 (h264 + aac)
 *
 * Target: Medley / bare FFmpeg ≤ 1.05. Runs: BENCH_RUNS (default 3), alternating which goes first; the
 * median of the per-pair ratios is reported, with the median times.
 * Uses only Node and the bundled FFmpeg; the fixtures are generated first (not timed).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaEngine } from '../dist/media/engine/index.js';
import { prepareJob, processJob } from '../dist/media/process.js';
import { parseProcessString } from '../dist/media/request/process-string.js';
import { ENGINE_PREFIX_ARGS } from '../dist/media/engine/run.js';
import { b64, FFMPEG, gen, median } from './lib/media.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'medley-bench-media-'));
function runBare(args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(FFMPEG, [...ENGINE_PREFIX_ARGS, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t0) / 1e9) : reject(new Error(`ffmpeg exited ${code}: ${err}`))));
  });
}

async function bench(name, processString, source) {
  const engine = await MediaEngine.start({ env: process.env });
  const job = parseProcessString(processString, { bucket: 'bench', key: source }, { requireSaveAs: false });
  const inputs = job.clips.map((c) => ({ path: join(dir, c.source.key), displayName: c.source.key }));
  const medley = [];
  const bare = [];
  const ratios = [];
  const timeMedley = async () => {
    // Medley: everything a task does locally — probe inputs, plan, run, probe + verify the output.
    const workDir = mkdtempSync(join(dir, 'work-'));
    const t0 = process.hrtime.bigint();
    await processJob({ engine, job, inputs, workDir, timeoutMs: 3_600_000 });
    rmSync(workDir, { recursive: true, force: true });
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  const timeBare = async () => {
    // Bare: the identical argv, straight to ffmpeg (planned outside the timing).
    const bareDir = mkdtempSync(join(dir, 'bare-'));
    const { plan } = await prepareJob({ engine, job, inputs, workDir: bareDir });
    mkdirSync(join(bareDir, 'out'));
    const t = await runBare(plan.args);
    rmSync(bareDir, { recursive: true, force: true });
    return t;
  };
  for (let i = 0; i < RUNS; i++) {
    // Alternate which goes first, and compare within each pair, so drift in machine load cancels out.
    let m;
    let b;
    if (i % 2 === 0) {
      m = await timeMedley();
      b = await timeBare();
    } else {
      b = await timeBare();
      m = await timeMedley();
    }
    medley.push(m);
    bare.push(b);
    ratios.push(m / b);
  }
  const m = median(medley);
  const b = median(bare);
  const r = median(ratios);
  return { name, runs: RUNS, medleySec: +m.toFixed(3), bareFfmpegSec: +b.toFixed(3), ratio: +r.toFixed(3), target: 1.05, pass: r <= 1.05 };
}

async function main() {
  process.stdout.write(`Generating fixtures in ${dir} ...\n`);
  // Audio: three 100 s clips of different rates/channels (5 minutes in all).
  gen(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=100', '-ar', '44100', '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k', join(dir, 'a1.mp3')]);
  gen(['-f', 'lavfi', '-i', 'sine=frequency=660:duration=100', '-ar', '48000', '-ac', '1', join(dir, 'a2.wav')]);
  gen(['-f', 'lavfi', '-i', 'sine=frequency=880:duration=100', '-ar', '22050', '-c:a', 'aac', '-b:a', '64k', join(dir, 'a3.m4a')]);
  // Video: three 20 s 720p clips with audio (1 minute in all).
  for (const [i, rate] of [[1, 25], [2, 30], [3, 24]]) {
    gen(['-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${rate}:duration=20`, '-f', 'lavfi', '-i', `sine=frequency=${300 * i}:duration=20`, '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', join(dir, `v${i}.mp4`)]);
  }
  const results = [];
  results.push(await bench('audio concat 3×100 s → mp3', `audio/concat,f_mp3,ar_44100,ac_2,ab_128000/pre,o_${b64('a1.mp3')}/sur,o_${b64('a3.m4a')}`, 'a2.wav'));
  results.push(await bench('audio concat 3×100 s → aac', `audio/concat,f_aac,ar_44100,ac_2,ab_128000/pre,o_${b64('a1.mp3')}/sur,o_${b64('a3.m4a')}`, 'a2.wav'));
  results.push(await bench('video concat 3×20 s 720p → mp4', `video/concat,f_mp4,vcodec_h264,fps_25,s_1280x720,acodec_aac,ab_128000,ar_44100,ac_2/pre,o_${b64('v1.mp4')}/sur,o_${b64('v3.mp4')}`, 'v2.mp4'));

  process.stdout.write('\ncase                               runs  medley s  bare ffmpeg s  ratio  target\n');
  for (const r of results) {
    process.stdout.write(`${r.name.padEnd(34)} ${String(r.runs).padStart(4)}  ${r.medleySec.toFixed(3).padStart(8)}  ${r.bareFfmpegSec.toFixed(3).padStart(13)}  ${r.ratio.toFixed(3)}  ${r.pass ? 'PASS' : 'MISS'} (≤ ${r.target})\n`);
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
