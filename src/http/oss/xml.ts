/**
 * XML in and out for the OSS dialect. Output: `<?xml ...?>` declaration, no namespace on any root
 * (oss2 parses with plain ElementTree.find), elements in the order given. Input: bounded, validated,
 * and every failure is MalformedXML naming what was wrong.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { fail } from '../../errors.js';
import { forbiddenXmlDeclaration } from '../xml-safety.js';

const builder = new XMLBuilder({ ignoreAttributes: true, format: false, suppressEmptyNode: false, processEntities: true });

/** Value shapes the builder accepts: nested objects, arrays for repeated elements, scalars for text. */
export type XmlValue = string | number | boolean | XmlObject | XmlValue[] | undefined;
export interface XmlObject {
  [element: string]: XmlValue;
}

/** Serialises `{ Root: {...} }`; undefined members are left out. */
export function toXml(doc: XmlObject): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build(prune(doc)) as string}`;
}

function prune(v: XmlValue): XmlValue {
  if (Array.isArray(v)) return v.map(prune);
  if (v !== null && typeof v === 'object') {
    const out: XmlObject = {};
    for (const [k, child] of Object.entries(v)) if (child !== undefined) out[k] = prune(child);
    return out;
  }
  return v;
}

/**
 * Parses a request body. `arrays` names the elements that may repeat (Part, Object) so one occurrence
 * still comes back as a list. Text is kept as strings (no number coercion: keys like "007" stay).
 */
export function parseXml(body: Buffer, root: string, arrays: readonly string[] = []): Record<string, unknown> {
  const text = body.toString('utf8');
  if (text.trim() === '') fail('MalformedXML', `The request body is empty; expected a <${root}> document.`);
  const forbidden = forbiddenXmlDeclaration(text);
  if (forbidden !== undefined) fail('MalformedXML', `The XML you provided was not well-formed: ${forbidden}.`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) fail('MalformedXML', `The XML you provided was not well-formed: ${valid.err.msg} (line ${valid.err.line}).`);
  const parser = new XMLParser({
    ignoreAttributes: true,
    parseTagValue: false,
    trimValues: true,
    processEntities: true,
    // ali-oss escapes keys with numeric character references (' → &#39;).
    htmlEntities: true,
    ignoreDeclaration: true,
    isArray: (name) => arrays.includes(name),
  });
  const doc = parseChecked(parser, text, (why) => fail('MalformedXML', `The XML you provided was not well-formed: ${why}.`));
  const top = doc[root];
  if (top === undefined) fail('MalformedXML', `The XML root element must be <${root}>.`);
  return (typeof top === 'object' && top !== null ? top : {}) as Record<string, unknown>;
}

/**
 * `parser.parse`, with the parser's own refusals of well-formed but hostile documents (more than 100 nested
 * elements, element names such as `__proto__`) turned into `reject(reason)`: they are the client's fault,
 * not a 500. Shared with the MNS dialect's parser.
 */
export function parseChecked(parser: XMLParser, text: string, reject: (why: string) => never): Record<string, unknown> {
  try {
    return parser.parse(text) as Record<string, unknown>;
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^\[SECURITY\]\s*/, '') : String(e);
    return reject(/Maximum nested tags/i.test(why) ? 'elements are nested too deeply' : why);
  }
}

/** XML timestamps in the `.000Z` form oss2's regex requires. */
export function xmlDate(d: Date): string {
  return `${d.toISOString().slice(0, 19)}.000Z`;
}

/** percent-encoding for encoding-type=url: RFC 3986, '/' as %2F, space as %20, never '+'. */
export function urlEncodeValue(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
