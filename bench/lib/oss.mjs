/**
 * Shared by the storage benchmarks (storage.mjs, small-objects.mjs): child node servers (the built Medley
 * and the bare node:http baselines, which are part of the benchmark), the ali-oss client the targets are
 * defined with, alternating A/B rounds with medians and ratios, and /proc meters (RSS sampler, CPU).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { startScriptNodeFlags } from './medley.mjs';
import { cpuSeconds } from './proc.mjs';

const require = createRequire(import.meta.url);
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ACCESS_KEY_ID = 'LTAI5tBenchKey0001';
export const ACCESS_KEY_SECRET = 'BenchSecret00000000000000000001';
export const MB = 1e6;
export const MiB = 1024 * 1024;

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const fmt = (x, digits = 1) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(digits));

/** A positive (or >= min) integer from the environment, with a default. */
export function intEnv(name, def, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}; got "${raw}"`);
  return n;
}

/** Whitespace-separated words from the environment (node flags such as BENCH_SERVER_NODE_ARGS); [] when unset. */
export const wordsEnv = (name) => (process.env[name] ?? '').split(/\s+/).filter(Boolean);

// ---------------------------------------------------------------------------------------------------
// Child servers
// ---------------------------------------------------------------------------------------------------

const children = new Set();
const running = (child) => child.exitCode === null && child.signalCode === null;

/** SIGTERM (in-flight requests finish), SIGKILL after 15 s. */
export async function stopChild(child) {
  children.delete(child);
  if (!running(child)) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
export const stopAll = () => Promise.all([...children].map(stopChild));
process.on('exit', () => {
  for (const c of children) if (running(c)) c.kill('SIGKILL');
});

/** Spawns `node <args>` and resolves with { child, url, pid } once it prints `listening on http://...`. */
export async function startChild(name, args, env = {}) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.stderr.on('data', (d) => process.stderr.write(`[${name}] ${d}`));
  const url = await new Promise((ok, fail) => {
    let out = '';
    let found = false;
    const timer = setTimeout(() => fail(new Error(`${name} did not print "listening on" within 30 s:\n${out}`)), 30_000);
    child.stdout.on('data', (d) => {
      if (found) return;
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        found = true;
        clearTimeout(timer);
        ok(new URL(m[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!found) fail(new Error(`${name} exited (${signal ?? code}) before listening:\n${out}`));
    });
  });
  return { child, url, pid: child.pid };
}

/**
 * The built `medley serve` on `dataDir` with the bench key; `nodeArgs` (e.g. ['--cpu-prof']) after `npm start`'s
 * flags. Resolves with startChild's result and `nodeFlags`, every node flag the server runs with.
 */
export async function startMedley(dataDir, { env = {}, nodeArgs = [], main = join(ROOT, 'dist', 'cli', 'main.js') } = {}) {
  const nodeFlags = [...startScriptNodeFlags(), ...nodeArgs];
  const started = await startChild('medley', [...nodeFlags, main, 'serve', '--port', '0', '--mns-port', '0', '--data-dir', dataDir], {
    MEDLEY_HOST: '127.0.0.1',
    MEDLEY_ACCESS_KEY_ID: ACCESS_KEY_ID,
    MEDLEY_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    MEDLEY_LOG_LEVEL: 'warn',
    ...env,
  });
  return { ...started, nodeFlags };
}

/**
 * The bare baseline: what a user's own minimal durable object store in node:http does, no auth, no index.
 * PUT of a small body (buffered): MD5 for the ETag, write a temp file, fsync it, rename it into place,
 * fsync the directory (without that the rename is not durable). PUT of a big body (streamed): write it to
 * the file with 1 MiB buffers, fsync. GET streams the file back. DELETE removes it.
 */
const BARE_SERVER_SOURCE = `
const http = require('node:http'), fs = require('node:fs'), path = require('node:path'), crypto = require('node:crypto');
const { pipeline } = require('node:stream');
const dir = process.argv[1];
const fsyncPath = (p, cb) => fs.open(p, 'r', (e, fd) => e ? cb(e) : fs.fsync(fd, (e2) => fs.close(fd, () => cb(e2))));
http.createServer((req, res) => {
  const name = path.join(dir, 'o-' + req.url.replace(/[^A-Za-z0-9]/g, '_'));
  const fail = () => { if (!res.headersSent) res.writeHead(500, { 'Content-Length': 0 }); res.end(); };
  const ok = (headers) => { res.writeHead(200, { 'Content-Length': 0, ...headers }); res.end(); };
  if (req.method === 'PUT' && Number(req.headers['content-length']) <= 1 << 20) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const etag = crypto.createHash('md5').update(body).digest('hex');
      const tmp = name + '.' + crypto.randomBytes(6).toString('hex') + '.tmp';
      fs.open(tmp, 'w', (e, fd) => {
        if (e) return fail();
        fs.write(fd, body, (e) => {
          if (e) return fail();
          fs.fsync(fd, () => fs.close(fd, () => fs.rename(tmp, name, (e) => e ? fail() : fsyncPath(dir, () => ok({ ETag: '"' + etag + '"' })))));
        });
      });
    });
  } else if (req.method === 'PUT') {
    pipeline(req, fs.createWriteStream(name, { highWaterMark: 1 << 20 }), (err) => err ? fail() : fsyncPath(name, (e) => e ? fail() : ok({})));
  } else if (req.method === 'GET' || req.method === 'HEAD') {
    fs.stat(name, (e, st) => {
      if (e) return fail();
      res.writeHead(200, { 'Content-Length': st.size, 'Content-Type': 'application/octet-stream' });
      if (req.method === 'HEAD') return res.end();
      if (st.size <= 1 << 16) return fs.readFile(name, (e, d) => e ? res.destroy() : res.end(d));
      pipeline(fs.createReadStream(name, { highWaterMark: 1 << 20 }), res, () => {});
    });
  } else {
    fs.rm(name, { force: true }, () => { res.writeHead(204); res.end(); });
  }
}).listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port); });
`;

export function startBare(dir) {
  return startChild('bare', ['-e', BARE_SERVER_SOURCE, dir]);
}

// ---------------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------------

/**
 * The official ali-oss client, path style (sldEnable; endpoint localhost:<port>), V1 signatures, with a
 * keep-alive agent of `sockets`. The bare server ignores the signature; both get the same requests.
 */
export function aliClient(url, bucket, sockets) {
  const OSS = require('ali-oss');
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const client = new OSS({
    accessKeyId: ACCESS_KEY_ID,
    accessKeySecret: ACCESS_KEY_SECRET,
    region: 'oss-cn-hangzhou',
    endpoint: `http://localhost:${url.port}`,
    bucket,
    sldEnable: true,
    agent,
    timeout: 600_000,
  });
  client.agentToDestroy = agent;
  return client;
}

/** Runs `fn(i)` for i in [0, n), `limit` at a time; the first failure rejects. */
export async function pool(n, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/**
 * Alternating rounds: for each round, every target in `targets` (in order, the order flipped on odd
 * rounds so none always goes first) runs `fn(target, round)`, which returns { metric: value }. Returns
 * per-target medians of every metric and, per target, the medians of its per-round ratios to
 * targets[base] (the bare server is index 1).
 */
export async function alternate(targets, rounds, fn, onRound = () => {}, base = 1) {
  const results = targets.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const order = targets.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) results[i].push(await fn(targets[i], r));
    onRound(r, results.map((x) => x[r]));
  }
  const metrics = Object.keys(results[0][0]);
  const medians = results.map((rs) => Object.fromEntries(metrics.map((m) => [m, median(rs.map((x) => x[m]))])));
  const ratios = results.map((rs) => Object.fromEntries(metrics.map((m) => [m, median(rs.map((x, r) => x[m] / results[base][r][m]))])));
  return { medians, ratios, results };
}

