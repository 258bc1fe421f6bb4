// Regressions found by the fuzzer (test/fuzz) in the IMM door (CreateMediaConvertTask):
// - JSON nested deeper than the stack (JSON.parse takes any depth) overflowed in stripNulls: a RangeError, a 500;
// - a flattened key path as deep overflowed the same way when the tree was rebuilt;
// - `Sources.__proto__.URI=...` walked into Object.prototype and set URI on every object of the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMediaConvertRequest } from '../../../src/media/request/imm-request.js';
import { MedleyError } from '../../../src/errors.js';

const SOURCES = JSON.stringify([{ URI: 'oss://in-bucket/a.mp3' }]);
const TARGETS = JSON.stringify([{ URI: 'oss://in-bucket/out.mp3', Container: 'mp3' }]);

function params(extra: Record<string, string>): Record<string, string> {
  const p = Object.create(null) as Record<string, string>;
  return Object.assign(p, { ProjectName: 'p', Sources: SOURCES, Targets: TARGETS }, extra);
}

const deepArray = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

const refused = (name: string) => (e: unknown) => {
  assert.ok(e instanceof MedleyError, `not a MedleyError: ${String(e)}`);
  assert.equal(e.status, 400);
  assert.equal(e.entry.immCode, 'InvalidArgument');
  assert.match(e.message, new RegExp(`${name} is nested more than 64 levels deep`));
  return true;
};

const DEEP: [string, Record<string, string>][] = [
  ['Sources', { Sources: deepArray(100_000) }],
  ['Targets', { Targets: `[${deepObject(100_000)}]` }],
  ['Tags', { Tags: `{"t": ${deepArray(65)}}` }],
  ['Notification', { Notification: deepObject(10_000) }],
  ['CredentialConfig', { CredentialConfig: deepObject(65) }],
];
for (const [name, extra] of DEEP) {
  test(`IMM: ${name} as JSON nested too deeply is 400, not a stack overflow`, () => {
    assert.throws(() => parseMediaConvertRequest(params(extra)), refused(name));
  });
}

test('IMM: a flattened key path nested too deeply is 400, not a stack overflow', () => {
  for (const depth of [65, 100_000]) {
    const p = params({});
    delete p.Tags;
    p[`Tags.t${'.a'.repeat(depth)}`] = 'x';
    assert.throws(() => parseMediaConvertRequest(p), refused('Tags'));
  }
});

test('IMM: 64 levels of JSON are still read (the limit is far above any real request)', () => {
  const { job } = parseMediaConvertRequest(params({ Tags: `{"t": ${deepArray(63)}}` }));
  assert.equal(typeof job.tags?.t, 'string');
});

const PROTO_KEYS: [string, string, RegExp][] = [
  ['Sources.__proto__.URI', 'oss://in-bucket/x.mp3', /Sources.*must be a list/],
  ['Sources.1.__proto__.URI', 'oss://in-bucket/x.mp3', /unknown field "Sources\[0\].__proto__"/],
  ['Targets.1.constructor.prototype.URI', 'oss://in-bucket/y.mp3', /unknown field "Targets\[0\].constructor"/],
  ['Tags.__proto__.polluted', 'yes', /./],
];
for (const [key, value, message] of PROTO_KEYS) {
  test(`IMM: flattened "${key}" is a name, not a path into Object.prototype`, () => {
    const base = key.split('.', 1)[0]!;
    const p = params({});
    delete p[base];
    if (base === 'Sources') p['Sources.1.URI'] = 'oss://in-bucket/a.mp3';
    if (base === 'Targets') Object.assign(p, { 'Targets.1.URI': 'oss://in-bucket/out.mp3', 'Targets.1.Container': 'mp3' });
    p[key] = value;
    try {
      const { job } = parseMediaConvertRequest(p);
      // Tags is a map of names: "__proto__" is then a (dropped or kept) tag name, never a prototype.
      assert.equal(base, 'Tags');
      assert.equal(Object.getPrototypeOf(job.tags), Object.prototype);
    } catch (e) {
      assert.ok(e instanceof MedleyError && e.status === 400, String(e));
      assert.match(e.message, message);
    }
    const probe = {} as Record<string, unknown>;
    assert.equal(probe.URI, undefined, 'Object.prototype.URI was set');
    assert.equal(probe.polluted, undefined, 'Object.prototype.polluted was set');
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).filter((n) => ['URI', 'polluted'].includes(n)), []);
  });
}
