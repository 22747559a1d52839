import { hostname } from 'node:os';
import * as E from 'fp-ts/Either';
import type { RunState } from '../fold/runState';
import { wakeReason } from '../fold/wakeReason';
import { detectInterruptedRuns, type InterruptedRun } from '../recovery/detectInterruptedRuns';
import { outcomeOf } from '../recovery/outcomeOf';
import type { RecoveryOutcome } from '../recovery/recoveryOutcome';
import { resumeRun } from '../recovery/resumeRun';
import { readNextDeadlines } from '../queries/readNextDeadlines';
import { readRunDeadlines } from '../queries/readRunDeadlines';
import { listDueSuspendedRuns } from '../queries/suspendedRuns';
import { Backoff } from './backoff';
import { WakeTimer } from './wakeTimer';
import type { WorkerContext } from './workerContext';
import { RETRY_MS } from './workerOptions';

/**
 * Recovers what nobody is executing: a released run the moment its NOTIFY arrives, and crashed
 * ones by sweeping at the earliest moment one can become interrupted (computed by the database),
 * and at once when a same-host owner's process is gone. A sweep only starts recoveries; it never
 * waits for their steps.
 */
export class RecoveryLoop {
  private sweeping: Promise<void> | undefined;
  /** Interrupted runs were (or may be) left for lack of a slot, or one died again: sweep again. */
  private again = false;
  /** The last sweep failed: look again after its backoff (1 s at first), whatever the next deadline. */
  private failed = false;
  private rescheduling: NodeJS.Timeout | undefined;
  /** Runs NOTIFYs named since the last look at their deadlines (taken, queued, suspended). */
  private readonly named = new Set<string>();
  /** The look at named runs' deadlines under way (one at a time; runs named meanwhile wait for the next). */
  private looking: Promise<void> | undefined;
  private readonly host = hostname();
  private readonly timer: WakeTimer;
  /** Sweeps that failed in a row: the next one waits 1 s, 2 s … up to 30 s. */
  private readonly sweepBackoff = new Backoff();
  private retryInMs = RETRY_MS;
  /** Runs whose recovery here failed: not tried again before `until` (per-run backoff), so no failure spins. */
  private readonly failing = new Map<string, { readonly backoff: Backoff; until: number }>();
  /** Interrupted runs of pipelines this worker does not have, already reported (once each). */
  private readonly unexecutable = new Set<string>();

  constructor(
    private readonly w: WorkerContext,
    /** What the wake-up at the next deadline does (sweep, and claim what the queue may hold). */
    wake: () => void,
  ) {
    this.timer = new WakeTimer(w.options.client.clock, wake);
  }

  private get thresholdMs(): number {
    return this.w.options.thresholdMs ?? this.w.options.client.thresholdMs;
  }

  /** Whether a sweep is owed (a slot freeing up should start one). */
  get owed(): boolean {
    return this.again;
  }

  /** A run was released by its worker: no threshold applies, resume it now (unless it is ours already). */
  released(runId: string, type: string): void {
    // Released by an execution of ours that has not left its slot yet (a journal that lost our
    // transitions in a failover, a lost lease): sweep once a slot frees, not at the next deadline.
    if (this.w.slots.has(runId)) {
      this.again = true;
      return;
    }
    this.w.emit({ kind: 'notified', runId, type });
    this.launch(runId, undefined, 'released; resumed by a recovery worker');
  }

  private launch(runId: string, run: InterruptedRun | undefined, reason: string, reasonOf?: (s: RunState) => string): void {
    const { isolate, client } = this.w.options;
    // A long-lived worker protects itself: every takeover from an owner that died (not a graceful
    // release) may be what killed it, so it runs in isolation; a death there is that run's alone.
    // The cost is a process start per such run: the CLI's `isolate` reserves the takeover first
    // (src/recovery/reserveTakeover.ts), so the other workers that detect it at the same deadline
    // skip it instead of starting a child that loses the claim. An owner that lives (this worker, or
    // one whose lease or heartbeat goes on without the run) was not killed by it: after a failover
    // that lost their last transitions, every run in flight is such a run, and a process start for
    // each (per recovering worker) starved a small machine for minutes (chaos R10).
    if (run !== undefined && isolate !== undefined && run.owner !== null && run.owner !== client.workerId && !run.ownerAlive) {
      this.w.slots.track(
        runId,
        isolate(run, reason).then((outcome) => {
          this.w.emit({ kind: 'outcome', outcome });
          this.settled(runId, outcome);
          // If it died again, it is interrupted again at once (proof of death): look now (its backoff permitting).
          if (outcome.outcome === 'failed') this.again = true;
        }),
      );
    } else this.w.slots.track(runId, this.recover(runId, run, reason, reasonOf));
  }

