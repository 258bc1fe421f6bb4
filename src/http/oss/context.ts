/** The per-request context every OSS handler receives, and helpers to read what the client sent. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { fail } from '../../errors.js';
import type { Storage } from '../../storage/index.js';
import type { Principal } from '../../auth/policy.js';
import type { Config } from '../../config.js';

export interface OssContext {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  config: Config;
  storage: Storage;
  log: Logger;
  method: string;
  /** Query parameters, decoded ('+' is a space); the first occurrence of a name wins. */
  query: Map<string, string>;
  bucket?: string;
  key?: string;
  principal: Principal;
}

/** Parses the raw query string the way OSS does: %XX decoded, '+' as space, valueless flags as ''. */
export function parseQuery(rawQuery: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(rawQuery)) if (!out.has(k)) out.set(k, v);
  return out;
}

export function header(ctx: OssContext, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Content-Length as a number, or undefined for chunked bodies; a malformed value is a 400. */
export function contentLength(ctx: OssContext): number | undefined {
  const raw = ctx.req.headers['content-length'];
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw)) fail('InvalidArgument', `Content-Length "${raw}" is not a valid length.`, { ArgumentName: 'Content-Length', ArgumentValue: raw });
  return Number(raw);
}

/** A body is required: Content-Length or chunked transfer, else MissingContentLength (411). */
export function requireBodyLength(ctx: OssContext): number | undefined {
  const len = contentLength(ctx);
  if (len === undefined && !/chunked/i.test(ctx.req.headers['transfer-encoding'] ?? '')) fail('MissingContentLength');
  return len;
}

/** Reads a small body (XML documents) whole, refusing anything over `limit` bytes without reading it all. */
export async function readSmallBody(ctx: OssContext, limit: number): Promise<Buffer> {
  const declared = contentLength(ctx);
  if (declared !== undefined && declared > limit) fail('EntityTooLarge', `The request body of ${declared} bytes exceeds the ${limit}-byte limit for this operation.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) fail('EntityTooLarge', `The request body exceeds the ${limit}-byte limit for this operation.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Integer query parameter within [min, max], or the default when absent. */
export function intParam(ctx: OssContext, name: string, def: number, min: number, max: number): number {
  const raw = ctx.query.get(name);
  if (raw === undefined || raw === '') return def;
  const n = /^-?\d{1,12}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    fail('InvalidArgument', `${name} must be an integer from ${min} to ${max}; got "${raw}".`, { ArgumentName: name, ArgumentValue: raw });
  }
  return n;
}
