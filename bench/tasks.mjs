#!/usr/bin/env node
/**
 * npm run bench:tasks — the asynchronous task path of a real `medley serve` (bench/lib: server start,
 * official clients, fixtures, /proc meters) against the plain FFmpeg command a user would run on local files.
 *
 *   1. A task end to end: the issue-14 workload, a 3-clip, 5-minute MP3 concat (a.mp3 b.mp3 c.mp3 in a
 *      bucket, x-oss-async-process on b.mp3 with sys/saveas), submit → Succeeded, beside
 *      `ffmpeg -i a.mp3 -i b.mp3 -i c.mp3 -filter_complex concat=n=3:v=0:a=1 -c:a libmp3lame -b:a 128k out.mp3`
 *      on local files; alternating, the median of the per-pair ratios. Target ≤ 1.08. GetTask is polled
 *      every 20 ms (≤ 0.4 % of the run).
 *   2. Tiny-task overhead: a 1 s wav → mp3 task, submit → Succeeded, minus the plain
 *      `ffmpeg -i tiny.wav -c:a libmp3lame -b:a 64k out.mp3` of the same run (median of the per-pair
 *      differences). Target ≤ 50 ms. GetTask is polled every 2 ms (up to ~2 ms of granularity included).
 *   3. Throughput: 50 audio/concat tasks (3 clips, 10 s in all, → mp3) submitted at once; tasks per second,
 *      how busy the cores were (/proc/stat) and the share of that which is the server and its FFmpeg children.
 *
 * For 1 and 2 the workers' logged phase timings (setup, fetch, probe, ffmpeg, verify, store, commit,
 * cleanup) are printed as medians. BENCH_LONG_RUNS (default 5), BENCH_RUNS (tiny, default 15),
 * BENCH_TASKS (default 50); MEDLEY_WORKERS and MEDLEY_FSYNC (default true) are passed through.
 * The last line is the result as JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { b64, FFMPEG, alternate, concatFixtures, gen, median, sleep, timeCommand } from './lib/media.mjs';
import { startMedley } from './lib/medley.mjs';
import { cpuTimes, processCpuSec } from './lib/proc.mjs';
import { medianPhases, phasesOf, taskClients } from './lib/tasks.mjs';

const LONG_RUNS = Number(process.env.BENCH_LONG_RUNS ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const N = Number(process.env.BENCH_TASKS ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'medley-bench-tasks-'));
const out = (s) => process.stdout.write(s);
const fmtPhases = (p) => Object.entries(p).map(([k, v]) => `${k} ${v}`).join(', ');

/** The task's submit → Succeeded seconds, and its logged phases. */
async function timeTask(server, c, key, processString, pollMs) {
  const t0 = process.hrtime.bigint();
  const id = await c.submit(key, processString);
  const s = await c.waitFor(id, pollMs);
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  if (s !== 'Succeeded') throw new Error(`task ${id} ended ${s}`);
  for (let i = 0; i < 50 && !phasesOf(server.output(), id); i++) await sleep(10);
  return { sec, phases: phasesOf(server.output(), id) };
}

