/**
 * Least privilege for FFmpeg and ffprobe. Every engine child process is started by `spawnEngine`, which
 *  - runs it as an unprivileged user when Medley runs as root (MEDLEY_FFMPEG_USER, created at start when
 *    missing), so a crafted playlist or concat list cannot read what that user cannot: other tasks' work
 *    directories (0700, owned by that user but named unguessably), the data dir, root-only files;
 *  - caps its resources with setrlimit through `prlimit` (or `sh -c ulimit`): written file size, address
 *    space, CPU seconds, no core dumps;
 *  - gives it a minimal environment (PATH only: no inherited secrets), its work directory as cwd and no stdin.
 * Work directories are private: `<workRoot>/t-<32 hex>` made with exclusive mkdir, mode 0700, owned by the
 * engine user; the work root itself is 0711 (traversable, not listable) when a separate user runs FFmpeg.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsc, accessSync, chmodSync, chownSync } from 'node:fs';
import { chmod, chown, copyFile, lstat, mkdir, readFile, realpath, rename, stat, utimes } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, parse, resolve, sep } from 'node:path';

/** The environment every engine child gets: nothing inherited (keys, AWS_*, MEDLEY_* secrets stay out). */
export const ENGINE_ENV: Readonly<Record<string, string>> = Object.freeze({ PATH: '/usr/bin:/bin' });

/**
 * Open files per engine process: far more than a job's inputs and segments need, far less than the
 * soft limit Node raises itself to (and its children inherit).
 */
export const ENGINE_MAX_OPEN_FILES = 4096;

/** ENGINE_MAX_OPEN_FILES, or the hard limit when that is lower (an unprivileged process cannot raise it); undefined when unknown. */
async function openFilesLimit(): Promise<number | undefined> {
  const text = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(text)?.[1];
  if (hard === undefined) return undefined;
  return hard === 'unlimited' ? ENGINE_MAX_OPEN_FILES : Math.min(ENGINE_MAX_OPEN_FILES, Number(hard)) || undefined;
}

/** MEDLEY_FFMPEG_USER value that keeps FFmpeg as the server's own user. */
export const NO_ENGINE_USER = 'none';

export interface SandboxLimits {
  /** RLIMIT_AS in bytes (0/undefined: none). */
  memoryBytes?: number;
  /** RLIMIT_FSIZE in bytes (0/undefined: none). */
  fileBytes?: number;
  /** RLIMIT_CPU in seconds; 'auto' = the spawn's wall-clock timeout × CPU cores (0/undefined: none). */
  cpuSeconds?: number | 'auto';
  /** RLIMIT_NOFILE (undefined: inherited). */
  openFiles?: number;
}

export interface EngineUser {
  name: string;
  uid: number;
  gid: number;
}

export interface EngineSandbox {
  /** Set when engine children run as this user (Medley runs as root). */
  readonly user?: EngineUser;
  readonly limits: SandboxLimits;
  /** How limits are applied: `prlimit` (util-linux) or `/bin/sh -c ulimit`; undefined: not applied. */
  readonly wrapper?: { kind: 'prlimit' | 'sh'; path: string };
}

/** No user switch, no limits; still the minimal environment. The CLI and unit tests use it. */
export const UNCONFINED: EngineSandbox = Object.freeze({ limits: Object.freeze({}) });

export interface SandboxSettings {
  /** MEDLEY_FFMPEG_USER: a user name, or `none`. */
  user: string;
  memoryBytes: number;
  fileBytes: number;
  cpuSeconds: number | 'auto';
}

