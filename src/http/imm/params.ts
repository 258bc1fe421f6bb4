/**
 * Where IMM parameters arrive (spec/imm.md §1.2-1.3): the query string and, for form posts, the body.
 * Reading the body, decoding both into ordered pairs (what the signature is computed over), the one flat
 * parameter map the operations read, and typed accessors that fail with IMM's per-parameter codes.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { MedleyError, fail } from '../../errors.js';
import { MAX_JSON_DEPTH, jsonTooDeep } from '../../util/json.js';
import { invalidArgument, invalidParameter, missingParameter } from './errors.js';
import { LIMITS } from '../../limits.js';

export const MAX_BODY_BYTES = LIMITS.immMaxBodyBytes;
/**
 * An oversize body up to this size is still read (and dropped) so the error can be answered on a healthy
 * connection; anything larger is not worth the bandwidth and the connection is closed after the error.
 */
export const MAX_DRAINED_BYTES = LIMITS.immMaxDrainedBytes;

export type Pairs = [string, string][];
/** Null prototype: parameter names come from the caller, and `__proto__` must be just a name. */
export type ParamMap = Record<string, string>;

function bodyTooLarge(limit: number): MedleyError {
  return new MedleyError('InvalidMediaArgument', `The request body is larger than ${limit} bytes.`, { ArgumentName: 'body' });
}

/** The raw body (the ACS3 signature hashes it byte for byte); bigger than `limit` ⇒ 400. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES, drainLimit = MAX_DRAINED_BYTES): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > drainLimit) {
      reject(bodyTooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > drainLimit) {
        cleanup();
        req.pause();
        reject(bodyTooLarge(limit));
      }
    };
    const onEnd = () => {
      cleanup();
      if (size > limit) reject(bodyTooLarge(limit));
      else resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('the client closed the connection before the request body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function decodeComponent(s: string, where: string): string {
  try {
    // Form encoding ('+' is a space) for the query too: signers always send a literal plus as %2B.
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return fail('ImmInvalidParameter', `The ${where} contains malformed percent-encoding: "${s.slice(0, 100)}".`);
  }
}

/** `a=1&b=&c` → [['a','1'], ['b',''], ['c','']], percent-decoded, order kept. */
export function decodePairs(encoded: string, where: 'query string' | 'form body'): Pairs {
  const pairs: Pairs = [];
  for (const part of encoded.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decodeComponent(eq >= 0 ? part.slice(0, eq) : part, where);
    const value = eq >= 0 ? decodeComponent(part.slice(eq + 1), where) : '';
    pairs.push([name, value]);
  }
  return pairs;
}

export function queryString(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  return q >= 0 ? rawUrl.slice(q + 1) : '';
}

