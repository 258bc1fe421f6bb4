/**
 * A small seeded PRNG for the fuzz tests (mulberry32): the same seed gives the same cases on every machine,
 * so a failure printed by CI can be replayed with `MEDLEY_FUZZ_SEED=<seed>`.
 *
 * Every case draws from its own generator, seeded from (run seed, corpus name, case index): a case does not
 * depend on how many numbers earlier cases drew, so changing one mutator does not reshuffle every other case.
 */

/** The default run seed: fixed, so CI is deterministic; override with MEDLEY_FUZZ_SEED. */
export const DEFAULT_SEED = 0x5eed2026;

/** The run seed: MEDLEY_FUZZ_SEED (decimal or 0x-hex), else DEFAULT_SEED. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MEDLEY_FUZZ_SEED?.trim();
  if (!raw) return DEFAULT_SEED;
  const n = /^0x[0-9a-f]+$/i.test(raw) ? Number.parseInt(raw.slice(2), 16) : Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`MEDLEY_FUZZ_SEED must be a non-negative integer, not "${raw}"`);
  return n >>> 0;
}

/**
 * How many cases a fuzz test runs: `def` scaled by MEDLEY_FUZZ_CASES, which is either a count per test
 * (`MEDLEY_FUZZ_CASES=500`) or a factor (`MEDLEY_FUZZ_CASES=x10`).
 */
export function fuzzCases(def: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MEDLEY_FUZZ_CASES?.trim();
  if (!raw) return def;
  const factor = /^x(\d+(\.\d+)?)$/i.exec(raw);
  const n = factor ? Math.round(def * Number(factor[1])) : Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`MEDLEY_FUZZ_CASES must be a count or x<factor>, not "${raw}"`);
  return n;
}

/** FNV-1a of a string, to fold a corpus name into a seed. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The generator of one case. */
  static forCase(runSeed: number, corpus: string, index: number): Rng {
    return new Rng((runSeed ^ fnv1a(corpus) ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  }

  /** mulberry32: a uniform 32-bit value. */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor(this.float() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)] as T;
  }
}