// ---------------------------------------------------------------------------------------------------
// Scenarios shared by the scripts
// ---------------------------------------------------------------------------------------------------

/**
 * Small objects through ali-oss: `count` PUTs of `size` random bytes, `concurrency` at a time, then GETs
 * of them (each checked by length), against Medley and the bare server alternately for `rounds` rounds
 * (after one warm-up round each). Returns medians (ops/s) and the median of the per-round ratios.
 */
export async function smallObjectsPhase({ medley, bare, others = [], bucket, count, size, concurrency, rounds, log }) {
  const { randomBytes } = await import('node:crypto');
  const targets = [
    { name: 'medley', ...medley },
    { name: 'bare', ...bare },
    ...others,
  ].map((t) => ({ ...t, client: aliClient(t.url, bucket, concurrency) }));
  for (const t of targets) if (t.name !== 'bare') await t.client.putBucket(bucket);
  const body = randomBytes(size);
  // ops/s, and the server's CPU time per operation (ms; less sensitive to a busy machine than ops/s).
  const run = async ({ client, pid }, tag) => {
    const c0 = cpuSeconds(pid);
    const t0 = performance.now();
    await pool(count, concurrency, (i) => client.put(`${tag}/o-${i}`, body));
    const t1 = performance.now();
    const c1 = cpuSeconds(pid);
    await pool(count, concurrency, async (i) => {
      const r = await client.get(`${tag}/o-${i}`);
      if (r.content.length !== size) throw new Error(`GET ${tag}/o-${i}: ${r.content.length} bytes, expected ${size}`);
    });
    const t2 = performance.now();
    const c2 = cpuSeconds(pid);
    return { put: count / ((t1 - t0) / 1000), get: count / ((t2 - t1) / 1000), putCpuMs: ((c1 - c0) * 1000) / count, getCpuMs: ((c2 - c1) * 1000) / count };
  };
  for (const t of targets) await run(t, 'warm');
  const line = (name, x, b) =>
    `${name} PUT ${fmt(x.put, 0)} ops/s (${fmt(x.put / b.put, 2)}x bare), GET ${fmt(x.get, 0)} ops/s (${fmt(x.get / b.get, 2)}x bare), server CPU ms/op PUT ${fmt(x.putCpuMs, 2)}, GET ${fmt(x.getCpuMs, 2)}`;
  const out = await alternate(targets, rounds, (t, r) => run(t, `r${r}`), (r, rs) => {
    log(`  round ${r + 1}: ${line('bare', rs[1], rs[1]).replace(/ \(1\.00x bare\)/g, '')}`);
    rs.forEach((x, i) => i !== 1 && log(`           ${line(targets[i].name, x, rs[1])}`));
  });
  for (const t of targets) t.client.agentToDestroy.destroy();
  const summary = targets.map((t, i) => ({ name: t.name, ...out.medians[i], ...(i === 1 ? {} : { putRatio: out.ratios[i].put, getRatio: out.ratios[i].get }) }));
  log(`  medians over ${rounds} rounds (ratios = median of the per-round ratios to the bare server):`);
  for (const x of summary) {
    log(`    ${x.name.padEnd(14)} PUT ${fmt(x.put, 0).padStart(5)} ops/s${x.putRatio === undefined ? '        ' : ` = ${fmt(x.putRatio, 2)}x`}  GET ${fmt(x.get, 0).padStart(5)} ops/s${x.getRatio === undefined ? '        ' : ` = ${fmt(x.getRatio, 2)}x`}  server CPU/op PUT ${fmt(x.putCpuMs, 2)} ms, GET ${fmt(x.getCpuMs, 2)} ms`);
  }
  log(`    targets: PUT >= 0.7x bare, GET >= 0.8x bare`);
  return summary;
}

