#!/usr/bin/env node
/**
 * npm run bench:media — Medley's media processing against what a user would run instead.
 *
 *   0. The CLI against the plain user command (the issue-14 workload): `medley process` of a 3-clip,
 *      5-minute MP3 concat (a.mp3 b.mp3 c.mp3, the built CLI as a fresh process: start-up, engine lookup,
 *      probes, FFmpeg, verification) beside
 *      `ffmpeg -i a.mp3 -i b.mp3 -i c.mp3 -filter_complex concat=n=3:v=0:a=1 -c:a libmp3lame -b:a 128k out.mp3`.
 *      Target ≤ 1.10 (wall); the CPU ratio (the CLI and its children over the plain command) is printed too.
 *   Then the media engine in-process (probe every input, plan, run FFmpeg, probe and verify the output)
 *   beside the bare FFmpeg command it runs (same argv, same inputs). Target ≤ 1.05:
 *   1. 3-clip audio concat, 5 minutes in all, to mp3
 *   2. the same to aac
 *   3. 3-clip video concat, 1 minute of 720p in all, to mp4 (h264 + aac)
 *
 * Runs: BENCH_RUNS (default 3; the CLI case BENCH_CLI_RUNS, default 5), alternating which goes first; the
 * median of the per-pair ratios is reported, with the median times.
 * Uses only Node and the bundled FFmpeg; the fixtures are generated first (not timed).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaEngine } from '../dist/media/engine/index.js';
import { prepareJob, processJob } from '../dist/media/process.js';
import { parseProcessString } from '../dist/media/request/process-string.js';
import { ENGINE_PREFIX_ARGS } from '../dist/media/engine/run.js';
import { fileURLToPath } from 'node:url';
import { alternate, b64, concatFixtures, FFMPEG, gen, median, timeCommand } from './lib/media.mjs';
import { reapedChildrenCpuSec } from './lib/proc.mjs';

const MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const CLI_RUNS = Number(process.env.BENCH_CLI_RUNS ?? 5);

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'medley-bench-media-'));
async function bench(name, processString, source) {
  const engine = await MediaEngine.start({ env: process.env });
  const job = parseProcessString(processString, { bucket: 'bench', key: source }, { requireSaveAs: false });
  const inputs = job.clips.map((c) => ({ path: join(dir, c.source.key), displayName: c.source.key }));
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
    const t = await timeCommand(FFMPEG, [...ENGINE_PREFIX_ARGS, ...plan.args]);
    rmSync(bareDir, { recursive: true, force: true });
    return t;
  };
  // Alternating which goes first, compared within each pair, so drift in machine load cancels out.
  const r = await alternate(RUNS, timeMedley, timeBare);
  return { name, runs: RUNS, medleySec: +r.a.toFixed(3), bareFfmpegSec: +r.b.toFixed(3), ratio: +r.ratio.toFixed(3), target: 1.05, pass: r.ratio <= 1.05 };
}

/** `medley process` (a fresh CLI process) of the issue-14 concat against the plain user command. */
async function benchCli() {
  const fxDir = mkdtempSync(join(dir, 'cli-'));
  const fx = concatFixtures(fxDir);
  const cpu = { cli: [], plain: [] };
  const timed = async (which, bin, args) => {
    const c0 = reapedChildrenCpuSec();
    const sec = await timeCommand(bin, args);
    cpu[which].push(reapedChildrenCpuSec() - c0);
    return sec;
  };
  const cliArgs = [MAIN, 'process', fx.processString, '--dir', fxDir, '--source', fx.source, '--out', join(fxDir, 'medley.mp3')];
  await timeCommand(process.execPath, cliArgs); // warm-up: page cache, the engine capability cache
  const r = await alternate(CLI_RUNS, () => timed('cli', process.execPath, cliArgs), () => timed('plain', FFMPEG, fx.plainArgs(join(fxDir, 'plain.mp3'))));
  const cpuRatio = median(cpu.cli.map((c, i) => c / cpu.plain[i]));
  return { name: 'medley process vs plain ffmpeg (3×100 s mp3)', runs: CLI_RUNS, medleySec: +r.a.toFixed(3), bareFfmpegSec: +r.b.toFixed(3), ratio: +r.ratio.toFixed(3), cpuRatio: +cpuRatio.toFixed(3), target: 1.1, pass: r.ratio <= 1.1 };
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
  results.push(await benchCli());
  results.push(await bench('audio concat 3×100 s → mp3', `audio/concat,f_mp3,ar_44100,ac_2,ab_128000/pre,o_${b64('a1.mp3')}/sur,o_${b64('a3.m4a')}`, 'a2.wav'));
  results.push(await bench('audio concat 3×100 s → aac', `audio/concat,f_aac,ar_44100,ac_2,ab_128000/pre,o_${b64('a1.mp3')}/sur,o_${b64('a3.m4a')}`, 'a2.wav'));
  results.push(await bench('video concat 3×20 s 720p → mp4', `video/concat,f_mp4,vcodec_h264,fps_25,s_1280x720,acodec_aac,ab_128000,ar_44100,ac_2/pre,o_${b64('v1.mp4')}/sur,o_${b64('v3.mp4')}`, 'v2.mp4'));

  process.stdout.write('\ncase                                          runs  medley s  ffmpeg s  ratio  target\n');
  for (const r of results) {
    const cpu = r.cpuRatio !== undefined ? ` (CPU ${r.cpuRatio.toFixed(3)})` : '';
    process.stdout.write(`${r.name.padEnd(45)} ${String(r.runs).padStart(4)}  ${r.medleySec.toFixed(3).padStart(8)}  ${r.bareFfmpegSec.toFixed(3).padStart(8)}  ${r.ratio.toFixed(3)}  ${r.pass ? 'PASS' : 'MISS'} (≤ ${r.target})${cpu}\n`);
  }
  process.stdout.write('(case 0: the plain command a user would write; the others: Medley\'s own argv run bare)\n');
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
