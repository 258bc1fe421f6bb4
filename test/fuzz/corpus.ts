/**
 * The fuzz corpora (test/fixtures/fuzz): valid process strings, XML bodies and IMM requests, and the
 * generators that turn (corpus entry, case Rng) into one damaged input. Shared by the parser-level and the
 * server-level fuzz tests so both see the same kinds of input.
 */
import { readFileSync } from 'node:fs';
import type { Rng } from './prng.js';
import { flatten, jsonText, mutate, mutateJson, processBody, processMutators, xmlMutators, type Json } from './mutators.js';

const FIXTURES = new URL('../fixtures/fuzz/', import.meta.url);

export const PROCESS_STRINGS: readonly string[] = readFileSync(new URL('process-strings.txt', FIXTURES), 'utf8')
  .split('\n')
  .filter((l) => l !== '' && !l.startsWith('#'));

/** x-oss-process strings (video/info, audio/info), valid ones. */
export const SYNC_PROCESS_STRINGS: readonly string[] = [
  'video/info',
  'audio/info',
  'video/info,',
  `video/info|sys/saveas,o_${Buffer.from('info/out.json').toString('base64url')}`,
  `audio/info|sys/saveas,o_${Buffer.from('info/a.json').toString('base64url')},b_${Buffer.from('in-bucket').toString('base64url')}`,
];

export interface XmlEntry {
  target: string;
  body: string;
}
export const XML_BODIES: readonly XmlEntry[] = (JSON.parse(readFileSync(new URL('xml-bodies.json', FIXTURES), 'utf8')) as { bodies: XmlEntry[] }).bodies;

export interface ImmEntry {
  action: string;
  params: Record<string, Json>;
}
export const IMM_REQUESTS: readonly ImmEntry[] = (JSON.parse(readFileSync(new URL('imm-requests.json', FIXTURES), 'utf8')) as { requests: ImmEntry[] }).requests;

/** Fills `{bucket}`, `{project}` and friends of a fixture. */
export function fill(s: string, vars: Record<string, string>): string {
  return s.replace(/\{(bucket|project|etag1|etag2|handle)\}/g, (m, k: string) => vars[k] ?? m);
}

function fillJson(v: Json, vars: Record<string, string>): Json {
  if (typeof v === 'string') return fill(v, vars);
  if (Array.isArray(v)) return v.map((x) => fillJson(x, vars));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillJson(x, vars)]));
  return v;
}

// ---------------------------------------------------------------------------------------------------------

export interface ProcessInput {
  /** The POST body as sent (`x-oss-async-process=...`). */
  body: string;
}

/** A damaged x-oss-async-process POST body. */
export function processInput(rng: Rng): ProcessInput {
  const base = rng.chance(0.1) ? rng.pick(SYNC_PROCESS_STRINGS) : rng.pick(PROCESS_STRINGS);
  // A few cases stay valid: the parsers' success paths (and the server's submit) are exercised too.
  const process = rng.chance(0.05) ? base : mutate(base, rng, processMutators, 4);
  return { body: processBody('x-oss-async-process', process, rng) };
}

/** A damaged x-oss-process string (as a query value or a POST body). */
export function syncProcessInput(rng: Rng): { process: string; post: boolean } {
  const base = rng.chance(0.7) ? rng.pick(SYNC_PROCESS_STRINGS) : rng.pick(PROCESS_STRINGS);
  return { process: rng.chance(0.05) ? base : mutate(base, rng, processMutators, 3), post: rng.chance(0.5) };
}

export interface XmlInput {
  target: string;
  body: string;
}

export function xmlInput(rng: Rng, filter: (target: string) => boolean, vars: Record<string, string> = {}): XmlInput {
  const entries = XML_BODIES.filter((e) => filter(e.target));
  const e = rng.pick(entries);
  const valid = fill(e.body, vars);
  return { target: e.target, body: rng.chance(0.05) ? valid : mutate(valid, rng, xmlMutators, 3) };
}

export interface ImmInput {
  action: string;
  /** The parameters as sent, in order: JSON text or flattened pairs for complex values. */
  pairs: [string, string][];
}

/** Complex (JSON) parameters of the IMM operations the corpus holds. */
const COMPLEX = new Set(['Sources', 'Targets', 'TargetGroups', 'Notification', 'Tags', 'CredentialConfig', 'TaskTypes', 'StartTimeRange', 'EndTimeRange', 'Tag', 'DatasetConfig']);

