#!/usr/bin/env node
// Storage benchmark: the real `medley serve` against the limit of the disk it writes to.
//
//   npm run bench:storage          (= npm run build && node --expose-gc bench/storage.mjs)
//
// Starts the built server as a child process on a temporary data dir under ./.bench-tmp/ (git-ignored),
// signs its own requests (OSS V1 header signatures, path-style URLs, keep-alive), and measures:
//   a. BENCH_SMALL_COUNT (500) objects of 1 MiB: PUT, then GET, BENCH_CONCURRENCY (8) requests at a time;
//   b. one BENCH_BIG_MB (1024) MiB object: PUT streamed from a file, GET streamed to /dev/null, checked
//      by byte count, ETag (= MD5 of the file) and, untimed, the MD5 of the downloaded bytes;
//   c. BENCH_CONCURRENCY such objects at once: PUT of all keys concurrently, then GET of all concurrently
//      (skip with BENCH_SKIP_CONCURRENT=1);
//   d. the baseline: a plain copy of the same bytes on the same disk (stream copy and fs.copyFile), a read
//      of the file to /dev/null (the most a GET can do), and for context the copy followed by fsync (the
//      server fsyncs every object before acknowledging it) and the copy that also computes MD5 + CRC-64
//      (the server's own per-byte work, without HTTP);
//   e. a reference: the same PUT/GET transfers against a bare node:http server (no auth, no index, no
//      hashing) started by this script, to tell Medley's own cost from node:http's on this machine
//      (skip with BENCH_SKIP_REFERENCE=1).
// The server's RSS is sampled from /proc/<pid>/status every 50 ms (VmRSS, max kept per phase; VmHWM is
// the whole-run peak and cannot be reset), its CPU time from /proc/<pid>/stat. Objects are deleted after
// each phase. The targets: 1 GiB PUT and GET >= 70% of the plain stream copy's MB/s; peak server RSS
// <= 150 MB with 8 concurrent 1 GiB transfers.
//
// Disk space: the source file plus the largest phase. With the defaults that is 1 GiB (source)
// + 8 GiB (phase c or e: 8 objects of 1 GiB) ≈ 9 GiB, plus the SQLite index; phase d needs 2 GiB.
// Leave ~10 GiB free on the disk holding ./.bench-tmp (checked before starting).
//
// Page caches are not dropped (that needs root): the source file is usually in the page cache, so the
// numbers are "disk writes + cached reads". `sync` runs before each timed phase so that one phase's
// dirty pages are not written back during the next. MB = 1,000,000 bytes throughout.
//
// Environment: BENCH_SMALL_COUNT, BENCH_BIG_MB, BENCH_CONCURRENCY, BENCH_SKIP_CONCURRENT=1,
// BENCH_SKIP_REFERENCE=1, BENCH_BASELINE_RUNS (3; the fastest run counts), BENCH_VERIFY=0 (skip the untimed MD5 check of a downloaded big object),
// BENCH_SERVER_NODE_ARGS (extra node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
// The last line of output is the result as JSON.

import http from 'node:http';
import os from 'node:os';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, rm, statfs, unlink } from 'node:fs/promises';
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

