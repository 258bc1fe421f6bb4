/**
 * Extra access keys (like RAM users): a JSON file with per-bucket grants, so a deployment can give an
 * application a key that may read one bucket and write another, and nothing else.
 *
 *   { "keys": [ { "accessKeyId": "LTAIapp0000000001", "accessKeySecret": "...",
 *                 "buckets": { "media-in": "read", "media-out": "read-write" } } ] }
 *
 * The legacy source: read once at start, per node, and never written. Keys every node must share belong in
 * the database (`medley keys`, src/auth/key-store.ts); file keys take precedence over database keys.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Credential } from './credentials.js';

const KeyFile = z.object({
  keys: z.array(
    z.object({
      accessKeyId: z.string().regex(/^[A-Za-z0-9_.-]{8,128}$/, 'must be 8-128 characters of A-Z a-z 0-9 _ . -'),
      accessKeySecret: z.string().min(16, 'must be at least 16 characters').max(256),
      buckets: z.record(z.string(), z.enum(['read', 'read-write'])).default({}),
    }),
  ),
});

export class AccessKeysError extends Error {}

/** Reads the file; `required` false makes a missing file mean "no extra keys". */
export async function loadAccessKeys(file: string, required: boolean): Promise<Credential[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new AccessKeysError(`cannot read the access-keys file ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AccessKeysError(`the access-keys file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = KeyFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AccessKeysError(`the access-keys file ${file} is not valid: ${issue.path.join('.')}: ${issue.message}`);
  }
  const seen = new Set<string>();
  return parsed.data.keys.map((k) => {
    if (seen.has(k.accessKeyId)) throw new AccessKeysError(`the access-keys file ${file} lists ${k.accessKeyId} twice`);
    seen.add(k.accessKeyId);
    return { accessKeyId: k.accessKeyId, secret: k.accessKeySecret, grants: k.buckets };
  });
}
