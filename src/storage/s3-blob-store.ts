/**
 * The BlobStore on an S3-compatible object store (MinIO, Ceph RGW, AWS S3, OSS's S3 endpoint), for
 * installs that spread over several machines. Blobs keep their generated ids: object `<prefix><id>` in
 * one bucket. Bodies stream both ways: a write goes through `@aws-sdk/lib-storage`'s multipart Upload
 * (at most `queueSize` parts of `partSize` bytes in memory, whatever the object size), a ranged read is a
 * ranged GetObject. Digests (MD5, CRC-64) are computed upstream while streaming, as for the local store.
 *
 * Errors: a blob the store does not have rejects with `code: 'ENOENT'` (as the local store does); a
 * store that cannot be reached, or that fails, is `BlobStoreUnavailable` (503) naming the blob id.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { PassThrough, type Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { MedleyError } from '../errors.js';
import { STREAM_CHUNK, type BlobStore, type BlobWriter } from './blob-store.js';

export interface S3BlobStoreOptions {
  /** `http(s)://host:port`; undefined = the SDK's AWS endpoint for the region. */
  endpoint?: string;
  bucket: string;
  /** Prepended to every blob id (e.g. `medley/blobs/`). */
  prefix: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style addressing (`<endpoint>/<bucket>/<key>`), as MinIO and s3rver need. */
  forcePathStyle: boolean;
  /** PEM file of CA certificates to trust for an https endpoint (a private CA). */
  caBundle?: string;
  /** Multipart part size for large writes (bytes, ≥ 5 MiB). */
  partSize?: number;
  /** Parts uploaded at once per write. */
  queueSize?: number;
}

const ID_PATTERN = /^[0-9a-f]{32}$/;
const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const DEFAULT_QUEUE_SIZE = 2;

/** The error names the SDK gives a key that is not there. */
function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.Code === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404;
}

function notFound(id: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`blob ${id} is not in the object store`);
  e.code = 'ENOENT';
  return e;
}

function unavailable(what: string, id: string | undefined, e: unknown): MedleyError {
  const why = e instanceof Error ? e.message : String(e);
  return new MedleyError('BlobStoreUnavailable', `The blob store could not ${what}${id ? ` blob ${id}` : ''}: ${why}`);
}

export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  /** Multipart part size of writes (bytes): `medley migrate` derives the expected multipart ETag from it. */
  readonly partSize: number;
  private readonly queueSize: number;

  constructor(private readonly opts: S3BlobStoreOptions) {
    const config: S3ClientConfig = {
      region: opts.region,
      forcePathStyle: opts.forcePathStyle,
      // Checksums only where S3 requires them: the SDK's default (a CRC32 trailer in aws-chunked bodies)
      // is not understood by every S3-compatible server, and integrity is ours (MD5 + CRC-64 upstream).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    };
    if (opts.endpoint) config.endpoint = opts.endpoint;
    if (opts.accessKeyId && opts.secretAccessKey) config.credentials = { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey };
    // Bounded waits: an unreachable store fails the request (503) instead of hanging it.
    config.requestHandler = {
      connectionTimeout: 5000,
      requestTimeout: 60_000,
      ...(opts.caBundle ? { httpsAgent: new HttpsAgent({ ca: readFileSync(opts.caBundle), keepAlive: true }) } : {}),
    };
    this.client = new S3Client(config);
    this.partSize = Math.max(5 * 1024 * 1024, opts.partSize ?? DEFAULT_PART_SIZE);
    this.queueSize = Math.max(1, opts.queueSize ?? DEFAULT_QUEUE_SIZE);
  }

  private keyOf(id: string): string {
    // Ids are generated here; refuse anything else so no caller can steer a key.
    if (!ID_PATTERN.test(id)) throw new Error(`invalid blob id ${JSON.stringify(id)}`);
    return this.opts.prefix + id;
  }

  async create(): Promise<BlobWriter> {
    return this.createAt(randomBytes(16).toString('hex'));
  }

  /** A writer for a blob whose id is already chosen (`medley migrate` copies blobs under their ids). */
  async createAt(id: string): Promise<BlobWriter> {
    const key = this.keyOf(id);
    const stream = new PassThrough({ highWaterMark: STREAM_CHUNK });
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.opts.bucket, Key: key, Body: stream, ContentType: 'application/octet-stream' },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    // Started now, so bytes flow to the store as they arrive; a failed upload breaks the writer's pipe
    // at once instead of leaving the writer stuck on backpressure.
    const done = upload.done().then(
      () => undefined,
      (e: unknown) => {
        const err = unavailable('store', id, e);
        stream.destroy(err);
        throw err;
      },
    );
    done.catch(() => undefined);
    let discarded = false;
    return {
      id,
      stream,
      // S3 acknowledges a PutObject / CompleteMultipartUpload only once the object is durable.
      finish: () => done,
      discard: async () => {
        if (discarded) return;
        discarded = true;
        stream.destroy();
        await upload.abort().catch(() => undefined);
        await done.catch(() => undefined);
        await this.remove(id).catch(() => undefined);
      },
    };
  }

  async open(id: string, start?: number, end?: number): Promise<Readable> {
    const range = start === undefined && end === undefined ? undefined : `bytes=${start ?? 0}-${end ?? ''}`;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.keyOf(id), Range: range }));
      return r.Body as Readable;
    } catch (e) {
      if (isNotFound(e)) throw notFound(id);
      throw unavailable('read', id, e);
    }
  }

  /** Size and ETag (unquoted) of a stored blob, or undefined when the store does not have it. */
  async stat(id: string): Promise<{ size: number; etag: string } | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: this.keyOf(id) }));
      return { size: r.ContentLength ?? 0, etag: (r.ETag ?? '').replace(/"/g, '') };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw unavailable('inspect', id, e);
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: this.keyOf(id) }));
    } catch (e) {
      if (isNotFound(e)) return;
      throw unavailable('remove', id, e);
    }
  }

  async *list(): AsyncIterable<{ id: string; mtimeMs: number }> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: this.opts.prefix, ContinuationToken: token }));
      } catch (e) {
        throw unavailable('list', undefined, e);
      }
      for (const o of page.Contents ?? []) {
        const id = (o.Key ?? '').slice(this.opts.prefix.length);
        if (ID_PATTERN.test(id)) yield { id, mtimeMs: o.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Closes the client's sockets. */
  close(): void {
    this.client.destroy();
  }
}
