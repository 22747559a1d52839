import * as E from 'fp-ts/Either';
import { formatError } from '../errors';
import { executeQueuedRun, releaseReservation, reserveQueuedRuns } from '../executor/queue';
import type { WorkerContext } from './workerContext';
import { RETRY_MS } from './workerOptions';

/**
 * Takes queued runs for the worker's free slots and executes each to its end: one claim round at
 * a time (`FOR UPDATE SKIP LOCKED`, so concurrent workers pick different runs), again whenever a
 * NOTIFY announces a run, a slot frees up with runs left over, or a failed round's second is up.
 */
export class QueueConsumer {
  private claiming: Promise<void> | undefined;
  /** Runs were (or may be) left on the queue: claim again once possible. */
  private again = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly w: WorkerContext) {}

  /** Whether a claim round is owed (a slot freeing up should start one). */
  get owed(): boolean {
    return this.again;
  }

  /** Claims queued runs for the free slots (or right after the round under way). */
  claimNow(): void {
    if (this.w.stopping()) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.again = false;
    this.claiming = this.claimRound().finally(() => {
      this.claiming = undefined;
      if (this.again && this.w.slots.free > 0) this.claimNow();
    });
  }

  private async claimRound(): Promise<void> {
    const { client } = this.w.options;
    const free = this.w.slots.free;
    if (free <= 0) {
      this.again = true;
      return;
    }
    const reserved = await reserveQueuedRuns(client, free);
    if (E.isLeft(reserved)) {
      if (!this.w.listenDown()) this.w.emit({ kind: 'sweep-failed', error: reserved.left });
      // No NOTIFY will announce these runs again: try again in a second (a LISTEN return also does).
      if (this.retry === undefined && !this.w.stopping()) {
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.claimNow();
        }, RETRY_MS);
      }
      return;
    }
    // As many as there was room for: there may be more.
    if (reserved.right.length === free) this.again = true;
    for (const runId of reserved.right) {
      this.w.emit({ kind: 'claimed', runId });
      this.w.slots.track(runId, this.execute(runId));
    }
  }

  private async execute(runId: string): Promise<void> {
    const { client, stopSignal, abortSignal } = this.w.options;
    try {
      const r = await executeQueuedRun(client, runId, {
        onClaimed: this.w.onClaimed,
        stopSignal,
        abortSignal,
        onProgress: (progress) => this.w.emit({ kind: 'step', progress }),
      });
      if (E.isLeft(r)) {
        const skipped = r.left._tag === 'RunAlreadyClaimed';
        this.w.emit({ kind: 'executed', runId, status: skipped ? 'skipped' : 'error', detail: formatError(r.left) });
      } else {
        const v = r.right;
        const status = v.released
          ? 'released'
          : v.status === 'success' || v.status === 'failed' || v.status === 'cancelled'
            ? v.status
            : 'error';
        this.w.emit({ kind: 'executed', runId, status, detail: v.error });
      }
    } finally {
      releaseReservation(client, runId);
    }
  }

  /** Stops retrying and waits for the claim round under way. */
  async stop(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    await this.claiming;
  }
}
