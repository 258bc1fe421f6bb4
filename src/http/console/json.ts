/**
 * The console API's JSON edge, shared by the session routes (index.ts), the admin API and the media API:
 * one way to answer with JSON, and one bounded body reader.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A JSON answer, never cached (every console answer is about the session's own state). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': data.length, 'Cache-Control': 'no-store' });
  res.end(data);
}

/** The request body as UTF-8 text, or undefined once it exceeds `limit` bytes (the rest is not read). */
export async function readBodyText(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) return undefined;
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}
