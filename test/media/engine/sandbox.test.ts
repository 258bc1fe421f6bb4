/**
 * The engine sandbox (src/media/engine/sandbox.ts) against real processes: the argv wrapper (pure, table),
 * the minimal environment, rlimits really applied (a tiny file-size limit makes ffmpeg fail), and, when
 * the tests run as root, the unprivileged user: its uid, a 0600 root file it cannot read, a work root
 * under a root-only folder moved where it can reach, and engine processes other engine processes cannot
 * inspect through /proc.
 */
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ENGINE_ENV,
  UNCONFINED,
  blockingAncestor,
  cpuSecondsFor,
  createPrivateDir,
  engineBinaryFor,
  fallbackWorkRoot,
  isRoot,
  prepareSandbox,
  prepareWorkRoot,
  shareWithEngine,
  spawnEngine,
  wrapCommand,
  type EngineSandbox,
} from '../../../src/media/engine/sandbox.js';
import { runFfmpeg } from '../../../src/media/engine/run.js';
import { inputArgs } from '../../../src/media/plan/input-args.js';
import { MediaEngine } from '../../../src/media/engine/index.js';
import { probe } from '../../../src/media/engine/probe.js';
import { isMedleyError } from '../../../src/errors.js';
import { FFMPEG, FFPROBE, tone } from '../../support/media.js';

const ROOT_ONLY = isRoot() ? false : 'needs root (the unprivileged-user path runs only when Medley runs as root)';

