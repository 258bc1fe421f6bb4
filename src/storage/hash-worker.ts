/**
 * The MD5 of large uploads, computed on a worker thread (see hashing.ts): one core reads the socket and
 * writes the file while another hashes. Messages: {id, op: 'data', buf, length} (buf transferred, answered
 * with an 'ack' that returns the buffer once hashed), {id, op: 'end'} (answered with the digest), {id, op: 'abort'}.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

type Message = { id: number; op: 'data'; buf: ArrayBuffer; length: number } | { id: number; op: 'end' | 'abort' };

const jobs = new Map<number, Hash>();
const port = parentPort!;

port.on('message', (m: Message) => {
  if (m.op === 'abort') {
    jobs.delete(m.id);
    return;
  }
  let md5 = jobs.get(m.id);
  if (!md5) {
    md5 = createHash('md5');
    jobs.set(m.id, md5);
  }
  if (m.op === 'data') {
    md5.update(new Uint8Array(m.buf, 0, m.length));
    // The buffer goes back (transferred) for the next batch: no allocation per batch on either side.
    port.postMessage({ id: m.id, op: 'ack', buf: m.buf }, [m.buf]);
    return;
  }
  jobs.delete(m.id);
  port.postMessage({ id: m.id, op: 'digest', md5: md5.digest() });
});
