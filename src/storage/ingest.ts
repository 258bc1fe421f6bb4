/**
 * Ingest: stream a request body into a new blob while hashing it (MD5 for the ETag and Content-MD5 check,
 * CRC-64 for x-oss-hash-crc64ecma), with size limits. Memory stays bounded: bytes flow through one
 * transform into the file with backpressure; nothing is buffered whole.
 */
import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Crc64 } from './crc64.js';
import { STREAM_CHUNK, type BlobStore } from './blob-store.js';
import { MedleyError, fail } from '../errors.js';

export interface IngestLimits {
  /** Content-Length announced by the client, when there was one. */
  expectedLength?: number;
  /** Refuse bodies larger than this with EntityTooLarge. */
  maxBytes: number;
  /** Base64 Content-MD5 the body must match (InvalidDigest otherwise). */
  contentMd5?: string;
}

export interface IngestedBlob {
  blobId: string;
  size: number;
  md5: Buffer;
  crc64: bigint;
}

class HashingCounter extends Transform {
  readonly md5 = createHash('md5');
  readonly crc = new Crc64();
  size = 0;
  constructor(private readonly maxBytes: number) {
    super({ highWaterMark: STREAM_CHUNK });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      done(new MedleyError('EntityTooLarge', `Your proposed upload exceeds the maximum allowed size of ${this.maxBytes} bytes.`));
      return;
    }
    this.md5.update(chunk);
    this.crc.update(chunk);
    done(null, chunk);
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
 * Streams `body` into a new blob. On any failure (client gone, size mismatch, digest mismatch) the
 * partial blob is removed and the error rethrown; the caller has not touched the index yet, so the
 * previous version of the object is untouched.
 */
export async function ingest(blobs: BlobStore, body: Readable, limits: IngestLimits): Promise<IngestedBlob> {
  if (limits.expectedLength !== undefined && limits.expectedLength > limits.maxBytes) {
    fail('EntityTooLarge', `Your proposed upload of ${limits.expectedLength} bytes exceeds the maximum allowed size of ${limits.maxBytes} bytes.`);
  }
  const writer = await blobs.create();
  const hasher = new HashingCounter(limits.maxBytes);
  try {
    await pipeline(body, hasher, writer.stream);
    if (limits.expectedLength !== undefined && hasher.size !== limits.expectedLength) {
      fail('IncompleteBody', `The body had ${hasher.size} bytes but Content-Length announced ${limits.expectedLength}.`);
    }
    const md5 = hasher.md5.digest();
    if (limits.contentMd5 !== undefined && md5.toString('base64') !== limits.contentMd5) {
      fail('InvalidDigest', 'The Content-MD5 you specified did not match what we received.', { CalculatedMD5: md5.toString('base64') });
    }
    await writer.finish();
    return { blobId: writer.id, size: hasher.size, md5, crc64: hasher.crc.digest() };
  } catch (e) {
    await writer.discard();
    throw e;
  }
}
