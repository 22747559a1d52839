import * as E from 'fp-ts/Either';
import { formatError } from '../errors';
import { concurrencyLimits, executeQueuedRun, releaseReservation, reserveQueuedRuns } from '../executor/queue';
import { Backoff } from './backoff';
import type { WorkerContext } from './workerContext';

/**
 * Takes queued runs for the worker's free slots and executes each to its end: one claim round at
 * a time (`FOR UPDATE SKIP LOCKED`, so concurrent workers pick different runs), again whenever a
 * NOTIFY announces a run, a slot frees up with runs left over, or a failed round's wait is over.
 * A round takes only runs of pipelines this worker has, at the same definition (lockQueuedRuns);
 * while rounds or executions keep failing, the next round waits 1 s, 2 s, 4 s … up to 30 s.
 * With a pipeline's concurrency limit, the end of each run this worker executed starts a round.
 */
export class QueueConsumer {
  private claiming: Promise<void> | undefined;
  /** Runs were (or may be) left on the queue: claim again once possible. */
  private again = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff();

  constructor(private readonly w: WorkerContext) {}

  /** Whether a claim round is owed (a slot freeing up should start one). */
  get owed(): boolean {
    return this.again;
  }

  /** Claims queued runs for the free slots (or right after the round under way; or once a backoff is over). */
  claimNow(): void {
    if (this.w.stopping()) return;
    if (this.claiming || this.retry !== undefined) {
      this.again = true;
      return;
    }
    this.again = false;
    this.claiming = this.claimRound().finally(() => {
      this.claiming = undefined;
      if (this.again && this.w.slots.free > 0) this.claimNow();
    });
  }

  /** The database is back (LISTEN restored): stop backing off and claim at once. */
  retryNow(): void {
    this.backoff.succeeded();
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.claimNow();
  }

  private waitThenClaim(ms: number): void {
    if (this.retry !== undefined || this.w.stopping()) return;
    this.again = false;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.claimNow();
    }, ms);
  }

  private async claimRound(): Promise<void> {
    const { client } = this.w.options;
    const free = this.w.slots.free;
    if (free <= 0) {
      this.again = true;
      return;
    }
    const reserved = await reserveQueuedRuns(client, free, this.w.options.pipelineConcurrency);
    if (E.isLeft(reserved)) {
      // No NOTIFY will announce these runs again: try again later (a LISTEN return also does).
      const retryInMs = this.backoff.failed();
      if (!this.w.listenDown()) this.w.emit({ kind: 'sweep-failed', error: reserved.left, retryInMs });
      this.waitThenClaim(retryInMs);
      return;
    }
    this.w.emit({ kind: 'claim-round', reserved: reserved.right.length });
    // As many as there was room for: there may be more.
    if (reserved.right.length === free) this.again = true;
    for (const runId of reserved.right) {
      this.w.emit({ kind: 'claimed', runId });
      this.w.slots.track(runId, this.execute(runId));
    }
  }

  /** Whether some pipeline of this worker has a concurrency limit. */
  private limited(): boolean {
    return Object.keys(concurrencyLimits(this.w.options.client, this.w.options.pipelineConcurrency)).length > 0;
  }

  private async execute(runId: string): Promise<void> {
    const { client, stopSignal, abortSignal } = this.w.options;
    let failed = false;
    try {
      const r = await executeQueuedRun(client, runId, {
        onClaimed: this.w.onClaimed,
        stopSignal,
        abortSignal,
        onProgress: (progress) => this.w.emit({ kind: 'step', progress }),
      });
      if (E.isLeft(r)) {
        const skipped = r.left._tag === 'RunAlreadyClaimed';
        failed = !skipped;
        this.w.emit({ kind: 'executed', runId, status: skipped ? 'skipped' : 'error', detail: formatError(r.left) });
      } else {
        const v = r.right;
        const status = v.released
          ? 'released'
          : v.status === 'success' || v.status === 'failed' || v.status === 'cancelled'
            ? v.status
            : v.suspended !== null && (v.status === 'sleeping' || v.status === 'waiting')
              ? v.status
              : 'error';
        failed = status === 'error';
        this.w.emit({ kind: 'executed', runId, status, detail: v.error });
      }
    } finally {
      releaseReservation(client, runId);
      // A run's end may make room under a pipeline's concurrency limit that held runs back: no
      // NOTIFY announces that room, so the worker whose run ended claims again when its slot frees.
      if (this.limited()) this.again = true;
      // A run that could not be executed is still on the queue: taking it again at once would spin.
      if (failed) this.waitThenClaim(this.backoff.failed());
      else this.backoff.succeeded();
    }
  }

  /** Stops retrying and waits for the claim round under way. */
  async stop(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    await this.claiming;
  }
}
