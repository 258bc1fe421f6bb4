/** Console sessions and the sign-in limit (pure, with a fake clock): table-driven. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureLimiter, SessionStore } from '../../src/http/console/sessions.js';
import { parseCookies } from '../../src/http/console/index.js';
import type { Credential } from '../../src/auth/credentials.js';

const ROOT: Credential = { accessKeyId: 'LTAIroot00000001', secret: 'root-secret-0000000000000001' };
const SCOPED: Credential = { accessKeyId: 'LTAIscoped000001', secret: 'scoped-secret-00000000000001', grants: { media: 'read' } };
const STS: Credential = { accessKeyId: 'STS.temp0000001', secret: 'sts-secret-00000000000000001', securityToken: 'tok' };

function world() {
  let now = 1_000_000;
  const keys = new Map([ROOT, SCOPED, STS].map((k) => [k.accessKeyId, k]));
  const store = new SessionStore((id) => keys.get(id), 60_000, () => now);
  return { store, keys, tick: (ms: number) => (now += ms) };
}

test('sign-in: only the exact pair of a long-lived key opens a session', () => {
  const { store } = world();
  const rows: Array<[string, string, boolean]> = [
    [ROOT.accessKeyId, ROOT.secret, true],
    [SCOPED.accessKeyId, SCOPED.secret, true],
    [ROOT.accessKeyId, SCOPED.secret, false],
    [ROOT.accessKeyId, `${ROOT.secret}x`, false],
    ['LTAIunknown00001', ROOT.secret, false],
    [STS.accessKeyId, STS.secret, false],
  ];
  for (const [id, secret, ok] of rows) assert.equal(store.open(id, secret) !== undefined, ok, `${id} / ${secret}`);
});

test('a session acts as its key with the grants the key has now, and ends on expiry, sign-out, removal or rotation', () => {
  const w = world();
  const s = w.store.open(SCOPED.accessKeyId, SCOPED.secret)!;
  assert.deepEqual(w.store.resolve(s.id)?.principal, { kind: 'signed', accessKeyId: SCOPED.accessKeyId, grants: { media: 'read' } });
  assert.notEqual(s.id, s.csrf);
  assert.equal(w.store.resolve('not-a-session'), undefined);
  assert.equal(w.store.resolve(undefined), undefined);

  w.keys.set(SCOPED.accessKeyId, { ...SCOPED, secret: 'rotated-secret-0000000000001' });
  assert.equal(w.store.resolve(s.id), undefined, 'rotated');
  w.keys.set(SCOPED.accessKeyId, SCOPED);
  assert.equal(w.store.resolve(s.id), undefined, 'a rotated-away session stays closed');

  const r = w.store.open(ROOT.accessKeyId, ROOT.secret)!;
  w.keys.delete(ROOT.accessKeyId);
  assert.equal(w.store.resolve(r.id), undefined, 'removed');
  w.keys.set(ROOT.accessKeyId, ROOT);

  const e = w.store.open(ROOT.accessKeyId, ROOT.secret)!;
  w.tick(59_999);
  assert.ok(w.store.resolve(e.id));
  w.tick(1);
  assert.equal(w.store.resolve(e.id), undefined, 'expired');

  const o = w.store.open(ROOT.accessKeyId, ROOT.secret)!;
  w.store.close(o.id);
  assert.equal(w.store.resolve(o.id), undefined, 'signed out');
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
