import type { Pool } from 'pg';
import type { Database } from '../db/database';
import { appendRunEvents, appendRunEventsBatch, type AppendResultRow, type AppendRunEventsCall } from '../queries/appendEvents';

export type { AppendResultRow } from '../queries/appendEvents';

interface Waiting {
  readonly call: AppendRunEventsCall;
  readonly resolve: (row: AppendResultRow | undefined) => void;
  readonly reject: (err: unknown) => void;
}

/** A bound on one statement's size; what is left over forms the next batch at once. */
const MAX_BATCH = 64;

/**
 * Group commit: appends that are ready while the commits in flight (`slots`: the client's
 * `appendSlots`, two by default, see DEFAULT_APPEND_SLOTS) are busy wait for one of them to
 * finish, then go to PostgreSQL together, as one statement calling `append_run_events` once per
 * run (one round trip, one transaction, one WAL flush). There is no timer: a lone append goes at
 * once, exactly as before, so sequential latency does not grow. Each run keeps its own expected-seq check, so a conflict
 * comes back as that run's row; an error that aborts the statement is retried run by run, so one
 * bad run fails only itself. Promises settle after the COMMIT: no run proceeds before its events
 * are durable. Per-run retries (transient errors, ambiguous commits) sit on top of `submit`, with
 * the same event ids, exactly as they did on a plain query. The price: a batch waiting on a row
 * lock (another process writing the same run, a projection rebuild) holds its slot meanwhile.
 */
export class AppendBatcher {
  private queue: Waiting[] = [];
  private inFlight = 0;
  /** Commits sent, appends they carried, commits of more than one append, for tests and the bench. */
  readonly stats = { commits: 0, appends: 0, batches: 0, largestBatch: 0, fallbacks: 0 };

  constructor(
    private readonly db: Database,
    /** How many commits may be in flight; appends that arrive while all are busy form the next batch. */
    readonly slots = db.appendSlots,
  ) {}

  /** Resolves with the run's `append_run_events` row once it is committed; rejects with what `pg` threw. */
  submit(call: AppendRunEventsCall): Promise<AppendResultRow | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ call, resolve, reject });
      if (this.inFlight < this.slots) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.inFlight += 1;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        this.stats.commits += 1;
        this.stats.appends += batch.length;
        this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
        if (batch.length > 1) this.stats.batches += 1;
        if (batch.length === 1) await this.sendOne(batch[0] as Waiting);
        else await this.sendBatch(batch);
      }
    } finally {
      this.inFlight -= 1;
    }
  }

  private async sendOne(w: Waiting): Promise<void> {
    try {
      w.resolve(await appendRunEvents(this.db, w.call));
    } catch (err) {
      w.reject(err);
    }
  }

  private async sendBatch(batch: Waiting[]): Promise<void> {
    // Row locks are taken in run id order, so two processes' batches over the same runs queue
    // behind each other instead of deadlocking. The sort is stable: one run's appends keep their order.
    const ordered = batch
      .map((w, i) => ({ w, i }))
      .sort((a, b) => (a.w.call.runId < b.w.call.runId ? -1 : a.w.call.runId > b.w.call.runId ? 1 : a.i - b.i));
    let rows: (AppendResultRow & { i: number })[];
    try {
      rows = await appendRunEventsBatch(
        this.db,
        ordered.map(({ w, i }) => ({ i, call: w.call })),
      );
    } catch {
      // The whole statement rolled back (or, on a lost connection, may have committed): each run
      // goes again alone with the same event ids, so a bad run fails only itself and a committed
      // one is found as a duplicate.
      this.stats.fallbacks += 1;
      await Promise.all(batch.map((w) => this.sendOne(w)));
      return;
    }
    const byIndex = new Map(rows.map((r) => [r.i, r]));
    batch.forEach((w, i) => w.resolve(byIndex.get(i)));
  }
}

const batchers = new WeakMap<Pool, Map<string, AppendBatcher>>();

/** The process's batcher for this pool and schema: every writer on the pool shares it. */
export const appendBatcherFor = (db: Database): AppendBatcher => {
  let bySchema = batchers.get(db.pool);
  if (bySchema === undefined) {
    bySchema = new Map();
    batchers.set(db.pool, bySchema);
  }
  let batcher = bySchema.get(db.schema);
  if (batcher === undefined) {
    batcher = new AppendBatcher(db);
    bySchema.set(db.schema, batcher);
  }
  return batcher;
};