/** A damaged IMM request: one of its parameters mutated (structure or text), complex ones as JSON or flattened. */
export function immInput(rng: Rng, vars: Record<string, string>, actions?: readonly string[]): ImmInput {
  const entries = actions ? IMM_REQUESTS.filter((e) => actions.includes(e.action)) : IMM_REQUESTS;
  const e = rng.pick(entries);
  const params = fillJson(e.params, vars) as Record<string, Json>;
  const names = Object.keys(params);
  const mutations = rng.chance(0.05) ? 0 : rng.range(1, 3);
  const touched = new Set<string>();
  for (let i = 0; i < mutations; i++) {
    const r = rng.int(10);
    if (r === 0) {
      // Drop a parameter.
      delete params[rng.pick(names)];
    } else if (r === 1) {
      // Add one: known elsewhere, or not at all.
      const extra = rng.pick(['TargetGroups', 'Sources', 'AlignmentIndex', 'UserData', 'Tags', 'Unknown', 'ProjectName', 'MaxResults', 'NextToken', 'Sort', 'Order', 'Status', 'TaskTypes', 'Tag', 'CredentialConfig', '__proto__']);
      Object.defineProperty(params, extra, { value: rng.pick<Json>(['', '1', '[]', '{}', 'x'.repeat(300), [{}], { a: 1 }, null, -1]), enumerable: true, writable: true, configurable: true });
      touched.add(extra);
    } else {
      const name = rng.pick(Object.keys(params).length > 0 ? Object.keys(params) : names);
      const v = params[name] ?? '';
      if (name === 'NextToken' && rng.chance(0.6)) {
        // A page token of the shape ListTasks issues (base64url JSON [sort, sortValue, taskId]) with damaged insides.
        const token: Json = [rng.pick(['TaskId', 'StartTime', 'EndTime', 'taskid']), rng.pick<Json>(['MediaConvert-a', 1_700_000_000_000, 0]), 'MediaConvert-a'];
        const inner = rng.chance(0.3) ? jsonText(mutateJson(token, rng), rng) : JSON.stringify(mutateJson(token, rng));
        params[name] = Buffer.from(inner ?? 'null').toString(rng.chance(0.8) ? 'base64url' : 'base64');
        touched.add(name);
        continue;
      }
      params[name] = typeof v === 'object' && v !== null ? mutateJson(v, rng) : typeof v === 'string' && rng.chance(0.7) ? mutate(v, rng, processMutators.slice(0, 9), 2) : mutateJson(v, rng);
      touched.add(name);
    }
  }
  const pairs: [string, string][] = [];
  for (const [name, v] of Object.entries(params)) {
    const complex = COMPLEX.has(name) || (typeof v === 'object' && v !== null);
    if (complex && rng.chance(0.3) && typeof v === 'object' && v !== null) {
      pairs.push(...flatten(name, v, rng, touched.has(name) && rng.chance(0.5)));
    } else if (complex || typeof v === 'object') {
      pairs.push([name, touched.has(name) ? jsonText(v, rng) : JSON.stringify(v)]);
    } else pairs.push([name, v === null ? '' : String(v)]);
  }
  return { action: e.action, pairs };
}

/** Lone surrogates replaced by U+FFFD (String.prototype.toWellFormed, which the ES2023 lib does not type). */
export function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** RFC 3986 percent-encoding as the RPC signers do it; lone surrogates (which cannot be encoded) are sent as U+FFFD. */
export function percentEncode(s: string): string {
  return encodeURIComponent(wellFormed(s)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The form body (or query) text of IMM pairs, sometimes damaged as text (bad escapes, stray separators). */
export function immFormText(pairs: [string, string][], rng: Rng): string {
  const text = pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
  if (!rng.chance(0.15)) return text;
  return rng.pick([
    () => `${text}&%`,
    () => `${text}&%E4%B8=1`,
    () => `${text}&&&=`,
    () => `${text}&${pairs[0]?.[0] ?? 'a'}=dup`,
    () => `${text}&x=%ZZ`,
    () => `${text}&=v`,
    () => text.replace(/=/, '=='),
    () => `${text}&${'k'.repeat(5000)}=1`,
  ])();
}