/**
 * A signed (OSS V1 header signature), path-style, keep-alive client of node:http for big transfers: PUT
 * streams a file (1 MiB reads), GET counts the bytes into /dev/null (synchronous writes: a WriteStream
 * would pause the socket on every chunk). `md5: true` hashes the downloaded bytes.
 */
export function streamClient(base, bucket, sockets) {
  const { createHash, createHmac } = require('node:crypto');
  const { createReadStream, openSync, writeSync } = require('node:fs');
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const devNull = openSync('/dev/null', 'w');
  function request(method, key, { file, length, md5 = false } = {}) {
    const resource = key === undefined ? `/${bucket}/` : `/${bucket}/${key}`;
    const path = key === undefined ? resource : `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const headers = { Date: new Date().toUTCString() };
    if (file !== undefined) headers['Content-Length'] = length;
    else if (method === 'PUT') headers['Content-Length'] = 0;
    headers.Authorization = `OSS ${ACCESS_KEY_ID}:${createHmac('sha1', ACCESS_KEY_SECRET).update(`${method}\n\n\n${headers.Date}\n${resource}`).digest('base64')}`;
    return new Promise((ok, fail) => {
      const req = http.request({ host: base.hostname, port: base.port, method, path, headers, agent });
      req.on('error', fail);
      req.on('response', (res) => {
        const result = { status: res.statusCode, headers: res.headers, bytes: 0, md5: undefined };
        const hash = md5 ? createHash('md5') : undefined;
        res.on('data', (c) => {
          result.bytes += c.length;
          hash?.update(c);
          if (res.statusCode < 300) writeSync(devNull, c);
        });
        res.on('end', () => {
          if (res.statusCode >= 300) return fail(new Error(`${method} ${path}: HTTP ${res.statusCode}`));
          if (hash) result.md5 = hash.digest('hex');
          ok(result);
        });
        res.on('error', fail);
      });
      if (file === undefined) req.end();
      else {
        const rs = createReadStream(file, { highWaterMark: MiB });
        rs.on('error', (e) => req.destroy(e));
        rs.pipe(req);
      }
    });
  }
  return { request, destroy: () => agent.destroy() };
}
