/**
 * BlobStore: where object bytes live, under generated ids — never under a path derived from a key.
 * The seam is stream-shaped, so every backend implements it the same way: `create()` hands out a
 * Writable and a `finish()` that makes the bytes durable, `open()` a Readable of a byte range once the
 * bytes are there. The local-disk implementation (this file) lays blobs out as <root>/ab/cd/<id>; the
 * S3-compatible one (s3-blob-store.ts) keeps them as <prefix><id> in a bucket.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

/** Stream buffer size: big enough for few syscalls, small enough that many concurrent transfers stay lean. */
export const STREAM_CHUNK = 256 * 1024;
/** Ranges up to this size are read in one call rather than streamed. */
const SMALL_READ = 64 * 1024;
import { Readable, type Writable } from 'node:stream';

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

export class FsBlobStore implements BlobStore {
  constructor(
    private readonly root: string,
    private readonly fsync: boolean,
  ) {}

  private pathOf(id: string): string {
    // Ids are generated here; refuse anything else so no caller can steer a path.
    if (!ID_PATTERN.test(id)) throw new Error(`invalid blob id ${JSON.stringify(id)}`);
    return join(this.root, id.slice(0, 2), id.slice(2, 4), id);
  }

  async create(): Promise<BlobWriter> {
    const id = randomBytes(16).toString('hex');
    const path = this.pathOf(id);
    await mkdir(join(this.root, id.slice(0, 2), id.slice(2, 4)), { recursive: true });
    const stream = createWriteStream(path, { flags: 'wx', highWaterMark: STREAM_CHUNK });
    const fsync = this.fsync;
    let discarded = false;
    return {
      id,
      stream,
      async finish() {
        if (!fsync) return;
        // The bytes, then the directory entry that names them: both must be on disk before the index
        // row that points at the blob is committed.
        for (const target of [path, dirname(path)]) {
          const fh = await open(target, 'r');
          try {
            await fh.sync();
          } finally {
            await fh.close();
          }
        }
      },
      async discard() {
        if (discarded) return;
        discarded = true;
        stream.destroy();
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
