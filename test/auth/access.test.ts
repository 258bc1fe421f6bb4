/**
 * The access gate over a real storage (SQLite + blobs): the order of its refusals (NoSuchBucket, then
 * the never-anonymous rule, then AccessDenied; a missing object is the caller's NoSuchKey afterwards),
 * object ACLs overriding the bucket's, and its messages.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AccessGate } from '../../src/auth/access.js';
import type { Access, Principal } from '../../src/auth/policy.js';
import { openDatabase, type Db } from '../../src/db/connection.js';
import { MedleyError } from '../../src/errors.js';
import { openStorage } from '../../src/storage/index.js';

const root: Principal = { kind: 'signed', accessKeyId: 'root' };
const scoped: Principal = { kind: 'signed', accessKeyId: 'app', grants: { ro: 'read', rw: 'read-write' } };
const anonymous: Principal = { kind: 'anonymous' };

let dir: string;
let db: Db;
let gate: AccessGate;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medley-gate-'));
  db = await openDatabase(join(dir, 'm.db'), { durable: false });
  const storage = await openStorage(db, { dataDir: dir, fsync: false, maxObjectBytes: 1e9 });
  for (const b of ['ro', 'rw', 'none']) await storage.buckets.create(b, 'private', 'Standard');
  await storage.buckets.create('pub', 'public-read', 'Standard');
  const attrs = { contentType: 'text/plain', headers: {}, meta: {}, storageClass: 'Standard' };
  for (const b of ['ro', 'rw', 'none', 'pub']) await storage.objects.put(b, 'k', Readable.from([Buffer.from('x')]), { attrs: { ...attrs, acl: 'default' } });
  await storage.objects.put('none', 'open', Readable.from([Buffer.from('x')]), { attrs: { ...attrs, acl: 'public-read' } });
  await storage.objects.put('pub', 'closed', Readable.from([Buffer.from('x')]), { attrs: { ...attrs, acl: 'private' } });
  gate = new AccessGate(storage);
});
after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const code = async (p: Promise<unknown> | (() => void)): Promise<string> => {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof MedleyError, String(e));
    return e.code;
  }
};

test('decision table: principal × access × bucket/object', async () => {
  const rows: [Principal, Access, string, string | undefined, string][] = [
    [root, 'owner', 'none', undefined, 'ok'],
    [root, 'write', 'none', 'k', 'ok'],
    [scoped, 'read', 'ro', 'k', 'ok'],
    [scoped, 'read', 'ro', undefined, 'ok'],
    [scoped, 'write', 'ro', 'k', 'AccessDenied'],
    [scoped, 'write', 'rw', 'new-key', 'ok'],
    [scoped, 'owner', 'rw', undefined, 'AccessDenied'],
    [scoped, 'read', 'none', 'k', 'AccessDenied'],
    [scoped, 'read', 'none', 'open', 'ok'], // a public-read object ACL applies to scoped keys as to anyone
    [scoped, 'read', 'pub', 'k', 'ok'],
    [scoped, 'read', 'pub', 'closed', 'AccessDenied'], // the object's private ACL overrides the public bucket
    [anonymous, 'read', 'pub', 'k', 'ok'],
    [anonymous, 'read', 'pub', 'closed', 'AccessDenied'],
    [anonymous, 'write', 'pub', 'k', 'AccessDenied'],
    // NoSuchBucket comes first, for every caller.
    [anonymous, 'read', 'missing', 'k', 'NoSuchBucket'],
    [scoped, 'write', 'missing', undefined, 'NoSuchBucket'],
  ];
  for (const [p, access, bucket, key, expected] of rows) {
    assert.equal(await code(gate.require(p, access, bucket, key)), expected, `${p.accessKeyId ?? 'anonymous'} ${access} ${bucket}/${key ?? ''}`);
  }
});

test('a missing object is not the gate\'s refusal: allowed callers get no object, refused ones AccessDenied', async () => {
  assert.deepEqual(Object.keys(await gate.require(scoped, 'read', 'ro', 'absent')), ['bucket']);
  assert.equal(await code(gate.require(scoped, 'read', 'none', 'absent')), 'AccessDenied');
  assert.equal((await gate.require(scoped, 'read', 'ro', 'k')).object?.key, 'k');
});

test('signedOnly refuses anonymous callers after the bucket check and before the ACLs', async () => {
  const opts = { signedOnly: 'never anonymous' };
  assert.equal(await code(gate.require(anonymous, 'read', 'missing', 'k', opts)), 'NoSuchBucket');
  await assert.rejects(gate.require(anonymous, 'read', 'pub', 'k', opts), (e: unknown) => e instanceof MedleyError && e.code === 'AccessDenied' && e.message === 'never anonymous');
  assert.equal(await code(gate.require(scoped, 'read', 'pub', 'k', opts)), 'ok');
});

test('messages: the caller\'s, else the ACL message for anonymous callers and the catalog\'s for signed ones', async () => {
  const message = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e as Error).message);
  assert.equal(await message(gate.require(scoped, 'write', 'ro', 'k', { denied: 'no write on ro' })), 'no write on ro');
  assert.match(await message(gate.require(anonymous, 'read', 'none', 'k')), /anonymous access is not allowed/);
  assert.match(await message(gate.require(scoped, 'read', 'none', 'k')), /You have no right to access this object because of bucket acl/);
});

test('account-level operations: only the root key', async () => {
  assert.equal(await code(() => gate.requireAccount(root, 'owner')), 'ok');
  assert.equal(await code(() => gate.requireAccount(scoped, 'owner')), 'AccessDenied');
  assert.equal(await code(() => gate.requireAccount(anonymous, 'owner')), 'AccessDenied');
});
