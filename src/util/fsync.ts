/**
 * fsync of a path that is not open: a file, or a directory (which makes a rename or a new entry in it
 * durable). Used by the blob store's directory syncs and the SQLite group commit's WAL sync.
 */
import { open } from 'node:fs/promises';

export async function syncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
