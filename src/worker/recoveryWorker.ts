import * as E from 'fp-ts/Either';
import { fromPgError } from '../db/pgErrors';
import { formatError, type ConnectFailure, type DbFailure } from '../errors';
import { executionEnvFor } from '../executor/executionEnv';
import { executeQueuedRun, releaseReservation, reserveQueuedRuns } from '../executor/queue';
import { countQueuedRuns } from '../queries/countQueuedRuns';
import type { ClaimLatency } from '../queries/claimLatency';
import { readClaimLatency } from '../queries/readClaimLatency';
import { RunWatcher, type RunNotification } from '../listen/runWatcher';
import { clientOr, type OrbitClient } from '../runtime/orbitClient';
import { detectInterruptedRuns, type InterruptedRun } from '../recovery/detectInterruptedRuns';
import { msUntilNextInterruption } from '../recovery/liveness';
import { type RecoveryEvent, type RecoveryOutcome } from '../recovery/orchestrator';
import { resumeRun } from '../recovery/resumeRun';

/** How soon a failed sweep or claim is tried again. */
const RETRY_MS = 1000;
/** setTimeout's limit (about 24.8 days): a threshold may be longer; the worker then looks again. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the worker reports: recovery events, plus its own sweeps, wake-ups and connection state. */
export type WorkerEvent =
  | RecoveryEvent
  | { readonly kind: 'notified'; readonly runId: string; readonly type: string }
  /** A sweep found `detected` interrupted runs and started recovering `started` of them. */
  | { readonly kind: 'sweep'; readonly detected: number; readonly started: number }
  | { readonly kind: 'sweep-failed'; readonly error: ConnectFailure }
  | { readonly kind: 'claimed'; readonly runId: string }
  | {
      readonly kind: 'executed';
      readonly runId: string;
      /** How the queued run ended here; `released` when this worker stopped before its end. */
      readonly status: 'success' | 'failed' | 'cancelled' | 'released' | 'skipped' | 'error';
      readonly detail: string | null;
    }
  | { readonly kind: 'listen-lost'; readonly reason: string }
  | { readonly kind: 'listen-restored'; readonly downMs: number }
  /** This worker claimed a queued or released run `seconds` after it became available (journal timestamps). */
  | ({ readonly kind: 'claim-latency'; readonly runId: string } & ClaimLatency)
  /** This process's lease ran out before a renewal succeeded: its running steps are aborted. */
  | { readonly kind: 'lease-lost' };

export interface RecoveryWorkerOptions {
  readonly client: OrbitClient;
  /** Default: the client's threshold. */
  readonly thresholdMs?: number;
  /**
   * A safety sweep at least this often. Default: none. The worker needs no polling: it wakes on
   * NOTIFY (queued, released, a lease taken), at the database's next deadline (a lease expiry, a
   * threshold, a same-machine owner's missed renewal), after each LISTEN reconnect, and a second
   * after a sweep or claim that failed (test/lease/takeover.test.ts, listen.test.ts,
   * test/e2e/worker.test.ts run without it).
   */
  readonly sweepIntervalMs?: number;
  /** Runs recovered at the same time. Default 4. */
  readonly concurrency?: number;
  readonly maxRecoveries?: number;
  /** See `OrchestratorOptions.isolate`: where runs already taken over are resumed. */
  readonly isolate?: (run: InterruptedRun) => Promise<RecoveryOutcome>;
  readonly onEvent?: (e: WorkerEvent) => void;
  /**
   * Report each claim of a queued or released run as a `claim-latency` event, measured from the
   * journal (one small query per claim). Default false; `orbit worker --metrics-port` turns it on.
   */
  readonly measureClaims?: boolean;
  /** Graceful stop of the runs it is executing (finish the step, release). */
  readonly stopSignal?: AbortSignal;
  readonly abortSignal?: AbortSignal;
}

/**
 * `orbit worker`: recovery that does not wait for cron, and never waits for its own busy runs. It
 * LISTENs on the schema's channel and resumes a run the moment its worker releases it; for runs
 * whose worker died silently it sweeps at the earliest moment one can become interrupted (computed
 * by the database), and at once when a same-host owner's process is gone. A sweep only starts
 * recoveries; it never waits for their steps. The LISTEN connection is re-established forever,
 * each return followed by an immediate sweep. Any number of workers may run: every resume is an
 * optimistic claim, so each run is taken by exactly one of them.
 */
