/** The database error classifier (src/db/errors.ts): which driver errors mean "unreachable", which "retry". */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, dbUnavailableReason, isDbUnavailable, isTransientDbError } from '../../src/db/errors.js';
import { databaseUnavailableError, MedleyError } from '../../src/errors.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

const cases: Array<[string, unknown, { unavailable: boolean; transient: boolean }]> = [
  ['PG admin_shutdown 57P01 (restart)', withCode('57P01', 'terminating connection due to administrator command'), { unavailable: true, transient: false }],
  ['PG crash_shutdown 57P02', withCode('57P02'), { unavailable: true, transient: false }],
  ['PG cannot_connect_now 57P03 (starting up)', withCode('57P03', 'the database system is starting up'), { unavailable: true, transient: false }],
  ['PG connection_failure 08006', withCode('08006'), { unavailable: true, transient: false }],
  ['PG sqlclient_unable_to_establish_sqlconnection 08001', withCode('08001'), { unavailable: true, transient: false }],
  ['ECONNREFUSED', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), { unavailable: true, transient: false }],
  ['ECONNRESET', withCode('ECONNRESET'), { unavailable: true, transient: false }],
  ['ETIMEDOUT', withCode('ETIMEDOUT'), { unavailable: true, transient: false }],
  ['pg-pool connect timeout', new Error('timeout exceeded when trying to connect'), { unavailable: true, transient: false }],
  ['pg connection terminated', new Error('Connection terminated unexpectedly'), { unavailable: true, transient: false }],
  ['pg connection terminated (timeout)', new Error('Connection terminated due to connection timeout'), { unavailable: true, transient: false }],
  ['wrapped in a cause', new Error('query failed', { cause: withCode('ECONNREFUSED') }), { unavailable: true, transient: false }],
  ['AggregateError of two addresses', Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], ''), {}), { unavailable: true, transient: false }],
  ['PG serialization_failure 40001', withCode('40001'), { unavailable: false, transient: true }],
  ['PG deadlock_detected 40P01', withCode('40P01'), { unavailable: false, transient: true }],
  ['PG lock_not_available 55P03', withCode('55P03'), { unavailable: false, transient: true }],
  ['SQLITE_BUSY', withCode('SQLITE_BUSY'), { unavailable: false, transient: true }],
  ['SQLITE_BUSY_SNAPSHOT', withCode('SQLITE_BUSY_SNAPSHOT'), { unavailable: false, transient: true }],
  ['SQLITE_LOCKED', withCode('SQLITE_LOCKED'), { unavailable: false, transient: true }],
  ['PG unique_violation 23505', withCode('23505'), { unavailable: false, transient: false }],
  ['PG syntax error 42601', withCode('42601'), { unavailable: false, transient: false }],
  ['SQLITE_FULL (disk full, not an outage)', withCode('SQLITE_FULL'), { unavailable: false, transient: false }],
  ['ENOENT', withCode('ENOENT'), { unavailable: false, transient: false }],
  ['a catalog error', new MedleyError('NoSuchKey'), { unavailable: false, transient: false }],
  ['a DatabaseUnavailable catalog error', new MedleyError('DatabaseUnavailable'), { unavailable: true, transient: false }],
  ['a plain error', new Error('boom'), { unavailable: false, transient: false }],
  ['a string', 'Connection terminated', { unavailable: false, transient: false }],
  ['null', null, { unavailable: false, transient: false }],
  ['undefined', undefined, { unavailable: false, transient: false }],
];

for (const [name, error, want] of cases) {
  test(`classifier: ${name}`, () => {
    assert.equal(isDbUnavailable(error), want.unavailable, 'isDbUnavailable');
    assert.equal(isTransientDbError(error), want.transient, 'isTransientDbError');
  });
}

test('a cyclic cause chain ends', () => {
  const a = new Error('a') as Error & { cause?: unknown };
  const b = new Error('b', { cause: a });
  a.cause = b;
  assert.equal(isDbUnavailable(a), false);
});

test('databaseUnavailableError: 503 ServiceUnavailable on every door, naming the cause', () => {
  const e = databaseUnavailableError(withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'));
  assert.ok(e);
  assert.equal(e.key, 'DatabaseUnavailable');
  assert.equal(e.status, 503);
  assert.equal(e.code, 'ServiceUnavailable');
  assert.equal(e.immCode, 'ServiceUnavailable');
  assert.equal(e.entry.immStatus, 503);
  assert.equal(e.message, 'The database is unreachable: connection refused (ECONNREFUSED); retry.');
  assert.equal(databaseUnavailableError(new Error('boom')), undefined);
  assert.equal(databaseUnavailableError(new MedleyError('NoSuchKey')), undefined);
  assert.equal(databaseUnavailableError(e), e);
  assert.match(dbUnavailableReason(withCode('57P01')) ?? '', /57P01/);
  assert.equal(dbUnavailableReason(e), 'connection refused (ECONNREFUSED)', 'the reason of a classified error is its cause');
});

test('backoffMs doubles up to its cap', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffMs(n)), [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
  assert.equal(backoffMs(0), 250);
});

test('the IMM and MNS mappers answer an unreachable database 503 ServiceUnavailable, not InternalError', async () => {
  const { toImmWire } = await import('../../src/http/imm/errors.js');
  const { toMnsWireError } = await import('../../src/http/mns/errors.js');
  const down = new Error('Connection terminated unexpectedly');
  assert.deepEqual(toImmWire(down), { status: 503, code: 'ServiceUnavailable', message: 'The database is unreachable: Connection terminated unexpectedly; retry.', unexpected: false });
  assert.deepEqual(toMnsWireError(down), { status: 503, code: 'ServiceUnavailable', message: 'The database is unreachable: Connection terminated unexpectedly; retry.', unexpected: false });
  assert.equal(toImmWire(new Error('boom')).status, 500);
  assert.equal(toMnsWireError(new Error('boom')).status, 500);
});
