/**
 * processJob's overlaps, on the real engine: inputs fetched and probed lane by lane, the caller keeping the
 * outputs while they are verified (and undoing that when the verification fails), the engine's probe cache
 * keyed by a source's identity, and mapBounded's failure rule (no new call after a failure; the failure is
 * thrown once the calls in flight settled).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMedleyError } from '../../src/errors.js';
import { MediaEngine } from '../../src/media/engine/index.js';
import { mapBounded, processJob, type JobTimings } from '../../src/media/process.js';
import { parseProcessString } from '../../src/media/request/process-string.js';
import { FFMPEG, FFPROBE, tone } from '../support/media.js';

let dir = '';
let engine: MediaEngine;
const f = (n: string): string => join(dir, n);
const b64 = (s: string): string => Buffer.from(s).toString('base64url');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-overlap-'));
  tone(f('a.mp3'), 440, 1, ['-ar', '44100', '-c:a', 'libmp3lame']);
  tone(f('b.wav'), 660, 1, ['-ar', '44100']);
  // Cut to 70 %: too long to look truncated before the run (limits.ts looksTruncated), so the short output
  // fails its verification, which then blames the source.
  tone(f('long.mp3'), 440, 3, ['-ar', '44100', '-c:a', 'libmp3lame']);
  const long = await readFile(f('long.mp3'));
  await writeFile(f('cut.mp3'), long.subarray(0, Math.floor(long.length * 0.7)));
  engine = await MediaEngine.start({ ffmpeg: FFMPEG, ffprobe: FFPROBE, env: {} });
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const concat = parseProcessString(`audio/concat,f_mp3,ab_64000/pre,o_${b64('a.mp3')}`, { bucket: 'bkt', key: 'b.wav' }, { requireSaveAs: false });
const convert = (ps: string) => parseProcessString(ps, { bucket: 'bkt', key: 'src' }, { requireSaveAs: false });

describe('processJob overlaps', () => {
  test('inputs with a fetch are fetched once each, before their probe; timings are filled', async () => {
    const workDir = await mkdtemp(join(dir, 'job-'));
    const fetched: string[] = [];
    const inputs = ['a.mp3', 'b.wav'].map((name) => ({
      path: join(workDir, `in-${name}`),
      displayName: `oss://b/${name}`,
      fetch: async () => {
        fetched.push(name);
        await copyFile(f(name), join(workDir, `in-${name}`));
      },
    }));
    const timings: JobTimings = {};
    try {
      const r = await processJob({ engine, job: concat, inputs, workDir, timeoutMs: 60_000, timings });
      assert.deepEqual([...fetched].sort(), ['a.mp3', 'b.wav']);
      assert.ok(Math.abs(r.output.durationSec - 2) < 0.1, String(r.output.durationSec));
      for (const k of ['inputs', 'fetch', 'probe', 'ffmpeg', 'verify', 'outputs'] as const) assert.ok((timings[k] ?? -1) >= 0, `${k}: ${timings[k]}`);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });

  test('a failing fetch fails the job with its error', async () => {
    const workDir = await mkdtemp(join(dir, 'job-'));
    const boom = new Error('the object store went away');
    const inputs = [
      { path: f('a.mp3'), displayName: 'a' },
      { path: join(workDir, 'never'), displayName: 'b', fetch: () => Promise.reject(boom) },
    ];
    try {
      await assert.rejects(processJob({ engine, job: concat, inputs, workDir, timeoutMs: 60_000 }), (e) => e === boom);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });

  test('the outputs are kept while they are verified; what was kept is handed back', async () => {
    const workDir = await mkdtemp(join(dir, 'job-'));
    let seen: readonly string[] = [];
    try {
      const r = await processJob({ engine, job: convert('audio/convert,f_mp3'), inputs: [{ path: f('b.wav'), displayName: 'b' }], workDir, timeoutMs: 60_000 }, async (files, outputDir) => {
        seen = files;
        const sizes = await Promise.all(files.map(async (n) => (await stat(join(outputDir, n))).size));
        return { sizes, undo: () => Promise.reject(new Error('must not be undone')) };
      });
      assert.deepEqual(seen, r.files);
      assert.ok(r.kept.sizes[0]! > 0);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });

  test('an output that fails its verification undoes what was kept, and no output is left', async () => {
    const workDir = await mkdtemp(join(dir, 'job-'));
    let undone = 0;
    try {
      await assert.rejects(
        processJob({ engine, job: convert('audio/convert,f_mp3'), inputs: [{ path: f('cut.mp3'), displayName: 'oss://b/cut.mp3' }], workDir, timeoutMs: 60_000 }, async () => ({
          undo: async () => void undone++,
        })),
        (e: unknown) => isMedleyError(e) && /truncated/.test(e.message),
      );
      assert.equal(undone, 1);
      assert.ok(!existsSync(join(workDir, 'out')));
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });

  test('keeping that fails fails the job, and no output is left', async () => {
    const workDir = await mkdtemp(join(dir, 'job-'));
    const boom = new Error('the disk is full');
    try {
      await assert.rejects(
        processJob({ engine, job: convert('audio/convert,f_mp3'), inputs: [{ path: f('b.wav'), displayName: 'b' }], workDir, timeoutMs: 60_000 }, () => Promise.reject(boom)),
        (e) => e === boom,
      );
      assert.deepEqual(await readdir(workDir), []);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });
});

describe('engine probe cache', () => {
  test('a source of a known identity is answered from memory; other identities and no identity are probed', async () => {
    const e = await MediaEngine.start({ ffmpeg: FFMPEG, ffprobe: FFPROBE, env: {} });
    const file = f('cached.mp3');
    await copyFile(f('a.mp3'), file);
    const first = await e.probe(file, 'x', { identity: 'blob-1' });
    await writeFile(file, 'not media at all');
    const again = await e.probe(file, 'x', { identity: 'blob-1' });
    assert.deepEqual(again, first);
    again.durationSec = -1; // callers get their own copy
    assert.deepEqual(await e.probe(file, 'x', { identity: 'blob-1' }), first);
    await assert.rejects(e.probe(file, 'x', { identity: 'blob-2' }), (err: unknown) => isMedleyError(err) && err.key === 'MediaUnreadable');
    await assert.rejects(e.probe(file, 'x'), (err: unknown) => isMedleyError(err) && err.key === 'MediaUnreadable');
  });

  test('failures are not remembered', async () => {
    const e = await MediaEngine.start({ ffmpeg: FFMPEG, ffprobe: FFPROBE, env: {} });
    const file = f('later.mp3');
    await writeFile(file, 'not yet');
    await assert.rejects(e.probe(file, 'x', { identity: 'blob-3' }));
    await copyFile(f('a.mp3'), file);
    assert.ok((await e.probe(file, 'x', { identity: 'blob-3' })).audio);
  });
});

describe('mapBounded', () => {
  test('results in input order, at most `limit` in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const r = await mapBounded([30, 10, 20, 5, 1], 2, async (ms) => {
      most = Math.max(most, ++inFlight);
      await new Promise((res) => setTimeout(res, ms));
      inFlight--;
      return ms * 2;
    });
    assert.deepEqual(r, [60, 20, 40, 10, 2]);
    assert.equal(most, 2);
  });

  test('after a failure no new call starts, and the failure waits for the calls in flight', async () => {
    const started: number[] = [];
    let slowDone = false;
    const boom = new Error('boom');
    await assert.rejects(
      mapBounded([0, 1, 2, 3], 2, async (i) => {
        started.push(i);
        if (i === 0) throw boom;
        await new Promise((res) => setTimeout(res, 30));
        if (i === 1) slowDone = true;
        return i;
      }),
      (e) => e === boom,
    );
    assert.deepEqual(started, [0, 1]);
    assert.ok(slowDone, 'the call in flight settled before the failure was thrown');
  });
});