const MiB = 1024 * 1024;
const MB = 1e6;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function intEnv(name, def, min) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}; got "${raw}"`);
  return n;
}

const SMALL_COUNT = intEnv('BENCH_SMALL_COUNT', 500, 1);
const BIG_MB = intEnv('BENCH_BIG_MB', 1024, 1);
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 8, 1);
const SKIP_CONCURRENT = process.env.BENCH_SKIP_CONCURRENT === '1';
const VERIFY = process.env.BENCH_VERIFY !== '0';
const SKIP_REFERENCE = process.env.BENCH_SKIP_REFERENCE === '1';
const BASELINE_RUNS = intEnv('BENCH_BASELINE_RUNS', 3, 1);
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const SMALL_SIZE = MiB;
const BIG_SIZE = BIG_MB * MiB;
const BLOCK_SIZE = 16 * MiB;

const ACCESS_KEY_ID = 'LTAI5tBenchKey0001';
const ACCESS_KEY_SECRET = 'BenchSecret00000000000000000001';
const BUCKET = 'bench-storage';
const SAMPLE_MS = 50;
/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100;

// Targets.
const TARGET_RATIO = 0.7;
const TARGET_RSS_MB = 150;

const gc = typeof globalThis.gc === 'function' ? globalThis.gc : () => {};
const log = (line) => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------------
// Cleanup: the server is killed and the temp dir removed on success, error, SIGINT and SIGTERM.
// ---------------------------------------------------------------------------------------------------

const state = { children: [], agents: [], runDir: undefined, samplers: [], cleanup: undefined, interrupted: false };

const running = (child) => child.exitCode === null && child.signalCode === null;
const stopping = new WeakSet();

/** SIGTERM (the server finishes in-flight requests), SIGKILL if it has not exited after 15 s. */
async function stopChild(child) {
  if (!running(child)) return;
  stopping.add(child);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Stops the clients, samplers and servers, then removes the temp dir. Every caller awaits the same run. */
function cleanup() {
  state.cleanup ??= (async () => {
    for (const agent of state.agents) agent.destroy();
    await Promise.all(state.samplers.map((s) => s.stop()));
    await Promise.all(state.children.map(stopChild));
    if (state.runDir) await rm(state.runDir, { recursive: true, force: true });
  })();
  return state.cleanup;
}

// Last resort if the process exits before cleanup finished: synchronous kill and removal.
process.on('exit', () => {
  for (const child of state.children) {
    try {
      if (running(child)) child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  if (state.runDir) rmSync(state.runDir, { recursive: true, force: true });
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    state.interrupted = true;
    process.stderr.write(`\n${sig}: stopping the server and removing ${state.runDir ?? 'the temp dir'}\n`);
    cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------------
// RSS sampling in a worker thread, so a busy main thread does not skip samples.
// Shared slots (kB): 0 = max VmRSS since the phase began, 1 = last VmRSS, 2 = sample count, 3 = VmHWM.
// ---------------------------------------------------------------------------------------------------

const SAMPLER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const s = new Int32Array(workerData.sab);
const path = '/proc/' + workerData.pid + '/status';
function tick() {
  let text;
  try { text = readFileSync(path, 'utf8'); } catch { return; }
  const rss = /VmRSS:\\s+(\\d+)/.exec(text);
  const hwm = /VmHWM:\\s+(\\d+)/.exec(text);
  if (rss) {
    const kb = Number(rss[1]);
    Atomics.store(s, 1, kb);
    for (;;) {
      const cur = Atomics.load(s, 0);
      if (cur >= kb || Atomics.compareExchange(s, 0, cur, kb) === cur) break;
    }
    Atomics.add(s, 2, 1);
  }
  if (hwm) Atomics.store(s, 3, Number(hwm[1]));
}
tick();
setInterval(tick, workerData.intervalMs);
`;

function readStatusKb(pid, field) {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** User + system CPU seconds of a process so far (all its threads), from /proc/<pid>/stat. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** CPU seconds all CPUs spent busy so far (everything but idle and iowait), from /proc/stat. */
function machineBusySeconds() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of every user-space process except `exclude`, including their reaped children (so a test
 * run that comes and goes still shows); kernel threads are left out.
 */
function otherProcessesCpuSeconds(exclude) {
  let ticks = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || exclude.has(Number(name))) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (name === '2' || f[1] === '2') continue; // kthreadd and its children
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / CLOCK_TICKS;
}

/**
 * Starts measuring CPU: the returned function gives the seconds used since by the measured server, this
 * script, other processes (disturbance) and the kernel's own threads (writeback, journal: part of the work).
 */
function startCpuMeter(serverPid) {
  const exclude = new Set([process.pid, ...state.children.map((c) => c.pid)]);
  const server0 = serverPid ? cpuSeconds(serverPid) : 0;
  const bench0 = process.cpuUsage();
  const machine0 = machineBusySeconds();
  const others0 = otherProcessesCpuSeconds(exclude);
  return () => {
    const server = serverPid ? cpuSeconds(serverPid) - server0 : 0;
    const b = process.cpuUsage(bench0);
    const bench = (b.user + b.system) / 1e6;
    const others = Math.max(0, otherProcessesCpuSeconds(exclude) - others0);
    const kernel = Math.max(0, machineBusySeconds() - machine0 - server - bench - others);
    return { server, bench, others, kernel };
  };
}

function startSampler(pid) {
  const sab = new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT);
  const slots = new Int32Array(sab);
  const worker = new Worker(SAMPLER_SOURCE, { eval: true, workerData: { sab, pid, intervalMs: SAMPLE_MS } });
  worker.unref();
  return {
    /** Starts a phase: the phase maximum restarts from the current RSS. */
    begin() {
      const now = readStatusKb(pid, 'VmRSS');
      Atomics.store(slots, 0, now);
      Atomics.store(slots, 2, 0);
    },
    /** Ends a phase: peak RSS in MB and how many samples were taken. */
    end() {
      const now = readStatusKb(pid, 'VmRSS');
      const peakKb = Math.max(Atomics.load(slots, 0), now);
      return { peakRssMB: (peakKb * 1024) / MB, samples: Atomics.load(slots, 2) };
    },
    hwmMB: () => (Math.max(Atomics.load(slots, 3), readStatusKb(pid, 'VmHWM')) * 1024) / MB,
    rssMB: () => (readStatusKb(pid, 'VmRSS') * 1024) / MB,
    stop: () => worker.terminate(),
  };
}

// ---------------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------------

