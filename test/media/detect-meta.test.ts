/** Media info of an opened stream (x-oss-process video/info, audio/info) through the real engine. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaEngine } from '../../src/media/engine/index.js';
import { detectMediaMeta } from '../../src/media/detect-meta.js';
import { isMedleyError } from '../../src/errors.js';
import { FFMPEG, FFPROBE, tone } from '../support/media.js';

let dir = '';
let engine: MediaEngine;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-detect-'));
  engine = await MediaEngine.start({ ffmpeg: FFMPEG, ffprobe: FFPROBE, env: process.env });
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const openFile = (file: string, name: string) => async () => ({ stream: createReadStream(file), displayName: name, size: statSync(file).size, tag: 'mine' });

test('a tone: the DetectMediaMeta body, what open returned, and no copy left behind', async () => {
  const file = tone(join(dir, 'a.wav'), 440, 1, ['-ac', '2']);
  const work = join(dir, 'work-a');
  const { opened, meta } = await detectMediaMeta(engine, work, openFile(file, 'oss://b/a.wav'), 'REQ-1');
  assert.equal(opened.tag, 'mine');
  assert.equal(meta.RequestId, 'REQ-1');
  assert.equal(meta.Size, statSync(file).size);
  assert.equal(meta.AudioStreams.length, 1);
  assert.equal(meta.AudioStreams[0]!.Channels, 2);
  assert.ok(Math.abs(meta.Duration - 1) < 0.05, `duration ${meta.Duration}`);
  assert.deepEqual(readdirSync(work), []);
});

test('bytes that are not media: MediaUnreadable naming the object, and no copy left behind', async () => {
  const file = join(dir, 'b.txt');
  await writeFile(file, 'not media at all\n'.repeat(100));
  const work = join(dir, 'work-b');
  await assert.rejects(detectMediaMeta(engine, work, openFile(file, 'oss://b/b.txt'), 'REQ-2'), (e: unknown) => isMedleyError(e) && e.key === 'MediaUnreadable' && /oss:\/\/b\/b\.txt could not be read as media/.test(e.message));
  assert.deepEqual(readdirSync(work), []);
});