async function main() {
  out(`Generating fixtures in ${dir} ...\n`);
  const concat = concatFixtures(dir);
  const tiny = join(dir, 'tiny.wav');
  gen(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ar', '44100', '-ac', '1', tiny]);
  const clips = ['c1.mp3', 'c2.wav', 'c3.m4a'];
  gen(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', '-ar', '44100', '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k', join(dir, clips[0])]);
  gen(['-f', 'lavfi', '-i', 'sine=frequency=660:duration=4', '-ar', '48000', '-ac', '1', join(dir, clips[1])]);
  gen(['-f', 'lavfi', '-i', 'sine=frequency=880:duration=3', '-ar', '22050', '-c:a', 'aac', '-b:a', '64k', join(dir, clips[2])]);

  const dataDir = mkdtempSync(join(dir, 'data-'));
  // Info logs carry each succeeded task's phase timings.
  const server = await startMedley('serve', dataDir, { MEDLEY_LOG_LEVEL: 'info', MEDLEY_FSYNC: process.env.MEDLEY_FSYNC ?? 'true', ...(process.env.MEDLEY_WORKERS ? { MEDLEY_WORKERS: process.env.MEDLEY_WORKERS } : {}) });
  const workers = Number(/(\d+) media worker/.exec(server.output())?.[1] ?? NaN);
  try {
    const c = taskClients(server, 'bench');
    await c.oss.putBucket('bench');
    for (const [name, path] of [...concat.names.map((n, i) => [n, concat.paths[i]]), ['tiny.wav', tiny], ...clips.map((n) => [n, join(dir, n)])]) await c.oss.put(name, path);

    // 1. The 5-minute concat, end to end, against the plain command on local files.
    const longString = (i) => `${concat.processString}|sys/saveas,o_${b64(`long/out-${i}.mp3`)}`;
    await timeTask(server, c, concat.source, longString('warm'), 20); // warm-up: JIT, page cache
    const longPhases = [];
    const long = await alternate(
      LONG_RUNS,
      async (i) => {
        const r = await timeTask(server, c, concat.source, longString(i), 20);
        if (r.phases) longPhases.push(r.phases);
        return r.sec;
      },
      () => timeCommand(FFMPEG, concat.plainArgs(join(dir, 'plain-long.mp3'))),
    );

    // 2. Tiny tasks: overhead above the plain command.
    const tinyString = (i) => `audio/convert,f_mp3,ab_64000|sys/saveas,o_${b64(`tiny/out-${i}.{autoext}`)}`;
    const tinyPlain = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-i', tiny, '-c:a', 'libmp3lame', '-b:a', '64k', join(dir, 'plain-tiny.mp3')];
    for (let i = 0; i < 3; i++) await timeTask(server, c, 'tiny.wav', tinyString(`warm-${i}`), 2);
    const tinyPhases = [];
    const tinyRun = await alternate(
      RUNS,
      async (i) => {
        const r = await timeTask(server, c, 'tiny.wav', tinyString(i), 2);
        if (r.phases) tinyPhases.push(r.phases);
        await sleep(20);
        return r.sec;
      },
      async () => {
        const t = await timeCommand(FFMPEG, tinyPlain);
        await sleep(20);
        return t;
      },
    );
    const overheadMs = median(tinyRun.as.map((t, i) => (t - tinyRun.bs[i]) * 1000));

    // 3. Throughput: N tasks queued at once.
    const concatSmall = (i) => `audio/concat,f_mp3,ar_44100,ac_2,ab_128000/pre,o_${b64(clips[0])}/sur,o_${b64(clips[2])}|sys/saveas,o_${b64(`tp/out-${i}.{autoext}`)}`;
    await sleep(500);
    const c0 = cpuTimes();
    const s0 = processCpuSec(server.child.pid);
    const t0 = process.hrtime.bigint();
    const ids = [];
    for (let i = 0; i < N; i++) ids.push(await c.submit(clips[1], concatSmall(i)));
    await c.waitAll(100);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const c1 = cpuTimes();
    const s1 = processCpuSec(server.child.pid);
    const busy = 1 - (c1.idle - c0.idle) / (c1.total - c0.total);
    const medleyBusy = (s1 - s0) / (wall * availableParallelism());
    for (const id of ids) if ((await c.status(id)) !== 'Succeeded') throw new Error(`task ${id} did not succeed`);

    const results = {
      cores: availableParallelism(),
      workers,
      endToEnd: { runs: LONG_RUNS, medianTaskSec: +long.a.toFixed(3), medianPlainFfmpegSec: +long.b.toFixed(3), ratio: +long.ratio.toFixed(3), target: 1.08, pass: long.ratio <= 1.08, phasesMs: medianPhases(longPhases) },
      tiny: { runs: RUNS, medianTaskMs: +(tinyRun.a * 1000).toFixed(1), medianPlainFfmpegMs: +(tinyRun.b * 1000).toFixed(1), medianOverheadMs: +overheadMs.toFixed(1), targetMs: 50, pass: overheadMs <= 50, phasesMs: medianPhases(tinyPhases) },
      throughput: { tasks: N, wallSec: +wall.toFixed(2), tasksPerSec: +(N / wall).toFixed(2), coresBusyPercent: +(busy * 100).toFixed(1), medleyCpuPercent: +(medleyBusy * 100).toFixed(1) },
    };
    const e = results.endToEnd;
    const t = results.tiny;
    out(`\ntask end to end (3-clip 5-minute MP3 concat, median of ${LONG_RUNS}): submit→Succeeded ${e.medianTaskSec.toFixed(3)} s, plain FFmpeg ${e.medianPlainFfmpegSec.toFixed(3)} s, ratio ${e.ratio.toFixed(3)}  ${e.pass ? 'PASS' : 'MISS'} (≤ ${e.target})\n`);
    out(`  phases (ms): ${fmtPhases(e.phasesMs)}\n`);
    out(`tiny task (1 s wav → mp3, median of ${RUNS}): submit→Succeeded ${t.medianTaskMs.toFixed(1)} ms, plain FFmpeg ${t.medianPlainFfmpegMs.toFixed(1)} ms, overhead ${t.medianOverheadMs.toFixed(1)} ms  ${t.pass ? 'PASS' : 'MISS'} (≤ ${t.targetMs} ms)\n`);
    out(`  phases (ms): ${fmtPhases(t.phasesMs)}\n`);
    out(`throughput (${N} × 10 s audio concat → mp3, ${workers} workers on ${results.cores} cores): ${wall.toFixed(2)} s, ${results.throughput.tasksPerSec} tasks/s, cores ${results.throughput.coresBusyPercent}% busy (Medley and its FFmpeg children: ${results.throughput.medleyCpuPercent}%)\n`);
    out(`${JSON.stringify(results)}\n`);
  } finally {
    await server.stop();
  }
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
