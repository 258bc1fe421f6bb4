/**
 * Finding FFmpeg: configured paths first, then PATH, then the binaries bundled in npm packages
 * (@ffmpeg-installer/ffmpeg, ffprobe-static). Each candidate is run once to learn its
 * version, encoders, muxers and filters; candidates that do not run are dropped with a reason.
 */
import { execFile } from 'node:child_process';
import { constants as fsc } from 'node:fs';
import { access, mkdir, readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { fail } from '../../errors.js';
import type { EngineCapabilities } from '../media-info.js';
import { ENGINE_ENV } from './sandbox.js';

export type EngineSource = 'config' | 'path' | 'bundled';

export interface EngineCandidate {
  ffmpeg: string;
  ffprobe: string;
  source: EngineSource;
  capabilities: EngineCapabilities;
}

export interface DroppedEngine {
  ffmpeg: string;
  ffprobe: string;
  source: EngineSource;
  reason: string;
}

export interface LocateOptions {
  /** Configured ffmpeg (MEDLEY_FFMPEG / --ffmpeg). */
  ffmpeg?: string;
  /** Configured ffprobe (MEDLEY_FFPROBE / --ffprobe). */
  ffprobe?: string;
  /** Used for PATH lookup only. */
  env: NodeJS.ProcessEnv;
  /** Called for each candidate that could not be used. */
  onDropped?: (d: DroppedEngine) => void;
  /** Per-command timeout while probing a candidate (default 10 s). */
  timeoutMs?: number;
}

export interface EngineNeeds {
  encoders: string[];
  muxers?: string[];
  filters?: string[];
}

const PROBE_TIMEOUT_MS = 10_000;
const exe = process.platform === 'win32' ? '.exe' : '';

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    if (!(await stat(p)).isFile()) return false;
    await access(p, fsc.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dirs = (env.PATH ?? env.Path ?? '').split(delimiter).filter((d) => d !== '');
  for (const d of dirs) {
    const p = join(d, name + exe);
    if (await isExecutableFile(p)) return p;
  }
  return undefined;
}

function bundled(pkg: '@ffmpeg-installer/ffmpeg' | 'ffprobe-static'): string | undefined {
  try {
    const mod = createRequire(import.meta.url)(pkg) as { path?: unknown };
    return typeof mod.path === 'string' ? mod.path : undefined;
  } catch {
    return undefined; // package not installed or no binary for this platform
  }
}

interface Exec {
  stdout: string;
}

function run(bin: string, args: string[], timeoutMs: number): Promise<Exec> {
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      // The minimal environment engines always run with (sandbox.ts): a binary that needs more is dropped here, at start.
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024, windowsHide: true, encoding: 'utf8', env: { ...ENGINE_ENV } },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
        let why: string;
        if (e.code === 'ENOENT') why = 'not found';
        else if (e.code === 'EACCES') why = 'not executable (permission denied)';
        else if (e.killed) why = `did not answer "${args.join(' ')}" within ${timeoutMs / 1000} s`;
        else {
          const line = `${stderr}`.split('\n').find((l) => l.trim() !== '') ?? e.message;
          why = `"${args.join(' ')}" failed: ${line.trim()}`;
        }
        reject(new Error(why));
      },
    );
  });
}

/** `ffmpeg version N-47683-g0e8eb07980-static https://...` -> `N-47683-g0e8eb07980-static`. */
export function parseVersion(text: string): string | undefined {
  return /^\s*ff\w+ version (\S+)/m.exec(text)?.[1];
}

/** Lines of a `-encoders` / `-muxers` listing after its `---` legend separator. */
function listingBody(text: string): string[] {
  const lines = text.split(/\r?\n/);
  const sep = lines.findIndex((l) => /^\s*-{2,}\s*$/.test(l));
  return sep < 0 ? lines : lines.slice(sep + 1);
}

/** ` A..... libmp3lame   libmp3lame MP3 ...` -> libmp3lame. */
export function parseEncoders(text: string): Set<string> {
  const out = new Set<string>();
  for (const l of listingBody(text)) {
    const m = /^\s*[VASD.][A-Z.]{5}\s+(\S+)/.exec(l);
    if (m?.[1]) out.add(m[1]);
  }
  return out;
}

