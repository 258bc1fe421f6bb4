/**
 * Prompt collection of upload bodies' garbage. Node's HTTP parser hands each piece of a request body
 * (≤ 64 KiB) over in a freshly malloc'd Buffer; once hashed and written it is garbage only a V8 collection
 * frees. Left to itself, V8 lets tens of MB of such external memory gather before it collects, so each big
 * upload in flight adds to the peak RSS, and glibc keeps the pages it grew for them. Here a minor
 * collection (a scavenge: the pieces die young) runs after every SCAVENGE_EVERY bytes ingested by all
 * uploads together, which bounds that garbage to about SCAVENGE_EVERY. Measured with 8 concurrent 1 GiB
 * PUTs on a fresh server: peak RSS 121–129 MB against 135–145 MB; 127 scavenges per GiB, 61 ms in all.
 * A shorter interval is worse: at 2 MiB, pieces still in flight survive two scavenges, are promoted, and
 * wait for a mark-compact (peak 172 MB).
 *
 * The same first use also turns off V8's concurrent array-buffer sweeping, so the freed pieces' memory goes
 * back to malloc on the main thread, right after the scavenge, rather than on a helper thread: that helper
 * cost 1–2.5 CPU-s (mostly system time) per GiB uploaded on 2 cores (server CPU per 1 GiB PUT 3.5–3.9 s
 * against 4.7–6.5 s, alternating rounds). V8 reads that flag at every sweep, so setting it at run time works
 * however the process was started (measured the same as passing it on node's command line).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Bytes of body, summed over all uploads, between two scavenges. */
export const SCAVENGE_EVERY = 8 * 1024 * 1024;

type Gc = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => unknown;

/**
 * V8's gc(): the global one when node runs with --expose-gc, otherwise taken from a fresh context with
 * the flag set only for that moment, so the rest of the process never sees a `gc` global.
 */
function loadGc(): Gc | undefined {
  const exposed = (globalThis as { gc?: Gc }).gc;
  if (typeof exposed === 'function') return exposed;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as Gc) : undefined;
  } catch {
    return undefined; // e.g. an embedder that refuses flags: uploads still work, V8 collects on its own
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

let gc: Gc | undefined | null = null;
let sinceLast = 0;

function init(): Gc | undefined {
  try {
    setFlagsFromString('--no-concurrent-array-buffer-sweeping');
  } catch {
    // only a cost: V8 keeps sweeping on its helper thread
  }
  return loadGc();
}

/** Counts `bytes` of ingested body; runs a scavenge once SCAVENGE_EVERY bytes have passed since the last. */
export function bodyBytesConsumed(bytes: number): void {
  sinceLast += bytes;
  if (sinceLast < SCAVENGE_EVERY) return;
  sinceLast = 0;
  if (gc === null) gc = init();
  gc?.({ type: 'minor' });
}
