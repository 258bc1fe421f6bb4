/**
 * Mutators for the fuzz tests: each takes a valid input (a process string, an XML body, a JSON value) and a
 * case's Rng and returns a damaged variant. They aim at the classic parser faults: byte flips, tokens
 * inserted, deleted or duplicated, boundary numbers, Unicode / NUL / control characters, over-long values,
 * deep nesting, truncation, base64 garbage in name parameters, repeated separators and empty segments.
 * Sizes stay below the servers' body limits most of the time, so the parsers (not the size checks) are hit.
 */
import type { Rng } from './prng.js';

export type Mutator = (s: string, rng: Rng) => string;

/** Numbers at the edges of every integer and float representation the parsers may use. */
export const BOUNDARY_NUMBERS = [
  '0', '-0', '-1', '1', '00', '007', '2147483647', '2147483648', '-2147483649', '4294967296',
  '9007199254740991', '9007199254740992', '9007199254740993', '9223372036854775807', '9223372036854775808',
  '18446744073709551616', 'NaN', 'Infinity', '-Infinity', '1e309', '-1e309', '1e-400', '1.5', '0.0000001',
  '.5', '5.', '1e3', '0x10', '+1', '1_000', '١٢٣', '９', '9'.repeat(40), '9'.repeat(400), '1'.repeat(5000),
];

/** Characters parsers trip on. Lone surrogates make strings that are not valid UTF-16 (and not UTF-8 on the wire). */
export const NASTY_CHARS = [
  '\0', '\u0001', '\u0007', '\b', '\t', '\n', '\r', '\r\n', '\u000b', '\u001f', '\u007f', '\u0085', '\u00a0',
  '\u2028', '\u2029', '\u200b', '\u202e', '\ufeff', '\ufffd', '\uffff', '\ud800', '\udfff', '\ud83d\ude00',
  'é', 'ü', '中', '%', '%00', '%ff', '%2', '%%', '%E4%B8', '\\', '"', "'", '<', '>', '&', ';', '=', '?', '#',
  '*', '{', '}', '[', ']', '{autoext}', '{source}', '$', '`', ' ', '  ', '+', '-', '.', '..', '../', '~',
];

/** Base64 values that are not names: wrong alphabet, wrong padding, impossible lengths, bytes that are not UTF-8. */
export function base64Garbage(rng: Rng): string {
  const choices: (() => string)[] = [
    () => '!!',
    () => '====',
    () => 'A',
    () => 'AAAAA',
    () => 'AB=C',
    () => 'QQ===',
    () => 'Q=Q=',
    () => '-_-_',
    () => '+/+/',
    () => '',
    () => '%3D%3D',
    () => Buffer.from([0xff, 0xfe, 0xfd, 0x80]).toString('base64url'),
    () => Buffer.from('\0').toString('base64'),
    () => Buffer.from('a\0b').toString('base64url'),
    () => Buffer.from('/abs/key').toString('base64url'),
    () => Buffer.from('\\back').toString('base64url'),
    () => Buffer.from('\n').toString('base64url'),
    () => Buffer.from('\r\n\r\n').toString('base64url'),
    () => Buffer.from('x'.repeat(rng.pick([1023, 1024, 4000]))).toString('base64url'),
    () => Buffer.from('\ud800', 'utf16le').toString('base64url'),
    () => Buffer.from(Array.from({ length: rng.range(1, 40) }, () => rng.int(256))).toString(rng.chance(0.5) ? 'base64' : 'base64url'),
    () => 'A'.repeat(rng.range(1, 9)),
    () => `${Buffer.from('ok.mp3').toString('base64url')}${rng.pick(['=', '==', '===', '!', '\n', ' ', '%0A'])}`,
  ];
  return rng.pick(choices)();
}

// ---------------------------------------------------------------------------------------------------------
// Generic text mutators.

function at(s: string, rng: Rng): number {
  return rng.int(s.length + 1);
}

