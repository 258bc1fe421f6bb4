#!/usr/bin/env node
// Storage benchmark: the built `medley serve` (fsync on, the default) against a bare node:http server that
// stores objects durably (bench/lib/oss.mjs), measured by the same client in the same run, alternating.
//
//   npm run bench:storage          (= npm run build && node --expose-gc bench/storage.mjs)
//
//   0. limits of this machine: fsync latency of one small durable write, MD5 and CRC-64 MB/s on one core,
//      a stream copy + fsync of the big file;
//   1. small objects: BENCH_COUNT (600) x BENCH_OBJECT_SIZE (4096) B through ali-oss (path style,
//      BENCH_CONCURRENCY = 8 at a time), PUT then GET, BENCH_ROUNDS (5) rounds.
//      Targets: PUT >= 0.7x and GET >= 0.8x the bare server's ops/s;
//   2. one BENCH_BIG_MB (1024) MiB object: PUT streamed from a file (ETag checked = MD5 of the file), GET
//      to /dev/null (byte count checked), BENCH_BIG_ROUNDS (3) rounds. Targets: PUT >= 0.8x, GET >= 1.0x;
//   3. BENCH_CONCURRENCY (8) such objects at once, PUT then GET, server RSS sampled every 50 ms.
//      Target: peak RSS <= 150 MB. Idle RSS (after start, and after the run) is reported, and where the
//      RSS is when the phase begins (node binary, malloc heap, other anonymous memory, files; /proc smaps).
// Ratios are medians of the per-round ratios; "CPU" is the server's CPU time. The machine may be shared:
// the ratios (same run, alternating) are the figures to read, not the absolute numbers.
//
// Disk: the source file + BENCH_CONCURRENCY big objects (+ as many on the bare server) under
// ./.bench-tmp (git-ignored) ≈ 9 GiB with the defaults; checked before starting.
// Flags: --large runs only phase 2 (one big object; = BENCH_SKIP_SMALL=1 BENCH_SKIP_CONCURRENT=1), --large-all
// phases 2 and 3 (= BENCH_SKIP_SMALL=1).
// Environment: the names above, BENCH_SKIP_SMALL=1, BENCH_SKIP_BIG=1, BENCH_SKIP_CONCURRENT=1,
// BENCH_VERIFY=0 (skip the untimed MD5 check of one downloaded big object), BENCH_SERVER_NODE_ARGS (node
// flags for Medley after npm start's, e.g. "--cpu-prof"), BENCH_START_FLAGS=0 (without npm start's),
// BENCH_MEDLEY_ENV (Medley settings as JSON), BENCH_COMPARE_MAIN (dist/cli/main.js of another build: measured
// as a third server in the small-object and big-object rounds), BENCH_COMPARE_NODE_ARGS (node flags for that build,
// after npm start's).
// The last line of output is the result as JSON.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, statfs } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import { MB, MiB, ROOT, alternate, fmt, intEnv, median, smallObjectsPhase, startBare, startMedley, stopAll, streamClient, wordsEnv } from './lib/oss.mjs';
import { cpuSeconds, rssBreakdownMB, rssMB, rssPeakSampler } from './lib/proc.mjs';

const COUNT = intEnv('BENCH_COUNT', 600);
const SIZE = intEnv('BENCH_OBJECT_SIZE', 4096);
const ROUNDS = intEnv('BENCH_ROUNDS', 5);
const BIG_MB = intEnv('BENCH_BIG_MB', 1024);
const BIG_ROUNDS = intEnv('BENCH_BIG_ROUNDS', 3);
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 8);
const ARGS = process.argv.slice(2);
for (const a of ARGS) if (a !== '--large' && a !== '--large-all') throw new Error(`unknown flag ${a} (known: --large, --large-all)`);
const SKIP_SMALL = process.env.BENCH_SKIP_SMALL === '1' || ARGS.length > 0;
const SKIP_BIG = process.env.BENCH_SKIP_BIG === '1';
const SKIP_CONCURRENT = SKIP_BIG || process.env.BENCH_SKIP_CONCURRENT === '1' || ARGS.includes('--large');
const VERIFY = process.env.BENCH_VERIFY !== '0';
const NODE_ARGS = wordsEnv('BENCH_SERVER_NODE_ARGS');
const MEDLEY_ENV = JSON.parse(process.env.BENCH_MEDLEY_ENV ?? '{}');
const COMPARE = process.env.BENCH_COMPARE_MAIN;
// BENCH_COMPARE_NODE_ARGS: node flags for that build, after npm start's (an A/B of flags: the same build twice).
const COMPARE_NODE_ARGS = wordsEnv('BENCH_COMPARE_NODE_ARGS');
const BIG = BIG_MB * MiB;
const BUCKET = 'bench-storage';
const TARGETS = { smallPut: 0.7, smallGet: 0.8, bigPut: 0.8, bigGet: 1.0, rssMB: 150 };

