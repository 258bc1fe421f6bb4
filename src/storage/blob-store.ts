/**
 * BlobStore: where object bytes live, under generated ids — never under a path derived from a key.
 * The seam is stream-shaped, so every backend implements it the same way: `create()` hands out a
 * Writable and a `finish()` that makes the bytes durable, `open()` a Readable of a byte range once the
 * bytes are there. The local-disk implementation (this file) lays blobs out as <root>/ab/cd/<id>; the
 * S3-compatible one (s3-blob-store.ts) keeps them as <prefix><id> in a bucket.
 */
import fs from 'node:fs';
import { mkdir, open, readdir, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Coalescer } from '../util/coalesce.js';
import { syncPath } from '../util/fsync.js';

/** Stream buffer size: big enough for few syscalls, small enough that many concurrent transfers stay lean. */
export const STREAM_CHUNK = 256 * 1024;
/** Ranges up to this size are read in one call rather than streamed. */
const SMALL_READ = 64 * 1024;
/**
 * Read size of a streamed download. Bigger reads mean fewer thread-pool round trips and socket writes;
 * the buffers are reused (see FileRangeStream.sendTo), so the size costs no garbage.
 */
const READ_CHUNK = 1024 * 1024;
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

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
    const stream = new FileSink(fh, this.fsync ? EARLY_SYNC_BYTES : 0);
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
          await stream.settleEarlySync();
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
        await stream.settleEarlySync().catch(() => undefined);
        await close().catch(() => undefined);
        await rm(path, { force: true });
      },
    };
  }

  async open(id: string, start?: number, end?: number): Promise<Readable> {
    const from = start ?? 0;
    if (end !== undefined && end - from + 1 <= SMALL_READ) {
      // A small range is one read: open, pread, close, no stream machinery and no extra end-of-file read
      // on the thread pool. Same errors as the stream (ENOENT on open).
      return new BufferedBody(await readRange(this.pathOf(id), from, Math.max(0, end - from + 1)));
    }
    const fh = await open(this.pathOf(id), 'r');
    let last = end;
    if (last === undefined) {
      try {
        last = (await fh.stat()).size - 1;
      } catch (e) {
        await fh.close().catch(() => undefined);
        throw e;
      }
    }
    return new FileRangeStream(fh, from, last);
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
 * Download buffers. A download reads into two buffers of READ_CHUNK bytes while at most BIG_BUFFER_SENDS
 * downloads are in flight, of SMALL_READ_CHUNK bytes beyond that: one or two downloads get the big reads
 * a single fast client needs, and many concurrent ones (each slower) do not add 2 MiB of memory apiece.
 * Free buffers are kept for the next download, so a steady stream of GETs allocates nothing.
 */
const SMALL_READ_CHUNK = 256 * 1024;
const BIG_BUFFER_SENDS = 2;
const MAX_FREE_BUFFERS = 16;
const freeBuffers = new Map<number, Buffer[]>([
  [READ_CHUNK, []],
  [SMALL_READ_CHUNK, []],
]);
let sendsInFlight = 0;
const takeBuffer = (size: number): Buffer => freeBuffers.get(size)!.pop() ?? Buffer.allocUnsafeSlow(size);
const giveBuffer = (b: Buffer): void => {
  const free = freeBuffers.get(b.length)!;
  if (free.length < MAX_FREE_BUFFERS) free.push(b);
};

/**
 * Bytes [pos, last] of an open blob file. As a Readable (any consumer), each read is a fresh buffer. The
 * download path uses sendTo() instead (through sendStream), which reads into two reused buffers: a new
 * 1 MiB buffer per read is external memory V8 answers with full garbage collections, which on a 1 GiB GET
 * cost the server more CPU than the transfer itself (measured: 1.7 s against 0.4 s for a bare server).
 */
export class FileRangeStream extends Readable {
  private sending = false;
  constructor(
    private readonly fh: FileHandle,
    private pos: number,
    private readonly last: number,
  ) {
    super({ highWaterMark: READ_CHUNK });
  }

  override _read(): void {
    const want = Math.min(READ_CHUNK, this.last - this.pos + 1);
    if (want <= 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(want);
    this.fh.read(buf, 0, want, this.pos).then(({ bytesRead }) => {
      if (bytesRead === 0) {
        this.push(null);
        return;
      }
      this.pos += bytesRead;
      this.push(bytesRead < want ? buf.subarray(0, bytesRead) : buf);
    }, (e: Error) => this.destroy(e));
  }

  override _destroy(err: Error | null, done: (e?: Error | null) => void): void {
    this.fh.close().then(() => done(err), () => done(err));
  }

  /**
   * Writes the rest of the range into `dest` and ends it, then closes this stream. Two buffers: one is
   * read into while the other is with the socket; a buffer is reused only once its write has completed
   * (the write callback), so at most two are in flight and nothing is copied.
   */
  async sendTo(dest: Writable): Promise<void> {
    if (this.sending || this.readableFlowing !== null) throw new Error('FileRangeStream.sendTo: the stream is already being consumed');
    this.sending = true;
    const size = ++sendsInFlight <= BIG_BUFFER_SENDS ? READ_CHUNK : SMALL_READ_CHUNK;
    const bufs = [takeBuffer(size), takeBuffer(size)];
    const pending: Array<Promise<void> | undefined> = [undefined, undefined];
    let failed = false;
    const write = (chunk: Buffer) =>
      new Promise<void>((resolve, reject) => {
        dest.write(chunk, (e) => (e ? reject(e) : resolve()));
      });
    try {
      for (let i = 0; this.pos <= this.last; i ^= 1) {
        await pending[i];
        if (dest.destroyed) throw new Error('the destination closed before the download ended');
        const want = Math.min(size, this.last - this.pos + 1);
        const { bytesRead } = await this.fh.read(bufs[i]!, 0, want, this.pos);
        if (bytesRead === 0) break;
        this.pos += bytesRead;
        const p = write(bufs[i]!.subarray(0, bytesRead));
        p.catch(() => undefined); // awaited on the next turn (or below)
        pending[i] = p;
      }
      await Promise.all(pending);
      await endAndWait(dest);
    } catch (e) {
      failed = true;
      dest.destroy();
      throw e;
    } finally {
      sendsInFlight--;
      // After a failure a buffer may still be referenced by a cancelled write: leave those to the GC.
      if (!failed) for (const b of bufs) giveBuffer(b);
      this.destroy();
    }
  }
}

/**
 * A body already in memory (a small range, an inline blob): a Readable for any consumer, and one
 * `end(bytes)` for the download path (sendStream) — no stream pipeline for a few KiB.
 */
export class BufferedBody extends Readable {
  constructor(readonly bytes: Buffer) {
    super();
  }

  override _read(): void {
    if (this.bytes.length > 0) this.push(this.bytes);
    this.push(null);
  }
}

/**
 * Streams `body` into `dest` (ending it): blob files with reused buffers, bytes in memory in one write,
 * anything else by pipeline. `body` is destroyed (closed) once it is sent or the send failed.
 */
export function sendStream(body: Readable, dest: Writable): Promise<void> {
  if (body instanceof FileRangeStream) return body.sendTo(dest);
  if (body instanceof BufferedBody) {
    return endAndWait(dest, body.bytes).finally(() => body.destroy());
  }
  return pipeline(body, dest);
}

/**
 * Ends `dest` (with a last chunk) and resolves once it finished; rejects if it failed or closed first (a
 * client that went away), so a sender never waits for a 'finish' that will not come.
 */
function endAndWait(dest: Writable, last?: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (e?: Error) => {
      dest.off('finish', onFinish);
      dest.off('error', settle);
      dest.off('close', onClose);
      if (e) reject(e);
      else resolve();
    };
    const onFinish = () => settle();
    const onClose = () => settle(dest.writableFinished ? undefined : new Error('the destination closed before the download ended'));
    if (dest.destroyed) return reject(new Error('the destination closed before the download ended'));
    dest.once('finish', onFinish);
    dest.once('error', settle);
    dest.once('close', onClose);
    if (last) dest.end(last);
    else dest.end();
  });
}

