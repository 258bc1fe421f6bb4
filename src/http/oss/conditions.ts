/** Pure rules for conditional requests and byte ranges (spec oss.md §4.6). */
import { fail } from '../../errors.js';

export interface Validators {
  etag: string; // uppercase hex, no quotes
  lastModified: Date;
}

export interface ConditionHeaders {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

const stripQuotes = (s: string) => s.trim().replace(/^W\//, '').replace(/^"|"$/g, '');

function etagListMatches(list: string, etag: string): boolean {
  return list.split(',').some((t) => t.trim() === '*' || stripQuotes(t).toUpperCase() === etag.toUpperCase());
}

/** HTTP dates have one-second resolution: compare whole seconds. */
function seconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

function parseHttpDate(v: string): Date | undefined {
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/**
 * Throws PreconditionFailed (412) or NotModified (304) as OSS does. If-Match is evaluated before
 * If-Unmodified-Since, If-None-Match before If-Modified-Since; an unparseable date is ignored.
 * `names` gives the header names to report (x-oss-copy-source-if-* for CopyObject).
 */
export function checkConditions(c: ConditionHeaders, v: Validators, names = { ifMatch: 'If-Match', ifNoneMatch: 'If-None-Match', ifModifiedSince: 'If-Modified-Since', ifUnmodifiedSince: 'If-Unmodified-Since' }): void {
  if (c.ifMatch !== undefined) {
    if (!etagListMatches(c.ifMatch, v.etag)) fail('PreconditionFailed', undefined, { Condition: names.ifMatch });
  } else if (c.ifUnmodifiedSince !== undefined) {
    const d = parseHttpDate(c.ifUnmodifiedSince);
    if (d && seconds(v.lastModified) > seconds(d)) fail('PreconditionFailed', undefined, { Condition: names.ifUnmodifiedSince });
  }
  if (c.ifNoneMatch !== undefined) {
    if (etagListMatches(c.ifNoneMatch, v.etag)) fail('NotModified');
  } else if (c.ifModifiedSince !== undefined) {
    const d = parseHttpDate(c.ifModifiedSince);
    if (d && seconds(v.lastModified) <= seconds(d)) fail('NotModified');
  }
}

export type RangeResult = { kind: 'full' } | { kind: 'partial'; start: number; end: number };

/**
 * One byte range `bytes=a-b | a- | -n`. By default (as OSS) an invalid or unsatisfiable range is ignored and the
 * whole object returned; with `x-oss-range-behavior: standard` the end is clamped and a start beyond the
 * object is 416 InvalidRange. Multiple ranges: whole object (or 416 in standard mode).
 */
export function parseRange(header: string | undefined, size: number, standard: boolean): RangeResult {
  if (header === undefined) return { kind: 'full' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  const invalid = (): RangeResult => {
    if (standard) fail('InvalidRange', `The requested range "${header}" cannot be satisfied for an object of ${size} bytes.`, { RangeRequested: header, ActualObjectSize: size });
    return { kind: 'full' };
  };
  if (!m) return invalid();
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return invalid();
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return invalid();
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  let end = b === '' ? size - 1 : Number(b);
  if (start >= size || end < start) return invalid();
  if (end >= size) {
    if (!standard) return { kind: 'full' };
    end = size - 1;
  }
  return { kind: 'partial', start, end };
}
