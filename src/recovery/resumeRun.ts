import * as E from 'fp-ts/Either';
import { formatError, type OrbitError } from '../errors';
import { executeRun, type ExecuteOptions } from '../executor/executeRun';
import type { RunStatus } from '../fold/runState';
import { appendToRun } from '../journal/appendEvents';
import { clientOr, type OrbitClient } from '../runtime/orbitClient';
import { analyzeState } from './analyzeStepCompletion';
import { runLiveness } from './liveness';
import { loadRecoverableRun } from './reconstructStepContext';

export interface ResumeOptions extends ExecuteOptions {
  readonly client?: OrbitClient;
  /** Re-execute steps that failed for good (after the cause was fixed); journaled as such. */
  readonly retryFailed?: boolean;
  /** Resume despite pipeline drift or a run that still looks alive. */
  readonly force?: boolean;
  /** Why (journaled in `run.resumed`). Default `interrupted`. */
  readonly reason?: string;
  /** Claim only if the journal is still at this seq (what detection saw). */
  readonly expectedSeq?: number;
  /** Liveness threshold for "is its holder still alive?". Default: the client's threshold. */
  readonly thresholdMs?: number;
  /** Give up on a run after this many takeovers (a step that keeps killing its worker). Default 5. */
  readonly maxRecoveries?: number;
}

/** What a successful resume did. */
export interface ResumeSuccess {
  readonly runId: string;
  readonly pipelineId: string;
  /** How the run stands now. */
  readonly status: RunStatus;
  /** Distinct steps this resume executed. */
  readonly stepsExecuted: number;
  /** The step execution resumed from. */
  readonly resumedFrom: string | null;
  /** Steps that had started with no outcome journaled and were executed again. */
  readonly reExecutedInFlight: readonly string[];
  readonly durationMs: number;
  /** True when this process was stopped and gave the run back before it finished. */
  readonly released: boolean;
  readonly error: string | null;
}

/**
 * An fp-ts Either that also reads like the spec's example: `result.success`,
 * `result.stepsExecuted`, `result.error` (the one-line message).
 */
export type ResumeResult =
  | (E.Right<ResumeSuccess> & { readonly success: true; readonly stepsExecuted: number })
  | (E.Left<OrbitError> & { readonly success: false; readonly error: string });

const ok = (value: ResumeSuccess): ResumeResult =>
  ({ ...E.right(value), success: true, stepsExecuted: value.stepsExecuted }) as ResumeResult;
const fail = (error: OrbitError): ResumeResult =>
  ({ ...E.left(error), success: false, error: formatError(error) }) as ResumeResult;

export const DEFAULT_MAX_RECOVERIES = 5;

/**
 * Resumes an interrupted run from its next step. Checks it may (not finished, no failed steps
 * unless `retryFailed`, pipeline registered and unchanged unless `force`, nobody alive holding it),
 * claims it with an optimistic `run.resumed` append (exactly one of several racing claimants wins;
 * the others get RunAlreadyClaimed), and hands it to the executor. Steps that succeeded are never
 * executed again.
 */
export const resumeRun = async (runId: string, options: ResumeOptions = {}): Promise<ResumeResult> => {
  const t0 = Date.now();
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return fail(c.left);
  const client = c.right;

  const loaded = await loadRecoverableRun(client, runId, true, options.expectedSeq);
  if (E.isLeft(loaded)) return fail(loaded.left);
  const { state, pipeline } = loaded.right;
  const analysis = analyzeState(state);

  if (state.status === 'success')
    return fail({ _tag: 'RunNotResumable', runId, status: state.status, reason: 'it already succeeded' });
  if (state.status === 'cancelled')
    return fail({ _tag: 'RunNotResumable', runId, status: state.status, reason: 'it was cancelled' });
  if (analysis.failedSteps.length > 0 && options.retryFailed !== true) {
    return fail({ _tag: 'RunHasFailedSteps', runId, failedSteps: analysis.failedSteps });
  }
  if (state.status === 'failed' && options.retryFailed !== true) {
    return fail({
      _tag: 'RunNotResumable',
      runId,
      status: state.status,
      reason: `it failed (${state.error ?? 'no reason recorded'}); use --retry-failed to run it again`,
    });
  }
  if (state.definitionHash !== pipeline.definitionHash && options.force !== true) {
    return fail({
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
    if (E.isLeft(live)) return fail(live.left);
    // Someone holds it and is alive: it is not interrupted (or another recovery got there first).
    if (!live.right.interrupted) {
      return fail({
        _tag: 'RunStillActive',
        runId,
        owner: live.right.owner ?? 'unknown',
        lastActivityAt: live.right.lastActivityAt,
        thresholdMs,
      });
    }
  }
  const maxRecoveries = options.maxRecoveries ?? DEFAULT_MAX_RECOVERIES;
  // Only a takeover from a silent holder counts (see RunState.recoveryCount); a manual
  // --retry-failed is a person's decision and is never capped.
  const isTakeover = state.status === 'running' && state.owner !== null;
  if (isTakeover && options.retryFailed !== true && state.recoveryCount >= maxRecoveries) {
    const reason = `recovered ${state.recoveryCount} times without finishing; giving up (a step may be killing its worker)`;
    const r = await appendToRun(client.db, {
      runId,
      expectedSeq: state.lastSeq,
      state,
      writer: client.workerId,
      events: [{ type: 'run.failed', payload: { reason, step: analysis.nextStep } }],
    });
    if (E.isLeft(r)) return fail(r.left._tag === 'ConcurrencyConflict' ? { _tag: 'RunAlreadyClaimed', runId } : r.left);
    return fail({ _tag: 'RecoveryLimitReached', runId, attempts: state.recoveryCount });
  }

  const executed = await executeRun(
    client,
    pipeline,
    runId,
    {
      state,
      leading: [
        {
          type: 'run.resumed',
          payload: {
            by: client.workerId,
            fromStep: analysis.nextStep,
            inFlight: [...analysis.inFlightSteps],
            reason: options.reason ?? (options.retryFailed ? 'retry failed steps' : 'interrupted'),
            retryFailed: options.retryFailed === true,
            force: options.force === true,
          },
        },
      ],
      claimConflict: { _tag: 'RunAlreadyClaimed', runId },
    },
    options,
  );
  if (E.isLeft(executed)) return fail(executed.left);
  const r = executed.right;
  if (r.status !== 'success' && !r.released) {
    return fail({ _tag: 'RunFailed', runId, status: r.status, reason: r.error ?? 'no reason recorded' });
  }
  return ok({
    runId,
    pipelineId: r.pipelineId,
    status: r.status,
    stepsExecuted: r.stepsExecuted,
    resumedFrom: analysis.nextStep,
    reExecutedInFlight: analysis.inFlightSteps,
    durationMs: Date.now() - t0,
    released: r.released,
    error: r.error,
  });
};
