/** Replay protection for RPC signatures (spec/imm.md §1.4) against a real temp SQLite database. */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/db/connection.js';
import { NonceStore } from '../../src/auth/nonce-store.js';

let dir: string;
let db: Db;
const t0 = new Date('2024-08-20T07:03:07Z');
const later = (ms: number) => new Date(t0.getTime() + ms);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medley-nonces-'));
  db = await openDatabase(join(dir, 'm.db'), { durable: false });
});
after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await db.deleteFrom('request_nonces').execute();
});

test('a new nonce is accepted, its repeat is refused', async () => {
  const store = new NonceStore(db);
  assert.equal(await store.remember('ak', 'n1', t0), true);
  assert.equal(await store.remember('ak', 'n1', later(1000)), false);
});

test('the same nonce under another AccessKeyId is a different pair', async () => {
  const store = new NonceStore(db);
  assert.equal(await store.remember('ak1', 'n1', t0), true);
  assert.equal(await store.remember('ak2', 'n1', t0), true);
});

test('a nonce may be reused once its 15 minutes have passed', async () => {
  const store = new NonceStore(db);
  assert.equal(await store.remember('ak', 'n1', t0), true);
  assert.equal(await store.remember('ak', 'n1', later(15 * 60_000 - 1)), false);
  assert.equal(await store.remember('ak', 'n1', later(15 * 60_000)), true);
  // Reviving it restarts the window.
  assert.equal(await store.remember('ak', 'n1', later(20 * 60_000)), false);
});

test('two stores on one database see each other\'s nonces (several processes)', async () => {
  assert.equal(await new NonceStore(db).remember('ak', 'n1', t0), true);
  assert.equal(await new NonceStore(db).remember('ak', 'n1', t0), false);
});

test('concurrent requests with one nonce: exactly one is accepted', async () => {
  const store = new NonceStore(db);
  const results = await Promise.all(Array.from({ length: 10 }, () => store.remember('ak', 'race', t0)));
  assert.equal(results.filter(Boolean).length, 1);
});

test('purgeExpired deletes expired rows only and counts them', async () => {
  const store = new NonceStore(db);
  await store.remember('ak', 'short', t0, 1000);
  await store.remember('ak', 'long', t0, 60_000);
  assert.equal(await store.purgeExpired(later(1000)), 1);
  const rows = await db.selectFrom('request_nonces').select('nonce').execute();
  assert.deepEqual(rows, [{ nonce: 'long' }]);
});

test('expired rows are purged opportunistically once a minute', async () => {
  const store = new NonceStore(db);
  await store.remember('ak', 'old', t0, 1000);
  await store.remember('ak', 'x', later(30_000));
  assert.equal((await db.selectFrom('request_nonces').select('nonce').where('nonce', '=', 'old').execute()).length, 1);
  await store.remember('ak', 'y', later(61_000));
  assert.equal((await db.selectFrom('request_nonces').select('nonce').where('nonce', '=', 'old').execute()).length, 0);
});
