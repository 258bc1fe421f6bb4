/**
 * Coalescing of a costly idempotent action (an fsync): every caller is covered by a run of `fn` that began
 * after the caller's request, and callers that arrive together share one run; no caller is answered early.
 * A caller that arrives while a run is in flight (begun before its request, so not covering it) waits for
 * the next run. `maxInFlight` > 1 lets that next run start at once, overlapping the older one (the kernel
 * may batch overlapping fsyncs into one journal commit); on ext4 here 1 measured no worse and costs the
 * fewest fsyncs and thread-pool threads, so it is the default.
 */
export class Coalescer {
  private requested = 0;
  private done = 0;
  /** Runs in flight with the request count each will cover, newest last. */
  private readonly inFlight: Array<{ covers: number; promise: Promise<void> }> = [];
  /** How many times `fn` has run (for tests and metrics). */
  runs = 0;

  constructor(
    private readonly fn: () => Promise<void>,
    private readonly maxInFlight = 1,
  ) {}

  /** Records that there is something for the next run to cover (a commit), without waiting. */
  note(): void {
    this.requested++;
  }

  /** Whether everything noted so far is covered by a finished run. */
  get idle(): boolean {
    return this.done >= this.requested;
  }

  /** Resolves once a run that began after every note so far has finished; rejects if that run failed. */
  async wait(): Promise<void> {
    const target = this.requested;
    while (this.done < target) {
      const covering = this.inFlight.find((r) => r.covers >= target);
      if (covering) await covering.promise;
      else if (this.inFlight.length < this.maxInFlight) await this.start().promise;
      else await this.inFlight[0]!.promise.catch(() => undefined);
    }
  }

  /** note() + wait(). */
  run(): Promise<void> {
    this.note();
    return this.wait();
  }

  private start(): { covers: number; promise: Promise<void> } {
    const covers = this.requested;
    this.runs++;
    const entry = {
      covers,
      promise: this.fn().then(() => {
        this.done = Math.max(this.done, covers);
      }),
    };
    const remove = () => this.inFlight.splice(this.inFlight.indexOf(entry), 1);
    entry.promise.then(remove, remove);
    this.inFlight.push(entry);
    return entry;
  }
}
