/** /proc meters shared by the benchmark scripts (Linux). */
import { readFileSync } from 'node:fs';

/** CPU seconds used by a process and its reaped children (FFmpeg, ffprobe): utime+stime+cutime+cstime. */
export function processCpuSec(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // After "pid (comm) ": state is field 0, utime 11, stime 12, cutime 13, cstime 14.
  const ticks = [11, 12, 13, 14].reduce((a, i) => a + Number(fields[i]), 0);
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** The machine's idle and total jiffies (first line of /proc/stat). */
export function cpuTimes() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + (line[4] ?? 0);
  const total = line.reduce((a, b) => a + b, 0);
  return { idle, total };
}

const RSS_SAMPLER = `
const { workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const s = new Int32Array(workerData.sab);
function tick() {
  let m;
  try { m = /VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/' + workerData.pid + '/status', 'utf8')); } catch { return; }
  if (!m) return;
  const kb = Number(m[1]);
  for (;;) {
    const cur = Atomics.load(s, 0);
    if (cur >= kb || Atomics.compareExchange(s, 0, cur, kb) === cur) break;
  }
  Atomics.add(s, 1, 1);
}
setInterval(tick, workerData.intervalMs);
`;

/** A `kB` field of /proc/<pid>/status (VmRSS, VmHWM, …); 0 once the process is gone. */
export function readStatusKb(pid, field) {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident set size of a process now (bytes), from /proc/<pid>/status VmRSS. */
export const rssBytes = (pid) => readStatusKb(pid, 'VmRSS') * 1024;
/** The same in MB (10^6 bytes). */
export const rssMB = (pid) => rssBytes(pid) / 1e6;

/** User + system CPU seconds of a process so far (all its threads; not its children). USER_HZ = 100. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * Peak RSS of `pid` over a phase, sampled every `intervalMs` in a worker thread (a busy main thread must
 * not skip samples). begin() starts a phase from the current RSS; end() returns { baseline, peak, samples }
 * in bytes.
 */
export async function rssPeakSampler(pid, intervalMs = 20) {
  const { Worker } = await import('node:worker_threads');
  const sab = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  const slots = new Int32Array(sab);
  const worker = new Worker(RSS_SAMPLER, { eval: true, workerData: { sab, pid, intervalMs } });
  worker.unref();
  let baseline = 0;
  return {
    begin() {
      baseline = rssBytes(pid);
      Atomics.store(slots, 0, Math.round(baseline / 1024));
      Atomics.store(slots, 1, 0);
    },
    end() {
      const peak = Math.max(Atomics.load(slots, 0) * 1024, rssBytes(pid));
      return { baseline, peak, samples: Atomics.load(slots, 1) };
    },
    stop: () => worker.terminate(),
  };
}

/** CPU seconds of this process's reaped children and their reaped descendants (cutime+cstime of /proc/self/stat). */
export function reapedChildrenCpuSec() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/**
 * Where a process's resident memory is, in MB, from /proc/<pid>/smaps: `binary` (the node executable's
 * pages), `mallocHeap` (glibc's main heap, `[heap]`: native allocations such as HTTP body pieces), `anon`
 * (other anonymous mappings: V8's heap, thread stacks and arenas), `files` (other mapped files).
 */
export function rssBreakdownMB(pid) {
  const out = { binary: 0, mallocHeap: 0, anon: 0, files: 0 };
  let text;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return out;
  }
  let group = 'anon';
  for (const line of text.split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const name = m[1];
      group = name === '[heap]' ? 'mallocHeap' : name === process.execPath || /\/node$/.test(name) ? 'binary' : name.startsWith('/') ? 'files' : 'anon';
      continue;
    }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r) out[group] += (Number(r[1]) * 1024) / 1e6;
  }
  return out;
}