function run(sandbox: EngineSandbox, file: string, args: string[], cwd?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawnEngine(file, args, { sandbox, cwd, timeoutMs: 20_000 });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', (e) => (err += e.message));
    c.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

async function sandbox(overrides: Partial<Parameters<typeof prepareSandbox>[0]> = {}): Promise<EngineSandbox> {
  return prepareSandbox({ user: 'medley-ffmpeg', memoryBytes: 4 * 2 ** 30, fileBytes: 2 ** 30, cpuSeconds: 'auto', ...overrides });
}

test('wrapCommand: prlimit and sh forms of the limits; nothing to wrap without limits or user', () => {
  const p: EngineSandbox = { limits: { memoryBytes: 4096, fileBytes: 1000, cpuSeconds: 7, openFiles: 4096 }, wrapper: { kind: 'prlimit', path: '/usr/bin/prlimit' } };
  const s: EngineSandbox = { ...p, wrapper: { kind: 'sh', path: '/bin/sh' } };
  const cases: Array<[EngineSandbox, number | undefined, { file: string; args: string[] }]> = [
    [p, 7, { file: '/usr/bin/prlimit', args: ['--core=0', '--nofile=4096', '--fsize=1000', '--as=4096', '--cpu=7', '--', '/x/ffmpeg', '-i', 'a b'] }],
    [{ ...p, limits: { fileBytes: 1000 } }, undefined, { file: '/usr/bin/prlimit', args: ['--core=0', '--fsize=1000', '--', '/x/ffmpeg', '-i', 'a b'] }],
    [s, 7, { file: '/bin/sh', args: ['-c', 'ulimit -c 0 && ulimit -n 4096 && ulimit -f 2 && ulimit -v 4 && ulimit -t 7 && exec "$0" "$@"', '/x/ffmpeg', '-i', 'a b'] }],
    [{ limits: {}, wrapper: p.wrapper }, undefined, { file: '/x/ffmpeg', args: ['-i', 'a b'] }],
    [{ ...p, wrapper: undefined }, 7, { file: '/x/ffmpeg', args: ['-i', 'a b'] }],
  ];
  for (const [sb, cpu, want] of cases) assert.deepEqual(wrapCommand('/x/ffmpeg', ['-i', 'a b'], sb, cpu), want);
});

test('cpuSecondsFor: auto follows the timeout on every core; a number is used as is; 0 is none', () => {
  const auto = cpuSecondsFor({ cpuSeconds: 'auto' }, 10_000)!;
  assert.ok(auto >= 15, `auto gives ${auto}`);
  assert.equal(cpuSecondsFor({ cpuSeconds: 'auto' }, undefined), undefined);
  assert.equal(cpuSecondsFor({ cpuSeconds: 42 }, 10_000), 42);
  assert.equal(cpuSecondsFor({ cpuSeconds: 0 }, 10_000), undefined);
});

test('the child gets only PATH: no inherited secrets, even with the sh wrapper', async () => {
  process.env.MEDLEY_ACCESS_KEY_SECRET = 'sandbox-test-secret-0000';
  process.env.AWS_SECRET_ACCESS_KEY = 'sandbox-test-aws';
  try {
    for (const sb of [UNCONFINED, { limits: { fileBytes: 2 ** 20 }, wrapper: { kind: 'sh' as const, path: '/bin/sh' } }, await sandbox()]) {
      const r = await run(sb, '/usr/bin/env', []);
      assert.equal(r.code, 0, r.err);
      const names = r.out.trim().split('\n').map((l) => l.split('=')[0]).filter((n) => n !== 'PWD' && n !== 'SHLVL' && n !== '_');
      assert.deepEqual(names, Object.keys(ENGINE_ENV), r.out);
      assert.doesNotMatch(r.out, /sandbox-test/);
    }
  } finally {
    delete process.env.MEDLEY_ACCESS_KEY_SECRET;
    delete process.env.AWS_SECRET_ACCESS_KEY;
  }
});

test('the child runs in the given cwd with stdin closed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medley-sbx-'));
  try {
    const r = await run(UNCONFINED, '/bin/sh', ['-c', 'pwd; cat; echo "rc=$?"'], dir);
    assert.equal(r.out.trim().split('\n')[0], dir);
    assert.match(r.out, /rc=0/); // /dev/null: reads nothing, ends at once
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a tiny file-size limit makes the real ffmpeg fail, and it writes no more than the limit', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medley-sbx-'));
  await chmod(dir, 0o711); // reachable by the engine user when running as root
  try {
    for (const kind of ['prlimit', 'sh'] as const) {
      const base = await sandbox({ fileBytes: 64 * 1024 });
      if (kind === 'prlimit' && base.wrapper?.kind !== 'prlimit') continue;
      const sb: EngineSandbox = { ...base, wrapper: kind === 'sh' ? { kind: 'sh', path: '/bin/sh' } : base.wrapper };
      const out = await createPrivateDir(dir, sb);
      const ffmpeg = await engineBinaryFor(FFMPEG, sb);
      // A real single-file input (runFfmpeg refuses generator inputs such as lavfi), readable by the engine user.
      const src = tone(join(out, 'src.wav'), 440, 10);
      await shareWithEngine(src, sb);
      const input = [...inputArgs('wav'), '-i', src];
      await assert.rejects(
        runFfmpeg({ ffmpeg, args: [...input, join(out, 'big.wav')], expectedDurationSec: 10, timeoutMs: 20_000, cwd: out, sandbox: sb }),
        (e: unknown) => isMedleyError(e) && /MEDLEY_FFMPEG_MAX_FILE_SIZE|File too large/i.test(e.message),
      );
      const size = (await stat(join(out, 'big.wav')).catch(() => ({ size: 0 }))).size;
      assert.ok(size <= 64 * 1024, `${kind}: wrote ${size} bytes`);
      // Without the limit the same command succeeds (the limit, not the command, failed it).
      const sb2: EngineSandbox = { ...sb, limits: { ...sb.limits, fileBytes: 0 } };
      await runFfmpeg({ ffmpeg, args: [...input, join(out, 'ok.wav')], expectedDurationSec: 10, timeoutMs: 20_000, cwd: out, sandbox: sb2 });
      assert.ok((await stat(join(out, 'ok.wav'))).size > 64 * 1024);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the limits are those of the settings, as the kernel reports them to the child', async () => {
  const sb = await sandbox({ memoryBytes: 3 * 2 ** 30, fileBytes: 2 ** 30, cpuSeconds: 99 });
  const r = await run(sb, '/bin/cat', ['/proc/self/limits']);
  const limit = (name: string) => new RegExp(`^${name}\\s+(\\S+)\\s+(\\S+)`, 'm').exec(r.out)?.slice(1, 3);
  assert.deepEqual(limit('Max address space'), [String(3 * 2 ** 30), String(3 * 2 ** 30)]);
  assert.deepEqual(limit('Max file size'), [String(2 ** 30), String(2 ** 30)]);
  assert.deepEqual(limit('Max cpu time'), ['99', '99']);
  assert.deepEqual(limit('Max core file size'), ['0', '0']);
  assert.ok(Number(limit('Max open files')?.[0]) <= 4096, r.out);
});

