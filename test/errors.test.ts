/** The error catalog (src/errors.ts): identity by key, and no entry without a use. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MedleyError, errorCatalog, fail, isMnsError, type ErrorName } from '../src/errors.js';

const SRC = fileURLToPath(new URL('../src', import.meta.url));
const KEYS = Object.keys(errorCatalog) as ErrorName[];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? sourceFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
}

test('every catalog key is thrown or named somewhere in src (as a quoted key, outside the catalog)', () => {
  const text = sourceFiles(SRC)
    .filter((f) => f !== join(SRC, 'errors.ts'))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const unused = KEYS.filter((k) => !text.includes(`'${k}'`));
  assert.deepEqual(unused, [], `catalog entries nothing in src uses: remove them or use them (${unused.join(', ')})`);
});

test('a MedleyError carries its catalog key, whatever its wire code', () => {
  for (const k of KEYS) {
    const e = new MedleyError(k);
    assert.equal(e.key, k);
    assert.equal(e.entry, errorCatalog[k]);
    assert.equal(e.message, errorCatalog[k].message);
  }
  assert.equal(new MedleyError('InvalidMediaArgument', 'x').key, 'InvalidMediaArgument');
  // Same OSS code, different errors: the key tells them apart.
  assert.equal(new MedleyError('InvalidMediaArgument').code, new MedleyError('InvalidArgument').code);
  assert.notEqual(new MedleyError('InvalidMediaArgument').key, new MedleyError('InvalidArgument').key);
  assert.throws(() => fail('MediaSourceNotFound', 'gone'), (e: unknown) => e instanceof MedleyError && e.key === 'MediaSourceNotFound' && e.message === 'gone');
});

test('immCode: the IMM code when the entry has one, else the code', () => {
  assert.equal(new MedleyError('MediaSourceNotFound').immCode, 'ResourceNotFound');
  assert.equal(new MedleyError('TaskInterrupted').immCode, 'InternalError');
  assert.equal(new MedleyError('NoSuchKey').immCode, 'NoSuchKey');
});

test('isMnsError: the MNS entries only, decided by key', () => {
  assert.equal(isMnsError(new MedleyError('MnsTopicNotExist')), true);
  assert.equal(isMnsError(new MedleyError('MnsInternalError')), true);
  assert.equal(isMnsError(new MedleyError('AccessDenied')), false, 'same wire code as MnsAccessDenied, not an MNS entry');
  assert.equal(isMnsError(new MedleyError('InternalError')), false);
  assert.equal(isMnsError(Object.assign(new Error('x'), { code: 'TopicNotExist' })), false);
});
