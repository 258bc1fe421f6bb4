/**
 * Off-thread MD5 for large uploads. On one core, MD5 (~300-800 MB/s) serialises with the socket reads and
 * file writes of a 1 GiB PUT; here the bytes are copied in batches into slots of a SharedArrayBuffer that
 * one shared worker thread reads (hash-worker.ts) while the main thread writes them and computes
 * the CRC-64, so each core does one job. Bounded: a job owns BUFFERS batch buffers, which the worker hands
 * back once hashed; when none is free, update() returns a promise and the caller (the ingest transform)
 * waits, which back-pressures the socket. The worker starts on first use and stops after IDLE_MS idle.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const BATCH = 2 * 1024 * 1024;
/** Per job: BUFFERS x BATCH bytes (2 MiB) at most, whether with the worker or being filled. */
const BUFFERS = 2;
const IDLE_MS = 30_000;
/** Bodies at least this long are hashed off the main thread (smaller ones are not worth the copies). */
export const OFF_THREAD_MIN_BYTES = 8 * 1024 * 1024;

type Reply = { id: number; op: 'ack'; slot: number } | { id: number; op: 'digest'; md5: Uint8Array };

interface JobState {
  onAck(slot: number): void;
  onDigest(md5: Buffer): void;
  onError(e: Error): void;
}

let worker: Worker | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let nextId = 1;
const jobs = new Map<number, JobState>();

/**
 * Whether a machine has a core to spare for hashing: more than 2 (one for the socket and the disk, one for
 * the hash, the rest for everything else). On a busy 2-core machine the copies and messages cost more than
 * the overlap gains (measured: 512 MiB ingest, median 271 MB/s with the worker against 333 without; on a
 * quiet 2-core machine, 1 GiB PUT through bench/storage.mjs: 259 MB/s and 5.7 s of server CPU with the worker,
 * 346 MB/s and 3.7 s without, and peak RSS of 8 concurrent PUTs 225 MB against 176; in four later alternating
 * runs the two were within noise, 0.34-0.40x of the bare server with the worker and 0.32-0.41x without).
 */
export const offThreadHashing = (): boolean => availableParallelism() > 2;

function startWorker(): Worker {
  // Under tsx (the tests run the sources), the worker is the .ts file, loaded through tsx too.
  if (import.meta.url.endsWith('.ts')) {
    const url = new URL('./hash-worker.ts', import.meta.url).href;
    const source = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
    return new Worker(source, { eval: true });
  }
  return new Worker(new URL('./hash-worker.js', import.meta.url));
}

function getWorker(): Worker {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  if (worker) return worker;
  const w = startWorker();
  w.unref();
  w.on('message', (m: Reply) => {
    const job = jobs.get(m.id);
    if (!job) return;
    if (m.op === 'ack') job.onAck(m.slot);
    else job.onDigest(Buffer.from(m.md5.buffer, m.md5.byteOffset, m.md5.byteLength));
  });
  const failAll = (e: Error) => {
    if (worker === w) worker = undefined;
    for (const job of jobs.values()) job.onError(e);
    jobs.clear();
  };
  w.on('error', failAll);
  w.on('exit', (code) => failAll(new Error(`the hashing worker exited (code ${code})`)));
  worker = w;
  return w;
}

function released(id: number): void {
  jobs.delete(id);
  if (jobs.size === 0 && worker && !idleTimer) {
    idleTimer = setTimeout(() => {
      idleTimer = undefined;
      if (jobs.size === 0 && worker) {
        const w = worker;
        worker = undefined;
        void w.terminate();
      }
    }, IDLE_MS);
    idleTimer.unref();
  }
}

/** MD5 of one body, computed by the worker. Feed with update(), then digest() once. */
export class OffThreadMd5 {
  private readonly id = nextId++;
  private readonly worker = getWorker();
  /**
   * BUFFERS batch slots in one SharedArrayBuffer the worker reads from: a message names a slot, no buffer
   * is transferred (transfers cost ~0.3 ms each on the main thread, measured) and nothing is allocated.
   */
  private readonly shared = new SharedArrayBuffer(BUFFERS * BATCH);
  private readonly free: number[] = Array.from({ length: BUFFERS }, (_, i) => BUFFERS - 1 - i);
  private sentShared = false;
  private slot = -1;
  private batch: Uint8Array | undefined;
  private filled = 0;
  private waiting: { resolve(): void; reject(e: Error): void } | undefined;
  private result: { resolve(md5: Buffer): void; reject(e: Error): void } | undefined;
  private error: Error | undefined;
  private done = false;

  constructor() {
    jobs.set(this.id, {
      onAck: (slot) => {
        this.free.push(slot);
        const w = this.waiting;
        this.waiting = undefined;
        w?.resolve();
      },
      onDigest: (md5) => {
        this.finish();
        this.result?.resolve(md5);
      },
      onError: (e) => {
        this.error = e;
        this.finish();
        this.waiting?.reject(e);
        this.result?.reject(e);
      },
    });
  }

  /** Copies `chunk` for the worker; resolves at once unless every buffer is with the worker (then once one is back). */
  update(chunk: Uint8Array): Promise<void> | undefined {
    if (this.error) return Promise.reject(this.error);
    let off = 0;
    while (off < chunk.length) {
      if (!this.batch) {
        const slot = this.free.pop();
        if (slot === undefined) return this.whenFree().then(() => this.update(chunk.subarray(off)));
        this.slot = slot;
        this.batch = new Uint8Array(this.shared, slot * BATCH, BATCH);
      }
      const n = Math.min(BATCH - this.filled, chunk.length - off);
      this.batch.set(chunk.subarray(off, off + n), this.filled);
      this.filled += n;
      off += n;
      if (this.filled === BATCH) this.send();
    }
    return undefined;
  }

  digest(): Promise<Buffer> {
    if (this.error) return Promise.reject(this.error);
    if (this.filled > 0) this.send();
    return new Promise((resolve, reject) => {
      this.result = { resolve, reject };
      this.worker.postMessage({ id: this.id, op: 'end' });
    });
  }

  /** Drops the job (the upload failed). */
  abort(): void {
    if (this.done) return;
    this.worker.postMessage({ id: this.id, op: 'abort' });
    this.finish();
  }

  private whenFree(): Promise<void> {
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  private send(): void {
    const shared = this.sentShared ? undefined : this.shared;
    this.sentShared = true;
    this.worker.postMessage({ id: this.id, op: 'data', shared, slot: this.slot, length: this.filled });
    this.batch = undefined;
    this.filled = 0;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    released(this.id);
  }
}
