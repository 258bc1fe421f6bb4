/** body-garbage.ts: a scavenge after every SCAVENGE_EVERY ingested bytes, without a `gc` global left behind. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { SCAVENGE_EVERY, bodyBytesConsumed } from '../../src/storage/body-garbage.js';

/** Minor collections seen while `fn` runs (and the observer's callback has caught up). */
async function scavengesDuring(fn: () => void): Promise<number> {
  let minor = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
  });
  observer.observe({ entryTypes: ['gc'] });
  fn();
  await new Promise((r) => setTimeout(r, 50));
  observer.disconnect();
  return minor;
}

test('SCAVENGE_EVERY bytes of body, in pieces, trigger a minor collection each time', async () => {
  const n = await scavengesDuring(() => {
    for (let i = 0; i < 3 * (SCAVENGE_EVERY / 65536); i++) bodyBytesConsumed(65536);
  });
  assert.ok(n >= 3, `expected at least 3 scavenges, saw ${n}`);
});

test('the process is left without a gc global', () => {
  bodyBytesConsumed(SCAVENGE_EVERY);
  assert.equal((globalThis as { gc?: unknown }).gc, undefined);
});
