#!/usr/bin/env node
// Small-object benchmark: 4 KiB PUT then GET, BENCH_CONCURRENCY (8) requests at a time, against the
// real `medley serve` (built: run `npm run build` first) and against a bare node:http server doing what a
// user's own minimal durable store would do per object (MD5 for the ETag, write a temp file, fsync it,
// rename it into place, fsync the directory), in the same run, alternating A B A B, and prints the ratio.
//
//   node bench/small-objects.mjs
//
// Environment: BENCH_COUNT (objects per round, 400), BENCH_ROUNDS (3; the median counts),
// BENCH_OBJECT_SIZE (4096), BENCH_CONCURRENCY (8),
// BENCH_SERVER_NODE_ARGS (extra node flags for Medley, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
// Targets: PUT ops/s >= 0.7x the bare server's, GET >= 0.8x. The last line is the result as JSON.
import http from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const int = (name, def) => {
  const n = Number(process.env[name] ?? def);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
};
const COUNT = int('BENCH_COUNT', 400);
const ROUNDS = int('BENCH_ROUNDS', 3);
const SIZE = int('BENCH_OBJECT_SIZE', 4096);
const CONCURRENCY = int('BENCH_CONCURRENCY', 8);
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const ID = 'LTAI5tBenchKey0001';
const SECRET = 'BenchSecret00000000000000000001';
const BUCKET = 'bench-small';

const BARE = `
const http = require('node:http'), fs = require('node:fs'), path = require('node:path'), crypto = require('node:crypto');
const dir = process.argv[1];
const fsyncDir = (cb) => fs.open(dir, 'r', (e, fd) => e ? cb(e) : fs.fsync(fd, () => fs.close(fd, cb)));
http.createServer((req, res) => {
  const name = path.join(dir, 'o-' + req.url.replace(/[^A-Za-z0-9]/g, '_'));
  const fail = () => { res.writeHead(500, { 'Content-Length': 0 }); res.end(); };
  if (req.method === 'PUT') {
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
          fs.fsync(fd, () => fs.close(fd, () => fs.rename(tmp, name, (e) => e ? fail() : fsyncDir(() => {
            res.writeHead(200, { 'Content-Length': 0, ETag: '"' + etag + '"' }); res.end();
          }))));
        });
      });
    });
  } else {
    fs.readFile(name, (e, data) => { if (e) return fail(); res.writeHead(200, { 'Content-Length': data.length }); res.end(data); });
  }
}).listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port); });
`;

const children = [];
function start(name, args, env) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((res, rej) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) res({ child, url: new URL(m[1]) });
    });
    child.once('exit', (c) => rej(new Error(`${name} exited (${c}):\n${out}`)));
  });
}

function client(base, signed) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  return (method, key, body) => {
    const path = key === undefined ? `/${BUCKET}/` : `/${BUCKET}/${key}`;
    const headers = { Date: new Date().toUTCString() };
    if (body) headers['Content-Length'] = body.length;
    if (signed) headers.Authorization = `OSS ${ID}:${createHmac('sha1', SECRET).update(`${method}\n\n\n${headers.Date}\n${path}`).digest('base64')}`;
    return new Promise((ok, fail) => {
      const req = http.request({ host: base.hostname, port: base.port, method, path, headers, agent }, (res) => {
        let n = 0;
        res.on('data', (c) => (n += c.length));
        res.on('end', () => (res.statusCode < 300 ? ok(n) : fail(new Error(`${method} ${path}: HTTP ${res.statusCode}`))));
      });
      req.on('error', fail);
      req.end(body);
    });
  };
}

async function pool(n, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) await fn(next++);
  }));
}

const body = randomBytes(SIZE);
async function round(req, tag) {
  const t0 = performance.now();
  await pool(COUNT, (i) => req('PUT', `${tag}-${i}`, body));
  const t1 = performance.now();
  await pool(COUNT, async (i) => {
    if ((await req('GET', `${tag}-${i}`)) !== SIZE) throw new Error('short GET');
  });
  const t2 = performance.now();
  return { put: COUNT / ((t1 - t0) / 1000), get: COUNT / ((t2 - t1) / 1000) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'medley-bench-small-'));
  try {
    const medley = await start('medley', [...SERVER_NODE_ARGS, join(ROOT, 'dist/cli/main.js'), 'serve', '--port', '0', '--mns-port', '0', '--data-dir', join(dir, 'medley')], {
      MEDLEY_ACCESS_KEY_ID: ID,
      MEDLEY_ACCESS_KEY_SECRET: SECRET,
      MEDLEY_LOG_LEVEL: 'warn',
    });
    const bareDir = join(dir, 'bare');
    await import('node:fs/promises').then((f) => f.mkdir(bareDir));
    const bare = await start('bare', ['-e', BARE, bareDir], {});
    const m = client(medley.url, true);
    const b = client(bare.url, false);
    await m('PUT', undefined);
    await round(m, 'warm');
    await round(b, 'warm');
    const rows = [];
    for (let r = 0; r < ROUNDS; r++) {
      const mr = await round(m, `r${r}`);
      const br = await round(b, `r${r}`);
      rows.push({ mPut: mr.put, bPut: br.put, mGet: mr.get, bGet: br.get, putRatio: mr.put / br.put, getRatio: mr.get / br.get });
      console.log(`round ${r + 1}: PUT ${mr.put.toFixed(0)} vs ${br.put.toFixed(0)} ops/s (${(mr.put / br.put).toFixed(2)}x); GET ${mr.get.toFixed(0)} vs ${br.get.toFixed(0)} ops/s (${(mr.get / br.get).toFixed(2)}x)`);
    }
    const res = Object.fromEntries(Object.keys(rows[0]).map((k) => [k, Number(median(rows.map((x) => x[k])).toFixed(3))]));
    console.log(`median: ${SIZE} B PUT ${res.mPut} vs bare ${res.bPut} ops/s = ${res.putRatio}x (target 0.7); GET ${res.mGet} vs ${res.bGet} = ${res.getRatio}x (target 0.8)`);
    console.log(JSON.stringify({ size: SIZE, count: COUNT, concurrency: CONCURRENCY, ...res }));
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
});
