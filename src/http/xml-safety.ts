/**
 * The one rule for untrusted XML bodies on every port (OSS documents, MNS requests): no document type
 * declarations. A DTD can declare entities (billion laughs, external entities), and no OSS or MNS request
 * uses one, so a body carrying `<!DOCTYPE`, `<!ENTITY`, `<!ELEMENT`, ... is refused before any parser sees it.
 * Comments and CDATA sections are skipped, so message text inside CDATA may say `<!DOCTYPE html>`.
 */

/** Why `text` must be refused (naming the declaration and its line), or undefined when it has none. */
export function forbiddenXmlDeclaration(text: string): string | undefined {
  let i = text.indexOf('<!');
  while (i >= 0) {
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return undefined; // unterminated: the well-formedness check names it
      i = text.indexOf('<!', end + 3);
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end < 0) return undefined;
      i = text.indexOf('<!', end + 3);
      continue;
    }
    const word = /^<!\s*([A-Za-z]*)/.exec(text.slice(i, i + 40))?.[1] ?? '';
    const line = text.slice(0, i).split('\n').length;
    return `${word ? `<!${word.toUpperCase()}` : '<!'} declarations (DTDs, entities) are not allowed (line ${line})`;
  }
  return undefined;
}