export const flipChar: Mutator = (s, rng) => {
  if (s.length === 0) return rng.pick(NASTY_CHARS);
  const i = rng.int(s.length);
  const c = rng.chance(0.5) ? rng.pick(NASTY_CHARS) : String.fromCharCode(rng.chance(0.8) ? rng.range(0x20, 0x7e) : rng.int(0x10000));
  return s.slice(0, i) + c + s.slice(i + 1);
};

export const flipBit: Mutator = (s, rng) => {
  if (s.length === 0) return s;
  const i = rng.int(s.length);
  return s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ (1 << rng.int(8))) + s.slice(i + 1);
};

export const insertNasty: Mutator = (s, rng) => {
  const i = at(s, rng);
  return s.slice(0, i) + rng.pick(NASTY_CHARS) + s.slice(i);
};

export const truncate: Mutator = (s, rng) => s.slice(0, rng.int(s.length));

export const deleteSpan: Mutator = (s, rng) => {
  const i = rng.int(s.length);
  return s.slice(0, i) + s.slice(i + rng.range(1, 12));
};

export const duplicateSpan: Mutator = (s, rng) => {
  const i = rng.int(s.length);
  const j = Math.min(s.length, i + rng.range(1, 40));
  return s.slice(0, j) + s.slice(i, j).repeat(rng.range(1, 4)) + s.slice(j);
};

/** Replaces a run of digits (or inserts at random) with a boundary number. */
export const boundaryNumber: Mutator = (s, rng) => {
  const runs = [...s.matchAll(/\d+/g)];
  const n = rng.pick(BOUNDARY_NUMBERS);
  if (runs.length === 0) {
    const i = at(s, rng);
    return s.slice(0, i) + n + s.slice(i);
  }
  const r = rng.pick(runs);
  return s.slice(0, r.index) + n + s.slice(r.index + r[0].length);
};

/** Blows one character up into a long run (or appends a long tail). */
export const overLong: Mutator = (s, rng) => {
  const i = rng.int(s.length);
  const c = s[i] ?? 'a';
  const n = rng.pick([256, 1024, 1025, 4096, 20_000]);
  return s.slice(0, i) + c.repeat(n) + s.slice(i);
};

/** Repeats one separator (`,`, `/`, `|`, `_`, `.`, `=`, `&`) 2-6 times, or inserts a doubled one. */
export const repeatSeparator: Mutator = (s, rng) => {
  const seps = [...s.matchAll(/[,/|_.=&]/g)];
  if (seps.length === 0 || rng.chance(0.2)) {
    const i = at(s, rng);
    return s.slice(0, i) + rng.pick([',,', '//', '||', '__', '..', '&&', '==']) + s.slice(i);
  }
  const m = rng.pick(seps);
  return s.slice(0, m.index) + m[0].repeat(rng.range(2, 6)) + s.slice(m.index + 1);
};

export const GENERIC: readonly Mutator[] = [flipChar, flipBit, insertNasty, truncate, deleteSpan, duplicateSpan, boundaryNumber, overLong, repeatSeparator];

/** Inputs are cut to this many characters: the servers' body limits are about 1 MB, and bigger inputs only test those. */
export const MAX_INPUT_CHARS = 900_000;

