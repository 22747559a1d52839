import * as E from 'fp-ts/Either';
import { decideNext } from '../decide/decideNext';
import type { Decision, ResumeRequest } from '../decide/decision';
import {
  OrbitErrors,
  type DbFailure,
  type IllegalTransition,
  type LoadRecoverableFailure,
  type ResumeRefusal,
  type RunStillActive,
} from '../errors';
import type { RunState } from '../fold/runState';
import type { Pipeline } from '../pipeline/types';
import type { OrbitClient } from '../runtime/orbitClient';
import { analyzeState, type StepAnalysis } from './analyzeStepCompletion';
import { runLiveness } from './liveness';
import { loadRecoverableRun } from './reconstructStepContext';

export const DEFAULT_MAX_RECOVERIES = 5;

export interface PlanOptions {
  /** Re-execute steps that failed for good (after the cause was fixed). */
  readonly retryFailed?: boolean;
  /** Resume despite pipeline drift or a run that still looks alive. */
  readonly force?: boolean;
  /** The journal must still be at this seq (what detection saw). */
  readonly expectedSeq?: number;
  /** Liveness threshold for "is its holder still alive?". Default: the client's threshold. */
  readonly thresholdMs?: number;
  /** Give up on a run after this many takeovers (a step that keeps killing its worker). Default 5. */
  readonly maxRecoveries?: number;
  /**
   * The worker this resume is done for, when that worker runs it in a process of its own (an
   * isolated resume): journaled in `run.resumed` beside `by`, this process, which holds the lease.
   */
  readonly requestedBy?: string;
}

/** The terms of a resume, with the defaults filled in. */
export const resumeRequest = (options: PlanOptions & { readonly reason?: string }): ResumeRequest => ({
  reason: options.reason,
  requestedBy: options.requestedBy,
  retryFailed: options.retryFailed === true,
  force: options.force === true,
  maxRecoveries: options.maxRecoveries ?? DEFAULT_MAX_RECOVERIES,
});

/** A resume that may go ahead: the journaled run, its pipeline and where it stands. */
export interface ResumePlan {
  readonly state: RunState;
  readonly pipeline: Pipeline;
  readonly analysis: StepAnalysis;
  /**
   * The run was taken over `maxRecoveries` times already: instead of resuming, fail it (at
   * `state.lastSeq`, so that a process that claimed it meanwhile makes this a no-op).
   */
  readonly capReached: boolean;
  /** What the resume would append first (decideNext): the claim and the next step's start, or the run's failure. */
  readonly decision: Decision;
}

/**
 * Every check a resume makes, and nothing it writes: decideNext refuses a finished run, failed
 * steps (unless `retryFailed`) and pipeline drift (unless `force`) and applies the recovery cap;
 * the database says whether anyone alive holds the run (unless `force`). `resumeRun` acts on the
 * plan; `orbit recover --dry-run` prints it.
 */
export const planResume = async (
  client: OrbitClient,
  runId: string,
  options: PlanOptions = {},
): Promise<E.Either<LoadRecoverableFailure | IllegalTransition | ResumeRefusal | DbFailure | RunStillActive, ResumePlan>> => {
  const loaded = await loadRecoverableRun(client, runId, true, options.expectedSeq);
  if (E.isLeft(loaded)) return loaded;
  const { state, pipeline } = loaded.right;
  const decision = decideNext(state, pipeline, {
    kind: 'resume',
    ...resumeRequest(options),
    worker: client.workerId,
    stopping: false,
  });
  if (E.isLeft(decision)) return decision;
  if (state.status === 'running' && options.force !== true) {
    const thresholdMs = options.thresholdMs ?? client.thresholdMs;
    const live = await runLiveness(client.db, runId, thresholdMs);
    if (E.isLeft(live)) return live;
    // Someone holds it and is alive: it is running, not interrupted (or another recovery got there first).
    if (!live.right.interrupted) {
      return E.left(
        OrbitErrors.runStillActive(
          runId,
          live.right.owner ?? 'unknown',
          live.right.lastActivityAt,
          thresholdMs,
          live.right.leaseUntil,
        ),
      );
    }
  }
  const capReached = decision.right.events[0]?.type === 'run.failed';
  return E.right({ state, pipeline, analysis: analyzeState(state), capReached, decision: decision.right });
};
