/**
 * BlobStore: where object bytes live, under generated ids — never under a path derived from a key.
 * The seam is stream-shaped, so every backend implements it the same way: `create()` hands out a
 * Writable and a `finish()` that makes the bytes durable, `open()` a Readable of a byte range once the
 * bytes are there. The local-disk implementation (this file) lays blobs out as <root>/ab/cd/<id>; the
 * S3-compatible one (s3-blob-store.ts) keeps them as <prefix><id> in a bucket.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Coalescer } from '../util/coalesce.js';
import { syncPath } from '../util/fsync.js';

/** Stream buffer size: big enough for few syscalls, small enough that many concurrent transfers stay lean. */
export const STREAM_CHUNK = 256 * 1024;
/** Ranges up to this size are read in one call rather than streamed. */
const SMALL_READ = 64 * 1024;
import { Readable, Writable } from 'node:stream';

export interface BlobWriter {
  readonly id: string;
  /** The destination for the bytes; the caller pipes into it. */
  readonly stream: Writable;
  /** Makes the bytes durable (fsync) once the stream has finished. */
  finish(): Promise<void>;
  /** Removes whatever was written; safe to call more than once. */
  discard(): Promise<void>;
}

export interface BlobStore {
  create(): Promise<BlobWriter>;
  /**
   * Bytes [start, end] (inclusive) of the blob, resolved once they can be read. A blob that does not
   * exist rejects with an error whose `code` is `ENOENT` (the same on every backend).
   */
  open(id: string, start?: number, end?: number): Promise<Readable>;
  remove(id: string): Promise<void>;
  /** Every stored id with its modification time, for the orphan sweep. */
  list(): AsyncIterable<{ id: string; mtimeMs: number }>;
}

const ID_PATTERN = /^[0-9a-f]{32}$/;
/** New blobs share one fan-out directory for this many blobs, then move on to another (see FsBlobStore). */
const BLOBS_PER_DIRECTORY_TURN = 1024;

export class FsBlobStore implements BlobStore {
  /** Fan-out directories known to exist (created by this process or found), so a blob costs no mkdir. */
  private readonly known = new Set<string>();
  /** One coalesced fsync per directory receiving new entries (see create). */
  private readonly dirSyncs = new Map<string, Coalescer>();
  private prefix = '';
  private prefixUses = 0;

  constructor(
    private readonly root: string,
    private readonly fsync: boolean,
  ) {}

  private pathOf(id: string): string {
    // Ids are generated here; refuse anything else so no caller can steer a path.
    if (!ID_PATTERN.test(id)) throw new Error(`invalid blob id ${JSON.stringify(id)}`);
    return join(this.root, id.slice(0, 2), id.slice(2, 4), id);
  }

  /**
   * A new id. Its first 4 hex digits (the <root>/ab/cd/ directory) stay the same for
   * BLOBS_PER_DIRECTORY_TURN blobs in a row, so concurrent writes land in one directory whose entries one
   * shared fsync makes durable, and the directory exists already; over time blobs still spread over all
   * 65,536 directories. The other 112 bits are random.
   */
  private newId(): string {
    if (this.prefixUses++ % BLOBS_PER_DIRECTORY_TURN === 0) this.prefix = randomBytes(2).toString('hex');
    return this.prefix + randomBytes(14).toString('hex');
  }

  /** Creates <root>/ab/cd once; with fsync, each new directory's entry is synced in its parent. */
  private async ensureDir(id: string): Promise<string> {
    const dir = join(this.root, id.slice(0, 2), id.slice(2, 4));
    if (this.known.has(dir)) return dir;
    let parent = this.root;
    for (const name of [id.slice(0, 2), id.slice(2, 4)]) {
      const d = join(parent, name);
      const created = await mkdir(d, { recursive: true });
      if (created !== undefined && this.fsync) await this.syncDir(parent);
      parent = d;
    }
    if (this.known.size >= 4096) this.known.clear();
    this.known.add(dir);
    return dir;
  }

