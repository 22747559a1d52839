import { setMaxListeners } from 'node:events';
import * as E from 'fp-ts/Either';
import { decideNext } from '../decide/decideNext';
import type { AttemptResult, Decision, Outcome, ResumeRequest, StepStart } from '../decide/decision';
import { itemKey } from '../fold/mapState';
import { stepDefinition } from '../pipeline/stepDefinition';
import { type AppendFailure, type ExecuteFailure, type IllegalTransition, type OrbitError, type ResumeRefusal } from '../errors';
import type { RunEvent } from '../events/runEvents';
import { isSuspendedStatus, type RunState, type RunStatus } from '../fold/runState';
import { currentWait, type SuspendedOn } from '../fold/runWait';
import type { Pipeline } from '../pipeline/types';
import type { OrbitClient } from '../runtime/orbitClient';
import { executionEnvFor } from './executionEnv';
import { progressOf, type Progress } from './progress';
import { runAttempt, type AttemptRun } from './runAttempt';
import { RunJournal } from './runJournal';

export type { Progress } from './progress';

const reasonOf = (signal: AbortSignal | undefined): string =>
  signal?.reason instanceof Error ? signal.reason.message : String(signal?.reason ?? 'unknown');

interface Ended {
  readonly kind: 'ended';
  readonly start: StepStart;
  readonly ran: AttemptRun;
}

/** Attempts that ended, in the order they ended, waiting for the loop to journal them. */
class Completions {
  private readonly queue: Ended[] = [];
  private waiter: (() => void) | null = null;

  push(e: Ended): void {
    this.queue.push(e);
    this.waiter?.();
  }

  take(): Ended | undefined {
    return this.queue.shift();
  }

  /** Every attempt that ended so far (journaled together: map items share one append). */
  takeAll(): Ended[] {
    return this.queue.splice(0, this.queue.length);
  }

  /**
   * Resolves with the first of: an attempt ended, `ms` passed (never when null), one of `signals`
   * aborted.
   */
  wait(ms: number | null, signals: readonly (AbortSignal | undefined)[]): Promise<void> {
    return new Promise((resolve) => {
      const live = signals.filter((x): x is AbortSignal => x !== undefined);
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        this.waiter = null;
        if (timer !== undefined) clearTimeout(timer);
        for (const x of live) x.removeEventListener('abort', done);
        resolve();
      };
      if (this.queue.length > 0) return done();
      for (const x of live) {
        if (x.aborted) return done();
        x.addEventListener('abort', done, { once: true });
      }
      if (ms !== null) timer = setTimeout(done, Math.max(0, ms));
      this.waiter = done;
    });
  }
}

export interface ExecuteOptions {
  readonly onProgress?: (p: Progress) => void;
  /** Called as a step's handler is about to run (its `step.started` is committed): a terminal shows it running. */
  readonly onStepStart?: (s: { readonly runId: string; readonly stepName: string; readonly attempt: number }) => void;
  /** Called once the first append (creation or claim) is committed, before any step runs. */
  readonly onClaimed?: (runId: string) => void;
  /** Graceful stop (first SIGINT/SIGTERM): finish the current step, then release the run. */
  readonly stopSignal?: AbortSignal;
  /** Hard stop (second signal): abort the current step and release the run at once. */
  readonly abortSignal?: AbortSignal;
}

export interface RunResult {
  readonly runId: string;
  readonly pipelineId: string;
  /** `sleeping` or `waiting` when the run suspended (see `suspended`). */
  readonly status: RunStatus;
  /**
   * True when this process gave the run back unfinished (a shutdown, a lost lease): it is
   * interrupted, and a worker or `resumeRun` takes it up. False for a run that suspended: that is
   * no hand-back (until 2026-12 a suspension was reported as `released: true`).
   */
  readonly released: boolean;
  /**
   * What the run sleeps or waits on, when this process let go of it because every step it could go
   * on with sleeps or waits (`status` `sleeping` or `waiting`): not interrupted, a worker wakes it.
   * Null otherwise.
   */
  readonly suspended: SuspendedOn | null;
  /** Distinct steps whose handler this call ran. */
  readonly stepsExecuted: number;
  readonly error: string | null;
  readonly state: RunState;
}

