/** Parameter reading and decoding for the IMM dialect (spec/imm.md §1.2-1.3). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { MedleyError } from '../../../src/errors.js';
import { toImmWire } from '../../../src/http/imm/errors.js';
import {
  buildParamMap,
  decodePairs,
  isFormBody,
  optionalBool,
  optionalInt,
  optionalJson,
  parseInt64,
  readBody,
  requestPairs,
  requiredString,
  type ParamMap,
} from '../../../src/http/imm/params.js';

/** The wire code a thrown error would carry. */
function wireCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof MedleyError, `expected a MedleyError, got ${String(e)}`);
    return toImmWire(e).code;
  }
  assert.fail('expected a throw');
}

const map = (o: Record<string, string>): ParamMap => buildParamMap(Object.entries(o), []);

function fakeRequest(chunks: Buffer[], headers: Record<string, string> = {}): IncomingMessage {
  const s = new PassThrough();
  (s as unknown as { headers: Record<string, string> }).headers = headers;
  for (const c of chunks) s.write(c);
  s.end();
  return s as unknown as IncomingMessage;
}

test('decodePairs percent-decodes, treats + as space, keeps order and empty values', () => {
  assert.deepEqual(decodePairs('b=x%2By+z&a=&c&&d=%E4%B8%AD', 'query string'), [
    ['b', 'x+y z'],
    ['a', ''],
    ['c', ''],
    ['d', '中'],
  ]);
});

test('malformed percent-encoding is InvalidParameter, not a URIError', () => {
  assert.equal(wireCode(() => decodePairs('a=%zz', 'query string')), 'InvalidParameter');
});

