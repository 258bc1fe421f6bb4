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

// Operations settings (limits-ops): the free-disk reserve and the metrics token.
test('MEDLEY_MIN_FREE_DISK: 1 GiB by default, sizes and percentages, invalid values named', () => {
  assert.deepEqual(loadConfig({}, {}).minFreeDisk, { kind: 'bytes', bytes: 1024 ** 3 });
  assert.deepEqual(loadConfig({}, { MEDLEY_MIN_FREE_DISK: '2%' }).minFreeDisk, { kind: 'percent', percent: 2 });
  assert.deepEqual(loadConfig({ minFreeDisk: '0' }, { MEDLEY_MIN_FREE_DISK: '2%' }).minFreeDisk, { kind: 'bytes', bytes: 0 });
  for (const v of ['lots', '100%', '-5MiB']) {
    assert.throws(() => loadConfig({}, { MEDLEY_MIN_FREE_DISK: v }), (e: unknown) => e instanceof ConfigError && /MEDLEY_MIN_FREE_DISK: must be a size/.test(e.message));
  }
  assert.equal(loadConfig({}, {}).metricsToken, undefined);
  assert.equal(loadConfig({}, { MEDLEY_METRICS_TOKEN: 'a-long-enough-token' }).metricsToken, 'a-long-enough-token');
  assert.throws(() => loadConfig({}, { MEDLEY_METRICS_TOKEN: 'short' }), (e: unknown) => e instanceof ConfigError && /MEDLEY_METRICS_TOKEN/.test(e.message));
});

// Media limits (src/media/limits.ts).
test('media limits: 6 h sources and outputs, 8 GiB outputs, 5 GiB sources; validated; mapped for the engine', async () => {
  const { mediaLimits } = await import('../src/config.js');
  const { DEFAULT_MEDIA_LIMITS } = await import('../src/media/limits.js');
  const c = loadConfig({}, {});
  assert.deepEqual(mediaLimits(c), DEFAULT_MEDIA_LIMITS);
  const set = loadConfig({}, { MEDLEY_MAX_SOURCE_DURATION: '60', MEDLEY_MAX_OUTPUT_DURATION: '90.5', MEDLEY_MAX_OUTPUT_BYTES: '1048576', MEDLEY_MAX_MEDIA_INPUT_BYTES: '2048' });
  assert.deepEqual(mediaLimits(set), { maxSourceDurationSec: 60, maxOutputDurationSec: 90.5, maxOutputBytes: 1048576, maxMediaInputBytes: 2048 });
  for (const [env, v] of [['MEDLEY_MAX_SOURCE_DURATION', '0'], ['MEDLEY_MAX_OUTPUT_BYTES', '12.5'], ['MEDLEY_MAX_MEDIA_INPUT_BYTES', 'lots']] as const) {
    assert.throws(() => loadConfig({}, { [env]: v }), (e) => e instanceof ConfigError && e.message.includes(env));
  }
});

// FFmpeg least privilege settings (src/media/engine/sandbox.ts).
test('FFmpeg sandbox settings: defaults, sizes with units, auto CPU, refusals naming the variable', () => {
  const c = loadConfig({}, {});
  assert.equal(c.ffmpegUser, 'medley-ffmpeg');
  assert.equal(c.workDir, undefined);
  assert.equal(c.ffmpegMaxMemory, 4 * 2 ** 30);
  assert.equal(c.ffmpegMaxFileSize, 5 * 2 ** 30);
  assert.equal(c.ffmpegMaxCpuSeconds, 'auto');
  const sizes: Array<[string, number]> = [['4GiB', 4 * 2 ** 30], ['512MiB', 512 * 2 ** 20], ['512M', 512 * 2 ** 20], ['1.5G', 1.5 * 2 ** 30], ['2kb', 2000], ['2GB', 2e9], ['1000', 1000], ['0', 0]];
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
