/** Asserting on a thrown catalog error: its wire code, a 400 status, and optionally its message. */
import assert from 'node:assert/strict';
import { MedleyError } from '../../src/errors.js';

export function throwsMedley(fn: () => unknown, code: string, message?: RegExp): MedleyError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof MedleyError, `expected MedleyError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.status, 400);
  if (message) assert.match(caught.message, message);
  return caught;
}
