/**
 * The media engine facade used by the server, workers and CLI: locate FFmpeg once at start, then probe
 * inputs and run planned argv on an engine that has what the plan needs.
 */
import type { MediaInfo } from '../media-info.js';
import { DEFAULT_MEDIA_LIMITS, type MediaLimits } from '../limits.js';
import { chooseEngine, locateEngines, type DroppedEngine, type EngineCandidate, type EngineNeeds, type EngineSource } from './locate.js';
import { probe, probeDetailed, type ProbeOptions } from './probe.js';
import { runFfmpeg, type RunFfmpegOptions } from './run.js';
import { engineBinaryFor, shareWithEngine, UNCONFINED, type EngineSandbox } from './sandbox.js';

export { FORMAT_WHITELIST, assertSafeArgv, inputArgs, runFfmpeg } from './run.js';
export { chooseEngine, locateEngines } from './locate.js';
export { parseProbeJson, probe } from './probe.js';
export type { DroppedEngine, EngineCandidate, EngineNeeds, EngineSource, RunFfmpegOptions };

export interface MediaEngineOptions {
  /** Configured ffmpeg / ffprobe (config.ffmpeg / config.ffprobe). */
  ffmpeg?: string;
  ffprobe?: string;
  /** For PATH lookup. */
  env: NodeJS.ProcessEnv;
  /** Source and output bounds (config MEDLEY_MAX_*); unset ones take DEFAULT_MEDIA_LIMITS. */
  limits?: Partial<MediaLimits>;
  /** User, limits and environment of every engine child (default: none but the minimal environment). */
  sandbox?: EngineSandbox;
  /** Told when an engine binary cannot be confined as well as intended. */
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

export interface EngineDescription {
  engines: Array<{ ffmpeg: string; ffprobe: string; version: string; ffprobeVersion: string; source: EngineSource; encoders: string[] }>;
  dropped: DroppedEngine[];
}

export class MediaEngine {
  private constructor(
    /** Usable engines in priority order. */
    readonly candidates: readonly EngineCandidate[],
    /** Engines that were found but could not be used, with the reason. */
    readonly dropped: readonly DroppedEngine[],
    /** What jobs run on this engine may read and produce (src/media/limits.ts). */
    readonly limits: Readonly<MediaLimits> = DEFAULT_MEDIA_LIMITS,
    /** How engine children are confined (sandbox.ts). */
    readonly sandbox: EngineSandbox = UNCONFINED,
  ) {}

  /** Locates and probes engines. Does not throw when none is usable: probe/run then fail with MediaEngineUnsupported. */
  static async start(opts: MediaEngineOptions): Promise<MediaEngine> {
    const dropped: DroppedEngine[] = [];
    const located = await locateEngines({ ...opts, onDropped: (d) => dropped.push(d) });
    const sandbox = opts.sandbox ?? UNCONFINED;
    // Under another user the binaries must be executable by it (copies when they are not, e.g. under /root).
    const candidates: EngineCandidate[] = [];
    for (const c of located) {
      try {
        candidates.push({ ...c, ffmpeg: await engineBinaryFor(c.ffmpeg, sandbox, opts.log), ffprobe: await engineBinaryFor(c.ffprobe, sandbox, opts.log) });
      } catch (e) {
        dropped.push({ ffmpeg: c.ffmpeg, ffprobe: c.ffprobe, source: c.source, reason: e instanceof Error ? e.message : String(e) });
      }
    }
    return new MediaEngine(candidates, dropped, { ...DEFAULT_MEDIA_LIMITS, ...definedOnly(opts.limits ?? {}) }, sandbox);
  }

  get available(): boolean {
    return this.candidates.length > 0;
  }

  /** The engine used for `needs` (MediaEngineUnsupported naming what is missing). */
  choose(needs: EngineNeeds): EngineCandidate {
    return chooseEngine(this.candidates, needs, this.dropped);
  }

  /**
   * Probes a local file with the preferred engine's ffprobe. With `identity` (a name for the file's exact
   * bytes, e.g. a stored object's immutable blob ids) a successful probe is remembered, and a file of the
   * same identity is answered from memory: the same bytes probe alike (the checks included), so a source
   * processed by several tasks is probed once. Failures are never remembered.
   */
  async probe(file: string, displayName?: string, opts: Omit<ProbeOptions, 'displayName'> & { identity?: string } = {}): Promise<MediaInfo> {
    // With no usable engine, chooseEngine throws MediaEngineUnsupported listing what was looked at.
    const engine = this.candidates[0] ?? chooseEngine([], { encoders: [] }, this.dropped);
    const { identity, ...probeOpts } = opts;
    // Handed to the engine user first, answered from memory or not: FFmpeg reads the file next.
    await shareWithEngine(file, this.sandbox);
    const key = identity !== undefined && !probeOpts.ownOutput ? `${engine.ffprobe}\0${identity}` : undefined;
    const known = key !== undefined ? this.probeCache.get(key) : undefined;
    if (known) return structuredClone(known);
    const info = await probe(engine.ffprobe, file, { ...probeOpts, sandbox: this.sandbox, displayName: displayName ?? file });
    if (key !== undefined) this.probeCache.set(key, structuredClone(info));
    return info;
  }

  /** Successful source probes by identity (see probe), the most recently used last. */
  private readonly probeCache = new LruMap<string, MediaInfo>(PROBE_CACHE_ENTRIES);

  /** As `probe`, plus ffprobe's raw `-show_format -show_streams` JSON (OSS video/info, audio/info). */
  async probeDetailed(file: string, displayName?: string, opts: Omit<ProbeOptions, 'displayName'> = {}): Promise<{ info: MediaInfo; json: unknown }> {
    const engine = this.candidates[0] ?? chooseEngine([], { encoders: [] }, this.dropped);
    await shareWithEngine(file, this.sandbox);
    return probeDetailed(engine.ffprobe, file, { ...opts, sandbox: this.sandbox, displayName: displayName ?? file });
  }

  /** Told the wall-clock seconds of every FFmpeg run and whether it succeeded (metrics: medley_ffmpeg_run_seconds). */
  onRun?: (seconds: number, ok: boolean) => void;

  /** Runs planned argv on the first engine that has `needs`. */
  async run(needs: EngineNeeds, opts: Omit<RunFfmpegOptions, 'ffmpeg'>): Promise<{ stderrTail: string; outTimeSec?: number; engine: EngineCandidate }> {
    const engine = this.choose(needs);
    const t0 = performance.now();
    let ok = false;
    try {
      const r = await runFfmpeg({ ...opts, sandbox: this.sandbox, ffmpeg: engine.ffmpeg });
      ok = true;
      return { ...r, engine };
    } finally {
      this.onRun?.((performance.now() - t0) / 1000, ok);
    }
  }

  /** For /-/health, `medley doctor` and logs. */
  describe(): EngineDescription {
    return {
      engines: this.candidates.map((c) => ({
        ffmpeg: c.ffmpeg,
        ffprobe: c.ffprobe,
        version: c.capabilities.ffmpegVersion,
        ffprobeVersion: c.capabilities.ffprobeVersion,
        source: c.source,
        encoders: [...c.capabilities.encoders].sort(),
      })),
      dropped: [...this.dropped],
    };
  }
}


/** How many source probes the engine remembers (a few hundred bytes each). */
const PROBE_CACHE_ENTRIES = 512;

/** A Map that forgets its least recently used entry beyond `max` entries. */
class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
