/**
 * Parser-level fuzzing (Medley issue 9): thousands of seeded, mutated process strings, XML bodies and IMM
 * parameter sets through the pure parsers (parser-targets.ts). Every case must return or throw a 4xx
 * MedleyError — never a TypeError/RangeError/other exception — and finish within HANG_MS (each target runs
 * in a worker thread that is terminated when a case overstays).
 *
 * Replay: MEDLEY_FUZZ_SEED=<seed> (printed in the test names) reproduces every case; MEDLEY_FUZZ_CASES=<n>
 * or x<factor> changes how many run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { Rng, fuzzCases, fuzzSeed } from './prng.js';
import { TARGETS } from './parser-targets.js';
import type { WorkerInput, WorkerResult } from './parser-worker.js';

const SEED = fuzzSeed();
/** A case running longer than this is a hang (generous: the CI machine may be loaded). */
const HANG_MS = 10_000;
/** A case slower than this is a super-linear blow-up (catastrophic regex backtracking, quadratic loops). */
const SLOW_MS = 3_000;

const WORKER = new URL('./parser-worker.ts', import.meta.url).href;
// Worker threads do not inherit the tsx loader registered by --import: register it inside the worker first.
const BOOTSTRAP = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(WORKER)}); });`;

/** The input as JSON (lone surrogates and control characters escaped): paste it into a unit test to replay one case. */
function show(input: unknown): string {
  return JSON.stringify(input);
}

function runTarget(name: string, cases: number): Promise<WorkerResult> {
  const progress = new SharedArrayBuffer(8);
  const cells = new Int32Array(progress);
  Atomics.store(cells, 0, -1);
  const data: WorkerInput = { target: name, seed: SEED, cases, progress };
  const worker = new Worker(BOOTSTRAP, { eval: true, workerData: data });
  return new Promise((resolve, reject) => {
    let last = -1;
    let since = Date.now();
    const watchdog = setInterval(() => {
      const inFlight = Atomics.load(cells, 0);
      const done = Atomics.load(cells, 1);
      if (inFlight !== last || done > inFlight) {
        last = inFlight;
        since = Date.now();
        return;
      }
      if (Date.now() - since > HANG_MS) {
        clearInterval(watchdog);
        void worker.terminate();
        const target = TARGETS.find((t) => t.name === name)!;
        const input = target.input(Rng.forCase(SEED, name, inFlight));
        reject(new Error(`fuzz ${name} seed ${SEED} case ${inFlight} did not finish in ${HANG_MS} ms (hang). Input:\n${show(input)}`));
      }
    }, 250);
    worker.once('message', (r: WorkerResult) => {
      clearInterval(watchdog);
      void worker.terminate();
      resolve(r);
    });
    worker.once('error', (e) => {
      clearInterval(watchdog);
      reject(new Error(`fuzz ${name} seed ${SEED}: the worker died at case ${Atomics.load(cells, 0)}: ${e.stack ?? String(e)}`));
    });
    worker.once('exit', (code) => {
      clearInterval(watchdog);
      if (code !== 0) reject(new Error(`fuzz ${name} seed ${SEED}: the worker exited with ${code} at case ${Atomics.load(cells, 0)}`));
    });
  });
}

for (const target of TARGETS) {
  const cases = fuzzCases(target.cases);
  test(`fuzz ${target.name}: ${cases} cases, seed ${SEED} — only 4xx MedleyErrors, no hang`, async (t) => {
    const r = await runTarget(target.name, cases);
    t.diagnostic(`${target.name}: ${r.ok} accepted, ${r.rejected} rejected ${JSON.stringify(r.byStatus)}, ${r.failureCount} bad, ${Math.round(r.ms)} ms, slowest case ${r.slowest.index} ${r.slowest.ms.toFixed(1)} ms`);
    if (r.failureCount > 0) {
      const first = r.failures[0]!;
      const more = r.failures.slice(1).map((f) => `  case ${f.index}: ${f.error.split('\n', 1)[0]}`).join('\n');
      assert.fail(
        `fuzz ${target.name} seed ${SEED}: ${r.failureCount} of ${cases} cases threw something other than a 4xx MedleyError.\n` +
          `First: case ${first.index}: ${first.error}\nInput:\n${show(first.input)}\n${more ? `Others:\n${more}` : ''}`,
      );
    }
    assert.ok(r.slowest.ms < SLOW_MS, `fuzz ${target.name} seed ${SEED} case ${r.slowest.index} took ${r.slowest.ms.toFixed(0)} ms (limit ${SLOW_MS}). Input:\n${show(target.input(Rng.forCase(SEED, target.name, r.slowest.index)))}`);
    assert.equal(r.ok + r.rejected, cases);
  });
}
