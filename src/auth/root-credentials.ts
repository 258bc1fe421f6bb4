/**
 * The root key pair: from configuration, or generated on first start and kept in the data dir
 * (mode 0600) — never a built-in default secret.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Credential } from './credentials.js';

export interface RootCredentials extends Credential {
  /** Where the pair came from, for the startup banner. */
  source: 'config' | 'generated' | 'data-dir';
}

const FILE = 'credentials.json';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  // Rejection sampling keeps every character equally likely.
  for (const b of bytes) {
    if (b < 248) out += ALNUM[b % 62];
    if (out.length === length) return out;
  }
  return out + randomString(length - out.length);
}

export async function loadRootCredentials(dataDir: string, configured?: { accessKeyId?: string; accessKeySecret?: string }): Promise<RootCredentials> {
  if (configured?.accessKeyId && configured.accessKeySecret) {
    return { accessKeyId: configured.accessKeyId, secret: configured.accessKeySecret, source: 'config' };
  }
  const path = join(dataDir, FILE);
  try {
    const saved = JSON.parse(await readFile(path, 'utf8')) as { accessKeyId?: unknown; accessKeySecret?: unknown };
    if (typeof saved.accessKeyId === 'string' && typeof saved.accessKeySecret === 'string') {
      return { accessKeyId: saved.accessKeyId, secret: saved.accessKeySecret, source: 'data-dir' };
    }
    throw new Error(`${path} does not hold an accessKeyId and accessKeySecret`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const generated = { accessKeyId: `LTAI${randomString(20)}`, accessKeySecret: randomString(30) };
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await rename(tmp, path);
  return { accessKeyId: generated.accessKeyId, secret: generated.accessKeySecret, source: 'generated' };
}
