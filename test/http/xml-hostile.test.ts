// Regressions found by the fuzzer (test/fuzz): well-formed XML that fast-xml-parser itself refuses — more than
// 100 nested elements, element names that could pollute prototypes — was thrown as a plain Error, i.e. a 500
// InternalError, on both the OSS and the MNS dialect. It is the client's malformed XML.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MedleyError } from '../../src/errors.js';
import { parseXml } from '../../src/http/oss/xml.js';
import { parseMnsXml, parseMnsXmlAs } from '../../src/http/mns/xml.js';

const nest = (tag: string, depth: number) => `${`<${tag}>`.repeat(depth)}x${`</${tag}>`.repeat(depth)}`;

const CASES: { name: string; oss: string; mns: string; why: RegExp }[] = [
  { name: '102 levels of elements', oss: `<Delete>${nest('Object', 101)}</Delete>`, mns: `<Message>${nest('MessageBody', 101)}</Message>`, why: /nested too deeply/ },
  { name: '50 000 nested elements', oss: `<CompleteMultipartUpload>${nest('Part', 50_000)}</CompleteMultipartUpload>`, mns: nest('Messages', 50_000), why: /nested too deeply/ },
  { name: 'a child named __proto__', oss: '<Delete><__proto__><Key>k</Key></__proto__></Delete>', mns: '<Message><__proto__>x</__proto__></Message>', why: /__proto__/ },
  { name: 'a child named constructor', oss: '<CompleteMultipartUpload><Part><constructor>1</constructor></Part></CompleteMultipartUpload>', mns: '<Queue><constructor>1</constructor></Queue>', why: /constructor/ },
  { name: 'a root named prototype', oss: '<prototype></prototype>', mns: '<prototype/>', why: /prototype/ },
];

const malformed = (code: string, why: RegExp) => (e: unknown) => {
  assert.ok(e instanceof MedleyError, `not a MedleyError: ${String(e)}`);
  assert.equal(e.status, 400);
  assert.equal(e.code, code);
  assert.match(e.message, why);
  return true;
};

for (const c of CASES) {
  test(`OSS XML: ${c.name} is 400 MalformedXML`, () => {
    assert.throws(() => parseXml(Buffer.from(c.oss), c.oss.slice(1, c.oss.search(/[>/ ]/)), ['Part', 'Object']), malformed('MalformedXML', c.why));
  });
  test(`MNS XML: ${c.name} is 400 MalformedXML`, () => {
    assert.throws(() => parseMnsXml(Buffer.from(c.mns)), malformed('MalformedXML', c.why));
    assert.throws(() => parseMnsXmlAs(Buffer.from(c.mns), 'Message'), malformed('MalformedXML', c.why));
  });
}

test('XML: 100 nested elements (the parser\'s limit) still parse', () => {
  assert.equal(typeof parseXml(Buffer.from(`<Delete>${nest('a', 99)}</Delete>`), 'Delete').a, 'object');
  assert.equal(parseMnsXml(Buffer.from(`<Message>${nest('a', 99)}</Message>`)).root, 'Message');
});
