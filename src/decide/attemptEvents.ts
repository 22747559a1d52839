import type { RunEvent, StepError } from '../events/runEvents';
import { stepDefinition } from '../pipeline/stepDefinition';
import type { Pipeline } from '../pipeline/types';
import type { EndedAttempt } from './decision';
import { DEFAULT_RETRY, mayRetry, policyFor, retryDelayMs } from './retryPolicy';

/** What a timed-out attempt is journaled with (and the reason its AbortSignal carries). */
export const timeoutMessage = (stepName: string, afterMs: number): string => `step "${stepName}" timed out after ${afterMs} ms`;

type Attempt = EndedAttempt;

/**
 * The events that journal one attempt's end: its success, or its failure followed by a retry when
 * the error is retryable and the policy allows another attempt. A timeout is a retryable failure.
 * A failure for good is followed by the run's failure (`runFailedReason`), written by the decider
 * once no other branch of the run is in flight.
 */
export const attemptEvents = (pipeline: Pipeline, a: Attempt): RunEvent[] => {
  const { stepName, attempt, result, item } = a;
  if (item !== undefined) return itemAttemptEvents(pipeline, a, item);
  if (result.kind === 'succeeded') return [{ type: 'step.succeeded', stepName, attempt, payload: { result: result.result } }];
  if (result.kind === 'sleep') return [{ type: 'step.sleeping', stepName, attempt, payload: { until: result.until } }];
  if (result.kind === 'wait')
    return [{ type: 'step.waiting', stepName, attempt, payload: { event: result.event, timeoutAt: result.timeoutAt } }];
  const [error, retryable]: [StepError, boolean] =
    result.kind === 'timedOut'
      ? [{ name: 'TimeoutError', message: timeoutMessage(stepName, result.afterMs) }, true]
      : [result.error, result.retryable];
  const def = stepDefinition(pipeline, stepName);
  const policy = def === undefined ? DEFAULT_RETRY : policyFor(pipeline, def);
  const failed: RunEvent = { type: 'step.failed', stepName, attempt, payload: { error, retryable } };
  if (retryable && mayRetry(policy, attempt)) {
    const delayMs = retryDelayMs(policy, attempt, () => a.random);
    return [failed, { type: 'step.retry_scheduled', stepName, attempt, payload: { delayMs } }];
  }
  return [failed];
};

/** The same for one map item: its success, or its failure and, within the step's policy, its retry. */
const itemAttemptEvents = (pipeline: Pipeline, a: Attempt, index: number): RunEvent[] => {
  const { stepName, attempt, result } = a;
  if (result.kind === 'succeeded')
    return [{ type: 'item.succeeded', stepName, attempt, payload: { index, result: result.result } }];
  // A map step's items run handlers only (definePipeline refuses a sleeping or waiting map step).
  if (result.kind === 'sleep' || result.kind === 'wait')
    return [
      {
        type: 'item.failed',
        stepName,
        attempt,
        payload: { index, error: { name: 'Error', message: 'not a handler' }, retryable: false },
      },
    ];
  const [error, retryable]: [StepError, boolean] =
    result.kind === 'timedOut'
      ? [{ name: 'TimeoutError', message: timeoutMessage(stepName, result.afterMs) }, true]
      : [result.error, result.retryable];
  const def = stepDefinition(pipeline, stepName);
  const policy = def === undefined ? DEFAULT_RETRY : policyFor(pipeline, def);
  const failed: RunEvent = { type: 'item.failed', stepName, attempt, payload: { index, error, retryable } };
  if (retryable && mayRetry(policy, attempt)) {
    const delayMs = retryDelayMs(policy, attempt, () => a.random);
    return [failed, { type: 'item.retry_scheduled', stepName, attempt, payload: { index, delayMs } }];
  }
  return [failed];
};

/** Why a run failed when its step failed for good (after `attempt` attempts, or with an error not retryable). */
export const runFailedReason = (stepName: string, attempt: number, retryable: boolean, message: string): string =>
  `step "${stepName}" failed${retryable ? ` after ${attempt} attempt(s)` : ' (not retryable)'}: ${message}`;