/** Up to `want` bytes of a file from `from`: open, pread(s), close, with the callback API (no FileHandle). */
function readRange(path: string, from: number, want: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    fs.open(path, 'r', (err, fd) => {
      if (err) return reject(err);
      const buf = Buffer.allocUnsafe(want);
      const finish = (e: Error | null, got: number) => fs.close(fd, () => (e ? reject(e) : resolve(buf.subarray(0, got))));
      const step = (got: number) => {
        if (got >= want) return finish(null, got);
        fs.read(fd, buf, got, want - got, from + got, (e, n) => (e ? finish(e, got) : n === 0 ? finish(null, got) : step(got + n)));
      };
      step(0);
    });
  });
}

/**
 * A big blob is flushed to disk while it is still arriving: after every EARLY_SYNC_BYTES written, one
 * fdatasync runs on the thread pool (never more than one at a time, never waited for by the writes), so the
 * fsync that makes the blob durable in finish() has only the last few MiB left to write instead of the whole
 * body (measured: 1 GiB, the final fsync 450 ms → 15 ms). It changes when bytes reach the disk, not what is
 * acknowledged: finish() still ends with a full fsync, and an early sync's error fails the upload (after a
 * failed fsync, Linux may mark the pages clean, so a later fsync would succeed over lost data).
 */
const EARLY_SYNC_BYTES = 32 * 1024 * 1024;

/**
 * Writes into an open file: each batch of chunks is one writev on the thread pool (the file stays open
 * for the fsync in finish(), so no second open/close).
 */
class FileSink extends Writable {
  private unsynced = 0;
  private earlySync: Promise<void> | undefined;
  private earlySyncError: Error | undefined;

  /** `syncEvery`: bytes between early fdatasyncs (0 = none: fsync is off). */
  constructor(
    private readonly fh: FileHandle,
    private readonly syncEvery: number,
  ) {
    super({ highWaterMark: STREAM_CHUNK });
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: (e?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    const bytes = buffers.reduce((n, b) => n + b.length, 0);
    writeAll(this.fh, buffers).then(() => this.wrote(bytes, done), done);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    writeAll(this.fh, [chunk]).then(() => this.wrote(chunk.length, done), done);
  }

  /** Waits for an early sync in flight; rethrows the error of any that failed. */
  async settleEarlySync(): Promise<void> {
    await this.earlySync;
    if (this.earlySyncError) throw this.earlySyncError;
  }

  private wrote(bytes: number, done: (e?: Error | null) => void): void {
    if (this.earlySyncError) return done(this.earlySyncError);
    if (this.syncEvery > 0 && (this.unsynced += bytes) >= this.syncEvery && !this.earlySync) {
      this.unsynced = 0;
      this.earlySync = this.fh.datasync().then(
        () => void (this.earlySync = undefined),
        (e: Error) => {
          this.earlySyncError = e;
          this.earlySync = undefined;
        },
      );
    }
    done();
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
