// Regressions found by the fuzzer (test/fuzz) in the IMM gateway's parameters: JSON (or a flattened key path)
// nested deeper than the stack was accepted by JSON.parse and overflowed later — CreateProject's DatasetConfig
// is stored with JSON.stringify, which threw a RangeError: a 500. Now 400 InvalidArgument naming the parameter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MedleyError } from '../../../src/errors.js';
import { optionalJson, unflatten, type ParamMap } from '../../../src/http/imm/params.js';
import { parseProjectInput } from '../../../src/http/imm/operations/projects.js';
import { parseListTasksQuery } from '../../../src/http/imm/operations/tasks.js';
import { MAX_JSON_DEPTH, jsonTooDeep } from '../../../src/util/json.js';

const map = (o: Record<string, string>): ParamMap => Object.assign(Object.create(null) as ParamMap, o);
const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

const refused = (name: string) => (e: unknown) => {
  assert.ok(e instanceof MedleyError, `not a MedleyError: ${String(e)}`);
  assert.equal(e.status, 400);
  assert.equal(e.code, 'InvalidArgument');
  assert.equal(e.message, `The parameter ${name} is nested more than ${MAX_JSON_DEPTH} levels deep.`);
  return true;
};

const CASES: [string, () => unknown][] = [
  ['DatasetConfig', () => parseProjectInput(map({ DatasetConfig: deep(100_000) }))],
  ['Tag', () => parseProjectInput(map({ Tag: `[${'['.repeat(5000)}${']'.repeat(5000)}]` }))],
  ['TaskTypes', () => parseListTasksQuery(map({ ProjectName: 'p', TaskTypes: `${'['.repeat(65)}${']'.repeat(65)}` }))],
  ['StartTimeRange', () => parseListTasksQuery(map({ ProjectName: 'p', StartTimeRange: deep(65) }))],
  ['DatasetConfig', () => optionalJson(map({ [`DatasetConfig${'.a'.repeat(100_000)}`]: 'x' }), 'DatasetConfig')],
  ['X', () => unflatten(map({ [`X${'.1'.repeat(65)}`]: 'x' }), 'X')],
];
for (const [name, run] of CASES) {
  test(`IMM parameters: ${name} nested too deeply is 400 InvalidArgument`, () => {
    assert.throws(run, refused(name));
  });
}

test('IMM parameters: 64 levels are still read', () => {
  assert.deepEqual(parseProjectInput(map({ DatasetConfig: deep(63) })).datasetConfig !== undefined, true);
  assert.deepEqual(unflatten(map({ [`X${'.a'.repeat(64)}`]: 'x' }), 'X') !== undefined, true);
});

test('jsonTooDeep: depth counted in arrays and objects, iteratively', () => {
  const table: [unknown, number, boolean][] = [
    [1, 0, false],
    [[], 0, true],
    [[], 1, false],
    [{ a: [1] }, 2, false],
    [{ a: [1] }, 1, true],
    [{ a: 1, b: { c: { d: null } } }, 3, false],
    [{ a: 1, b: { c: { d: {} } } }, 3, true],
    [JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`), MAX_JSON_DEPTH, true],
  ];
  table.forEach(([value, max, want], i) => assert.equal(jsonTooDeep(value, max), want, `row ${i}`));
});