/** Applies 1-`max` mutators chosen from `pool`. */
export function mutate(s: string, rng: Rng, pool: readonly Mutator[], max = 3): string {
  let out = s;
  const n = rng.range(1, max);
  for (let i = 0; i < n; i++) out = rng.pick(pool)(out, rng).slice(0, MAX_INPUT_CHARS);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Process strings: `action,k_v,.../sub,k_v|sys/saveas,o_..[/notify,topic_..]`.

const PROCESS_KEYS = [
  'f', 'ss', 't', 'ar', 'ac', 'ab', 'aq', 'abopt', 'adepth', 'vn', 'an', 'vcodec', 'acodec', 'fps', 'fpsopt', 'pixfmt', 's', 'sopt',
  'scaletype', 'arotate', 'g', 'vb', 'vbopt', 'crf', 'maxrate', 'bufsize', 'sn', 'align', 'o', 'b', 'topic', 'x', 'F', 'AR', '',
];
const PROCESS_VALUES = [
  'mp3', 'aac', 'flac', 'oga', 'ac3', 'opus', 'amr', 'mp4', 'mkv', 'mov', 'asf', 'avi', 'mxf', 'ts', 'flv', 'webm', 'h264', 'h265', 'vp9',
  'copy', 'pcm', 'vorbis', 'hls', 'dash', 'yuv420p', 'yuva420p', 'stretch', 'crop', 'fill', 'fit', '1280x720', 'x', '64x', 'x4096', '4097x2',
  '0', '1', '2', '3', '44100', '48000', '96000', '', '16', '24',
];
const PROCESS_TOKENS = [
  '/pre', '/sur', '/segment', '/notify', '/saveas', '|sys/saveas', '|sys/saveas,', '|', 'sys/saveas', 'audio/convert', 'video/concat', 'audio/info',
  'video/info', 'image/resize,w_100', 'style/x', 'video/snapshots', 'doc/convert', '/pre,o_eA', '/sur,o_eA,ss_1', '/segment,f_hls,t_1000',
  '/notify,topic_VG9waWM', ',f_mp4', ',o_', ',_', ',', '/', '_', '%2C', '%7C', '%2F',
];

/** The `_`-separated value of a random `key_value` token is replaced. */
function replaceValue(s: string, rng: Rng, make: (key: string) => string): string {
  const tokens = [...s.matchAll(/(^|[,/|])([A-Za-z]+)_([^,/|]*)/g)];
  if (tokens.length === 0) return s;
  const m = rng.pick(tokens);
  const start = m.index + m[1]!.length + m[2]!.length + 1;
  return s.slice(0, start) + make(m[2]!) + s.slice(start + m[3]!.length);
}

export const processMutators: readonly Mutator[] = [
  ...GENERIC,
  // A known key with a wrong or boundary value.
  (s, rng) => replaceValue(s, rng, () => (rng.chance(0.5) ? rng.pick(BOUNDARY_NUMBERS) : rng.pick(PROCESS_VALUES))),
  // Base64 garbage in o_, b_ or topic_ (or anywhere a value is).
  (s, rng) => replaceValue(s, rng, (k) => (['o', 'b', 'topic'].includes(k) || rng.chance(0.3) ? base64Garbage(rng) : rng.pick(NASTY_CHARS))),
  // Insert a parameter, known or not.
  (s, rng) => {
    const commas = [...s.matchAll(/,/g)].map((m) => m.index);
    const i = commas.length > 0 ? rng.pick(commas) : s.length;
    const v = rng.chance(0.5) ? rng.pick(PROCESS_VALUES) : rng.pick(BOUNDARY_NUMBERS);
    return `${s.slice(0, i)},${rng.pick(PROCESS_KEYS)}_${v}${s.slice(i)}`;
  },
  // Insert a structural token.
  (s, rng) => {
    const i = at(s, rng);
    return s.slice(0, i) + rng.pick(PROCESS_TOKENS) + s.slice(i);
  },
  // Delete or duplicate a whole `,k_v` / `/op,...` / `|pipe` token.
  (s, rng) => {
    const parts = s.split(/(?=[,/|])/);
    if (parts.length < 2) return s;
    const i = rng.int(parts.length);
    if (rng.chance(0.5)) parts.splice(i, 1);
    else parts.splice(i, 0, ...Array.from({ length: rng.range(1, 3) }, () => parts[i]!));
    return parts.join('');
  },
  // Empty segments: a value, a key or a whole op removed.
  (s, rng) => replaceValue(s, rng, () => ''),
  (s, rng) => s.replace(rng.pick([/,[a-z]+_/, /\/[a-z]+,/, /\|[^|]*$/]), rng.pick([',', '/', '|', ',_', ''])),
  // Many clips (the clip limit) or a very long parameter list.
  (s, rng) => {
    const n = rng.pick([11, 12, 100, 2000]);
    const clip = `/pre,o_${Buffer.from('c.mp3').toString('base64url')}`;
    const i = s.indexOf('|') < 0 ? s.length : s.indexOf('|');
    return s.slice(0, i) + clip.repeat(n) + s.slice(i);
  },
  (s, rng) => {
    const i = s.indexOf(',');
    return i < 0 ? s : s.slice(0, i) + `,${rng.pick(PROCESS_KEYS)}_${rng.pick(PROCESS_VALUES)}`.repeat(rng.pick([2, 50, 3000])) + s.slice(i);
  },
];

/** The body of `POST ?x-oss-async-process`: `<field>=<process>`, raw or percent-encoded, sometimes damaged itself. */
export function processBody(field: string, process: string, rng: Rng): string {
  const r = rng.int(10);
  if (r < 5) return `${field}=${process}`;
  if (r < 8) {
    let enc: string;
    try {
      enc = encodeURIComponent(process);
    } catch {
      enc = process; // lone surrogates cannot be percent-encoded: send them raw
    }
    return `${field}=${rng.chance(0.3) ? mutate(enc, rng, GENERIC, 1) : enc}`;
  }
  return rng.pick([
    () => process,
    () => `${field}`,
    () => `${field}=`,
    () => `${field.toUpperCase()}=${process}`,
    () => `x-oss-process=${process}`,
    () => `${field}=${process}&${field}=${process}`,
    () => `${field}==${process}`,
    () => `${field}=${process}\r\n\r\n`,
    () => `${field}=${'%'.repeat(rng.range(1, 5))}${process}`,
  ])();
}

// ---------------------------------------------------------------------------------------------------------
// XML bodies.

/** Entity and character references: numeric ones out of range or naming surrogates, unknown named ones. */
export const XML_REFERENCES = [
  '&amp;', '&lt;', '&gt;', '&quot;', '&apos;', '&#0;', '&#1;', '&#x0;', '&#65;', '&#x41;', '&#xD800;', '&#xDFFF;', '&#55296;', '&#x10FFFF;',
  '&#x110000;', '&#1114112;', '&#xFFFFFFFF;', '&#99999999999999999999;', '&#-1;', '&#x;', '&#;', '&#xZZ;', '&#x1F600;', '&nbsp;', '&copy;',
  '&unknown;', '&amp', '&', '&#', '&#x', '&#38;#38;', '&#x26;amp;', '&lt;Key&gt;',
];

function elementNames(s: string): string[] {
  return [...new Set([...s.matchAll(/<([A-Za-z_][\w.:-]*)[\s>/]/g)].map((m) => m[1]!))];
}

/** Replaces the text of a random leaf element. */
function replaceText(s: string, rng: Rng, make: () => string): string {
  const leaves = [...s.matchAll(/<([A-Za-z_][\w.:-]*)>([^<]*)<\/\1>/g)];
  if (leaves.length === 0) return s;
  const m = rng.pick(leaves);
  const start = m.index + m[1]!.length + 2;
  return s.slice(0, start) + make() + s.slice(start + m[2]!.length);
}

/** A random element (open tag to its matching close) — the first match of a name, good enough for fuzzing. */
function elementSpan(s: string, rng: Rng): { start: number; end: number; name: string } | undefined {
  const names = elementNames(s);
  if (names.length === 0) return undefined;
  const name = rng.pick(names);
  const start = s.indexOf(`<${name}`);
  const close = s.indexOf(`</${name}>`, start);
  if (start < 0 || close < 0) return undefined;
  return { start, end: close + name.length + 3, name };
}

export const xmlMutators: readonly Mutator[] = [
  ...GENERIC.filter((m) => m !== overLong),
  (s, rng) => replaceText(s, rng, () => rng.pick(BOUNDARY_NUMBERS)),
  (s, rng) => replaceText(s, rng, () => rng.pick(NASTY_CHARS).repeat(rng.range(1, 3))),
  (s, rng) => replaceText(s, rng, () => rng.pick(XML_REFERENCES)),
  (s, rng) => replaceText(s, rng, () => ''),
  (s, rng) => replaceText(s, rng, () => 'v'.repeat(rng.pick([1024, 1025, 65_537, 200_000]))),
  (s, rng) => replaceText(s, rng, () => `<![CDATA[${rng.pick(['x', ']]>', '<a>', '', '\0'])}]]>`),
  (s, rng) => replaceText(s, rng, () => `<${rng.pick(['Key', 'Part', 'x', '__proto__', 'constructor', 'toString'])}>${rng.pick(BOUNDARY_NUMBERS)}</${rng.pick(['Key', 'Part', 'x', '__proto__', 'constructor', 'toString'])}>`),
  // Insert a reference or markup anywhere.
  (s, rng) => {
    const i = at(s, rng);
    const bits = [...XML_REFERENCES, '<!-- c -->', '<!--', '-->', '<?pi x?>', '<?xml version="1.0"?>', '<a/>', '</a>', '<a>', '<', '>', ']]>', '<![CDATA[', 'xmlns:x="u"', ' a="1"', ' a=1'];
    return s.slice(0, i) + rng.pick(bits) + s.slice(i);
  },
  // Duplicate, delete or rename an element.
  (s, rng) => {
    const e = elementSpan(s, rng);
    if (!e) return s;
    const text = s.slice(e.start, e.end);
    const times = Math.min(rng.pick([1, 2, 1001]), Math.floor(MAX_INPUT_CHARS / Math.max(1, text.length)));
    return s.slice(0, e.end) + text.repeat(times) + s.slice(e.end);
  },
  (s, rng) => {
    const e = elementSpan(s, rng);
    return e ? s.slice(0, e.start) + s.slice(e.end) : s;
  },
  (s, rng) => {
    const names = elementNames(s);
    if (names.length === 0) return s;
    const from = rng.pick(names);
    const to = rng.pick(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'x:' + from, from.toLowerCase(), from.toUpperCase(), `${from}s`, 'Object', 'Part', 'Key', '#text', 'a.b']);
    return s.split(`<${from}>`).join(`<${to}>`).split(`</${from}>`).join(`</${to}>`);
  },
  // Attributes, namespaces and prefixes on the root.
  (s, rng) => s.replace(/<([A-Za-z_][\w.-]*)>/, (_m, n: string) => rng.pick([`<${n} xmlns="http://x/">`, `<p:${n} xmlns:p="u">`, `<${n} a="1" a="2">`, `<${n} __proto__="x">`])),
  // Deep nesting, inside the root or as the whole body.
  (s, rng) => {
    const depth = rng.pick([100, 1000, 10_000, 50_000]);
    const tag = rng.pick(['a', 'Part', 'Object', 'Key']);
    const nest = `<${tag}>`.repeat(depth) + 'x' + `</${tag}>`.repeat(depth);
    const i = s.indexOf('>', s.indexOf('<', s.indexOf('?>') + 1)) + 1;
    return i > 0 ? s.slice(0, i) + nest + s.slice(i) : nest;
  },
  // A byte-order mark, a second declaration, a declaration in the wrong place, an encoding that is not UTF-8.
  (s, rng) => rng.pick(['\ufeff', '<?xml version="1.0" encoding="UTF-16"?>', '  \n', '<?xml version="1.1"?>', '<?xml?>']) + s,
  (s, rng) => s + rng.pick(['<x/>', '</x>', 'trailing', '\0', '<!-- -->', '<?pi?>']),
];

