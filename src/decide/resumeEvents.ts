import * as E from 'fp-ts/Either';
import { OrbitErrors, type ResumeRefusal } from '../errors';
import type { RunFailed, RunResumed } from '../events/runEvents';
import type { RunState, StepState } from '../fold/runState';
import type { Pipeline } from '../pipeline/types';
import type { ResumeRequest } from './decision';

/**
 * How a resume begins: the `run.resumed` claim, or — for a run already taken over
 * `maxRecoveries` times — its `run.failed`. Refuses (as a value) a run that succeeded or was
 * cancelled, a run with failed steps unless `retryFailed`, and a run whose pipeline changed unless
 * `force`. Whether the holder is still alive is a question for the database, asked by planResume.
 */
export const resumeEvents = (
  state: RunState,
  pipeline: Pipeline,
  req: ResumeRequest & { readonly worker: string },
): E.Either<ResumeRefusal, RunResumed | RunFailed> => {
  const { runId } = state;
  const refuse = (reason: string) => E.left(OrbitErrors.runNotResumable(runId, state.status, reason));
  const failedSteps = state.steps.filter((s) => s.status === 'failed').map((s) => s.name);

  if (state.status === 'success') return refuse('it already succeeded');
  if (state.status === 'cancelled') return refuse('it was cancelled');
  if (failedSteps.length > 0 && !req.retryFailed) return E.left(OrbitErrors.runHasFailedSteps(runId, failedSteps));
  if (state.status === 'failed' && !req.retryFailed) {
    return refuse(`it failed (${state.error ?? 'no reason recorded'}); use --retry-failed to run it again`);
  }
  if (state.definitionHash !== pipeline.definitionHash && !req.force) {
    return E.left(OrbitErrors.pipelineDrift(runId, pipeline.name, state.stepNames, pipeline.stepNames));
  }
  const open = state.open.map((i) => state.steps[i] as StepState);
  const fromStep = open[0]?.name ?? null;
  // Only a takeover from a silent holder counts (see RunState.recoveryCount); a manual
  // --retry-failed is a person's decision and is never capped.
  const isTakeover = state.status === 'running' && state.owner !== null;
  if (isTakeover && !req.retryFailed && state.recoveryCount >= req.maxRecoveries) {
    const reason = `taken over ${state.recoveryCount} times without finishing; giving up (a step may be killing its worker)`;
    return E.right({ type: 'run.failed', payload: { reason, step: fromStep } });
  }
  return E.right({
    type: 'run.resumed',
    payload: {
      by: req.worker,
      fromStep,
      inFlight: open.filter((s) => s.status === 'running').map((s) => s.name),
      reason: req.reason ?? (req.retryFailed ? 'retry failed steps' : 'interrupted'),
      retryFailed: req.retryFailed,
      force: req.force,
      ...(req.requestedBy !== undefined ? { requestedBy: req.requestedBy } : {}),
    },
  });
};
