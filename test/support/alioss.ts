/**
 * Shared helpers for the tests that drive the official ali-oss client against the test server: the slice of
 * ali-oss they use (typed as the library really behaves; @types/ali-oss is incomplete), client construction
 * over the {V1, V4} × addressing matrix, error assertions and response recording.
 */
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import type { LookupFunction } from 'node:net';
import OSS from 'ali-oss';
import { startServer, type TestServer } from './server.js';
import { crc64 } from '../../src/storage/crc64.js';

// ---------------------------------------------------------------------------------------------------------
// The slice of ali-oss used by the tests.

/** Response headers as ali-oss exposes them on `result.res.headers`. */
export type Headers = Record<string, string | undefined>;
/** The `res` part of every ali-oss result. */
export interface Res {
  status: number;
  headers: Headers;
}
/** One entry of a ListObjects (v1/v2) result. */
export interface ListedObject {
  name: string;
  lastModified: string;
  etag: string;
  type: string;
  size: number;
  storageClass: string;
  owner: { id: string; displayName: string } | null;
}
/** The result of `list()` / `listV2()`. */
export interface ListResult {
  res: Res;
  objects: ListedObject[];
  prefixes: string[] | null;
  nextMarker?: string | null;
  isTruncated: boolean;
  keyCount?: number;
  continuationToken?: string | null;
  nextContinuationToken?: string | null;
}
/** Per-request options accepted by the ali-oss object and bucket calls. */
export interface ReqOptions {
  headers?: Record<string, string>;
  meta?: Record<string, string>;
  mime?: string;
  subres?: Record<string, string>;
  quiet?: boolean;
  position?: number | string;
  storageClass?: string;
  acl?: string;
}
/** The error ali-oss throws for an OSS error response. */
export interface OssError extends Error {
  status: number;
  code: string;
  requestId?: string;
  hostId?: string;
  ecCode?: string;
}
/** One part as ListParts returns it (raw XML fields). */
export interface RawPart {
  PartNumber: string;
  LastModified: string;
  ETag: string;
  HashCrc64ecma?: string;
  Size: string;
}
/** Parameters of ali-oss's private signed `request()`. */
export interface RequestParams {
  method: string;
  bucket?: string;
  object?: string;
  subres?: Record<string, string>;
  content?: Buffer | string;
  mime?: string;
  headers?: Record<string, string>;
  successStatuses?: number[];
  xmlResponse?: boolean;
}
/** A raw response from ali-oss's HTTP layer (urllib). */
export interface UrllibResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  data?: unknown;
}
/** ali-oss's HTTP layer, which `recordResponses` wraps. */
export interface Urllib {
  request(url: string, params: { method?: string; headers?: Record<string, string> }): Promise<UrllibResponse>;
}
/** The ali-oss client methods the tests call. */
export interface AliClient {
  urllib: Urllib;
  useBucket(name: string): void;
  putBucket(name: string, options?: ReqOptions): Promise<{ bucket: string | null; res: Res }>;
  getBucketInfo(name: string): Promise<{ bucket: Record<string, unknown>; res: Res }>;
  getBucketLocation(name: string): Promise<{ location: string; res: Res }>;
  listBuckets(query?: Record<string, string | number>): Promise<{
    buckets: Array<{ name: string; region: string; creationDate: string; storageClass: string }> | null;
    owner: { id: string; displayName: string };
    isTruncated: boolean;
    nextMarker: string | null;
    res: Res;
  }>;
  putBucketACL(name: string, acl: string): Promise<{ res: Res }>;
  getBucketACL(name: string): Promise<{ acl: string; owner: { id: string; displayName: string }; res: Res }>;
  deleteBucket(name: string): Promise<{ res: Res }>;
  put(name: string, data: Buffer, options?: ReqOptions): Promise<{ name: string; res: Res }>;
  get(name: string, options?: ReqOptions): Promise<{ content: Buffer; res: Res }>;
  head(name: string, options?: ReqOptions): Promise<{ status: number; meta: Record<string, string> | null; res: Res }>;
  getObjectMeta(name: string): Promise<{ status: number; res: Res }>;
  delete(name: string): Promise<{ res: Res }>;
  deleteMulti(names: string[], options?: ReqOptions): Promise<{ deleted: Array<{ Key: string }>; res: Res }>;
  copy(name: string, source: string, sourceBucket?: string | ReqOptions, options?: ReqOptions): Promise<{ data: { etag: string; lastModified: string } | null; res: Res }>;
  putMeta(name: string, meta: Record<string, string>, options: object): Promise<{ res: Res }>;
  append(name: string, data: Buffer, options?: ReqOptions): Promise<{ nextAppendPosition: string; res: Res }>;
  putACL(name: string, acl: string): Promise<{ res: Res }>;
  getACL(name: string): Promise<{ acl: string; owner: { id: string; displayName: string }; res: Res }>;
  list(query: Record<string, string | number> | null, options?: ReqOptions): Promise<ListResult>;
  listV2(query: Record<string, string | number> | null, options?: ReqOptions): Promise<ListResult>;
  multipartUpload(
    name: string,
    data: Buffer,
    options: { partSize: number; meta?: Record<string, string>; mime?: string; parallel?: number; headers?: Record<string, string> },
  ): Promise<{ res: Res; etag: string; name: string }>;
  initMultipartUpload(name: string, options?: { meta?: Record<string, string>; mime?: string; headers?: Record<string, string> }): Promise<{ res: Res; bucket: string; name: string; uploadId: string }>;
  uploadPart(name: string, uploadId: string, partNo: number, data: Buffer, start: number, end: number): Promise<{ name: string; etag: string; res: Res }>;
  uploadPartCopy(name: string, uploadId: string, partNo: number, range: string, source: { sourceKey: string; sourceBucketName: string }): Promise<{ name: string; etag: string; res: Res }>;
  completeMultipartUpload(name: string, uploadId: string, parts: Array<{ number: number; etag: string }>, options?: { headers?: Record<string, string> }): Promise<{ res: Res; etag: string }>;
  abortMultipartUpload(name: string, uploadId: string): Promise<{ res: Res }>;
  multipartUploadCopy(name: string, source: { sourceKey: string; sourceBucketName: string }, options: { partSize: number }): Promise<{ res: Res; etag: string }>;
  listUploads(query: Record<string, string | number>): Promise<{
    res: Res;
    uploads: Array<{ name: string; uploadId: string; initiated: string }>;
    bucket: string;
    nextKeyMarker: string;
    nextUploadIdMarker: string;
    isTruncated: boolean;
  }>;
  listParts(
    name: string,
    uploadId: string,
    query?: Record<string, string | number>,
  ): Promise<{ res: Res; uploadId: string; bucket: string; name: string; partNumberMarker: string; nextPartNumberMarker: string; maxParts: string; isTruncated: string; parts: RawPart | RawPart[] }>;
  /** ali-oss's own signed request (private API): used to send a CompleteMultipartUpload body it would otherwise sort. */
  request(params: RequestParams): Promise<{ status: number; res: Res; data: unknown }>;
}

