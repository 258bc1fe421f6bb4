/**
 * The free-disk reserve (MEDLEY_MIN_FREE_DISK). Free space on the data volume is sampled in the background
 * (async statfs every second, never on the request path); while it is below the reserve, requests that add
 * data (object writes, media tasks, MNS messages) are refused with 503 naming the shortage, reads keep
 * working, and writes are accepted again as soon as a sample sees the space back — no restart.
 *
 * The reserve keeps room for what cannot be refused: SQLite's WAL and checkpoints, the task and message
 * bookkeeping of work already accepted, and running tasks' outputs. A write that still runs the disk full
 * (a single body bigger than what is left) fails with ENOSPC and is answered 503 too (errors.ts diskFullError).
 */
import { statfs } from 'node:fs/promises';
import { fail } from '../errors.js';
import { formatBytes, parseByteSize } from '../util/bytes.js';

export { formatBytes };

/** A parsed MEDLEY_MIN_FREE_DISK: a byte count, or a share of the volume's size. */
export type DiskReserve = { kind: 'bytes'; bytes: number } | { kind: 'percent'; percent: number };

/** The accepted spellings, for config validation and its message. */
export const DISK_RESERVE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;

/**
 * `0` (off), `1073741824`, `512MiB`, `2GB` (KB/MB/GB/TB are powers of 1000; K/M/G/T and KiB/MiB/GiB/TiB of 1024),
 * or `2%` of the volume. Returns undefined for anything else.
 */
export function parseDiskReserve(text: string): DiskReserve | undefined {
  const m = DISK_RESERVE_PATTERN.exec(text);
  if (m) {
    const percent = Number(m[1]);
    return percent < 100 ? { kind: 'percent', percent } : undefined;
  }
  const bytes = parseByteSize(text);
  return bytes === undefined ? undefined : { kind: 'bytes', bytes };
}

/** The reserve in bytes on a volume of `totalBytes`. */
export function reserveBytes(reserve: DiskReserve, totalBytes: number): number {
  return reserve.kind === 'bytes' ? reserve.bytes : Math.ceil((totalBytes * reserve.percent) / 100);
}


/** How the reserve was written, for messages: `1 GiB` or `2% of the volume (1.9 GiB)`. */
function describeReserve(reserve: DiskReserve, bytes: number): string {
  return reserve.kind === 'percent' ? `${reserve.percent}% of the volume (${formatBytes(bytes)})` : formatBytes(bytes);
}

export interface DiskSample {
  freeBytes: number;
  totalBytes: number;
  reserveBytes: number;
  /** Epoch ms of the statfs call. */
  sampledAt: number;
}

export interface DiskSpaceOptions {
  /** Any path on the data volume (the data directory). */
  path: string;
  reserve: DiskReserve;
  /** How often free space is sampled (default 1000 ms). */
  refreshMs?: number;
  /** Called each time a request is refused for the reserve (metrics). */
  onRefused?: () => void;
  /** Called when a sample fails (the last good sample stays in use). */
  onError?: (err: unknown) => void;
}

export class DiskSpace {
  private sample: DiskSample | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;

  constructor(private readonly opts: DiskSpaceOptions) {}

  /** Takes the first sample (so the reserve holds from the first request), then refreshes in the background. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer ??= setInterval(() => void this.refresh(), this.opts.refreshMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The latest sample; undefined before the first one succeeded. */
  get current(): DiskSample | undefined {
    return this.sample;
  }

  /** Samples now (coalesced with a sample already under way). */
  refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const s = await statfs(this.opts.path);
        const totalBytes = s.blocks * s.bsize;
        // bavail: what an unprivileged writer may use (root's reserved blocks are not ours to count on).
        this.sample = { freeBytes: s.bavail * s.bsize, totalBytes, reserveBytes: reserveBytes(this.opts.reserve, totalBytes), sampledAt: Date.now() };
      } catch (err) {
        this.opts.onError?.(err);
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  /** True unless the latest sample is below the reserve (no sample yet: writes are allowed). */
  get writable(): boolean {
    const s = this.sample;
    return s === undefined || s.freeBytes >= s.reserveBytes;
  }

  /** Throws InsufficientStorage (503) naming the shortage while free space is below the reserve. */
  assertWritable(): void {
    const s = this.sample;
    if (s === undefined || s.freeBytes >= s.reserveBytes) return;
    this.opts.onRefused?.();
    fail(
      'InsufficientStorage',
      `Free disk space ${formatBytes(s.freeBytes)} is below the reserve of ${describeReserve(this.opts.reserve, s.reserveBytes)} (MEDLEY_MIN_FREE_DISK): writes and new media tasks are refused until space is freed; reads still work.`,
    );
  }
}
