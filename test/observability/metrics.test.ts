/** The metrics registry on its own: refusals, FFmpeg runs, task counts read from a real database. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/db/connection.js';
import { Metrics } from '../../src/observability/metrics.js';
import { sampleValue } from '../support/metrics.js';

let dir: string;
let db: Db;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medley-metrics-'));
  db = await openDatabase(join(dir, 'medley.db'));
});

after(async () => {
  await db.destroy();
  await rm(dir, { recursive: true, force: true });
});

test('refusals by limit, FFmpeg run times, and task states from the database', async () => {
  const m = new Metrics({ db, processMetrics: false });
  m.limitRefused('min_free_disk');
  m.limitRefused('min_free_disk');
  m.observeFfmpeg(1.5);
  m.observeFfmpeg(0.2, false);
  m.observeTaskPhases({ ffmpeg: 1500, commit: 2, verify: undefined });
  const { contentType, body } = await m.render();
  assert.match(contentType, /^text\/plain/);
  assert.equal(sampleValue(body, 'medley_limit_refusals_total', { limit: 'min_free_disk' }), 2);
  assert.equal(sampleValue(body, 'medley_ffmpeg_run_seconds_count', { outcome: 'ok' }), 1);
  assert.equal(sampleValue(body, 'medley_ffmpeg_run_seconds_sum', { outcome: 'ok' }), 1.5);
  assert.equal(sampleValue(body, 'medley_ffmpeg_run_seconds_count', { outcome: 'error' }), 1);
  assert.equal(sampleValue(body, 'medley_task_phase_seconds_count', { phase: 'ffmpeg' }), 1);
  assert.equal(sampleValue(body, 'medley_task_phase_seconds_sum', { phase: 'ffmpeg' }), 1.5);
  assert.equal(sampleValue(body, 'medley_task_phase_seconds_count', { phase: 'commit' }), 1);
  for (const state of ['queued', 'running', 'succeeded', 'failed']) assert.equal(sampleValue(body, 'medley_tasks', { state }), 0);
  assert.doesNotMatch(body, /medley_process_cpu/, 'process metrics can be left out');
  // Registries are per instance: a second one starts from zero.
  const other = await new Metrics({ processMetrics: false }).render();
  assert.equal(sampleValue(other.body, 'medley_limit_refusals_total', { limit: 'min_free_disk' }), 0);
});
