import * as E from 'fp-ts/Either';
import { formatError, type OrbitError } from '../errors';
import type { RunEvent } from '../events/runEvents';
import { foldEvents } from '../fold/evolve';
import { isFinished, type RunState, type RunStatus, type StepState } from '../fold/runState';
import { appendToRun } from '../journal/appendEvents';
import { loadRunState } from '../journal/loadRunState';
import { PENDING_EPOCH } from '../journal/pendingTime';
import type { Pipeline } from '../pipeline/types';
import type { OrbitClient } from '../runtime/orbitClient';
import { executionEnvFor } from './executionEnv';
import { faultAfterAppend } from './faultPoints';
import { invokeHandler, type AttemptOutcome } from './invokeHandler';
import { mayRetry, policyFor, retryDelayMs } from './retryPolicy';
import { buildStepContext } from './stepContext';

/** What the executor reports as it goes (the CLI prints these). */
export type Progress =
  | {
      readonly kind: 'step.succeeded';
      readonly runId: string;
      readonly stepName: string;
      readonly attempt: number;
      readonly durationMs: number;
    }
  | {
      readonly kind: 'step.failed';
      readonly runId: string;
      readonly stepName: string;
      readonly attempt: number;
      readonly durationMs: number;
      readonly error: string;
      /** Milliseconds until the next attempt, or null when the step failed for good. */
      readonly retryInMs: number | null;
    };

export interface ExecuteOptions {
  readonly onProgress?: (p: Progress) => void;
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
  readonly status: RunStatus;
  /** True when this process gave the run back (shutdown) before it finished. */
  readonly released: boolean;
  /** Distinct steps whose handler this call ran. */
  readonly stepsExecuted: number;
  readonly error: string | null;
  readonly state: RunState;
}

export interface ExecuteStart {
  /** The run as journaled so far (null for a run being created). */
  readonly state: RunState | null;
  /** Events written with the first append: creation + claim, or the recovery claim. */
  readonly leading: readonly RunEvent[];
  /** Returned instead of a ConcurrencyConflict when that first append loses (someone else claimed). */
  readonly claimConflict?: OrbitError;
}

/** The state the run would have if `events` were written now (to decide what comes next). */
const simulate = (runId: string, s: RunState | null, events: readonly RunEvent[]): E.Either<OrbitError, RunState> => {
  const seq0 = s?.lastSeq ?? 0;
  const folded = foldEvents(
    s,
    events.map((event, i) => ({ runId, seq: seq0 + i + 1, occurredAt: PENDING_EPOCH, writer: '', eventId: '', event })),
  );
  return E.map((x: RunState | null) => x as RunState)(folded);
};

const sleep = (ms: number, signals: readonly AbortSignal[]): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of signals) {
      if (s.aborted) return done();
      s.addEventListener('abort', done, { once: true });
    }
  });

const firstUnfinished = (s: RunState): StepState | undefined => s.steps.find((st) => st.status !== 'success');

/**
 * Drives a run to its end: for each step, journal `started`, run the handler, journal the outcome
 * together with whatever comes next (the next step's `started`, the run's end, a release) so each
 * step costs one durable commit. Every append states the seq last seen; if another process
 * appended in between (recovery took the run, someone cancelled it), the append is refused, the
 * running step's signal fires, and nothing more is written for the run.
 */
