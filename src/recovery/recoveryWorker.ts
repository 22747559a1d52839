import * as E from 'fp-ts/Either';
import { fromPgError } from '../db/pgErrors';
import { formatError, type OrbitError } from '../errors';
import { RunWatcher, type RunNotification } from '../executor/runWatcher';
import type { OrbitClient } from '../runtime/orbitClient';
import { RunRecoveryOrchestrator, type RecoveryEvent, type RecoveryOutcome, type RecoverySummary } from './orchestrator';
import { resumeRun } from './resumeRun';

/** What the worker reports: the orchestrator's events, plus its own sweeps and wake-ups. */
export type WorkerEvent =
  | RecoveryEvent
  | { readonly kind: 'notified'; readonly runId: string; readonly type: string }
  | { readonly kind: 'sweep'; readonly summary: RecoverySummary }
  | { readonly kind: 'sweep-failed'; readonly error: OrbitError };

export interface RecoveryWorkerOptions {
  readonly client: OrbitClient;
  /** Default: the client's threshold. */
  readonly thresholdMs?: number;
  /** How often to sweep for runs nobody announced (crashed workers). Default: threshold / 2, at most 60 s. */
  readonly sweepIntervalMs?: number;
  /** Runs resumed at the same time by one sweep. Default 4. */
  readonly concurrency?: number;
  readonly onEvent?: (e: WorkerEvent) => void;
  /** Graceful stop of the runs it is executing (finish the step, release). */
  readonly stopSignal?: AbortSignal;
  readonly abortSignal?: AbortSignal;
}

/**
 * `orbit worker`: recovery that does not wait for cron. It LISTENs on the schema's channel and
 * resumes a run the moment its worker releases it (graceful shutdown, deploys), and sweeps every
 * `sweepIntervalMs` for runs whose worker died silently (kill -9), which no notification can
 * announce. Any number of workers may run: every resume is an optimistic claim, so each run is
 * taken by exactly one of them.
 */
export class RecoveryWorker {
  private unlisten: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly watcher: RunWatcher;
  private stopped = false;

  constructor(private readonly options: RecoveryWorkerOptions) {
    this.watcher = new RunWatcher(options.client.db);
  }

  private get thresholdMs(): number {
    return this.options.thresholdMs ?? this.options.client.thresholdMs;
  }

  /** The sweep interval in use. */
  get sweepIntervalMs(): number {
    return this.options.sweepIntervalMs ?? Math.min(60_000, Math.max(100, Math.floor(this.thresholdMs / 2)));
  }

  /** Starts listening, runs a first sweep, then sweeps on the interval. */
  async start(): Promise<E.Either<OrbitError, void>> {
    try {
      this.unlisten = await this.watcher.watchAll((n) => this.onNotification(n));
    } catch (err) {
      return E.left(fromPgError(err));
    }
    this.sweepNow();
    this.timer = setInterval(() => this.sweepNow(), this.sweepIntervalMs);
    return E.right(undefined);
  }

  private emit(e: WorkerEvent): void {
    this.options.onEvent?.(e);
  }

  private onNotification(n: RunNotification): void {
    // Released runs need no threshold: their worker handed them back on purpose.
    if (this.stopped || n.type !== 'run.released' || this.inFlight.has(n.run_id)) return;
    this.emit({ kind: 'notified', runId: n.run_id, type: n.type });
    const job = this.resumeOne(n.run_id).finally(() => this.inFlight.delete(n.run_id));
    this.inFlight.set(n.run_id, job);
  }

  private async resumeOne(runId: string): Promise<void> {
    const r = await resumeRun(runId, {
      client: this.options.client,
      thresholdMs: this.thresholdMs,
      reason: 'released; resumed by a recovery worker',
      stopSignal: this.options.stopSignal,
      abortSignal: this.options.abortSignal,
    });
    const base = { runId, pipelineId: E.isRight(r) ? r.right.pipelineId : '' };
    let outcome: RecoveryOutcome;
    if (E.isRight(r)) outcome = { ...base, outcome: 'recovered', result: r.right };
    else if (r.left._tag === 'RunAlreadyClaimed' || r.left._tag === 'RunStillActive') {
      outcome = { ...base, outcome: 'skipped', reason: 'claimed by another process' };
    } else outcome = { ...base, outcome: 'failed', error: r.left, message: formatError(r.left) };
    this.emit({ kind: 'outcome', outcome });
  }

  /** Sweeps now unless a sweep is already running. */
  sweepNow(): void {
    if (this.stopped || this.sweeping) return;
    this.sweeping = (async () => {
      const orchestrator = new RunRecoveryOrchestrator({
        client: this.options.client,
        thresholdMs: this.thresholdMs,
        concurrency: this.options.concurrency,
        stopSignal: this.options.stopSignal,
        abortSignal: this.options.abortSignal,
        onEvent: (e) => this.emit(e),
      });
      const summary = await orchestrator.recoverInterruptedRuns();
      if (E.isLeft(summary)) this.emit({ kind: 'sweep-failed', error: summary.left });
      else if (summary.right.detected > 0) this.emit({ kind: 'sweep', summary: summary.right });
    })().finally(() => {
      this.sweeping = undefined;
    });
  }

  /** Stops listening and sweeping, and waits for the runs it is executing to finish or be released. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.unlisten?.();
    await this.watcher.close();
    await Promise.allSettled([this.sweeping, ...this.inFlight.values()]);
  }
}
