/** DTDs and entity declarations are refused in every XML body, before a parser sees them (OSS and MNS). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { forbiddenXmlDeclaration } from '../../src/http/xml-safety.js';
import { parseXml } from '../../src/http/oss/xml.js';
import { parseMnsXml } from '../../src/http/mns/xml.js';
import { MedleyError } from '../../src/errors.js';

const BILLION_LAUGHS = '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n<Delete><Object><Key>&lol2;</Key></Object></Delete>';
const EXTERNAL = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&xxe;</ETag></Part></CompleteMultipartUpload>';

describe('forbiddenXmlDeclaration', () => {
  const refused: Array<[string, RegExp]> = [
    [BILLION_LAUGHS, /^<!DOCTYPE declarations .* \(line 2\)$/],
    [EXTERNAL, /^<!DOCTYPE/],
    ['<!doctype x><x/>', /^<!DOCTYPE/],
    ['<x><!ENTITY a "b"></x>', /^<!ENTITY/],
    ['<x><!ELEMENT a ANY></x>', /^<!ELEMENT/],
    ['<!-- c --><! DOCTYPE x><x/>', /^<!DOCTYPE/],
    ['<x/><!', /^<! declarations/],
  ];
  for (const [text, want] of refused) test(`refuses ${JSON.stringify(text.slice(0, 40))}`, () => assert.match(forbiddenXmlDeclaration(text) ?? '', want));
  const allowed = [
    '<?xml version="1.0" encoding="UTF-8"?><Delete><Object><Key>a</Key></Object></Delete>',
    '<!-- <!DOCTYPE in a comment --><x/>',
    '<Message><MessageBody><![CDATA[<!DOCTYPE html><html></html>]]></MessageBody></Message>',
    '<x>&lt;!DOCTYPE escaped&gt;</x>',
    '',
  ];
  for (const text of allowed) test(`allows ${JSON.stringify(text.slice(0, 40))}`, () => assert.equal(forbiddenXmlDeclaration(text), undefined));
});

const isMalformed = (code: string) => (e: unknown) => e instanceof MedleyError && e.status === 400 && e.code === code && /not allowed/.test(e.message);

test('the OSS parser answers MalformedXML for a DTD', () => {
  assert.throws(() => parseXml(Buffer.from(BILLION_LAUGHS), 'Delete', ['Object']), isMalformed('MalformedXML'));
  assert.throws(() => parseXml(Buffer.from(EXTERNAL), 'CompleteMultipartUpload', ['Part']), isMalformed('MalformedXML'));
});

test('the MNS parser answers MalformedXML for a DTD', () => {
  const body = '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY e "x">]><Message xmlns="http://mns.aliyuncs.com/doc/v1/"><MessageBody>&e;</MessageBody></Message>';
  assert.throws(() => parseMnsXml(Buffer.from(body)), isMalformed('MalformedXML'));
});
