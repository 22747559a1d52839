import * as E from 'fp-ts/Either';
import type { FoldFailure, RunNotFound } from '../errors';
import type { RunState, RunStatus, StepStatus } from '../fold/runState';
import { loadRunState } from '../journal/loadRunState';
import type { OrbitClient } from '../runtime/orbitClient';

/** Where each step of a run stands, according to its journal. */
export interface StepAnalysis {
  readonly runId: string;
  readonly pipelineId: string;
  readonly status: RunStatus;
  /** Succeeded: never executed again. */
  readonly completedSteps: readonly string[];
  /** Failed for good: block automatic resumption. */
  readonly failedSteps: readonly string[];
  /**
   * Started with no outcome journaled: the side effect may or may not have happened, so the
   * step runs again on resume (same idempotency key, next attempt number).
   */
  readonly inFlightSteps: readonly string[];
  /** Failed with a retry scheduled; `nextRetryAt` is when the next attempt is due. */
  readonly retryingSteps: readonly { readonly name: string; readonly nextAttempt: number; readonly nextRetryAt: string | null }[];
  /** Not started yet. */
  readonly pendingSteps: readonly string[];
  /** The step a resume would run first: the first of `readySteps` (null when every step succeeded). */
  readonly nextStep: string | null;
  /**
   * Every step that has not succeeded and whose dependencies all have, in step order: the steps a
   * resume starts (or, failed, what blocks it). One for a linear pipeline; a DAG may have several.
   */
  readonly readySteps: readonly string[];
}

/** Pure: the analysis of a folded run. */
export const analyzeState = (s: RunState): StepAnalysis => {
  // One list per status, spelled as a record so that a new StepStatus fails to compile here.
  const named: { [K in StepStatus]: string[] } = {
    pending: [],
    running: [],
    success: [],
    failed: [],
    retrying: [],
    sleeping: [],
    waiting: [],
  };
  for (const st of s.steps) named[st.status].push(st.name);
  // The fold keeps the open set (dependencies succeeded, not succeeded itself) in step order.
  const ready = s.open.map((i) => (s.steps[i] as { readonly name: string }).name);
  return {
    runId: s.runId,
    pipelineId: s.pipelineId,
    status: s.status,
    completedSteps: named.success,
    failedSteps: named.failed,
    inFlightSteps: named.running,
    retryingSteps: s.steps
      .filter((st) => st.status === 'retrying')
      .map((st) => ({ name: st.name, nextAttempt: st.attemptCount + 1, nextRetryAt: st.nextRetryAt })),
    pendingSteps: named.pending,
    nextStep: ready[0] ?? null,
    readySteps: ready,
  };
};

/** Replays the run's journal and says which steps completed, failed, are in flight or pending. */
export const analyzeStepCompletion = async (
  client: OrbitClient,
  runId: string,
): Promise<E.Either<FoldFailure | RunNotFound, StepAnalysis>> => E.map(analyzeState)(await loadRunState(client.db, runId));