export class RecoveryWorker {
  private unlisten: (() => void) | undefined;
  private unconnection: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private rescheduling: NodeJS.Timeout | undefined;
  private wakeAt: number | undefined;
  private sweeping: Promise<void> | undefined;
  private sweepAgain = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly watcher: RunWatcher;
  private stopped = false;
  private listenDown = false;
  private claiming: Promise<void> | undefined;
  private claimAgain = false;
  private claimRetry: NodeJS.Timeout | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private sweepFailed = false;
  private unleaseLost: (() => void) | undefined;
  private readonly measuring = new Set<Promise<void>>();

  constructor(private readonly options: RecoveryWorkerOptions) {
    this.watcher = new RunWatcher(options.client.db, 'worker');
  }

  private get thresholdMs(): number {
    return this.options.thresholdMs ?? this.options.client.thresholdMs;
  }

  private get concurrency(): number {
    return Math.max(1, this.options.concurrency ?? 4);
  }

  /** The longest wait between sweeps; null: no periodic sweep (the default). */
  get sweepIntervalMs(): number | null {
    return this.options.sweepIntervalMs ?? null;
  }

  /** @internal The worker's LISTEN connection, for diagnostics and tests (kept out of the published types: pg). */
  get listener(): RunWatcher {
    return this.watcher;
  }

  /** Starts listening and runs a first sweep; later sweeps are scheduled by the database's deadlines. */
  async start(): Promise<E.Either<DbFailure, void>> {
    // A worker runs until stop(). Its LISTEN socket is what keeps the process alive; while that is
    // being re-established (backoff timers do not hold a process) and no deadline timer is armed,
    // nothing else would, and the process would exit mid-reconnect.
    this.keepAlive = setInterval(() => undefined, MAX_TIMER_MS);
    this.unleaseLost = executionEnvFor(this.options.client).onLeaseLost(() => this.emit({ kind: 'lease-lost' }));
    this.unconnection = this.watcher.onConnection((e) => {
      this.listenDown = e.kind === 'lost';
      if (e.kind === 'lost') this.emit({ kind: 'listen-lost', reason: e.reason });
      else {
        this.emit({ kind: 'listen-restored', downMs: e.downMs });
        // Notifications sent while it was down are gone: look for what they announced.
        this.sweepNow();
        this.claimNow();
      }
    });
    try {
      this.unlisten = await this.watcher.watchAll((n) => this.onNotification(n));
    } catch (err) {
      clearInterval(this.keepAlive);
      return E.left(fromPgError(err));
    }
    this.sweepNow();
    this.claimNow();
    return E.right(undefined);
  }

  private emit(e: WorkerEvent): void {
    this.options.onEvent?.(e);
  }

  /** Queued runs waiting for a worker, now (for the queue-depth gauge). */
  queueDepth(): Promise<E.Either<DbFailure, number>> {
    return countQueuedRuns(this.options.client.db);
  }

  /** After this worker's claim of `runId` committed: how long the run had waited (when it was queued or released). */
  private measureClaim(runId: string): void {
    if (this.options.measureClaims !== true) return;
    const { client } = this.options;
    const measured = readClaimLatency(client.db, runId, client.workerId).then((r) => {
      // A failed measurement costs one sample, never the run.
      if (E.isRight(r) && r.right !== null) this.emit({ kind: 'claim-latency', runId, ...r.right });
    });
    this.measuring.add(measured);
    void measured.finally(() => this.measuring.delete(measured));
  }

  private onNotification(n: RunNotification): void {
    if (this.stopped) return;
    // A run was taken under a lease somewhere: its deadline may be earlier than our next wake-up.
    if (n.type === 'lease.taken') return this.rescheduleSoon();
    if (n.type === 'run.queued') return this.claimNow();
    // Released runs need no threshold: their worker handed them back on purpose.
    if (n.type !== 'run.released' || this.inFlight.has(n.run_id)) return;
    this.emit({ kind: 'notified', runId: n.run_id, type: n.type });
    this.launch(n.run_id, undefined, 'released; resumed by a recovery worker');
  }

  private launch(runId: string, run: InterruptedRun | undefined, reason: string): void {
    const isolate = this.options.isolate;
    // A long-lived worker protects itself: every takeover from an owner that died (not a graceful
    // release) may be what killed it, so it runs in isolation; a death there is that run's alone.
    // The cost is a process start per such run, paid by every worker that detects it at the same
    // deadline (all but one then lose the claim; docs/RELIABILITY.md, R1 and R3). Reserving the
    // run before spawning (SKIP LOCKED plus the lease, as reserveQueuedRuns does, with detection
    // skipping reserved runs) would leave one start per run.
    if (run !== undefined && isolate !== undefined && run.owner !== null) {
      this.track(
        runId,
        isolate(run).then((outcome) => {
          this.emit({ kind: 'outcome', outcome });
          // If it died again, it is interrupted again at once (proof of death): look now.
          if (outcome.outcome === 'failed') this.sweepAgain = true;
        }),
      );
    } else this.track(runId, this.recover(runId, run, reason));
  }

