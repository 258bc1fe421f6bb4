/**
 * The MD5 of large uploads, computed on a worker thread (see hashing.ts): one core reads the socket and
 * writes the file while another hashes. Messages: {id, op: 'data', shared?, slot, length} (the job's
 * SharedArrayBuffer comes with its first batch; answered with an 'ack' naming the slot once hashed), {id, op: 'end'} (answered with the digest), {id, op: 'abort'}.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

type Message = { id: number; op: 'data'; shared?: SharedArrayBuffer; slot: number; length: number } | { id: number; op: 'end' | 'abort' };

/** Batch size; the same as hashing.ts (slot i starts at i * BATCH). */
const BATCH = 2 * 1024 * 1024;
const jobs = new Map<number, Hash>();
const buffers = new Map<number, SharedArrayBuffer>();
const port = parentPort!;

port.on('message', (m: Message) => {
  if (m.op === 'abort') {
    jobs.delete(m.id);
    buffers.delete(m.id);
    return;
  }
  let md5 = jobs.get(m.id);
  if (!md5) {
    md5 = createHash('md5');
    jobs.set(m.id, md5);
  }
  if (m.op === 'data') {
    if (m.shared) buffers.set(m.id, m.shared);
    md5.update(new Uint8Array(buffers.get(m.id)!, m.slot * BATCH, m.length));
    // The slot is free again for the next batch: no allocation per batch on either side.
    port.postMessage({ id: m.id, op: 'ack', slot: m.slot });
    return;
  }
  jobs.delete(m.id);
  buffers.delete(m.id);
  port.postMessage({ id: m.id, op: 'digest', md5: md5.digest() });
});
