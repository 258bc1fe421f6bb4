/**
 * Console sessions (in the database: SQLite here, PostgreSQL under `npm run test:scale`, one code path) and
 * the sign-in limit (pure, with a fake clock): table-driven.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { FailureLimiter, SessionStore } from '../../src/http/console/sessions.js';
import { parseCookies } from '../../src/http/console/index.js';
import type { Credential } from '../../src/auth/credentials.js';
import type { Db } from '../../src/db/connection.js';
import { openTestDatabase } from '../support/backend.js';

const ROOT: Credential = { accessKeyId: 'LTAIroot00000001', secret: 'root-secret-0000000000000001' };
const SCOPED: Credential = { accessKeyId: 'LTAIscoped000001', secret: 'scoped-secret-00000000000001', grants: { media: 'read' } };
const STS: Credential = { accessKeyId: 'STS.temp0000001', secret: 'sts-secret-00000000000000001', securityToken: 'tok' };

let dir: string;
let db: Db;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-console-sessions-'));
  db = await openTestDatabase(dir);
});
after(async () => {
  await db?.destroy();
  await rm(dir, { recursive: true, force: true });
});

function world() {
  let now = 1_000_000;
  const keys = new Map([ROOT, SCOPED, STS].map((k) => [k.accessKeyId, k]));
  const store = new SessionStore(db, (id) => keys.get(id), 60_000, () => now);
  return { store, keys, tick: (ms: number) => (now += ms) };
}

test('sign-in: only the exact pair of a long-lived key opens a session', async () => {
  const { store } = world();
  const rows: Array<[string, string, boolean]> = [
    [ROOT.accessKeyId, ROOT.secret, true],
    [SCOPED.accessKeyId, SCOPED.secret, true],
    [ROOT.accessKeyId, SCOPED.secret, false],
    [ROOT.accessKeyId, `${ROOT.secret}x`, false],
    ['LTAIunknown00001', ROOT.secret, false],
    [STS.accessKeyId, STS.secret, false],
  ];
  for (const [id, secret, ok] of rows) assert.equal((await store.open(id, secret)) !== undefined, ok, `${id} / ${secret}`);
});

test('the table keeps only a hash of the session id, never the secret; another store on the same database resolves it', async () => {
  const w = world();
  const s = (await w.store.open(SCOPED.accessKeyId, SCOPED.secret))!;
  const rows = await db.selectFrom('console_sessions').selectAll().execute();
  const text = JSON.stringify(rows);
  assert.ok(!text.includes(s.id), 'no session id in the table');
  assert.ok(!text.includes(SCOPED.secret), 'no secret in the table');
  assert.ok(rows.some((r) => r.id_hash === createHash('sha256').update(s.id).digest('hex')));
  // A second node: its own store, the same database.
  const other = world();
  assert.equal((await other.store.resolve(s.id))?.principal.accessKeyId, SCOPED.accessKeyId);
  await other.store.close(s.id);
  assert.equal(await w.store.resolve(s.id), undefined, 'signed out on the other node');
});

test('a session acts as its key with the grants the key has now, and ends on expiry, sign-out, removal or rotation', async () => {
  const w = world();
  const s = (await w.store.open(SCOPED.accessKeyId, SCOPED.secret))!;
  assert.deepEqual((await w.store.resolve(s.id))?.principal, { kind: 'signed', accessKeyId: SCOPED.accessKeyId, grants: { media: 'read' } });
  assert.notEqual(s.id, s.csrf);
  assert.equal(await w.store.resolve('not-a-session'), undefined);
  assert.equal(await w.store.resolve('x'.repeat(43)), undefined);
  assert.equal(await w.store.resolve(undefined), undefined);

  w.keys.set(SCOPED.accessKeyId, { ...SCOPED, secret: 'rotated-secret-0000000000001' });
  assert.equal(await w.store.resolve(s.id), undefined, 'rotated');
  // A node whose key cache lags (it does not know the new secret yet, or the key at all) refuses without
  // ending the session for the nodes that do.
  const lagging = world();
  lagging.keys.delete(SCOPED.accessKeyId);
  w.keys.set(SCOPED.accessKeyId, SCOPED);
  assert.equal(await lagging.store.resolve(s.id), undefined, 'unknown here');
  assert.ok(await w.store.resolve(s.id), 'still open where the key is known');

  const r = (await w.store.open(ROOT.accessKeyId, ROOT.secret))!;
  w.keys.delete(ROOT.accessKeyId);
  assert.equal(await w.store.resolve(r.id), undefined, 'removed');
  w.keys.set(ROOT.accessKeyId, ROOT);

  const e = (await w.store.open(ROOT.accessKeyId, ROOT.secret))!;
  w.tick(59_999);
  assert.ok(await w.store.resolve(e.id));
  w.tick(1);
  assert.equal(await w.store.resolve(e.id), undefined, 'expired');

  const o = (await w.store.open(ROOT.accessKeyId, ROOT.secret))!;
  await w.store.close(o.id);
  assert.equal(await w.store.resolve(o.id), undefined, 'signed out');
});

test('failed sign-ins: at most 5 a minute per address, then Retry-After counts down', () => {
  let now = 0;
  const l = new FailureLimiter(5, 60_000, () => now);
  for (let i = 0; i < 5; i++) {
    assert.equal(l.retryAfter('10.0.0.1'), 0);
    l.fail('10.0.0.1');
    now += 1000;
  }
  assert.equal(l.retryAfter('10.0.0.1'), 55);
  assert.equal(l.retryAfter('10.0.0.2'), 0, 'per address');
  now = 60_000;
  assert.equal(l.retryAfter('10.0.0.1'), 0, 'the oldest failure left the window');
});

test('cookies: the first of a name wins; malformed parts are skipped', () => {
  const c = parseCookies('a=1; b=2; a=3; junk; =x; medley_console_session=abc-_');
  assert.deepEqual([...c], [['a', '1'], ['b', '2'], ['medley_console_session', 'abc-_']]);
  assert.equal(parseCookies(undefined).size, 0);
});
