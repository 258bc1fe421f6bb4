/**
 * Cleaning the work root after crashes. Each task attempt works in a private directory with an
 * unguessable name (`<workRoot>/t-<32 hex>`, see media/engine/sandbox.ts) and records there which attempt
 * owns it (`owner.json`) and its FFmpeg pid; a process killed with -9 leaves that directory behind and its
 * FFmpeg child running (children outlive their parent). On worker start and hourly, directories that no
 * live attempt owns are removed, after killing the FFmpeg they name — checked through /proc to be an FFmpeg
 * working in that very directory, so a reused pid is never touched.
 */
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createPrivateDir, type EngineSandbox } from '../media/engine/sandbox.js';
import type { TaskQueue } from './queue.js';

export const FFMPEG_PID_FILE = 'ffmpeg.pid';
export const OWNER_FILE = 'owner.json';
/** Other directories (synchronous info requests, or an attempt dir before its owner file) are removed once this old. */
const STALE_TEMP_MS = 60 * 60 * 1000;

export interface WorkDirOwner {
  taskId: string;
  attempt: number;
}

/** A fresh private directory for one attempt of a task, with its owner recorded inside (not in its name). */
export async function createAttemptDir(workRoot: string, sandbox: EngineSandbox | undefined, owner: WorkDirOwner): Promise<string> {
  const dir = await createPrivateDir(workRoot, sandbox);
  // Root-owned, 0644: the engine user may read it; the reaper trusts only the fields it checks.
  await writeFile(join(dir, OWNER_FILE), JSON.stringify({ taskId: owner.taskId, attempt: owner.attempt }), { mode: 0o644 });
  return dir;
}

/** The owner recorded in `dir`, or undefined when there is none (or it is not well-formed). */
export async function readOwner(dir: string): Promise<WorkDirOwner | undefined> {
  try {
    const o = JSON.parse(await readFile(join(dir, OWNER_FILE), 'utf8')) as Partial<WorkDirOwner>;
    if (typeof o.taskId === 'string' && /^MediaConvert-[0-9a-f-]{36}$/.test(o.taskId) && Number.isInteger(o.attempt)) return { taskId: o.taskId, attempt: o.attempt! };
  } catch {
    // missing or unreadable: judged by age
  }
  return undefined;
}

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
    const owner = await readOwner(dir);
    if (owner) {
      if (await isLive(owner.taskId, owner.attempt)) continue;
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
