/**
 * The database key store behind `medley keys` and the cache the verifiers read (SQLite by default, PostgreSQL
 * under the scale suite).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret, KeyCache, KeyStore, KeyStoreError, parseBucketGrant } from '../../src/auth/key-store.js';
import type { Db } from '../../src/db/connection.js';
import { openTestDatabase } from '../support/backend.js';

let dir: string;
let db: Db;
let store: KeyStore;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-keystore-'));
  db = await openTestDatabase(dir);
  store = new KeyStore(db);
});
after(async () => {
  await db.destroy();
  await rm(dir, { recursive: true, force: true });
});

test('add, show, list (no secrets), credentials (with secrets), revoke', async () => {
  await store.add('LTAIstore00000001', 'a-long-random-secret-1', { 'media-in': 'read', 'media-out': 'read-write' });
  await store.add('LTAIstore00000002', 'a-long-random-secret-2', {});
  const listed = await store.list();
  assert.deepEqual(
    listed.map((k) => [k.accessKeyId, k.grants]),
    [
      ['LTAIstore00000001', { 'media-in': 'read', 'media-out': 'read-write' }],
      ['LTAIstore00000002', {}],
    ],
  );
  assert.ok(!JSON.stringify(listed).includes('a-long-random-secret'), 'list never carries secrets');
  assert.ok(listed[0]!.createdAt.getTime() > Date.now() - 60_000);
  assert.equal((await store.show('LTAIstore00000002'))?.accessKeyId, 'LTAIstore00000002');
  assert.equal(await store.show('LTAIstore0000000X'), undefined);
  const creds = await store.credentials();
  assert.deepEqual(creds.find((c) => c.accessKeyId === 'LTAIstore00000001'), { accessKeyId: 'LTAIstore00000001', secret: 'a-long-random-secret-1', grants: { 'media-in': 'read', 'media-out': 'read-write' } });
  assert.equal(await store.revoke('LTAIstore00000002'), true);
  assert.equal(await store.revoke('LTAIstore00000002'), false);
  assert.deepEqual((await store.list()).map((k) => k.accessKeyId), ['LTAIstore00000001']);
});

const refused: Array<[string, () => Promise<void>, RegExp]> = [
  ['a duplicate id', () => store.add('LTAIstore00000001', 'another-long-secret-x', {}), /already exists/],
  ['a short id', () => store.add('short', 'a-long-random-secret-1', {}), /AccessKeyId "short"/],
  ['an id with a slash', () => store.add('LTAI/store/00001', 'a-long-random-secret-1', {}), /AccessKeyId/],
  ['a short secret', () => store.add('LTAIstore00000009', 'short', {}), /secret must be 16-256/],
  ['a bad bucket name', () => store.add('LTAIstore00000009', 'a-long-random-secret-1', { 'Not/A/Bucket': 'read' }), /not a valid bucket name/],
];
for (const [name, run, message] of refused) {
  test(`refuses ${name}`, async () => {
    await assert.rejects(run(), (e: unknown) => e instanceof KeyStoreError && message.test(e.message));
  });
}

const grants: Array<[string, [string, string] | RegExp]> = [
  ['media-in=read', ['media-in', 'read']],
  ['media-out=read-write', ['media-out', 'read-write']],
  ['media-in', /expected <bucket>=read/],
  ['=read', /expected <bucket>=read/],
  ['media-in=write', /must be read or read-write, not "write"/],
  ['Media=read', /"Media" is not a valid bucket name/],
];
for (const [text, want] of grants) {
  test(`--bucket ${text}`, () => {
    if (want instanceof RegExp) assert.throws(() => parseBucketGrant(text), (e: unknown) => e instanceof KeyStoreError && want.test(e.message));
    else assert.deepEqual(parseBucketGrant(text), want);
  });
}

test('generated secrets are long and distinct', () => {
  const a = generateSecret();
  assert.equal(a.length, 30);
  assert.match(a, /^[A-Za-z0-9_-]+$/);
  assert.notEqual(a, generateSecret());
});

test('the cache serves synchronously and follows adds and revokes on refresh', async () => {
  const cache = new KeyCache(store, { refreshMs: 50 });
  await cache.start();
  try {
    assert.equal(cache.get('LTAIstore00000001')?.secret, 'a-long-random-secret-1');
    // Another node adds and revokes through its own store on the same database.
    const other = new KeyStore(db);
    await other.add('LTAIstore00000003', 'a-long-random-secret-3', { shared: 'read' });
    await cache.refresh();
    assert.deepEqual(cache.get('LTAIstore00000003')?.grants, { shared: 'read' });
    await other.revoke('LTAIstore00000003');
    await cache.refresh();
    assert.equal(cache.get('LTAIstore00000003'), undefined);
  } finally {
    await cache.stop();
  }
});
