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

/** CPU seconds of this process's reaped children and their reaped descendants (cutime+cstime of /proc/self/stat). */
export function reapedChildrenCpuSec() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}