  private async recover(
    runId: string,
    run: InterruptedRun | undefined,
    reason: string,
    reasonOf?: (s: RunState) => string,
  ): Promise<void> {
    const { client, maxRecoveries, stopSignal, abortSignal } = this.w.options;
    const r = await resumeRun(runId, {
      client,
      expectedSeq: run?.lastSeq,
      thresholdMs: this.thresholdMs,
      maxRecoveries,
      reason,
      reasonOf,
      onClaimed: this.w.onClaimed,
      stopSignal,
      abortSignal,
      onProgress: (progress) => this.w.emit({ kind: 'step', progress }),
    });
    // A released run was nobody's when its NOTIFY came: whoever holds it now claimed it.
    const outcome = outcomeOf(run ?? { runId, pipelineId: '', owner: null }, r);
    this.w.emit({ kind: 'outcome', outcome });
    this.settled(runId, outcome);
  }

  /**
   * Remembers a recovery refused here (the run waits out its backoff before this worker tries it
   * again), or forgets a run that is done. A run whose process died under it (RunFailed) is not
   * held back: it is interrupted again at once by proof of death, and the takeover cap ends it.
   */
  private settled(runId: string, outcome: RecoveryOutcome): void {
    if (outcome.outcome !== 'failed' || outcome.error._tag === 'RunFailed') {
      this.failing.delete(runId);
      return;
    }
    const f = this.failing.get(runId) ?? { backoff: new Backoff(), until: 0 };
    const wait = f.backoff.failed();
    f.until = this.w.options.client.clock.now() + wait;
    this.failing.set(runId, f);
    this.timer.in(wait + 20);
  }

  /** Whether this worker may try `run` now: its pipeline is registered here, and no backoff holds it. */
  private mayTry(run: { readonly runId: string; readonly pipelineId: string }): boolean {
    if (E.isLeft(this.w.options.client.registry.getPipeline(run.pipelineId))) {
      if (!this.unexecutable.has(run.runId)) {
        this.unexecutable.add(run.runId);
        this.w.emit({ kind: 'unexecutable', runId: run.runId, pipelineId: run.pipelineId });
      }
      return false;
    }
    const f = this.failing.get(run.runId);
    return f === undefined || f.until <= this.w.options.client.clock.now();
  }

  /** Sweeps now (or right after the sweep under way), then schedules the next one. */
  sweepNow(): void {
    if (this.w.stopping()) return;
    if (this.sweeping) {
      this.again = true;
      return;
    }
    this.timer.clear();
    this.sweeping = (async () => {
      do {
        this.again = false;
        await this.sweepOnce();
      } while (this.again && !this.w.stopping() && this.w.slots.free > 0);
      await this.schedule();
    })().finally(() => {
      this.sweeping = undefined;
      if (this.again && this.w.slots.free > 0) this.sweepNow();
    });
  }

  /**
   * An event was sent to a run: a waiting run may be due now. Only the due suspended runs are read
   * (an event cannot interrupt a run, so no sweep for interrupted runs: that one evaluates the
   * liveness of every unfinished run, on every worker, for each event sent).
   */
  wakeNow(): void {
    if (this.w.stopping()) return;
    if (this.sweeping) {
      this.again = true;
      return;
    }
    this.sweeping = (async () => {
      await this.wakeDue();
      await this.schedule();
    })().finally(() => {
      this.sweeping = undefined;
      if (this.again && this.w.slots.free > 0) this.sweepNow();
    });
  }

  private async sweepOnce(): Promise<void> {
    const detected = await detectInterruptedRuns(this.w.options.client, { thresholdMs: this.thresholdMs });
    this.failed = E.isLeft(detected);
    if (E.isLeft(detected)) {
      this.retryInMs = this.sweepBackoff.failed();
      if (!this.w.listenDown()) this.w.emit({ kind: 'sweep-failed', error: detected.left, retryInMs: this.retryInMs });
      return;
    }
    this.sweepBackoff.succeeded();
    // Runs no longer interrupted (finished, or taken by another worker) need no memory here.
    const listed = new Set(detected.right.map((r) => r.runId));
    for (const id of this.failing.keys()) if (!listed.has(id) && !this.w.slots.has(id)) this.failing.delete(id);
    for (const id of this.unexecutable) if (!listed.has(id)) this.unexecutable.delete(id);
    let started = 0;
    for (const run of detected.right) {
      if (this.w.stopping()) break;
      if (this.w.slots.has(run.runId)) continue;
      if (!this.mayTry(run)) continue;
      if (this.w.slots.free <= 0) {
        this.again = true;
        break;
      }
      this.w.emit({ kind: 'attempt', run });
      this.launch(run.runId, run, 'interrupted; resumed by a recovery worker');
      started += 1;
    }
    if (detected.right.length > 0) this.w.emit({ kind: 'sweep', detected: detected.right.length, started });
    await this.wakeDue();
  }

