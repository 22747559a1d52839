import * as E from 'fp-ts/Either';
import { assertNever, OrbitErrors, type IllegalTransition, type ResumeRefusal } from '../errors';
import type { RunEvent } from '../events/runEvents';
import { foldEvents } from '../fold/evolve';
import { isFinished, type RunState } from '../fold/runState';
import { PENDING_EPOCH } from '../journal/pendingTime';
import { stepDefinition } from '../pipeline/stepDefinition';
import type { Pipeline } from '../pipeline/types';
import type { Decision, Next, Outcome } from './decision';
import { attemptEvents } from './attemptEvents';
import { resumeEvents } from './resumeEvents';

/**
 * The decider: given a run as journaled (`null` for a run not created yet), its pipeline and what
 * just happened, the events to append and what to do next. Pure: no clock, no I/O, no randomness
 * (time and jitter come in with the outcome). The executor, resume planning and `recover --dry-run`
 * all decide through it, so what a run does next is written once.
 */
export const decideNext = (
  state: RunState | null,
  pipeline: Pipeline,
  outcome: Outcome,
): E.Either<IllegalTransition | ResumeRefusal, Decision> => {
  switch (outcome.kind) {
    case 'claim':
      // Stopped before the claim of an existing run was written: leave the run as we found it.
      if (outcome.stopping && state !== null) return E.right({ events: [], next: { kind: 'released' } });
      return afterward(
        state,
        pipeline,
        outcome.events,
        { stopping: outcome.stopping, stopReason: outcome.stopReason, worker: outcome.worker, now: null },
        outcome.runId,
      );
    case 'resume': {
      if (state === null) return E.left(notCreated('', 'run.resumed'));
      // Asked to stop before our claim was written: leave the run exactly as we found it (a
      // claim-and-release would count as a takeover towards the poison-run cap).
      if (outcome.stopping) return E.right({ events: [], next: { kind: 'released' } });
      const claim = resumeEvents(state, pipeline, outcome);
      if (E.isLeft(claim)) return claim;
      if (claim.right.type === 'run.failed') return E.right({ events: [claim.right], next: { kind: 'finished' } });
      return afterward(state, pipeline, [claim.right], { stopping: false, worker: outcome.worker, now: null });
    }
    case 'tick':
      return afterward(state, pipeline, [], {
        stopping: outcome.stopping,
        stopReason: outcome.stopReason,
        worker: outcome.worker,
        now: outcome.now,
      });
    case 'attempt': {
      if (state === null) return E.left(notCreated('', 'step.succeeded'));
      const events = attemptEvents(pipeline, outcome);
      return afterward(state, pipeline, events, {
        stopping: outcome.stopping,
        stopReason: outcome.stopReason,
        worker: outcome.worker,
        now: null,
      });
    }
    case 'journalRefused':
      if (state === null || isFinished(state)) return E.right({ events: [], next: { kind: 'finished' } });
      // We hold the run but cannot journal its progress. Hand it back when the database is out
      // of reach (someone may resume it later); when the write itself is refused, end it with the
      // reason, so that a run nobody drives does not stay out of check-interrupted.
      return E.right(
        outcome.unreachable
          ? {
              events: [{ type: 'run.released', payload: { worker: outcome.worker, reason: 'cannot reach the database' } }],
              next: { kind: 'released' },
            }
          : {
              events: [
                {
                  type: 'run.failed',
                  payload: { reason: `could not journal the run's progress: ${outcome.message}`, step: null },
                },
              ],
              next: { kind: 'finished' },
            },
      );
    default:
      return assertNever(outcome);
  }
};

const notCreated = (runId: string, type: string): IllegalTransition =>
  OrbitErrors.illegalTransition(runId, 1, type, 'a run must begin with run.created');

/** The state the run would have if `events` were written now (times relative to PENDING_EPOCH). */
export const simulate = (
  state: RunState | null,
  events: readonly RunEvent[],
  runId: string = state?.runId ?? '',
): E.Either<IllegalTransition, RunState | null> => {
  const seq0 = state?.lastSeq ?? 0;
  return foldEvents(
    state,
    events.map((event, i) => ({ runId, seq: seq0 + i + 1, occurredAt: PENDING_EPOCH, writer: '', eventId: '', event })),
  );
};

interface Circumstances {
  readonly stopping: boolean;
  /** Journaled as the release's reason; a shutdown when not given. */
  readonly stopReason?: string;
  readonly worker: string;
  /** The database's time; null when `pending` is not empty (then no wait is measured). */
  readonly now: string | null;
}

/** `pending` are about to be written: add what comes after them. */
const afterward = (
  state: RunState | null,
  pipeline: Pipeline,
  pending: readonly RunEvent[],
  c: Circumstances,
  runId: string = state?.runId ?? '',
): E.Either<IllegalTransition | ResumeRefusal, Decision> => {
  const simulated = pending.length > 0 ? simulate(state, pending, runId) : E.right(state);
  if (E.isLeft(simulated)) return simulated;
  const view = simulated.right;
  if (view === null) return E.left(notCreated(runId, 'run.created'));
  const then = (more: readonly RunEvent[], next: Next): E.Either<IllegalTransition | ResumeRefusal, Decision> =>
    E.right({ events: [...pending, ...more], next });

  if (isFinished(view)) return then([], { kind: 'finished' });
  if (c.stopping)
    return then([{ type: 'run.released', payload: { worker: c.worker, reason: c.stopReason ?? 'worker shutting down' } }], {
      kind: 'released',
    });

  const step = view.steps.find((s) => s.status !== 'success');
  if (step === undefined) return then([{ type: 'run.succeeded', payload: {} }], { kind: 'finished' });
  const def = stepDefinition(pipeline, step.name);
  if (def === undefined || step.status === 'failed') {
    const reason =
      def === undefined
        ? `step "${step.name}" is not in the registered pipeline "${pipeline.name}"`
        : `step "${step.name}" failed: ${step.error?.message ?? 'unknown error'}`;
    return then([{ type: 'run.failed', payload: { reason, step: step.name } }], { kind: 'finished' });
  }
  if (step.status === 'retrying' && step.nextRetryAt !== null) {
    // The wait is measured from the committed retry time, so commit first and decide again.
    if (c.now === null || pending.length > 0) return then([], { kind: 'decideAgain' });
    if (Date.parse(c.now) < Date.parse(step.nextRetryAt)) return then([], { kind: 'wait', until: step.nextRetryAt });
  }
  const attempt = step.attemptCount + 1;
  return then([{ type: 'step.started', stepName: step.name, attempt, payload: {} }], {
    kind: 'run',
    stepName: step.name,
    attempt,
  });
};