export const executeRun = async (
  client: OrbitClient,
  pipeline: Pipeline,
  runId: string,
  start: ExecuteStart,
  opts: ExecuteOptions = {},
): Promise<E.Either<OrbitError, RunResult>> => {
  const env = executionEnvFor(client);
  const acquired = await env.acquire();
  if (E.isLeft(acquired)) {
    env.release();
    return acquired;
  }
  const runAbort = new AbortController();
  let state: RunState | null = start.state;
  let writingUpTo = 0;
  const unwatch = await env.watcher.watch(runId, (n) => {
    if (n.seq > writingUpTo) runAbort.abort(new Error(`run ${runId} was changed by another process (${n.type} at seq ${n.seq})`));
  });
  const executed = new Set<string>();
  let released = false;
  let claimed = false;
  // Progress is reported once the outcome it describes is journaled, never before.
  let unreported: Progress[] = [];

  const write = async (events: readonly RunEvent[]): Promise<E.Either<OrbitError, RunState>> => {
    const expectedSeq = state?.lastSeq ?? 0;
    writingUpTo = expectedSeq + events.length;
    const r = await appendToRun(client.db, { runId, expectedSeq, state, events, writer: client.workerId });
    if (E.isLeft(r)) return r;
    if (!claimed) opts.onClaimed?.(runId);
    claimed = true;
    state = r.right.state;
    env.clock.observe(r.right.committedAt);
    faultAfterAppend(events);
    const report = unreported;
    unreported = [];
    for (const p of report) opts.onProgress?.(p);
    return E.right(state);
  };

  const result = (s: RunState): E.Either<OrbitError, RunResult> =>
    E.right({
      runId,
      pipelineId: s.pipelineId,
      status: s.status,
      released,
      stepsExecuted: executed.size,
      error: s.error,
      state: s,
    });

  /** Our append was refused: find out who won. A cancellation ends the run normally; anything else fences us. */
  const lost = async (why: OrbitError): Promise<E.Either<OrbitError, RunResult>> => {
    runAbort.abort(new Error(`run ${runId} was taken over by another writer`));
    if (why._tag !== 'ConcurrencyConflict') {
      // We hold the run but cannot journal its progress. Best effort: hand it back (database
      // unreachable) or end it with the reason (the write itself is refused), so that our live
      // heartbeat does not keep a run nobody is driving out of check-interrupted.
      if (claimed && state !== null) {
        const fallback: RunEvent =
          why._tag === 'DatabaseUnavailable'
            ? { type: 'run.released', payload: { worker: client.workerId, reason: 'cannot reach the database' } }
            : {
                type: 'run.failed',
                payload: { reason: `could not journal the run's progress: ${formatError(why)}`, step: null },
              };
        await appendToRun(client.db, { runId, expectedSeq: state.lastSeq, state, events: [fallback], writer: client.workerId });
      }
      return E.left(why);
    }
    if (!claimed) return E.left(start.claimConflict ?? why);
    const now = await loadRunState(client.db, runId);
    if (E.isRight(now) && now.right.status === 'cancelled') return result(now.right);
    return E.left({ _tag: 'Fenced', runId });
  };

  try {
    let pending: readonly RunEvent[] = start.leading;
    for (;;) {
      const viewE = pending.length > 0 ? simulate(runId, state, pending) : E.right(state as RunState);
      if (E.isLeft(viewE)) return viewE;
      const view = viewE.right;

      if (isFinished(view)) {
        if (pending.length > 0) {
          const w = await write(pending);
          if (E.isLeft(w)) return lost(w.left);
        }
        return result(state as RunState);
      }
      if (opts.stopSignal?.aborted || opts.abortSignal?.aborted) {
        released = true;
        // Asked to stop before our claim was written: leave the run exactly as we found it (a
        // claim-and-release would count as a takeover towards the poison-run cap).
        if (!claimed && start.state !== null) return result(start.state);
        const w = await write([
          ...pending,
          { type: 'run.released', payload: { worker: client.workerId, reason: 'worker shutting down' } },
        ]);
        return E.isLeft(w) ? lost(w.left) : result(w.right);
      }
      const step = firstUnfinished(view);
      if (step === undefined) {
        const w = await write([...pending, { type: 'run.succeeded', payload: {} }]);
        return E.isLeft(w) ? lost(w.left) : result(w.right);
      }
      const def = pipeline.steps.find((d) => d.name === step.name);
      if (def === undefined || step.status === 'failed') {
        const reason =
          def === undefined
            ? `step "${step.name}" is not in the registered pipeline "${pipeline.name}"`
            : `step "${step.name}" failed: ${step.error?.message ?? 'unknown error'}`;
        const w = await write([...pending, { type: 'run.failed', payload: { reason, step: step.name } }]);
        return E.isLeft(w) ? lost(w.left) : result(w.right);
      }
      if (step.status === 'retrying' && step.nextRetryAt !== null) {
        if (pending.length > 0) {
          // The wait is measured from the committed retry time, so commit it first.
          const w = await write(pending);
          if (E.isLeft(w)) return lost(w.left);
          pending = [];
          continue;
        }
        const wait = env.clock.msUntil(step.nextRetryAt);
        if (wait > 0) {
          const signals = [runAbort.signal, opts.stopSignal, opts.abortSignal].filter((s): s is AbortSignal => s !== undefined);
          await sleep(wait, signals);
          if (runAbort.signal.aborted) {
            // Someone else wrote to the run; the next append would be refused. Confirm and stop.
            return lost({ _tag: 'ConcurrencyConflict', runId, expectedSeq: (state as RunState).lastSeq, actualSeq: null });
          }
          continue;
        }
      }

      const attempt = step.attemptCount + 1;
      const started = await write([...pending, { type: 'step.started', stepName: step.name, attempt, payload: {} }]);
      pending = [];
      if (E.isLeft(started)) return lost(started.left);

      const controller = new AbortController();
      const forward = (signal: AbortSignal | undefined) => {
        if (!signal) return () => undefined;
        const f = () => controller.abort(signal.reason);
        if (signal.aborted) f();
        else signal.addEventListener('abort', f, { once: true });
        return () => signal.removeEventListener('abort', f);
      };
      const unlinkRun = forward(runAbort.signal);
      const unlinkHard = forward(opts.abortSignal);
      const ctx = buildStepContext(started.right, pipeline, step.name, attempt, controller.signal);
      const t0 = Date.now();
      let outcome: AttemptOutcome;
      if (E.isLeft(ctx)) {
        outcome = {
          kind: 'failed',
          error: { name: ctx.left._tag, message: `cannot build the step context: ${ctx.left._tag}` },
          retryable: false,
        };
      } else {
        executed.add(step.name);
        outcome = await invokeHandler(def, ctx.right, controller);
      }
      unlinkRun();
      unlinkHard();
      const durationMs = Date.now() - t0;

      switch (outcome.kind) {
        case 'aborted':
          if (opts.abortSignal?.aborted && !runAbort.signal.aborted) {
            // Hard stop: the step stays in flight in the journal; recovery runs it again.
            continue;
          }
          return lost({ _tag: 'ConcurrencyConflict', runId, expectedSeq: started.right.lastSeq, actualSeq: null });
        case 'succeeded':
          unreported.push({ kind: 'step.succeeded', runId, stepName: step.name, attempt, durationMs });
          pending = [{ type: 'step.succeeded', stepName: step.name, attempt, payload: { result: outcome.result } }];
          break;
        case 'failed': {
          const policy = policyFor(pipeline, def);
          const retry = outcome.retryable && mayRetry(policy, attempt);
          const delayMs = retry ? retryDelayMs(policy, attempt) : null;
          unreported.push({
            kind: 'step.failed',
            runId,
            stepName: step.name,
            attempt,
            durationMs,
            error: `${outcome.error.name}: ${outcome.error.message}`,
            retryInMs: delayMs,
          });
          const failed: RunEvent = {
            type: 'step.failed',
            stepName: step.name,
            attempt,
            payload: { error: outcome.error, retryable: outcome.retryable },
          };
          pending =
            delayMs !== null
              ? [failed, { type: 'step.retry_scheduled', stepName: step.name, attempt, payload: { delayMs } }]
              : [
                  failed,
                  {
                    type: 'run.failed',
                    payload: {
                      reason: `step "${step.name}" failed${outcome.retryable ? ` after ${attempt} attempt(s)` : ' (not retryable)'}: ${outcome.error.message}`,
                      step: step.name,
                    },
                  },
                ];
          break;
        }
      }
    }
  } finally {
    unwatch();
    env.release();
  }
};