  /** Sleeping and waiting runs whose time came (a sleep's end, a wait's timeout or its event): resumed here, as many as slots allow. */
  private async wakeDue(): Promise<void> {
    if (this.w.stopping() || this.w.slots.free <= 0) return;
    const due = await listDueSuspendedRuns(this.w.options.client.db, this.w.slots.free + this.failing.size);
    if (E.isLeft(due)) {
      this.failed = true;
      this.retryInMs = this.sweepBackoff.failed();
      return;
    }
    for (const run of due.right) {
      if (this.w.stopping()) break;
      if (this.w.slots.has(run.runId) || !this.mayTry(run)) continue;
      if (this.w.slots.free <= 0) {
        this.again = true;
        break;
      }
      // The reason names what made it due (its event, or its time), read from the state the resume plans on.
      this.launch(run.runId, undefined, 'woken: its sleep ended or its wait timed out', wakeReason);
    }
  }

  /**
   * A NOTIFY named a run (taken under a lease, queued, suspended): its deadline may be earlier than
   * the next wake-up. Deadlines only move later otherwise (renewals, new events, runs ending), so
   * the runs named are all that can move the wake-up earlier: the runs named within 50 ms are
   * looked up together by id and can only bring the timer forward. Every deadline is read again
   * after each sweep (`schedule`). Re-reading them all here cost every worker a scan of every
   * unfinished run per notification (docs/PERFORMANCE.md, S11).
   */
  rescheduleSoon(runId: string): void {
    this.named.add(runId);
    if (this.rescheduling || this.looking) return;
    this.rescheduling = setTimeout(() => {
      this.rescheduling = undefined;
      this.looking = this.lookAtNamed().finally(() => {
        this.looking = undefined;
      });
    }, 50);
  }

  private async lookAtNamed(): Promise<void> {
    while (this.named.size > 0 && !this.w.stopping()) {
      const ids = [...this.named];
      this.named.clear();
      const ms = await readRunDeadlines(
        this.w.options.client.db,
        ids,
        this.thresholdMs,
        this.host,
        this.w.options.client.workerId,
      );
      if (this.w.stopping()) return;
      const until = E.isLeft(ms) ? RETRY_MS : ms.right === null ? Infinity : Math.max(0, Math.ceil(ms.right));
      // A little past the deadline, so that the rule (strictly older than) holds when we look.
      if (until !== Infinity) this.timer.in(until + 20);
    }
  }

  /** Sleeps until the database's next deadline or delayed run (bounded by `sweepIntervalMs` when set), then sweeps and claims. */
  private async schedule(): Promise<void> {
    if (this.w.stopping()) return;
    // Three deadlines, one round trip: a run can become interrupted; a delayed queued run falls
    // due (the same timer wakes the worker to claim it: no polling); a sleeping or waiting run
    // falls due (its sleep ends, its wait times out).
    const d = await readNextDeadlines(this.w.options.client.db, this.thresholdMs, this.host, this.w.options.client.workerId);
    const atLeast0 = (ms: number | null): number => (ms === null ? Infinity : Math.max(0, ms));
    // Unreachable database, or a sweep that failed: try again soon rather than at a far deadline.
    const deadline = E.isLeft(d)
      ? RETRY_MS
      : Math.min(
          this.failed ? this.retryInMs : atLeast0(d.right.interruption === null ? null : Math.ceil(d.right.interruption)),
          atLeast0(d.right.delayed),
          atLeast0(d.right.wake),
        );
    // Nothing can become interrupted until some NOTIFY says so (a run taken, queued, released).
    const until = Math.min(deadline, this.w.options.sweepIntervalMs ?? Infinity);
    if (this.w.stopping() || until === Infinity) return;
    // A little past the deadline, so that the rule (strictly older than) holds when we look.
    this.timer.in(until + 20);
  }

  /** Stops scheduling and waits for the sweep under way. */
  async stop(): Promise<void> {
    this.timer.clear();
    if (this.rescheduling) clearTimeout(this.rescheduling);
    this.rescheduling = undefined;
    this.named.clear();
    await this.looking;
    await this.sweeping;
  }
}
