/** The off-thread MD5 (hashing.ts + hash-worker.ts) gives the same digest as node:crypto, across batch boundaries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { OffThreadMd5 } from '../../src/storage/hashing.js';

test('OffThreadMd5 equals createHash("md5") for odd chunk sizes, several jobs at once', async () => {
  const bodies = [randomBytes(3 * 1024 * 1024 + 777), randomBytes(10), Buffer.alloc(0)];
  const digests = await Promise.all(
    bodies.map(async (body) => {
      const h = new OffThreadMd5();
      for (let off = 0; off < body.length; off += 100_003) await h.update(body.subarray(off, off + 100_003));
      return h.digest();
    }),
  );
  bodies.forEach((b, i) => assert.equal(digests[i]!.toString('hex'), createHash('md5').update(b).digest('hex')));
});

test('an aborted job does not disturb the next one', async () => {
  const a = new OffThreadMd5();
  await a.update(randomBytes(2 * 1024 * 1024));
  a.abort();
  const body = randomBytes(1234567);
  const b = new OffThreadMd5();
  await b.update(body);
  assert.equal((await b.digest()).toString('hex'), createHash('md5').update(body).digest('hex'));
});
