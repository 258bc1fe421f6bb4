/**
 * Runs the cases of one parser target in a worker thread (parsers.fuzz.test.ts is the driver). Before each
 * case it writes the case index into the shared progress cell, so the driver can time-box every call: a case
 * that does not finish within the limit is a hang, and the worker is terminated.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Rng } from './prng.js';
import { TARGETS, judge } from './parser-targets.js';

export interface WorkerInput {
  target: string;
  seed: number;
  cases: number;
  /** Int32Array(2) over a SharedArrayBuffer: [case index in flight, cases done]. */
  progress: SharedArrayBuffer;
}

export interface Failure {
  index: number;
  input: unknown;
  error: string;
}

export interface WorkerResult {
  ok: number;
  rejected: number;
  byStatus: Record<string, number>;
  failures: Failure[];
  failureCount: number;
  slowest: { index: number; ms: number };
  ms: number;
}

const { target: name, seed, cases, progress } = workerData as WorkerInput;
const cells = new Int32Array(progress);
const target = TARGETS.find((t) => t.name === name);
if (!target) throw new Error(`unknown fuzz target ${name}`);

/** Prototype pollution: a parser that walks caller-named paths into Object.prototype (or Array.prototype). */
const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype];
const baseline = PROTOTYPES.map((p) => Object.getOwnPropertyNames(p).join(','));
function polluted(): string | undefined {
  for (const [i, p] of PROTOTYPES.entries()) {
    if (Object.getOwnPropertyNames(p).join(',') === baseline[i]) continue;
    const extra = Object.getOwnPropertyNames(p).filter((n) => !baseline[i]!.split(',').includes(n));
    for (const n of extra) delete (p as Record<string, unknown>)[n];
    return `prototype pollution: ${['Object', 'Array', 'Function'][i]}.prototype gained ${extra.join(', ')}`;
  }
  return undefined;
}

const result: WorkerResult = { ok: 0, rejected: 0, byStatus: {}, failures: [], failureCount: 0, slowest: { index: -1, ms: 0 }, ms: 0 };
const t0 = performance.now();
for (let i = 0; i < cases; i++) {
  Atomics.store(cells, 0, i);
  const input = target.input(Rng.forCase(seed, name, i));
  const s = performance.now();
  const judged = judge(target, input);
  const pollution = polluted();
  const v = pollution ? { kind: 'bad' as const, error: pollution } : judged;
  const ms = performance.now() - s;
  if (ms > result.slowest.ms) result.slowest = { index: i, ms };
  if (v.kind === 'ok') result.ok++;
  else if (v.kind === 'rejected') {
    result.rejected++;
    result.byStatus[v.status] = (result.byStatus[v.status] ?? 0) + 1;
  } else {
    result.failureCount++;
    if (result.failures.length < 5) result.failures.push({ index: i, input, error: v.error });
  }
  Atomics.store(cells, 1, i + 1);
}
result.ms = performance.now() - t0;
parentPort!.postMessage(result);