const log = (s = '') => process.stdout.write(`${s}\n`);
const syncDisk = () => spawnSync('sync', { stdio: 'ignore' });
const mbps = (bytes, ms) => bytes / MB / (ms / 1000);
const verdict = (ok) => (ok ? 'PASS' : 'MISS');

async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** Writes `size` bytes (a random 16 MiB block, repeated) and returns their MD5. */
async function generate(path, size) {
  const block = randomBytes(16 * MiB);
  const fh = await open(path, 'w');
  const hash = createHash('md5');
  try {
    for (let done = 0; done < size; ) {
      const chunk = block.subarray(0, Math.min(block.length, size - done));
      hash.update(chunk);
      await fh.write(chunk);
      done += chunk.length;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

/** 0. What this machine allows, without HTTP. */
async function limits(dir, src) {
  const out = {};
  // One small durable write: create, write 4 KiB, fsync, close; sequential, so this is the device's latency.
  const fsyncMs = [];
  const small = Buffer.alloc(4096, 1);
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    const fh = await open(join(dir, `fsync-${i}`), 'w');
    await fh.write(small);
    await fh.sync();
    await fh.close();
    fsyncMs.push(performance.now() - t0);
  }
  out.fsyncMs = median(fsyncMs);
  const buf = randomBytes(256 * MiB);
  const t0 = performance.now();
  createHash('md5').update(buf).digest();
  out.md5MBps = mbps(buf.length, performance.now() - t0);
  const { Crc64 } = await import('../dist/storage/crc64.js');
  const t1 = performance.now();
  new Crc64().update(buf).digest();
  out.crc64MBps = mbps(buf.length, performance.now() - t1);
  if (src) {
    syncDisk();
    const copy = join(dir, 'copy.bin');
    const { ms } = await timed(async () => {
      await pipeline(createReadStream(src, { highWaterMark: MiB }), createWriteStream(copy, { highWaterMark: MiB }));
      const fh = await open(copy, 'r');
      await fh.sync();
      await fh.close();
    });
    out.copyFsyncMBps = mbps(BIG, ms);
    await rm(copy, { force: true });
  }
  log(`  one 4 KiB write + fsync: ${fmt(out.fsyncMs, 2)} ms (median of 50, sequential); MD5 ${fmt(out.md5MBps, 0)} MB/s and CRC-64 ${fmt(out.crc64MBps, 0)} MB/s on one core${src ? `; stream copy + fsync of ${BIG_MB} MiB: ${fmt(out.copyFsyncMBps, 0)} MB/s` : ''}`);
  return out;
}

async function main() {
  const tmpRoot = join(ROOT, '.bench-tmp');
  await mkdir(tmpRoot, { recursive: true });
  const needed = SKIP_BIG ? 1 << 30 : BIG * (1 + 2 * (SKIP_CONCURRENT ? 1 : CONCURRENCY)) + (1 << 30);
  const fsInfo = await statfs(tmpRoot);
  const free = fsInfo.bavail * fsInfo.bsize;
  if (free < needed) throw new Error(`not enough free disk under ${tmpRoot}: need ~${(needed / 2 ** 30).toFixed(1)} GiB, have ${(free / 2 ** 30).toFixed(1)} GiB (lower BENCH_BIG_MB, or BENCH_SKIP_CONCURRENT=1)`);
  const dir = await mkdtemp(join(tmpRoot, 'run-'));
  const result = { bench: 'storage', date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, loadavg: os.loadavg().map((x) => +x.toFixed(2)) };
  try {
    log(`Medley storage bench: node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}; load average ${result.loadavg.join(' ')}; temp dir ${dir}`);
    await mkdir(join(dir, 'bare'));
    const src = SKIP_BIG ? undefined : join(dir, 'source.bin');
    const bigMd5 = src ? await generate(src, BIG) : undefined;

    log('\n0. limits of this machine');
    result.limits = await limits(dir, src);

    const medley = await startMedley(join(dir, 'medley'), { env: MEDLEY_ENV, nodeArgs: NODE_ARGS });
    result.medleyNodeFlags = medley.nodeFlags;
    log(`\nMedley runs as \`node ${[...medley.nodeFlags, 'dist/cli/main.js serve'].join(' ')}\` (npm start's node flags; BENCH_START_FLAGS=0 drops them)`);
    const bare = await startBare(join(dir, 'bare'));
    const other = COMPARE ? { name: 'medley (other)', ...(await startMedley(join(dir, 'other'), { env: MEDLEY_ENV, main: COMPARE, nodeArgs: COMPARE_NODE_ARGS })) } : undefined;
    const others = other ? [other] : [];
    await new Promise((r) => setTimeout(r, 2000));
    result.idleRssMB = { medleyAfterStart: rssMB(medley.pid), bareAfterStart: rssMB(bare.pid) };
    log(`\nidle RSS after start: Medley ${fmt(result.idleRssMB.medleyAfterStart)} MB, bare server ${fmt(result.idleRssMB.bareAfterStart)} MB`);

    if (!SKIP_SMALL) {
      log(`\n1. small objects: ${COUNT} x ${SIZE} B through ali-oss, ${CONCURRENCY} concurrent, ${ROUNDS} alternating rounds`);
      result.small = await smallObjectsPhase({ medley, bare, others, bucket: BUCKET, count: COUNT, size: SIZE, concurrency: CONCURRENCY, rounds: ROUNDS, log });
    }

    const clients = { medley: streamClient(medley.url, BUCKET, CONCURRENCY), bare: streamClient(bare.url, BUCKET, CONCURRENCY) };
    if (other) clients.other = streamClient(other.url, BUCKET, CONCURRENCY);
    for (const k of ['medley', 'other']) await clients[k]?.request('PUT', undefined).catch(() => undefined); // the bucket (exists if phase 1 ran)
    if (!SKIP_BIG) {
      log(`\n2. one ${BIG_MB} MiB object, ${BIG_ROUNDS} alternating rounds (MB = 10^6 bytes)`);
      const targets = [
        { name: 'medley', pid: medley.pid, client: clients.medley },
        { name: 'bare', pid: bare.pid, client: clients.bare },
        ...(other ? [{ name: 'medley (other)', pid: other.pid, client: clients.other }] : []),
      ];
      const run = async ({ client, pid, name }, r) => {
        const key = `big/r${r}`;
        syncDisk();
        const c0 = cpuSeconds(pid);
        const put = await timed(() => client.request('PUT', key, { file: src, length: BIG }));
        const c1 = cpuSeconds(pid);
        if (name !== 'bare' && String(put.value.headers.etag).replace(/"/g, '').toLowerCase() !== bigMd5) throw new Error(`PUT ${key}: ETag ${put.value.headers.etag}, expected the MD5 ${bigMd5}`);
        const get = await timed(() => client.request('GET', key));
        const c2 = cpuSeconds(pid);
        if (get.value.bytes !== BIG) throw new Error(`GET ${key}: ${get.value.bytes} bytes, expected ${BIG}`);
        await client.request('DELETE', key);
        return { put: mbps(BIG, put.ms), get: mbps(BIG, get.ms), putCpuS: c1 - c0, getCpuS: c2 - c1 };
      };
      const out = await alternate(targets, BIG_ROUNDS, run, (r, [m, b, o]) => {
        log(`  round ${r + 1}: PUT ${fmt(m.put, 0)} vs bare ${fmt(b.put, 0)} MB/s (${fmt(m.put / b.put, 2)}x); GET ${fmt(m.get, 0)} vs bare ${fmt(b.get, 0)} MB/s (${fmt(m.get / b.get, 2)}x); server CPU s PUT ${fmt(m.putCpuS, 2)} vs ${fmt(b.putCpuS, 2)}, GET ${fmt(m.getCpuS, 2)} vs ${fmt(b.getCpuS, 2)}`);
        if (o) log(`           medley (other): PUT ${fmt(o.put, 0)} MB/s (${fmt(o.put / b.put, 2)}x), GET ${fmt(o.get, 0)} MB/s (${fmt(o.get / b.get, 2)}x), server CPU s PUT ${fmt(o.putCpuS, 2)}, GET ${fmt(o.getCpuS, 2)}`);
      });
      result.big = { medley: out.medians[0], bare: out.medians[1], putRatio: out.ratios[0].put, getRatio: out.ratios[0].get };
      if (other) result.big.other = { ...out.medians[2], putRatio: out.ratios[2].put, getRatio: out.ratios[2].get };
      log(`  median: PUT ${fmt(result.big.medley.put, 0)} vs bare ${fmt(result.big.bare.put, 0)} MB/s = ${fmt(result.big.putRatio, 2)}x (target >= ${TARGETS.bigPut}); GET ${fmt(result.big.medley.get, 0)} vs bare ${fmt(result.big.bare.get, 0)} MB/s = ${fmt(result.big.getRatio, 2)}x (target >= ${TARGETS.bigGet})`);
      if (VERIFY) {
        await clients.medley.request('PUT', 'big/verify', { file: src, length: BIG });
        const r = await clients.medley.request('GET', 'big/verify', { md5: true });
        if (r.md5 !== bigMd5) throw new Error(`GET big/verify returned other bytes: MD5 ${r.md5}, expected ${bigMd5}`);
        await clients.medley.request('DELETE', 'big/verify');
        log('  (untimed) downloaded bytes verified by MD5');
      }
    }

    if (!SKIP_CONCURRENT) {
      log(`\n3. ${CONCURRENCY} concurrent ${BIG_MB} MiB transfers: PUT all, then GET all; server RSS sampled every 50 ms`);
      result.concurrent = {};
      for (const [name, server] of [['medley', medley], ['bare', bare]]) {
        const client = clients[name];
        const sampler = await rssPeakSampler(server.pid, 50);
        const keys = Array.from({ length: CONCURRENCY }, (_, i) => `conc/${i}`);
        syncDisk();
        const startRss = rssMB(server.pid);
        const startParts = rssBreakdownMB(server.pid);
        sampler.begin();
        const put = await timed(() => Promise.all(keys.map((k) => client.request('PUT', k, { file: src, length: BIG }))));
        const putPeak = sampler.end().peak / MB;
        sampler.begin();
        const get = await timed(() => Promise.all(keys.map((k) => client.request('GET', k))));
        const getPeak = sampler.end().peak / MB;
        await sampler.stop();
        await Promise.all(keys.map((k) => client.request('DELETE', k)));
        result.concurrent[name] = { startRssMB: startRss, startRssParts: startParts, putMBps: mbps(CONCURRENCY * BIG, put.ms), getMBps: mbps(CONCURRENCY * BIG, get.ms), putPeakRssMB: putPeak, getPeakRssMB: getPeak, peakRssMB: Math.max(putPeak, getPeak) };
        const c = result.concurrent[name];
        const parts = Object.entries(c.startRssParts).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
        log(`  ${name.padEnd(6)}: RSS before ${fmt(c.startRssMB)} MB (${parts}); PUT ${fmt(c.putMBps, 0)} MB/s (peak RSS ${fmt(c.putPeakRssMB)} MB), GET ${fmt(c.getMBps, 0)} MB/s (peak RSS ${fmt(c.getPeakRssMB)} MB)`);
      }
    }
    await new Promise((r) => setTimeout(r, 2000));
    result.idleRssMB.medleyAfterRun = rssMB(medley.pid);
    log(`\nidle RSS after the run (2 s later): Medley ${fmt(result.idleRssMB.medleyAfterRun)} MB`);
    for (const c of Object.values(clients)) c.destroy();

    log('\nTargets (ratios to the bare node:http server, same client, same run):');
    const targets = {};
    if (result.small) {
      const m = result.small[0];
      targets.smallPut = { ratio: m.putRatio, min: TARGETS.smallPut, result: verdict(m.putRatio >= TARGETS.smallPut) };
      targets.smallGet = { ratio: m.getRatio, min: TARGETS.smallGet, result: verdict(m.getRatio >= TARGETS.smallGet) };
    }
    if (result.big) {
      targets.bigPut = { ratio: result.big.putRatio, min: TARGETS.bigPut, result: verdict(result.big.putRatio >= TARGETS.bigPut) };
      targets.bigGet = { ratio: result.big.getRatio, min: TARGETS.bigGet, result: verdict(result.big.getRatio >= TARGETS.bigGet) };
    }
    if (result.concurrent) {
      const p = result.concurrent.medley.peakRssMB;
      targets.concurrentPeakRss = { peakRssMB: p, max: TARGETS.rssMB, result: verdict(p <= TARGETS.rssMB) };
    }
    for (const [k, t] of Object.entries(targets)) log(`  ${k.padEnd(18)} ${t.result}  ${t.ratio !== undefined ? `${fmt(t.ratio, 2)}x (>= ${t.min})` : `${fmt(t.peakRssMB)} MB (<= ${t.max})`}`);
    result.targets = targets;
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
  const round = (v) => (typeof v === 'number' ? +v.toFixed(3) : Array.isArray(v) ? v.map(round) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round(x)])) : v);
  log(JSON.stringify(round(result)));
}

for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => stopAll().finally(() => process.exit(130)));
main().catch(async (e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  await stopAll();
  process.exit(1);
});
