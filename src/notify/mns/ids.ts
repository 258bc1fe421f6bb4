/** Identifiers of MNS messages and receipt handles: random, none derived from user input. */
import { randomBytes } from 'node:crypto';
import { fail } from '../../errors.js';

let lastIdMs = 0;
let idSeq = 0;

/**
 * 32 upper-case hex characters: 12 of the time (ms), 4 of a per-process sequence, 16 random. Ids sort in
 * send order within a process, which orders messages sent in the same millisecond (BatchSendMessage).
 */
export function newMessageId(nowMs: number): string {
  if (nowMs === lastIdMs) idSeq = (idSeq + 1) & 0xffff;
  else {
    lastIdMs = nowMs;
    idSeq = 0;
  }
  const t = Math.max(0, Math.floor(nowMs)).toString(16).padStart(12, '0').slice(-12);
  return `${t}${idSeq.toString(16).padStart(4, '0')}${randomBytes(8).toString('hex')}`.toUpperCase();
}

const HANDLE_RE = /^1-([0-9A-F]{32})-([0-9a-f]{16})$/;

/**
 * What goes before and after the message id in a new handle. Receiving builds the handles of a whole batch
 * in SQL (`prefix || id || suffix`), so the handle format is defined here once for both ways of making one.
 */
export function receiptHandleAffixes(): { prefix: string; suffix: string } {
  return { prefix: '1-', suffix: `-${randomBytes(8).toString('hex')}` };
}

/** `1-<MessageId>-<16 random hex>`: URL-safe (clients put it in the query unencoded). */
export function newReceiptHandle(messageId: string): string {
  const { prefix, suffix } = receiptHandleAffixes();
  return `${prefix}${messageId}${suffix}`;
}

/** The message id a handle names; ReceiptHandleError when the handle is not one Medley issues. */
export function receiptHandleMessageId(handle: string): string {
  const m = HANDLE_RE.exec(handle);
  if (!m) fail('MnsReceiptHandleError', `The receipt handle you provide is not valid: "${handle.slice(0, 100)}".`);
  return m[1]!;
}