// ---------------------------------------------------------------------------------------------------------
// JSON values (IMM complex parameters).

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Replacement values: boundary numbers, every JSON type, odd strings. */
export function nastyJsonValue(rng: Rng): Json {
  return rng.pick<() => Json>([
    () => 0,
    () => -1,
    () => 2 ** 31,
    () => 2 ** 53,
    () => 2 ** 53 + 2,
    () => -(2 ** 63),
    () => 1e308,
    () => -1e308,
    () => 5e-324,
    () => 0.1,
    () => 1.5,
    () => rng.pick(BOUNDARY_NUMBERS),
    () => true,
    () => false,
    () => null,
    () => '',
    () => [],
    () => {
      return {};
    },
    () => [null],
    () => [[[]]],
    () => rng.pick(NASTY_CHARS),
    () => 'x'.repeat(rng.pick([129, 257, 2049, 70_000])),
    () => 'oss://',
    () => 'oss://b/',
    () => 'oss:///k',
    () => 'oss://Bad_Bucket/k',
    () => 'oss://b/' + 'k'.repeat(1024),
    () => 'oss://in-bucket/\0',
    () => 'oss://in-bucket//abs',
    () => '[object Object]',
    () => 'copy',
    () => 'true',
    () => 'fixed',
    () => 'hls',
    () => '1280x720',
    () => '99999999999x1',
    () => '2024-02-30T25:61:61Z',
    () => '0000-00-00T00:00:00Z',
    () => '+275760-09-13T00:00:00Z',
    () => '9999-12-31T23:59:59.9999999999+99:99',
    () => {
      return { __proto__: 1 } as unknown as Json;
    },
    () => JSON.parse('{"__proto__": {"polluted": 1}}') as Json,
    () => {
      return { constructor: { prototype: { polluted: 1 } } };
    },
  ])();
}

