/** Writing OSS responses: XML documents, object headers, and the OSS error format. */
import type { ServerResponse } from 'node:http';
import { MedleyError } from '../../errors.js';
import type { ObjectRecord } from '../../storage/records.js';
import { toXml, type XmlObject } from './xml.js';

export function sendXml(res: ServerResponse, status: number, doc: XmlObject, headers: Record<string, string> = {}): void {
  const body = Buffer.from(toXml(doc));
  res.writeHead(status, { ...headers, 'Content-Type': 'application/xml', 'Content-Length': body.length });
  res.end(body);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string | number> = {}): void {
  res.writeHead(status, { 'Content-Length': 0, ...headers });
  res.end();
}

export const quoteEtag = (etag: string) => `"${etag}"`;

/** Headers describing an object, shared by GET, HEAD and the write responses. */
export function objectHeaders(o: ObjectRecord): Record<string, string> {
  const h: Record<string, string> = {
    'Content-Type': o.contentType,
    ETag: quoteEtag(o.etag),
    'Last-Modified': o.lastModified.toUTCString(),
    'x-oss-object-type': o.objectType,
    'x-oss-storage-class': o.storageClass,
    'x-oss-hash-crc64ecma': o.crc64,
  };
  for (const [name, value] of Object.entries(o.headers)) h[name] = value;
  for (const [name, value] of Object.entries(o.meta)) h[name] = value;
  if (o.objectType === 'Appendable') h['x-oss-next-append-position'] = String(o.size);
  return h;
}

/**
 * Sends a MedleyError as OSS does: the Error XML, or for HEAD (no body allowed) the same XML in base64
 * in `x-oss-err`, with the fine-grained code in `x-oss-ec`. 304 has no body at all.
 */
export function sendOssError(res: ServerResponse, err: MedleyError, ctx: { method: string; requestId: string; host: string }): void {
  const e = err.entry;
  const doc: XmlObject = {
    Error: {
      Code: e.code,
      Message: err.message,
      RequestId: ctx.requestId,
      HostId: ctx.host,
      ...Object.fromEntries(Object.entries(err.details).map(([k, v]) => [k, v === undefined ? undefined : String(v)])),
      EC: e.ec,
      RecommendDoc: e.ec ? `https://api.aliyun.com/troubleshoot?q=${e.ec}` : undefined,
    },
  };
  const headers: Record<string, string> = { ...err.headers };
  if (e.ec) headers['x-oss-ec'] = e.ec;
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  if (err.status === 304) {
    sendEmpty(res, 304, headers);
    return;
  }
  if (ctx.method === 'HEAD') {
    headers['x-oss-err'] = Buffer.from(toXml(doc)).toString('base64');
    res.writeHead(err.status, { ...headers, 'Content-Type': 'application/xml', 'Content-Length': 0 });
    res.end();
    return;
  }
  sendXml(res, err.status, doc, headers);
}
