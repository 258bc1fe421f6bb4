/** Identifier formats of IMM tasks (spec/imm.md §4.13): all random, none derived from user input. */
import { randomBytes, randomUUID } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `MediaConvert-` + lowercase UUID v4. */
export function newTaskId(type = 'MediaConvert'): string {
  return `${type}-${randomUUID()}`;
}

/** 3 upper-case hex, `-`, 27 base62 characters, e.g. `25E-1uBJUMOshisffTNk8Nr3GIj0000`. */
export function newEventId(): string {
  const bytes = randomBytes(64);
  let tail = '';
  // Rejection sampling (248 = 4 * 62) keeps every character equally likely.
  for (const b of bytes) {
    if (b < 248) tail += BASE62[b % 62];
    if (tail.length === 27) break;
  }
  while (tail.length < 27) tail += BASE62[randomBytes(1)[0]! % 62];
  return `${randomBytes(2).toString('hex').toUpperCase().slice(0, 3)}-${tail}`;
}

/** IMM/POP RequestId: upper-case UUID. */
export function newImmRequestId(): string {
  return randomUUID().toUpperCase();
}