function startServer(dataDir) {
  const main = join(ROOT, 'dist', 'cli', 'main.js');
  return startChild('server', [...SERVER_NODE_ARGS, main, 'serve', '--port', '0', '--mns-port', '0', '--data-dir', dataDir], {
    MEDLEY_ACCESS_KEY_ID: ACCESS_KEY_ID,
    MEDLEY_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    MEDLEY_LOG_LEVEL: 'warn',
  });
}

/**
 * The reference point for "what node:http itself costs here": a bare server, no auth, no index, no
 * hashing; PUT streams the body to a file and fsyncs it, GET streams the file back (1 MiB reads, as Medley).
 */
const BARE_SERVER_SOURCE = `
const http = require('node:http');
const fs = require('node:fs');
const { pipeline } = require('node:stream');
const dir = process.argv[1];
const server = http.createServer((req, res) => {
  const file = require('node:path').join(dir, 'bare-' + req.url.replace(/[^A-Za-z0-9]/g, '_'));
  const fail = () => { if (!res.headersSent) res.writeHead(500, { 'Content-Length': 0 }); res.end(); };
  if (req.method === 'PUT') {
    pipeline(req, fs.createWriteStream(file, { highWaterMark: 1 << 20 }), (err) => {
      if (err) return fail();
      fs.open(file, 'r', (e, fd) => {
        if (e) return fail();
        fs.fsync(fd, () => fs.close(fd, () => { res.writeHead(200, { 'Content-Length': 0 }); res.end(); }));
      });
    });
  } else if (req.method === 'GET') {
    fs.stat(file, (e, st) => {
      if (e) return fail();
      res.writeHead(200, { 'Content-Length': st.size });
      pipeline(fs.createReadStream(file, { highWaterMark: 1 << 20 }), res, () => {});
    });
  } else {
    fs.rm(file, { force: true }, () => { res.writeHead(204); res.end(); });
  }
});
server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port));
`;

function startBareServer(dir) {
  return startChild('bare server', ['-e', BARE_SERVER_SOURCE, dir], {});
}

/** Spawns a node process and resolves with the URL from its `listening on http://...` line. */
async function startChild(name, args, env) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  state.children.push(child);
  child.stderr.on('data', (d) => process.stderr.write(`[${name}] ${d}`));
  const url = await new Promise((resolveUrl, reject) => {
    let out = '';
    let found = false;
    const timer = setTimeout(() => reject(new Error(`${name} did not print "listening on" within 30 s; stdout so far:\n${out}`)), 30_000);
    child.stdout.on('data', (d) => {
      if (found) return; // keep draining
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        found = true;
        clearTimeout(timer);
        resolveUrl(new URL(m[1]));
      }
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!found) reject(new Error(`${name} exited (${signal ?? code}) before listening; stdout:\n${out}`));
      else if (!stopping.has(child)) process.stderr.write(`[bench] ${name} exited unexpectedly (${signal ?? code})\n`);
    });
  });
  return { child, url };
}

// ---------------------------------------------------------------------------------------------------
// OSS client: V1 header signatures, path-style URLs, keep-alive
// ---------------------------------------------------------------------------------------------------

