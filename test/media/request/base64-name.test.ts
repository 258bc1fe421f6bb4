// Base64 names in process strings (spec oss.md 5.3, 8.5, 8.6).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBase64Name } from '../../../src/media/request/base64-name.js';
import { MedleyError, errorCatalog } from '../../../src/errors.js';

const site = { parameter: 'o of the 2nd /pre clip', token: 'o_TOKEN', context: 'audio/concat' };

describe('decodeBase64Name: accepted forms', () => {
  const cases: { name: string; encoded: string; want: string }[] = [
    { name: 'URL-safe, unpadded', encoded: 'c3JjMS5tcDM', want: 'src1.mp3' },
    { name: 'URL-safe, padded (Go samples)', encoded: 'ZXhhbXBsZWJ1Y2tldA==', want: 'examplebucket' },
    { name: 'standard, padded (ali-oss)', encoded: 'Y2xpcHMvw7w/Pi53YXY=', want: 'clips/ü?>.wav' },
    { name: 'standard, unpadded', encoded: 'Y2xpcHMvw7w/Pi53YXY', want: 'clips/ü?>.wav' },
    { name: 'URL-safe form of the same bytes', encoded: 'Y2xpcHMvw7w_Pi53YXY', want: 'clips/ü?>.wav' },
    { name: "standard with '+'", encoded: 'b3V0Lz9+Pi5hYWM=', want: 'out/?~>.aac' },
    { name: "standard with both '/' and '+'", encoded: 'YS/DvD8+fi5tcDM=', want: 'a/ü?>~.mp3' },
    { name: "URL-safe with '-'", encoded: 'b3V0Lz9-Pi5hYWM', want: 'out/?~>.aac' },
    { name: 'one trailing \\n stripped (seed pre1.mp3)', encoded: 'cHJlMS5tcDMK', want: 'pre1.mp3' },
    { name: 'one trailing \\r\\n stripped', encoded: Buffer.from('pre1.mp3\r\n').toString('base64url'), want: 'pre1.mp3' },
    { name: 'only one trailing newline stripped', encoded: Buffer.from('a.mp3\n\n').toString('base64url'), want: 'a.mp3\n' },
    { name: 'seed template with newline', encoded: 'b3V0b2JqLnthdXRvZXh0fQo', want: 'outobj.{autoext}' },
    { name: 'one padding char', encoded: 'c3JjMS5tcDM=', want: 'src1.mp3' },
    { name: 'UTF-8 name', encoded: Buffer.from('音频/合并.mp3').toString('base64url'), want: '音频/合并.mp3' },
    { name: 'leading BOM kept', encoded: Buffer.from('\uFEFFa.mp3').toString('base64url'), want: '\uFEFFa.mp3' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(decodeBase64Name(c.encoded, site), c.want);
    });
  }
});

describe('decodeBase64Name: rejected', () => {
  const cases: { name: string; encoded: string; message: RegExp }[] = [
    { name: 'empty', encoded: '', message: /is empty/ },
    { name: 'only padding', encoded: '==', message: /is empty/ },
    { name: 'character outside both alphabets', encoded: 'c3Jj*S5tcDM', message: /not base64: it contains characters/ },
    { name: 'space inside', encoded: 'c3Jj MS5tcDM', message: /not base64/ },
    { name: 'padding in the middle', encoded: 'c3J=jMS5tcDM', message: /not base64/ },
    { name: 'three padding chars', encoded: 'YQ===', message: /not base64/ },
    { name: 'wrong padding length', encoded: 'YWJj=', message: /padding is wrong/ },
    { name: 'impossible length', encoded: 'YWJjZ', message: /length is impossible/ },
    { name: 'decodes to nothing but a newline', encoded: 'Cg', message: /empty name/ },
    { name: 'decodes to \\r\\n only', encoded: 'DQo', message: /empty name/ },
    { name: 'NUL inside', encoded: Buffer.from('a\0b.mp3').toString('base64url'), message: /containing NUL/ },
    { name: 'invalid UTF-8', encoded: Buffer.from([0xff, 0xfe, 0x41]).toString('base64url'), message: /UTF-8/ },
    { name: 'truncated UTF-8 sequence', encoded: Buffer.from([0x61, 0xe9, 0x9f]).toString('base64url'), message: /UTF-8/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.throws(
        () => decodeBase64Name(c.encoded, site),
        (e: unknown) => {
          assert.ok(e instanceof MedleyError);
          assert.equal(e.entry, errorCatalog.InvalidMediaArgument);
          assert.match(e.message, c.message);
          assert.match(e.message, /^audio\/concat: parameter "o_TOKEN" \(o of the 2nd \/pre clip\)/);
          assert.deepEqual(e.details, { ArgumentName: 'o', ArgumentValue: c.encoded });
          return true;
        },
      );
    });
  }

  test('argumentName overrides the token key in details', () => {
    assert.throws(
      () => decodeBase64Name('!', { parameter: 'topic of /notify', token: 'topic_!', argumentName: 'topic' }),
      (e: unknown) => e instanceof MedleyError && e.details.ArgumentName === 'topic' && /^parameter "topic_!" \(topic of \/notify\)/.test(e.message),
    );
  });
});
