/**
 * Ingest: stream a request body into a new blob while hashing it (MD5 for the ETag and Content-MD5 check,
 * CRC-64 for x-oss-hash-crc64ecma), with size limits. Large bodies have their MD5 computed on a worker
 * thread (hashing.ts) on machines with cores to spare, so it does not serialise with the socket and the
 * disk; the pieces a body arrives in are collected promptly (body-garbage.ts). Memory stays bounded: bytes flow through one
 * transform into the file with backpressure; nothing is buffered whole except a small body of announced length
 * (at most INLINE_MAX_BYTES), which becomes an inline blob (inline-blobs.ts).
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { bodyBytesConsumed } from './body-garbage.js';
import { Crc64 } from './crc64.js';
import { OFF_THREAD_MIN_BYTES, OffThreadMd5, offThreadHashing } from './hashing.js';
import { STREAM_CHUNK, type BlobStore } from './blob-store.js';
import { INLINE_MAX_BYTES, newInlineBlobId } from './inline-blobs.js';
import { MedleyError, fail } from '../errors.js';

export interface IngestLimits {
  /** Content-Length announced by the client, when there was one. */
  expectedLength?: number;
  /** Refuse bodies larger than this with EntityTooLarge. */
  maxBytes: number;
  /** Base64 Content-MD5 the body must match (InvalidDigest otherwise). */
  contentMd5?: string;
  /**
   * May a small body of announced length become an inline blob (inline-blobs.ts)? Only for a blob that
   * is a whole object's only segment (PutObject): an inline segment among others (appends, parts) could
   * not be leased for a long read, so those stay in the blob store.
   */
  inline?: boolean;
}

export interface IngestedBlob {
  blobId: string;
  size: number;
  md5: Buffer;
  crc64: bigint;
  /** The bytes of an inline blob (inline-blobs.ts), to be stored with its row; undefined for a stored blob. */
  data?: Buffer;
}

class HashingCounter extends Transform {
  /** MD5 on this thread, or (large bodies, OFF_THREAD_MIN_BYTES) on the hashing worker. */
  readonly md5: Hash | undefined;
  readonly offThread: OffThreadMd5 | undefined;
  readonly crc = new Crc64();
  size = 0;
  constructor(
    private readonly maxBytes: number,
    expectedLength: number | undefined,
  ) {
    super({ highWaterMark: STREAM_CHUNK });
    if (expectedLength !== undefined && expectedLength >= OFF_THREAD_MIN_BYTES && offThreadHashing()) this.offThread = new OffThreadMd5();
    else this.md5 = createHash('md5');
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      done(new MedleyError('EntityTooLarge', `Your proposed upload exceeds the maximum allowed size of ${this.maxBytes} bytes.`));
      return;
    }
    this.crc.update(chunk);
    bodyBytesConsumed(chunk.length);
    if (this.md5) {
      this.md5.update(chunk);
      done(null, chunk);
      return;
    }
    const wait = this.offThread!.update(chunk);
    if (wait) wait.then(() => done(null, chunk), done);
    else done(null, chunk);
  }
  digestMd5(): Promise<Buffer> {
    return this.md5 ? Promise.resolve(this.md5.digest()) : this.offThread!.digest();
  }
}

/** Validates a Content-MD5 header value: base64 of 16 bytes. */
export function parseContentMd5(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== 16 || bytes.toString('base64') !== value.trim()) {
    fail('InvalidDigest', 'The Content-MD5 you specified is not valid: it must be the base64 encoding of a 16-byte MD5 digest.');
  }
  return value.trim();
}

/**
 * Collects a body of a known, small length (more than `length` bytes is an error). Listeners rather than
 * a pipeline: for a few KiB, a pipeline's abort controller and end-of-stream machinery cost more than the
 * bytes. The body is destroyed on failure, as a pipeline would.
 */
function collectBody(body: Readable, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (e: Error | undefined) => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', settle);
      body.off('close', onClose);
      if (e === undefined) return resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      body.destroy();
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > length) settle(new MedleyError('IncompleteBody', `The body had more than the ${length} bytes Content-Length announced.`));
      else chunks.push(chunk);
    };
    const onEnd = () => settle(size === length ? undefined : new MedleyError('IncompleteBody', `The body had ${size} bytes but Content-Length announced ${length}.`));
    const onClose = () => settle(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', settle);
    body.once('close', onClose);
  });
}

/** A small body of announced length becomes an inline blob: collected, hashed in one go, no file. */
async function ingestInline(body: Readable, length: number, contentMd5: string | undefined): Promise<IngestedBlob> {
  const data = await collectBody(body, length);
  const md5 = createHash('md5').update(data).digest();
  if (contentMd5 !== undefined && md5.toString('base64') !== contentMd5) {
    fail('InvalidDigest', 'The Content-MD5 you specified did not match what we received.', { CalculatedMD5: md5.toString('base64') });
  }
  const crc = new Crc64();
  crc.update(data);
  return { blobId: newInlineBlobId(), size: length, md5, crc64: crc.digest(), data };
}

/**
 * Streams `body` into a new blob — or, when allowed and its announced length is at most INLINE_MAX_BYTES,
 * into an inline blob the caller stores with the index row (`data`). On any failure (client gone, size mismatch, digest mismatch) the
 * partial blob is removed and the error rethrown; the caller has not touched the index yet, so the
 * previous version of the object is untouched.
 */
export async function ingest(blobs: BlobStore, body: Readable, limits: IngestLimits): Promise<IngestedBlob> {
  if (limits.expectedLength !== undefined && limits.expectedLength > limits.maxBytes) {
    fail('EntityTooLarge', `Your proposed upload of ${limits.expectedLength} bytes exceeds the maximum allowed size of ${limits.maxBytes} bytes.`);
  }
  if (limits.inline && limits.expectedLength !== undefined && limits.expectedLength <= INLINE_MAX_BYTES) return ingestInline(body, limits.expectedLength, limits.contentMd5);
  const writer = await blobs.create();
  const hasher = new HashingCounter(limits.maxBytes, limits.expectedLength);
  try {
    await pipeline(body, hasher, writer.stream);
    if (limits.expectedLength !== undefined && hasher.size !== limits.expectedLength) {
      fail('IncompleteBody', `The body had ${hasher.size} bytes but Content-Length announced ${limits.expectedLength}.`);
    }
    const md5 = await hasher.digestMd5();
    if (limits.contentMd5 !== undefined && md5.toString('base64') !== limits.contentMd5) {
      fail('InvalidDigest', 'The Content-MD5 you specified did not match what we received.', { CalculatedMD5: md5.toString('base64') });
    }
    await writer.finish();
    return { blobId: writer.id, size: hasher.size, md5, crc64: hasher.crc.digest() };
  } catch (e) {
    hasher.offThread?.abort();
    await writer.discard();
    throw e;
  }
}
