/** Writing IMM responses: the JSON success and error envelopes of spec/imm.md §2.1-2.2. */
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { ImmWireError } from './errors.js';

/** IMM request ids are upper-case UUIDs (spec §2.1), unlike OSS's 24 hex characters. */
export function newImmRequestId(): string {
  return randomUUID().toUpperCase();
}

/**
 * The edge stamps every response as OSS (x-oss-request-id, Server: AliyunOSS) before it knows the dialect;
 * an IMM answer must not claim to be OSS nor carry a second request id that matches nothing in its body.
 */
export function claimImmResponse(res: ServerResponse, requestId: string): void {
  if (res.headersSent) return;
  res.removeHeader('x-oss-request-id');
  res.removeHeader('Server');
  res.setHeader('x-acs-request-id', requestId);
}

export function sendImmJson(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const data = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json;charset=utf-8', 'Content-Length': data.length });
  res.end(data);
}

/** 200 with the operation's fields as siblings of RequestId (no wrapper). */
export function sendImmSuccess(res: ServerResponse, requestId: string, fields: Record<string, unknown>): void {
  sendImmJson(res, 200, { RequestId: requestId, ...fields });
}

export function recommendUrl(code: string): string {
  return `https://next.api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=imm`;
}

/** Every error body carries Code: pop-core decides success by its absence, not by the HTTP status (spec §1.7). */
export function sendImmError(res: ServerResponse, err: Pick<ImmWireError, 'status' | 'code' | 'message'>, ctx: { requestId: string; host: string }): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendImmJson(res, err.status, { RequestId: ctx.requestId, HostId: ctx.host, Code: err.code, Message: err.message, Recommend: recommendUrl(err.code) });
}
