/**
 * BlobStore: where object bytes live, under generated ids — never under a path derived from a key.
 * The local-disk implementation lays blobs out as <root>/ab/cd/<id>. An S3-backed one can follow the
 * same interface for scale-out.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

/** Stream buffer size: big enough for few syscalls, small enough that many concurrent transfers stay lean. */
export const STREAM_CHUNK = 256 * 1024;
import type { Readable } from 'node:stream';

export interface BlobWriter {
  readonly id: string;
  /** The destination for the bytes; the caller pipes into it. */
  readonly stream: WriteStream;
  /** Makes the bytes durable (fsync) once the stream has finished. */
  finish(): Promise<void>;
  /** Removes whatever was written; safe to call more than once. */
  discard(): Promise<void>;
}

export interface BlobStore {
  create(): Promise<BlobWriter>;
  /** Reads bytes [start, end] inclusive of the blob. */
  read(id: string, start?: number, end?: number): Readable;
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

  read(id: string, start?: number, end?: number): Readable {
    return createReadStream(this.pathOf(id), { start, end, highWaterMark: STREAM_CHUNK });
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