/** `  E mp4   MP4 ...`, ` DE matroska,webm ...` -> mp4, matroska, webm (muxers only). */
export function parseMuxers(text: string): Set<string> {
  const out = new Set<string>();
  for (const l of listingBody(text)) {
    const m = /^\s*([DEd. ]{1,3}?)\s+(\S+)\s/.exec(l + ' ');
    if (!m?.[1] || !m[2] || !m[1].includes('E')) continue;
    for (const n of m[2].split(',')) if (n) out.add(n);
  }
  return out;
}

/** ` T.C scale   V->V   Scale the input video ...` -> scale. */
export function parseFilters(text: string): Set<string> {
  const out = new Set<string>();
  for (const l of text.split(/\r?\n/)) {
    const m = /^\s*[TSC.|]{2,4}\s+(\S+)\s+[AVN|]*->[AVN|]*\s/.exec(l);
    if (m?.[1]) out.add(m[1]);
  }
  return out;
}

/** Runs a candidate pair and reads its capabilities; throws an Error whose message is the drop reason. */
export async function probeCapabilities(ffmpeg: string, ffprobe: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<EngineCapabilities> {
  const wrap = (who: string) => (e: unknown) => {
    throw new Error(`${who}: ${e instanceof Error ? e.message : String(e)}`);
  };
  const [v, enc, mux, fil, pv] = await Promise.all([
    run(ffmpeg, ['-version'], timeoutMs).catch(wrap(`ffmpeg ${ffmpeg}`)),
    run(ffmpeg, ['-hide_banner', '-encoders'], timeoutMs).catch(wrap(`ffmpeg ${ffmpeg}`)),
    run(ffmpeg, ['-hide_banner', '-muxers'], timeoutMs).catch(wrap(`ffmpeg ${ffmpeg}`)),
    run(ffmpeg, ['-hide_banner', '-filters'], timeoutMs).catch(wrap(`ffmpeg ${ffmpeg}`)),
    run(ffprobe, ['-version'], timeoutMs).catch(wrap(`ffprobe ${ffprobe}`)),
  ]);
  const ffmpegVersion = parseVersion(v.stdout);
  if (!ffmpegVersion || !/^\s*ffmpeg version/m.test(v.stdout)) throw new Error(`ffmpeg ${ffmpeg}: does not look like ffmpeg ("-version" printed no version)`);
  const ffprobeVersion = parseVersion(pv.stdout);
  if (!ffprobeVersion || !/^\s*ffprobe version/m.test(pv.stdout)) throw new Error(`ffprobe ${ffprobe}: does not look like ffprobe ("-version" printed no version)`);
  const encoders = parseEncoders(enc.stdout);
  if (encoders.size === 0) throw new Error(`ffmpeg ${ffmpeg}: "-encoders" listed no encoders`);
  return { ffmpegVersion, ffprobeVersion, encoders, muxers: parseMuxers(mux.stdout), filters: parseFilters(fil.stdout) };
}

/**
 * Capabilities of engines already interrogated, kept on disk so that each run (every `medley process`,
 * every server start) does not spawn ffmpeg five times. An entry is keyed by both binaries' real paths
 * and is valid only while their size and mtime are unchanged (an upgraded binary is interrogated again).
 * The file lives in $XDG_CACHE_HOME/medley (else $HOME/.cache/medley); when neither is set, or the
 * file cannot be read or written, engines are simply interrogated as before.
 */
const CACHE_VERSION = 1;

interface CachedCapabilities {
  stamp: string;
  ffmpegVersion: string;
  ffprobeVersion: string;
  encoders: string[];
  muxers: string[];
  filters: string[];
}

export function engineCacheFile(env: NodeJS.ProcessEnv): string | undefined {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'medley', 'engines.json');
  const home = env.HOME;
  if (home && isAbsolute(home)) return join(home, '.cache', 'medley', 'engines.json');
  return undefined;
}

