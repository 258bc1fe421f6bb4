import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.js';

test('defaults: loopback, port 9000, ./data, cn-hangzhou, localhost domain, no keys', () => {
  const c = loadConfig({}, {});
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 9000);
  assert.equal(c.dataDir, './data');
  assert.equal(c.region, 'cn-hangzhou');
  assert.equal(c.domain, 'localhost');
  assert.equal(c.accessKeyId, undefined);
  assert.equal(c.accessKeySecret, undefined);
  assert.equal(c.fsync, true);
  assert.equal(loadConfig({}, { MEDLEY_FSYNC: 'false' }).fsync, false);
});

test('task defaults: workers auto (one per core), 30 s lease, 1 h timeout, 7 days retention, 500 ms poll', () => {
  const c = loadConfig({}, {});
  assert.equal(c.workers, 'auto');
  assert.equal(c.taskLeaseSeconds, 30);
  assert.equal(c.taskTimeoutSeconds, 3600);
  assert.equal(c.taskRetentionDays, 7);
  assert.equal(c.pollMs, 500);
  assert.equal(loadConfig({}, { MEDLEY_WORKERS: '0' }).workers, 0);
  assert.equal(loadConfig({ workers: '3' }, {}).workers, 3);
});

test('flags win over the environment, which wins over defaults', () => {
  const c = loadConfig({ port: '9100' }, { MEDLEY_PORT: '9200', MEDLEY_REGION: 'cn-beijing' });
  assert.equal(c.port, 9100);
  assert.equal(c.region, 'cn-beijing');
});

const bad: Array<[Record<string, string>, RegExp]> = [
  [{ MEDLEY_PORT: 'x' }, /MEDLEY_PORT/],
  [{ MEDLEY_PORT: '70000' }, /MEDLEY_PORT/],
  [{ MEDLEY_REGION: 'CN_HANGZHOU' }, /MEDLEY_REGION/],
  [{ MEDLEY_DOMAIN: 'Bad Domain' }, /MEDLEY_DOMAIN/],
  [{ MEDLEY_LOG_LEVEL: 'loud' }, /MEDLEY_LOG_LEVEL/],
  [{ MEDLEY_FSYNC: 'maybe' }, /MEDLEY_FSYNC/],
  [{ MEDLEY_WORKERS: 'many' }, /MEDLEY_WORKERS/],
  [{ MEDLEY_WORKERS: '-1' }, /MEDLEY_WORKERS/],
  [{ MEDLEY_TASK_LEASE: '1' }, /MEDLEY_TASK_LEASE/],
  [{ MEDLEY_TASK_TIMEOUT: '0' }, /MEDLEY_TASK_TIMEOUT/],
  [{ MEDLEY_TASK_RETENTION_DAYS: 'week' }, /MEDLEY_TASK_RETENTION_DAYS/],
  [{ MEDLEY_POLL_MS: '5' }, /MEDLEY_POLL_MS/],
  [{ MEDLEY_ACCESS_KEY_ID: 'LTAIabcdefgh' }, /set together/],
  [{ MEDLEY_ACCESS_KEY_ID: 'LTAIabcdefgh', MEDLEY_ACCESS_KEY_SECRET: 'short' }, /MEDLEY_ACCESS_KEY_SECRET/],
];
for (const [env, message] of bad) {
  test(`refuses ${JSON.stringify(env)}`, () => {
    assert.throws(() => loadConfig({}, env), (e: unknown) => e instanceof ConfigError && message.test(e.message));
  });
}

// FFmpeg least privilege settings (src/media/engine/sandbox.ts).
test('FFmpeg sandbox settings: defaults, sizes with units, auto CPU, refusals naming the variable', () => {
  const c = loadConfig({}, {});
  assert.equal(c.ffmpegUser, 'medley-ffmpeg');
  assert.equal(c.workDir, undefined);
  assert.equal(c.ffmpegMaxMemory, 4 * 2 ** 30);
  assert.equal(c.ffmpegMaxFileSize, 5 * 2 ** 30);
  assert.equal(c.ffmpegMaxCpuSeconds, 'auto');
  const sizes: Array<[string, number]> = [['4GiB', 4 * 2 ** 30], ['512MiB', 512 * 2 ** 20], ['512M', 512e6], ['1.5G', 1.5e9], ['2kb', 2000], ['1000', 1000], ['0', 0]];
  for (const [v, n] of sizes) assert.equal(loadConfig({}, { MEDLEY_FFMPEG_MAX_MEMORY: v }).ffmpegMaxMemory, n, v);
  assert.equal(loadConfig({ ffmpegMaxCpuSeconds: '120' }, {}).ffmpegMaxCpuSeconds, 120);
  assert.equal(loadConfig({}, { MEDLEY_FFMPEG_USER: 'none', MEDLEY_WORK_DIR: '/var/lib/medley-work' }).ffmpegUser, 'none');
  for (const [env, message] of [
    [{ MEDLEY_FFMPEG_MAX_MEMORY: 'lots' }, /MEDLEY_FFMPEG_MAX_MEMORY/],
    [{ MEDLEY_FFMPEG_MAX_FILE_SIZE: '-1' }, /MEDLEY_FFMPEG_MAX_FILE_SIZE/],
    [{ MEDLEY_FFMPEG_MAX_CPU_SECONDS: 'fast' }, /MEDLEY_FFMPEG_MAX_CPU_SECONDS/],
    [{ MEDLEY_FFMPEG_USER: 'Root User' }, /MEDLEY_FFMPEG_USER/],
  ] as const) {
    assert.throws(() => loadConfig({}, env), (e: unknown) => e instanceof ConfigError && message.test(e.message), JSON.stringify(env));
  }
});