export interface ExecuteStart<C extends OrbitError> {
  /** The run as journaled so far (null for a run being created). */
  readonly state: RunState | null;
  /** How this process takes the run: the events that create and claim it, or a resume. */
  readonly claim:
    { readonly kind: 'claim'; readonly events: readonly RunEvent[] } | ({ readonly kind: 'resume' } & ResumeRequest);
  /** Returned instead of a ConcurrencyConflict when that first append loses (someone else claimed). */
  readonly claimConflict: C;
}

/**
 * Drives a run to its end. What to write and do next is always decideNext's answer; this loop
 * only appends, runs steps and waits. A step's outcome is journaled together with whatever comes
 * next (the next step's `started`, the run's end, a release), so each step costs one durable
 * commit. Every append states the seq last seen; if another process appended in between
 * (recovery took the run, someone cancelled it), the append is refused, the running step's signal
 * fires, and nothing more is written for the run.
 */
export const executeRun = async <C extends OrbitError>(
  client: OrbitClient,
  pipeline: Pipeline,
  runId: string,
  start: ExecuteStart<C>,
  opts: ExecuteOptions = {},
): Promise<E.Either<ExecuteFailure | C, RunResult>> => {
  const env = executionEnvFor(client);
  const acquired = await env.acquire(runId);
  if (E.isLeft(acquired)) {
    env.release(runId);
    return acquired;
  }
  const journal = new RunJournal(client, env, runId, start.state, opts.onClaimed, opts.onProgress);
  // Every attempt running (a map step's items, up to its concurrency) listens on these signals.
  setMaxListeners(0, journal.fence.signal);
  await journal.watch();
  // Losing the lease is a hard stop: no new step, the running one's signal fires.
  const asked = [opts.stopSignal, opts.abortSignal];
  opts = { ...opts, abortSignal: env.withLease(opts.abortSignal) };
  if (opts.abortSignal !== undefined) setMaxListeners(0, opts.abortSignal);
  const executed = new Set<string>();
  const situation = () => {
    const stopping = opts.stopSignal?.aborted === true || opts.abortSignal?.aborted === true;
    // Not asked to stop: the lease was lost, and the release says so (not "shutting down").
    const leaseLost = stopping && !asked.some((s) => s?.aborted === true);
    return {
      worker: client.workerId,
      stopping,
      executing: names(),
      ...(leaseLost ? { stopReason: reasonOf(opts.abortSignal) } : {}),
    };
  };
  // The outcome last decided on: decided again when events sent to the run came in between (absorbReceived).
  let lastOutcome: Outcome | null = null;
  const decide = (o: Outcome) => {
    lastOutcome = o;
    return decideNext(journal.state, pipeline, o);
  };
  const tick = () => decide({ kind: 'tick', now: new Date(env.clock.nowMs()).toISOString(), ...situation() });
  const outcome = (s: RunState, letGo: boolean): RunResult => {
    // Let go of because it sleeps or waits (run.suspended): a suspension, not a release.
    const suspended = letGo && isSuspendedStatus(s.status) ? currentWait(s) : null;
    return {
      runId,
      pipelineId: s.pipelineId,
      status: s.status,
      released: letGo && suspended === null,
      suspended,
      stepsExecuted: executed.size,
      error: s.error,
      state: s,
    };
  };
  const result = (s: RunState, released: boolean) => E.right(outcome(s, released));
  const lost = async (why: AppendFailure, released: boolean) =>
    E.map((r: { readonly state: RunState; readonly released: boolean }) => outcome(r.state, released || r.released))(
      await journal.lost(why, pipeline, start.claimConflict),
    );

  // The attempts running now, by step (a run's steps run at the same time up to maxParallel).
  // Appends stay in this one loop, so the run still has one writer and one chain.
  const executing = new Map<string, Promise<void>>();
  const completions = new Completions();
  const settleAll = async () => {
    await Promise.allSettled(executing.values());
    executing.clear();
  };
  const names = () => new Set(executing.keys());
  const keyOf = (s: StepStart) => (s.item === undefined ? s.stepName : itemKey(s.stepName, s.item));
  const launch = (started: RunState, s: StepStart) => {
    if (s.item === undefined) opts.onStepStart?.({ runId, stepName: s.stepName, attempt: s.attempt });
    // invokeHandler turns whatever a handler does into an outcome, so this never rejects.
    const p = runAttempt(
      started,
      pipeline,
      s.stepName,
      s.attempt,
      [journal.fence.signal, opts.abortSignal],
      client.clock,
      client.maxResultBytes,
      s.item,
      () => env.clock.nowMs(),
    ).then((ran) => completions.push({ kind: 'ended', start: s, ran }));
    executing.set(keyOf(s), p);
  };

  try {
    let decision: E.Either<IllegalTransition | ResumeRefusal, Decision> = decide(
      start.claim.kind === 'claim' ? { ...start.claim, runId, ...situation() } : { ...start.claim, ...situation() },
    );
    for (;;) {
      if (E.isLeft(decision)) {
        journal.fence.abort(new Error(`run ${runId}: ${decision.left._tag}`));
        await settleAll();
        return decision;
      }
      const { events, next } = decision.right;
      // A map step ends by a decision of its own (after its last item's outcome is journaled).
      for (const e of events) {
        if ((e.type === 'step.succeeded' || e.type === 'step.failed') && stepDefinition(pipeline, e.stepName)?.map !== undefined)
          journal.report(progressOf(runId, [e], 0));
      }
      if (events.length > 0) {
        const w = await journal.write(events);
        if (E.isLeft(w) && w.left._tag === 'ConcurrencyConflict' && lastOutcome !== null && (await journal.absorbReceived())) {
          decision = decide(lastOutcome);
          continue;
        }
        if (E.isLeft(w)) {
          const r = await lost(w.left, next.kind === 'released');
          await settleAll();
          return r;
        }
      }
      if (next.kind === 'finished' || next.kind === 'released') {
        await settleAll();
        // A stop before the claim was written leaves the run as it was found (state unchanged).
        return result(journal.state as RunState, next.kind === 'released');
      }
      for (const s of next.starts) launch(journal.state as RunState, s);

      if (next.decideAgain) {
        decision = tick();
        continue;
      }
      let ended = completions.takeAll();
      if (ended.length === 0) {
        await completions.wait(
          next.wakeAt === null ? null : env.clock.msUntil(next.wakeAt),
          // A stop matters only while nothing executes (then the decider releases the run at
          // once); an executing attempt's own signal sees a hard stop.
          executing.size === 0 ? [journal.fence.signal, opts.stopSignal, opts.abortSignal] : [journal.fence.signal],
        );
        ended = completions.takeAll();
      }
      if (ended.length === 0) {
        // Someone else wrote to the run; the next append would be refused. Confirm and stop.
        if (journal.fence.signal.aborted) {
          const r = await lost(journal.conflict(), false);
          await settleAll();
          return r;
        }
        decision = tick();
        continue;
      }
      const finished: Ended[] = [];
      let aborted = false;
      for (const e of ended) {
        executing.delete(keyOf(e.start));
        if (e.ran.invoked) executed.add(e.start.stepName);
        if (e.ran.outcome.kind === 'aborted') aborted = true;
        else finished.push(e);
      }
      if (aborted && !(opts.abortSignal?.aborted && !journal.fence.signal.aborted)) {
        // An abort that is not a hard stop means another writer took the run.
        await settleAll();
        return lost(journal.conflict(), false);
      }
      // Hard stop: aborted attempts stay in flight in the journal (recovery runs them again);
      // once every branch has ended the decider hands the run back.
      if (finished.length === 0) {
        decision = tick();
        continue;
      }
      const endedAttempts = finished.map(({ start: st, ran }) => ({
        stepName: st.stepName,
        ...(st.item !== undefined ? { item: st.item } : {}),
        attempt: st.attempt,
        result: ran.outcome as AttemptResult,
        random: Math.random(),
      }));
      decision = decide(
        endedAttempts.length === 1
          ? { kind: 'attempt', ...(endedAttempts[0] as (typeof endedAttempts)[number]), ...situation() }
          : { kind: 'attempts', ended: endedAttempts, ...situation() },
      );
      if (E.isRight(decision)) {
        for (const { start: st, ran } of finished) {
          if (st.item === undefined)
            journal.report(
              progressOf(
                runId,
                decision.right.events.filter((e) => 'stepName' in e && e.stepName === st.stepName),
                ran.durationMs,
              ),
            );
        }
      }
    }
  } finally {
    journal.close();
    env.release(runId);
  }
};
