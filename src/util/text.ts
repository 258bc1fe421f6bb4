/** Text helpers shared by the dialects and the message service: XML escaping and the MNS-style MD5. */
import { createHash } from 'node:crypto';

/** Escapes XML text content. `\r` as a character reference: parsers would otherwise turn CR LF into LF. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"'\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' })[c] ?? c);
}

/** Uppercase hex MD5, the form MNS uses for Content-MD5 and MessageMD5 (spec/oss.md §8 #19). */
export function md5HexUpper(data: string | Buffer): string {
  return createHash('md5').update(data).digest('hex').toUpperCase();
}
