/**
 * Base64-encoded names in process strings (`o_`, `b_`, `topic_`), spec oss.md 5.3 and 8.5/8.6:
 * URL-safe (`-_`) and standard (`+/`) alphabets, `=` padding optional, and ONE trailing `\n` or `\r\n`
 * stripped (several documentation examples encode `"pre1.mp3\n"`). The decoded bytes must be UTF-8 and
 * the name non-empty and free of NUL.
 */
import { fail } from '../../errors.js';

/** Where a name came from, for error messages. */
export interface NameSite {
  /** What the value names: `o of the 2nd /pre clip`, `b of sys/saveas`. */
  parameter: string;
  /** The raw token as written: `o_cHJlMS5tcDMK`. */
  token: string;
  /** Message prefix, usually the action: `audio/concat`. */
  context?: string;
  /** `details.ArgumentName`; defaults to the token's key (text before the first `_`). */
  argumentName?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decode one encoded name; throws InvalidMediaArgument naming the parameter and the token. */
export function decodeBase64Name(encoded: string, site: NameSite): string {
  const reject = (problem: string): never => {
    const prefix = site.context ? `${site.context}: ` : '';
    const argumentName = site.argumentName ?? site.token.split('_', 1)[0] ?? site.parameter;
    fail('InvalidMediaArgument', `${prefix}parameter "${site.token}" (${site.parameter}) ${problem}`, {
      ArgumentName: argumentName,
      ArgumentValue: encoded,
    });
  };

  const m = /^([A-Za-z0-9+/_-]*)(={0,2})$/.exec(encoded);
  if (!m) return reject('is not base64: it contains characters outside the base64 alphabets');
  const body = m[1] ?? '';
  const padding = m[2] ?? '';
  if (body.length === 0) return reject('is empty');
  if (padding.length > 0 && (body.length + padding.length) % 4 !== 0) return reject('is not base64: its "=" padding is wrong');
  if (body.length % 4 === 1) return reject('is not base64: its length is impossible');

  const bytes = Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  let name: string;
  try {
    name = utf8.decode(bytes);
  } catch {
    return reject('does not decode to UTF-8 text');
  }
  if (name.endsWith('\r\n')) name = name.slice(0, -2);
  else if (name.endsWith('\n')) name = name.slice(0, -1);
  if (name.length === 0) return reject('decodes to an empty name');
  if (name.includes('\0')) return reject('decodes to a name containing NUL');
  return name;
}
