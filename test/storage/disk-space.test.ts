/** The free-disk reserve: parsing MEDLEY_MIN_FREE_DISK, and refusing below it on a real statfs sample. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { DiskSpace, formatBytes, parseDiskReserve, reserveBytes } from '../../src/storage/disk-space.js';
import { MedleyError } from '../../src/errors.js';

describe('parseDiskReserve', () => {
  const cases: Array<[string, ReturnType<typeof parseDiskReserve>]> = [
    ['0', { kind: 'bytes', bytes: 0 }],
    ['1073741824', { kind: 'bytes', bytes: 1073741824 }],
    ['1GiB', { kind: 'bytes', bytes: 1024 ** 3 }],
    ['1gib', { kind: 'bytes', bytes: 1024 ** 3 }],
    ['1G', { kind: 'bytes', bytes: 1024 ** 3 }],
    ['2GB', { kind: 'bytes', bytes: 2e9 }],
    ['512MiB', { kind: 'bytes', bytes: 512 * 1024 ** 2 }],
    ['1.5 GiB', { kind: 'bytes', bytes: 1.5 * 1024 ** 3 }],
    ['100KB', { kind: 'bytes', bytes: 100_000 }],
    ['4k', { kind: 'bytes', bytes: 4096 }],
    ['10B', { kind: 'bytes', bytes: 10 }],
    ['2%', { kind: 'percent', percent: 2 }],
    ['0.5%', { kind: 'percent', percent: 0.5 }],
    ['100%', undefined],
    ['-1', undefined],
    ['1 PB', undefined],
    ['lots', undefined],
    ['', undefined],
    ['1GiBs', undefined],
  ];
  for (const [text, want] of cases) test(JSON.stringify(text), () => assert.deepEqual(parseDiskReserve(text), want));
});

test('reserveBytes and formatBytes', () => {
  assert.equal(reserveBytes({ kind: 'bytes', bytes: 5 }, 1000), 5);
  assert.equal(reserveBytes({ kind: 'percent', percent: 2 }, 1000), 20);
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(800 * 1024 ** 2), '800.0 MiB');
  assert.equal(formatBytes(1024 ** 3), '1.0 GiB');
});

test('below the reserve, assertWritable refuses with 503 naming the shortage; above it, it passes', async () => {
  let refused = 0;
  // 99.99% of the volume is more than is ever free.
  const full = new DiskSpace({ path: tmpdir(), reserve: { kind: 'percent', percent: 99.99 }, onRefused: () => refused++ });
  await full.start();
  try {
    assert.ok(full.current && full.current.totalBytes > 0);
    assert.equal(full.writable, false);
    assert.throws(
      () => full.assertWritable(),
      (e: unknown) => e instanceof MedleyError && e.status === 503 && e.code === 'ServiceUnavailable' && /^Free disk space .+ is below the reserve of 99\.99% of the volume \(.+\) \(MEDLEY_MIN_FREE_DISK\)/.test(e.message),
    );
    assert.equal(refused, 1);
  } finally {
    full.stop();
  }
  const off = new DiskSpace({ path: tmpdir(), reserve: { kind: 'bytes', bytes: 0 } });
  await off.start();
  off.stop();
  assert.equal(off.writable, true);
  off.assertWritable();
});

test('a volume that cannot be read does not block writes (no sample yet)', async () => {
  const errors: unknown[] = [];
  const d = new DiskSpace({ path: '/nonexistent/medley', reserve: { kind: 'bytes', bytes: 1 }, onError: (e) => errors.push(e) });
  await d.start();
  d.stop();
  assert.equal(errors.length, 1);
  assert.equal(d.current, undefined);
  d.assertWritable();
});
