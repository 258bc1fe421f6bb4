/**
 * Cleaning the work root after crashes. Each task attempt works in `<workRoot>/<taskId>.<attempt>` and
 * records its FFmpeg pid there; a process killed with -9 leaves that directory behind and its FFmpeg
 * child running (children outlive their parent). On worker start and hourly, directories that no live
 * attempt owns are removed, after killing the FFmpeg they name — checked through /proc to be an FFmpeg
 * working in that very directory, so a reused pid is never touched.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { TaskQueue } from './queue.js';

export const FFMPEG_PID_FILE = 'ffmpeg.pid';
const ATTEMPT_DIR = /^(MediaConvert-[0-9a-f-]{36})\.(\d+)$/;
/** Other temp directories (synchronous info requests) are removed once this old. */
const STALE_TEMP_MS = 60 * 60 * 1000;

async function killOrphan(dir: string, log: Logger): Promise<void> {
  const pid = Number((await readFile(join(dir, FFMPEG_PID_FILE), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 1) return;
  // /proc/<pid>/cmdline is NUL-separated argv; FFmpeg's output paths are inside its work directory.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes(dir)) return;
  try {
    process.kill(pid, 'SIGKILL');
    log.info({ pid, dir }, 'killed an FFmpeg left running by a crashed worker');
  } catch {
    // Already gone.
  }
}

/** `isLive(taskId, attempt)`: true while some live worker runs that attempt. Returns how many were removed. */
export async function reapWorkDirs(workRoot: string, isLive: (taskId: string, attempt: number) => Promise<boolean>, log: Logger, now = Date.now()): Promise<number> {
  const names = await readdir(workRoot).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const dir = join(workRoot, name);
    const m = ATTEMPT_DIR.exec(name);
    if (m) {
      if (await isLive(m[1]!, Number(m[2]))) continue;
      await killOrphan(dir, log);
    } else {
      const st = await stat(dir).catch(() => undefined);
      if (!st || now - st.mtimeMs < STALE_TEMP_MS) continue;
    }
    await rm(dir, { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** The live-attempt test over the queue: running, leased, unexpired, and that very attempt. */
export function liveAttempt(queue: TaskQueue, isDeadOwner: (owner: string) => boolean, now: () => number = Date.now) {
  return async (taskId: string, attempt: number): Promise<boolean> => {
    const t = await queue.get(taskId);
    if (!t || t.state !== 'running' || !t.leaseOwner || !t.leaseExpiresAt) return false;
    return t.attempts === attempt && t.leaseExpiresAt.getTime() > now() && !isDeadOwner(t.leaseOwner);
  };
}