  /** Counts a job against the concurrency; when it ends, work left over for lack of a slot is taken. */
  private track(runId: string, work: Promise<void>): void {
    const job = work.finally(() => {
      this.inFlight.delete(runId);
      if (this.sweepAgain) this.sweepNow();
      if (this.claimAgain) this.claimNow();
    });
    this.inFlight.set(runId, job);
  }

  /** Claims queued runs for the free slots (one claim round at a time). */
  claimNow(): void {
    if (this.stopped || this.options.stopSignal?.aborted) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claimAgain = false;
    this.claiming = (async () => {
      const free = this.concurrency - this.inFlight.size;
      if (free <= 0) {
        this.claimAgain = true;
        return;
      }
      const reserved = await reserveQueuedRuns(this.options.client, free);
      if (E.isLeft(reserved)) {
        if (!this.listenDown) this.emit({ kind: 'sweep-failed', error: reserved.left });
        // No NOTIFY will announce these runs again: try again in a second (a LISTEN return also does).
        if (this.claimRetry === undefined && !this.stopped) {
          this.claimRetry = setTimeout(() => {
            this.claimRetry = undefined;
            this.claimNow();
          }, RETRY_MS);
        }
        return;
      }
      // As many as there was room for: there may be more.
      if (reserved.right.length === free) this.claimAgain = true;
      for (const runId of reserved.right) {
        this.emit({ kind: 'claimed', runId });
        this.track(runId, this.executeQueued(runId));
      }
    })().finally(() => {
      this.claiming = undefined;
      if (this.claimAgain && this.inFlight.size < this.concurrency) this.claimNow();
    });
  }

  private async executeQueued(runId: string): Promise<void> {
    try {
      const r = await executeQueuedRun(this.options.client, runId, {
        onClaimed: (id) => this.measureClaim(id),
        stopSignal: this.options.stopSignal,
        abortSignal: this.options.abortSignal,
        onProgress: (progress) => this.emit({ kind: 'step', progress }),
      });
      if (E.isLeft(r)) {
        const skipped = r.left._tag === 'RunAlreadyClaimed';
        this.emit({ kind: 'executed', runId, status: skipped ? 'skipped' : 'error', detail: formatError(r.left) });
      } else {
        const v = r.right;
        const status = v.released
          ? 'released'
          : v.status === 'success' || v.status === 'failed' || v.status === 'cancelled'
            ? v.status
            : 'error';
        this.emit({ kind: 'executed', runId, status, detail: v.error });
      }
    } finally {
      releaseReservation(this.options.client, runId);
    }
  }

  private async recover(runId: string, run: InterruptedRun | undefined, reason: string): Promise<void> {
    const r = await resumeRun(runId, {
      client: this.options.client,
      expectedSeq: run?.lastSeq,
      thresholdMs: this.thresholdMs,
      maxRecoveries: this.options.maxRecoveries,
      reason,
      onClaimed: (id) => this.measureClaim(id),
      stopSignal: this.options.stopSignal,
      abortSignal: this.options.abortSignal,
      onProgress: (progress) => this.emit({ kind: 'step', progress }),
    });
    const base = { runId, pipelineId: E.isRight(r) ? r.right.pipelineId : (run?.pipelineId ?? '') };
    let outcome: RecoveryOutcome;
    if (E.isRight(r)) {
      outcome = r.right.released
        ? { ...base, outcome: 'skipped', reason: 'released unfinished (shutting down)' }
        : { ...base, outcome: 'recovered', result: r.right };
    } else if (r.left._tag === 'RunAlreadyClaimed' || r.left._tag === 'RunStillActive') {
      outcome = { ...base, outcome: 'skipped', reason: 'claimed by another process' };
    } else outcome = { ...base, outcome: 'failed', error: r.left, message: formatError(r.left) };
    this.emit({ kind: 'outcome', outcome });
  }

