// x-oss-copy-source as each official client writes it (test/fixtures/vectors README, "x-oss-copy-source").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCopySource } from '../../../src/http/oss/handlers/object.js';
import { MedleyError } from '../../../src/errors.js';

const TRICKY = 'dir/hello world+ü.txt';

const cases: Array<[string, string, { bucket: string; key: string }]> = [
  ['Go SDK v3 (url.QueryEscape: space +, real plus %2B)', '/examplebucket/dir%2Fhello+world%2B%C3%BC.txt', { bucket: 'examplebucket', key: TRICKY }],
  ['Java (space %20, / %2F)', '/examplebucket/dir%2Fhello%20world%2B%C3%BC.txt', { bucket: 'examplebucket', key: TRICKY }],
  ['Go SDK v2 (/ kept)', '/examplebucket/dir/hello%20world%2B%C3%BC.txt', { bucket: 'examplebucket', key: TRICKY }],
  ['no leading slash', 'examplebucket/a.txt', { bucket: 'examplebucket', key: 'a.txt' }],
  ['versionId dropped', '/examplebucket/a%3Fb.txt?versionId=123', { bucket: 'examplebucket', key: 'a?b.txt' }],
  ['many pluses', '/b-1/a++b', { bucket: 'b-1', key: 'a  b' }],
];

for (const [name, header, expected] of cases) {
  test(`copy source: ${name}`, () => assert.deepEqual(parseCopySource(header), expected));
}

for (const bad of ['/examplebucket', '/examplebucket/', 'nokey', '/examplebucket/%E0%A4%A']) {
  test(`copy source refused: ${JSON.stringify(bad)}`, () => {
    assert.throws(() => parseCopySource(bad), (e: unknown) => e instanceof MedleyError && e.status === 400);
  });
}