test('only an application/x-www-form-urlencoded body (any parameters) is read as parameters', () => {
  assert.equal(isFormBody({ 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' }), true);
  assert.equal(isFormBody({ 'content-type': 'application/json' }), false);
  assert.equal(isFormBody({}), false);
  assert.deepEqual(requestPairs('/?a=1', { 'content-type': 'application/json' }, Buffer.from('b=2')).form, []);
  assert.deepEqual(requestPairs('/?a=1', { 'content-type': 'application/x-www-form-urlencoded' }, Buffer.from('b=2')), { query: [['a', '1']], form: [['b', '2']] });
});

test('buildParamMap merges query and form into one flat map', () => {
  const p = buildParamMap([['Action', 'GetProject']], [['ProjectName', 'p']]);
  assert.deepEqual({ ...p }, { Action: 'GetProject', ProjectName: 'p' });
});

test('the same name in query and form is InvalidParameter', () => {
  assert.equal(wireCode(() => buildParamMap([['ProjectName', 'a']], [['ProjectName', 'b']])), 'InvalidParameter');
});

test('the same name twice in the query is InvalidParameter', () => {
  assert.equal(wireCode(() => buildParamMap([['A', '1'], ['A', '1']], [])), 'InvalidParameter');
});

test('a parameter named __proto__ is just a parameter', () => {
  const p = buildParamMap([['__proto__', 'x']], []);
  assert.equal(p['__proto__'], 'x');
  assert.equal(Object.keys(p).length, 1);
});

test('requiredString: absent or empty is Missing<Name>', () => {
  assert.equal(wireCode(() => requiredString(map({}), 'ProjectName')), 'MissingProjectName');
  assert.equal(wireCode(() => requiredString(map({ ProjectName: '' }), 'ProjectName')), 'MissingProjectName');
  assert.equal(requiredString(map({ ProjectName: 'p' }), 'ProjectName'), 'p');
});

test('optionalBool accepts true/false in any case; anything else is Invalid<Name>', () => {
  assert.equal(optionalBool(map({ X: 'TRUE' }), 'X'), true);
  assert.equal(optionalBool(map({ X: 'False' }), 'X'), false);
  assert.equal(optionalBool(map({}), 'X'), undefined);
  assert.equal(optionalBool(map({ X: '' }), 'X'), undefined);
  assert.equal(wireCode(() => optionalBool(map({ WithStatistics: 'yes' }), 'WithStatistics')), 'InvalidWithStatistics');
});

test('optionalInt parses decimals; non-integers are Invalid<Name>, out of range is InvalidArgument', () => {
  assert.equal(optionalInt(map({ N: '42' }), 'N', { min: 1, max: 100 }), 42);
  assert.equal(wireCode(() => optionalInt(map({ MaxResults: '1.5' }), 'MaxResults')), 'InvalidMaxResults');
  assert.equal(wireCode(() => optionalInt(map({ MaxResults: 'abc' }), 'MaxResults')), 'InvalidMaxResults');
  assert.equal(wireCode(() => optionalInt(map({ MaxResults: '101' }), 'MaxResults', { min: 1, max: 100 })), 'InvalidArgument');
});

test('parseInt64 keeps int64 values a double holds exactly and refuses the others', () => {
  assert.equal(parseInt64('X', '90000000000000000'), 90000000000000000);
  assert.equal(wireCode(() => parseInt64('X', '90000000000000001')), 'InvalidArgument');
  assert.equal(wireCode(() => parseInt64('X', '9223372036854775808')), 'InvalidArgument');
});

test('optionalJson parses JSON text', () => {
  assert.deepEqual(optionalJson(map({ Tag: '[{"Key":"a","Value":"b"}]' }), 'Tag'), [{ Key: 'a', Value: 'b' }]);
  assert.equal(optionalJson(map({}), 'Tag'), undefined);
});

test('optionalJson: text that is not JSON is InvalidJSON "Array parsing error, <Name>"', () => {
  try {
    optionalJson(map({ TaskTypes: '[MediaConvert' }), 'TaskTypes');
    assert.fail('expected a throw');
  } catch (e) {
    assert.deepEqual({ ...toImmWire(e), unexpected: undefined }, { status: 400, code: 'InvalidJSON', message: 'Array parsing error, TaskTypes', unexpected: undefined });
  }
});

test('optionalJson rebuilds pop-core flattened parameters', () => {
  assert.deepEqual(optionalJson(map({ 'Tag.1.Key': 'a', 'Tag.1.Value': 'b', 'Tag.2.Key': 'c', 'Tag.2.Value': 'd' }), 'Tag'), [
    { Key: 'a', Value: 'b' },
    { Key: 'c', Value: 'd' },
  ]);
  assert.deepEqual(optionalJson(map({ 'TaskTypes.1': 'MediaConvert' }), 'TaskTypes'), ['MediaConvert']);
  assert.deepEqual(optionalJson(map({ 'StartTimeRange.Start': '2024-01-01T00:00:00Z' }), 'StartTimeRange'), { Start: '2024-01-01T00:00:00Z' });
});

test('optionalJson refuses a parameter given both as JSON and flattened, and numbering gaps', () => {
  assert.equal(wireCode(() => optionalJson(map({ Tag: '[]', 'Tag.1.Key': 'a' }), 'Tag')), 'InvalidArgument');
  assert.equal(wireCode(() => optionalJson(map({ 'Tag.2.Key': 'a' }), 'Tag')), 'InvalidArgument');
});

test('readBody returns the bytes of a body within the limit', async () => {
  const body = await readBody(fakeRequest([Buffer.from('a=1'), Buffer.from('&b=2')]), 16);
  assert.equal(body.toString(), 'a=1&b=2');
});

test('readBody drains a body over the limit and fails with a 400', async () => {
  const req = fakeRequest([Buffer.alloc(10), Buffer.alloc(10)]);
  await assert.rejects(readBody(req, 16, 64), (e: unknown) => e instanceof MedleyError && toImmWire(e).status === 400);
  assert.equal((req as unknown as PassThrough).readableEnded, true);
});

test('readBody refuses a declared length beyond the drain limit without reading', async () => {
  const req = fakeRequest([Buffer.alloc(10)], { 'content-length': '1000' });
  await assert.rejects(readBody(req, 16, 64), (e: unknown) => e instanceof MedleyError && toImmWire(e).status === 400);
  assert.equal((req as unknown as PassThrough).readableEnded, false);
});