async function binaryStamp(ffmpeg: string, ffprobe: string): Promise<{ key: string; stamp: string } | undefined> {
  try {
    const [a, b] = await Promise.all([realpath(ffmpeg), realpath(ffprobe)]);
    const [sa, sb] = await Promise.all([stat(a), stat(b)]);
    return { key: `${a}\0${b}`, stamp: `${sa.size}:${sa.mtimeMs}:${sb.size}:${sb.mtimeMs}` };
  } catch {
    return undefined;
  }
}

async function readCache(file: string): Promise<Record<string, CachedCapabilities>> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as { version?: unknown; engines?: unknown };
    if (data.version !== CACHE_VERSION || typeof data.engines !== 'object' || data.engines === null) return {};
    return data.engines as Record<string, CachedCapabilities>;
  } catch {
    return {};
  }
}

function fromCache(c: CachedCapabilities | undefined, stamp: string): EngineCapabilities | undefined {
  if (!c || c.stamp !== stamp || !Array.isArray(c.encoders) || c.encoders.length === 0 || !Array.isArray(c.muxers) || !Array.isArray(c.filters)) return undefined;
  if (typeof c.ffmpegVersion !== 'string' || typeof c.ffprobeVersion !== 'string') return undefined;
  return { ffmpegVersion: c.ffmpegVersion, ffprobeVersion: c.ffprobeVersion, encoders: new Set(c.encoders), muxers: new Set(c.muxers), filters: new Set(c.filters) };
}

async function writeCache(file: string, engines: Record<string, CachedCapabilities>): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    // Whole-file replace (temp + rename): concurrent runs never read a half-written file.
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: CACHE_VERSION, engines }), { mode: 0o600 });
    await rename(tmp, file);
  } catch {
    // A read-only or missing home: the cache is an optimisation only.
  }
}

interface Pair {
  ffmpeg: string | undefined;
  ffprobe: string | undefined;
  source: EngineSource;
}