export function isFormBody(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.split(';', 1)[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/** Query and form pairs of a request (form pairs only for a form-encoded body). */
export function requestPairs(rawUrl: string, headers: IncomingHttpHeaders, body: Buffer): { query: Pairs; form: Pairs } {
  const query = decodePairs(queryString(rawUrl), 'query string');
  const form = isFormBody(headers) && body.length > 0 ? decodePairs(body.toString('utf8'), 'form body') : [];
  return { query, form };
}

/** One flat map; a name given twice (in one place or both) is ambiguous and refused (spec §1.2). */
export function buildParamMap(query: Pairs, form: Pairs): ParamMap {
  const map: ParamMap = Object.create(null) as ParamMap;
  for (const [name, value] of [...query, ...form]) {
    if (Object.hasOwn(map, name)) fail('ImmInvalidParameter', `The specified parameter "${name}" is not valid: it is given more than once.`, { ArgumentName: name });
    map[name] = value;
  }
  return map;
}

// ---------------------------------------------------------------------------------------------------------
// Typed accessors. An empty value counts as absent: pop-core sends `Name=` for an empty string or null.

export function optionalString(p: ParamMap, name: string): string | undefined {
  const v = p[name];
  return v === undefined || v === '' ? undefined : v;
}

export function requiredString(p: ParamMap, name: string): string {
  return optionalString(p, name) ?? missingParameter(name);
}

/** `true`/`false`, any case (spec §1.2). */
export function parseBool(name: string, raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  return invalidParameter(name, raw);
}

export function optionalBool(p: ParamMap, name: string): boolean | undefined {
  const v = optionalString(p, name);
  return v === undefined ? undefined : parseBool(name, v);
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * A decimal integer within [min, max]. IMM's limits are int64 and some defaults exceed 2^53, so the value is
 * checked exactly (BigInt) and refused if a JS number would not hold it exactly.
 */
export function parseInt64(name: string, raw: string, range: { min?: number; max?: number } = {}): number {
  const s = raw.trim();
  if (!/^-?\d{1,19}$/.test(s)) return invalidParameter(name, raw);
  const big = BigInt(s);
  const min = range.min === undefined ? -INT64_MAX - 1n : BigInt(range.min);
  const max = range.max === undefined ? INT64_MAX : BigInt(range.max);
  if (big < min || big > max) {
    const bounds = range.max === undefined ? `at least ${min}` : range.min === undefined ? `at most ${max}` : `from ${min} to ${max}`;
    return invalidArgument(name, `must be ${bounds}`, raw);
  }
  const n = Number(big);
  if (BigInt(n) !== big) return invalidArgument(name, 'cannot be stored exactly (integers above 2^53 must be representable as a double)', raw);
  return n;
}

export function optionalInt(p: ParamMap, name: string, range: { min?: number; max?: number } = {}): number | undefined {
  const v = optionalString(p, name);
  return v === undefined ? undefined : parseInt64(name, v, range);
}

/**
 * A complex parameter: JSON text (what every SDK sends, spec §1.3) or pop-core's flattened form
 * (`Tag.1.Key=a&Tag.1.Value=b`), rebuilt. Undecodable JSON ⇒ InvalidJSON "Array parsing error, <Name>" [DOC].
 */
export function optionalJson(p: ParamMap, name: string): unknown {
  const prefix = `${name}.`;
  const flat = Object.keys(p).filter((k) => k.startsWith(prefix));
  const text = optionalString(p, name);
  if (text !== undefined && flat.length > 0) invalidArgument(name, `is given both as JSON and flattened (${flat[0]})`);
  if (text !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      return fail('InvalidJson', `Array parsing error, ${name}`, { ArgumentName: name, ArgumentValue: text.slice(0, 200) });
    }
    // Parsed values are walked and stored (JSON.stringify) recursively: a depth no parameter needs is refused.
    if (jsonTooDeep(value)) invalidArgument(name, `is nested more than ${MAX_JSON_DEPTH} levels deep`);
    return value;
  }
  return flat.length > 0 ? unflatten(p, name, flat) : undefined;
}

type Tree = { [segment: string]: Tree | string };

/** `X.1.Key`, `X.1.Value`, `X.2.Key` … → [{Key, Value}, {Key}]; numbered levels (from 1, no gaps) become arrays. */
export function unflatten(p: ParamMap, name: string, keys: string[] = Object.keys(p).filter((k) => k.startsWith(`${name}.`))): unknown {
  const root: Tree = Object.create(null) as Tree;
  for (const key of keys) {
    const path = key.slice(name.length + 1).split('.');
    if (path.some((s) => s === '')) invalidArgument(key, 'is not a well-formed flattened parameter name');
    if (path.length > MAX_JSON_DEPTH) invalidArgument(name, `is nested more than ${MAX_JSON_DEPTH} levels deep`, key.slice(0, 100));
    let node = root;
    path.forEach((seg, i) => {
      const existing = node[seg];
      if (i === path.length - 1) {
        if (existing !== undefined) invalidArgument(key, `conflicts with another ${name}.* parameter`);
        node[seg] = p[key]!;
      } else {
        if (typeof existing === 'string') invalidArgument(key, `conflicts with ${name}.${path.slice(0, i + 1).join('.')}`);
        node = existing ?? (node[seg] = Object.create(null) as Tree);
      }
    });
  }
  const build = (node: Tree | string, at: string): unknown => {
    if (typeof node === 'string') return node;
    const segs = Object.keys(node);
    if (segs.every((s) => /^[1-9]\d*$/.test(s))) {
      const indexes = segs.map(Number).sort((a, b) => a - b);
      indexes.forEach((n, i) => {
        if (n !== i + 1) invalidArgument(`${at}.${i + 1}`, 'is missing: flattened items are numbered from 1 without gaps');
      });
      return indexes.map((n) => build(node[String(n)]!, `${at}.${n}`));
    }
    return Object.fromEntries(segs.map((s) => [s, build(node[s]!, `${at}.${s}`)]));
  };
  return build(root, name);
}
