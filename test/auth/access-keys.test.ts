import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessKeysError, loadAccessKeys } from '../../src/auth/access-keys.js';
import { isAccountOwner, isAllowed, type Principal } from '../../src/auth/policy.js';

const dir = mkdtempSync(join(tmpdir(), 'medley-keys-'));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('a missing optional file means no extra keys', async () => {
  assert.deepEqual(await loadAccessKeys(join(dir, 'absent.json'), false), []);
});

test('a missing required file (MEDLEY_KEYS_FILE) is an error naming it', async () => {
  await assert.rejects(loadAccessKeys(join(dir, 'absent.json'), true), (e: unknown) => e instanceof AccessKeysError && /absent\.json/.test(e.message));
});

test('keys load with their grants', async () => {
  const p = write('ok.json', JSON.stringify({ keys: [{ accessKeyId: 'LTAIapp0000000001', accessKeySecret: 'a-long-random-secret', buckets: { in: 'read', out: 'read-write' } }] }));
  assert.deepEqual(await loadAccessKeys(p, true), [{ accessKeyId: 'LTAIapp0000000001', secret: 'a-long-random-secret', grants: { in: 'read', out: 'read-write' } }]);
});

const bad: Array<[string, string, RegExp]> = [
  ['not JSON', '{', /not valid JSON/],
  ['a short secret', JSON.stringify({ keys: [{ accessKeyId: 'LTAIapp0000000001', accessKeySecret: 'short' }] }), /accessKeySecret/],
  ['an unknown grant', JSON.stringify({ keys: [{ accessKeyId: 'LTAIapp0000000001', accessKeySecret: 'a-long-random-secret', buckets: { in: 'admin' } }] }), /buckets\.in/],
  ['a duplicated key id', JSON.stringify({ keys: [1, 2].map(() => ({ accessKeyId: 'LTAIapp0000000001', accessKeySecret: 'a-long-random-secret' })) }), /twice/],
];
for (const [name, text, message] of bad) {
  test(`refuses ${name}`, async () => {
    await assert.rejects(loadAccessKeys(write(`${name}.json`, text), true), (e: unknown) => e instanceof AccessKeysError && message.test(e.message));
  });
}

const root: Principal = { kind: 'signed', accessKeyId: 'root' };
const scoped: Principal = { kind: 'signed', accessKeyId: 'app', grants: { in: 'read', out: 'read-write' } };
const anonymous: Principal = { kind: 'anonymous' };

const table: Array<[string, Principal, 'read' | 'write' | 'owner', string, 'private' | 'public-read' | 'public-read-write', boolean]> = [
  ['root writes anywhere', root, 'write', 'other', 'private', true],
  ['root manages buckets', root, 'owner', 'other', 'private', true],
  ['scoped reads its read bucket', scoped, 'read', 'in', 'private', true],
  ['scoped may not write its read bucket', scoped, 'write', 'in', 'private', false],
  ['scoped writes its read-write bucket', scoped, 'write', 'out', 'private', true],
  ['scoped may not manage even its read-write bucket', scoped, 'owner', 'out', 'private', false],
  ['scoped may not read another private bucket', scoped, 'read', 'other', 'private', false],
  ['scoped reads a public-read bucket like anyone', scoped, 'read', 'other', 'public-read', true],
  ['anonymous reads public-read', anonymous, 'read', 'in', 'public-read', true],
  ['anonymous may not write public-read', anonymous, 'write', 'in', 'public-read', false],
];
for (const [name, principal, access, bucket, acl, expected] of table) {
  test(`policy: ${name}`, () => {
    assert.equal(isAllowed(principal, access, acl, bucket), expected);
  });
}

test('only the root key is the account owner', () => {
  assert.equal(isAccountOwner(root), true);
  assert.equal(isAccountOwner(scoped), false);
  assert.equal(isAccountOwner(anonymous), false);
});