/** Candidates in priority order (config, PATH, bundled), each run and described; unusable ones dropped. */
export async function locateEngines(opts: LocateOptions): Promise<EngineCandidate[]> {
  const [pathFfmpeg, pathFfprobe] = await Promise.all([findOnPath('ffmpeg', opts.env), findOnPath('ffprobe', opts.env)]);
  const bundledFfmpeg = bundled('@ffmpeg-installer/ffmpeg');
  const bundledFfprobe = bundled('ffprobe-static');

  const pairs: Pair[] = [];
  if (opts.ffmpeg !== undefined || opts.ffprobe !== undefined) {
    // The configured half wins; the other half is its sibling, else the PATH one, else the bundled one.
    const sibling = async (of: string | undefined, name: string): Promise<string | undefined> => {
      if (of === undefined) return undefined;
      const p = join(dirname(of), name + exe);
      return (await isExecutableFile(p)) ? p : undefined;
    };
    pairs.push({
      source: 'config',
      ffmpeg: opts.ffmpeg ?? (await sibling(opts.ffprobe, 'ffmpeg')) ?? pathFfmpeg ?? bundledFfmpeg,
      ffprobe: opts.ffprobe ?? (await sibling(opts.ffmpeg, 'ffprobe')) ?? pathFfprobe ?? bundledFfprobe,
    });
  }
  if (pathFfmpeg !== undefined) pairs.push({ source: 'path', ffmpeg: pathFfmpeg, ffprobe: pathFfprobe ?? bundledFfprobe });
  if (bundledFfmpeg !== undefined) pairs.push({ source: 'bundled', ffmpeg: bundledFfmpeg, ffprobe: bundledFfprobe ?? pathFfprobe });

  const timeoutMs = opts.timeoutMs ?? PROBE_TIMEOUT_MS;
  const cacheFile = engineCacheFile(opts.env);
  const cache = cacheFile ? await readCache(cacheFile) : {};
  let cacheChanged = false;
  const results = await Promise.all(
    pairs.map(async (p): Promise<EngineCandidate | DroppedEngine> => {
      const base = { ffmpeg: p.ffmpeg ?? '', ffprobe: p.ffprobe ?? '', source: p.source };
      if (p.ffmpeg === undefined) return { ...base, reason: 'no ffmpeg binary found to pair with the configured ffprobe' };
      if (p.ffprobe === undefined) return { ...base, reason: `no ffprobe binary found to pair with ffmpeg ${p.ffmpeg}` };
      try {
        const id = cacheFile ? await binaryStamp(p.ffmpeg, p.ffprobe) : undefined;
        const cached = id ? fromCache(cache[id.key], id.stamp) : undefined;
        if (cached) return { ...base, capabilities: cached };
        const capabilities = await probeCapabilities(p.ffmpeg, p.ffprobe, timeoutMs);
        if (id) {
          // Only engines that answered are remembered: a failing one is tried again next run.
          cache[id.key] = { stamp: id.stamp, ffmpegVersion: capabilities.ffmpegVersion, ffprobeVersion: capabilities.ffprobeVersion, encoders: [...capabilities.encoders], muxers: [...capabilities.muxers], filters: [...capabilities.filters] };
          cacheChanged = true;
        }
        return { ...base, capabilities };
      } catch (e) {
        return { ...base, reason: e instanceof Error ? e.message : String(e) };
      }
    }),
  );

  if (cacheFile && cacheChanged) await writeCache(cacheFile, cache);

  const out: EngineCandidate[] = [];
  const seen = new Set<string>();
  for (const r of results) {
    if ('reason' in r) {
      opts.onDropped?.(r);
      continue;
    }
    const key = `${await realpath(r.ffmpeg).catch(() => r.ffmpeg)}\0${await realpath(r.ffprobe).catch(() => r.ffprobe)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}

/** What `needs` asks for that `c` lacks, as "encoder libfdk_aac" phrases. */
export function missingCapabilities(c: EngineCandidate, needs: EngineNeeds): string[] {
  const caps = c.capabilities;
  return [
    ...needs.encoders.filter((n) => !caps.encoders.has(n)).map((n) => `encoder ${n}`),
    ...(needs.muxers ?? []).filter((n) => !caps.muxers.has(n)).map((n) => `muxer ${n}`),
    ...(needs.filters ?? []).filter((n) => !caps.filters.has(n)).map((n) => `filter ${n}`),
  ];
}

/** The first candidate that has everything needed; else MediaEngineUnsupported naming what is missing. */
export function chooseEngine(candidates: readonly EngineCandidate[], needs: EngineNeeds, dropped: readonly DroppedEngine[] = []): EngineCandidate {
  const lacks: string[] = [];
  for (const c of candidates) {
    const missing = missingCapabilities(c, needs);
    if (missing.length === 0) return c;
    lacks.push(`${c.source} ffmpeg ${c.capabilities.ffmpegVersion} (${c.ffmpeg}) lacks ${missing.join(', ')}`);
  }
  const wanted = [...needs.encoders.map((n) => `encoder ${n}`), ...(needs.muxers ?? []).map((n) => `muxer ${n}`), ...(needs.filters ?? []).map((n) => `filter ${n}`)];
  const unusable = dropped.map((d) => `${d.source} ${d.ffmpeg || d.ffprobe || '(none)'}: ${d.reason}`);
  if (candidates.length === 0) {
    fail(
      'MediaEngineUnsupported',
      `No usable FFmpeg was found (needed ${wanted.join(', ') || 'any engine'})${unusable.length ? `; looked at: ${unusable.join('; ')}` : ''}. Set MEDLEY_FFMPEG / MEDLEY_FFPROBE or install ffmpeg.`,
    );
  }
  const perEngine = candidates.map((c) => new Set(missingCapabilities(c, needs)));
  const everywhere = wanted.filter((w) => perEngine.every((m) => m.has(w)));
  const what = everywhere.length ? `no FFmpeg has ${everywhere.join(', ')}` : `no single FFmpeg has all of ${wanted.join(', ')}`;
  fail('MediaEngineUnsupported', `The media engine cannot produce the requested output: ${what}; looked at: ${[...lacks, ...unusable].join('; ')}`);
}