  /** fsync of a directory, shared by every caller that arrives while one is in flight. */
  private async syncDir(dir: string): Promise<void> {
    let c = this.dirSyncs.get(dir);
    if (!c) {
      c = new Coalescer(() => syncPath(dir));
      this.dirSyncs.set(dir, c);
    }
    try {
      await c.run();
    } finally {
      if (c.idle && this.dirSyncs.get(dir) === c) this.dirSyncs.delete(dir);
    }
  }

  async create(): Promise<BlobWriter> {
    const id = this.newId();
    const path = this.pathOf(id);
    const dir = await this.ensureDir(id);
    const fh = await open(path, 'wx');
    // The directory entry exists from here on: its (shared) fsync runs while the bytes are written.
    const entrySynced = this.fsync ? this.syncDir(dir) : Promise.resolve();
    entrySynced.catch(() => undefined); // awaited (and reported) by finish()
    const stream = new FileSink(fh);
    let discarded = false;
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await fh.close();
    };
    return {
      id,
      stream,
      finish: async () => {
        // The bytes and the directory entry that names them must both be on disk before the index row
        // that points at the blob is committed. The file is synced through the descriptor that wrote it.
        try {
          if (this.fsync) await fh.sync();
        } finally {
          await close();
        }
        await entrySynced;
      },
      async discard() {
        if (discarded) return;
        discarded = true;
        stream.destroy();
        await close().catch(() => undefined);
        await rm(path, { force: true });
      },
    };
  }

  async open(id: string, start?: number, end?: number): Promise<Readable> {
    const from = start ?? 0;
    if (end !== undefined && end - from + 1 <= SMALL_READ) {
      // A small range (most objects are a few KiB) is one read: open, pread, close, no stream machinery
      // and no extra end-of-file read on the thread pool. Same errors as the stream (ENOENT on open).
      const fh = await open(this.pathOf(id), 'r');
      let buf: Buffer;
      try {
        const want = Math.max(0, end - from + 1);
        buf = Buffer.allocUnsafe(want);
        let got = 0;
        while (got < want) {
          const { bytesRead } = await fh.read(buf, got, want - got, from + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        buf = buf.subarray(0, got);
      } finally {
        await fh.close();
      }
      const r = new Readable({ read() {} });
      if (buf.length > 0) r.push(buf);
      r.push(null);
      return r;
    }
    const stream = createReadStream(this.pathOf(id), { start, end, highWaterMark: STREAM_CHUNK });
    return new Promise((resolve, reject) => {
      stream.once('ready', () => resolve(stream));
      stream.once('error', reject);
    });
  }

  async remove(id: string): Promise<void> {
    await unlink(this.pathOf(id)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  async *list(): AsyncIterable<{ id: string; mtimeMs: number }> {
    const level = async (dir: string) => readdir(dir).catch(() => [] as string[]);
    for (const a of await level(this.root)) {
      for (const b of await level(join(this.root, a))) {
        for (const id of await level(join(this.root, a, b))) {
          if (!ID_PATTERN.test(id)) continue;
          const s = await stat(join(this.root, a, b, id)).catch(() => undefined);
          if (s) yield { id, mtimeMs: s.mtimeMs };
        }
      }
    }
  }
}

/**
 * Writes into an open file: each batch of chunks is one writev on the thread pool (the file stays open
 * for the fsync in finish(), so no second open/close).
 */
class FileSink extends Writable {
  constructor(private readonly fh: FileHandle) {
    super({ highWaterMark: STREAM_CHUNK });
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: (e?: Error | null) => void): void {
    writeAll(this.fh, chunks.map((c) => c.chunk)).then(() => done(), done);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    writeAll(this.fh, [chunk]).then(() => done(), done);
  }
}

async function writeAll(fh: FileHandle, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    let { bytesWritten } = await fh.writev(rest);
    // A short write (rare on files): continue after what was written.
    const left: Buffer[] = [];
    for (const b of rest) {
      if (bytesWritten >= b.length) bytesWritten -= b.length;
      else {
        left.push(bytesWritten > 0 ? b.subarray(bytesWritten) : b);
        bytesWritten = 0;
      }
    }
    rest = left;
  }
}
