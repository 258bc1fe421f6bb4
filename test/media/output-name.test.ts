import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkOutputKey, expandTemplate, templateVariables } from '../../src/media/output-name.js';
import { MedleyError } from '../../src/errors.js';

const vars = templateVariables({
  source: { bucket: 'video-demo', key: 'path1/path2/example.oga', lastModified: new Date('2024-03-05T06:07:08Z') },
  taskTime: new Date('2025-12-31T23:59:58Z'),
  autoext: 'aac',
  resolution: '1280x720',
  tags: { custom: 'tv' },
});

const cases: Array<[string, string]> = [
  ['outobj.{autoext}', 'outobj.aac'],
  ['{dirname}/{barename}.{autoext}', 'path1/path2/example.aac'],
  ['{bucket}/{key}', 'video-demo/path1/path2/example.oga'],
  ['{basename}.{ext}', 'example.oga.oga'],
  ['{year}{mon}{day}-{hour}{min}{sec}', '20240305-060708'],
  ['{t_year}-{t_mon}-{t_day}T{t_hour}:{t_min}:{t_sec}', '2025-12-31T23:59:58'],
  ['{tags.custom}/{resolution}/{index}_{streamindex}', 'tv/1280x720/1_0'],
  ['{{literal}}.{autoext}', '{literal}.aac'],
  ['plain.mp3', 'plain.mp3'],
];
for (const [template, want] of cases) test(`${template} → ${want}`, () => assert.equal(expandTemplate(template, vars), want));

for (const bad of ['{nope}.mp3', '{autoext', 'a}b', '{tags.missing}']) {
  test(`${bad} is refused with a message naming it`, () => {
    assert.throws(() => expandTemplate(bad, vars), (e: unknown) => e instanceof MedleyError && e.message.includes(bad));
  });
}

test('checkOutputKey refuses empty, leading slash and oversize keys', () => {
  for (const k of ['', '/a', '\\a', 'a\0b', 'x'.repeat(1024)]) assert.throws(() => checkOutputKey(k), MedleyError);
  assert.equal(checkOutputKey('ok/name.mp3'), 'ok/name.mp3');
});