interface SandboxLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function exists(p: string): boolean {
  try {
    accessSync(p, fsc.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findTool(name: string, dirs = ['/usr/bin', '/bin', '/usr/sbin', '/sbin']): string | undefined {
  return dirs.map((d) => join(d, name)).find(exists);
}

/** The passwd entry of `name` (getent, so NSS users count too), or undefined. */
export async function lookupUser(name: string): Promise<EngineUser | undefined> {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8', env: { ...ENGINE_ENV } });
  let line = r.status === 0 ? r.stdout.trim() : '';
  if (!line && r.error) {
    const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
    line = passwd.split('\n').find((l) => l.startsWith(`${name}:`)) ?? '';
  }
  const f = line.split(':');
  if (f.length < 4 || f[0] !== name) return undefined;
  return { name, uid: Number(f[2]), gid: Number(f[3]) };
}

/**
 * Resolves the settings into a sandbox at start. As root: the engine user (created with useradd when
 * missing; refusing to start when that is impossible). Not root: children already run unprivileged as the
 * server's user, so the setting is moot. Throws an Error whose message names the setting to change.
 */
export async function prepareSandbox(settings: SandboxSettings, log?: SandboxLog, root = isRoot()): Promise<EngineSandbox> {
  const prlimit = findTool('prlimit');
  const wrapper = prlimit ? { kind: 'prlimit' as const, path: prlimit } : exists('/bin/sh') ? { kind: 'sh' as const, path: '/bin/sh' } : undefined;
  const limits: SandboxLimits = { memoryBytes: settings.memoryBytes, fileBytes: settings.fileBytes, cpuSeconds: settings.cpuSeconds, openFiles: await openFilesLimit() };
  if (!wrapper) log?.warn({}, 'neither prlimit nor /bin/sh found: FFmpeg runs without resource limits (MEDLEY_FFMPEG_MAX_*)');
  if (!root || settings.user === NO_ENGINE_USER) {
    if (root) log?.warn({}, 'MEDLEY_FFMPEG_USER=none: FFmpeg runs as root; a crafted input it can be tricked into opening can read any file');
    return { limits, wrapper };
  }
  let user = await lookupUser(settings.user);
  if (!user) {
    const useradd = findTool('useradd');
    if (!useradd) throw new Error(`MEDLEY_FFMPEG_USER: the user ${settings.user} does not exist and useradd is not available to create it; create it (an unprivileged system user without a login shell) or set MEDLEY_FFMPEG_USER to an existing user (or "none" to run FFmpeg as root)`);
    const r = spawnSync(useradd, ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--user-group', settings.user], { encoding: 'utf8', env: { ...ENGINE_ENV } });
    user = await lookupUser(settings.user);
    if (!user) throw new Error(`MEDLEY_FFMPEG_USER: could not create the user ${settings.user} (useradd: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}); create it or set MEDLEY_FFMPEG_USER to an existing unprivileged user`);
    log?.info({ user }, 'created the unprivileged user FFmpeg runs as');
  }
  if (user.uid === 0 || user.gid === 0) throw new Error(`MEDLEY_FFMPEG_USER: ${settings.user} has uid/gid 0; FFmpeg must run as an unprivileged user`);
  // Root without CAP_SETUID/CAP_SETGID (some containers) cannot switch: say so now, not on every task.
  const probeRun = spawnSync('/bin/sh', ['-c', 'exit 0'], { uid: user.uid, gid: user.gid, env: { ...ENGINE_ENV }, cwd: '/', stdio: 'ignore' });
  if (probeRun.error || probeRun.status !== 0) {
    throw new Error(`MEDLEY_FFMPEG_USER: cannot start processes as ${settings.user} (${probeRun.error?.message ?? `exit ${probeRun.status}`}); grant CAP_SETUID/CAP_SETGID or set MEDLEY_FFMPEG_USER=none`);
  }
  return { user, limits, wrapper };
}

/** The CPU limit for one spawn: the configured one, or (auto) its timeout on every core, plus a margin. */
export function cpuSecondsFor(limits: SandboxLimits, timeoutMs: number | undefined): number | undefined {
  if (limits.cpuSeconds === 'auto') return timeoutMs && timeoutMs > 0 ? Math.ceil(timeoutMs / 1000) * availableParallelism() + 5 : undefined;
  return limits.cpuSeconds || undefined;
}

/** argv that applies `limits` before exec'ing binary (the pid stays the engine's: prlimit and sh exec it). Pure. */
export function wrapCommand(binary: string, args: readonly string[], sandbox: EngineSandbox, cpuSeconds: number | undefined): { file: string; args: string[] } {
  const { memoryBytes, fileBytes } = sandbox.limits;
  const w = sandbox.wrapper;
  if (!w || (!memoryBytes && !fileBytes && !cpuSeconds && !sandbox.user)) return { file: binary, args: [...args] };
  if (w.kind === 'prlimit') {
    const opts = ['--core=0'];
    if (sandbox.limits.openFiles) opts.push(`--nofile=${sandbox.limits.openFiles}`);
    if (fileBytes) opts.push(`--fsize=${fileBytes}`);
    if (memoryBytes) opts.push(`--as=${memoryBytes}`);
    if (cpuSeconds) opts.push(`--cpu=${cpuSeconds}`);
    return { file: w.path, args: [...opts, '--', binary, ...args] };
  }
  // POSIX sh: -f counts 512-byte blocks (bash outside POSIX mode: 1024, i.e. a looser limit), -v KiB, -t s.
  const ulimits = ['ulimit -c 0'];
  if (sandbox.limits.openFiles) ulimits.push(`ulimit -n ${sandbox.limits.openFiles}`);
  if (fileBytes) ulimits.push(`ulimit -f ${Math.ceil(fileBytes / 512)}`);
  if (memoryBytes) ulimits.push(`ulimit -v ${Math.ceil(memoryBytes / 1024)}`);
  if (cpuSeconds) ulimits.push(`ulimit -t ${cpuSeconds}`);
  return { file: w.path, args: ['-c', `${ulimits.join(' && ')} && exec "$0" "$@"`, binary, ...args] };
}

/** What a signal from an rlimit means, naming the setting; undefined for other signals. */
export function limitExceeded(signal: NodeJS.Signals | null): string | undefined {
  if (signal === 'SIGXFSZ') return 'killed by SIGXFSZ: it tried to write a file larger than MEDLEY_FFMPEG_MAX_FILE_SIZE allows';
  if (signal === 'SIGXCPU') return 'killed by SIGXCPU: it used more CPU time than MEDLEY_FFMPEG_MAX_CPU_SECONDS allows';
  // FFmpeg catches SIGXCPU to stop gracefully; the kernel then kills it at the (equal) hard limit. Medley's
  // own stops (timeout, cancel) are reported before this is asked.
  if (signal === 'SIGKILL') return 'killed by SIGKILL: the CPU-time limit (MEDLEY_FFMPEG_MAX_CPU_SECONDS) or the system running out of memory';
  return undefined;
}

export interface SpawnEngineOptions {
  sandbox?: EngineSandbox;
  /** The child's working directory (its private work directory); default `/`. */
  cwd?: string;
  /** The spawn's wall-clock timeout, from which the automatic CPU limit is derived. */
  timeoutMs?: number;
  /** A directory Medley created that the child writes into (its output directory): handed to the engine user, 0700. */
  writableDir?: string;
}

/** Spawns an engine binary inside the sandbox: stdin ignored, stdout/stderr piped. */
export function spawnEngine(binary: string, args: readonly string[], opts: SpawnEngineOptions = {}): ChildProcess & { stdout: NonNullable<ChildProcess['stdout']>; stderr: NonNullable<ChildProcess['stderr']> } {
  const sandbox = opts.sandbox ?? UNCONFINED;
  if (opts.writableDir && sandbox.user) {
    chownSync(opts.writableDir, sandbox.user.uid, sandbox.user.gid);
    chmodSync(opts.writableDir, 0o700);
  }
  const cmd = wrapCommand(binary, args, sandbox, cpuSecondsFor(sandbox.limits, opts.timeoutMs));
  return spawn(cmd.file, cmd.args, {
    cwd: opts.cwd ?? '/',
    env: { ...ENGINE_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
    // Node drops supplementary groups (setgroups(0)) when uid/gid are given.
    ...(sandbox.user ? { uid: sandbox.user.uid, gid: sandbox.user.gid } : {}),
  }) as ChildProcess & { stdout: NonNullable<ChildProcess['stdout']>; stderr: NonNullable<ChildProcess['stderr']> };
}

/**
 * A fresh private directory `<root>/t-<32 hex>`: exclusive mkdir (never an existing one), mode 0700, owned
 * by the engine user so FFmpeg can read its inputs there and nothing else can list or enter it.
 */
export async function createPrivateDir(root: string, sandbox: EngineSandbox = UNCONFINED): Promise<string> {
  for (;;) {
    const dir = join(root, `t-${randomBytes(16).toString('hex')}`);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    await chmod(dir, 0o700); // the umask never widens it, but be explicit
    if (sandbox.user) await chown(dir, sandbox.user.uid, sandbox.user.gid);
    return dir;
  }
}

/**
 * Hands a file Medley wrote into an engine-owned private directory (a task's downloaded source) to the
 * engine user, so it can read it whatever the server's umask. Anything else is left as it is.
 */
export async function shareWithEngine(file: string, sandbox: EngineSandbox): Promise<void> {
  const user = sandbox.user;
  if (!user) return;
  const [dir, st] = await Promise.all([stat(dirname(resolve(file))).catch(() => undefined), lstat(file).catch(() => undefined)]);
  if (!dir || !st || !st.isFile() || dir.uid !== user.uid || st.uid === user.uid) return;
  await chown(file, user.uid, user.gid);
}

interface Perms {
  uid: number;
  gid: number;
}

function allows(st: { uid: number; gid: number; mode: number }, who: Perms, bit: 1 | 2 | 4): boolean {
  if (who.uid === 0) return bit !== 1 || (st.mode & 0o111) !== 0;
  if (st.uid === who.uid) return (st.mode & (bit << 6)) !== 0;
  if (st.gid === who.gid) return (st.mode & (bit << 3)) !== 0;
  return (st.mode & bit) !== 0;
}

/**
 * The first directory on the way to `path` (its existing ancestors, symlinks resolved) that `who` cannot
 * traverse, or undefined when every one lets it through (ancestors still to be made are Medley's to
 * create). Judged from the mode bits (owner, primary group, others); ACLs and supplementary groups are
 * not considered (the engine user has none).
 */
export async function blockingAncestor(path: string, who: Perms): Promise<string | undefined> {
  let parent = dirname(resolve(path));
  let real: string | undefined;
  for (;;) {
    real = await realpath(parent).catch(() => undefined);
    if (real !== undefined || parent === parse(parent).root) break;
    parent = dirname(parent);
  }
  const dirs: string[] = [];
  for (let d = real ?? parent; ; d = dirname(d)) {
    dirs.unshift(d);
    if (d === parse(d).root) break;
  }
  for (const d of dirs) {
    const st = await stat(d).catch(() => undefined);
    if (!st || !allows(st, who, 1)) return d;
  }
  return undefined;
}

/** Where the work root goes when `<data>/work` is out of the engine user's reach: one per data dir. */
export function fallbackWorkRoot(dataDir: string): string {
  return join(tmpdir(), `medley-work-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16)}`);
}

/**
 * A directory Medley (root) owns for the engine: created if missing, refused if it is a symlink or owned
 * by someone else (a shared /tmp is writable by every local user), then given `mode`.
 */
async function ownedDir(dir: string, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
  const st = await lstat(dir);
  const me = typeof process.getuid === 'function' ? process.getuid() : -1;
  if (!st.isDirectory() || (me >= 0 && st.uid !== me)) throw new Error(`${dir} is not a directory owned by this process's user; remove it or set MEDLEY_WORK_DIR`);
  await chmod(dir, mode);
}

/**
 * The parent of every private work directory. Without an engine user: MEDLEY_WORK_DIR, else `<data>/work`
 * (0700). With one, the engine user must reach the work root but never the data dir (object bytes, the
 * database): a data dir it could enter is made 0700 (it is Medley's own), and the work root is
 * MEDLEY_WORK_DIR (reachable, outside the data dir) or `fallbackWorkRoot` under the temp dir, 0711 (it
 * may enter its own directory but not list the others').
 */
export async function prepareWorkRoot(dataDir: string, configured: string | undefined, sandbox: EngineSandbox, log?: SandboxLog): Promise<string> {
  const data = resolve(dataDir);
  if (!sandbox.user) {
    const root = configured ? resolve(configured) : join(data, 'work');
    await ownedDir(root, 0o700);
    return root;
  }
  const user = sandbox.user;
  if (!(await blockingAncestor(join(data, 'x'), user)) && (await stat(data).catch(() => undefined))?.isDirectory()) {
    await chmod(data, 0o700);
    log?.info({ dataDir: data, user: user.name }, 'made the data dir private (0700) so the FFmpeg user cannot read object bytes or the database');
  }
  const root = configured ? resolve(configured) : fallbackWorkRoot(data);
  const inside = root === data || root.startsWith(data + sep);
  const blocked = inside ? data : await blockingAncestor(root, user);
  if (blocked) {
    const why = inside ? 'it is inside the data dir, which the FFmpeg user must not reach' : `${blocked} is not traversable by the FFmpeg user ${user.name}`;
    throw new Error(`MEDLEY_WORK_DIR: ${root} cannot hold FFmpeg's work directories: ${why}; choose a directory outside the data dir whose parents others may enter (e.g. under /var/lib or /tmp)`);
  }
  await ownedDir(root, 0o711);
  return root;
}

/** True when `who` may execute `file` (its directories traversable, the file executable). */
export async function executableBy(file: string, who: Perms): Promise<boolean> {
  const real = await realpath(file).catch(() => undefined);
  if (!real || (await blockingAncestor(real, who))) return false;
  const st = await stat(real).catch(() => undefined);
  return !!st && st.isFile() && allows(st, who, 1);
}

/** True when `file` starts and prints a version as `user` (a copy on a noexec mount does not). */
function runsAs(file: string, user: EngineUser): boolean {
  const r = spawnSync(file, ['-version'], { uid: user.uid, gid: user.gid, env: { ...ENGINE_ENV }, cwd: '/', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000, encoding: 'utf8' });
  return r.status === 0 && /version/.test(r.stdout);
}

/**
 * A path to `binary` the engine user may execute. Preferably a copy in a root-owned cache
 * (`<tmp>/medley-engines-<hash>/`, 0755) that is execute-only for others (0711): a process exec'ing a
 * file it cannot read is not dumpable, so other engine processes of the same user cannot reach its
 * /proc/<pid>/{fd,cwd,environ,mem}; it also serves binaries the user cannot reach (npm packages under
 * /root). When the copy cannot run (a noexec temp dir), the binary itself if the user may execute it.
 */
export async function engineBinaryFor(binary: string, sandbox: EngineSandbox, log?: SandboxLog): Promise<string> {
  const user = sandbox.user;
  if (!user) return binary;
  const real = await realpath(binary).catch(() => binary);
  const st = await stat(real);
  const cacheDir = join(tmpdir(), `medley-engines-${createHash('sha256').update(dirname(real)).digest('hex').slice(0, 12)}`);
  const copy = join(cacheDir, basename(real));
  try {
    const fresh = await stat(copy).then(
      (c) => c.size === st.size && c.mtimeMs === st.mtimeMs && c.uid === (process.getuid?.() ?? 0) && (c.mode & 0o7777) === 0o711,
      () => false,
    );
    if (!fresh) {
      await ownedDir(cacheDir, 0o755);
      const tmp = `${copy}.${randomBytes(4).toString('hex')}`;
      await copyFile(real, tmp);
      await chmod(tmp, 0o711);
      await utimes(tmp, st.atime, st.mtime);
      await rename(tmp, copy);
    }
    if ((await executableBy(copy, user)) && runsAs(copy, user)) return copy;
  } catch (e) {
    log?.warn({ binary, err: e }, 'could not prepare an execute-only copy of the engine binary');
  }
  if ((await executableBy(real, user)) && runsAs(real, user)) {
    log?.warn({ binary }, 'the FFmpeg user runs the engine binary in place (its execute-only copy did not run): engine processes of that user can inspect each other through /proc');
    return real;
  }
  throw new Error(`the FFmpeg user ${user.name} cannot execute ${binary} (nor an execute-only copy in ${cacheDir}); make it executable by that user or set MEDLEY_FFMPEG / MEDLEY_FFPROBE to a binary it can run`);
}