test('a CPU-time limit stops a long ffmpeg run, and the error names the setting', async () => {
  const sb = await sandbox({ cpuSeconds: 1 });
  const ffmpeg = await engineBinaryFor(FFMPEG, sb);
  const dir = await mkdtemp(join(tmpdir(), 'medley-sbx-'));
  await chmod(dir, 0o711);
  try {
    const out = await createPrivateDir(dir, sb);
    const src = tone(join(out, 'src.wav'), 440, 1);
    await shareWithEngine(src, sb);
    const started = Date.now();
    // An endless, CPU-bound run: the 1 s source looped forever and resampled to 192 kHz.
    await assert.rejects(
      runFfmpeg({ ffmpeg, args: ['-stream_loop', '-1', ...inputArgs('wav'), '-i', src, '-af', 'aresample=192000', '-f', 'null', '-'], expectedDurationSec: 600, timeoutMs: 60_000, cwd: out, sandbox: sb }),
      (e: unknown) => isMedleyError(e) && /MEDLEY_FFMPEG_MAX_CPU_SECONDS/.test(e.message),
    );
    assert.ok(Date.now() - started < 30_000, 'stopped by the CPU limit, not the wall clock');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an address-space limit too small for ffmpeg stops it', async () => {
  const sb = await sandbox({ memoryBytes: 16 * 2 ** 20 });
  const r = await run(sb, await engineBinaryFor(FFMPEG, sb), ['-hide_banner', '-f', 'lavfi', '-i', 'sine=duration=1', '-f', 'null', '-']);
  assert.notEqual(r.code, 0, `ffmpeg ran under a 16 MiB address space: ${r.err}`);
});

test('createPrivateDir: t-<32 hex>, 0700, a fresh one each time', async () => {
  const root = await mkdtemp(join(tmpdir(), 'medley-sbx-'));
  try {
    const a = await createPrivateDir(root);
    const b = await createPrivateDir(root);
    assert.notEqual(a, b);
    for (const d of [a, b]) {
      assert.match(d.slice(root.length + 1), /^t-[0-9a-f]{32}$/);
      assert.equal((await stat(d)).mode & 0o777, 0o700);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('as root: the child runs as the unprivileged engine user, with no supplementary groups', { skip: ROOT_ONLY }, async () => {
  const sb = await sandbox();
  assert.ok(sb.user && sb.user.uid > 0 && sb.user.gid > 0, JSON.stringify(sb.user));
  const r = await run(sb, '/usr/bin/id', []);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`^uid=${sb.user.uid}\\b.*gid=${sb.user.gid}\\b`));
  const g = await run(sb, '/usr/bin/id', ['-G']);
  assert.equal(g.out.trim(), String(sb.user.gid));
});

test('as root: a missing engine user is created (system user, no login shell); a uid-0 user is refused', { skip: ROOT_ONLY }, async () => {
  const name = `medley-t${Date.now().toString(36).slice(-6)}`;
  try {
    const sb = await sandbox({ user: name });
    assert.ok(sb.user && sb.user.name === name && sb.user.uid > 0);
    const entry = spawnSync('getent', ['passwd', name], { encoding: 'utf8' }).stdout.trim().split(':');
    assert.equal(entry[6], '/usr/sbin/nologin');
    assert.equal((await run(sb, '/usr/bin/id', ['-un'])).out.trim(), name);
  } finally {
    spawnSync('userdel', [name]);
    spawnSync('groupdel', [name]);
  }
  await assert.rejects(sandbox({ user: 'root' }), /MEDLEY_FFMPEG_USER: root has uid\/gid 0/);
});

test('as root: the engine user cannot read a 0600 root file, neither with cat nor with ffprobe', { skip: ROOT_ONLY }, async () => {
  const sb = await sandbox();
  const dir = await mkdtemp(join(tmpdir(), 'medley-sbx-'));
  try {
    await chmod(dir, 0o755);
    const secret = join(dir, 'secret.wav');
    tone(secret, 1234, 1);
    await chmod(secret, 0o600);
    const cat = await run(sb, '/bin/cat', [secret]);
    assert.notEqual(cat.code, 0);
    assert.match(cat.err, /Permission denied/);
    const ffprobe = await engineBinaryFor(FFPROBE, sb);
    await assert.rejects(probe(ffprobe, secret, { sandbox: sb }), (e: unknown) => isMedleyError(e) && /Permission denied/i.test(e.message));
    // The same file probes fine for root: the refusal is the user's, not the file's.
    assert.ok((await probe(ffprobe, secret)).audio);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('as root: a private dir belongs to the engine user, which can work in it; other dirs under the root are not listable', { skip: ROOT_ONLY }, async () => {
  const sb = await sandbox();
  const parent = await mkdtemp(join(tmpdir(), 'medley-sbx-'));
  try {
    await chmod(parent, 0o755);
    const root = join(parent, 'work');
    const got = await prepareWorkRoot(join(parent, 'data'), root, sb);
    assert.equal(got, root);
    assert.equal((await stat(root)).mode & 0o777, 0o711);
    const dir = await createPrivateDir(root, sb);
    const st = await stat(dir);
    assert.equal(st.uid, sb.user!.uid);
    assert.equal(st.mode & 0o777, 0o700);
    const w = await run(sb, '/bin/sh', ['-c', 'echo hi > made && cat made && ls ..; echo "ls=$?"'], dir);
    assert.match(w.out, /^hi\n/);
    assert.match(w.out, /ls=[1-9]/, 'the work root must not be listable by the engine user');
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});

test('as root: a data dir the engine user cannot reach gets its work root under the temp dir; an unreachable MEDLEY_WORK_DIR is refused', { skip: ROOT_ONLY }, async () => {
  const sb = await sandbox();
  const data = await mkdtemp(join(tmpdir(), 'medley-sbx-')); // mkdtemp: 0700, root-only
  try {
    assert.equal(await blockingAncestor(join(data, 'work'), sb.user!), data);
    const root = await prepareWorkRoot(data, undefined, sb);
    assert.equal(root, fallbackWorkRoot(data));
    assert.equal(await blockingAncestor(join(root, 'x'), sb.user!), undefined);
    await assert.rejects(prepareWorkRoot(data, join(data, 'work'), sb), /MEDLEY_WORK_DIR: .* inside the data dir/);
    const hidden = await mkdtemp(join(tmpdir(), 'medley-sbx-hidden-')); // 0700: nothing below is reachable
    await assert.rejects(prepareWorkRoot(data, join(hidden, 'work'), sb), /MEDLEY_WORK_DIR: .* is not traversable by the FFmpeg user/);
    await rm(hidden, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
    // Not root-owned (e.g. planted by another local user): refused.
    await mkdir(root, { mode: 0o777 });
    const { chown } = await import('node:fs/promises');
    await chown(root, sb.user!.uid, sb.user!.gid);
    await assert.rejects(prepareWorkRoot(data, undefined, sb), /not a directory owned by this process's user/);
    await rm(root, { recursive: true, force: true });
  } finally {
    await rm(data, { recursive: true, force: true });
  }
});

test('as root: a data dir the engine user could enter is made 0700, and the work root goes outside it', { skip: ROOT_ONLY }, async () => {
  const sb = await sandbox();
  const data = await mkdtemp(join(tmpdir(), 'medley-sbx-'));
  try {
    await chmod(data, 0o755);
    const root = await prepareWorkRoot(data, undefined, sb);
    assert.equal((await stat(data)).mode & 0o777, 0o700);
    assert.equal(root, fallbackWorkRoot(data));
    assert.equal((await stat(root)).mode & 0o777, 0o711);
    await rm(root, { recursive: true, force: true });
  } finally {
    await rm(data, { recursive: true, force: true });
  }
});

test('as root: a source Medley wrote 0600 (umask 077) into a private dir is handed to the engine user and probes', { skip: ROOT_ONLY }, async () => {
  const sb = await sandbox();
  const parent = await mkdtemp(join(tmpdir(), 'medley-sbx-'));
  try {
    await chmod(parent, 0o711);
    const dir = await createPrivateDir(parent, sb);
    const file = tone(join(dir, 'in-0.wav'), 440, 1);
    await chmod(file, 0o600);
    const engine = await MediaEngine.start({ env: {}, sandbox: sb });
    assert.ok(engine.available, JSON.stringify(engine.dropped));
    assert.ok((await engine.probe(file, 'in-0.wav')).audio);
    assert.equal((await stat(file)).uid, sb.user!.uid);
    // Also when the probe is answered from the engine's cache (same bytes, another task's copy).
    assert.ok((await engine.probe(file, 'in-0.wav', { identity: 'blob-a' })).audio);
    const again = tone(join(dir, 'in-1.wav'), 440, 1);
    await chmod(again, 0o600);
    assert.ok((await engine.probe(again, 'in-1.wav', { identity: 'blob-a' })).audio);
    assert.equal((await stat(again)).uid, sb.user!.uid);
    // A file outside an engine-owned directory is not handed over.
    const outsideFile = tone(join(parent, 'root.wav'), 440, 1);
    await chmod(outsideFile, 0o600);
    await assert.rejects(engine.probe(outsideFile, 'root.wav'), /Permission denied/);
    assert.equal((await stat(outsideFile)).uid, 0);
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});

test('as root: engine binaries are execute-only copies, so another engine process cannot read /proc/<pid>/fd or environ', { skip: ROOT_ONLY }, async () => {
  const sb = await sandbox();
  const ffmpeg = await engineBinaryFor(FFMPEG, sb);
  assert.notEqual(ffmpeg, FFMPEG);
  assert.equal((await stat(ffmpeg)).mode & 0o7777, 0o711);
  assert.equal(await engineBinaryFor(FFMPEG, sb), ffmpeg, 'the copy is reused');
  const child = spawnEngine(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'anullsrc', '-t', '20', '-f', 'null', '-'], { sandbox: sb, timeoutMs: 30_000 });
  const closed = new Promise((r) => child.on('close', r));
  try {
    await new Promise((r) => setTimeout(r, 300));
    const peer = await run(sb, '/bin/sh', ['-c', `ls /proc/${child.pid}/fd; cat /proc/${child.pid}/environ`]);
    assert.match(peer.err, /Permission denied/);
    assert.doesNotMatch(peer.out, /PATH=/);
  } finally {
    child.kill('SIGKILL');
    await closed;
  }
});

test('not root: the user setting is moot; children run as the server user', { skip: isRoot() ? 'runs as root' : false }, async () => {
  const sb = await sandbox();
  assert.equal(sb.user, undefined);
  const r = await run(sb, '/usr/bin/id', ['-u']);
  assert.equal(r.out.trim(), String(process.getuid!()));
});

test('MEDLEY_FFMPEG_USER=none keeps the server user', async () => {
  const sb = await sandbox({ user: 'none' });
  assert.equal(sb.user, undefined);
  assert.deepEqual(await readdir('/').then(() => true), true);
});
