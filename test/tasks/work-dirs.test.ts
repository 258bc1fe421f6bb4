/**
 * Private attempt directories and the crash reaper (src/tasks/work-dirs.ts): names carry nothing about the
 * task (the owner is recorded inside), and reaping keeps live attempts, removes dead ones after killing the
 * FFmpeg they recorded (only a process working in that very directory), and removes owner-less
 * directories only once they are stale.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FFMPEG_PID_FILE, OWNER_FILE, createAttemptDir, readOwner, reapWorkDirs } from '../../src/tasks/work-dirs.js';

const log = pino({ level: 'silent' });
const T1 = 'MediaConvert-11111111-1111-4111-8111-111111111111';
const T2 = 'MediaConvert-22222222-2222-4222-8222-222222222222';

async function withRoot(f: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'medley-wd-'));
  try {
    await f(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('createAttemptDir: an unguessable 0700 name, the owner recorded inside', () =>
  withRoot(async (root) => {
    const a = await createAttemptDir(root, undefined, { taskId: T1, attempt: 1 });
    const b = await createAttemptDir(root, undefined, { taskId: T1, attempt: 1 });
    assert.notEqual(a, b, 'a retry of the same attempt number gets a fresh directory');
    for (const d of [a, b]) {
      const name = d.slice(root.length + 1);
      assert.match(name, /^t-[0-9a-f]{32}$/);
      assert.ok(!name.includes(T1.slice(13, 21)), 'nothing of the task id is in the name');
      assert.equal((await stat(d)).mode & 0o777, 0o700);
      assert.deepEqual(JSON.parse(await readFile(join(d, OWNER_FILE), 'utf8')), { taskId: T1, attempt: 1 });
      assert.deepEqual(await readOwner(d), { taskId: T1, attempt: 1 });
    }
  }));

test('readOwner: missing or malformed owner files are no owner', () =>
  withRoot(async (root) => {
    const cases: Array<[string | undefined, unknown]> = [
      [undefined, undefined],
      ['not json', undefined],
      [JSON.stringify({ taskId: '../../etc', attempt: 1 }), undefined],
      [JSON.stringify({ taskId: T1, attempt: '1' }), undefined],
      [JSON.stringify({ taskId: T1, attempt: 2, extra: true }), { taskId: T1, attempt: 2 }],
    ];
    for (const [i, [content, want]] of cases.entries()) {
      const d = join(root, `c${i}`);
      await mkdir(d);
      if (content !== undefined) await writeFile(join(d, OWNER_FILE), content);
      assert.deepEqual(await readOwner(d), want, String(content));
    }
  }));

test('reapWorkDirs: keeps live attempts and fresh owner-less dirs; removes dead attempts and stale dirs; kills the dead attempt\u2019s FFmpeg', () =>
  withRoot(async (root) => {
    const live = await createAttemptDir(root, undefined, { taskId: T1, attempt: 2 });
    const dead = await createAttemptDir(root, undefined, { taskId: T1, attempt: 1 });
    const deadOther = await createAttemptDir(root, undefined, { taskId: T2, attempt: 1 });
    const fresh = join(root, 't-fresh');
    const stale = join(root, 't-stale');
    await mkdir(fresh);
    await mkdir(stale);
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    await utimes(stale, old, old);

    // An "FFmpeg" left running in the dead attempt's directory (its argv names the directory), and an
    // unrelated process whose pid is recorded in the other dead directory (a reused pid): only the first is killed.
    const orphan = spawn('/bin/sh', ['-c', 'sleep 30', join(dead, 'out')], { stdio: 'ignore' });
    const bystander = spawn('/bin/sh', ['-c', 'sleep 30'], { stdio: 'ignore' });
    const orphanGone = new Promise((r) => orphan.on('exit', r));
    try {
      await new Promise((r) => setTimeout(r, 100));
      await writeFile(join(dead, FFMPEG_PID_FILE), String(orphan.pid));
      await writeFile(join(deadOther, FFMPEG_PID_FILE), String(bystander.pid));

      const asked: string[] = [];
      const removed = await reapWorkDirs(root, async (taskId, attempt) => (asked.push(`${taskId}.${attempt}`), taskId === T1 && attempt === 2), log);
      assert.equal(removed, 3);
      assert.deepEqual(asked.sort(), [`${T1}.1`, `${T1}.2`, `${T2}.1`]);
      assert.deepEqual((await readdir(root)).sort(), [live.slice(root.length + 1), 't-fresh'].sort());
      await orphanGone;
      assert.equal(orphan.signalCode, 'SIGKILL');
      assert.equal(bystander.exitCode, null, 'a process not working in the directory is left alone');
    } finally {
      orphan.kill('SIGKILL');
      bystander.kill('SIGKILL');
    }
  }));

test('reapWorkDirs: a missing work root is nothing to do', async () => {
  assert.equal(await reapWorkDirs(join(tmpdir(), 'medley-wd-does-not-exist'), async () => false, log), 0);
});