function createClient(base) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY + 2 });
  state.agents.push(agent);

  function sign(method, resource, headers) {
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const ossHeaders = Object.keys(lower)
      .filter((k) => k.startsWith('x-oss-'))
      .sort()
      .map((k) => `${k}:${lower[k].trim()}\n`)
      .join('');
    const stringToSign = `${method}\n${lower['content-md5'] ?? ''}\n${lower['content-type'] ?? ''}\n${lower['date'] ?? ''}\n${ossHeaders}${resource}`;
    const signature = createHmac('sha1', ACCESS_KEY_SECRET).update(stringToSign).digest('base64');
    return `OSS ${ACCESS_KEY_ID}:${signature}`;
  }

  /**
   * One signed request. `body` is a Buffer, `file` a path streamed as the body. The response body is
   * read whole (`collect`), counted and written to /dev/null (`sink`, optionally MD5-hashed), or drained.
   */
  function request(method, key, { body, file, length, sink = false, md5 = false } = {}) {
    const path = key === undefined ? `/${BUCKET}/` : `/${BUCKET}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const resource = key === undefined ? `/${BUCKET}/` : `/${BUCKET}/${key}`;
    const headers = { Date: new Date().toUTCString() };
    if (body !== undefined || file !== undefined) headers['Content-Length'] = body?.length ?? length;
    headers.Authorization = sign(method, resource, headers);
    return new Promise((resolveReq, reject) => {
      const req = http.request({ host: base.hostname, port: base.port, method, path, headers, agent });
      req.on('error', reject);
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300) {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? '';
            const msg = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200);
            reject(new Error(`${method} ${path}: HTTP ${status} ${code} ${msg}`));
          });
          res.on('error', reject);
          return;
        }
        const result = { status, headers: res.headers, bytes: 0, md5: undefined };
        const hash = md5 ? createHash('md5') : undefined;
        // The sink is a synchronous write to /dev/null (a no-op syscall). A fs.WriteStream would hand every
        // 64 KiB chunk to the thread pool and pause the socket on each one: it capped GETs at ~600 MB/s.
        res.on('data', (c) => {
          result.bytes += c.length;
          hash?.update(c);
          if (sink) writeSync(devNull(), c);
        });
        res.on('end', () => {
          if (hash) result.md5 = hash.digest('hex');
          resolveReq(result);
        });
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) reject(new Error(`${method} ${path}: connection closed after ${result.bytes} body bytes`));
        });
      });
      if (file !== undefined) {
        const rs = createReadStream(file, { highWaterMark: MiB });
        rs.on('error', (e) => req.destroy(e));
        rs.pipe(req);
      } else {
        req.end(body);
      }
    });
  }

  return { request, agent };
}

let devNullFd;
const devNull = () => (devNullFd ??= openSync('/dev/null', 'w'));

const etagOf = (headers) => String(headers.etag ?? '').replace(/"/g, '').toLowerCase();

function expectEtag(what, headers, md5hex) {
  const got = etagOf(headers);
  if (got !== md5hex) throw new Error(`${what}: ETag ${got || '(none)'} but the MD5 of the bytes sent is ${md5hex}`);
}

/** Runs `fn(item, index)` over `items`, `limit` at a time; the first failure rejects. */
async function pool(items, limit, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

/** Flushes dirty pages so the next phase does not pay for the previous one's writeback. */
function syncDisk() {
  spawnSync('sync', { stdio: 'ignore' });
}

async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1000, value };
}

/** Writes `size` bytes of pseudo-random data (a random 16 MiB block, repeated) and returns its MD5. */
async function generateFile(path, block, size) {
  const fh = await open(path, 'w');
  const hash = createHash('md5');
  try {
    for (let done = 0; done < size; ) {
      const n = Math.min(block.length, size - done);
      const chunk = n === block.length ? block : block.subarray(0, n);
      hash.update(chunk);
      let off = 0;
      while (off < n) off += (await fh.write(chunk, off, n - off)).bytesWritten;
      done += n;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

const fmt = (x, digits = 1) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(digits));
const mbps = (bytes, seconds) => bytes / MB / seconds;

function printTable(rows) {
  const cols = [
    ['phase', (r) => r.phase],
    ['MB/s', (r) => fmt(r.mbps)],
    ['ops/s', (r) => fmt(r.opsPerSec)],
    ['peak RSS MB', (r) => fmt(r.peakRssMB)],
    ['server CPU%', (r) => (r.serverCpu === undefined ? '-' : fmt((100 * r.serverCpu) / r.seconds, 0))],
    ['other procs CPU%', (r) => (r.otherCpu === undefined ? '-' : fmt((100 * r.otherCpu) / r.seconds, 0))],
    ['vs copy', (r) => r.vs ?? ''],
    ['target', (r) => r.target ?? ''],
  ];
  const cells = rows.map((r) => cols.map(([, f]) => String(f(r))));
  const widths = cols.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (vals) => vals.map((v, i) => (i === 0 || i >= 6 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ').trimEnd();
  log(line(cols.map(([h]) => h)));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) log(line(c));
}

// ---------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------

async function main() {
  const tmpRoot = join(ROOT, '.bench-tmp');
  await mkdir(tmpRoot, { recursive: true });

  // Disk space: source file + the biggest phase (phase c, or the baseline's copy), plus slack.
  const biggestPhase = Math.max(SKIP_CONCURRENT ? BIG_SIZE : CONCURRENCY * BIG_SIZE, SMALL_COUNT * SMALL_SIZE, BIG_SIZE);
  const needed = BIG_SIZE + biggestPhase + 256 * MiB;
  const fsInfo = await statfs(tmpRoot);
  const free = fsInfo.bavail * fsInfo.bsize;
  if (free < needed) {
    throw new Error(`not enough free disk under ${tmpRoot}: need ~${(needed / 2 ** 30).toFixed(1)} GiB, have ${(free / 2 ** 30).toFixed(1)} GiB (lower BENCH_BIG_MB or set BENCH_SKIP_CONCURRENT=1)`);
  }

  state.runDir = await mkdtemp(join(tmpRoot, 'run-'));
  const dataDir = join(state.runDir, 'data');
  const srcFile = join(state.runDir, 'source.bin');
  const copyFileDst = join(state.runDir, 'copy.bin');

  log(`Medley storage bench: ${SMALL_COUNT} x 1 MiB, ${BIG_MB} MiB big object, concurrency ${CONCURRENCY}${SKIP_CONCURRENT ? ', concurrent phase skipped' : ''}`);
  log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM; temp dir ${state.runDir} (${(free / 2 ** 30).toFixed(1)} GiB free)`);
  {
    // A benchmark on a busy machine measures the other work: say so up front.
    const meter = startCpuMeter();
    await new Promise((r) => setTimeout(r, 2000));
    const busy = meter().others / 2;
    log(`CPU used by other processes in the 2 s before starting: ${fmt(100 * busy, 0)}% of a core${busy > 0.1 ? ' (the machine is busy: expect disturbed numbers)' : ''}`);
  }
  log('Page caches are NOT dropped (we cannot): reads of the source file are mostly served from memory; `sync` runs before each timed phase. MB = 10^6 bytes.');

  // The data: one random 16 MiB block. Small objects are 1 MiB windows of it at distinct offsets; the
  // big file repeats it.
  const block = randomBytes(BLOCK_SIZE);
  const smallKeys = Array.from({ length: SMALL_COUNT }, (_, i) => `small/${String(i).padStart(6, '0')}`);
  const smallOffset = (i) => (i * 65_537) % (BLOCK_SIZE - SMALL_SIZE);
  const smallBody = (i) => block.subarray(smallOffset(i), smallOffset(i) + SMALL_SIZE);
  const smallMd5 = smallKeys.map((_, i) => createHash('md5').update(smallBody(i)).digest('hex'));

  const gen = await timed(() => generateFile(srcFile, block, BIG_SIZE));
  const bigMd5 = gen.value;
  log(`generated ${BIG_MB} MiB source file in ${gen.seconds.toFixed(1)} s (md5 ${bigMd5})`);

  const { child: server, url } = await startServer(dataDir);
  const serverPid = server.pid;
  const sampler = startSampler(serverPid);
  state.samplers.push(sampler);
  const medley = { pid: serverPid, sampler };
  log(`server pid ${serverPid} at ${url.origin}; idle RSS ${fmt(sampler.rssMB())} MB`);

  const client = createClient(url);
  await client.request('PUT', undefined, { body: Buffer.alloc(0) });

  const rows = [];
  const noteDisturbance = (otherCpu, seconds) => {
    if (otherCpu > 0.2 && otherCpu / seconds > 0.1) log(`  note: other processes used ${fmt((100 * otherCpu) / seconds, 0)}% of a core meanwhile: this measurement is disturbed`);
  };
  /** Runs one measured step: sync, reset the RSS max, time it, record a row. */
  async function measure(phase, { bytes, ops }, fn, target = medley) {
    const { pid, sampler } = target;
    gc();
    syncDisk();
    sampler.begin();
    const cpu = startCpuMeter(pid);
    const { seconds } = await timed(fn);
    const { peakRssMB, samples } = sampler.end();
    const { server: serverCpu, bench: benchCpu, others: otherCpu, kernel: kernelCpu } = cpu();
    const row = { phase, seconds, bytes, ops, mbps: bytes ? mbps(bytes, seconds) : undefined, opsPerSec: ops ? ops / seconds : undefined, peakRssMB, rssSamples: samples, serverCpu, benchCpu, otherCpu, kernelCpu };
    rows.push(row);
    log(
      `  ${phase}: ${seconds.toFixed(2)} s, ${fmt(row.mbps)} MB/s, ${fmt(row.opsPerSec)} ops/s, server peak RSS ${fmt(peakRssMB)} MB (${samples} samples); ` +
        `CPU s: server ${serverCpu.toFixed(1)} (${fmt((100 * serverCpu) / seconds, 0)}% of a core), bench ${benchCpu.toFixed(1)}, kernel threads ${kernelCpu.toFixed(1)}, other processes ${otherCpu.toFixed(1)}`,
    );
    noteDisturbance(otherCpu, seconds);
    return row;
  }

  // a. Many 1 MiB objects.
  log(`\na. ${SMALL_COUNT} objects of 1 MiB, ${CONCURRENCY} concurrent requests`);
  await measure('1 MiB PUT', { bytes: SMALL_COUNT * SMALL_SIZE, ops: SMALL_COUNT }, () =>
    pool(smallKeys, CONCURRENCY, async (key, i) => {
      const r = await client.request('PUT', key, { body: smallBody(i) });
      expectEtag(`PUT ${key}`, r.headers, smallMd5[i]);
    }),
  );
  await measure('1 MiB GET', { bytes: SMALL_COUNT * SMALL_SIZE, ops: SMALL_COUNT }, () =>
    pool(smallKeys, CONCURRENCY, async (key, i) => {
      const r = await client.request('GET', key);
      if (r.bytes !== SMALL_SIZE) throw new Error(`GET ${key}: ${r.bytes} bytes, expected ${SMALL_SIZE}`);
      expectEtag(`GET ${key}`, r.headers, smallMd5[i]);
    }),
  );
  await measure('1 MiB DELETE', { ops: SMALL_COUNT }, () => pool(smallKeys, CONCURRENCY, (key) => client.request('DELETE', key)));

  // b. One big object.
  log(`\nb. one ${BIG_MB} MiB object`);
  const putBig = await measure(`${BIG_MB} MiB PUT`, { bytes: BIG_SIZE, ops: 1 }, async () => {
    const r = await client.request('PUT', 'big/single', { file: srcFile, length: BIG_SIZE });
    expectEtag('PUT big/single', r.headers, bigMd5);
  });
  const getBig = await measure(`${BIG_MB} MiB GET`, { bytes: BIG_SIZE, ops: 1 }, async () => {
    const r = await client.request('GET', 'big/single', { sink: true });
    if (r.bytes !== BIG_SIZE) throw new Error(`GET big/single: ${r.bytes} bytes, expected ${BIG_SIZE}`);
    expectEtag('GET big/single', r.headers, bigMd5);
  });
  if (VERIFY) {
    const r = await client.request('GET', 'big/single', { sink: true, md5: true });
    if (r.md5 !== bigMd5) throw new Error(`GET big/single returned different bytes: md5 ${r.md5}, expected ${bigMd5}`);
    log('  (untimed) downloaded bytes verified by MD5');
  }
  await client.request('DELETE', 'big/single');

  // c. Concurrent big objects.
  let putConc;
  let getConc;
  if (!SKIP_CONCURRENT) {
    log(`\nc. ${CONCURRENCY} concurrent ${BIG_MB} MiB transfers`);
    const keys = Array.from({ length: CONCURRENCY }, (_, i) => `big/concurrent-${i}`);
    putConc = await measure(`${CONCURRENCY}x${BIG_MB} MiB PUT`, { bytes: CONCURRENCY * BIG_SIZE, ops: CONCURRENCY }, () =>
      Promise.all(
        keys.map(async (key) => {
          const r = await client.request('PUT', key, { file: srcFile, length: BIG_SIZE });
          expectEtag(`PUT ${key}`, r.headers, bigMd5);
        }),
      ),
    );
    getConc = await measure(`${CONCURRENCY}x${BIG_MB} MiB GET`, { bytes: CONCURRENCY * BIG_SIZE, ops: CONCURRENCY }, () =>
      Promise.all(
        keys.map(async (key) => {
          const r = await client.request('GET', key, { sink: true });
          if (r.bytes !== BIG_SIZE) throw new Error(`GET ${key}: ${r.bytes} bytes, expected ${BIG_SIZE}`);
          expectEtag(`GET ${key}`, r.headers, bigMd5);
        }),
      ),
    );
    await pool(keys, CONCURRENCY, (key) => client.request('DELETE', key));
  } else {
    log('\nc. skipped (BENCH_SKIP_CONCURRENT=1)');
  }
  await client.request('DELETE', undefined);

  // d. Baseline on the same disk, same bytes.
  log(`\nd. baseline: plain copies of the ${BIG_MB} MiB file in ${state.runDir}`);
  // Each baseline runs BENCH_BASELINE_RUNS times and the fastest run counts: it is the limit.
  const baseline = async (phase, fn) => {
    let best;
    const all = [];
    for (let run = 0; run < BASELINE_RUNS; run++) {
      gc();
      syncDisk();
      const cpu = startCpuMeter();
      const { seconds } = await timed(fn);
      const { bench: benchCpu, others: otherCpu, kernel: kernelCpu } = cpu();
      await unlink(copyFileDst).catch(() => {});
      all.push(seconds);
      if (!best || seconds < best.seconds) best = { phase, seconds, bytes: BIG_SIZE, ops: 1, mbps: mbps(BIG_SIZE, seconds), opsPerSec: 1 / seconds, benchCpu, otherCpu, kernelCpu, baseline: true };
    }
    rows.push(best);
    const runs = all.length > 1 ? ` (best of ${all.map((x) => fmt(mbps(BIG_SIZE, x))).join(', ')} MB/s)` : '';
    log(`  ${phase}: ${best.seconds.toFixed(2)} s, ${fmt(best.mbps)} MB/s${runs}; CPU s: bench ${best.benchCpu.toFixed(1)}, kernel threads ${best.kernelCpu.toFixed(1)}, other processes ${best.otherCpu.toFixed(1)}`);
    noteDisturbance(best.otherCpu, best.seconds);
    return best;
  };
  const streamTo = (dst, ...transforms) => pipeline(createReadStream(srcFile, { highWaterMark: MiB }), ...transforms, createWriteStream(dst, { highWaterMark: MiB }));
  const fsyncFile = async (path) => {
    const fh = await open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  };
  const streamCopy = await baseline('baseline: stream copy', () => streamTo(copyFileDst));
  const copyFileRow = await baseline('baseline: fs.copyFile', () => copyFile(srcFile, copyFileDst));
  const readNull = await baseline('baseline: read to /dev/null', () => pipeline(createReadStream(srcFile, { highWaterMark: MiB }), createWriteStream('/dev/null')));
  const streamCopySync = await baseline('baseline: stream copy + fsync', async () => {
    await streamTo(copyFileDst);
    await fsyncFile(copyFileDst);
  });
  // The least work a PUT must do, without HTTP: the server hashes every byte for the ETag (MD5) and
  // x-oss-hash-crc64ecma (CRC-64, with the server's own implementation) and fsyncs the blob.
  let hashedCopy;
  const crcModule = await import('../dist/storage/crc64.js').catch(() => undefined);
  if (crcModule?.Crc64) {
    hashedCopy = await baseline('baseline: copy + MD5 + CRC-64 + fsync', async () => {
      const md5 = createHash('md5');
      const crc = new crcModule.Crc64();
      await streamTo(copyFileDst, async function* (source) {
        for await (const chunk of source) {
          md5.update(chunk);
          crc.update(chunk);
          yield chunk;
        }
      });
      await fsyncFile(copyFileDst);
      if (md5.digest('hex') !== bigMd5) throw new Error('hashed copy: MD5 mismatch');
    });
  } else {
    log('  (copy + MD5 + CRC-64 skipped: dist/storage/crc64.js not found; run npm run build)');
  }

  // e. Reference: what node:http costs on this machine, measured with a bare server (no auth, no index,
  // no hashing; PUT writes + fsyncs, GET streams the file with 1 MiB reads).
  const ref = {};
  if (!SKIP_REFERENCE) {
    const bareDir = join(state.runDir, 'bare');
    await mkdir(bareDir);
    const { child: bare, url: bareUrl } = await startBareServer(bareDir);
    const bareSampler = startSampler(bare.pid);
    state.samplers.push(bareSampler);
    const bareTarget = { pid: bare.pid, sampler: bareSampler };
    const bareClient = createClient(bareUrl);
    log(`\ne. reference: bare node:http server (pid ${bare.pid}, idle RSS ${fmt(bareSampler.rssMB())} MB), same client`);
    ref.put = await measure(`ref: bare http ${BIG_MB} MiB PUT`, { bytes: BIG_SIZE, ops: 1 }, () => bareClient.request('PUT', 'ref/single', { file: srcFile, length: BIG_SIZE }), bareTarget);
    ref.get = await measure(`ref: bare http ${BIG_MB} MiB GET`, { bytes: BIG_SIZE, ops: 1 }, async () => {
      const r = await bareClient.request('GET', 'ref/single', { sink: true });
      if (r.bytes !== BIG_SIZE) throw new Error(`bare GET: ${r.bytes} bytes, expected ${BIG_SIZE}`);
    }, bareTarget);
    await bareClient.request('DELETE', 'ref/single');
    if (!SKIP_CONCURRENT) {
      const keys = Array.from({ length: CONCURRENCY }, (_, i) => `ref/concurrent-${i}`);
      ref.putConc = await measure(`ref: bare http ${CONCURRENCY}x${BIG_MB} MiB PUT`, { bytes: CONCURRENCY * BIG_SIZE, ops: CONCURRENCY }, () =>
        Promise.all(keys.map((key) => bareClient.request('PUT', key, { file: srcFile, length: BIG_SIZE }))), bareTarget);
      ref.getConc = await measure(`ref: bare http ${CONCURRENCY}x${BIG_MB} MiB GET`, { bytes: CONCURRENCY * BIG_SIZE, ops: CONCURRENCY }, () =>
        Promise.all(keys.map(async (key) => {
          const r = await bareClient.request('GET', key, { sink: true });
          if (r.bytes !== BIG_SIZE) throw new Error(`bare GET ${key}: ${r.bytes} bytes, expected ${BIG_SIZE}`);
        })), bareTarget);
      await Promise.all(keys.map((key) => bareClient.request('DELETE', key)));
    }
    await stopChild(bare);
  }

  // Verdicts: the targets compare with the plain stream copy; the other ratios say where the limit is.
  const ratio = (a, b) => (a && b ? a.mbps / b.mbps : undefined);
  const putRatio = ratio(putBig, streamCopy);
  const getRatio = ratio(getBig, streamCopy);
  const verdict = (ok) => (ok ? 'PASS' : 'MISS');
  putBig.vs = `${putRatio.toFixed(2)} of copy`;
  putBig.target = `>= ${TARGET_RATIO} of copy: ${verdict(putRatio >= TARGET_RATIO)}`;
  getBig.vs = `${getRatio.toFixed(2)} of copy`;
  getBig.target = `>= ${TARGET_RATIO} of copy: ${verdict(getRatio >= TARGET_RATIO)}`;
  const concPeak = putConc && getConc ? Math.max(putConc.peakRssMB, getConc.peakRssMB) : undefined;
  if (putConc && getConc) {
    putConc.vs = `${ratio(putConc, streamCopy).toFixed(2)} of copy`;
    getConc.vs = `${ratio(getConc, streamCopy).toFixed(2)} of copy`;
    for (const r of [putConc, getConc]) r.target = `RSS <= ${TARGET_RSS_MB} MB: ${verdict(r.peakRssMB <= TARGET_RSS_MB)}`;
  }
  const hwm = sampler.hwmMB();

  log(`\nResults (server peak RSS per phase from VmRSS polled every ${SAMPLE_MS} ms; whole-run VmHWM ${fmt(hwm)} MB)`);
  log(`${os.cpus().length} CPUs shared by the server and this client; server CPU% = server CPU time / wall time (100 = one core).`);
  log('other procs CPU% = CPU used meanwhile by other processes on this machine (kernel threads not included): high = disturbed.');
  log(`"copy" = stream copy of the same file on the same disk, no fsync (the baseline the targets name); baselines are the best of ${BASELINE_RUNS} runs.`);
  printTable(rows);

  const context = {
    putVsCopyFsync: ratio(putBig, streamCopySync),
    putVsHashedCopy: ratio(putBig, hashedCopy),
    putVsBareHttp: ratio(putBig, ref.put),
    getVsRead: ratio(getBig, readNull),
    getVsBareHttp: ratio(getBig, ref.get),
    concPutVsBareHttp: ratio(putConc, ref.putConc),
    concGetVsBareHttp: ratio(getConc, ref.getConc),
    bareConcPeakRssMB: ref.putConc && ref.getConc ? Math.max(ref.putConc.peakRssMB, ref.getConc.peakRssMB) : undefined,
  };
  const r2 = (x) => (x === undefined ? 'n/a' : x.toFixed(2));
  log(`\nWhere the limit is (ratios of MB/s):`);
  log(`  ${BIG_MB} MiB PUT: ${r2(putRatio)} of copy, ${r2(context.putVsCopyFsync)} of copy + fsync, ${r2(context.putVsHashedCopy)} of copy + MD5 + CRC-64 + fsync (the same work without HTTP), ${r2(context.putVsBareHttp)} of a bare node:http PUT`);
  log(`  ${BIG_MB} MiB GET: ${r2(getRatio)} of copy, ${r2(context.getVsRead)} of a read to /dev/null, ${r2(context.getVsBareHttp)} of a bare node:http GET`);
  if (putConc && getConc) {
    log(`  ${CONCURRENCY}x${BIG_MB} MiB: PUT ${r2(context.concPutVsBareHttp)} and GET ${r2(context.concGetVsBareHttp)} of the bare node:http server; peak RSS ${fmt(concPeak)} MB (bare node:http server: ${fmt(context.bareConcPeakRssMB)} MB)`);
  }
  log(`  fs.copyFile: ${fmt(copyFileRow.mbps)} MB/s (kernel-side copy)`);
  const targets = {
    bigPutVsCopy: { ratio: +putRatio.toFixed(3), min: TARGET_RATIO, result: verdict(putRatio >= TARGET_RATIO) },
    bigGetVsCopy: { ratio: +getRatio.toFixed(3), min: TARGET_RATIO, result: verdict(getRatio >= TARGET_RATIO) },
    concurrentPeakRss: concPeak === undefined ? { result: 'SKIPPED' } : { peakRssMB: +concPeak.toFixed(1), max: TARGET_RSS_MB, result: verdict(concPeak <= TARGET_RSS_MB) },
  };
  log(
    `\nTargets: ${BIG_MB} MiB PUT ${targets.bigPutVsCopy.result} (${putRatio.toFixed(2)} of copy), ` +
      `${BIG_MB} MiB GET ${targets.bigGetVsCopy.result} (${getRatio.toFixed(2)} of copy), ` +
      `peak RSS with ${CONCURRENCY} concurrent transfers ${targets.concurrentPeakRss.result}${concPeak === undefined ? '' : ` (${fmt(concPeak)} MB; target <= ${TARGET_RSS_MB} MB)`}`,
  );

  const round = (x, d = 1) => (x === undefined ? null : +x.toFixed(d));
  const json = {
    bench: 'storage',
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    config: { smallCount: SMALL_COUNT, smallBytes: SMALL_SIZE, bigMiB: BIG_MB, concurrency: CONCURRENCY, skipConcurrent: SKIP_CONCURRENT, baselineRuns: BASELINE_RUNS, fsyncByServer: true, cachesDropped: false, mb: 1e6 },
    rows: rows.map((r) => ({ phase: r.phase, seconds: round(r.seconds, 3), mbps: round(r.mbps), opsPerSec: round(r.opsPerSec), peakRssMB: round(r.peakRssMB), serverCpuSeconds: round(r.serverCpu, 2), benchCpuSeconds: round(r.benchCpu, 2), kernelThreadsCpuSeconds: round(r.kernelCpu, 2), otherProcessesCpuSeconds: round(r.otherCpu, 2), vs: r.vs ?? null, target: r.target ?? null })),
    serverVmHwmMB: round(hwm),
    context: Object.fromEntries(Object.entries(context).map(([k, v]) => [k, round(v, 3)])),
    targets,
  };
  await cleanup();
  log(JSON.stringify(json));
}

main().then(
  () => process.exit(0),
  async (err) => {
    // After SIGINT/SIGTERM, requests cut off by the shutdown fail: the signal handler exits.
    if (!state.interrupted) process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    await cleanup().catch(() => {});
    process.exit(state.interrupted ? 130 : 1);
  },
);