/** Every path to a node of a JSON value. */
function paths(v: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function clone(v: Json): Json {
  return JSON.parse(JSON.stringify(v)) as Json;
}

/** Applies `f` to the node at `path` (the root when empty) and returns the new whole value. */
function update(root: Json, path: (string | number)[], f: (node: Json) => Json | undefined): Json {
  if (path.length === 0) return f(root) ?? null;
  const parentPath = path.slice(0, -1);
  let parent = root as Record<string | number, Json>;
  for (const p of parentPath) parent = parent[p] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  const next = f(parent[last]!);
  if (next === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else Object.defineProperty(parent, last, { value: next, enumerable: true, writable: true, configurable: true });
  return root;
}

/** A structural mutation of a JSON value (on a copy). */
export function mutateJson(value: Json, rng: Rng): Json {
  const root = clone(value);
  const ps = paths(root);
  const path = rng.pick(ps);
  const r = rng.int(9);
  if (r < 3) return update(root, path, () => nastyJsonValue(rng));
  if (r === 3) return path.length === 0 ? root : update(root, path, () => undefined);
  if (r === 4) {
    return update(root, path, (node) => {
      if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
        const key = rng.pick(['Unknown', '__proto__', 'constructor', 'uri', 'URI ', '', '0', 'Codec', 'Stream', 'Attached', 'Subtitles', 'Image']);
        Object.defineProperty(node, key, { value: nastyJsonValue(rng), enumerable: true, writable: true, configurable: true });
        return node;
      }
      if (Array.isArray(node)) return [...node, ...Array.from({ length: rng.pick([1, 11, 1000]) }, () => clone(node[0] ?? null))];
      return [node];
    });
  }
  if (r === 5) {
    // Deep nesting around a node.
    const depth = rng.pick([10, 100, 1000]);
    return update(root, path, (node) => {
      let out: Json = node;
      const asArray = rng.chance(0.5);
      for (let i = 0; i < depth; i++) out = asArray ? [out] : { a: out };
      return out;
    });
  }
  if (r === 6) {
    // Type confusion: a number as a string, a string as a number, a scalar as a list.
    return update(root, path, (node) => (typeof node === 'number' ? String(node) : typeof node === 'string' && /^\d+$/.test(node) ? Number(node) : typeof node === 'boolean' ? String(node).toUpperCase() : [node]));
  }
  if (r === 7) {
    // Swap in a node from elsewhere in the value.
    const other = rng.pick(ps);
    let node: Json = root;
    for (const p of other) node = (node as Record<string | number, Json>)[p]!;
    const copy = clone(node);
    return update(root, path, () => copy);
  }
  return update(root, path, (node) => (typeof node === 'string' ? mutate(node, rng, GENERIC, 2) : node));
}

/**
 * JSON text of a (mutated) value, sometimes damaged as text: truncated, a flipped byte, a duplicate key,
 * a raw number that JSON.parse reads as Infinity or a lossy integer.
 */
export function jsonText(value: Json, rng: Rng): string {
  let text = JSON.stringify(value);
  if (text === undefined) return 'undefined';
  const r = rng.int(10);
  if (r === 0) text = truncate(text, rng);
  else if (r === 1) text = mutate(text, rng, [flipChar, insertNasty, deleteSpan, repeatSeparator], 2);
  else if (r === 2) text = text.replace(/\d+(\.\d+)?/, () => rng.pick(['1e309', '-1e309', '9'.repeat(400), '1.0e-400', '9007199254740993', '-0', '01', 'NaN']));
  else if (r === 3) text = text.replace(/^\{/, `{"${rng.pick(['URI', 'Container', '__proto__', 'Codec'])}": ${JSON.stringify(nastyJsonValue(rng))}, `).replace(/, \}$/, '}');
  else if (r === 4) text = rng.pick(['', ' ', 'null', '[]', '{}', '[null]', '"x"', '0', 'true', '[', '{', '\ufeff[]', '[]]', '/*c*/[]']);
  else if (r === 5) {
    // Deep nesting as text (deeper than JSON.stringify itself could write): arrays or objects around the value.
    const depth = rng.pick([1000, 10_000, 100_000]);
    text = rng.chance(0.5) ? `${'['.repeat(depth)}${text}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}${text}${'}'.repeat(depth)}`;
  }
  return text;
}

/**
 * pop-core's flattened form of a value: `Name.1.Key.Sub=value` pairs (1-based list indexes), with the
 * key paths sometimes damaged: 0-based or huge indexes, gaps, empty segments, prototype names, a key both
 * as a leaf and a branch.
 */
export function flatten(name: string, value: Json, rng: Rng, damage: boolean): [string, string][] {
  const out: [string, string][] = [];
  const walk = (v: Json, at: string): void => {
    if (Array.isArray(v)) {
      if (v.length === 0) out.push([at, '']);
      v.forEach((x, i) => walk(x, `${at}.${i + 1}`));
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      if (entries.length === 0) out.push([at, '']);
      for (const [k, x] of entries) walk(x, `${at}.${k}`);
    } else out.push([at, v === null ? '' : String(v)]);
  };
  walk(value, name);
  if (damage && out.length > 0) {
    const i = rng.int(out.length);
    const [k, v] = out[i]!;
    const segs = k.split('.');
    const j = rng.range(1, Math.max(1, segs.length - 1));
    segs[j] = rng.pick(['0', '-1', '01', '99999999999999999999', '2', '', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '1e3', ' 1', 'NaN']);
    const damaged = segs.join('.');
    if (rng.chance(0.5)) out[i] = [damaged, v];
    else out.push([damaged, rng.chance(0.5) ? v : '[object Object]']);
    if (rng.chance(0.2)) out.push([`${k}.x`, 'y']);
    // A key path deeper than any value (the rebuilt tree is walked recursively).
    if (rng.chance(0.1)) out.push([`${k}${'.a'.repeat(rng.pick([65, 1000, 100_000]))}`, 'deep']);
  }
  return out;
}
