import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml, toXml, urlEncodeValue, xmlDate } from '../../../src/http/oss/xml.js';
import { MedleyError } from '../../../src/errors.js';

test('toXml: declaration, no namespace, order kept, repeated elements, undefined dropped, escaping', () => {
  const xml = toXml({ R: { B: '2', A: 1, Skip: undefined, Item: [{ K: 'a&b<c>' }, { K: 'x' }], Empty: '' } });
  assert.equal(xml, '<?xml version="1.0" encoding="UTF-8"?>\n<R><B>2</B><A>1</A><Item><K>a&amp;b&lt;c&gt;</K></Item><Item><K>x</K></Item><Empty></Empty></R>');
});

test('parseXml keeps text as strings and single repeated elements as arrays', () => {
  const doc = parseXml(Buffer.from('<Delete><Quiet>true</Quiet><Object><Key>007</Key></Object></Delete>'), 'Delete', ['Object']);
  assert.deepEqual(doc, { Quiet: 'true', Object: [{ Key: '007' }] });
});

test('parseXml decodes entities in keys', () => {
  const doc = parseXml(Buffer.from('<Delete><Object><Key>a&amp;b</Key></Object></Delete>'), 'Delete', ['Object']);
  assert.deepEqual(doc.Object, [{ Key: 'a&b' }]);
});

for (const [name, body] of [
  ['empty', ''],
  ['unclosed', '<Delete><Object>'],
  ['text', 'hello'],
  ['wrong root', '<Other/>'],
  ['mismatched tags', '<Delete></Object>'],
] as const) {
  test(`parseXml refuses ${name} with MalformedXML`, () => {
    assert.throws(() => parseXml(Buffer.from(body), 'Delete'), (e: unknown) => e instanceof MedleyError && e.code === 'MalformedXML');
  });
}

test('xmlDate uses the .000Z form', () => {
  assert.equal(xmlDate(new Date('2024-01-02T03:04:05.678Z')), '2024-01-02T03:04:05.000Z');
});

test('urlEncodeValue: RFC 3986, slash as %2F, space as %20, never +', () => {
  assert.equal(urlEncodeValue("a b/c+d%e?f#g!'()*~"), 'a%20b%2Fc%2Bd%25e%3Ff%23g%21%27%28%29%2A~');
  assert.equal(urlEncodeValue('音频'), '%E9%9F%B3%E9%A2%91');
});
