import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConditions, parseRange } from '../../../src/http/oss/conditions.js';
import { MedleyError } from '../../../src/errors.js';

const v = { etag: 'ABC123', lastModified: new Date('2024-05-01T10:00:00Z') };
const code = (fn: () => void) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof MedleyError);
    return e.code;
  }
};

describe('checkConditions', () => {
  const cases: Array<[string, Parameters<typeof checkConditions>[0], string]> = [
    ['no conditions', {}, 'ok'],
    ['If-Match equal (quoted)', { ifMatch: '"ABC123"' }, 'ok'],
    ['If-Match lower-case etag', { ifMatch: '"abc123"' }, 'ok'],
    ['If-Match star', { ifMatch: '*' }, 'ok'],
    ['If-Match list', { ifMatch: '"X", "ABC123"' }, 'ok'],
    ['If-Match different', { ifMatch: '"OTHER"' }, 'PreconditionFailed'],
    ['If-None-Match equal', { ifNoneMatch: '"ABC123"' }, 'NotModified'],
    ['If-None-Match different', { ifNoneMatch: '"OTHER"' }, 'ok'],
    ['If-Modified-Since before', { ifModifiedSince: 'Wed, 01 May 2024 09:00:00 GMT' }, 'ok'],
    ['If-Modified-Since same second', { ifModifiedSince: 'Wed, 01 May 2024 10:00:00 GMT' }, 'NotModified'],
    ['If-Modified-Since after', { ifModifiedSince: 'Wed, 01 May 2024 11:00:00 GMT' }, 'NotModified'],
    ['If-Unmodified-Since after', { ifUnmodifiedSince: 'Wed, 01 May 2024 11:00:00 GMT' }, 'ok'],
    ['If-Unmodified-Since before', { ifUnmodifiedSince: 'Wed, 01 May 2024 09:00:00 GMT' }, 'PreconditionFailed'],
    ['If-Match wins over If-Unmodified-Since', { ifMatch: '"ABC123"', ifUnmodifiedSince: 'Wed, 01 May 2024 09:00:00 GMT' }, 'ok'],
    ['If-None-Match wins over If-Modified-Since', { ifNoneMatch: '"OTHER"', ifModifiedSince: 'Wed, 01 May 2024 11:00:00 GMT' }, 'ok'],
    ['unparseable date ignored', { ifModifiedSince: 'yesterday' }, 'ok'],
  ];
  for (const [name, c, want] of cases) test(name, () => assert.equal(code(() => checkConditions(c, v)), want));
});

describe('parseRange', () => {
  const cases: Array<[string | undefined, number, boolean, unknown]> = [
    [undefined, 10, false, { kind: 'full' }],
    ['bytes=0-4', 10, false, { kind: 'partial', start: 0, end: 4 }],
    ['bytes=5-', 10, false, { kind: 'partial', start: 5, end: 9 }],
    ['bytes=-3', 10, false, { kind: 'partial', start: 7, end: 9 }],
    ['bytes=-30', 10, false, { kind: 'partial', start: 0, end: 9 }],
    ['bytes=0-20', 10, false, { kind: 'full' }],
    ['bytes=0-20', 10, true, { kind: 'partial', start: 0, end: 9 }],
    ['bytes=10-20', 10, false, { kind: 'full' }],
    ['bytes=10-20', 10, true, 'InvalidRange'],
    ['bytes=5-2', 10, false, { kind: 'full' }],
    ['bytes=0-1,3-4', 10, false, { kind: 'full' }],
    ['bytes=0-1,3-4', 10, true, 'InvalidRange'],
    ['items=0-1', 10, false, { kind: 'full' }],
    ['bytes=-', 10, false, { kind: 'full' }],
    ['bytes=0-0', 0, false, { kind: 'full' }],
  ];
  for (const [h, size, std, want] of cases) {
    test(`${h} of ${size}${std ? ' (standard)' : ''}`, () => {
      if (typeof want === 'string') assert.equal(code(() => parseRange(h, size, std)), want);
      else assert.deepEqual(parseRange(h, size, std), want);
    });
  }
});
