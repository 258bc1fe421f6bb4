/**
 * Coalescing of a costly idempotent action (an fsync): every caller is covered by a run of `fn` that began
 * after the caller's request, and callers that arrive while a run is in flight share the next one. With N
 * concurrent writers this is about 2 runs instead of N serial ones, and no caller is answered early.
 */
export class Coalescer {
  private requested = 0;
  private done = 0;
  private running: Promise<void> | undefined;
  /** How many times `fn` has run (for tests and metrics). */
  runs = 0;

  constructor(private readonly fn: () => Promise<void>) {}

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
      this.running ??= this.once().finally(() => {
        this.running = undefined;
      });
      await this.running;
    }
  }

  /** note() + wait(). */
  run(): Promise<void> {
    this.note();
    return this.wait();
  }

  private async once(): Promise<void> {
    const target = this.requested;
    this.runs++;
    await this.fn();
    this.done = Math.max(this.done, target);
  }
}
