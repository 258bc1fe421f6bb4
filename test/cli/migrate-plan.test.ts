/** The pure rules of `medley migrate`: which tables are copied, batch sizes, and when an S3 ETag proves the bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { batchRows, etagProves, isMedleyTable } from '../../src/cli/migrate-command.js';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest();

test('tables: everything but SQLite and the migrator bookkeeping', () => {
  const cases: [string, boolean][] = [
    ['buckets', true],
    ['mns_messages', true],
    ['notification_outbox', true],
    ['kysely_migration', false],
    ['kysely_migration_lock', false],
    ['sqlite_sequence', false],
  ];
  for (const [name, want] of cases) assert.equal(isMedleyTable(name), want, name);
});

test('batch rows stay below PostgreSQL bind-parameter limits', () => {
  const cases: [number, number][] = [
    [1, 1000],
    [9, 1000],
    [30, 1000],
    [31, 967],
    [200, 150],
    [100_000, 1],
  ];
  for (const [cols, want] of cases) {
    assert.equal(batchRows(cols), want, `${cols} columns`);
    assert.ok(batchRows(cols) * cols <= 65_535 || cols > 65_535);
  }
});

test('ETag proofs: plain MD5, multipart MD5-of-MD5s-N, anything else proves nothing', () => {
  const a = Buffer.from('part one');
  const b = Buffer.from('part two');
  const whole = md5(Buffer.concat([a, b]));
  const parts = [md5(a), md5(b)];
  const multi = `${md5(Buffer.concat(parts)).toString('hex')}-2`;
  const cases: [string, true | undefined][] = [
    [whole.toString('hex'), true],
    [`"${whole.toString('hex').toUpperCase()}"`, true],
    [multi, true],
    [`"${multi}"`, true],
    [`${md5(Buffer.concat(parts)).toString('hex')}-3`, undefined],
    [md5('other').toString('hex'), undefined],
    ['', undefined],
    ['not-an-etag', undefined],
  ];
  for (const [etag, want] of cases) assert.equal(etagProves(etag, whole, parts), want, etag);
});