  /** Sweeps now (or right after the sweep under way), then schedules the next one. */
  sweepNow(): void {
    if (this.stopped) return;
    if (this.sweeping) {
      this.sweepAgain = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.wakeAt = undefined;
    this.sweeping = (async () => {
      do {
        this.sweepAgain = false;
        await this.sweepOnce();
      } while (this.sweepAgain && !this.stopped && this.inFlight.size < this.concurrency);
      await this.schedule();
    })().finally(() => {
      this.sweeping = undefined;
      if (this.sweepAgain && this.inFlight.size < this.concurrency) this.sweepNow();
    });
  }

  private async sweepOnce(): Promise<void> {
    const detected = await detectInterruptedRuns(this.options.client, { thresholdMs: this.thresholdMs });
    // A failed sweep is retried a second later (see schedule), whatever the next deadline.
    this.sweepFailed = E.isLeft(detected);
    if (E.isLeft(detected)) {
      // While the LISTEN connection is down the outage is already reported; its return sweeps.
      if (!this.listenDown) this.emit({ kind: 'sweep-failed', error: detected.left });
      return;
    }
    let started = 0;
    for (const run of detected.right) {
      if (this.stopped || this.options.stopSignal?.aborted) break;
      if (this.inFlight.has(run.runId)) continue;
      if (this.inFlight.size >= this.concurrency) {
        this.sweepAgain = true;
        break;
      }
      this.emit({ kind: 'attempt', run });
      this.launch(run.runId, run, 'interrupted; resumed by a recovery worker');
      started += 1;
    }
    if (detected.right.length > 0) this.emit({ kind: 'sweep', detected: detected.right.length, started });
  }

  /** Recomputes the next wake-up shortly (many runs taken at once cost one query). */
  private rescheduleSoon(): void {
    if (this.rescheduling) return;
    this.rescheduling = setTimeout(() => {
      this.rescheduling = undefined;
      void this.schedule();
    }, 50);
  }

  /** Sleeps until the database's next deadline (bounded by `sweepIntervalMs` when set), then sweeps. */
  private async schedule(): Promise<void> {
    if (this.stopped) return;
    const next = await msUntilNextInterruption(this.options.client.db, this.thresholdMs);
    // Unreachable database, or a sweep that failed: try again soon rather than at a far deadline.
    const deadline = E.isLeft(next) || this.sweepFailed ? RETRY_MS : (next.right ?? Infinity);
    // Nothing can become interrupted until some NOTIFY says so (a run taken, queued, released).
    const until = Math.min(deadline, this.sweepIntervalMs ?? Infinity);
    if (this.stopped || until === Infinity) return;
    const wait = Math.min(until, MAX_TIMER_MS);
    // A little past the deadline, so that the rule (strictly older than) holds when we look.
    const at = Date.now() + wait + 20;
    // Only ever earlier: two computations may finish out of order, and the older one may not
    // yet know of a run taken since.
    if (this.timer !== undefined && this.wakeAt !== undefined && this.wakeAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.wakeAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wakeAt = undefined;
      this.sweepNow();
      this.claimNow();
    }, at - Date.now());
  }

  /** Stops listening and sweeping, and waits for the runs it is executing to finish or be released. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.claimRetry) clearTimeout(this.claimRetry);
    clearInterval(this.keepAlive);
    if (this.rescheduling) clearTimeout(this.rescheduling);
    this.unlisten?.();
    this.unconnection?.();
    await this.watcher.close();
    await Promise.allSettled([this.sweeping, this.claiming]);
    await Promise.allSettled([...this.inFlight.values()]);
    await Promise.allSettled([...this.measuring]);
    this.unleaseLost?.();
  }
}

export interface StartWorkerOptions extends Omit<RecoveryWorkerOptions, 'client'> {
  /** Default: the shared client from the environment. */
  readonly client?: OrbitClient;
}

/** A running worker: `stop()` stops claiming, lets running steps finish, releases what is left. */
export interface WorkerHandle {
  readonly workerId: string;
  readonly stop: () => Promise<void>;
}

/**
 * Starts a worker in this process (what `orbit worker` runs): it executes queued runs
 * (`enqueueRun`) and recovers interrupted ones until `stop()`.
 */
export const startWorker = async (options: StartWorkerOptions = {}): Promise<E.Either<ConnectFailure, WorkerHandle>> => {
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return c;
  const stopping = new AbortController();
  const worker = new RecoveryWorker({
    ...options,
    client: c.right,
    stopSignal: options.stopSignal ? AbortSignal.any([options.stopSignal, stopping.signal]) : stopping.signal,
  });
  const started = await worker.start();
  if (E.isLeft(started)) return started;
  return E.right({
    workerId: c.right.workerId,
    stop: async () => {
      stopping.abort(new Error('worker stopped'));
      await worker.stop();
    },
  });
};