// ---------------------------------------------------------------------------------------------------------
// Digests and formats.

/** Uppercase hex MD5, as OSS puts it in an ETag. */
export const md5Hex = (b: Buffer) => createHash('md5').update(b).digest('hex').toUpperCase();
/** CRC-64/ECMA as the decimal string of x-oss-hash-crc64ecma. */
export const crc = (b: Buffer) => String(crc64(b));
/** An XML timestamp as OSS writes it (whole seconds, `.000Z`). */
export const XML_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/;

// ---------------------------------------------------------------------------------------------------------
// Clients over the {V1, V4} × addressing matrix.

/** Addressing: IP endpoint (bucket in a foreign aliyuncs Host), path style (sldEnable), virtual-hosted (<bucket>.localhost). */
export type Style = 'ip' | 'path' | 'vhost';
/** One signature × addressing combination: a display name, a tag for bucket names, and the settings. */
export interface Variant {
  name: string;
  tag: string;
  v4: boolean;
  style: Style;
}

/** The variants for V1 then V4, each over `styles` in the given order. */
export function variants(styles: readonly Style[]): Variant[] {
  const out: Variant[] = [];
  for (const v4 of [false, true]) {
    for (const style of styles) {
      out.push({ name: `${v4 ? 'V4' : 'V1'} ${style === 'ip' ? 'IP endpoint' : style === 'path' ? 'path style (sldEnable)' : 'virtual-hosted'}`, tag: `${v4 ? 'v4' : 'v1'}-${style}`, v4, style });
    }
  }
  return out;
}

