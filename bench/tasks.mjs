#!/usr/bin/env node
/**
 * npm run bench:tasks — the asynchronous task path of a real `medley serve` (bench/lib: server start,
 * official clients, fixtures, /proc meters) against the plain FFmpeg command a user would run on local files.
 *
 *   1. A task end to end: the issue-14 workload, a 3-clip, 5-minute MP3 concat (a.mp3 b.mp3 c.mp3 freshly
 *      uploaded for every run, x-oss-async-process on b.mp3 with sys/saveas), submit → Succeeded, beside
 *      `ffmpeg -i a.mp3 -i b.mp3 -i c.mp3 -filter_complex concat=n=3:v=0:a=1 -c:a libmp3lame -b:a 128k out.mp3`
 *      on local files; alternating, the median of the per-pair ratios. Target ≤ 1.08. Completion is seen in
 *      the server's log (no API polling competes for the cores; the line follows the commit and the work
 *      directory's removal, so the time is an upper bound). Also the CPU ratio (server + its FFmpeg/ffprobe
 *      children over the plain command's), which machine load disturbs far less than wall time.
 *   2. Tiny-task overhead: a 1 s wav → mp3 task, submit → Succeeded (seen in the log as in 1; with
 *      BENCH_POLL_MS=2, by polling GetTask every 2 ms as before, whose serving then counts too), minus the
 *      plain `ffmpeg -i tiny.wav -c:a libmp3lame -b:a 64k out.mp3` of the same pair (median of the per-pair
 *      differences). Target ≤ 50 ms. Twice: the same source every time (its probe is remembered by blob
 *      identity) and a fresh upload every time.
 *   3. Throughput: BENCH_TASKS (50) audio/concat tasks (3 clips, 10 s in all, → mp3) submitted at once;
 *      tasks per second, how busy the cores were (/proc/stat) and the share of the server and its children.
 *
 * For 1 and 2 the workers' logged phase timings are printed as medians (src/tasks/runner.ts TaskPhase:
 * setup, inputs, ffmpeg, outputs, commit, cleanup one after the other; fetch, probe, verify, store are spans
 * inside them). BENCH_LONG_RUNS (default 5), BENCH_RUNS (tiny, default 15); MEDLEY_WORKERS and MEDLEY_FSYNC
 * (default true) are passed through. The last line is the result as JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { b64, FFMPEG, alternate, concatFixtures, gen, median, sleep, timeCommand } from './lib/media.mjs';
import { startMedley } from './lib/medley.mjs';
import { cpuTimes, processCpuSec, reapedChildrenCpuSec } from './lib/proc.mjs';
import { loggedSuccess, medianPhases, phasesOf, taskClients } from './lib/tasks.mjs';

const LONG_RUNS = Number(process.env.BENCH_LONG_RUNS ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const N = Number(process.env.BENCH_TASKS ?? 50);
/** Tiny tasks: completion seen in the server log (default) or by polling GetTask every BENCH_POLL_MS. */
const TINY_POLL_MS = process.env.BENCH_POLL_MS ? Number(process.env.BENCH_POLL_MS) : undefined;
const dir = mkdtempSync(join(tmpdir(), 'medley-bench-tasks-'));
const out = (s) => process.stdout.write(s);
const fmtPhases = (p) => Object.entries(p).map(([k, v]) => `${k} ${v}`).join(', ');

/**
 * The task's submit → Succeeded seconds, the CPU seconds the server and its FFmpeg/ffprobe children spent
 * meanwhile, and its logged phases. `pollMs`: completion seen by polling GetTask that often; undefined: seen
 * in the server's log (no API requests while it runs; an upper bound, see loggedSuccess).
 */
async function timeTask(server, c, key, processString, pollMs) {
  const cpu0 = processCpuSec(server.child.pid);
  const t0 = process.hrtime.bigint();
  const id = await c.submit(key, processString);
  let s;
  if (pollMs === undefined) {
    const seen = loggedSuccess(server, id);
    await seen;
    s = await c.status(id);
  } else s = await c.waitFor(id, pollMs);
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  if (s !== 'Succeeded') throw new Error(`task ${id} ended ${s}`);
  for (let i = 0; i < 50 && !phasesOf(server.output(), id); i++) await sleep(10);
  return { sec, cpuSec: processCpuSec(server.child.pid) - cpu0, phases: phasesOf(server.output(), id) };
}

