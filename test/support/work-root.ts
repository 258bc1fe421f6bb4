/**
 * Where a test server's task work directories live: `<data>/work`, or, when FFmpeg runs as another user
 * that cannot reach the (mkdtemp, 0700) data dir, the per-data-dir root under the temp dir.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fallbackWorkRoot } from '../../src/media/engine/sandbox.js';

export function workRootOf(dataDir: string): string {
  const fallback = fallbackWorkRoot(dataDir);
  return existsSync(fallback) ? fallback : join(dataDir, 'work');
}
