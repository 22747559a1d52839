/**
 * The runs a worker is executing or recovering, at most `size` at once. The queue consumer and the
 * recovery loop share them; when one ends, `onFreed` lets whichever left work behind for lack of
 * a slot take it.
 */
export class Slots {
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    readonly size: number,
    private readonly onFreed: () => void,
  ) {}

  has(runId: string): boolean {
    return this.inFlight.has(runId);
  }

  get free(): number {
    return this.size - this.inFlight.size;
  }

  /** Counts `work` against the slots until it settles. */
  track(runId: string, work: Promise<void>): void {
    this.inFlight.set(
      runId,
      work.finally(() => {
        this.inFlight.delete(runId);
        this.onFreed();
      }),
    );
  }

  /** Resolves once everything under way has settled. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()]);
  }
}
