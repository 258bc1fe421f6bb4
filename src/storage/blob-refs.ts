/**
 * Reference counting of blobs inside index transactions. A blob row exists only once something points
 * at it; when the last reference goes, the row is deleted in the same transaction and the file is
 * removed after commit. A crash between the two leaves a file with no row, which the orphan sweep
 * collects — so the index never points at a missing file and no file outlives its use for long.
 */
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { BlobStore } from './blob-store.js';
import { isInlineBlobId } from './inline-blobs.js';

type Tx = Transaction<Database>;

/** Registers a new blob with one reference; `data` holds the bytes of an inline blob (inline-blobs.ts). */
export async function addBlob(tx: Tx, id: string, size: number, now: Date, data?: Buffer): Promise<void> {
  await tx.insertInto('blobs').values({ id, size, refs: 1, created_at: now.getTime(), ...(data ? { data } : {}) }).execute();
}

export async function retain(tx: Tx, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    await tx.updateTable('blobs').set((eb) => ({ refs: eb('refs', '+', 1) })).where('id', '=', id).execute();
  }
}

/** Drops one reference from each id; returns the ids no longer referenced (their rows are gone). */
export async function release(tx: Tx, ids: readonly string[]): Promise<string[]> {
  const freed: string[] = [];
  for (const id of ids) {
    await tx.updateTable('blobs').set((eb) => ({ refs: eb('refs', '-', 1) })).where('id', '=', id).execute();
    const row = await tx.selectFrom('blobs').select('refs').where('id', '=', id).executeTakeFirst();
    if (row && row.refs <= 0) {
      await tx.deleteFrom('blobs').where('id', '=', id).execute();
      freed.push(id);
    }
  }
  return freed;
}

/**
 * Blobs being streamed to a reader right now. A blob freed while leased is removed when its last
 * reader finishes, so a GET that raced an overwrite or delete still sends the version it started.
 * (In-process: each node guards its own readers; the blob store of a scale-out deployment needs its
 * own grace period.)
 */
export class ReadLeases {
  private readonly counts = new Map<string, number>();
  private readonly doomed = new Set<string>();

  acquire(ids: readonly string[]): void {
    for (const id of ids) this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }

  /** Drops the leases; returns the ids that were freed meanwhile and can be removed now. */
  release(ids: readonly string[]): string[] {
    const removable: string[] = [];
    for (const id of ids) {
      const n = (this.counts.get(id) ?? 1) - 1;
      if (n > 0) {
        this.counts.set(id, n);
        continue;
      }
      this.counts.delete(id);
      if (this.doomed.delete(id)) removable.push(id);
    }
    return removable;
  }

  /** Of the freed ids, returns those nobody is reading; the others are removed on their release. */
  removableNow(ids: readonly string[]): string[] {
    return ids.filter((id) => {
      if (!this.counts.has(id)) return true;
      this.doomed.add(id);
      return false;
    });
  }
}

/**
 * Removes freed blob files after the transaction committed. Failures are left to the sweep. An inline
 * blob has no file: its bytes went with its row.
 */
export async function removeFreed(blobs: BlobStore, leases: ReadLeases, ids: readonly string[]): Promise<void> {
  const stored = ids.filter((id) => !isInlineBlobId(id));
  if (stored.length === 0) return;
  await Promise.all(leases.removableNow(stored).map((id) => blobs.remove(id).catch(() => undefined)));
}
