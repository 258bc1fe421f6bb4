/**
 * XML in and out for the MNS dialect. Output: the `<?xml?>` declaration and a root element carrying the MNS
 * namespace (`xmlns="http://mns.aliyuncs.com/doc/v1/"`), children in the order given. Input: validated,
 * no DTDs, text kept verbatim (message bodies keep their whitespace); every failure is an MNS error.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { fail } from '../../errors.js';
import { forbiddenXmlDeclaration } from '../xml-safety.js';
import { MNS_XML_NAMESPACE } from '../../notify/mns-service.js';
import { parseChecked } from '../oss/xml.js';

/** Ordered children: `[name, value]`; a nested list is a child element with children; undefined is left out. */
export type XmlChildren = [string, XmlContent][];
export type XmlContent = string | number | XmlChildren | undefined;

import { xmlEscape } from '../../util/text.js';

export { xmlEscape };

function children(list: XmlChildren): string {
  let out = '';
  for (const [name, value] of list) {
    if (value === undefined) continue;
    out += Array.isArray(value) ? `<${name}>${children(value)}</${name}>` : `<${name}>${xmlEscape(String(value))}</${name}>`;
  }
  return out;
}

/** `<?xml ...?>` + `<root xmlns="...">children</root>`. */
export function mnsXml(root: string, content: XmlChildren): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${MNS_XML_NAMESPACE}">${children(content)}</${root}>`;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  removeNSPrefix: true,
  isArray: (_name, jpath) => jpath === 'Messages.Message' || jpath === 'ReceiptHandles.ReceiptHandle',
});

export interface ParsedXml {
  /** The root element's name (namespace prefix removed). */
  root: string;
  /** Its children by name ({} for an empty root). */
  fields: Record<string, unknown>;
}

/** Parses a request body; MalformedXML when it is not one well-formed element. */
export function parseMnsXml(body: Buffer): ParsedXml {
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') fail('MnsMalformedXML', 'The request body is empty; an XML document is required.');
  const forbidden = forbiddenXmlDeclaration(text);
  if (forbidden !== undefined) fail('MnsMalformedXML', `The XML you provided was not well-formed: ${forbidden}.`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) fail('MnsMalformedXML', `The XML you provided was not well-formed: ${valid.err.msg} (line ${valid.err.line}).`);
  const doc = parseChecked(parser, text, (why) => fail('MnsMalformedXML', `The XML you provided was not well-formed: ${why}.`));
  const roots = Object.keys(doc).filter((k) => k !== '#text');
  if (roots.length !== 1) fail('MnsMalformedXML', 'The XML you provided was not well-formed: expected exactly one root element.');
  const root = roots[0]!;
  const top = doc[root];
  const fields = typeof top === 'object' && top !== null && !Array.isArray(top) ? (top as Record<string, unknown>) : {};
  return { root, fields };
}

/** Parses and checks the root element's name. */
export function parseMnsXmlAs(body: Buffer, root: string): Record<string, unknown> {
  const doc = parseMnsXml(body);
  if (doc.root !== root) fail('MnsInvalidArgument', `The XML you provided did not validate against our published schema: the root element must be <${root}>, not <${doc.root}>.`);
  return doc.fields;
}

function schemaError(element: string, why: string): never {
  return fail('MnsInvalidArgument', `The XML you provided did not validate against our published schema, cause by Element ${element}: ${why}.`);
}

/** A text child, verbatim (no trimming); undefined when absent. */
export function xmlText(fields: Record<string, unknown>, element: string): string | undefined {
  const v = fields[element];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) schemaError(element, 'it occurs more than once');
  return schemaError(element, 'it must contain text only');
}

/** An integer child; undefined when absent. */
export function xmlInt(fields: Record<string, unknown>, element: string): number | undefined {
  const v = xmlText(fields, element);
  if (v === undefined) return undefined;
  const t = v.trim();
  if (!/^[+-]?\d{1,15}$/.test(t)) schemaError(element, `"${t.slice(0, 40)}" is not an integer`);
  return Number(t);
}

/** A boolean child (True/False in any case); undefined when absent. */
export function xmlBool(fields: Record<string, unknown>, element: string): boolean | undefined {
  const v = xmlText(fields, element);
  if (v === undefined) return undefined;
  const t = v.trim().toLowerCase();
  if (t === 'true') return true;
  if (t === 'false') return false;
  return schemaError(element, `"${v.trim().slice(0, 40)}" is not True or False`);
}

/** A repeated child (arrays listed in the parser's isArray) as a list of objects or strings. */
export function xmlList(fields: Record<string, unknown>, element: string): unknown[] {
  const v = fields[element];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}
