#!/usr/bin/env node
// Small-object benchmark: BENCH_COUNT (600) objects of BENCH_OBJECT_SIZE (4096) bytes, PUT then GET
// through the ali-oss client (path style, BENCH_CONCURRENCY = 8 at a time), against the built
// `medley serve` (run `npm run build` first; fsync on, the default) and against a bare node:http server
// that stores each object durably (MD5, write, fsync, rename, directory fsync; bench/lib/oss.mjs), in the
// same run, alternating, BENCH_ROUNDS (5) rounds. Prints the medians and the median of the per-round
// ratios. Targets: PUT >= 0.7x the bare server's ops/s, GET >= 0.8x. The last line is the result as JSON.
//
//   node bench/small-objects.mjs
//
// BENCH_SERVER_NODE_ARGS: node flags for Medley after npm start's (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof");
// BENCH_START_FLAGS=0: without npm start's node flags (package.json scripts.start);
// BENCH_MEDLEY_ENV: extra Medley settings as JSON (e.g. '{"MEDLEY_FSYNC":"false"}');
// BENCH_COMPARE_MAIN: the dist/cli/main.js of another build (e.g. the previous commit's), measured in the
// same rounds as a third server: before/after figures from one run.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intEnv, smallObjectsPhase, startBare, startMedley, stopAll, wordsEnv } from './lib/oss.mjs';

const COUNT = intEnv('BENCH_COUNT', 600);
const ROUNDS = intEnv('BENCH_ROUNDS', 5);
const SIZE = intEnv('BENCH_OBJECT_SIZE', 4096);
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 8);
const nodeArgs = wordsEnv('BENCH_SERVER_NODE_ARGS');
const env = JSON.parse(process.env.BENCH_MEDLEY_ENV ?? '{}');
const COMPARE = process.env.BENCH_COMPARE_MAIN;
// BENCH_COMPARE_NODE_ARGS: node flags for that build, after npm start's (an A/B of flags: the same build twice).
const COMPARE_NODE_ARGS = wordsEnv('BENCH_COMPARE_NODE_ARGS');
const log = (s) => process.stdout.write(`${s}\n`);

const dir = await mkdtemp(join(tmpdir(), 'medley-bench-small-'));
try {
  await mkdir(join(dir, 'bare'));
  const medley = await startMedley(join(dir, 'medley'), { env, nodeArgs });
  const bare = await startBare(join(dir, 'bare'));
  log(`small objects: ${COUNT} x ${SIZE} B, ali-oss, ${CONCURRENCY} concurrent, ${ROUNDS} alternating rounds`);
  const others = [];
  if (COMPARE) others.push({ name: 'medley (other)', ...(await startMedley(join(dir, 'other'), { env, main: COMPARE, nodeArgs: COMPARE_NODE_ARGS })) });
  const res = await smallObjectsPhase({ medley, bare, others, bucket: 'bench-small', count: COUNT, size: SIZE, concurrency: CONCURRENCY, rounds: ROUNDS, log });
  await stopAll();
  const r3 = (x) => (x === undefined ? undefined : Number(x.toFixed(3)));
  log(JSON.stringify({ bench: 'small-objects', size: SIZE, count: COUNT, concurrency: CONCURRENCY, rounds: ROUNDS, results: res.map((x) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, typeof v === 'number' ? r3(v) : v]))) }));
} finally {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
}