/** The plain command's wall seconds and CPU seconds. */
async function timePlain(args) {
  const cpu0 = reapedChildrenCpuSec();
  const sec = await timeCommand(FFMPEG, args);
  return { sec, cpuSec: reapedChildrenCpuSec() - cpu0 };
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

    // 1. The 5-minute concat, end to end, against the plain command on local files. Every run reads sources
    //    uploaded for it (fresh blobs: nothing is known about them yet, as for a user's new upload).
    const longRun = async (tag) => {
      for (const [i, n] of concat.names.entries()) await c.oss.put(`${tag}/${n}`, concat.paths[i]);
      const ps = `audio/concat,f_mp3,ab_128000/pre,o_${b64(`${tag}/a.mp3`)}/sur,o_${b64(`${tag}/c.mp3`)}|sys/saveas,o_${b64(`${tag}/out.mp3`)}`;
      return timeTask(server, c, `${tag}/b.mp3`, ps);
    };
    await longRun('warm'); // warm-up: JIT, page cache
    const longPhases = [];
    const longCpu = { task: [], plain: [] };
    const long = await alternate(
      LONG_RUNS,
      async (i) => {
        const r = await longRun(`r${i}`);
        if (r.phases) longPhases.push(r.phases);
        longCpu.task.push(r.cpuSec);
        return r.sec;
      },
      async () => {
        const r = await timePlain(concat.plainArgs(join(dir, 'plain-long.mp3')));
        longCpu.plain.push(r.cpuSec);
        return r.sec;
      },
    );
    const longCpuRatio = median(longCpu.task.map((t, i) => t / longCpu.plain[i]));

    // 2. Tiny tasks: overhead above the plain command. The same source every time (as a user converting
    //    one upload to several formats: its probe is remembered), and a fresh upload every time.
    const tinyString = (i) => `audio/convert,f_mp3,ab_64000|sys/saveas,o_${b64(`tiny/out-${i}.{autoext}`)}`;
    const tinyPlain = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-i', tiny, '-c:a', 'libmp3lame', '-b:a', '64k', join(dir, 'plain-tiny.mp3')];
    const tinyBench = async (fresh) => {
      for (let i = 0; i < 3; i++) await timeTask(server, c, 'tiny.wav', tinyString(`warm-${i}`), TINY_POLL_MS);
      const phases = [];
      const cpu = [];
      const run = await alternate(
        RUNS,
        async (i) => {
          let key = 'tiny.wav';
          if (fresh) {
            key = `tiny-${i}-${Date.now()}.wav`;
            await c.oss.put(key, tiny);
          }
          const r = await timeTask(server, c, key, tinyString(`${fresh ? 'f' : 's'}${i}`), TINY_POLL_MS);
          if (r.phases) phases.push(r.phases);
          cpu.push(r.cpuSec);
          await sleep(20);
          return r.sec;
        },
        async () => {
          const r = await timePlain(tinyPlain);
          cpu.push(-r.cpuSec);
          await sleep(20);
          return r.sec;
        },
      );
      // cpu alternates task (+) and plain (-) entries pairwise: the per-pair CPU difference.
      const cpuDiffs = [];
      for (let i = 0; i + 1 < cpu.length; i += 2) cpuDiffs.push((cpu[i] + cpu[i + 1]) * 1000);
      const overheadMs = median(run.as.map((t, i) => (t - run.bs[i]) * 1000));
      return { runs: RUNS, medianTaskMs: +(run.a * 1000).toFixed(1), medianPlainFfmpegMs: +(run.b * 1000).toFixed(1), medianOverheadMs: +overheadMs.toFixed(1), medianCpuOverheadMs: +median(cpuDiffs).toFixed(1), targetMs: 50, pass: overheadMs <= 50, phasesMs: medianPhases(phases) };
    };
    const tinySame = await tinyBench(false);
    const tinyFresh = await tinyBench(true);

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
      endToEnd: { runs: LONG_RUNS, medianTaskSec: +long.a.toFixed(3), medianPlainFfmpegSec: +long.b.toFixed(3), ratio: +long.ratio.toFixed(3), cpuRatio: +longCpuRatio.toFixed(3), target: 1.08, pass: long.ratio <= 1.08, phasesMs: medianPhases(longPhases) },
      tiny: tinySame,
      tinyFreshSource: tinyFresh,
      throughput: { tasks: N, wallSec: +wall.toFixed(2), tasksPerSec: +(N / wall).toFixed(2), coresBusyPercent: +(busy * 100).toFixed(1), medleyCpuPercent: +(medleyBusy * 100).toFixed(1) },
    };
    const e = results.endToEnd;
    out(`\ntask end to end (3-clip 5-minute MP3 concat, fresh uploads, median of ${LONG_RUNS}): submit→Succeeded ${e.medianTaskSec.toFixed(3)} s, plain FFmpeg ${e.medianPlainFfmpegSec.toFixed(3)} s, ratio ${e.ratio.toFixed(3)} (CPU ${e.cpuRatio.toFixed(3)})  ${e.pass ? 'PASS' : 'MISS'} (≤ ${e.target})\n`);
    out(`  phases (ms): ${fmtPhases(e.phasesMs)}\n`);
    for (const [label, t] of [['same source', tinySame], ['fresh upload each', tinyFresh]]) {
      out(`tiny task (1 s wav → mp3, ${label}, median of ${RUNS}${TINY_POLL_MS ? `, GetTask every ${TINY_POLL_MS} ms` : ''}): submit→Succeeded ${t.medianTaskMs.toFixed(1)} ms, plain FFmpeg ${t.medianPlainFfmpegMs.toFixed(1)} ms, overhead ${t.medianOverheadMs.toFixed(1)} ms (CPU ${t.medianCpuOverheadMs.toFixed(1)} ms)  ${t.pass ? 'PASS' : 'MISS'} (≤ ${t.targetMs} ms)\n`);
      out(`  phases (ms): ${fmtPhases(t.phasesMs)}\n`);
    }
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
