/**
 * A real S3-protocol server (the `s3rver` npm package) on a free loopback port with a temp dir, for the
 * S3 blob store's tests and the scale-out suite. Nothing to install by hand.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (opts: Record<string, unknown>) => S3rverInstance;

/** `tls`: serve https with this PEM key and certificate (s3rver's `key`/`cert` options). */
export async function startS3(bucket = 'medley-blobs', tls?: { key: Buffer; cert: Buffer }): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'medley-s3-'));
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }], ...(tls ?? {}) });
  const { port } = await server.run();
  return {
    endpoint: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    bucket,
    // s3rver's fixed credentials.
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    async stop() {
      await server.close().catch(() => undefined);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