/** Hostnames looked up through `localhostAgent()` agents, in order. */
export const lookedUp: string[] = [];

/** Resolves `localhost` and `*.localhost` to 127.0.0.1 (this machine's resolver does not know `bkt.localhost`). */
const localLookup: LookupFunction = (hostname, options, callback) => {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) {
    lookedUp.push(hostname);
    if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
    return;
  }
  dns.lookup(hostname, options, callback);
};

/** A keep-alive agent that resolves `*.localhost` to 127.0.0.1, so virtual-hosted requests really reach the server. */
export function localhostAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, lookup: localLookup });
}

/** An ali-oss client for `server` with its test key (default: V1, IP endpoint, ali-oss's default timeout). */
export function makeAliClient(server: TestServer, agent: http.Agent, opts: { v4?: boolean; style?: Style; bucket?: string; timeout?: number } = {}): AliClient {
  const style = opts.style ?? 'ip';
  return new OSS({
    accessKeyId: server.keyId,
    accessKeySecret: server.secret,
    region: 'oss-cn-hangzhou',
    endpoint: style === 'ip' ? `http://127.0.0.1:${server.port}` : `http://localhost:${server.port}`,
    ...(opts.bucket === undefined ? {} : { bucket: opts.bucket }),
    authorizationV4: opts.v4 ?? false,
    sldEnable: style === 'path',
    agent,
    ...(opts.timeout === undefined ? {} : { timeout: opts.timeout }),
  } as unknown as OSS.Options) as unknown as AliClient;
}

/** Registers this file's hooks (start a test server before; destroy `agent` and dispose of the server after) and returns its accessors. */
export function aliOssHarness(agent: http.Agent, clientTimeout: number): { server(): TestServer; client(v: Variant, bucket: string): AliClient } {
  let server: TestServer | undefined;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    agent.destroy();
    await server?.dispose();
  });
  const running = (): TestServer => {
    assert.ok(server, 'the test server is not running');
    return server;
  };
  return {
    server: running,
    client: (v, bucket) => makeAliClient(running(), agent, { v4: v.v4, style: v.style, bucket, timeout: clientTimeout }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Assertions and response recording.

/** Awaits `p`, asserts it fails with this OSS status and code, and returns the error. */
export async function rejectsWith(p: Promise<unknown>, status: number, code: string): Promise<OssError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Error, `expected ${status} ${code}, but the request succeeded`);
  const err = caught as OssError;
  assert.equal(err.code, code, `expected code ${code}, got ${err.code} (${err.status}): ${err.message}`);
  assert.equal(err.status, status, `expected status ${status} for ${code}, got ${err.status}`);
  return err;
}

/** One raw exchange the client made, as recorded by `recordResponses`. */
export interface Seen {
  method: string;
  url: string;
  reqHeaders: Record<string, string>;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Wraps the client's urllib and returns the (live) list of every raw response it sees, newest last. */
export function recordResponses(client: AliClient): Seen[] {
  const seen: Seen[] = [];
  const orig = client.urllib;
  client.urllib = {
    async request(url, params) {
      const r = await orig.request.call(orig, url, params);
      seen.push({
        method: params.method ?? 'GET',
        url,
        reqHeaders: { ...(params.headers ?? {}) },
        status: r.status,
        headers: r.headers,
        body: Buffer.isBuffer(r.data) ? r.data : Buffer.alloc(0),
      });
      return r;
    },
  };
  return seen;
}

/** The newest recorded exchange (asserts there is one). */
export function last(seen: Seen[]): Seen {
  const s = seen[seen.length - 1];
  assert.ok(s, 'no response recorded');
  return s;
}

/** A header value, a repeated header joined with commas. */
export function hdr(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}
