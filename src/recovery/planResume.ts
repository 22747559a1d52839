import * as E from 'fp-ts/Either';
import type { OrbitError } from '../errors';
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
}

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
}

/**
 * Every check a resume makes, and nothing it writes: the run is unfinished, has no failed steps
 * (unless `retryFailed`), its pipeline is registered and unchanged (unless `force`), nobody alive
 * holds it (unless `force`), and it has not been taken over too often. `resumeRun` acts on the
 * plan; `orbit recover --dry-run` prints it.
 */
export const planResume = async (
  client: OrbitClient,
  runId: string,
  options: PlanOptions = {},
): Promise<E.Either<OrbitError, ResumePlan>> => {
  const loaded = await loadRecoverableRun(client, runId, true, options.expectedSeq);
  if (E.isLeft(loaded)) return loaded;
  const { state, pipeline } = loaded.right;
  const analysis = analyzeState(state);
  const refuse = (reason: string) => E.left<OrbitError>({ _tag: 'RunNotResumable', runId, status: state.status, reason });

  if (state.status === 'success') return refuse('it already succeeded');
  if (state.status === 'cancelled') return refuse('it was cancelled');
  if (analysis.failedSteps.length > 0 && options.retryFailed !== true) {
    return E.left({ _tag: 'RunHasFailedSteps', runId, failedSteps: analysis.failedSteps });
  }
  if (state.status === 'failed' && options.retryFailed !== true) {
    return refuse(`it failed (${state.error ?? 'no reason recorded'}); use --retry-failed to run it again`);
  }
  if (state.definitionHash !== pipeline.definitionHash && options.force !== true) {
    return E.left({
      _tag: 'PipelineDrift',
      runId,
      pipelineId: pipeline.name,
      journaled: state.stepNames,
      registered: pipeline.stepNames,
    });
  }
  if (state.status === 'running' && options.force !== true) {
    const thresholdMs = options.thresholdMs ?? client.thresholdMs;
    const live = await runLiveness(client.db, runId, thresholdMs);
    if (E.isLeft(live)) return live;
    // Someone holds it and is alive: it is running, not interrupted (or another recovery got there first).
    if (!live.right.interrupted) {
      return E.left({
        _tag: 'RunStillActive',
        runId,
        owner: live.right.owner ?? 'unknown',
        lastActivityAt: live.right.lastActivityAt,
        thresholdMs,
      });
    }
  }
  // Only a takeover from a silent holder counts (see RunState.recoveryCount); a manual
  // --retry-failed is a person's decision and is never capped.
  const isTakeover = state.status === 'running' && state.owner !== null;
  const capReached =
    isTakeover && options.retryFailed !== true && state.recoveryCount >= (options.maxRecoveries ?? DEFAULT_MAX_RECOVERIES);
  return E.right({ state, pipeline, analysis, capReached });
};
